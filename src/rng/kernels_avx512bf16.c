/* kernels_avx512bf16.c -- the avx512 set with bf16 rounded by vcvtne2ps2bf16
 * (AVX-512 BF16: Cooper Lake, Sapphire Rapids, Zen 4 and later).
 *
 * The same source as kernels_avx512.c, compiled once more with -mavx512bf16:
 * only the f32 -> bf16 store of the uniform and normal fills differs, and it
 * gives the same bits (kernels_avx512.c says how). A set of its own so that
 * tests/test_kernels.c can prove both on a CPU that has the instruction, and
 * so that NNINIT_ARCH=avx512 still runs the other. */
#ifndef NNINIT_NO_AVX512BF16
#define NNINIT_AVX512_BF16 1
#include "kernels_avx512.c"
#else
typedef int nninit__no_avx512bf16_set; /* the compiler lacks -mavx512bf16 */
#endif

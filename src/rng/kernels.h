/* kernels.h -- the fill kernel sets (internal).
 *
 * A set fills [begin, end) of a tensor's flat index range into out[0 ..
 * end-begin), element i a function of (key, i) only, as docs/RNG.md defines
 * it. The scalar sets of fill_kernels.c are the definition; a SIMD set
 * (kernels_avx2.c, kernels_avx512.c: each its own translation unit, compiled
 * with its own -m flags, called only after CPUID said yes) must give the same
 * bits for every dtype, range and cut, which tests/test_kernels.c proves. A
 * SIMD set may point any entry it does not vectorize at the scalar set's.
 *
 * Which set runs: nninit__kernels() (fill_kernels.c) picks once per process,
 * the widest this CPU and OS run (CPUID and XCR0), or the one NNINIT_ARCH
 * names (scalar, portable, avx2, avx512; one this CPU or build lacks is an
 * error, NNINIT_ERR_ARCH, never a silent fallback); nninit_arch_name() says
 * which. A set must not depend on where a range starts or on the output's
 * alignment: nninit_fill_range_threads cuts ranges on multiples of 64
 * elements, but nninit_fill_range takes any cut. */
#ifndef NNINIT_RNG_KERNELS_H
#define NNINIT_RNG_KERNELS_H

#include <stdint.h>

#include "internal.h"

typedef struct nninit__kernel_set {
    const char *name; /* "scalar", "portable", "avx2", "avx512" */
    /* U(lo, hi) as fma(u, hi - lo, lo) capped at hi (f32 family in float) */
    void (*uniform)(const uint32_t key[2], nninit_dtype d, double lo, double hi, int64_t begin, int64_t end, void *out);
    /* N(mean, std^2) by Box-Muller, fma(z, std, mean) */
    void (*normal)(const uint32_t key[2], nninit_dtype d, double mean, double std, int64_t begin, int64_t end,
                   void *out);
    /* the truncated normal of plan p (double, then one rounding to d) */
    void (*trunc_normal)(const uint32_t key[2], nninit_dtype d, const nninit__plan *p, int64_t begin, int64_t end,
                         void *out);
    double (*trunc_normal_at)(const uint32_t key[2], int64_t i, double mean, double std, double za, double zb,
                              double va, double vb);
} nninit__kernel_set;

/* The scalar definition: "scalar" is compiled with FMA instructions where the
 * CPU has them (same bits: fma is correctly rounded either way), "portable"
 * never is (libm's fma). */
extern const nninit__kernel_set nninit__scalar_set;
extern const nninit__kernel_set nninit__portable_set;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(NNINIT_NO_SIMD)
#define NNINIT_HAVE_X86_SETS 1
extern const nninit__kernel_set nninit__avx2_set;   /* AVX2 + FMA */
extern const nninit__kernel_set nninit__avx512_set; /* AVX-512 F, DQ, BW, VL */
#endif

/* The set in use (chosen on first call), or NULL when NNINIT_ARCH names a
 * set this CPU or build cannot run; then *why says so. */
const nninit__kernel_set *nninit__kernels(const char **why);

#endif

/* kernels.h -- the fill kernel sets (internal).
 *
 * A set fills [begin, end) of a tensor's flat index range into out[0 ..
 * end-begin), element i a function of (key, i) only, as docs/RNG.md defines
 * it. The scalar sets of fill_kernels.c are the definition; a SIMD set
 * (kernels_avx2.c, kernels_avx512.c, kernels_avx512bf16.c: each its own translation unit, compiled
 * with its own -m flags, called only after CPUID said yes) must give the same
 * bits for every dtype, range and cut, which tests/test_kernels.c proves. A
 * SIMD set may point any entry it does not vectorize at the scalar set's.
 *
 * Which set runs: nninit__kernels() (fill_kernels.c) picks once per process,
 * the widest this CPU and OS run (CPUID and XCR0), or the one NNINIT_ARCH
 * names (scalar, portable, avx2, avx512, avx512bf16; one this CPU or build lacks is an
 * error, NNINIT_ERR_ARCH, never a silent fallback); nninit_arch_name() says
 * which. A set must not depend on where a range starts or on the output's
 * alignment: nninit_fill_range_threads cuts ranges on multiples of 64
 * elements, but nninit_fill_range takes any cut. */
#ifndef NNINIT_RNG_KERNELS_H
#define NNINIT_RNG_KERNELS_H

#include <math.h>
#include <stdint.h>

#include "internal.h"

typedef struct nninit__kernel_set {
    const char *name; /* "scalar", "portable", "avx2", "avx512", "avx512bf16" */
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
#ifndef NNINIT_NO_AVX512BF16
#define NNINIT_HAVE_AVX512BF16_SET 1
extern const nninit__kernel_set nninit__avx512bf16_set; /* the avx512 set + AVX-512 BF16 */
#endif
/* CPUID.(EAX=7, ECX=1):EAX bit 5, AVX512_BF16 (the builtins of gcc 12 and
 * clang 14 do not agree on its name). */
int nninit__cpu_has_avx512bf16(void);
#endif

/* The truncated normal's proposal, chosen once per call from the window
 * [za, zb] in standard units (fill_kernels.c explains each): a window with
 * zb <= 0 is mirrored to [a, b] = [-zb, -za]; then mode 0 normal proposals
 * (straddling 0, wider than sqrt(2 pi)), 1 uniform (straddling, narrower),
 * 2 uniform on a short one-sided window, 3 the translated exponential with
 * rate *lam (Robert 1995). The one definition every set uses. */
typedef struct {
    int mode, mirror;
    double a, b, lam;
} nninit__trunc_mode;

static inline nninit__trunc_mode nninit__trunc_mode_of(double za, double zb) {
    nninit__trunc_mode m = {0, zb <= 0.0, 0.0, 0.0, 0.0};
    m.a = m.mirror ? -zb : za;
    m.b = m.mirror ? -za : zb; /* now b > 0 */
    if (m.a <= 0.0) {
        m.mode = (m.b - m.a >= sqrt(2.0 * NNINIT_PI)) ? 0 : 1;
    } else {
        double r = sqrt(m.a * m.a + 4.0);
        m.lam = 0.5 * (m.a + r);
        double thr = 2.0 * sqrt(NNINIT_E) / (m.a + r) * exp(0.25 * (m.a * m.a - m.a * r));
        m.mode = (m.b - m.a < thr) ? 2 : 3;
    }
    return m;
}

/* A SIMD set's truncated normal: RUN(mode, dtype) instantiated for each of
 * the four modes and four dtypes, so that neither is tested inside a loop. */
#define NNINIT_TRUNC_DISPATCH(RUN, mode, d)                                                                            \
    do {                                                                                                               \
        switch ((mode)*4 + (int)(d)) {                                                                                 \
        case 0: RUN(0, 0); break;                                                                                      \
        case 1: RUN(0, 1); break;                                                                                      \
        case 2: RUN(0, 2); break;                                                                                      \
        case 3: RUN(0, 3); break;                                                                                      \
        case 4: RUN(1, 0); break;                                                                                      \
        case 5: RUN(1, 1); break;                                                                                      \
        case 6: RUN(1, 2); break;                                                                                      \
        case 7: RUN(1, 3); break;                                                                                      \
        case 8: RUN(2, 0); break;                                                                                      \
        case 9: RUN(2, 1); break;                                                                                      \
        case 10: RUN(2, 2); break;                                                                                     \
        case 11: RUN(2, 3); break;                                                                                     \
        case 12: RUN(3, 0); break;                                                                                     \
        case 13: RUN(3, 1); break;                                                                                     \
        case 14: RUN(3, 2); break;                                                                                     \
        default: RUN(3, 3); break;                                                                                     \
        }                                                                                                              \
    } while (0)

/* The set in use (chosen on first call), or NULL when NNINIT_ARCH names a
 * set this CPU or build cannot run; then *why says so. */
const nninit__kernel_set *nninit__kernels(const char **why);

#endif

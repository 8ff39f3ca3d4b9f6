/* torch_internal.h -- what the files of src/torch/ share: the MT19937 engine,
 * the choice between the portable C and the AVX2 kernels, and the kernels
 * each file offers the others. Not installed. */
#ifndef NNINIT_TORCH_INTERNAL_H
#define NNINIT_TORCH_INTERNAL_H

#include "internal.h"
#include "nninit_torch.h"

#define NNINIT__MT_N 624
#define NNINIT__MT_M 397

/* The AVX2 + FMA kernels (simd_avx2.c) exist on x86-64 GCC and clang builds;
 * they are entered only when the CPU has both (nninit__torch_simd). */
#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__)
#define NNINIT__TORCH_HAVE_AVX2 1
#define NNINIT__TARGET_FMA      __attribute__((target("fma")))
#else
#define NNINIT__TORCH_HAVE_AVX2 0
#define NNINIT__TARGET_FMA
#endif
/* A loop body written once for the plain and the FMA-targeted copies. */
#if defined(__GNUC__)
#define NNINIT__INLINE static inline __attribute__((always_inline))
#else
#define NNINIT__INLINE static inline
#endif

/* 1 if the AVX2 kernels run: the build has them, the CPU has AVX2 and FMA,
 * and NNINIT_ARCH does not name the scalar or portable path. 0 otherwise;
 * -1 if NNINIT_ARCH names a path this CPU or build lacks (the error is
 * recorded: every op then fails with NNINIT_ERR_ARCH, like every fill). */
int nninit__torch_simd(void);

/* MT19937 tempering (Matsumoto & Nishimura 1998). */
static inline uint32_t nninit__mt_temper(uint32_t y) {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* Regenerates the 624 words (the standard twist, as torch's next_state). */
void nninit__mt_twist(uint32_t *state);

/* The next n tempered words of g into out, advancing left/next exactly as
 * n calls of CPUGeneratorImpl::random() do. */
void nninit__mt_words(nninit_torch_gen *g, uint32_t *out, int64_t n, int simd);

/* One word, as CPUGeneratorImpl::random(). */
static inline uint32_t nninit__mt_next(nninit_torch_gen *g) {
    if (--g->left == 0) {
        nninit__mt_twist(g->state);
        g->left = NNINIT__MT_N;
        g->next = 0;
    }
    return nninit__mt_temper(g->state[g->next++]);
}

/* The 53-bit uniform of a word pair (random64(): first word high):
 * (w & (2^53 - 1)) * 2^-53, ATen's uniform_real<double>(0, 1). */
static inline double nninit__u53(uint32_t hi, uint32_t lo) {
    return (double)((((uint64_t)hi << 32) | lo) & ((UINT64_C(1) << 53) - 1)) * 0x1p-53;
}
/* The 24-bit uniform of a word: (w & (2^24 - 1)) * 2^-24 in float. */
static inline float nninit__u24(uint32_t w) { return (float)(w & 0xffffffu) * 0x1p-24f; }

/* Draws (words a chunk at a time) n uniforms of [from, from + range) in
 * float / double: x * range + from, fused into one rounding (fma) when fused
 * is 1 (ATen's AVX2 build), two roundings when 0 (the default build). */
void nninit__torch_uniform_f32(nninit_torch_gen *g, float *out, int64_t n, float from, float range, int fused,
                               int simd);
void nninit__torch_uniform_f64(nninit_torch_gen *g, double *out, int64_t n, double from, double range, int fused,
                               int simd);

/* The normal_ of torch on n elements (any n >= 0), all three paths. */
void nninit__torch_normal_f32(nninit_torch_gen *g, float *out, int64_t n, double mean, double std, int simd);
void nninit__torch_normal_f64(nninit_torch_gen *g, double *out, int64_t n, double mean, double std, int simd);

/* Validation shared by the ops: g, dtype (F32/F64), n >= 0, data. */
nninit_status nninit__torch_check(const char *op, const nninit_torch_gen *g, nninit_dtype d, const void *data,
                                  int64_t n);

/* ---- the AVX2 + FMA kernels (simd_avx2.c), the same bits as the C -------- */
#if NNINIT__TORCH_HAVE_AVX2
void nninit__mt_twist_avx2(uint32_t *state);
void nninit__mt_temper_avx2(const uint32_t *in, uint32_t *out, int64_t n);
/* out[i] = u24(w[i]) * range + from, fused or not. */
void nninit__u24_affine_avx2(const uint32_t *w, float *out, int64_t n, float from, float range, int fused);
/* 16 normals from the 16 uniforms at data, in place (normal_fill_16_AVX2). */
void nninit__normal16_avx2(float *data, float mean, float std);
#endif

/* The definition the AVX2 block kernel reproduces, one lane at a time: ATen's
 * log256_ps and sincos256_ps (avx_mathfun.h) with the FMAs GCC contracted in
 * Debian's build (normal.c). Exposed for the tests, which run it against the
 * AVX2 code on every float the kernel can meet. */
float nninit__torch_log_lane(float x);
void nninit__torch_sincos_lane(float x, float *s, float *c);
void nninit__torch_normal16_scalar(float *data, float mean, float std);

/* ATen's calc_erfinv (aten/src/ATen/native/Math.h) for one value, with
 * (fused = 1) or without FMA (trunc_normal.c; exposed for the tests). */
float nninit__torch_erfinv_f32(float y, int fused);
double nninit__torch_erfinv_f64(double y, int fused);

#endif

/* uniform.c -- tensor.uniform_(a, b) of torch's CPU generator.
 *
 * ATen's uniform_kernel (aten/src/ATen/native/cpu/DistributionTemplates.h)
 * casts from and to to the dtype, then per element, in order:
 *     float:  x = (random() & (2^24 - 1)) * 2^-24;          x * (to - from) + from
 *     double: x = (random64() & (2^53 - 1)) * 2^-53;        x * (to - from) + from
 * (transformation::uniform_real, TransformationHelper.h; random64() is two
 * words, the first the high half). GCC contracts x * (to - from) + from into
 * one fma in the AVX2 build (vfmadd132ss in Debian's libtorch_cpu.so), not in
 * the default build: the cpu of the generator picks which. */
#include <float.h>
#include <math.h>

#include "torch/torch_internal.h"

enum {
    CHUNK = 512
};

NNINIT__INLINE void affine_f64_body(const uint32_t *w, double *out, int64_t k, double from, double range, int fused) {
    for (int64_t i = 0; i < k; i++) {
        double x = nninit__u53(w[2 * i], w[2 * i + 1]);
        out[i] = fused ? fma(x, range, from) : x * range + from;
    }
}

static void affine_f64_c(const uint32_t *w, double *out, int64_t k, double from, double range, int fused) {
    affine_f64_body(w, out, k, from, range, fused);
}

/* The same loop where the CPU has FMA: fma() becomes one instruction. */
NNINIT__TARGET_FMA static void affine_f64_fma(const uint32_t *w, double *out, int64_t k, double from, double range) {
    affine_f64_body(w, out, k, from, range, 1);
}

void nninit__torch_uniform_f32(nninit_torch_gen *g, float *out, int64_t n, float from, float range, int fused,
                               int simd) {
    uint32_t w[CHUNK];
    while (n > 0) {
        int64_t k = n < CHUNK ? n : CHUNK;
        nninit__mt_words(g, w, k, simd);
#if NNINIT__TORCH_HAVE_AVX2
        if (simd) nninit__u24_affine_avx2(w, out, k, from, range, fused);
        else
#endif
            for (int64_t i = 0; i < k; i++) {
                float x = nninit__u24(w[i]);
                out[i] = fused ? fmaf(x, range, from) : x * range + from;
            }
        out += k;
        n -= k;
    }
}

void nninit__torch_uniform_f64(nninit_torch_gen *g, double *out, int64_t n, double from, double range, int fused,
                               int simd) {
    uint32_t w[CHUNK];
    while (n > 0) {
        int64_t k = n < CHUNK / 2 ? n : CHUNK / 2;
        nninit__mt_words(g, w, 2 * k, simd);
        if (simd && fused) affine_f64_fma(w, out, k, from, range);
        else affine_f64_c(w, out, k, from, range, fused);
        out += k;
        n -= k;
    }
}

nninit_status nninit_torch_uniform(nninit_torch_gen *g, nninit_dtype dtype, void *data, int64_t n, double a, double b) {
    nninit_status st = nninit__torch_check("torch_uniform", g, dtype, data, n);
    if (st) return st;
    if (!isfinite(a) || !isfinite(b))
        return nninit__err(NNINIT_ERR_PARAM, "torch_uniform: a (%g) and b (%g) must be finite", a, b);
    if (a > b) return nninit__err(NNINIT_ERR_RANGE, "torch_uniform: a (%g) must be <= b (%g)", a, b);
    /* uniform_impl_'s checks: both bounds and to - from within the dtype. */
    double max = dtype == NNINIT_F32 ? FLT_MAX : DBL_MAX;
    if (fabs(a) > max || fabs(b) > max || !(b - a <= max))
        return nninit__err(NNINIT_ERR_NOT_REPRESENTABLE, "torch_uniform: [%g, %g) does not fit %s", a, b,
                           nninit_dtype_name(dtype));
    int simd = nninit__torch_simd();
    if (simd < 0) return nninit__err(NNINIT_ERR_ARCH, "torch_uniform: %s", nninit_last_error());
    int fused = g->cpu == NNINIT_TORCH_CPU_AVX2;
    if (dtype == NNINIT_F32) {
        float from = (float)a, to = (float)b, range = to - from;
        if (!isfinite(range))
            return nninit__err(NNINIT_ERR_NOT_REPRESENTABLE, "torch_uniform: b - a overflows float32");
        nninit__torch_uniform_f32(g, data, n, from, range, fused, simd);
    } else {
        nninit__torch_uniform_f64(g, data, n, a, b - a, fused, simd);
    }
    return NNINIT_OK;
}

/* trunc_normal.c -- torch.nn.init.trunc_normal_ of PyTorch 1.13 (torch/nn/init.py,
 * _no_grad_trunc_normal_), on torch's CPU generator:
 *
 *     l = norm_cdf((a - mean) / std);  u = norm_cdf((b - mean) / std)
 *     tensor.uniform_(2 * l - 1, 2 * u - 1)
 *     tensor.erfinv_()
 *     tensor.mul_(std * math.sqrt(2.));  tensor.add_(mean)
 *     tensor.clamp_(min=a, max=b)
 *
 * with norm_cdf(x) = (1. + math.erf(x / math.sqrt(2.))) / 2. in Python
 * doubles (CPython's math.erf is libm's erf), the tensor ops in the dtype
 * (the scalars rounded to it first). erfinv_ is ATen's calc_erfinv
 * (aten/src/ATen/native/Math.h): a rational first guess (Giles/Pavlis) and two
 * Newton steps on libm's erf and exp. In the AVX2 build GCC contracted its
 * polynomials into FMAs (vfmadd in Debian's libtorch_cpu.so 1.13); the
 * Newton steps have none (a division stands between each product and sum). */
#include <float.h>
#include <math.h>

#include "torch/torch_internal.h"

#define MAD(f, a, b, c)  ((f) ? fmaf(a, b, c) : (a) * (b) + (c))
#define MADD(f, a, b, c) ((f) ? fma(a, b, c) : (a) * (b) + (c))

NNINIT__INLINE float erfinv_f32_body(float y, const int fused) {
    const float central = (float)0.7;
    const float a[4] = {(float)0.886226899, (float)-1.645349621, (float)0.914624893, (float)-0.140543331};
    const float b[4] = {(float)-2.118377725, (float)1.442710462, (float)-0.329097515, (float)0.012229801};
    const float c[4] = {(float)-1.970840454, (float)-1.624906493, (float)3.429567803, (float)1.641345311};
    const float d[2] = {(float)3.543889200, (float)1.637067800};
    const float k = 2.0f / (float)sqrt(NNINIT_PI);
    float y_abs = fabsf(y), x, z, num, dem;
    if (y_abs > 1.0f) return NAN;
    if (y_abs == 1.0f) return copysignf(INFINITY, y);
    if (y_abs <= central) {
        z = y * y;
        num = MAD(fused, MAD(fused, MAD(fused, a[3], z, a[2]), z, a[1]), z, a[0]);
        dem = MAD(fused, MAD(fused, MAD(fused, MAD(fused, b[3], z, b[2]), z, b[1]), z, b[0]), z, 1.0f);
        x = y * num / dem;
    } else {
        z = sqrtf(-logf((1.0f - y_abs) / 2.0f));
        num = MAD(fused, MAD(fused, MAD(fused, c[3], z, c[2]), z, c[1]), z, c[0]);
        dem = MAD(fused, MAD(fused, d[1], z, d[0]), z, 1.0f);
        x = copysignf(num, y) / dem;
    }
    x = x - (erff(x) - y) / (k * expf(-x * x));
    x = x - (erff(x) - y) / (k * expf(-x * x));
    return x;
}

NNINIT__INLINE double erfinv_f64_body(double y, const int fused) {
    const double central = 0.7;
    const double a[4] = {0.886226899, -1.645349621, 0.914624893, -0.140543331};
    const double b[4] = {-2.118377725, 1.442710462, -0.329097515, 0.012229801};
    const double c[4] = {-1.970840454, -1.624906493, 3.429567803, 1.641345311};
    const double d[2] = {3.543889200, 1.637067800};
    const double k = 2.0 / sqrt(NNINIT_PI);
    double y_abs = fabs(y), x, z, num, dem;
    if (y_abs > 1.0) return NAN;
    if (y_abs == 1.0) return copysign(INFINITY, y);
    if (y_abs <= central) {
        z = y * y;
        num = MADD(fused, MADD(fused, MADD(fused, a[3], z, a[2]), z, a[1]), z, a[0]);
        dem = MADD(fused, MADD(fused, MADD(fused, MADD(fused, b[3], z, b[2]), z, b[1]), z, b[0]), z, 1.0);
        x = y * num / dem;
    } else {
        z = sqrt(-log((1.0 - y_abs) / 2.0));
        num = MADD(fused, MADD(fused, MADD(fused, c[3], z, c[2]), z, c[1]), z, c[0]);
        dem = MADD(fused, MADD(fused, d[1], z, d[0]), z, 1.0);
        x = copysign(num, y) / dem;
    }
    x = x - (erf(x) - y) / (k * exp(-x * x));
    x = x - (erf(x) - y) / (k * exp(-x * x));
    return x;
}

float nninit__torch_erfinv_f32(float y, int fused) { return fused ? erfinv_f32_body(y, 1) : erfinv_f32_body(y, 0); }
double nninit__torch_erfinv_f64(double y, int fused) { return fused ? erfinv_f64_body(y, 1) : erfinv_f64_body(y, 0); }

/* erfinv_, mul_, add_, clamp_ on a chunk, where the CPU has FMA or not. */
NNINIT__INLINE void finish_f32_body(float *x, int64_t n, float s, float mean, float lo, float hi, const int fused) {
    for (int64_t i = 0; i < n; i++) {
        float v = erfinv_f32_body(x[i], fused) * s + mean; /* mul_, then add_ (a + 1 * b): two roundings */
        v = v < lo ? lo : v;                               /* std::max(v, lo) */
        x[i] = hi < v ? hi : v;                            /* std::min(v, hi) */
    }
}
NNINIT__INLINE void finish_f64_body(double *x, int64_t n, double s, double mean, double lo, double hi,
                                    const int fused) {
    for (int64_t i = 0; i < n; i++) {
        double v = erfinv_f64_body(x[i], fused) * s + mean;
        v = v < lo ? lo : v;
        x[i] = hi < v ? hi : v;
    }
}
static void finish_f32_c(float *x, int64_t n, float s, float mean, float lo, float hi, int fused) {
    if (fused) finish_f32_body(x, n, s, mean, lo, hi, 1);
    else finish_f32_body(x, n, s, mean, lo, hi, 0);
}
static void finish_f64_c(double *x, int64_t n, double s, double mean, double lo, double hi, int fused) {
    if (fused) finish_f64_body(x, n, s, mean, lo, hi, 1);
    else finish_f64_body(x, n, s, mean, lo, hi, 0);
}
NNINIT__TARGET_FMA static void finish_f32_fma(float *x, int64_t n, float s, float mean, float lo, float hi) {
    finish_f32_body(x, n, s, mean, lo, hi, 1);
}
NNINIT__TARGET_FMA static void finish_f64_fma(double *x, int64_t n, double s, double mean, double lo, double hi) {
    finish_f64_body(x, n, s, mean, lo, hi, 1);
}

static double norm_cdf(double x) { return (1. + erf(x / sqrt(2.))) / 2.; }

nninit_status nninit_torch_trunc_normal(nninit_torch_gen *g, nninit_dtype dtype, void *data, int64_t n, double mean,
                                        double std, double a, double b) {
    nninit_status st = nninit__torch_check("torch_trunc_normal", g, dtype, data, n);
    if (st) return st;
    if (!isfinite(mean) || !isfinite(std) || isnan(a) || isnan(b))
        return nninit__err(NNINIT_ERR_PARAM,
                           "torch_trunc_normal: mean (%g) and std (%g) must be finite, a and b numbers", mean, std);
    if (!(std > 0)) return nninit__err(NNINIT_ERR_PARAM, "torch_trunc_normal: std (%g) must be > 0", std);
    if (a > b) return nninit__err(NNINIT_ERR_RANGE, "torch_trunc_normal: a (%g) must be <= b (%g)", a, b);
    const double s = std * sqrt(2.);
    if (!isfinite(s)) return nninit__err(NNINIT_ERR_NOT_REPRESENTABLE, "torch_trunc_normal: std * sqrt(2) overflows");
    if (dtype == NNINIT_F32 && (fabs(mean) > FLT_MAX || s > FLT_MAX || (isfinite(a) && fabs(a) > FLT_MAX) ||
                                (isfinite(b) && fabs(b) > FLT_MAX)))
        return nninit__err(NNINIT_ERR_NOT_REPRESENTABLE, "torch_trunc_normal: a parameter overflows float32");
    int simd = nninit__torch_simd();
    if (simd < 0) return nninit__err(NNINIT_ERR_ARCH, "torch_trunc_normal: %s", nninit_last_error());
    const double l = norm_cdf((a - mean) / std), u = norm_cdf((b - mean) / std);
    const double from = 2 * l - 1, to = 2 * u - 1;
    int fused = g->cpu == NNINIT_TORCH_CPU_AVX2;
    /* uniform_ of the whole tensor first (one stream), then the element-wise
     * ops, which draw nothing: a chunk at a time while it is in cache */
    enum {
        CHUNK = 4096
    };
    for (int64_t i = 0; i < n; i += CHUNK) {
        int64_t k = n - i < CHUNK ? n - i : CHUNK;
        if (dtype == NNINIT_F32) {
            float *x = (float *)data + i;
            float f = (float)from, t = (float)to;
            nninit__torch_uniform_f32(g, x, k, f, t - f, fused, simd);
            if (fused && simd) finish_f32_fma(x, k, (float)s, (float)mean, (float)a, (float)b);
            else finish_f32_c(x, k, (float)s, (float)mean, (float)a, (float)b, fused);
        } else {
            double *x = (double *)data + i;
            nninit__torch_uniform_f64(g, x, k, from, to - from, fused, simd);
            if (fused && simd) finish_f64_fma(x, k, s, mean, a, b);
            else finish_f64_c(x, k, s, mean, a, b, fused);
        }
    }
    return NNINIT_OK;
}

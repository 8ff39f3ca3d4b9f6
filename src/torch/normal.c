/* normal.c -- tensor.normal_(mean, std) of torch's CPU generator.
 *
 * ATen's normal_kernel (aten/src/ATen/native/cpu/DistributionTemplates.h,
 * 1.13) has three paths:
 *   float, n >= 16   normal_fill_AVX2 (the AVX2 build) or normal_fill<float>
 *                    (the default build): n uniforms, then Box-Muller on each
 *                    block of 16 (u1 = 1 - data[j], u2 = data[j + 8], j < 8);
 *                    if 16 does not divide n, 16 more uniforms are drawn into
 *                    data[n - 16 ..] and that block is redone.
 *   double, n >= 16  normal_fill<double>: the same in double with libm.
 *   n < 16           normal_distribution<double> per element: a cached value
 *                    from the last pair if the generator holds one, else
 *                    u1, u2 (random64 each), r = sqrt(-2 log(1 - u2)),
 *                    theta = 2 pi u1; r sin(theta) is cached in the
 *                    generator, r cos(theta) returned; then * std + mean.
 * The AVX2 block is log256_ps and sincos256_ps of avx_mathfun.h (Cephes
 * polynomials), which GCC contracted into FMAs in the AVX2 build: the lane
 * functions below follow the instructions of Debian's libtorch_cpu.so 1.13
 * (normal_fill_16_AVX2 inlined in at::native::AVX2's normal_kernel), an fmaf
 * wherever it has a vfmadd / vfmsub / vfnmadd. They are the definition;
 * simd_avx2.c is the same arithmetic on 8 lanes, checked against them on
 * every input the kernel can meet (tests/test_torch_stream.c). */
#define _GNU_SOURCE /* sincos, sincosf: what GCC merged sin and cos into */
#include <float.h>
#include <math.h>
#include <string.h>

#include "rng/transform.h" /* nninit__f32_bits, nninit__f32_from */
#include "torch/torch_internal.h"


/* log256_ps, one lane: "natural logarithm computed for 8 simultaneous float". */
float nninit__torch_log_lane(float x) {
    const float one = 1.0f;
    uint32_t invalid = x <= 0.0f ? 0xffffffffu : 0u;
    x = x > FLT_MIN ? x : FLT_MIN; /* _mm256_max_ps(x, min_norm_pos) */
    int32_t imm0 = (int32_t)(nninit__f32_bits(x) >> 23) - 0x7f;
    x = nninit__f32_from((nninit__f32_bits(x) & ~0x7f800000u) | nninit__f32_bits(0.5f));
    float e = (float)imm0 + one;
    /* if (x < SQRTHF) { e -= 1; x = x + x - 1 } else x = x - 1, with masks */
    int lt = x < (float)0.707106781186547524;
    float tmp = lt ? x : 0.0f;
    x = x + -one;
    e = e - (lt ? one : 0.0f);
    x = tmp + x;
    float z = x * x;
    float y = (float)7.0376836292E-2;
    y = fmaf(y, x, (float)-1.1514610310E-1);
    y = fmaf(y, x, (float)1.1676998740E-1);
    y = fmaf(y, x, (float)-1.2420140846E-1);
    y = fmaf(y, x, (float)+1.4249322787E-1);
    y = fmaf(y, x, (float)-1.6668057665E-1);
    y = fmaf(y, x, (float)+2.0000714765E-1);
    y = fmaf(y, x, (float)-2.4999993993E-1);
    y = fmaf(y, x, (float)+3.3333331174E-1);
    y = y * x;
    y = fmaf(y, z, e * (float)-2.12194440e-4); /* y * z + e * q1 */
    y = fmaf(-z, 0.5f, y);                     /* y - z * 0.5 */
    x = x + y;
    x = fmaf(e, (float)0.693359375, x); /* x + e * q2 */
    return nninit__f32_from(nninit__f32_bits(x) | invalid);
}

/* sincos256_ps, one lane (Cephes sinf/cosf: reduction by pi/4 in three
 * parts, two polynomials, both computed, one selected by masks). */
void nninit__torch_sincos_lane(float x, float *s, float *c) {
    uint32_t sign_sin = nninit__f32_bits(x) & 0x80000000u;
    x = nninit__f32_from(nninit__f32_bits(x) & 0x7fffffffu);
    float y = x * (float)1.27323954473516; /* 4 / pi */
    int32_t j = (int32_t)y;                /* cvttps: truncation; |x| <= 2 pi here */
    j = (j + 1) & ~1;
    y = (float)j;
    uint32_t swap_sign_sin = ((uint32_t)j & 4u) << 29;
    int poly = (j & 2) == 0;
    x = fmaf(y, (float)-0.78515625, x);
    x = fmaf(y, (float)-2.4187564849853515625e-4, x);
    x = fmaf(y, (float)-3.77489497744594108e-8, x);
    uint32_t sign_cos = (~(uint32_t)(j - 2) & 4u) << 29;
    sign_sin ^= swap_sign_sin;
    float z = x * x;
    float yc = fmaf((float)2.443315711809948E-005, z, (float)-1.388731625493765E-003);
    yc = fmaf(yc, z, (float)4.166664568298827E-002);
    yc = yc * z;
    yc = fmaf(yc, z, -(z * 0.5f)); /* y * z - z * 0.5 */
    yc = yc + 1.0f;
    float ys = fmaf((float)-1.9515295891E-4, z, (float)8.3321608736E-3);
    ys = fmaf(ys, z, (float)-1.6666654611E-1);
    ys = ys * z;
    ys = fmaf(ys, x, x);
    /* select with and/andnot, then the subtractions and sums of the source */
    float ysin2 = poly ? ys : 0.0f, ysin1 = poly ? 0.0f : yc;
    ys = ys - ysin2;
    yc = yc - ysin1;
    float sn = ysin1 + ysin2, cs = yc + ys;
    *s = nninit__f32_from(nninit__f32_bits(sn) ^ sign_sin);
    *c = nninit__f32_from(nninit__f32_bits(cs) ^ sign_cos);
}

/* normal_fill_16_AVX2 in C: 16 uniforms at d become 16 normals. */
void nninit__torch_normal16_scalar(float *d, float mean, float std) {
    const float two_pi = (float)(2.0f * NNINIT_PI);
    for (int j = 0; j < 8; j++) {
        float u1 = 1.0f - d[j], u2 = d[j + 8];
        float radius = sqrtf(-2.0f * nninit__torch_log_lane(u1));
        float theta = two_pi * u2, sn, cs;
        nninit__torch_sincos_lane(theta, &sn, &cs);
        d[j] = fmaf(radius * cs, std, mean);
        d[j + 8] = fmaf(radius * sn, std, mean);
    }
}

/* normal_fill_16<float> of the default build: libm, no FMA. */
static void normal16_libm_f32(float *d, float mean, float std) {
    for (int j = 0; j < 8; j++) {
        const float u1 = 1 - d[j], u2 = d[j + 8];
        const float radius = sqrtf(-2 * logf(u1));
        const float theta = (float)(2.0f * NNINIT_PI * u2);
        float sn, cs;
        sincosf(theta, &sn, &cs);
        d[j] = radius * cs * std + mean;
        d[j + 8] = radius * sn * std + mean;
    }
}

/* normal_fill_16<double>: radius * cos(theta) * std + mean, contracted into
 * fma(radius * cos, std, mean) in the AVX2 build. */
NNINIT__INLINE void normal16_f64_body(double *d, double mean, double std, int fused) {
    for (int j = 0; j < 8; j++) {
        const double u1 = 1 - d[j], u2 = d[j + 8];
        const double radius = sqrt(-2 * log(u1));
        const double theta = 2.0f * NNINIT_PI * u2;
        double sn, cs;
        sincos(theta, &sn, &cs);
        d[j] = fused ? fma(radius * cs, std, mean) : radius * cs * std + mean;
        d[j + 8] = fused ? fma(radius * sn, std, mean) : radius * sn * std + mean;
    }
}
static void normal16_f64_c(double *d, double mean, double std, int fused) { normal16_f64_body(d, mean, std, fused); }
NNINIT__TARGET_FMA static void normal16_f64_fma(double *d, double mean, double std) {
    normal16_f64_body(d, mean, std, 1);
}

/* at::normal_distribution<double>, the path of n < 16. */
static double normal_small(nninit_torch_gen *g, double mean, double std, int fused) {
    double ret;
    if (g->has_next_double_normal) {
        ret = g->next_double_normal;
        g->has_next_double_normal = 0;
        g->next_double_normal = 0;
    } else {
        uint32_t a = nninit__mt_next(g), b = nninit__mt_next(g);
        const double u1 = nninit__u53(a, b);
        a = nninit__mt_next(g), b = nninit__mt_next(g);
        const double u2 = nninit__u53(a, b);
        const double r = sqrt(-2.0 * log(1.0 - u2));
        const double theta = 2.0 * NNINIT_PI * u1;
        double sn, cs;
        sincos(theta, &sn, &cs);
        g->next_double_normal = r * sn;
        g->has_next_double_normal = 1;
        ret = r * cs;
    }
    return fused ? fma(ret, std, mean) : ret * std + mean; /* transformation::normal */
}

enum {
    BLOCKS = 32
}; /* blocks of 16 per chunk of uniforms */

static void block_f32(float *d, float mean, float std, int cpu, int simd) {
    if (cpu == NNINIT_TORCH_CPU_DEFAULT) {
        normal16_libm_f32(d, mean, std);
        return;
    }
#if NNINIT__TORCH_HAVE_AVX2
    if (simd) {
        nninit__normal16_avx2(d, mean, std);
        return;
    }
#endif
    nninit__torch_normal16_scalar(d, mean, std);
}

void nninit__torch_normal_f32(nninit_torch_gen *g, float *out, int64_t n, double mean_d, double std_d, int simd) {
    int fused = g->cpu == NNINIT_TORCH_CPU_AVX2;
    if (n < 16) {
        for (int64_t i = 0; i < n; i++) out[i] = (float)normal_small(g, mean_d, std_d, fused);
        return;
    }
    const float mean = (float)mean_d, std = (float)std_d;
    /* The uniforms of a block are the block's own 16 words: draw and
     * transform a chunk of blocks at a time, in the output itself. */
    int64_t full = n / 16 * 16;
    for (int64_t i = 0; i < full; i += 16 * BLOCKS) {
        int64_t k = full - i < 16 * BLOCKS ? full - i : 16 * BLOCKS;
        nninit__torch_uniform_f32(g, out + i, k, 0.0f, 1.0f, fused, simd);
        for (int64_t b = 0; b < k; b += 16) block_f32(out + i + b, mean, std, g->cpu, simd);
    }
    if (n != full) {
        /* the n % 16 uniforms torch drew at data[full ..] are overwritten by
         * the 16 drawn again for the last block: their words are spent */
        uint32_t spent[16];
        nninit__mt_words(g, spent, n - full, simd);
        nninit__torch_uniform_f32(g, out + n - 16, 16, 0.0f, 1.0f, fused, simd);
        block_f32(out + n - 16, mean, std, g->cpu, simd);
    }
}

void nninit__torch_normal_f64(nninit_torch_gen *g, double *out, int64_t n, double mean, double std, int simd) {
    int fused = g->cpu == NNINIT_TORCH_CPU_AVX2;
    if (n < 16) {
        for (int64_t i = 0; i < n; i++) out[i] = normal_small(g, mean, std, fused);
        return;
    }
    int64_t full = n / 16 * 16;
    for (int64_t i = 0; i < full; i += 16 * BLOCKS) {
        int64_t k = full - i < 16 * BLOCKS ? full - i : 16 * BLOCKS;
        nninit__torch_uniform_f64(g, out + i, k, 0.0, 1.0, fused, simd);
        for (int64_t b = 0; b < k; b += 16) {
            if (fused && simd) normal16_f64_fma(out + i + b, mean, std);
            else normal16_f64_c(out + i + b, mean, std, fused);
        }
    }
    if (n != full) {
        uint32_t spent[32];
        nninit__mt_words(g, spent, 2 * (n - full), simd);
        nninit__torch_uniform_f64(g, out + n - 16, 16, 0.0, 1.0, fused, simd);
        if (fused && simd) normal16_f64_fma(out + n - 16, mean, std);
        else normal16_f64_c(out + n - 16, mean, std, fused);
    }
}

nninit_status nninit_torch_normal(nninit_torch_gen *g, nninit_dtype dtype, void *data, int64_t n, double mean,
                                  double std) {
    nninit_status st = nninit__torch_check("torch_normal", g, dtype, data, n);
    if (st) return st;
    if (!isfinite(mean) || !isfinite(std))
        return nninit__err(NNINIT_ERR_PARAM, "torch_normal: mean (%g) and std (%g) must be finite", mean, std);
    if (std < 0) return nninit__err(NNINIT_ERR_PARAM, "torch_normal: std (%g) must be >= 0", std);
    if (dtype == NNINIT_F32 && (fabs(mean) > FLT_MAX || std > FLT_MAX))
        return nninit__err(NNINIT_ERR_NOT_REPRESENTABLE, "torch_normal: mean %g or std %g overflows float32", mean,
                           std);
    int simd = nninit__torch_simd();
    if (simd < 0) return nninit__err(NNINIT_ERR_ARCH, "torch_normal: %s", nninit_last_error());
    if (dtype == NNINIT_F32) nninit__torch_normal_f32(g, data, n, mean, std, simd);
    else nninit__torch_normal_f64(g, data, n, mean, std, simd);
    return NNINIT_OK;
}

/* simd_avx2.c -- the AVX2 + FMA kernels of the torch stream: the MT19937
 * twist and tempering on 8 words, the float uniform of 8 words, and ATen's
 * normal_fill_16_AVX2 (avx_mathfun.h's log256_ps and sincos256_ps with the
 * FMAs of Debian's 1.13 build). Each computes exactly what the C of
 * mt19937.c, uniform.c and normal.c computes (tests/test_torch_stream.c runs
 * both on every input the block kernel can meet). Entered only when the CPU
 * has AVX2 and FMA (nninit__torch_simd); the functions carry their own target
 * so the rest of the library stays baseline x86-64. */
#include "torch/torch_internal.h"

#if NNINIT__TORCH_HAVE_AVX2
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256i mix8(__m256i u, __m256i v) {
    const __m256i y = _mm256_or_si256(_mm256_and_si256(u, _mm256_set1_epi32((int)0x80000000u)),
                                      _mm256_and_si256(v, _mm256_set1_epi32(0x7fffffff)));
    const __m256i odd = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_and_si256(v, _mm256_set1_epi32(1)));
    return _mm256_xor_si256(_mm256_srli_epi32(y, 1), _mm256_and_si256(odd, _mm256_set1_epi32((int)0x9908b0dfu)));
}

static inline uint32_t mix1(uint32_t u, uint32_t v) {
    return (((u & 0x80000000u) | (v & 0x7fffffffu)) >> 1) ^ ((v & 1u) ? 0x9908b0dfu : 0u);
}

#define LD(p)    _mm256_loadu_si256((const __m256i *)(p))
#define ST(p, v) _mm256_storeu_si256((__m256i *)(p), v)

/* The three parts of the twist: [0, N-M) read the old s[j+M]; [N-M, N-1)
 * read the new s[j+M-N], at least 227 words back, so 8 lanes never read a
 * word they write; s[N-1] reads the new s[0]. */
AVX2 void nninit__mt_twist_avx2(uint32_t *s) {
    enum {
        N = NNINIT__MT_N,
        M = NNINIT__MT_M
    };
    int j = 0;
    for (; j + 8 <= N - M; j += 8) ST(s + j, _mm256_xor_si256(LD(s + j + M), mix8(LD(s + j), LD(s + j + 1))));
    for (; j < N - M; j++) s[j] = s[j + M] ^ mix1(s[j], s[j + 1]);
    for (; j + 8 <= N - 1; j += 8) ST(s + j, _mm256_xor_si256(LD(s + j + M - N), mix8(LD(s + j), LD(s + j + 1))));
    for (; j < N - 1; j++) s[j] = s[j + M - N] ^ mix1(s[j], s[j + 1]);
    s[N - 1] = s[M - 1] ^ mix1(s[N - 1], s[0]);
}

AVX2 static inline __m256i temper8(__m256i y) {
    y = _mm256_xor_si256(y, _mm256_srli_epi32(y, 11));
    y = _mm256_xor_si256(y, _mm256_and_si256(_mm256_slli_epi32(y, 7), _mm256_set1_epi32((int)0x9d2c5680u)));
    y = _mm256_xor_si256(y, _mm256_and_si256(_mm256_slli_epi32(y, 15), _mm256_set1_epi32((int)0xefc60000u)));
    return _mm256_xor_si256(y, _mm256_srli_epi32(y, 18));
}

AVX2 void nninit__mt_temper_avx2(const uint32_t *in, uint32_t *out, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) ST(out + i, temper8(LD(in + i)));
    for (; i < n; i++) out[i] = nninit__mt_temper(in[i]);
}

AVX2 void nninit__u24_affine_avx2(const uint32_t *w, float *out, int64_t n, float from, float range, int fused) {
    const __m256i mask = _mm256_set1_epi32(0xffffff);
    const __m256 scale = _mm256_set1_ps(0x1p-24f), vf = _mm256_set1_ps(from), vr = _mm256_set1_ps(range);
    int64_t i = 0;
    if (fused)
        for (; i + 8 <= n; i += 8) {
            __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(LD(w + i), mask)), scale);
            _mm256_storeu_ps(out + i, _mm256_fmadd_ps(x, vr, vf));
        }
    else
        for (; i + 8 <= n; i += 8) {
            __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(LD(w + i), mask)), scale);
            _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_mul_ps(x, vr), vf));
        }
    for (; i < n; i++) {
        float x = nninit__u24(w[i]);
        out[i] =
            fused ? _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(x), _mm_set_ss(range), _mm_set_ss(from))) : x * range + from;
    }
}

#define PS(v) _mm256_set1_ps((float)(v))
#define PI(v) _mm256_set1_epi32((int)(v))

/* log256_ps as GCC compiled it (nninit__torch_log_lane is the lane form). */
AVX2 static inline __m256 log8(__m256 x) {
    const __m256 one = PS(1.0);
    const __m256 invalid = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LE_OS);
    x = _mm256_max_ps(x, _mm256_castsi256_ps(PI(0x00800000)));
    __m256i imm0 = _mm256_srli_epi32(_mm256_castps_si256(x), 23);
    x = _mm256_and_ps(x, _mm256_castsi256_ps(PI(~0x7f800000)));
    x = _mm256_or_ps(x, PS(0.5));
    imm0 = _mm256_sub_epi32(imm0, PI(0x7f));
    __m256 e = _mm256_add_ps(_mm256_cvtepi32_ps(imm0), one);
    const __m256 mask = _mm256_cmp_ps(x, PS(0.707106781186547524), _CMP_LT_OS);
    const __m256 tmp = _mm256_and_ps(x, mask);
    x = _mm256_add_ps(x, PS(-1.0));
    e = _mm256_sub_ps(e, _mm256_and_ps(one, mask));
    x = _mm256_add_ps(tmp, x);
    const __m256 z = _mm256_mul_ps(x, x);
    __m256 y = PS(7.0376836292E-2);
    y = _mm256_fmadd_ps(y, x, PS(-1.1514610310E-1));
    y = _mm256_fmadd_ps(y, x, PS(1.1676998740E-1));
    y = _mm256_fmadd_ps(y, x, PS(-1.2420140846E-1));
    y = _mm256_fmadd_ps(y, x, PS(+1.4249322787E-1));
    y = _mm256_fmadd_ps(y, x, PS(-1.6668057665E-1));
    y = _mm256_fmadd_ps(y, x, PS(+2.0000714765E-1));
    y = _mm256_fmadd_ps(y, x, PS(-2.4999993993E-1));
    y = _mm256_fmadd_ps(y, x, PS(+3.3333331174E-1));
    y = _mm256_mul_ps(y, x);
    y = _mm256_fmadd_ps(y, z, _mm256_mul_ps(e, PS(-2.12194440e-4)));
    y = _mm256_fnmadd_ps(z, PS(0.5), y);
    x = _mm256_add_ps(x, y);
    x = _mm256_fmadd_ps(e, PS(0.693359375), x);
    return _mm256_or_ps(x, invalid);
}

/* sincos256_ps as GCC compiled it (nninit__torch_sincos_lane). */
AVX2 static inline void sincos8(__m256 x, __m256 *s, __m256 *c) {
    __m256 sign_sin = _mm256_and_ps(x, _mm256_castsi256_ps(PI(0x80000000u)));
    x = _mm256_and_ps(x, _mm256_castsi256_ps(PI(0x7fffffff)));
    __m256 y = _mm256_mul_ps(x, PS(1.27323954473516));
    __m256i imm2 = _mm256_cvttps_epi32(y);
    imm2 = _mm256_and_si256(_mm256_add_epi32(imm2, PI(1)), PI(~1));
    y = _mm256_cvtepi32_ps(imm2);
    const __m256i imm4 = imm2;
    const __m256 swap_sign_sin = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(imm2, PI(4)), 29));
    const __m256 poly = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(imm2, PI(2)), _mm256_setzero_si256()));
    x = _mm256_fmadd_ps(y, PS(-0.78515625), x);
    x = _mm256_fmadd_ps(y, PS(-2.4187564849853515625e-4), x);
    x = _mm256_fmadd_ps(y, PS(-3.77489497744594108e-8), x);
    const __m256 sign_cos =
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_andnot_si256(_mm256_sub_epi32(imm4, PI(2)), PI(4)), 29));
    sign_sin = _mm256_xor_ps(sign_sin, swap_sign_sin);
    const __m256 z = _mm256_mul_ps(x, x);
    __m256 yc = _mm256_fmadd_ps(PS(2.443315711809948E-005), z, PS(-1.388731625493765E-003));
    yc = _mm256_fmadd_ps(yc, z, PS(4.166664568298827E-002));
    yc = _mm256_mul_ps(yc, z);
    yc = _mm256_fmsub_ps(yc, z, _mm256_mul_ps(z, PS(0.5)));
    yc = _mm256_add_ps(yc, PS(1.0));
    __m256 ys = _mm256_fmadd_ps(PS(-1.9515295891E-4), z, PS(8.3321608736E-3));
    ys = _mm256_fmadd_ps(ys, z, PS(-1.6666654611E-1));
    ys = _mm256_mul_ps(ys, z);
    ys = _mm256_fmadd_ps(ys, x, x);
    const __m256 ysin2 = _mm256_and_ps(poly, ys), ysin1 = _mm256_andnot_ps(poly, yc);
    ys = _mm256_sub_ps(ys, ysin2);
    yc = _mm256_sub_ps(yc, ysin1);
    *s = _mm256_xor_ps(_mm256_add_ps(ysin1, ysin2), sign_sin);
    *c = _mm256_xor_ps(_mm256_add_ps(yc, ys), sign_cos);
}

AVX2 void nninit__normal16_avx2(float *d, float mean, float std) {
    const __m256 u1 = _mm256_sub_ps(PS(1.0), _mm256_loadu_ps(d));
    const __m256 u2 = _mm256_loadu_ps(d + 8);
    const __m256 radius = _mm256_sqrt_ps(_mm256_mul_ps(PS(-2.0), log8(u1)));
    const __m256 theta = _mm256_mul_ps(PS(2.0f * NNINIT_PI), u2);
    __m256 sn, cs;
    sincos8(theta, &sn, &cs);
    _mm256_storeu_ps(d, _mm256_fmadd_ps(_mm256_mul_ps(radius, cs), PS(std), PS(mean)));
    _mm256_storeu_ps(d + 8, _mm256_fmadd_ps(_mm256_mul_ps(radius, sn), PS(std), PS(mean)));
}

#else
typedef int nninit__torch_no_avx2; /* a translation unit must declare something */
#endif

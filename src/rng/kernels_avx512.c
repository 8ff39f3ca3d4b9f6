/* kernels_avx512.c -- the fill kernels on AVX-512 F/DQ/BW/VL + FMA.
 *
 * A copy of the scalar definition (fill_kernels.c, transform.h, the rounding
 * of dtype.c), 16 Philox blocks at a time, proven bit-equal to it by
 * tests/test_kernels.c. Every float operation is the one the scalar code does,
 * in the same order: vfmadd for fmaf/fma, vdiv, vsqrt, vmin for fminf/fmin,
 * truncating conversions for (int32_t)/(int64_t) casts.
 *
 * fmin(v, hi): v is never NaN here (finite parameters), so vmin agrees with
 * fmin whichever operand it returns on a tie, except for v and hi zeros of
 * opposite signs, where C leaves the choice open (GCC 12 treats fminf as
 * commutative and calls glibc's fminf(hi, v), which returns v). So hi == 0
 * takes the scalar set, whatever the compiler did there.
 *
 * bf16 and f16 are rounded in registers. f16: vcvtps2ph with round to
 * nearest even, which is nninit_f32_to_f16 for every input but NaN (its
 * payload rule differs); bf16: the integer arithmetic of nninit_f32_to_bf16,
 * or, in the avx512bf16 set (this file again, compiled by
 * kernels_avx512bf16.c with NNINIT_AVX512_BF16 defined and -mavx512bf16),
 * vcvtne2ps2bf16, which is that rounding for every input but subnormals
 * (it flushes them to zero whatever MXCSR says) and NaN. A vector holding a
 * NaN or a subnormal (vfpclassps says, one instruction) takes the integer
 * arithmetic instead, so the bits never depend on the instruction.
 *
 * Philox state: 16 blocks as two halves of 8, each counter word in the low
 * dword of a 64-bit lane, so vpmuludq gives the whole 32x32->64 product with
 * no shuffles; the high dwords carry garbage that nothing reads (vpmuludq
 * ignores them, the xors keep the low dword exact). One round is, per half,
 * two multiplies, two shifts and two three-way xors (vpternlogd).
 *
 * Parameters that are not finite (as the scalar code sees them) take the
 * scalar set, so NaN propagation never has to match. The truncated normal
 * vectorizes its first attempt and hands rejected lanes to the scalar
 * trunc_normal_at (below). */
#include "rng/kernels.h"

#ifdef NNINIT_HAVE_X86_SETS

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "rng/philox.h"

#define AI static inline __attribute__((always_inline))

/* ---- Philox4x32-10 on 16 blocks ----------------------------------------- */

/* The round keys, computed once per call; each round reads them as embedded
 * broadcasts. */
typedef struct {
    uint32_t k0[10], k1[10];
} round_keys;

static inline void round_keys_make(const uint32_t key[2], round_keys *rk) {
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r) {
            k0 += NNINIT_PHILOX_W0;
            k1 += NNINIT_PHILOX_W1;
        }
        rk->k0[r] = k0;
        rk->k1[r] = k1;
    }
}

/* Counters (blk + lane as 64 bits: c0 low, c1 high; c2; domain) for blocks
 * blk .. blk+15; out[h][j] = word j of blocks blk + 8h .. blk + 8h + 7, in the
 * low dword of each 64-bit lane. */
AI void philox_x16(const round_keys *rk, uint64_t blk, uint32_t c2, uint32_t domain, __m512i out[2][4]) {
    const __m512i m0 = _mm512_set1_epi64(NNINIT_PHILOX_M0), m1 = _mm512_set1_epi64(NNINIT_PHILOX_M1);
    const __m512i base = _mm512_set1_epi64((long long)blk);
    __m512i s[2][4];
    s[0][0] = _mm512_add_epi64(base, _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7));
    s[1][0] = _mm512_add_epi64(base, _mm512_setr_epi64(8, 9, 10, 11, 12, 13, 14, 15));
#pragma GCC unroll 4
    for (int h = 0; h < 2; h++) {
        s[h][1] = _mm512_srli_epi64(s[h][0], 32);
        s[h][2] = _mm512_set1_epi64(c2);
        s[h][3] = _mm512_set1_epi64(domain);
    }
#pragma GCC unroll 10
    for (int r = 0; r < 10; r++) {
        const __m512i vk0 = _mm512_set1_epi32((int)rk->k0[r]), vk1 = _mm512_set1_epi32((int)rk->k1[r]);
#pragma GCC unroll 4
        for (int h = 0; h < 2; h++) {
            __m512i p0 = _mm512_mul_epu32(s[h][0], m0);
            __m512i p1 = _mm512_mul_epu32(s[h][2], m1);
            __m512i n0 = _mm512_ternarylogic_epi32(_mm512_srli_epi64(p1, 32), s[h][1], vk0, 0x96);
            __m512i n2 = _mm512_ternarylogic_epi32(_mm512_srli_epi64(p0, 32), s[h][3], vk1, 0x96);
            s[h][0] = n0;
            s[h][1] = p1; /* lo1 in the low dword */
            s[h][2] = n2;
            s[h][3] = p0; /* lo0 */
        }
    }
#pragma GCC unroll 4
    for (int h = 0; h < 2; h++)
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) out[h][j] = s[h][j];
}

/* w[j] lane b = word j of block blk + b (16 lanes of 32 bits). */
AI void philox_x16_packed(const round_keys *rk, uint64_t blk, uint32_t c2, uint32_t domain, __m512i w[4]) {
    __m512i h[2][4];
    philox_x16(rk, blk, c2, domain, h);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) w[j] = _mm512_permutex2var_epi32(h[0][j], even, h[1][j]);
}

/* 64-bit lanes hi:lo from two half-state words (low dwords valid). */
AI __m512i join64(__m512i hi, __m512i lo) { return _mm512_mask_blend_epi32(0xAAAA, lo, _mm512_slli_epi64(hi, 32)); }

/* v[j] lane b = element 4b + j  ->  out[m] = elements 16m .. 16m + 15. */
AI void interleave4_ps(const __m512 v[4], __m512 out[4]) {
    const __m512i ia = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ib = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512i qa = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
    const __m512i qb = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
    __m512d t01a = _mm512_castps_pd(_mm512_permutex2var_ps(v[0], ia, v[1]));
    __m512d t01b = _mm512_castps_pd(_mm512_permutex2var_ps(v[0], ib, v[1]));
    __m512d t23a = _mm512_castps_pd(_mm512_permutex2var_ps(v[2], ia, v[3]));
    __m512d t23b = _mm512_castps_pd(_mm512_permutex2var_ps(v[2], ib, v[3]));
    out[0] = _mm512_castpd_ps(_mm512_permutex2var_pd(t01a, qa, t23a));
    out[1] = _mm512_castpd_ps(_mm512_permutex2var_pd(t01a, qb, t23a));
    out[2] = _mm512_castpd_ps(_mm512_permutex2var_pd(t01b, qa, t23b));
    out[3] = _mm512_castpd_ps(_mm512_permutex2var_pd(t01b, qb, t23b));
}

/* e0 lane b = element 2b, e1 lane b = element 2b + 1 -> 16 elements in order. */
AI void interleave2_pd(__m512d e0, __m512d e1, __m512d *lo, __m512d *hi) {
    *lo = _mm512_permutex2var_pd(e0, _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), e1);
    *hi = _mm512_permutex2var_pd(e0, _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15), e1);
}

/* ---- bits to floats (transform.h) ---------------------------------------- */

AI __m512 u01_f32(__m512i w) {
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(w, 8)), _mm512_set1_ps(0x1p-24f));
}

/* fma((w >> 8), 2^-24, ((w & 0xff) + 1) 2^-32) is (w + 1) 2^-32 rounded once
 * (RNE); so is vcvtudq2ps of w + 1 times 2^-32 (exact scaling), except that
 * w + 1 wraps for w = 2^32 - 1, whose value is 1. The scratch proof checks
 * all 2^32 words against the scalar function. */
AI __m512 u01_open0_f32(__m512i w) {
    __m512 x = _mm512_mul_ps(_mm512_cvtepu32_ps(_mm512_add_epi32(w, _mm512_set1_epi32(1))), _mm512_set1_ps(0x1p-32f));
    return _mm512_mask_mov_ps(x, _mm512_cmpeq_epi32_mask(w, _mm512_set1_epi32(-1)), _mm512_set1_ps(1.0f));
}

/* x: 64-bit lanes hi:lo */
AI __m512d u01_f64(__m512i x) {
    return _mm512_mul_pd(_mm512_cvtepi64_pd(_mm512_srli_epi64(x, 11)), _mm512_set1_pd(0x1p-53));
}

AI __m512d u01_open0_f64(__m512i x) {
    return _mm512_mul_pd(_mm512_cvtepi64_pd(_mm512_add_epi64(_mm512_srli_epi64(x, 11), _mm512_set1_epi64(1))),
                         _mm512_set1_pd(0x1p-53));
}

AI __m512 log_f32(__m512 x) {
    __m512i ix = _mm512_add_epi32(_mm512_castps_si512(x), _mm512_set1_epi32((int)(0x3f800000u - 0x3f3504f3u)));
    __m512i k = _mm512_sub_epi32(_mm512_srli_epi32(ix, 23), _mm512_set1_epi32(0x7f));
    __m512 m = _mm512_castsi512_ps(
        _mm512_add_epi32(_mm512_and_si512(ix, _mm512_set1_epi32(0x007fffff)), _mm512_set1_epi32(0x3f3504f3)));
    __m512 f = _mm512_sub_ps(m, _mm512_set1_ps(1.0f));
    __m512 s = _mm512_div_ps(f, _mm512_add_ps(_mm512_set1_ps(2.0f), f));
    __m512 z = _mm512_mul_ps(s, s);
    __m512 p = _mm512_fmadd_ps(z, _mm512_set1_ps(1.0f / 11.0f), _mm512_set1_ps(1.0f / 9.0f));
    p = _mm512_fmadd_ps(z, p, _mm512_set1_ps(1.0f / 7.0f));
    p = _mm512_fmadd_ps(z, p, _mm512_set1_ps(1.0f / 5.0f));
    p = _mm512_fmadd_ps(z, p, _mm512_set1_ps(1.0f / 3.0f));
    p = _mm512_mul_ps(z, p);
    __m512 two_s = _mm512_add_ps(s, s);
    __m512 lm = _mm512_fmadd_ps(two_s, p, two_s);
    __m512 kf = _mm512_cvtepi32_ps(k);
    return _mm512_fmadd_ps(kf, _mm512_set1_ps(0x1.62e3p-1f),
                           _mm512_fmadd_ps(kf, _mm512_set1_ps(9.0580006145e-06f), lm));
}

AI __m512d log_f64(__m512d x) {
    __m512i ix = _mm512_add_epi64(_mm512_castpd_si512(x),
                                  _mm512_set1_epi64((long long)(0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull)));
    __m512i k = _mm512_sub_epi64(_mm512_srli_epi64(ix, 52), _mm512_set1_epi64(0x3ff));
    __m512d m = _mm512_castsi512_pd(_mm512_add_epi64(_mm512_and_si512(ix, _mm512_set1_epi64(0x000fffffffffffffll)),
                                                     _mm512_set1_epi64(0x3fe6a09e667f3bcdll)));
    __m512d f = _mm512_sub_pd(m, _mm512_set1_pd(1.0));
    __m512d s = _mm512_div_pd(f, _mm512_add_pd(_mm512_set1_pd(2.0), f));
    __m512d z = _mm512_mul_pd(s, s);
    __m512d p = _mm512_fmadd_pd(z, _mm512_set1_pd(1.0 / 23.0), _mm512_set1_pd(1.0 / 21.0));
    p = _mm512_fmadd_pd(z, p, _mm512_set1_pd(1.0 / 19.0));
    p = _mm512_fmadd_pd(z, p, _mm512_set1_pd(1.0 / 17.0));
    p = _mm512_fmadd_pd(z, p, _mm512_set1_pd(1.0 / 15.0));
    p = _mm512_fmadd_pd(z, p, _mm512_set1_pd(1.0 / 13.0));
    p = _mm512_fmadd_pd(z, p, _mm512_set1_pd(1.0 / 11.0));
    p = _mm512_fmadd_pd(z, p, _mm512_set1_pd(1.0 / 9.0));
    p = _mm512_fmadd_pd(z, p, _mm512_set1_pd(1.0 / 7.0));
    p = _mm512_fmadd_pd(z, p, _mm512_set1_pd(1.0 / 5.0));
    p = _mm512_fmadd_pd(z, p, _mm512_set1_pd(1.0 / 3.0));
    p = _mm512_mul_pd(z, p);
    __m512d two_s = _mm512_add_pd(s, s);
    __m512d lm = _mm512_fmadd_pd(two_s, p, two_s);
    __m512d kd = _mm512_cvtepi64_pd(k);
    return _mm512_fmadd_pd(kd, _mm512_set1_pd(6.93147180369123816490e-01),
                           _mm512_fmadd_pd(kd, _mm512_set1_pd(1.90821492927058770002e-10), lm));
}

AI void sincos2pi_f32(__m512 t, __m512 *s_out, __m512 *c_out) {
    __m512i qi = _mm512_cvttps_epi32(_mm512_fmadd_ps(_mm512_set1_ps(4.0f), t, _mm512_set1_ps(0.5f)));
    __m512 q = _mm512_cvtepi32_ps(qi);
    __m512 f = _mm512_fmadd_ps(q, _mm512_set1_ps(-0.25f), t);
    __m512 y = _mm512_mul_ps(f, f);
    __m512 ps = _mm512_fmadd_ps(y, _mm512_set1_ps(-15.09464257682299f), _mm512_set1_ps(42.058693944897655f));
    ps = _mm512_fmadd_ps(y, ps, _mm512_set1_ps(-76.70585975306139f));
    ps = _mm512_fmadd_ps(y, ps, _mm512_set1_ps(81.60524927607506f));
    ps = _mm512_fmadd_ps(y, ps, _mm512_set1_ps(-41.34170224039976f));
    ps = _mm512_fmadd_ps(y, ps, _mm512_set1_ps(6.283185307179586f));
    __m512 s = _mm512_mul_ps(f, ps);
    __m512 pc = _mm512_fmadd_ps(y, _mm512_set1_ps(7.903536371318469f), _mm512_set1_ps(-26.4262567833744f));
    pc = _mm512_fmadd_ps(y, pc, _mm512_set1_ps(60.24464137187666f));
    pc = _mm512_fmadd_ps(y, pc, _mm512_set1_ps(-85.45681720669373f));
    pc = _mm512_fmadd_ps(y, pc, _mm512_set1_ps(64.9393940226683f));
    pc = _mm512_fmadd_ps(y, pc, _mm512_set1_ps(-19.739208802178716f));
    __m512 c = _mm512_fmadd_ps(y, pc, _mm512_set1_ps(1.0f));
    __mmask16 odd = _mm512_test_epi32_mask(qi, _mm512_set1_epi32(1));
    __mmask16 sneg = _mm512_test_epi32_mask(qi, _mm512_set1_epi32(2));
    __mmask16 cneg = _mm512_test_epi32_mask(_mm512_add_epi32(qi, _mm512_set1_epi32(1)), _mm512_set1_epi32(2));
    __m512 rs = _mm512_mask_blend_ps(odd, s, c);
    __m512 rc = _mm512_mask_blend_ps(odd, c, s);
    const __m512 sign = _mm512_set1_ps(-0.0f);
    *s_out = _mm512_mask_xor_ps(rs, sneg, rs, sign);
    *c_out = _mm512_mask_xor_ps(rc, cneg, rc, sign);
}

AI void sincos2pi_f64(__m512d t, __m512d *s_out, __m512d *c_out) {
    __m512i qi = _mm512_cvttpd_epi64(_mm512_fmadd_pd(_mm512_set1_pd(4.0), t, _mm512_set1_pd(0.5)));
    __m512d q = _mm512_cvtepi64_pd(qi);
    __m512d f = _mm512_fmadd_pd(q, _mm512_set1_pd(-0.25), t);
    __m512d y = _mm512_mul_pd(f, f);
    __m512d ps = _mm512_fmadd_pd(y, _mm512_set1_pd(-0.012031585942120627), _mm512_set1_pd(0.10422916220813984));
    ps = _mm512_fmadd_pd(y, ps, _mm512_set1_pd(-0.7181223017785006));
    ps = _mm512_fmadd_pd(y, ps, _mm512_set1_pd(3.819952584848282));
    ps = _mm512_fmadd_pd(y, ps, _mm512_set1_pd(-15.09464257682299));
    ps = _mm512_fmadd_pd(y, ps, _mm512_set1_pd(42.058693944897655));
    ps = _mm512_fmadd_pd(y, ps, _mm512_set1_pd(-76.70585975306139));
    ps = _mm512_fmadd_pd(y, ps, _mm512_set1_pd(81.60524927607506));
    ps = _mm512_fmadd_pd(y, ps, _mm512_set1_pd(-41.34170224039976));
    ps = _mm512_fmadd_pd(y, ps, _mm512_set1_pd(6.283185307179586));
    __m512d s = _mm512_mul_pd(f, ps);
    __m512d pc = _mm512_fmadd_pd(y, _mm512_set1_pd(0.0037798342006800396), _mm512_set1_pd(-0.03638284114254567));
    pc = _mm512_fmadd_pd(y, pc, _mm512_set1_pd(0.28200596845579123));
    pc = _mm512_fmadd_pd(y, pc, _mm512_set1_pd(-1.714390711088672));
    pc = _mm512_fmadd_pd(y, pc, _mm512_set1_pd(7.903536371318469));
    pc = _mm512_fmadd_pd(y, pc, _mm512_set1_pd(-26.4262567833744));
    pc = _mm512_fmadd_pd(y, pc, _mm512_set1_pd(60.24464137187666));
    pc = _mm512_fmadd_pd(y, pc, _mm512_set1_pd(-85.45681720669373));
    pc = _mm512_fmadd_pd(y, pc, _mm512_set1_pd(64.9393940226683));
    pc = _mm512_fmadd_pd(y, pc, _mm512_set1_pd(-19.739208802178716));
    __m512d c = _mm512_fmadd_pd(y, pc, _mm512_set1_pd(1.0));
    __mmask8 odd = _mm512_test_epi64_mask(qi, _mm512_set1_epi64(1));
    __mmask8 sneg = _mm512_test_epi64_mask(qi, _mm512_set1_epi64(2));
    __mmask8 cneg = _mm512_test_epi64_mask(_mm512_add_epi64(qi, _mm512_set1_epi64(1)), _mm512_set1_epi64(2));
    __m512d rs = _mm512_mask_blend_pd(odd, s, c);
    __m512d rc = _mm512_mask_blend_pd(odd, c, s);
    const __m512d sign = _mm512_set1_pd(-0.0);
    *s_out = _mm512_mask_xor_pd(rs, sneg, rs, sign);
    *c_out = _mm512_mask_xor_pd(rc, cneg, rc, sign);
}

/* Box-Muller (nninit__box_muller_f32): z0 = r cos, z1 = r sin. */
AI void box_muller_f32(__m512i w_u1, __m512i w_t, __m512 *z0, __m512 *z1) {
    __m512 r = _mm512_sqrt_ps(_mm512_mul_ps(_mm512_set1_ps(-2.0f), log_f32(u01_open0_f32(w_u1))));
    __m512 s, c;
    sincos2pi_f32(u01_f32(w_t), &s, &c);
    *z0 = _mm512_mul_ps(r, c);
    *z1 = _mm512_mul_ps(r, s);
}

/* nninit__box_muller_f64 of 8 blocks: x01 = words (0, 1), x23 = words (2, 3). */
AI void box_muller_f64(__m512i x01, __m512i x23, __m512d *z0, __m512d *z1) {
    __m512d r = _mm512_sqrt_pd(_mm512_mul_pd(_mm512_set1_pd(-2.0), log_f64(u01_open0_f64(x01))));
    __m512d s, c;
    sincos2pi_f64(u01_f64(x23), &s, &c);
    *z0 = _mm512_mul_pd(r, c);
    *z1 = _mm512_mul_pd(r, s);
}

/* ---- rounding to bf16 / f16 (dtype.c), result in the low 16 bits -------- */

AI __m512i to_bf16(__m512 x) {
    __m512i u = _mm512_castps_si512(x);
    __mmask16 nan =
        _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
    __m512i hi = _mm512_srli_epi32(u, 16);
    __m512i r =
        _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), _mm512_and_si512(hi, _mm512_set1_epi32(1))));
    r = _mm512_srli_epi32(r, 16);
    return _mm512_mask_or_epi32(r, nan, hi, _mm512_set1_epi32(0x0040));
}

#ifndef NNINIT_AVX512_BF16
#define NNINIT_AVX512_BF16 0
#endif

/* vfpclassps categories: QNaN 0x01, SNaN 0x80, denormal 0x20. */
#define FPCLASS_NAN      0x81
#define FPCLASS_NAN_SUBN 0xa1

/* 32 bf16 values (x0 then x1) in one vector. */
AI __m512i to_bf16_x2(__m512 x0, __m512 x1) {
    const __m512i lo16 = _mm512_set_epi16(62, 60, 58, 56, 54, 52, 50, 48, 46, 44, 42, 40, 38, 36, 34, 32, 30, 28, 26,
                                          24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
#if NNINIT_AVX512_BF16
    if (!(_mm512_fpclass_ps_mask(x0, FPCLASS_NAN_SUBN) | _mm512_fpclass_ps_mask(x1, FPCLASS_NAN_SUBN)))
        return (__m512i)_mm512_cvtne2ps_pbh(x1, x0); /* x0 in the low half */
#endif
    return _mm512_permutex2var_epi16(to_bf16(x0), lo16, to_bf16(x1));
}

AI __m512i to_f16(__m512 x) {
    __m512i u = _mm512_castps_si512(x);
    __m512i sign = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x8000));
    __m512i a = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
    /* normal results */
    __m512i odd = _mm512_and_si512(_mm512_srli_epi32(a, 13), _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(a, _mm512_add_epi32(_mm512_set1_epi32((int)0xc8000fffu), odd)), 13);
    /* >= 65536, inf included: inf */
    __mmask16 big = _mm512_cmpge_epu32_mask(a, _mm512_set1_epi32(0x47800000));
    r = _mm512_mask_mov_epi32(r, big, _mm512_set1_epi32(0x7c00));
    /* subnormal or zero: the FPU rounds a + 0.5f */
    __mmask16 tiny = _mm512_cmplt_epu32_mask(a, _mm512_set1_epi32(0x38800000));
    __m512i sub = _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(_mm512_castsi512_ps(a), _mm512_set1_ps(0.5f))),
                                   _mm512_set1_epi32(0x3f000000));
    r = _mm512_mask_mov_epi32(r, tiny, sub);
    /* NaN: quiet, top 10 payload bits kept */
    __mmask16 nan = _mm512_cmpgt_epu32_mask(a, _mm512_set1_epi32(0x7f800000));
    __m512i qn = _mm512_ternarylogic_epi32(_mm512_set1_epi32(0x7e00), _mm512_srli_epi32(a, 13),
                                           _mm512_set1_epi32(0x3ff), 0xF8); /* A | (B & C) */
    r = _mm512_mask_mov_epi32(r, nan, qn);
    return _mm512_or_si512(r, sign);
}

/* 16 f16 values; NaN lanes by the integer arithmetic. */
AI __m256i to_f16_x1(__m512 x) {
    if (_mm512_fpclass_ps_mask(x, FPCLASS_NAN)) return _mm512_cvtepi32_epi16(to_f16(x));
    return _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

/* ---- stores -------------------------------------------------------------- */

/* 64 values (4 vectors, in order) to out as dtype d (a constant where
 * inlined). Narrow results: vpermt2w keeps the low halves of two vectors. */
AI void store64(nninit_dtype d, void *out, const __m512 v[4]) {
#pragma GCC unroll 4
    for (int m = 0; m < 4; m += 2) {
        switch (d) {
        case NNINIT_F32:
            _mm512_storeu_ps((float *)out + 16 * m, v[m]);
            _mm512_storeu_ps((float *)out + 16 * m + 16, v[m + 1]);
            break;
        case NNINIT_BF16: _mm512_storeu_si512((uint16_t *)out + 16 * m, to_bf16_x2(v[m], v[m + 1])); break;
        default:
            _mm256_storeu_si256((__m256i *)((uint16_t *)out + 16 * m), to_f16_x1(v[m]));
            _mm256_storeu_si256((__m256i *)((uint16_t *)out + 16 * m + 16), to_f16_x1(v[m + 1]));
            break;
        }
    }
}

/* ---- f32 family: groups of 16 blocks = 64 elements ----------------------- */

enum {
    GEN_UNIFORM,
    GEN_NORMAL
};

typedef struct {
    float a, b, c; /* uniform: lo, width, hi; normal: mean, std */
} par_f32;

/* The 64 elements of blocks blk .. blk+15, in order. */
AI void group_f32(int gen, const round_keys *rk, const par_f32 *p, uint64_t blk, __m512 out[4]) {
    __m512i w[4];
    __m512 v[4];
    if (gen == GEN_UNIFORM) {
        philox_x16_packed(rk, blk, 0u, NNINIT_DOMAIN_UNIFORM, w);
        const __m512 lo = _mm512_set1_ps(p->a), width = _mm512_set1_ps(p->b), hi = _mm512_set1_ps(p->c);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) v[j] = _mm512_min_ps(_mm512_fmadd_ps(u01_f32(w[j]), width, lo), hi);
    } else {
        philox_x16_packed(rk, blk, 0u, NNINIT_DOMAIN_NORMAL, w);
        const __m512 mean = _mm512_set1_ps(p->a), sd = _mm512_set1_ps(p->b);
        __m512 z[4];
        box_muller_f32(w[0], w[1], &z[0], &z[1]);
        box_muller_f32(w[2], w[3], &z[2], &z[3]);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) v[j] = _mm512_fmadd_ps(z[j], sd, mean);
    }
    interleave4_ps(v, out);
}

AI void run_f32(int gen, nninit_dtype d, const uint32_t key[2], const par_f32 *p, int64_t begin, int64_t end,
                void *out) {
    const size_t es = d == NNINIT_F32 ? 4 : 2;
    round_keys rk;
    round_keys_make(key, &rk);
    uint64_t blk = (uint64_t)begin >> 2;
    for (int64_t g = (int64_t)(blk << 2); g < end; g += 64, blk += 16) {
        __m512 v[4];
        group_f32(gen, &rk, p, blk, v);
        if (g >= begin && end - g >= 64) {
            store64(d, (char *)out + (size_t)(g - begin) * es, v);
        } else { /* head or tail: stage the group, keep its part of [begin, end) */
            _Alignas(64) unsigned char tmp[64 * 4];
            store64(d, tmp, v);
            int64_t lo = g > begin ? g : begin, hi = end < g + 64 ? end : g + 64;
            memcpy((char *)out + (size_t)(lo - begin) * es, tmp + (size_t)(lo - g) * es, (size_t)(hi - lo) * es);
        }
    }
}

/* ---- f64: groups of 16 blocks = 32 elements ------------------------------ */

AI void group_f64(int gen, const round_keys *rk, double a, double b, double c, uint64_t blk, __m512d out[4]) {
    __m512i h[2][4];
    philox_x16(rk, blk, 0u, gen == GEN_UNIFORM ? NNINIT_DOMAIN_UNIFORM : NNINIT_DOMAIN_NORMAL, h);
#pragma GCC unroll 1 /* two f64 Box-Mullers at once spill registers */
    for (int k = 0; k < 2; k++) {
        __m512i x01 = join64(h[k][0], h[k][1]), x23 = join64(h[k][2], h[k][3]);
        __m512d e0, e1;
        if (gen == GEN_UNIFORM) {
            const __m512d lo = _mm512_set1_pd(a), width = _mm512_set1_pd(b), hi = _mm512_set1_pd(c);
            e0 = _mm512_min_pd(_mm512_fmadd_pd(u01_f64(x01), width, lo), hi);
            e1 = _mm512_min_pd(_mm512_fmadd_pd(u01_f64(x23), width, lo), hi);
        } else {
            const __m512d mean = _mm512_set1_pd(a), sd = _mm512_set1_pd(b);
            __m512d z0, z1;
            box_muller_f64(x01, x23, &z0, &z1);
            e0 = _mm512_fmadd_pd(z0, sd, mean);
            e1 = _mm512_fmadd_pd(z1, sd, mean);
        }
        interleave2_pd(e0, e1, &out[2 * k], &out[2 * k + 1]);
    }
}

AI void run_f64(int gen, const uint32_t key[2], double a, double b, double c, int64_t begin, int64_t end, double *out) {
    round_keys rk;
    round_keys_make(key, &rk);
    uint64_t blk = (uint64_t)begin >> 1;
    for (int64_t g = (int64_t)(blk << 1); g < end; g += 32, blk += 16) {
        __m512d v[4];
        group_f64(gen, &rk, a, b, c, blk, v);
        if (g >= begin && end - g >= 32) {
#pragma GCC unroll 4
            for (int m = 0; m < 4; m++) _mm512_storeu_pd(out + (g - begin) + 8 * m, v[m]);
        } else {
            _Alignas(64) double tmp[32];
#pragma GCC unroll 4
            for (int m = 0; m < 4; m++) _mm512_store_pd(tmp + 8 * m, v[m]);
            int64_t lo = g > begin ? g : begin, hi = end < g + 32 ? end : g + 32;
            memcpy(out + (lo - begin), tmp + (lo - g), (size_t)(hi - lo) * sizeof(double));
        }
    }
}

/* ---- entries ------------------------------------------------------------- */

/* One loop per (distribution, dtype): no dtype test inside it. */
AI void run_f32_any(int gen, nninit_dtype d, const uint32_t key[2], const par_f32 *p, int64_t begin, int64_t end,
                    void *out) {
    switch (d) {
    case NNINIT_F32: run_f32(gen, NNINIT_F32, key, p, begin, end, out); break;
    case NNINIT_BF16: run_f32(gen, NNINIT_BF16, key, p, begin, end, out); break;
    case NNINIT_F16: run_f32(gen, NNINIT_F16, key, p, begin, end, out); break;
    default: break;
    }
}

static void avx512_uniform(const uint32_t key[2], nninit_dtype d, double lo, double hi, int64_t begin, int64_t end,
                           void *out) {
    if (begin >= end) return;
    if (d == NNINIT_F64) {
        double width = hi - lo;
        if (!isfinite(lo) || !isfinite(hi) || !isfinite(width) || hi == 0.0) {
            nninit__scalar_set.uniform(key, d, lo, hi, begin, end, out);
            return;
        }
        run_f64(GEN_UNIFORM, key, lo, width, hi, begin, end, out);
        return;
    }
    par_f32 p = {(float)lo, (float)(hi - lo), (float)hi};
    if (!isfinite(p.a) || !isfinite(p.b) || !isfinite(p.c) || p.c == 0.0f || d > NNINIT_F16) {
        nninit__scalar_set.uniform(key, d, lo, hi, begin, end, out);
        return;
    }
    run_f32_any(GEN_UNIFORM, d, key, &p, begin, end, out);
}

static void avx512_normal(const uint32_t key[2], nninit_dtype d, double mean, double std, int64_t begin, int64_t end,
                          void *out) {
    if (begin >= end) return;
    if (d == NNINIT_F64) {
        if (!isfinite(mean) || !isfinite(std)) {
            nninit__scalar_set.normal(key, d, mean, std, begin, end, out);
            return;
        }
        run_f64(GEN_NORMAL, key, mean, std, 0.0, begin, end, out);
        return;
    }
    par_f32 p = {(float)mean, (float)std, 0.0f};
    if (!isfinite(p.a) || !isfinite(p.b) || d > NNINIT_F16) {
        nninit__scalar_set.normal(key, d, mean, std, begin, end, out);
        return;
    }
    run_f32_any(GEN_NORMAL, d, key, &p, begin, end, out);
}

/* ---- truncated normal: first attempt vectorized ---------------------------
 * trunc_normal_at (fill_kernels.c) per element i, attempt 0 (counter (i, i>>32,
 * 0, TRUNC)) for 8 lanes at a time; a lane the first attempt rejects takes the
 * scalar trunc_normal_at, a pure function of (key, i) that recomputes the same
 * attempt 0 and goes on: the value is the scalar one either way. The mode is
 * chosen once per call, by the scalar code's expressions. */

/* nninit__store_f64's double -> float rounded to odd (nninit__f64_to_f32_odd). */
AI __m256 f64_to_f32_odd(__m512d v) {
    __m256 f = _mm512_cvtpd_ps(v);
    __m512d back = _mm512_cvtps_pd(f);
    __mmask8 keep = _mm512_cmp_pd_mask(back, v, _CMP_EQ_OQ) | _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q);
    __mmask8 down = _mm512_cmp_pd_mask(_mm512_abs_pd(back), _mm512_abs_pd(v), _CMP_GT_OQ);
    __m256i b = _mm256_castps_si256(f);
    b = _mm256_mask_sub_epi32(b, down, b, _mm256_set1_epi32(1));
    b = _mm256_or_si256(b, _mm256_set1_epi32(1));
    return _mm256_mask_blend_ps(keep, _mm256_castsi256_ps(b), f);
}

typedef struct {
    int mode, mirror;
    double a, b, lam, mean, std, za, zb, va, vb;
} trunc_par;

/* Attempt 0 of the 8 elements whose words are h[0..3]; *x the values of the
 * lanes it returns set. */
AI __mmask8 trunc_attempt0(int mode, const trunc_par *p, const __m512i h[4], __m512d *x) {
    const __m512d a = _mm512_set1_pd(p->a), b = _mm512_set1_pd(p->b);
    const __m512d flip = _mm512_set1_pd(p->mirror ? -0.0 : 0.0);
    const __m512d sd = _mm512_set1_pd(p->std), mean = _mm512_set1_pd(p->mean);
    const __m512d va = _mm512_set1_pd(p->va), vb = _mm512_set1_pd(p->vb);
    __m512i x01 = join64(h[0], h[1]), x23 = join64(h[2], h[3]);
    if (mode == 0) {
        __m512d z0, z1;
        box_muller_f64(x01, x23, &z0, &z1);
        __mmask8 c0 = _mm512_cmp_pd_mask(z0, a, _CMP_GE_OQ) & _mm512_cmp_pd_mask(z0, b, _CMP_LE_OQ);
        __mmask8 c1 = _mm512_cmp_pd_mask(z1, a, _CMP_GE_OQ) & _mm512_cmp_pd_mask(z1, b, _CMP_LE_OQ);
        __m512d x0 = _mm512_fmadd_pd(sd, _mm512_xor_pd(z0, flip), mean);
        __m512d x1 = _mm512_fmadd_pd(sd, _mm512_xor_pd(z1, flip), mean);
        c0 &= _mm512_cmp_pd_mask(x0, va, _CMP_GE_OQ) & _mm512_cmp_pd_mask(x0, vb, _CMP_LE_OQ);
        c1 &= _mm512_cmp_pd_mask(x1, va, _CMP_GE_OQ) & _mm512_cmp_pd_mask(x1, vb, _CMP_LE_OQ);
        *x = _mm512_mask_blend_pd(c0, x1, x0);
        return c0 | c1;
    }
    __m512d z, lu, lim;
    __mmask8 ok;
    if (mode == 1 || mode == 2) {
        z = _mm512_fmadd_pd(u01_f64(x01), _mm512_set1_pd(p->b - p->a), a);
        lu = log_f64(u01_open0_f64(x23));
        if (mode == 1) lim = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(-0.5), z), z);
        else lim = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(0.5), _mm512_sub_pd(a, z)), _mm512_add_pd(a, z));
        ok = _mm512_cmp_pd_mask(z, a, _CMP_GE_OQ) & _mm512_cmp_pd_mask(z, b, _CMP_LE_OQ);
    } else {
        const __m512d lam = _mm512_set1_pd(p->lam);
        __m512d e = _mm512_xor_pd(log_f64(u01_open0_f64(x01)), _mm512_set1_pd(-0.0));
        z = _mm512_add_pd(a, _mm512_div_pd(e, lam));
        lu = log_f64(u01_open0_f64(x23));
        __m512d dz = _mm512_sub_pd(z, lam);
        lim = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(-0.5), dz), dz);
        ok = _mm512_cmp_pd_mask(z, b, _CMP_LE_OQ);
    }
    ok &= _mm512_cmp_pd_mask(lu, lim, _CMP_LE_OQ);
    *x = _mm512_fmadd_pd(sd, _mm512_xor_pd(z, flip), mean);
    return ok & _mm512_cmp_pd_mask(*x, va, _CMP_GE_OQ) & _mm512_cmp_pd_mask(*x, vb, _CMP_LE_OQ);
}

AI void run_trunc(int mode, nninit_dtype d, const uint32_t key[2], const trunc_par *p, int64_t begin, int64_t end,
                  void *out) {
    const size_t es = d == NNINIT_F64 ? 8 : d == NNINIT_F32 ? 4 : 2;
    round_keys rk;
    round_keys_make(key, &rk);
    for (int64_t g = begin; g < end; g += 16) {
        int64_t n = end - g < 16 ? end - g : 16;
        __m512i h[2][4];
        philox_x16(&rk, (uint64_t)g, 0u, NNINIT_DOMAIN_TRUNC, h);
        _Alignas(64) double x[16];
#pragma GCC unroll 1
        for (int k = 0; k < 2; k++) {
            __m512d v;
            unsigned acc = trunc_attempt0(mode, p, h[k], &v);
            _mm512_store_pd(x + 8 * k, v);
            unsigned rej = ~acc & 0xffu;
            while (rej) {
                int j = __builtin_ctz(rej) + 8 * k;
                rej &= rej - 1;
                if (j < n)
                    x[j] = nninit__scalar_set.trunc_normal_at(key, g + j, p->mean, p->std, p->za, p->zb, p->va, p->vb);
            }
        }
        _Alignas(64) unsigned char tmp[16 * 8];
        unsigned char *dst = n == 16 ? (unsigned char *)out + (size_t)(g - begin) * es : tmp;
        switch (d) {
        case NNINIT_F64:
            _mm512_storeu_pd(dst, _mm512_load_pd(x));
            _mm512_storeu_pd(dst + 64, _mm512_load_pd(x + 8));
            break;
        case NNINIT_F32:
            _mm256_storeu_ps((float *)dst, _mm512_cvtpd_ps(_mm512_load_pd(x)));
            _mm256_storeu_ps((float *)dst + 8, _mm512_cvtpd_ps(_mm512_load_pd(x + 8)));
            break;
        default: {
            __m512 f = _mm512_insertf32x8(_mm512_castps256_ps512(f64_to_f32_odd(_mm512_load_pd(x))),
                                          f64_to_f32_odd(_mm512_load_pd(x + 8)), 1);
            _mm256_storeu_si256((__m256i *)dst, d == NNINIT_BF16 ? _mm512_cvtepi32_epi16(to_bf16(f)) : to_f16_x1(f));
            break;
        }
        }
        if (n < 16) memcpy((unsigned char *)out + (size_t)(g - begin) * es, tmp, (size_t)n * es);
    }
}

static void avx512_trunc_normal(const uint32_t key[2], nninit_dtype d, const nninit__plan *pl, int64_t begin,
                                int64_t end, void *out) {
    if (begin >= end) return;
    trunc_par p = {0, 0, 0, 0, 0, pl->mean, pl->std, pl->za, pl->zb, pl->va, pl->vb};
    const nninit__trunc_mode tm = nninit__trunc_mode_of(pl->za, pl->zb); /* the scalar set's choice */
    p.mode = tm.mode, p.mirror = tm.mirror, p.a = tm.a, p.b = tm.b, p.lam = tm.lam;
    if (!isfinite(p.mean) || !isfinite(p.std) || isnan(p.a) || isnan(p.b) || isnan(p.va) || isnan(p.vb) ||
        d > NNINIT_F16) {
        nninit__scalar_set.trunc_normal(key, d, pl, begin, end, out);
        return;
    }
#define RUN(m, dt) run_trunc(m, (nninit_dtype)(dt), key, &p, begin, end, out)
    NNINIT_TRUNC_DISPATCH(RUN, tm.mode, d);
#undef RUN
}

static double avx512_trunc_normal_at(const uint32_t key[2], int64_t i, double mean, double std, double za, double zb,
                                     double va, double vb) {
    return nninit__scalar_set.trunc_normal_at(key, i, mean, std, za, zb, va, vb);
}

#if NNINIT_AVX512_BF16
const nninit__kernel_set nninit__avx512bf16_set = {"avx512bf16", avx512_uniform, avx512_normal, avx512_trunc_normal,
                                                   avx512_trunc_normal_at};
#else
const nninit__kernel_set nninit__avx512_set = {"avx512", avx512_uniform, avx512_normal, avx512_trunc_normal,
                                               avx512_trunc_normal_at};
#endif

#endif

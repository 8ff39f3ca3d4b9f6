/* kernels_avx2.c -- the AVX2 + FMA kernel set: fill_kernels.c's scalar
 * definition computed 8 Philox blocks at a time, bit for bit the same.
 *
 * Compiled with -mavx2 -mfma -ffp-contract=off and called only after CPUID
 * said yes (fill_kernels.c). Every step is the scalar step with the same IEEE
 * operation in each lane (fmaf -> vfmadd, sqrtf -> vsqrtps, / -> vdivps, the
 * same constants), so the rounding is the same; only the integer <-> float
 * conversions differ in instruction, and each is exact on its domain (noted
 * where used). tests/test_kernels.c compares this set with the scalar one.
 *
 * Layout: 8 consecutive blocks at a time, "structure of arrays": vector w[j]
 * holds word j of blocks b .. b+7 (Philox itself runs on even and odd blocks
 * in 64-bit lanes, see philox4_round). The f32 family gets 32 elements per 8
 * blocks (a 4x8 transpose puts them in index order); f64 gets 16. A range's
 * partial first and last groups are computed in full into a stack buffer and
 * the needed elements copied out, so heads and tails run the same code.
 *
 * The truncated normal vectorizes its first attempt (below) and hands the
 * lanes it rejects to the scalar trunc_normal_at. Not vectorized (the scalar
 * set's entries): any call whose parameters are not finite (there the NaN
 * payloads would need separate care; no scheme passes such parameters). */
#include "rng/kernels.h"

#ifdef NNINIT_HAVE_X86_SETS

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "rng/philox.h"
#include "rng/transform.h"

/* ---- Philox4x32-10 on 8 blocks ------------------------------------------ */
typedef struct {
    __m256i k0[10], k1[10]; /* the round keys, bumped as nninit__philox4x32_10 */
} keys8;

static void keys8_init(keys8 *K, const uint32_t key[2]) {
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r) {
            k0 += NNINIT_PHILOX_W0;
            k1 += NNINIT_PHILOX_W1;
        }
        K->k0[r] = _mm256_set1_epi32((int)k0);
        K->k1[r] = _mm256_set1_epi32((int)k1);
    }
}

/* 4 blocks per vector, one 32-bit word per 64-bit lane, in its low half: the
 * form _mm256_mul_epu32 multiplies (it ignores the high halves), so a round
 * is 2 multiplies, 2 shifts (the high words down) and 4 xors per 4 blocks,
 * and a product's low word needs no move at all. The high halves carry
 * garbage that never reaches a low half. */
NNINIT_INLINE void philox4_round(__m256i c[4], __m256i k0, __m256i k1, __m256i m0, __m256i m1) {
    __m256i p0 = _mm256_mul_epu32(c[0], m0);
    __m256i p1 = _mm256_mul_epu32(c[2], m1);
    /* the key xor first: off the multiply's dependency chain */
    c[0] = _mm256_xor_si256(_mm256_srli_epi64(p1, 32), _mm256_xor_si256(c[1], k0));
    c[1] = p1;
    c[2] = _mm256_xor_si256(_mm256_srli_epi64(p0, 32), _mm256_xor_si256(c[3], k1));
    c[3] = p0;
}

/* w[0..3]: words 0..3 of blocks b .. b+7 (lane j: block b + j), counter
 * (b_lo, b_hi, 0, domain). Even blocks b, b+2, .. in e[], odd ones in o[]. */
NNINIT_INLINE void philox8(const keys8 *K, uint64_t b, uint32_t domain, __m256i w[4]) {
    const __m256i m0 = _mm256_set1_epi64x(NNINIT_PHILOX_M0);
    const __m256i m1 = _mm256_set1_epi64x(NNINIT_PHILOX_M1);
    /* 64-bit lanes: b+0, b+2, b+4, b+6 and b+1, .., b+7 (b < 2^62: no wrap) */
    __m256i be = _mm256_add_epi64(_mm256_set1_epi64x((long long)b), _mm256_setr_epi64x(0, 2, 4, 6));
    __m256i bo = _mm256_add_epi64(be, _mm256_set1_epi64x(1));
    __m256i dom = _mm256_set1_epi64x(domain);
    __m256i e[4] = {be, _mm256_srli_epi64(be, 32), _mm256_setzero_si256(), dom};
    __m256i o[4] = {bo, _mm256_srli_epi64(bo, 32), _mm256_setzero_si256(), dom};
#pragma GCC unroll 10
    for (int r = 0; r < 10; r++) {
        philox4_round(e, K->k0[r], K->k1[r], m0, m1);
        philox4_round(o, K->k0[r], K->k1[r], m0, m1);
    }
    for (int j = 0; j < 4; j++) w[j] = _mm256_blend_epi32(e[j], _mm256_slli_epi64(o[j], 32), 0xAA);
}

/* ---- f32 transforms (transform.h, lane by lane) -------------------------- */
#define I32(x) _mm256_set1_epi32((int)(x))
#define F32(x) _mm256_set1_ps(x)

/* (float)(w >> 8): below 2^24, so the signed conversion is exact. */
NNINIT_INLINE __m256 top24(__m256i w) { return _mm256_cvtepi32_ps(_mm256_srli_epi32(w, 8)); }

NNINIT_INLINE __m256 u01_f32_8(__m256i w) { return _mm256_mul_ps(top24(w), F32(0x1p-24f)); }

NNINIT_INLINE __m256 u01_open0_f32_8(__m256i w) {
    __m256 low = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_and_si256(w, I32(0xffu)), I32(1)));
    return _mm256_fmadd_ps(top24(w), F32(0x1p-24f), _mm256_mul_ps(low, F32(0x1p-32f)));
}

/* The transforms below work on two vectors in step (EACH(h) spelled out per
 * statement): every step is a chain of fmas, divides and square roots whose
 * latency, not the number of operations, bounds one vector; two chains
 * interleaved in program order fill the pipes. */
#define EACH(h) _Pragma("GCC unroll 2") for (int h = 0; h < 2; h++)

NNINIT_INLINE void log_f32_8x2(const __m256 x[2], __m256 out[2]) {
    __m256i ix[2], k[2];
    __m256 m[2], f[2], s[2], z[2], p[2], two_s[2], lm[2], kf[2];
    EACH(h) ix[h] = _mm256_add_epi32(_mm256_castps_si256(x[h]), I32(0x3f800000u - 0x3f3504f3u));
    EACH(h) k[h] = _mm256_sub_epi32(_mm256_srli_epi32(ix[h], 23), I32(0x7f));
    EACH(h) m[h] = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_and_si256(ix[h], I32(0x007fffffu)), I32(0x3f3504f3u)));
    EACH(h) f[h] = _mm256_sub_ps(m[h], F32(1.0f));
    EACH(h) s[h] = _mm256_div_ps(f[h], _mm256_add_ps(F32(2.0f), f[h]));
    EACH(h) z[h] = _mm256_mul_ps(s[h], s[h]);
    EACH(h) p[h] = _mm256_fmadd_ps(z[h], F32(1.0f / 11.0f), F32(1.0f / 9.0f));
    EACH(h) p[h] = _mm256_fmadd_ps(z[h], p[h], F32(1.0f / 7.0f));
    EACH(h) p[h] = _mm256_fmadd_ps(z[h], p[h], F32(1.0f / 5.0f));
    EACH(h) p[h] = _mm256_fmadd_ps(z[h], p[h], F32(1.0f / 3.0f));
    EACH(h) p[h] = _mm256_mul_ps(z[h], p[h]);
    EACH(h) two_s[h] = _mm256_add_ps(s[h], s[h]);
    EACH(h) lm[h] = _mm256_fmadd_ps(two_s[h], p[h], two_s[h]);
    EACH(h) kf[h] = _mm256_cvtepi32_ps(k[h]); /* k in [-33, 0]: exact */
    EACH(h) out[h] = _mm256_fmadd_ps(kf[h], F32(0x1.62e3p-1f), _mm256_fmadd_ps(kf[h], F32(9.0580006145e-06f), lm[h]));
}

NNINIT_INLINE void sincos2pi_f32_8x2(const __m256 t[2], __m256 s_out[2], __m256 c_out[2]) {
    __m256i qi[2];
    __m256 q[2], f[2], y[2], ps[2], s[2], pc[2], c[2];
    /* 4t + 1/2 in [0.5, 4.5): truncation is floor, as (int32_t) in C */
    EACH(h) qi[h] = _mm256_cvttps_epi32(_mm256_fmadd_ps(F32(4.0f), t[h], F32(0.5f)));
    EACH(h) q[h] = _mm256_cvtepi32_ps(qi[h]);
    EACH(h) f[h] = _mm256_fmadd_ps(q[h], F32(-0.25f), t[h]);
    EACH(h) y[h] = _mm256_mul_ps(f[h], f[h]);
    EACH(h) ps[h] = _mm256_fmadd_ps(y[h], F32(-15.09464257682299f), F32(42.058693944897655f));
    EACH(h) pc[h] = _mm256_fmadd_ps(y[h], F32(7.903536371318469f), F32(-26.4262567833744f));
    EACH(h) ps[h] = _mm256_fmadd_ps(y[h], ps[h], F32(-76.70585975306139f));
    EACH(h) pc[h] = _mm256_fmadd_ps(y[h], pc[h], F32(60.24464137187666f));
    EACH(h) ps[h] = _mm256_fmadd_ps(y[h], ps[h], F32(81.60524927607506f));
    EACH(h) pc[h] = _mm256_fmadd_ps(y[h], pc[h], F32(-85.45681720669373f));
    EACH(h) ps[h] = _mm256_fmadd_ps(y[h], ps[h], F32(-41.34170224039976f));
    EACH(h) pc[h] = _mm256_fmadd_ps(y[h], pc[h], F32(64.9393940226683f));
    EACH(h) ps[h] = _mm256_fmadd_ps(y[h], ps[h], F32(6.283185307179586f));
    EACH(h) pc[h] = _mm256_fmadd_ps(y[h], pc[h], F32(-19.739208802178716f));
    EACH(h) s[h] = _mm256_mul_ps(f[h], ps[h]);
    EACH(h) c[h] = _mm256_fmadd_ps(y[h], pc[h], F32(1.0f));
    const __m256i sign = I32(0x80000000u);
    EACH(h) {
        __m256 swap = _mm256_castsi256_ps(_mm256_slli_epi32(qi[h], 31)); /* quad & 1 -> sign bit */
        __m256 rs = _mm256_blendv_ps(s[h], c[h], swap);
        __m256 rc = _mm256_blendv_ps(c[h], s[h], swap);
        __m256i ns = _mm256_and_si256(_mm256_slli_epi32(qi[h], 30), sign);                           /* quad & 2 */
        __m256i nc = _mm256_and_si256(_mm256_slli_epi32(_mm256_add_epi32(qi[h], I32(1)), 30), sign); /* (quad+1) & 2 */
        s_out[h] = _mm256_xor_ps(rs, _mm256_castsi256_ps(ns));
        c_out[h] = _mm256_xor_ps(rc, _mm256_castsi256_ps(nc));
    }
}

/* Box-Muller of (u1 word wu[h], t word wt[h]) in each lane: z0 = r cos,
 * z1 = r sin. */
NNINIT_INLINE void box_muller_f32_8x2(const __m256i wu[2], const __m256i wt[2], __m256 z0[2], __m256 z1[2]) {
    __m256 u[2], lg[2], r[2], t[2], s[2], c[2];
    EACH(h) u[h] = u01_open0_f32_8(wu[h]);
    EACH(h) t[h] = u01_f32_8(wt[h]);
    log_f32_8x2(u, lg);
    sincos2pi_f32_8x2(t, s, c);
    EACH(h) r[h] = _mm256_sqrt_ps(_mm256_mul_ps(F32(-2.0f), lg[h]));
    EACH(h) z0[h] = _mm256_mul_ps(r[h], c[h]);
    EACH(h) z1[h] = _mm256_mul_ps(r[h], s[h]);
}

/* ---- narrow dtypes (core/dtype.c, lane by lane) ---------------------------
 * Results are 16-bit values in 32-bit lanes. */
NNINIT_INLINE __m256i to_bf16_8(__m256 x) {
    __m256i u = _mm256_castps_si256(x);
    __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, I32(0x7fffffffu)), I32(0x7f800000u));
    __m256i hi = _mm256_srli_epi32(u, 16);
    __m256i r =
        _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(I32(0x7fffu), _mm256_and_si256(hi, I32(1)))), 16);
    return _mm256_blendv_epi8(r, _mm256_or_si256(hi, I32(0x0040u)), nan);
}

NNINIT_INLINE __m256i to_f16_8(__m256 x) {
    __m256i u = _mm256_castps_si256(x);
    __m256i sign = _mm256_and_si256(_mm256_srli_epi32(u, 16), I32(0x8000u));
    __m256i a = _mm256_and_si256(u, I32(0x7fffffffu)); /* non-negative: signed compares below are exact */
    __m256i nanv = _mm256_or_si256(I32(0x7e00u), _mm256_and_si256(_mm256_srli_epi32(a, 13), I32(0x3ffu)));
    __m256i infnan = _mm256_blendv_epi8(I32(0x7c00u), nanv, _mm256_cmpgt_epi32(a, I32(0x7f800000u)));
    __m256 fs = _mm256_add_ps(_mm256_castsi256_ps(a), F32(0.5f)); /* subnormal: the FPU rounds */
    __m256i sub = _mm256_sub_epi32(_mm256_castps_si256(fs), I32(0x3f000000u));
    __m256i odd = _mm256_and_si256(_mm256_srli_epi32(a, 13), I32(1));
    __m256i r = _mm256_srli_epi32(_mm256_add_epi32(a, _mm256_add_epi32(I32(0xc8000fffu), odd)), 13);
    r = _mm256_blendv_epi8(r, sub, _mm256_cmpgt_epi32(I32(0x38800000u), a));
    r = _mm256_blendv_epi8(r, I32(0x7c00u), _mm256_cmpgt_epi32(a, I32(0x477fffffu)));
    r = _mm256_blendv_epi8(r, infnan, _mm256_cmpgt_epi32(a, I32(0x7f7fffffu)));
    return _mm256_or_si256(r, sign);
}

/* ---- f32 family: groups of 8 blocks = 32 elements ------------------------ */
enum {
    KIND_UNIFORM,
    KIND_NORMAL
};

typedef struct {
    __m256 a, b, c; /* uniform: width, lo, hi; normal: std, mean */
} par8;

/* 4x8 transpose: v[w] lane j (word w of block j) -> o[k] = blocks 2k', in
 * index order: o[0] elements 0..7, o[1] 8..15, o[2] 16..23, o[3] 24..31. */
NNINIT_INLINE void transpose4x8(const __m256 v[4], __m256 o[4]) {
    __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]); /* b0: w0 w1, b1: w0 w1 | b4, b5 */
    __m256 t1 = _mm256_unpackhi_ps(v[0], v[1]); /* b2, b3 | b6, b7 */
    __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]);
    __m256 t3 = _mm256_unpackhi_ps(v[2], v[3]);
    __m256 s0 = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t0), _mm256_castps_pd(t2))); /* b0 | b4 */
    __m256 s1 = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t0), _mm256_castps_pd(t2))); /* b1 | b5 */
    __m256 s2 = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t1), _mm256_castps_pd(t3))); /* b2 | b6 */
    __m256 s3 = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t1), _mm256_castps_pd(t3))); /* b3 | b7 */
    o[0] = _mm256_permute2f128_ps(s0, s1, 0x20);
    o[1] = _mm256_permute2f128_ps(s2, s3, 0x20);
    o[2] = _mm256_permute2f128_ps(s0, s1, 0x31);
    o[3] = _mm256_permute2f128_ps(s2, s3, 0x31);
}

NNINIT_INLINE uint32_t domain_of(int kind) {
    return kind == KIND_UNIFORM ? NNINIT_DOMAIN_UNIFORM : NNINIT_DOMAIN_NORMAL;
}

/* The 32 values of 8 blocks' words w, in index order. */
NNINIT_INLINE void group_f32(int kind, const par8 *P, const __m256i w[4], __m256 o[4]) {
    __m256 v[4];
    if (kind == KIND_UNIFORM) {
        /* fma(u01(w), width, lo) as fma(w >> 8, width 2^-24, lo): the same
         * exact product, as P->a = width 2^-24 is exact (avx2_uniform checks).
         * The cap x > hi ? hi : x (fill_kernels.c) is vminps(hi, x), which
         * returns its second operand unless the first is smaller. */
        for (int j = 0; j < 4; j++) v[j] = _mm256_min_ps(P->c, _mm256_fmadd_ps(top24(w[j]), P->a, P->b));
    } else {
        /* lanes (0, 1) from words (0, 1), lanes (2, 3) from words (2, 3) */
        const __m256i wu[2] = {w[0], w[2]}, wt[2] = {w[1], w[3]};
        __m256 z0[2], z1[2];
        box_muller_f32_8x2(wu, wt, z0, z1);
        v[0] = z0[0], v[1] = z1[0], v[2] = z0[1], v[3] = z1[1];
        for (int j = 0; j < 4; j++) v[j] = _mm256_fmadd_ps(v[j], P->a, P->b);
    }
    transpose4x8(v, o);
}

/* 32 elements o[0..3] to dst as dtype d (constant at each call site). */
NNINIT_INLINE void store_group_f32(nninit_dtype d, const __m256 o[4], void *dst) {
    if (d == NNINIT_F32) {
        for (int j = 0; j < 4; j++) _mm256_storeu_ps((float *)dst + 8 * j, o[j]);
        return;
    }
    for (int j = 0; j < 4; j += 2) {
        __m256i a = d == NNINIT_BF16 ? to_bf16_8(o[j]) : to_f16_8(o[j]);
        __m256i c = d == NNINIT_BF16 ? to_bf16_8(o[j + 1]) : to_f16_8(o[j + 1]);
        /* values <= 0xffff: unsigned saturation keeps them; packs work per 128-bit half */
        __m256i h = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, c), 0xD8);
        _mm256_storeu_si256((__m256i *)((uint16_t *)dst + 8 * j), h);
    }
}

/* Elements skip .. skip+n-1 of the group of words w to dst: the whole group
 * to a buffer, then the part wanted (a range's partial first / last group). */
NNINIT_INLINE void part_f32(int kind, nninit_dtype d, const par8 *P, const __m256i w[4], int64_t skip, int64_t n,
                            char *dst) {
    const size_t sz = d == NNINIT_F32 ? 4 : 2;
    _Alignas(32) char tmp[32 * 4];
    __m256 o[4];
    group_f32(kind, P, w, o);
    store_group_f32(d, o, tmp);
    memcpy(dst, tmp + (size_t)skip * sz, (size_t)n * sz);
}

NNINIT_INLINE void fill_f32fam(int kind, nninit_dtype d, const uint32_t key[2], const par8 *P, int64_t begin,
                               int64_t end, void *out) {
    const size_t sz = d == NNINIT_F32 ? 4 : 2;
    const uint32_t dom = domain_of(kind);
    char *dst = out;
    keys8 K;
    keys8_init(&K, key);
    __m256i w[4], wn[4];
    int64_t i = begin;
    if ((i & 3) || end - i < 32) { /* a partial first group */
        int64_t g0 = i & ~(int64_t)3, stop = g0 + 32 < end ? g0 + 32 : end;
        philox8(&K, (uint64_t)g0 >> 2, dom, w);
        part_f32(kind, d, P, w, i - g0, stop - i, dst);
        i = stop;
    }
    if (i == end) return;
    /* i is a multiple of 4 now. Whole groups: the next group's Philox is
     * issued before this group's transform, so that the two dependency chains
     * overlap; that computes one spare group at the end, which the partial
     * last group uses if there is one. */
    philox8(&K, (uint64_t)i >> 2, dom, w);
    for (; end - i >= 32; i += 32) {
        __m256 o[4];
        philox8(&K, ((uint64_t)i >> 2) + 8, dom, wn);
        group_f32(kind, P, w, o);
        store_group_f32(d, o, dst + (size_t)(i - begin) * sz);
        for (int j = 0; j < 4; j++) w[j] = wn[j];
    }
    if (i < end) part_f32(kind, d, P, w, 0, end - i, dst + (size_t)(i - begin) * sz);
}

/* ---- f64 transforms --------------------------------------------------------
 * AVX2 has no 64-bit integer <-> double conversion. For an integer x < 2^52
 * in a 64-bit lane, the double with bits 0x4330000000000000 | x is 2^52 + x
 * exactly, and subtracting 2^52 is exact (Sterbenz): (double)x. */
#define I64(x) _mm256_set1_epi64x((long long)(x))
#define F64(x) _mm256_set1_pd(x)

NNINIT_INLINE __m256d small_u64_to_f64(__m256i x) {
    return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(x, I64(0x4330000000000000ull))), F64(0x1p52));
}

/* (double) of the 53 bits (hi:lo) >> 11, per 64-bit lane holding hi:lo.
 * v = vh 2^32 + vl with vh < 2^21, vl < 2^32, both converted exactly; the fma
 * is exact because v < 2^53 is a double. */
NNINIT_INLINE __m256d top53(__m256i hilo) {
    __m256i v = _mm256_srli_epi64(hilo, 11);
    __m256d vh = small_u64_to_f64(_mm256_srli_epi64(v, 32));
    __m256d vl = small_u64_to_f64(_mm256_and_si256(v, I64(0xffffffffu)));
    return _mm256_fmadd_pd(vh, F64(0x1p32), vl);
}

NNINIT_INLINE __m256d u01_f64_4(__m256i hilo) { return _mm256_mul_pd(top53(hilo), F64(0x1p-53)); }

/* (v + 1) 2^-53: v + 1 <= 2^53 is a double, so adding 1.0 is exact. */
NNINIT_INLINE __m256d u01_open0_f64_4(__m256i hilo) {
    return _mm256_mul_pd(_mm256_add_pd(top53(hilo), F64(1.0)), F64(0x1p-53));
}

NNINIT_INLINE void log_f64_4x2(const __m256d x[2], __m256d out[2]) {
    __m256i ix[2];
    __m256d kd[2], m[2], f[2], s[2], z[2], p[2], two_s[2], lm[2];
    EACH(h) ix[h] = _mm256_add_epi64(_mm256_castpd_si256(x[h]), I64(0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull));
    /* k = (ix >> 52) - 0x3ff: (double)(ix >> 52) exactly (< 2^11), minus 1023 exactly */
    EACH(h) kd[h] = _mm256_sub_pd(small_u64_to_f64(_mm256_srli_epi64(ix[h], 52)), F64(1023.0));
    EACH(h)
    m[h] = _mm256_castsi256_pd(
        _mm256_add_epi64(_mm256_and_si256(ix[h], I64(0x000fffffffffffffull)), I64(0x3fe6a09e667f3bcdull)));
    EACH(h) f[h] = _mm256_sub_pd(m[h], F64(1.0));
    EACH(h) s[h] = _mm256_div_pd(f[h], _mm256_add_pd(F64(2.0), f[h]));
    EACH(h) z[h] = _mm256_mul_pd(s[h], s[h]);
    EACH(h) p[h] = _mm256_fmadd_pd(z[h], F64(1.0 / 23.0), F64(1.0 / 21.0));
    EACH(h) p[h] = _mm256_fmadd_pd(z[h], p[h], F64(1.0 / 19.0));
    EACH(h) p[h] = _mm256_fmadd_pd(z[h], p[h], F64(1.0 / 17.0));
    EACH(h) p[h] = _mm256_fmadd_pd(z[h], p[h], F64(1.0 / 15.0));
    EACH(h) p[h] = _mm256_fmadd_pd(z[h], p[h], F64(1.0 / 13.0));
    EACH(h) p[h] = _mm256_fmadd_pd(z[h], p[h], F64(1.0 / 11.0));
    EACH(h) p[h] = _mm256_fmadd_pd(z[h], p[h], F64(1.0 / 9.0));
    EACH(h) p[h] = _mm256_fmadd_pd(z[h], p[h], F64(1.0 / 7.0));
    EACH(h) p[h] = _mm256_fmadd_pd(z[h], p[h], F64(1.0 / 5.0));
    EACH(h) p[h] = _mm256_fmadd_pd(z[h], p[h], F64(1.0 / 3.0));
    EACH(h) p[h] = _mm256_mul_pd(z[h], p[h]);
    EACH(h) two_s[h] = _mm256_add_pd(s[h], s[h]);
    EACH(h) lm[h] = _mm256_fmadd_pd(two_s[h], p[h], two_s[h]);
    EACH(h)
    out[h] = _mm256_fmadd_pd(kd[h], F64(6.93147180369123816490e-01),
                             _mm256_fmadd_pd(kd[h], F64(1.90821492927058770002e-10), lm[h]));
}

NNINIT_INLINE void sincos2pi_f64_4x2(const __m256d t[2], __m256d s_out[2], __m256d c_out[2]) {
    __m256d q[2], f[2], y[2], ps[2], pc[2], s[2], c[2];
    /* fma(4, t, 0.5) in [0.5, 4.5): (double)(int64_t) of it is its truncation */
    EACH(h) q[h] = _mm256_round_pd(_mm256_fmadd_pd(F64(4.0), t[h], F64(0.5)), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    EACH(h) f[h] = _mm256_fmadd_pd(q[h], F64(-0.25), t[h]);
    EACH(h) y[h] = _mm256_mul_pd(f[h], f[h]);
    EACH(h) ps[h] = _mm256_fmadd_pd(y[h], F64(-0.012031585942120627), F64(0.10422916220813984));
    EACH(h) pc[h] = _mm256_fmadd_pd(y[h], F64(0.0037798342006800396), F64(-0.03638284114254567));
    EACH(h) ps[h] = _mm256_fmadd_pd(y[h], ps[h], F64(-0.7181223017785006));
    EACH(h) pc[h] = _mm256_fmadd_pd(y[h], pc[h], F64(0.28200596845579123));
    EACH(h) ps[h] = _mm256_fmadd_pd(y[h], ps[h], F64(3.819952584848282));
    EACH(h) pc[h] = _mm256_fmadd_pd(y[h], pc[h], F64(-1.714390711088672));
    EACH(h) ps[h] = _mm256_fmadd_pd(y[h], ps[h], F64(-15.09464257682299));
    EACH(h) pc[h] = _mm256_fmadd_pd(y[h], pc[h], F64(7.903536371318469));
    EACH(h) ps[h] = _mm256_fmadd_pd(y[h], ps[h], F64(42.058693944897655));
    EACH(h) pc[h] = _mm256_fmadd_pd(y[h], pc[h], F64(-26.4262567833744));
    EACH(h) ps[h] = _mm256_fmadd_pd(y[h], ps[h], F64(-76.70585975306139));
    EACH(h) pc[h] = _mm256_fmadd_pd(y[h], pc[h], F64(60.24464137187666));
    EACH(h) ps[h] = _mm256_fmadd_pd(y[h], ps[h], F64(81.60524927607506));
    EACH(h) pc[h] = _mm256_fmadd_pd(y[h], pc[h], F64(-85.45681720669373));
    EACH(h) ps[h] = _mm256_fmadd_pd(y[h], ps[h], F64(-41.34170224039976));
    EACH(h) pc[h] = _mm256_fmadd_pd(y[h], pc[h], F64(64.9393940226683));
    EACH(h) ps[h] = _mm256_fmadd_pd(y[h], ps[h], F64(6.283185307179586));
    EACH(h) pc[h] = _mm256_fmadd_pd(y[h], pc[h], F64(-19.739208802178716));
    EACH(h) s[h] = _mm256_mul_pd(f[h], ps[h]);
    EACH(h) c[h] = _mm256_fmadd_pd(y[h], pc[h], F64(1.0));
    const __m256i sign = I64(0x8000000000000000ull);
    EACH(h) {
        /* q in 0..4: 2^52 + q is exact and holds q in its low mantissa bits */
        __m256i qi = _mm256_castpd_si256(_mm256_add_pd(q[h], F64(0x1p52)));
        __m256d swap = _mm256_castsi256_pd(_mm256_slli_epi64(qi, 63)); /* quad & 1 */
        __m256d rs = _mm256_blendv_pd(s[h], c[h], swap);
        __m256d rc = _mm256_blendv_pd(c[h], s[h], swap);
        __m256i ns = _mm256_and_si256(_mm256_slli_epi64(qi, 62), sign);                           /* quad & 2 */
        __m256i nc = _mm256_and_si256(_mm256_slli_epi64(_mm256_add_epi64(qi, I64(1)), 62), sign); /* (quad+1) & 2 */
        s_out[h] = _mm256_xor_pd(rs, _mm256_castsi256_pd(ns));
        c_out[h] = _mm256_xor_pd(rc, _mm256_castsi256_pd(nc));
    }
}

/* ---- f64: groups of 8 blocks = 16 elements ---------------------------------
 * unpack{lo,hi}_epi32(w1, w0) puts (w0 << 32 | w1) of blocks {0,1,4,5},
 * {2,3,6,7} in 64-bit lanes. Two values per block (x, y) are interleaved
 * back into index order 2b, 2b+1. */
NNINIT_INLINE void interleave_f64(__m256d x, __m256d y, __m256d *first, __m256d *second) {
    __m256d lo = _mm256_unpacklo_pd(x, y); /* blocks 0 | 2 of the four */
    __m256d hi = _mm256_unpackhi_pd(x, y); /* blocks 1 | 3 */
    *first = _mm256_permute2f128_pd(lo, hi, 0x20);
    *second = _mm256_permute2f128_pd(lo, hi, 0x31);
}

typedef struct {
    __m256d a, b, c; /* uniform: width, lo, hi; normal: std, mean */
} par4d;

/* The 16 values of 8 blocks' words w, in index order. */
NNINIT_INLINE void group_f64(int kind, const par4d *P, const __m256i w[4], __m256d o[4]) {
    __m256d x[2], y[2];
    __m256i p01[2] = {_mm256_unpacklo_epi32(w[1], w[0]), _mm256_unpackhi_epi32(w[1], w[0])};
    __m256i p23[2] = {_mm256_unpacklo_epi32(w[3], w[2]), _mm256_unpackhi_epi32(w[3], w[2])};
    if (kind == KIND_UNIFORM) { /* P->a = width 2^-53, the cap: as in group_f32 */
        EACH(h) x[h] = _mm256_min_pd(P->c, _mm256_fmadd_pd(top53(p01[h]), P->a, P->b));
        EACH(h) y[h] = _mm256_min_pd(P->c, _mm256_fmadd_pd(top53(p23[h]), P->a, P->b));
    } else { /* Box-Muller: u1 = words (0, 1), t = words (2, 3); x = r cos, y = r sin */
        __m256d u[2], t[2], lg[2], r[2], s[2], c[2];
        EACH(h) u[h] = u01_open0_f64_4(p01[h]);
        EACH(h) t[h] = u01_f64_4(p23[h]);
        log_f64_4x2(u, lg);
        sincos2pi_f64_4x2(t, s, c);
        EACH(h) r[h] = _mm256_sqrt_pd(_mm256_mul_pd(F64(-2.0), lg[h]));
        EACH(h) x[h] = _mm256_fmadd_pd(_mm256_mul_pd(r[h], c[h]), P->a, P->b);
        EACH(h) y[h] = _mm256_fmadd_pd(_mm256_mul_pd(r[h], s[h]), P->a, P->b);
    }
    interleave_f64(x[0], y[0], &o[0], &o[2]); /* blocks 0,1 | 4,5 */
    interleave_f64(x[1], y[1], &o[1], &o[3]); /* blocks 2,3 | 6,7 */
}

NNINIT_INLINE void part_f64(int kind, const par4d *P, const __m256i w[4], int64_t skip, int64_t n, double *dst) {
    _Alignas(32) double tmp[16];
    __m256d o[4];
    group_f64(kind, P, w, o);
    for (int j = 0; j < 4; j++) _mm256_store_pd(tmp + 4 * j, o[j]);
    memcpy(dst, tmp + skip, (size_t)n * sizeof(double));
}

/* As fill_f32fam, with groups of 16 elements (block b = i / 2). */
NNINIT_INLINE void fill_f64(int kind, const uint32_t key[2], const par4d *P, int64_t begin, int64_t end, double *out) {
    const uint32_t dom = domain_of(kind);
    keys8 K;
    keys8_init(&K, key);
    __m256i w[4], wn[4];
    int64_t i = begin;
    if ((i & 1) || end - i < 16) {
        int64_t g0 = i & ~(int64_t)1, stop = g0 + 16 < end ? g0 + 16 : end;
        philox8(&K, (uint64_t)g0 >> 1, dom, w);
        part_f64(kind, P, w, i - g0, stop - i, out);
        i = stop;
    }
    if (i == end) return;
    philox8(&K, (uint64_t)i >> 1, dom, w);
    for (; end - i >= 16; i += 16) {
        __m256d o[4];
        philox8(&K, ((uint64_t)i >> 1) + 8, dom, wn);
        group_f64(kind, P, w, o);
        for (int j = 0; j < 4; j++) _mm256_storeu_pd(out + (i - begin) + 4 * j, o[j]);
        for (int j = 0; j < 4; j++) w[j] = wn[j];
    }
    if (i < end) part_f64(kind, P, w, 0, end - i, out + (i - begin));
}

/* ---- the entries ---------------------------------------------------------- */
static void fam_dispatch(int kind, nninit_dtype d, const uint32_t key[2], const par8 *P, int64_t begin, int64_t end,
                         void *out) {
    switch (d) {
    case NNINIT_F32: fill_f32fam(kind, NNINIT_F32, key, P, begin, end, out); break;
    case NNINIT_BF16: fill_f32fam(kind, NNINIT_BF16, key, P, begin, end, out); break;
    case NNINIT_F16: fill_f32fam(kind, NNINIT_F16, key, P, begin, end, out); break;
    default: break;
    }
}

static void avx2_uniform(const uint32_t key[2], nninit_dtype d, double lo, double hi, int64_t begin, int64_t end,
                         void *out) {
    if (end <= begin) return;
    if (begin < 0) goto scalar; /* not an index; the scalar loop's block numbers wrap differently */
    if (d == NNINIT_F64) {
        double width = hi - lo;
        if (!(isfinite(lo) && isfinite(width) && isfinite(hi))) goto scalar;
        double scaled = width * 0x1p-53;
        if (scaled * 0x1p53 != width) goto scalar;
        par4d P = {F64(scaled), F64(lo), F64(hi)};
        fill_f64(KIND_UNIFORM, key, &P, begin, end, out);
        return;
    }
    if (d != NNINIT_F32 && d != NNINIT_BF16 && d != NNINIT_F16) goto scalar;
    {
        /* as fill_uniform: every f32 parameter rounded from double once */
        float flo = (float)lo, fwidth = (float)(hi - lo), fhi = (float)hi;
        /* finite: then fma(u, width, lo) is never NaN and the cap is vminps */
        if (!(isfinite(flo) && isfinite(fwidth) && isfinite(fhi))) goto scalar;
        float scaled = fwidth * 0x1p-24f;            /* see group_f32; exact unless it */
        if (scaled * 0x1p24f != fwidth) goto scalar; /* lost bits to underflow */
        par8 P = {F32(scaled), F32(flo), F32(fhi)};
        fam_dispatch(KIND_UNIFORM, d, key, &P, begin, end, out);
        return;
    }
scalar:
    nninit__scalar_set.uniform(key, d, lo, hi, begin, end, out);
}

static void avx2_normal(const uint32_t key[2], nninit_dtype d, double mean, double std, int64_t begin, int64_t end,
                        void *out) {
    if (end <= begin) return;
    if (begin < 0) goto scalar;
    if (d == NNINIT_F64) {
        if (!(isfinite(mean) && isfinite(std))) goto scalar;
        par4d P = {F64(std), F64(mean), F64(0.0)};
        fill_f64(KIND_NORMAL, key, &P, begin, end, out);
        return;
    }
    if (d != NNINIT_F32 && d != NNINIT_BF16 && d != NNINIT_F16) goto scalar;
    {
        float fmean = (float)mean, fstd = (float)std;
        if (!(isfinite(fmean) && isfinite(fstd))) goto scalar;
        par8 P = {F32(fstd), F32(fmean), F32(0.0f)};
        fam_dispatch(KIND_NORMAL, d, key, &P, begin, end, out);
        return;
    }
scalar:
    nninit__scalar_set.normal(key, d, mean, std, begin, end, out);
}

/* ---- truncated normal: the first attempt vectorized ----------------------
 * trunc_normal_at (fill_kernels.c) for 8 elements at a time, attempt 0 only:
 * element i's counter is (i_lo, i_hi, 0, TRUNC), which is philox8's block
 * counter for "block" i, so philox8(i) gives the words of elements i .. i+7.
 * A lane that attempt 0 rejects takes the scalar trunc_normal_at, a pure
 * function of (key, i) that recomputes attempt 0 and goes on; the value is
 * the scalar one either way. The mode is chosen once per call, by the scalar
 * code's expressions (as kernels_avx512.c). */
typedef struct {
    int mode, mirror;
    double a, b, lam, mean, std, za, zb, va, vb;
} trunc_par;

/* lo <= v <= hi per lane (ordered: NaN fails), as an all-ones lane mask. */
NNINIT_INLINE __m256d inside(__m256d v, __m256d lo, __m256d hi) {
    return _mm256_and_pd(_mm256_cmp_pd(v, lo, _CMP_GE_OQ), _mm256_cmp_pd(v, hi, _CMP_LE_OQ));
}

/* Attempt 0 of 8 elements (words w of philox8): x[h] the candidate values of
 * lanes {0,1,4,5} (h = 0) and {2,3,6,7} (h = 1), ok[h] the lanes accepted. */
NNINIT_INLINE void trunc_attempt0_8(int mode, const trunc_par *p, const __m256i w[4], __m256d x[2], __m256d ok[2]) {
    const __m256d a = F64(p->a), b = F64(p->b), flip = F64(p->mirror ? -0.0 : 0.0);
    const __m256d sd = F64(p->std), mean = F64(p->mean), va = F64(p->va), vb = F64(p->vb);
    __m256i p01[2] = {_mm256_unpacklo_epi32(w[1], w[0]), _mm256_unpackhi_epi32(w[1], w[0])};
    __m256i p23[2] = {_mm256_unpacklo_epi32(w[3], w[2]), _mm256_unpackhi_epi32(w[3], w[2])};
    if (mode == 0) { /* both Box-Muller outputs, z0 first */
        __m256d u[2], t[2], lg[2], s[2], c[2];
        EACH(h) u[h] = u01_open0_f64_4(p01[h]);
        EACH(h) t[h] = u01_f64_4(p23[h]);
        log_f64_4x2(u, lg);
        sincos2pi_f64_4x2(t, s, c);
        EACH(h) {
            __m256d r = _mm256_sqrt_pd(_mm256_mul_pd(F64(-2.0), lg[h]));
            __m256d z0 = _mm256_mul_pd(r, c[h]), z1 = _mm256_mul_pd(r, s[h]);
            __m256d x0 = _mm256_fmadd_pd(sd, _mm256_xor_pd(z0, flip), mean);
            __m256d x1 = _mm256_fmadd_pd(sd, _mm256_xor_pd(z1, flip), mean);
            __m256d c0 = _mm256_and_pd(inside(z0, a, b), inside(x0, va, vb));
            __m256d c1 = _mm256_and_pd(inside(z1, a, b), inside(x1, va, vb));
            x[h] = _mm256_blendv_pd(x1, x0, c0);
            ok[h] = _mm256_or_pd(c0, c1);
        }
        return;
    }
    __m256d z[2], lu[2], lim[2], e[2], cond[2];
    if (mode == 1 || mode == 2) { /* z ~ U(a, b), log u <= the bound */
        const __m256d width = F64(p->b - p->a);
        __m256d u[2];
        EACH(h) z[h] = _mm256_fmadd_pd(u01_f64_4(p01[h]), width, a);
        EACH(h) u[h] = u01_open0_f64_4(p23[h]);
        log_f64_4x2(u, lu);
        if (mode == 1) EACH(h) lim[h] = _mm256_mul_pd(_mm256_mul_pd(F64(-0.5), z[h]), z[h]);
        else EACH(h) lim[h] = _mm256_mul_pd(_mm256_mul_pd(F64(0.5), _mm256_sub_pd(a, z[h])), _mm256_add_pd(a, z[h]));
        EACH(h) cond[h] = inside(z[h], a, b);
    } else { /* translated exponential */
        const __m256d lam = F64(p->lam);
        __m256d u[2], v[2], le[2];
        EACH(h) u[h] = u01_open0_f64_4(p01[h]);
        EACH(h) v[h] = u01_open0_f64_4(p23[h]);
        log_f64_4x2(u, le);
        log_f64_4x2(v, lu);
        EACH(h) e[h] = _mm256_xor_pd(le[h], F64(-0.0));
        EACH(h) z[h] = _mm256_add_pd(a, _mm256_div_pd(e[h], lam));
        EACH(h) {
            __m256d dz = _mm256_sub_pd(z[h], lam);
            lim[h] = _mm256_mul_pd(_mm256_mul_pd(F64(-0.5), dz), dz);
        }
        EACH(h) cond[h] = _mm256_cmp_pd(z[h], b, _CMP_LE_OQ);
    }
    EACH(h) {
        x[h] = _mm256_fmadd_pd(sd, _mm256_xor_pd(z[h], flip), mean);
        ok[h] = _mm256_and_pd(_mm256_and_pd(cond[h], _mm256_cmp_pd(lu[h], lim[h], _CMP_LE_OQ)), inside(x[h], va, vb));
    }
}

/* The low dword of each 64-bit lane (a lane mask keeps its meaning). */
NNINIT_INLINE __m128i lo_dwords(__m256i x) {
    return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(x, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
}

/* nninit__f64_to_f32_odd lane by lane: RNE, then toward zero by one ulp if
 * that rounded away, then the last bit set; unchanged if exact or NaN. */
NNINIT_INLINE __m128 f64_to_f32_odd_4(__m256d v) {
    __m128 f = _mm256_cvtpd_ps(v);
    __m256d back = _mm256_cvtps_pd(f);
    const __m256d abs = _mm256_castsi256_pd(I64(0x7fffffffffffffffull));
    __m128i keep = lo_dwords(
        _mm256_castpd_si256(_mm256_or_pd(_mm256_cmp_pd(back, v, _CMP_EQ_OQ), _mm256_cmp_pd(v, v, _CMP_UNORD_Q))));
    __m128i down =
        lo_dwords(_mm256_castpd_si256(_mm256_cmp_pd(_mm256_and_pd(back, abs), _mm256_and_pd(v, abs), _CMP_GT_OQ)));
    __m128i bits = _mm_add_epi32(_mm_castps_si128(f), down); /* down lanes are -1 */
    bits = _mm_or_si128(bits, _mm_set1_epi32(1));
    return _mm_blendv_ps(_mm_castsi128_ps(bits), f, _mm_castsi128_ps(keep));
}

NNINIT_INLINE void run_trunc(int mode, nninit_dtype d, const uint32_t key[2], const trunc_par *p, int64_t begin,
                             int64_t end, void *out) {
    const size_t es = d == NNINIT_F64 ? 8 : d == NNINIT_F32 ? 4 : 2;
    keys8 K;
    keys8_init(&K, key);
    for (int64_t g = begin; g < end; g += 8) {
        int64_t n = end - g < 8 ? end - g : 8;
        __m256i w[4];
        __m256d x[2], ok[2];
        philox8(&K, (uint64_t)g, NNINIT_DOMAIN_TRUNC, w);
        trunc_attempt0_8(mode, p, w, x, ok);
        /* back to element order: lanes {0,1,4,5}, {2,3,6,7} -> 0..3, 4..7 */
        _Alignas(32) double v[8];
        _mm256_store_pd(v, _mm256_permute2f128_pd(x[0], x[1], 0x20));
        _mm256_store_pd(v + 4, _mm256_permute2f128_pd(x[0], x[1], 0x31));
        unsigned acc0 = (unsigned)_mm256_movemask_pd(ok[0]), acc1 = (unsigned)_mm256_movemask_pd(ok[1]);
        unsigned acc = (acc0 & 3u) | (acc1 & 3u) << 2 | (acc0 & 12u) << 2 | (acc1 & 12u) << 4;
        unsigned rej = ~acc & ((1u << n) - 1u);
        while (rej) {
            int j = __builtin_ctz(rej);
            rej &= rej - 1;
            v[j] = nninit__scalar_set.trunc_normal_at(key, g + j, p->mean, p->std, p->za, p->zb, p->va, p->vb);
        }
        _Alignas(32) unsigned char tmp[8 * 8];
        unsigned char *dst = n == 8 ? (unsigned char *)out + (size_t)(g - begin) * es : tmp;
        __m256d v0 = _mm256_load_pd(v), v1 = _mm256_load_pd(v + 4);
        switch (d) {
        case NNINIT_F64:
            _mm256_storeu_pd((double *)dst, v0);
            _mm256_storeu_pd((double *)dst + 4, v1);
            break;
        case NNINIT_F32:
            _mm_storeu_ps((float *)dst, _mm256_cvtpd_ps(v0));
            _mm_storeu_ps((float *)dst + 4, _mm256_cvtpd_ps(v1));
            break;
        default: {
            __m256 f = _mm256_set_m128(f64_to_f32_odd_4(v1), f64_to_f32_odd_4(v0));
            __m256i r = d == NNINIT_BF16 ? to_bf16_8(f) : to_f16_8(f);
            /* 16-bit values in 32-bit lanes: pack per 128-bit half, then gather the halves */
            __m256i pk = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
            _mm_storeu_si128((__m128i *)dst, _mm256_castsi256_si128(pk));
            break;
        }
        }
        if (n < 8) memcpy((unsigned char *)out + (size_t)(g - begin) * es, tmp, (size_t)n * es);
    }
}

static void avx2_trunc_normal(const uint32_t key[2], nninit_dtype d, const nninit__plan *pl, int64_t begin, int64_t end,
                              void *out) {
    if (end <= begin) return;
    trunc_par p = {0, 0, 0, 0, 0, pl->mean, pl->std, pl->za, pl->zb, pl->va, pl->vb};
    const nninit__trunc_mode tm = nninit__trunc_mode_of(pl->za, pl->zb); /* the scalar set's choice */
    p.mode = tm.mode, p.mirror = tm.mirror, p.a = tm.a, p.b = tm.b, p.lam = tm.lam;
    if (begin < 0 || !isfinite(p.mean) || !isfinite(p.std) || isnan(p.a) || isnan(p.b) || isnan(p.va) || isnan(p.vb) ||
        d > NNINIT_F16) {
        nninit__scalar_set.trunc_normal(key, d, pl, begin, end, out);
        return;
    }
#define RUN(m, dt) run_trunc(m, (nninit_dtype)(dt), key, &p, begin, end, out)
    NNINIT_TRUNC_DISPATCH(RUN, tm.mode, d);
#undef RUN
}

static double avx2_trunc_normal_at(const uint32_t key[2], int64_t i, double mean, double std, double za, double zb,
                                   double va, double vb) {
    return nninit__scalar_set.trunc_normal_at(key, i, mean, std, za, zb, va, vb);
}

const nninit__kernel_set nninit__avx2_set = {"avx2", avx2_uniform, avx2_normal, avx2_trunc_normal,
                                             avx2_trunc_normal_at};

#endif /* NNINIT_HAVE_X86_SETS */

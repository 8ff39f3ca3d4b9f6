/* transform.h -- bits to floats, the scalar definition.
 *
 * Every function here is the reference a SIMD kernel must reproduce bit for
 * bit, so each uses only IEEE operations that vector units have with identical
 * rounding: +, -, *, /, sqrt, fma (always explicit; the library is built with
 * -ffp-contract=off), integer shifts and selects. No table, and of libm only
 * fma, fmaf, sqrt and sqrtf, which IEEE 754 requires to be correctly rounded,
 * so their bits do not depend on who computes them: fma and fmaf are libm
 * calls unless compiled for FMA hardware (fill_kernels.c builds both ways);
 * sqrt and sqrtf compile to the instruction, with a libm call kept only for
 * errno on a negative argument, which these never pass.
 * docs/RNG.md states the mappings; tests/test_rng.c measures the accuracy of
 * the log and sincos below against libm.
 */
#ifndef NNINIT_TRANSFORM_H
#define NNINIT_TRANSFORM_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Forced inline, so that the FMA build of the kernels (fill_kernels.c)
 * contains these bodies and uses the fma instruction rather than a libm call. */
#if defined(__GNUC__)
#define NNINIT_INLINE static inline __attribute__((always_inline))
#else
#define NNINIT_INLINE static inline
#endif

NNINIT_INLINE uint32_t nninit__f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
NNINIT_INLINE float nninit__f32_from(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
NNINIT_INLINE uint64_t nninit__f64_bits(double f) {
    uint64_t u;
    memcpy(&u, &f, 8);
    return u;
}
NNINIT_INLINE double nninit__f64_from(uint64_t u) {
    double f;
    memcpy(&f, &u, 8);
    return f;
}

/* ---- uniforms ----------------------------------------------------------- */

/* [0, 1): the top 24 bits of w times 2^-24. Every value is exact. */
NNINIT_INLINE float nninit__u01_f32(uint32_t w) { return (float)(w >> 8) * 0x1p-24f; }

/* (0, 1]: (w + 1) * 2^-32 rounded once to float, via one fma of two exact
 * terms. Smallest value 2^-32, so Box-Muller reaches |z| = sqrt(64 ln 2) = 6.66. */
NNINIT_INLINE float nninit__u01_open0_f32(uint32_t w) {
    return fmaf((float)(w >> 8), 0x1p-24f, (float)((w & 0xffu) + 1u) * 0x1p-32f);
}

/* [0, 1): 53 bits (hi:lo >> 11) times 2^-53. */
NNINIT_INLINE double nninit__u01_f64(uint32_t hi, uint32_t lo) {
    return (double)((((uint64_t)hi << 32) | lo) >> 11) * 0x1p-53;
}

/* (0, 1]: (53 bits + 1) * 2^-53, exact. Smallest 2^-53: |z| <= 8.57. */
NNINIT_INLINE double nninit__u01_open0_f64(uint32_t hi, uint32_t lo) {
    return (double)(((((uint64_t)hi << 32) | lo) >> 11) + 1u) * 0x1p-53;
}

/* ---- log ---------------------------------------------------------------
 * x = 2^k * m with m in [sqrt(2)/2, sqrt(2)); log(m) = 2 atanh(s) with
 * s = (m-1)/(m+1), |s| <= 0.1716, expanded as 2s (1 + s^2/3 + s^4/5 + ...)
 * (the series of atanh, Abramowitz & Stegun 4.5.64 -- coefficients 1/(2j+1),
 * exact, no fitted constants). k ln 2 is added as hi + lo (Cody & Waite) with
 * ln2_hi having trailing zero bits so that k * ln2_hi is exact.
 * Domain: positive normal numbers (the callers pass x in [2^-53, 1]). */
NNINIT_INLINE float nninit__log_f32(float x) {
    uint32_t ix = nninit__f32_bits(x) + (0x3f800000u - 0x3f3504f3u);
    int32_t k = (int32_t)(ix >> 23) - 0x7f;
    float m = nninit__f32_from((ix & 0x007fffffu) + 0x3f3504f3u);
    float f = m - 1.0f; /* exact: m in [0.5, 2] (Sterbenz) */
    float s = f / (2.0f + f);
    float z = s * s;
    /* Truncation after z^5/11: below 0.0295^6/13 = 5e-11 relative. */
    float p = fmaf(z, 1.0f / 11.0f, 1.0f / 9.0f);
    p = fmaf(z, p, 1.0f / 7.0f);
    p = fmaf(z, p, 1.0f / 5.0f);
    p = fmaf(z, p, 1.0f / 3.0f);
    p = z * p; /* s^2/3 + s^4/5 + ... */
    float two_s = s + s;
    float lm = fmaf(two_s, p, two_s); /* log(m) */
    float kf = (float)k;
    return fmaf(kf, 0x1.62e3p-1f /* ln2_hi */, fmaf(kf, 9.0580006145e-06f /* ln2_lo */, lm));
}

NNINIT_INLINE double nninit__log_f64(double x) {
    uint64_t ix = nninit__f64_bits(x) + (0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull);
    int64_t k = (int64_t)(ix >> 52) - 0x3ff;
    double m = nninit__f64_from((ix & 0x000fffffffffffffull) + 0x3fe6a09e667f3bcdull);
    double f = m - 1.0;
    double s = f / (2.0 + f);
    double z = s * s;
    /* Terms to z^11/23: truncation below 0.0295^12/25 = 2e-20 relative. */
    double p = fma(z, 1.0 / 23.0, 1.0 / 21.0);
    p = fma(z, p, 1.0 / 19.0);
    p = fma(z, p, 1.0 / 17.0);
    p = fma(z, p, 1.0 / 15.0);
    p = fma(z, p, 1.0 / 13.0);
    p = fma(z, p, 1.0 / 11.0);
    p = fma(z, p, 1.0 / 9.0);
    p = fma(z, p, 1.0 / 7.0);
    p = fma(z, p, 1.0 / 5.0);
    p = fma(z, p, 1.0 / 3.0);
    p = z * p;
    double two_s = s + s;
    double lm = fma(two_s, p, two_s);
    double kd = (double)k;
    return fma(kd, 6.93147180369123816490e-01 /* ln2_hi */, fma(kd, 1.90821492927058770002e-10 /* ln2_lo */, lm));
}

/* ---- sin and cos of 2*pi*t, t in [0, 1) in turns -------------------------
 * Reduction in turns is exact: q = nearest integer to 4t, f = t - q/4 with
 * |f| <= 1/8 (t and q/4 share the grid of t). Then sin(2 pi f), cos(2 pi f) by
 * their Taylor series (coefficients (2 pi)^n / n!, rounded once from 60-digit
 * values), |2 pi f| <= pi/4, and the quadrant q mod 4 rotates the pair. */
NNINIT_INLINE void nninit__sincos2pi_f32(float t, float *s_out, float *c_out) {
    float q = (float)(int32_t)fmaf(4.0f, t, 0.5f); /* floor(4t + 1/2), exact */
    float f = fmaf(q, -0.25f, t);                  /* exact */
    float y = f * f;
    /* sin: through f^11 (next term < 3e-9 relative at |2 pi f| = pi/4). */
    float ps = fmaf(y, -15.09464257682299f, 42.058693944897655f);
    ps = fmaf(y, ps, -76.70585975306139f);
    ps = fmaf(y, ps, 81.60524927607506f);
    ps = fmaf(y, ps, -41.34170224039976f);
    ps = fmaf(y, ps, 6.283185307179586f);
    float s = f * ps;
    /* cos: through f^12. */
    float pc = fmaf(y, 7.903536371318469f, -26.4262567833744f);
    pc = fmaf(y, pc, 60.24464137187666f);
    pc = fmaf(y, pc, -85.45681720669373f);
    pc = fmaf(y, pc, 64.9393940226683f);
    pc = fmaf(y, pc, -19.739208802178716f);
    float c = fmaf(y, pc, 1.0f);
    uint32_t quad = (uint32_t)(int32_t)q & 3u;
    float rs = (quad & 1u) ? c : s; /* quadrants 1, 3 swap */
    float rc = (quad & 1u) ? s : c;
    *s_out = (quad & 2u) ? -rs : rs;        /* sin: - in 2, 3 */
    *c_out = ((quad + 1u) & 2u) ? -rc : rc; /* cos: - in 1, 2 */
}

NNINIT_INLINE void nninit__sincos2pi_f64(double t, double *s_out, double *c_out) {
    double q = (double)(int64_t)fma(4.0, t, 0.5);
    double f = fma(q, -0.25, t);
    double y = f * f;
    /* sin through f^19, cos through f^20: truncation below 1e-19. */
    double ps = fma(y, -0.012031585942120627, 0.10422916220813984);
    ps = fma(y, ps, -0.7181223017785006);
    ps = fma(y, ps, 3.819952584848282);
    ps = fma(y, ps, -15.09464257682299);
    ps = fma(y, ps, 42.058693944897655);
    ps = fma(y, ps, -76.70585975306139);
    ps = fma(y, ps, 81.60524927607506);
    ps = fma(y, ps, -41.34170224039976);
    ps = fma(y, ps, 6.283185307179586);
    double s = f * ps;
    double pc = fma(y, 0.0037798342006800396, -0.03638284114254567);
    pc = fma(y, pc, 0.28200596845579123);
    pc = fma(y, pc, -1.714390711088672);
    pc = fma(y, pc, 7.903536371318469);
    pc = fma(y, pc, -26.4262567833744);
    pc = fma(y, pc, 60.24464137187666);
    pc = fma(y, pc, -85.45681720669373);
    pc = fma(y, pc, 64.9393940226683);
    pc = fma(y, pc, -19.739208802178716);
    double c = fma(y, pc, 1.0);
    uint32_t quad = (uint32_t)(int64_t)q & 3u;
    double rs = (quad & 1u) ? c : s;
    double rc = (quad & 1u) ? s : c;
    *s_out = (quad & 2u) ? -rs : rs;
    *c_out = ((quad + 1u) & 2u) ? -rc : rc;
}

/* ---- Box-Muller --------------------------------------------------------
 * (z0, z1) = sqrt(-2 log u1) * (cos 2 pi t, sin 2 pi t), u1 in (0, 1] from one
 * word (pair), t in [0, 1) from the next (Box & Muller 1958). */
NNINIT_INLINE void nninit__box_muller_f32(uint32_t w_u1, uint32_t w_t, float *z0, float *z1) {
    float r = sqrtf(-2.0f * nninit__log_f32(nninit__u01_open0_f32(w_u1)));
    float s, c;
    nninit__sincos2pi_f32(nninit__u01_f32(w_t), &s, &c);
    *z0 = r * c;
    *z1 = r * s;
}

NNINIT_INLINE void nninit__box_muller_f64(const uint32_t w[4], double *z0, double *z1) {
    double r = sqrt(-2.0 * nninit__log_f64(nninit__u01_open0_f64(w[0], w[1])));
    double s, c;
    nninit__sincos2pi_f64(nninit__u01_f64(w[2], w[3]), &s, &c);
    *z0 = r * c;
    *z1 = r * s;
}

#endif

/* dtype.c -- element sizes and rounding to bf16 / f16 (round to nearest even). */
#include <float.h>
#include <math.h>

#include "internal.h"
#include "rng/transform.h"

size_t nninit_dtype_size(nninit_dtype d) {
    switch (d) {
    case NNINIT_F32: return 4;
    case NNINIT_F64: return 8;
    case NNINIT_BF16:
    case NNINIT_F16: return 2;
    }
    return 0;
}

double nninit__dtype_max(nninit_dtype d) {
    switch (d) {
    case NNINIT_F32: return FLT_MAX;
    case NNINIT_F64: return DBL_MAX;
    case NNINIT_BF16: return 0x1.fep127; /* 3.3895e38 */
    case NNINIT_F16: return 65504.0;
    }
    return 0.0;
}

/* bf16 is the top half of an f32: add 0x7fff plus the lowest kept bit, so
 * that ties go to even, then truncate. NaNs stay NaN (quiet bit forced). */
uint16_t nninit_f32_to_bf16(float x) {
    uint32_t u = nninit__f32_bits(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float nninit_bf16_to_f32(uint16_t h) { return nninit__f32_from((uint32_t)h << 16); }

/* f32 -> IEEE binary16, round to nearest even, overflow to inf, NaN kept.
 * Normal results: rebias the exponent and round the 13 dropped mantissa bits
 * with integer arithmetic. Subnormal results: let the FPU round, by adding
 * 0.5f (whose ulp, 2^-24, is exactly the f16 subnormal step) and reading the
 * low mantissa bits. */
uint16_t nninit_f32_to_f16(float x) {
    uint32_t u = nninit__f32_bits(x);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    u &= 0x7fffffffu;
    if (u >= 0x7f800000u) /* inf or NaN */
        return (uint16_t)(sign | (u > 0x7f800000u ? (0x7e00u | ((u >> 13) & 0x3ffu)) : 0x7c00u));
    if (u >= 0x47800000u) /* >= 65536: certainly inf */
        return (uint16_t)(sign | 0x7c00u);
    if (u < 0x38800000u) { /* below 2^-14: f16 subnormal or zero */
        float f = nninit__f32_from(u) + 0.5f;
        return (uint16_t)(sign | (nninit__f32_bits(f) - 0x3f000000u));
    }
    uint32_t odd = (u >> 13) & 1u;
    u += 0xc8000fffu + odd;              /* exponent - (127 - 15), rounding bias */
    return (uint16_t)(sign | (u >> 13)); /* a carry into exponent 31 = inf */
}

float nninit_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0) { /* zero or subnormal: m * 2^-24 is exact in f32 */
        float f = (float)m * 0x1p-24f;
        return nninit__f32_from(nninit__f32_bits(f) | sign);
    }
    if (e == 31) return nninit__f32_from(sign | 0x7f800000u | (m << 13));
    return nninit__f32_from(sign | ((e + 112u) << 23) | (m << 13));
}

/* double -> float rounded to odd: truncate toward zero, then set the last bit
 * if anything was lost. Rounding that result to bf16 / f16 (which keep at
 * least 2 bits fewer) equals rounding the double directly: one rounding. */
static float nninit__f64_to_f32_odd(double v) {
    float f = (float)v;
    if ((double)f == v || isnan(v)) return f;
    if (fabs((double)f) > fabs(v)) f = nextafterf(f, 0.0f);
    return nninit__f32_from(nninit__f32_bits(f) | 1u);
}

void nninit__store_f64(nninit_dtype d, void *out, int64_t i, double v) {
    switch (d) {
    case NNINIT_F64: ((double *)out)[i] = v; break;
    case NNINIT_F32: ((float *)out)[i] = (float)v; break;
    case NNINIT_BF16: ((uint16_t *)out)[i] = nninit_f32_to_bf16(nninit__f64_to_f32_odd(v)); break;
    case NNINIT_F16: ((uint16_t *)out)[i] = nninit_f32_to_f16(nninit__f64_to_f32_odd(v)); break;
    }
}

void nninit__store_f32(nninit_dtype d, void *out, int64_t i, float v) {
    switch (d) {
    case NNINIT_F64: ((double *)out)[i] = v; break;
    case NNINIT_F32: ((float *)out)[i] = v; break;
    case NNINIT_BF16: ((uint16_t *)out)[i] = nninit_f32_to_bf16(v); break;
    case NNINIT_F16: ((uint16_t *)out)[i] = nninit_f32_to_f16(v); break;
    }
}

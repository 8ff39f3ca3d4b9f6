/* test_dtype.c -- f32 -> bf16 / f16 rounding (nearest even), against the
 * compiler's _Float16 conversion and exact reasoning for bf16. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "nninit.h"

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* bf16 reference: exact rounding by comparing distances in double. */
static uint16_t ref_bf16(float x) {
    uint32_t u = bits(x);
    if (isnan(x)) return 0;
    uint16_t lo = (uint16_t)(u >> 16), hi = (uint16_t)(lo + 1);
    double d_lo = fabs((double)x - (double)from_bits((uint32_t)lo << 16));
    uint32_t hib = (uint32_t)hi << 16;
    /* hi may be inf when lo is the largest finite: its "value" is 2^128 */
    double vhi = ((hib & 0x7f800000u) == 0x7f800000u) ? copysign(0x1p128, x) : (double)from_bits(hib);
    double d_hi = fabs((double)x - vhi);
    if (d_lo < d_hi) return lo;
    if (d_hi < d_lo) return hi;
    return (lo & 1) ? hi : lo;
}

static void test_bf16(void **state) {
    (void)state;
    for (uint64_t u = 0; u < (1ull << 32); u += 4099) {
        float x = from_bits((uint32_t)u);
        if (isnan(x) || isinf(x)) continue;
        assert_int_equal(nninit_f32_to_bf16(x), ref_bf16(x));
    }
    assert_int_equal(nninit_f32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(nninit_f32_to_bf16(from_bits(0x3f808000u)), 0x3f80); /* tie -> even */
    assert_int_equal(nninit_f32_to_bf16(from_bits(0x3f818000u)), 0x3f82); /* tie -> even */
    assert_int_equal(nninit_f32_to_bf16(from_bits(0x7f7fffffu)), 0x7f80); /* FLT_MAX -> inf */
    assert_int_equal(nninit_f32_to_bf16(INFINITY), 0x7f80);
    assert_true(isnan(nninit_bf16_to_f32(nninit_f32_to_bf16(NAN))));
    assert_true(isnan(nninit_bf16_to_f32(nninit_f32_to_bf16(from_bits(0x7f800001u))))); /* sNaN stays NaN */
    assert_true(nninit_bf16_to_f32(0x3f80) == 1.0f);
}

static void test_f16(void **state) {
    (void)state;
#if defined(__FLT16_MAX__)
    for (uint64_t u = 0; u < (1ull << 32); u += 509) {
        float x = from_bits((uint32_t)u);
        _Float16 h = (_Float16)x;
        uint16_t hb;
        memcpy(&hb, &h, 2);
        uint16_t got = nninit_f32_to_f16(x);
        if (isnan(x)) {
            assert_true((got & 0x7c00) == 0x7c00 && (got & 0x3ff));
            continue;
        }
        if (got != hb) print_error("x=%a bits %08x: got %04x want %04x\n", x, (unsigned)u, got, hb);
        assert_int_equal(got, hb);
        /* round trip of the result is exact */
        if (!isinf(x)) assert_int_equal(nninit_f32_to_f16(nninit_f16_to_f32(got)), got);
    }
#endif
    assert_int_equal(nninit_f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(nninit_f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(nninit_f32_to_f16(65519.99f), 0x7bff);
    assert_int_equal(nninit_f32_to_f16(65520.0f), 0x7c00);
    assert_int_equal(nninit_f32_to_f16(0x1p-24f), 0x0001);
    assert_int_equal(nninit_f32_to_f16(0x1p-25f), 0x0000);   /* tie -> even (0) */
    assert_int_equal(nninit_f32_to_f16(0x1.8p-24f), 0x0002); /* tie -> even (2) */
    assert_int_equal(nninit_f32_to_f16(0x1p-14f), 0x0400);   /* smallest normal */
    assert_int_equal(nninit_f32_to_f16(-2.0f), 0xc000);
    assert_true(nninit_f16_to_f32(0x0001) == 0x1p-24f);
    assert_true(nninit_f16_to_f32(0x8001) == -0x1p-24f);
    assert_true(nninit_f16_to_f32(0x7bff) == 65504.0f);
    assert_true(isinf(nninit_f16_to_f32(0x7c00)));
    assert_true(isnan(nninit_f16_to_f32(0x7e00)));
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = nninit_f16_to_f32((uint16_t)h);
        if (isnan(f)) continue;
        assert_int_equal(nninit_f32_to_f16(f), h); /* every f16 round-trips */
    }
}

static void test_sizes(void **state) {
    (void)state;
    assert_int_equal(nninit_dtype_size(NNINIT_F32), 4);
    assert_int_equal(nninit_dtype_size(NNINIT_F64), 8);
    assert_int_equal(nninit_dtype_size(NNINIT_BF16), 2);
    assert_int_equal(nninit_dtype_size(NNINIT_F16), 2);
    assert_int_equal(nninit_dtype_size((nninit_dtype)9), 0);
    nninit_dtype d;
    assert_int_equal(nninit_dtype_parse("bf16", &d), NNINIT_OK);
    assert_int_equal(d, NNINIT_BF16);
    assert_int_equal(nninit_dtype_parse("half", &d), NNINIT_ERR_DTYPE);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_bf16), cmocka_unit_test(test_f16),
                                       cmocka_unit_test(test_sizes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

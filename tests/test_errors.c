/* test_errors.c -- every bad input returns its named status with a message,
 * and leaves the output buffer untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "nninit.h"

#define SENTINEL 0x5a

/* Fill must fail with `want`, say something, and write nothing. */
static void expect_fail(nninit_spec s, nninit_tensor t, nninit_status want) {
    static unsigned char buf[4096];
    memset(buf, SENTINEL, sizeof buf);
    nninit_status got = nninit_fill(&s, &t, nninit_key_make(1, 2), buf);
    if (got != want)
        print_error("scheme %s: got %s (%s), want %s\n", nninit_scheme_name(s.scheme), nninit_status_str(got),
                    nninit_last_error(), nninit_status_str(want));
    assert_int_equal(got, want);
    assert_true(strlen(nninit_last_error()) > 0);
    for (size_t i = 0; i < sizeof buf; i++) assert_int_equal(buf[i], SENTINEL);
    nninit_info info;
    assert_int_equal(nninit_explain(&s, &t, &info), want);
}

static nninit_tensor t2(int64_t r, int64_t c) { return nninit_tensor_2d(r, c, NNINIT_F32); }

static void test_null_pointers(void **state) {
    (void)state;
    nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
    nninit_tensor t = t2(2, 2);
    float buf[4];
    nninit_info info;
    double a, b;
    int64_t n;
    assert_int_equal(nninit_fill(NULL, &t, nninit_key_make(0, 0), buf), NNINIT_ERR_NULL);
    assert_int_equal(nninit_fill(&s, NULL, nninit_key_make(0, 0), buf), NNINIT_ERR_NULL);
    assert_int_equal(nninit_fill(&s, &t, nninit_key_make(0, 0), NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_fill_range(&s, &t, nninit_key_make(0, 0), 0, 1, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_explain(&s, &t, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_explain(NULL, &t, &info), NNINIT_ERR_NULL);
    assert_int_equal(nninit_fans(NULL, &a, &b), NNINIT_ERR_NULL);
    assert_int_equal(nninit_fans(&t, NULL, &b), NNINIT_ERR_NULL);
    assert_int_equal(nninit_tensor_numel(NULL, &n), NNINIT_ERR_NULL);
    assert_int_equal(nninit_calculate_gain(NNINIT_NL_RELU, NAN, NULL), NNINIT_ERR_NULL);
    nninit_scheme sc;
    assert_int_equal(nninit_scheme_parse(NULL, &sc), NNINIT_ERR_NULL);
    assert_int_equal(nninit_scheme_parse("normal", NULL), NNINIT_ERR_NULL);
}

static void test_bad_shapes(void **state) {
    (void)state;
    nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
    int64_t zero[2] = {3, 0}, neg[2] = {-1, 4};
    expect_fail(s, nninit_tensor_make(2, zero, NNINIT_F32), NNINIT_ERR_SHAPE);
    expect_fail(s, nninit_tensor_make(2, neg, NNINIT_F32), NNINIT_ERR_SHAPE);
    int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    nninit_tensor t = nninit_tensor_make(8, nine, NNINIT_F32);
    t.ndim = 9;
    expect_fail(s, t, NNINIT_ERR_SHAPE);
    t.ndim = 0;
    expect_fail(s, t, NNINIT_ERR_SHAPE);
    int64_t big[3] = {INT64_C(1) << 31, INT64_C(1) << 31, 4};
    expect_fail(s, nninit_tensor_make(3, big, NNINIT_F32), NNINIT_ERR_OVERFLOW);
    int64_t bytes[2] = {INT64_C(1) << 31, INT64_C(1) << 31}; /* 2^62 elements: bytes overflow */
    expect_fail(s, nninit_tensor_make(2, bytes, NNINIT_F64), NNINIT_ERR_OVERFLOW);
    t = t2(2, 2);
    t.dtype = (nninit_dtype)7;
    expect_fail(s, t, NNINIT_ERR_DTYPE);
}

static void test_bad_parameters(void **state) {
    (void)state;
    nninit_tensor t = t2(4, 4);
    nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
    s.std = NAN;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s.std = INFINITY;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s.std = -1;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s.std = 1;
    s.mean = NAN;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s = nninit_spec_default(NNINIT_UNIFORM);
    s.a = 1;
    s.b = 1;
    expect_fail(s, t, NNINIT_ERR_RANGE);
    s.a = 2;
    s.b = 1;
    expect_fail(s, t, NNINIT_ERR_RANGE);
    s.a = NAN;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s = nninit_spec_default(NNINIT_TRUNC_NORMAL);
    s.a = 2;
    s.b = -2;
    expect_fail(s, t, NNINIT_ERR_RANGE);
    s.a = -2;
    s.b = 2;
    s.std = -0.5;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s.std = 0;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s.std = NAN;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s = nninit_spec_default(NNINIT_TRUNC_NORMAL_STD);
    s.a = 1;
    s.b = 1;
    expect_fail(s, t, NNINIT_ERR_RANGE);
    s = nninit_spec_default(NNINIT_SPARSE);
    s.sparsity = -0.1;
    expect_fail(s, t, NNINIT_ERR_SPARSITY);
    s.sparsity = 1.5;
    expect_fail(s, t, NNINIT_ERR_SPARSITY);
    s.sparsity = NAN;
    expect_fail(s, t, NNINIT_ERR_SPARSITY);
    s = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    s.nonlinearity = (nninit_nonlinearity)99;
    expect_fail(s, t, NNINIT_ERR_NONLINEARITY);
    s.nonlinearity = NNINIT_NL_LEAKY_RELU;
    s.slope = INFINITY;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s.slope = NAN;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s.slope = 0;
    s.mode = (nninit_mode)9;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s = nninit_spec_default(NNINIT_XAVIER_NORMAL);
    s.gain = -1;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s.gain = NAN;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s = nninit_spec_default(NNINIT_VARIANCE_SCALING);
    s.scale = 0;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s.scale = 1;
    s.distribution = (nninit_distribution)5;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s = nninit_spec_default(NNINIT_CONSTANT);
    s.value = NAN;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s = nninit_spec_default(NNINIT_ORTHOGONAL);
    s.gain = INFINITY;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    s.scheme = (nninit_scheme)NNINIT_SCHEME_COUNT;
    expect_fail(s, t, NNINIT_ERR_PARAM);
    double g;
    assert_int_equal(nninit_calculate_gain((nninit_nonlinearity)NNINIT_NL_COUNT, NAN, &g), NNINIT_ERR_NONLINEARITY);
    nninit_nonlinearity nl;
    assert_int_equal(nninit_nonlinearity_parse("swish", &nl), NNINIT_ERR_NONLINEARITY);
}

static void test_bad_dims(void **state) {
    (void)state;
    int64_t one[1] = {16}, three[3] = {4, 4, 3}, two[2] = {4, 4}, six[6] = {2, 2, 2, 2, 2, 2};
    nninit_tensor t1 = nninit_tensor_make(1, one, NNINIT_F32);
    /* fans of a 1-D tensor: PyTorch raises, so do we, for every fan scheme */
    nninit_scheme fan_schemes[] = {NNINIT_XAVIER_UNIFORM,  NNINIT_XAVIER_NORMAL, NNINIT_KAIMING_UNIFORM,
                                   NNINIT_KAIMING_NORMAL,  NNINIT_LECUN_UNIFORM, NNINIT_LECUN_NORMAL,
                                   NNINIT_VARIANCE_SCALING};
    for (size_t i = 0; i < sizeof fan_schemes / sizeof fan_schemes[0]; i++)
        expect_fail(nninit_spec_default(fan_schemes[i]), t1, NNINIT_ERR_DIMS);
    double a, b;
    assert_int_equal(nninit_fans(&t1, &a, &b), NNINIT_ERR_DIMS);
    expect_fail(nninit_spec_default(NNINIT_ORTHOGONAL), t1, NNINIT_ERR_DIMS);
    expect_fail(nninit_spec_default(NNINIT_EYE), nninit_tensor_make(3, three, NNINIT_F32), NNINIT_ERR_DIMS);
    expect_fail(nninit_spec_default(NNINIT_EYE), t1, NNINIT_ERR_DIMS);
    expect_fail(nninit_spec_default(NNINIT_DIRAC), nninit_tensor_make(2, two, NNINIT_F32), NNINIT_ERR_DIMS);
    expect_fail(nninit_spec_default(NNINIT_DIRAC), nninit_tensor_make(6, six, NNINIT_F32), NNINIT_ERR_DIMS);
    expect_fail(nninit_spec_default(NNINIT_SPARSE), nninit_tensor_make(3, three, NNINIT_F32), NNINIT_ERR_DIMS);
    nninit_spec d = nninit_spec_default(NNINIT_DIRAC);
    d.groups = 3; /* 4 channels not divisible by 3 */
    expect_fail(d, nninit_tensor_make(3, three, NNINIT_F32), NNINIT_ERR_GROUPS);
    d.groups = 0;
    expect_fail(d, nninit_tensor_make(3, three, NNINIT_F32), NNINIT_ERR_GROUPS);
    /* layouts */
    nninit_tensor t = nninit_tensor_make(3, three, NNINIT_F32);
    t.layout = NNINIT_LAYOUT_EMBEDDING;
    expect_fail(nninit_spec_default(NNINIT_XAVIER_NORMAL), t, NNINIT_ERR_DIMS);
    t.layout = NNINIT_LAYOUT_CUSTOM;
    t.in_axis = 0;
    t.out_axis = 0;
    expect_fail(nninit_spec_default(NNINIT_XAVIER_NORMAL), t, NNINIT_ERR_LAYOUT);
    t.out_axis = 3;
    expect_fail(nninit_spec_default(NNINIT_XAVIER_NORMAL), t, NNINIT_ERR_LAYOUT);
    t.layout = (nninit_layout)42;
    expect_fail(nninit_spec_default(NNINIT_XAVIER_NORMAL), t, NNINIT_ERR_LAYOUT);
    t = nninit_tensor_make(3, three, NNINIT_F32);
    t.layout = NNINIT_LAYOUT_IOHW;
    t.groups = 3;
    expect_fail(nninit_spec_default(NNINIT_XAVIER_NORMAL), t, NNINIT_ERR_GROUPS);
    t.groups = -1;
    expect_fail(nninit_spec_default(NNINIT_XAVIER_NORMAL), t, NNINIT_ERR_GROUPS);
}

static void test_not_representable(void **state) {
    (void)state;
    nninit_tensor t = t2(2, 2);
    nninit_spec s = nninit_spec_default(NNINIT_CONSTANT);
    t.dtype = NNINIT_F16;
    s.value = 65520;
    expect_fail(s, t, NNINIT_ERR_NOT_REPRESENTABLE);
    s.value = -1e6;
    expect_fail(s, t, NNINIT_ERR_NOT_REPRESENTABLE);
    t.dtype = NNINIT_BF16;
    s.value = 1e39;
    expect_fail(s, t, NNINIT_ERR_NOT_REPRESENTABLE);
    t.dtype = NNINIT_F32;
    s.value = 1e39;
    expect_fail(s, t, NNINIT_ERR_NOT_REPRESENTABLE);
    t.dtype = NNINIT_F16;
    s = nninit_spec_default(NNINIT_UNIFORM);
    s.a = -1e5;
    s.b = 1;
    expect_fail(s, t, NNINIT_ERR_NOT_REPRESENTABLE);
    s = nninit_spec_default(NNINIT_NORMAL);
    s.std = 1e4;
    expect_fail(s, t, NNINIT_ERR_NOT_REPRESENTABLE);
    s = nninit_spec_default(NNINIT_TRUNC_NORMAL);
    s.b = 1e6;
    expect_fail(s, t, NNINIT_ERR_NOT_REPRESENTABLE);
}

static void test_ranges(void **state) {
    (void)state;
    nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
    nninit_tensor t = t2(4, 4);
    float buf[16];
    assert_int_equal(nninit_fill_range(&s, &t, nninit_key_make(0, 0), -1, 2, buf), NNINIT_ERR_SLICE);
    assert_int_equal(nninit_fill_range(&s, &t, nninit_key_make(0, 0), 3, 2, buf), NNINIT_ERR_SLICE);
    assert_int_equal(nninit_fill_range(&s, &t, nninit_key_make(0, 0), 0, 17, buf), NNINIT_ERR_SLICE);
    assert_int_equal(nninit_fill_range(&s, &t, nninit_key_make(0, 0), 16, 16, buf), NNINIT_OK);
    s = nninit_spec_default(NNINIT_ORTHOGONAL);
    assert_int_equal(nninit_fill_range(&s, &t, nninit_key_make(0, 0), 0, 8, buf), NNINIT_ERR_NOT_ELEMENTWISE);
    assert_int_equal(nninit_fill_range(&s, &t, nninit_key_make(0, 0), 0, 16, buf), NNINIT_OK);
}

/* A message that quotes a lower layer's message says each part once: the
 * formatter once printed the thread-local buffer into itself ("xavier_normal:
 * xavier_normal: hannels 4 not divisible by groups 3"). */
static void test_nested_message(void **state) {
    (void)state;
    int64_t shape[4] = {4, 4, 3, 3};
    nninit_tensor t = nninit_tensor_make(4, shape, NNINIT_F32);
    t.layout = NNINIT_LAYOUT_IOHW;
    t.groups = 3;
    nninit_info info;
    nninit_spec s = nninit_spec_default(NNINIT_XAVIER_NORMAL);
    assert_int_equal(nninit_explain(&s, &t, &info), NNINIT_ERR_GROUPS);
    assert_string_equal(nninit_last_error(), "xavier_normal: fans: iohw in-channels 4 not divisible by groups 3");
    int64_t one[1] = {5};
    nninit_tensor v = nninit_tensor_make(1, one, NNINIT_F32);
    s = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    assert_int_equal(nninit_explain(&s, &v, &info), NNINIT_ERR_DIMS);
    const char *m = nninit_last_error();
    assert_int_equal(strncmp(m, "kaiming_normal: fans: ", 22), 0);
    assert_null(strstr(m + 1, "kaiming_normal"));
}

static void test_status_names(void **state) {
    (void)state;
    for (int s = 0; s <= NNINIT_ERR_DIVERGED; s++)
        assert_true(strncmp(nninit_status_str((nninit_status)s), "NNINIT_", 7) == 0);
    assert_string_equal(nninit_status_str(NNINIT_ERR_RANGE), "NNINIT_ERR_RANGE");
    assert_string_equal(nninit_status_str((nninit_status)999), "NNINIT_ERR_UNKNOWN_STATUS");
    /* pinned values */
    assert_int_equal(NNINIT_ERR_NULL, 1);
    assert_int_equal(NNINIT_ERR_SPARSITY, 6);
    assert_int_equal(NNINIT_ERR_UNKNOWN_NAME, 18);
    nninit_scheme sc;
    assert_int_equal(nninit_scheme_parse("he_normal", &sc), NNINIT_OK);
    assert_int_equal(sc, NNINIT_KAIMING_NORMAL);
    assert_int_equal(nninit_scheme_parse("nope", &sc), NNINIT_ERR_UNKNOWN_NAME);
    for (int i = 0; i < NNINIT_SCHEME_COUNT; i++) {
        assert_int_equal(nninit_scheme_parse(nninit_scheme_name((nninit_scheme)i), &sc), NNINIT_OK);
        assert_int_equal(sc, i);
    }
    assert_string_equal(nninit_version_string(), "0.1.0");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_pointers),     cmocka_unit_test(test_bad_shapes),
        cmocka_unit_test(test_bad_parameters),    cmocka_unit_test(test_bad_dims),
        cmocka_unit_test(test_not_representable), cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_status_names),      cmocka_unit_test(test_nested_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

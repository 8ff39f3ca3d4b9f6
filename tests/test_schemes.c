/* test_schemes.c -- known answers for every distribution and dtype, the
 * deterministic schemes cell by cell, fans by layout, PyTorch's gain table,
 * and the resolved parameters of every fan-based scheme. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "nninit.h"

/* ---- known answers: first 8 values, seed 42, key "layers.0.weight", 4x4 ---
 * Produced by this library at the commit that introduced them; any change of
 * bits must come with a deliberate change of these tables (and docs/RNG.md). */
static const uint32_t kat_f32[4][8] = {
    /* uniform(-1,1) */ {0x3d0434e0u, 0xbd7fa4a0u, 0x3f00a940u, 0x3ec22300u, 0xbccb5980u, 0xbf6a04a8u, 0x3ed257c8u,
                         0xbf6bd9a2u},
    /* normal(0,1) */
    {0xbf728d0bu, 0x3f65eabbu, 0xbfb0b050u, 0x3dad368fu, 0xbf368496u, 0x4010abbbu, 0x3f9b9660u, 0xbc83e9b2u},
    /* trunc_normal(0,1,-2,2) */
    {0xbccdaf79u, 0xbfd1939fu, 0x3f123c2cu, 0x3f395b52u, 0xbe98ca3bu, 0x3fd1e13cu, 0x3ee8d71eu, 0xbf012a4bu},
    /* trunc_normal(0,1,3,8) */
    {0x4059693bu, 0x40653645u, 0x40695a0au, 0x404e7322u, 0x404105e3u, 0x405a2803u, 0x406d6097u, 0x4045dce2u},
};
static const uint64_t kat_f64[4][8] = {
    {0x3fa0869f11e00b60ull, 0x3fe01528132c2230ull, 0xbf996b2a3fa812c0ull, 0x3fda4af96b050994ull, 0x3fe5de43f0f78bf4ull,
     0xbfed1b2c25f76882ull, 0x3f5c348dbee77c00ull, 0xbfecd360b071a698ull},
    {0xbfef376d3b337a5dull, 0x3febc312a10d84e7ull, 0xc002c67a6a870ea9ull, 0x3fd53c2444b9b9a9ull, 0xbfece8fd80562daaull,
     0xbfe1fac28a756243ull, 0xbfe9dc662c2ec2ffull, 0xbff7dd97323bc804ull},
    {0xbf99b5ef1036ee66ull, 0xbffa3273ee9f6694ull, 0x3fe24785846f8e5full, 0x3fe72b6a49d0027eull, 0xbfd319476180b256ull,
     0x3ffa3c27729fb818ull, 0x3fdd1ae3bd3590ddull, 0xbfe025496185a406ull},
    {0x400b2d276b03b0d0ull, 0x400ca6c8934537d3ull, 0x400d2b413fb31491ull, 0x4009ce64469993efull, 0x400820bc6a44471dull,
     0x400b450069bd75adull, 0x400dac12e7ff621full, 0x4008bb9c339862d4ull},
};
static const uint16_t kat_bf16[4][8] = {
    {0x3d04, 0xbd80, 0x3f01, 0x3ec2, 0xbccb, 0xbf6a, 0x3ed2, 0xbf6c},
    {0xbf73, 0x3f66, 0xbfb1, 0x3dad, 0xbf37, 0x4011, 0x3f9c, 0xbc84},
    {0xbcce, 0xbfd2, 0x3f12, 0x3f39, 0xbe99, 0x3fd2, 0x3ee9, 0xbf01},
    {0x4059, 0x4065, 0x4069, 0x404e, 0x4041, 0x405a, 0x406d, 0x4046},
};
static const uint16_t kat_f16[4][8] = {
    {0x2822, 0xabfd, 0x3805, 0x3611, 0xa65b, 0xbb50, 0x3693, 0xbb5f},
    {0xbb94, 0x3b2f, 0xbd86, 0x2d6a, 0xb9b4, 0x4085, 0x3cdd, 0xa41f},
    {0xa66d, 0xbe8d, 0x3892, 0x39cb, 0xb4c6, 0x3e8f, 0x3747, 0xb809},
    {0x42cb, 0x432a, 0x434b, 0x4274, 0x4208, 0x42d1, 0x436b, 0x422f},
};

static nninit_spec kat_spec(int which) {
    nninit_spec s;
    switch (which) {
    case 0:
        s = nninit_spec_default(NNINIT_UNIFORM);
        s.a = -1;
        s.b = 1;
        break;
    case 1: s = nninit_spec_default(NNINIT_NORMAL); break;
    case 2: s = nninit_spec_default(NNINIT_TRUNC_NORMAL); break;
    default:
        s = nninit_spec_default(NNINIT_TRUNC_NORMAL);
        s.a = 3;
        s.b = 8;
        break;
    }
    return s;
}

static void test_known_answers(void **state) {
    (void)state;
    nninit_key k = nninit_key_from_name(42, "layers.0.weight");
    for (int w = 0; w < 4; w++) {
        nninit_spec s = kat_spec(w);
        uint8_t buf[16 * 8];
        nninit_tensor t = nninit_tensor_2d(4, 4, NNINIT_F32);
        assert_int_equal(nninit_fill(&s, &t, k, buf), NNINIT_OK);
        assert_memory_equal(buf, kat_f32[w], sizeof kat_f32[w]);
        t.dtype = NNINIT_F64;
        assert_int_equal(nninit_fill(&s, &t, k, buf), NNINIT_OK);
        assert_memory_equal(buf, kat_f64[w], sizeof kat_f64[w]);
        t.dtype = NNINIT_BF16;
        assert_int_equal(nninit_fill(&s, &t, k, buf), NNINIT_OK);
        assert_memory_equal(buf, kat_bf16[w], sizeof kat_bf16[w]);
        t.dtype = NNINIT_F16;
        assert_int_equal(nninit_fill(&s, &t, k, buf), NNINIT_OK);
        assert_memory_equal(buf, kat_f16[w], sizeof kat_f16[w]);
    }
}

/* bf16/f16 outputs are the f32 values rounded once. */
static void test_narrow_is_rounded_f32(void **state) {
    (void)state;
    nninit_key k = nninit_key_from_name(1, "w");
    float f[999];
    uint16_t h[999];
    for (int w = 0; w < 4; w++) {
        nninit_spec s = kat_spec(w);
        nninit_tensor t = nninit_tensor_2d(27, 37, NNINIT_F32);
        assert_int_equal(nninit_fill(&s, &t, k, f), NNINIT_OK);
        if (w >= 2) continue; /* truncated normals round from double: below */
        t.dtype = NNINIT_BF16;
        assert_int_equal(nninit_fill(&s, &t, k, h), NNINIT_OK);
        for (int i = 0; i < 999; i++) assert_int_equal(h[i], nninit_f32_to_bf16(f[i]));
        t.dtype = NNINIT_F16;
        assert_int_equal(nninit_fill(&s, &t, k, h), NNINIT_OK);
        for (int i = 0; i < 999; i++) assert_int_equal(h[i], nninit_f32_to_f16(f[i]));
    }
    /* truncated normal: every dtype is the f64 value rounded once */
    double d[999];
    nninit_spec s = kat_spec(2);
    nninit_tensor t = nninit_tensor_2d(27, 37, NNINIT_F64);
    assert_int_equal(nninit_fill(&s, &t, k, d), NNINIT_OK);
    t.dtype = NNINIT_F32;
    assert_int_equal(nninit_fill(&s, &t, k, f), NNINIT_OK);
    for (int i = 0; i < 999; i++) assert_true(f[i] == (float)d[i]);
}

static void test_constants(void **state) {
    (void)state;
    nninit_key k = nninit_key_make(0, 0);
    float f[12];
    nninit_tensor t = nninit_tensor_2d(3, 4, NNINIT_F32);
    nninit_spec s = nninit_spec_default(NNINIT_ONES);
    assert_int_equal(nninit_fill(&s, &t, k, f), NNINIT_OK);
    for (int i = 0; i < 12; i++) assert_true(f[i] == 1.0f);
    s = nninit_spec_default(NNINIT_ZEROS);
    assert_int_equal(nninit_fill(&s, &t, k, f), NNINIT_OK);
    for (int i = 0; i < 12; i++) assert_true(f[i] == 0.0f && !signbit(f[i]));
    s = nninit_spec_default(NNINIT_CONSTANT);
    s.value = 0.1;
    assert_int_equal(nninit_fill(&s, &t, k, f), NNINIT_OK);
    for (int i = 0; i < 12; i++) assert_true(f[i] == 0.1f);
    /* one rounding from double: 1 + 2^-8 + 2^-30 rounds up to 1 + 2^-7 in bf16
     * (a double rounding via f32 would give the tie 1 + 2^-8 -> 1.0). */
    uint16_t h[12];
    t.dtype = NNINIT_BF16;
    s.value = 1.0 + 0x1p-8 + 0x1p-30;
    assert_int_equal(nninit_fill(&s, &t, k, h), NNINIT_OK);
    assert_int_equal(h[0], 0x3f81);
    t.dtype = NNINIT_F16;
    s.value = 65504.0;
    assert_int_equal(nninit_fill(&s, &t, k, h), NNINIT_OK);
    assert_int_equal(h[0], 0x7bff);
    s.value = 65519.0; /* still rounds down to 65504 */
    assert_int_equal(nninit_fill(&s, &t, k, h), NNINIT_OK);
    assert_int_equal(h[0], 0x7bff);
}

static void test_eye(void **state) {
    (void)state;
    float f[15];
    nninit_tensor t = nninit_tensor_2d(3, 5, NNINIT_F32);
    nninit_spec s = nninit_spec_default(NNINIT_EYE);
    assert_int_equal(nninit_fill(&s, &t, nninit_key_make(0, 0), f), NNINIT_OK);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 5; c++) assert_true(f[r * 5 + c] == (r == c ? 1.0f : 0.0f));
    t = nninit_tensor_2d(5, 3, NNINIT_F32);
    assert_int_equal(nninit_fill(&s, &t, nninit_key_make(0, 0), f), NNINIT_OK);
    for (int r = 0; r < 5; r++)
        for (int c = 0; c < 3; c++) assert_true(f[r * 3 + c] == (r == c ? 1.0f : 0.0f));
}

/* dirac_ on (6, 2, 3, 3) with groups 2 (PyTorch's loop, written out):
 * out/groups = 3, min_dim = min(3, 2) = 2, so ones at
 * [0,0,1,1] [1,1,1,1] [3,0,1,1] [4,1,1,1]; channels 2 and 5 are all zero. */
static void test_dirac(void **state) {
    (void)state;
    int64_t shape[4] = {6, 2, 3, 3};
    float f[6 * 2 * 9];
    nninit_tensor t = nninit_tensor_make(4, shape, NNINIT_F32);
    nninit_spec s = nninit_spec_default(NNINIT_DIRAC);
    s.groups = 2;
    assert_int_equal(nninit_fill(&s, &t, nninit_key_make(0, 0), f), NNINIT_OK);
    int ones = 0;
    for (int i = 0; i < 6 * 2 * 9; i++) ones += f[i] == 1.0f;
    assert_int_equal(ones, 4);
#define AT(o, i, h, w) f[(((o)*2 + (i)) * 3 + (h)) * 3 + (w)]
    assert_true(AT(0, 0, 1, 1) == 1.0f);
    assert_true(AT(1, 1, 1, 1) == 1.0f);
    assert_true(AT(3, 0, 1, 1) == 1.0f);
    assert_true(AT(4, 1, 1, 1) == 1.0f);
#undef AT
    /* 3-D, even kernel: center is size//2 = 2 of 4 */
    int64_t s3[3] = {2, 2, 4};
    float g[16];
    t = nninit_tensor_make(3, s3, NNINIT_F32);
    s.groups = 1;
    assert_int_equal(nninit_fill(&s, &t, nninit_key_make(0, 0), g), NNINIT_OK);
    for (int i = 0; i < 16; i++) assert_true(g[i] == ((i == 2 || i == 14) ? 1.0f : 0.0f));
    /* 5-D */
    int64_t s5[5] = {2, 2, 3, 3, 3};
    float h[2 * 2 * 27];
    t = nninit_tensor_make(5, s5, NNINIT_F32);
    assert_int_equal(nninit_fill(&s, &t, nninit_key_make(0, 0), h), NNINIT_OK);
    assert_true(h[13] == 1.0f && h[(1 * 2 + 1) * 27 + 13] == 1.0f);
}

static void fans_of(int ndim, const int64_t *shape, nninit_layout l, int64_t groups, unsigned flags, double fi,
                    double fo) {
    nninit_tensor t = nninit_tensor_make(ndim, shape, NNINIT_F32);
    t.layout = l;
    t.groups = groups;
    t.flags = flags;
    double a, b;
    assert_int_equal(nninit_fans(&t, &a, &b), NNINIT_OK);
    assert_true(a == fi);
    assert_true(b == fo);
}

static void test_fans(void **state) {
    (void)state;
    int64_t lin[2] = {256, 784}, conv[4] = {64, 3, 7, 7}, dw[4] = {32, 1, 3, 3}, hwio[4] = {3, 3, 16, 32},
            tr[4] = {16, 8, 4, 4}, emb[2] = {50000, 512}, c3[5] = {8, 4, 3, 3, 3};
    fans_of(2, lin, NNINIT_LAYOUT_OIHW, 1, 0, 784, 256);
    fans_of(4, conv, NNINIT_LAYOUT_OIHW, 1, 0, 147, 3136);
    fans_of(5, c3, NNINIT_LAYOUT_OIHW, 1, 0, 108, 216);
    /* depthwise: PyTorch ignores groups for fan_out (pytorch#23854) ... */
    fans_of(4, dw, NNINIT_LAYOUT_OIHW, 32, 0, 9, 288);
    /* ... unless asked */
    fans_of(4, dw, NNINIT_LAYOUT_OIHW, 32, NNINIT_LAYOUT_GROUPED_FAN_OUT, 9, 9);
    fans_of(4, hwio, NNINIT_LAYOUT_HWIO, 1, 0, 144, 288);
    fans_of(2, lin, NNINIT_LAYOUT_HWIO, 1, 0, 256, 784); /* Keras Dense (in, out) */
    fans_of(4, tr, NNINIT_LAYOUT_IOHW, 1, 0, 256, 128);
    fans_of(4, tr, NNINIT_LAYOUT_IOHW, 4, 0, 64, 128);
    fans_of(4, tr, NNINIT_LAYOUT_OIHW, 4, 0, 128, 256); /* what PyTorch computes */
    fans_of(2, emb, NNINIT_LAYOUT_EMBEDDING, 1, 0, 1, 512);
    nninit_tensor t = nninit_tensor_make(4, conv, NNINIT_F32);
    t.layout = NNINIT_LAYOUT_CUSTOM;
    t.in_axis = 3;
    t.out_axis = 2;
    double a, b;
    assert_int_equal(nninit_fans(&t, &a, &b), NNINIT_OK);
    assert_true(a == 7 * 64 * 3 && b == 7 * 64 * 3);
    t.in_axis = 1;
    t.out_axis = 0;
    assert_int_equal(nninit_fans(&t, &a, &b), NNINIT_OK);
    assert_true(a == 147 && b == 3136);
}

static void test_gains(void **state) {
    (void)state;
    double g;
    for (int nl = NNINIT_NL_LINEAR; nl <= NNINIT_NL_SIGMOID; nl++) {
        assert_int_equal(nninit_calculate_gain((nninit_nonlinearity)nl, NAN, &g), NNINIT_OK);
        assert_true(g == 1.0);
    }
    assert_int_equal(nninit_calculate_gain(NNINIT_NL_TANH, NAN, &g), NNINIT_OK);
    assert_true(g == 5.0 / 3.0);
    assert_int_equal(nninit_calculate_gain(NNINIT_NL_RELU, NAN, &g), NNINIT_OK);
    assert_true(g == sqrt(2.0));
    assert_int_equal(nninit_calculate_gain(NNINIT_NL_LEAKY_RELU, NAN, &g), NNINIT_OK);
    assert_true(g == sqrt(2.0 / (1 + 0.01 * 0.01)));
    assert_int_equal(nninit_calculate_gain(NNINIT_NL_LEAKY_RELU, 0.2, &g), NNINIT_OK);
    assert_true(g == sqrt(2.0 / 1.04));
    assert_int_equal(nninit_calculate_gain(NNINIT_NL_LEAKY_RELU, 0.0, &g), NNINIT_OK);
    assert_true(g == sqrt(2.0));
    assert_int_equal(nninit_calculate_gain(NNINIT_NL_SELU, NAN, &g), NNINIT_OK);
    assert_true(g == 0.75);
}

static nninit_info explain(nninit_spec s, int ndim, const int64_t *shape) {
    nninit_tensor t = nninit_tensor_make(ndim, shape, NNINIT_F32);
    nninit_info in;
    assert_int_equal(nninit_explain(&s, &t, &in), NNINIT_OK);
    return in;
}

static void test_resolved_parameters(void **state) {
    (void)state;
    int64_t conv[4] = {64, 3, 7, 7};
    nninit_spec s = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    s.nonlinearity = NNINIT_NL_RELU;
    nninit_info in = explain(s, 4, conv);
    assert_true(in.kind == NNINIT_RESOLVED_NORMAL);
    assert_true(in.fan == 147 && in.gain == sqrt(2.0));
    assert_true(in.std == sqrt(2.0) / sqrt(147.0));
    assert_true(isnan(in.bound));
    s.scheme = NNINIT_KAIMING_UNIFORM;
    s.mode = NNINIT_FAN_OUT;
    in = explain(s, 4, conv);
    assert_true(in.kind == NNINIT_RESOLVED_UNIFORM);
    assert_true(in.bound == sqrt(3.0) * (sqrt(2.0) / sqrt(3136.0)));
    assert_true(in.lo == -in.bound && in.hi == in.bound);
    /* nn.Linear's default: kaiming_uniform(a = sqrt 5) = U(+-1/sqrt(fan_in)) */
    int64_t lin[2] = {10, 100};
    s = nninit_spec_default(NNINIT_KAIMING_UNIFORM);
    s.slope = sqrt(5.0);
    in = explain(s, 2, lin);
    assert_float_equal(in.bound, 0.1, 1e-15);
    s = nninit_spec_default(NNINIT_XAVIER_UNIFORM);
    s.gain = 5.0 / 3.0;
    in = explain(s, 2, lin);
    assert_true(in.std == 5.0 / 3.0 * sqrt(2.0 / 110.0));
    assert_float_equal(in.bound, 5.0 / 3.0 * sqrt(6.0 / 110.0), 1e-15);
    s = nninit_spec_default(NNINIT_LECUN_NORMAL);
    in = explain(s, 2, lin);
    assert_true(in.std == 0.1 && in.kind == NNINIT_RESOLVED_NORMAL);
    s = nninit_spec_default(NNINIT_LECUN_UNIFORM);
    in = explain(s, 2, lin);
    assert_float_equal(in.bound, sqrt(3.0 / 100.0), 1e-15);
    /* variance_scaling: Keras' truncated normal gets std/0.8796... and +-2 std */
    s = nninit_spec_default(NNINIT_VARIANCE_SCALING);
    s.scale = 2.0;
    in = explain(s, 2, lin);
    assert_true(in.kind == NNINIT_RESOLVED_TRUNC_NORMAL);
    assert_float_equal(in.std, sqrt(2.0 / 100.0) / 0.87962566103423978, 1e-15);
    assert_float_equal(in.variance, 0.02, 1e-12); /* the requested variance */
    assert_float_equal(in.hi, 2 * in.std, 1e-15);
    s.mode = NNINIT_FAN_GEO_AVG;
    s.distribution = NNINIT_DIST_UNIFORM;
    in = explain(s, 2, lin);
    assert_float_equal(in.variance, 2.0 / sqrt(1000.0), 1e-12);
    s.mode = NNINIT_FAN_AVG;
    s.distribution = NNINIT_DIST_NORMAL;
    in = explain(s, 2, lin);
    assert_float_equal(in.std, sqrt(2.0 / 55.0), 1e-15);
    /* trunc normal on [-2, 2]: variance 0.77374... = 0.87962566103423978^2 */
    s = nninit_spec_default(NNINIT_TRUNC_NORMAL);
    in = explain(s, 2, lin);
    assert_float_equal(in.variance, 0.87962566103423978 * 0.87962566103423978, 1e-14);
    assert_float_equal(in.mean, 0.0, 1e-15);
    /* far tail [3, 8]: mean = (phi(3) - phi(8))/(Q(3) - Q(8)) = 3.28309865... (scipy) */
    s.a = 3;
    s.b = 8;
    in = explain(s, 2, lin);
    assert_float_equal(in.mean, 3.28309865492821, 1e-9);
    assert_float_equal(in.variance, 0.07055918677449247, 1e-9);
    /* reference values: scipy.stats.truncnorm(a, b).mean(), .var() */
    static const double ref[4][4] = {{30, INFINITY, 30.033259667436372, 0.0011037714308590463},
                                     {-1, 0.5, -0.20663121806153306, 0.1727732590864931},
                                     {0.1, 0.2, 0.14987504213000769, 0.0008330462226399105},
                                     {-8, -3, -3.2830986549282106, 0.07055918677449247}};
    for (int r = 0; r < 4; r++) {
        s.a = ref[r][0];
        s.b = ref[r][1];
        in = explain(s, 2, lin);
        assert_float_equal(in.mean, ref[r][2], 1e-9 * fabs(ref[r][2]) + 1e-12);
        assert_float_equal(in.variance, ref[r][3], 1e-7 * ref[r][3]);
    }
}

/* nninit_scheme_uses_fans: exactly the schemes whose explain std changes
 * with the layout (8x2x3x3 read as OIHW: fans 18, 72; as HWIO: 48, 48). */
static int differ(double x, double y) { return !(x == y || (isnan(x) && isnan(y))); }

static void test_uses_fans(void **state) {
    (void)state;
    const int64_t shape[4] = {8, 2, 3, 3};
    nninit_tensor a = nninit_tensor_make(4, shape, NNINIT_F32), b = a;
    b.layout = NNINIT_LAYOUT_HWIO;
    for (int k = 0; k < NNINIT_SCHEME_COUNT; k++) {
        nninit_spec sp = nninit_spec_default((nninit_scheme)k);
        if (k == NNINIT_KAIMING_NORMAL || k == NNINIT_KAIMING_UNIFORM || k == NNINIT_VARIANCE_SCALING)
            sp.mode = NNINIT_FAN_IN;
        nninit_info ia, ib;
        int moves = nninit_explain(&sp, &a, &ia) == NNINIT_OK && nninit_explain(&sp, &b, &ib) == NNINIT_OK &&
                    (differ(ia.std, ib.std) || differ(ia.bound, ib.bound));
        if (moves != nninit_scheme_uses_fans((nninit_scheme)k))
            print_error("%s\n", nninit_scheme_name((nninit_scheme)k));
        assert_int_equal(moves, nninit_scheme_uses_fans((nninit_scheme)k));
    }
    assert_int_equal(nninit_scheme_uses_fans((nninit_scheme)-1), 0);
    assert_int_equal(nninit_scheme_uses_fans(NNINIT_SCHEME_COUNT), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_narrow_is_rounded_f32),
        cmocka_unit_test(test_uses_fans),
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_eye),
        cmocka_unit_test(test_dirac),
        cmocka_unit_test(test_fans),
        cmocka_unit_test(test_gains),
        cmocka_unit_test(test_resolved_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

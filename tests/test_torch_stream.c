/* test_torch_stream.c -- the torch stream (include/nninit_torch.h): MT19937
 * known answers (the reference generator and torch's seeding), values pasted
 * from Debian's PyTorch 1.13, the AVX2 kernels against the C definition on
 * every input the block kernel can meet, the state bytes, and every argument
 * error. tests/test_torch_stream_torch.py compares against torch itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nninit_torch.h"
#include "torch/torch_internal.h"

static uint32_t bits32(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static uint64_t bits64(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* Matsumoto & Nishimura's mt19937ar with init_genrand(5489) (the C++11
 * std::mt19937 default): first outputs, and the 10000th (std::mt19937's
 * required check value, [rand.predef]). */
static void test_mt_reference_kat(void **state) {
    (void)state;
    nninit_torch_gen g;
    assert_int_equal(nninit_torch_gen_init(&g, 5489), NNINIT_OK);
    uint32_t w[10000];
    assert_int_equal(nninit_torch_random(&g, w, 10000), NNINIT_OK);
    static const uint32_t first[5] = {3499211612u, 581869302u, 3890346734u, 3586334585u, 545404204u};
    for (int i = 0; i < 5; i++) assert_int_equal(w[i], first[i]);
    assert_int_equal(w[9999], 4123659995u);
}

/* torch.manual_seed(137): the first words (llm.c's llmc/rand.h header, and
 * the tempered state of torch.get_rng_state() after one draw here). Only the
 * low 32 bits of the seed reach the engine; all 64 are kept. */
static void test_torch_seeding(void **state) {
    (void)state;
    nninit_torch_gen g, h;
    nninit_torch_gen_init(&g, 137);
    assert_int_equal(g.left, 1);
    assert_int_equal(g.next, 0);
    uint32_t w[5], v[5];
    nninit_torch_random(&g, w, 5);
    static const uint32_t kat[5] = {4053805790u, 2173880614u, 380293709u, 1237255315u, 2986595568u};
    for (int i = 0; i < 5; i++) assert_int_equal(w[i], kat[i]);
    assert_int_equal(g.left, 620);
    assert_int_equal(g.next, 5);
    nninit_torch_gen_init(&g, (UINT64_C(1) << 32) + 137);
    nninit_torch_gen_init(&h, 137);
    assert_true(g.seed != h.seed);
    nninit_torch_random(&g, w, 5);
    nninit_torch_random(&h, v, 5);
    assert_memory_equal(w, v, sizeof w);
    nninit_torch_gen_init(&g, UINT64_C(1) << 63); /* torch.manual_seed(2**63) streams as seed 0 */
    nninit_torch_gen_init(&h, 0);
    nninit_torch_random(&g, w, 5);
    nninit_torch_random(&h, v, 5);
    assert_memory_equal(w, v, sizeof w);
}

/* Words drawn in any split are the words drawn at once, and the one-word
 * path (nninit__mt_next) agrees with the bulk path, across twists. */
static void test_words_split(void **state) {
    (void)state;
    enum {
        N = 5000
    };
    static uint32_t all[N], part[N], one[N];
    nninit_torch_gen g;
    nninit_torch_gen_init(&g, 42);
    nninit_torch_random(&g, all, N);
    static const int cuts[] = {1, 622, 1, 1, 624, 625, 1247, 3, 1000};
    nninit_torch_gen_init(&g, 42);
    int at = 0;
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        nninit_torch_random(&g, part + at, cuts[c]);
        at += cuts[c];
    }
    nninit_torch_random(&g, part + at, N - at);
    assert_memory_equal(all, part, sizeof all);
    nninit_torch_gen_init(&g, 42);
    for (int i = 0; i < N; i++) one[i] = nninit__mt_next(&g);
    assert_memory_equal(all, one, sizeof all);
}

/* Values of Debian's python3-torch 1.13 on an AVX2 CPU (hex of the bits). */
static void test_torch_known_values(void **state) {
    (void)state;
    nninit_torch_gen g;
    float f[17];
    double d[16];
    /* torch.manual_seed(0); torch.rand(5) -> 0.4963, 0.7682, 0.0885, 0.1320, 0.3074 */
    static const uint32_t rand5[5] = {0x3efe1558u, 0x3f44aa2fu, 0x3db533a8u, 0x3e073300u, 0x3e9d6686u};
    nninit_torch_gen_init(&g, 0);
    assert_int_equal(nninit_torch_uniform(&g, NNINIT_F32, f, 5, 0, 1), NNINIT_OK);
    for (int i = 0; i < 5; i++) assert_int_equal(bits32(f[i]), rand5[i]);
    /* torch.manual_seed(0); torch.randn(5) -> 1.5410, -0.2934, -2.1788, 0.5684, -1.0845
     * (n < 16: Box-Muller in double, the second value of each pair cached) */
    static const uint32_t randn5[5] = {0x3fc53f5cu, 0xbe963c50u, 0xc00b7149u, 0x3f1184b6u, 0xbf8ad1a1u};
    nninit_torch_gen_init(&g, 0);
    assert_int_equal(nninit_torch_normal(&g, NNINIT_F32, f, 5, 0, 1), NNINIT_OK);
    for (int i = 0; i < 5; i++) assert_int_equal(bits32(f[i]), randn5[i]);
    assert_true(g.has_next_double_normal);
    /* torch.randn(16): one AVX2 block; torch.randn(17): the block, then the
     * last 16 drawn again and redone (position 1 changes, position 0 stays) */
    nninit_torch_gen_init(&g, 0);
    nninit_torch_normal(&g, NNINIT_F32, f, 16, 0, 1);
    assert_int_equal(bits32(f[0]), 0xbf901b85u);
    assert_int_equal(bits32(f[1]), 0xbf93808au);
    assert_int_equal(bits32(f[14]), 0x3f8ef28eu);
    assert_int_equal(bits32(f[15]), 0xbe7d367cu);
    nninit_torch_gen_init(&g, 0);
    nninit_torch_normal(&g, NNINIT_F32, f, 17, 0, 1);
    assert_int_equal(bits32(f[0]), 0xbf901b85u);
    assert_int_equal(bits32(f[1]), 0xbfd91446u);
    assert_int_equal(bits32(f[15]), 0xbf57fb33u);
    assert_int_equal(bits32(f[16]), 0x3f6e8c30u);
    /* torch.randn(16, dtype=torch.float64) */
    nninit_torch_gen_init(&g, 0);
    nninit_torch_normal(&g, NNINIT_F64, d, 16, 0, 1);
    assert_true(bits64(d[0]) == UINT64_C(0xc0027bb92e9262dc));
    assert_true(bits64(d[1]) == UINT64_C(0xbfd7e35794939460));
    /* torch.manual_seed(42); torch.empty(3, dtype=torch.float64).uniform_(-1, 1) */
    static const uint64_t u64[3] = {UINT64_C(0xbfec4732682b849a), UINT64_C(0xbfebf947a214d5e4),
                                    UINT64_C(0xbfe8172a70cc5772)};
    nninit_torch_gen_init(&g, 42);
    nninit_torch_uniform(&g, NNINIT_F64, d, 3, -1, 1);
    for (int i = 0; i < 3; i++) assert_true(bits64(d[i]) == u64[i]);
    /* torch.manual_seed(0); nn.init.trunc_normal_(torch.empty(4), std=0.02) */
    static const uint32_t trunc4[4] = {0xb944c926u, 0x3c7030c6u, 0xbcdd3719u, 0xbcb6fbd6u};
    nninit_torch_gen_init(&g, 0);
    assert_int_equal(nninit_torch_trunc_normal(&g, NNINIT_F32, f, 4, 0, 0.02, -2, 2), NNINIT_OK);
    for (int i = 0; i < 4; i++) assert_int_equal(bits32(f[i]), trunc4[i]);
    /* torch.manual_seed(0); nn.Linear(3, 2): weight (2, 3), then bias (2) */
    static const uint32_t lw[6] = {0xbb8da3e8u, 0x3e9e9313u, 0xbef34b7eu, 0xbed98bc9u, 0xbe63b4b1u, 0x3e1e8953u};
    static const uint32_t lb[2] = {0xbc3b6b40u, 0x3eea617au};
    float w[6], b[2];
    nninit_torch_gen_init(&g, 0);
    assert_int_equal(nninit_torch_linear(&g, NNINIT_F32, 3, 2, 1, w, b), NNINIT_OK);
    for (int i = 0; i < 6; i++) assert_int_equal(bits32(w[i]), lw[i]);
    for (int i = 0; i < 2; i++) assert_int_equal(bits32(b[i]), lb[i]);
}

/* The AVX2 block kernel against its definition (the lane functions of
 * normal.c) on every input it can meet: u1 = 1 - k 2^-24 and theta = 2 pi k
 * 2^-24 for all 2^24 k, std and mean not 1 and 0 (so the last fma counts). */
static void test_normal_block_exhaustive(void **state) {
    (void)state;
#if NNINIT__TORCH_HAVE_AVX2
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
        print_message("no AVX2+FMA on this CPU: block kernel not compared\n");
        return;
    }
    float a[16], b[16];
    int64_t mismatches = 0;
    for (uint32_t k = 0; k < (1u << 24); k += 8) {
        for (int j = 0; j < 8; j++) {
            a[j] = (float)(k + (uint32_t)j) * 0x1p-24f;
            a[j + 8] = (float)((k + (uint32_t)j) ^ 0x5a5a5au) * 0x1p-24f; /* another pairing of u1 and u2 */
        }
        memcpy(b, a, sizeof a);
        nninit__normal16_avx2(a, 0.25f, 1.75f);
        nninit__torch_normal16_scalar(b, 0.25f, 1.75f);
        mismatches += memcmp(a, b, sizeof a) != 0;
    }
    assert_int_equal(mismatches, 0);
    /* the twist and the tempering on 8 lanes */
    uint32_t s1[624], s2[624], t1[624], t2[624];
    for (int i = 0; i < 624; i++) s1[i] = s2[i] = (uint32_t)i * 2654435761u ^ 0xdeadbeefu;
    for (int r = 0; r < 4; r++) {
        nninit__mt_twist(s1);
        nninit__mt_twist_avx2(s2);
        assert_memory_equal(s1, s2, sizeof s1);
        nninit__mt_temper_avx2(s1, t2, 621);
        for (int i = 0; i < 621; i++) t1[i] = nninit__mt_temper(s1[i]);
        assert_memory_equal(t1, t2, 621 * sizeof t1[0]);
    }
#else
    print_message("no AVX2 kernels in this build\n");
#endif
}

/* The lane log and sincos are Cephes-accurate: a slip in a constant or an
 * operand would show as an error far above their few ulps. */
static void test_lanes_accuracy(void **state) {
    (void)state;
    double worst_log = 0, worst_sc = 0;
    for (uint32_t k = 1; k <= (1u << 24); k += 97) {
        float u = (float)k * 0x1p-24f;
        worst_log = fmax(worst_log, fabs(nninit__torch_log_lane(u) - log(u)) / fmax(1, fabs(log(u))));
        float s, c, th = (float)(2.0f * NNINIT_PI) * (u - 0x1p-24f);
        nninit__torch_sincos_lane(th, &s, &c);
        worst_sc = fmax(worst_sc, fmax(fabs(s - sin(th)), fabs(c - cos(th))));
    }
    assert_true(worst_log < 4e-7);
    assert_true(worst_sc < 1e-6);
    assert_true(isnan(nninit__torch_log_lane(0.0f))); /* "return NaN for x <= 0" */
    assert_true(isnan(nninit__torch_log_lane(-1.0f)));
}

/* calc_erfinv's edges, and its accuracy (both builds). */
static void test_erfinv(void **state) {
    (void)state;
    for (int fused = 0; fused < 2; fused++) {
        assert_true(nninit__torch_erfinv_f32(0.0f, fused) == 0.0f);
        assert_true(isinf(nninit__torch_erfinv_f32(1.0f, fused)) && nninit__torch_erfinv_f32(1.0f, fused) > 0);
        assert_true(isinf(nninit__torch_erfinv_f32(-1.0f, fused)) && nninit__torch_erfinv_f32(-1.0f, fused) < 0);
        assert_true(isnan(nninit__torch_erfinv_f32(1.5f, fused)));
        assert_true(isnan(nninit__torch_erfinv_f64(-1.5, fused)));
        for (double y = -0.999; y < 1; y += 0.0137) {
            assert_true(fabs(erf(nninit__torch_erfinv_f64(y, fused)) - y) < 1e-15);
            assert_true(fabs(erf(nninit__torch_erfinv_f32((float)y, fused)) - (float)y) < 1e-6);
        }
    }
}

/* get_state / set_state: a copy continues the stream, caches included. */
static void test_state_bytes(void **state) {
    (void)state;
    nninit_torch_gen g, h;
    static unsigned char buf[NNINIT_TORCH_STATE_SIZE];
    nninit_torch_gen_init(&g, 3);
    double x[3], y[40], z[40];
    nninit_torch_normal(&g, NNINIT_F64, x, 3, 0, 1); /* leaves a cached value */
    assert_int_equal(nninit_torch_gen_get_state(&g, buf, sizeof buf), NNINIT_OK);
    nninit_torch_gen_init(&h, 99);
    nninit_torch_gen_set_cpu(&h, NNINIT_TORCH_CPU_DEFAULT);
    assert_int_equal(nninit_torch_gen_set_state(&h, buf, sizeof buf), NNINIT_OK);
    assert_int_equal(h.cpu, NNINIT_TORCH_CPU_DEFAULT); /* kept */
    nninit_torch_gen_set_cpu(&h, NNINIT_TORCH_CPU_AVX2);
    assert_int_equal(h.seed, 3);
    nninit_torch_normal(&g, NNINIT_F64, y, 5, 0, 1);
    nninit_torch_normal(&h, NNINIT_F64, z, 5, 0, 1);
    assert_memory_equal(y, z, 5 * sizeof y[0]);
    nninit_torch_uniform(&g, NNINIT_F64, y, 40, 0, 1);
    nninit_torch_uniform(&h, NNINIT_F64, z, 40, 0, 1);
    assert_memory_equal(y, z, sizeof y);
    /* byte layout: left at 8, next at 16, the cache valid flag at 5040 */
    nninit_torch_gen_init(&g, 3);
    nninit_torch_gen_get_state(&g, buf, sizeof buf);
    assert_int_equal(buf[8], 1);
    assert_int_equal(buf[12], 1);
    assert_int_equal(buf[5040], 0);
}

/* The cpu modes draw the same words and round differently. */
static void test_cpu_modes(void **state) {
    (void)state;
    nninit_torch_gen g, h;
    enum {
        N = 4096
    };
    static float a[N], b[N];
    nninit_torch_gen_init(&g, 5);
    nninit_torch_gen_init(&h, 5);
    assert_int_equal(nninit_torch_gen_set_cpu(&h, NNINIT_TORCH_CPU_DEFAULT), NNINIT_OK);
    nninit_torch_uniform(&g, NNINIT_F32, a, N, -0.3, 0.9);
    nninit_torch_uniform(&h, NNINIT_F32, b, N, -0.3, 0.9);
    int differ = 0;
    for (int i = 0; i < N; i++) {
        differ += a[i] != b[i];
        assert_true(fabsf(a[i] - b[i]) <= 1e-7f);
    }
    assert_true(differ > 0);
    assert_int_equal(g.next, h.next);
    nninit_torch_normal(&g, NNINIT_F32, a, N - 5, 0, 1);
    nninit_torch_normal(&h, NNINIT_F32, b, N - 5, 0, 1);
    for (int i = 0; i < N - 5; i++) assert_true(fabsf(a[i] - b[i]) <= 1e-5f * (1 + fabsf(a[i])));
    assert_int_equal(g.next, h.next);
}

static void test_zero_elements(void **state) {
    (void)state;
    nninit_torch_gen g, h;
    nninit_torch_gen_init(&g, 1);
    h = g;
    assert_int_equal(nninit_torch_uniform(&g, NNINIT_F32, NULL, 0, 0, 1), NNINIT_OK);
    assert_int_equal(nninit_torch_normal(&g, NNINIT_F64, NULL, 0, 0, 1), NNINIT_OK);
    assert_int_equal(nninit_torch_trunc_normal(&g, NNINIT_F32, NULL, 0, 0, 1, -2, 2), NNINIT_OK);
    assert_int_equal(nninit_torch_random(&g, NULL, 0), NNINIT_OK);
    assert_memory_equal(&g, &h, sizeof g);
}

#define EXPECT(call, status)                                                                                           \
    do {                                                                                                               \
        nninit_torch_gen before_ = g;                                                                                  \
        assert_int_equal((call), (status));                                                                            \
        assert_true(nninit_last_error()[0] != 0);                                                                      \
        assert_memory_equal(&g, &before_, sizeof g);                                                                   \
    } while (0)

/* Every argument error, found before anything is drawn. */
static void test_argument_errors(void **state) {
    (void)state;
    nninit_torch_gen g;
    float f[64];
    uint32_t w[4];
    static unsigned char buf[NNINIT_TORCH_STATE_SIZE + 1];
    const int64_t s2[2] = {4, 3}, s0[2] = {4, 0}, s1[1] = {5}, big[3] = {INT64_C(1) << 40, INT64_C(1) << 40, 2};
    const int64_t k3[2] = {3, 3}, kbad[2] = {3, 0};
    assert_int_equal(nninit_torch_gen_init(NULL, 0), NNINIT_ERR_NULL);
    nninit_torch_gen_init(&g, 11);
    nninit_torch_random(&g, w, 2);
    assert_int_equal(nninit_torch_gen_set_cpu(NULL, NNINIT_TORCH_CPU_AVX2), NNINIT_ERR_NULL);
    EXPECT(nninit_torch_gen_set_cpu(&g, (nninit_torch_cpu)7), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_random(NULL, w, 1), NNINIT_ERR_NULL);
    EXPECT(nninit_torch_random(&g, NULL, 1), NNINIT_ERR_NULL);
    EXPECT(nninit_torch_random(&g, w, -1), NNINIT_ERR_PARAM);
    /* uniform */
    EXPECT(nninit_torch_uniform(NULL, NNINIT_F32, f, 4, 0, 1), NNINIT_ERR_NULL);
    EXPECT(nninit_torch_uniform(&g, NNINIT_F32, NULL, 4, 0, 1), NNINIT_ERR_NULL);
    EXPECT(nninit_torch_uniform(&g, NNINIT_F32, f, -1, 0, 1), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_uniform(&g, NNINIT_BF16, f, 4, 0, 1), NNINIT_ERR_DTYPE);
    EXPECT(nninit_torch_uniform(&g, NNINIT_F16, f, 4, 0, 1), NNINIT_ERR_DTYPE);
    EXPECT(nninit_torch_uniform(&g, (nninit_dtype)9, f, 4, 0, 1), NNINIT_ERR_DTYPE);
    EXPECT(nninit_torch_uniform(&g, NNINIT_F32, f, 4, NAN, 1), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_uniform(&g, NNINIT_F32, f, 4, 0, INFINITY), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_uniform(&g, NNINIT_F32, f, 4, 1, 0), NNINIT_ERR_RANGE);
    EXPECT(nninit_torch_uniform(&g, NNINIT_F32, f, 4, -1e39, 0), NNINIT_ERR_NOT_REPRESENTABLE);
    EXPECT(nninit_torch_uniform(&g, NNINIT_F32, f, 4, -3e38, 3e38), NNINIT_ERR_NOT_REPRESENTABLE);
    EXPECT(nninit_torch_uniform(&g, NNINIT_F64, f, 4, -1.7e308, 1.7e308), NNINIT_ERR_NOT_REPRESENTABLE);
    /* a == b is torch's U(a, a): drawn, every value a */
    assert_int_equal(nninit_torch_uniform(&g, NNINIT_F32, f, 4, 0.5, 0.5), NNINIT_OK);
    assert_true(f[0] == 0.5f && f[3] == 0.5f);
    /* normal */
    EXPECT(nninit_torch_normal(&g, NNINIT_F32, NULL, 20, 0, 1), NNINIT_ERR_NULL);
    EXPECT(nninit_torch_normal(&g, NNINIT_F16, f, 20, 0, 1), NNINIT_ERR_DTYPE);
    EXPECT(nninit_torch_normal(&g, NNINIT_F32, f, 20, 0, -1), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_normal(&g, NNINIT_F32, f, 20, NAN, 1), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_normal(&g, NNINIT_F32, f, 20, 0, INFINITY), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_normal(&g, NNINIT_F32, f, 20, 1e39, 1), NNINIT_ERR_NOT_REPRESENTABLE);
    /* trunc_normal */
    EXPECT(nninit_torch_trunc_normal(&g, NNINIT_F32, f, 4, 0, 0, -2, 2), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_trunc_normal(&g, NNINIT_F32, f, 4, 0, -1, -2, 2), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_trunc_normal(&g, NNINIT_F32, f, 4, 0, 1, NAN, 2), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_trunc_normal(&g, NNINIT_F32, f, 4, INFINITY, 1, -2, 2), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_trunc_normal(&g, NNINIT_F32, f, 4, 0, 1, 2, -2), NNINIT_ERR_RANGE);
    EXPECT(nninit_torch_trunc_normal(&g, NNINIT_F32, f, 4, 0, 1e39, -2, 2), NNINIT_ERR_NOT_REPRESENTABLE);
    EXPECT(nninit_torch_trunc_normal(&g, NNINIT_F64, f, 4, 0, 1.5e308, -2, 2), NNINIT_ERR_NOT_REPRESENTABLE);
    EXPECT(nninit_torch_trunc_normal(&g, NNINIT_BF16, f, 4, 0, 1, -2, 2), NNINIT_ERR_DTYPE);
    /* infinite bounds are torch's too: U(-1, 1) before erfinv, no clamp */
    assert_int_equal(nninit_torch_trunc_normal(&g, NNINIT_F32, f, 4, 0, 1, -INFINITY, INFINITY), NNINIT_OK);
    /* kaiming / xavier */
    EXPECT(nninit_torch_kaiming_uniform(NULL, NNINIT_F32, f, 2, s2, 0, NNINIT_FAN_IN, NNINIT_NL_RELU), NNINIT_ERR_NULL);
    EXPECT(nninit_torch_kaiming_uniform(&g, NNINIT_F32, NULL, 2, s2, 0, NNINIT_FAN_IN, NNINIT_NL_RELU),
           NNINIT_ERR_NULL);
    EXPECT(nninit_torch_kaiming_uniform(&g, NNINIT_F32, f, 2, NULL, 0, NNINIT_FAN_IN, NNINIT_NL_RELU), NNINIT_ERR_NULL);
    EXPECT(nninit_torch_kaiming_uniform(&g, NNINIT_F32, f, 1, s1, 0, NNINIT_FAN_IN, NNINIT_NL_RELU), NNINIT_ERR_DIMS);
    EXPECT(nninit_torch_kaiming_uniform(&g, NNINIT_F32, f, 9, s2, 0, NNINIT_FAN_IN, NNINIT_NL_RELU), NNINIT_ERR_DIMS);
    EXPECT(nninit_torch_kaiming_uniform(&g, NNINIT_F32, f, 2, s0, 0, NNINIT_FAN_IN, NNINIT_NL_RELU), NNINIT_ERR_SHAPE);
    EXPECT(nninit_torch_kaiming_uniform(&g, NNINIT_F32, f, 3, big, 0, NNINIT_FAN_IN, NNINIT_NL_RELU),
           NNINIT_ERR_OVERFLOW);
    EXPECT(nninit_torch_kaiming_uniform(&g, NNINIT_F32, f, 2, s2, 0, NNINIT_FAN_AVG, NNINIT_NL_RELU), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_kaiming_normal(&g, NNINIT_F32, f, 2, s2, 0, NNINIT_FAN_GEO_AVG, NNINIT_NL_RELU),
           NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_kaiming_normal(&g, NNINIT_F32, f, 2, s2, NAN, NNINIT_FAN_IN, NNINIT_NL_LEAKY_RELU),
           NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_kaiming_normal(&g, NNINIT_F32, f, 2, s2, 0, NNINIT_FAN_IN, NNINIT_NL_COUNT),
           NNINIT_ERR_NONLINEARITY);
    EXPECT(nninit_torch_kaiming_normal(&g, NNINIT_F16, f, 2, s2, 0, NNINIT_FAN_IN, NNINIT_NL_RELU), NNINIT_ERR_DTYPE);
    EXPECT(nninit_torch_xavier_uniform(&g, NNINIT_F32, f, 2, s2, INFINITY), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_xavier_uniform(&g, NNINIT_F32, f, 2, s2, -1), NNINIT_ERR_RANGE); /* torch: from > to */
    EXPECT(nninit_torch_xavier_normal(&g, NNINIT_F32, f, 2, s2, -1), NNINIT_ERR_PARAM);  /* torch: std < 0 */
    EXPECT(nninit_torch_xavier_normal(&g, NNINIT_F32, f, 1, s1, 1), NNINIT_ERR_DIMS);
    EXPECT(nninit_torch_xavier_normal(&g, NNINIT_F32, NULL, 2, s2, 1), NNINIT_ERR_NULL);
    /* modules */
    EXPECT(nninit_torch_linear(NULL, NNINIT_F32, 3, 4, 1, f, f), NNINIT_ERR_NULL);
    EXPECT(nninit_torch_linear(&g, NNINIT_F32, 3, 4, 1, NULL, f), NNINIT_ERR_NULL);
    EXPECT(nninit_torch_linear(&g, NNINIT_F32, 3, 4, 1, f, NULL), NNINIT_ERR_NULL);
    EXPECT(nninit_torch_linear(&g, NNINIT_F32, 0, 4, 1, f, f), NNINIT_ERR_SHAPE);
    EXPECT(nninit_torch_linear(&g, NNINIT_F32, 3, -1, 0, f, NULL), NNINIT_ERR_SHAPE);
    EXPECT(nninit_torch_linear(&g, NNINIT_BF16, 3, 4, 0, f, NULL), NNINIT_ERR_DTYPE);
    EXPECT(nninit_torch_linear(&g, NNINIT_F32, INT64_C(1) << 32, INT64_C(1) << 32, 0, f, NULL), NNINIT_ERR_OVERFLOW);
    EXPECT(nninit_torch_conv2d(&g, NNINIT_F32, 4, 6, 3, 3, 4, 1, f, f), NNINIT_ERR_GROUPS);
    EXPECT(nninit_torch_conv2d(&g, NNINIT_F32, 6, 4, 3, 3, 4, 1, f, f), NNINIT_ERR_GROUPS);
    EXPECT(nninit_torch_conv2d(&g, NNINIT_F32, 4, 4, 3, 3, 0, 1, f, f), NNINIT_ERR_GROUPS);
    EXPECT(nninit_torch_conv2d(&g, NNINIT_F32, 4, 4, 0, 3, 1, 1, f, f), NNINIT_ERR_SHAPE);
    EXPECT(nninit_torch_conv2d(&g, NNINIT_F32, 0, 4, 3, 3, 1, 1, f, f), NNINIT_ERR_SHAPE);
    EXPECT(nninit_torch_conv2d(&g, NNINIT_F32, 4, 4, 3, 3, 1, 1, f, NULL), NNINIT_ERR_NULL);
    EXPECT(nninit_torch_conv(&g, NNINIT_F32, 4, 4, 1, 4, k3, 1, f, f), NNINIT_ERR_DIMS);
    EXPECT(nninit_torch_conv(&g, NNINIT_F32, 4, 4, 1, 0, k3, 1, f, f), NNINIT_ERR_DIMS);
    EXPECT(nninit_torch_conv(&g, NNINIT_F32, 4, 4, 1, 2, NULL, 1, f, f), NNINIT_ERR_NULL);
    EXPECT(nninit_torch_conv(&g, NNINIT_F32, 4, 4, 1, 2, kbad, 1, f, f), NNINIT_ERR_SHAPE);
    /* bias is not read without has_bias */
    assert_int_equal(nninit_torch_linear(&g, NNINIT_F32, 3, 4, 0, f, NULL), NNINIT_OK);
    /* state bytes */
    EXPECT(nninit_torch_gen_get_state(&g, buf, NNINIT_TORCH_STATE_SIZE - 1), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_gen_get_state(&g, NULL, sizeof buf), NNINIT_ERR_NULL);
    assert_int_equal(nninit_torch_gen_get_state(NULL, buf, sizeof buf), NNINIT_ERR_NULL);
    assert_int_equal(nninit_torch_gen_get_state(&g, buf, sizeof buf), NNINIT_OK);
    EXPECT(nninit_torch_gen_set_state(&g, buf, NNINIT_TORCH_STATE_SIZE + 1), NNINIT_ERR_FORMAT);
    EXPECT(nninit_torch_gen_set_state(&g, NULL, NNINIT_TORCH_STATE_SIZE), NNINIT_ERR_NULL);
    memset(buf + 8, 0, 4); /* left 0 */
    EXPECT(nninit_torch_gen_set_state(&g, buf, NNINIT_TORCH_STATE_SIZE), NNINIT_ERR_FORMAT);
    buf[8] = 1, buf[12] = 0; /* not seeded */
    EXPECT(nninit_torch_gen_set_state(&g, buf, NNINIT_TORCH_STATE_SIZE), NNINIT_ERR_FORMAT);
    buf[12] = 1, buf[16] = 0x71, buf[17] = 0x02; /* next 625 */
    EXPECT(nninit_torch_gen_set_state(&g, buf, NNINIT_TORCH_STATE_SIZE), NNINIT_ERR_FORMAT);
    buf[16] = 0x70, buf[17] = 0x02, buf[8] = 2; /* left 2, next 624: torch would read past its state */
    EXPECT(nninit_torch_gen_set_state(&g, buf, NNINIT_TORCH_STATE_SIZE), NNINIT_ERR_FORMAT);
    buf[16] = 0x6f; /* left 2, next 623: a position the engine reaches */
    assert_int_equal(nninit_torch_gen_set_state(&g, buf, NNINIT_TORCH_STATE_SIZE), NNINIT_OK);
    /* a generator never initialized (zeroed) is refused, not read past its state */
    memset(&g, 0, sizeof g);
    EXPECT(nninit_torch_uniform(&g, NNINIT_F32, f, 4, 0, 1), NNINIT_ERR_PARAM);
    EXPECT(nninit_torch_random(&g, w, 4), NNINIT_ERR_PARAM);
    nninit_torch_gen_init(&g, 11);
    /* a generator whose cpu field was broken by hand is refused */
    g.cpu = 5;
    EXPECT(nninit_torch_uniform(&g, NNINIT_F32, f, 4, 0, 1), NNINIT_ERR_PARAM);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mt_reference_kat),
        cmocka_unit_test(test_torch_seeding),
        cmocka_unit_test(test_words_split),
        cmocka_unit_test(test_torch_known_values),
        cmocka_unit_test(test_normal_block_exhaustive),
        cmocka_unit_test(test_lanes_accuracy),
        cmocka_unit_test(test_erfinv),
        cmocka_unit_test(test_state_bytes),
        cmocka_unit_test(test_cpu_modes),
        cmocka_unit_test(test_zero_elements),
        cmocka_unit_test(test_argument_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

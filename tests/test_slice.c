/* test_slice.c -- slice invariance and keys.
 *
 * nninit_fill_range(spec, t, key, begin, end, out) must write exactly the
 * values nninit_fill() puts at [begin, end), bit for bit, for every
 * element-wise scheme and dtype, wherever the cut points fall (Philox blocks
 * hold 4 f32 or 2 f64 elements, the bf16/f16 path stages 256 values: cuts are
 * random, so most are not multiples of either). Each slice is written into a
 * buffer with guard bytes on both sides, which must stay untouched.
 *
 * Keys: a tensor's values depend on (seed, name) only, not on what was
 * filled before; different names or seeds give unrelated values.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nninit.h"

#define GUARD           64 /* bytes of 0xA5 before and after every slice buffer */
#define N_RANDOM_SLICES 50

/* SplitMix64 (Steele, Lea & Flood 2014): the test's own deterministic PRNG. */
static uint64_t sm_state;
static uint64_t sm_next(void) {
    uint64_t z = (sm_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
/* uniform in [0, m] */
static int64_t sm_upto(int64_t m) { return (int64_t)(sm_next() % (uint64_t)(m + 1)); }

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

static const nninit_dtype DTYPES[4] = {NNINIT_F32, NNINIT_F64, NNINIT_BF16, NNINIT_F16};

/* ------------------------------------------------------------------------- */
/* Cases                                                                     */
/* ------------------------------------------------------------------------- */

typedef struct {
    int ndim;
    int64_t shape[5];
} shape_t;

/* Shape classes a scheme accepts. */
enum {
    SH_1D = 1,
    SH_ND = 2,
    SH_EYE = 4,
    SH_DIRAC = 8
};

static const shape_t SHAPES_1D[] = {{1, {1001}}, {1, {1}}, {1, {7}}};
static const shape_t SHAPES_ND[] = {{2, {37, 29}}, {4, {5, 7, 3, 3}}, {2, {129, 67}}, {3, {3, 1, 5}}};
static const shape_t SHAPES_EYE[] = {{2, {37, 29}}, {2, {29, 37}}, {2, {1, 1}}, {2, {129, 67}}};
typedef struct {
    shape_t s;
    int64_t groups;
} dirac_shape;
static const dirac_shape SHAPES_DIRAC[] = {
    {{3, {6, 4, 5}}, 2},    {{4, {6, 3, 3, 5}}, 3}, {{5, {4, 4, 3, 3, 3}}, 1}, {{4, {8, 3, 3, 3}}, 2},
    {{4, {5, 7, 3, 3}}, 1}, {{4, {5, 7, 3, 3}}, 5}, {{3, {9, 2, 7}}, 3},
};

typedef struct {
    const char *label;
    nninit_spec spec;
    unsigned shapes; /* SH_* */
} scheme_case;

static int n_cases;
static scheme_case cases[32];

static void add_case(const char *label, nninit_spec s, unsigned shapes) {
    assert_true(n_cases < (int)(sizeof cases / sizeof cases[0]));
    cases[n_cases].label = label;
    cases[n_cases].spec = s;
    cases[n_cases].shapes = shapes;
    n_cases++;
}

static void build_cases(void) {
    n_cases = 0;
    nninit_spec s;
    add_case("zeros", nninit_spec_default(NNINIT_ZEROS), SH_1D | SH_ND);
    add_case("ones", nninit_spec_default(NNINIT_ONES), SH_1D | SH_ND);
    s = nninit_spec_default(NNINIT_CONSTANT);
    s.value = -0.3;
    add_case("constant(-0.3)", s, SH_1D | SH_ND);
    s = nninit_spec_default(NNINIT_UNIFORM);
    s.a = -0.7;
    s.b = 1.3;
    add_case("uniform(-0.7, 1.3)", s, SH_1D | SH_ND);
    s = nninit_spec_default(NNINIT_NORMAL);
    s.mean = 0.25;
    s.std = 1.5;
    add_case("normal(0.25, 1.5)", s, SH_1D | SH_ND);
    add_case("trunc_normal(default)", nninit_spec_default(NNINIT_TRUNC_NORMAL), SH_1D | SH_ND);
    s = nninit_spec_default(NNINIT_TRUNC_NORMAL);
    s.mean = 0.5;
    s.std = 2.0;
    s.a = -1.0;
    s.b = 3.0;
    add_case("trunc_normal(0.5, 2, [-1, 3])", s, SH_1D | SH_ND);
    s = nninit_spec_default(NNINIT_TRUNC_NORMAL);
    s.a = 3.0;
    s.b = 8.0;
    add_case("trunc_normal(0, 1, [3, 8])", s, SH_1D | SH_ND);
    s = nninit_spec_default(NNINIT_TRUNC_NORMAL);
    s.a = 0.1;
    s.b = 0.2;
    add_case("trunc_normal(0, 1, [0.1, 0.2])", s, SH_1D | SH_ND);
    s = nninit_spec_default(NNINIT_TRUNC_NORMAL_STD);
    s.mean = 1.0;
    s.std = 0.5;
    s.a = -1.5;
    s.b = 2.5;
    add_case("trunc_normal_std(1, 0.5, [-1.5, 2.5])", s, SH_1D | SH_ND);
    s = nninit_spec_default(NNINIT_XAVIER_UNIFORM);
    s.gain = 1.3;
    add_case("xavier_uniform(1.3)", s, SH_ND);
    add_case("xavier_normal", nninit_spec_default(NNINIT_XAVIER_NORMAL), SH_ND);
    add_case("kaiming_uniform(default)", nninit_spec_default(NNINIT_KAIMING_UNIFORM), SH_ND);
    s = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    s.nonlinearity = NNINIT_NL_RELU;
    s.mode = NNINIT_FAN_OUT;
    add_case("kaiming_normal(relu, fan_out)", s, SH_ND);
    add_case("lecun_uniform", nninit_spec_default(NNINIT_LECUN_UNIFORM), SH_ND);
    add_case("lecun_normal", nninit_spec_default(NNINIT_LECUN_NORMAL), SH_ND);
    s = nninit_spec_default(NNINIT_VARIANCE_SCALING);
    s.mode = NNINIT_FAN_AVG;
    s.scale = 2.0;
    s.distribution = NNINIT_DIST_UNIFORM;
    add_case("variance_scaling(uniform)", s, SH_ND);
    s.distribution = NNINIT_DIST_NORMAL;
    add_case("variance_scaling(normal)", s, SH_ND);
    s.distribution = NNINIT_DIST_TRUNCATED_NORMAL;
    add_case("variance_scaling(truncated_normal)", s, SH_ND);
    add_case("eye", nninit_spec_default(NNINIT_EYE), SH_EYE);
    add_case("dirac", nninit_spec_default(NNINIT_DIRAC), SH_DIRAC);
}

/* ------------------------------------------------------------------------- */
/* Slice checks                                                              */
/* ------------------------------------------------------------------------- */

static void describe(char *buf, size_t cap, const char *label, const nninit_tensor *t, int64_t groups) {
    int k = snprintf(buf, cap, "%s %s shape (", label, nninit_dtype_name(t->dtype));
    for (int i = 0; i < t->ndim && k > 0 && (size_t)k < cap; i++)
        k += snprintf(buf + k, cap - (size_t)k, i ? ",%lld" : "%lld", (long long)t->shape[i]);
    if (k > 0 && (size_t)k < cap) snprintf(buf + k, cap - (size_t)k, ") groups %lld", (long long)groups);
}

/* Fill [b, e) into a guarded buffer and compare with full[b..e). */
static void check_range(const nninit_spec *s, const nninit_tensor *t, nninit_key key, const unsigned char *full,
                        int64_t b, int64_t e, const char *what) {
    const size_t es = nninit_dtype_size(t->dtype), len = (size_t)(e - b) * es;
    unsigned char *raw = xmalloc(len + 2 * GUARD);
    memset(raw, 0xA5, len + 2 * GUARD);
    nninit_status st = nninit_fill_range(s, t, key, b, e, raw + GUARD);
    if (st != NNINIT_OK)
        fail_msg("%s: fill_range [%lld, %lld): %s (%s)", what, (long long)b, (long long)e, nninit_status_str(st),
                 nninit_last_error());
    if (memcmp(raw + GUARD, full + (size_t)b * es, len) != 0) {
        for (int64_t i = 0; i < e - b; i++)
            if (memcmp(raw + GUARD + (size_t)i * es, full + (size_t)(b + i) * es, es) != 0) {
                uint64_t got = 0, want = 0;
                memcpy(&got, raw + GUARD + (size_t)i * es, es);
                memcpy(&want, full + (size_t)(b + i) * es, es);
                fail_msg("%s: range [%lld, %lld) differs at element %lld: 0x%llx, full fill 0x%llx", what, (long long)b,
                         (long long)e, (long long)(b + i), (unsigned long long)got, (unsigned long long)want);
            }
    }
    for (size_t i = 0; i < GUARD; i++)
        if (raw[i] != 0xA5 || raw[GUARD + len + i] != 0xA5)
            fail_msg("%s: range [%lld, %lld) wrote outside its %zu bytes", what, (long long)b, (long long)e, len);
    free(raw);
}

static int64_t slices_checked, boxes_checked;

/* Fill the box [lo, hi) (guarded buffer) on `threads` threads and compare
 * every element with the full fill at its flat index. */
static void check_box(const nninit_spec *s, const nninit_tensor *t, nninit_key key, const unsigned char *full,
                      const int64_t *lo, const int64_t *hi, int threads, const char *what) {
    const size_t es = nninit_dtype_size(t->dtype);
    int64_t cnt = 1;
    for (int d = 0; d < t->ndim; d++) cnt *= hi[d] - lo[d];
    const size_t len = (size_t)cnt * es;
    unsigned char *raw = xmalloc(len + 2 * GUARD);
    memset(raw, 0xA5, len + 2 * GUARD);
    nninit_status st = nninit_fill_box_threads(s, t, key, lo, hi, raw + GUARD, threads);
    if (st != NNINIT_OK) fail_msg("%s: fill_box: %s (%s)", what, nninit_status_str(st), nninit_last_error());
    int64_t idx[NNINIT_MAX_DIMS];
    for (int d = 0; d < t->ndim; d++) idx[d] = lo[d];
    for (int64_t j = 0; j < cnt; j++) {
        int64_t flat = 0;
        for (int d = 0; d < t->ndim; d++) flat = flat * t->shape[d] + idx[d];
        if (memcmp(raw + GUARD + (size_t)j * es, full + (size_t)flat * es, es) != 0)
            fail_msg("%s: box element %lld (flat %lld, %d threads) differs from the full fill", what, (long long)j,
                     (long long)flat, threads);
        for (int d = t->ndim - 1; d >= 0; d--) { /* next index of the box, row-major */
            if (++idx[d] < hi[d]) break;
            idx[d] = lo[d];
        }
    }
    for (size_t i = 0; i < GUARD; i++)
        if (raw[i] != 0xA5 || raw[GUARD + len + i] != 0xA5) fail_msg("%s: box wrote outside its %zu bytes", what, len);
    free(raw);
    boxes_checked++;
}

/* Random boxes, plus the whole tensor, an empty box and one element. */
static void check_boxes(const nninit_spec *s, const nninit_tensor *t, nninit_key key, const unsigned char *full,
                        const char *what) {
    int64_t lo[NNINIT_MAX_DIMS], hi[NNINIT_MAX_DIMS];
    for (int b = 0; b < 12; b++) {
        for (int d = 0; d < t->ndim; d++) {
            const int64_t n = t->shape[d];
            if (b == 0) lo[d] = 0, hi[d] = n;                           /* whole */
            else if (b == 1) lo[d] = n / 2, hi[d] = d == 0 ? n / 2 : n; /* empty */
            else if (b == 2) lo[d] = n - 1, hi[d] = n;                  /* one element */
            else if (b % 3 == 0 && d > 0) lo[d] = 0, hi[d] = n;         /* full inner dims: long runs */
            else {
                int64_t x = sm_upto(n), y = sm_upto(n);
                if (x == y) y = x < n ? x + 1 : x - 1;
                lo[d] = x < y ? x : y;
                hi[d] = x < y ? y : x;
            }
        }
        check_box(s, t, key, full, lo, hi, 1 + b % 3, what);
    }
}

static void check_tensor(const scheme_case *c, const nninit_tensor *t, int64_t groups, uint64_t seed) {
    char what[200];
    describe(what, sizeof what, c->label, t, groups);
    nninit_spec s = c->spec;
    s.groups = groups;
    int64_t n;
    assert_int_equal(nninit_tensor_numel(t, &n), NNINIT_OK);
    const size_t es = nninit_dtype_size(t->dtype);
    const nninit_key key = nninit_key_make(seed, 0x5eed0000u + (uint64_t)n);
    unsigned char *full = xmalloc((size_t)n * es);
    nninit_status st = nninit_fill(&s, t, key, full);
    if (st != NNINIT_OK) fail_msg("%s: fill: %s (%s)", what, nninit_status_str(st), nninit_last_error());

    /* Slices that must be there, then random ones up to N_RANDOM_SLICES. */
    int64_t fixed[][2] = {{0, 0},           {n, n},
                          {0, n},           {0, 1},
                          {n - 1, n},       {n / 2, n / 2},
                          {1, n - (n > 1)}, {n / 3, n / 3 + 1},
                          {0, n / 2 + 1},   {n / 2 + (n > 2), n}};
    const int nfixed = (int)(sizeof fixed / sizeof fixed[0]);
    for (int i = 0; i < N_RANDOM_SLICES; i++) {
        int64_t b, e;
        if (i < nfixed) {
            b = fixed[i][0];
            e = fixed[i][1];
            if (b > e) e = b;
        } else {
            int64_t x = sm_upto(n), y = sm_upto(n);
            /* every fifth random slice is short (<= 9 elements) */
            if (i % 5 == 0) {
                int64_t len = sm_upto(9);
                y = x + len > n ? n : x + len;
            }
            b = x < y ? x : y;
            e = x < y ? y : x;
        }
        check_range(&s, t, key, full, b, e, what);
        slices_checked++;
    }

    /* Split into k consecutive slices (random cut points, empty slices
     * allowed) for k = 1..7: the concatenation is the full fill. */
    unsigned char *cat = xmalloc((size_t)n * es);
    for (int k = 1; k <= 7; k++) {
        int64_t cuts[8];
        cuts[0] = 0;
        cuts[k] = n;
        for (int j = 1; j < k; j++) cuts[j] = sm_upto(n);
        for (int j = 1; j < k; j++) /* insertion sort */
            for (int m = j; m > 1 && cuts[m - 1] > cuts[m]; m--) {
                int64_t tmp = cuts[m];
                cuts[m] = cuts[m - 1];
                cuts[m - 1] = tmp;
            }
        memset(cat, 0x5A, (size_t)n * es);
        for (int j = 0; j < k; j++) {
            st = nninit_fill_range(&s, t, key, cuts[j], cuts[j + 1], cat + (size_t)cuts[j] * es);
            if (st != NNINIT_OK)
                fail_msg("%s: split %d, part [%lld, %lld): %s", what, k, (long long)cuts[j], (long long)cuts[j + 1],
                         nninit_status_str(st));
        }
        if (memcmp(cat, full, (size_t)n * es) != 0)
            fail_msg("%s: %d consecutive slices differ from the full fill", what, k);
    }
    free(cat);
    check_boxes(&s, t, key, full, what);
    free(full);
}

static void test_slice_invariance(void **state) {
    (void)state;
    build_cases();
    sm_state = 0x0123456789abcdefull;
    slices_checked = boxes_checked = 0;
    int tensors = 0;
    for (int c = 0; c < n_cases; c++) {
        assert_true(nninit_scheme_is_elementwise(cases[c].spec.scheme));
        for (int di = 0; di < 4; di++) {
            const nninit_dtype d = DTYPES[di];
            uint64_t seed = 100 + (uint64_t)(c * 4 + di);
            if (cases[c].shapes & SH_1D)
                for (size_t i = 0; i < sizeof SHAPES_1D / sizeof SHAPES_1D[0]; i++) {
                    nninit_tensor t = nninit_tensor_make(SHAPES_1D[i].ndim, SHAPES_1D[i].shape, d);
                    check_tensor(&cases[c], &t, 1, seed);
                    tensors++;
                }
            if (cases[c].shapes & SH_ND)
                for (size_t i = 0; i < sizeof SHAPES_ND / sizeof SHAPES_ND[0]; i++) {
                    nninit_tensor t = nninit_tensor_make(SHAPES_ND[i].ndim, SHAPES_ND[i].shape, d);
                    check_tensor(&cases[c], &t, 1, seed);
                    tensors++;
                }
            if (cases[c].shapes & SH_EYE)
                for (size_t i = 0; i < sizeof SHAPES_EYE / sizeof SHAPES_EYE[0]; i++) {
                    nninit_tensor t = nninit_tensor_make(SHAPES_EYE[i].ndim, SHAPES_EYE[i].shape, d);
                    check_tensor(&cases[c], &t, 1, seed);
                    tensors++;
                }
            if (cases[c].shapes & SH_DIRAC)
                for (size_t i = 0; i < sizeof SHAPES_DIRAC / sizeof SHAPES_DIRAC[0]; i++) {
                    nninit_tensor t = nninit_tensor_make(SHAPES_DIRAC[i].s.ndim, SHAPES_DIRAC[i].s.shape, d);
                    check_tensor(&cases[c], &t, SHAPES_DIRAC[i].groups, seed);
                    tensors++;
                }
        }
    }
    print_message("%d scheme cases, %d (case, shape, dtype) tensors, %lld slices + 7 splits each, %lld boxes: "
                  "bit-identical\n",
                  n_cases, tensors, (long long)slices_checked, (long long)boxes_checked);
}

/* Boxes large enough for several threads (>= 2^16 elements a thread): a
 * tensor-parallel shard of each kind, on 1, 2, 3 and 7 threads. */
static void test_box_shards_threads(void **state) {
    (void)state;
    build_cases();
    const int64_t shape[3] = {6, 300, 701};
    for (int c = 0; c < n_cases; c++) {
        if (!(cases[c].shapes & SH_ND)) continue;
        const nninit_dtype d = DTYPES[c % 4];
        nninit_tensor t = nninit_tensor_make(3, shape, d);
        const nninit_key key = nninit_key_from_name(c, "layers.0.mlp.w1");
        const size_t es = nninit_dtype_size(d);
        unsigned char *full = xmalloc((size_t)(6 * 300 * 701) * es);
        assert_int_equal(nninit_fill(&cases[c].spec, &t, key, full), NNINIT_OK);
        /* rows (Shard(0)), columns (Shard(last)), a middle block, and the whole */
        const int64_t boxes[][2][3] = {{{2, 0, 0}, {5, 300, 701}},
                                       {{0, 0, 350}, {6, 300, 701}},
                                       {{1, 37, 100}, {6, 299, 650}},
                                       {{0, 0, 0}, {6, 300, 701}}};
        for (size_t b = 0; b < sizeof boxes / sizeof boxes[0]; b++)
            for (int th = 0; th < 4; th++) {
                const int threads[4] = {1, 2, 3, 7};
                check_box(&cases[c].spec, &t, key, full, boxes[b][0], boxes[b][1], threads[th], cases[c].label);
            }
        free(full);
    }
}

static void test_box_errors(void **state) {
    (void)state;
    const int64_t shape[2] = {4, 5};
    nninit_tensor t = nninit_tensor_make(2, shape, NNINIT_F32);
    nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
    nninit_key k = nninit_key_make(1, 2);
    float out[20];
    int64_t lo[2] = {0, 0}, hi[2] = {4, 5};
    assert_int_equal(nninit_fill_box(&s, &t, k, NULL, hi, out), NNINIT_ERR_NULL);
    assert_int_equal(nninit_fill_box(&s, &t, k, lo, NULL, out), NNINIT_ERR_NULL);
    assert_int_equal(nninit_fill_box(&s, &t, k, lo, hi, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_fill_box_threads(&s, &t, k, lo, hi, out, -1), NNINIT_ERR_PARAM);
    int64_t bad_hi[2] = {4, 6}, bad_lo[2] = {-1, 0}, rev_lo[2] = {3, 0}, rev_hi[2] = {2, 5};
    assert_int_equal(nninit_fill_box(&s, &t, k, lo, bad_hi, out), NNINIT_ERR_SLICE);
    assert_true(strstr(nninit_last_error(), "dim 1") != NULL);
    assert_int_equal(nninit_fill_box(&s, &t, k, bad_lo, hi, out), NNINIT_ERR_SLICE);
    assert_int_equal(nninit_fill_box(&s, &t, k, rev_lo, rev_hi, out), NNINIT_ERR_SLICE);
    /* whole-tensor schemes: the whole box only */
    nninit_spec o = nninit_spec_default(NNINIT_ORTHOGONAL);
    int64_t half[2] = {2, 5};
    assert_int_equal(nninit_fill_box(&o, &t, k, lo, half, out), NNINIT_ERR_NOT_ELEMENTWISE);
    float whole[20], ref[20];
    assert_int_equal(nninit_fill_box(&o, &t, k, lo, hi, whole), NNINIT_OK);
    assert_int_equal(nninit_fill(&o, &t, k, ref), NNINIT_OK);
    assert_memory_equal(whole, ref, sizeof ref);
}

/* Every scheme but orthogonal, sparse and delta_orthogonal is element-wise,
 * and each of the 16 element-wise schemes appears in the cases above. */
static void test_elementwise_flags(void **state) {
    (void)state;
    build_cases();
    int covered[NNINIT_SCHEME_COUNT] = {0};
    for (int c = 0; c < n_cases; c++) covered[cases[c].spec.scheme] = 1;
    for (int s = 0; s < NNINIT_SCHEME_COUNT; s++) {
        int ew = s != NNINIT_ORTHOGONAL && s != NNINIT_SPARSE && s != NNINIT_DELTA_ORTHOGONAL;
        assert_int_equal(nninit_scheme_is_elementwise((nninit_scheme)s), ew);
        if (ew && !covered[s])
            fail_msg("element-wise scheme %s has no slice case", nninit_scheme_name((nninit_scheme)s));
    }
    assert_int_equal(nninit_scheme_is_elementwise(NNINIT_SCHEME_COUNT), 0);
    assert_int_equal(nninit_scheme_is_elementwise((nninit_scheme)-1), 0);
}

/* ------------------------------------------------------------------------- */
/* Keys                                                                      */
/* ------------------------------------------------------------------------- */

static void test_hash_name(void **state) {
    (void)state;
    /* FNV-1a 64 reference vectors (Fowler/Noll/Vo test suite). */
    assert_true(nninit_hash_name("") == 0xcbf29ce484222325ull);
    assert_true(nninit_hash_name(NULL) == 0xcbf29ce484222325ull);
    assert_true(nninit_hash_name("a") == 0xaf63dc4c8601ec8cull);
    assert_true(nninit_hash_name("foobar") == 0x85944171f73967e8ull);
    nninit_key k = nninit_key_from_name(42, "layers.3.attn.wq");
    assert_true(k.seed == 42);
    assert_true(k.id == nninit_hash_name("layers.3.attn.wq"));
    nninit_key m = nninit_key_make(7, 9);
    assert_true(m.seed == 7 && m.id == 9);
}

/* The values of a named tensor do not depend on what else was filled, in
 * which order, or on any state of the library. */
static void test_name_key_is_stateless(void **state) {
    (void)state;
    const char *name = "layers.3.attn.wq";
    const int64_t rows = 64, cols = 48, n = rows * cols;
    nninit_tensor t = nninit_tensor_2d(rows, cols, NNINIT_F32);
    nninit_spec s = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    float *a = xmalloc((size_t)n * sizeof(float)), *b = xmalloc((size_t)n * sizeof(float));
    assert_int_equal(nninit_fill(&s, &t, nninit_key_from_name(42, name), a), NNINIT_OK);

    /* Fill other tensors, schemes and dtypes in between (orthogonal and
     * sparse included: they allocate and run LAPACK). */
    static const nninit_scheme others[] = {NNINIT_ORTHOGONAL,   NNINIT_SPARSE, NNINIT_UNIFORM,
                                           NNINIT_TRUNC_NORMAL, NNINIT_NORMAL, NNINIT_VARIANCE_SCALING};
    double *scratch = xmalloc(100 * 80 * sizeof(double));
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        for (int di = 0; di < 4; di++) {
            nninit_tensor o = nninit_tensor_2d(100, 80, DTYPES[di]);
            nninit_spec os = nninit_spec_default(others[i]);
            char other_name[64];
            snprintf(other_name, sizeof other_name, "layers.%zu.mlp.w%d", i, di);
            assert_int_equal(nninit_fill(&os, &o, nninit_key_from_name(42, other_name), scratch), NNINIT_OK);
        }
    /* the same name under another seed, and another tensor of the same shape */
    assert_int_equal(nninit_fill(&s, &t, nninit_key_from_name(43, name), b), NNINIT_OK);
    assert_int_equal(nninit_fill(&s, &t, nninit_key_from_name(42, "layers.3.attn.wk"), b), NNINIT_OK);
    free(scratch);

    assert_int_equal(nninit_fill(&s, &t, nninit_key_from_name(42, name), b), NNINIT_OK);
    assert_memory_equal(a, b, (size_t)n * sizeof(float));
    /* and a slice of it, filled last */
    assert_int_equal(nninit_fill_range(&s, &t, nninit_key_from_name(42, name), 1001, 2002, b), NNINIT_OK);
    assert_memory_equal(a + 1001, b, 1001 * sizeof(float));
    /* the numeric key it stands for gives the same values */
    assert_int_equal(nninit_fill(&s, &t, nninit_key_make(42, nninit_hash_name(name)), b), NNINIT_OK);
    assert_memory_equal(a, b, (size_t)n * sizeof(float));
    free(a);
    free(b);
}

/* Two f64 N(0,1) fills of n values from different keys: no value in common
 * (P(equal) ~ 0 for continuous values), and sample correlation within 5/sqrt(n)
 * of 0 (its standard deviation for independent streams is 1/sqrt(n)). */
static void expect_unrelated(nninit_key k1, nninit_key k2, const char *what) {
    const int64_t n = 4096;
    nninit_tensor t = nninit_tensor_2d(64, 64, NNINIT_F64);
    nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
    double *a = xmalloc((size_t)n * sizeof(double)), *b = xmalloc((size_t)n * sizeof(double));
    assert_int_equal(nninit_fill(&s, &t, k1, a), NNINIT_OK);
    assert_int_equal(nninit_fill(&s, &t, k2, b), NNINIT_OK);
    int64_t equal = 0;
    double sab = 0, saa = 0, sbb = 0;
    for (int64_t i = 0; i < n; i++) {
        equal += a[i] == b[i];
        sab += a[i] * b[i];
        saa += a[i] * a[i];
        sbb += b[i] * b[i];
    }
    double r = sab / sqrt(saa * sbb);
    if (equal != 0 || !(fabs(r) <= 5.0 / sqrt((double)n)))
        fail_msg("%s: %lld equal values, correlation %.4f (bound %.4f)", what, (long long)equal, r,
                 5.0 / sqrt((double)n));
    free(a);
    free(b);
}

static void test_keys_differ(void **state) {
    (void)state;
    expect_unrelated(nninit_key_from_name(42, "layers.3.attn.wq"), nninit_key_from_name(42, "layers.3.attn.wk"),
                     "names wq / wk");
    expect_unrelated(nninit_key_from_name(42, "layers.3.attn.wq"), nninit_key_from_name(42, "layers.30.attn.wq"),
                     "names layers.3 / layers.30");
    expect_unrelated(nninit_key_from_name(42, "layers.3.attn.wq"), nninit_key_from_name(43, "layers.3.attn.wq"),
                     "seeds 42 / 43");
    expect_unrelated(nninit_key_from_name(42, "a"), nninit_key_from_name(42, ""), "names a / empty");
    /* every bit of seed and id matters, and they are not interchangeable */
    expect_unrelated(nninit_key_make(42, 1), nninit_key_make(42 + (1ull << 32), 1), "seed high word");
    expect_unrelated(nninit_key_make(42, 1), nninit_key_make(42 ^ (1ull << 63), 1), "seed top bit");
    expect_unrelated(nninit_key_make(42, 1), nninit_key_make(42, 1 + (1ull << 32)), "id high word");
    expect_unrelated(nninit_key_make(1, 2), nninit_key_make(2, 1), "seed/id swapped");
    expect_unrelated(nninit_key_make(0, 0), nninit_key_make(0, 1), "ids 0 / 1");
    /* the Philox keys themselves differ */
    uint32_t p1[2], p2[2];
    nninit_key_philox(nninit_key_from_name(42, "layers.3.attn.wq"), p1);
    nninit_key_philox(nninit_key_from_name(43, "layers.3.attn.wq"), p2);
    assert_true(p1[0] != p2[0] || p1[1] != p2[1]);
}

/* ------------------------------------------------------------------------- */
/* Errors                                                                    */
/* ------------------------------------------------------------------------- */

static void expect_status_untouched(const nninit_spec *s, const nninit_tensor *t, int64_t b, int64_t e,
                                    nninit_status want, const char *what) {
    unsigned char buf[256];
    memset(buf, 0xA5, sizeof buf);
    nninit_status st = nninit_fill_range(s, t, nninit_key_make(1, 2), b, e, buf);
    if (st != want)
        fail_msg("%s [%lld, %lld): %s, expected %s", what, (long long)b, (long long)e, nninit_status_str(st),
                 nninit_status_str(want));
    assert_true(nninit_last_error()[0] != '\0');
    for (size_t i = 0; i < sizeof buf; i++)
        if (buf[i] != 0xA5) fail_msg("%s [%lld, %lld): output written on error", what, (long long)b, (long long)e);
}

static void test_range_errors(void **state) {
    (void)state;
    build_cases();
    for (int c = 0; c < n_cases; c++)
        for (int di = 0; di < 4; di++) {
            nninit_spec s = cases[c].spec;
            nninit_tensor t;
            if (cases[c].shapes & SH_ND) t = nninit_tensor_2d(5, 6, DTYPES[di]);
            else if (cases[c].shapes & SH_EYE) t = nninit_tensor_2d(5, 6, DTYPES[di]);
            else {
                const int64_t sh[3] = {6, 2, 2}; /* dirac, 24 elements */
                t = nninit_tensor_make(3, sh, DTYPES[di]);
            }
            int64_t n;
            assert_int_equal(nninit_tensor_numel(&t, &n), NNINIT_OK);
            expect_status_untouched(&s, &t, 5, 4, NNINIT_ERR_SLICE, cases[c].label);
            expect_status_untouched(&s, &t, n, n - 1, NNINIT_ERR_SLICE, cases[c].label);
            expect_status_untouched(&s, &t, 0, n + 1, NNINIT_ERR_SLICE, cases[c].label);
            expect_status_untouched(&s, &t, n + 1, n + 1, NNINIT_ERR_SLICE, cases[c].label);
            expect_status_untouched(&s, &t, -1, 3, NNINIT_ERR_SLICE, cases[c].label);
            expect_status_untouched(&s, &t, -1, -1, NNINIT_ERR_SLICE, cases[c].label);
            expect_status_untouched(&s, &t, INT64_MIN, 0, NNINIT_ERR_SLICE, cases[c].label);
            expect_status_untouched(&s, &t, 0, INT64_MAX, NNINIT_ERR_SLICE, cases[c].label);
        }

    /* orthogonal and sparse: only the whole tensor */
    static const nninit_scheme whole[2] = {NNINIT_ORTHOGONAL, NNINIT_SPARSE};
    for (int w = 0; w < 2; w++)
        for (int di = 0; di < 4; di++) {
            nninit_spec s = nninit_spec_default(whole[w]);
            nninit_tensor t = nninit_tensor_2d(6, 5, DTYPES[di]);
            const char *name = nninit_scheme_name(whole[w]);
            assert_int_equal(nninit_scheme_is_elementwise(whole[w]), 0);
            expect_status_untouched(&s, &t, 0, 29, NNINIT_ERR_NOT_ELEMENTWISE, name);
            expect_status_untouched(&s, &t, 1, 30, NNINIT_ERR_NOT_ELEMENTWISE, name);
            expect_status_untouched(&s, &t, 3, 17, NNINIT_ERR_NOT_ELEMENTWISE, name);
            expect_status_untouched(&s, &t, 0, 0, NNINIT_ERR_NOT_ELEMENTWISE, name);
            expect_status_untouched(&s, &t, 30, 30, NNINIT_ERR_NOT_ELEMENTWISE, name);
            expect_status_untouched(&s, &t, 4, 3, NNINIT_ERR_SLICE, name);
            expect_status_untouched(&s, &t, -1, 30, NNINIT_ERR_SLICE, name);
            /* the whole range is accepted and equals nninit_fill */
            unsigned char a[30 * 8], b[30 * 8];
            memset(a, 0, sizeof a);
            memset(b, 1, sizeof b);
            assert_int_equal(nninit_fill(&s, &t, nninit_key_make(5, 6), a), NNINIT_OK);
            assert_int_equal(nninit_fill_range(&s, &t, nninit_key_make(5, 6), 0, 30, b), NNINIT_OK);
            assert_memory_equal(a, b, 30 * nninit_dtype_size(DTYPES[di]));
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elementwise_flags),  cmocka_unit_test(test_slice_invariance),
        cmocka_unit_test(test_box_shards_threads), cmocka_unit_test(test_box_errors),
        cmocka_unit_test(test_hash_name),          cmocka_unit_test(test_name_key_is_stateless),
        cmocka_unit_test(test_keys_differ),        cmocka_unit_test(test_range_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

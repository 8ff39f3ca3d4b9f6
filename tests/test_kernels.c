/* test_kernels.c -- every fill kernel set gives the bits of the definition,
 * and so does every split of a fill across threads.
 *
 * The kernel sets (src/rng/kernels.h) are called directly, each one this CPU
 * runs, and compared byte for byte (memcmp) with nninit__portable_set, the
 * reference C with libm's fma: every dtype, uniform, normal and truncated
 * normal in each rejection regime, whole ranges and random slices whose ends
 * are rarely multiples of 4, 8 or 16, 1..3-element slices, output buffers at
 * every element offset from 64-byte alignment, and ranges across the 2^32
 * boundaries of the counters (i = 2^32 for truncated normals, i/2 = 2^32 for
 * f64, i/4 = 2^32 for the f32 family). Guard bytes around every output catch
 * a write outside it.
 *
 * The set a process uses is chosen once, from NNINIT_ARCH, so the public API
 * is tested with whichever set this process got (ctest runs this binary once
 * per NNINIT_ARCH the CPU has): nninit_fill_range_threads with 1, 2, 3 and 7
 * threads against nninit_fill_range, and every scheme through nninit_fill vs
 * nninit_fill_threads; how many threads it starts (pthread_create is wrapped,
 * -Wl,--wrap) and what a failed start returns. Under an NNINIT_ARCH this
 * build or CPU cannot run (ctest: NNINIT_ARCH=bogus) it checks instead that
 * every fill entry point fails with NNINIT_ERR_ARCH and the reason.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "nninit.h"
#include "rng/kernels.h"

#define GUARD 64 /* bytes of 0xA5 before and after every output */

/* ---- pthread_create, wrapped: counts calls, fails on demand -------------- */
int __real_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

static int creates;        /* calls since the last reset */
static int fail_create_at; /* the call (1-based) that fails; 0 none */

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
    if (++creates == fail_create_at) return 11; /* EAGAIN */
    return __real_pthread_create(t, attr, fn, arg);
}

/* ---- helpers ---------------------------------------------------------------- */
/* SplitMix64 (Steele, Lea & Flood 2014): the test's own deterministic PRNG. */
static uint64_t sm_state = 0x6b65726e656c73ull;
static uint64_t sm_next(void) {
    uint64_t z = (sm_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static int64_t sm_below(int64_t m) { return (int64_t)(sm_next() % (uint64_t)m); }

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

static const nninit_dtype DTYPES[4] = {NNINIT_F32, NNINIT_F64, NNINIT_BF16, NNINIT_F16};

/* The sets this CPU runs, by the test's own CPUID check (not the library's
 * choice, which is what is under test). */
typedef struct {
    const nninit__kernel_set *set;
    const char *name;
    int runs;
} set_entry;

static set_entry sets[5];
static int n_sets;

/* "scalar" is the FMA build of the reference C on x86 (see fill_kernels.c). */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(NNINIT_NO_FMA_SET)
#define SCALAR_NEEDS_FMA 1
#endif

static void find_sets(void) {
    n_sets = 0;
#ifdef SCALAR_NEEDS_FMA
    __builtin_cpu_init();
    sets[n_sets++] = (set_entry){&nninit__scalar_set, "scalar", __builtin_cpu_supports("fma")};
#else
    sets[n_sets++] = (set_entry){&nninit__scalar_set, "scalar", 1};
#endif
#ifdef NNINIT_HAVE_X86_SETS
    sets[n_sets++] =
        (set_entry){&nninit__avx2_set, "avx2", __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")};
    const int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                       __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    sets[n_sets++] = (set_entry){&nninit__avx512_set, "avx512", avx512};
#ifdef NNINIT_HAVE_AVX512BF16_SET
    sets[n_sets++] = (set_entry){&nninit__avx512bf16_set, "avx512bf16", avx512 && nninit__cpu_has_avx512bf16()};
#else
    sets[n_sets++] = (set_entry){NULL, "avx512bf16", 0};
#endif
#else
    sets[n_sets++] = (set_entry){NULL, "avx2", 0};
    sets[n_sets++] = (set_entry){NULL, "avx512", 0};
    sets[n_sets++] = (set_entry){NULL, "avx512bf16", 0};
#endif
}

/* What nninit_arch_name() must say when NNINIT_ARCH is unset: the widest. */
static const char *widest(void) {
    for (int k = n_sets - 1; k > 0; k--)
        if (sets[k].runs) return sets[k].name;
    return sets[0].runs ? "scalar" : "portable";
}

/* One distribution of one kernel entry. */
typedef enum {
    D_UNIFORM,
    D_NORMAL,
    D_TRUNC
} dist_kind;
typedef struct {
    const char *label;
    dist_kind kind;
    double p0, p1; /* uniform lo, hi; normal mean, std; trunc mean, std */
    double a, b;   /* trunc bounds, absolute */
} dist_case;

static const dist_case DISTS[] = {
    {"uniform(-1, 1)", D_UNIFORM, -1.0, 1.0, 0, 0},
    {"uniform(0.5, 3.25)", D_UNIFORM, 0.5, 3.25, 0, 0},
    {"uniform(-1e-3, 2e-3)", D_UNIFORM, -1e-3, 2e-3, 0, 0},
    {"normal(0, 1)", D_NORMAL, 0.0, 1.0, 0, 0},
    {"normal(0.25, 0.02)", D_NORMAL, 0.25, 0.02, 0, 0},
    {"normal(-3, 7)", D_NORMAL, -3.0, 7.0, 0, 0},
    {"trunc(0, 1, [-2, 2])", D_TRUNC, 0.0, 1.0, -2.0, 2.0},          /* wide, contains 0: normal proposals */
    {"trunc(0, 1, [-0.5, 0.7])", D_TRUNC, 0.0, 1.0, -0.5, 0.7},      /* narrow, contains 0: uniform */
    {"trunc(0, 1, [0.1, 0.3])", D_TRUNC, 0.0, 1.0, 0.1, 0.3},        /* narrow one-sided: uniform tail */
    {"trunc(0, 1, [5, inf))", D_TRUNC, 0.0, 1.0, 5.0, INFINITY},     /* far tail: exponential */
    {"trunc(0, 1, (-inf, -6])", D_TRUNC, 0.0, 1.0, -INFINITY, -6.0}, /* mirrored far tail */
    {"trunc(0.5, 2, [-1, 3.5])", D_TRUNC, 0.5, 2.0, -1.0, 3.5},      /* asymmetric */
    {"trunc(0, 0.02, [-0.04, 0.04])", D_TRUNC, 0.0, 0.02, -0.04, 0.04},
    {"trunc(1, 0.5, [1.6, 2.9])", D_TRUNC, 1.0, 0.5, 1.6, 2.9},
    /* values an f32 holds only as subnormals, and past f16's range: the
     * bf16/f16 stores' fix-ups (kernels_avx512.c) */
    {"uniform(-1e-38, 1e-38)", D_UNIFORM, -1e-38, 1e-38, 0, 0},
    {"normal(0, 3e-39)", D_NORMAL, 0.0, 3e-39, 0, 0},
    {"uniform(-7e4, 7e4)", D_UNIFORM, -7e4, 7e4, 0, 0},
    {"normal(0, 4e4)", D_NORMAL, 0.0, 4e4, 0, 0},
    {"trunc(0, 1e-39, [-2e-39, 2e-39])", D_TRUNC, 0.0, 1e-39, -2e-39, 2e-39},
};
#define N_DISTS (sizeof DISTS / sizeof DISTS[0])

static nninit__plan trunc_plan(const dist_case *c, nninit_dtype d) {
    nninit_spec s = nninit_spec_default(NNINIT_TRUNC_NORMAL);
    s.mean = c->p0;
    s.std = c->p1;
    s.a = c->a;
    s.b = c->b;
    nninit_tensor t = nninit_tensor_make(1, (const int64_t[]){1}, d);
    nninit__plan p;
    nninit_status st = nninit__plan_make(&s, &t, &p);
    if (st) fail_msg("%s: plan: %s", c->label, nninit_last_error());
    return p;
}

static void run_set(const nninit__kernel_set *k, const dist_case *c, const nninit__plan *p, const uint32_t key[2],
                    nninit_dtype d, int64_t b, int64_t e, void *out) {
    switch (c->kind) {
    case D_UNIFORM: k->uniform(key, d, c->p0, c->p1, b, e, out); break;
    case D_NORMAL: k->normal(key, d, c->p0, c->p1, b, e, out); break;
    case D_TRUNC: k->trunc_normal(key, d, p, b, e, out); break;
    }
}

static int64_t ranges_checked, elements_checked;

/* Set k on [b, e) at `offset` elements past a 64-byte boundary, against the
 * portable set, byte for byte; and nothing written outside. */
static void check_set_range(const set_entry *se, const dist_case *c, const nninit__plan *p, const uint32_t key[2],
                            nninit_dtype d, int64_t b, int64_t e, int offset) {
    const size_t es = nninit_dtype_size(d), len = (size_t)(e - b) * es, pad = GUARD + (size_t)offset * es;
    unsigned char *want = xmalloc(len);
    unsigned char *raw = aligned_alloc(64, (pad + len + GUARD + 63) / 64 * 64);
    assert_non_null(raw);
    memset(raw, 0xA5, pad + len + GUARD);
    run_set(&nninit__portable_set, c, p, key, d, b, e, want);
    run_set(se->set, c, p, key, d, b, e, raw + pad);
    if (memcmp(raw + pad, want, len) != 0) {
        for (int64_t i = 0; i < e - b; i++)
            if (memcmp(raw + pad + (size_t)i * es, want + (size_t)i * es, es) != 0) {
                uint64_t got = 0, ref = 0;
                memcpy(&got, raw + pad + (size_t)i * es, es);
                memcpy(&ref, want + (size_t)i * es, es);
                fail_msg("%s %s %s: [%lld, %lld) offset %d: element %lld is 0x%llx, portable 0x%llx", se->name,
                         c->label, nninit_dtype_name(d), (long long)b, (long long)e, offset, (long long)(b + i),
                         (unsigned long long)got, (unsigned long long)ref);
            }
    }
    for (size_t i = 0; i < pad; i++)
        if (raw[i] != 0xA5) fail_msg("%s %s: wrote before its output", se->name, c->label);
    for (size_t i = 0; i < GUARD; i++)
        if (raw[pad + len + i] != 0xA5)
            fail_msg("%s %s %s: [%lld, %lld) wrote past its output", se->name, c->label, nninit_dtype_name(d),
                     (long long)b, (long long)e);
    free(raw);
    free(want);
    ranges_checked++;
    elements_checked += e - b;
}

/* ---- the sets against the definition -------------------------------------- */
static void check_set(const set_entry *se) {
    const uint32_t keys[2][2] = {{0x12345678u, 0x9abcdef0u}, {0u, 0u}};
    for (size_t ci = 0; ci < N_DISTS; ci++) {
        const dist_case *c = &DISTS[ci];
        const int trunc = c->kind == D_TRUNC;
        for (int di = 0; di < 4; di++) {
            const nninit_dtype d = DTYPES[di];
            nninit__plan p;
            if (trunc) p = trunc_plan(c, d);
            const uint32_t *key = keys[(ci + (size_t)di) % 2];
            /* whole ranges from 0, at every offset from alignment */
            const int64_t whole = trunc ? 1000 : 4133;
            for (int off = 0; off < 8; off++) check_set_range(se, c, &p, key, d, 0, whole - off, off);
            /* random slices: lengths 1..3, short, long */
            for (int r = 0; r < 40; r++) {
                int64_t len = r < 12 ? 1 + sm_below(3) : r < 30 ? 1 + sm_below(70) : 1 + sm_below(trunc ? 700 : 3000);
                int64_t b = sm_below(100000);
                check_set_range(se, c, &p, key, d, b, b + len, (int)sm_below(16));
            }
            /* across the counters' 32-bit boundaries */
            const int64_t edges[] = {(int64_t)1 << 32, (int64_t)1 << 33, (int64_t)1 << 34, ((int64_t)1 << 62) + 3};
            for (size_t k = 0; k < sizeof edges / sizeof edges[0]; k++) {
                int64_t b = edges[k] - 1 - sm_below(40), len = 1 + sm_below(trunc ? 90 : 300);
                check_set_range(se, c, &p, key, d, b, b + len, (int)sm_below(16));
                check_set_range(se, c, &p, key, d, edges[k] - 1, edges[k] + 1, 0);
            }
        }
        if (trunc) { /* the single-value entry, in double */
            nninit__plan p = trunc_plan(c, NNINIT_F64);
            for (int r = 0; r < 200; r++) {
                int64_t i = r < 100 ? sm_below(1 << 20) : ((int64_t)1 << 32) - 50 + r;
                double x = se->set->trunc_normal_at(keys[0], i, p.mean, p.std, p.za, p.zb, p.va, p.vb);
                double y = nninit__portable_set.trunc_normal_at(keys[0], i, p.mean, p.std, p.za, p.zb, p.va, p.vb);
                if (memcmp(&x, &y, sizeof x) != 0)
                    fail_msg("%s %s: trunc_normal_at(%lld) = %a, portable %a", se->name, c->label, (long long)i, x, y);
            }
        }
    }
}

static void test_sets_match_portable(void **state) {
    (void)state;
    char ran[64] = "", cannot[64] = "";
    for (int k = 0; k < n_sets; k++) {
        if (!sets[k].runs) {
            strcat(cannot, " ");
            strcat(cannot, sets[k].name);
            continue;
        }
        assert_string_equal(sets[k].set->name, sets[k].name);
        ranges_checked = elements_checked = 0;
        check_set(&sets[k]);
        strcat(ran, " ");
        strcat(ran, sets[k].name);
        print_message("%s = portable: %lld ranges, %lld elements, bit for bit\n", sets[k].name,
                      (long long)ranges_checked, (long long)elements_checked);
    }
    print_message("kernel sets run:%s; this CPU cannot run:%s\n", ran, *cannot ? cannot : " (none)");
}

/* The process's set: the widest unless NNINIT_ARCH named one. */
static void test_choice(void **state) {
    (void)state;
    const char *env = getenv("NNINIT_ARCH");
    const char *name = nninit_arch_name();
    assert_non_null(name);
    print_message("this process fills with the %s kernels (NNINIT_ARCH=%s)\n", name, env ? env : "(unset)");
    if (!env || !*env) assert_string_equal(name, widest());
    else if (strcmp(env, "scalar") == 0) assert_true(strcmp(name, "scalar") == 0 || strcmp(name, "portable") == 0);
    else assert_string_equal(name, env);
    assert_ptr_equal(nninit__kernels(NULL)->name, name);
}

/* ---- threads ------------------------------------------------------------------ */
static nninit_spec spec_of(nninit_scheme s) { return nninit_spec_default(s); }

/* nninit_fill_range_threads(threads) on [b, e) against nninit_fill_range. */
static void check_threads_range(const char *label, const nninit_spec *s, const nninit_tensor *t, nninit_key key,
                                int64_t b, int64_t e, int threads) {
    const size_t es = nninit_dtype_size(t->dtype), len = (size_t)(e - b) * es;
    unsigned char *want = xmalloc(len), *raw = xmalloc(len + 2 * GUARD);
    memset(raw, 0xA5, len + 2 * GUARD);
    nninit_status st = nninit_fill_range(s, t, key, b, e, want);
    if (st) fail_msg("%s: fill_range: %s", label, nninit_last_error());
    st = nninit_fill_range_threads(s, t, key, b, e, raw + GUARD, threads);
    if (st) fail_msg("%s: fill_range_threads(%d): %s", label, threads, nninit_last_error());
    if (memcmp(raw + GUARD, want, len) != 0)
        fail_msg("%s %s [%lld, %lld): %d threads differ from one", label, nninit_dtype_name(t->dtype), (long long)b,
                 (long long)e, threads);
    for (size_t i = 0; i < GUARD; i++)
        if (raw[i] != 0xA5 || raw[GUARD + len + i] != 0xA5) fail_msg("%s: %d threads wrote outside", label, threads);
    free(raw);
    free(want);
}

static void test_threads_ranges(void **state) {
    (void)state;
    nninit_spec specs[4] = {spec_of(NNINIT_UNIFORM), spec_of(NNINIT_NORMAL), spec_of(NNINIT_TRUNC_NORMAL),
                            spec_of(NNINIT_TRUNC_NORMAL)};
    specs[1].mean = 0.5;
    specs[1].std = 0.1;
    specs[3].a = 2.5;
    specs[3].b = INFINITY;
    const char *labels[4] = {"uniform", "normal(0.5, 0.1)", "trunc_normal", "trunc_normal[2.5, inf)"};
    const int counts[] = {1, 2, 3, 7, 0};
    nninit_key key = nninit_key_from_name(7, "threads");
    for (int di = 0; di < 4; di++) {
        /* 2^20 x 2^15: element indices past 2^34, never allocated whole */
        nninit_tensor t = nninit_tensor_2d((int64_t)1 << 20, (int64_t)1 << 15, DTYPES[di]);
        for (int si = 0; si < 4; si++) {
            const int64_t n = si >= 2 ? 3 * 65536 + 4321 : 7 * 65536 + 12345;
            for (size_t ti = 0; ti < sizeof counts / sizeof counts[0]; ti++) {
                int64_t b = sm_below(1000) * 13 + 1; /* not a multiple of 4, 8, 16 (mostly) */
                check_threads_range(labels[si], &specs[si], &t, key, b, b + n + sm_below(999), counts[ti]);
            }
            int64_t edge = ((int64_t)1 << 34) - 3 * 65536 - 77;
            check_threads_range(labels[si], &specs[si], &t, key, edge, edge + 6 * 65536 + 5, 3);
        }
    }
}

/* Every scheme: nninit_fill vs nninit_fill_threads. */
static void test_threads_schemes(void **state) {
    (void)state;
    typedef struct {
        const char *label;
        nninit_spec s;
        int ndim;
        int64_t shape[4];
    } scheme_case;
    scheme_case cases[24];
    int n = 0;
#define ADD(lbl, spec, nd, ...)                                                                                        \
    do {                                                                                                               \
        const scheme_case c_ = {lbl, spec, nd, {__VA_ARGS__}};                                                         \
        cases[n++] = c_;                                                                                               \
    } while (0)
    nninit_spec s;
    ADD("zeros", spec_of(NNINIT_ZEROS), 2, 1024, 500);
    s = spec_of(NNINIT_CONSTANT);
    s.value = 0.3;
    ADD("constant", s, 2, 1024, 500);
    s = spec_of(NNINIT_UNIFORM);
    s.a = -2;
    s.b = 0.5;
    ADD("uniform", s, 1, 777777);
    ADD("normal", spec_of(NNINIT_NORMAL), 1, 777777);
    ADD("trunc_normal", spec_of(NNINIT_TRUNC_NORMAL), 2, 512, 300);
    s = spec_of(NNINIT_TRUNC_NORMAL_STD);
    s.a = -1;
    s.b = 3;
    ADD("trunc_normal_std", s, 2, 512, 300);
    ADD("xavier_uniform", spec_of(NNINIT_XAVIER_UNIFORM), 2, 1024, 500);
    ADD("xavier_normal", spec_of(NNINIT_XAVIER_NORMAL), 2, 1024, 500);
    ADD("kaiming_uniform", spec_of(NNINIT_KAIMING_UNIFORM), 4, 64, 32, 7, 7);
    s = spec_of(NNINIT_KAIMING_NORMAL);
    s.nonlinearity = NNINIT_NL_RELU;
    ADD("kaiming_normal", s, 4, 64, 32, 7, 7);
    ADD("lecun_uniform", spec_of(NNINIT_LECUN_UNIFORM), 2, 1000, 333);
    ADD("lecun_normal", spec_of(NNINIT_LECUN_NORMAL), 2, 1000, 333);
    s = spec_of(NNINIT_VARIANCE_SCALING);
    s.distribution = NNINIT_DIST_UNIFORM;
    ADD("variance_scaling(uniform)", s, 2, 700, 700);
    s.distribution = NNINIT_DIST_NORMAL;
    ADD("variance_scaling(normal)", s, 2, 700, 700);
    s.distribution = NNINIT_DIST_TRUNCATED_NORMAL;
    ADD("variance_scaling(truncated_normal)", s, 2, 600, 300);
    ADD("orthogonal", spec_of(NNINIT_ORTHOGONAL), 2, 96, 200);
    s = spec_of(NNINIT_SPARSE);
    s.sparsity = 0.3;
    ADD("sparse", s, 2, 700, 300);
    ADD("eye", spec_of(NNINIT_EYE), 2, 900, 700);
    ADD("dirac", spec_of(NNINIT_DIRAC), 4, 64, 64, 11, 11);
#undef ADD
    const int counts[] = {1, 2, 3, 7, 0};
    for (int c = 0; c < n; c++) {
        for (int di = 0; di < 4; di++) {
            nninit_tensor t = nninit_tensor_make(cases[c].ndim, cases[c].shape, DTYPES[di]);
            int64_t numel;
            assert_int_equal(nninit_tensor_numel(&t, &numel), NNINIT_OK);
            const size_t bytes = (size_t)numel * nninit_dtype_size(t.dtype);
            unsigned char *want = xmalloc(bytes), *got = xmalloc(bytes);
            nninit_key key = nninit_key_from_name(11, cases[c].label);
            if (nninit_fill(&cases[c].s, &t, key, want)) fail_msg("%s: %s", cases[c].label, nninit_last_error());
            for (size_t ti = 0; ti < sizeof counts / sizeof counts[0]; ti++) {
                memset(got, 0xA5, bytes);
                if (nninit_fill_threads(&cases[c].s, &t, key, got, counts[ti]))
                    fail_msg("%s: %s", cases[c].label, nninit_last_error());
                if (memcmp(got, want, bytes) != 0)
                    fail_msg("%s %s: %d threads differ from nninit_fill", cases[c].label, nninit_dtype_name(t.dtype),
                             counts[ti]);
            }
            free(got);
            free(want);
        }
    }
}

/* How many threads start: at most one per 2^16 elements, none for 1. */
static void test_thread_counts(void **state) {
    (void)state;
    const int64_t n = 7 * 65536 + 100;
    float *buf = xmalloc((size_t)n * sizeof(float));
    nninit_spec s = spec_of(NNINIT_NORMAL);
    nninit_tensor t = nninit_tensor_make(1, (const int64_t[]){n}, NNINIT_F32);
    nninit_key key = nninit_key_make(1, 2);
    const struct {
        int threads;
        int64_t numel;
        int creates;
    } want[] = {
        {1, n, 0},         {2, n, 1},         {3, n, 2},         {7, n, 6},     {8, n, 6},
        {64, n, 6},        {3, 3 * 65536, 2}, {3, 2 * 65536, 1}, {3, 65535, 0}, {7, 131071, 0},
        {4, 65536 * 2, 1}, {0, 1000, 0},      {2, 1, 0},         {2, 0, 0},
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        creates = 0;
        assert_int_equal(nninit_fill_range_threads(&s, &t, key, 0, want[k].numel, buf, want[k].threads), NNINIT_OK);
        if (creates != want[k].creates)
            fail_msg("%d threads on %lld elements started %d threads, expected %d", want[k].threads,
                     (long long)want[k].numel, creates, want[k].creates);
    }
    /* orthogonal and sparse: the calling thread */
    float *m = xmalloc(200 * 700 * sizeof(float));
    nninit_tensor t2 = nninit_tensor_2d(700, 200, NNINIT_F32);
    creates = 0;
    nninit_spec o = spec_of(NNINIT_ORTHOGONAL), sp = spec_of(NNINIT_SPARSE);
    assert_int_equal(nninit_fill_threads(&o, &t2, key, m, 4), NNINIT_OK);
    assert_int_equal(nninit_fill_threads(&sp, &t2, key, m, 4), NNINIT_OK);
    assert_int_equal(creates, 0);
    free(m);
    free(buf);
}

/* A thread that cannot start: the started ones are joined, NOMEM. */
static void test_thread_start_fails(void **state) {
    (void)state;
    const int64_t n = 8 * 65536;
    float *buf = xmalloc((size_t)n * sizeof(float));
    nninit_spec s = spec_of(NNINIT_NORMAL);
    nninit_tensor t = nninit_tensor_make(1, (const int64_t[]){n}, NNINIT_F32);
    nninit_key key = nninit_key_make(1, 2);
    for (int at = 1; at <= 3; at++) {
        creates = 0;
        fail_create_at = at;
        assert_int_equal(nninit_fill_threads(&s, &t, key, buf, 4), NNINIT_ERR_NOMEM);
        assert_non_null(strstr(nninit_last_error(), "cannot start thread"));
        assert_int_equal(creates, at);
    }
    fail_create_at = 0;
    assert_int_equal(nninit_fill_threads(&s, &t, key, buf, 4), NNINIT_OK);
    free(buf);
}

/* _threads validates exactly as nninit_fill / nninit_fill_range. */
static void test_threads_errors(void **state) {
    (void)state;
    float buf[64];
    nninit_spec s = spec_of(NNINIT_NORMAL);
    nninit_tensor t = nninit_tensor_2d(4, 4, NNINIT_F32);
    nninit_key key = nninit_key_make(0, 0);
    assert_int_equal(nninit_fill_threads(&s, &t, key, buf, -1), NNINIT_ERR_PARAM);
    assert_non_null(strstr(nninit_last_error(), "threads"));
    assert_int_equal(nninit_fill_range_threads(&s, &t, key, 0, 4, buf, -3), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_fill_threads(&s, &t, key, NULL, 2), NNINIT_ERR_NULL);
    assert_int_equal(nninit_fill_range_threads(&s, &t, key, 0, 4, NULL, 2), NNINIT_ERR_NULL);
    assert_int_equal(nninit_fill_threads(NULL, &t, key, buf, 2), nninit_fill(NULL, &t, key, buf));
    assert_int_equal(nninit_fill_threads(&s, NULL, key, buf, 2), nninit_fill(&s, NULL, key, buf));
    assert_int_equal(nninit_fill_range_threads(&s, &t, key, 3, 2, buf, 2), NNINIT_ERR_SLICE);
    assert_int_equal(nninit_fill_range_threads(&s, &t, key, 0, 17, buf, 2), NNINIT_ERR_SLICE);
    assert_int_equal(nninit_fill_range_threads(&s, &t, key, -1, 2, buf, 2), NNINIT_ERR_SLICE);
    nninit_spec bad = s;
    bad.std = -1;
    assert_int_equal(nninit_fill_threads(&bad, &t, key, buf, 2), nninit_fill(&bad, &t, key, buf));
    nninit_spec o = spec_of(NNINIT_ORTHOGONAL);
    assert_int_equal(nninit_fill_range_threads(&o, &t, key, 0, 8, buf, 2), NNINIT_ERR_NOT_ELEMENTWISE);
    assert_int_equal(nninit_fill_range_threads(&o, &t, key, 0, 16, buf, 2), NNINIT_OK);
    assert_int_equal(nninit_fill_range_threads(&s, &t, key, 5, 5, buf, 0), NNINIT_OK); /* empty */
}

/* ---- a path this CPU or build cannot run ------------------------------------ */
static void test_arch_unavailable(void **state) {
    (void)state;
    assert_null(nninit_arch_name());
    char why[256];
    snprintf(why, sizeof why, "%s", nninit_last_error());
    print_message("NNINIT_ARCH=%s: %s\n", getenv("NNINIT_ARCH"), why);
    assert_true(strncmp(why, "NNINIT_ARCH=", 12) == 0);
    assert_null(nninit__kernels(NULL));
    const nninit_scheme schemes[] = {NNINIT_ZEROS,        NNINIT_UNIFORM,       NNINIT_NORMAL,
                                     NNINIT_TRUNC_NORMAL, NNINIT_XAVIER_NORMAL, NNINIT_KAIMING_UNIFORM,
                                     NNINIT_ORTHOGONAL,   NNINIT_SPARSE,        NNINIT_EYE};
    float buf[64];
    nninit_tensor t = nninit_tensor_2d(8, 8, NNINIT_F32);
    nninit_key key = nninit_key_make(0, 0);
    for (size_t k = 0; k < sizeof schemes / sizeof schemes[0]; k++) {
        nninit_spec s = nninit_spec_default(schemes[k]);
        for (int entry = 0; entry < 4; entry++) {
            memset(buf, 0xA5, sizeof buf);
            nninit_status st = entry == 0   ? nninit_fill(&s, &t, key, buf)
                               : entry == 1 ? nninit_fill_range(&s, &t, key, 0, 64, buf)
                               : entry == 2 ? nninit_fill_threads(&s, &t, key, buf, 2)
                                            : nninit_fill_range_threads(&s, &t, key, 0, 64, buf, 0);
            if (st != NNINIT_ERR_ARCH)
                fail_msg("%s entry %d: %s, not NNINIT_ERR_ARCH", nninit_scheme_name(schemes[k]), entry,
                         nninit_status_str(st));
            assert_string_equal(nninit_last_error(), why);
            for (size_t i = 0; i < sizeof buf; i++) assert_int_equal(((unsigned char *)buf)[i], 0xA5);
        }
    }
    /* argument errors are still found first */
    nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
    s.std = -1;
    assert_int_equal(nninit_fill(&s, &t, key, buf), NNINIT_ERR_PARAM);
}

int main(void) {
    find_sets();
    const struct CMUnitTest runs[] = {
        cmocka_unit_test(test_sets_match_portable), cmocka_unit_test(test_choice),
        cmocka_unit_test(test_threads_ranges),      cmocka_unit_test(test_threads_schemes),
        cmocka_unit_test(test_thread_counts),       cmocka_unit_test(test_thread_start_fails),
        cmocka_unit_test(test_threads_errors),
    };
    const struct CMUnitTest cannot[] = {cmocka_unit_test(test_arch_unavailable)};
    if (!nninit_arch_name()) return cmocka_run_group_tests(cannot, NULL, NULL);
    return cmocka_run_group_tests(runs, NULL, NULL);
}

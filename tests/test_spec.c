/* test_spec.c -- scheme text (src/init/spec.c): nninit_spec_parse and
 * nninit_spec_format are inverses bit for bit, every error names its column
 * (alone, inside an architecture, inside a JSON string), and the public
 * parameter table says exactly what each scheme reads. */
#include <float.h>
#include <limits.h>
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
#include "nninit_nn.h" /* only to embed schemes in architectures */

static int is_kaiming(nninit_scheme s) { return s == NNINIT_KAIMING_UNIFORM || s == NNINIT_KAIMING_NORMAL; }

/* The double field a numeric parameter sets, as include/nninit.h documents
 * it (written out here, independently of the library's table); NULL for the
 * others. */
static double *num_field(nninit_spec *sp, const char *name) {
    if (strcmp(name, "a") == 0) return is_kaiming(sp->scheme) ? &sp->slope : &sp->a;
    if (strcmp(name, "gain") == 0) return &sp->gain;
    if (strcmp(name, "b") == 0) return &sp->b;
    if (strcmp(name, "mean") == 0) return &sp->mean;
    if (strcmp(name, "std") == 0) return &sp->std;
    if (strcmp(name, "value") == 0) return &sp->value;
    if (strcmp(name, "scale") == 0) return &sp->scale;
    if (strcmp(name, "sparsity") == 0) return &sp->sparsity;
    if (strcmp(name, "slope") == 0) return &sp->slope;
    return NULL;
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static int same_spec(const nninit_spec *a, const nninit_spec *b) {
    return a->scheme == b->scheme && same_bits(a->value, b->value) && same_bits(a->a, b->a) && same_bits(a->b, b->b) &&
           same_bits(a->mean, b->mean) && same_bits(a->std, b->std) && same_bits(a->gain, b->gain) &&
           same_bits(a->slope, b->slope) && a->mode == b->mode && a->nonlinearity == b->nonlinearity &&
           same_bits(a->scale, b->scale) && a->distribution == b->distribution && same_bits(a->sparsity, b->sparsity) &&
           a->groups == b->groups;
}

static void parse_ok(const char *text, nninit_spec *sp) {
    nninit_status st = nninit_spec_parse(text, sp);
    if (st) print_error("'%s': %s %s\n", text, nninit_status_str(st), nninit_last_error());
    assert_int_equal(st, NNINIT_OK);
}

static void expect_msg(const char *what, const char *frag) {
    const char *msg = nninit_last_error();
    if (!strstr(msg, frag)) print_error("%s: message '%s' lacks '%s'\n", what, msg, frag);
    assert_non_null(strstr(msg, frag));
}

/* splitmix64: a fixed stream of test values. */
static uint64_t rng = 0x5eed5eed12345678ull;
static uint64_t next(void) {
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Any finite double: random bits (subnormals, huge, -0 included), short
 * decimals as people write them, or an edge case. */
static double random_number(void) {
    static const double edge[] = {0.0,     -0.0,      1.0,
                                  -1.0,    DBL_MAX,   -DBL_MAX,
                                  DBL_MIN, -DBL_MIN,  4.9406564584124654e-324,
                                  0.1,     1.0 / 3.0, 1e300,
                                  1e-300,  2.5e-5,    123456789012345678.0};
    uint64_t r = next();
    switch (r % 3) {
    case 0:
        for (;;) {
            uint64_t bits = next();
            double v;
            memcpy(&v, &bits, sizeof v);
            if (isfinite(v)) return v;
        }
    case 1: return (double)((int64_t)(next() % 2000001) - 1000000) * pow(10.0, (double)(int)(next() % 17) - 8);
    default: return edge[(r >> 8) % (sizeof edge / sizeof edge[0])];
    }
}

/* A spec of scheme s: each parameter s reads at its default or at a random
 * valid value. */
static nninit_spec random_spec(nninit_scheme s) {
    nninit_spec sp = nninit_spec_default(s);
    for (int i = 0; i < nninit_spec_param_count(); i++) {
        const char *name = nninit_spec_param_name(i);
        if (!nninit_scheme_takes_param(s, name) || next() % 2) continue;
        double *f = num_field(&sp, name);
        if (f) *f = random_number();
        else if (strcmp(name, "groups") == 0) sp.groups = 1 + (int64_t)(next() % INT_MAX);
        else if (strcmp(name, "mode") == 0) sp.mode = (nninit_mode)(next() % 4);
        else if (strcmp(name, "nonlinearity") == 0) sp.nonlinearity = (nninit_nonlinearity)(next() % NNINIT_NL_COUNT);
        else if (strcmp(name, "distribution") == 0) sp.distribution = (nninit_distribution)(next() % 3);
        else fail_msg("parameter '%s' of %s has no field in this test", name, nninit_scheme_name(s));
    }
    return sp;
}

/* parse(format(spec)) == spec bit for bit, and format is canonical:
 * format(parse(text)) == text. */
static void test_round_trip(void **state) {
    (void)state;
    for (int s = 0; s < NNINIT_SCHEME_COUNT; s++) {
        for (int trial = 0; trial < 300; trial++) {
            nninit_spec sp = random_spec((nninit_scheme)s), back;
            char text[NNINIT_SPEC_TEXT_MAX], again[NNINIT_SPEC_TEXT_MAX];
            nninit_status st = nninit_spec_format(&sp, text, sizeof text);
            if (st)
                fail_msg("%s: format: %s %s", nninit_scheme_name((nninit_scheme)s), nninit_status_str(st),
                         nninit_last_error());
            parse_ok(text, &back);
            if (!same_spec(&sp, &back)) fail_msg("'%s' does not read back to the spec it came from", text);
            assert_int_equal(nninit_spec_format(&back, again, sizeof again), NNINIT_OK);
            assert_string_equal(again, text);
        }
    }
}

static void format_is(const nninit_spec *sp, const char *want) {
    char text[NNINIT_SPEC_TEXT_MAX];
    nninit_status st = nninit_spec_format(sp, text, sizeof text);
    if (st) fail_msg("format (want '%s'): %s %s", want, nninit_status_str(st), nninit_last_error());
    assert_string_equal(text, want);
}

/* The canonical text: own name, only what differs, table order, shortest digits. */
static void test_canonical_text(void **state) {
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"kaiming_normal", "kaiming_normal"},
        {"he_normal()", "kaiming_normal"},
        {"kaiming_normal(a=0.1, mode=fan_out, nonlinearity=leaky_relu)", "kaiming_normal(a=0.1, mode=fan_out)"},
        {"kaiming_uniform(slope=0.25,nonlinearity=relu)", "kaiming_uniform(a=0.25, nonlinearity=relu)"},
        {"normal(std=0.02)", "normal(std=0.02)"},
        {"normal( std = 1 , mean = 0 )", "normal"},
        {"trunc_normal(std=0.02, a=-0.04, b=0.04)", "trunc_normal(a=-0.04, b=0.04, std=0.02)"},
        {"dirac(groups=2)", "dirac(groups=2)"},
        {"dirac(groups=3.0)", "dirac(groups=3)"},
        {"uniform(a=-0)", "uniform(a=-0)"},
        {"uniform(a=-1, b=+1e300)", "uniform(a=-1, b=1e+300)"},
        {"constant(value=0.33333333333333331)", "constant(value=0.3333333333333333)"},  /* 16 digits do */
        {"constant(value=0.30000000000000004)", "constant(value=0.30000000000000004)"}, /* 0.1 + 0.2: 17 */
        {"constant(value=.5)", "constant(value=0.5)"},
        {"variance_scaling(distribution=untruncated_normal, scale=2, mode=fan_avg)",
         "variance_scaling(scale=2, mode=fan_avg, distribution=normal)"},
        {"glorot_uniform(gain=1.4142135623730951)", "xavier_uniform(gain=1.4142135623730951)"},
        {"sparse(sparsity=0.9)", "sparse(sparsity=0.9)"},
        {"identity", "eye"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nninit_spec sp;
        parse_ok(cases[k].in, &sp);
        format_is(&sp, cases[k].out);
    }
    nninit_spec sp = nninit_spec_default(NNINIT_UNIFORM);
    sp.a = -0.0; /* == 0.0 but not the same bits: written, and read back as -0 */
    format_is(&sp, "uniform(a=-0)");
    nninit_spec back;
    parse_ok("uniform(a=-0)", &back);
    assert_true(signbit(back.a));
    sp = nninit_spec_default(NNINIT_NORMAL);
    sp.gain = NAN; /* a field normal does not read: ignored */
    sp.slope = INFINITY;
    format_is(&sp, "normal");
}

/* Buffers: the exact size fits, one byte less is an error that leaves the
 * buffer alone; the longest text fits NNINIT_SPEC_TEXT_MAX. */
static void test_format_buffer(void **state) {
    (void)state;
    nninit_spec sp = nninit_spec_default(NNINIT_TRUNC_NORMAL_STD);
    sp.a = sp.b = sp.mean = sp.std = -DBL_MIN; /* 24 characters each: the longest numbers */
    char text[NNINIT_SPEC_TEXT_MAX], small[NNINIT_SPEC_TEXT_MAX];
    assert_int_equal(nninit_spec_format(&sp, text, sizeof text), NNINIT_OK);
    size_t n = strlen(text);
    assert_int_equal(n, 133);
    assert_int_equal(nninit_spec_format(&sp, small, n + 1), NNINIT_OK);
    assert_string_equal(small, text);
    memset(small, 'Z', sizeof small);
    assert_int_equal(nninit_spec_format(&sp, small, n), NNINIT_ERR_PARAM);
    expect_msg("cap n", "needs 134 bytes, the buffer has 133");
    for (size_t i = 0; i < sizeof small; i++) assert_int_equal(small[i], 'Z');
    assert_int_equal(nninit_spec_format(&sp, small, 0), NNINIT_ERR_PARAM);
    assert_int_equal(small[0], 'Z');
    sp = nninit_spec_default(NNINIT_ZEROS);
    assert_int_equal(nninit_spec_format(&sp, small, 5), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_spec_format(&sp, small, 6), NNINIT_OK);
    assert_string_equal(small, "zeros");
}

/* Specs that no text holds are refused, never written half. */
static void test_format_errors(void **state) {
    (void)state;
    char buf[NNINIT_SPEC_TEXT_MAX];
    nninit_spec sp = nninit_spec_default(NNINIT_NORMAL);
    assert_int_equal(nninit_spec_format(NULL, buf, sizeof buf), NNINIT_ERR_NULL);
    assert_int_equal(nninit_spec_format(&sp, NULL, sizeof buf), NNINIT_ERR_NULL);
    sp.std = NAN;
    assert_int_equal(nninit_spec_format(&sp, buf, sizeof buf), NNINIT_ERR_PARAM);
    expect_msg("std NaN", "spec_format: std is nan");
    sp.std = -INFINITY;
    assert_int_equal(nninit_spec_format(&sp, buf, sizeof buf), NNINIT_ERR_PARAM);
    sp = nninit_spec_default(NNINIT_DIRAC);
    sp.groups = 0;
    assert_int_equal(nninit_spec_format(&sp, buf, sizeof buf), NNINIT_ERR_PARAM);
    expect_msg("groups 0", "groups 0 is not in 1..2147483647");
    sp.groups = (int64_t)INT_MAX + 1;
    assert_int_equal(nninit_spec_format(&sp, buf, sizeof buf), NNINIT_ERR_PARAM);
    sp = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    sp.mode = (nninit_mode)9;
    assert_int_equal(nninit_spec_format(&sp, buf, sizeof buf), NNINIT_ERR_PARAM);
    expect_msg("mode 9", "mode 9 is not a valid value");
    sp = nninit_spec_default(NNINIT_VARIANCE_SCALING);
    sp.distribution = (nninit_distribution)-1;
    assert_int_equal(nninit_spec_format(&sp, buf, sizeof buf), NNINIT_ERR_PARAM);
    sp.scheme = NNINIT_SCHEME_COUNT;
    assert_int_equal(nninit_spec_format(&sp, buf, sizeof buf), NNINIT_ERR_PARAM);
    char unknown[32];
    snprintf(unknown, sizeof unknown, "unknown scheme %d", (int)NNINIT_SCHEME_COUNT);
    expect_msg("scheme", unknown);
}

/* Every bad text fails with PARAM at the column of the offending token: alone
 * ("scheme: at N"), after "784 -> dense 10 init=" (21 bytes further) and as a
 * JSON string (the column in the string). */
static void test_error_positions(void **state) {
    (void)state;
    static const struct {
        const char *text;
        int at;
        const char *frag;
    } cases[] = {
        {"nrmal(std=1)", 1,
         "expected a scheme (e.g. xavier_normal, kaiming_normal(mode=fan_out), normal(std=0.01)) "
         "but found 'nrmal'"},
        {"", 1, "expected a scheme"},
        {"normal(stdd=1)", 8, "expected a parameter of normal (mean, std) but found 'stdd'"},
        {"   normal(sd=1)", 11, "expected a parameter of normal (mean, std) but found 'sd'"},
        {"he_normal(std=1)", 11, "kaiming_normal takes no parameter 'std' (it takes: a, mode, nonlinearity)"},
        {"normal(gain=2)", 8, "normal takes no parameter 'gain' (it takes: mean, std)"},
        {"zeros(value=1)", 7, "zeros takes no parameter 'value' (it takes: none)"},
        {"uniform(slope=1)", 9, "uniform takes no parameter 'slope' (it takes: a, b)"},
        {"normal(std=1, std=2)", 15, "parameter 'std' given twice"},
        {"kaiming_normal(a=0.1, slope=0.2)", 23, "parameter 'slope' given twice ('a' and 'slope' are one parameter)"},
        {"kaiming_normal(slope=0.1,a=0.2)", 26, "parameter 'a' given twice ('a' and 'slope' are one parameter)"},
        {"normal(std=abc)", 12, "expected a number for std but found 'abc'"},
        {"normal(std=inf)", 12, "expected a number for std but found 'inf'"},
        {"normal(std=0x10)", 12, "expected a number for std but found '0'"},
        {"normal(std=1e999)", 12, "1e999 is out of range"},
        {"normal(std=)", 12, "expected a number for std but found ')'"},
        {"dirac(groups=1.5)", 14, "groups must be a positive integer"},
        {"dirac(groups=0)", 14, "groups must be a positive integer"},
        {"kaiming_normal(mode=fan_up)", 21, "unknown mode 'fan_up'"},
        {"kaiming_normal(mode=0)", 21, "expected a name for mode but found '0'"},
        {"kaiming_normal(nonlinearity=swish)", 29, "unsupported nonlinearity 'swish'"},
        {"normal(std 1)", 12, "expected '=' but found '1'"},
        {"normal(std=1", 13, "expected ',' or ')' but found end of input"},
        {"normal(std=1;", 13, "expected ',' or ')' but found ';'"},
        {"normal(std=1,)", 14, "expected a parameter of normal (mean, std) but found ')'"},
    };
    nninit_arch *arch = malloc(sizeof *arch);
    assert_non_null(arch);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char at[32], in_arch[128], in_json[256];
        nninit_spec sp = nninit_spec_default(NNINIT_ONES), before = sp;
        nninit_status st = nninit_spec_parse(cases[k].text, &sp);
        if (st != NNINIT_ERR_PARAM)
            fail_msg("'%s': got %s, want NNINIT_ERR_PARAM", cases[k].text, nninit_status_str(st));
        assert_true(same_spec(&sp, &before)); /* untouched */
        snprintf(at, sizeof at, "scheme: at %d: ", cases[k].at);
        expect_msg(cases[k].text, at);
        expect_msg(cases[k].text, cases[k].frag);

        snprintf(in_arch, sizeof in_arch, "784 -> dense 10 init=%s", cases[k].text);
        assert_int_equal(nninit_arch_parse(in_arch, arch), NNINIT_ERR_PARAM);
        snprintf(at, sizeof at, "arch: at %d: ", cases[k].at + 21);
        expect_msg(in_arch, at);
        expect_msg(in_arch, cases[k].frag);

        snprintf(in_json, sizeof in_json,
                 "{\"input\": 784, \"layers\": [{\"type\": \"dense\", \"units\": 10, \"init\": \"%s\"}]}",
                 cases[k].text);
        assert_int_equal(nninit_arch_parse_json(in_json, arch), NNINIT_ERR_PARAM);
        snprintf(at, sizeof at, "layers[0].init: at %d: ", cases[k].at);
        expect_msg(in_json, at);
        expect_msg(in_json, cases[k].frag);
    }
    /* The same table for JSON scheme objects, by path. */
    assert_int_equal(nninit_arch_parse_json("{\"input\": 784, \"layers\": [{\"type\": \"dense\", \"units\": 10, "
                                            "\"init\": {\"scheme\": \"kaiming_normal\", \"a\": 0.1, \"slope\": 0.2}}]}",
                                            arch),
                     NNINIT_ERR_PARAM);
    expect_msg("JSON a and slope",
               "arch: layers[0].init.slope: parameter 'slope' given twice ('a' and 'slope' are one parameter)");
    free(arch);
    /* The same name twice needs no note. */
    nninit_spec sp;
    assert_int_equal(nninit_spec_parse("kaiming_normal(slope=1, slope=2)", &sp), NNINIT_ERR_PARAM);
    expect_msg("slope twice", "scheme: at 25: parameter 'slope' given twice");
    assert_null(strstr(nninit_last_error(), "one parameter"));
    assert_int_equal(nninit_spec_parse("kaiming_normal(a=1, a=2)", &sp), NNINIT_ERR_PARAM);
    assert_null(strstr(nninit_last_error(), "one parameter"));
    /* What follows a scheme is the caller's: alone, nothing may. */
    assert_int_equal(nninit_spec_parse("normal(std=1) x", &sp), NNINIT_ERR_PARAM);
    expect_msg("trailing", "scheme: at 15: expected the end of the scheme but found 'x'");
    assert_int_equal(nninit_spec_parse("normal (std=1)", &sp), NNINIT_ERR_PARAM);
    expect_msg("space before (", "scheme: at 8: expected the end of the scheme but found '('");
    assert_int_equal(nninit_spec_parse(NULL, &sp), NNINIT_ERR_NULL);
    assert_int_equal(nninit_spec_parse("normal", NULL), NNINIT_ERR_NULL);
}

/* A value for each parameter that differs from every scheme's default and
 * keeps the spec valid on the tensors below. */
static const char *test_value(const char *name) {
    static const struct {
        const char *name, *value;
    } values[] = {{"gain", "2"},
                  {"a", "-0.5"},
                  {"b", "0.5"},
                  {"mean", "0.25"},
                  {"std", "0.5"},
                  {"value", "0.5"},
                  {"scale", "2"},
                  {"mode", "fan_out"},
                  {"nonlinearity", "tanh"},
                  {"distribution", "uniform"},
                  {"sparsity", "0.5"},
                  {"groups", "2"},
                  {"slope", "-0.5"}};
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++)
        if (strcmp(values[k].name, name) == 0) return values[k].value;
    fail_msg("no test value for parameter '%s'", name);
    return NULL;
}

/* dirac and delta_orthogonal fill conv kernels only. */
static int conv_only(int s) { return s == NNINIT_DIRAC || s == NNINIT_DELTA_ORTHOGONAL; }

/* The tensor a scheme is tried on: a conv weight for those (groups 2 fit
 * dirac's 4 outputs), the others a non-square matrix (fan_in != fan_out). */
static nninit_tensor test_tensor(nninit_scheme s) {
    static const int64_t conv[4] = {4, 2, 3, 3};
    return conv_only(s) ? nninit_tensor_make(4, conv, NNINIT_F64) : nninit_tensor_2d(6, 3, NNINIT_F64);
}

/* The table tells the truth: a parameter it says scheme s takes is accepted
 * and changes what s fills; one it says s does not take is refused, as text
 * and in a JSON scheme object. */
static void test_table(void **state) {
    (void)state;
    static const char *const fields[] = {"gain",     "a",      "b",    "mean",         "std",
                                         "value",    "scale",  "mode", "nonlinearity", "distribution",
                                         "sparsity", "groups", "slope"};
    int n = nninit_spec_param_count();
    assert_int_equal(n, (int)(sizeof fields / sizeof fields[0]));
    for (int i = 0; i < n; i++) assert_string_equal(nninit_spec_param_name(i), fields[i]);
    assert_null(nninit_spec_param_name(-1));
    assert_null(nninit_spec_param_name(n));
    assert_int_equal(nninit_scheme_takes_param(NNINIT_NORMAL, NULL), 0);
    assert_int_equal(nninit_scheme_takes_param(NNINIT_NORMAL, "stdd"), 0);
    assert_int_equal(nninit_scheme_takes_param(NNINIT_SCHEME_COUNT, "std"), 0);
    assert_int_equal(nninit_scheme_takes_param((nninit_scheme)-1, "std"), 0);
    assert_int_equal(nninit_scheme_takes_param(NNINIT_KAIMING_NORMAL, "slope"), 1);
    assert_int_equal(nninit_scheme_takes_param(NNINIT_KAIMING_NORMAL, "a"), 1);
    assert_int_equal(nninit_scheme_takes_param(NNINIT_UNIFORM, "slope"), 0);

    nninit_arch *arch = malloc(sizeof *arch);
    assert_non_null(arch);
    nninit_key key = nninit_key_from_name(7, "w");
    for (int s = 0; s < NNINIT_SCHEME_COUNT; s++) {
        const char *sname = nninit_scheme_name((nninit_scheme)s);
        nninit_tensor t = test_tensor((nninit_scheme)s);
        nninit_spec def = nninit_spec_default((nninit_scheme)s);
        double w0[72], w1[72];
        for (int i = 0; i < n; i++) {
            const char *p = nninit_spec_param_name(i), *v = test_value(p);
            int takes = nninit_scheme_takes_param((nninit_scheme)s, p);
            char text[96], json[320];
            nninit_spec sp;
            snprintf(text, sizeof text, "%s(%s=%s)", sname, p, v);
            const char *q = strcmp(p, "mode") == 0 || strcmp(p, "nonlinearity") == 0 || strcmp(p, "distribution") == 0
                                ? "\""
                                : ""; /* a name: a JSON string */
            const char *layer =
                conv_only(s) ? "\"type\": \"conv\", \"units\": 4, \"kernel\": 3" : "\"type\": \"dense\", \"units\": 6";
            snprintf(json, sizeof json,
                     "{\"input\": %s, \"layers\": [{%s, \"init\": {\"scheme\": \"%s\", \"%s\": %s%s%s}}]}",
                     conv_only(s) ? "[2, 5, 5]" : "3", layer, sname, p, q, v, q);
            nninit_status st = nninit_spec_parse(text, &sp), sj = nninit_arch_parse_json(json, arch);
            if (!takes) {
                if (st != NNINIT_ERR_PARAM)
                    fail_msg("'%s' accepted, but the table says %s takes no %s", text, sname, p);
                expect_msg(text, "takes no parameter");
                if (sj != NNINIT_ERR_PARAM) fail_msg("%s accepted", json);
                expect_msg(json, "takes no parameter");
                continue;
            }
            if (st) fail_msg("'%s': %s", text, nninit_last_error());
            if (sj) fail_msg("%s: %s", json, nninit_last_error());
            assert_true(same_spec(&arch->layers[0].init.weight, &sp));
            assert_false(same_spec(&sp, &def));
            /* ... and the scheme reads it: the fill changes. */
            assert_int_equal(nninit_fill(&def, &t, key, w0), NNINIT_OK);
            if (nninit_fill(&sp, &t, key, w1) != NNINIT_OK) fail_msg("'%s': fill: %s", text, nninit_last_error());
            if (memcmp(w0, w1, 72 * sizeof(double)) == 0) fail_msg("'%s' fills what %s does", text, sname);
        }
        /* No parameter: the bare name and "()" are the default. */
        nninit_spec sp;
        char text[64];
        snprintf(text, sizeof text, "%s()", sname);
        parse_ok(text, &sp);
        assert_true(same_spec(&sp, &def));
    }
    free(arch);
    /* 'a' is kaiming's slope, uniform's lower bound. */
    nninit_spec sp;
    parse_ok("kaiming_uniform(a=0.2)", &sp);
    assert_true(sp.slope == 0.2 && sp.a == 0.0);
    parse_ok("kaiming_uniform(slope=0.2)", &sp);
    assert_true(sp.slope == 0.2 && sp.a == 0.0);
    parse_ok("uniform(a=0.2)", &sp);
    assert_true(sp.a == 0.2 && sp.slope == 0.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_canonical_text),
        cmocka_unit_test(test_format_buffer),   cmocka_unit_test(test_format_errors),
        cmocka_unit_test(test_error_positions), cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

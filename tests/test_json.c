/*
 * test_json.c -- the tools' JSON writer (tools/util/json.h): numbers read
 * back as the same double in the fewest digits, 64-bit integers exactly,
 * strings escaped, null for NaN and NULL, the first failure sticks, and the
 * file writer goes through the atomic writer. Every document is parsed back
 * with cJSON_Parse.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "common.h"
#include "json.h"

/* The document's text, parsed back; the text is kept in *text. */
static cJSON *round_trip(cli_json *j, char **text) {
    *text = cli_json_text(j);
    assert_non_null(*text);
    size_t n = strlen(*text);
    assert_true(n > 0 && (*text)[n - 1] == '\n'); /* ends with a newline */
    cJSON *doc = cJSON_Parse(*text);
    assert_non_null(doc);
    return doc;
}

/* The raw text of the value printed for key, up to the end of its line. */
static void raw_value(const char *text, const char *key, char *out, size_t cap) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(text, pat);
    assert_non_null(p);
    p += strlen(pat);
    while (*p == ' ' || *p == '\t') p++;
    size_t n = strcspn(p, ",\n");
    assert_true(n < cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

static void test_numbers(void **state) {
    (void)state;
    static const struct {
        const char *key;
        double v;
        const char *text;
    } cases[] = {
        {"tenth", 0.1, "0.1"},
        {"third", 1.0 / 3.0, "0.3333333333333333"},
        {"subnormal", 1e-320, "1e-320"},
        {"smallest", 5e-324, "5e-324"},
        {"negzero", -0.0, "-0"},
        {"zero", 0.0, "0"},
        {"big", 1e300, "1e+300"},
        {"max", 1.7976931348623157e308, "1.7976931348623157e+308"},
        {"int", 42.0, "42"},
        {"neg", -2.5, "-2.5"},
    };
    cli_json j;
    assert_int_equal(cli_json_init(&j), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) cli_json_num(&j, NULL, cases[i].key, cases[i].v);
    cli_json_num(&j, NULL, "nan", NAN);
    cli_json_num(&j, NULL, "inf", INFINITY);
    cli_json_num(&j, NULL, "minf", -INFINITY);
    char *text;
    cJSON *doc = round_trip(&j, &text);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char raw[64];
        raw_value(text, cases[i].key, raw, sizeof raw);
        assert_string_equal(raw, cases[i].text); /* the fewest digits */
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(doc, cases[i].key);
        assert_true(cJSON_IsNumber(it));
        assert_true(it->valuedouble == cases[i].v); /* the same double */
        assert_int_equal(!!signbit(it->valuedouble), !!signbit(cases[i].v));
    }
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "nan")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "inf")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "minf")));
    cJSON_Delete(doc);
    free(text);
    cli_json_free(&j);
}

/* Every double of a spread of magnitudes reads back exactly. */
static void test_numbers_sweep(void **state) {
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v); /* random bit patterns: every exponent */
        char buf[32];
        cli_json_fmt_num(buf, v);
        if (!isfinite(v)) {
            assert_string_equal(buf, "null");
            continue;
        }
        assert_true(strtod(buf, NULL) == v);
        assert_true(strlen(buf) <= 24);
    }
}

static void test_float(void **state) {
    (void)state;
    cli_json j;
    cli_json_init(&j);
    cli_json_float(&j, NULL, "lr", 0.1f);
    cli_json_float(&j, NULL, "third", 1.0f / 3.0f);
    cli_json_float(&j, NULL, "nan", NAN);
    char *text, raw[64];
    cJSON *doc = round_trip(&j, &text);
    raw_value(text, "lr", raw, sizeof raw);
    assert_string_equal(raw, "0.1");
    raw_value(text, "third", raw, sizeof raw);
    assert_true(strtof(raw, NULL) == 1.0f / 3.0f);
    assert_true(strlen(raw) <= 11);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "nan")));
    cJSON_Delete(doc);
    free(text);
    cli_json_free(&j);
}

static void test_integers(void **state) {
    (void)state;
    cli_json j;
    cli_json_init(&j);
    cli_json_int(&j, NULL, "max", INT64_MAX);
    cli_json_int(&j, NULL, "min", INT64_MIN);
    cli_json_int(&j, NULL, "odd", (int64_t)9007199254740993); /* 2^53 + 1: no double holds it */
    cli_json_u64(&j, NULL, "seed", UINT64_MAX);
    cli_json_int(&j, NULL, "zero", 0);
    char *text, raw[64];
    cJSON *doc = round_trip(&j, &text);
    raw_value(text, "max", raw, sizeof raw);
    assert_string_equal(raw, "9223372036854775807");
    raw_value(text, "min", raw, sizeof raw);
    assert_string_equal(raw, "-9223372036854775808");
    raw_value(text, "odd", raw, sizeof raw);
    assert_string_equal(raw, "9007199254740993");
    raw_value(text, "seed", raw, sizeof raw);
    assert_string_equal(raw, "18446744073709551615");
    raw_value(text, "zero", raw, sizeof raw);
    assert_string_equal(raw, "0");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(doc, "max")));
    cJSON_Delete(doc);
    free(text);
    cli_json_free(&j);
}

static void test_strings(void **state) {
    (void)state;
    static const char *const s[] = {
        "plain",     "quote \" and backslash \\", "new\nline\ttab\rcr\bbs\fff", "\x01\x02\x1f\x7f", "", "caf\xc3\xa9",
        "</script>",
    };
    cli_json j;
    cli_json_init(&j);
    cJSON *arr = cli_json_arr(&j, NULL, "strings");
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) cli_json_str(&j, arr, NULL, s[i]);
    cli_json_str(&j, NULL, "none", NULL);
    cli_json_str(&j, NULL, "key \"quoted\"\n", "v");
    char *text;
    cJSON *doc = round_trip(&j, &text);
    for (const char *p = text; *p; p++) /* no raw control character but the layout's */
        assert_true((unsigned char)*p >= 0x20 || *p == '\n' || *p == '\t');
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, "strings");
    assert_int_equal(cJSON_GetArraySize(a), (int)(sizeof s / sizeof s[0]));
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        const cJSON *it = cJSON_GetArrayItem(a, (int)i);
        assert_true(cJSON_IsString(it));
        assert_string_equal(it->valuestring, s[i]);
    }
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "none")));
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(doc, "key \"quoted\"\n");
    assert_true(cJSON_IsString(k));
    assert_string_equal(k->valuestring, "v");
    cJSON_Delete(doc);
    free(text);
    cli_json_free(&j);
}

static void test_structure(void **state) {
    (void)state;
    cli_json j;
    cli_json_init(&j);
    cJSON *o = cli_json_obj(&j, NULL, "meta");
    cli_json_bool(&j, o, "yes", 1);
    cli_json_bool(&j, o, "no", 0);
    cli_json_null(&j, o, "nothing");
    cJSON *ls = cli_json_arr(&j, NULL, "layers");
    for (int i = 0; i < 3; i++) {
        cJSON *y = cli_json_obj(&j, ls, NULL);
        cli_json_int(&j, y, "layer", i + 1);
        cJSON *h = cli_json_arr(&j, y, "hist");
        for (int b = 0; b < 4; b++) cli_json_num(&j, h, NULL, 0.25 * b);
    }
    assert_int_equal(j.failed, 0);
    char *text;
    cJSON *doc = round_trip(&j, &text);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "meta");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "yes")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m, "no")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(m, "nothing")));
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(doc, "layers");
    assert_int_equal(cJSON_GetArraySize(l), 3);
    const cJSON *y = cJSON_GetArrayItem(l, 2);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(y, "layer")->valueint, 3);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(y, "hist");
    assert_int_equal(cJSON_GetArraySize(h), 4);
    assert_true(cJSON_GetArrayItem(h, 3)->valuedouble == 0.75);
    cJSON_Delete(doc);
    free(text);
    cli_json_free(&j);
}

/* A value without a key in an object, or with one in an array, is a bug
 * of the caller: the document fails, and so does every later call. */
static void test_failure_sticks(void **state) {
    (void)state;
    cli_json j;
    cli_json_init(&j);
    cJSON *arr = cli_json_arr(&j, NULL, "a");
    cli_json_num(&j, arr, "key-in-array", 1);
    assert_int_equal(j.failed, 1);
    assert_null(cli_json_obj(&j, NULL, "later")); /* NULL parent after a failure: not the root */
    cli_json_num(&j, NULL, "later", 1);
    errno = 0;
    assert_null(cli_json_text(&j));
    assert_int_equal(errno, ENOMEM);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(cli_json_print(&j, f), -1);
    assert_int_equal(ftell(f), 0); /* nothing half-written */
    fclose(f);
    cli_json_free(&j);
    cli_json_free(&j); /* twice is fine */

    cli_json_init(&j);
    cli_json_num(&j, NULL, NULL, 1); /* no key in an object */
    assert_int_equal(j.failed, 1);
    cli_json_free(&j);
}

static void test_write_file(void **state) {
    (void)state;
    char dir[] = "/tmp/test_json.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/out.json", dir);
    cli_json j;
    cli_json_init(&j);
    cli_json_num(&j, NULL, "x", 0.1);
    cli_json_u64(&j, NULL, "seed", 7);
    assert_int_equal(cli_json_write(&j, path), 0);
    char *text = cli_read_file(path, 1 << 20);
    assert_non_null(text);
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    assert_true(cJSON_GetObjectItemCaseSensitive(doc, "x")->valuedouble == 0.1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(doc, "seed")->valueint, 7);
    cJSON_Delete(doc);
    free(text);
    /* a directory in the way is refused, not replaced */
    char sub[160];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    errno = 0;
    assert_int_equal(cli_json_write(&j, sub), -1);
    assert_int_equal(errno, EEXIST);
    cli_json_free(&j);
    assert_int_equal(rmdir(sub), 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0); /* no temporary left behind */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),        cmocka_unit_test(test_numbers_sweep), cmocka_unit_test(test_float),
        cmocka_unit_test(test_integers),       cmocka_unit_test(test_strings),       cmocka_unit_test(test_structure),
        cmocka_unit_test(test_failure_sticks), cmocka_unit_test(test_write_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

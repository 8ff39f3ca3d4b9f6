/* test_model.c -- whole models (include/nninit_model.h): rules and their
 * errors, spec files, recipes and their settings, and that a tensor's values
 * depend on its own (seed, name, rule, shape) alone.
 *
 * The recipes' rules are checked against their sources' formulas here (std
 * of each GPT-2 and torchtitan rule); tests/test_checkpoint.py writes them
 * as files and reads them back with a reader of its own. */
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
#include "nninit_model.h"

static nninit_model *model(void) {
    nninit_model *m;
    assert_int_equal(nninit_model_new(&m), NNINIT_OK);
    return m;
}

static void add(nninit_model *m, const char *name, int64_t d0, int64_t d1) {
    const int64_t shape[2] = {d0, d1};
    assert_int_equal(nninit_model_add_tensor(m, name, d1 ? 2 : 1, shape, NNINIT_F32, NNINIT_LAYOUT_OIHW), NNINIT_OK);
}

static void expect_resolve(nninit_model *m, nninit_status want, const char *needle) {
    nninit_status st = nninit_model_resolve(m);
    if (st != want)
        fail_msg("resolve: %s (%s), wanted %s", nninit_status_str(st), nninit_last_error(), nninit_status_str(want));
    if (needle && !strstr(nninit_last_error(), needle))
        fail_msg("resolve: message '%s' lacks '%s'", nninit_last_error(), needle);
}

static void test_rules_first_match_and_errors(void **state) {
    (void)state;
    nninit_model *m = model();
    add(m, "a.weight", 8, 4);
    add(m, "a.bias", 8, 0);
    add(m, "norm.weight", 8, 0);
    assert_int_equal(nninit_model_add_rule(m, "*norm.weight", "ones", NULL, -1), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(m, "*.bias", "zeros", NULL, -1), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(m, "*", "normal(std=0.02)", "src", -1), NNINIT_OK);
    expect_resolve(m, NNINIT_OK, NULL);
    assert_int_equal(nninit_model_tensor_at(m, 0)->rule, 2);
    assert_int_equal(nninit_model_tensor_at(m, 1)->rule, 1);
    assert_int_equal(nninit_model_tensor_at(m, 2)->rule, 0);
    assert_string_equal(nninit_model_tensor_at(m, 0)->init, "normal(std=0.02)");
    assert_int_equal(nninit_model_rule_at(m, 2)->uses, 1);
    /* a rule that matches nothing (after the earlier ones took everything) */
    assert_int_equal(nninit_model_add_rule(m, "*.weight", "zeros", NULL, -1), NNINIT_OK);
    expect_resolve(m, NNINIT_ERR_FORMAT, "rule 3 ('*.weight' -> zeros) matches no tensor");
    nninit_model_free(m);

    m = model();
    add(m, "x", 4, 4);
    add(m, "y", 4, 4);
    assert_int_equal(nninit_model_add_rule(m, "x", "zeros", NULL, -1), NNINIT_OK);
    expect_resolve(m, NNINIT_ERR_FORMAT, "tensor 'y' matches no rule");
    add(m, "x", 2, 2);
    assert_int_equal(nninit_model_add_rule(m, "y", "zeros", NULL, -1), NNINIT_OK);
    expect_resolve(m, NNINIT_ERR_FORMAT, "tensor 'x' is listed twice");
    nninit_model_free(m);

    /* a fan-based rule on a 1-D tensor names the tensor */
    m = model();
    add(m, "fc.bias", 8, 0);
    assert_int_equal(nninit_model_add_rule(m, "*", "kaiming_uniform", NULL, -1), NNINIT_OK);
    expect_resolve(m, NNINIT_ERR_DIMS, "fc.bias");
    nninit_model_free(m);

    /* bad rules and tensors */
    m = model();
    assert_int_equal(nninit_model_add_rule(m, "", "zeros", NULL, -1), NNINIT_ERR_FORMAT);
    assert_int_equal(nninit_model_add_rule(m, "*", "normal(gain=2)", NULL, -1), NNINIT_ERR_PARAM);
    assert_non_null(strstr(nninit_last_error(), "rule 0"));
    assert_int_equal(nninit_model_add_rule(m, "*", "zeros", NULL, -2), NNINIT_ERR_FORMAT);
    const int64_t s0[1] = {0}, s1[1] = {3};
    assert_int_equal(nninit_model_add_tensor(m, "z", 1, s0, NNINIT_F32, NNINIT_LAYOUT_OIHW), NNINIT_ERR_SHAPE);
    assert_int_equal(nninit_model_add_tensor(m, "", 1, s1, NNINIT_F32, NNINIT_LAYOUT_OIHW), NNINIT_ERR_FORMAT);
    assert_int_equal(nninit_model_add_tensor(m, "z", 1, s1, (nninit_dtype)9, NNINIT_LAYOUT_OIHW), NNINIT_ERR_DTYPE);
    assert_int_equal(nninit_model_add_tensor(m, "z", 0, s1, NNINIT_F32, NNINIT_LAYOUT_OIHW), NNINIT_ERR_SHAPE);
    assert_int_equal(nninit_model_add_tensor(NULL, "z", 1, s1, NNINIT_F32, NNINIT_LAYOUT_OIHW), NNINIT_ERR_NULL);
    expect_resolve(m, NNINIT_ERR_FORMAT, "no tensors");
    /* padding_idx past the rows */
    add(m, "emb", 4, 3);
    assert_int_equal(nninit_model_add_rule(m, "emb", "normal", NULL, 4), NNINIT_OK);
    expect_resolve(m, NNINIT_ERR_FORMAT, "padding_idx 4 outside its 4 rows");
    nninit_model_free(m);
}

/* Values: a tensor's bytes depend on (seed, name, rule, shape) only. */
static void test_values_independent_of_others(void **state) {
    (void)state;
    nninit_model *a = model(), *b = model();
    add(a, "first", 5, 7);
    add(a, "emb", 6, 3);
    add(b, "zzz", 100, 3);
    add(b, "emb", 6, 3);
    add(b, "first", 5, 7);
    assert_int_equal(nninit_model_add_rule(a, "emb", "normal(std=0.5)", NULL, 2), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(a, "*", "uniform(a=-1, b=1)", NULL, -1), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(b, "emb", "normal(std=0.5)", NULL, 2), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(b, "*", "uniform(a=-1, b=1)", NULL, -1), NNINIT_OK);
    assert_int_equal(nninit_model_resolve(a), NNINIT_OK);
    assert_int_equal(nninit_model_resolve(b), NNINIT_OK);
    float x[35], y[35];
    assert_int_equal(nninit_model_fill(a, 0, 9, 0, 35, x, 1), NNINIT_OK);
    assert_int_equal(nninit_model_fill(b, 2, 9, 0, 35, y, 3), NNINIT_OK);
    assert_memory_equal(x, y, sizeof x);
    /* the same as nninit_fill with the name's key */
    nninit_spec s;
    assert_int_equal(nninit_spec_parse("uniform(a=-1, b=1)", &s), NNINIT_OK);
    nninit_tensor t = nninit_tensor_2d(5, 7, NNINIT_F32);
    assert_int_equal(nninit_fill(&s, &t, nninit_key_from_name(9, "first"), y), NNINIT_OK);
    assert_memory_equal(x, y, sizeof x);
    /* another seed: other values */
    assert_int_equal(nninit_model_fill(a, 0, 10, 0, 35, y, 1), NNINIT_OK);
    assert_true(memcmp(x, y, sizeof x) != 0);
    /* padding row 2 is zero, in a whole fill and in a slice that cuts it */
    float e[18], part[5];
    assert_int_equal(nninit_model_fill(a, 1, 9, 0, 18, e, 1), NNINIT_OK);
    for (int k = 0; k < 18; k++) assert_true((k / 3 == 2) == (e[k] == 0.0f));
    assert_int_equal(nninit_model_fill(b, 1, 9, 4, 9, part, 1), NNINIT_OK);
    assert_memory_equal(part, e + 4, sizeof part);
    assert_int_equal(nninit_model_fill(a, 2, 9, 0, 1, e, 1), NNINIT_ERR_SLICE);
    nninit_model_free(a);
    nninit_model_free(b);
}

static nninit_status from_json(const char *text, nninit_model **m) {
    return nninit_model_from_json(text, strlen(text), m);
}

static void expect_json_error(const char *text, const char *needle) {
    nninit_model *m = NULL;
    nninit_status st = from_json(text, &m);
    if (st == NNINIT_OK) {
        st = nninit_model_resolve(m);
        nninit_model_free(m);
    }
    if (st == NNINIT_OK) fail_msg("spec accepted: %s", text);
    if (!strstr(nninit_last_error(), needle))
        fail_msg("spec %s: message '%s' lacks '%s'", text, nninit_last_error(), needle);
}

static void test_spec_json(void **state) {
    (void)state;
    nninit_model *m;
    const char *ok = "{\"format\": \"nninit-spec/1\", \"dtype\": \"bf16\", \"tensors\": ["
                     "{\"name\": \"e\", \"shape\": [10, 4], \"layout\": \"embedding\"},"
                     "{\"name\": \"w\", \"shape\": [4, 4], \"dtype\": \"f64\"}],"
                     "\"rules\": [{\"match\": \"e\", \"init\": \"normal(std=0.02)\", \"padding_idx\": 0, "
                     "\"source\": \"here\"}, {\"match\": \"*\", \"init\": \"kaiming_uniform(a=2.23606797749979)\"}]}";
    assert_int_equal(from_json(ok, &m), NNINIT_OK);
    assert_int_equal(nninit_model_resolve(m), NNINIT_OK);
    const nninit_model_tensor *e = nninit_model_tensor_at(m, 0), *w = nninit_model_tensor_at(m, 1);
    assert_int_equal(e->tensor.dtype, NNINIT_BF16);
    assert_int_equal(e->tensor.layout, NNINIT_LAYOUT_EMBEDDING);
    assert_int_equal(e->padding_idx, 0);
    assert_int_equal(w->tensor.dtype, NNINIT_F64);
    assert_string_equal(nninit_model_rule_at(m, 0)->source, "here");
    nninit_model_free(m);

    expect_json_error("[1]", "top level must be an object");
    expect_json_error("{\"rules\": [", "not valid JSON");
    expect_json_error("{\"tensors\": []}", "\"rules\" (required)");
    expect_json_error("{\"rules\": [], \"extra\": 1}", "unknown key 'extra'");
    expect_json_error("{\"format\": \"x\", \"rules\": []}", "\"format\" must be");
    expect_json_error("{\"tensors\": [{\"name\": \"a\", \"shape\": [0]}], \"rules\": []}", "shape[0] must be");
    expect_json_error("{\"tensors\": [{\"name\": \"a\", \"shape\": [2.5]}], \"rules\": []}", "shape[0] must be");
    expect_json_error("{\"tensors\": [{\"name\": \"a\", \"shape\": [1,1,1,1,1,1,1,1,1]}], \"rules\": []}",
                      "more than 8 dims");
    expect_json_error("{\"tensors\": [{\"name\": 3, \"shape\": [2]}], \"rules\": []}", "\"name\" must be a string");
    expect_json_error("{\"tensors\": [{\"name\": \"a\", \"shape\": [2], \"dtype\": \"i8\"}], \"rules\": []}",
                      "\"dtype\" must be");
    expect_json_error("{\"tensors\": [{\"name\": \"a\", \"shape\": [2], \"layout\": \"custom\"}], \"rules\": []}",
                      "\"layout\" must be");
    expect_json_error("{\"tensors\": [{\"name\": \"a\", \"shape\": [2], \"w\": 1}], \"rules\": []}",
                      "tensors[0]: unknown key 'w'");
    expect_json_error("{\"tensors\": [{\"name\": \"a\", \"shape\": [2]}], \"rules\": [{\"match\": \"a\"}]}",
                      "rules[0]: \"match\" and \"init\" must be strings");
    expect_json_error("{\"tensors\": [{\"name\": \"a\", \"shape\": [2]}], \"rules\": [{\"match\": \"a\", \"init\": "
                      "\"zeros\", \"padding_idx\": -1}]}",
                      "padding_idx\" must be");
    expect_json_error("{\"tensors\": [{\"name\": \"a\", \"shape\": [2]}], \"rules\": [{\"match\": \"a\", \"init\": "
                      "\"nope\"}]}",
                      "rule 0 ('a')");
    expect_json_error("{\"tensors\": [{\"name\": \"a\", \"shape\": [2]}, {\"name\": \"a\", \"shape\": [2]}], "
                      "\"rules\": [{\"match\": \"a\", \"init\": \"zeros\"}]}",
                      "listed twice");
    assert_int_equal(nninit_model_from_json(NULL, 0, &m), NNINIT_ERR_NULL);
}

static const nninit_model_tensor *find(const nninit_model *m, const char *name) {
    for (size_t i = 0; i < nninit_model_count(m); i++)
        if (strcmp(nninit_model_tensor_at(m, i)->name, name) == 0) return nninit_model_tensor_at(m, i);
    fail_msg("no tensor '%s'", name);
    return NULL;
}

static double std_of(const nninit_model_tensor *e) {
    nninit_info info;
    assert_int_equal(nninit_explain(&e->spec, &e->tensor, &info), NNINIT_OK);
    return e->spec.std;
}

static void test_recipes(void **state) {
    (void)state;
    assert_true(nninit_model_recipe_count() >= 3);
    for (int i = 0; i < nninit_model_recipe_count(); i++) {
        nninit_model *m;
        const char *name = nninit_model_recipe_name(i);
        /* each recipe resolves with its defaults */
        assert_int_equal(nninit_model_recipe(name, NULL, 0, &m), NNINIT_OK);
        assert_non_null(nninit_model_recipe_about(i));
        assert_non_null(strstr(nninit_model_recipe_settings(i), "dtype="));
        nninit_model_free(m);
    }
    /* GPT-2 small: 124,439,808 parameters (HF GPT2Model), the c_proj std */
    nninit_model *m;
    assert_int_equal(nninit_model_recipe("gpt2", NULL, 0, &m), NNINIT_OK);
    int64_t params = 0;
    for (size_t i = 0; i < nninit_model_count(m); i++) {
        const nninit_tensor *t = &nninit_model_tensor_at(m, i)->tensor;
        int64_t n = 1;
        for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
        params += n;
    }
    assert_int_equal(params, 124439808);
    assert_int_equal(nninit_model_count(m), 148);
    assert_true(fabs(std_of(find(m, "h.11.mlp.c_proj.weight")) - 0.02 / sqrt(24.0)) < 1e-17);
    assert_true(fabs(std_of(find(m, "h.3.attn.c_proj.weight")) - 0.02 / sqrt(24.0)) < 1e-17);
    assert_true(std_of(find(m, "h.3.attn.c_attn.weight")) == 0.02);
    assert_int_equal(find(m, "ln_f.weight")->spec.scheme, NNINIT_ONES);
    assert_int_equal(find(m, "h.0.mlp.c_fc.bias")->spec.scheme, NNINIT_ZEROS);
    assert_int_equal(find(m, "h.0.mlp.c_fc.weight")->tensor.shape[1], 3072);
    nninit_model_free(m);

    /* Llama-2-7B: 6,738,415,616 parameters */
    assert_int_equal(nninit_model_recipe("llama-hf", NULL, 0, &m), NNINIT_OK);
    params = 0;
    for (size_t i = 0; i < nninit_model_count(m); i++) {
        const nninit_tensor *t = &nninit_model_tensor_at(m, i)->tensor;
        int64_t n = 1;
        for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
        params += n;
    }
    assert_int_equal(params, 6738415616);
    nninit_model_free(m);

    /* torchtitan Llama 3 8B: hidden 14336, depth-scaled std, lm_head cut at 3 std */
    const char *set[] = {"n_layers=4", "dtype=bf16"};
    assert_int_equal(nninit_model_recipe("llama-torchtitan", set, 2, &m), NNINIT_OK);
    assert_int_equal(find(m, "layers.0.feed_forward.w1.weight")->tensor.shape[0], 14336);
    assert_int_equal(find(m, "layers.0.feed_forward.w1.weight")->tensor.dtype, NNINIT_BF16);
    assert_true(fabs(std_of(find(m, "layers.3.attention.wo.weight")) - 0.02 / sqrt(8.0)) < 1e-17);
    assert_true(fabs(std_of(find(m, "layers.0.feed_forward.w3.weight")) - 0.02 / sqrt(2.0)) < 1e-17);
    assert_true(std_of(find(m, "layers.2.attention.qkv_linear.wk.weight")) == 0.02);
    assert_int_equal(find(m, "layers.2.attention.qkv_linear.wk.weight")->tensor.shape[0], 1024);
    assert_true(find(m, "layers.2.attention.qkv_linear.wk.weight")->spec.b == 2.0);
    const nninit_model_tensor *head = find(m, "lm_head.weight");
    assert_true(fabs(head->spec.std - 1.0 / 64.0) < 1e-18 && fabs(head->spec.b - 3.0 / 64.0) < 1e-17);
    assert_true(find(m, "tok_embeddings.weight")->spec.std == 1.0);
    nninit_model_free(m);

    /* settings errors */
    const char *bad_key[] = {"n_layerz=3"}, *bad_val[] = {"n_layer=0"}, *frac[] = {"n_layer=2.5"},
               *nodiv[] = {"n_embd=100"}, *noeq[] = {"n_layer"}, *dt[] = {"dtype=i8"};
    assert_int_equal(nninit_model_recipe("gpt3", NULL, 0, &m), NNINIT_ERR_UNKNOWN_NAME);
    assert_non_null(strstr(nninit_last_error(), "gpt2"));
    assert_int_equal(nninit_model_recipe("gpt2", bad_key, 1, &m), NNINIT_ERR_UNKNOWN_NAME);
    assert_int_equal(nninit_model_recipe("gpt2", bad_val, 1, &m), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_model_recipe("gpt2", frac, 1, &m), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_model_recipe("gpt2", nodiv, 1, &m), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_model_recipe("gpt2", noeq, 1, &m), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_model_recipe("gpt2", dt, 1, &m), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_model_recipe(NULL, NULL, 0, &m), NNINIT_ERR_NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_first_match_and_errors),
        cmocka_unit_test(test_values_independent_of_others),
        cmocka_unit_test(test_spec_json),
        cmocka_unit_test(test_recipes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

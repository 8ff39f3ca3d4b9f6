/* test_model.c -- whole models (include/nninit_model.h): rules and their
 * errors, spec files, recipes and their settings, and that a tensor's values
 * depend on its own (seed, name, rule, shape) alone; integer tensors (the
 * rules they take and refuse), scalars (0 dims), fans_of.
 *
 * The recipes' rules are checked against their sources' formulas here (std
 * of each GPT-2 and torchtitan rule, the published sizes of bert, vit and
 * resnet); tests/test_checkpoint.py and tests/test_recipes_torch.py write
 * them as files and read them back with readers of their own, the latter
 * into torchvision. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

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
#include "nninit_checkpoint.h"
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
    assert_int_equal(nninit_model_add_tensor(m, "z", -1, s1, NNINIT_F32, NNINIT_LAYOUT_OIHW), NNINIT_ERR_SHAPE);
    assert_int_equal(nninit_model_add_tensor(m, "z", 9, s1, NNINIT_F32, NNINIT_LAYOUT_OIHW), NNINIT_ERR_SHAPE);
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
    expect_json_error("{\"tensors\": [{\"name\": \"a\", \"shape\": [2], \"dtype\": \"f8\"}], \"rules\": []}",
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

/* ---- integer tensors, scalars, fans_of ---------------------------------------- */

static void add_st(nninit_model *m, const char *name, int ndim, int64_t d0, nninit_st_dtype dt) {
    const int64_t shape[1] = {d0};
    assert_int_equal(nninit_model_add_tensor_st(m, name, ndim, shape, dt, NNINIT_LAYOUT_OIHW), NNINIT_OK);
}

/* A model of one integer tensor under one rule: resolve's status and message. */
static void expect_int_rule(nninit_st_dtype dt, const char *init, nninit_status want, const char *needle) {
    nninit_model *m = model();
    add_st(m, "buf", 1, 3, dt);
    assert_int_equal(nninit_model_add_rule(m, "*", init, NULL, -1), NNINIT_OK);
    nninit_status st = nninit_model_resolve(m);
    if (st != want)
        fail_msg("%s: %s (%s), wanted %s", init, nninit_status_str(st), nninit_last_error(), nninit_status_str(want));
    if (needle && !strstr(nninit_last_error(), needle))
        fail_msg("%s: message '%s' lacks '%s'", init, nninit_last_error(), needle);
    nninit_model_free(m);
}

static void test_integer_tensors(void **state) {
    (void)state;
    nninit_model *m = model();
    add_st(m, "n", 0, 0, NNINIT_ST_I64); /* a scalar: BatchNorm's num_batches_tracked */
    add_st(m, "c", 1, 3, NNINIT_ST_I32);
    add_st(m, "u", 1, 2, NNINIT_ST_U8);
    add_st(m, "b", 1, 4, NNINIT_ST_BOOL);
    add_st(m, "big", 1, 2, NNINIT_ST_U64);
    add_st(m, "w", 1, 5, NNINIT_ST_F32);
    assert_int_equal(nninit_model_add_rule(m, "n", "zeros", NULL, -1), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(m, "c", "constant(value=-7)", NULL, -1), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(m, "u", "constant(value=255)", NULL, -1), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(m, "b", "ones", NULL, -1), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(m, "big", "constant(value=18446744073709549568)", NULL, -1), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(m, "w", "normal", NULL, -1), NNINIT_OK);
    /* Module.to(dtype) casts floating-point tensors only */
    assert_int_equal(nninit_model_set_dtype(m, NNINIT_BF16), NNINIT_OK);
    expect_resolve(m, NNINIT_OK, NULL);
    const nninit_model_tensor *n = nninit_model_tensor_at(m, 0), *c = nninit_model_tensor_at(m, 1),
                              *w = nninit_model_tensor_at(m, 5);
    assert_int_equal(n->dtype, NNINIT_ST_I64);
    assert_int_equal(n->tensor.ndim, 0);
    assert_int_equal(c->dtype, NNINIT_ST_I32);
    assert_int_equal(w->dtype, NNINIT_ST_BF16);
    assert_int_equal(w->tensor.dtype, NNINIT_BF16);
    assert_int_equal(nninit_model_tensor_numel(n), 1);
    assert_int_equal(nninit_model_tensor_bytes(n), 8);
    assert_int_equal(nninit_model_tensor_bytes(c), 12);
    assert_int_equal(nninit_model_tensor_bytes(nninit_model_tensor_at(m, 3)), 4);
    assert_int_equal(nninit_model_tensor_bytes(w), 10);
    /* the values, little-endian, whatever the seed */
    int64_t n0 = 99;
    assert_int_equal(nninit_model_fill(m, 0, 5, 0, 1, &n0, 1), NNINIT_OK);
    assert_int_equal(n0, 0);
    unsigned char cb[12], ub[2], bb[4], gb[16];
    assert_int_equal(nninit_model_fill(m, 1, 5, 0, 3, cb, 1), NNINIT_OK);
    for (int k = 0; k < 3; k++) {
        const unsigned char want[4] = {0xf9, 0xff, 0xff, 0xff}; /* -7 */
        assert_memory_equal(cb + 4 * k, want, 4);
    }
    assert_int_equal(nninit_model_fill(m, 2, 5, 0, 2, ub, 1), NNINIT_OK);
    assert_true(ub[0] == 255 && ub[1] == 255);
    assert_int_equal(nninit_model_fill(m, 3, 5, 1, 4, bb, 1), NNINIT_OK); /* a slice */
    assert_true(bb[0] == 1 && bb[1] == 1 && bb[2] == 1);
    assert_int_equal(nninit_model_fill(m, 4, 5, 0, 2, gb, 1), NNINIT_OK);
    const unsigned char top[8] = {0x00, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}; /* 2^64 - 2048 */
    assert_memory_equal(gb, top, 8);
    assert_memory_equal(gb + 8, top, 8);
    assert_int_equal(nninit_model_fill(m, 1, 5, 2, 4, cb, 1), NNINIT_ERR_SLICE);
    assert_int_equal(nninit_model_fill(m, 0, 5, 0, 2, cb, 1), NNINIT_ERR_SLICE);
    nninit_info info;
    assert_int_equal(nninit_model_explain(m, 1, &info), NNINIT_OK);
    assert_int_equal(info.kind, NNINIT_RESOLVED_CONSTANT);
    assert_true(info.lo == -7.0);
    assert_int_equal(nninit_model_explain(m, 0, &info), NNINIT_OK); /* a scalar too */
    assert_int_equal(nninit_model_explain(m, 9, &info), NNINIT_ERR_SLICE);
    nninit_model_free(m);

    /* accepted: zeros, ones, integer constants at the dtype's ends */
    expect_int_rule(NNINIT_ST_I8, "constant(value=-128)", NNINIT_OK, NULL);
    expect_int_rule(NNINIT_ST_I8, "constant(value=127)", NNINIT_OK, NULL);
    expect_int_rule(NNINIT_ST_U16, "constant(value=65535)", NNINIT_OK, NULL);
    expect_int_rule(NNINIT_ST_I64, "constant(value=-9223372036854775808)", NNINIT_OK, NULL);
    expect_int_rule(NNINIT_ST_BOOL, "zeros", NNINIT_OK, NULL);
    expect_int_rule(NNINIT_ST_U32, "ones", NNINIT_OK, NULL);
    /* refused, naming the tensor and its dtype */
    expect_int_rule(NNINIT_ST_I64, "normal(std=0.02)", NNINIT_ERR_FORMAT,
                    "tensor 'buf' is i64: its rule (rule 0, '*' -> normal(std=0.02)) must be zeros, ones or "
                    "constant(value=an integer)");
    expect_int_rule(NNINIT_ST_I32, "uniform", NNINIT_ERR_FORMAT, "tensor 'buf' is i32");
    expect_int_rule(NNINIT_ST_U8, "eye", NNINIT_ERR_FORMAT, "must be zeros, ones or constant");
    expect_int_rule(NNINIT_ST_I64, "constant(value=1.5)", NNINIT_ERR_FORMAT,
                    "tensor 'buf' is i64: constant value 1.5 (rule 0, '*') is not an integer");
    expect_int_rule(NNINIT_ST_U8, "constant(value=256)", NNINIT_ERR_FORMAT, "is not an integer in [0, 255]");
    expect_int_rule(NNINIT_ST_U8, "constant(value=-1)", NNINIT_ERR_FORMAT, "is not an integer in [0, 255]");
    expect_int_rule(NNINIT_ST_I8, "constant(value=-129)", NNINIT_ERR_FORMAT, "[-128, 127]");
    expect_int_rule(NNINIT_ST_BOOL, "constant(value=2)", NNINIT_ERR_FORMAT, "tensor 'buf' is bool");
    expect_int_rule(NNINIT_ST_I64, "constant(value=9223372036854775808)", NNINIT_ERR_FORMAT,
                    "[-9223372036854775808, 9223372036854775807]");
    expect_int_rule(NNINIT_ST_U64, "constant(value=18446744073709551616)", NNINIT_ERR_FORMAT,
                    "[0, 18446744073709551615]");
    expect_int_rule(NNINIT_ST_I64, "kaiming_uniform", NNINIT_ERR_FORMAT, "must be zeros, ones");

    /* dtypes a model cannot store */
    m = model();
    const int64_t s3[1] = {3};
    assert_int_equal(nninit_model_add_tensor_st(m, "f8", 1, s3, NNINIT_ST_F8_E4M3, NNINIT_LAYOUT_OIHW),
                     NNINIT_ERR_DTYPE);
    assert_int_equal(nninit_model_add_tensor_st(m, "x", 1, s3, NNINIT_ST_DTYPE_COUNT, NNINIT_LAYOUT_OIHW),
                     NNINIT_ERR_DTYPE);
    assert_int_equal(nninit_model_add_tensor_st(NULL, "x", 1, s3, NNINIT_ST_I64, NNINIT_LAYOUT_OIHW), NNINIT_ERR_NULL);
    nninit_model_free(m);

    /* the spec file's dtype names */
    nninit_st_dtype d;
    assert_int_equal(nninit_model_dtype_parse("i64", &d), NNINIT_OK);
    assert_int_equal(d, NNINIT_ST_I64);
    assert_int_equal(nninit_model_dtype_parse("bfloat16", &d), NNINIT_OK);
    assert_int_equal(d, NNINIT_ST_BF16);
    assert_int_equal(nninit_model_dtype_parse("int8", &d), NNINIT_OK);
    assert_int_equal(d, NNINIT_ST_I8);
    assert_int_equal(nninit_model_dtype_parse("f8", &d), NNINIT_ERR_UNKNOWN_NAME);
    assert_string_equal(nninit_model_dtype_name(NNINIT_ST_U16), "u16");
    assert_string_equal(nninit_model_dtype_name(NNINIT_ST_BOOL), "bool");
    assert_null(nninit_model_dtype_name(NNINIT_ST_F8_E5M2));
    const char *js = "{\"dtype\": \"i32\", \"tensors\": [{\"name\": \"step\", \"shape\": [], \"dtype\": \"i64\"},"
                     "{\"name\": \"ids\", \"shape\": [4]}, {\"name\": \"x\", \"shape\": [2], \"dtype\": \"f16\"}],"
                     "\"rules\": [{\"match\": \"step\", \"init\": \"zeros\"}, {\"match\": \"ids\", \"init\": "
                     "\"constant(value=3)\"}, {\"match\": \"x\", \"init\": \"normal\"}]}";
    assert_int_equal(from_json(js, &m), NNINIT_OK);
    assert_int_equal(nninit_model_resolve(m), NNINIT_OK);
    assert_int_equal(nninit_model_tensor_at(m, 0)->dtype, NNINIT_ST_I64);
    assert_int_equal(nninit_model_tensor_at(m, 0)->tensor.ndim, 0);
    assert_int_equal(nninit_model_tensor_at(m, 1)->dtype, NNINIT_ST_I32);
    assert_int_equal(nninit_model_tensor_at(m, 2)->dtype, NNINIT_ST_F16);
    nninit_model_free(m);
    expect_json_error("{\"tensors\": [{\"name\": \"a\", \"shape\": [2], \"dtype\": \"i64\"}], \"rules\": [{\"match\": "
                      "\"a\", \"init\": \"normal\"}]}",
                      "tensor 'a' is i64");
    expect_json_error("{\"dtype\": \"int\", \"rules\": []}", "\"dtype\" must be f32, f64, bf16, f16, i8");
}

/* 0-D tensors: one element, the value of a 1-element 1-D tensor of that name;
 * written and read back with shape []. */
static void test_scalars(void **state) {
    (void)state;
    nninit_model *m = model();
    add_st(m, "s", 0, 0, NNINIT_ST_F32);
    add_st(m, "step", 0, 0, NNINIT_ST_I64);
    assert_int_equal(nninit_model_add_rule(m, "s", "normal(std=2)", NULL, -1), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(m, "step", "constant(value=12)", NULL, -1), NNINIT_OK);
    expect_resolve(m, NNINIT_OK, NULL);
    float x, y;
    assert_int_equal(nninit_model_fill(m, 0, 3, 0, 1, &x, 1), NNINIT_OK);
    nninit_spec sp;
    assert_int_equal(nninit_spec_parse("normal(std=2)", &sp), NNINIT_OK);
    const int64_t one[1] = {1};
    nninit_tensor t1 = nninit_tensor_make(1, one, NNINIT_F32);
    assert_int_equal(nninit_fill(&sp, &t1, nninit_key_from_name(3, "s"), &y), NNINIT_OK);
    assert_memory_equal(&x, &y, sizeof x);
    assert_true(x != 0.0f);
    assert_int_equal(nninit_model_fill(m, 0, 3, 0, 2, &x, 1), NNINIT_ERR_SLICE);

    /* written and read back: shape [], 8 bytes of int64 12 */
    char path[] = "/tmp/nninit_test_model_XXXXXX";
    assert_non_null(mkdtemp(path));
    char file[64];
    snprintf(file, sizeof file, "%s/s.safetensors", path);
    assert_int_equal(nninit_model_write(m, 3, file, NULL, NULL), NNINIT_OK);
    nninit_st_file *f;
    assert_int_equal(nninit_st_open(file, &f), NNINIT_OK);
    const nninit_st_tensor *st = nninit_st_find(f, "step"), *ss = nninit_st_find(f, "s");
    assert_non_null(st);
    assert_int_equal(st->ndim, 0);
    assert_int_equal(st->dtype, NNINIT_ST_I64);
    assert_int_equal(st->end - st->begin, 8);
    assert_int_equal(ss->ndim, 0);
    assert_int_equal(ss->end - ss->begin, 4);
    int64_t v = 0;
    assert_int_equal(nninit_st_read(f, st, 0, 8, &v), NNINIT_OK);
    assert_int_equal(v, 12);
    assert_int_equal(nninit_st_read(f, ss, 0, 4, &y), NNINIT_OK);
    assert_memory_equal(&x, &y, sizeof x);
    assert_non_null(strstr(nninit_st_meta_get(f, "nninit"), "\"step\":{\"init\":\"constant(value=12)\""));
    nninit_st_close(f);
    remove(file);
    remove(path);
    nninit_model_free(m);

    /* a fan-based scheme or a padding row on a scalar: errors naming it */
    m = model();
    add_st(m, "s", 0, 0, NNINIT_ST_F32);
    assert_int_equal(nninit_model_add_rule(m, "s", "kaiming_normal", NULL, -1), NNINIT_OK);
    expect_resolve(m, NNINIT_ERR_DIMS, "tensor 's'");
    nninit_model_free(m);
    m = model();
    add_st(m, "s", 0, 0, NNINIT_ST_F32);
    assert_int_equal(nninit_model_add_rule(m, "s", "zeros", NULL, 0), NNINIT_OK);
    expect_resolve(m, NNINIT_ERR_FORMAT, "tensor 's': padding_idx on a scalar");
    nninit_model_free(m);
}

static void test_fans_of(void **state) {
    (void)state;
    nninit_model *m = model();
    add(m, "fc.weight", 8, 20);
    add(m, "fc.bias", 8, 0);
    const int64_t conv[4] = {4, 3, 3, 3};
    assert_int_equal(nninit_model_add_tensor(m, "conv.weight", 4, conv, NNINIT_F32, NNINIT_LAYOUT_OIHW), NNINIT_OK);
    add(m, "conv.bias", 4, 0);
    add(m, "extra", 4, 0);
    add(m, "ln.bias", 20, 0);
    const double a5 = 2.23606797749979;
    char init[96];
    snprintf(init, sizeof init, "kaiming_uniform(a=%.17g)", a5);
    assert_int_equal(nninit_model_add_rule_fans_of(m, "fc.bias", init, "linear.py", -1, "weight"), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule_fans_of(m, "conv.bias", "kaiming_normal(mode=fan_out)", NULL, -1, "weight"),
                     NNINIT_OK);
    /* a name with a '.': that tensor */
    assert_int_equal(nninit_model_add_rule_fans_of(m, "extra", "variance_scaling(scale=2)", NULL, -1, "conv.weight"),
                     NNINIT_OK);
    /* a scheme without fans ignores fans_of */
    assert_int_equal(nninit_model_add_rule_fans_of(m, "ln.bias", "zeros", NULL, -1, "fc.weight"), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(m, "*", init, NULL, -1), NNINIT_OK);
    expect_resolve(m, NNINIT_OK, NULL);
    assert_string_equal(nninit_model_rule_at(m, 0)->fans_of, "weight");
    assert_null(nninit_model_rule_at(m, 4)->fans_of);
    /* torch nn.Linear: bias U(+-1/sqrt(fan_in)), fan_in 20 */
    const nninit_model_tensor *b = nninit_model_tensor_at(m, 1);
    assert_int_equal(b->spec.scheme, NNINIT_UNIFORM);
    assert_true(fabs(b->spec.b - 1 / sqrt(20.0)) < 1e-16 && b->spec.a == -b->spec.b);
    assert_string_equal(b->fans_of, "fc.weight");
    assert_non_null(strstr(b->init, "uniform(a=-0.2236067977"));
    assert_string_equal(nninit_model_rule_at(m, (size_t)b->rule)->init, "kaiming_uniform(a=2.23606797749979)");
    /* the same as the weight's own resolution (engine/nn/net.c init_affine) */
    nninit_info wi;
    assert_int_equal(nninit_explain(&nninit_model_tensor_at(m, 0)->spec, &nninit_model_tensor_at(m, 0)->tensor, &wi),
                     NNINIT_OK);
    assert_true(wi.lo == b->spec.a && wi.hi == b->spec.b);
    float bias[8], want[8];
    assert_int_equal(nninit_model_fill(m, 1, 4, 0, 8, bias, 1), NNINIT_OK);
    nninit_tensor bt = nninit_tensor_make(1, (const int64_t[]){8}, NNINIT_F32);
    assert_int_equal(nninit_fill(&b->spec, &bt, nninit_key_from_name(4, "fc.bias"), want), NNINIT_OK);
    assert_memory_equal(bias, want, sizeof bias);
    for (int k = 0; k < 8; k++) assert_true(fabsf(bias[k]) <= b->spec.b && bias[k] != 0.0f);
    /* kaiming_normal fan_out of conv.weight: 4 * 9 */
    const nninit_model_tensor *cb = nninit_model_tensor_at(m, 3);
    assert_int_equal(cb->spec.scheme, NNINIT_NORMAL);
    assert_true(fabs(cb->spec.std - sqrt(2.0) / 6.0) < 1e-16);
    assert_string_equal(cb->fans_of, "conv.weight");
    /* variance_scaling's truncated normal keeps its bounds */
    const nninit_model_tensor *ex = nninit_model_tensor_at(m, 4);
    assert_int_equal(ex->spec.scheme, NNINIT_TRUNC_NORMAL);
    assert_true(fabs(ex->spec.std - sqrt(2.0 / 27.0) / 0.87962566103423978) < 1e-15);
    assert_true(fabs(ex->spec.b - 2 * ex->spec.std) < 1e-15 && ex->spec.a == -ex->spec.b);
    const nninit_model_tensor *ln = nninit_model_tensor_at(m, 5);
    assert_int_equal(ln->spec.scheme, NNINIT_ZEROS);
    assert_null(ln->fans_of);
    assert_string_equal(ln->init, "zeros");
    /* resolving again gives the same; after clear, the rules keep fans_of */
    expect_resolve(m, NNINIT_OK, NULL);
    assert_string_equal(nninit_model_tensor_at(m, 1)->fans_of, "fc.weight");
    nninit_model_free(m);

    /* errors: a missing tensor, a 1-D one, an empty fans_of */
    m = model();
    add(m, "lonely.bias", 4, 0);
    assert_int_equal(nninit_model_add_rule_fans_of(m, "*", init, NULL, -1, "weight"), NNINIT_OK);
    expect_resolve(m, NNINIT_ERR_FORMAT,
                   "tensor 'lonely.bias' (rule 0, '*'): fans_of 'weight': no tensor "
                   "'lonely.weight'");
    nninit_model_free(m);
    m = model();
    add(m, "bias", 4, 0);
    add(m, "weight", 4, 0);
    assert_int_equal(nninit_model_add_rule_fans_of(m, "bias", init, NULL, -1, "weight"), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(m, "weight", "ones", NULL, -1), NNINIT_OK);
    expect_resolve(m, NNINIT_ERR_DIMS,
                   "tensor 'bias' (rule 0, 'bias' -> kaiming_uniform(a=2.23606797749979)) "
                   "with the fans of 'weight'");
    nninit_model_free(m);
    m = model();
    assert_int_equal(nninit_model_add_rule_fans_of(m, "*", init, NULL, -1, ""), NNINIT_ERR_FORMAT);
    nninit_model_free(m);

    /* the spec file's "fans_of" */
    const char *js =
        "{\"tensors\": [{\"name\": \"l.weight\", \"shape\": [3, 16]}, {\"name\": \"l.bias\", \"shape\": "
        "[3]}], \"rules\": [{\"match\": \"*.bias\", \"init\": \"kaiming_uniform(a=2.23606797749979)\", "
        "\"fans_of\": \"weight\"}, {\"match\": \"*\", \"init\": \"kaiming_uniform(a=2.23606797749979)\"}]}";
    assert_int_equal(from_json(js, &m), NNINIT_OK);
    assert_int_equal(nninit_model_resolve(m), NNINIT_OK);
    assert_true(fabs(nninit_model_tensor_at(m, 1)->spec.b - 0.25) < 1e-16);
    nninit_model_free(m);
    expect_json_error("{\"tensors\": [{\"name\": \"a\", \"shape\": [2]}], \"rules\": [{\"match\": \"a\", \"init\": "
                      "\"zeros\", \"fans_of\": \"\"}]}",
                      "\"fans_of\" must be a non-empty string");
    expect_json_error("{\"tensors\": [{\"name\": \"a\", \"shape\": [2]}], \"rules\": [{\"match\": \"a\", \"init\": "
                      "\"zeros\", \"fans_of\": 3}]}",
                      "\"fans_of\" must be");
    expect_json_error("{\"tensors\": [{\"name\": \"a.b\", \"shape\": [2]}], \"rules\": [{\"match\": \"a.b\", \"init\": "
                      "\"zeros\", \"fans_of\": \"w\"}]}",
                      "no tensor 'a.w'");
}

/* Parameters (not BatchNorm's buffers) of a recipe's model. */
static int64_t params_of(const nninit_model *m) {
    int64_t n = 0;
    for (size_t i = 0; i < nninit_model_count(m); i++) {
        const nninit_model_tensor *e = nninit_model_tensor_at(m, i);
        if (!strstr(e->name, "running_") && !strstr(e->name, "num_batches")) n += nninit_model_tensor_numel(e);
    }
    return n;
}

static void test_recipes_bert_vit_resnet(void **state) {
    (void)state;
    nninit_model *m;
    /* published sizes: bert-base-uncased BertModel, vit_base_patch16_224, torchvision resnet18/50 */
    assert_int_equal(nninit_model_recipe("bert", NULL, 0, &m), NNINIT_OK);
    assert_int_equal(params_of(m), 109482240);
    assert_int_equal(nninit_model_count(m), 5 + 12 * 16 + 2);
    const nninit_model_tensor *we = find(m, "embeddings.word_embeddings.weight");
    assert_int_equal(we->padding_idx, 0);
    assert_true(we->spec.std == 0.02);
    assert_int_equal(find(m, "embeddings.position_embeddings.weight")->padding_idx, -1);
    assert_true(find(m, "encoder.layer.11.intermediate.dense.weight")->spec.std == 0.02);
    assert_int_equal(find(m, "encoder.layer.0.attention.output.LayerNorm.weight")->spec.scheme, NNINIT_ONES);
    assert_int_equal(find(m, "pooler.dense.bias")->spec.scheme, NNINIT_ZEROS);
    nninit_model_free(m);
    const char *bset[] = {"initializer_range=0.05", "pad_token_id=3", "vocab_size=10", "num_hidden_layers=1"};
    assert_int_equal(nninit_model_recipe("bert", bset, 4, &m), NNINIT_OK);
    assert_int_equal(find(m, "embeddings.word_embeddings.weight")->padding_idx, 3);
    assert_true(find(m, "encoder.layer.0.attention.self.key.weight")->spec.std == 0.05);
    nninit_model_free(m);
    const char *bad_pad[] = {"vocab_size=10", "pad_token_id=10"}, *bad_heads[] = {"num_attention_heads=5"};
    assert_int_equal(nninit_model_recipe("bert", bad_pad, 2, &m), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_model_recipe("bert", bad_heads, 1, &m), NNINIT_ERR_PARAM);

    assert_int_equal(nninit_model_recipe("vit", NULL, 0, &m), NNINIT_OK);
    assert_int_equal(params_of(m), 86567656);
    assert_int_equal(find(m, "pos_embed")->tensor.shape[1], 197);
    assert_true(find(m, "blocks.3.mlp.fc1.weight")->spec.scheme == NNINIT_TRUNC_NORMAL);
    assert_true(find(m, "blocks.3.mlp.fc1.weight")->spec.std == 0.02 && find(m, "head.weight")->spec.b == 2.0);
    assert_true(find(m, "cls_token")->spec.std == 1e-6);
    const nninit_model_tensor *pb = find(m, "patch_embed.proj.bias");
    assert_true(fabs(pb->spec.b - 1 / sqrt(768.0)) < 1e-17);
    assert_string_equal(pb->fans_of, "patch_embed.proj.weight");
    assert_int_equal(find(m, "blocks.0.norm1.weight")->spec.scheme, NNINIT_ONES);
    nninit_model_free(m);
    const char *vset[] = {"qkv_bias=0", "num_classes=0", "depth=1"};
    assert_int_equal(nninit_model_recipe("vit", vset, 3, &m), NNINIT_OK);
    assert_int_equal(nninit_model_count(m), 4 + 11 + 2);
    nninit_model_free(m);

    const char *r18[] = {"depth=18"}, *r50z[] = {"zero_init_residual=1"}, *bad_depth[] = {"depth=20"},
               *bad_groups[] = {"depth=34", "groups=2"};
    assert_int_equal(nninit_model_recipe("resnet", r18, 1, &m), NNINIT_OK);
    assert_int_equal(params_of(m), 11689512);
    assert_int_equal(nninit_model_count(m), 122);
    const nninit_model_tensor *nb = find(m, "layer2.0.downsample.1.num_batches_tracked");
    assert_int_equal(nb->dtype, NNINIT_ST_I64);
    assert_int_equal(nb->tensor.ndim, 0);
    assert_int_equal(find(m, "layer1.1.bn2.weight")->spec.scheme, NNINIT_ONES);
    const nninit_model_tensor *c = find(m, "layer3.0.conv2.weight");
    assert_int_equal(c->spec.scheme, NNINIT_KAIMING_NORMAL);
    nninit_info info;
    assert_int_equal(nninit_explain(&c->spec, &c->tensor, &info), NNINIT_OK);
    assert_true(fabs(info.std - sqrt(2.0 / (256 * 9))) < 1e-17);
    assert_true(fabs(find(m, "fc.bias")->spec.b - 1 / sqrt(512.0)) < 1e-17);
    nninit_model_free(m);
    assert_int_equal(nninit_model_recipe("resnet", r50z, 1, &m), NNINIT_OK);
    assert_int_equal(params_of(m), 25557032);
    assert_int_equal(find(m, "layer4.2.bn3.weight")->spec.scheme, NNINIT_ZEROS);
    assert_int_equal(find(m, "layer4.2.bn2.weight")->spec.scheme, NNINIT_ONES);
    assert_int_equal(find(m, "layer1.0.downsample.1.weight")->spec.scheme, NNINIT_ONES);
    assert_int_equal(find(m, "layer1.0.downsample.1.running_var")->spec.scheme, NNINIT_ONES);
    assert_true(fabs(find(m, "fc.bias")->spec.b - 1 / sqrt(2048.0)) < 1e-17);
    nninit_model_free(m);
    assert_int_equal(nninit_model_recipe("resnet", bad_depth, 1, &m), NNINIT_ERR_PARAM);
    assert_non_null(strstr(nninit_last_error(), "18, 34, 50, 101 or 152"));
    assert_int_equal(nninit_model_recipe("resnet", bad_groups, 2, &m), NNINIT_ERR_PARAM);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_first_match_and_errors),
        cmocka_unit_test(test_values_independent_of_others),
        cmocka_unit_test(test_spec_json),
        cmocka_unit_test(test_recipes),
        cmocka_unit_test(test_integer_tensors),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_fans_of),
        cmocka_unit_test(test_recipes_bert_vit_resnet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

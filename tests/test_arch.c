/* test_arch.c -- the architecture grammar (docs/GRAMMAR.md): every text feature,
 * the JSON form, text == JSON for the same nets, shape and limit checks, and
 * every syntax error with its position and what was expected. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nninit_nn.h"

/* nninit_arch is ~0.3 MB: one pair on the heap for all tests. */
static nninit_arch *A, *B;

static int setup(void **state) {
    (void)state;
    A = malloc(sizeof *A);
    B = malloc(sizeof *B);
    return A && B ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    free(A);
    free(B);
    return 0;
}

static void parse_ok(const char *text, nninit_arch *a) {
    nninit_status st = nninit_arch_parse(text, a);
    if (st) print_error("'%s': %s %s\n", text, nninit_status_str(st), nninit_last_error());
    assert_int_equal(st, NNINIT_OK);
}

static void parse_json_ok(const char *json, nninit_arch *a) {
    nninit_status st = nninit_arch_parse_json(json, a);
    if (st) print_error("%s: %s %s\n", json, nninit_status_str(st), nninit_last_error());
    assert_int_equal(st, NNINIT_OK);
}

/* The message must hold every fragment. */
static void expect_msg(const char *what, const char *frag) {
    const char *msg = nninit_last_error();
    if (!strstr(msg, frag)) print_error("%s: message '%s' lacks '%s'\n", what, msg, frag);
    assert_non_null(strstr(msg, frag));
}

static void text_fails(const char *text, const char *at, const char *frag) {
    nninit_status st = nninit_arch_parse(text, A);
    if (st != NNINIT_ERR_PARAM)
        print_error("'%s': got %s, want NNINIT_ERR_PARAM (%s)\n", text, nninit_status_str(st), nninit_last_error());
    assert_int_equal(st, NNINIT_ERR_PARAM);
    expect_msg(text, "arch: ");
    expect_msg(text, at);
    expect_msg(text, frag);
}

static void json_fails(const char *json, const char *path, const char *frag) {
    nninit_status st = nninit_arch_parse_json(json, A);
    if (st != NNINIT_ERR_PARAM)
        print_error("%s: got %s, want NNINIT_ERR_PARAM (%s)\n", json, nninit_status_str(st), nninit_last_error());
    assert_int_equal(st, NNINIT_ERR_PARAM);
    expect_msg(json, path);
    expect_msg(json, frag);
}

/* Doubles equal, NaN equal to NaN. */
static int same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

static int same_spec(const nninit_spec *a, const nninit_spec *b) {
    return a->scheme == b->scheme && same(a->value, b->value) && same(a->a, b->a) && same(a->b, b->b) &&
           same(a->mean, b->mean) && same(a->std, b->std) && same(a->gain, b->gain) && same(a->slope, b->slope) &&
           a->mode == b->mode && a->nonlinearity == b->nonlinearity && same(a->scale, b->scale) &&
           a->distribution == b->distribution && same(a->sparsity, b->sparsity) && a->groups == b->groups;
}

static void assert_same_arch(const nninit_arch *a, const nninit_arch *b) {
    assert_int_equal(a->preset, b->preset);
    assert_int_equal(a->in_c, b->in_c);
    assert_int_equal(a->in_h, b->in_h);
    assert_int_equal(a->in_w, b->in_w);
    assert_int_equal(a->n_layers, b->n_layers);
    for (int i = 0; i < a->n_layers; i++) {
        const nninit_layer_spec *x = &a->layers[i], *y = &b->layers[i];
        int ok = x->kind == y->kind && x->units == y->units && x->kh == y->kh && x->kw == y->kw &&
                 x->stride == y->stride && x->pad == y->pad && x->groups == y->groups && x->act == y->act &&
                 same(x->act_param, y->act_param) && x->has_init == y->has_init &&
                 same_spec(&x->init.weight, &y->init.weight) && same_spec(&x->init.bias, &y->init.bias) &&
                 x->res_kind == y->res_kind && x->res_rule == y->res_rule && x->res_inner_act == y->res_inner_act &&
                 same(x->alpha, y->alpha) && x->preset == y->preset;
        if (!ok) print_error("layer %d differs\n", i);
        assert_true(ok);
    }
}

static void assert_defaults_init(const nninit_layer_spec *L) {
    nninit_spec w = nninit_spec_default(NNINIT_KAIMING_NORMAL), b = nninit_spec_default(NNINIT_ZEROS);
    assert_true(same_spec(&L->init.weight, &w));
    assert_true(same_spec(&L->init.bias, &b));
}

/* ---- the text form ------------------------------------------------------- */

static void test_mlp_repeat(void **state) {
    (void)state;
    parse_ok("784 -> [dense 256 tanh] x20 -> dense 10", A);
    assert_int_equal(A->in_c, 784);
    assert_int_equal(A->in_h, 1);
    assert_int_equal(A->in_w, 1);
    assert_int_equal(A->n_layers, 21);
    for (int i = 0; i < 20; i++) {
        const nninit_layer_spec *L = &A->layers[i];
        assert_int_equal(L->kind, NNINIT_LAYER_DENSE);
        assert_int_equal(L->units, 256);
        assert_int_equal(L->act, NNINIT_ACT_TANH);
        assert_true(isnan(L->act_param));
        assert_int_equal(L->has_init, 0);
        assert_int_equal(L->kh, 1);
        assert_int_equal(L->kw, 1);
        assert_int_equal(L->stride, 1);
        assert_int_equal(L->pad, 0);
        assert_int_equal(L->groups, 1);
        assert_true(L->alpha == 1.0);
        assert_defaults_init(L);
    }
    assert_int_equal(A->layers[20].units, 10);
    assert_int_equal(A->layers[20].act, NNINIT_ACT_IDENTITY); /* a final layer without act: identity */
    /* Spacing is free; tabs and newlines are spaces. */
    parse_ok("784->[dense 256 tanh]x20->dense 10", B);
    assert_same_arch(A, B);
    parse_ok("  784\t->\n[ dense 256 tanh ] x 20 -> dense 10  ", B);
    assert_same_arch(A, B);
    /* A group without a count is one copy. */
    parse_ok("784 -> [dense 5 relu -> dense 6]", A);
    assert_int_equal(A->n_layers, 2);
}

static void test_conv(void **state) {
    (void)state;
    parse_ok("1x28x28 -> conv 16 3x3 s2 p1 relu -> conv 32 3x3 g2 relu -> flatten -> dense 10", A);
    assert_int_equal(A->in_c, 1);
    assert_int_equal(A->in_h, 28);
    assert_int_equal(A->in_w, 28);
    assert_int_equal(A->n_layers, 4);
    const nninit_layer_spec *c0 = &A->layers[0], *c1 = &A->layers[1];
    assert_int_equal(c0->kind, NNINIT_LAYER_CONV2D);
    assert_int_equal(c0->units, 16);
    assert_int_equal(c0->kh, 3);
    assert_int_equal(c0->kw, 3);
    assert_int_equal(c0->stride, 2);
    assert_int_equal(c0->pad, 1);
    assert_int_equal(c0->groups, 1);
    assert_int_equal(c0->act, NNINIT_ACT_RELU);
    assert_int_equal(c1->units, 32);
    assert_int_equal(c1->stride, 1); /* defaults */
    assert_int_equal(c1->pad, 0);
    assert_int_equal(c1->groups, 2);
    assert_int_equal(A->layers[2].kind, NNINIT_LAYER_FLATTEN);
    assert_int_equal(A->layers[3].kind, NNINIT_LAYER_DENSE);
    /* Attributes in any order; a square kernel as one number; rectangles. */
    parse_ok("1x28x28 -> conv 16 3 relu p1 s2 -> conv 32 3x3 relu g2 -> flatten -> dense 10", B);
    assert_same_arch(A, B);
    parse_ok("3x32x32 -> conv 8 3x5 p1", A);
    assert_int_equal(A->layers[0].kh, 3);
    assert_int_equal(A->layers[0].kw, 5);
    /* dense reads a CxHxW input flat, as after flatten. */
    parse_ok("1x28x28 -> dense 10", A);
    assert_int_equal(A->layers[0].units, 10);
    /* A shrinking stack: 28 -> 14 -> 7 -> 4 -> 2 -> 1 -> 1. */
    parse_ok("1x28x28 -> [conv 4 3 s2 p1 relu] x6 -> flatten -> dense 10", A);
    assert_int_equal(A->n_layers, 8);
}

static void test_residual(void **state) {
    (void)state;
    parse_ok("784 -> dense 256 relu -> [res dense relu he-zero] x50 -> dense 10", A);
    assert_int_equal(A->n_layers, 52);
    for (int i = 1; i <= 50; i++) {
        const nninit_layer_spec *L = &A->layers[i];
        assert_int_equal(L->kind, NNINIT_LAYER_RESIDUAL);
        assert_int_equal(L->res_kind, NNINIT_LAYER_DENSE);
        assert_int_equal(L->units, 256); /* the width, from the shape */
        assert_int_equal(L->res_inner_act, NNINIT_ACT_RELU);
        assert_int_equal(L->act, NNINIT_ACT_IDENTITY); /* out= default */
        assert_int_equal(L->res_rule, NNINIT_RES_RULE_HE_ZERO);
        assert_true(L->alpha == 1.0);
        assert_int_equal(L->has_init, 0);
    }
    parse_ok("784 -> dense 64 -> res dense 64 tanh out=relu alpha=0.5 he-he", A);
    const nninit_layer_spec *r = &A->layers[1];
    assert_int_equal(r->units, 64);
    assert_int_equal(r->res_inner_act, NNINIT_ACT_TANH);
    assert_int_equal(r->act, NNINIT_ACT_RELU);
    assert_true(r->alpha == 0.5);
    assert_int_equal(r->res_rule, NNINIT_RES_RULE_HE_HE);
    /* No rule: NNINIT_RES_RULE_NONE; default inner act identity. */
    parse_ok("784 -> res dense", A);
    assert_int_equal(A->layers[0].res_rule, NNINIT_RES_RULE_NONE);
    assert_int_equal(A->layers[0].res_inner_act, NNINIT_ACT_IDENTITY);
    assert_int_equal(A->layers[0].units, 784);
    /* Conv blocks: 3x3, stride 1, same padding, channels from the shape. */
    parse_ok("3x8x8 -> conv 16 3 p1 relu -> [res conv relu he-zero] x3 -> flatten -> dense 10", A);
    assert_int_equal(A->n_layers, 6);
    r = &A->layers[1];
    assert_int_equal(r->res_kind, NNINIT_LAYER_CONV2D);
    assert_int_equal(r->units, 16);
    assert_int_equal(r->kh, 3);
    assert_int_equal(r->kw, 3);
    assert_int_equal(r->stride, 1);
    assert_int_equal(r->pad, 1);
    assert_int_equal(r->groups, 1);
    /* A width that changes inside a repeated group is inferred per copy. */
    parse_ok("784 -> [res dense relu -> dense 64] x2", A);
    assert_int_equal(A->layers[0].units, 784);
    assert_int_equal(A->layers[2].units, 64);
    /* init= on a block: both inner layers, rule 0. */
    parse_ok("784 -> res dense relu init=orthogonal(gain=1.5)", A);
    assert_int_equal(A->layers[0].has_init, 1);
    assert_int_equal(A->layers[0].res_rule, NNINIT_RES_RULE_NONE);
    assert_int_equal(A->layers[0].init.weight.scheme, NNINIT_ORTHOGONAL);
    assert_true(A->layers[0].init.weight.gain == 1.5);
    /* One act_param, shared by the inner and output activations. */
    parse_ok("784 -> res dense leaky_relu(0.1) out=leaky_relu", A);
    assert_true(A->layers[0].act_param == 0.1);
    assert_int_equal(A->layers[0].act, NNINIT_ACT_LEAKY_RELU);
    parse_ok("784 -> res dense relu out=elu(0.5)", A);
    assert_true(A->layers[0].act_param == 0.5);
    parse_ok("784 -> res dense leaky_relu(0.3) out=leaky_relu(0.3)", A);
    assert_true(A->layers[0].act_param == 0.3);
}

static void test_init_options(void **state) {
    (void)state;
    parse_ok("784 -> dense 256 tanh init=xavier_normal -> dense 10", A);
    const nninit_layer_spec *L = &A->layers[0];
    assert_int_equal(L->has_init, 1);
    assert_int_equal(L->init.weight.scheme, NNINIT_XAVIER_NORMAL);
    assert_true(L->init.weight.gain == 1.0);
    assert_int_equal(L->init.bias.scheme, NNINIT_ZEROS); /* the other half: its default */
    assert_int_equal(A->layers[1].has_init, 0);

    parse_ok("784 -> dense 256 init=kaiming_normal(mode=fan_out,nonlinearity=relu)", A);
    L = &A->layers[0];
    assert_int_equal(L->init.weight.scheme, NNINIT_KAIMING_NORMAL);
    assert_int_equal(L->init.weight.mode, NNINIT_FAN_OUT);
    assert_int_equal(L->init.weight.nonlinearity, NNINIT_NL_RELU);

    parse_ok("784 -> dense 256 init=kaiming_uniform( a = 2.5 , nonlinearity = leaky_relu )", A);
    assert_true(A->layers[0].init.weight.slope == 2.5); /* kaiming's 'a' is the slope */
    assert_true(A->layers[0].init.weight.a == 0.0);

    parse_ok("784 -> dense 256 init=normal(std=0.01)", A);
    assert_int_equal(A->layers[0].init.weight.scheme, NNINIT_NORMAL);
    assert_true(A->layers[0].init.weight.std == 0.01);
    assert_true(A->layers[0].init.weight.mean == 0.0);

    parse_ok("784 -> dense 256 init=constant(value=0.5) bias=normal(std=0.01,mean=-1e-2)", A);
    L = &A->layers[0];
    assert_true(L->init.weight.value == 0.5);
    assert_int_equal(L->init.bias.scheme, NNINIT_NORMAL);
    assert_true(L->init.bias.std == 0.01);
    assert_true(L->init.bias.mean == -0.01);

    /* bias= alone: the weight takes kaiming_normal's defaults. */
    parse_ok("784 -> dense 256 bias=normal(std=0.01)", A);
    nninit_spec kn = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    assert_int_equal(A->layers[0].has_init, 1);
    assert_true(same_spec(&A->layers[0].init.weight, &kn));

    parse_ok("784 -> dense 256 init=variance_scaling(scale=2,mode=fan_avg,distribution=uniform)", A);
    L = &A->layers[0];
    assert_true(L->init.weight.scale == 2.0);
    assert_int_equal(L->init.weight.mode, NNINIT_FAN_AVG);
    assert_int_equal(L->init.weight.distribution, NNINIT_DIST_UNIFORM);

    parse_ok("784 -> dense 256 init=trunc_normal(mean=0,std=0.02,a=-0.04,b=0.04) bias=uniform(a=-1,b=1)", A);
    L = &A->layers[0];
    assert_true(L->init.weight.std == 0.02 && L->init.weight.a == -0.04 && L->init.weight.b == 0.04);
    assert_true(L->init.bias.a == -1.0 && L->init.bias.b == 1.0);

    parse_ok("784 -> dense 256 init=sparse(sparsity=0.5,std=0.1) -> dense 3 init=he_normal()", A);
    assert_true(A->layers[0].init.weight.sparsity == 0.5);
    assert_int_equal(A->layers[1].init.weight.scheme, NNINIT_KAIMING_NORMAL); /* alias, empty () */

    parse_ok("4x8x8 -> conv 8 3 p1 g2 init=dirac(groups=2) -> conv 8 3 init=orthogonal(gain=1.4142)", A);
    assert_int_equal(A->layers[0].init.weight.scheme, NNINIT_DIRAC);
    assert_int_equal(A->layers[0].init.weight.groups, 2);
    assert_true(A->layers[1].init.weight.gain == 1.4142);

    parse_ok("784 -> dense 784 init=eye -> dense 10 init=zeros bias=ones -> dense 4 init=lecun_normal", A);
    assert_int_equal(A->layers[0].init.weight.scheme, NNINIT_EYE);
    assert_int_equal(A->layers[1].init.bias.scheme, NNINIT_ONES);
    assert_int_equal(A->layers[2].init.weight.scheme, NNINIT_LECUN_NORMAL);

    /* init and act in any order. */
    parse_ok("784 -> dense 256 init=xavier_uniform(gain=1.6667) tanh bias=zeros", A);
    assert_int_equal(A->layers[0].act, NNINIT_ACT_TANH);
    assert_true(A->layers[0].init.weight.gain == 1.6667);
}

static void test_activations(void **state) {
    (void)state;
    static const struct {
        const char *text;
        nninit_act act;
        double param; /* NaN: none */
    } cases[] = {
        {"784 -> dense 4 identity", NNINIT_ACT_IDENTITY, NAN},
        {"784 -> dense 4 sigmoid", NNINIT_ACT_SIGMOID, NAN},
        {"784 -> dense 4 tanh", NNINIT_ACT_TANH, NAN},
        {"784 -> dense 4 relu", NNINIT_ACT_RELU, NAN},
        {"784 -> dense 4 leaky_relu", NNINIT_ACT_LEAKY_RELU, NAN},
        {"784 -> dense 4 leaky_relu(0.2)", NNINIT_ACT_LEAKY_RELU, 0.2},
        {"784 -> dense 4 leaky_relu( -0.5 )", NNINIT_ACT_LEAKY_RELU, -0.5},
        {"784 -> dense 4 elu", NNINIT_ACT_ELU, NAN},
        {"784 -> dense 4 elu(1.0)", NNINIT_ACT_ELU, 1.0},
        {"784 -> dense 4 elu(1.5e0)", NNINIT_ACT_ELU, 1.5},
        {"784 -> dense 4 selu", NNINIT_ACT_SELU, NAN},
        {"784 -> dense 4 gelu", NNINIT_ACT_GELU, NAN},
        {"784 -> dense 4 softplus", NNINIT_ACT_SOFTPLUS, NAN},
        {"1x4x4 -> conv 2 3 leaky_relu(0.01)", NNINIT_ACT_LEAKY_RELU, 0.01},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        parse_ok(cases[k].text, A);
        assert_int_equal(A->layers[0].act, cases[k].act);
        assert_true(same(A->layers[0].act_param, cases[k].param));
    }
}

static void test_nested_groups(void **state) {
    (void)state;
    parse_ok("784 -> [[dense 3 relu] x2 -> dense 4] x3 -> dense 10", A);
    assert_int_equal(A->n_layers, 10);
    static const int units[] = {3, 3, 4, 3, 3, 4, 3, 3, 4, 10};
    for (int i = 0; i < 10; i++) assert_int_equal(A->layers[i].units, units[i]);
    assert_int_equal(A->layers[7].act, NNINIT_ACT_RELU);
    /* A group of every kind, repeated. */
    parse_ok("1x16x16 -> [conv 4 3 p1 relu -> res conv relu he-zero] x2 -> flatten -> [dense 8 -> res dense] x2", A);
    assert_int_equal(A->n_layers, 9);
    assert_int_equal(A->layers[3].kind, NNINIT_LAYER_RESIDUAL);
    assert_int_equal(A->layers[8].units, 8);
}

static void test_limits(void **state) {
    (void)state;
    /* Exactly NNINIT_ARCH_MAX_LAYERS and one more. */
    parse_ok("784 -> [dense 4] x1000 -> [dense 4] x24", A);
    assert_int_equal(A->n_layers, NNINIT_ARCH_MAX_LAYERS);
    text_fails("784 -> [dense 4] x1000 -> [dense 4] x25", "at 27", "more than 1024 layers");
    text_fails("784 -> [dense 4] x1000 -> [dense 4] x24 -> flatten", "at 44", "more than 1024 layers");
    text_fails("784 -> [dense 4 -> dense 4] x600", "at 8", "more than 1024 layers");
    text_fails("784 -> [dense 4] x1001", "at 19", "repeat count 1001 is more than 1000");
    text_fails("784 -> [dense 4] x0", "at 19", "expected a repeat count 1..1000");
    text_fails("784 -> dense 2147483648", "at 14", "too large");
    parse_ok("784 -> dense 2147483647", A);
    text_fails("65536x65536x1 -> dense 3", "at 1", "more than 2147483647 values");
    text_fails("1x30000x30000 -> conv 3 1", "at 18", "output 3x30000x30000 is too large");
    text_fails("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[dense 3", "at 1", "the input");
    char deep[200] = "784 -> ";
    for (int k = 0; k < 40; k++) strcat(deep, "[");
    strcat(deep, "dense 3");
    text_fails(deep, "at 40", "nested more than 32 deep");
}

static void test_shape_errors(void **state) {
    (void)state;
    text_fails("784 -> conv 16 3", "at 8", "conv needs a CxHxW input but gets 784 features");
    text_fails("1x28x28 -> flatten -> conv 16 3", "at 23", "conv needs a CxHxW input");
    text_fails("784 -> res conv relu", "at 8", "res conv needs a CxHxW input");
    text_fails("1x28x28 -> conv 5 3 g2", "at 12", "groups 2 must divide the 1 input channels");
    text_fails("4x28x28 -> conv 5 3 g2", "at 12", "groups 2 must divide the 5 output channels");
    text_fails("1x28x28 -> conv 5 3 p2", "at 12", "pad 2 is more than half the 3x3 kernel");
    /* Found by fuzz_arch: 2 * pad overflowed int (undefined behaviour), and
     * p2147483645 was accepted with an output of 2^32 x 2^32 whose size
     * wrapped to 0 (fuzz/regressions/fuzz_arch/). */
    text_fails("4x8x8 -> conv 8 3 p2147483647", "at 10", "pad 2147483647 is more than half the 3x3 kernel");
    text_fails("4x8x8 -> conv 8 3 p2147483645", "at 10", "pad 2147483645 is more than half the 3x3 kernel");
    text_fails("1x2x2 -> conv 5 3", "at 10", "the 3x3 kernel is larger than the padded input 2x2");
    text_fails("1x8x8 -> [conv 4 3] x4", "at 11 (repeat 4 of 4)", "larger than the padded input 2x2");
    text_fails("784 -> res dense 128", "at 8", "res dense 128 does not match its input's 784 features");
    text_fails("3x8x8 -> res conv 4", "at 10", "res conv 4 does not match its input's 3 channels");
    /* Inits are checked on the tensors they will fill. */
    text_fails("784 -> dense 10 init=normal(std=-1)", "at 8", "the weight init cannot fill a (10, 784) weight");
    text_fails("784 -> dense 10 init=dirac", "at 8", "dirac");
    /* A fan-based bias takes the weight's fans; structured schemes still need their own dims. */
    text_fails("784 -> dense 10 bias=eye", "at 8", "the bias init cannot fill a (10) bias");
    text_fails("784 -> dense 10 bias=variance_scaling(scale=0)", "at 8",
               "the bias init cannot fill a (10) bias on the fans of the (10, 784) weight: variance_scaling: scale");
    text_fails("784 -> dense 10 init=uniform(a=1,b=0)", "at 8", "uniform");
    text_fails("784 -> dense 3 init=sparse(sparsity=2)", "at 8", "sparsity");
    text_fails("4x8x8 -> conv 6 3 init=dirac(groups=4)", "at 10", "the weight init cannot fill a (6, 4, 3, 3)");
    text_fails("784 -> [dense 4 init=dirac -> dense 3] x2", "at 9:", "dirac");
}

/* 15+ syntax errors: each names its 1-based column and what was expected. */
static void test_syntax_errors(void **state) {
    (void)state;
    static const struct {
        const char *text, *at, *frag;
    } cases[] = {
        {"784 -> dens 10",
         "at 8:", "expected a layer ('dense', 'conv', 'flatten', 'res') or a group '[ ... ] xN' but found 'dens'"},
        {"", "at 1:", "expected the input: a feature count (784) or CxHxW (1x28x28) but found end of input"},
        {"dense 10", "at 1:", "expected the input"},
        {"784", "at 4:", "expected '->' and the first layer but found end of input"},
        {"784 dense 10", "at 5:", "expected '->' and the first layer but found 'dense'"},
        {"784 -> ", "at 8:", "but found end of input"},
        {"784 -> dense", "at 13:", "expected the number of units (a positive integer) but found end of input"},
        {"784 -> dense -5", "at 14:", "expected the number of units"},
        {"784 -> dense 0", "at 14:", "expected the number of units (a positive integer) but found '0'"},
        {"784 -> dense 256tanh", "at 17:", "expected a space, '->', ']' or end of input but found 'tanh'"},
        {"784 -> dense 1e3", "at 15:", "found 'e3'"},
        {"784 -> dense 10 foo",
         "at 17:", "expected an activation, 'init=', 'bias=', 'preset=', '->' or end of input but found 'foo'"},
        {"784 -> dense 10 tanh relu", "at 22:", "a second activation 'relu'"},
        {"784 -> dense 10 relu(0.2)", "at 21:", "relu takes no parameter"},
        {"784 -> dense 10 leaky_relu(", "at 28:", "expected leaky_relu's slope (a number) but found end of input"},
        {"784 -> dense 10 leaky_relu(0.2", "at 31:", "expected ')' but found end of input"},
        {"784 -> dense 10 elu(inf)", "at 21:", "expected elu's alpha (a number) but found 'inf'"},
        {"784 -> dense 10 leaky_relu(1e999)", "at 28:", "out of range"},
        {"784 -> dense 10 init=", "at 22:", "expected a scheme"},
        {"784 -> dense 10 init=foo", "at 22:", "expected a scheme (e.g. xavier_normal"},
        {"784 -> dense 10 init=normal(std=0.1", "at 36:", "expected ',' or ')' but found end of input"},
        {"784 -> dense 10 init=normal(std=abc)", "at 33:", "expected a number for std but found 'abc'"},
        {"784 -> dense 10 init=normal(sd=1)", "at 29:", "expected a parameter of normal (mean, std) but found 'sd'"},
        {"784 -> dense 10 init=normal(gain=2)", "at 29:", "normal takes no parameter 'gain' (it takes: mean, std)"},
        {"784 -> dense 10 init=normal(std=1,std=2)", "at 35:", "parameter 'std' given twice"},
        {"784 -> dense 10 init=normal(std 1)", "at 33:", "expected '=' but found '1'"},
        {"784 -> dense 10 init=kaiming_normal(mode=fan_up)", "at 42:", "unknown mode 'fan_up'"},
        {"784 -> dense 10 init=kaiming_normal(nonlinearity=swish)", "at 50:", "unsupported nonlinearity 'swish'"},
        {"784 -> dense 10 init=variance_scaling(distribution=cauchy)", "at 52:", "unknown distribution 'cauchy'"},
        {"784 -> dense 10 init=kaiming_normal(mode=0)", "at 42:", "expected a name for mode but found '0'"},
        {"784 -> dense 10 init=xavier_normal init=zeros", "at 36:", "'init=' given twice"},
        {"784 -> dense 10 out=relu",
         "at 17:", "expected an activation, 'init=', 'bias=', 'preset=', '->' or end of input but found 'out'"},
        /* presets: a name of three; the layer's own init excludes it, at the later of the two */
        {"784 -> dense 10 preset=tf", "at 24:", "expected a preset (torch, keras, flax) but found 'tf'"},
        {"784 -> dense 10 preset=", "at 24:", "expected a preset (torch, keras, flax) but found end of input"},
        {"784 -> dense 10 preset=torch init=zeros", "at 30:", "preset= sets both the weight's and the bias's init"},
        {"784 -> dense 10 bias=zeros preset=keras", "at 28:", "give preset= or init=/bias=, not both"},
        {"784 -> dense 10 preset=torch preset=flax", "at 30:", "'preset=' given twice"},
        {"784 -> res dense he-zero preset=torch", "at 8:", "either a rule (he-zero, he-he) or preset=, not both"},
        {"784 preset=jax -> dense 10", "at 12:", "expected a preset (torch, keras, flax) but found 'jax'"},
        {"784 preset torch -> dense 10", "at 12:", "expected '=' and a preset (torch, keras, flax) after 'preset'"},
        {"784 preset=torch preset=keras -> dense 10", "at 18:", "expected '->' and the first layer"},
        {"1x8x8 -> flatten preset=torch", "at 18:", "flatten takes no arguments"},
        {"784 -> dense 10 s2", "at 17:", "found 's2'"},
        {"1x28x28 -> conv 16", "at 19:", "expected a kernel size (3x3 or 3) but found end of input"},
        {"1x28x28 -> conv 16 3x", "at 21:", "expected a space, '->', ']' or end of input but found 'x'"},
        {"1x28x28 -> conv 16 3x3 s0", "at 25:", "expected a positive stride after 's' but found '0'"},
        {"1x28x28 -> conv 16 3x3 s2 s1", "at 27:", "'s' given twice"},
        {"1x28x28 -> conv 16 3x3 q1", "at 24:", "expected an activation, 'sN', 'pN', 'gN'"},
        {"1x28x28 -> flatten 3", "at 20:", "flatten takes no arguments"},
        {"784 -> res", "at 11:", "expected 'dense' or 'conv' after 'res' but found end of input"},
        {"784 -> res flatten", "at 12:", "expected 'dense' or 'conv' after 'res' but found 'flatten'"},
        {"784 -> res dense he-one", "at 18:", "expected an inner activation, 'he-zero', 'he-he', 'out=', 'alpha='"},
        {"784 -> res dense he-zero he-he", "at 26:", "a second rule 'he-he'"},
        {"784 -> res dense alpha=x", "at 24:", "expected a number for alpha but found 'x'"},
        {"784 -> res dense out=", "at 22:", "expected an activation (identity, sigmoid"},
        {"784 -> res dense he-zero init=normal", "at 8:", "either a rule (he-zero, he-he) or init=/bias=, not both"},
        {"784 -> res dense leaky_relu(0.1) out=leaky_relu(0.2)", "at 8:", "activation parameters differ"},
        {"784 -> [dense 10", "at 17:", "expected '->' or ']' (closing the '[' at 8) but found end of input"},
        {"784 -> [dense 10 -> dense 5 x3", "at 29:", "a repeat count 'xN' follows the ']' of a group"},
        {"784 -> []",
         "at 9:", "expected a layer ('dense', 'conv', 'flatten', 'res') or a group '[ ... ] xN' but found ']'"},
        {"784 -> dense 10]", "at 16:", "']' without a matching '['"},
        {"784 -> [dense 10] y3", "at 19:", "expected '->' or end of input but found 'y3'"},
        {"784 -> [dense 10] x", "at 20:", "expected a repeat count 1..1000 after 'x' but found end of input"},
        {"784 -> -> dense 10", "at 8:", "but found '->'"},
        {"784 -> dense 10 ->", "at 19:", "but found end of input"},
        {"28x28 -> dense 10", "at 1:", "not HxW"},
        {"1x28x28x3 -> dense 10", "at 8:", "expected a space, '->', ']' or end of input but found 'x3'"},
        {"0x28x28 -> dense 10", "at 1:", "expected a positive input dimension but found '0'"},
        {"784 -> dense 10 \x01", "at 17:", "byte 0x01"},
        {"784 -> dense 10 , dense 3", "at 17:", "but found ','"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) text_fails(cases[k].text, cases[k].at, cases[k].frag);
}

static void test_failure_leaves_arch_untouched(void **state) {
    (void)state;
    parse_ok("784 -> dense 5 relu", A);
    memcpy(B, A, sizeof *A);
    assert_int_equal(nninit_arch_parse("784 -> dense 5 relu -> dens 3", A), NNINIT_ERR_PARAM);
    assert_memory_equal(A, B, sizeof *A);
    assert_int_equal(nninit_arch_parse_json("{\"input\": [784], \"layers\": 3}", A), NNINIT_ERR_PARAM);
    assert_memory_equal(A, B, sizeof *A);
    assert_int_equal(nninit_arch_parse(NULL, A), NNINIT_ERR_NULL);
    assert_int_equal(nninit_arch_parse("784 -> dense 3", NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_arch_parse_json(NULL, A), NNINIT_ERR_NULL);
    assert_int_equal(nninit_arch_parse_json("{}", NULL), NNINIT_ERR_NULL);
    assert_memory_equal(A, B, sizeof *A);
    /* A second, shorter parse leaves no stale layers behind. */
    parse_ok("784 -> [dense 4] x30", A);
    parse_ok("784 -> dense 4", A);
    assert_int_equal(A->n_layers, 1);
    assert_int_equal(A->layers[1].units, 0);
}

/* ---- the JSON form ----------------------------------------------------------- */

static void test_json_equals_text(void **state) {
    (void)state;
    static const struct {
        const char *text, *json;
    } pairs[] = {
        {"784 -> [dense 256 tanh] x20 -> dense 10",
         "{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 256, \"act\": \"tanh\", \"repeat\": 20},"
         " {\"type\": \"dense\", \"units\": 10}]}"},
        {"784 -> [dense 256 tanh init=xavier_normal] x20 -> dense 10",
         "{\"input\":[784],\"layers\":[{\"type\":\"dense\",\"units\":256,\"act\":\"tanh\","
         "\"init\":{\"scheme\":\"xavier_normal\",\"gain\":1.0},\"repeat\":20},{\"type\":\"dense\",\"units\":10}]}"},
        {"1x28x28 -> conv 16 3x3 s2 p1 relu -> conv 32 3x3 g2 relu -> flatten -> dense 10",
         "{\"input\": [1, 28, 28], \"layers\": ["
         "{\"type\": \"conv\", \"units\": 16, \"kernel\": [3, 3], \"stride\": 2, \"pad\": 1, \"act\": \"relu\"},"
         "{\"type\": \"conv\", \"units\": 32, \"kernel\": 3, \"groups\": 2, \"act\": \"relu\"},"
         "{\"type\": \"flatten\"}, {\"type\": \"dense\", \"units\": 10}]}"},
        {"784 -> dense 256 relu -> [res dense relu he-zero] x50 -> dense 10",
         "{\"input\": 784, \"layers\": [{\"type\": \"dense\", \"units\": 256, \"act\": \"relu\"},"
         "{\"type\": \"res\", \"block\": \"dense\", \"act\": \"relu\", \"rule\": \"he-zero\", \"repeat\": 50},"
         "{\"type\": \"dense\", \"units\": 10}]}"},
        {"3x8x8 -> res conv 3 relu out=leaky_relu(0.2) alpha=0.5 he-he -> flatten -> dense 10",
         "{\"input\": [3, 8, 8], \"layers\": [{\"type\": \"res\", \"block\": \"conv\", \"units\": 3, \"act\": \"relu\","
         " \"out\": \"leaky_relu(0.2)\", \"alpha\": 0.5, \"rule\": \"he-he\"}, {\"type\": \"flatten\"},"
         " {\"type\": \"dense\", \"units\": 10}]}"},
        {"784 -> dense 256 tanh init=kaiming_normal(mode=fan_out,nonlinearity=relu) bias=normal(std=0.01) "
         "-> dense 10 elu(1.0) init=constant(value=0.5)",
         "{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 256, \"act\": \"tanh\","
         " \"init\": {\"scheme\": \"kaiming_normal\", \"mode\": \"fan_out\", \"nonlinearity\": \"relu\"},"
         " \"bias\": \"normal(std=0.01)\"},"
         " {\"type\": \"dense\", \"units\": 10, \"act\": \"elu(1.0)\", \"init\": \"constant(value=0.5)\"}]}"},
        {"784 -> [[dense 3 leaky_relu(0.2)] x2 -> dense 4] x3",
         "{\"input\": [784], \"layers\": [{\"type\": \"group\", \"repeat\": 3, \"layers\": ["
         "{\"type\": \"group\", \"repeat\": 2, \"layers\": [{\"type\": \"dense\", \"units\": 3, \"act\": "
         "\"leaky_relu(0.2)\"}]}, {\"type\": \"dense\", \"units\": 4}]}]}"},
        {"784 -> res dense leaky_relu(0.1) init=variance_scaling(scale=2,mode=fan_avg,distribution=uniform) "
         "bias=uniform(a=-0.1,b=0.1)",
         "{\"input\": [784], \"layers\": [{\"type\": \"res\", \"block\": \"dense\", \"act\": \"leaky_relu(0.1)\","
         " \"init\": {\"scheme\": \"variance_scaling\", \"scale\": 2, \"mode\": \"fan_avg\", \"distribution\": "
         "\"uniform\"}, \"bias\": {\"scheme\": \"uniform\", \"a\": -0.1, \"b\": 0.1}}]}"},
        {"4x8x8 -> conv 8 3x3 p1 g2 init=dirac(groups=2) -> flatten -> dense 10 init=kaiming_uniform(a=2.23)",
         "{\"input\": [4, 8, 8], \"layers\": [{\"type\": \"conv\", \"units\": 8, \"kernel\": 3, \"pad\": 1,"
         " \"groups\": 2, \"init\": {\"scheme\": \"dirac\", \"groups\": 2}}, {\"type\": \"flatten\"},"
         " {\"type\": \"dense\", \"units\": 10, \"init\": {\"scheme\": \"kaiming_uniform\", \"a\": 2.23}}]}"},
        {"3x8x8 preset=flax -> [conv 4 3 p1 relu] x2 -> conv 4 3 preset=torch -> res conv he-zero -> res conv -> "
         "flatten -> dense 10 bias=kaiming_uniform -> dense 3",
         "{\"input\": [3, 8, 8], \"preset\": \"flax\", \"layers\": [{\"type\": \"conv\", \"units\": 4,"
         " \"kernel\": 3, \"pad\": 1, \"act\": \"relu\", \"repeat\": 2},"
         " {\"type\": \"conv\", \"units\": 4, \"kernel\": 3, \"preset\": \"torch\"},"
         " {\"type\": \"res\", \"block\": \"conv\", \"rule\": \"he-zero\"}, {\"type\": \"res\", \"block\": \"conv\"},"
         " {\"type\": \"flatten\"}, {\"type\": \"dense\", \"units\": 10, \"bias\": \"kaiming_uniform\"},"
         " {\"type\": \"dense\", \"units\": 3}]}"},
    };
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        parse_ok(pairs[k].text, A);
        parse_json_ok(pairs[k].json, B);
        assert_same_arch(A, B);
    }
}

static void test_json_errors(void **state) {
    (void)state;
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 256}, {\"type\": \"dense\", "
               "\"units\": -1}]}",
               "arch: layers[1].units: ", "expected a positive integer but found -1");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 2.5}]}",
               "layers[0].units: ", "expected a positive integer but found 2.5");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": \"256\"}]}",
               "layers[0].units: ", "but found \"256\"");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\"}]}", "layers[0].units: ", "but found nothing");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"unit\": 3}]}",
               "layers[0]: ", "unknown key \"unit\" (expected: type, units, act, init, bias, preset, repeat)");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"units\": 4}]}",
               "layers[0]: ", "key \"units\" given twice");
    json_fails("{\"input\": [784], \"layers\": [{\"units\": 3}]}",
               "layers[0].type: ", "expected \"dense\", \"conv\", \"flatten\", \"res\" or \"group\" but found nothing");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dens\", \"units\": 3}]}",
               "layers[0].type: ", "but found \"dens\"");
    json_fails("{\"input\": [784], \"layers\": [3]}", "layers[0]: ", "expected a layer object");
    json_fails("{\"input\": [784], \"layers\": []}", "layers: ", "expected a non-empty array of layers but found []");
    json_fails("{\"input\": [784]}", "layers: ", "but found nothing");
    json_fails("{\"layers\": [{\"type\": \"dense\", \"units\": 3}]}", "input: ", "expected [features] or [C, H, W]");
    json_fails("{\"input\": [1, 28], \"layers\": [{\"type\": \"dense\", \"units\": 3}]}",
               "input: ", "an array of another length");
    json_fails("{\"input\": [1, 0, 28], \"layers\": [{\"type\": \"dense\", \"units\": 3}]}",
               "input[1]: ", "expected a positive integer but found 0");
    json_fails("{\"input\": [784], \"output\": 3, \"layers\": [{\"type\": \"dense\", \"units\": 3}]}",
               "top level: ", "unknown key \"output\"");
    json_fails("[784]", "JSON: ", "expected an object");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 256},", "JSON: syntax error at ",
               "near end of input");
    json_fails("{\"input\": [784],\n \"layers\": [{\"type\": \"dense\" \"units\": 3}]}", "JSON: syntax error at ",
               "(line 2)");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"repeat\": 0}]}",
               "layers[0].repeat: ", "expected a repeat count 1..1000 but found 0");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"repeat\": 1001}]}",
               "layers[0].repeat: ", "must be at most 1000");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"act\": \"relu(0.2)\"}]}",
               "layers[0].act: at 5: ", "relu takes no parameter");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"act\": \"swish\"}]}",
               "layers[0].act: at 1: ", "expected an activation (identity, sigmoid");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"act\": \"relu tanh\"}]}",
               "layers[0].act: at 6: ", "expected the end of the string but found 'tanh'");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"act\": 3}]}",
               "layers[0].act: ", "expected an activation");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"init\": \"normal(std=\"}]}",
               "layers[0].init: at 12: ", "expected a number for std but found end of input");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"init\": {\"scheme\": "
               "\"normal\", \"gain\": 1}}]}",
               "layers[0].init.gain: ", "normal takes no parameter 'gain' (it takes: mean, std)");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"init\": {\"scheme\": "
               "\"normal\", \"sd\": 1}}]}",
               "layers[0].init.sd: ", "unknown parameter \"sd\" (normal takes: mean, std)");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"init\": {\"std\": 1}}]}",
               "layers[0].init.scheme: ", "expected a scheme name");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"init\": {\"scheme\": "
               "\"nrmal\"}}]}",
               "layers[0].init.scheme: ", "unknown scheme 'nrmal'");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"init\": {\"scheme\": "
               "\"kaiming_normal\", \"mode\": 1}}]}",
               "layers[0].init.mode: ", "expected a name but found 1");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"init\": {\"scheme\": "
               "\"kaiming_normal\", \"mode\": \"fan\"}}]}",
               "layers[0].init.mode: ", "unknown mode 'fan'");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"init\": {\"scheme\": "
               "\"normal\", \"std\": \"big\"}}]}",
               "layers[0].init.std: ", "expected a number but found \"big\"");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"bias\": true}]}",
               "layers[0].bias: ", "expected a scheme");
    json_fails("{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"conv\", \"units\": 3, \"kernel\": [3]}]}",
               "layers[0].kernel: ", "expected a kernel size 3 or [3, 3] but found an array of 1");
    json_fails("{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"conv\", \"units\": 3, \"kernel\": [3, 0]}]}",
               "layers[0].kernel[1]: ", "expected a positive integer but found 0");
    json_fails("{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"conv\", \"units\": 3, \"kernel\": 3, \"pad\": -1}]}",
               "layers[0].pad: ", "expected an integer >= 0 but found -1");
    json_fails("{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"conv\", \"units\": 3, \"kernel\": 3, \"stride\": 0}]}",
               "layers[0].stride: ", "expected a positive integer but found 0");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"res\", \"act\": \"relu\"}]}",
               "layers[0].block: ", "expected \"dense\" or \"conv\" but found nothing");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"res\", \"block\": \"dense\", \"rule\": \"he\"}]}",
               "layers[0].rule: ", "expected \"he-zero\" or \"he-he\" but found \"he\"");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"res\", \"block\": \"dense\", \"alpha\": \"1\"}]}",
               "layers[0].alpha: ", "expected a number");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"res\", \"block\": \"dense\", \"rule\": \"he-zero\","
               " \"init\": \"normal\"}]}",
               "layers[0]: ", "either a rule (he-zero, he-he) or init/bias, not both");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"flatten\", \"act\": \"relu\"}]}",
               "layers[0]: ", "unknown key \"act\" (expected: type, repeat)");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"group\", \"layers\": [{\"type\": \"dense\", \"units\": 3},"
               " {\"type\": \"dense\", \"units\": 0}]}]}",
               "layers[0].layers[1].units: ", "expected a positive integer but found 0");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"group\", \"layers\": []}]}",
               "layers[0].layers: ", "non-empty array");
    /* The shape rules, by path. */
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"conv\", \"units\": 3, \"kernel\": 3}]}",
               "layers[0]: ", "conv needs a CxHxW input but gets 784 features");
    json_fails("{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"conv\", \"units\": 4, \"kernel\": 3, \"repeat\": 4}]}",
               "layers[0] (repeat 4 of 4): ", "larger than the padded input 2x2");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 4, \"repeat\": 1000},"
               " {\"type\": \"dense\", \"units\": 4, \"repeat\": 25}]}",
               "layers[1]: ", "more than 1024 layers");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"init\": \"dirac\"}]}",
               "layers[0]: ", "the weight init cannot fill a (3, 784) weight");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"init\": \"zeros\","
               " \"preset\": \"torch\"}]}",
               "layers[0].preset: ", "give \"preset\" or \"init\"/\"bias\", not both");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"dense\", \"units\": 3, \"preset\": \"jax\"}]}",
               "layers[0].preset: ", "expected a preset (\"torch\", \"keras\", \"flax\") but found \"jax\"");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"res\", \"block\": \"dense\", \"rule\": \"he-he\","
               " \"preset\": \"keras\"}]}",
               "layers[0]: ", "either a rule (he-zero, he-he) or preset, not both");
    json_fails("{\"input\": [784], \"preset\": 3, \"layers\": [{\"type\": \"dense\", \"units\": 3}]}",
               "arch: preset: ", "expected a preset (\"torch\", \"keras\", \"flax\") but found 3");
    json_fails("{\"input\": [784], \"layers\": [{\"type\": \"flatten\", \"preset\": \"torch\"}]}",
               "layers[0]: ", "unknown key \"preset\" (expected: type, repeat)");
}

/* Every prefix and every one-byte substitution of valid nets: OK, or PARAM
 * with an "arch: " message -- never a crash (run under ASan by `make sanitize`). */
static void test_mutations(void **state) {
    (void)state;
    static const char *const texts[] = {
        "784 -> [dense 256 tanh init=kaiming_normal(mode=fan_out,nonlinearity=relu)] x20 -> dense 10",
        "1x28x28 -> conv 16 3x3 s2 p1 leaky_relu(0.2) -> conv 32 3x3 g2 relu -> flatten -> dense 10 "
        "bias=normal(std=0.01)",
        "784 -> dense 256 relu -> [res dense relu he-zero out=elu(1) alpha=0.5] x50 -> dense 10",
        "3x4x4 preset=keras -> conv 2 3 p1 preset=flax -> dense 5 bias=kaiming_uniform",
        "{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"conv\", \"units\": 4, \"kernel\": [3, 3], \"pad\": 1,"
        " \"act\": \"leaky_relu(0.2)\", \"init\": {\"scheme\": \"normal\", \"std\": 0.1}}, {\"type\": \"group\","
        " \"repeat\": 2, \"layers\": [{\"type\": \"res\", \"block\": \"conv\", \"rule\": \"he-zero\"}]},"
        " {\"type\": \"flatten\"}, {\"type\": \"dense\", \"units\": 10, \"bias\": \"constant(value=0.1)\"}]}",
    };
    static const char subst[] = " x0919[]()=,->.eE+-\"{}:a_\x01\xff";
    char buf[512];
    long runs = 0;
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        const char *s = texts[t];
        size_t n = strlen(s);
        int json = s[0] == '{';
        for (size_t cut = 0; cut <= n; cut++)
            for (size_t k = 0; k <= sizeof subst - 1; k++) {
                memcpy(buf, s, n + 1);
                if (k == sizeof subst - 1) buf[cut] = '\0'; /* a prefix */
                else if (cut < n) buf[cut] = subst[k];      /* one byte replaced */
                else continue;
                nninit_status st = json ? nninit_arch_parse_json(buf, A) : nninit_arch_parse(buf, A);
                if (st != NNINIT_OK && st != NNINIT_ERR_PARAM) print_error("'%s': %s\n", buf, nninit_status_str(st));
                assert_true(st == NNINIT_OK || st == NNINIT_ERR_PARAM);
                if (st) assert_int_equal(strncmp(nninit_last_error(), "arch: ", 6), 0);
                runs++;
            }
    }
    assert_true(runs > 10000);
}

/* What the parser builds, the engine accepts. */
static void test_engine_accepts(void **state) {
    (void)state;
    static const char *const nets[] = {
        "784 -> [dense 32 tanh] x3 -> dense 10",
        "1x28x28 -> conv 4 3x3 s2 p1 relu -> conv 8 3x3 g2 relu -> flatten -> dense 10",
        "784 -> dense 16 relu -> [res dense relu he-zero] x3 -> dense 10",
        ("1x8x8 -> conv 4 3 p1 relu -> res conv relu he-he -> flatten -> dense 10 init=xavier_normal "
         "bias=normal(std=0.01)"),
    };
    for (size_t k = 0; k < sizeof nets / sizeof nets[0]; k++) {
        parse_ok(nets[k], A);
        nninit_net *net = NULL;
        nninit_layer_init def = {nninit_spec_default(NNINIT_KAIMING_NORMAL), nninit_spec_default(NNINIT_ZEROS)};
        nninit_status st = nninit_net_create(A, 2, &def, 1, &net);
        if (st) print_error("'%s': net_create: %s %s\n", nets[k], nninit_status_str(st), nninit_last_error());
        assert_int_equal(st, NNINIT_OK);
        assert_int_equal(nninit_net_layers(net), A->n_layers);
        assert_int_equal(nninit_net_output_size(net), 10);
        nninit_net_free(net);
    }
}

/* ---- presets and fan-based biases ----------------------------------------- */

static void expect_spec(const nninit_spec *got, nninit_spec want) {
    if (!same_spec(got, &want))
        print_error("spec %s differs from %s\n", nninit_scheme_name(got->scheme), nninit_scheme_name(want.scheme));
    assert_true(same_spec(got, &want));
}

static nninit_spec uniform_pm(double b) {
    nninit_spec s = nninit_spec_default(NNINIT_UNIFORM);
    s.a = -b, s.b = b;
    return s;
}

/* The frameworks' own formulas (include/nninit_presets.h), written out here. */
static nninit_spec torch_weight(void) {
    nninit_spec s = nninit_spec_default(NNINIT_KAIMING_UNIFORM);
    s.slope = sqrt(5.0);
    return s;
}

static void test_presets(void **state) {
    (void)state;
    const nninit_spec zeros = nninit_spec_default(NNINIT_ZEROS);
    /* torch.Linear(784, 256): kaiming_uniform(a=sqrt 5), bias U(+-1/sqrt(784)). */
    parse_ok("784 -> dense 256 relu preset=torch -> dense 10", A);
    assert_int_equal(A->preset, NNINIT_NN_PRESET_NONE);
    assert_int_equal(A->layers[0].preset, NNINIT_NN_PRESET_TORCH);
    assert_int_equal(A->layers[0].has_init, 1);
    expect_spec(&A->layers[0].init.weight, torch_weight());
    expect_spec(&A->layers[0].init.bias, uniform_pm(1.0 / sqrt(784.0)));
    assert_int_equal(A->layers[1].preset, NNINIT_NN_PRESET_NONE);
    assert_int_equal(A->layers[1].has_init, 0);

    /* keras.Dense(256) on 784 inputs: glorot_uniform limit sqrt(3 / ((784 + 256) / 2)), bias zeros. */
    parse_ok("784 -> dense 256 preset=keras", A);
    expect_spec(&A->layers[0].init.weight, uniform_pm(sqrt(3.0 * (1.0 / ((784.0 + 256.0) / 2.0)))));
    expect_spec(&A->layers[0].init.bias, zeros);

    /* flax.Conv on a 3x5 kernel, 4 input channels, 2 groups: lecun_normal in float32, fan_in 2*3*5. */
    parse_ok("4x8x8 -> conv 6 3x5 p1 g2 preset=flax", A);
    nninit_spec tn = nninit_spec_default(NNINIT_TRUNC_NORMAL_STD);
    tn.std = (double)(sqrtf((float)(1.0 / 30.0)) / (float)0.87962566103423978);
    expect_spec(&A->layers[0].init.weight, tn);
    expect_spec(&A->layers[0].init.bias, zeros);

    /* Each copy of a repeat on its own sizes: fan_in 3*9, then 8*9. */
    parse_ok("3x8x8 -> [conv 8 3 p1 preset=torch] x2 -> dense 4 preset=torch", A);
    expect_spec(&A->layers[0].init.bias, uniform_pm(1.0 / sqrt(27.0)));
    expect_spec(&A->layers[1].init.bias, uniform_pm(1.0 / sqrt(72.0)));
    expect_spec(&A->layers[2].init.bias, uniform_pm(1.0 / sqrt(512.0)));

    /* The network's default: every layer without its own init or a rule. */
    parse_ok("784 preset=keras -> dense 64 relu -> dense 10 init=zeros -> res dense he-zero -> res dense -> dense 3",
             A);
    assert_int_equal(A->preset, NNINIT_NN_PRESET_KERAS);
    const nninit_nn_preset want[5] = {NNINIT_NN_PRESET_KERAS, NNINIT_NN_PRESET_NONE, NNINIT_NN_PRESET_NONE,
                                      NNINIT_NN_PRESET_KERAS, NNINIT_NN_PRESET_KERAS};
    for (int i = 0; i < 5; i++) assert_int_equal(A->layers[i].preset, want[i]);
    assert_int_equal(A->layers[1].init.weight.scheme, NNINIT_ZEROS);
    assert_int_equal(A->layers[2].has_init, 0); /* he-zero */
    assert_int_equal(A->layers[2].res_rule, NNINIT_RES_RULE_HE_ZERO);
    expect_spec(&A->layers[3].init.weight, uniform_pm(sqrt(3.0 * (1.0 / 10.0)))); /* keras.Dense(10) on 10 */
    expect_spec(&A->layers[4].init.weight, uniform_pm(sqrt(3.0 * (1.0 / 6.5))));

    /* The same through nninit_arch_set_preset, and the errors. */
    parse_ok("784 preset=flax -> dense 32 relu -> dense 10 init=xavier_normal -> res dense he-he -> dense 4", B);
    parse_ok("784 -> dense 32 relu -> dense 10 init=xavier_normal -> res dense he-he -> dense 4", A);
    assert_int_equal(nninit_arch_set_preset(A, NNINIT_NN_PRESET_FLAX), NNINIT_OK);
    assert_same_arch(A, B);
    assert_int_equal(nninit_arch_set_preset(A, NNINIT_NN_PRESET_FLAX), NNINIT_OK); /* again: the same */
    assert_same_arch(A, B);
    assert_int_equal(nninit_arch_set_preset(A, NNINIT_NN_PRESET_TORCH), NNINIT_ERR_PARAM);
    expect_msg("set_preset", "the network's preset is flax already");
    assert_same_arch(A, B);
    assert_int_equal(nninit_arch_set_preset(A, NNINIT_NN_PRESET_NONE), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_arch_set_preset(NULL, NNINIT_NN_PRESET_TORCH), NNINIT_ERR_NULL);
    parse_ok("784 -> dense 8", A);
    A->layers[0].units = 0; /* not a layer: refused, arch untouched */
    memcpy(B, A, sizeof *A);
    assert_int_equal(nninit_arch_set_preset(A, NNINIT_NN_PRESET_KERAS), NNINIT_ERR_PARAM);
    expect_msg("set_preset", "arch: layers[0]: ");
    assert_memory_equal(A, B, sizeof *A);

    /* names */
    assert_string_equal(nninit_nn_preset_name(NNINIT_NN_PRESET_KERAS), "keras");
    assert_string_equal(nninit_nn_preset_name(NNINIT_NN_PRESET_NONE), "none");
    assert_null(nninit_nn_preset_name(NNINIT_NN_PRESET_COUNT));
    nninit_nn_preset p;
    assert_int_equal(nninit_nn_preset_parse("flax", &p), NNINIT_OK);
    assert_int_equal(p, NNINIT_NN_PRESET_FLAX);
    assert_int_equal(nninit_nn_preset_parse("none", &p), NNINIT_ERR_UNKNOWN_NAME);
    assert_int_equal(nninit_nn_preset_parse(NULL, &p), NNINIT_ERR_NULL);
    assert_string_equal(nninit_nn_preset_layer(NNINIT_NN_PRESET_TORCH, NNINIT_LAYER_CONV2D), "torch.Conv2d");
    assert_string_equal(nninit_nn_preset_layer(NNINIT_NN_PRESET_FLAX, NNINIT_LAYER_DENSE), "flax.Dense");
    assert_null(nninit_nn_preset_layer(NNINIT_NN_PRESET_KERAS, NNINIT_LAYER_FLATTEN));
    assert_null(nninit_nn_preset_layer(NNINIT_NN_PRESET_NONE, NNINIT_LAYER_DENSE));
    nninit_layer_init li;
    assert_int_equal(nninit_layer_preset_init(NNINIT_NN_PRESET_TORCH, NNINIT_LAYER_DENSE, 3, 5, 1, 1, 1, NULL),
                     NNINIT_ERR_NULL);
    assert_int_equal(nninit_layer_preset_init(NNINIT_NN_PRESET_TORCH, NNINIT_LAYER_RESIDUAL, 3, 3, 1, 1, 1, &li),
                     NNINIT_ERR_PARAM);
    assert_int_equal(nninit_layer_preset_init(NNINIT_NN_PRESET_KERAS, NNINIT_LAYER_DENSE, 0, 5, 1, 1, 1, &li),
                     NNINIT_ERR_SHAPE);
    assert_int_equal(nninit_layer_preset_init(NNINIT_NN_PRESET_FLAX, NNINIT_LAYER_CONV2D, 4, 6, 3, 3, 4, &li),
                     NNINIT_ERR_GROUPS);
}

/* bias=kaiming_uniform (any fan-based scheme) is drawn on the layer's weight's fans. */
static void test_fan_based_bias(void **state) {
    (void)state;
    parse_ok("1x6x6 -> conv 4 3 bias=xavier_normal -> res conv relu bias=kaiming_uniform -> flatten -> "
             "dense 16 init=kaiming_uniform bias=kaiming_uniform -> dense 3 bias=variance_scaling",
             A);
    assert_int_equal(A->layers[3].init.bias.scheme, NNINIT_KAIMING_UNIFORM); /* kept as given */
    nninit_layer_init_info *inf = calloc((size_t)A->n_layers, sizeof *inf);
    assert_non_null(inf);
    assert_int_equal(nninit_arch_inits(A, NULL, inf), NNINIT_OK);
    /* dense 16 on 4*4*4 = 64 inputs: the bias's bound is the weight's, sqrt(6 / 64) */
    nninit_info wi;
    assert_int_equal(inf[3].weight.ndim, 2);
    assert_int_equal(inf[3].weight.shape[0], 16);
    assert_int_equal(inf[3].weight.shape[1], 64);
    assert_int_equal(nninit_explain(&inf[3].init[0].weight, &inf[3].weight, &wi), NNINIT_OK);
    assert_true(wi.bound == sqrt(3.0) * (sqrt(2.0) / sqrt(64.0)));
    expect_spec(&inf[3].init[0].bias, uniform_pm(wi.bound));
    /* conv 4 3 on 1 channel: xavier_normal std sqrt(2 / (9 + 36)) */
    assert_int_equal(inf[0].init[0].bias.scheme, NNINIT_NORMAL);
    assert_true(inf[0].init[0].bias.std == sqrt(2.0 / 45.0));
    assert_int_equal(inf[0].source, NNINIT_INIT_FROM_LAYER);
    /* res conv, both inner layers (4, 4, 3, 3): fan_in 36 */
    assert_int_equal(inf[1].weight.ndim, 4);
    expect_spec(&inf[1].init[0].bias, uniform_pm(sqrt(3.0) * (sqrt(2.0) / sqrt(36.0))));
    expect_spec(&inf[1].init[1].bias, uniform_pm(sqrt(3.0) * (sqrt(2.0) / sqrt(36.0))));
    /* variance_scaling (truncated normal) on (3, 16): an absolute truncated normal */
    assert_int_equal(inf[4].init[0].bias.scheme, NNINIT_TRUNC_NORMAL);
    assert_true(inf[4].init[0].bias.std == sqrt(1.0 / 16.0) / 0.87962566103423978);
    assert_int_equal(inf[2].source, NNINIT_INIT_FROM_NONE);
    assert_int_equal(inf[2].weight.ndim, 0);

    /* The engine draws exactly that: the bias's key, the resolved spec. */
    nninit_net *net = NULL;
    assert_int_equal(nninit_net_create(A, 2, NULL, 7, &net), NNINIT_OK);
    nninit_layer_view v;
    assert_int_equal(nninit_net_layer(net, 3, &v), NNINIT_OK);
    float want[16];
    nninit_tensor bt = nninit_tensor_make(1, (const int64_t[]){16}, NNINIT_F32);
    assert_int_equal(nninit_fill(&inf[3].init[0].bias, &bt, nninit_key_from_name(7, "layers.3.bias"), want), NNINIT_OK);
    assert_memory_equal(v.b, want, sizeof want);
    nninit_net_free(net);
    free(inf);
}

/* Where each layer's init comes from; PyTorch's default is preset=torch, bit for bit. */
static void test_arch_inits(void **state) {
    (void)state;
    const char *text = "1x8x8 -> conv 4 3 relu -> flatten -> dense 16 relu -> res dense he-zero -> res dense -> "
                       "dense 10";
    parse_ok(text, A);
    nninit_layer_init_info *x = calloc((size_t)A->n_layers, sizeof *x), *y = calloc((size_t)A->n_layers, sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(nninit_arch_inits(A, NULL, x), NNINIT_OK);
    const nninit_init_source src[6] = {NNINIT_INIT_FROM_PYTORCH, NNINIT_INIT_FROM_NONE,    NNINIT_INIT_FROM_PYTORCH,
                                       NNINIT_INIT_FROM_RULE,    NNINIT_INIT_FROM_PYTORCH, NNINIT_INIT_FROM_PYTORCH};
    for (int i = 0; i < 6; i++) assert_int_equal(x[i].source, src[i]);
    assert_int_equal(x[3].init[1].weight.scheme, NNINIT_ZEROS); /* he-zero: inner 1 zeros */
    nninit_layer_init def = {nninit_spec_default(NNINIT_XAVIER_UNIFORM), nninit_spec_default(NNINIT_ZEROS)};
    assert_int_equal(nninit_arch_inits(A, &def, y), NNINIT_OK);
    assert_int_equal(y[0].source, NNINIT_INIT_FROM_DEFAULT);
    assert_int_equal(y[0].init[0].weight.scheme, NNINIT_XAVIER_UNIFORM);

    memcpy(B, A, sizeof *A);
    assert_int_equal(nninit_arch_set_preset(B, NNINIT_NN_PRESET_TORCH), NNINIT_OK);
    assert_int_equal(nninit_arch_inits(B, NULL, y), NNINIT_OK);
    for (int i = 0; i < 6; i++) {
        if (x[i].source != NNINIT_INIT_FROM_PYTORCH) continue;
        assert_int_equal(y[i].source, NNINIT_INIT_FROM_PRESET);
        assert_int_equal(y[i].preset, NNINIT_NN_PRESET_TORCH);
        for (int k = 0; k < 2; k++) {
            expect_spec(&y[i].init[k].weight, x[i].init[k].weight);
            expect_spec(&y[i].init[k].bias, x[i].init[k].bias);
        }
    }
    nninit_net *n1 = NULL, *n2 = NULL;
    assert_int_equal(nninit_net_create(A, 2, NULL, 3, &n1), NNINIT_OK);
    assert_int_equal(nninit_net_create(B, 2, NULL, 3, &n2), NNINIT_OK);
    for (int i = 0; i < 6; i++) {
        nninit_layer_view u, w;
        assert_int_equal(nninit_net_layer(n1, i, &u), NNINIT_OK);
        assert_int_equal(nninit_net_layer(n2, i, &w), NNINIT_OK);
        if (!u.w) continue;
        assert_memory_equal(u.w, w.w, (size_t)(u.w_rows * u.w_cols) * sizeof(float));
        assert_memory_equal(u.b, w.b, (size_t)u.w_rows * sizeof(float));
    }
    nninit_net_free(n1);
    nninit_net_free(n2);
    assert_int_equal(nninit_arch_inits(NULL, NULL, x), NNINIT_ERR_NULL);
    assert_int_equal(nninit_arch_inits(A, NULL, NULL), NNINIT_ERR_NULL);
    free(x);
    free(y);
}

/* One scheme as text, outside any architecture: the same grammar as init=,
 * positions counted in the text itself, no tensor to fill. */
static void test_spec_parse(void **state) {
    (void)state;
    nninit_spec sp;
    assert_int_equal(nninit_spec_parse("kaiming_normal(nonlinearity=leaky_relu, a=0.2)", &sp), NNINIT_OK);
    assert_int_equal(sp.scheme, NNINIT_KAIMING_NORMAL);
    assert_int_equal(sp.nonlinearity, NNINIT_NL_LEAKY_RELU);
    assert_true(sp.slope == 0.2);
    assert_int_equal(nninit_spec_parse("  dirac ", &sp), NNINIT_OK); /* fits no dense weight; text only */
    assert_int_equal(sp.scheme, NNINIT_DIRAC);
    assert_int_equal(nninit_spec_parse("normal(stdd=1)", &sp), NNINIT_ERR_PARAM);
    assert_non_null(strstr(nninit_last_error(), "scheme: at 8:"));
    assert_int_equal(nninit_spec_parse("normal(std=1) x", &sp), NNINIT_ERR_PARAM);
    assert_non_null(strstr(nninit_last_error(), "at 15"));
    assert_int_equal(nninit_spec_parse(NULL, &sp), NNINIT_ERR_NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlp_repeat),       cmocka_unit_test(test_conv),
        cmocka_unit_test(test_residual),         cmocka_unit_test(test_init_options),
        cmocka_unit_test(test_activations),      cmocka_unit_test(test_nested_groups),
        cmocka_unit_test(test_limits),           cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_syntax_errors),    cmocka_unit_test(test_failure_leaves_arch_untouched),
        cmocka_unit_test(test_json_equals_text), cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_mutations),        cmocka_unit_test(test_engine_accepts),
        cmocka_unit_test(test_spec_parse),       cmocka_unit_test(test_presets),
        cmocka_unit_test(test_fan_based_bias),   cmocka_unit_test(test_arch_inits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

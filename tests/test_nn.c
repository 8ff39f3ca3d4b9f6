/* test_nn.c -- the network engine (include/nninit_nn.h).
 *
 * Gradient checks. Every layer kind and every activation is checked on a
 * tiny net (batch 4) by central differences of the mean cross-entropy:
 *     g_num = (L(p + eps) - L(p - eps)) / h,   h = fl(p + eps) - fl(p - eps)
 * with the loss evaluated by the engine (f32 forward, loss summed in double)
 * and h the step actually taken after rounding p +- eps to f32. The analytic
 * gradient passes when |g - g_num| <= RTOL max(|g|, |g_num|) + ATOL.
 *   - eps = 1e-2: the forward is f32, so L carries a rounding error of about
 *     1e-7 |L| (L ~ 1); divided by 2 eps that is ~5e-6 of noise in g_num. A
 *     smaller eps would drown the difference in that noise.
 *   - The truncation error of the central difference is eps^2/6 |L'''|
 *     ~ 2e-5 |L'''|, relative to |g| well under 1e-2 for these smooth nets;
 *     RTOL = 2e-2 leaves room for it, ATOL = 1e-4 (20x the noise) covers
 *     gradients near 0 whose relative error is meaningless.
 *   - A gradient bug (a missing term, a transposed index, a wrong derivative)
 *     gives errors of order |g| itself, far outside both.
 * Kinks: relu, leaky_relu, elu (alpha != 1) and selu have a jump in the
 * derivative at 0 (elu is treated so for every alpha). An element whose +-eps step moves any pre-activation of such
 * a layer across 0 has no derivative to check there and is skipped (at most a
 * quarter of a net's elements may be; the count is printed).
 * The input gradient is checked through a "probe" first layer that computes
 * the identity (dense with eye weights, or a 1x1 conv with dirac weights,
 * zero bias, identity act): its pre-activation is the input exactly, so its
 * dpre is dL/dx, the input gradient of the layer under test.
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

#include "nninit_nn.h"

#define EPS  1e-2 /* see the top comment for EPS, RTOL and ATOL */
#define RTOL 2e-2
#define ATOL 1e-4

/* ------------------------------------------------------------------------- */
/* Building architectures by hand                                            */
/* ------------------------------------------------------------------------- */

static nninit_arch *arch_new(int c, int h, int w) {
    nninit_arch *a = calloc(1, sizeof *a); /* ~100 KB: never on the stack */
    assert_non_null(a);
    a->in_c = c, a->in_h = h, a->in_w = w;
    return a;
}

static nninit_layer_spec *push(nninit_arch *a, nninit_layer_kind kind, int units, nninit_act act) {
    nninit_layer_spec *s = &a->layers[a->n_layers++];
    memset(s, 0, sizeof *s);
    s->kind = kind, s->units = units, s->act = act;
    s->act_param = NAN, s->stride = 1, s->groups = 1, s->alpha = 1.0;
    return s;
}

static nninit_layer_spec *dense(nninit_arch *a, int units, nninit_act act) {
    return push(a, NNINIT_LAYER_DENSE, units, act);
}

static nninit_layer_spec *conv(nninit_arch *a, int units, int kh, int kw, int stride, int pad, int groups,
                               nninit_act act) {
    nninit_layer_spec *s = push(a, NNINIT_LAYER_CONV2D, units, act);
    s->kh = kh, s->kw = kw, s->stride = stride, s->pad = pad, s->groups = groups;
    return s;
}

static nninit_layer_spec *flatten(nninit_arch *a) { return push(a, NNINIT_LAYER_FLATTEN, 0, NNINIT_ACT_IDENTITY); }

static nninit_layer_spec *residual(nninit_arch *a, nninit_layer_kind res_kind, int kh, int kw, int groups,
                                   nninit_act inner, nninit_act act, double alpha, nninit_res_rule rule) {
    nninit_layer_spec *s = push(a, NNINIT_LAYER_RESIDUAL, 0, act);
    s->res_kind = res_kind, s->kh = kh, s->kw = kw, s->groups = groups;
    s->res_inner_act = inner, s->alpha = alpha, s->res_rule = rule;
    return s;
}

static nninit_spec spec_normal(double std) {
    nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
    s.std = std;
    return s;
}

static void with_init(nninit_layer_spec *s, nninit_spec w, nninit_spec b) {
    s->has_init = 1, s->init.weight = w, s->init.bias = b;
}

/* Gradient-check weights: N(0, 0.5^2), biases N(0, 0.2^2): pre-activations
 * of order 1, where every activation is curved but not saturated. */
static void gc_init(nninit_layer_spec *s) { with_init(s, spec_normal(0.5), spec_normal(0.2)); }

/* Identity first layers (see the top comment). */
static void probe_dense(nninit_arch *a, int n) {
    with_init(dense(a, n, NNINIT_ACT_IDENTITY), nninit_spec_default(NNINIT_EYE), nninit_spec_default(NNINIT_ZEROS));
}

static void probe_conv(nninit_arch *a, int c) {
    with_init(conv(a, c, 1, 1, 1, 0, 1, NNINIT_ACT_IDENTITY), nninit_spec_default(NNINIT_DIRAC),
              nninit_spec_default(NNINIT_ZEROS));
}

static float *randn(size_t n, uint64_t seed, double std) {
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    nninit_spec s = spec_normal(std);
    nninit_tensor t = nninit_tensor_2d((int64_t)n, 1, NNINIT_F32);
    assert_int_equal(nninit_fill(&s, &t, nninit_key_make(seed, 0), x), NNINIT_OK);
    return x;
}

static nninit_net *create(const nninit_arch *a, int max_batch, const nninit_layer_init *def, uint64_t seed) {
    nninit_net *net = NULL;
    nninit_status st = nninit_net_create(a, max_batch, def, seed, &net);
    if (st) fail_msg("net_create: %s: %s", nninit_status_str(st), nninit_last_error());
    return net;
}

static nninit_layer_view view(const nninit_net *net, int l) {
    nninit_layer_view v;
    assert_int_equal(nninit_net_layer(net, l, &v), NNINIT_OK);
    return v;
}

/* ------------------------------------------------------------------------- */
/* Gradient check                                                            */
/* ------------------------------------------------------------------------- */

typedef struct {
    nninit_net *net;
    float *x;
    int batch, *labels;
    unsigned char *sign[64]; /* pre > 0 at the base point, per kinked layer */
    int checked, skipped;
    double eps;
    double worst; /* max |g - g_num| / tolerance */
    char worst_at[160];
} gcheck;

static int kinked(nninit_act a) {
    return a == NNINIT_ACT_RELU || a == NNINIT_ACT_LEAKY_RELU || a == NNINIT_ACT_ELU || a == NNINIT_ACT_SELU;
}

static double eval(gcheck *c) {
    double loss;
    assert_int_equal(nninit_net_forward(c->net, c->x, c->batch), NNINIT_OK);
    assert_int_equal(nninit_net_loss(c->net, c->labels, &loss), NNINIT_OK);
    return loss;
}

/* 1 if the last forward moved a kinked layer's pre-activation across 0. */
static int crossed(gcheck *c) {
    for (int l = 0; l < nninit_net_layers(c->net); l++) {
        if (!c->sign[l]) continue;
        nninit_layer_view v = view(c->net, l);
        for (int i = 0; i < c->batch * v.out_size; i++)
            if ((v.pre[i] > 0.0f) != c->sign[l][i]) return 1;
    }
    return 0;
}

/* Compare analytic g[0..n) with central differences in p[0..n). */
static void check_vec(gcheck *c, float *p, const float *g_live, size_t n, const char *what) {
    float *g = malloc(n * sizeof *g);
    assert_non_null(g);
    memcpy(g, g_live, n * sizeof *g); /* forward does not touch gradients; be independent of that */
    int skipped = 0;
    for (size_t i = 0; i < n; i++) {
        float v = p[i];
        p[i] = (float)(v + c->eps);
        double hp = p[i], lp = eval(c);
        int k = crossed(c);
        p[i] = (float)(v - c->eps);
        double hm = p[i], lm = eval(c);
        k |= crossed(c);
        p[i] = v;
        if (k) {
            skipped++;
            continue;
        }
        double num = (lp - lm) / (hp - hm), tol = RTOL * fmax(fabs(g[i]), fabs(num)) + ATOL;
        double r = fabs(g[i] - num) / tol;
        if (r > c->worst) {
            c->worst = r;
            snprintf(c->worst_at, sizeof c->worst_at, "%s[%zu] %.6g vs %.6g", what, i, g[i], num);
        }
        if (r > 1.0) fail_msg("%s[%zu]: analytic %.7g, numeric %.7g", what, i, g[i], num);
        c->checked++;
    }
    c->skipped += skipped;
    free(g);
}

/* Check every parameter gradient of the net and, when layer 0 is a probe,
 * the input gradient of layer 1 through the probe's dpre. */
static void gradcheck_eps(const nninit_arch *a, int has_probe, const char *name, double eps) {
    gcheck c = {0};
    c.batch = 4;
    c.eps = eps;
    c.net = create(a, c.batch, NULL, 7);
    int in = nninit_net_input_size(c.net), classes = nninit_net_output_size(c.net);
    c.x = randn((size_t)c.batch * in, 11, 1.0);
    int labels[4];
    for (int i = 0; i < 4; i++) labels[i] = (3 * i + 1) % classes;
    c.labels = labels;
    eval(&c);
    assert_int_equal(nninit_net_backward(c.net), NNINIT_OK);
    for (int l = 0; l < nninit_net_layers(c.net); l++) {
        nninit_layer_view v = view(c.net, l);
        int k = kinked(v.act) || (v.kind == NNINIT_LAYER_RESIDUAL && kinked(a->layers[l].res_inner_act));
        if (v.kind == NNINIT_LAYER_RESIDUAL && kinked(a->layers[l].res_inner_act))
            fail_msg("gradcheck cannot see a residual's inner pre-activation: use a smooth inner act");
        if (!k) continue;
        c.sign[l] = malloc((size_t)c.batch * v.out_size);
        assert_non_null(c.sign[l]);
        for (int i = 0; i < c.batch * v.out_size; i++) c.sign[l][i] = v.pre[i] > 0.0f;
    }
    char what[128];
    for (int l = 0; l < nninit_net_layers(c.net); l++) {
        nninit_layer_view v = view(c.net, l);
        if (v.kind == NNINIT_LAYER_FLATTEN) continue;
        snprintf(what, sizeof what, "%s: layers.%d dw", name, l);
        check_vec(&c, v.w, v.dw, (size_t)(v.w_rows * v.w_cols), what);
        snprintf(what, sizeof what, "%s: layers.%d db", name, l);
        check_vec(&c, v.b, v.db, (size_t)v.w_rows, what);
        if (v.kind != NNINIT_LAYER_RESIDUAL) continue;
        snprintf(what, sizeof what, "%s: layers.%d dw2", name, l);
        check_vec(&c, v.w2, v.dw2, (size_t)(v.w2_rows * v.w2_cols), what);
        snprintf(what, sizeof what, "%s: layers.%d db2", name, l);
        check_vec(&c, v.b2, v.db2, (size_t)v.w2_rows, what);
    }
    if (has_probe) {
        nninit_layer_view v = view(c.net, 0);
        snprintf(what, sizeof what, "%s: dL/dx", name);
        check_vec(&c, c.x, v.dpre, (size_t)c.batch * in, what);
    }
    if (c.skipped * 4 > c.checked + c.skipped) fail_msg("%s: %d elements skipped at kinks", name, c.skipped);
    print_message("  %-34s %5d checked, %3d skipped at kinks, worst error/tolerance %.3f (%s)\n", name, c.checked,
                  c.skipped, c.worst, c.worst_at);
    for (int l = 0; l < 64; l++) free(c.sign[l]);
    free(c.x);
    nninit_net_free(c.net);
}

static void gradcheck(const nninit_arch *a, int has_probe, const char *name) { gradcheck_eps(a, has_probe, name, EPS); }

static void test_gradcheck_activations(void **state) {
    (void)state;
    for (int act = 0; act < NNINIT_ACT_COUNT; act++) {
        double params[2] = {NAN, NAN};
        if (act == NNINIT_ACT_LEAKY_RELU) params[1] = 0.2; /* default 0.01 and a visible slope */
        if (act == NNINIT_ACT_ELU) params[1] = 0.5;        /* alpha 1 (C^1) and alpha 0.5 (kinked) */
        for (int k = 0; k < 2; k++) {
            if (k == 1 && isnan(params[1])) continue;
            nninit_arch *a = arch_new(4, 1, 1);
            probe_dense(a, 4);
            nninit_layer_spec *s = dense(a, 6, (nninit_act)act);
            s->act_param = params[k];
            gc_init(s);
            gc_init(dense(a, 5, (nninit_act)act));
            gc_init(dense(a, 3, NNINIT_ACT_IDENTITY));
            char name[64];
            snprintf(name, sizeof name, "dense %s (param %g)", nninit_act_name((nninit_act)act), params[k]);
            gradcheck(a, 1, name);
            free(a);
        }
    }
}

static void test_gradcheck_conv(void **state) {
    (void)state;
    /* 2x5x5 -> conv 4 3x3 s2 p1 g2 -> 4x3x3 -> conv 3 2x2 s1 p0 -> 3x2x2 -> flatten -> dense 3 */
    nninit_arch *a = arch_new(2, 5, 5);
    probe_conv(a, 2);
    gc_init(conv(a, 4, 3, 3, 2, 1, 2, NNINIT_ACT_TANH));
    gc_init(conv(a, 3, 2, 2, 1, 0, 1, NNINIT_ACT_SOFTPLUS));
    flatten(a);
    gc_init(dense(a, 3, NNINIT_ACT_IDENTITY));
    gradcheck(a, 1, "conv s2 p1 g2, conv 2x2, flatten");
    free(a);

    /* non-square kernel, stride 2 with padding 2 and groups 2 on both convs,
     * then a dense straight after a conv (implicit flatten) */
    a = arch_new(2, 6, 5);
    probe_conv(a, 2);
    gc_init(conv(a, 4, 3, 2, 2, 2, 2, NNINIT_ACT_GELU));
    gc_init(conv(a, 2, 1, 3, 1, 1, 2, NNINIT_ACT_SIGMOID));
    gc_init(dense(a, 3, NNINIT_ACT_IDENTITY));
    gradcheck(a, 1, "conv 3x2 s2 p2 g2, dense after conv");
    free(a);

    /* A kinked activation on a conv: a shared weight moves 4 x 9 pre-
     * activations, so a step of 1e-2 would cross relu's kink for about a
     * fifth of the weights; 2e-3 crosses few. Piecewise linear, so the
     * smaller step costs no truncation error, only more rounding noise
     * (~1e-7 / 4e-3 = 2.5e-5 < ATOL). */
    a = arch_new(2, 3, 3);
    probe_conv(a, 2);
    gc_init(conv(a, 4, 3, 3, 1, 1, 2, NNINIT_ACT_RELU));
    flatten(a);
    gc_init(dense(a, 3, NNINIT_ACT_IDENTITY));
    gradcheck_eps(a, 1, "conv relu", 2e-3);
    free(a);
}

static void test_gradcheck_flatten(void **state) {
    (void)state;
    /* flatten routes the gradient through two of them onto the probe */
    nninit_arch *a = arch_new(2, 3, 3);
    probe_conv(a, 2);
    flatten(a);
    flatten(a);
    gc_init(dense(a, 4, NNINIT_ACT_TANH));
    gc_init(dense(a, 3, NNINIT_ACT_IDENTITY));
    gradcheck(a, 1, "probe, flatten x2, dense");
    free(a);
    /* flatten of the raw input as the first layer */
    a = arch_new(2, 3, 3);
    flatten(a);
    gc_init(dense(a, 4, NNINIT_ACT_SELU));
    gc_init(dense(a, 3, NNINIT_ACT_IDENTITY));
    gradcheck(a, 0, "flatten first");
    free(a);
}

static void test_gradcheck_residual_dense(void **state) {
    (void)state;
    nninit_arch *a = arch_new(5, 1, 1);
    probe_dense(a, 5);
    gc_init(residual(a, NNINIT_LAYER_DENSE, 0, 0, 1, NNINIT_ACT_TANH, NNINIT_ACT_TANH, 0.7, NNINIT_RES_RULE_NONE));
    gc_init(residual(a, NNINIT_LAYER_DENSE, 0, 0, 1, NNINIT_ACT_GELU, NNINIT_ACT_IDENTITY, 1.0, NNINIT_RES_RULE_NONE));
    gc_init(residual(a, NNINIT_LAYER_DENSE, 0, 0, 1, NNINIT_ACT_SIGMOID, NNINIT_ACT_RELU, 1.3, NNINIT_RES_RULE_NONE));
    gc_init(dense(a, 3, NNINIT_ACT_IDENTITY));
    gradcheck(a, 1, "residual dense x3");
    free(a);
}

static void test_gradcheck_residual_conv(void **state) {
    (void)state;
    nninit_arch *a = arch_new(2, 3, 3); /* 18 features: see gradcheck's noise note */
    probe_conv(a, 2);
    gc_init(residual(a, NNINIT_LAYER_CONV2D, 3, 3, 1, NNINIT_ACT_TANH, NNINIT_ACT_IDENTITY, 0.5, NNINIT_RES_RULE_NONE));
    gc_init(residual(a, NNINIT_LAYER_CONV2D, 3, 1, 2, NNINIT_ACT_SOFTPLUS, NNINIT_ACT_TANH, 1.0, NNINIT_RES_RULE_NONE));
    gc_init(residual(a, NNINIT_LAYER_DENSE, 0, 0, 1, NNINIT_ACT_TANH, NNINIT_ACT_IDENTITY, 1.0, NNINIT_RES_RULE_NONE));
    gc_init(dense(a, 3, NNINIT_ACT_IDENTITY));
    gradcheck(a, 1, "residual conv 3x3, 3x1 g2, dense");
    free(a);
}

/* ------------------------------------------------------------------------- */
/* Activations: values                                                       */
/* ------------------------------------------------------------------------- */

static double ref_act(nninit_act a, double x) {
    const double l = 1.0507009873554805, al = 1.6732632423543772;
    switch (a) {
    case NNINIT_ACT_IDENTITY: return x;
    case NNINIT_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case NNINIT_ACT_TANH: return tanh(x);
    case NNINIT_ACT_RELU: return x > 0 ? x : 0;
    case NNINIT_ACT_LEAKY_RELU: return x > 0 ? x : 0.01 * x;
    case NNINIT_ACT_ELU: return x > 0 ? x : expm1(x);
    case NNINIT_ACT_SELU: return l * (x > 0 ? x : al * expm1(x));
    case NNINIT_ACT_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case NNINIT_ACT_SOFTPLUS: return fmax(x, 0.0) + log1p(exp(-fabs(x)));
    default: return NAN;
    }
}

static void test_activation_values(void **state) {
    (void)state;
    static const float xs[10] = {-100.0f, -30.0f, -2.0f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 30.0f, 100.0f};
    for (int act = 0; act < NNINIT_ACT_COUNT; act++) {
        nninit_arch *a = arch_new(1, 1, 1); /* y = act(1 * x + 0) */
        with_init(dense(a, 1, (nninit_act)act), nninit_spec_default(NNINIT_ONES), nninit_spec_default(NNINIT_ZEROS));
        nninit_net *net = create(a, 10, NULL, 1);
        assert_int_equal(nninit_net_forward(net, xs, 10), NNINIT_OK);
        const float *y = nninit_net_output(net);
        for (int i = 0; i < 10; i++) {
            double r = ref_act((nninit_act)act, xs[i]);
            if (!(fabs(y[i] - r) <= 1e-6 * fabs(r) + 1e-38)) /* 8 f32 ulps; subnormal results absolutely */
                fail_msg("%s(%g) = %.9g, expected %.9g", nninit_act_name((nninit_act)act), xs[i], y[i], r);
        }
        nninit_net_free(net);
        free(a);
    }
    /* PyTorch (float64): F.gelu(1.) = 0.8413447460685429, F.selu(-1.) = -1.1113307378125625 */
    assert_true(fabs(ref_act(NNINIT_ACT_GELU, 1.0) - 0.8413447460685429) < 1e-15);
    assert_true(fabs(ref_act(NNINIT_ACT_SELU, -1.0) - -1.1113307378125625) < 1e-15);
}

static void test_activation_names(void **state) {
    (void)state;
    for (int i = 0; i < NNINIT_ACT_COUNT; i++) {
        nninit_act a;
        assert_int_equal(nninit_act_parse(nninit_act_name((nninit_act)i), &a), NNINIT_OK);
        assert_int_equal(a, i);
    }
    assert_string_equal(nninit_act_name(NNINIT_ACT_LEAKY_RELU), "leaky_relu");
    assert_string_equal(nninit_act_name(NNINIT_ACT_COUNT), "unknown");
    nninit_act a;
    assert_int_equal(nninit_act_parse("swish", &a), NNINIT_ERR_UNKNOWN_NAME);
    assert_non_null(strstr(nninit_last_error(), "swish"));
    assert_int_equal(nninit_act_parse(NULL, &a), NNINIT_ERR_NULL);
    assert_int_equal(nninit_act_parse("relu", NULL), NNINIT_ERR_NULL);
}

/* ------------------------------------------------------------------------- */
/* Initialization                                                            */
/* ------------------------------------------------------------------------- */

static void assert_filled(const nninit_spec *s, const nninit_tensor *t, uint64_t seed, const char *name,
                          const float *got) {
    int64_t n;
    assert_int_equal(nninit_tensor_numel(t, &n), NNINIT_OK);
    float *want = malloc((size_t)n * sizeof *want);
    assert_non_null(want);
    assert_int_equal(nninit_fill(s, t, nninit_key_from_name(seed, name), want), NNINIT_OK);
    if (memcmp(want, got, (size_t)n * sizeof *want)) fail_msg("%s differs from nninit_fill", name);
    free(want);
}

static nninit_tensor vec(int64_t n) {
    nninit_tensor t = nninit_tensor_2d(n, 1, NNINIT_F32);
    t.ndim = 1;
    return t;
}

/* PyTorch's nn.Linear / nn.Conv2d reset_parameters when no init is given. */
static void test_init_pytorch_default(void **state) {
    (void)state;
    nninit_arch *a = arch_new(3, 6, 6);
    conv(a, 4, 3, 3, 1, 0, 1, NNINIT_ACT_RELU); /* fan_in 27 */
    dense(a, 10, NNINIT_ACT_IDENTITY);          /* fan_in 4*4*4 = 64 */
    nninit_net *net = create(a, 2, NULL, 42);
    nninit_spec ku = nninit_spec_default(NNINIT_KAIMING_UNIFORM);
    ku.slope = sqrt(5.0);
    nninit_spec bu = nninit_spec_default(NNINIT_UNIFORM);

    nninit_layer_view v = view(net, 0);
    int64_t shape[4] = {4, 3, 3, 3};
    nninit_tensor wt = nninit_tensor_make(4, shape, NNINIT_F32);
    assert_filled(&ku, &wt, 42, "layers.0.weight", v.w);
    bu.a = -1.0 / sqrt(27.0), bu.b = 1.0 / sqrt(27.0);
    nninit_tensor bt = vec(4);
    assert_filled(&bu, &bt, 42, "layers.0.bias", v.b);
    for (int i = 0; i < 108; i++) assert_true(fabsf(v.w[i]) <= 1.0f / sqrtf(27.0f));

    v = view(net, 1);
    wt = nninit_tensor_2d(10, 64, NNINIT_F32);
    assert_filled(&ku, &wt, 42, "layers.1.weight", v.w);
    bu.a = -1.0 / 8.0, bu.b = 1.0 / 8.0;
    bt = vec(10);
    assert_filled(&bu, &bt, 42, "layers.1.bias", v.b);
    nninit_net_free(net);
    free(a);
}

/* default_init for layers without their own; fan-based bias schemes use the weight's fans. */
static void test_init_default_and_layer(void **state) {
    (void)state;
    nninit_arch *a = arch_new(20, 1, 1);
    dense(a, 30, NNINIT_ACT_TANH);
    nninit_layer_spec *s = dense(a, 10, NNINIT_ACT_IDENTITY);
    nninit_spec kn = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    with_init(s, nninit_spec_default(NNINIT_ORTHOGONAL), kn);
    nninit_layer_init def = {nninit_spec_default(NNINIT_XAVIER_UNIFORM), nninit_spec_default(NNINIT_ZEROS)};
    nninit_net *net = create(a, 2, &def, 5);

    nninit_layer_view v = view(net, 0);
    nninit_tensor wt = nninit_tensor_2d(30, 20, NNINIT_F32), bt = vec(30);
    assert_filled(&def.weight, &wt, 5, "layers.0.weight", v.w);
    assert_filled(&def.bias, &bt, 5, "layers.0.bias", v.b);

    v = view(net, 1);
    wt = nninit_tensor_2d(10, 30, NNINIT_F32);
    assert_filled(&s->init.weight, &wt, 5, "layers.1.weight", v.w);
    /* kaiming_normal on the bias: N(0, 2/fan_in) with the weight's fan_in 30 */
    nninit_spec bn = spec_normal(sqrt(2.0) / sqrt(30.0));
    float want[10];
    bt = vec(10);
    assert_int_equal(nninit_fill(&bn, &bt, nninit_key_from_name(5, "layers.1.bias"), want), NNINIT_OK);
    for (int i = 0; i < 10; i++) assert_true(fabsf(want[i] - v.b[i]) <= 1e-6f * fabsf(want[i]));
    nninit_net_free(net);
    free(a);
}

/* he-zero: F(x) = 0 exactly, so each block (act identity, alpha 1) passes x through bit for bit. */
static void test_he_zero_identity(void **state) {
    (void)state;
    nninit_arch *a = arch_new(8, 1, 1);
    for (int i = 0; i < 4; i++)
        residual(a, NNINIT_LAYER_DENSE, 0, 0, 1, NNINIT_ACT_RELU, NNINIT_ACT_IDENTITY, 1.0, NNINIT_RES_RULE_HE_ZERO);
    nninit_net *net = create(a, 16, NULL, 3);
    float *x = randn(16 * 8, 99, 1.0);
    assert_int_equal(nninit_net_forward(net, x, 16), NNINIT_OK);
    assert_memory_equal(nninit_net_output(net), x, 16 * 8 * sizeof *x);
    /* the branch is not trivially dead: inner 0 is He normal, keys layers.<i>.0.weight */
    nninit_spec he = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    he.nonlinearity = NNINIT_NL_RELU;
    nninit_tensor wt = nninit_tensor_2d(8, 8, NNINIT_F32);
    for (int l = 0; l < 4; l++) {
        char name[32];
        nninit_layer_view v = view(net, l);
        snprintf(name, sizeof name, "layers.%d.0.weight", l);
        assert_filled(&he, &wt, 3, name, v.w);
        for (int i = 0; i < 64; i++) assert_true(v.w2[i] == 0.0f);
        for (int i = 0; i < 8; i++) assert_true(v.b[i] == 0.0f && v.b2[i] == 0.0f);
    }
    nninit_net_free(net);
    free(a);
    free(x);

    a = arch_new(3, 5, 5);
    for (int i = 0; i < 3; i++)
        residual(a, NNINIT_LAYER_CONV2D, 3, 3, 1, NNINIT_ACT_RELU, NNINIT_ACT_IDENTITY, 1.0, NNINIT_RES_RULE_HE_ZERO);
    net = create(a, 4, NULL, 3);
    x = randn(4 * 75, 98, 1.0);
    assert_int_equal(nninit_net_forward(net, x, 4), NNINIT_OK);
    assert_memory_equal(nninit_net_output(net), x, 4 * 75 * sizeof *x);
    nninit_net_free(net);
    free(x);

    /* he-he: both inner layers He normal, so the block is not the identity */
    a->layers[1].res_rule = NNINIT_RES_RULE_HE_HE;
    net = create(a, 4, NULL, 3);
    nninit_layer_view v = view(net, 1);
    int64_t shape[4] = {3, 3, 3, 3};
    nninit_spec he2 = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    he2.nonlinearity = NNINIT_NL_RELU;
    nninit_tensor ct = nninit_tensor_make(4, shape, NNINIT_F32);
    assert_filled(&he2, &ct, 3, "layers.1.1.weight", v.w2);
    nninit_net_free(net);
    free(a);
}

static int distinct_rows(const float *w, int64_t rows, int64_t cols, float tol) {
    int distinct = 0;
    for (int64_t r = 0; r < rows; r++) {
        int seen = 0;
        for (int64_t q = 0; q < r && !seen; q++) {
            int same = 1;
            for (int64_t j = 0; j < cols && same; j++) same = fabsf(w[r * cols + j] - w[q * cols + j]) <= tol;
            seen = same;
        }
        distinct += !seen;
    }
    return distinct;
}

/* Zero (any constant) init: every hidden unit gets the same gradient, forever. */
static void test_zero_init_symmetry(void **state) {
    (void)state;
    nninit_arch *a = arch_new(6, 1, 1);
    dense(a, 5, NNINIT_ACT_SIGMOID);
    dense(a, 3, NNINIT_ACT_IDENTITY);
    nninit_layer_init zeros = {nninit_spec_default(NNINIT_ZEROS), nninit_spec_default(NNINIT_ZEROS)};
    nninit_net *net = create(a, 8, &zeros, 1);
    float *x = randn(8 * 6, 4, 1.0);
    int labels[8] = {0, 1, 2, 0, 1, 2, 2, 1};
    for (int step = 0; step < 10; step++) {
        double loss;
        assert_int_equal(nninit_net_forward(net, x, 8), NNINIT_OK);
        assert_int_equal(nninit_net_loss(net, labels, &loss), NNINIT_OK);
        assert_int_equal(nninit_net_backward(net), NNINIT_OK);
        assert_int_equal(nninit_net_sgd_step(net, 0.5f), NNINIT_OK);
    }
    nninit_layer_view v = view(net, 0);
    assert_int_equal(distinct_rows(v.w, v.w_rows, v.w_cols, 1e-6f), 1);
    float wmax = 0.0f; /* it did train: the rows moved, together */
    for (int i = 0; i < 30; i++) wmax = fmaxf(wmax, fabsf(v.w[i]));
    assert_true(wmax > 1e-4f);
    nninit_net_free(net);

    net = create(a, 8, NULL, 1); /* contrast: random init, all rows distinct */
    v = view(net, 0);
    assert_int_equal(distinct_rows(v.w, v.w_rows, v.w_cols, 1e-6f), 5);
    nninit_net_free(net);
    free(x);
    free(a);
}

/* ------------------------------------------------------------------------- */
/* Loss, SGD, views, batches                                                 */
/* ------------------------------------------------------------------------- */

static void test_loss_uniform_logits(void **state) {
    (void)state;
    nninit_arch *a = arch_new(4, 1, 1);
    with_init(dense(a, 10, NNINIT_ACT_IDENTITY), nninit_spec_default(NNINIT_ZEROS), nninit_spec_default(NNINIT_ZEROS));
    nninit_net *net = create(a, 3, NULL, 1);
    float *x = randn(12, 1, 1.0);
    int labels[3] = {0, 4, 9};
    double loss;
    assert_int_equal(nninit_net_forward(net, x, 3), NNINIT_OK);
    assert_int_equal(nninit_net_loss(net, labels, &loss), NNINIT_OK);
    assert_true(fabs(loss - log(10.0)) < 1e-12);
    assert_int_equal(nninit_net_backward(net), NNINIT_OK);
    nninit_layer_view v = view(net, 0);
    for (int n = 0; n < 3; n++)
        for (int j = 0; j < 10; j++) assert_float_equal(v.dpre[n * 10 + j], (0.1 - (j == labels[n])) / 3.0, 1e-7);
    nninit_net_free(net);
    free(x);
    free(a);
}

static void test_loss_large_logits(void **state) {
    (void)state;
    nninit_arch *a = arch_new(1, 1, 1);
    with_init(dense(a, 3, NNINIT_ACT_IDENTITY), nninit_spec_default(NNINIT_ZEROS), nninit_spec_default(NNINIT_ZEROS));
    nninit_net *net = create(a, 2, NULL, 1);
    nninit_layer_view v = view(net, 0);
    v.b[0] = 1000.0f, v.b[1] = 0.0f, v.b[2] = -1000.0f; /* exp(1000) overflows a naive softmax */
    float x[2] = {0.0f, 0.0f};
    int labels[2] = {0, 2};
    double loss;
    assert_int_equal(nninit_net_forward(net, x, 2), NNINIT_OK);
    assert_int_equal(nninit_net_loss(net, labels, &loss), NNINIT_OK);
    assert_true(fabs(loss - 1000.0) < 1e-9); /* (0 + 2000) / 2 */
    assert_int_equal(nninit_net_backward(net), NNINIT_OK);
    assert_float_equal(v.db[0], 0.5, 1e-7); /* (1 - 1)/2 + (1 - 0)/2 */
    assert_float_equal(v.db[2], -0.5, 1e-7);
    nninit_net_free(net);
    free(a);
}

static void test_sgd_step(void **state) {
    (void)state;
    nninit_arch *a = arch_new(3, 1, 1);
    residual(a, NNINIT_LAYER_DENSE, 0, 0, 1, NNINIT_ACT_TANH, NNINIT_ACT_IDENTITY, 1.0, NNINIT_RES_RULE_HE_HE);
    dense(a, 4, NNINIT_ACT_IDENTITY);
    nninit_net *net = create(a, 2, NULL, 9);
    float *x = randn(6, 2, 1.0);
    int labels[2] = {1, 3};
    double loss;
    assert_int_equal(nninit_net_forward(net, x, 2), NNINIT_OK);
    assert_int_equal(nninit_net_loss(net, labels, &loss), NNINIT_OK);
    assert_int_equal(nninit_net_backward(net), NNINIT_OK);
    nninit_layer_view r = view(net, 0), d = view(net, 1);
    float w0[9], w2[9], b1[4];
    memcpy(w0, r.w, sizeof w0), memcpy(w2, r.w2, sizeof w2), memcpy(b1, d.b, sizeof b1);
    assert_int_equal(nninit_net_sgd_step(net, 0.25f), NNINIT_OK);
    for (int i = 0; i < 9; i++) assert_true(r.w[i] == w0[i] - 0.25f * r.dw[i] && r.w2[i] == w2[i] - 0.25f * r.dw2[i]);
    for (int i = 0; i < 4; i++) assert_true(d.b[i] == b1[i] - 0.25f * d.db[i]);
    assert_int_equal(nninit_net_sgd_step(net, NAN), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_net_sgd_step(NULL, 0.1f), NNINIT_ERR_NULL);
    nninit_net_free(net);
    free(x);
    free(a);
}

static void test_views_and_sizes(void **state) {
    (void)state;
    nninit_arch *a = arch_new(3, 8, 8);
    conv(a, 6, 3, 3, 2, 1, 3, NNINIT_ACT_RELU); /* 6x4x4 */
    flatten(a);
    residual(a, NNINIT_LAYER_DENSE, 0, 0, 1, NNINIT_ACT_RELU, NNINIT_ACT_RELU, 1.0, NNINIT_RES_RULE_HE_ZERO);
    dense(a, 10, NNINIT_ACT_IDENTITY);
    nninit_net *net = create(a, 5, NULL, 1);
    assert_int_equal(nninit_net_layers(net), 4);
    assert_int_equal(nninit_net_input_size(net), 192);
    assert_int_equal(nninit_net_output_size(net), 10);
    assert_int_equal(nninit_net_batch(net), 0);
    nninit_layer_view c = view(net, 0), f = view(net, 1), r = view(net, 2), d = view(net, 3);
    assert_int_equal(c.out_c, 6), assert_int_equal(c.out_h, 4), assert_int_equal(c.out_w, 4);
    assert_int_equal(c.w_rows, 6), assert_int_equal(c.w_cols, 9);
    assert_true(c.pre != c.post); /* relu keeps both */
    assert_int_equal(f.kind, NNINIT_LAYER_FLATTEN);
    assert_null(f.pre), assert_null(f.dpre), assert_null(f.w);
    assert_ptr_equal(f.post, c.post);
    assert_int_equal(f.out_size, 96), assert_int_equal(f.out_c, 96);
    assert_int_equal(r.w_rows, 96), assert_int_equal(r.w2_cols, 96);
    assert_non_null(r.w2), assert_non_null(r.dw2);
    assert_null(c.w2);
    assert_ptr_equal(d.pre, d.post); /* identity: one buffer */
    assert_ptr_equal(nninit_net_output(net), d.post);
    /* a smaller batch gives the first rows of the full one */
    float *x = randn(5 * 192, 1, 1.0), out5[50];
    assert_int_equal(nninit_net_forward(net, x, 5), NNINIT_OK);
    memcpy(out5, nninit_net_output(net), sizeof out5);
    assert_int_equal(nninit_net_forward(net, x, 2), NNINIT_OK);
    assert_int_equal(nninit_net_batch(net), 2);
    for (int i = 0; i < 20; i++) assert_float_equal(nninit_net_output(net)[i], out5[i], 1e-5 * (1 + fabsf(out5[i])));
    nninit_net_free(net);
    free(x);
    free(a);
}

/* ------------------------------------------------------------------------- */
/* Errors                                                                    */
/* ------------------------------------------------------------------------- */

static void expect_create(const nninit_arch *a, int max_batch, nninit_status want, const char *what) {
    nninit_net *net = (nninit_net *)&net; /* must stay untouched */
    nninit_status st = nninit_net_create(a, max_batch, NULL, 1, &net);
    if (st != want)
        fail_msg("%s: got %s (%s), want %s", what, nninit_status_str(st), nninit_last_error(), nninit_status_str(want));
    assert_ptr_equal(net, (nninit_net *)&net);
    assert_true(strlen(nninit_last_error()) > 0);
}

static void test_errors_create(void **state) {
    (void)state;
    nninit_net *net = NULL;
    nninit_arch *a = arch_new(4, 1, 1);
    dense(a, 3, NNINIT_ACT_IDENTITY);
    assert_int_equal(nninit_net_create(NULL, 1, NULL, 1, &net), NNINIT_ERR_NULL);
    assert_int_equal(nninit_net_create(a, 1, NULL, 1, NULL), NNINIT_ERR_NULL);
    expect_create(a, 0, NNINIT_ERR_PARAM, "max_batch 0");
    a->n_layers = 0;
    expect_create(a, 1, NNINIT_ERR_PARAM, "no layers");
    a->n_layers = NNINIT_ARCH_MAX_LAYERS + 1;
    expect_create(a, 1, NNINIT_ERR_PARAM, "too many layers");
    a->n_layers = 1;
    a->in_c = 0;
    expect_create(a, 1, NNINIT_ERR_SHAPE, "input 0");
    a->in_c = 4;
    a->layers[0].units = 0;
    expect_create(a, 1, NNINIT_ERR_SHAPE, "dense units 0");
    a->layers[0].units = 3;
    a->layers[0].act = NNINIT_ACT_COUNT;
    expect_create(a, 1, NNINIT_ERR_PARAM, "bad act");
    a->layers[0].act = NNINIT_ACT_LEAKY_RELU;
    a->layers[0].act_param = INFINITY;
    expect_create(a, 1, NNINIT_ERR_PARAM, "infinite act param");
    a->layers[0].act_param = NAN;
    a->layers[0].kind = (nninit_layer_kind)42;
    expect_create(a, 1, NNINIT_ERR_PARAM, "bad kind");
    a->layers[0].kind = NNINIT_LAYER_DENSE;
    with_init(&a->layers[0], spec_normal(-1.0), nninit_spec_default(NNINIT_ZEROS));
    expect_create(a, 1, NNINIT_ERR_PARAM, "bad init (negative std)");
    assert_non_null(strstr(nninit_last_error(), "layers.0.weight"));
    with_init(&a->layers[0], spec_normal(1.0), nninit_spec_default(NNINIT_EYE));
    expect_create(a, 1, NNINIT_ERR_DIMS, "eye on a bias");
    assert_non_null(strstr(nninit_last_error(), "layers.0.bias"));
    free(a);

    a = arch_new(3, 5, 5);
    nninit_layer_spec *s = conv(a, 4, 7, 7, 1, 0, 1, NNINIT_ACT_RELU);
    expect_create(a, 1, NNINIT_ERR_SHAPE, "kernel larger than input");
    s->pad = 1, s->kh = 8;
    expect_create(a, 1, NNINIT_ERR_SHAPE, "kernel larger than padded input");
    s->pad = 1, s->kh = s->kw = 3, s->groups = 2;
    expect_create(a, 1, NNINIT_ERR_GROUPS, "groups 2 on 3 channels");
    s->groups = -1;
    expect_create(a, 1, NNINIT_ERR_GROUPS, "groups -1");
    s->groups = 1, s->stride = 0;
    expect_create(a, 1, NNINIT_ERR_PARAM, "stride 0");
    s->stride = 1, s->pad = -1;
    expect_create(a, 1, NNINIT_ERR_PARAM, "pad -1");
    s->pad = 1, s->kh = 0;
    expect_create(a, 1, NNINIT_ERR_SHAPE, "kernel 0");
    s->kh = 3;
    flatten(a)->act = NNINIT_ACT_RELU;
    expect_create(a, 1, NNINIT_ERR_PARAM, "flatten with act");
    a->layers[1].act = NNINIT_ACT_IDENTITY;
    s = residual(a, NNINIT_LAYER_CONV2D, 2, 3, 1, NNINIT_ACT_RELU, NNINIT_ACT_RELU, 1.0, NNINIT_RES_RULE_HE_ZERO);
    a->layers[1].kind = NNINIT_LAYER_CONV2D; /* keep the residual conv on a conv shape */
    a->layers[1].units = 4, a->layers[1].kh = a->layers[1].kw = 1;
    expect_create(a, 1, NNINIT_ERR_SHAPE, "residual conv even kernel");
    s->kh = 3, s->units = 5;
    expect_create(a, 1, NNINIT_ERR_SHAPE, "residual conv channels != input");
    s->units = 0, s->res_kind = NNINIT_LAYER_FLATTEN;
    expect_create(a, 1, NNINIT_ERR_PARAM, "residual of flatten");
    s->res_kind = NNINIT_LAYER_CONV2D, s->res_rule = (nninit_res_rule)3;
    expect_create(a, 1, NNINIT_ERR_PARAM, "residual rule 3");
    s->res_rule = NNINIT_RES_RULE_HE_ZERO, s->alpha = NAN;
    expect_create(a, 1, NNINIT_ERR_PARAM, "residual alpha NaN");
    s->alpha = 1.0, s->res_inner_act = (nninit_act)-1;
    expect_create(a, 1, NNINIT_ERR_PARAM, "residual inner act");
    s->res_inner_act = NNINIT_ACT_RELU, s->groups = 3;
    expect_create(a, 1, NNINIT_ERR_GROUPS, "residual groups 3 on 4 channels");
    s->groups = 2;
    assert_int_equal(nninit_net_create(a, 1, NULL, 1, &net), NNINIT_OK); /* and now it is fine */
    nninit_net_free(net);
    s->res_kind = NNINIT_LAYER_DENSE, s->units = 7;
    expect_create(a, 1, NNINIT_ERR_SHAPE, "residual dense width != input");
    free(a);

    a = arch_new(70000, 70000, 1);
    dense(a, 1, NNINIT_ACT_IDENTITY);
    expect_create(a, 1, NNINIT_ERR_OVERFLOW, "input of 4.9e9 features");
    free(a);
    nninit_net_free(NULL); /* a no-op */
}

static void test_errors_run(void **state) {
    (void)state;
    nninit_arch *a = arch_new(4, 1, 1);
    dense(a, 3, NNINIT_ACT_IDENTITY);
    nninit_net *net = create(a, 2, NULL, 1);
    float x[12] = {0}, g[6] = {0};
    int labels[3] = {0, 1, 2};
    double loss;
    assert_int_equal(nninit_net_loss(net, labels, &loss), NNINIT_ERR_PARAM); /* before any forward */
    assert_int_equal(nninit_net_set_output_grad(net, g), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_net_backward(net), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_net_forward(net, x, 3), NNINIT_ERR_PARAM); /* batch > max_batch */
    assert_non_null(strstr(nninit_last_error(), "max_batch"));
    assert_int_equal(nninit_net_forward(net, x, 0), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_net_forward(net, NULL, 1), NNINIT_ERR_NULL);
    assert_int_equal(nninit_net_forward(NULL, x, 1), NNINIT_ERR_NULL);
    assert_int_equal(nninit_net_forward(net, x, 2), NNINIT_OK);
    assert_int_equal(nninit_net_backward(net), NNINIT_ERR_PARAM); /* no output gradient yet */
    labels[1] = 3;
    assert_int_equal(nninit_net_loss(net, labels, &loss), NNINIT_ERR_PARAM);
    labels[1] = -1;
    assert_int_equal(nninit_net_loss(net, labels, &loss), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_net_loss(net, NULL, &loss), NNINIT_ERR_NULL);
    assert_int_equal(nninit_net_loss(net, labels, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_net_set_output_grad(net, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_net_set_output_grad(net, g), NNINIT_OK);
    assert_int_equal(nninit_net_backward(net), NNINIT_OK);
    assert_int_equal(nninit_net_backward(NULL), NNINIT_ERR_NULL);
    nninit_layer_view v;
    assert_int_equal(nninit_net_layer(net, 1, &v), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_net_layer(net, -1, &v), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_net_layer(net, 0, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_net_layer(NULL, 0, &v), NNINIT_ERR_NULL);
    assert_int_equal(nninit_net_layers(NULL), 0);
    assert_null(nninit_net_output(NULL));
    nninit_net_free(net);
    free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradcheck_activations),
        cmocka_unit_test(test_gradcheck_conv),
        cmocka_unit_test(test_gradcheck_flatten),
        cmocka_unit_test(test_gradcheck_residual_dense),
        cmocka_unit_test(test_gradcheck_residual_conv),
        cmocka_unit_test(test_activation_values),
        cmocka_unit_test(test_activation_names),
        cmocka_unit_test(test_init_pytorch_default),
        cmocka_unit_test(test_init_default_and_layer),
        cmocka_unit_test(test_he_zero_identity),
        cmocka_unit_test(test_zero_init_symmetry),
        cmocka_unit_test(test_loss_uniform_logits),
        cmocka_unit_test(test_loss_large_logits),
        cmocka_unit_test(test_sgd_step),
        cmocka_unit_test(test_views_and_sizes),
        cmocka_unit_test(test_errors_create),
        cmocka_unit_test(test_errors_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_probe.c -- the textbook phenomena, seen by the probe on fixed seeds:
 * symmetry of zero init, vanishing with small weights, saturation with large
 * ones, He keeping ReLU nets stable, mean-field q* reached by depth, LSUV. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nninit_probe.h"
#include "nninit_data.h"
#include "common.h"
#include "probe/probe_internal.h"
#include "rng/philox.h"

static nninit_arch *parse(const char *text) {
    nninit_arch *a = malloc(sizeof *a);
    assert_non_null(a);
    nninit_status st = nninit_arch_parse(text, a);
    if (st) print_error("%s\n", nninit_last_error());
    assert_int_equal(st, NNINIT_OK);
    return a;
}

static nninit_layer_init init_of(nninit_spec w, nninit_spec b) {
    nninit_layer_init li = {w, b};
    return li;
}

static nninit_spec normal(double std) {
    nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
    s.std = std;
    return s;
}

static int has_finding(const nninit_probe_report *r, nninit_finding_kind k) {
    for (int i = 0; i < r->n_findings; i++)
        if (r->findings[i].kind == k) return 1;
    return 0;
}

static void run(const char *arch, nninit_layer_init *li, nninit_probe_opts *o, nninit_probe_report *r) {
    nninit_arch *a = parse(arch);
    nninit_status st = nninit_probe_run(a, li, o, r);
    if (st) print_error("%s\n", nninit_last_error());
    assert_int_equal(st, NNINIT_OK);
    free(a);
}

/* Zero init: every hidden unit of every hidden layer stays one unit after 10
 * SGD steps (its incoming and outgoing weights get identical gradients). */
static void test_zero_init_symmetric(void **state) {
    (void)state;
    nninit_probe_opts o = nninit_probe_opts_default();
    o.batch = 64;
    o.sgd_steps = 10;
    nninit_layer_init li = init_of(nninit_spec_default(NNINIT_ZEROS), nninit_spec_default(NNINIT_ZEROS));
    nninit_probe_report r;
    run("64 -> [dense 32 tanh] x3 -> dense 10", &li, &o, &r);
    for (int l = 0; l < 3; l++) {
        assert_int_equal(r.layers[l].distinct_units_init, 1);
        assert_int_equal(r.layers[l].distinct_units_after, 1);
    }
    assert_true(has_finding(&r, NNINIT_FINDING_SYMMETRIC));
    print_message("zero init: %s\n", r.findings[0].text);
    nninit_probe_report_free(&r);
}

/* N(0, 0.01^2), tanh, 20 layers: layer-20/layer-1 activation std < 1e-6. */
static void test_small_weights_vanish(void **state) {
    (void)state;
    nninit_probe_opts o = nninit_probe_opts_default();
    o.batch = 128;
    o.sgd_steps = 0;
    nninit_layer_init li = init_of(normal(0.01), nninit_spec_default(NNINIT_ZEROS));
    nninit_probe_report r;
    run("256 -> [dense 256 tanh] x20 -> dense 10", &li, &o, &r);
    double ratio = r.layers[19].post_std / r.layers[0].post_std;
    print_message("N(0, 0.01^2) tanh x20: std ratio layer 20 / layer 1 = %.3g\n", ratio);
    assert_true(ratio < 1e-6);
    assert_true(has_finding(&r, NNINIT_FINDING_VANISHING));
    nninit_probe_report_free(&r);
}

/* N(0, 1), tanh: more than 80% of units saturated from layer 2 on. */
static void test_large_weights_saturate(void **state) {
    (void)state;
    nninit_probe_opts o = nninit_probe_opts_default();
    o.batch = 128;
    o.sgd_steps = 0;
    nninit_layer_init li = init_of(normal(1.0), nninit_spec_default(NNINIT_ZEROS));
    nninit_probe_report r;
    run("256 -> [dense 256 tanh] x10 -> dense 10", &li, &o, &r);
    for (int l = 1; l < 10; l++) assert_true(r.layers[l].saturated > 0.8);
    print_message("N(0,1) tanh: layer 2 saturated %.1f%%\n", 100 * r.layers[1].saturated);
    assert_true(has_finding(&r, NNINIT_FINDING_SATURATED));
    nninit_probe_report_free(&r);
}

/* He (kaiming_normal, relu) on 10 ReLU layers: std ratio within [0.5, 2],
 * healthy, chi_1 = 1 (every q is a fixed point of the ReLU-He q map). */
static void test_he_relu_stable(void **state) {
    (void)state;
    nninit_probe_opts o = nninit_probe_opts_default();
    o.batch = 256;
    o.sgd_steps = 0;
    nninit_spec he = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    he.nonlinearity = NNINIT_NL_RELU;
    nninit_layer_init li = init_of(he, nninit_spec_default(NNINIT_ZEROS));
    nninit_probe_report r;
    run("784 -> [dense 256 relu] x10 -> dense 10", &li, &o, &r);
    double ratio = r.layers[9].post_std / r.layers[0].post_std;
    print_message("He relu x10: std ratio %.3f; %s\n", ratio, r.findings[0].text);
    assert_true(ratio >= 0.5 && ratio <= 2.0);
    assert_int_equal(r.n_findings, 1);
    assert_true(has_finding(&r, NNINIT_FINDING_HEALTHY));
    /* the healthy line says what it checked */
    assert_non_null(strstr(r.findings[0].text, "per layer"));
    assert_non_null(strstr(r.findings[0].text, "dead"));
    assert_true(r.mean_field);
    assert_float_equal(r.chi1, 1.0, 1e-6);
    assert_false(r.q_unbounded);
    nninit_probe_report_free(&r);
}

static const nninit_finding *find(const nninit_probe_report *r, nninit_finding_kind k) {
    for (int i = 0; i < r->n_findings; i++)
        if (r->findings[i].kind == k) return &r->findings[i];
    return NULL;
}

/* The probe at the CLI's defaults (Gaussian input, batch 256, 10 SGD steps)
 * on "784 -> [dense W ACT] xD -> dense 10" with init text. */
static void probe_text(const char *act, int width, int depth, const char *init, nninit_probe_report *r) {
    char arch[128];
    snprintf(arch, sizeof arch, "784 -> [dense %d %s] x%d -> dense 10", width, act, depth);
    nninit_layer_init li;
    const nninit_layer_init *d;
    assert_int_equal(cli_default_init(init, NULL, &li, &d), 0);
    nninit_probe_opts o = nninit_probe_opts_default();
    run(arch, &li, &o, r);
}

static void show(const char *what, const nninit_probe_report *r) {
    print_message("%s:\n", what);
    for (int i = 0; i < r->n_findings; i++)
        print_message("  %s%s: %s -> %s\n", nninit_finding_name(r->findings[i].kind),
                      r->findings[i].theory ? " (mean field)" : "", r->findings[i].text, r->findings[i].advice);
}

/* relu x3, N(0, 1): std grows ~11x per layer, loss at init 7e4: loss and
 * exploding findings, never healthy; no finite fixed point. */
static void test_repro_relu_normal1(void **state) {
    (void)state;
    nninit_probe_report r;
    probe_text("relu", 256, 3, "normal(std=1)", &r);
    show("relu x3 normal(1)", &r);
    const nninit_finding *f = find(&r, NNINIT_FINDING_LOSS);
    assert_non_null(f);
    assert_true(f->value > 1e4);
    assert_non_null(strstr(f->text, "ln(10)"));
    assert_non_null(find(&r, NNINIT_FINDING_EXPLODING));
    assert_null(find(&r, NNINIT_FINDING_HEALTHY));
    assert_non_null(strstr(find(&r, NNINIT_FINDING_EXPLODING)->advice, "kaiming_normal(nonlinearity=relu)"));
    assert_true(r.mean_field && r.q_unbounded);
    assert_float_equal(r.q_growth, 128.0, 1e-6); /* sw2 / 2 = 256 / 2 */
    nninit_probe_report_free(&r);
}

/* relu x3 and tanh x4 (width 64) with N(0, 0.01^2): ~9x and ~12x smaller per
 * layer: vanishing at three and four layers already. */
static void test_repro_small_shallow(void **state) {
    (void)state;
    nninit_probe_report r;
    probe_text("relu", 256, 3, "normal(std=0.01)", &r);
    show("relu x3 normal(0.01)", &r);
    const nninit_finding *f = find(&r, NNINIT_FINDING_VANISHING);
    assert_non_null(f);
    assert_true(r.act_rate < 0.15);
    assert_non_null(strstr(f->advice, "kaiming_normal(nonlinearity=relu)"));
    assert_null(find(&r, NNINIT_FINDING_HEALTHY));
    nninit_probe_report_free(&r);
    probe_text("tanh", 64, 4, "normal(std=0.01)", &r);
    show("tanh x4 w64 normal(0.01)", &r);
    f = find(&r, NNINIT_FINDING_VANISHING);
    assert_non_null(f);
    assert_non_null(strstr(f->advice, "xavier_normal"));
    assert_null(find(&r, NNINIT_FINDING_HEALTHY));
    nninit_probe_report_free(&r);
}

/* gelu x10 xavier: q* = 0, chi_1 = 0.25: vanishing, and the advice is the
 * mean field's critical sigma_w^2 for gelu as a ready init string. gelu x30
 * kaiming: vanishing too (ratio 0.005 measured). */
static void test_repro_gelu(void **state) {
    (void)state;
    nninit_probe_report r;
    probe_text("gelu", 256, 10, "xavier_normal", &r);
    show("gelu x10 xavier", &r);
    assert_true(r.mean_field);
    assert_true(r.qstar == 0.0);
    assert_float_equal(r.chi1, 0.25, 1e-9);
    const nninit_finding *f = find(&r, NNINIT_FINDING_VANISHING);
    assert_non_null(f);
    assert_null(find(&r, NNINIT_FINDING_HEALTHY));
    assert_non_null(strstr(f->advice, "variance_scaling(scale=2.35"));
    assert_non_null(strstr(f->advice, "He's 2"));
    nninit_probe_report_free(&r);
    probe_text("gelu", 256, 30, "kaiming_normal", &r);
    show("gelu x30 kaiming", &r);
    assert_non_null(find(&r, NNINIT_FINDING_VANISHING));
    assert_true(r.act_factor < 0.05);
    nninit_probe_report_free(&r);
}

/* selu x30 with kaiming_normal (sigma_w^2 = 2): no fixed point, q grows
 * x1.104 per layer; the probe must not call it healthy, and advises LeCun. */
static void test_repro_selu_kaiming(void **state) {
    (void)state;
    nninit_probe_report r;
    probe_text("selu", 256, 30, "kaiming_normal", &r);
    show("selu x30 kaiming", &r);
    assert_null(find(&r, NNINIT_FINDING_HEALTHY));
    const nninit_finding *f = find(&r, NNINIT_FINDING_EXPLODING);
    assert_non_null(f);
    assert_non_null(strstr(f->advice, "lecun_normal"));
    assert_true(r.q_unbounded);
    assert_float_equal(r.q_growth, 1.104, 0.002);
    nninit_probe_report_free(&r);
}

/* relu x30 He: dead units (42% at layer 30) and correlation collapse (c
 * from 0 to 0.97): both reported; the advice is about depth, not scale. */
static void test_repro_relu30_dead_collapse(void **state) {
    (void)state;
    nninit_probe_report r;
    probe_text("relu", 256, 30, "kaiming_normal(nonlinearity=relu)", &r);
    show("relu x30 He", &r);
    assert_null(find(&r, NNINIT_FINDING_HEALTHY));
    const nninit_finding *d = find(&r, NNINIT_FINDING_DEAD), *c = find(&r, NNINIT_FINDING_COLLAPSE);
    assert_non_null(d);
    assert_non_null(c);
    assert_true(d->value > 0.3);
    assert_true(c->value > 0.95);
    assert_non_null(strstr(d->advice, "residual"));
    assert_non_null(strstr(c->advice, "residual"));
    assert_true(r.layers[29].distinct_units_init < 200);
    nninit_probe_report_free(&r);
}

/* Mean of q_meas over seeds (the mean field predicts the ensemble). */
static void seed_average(const char *arch, const char *init, int seeds, double *q, double *qp, double *g, double *gp,
                         int *n) {
    nninit_layer_init li;
    const nninit_layer_init *d;
    assert_int_equal(cli_default_init(init, NULL, &li, &d), 0);
    for (int s = 0; s < seeds; s++) {
        nninit_probe_opts o = nninit_probe_opts_default();
        o.sgd_steps = 0;
        o.seed = (uint64_t)s;
        nninit_probe_report r;
        run(arch, &li, &o, &r);
        assert_true(r.mean_field);
        *n = r.n_layers;
        for (int l = 0; l < r.n_layers; l++) {
            q[l] += r.layers[l].q_meas / seeds;
            g[l] += r.layers[l].grad_var_meas_ratio / seeds;
            qp[l] = r.layers[l].q_pred;
            gp[l] = r.layers[l].grad_var_pred_ratio;
        }
        nninit_probe_report_free(&r);
    }
}

/* Mean field with each layer's own parameter, at width 1000: the predicted
 * q^l within 5% of the measured one (averaged over 3 seeds), gradient
 * variance ratios within 10%, for leaky_relu(0.5), leaky_relu(0.2),
 * elu(0.5), elu(2); and the default slopes give different predictions. */
static void test_mean_field_parameters(void **state) {
    (void)state;
    static const struct {
        const char *act, *init;
    } c[] = {{"leaky_relu(0.5)", "kaiming_normal(nonlinearity=leaky_relu,a=0.5)"},
             {"leaky_relu(0.2)", "kaiming_normal(nonlinearity=leaky_relu,a=0.2)"},
             {"elu(0.5)", "kaiming_normal"},
             {"elu(2)", "xavier_normal"}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char arch[128];
        snprintf(arch, sizeof arch, "1000 -> [dense 1000 %s] x8 -> dense 10", c[i].act);
        double q[16] = {0}, qp[16], g[16] = {0}, gp[16];
        int n = 0;
        seed_average(arch, c[i].init, 3, q, qp, g, gp, &n);
        double qe = 0, ge = 0;
        for (int l = 0; l + 1 < n; l++) {
            qe = fmax(qe, fabs(q[l] / qp[l] - 1));
            ge = fmax(ge, fabs(g[l] / gp[l] - 1));
        }
        print_message("%-16s %-48s max |q/q pred - 1| %.3f, max |grad ratio / pred - 1| %.3f\n", c[i].act, c[i].init,
                      qe, ge);
        assert_true(qe < 0.05);
        assert_true(ge < 0.10);
    }
    /* leaky_relu(0.5) vs (0.01), elu(0.5) vs elu(2): different predictions */
    const char *pairs[2][2] = {{"leaky_relu(0.5)", "leaky_relu(0.01)"}, {"elu(0.5)", "elu(2)"}};
    for (int i = 0; i < 2; i++) {
        double qa = 0, qb = 0;
        for (int k = 0; k < 2; k++) {
            nninit_probe_report r;
            probe_text(pairs[i][k], 256, 4, "kaiming_normal", &r);
            *(k ? &qb : &qa) = r.layers[3].q_pred;
            nninit_probe_report_free(&r);
        }
        print_message("%s q^4 pred %.4g, %s %.4g\n", pairs[i][0], qa, pairs[i][1], qb);
        assert_true(fabs(qa / qb - 1) > 0.1);
    }
}

/* leaky_relu(0.5) x8: with He for the slope the prediction follows the
 * measured q (1.6 at every layer) and the net is healthy; with N(0, 0.01^2)
 * the advice names the slope, and following it gives a healthy net; plain
 * kaiming_normal (slope 0) grows 1.25x per layer in variance. */
static void test_repro_leaky_advice(void **state) {
    (void)state;
    nninit_probe_report r;
    probe_text("leaky_relu(0.5)", 256, 8, "kaiming_normal(nonlinearity=leaky_relu,a=0.5)", &r);
    show("leaky(0.5) x8 kaiming a=0.5", &r);
    for (int l = 0; l < 8; l++) {
        /* one draw at width 256: ~sqrt(2/256) = 9% finite-width spread per layer */
        assert_true(r.layers[l].q_pred > 1.55 && r.layers[l].q_pred < 1.65);
        double e = fabs(r.layers[l].q_meas / r.layers[l].q_pred - 1);
        if (e >= 0.15) print_error("layer %d: q %.4g, predicted %.4g\n", l + 1, r.layers[l].q_meas, r.layers[l].q_pred);
        assert_true(e < 0.15);
    }
    assert_float_equal(r.chi1, 1.0, 1e-9);
    assert_true(has_finding(&r, NNINIT_FINDING_HEALTHY));
    nninit_probe_report_free(&r);
    probe_text("leaky_relu(0.5)", 256, 8, "normal(std=0.01)", &r);
    show("leaky(0.5) x8 normal(0.01)", &r);
    const nninit_finding *f = find(&r, NNINIT_FINDING_VANISHING);
    assert_non_null(f);
    const char *want = "kaiming_normal(nonlinearity=leaky_relu,a=0.5)";
    assert_non_null(strstr(f->advice, want));
    nninit_probe_report_free(&r);
    probe_text("leaky_relu(0.5)", 256, 8, want, &r); /* the advice, literally */
    assert_true(has_finding(&r, NNINIT_FINDING_HEALTHY));
    nninit_probe_report_free(&r);
    probe_text("leaky_relu(0.5)", 256, 8, "kaiming_normal", &r);
    show("leaky(0.5) x8 kaiming (slope 0)", &r);
    assert_null(find(&r, NNINIT_FINDING_HEALTHY));
    assert_float_equal(r.q_growth, 1.25, 1e-9);
    assert_non_null(strstr(r.findings[0].advice, want));
    nninit_probe_report_free(&r);
}

/* A zero init is covered by the mean field (q = sigma_b^2 = 0); conv and
 * residual nets say why they are not predicted. */
static void test_mean_field_notes(void **state) {
    (void)state;
    nninit_probe_opts o = nninit_probe_opts_default();
    o.sgd_steps = 1;
    nninit_layer_init z = init_of(nninit_spec_default(NNINIT_ZEROS), nninit_spec_default(NNINIT_ZEROS));
    nninit_probe_report r;
    run("32 -> [dense 16 tanh] x3 -> dense 10", &z, &o, &r);
    assert_true(r.mean_field);
    assert_true(r.layers[1].q_pred == 0.0);
    assert_true(r.chi1 == 0.0);
    nninit_probe_report_free(&r);
    run("1x8x8 -> conv 4 3x3 p1 relu -> flatten -> dense 10", NULL, &o, &r);
    assert_false(r.mean_field);
    assert_non_null(strstr(r.mf_note, "conv"));
    nninit_probe_report_free(&r);
    run("32 -> dense 16 relu -> [res dense relu he-zero] x2 -> dense 10", NULL, &o, &r);
    assert_false(r.mean_field);
    assert_non_null(strstr(r.mf_note, "residual"));
    nninit_probe_report_free(&r);
    nninit_spec one = nninit_spec_default(NNINIT_CONSTANT);
    one.value = 0.1;
    nninit_layer_init c = init_of(one, nninit_spec_default(NNINIT_ZEROS));
    run("32 -> [dense 16 tanh] x2 -> dense 10", &c, &o, &r);
    assert_false(r.mean_field);
    assert_non_null(strstr(r.mf_note, "zero-mean"));
    nninit_probe_report_free(&r);
}

/* The shared histogram axis: one range for every hidden layer, and each
 * layer's shared histogram sums to 1; a vanishing net piles deep layers
 * into the bin(s) around 0. */
static void test_shared_histograms(void **state) {
    (void)state;
    nninit_probe_report r;
    probe_text("tanh", 128, 10, "normal(std=0.01)", &r);
    assert_true(r.hist_shared_lo < 0 && r.hist_shared_hi > 0);
    for (int l = 0; l < 10; l++) {
        double s = 0, mx = 0; /* mx: the fullest two neighbouring bins (0 may sit on a bin edge) */
        for (int b = 0; b < 40; b++) s += r.layers[l].shist[b];
        for (int b = 0; b + 1 < 40; b++) mx = fmax(mx, r.layers[l].shist[b] + r.layers[l].shist[b + 1]);
        assert_float_equal(s, 1.0, 1e-9);
        if (l >= 2) assert_true(mx > 0.99); /* a spike */
    }
    nninit_probe_report_free(&r);
}

/* Edge cases a review found: float overflow (once a segfault in the shared
 * histogram), LSUV after a given init, biases with a mean, an exactly
 * critical orthogonal init read off its draws, sigmoid advice, a net without
 * hidden layers, tiny batches, activations that underflow. */
static void test_edge_cases(void **state) {
    (void)state;
    nninit_probe_report r;
    probe_text("relu", 256, 40, "normal(std=1)", &r); /* overflows float by layer 36 */
    const nninit_finding *f = find(&r, NNINIT_FINDING_EXPLODING);
    assert_non_null(f);
    assert_non_null(strstr(r.findings[0].text, "overflow float"));
    assert_null(find(&r, NNINIT_FINDING_VANISHING));
    assert_null(find(&r, NNINIT_FINDING_SYMMETRIC));
    for (int b = 0, l = 39; b < 40; b++) assert_true(isfinite(r.layers[l].shist[b]));
    nninit_probe_report_free(&r);

    nninit_probe_opts o = nninit_probe_opts_default();
    o.lsuv = 1;
    o.sgd_steps = 0;
    nninit_layer_init li = init_of(normal(0.01), nninit_spec_default(NNINIT_ZEROS));
    run("784 -> [dense 256 tanh] x10 -> dense 10", &li, &o, &r); /* LSUV rescales: q = 1 everywhere */
    assert_true(r.mean_field);
    for (int l = 1; l < 10; l++) assert_true(fabs(r.layers[l].q_pred / r.layers[l].q_meas - 1) < 0.2);
    assert_null(find(&r, NNINIT_FINDING_VANISHING));
    nninit_probe_report_free(&r);

    o = nninit_probe_opts_default();
    nninit_spec he = nninit_spec_default(NNINIT_KAIMING_NORMAL), minus = nninit_spec_default(NNINIT_CONSTANT);
    minus.value = -1;
    li = init_of(he, minus);
    run("784 -> [dense 256 relu] x3 -> dense 10", &li, &o, &r);
    assert_false(r.mean_field);
    assert_non_null(strstr(r.mf_note, "biases have mean"));
    f = find(&r, NNINIT_FINDING_DEAD);
    assert_non_null(f);
    assert_non_null(strstr(f->advice, "--bias zeros"));
    nninit_probe_report_free(&r);

    probe_text("relu", 256, 6, "orthogonal(gain=1.4142135623730951)", &r);
    assert_true(r.mean_field);
    assert_true(r.qstar > 1); /* q is preserved, not "dies out" */
    assert_true(has_finding(&r, NNINIT_FINDING_HEALTHY));
    nninit_probe_report_free(&r);

    probe_text("sigmoid", 256, 6, "kaiming_normal", &r);
    f = find(&r, NNINIT_FINDING_VANISHING);
    assert_non_null(f);
    assert_non_null(strstr(f->advice, "switch to tanh"));
    nninit_probe_report_free(&r);

    probe_text("selu", 256, 40, "lecun_normal", &r); /* mildly chaotic by design: not a finding */
    assert_null(find(&r, NNINIT_FINDING_CHAOS));
    nninit_probe_report_free(&r);

    o = nninit_probe_opts_default();
    run("784 -> dense 10", NULL, &o, &r);
    assert_true(has_finding(&r, NNINIT_FINDING_HEALTHY));
    assert_null(strstr(r.findings[0].text, "nan"));
    nninit_probe_report_free(&r);

    o.batch = 4; /* a live unit is zero on 4 inputs by chance 1/16: not "dead" */
    li = init_of(he, nninit_spec_default(NNINIT_ZEROS));
    run("784 -> [dense 256 relu] x3 -> dense 10", &li, &o, &r);
    assert_null(find(&r, NNINIT_FINDING_DEAD));
    nninit_probe_report_free(&r);

    o = nninit_probe_opts_default();
    o.batch = 32;
    li = init_of(normal(0.01), nninit_spec_default(NNINIT_ZEROS));
    run("64 -> [dense 64 tanh] x120 -> dense 10", &li, &o, &r); /* underflows to 0: vanishing, not symmetric */
    assert_non_null(find(&r, NNINIT_FINDING_VANISHING));
    assert_null(find(&r, NNINIT_FINDING_SYMMETRIC));
    nninit_probe_report_free(&r);
}

/* Distinct units: the sorted-by-sum search counts exactly what the greedy
 * comparison against every representative counts. 40 prototypes, each
 * copied 6 times with relative perturbations below the tolerance, plus exact
 * copies, a NaN vector (close to nothing) and zero vectors. */
static void test_distinct_count(void **state) {
    (void)state;
    enum {
        P = 40,
        C = 6,
        LEN = 32,
        N = P * C + 3
    };
    static float x[N * LEN];
    uint32_t key[2] = {7, 9}, w[4];
    for (int p = 0; p < P; p++)
        for (int k = 0; k < LEN; k++) {
            const uint32_t ctr[4] = {(uint32_t)p, (uint32_t)k, 0, 0};
            nninit__philox4x32_10(ctr, key, w);
            float v = (float)((double)w[0] / 4294967296.0 - 0.5);
            for (int c = 0; c < C; c++) {
                float eps = c == 0 ? 0.0f : (float)(((double)w[1 + c % 3] / 4294967296.0 - 0.5) * 1e-7);
                x[(p * C + c) * LEN + k] = v * (1.0f + eps);
            }
        }
    for (int k = 0; k < LEN; k++) {
        x[(P * C) * LEN + k] = k == 3 ? NAN : 1.0f;
        x[(P * C + 1) * LEN + k] = 0.0f;
        x[(P * C + 2) * LEN + k] = 0.0f;
    }
    /* vectors are rows: element k of vector i at x[i * LEN + k] */
    assert_int_equal(nninit__probe_distinct(x, N, LEN, LEN, 1, 1e-6), P + 2);
    /* tolerance 0: only bit-equal vectors merge; a perturbation of 1e-7 may
     * round away in float, so the count lies between P + 2 and N - 1 */
    int exact = nninit__probe_distinct(x, N, LEN, LEN, 1, 0.0);
    assert_true(exact >= P + 2 && exact <= N - 1);
    /* the same vectors as columns (units of a batch: stride 1 between units) */
    static float t[N * LEN];
    for (int i = 0; i < N; i++)
        for (int k = 0; k < LEN; k++) t[k * N + i] = x[i * LEN + k];
    assert_int_equal(nninit__probe_distinct(t, N, LEN, 1, N, 1e-6), P + 2);
    assert_int_equal(nninit__probe_distinct(t, N, LEN, 1, N, 0.0), exact);
}

static int n_progress;
static void count_progress(void *ctx, const char *stage, int done, int total) {
    (void)ctx, (void)done;
    assert_non_null(stage);
    assert_true(total >= 1);
    n_progress++;
}

static void test_progress_callback(void **state) {
    (void)state;
    nninit_probe_opts o = nninit_probe_opts_default();
    o.sgd_steps = 3;
    o.progress = count_progress;
    nninit_probe_report r;
    run("16 -> [dense 8 tanh] x2 -> dense 4", NULL, &o, &r);
    assert_true(n_progress >= 3 + 3 + 4); /* sgd steps, stages, layers */
    nninit_probe_report_free(&r);
}

/* Width-1000 tanh net at sigma_w^2 = 4, sigma_b^2 = 0.05 (q* = 2.196): measured
 * q^l within 5% of the fixed point q* for l >= 10. In the chaotic phase the
 * batch's representations stay decorrelated, so one network's q averages over
 * the batch; in the ordered phase (sigma_w^2 = 1.5) the representations of a
 * deep layer are strongly correlated and one network's q^l wanders about 5%
 * around q* (measured: up to 7.4% at seed 0) -- the finite-width fluctuation
 * sqrt(2/N) of a single weight draw, which mean-field theory averages away. */
static void test_mean_field_qstar(void **state) {
    (void)state;
    nninit_probe_opts o = nninit_probe_opts_default();
    o.batch = 256;
    o.sgd_steps = 0;
    nninit_layer_init li = init_of(normal(sqrt(4.0 / 1000)), normal(sqrt(0.05)));
    nninit_probe_report r;
    run("1000 -> [dense 1000 tanh] x20 -> dense 10", &li, &o, &r);
    assert_true(r.mean_field);
    assert_float_equal(r.sw2, 4.0, 1e-9);
    assert_float_equal(r.qstar, 2.196, 0.0015);
    assert_float_equal(r.chi1, 1.342, 0.0005);
    assert_float_equal(r.sb2, 0.05, 1e-9);
    for (int l = 9; l < 20; l++) {
        double rel = fabs(r.layers[l].q_meas / r.qstar - 1);
        if (rel >= 0.05) print_error("layer %d: q %.4g vs q* %.4g\n", l + 1, r.layers[l].q_meas, r.qstar);
        assert_true(rel < 0.05);
        assert_true(fabs(r.layers[l].q_pred / r.qstar - 1) < 1e-3);
    }
    print_message("tanh sw2 4: q* %.4f, q^20 measured %.4f, chi_1 %.4f\n", r.qstar, r.layers[19].q_meas, r.chi1);
    nninit_probe_report_free(&r);
}

/* ReLU-He from orthogonal inputs: the correlation follows the arc-cosine map. */
static void test_relu_correlation(void **state) {
    (void)state;
    nninit_probe_opts o = nninit_probe_opts_default();
    o.batch = 16;
    o.sgd_steps = 0;
    o.pair_corr = 0.0;
    nninit_spec he = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    he.nonlinearity = NNINIT_NL_RELU;
    nninit_layer_init li = init_of(he, nninit_spec_default(NNINIT_ZEROS));
    nninit_probe_report r;
    run("2000 -> [dense 2000 relu] x5 -> dense 10", &li, &o, &r);
    /* c^1 of the pre-activations is the input correlation (near 0); the
     * ReLU map then gives 0.318 at layer 2's pre-activation, and rising. */
    /* the pair is made exactly orthogonal; the first layer's pre-activations
     * of width 2000 keep that up to ~1/sqrt(2000) */
    assert_float_equal(r.layers[0].corr_meas, 0.0, 0.1);
    assert_true(r.layers[0].corr_pred == 0.0 || fabs(r.layers[0].corr_pred) < 1e-6);
    assert_float_equal(r.layers[1].corr_pred, 1.0 / 3.14159265358979, 0.005);
    for (int l = 0; l < 5; l++) {
        print_message("layer %d: c %.3f predicted %.3f\n", l + 1, r.layers[l].corr_meas, r.layers[l].corr_pred);
        assert_float_equal(r.layers[l].corr_meas, r.layers[l].corr_pred, 0.08);
    }
    nninit_probe_report_free(&r);
}

/* N(0, 1) on ReLU layers of width 256: each layer multiplies the scale by
 * about sqrt(256/2) = 11, so the activations explode. */
static void test_large_relu_explodes(void **state) {
    (void)state;
    nninit_probe_opts o = nninit_probe_opts_default();
    o.batch = 64;
    o.sgd_steps = 0;
    nninit_layer_init li = init_of(normal(1.0), nninit_spec_default(NNINIT_ZEROS));
    nninit_probe_report r;
    run("256 -> [dense 256 relu] x6 -> dense 10", &li, &o, &r);
    assert_true(r.layers[5].post_std / r.layers[0].post_std > 1e3);
    assert_true(has_finding(&r, NNINIT_FINDING_EXPLODING));
    nninit_probe_report_free(&r);
}

/* Small weights and a negative bias: every ReLU unit is zero on the batch. */
static void test_dead_relu(void **state) {
    (void)state;
    nninit_probe_opts o = nninit_probe_opts_default();
    o.batch = 64;
    o.sgd_steps = 0;
    nninit_spec bias = nninit_spec_default(NNINIT_CONSTANT);
    bias.value = -1.0;
    nninit_layer_init li = init_of(normal(0.001), bias);
    nninit_probe_report r;
    run("64 -> [dense 64 relu] x2 -> dense 10", &li, &o, &r);
    assert_true(r.layers[0].dead > 0.99);
    assert_true(has_finding(&r, NNINIT_FINDING_DEAD));
    nninit_probe_report_free(&r);
}

/* LSUV: every weighted layer's pre-activation variance within tol of 1. */
static void test_lsuv(void **state) {
    (void)state;
    nninit_probe_opts o = nninit_probe_opts_default();
    o.batch = 256;
    o.sgd_steps = 0;
    o.lsuv = 1;
    o.lsuv_tol = 0.02;
    nninit_layer_init li = init_of(nninit_spec_default(NNINIT_ORTHOGONAL), nninit_spec_default(NNINIT_ZEROS));
    nninit_probe_report r;
    run("256 -> [dense 128 tanh] x8 -> dense 10", &li, &o, &r);
    for (int l = 0; l < 9; l++) {
        print_message("lsuv layer %d: %d iterations, var %.4f\n", l + 1, r.layers[l].lsuv_iters, r.layers[l].lsuv_var);
        assert_true(fabs(r.layers[l].lsuv_var - 1.0) < 0.02);
    }
    nninit_probe_report_free(&r);
}

/* opts.threads holds for the call only: OpenBLAS's process-wide count is the
 * caller's again afterwards, on success and on failure. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
static void test_threads_restored(void **state) {
    (void)state;
    openblas_set_num_threads(2);
    int before = openblas_get_num_threads();
    nninit_probe_opts o = nninit_probe_opts_default();
    o.threads = 1;
    nninit_probe_report r;
    run("8 -> dense 4 tanh -> dense 2", NULL, &o, &r);
    nninit_probe_report_free(&r);
    assert_int_equal(openblas_get_num_threads(), before);
    nninit_arch *a = parse("784 -> dense 4 tanh -> dense 10");
    o.input = NNINIT_INPUT_FASHION;
    o.data_dir = "/nonexistent";
    assert_int_equal(nninit_probe_run(a, NULL, &o, &r), NNINIT_ERR_IO);
    assert_int_equal(openblas_get_num_threads(), before);
    free(a);
}

static void test_errors(void **state) {
    (void)state;
    nninit_probe_report r;
    nninit_probe_opts o = nninit_probe_opts_default();
    assert_int_equal(nninit_probe_run(NULL, NULL, &o, &r), NNINIT_ERR_NULL);
    nninit_arch *a = parse("8 -> dense 4 tanh -> dense 2");
    o.batch = 1;
    assert_int_equal(nninit_probe_run(a, NULL, &o, &r), NNINIT_ERR_PARAM);
    o = nninit_probe_opts_default();
    o.pair_corr = 2;
    assert_int_equal(nninit_probe_run(a, NULL, &o, &r), NNINIT_ERR_PARAM);
    free(a);
    a = parse("784 -> dense 4 tanh -> dense 10");
    o = nninit_probe_opts_default();
    o.input = NNINIT_INPUT_FASHION;
    o.data_dir = "/nonexistent";
    assert_int_equal(nninit_probe_run(a, NULL, &o, &r), NNINIT_ERR_IO);
    assert_non_null(strstr(nninit_last_error(), "/nonexistent"));
    free(a);
}

/* The caller's batch: the same Gaussian inputs and labels the probe would
 * draw itself give the same report, bit for bit; bad labels are refused. */
static void test_caller_inputs(void **state) {
    (void)state;
    enum {
        B = 64,
        D = 32,
        K = 10
    };
    static float x[B * D];
    static int y[B];
    assert_int_equal(nninit_inputs_gaussian(x, B, D, 9), NNINIT_OK);
    uint32_t key[2], w[4];
    nninit_key_philox(nninit_key_from_name(9, "inputs.labels"), key);
    for (int b = 0; b < B; b++) {
        const uint32_t ctr[4] = {(uint32_t)b, 0, 0, 0};
        nninit__philox4x32_10(ctr, key, w);
        y[b] = (int)(((uint64_t)w[0] * K) >> 32);
    }
    const char *arch = "32 -> [dense 16 tanh] x3 -> dense 10";
    nninit_probe_opts o = nninit_probe_opts_default();
    o.batch = B, o.seed = 9;
    nninit_probe_report a, c;
    run(arch, NULL, &o, &a);
    o.input = NNINIT_INPUT_CALLER, o.x = x, o.y = y;
    run(arch, NULL, &o, &c);
    assert_memory_equal(&a.loss, &c.loss, sizeof a.loss);
    for (int l = 0; l < a.n_layers; l++) {
        assert_memory_equal(&a.layers[l].post_std, &c.layers[l].post_std, sizeof(double));
        assert_memory_equal(&a.layers[l].grad_std, &c.layers[l].grad_std, sizeof(double));
    }
    nninit_probe_report_free(&a);
    nninit_probe_report_free(&c);
    nninit_arch *ar = parse(arch);
    y[3] = 10;
    assert_int_equal(nninit_probe_run(ar, NULL, &o, &c), NNINIT_ERR_PARAM);
    o.x = NULL;
    assert_int_equal(nninit_probe_run(ar, NULL, &o, &c), NNINIT_ERR_NULL);
    free(ar);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caller_inputs),
        cmocka_unit_test(test_zero_init_symmetric),
        cmocka_unit_test(test_small_weights_vanish),
        cmocka_unit_test(test_large_weights_saturate),
        cmocka_unit_test(test_he_relu_stable),
        cmocka_unit_test(test_threads_restored),
        cmocka_unit_test(test_mean_field_qstar),
        cmocka_unit_test(test_relu_correlation),
        cmocka_unit_test(test_large_relu_explodes),
        cmocka_unit_test(test_dead_relu),
        cmocka_unit_test(test_lsuv),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_repro_relu_normal1),
        cmocka_unit_test(test_repro_small_shallow),
        cmocka_unit_test(test_repro_gelu),
        cmocka_unit_test(test_repro_selu_kaiming),
        cmocka_unit_test(test_repro_relu30_dead_collapse),
        cmocka_unit_test(test_mean_field_parameters),
        cmocka_unit_test(test_repro_leaky_advice),
        cmocka_unit_test(test_mean_field_notes),
        cmocka_unit_test(test_shared_histograms),
        cmocka_unit_test(test_progress_callback),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_distinct_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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
#include "io/idx.h"
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

/* He (kaiming_normal, relu) on 30 ReLU layers: std ratio within [0.5, 2]. */
static void test_he_relu_stable(void **state) {
    (void)state;
    nninit_probe_opts o = nninit_probe_opts_default();
    o.batch = 256;
    o.sgd_steps = 0;
    nninit_spec he = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    he.nonlinearity = NNINIT_NL_RELU;
    nninit_layer_init li = init_of(he, nninit_spec_default(NNINIT_ZEROS));
    nninit_probe_report r;
    run("256 -> [dense 256 relu] x30 -> dense 10", &li, &o, &r);
    double ratio = r.layers[29].post_std / r.layers[0].post_std;
    print_message("He relu x30: std ratio %.3f\n", ratio);
    assert_true(ratio >= 0.5 && ratio <= 2.0);
    assert_true(has_finding(&r, NNINIT_FINDING_HEALTHY));
    /* mean field for ReLU-He: chi_1 = 1 */
    assert_true(r.mean_field);
    assert_float_equal(r.chi1, 1.0, 1e-6);
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
    enum { B = 64, D = 32, K = 10 };
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
        cmocka_unit_test(test_zero_init_symmetric), cmocka_unit_test(test_small_weights_vanish),
        cmocka_unit_test(test_large_weights_saturate), cmocka_unit_test(test_he_relu_stable),
        cmocka_unit_test(test_mean_field_qstar), cmocka_unit_test(test_relu_correlation),
        cmocka_unit_test(test_large_relu_explodes), cmocka_unit_test(test_dead_relu),
        cmocka_unit_test(test_lsuv), cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

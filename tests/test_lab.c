/* test_lab.c -- the lab: verdicts computed from checks, every experiment's
 * code path on a tiny subset, and a prediction that fails reported as failed.
 * Needs Debian's dataset-fashion-mnist. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lab.h"

static lab_data data;

static int setup(void **state) {
    (void)state;
    return lab_data_load(NULL, 2000, 1000, 0, &data) == NNINIT_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    lab_data_free(&data);
    return 0;
}

static lab_ctx tiny_ctx(void) {
    lab_ctx c = {LAB_TINY, 0, &data, 2, NULL, NULL, NULL, 1};
    return c;
}

static void test_verdicts(void **state) {
    (void)state;
    lab_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(lab_finish(&r), LAB_INCONCLUSIVE); /* no checks: nothing shown */
    assert_int_equal(lab_check(&r, "a", "x < 1", 0.5, LAB_LT, 1, 0, ""), LAB_REPRODUCED);
    assert_int_equal(lab_finish(&r), LAB_REPRODUCED);
    /* within noise of the threshold but on the wrong side: inconclusive */
    assert_int_equal(lab_check(&r, "b", "x > 50", 49, LAB_GT, 50, 2, "%"), LAB_INCONCLUSIVE);
    assert_int_equal(lab_finish(&r), LAB_INCONCLUSIVE);
    /* clearly on the wrong side: not reproduced, whatever else held */
    assert_int_equal(lab_check(&r, "c", "x == 1", 3, LAB_EQ, 1, 0, "units"), LAB_NOT_REPRODUCED);
    assert_int_equal(lab_finish(&r), LAB_NOT_REPRODUCED);
    assert_int_equal(lab_check(&r, "d", "x >= 2", NAN, LAB_GE, 2, 1, ""), LAB_NOT_REPRODUCED);
    assert_int_equal(lab_check(&r, "e", "x <= 2", 2, LAB_LE, 2, 0, ""), LAB_REPRODUCED);
    assert_int_equal(r.n_checks, 5);
    assert_string_equal(r.checks[2].name, "c");
    assert_int_equal(r.checks[2].verdict, LAB_NOT_REPRODUCED);
    assert_string_equal(lab_verdict_name(LAB_NOT_REPRODUCED), "not reproduced");
    assert_string_equal(lab_op_text(LAB_GE), ">=");
    /* an experiment that stopped on an error proves nothing */
    memset(&r, 0, sizeof r);
    lab_check(&r, "a", "x < 1", 0.5, LAB_LT, 1, 0, "");
    r.status = NNINIT_ERR_IO;
    assert_int_equal(lab_finish(&r), LAB_INCONCLUSIVE);
    /* a failing check past the listed ones still decides the verdict */
    memset(&r, 0, sizeof r);
    for (int i = 0; i < LAB_MAX_CHECKS; i++) lab_check(&r, "ok", "x < 1", 0.5, LAB_LT, 1, 0, "");
    assert_int_equal(lab_finish(&r), LAB_REPRODUCED);
    assert_int_equal(lab_check(&r, "late", "x < 1", 5, LAB_LT, 1, 0, ""), LAB_NOT_REPRODUCED);
    assert_int_equal(r.n_checks, LAB_MAX_CHECKS);
    assert_int_equal(lab_finish(&r), LAB_NOT_REPRODUCED);
    assert_non_null(strstr(r.notes, "1 more checks than the report lists"));
    assert_true(lab_acc_noise(0.5, 100, 2.0) > 0.099 && lab_acc_noise(0.5, 100, 2.0) < 0.101);
    assert_true(lab_acc_noise(1.0, 100, 1.0) > 0); /* never zero */
}

static void test_data_subsets(void **state) {
    (void)state;
    assert_int_equal(data.n_train, 2000);
    assert_int_equal(data.n_test, 1000);
    int per[10] = {0};
    for (int i = 0; i < data.n_test; i++) per[data.test_y[i]]++;
    for (int c = 0; c < 10; c++) assert_int_equal(per[c], 100); /* balanced */
    double s = 0, ss = 0;                                       /* standardized with the training split's statistics */
    for (int i = 0; i < data.n_train * data.dim; i++)
        s += data.train_x[i], ss += (double)data.train_x[i] * data.train_x[i];
    double m = s / (data.n_train * (double)data.dim), v = ss / (data.n_train * (double)data.dim) - m * m;
    assert_true(fabs(m) < 0.05 && fabs(v - 1) < 0.1);
    assert_int_equal(lab_train_set(&data, 100).n, 100);
    assert_int_equal(lab_train_set(&data, 0).n, 2000);
}

/* The rule: beyond the noise holds, within it (either side) is
 * inconclusive, == within it holds. */
static void test_rule_beyond_noise(void **state) {
    (void)state;
    assert_int_equal(lab_check_verdict(51, LAB_GT, 50, 2), LAB_INCONCLUSIVE); /* holds, but within noise */
    assert_int_equal(lab_check_verdict(49, LAB_GT, 50, 2), LAB_INCONCLUSIVE);
    assert_int_equal(lab_check_verdict(53, LAB_GT, 50, 2), LAB_REPRODUCED);
    assert_int_equal(lab_check_verdict(47, LAB_GT, 50, 2), LAB_NOT_REPRODUCED);
    assert_int_equal(lab_check_verdict(0.1, LAB_LT, 0.2, 0.05), LAB_REPRODUCED);
    assert_int_equal(lab_check_verdict(0.17, LAB_LE, 0.2, 0.05), LAB_INCONCLUSIVE);
    assert_int_equal(lab_check_verdict(1.5, LAB_EQ, 1, 1), LAB_REPRODUCED); /* == within its noise */
    assert_int_equal(lab_check_verdict(3, LAB_EQ, 1, 1), LAB_NOT_REPRODUCED);
    assert_int_equal(lab_check_verdict(2, LAB_GE, 2, 0), LAB_REPRODUCED); /* noise 0: the plain test */
    assert_int_equal(lab_check_verdict(NAN, LAB_GE, 2, 1), LAB_NOT_REPRODUCED);
}

/* A fake experiment whose measurement is its seed: seeds 0, 1, 2 give mean
 * 1, sd 1, own noise 0.5, so the noise is sqrt(0.25 + (2 / sqrt 3)^2). */
static nninit_status run_seed_is_value(const lab_ctx *ctx, lab_result *r) {
    lab_setup(r, "seed %llu", (unsigned long long)ctx->seed);
    lab_check(r, "value", "x > 0", (double)ctx->seed, LAB_GT, 0, 0.5, "");
    lab_check(r, "exact", "x < 10", (double)ctx->seed, LAB_LT, 10, 0, "");
    return NNINIT_OK;
}
static const lab_experiment exp_seed_is_value = {"fake-seeds", "fake", "a claim long enough to pass", "test",
                                                 run_seed_is_value};

/* A broken experiment: its check's name depends on the seed. */
static nninit_status run_seed_dependent(const lab_ctx *ctx, lab_result *r) {
    lab_check(r, ctx->seed ? "odd" : "even", "x > 0", 1, LAB_GT, 0, 0, "");
    return NNINIT_OK;
}
static const lab_experiment exp_seed_dependent = {"fake-dependent", "fake", "a claim long enough to pass", "test",
                                                  run_seed_dependent};

static void test_seeds(void **state) {
    (void)state;
    lab_ctx ctx = tiny_ctx();
    ctx.n_seeds = 3;
    lab_result r;
    lab_run(&exp_seed_is_value, &ctx, &r);
    assert_int_equal(r.status, NNINIT_OK);
    assert_int_equal(r.n_seeds, 3);
    assert_true(r.seeds[0] == 0 && r.seeds[1] == 1 && r.seeds[2] == 2);
    const lab_check_t *c = &r.checks[0];
    assert_int_equal(c->n_seeds, 3);
    assert_true(c->per_seed[0] == 0 && c->per_seed[1] == 1 && c->per_seed[2] == 2);
    assert_true(fabs(c->measured - 1) < 1e-12 && fabs(c->spread - 1) < 1e-12);
    assert_true(fabs(c->noise - sqrt(0.25 + 4.0 / 3)) < 1e-12);
    assert_int_equal(c->verdict, LAB_INCONCLUSIVE); /* 1 > 0, but not beyond 1.26 */
    /* noise 0 per run: the spread alone, 2 / sqrt 3, and 1 < 10 by far more */
    assert_true(fabs(r.checks[1].noise - 2 / sqrt(3.0)) < 1e-12);
    assert_int_equal(r.checks[1].verdict, LAB_REPRODUCED);
    assert_int_equal(r.verdict, LAB_INCONCLUSIVE);
    assert_non_null(strstr(r.setup, "seed 0")); /* the first seed's text */
    assert_non_null(strstr(r.notes, "mean over 3 seeds (0 to 2)"));
    lab_result_free(&r);
    /* one seed: the run as it is */
    ctx.n_seeds = 1;
    ctx.seed = 4;
    lab_run(&exp_seed_is_value, &ctx, &r);
    assert_int_equal(r.checks[0].verdict, LAB_REPRODUCED);
    assert_int_equal(r.checks[0].n_seeds, 1);
    assert_true(r.checks[0].spread == 0 && r.checks[0].noise == 0.5);
    lab_result_free(&r);
    /* checks that differ between seeds are an error, not a verdict */
    ctx.n_seeds = 2;
    ctx.seed = 0;
    lab_run(&exp_seed_dependent, &ctx, &r);
    assert_int_equal(r.status, NNINIT_ERR_PARAM);
    assert_non_null(strstr(r.error, "other checks"));
    assert_int_equal(r.verdict, LAB_INCONCLUSIVE);
    lab_result_free(&r);
    /* a real experiment over 2 seeds: its own checks, per seed */
    ctx.n_seeds = 2;
    lab_run(lab_find("zero-init"), &ctx, &r);
    assert_int_equal(r.status, NNINIT_OK);
    for (int k = 0; k < r.n_checks; k++) assert_int_equal(r.checks[k].n_seeds, 2);
    lab_result_free(&r);
    /* the machine that decides rounding is known */
    const lab_machine *m = lab_machine_info();
    assert_true(strlen(m->cpu) > 0 && strlen(m->blas) > 0 && strlen(m->blas_core) > 0 && m->blas_threads >= 1);
}

/* leaky-he: with ReLU-He in place of kaiming(a=0.5), "variance kept" must
 * fail (the factor is 1.25, not 1), at the tiny scale too. */
static void test_leaky_he_override_fails(void **state) {
    (void)state;
    lab_ctx ctx = tiny_ctx();
    ctx.override_init = "kaiming_normal(nonlinearity=relu)";
    lab_result r;
    lab_run(lab_find("leaky-he"), &ctx, &r);
    assert_int_equal(r.status, NNINIT_OK);
    assert_string_equal(r.checks[0].name, "leaky, kaiming(a=0.5): variance kept");
    assert_int_equal(r.checks[0].verdict, LAB_NOT_REPRODUCED);
    assert_true(r.checks[0].measured > 0.15);
    assert_int_equal(r.verdict, LAB_NOT_REPRODUCED);
    lab_result_free(&r);
    ctx.override_init = NULL;
    lab_run(lab_find("leaky-he"), &ctx, &r);
    assert_int_equal(r.checks[0].verdict, LAB_REPRODUCED);
    lab_result_free(&r);
}

/* Every experiment in the registry runs to the end on the tiny scale, with
 * checks, a computed verdict consistent with them, a setup and a claim. */
static void test_every_experiment_runs(void **state) {
    (void)state;
    int n;
    const lab_experiment *const *all = lab_experiments(&n);
    assert_true(n >= 11);
    lab_ctx ctx = tiny_ctx();
    for (int i = 0; i < n; i++) {
        lab_result r;
        lab_run(all[i], &ctx, &r);
        if (r.status) print_message("%s: %s\n", all[i]->name, r.error);
        assert_int_equal(r.status, NNINIT_OK);
        assert_true(r.n_checks > 0);
        assert_true(strlen(r.setup) > 0);
        assert_true(strlen(all[i]->claim) > 20 && strlen(all[i]->source) > 5 && strlen(all[i]->title) > 5);
        int fail = 0, inc = 0;
        for (int k = 0; k < r.n_checks; k++) {
            fail |= r.checks[k].verdict == LAB_NOT_REPRODUCED;
            inc |= r.checks[k].verdict == LAB_INCONCLUSIVE;
        }
        assert_int_equal(r.verdict, fail ? LAB_NOT_REPRODUCED : inc ? LAB_INCONCLUSIVE : LAB_REPRODUCED);
        assert_ptr_equal(lab_find(all[i]->name), all[i]);
        print_message("%-14s %-15s %5.1f s, %d checks, %d curves, %d probes, %d plots\n", all[i]->name,
                      lab_verdict_name(r.verdict), r.seconds, r.n_checks, r.n_curves, r.n_probes, r.n_plots);
        lab_result_free(&r);
    }
    assert_null(lab_find("no-such-experiment"));
}

/* A prediction that fails is reported as failed: the zero-init experiment
 * run with random weights in place of its zeros must find distinct units and
 * an accuracy that is not exactly chance, and say "not reproduced". */
static void test_failing_prediction_is_reported(void **state) {
    (void)state;
    lab_ctx ctx = tiny_ctx();
    ctx.override_init = "xavier_normal";
    lab_result r;
    lab_run(lab_find("zero-init"), &ctx, &r);
    assert_int_equal(r.status, NNINIT_OK);
    assert_int_equal(r.verdict, LAB_NOT_REPRODUCED);
    int failed_identical = 0;
    for (int k = 0; k < r.n_checks; k++)
        if (strstr(r.checks[k].name, "identical") && r.checks[k].verdict == LAB_NOT_REPRODUCED) {
            failed_identical++;
            assert_true(r.checks[k].measured > 1); /* many distinct units, measured */
        }
    assert_int_equal(failed_identical, 3); /* tanh, relu, sigmoid */
    lab_result_free(&r);
    /* and the same experiment as published reproduces, at this tiny scale too */
    ctx.override_init = NULL;
    lab_run(lab_find("zero-init"), &ctx, &r);
    assert_int_equal(r.verdict, LAB_REPRODUCED);
    lab_result_free(&r);
}

/* The check of r whose name contains part (NULL when none). */
static const lab_check_t *find_check(const lab_result *r, const char *part) {
    for (int k = 0; k < r->n_checks; k++)
        if (strstr(r->checks[k].name, part)) return &r->checks[k];
    return NULL;
}

/* zero-bias with He weights in place of its zero weights: every layer gets a
 * gradient at step 0, the first one included, and the verdict says so. */
static void test_zero_bias_override_fails(void **state) {
    (void)state;
    lab_ctx ctx = tiny_ctx();
    ctx.override_init = "kaiming_normal(nonlinearity=relu)";
    lab_result r;
    assert_non_null(lab_find("zero-bias"));
    lab_run(lab_find("zero-bias"), &ctx, &r);
    assert_int_equal(r.status, NNINIT_OK);
    assert_int_equal(r.verdict, LAB_NOT_REPRODUCED);
    const lab_check_t *c = find_check(&r, "only the last layer");
    assert_non_null(c);
    assert_int_equal(c->verdict, LAB_NOT_REPRODUCED);
    assert_true(c->measured == 4); /* all four weight layers */
    assert_non_null(c = find_check(&r, "reaches the first layer"));
    assert_int_equal(c->verdict, LAB_NOT_REPRODUCED);
    assert_true(c->measured == 0);
    lab_result_free(&r);
}

/* lr-rescue with Xavier in place of N(0, 0.01^2): the two sweeps are the same
 * runs (same weights, order, options), so every accuracy pairs up exactly and
 * Xavier can beat "the bad init" at no learning rate. */
static void test_lr_rescue_override_fails(void **state) {
    (void)state;
    lab_ctx ctx = tiny_ctx();
    ctx.override_init = "xavier_normal";
    lab_result r;
    assert_non_null(lab_find("lr-rescue"));
    lab_run(lab_find("lr-rescue"), &ctx, &r);
    assert_int_equal(r.status, NNINIT_OK);
    assert_int_equal(r.verdict, LAB_NOT_REPRODUCED);
    assert_int_equal(r.n_curves, 22);
    for (int i = 0; i < 11; i++) {
        const lab_curve *a = &r.curves[i], *b = &r.curves[11 + i];
        assert_int_equal(a->n, b->n);
        assert_memory_equal(&a->points[a->n - 1].test_acc, &b->points[b->n - 1].test_acc, sizeof(double));
    }
    const lab_check_t *c = find_check(&r, "Xavier beats");
    assert_non_null(c);
    assert_true(c->measured == 0);
    assert_int_equal(c->verdict, LAB_NOT_REPRODUCED);
    lab_result_free(&r);
}

/* relu-explode: as published, both readings of N(0, 10) diverge within the
 * epoch and, a ReLU net with zero biases being homogeneous, their per-layer
 * activation factors deviate from the mean field exactly as He's does; with
 * He in their place every prediction about them fails. */
static void test_relu_explode(void **state) {
    (void)state;
    lab_ctx ctx = tiny_ctx();
    lab_result r;
    assert_non_null(lab_find("relu-explode"));
    lab_run(lab_find("relu-explode"), &ctx, &r);
    assert_int_equal(r.status, NNINIT_OK);
    const lab_check_t *he = find_check(&r, "He: activation std"), *v10 = find_check(&r, "variance 10: activation"),
                      *s10 = find_check(&r, "std 10: activation");
    assert_non_null(he), assert_non_null(v10), assert_non_null(s10);
    assert_true(fabs(v10->measured - he->measured) < 1e-3 * fabs(he->measured) + 1e-9);
    assert_true(fabs(s10->measured - he->measured) < 1e-3 * fabs(he->measured) + 1e-9);
    int diverged = 0;
    for (int k = 0; k < r.n_checks; k++)
        if (strstr(r.checks[k].name, "diverges")) {
            diverged++;
            assert_int_equal(r.checks[k].verdict, LAB_REPRODUCED);
            assert_true(r.checks[k].measured >= 1 && r.checks[k].measured <= r.checks[k].threshold);
        }
    assert_int_equal(diverged, 2);
    lab_result_free(&r);

    ctx.override_init = "kaiming_normal(nonlinearity=relu)";
    lab_run(lab_find("relu-explode"), &ctx, &r);
    assert_int_equal(r.status, NNINIT_OK);
    assert_int_equal(r.verdict, LAB_NOT_REPRODUCED);
    int failed = 0;
    for (int k = 0; k < r.n_checks; k++)
        if (strstr(r.checks[k].name, "variance 10") || strstr(r.checks[k].name, "std 10")) {
            failed++;
            assert_int_equal(r.checks[k].verdict, LAB_NOT_REPRODUCED);
        }
    assert_int_equal(failed, 8);
    const lab_check_t *d = find_check(&r, "variance 10: training diverges");
    assert_non_null(d);
    assert_true(d->measured == d->threshold + 1); /* no NaN: one step past the epoch */
    lab_result_free(&r);
}

/* Runs with another seed must give the same checks (name, operator,
 * threshold) in the same order: the lab aggregates them by position. */
static void test_checks_do_not_depend_on_seed(void **state) {
    (void)state;
    static const char *const names[] = {"zero-bias", "relu-explode"};
    for (int e = 0; e < 2; e++) {
        lab_ctx ctx = tiny_ctx();
        lab_result a, b;
        lab_run(lab_find(names[e]), &ctx, &a);
        ctx.seed = 7;
        lab_run(lab_find(names[e]), &ctx, &b);
        assert_int_equal(a.status, NNINIT_OK);
        assert_int_equal(b.status, NNINIT_OK);
        assert_int_equal(a.n_checks, b.n_checks);
        for (int k = 0; k < a.n_checks; k++) {
            assert_string_equal(a.checks[k].name, b.checks[k].name);
            assert_string_equal(a.checks[k].prediction, b.checks[k].prediction);
            assert_int_equal(a.checks[k].op, b.checks[k].op);
            assert_true(a.checks[k].threshold == b.checks[k].threshold);
        }
        lab_result_free(&a);
        lab_result_free(&b);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_rule_beyond_noise),
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_leaky_he_override_fails),
        cmocka_unit_test(test_data_subsets),
        cmocka_unit_test(test_failing_prediction_is_reported),
        cmocka_unit_test(test_zero_bias_override_fails),
        cmocka_unit_test(test_lr_rescue_override_fails),
        cmocka_unit_test(test_relu_explode),
        cmocka_unit_test(test_checks_do_not_depend_on_seed),
        cmocka_unit_test(test_every_experiment_runs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* exp_scaling.c -- He's rule with the activation's own gain: leaky ReLU and
 * ELU nets at depth 30 under kaiming(a = slope) and under plain ReLU-He. */
#include <math.h>
#include <stdio.h>

#include "lab.h"

#define DEPTH 30

/* Test accuracy in percent from the exact count of correct answers. */
static double acc_pct(double acc, int n) {
    if (!isfinite(acc)) return NAN;
    return 100.0 * round(acc * n) / n;
}

/* Per-layer growth of q = E[pre^2] from hidden layer 1 to layer DEPTH: the
 * geometric mean (q_L / q_1)^(1 / (L - 1)), measured or the mean field's. */
static double per_layer(const nninit_probe_report *p, int predicted) {
    if (!p || p->n_layers < DEPTH) return NAN;
    double a = predicted ? p->layers[0].q_pred : p->layers[0].q_meas;
    double b = predicted ? p->layers[DEPTH - 1].q_pred : p->layers[DEPTH - 1].q_meas;
    return pow(b / a, 1.0 / (DEPTH - 1));
}

/* Two standard errors of per_layer()'s log, from the spread of the layers'
 * own log ratios, ln(q_l / q_{l-1}) minus ref's (ref NULL: minus nothing):
 * a factor's noise, relative. */
static double factor_noise(const nninit_probe_report *p, const nninit_probe_report *ref) {
    double d[DEPTH - 1], mean = 0, ss = 0;
    for (int l = 1; l < DEPTH; l++) {
        d[l - 1] = log(p->layers[l].q_meas / p->layers[l - 1].q_meas);
        if (ref) d[l - 1] -= log(ref->layers[l].q_pred / ref->layers[l - 1].q_pred);
        mean += d[l - 1];
    }
    mean /= DEPTH - 1;
    for (int l = 0; l < DEPTH - 1; l++) ss += (d[l] - mean) * (d[l] - mean);
    return 2 * sqrt(ss / (DEPTH - 2)) / sqrt(DEPTH - 1.0);
}

static void plot_q(lab_result *r, const char *title, const nninit_probe_report *const *p, const char *const *labels,
                   int n) {
    lab_plot *pl = lab_plot_add(r, title, "hidden layer", "q = mean of pre-activation^2", 1);
    for (int k = 0; k < n; k++) {
        if (!p[k] || p[k]->n_layers < DEPTH) continue;
        double x[DEPTH], y[DEPTH], yp[DEPTH];
        for (int l = 0; l < DEPTH; l++) x[l] = l + 1, y[l] = p[k]->layers[l].q_meas, yp[l] = p[k]->layers[l].q_pred;
        char lab[64];
        lab_series_add(pl, labels[k], x, y, DEPTH, 0);
        snprintf(lab, sizeof lab, "%s, mean field", labels[k]);
        lab_series_add(pl, lab, x, yp, DEPTH, 1);
    }
}

static nninit_status run_leaky_he(const lab_ctx *ctx, lab_result *r) {
    const double s = 0.5, lr = 0.003;
    /* the probes are cheap (one batch) and their factors scatter as
     * 1/sqrt(width): wider than the trained nets */
    const int width = lab_pick(ctx, 32, 128, 256), pwidth = lab_pick(ctx, 64, 512, 1024);
    const int n_train = lab_pick(ctx, 512, 0, 0);
    const int epochs = 1, n_test = ctx->data->n_test;
    char leaky[64], pleaky[64], elu[64], good[80];
    snprintf(leaky, sizeof leaky, "784 -> [dense %d leaky_relu(%g)] x%d -> dense 10", width, s, DEPTH);
    snprintf(pleaky, sizeof pleaky, "784 -> [dense %d leaky_relu(%g)] x%d -> dense 10", pwidth, s, DEPTH);
    snprintf(elu, sizeof elu, "784 -> [dense %d elu(1)] x%d -> dense 10", pwidth, DEPTH);
    snprintf(good, sizeof good, "kaiming_normal(nonlinearity=leaky_relu,a=%g)", s);
    const char *relu_he = "kaiming_normal(nonlinearity=relu)";
    if (ctx->override_init) snprintf(good, sizeof good, "%s", ctx->override_init);
    lab_setup(r,
              "%s under %s%s (variance 2/((1+a^2) fan_in)) and under %s (2/fan_in); %s under %s; biases zeros. At "
              "init, at width %d: the probe on a batch of training images, q = mean of the squared pre-activations per "
              "hidden "
              "layer, per-layer factor (q_%d / q_1)^(1/%d), beside the mean field's q^l. Then the two leaky nets "
              "train: SGD lr %g, momentum 0.9, batch 128, %d epoch on %d examples, %d test examples.",
              leaky, good, ctx->override_init ? " (test override)" : "", relu_he, elu, relu_he, pwidth, DEPTH,
              DEPTH - 1, lr, epochs, n_train ? n_train : ctx->data->n_train, n_test);
    const nninit_probe_report *p[3];
    p[0] = lab_probe(ctx, pleaky, good, "zeros", NULL, "leaky_relu(0.5), kaiming(a=0.5)", r);
    p[1] = lab_probe(ctx, pleaky, relu_he, "zeros", NULL, "leaky_relu(0.5), ReLU-He", r);
    p[2] = lab_probe(ctx, elu, relu_he, "zeros", NULL, "elu(1), ReLU-He", r);
    if (!p[0] || !p[1] || !p[2]) return NNINIT_ERR_PARAM;
    const double f_good = per_layer(p[0], 0), f_bad = per_layer(p[1], 0), f_elu = per_layer(p[2], 0);
    const double f_elu_mf = per_layer(p[2], 1), total_bad = pow(f_bad, DEPTH - 1);
    const double pred_bad = 1 + s * s, pred_total = pow(pred_bad, DEPTH - 1);
    char pred[128];
    /* The alternatives are 1 and 1 + s^2 = 1.25: a band of 0.1 around each
     * tells them apart; the noise is the layers' own scatter (factor_noise). */
    lab_check(r, "leaky, kaiming(a=0.5): variance kept", "per-layer factor of q within 0.1 of 1: |f - 1| < 0.1",
              fabs(f_good - 1), LAB_LT, 0.1, factor_noise(p[0], NULL), "");
    snprintf(pred, sizeof pred, "per-layer factor within 0.1 of 1 + s^2 = %g (relative): |f/%g - 1| < 0.1", pred_bad,
             pred_bad);
    lab_check(r, "leaky, ReLU-He: variance x(1+s^2) per layer", pred, fabs(f_bad / pred_bad - 1), LAB_LT, 0.1,
              factor_noise(p[1], NULL), "");
    snprintf(pred, sizeof pred, "per-layer factor within 3%% of the mean field's (%.4f)", f_elu_mf);
    lab_check(r, "elu, ReLU-He: factor as the mean field computes", pred, fabs(f_elu / f_elu_mf - 1), LAB_LT, 0.03,
              factor_noise(p[2], p[2]), "");

    /* training: the two leaky nets */
    double acc[2];
    int div[2];
    const char *inits[2] = {good, relu_he}, *labels[2] = {"kaiming(a=0.5)", "ReLU-He"};
    for (int k = 0; k < 2; k++) {
        nninit_net *net;
        nninit_status st = lab_net(ctx, leaky, inits[k], "zeros", 1000, 0, &net);
        if (st) return st;
        nninit_train_opts o = lab_train_opts(ctx, lr, 0.9, epochs);
        nninit_train_report rep;
        st = lab_train(ctx, net, &o, n_train, labels[k], r, &acc[k], &rep);
        nninit_net_free(net);
        if (st) return st;
        div[k] = rep.diverged;
        acc[k] = rep.diverged ? 10.0 : acc_pct(acc[k], n_test); /* a diverged run counts as chance */
        nninit_train_report_free(&rep);
    }
    const double noise = 100 * (lab_acc_noise(acc[0] / 100, n_test, 2.0) + lab_acc_noise(acc[1] / 100, n_test, 2.0));
    lab_check(r, "leaky, kaiming(a=0.5): trains", "test accuracy > 50% (chance 10%)", acc[0], LAB_GT, 50,
              100 * lab_acc_noise(acc[0] / 100, n_test, 2.0), "%");
    lab_check(r, "leaky: the slope-aware init trains at least as well",
              "test accuracy kaiming(a=0.5) - ReLU-He >= 0 points (diverged = chance)", acc[0] - acc[1], LAB_GE, 0,
              noise, "points");
    lab_note(r,
             "Per-layer factor of q: kaiming(a=0.5) %.4f, ReLU-He %.4f (1 + s^2 = %g), so q grows %.3g-fold from "
             "layer 1 to %d (predicted %.3g; 1.25^30 = %.0f counts the input layer too; one init's total growth "
             "scatters by a factor e^(sd) with sd^2 about 3 x 29 / width in its log, so it is not a check). ELU(1) "
             "under ReLU-He: "
             "%.4f per layer measured, %.4f by the mean field (q_%d = %.3g measured, %.3g predicted): ELU's negative "
             "side keeps less than ReLU's zero half would, but not the leaky line's s^2. Training: test accuracy "
             "%.2f%%%s with kaiming(a=0.5), %.2f%%%s with ReLU-He.",
             f_good, f_bad, pred_bad, total_bad, DEPTH, pred_total, pow(pred_bad, DEPTH), f_elu, f_elu_mf, DEPTH,
             p[2]->layers[DEPTH - 1].q_meas, p[2]->layers[DEPTH - 1].q_pred, acc[0], div[0] ? " (diverged)" : "",
             acc[1], div[1] ? " (diverged)" : "");
    const char *ql[3] = {"leaky, kaiming(a=0.5)", "leaky, ReLU-He", "elu, ReLU-He"};
    plot_q(r, "q by depth at init (30 layers)", p, ql, 3);
    return NNINIT_OK;
}

const lab_experiment lab_exp_leaky_he = {
    "leaky-he", "He's rule with the leaky slope: leaky ReLU and ELU at depth 30",
    "For a leaky ReLU of slope a, He's variance is 2/((1+a^2) fan_in): kaiming(a=slope) keeps the activation "
    "variance constant with depth, while plain ReLU-He multiplies it by 1 + a^2 per layer (1.25^30, about 800, at "
    "a = 0.5). For ELU the factor of ReLU-He is what the mean field computes. The slope-aware init trains at least "
    "as well.",
    "He, Zhang, Ren & Sun 2015, Delving Deep into Rectifiers, eq. 15; seeds 003 and 004 (leaky ReLU, ELU); "
    "Clevert, Unterthiner & Hochreiter 2016 (ELU)",
    run_leaky_he};

/* exp_theory.c -- lab experiments on the theory behind initialization:
 * mean-field signal propagation in deep tanh networks and the depth they
 * train to (Poole et al. 2016; Schoenholz et al. 2017), layer-sequential unit
 * variance (Mishkin & Matas 2016), SELU's self-normalization (Klambauer et
 * al. 2017). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"

static void say(const lab_ctx *ctx, const char *fmt, ...) NNINIT_PRINTF(2, 3);
static void say(const lab_ctx *ctx, const char *fmt, ...) {
    if (!ctx->progress) return;
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ctx->progress(ctx->progress_user, line);
}

static double mean_of(const double *x, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return n > 0 ? s / n : NAN;
}

/* Standard error of the mean of x[0..n), the values taken as independent. */
static double sem_of(const double *x, int n) {
    if (n < 2) return NAN;
    double m = mean_of(x, n), s = 0;
    for (int i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (n - 1) / n);
}

/* ---- 9. mean field --------------------------------------------------------- */

/* tanh with sigma_b^2 = 0.05 as in Schoenholz et al. Fig. 1; W ~ N(0, sw2 /
 * fan_in) in every layer (the first one's fan-in is 784, the others' the width). */
#define MF_BIAS      "normal(std=0.2236068)"
#define MF_TRAINABLE 0.40 /* test accuracy that counts as trained: 4x chance */
/* SGD step for part B: small enough for the deepest net at criticality (at lr
 * 0.01 with momentum 0.9 the 84-layer critical net stalls at chance in 200
 * steps, a step-size failure, not a signal-propagation one). */
#define MF_LR        0.001

static void mf_init(char *buf, size_t n, double sw2) {
    snprintf(buf, n, "variance_scaling(scale=%.6g,mode=fan_in,distribution=normal)", sw2);
}

typedef struct {
    double sw2, qstar, chi1, xi_c; /* predicted (the probe's mean-field summary) */
    double q, q_se;                /* measured mean q over the deep layers, its standard error */
    double chi, chi_se;            /* measured chi_1 and the relative standard error */
} mf_point;

/* Deep layers l0..D-1 (0-based) of a probe with D hidden layers: q^l is the
 * mean of pre^2; chi_1 the geometric mean of Var(dL/dpre^l)/Var(dL/dpre^{l+1}),
 * which in the fixed point is sw2 E[phi'(h)^2] = chi_1 per layer (Schoenholz
 * et al. eq. 9; equal widths). */
static void mf_measure(const nninit_probe_report *p, int l0, int D, mf_point *m) {
    double q[1024] = {0}, lr[1024] = {0};
    int nq = 0, nr = 0;
    for (int l = l0; l < D && nq < 1024; l++) q[nq++] = p->layers[l].q_meas;
    for (int l = l0; l + 1 < D && nr < 1024; l++) {
        double a = p->layers[l].grad_std, b = p->layers[l + 1].grad_std;
        lr[nr++] = (a > 0 && b > 0) ? 2 * log(a / b) : NAN;
    }
    m->sw2 = p->sw2, m->qstar = p->qstar, m->chi1 = p->chi1, m->xi_c = p->xi_c;
    m->q = mean_of(q, nq);
    m->q_se = sem_of(q, nq);
    m->chi = exp(mean_of(lr, nr));
    m->chi_se = sem_of(lr, nr); /* of log chi: a relative error */
}

static nninit_status run_mean_field(const lab_ctx *ctx, lab_result *r) {
    static const double sw2_tiny[] = {1.0, 4.0}, sw2_quick[] = {0.5, 1.0, 1.5, 1.76, 2.5, 4.0},
                        sw2_full[] = {0.5, 0.75, 1.0, 1.25, 1.5, 1.76, 2.0, 2.5, 3.0, 4.0};
    const double *sw2s = ctx->scale == LAB_TINY ? sw2_tiny : ctx->scale == LAB_QUICK ? sw2_quick : sw2_full;
    const int ns = lab_pick(ctx, 2, 6, 10);
    const int W = lab_pick(ctx, 64, 1000, 1000), D = lab_pick(ctx, 12, 30, 50), l0 = 9;
    char arch[160], init[96], label[64];
    nninit_status st = NNINIT_OK;

    /* Part A: q* and chi_1 against sigma_w^2 */
    mf_point pt[10] = {{0}};
    nninit_probe_opts po = nninit_probe_opts_default();
    po.input = NNINIT_INPUT_GAUSSIAN;
    po.batch = lab_pick(ctx, 64, 256, 256);
    po.sgd_steps = 0;
    snprintf(arch, sizeof arch, "784 -> [dense %d tanh] x%d -> dense 10", W, D);
    for (int k = 0; k < ns; k++) {
        double sw2 = sw2s[k];
        mf_init(init, sizeof init, sw2);
        po.seed = ctx->seed + 100 + (uint64_t)k;
        say(ctx, "mean-field: probing tanh, sw2 = %g", sw2);
        /* keep the ordered, critical and chaotic examples in the report */
        if (sw2 == 1.0 || sw2 == 1.76 || sw2 == 4.0) {
            snprintf(label, sizeof label, "tanh, sw2 = %g, sb2 = 0.05", sw2);
            const nninit_probe_report *p = lab_probe(ctx, arch, init, MF_BIAS, &po, label, r);
            if (!p) return NNINIT_ERR_PARAM;
            mf_measure(p, l0, D, &pt[k]);
        } else {
            nninit_probe_report p;
            if ((st = lab_probe_once(ctx, arch, init, MF_BIAS, &po, &p))) return st;
            mf_measure(&p, l0, D, &pt[k]);
            nninit_probe_report_free(&p);
        }
        if (!isfinite(pt[k].qstar))
            return lab_set_error("mean-field: no mean-field prediction for %s", arch), NNINIT_ERR_PARAM;
    }
    int kq = 0, kc = 0;
    double eq = -1, ec = -1;
    for (int k = 0; k < ns; k++) {
        double a = fabs(pt[k].q / pt[k].qstar - 1), b = fabs(pt[k].chi / pt[k].chi1 - 1);
        if (!(a <= eq)) eq = a, kq = k; /* NaN wins: it must show */
        if (!(b <= ec)) ec = b, kc = k;
    }
    char pred[128];
    snprintf(pred, sizeof pred, "q^l = q* within 5%% at every sw2 (layers %d-%d averaged)", l0 + 1, D);
    lab_check(r, "tanh: deep-layer q^l vs q*, worst sw2", pred, 100 * eq, LAB_LT, 5.0, 200 * pt[kq].q_se / pt[kq].qstar,
              "%");
    lab_check(r, "tanh: chi_1 from gradient variance ratios, worst sw2",
              "Var(dL/dh^l)/Var(dL/dh^(l+1)) = chi_1 within 10% at every sw2", 100 * ec, LAB_LT, 10.0,
              200 * pt[kc].chi_se, "%");

    lab_plot *pl = lab_plot_add(r, "Fixed point q* of the variance map (tanh, sb2 = 0.05)", "sigma_w^2", "q*", 0);
    double x[10], ym[10], yp[10];
    for (int k = 0; k < ns; k++) x[k] = pt[k].sw2, ym[k] = pt[k].q, yp[k] = pt[k].qstar;
    lab_series_add(pl, "measured: mean q^l of the deep layers", x, ym, ns, 0);
    lab_series_add(pl, "mean field: q*", x, yp, ns, 1);
    pl = lab_plot_add(r, "chi_1: backward gradient variance ratio per layer", "sigma_w^2", "chi_1", 0);
    for (int k = 0; k < ns; k++) ym[k] = pt[k].chi, yp[k] = pt[k].chi1;
    lab_series_add(pl, "measured: Var(dL/dh^l) / Var(dL/dh^(l+1))", x, ym, ns, 0);
    lab_series_add(pl, "mean field: chi_1", x, yp, ns, 1);

    /* Part B: trainable depth against 6 xi_c */
    static const double cell_tiny[] = {0.5}, cell_quick[] = {0.5, 1.0, 4.0}, cell_full[] = {0.5, 1.0, 4.0};
    static const double f_small[] = {0.5, 2.0}, f_full[] = {0.5, 0.75, 1.5, 2.0};
    const double *csw = ctx->scale == LAB_TINY ? cell_tiny : ctx->scale == LAB_QUICK ? cell_quick : cell_full;
    const double *fs = ctx->scale == LAB_FULL ? f_full : f_small;
    const int nc = lab_pick(ctx, 1, 3, 3), nf = lab_pick(ctx, 2, 2, 4);
    const int Wb = lab_pick(ctx, 16, 128, 128), steps = lab_pick(ctx, 20, 200, 600), crit_k = nc * nf;
    const double crit = 1.76;
    double xi[4], acc[17], ratio[17];
    int Ls[17], n_cells = crit_k + 1, agree = 0, maxL = 2;
    nninit_probe_opts so = nninit_probe_opts_default();
    so.batch = 8, so.sgd_steps = 0, so.seed = ctx->seed;
    for (int c = 0; c <= nc; c++) { /* xi_c from the probe's mean-field summary of a small net */
        nninit_probe_report p;
        mf_init(init, sizeof init, c < nc ? csw[c] : crit);
        if ((st = lab_probe_once(ctx, "784 -> [dense 8 tanh] x2 -> dense 10", init, MF_BIAS, &so, &p))) return st;
        xi[c] = p.xi_c;
        nninit_probe_report_free(&p);
        if (!(xi[c] > 0)) return lab_set_error("mean-field: no xi_c for %s", init), NNINIT_ERR_PARAM;
    }
    for (int c = 0; c < nc; c++)
        for (int f = 0; f < nf; f++) {
            int L = (int)lround(fs[f] * 6 * xi[c]);
            Ls[c * nf + f] = L < 2 ? 2 : L;
            if (Ls[c * nf + f] > maxL) maxL = Ls[c * nf + f];
        }
    Ls[crit_k] = maxL; /* at criticality xi_c is infinite: the deepest net of the grid */
    const int n_train = ctx->data->n_train, per_epoch = n_train / 128;
    for (int i = 0; i < n_cells; i++) {
        double sw2 = i < crit_k ? csw[i / nf] : crit, x6 = 6 * (i < crit_k ? xi[i / nf] : xi[nc]);
        nninit_net *net = NULL;
        mf_init(init, sizeof init, sw2);
        snprintf(arch, sizeof arch, "784 -> [dense %d tanh] x%d -> dense 10", Wb, Ls[i]);
        if ((st = lab_net(ctx, arch, init, MF_BIAS, 128, 200 + (uint64_t)i, &net))) return st;
        nninit_train_opts o = lab_train_opts(ctx, MF_LR, 0.9, steps / (per_epoch > 0 ? per_epoch : 1) + 1);
        o.max_steps = steps, o.evals_per_epoch = 1, o.eval_train_at_init = 0;
        snprintf(label, sizeof label, "sw2 %g, L %d (%.2g x 6 xi_c)", sw2, Ls[i], Ls[i] / x6);
        st = lab_train(ctx, net, &o, 0, label, r, &acc[i], NULL);
        nninit_net_free(net);
        if (st) return st;
        ratio[i] = Ls[i] / x6;
        agree += (acc[i] > MF_TRAINABLE) == (Ls[i] <= x6); /* NaN (diverged): not trained */
    }
    snprintf(pred, sizeof pred, "trained (test acc > %.0f%%) exactly when L <= 6 xi_c, in >= 75%% of cells",
             100 * MF_TRAINABLE);
    lab_check(r, "tanh: trainable depth tracks 6 xi_c", pred, 100.0 * agree / n_cells, LAB_GE, 75.0, 100.0 / n_cells,
              "%");
    pl = lab_plot_add(r, "Trainability against depth / 6 xi_c (tanh)", "L / (6 xi_c)", "test accuracy (%)", 0);
    for (int c = 0; c <= nc; c++) {
        double xs[4], ys[4];
        int n = c < nc ? nf : 1, i0 = c < nc ? c * nf : crit_k;
        for (int j = 0; j < n; j++) xs[j] = ratio[i0 + j], ys[j] = 100 * acc[i0 + j];
        snprintf(label, sizeof label, "sw2 = %g%s", c < nc ? csw[c] : crit, c < nc ? "" : " (critical)");
        lab_series_add(pl, label, xs, ys, n, 0);
    }

    lab_setup(r,
              "A: 784 -> [dense %d tanh] x%d -> dense 10, W ~ N(0, sw2/fan_in), b ~ N(0, 0.05), a Gaussian batch "
              "of %d; sw2 in {",
              W, D, po.batch);
    for (int k = 0; k < ns; k++) lab_setup(r, "%s%g", k ? ", " : "", sw2s[k]);
    lab_setup(r,
              "}; q = mean pre^2 and chi_1 = geometric mean of the gradient variance ratios, over layers %d-%d, "
              "against the probe's mean-field q*, chi_1. B: width %d, L = ",
              l0 + 1, D, Wb);
    for (int f = 0; f < nf; f++) lab_setup(r, "%s%g", f ? ", " : "", fs[f]);
    lab_setup(r, " x 6 xi_c for sw2 in {");
    for (int c = 0; c < nc; c++) lab_setup(r, "%s%g", c ? ", " : "", csw[c]);
    lab_setup(r,
              "} and sw2 = 1.76 (critical) at L = %d; SGD lr %g, momentum 0.9, %d steps of 128 on %d examples; "
              "trained = test accuracy > %.0f%% (chance 10%%).",
              maxL, MF_LR, steps, n_train, 100 * MF_TRAINABLE);

    lab_note(r,
             "One net's q^l scatters by ~sqrt(2/N) = %.1f%% a layer (in the ordered phase all inputs collapse to one), "
             "hence the average over the deep layers, 5%% and 10%% tolerances, noise 2 standard errors. ",
             100 * sqrt(2.0 / W));
    lab_note(r, "A, measured/predicted q and chi_1 at sw2");
    for (int k = 0; k < ns; k++)
        lab_note(r, " %g: %.3f, %.3f;", pt[k].sw2, pt[k].q / pt[k].qstar, pt[k].chi / pt[k].chi1);
    lab_note(r, " worst q %.1f%%, chi_1 %.1f%%. B (6 xi_c; L: accuracy):", 100 * eq, 100 * ec);
    for (int c = 0; c <= nc; c++) {
        int n = c < nc ? nf : 1, i0 = c < nc ? c * nf : crit_k;
        lab_note(r, " sw2 %g (%.3g):", c < nc ? csw[c] : crit, 6 * xi[c]);
        for (int j = 0; j < n; j++) lab_note(r, " %d: %.0f%%", Ls[i0 + j], 100 * acc[i0 + j]);
        lab_note(r, ";");
    }
    lab_note(r, " %d of %d cells as predicted.", agree, n_cells);
    return NNINIT_OK;
}
const lab_experiment lab_exp_mean_field = {
    "mean-field", "Mean field: signal propagation and the trainable depth of tanh networks",
    "Measured q^l and chi_1 follow the mean-field predictions across sigma_w^2 for tanh, and the depth to which a "
    "network trains tracks 6 xi_c.",
    "Poole et al. 2016, Exponential expressivity in deep neural networks through transient chaos; Schoenholz et al. "
    "2017, Deep Information Propagation, Fig. 1, eq. 9 and Fig. 5 (trainable iff L < 6 xi_c)",
    run_mean_field};

/* ---- 10. LSUV ---------------------------------------------------------------- */

/* Pooled variance of layer l's pre-activation (centred) on the last forward,
 * and its standard error from the per-example variances (examples taken as
 * independent). */
static void pre_var(nninit_net *net, int l, int batch, double *var, double *se) {
    nninit_layer_view v;
    *var = *se = NAN;
    if (nninit_net_layer(net, l, &v) || !v.pre) return;
    int w = v.out_size;
    int64_t n = (int64_t)batch * w;
    double m = 0, s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) m += v.pre[i];
    m /= (double)n;
    for (int b = 0; b < batch; b++) {
        double e = 0;
        for (int j = 0; j < w; j++) {
            double d = v.pre[(int64_t)b * w + j] - m;
            e += d * d;
        }
        e /= w;
        s += e, s2 += e * e;
    }
    *var = s / batch;
    *se = batch > 1 ? sqrt(fmax(s2 / batch - *var * *var, 0) / (batch - 1)) : NAN;
}

static nninit_status run_lsuv(const lab_ctx *ctx, lab_result *r) {
    const int W = lab_pick(ctx, 32, 256, 256), D = lab_pick(ctx, 3, 10, 10), B = lab_pick(ctx, 64, 256, 256);
    const int epochs = lab_pick(ctx, 1, 4, 5), max_iter = 10;
    const double tol = 0.05, lr = 0.01, mom = 0.9;
    const lab_data *d = ctx->data;
    if (d->n_train < 2 * B)
        return lab_set_error("lsuv: %d training examples, need %d", d->n_train, 2 * B), NNINIT_ERR_PARAM;
    char arch[128];
    snprintf(arch, sizeof arch, "784 -> [dense %d relu] x%d -> dense 10", W, D);
    nninit_net *net = NULL;
    nninit_status st = lab_net(ctx, arch, "orthogonal", NULL, B > 128 ? B : 128, 0, &net);
    if (st) return st;
    const int L = nninit_net_layers(net);
    const float *xc = d->train_x, *xh = d->train_x + (size_t)B * d->dim; /* calibration, held out */
    double before[64], calib[64], held[64], se[64], lx[64];
    int iters[64], nl = 0, it_max = 0;
    if (L > 64) {
        nninit_net_free(net);
        return lab_set_error("lsuv: %d layers, at most 64", L), NNINIT_ERR_PARAM;
    }
    if ((st = nninit_net_forward(net, xh, B))) goto fail;
    for (int l = 0; l < L; l++) pre_var(net, l, B, &before[l], &se[l]);
    say(ctx, "lsuv: calibrating %s on %d examples", arch, B);
    if ((st = nninit_lsuv(net, xc, B, tol, max_iter, iters, calib))) goto fail;
    if ((st = nninit_net_forward(net, xh, B))) goto fail;
    double dev_cal = 0, dev_held = 0, se_held = 0;
    for (int l = 0; l < L; l++) {
        pre_var(net, l, B, &held[l], &se[l]);
        if (isnan(calib[l])) continue; /* no weights */
        if (!(fabs(calib[l] - 1) <= dev_cal)) dev_cal = fabs(calib[l] - 1);
        if (!(fabs(held[l] - 1) <= dev_held)) dev_held = fabs(held[l] - 1), se_held = se[l];
        if (iters[l] > it_max) it_max = iters[l];
        before[nl] = before[l], calib[nl] = calib[l], held[nl] = held[l], lx[nl] = l + 1, nl++;
    }
    char pred[128];
    snprintf(pred, sizeof pred, "|Var - 1| < %g (LSUV's tolerance) in every layer", tol);
    lab_check(r, "calibration batch: max |Var(pre) - 1| after LSUV", pred, dev_cal, LAB_LT, tol, 0, "");
    lab_check(r, "held-out batch: max |Var(pre) - 1| after LSUV",
              "|Var - 1| < 0.1 in every layer (the tolerance plus as much again for another batch)", dev_held, LAB_LT,
              0.1, 2 * se_held, "");
    lab_plot *pl = lab_plot_add(r, "Variance of the pre-activations by layer (held-out batch unless noted)", "layer",
                                "Var(pre)", 1);
    lab_series_add(pl, "orthogonal, before LSUV", lx, before, nl, 0);
    lab_series_add(pl, "after LSUV", lx, held, nl, 0);
    lab_series_add(pl, "after LSUV, calibration batch", lx, calib, nl, 0);

    /* train LSUV and the fixed schemes alike */
    static const char *const schemes[] = {NULL,         "xavier_normal", "kaiming_normal(nonlinearity=relu)",
                                          "orthogonal", "lecun_normal",  NULL};
    static const char *const names[] = {"LSUV",       "xavier_normal", "kaiming_normal",
                                        "orthogonal", "lecun_normal",  "PyTorch default"};
    const int ns = 6;
    double acc[6];
    nninit_train_opts o = lab_train_opts(ctx, lr, mom, epochs);
    for (int s = 0; s < ns; s++) {
        if (s > 0 && (st = lab_net(ctx, arch, schemes[s], NULL, 128, 0, &net))) return st;
        st = lab_train(ctx, net, &o, 0, names[s], r, &acc[s], NULL);
        nninit_net_free(net);
        net = NULL;
        if (st) return st;
    }
    int best = 1;
    for (int s = 2; s < ns; s++)
        if (acc[s] > acc[best] || isnan(acc[best])) best = s;
    double noise = 100 * lab_acc_noise(acc[best], d->n_test, 2.0);
    char name[96];
    snprintf(name, sizeof name, "LSUV accuracy minus the best fixed scheme's (%s)", names[best]);
    snprintf(pred, sizeof pred, ">= -%.1f points (2 standard errors of a test accuracy on %d examples)", noise,
             d->n_test);
    lab_check(r, name, pred, 100 * (acc[0] - acc[best]), LAB_GE, -noise, noise, "points");
    pl = lab_plot_add(r, "Final test accuracy per init", "init (1 = LSUV)", "test accuracy (%)", 0);
    for (int s = 0; s < ns; s++) {
        double xs = s + 1, ys = 100 * acc[s];
        lab_series_add(pl, names[s], &xs, &ys, 1, 0);
    }

    lab_setup(r,
              "%s, zero biases: orthogonal init, then LSUV (tol %g, at most %d rescalings per layer) on %d "
              "training images; variances re-measured on the next %d. Trained like xavier_normal, kaiming_normal "
              "(relu), orthogonal, lecun_normal and PyTorch's default: SGD lr %g, momentum %g, batch 128, %d "
              "epoch%s on %d examples, tested on %d.",
              arch, tol, max_iter, B, B, lr, mom, epochs, epochs == 1 ? "" : "s", d->n_train, d->n_test);
    lab_note(r,
             "Var(pre) on the held-out batch, first/last layer: %.3g/%.3g before LSUV, %.3g/%.3g after "
             "(calibration batch %.3g/%.3g); at most %d rescaling%s in a layer. Test accuracy:",
             before[0], before[nl - 1], held[0], held[nl - 1], calib[0], calib[nl - 1], it_max, it_max == 1 ? "" : "s");
    for (int s = 0; s < ns; s++) lab_note(r, "%s %s %.1f%%", s ? "," : "", names[s], 100 * acc[s]);
    lab_note(r, ".");
    return NNINIT_OK;
fail:
    lab_set_error("lsuv: %s", nninit_last_error());
    nninit_net_free(net);
    return st;
}
const lab_experiment lab_exp_lsuv = {
    "lsuv", "LSUV: layer-sequential unit variance",
    "After an orthogonal init, rescaling each layer in turn until its pre-activations have unit variance on a "
    "batch gives unit variance in every layer, and a network that trains as well as with the best fixed scheme.",
    "Mishkin & Matas 2016, All you need is a good init, Algorithm 1 and §4", run_lsuv};

/* ---- 11. SELU ---------------------------------------------------------------- */

/* Mean and second moment of selu(h), h ~ N(0, q) (Klambauer et al. 2017,
 * eqs. 4-5 with omega = 0, tau = 1), from E[h 1{h>0}] = sqrt(q/(2 pi)) and
 * E[e^{t h} 1{h<0}] = e^{t^2 q/2} Phi(-t sqrt(q)). Good for q < ~300. */
static void selu_moments(double q, double *mean, double *m2) {
    const double lam = 1.0507009873554805, al = 1.6732632423543772, s = sqrt(q);
    const double e1 = exp(q / 2) * 0.5 * erfc(s / sqrt(2.0)), e2 = exp(2 * q) * 0.5 * erfc(2 * s / sqrt(2.0));
    *mean = lam * (s / sqrt(2 * 3.14159265358979323846) + al * (e1 - 0.5));
    *m2 = lam * lam * (q / 2 + al * al * (e2 - 2 * e1 + 0.5));
}

/* Mean and variance of every hidden layer's post-activation, pooled over batch
 * and units, for the input x (batch rows). */
static nninit_status layer_stats(nninit_net *net, const float *x, int batch, int D, double *mean, double *var) {
    nninit_status st = nninit_net_forward(net, x, batch);
    for (int l = 0; !st && l < D; l++) {
        nninit_layer_view v;
        if ((st = nninit_net_layer(net, l, &v))) break;
        int64_t n = (int64_t)batch * v.out_size;
        double m = 0, s = 0;
        for (int64_t i = 0; i < n; i++) m += v.post[i];
        m /= (double)n;
        for (int64_t i = 0; i < n; i++) s += ((double)v.post[i] - m) * ((double)v.post[i] - m);
        mean[l] = m, var[l] = s / (double)n;
    }
    if (st) lab_set_error("selu: %s", nninit_last_error());
    return st;
}

static nninit_status run_selu(const lab_ctx *ctx, lab_result *r) {
    const int W = lab_pick(ctx, 64, 1000, 1000), D = lab_pick(ctx, 10, 32, 64), B = lab_pick(ctx, 64, 256, 512);
    static const double scales[2] = {0.3, 3.0};
    static const char *const acts[3] = {"selu", "relu", "tanh"};
    const char *init = ctx->override_init ? ctx->override_init : "lecun_normal";
    const int d8 = 8 < D ? 8 : D; /* layer number (1-based) of the first check */
    const lab_data *d = ctx->data;
    if (d->n_train < B) return lab_set_error("selu: %d training examples, need %d", d->n_train, B), NNINIT_ERR_PARAM;
    float *x = malloc(sizeof(float) * (size_t)B * (size_t)d->dim);
    double *mean = malloc(sizeof(double) * 3 * 2 * (size_t)D), *var = malloc(sizeof(double) * 3 * 2 * (size_t)D);
    double *px = malloc(sizeof(double) * (size_t)D), *pm = malloc(sizeof(double) * 2 * (size_t)D),
           *pv = malloc(sizeof(double) * 2 * (size_t)D);
    nninit_status st = NNINIT_OK;
    if (!x || !mean || !var || !px || !pm || !pv) {
        st = NNINIT_ERR_NOMEM;
        lab_set_error("out of memory");
        goto done;
    }
    char arch[128];
    double ms = 0; /* mean square of the unscaled batch: the first layer's q is scale^2 ms */
    for (size_t i = 0; i < (size_t)B * (size_t)d->dim; i++) ms += (double)d->train_x[i] * d->train_x[i];
    ms /= (double)B * d->dim;
    for (int a = 0; a < 3; a++) {
        nninit_net *net = NULL;
        snprintf(arch, sizeof arch, "784 -> [dense %d %s] x%d -> dense 10", W, acts[a], D);
        say(ctx, "selu: forward through %s", arch);
        if ((st = lab_net(ctx, arch, a == 0 ? init : "lecun_normal", NULL, B, 300 + (uint64_t)a, &net))) goto done;
        for (int s = 0; s < 2 && !st; s++) {
            for (size_t i = 0; i < (size_t)B * (size_t)d->dim; i++) x[i] = (float)(scales[s] * d->train_x[i]);
            st = layer_stats(net, x, B, D, mean + (a * 2 + s) * D, var + (a * 2 + s) * D);
        }
        nninit_net_free(net);
        if (st) goto done;
    }
    /* mean-field prediction for SELU with sw2 = 1, sb2 = 0 */
    for (int s = 0; s < 2; s++) {
        double q = scales[s] * scales[s] * ms, m, m2;
        for (int l = 0; l < D; l++) {
            selu_moments(q, &m, &m2);
            pm[s * D + l] = m, pv[s * D + l] = m2 - m * m;
            q = m2;
        }
    }
    for (int l = 0; l < D; l++) px[l] = l + 1;

    const double nm = 1 / sqrt((double)W), nv = sqrt(2.0 / W); /* finite-width scatter of a layer's statistics */
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 2; k++) {
            int l = (k == 0 ? d8 : D) - 1;
            char name[96], pred[128];
            snprintf(name, sizeof name, "inputs x%g: |mean| at layer %d", scales[s], l + 1);
            if (ctx->override_init) snprintf(pred, sizeof pred, "|mean| < 0.1");
            else snprintf(pred, sizeof pred, "|mean| < 0.1 (mean field: %.3f)", pm[s * D + l]);
            lab_check(r, name, pred, fabs(mean[s * D + l]), LAB_LT, 0.1, nm, "");
            snprintf(name, sizeof name, "inputs x%g: |variance - 1| at layer %d", scales[s], l + 1);
            if (ctx->override_init) snprintf(pred, sizeof pred, "|var - 1| < 0.15");
            else snprintf(pred, sizeof pred, "|var - 1| < 0.15 (mean field: var %.3f)", pv[s * D + l]);
            lab_check(r, name, pred, fabs(var[s * D + l] - 1), LAB_LT, 0.15, nv, "");
        }

    lab_plot *pl = lab_plot_add(r, "SELU: variance of the activations by depth", "layer", "variance", 0);
    char label[64];
    for (int s = 0; s < 2; s++) {
        snprintf(label, sizeof label, "inputs x%g, measured", scales[s]);
        lab_series_add(pl, label, px, var + s * D, D, 0);
    }
    for (int s = 0; s < 2 && !ctx->override_init; s++) {
        snprintf(label, sizeof label, "inputs x%g, mean field", scales[s]);
        lab_series_add(pl, label, px, pv + s * D, D, 1);
    }
    pl = lab_plot_add(r, "SELU: mean of the activations by depth", "layer", "mean", 0);
    for (int s = 0; s < 2; s++) {
        snprintf(label, sizeof label, "inputs x%g, measured", scales[s]);
        lab_series_add(pl, label, px, mean + s * D, D, 0);
    }
    for (int s = 0; s < 2 && !ctx->override_init; s++) {
        snprintf(label, sizeof label, "inputs x%g, mean field", scales[s]);
        lab_series_add(pl, label, px, pm + s * D, D, 1);
    }
    pl = lab_plot_add(r, "Variance by depth with LeCun normal weights: SELU against ReLU and tanh", "layer", "variance",
                      1);
    for (int a = 0; a < 3; a++)
        for (int s = 0; s < 2; s++) {
            snprintf(label, sizeof label, "%s, inputs x%g", acts[a], scales[s]);
            lab_series_add(pl, label, px, var + (a * 2 + s) * D, D, 0);
        }

    lab_setup(r,
              "784 -> [dense %d selu] x%d -> dense 10, %s weights, zero biases; a batch of %d standardized "
              "Fashion-MNIST training images scaled by 0.3 and by 3 (mean square %.3g before scaling); mean and "
              "variance of each layer's output over batch and units, next to the mean-field map (Klambauer et al. "
              "eqs. 4-5). Contrast: the same with relu and tanh. Tolerances 0.1 and 0.15 are the claim's; noise "
              "1/sqrt(%d) and sqrt(2/%d) is a layer's finite-width scatter.",
              W, D, init, B, ms, W, W);
    int settle[2];
    for (int s = 0; s < 2; s++) {
        settle[s] = 0;
        for (int l = D - 1; l >= 0; l--)
            if (fabs(var[s * D + l] - 1) >= 0.15 || fabs(mean[s * D + l]) >= 0.1) {
                settle[s] = l + 2;
                break;
            }
    }
    lab_note(r,
             "SELU mean/variance at layer %d: x0.3 %.3f/%.3f (LeCun mean field %.3f/%.3f), x3 %.3f/%.3f (%.3f/%.3f); "
             "at layer %d: x0.3 %.3f/%.3f, x3 %.3f/%.3f.",
             d8, mean[d8 - 1], var[d8 - 1], pm[d8 - 1], pv[d8 - 1], mean[D + d8 - 1], var[D + d8 - 1], pm[D + d8 - 1],
             pv[D + d8 - 1], D, mean[D - 1], var[D - 1], mean[2 * D - 1], var[2 * D - 1]);
    for (int s = 0; s < 2; s++)
        if (settle[s] <= D)
            lab_note(r, " Inputs x%g: within the tolerances from layer %d on.", scales[s], settle[s] ? settle[s] : 1);
        else lab_note(r, " Inputs x%g: not within the tolerances by layer %d.", scales[s], D);
    lab_note(r, " Contrast at layer %d, variance x0.3/x3: relu %.3g/%.3g, tanh %.3g/%.3g.", D, var[3 * D - 1],
             var[4 * D - 1], var[5 * D - 1], var[6 * D - 1]);
done:
    free(x), free(mean), free(var), free(px), free(pm), free(pv);
    return st;
}
const lab_experiment lab_exp_selu = {
    "selu", "SELU: self-normalizing networks",
    "In a deep SELU network with LeCun normal weights the activations' mean goes to 0 and their variance to 1 "
    "with depth, from inputs scaled by 0.3 as from inputs scaled by 3: by layer 8 they are near (0, 1).",
    "Klambauer et al. 2017, Self-Normalizing Neural Networks, Thm 1-3 / §3", run_selu};

/* exp_symmetry.c -- the lab's first four experiments: the symmetry problem
 * (zero and constant init) and the scale problem (too small, too large). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lab.h"

/* Units equal within this relative difference count as one (float rounding
 * of identical computations is exact here, so 1e-6 leaves a wide margin). */
#define SYM_TOL 1e-6

/* Test accuracy in percent from the exact count of correct answers, so that a
 * constant prediction on a balanced test set is exactly 10 (no 0.1 * 100). */
static double acc_pct(double acc, int n) {
    if (!isfinite(acc)) return NAN;
    return 100.0 * round(acc * n) / n;
}

/* The most distinct units over the hidden layers 0..n_hidden-1, measured on
 * the first 256 test examples. */
static int max_distinct(const lab_ctx *ctx, nninit_net *net, int n_hidden, int *per_layer) {
    int batch = ctx->data->n_test < 256 ? ctx->data->n_test : 256, most = 0;
    for (int l = 0; l < n_hidden; l++) {
        int d = lab_distinct_units(net, l, ctx->data->test_x, batch, SYM_TOL);
        if (per_layer) per_layer[l] = d;
        if (d > most) most = d;
    }
    return most;
}

static double frob(const float *w, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)w[i] * w[i];
    return sqrt(s);
}

/* Post-activation std of the last hidden layer over the first hidden layer. */
static double std_ratio(const nninit_probe_report *p, int first, int last) {
    if (!p || last >= p->n_layers) return NAN;
    return p->layers[last].post_std / p->layers[first].post_std;
}

static double mean_saturated(const nninit_probe_report *p, int n_hidden) {
    double s = 0;
    if (!p) return NAN;
    for (int l = 0; l < n_hidden; l++) s += p->layers[l].saturated;
    return s / n_hidden;
}

/* Activation std by depth from probe reports, one series each. */
static void plot_std(lab_result *r, const nninit_probe_report *const *p, const char *const *labels, int n,
                     int n_hidden) {
    lab_plot *pl = lab_plot_add(r, "Activation std by depth at init", "hidden layer", "std of post-activation", 1);
    for (int k = 0; k < n; k++) {
        if (!p[k]) continue;
        double x[1024], y[1024];
        int m = n_hidden < 1024 ? n_hidden : 1024;
        for (int l = 0; l < m; l++) x[l] = l + 1, y[l] = p[k]->layers[l].post_std;
        lab_series_add(pl, labels[k], x, y, m, 0);
    }
}

/* Largest relative difference between row 0 of layer l's weight and any other
 * row: 0 while the units are exactly identical. */
static double row_spread(nninit_net *net, int l) {
    nninit_layer_view v;
    if (nninit_net_layer(net, l, &v)) return NAN;
    double most = 0;
    for (int64_t j = 1; j < v.w_rows; j++)
        for (int64_t k = 0; k < v.w_cols; k++) {
            double a = v.w[j * v.w_cols + k], b = v.w[k];
            if (a != b) most = fmax(most, fabs(a - b) / fmax(fabs(b), 1e-30));
        }
    return most;
}

/* ---- 1. zero init ---------------------------------------------------------- */

/* Why symmetry can break in float32 on one machine and not another, for
 * the notes of zero-init and constant-init. */
static void note_rounding(lab_result *r) {
    const lab_machine *m = lab_machine_info();
    lab_note(r,
             "Why a BLAS run can break the symmetry on one machine and not another: identical units stay identical "
             "only if every output "
             "column of each matrix product is computed by the same sequence of float32 operations. An optimized "
             "sgemm (OpenBLAS here, its kernels for core %s on %s) computes columns in vector lanes and register "
             "tiles with different summation orders at tile edges, and which kernel runs depends on the CPU, so "
             "identical columns can come out one rounding apart on one machine and bit-identical on another; SGD "
             "then amplifies the difference because the symmetric state is unstable. The order-preserving product "
             "(nninit_net_set_matmul NNINIT_MATMUL_REFERENCE: each element summed over k in order, the same "
             "sequence for every element) keeps exact arithmetic's symmetry on every machine, so the checks use "
             "it. ",
             m->blas_core, m->cpu);
}

/* One zero-init or constant-init net trained under product mm: its distinct
 * units (most over the hidden layers, and per layer), ||W1||, the spread of
 * W1's rows and the test accuracy in percent. r NULL: no curve kept. */
typedef struct {
    int distinct, per[2];
    double w1, spread, acc;
} sym_run;

static nninit_status train_sym(const lab_ctx *ctx, const char *arch, const char *init, nninit_matmul mm, int epochs,
                               int n_train, const char *label, lab_result *r, sym_run *out) {
    nninit_net *net;
    nninit_status st = lab_net(ctx, arch, init, "zeros", 1000, 0, &net);
    if (st) return st;
    nninit_net_set_matmul(net, mm);
    nninit_train_opts o = lab_train_opts(ctx, 0.05, 0.9, epochs);
    double acc;
    if ((st = lab_train(ctx, net, &o, n_train, label, r, &acc, NULL))) {
        nninit_net_free(net);
        return st;
    }
    out->distinct = max_distinct(ctx, net, 2, out->per);
    nninit_layer_view v;
    nninit_net_layer(net, 0, &v);
    out->w1 = frob(v.w, v.w_rows * v.w_cols), out->spread = row_spread(net, 0);
    out->acc = acc_pct(acc, ctx->data->n_test);
    nninit_net_free(net);
    return NNINIT_OK;
}

static nninit_status run_zero_init(const lab_ctx *ctx, lab_result *r) {
    static const char *const acts[] = {"tanh", "relu", "sigmoid"};
    const int width = lab_pick(ctx, 32, 64, 128), n_train = lab_pick(ctx, 512, 0, 0);
    const int epochs = lab_pick(ctx, 1, 1, 2);
    const char *init = ctx->override_init ? ctx->override_init : "zeros";
    const int n_test = ctx->data->n_test;
    lab_setup(r,
              "784 -> [dense %d ACT] x2 -> dense 10, ACT in tanh, relu, sigmoid; every weight %s, every bias "
              "zeros; SGD lr 0.05, momentum 0.9, batch 128, %d epoch%s on %d examples; %d balanced test "
              "examples (%d per class); distinct units counted on 256 test inputs, equal within %g relative. "
              "Each net is trained twice: with the order-preserving matrix product (the checks: the claim is "
              "about exact arithmetic) and with OpenBLAS (the notes).",
              width, init, epochs, epochs > 1 ? "s" : "", n_train ? n_train : ctx->data->n_train, n_test, n_test / 10,
              SYM_TOL);
    int blas_broke = 0;
    for (int a = 0; a < 3; a++) {
        char arch[128], label[64], name[96], pred[128];
        snprintf(arch, sizeof arch, "784 -> [dense %d %s] x2 -> dense 10", width, acts[a]);
        snprintf(label, sizeof label, "%s, %s init", acts[a], init);
        sym_run ex, bl;
        nninit_status st = train_sym(ctx, arch, init, NNINIT_MATMUL_REFERENCE, epochs, n_train, label, r, &ex);
        if (!st) st = train_sym(ctx, arch, init, NNINIT_MATMUL_BLAS, epochs, n_train, label, NULL, &bl);
        if (st) return st;
        snprintf(name, sizeof name, "%s: hidden units identical after training", acts[a]);
        lab_check(r, name, "distinct units per hidden layer = 1", ex.distinct, LAB_EQ, 1, 0, "units");
        if (a < 2) { /* tanh(0) = 0 and relu'(0) = 0: nothing below the output bias moves */
            snprintf(name, sizeof name, "%s: test accuracy is chance", acts[a]);
            snprintf(pred, sizeof pred, "exactly 10.00%% (one class for every input; %d per class)", n_test / 10);
            lab_check(r, name, pred, ex.acc, LAB_EQ, 10.0, 0, "%");
        } else { /* sigmoid(0) = 1/2: the gradient reaches the first layer */
            lab_check(r, "sigmoid: first-layer weights move", "||W1|| > 0 after training", ex.w1, LAB_GT, 0, 0, "");
        }
        char rows[80] = "";
        if (bl.distinct > 1) snprintf(rows, sizeof rows, " (rows of W1 up to %.2g apart, relative)", bl.spread);
        lab_note(r,
                 "%s: %d and %d distinct units in the two hidden layers, ||W1|| = %.3g, test accuracy %.2f%%; with "
                 "OpenBLAS %d and %d distinct units%s, %.2f%%. ",
                 acts[a], ex.per[0], ex.per[1], ex.w1, ex.acc, bl.per[0], bl.per[1], rows, bl.acc);
        blas_broke |= bl.distinct > 1;
    }
    if (!blas_broke)
        lab_note(r, "OpenBLAS kept the symmetry on this machine too (core %s). ", lab_machine_info()->blas_core);
    if (!ctx->override_init) note_rounding(r);
    char arch[128];
    snprintf(arch, sizeof arch, "784 -> [dense %d tanh] x2 -> dense 10", width);
    lab_probe(ctx, arch, init, "zeros", NULL, "tanh at init", r);
    return NNINIT_OK;
}

const lab_experiment lab_exp_zero_init = {
    "zero-init", "Zero init: every unit stays the same",
    "With all weights zero, the hidden units of a layer receive identical gradients and stay identical forever. "
    "With tanh and ReLU (f(0) = 0, and relu'(0) = 0) nothing but the output bias learns, so the net predicts "
    "one class: exactly 10.00% on Fashion-MNIST's balanced test set. With sigmoid (f(0) = 1/2) the weights "
    "move, but the units stay identical.",
    "seed 000 (the symmetry problem); Goodfellow, Bengio & Courville 2016, Deep Learning, §8.4", run_zero_init};

/* ---- 2. constant non-zero init ---------------------------------------------- */

/* The same constant net trained for 1, 2, 4, ... steps under product mm:
 * the spread of its first layer's weight rows each time (xs, ys; *n of
 * them). */
static nninit_status spread_by_steps(const lab_ctx *ctx, const char *arch, const char *init, nninit_matmul mm,
                                     int epochs, int n_train, double *xs, double *ys, int *n) {
    const long total = (long)epochs * ((n_train ? n_train : ctx->data->n_train) / 128);
    *n = 0;
    for (long steps = 1; steps <= total && *n < 16; steps *= 2) {
        nninit_net *net;
        nninit_status st = lab_net(ctx, arch, init, "zeros", 1000, 0, &net);
        if (st) return st;
        nninit_net_set_matmul(net, mm);
        nninit_train_opts o = lab_train_opts(ctx, 0.05, 0.9, epochs);
        o.max_steps = steps, o.evals_per_epoch = 0, o.eval_train_at_init = 0;
        nninit_dataset tr = lab_train_set(ctx->data, n_train);
        nninit_train_report rep;
        st = nninit_train_run(net, &o, &tr, NULL, NULL, NULL, &rep);
        nninit_train_report_free(&rep);
        xs[*n] = (double)steps, ys[*n] = row_spread(net, 0);
        nninit_net_free(net);
        if (st && st != NNINIT_ERR_DIVERGED) return lab_set_error("constant-init: %s", nninit_last_error()), st;
        (*n)++;
    }
    return NNINIT_OK;
}

static nninit_status run_constant_init(const lab_ctx *ctx, lab_result *r) {
    const int width = lab_pick(ctx, 32, 64, 128), n_train = lab_pick(ctx, 512, 0, 0);
    const int epochs = lab_pick(ctx, 1, 2, 2);
    const int n_test = ctx->data->n_test;
    const char *cinit = ctx->override_init ? ctx->override_init : "constant(value=0.001)";
    const char *pinit = "normal(mean=0.001,std=0.0001)";
    char arch[128];
    snprintf(arch, sizeof arch, "784 -> [dense %d tanh] x2 -> dense 10", width);
    lab_setup(r,
              "%s; weights %s against %s (the same constant plus a 10%% Gaussian perturbation), biases zeros; "
              "SGD lr 0.05, momentum 0.9, batch 128, %d epochs on %d examples; %d test examples. The constant net "
              "is trained with the order-preserving matrix product (the checks: the claim is about exact "
              "arithmetic) and again with OpenBLAS (the notes and the plot); the perturbed net with OpenBLAS.",
              arch, cinit, pinit, epochs, n_train ? n_train : ctx->data->n_train, n_test);
    sym_run c, cb, p;
    nninit_status st = train_sym(ctx, arch, cinit, NNINIT_MATMUL_REFERENCE, epochs, n_train, "constant 0.001", r, &c);
    if (!st) st = train_sym(ctx, arch, cinit, NNINIT_MATMUL_BLAS, epochs, n_train, "constant 0.001", NULL, &cb);
    if (!st)
        st = train_sym(ctx, arch, pinit, NNINIT_MATMUL_BLAS, epochs, n_train, "constant 0.001 + N(0, 0.0001^2)", r, &p);
    if (st) return st;
    /* How the symmetric state evolves under each product. */
    double xs[16], ys[16], xb[16], yb[16];
    int ns, nb;
    if ((st = spread_by_steps(ctx, arch, cinit, NNINIT_MATMUL_REFERENCE, epochs, n_train, xs, ys, &ns))) return st;
    if ((st = spread_by_steps(ctx, arch, cinit, NNINIT_MATMUL_BLAS, epochs, n_train, xb, yb, &nb))) return st;
    double worst = 0;
    for (int i = 0; i < ns; i++) worst = fmax(worst, ys[i]);
    lab_plot *pl = lab_plot_add(r, "Constant init: spread of the first layer's weight rows (OpenBLAS)", "SGD steps",
                                "max relative difference between rows (0 not shown)", 1);
    lab_series_add(pl, "constant 0.001, OpenBLAS", xb, yb, nb, 0);
    lab_check(r, "constant: the update itself is symmetric", "weight rows of layer 1 identical after one step", ys[0],
              LAB_EQ, 0, 0, "");
    char pred[128];
    snprintf(pred, sizeof pred, "weight rows of layer 1 identical after each of 1, 2, 4 .. %g steps", xs[ns - 1]);
    lab_check(r, "constant: rows stay identical through training", pred, worst, LAB_EQ, 0, 0, "");
    lab_check(r, "constant: hidden units identical after training", "distinct units per hidden layer = 1", c.distinct,
              LAB_EQ, 1, 0, "units");
    snprintf(pred, sizeof pred, "distinct units in each hidden layer = width (%d)", width);
    int least = p.per[0] < p.per[1] ? p.per[0] : p.per[1];
    lab_check(r, "perturbed: symmetry broken", pred, least, LAB_EQ, width, 0, "units");
    double noise = lab_acc_noise(c.acc / 100, n_test, 2.0) * 100 + lab_acc_noise(p.acc / 100, n_test, 2.0) * 100;
    lab_check(r, "perturbed: learns more than the symmetric net", "test accuracy gain over constant > 0 points",
              p.acc - c.acc, LAB_GT, 0, noise, "points");
    lab_note(r,
             "Constant init, order-preserving product: %d and %d distinct units after training, test accuracy "
             "%.2f%%. The same with OpenBLAS: %d and %d distinct units, %.2f%%. Perturbed: %d and %d distinct, "
             "%.2f%%. ",
             c.per[0], c.per[1], c.acc, cb.per[0], cb.per[1], cb.acc, p.per[0], p.per[1], p.acc);
    int first = -1;
    for (int i = 0; i < nb && first < 0; i++)
        if (yb[i] > 0) first = i;
    if (first >= 0) {
        lab_note(r,
                 "With OpenBLAS the weight rows stay bit-identical for %g step%s, then differ by %.2g (relative) "
                 "after %g steps and by %.2g after %g. ",
                 first > 0 ? xb[first - 1] : 0.0, first == 1 ? "" : "s", yb[first], xb[first], yb[nb - 1], xb[nb - 1]);
    } else {
        lab_note(r, "With OpenBLAS (core %s) the weight rows stayed bit-identical for all %g steps too. ",
                 lab_machine_info()->blas_core, xb[nb - 1]);
    }
    if (!ctx->override_init) note_rounding(r);
    lab_probe(ctx, arch, cinit, "zeros", NULL, "constant 0.001", r);
    return NNINIT_OK;
}

const lab_experiment lab_exp_constant_init = {
    "constant-init", "Constant init: symmetry, and how a tiny perturbation breaks it",
    "A constant non-zero init keeps the units of a layer identical through training: the layer acts as one unit. "
    "A tiny random perturbation of the same constant breaks the symmetry and the net learns.",
    "seed 000 (the symmetry problem); Goodfellow, Bengio & Courville 2016, §8.4", run_constant_init};

/* ---- 3. small random init, deep tanh ---------------------------------------- */

/* Probe, then train one epoch (SGD lr 0.01, momentum 0.9), each of two inits
 * with zero biases: p[k] the probe, acc[k] the final test accuracy in percent,
 * rep[k] (if rep) the training report, to be freed by the caller. */
static nninit_status probe_and_train(const lab_ctx *ctx, const char *arch, const char *const inits[2],
                                     const char *const labels[2], int n_train, lab_result *r,
                                     const nninit_probe_report *p[2], double acc[2], nninit_train_report *rep) {
    for (int k = 0; k < 2; k++) {
        p[k] = lab_probe(ctx, arch, inits[k], "zeros", NULL, labels[k], r);
        if (!p[k]) return NNINIT_ERR_PARAM;
        nninit_net *net;
        nninit_status st = lab_net(ctx, arch, inits[k], "zeros", 1000, 0, &net);
        if (st) return st;
        nninit_train_opts o = lab_train_opts(ctx, 0.01, 0.9, 1);
        st = lab_train(ctx, net, &o, n_train, labels[k], r, &acc[k], rep ? &rep[k] : NULL);
        nninit_net_free(net);
        if (st) {
            if (rep && k) nninit_train_report_free(&rep[0]);
            return st;
        }
        acc[k] = acc_pct(acc[k], ctx->data->n_test);
    }
    return NNINIT_OK;
}

static nninit_status run_small_random(const lab_ctx *ctx, lab_result *r) {
    const int width = lab_pick(ctx, 64, 256, 256), n_train = lab_pick(ctx, 512, 0, 0), depth = 20;
    const int n_test = ctx->data->n_test;
    const char *small = ctx->override_init ? ctx->override_init : "normal(std=0.01)";
    char arch[128];
    snprintf(arch, sizeof arch, "784 -> [dense %d tanh] x%d -> dense 10", width, depth);
    lab_setup(r,
              "%s; %s against xavier_normal, biases zeros; SGD lr 0.01, momentum 0.9, batch 128, one epoch "
              "on %d examples; %d test examples. Activation std by depth from the probe (a batch of 256 "
              "training images).",
              arch, small, n_train ? n_train : ctx->data->n_train, n_test);
    const char *inits[2] = {small, "xavier_normal"}, *labels[2] = {"N(0, 0.01^2)", "xavier_normal"};
    const nninit_probe_report *p[2];
    double acc[2];
    nninit_status st = probe_and_train(ctx, arch, inits, labels, n_train, r, p, acc, NULL);
    if (st) return st;
    double ratio = std_ratio(p[0], 0, depth - 1), xr = std_ratio(p[1], 0, depth - 1);
    lab_check(r, "N(0, 0.01^2): activations vanish with depth", "std(layer 20) / std(layer 1) < 1e-6", ratio, LAB_LT,
              1e-6, 0, "");
    double n0 = 100 * lab_acc_noise(acc[0] / 100, n_test, 2.0), n1 = 100 * lab_acc_noise(acc[1] / 100, n_test, 2.0);
    lab_check(r, "N(0, 0.01^2): does not learn in one epoch", "test accuracy < 20% (chance 10%)", acc[0], LAB_LT, 20,
              n0, "%");
    lab_check(r, "xavier_normal: learns in one epoch", "test accuracy > 50%", acc[1], LAB_GT, 50, n1, "%");
    lab_note(r,
             "Layer-20/layer-1 activation std: %.3g with N(0, 0.01^2), %.3g with Xavier. Test accuracy after "
             "one epoch: %.2f%% and %.2f%%.",
             ratio, xr, acc[0], acc[1]);
    plot_std(r, p, labels, 2, depth);
    return NNINIT_OK;
}

const lab_experiment lab_exp_small_random = {
    "small-random", "Small random init: activations vanish with depth",
    "Weights drawn from N(0, 0.01^2) shrink the signal at every tanh layer: in a 20-layer net the activations "
    "(and the gradients) vanish with depth and the net does not learn in one epoch; Xavier's scaling keeps the "
    "variance and it does.",
    "seed 000 (vanishing); Glorot & Bengio 2010, Understanding the difficulty of training deep feedforward "
    "neural networks, §4",
    run_small_random};

/* ---- 4. large random init, tanh ---------------------------------------------- */

static nninit_status run_large_random(const lab_ctx *ctx, lab_result *r) {
    const int width = lab_pick(ctx, 64, 256, 256), n_train = lab_pick(ctx, 512, 0, 0), depth = 10;
    const int n_test = ctx->data->n_test;
    const char *large = ctx->override_init ? ctx->override_init : "normal(std=1)";
    char arch[128];
    snprintf(arch, sizeof arch, "784 -> [dense %d tanh] x%d -> dense 10", width, depth);
    lab_setup(r,
              "%s; %s against xavier_normal, biases zeros; SGD lr 0.01, momentum 0.9, batch 128, one epoch "
              "on %d examples; %d test examples. Saturation (|tanh| > 0.99) from the probe.",
              arch, large, n_train ? n_train : ctx->data->n_train, n_test);
    const char *inits[2] = {large, "xavier_normal"}, *labels[2] = {"N(0, 1)", "xavier_normal"};
    const nninit_probe_report *p[2];
    double acc[2];
    nninit_train_report rep[2];
    nninit_status st = probe_and_train(ctx, arch, inits, labels, n_train, r, p, acc, rep);
    if (st) return st;
    double sat = mean_saturated(p[0], depth), xsat = mean_saturated(p[1], depth);
    lab_check(r, "N(0, 1): most units saturate", "mean over hidden layers of the fraction |tanh| > 0.99 > 50%",
              100 * sat, LAB_GT, 50, 0, "%");
    double gap = acc[1] - (rep[0].diverged ? 10.0 : acc[0]); /* a diverged run counts as chance */
    double noise = 100 * (lab_acc_noise(acc[0] / 100, n_test, 2.0) + lab_acc_noise(acc[1] / 100, n_test, 2.0));
    lab_check(r, "N(0, 1): training is slow",
              "test accuracy after one epoch below Xavier's by > 5 points (diverged = chance)", gap, LAB_GT, 5, noise,
              "points");
    double l0 = rep[0].n_points > 1 ? rep[0].points[0].test_loss : NAN;
    lab_note(r,
             "Saturated fraction (mean over layers): %.1f%% with N(0, 1), %.1f%% with Xavier. Test loss at init "
             "%.3g with N(0, 1) (Xavier %.3g). Test accuracy after one epoch: %.2f%% against %.2f%%%s.",
             100 * sat, 100 * xsat, l0, rep[1].n_points ? rep[1].points[0].test_loss : NAN, acc[0], acc[1],
             rep[0].diverged ? " (N(0, 1) diverged)" : "");
    nninit_train_report_free(&rep[0]);
    nninit_train_report_free(&rep[1]);
    return NNINIT_OK;
}

const lab_experiment lab_exp_large_random = {
    "large-random", "Large random init: tanh units saturate",
    "Weights drawn from N(0, 1) make the pre-activations of a 256-wide tanh layer about 16 standard deviations "
    "wide: most units saturate at +-1, their gradients vanish, and training is unstable or slow.",
    "seed 000 (exploding, saturation); Glorot & Bengio 2010, §3; LeCun et al. 1998, Efficient BackProp, §4.6",
    run_large_random};

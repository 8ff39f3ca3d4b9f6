/* exp_depth.c -- the lab's experiments 5 to 8: how the right scale depends on
 * depth and activation (Xavier against He on deep ReLU, tanh and sigmoid
 * nets), shallow nets, and deep residual nets without normalization. */
#include <math.h>
#include <stdio.h>

#include "lab.h"

#define LN10 2.302585092994046 /* cross-entropy of a uniform guess over 10 classes */

/* Test accuracy in percent from the exact count of correct answers. */
static double acc_pct(double acc, int n) {
    if (!isfinite(acc)) return NAN;
    return 100.0 * round(acc * n) / n;
}

/* Two binomial standard errors of an accuracy in percent (0 for NaN). */
static double acc_noise_pct(double pct, int n) { return isfinite(pct) ? 100 * lab_acc_noise(pct / 100, n, 2.0) : 0; }

/* The last point's mean minibatch loss (NaN if the run diverged). */
static double final_train_loss(const nninit_train_report *rep) {
    if (rep->diverged || rep->n_points < 1) return NAN;
    return rep->points[rep->n_points - 1].train_loss;
}

/* One evaluation interval past the end of a run: where a run that never got
 * somewhere is put, so that it still compares as "later". */
static double censored(const nninit_train_opts *o) {
    return o->epochs + 1.0 / (o->evals_per_epoch > 0 ? o->evals_per_epoch : 1);
}

/* Epoch of the first evaluation point (after init) whose training loss is
 * below level, else censored(o). */
static double epochs_to(const nninit_train_report *rep, double level, const nninit_train_opts *o) {
    for (int i = 1; i < rep->n_points; i++)
        if (rep->points[i].train_loss < level) return rep->points[i].epoch;
    return censored(o);
}

/* Post-activation std of layer last over layer first. */
static double std_ratio(const nninit_probe_report *p, int first, int last) {
    if (!p || last >= p->n_layers) return NAN;
    return p->layers[last].post_std / p->layers[first].post_std;
}

/* A per-layer quantity of probe reports against depth, one series each:
 * layers first .. first+count-1, drawn at x = 1 .. count. */
typedef enum {
    Q_POST_STD,
    Q_GRAD_STD,
    Q_SATURATED
} layer_qty;

static void plot_layers(lab_result *r, const char *title, const char *xlabel, const char *ylabel, int logy, layer_qty q,
                        const nninit_probe_report *const *p, const char *const *labels, int n, int first, int count) {
    lab_plot *pl = lab_plot_add(r, title, xlabel, ylabel, logy);
    for (int k = 0; k < n; k++) {
        if (!p[k] || first + count > p[k]->n_layers) continue;
        double x[1024], y[1024];
        int m = count < 1024 ? count : 1024;
        for (int l = 0; l < m; l++) {
            const nninit_probe_layer *pl_ = &p[k]->layers[first + l];
            x[l] = l + 1;
            y[l] = q == Q_POST_STD ? pl_->post_std : q == Q_GRAD_STD ? pl_->grad_std : 100 * pl_->saturated;
        }
        lab_series_add(pl, labels[k], x, y, m, 0);
    }
}

/* Build arch under init, train it, keep the curve; rep filled (free it). */
static nninit_status build_and_train(const lab_ctx *ctx, const char *arch, const char *init, const char *bias,
                                     const nninit_train_opts *o, int n_train, const char *label, lab_result *r,
                                     double *acc, nninit_train_report *rep, nninit_net **keep) {
    nninit_net *net;
    nninit_status st = lab_net(ctx, arch, init, bias, 1000, 0, &net);
    if (st) return st;
    st = lab_train(ctx, net, o, n_train, label, r, acc, rep);
    if (!st && keep) *keep = net;
    else nninit_net_free(net);
    if (!st) *acc = acc_pct(*acc, ctx->data->n_test);
    return st;
}

/* ---- 5. Xavier against He on a deep ReLU net ------------------------------- */

static nninit_status run_relu_depth(const lab_ctx *ctx, lab_result *r) {
    const int width = lab_pick(ctx, 32, 128, 256), n_train = lab_pick(ctx, 512, 0, 0);
    const int epochs = lab_pick(ctx, 1, 3, 2), n_test = ctx->data->n_test, depths[2] = {30, 22};
    const double lr = 0.01, moved = 0.2, loss_noise = 0.05;
    const char *he = ctx->override_init ? ctx->override_init : "kaiming_normal(nonlinearity=relu)";
    const char *inits[2] = {"xavier_normal", he}, *names[2] = {"Xavier", "He"};
    lab_setup(r,
              "784 -> [dense %d relu] xL -> dense 10, L = 30 and 22; xavier_normal (gain 1) against %s%s, "
              "biases zeros; SGD lr %g, momentum 0.9, batch 128, %d epoch%s on %d examples, training loss "
              "(mean minibatch loss per quarter epoch) and test accuracy on %d examples. \"Moves\": the training "
              "loss falls more than %g nats below ln 10 = %.3f (chance). Probe: a batch of 256 training images.",
              width, he, ctx->override_init ? " (test override of He)" : " (fan_in)", lr, epochs, epochs > 1 ? "s" : "",
              n_train ? n_train : ctx->data->n_train, n_test, moved, LN10);
    double acc[2][2], loss[2][2], reach[2][2], never = 0;
    long steps = 0;
    int div[2][2];
    const nninit_probe_report *p[2] = {NULL, NULL};
    for (int d = 0; d < 2; d++)
        for (int k = 0; k < 2; k++) {
            char arch[96], label[64];
            snprintf(arch, sizeof arch, "784 -> [dense %d relu] x%d -> dense 10", width, depths[d]);
            snprintf(label, sizeof label, "%s, %d layers", names[k], depths[d]);
            if (d == 0 && !(p[k] = lab_probe(ctx, arch, inits[k], "zeros", NULL, label, r))) return NNINIT_ERR_PARAM;
            nninit_train_opts o = lab_train_opts(ctx, lr, 0.9, epochs);
            nninit_train_report rep;
            nninit_status st =
                build_and_train(ctx, arch, inits[k], "zeros", &o, n_train, label, r, &acc[d][k], &rep, NULL);
            if (st) return st;
            loss[d][k] = final_train_loss(&rep);
            reach[d][k] = epochs_to(&rep, LN10 - moved, &o);
            never = censored(&o);
            steps = rep.steps > steps ? rep.steps : steps;
            div[d][k] = rep.diverged;
            nninit_train_report_free(&rep);
        }
    char pred[128];
    lab_check(r, "30 layers, He: trains", "test accuracy > 50% (chance 10%)", acc[0][1], LAB_GT, 50,
              acc_noise_pct(acc[0][1], n_test), "%");
    snprintf(pred, sizeof pred, "final training loss within %g nats of ln 10 (after %ld steps)", moved, steps);
    lab_check(r, "30 layers, Xavier: stalls for the whole run", pred, fabs(loss[0][0] - LN10), LAB_LT, moved,
              loss_noise, "nats");
    char first[128];
    snprintf(first, sizeof first, "He's loss falls below ln 10 - %g in fewer epochs than Xavier's (difference > 0)",
             moved);
    lab_check(r, "30 layers: He leaves the plateau first", first, reach[0][0] - reach[0][1], LAB_GT, 0, 0, "epochs");
    snprintf(pred, sizeof pred, "ln 10 - final training loss > %g nats", moved);
    lab_check(r, "22 layers, Xavier: moves", pred, LN10 - loss[1][0], LAB_GT, moved, loss_noise, "nats");
    lab_check(r, "22 layers, He: moves", pred, LN10 - loss[1][1], LAB_GT, moved, loss_noise, "nats");
    lab_check(r, "22 layers: He moves first", first, reach[1][0] - reach[1][1], LAB_GT, 0, 0, "epochs");
    for (int d = 0; d < 2; d++)
        lab_note(r,
                 "%d layers: test accuracy Xavier %.2f%%%s, He %.2f%%%s; final training loss %.3f and %.3f; loss "
                 "below %.2f at epoch %.2f and %.2f (%.2f = not within the run). ",
                 depths[d], acc[d][0], div[d][0] ? " (diverged)" : "", acc[d][1], div[d][1] ? " (diverged)" : "",
                 loss[d][0], loss[d][1], LN10 - moved, reach[d][0], reach[d][1], never);
    lab_note(r,
             "%ld steps per epoch. At init, layer-30/layer-1 activation std: Xavier %.3g, He %.3g; "
             "layer-1/layer-30 gradient std: Xavier %.3g, He %.3g.",
             steps / epochs, std_ratio(p[0], 0, 29), std_ratio(p[1], 0, 29),
             p[0]->layers[0].grad_std / p[0]->layers[29].grad_std,
             p[1]->layers[0].grad_std / p[1]->layers[29].grad_std);
    const char *labels[2] = {"xavier_normal", "kaiming_normal (He)"};
    plot_layers(r, "30 ReLU layers at init: activation std by depth", "hidden layer", "std of post-activation", 1,
                Q_POST_STD, p, labels, 2, 0, 30);
    plot_layers(r, "30 ReLU layers at init: gradient std by depth", "hidden layer", "std of dL/d(pre-activation)", 1,
                Q_GRAD_STD, p, labels, 2, 0, 30);
    return NNINIT_OK;
}

const lab_experiment lab_exp_relu_depth = {
    "relu-depth", "Deep ReLU nets: Xavier stalls where He trains",
    "Xavier's variance 2/(fan_in + fan_out) ignores that ReLU zeroes half its inputs, so the signal halves in "
    "variance at every layer. On a 30-layer ReLU net He's 2/fan_in trains and Xavier stalls; at 22 layers both "
    "converge, He sooner. Plain SGD with momentum (Adam's per-parameter scaling hides the init's scale).",
    "He, Zhang, Ren & Sun 2015, Delving Deep into Rectifiers, §2.2 and Figs. 2-3; seed 000 (depth and activation)",
    run_relu_depth};

/* ---- 6. Xavier against He on tanh and sigmoid nets ------------------------- */

/* Fraction of saturated post-activations (tanh |y| > 0.99, sigmoid outside
 * [0.01, 0.99], as the probe counts them), mean over the hidden layers of net
 * on the first 256 rows of x (n rows). */
static double saturation(nninit_net *net, const float *x, int n, int n_hidden, int sigmoid) {
    int batch = n < 256 ? n : 256;
    if (nninit_net_forward(net, x, batch)) return NAN;
    double sat = 0;
    for (int l = 0; l < n_hidden; l++) {
        nninit_layer_view v;
        if (nninit_net_layer(net, l, &v)) return NAN;
        long cnt = 0, m = (long)batch * v.out_size;
        for (long i = 0; i < m; i++) {
            double y = v.post[i];
            cnt += sigmoid ? (y < 0.01 || y > 0.99) : fabs(y) > 0.99;
        }
        sat += (double)cnt / (double)m;
    }
    return sat / n_hidden;
}

static nninit_status run_tanh_sigmoid(const lab_ctx *ctx, lab_result *r) {
    /* Sigmoid nets deeper than about 5 layers sat on the ln 10 plateau under
     * both inits for 4 epochs at lr 0.01 to 1 in exploration (Glorot &
     * Bengio's plateau), which would compare nothing: 4 layers for sigmoid. */
    static const char *const acts[2] = {"tanh", "sigmoid"};
    const int depth[2] = {8, 4};
    const double lr[2] = {0.01, 0.1};
    const int width = lab_pick(ctx, 32, 256, 256), n_train = lab_pick(ctx, 512, 0, 0), n_test = ctx->data->n_test;
    const int epochs[2] = {lab_pick(ctx, 1, 2, 2), lab_pick(ctx, 1, 3, 3)};
    const char *xav = ctx->override_init ? ctx->override_init : "xavier_normal";
    const char *inits[2] = {xav, "kaiming_normal(nonlinearity=relu)"};
    const char *labels[2][2] = {{"tanh, Xavier", "tanh, He"}, {"sigmoid, Xavier", "sigmoid, He"}};
    lab_setup(r,
              "784 -> [dense %d tanh] x%d -> dense 10 (SGD lr %g, %d epoch%s) and 784 -> [dense %d sigmoid] x%d "
              "-> dense 10 (lr %g, %d epoch%s); %s%s against "
              "kaiming_normal(nonlinearity=relu) (He, 2/fan_in), biases zeros; momentum 0.9, batch 128, %d "
              "training and %d test examples. Saturated: |tanh| > 0.99, sigmoid outside [0.01, 0.99], mean over "
              "hidden layers, at init (256 training images) and after training (256 test images).",
              width, depth[0], lr[0], epochs[0], epochs[0] > 1 ? "s" : "", width, depth[1], lr[1], epochs[1],
              epochs[1] > 1 ? "s" : "", xav,
              ctx->override_init ? " (test override of xavier_normal)" : " (variance 2/(fan_in+fan_out))",
              n_train ? n_train : ctx->data->n_train, n_test);
    const nninit_probe_report *p[2] = {NULL, NULL};
    for (int a = 0; a < 2; a++) {
        char arch[96], name[96];
        snprintf(arch, sizeof arch, "784 -> [dense %d %s] x%d -> dense 10", width, acts[a], depth[a]);
        double acc[2], sat0[2], sat1[2];
        for (int k = 0; k < 2; k++) {
            /* the probe (histograms, std by depth) for tanh only: each probe reloads the data set */
            if (a == 0 && !(p[k] = lab_probe(ctx, arch, inits[k], "zeros", NULL, labels[a][k], r)))
                return NNINIT_ERR_PARAM;
            nninit_net *net;
            nninit_status st = lab_net(ctx, arch, inits[k], "zeros", 1000, 0, &net);
            if (st) return st;
            sat0[k] = saturation(net, ctx->data->train_x, ctx->data->n_train, depth[a], a == 1);
            nninit_train_opts o = lab_train_opts(ctx, lr[a], 0.9, epochs[a]);
            nninit_train_report rep;
            if ((st = lab_train(ctx, net, &o, n_train, labels[a][k], r, &acc[k], &rep))) {
                nninit_net_free(net);
                return st;
            }
            sat1[k] = rep.diverged ? NAN : saturation(net, ctx->data->test_x, n_test, depth[a], a == 1);
            acc[k] = rep.diverged ? 10.0 : acc_pct(acc[k], n_test); /* a diverged run counts as chance */
            nninit_train_report_free(&rep);
            nninit_net_free(net);
        }
        snprintf(name, sizeof name, "%s: He saturates more units at init", acts[a]);
        lab_check(r, name, "saturated fraction He - Xavier > 0 points", 100 * (sat0[1] - sat0[0]), LAB_GT, 0, 0,
                  "points");
        snprintf(name, sizeof name, "%s: Xavier fits at least as well as He", acts[a]);
        double noise = acc_noise_pct(acc[0], n_test) + acc_noise_pct(acc[1], n_test);
        lab_check(r, name, "test accuracy Xavier - He >= 0 points (diverged = chance)", acc[0] - acc[1], LAB_GE, 0,
                  noise, "points");
        lab_note(r,
                 "%s: saturated %.2f%% (Xavier) and %.2f%% (He) at init, %.2f%% and %.2f%% after training; test "
                 "accuracy %.2f%% and %.2f%%. ",
                 acts[a], 100 * sat0[0], 100 * sat0[1], 100 * sat1[0], 100 * sat1[1], acc[0], acc[1]);
    }
    const char *plabels[2] = {"xavier_normal", "kaiming_normal (He)"};
    plot_layers(r, "tanh at init: activation std by depth", "hidden layer", "std of post-activation", 0, Q_POST_STD, p,
                plabels, 2, 0, depth[0]);
    plot_layers(r, "tanh at init: saturated units by depth", "hidden layer", "saturated, |tanh| > 0.99 (%)", 0,
                Q_SATURATED, p, plabels, 2, 0, depth[0]);
    return NNINIT_OK;
}

const lab_experiment lab_exp_tanh_sigmoid = {
    "tanh-sigmoid", "tanh and sigmoid nets: Xavier against He",
    "For tanh and sigmoid, Xavier's variance 2/(fan_in + fan_out) keeps the signal in the units' linear range; "
    "He's larger variance (2/fan_in, derived for ReLU) pushes more units into saturation, and Xavier trains at "
    "least as well.",
    "Glorot & Bengio 2010, Understanding the difficulty of training deep feedforward neural networks, §4-5; "
    "He et al. 2015, §2.2; seed 000 (depth and activation)",
    run_tanh_sigmoid};

/* ---- 7. shallow nets: every sensible init ----------------------------------- */

static nninit_status run_shallow(const lab_ctx *ctx, lab_result *r) {
    enum {
        N_INITS = 6
    };
    static const char *const inits[N_INITS] = {
        NULL, "xavier_uniform", "xavier_normal", "kaiming_normal(nonlinearity=relu)", "lecun_normal", "orthogonal"};
    static const char *const names[N_INITS] = {"PyTorch default", "xavier_uniform", "xavier_normal",
                                               "kaiming_normal",  "lecun_normal",   "orthogonal"};
    const int width = lab_pick(ctx, 32, 256, 256), n_train = lab_pick(ctx, 512, 0, 0), n_test = ctx->data->n_test;
    const int epochs = lab_pick(ctx, 1, 4, 3);
    const double lr = 0.01, max_spread = 2.0;
    lab_setup(r,
              "784 -> [dense %d relu] xH -> dense 10, H = 1 and 2; inits (1) PyTorch's nn.Linear default "
              "(weights and biases U(+-1/sqrt(fan_in))), (2) xavier_uniform, (3) xavier_normal, (4) "
              "kaiming_normal(nonlinearity=relu), (5) lecun_normal, (6) orthogonal, biases zeros for (2)-(6); "
              "same seed for all; SGD lr %g, momentum 0.9, batch 128, %d epoch%s on %d examples; %d test "
              "examples.",
              width, lr, epochs, epochs > 1 ? "s" : "", n_train ? n_train : ctx->data->n_train, n_test);
    double acc[2][N_INITS], x[N_INITS];
    lab_plot *pl = lab_plot_add(r, "Shallow ReLU nets: final test accuracy per init", "init (numbered as in the setup)",
                                "test accuracy (%)", 0);
    for (int h = 0; h < 2; h++) {
        char arch[96];
        snprintf(arch, sizeof arch, "784 -> [dense %d relu] x%d -> dense 10", width, h + 1);
        int lo = 0, hi = 0;
        double mid[N_INITS], mid_epoch = 0, mid_lo = INFINITY, mid_hi = -INFINITY;
        for (int k = 0; k < N_INITS; k++) {
            char label[64];
            snprintf(label, sizeof label, "%s, %d hidden", names[k], h + 1);
            nninit_train_opts o = lab_train_opts(ctx, lr, 0.9, epochs);
            nninit_train_report rep;
            nninit_status st = build_and_train(ctx, arch, inits[k], inits[k] ? "zeros" : NULL, &o, n_train, label, r,
                                               &acc[h][k], &rep, NULL);
            if (st) return st;
            mid[k] = NAN;
            if (!rep.diverged) { /* the evaluation halfway: how far apart the inits were on the way */
                mid[k] = acc_pct(rep.points[(rep.n_points - 1) / 2].test_acc, n_test);
                mid_epoch = rep.points[(rep.n_points - 1) / 2].epoch;
            }
            nninit_train_report_free(&rep);
            x[k] = k + 1;
            /* a diverged run (NaN) makes the spread NaN: the check fails, as it should */
            if (acc[h][k] < acc[h][lo]) lo = k;
            if (acc[h][k] > acc[h][hi]) hi = k;
        }
        double spread = acc[h][hi] - acc[h][lo];
        for (int k = 0; k < N_INITS; k++)
            if (isnan(acc[h][k])) spread = NAN;
        char name[96], pred[128], sl[32];
        snprintf(name, sizeof name, "%d hidden layer%s: inits reach similar accuracy", h + 1, h ? "s" : "");
        snprintf(pred, sizeof pred, "max - min test accuracy over the 6 inits <= %g points", max_spread);
        lab_check(r, name, pred, spread, LAB_LE, max_spread,
                  acc_noise_pct(acc[h][hi], n_test) + acc_noise_pct(acc[h][lo], n_test), "points");
        lab_note(r, "%d hidden: ", h + 1);
        for (int k = 0; k < N_INITS; k++) lab_note(r, "%s%.2f%%", k ? ", " : "", acc[h][k]);
        for (int k = 0; k < N_INITS; k++) mid_lo = fmin(mid_lo, mid[k]), mid_hi = fmax(mid_hi, mid[k]);
        lab_note(r, " (inits 1-6); spread %.2f points (%.2f at epoch %.2f), lowest %s, highest %s. ", spread,
                 mid_hi - mid_lo, mid_epoch, names[lo], names[hi]);
        snprintf(sl, sizeof sl, "%d hidden layer%s", h + 1, h ? "s" : "");
        lab_series_add(pl, sl, x, acc[h], N_INITS, 0);
    }
    char arch[96];
    snprintf(arch, sizeof arch, "784 -> [dense %d relu] x2 -> dense 10", width);
    lab_probe(ctx, arch, NULL, NULL, NULL, "PyTorch default, 2 hidden", r);
    lab_probe(ctx, arch, "orthogonal", "zeros", NULL, "orthogonal, 2 hidden", r);
    return NNINIT_OK;
}

const lab_experiment lab_exp_shallow = {
    "shallow", "Shallow nets: any sensible init will do",
    "With one or two hidden layers there is no depth for a badly scaled signal to compound over: every sensible "
    "init (PyTorch's default, Xavier, He, LeCun, orthogonal) reaches about the same accuracy. Initialization "
    "matters less for shallow nets.",
    "seed 000 §11 (shallow nets); Glorot & Bengio 2010 (the depth dependence)", run_shallow};

/* ---- 8. deep residual MLP without normalization ----------------------------- */

static nninit_status run_residual(const lab_ctx *ctx, lab_result *r) {
    const int width = lab_pick(ctx, 32, 128, 128), n_train = lab_pick(ctx, 512, 0, 0), n_test = ctx->data->n_test;
    const int epochs = lab_pick(ctx, 1, 2, 2), blocks = 50;
    const double lr = 0.003, min_acc = 70;
    char rule_zero[96];
    if (ctx->override_init) snprintf(rule_zero, sizeof rule_zero, "init=%s", ctx->override_init);
    else snprintf(rule_zero, sizeof rule_zero, "he-zero");
    const char *rules[2] = {"he-he", rule_zero}, *he = "kaiming_normal(nonlinearity=relu)";
    lab_setup(r,
              "784 -> dense %d relu -> [res dense relu RULE] x%d -> dense 10, each block x + W2 relu(W1 x) "
              "with no normalization; RULE he-he (W1, W2 kaiming_normal fan_in, gain sqrt 2) against %s%s; "
              "other layers %s, biases zeros; SGD lr %g, momentum 0.9, batch 128, %d epoch%s on %d "
              "examples; %d test examples. Activation std by block from the probe (256 training images).",
              width, blocks, rule_zero, ctx->override_init ? " (test override of he-zero)" : " (W1 He, W2 zeros)", he,
              lr, epochs, epochs > 1 ? "s" : "", n_train ? n_train : ctx->data->n_train, n_test);
    const nninit_probe_report *p[2];
    double acc[2], ratio[2];
    nninit_train_report rep[2];
    for (int k = 0; k < 2; k++) {
        char arch[192];
        snprintf(arch, sizeof arch, "784 -> dense %d relu -> [res dense relu %s] x%d -> dense 10", width, rules[k],
                 blocks);
        if (!(p[k] = lab_probe(ctx, arch, he, "zeros", NULL, rules[k], r))) {
            if (k) nninit_train_report_free(&rep[0]);
            return NNINIT_ERR_PARAM;
        }
        ratio[k] = std_ratio(p[k], 1, blocks);
        nninit_train_opts o = lab_train_opts(ctx, lr, 0.9, epochs);
        nninit_status st = build_and_train(ctx, arch, he, "zeros", &o, n_train, rules[k], r, &acc[k], &rep[k], NULL);
        if (st) {
            if (k) nninit_train_report_free(&rep[0]);
            return st;
        }
    }
    lab_check(r, "he-he: activations explode with depth", "std(block 50) / std(block 1) > 1e3", ratio[0], LAB_GT, 1e3,
              0, "x");
    double a0 = rep[0].diverged ? 10.0 : acc[0];
    lab_check(r, "he-he: does not train", "test accuracy <= 20% (diverged = chance)", a0, LAB_LE, 20,
              acc_noise_pct(a0, n_test), "%");
    char pred[128];
    snprintf(pred, sizeof pred, "test accuracy >= %g%%", min_acc);
    lab_check(r, "he-zero: trains", pred, acc[1], LAB_GE, min_acc, acc_noise_pct(acc[1], n_test), "%");
    double r1 = isfinite(ratio[1]) && ratio[1] > 0 ? fmax(ratio[1], 1 / ratio[1]) : NAN;
    lab_check(r, "he-zero: activation std stays O(1)", "std ratio block 50 / block 1 within a factor 10 of 1", r1,
              LAB_LT, 10, 0, "x");
    lab_note(r, "he-he: std(block 50)/std(block 1) = %.3g at init, loss at init %.3g; ", ratio[0], p[0]->loss);
    if (rep[0].diverged) lab_note(r, "training diverged (loss NaN) at step %ld. ", rep[0].diverged_step);
    else lab_note(r, "after %ld steps test accuracy %.2f%%. ", rep[0].steps, acc[0]);
    lab_note(r, "%s: std ratio %.3g, loss at init %.3g; ", rule_zero, ratio[1], p[1]->loss);
    if (rep[1].diverged) lab_note(r, "training diverged (loss NaN) at step %ld.", rep[1].diverged_step);
    else lab_note(r, "final training loss %.3f, test accuracy %.2f%%.", final_train_loss(&rep[1]), acc[1]);
    nninit_train_report_free(&rep[0]);
    nninit_train_report_free(&rep[1]);
    const char *labels[2] = {"he-he", rule_zero};
    plot_layers(r, "50 residual blocks at init: activation std by block", "residual block", "std of block output", 1,
                Q_POST_STD, p, labels, 2, 1, blocks);
    plot_layers(r, "50 residual blocks at init: gradient std by block", "residual block", "std of dL/d(block output)",
                1, Q_GRAD_STD, p, labels, 2, 1, blocks);
    return NNINIT_OK;
}

const lab_experiment lab_exp_residual = {
    "residual", "Deep residual MLP without normalization: he-zero trains",
    "In a residual net without normalization each block adds its branch to the signal: with He init on both "
    "layers of the branch (the plain rule) the variance grows by a constant factor per block and explodes over 50 "
    "blocks; zeroing each branch's last layer (he-zero) starts every block as the identity, and the net trains.",
    "Goyal et al. 2017 (zero-init of the last layer of each residual branch), Zhang, Dauphin & Ma 2019 (Fixup); "
    "seed 000 residual rule he-zero",
    run_residual};

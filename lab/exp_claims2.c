/* exp_claims2.c -- lab experiments on three rules of thumb from the seed
 * documents: biases may start at zero but weights may not, a learning rate
 * does not rescue a badly scaled init, and a large random init explodes a
 * deep ReLU net. */
#include <math.h>
#include <stdio.h>

#include "lab.h"

#define LN10 2.302585092994046 /* cross-entropy of a uniform guess over 10 classes */

/* Test accuracy in percent from the exact count of correct answers; a
 * diverged run (NaN) counts as chance, 10%, where runs are compared. */
static double acc_pct(double acc, int n) {
    if (!isfinite(acc)) return NAN;
    return 100.0 * round(acc * n) / n;
}

static double or_chance(double pct) { return isfinite(pct) ? pct : 10.0; }

/* Two binomial standard errors of an accuracy in percent (0 for NaN). */
static double acc_noise_pct(double pct, int n) { return isfinite(pct) ? 100 * lab_acc_noise(pct / 100, n, 2.0) : 0; }

static double frob(const float *w, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)w[i] * w[i];
    return sqrt(s);
}

/* ---- 12. zero biases are fine, zero weights are not ------------------------ */

/* The weight layers of 784 -> [dense W relu] xZB_HIDDEN -> dense 10. */
#define ZB_HIDDEN 3
#define ZB_LAYERS (ZB_HIDDEN + 1)
#define ZB_STEPS  8 /* SGD steps watched for the gradient reaching each layer */

/* Plain SGD on one fixed batch (x, y) of net, ZB_STEPS steps: g[s][l] is
 * ||dL/dW_l|| before step s, first[l] the first step with a nonzero
 * gradient for layer l (ZB_STEPS when none). */
static nninit_status grad_arrival(nninit_net *net, const float *x, const int *y, int batch, double lr,
                                  double g[ZB_STEPS][ZB_LAYERS], int first[ZB_LAYERS]) {
    for (int l = 0; l < ZB_LAYERS; l++) first[l] = ZB_STEPS;
    for (int s = 0; s < ZB_STEPS; s++) {
        double loss;
        nninit_status st;
        if ((st = nninit_net_forward(net, x, batch)) || (st = nninit_net_loss(net, y, &loss)) ||
            (st = nninit_net_backward(net)))
            return lab_set_error("zero-bias: %s", nninit_last_error()), st;
        for (int l = 0; l < ZB_LAYERS; l++) {
            nninit_layer_view v;
            if ((st = nninit_net_layer(net, l, &v))) return lab_set_error("zero-bias: %s", nninit_last_error()), st;
            g[s][l] = frob(v.dw, v.w_rows * v.w_cols);
            if (g[s][l] > 0 && first[l] == ZB_STEPS) first[l] = s;
        }
        if ((st = nninit_net_sgd_step(net, (float)lr))) return lab_set_error("zero-bias: %s", nninit_last_error()), st;
    }
    return NNINIT_OK;
}

/* Units of dense layer l that are zero on every one of the first n rows of
 * x after a forward (ReLU: dead for these inputs), and units whose bias is
 * negative. */
static void dead_units(nninit_net *net, int l, const float *x, int n, int *dead, int *neg_bias) {
    nninit_layer_view v;
    *dead = *neg_bias = -1;
    if (nninit_net_forward(net, x, n) || nninit_net_layer(net, l, &v)) return;
    *dead = *neg_bias = 0;
    for (int j = 0; j < v.out_size; j++) {
        int on = 0;
        for (int i = 0; i < n && !on; i++) on = v.post[(size_t)i * v.out_size + j] != 0;
        *dead += !on;
        *neg_bias += v.b[j] < 0;
    }
}

static nninit_status run_zero_bias(const lab_ctx *ctx, lab_result *r) {
    enum {
        N_ARMS = 4
    };
    const int width = lab_pick(ctx, 64, 256, 256), n_train = lab_pick(ctx, 512, 0, 0), n_test = ctx->data->n_test;
    const int epochs = lab_pick(ctx, 1, 2, 1);
    const double lr = 0.01, alike = 2.0, chance_max = 20.0;
    const char *he = "kaiming_normal(nonlinearity=relu)";
    const char *zero_w = ctx->override_init ? ctx->override_init : "zeros";
    /* PyTorch's nn.Linear bias U(+-1/sqrt(fan_in)): kaiming_uniform with a =
     * sqrt 5 has bound sqrt(2/(1+5)) sqrt(3/fan_in) = 1/sqrt(fan_in), and a
     * bias takes the fans of its layer's weight (docs/GRAMMAR.md). */
    const char *torch_bias = "kaiming_uniform(a=2.2360679775)";
    const char *w_init[N_ARMS] = {he, he, he, zero_w};
    const char *b_init[N_ARMS] = {"zeros", "normal(std=0.1)", torch_bias, "normal(std=0.1)"};
    const char *labels[N_ARMS] = {"He weights, zero biases", "He weights, N(0, 0.1^2) biases",
                                  "He weights, PyTorch's biases", "zero weights, N(0, 0.1^2) biases"};
    char arch[96];
    snprintf(arch, sizeof arch, "784 -> [dense %d relu] x%d -> dense 10", width, ZB_HIDDEN);
    lab_setup(r,
              "%s; (1) %s weights with zero biases, (2) the same weights with biases N(0, 0.1^2), (3) with "
              "PyTorch's nn.Linear biases U(+-1/sqrt(fan_in)), (4) %s weights%s with biases N(0, 0.1^2) (the "
              "output layer's bias too); SGD lr %g, momentum 0.9, batch 128, %d epoch%s on %d examples; %d test "
              "examples. Gradient arrival: plain SGD (lr %g) on one batch of 128 training images, ||dL/dW|| per "
              "layer before each of the first %d steps.",
              arch, he, zero_w, ctx->override_init ? " (test override of zeros)" : "", lr, epochs,
              epochs > 1 ? "s" : "", n_train ? n_train : ctx->data->n_train, n_test, lr, ZB_STEPS);
    double acc[N_ARMS], w1_after = NAN, w1_he = NAN;
    int dead = -1, neg = -1, dead_he = -1, neg_he = -1, steps = 0;
    const int n_dead = n_test < 256 ? n_test : 256;
    for (int k = 0; k < N_ARMS; k++) {
        nninit_net *net;
        nninit_status st = lab_net(ctx, arch, w_init[k], b_init[k], 1000, 0, &net);
        if (st) return st;
        nninit_layer_view v;
        if (k == 1 && !nninit_net_layer(net, 0, &v)) w1_he = frob(v.w, v.w_rows * v.w_cols);
        nninit_train_opts o = lab_train_opts(ctx, lr, 0.9, epochs);
        nninit_train_report rep;
        if ((st = lab_train(ctx, net, &o, n_train, labels[k], r, &acc[k], &rep))) {
            nninit_net_free(net);
            return st;
        }
        steps = (int)rep.steps;
        nninit_train_report_free(&rep);
        acc[k] = acc_pct(acc[k], n_test);
        if (k == 1) dead_units(net, 0, ctx->data->test_x, n_dead, &dead_he, &neg_he);
        if (k == 3) {
            if (!nninit_net_layer(net, 0, &v)) w1_after = frob(v.w, v.w_rows * v.w_cols);
            dead_units(net, 0, ctx->data->test_x, n_dead, &dead, &neg);
        }
        nninit_net_free(net);
    }

    /* How the gradient reaches the hidden layers of the zero-weight net (and
     * of He's, for contrast): one fixed batch, plain SGD. */
    const int batch = ctx->data->n_train < 128 ? ctx->data->n_train : 128;
    double g[2][ZB_STEPS][ZB_LAYERS];
    int first[2][ZB_LAYERS];
    for (int k = 0; k < 2; k++) {
        nninit_net *net;
        nninit_status st = lab_net(ctx, arch, k ? he : zero_w, "normal(std=0.1)", 128, 0, &net);
        if (st) return st;
        st = grad_arrival(net, ctx->data->train_x, ctx->data->train_y, batch, lr, g[k], first[k]);
        nninit_net_free(net);
        if (st) return st;
    }

    char name[96], pred[128];
    for (int k = 1; k <= 2; k++) {
        snprintf(name, sizeof name, "He weights: %s biases train like zero biases",
                 k == 1 ? "N(0, 0.1^2)" : "PyTorch's");
        snprintf(pred, sizeof pred, "|test accuracy - zero biases' test accuracy| <= %g points", alike);
        lab_check(r, name, pred, fabs(or_chance(acc[k]) - or_chance(acc[0])), LAB_LE, alike,
                  acc_noise_pct(acc[k], n_test) + acc_noise_pct(acc[0], n_test), "points");
    }
    snprintf(pred, sizeof pred, "test accuracy < %g%% (chance 10%%) after the same steps as He", chance_max);
    lab_check(r, "zero weights, random biases: stuck near chance", pred, or_chance(acc[3]), LAB_LT, chance_max,
              acc_noise_pct(acc[3], n_test), "%");
    int n_grad = 0;
    for (int l = 0; l < ZB_LAYERS; l++) n_grad += g[0][0][l] > 0;
    lab_check(r, "zero weights: only the last layer gets a gradient at step 0",
              "weight layers with ||dL/dW|| > 0 before the first step = 1", n_grad, LAB_EQ, 1, 0, "layers");
    snprintf(pred, sizeof pred, "first step with ||dL/dW1|| > 0 = %d (one layer deeper per step)", ZB_HIDDEN);
    lab_check(r, "zero weights: the gradient reaches the first layer last", pred, first[0][0], LAB_EQ, ZB_HIDDEN, 0,
              "step");

    lab_note(r,
             "Test accuracy after %d steps: He with zero biases %.2f%%, N(0, 0.1^2) biases %.2f%%, PyTorch's "
             "biases %.2f%%; zero weights with N(0, 0.1^2) biases %.2f%%. ",
             steps, acc[0], acc[1], acc[2], acc[3]);
    lab_note(r, "Zero weights, first step with a nonzero weight gradient, layers 1-%d: ", ZB_LAYERS);
    for (int l = 0; l < ZB_LAYERS; l++) lab_note(r, "%s%d", l ? ", " : "", first[0][l]);
    lab_note(r, " (He: ");
    for (int l = 0; l < ZB_LAYERS; l++) lab_note(r, "%s%d", l ? ", " : "", first[1][l]);
    lab_note(r, "). ");
    if (!ctx->override_init)
        lab_note(r,
                 "Why: with W = 0 every hidden unit outputs relu(b), whatever the input, so at step 0 only the last "
                 "layer's weights get a gradient (dL/dW = dL/dz h^T with h = relu(b) != 0), and dL/dh = W^T dL/dz = 0 "
                 "stops it there; each step makes one more W nonzero, and the input x enters through dL/dW1 only "
                 "after %d steps. Until then every layer computes a constant: the units of a layer differ only by "
                 "their biases, so their weight updates are multiples of one vector (rank one). Once the output "
                 "bias matches the class frequencies the batch-mean dL/dz is about 0, and so is dL/dW_out = "
                 "(sum_n dL/dz_n) relu(b)^T: zero weights with the best constant output are a stationary point. ",
                 ZB_HIDDEN);
    lab_note(r,
             "After training ||W1|| = %.3g (He's at init: %.3g). Layer 1: %d of %d units off on %d test images "
             "(%d with a negative bias: relu'(b) = 0 and W = 0 give them no gradient, ever); He with random "
             "biases: %d.",
             w1_after, w1_he, dead, width, n_dead, neg, dead_he);

    lab_plot *pl = lab_plot_add(r, "Zero weights: weight gradient by layer and step", "SGD step (one fixed batch)",
                                "||dL/dW|| of the layer", 1);
    double xs[ZB_STEPS], ys[ZB_STEPS];
    for (int l = 0; l < ZB_LAYERS; l++) {
        char sl[48];
        for (int s = 0; s < ZB_STEPS; s++) xs[s] = s, ys[s] = g[0][s][l];
        snprintf(sl, sizeof sl, l < ZB_HIDDEN ? "layer %d (hidden)" : "layer %d (output)", l + 1);
        lab_series_add(pl, sl, xs, ys, ZB_STEPS, 0);
    }
    lab_probe(ctx, arch, he, "normal(std=0.1)", NULL, labels[1], r);
    lab_probe(ctx, arch, zero_w, "normal(std=0.1)", NULL, labels[3], r);
    return NNINIT_OK;
}

const lab_experiment lab_exp_zero_bias = {
    "zero-bias", "Biases may start at zero, weights may not",
    "With He weights a ReLU net trains the same whether its biases start at zero or random: the weights already "
    "make the units differ. Zero weights with random biases do not learn: every hidden unit outputs a constant, "
    "the gradient reaches one layer deeper per step, and the net stays near chance.",
    "seed 002 (\"all zeros is fine for some biases but disastrous for the weights\"); Goodfellow, Bengio & "
    "Courville 2016, Deep Learning, §8.4 (biases may be set to zero; weights must break symmetry)",
    run_zero_bias};

/* ---- 13. no learning rate rescues a bad init ------------------------------- */

#define LR_POINTS 11 /* 1e-4 .. 10, half a decade apart */

static nninit_status run_lr_rescue(const lab_ctx *ctx, lab_result *r) {
    /* 22 runs of one epoch: width and examples are what 40 s on two cores allow at full scale */
    const int width = lab_pick(ctx, 32, 64, 128), n_train = lab_pick(ctx, 0, 0, 12000), n_test = ctx->data->n_test;
    const int evals = lab_pick(ctx, 2, 2, 1);
    const int depth = 20;
    const double chance_max = 20.0, margin = 30.0, learns = 50.0;
    const int min_lrs = 3;
    const char *small = ctx->override_init ? ctx->override_init : "normal(std=0.01)";
    const char *inits[2] = {small, "xavier_normal"};
    const char *names[2] = {ctx->override_init ? ctx->override_init : "N(0, 0.01^2)", "xavier_normal"};
    char arch[96];
    snprintf(arch, sizeof arch, "784 -> [dense %d tanh] x%d -> dense 10", width, depth);
    const int n_used = n_train ? n_train : ctx->data->n_train;
    lab_setup(r,
              "%s; weights %s%s against xavier_normal, biases zeros; SGD with momentum 0.9, batch 128, one epoch "
              "(%d steps) on %d examples at each of %d learning rates 1e-4, 3.16e-4, ..., 10 (half a decade "
              "apart); the same weights (seed) and example order at every learning rate; test accuracy on %d "
              "examples. A run that diverges (NaN) counts as chance, 10%%.",
              arch, small, ctx->override_init ? " (test override of N(0, 0.01^2))" : "", n_used / 128, n_used,
              LR_POINTS, n_test);
    double lr[LR_POINTS], x[LR_POINTS], acc[2][LR_POINTS], loss[2][LR_POINTS];
    int div[2][LR_POINTS];
    for (int i = 0; i < LR_POINTS; i++) lr[i] = pow(10, -4 + 0.5 * i), x[i] = log10(lr[i]);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < LR_POINTS; i++) {
            char label[64];
            snprintf(label, sizeof label, "%s, lr %.3g", names[k], lr[i]);
            nninit_net *net;
            nninit_status st = lab_net(ctx, arch, inits[k], "zeros", 1000, 0, &net);
            if (st) return st;
            nninit_train_opts o = lab_train_opts(ctx, lr[i], 0.9, 1);
            o.evals_per_epoch = evals, o.eval_train_at_init = 0; /* a pass over the training set: 1/3 epoch */
            nninit_train_report rep;
            st = lab_train(ctx, net, &o, n_train, label, r, &acc[k][i], &rep);
            nninit_net_free(net);
            if (st) return st;
            div[k][i] = rep.diverged;
            loss[k][i] = rep.diverged || rep.n_points < 1 ? NAN : rep.points[rep.n_points - 1].train_loss;
            acc[k][i] = or_chance(acc_pct(acc[k][i], n_test));
            nninit_train_report_free(&rep);
        }
    int best = 0, xbest = 0, wins = 0;
    for (int i = 0; i < LR_POINTS; i++) {
        if (acc[0][i] > acc[0][best]) best = i;
        if (acc[1][i] > acc[1][xbest]) xbest = i;
        wins += acc[1][i] - acc[0][i] > margin;
    }
    /* Xavier's band: the learning rates around its best that reach `learns` */
    int lo = xbest, hi = xbest;
    while (lo > 0 && acc[1][lo - 1] > learns) lo--;
    while (hi + 1 < LR_POINTS && acc[1][hi + 1] > learns) hi++;
    double band = acc[1][xbest] > learns ? x[hi] - x[lo] : 0;

    char name[96], pred[128];
    snprintf(name, sizeof name, "%s: no learning rate rescues it", names[0]);
    snprintf(pred, sizeof pred, "best test accuracy over the %d learning rates < %g%% (chance 10%%)", LR_POINTS,
             chance_max);
    lab_check(r, name, pred, acc[0][best], LAB_LT, chance_max, acc_noise_pct(acc[0][best], n_test), "%");
    snprintf(name, sizeof name, "Xavier beats %s widely at several learning rates", names[0]);
    snprintf(pred, sizeof pred, "learning rates where Xavier's test accuracy is > %g points higher >= %d", margin,
             min_lrs);
    lab_check(r, name, pred, wins, LAB_GE, min_lrs, 0, "of 11");

    lab_note(r, "Test accuracy after one epoch, lr 1e-4 .. 10: %s ", names[0]);
    for (int i = 0; i < LR_POINTS; i++) lab_note(r, "%s%.1f%s", i ? ", " : "", acc[0][i], div[0][i] ? " (NaN)" : "");
    lab_note(r, "; Xavier ");
    for (int i = 0; i < LR_POINTS; i++) lab_note(r, "%s%.1f%s", i ? ", " : "", acc[1][i], div[1][i] ? " (NaN)" : "");
    double below = INFINITY, most = -INFINITY; /* the small init's final training loss against ln 10 */
    for (int i = 0; i < LR_POINTS; i++)
        if (!isnan(loss[0][i])) below = fmin(below, loss[0][i] - LN10), most = fmax(most, loss[0][i]);
    lab_note(r,
             ". %s's best is %.2f%% (lr %.3g); its final training loss is ln 10 %+.3g nats at best and up to %.3g "
             "(large learning rates make the output layer overshoot). Xavier's best is %.2f%% (lr %.3g), above "
             "%g%% over %.1f decades (lr %.3g to %.3g), and > %g points above %s at %d of %d learning rates. ",
             names[0], acc[0][best], lr[best], below, most, acc[1][xbest], lr[xbest], learns, band, lr[lo], lr[hi],
             margin, names[0], wins, LR_POINTS);
    /* Why: the hidden weights' gradient relative to the weights at init, from the probe (lr 1: the ratio) */
    nninit_probe_opts po = nninit_probe_opts_default();
    po.input = NNINIT_INPUT_CALLER;
    po.batch = ctx->data->n_train < 256 ? ctx->data->n_train : 256;
    po.x = ctx->data->train_x, po.y = ctx->data->train_y;
    po.seed = ctx->seed, po.sgd_steps = 0, po.lr = 1;
    const nninit_probe_report *p = lab_probe(ctx, arch, small, "zeros", &po, names[0], r);
    if (!p) return NNINIT_ERR_PARAM;
    double ratio = 0, f = p->layers[depth - 1].post_std / p->layers[0].post_std;
    for (int l = 0; l < depth; l++) ratio = fmax(ratio, p->layers[l].update_ratio);
    if (acc[0][best] < chance_max)
        lab_note(r,
                 "Why no learning rate helps: at init the activation std of layer 20 is %.2g times layer 1's, and the "
                 "largest ||dL/dW|| / ||W|| of the 20 hidden layers is %.2g, so even lr 10 (x10 with momentum) moves "
                 "the hidden weights by a negligible fraction in %d steps; what learns is the output layer and the "
                 "biases near it, on an input the vanished signal no longer carries: a constant prediction.",
                 f, ratio, n_used / 128);

    lab_plot *pl = lab_plot_add(r, "Test accuracy after one epoch against the learning rate",
                                "log10(learning rate), SGD momentum 0.9", "test accuracy (%)", 0);
    lab_series_add(pl, names[0], x, acc[0], LR_POINTS, 0);
    lab_series_add(pl, "xavier_normal", x, acc[1], LR_POINTS, 0);
    double ch[LR_POINTS];
    for (int i = 0; i < LR_POINTS; i++) ch[i] = 10;
    lab_series_add(pl, "chance (10%)", x, ch, LR_POINTS, 1);
    return NNINIT_OK;
}

const lab_experiment lab_exp_lr_rescue = {
    "lr-rescue", "A learning rate cannot rescue a bad init",
    "When a deep net does not train, the learning rate may not be the problem: with N(0, 0.01^2) weights a "
    "20-layer tanh net stays at chance after one epoch at every learning rate from 1e-4 to 10, while Xavier's "
    "scaling learns over a wide band of the same learning rates.",
    "seed 002 troubleshooting (\"the learning rate may not be the first problem; initialization scale may be\"); "
    "Glorot & Bengio 2010, Understanding the difficulty of training deep feedforward neural networks, §4",
    run_lr_rescue};

/* ---- 14. large random init explodes a deep ReLU net ------------------------ */

#define RE_DEPTH 10
#define RE_MAXL  64

/* Geometric mean of the per-layer factors of a probe's hidden layers 1..n-1
 * (0-based), for pre-activation std (grad 0) or gradient std backward (grad
 * 1), and twice the standard error of its log as a relative noise. f[] gets
 * the per-layer factors. */
static double layer_rate(const nninit_probe_report *p, int n, int grad, double *rel_noise, double *f) {
    double s = 0, ss = 0;
    int m = 0;
    for (int l = 1; l < n && l < p->n_layers; l++) {
        double a = grad ? p->layers[l - 1].grad_std : p->layers[l].pre_std;
        double b = grad ? p->layers[l].grad_std : p->layers[l - 1].pre_std;
        double lf = a > 0 && b > 0 && isfinite(a) && isfinite(b) ? log(a / b) : NAN;
        f[l - 1] = exp(lf);
        s += lf, ss += lf * lf, m++;
    }
    if (m < 2) return *rel_noise = NAN, NAN;
    double mean = s / m, var = (ss - m * mean * mean) / (m - 1);
    *rel_noise = 2 * sqrt(fmax(var, 0) / m);
    return exp(mean);
}

static nninit_status run_relu_explode(const lab_ctx *ctx, lab_result *r) {
    enum {
        N_INITS = 3
    };
    const int width = lab_pick(ctx, 64, 256, 256), n_train = lab_pick(ctx, 512, 0, 0), n_test = ctx->data->n_test;
    const double lr = 0.01, tol = 10.0, loss_tol = 3.0, min_acc = 50.0;
    /* N(0, 10) read both ways: variance 10 (the statistics convention) and std
     * 10 (torch.nn.init.normal_(w, 0, 10)); v is each one's weight variance. */
    const char *bad[2] = {ctx->override_init ? ctx->override_init : "normal(std=3.16227766)",
                          ctx->override_init ? ctx->override_init : "normal(std=10)"};
    const char *inits[N_INITS] = {"kaiming_normal(nonlinearity=relu)", bad[0], bad[1]};
    const char *names[N_INITS] = {"He", "N(0, 10) as variance 10", "N(0, 10) as std 10"};
    const double v[N_INITS] = {2.0 / width, 10.0, 100.0};
    char arch[96];
    snprintf(arch, sizeof arch, "784 -> [dense %d relu] x%d -> dense 10", width, RE_DEPTH);
    lab_setup(r,
              "%s; weights kaiming_normal(nonlinearity=relu) (He, variance 2/fan_in) against N(0, 10) read as "
              "variance 10 (%s) and as std 10 (%s)%s, biases zeros. Probe: one forward and backward of 256 "
              "training images; the per-layer factor is the geometric mean of std(layer l) / std(layer l-1) over "
              "hidden layers 2-%d (pre-activations; the gradient dL/d(pre) backward), against the mean field's "
              "sqrt(sigma_w^2 / 2), sigma_w^2 = variance x fan_in (%d). Training: SGD lr %g, momentum 0.9, batch "
              "128, one epoch on %d examples, %d test examples; divergence is a NaN or inf loss.",
              arch, bad[0], bad[1], ctx->override_init ? " (test override of both)" : "", RE_DEPTH, width, lr,
              n_train ? n_train : ctx->data->n_train, n_test);
    nninit_probe_opts po = nninit_probe_opts_default();
    po.input = NNINIT_INPUT_CALLER;
    po.batch = ctx->data->n_train < 256 ? ctx->data->n_train : 256;
    po.x = ctx->data->train_x, po.y = ctx->data->train_y;
    po.seed = ctx->seed;
    po.sgd_steps = 0; /* an SGD step of the exploding nets is the training's business */
    po.lr = (float)lr;
    /* mean field: q1 = v sum_i x_i^2 (batch mean), then x sigma_w^2 / 2 per
     * layer; the logits z have variance v width q10 / 2, and with |z| >> 1
     * the loss is E[max_k z_k - z_y] = 1.5388 std(z) (the expected maximum of
     * 10 standard normals; z_y has mean 0). */
    double x2 = 0;
    for (int i = 0; i < po.batch * 784; i++) x2 += (double)ctx->data->train_x[i] * ctx->data->train_x[i];
    x2 /= po.batch;
    double act[N_INITS], act_n[N_INITS], grad[N_INITS], grad_n[N_INITS], pred[N_INITS], loss0[N_INITS];
    double loss_pred[N_INITS], acc[N_INITS], upd[N_INITS], g1[N_INITS], f_act[N_INITS][RE_MAXL],
        f_grad[N_INITS][RE_MAXL];
    double pre_meas[N_INITS][RE_MAXL], pre_pred[N_INITS][RE_MAXL];
    long dstep[N_INITS], steps = 0;
    int div[N_INITS];
    for (int k = 0; k < N_INITS; k++) {
        const nninit_probe_report *p = lab_probe(ctx, arch, inits[k], "zeros", &po, names[k], r);
        if (!p) return NNINIT_ERR_PARAM;
        pred[k] = sqrt(v[k] * width / 2);
        act[k] = layer_rate(p, RE_DEPTH, 0, &act_n[k], f_act[k]);
        grad[k] = layer_rate(p, RE_DEPTH, 1, &grad_n[k], f_grad[k]);
        loss0[k] = p->loss;
        upd[k] = p->layers[0].update_ratio;
        g1[k] = p->layers[0].grad_std;
        double q = (k ? v[k] : 2.0 / 784) * x2; /* He's first layer has fan_in 784 */
        for (int l = 0; l < RE_DEPTH; l++) {
            pre_meas[k][l] = p->layers[l].pre_std, pre_pred[k][l] = sqrt(q);
            q *= v[k] * width / 2;
        }
        loss_pred[k] = 1.5388 * sqrt(q);
        nninit_net *net;
        nninit_status st = lab_net(ctx, arch, inits[k], "zeros", 1000, 0, &net);
        if (st) return st;
        nninit_train_opts o = lab_train_opts(ctx, lr, 0.9, 1);
        nninit_train_report rep;
        st = lab_train(ctx, net, &o, n_train, names[k], r, &acc[k], &rep);
        nninit_net_free(net);
        if (st) return st;
        div[k] = rep.diverged;
        if (!div[k]) steps = rep.steps;
        /* not diverged: one step past the epoch, so that it compares as "later" */
        const long per_epoch = (n_train ? n_train : ctx->data->n_train) / 128;
        dstep[k] = div[k] ? rep.diverged_step : per_epoch + 1;
        acc[k] = or_chance(acc_pct(acc[k], n_test));
        nninit_train_report_free(&rep);
    }
    const long per_epoch = (n_train ? n_train : ctx->data->n_train) / 128;

    char name[96], prd[128];
    snprintf(prd, sizeof prd, "within %g%% of the mean field's 1", tol);
    lab_check(r, "He: activation std keeps its size by depth", prd, 100 * fabs(act[0] - 1), LAB_LT, tol, 100 * act_n[0],
              "%");
    snprintf(prd, sizeof prd, "test accuracy > %g%% after one epoch", min_acc);
    lab_check(r, "He: trains", prd, acc[0], LAB_GT, min_acc, acc_noise_pct(acc[0], n_test), "%");
    for (int k = 1; k < N_INITS; k++) {
        const char *nm = k == 1 ? "variance 10" : "std 10";
        snprintf(name, sizeof name, "%s: activation std grows per layer as predicted", nm);
        snprintf(prd, sizeof prd, "per-layer factor within %g%% of sqrt(sigma_w^2/2) = %.3g", tol, pred[k]);
        lab_check(r, name, prd, 100 * fabs(act[k] / pred[k] - 1), LAB_LT, tol, 100 * act_n[k], "%");
        snprintf(name, sizeof name, "%s: gradient std grows backward as predicted", nm);
        lab_check(r, name, prd, 100 * fabs(grad[k] / pred[k] - 1), LAB_LT, tol, 100 * grad_n[k], "%");
        snprintf(name, sizeof name, "%s: loss at init as the mean field predicts", nm);
        snprintf(prd, sizeof prd, "|log10(loss / (1.54 std(logits)))| < log10 %g (mean field)", loss_tol);
        /* noise: the per-layer scatter of the factor, compounded over the 11 weight layers */
        double ln = act_n[k] / 2 * sqrt(RE_DEPTH - 1.0) * sqrt(RE_DEPTH + 1.0) * 2 / log(10);
        lab_check(r, name, prd, fabs(log10(loss0[k] / loss_pred[k])), LAB_LT, log10(loss_tol), ln, "decades");
        snprintf(name, sizeof name, "%s: training diverges", nm);
        snprintf(prd, sizeof prd, "loss NaN/inf within the first epoch: step <= %ld", per_epoch);
        lab_check(r, name, prd, (double)dstep[k], LAB_LE, (double)per_epoch, 0, "step");
    }
    for (int k = 0; k < N_INITS; k++) {
        lab_note(r, "%s: loss at init %.3g", names[k], loss0[k]);
        if (k) lab_note(r, " (mean field %.3g)", loss_pred[k]);
        else lab_note(r, " (ln 10 = %.2f is a uniform guess)", LN10);
        lab_note(r,
                 ", per-layer factor of the activation std %.4g, of the gradient std %.4g (predicted %.4g), one "
                 "SGD step at lr %g changes W1 by %.3g x its norm",
                 act[k], grad[k], pred[k], lr, upd[k]);
        if (k) lab_note(r, ", its gradient std is %.3g times He's", g1[k] / g1[0]);
        lab_note(r, "; ");
        if (div[k]) lab_note(r, "training diverged at step %ld. ", dstep[k]);
        else lab_note(r, "after %ld steps test accuracy %.2f%%. ", steps, acc[k]);
    }
    if (div[1] && div[2])
        lab_note(r,
                 "With |logits| ~ %.2g the softmax is one-hot, dL/dz stays O(1) and the gradient grows by the "
                 "same factor per layer backward; the first update throws the weights far from their init and a "
                 "later forward overflows float32. The two readings differ by sqrt(10) per layer (10^5.5 in the "
                 "logits) and fail alike. ",
                 loss_pred[1]);
    if (!ctx->override_init)
        lab_note(r, "A ReLU net with zero biases is homogeneous and the three inits scale the same normal draws, so "
                    "their activation factors miss the mean field by the same finite-width amount.");

    lab_plot *pl = lab_plot_add(r, "10 ReLU layers at init: pre-activation std by depth", "hidden layer",
                                "std of pre-activation", 1);
    double xs[RE_MAXL];
    for (int l = 0; l < RE_DEPTH; l++) xs[l] = l + 1;
    for (int k = 0; k < N_INITS; k++) {
        char sl[64];
        lab_series_add(pl, names[k], xs, pre_meas[k], RE_DEPTH, 0);
        snprintf(sl, sizeof sl, "%s: mean field", names[k]);
        lab_series_add(pl, sl, xs, pre_pred[k], RE_DEPTH, 1);
    }
    pl = lab_plot_add(r, "Per-layer growth factor at init (std of layer l / layer l-1)", "hidden layer l", "factor", 1);
    for (int l = 0; l + 1 < RE_DEPTH; l++) xs[l] = l + 2;
    for (int k = 0; k < N_INITS; k++) {
        char sl[64];
        snprintf(sl, sizeof sl, "%s: activations", names[k]);
        lab_series_add(pl, sl, xs, f_act[k], RE_DEPTH - 1, 0);
        snprintf(sl, sizeof sl, "%s: gradients", names[k]);
        lab_series_add(pl, sl, xs, f_grad[k], RE_DEPTH - 1, 0);
        double pp[RE_MAXL];
        for (int l = 0; l + 1 < RE_DEPTH; l++) pp[l] = pred[k];
        if (k) { /* He's prediction, 1, is the activations' own level */
            snprintf(sl, sizeof sl, "%s: mean field", names[k]);
            lab_series_add(pl, sl, xs, pp, RE_DEPTH - 1, 1);
        }
    }
    return NNINIT_OK;
}

const lab_experiment lab_exp_relu_explode = {
    "relu-explode", "Large random init explodes a deep ReLU net",
    "Weights drawn from N(0, 10) multiply the activation std of a 256-wide ReLU layer by sqrt(sigma_w^2/2) "
    "(about 36 for variance 10, 113 for std 10) per layer: over 10 layers the loss at init is astronomical, the "
    "gradients grow by the same factor going back, and SGD diverges (NaN) in the first epoch; He's 2/fan_in "
    "keeps the std and trains.",
    "seed 003 (N(0, 10): \"gradients grow exponentially ... NaN ... diverges\"); He, Zhang, Ren & Sun 2015, "
    "Delving Deep into Rectifiers, §2.2; Poole et al. 2016 (the mean-field variance map)",
    run_relu_explode};

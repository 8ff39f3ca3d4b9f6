#define _POSIX_C_SOURCE 200809L
/* probe.c -- measure a network at init, layer by layer, next to mean-field
 * theory, and turn the measurements into findings (nninit_probe.h).
 *
 * Order of work: (1) forward + loss + backward on the probe batch: activation,
 * gradient and update statistics; (2) forward of two inputs with correlation
 * c0: their correlation by depth; (3) sgd_steps SGD steps on the batch, then
 * the distinct units again, so a symmetric init is seen failing, not assumed. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "nninit_probe.h"
#include "probe/probe_internal.h"

nninit_probe_opts nninit_probe_opts_default(void) {
    nninit_probe_opts o;
    memset(&o, 0, sizeof o);
    o.batch = 256;
    o.lr = 0.1f;
    o.sgd_steps = 10;
    o.pair_corr = 0.0;
    o.sym_tol = 1e-6;
    o.input = NNINIT_INPUT_GAUSSIAN;
    o.data_dir = NULL;
    o.seed = 0;
    o.hist_bins = 40;
    o.lsuv = 0;
    o.lsuv_tol = 0.05;
    o.lsuv_max_iter = 10;
    return o;
}

void nninit_probe_report_free(nninit_probe_report *rep) {
    if (!rep) return;
    free(rep->layers);
    rep->layers = NULL;
    rep->n_layers = 0;
}

static void moments(const float *x, int64_t n, double *mean, double *std) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    double m = n ? s / (double)n : 0.0;
    for (int64_t i = 0; i < n; i++) s2 += ((double)x[i] - m) * ((double)x[i] - m);
    *mean = m;
    *std = n > 1 ? sqrt(s2 / (double)n) : 0.0;
}

static double norm2(const float *x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return sqrt(s);
}

static void histogram(const float *x, int64_t n, int bins, double *lo, double *hi, double *h) {
    double mn = INFINITY, mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
    }
    if (!(mx > mn)) { mn -= 0.5; mx += 0.5; }
    *lo = mn;
    *hi = mx;
    for (int b = 0; b < bins; b++) h[b] = 0;
    double w = (mx - mn) / bins;
    for (int64_t i = 0; i < n; i++) {
        int b = (int)(((double)x[i] - mn) / w);
        if (b >= bins) b = bins - 1;
        if (b < 0) b = 0;
        h[b] += 1.0;
    }
    for (int b = 0; b < bins; b++) h[b] /= (double)n;
}

/* Relative: vanishing activations (1e-16) are still told apart. */
static int close_enough(double a, double b, double tol) {
    return fabs(a - b) <= tol * fmax(fabs(a), fabs(b));
}

/* Distinct vectors among n vectors of length len (element k of vector i at
 * x[i*si + k*sk]), equal within tol. Greedy against representatives; random
 * vectors differ at their first element, so this is ~n * reps cheap tests. */
int nninit__probe_distinct(const float *x, int n, int len, int64_t si, int64_t sk, double tol) {
    int *rep = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!rep) return -1;
    int nrep = 0;
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (int r = 0; r < nrep && !found; r++) {
            int j = rep[r], eq = 1;
            for (int k = 0; k < len && eq; k++) eq = close_enough(x[i * si + k * sk], x[j * si + k * sk], tol);
            found = eq;
        }
        if (!found) rep[nrep++] = i;
    }
    free(rep);
    return nrep;
}

static int has_params(const nninit_layer_view *v) { return v->w != NULL; }

static const char *recommend(nninit_act a) {
    switch (a) {
    case NNINIT_ACT_TANH:
    case NNINIT_ACT_SIGMOID:
    case NNINIT_ACT_IDENTITY: return "xavier_normal";
    case NNINIT_ACT_SELU: return "lecun_normal";
    default: return "kaiming_normal";
    }
}

/* The hidden activation most layers use (for advice). */
static nninit_act main_act(const nninit_probe_report *r) {
    int count[NNINIT_ACT_COUNT] = {0};
    for (int l = 0; l + 1 < r->n_layers; l++)
        if ((unsigned)r->layers[l].act < NNINIT_ACT_COUNT) count[r->layers[l].act]++;
    int best = 0;
    for (int a = 1; a < NNINIT_ACT_COUNT; a++)
        if (count[a] > count[best]) best = a;
    return (nninit_act)best;
}

static nninit_finding *add_finding(nninit_probe_report *r, nninit_finding_kind k, int layer, double v) {
    if (r->n_findings >= NNINIT_PROBE_MAX_FINDINGS) return NULL;
    nninit_finding *f = &r->findings[r->n_findings++];
    memset(f, 0, sizeof *f);
    f->kind = k;
    f->layer = layer;
    f->value = v;
    return f;
}

/* Thresholds: a factor 1e3 between the first and the last hidden layer is far
 * outside what any sensible init gives at probe depths (He-ReLU stays within
 * [0.5, 2] at depth 30); half the units saturated or dead is a broken layer. */
#define VANISH 1e-3
#define EXPLODE 1e3
#define SAT_FRAC 0.5
#define DEAD_FRAC 0.5

static int is_residual_net(const nninit_probe_report *r) {
    for (int l = 0; l < r->n_layers; l++)
        if (r->layers[l].kind == NNINIT_LAYER_RESIDUAL) return 1;
    return 0;
}

void nninit__probe_diagnose(nninit_probe_report *r, int sgd_steps) {
    r->n_findings = 0;
    nninit_act act = main_act(r);
    const char *an = nninit_act_name(act);
    const char *rec = is_residual_net(r) ? "he-zero residual blocks (He on the first layer, zero on the last)"
                                         : recommend(act);
    /* hidden layers with activations: all but the output layer */
    int first = -1, last = -1;
    for (int l = 0; l + 1 < r->n_layers; l++) {
        if (r->layers[l].kind == NNINIT_LAYER_FLATTEN) continue;
        if (first < 0) first = l;
        last = l;
    }
    /* symmetry: a layer whose units are all one unit after training steps */
    for (int l = first; first >= 0 && l <= last; l++) {
        const nninit_probe_layer *p = &r->layers[l];
        if (p->width > 1 && p->distinct_units_after == 1 && p->distinct_units_init == 1) {
            nninit_finding *f = add_finding(r, NNINIT_FINDING_SYMMETRIC, l, 1);
            if (!f) break;
            snprintf(f->text, sizeof f->text,
                     "layer %d has 1 distinct unit of %d at init and still 1 after %d SGD steps: "
                     "constant init, every unit gets the same gradient",
                     l + 1, p->width, sgd_steps);
            snprintf(f->advice, sizeof f->advice, "break the symmetry with a random init: use %s for %s", rec, an);
            break;
        }
    }
    if (first >= 0 && last > first) {
        double s0 = r->layers[first].post_std, s1 = r->layers[last].post_std;
        double ratio = s0 > 0 ? s1 / s0 : (s1 > 0 ? INFINITY : 1.0);
        if (s0 > 0 && ratio < VANISH) {
            nninit_finding *f = add_finding(r, NNINIT_FINDING_VANISHING, last, ratio);
            if (f) {
                snprintf(f->text, sizeof f->text, "layer %d activation std is %.2g of layer %d's: activations vanish with depth",
                         last + 1, ratio, first + 1);
                snprintf(f->advice, sizeof f->advice, "weights too small for this depth; use %s for %s", rec, an);
            }
        } else if (ratio > EXPLODE) {
            nninit_finding *f = add_finding(r, NNINIT_FINDING_EXPLODING, last, ratio);
            if (f) {
                snprintf(f->text, sizeof f->text, "layer %d activation std is %.2g times layer %d's: activations explode with depth",
                         last + 1, ratio, first + 1);
                snprintf(f->advice, sizeof f->advice, "weights too large for this depth; use %s for %s", rec, an);
            }
        }
        double g0 = r->layers[first].grad_std, g1 = r->layers[last].grad_std;
        if (g1 > 0 && g0 / g1 < VANISH) {
            nninit_finding *f = add_finding(r, NNINIT_FINDING_VANISHING, first, g0 / g1);
            if (f) {
                snprintf(f->text, sizeof f->text, "layer %d gradient std is %.2g of layer %d's: gradients vanish backward",
                         first + 1, g0 / g1, last + 1);
                snprintf(f->advice, sizeof f->advice, "use %s for %s", rec, an);
            }
        } else if (g1 > 0 && g0 / g1 > EXPLODE) {
            nninit_finding *f = add_finding(r, NNINIT_FINDING_EXPLODING, first, g0 / g1);
            if (f) {
                snprintf(f->text, sizeof f->text, "layer %d gradient std is %.2g times layer %d's: gradients explode backward",
                         first + 1, g0 / g1, last + 1);
                snprintf(f->advice, sizeof f->advice, "use %s for %s", rec, an);
            }
        }
    }
    for (int l = first; first >= 0 && l <= last; l++) {
        const nninit_probe_layer *p = &r->layers[l];
        if (p->saturated > SAT_FRAC) {
            double s = 0;
            int n = 0;
            for (int k = l; k <= last; k++)
                if (r->layers[k].act == p->act) { s += r->layers[k].saturated; n++; }
            nninit_finding *f = add_finding(r, NNINIT_FINDING_SATURATED, l, s / n);
            if (f) {
                snprintf(f->text, sizeof f->text, "%.0f%% of %s units at %s from layer %d", 100 * s / n,
                         nninit_act_name(p->act), p->act == NNINIT_ACT_TANH ? "|y| > 0.99" : "y outside [0.01, 0.99]",
                         l + 1);
                snprintf(f->advice, sizeof f->advice, "weights too large: use xavier_normal for %s", nninit_act_name(p->act));
            }
            break;
        }
    }
    for (int l = first; first >= 0 && l <= last; l++) {
        const nninit_probe_layer *p = &r->layers[l];
        if (p->dead > DEAD_FRAC) {
            nninit_finding *f = add_finding(r, NNINIT_FINDING_DEAD, l, p->dead);
            if (f) {
                snprintf(f->text, sizeof f->text, "%.0f%% of layer %d's ReLU units are zero on the whole batch (dead)",
                         100 * p->dead, l + 1);
                snprintf(f->advice, sizeof f->advice, "use kaiming_normal with zero biases for relu");
            }
            break;
        }
    }
    if (r->n_findings == 0) {
        nninit_finding *f = add_finding(r, NNINIT_FINDING_HEALTHY, -1, 0);
        if (f) {
            double ratio = (first >= 0 && r->layers[first].post_std > 0)
                               ? r->layers[last].post_std / r->layers[first].post_std
                               : 1.0;
            snprintf(f->text, sizeof f->text,
                     "activation std ratio last/first hidden layer %.3g, no saturation, no dead or "
                     "symmetric layers",
                     ratio);
            snprintf(f->advice, sizeof f->advice, "nothing to change");
        }
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

nninit_status nninit_probe_run(const nninit_arch *arch, const nninit_layer_init *default_init,
                               const nninit_probe_opts *opts, nninit_probe_report *rep) {
    if (!arch || !rep) return nninit__err(NNINIT_ERR_NULL, "probe: NULL argument");
    nninit_probe_opts o = opts ? *opts : nninit_probe_opts_default();
    if (o.batch < 2) return nninit__err(NNINIT_ERR_PARAM, "probe: batch %d must be >= 2", o.batch);
    if (o.hist_bins < 1 || o.hist_bins > NNINIT_PROBE_MAX_BINS)
        return nninit__err(NNINIT_ERR_PARAM, "probe: hist_bins %d outside 1..%d", o.hist_bins, NNINIT_PROBE_MAX_BINS);
    if (!(o.pair_corr >= -1 && o.pair_corr <= 1))
        return nninit__err(NNINIT_ERR_PARAM, "probe: pair correlation %g outside [-1, 1]", o.pair_corr);
    if (o.sgd_steps < 0) return nninit__err(NNINIT_ERR_PARAM, "probe: sgd_steps %d < 0", o.sgd_steps);
    memset(rep, 0, sizeof *rep);
    double t0 = now_s();

    nninit_net *net = NULL;
    nninit_status st = nninit_net_create(arch, o.batch, default_init, o.seed, &net);
    if (st) return st;
    double t1 = now_s();
    rep->init_seconds = t1 - t0;
    int in = nninit_net_input_size(net), classes = nninit_net_output_size(net), B = o.batch;
    float *x = malloc(sizeof(float) * (size_t)B * (size_t)in);
    float *pair = malloc(sizeof(float) * 2 * (size_t)in);
    int *y = malloc(sizeof(int) * (size_t)B);
    int L = nninit_net_layers(net);
    rep->layers = calloc((size_t)L, sizeof *rep->layers);
    if (!x || !pair || !y || !rep->layers) {
        st = nninit__err(NNINIT_ERR_NOMEM, "probe: out of memory");
        goto done;
    }
    rep->n_layers = L;
    if ((st = nninit__probe_inputs(&o, in, classes, x, y, pair))) goto done;
    if (o.lsuv) {
        int *it = malloc(sizeof(int) * (size_t)L);
        double *va = malloc(sizeof(double) * (size_t)L);
        if (!it || !va) st = nninit__err(NNINIT_ERR_NOMEM, "probe: out of memory");
        else st = nninit_lsuv(net, x, B, o.lsuv_tol, o.lsuv_max_iter, it, va);
        for (int l = 0; !st && l < L; l++) {
            rep->layers[l].lsuv_iters = it[l];
            rep->layers[l].lsuv_var = va[l];
        }
        free(it);
        free(va);
        if (st) goto done;
    }

    /* (1) forward, loss, backward */
    if ((st = nninit_net_forward(net, x, B)) || (st = nninit_net_loss(net, y, &rep->loss)) ||
        (st = nninit_net_backward(net)))
        goto done;
    for (int l = 0; l < L; l++) {
        nninit_layer_view v;
        nninit_probe_layer *p = &rep->layers[l];
        if ((st = nninit_net_layer(net, l, &v))) goto done;
        p->index = l;
        p->kind = v.kind;
        p->act = v.act;
        p->width = v.out_size;
        int64_t n = (int64_t)B * v.out_size;
        p->q_pred = p->corr_pred = p->grad_var_pred_ratio = NAN;
        p->corr_meas = NAN;
        if (v.pre) {
            moments(v.pre, n, &p->pre_mean, &p->pre_std);
            double q = 0;
            for (int64_t i = 0; i < n; i++) q += (double)v.pre[i] * v.pre[i];
            p->q_meas = q / (double)n;
        } else {
            p->pre_mean = p->pre_std = p->q_meas = NAN;
        }
        moments(v.post, n, &p->post_mean, &p->post_std);
        histogram(v.post, n, o.hist_bins, &p->hist_lo, &p->hist_hi, p->hist);
        int64_t sat = 0;
        if (v.act == NNINIT_ACT_TANH)
            for (int64_t i = 0; i < n; i++) sat += fabsf(v.post[i]) > 0.99f;
        else if (v.act == NNINIT_ACT_SIGMOID)
            for (int64_t i = 0; i < n; i++) sat += v.post[i] < 0.01f || v.post[i] > 0.99f;
        p->saturated = n ? (double)sat / (double)n : 0.0;
        int dead = 0;
        if (v.act == NNINIT_ACT_RELU && l + 1 < L) {
            for (int j = 0; j < v.out_size; j++) {
                int alive = 0;
                for (int b = 0; b < B && !alive; b++) alive = v.post[(int64_t)b * v.out_size + j] > 0.0f;
                dead += !alive;
            }
        }
        p->dead = v.out_size ? (double)dead / v.out_size : 0.0;
        if (v.dpre) {
            double gm;
            moments(v.dpre, n, &gm, &p->grad_std);
            histogram(v.dpre, n, o.hist_bins, &p->grad_hist_lo, &p->grad_hist_hi, p->grad_hist);
        } else {
            p->grad_std = NAN;
        }
        if (has_params(&v)) {
            int64_t nw = v.w_rows * v.w_cols;
            double gm;
            moments(v.dw, nw, &gm, &p->wgrad_std);
            /* ||dW|| from the same moments: sum dW^2 = n (std^2 + mean^2) */
            double wn = norm2(v.w, nw), gn = sqrt((double)nw * (p->wgrad_std * p->wgrad_std + gm * gm));
            p->update_ratio = wn > 0 ? o.lr * gn / wn : (gn > 0 ? INFINITY : 0.0);
            p->distinct_rows_init = nninit__probe_distinct(v.w, (int)v.w_rows, (int)v.w_cols, v.w_cols, 1, o.sym_tol);
        } else {
            p->wgrad_std = p->update_ratio = NAN;
            p->distinct_rows_init = -1;
        }
        p->distinct_units_init = nninit__probe_distinct(v.post, v.out_size, B, 1, v.out_size, o.sym_tol);
    }
    /* measured gradient variance relative to the output layer's */
    {
        double gl = rep->layers[L - 1].grad_std;
        for (int l = 0; l < L; l++)
            rep->layers[l].grad_var_meas_ratio =
                gl > 0 ? (rep->layers[l].grad_std * rep->layers[l].grad_std) / (gl * gl) : NAN;
    }

    /* (2) two correlated inputs */
    if ((st = nninit_net_forward(net, pair, 2))) goto done;
    for (int l = 0; l < L; l++) {
        nninit_layer_view v;
        if ((st = nninit_net_layer(net, l, &v))) goto done;
        if (!v.pre) continue;
        const float *h1 = v.pre, *h2 = v.pre + v.out_size;
        double s12 = 0, s11 = 0, s22 = 0;
        for (int j = 0; j < v.out_size; j++) {
            s12 += (double)h1[j] * h2[j];
            s11 += (double)h1[j] * h1[j];
            s22 += (double)h2[j] * h2[j];
        }
        rep->layers[l].corr_meas = (s11 > 0 && s22 > 0) ? s12 / sqrt(s11 * s22) : NAN;
    }

    /* mean-field predictions (plain dense MLPs) */
    rep->qstar = rep->chi1 = rep->xi_q = rep->xi_c = rep->sw2 = rep->sb2 = NAN;
    nninit__probe_mean_field(arch, net, default_init, x, B, pair, rep);

    /* (3) SGD steps, then distinct units again */
    for (int s = 0; s < o.sgd_steps; s++) {
        double loss;
        if ((st = nninit_net_forward(net, x, B)) || (st = nninit_net_loss(net, y, &loss)) ||
            (st = nninit_net_backward(net)) || (st = nninit_net_sgd_step(net, o.lr)))
            goto done;
    }
    if (o.sgd_steps == 0) {
        for (int l = 0; l < L; l++) rep->layers[l].distinct_units_after = rep->layers[l].distinct_units_init;
    } else {
        if ((st = nninit_net_forward(net, x, B))) goto done;
        for (int l = 0; l < L; l++) {
            nninit_layer_view v;
            if ((st = nninit_net_layer(net, l, &v))) goto done;
            rep->layers[l].distinct_units_after =
                nninit__probe_distinct(v.post, v.out_size, B, 1, v.out_size, o.sym_tol);
        }
    }
    nninit__probe_diagnose(rep, o.sgd_steps);
    rep->seconds = now_s() - t1;

done:
    free(x);
    free(pair);
    free(y);
    nninit_net_free(net);
    if (st) nninit_probe_report_free(rep);
    return st;
}

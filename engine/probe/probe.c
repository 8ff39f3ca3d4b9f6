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
#include "nninit_meanfield.h"
#include "probe/probe_internal.h"

void openblas_set_num_threads(int num_threads); /* OpenBLAS's, as in train.c */
int openblas_get_num_threads(void);

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

/* Fractions of x in bins equal bins over [lo, hi]; values beyond count in
 * the end bins (+-inf too), NaN in none. */
static void histogram_on(const float *x, int64_t n, int bins, double lo, double hi, double *h) {
    for (int b = 0; b < bins; b++) h[b] = 0;
    double w = (hi - lo) / bins;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(x[i])) continue;
        double t = ((double)x[i] - lo) / w;
        int b = !(t >= 0) ? 0 : t >= bins ? bins - 1 : (int)t;
        h[b] += 1.0;
    }
    for (int b = 0; b < bins; b++) h[b] /= (double)n;
}

/* The finite range of x (a unit range around a constant, [-0.5, 0.5] when
 * nothing is finite). */
static void extend_finite(const float *x, int64_t n, double *mn, double *mx) {
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) continue;
        if (x[i] < *mn) *mn = x[i];
        if (x[i] > *mx) *mx = x[i];
    }
}

static void settle_range(double mn, double mx, double *lo, double *hi) {
    if (!(mx >= mn)) mn = mx = 0;
    if (!(mx > mn)) {
        mn -= 0.5;
        mx += 0.5;
    }
    *lo = mn, *hi = mx;
}

static void finite_range(const float *x, int64_t n, double *lo, double *hi) {
    double mn = INFINITY, mx = -INFINITY;
    extend_finite(x, n, &mn, &mx);
    settle_range(mn, mx, lo, hi);
}

static void histogram(const float *x, int64_t n, int bins, double *lo, double *hi, double *h) {
    finite_range(x, n, lo, hi);
    histogram_on(x, n, bins, *lo, *hi, h);
}

/* Relative: vanishing activations (1e-16) are still told apart. */
static int close_enough(double a, double b, double tol) {
    double fa = fabs(a), fb = fabs(b); /* not fmax: a libm call, 3-5% of a conv probe */
    return fabs(a - b) <= tol * (fa > fb ? fa : fb);
}

/* Distinct vectors among n vectors of length len (element k of vector i at
 * x[i*si + k*sk]), equal within tol. Greedy against representatives: a
 * vector is a new representative when no earlier one is close to it.
 * Which representatives there are depends only on that test, so instead of
 * trying every representative, only those whose element sum can be close
 * are tried: close vectors a, b have |sum a - sum b| <= tol/(1-tol) l1(a).
 * Sorted by sum, the candidates of a vector are one interval, found by
 * bisection; random vectors have one candidate or none, so a layer of 12544
 * units x 256 examples takes milliseconds where trying every representative
 * (with every comparison a strided read) took about a second. */
static int distinct_greedy(const float *x, int n, int len, int64_t si, int64_t sk, double tol) {
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

typedef struct {
    double sum;
    int i;
} keyed; /* qsort has no context argument: the key travels with the index */

static int by_sum(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    if (x->sum != y->sum) return x->sum < y->sum ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

int nninit__probe_distinct(const float *x, int n, int len, int64_t si, int64_t sk, double tol) {
    if (!(tol >= 0.0 && tol < 0.5) || n < 2) return distinct_greedy(x, n, len, si, sk, tol);
    double *sum = calloc((size_t)n, sizeof *sum), *l1 = calloc((size_t)n, sizeof *l1);
    keyed *order = malloc(sizeof(keyed) * (size_t)n);
    unsigned char *rep = calloc((size_t)n, 1);
    int nrep = -1, nf = 0;
    if (!sum || !l1 || !order || !rep) goto done;
    for (int k = 0; k < len; k++) /* with si = 1 (units of a batch), row by row */
        for (int i = 0; i < n; i++) {
            double v = x[i * si + k * sk];
            sum[i] += v, l1[i] += fabs(v);
        }
    for (int i = 0; i < n; i++) {
        if (isinf(l1[i])) { /* close_enough(inf, finite) holds (tol * inf = inf): no bound */
            nrep = distinct_greedy(x, n, len, si, sk, tol);
            goto done;
        }
        if (!isnan(l1[i])) order[nf].sum = sum[i], order[nf++].i = i; /* a NaN anywhere: close to nothing */
    }
    qsort(order, (size_t)nf, sizeof *order, by_sum);
    /* the bound, widened for the rounding of the sums and of tol * max */
    const double slack = (tol + 4.0 * len * DBL_EPSILON) / (1.0 - tol) * (1.0 + 1e-6);
    nrep = 0;
    for (int i = 0; i < n; i++) {
        int found = 0;
        if (!isnan(l1[i])) {
            double d = slack * l1[i], lo = sum[i] - d, hi = sum[i] + d;
            int a = 0, b = nf;
            while (a < b) { /* the first position with sum >= lo */
                int m = a + (b - a) / 2;
                if (order[m].sum < lo) a = m + 1;
                else b = m;
            }
            for (int p = a; p < nf && order[p].sum <= hi && !found; p++) {
                int j = order[p].i;
                if (j >= i || !rep[j]) continue;
                int eq = 1;
                for (int k = 0; k < len && eq; k++) eq = close_enough(x[i * si + k * sk], x[j * si + k * sk], tol);
                found = eq;
            }
        }
        if (!found) rep[i] = 1, nrep++;
    }
done:
    free(sum), free(l1), free(order), free(rep);
    return nrep;
}

static int has_params(const nninit_layer_view *v) { return v->w != NULL; }

const char *nninit_finding_name(nninit_finding_kind k) {
    static const char *const n[NNINIT_FINDING_COUNT] = {"healthy",   "vanishing", "exploding", "saturated", "dead",
                                                        "symmetric", "loss",      "collapse",  "chaos"};
    return (unsigned)k < NNINIT_FINDING_COUNT ? n[k] : "unknown";
}

/* The hidden activation most layers use (for advice), and its parameter. */
static int main_act(const nninit_probe_report *r) {
    int count[NNINIT_ACT_COUNT] = {0};
    for (int l = 0; l + 1 < r->n_layers; l++)
        if ((unsigned)r->layers[l].act < NNINIT_ACT_COUNT && r->layers[l].kind != NNINIT_LAYER_FLATTEN)
            count[r->layers[l].act]++;
    int best = 0;
    for (int a = 1; a < NNINIT_ACT_COUNT; a++)
        if (count[a] > count[best]) best = a;
    for (int l = 0; l + 1 < r->n_layers; l++)
        if ((int)r->layers[l].act == best) return l;
    return r->n_layers > 1 ? 0 : -1;
}

static nninit_finding *add_finding(nninit_probe_report *r, nninit_finding_kind k, int layer, double v, int theory) {
    if (r->n_findings >= NNINIT_PROBE_MAX_FINDINGS) return NULL;
    nninit_finding *f = &r->findings[r->n_findings++];
    memset(f, 0, sizeof *f);
    f->kind = k;
    f->layer = layer;
    f->value = v;
    f->theory = theory;
    return f;
}

static int is_residual_net(const nninit_probe_report *r) {
    for (int l = 0; l < r->n_layers; l++)
        if (r->layers[l].kind == NNINIT_LAYER_RESIDUAL) return 1;
    return 0;
}

/* What to use instead: a ready --init string for the main activation, the
 * sigma_w^2 it gives (NaN: no single number), and a clause saying why. */
typedef struct {
    char init[96];
    double sw2;
    char why[360];
} advice;

/* The mean field's critical sigma_w^2 (chi_1 = 1) for activation a at the
 * net's sigma_b^2; NaN if there is none. A bisection over q* solves (0.3 s
 * for gelu), so only the activations whose advice needs it ask. */
static double critical_sw2(const nninit_probe_report *r, nninit_act a, double p) {
    /* the last few answers of this thread: probing many nets of one activation
     * (a sweep, the lab) asks the same question again; a pure function, so a
     * thread-local memo changes nothing but the time */
    enum {
        MEMO = 8
    };
    static _Thread_local struct {
        int used;
        nninit_act a;
        double p, sb2, crit;
    } memo[MEMO];
    static _Thread_local int next;
    double sb2 = isfinite(r->sb2) ? r->sb2 : 0.0, crit;
    double pp = a == NNINIT_ACT_LEAKY_RELU || a == NNINIT_ACT_ELU ? p : NAN;
    for (int i = 0; i < MEMO; i++)
        if (memo[i].used && memo[i].a == a && (memo[i].p == pp || (isnan(memo[i].p) && isnan(pp))) &&
            memo[i].sb2 == sb2)
            return memo[i].crit;
    if (nninit_mf_critical_sw2((nninit_mf_act)a, pp, sb2, &crit)) crit = NAN;
    memo[next].used = 1, memo[next].a = a, memo[next].p = pp, memo[next].sb2 = sb2, memo[next].crit = crit;
    next = (next + 1) % MEMO;
    return crit;
}

/* tanh's critical point moves with sigma_b^2 (1 at 0, 1.76 at 0.05: the
 * edge of chaos), so with random biases it is asked too. */
static int needs_critical(const nninit_probe_report *r, nninit_act a) {
    return a == NNINIT_ACT_SIGMOID || a == NNINIT_ACT_ELU || a == NNINIT_ACT_GELU || a == NNINIT_ACT_SOFTPLUS ||
           (a == NNINIT_ACT_TANH && r->sb2 > 0);
}

/* crit: critical_sw2(r, a, p) when needs_critical(r, a), else NaN. */
static advice advise(nninit_act a, double p, double crit, double sb2) {
    advice v;
    memset(&v, 0, sizeof v);
    switch (a) {
    case NNINIT_ACT_RELU:
        snprintf(v.init, sizeof v.init, "kaiming_normal(nonlinearity=relu)");
        v.sw2 = 2;
        snprintf(v.why, sizeof v.why, "He: sigma_w^2 = 2, chi_1 = 1 for relu");
        break;
    case NNINIT_ACT_LEAKY_RELU:
        snprintf(v.init, sizeof v.init, "kaiming_normal(nonlinearity=leaky_relu,a=%.6g)", p);
        v.sw2 = 2 / (1 + p * p);
        snprintf(v.why, sizeof v.why, "sigma_w^2 = 2/(1+a^2) = %.4g, chi_1 = 1 for leaky_relu(%.6g)", v.sw2, p);
        break;
    case NNINIT_ACT_SELU:
        snprintf(v.init, sizeof v.init, "lecun_normal");
        v.sw2 = 1;
        snprintf(v.why, sizeof v.why, "sigma_w^2 = 1: SELU's self-normalizing fixed point (Klambauer et al. 2017)");
        break;
    case NNINIT_ACT_SIGMOID:
        snprintf(v.init, sizeof v.init, "xavier_normal");
        v.sw2 = NAN;
        snprintf(v.why, sizeof v.why,
                 "switch to tanh with xavier_normal: sigmoid's slope is at most 1/4, so chi_1 = sigma_w^2 "
                 "E[sigmoid'^2] stays far below 1 at every usual scale (chi_1 = 1 only at sigma_w^2 ~ %.3g, where its "
                 "units saturate), and its outputs share a mean of 1/2",
                 crit);
        break;
    case NNINIT_ACT_TANH:
        if (sb2 > 0 && isfinite(crit)) {
            snprintf(v.init, sizeof v.init, "variance_scaling(scale=%.4g,mode=fan_in,distribution=normal)", crit);
            v.sw2 = crit;
            snprintf(
                v.why, sizeof v.why,
                "sigma_w^2 = %.4g, the edge of chaos (chi_1 = 1) for tanh at this sigma_b^2 = %.3g; or zero biases "
                "and xavier_normal",
                crit, sb2);
            break;
        }
        /* fall through */
    case NNINIT_ACT_IDENTITY:
        snprintf(v.init, sizeof v.init, "xavier_normal");
        v.sw2 = 1;
        snprintf(v.why, sizeof v.why, "sigma_w^2 = 1 for square layers, chi_1 = 1 for %s", nninit_act_name(a));
        break;
    default: /* no PyTorch gain: the mean field's critical sigma_w^2 */
        if (isfinite(crit)) {
            snprintf(v.init, sizeof v.init, "variance_scaling(scale=%.4g,mode=fan_in,distribution=normal)", crit);
            v.sw2 = crit;
            snprintf(v.why, sizeof v.why,
                     "sigma_w^2 = %.4g, where the mean field puts chi_1 = 1 for %s: %.2fx He's 2, %.2fx Xavier's 1",
                     crit, nninit_act_name(a), crit / 2, crit);
        } else {
            snprintf(v.init, sizeof v.init, "kaiming_normal");
            v.sw2 = 2;
            snprintf(v.why, sizeof v.why, "He's sigma_w^2 = 2");
        }
    }
    return v;
}

/* "layers 1..30" style tail: "x0.079 per layer" */
static double per_layer(double factor, int steps) { return steps > 0 ? pow(factor, 1.0 / steps) : factor; }

static int out_of_band(double factor, double rate) {
    return factor > NNINIT_PROBE_FACTOR || factor < 1 / NNINIT_PROBE_FACTOR || rate > NNINIT_PROBE_RATE_HI ||
           rate < NNINIT_PROBE_RATE_LO;
}

/* The first hidden layer whose pre-activations have a mean beyond half their
 * std (biases or non-zero-mean weights dominate), or -1. */
static int mean_dominated(const nninit_probe_report *r, int first, int last) {
    for (int l = first; first >= 0 && l <= last; l++)
        if (r->layers[l].pre_std > 0 && fabs(r->layers[l].pre_mean) > 0.5 * r->layers[l].pre_std) return l;
    return -1;
}

/* Advice for a scale problem: the init, unless it is already at that scale. */
static int at_advised_scale(const nninit_probe_report *r, const advice *ad) {
    return r->mean_field && isfinite(ad->sw2) && fabs(r->sw2 / ad->sw2 - 1) < 0.05;
}

static void scale_advice(const nninit_probe_report *r, const advice *ad, const char *what, char *buf, size_t n) {
    if (!isfinite(ad->sw2) && !strncmp(ad->why, "switch to", 9)) /* sigmoid: the scale is not the cure */
        snprintf(buf, n, "%s", ad->why);
    else if (at_advised_scale(r, ad))
        snprintf(buf, n,
                 "the weights already have that scale (sigma_w^2 = %.4g); what remains is depth: residual blocks "
                 "(he-zero) or fewer layers",
                 r->sw2);
    else snprintf(buf, n, "%s: use %s (%s)", what, ad->init, ad->why);
}

/* The advice for the main activation, made on first use: the critical
 * sigma_w^2 it may need costs a bisection over q* solves, which a healthy
 * net never pays for. */
typedef struct {
    nninit_probe_report *r;
    nninit_act act;
    double ap;
    int resnet, ready;
    advice ad;
} lazy_advice;

static const advice *get_advice(lazy_advice *la) {
    if (la->ready) return &la->ad;
    la->ready = 1;
    if (needs_critical(la->r, la->act)) la->r->sw2_critical = critical_sw2(la->r, la->act, la->ap);
    la->ad = advise(la->act, la->ap, la->r->sw2_critical, isfinite(la->r->sb2) ? la->r->sb2 : 0.0);
    if (la->resnet) {
        snprintf(la->ad.init, sizeof la->ad.init, "he-zero residual blocks");
        la->ad.sw2 = NAN;
        snprintf(la->ad.why, sizeof la->ad.why,
                 "He on each block's first layer, zero on its last: every block starts as the identity");
    }
    return &la->ad;
}

/* What a healthy verdict checked, leaving out what could not be measured. */
static void healthy_text(const nninit_probe_report *r, char *b, size_t n, int nh) {
    int k = 0;
#define PUT(...)                                                                                                       \
    do {                                                                                                               \
        if (k >= 0 && (size_t)k < n) k += snprintf(b + k, n - (size_t)k, __VA_ARGS__);                                 \
    } while (0)
    if (nh >= 2 && isfinite(r->act_rate))
        PUT("checked per layer: pre-activation std x%.3g (band %g-%g), end to end x%.3g (limit %gx)", r->act_rate,
            NNINIT_PROBE_RATE_LO, NNINIT_PROBE_RATE_HI, r->act_factor, NNINIT_PROBE_FACTOR);
    else PUT("%s", nh ? "one hidden layer: no rate by depth to check" : "no hidden layer: nothing propagates");
    if (nh >= 2 && isfinite(r->grad_rate)) PUT("; gradient std x%.3g, end to end x%.3g", r->grad_rate, r->grad_factor);
    PUT("; loss at init %.3g (limit %g ln %d = %.3g)", r->loss, NNINIT_PROBE_LOSS_FACTOR,
        r->layers[r->n_layers - 1].width, NNINIT_PROBE_LOSS_FACTOR * r->loss_ref);
    if (nh >= 1)
        PUT("; saturated <= %.0f%%, dead <= %.0f%% (limit %.0f%%)", 100 * r->sat_max, 100 * r->dead_max,
            100 * NNINIT_PROBE_DEAD);
    if (nh >= 1 && isfinite(r->corr_last)) PUT("; pair correlation %.2f at layer %d", r->corr_last, r->last_hidden + 1);
    if (r->mean_field && isfinite(r->chi1_asym)) PUT("; mean field chi_1 %.4g", r->chi1_asym);
#undef PUT
}

void nninit__probe_diagnose(nninit_probe_report *r, int sgd_steps, double pair_corr, int batch) {
    r->n_findings = 0;
    int ml = main_act(r);
    nninit_act act = ml >= 0 ? r->layers[ml].act : NNINIT_ACT_IDENTITY;
    double ap = ml >= 0 ? r->layers[ml].act_param : 0;
    char an[48];
    if (act == NNINIT_ACT_LEAKY_RELU || act == NNINIT_ACT_ELU)
        snprintf(an, sizeof an, "%s(%g)", nninit_act_name(act), ap);
    else snprintf(an, sizeof an, "%s", nninit_act_name(act));
    lazy_advice la = {r, act, ap, is_residual_net(r), 0, {{0}, 0, {0}}};
    /* hidden layers: all but the output layer, flattens skipped */
    int first = -1, last = -1, nh = 0;
    for (int l = 0; l + 1 < r->n_layers; l++) {
        if (r->layers[l].kind == NNINIT_LAYER_FLATTEN) continue;
        if (first < 0) first = l;
        last = l;
        nh++;
    }
    /* float overflow: values past it are inf or NaN (relu(NaN) = 0 looks dead
     * or vanishing), so it is the finding, and what follows it is not read */
    int ov = -1;
    for (int l = first; first >= 0 && l <= last + 1 && l < r->n_layers && ov < 0; l++)
        if (r->layers[l].nonfinite > 0) ov = l;
    if (ov >= 0 || !isfinite(r->loss)) {
        int at = ov >= 0 ? ov : r->n_layers - 1;
        nninit_finding *f =
            add_finding(r, NNINIT_FINDING_EXPLODING, at, ov >= 0 ? r->layers[ov].nonfinite : r->loss, 0);
        if (f) {
            if (ov >= 0)
                snprintf(f->text, sizeof f->text,
                         "layer %d's activations overflow float: %.0f%% of its values are inf or NaN (layer %d's "
                         "pre-activation std is %.3g); activations explode with depth, and nothing after layer %d "
                         "can be read",
                         ov + 1, 100 * r->layers[ov].nonfinite, first + 1, r->layers[first].pre_std, ov);
            else snprintf(f->text, sizeof f->text, "the loss at init is %g: the logits overflow float", r->loss);
            scale_advice(r, get_advice(&la), "weights too large", f->advice, sizeof f->advice);
        }
        /* the hidden layers before the overflow are still measured */
        int keep = -1, k = 0;
        for (int l = first; l >= 0 && l < (ov >= 0 ? ov : last + 1); l++)
            if (r->layers[l].kind != NNINIT_LAYER_FLATTEN) keep = l, k++;
        last = keep, nh = k;
        if (last < first) first = last = -1;
    }
    r->first_hidden = first, r->last_hidden = last;
    r->act_factor = r->act_rate = r->grad_factor = r->grad_rate = NAN;
    r->dead_max = r->sat_max = 0, r->dead_layer = -1, r->corr_last = NAN;
    if (first >= 0) {
        double s0 = r->layers[first].pre_std, s1 = r->layers[last].pre_std;
        if (s0 > 0 && isfinite(s0) && isfinite(s1)) r->act_factor = s1 / s0;
        double g0 = r->layers[first].grad_std, g1 = r->layers[last].grad_std;
        if (g1 > 0 && isfinite(g0) && isfinite(g1)) r->grad_factor = g0 / g1;
        r->act_rate = per_layer(r->act_factor, nh - 1);
        r->grad_rate = per_layer(r->grad_factor, nh - 1);
        for (int l = first; l <= last; l++) {
            const nninit_probe_layer *p = &r->layers[l];
            if (p->dead > r->dead_max) r->dead_max = p->dead, r->dead_layer = l;
            if (p->saturated > r->sat_max) r->sat_max = p->saturated;
        }
        r->corr_last = r->layers[last].corr_meas;
    }
    char buf[320];

    /* symmetry: a layer whose units are all one unit after training steps */
    for (int l = first; first >= 0 && l <= last; l++) {
        const nninit_probe_layer *p = &r->layers[l];
        if (p->width > 1 && p->distinct_units_after == 1 && p->distinct_units_init == 1 && p->distinct_rows_init <= 1) {
            nninit_finding *f = add_finding(r, NNINIT_FINDING_SYMMETRIC, l, 1, 0);
            if (!f) break;
            snprintf(f->text, sizeof f->text,
                     "layer %d has 1 distinct unit of %d at init and still 1 after %d SGD steps: "
                     "constant init, every unit gets the same gradient",
                     l + 1, p->width, sgd_steps);
            snprintf(f->advice, sizeof f->advice, "break the symmetry with a random init: use %s (%s)",
                     get_advice(&la)->init, get_advice(&la)->why);
            break;
        }
    }
    /* loss at init */
    if (r->loss_ref > 0 && isfinite(r->loss) && r->loss > NNINIT_PROBE_LOSS_FACTOR * r->loss_ref) {
        const nninit_probe_layer *o = &r->layers[r->n_layers - 1];
        nninit_finding *f = add_finding(r, NNINIT_FINDING_LOSS, r->n_layers - 1, r->loss, 0);
        if (f) {
            snprintf(f->text, sizeof f->text,
                     "loss at init %.4g is %.3gx ln(%d) = %.3g, the loss of a uniform guess: the logits are huge "
                     "(output std %.3g)",
                     r->loss, r->loss / r->loss_ref, o->width, r->loss_ref, o->post_std);
            scale_advice(r, get_advice(&la), "weights too large", buf, sizeof buf);
            snprintf(f->advice, sizeof f->advice, "%s; a zero or small output layer starts the loss at ln(%d)", buf,
                     o->width);
        }
    }
    /* a hidden layer whose pre-activations are all equal after one whose vary:
     * its weights are zero (or constant); rates through it say nothing more */
    int flat = -1;
    for (int l = first; first >= 0 && l <= last && flat < 0; l++)
        if (l > first && r->layers[l].pre_std == 0 && r->layers[first].pre_std > 0 &&
            r->layers[l].distinct_rows_init <= 1) /* else it underflowed: the rates below say so */
            flat = l;
    if (flat >= 0) {
        nninit_finding *f = add_finding(r, NNINIT_FINDING_VANISHING, flat, 0, 0);
        if (f) {
            snprintf(f->text, sizeof f->text,
                     "layer %d's pre-activations are the same for every input and unit (std 0) although layer %d's "
                     "vary: its weights are zero or constant, so no signal passes it",
                     flat + 1, first + 1);
            snprintf(f->advice, sizeof f->advice, "give layer %d a random init: use %s (%s)", flat + 1,
                     get_advice(&la)->init, get_advice(&la)->why);
        }
    }
    /* measured vanishing / exploding, activations then gradients */
    if (first >= 0 && nh >= 2 && flat < 0) {
        struct {
            double factor, rate;
            const char *what, *dir;
            int at, from;
        } m[2] = {{r->act_factor, r->act_rate, "pre-activation", "with depth", last, first},
                  {r->grad_factor, r->grad_rate, "gradient", "backward", first, last}};
        for (int i = 0; i < 2; i++) {
            if (!isfinite(m[i].factor) || !out_of_band(m[i].factor, m[i].rate)) continue;
            int small = m[i].factor < 1;
            nninit_finding *f =
                add_finding(r, small ? NNINIT_FINDING_VANISHING : NNINIT_FINDING_EXPLODING, m[i].at, m[i].factor, 0);
            if (!f) break;
            snprintf(f->text, sizeof f->text, "layer %d %s std is %.3g %s layer %d's (x%.3g per layer%s): %ss %s %s",
                     m[i].at + 1, m[i].what, m[i].factor, small ? "of" : "times", m[i].from + 1, m[i].rate,
                     m[i].factor == 0 ? "; below float range" : "", m[i].what, small ? "vanish" : "explode", m[i].dir);
            int md = mean_dominated(r, first, last);
            if (md >= 0)
                snprintf(f->advice, sizeof f->advice,
                         "layer %d's pre-activations have mean %.3g against a std of %.3g: the biases (or a non-zero "
                         "mean of the weights) dominate; start the biases at zero (--bias zeros) and use a zero-mean "
                         "init: %s",
                         md + 1, r->layers[md].pre_mean, r->layers[md].pre_std, get_advice(&la)->init);
            else
                scale_advice(r, get_advice(&la),
                             small ? "weights too small for this depth" : "weights too large for this depth", f->advice,
                             sizeof f->advice);
        }
    }
    /* what the theory says about depth: iterate the q map of the last hidden
     * layer's parameters from layer 1's q to this depth and to twice it; the
     * gradient variance from layer n back to layer 1 is prod chi_1(q^l). */
    if (r->mean_field && first >= 0 && nh >= 1 && r->sw2 > 0) {
        const nninit_probe_layer *h = &r->layers[last];
        nninit_mf_net n = {(nninit_mf_act)h->act,
                           h->act == NNINIT_ACT_LEAKY_RELU || h->act == NNINIT_ACT_ELU ? h->act_param : NAN, r->sw2,
                           r->sb2};
        double lim = NNINIT_PROBE_FACTOR * NNINIT_PROBE_FACTOR, q1 = r->layers[first].q_pred, q = q1, g = 1;
        double qd = NAN, gd = NAN, chi = NAN;
        int ok = q1 > 0 && isfinite(q1);
        for (int l = 1; ok && l <= 2 * nh; l++) {
            if (l == nh) qd = q, gd = g;
            if (l == 2 * nh) break;
            if (nninit_mf_chi1(&n, q, &chi) || nninit_mf_q_map(&n, q, &q)) ok = 0;
            else g *= chi;
            if (!(q > 0) || q > 1e300 || !(g > 0) || g > 1e300) { /* underflow to 0 or overflow: say so */
                if (l + 1 < nh) qd = q, gd = g;
                break;
            }
        }
        struct {
            double here, twice;
            const char *what;
        } t[2] = {{qd / q1, q / q1, "activation"}, {gd, g, "gradient"}};
        for (int i = 0; ok && i < 2; i++) {
            double k = t[i].twice;
            if (!(k >= 0) || (k <= lim && k >= 1 / lim)) continue;
            int small = k < 1, said = 0;
            /* a measured finding of the same kind and quantity already says it */
            for (int j = 0; j < r->n_findings; j++)
                said |= !r->findings[j].theory && strstr(r->findings[j].text, t[i].what) &&
                        r->findings[j].kind == (small ? NNINIT_FINDING_VANISHING : NNINIT_FINDING_EXPLODING);
            if (said) continue;
            nninit_finding *f = add_finding(r, small ? NNINIT_FINDING_VANISHING : NNINIT_FINDING_EXPLODING, last, k, 1);
            if (!f) break;
            char deep[96];
            if (i == 1) snprintf(deep, sizeof deep, "chi_1 = %.4g per layer deep in", chi);
            else if (r->q_unbounded)
                snprintf(deep, sizeof deep, "no fixed point: q grows x%.4g per layer", r->q_growth);
            else snprintf(deep, sizeof deep, "q* = %.3g", r->qstar);
            snprintf(f->text, sizeof f->text,
                     "the q map (%s) changes the %s variance x%.3g over these %d layers and x%.3g at depth %d (std "
                     "x%.3g): %ss %s with depth",
                     deep, t[i].what, t[i].here, nh, k, 2 * nh, sqrt(k), t[i].what, small ? "vanish" : "explode");
            scale_advice(r, get_advice(&la), small ? "weights too small" : "weights too large", f->advice,
                         sizeof f->advice);
        }
    }
    /* saturation */
    for (int l = first; first >= 0 && l <= last; l++) {
        const nninit_probe_layer *p = &r->layers[l];
        if (p->saturated > NNINIT_PROBE_SATURATED) {
            double s = 0;
            int n = 0;
            for (int k = l; k <= last; k++)
                if (r->layers[k].act == p->act) {
                    s += r->layers[k].saturated;
                    n++;
                }
            nninit_finding *f = add_finding(r, NNINIT_FINDING_SATURATED, l, s / n, 0);
            if (f) {
                snprintf(f->text, sizeof f->text, "%.0f%% of %s units at %s from layer %d", 100 * s / n,
                         nninit_act_name(p->act), p->act == NNINIT_ACT_TANH ? "|y| > 0.99" : "y outside [0.01, 0.99]",
                         l + 1);
                advice sa = p->act == act && p->act_param == ap
                                ? *get_advice(&la)
                                : advise(p->act, p->act_param,
                                         needs_critical(r, p->act) ? critical_sw2(r, p->act, p->act_param) : NAN,
                                         isfinite(r->sb2) ? r->sb2 : 0.0);
                snprintf(f->advice, sizeof f->advice, "weights too large: use %s (%s)", sa.init, sa.why);
            }
            break;
        }
    }
    /* dead units (a live unit is zero on all B inputs with chance ~2^-B: only
     * batches of 16 or more tell dead from unlucky) */
    if (r->dead_layer >= 0 && r->dead_max > NNINIT_PROBE_DEAD && batch >= 16) {
        int l = r->dead_layer;
        const nninit_probe_layer *p = &r->layers[l];
        nninit_finding *f = add_finding(r, NNINIT_FINDING_DEAD, l, r->dead_max, 0);
        if (f) {
            double d0 = r->layers[first].dead;
            int n = snprintf(f->text, sizeof f->text,
                             "%.0f%% of layer %d's %s units are zero on all %d inputs of the batch (dead)",
                             100 * r->dead_max, l + 1, nninit_act_name(p->act), batch);
            if (last > first && n > 0 && n < (int)sizeof f->text)
                snprintf(f->text + n, sizeof f->text - (size_t)n, "; by depth: layer %d %.0f%%, layer %d %.0f%%",
                         first + 1, 100 * d0, last + 1, 100 * r->layers[last].dead);
            if (!(p->pre_std > 0))
                snprintf(f->advice, sizeof f->advice,
                         "layer %d's pre-activations are the same for every input (zero or constant weights): use %s "
                         "(%s)",
                         l + 1, get_advice(&la)->init, get_advice(&la)->why);
            else if (p->pre_mean < -0.5 * p->pre_std)
                snprintf(f->advice, sizeof f->advice,
                         "layer %d's pre-activations have mean %.3g against a std of %.3g: the biases push the units "
                         "below zero; start the biases at zero (--bias zeros)",
                         l + 1, p->pre_mean, p->pre_std);
            else if (la.resnet)
                snprintf(f->advice, sizeof f->advice,
                         "units die as depth makes the inputs alike (pair correlation %.2f at layer %d): start each "
                         "residual branch at zero (he-zero) so the blocks begin as the identity",
                         r->corr_last, last + 1);
            else
                snprintf(f->advice, sizeof f->advice,
                         "units die as depth makes the inputs alike (pair correlation %.2f at layer %d); no init scale "
                         "prevents that in a plain relu net: residual blocks (he-zero), leaky_relu, or fewer layers",
                         r->corr_last, last + 1);
        }
    }
    /* correlation collapse: two inputs become indistinguishable */
    if (first >= 0 && nh >= 2 && isfinite(r->corr_last) && pair_corr < 1 &&
        1 - r->corr_last < NNINIT_PROBE_COLLAPSE * (1 - pair_corr)) {
        int at = last;
        for (int l = first; l <= last; l++)
            if (isfinite(r->layers[l].corr_meas) &&
                1 - r->layers[l].corr_meas < NNINIT_PROBE_COLLAPSE * (1 - pair_corr)) {
                at = l;
                break;
            }
        nninit_finding *f = add_finding(r, NNINIT_FINDING_COLLAPSE, at, r->corr_last, 0);
        if (f) {
            int n;
            if (at == first)
                n = snprintf(f->text, sizeof f->text,
                             "two inputs with correlation %.2f at the input are at %.3f already at layer %d", pair_corr,
                             r->layers[first].corr_meas, first + 1);
            else
                n = snprintf(f->text, sizeof f->text,
                             "two inputs with correlation %.2f at layer %d reach %.3f by layer %d",
                             r->layers[first].corr_meas, first + 1, r->layers[at].corr_meas, at + 1);
            if (at != last && n > 0 && n < (int)sizeof f->text)
                n += snprintf(f->text + n, sizeof f->text - (size_t)n, " and %.3f at layer %d", r->corr_last, last + 1);
            if (n > 0 && n < (int)sizeof f->text)
                snprintf(f->text + n, sizeof f->text - (size_t)n,
                         ": the net maps different inputs to nearly the same representation");
            if (r->mean_field && !(r->sw2 > 0))
                snprintf(
                    f->advice, sizeof f->advice,
                    "the weights are zero, so every input gives the same pre-activations (the biases): use %s (%s)",
                    get_advice(&la)->init, get_advice(&la)->why);
            else if (la.resnet)
                snprintf(f->advice, sizeof f->advice,
                         "start each residual branch at zero (he-zero): the blocks then begin as the identity and keep "
                         "the inputs apart");
            else if (act == NNINIT_ACT_RELU || act == NNINIT_ACT_LEAKY_RELU)
                snprintf(f->advice, sizeof f->advice,
                         "no init scale prevents it in a plain %s net (its correlation map has c* = 1 at every "
                         "sigma_w^2): residual blocks (he-zero) or fewer layers",
                         an);
            else if (act == NNINIT_ACT_SIGMOID)
                snprintf(f->advice, sizeof f->advice,
                         "sigmoid's outputs share a mean of 1/2, which dominates every layer's input: use tanh "
                         "(zero-centred) with xavier_normal");
            else if (r->mean_field && r->chi1 < 1 && !at_advised_scale(r, get_advice(&la)))
                snprintf(f->advice, sizeof f->advice,
                         "the net is in the ordered phase (chi_1 = %.3g < 1): raise sigma_w^2 to the edge of chaos: "
                         "use %s (%s)",
                         r->chi1, get_advice(&la)->init, get_advice(&la)->why);
            else snprintf(f->advice, sizeof f->advice, "residual blocks (he-zero) or fewer layers");
        }
    }
    /* chaos: nearby inputs are pulled apart (mean field), or measured with
     * --corr. Not at the advised scale: SELU's sigma_w^2 = 1 is mildly
     * chaotic by design (chi_1 = 1.07) and self-normalizes. */
    if (r->mean_field && isfinite(r->cstar) && r->cstar < NNINIT_PROBE_CHAOS_CSTAR && isfinite(r->xi_c) &&
        nh >= r->xi_c && !at_advised_scale(r, get_advice(&la))) {
        nninit_finding *f = add_finding(r, NNINIT_FINDING_CHAOS, last, r->cstar, 1);
        if (f) {
            snprintf(f->text, sizeof f->text,
                     "chaotic phase (chi_1 = %.4g > 1): two nearby inputs decorrelate to c* = %.3g within "
                     "about xi_c = %.3g layers (this net has %d); trainable depth is about 6 xi_c = %.3g "
                     "(Schoenholz et al. 2017)",
                     r->chi1, r->cstar, r->xi_c, nh, 6 * r->xi_c);
            scale_advice(r, get_advice(&la), "lower sigma_w^2 to the edge of chaos", f->advice, sizeof f->advice);
        }
    } else if (first >= 0 && nh >= 2 && pair_corr >= 0.5 && isfinite(r->corr_last) && r->corr_last < pair_corr - 0.3) {
        nninit_finding *f = add_finding(r, NNINIT_FINDING_CHAOS, last, r->corr_last, 0);
        if (f) {
            snprintf(f->text, sizeof f->text,
                     "two inputs with correlation %.2f end at %.3f by layer %d: nearby inputs are pulled apart "
                     "(chaotic)",
                     pair_corr, r->corr_last, last + 1);
            scale_advice(r, get_advice(&la), "weights too large", f->advice, sizeof f->advice);
        }
    }
    if (r->n_findings == 0) {
        nninit_finding *f = add_finding(r, NNINIT_FINDING_HEALTHY, -1, 0, 0);
        if (f) healthy_text(r, f->text, sizeof f->text, nh), snprintf(f->advice, sizeof f->advice, "nothing to change");
    }
}

static void progress(const nninit_probe_opts *o, const char *stage, int done, int total) {
    if (o->progress) o->progress(o->progress_ctx, stage, done, total);
}

/* One finite range over every hidden layer's values (the shared histogram axis). */
static void shared_range(nninit_net *net, int L, int B, int grad, double *lo, double *hi) {
    double mn = INFINITY, mx = -INFINITY;
    for (int l = 0; l + 1 < L || (L == 1 && l == 0); l++) {
        nninit_layer_view v;
        if (nninit_net_layer(net, l, &v) || v.kind == NNINIT_LAYER_FLATTEN) continue;
        const float *x = grad ? v.dpre : v.post;
        if (x) extend_finite(x, (int64_t)B * v.out_size, &mn, &mx);
    }
    settle_range(mn, mx, lo, hi);
}

int nninit_probe_mean_field_text(const nninit_probe_report *r, char *buf, size_t n) {
    if (!r || (!buf && n)) return 0;
    if (!r->mean_field) return snprintf(buf, n, "%s", r->mf_note[0] ? r->mf_note : "not predicted");
    char q[160], ch[160], tail[160] = "";
    if (r->q_unbounded && fabs(r->q_growth - 1) < 1e-3)
        snprintf(q, sizeof q,
                 "no fixed point: q grows without bound, about linearly (by sigma_b^2 or slower per layer)");
    else if (r->q_unbounded)
        snprintf(q, sizeof q, "no fixed point: q grows without bound (x%.4g per layer)", r->q_growth);
    else if (r->qstar == 0) snprintf(q, sizeof q, "q* = 0: the signal dies out");
    else if (isfinite(r->qstar)) snprintf(q, sizeof q, "q* %.4g", r->qstar);
    else snprintf(q, sizeof q, "no fixed point found");
    double k = r->chi1_asym;
    if (!isfinite(k)) snprintf(ch, sizeof ch, "chi_1 not defined");
    else if (fabs(k - 1) < 1e-3) snprintf(ch, sizeof ch, "chi_1 %.4g: critical, gradients keep their size", k);
    else if (k < 1) snprintf(ch, sizeof ch, "chi_1 %.4g: ordered, gradient variance x%.3g per layer", k, k);
    else if (isfinite(r->cstar) && r->cstar < 1)
        snprintf(ch, sizeof ch, "chi_1 %.4g: chaotic, gradient variance x%.3g per layer", k, k);
    else snprintf(ch, sizeof ch, "chi_1 %.4g: gradient variance x%.3g per layer", k, k);
    int t = 0;
    if (isfinite(r->cstar) && r->cstar < 1) t = snprintf(tail, sizeof tail, "; c* %.3g, xi_c %.3g", r->cstar, r->xi_c);
    if (isfinite(r->sw2_critical) && t >= 0 && t < (int)sizeof tail)
        snprintf(tail + t, sizeof tail - (size_t)t, "; chi_1 = 1 at sigma_w^2 %.4g", r->sw2_critical);
    return snprintf(buf, n, "sigma_w^2 %.4g, sigma_b^2 %.4g; %s; %s%s", r->sw2, r->sb2, q, ch, tail);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static nninit_status probe_run(const nninit_arch *arch, const nninit_layer_init *default_init,
                               const nninit_probe_opts *opts, nninit_probe_report *rep);

/* opts->threads sets OpenBLAS's process-wide thread count for this call
 * only: the caller's setting is restored on every return. */
nninit_status nninit_probe_run(const nninit_arch *arch, const nninit_layer_init *default_init,
                               const nninit_probe_opts *opts, nninit_probe_report *rep) {
    int before = openblas_get_num_threads();
    nninit_status st = probe_run(arch, default_init, opts, rep);
    if (openblas_get_num_threads() != before) openblas_set_num_threads(before);
    return st;
}

static nninit_status probe_run(const nninit_arch *arch, const nninit_layer_init *default_init,
                               const nninit_probe_opts *opts, nninit_probe_report *rep) {
    if (!arch || !rep) return nninit__err(NNINIT_ERR_NULL, "probe: NULL argument");
    nninit_probe_opts o = opts ? *opts : nninit_probe_opts_default();
    if (o.batch < 2) return nninit__err(NNINIT_ERR_PARAM, "probe: batch %d must be >= 2", o.batch);
    if (o.hist_bins < 1 || o.hist_bins > NNINIT_PROBE_MAX_BINS)
        return nninit__err(NNINIT_ERR_PARAM, "probe: hist_bins %d outside 1..%d", o.hist_bins, NNINIT_PROBE_MAX_BINS);
    if (!(o.pair_corr >= -1 && o.pair_corr <= 1))
        return nninit__err(NNINIT_ERR_PARAM, "probe: pair correlation %g outside [-1, 1]", o.pair_corr);
    if (o.sgd_steps < 0) return nninit__err(NNINIT_ERR_PARAM, "probe: sgd_steps %d < 0", o.sgd_steps);
    if (o.threads < 0) return nninit__err(NNINIT_ERR_PARAM, "probe: threads %d < 0", o.threads);
    if (o.threads > 0) openblas_set_num_threads(o.threads);
    memset(rep, 0, sizeof *rep);
    double t0 = now_s();

    nninit_net *net = NULL;
    nninit_status st = nninit_net_create(arch, o.batch, default_init, o.seed, &net);
    if (!st && (st = nninit_net_set_matmul(net, o.matmul))) nninit_net_free(net);
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
    progress(&o, "forward", 0, 1);
    if ((st = nninit_net_forward(net, x, B)) || (st = nninit_net_loss(net, y, &rep->loss))) goto done;
    progress(&o, "backward", 0, 1);
    if ((st = nninit_net_backward(net))) goto done;
    rep->loss_ref = log((double)classes);
    shared_range(net, L, B, 0, &rep->hist_shared_lo, &rep->hist_shared_hi);
    shared_range(net, L, B, 1, &rep->grad_shared_lo, &rep->grad_shared_hi);
    for (int l = 0; l < L; l++) {
        nninit_layer_view v;
        nninit_probe_layer *p = &rep->layers[l];
        progress(&o, "statistics", l, L);
        if ((st = nninit_net_layer(net, l, &v))) goto done;
        p->index = l;
        p->kind = v.kind;
        p->act = v.act;
        p->act_param = v.act_param;
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
        int64_t bad = 0;
        for (int64_t i = 0; i < n; i++) bad += !isfinite(v.post[i]) || (v.pre && !isfinite(v.pre[i]));
        p->nonfinite = n ? (double)bad / (double)n : 0.0;
        histogram(v.post, n, o.hist_bins, &p->hist_lo, &p->hist_hi, p->hist);
        histogram_on(v.post, n, o.hist_bins, rep->hist_shared_lo, rep->hist_shared_hi, p->shist);
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
            histogram_on(v.dpre, n, o.hist_bins, rep->grad_shared_lo, rep->grad_shared_hi, p->grad_shist);
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
    progress(&o, "pair", 0, 1);
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
    rep->cstar = rep->q_growth = rep->chi1_asym = rep->sw2_critical = NAN;
    progress(&o, "theory", 0, 1);
    nninit__probe_mean_field(arch, net, default_init, x, B, pair, o.lsuv, rep);

    /* (3) SGD steps, then distinct units again */
    for (int s = 0; s < o.sgd_steps; s++) {
        double loss;
        progress(&o, "sgd", s, o.sgd_steps);
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
    nninit__probe_diagnose(rep, o.sgd_steps, o.pair_corr, B);
    rep->seconds = now_s() - t1;

done:
    free(x);
    free(pair);
    free(y);
    nninit_net_free(net);
    if (st) nninit_probe_report_free(rep);
    return st;
}

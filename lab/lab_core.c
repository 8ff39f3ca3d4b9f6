/* lab_core.c -- the lab's machinery: data, checks and verdicts, training and
 * probing helpers for experiments, running one experiment. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "lab.h"
#include "nninit_data.h"

static char lab_err[512];

const char *lab_error(void) { return lab_err; }

void lab_set_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lab_err, sizeof lab_err, fmt, ap);
    va_end(ap);
}

const char *lab_verdict_name(lab_verdict v) {
    switch (v) {
    case LAB_REPRODUCED: return "reproduced";
    case LAB_NOT_REPRODUCED: return "not reproduced";
    case LAB_INCONCLUSIVE: return "inconclusive";
    }
    return "?";
}

const char *lab_scale_name(lab_scale s) {
    static const char *n[] = {"tiny", "quick", "full"};
    return (unsigned)s < 3 ? n[s] : "?";
}

const char *lab_op_text(lab_op op) {
    static const char *n[] = {"<", "<=", ">", ">=", "=="};
    return (unsigned)op < 5 ? n[op] : "?";
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- data --------------------------------------------------------------- */

/* splitmix64: the subset's sampling only (not a weight stream). */
static uint64_t mix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void lab_data_free(lab_data *d) {
    if (!d) return;
    free(d->train_x), free(d->test_x), free(d->train_y), free(d->test_y);
    memset(d, 0, sizeof *d);
}

nninit_status lab_data_load(const char *dir, int n_train, int n_test, uint64_t seed, lab_data *d) {
    memset(d, 0, sizeof *d);
    nninit_status st;
    int ntr, nte;
    if ((st = nninit_fashion_mnist_load(dir, 1, &d->train_x, &d->train_y, &ntr)) ||
        (st = nninit_fashion_mnist_load(dir, 0, &d->test_x, &d->test_y, &nte))) {
        lab_set_error("%s", nninit_last_error());
        lab_data_free(d);
        return st;
    }
    d->dim = 784, d->n_train = ntr, d->n_test = nte;
    if (n_train > ntr || n_test > nte) { /* an error, not a silent clamp */
        lab_set_error("a subset of %d %s examples is more than the %d there are", n_train > ntr ? n_train : n_test,
                      n_train > ntr ? "training" : "test", n_train > ntr ? ntr : nte);
        lab_data_free(d);
        return NNINIT_ERR_PARAM;
    }
    if ((st = nninit_standardize(d->train_x, ntr, 784, NAN, NAN, &d->mean, &d->std)) ||
        (st = nninit_standardize(d->test_x, nte, 784, d->mean, d->std, NULL, NULL))) {
        lab_set_error("%s", nninit_last_error());
        lab_data_free(d);
        return st;
    }
    if (n_train > 0 && n_train < ntr) { /* seeded partial Fisher-Yates: the first n_train of a permutation */
        uint64_t s = seed ^ 0x5375627365744c62ull;
        float *row = malloc(784 * sizeof *row);
        if (!row) goto nomem;
        for (int i = 0; i < n_train; i++) {
            int j = i + (int)(mix(&s) % (uint64_t)(ntr - i));
            memcpy(row, d->train_x + (size_t)i * 784, 784 * sizeof *row);
            memcpy(d->train_x + (size_t)i * 784, d->train_x + (size_t)j * 784, 784 * sizeof *row);
            memcpy(d->train_x + (size_t)j * 784, row, 784 * sizeof *row);
            int t = d->train_y[i];
            d->train_y[i] = d->train_y[j], d->train_y[j] = t;
        }
        free(row);
        d->n_train = n_train;
    }
    if (n_test > 0 && n_test < nte) { /* balanced: the first n_test/10 of each class, in file order */
        int per = n_test / 10, got[10] = {0}, k = 0;
        for (int i = 0; i < nte && k < per * 10; i++) {
            int c = d->test_y[i];
            if (got[c] >= per) continue;
            got[c]++;
            if (k != i) memcpy(d->test_x + (size_t)k * 784, d->test_x + (size_t)i * 784, 784 * sizeof(float));
            d->test_y[k++] = c;
        }
        d->n_test = k;
    }
    return NNINIT_OK;
nomem:
    lab_set_error("out of memory");
    lab_data_free(d);
    return NNINIT_ERR_NOMEM;
}

nninit_dataset lab_train_set(const lab_data *d, int n) {
    nninit_dataset s = {d->train_x, d->train_y, d->n_train, d->dim};
    if (n > 0 && n < d->n_train) s.n = n;
    return s;
}

nninit_dataset lab_test_set(const lab_data *d) {
    nninit_dataset s = {d->test_x, d->test_y, d->n_test, d->dim};
    return s;
}

/* ---- checks and verdicts ----------------------------------------------- */

int lab_pick(const lab_ctx *ctx, int tiny, int quick, int full) {
    return ctx->scale == LAB_TINY ? tiny : ctx->scale == LAB_QUICK ? quick : full;
}

static int holds(double m, lab_op op, double t) {
    switch (op) {
    case LAB_LT: return m < t;
    case LAB_LE: return m <= t;
    case LAB_GT: return m > t;
    case LAB_GE: return m >= t;
    case LAB_EQ: return m == t;
    }
    return 0;
}

lab_verdict lab_check_verdict(double measured, lab_op op, double threshold, double noise) {
    if (isnan(measured)) return LAB_NOT_REPRODUCED; /* nothing measured (e.g. diverged) cannot support a claim */
    if (!(noise > 0)) return holds(measured, op, threshold) ? LAB_REPRODUCED : LAB_NOT_REPRODUCED;
    const double d = fabs(measured - threshold);
    if (op == LAB_EQ) return d <= noise ? LAB_REPRODUCED : LAB_NOT_REPRODUCED;
    if (d <= noise) return LAB_INCONCLUSIVE; /* too close to call, on either side */
    return holds(measured, op, threshold) ? LAB_REPRODUCED : LAB_NOT_REPRODUCED;
}

lab_verdict lab_check(lab_result *r, const char *name, const char *prediction, double measured, lab_op op,
                      double threshold, double noise, const char *unit) {
    lab_verdict v = lab_check_verdict(measured, op, threshold, noise);
    if (r->n_checks >= LAB_MAX_CHECKS) { /* no room to list it; the verdict still counts it */
        r->n_unlisted++;
        r->unlisted_failed += v == LAB_NOT_REPRODUCED;
        r->unlisted_inconclusive += v == LAB_INCONCLUSIVE;
        return v;
    }
    lab_check_t *c = &r->checks[r->n_checks++];
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->prediction, sizeof c->prediction, "%s", prediction);
    c->measured = measured, c->op = op, c->threshold = threshold, c->noise = noise;
    snprintf(c->unit, sizeof c->unit, "%s", unit ? unit : "");
    c->verdict = v;
    c->n_seeds = 1, c->spread = 0, c->per_seed[0] = measured;
    return v;
}

uint64_t lab_seed_k(uint64_t seed, int k) { return seed + (uint64_t)k; }

double lab_acc_noise(double p, int n, double k) {
    if (n < 1 || !isfinite(p)) return 0.0;
    double q = p < 0 ? 0 : p > 1 ? 1 : p;
    double se = sqrt(fmax(q * (1 - q), 0.25 / n) / n); /* never 0: one example's worth at least */
    return k * se;
}

lab_verdict lab_finish(lab_result *r) {
    int fail = 0, inc = 0;
    for (int i = 0; i < r->n_checks; i++) {
        fail |= r->checks[i].verdict == LAB_NOT_REPRODUCED;
        inc |= r->checks[i].verdict == LAB_INCONCLUSIVE;
    }
    fail |= r->unlisted_failed > 0;
    inc |= r->unlisted_inconclusive > 0;
    if (r->status != NNINIT_OK || r->n_checks == 0) inc = 1; /* an experiment that did not run proves nothing */
    if (r->n_unlisted > 0 && !strstr(r->notes, "more checks than the report lists"))
        lab_note(r,
                 " %d more checks than the report lists (%d) were counted in the verdict: %d not reproduced, %d "
                 "inconclusive.",
                 r->n_unlisted, LAB_MAX_CHECKS, r->unlisted_failed, r->unlisted_inconclusive);
    r->verdict = fail ? LAB_NOT_REPRODUCED : inc ? LAB_INCONCLUSIVE : LAB_REPRODUCED;
    return r->verdict;
}

static void vappend(char *buf, size_t cap, const char *fmt, va_list ap) {
    size_t n = strlen(buf);
    if (n + 1 < cap) vsnprintf(buf + n, cap - n, fmt, ap);
}

void lab_setup(lab_result *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vappend(r->setup, sizeof r->setup, fmt, ap);
    va_end(ap);
}

void lab_note(lab_result *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vappend(r->notes, sizeof r->notes, fmt, ap);
    va_end(ap);
}

/* ---- nets, training, probes -------------------------------------------- */

static nninit_status set_err(nninit_status st, const char *what) {
    lab_set_error("%s: %s", what, nninit_last_error());
    return st;
}

/* NULL init: PyTorch's default weight; NULL bias: zeros (unless both are
 * NULL: PyTorch's defaults for both). */
static nninit_status layer_init(const char *init, const char *bias, nninit_layer_init *li,
                                const nninit_layer_init **dflt) {
    if (cli_default_init(init, init && !bias ? "zeros" : bias, li, dflt))
        return set_err(NNINIT_ERR_PARAM, init ? init : bias);
    return NNINIT_OK;
}

nninit_status lab_net(const lab_ctx *ctx, const char *arch_text, const char *init, const char *bias, int max_batch,
                      uint64_t seed_offset, nninit_net **out) {
    nninit_arch *arch = malloc(sizeof *arch);
    if (!arch) return lab_set_error("out of memory"), NNINIT_ERR_NOMEM;
    nninit_status st = nninit_arch_parse(arch_text, arch);
    nninit_layer_init li;
    const nninit_layer_init *dflt = NULL;
    if (st) set_err(st, arch_text);
    else if (!(st = layer_init(init, bias, &li, &dflt)) &&
             (st = nninit_net_create(arch, max_batch, dflt, ctx->seed + seed_offset, out)))
        set_err(st, arch_text);
    free(arch);
    return st;
}

nninit_train_opts lab_train_opts(const lab_ctx *ctx, double lr, double momentum, int epochs) {
    nninit_train_opts o = nninit_train_opts_default();
    o.lr = lr;
    o.momentum = momentum;
    o.epochs = epochs;
    o.batch = 128;
    o.evals_per_epoch = 4;
    o.seed = ctx->seed;
    o.threads = ctx->threads;
    return o;
}

typedef struct {
    const lab_ctx *ctx;
    const char *label;
} train_cb;

static int on_point(const nninit_train_progress *p, void *user) {
    train_cb *c = user;
    if (p->point && c->ctx->progress) {
        char line[160];
        snprintf(line, sizeof line, "%s: epoch %.2f, test acc %.2f%%", c->label, p->point->epoch,
                 100 * p->point->test_acc);
        c->ctx->progress(c->ctx->progress_user, line);
    }
    return 0;
}

nninit_status lab_train(const lab_ctx *ctx, nninit_net *net, const nninit_train_opts *opts, int n_train,
                        const char *label, lab_result *r, double *acc, nninit_train_report *rep_out) {
    nninit_dataset tr = lab_train_set(ctx->data, n_train), te = lab_test_set(ctx->data);
    nninit_train_report rep;
    train_cb cb = {ctx, label};
    nninit_status st = nninit_train_run(net, opts, &tr, &te, on_point, &cb, &rep);
    if (st && st != NNINIT_ERR_DIVERGED) {
        set_err(st, label);
        nninit_train_report_free(&rep);
        return st;
    }
    if (r && r->n_curves < LAB_MAX_CURVES) { /* r NULL: no curve kept */
        lab_curve *c = &r->curves[r->n_curves];
        c->points = malloc((size_t)(rep.n_points ? rep.n_points : 1) * sizeof *c->points);
        if (c->points) {
            memcpy(c->points, rep.points, (size_t)rep.n_points * sizeof *c->points);
            c->n = rep.n_points;
            snprintf(c->label, sizeof c->label, "%s", label);
            c->diverged = rep.diverged, c->diverged_step = rep.diverged_step;
            r->n_curves++;
        }
    }
    if (acc) *acc = rep.diverged ? NAN : rep.final_test_acc;
    if (rep_out) *rep_out = rep;
    else nninit_train_report_free(&rep);
    return NNINIT_OK;
}

nninit_status lab_probe_once(const lab_ctx *ctx, const char *arch_text, const char *init, const char *bias,
                             const nninit_probe_opts *opts, nninit_probe_report *rep) {
    nninit_arch *arch = malloc(sizeof *arch);
    if (!arch) return lab_set_error("out of memory"), NNINIT_ERR_NOMEM;
    nninit_probe_opts o = opts ? *opts : nninit_probe_opts_default();
    if (!opts) { /* a batch of the training images already in memory */
        o.input = NNINIT_INPUT_CALLER;
        o.batch = ctx->data->n_train < 256 ? ctx->data->n_train : 256;
        o.x = ctx->data->train_x, o.y = ctx->data->train_y;
        o.seed = ctx->seed;
    }
    nninit_layer_init li;
    const nninit_layer_init *dflt = NULL;
    nninit_status st = nninit_arch_parse(arch_text, arch);
    if (st) set_err(st, arch_text);
    else if (!(st = layer_init(init, bias, &li, &dflt)) && (st = nninit_probe_run(arch, dflt, &o, rep)))
        set_err(st, arch_text);
    free(arch);
    return st;
}

const nninit_probe_report *lab_probe(const lab_ctx *ctx, const char *arch_text, const char *init, const char *bias,
                                     const nninit_probe_opts *opts, const char *label, lab_result *r) {
    if (r->n_probes >= LAB_MAX_PROBES) {
        lab_set_error("%s: more than %d probes", label, LAB_MAX_PROBES);
        return NULL;
    }
    int k = r->n_probes;
    if (lab_probe_once(ctx, arch_text, init, bias, opts, &r->probes[k])) return NULL;
    snprintf(r->probe_label[k], sizeof r->probe_label[k], "%s", label);
    r->probe_bins[k] = (opts ? *opts : nninit_probe_opts_default()).hist_bins;
    r->n_probes++;
    return &r->probes[k];
}

/* Two columns are the same unit when every value agrees within tol relative. */
static int same_unit(const float *y, int batch, int w, int a, int b, double tol) {
    for (int n = 0; n < batch; n++) {
        double u = y[(size_t)n * w + a], v = y[(size_t)n * w + b];
        if (fabs(u - v) > tol * fmax(fabs(u), fabs(v))) return 0;
    }
    return 1;
}

int lab_distinct_units(nninit_net *net, int l, const float *x, int batch, double tol) {
    nninit_layer_view v;
    if (nninit_net_forward(net, x, batch) || nninit_net_layer(net, l, &v)) return -1;
    int w = v.out_size, *reps = malloc((size_t)w * sizeof *reps), nrep = 0;
    if (!reps) return -1;
    for (int j = 0; j < w; j++) {
        int k = 0;
        while (k < nrep && !same_unit(v.post, batch, w, j, reps[k], tol)) k++;
        if (k == nrep) reps[nrep++] = j;
    }
    free(reps);
    return nrep;
}

lab_plot *lab_plot_add(lab_result *r, const char *title, const char *xlabel, const char *ylabel, int logy) {
    if (r->n_plots >= LAB_MAX_PLOTS) return NULL;
    lab_plot *p = &r->plots[r->n_plots++];
    memset(p, 0, sizeof *p);
    snprintf(p->title, sizeof p->title, "%s", title);
    snprintf(p->xlabel, sizeof p->xlabel, "%s", xlabel);
    snprintf(p->ylabel, sizeof p->ylabel, "%s", ylabel);
    p->logy = logy;
    return p;
}

void lab_series_add(lab_plot *p, const char *label, const double *x, const double *y, int n, int dashed) {
    if (!p || p->n_series >= LAB_MAX_SERIES || n < 1) return;
    lab_series *s = &p->series[p->n_series];
    s->x = malloc((size_t)n * sizeof *s->x);
    s->y = malloc((size_t)n * sizeof *s->y);
    if (!s->x || !s->y) {
        free(s->x), free(s->y);
        s->x = s->y = NULL;
        return;
    }
    memcpy(s->x, x, (size_t)n * sizeof *x);
    memcpy(s->y, y, (size_t)n * sizeof *y);
    s->n = n, s->dashed = dashed;
    snprintf(s->label, sizeof s->label, "%s", label);
    p->n_series++;
}

/* ---- running ------------------------------------------------------------ */

static void run_once(const lab_experiment *e, const lab_ctx *ctx, lab_result *r) {
    memset(r, 0, sizeof *r);
    r->exp = e;
    lab_set_error("%s", "");
    double t0 = now();
    r->status = e->run(ctx, r);
    r->seconds = now() - t0;
    r->n_seeds = 1, r->seeds[0] = ctx->seed;
    if (r->status) {
        const char *m = *lab_error() ? lab_error() : nninit_last_error();
        size_t n = strlen(m) < sizeof r->error - 1 ? strlen(m) : sizeof r->error - 1;
        memcpy(r->error, m, n);
        r->error[n] = 0;
    }
}

/* Fold run `more` (seed k) into r: the checks' values, time, unlisted counts.
 * 0 when its checks are not r's (then r gets an error). */
static int fold_run(lab_result *r, const lab_result *more) {
    r->seconds += more->seconds;
    r->seeds[r->n_seeds++] = more->seeds[0];
    if (more->n_checks != r->n_checks) return 0;
    for (int i = 0; i < r->n_checks; i++) {
        lab_check_t *c = &r->checks[i];
        const lab_check_t *m = &more->checks[i];
        if (strcmp(c->name, m->name) || c->op != m->op || c->threshold != m->threshold) return 0;
        c->per_seed[c->n_seeds++] = m->measured;
        c->noise += m->noise; /* a sum for now: the mean in seeds_finish */
    }
    r->n_unlisted = more->n_unlisted > r->n_unlisted ? more->n_unlisted : r->n_unlisted;
    r->unlisted_failed += more->unlisted_failed;
    r->unlisted_inconclusive += more->unlisted_inconclusive;
    return 1;
}

/* Mean, spread and verdict of each check over its seeds (lab.h's rule). */
static void seeds_finish(lab_result *r) {
    for (int i = 0; i < r->n_checks; i++) {
        lab_check_t *c = &r->checks[i];
        const int k = c->n_seeds;
        double mean = 0, ss = 0;
        for (int j = 0; j < k; j++) mean += c->per_seed[j];
        mean /= k;
        for (int j = 0; j < k; j++) ss += (c->per_seed[j] - mean) * (c->per_seed[j] - mean);
        c->spread = k > 1 ? sqrt(ss / (k - 1)) : 0; /* NaN if any seed is: then NaN is measured */
        const double own = c->noise / k, sem2 = k > 1 ? 2 * c->spread / sqrt((double)k) : 0;
        c->measured = mean;
        c->noise = isnan(sem2) ? own : sqrt(own * own + sem2 * sem2);
        c->verdict = lab_check_verdict(mean, c->op, c->threshold, c->noise);
    }
}

void lab_run(const lab_experiment *e, const lab_ctx *ctx, lab_result *r) {
    const int k = ctx->n_seeds <= 1 ? 1 : ctx->n_seeds < LAB_MAX_SEEDS ? ctx->n_seeds : LAB_MAX_SEEDS;
    run_once(e, ctx, r);
    for (int j = 1; j < k && r->status == NNINIT_OK; j++) {
        lab_ctx cj = *ctx;
        cj.seed = lab_seed_k(ctx->seed, j);
        lab_result *more = malloc(sizeof *more);
        if (!more) {
            r->status = NNINIT_ERR_NOMEM;
            snprintf(r->error, sizeof r->error, "out of memory for seed %d's result", j);
            break;
        }
        if (ctx->progress) {
            char line[96];
            snprintf(line, sizeof line, "%s: seed %llu (%d of %d)", e->name, (unsigned long long)cj.seed, j + 1, k);
            ctx->progress(ctx->progress_user, line);
        }
        run_once(e, &cj, more);
        if (more->status != NNINIT_OK) {
            r->status = more->status;
            snprintf(r->error, sizeof r->error, "seed %llu: %.200s", (unsigned long long)cj.seed, more->error);
        } else if (!fold_run(r, more)) {
            r->status = NNINIT_ERR_PARAM;
            snprintf(r->error, sizeof r->error,
                     "seed %llu made other checks than seed %llu (the experiment's checks must not depend on the "
                     "seed)",
                     (unsigned long long)cj.seed, (unsigned long long)ctx->seed);
        }
        lab_result_free(more);
        free(more);
    }
    if (k > 1 && r->status == NNINIT_OK) {
        seeds_finish(r);
        lab_note(r,
                 " Checks: the mean over %d seeds (%llu to %llu), judged with the spread over seeds; curves, "
                 "probes and plots are seed %llu's.",
                 r->n_seeds, (unsigned long long)r->seeds[0], (unsigned long long)r->seeds[r->n_seeds - 1],
                 (unsigned long long)r->seeds[0]);
    }
    lab_finish(r);
}

void lab_result_free(lab_result *r) {
    if (!r) return;
    for (int i = 0; i < r->n_curves; i++) free(r->curves[i].points);
    for (int i = 0; i < r->n_probes; i++) nninit_probe_report_free(&r->probes[i]);
    for (int p = 0; p < r->n_plots; p++)
        for (int s = 0; s < r->plots[p].n_series; s++) free(r->plots[p].series[s].x), free(r->plots[p].series[s].y);
    memset(r, 0, sizeof *r);
}

/* ---- what decides rounding ------------------------------------------------- */

/* OpenBLAS's own entry points (its cblas.h declares them too). */
char *openblas_get_config(void);
char *openblas_get_corename(void);
int openblas_get_num_threads(void);

static lab_machine machine;

static void machine_fill(void) {
    snprintf(machine.cpu, sizeof machine.cpu, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) != 0) continue;
            const char *v = strchr(line, ':');
            if (!v) break;
            for (v++; *v == ' ' || *v == '\t'; v++) {}
            size_t n = strcspn(v, "\n");
            snprintf(machine.cpu, sizeof machine.cpu, "%.*s",
                     (int)(n < sizeof machine.cpu ? n : sizeof machine.cpu - 1), v);
            break;
        }
        fclose(f);
    }
    const char *cfg = openblas_get_config(), *core = openblas_get_corename();
    snprintf(machine.blas, sizeof machine.blas, "%s", cfg ? cfg : "unknown");
    size_t n = strlen(machine.blas);
    while (n && machine.blas[n - 1] == ' ') machine.blas[--n] = 0;
    snprintf(machine.blas_core, sizeof machine.blas_core, "%s", core ? core : "unknown");
    machine.blas_threads = openblas_get_num_threads();
}

const lab_machine *lab_machine_info(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, machine_fill);
    machine.blas_threads = openblas_get_num_threads(); /* --threads may have changed it */
    return &machine;
}

/* train.c -- minibatch training: shuffle, forward, loss, backward, update,
 * evaluate; SGD (momentum, Nesterov, weight decay) and Adam as PyTorch
 * defines them (torch/optim/sgd.py, adam.py).
 *
 * Memory. nninit_train_run allocates, before the first step: the batch
 * (inputs and labels), the permutation, the optimizer state (one float per
 * parameter for SGD with momentum, two for Adam) and the curve. The loop
 * itself only reads and writes those and the net's own buffers.
 *
 * Order of the data. Epoch e visits the examples in a permutation drawn by
 * Fisher-Yates from Philox4x32-10 with the key of (opts->seed,
 * "train.shuffle"), counter (i, e, 0, "shuf"): the order depends on the seed
 * and the epoch only, never on the thread count.
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "nn/nn_internal.h"
#include "nninit_train.h"
#include "rng/philox.h"

#define DOMAIN_SHUFFLE 0x73687566u /* "shuf" */

/* From OpenBLAS (cblas.h of the pthread/openmp flavours). Declared here so
 * that the header of any flavour works. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

nninit_train_opts nninit_train_opts_default(void) {
    nninit_train_opts o;
    memset(&o, 0, sizeof o);
    o.optim = NNINIT_OPTIM_SGD;
    o.lr = 0.01;
    o.beta1 = 0.9, o.beta2 = 0.999, o.eps = 1e-8;
    o.schedule = NNINIT_SCHED_CONSTANT;
    o.batch = 128;
    o.epochs = 1;
    o.evals_per_epoch = 1;
    o.eval_train_at_init = 1;
    return o;
}

static const char *const optim_names[] = {"sgd", "adam"};
static const char *const sched_names[] = {"constant", "cosine"};

const char *nninit_optim_name(nninit_optim o) { return (unsigned)o < 2 ? optim_names[o] : "unknown"; }
const char *nninit_schedule_name(nninit_schedule s) { return (unsigned)s < 2 ? sched_names[s] : "unknown"; }

nninit_status nninit_optim_parse(const char *name, nninit_optim *out) {
    if (!name || !out) return nninit__err(NNINIT_ERR_NULL, "optim_parse: NULL argument");
    for (int i = 0; i < 2; i++)
        if (!strcmp(name, optim_names[i])) return *out = (nninit_optim)i, NNINIT_OK;
    return nninit__err(NNINIT_ERR_UNKNOWN_NAME, "unknown optimizer '%s' (sgd, adam)", name);
}

nninit_status nninit_schedule_parse(const char *name, nninit_schedule *out) {
    if (!name || !out) return nninit__err(NNINIT_ERR_NULL, "schedule_parse: NULL argument");
    for (int i = 0; i < 2; i++)
        if (!strcmp(name, sched_names[i])) return *out = (nninit_schedule)i, NNINIT_OK;
    return nninit__err(NNINIT_ERR_UNKNOWN_NAME, "unknown learning-rate schedule '%s' (constant, cosine)", name);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static nninit_status check_set(const char *what, const nninit_dataset *d, int in, int classes) {
    if (!d->x || !d->y) return nninit__err(NNINIT_ERR_NULL, "train: %s set has NULL data", what);
    if (d->n < 1) return nninit__err(NNINIT_ERR_SHAPE, "train: %s set has %d examples", what, d->n);
    if (d->dim != in)
        return nninit__err(NNINIT_ERR_SHAPE, "train: %s examples have %d features, the net takes %d", what, d->dim, in);
    for (int i = 0; i < d->n; i++)
        if (d->y[i] < 0 || d->y[i] >= classes)
            return nninit__err(NNINIT_ERR_PARAM, "train: %s label %d = %d not in 0..%d", what, i, d->y[i], classes - 1);
    return NNINIT_OK;
}

static nninit_status check_opts(const nninit_train_opts *o, const nninit_net *net, int n) {
    if (o->optim != NNINIT_OPTIM_SGD && o->optim != NNINIT_OPTIM_ADAM)
        return nninit__err(NNINIT_ERR_PARAM, "train: unknown optimizer %d", (int)o->optim);
    if (o->schedule != NNINIT_SCHED_CONSTANT && o->schedule != NNINIT_SCHED_COSINE)
        return nninit__err(NNINIT_ERR_PARAM, "train: unknown schedule %d", (int)o->schedule);
    if (!isfinite(o->lr) || o->lr < 0) return nninit__err(NNINIT_ERR_PARAM, "train: learning rate %g", o->lr);
    if (!isfinite(o->lr_min) || o->lr_min < 0) return nninit__err(NNINIT_ERR_PARAM, "train: lr_min %g", o->lr_min);
    if (!(o->momentum >= 0 && o->momentum < 1))
        return nninit__err(NNINIT_ERR_PARAM, "train: momentum %g not in [0, 1)", o->momentum);
    if (o->nesterov && o->momentum <= 0) return nninit__err(NNINIT_ERR_PARAM, "train: Nesterov needs momentum > 0");
    if (!(o->weight_decay >= 0) || !isfinite(o->weight_decay))
        return nninit__err(NNINIT_ERR_PARAM, "train: weight decay %g", o->weight_decay);
    if (!(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1))
        return nninit__err(NNINIT_ERR_PARAM, "train: Adam betas (%g, %g) not in [0, 1)", o->beta1, o->beta2);
    if (!(o->eps > 0) || !isfinite(o->eps)) return nninit__err(NNINIT_ERR_PARAM, "train: Adam eps %g", o->eps);
    if (o->batch < 1 || o->batch > nninit_net_max_batch(net))
        return nninit__err(NNINIT_ERR_PARAM, "train: batch %d not in 1..%d (the net's max_batch)", o->batch,
                           nninit_net_max_batch(net));
    if (o->batch > n)
        return nninit__err(NNINIT_ERR_PARAM, "train: batch %d is larger than the training set (%d)", o->batch, n);
    if (o->epochs < 1) return nninit__err(NNINIT_ERR_PARAM, "train: epochs %d < 1", o->epochs);
    if (o->max_steps < 0) return nninit__err(NNINIT_ERR_PARAM, "train: max_steps %ld < 0", o->max_steps);
    if (o->evals_per_epoch < 0 || o->evals_per_epoch > 1000)
        return nninit__err(NNINIT_ERR_PARAM, "train: evals_per_epoch %d not in 0..1000", o->evals_per_epoch);
    if (o->threads < 0) return nninit__err(NNINIT_ERR_PARAM, "train: threads %d < 0", o->threads);
    return NNINIT_OK;
}

/* Fisher-Yates with one Philox block per swap (32 bits each; the modulo
 * bias, < n / 2^32, is irrelevant for an order). */
static void shuffle(int *perm, int n, nninit_key key, uint32_t epoch) {
    uint32_t k[2], ctr[4], out[4];
    nninit_key_philox(key, k);
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        ctr[0] = (uint32_t)i, ctr[1] = epoch, ctr[2] = 0, ctr[3] = DOMAIN_SHUFFLE;
        nninit__philox4x32_10(ctr, k, out);
        int j = (int)(out[0] % (uint32_t)(i + 1));
        int t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
}

nninit_status nninit_net_evaluate(nninit_net *net, const nninit_dataset *ds, double *loss, double *acc) {
    if (!net || !ds || !ds->x || !ds->y) return nninit__err(NNINIT_ERR_NULL, "net_evaluate: NULL argument");
    if (ds->n < 1 || ds->dim != nninit_net_input_size(net))
        return nninit__err(NNINIT_ERR_SHAPE, "net_evaluate: %d examples of %d features, the net takes %d", ds->n,
                           ds->dim, nninit_net_input_size(net));
    const int mb = nninit_net_max_batch(net), k = nninit_net_output_size(net);
    double total = 0.0;
    long correct = 0;
    nninit_status st;
    for (int s = 0; s < ds->n; s += mb) {
        int b = ds->n - s < mb ? ds->n - s : mb;
        double l;
        if ((st = nninit_net_forward(net, ds->x + (size_t)s * ds->dim, b))) return st;
        if ((st = nninit_net_loss(net, ds->y + s, &l))) return st;
        total += l * b;
        const float *out = nninit_net_output(net);
        for (int n = 0; n < b; n++) {
            const float *z = out + (size_t)n * k;
            int best = 0; /* first maximum, as torch.argmax; NaN never wins */
            for (int j = 1; j < k; j++)
                if (z[j] > z[best]) best = j;
            correct += best == ds->y[s + n];
        }
    }
    if (loss) *loss = total / ds->n;
    if (acc) *acc = (double)correct / ds->n;
    return NNINIT_OK;
}

/* The optimizer: state per parameter, one update for all. */
typedef struct {
    int np;
    nninit__param *p;
    float *s1, *s2; /* momentum buffer / Adam m; Adam v */
    long t;         /* Adam step count */
} optim;

static void sgd_update(const nninit_train_opts *o, const nninit__param *p, float *v, float lr) {
    const float wd = (float)o->weight_decay, mu = (float)o->momentum;
    float *w = p->w;
    const float *g = p->g;
    const size_t n = p->n;
    if (mu == 0.0f) {
        for (size_t i = 0; i < n; i++) w[i] -= lr * (g[i] + wd * w[i]);
    } else if (!o->nesterov) {
        for (size_t i = 0; i < n; i++) {
            v[i] = mu * v[i] + (g[i] + wd * w[i]);
            w[i] -= lr * v[i];
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] + wd * w[i];
            v[i] = mu * v[i] + gi;
            w[i] -= lr * (gi + mu * v[i]);
        }
    }
}

/* PyTorch's Adam (not AdamW): denom = sqrt(v) / sqrt(1 - b2^t) + eps,
 * w -= lr / (1 - b1^t) * m / denom. */
static void adam_update(const nninit_train_opts *o, const nninit__param *p, float *m, float *v, float lr, long t) {
    const float wd = (float)o->weight_decay, b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps;
    const float bc1 = (float)(1.0 - pow(o->beta1, (double)t)), bc2s = (float)sqrt(1.0 - pow(o->beta2, (double)t));
    const float step = lr / bc1;
    float *w = p->w;
    const float *g = p->g;
    for (size_t i = 0; i < p->n; i++) {
        float gi = g[i] + wd * w[i];
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        w[i] -= step * m[i] / (sqrtf(v[i]) / bc2s + eps);
    }
}

static void optim_step(optim *op, const nninit_train_opts *o, float lr) {
    size_t off = 0;
    op->t++;
    for (int i = 0; i < op->np; i++) {
        const nninit__param *p = &op->p[i];
        if (o->optim == NNINIT_OPTIM_ADAM) adam_update(o, p, op->s1 + off, op->s2 + off, lr, op->t);
        else sgd_update(o, p, op->s1 ? op->s1 + off : NULL, lr);
        off += p->n;
    }
}

static double lr_at(const nninit_train_opts *o, long t, long total) {
    if (o->schedule == NNINIT_SCHED_CONSTANT || total <= 1) return o->lr;
    const double pi = 3.14159265358979323846;
    return o->lr_min + (o->lr - o->lr_min) * 0.5 * (1.0 + cos(pi * (double)t / (double)total));
}

void nninit_train_report_free(nninit_train_report *rep) {
    if (!rep) return;
    free(rep->points);
    memset(rep, 0, sizeof *rep);
}

/* The first n examples of d (for the loss at init on a large set). */
static nninit_dataset head(const nninit_dataset *d, int n) {
    nninit_dataset h = *d;
    if (h.n > n) h.n = n;
    return h;
}

static nninit_status train_run(nninit_net *net, const nninit_train_opts *opts, const nninit_dataset *train,
                               const nninit_dataset *test, nninit_train_callback cb, void *user,
                               nninit_train_report *rep);

/* opts->threads sets OpenBLAS's process-wide thread count for this call
 * only: the caller's setting is restored on every return. */
nninit_status nninit_train_run(nninit_net *net, const nninit_train_opts *opts, const nninit_dataset *train,
                               const nninit_dataset *test, nninit_train_callback cb, void *user,
                               nninit_train_report *rep) {
    int before = openblas_get_num_threads();
    nninit_status st = train_run(net, opts, train, test, cb, user, rep);
    if (openblas_get_num_threads() != before) openblas_set_num_threads(before);
    return st;
}

static nninit_status train_run(nninit_net *net, const nninit_train_opts *opts, const nninit_dataset *train,
                               const nninit_dataset *test, nninit_train_callback cb, void *user,
                               nninit_train_report *rep) {
    if (!rep) return nninit__err(NNINIT_ERR_NULL, "train: NULL report");
    memset(rep, 0, sizeof *rep);
    rep->final_test_loss = rep->final_test_acc = NAN;
    if (!net || !opts || !train) return nninit__err(NNINIT_ERR_NULL, "train: NULL argument");
    const int in = nninit_net_input_size(net), classes = nninit_net_output_size(net);
    nninit_status st;
    if ((st = check_set("training", train, in, classes))) return st;
    if (test && (st = check_set("test", test, in, classes))) return st;
    if ((st = check_opts(opts, net, train->n))) return st;
    const nninit_train_opts *o = opts;

    const long per_epoch = train->n / o->batch;
    long total = per_epoch * o->epochs;
    if (o->max_steps > 0 && o->max_steps < total) total = o->max_steps;

    optim op = {0};
    op.np = nninit__net_params(net, NULL, 0);
    size_t nparam = 0;
    float *xb = malloc((size_t)o->batch * in * sizeof *xb);
    int *yb = malloc((size_t)o->batch * sizeof *yb), *perm = malloc((size_t)train->n * sizeof *perm);
    op.p = malloc((size_t)(op.np ? op.np : 1) * sizeof *op.p);
    int max_points = 2 + o->epochs * (o->evals_per_epoch > 0 ? o->evals_per_epoch : 1);
    rep->points = calloc((size_t)max_points, sizeof *rep->points);
    if (op.p) {
        nninit__net_params(net, op.p, op.np);
        for (int i = 0; i < op.np; i++) nparam += op.p[i].n;
    }
    int nstate = o->optim == NNINIT_OPTIM_ADAM ? 2 : o->momentum > 0 ? 1 : 0;
    if (nstate >= 1) op.s1 = calloc(nparam ? nparam : 1, sizeof *op.s1);
    if (nstate >= 2) op.s2 = calloc(nparam ? nparam : 1, sizeof *op.s2);
    if (!xb || !yb || !perm || !op.p || !rep->points || (nstate >= 1 && !op.s1) || (nstate >= 2 && !op.s2)) {
        st = nninit__err(NNINIT_ERR_NOMEM, "train: out of memory for %zu parameters of optimizer state", nparam);
        goto done;
    }
    if (o->threads > 0) openblas_set_num_threads(o->threads);

    /* Point 0: the net at init. */
    nninit_train_point *pt = &rep->points[0];
    pt->train_loss = pt->test_loss = pt->test_acc = NAN;
    if (o->eval_train_at_init) {
        nninit_dataset h = head(train, 10000);
        if ((st = nninit_net_evaluate(net, &h, &pt->train_loss, NULL))) goto done;
    }
    if (test && (st = nninit_net_evaluate(net, test, &pt->test_loss, &pt->test_acc))) goto done;
    rep->n_points = 1;

    const nninit_key key = nninit_key_from_name(o->seed, "train.shuffle");
    double train_s = 0.0, loss_sum = 0.0;
    long loss_n = 0, step = 0;
    int stop = 0;
    for (int e = 0; e < o->epochs && step < total && !stop; e++) {
        double t0 = now();
        shuffle(perm, train->n, key, (uint32_t)e);
        int next_eval = 1;
        for (long s = 0; s < per_epoch && step < total && !stop; s++) {
            for (int b = 0; b < o->batch; b++) {
                int i = perm[s * o->batch + b];
                memcpy(xb + (size_t)b * in, train->x + (size_t)i * in, (size_t)in * sizeof *xb);
                yb[b] = train->y[i];
            }
            double loss;
            float lr = (float)lr_at(o, step, total);
            if ((st = nninit_net_forward(net, xb, o->batch))) goto done;
            if ((st = nninit_net_loss(net, yb, &loss))) goto done;
            step++;
            if (!isfinite(loss)) {
                rep->diverged = 1, rep->diverged_step = step, rep->steps = step;
                train_s += now() - t0;
                rep->seconds = train_s;
                st = nninit__err(NNINIT_ERR_DIVERGED, "diverged at step %ld (epoch %d): loss is %s", step, e + 1,
                                 isnan(loss) ? "NaN" : "infinite");
                goto done;
            }
            if ((st = nninit_net_backward(net))) goto done;
            optim_step(&op, o, lr);
            loss_sum += loss, loss_n++;

            /* evaluate at k/evals of the epoch, at its end, and at the last step */
            int evals = o->evals_per_epoch;
            int at_eval = (evals > 0 && s + 1 == (per_epoch * next_eval) / evals) || step == total;
            double elapsed = train_s + (now() - t0);
            nninit_train_progress pr = {
                e, o->epochs, step, total, loss, lr, elapsed > 0 ? (double)step * o->batch / elapsed : 0.0, NULL};
            if (at_eval) {
                while (evals > 0 && s + 1 >= (per_epoch * next_eval) / evals) next_eval++;
                train_s = elapsed;
                nninit_train_point *q = &rep->points[rep->n_points];
                q->step = step;
                q->epoch = (double)step / (double)per_epoch;
                q->train_loss = loss_n ? loss_sum / loss_n : NAN;
                q->test_loss = q->test_acc = NAN;
                q->seconds = train_s;
                loss_sum = 0.0, loss_n = 0;
                if (test && (st = nninit_net_evaluate(net, test, &q->test_loss, &q->test_acc))) goto done;
                if (rep->n_points < max_points - 1) rep->n_points++;
                pr.point = q;
                t0 = now();
                elapsed = train_s;
            }
            rep->steps = step;
            if (cb && cb(&pr, user)) stop = 1;
            if (!at_eval && (stop || s + 1 == per_epoch)) train_s = elapsed;
        }
    }
    rep->seconds = train_s;
    st = NNINIT_OK;
done:
    if (rep->n_points > 0) {
        const nninit_train_point *last = &rep->points[rep->n_points - 1];
        rep->final_test_loss = last->test_loss, rep->final_test_acc = last->test_acc;
    }
    free(xb), free(yb), free(perm), free(op.p), free(op.s1), free(op.s2);
    return st;
}

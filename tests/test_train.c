/* test_train.c -- the training loop: optimizers against a double-precision
 * reference of PyTorch's update rules, the cosine schedule, the seeded order,
 * bitwise reproducibility, divergence, evaluation, and no allocation inside
 * the loop (malloc/calloc/realloc are wrapped at link time, see
 * tests/CMakeLists.txt). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nninit_train.h"

/* ---- allocation counter (-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc) */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
static long n_allocs;
void *__wrap_malloc(size_t n) {
    n_allocs++;
    return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t m) {
    n_allocs++;
    return __real_calloc(n, m);
}
void *__wrap_realloc(void *p, size_t n) {
    n_allocs++;
    return __real_realloc(p, n);
}

/* A small separable problem: 3 classes of 8-dim points around 3 centres. */
enum {
    N = 240,
    D = 8,
    K = 3
};
static float X[N * D];
static int Y[N];

static void make_data(void) {
    uint64_t s = 12345;
    for (int i = 0; i < N; i++) {
        Y[i] = i % K;
        for (int j = 0; j < D; j++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(s >> 11) / 9007199254740992.0 - 0.5;
            X[i * D + j] = (float)((j % K == Y[i] ? 1.5 : 0.0) + u);
        }
    }
}

static nninit_net *make_net(const char *text, int max_batch) {
    nninit_arch *a = malloc(sizeof *a);
    assert_non_null(a);
    assert_int_equal(nninit_arch_parse(text, a), NNINIT_OK);
    nninit_net *net;
    assert_int_equal(nninit_net_create(a, max_batch, NULL, 7, &net), NNINIT_OK);
    free(a);
    return net;
}

static const char *ARCH = "8 -> dense 6 tanh -> dense 3";

/* Copy every parameter of the net (two dense layers) into one vector. */
static int params(nninit_net *net, float *out) {
    int k = 0;
    for (int l = 0; l < nninit_net_layers(net); l++) {
        nninit_layer_view v;
        nninit_net_layer(net, l, &v);
        for (int64_t i = 0; i < v.w_rows * v.w_cols; i++) out[k++] = v.w[i];
        for (int64_t i = 0; i < v.w_rows; i++) out[k++] = v.b[i];
    }
    return k;
}

static int grads(nninit_net *net, float *out) {
    int k = 0;
    for (int l = 0; l < nninit_net_layers(net); l++) {
        nninit_layer_view v;
        nninit_net_layer(net, l, &v);
        for (int64_t i = 0; i < v.w_rows * v.w_cols; i++) out[k++] = v.dw[i];
        for (int64_t i = 0; i < v.w_rows; i++) out[k++] = v.db[i];
    }
    return k;
}

/* Reference: one optimizer step in double on w with gradient g, as
 * torch.optim.SGD / torch.optim.Adam (weight_decay as L2 on the gradient). */
typedef struct {
    double w[128], v[128], m[128];
    long t;
} ref_state;

static void ref_step(const nninit_train_opts *o, ref_state *s, const float *g, int n, double lr) {
    s->t++;
    for (int i = 0; i < n; i++) {
        double gi = g[i] + o->weight_decay * s->w[i];
        if (o->optim == NNINIT_OPTIM_SGD) {
            if (o->momentum > 0) {
                s->v[i] = s->t == 1 ? gi : o->momentum * s->v[i] + gi; /* torch: buf = g on the first step */
                gi = o->nesterov ? gi + o->momentum * s->v[i] : s->v[i];
            }
            s->w[i] -= lr * gi;
        } else {
            s->m[i] = o->beta1 * s->m[i] + (1 - o->beta1) * gi;
            s->v[i] = o->beta2 * s->v[i] + (1 - o->beta2) * gi * gi;
            double mh = s->m[i] / (1 - pow(o->beta1, (double)s->t)), vh = s->v[i] / (1 - pow(o->beta2, (double)s->t));
            s->w[i] -= lr * mh / (sqrt(vh) + o->eps);
        }
    }
}

/* Train the tiny net one step at a time (max_steps = 1, 2, ...) is not how
 * the loop works; instead run k steps with batch = N (full batch, so the
 * order does not matter), and replay them in the reference from the same
 * start, taking each step's gradient from a twin net that follows the
 * reference weights. */
static void check_optimizer(nninit_train_opts o, int steps, double tol) {
    nninit_net *net = make_net(ARCH, N), *twin = make_net(ARCH, N);
    nninit_dataset ds = {X, Y, N, D};
    o.batch = N, o.epochs = steps, o.evals_per_epoch = 0, o.eval_train_at_init = 0;
    float w0[128], g[128], w1[128];
    int n = params(net, w0);
    assert_true(n <= 128);
    ref_state s;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < n; i++) s.w[i] = w0[i];
    nninit_train_report rep;
    assert_int_equal(nninit_train_run(net, &o, &ds, NULL, NULL, NULL, &rep), NNINIT_OK);
    assert_int_equal(rep.steps, steps);
    nninit_train_report_free(&rep);
    const double pi = 3.14159265358979323846;
    for (int t = 0; t < steps; t++) {
        /* the twin holds the reference weights (rounded to float) */
        int k = 0;
        for (int l = 0; l < nninit_net_layers(twin); l++) {
            nninit_layer_view v;
            nninit_net_layer(twin, l, &v);
            for (int64_t i = 0; i < v.w_rows * v.w_cols; i++) v.w[i] = (float)s.w[k++];
            for (int64_t i = 0; i < v.w_rows; i++) v.b[i] = (float)s.w[k++];
        }
        double loss;
        assert_int_equal(nninit_net_forward(twin, X, N), NNINIT_OK);
        assert_int_equal(nninit_net_loss(twin, Y, &loss), NNINIT_OK);
        assert_int_equal(nninit_net_backward(twin), NNINIT_OK);
        grads(twin, g);
        double lr =
            o.schedule == NNINIT_SCHED_COSINE ? o.lr_min + (o.lr - o.lr_min) * 0.5 * (1 + cos(pi * t / steps)) : o.lr;
        ref_step(&o, &s, g, n, lr);
    }
    params(net, w1);
    /* Relative to the size of the weight or of the steps taken, whichever is
     * larger: Adam's step is scale-free, so a gradient that nearly cancels
     * (a bias) moves by ~lr whatever its float rounding. */
    double worst = 0, scale = o.lr * steps;
    for (int i = 0; i < n; i++) worst = fmax(worst, fabs(w1[i] - s.w[i]) / fmax(scale, fabs(s.w[i])));
    if (!(worst < tol)) print_message("worst relative difference %g\n", worst);
    assert_true(worst < tol);
    /* and the weights did move */
    double moved = 0;
    for (int i = 0; i < n; i++) moved = fmax(moved, fabs(w1[i] - w0[i]));
    assert_true(moved > 1e-3);
    nninit_net_free(net);
    nninit_net_free(twin);
}

static void test_sgd_plain(void **state) {
    (void)state;
    nninit_train_opts o = nninit_train_opts_default();
    o.lr = 0.1;
    check_optimizer(o, 5, 1e-4);
}

static void test_sgd_momentum_wd(void **state) {
    (void)state;
    nninit_train_opts o = nninit_train_opts_default();
    o.lr = 0.05, o.momentum = 0.9, o.weight_decay = 1e-2;
    check_optimizer(o, 6, 1e-4);
}

static void test_sgd_nesterov_cosine(void **state) {
    (void)state;
    nninit_train_opts o = nninit_train_opts_default();
    o.lr = 0.05, o.momentum = 0.8, o.nesterov = 1, o.schedule = NNINIT_SCHED_COSINE, o.lr_min = 0.001;
    check_optimizer(o, 6, 1e-4);
}

static void test_adam(void **state) {
    (void)state;
    nninit_train_opts o = nninit_train_opts_default();
    o.optim = NNINIT_OPTIM_ADAM, o.lr = 0.01, o.weight_decay = 1e-3;
    check_optimizer(o, 6, 1e-4);
}

/* ---- the loop ------------------------------------------------------------- */

typedef struct {
    long calls, allocs_at_2, allocs_in_loop;
    double lr_first, lr_last;
    int points;
} watch;

static int on_step(const nninit_train_progress *p, void *user) {
    watch *w = user;
    if (p->point) { /* an evaluation just happened (it does not allocate either) */
        w->points++;
        return 0;
    }
    if (p->step == 1) w->lr_first = p->lr;
    w->lr_last = p->lr;
    if (p->step == 2) w->allocs_at_2 = n_allocs;
    if (p->step > 2) w->allocs_in_loop = n_allocs - w->allocs_at_2;
    w->calls++;
    return 0;
}

static void test_learns_and_no_alloc(void **state) {
    (void)state;
    make_data();
    nninit_net *net = make_net(ARCH, 64);
    nninit_dataset ds = {X, Y, N, D};
    nninit_train_opts o = nninit_train_opts_default();
    o.lr = 0.1, o.momentum = 0.9, o.batch = 16, o.epochs = 5, o.evals_per_epoch = 3;
    o.schedule = NNINIT_SCHED_COSINE, o.lr_min = 0.01;
    watch w = {0};
    nninit_train_report rep;
    assert_int_equal(nninit_train_run(net, &o, &ds, &ds, on_step, &w, &rep), NNINIT_OK);
    assert_int_equal(rep.steps, 5 * (N / 16));
    assert_int_equal(w.allocs_in_loop, 0);
    assert_int_equal(rep.n_points, 1 + 5 * 3);
    assert_int_equal(w.points, 5 * 3);
    assert_true(fabs(w.lr_first - 0.1) < 1e-7);
    assert_true(w.lr_last > 0.01 && w.lr_last < 0.0102); /* one step before the end of the cosine */
    assert_true(rep.points[0].test_acc < 0.6);
    assert_true(rep.final_test_acc > 0.95);
    assert_true(rep.points[rep.n_points - 1].train_loss < rep.points[0].train_loss / 4);
    assert_true(fabs(rep.points[rep.n_points - 1].epoch - 5.0) < 1e-12);
    for (int i = 1; i < rep.n_points; i++) assert_true(rep.points[i].step > rep.points[i - 1].step);
    double loss, acc;
    assert_int_equal(nninit_net_evaluate(net, &ds, &loss, &acc), NNINIT_OK);
    assert_true(fabs(acc - rep.final_test_acc) < 1e-12);
    assert_true(fabs(loss - rep.final_test_loss) < 1e-12);
    nninit_train_report_free(&rep);
    nninit_net_free(net);
}

static void run_curve(uint64_t seed, nninit_train_report *rep) {
    nninit_net *net = make_net(ARCH, 32);
    nninit_dataset ds = {X, Y, N, D};
    nninit_train_opts o = nninit_train_opts_default();
    o.lr = 0.05, o.momentum = 0.9, o.batch = 32, o.epochs = 3, o.evals_per_epoch = 2, o.seed = seed;
    assert_int_equal(nninit_train_run(net, &o, &ds, &ds, NULL, NULL, rep), NNINIT_OK);
    nninit_net_free(net);
}

static void test_reproducible(void **state) {
    (void)state;
    make_data();
    nninit_train_report a, b, c;
    run_curve(3, &a);
    run_curve(3, &b);
    run_curve(4, &c);
    assert_int_equal(a.n_points, b.n_points);
    int differs = 0;
    for (int i = 0; i < a.n_points; i++) {
        assert_memory_equal(&a.points[i].train_loss, &b.points[i].train_loss, sizeof(double));
        assert_memory_equal(&a.points[i].test_loss, &b.points[i].test_loss, sizeof(double));
        differs |= a.points[i].train_loss != c.points[i].train_loss;
    }
    assert_true(differs); /* another shuffle seed, another order */
    nninit_train_report_free(&a);
    nninit_train_report_free(&b);
    nninit_train_report_free(&c);
}

static void test_diverges(void **state) {
    (void)state;
    make_data();
    nninit_net *net = make_net("8 -> dense 32 relu -> dense 32 relu -> dense 3", 32);
    nninit_dataset ds = {X, Y, N, D};
    nninit_train_opts o = nninit_train_opts_default();
    o.lr = 1e6, o.batch = 32, o.epochs = 20;
    nninit_train_report rep;
    assert_int_equal(nninit_train_run(net, &o, &ds, &ds, NULL, NULL, &rep), NNINIT_ERR_DIVERGED);
    assert_true(rep.diverged);
    assert_true(rep.diverged_step >= 1 && rep.diverged_step < 20 * (N / 32));
    assert_int_equal(rep.steps, rep.diverged_step);
    assert_non_null(strstr(nninit_last_error(), "diverged at step"));
    assert_string_equal(nninit_status_str(NNINIT_ERR_DIVERGED), "NNINIT_ERR_DIVERGED");
    nninit_train_report_free(&rep);
    nninit_net_free(net);
}

static void test_bad_options(void **state) {
    (void)state;
    make_data();
    nninit_net *net = make_net(ARCH, 16);
    nninit_dataset ds = {X, Y, N, D}, wrong = {X, Y, N, D - 1};
    nninit_train_report rep;
    nninit_train_opts o = nninit_train_opts_default();
    o.batch = 32; /* > max_batch */
    assert_int_equal(nninit_train_run(net, &o, &ds, NULL, NULL, NULL, &rep), NNINIT_ERR_PARAM);
    nninit_train_report_free(&rep);
    o = nninit_train_opts_default();
    o.batch = 16;
    assert_int_equal(nninit_train_run(net, &o, &wrong, NULL, NULL, NULL, &rep), NNINIT_ERR_SHAPE);
    o.momentum = 1.0;
    assert_int_equal(nninit_train_run(net, &o, &ds, NULL, NULL, NULL, &rep), NNINIT_ERR_PARAM);
    o = nninit_train_opts_default();
    o.batch = 16, o.nesterov = 1;
    assert_int_equal(nninit_train_run(net, &o, &ds, NULL, NULL, NULL, &rep), NNINIT_ERR_PARAM);
    o.nesterov = 0, o.lr = NAN;
    assert_int_equal(nninit_train_run(net, &o, &ds, NULL, NULL, NULL, &rep), NNINIT_ERR_PARAM);
    int bad_y[N];
    memcpy(bad_y, Y, sizeof bad_y);
    bad_y[7] = 3;
    nninit_dataset bad = {X, bad_y, N, D};
    o = nninit_train_opts_default();
    o.batch = 16;
    assert_int_equal(nninit_train_run(net, &o, &bad, NULL, NULL, NULL, &rep), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_train_run(NULL, &o, &ds, NULL, NULL, NULL, &rep), NNINIT_ERR_NULL);
    assert_int_equal(nninit_train_run(net, &o, &ds, NULL, NULL, NULL, NULL), NNINIT_ERR_NULL);
    nninit_optim op;
    nninit_schedule sc;
    assert_int_equal(nninit_optim_parse("adam", &op), NNINIT_OK);
    assert_int_equal(op, NNINIT_OPTIM_ADAM);
    assert_int_equal(nninit_optim_parse("rmsprop", &op), NNINIT_ERR_UNKNOWN_NAME);
    assert_int_equal(nninit_schedule_parse("cosine", &sc), NNINIT_OK);
    assert_string_equal(nninit_schedule_name(sc), "cosine");
    nninit_train_report_free(&rep);
    nninit_net_free(net);
}

/* Stop early through the callback: the report holds what was done. */
static int stop_at_5(const nninit_train_progress *p, void *user) {
    (void)user;
    return p->step >= 5;
}

static void test_stop_and_max_steps(void **state) {
    (void)state;
    make_data();
    nninit_net *net = make_net(ARCH, 16);
    nninit_dataset ds = {X, Y, N, D};
    nninit_train_opts o = nninit_train_opts_default();
    o.batch = 16, o.epochs = 3;
    nninit_train_report rep;
    assert_int_equal(nninit_train_run(net, &o, &ds, &ds, stop_at_5, NULL, &rep), NNINIT_OK);
    assert_int_equal(rep.steps, 5);
    nninit_train_report_free(&rep);
    o.max_steps = 7;
    assert_int_equal(nninit_train_run(net, &o, &ds, &ds, NULL, NULL, &rep), NNINIT_OK);
    assert_int_equal(rep.steps, 7);
    assert_int_equal(rep.n_points, 2); /* at init, and at the last step */
    assert_int_equal(rep.points[1].step, 7);
    nninit_train_report_free(&rep);
    nninit_net_free(net);
}

int main(void) {
    make_data();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_plain),
        cmocka_unit_test(test_sgd_momentum_wd),
        cmocka_unit_test(test_sgd_nesterov_cosine),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_learns_and_no_alloc),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_diverges),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_stop_and_max_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

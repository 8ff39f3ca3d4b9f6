/*
 * nninit_train.h -- train a network of nninit_nn.h on a labelled data set.
 *
 * Minibatch training with softmax cross-entropy: SGD (momentum, Nesterov,
 * weight decay) and Adam, PyTorch's update rules; a constant or cosine
 * learning rate; a seeded shuffle per epoch. Every buffer (batch, optimizer
 * state) is allocated before the first step: the loop itself never
 * allocates. The library prints nothing: progress reaches the caller through
 * a callback. Experimental API.
 *
 * Reproducibility. The curve depends on: the architecture and its init (seed
 * of the net), the data and its order (opts.seed), every option below, and
 * the OpenBLAS build and thread count (sgemm blocks the work per thread and
 * picks a kernel per CPU family, so another thread count or CPU family may
 * round differently). Same inputs and threads on the same machine: the same
 * bits, every run.
 */
#ifndef NNINIT_TRAIN_H
#define NNINIT_TRAIN_H

/* The engine's API is unstable (it may change in any 0.x release): a user
 * opts in by defining NNINIT_UNSTABLE_API, as zstd's ZSTD_STATIC_LINKING_ONLY.
 * The initializer layer (src/) must not depend on the engine. */
#if !defined(NNINIT_UNSTABLE_API)
#error "nninit_train.h is nninit's unstable engine API: #define NNINIT_UNSTABLE_API before including it"
#endif
#if defined(NNINIT_BUILD_INITIALIZER)
#error "the initializer layer (src/) must not include the engine's nninit_train.h"
#endif

#include "nninit_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    NNINIT_OPTIM_SGD = 0,
    NNINIT_OPTIM_ADAM = 1
} nninit_optim;
typedef enum {
    NNINIT_SCHED_CONSTANT = 0,
    NNINIT_SCHED_COSINE = 1
} nninit_schedule;

typedef struct {
    nninit_optim optim;       /* SGD (default) or Adam */
    double lr;                /* learning rate (0.01) */
    double momentum;          /* SGD: v = mu v + g; w -= lr v (0) */
    int nesterov;             /* SGD: w -= lr (g + mu v) */
    double weight_decay;      /* L2: g += wd w before the update, PyTorch's */
    double beta1, beta2, eps; /* Adam (0.9, 0.999, 1e-8), bias-corrected */
    nninit_schedule schedule; /* cosine: lr_t = lr_min + (lr - lr_min)
                                 (1 + cos(pi t / T)) / 2, t = step, T = steps */
    double lr_min;            /* cosine floor (0) */
    int batch;                /* examples per step (128); a last partial batch
                                 of an epoch is dropped */
    int epochs;               /* passes over the training set (1) */
    long max_steps;           /* stop after this many steps; 0: no limit */
    int evals_per_epoch;      /* test-set evaluations per epoch (1) */
    int eval_train_at_init;   /* 1: loss on the training set at step 0 (1) */
    uint64_t seed;            /* shuffle seed (0) */
    int threads;              /* OpenBLAS threads during this call, the caller's
                                 count restored on return (OpenBLAS's count is
                                 process-wide: concurrent calls with different
                                 counts race); 0: leave as they are */
} nninit_train_opts;

NNINIT_API nninit_train_opts nninit_train_opts_default(void);

/* n examples of dim floats each, labels in 0..classes-1 (not owned). */
typedef struct {
    const float *x;
    const int *y;
    int n, dim;
} nninit_dataset;

/* One point of the curve: at init (step 0) and after every evaluation. */
typedef struct {
    long step;
    double epoch;               /* step / steps per epoch */
    double train_loss;          /* mean minibatch loss since the last point (at
                                   step 0: loss on the training set, or NaN) */
    double test_loss, test_acc; /* on the test set (NaN without one) */
    double seconds;             /* training time so far, evaluations excluded */
} nninit_train_point;

typedef struct {
    int epoch, epochs;
    long step, steps;                /* done, total */
    double loss;                     /* this step's minibatch loss */
    double lr;                       /* this step's learning rate */
    double examples_per_s;           /* since the start, evaluations excluded */
    const nninit_train_point *point; /* non-NULL right after an evaluation */
} nninit_train_progress;

/* Called after every step (and after every evaluation, with point set).
 * Return nonzero to stop training early (the report stays valid). */
typedef int (*nninit_train_callback)(const nninit_train_progress *p, void *user);

typedef struct {
    int n_points;
    nninit_train_point *points;             /* n_points; points[0] is at init */
    long steps;                             /* steps taken */
    int diverged;                           /* 1: a loss or parameter became NaN/inf */
    long diverged_step;                     /* the step (1-based) where it was seen */
    double seconds;                         /* training time, evaluations excluded */
    double final_test_loss, final_test_acc; /* the last point's */
} nninit_train_report;

/*! nninit_train_run() : train net on train, evaluating on test (may be NULL).
 *  The net's max_batch must be >= opts->batch. On NaN/inf in the loss it
 *  stops and returns NNINIT_ERR_DIVERGED ("diverged at step k ...") with the
 *  report filled up to there. rep must be released with
 *  nninit_train_report_free (also after an error). */
NNINIT_API nninit_status nninit_train_run(nninit_net *net, const nninit_train_opts *opts, const nninit_dataset *train,
                                          const nninit_dataset *test, nninit_train_callback cb, void *user,
                                          nninit_train_report *rep);
NNINIT_API void nninit_train_report_free(nninit_train_report *rep);

/*! nninit_net_evaluate() : mean cross-entropy and accuracy of net on ds, in
 *  batches of at most the net's max_batch. Either output may be NULL. */
NNINIT_API nninit_status nninit_net_evaluate(nninit_net *net, const nninit_dataset *ds, double *loss, double *acc);

/*! nninit_net_max_batch() : the max_batch the net was created with. */
NNINIT_API int nninit_net_max_batch(const nninit_net *net);

NNINIT_API const char *nninit_optim_name(nninit_optim o);
NNINIT_API nninit_status nninit_optim_parse(const char *name, nninit_optim *out);
NNINIT_API const char *nninit_schedule_name(nninit_schedule s);
NNINIT_API nninit_status nninit_schedule_parse(const char *name, nninit_schedule *out);

#ifdef __cplusplus
}
#endif
#endif

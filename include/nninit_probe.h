/*
 * nninit_probe.h -- what an initialization does to a network before training.
 *
 * nninit_probe_run() builds the network, runs a batch forward and backward,
 * and measures per layer what the textbooks describe: vanishing or exploding
 * activations and gradients, saturation, dead units, symmetry, the correlation
 * of two inputs by depth, each next to the mean-field prediction. Findings are
 * plain sentences with a recommendation. Experimental API.
 */
#ifndef NNINIT_PROBE_H
#define NNINIT_PROBE_H

/* The engine's API is unstable (it may change in any 0.x release): a user
 * opts in by defining NNINIT_UNSTABLE_API, as zstd's ZSTD_STATIC_LINKING_ONLY.
 * The initializer layer (src/) must not depend on the engine. */
#if !defined(NNINIT_UNSTABLE_API)
#error "nninit_probe.h is nninit's unstable engine API: #define NNINIT_UNSTABLE_API before including it"
#endif
#if defined(NNINIT_BUILD_INITIALIZER)
#error "the initializer layer (src/) must not include the engine's nninit_probe.h"
#endif

#include "nninit_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    NNINIT_INPUT_GAUSSIAN = 0, /* x ~ N(0, 1) per coordinate, random labels */
    NNINIT_INPUT_FASHION = 1,  /* standardized Fashion-MNIST training images */
    NNINIT_INPUT_CALLER = 2    /* opts.x / opts.y: the caller's batch */
} nninit_input_kind;

typedef struct {
    int batch;        /* examples per batch (default 256) */
    float lr;         /* SGD step size for the update ratio (0.1) */
    int sgd_steps;    /* steps before re-counting distinct units (10) */
    double pair_corr; /* correlation c0 of the two probe inputs (0) */
    double sym_tol;   /* units equal within this (1e-6 relative) */
    nninit_input_kind input;
    const char *data_dir; /* Fashion-MNIST directory, NULL = Debian's */
    uint64_t seed;
    int hist_bins;     /* histogram bins (40) */
    int lsuv;          /* 1: run nninit_lsuv on the batch first */
    double lsuv_tol;   /* 0.05 */
    int lsuv_max_iter; /* 10 */
    int threads;       /* OpenBLAS threads during this call, the caller's
                          count restored on return (OpenBLAS's count is
                          process-wide: concurrent calls with different
                          counts race); 0: leave as they are */
    const float *x;    /* NNINIT_INPUT_CALLER: batch x input size */
    const int *y;      /* NNINIT_INPUT_CALLER: batch labels */
    /* Optional: called between the probe's stages (stage names "forward",
     * "backward", "statistics", "pair", "theory", "sgd"; done of total
     * units of work), from the calling thread. NULL: no calls. */
    void (*progress)(void *ctx, const char *stage, int done, int total);
    void *progress_ctx;
    nninit_matmul matmul; /* the net's product (nninit_net_set_matmul):
                             NNINIT_MATMUL_BLAS (default) or _REFERENCE */
} nninit_probe_opts;

NNINIT_API nninit_probe_opts nninit_probe_opts_default(void);

#define NNINIT_PROBE_MAX_BINS 64

typedef struct {
    int index; /* layer index in the arch */
    nninit_layer_kind kind;
    nninit_act act;
    double act_param; /* leaky slope / elu alpha as used; 0: none */
    int width;        /* features per example after the layer */
    double pre_mean, pre_std, post_mean, post_std;
    double q_meas;                      /* mean of pre^2 over batch and units */
    double q_pred;                      /* mean-field q^l (NaN where not applicable) */
    double hist_lo, hist_hi;            /* post-activation histogram range (this layer) */
    double hist[NNINIT_PROBE_MAX_BINS]; /* fractions */
    double grad_hist_lo, grad_hist_hi;
    double grad_hist[NNINIT_PROBE_MAX_BINS];
    /* The same on the report's shared ranges (hist_shared_lo..hi and
     * grad_shared_lo..hi), one x-axis for every layer of the network. */
    double shist[NNINIT_PROBE_MAX_BINS];
    double grad_shist[NNINIT_PROBE_MAX_BINS];
    double nonfinite;           /* fraction of pre/post values inf or NaN */
    double saturated;           /* tanh |y| > 0.99, sigmoid outside [.01, .99] */
    double dead;                /* ReLU units zero on the whole batch */
    double grad_std;            /* std of dL/d pre */
    double grad_var_pred_ratio; /* predicted Var(dL/dpre^l)/Var(dL/dpre^L) */
    double grad_var_meas_ratio; /* measured, same normalization */
    double wgrad_std;           /* std of dL/dW */
    double update_ratio;        /* ||lr dW|| / ||W|| for one SGD step */
    int distinct_rows_init;     /* distinct rows of W at init */
    int distinct_units_init;    /* distinct unit activations over the batch */
    int distinct_units_after;   /* after sgd_steps SGD steps */
    double corr_meas;           /* correlation of the two inputs' pre-acts */
    double corr_pred;           /* mean-field c^l */
    int lsuv_iters;             /* LSUV iterations for this layer (opts.lsuv) */
    double lsuv_var;            /* variance of pre after LSUV */
} nninit_probe_layer;

typedef enum {
    NNINIT_FINDING_HEALTHY = 0,
    NNINIT_FINDING_VANISHING,
    NNINIT_FINDING_EXPLODING,
    NNINIT_FINDING_SATURATED,
    NNINIT_FINDING_DEAD,
    NNINIT_FINDING_SYMMETRIC,
    NNINIT_FINDING_LOSS,     /* loss at init far above ln(classes) */
    NNINIT_FINDING_COLLAPSE, /* two inputs become indistinguishable */
    NNINIT_FINDING_CHAOS,    /* nearby inputs are pulled apart */
    NNINIT_FINDING_COUNT
} nninit_finding_kind;

/*! nninit_finding_name() : "healthy", "vanishing", ..., "chaos". */
NNINIT_API const char *nninit_finding_name(nninit_finding_kind k);

typedef struct {
    nninit_finding_kind kind;
    int layer;        /* where it is first seen (-1: whole net) */
    int theory;       /* 1: predicted by the mean field, 0: measured */
    double value;     /* the number behind it */
    char text[640];   /* "layer 20 activation std is 7.6e-16 of ..." */
    char advice[640]; /* "use xavier_normal for tanh" */
} nninit_finding;

#define NNINIT_PROBE_MAX_FINDINGS 16

/* The thresholds behind the findings (docs/PROBE.md says why each). */
#define NNINIT_PROBE_RATE_LO     0.5 /* per-layer std ratio (geometric mean) */
#define NNINIT_PROBE_RATE_HI     2.0
#define NNINIT_PROBE_FACTOR      16.0 /* end-to-end std factor, either way */
#define NNINIT_PROBE_LOSS_FACTOR 2.0  /* loss at init above this x ln(classes) */
#define NNINIT_PROBE_DEAD        0.2  /* dead fraction of a hidden layer */
#define NNINIT_PROBE_SATURATED   0.5  /* saturated fraction of a hidden layer */
#define NNINIT_PROBE_COLLAPSE    0.05 /* 1 - c^L below this x (1 - c0) */
#define NNINIT_PROBE_CHAOS_CSTAR 0.9  /* mean field c* below this, depth >= xi_c */

typedef struct {
    int n_layers;
    nninit_probe_layer *layers; /* n_layers entries */
    int n_findings;
    nninit_finding findings[NNINIT_PROBE_MAX_FINDINGS];
    double loss;                    /* loss at init */
    int mean_field;                 /* 1 if predictions were made */
    double sw2, sb2;                /* sigma_w^2, sigma_b^2 used */
    double qstar, chi1, xi_q, xi_c; /* mean-field summary (NaN if n/a)*/
    double cstar;                   /* stable fixed point of the c map */
    int q_unbounded;                /* 1: no fixed point, q grows */
    double q_growth;                /* then: q map(q)/q for large q */
    double chi1_asym;               /* per-layer gradient variance
                                       factor deep in the net: chi_1
                                       at q* (or for large q) */
    double sw2_critical;            /* sigma_w^2 with chi_1 = 1 for the
                                       main activation and sigma_b^2
                                       (NaN if none) */
    char mf_note[400];              /* why the mean field does not
                                       apply, or "" when it does */
    /* What the findings were computed from (hidden layers first..last). */
    int first_hidden, last_hidden;         /* 0-based; -1 when none */
    double act_factor, act_rate;           /* pre std last/first; ^(1/(n-1)) */
    double grad_factor, grad_rate;         /* grad std first/last; likewise */
    double loss_ref;                       /* ln(classes) */
    double dead_max;                       /* largest dead fraction ... */
    int dead_layer;                        /* ... and its layer (-1) */
    double sat_max;                        /* largest saturated fraction */
    double corr_last;                      /* pair correlation, last hidden */
    double hist_shared_lo, hist_shared_hi; /* shared histogram ranges */
    double grad_shared_lo, grad_shared_hi;
    double init_seconds; /* building + initializing the net */
    double seconds;      /* the probe after that: forward,
                            backward, statistics, theory */
} nninit_probe_report;

/*! nninit_probe_run() : probe arch initialized by default_init (layers with
 *  their own init keep it). rep must be released with nninit_probe_report_free. */
NNINIT_API nninit_status nninit_probe_run(const nninit_arch *arch, const nninit_layer_init *default_init,
                                          const nninit_probe_opts *opts, nninit_probe_report *rep);
NNINIT_API void nninit_probe_report_free(nninit_probe_report *rep);

/*! nninit_probe_mean_field_text() : the mean-field summary in words, e.g.
 *  "sigma_w^2 2, sigma_b^2 0; q* 1; chi_1 1: critical, gradients keep their
 *  size", or "no fixed point: q grows without bound (x1.104 per layer)", or
 *  "not predicted for conv nets (...)". Writes at most n bytes (NUL included);
 *  returns the length it needed, like snprintf. */
NNINIT_API int nninit_probe_mean_field_text(const nninit_probe_report *r, char *buf, size_t n);

/*! nninit_lsuv() : layer-sequential unit variance (Mishkin & Matas 2016) on an
 *  existing network: for each layer with weights in order, rescale W until
 *  |Var(pre) - 1| < tol on the calibration batch x, at most max_iter times.
 *  iters[l] (may be NULL) receives the iterations used per layer, var[l] the
 *  final variance. Call after an orthogonal init for the published method. */
NNINIT_API nninit_status nninit_lsuv(nninit_net *net, const float *x, int batch, double tol, int max_iter, int *iters,
                                     double *var);

#ifdef __cplusplus
}
#endif
#endif

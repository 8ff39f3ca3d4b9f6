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

#include "nninit_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    NNINIT_INPUT_GAUSSIAN = 0, /* x ~ N(0, 1) per coordinate, random labels      */
    NNINIT_INPUT_FASHION = 1,  /* standardized Fashion-MNIST training images      */
    NNINIT_INPUT_CALLER = 2    /* opts.x / opts.y: the caller's batch             */
} nninit_input_kind;

typedef struct {
    int batch;                 /* examples per batch (default 256)             */
    float lr;                  /* SGD step size for the update ratio (0.1)     */
    int sgd_steps;             /* steps before re-counting distinct units (10) */
    double pair_corr;          /* correlation c0 of the two probe inputs (0)   */
    double sym_tol;            /* units equal within this (1e-6 relative)      */
    nninit_input_kind input;
    const char *data_dir;      /* Fashion-MNIST directory, NULL = Debian's     */
    uint64_t seed;
    int hist_bins;             /* histogram bins (40)                          */
    int lsuv;                  /* 1: run nninit_lsuv on the batch first         */
    double lsuv_tol;           /* 0.05                                         */
    int lsuv_max_iter;         /* 10                                           */
    const float *x;            /* NNINIT_INPUT_CALLER: batch x input size      */
    const int *y;              /* NNINIT_INPUT_CALLER: batch labels            */
} nninit_probe_opts;

NNINIT_API nninit_probe_opts nninit_probe_opts_default(void);

#define NNINIT_PROBE_MAX_BINS 64

typedef struct {
    int index;                 /* layer index in the arch                      */
    nninit_layer_kind kind;
    nninit_act act;
    int width;                 /* features per example after the layer         */
    double pre_mean, pre_std, post_mean, post_std;
    double q_meas;             /* mean of pre^2 over batch and units           */
    double q_pred;             /* mean-field q^l (NaN where not applicable)    */
    double hist_lo, hist_hi;   /* post-activation histogram range              */
    double hist[NNINIT_PROBE_MAX_BINS]; /* fractions                          */
    double grad_hist_lo, grad_hist_hi;
    double grad_hist[NNINIT_PROBE_MAX_BINS];
    double saturated;          /* tanh |y| > 0.99, sigmoid outside [.01, .99]  */
    double dead;               /* ReLU units zero on the whole batch           */
    double grad_std;           /* std of dL/d pre                              */
    double grad_var_pred_ratio;/* predicted Var(dL/dpre^l)/Var(dL/dpre^L)      */
    double grad_var_meas_ratio;/* measured, same normalization                 */
    double wgrad_std;          /* std of dL/dW                                 */
    double update_ratio;       /* ||lr dW|| / ||W|| for one SGD step           */
    int distinct_rows_init;    /* distinct rows of W at init                   */
    int distinct_units_init;   /* distinct unit activations over the batch     */
    int distinct_units_after;  /* after sgd_steps SGD steps                    */
    double corr_meas;          /* correlation of the two inputs' pre-acts      */
    double corr_pred;          /* mean-field c^l                               */
    int lsuv_iters;            /* LSUV iterations for this layer (opts.lsuv)   */
    double lsuv_var;           /* variance of pre after LSUV                   */
} nninit_probe_layer;

typedef enum {
    NNINIT_FINDING_HEALTHY = 0,
    NNINIT_FINDING_VANISHING,
    NNINIT_FINDING_EXPLODING,
    NNINIT_FINDING_SATURATED,
    NNINIT_FINDING_DEAD,
    NNINIT_FINDING_SYMMETRIC
} nninit_finding_kind;

typedef struct {
    nninit_finding_kind kind;
    int layer;                 /* where it is first seen (-1: whole net)       */
    double value;              /* the number behind it                         */
    char text[256];            /* "layer 20 activation std is 7.6e-16 of ..."  */
    char advice[160];          /* "use xavier_normal for tanh"                 */
} nninit_finding;

#define NNINIT_PROBE_MAX_FINDINGS 16

typedef struct {
    int n_layers;
    nninit_probe_layer *layers;            /* n_layers entries             */
    int n_findings;
    nninit_finding findings[NNINIT_PROBE_MAX_FINDINGS];
    double loss;                            /* loss at init                  */
    int mean_field;                         /* 1 if predictions were made    */
    double sw2, sb2;                        /* sigma_w^2, sigma_b^2 used      */
    double qstar, chi1, xi_q, xi_c;         /* mean-field summary (NaN if n/a)*/
    double init_seconds;                    /* building + initializing the net */
    double seconds;                         /* the probe after that: forward,
                                               backward, statistics, theory  */
} nninit_probe_report;

/*! nninit_probe_run() : probe arch initialized by default_init (layers with
 *  their own init keep it). rep must be released with nninit_probe_report_free. */
NNINIT_API nninit_status nninit_probe_run(const nninit_arch *arch, const nninit_layer_init *default_init,
                                          const nninit_probe_opts *opts, nninit_probe_report *rep);
NNINIT_API void nninit_probe_report_free(nninit_probe_report *rep);

/*! nninit_lsuv() : layer-sequential unit variance (Mishkin & Matas 2016) on an
 *  existing network: for each layer with weights in order, rescale W until
 *  |Var(pre) - 1| < tol on the calibration batch x, at most max_iter times.
 *  iters[l] (may be NULL) receives the iterations used per layer, var[l] the
 *  final variance. Call after an orthogonal init for the published method. */
NNINIT_API nninit_status nninit_lsuv(nninit_net *net, const float *x, int batch, double tol, int max_iter,
                                     int *iters, double *var);

#ifdef __cplusplus
}
#endif
#endif

/*
 * lab.h -- `nninit lab`: a registry of experiments that test published claims
 * about initialization on Fashion-MNIST, and the report they produce.
 *
 * An experiment states a claim and who makes it, runs a setup, and records
 * checks: a prediction (a number compared with an operator) next to what was
 * measured. Verdicts are computed from the checks, never written by hand:
 *   a check holds when `measured OP threshold` holds beyond its noise: by
 *   more than the noise (|measured - threshold| > noise) for <, <=, >, >=,
 *   and within it for == (exactly, for noise 0); a measurement within its
 *   noise of the threshold, on either side, is inconclusive; one that misses
 *   by more is a failure, and so is NaN (nothing measured);
 *   an experiment is "not reproduced" if any check fails, else "inconclusive"
 *   if any check is, else "reproduced".
 *
 * Seeds: an experiment runs once per seed (lab_ctx.n_seeds, 3 in full mode)
 * and each check is judged on the mean over the runs, its noise the run's
 * own (the mean of the runs' noises, e.g. the test set's binomial error)
 * combined with the spread over seeds: sqrt(noise^2 + (2 sd / sqrt(K))^2),
 * two standard errors of the mean. Every run must make the same checks, in
 * the same order, with the same tests; the report shows the mean, the
 * spread and each seed's value. Curves, probes, plots, setup and notes are
 * the first seed's.
 *
 * Scales: TINY runs every code path in seconds (CI smoke, verdicts computed
 * but not meaningful), QUICK the whole suite in minutes on subsets, FULL the
 * published sizes as far as two cores allow.
 *
 * Built into the CLI and the tests (not part of libnninit); uses only the
 * public headers.
 */
#ifndef NNINIT_LAB_H
#define NNINIT_LAB_H

#include <stdint.h>
#include <stdio.h>

#include "nninit_probe.h"
#include "nninit_train.h"

typedef enum {
    LAB_REPRODUCED = 0,
    LAB_NOT_REPRODUCED = 1,
    LAB_INCONCLUSIVE = 2
} lab_verdict;
typedef enum {
    LAB_TINY = 0,
    LAB_QUICK = 1,
    LAB_FULL = 2
} lab_scale;
typedef enum {
    LAB_LT,
    LAB_LE,
    LAB_GT,
    LAB_GE,
    LAB_EQ
} lab_op;

const char *lab_verdict_name(lab_verdict v); /* "reproduced", "not reproduced", "inconclusive" */
const char *lab_scale_name(lab_scale s);     /* "tiny", "quick", "full" */
const char *lab_op_text(lab_op op);          /* "<", "<=", ">", ">=", "==" */

/* ---- data ----------------------------------------------------------------- */

/* Fashion-MNIST, standardized with the training split's mean and std. The
 * test split is balanced when subset (equal count per class, in file order). */
typedef struct {
    float *train_x, *test_x;
    int *train_y, *test_y;
    int n_train, n_test, dim;
    double mean, std;
} lab_data;

/* Load from dir (NULL: Debian's). n_train / n_test 0 = all; n_train takes a
 * seeded random subset; n_test takes the first n_test/10 of each class.
 * More than the split holds is NNINIT_ERR_PARAM, not a clamp. */
nninit_status lab_data_load(const char *dir, int n_train, int n_test, uint64_t seed, lab_data *d);
void lab_data_free(lab_data *d);
/* A view of the first n training examples (n <= 0 or > n_train: all). */
nninit_dataset lab_train_set(const lab_data *d, int n);
nninit_dataset lab_test_set(const lab_data *d);

/* ---- results -------------------------------------------------------------- */

#define LAB_MAX_CHECKS 24
#define LAB_MAX_SEEDS  16
#define LAB_MAX_CURVES 24
#define LAB_MAX_PROBES 6
#define LAB_MAX_SERIES 8

typedef struct {
    char name[96];        /* "hidden units identical after training (tanh)" */
    char prediction[128]; /* human text, e.g. "distinct units = 1" */
    lab_op op;
    double threshold;
    double noise; /* measurement uncertainty (0: exact) */
    double measured;
    char unit[16];       /* "%", "", "x" ... for display */
    lab_verdict verdict; /* computed by lab_check */
    /* over seeds (lab_run): measured is their mean, noise the combined
     * noise; n_seeds 1 for a single run */
    int n_seeds;
    double spread; /* sample standard deviation over the seeds (0 for one) */
    double per_seed[LAB_MAX_SEEDS];
} lab_check_t;

typedef struct {
    char label[64]; /* "xavier_normal, 30 layers" */
    int n;
    nninit_train_point *points; /* owned copy of the training curve */
    int diverged;
    long diverged_step;
} lab_curve;

/* A free-form plot: y against x for a few labelled series (e.g. q^l measured
 * and predicted against depth). */
typedef struct {
    char label[64];
    int n;
    double *x, *y; /* owned */
    int dashed;    /* 1: a prediction (drawn dashed) */
} lab_series;

typedef struct {
    char title[96], xlabel[48], ylabel[48];
    int logy;
    int n_series;
    lab_series series[LAB_MAX_SERIES];
} lab_plot;

#define LAB_MAX_PLOTS 4

typedef struct lab_experiment lab_experiment;

typedef struct {
    const lab_experiment *exp;
    char setup[1536]; /* what was run, with the sizes of this scale */
    char notes[1536]; /* what the measurements say, computed text */
    int n_checks;
    lab_check_t checks[LAB_MAX_CHECKS];
    /* checks past LAB_MAX_CHECKS: not listed, but counted in the verdict */
    int n_unlisted, unlisted_failed, unlisted_inconclusive;
    int n_curves;
    lab_curve curves[LAB_MAX_CURVES];
    int n_probes;
    char probe_label[LAB_MAX_PROBES][64];
    int probe_bins[LAB_MAX_PROBES]; /* their opts.hist_bins (0: unknown) */
    nninit_probe_report probes[LAB_MAX_PROBES];
    int n_plots;
    lab_plot plots[LAB_MAX_PLOTS];
    lab_verdict verdict; /* computed by lab_finish */
    int n_seeds;         /* runs aggregated (1: one seed) */
    uint64_t seeds[LAB_MAX_SEEDS];
    double seconds;       /* all runs */
    nninit_status status; /* NNINIT_OK, or the error that stopped it */
    char error[256];
} lab_result;

/* Context handed to every experiment. */
typedef struct {
    lab_scale scale;
    uint64_t seed;
    const lab_data *data; /* loaded once for the whole run */
    int threads;
    /* Test hook: when set, experiments that support it use this weight init
     * in place of the one their claim is about (zero-init uses it for its
     * zero weights), so a test can show a failing prediction being reported
     * as failed. NULL normally. */
    const char *override_init;
    /* Progress: called with a short line now and then (may be NULL). */
    void (*progress)(void *user, const char *line);
    void *progress_user;
    int n_seeds; /* runs per experiment (<= 1: one); the k-th uses lab_seed_k(seed, k) */
} lab_ctx;

struct lab_experiment {
    const char *name;   /* "zero-init" */
    const char *title;  /* "Zero init: the symmetry problem" */
    const char *claim;  /* the claim, one or two sentences */
    const char *source; /* who makes it: seed section and paper */
    nninit_status (*run)(const lab_ctx *ctx, lab_result *r);
};

/* The registry, in report order. */
const lab_experiment *const *lab_experiments(int *n);
const lab_experiment *lab_find(const char *name);

/* ---- helpers for experiments ---------------------------------------------- */

/* The seed of the k-th run of an experiment: seed itself for k = 0, then
 * seed + k (the runs of `--seed 5 --seeds 3` are those of seeds 5, 6, 7). */
uint64_t lab_seed_k(uint64_t seed, int k);

/* The verdict of one check (the rule above). */
lab_verdict lab_check_verdict(double measured, lab_op op, double threshold, double noise);

/* What decides float32 rounding in the products: the CPU, the BLAS and the
 * kernel it chose, its threads. Filled once per process. */
typedef struct {
    char cpu[128];      /* /proc/cpuinfo "model name", or "unknown" */
    char blas[160];     /* openblas_get_config() */
    char blas_core[48]; /* openblas_get_corename(): the sgemm kernel family */
    int blas_threads;   /* openblas_get_num_threads() */
} lab_machine;
const lab_machine *lab_machine_info(void);

/* tiny / quick / full pick. */
int lab_pick(const lab_ctx *ctx, int tiny, int quick, int full);

/* Append a check and compute its verdict. Returns the verdict. */
lab_verdict lab_check(lab_result *r, const char *name, const char *prediction, double measured, lab_op op,
                      double threshold, double noise, const char *unit);
/* Binomial standard error of an accuracy p measured on n examples, times k. */
double lab_acc_noise(double p, int n, double k);

/* printf into r->setup / r->notes (appends). */
void lab_setup(lab_result *r, const char *fmt, ...) NNINIT_PRINTF(2, 3);
void lab_note(lab_result *r, const char *fmt, ...) NNINIT_PRINTF(2, 3);

/* Parse arch text, build the net with weight init `init` and bias init `bias`
 * (scheme text as the CLI's --init, e.g. "normal(std=0.01)"; NULL init:
 * PyTorch default; NULL bias: zeros) under ctx->seed + seed_offset. */
nninit_status lab_net(const lab_ctx *ctx, const char *arch, const char *init, const char *bias, int max_batch,
                      uint64_t seed_offset, nninit_net **out);

/* Options for a lab training run: SGD, the given lr and momentum, batch 128,
 * evals_per_epoch 4, seed ctx->seed, threads ctx->threads. */
nninit_train_opts lab_train_opts(const lab_ctx *ctx, double lr, double momentum, int epochs);

/* Train net on the first n_train examples (0: all) and evaluate on the test
 * set; the curve is stored in r under label. A divergence is not an error:
 * rep->diverged says so. rep may be NULL, and so may r (no curve kept).
 * Returns the final test accuracy in
 * *acc (NaN if diverged) when acc is not NULL. */
nninit_status lab_train(const lab_ctx *ctx, nninit_net *net, const nninit_train_opts *opts, int n_train,
                        const char *label, lab_result *r, double *acc, nninit_train_report *rep);

/* Run the probe on arch with init/bias (as lab_net) on a Fashion-MNIST batch
 * and keep its report in r under label (up to LAB_MAX_PROBES; more are
 * dropped). Returns a pointer to the stored report, or NULL on error. */
const nninit_probe_report *lab_probe(const lab_ctx *ctx, const char *arch, const char *init, const char *bias,
                                     const nninit_probe_opts *opts, const char *label, lab_result *r);

/* The same probe without keeping it: rep is the caller's, to be released
 * with nninit_probe_report_free. */
nninit_status lab_probe_once(const lab_ctx *ctx, const char *arch, const char *init, const char *bias,
                             const nninit_probe_opts *opts, nninit_probe_report *rep);

/* Distinct hidden units of dense layer l of net on the batch x (batch rows):
 * units whose post-activation columns differ by more than tol relative. */
int lab_distinct_units(nninit_net *net, int l, const float *x, int batch, double tol);

/* Add a plot / a series to the last plot. x and y are copied. */
lab_plot *lab_plot_add(lab_result *r, const char *title, const char *xlabel, const char *ylabel, int logy);
void lab_series_add(lab_plot *p, const char *label, const double *x, const double *y, int n, int dashed);

/* ---- running and reporting ------------------------------------------------- */

/* Errors of the lab's own code (report files, data): the message of the last
 * failure. nninit_last_error() still holds the library's. */
const char *lab_error(void);
void lab_set_error(const char *fmt, ...) NNINIT_PRINTF(1, 2);

/* Run one experiment: fills r (call lab_result_free after). */
void lab_run(const lab_experiment *e, const lab_ctx *ctx, lab_result *r);
/* The verdict from r's checks (also sets r->verdict). */
lab_verdict lab_finish(lab_result *r);
void lab_result_free(lab_result *r);

/* The report directory is replaced whole, never updated file by file: a
 * killed run leaves the previous report or the new one, never a mix.
 *
 *   begin   checks dir (below), creates its missing parents, removes the
 *           staging directories of dead runs (common.h's temporaries: the
 *           same pattern and rule as every file the tools write) and
 *           creates the staging directory, dir's sibling
 *           ".<base>.nninit-tmp.<pid>.<XXXXXX>/";
 *   write   the report files into it: index.html (self-contained, inline
 *           SVG), results.md, results.json and the marker .nninit-report;
 *   commit  fsyncs it and swaps it in: rename() when dir is absent;
 *           renameat2(RENAME_EXCHANGE) over an existing dir (two renames
 *           where the file system has no exchange), then removes the old
 *           tree (now under the staging name) and fsyncs the parent;
 *   abort   removes the staging directory.
 *
 * dir may be absent, an empty directory, or a previous report: a directory
 * holding the marker .nninit-report (or, written before the marker, a
 * results.json of "nninit lab"), and nothing but report files (and their
 * temporaries). Anything else (a file, a symlink, a directory with other
 * files in it) is not ours to replace: NNINIT_ERR_PARAM before anything is
 * written. Failures: NNINIT_ERR_IO (or NOMEM); lab_error() says what. */
#define LAB_REPORT_MARKER ".nninit-report"

typedef struct {
    char *dir; /* the target, without trailing slashes */
    char *tmp; /* the staging directory, NULL when none */
} lab_report_dir;

/* NNINIT_OK when dir may receive a report (absent, empty, a previous report);
 * NNINIT_ERR_PARAM (foreign) or NNINIT_ERR_IO (cannot tell) otherwise. */
nninit_status lab_report_dir_check(const char *dir);
nninit_status lab_report_dir_begin(lab_report_dir *t, const char *dir);
nninit_status lab_report_dir_write(lab_report_dir *t, const lab_result *res, int n, const lab_ctx *ctx,
                                   double total_seconds);
nninit_status lab_report_dir_commit(lab_report_dir *t); /* frees t, swapped or not */
void lab_report_dir_abort(lab_report_dir *t);           /* frees t; safe after commit */

/* The whole report at dir in one go: begin, write, commit. */
nninit_status lab_write_report(const char *dir, const lab_result *res, int n, const lab_ctx *ctx, double total_seconds);
nninit_status lab_write_html(const char *path, const lab_result *res, int n, const lab_ctx *ctx, double total_seconds);
nninit_status lab_write_md(const char *path, const lab_result *res, int n, const lab_ctx *ctx, double total_seconds);
nninit_status lab_write_json(const char *path, const lab_result *res, int n, const lab_ctx *ctx, double total_seconds);

/* ---- the experiments (one file each group) ---------------------------------- */
extern const lab_experiment lab_exp_zero_init, lab_exp_constant_init, lab_exp_small_random, lab_exp_large_random,
    lab_exp_relu_depth, lab_exp_tanh_sigmoid, lab_exp_shallow, lab_exp_residual, lab_exp_mean_field, lab_exp_lsuv,
    lab_exp_selu;
extern const lab_experiment lab_exp_zero_bias, lab_exp_lr_rescue, lab_exp_relu_explode;
extern const lab_experiment lab_exp_leaky_he;

#endif

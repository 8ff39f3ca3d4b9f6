/* cmd_train.c -- `nninit train`: train a network on Fashion-MNIST. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "explain.h"
#include "json.h"
#include "opt.h"
#include "lab.h"
#include "nninit_train.h"

int cmd_train(int argc, char **argv);

static const char train_usage[] =
    "usage: nninit train --arch \"784 -> [dense 256 relu] x4 -> dense 10\" [options]\n"
    "\n"
    "Trains the network on Fashion-MNIST (Debian's dataset-fashion-mnist) with softmax\n"
    "cross-entropy and reports, per epoch, the training loss, the test loss and the test\n"
    "accuracy. Stops with exit status 1 when the loss becomes NaN or infinite; the table\n"
    "then ends with the diverged step (train loss nan or inf, test columns -).\n"
    "Options take a value as --opt VALUE or --opt=VALUE, each at most once.\n"
    "\n"
    "Exploding: a finite loss above 100 x ln(classes) (230.3 for 10 classes; chance is\n"
    "ln 10 = 2.30) at init, on a minibatch or on the test set is reported on stderr\n"
    "(\"exploding: loss ... at step k\") and in --json as \"exploding\"; training goes on.\n"
    "\n"
    "  --arch TEXT          architecture (docs/GRAMMAR.md); per-layer init= and bias= apply\n"
    "  --arch-json FILE     architecture as JSON\n"
    "  --init SCHEME        weight init of layers without their own (default: PyTorch's\n"
    "                       nn.Linear / nn.Conv2d default)\n"
    "  --bias SCHEME        bias init (default zeros when --init is given); a fan-based scheme\n"
    "                       (kaiming_uniform, ...) takes its fans from the layer's weight\n"
    "  --preset NAME        torch, keras or flax: every dense and conv layer without its own\n"
    "                       init gets that framework's layer init on its sizes (torch.Linear /\n"
    "                       torch.Conv2d, keras.Dense / keras.Conv2D, flax.Dense / flax.Conv);\n"
    "                       not with --init/--bias. The init of every layer is printed on\n"
    "                       stderr (unless --quiet) and in --json (\"init\")\n"
    "  --optim NAME         sgd (default) or adam\n"
    "  --lr X               learning rate (0.01)\n"
    "  --momentum X         SGD momentum (0)\n"
    "  --nesterov           Nesterov momentum\n"
    "  --weight-decay X     L2 penalty added to the gradient (0)\n"
    "  --beta1 X --beta2 X --eps X   Adam (0.9, 0.999, 1e-8)\n"
    "  --schedule NAME      constant (default) or cosine (to --lr-min over all steps)\n"
    "  --lr-min X           cosine floor (0)\n"
    "  --batch N            examples per step (128)\n"
    "  --epochs N           passes over the training set (1)\n"
    "  --max-steps N        stop after N steps\n"
    "  --subset N           train on N of the 60000 examples (a seeded random subset; default all)\n"
    "  --test-subset N      evaluate on N test examples, N/10 per class (default all 10000)\n"
    "  --evals-per-epoch K  test evaluations per epoch (1)\n"
    "  --no-eval            no test evaluation at all (for timing)\n"
    "  --seed N             seed of the weights, the subset and the order (0)\n"
    "  --threads N          OpenBLAS threads (default: OpenBLAS's own choice)\n"
    "  --matmul KIND        blas (default: OpenBLAS's sgemm) or reference (the engine's plain-C\n"
    "                       product: each element summed over k in order, rounded the same\n"
    "                       on every CPU; single-threaded, slower)\n"
    "  --data DIR           Fashion-MNIST directory\n"
    "  --json               the curves as one JSON object on stdout\n"
    "  --quiet              no progress bar\n"
    "\n"
    "The same seed, options and thread count give the same curve on the same machine\n"
    "(the OpenBLAS build and CPU family also decide how sgemm rounds; not with\n"
    "--matmul reference).\n";

static int bad(const char *fmt, const char *a) { return cli_bad("train", fmt, a); }

/* The options (opt.h: "--opt value" or "--opt=value", each at most once). */
enum {
    T_ARCH,
    T_ARCH_JSON,
    T_INIT,
    T_BIAS,
    T_PRESET,
    T_OPTIM,
    T_LR,
    T_MOMENTUM,
    T_NESTEROV,
    T_WEIGHT_DECAY,
    T_BETA1,
    T_BETA2,
    T_EPS,
    T_SCHEDULE,
    T_LR_MIN,
    T_BATCH,
    T_EPOCHS,
    T_MAX_STEPS,
    T_SUBSET,
    T_TEST_SUBSET,
    T_EVALS,
    T_NO_EVAL,
    T_SEED,
    T_THREADS,
    T_MATMUL,
    T_DATA,
    T_JSON,
    T_QUIET
};
static const cli_opt train_opts[] = {
    {"--arch", NULL, T_ARCH, CLI_OPT_VALUE},
    {"--arch-json", NULL, T_ARCH_JSON, CLI_OPT_VALUE},
    {"--init", NULL, T_INIT, CLI_OPT_VALUE},
    {"--bias", NULL, T_BIAS, CLI_OPT_VALUE},
    {"--preset", NULL, T_PRESET, CLI_OPT_VALUE},
    {"--optim", NULL, T_OPTIM, CLI_OPT_VALUE},
    {"--lr", NULL, T_LR, CLI_OPT_VALUE},
    {"--momentum", NULL, T_MOMENTUM, CLI_OPT_VALUE},
    {"--nesterov", NULL, T_NESTEROV, CLI_OPT_FLAG},
    {"--weight-decay", NULL, T_WEIGHT_DECAY, CLI_OPT_VALUE},
    {"--beta1", NULL, T_BETA1, CLI_OPT_VALUE},
    {"--beta2", NULL, T_BETA2, CLI_OPT_VALUE},
    {"--eps", NULL, T_EPS, CLI_OPT_VALUE},
    {"--schedule", NULL, T_SCHEDULE, CLI_OPT_VALUE},
    {"--lr-min", NULL, T_LR_MIN, CLI_OPT_VALUE},
    {"--batch", NULL, T_BATCH, CLI_OPT_VALUE},
    {"--epochs", NULL, T_EPOCHS, CLI_OPT_VALUE},
    {"--max-steps", NULL, T_MAX_STEPS, CLI_OPT_VALUE},
    {"--subset", NULL, T_SUBSET, CLI_OPT_VALUE},
    {"--test-subset", NULL, T_TEST_SUBSET, CLI_OPT_VALUE},
    {"--evals-per-epoch", NULL, T_EVALS, CLI_OPT_VALUE},
    {"--no-eval", NULL, T_NO_EVAL, CLI_OPT_FLAG},
    {"--seed", NULL, T_SEED, CLI_OPT_VALUE},
    {"--threads", NULL, T_THREADS, CLI_OPT_VALUE},
    {"--matmul", NULL, T_MATMUL, CLI_OPT_VALUE},
    {"--data", NULL, T_DATA, CLI_OPT_VALUE},
    {"--json", NULL, T_JSON, CLI_OPT_FLAG},
    {"--quiet", NULL, T_QUIET, CLI_OPT_FLAG},
};

/* A finite loss above EXPLODE_FACTOR x ln(classes) is "exploding": chance
 * is ln(classes), so such a loss means the logits are hundreds apart. */
#define EXPLODE_FACTOR 100.0

typedef struct {
    long step; /* first loss above the threshold; -1: none */
    double loss;
    long max_step; /* the largest finite loss seen */
    double max_loss;
    double threshold;
} exploding;

static void explode_see(exploding *x, long step, double loss) {
    if (!isfinite(loss) || !(loss > x->threshold)) return;
    if (x->step < 0) x->step = step, x->loss = loss;
    if (x->max_step < 0 || loss > x->max_loss) x->max_step = step, x->max_loss = loss;
}

/* A loss at step 0, seen after the run: it precedes every other. */
static void explode_see_init(exploding *x, double loss) {
    if (!isfinite(loss) || !(loss > x->threshold)) return;
    if (x->step != 0) x->step = 0, x->loss = loss;
    if (x->max_step < 0 || loss > x->max_loss) x->max_step = 0, x->max_loss = loss;
}

typedef struct {
    int tty, quiet;
    int last_len;
    double last_draw;
    int steps_per_epoch;
    exploding *ex;
} progress;

static void clear_line(progress *p) {
    if (p->tty && p->last_len) fprintf(stderr, "\r%*s\r", p->last_len, "");
    p->last_len = 0;
}

static int on_progress(const nninit_train_progress *pr, void *user) {
    progress *p = user;
    explode_see(p->ex, pr->step, pr->loss);
    if (pr->point) explode_see(p->ex, pr->step, pr->point->test_loss);
    if (p->quiet) return 0;
    if (pr->point) {
        const nninit_train_point *q = pr->point;
        clear_line(p);
        fprintf(stderr, "epoch %6.2f  step %6ld  train loss %10.5g  test loss %10.5g  test acc %6.2f%%  %.1f s\n",
                q->epoch, q->step, q->train_loss, q->test_loss, 100 * q->test_acc, q->seconds);
        return 0;
    }
    if (!p->tty) return 0;
    /* redraw at most 10 times a second */
    int step_in_epoch = (int)(pr->step - (long)pr->epoch * p->steps_per_epoch);
    if (pr->step != pr->steps && step_in_epoch % 8 != 0) return 0;
    const int W = 30;
    int fill = (int)((double)pr->step / (double)pr->steps * W + 0.5);
    char bar[64];
    for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : '.';
    bar[W] = 0;
    int n = fprintf(stderr, "\r[%s] epoch %d/%d  step %ld/%ld  loss %10.5g  %.0f ex/s", bar, pr->epoch + 1, pr->epochs,
                    pr->step, pr->steps, pr->loss, pr->examples_per_s);
    if (n > 0) {
        if (n - 1 < p->last_len) fprintf(stderr, "%*s", p->last_len - (n - 1), "");
        p->last_len = n - 1;
    }
    return 0;
}

/* The run as one JSON object: the options, the outcome, the curve. 0, or -1
 * with errno. */
static int print_json(FILE *f, const char *arch, const nninit_train_opts *o, nninit_matmul matmul, int n_train,
                      int n_test, const nninit_train_report *r, const exploding *x, const char *error,
                      const nninit_arch *a, const nninit_layer_init_info *inits) {
    cli_json j;
    cli_json_init(&j);
    cli_json_str(&j, NULL, "arch", arch);
    cli_json_str(&j, NULL, "preset", a->preset ? nninit_nn_preset_name(a->preset) : NULL);
    cJSON *in = cli_json_arr(&j, NULL, "init"); /* per layer: what it was filled with */
    for (int l = 0; l < a->n_layers; l++) cli_layer_init_json(&j, in, NULL, &a->layers[l], &inits[l]);
    cli_json_str(&j, NULL, "optim", nninit_optim_name(o->optim));
    cli_json_num(&j, NULL, "lr", o->lr);
    cli_json_num(&j, NULL, "momentum", o->momentum);
    cli_json_bool(&j, NULL, "nesterov", o->nesterov);
    cli_json_num(&j, NULL, "weight_decay", o->weight_decay);
    cli_json_str(&j, NULL, "schedule", nninit_schedule_name(o->schedule));
    cli_json_int(&j, NULL, "batch", o->batch);
    cli_json_int(&j, NULL, "epochs", o->epochs);
    cli_json_u64(&j, NULL, "seed", o->seed);
    cli_json_int(&j, NULL, "threads", o->threads);
    cli_json_str(&j, NULL, "matmul", matmul == NNINIT_MATMUL_REFERENCE ? "reference" : "blas");
    cli_json_int(&j, NULL, "n_train", n_train);
    cli_json_int(&j, NULL, "n_test", n_test);
    cli_json_int(&j, NULL, "steps", r->steps);
    cli_json_num(&j, NULL, "seconds", r->seconds);
    cli_json_num(&j, NULL, "examples_per_s", r->seconds > 0 ? (double)r->steps * o->batch / r->seconds : NAN);
    cli_json_bool(&j, NULL, "diverged", r->diverged);
    if (r->diverged) cli_json_int(&j, NULL, "diverged_step", r->diverged_step);
    else cli_json_null(&j, NULL, "diverged_step");
    if (x->step >= 0) {
        cJSON *e = cli_json_obj(&j, NULL, "exploding");
        cli_json_int(&j, e, "step", x->step);
        cli_json_num(&j, e, "loss", x->loss);
        cli_json_num(&j, e, "threshold", x->threshold);
        cli_json_int(&j, e, "max_step", x->max_step);
        cli_json_num(&j, e, "max_loss", x->max_loss);
    } else {
        cli_json_null(&j, NULL, "exploding");
    }
    cli_json_str(&j, NULL, "error", error);
    cli_json_num(&j, NULL, "final_test_loss", r->final_test_loss);
    cli_json_num(&j, NULL, "final_test_acc", r->final_test_acc);
    cJSON *ps = cli_json_arr(&j, NULL, "points");
    for (int i = 0; i < r->n_points; i++) {
        const nninit_train_point *q = &r->points[i];
        cJSON *p = cli_json_obj(&j, ps, NULL);
        cli_json_int(&j, p, "step", q->step);
        cli_json_num(&j, p, "epoch", q->epoch);
        cli_json_num(&j, p, "train_loss", q->train_loss);
        cli_json_num(&j, p, "test_loss", q->test_loss);
        cli_json_num(&j, p, "test_acc", q->test_acc);
        cli_json_num(&j, p, "seconds", q->seconds);
    }
    int rc = cli_json_print(&j, f);
    cli_json_free(&j);
    return rc;
}

/* The table: every cell formatted alone, each column as wide as its widest
 * cell (at least today's widths), right-aligned, so that no value (70034.9,
 * 1.93e+33, nan) shifts a column. "-": not measured. */
#define NCOL 6
static const char *const col_name[NCOL] = {"epoch", "step", "train loss", "test loss", "test acc", "seconds"};
static const int col_min[NCOL] = {8, 8, 12, 12, 10, 9};

static void cell_loss(char *c, size_t n, double v) { snprintf(c, n, "%.5g", v); }

/* Row i of the table: the report's points, then (diverged) the diverged step. */
static void table_row(const nninit_train_report *r, int i, int has_test, int has_init_loss, int per_epoch,
                      double diverged_loss, char cell[NCOL][40]) {
    if (i < r->n_points) {
        const nninit_train_point *q = &r->points[i];
        snprintf(cell[0], 40, "%.2f", q->epoch);
        snprintf(cell[1], 40, "%ld", q->step);
        if (q->step == 0 && !has_init_loss) snprintf(cell[2], 40, "-");
        else cell_loss(cell[2], 40, q->train_loss);
        if (has_test) {
            cell_loss(cell[3], 40, q->test_loss);
            snprintf(cell[4], 40, "%.2f%%", 100 * q->test_acc);
        } else snprintf(cell[3], 40, "-"), snprintf(cell[4], 40, "-");
        snprintf(cell[5], 40, "%.2f", q->seconds);
    } else {
        snprintf(cell[0], 40, "%.2f", (double)r->diverged_step / per_epoch);
        snprintf(cell[1], 40, "%ld", r->diverged_step);
        cell_loss(cell[2], 40, diverged_loss);
        snprintf(cell[3], 40, "-"), snprintf(cell[4], 40, "-");
        snprintf(cell[5], 40, "%.2f", r->seconds);
    }
}

static void print_table(FILE *f, const nninit_train_report *r, int has_test, int has_init_loss, int per_epoch,
                        double diverged_loss) {
    int w[NCOL], rows = r->n_points + (r->diverged ? 1 : 0);
    char cell[NCOL][40];
    for (int j = 0; j < NCOL; j++) w[j] = col_min[j];
    for (int i = 0; i < rows; i++) {
        table_row(r, i, has_test, has_init_loss, per_epoch, diverged_loss, cell);
        for (int j = 0; j < NCOL; j++)
            if ((int)strlen(cell[j]) > w[j]) w[j] = (int)strlen(cell[j]);
    }
    for (int j = 0; j < NCOL; j++) fprintf(f, "%s%*s", j ? " " : "", w[j], col_name[j]);
    fputc('\n', f);
    for (int i = 0; i < rows; i++) {
        table_row(r, i, has_test, has_init_loss, per_epoch, diverged_loss, cell);
        for (int j = 0; j < NCOL; j++) fprintf(f, "%s%*s", j ? " " : "", w[j], cell[j]);
        fputc('\n', f);
    }
}

int cmd_train(int argc, char **argv) {
    const char *arch_text = NULL, *arch_json = NULL, *init = NULL, *bias = NULL, *data_dir = NULL, *preset = NULL;
    nninit_nn_preset pr = NNINIT_NN_PRESET_NONE;
    int json = 0, quiet = 0, no_eval = 0, subset = 0, test_subset = 0;
    nninit_matmul matmul = NNINIT_MATMUL_BLAS;
    nninit_train_opts o = nninit_train_opts_default();
    cli_opt_iter it;
    cli_opt_init(&it, "train", train_opts, (int)(sizeof train_opts / sizeof train_opts[0]), argc - 1, argv + 1);
    const char *v;
    for (int id; (id = cli_opt_next(&it, &v)) != CLI_OPT_DONE;) {
        double d;
        long long n;
        const char *a = cli_opt_name(&it);
        switch (id) {
        case CLI_OPT_HELP: fputs(train_usage, stdout); return CLI_EXIT_OK;
        case CLI_OPT_ERROR: return CLI_EXIT_USAGE;
        case CLI_OPT_POSITIONAL: return bad("unexpected argument '%s' (see nninit train --help)", v);
        case T_JSON: json = 1; break;
        case T_QUIET: quiet = 1; break;
        case T_NESTEROV: o.nesterov = 1; break;
        case T_NO_EVAL: no_eval = 1; break;
        case T_ARCH: arch_text = v; break;
        case T_ARCH_JSON: arch_json = v; break;
        case T_INIT: init = v; break;
        case T_BIAS: bias = v; break;
        case T_PRESET:
            if (nninit_nn_preset_parse(v, &pr)) return bad("--preset '%s': expected torch, keras or flax", v);
            preset = v;
            break;
        case T_DATA: data_dir = v; break;
        case T_OPTIM:
            if (nninit_optim_parse(v, &o.optim)) return bad("--optim '%s': expected sgd or adam", v);
            break;
        case T_SCHEDULE:
            if (nninit_schedule_parse(v, &o.schedule)) return bad("--schedule '%s': expected constant or cosine", v);
            break;
        case T_LR:
        case T_LR_MIN:
        case T_WEIGHT_DECAY:
            if (cli_parse_double(v, &d) || d < 0) return bad("'%s': expected a number >= 0", v);
            *(id == T_LR ? &o.lr : id == T_LR_MIN ? &o.lr_min : &o.weight_decay) = d;
            break;
        case T_MOMENTUM:
        case T_BETA1:
        case T_BETA2:
            if (cli_parse_double(v, &d) || d < 0 || d >= 1) return bad("'%s': expected a number in [0, 1)", v);
            *(id == T_MOMENTUM ? &o.momentum : id == T_BETA1 ? &o.beta1 : &o.beta2) = d;
            break;
        case T_EPS:
            if (cli_parse_double(v, &d) || d <= 0) return bad("--eps '%s': expected a number > 0", v);
            o.eps = d;
            break;
        case T_MATMUL:
            if (!strcmp(v, "blas")) matmul = NNINIT_MATMUL_BLAS;
            else if (!strcmp(v, "reference")) matmul = NNINIT_MATMUL_REFERENCE;
            else return bad("--matmul '%s': expected blas or reference", v);
            break;
        case T_SEED:
            if (cli_parse_u64(v, &o.seed)) return bad("--seed '%s': expected an integer in 0..18446744073709551615", v);
            break;
        case T_MAX_STEPS:
            if (cli_parse_long(v, &n) || n < 1) return bad("--max-steps '%s': expected an integer >= 1", v);
            o.max_steps = (long)n;
            break;
        default: { /* the integer options, each in its range */
            long long lo = 1, hi = 1 << 24;
            int *dst = &o.threads;
            if (id == T_BATCH) dst = &o.batch, hi = 1 << 16;
            else if (id == T_EPOCHS) dst = &o.epochs, hi = 100000;
            else if (id == T_SUBSET) dst = &subset;
            else if (id == T_TEST_SUBSET) dst = &test_subset, lo = 10;
            else if (id == T_EVALS) dst = &o.evals_per_epoch, lo = 0, hi = 1000;
            else hi = 1024; /* T_THREADS */
            if (cli_parse_long(v, &n) || n < lo || n > hi) {
                fprintf(stderr, "nninit train: %s '%s': expected an integer in %lld..%lld\n", a, v, lo, hi);
                return CLI_EXIT_USAGE;
            }
            *dst = (int)n;
        }
        }
    }
    if (o.nesterov && o.momentum <= 0) return bad("%s", "--nesterov needs --momentum > 0");
    if (preset && (init || bias)) return bad("--preset %s: give --preset or --init/--bias, not both", preset);
    nninit_arch *arch;
    nninit_layer_init li;
    const nninit_layer_init *dflt;
    int rc = cli_load_arch("train", arch_text, arch_json, init, bias, &arch, &li, &dflt);
    if (rc) return rc;
    if (arch->in_c * arch->in_h * arch->in_w != 784) {
        fprintf(stderr, "nninit train: the network takes %d features; Fashion-MNIST images have 784 (1x28x28)\n",
                arch->in_c * arch->in_h * arch->in_w);
        free(arch);
        return CLI_EXIT_USAGE;
    }
    /* what every layer is filled with, for the report (the net's own resolution) */
    nninit_layer_init_info *inits = malloc((size_t)arch->n_layers * sizeof *inits);
    if (!inits) {
        fprintf(stderr, "nninit train: out of memory\n");
        free(arch);
        return CLI_EXIT_FAIL;
    }
    nninit_status st = preset ? nninit_arch_set_preset(arch, pr) : NNINIT_OK;
    if (st) fprintf(stderr, "nninit train: --preset %s: %s\n", preset, nninit_last_error());
    else if ((st = nninit_arch_inits(arch, dflt, inits))) fprintf(stderr, "nninit train: %s\n", nninit_last_error());
    if (st) {
        free(inits);
        free(arch);
        return cli_exit_status(st);
    }

    lab_data data;
    st = lab_data_load(data_dir, subset, test_subset, o.seed, &data);
    if (st) {
        fprintf(stderr, "nninit train: %s\n", lab_error());
        free(inits);
        free(arch);
        return cli_exit_status(st);
    }
    if (o.batch > data.n_train) {
        fprintf(stderr, "nninit train: --batch %d is larger than the training set (%d)\n", o.batch, data.n_train);
        lab_data_free(&data);
        free(inits);
        free(arch);
        return CLI_EXIT_USAGE;
    }
    nninit_net *net;
    st = nninit_net_create(arch, o.batch > 1000 ? o.batch : 1000, dflt, o.seed, &net);
    if (!st && (st = nninit_net_set_matmul(net, matmul))) nninit_net_free(net);
    if (st) {
        fprintf(stderr, "nninit train: %s\n", nninit_last_error());
        lab_data_free(&data);
        free(inits);
        free(arch);
        return cli_exit_status(st);
    }
    nninit_dataset tr = lab_train_set(&data, 0), te = lab_test_set(&data);
    if (no_eval) o.evals_per_epoch = 0, o.eval_train_at_init = 0;
    exploding ex = {-1, NAN, -1, NAN, EXPLODE_FACTOR * log((double)nninit_net_output_size(net))};
    progress pg = {isatty(2), quiet, 0, 0.0, data.n_train / o.batch, &ex};
    if (!quiet) {
        fprintf(stderr, "training on %d examples, testing on %d; %d epoch%s of %d steps; seed %llu\n", data.n_train,
                data.n_test, o.epochs, o.epochs == 1 ? "" : "s", data.n_train / o.batch, (unsigned long long)o.seed);
        cli_arch_inits_print(stderr, arch, inits, "init: ", 100);
    }
    nninit_train_report rep;
    st = nninit_train_run(net, &o, &tr, no_eval ? NULL : &te, on_progress, &pg, &rep);
    clear_line(&pg);
    const char *atext = arch_text ? arch_text : arch_json;
    rc = 0;
    if (st && st != NNINIT_ERR_DIVERGED) {
        fprintf(stderr, "nninit train: %s\n", nninit_last_error());
        rc = cli_exit_status(st);
    } else {
        const char *err = st ? nninit_last_error() : NULL;
        /* the losses at init: the callback only sees steps 1.. */
        if (rep.n_points > 0) {
            explode_see_init(&ex, rep.points[0].train_loss);
            explode_see_init(&ex, rep.points[0].test_loss);
        }
        rc = cli_exit_status(st); /* NNINIT_ERR_DIVERGED: 1 */
        if (json) {
            if (print_json(stdout, atext, &o, matmul, data.n_train, no_eval ? 0 : data.n_test, &rep, &ex, err, arch,
                           inits) != 0) {
                fprintf(stderr, "nninit train: cannot write the JSON: %s\n", strerror(errno));
                rc = CLI_EXIT_FAIL;
            }
        } else {
            if (!st && !quiet)
                fprintf(stderr, "done: %ld steps in %.2f s (%.0f examples/s), final test accuracy %.2f%%\n", rep.steps,
                        rep.seconds, rep.seconds > 0 ? rep.steps * (double)o.batch / rep.seconds : 0.0,
                        100 * rep.final_test_acc);
            /* the library's message says NaN or infinite; a mean over
             * minibatches with one of them is that too */
            double dloss = err && strstr(err, "NaN") ? NAN : INFINITY;
            print_table(stdout, &rep, !no_eval, o.eval_train_at_init, data.n_train / o.batch, dloss);
            fflush(stdout);
            if (ex.step >= 0) {
                fprintf(stderr, "nninit train: exploding: loss %.5g at step %ld (> %g x ln %d = %.1f; chance is %.2f)",
                        ex.loss, ex.step, EXPLODE_FACTOR, nninit_net_output_size(net), ex.threshold,
                        ex.threshold / EXPLODE_FACTOR);
                if (ex.max_step != ex.step) fprintf(stderr, ", up to %.5g at step %ld", ex.max_loss, ex.max_step);
                if (ex.step == 0)
                    fprintf(stderr, ": the logits are huge at init; scale the weights down (a smaller std or gain)\n");
                else fprintf(stderr, ": the loss grew during training; lower --lr\n");
            }
        }
        if (err) fprintf(stderr, "nninit train: %s\n", err);
    }
    nninit_train_report_free(&rep);
    nninit_net_free(net);
    lab_data_free(&data);
    free(inits);
    free(arch);
    return rc;
}

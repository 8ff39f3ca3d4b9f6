/* cmd_lab.c -- `nninit lab`: run the registry of experiments, write the report. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "lab.h"
#include "opt.h"

int cmd_lab(int argc, char **argv);

static const char lab_usage[] =
    "usage: nninit lab [NAME ...] [--quick | --tiny] [options]\n"
    "\n"
    "Runs experiments that test published claims about initialization on Fashion-MNIST\n"
    "(Debian's dataset-fashion-mnist). Each states the claim and its source, a prediction,\n"
    "the measurement and a verdict computed from them: reproduced, not reproduced or\n"
    "inconclusive. Writes DIR/index.html (self-contained), DIR/results.md, DIR/results.json.\n"
    "Options take a value as --opt VALUE or --opt=VALUE, each at most once.\n"
    "\n"
    "  NAME ...             run only these experiments (see --list)\n"
    "  --quick              the whole suite on subsets (12000/2000; about 2 minutes)\n"
    "  --tiny               every code path on a tiny subset (seconds; a smoke test:\n"
    "                       verdicts are computed but the sizes are too small to mean much)\n"
    "  (default)            full sizes (60000/10000 images), 3 seeds\n"
    "  --out DIR            report directory (lab-report): new, empty, or a previous report,\n"
    "                       which is replaced whole at the end (never a mix of two runs);\n"
    "                       a file, a symlink or a directory with other files is refused\n"
    "  --seed N             seed of weights, subsets and order (0)\n"
    "  --seeds K            runs per experiment, seeds N .. N+K-1 (default 3 at full\n"
    "                       scale, 1 with --quick or --tiny; at most 16); each check is\n"
    "                       judged on the mean, its noise combined with the spread\n"
    "  --threads N          OpenBLAS threads (default: OpenBLAS's own choice)\n"
    "  --data DIR           Fashion-MNIST directory\n"
    "  --list               list the experiments and exit\n"
    "  --override-init S    replace the init an experiment's claim is about by S (for\n"
    "                       testing that a failing prediction is reported as failed)\n"
    "\n"
    "Exit status 0 when every experiment ran (whatever the verdicts), 1 when one could not\n"
    "run or the report could not be written, 2 for bad usage (--out refused included).\n";

/* The options (opt.h: "--opt value" or "--opt=value", each at most once);
 * the positionals are experiment names. */
enum {
    L_QUICK,
    L_TINY,
    L_FULL,
    L_LIST,
    L_OUT,
    L_SEED,
    L_THREADS,
    L_DATA,
    L_OVERRIDE,
    L_SEEDS
};
static const cli_opt lab_opts[] = {
    {"--quick", NULL, L_QUICK, CLI_OPT_FLAG},
    {"--tiny", NULL, L_TINY, CLI_OPT_FLAG},
    {"--full", NULL, L_FULL, CLI_OPT_FLAG},
    {"--list", NULL, L_LIST, CLI_OPT_FLAG},
    {"--out", NULL, L_OUT, CLI_OPT_VALUE},
    {"--seed", NULL, L_SEED, CLI_OPT_VALUE},
    {"--threads", NULL, L_THREADS, CLI_OPT_VALUE},
    {"--data", NULL, L_DATA, CLI_OPT_VALUE},
    {"--override-init", NULL, L_OVERRIDE, CLI_OPT_VALUE},
    {"--seeds", NULL, L_SEEDS, CLI_OPT_VALUE},
};

static void on_progress(void *user, const char *line) {
    (void)user;
    fprintf(stderr, "    %s\n", line);
}

int cmd_lab(int argc, char **argv) {
    const char *out = "lab-report", *data_dir = NULL, *override = NULL;
    lab_scale scale = LAB_FULL;
    int list = 0, threads = 0, n_seeds = 0;
    uint64_t seed = 0;
    int n_all;
    const lab_experiment *const *all = lab_experiments(&n_all);
    const lab_experiment **sel = calloc((size_t)n_all + 1, sizeof *sel);
    int n_sel = 0;
    if (!sel) return CLI_EXIT_FAIL;
    cli_opt_iter it;
    cli_opt_init(&it, "lab", lab_opts, (int)(sizeof lab_opts / sizeof lab_opts[0]), argc - 1, argv + 1);
    const char *v;
    for (int id; (id = cli_opt_next(&it, &v)) != CLI_OPT_DONE;) {
        long long n;
        int ok = 1;
        switch (id) {
        case CLI_OPT_HELP:
            fputs(lab_usage, stdout);
            free(sel);
            return CLI_EXIT_OK;
        case CLI_OPT_ERROR: free(sel); return CLI_EXIT_USAGE;
        case CLI_OPT_POSITIONAL: {
            const lab_experiment *e = lab_find(v);
            if (!e) {
                fprintf(stderr, "nninit lab: unknown experiment '%s' (see nninit lab --list)\n", v);
                free(sel);
                return CLI_EXIT_USAGE;
            }
            int dup = 0;
            for (int k = 0; k < n_sel; k++) dup |= sel[k] == e;
            if (!dup && n_sel < n_all) sel[n_sel++] = e;
            break;
        }
        case L_QUICK: scale = LAB_QUICK; break;
        case L_TINY: scale = LAB_TINY; break;
        case L_FULL: scale = LAB_FULL; break;
        case L_LIST: list = 1; break;
        case L_OUT: out = v; break;
        case L_DATA: data_dir = v; break;
        case L_OVERRIDE: override = v; break;
        case L_SEED: ok = !cli_parse_u64(v, &seed); break;
        case L_SEEDS:
            ok = !cli_parse_long(v, &n) && n >= 1 && n <= LAB_MAX_SEEDS;
            if (ok) n_seeds = (int)n;
            break;
        case L_THREADS:
            ok = !cli_parse_long(v, &n) && n >= 1 && n <= 1024;
            if (ok) threads = (int)n;
            break;
        }
        if (!ok) {
            fprintf(stderr, "nninit lab: bad option '%s %s' (see nninit lab --help)\n", cli_opt_name(&it), v);
            free(sel);
            return CLI_EXIT_USAGE;
        }
    }
    if (list) {
        for (int i = 0; i < n_all; i++) printf("%-16s %s\n", all[i]->name, all[i]->title);
        free(sel);
        return 0;
    }
    if (!n_sel)
        for (int i = 0; i < n_all; i++) sel[n_sel++] = all[i];
    nninit_spec probe_spec;
    if (override && nninit_spec_parse(override, &probe_spec)) {
        fprintf(stderr, "nninit lab: --override-init: %s\n", nninit_last_error());
        free(sel);
        return CLI_EXIT_USAGE;
    }

    /* the report's directory, checked and its staging sibling made before
     * minutes of training, not after (lab.h: the report is swapped in whole) */
    lab_report_dir rd;
    nninit_status st = lab_report_dir_begin(&rd, out);
    if (st) {
        fprintf(stderr, "nninit lab: --out: %s\n", lab_error());
        free(sel);
        return cli_exit_status(st);
    }
    double t0 = cli_seconds();
    int n_train = scale == LAB_TINY ? 2000 : scale == LAB_QUICK ? 12000 : 0;
    int n_test = scale == LAB_TINY ? 1000 : scale == LAB_QUICK ? 2000 : 0;
    lab_data data;
    st = lab_data_load(data_dir, n_train, n_test, seed, &data);
    if (st) {
        fprintf(stderr, "nninit lab: %s\n", lab_error());
        lab_report_dir_abort(&rd);
        free(sel);
        return cli_exit_status(st);
    }
    if (!n_seeds) n_seeds = scale == LAB_FULL ? 3 : 1;
    lab_ctx ctx = {scale, seed, &data, threads, override, on_progress, NULL, n_seeds};
    fprintf(stderr, "nninit lab (%s, seed %llu, %d seed%s): %d experiment%s, %d training and %d test examples\n",
            lab_scale_name(scale), (unsigned long long)seed, n_seeds, n_seeds == 1 ? "" : "s", n_sel,
            n_sel == 1 ? "" : "s", data.n_train, data.n_test);
    lab_result *res = calloc((size_t)n_sel, sizeof *res);
    if (!res) {
        fprintf(stderr, "nninit lab: out of memory\n");
        lab_report_dir_abort(&rd);
        lab_data_free(&data);
        free(sel);
        return CLI_EXIT_FAIL;
    }
    int failed = 0, counts[3] = {0, 0, 0};
    for (int i = 0; i < n_sel; i++) {
        fprintf(stderr, "[%d/%d] %s: %s\n", i + 1, n_sel, sel[i]->name, sel[i]->title);
        lab_run(sel[i], &ctx, &res[i]);
        counts[res[i].verdict]++;
        if (res[i].status) {
            failed = 1;
            fprintf(stderr, "[%d/%d] %s: could not run: %s\n", i + 1, n_sel, sel[i]->name, res[i].error);
        } else {
            fprintf(stderr, "[%d/%d] %s: %s (%.1f s)\n", i + 1, n_sel, sel[i]->name, lab_verdict_name(res[i].verdict),
                    res[i].seconds);
        }
    }
    double total = cli_seconds() - t0;
    st = lab_report_dir_write(&rd, res, n_sel, &ctx, total);
    if (st) lab_report_dir_abort(&rd);
    else st = lab_report_dir_commit(&rd);
    if (st) {
        fprintf(stderr, "nninit lab: %s\n", lab_error());
        failed = 1;
    } else {
        printf("%d reproduced, %d not reproduced, %d inconclusive in %.0f s (seed %llu)\n", counts[LAB_REPRODUCED],
               counts[LAB_NOT_REPRODUCED], counts[LAB_INCONCLUSIVE], total, (unsigned long long)seed);
        printf("report: %s/index.html (also results.md, results.json)\n", out);
    }
    for (int i = 0; i < n_sel; i++) lab_result_free(&res[i]);
    free(res);
    lab_data_free(&data);
    free(sel);
    return failed ? 1 : 0;
}

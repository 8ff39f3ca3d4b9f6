/* cmd_lab.c -- `nninit lab`: run the registry of experiments, write the report. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "lab.h"

int cmd_lab(int argc, char **argv);

static const char lab_usage[] =
    "usage: nninit lab [NAME ...] [--quick | --tiny] [options]\n"
    "\n"
    "Runs experiments that test published claims about initialization on Fashion-MNIST\n"
    "(Debian's dataset-fashion-mnist). Each states the claim and its source, a prediction,\n"
    "the measurement and a verdict computed from them: reproduced, not reproduced or\n"
    "inconclusive. Writes DIR/index.html (self-contained), DIR/results.md, DIR/results.json.\n"
    "\n"
    "  NAME ...             run only these experiments (see --list)\n"
    "  --quick              the whole suite on subsets (12000/2000; about 2 minutes)\n"
    "  --tiny               every code path on a tiny subset (seconds; a smoke test:\n"
    "                       verdicts are computed but the sizes are too small to mean much)\n"
    "  (default)            full sizes (60000/10000 images; about 11 minutes on 2 cores)\n"
    "  --out DIR            report directory (lab-report)\n"
    "  --seed N             seed of weights, subsets and order (0)\n"
    "  --threads N          OpenBLAS threads (default: OpenBLAS's own choice)\n"
    "  --data DIR           Fashion-MNIST directory\n"
    "  --list               list the experiments and exit\n"
    "  --override-init S    replace the init an experiment's claim is about by S (for\n"
    "                       testing that a failing prediction is reported as failed)\n"
    "\n"
    "Exit status 0 when every experiment ran (whatever the verdicts), 1 when one could not\n"
    "run or the report could not be written, 2 for bad usage.\n";

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void on_progress(void *user, const char *line) {
    (void)user;
    fprintf(stderr, "    %s\n", line);
}

/* --out: an existing directory, or one whose nearest existing ancestor is a
 * directory we may write in (the report makes the missing ones). */
static int check_out_dir(const char *out) {
    struct stat st;
    if (lstat(out, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return 0;
        fprintf(stderr, "nninit lab: --out '%s' exists and is not a directory\n", out);
        return -1;
    }
    char *p = strdup(out);
    if (!p) return -1;
    for (;;) {
        char *slash = strrchr(p, '/');
        if (!slash) { strcpy(p, "."); break; }
        if (slash == p) { p[1] = '\0'; break; }
        *slash = '\0';
        if (lstat(p, &st) == 0) break;
    }
    int ok = lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && access(p, W_OK | X_OK) == 0;
    if (!ok)
        fprintf(stderr, "nninit lab: --out '%s': cannot create it in '%s': %s\n", out, p,
                errno ? strerror(errno) : "not a directory");
    free(p);
    return ok ? 0 : -1;
}

int cmd_lab(int argc, char **argv) {
    const char *out = "lab-report", *data_dir = NULL, *override = NULL;
    lab_scale scale = LAB_FULL;
    int list = 0, threads = 0;
    uint64_t seed = 0;
    int n_all;
    const lab_experiment *const *all = lab_experiments(&n_all);
    const lab_experiment **sel = calloc((size_t)n_all + 1, sizeof *sel);
    int n_sel = 0;
    if (!sel) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(lab_usage, stdout); free(sel); return 0; }
        if (!strcmp(a, "--quick")) { scale = LAB_QUICK; continue; }
        if (!strcmp(a, "--tiny")) { scale = LAB_TINY; continue; }
        if (!strcmp(a, "--full")) { scale = LAB_FULL; continue; }
        if (!strcmp(a, "--list")) { list = 1; continue; }
        if (a[0] != '-') {
            const lab_experiment *e = lab_find(a);
            if (!e) {
                fprintf(stderr, "nninit lab: unknown experiment '%s' (see nninit lab --list)\n", a);
                free(sel);
                return 2;
            }
            int dup = 0;
            for (int k = 0; k < n_sel; k++) dup |= sel[k] == e;
            if (!dup && n_sel < n_all) sel[n_sel++] = e;
            continue;
        }
        if (!v) {
            fprintf(stderr, "nninit lab: option '%s' needs a value (see nninit lab --help)\n", a);
            free(sel);
            return 2;
        }
        i++;
        if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--data")) data_dir = v;
        else if (!strcmp(a, "--override-init")) override = v;
        else if (!strcmp(a, "--seed") && !cli_parse_u64(v, &seed)) {}
        else if (!strcmp(a, "--threads") && !cli_parse_long(v, &n) && n >= 1 && n <= 1024) threads = (int)n;
        else {
            fprintf(stderr, "nninit lab: bad option '%s %s' (see nninit lab --help)\n", a, v);
            free(sel);
            return 2;
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
        return 2;
    }

    /* the report's directory, checked before minutes of training, not after */
    if (check_out_dir(out)) {
        free(sel);
        return 1;
    }
    double t0 = now();
    int n_train = scale == LAB_TINY ? 2000 : scale == LAB_QUICK ? 12000 : 0;
    int n_test = scale == LAB_TINY ? 1000 : scale == LAB_QUICK ? 2000 : 0;
    lab_data data;
    nninit_status st = lab_data_load(data_dir, n_train, n_test, seed, &data);
    if (st) {
        fprintf(stderr, "nninit lab: %s\n", lab_error());
        free(sel);
        return st == NNINIT_ERR_IO || st == NNINIT_ERR_NOMEM ? 1 : 2;
    }
    lab_ctx ctx = {scale, seed, &data, threads, override, on_progress, NULL};
    fprintf(stderr, "nninit lab (%s): %d experiment%s, %d training and %d test examples\n", lab_scale_name(scale),
            n_sel, n_sel == 1 ? "" : "s", data.n_train, data.n_test);
    lab_result *res = calloc((size_t)n_sel, sizeof *res);
    if (!res) {
        lab_data_free(&data);
        free(sel);
        return 1;
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
    double total = now() - t0;
    st = lab_write_report(out, res, n_sel, &ctx, total);
    if (st) {
        fprintf(stderr, "nninit lab: %s\n", lab_error());
        failed = 1;
    } else {
        printf("%d reproduced, %d not reproduced, %d inconclusive in %.0f s\n", counts[LAB_REPRODUCED],
               counts[LAB_NOT_REPRODUCED], counts[LAB_INCONCLUSIVE], total);
        printf("report: %s/index.html (also results.md, results.json)\n", out);
    }
    for (int i = 0; i < n_sel; i++) lab_result_free(&res[i]);
    free(res);
    lab_data_free(&data);
    free(sel);
    return failed ? 1 : 0;
}

/*
 * test_lab_report.c -- the lab's report files from hand-built results: one
 * experiment of each verdict, a diverged curve with NaN points, a plot with
 * a dashed prediction and a probe report with histograms; the report
 * directory swapped in whole and the temporaries of killed writers removed;
 * the probe's HTML section (probe_html.h) on its own.
 * No data set, no browser. LAB_REPORT_KEEP=DIR keeps the report in DIR (to look at it).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "common.h"
#include "lab.h"
#include "probe_html.h"


/* ---- fixtures ------------------------------------------------------------------ */

static const lab_experiment exp_zero = {"zero-init", "Zero init: the symmetry problem",
                                        "Initializing every weight to zero makes hidden units identical. They stay "
                                        "identical under gradient descent.",
                                        "Goodfellow et al. 2016, Deep Learning, section 8.4", NULL};
static const lab_experiment exp_small = {
    "small-random", "Small random init vanishes",
    "With N(0, 0.01^2) weights the activations of a deep tanh net vanish with depth.", "Glorot & Bengio 2010", NULL};
static const lab_experiment exp_lsuv = {"lsuv", "LSUV <matches> orthogonal & \"He\"",
                                        "LSUV reaches unit variance in every layer within a few iterations.",
                                        "Mishkin & Matas 2016", NULL};

#define NPTS    6
#define NLAYERS 4

typedef struct {
    lab_result res[3];
    nninit_train_point pts[3][NPTS];
    double px[5], py_meas[5], py_pred[5], py_wild[5];
    nninit_probe_layer *layers;
    lab_ctx ctx;
} fixture;

static void add_check(lab_result *r, const char *name, const char *pred, double measured, lab_op op, double thr,
                      double noise, const char *unit, lab_verdict v) {
    lab_check_t *c = &r->checks[r->n_checks++];
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->prediction, sizeof c->prediction, "%s", pred);
    c->measured = measured;
    c->op = op;
    c->threshold = thr;
    c->noise = noise;
    snprintf(c->unit, sizeof c->unit, "%s", unit);
    c->verdict = v;
}

static fixture *make_fixture(void) {
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->ctx = (lab_ctx){.scale = LAB_TINY, .seed = 18446744073709551557ull, .threads = 2};

    /* 1: reproduced, two training curves (one diverged with NaN points) and a plot. */
    lab_result *a = &fx->res[0];
    a->exp = &exp_zero;
    snprintf(a->setup, sizeof a->setup, "784 -> [dense 64 tanh] x2 -> dense 10, SGD lr 0.1, 2 epochs on 1000 images");
    snprintf(a->notes, sizeof a->notes, "All 64 units equal after training.");
    add_check(a, "hidden units identical after training (tanh)", "distinct units = 1", 1, LAB_EQ, 1, 0, "",
              LAB_REPRODUCED);
    add_check(a, "accuracy stays near chance", "test accuracy < 20%", 10.2, LAB_LT, 20, 1.5, "%", LAB_REPRODUCED);
    a->verdict = LAB_REPRODUCED;
    a->seconds = 1.25;
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < NPTS; k++) {
            nninit_train_point *p = &fx->pts[c][k];
            p->step = 10 * k;
            p->epoch = 0.5 * k;
            p->seconds = 0.1 * k;
            p->train_loss = k == 0 ? NAN : 2.3 / (1 + k) * (c + 1);
            p->test_loss = 2.3 / (1 + k);
            p->test_acc = 0.1 + 0.12 * k;
        }
    /* the diverged run: the loss blows up, then NaN */
    fx->pts[1][3].train_loss = 1e4;
    fx->pts[1][4].train_loss = fx->pts[1][5].train_loss = NAN;
    fx->pts[1][4].test_acc = fx->pts[1][5].test_acc = NAN;
    fx->pts[1][5].test_loss = INFINITY;
    a->n_curves = 2;
    snprintf(a->curves[0].label, sizeof a->curves[0].label, "xavier_normal, 2 layers");
    a->curves[0].n = NPTS;
    a->curves[0].points = fx->pts[0];
    snprintf(a->curves[1].label, sizeof a->curves[1].label, "normal(std=3), 2 layers");
    a->curves[1].n = NPTS;
    a->curves[1].points = fx->pts[1];
    a->curves[1].diverged = 1;
    a->curves[1].diverged_step = 37;
    for (int k = 0; k < 5; k++) {
        fx->px[k] = k + 1;
        fx->py_meas[k] = pow(0.5, k);
        fx->py_pred[k] = k == 2 ? 0 : pow(0.55, k); /* a zero: skipped on the log axis */
    }
    a->n_plots = 2;
    lab_plot *pl = &a->plots[0];
    snprintf(pl->title, sizeof pl->title, "q^l by depth");
    snprintf(pl->xlabel, sizeof pl->xlabel, "layer");
    snprintf(pl->ylabel, sizeof pl->ylabel, "q");
    pl->logy = 1;
    pl->n_series = 2;
    pl->series[0] = (lab_series){"measured", 5, fx->px, fx->py_meas, 0};
    pl->series[1] = (lab_series){"mean field", 5, fx->px, fx->py_pred, 1};
    /* a plot no axis can hold: a span beyond DBL_MAX, inf, NaN */
    double wild[5] = {-1e308, 1e308, INFINITY, NAN, -INFINITY};
    memcpy(fx->py_wild, wild, sizeof wild);
    pl = &a->plots[1];
    snprintf(pl->title, sizeof pl->title, "wild");
    pl->n_series = 1;
    pl->series[0] = (lab_series){"wild", 5, fx->px, fx->py_wild, 0};

    /* 2: not reproduced, with a probe report; notes full of characters to escape. */
    lab_result *b = &fx->res[1];
    b->exp = &exp_small;
    snprintf(b->setup, sizeof b->setup, "784 -> [dense 32 tanh] x4 -> dense 10, normal(std=0.01)");
    snprintf(b->notes, sizeof b->notes, "<script>alert(1)</script> a | b & \"c\"");
    add_check(b, "activation std at layer 4 < 1e-3 of layer 1", "ratio < 0.001", 0.02, LAB_LT, 0.001, 0, "x",
              LAB_NOT_REPRODUCED);
    add_check(b, "loss at init near log 10", "loss ~ 2.30", 2.3026, LAB_LE, 2.4, 0.01, "", LAB_REPRODUCED);
    b->verdict = LAB_NOT_REPRODUCED;
    b->seconds = 0.5;
    fx->layers = calloc(NLAYERS, sizeof *fx->layers);
    assert_non_null(fx->layers);
    for (int l = 0; l < NLAYERS; l++) {
        nninit_probe_layer *y = &fx->layers[l];
        y->index = l;
        y->kind = NNINIT_LAYER_DENSE;
        y->act = l == NLAYERS - 1 ? NNINIT_ACT_IDENTITY : NNINIT_ACT_TANH;
        y->width = l == NLAYERS - 1 ? 10 : 32;
        y->post_std = 0.5 * pow(0.1, l);
        y->grad_std = 1e-3 * pow(0.3, l);
        y->q_meas = 0.3 * pow(0.01, l);
        y->q_pred = l == 0 ? NAN : 0.3 * pow(0.011, l);
        y->saturated = 0;
        y->dead = 0;
        y->hist_lo = -y->post_std * 3;
        y->hist_hi = y->post_std * 3;
        y->grad_hist_lo = -y->grad_std * 3;
        y->grad_hist_hi = y->grad_std * 3;
        for (int k = 0; k < 20; k++) { /* 20 bins with data, the rest unused */
            double z = (k - 9.5) / 4;
            y->hist[k] = exp(-z * z / 2) / 8;
            y->grad_hist[k] = exp(-fabs(z)) / 6;
            /* on the shared ranges (layer 1's): N(0, std^2) per bin, a spike by layer 3 */
            double e0 = -1.5 + 0.15 * k, e1 = e0 + 0.15, s = y->post_std * sqrt(2);
            y->shist[k] = 0.5 * (erf(e1 / s) - erf(e0 / s));
            double g0 = 3e-3 * (-1 + 0.1 * k), g1 = g0 + 3e-4, gs = y->grad_std * sqrt(2);
            y->grad_shist[k] = 0.5 * (erf(g1 / gs) - erf(g0 / gs));
        }
    }
    b->n_probes = 1;
    snprintf(b->probe_label[0], sizeof b->probe_label[0], "normal(std=0.01), tanh");
    nninit_probe_report *pr = &b->probes[0];
    pr->n_layers = NLAYERS;
    pr->layers = fx->layers;
    pr->hist_shared_lo = -1.5, pr->hist_shared_hi = 1.5; /* layer 1's range */
    pr->grad_shared_lo = -3e-3, pr->grad_shared_hi = 3e-3;
    pr->n_findings = 1;
    pr->findings[0].kind = NNINIT_FINDING_VANISHING;
    pr->findings[0].layer = 3;
    snprintf(pr->findings[0].text, sizeof pr->findings[0].text, "layer 4 activation std is 1e-3 of layer 1");
    snprintf(pr->findings[0].advice, sizeof pr->findings[0].advice, "use xavier_normal for tanh");
    pr->loss = 2.3026;
    pr->mean_field = 1;
    pr->sw2 = 1e-4 * 784;
    pr->qstar = 0;
    pr->chi1 = 0.08;

    /* 3: inconclusive, with a NaN measurement, and stopped by an error. */
    lab_result *c = &fx->res[2];
    c->exp = &exp_lsuv;
    snprintf(c->setup, sizeof c->setup, "orthogonal + LSUV on 8 tanh layers");
    add_check(c, "variance within 5% of 1", "|Var - 1| <= 0.05", 0.051, LAB_LE, 0.05, 0.002, "", LAB_INCONCLUSIVE);
    add_check(c, "iterations", "iterations <= 5", NAN, LAB_LE, 5, 0, "", LAB_INCONCLUSIVE);
    c->verdict = LAB_INCONCLUSIVE;
    c->seconds = 0.25;
    c->status = NNINIT_ERR_DIVERGED;
    snprintf(c->error, sizeof c->error, "diverged at step 12");
    return fx;
}

static void free_fixture(fixture *fx) {
    free(fx->layers);
    free(fx);
}

/* ---- files ---------------------------------------------------------------------- */

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n] = '\0';
    fclose(f);
    return buf;
}

static char *path_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int count_entries(const char *dir, const char *containing) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && (!containing || strstr(e->d_name, containing))) n++;
    closedir(d);
    return n;
}

static void remove_tree(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0) return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *p = path_join(path, e->d_name);
            remove_tree(p);
            free(p);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int count_str(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* A fresh scratch directory (removed by the test). */
static char *scratch(void) {
    char *d = strdup("/tmp/nninit_lab_report_XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

/* ---- the report ------------------------------------------------------------------- */

static void check_json(const char *text) {
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(j, "meta");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(meta, "scale")->valuestring, "tiny");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(meta, "experiments")->valueint, 3);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(meta, "threads")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(meta, "errors")->valueint, 1);
    assert_true(cJSON_GetObjectItemCaseSensitive(meta, "total_seconds")->valuedouble == 2.0);
    const cJSON *vc = cJSON_GetObjectItemCaseSensitive(meta, "verdicts");
    for (int v = 0; v < 3; v++)
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(vc, lab_verdict_name(v))->valueint, 1);
    assert_non_null(strstr(text, "18446744073709551557")); /* the seed, exact */

    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(j, "experiments");
    assert_int_equal(cJSON_GetArraySize(ex), 3);
    static const char *names[] = {"zero-init", "small-random", "lsuv"};
    for (int i = 0; i < 3; i++) {
        const cJSON *e = cJSON_GetArrayItem(ex, i);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring, names[i]);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "verdict")->valuestring, lab_verdict_name(i));
        assert_non_null(cJSON_GetObjectItemCaseSensitive(e, "claim")->valuestring);
        assert_non_null(cJSON_GetObjectItemCaseSensitive(e, "source")->valuestring);
    }
    const cJSON *e0 = cJSON_GetArrayItem(ex, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(e0, "status")->valuestring, "NNINIT_OK");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e0, "error")));
    const cJSON *ck = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e0, "checks"), 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(ck, "op")->valuestring, "<");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(ck, "unit")->valuestring, "%");
    assert_true(cJSON_GetObjectItemCaseSensitive(ck, "noise")->valuedouble == 1.5);
    assert_true(cJSON_GetObjectItemCaseSensitive(ck, "measured")->valuedouble == 10.2);

    const cJSON *curves = cJSON_GetObjectItemCaseSensitive(e0, "curves");
    assert_int_equal(cJSON_GetArraySize(curves), 2);
    const cJSON *c0 = cJSON_GetArrayItem(curves, 0), *c1 = cJSON_GetArrayItem(curves, 1);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c0, "diverged")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c0, "diverged_step")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c1, "diverged")));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(c1, "diverged_step")->valueint, 37);
    const cJSON *pts = cJSON_GetObjectItemCaseSensitive(c1, "points");
    assert_int_equal(cJSON_GetArraySize(pts), NPTS);
    const cJSON *p0 = cJSON_GetArrayItem(pts, 0), *p3 = cJSON_GetArrayItem(pts, 3), *p5 = cJSON_GetArrayItem(pts, 5);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p0, "train_loss"))); /* NaN */
    assert_true(cJSON_GetObjectItemCaseSensitive(p3, "train_loss")->valuedouble == 1e4);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p5, "test_acc")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p5, "test_loss"))); /* inf */
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(p5, "step")->valueint, 50);
    assert_true(cJSON_GetObjectItemCaseSensitive(p5, "epoch")->valuedouble == 2.5);

    const cJSON *plot = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e0, "plots"), 0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(plot, "logy")));
    const cJSON *s1 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(plot, "series"), 1);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s1, "dashed")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s1, "y")), 5);
    assert_true(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(s1, "y"), 2)->valuedouble == 0);

    const cJSON *e1 = cJSON_GetArrayItem(ex, 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(e1, "notes")->valuestring,
                        "<script>alert(1)</script> a | b & \"c\"");
    const cJSON *probe = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e1, "probes"), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(probe, "label")->valuestring, "normal(std=0.01), tanh");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(probe, "layers");
    assert_int_equal(cJSON_GetArraySize(layers), NLAYERS);
    const cJSON *l0 = cJSON_GetArrayItem(layers, 0), *l3 = cJSON_GetArrayItem(layers, 3);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(l0, "q_pred")));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(l3, "index")->valueint, 3);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(l3, "width")->valueint, 10);
    assert_true(cJSON_GetObjectItemCaseSensitive(l3, "post_std")->valuedouble == 0.5 * pow(0.1, 3));
    for (const char *k = "index\0width\0post_std\0grad_std\0saturated\0dead\0q_meas\0q_pred\0"; *k; k += strlen(k) + 1)
        assert_non_null(cJSON_GetObjectItemCaseSensitive(l0, k));
    assert_null(cJSON_GetObjectItemCaseSensitive(l0, "hist")); /* kept out: small JSON */
    const cJSON *fnd = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(probe, "findings"), 0);
    assert_non_null(strstr(fnd->valuestring, "layer 4 activation std"));
    assert_non_null(strstr(fnd->valuestring, "xavier_normal"));

    const cJSON *e2 = cJSON_GetArrayItem(ex, 2);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(e2, "status")->valuestring, "NNINIT_ERR_DIVERGED");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(e2, "error")->valuestring, "diverged at step 12");
    const cJSON *nan_check = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e2, "checks"), 1);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(nan_check, "measured")));
    cJSON_Delete(j);
}

static void check_md(const char *md) {
    assert_non_null(strstr(md, "# nninit lab"));
    assert_non_null(strstr(md, "`nninit lab --tiny`"));
    assert_non_null(strstr(md, "| experiment | claim | verdict | time |"));
    /* summary rows: short claim = the first sentence */
    assert_non_null(strstr(md, "| [zero-init](#zero-init) | Initializing every weight to zero makes hidden units "
                               "identical. | reproduced | 1.2 s |"));
    assert_non_null(strstr(md, "| [small-random](#small-random) |"));
    assert_non_null(strstr(md, "| not reproduced | 0.5 s |"));
    assert_non_null(strstr(md, "| inconclusive (error) | 0.2 s |"));
    /* per experiment: claim + source, setup, checks table, notes */
    assert_non_null(strstr(md, "**Source.** Goodfellow et al. 2016"));
    assert_non_null(strstr(md, "**Setup.** 784 -> [dense 64 tanh] x2"));
    assert_non_null(strstr(md, "| check | prediction | measured | verdict |"));
    assert_non_null(strstr(md, "| accuracy stays near chance | test accuracy < 20% (test: < 20 &plusmn; 1.5) | 10.2% | "
                               "reproduced |"));
    assert_non_null(strstr(md, "| iterations | iterations <= 5 (test: <= 5) | NaN | inconclusive |"));
    assert_non_null(strstr(md, "**Notes.** All 64 units equal"));
    assert_non_null(strstr(md, "- xavier_normal, 2 layers: test accuracy 0.7 at epoch 2.5\n"));
    assert_non_null(strstr(md, "- normal(std=3), 2 layers: test accuracy NaN at epoch 2.5 (diverged at step 37)\n"));
    assert_non_null(strstr(md, "**Error.** NNINIT_ERR_DIVERGED: diverged at step 12"));
}

/* The tick labels of the k-th histogram of series ("activation",
 * "gradient"), joined with '|', its data-axis and its number of bars; 0 if
 * there is none. */
static int hist_ticks(const char *h, const char *series, int k, char *out, size_t cap, char axis[16], int *bars) {
    char key[64];
    snprintf(key, sizeof key, "data-series=\"%s\"", series);
    const char *p = h;
    for (int i = 0; i <= k; i++) {
        p = strstr(p, key);
        if (!p) return 0;
        p += strlen(key);
    }
    const char *end = strstr(p, "</svg>"), *ax = strstr(p, "data-axis=\"");
    assert_non_null(end);
    assert_non_null(ax);
    snprintf(axis, 16, "%.*s", (int)strcspn(ax + 11, "\""), ax + 11);
    size_t n = 0;
    out[0] = '\0';
    *bars = 0;
    for (const char *b = strstr(p, "class=\"bar\""); b && b < end; b = strstr(b + 1, "class=\"bar\"")) ++*bars;
    for (const char *t = strstr(p, "class=\"tick\""); t && t < end; t = strstr(t + 1, "class=\"tick\"")) {
        const char *v = strchr(t, '>') + 1;
        int len = (int)strcspn(v, "<");
        n += (size_t)snprintf(out + n, cap - n, "%.*s|", len, v);
        assert_true(n < cap);
    }
    return 1;
}

/* Every histogram of a series on the shared axis: the same tick labels, 0
 * among them; the deepest layer's mass in one or two bins. */
static void check_shared_hists(const char *h, const char *series) {
    char first[256], cur[256], axis[16];
    int bars;
    assert_true(hist_ticks(h, series, 0, first, sizeof first, axis, &bars));
    assert_true(bars > 5);
    assert_string_equal(axis, "shared");
    assert_non_null(strstr(first, "|0|"));
    for (int k = 1; k < NLAYERS; k++) {
        assert_true(hist_ticks(h, series, k, cur, sizeof cur, axis, &bars));
        assert_string_equal(axis, "shared");
        assert_string_equal(cur, first);
    }
    assert_in_range(bars, 1, 2); /* the deepest layer: a spike */
    assert_false(hist_ticks(h, series, NLAYERS, cur, sizeof cur, axis, &bars));
}

static void check_html(const char *h) {
    assert_true(strncmp(h, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(h, "<title>nninit lab</title>"));
    assert_non_null(strstr(h, "<table id=\"claims\">"));
    assert_int_equal(count_str(h, "<tr class=\"verdict-"), 3);
    assert_int_equal(count_str(h, "<tr class=\"verdict-reproduced\">"), 1);
    assert_int_equal(count_str(h, "<tr class=\"verdict-not-reproduced\">"), 1);
    assert_int_equal(count_str(h, "<tr class=\"verdict-inconclusive\">"), 1);
    assert_non_null(strstr(h, "#1a7f37"));
    assert_non_null(strstr(h, "#cf222e"));
    assert_non_null(strstr(h, "#bf8700"));
    /* 2 curve charts + 2 plots + the probe's section (probe_html.h): 3 depth
     * charts (std, q^l, c^l) + 4 layers x 2 histograms */
    assert_int_equal(count_str(h, "<svg class=\"plot\""), 2 + 2 + 3 + 2 * NLAYERS);
    assert_non_null(strstr(h, "no finite data")); /* the wild plot */
    assert_int_equal(count_str(h, "data-kind=\"hist\""), 2 * NLAYERS);
    assert_int_equal(count_str(h, "data-axis=\"shared\""), 2 * NLAYERS); /* one x-axis per network */
    assert_int_equal(count_str(h, "data-bins=\"20\""), 2 * NLAYERS);     /* recovered: probe_bins[0] is 0 */
    /* the section as on `nninit probe --html`: findings, the layer table (folded) */
    assert_int_equal(count_str(h, "<div class=\"probe\">"), 1);
    assert_non_null(strstr(h, "<h3>Probe: normal(std=0.01), tanh</h3>"));
    assert_non_null(strstr(h, "<h4>Findings</h4>\n<div class=\"finding\"><b>layer 4 activation std"));
    assert_non_null(strstr(h, "<details><summary>Layers: the table (4 rows)</summary>\n<table class=\"layers\">"));
    assert_non_null(strstr(h, "<td>&ndash;</td>")); /* layer 1's q pred: NaN, not "nan" */
    assert_non_null(strstr(h, "Pre-activation second moment q^l"));
    assert_non_null(strstr(h, "Correlation of two inputs c^l"));
    check_shared_hists(h, "activation");
    check_shared_hists(h, "gradient");
    /* the std chart: a log axis ticked at powers of ten, a swatch per line */
    assert_non_null(strstr(h, "data-scale=\"log\""));
    assert_non_null(strstr(h, "data-dim=\"y\">1e-4<"));
    assert_null(strstr(h, "data-dim=\"y\">1e-3.")); /* never a fractional exponent */
    assert_true(count_str(h, "class=\"swatch\"") >= 2 + 2 + 2);
    for (int i = 0; i < 3; i++) {
        static const char *ids[] = {"id=\"exp-zero-init\"", "id=\"exp-small-random\"", "id=\"exp-lsuv\""};
        assert_non_null(strstr(h, ids[i]));
    }
    assert_non_null(strstr(h, "diverged at step 37"));
    assert_non_null(strstr(h, "class=\"diverged\""));
    assert_non_null(strstr(h, "stroke-dasharray"));                             /* the dashed prediction */
    assert_non_null(strstr(h, "1 value \xe2\x89\xa4 0 not shown (log scale)")); /* its zero, on a log axis */
    assert_non_null(strstr(h, "Goodfellow et al. 2016"));
    assert_non_null(strstr(h, "layer 4 activation std is 1e-3 of layer 1"));
    /* self-contained and escaped */
    assert_null(strstr(h, "http://"));
    assert_null(strstr(h, "https://"));
    assert_null(strstr(h, "<script"));
    assert_null(strstr(h, "<link"));
    assert_non_null(strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt; a | b &amp; &quot;c&quot;"));
    assert_non_null(strstr(h, "LSUV &lt;matches&gt; orthogonal &amp; &quot;He&quot;"));
    /* no NaN leaks into SVG coordinates */
    assert_null(strstr(h, "nan"));
    assert_null(strstr(h, "inf "));
}

static void test_report_files(void **state) {
    (void)state;
    fixture *fx = make_fixture();
    const char *keep = getenv("LAB_REPORT_KEEP");
    char *base = keep && *keep ? strdup(keep) : scratch();
    assert_non_null(base);
    char *dir = path_join(base, "report/sub"); /* two missing levels */
    remove_tree(dir);
    assert_int_equal(lab_write_report(dir, fx->res, 3, &fx->ctx, 2.0), NNINIT_OK);
    assert_int_equal(count_entries(dir, NULL), 4); /* and the marker */
    assert_int_equal(count_entries(dir, ".nninit-tmp."), 0);

    char *pj = path_join(dir, "results.json"), *pm = path_join(dir, "results.md"), *ph = path_join(dir, "index.html");
    char *json = slurp(pj), *md = slurp(pm), *html = slurp(ph);
    assert_non_null(json);
    assert_non_null(md);
    assert_non_null(html);
    check_json(json);
    check_md(md);
    check_html(html);
    struct stat sb;
    assert_int_equal(stat(ph, &sb), 0);
    assert_int_equal(sb.st_mode & 0644, 0644); /* readable, not mkstemp's 0600 */

    /* Again over the existing files: replaced, still nothing left over. */
    fx->res[0].seconds = 9.5;
    assert_int_equal(lab_write_report(dir, fx->res, 3, &fx->ctx, 3.0), NNINIT_OK);
    char *md2 = slurp(pm);
    assert_non_null(strstr(md2, "| reproduced | 9.5 s |"));
    assert_int_equal(count_entries(dir, NULL), 4);

    free(md2);
    free(json);
    free(md);
    free(html);
    free(pj);
    free(pm);
    free(ph);
    if (!(keep && *keep)) remove_tree(base);
    free(dir);
    free(base);
    free_fixture(fx);
}

/* The section on its own (probe_html.h): a report of 20 layers with at
 * most 12 histograms, then one without layers. */
static char *section(const nninit_probe_report *r, const cli_probe_section_opts *o) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    cli_probe_section(f, r, o);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_probe_section(void **state) {
    (void)state;
    enum {
        L = 20
    };
    nninit_probe_layer *ys = calloc(L, sizeof *ys);
    assert_non_null(ys);
    for (int l = 0; l < L; l++) {
        ys[l].index = l;
        ys[l].width = 16;
        ys[l].act = NNINIT_ACT_RELU;
        ys[l].post_std = ys[l].grad_std = ys[l].q_meas = 1;
        ys[l].q_pred = l == 3 ? NAN : 1;
        ys[l].hist_lo = ys[l].grad_hist_lo = -1;
        ys[l].hist_hi = ys[l].grad_hist_hi = 1;
        ys[l].hist[0] = ys[l].grad_hist[0] = ys[l].hist[7] = ys[l].grad_hist[7] = 0.5;
    }
    ys[L - 1].grad_std = NAN; /* no gradient histogram */
    nninit_probe_report r = {0};
    r.n_layers = L;
    r.layers = ys;
    r.hist_shared_lo = r.grad_shared_lo = NAN; /* no shared range: each on its own */
    r.loss = NAN;
    cli_probe_section_opts o = {3, NULL, 8, 12, 0, CLI_PROBE_TABLE_SHOWN};
    char *h = section(&r, &o);
    assert_non_null(strstr(h, "<p class=\"note\">20 layers &middot; loss at init NaN</p>"));
    assert_null(strstr(h, "nan"));
    assert_null(strstr(h, "<h3>Findings</h3>")); /* none */
    assert_non_null(strstr(h, "<h3>By depth</h3>"));
    assert_non_null(strstr(h, "<h3>Layers</h3>\n<table class=\"layers\">"));
    assert_int_equal(count_str(h, "<tr><td>"), L);
    assert_int_equal(count_str(h, "data-kind=\"chart\""), 3);
    assert_non_null(strstr(h, "12 of the 20 layers, evenly spaced"));
    assert_non_null(strstr(h, "Each layer on its own x-axis (the report has no range for the whole network)"));
    assert_int_equal(count_str(h, "data-bins=\"8\""), 12 + 11);
    assert_int_equal(count_str(h, "data-axis=\"layer\""), 12 + 11);
    /* layers 1..20 picked evenly, the first and the last among them */
    static const int want[12] = {1, 3, 4, 6, 8, 10, 11, 13, 15, 17, 18, 20};
    const char *p = h;
    for (int k = 0; k < 12; k++) {
        p = strstr(p, "data-series=\"activation\" data-layer=\"");
        assert_non_null(p);
        p += strlen("data-series=\"activation\" data-layer=\"");
        assert_int_equal(atoi(p), want[k]);
    }
    assert_null(strstr(h, "data-series=\"gradient\" data-layer=\"20\""));
    free(h);

    o = (cli_probe_section_opts){2, "Probe: <none>", 8, 0, 0, CLI_PROBE_TABLE_NONE};
    r.layers = NULL;
    r.n_findings = 1;
    r.findings[0].kind = NNINIT_FINDING_HEALTHY;
    snprintf(r.findings[0].text, sizeof r.findings[0].text, "healthy");
    h = section(&r, &o);
    assert_non_null(strstr(h, "<h1>Probe: &lt;none&gt;</h1>"));
    assert_non_null(strstr(h, "<div class=\"finding healthy\"><b>healthy</b></div>"));
    assert_null(strstr(h, "<svg"));
    assert_null(strstr(h, "<table"));
    free(h);
    free(ys);
}

static void test_empty_and_no_ctx(void **state) {
    (void)state;
    char *base = scratch();
    assert_int_equal(lab_write_report(base, NULL, 0, NULL, 0.0), NNINIT_OK);
    char *pj = path_join(base, "results.json"), *ph = path_join(base, "index.html");
    char *json = slurp(pj), *html = slurp(ph);
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(j, "meta");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(meta, "scale")));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(meta, "experiments")->valueint, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "experiments")), 0);
    assert_non_null(strstr(html, "<table id=\"claims\">"));
    cJSON_Delete(j);
    free(json);
    free(html);
    free(pj);
    free(ph);
    remove_tree(base);
    free(base);
}

static void test_unwritable(void **state) {
    (void)state;
    fixture *fx = make_fixture();
    char *base = scratch();
    char *file = path_join(base, "file");
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("not a directory\n", f);
    fclose(f);

    /* a directory under a regular file */
    char *dir = path_join(file, "report");
    lab_set_error("-");
    assert_int_equal(lab_write_report(dir, fx->res, 3, &fx->ctx, 1.0), NNINIT_ERR_IO);
    assert_non_null(strstr(lab_error(), dir));
    assert_non_null(strstr(lab_error(), "Not a directory"));
    /* the report directory is the regular file itself: not ours to replace */
    assert_int_equal(lab_write_report(file, fx->res, 3, &fx->ctx, 1.0), NNINIT_ERR_PARAM);
    assert_non_null(strstr(lab_error(), file));

    /* each writer: temporary file impossible */
    char *pj = path_join(file, "results.json");
    assert_int_equal(lab_write_json(pj, fx->res, 3, &fx->ctx, 1.0), NNINIT_ERR_IO);
    assert_non_null(strstr(lab_error(), pj));
    assert_int_equal(lab_write_md(pj, fx->res, 3, &fx->ctx, 1.0), NNINIT_ERR_IO);
    assert_int_equal(lab_write_html(pj, fx->res, 3, &fx->ctx, 1.0), NNINIT_ERR_IO);

    /* the target is a directory: refused before a temporary exists, never replaced */
    char *sub = path_join(base, "index.html");
    assert_int_equal(mkdir(sub, 0755), 0);
    char *inner = path_join(sub, "x");
    f = fopen(inner, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(lab_write_html(sub, fx->res, 3, &fx->ctx, 1.0), NNINIT_ERR_IO);
    assert_non_null(strstr(lab_error(), "is not a regular file"));
    assert_int_equal(count_entries(base, ".nninit-tmp."), 0);
    assert_int_equal(count_entries(base, NULL), 2); /* "file" and the directory, nothing else */
    f = fopen(file, "r");
    char line[64] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "not a directory\n");

    /* bad arguments */
    assert_int_equal(lab_write_report(NULL, fx->res, 3, &fx->ctx, 1.0), NNINIT_ERR_NULL);
    assert_int_equal(lab_write_json(pj, NULL, 3, &fx->ctx, 1.0), NNINIT_ERR_NULL);
    assert_int_equal(lab_write_md(pj, fx->res, -1, &fx->ctx, 1.0), NNINIT_ERR_PARAM);

    free(inner);
    free(sub);
    free(pj);
    free(dir);
    free(file);
    remove_tree(base);
    free(base);
    free_fixture(fx);
}

/* ---- temporaries and the report directory -------------------------------------- */

/* The pid of a child that has exited and been reaped: kill(pid, 0) is ESRCH. */
static long dead_pid(void) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return (long)pid;
}

static int exists(const char *path) {
    struct stat sb;
    return lstat(path, &sb) == 0;
}

static void put_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* "<dir>/.<base>.nninit-tmp.<pid>.<tail>", malloc'ed. */
static char *tmp_name(const char *dir, const char *base, long pid, const char *tail) {
    char name[256];
    snprintf(name, sizeof name, ".%s.nninit-tmp.%ld.%s", base, pid, tail);
    return path_join(dir, name);
}

static void test_tmp_pattern(void **state) {
    (void)state;
    char *t = cli_tmp_template("a/b/w.npy");
    char want[96];
    snprintf(want, sizeof want, "a/b/.w.npy.nninit-tmp.%ld.XXXXXX", (long)getpid());
    assert_string_equal(t, want);
    free(t);
    t = cli_tmp_template("report/");
    snprintf(want, sizeof want, ".report.nninit-tmp.%ld.XXXXXX", (long)getpid());
    assert_string_equal(t, want);
    free(t);
    assert_null(cli_tmp_template("."));
    assert_null(cli_tmp_template("/"));
    assert_null(cli_tmp_template("a/.."));
    long pid = 0;
    assert_int_equal(cli_tmp_match(".w.npy.nninit-tmp.123.aB3dE9", "w.npy", &pid), 1);
    assert_int_equal(pid, 123);
    assert_int_equal(cli_tmp_match(".w.npy.nninit-tmp.123.aB3dE", "w.npy", &pid), 0);   /* 5 random */
    assert_int_equal(cli_tmp_match(".w.npy.nninit-tmp.123.aB3dE90", "w.npy", &pid), 0); /* 7 */
    assert_int_equal(cli_tmp_match(".w.npy.nninit-tmp..aB3dE9", "w.npy", &pid), 0);     /* no pid */
    assert_int_equal(cli_tmp_match(".w.npy.nninit-tmp.0.aB3dE9", "w.npy", &pid), 0);    /* pid 0 */
    assert_int_equal(cli_tmp_match(".w.npy.nninit-tmp.12a.aB3dE9", "w.npy", &pid), 0);
    assert_int_equal(cli_tmp_match(".v.npy.nninit-tmp.123.aB3dE9", "w.npy", &pid), 0); /* another target */
    assert_int_equal(cli_tmp_match("w.npy.nninit-tmp.123.aB3dE9", "w.npy", &pid), 0);  /* not hidden */
    assert_int_equal(cli_tmp_match(".w.npy.nninit-tmp.99999999999.aB3dE9", "w.npy", &pid), 0);
}

/* The tools' atomic writer removes its target's temporaries whose writers
 * are dead, a directory with its contents too, and keeps a live writer's,
 * another target's and anything off the pattern. */
static void test_atomic_sweeps_dead_temporaries(void **state) {
    (void)state;
    char *base = scratch();
    long dead = dead_pid();
    char *stale = tmp_name(base, "out.json", dead, "Ab12Cd");
    char *stale_dir = tmp_name(base, "out.json", dead, "Zz99Yy");
    char *live = tmp_name(base, "out.json", (long)getpid(), "Ab12Cd");
    char *other = tmp_name(base, "other.json", dead, "Ab12Cd");
    char *off = tmp_name(base, "out.json", dead, "Ab12");
    put_file(stale, "partial");
    put_file(live, "partial");
    put_file(other, "partial");
    put_file(off, "partial");
    assert_int_equal(mkdir(stale_dir, 0755), 0);
    char *inner = path_join(stale_dir, "x");
    put_file(inner, "x");
    char *target = path_join(base, "out.json");
    cli_atomic a;
    assert_int_equal(cli_atomic_open(&a, target), 0);
    /* the writer's own temporary follows the pattern, with our pid */
    const char *slash = strrchr(a.tmp, '/');
    long pid = 0;
    assert_int_equal(cli_tmp_match(slash + 1, "out.json", &pid), 1);
    assert_int_equal(pid, (long)getpid());
    fputs("{}\n", a.f);
    assert_int_equal(cli_atomic_commit(&a), 0);
    assert_false(exists(stale));
    assert_false(exists(stale_dir));
    assert_true(exists(live));
    assert_true(exists(other));
    assert_true(exists(off));
    assert_true(exists(target));
    assert_int_equal(count_entries(base, NULL), 4); /* target, live, other, off */
    assert_int_equal(cli_tmp_sweep(target), 0);     /* nothing more to remove */
    remove_tree(base);
    free(target);
    free(inner);
    free(stale);
    free(stale_dir);
    free(live);
    free(other);
    free(off);
    free(base);
}

/* Hash of a file (FNV-1a), to see that a report is left exactly as it was. */
static uint64_t file_hash(const char *path) {
    char *t = slurp(path);
    assert_non_null(t);
    uint64_t h = 1469598103934665603ull;
    for (const char *p = t; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    free(t);
    return h;
}

static void test_report_dir_swap(void **state) {
    (void)state;
    fixture *fx = make_fixture();
    char *base = scratch();
    char *dir = path_join(base, "report");
    char *md = path_join(dir, "results.md");
    char *marker = path_join(dir, LAB_REPORT_MARKER);

    /* absent: renamed into place, with the marker */
    assert_int_equal(lab_write_report(dir, fx->res, 3, &fx->ctx, 1.0), NNINIT_OK);
    assert_true(exists(marker));
    assert_int_equal(count_entries(base, NULL), 1); /* no staging directory left */

    /* a previous report: exchanged, the old tree removed */
    uint64_t h1 = file_hash(md);
    fx->res[0].seconds = 7.25;
    assert_int_equal(lab_write_report(dir, fx->res, 3, &fx->ctx, 2.0), NNINIT_OK);
    char *m = slurp(md);
    assert_non_null(strstr(m, "7.2 s"));
    free(m);
    assert_true(file_hash(md) != h1);
    assert_int_equal(count_entries(base, NULL), 1);
    assert_int_equal(count_entries(dir, NULL), 4);

    /* begin, then abort: the previous report untouched, no staging left */
    uint64_t h2 = file_hash(md);
    lab_report_dir t;
    assert_int_equal(lab_report_dir_begin(&t, dir), NNINIT_OK);
    assert_int_equal(count_entries(base, ".report.nninit-tmp."), 1);
    lab_report_dir_abort(&t);
    assert_int_equal(count_entries(base, NULL), 1);
    assert_true(file_hash(md) == h2);

    /* a killed run's staging directory (dead pid, half written): the next
     * run removes it; a live run's is kept */
    long dead = dead_pid();
    char *stale = tmp_name(base, "report", dead, "Ab12Cd");
    char *live = tmp_name(base, "report", (long)getpid(), "Ab12Cd");
    assert_int_equal(mkdir(stale, 0755), 0);
    assert_int_equal(mkdir(live, 0755), 0);
    char *half = path_join(stale, "results.json");
    put_file(half, "{\"meta\": ");
    assert_int_equal(lab_write_report(dir, fx->res, 3, &fx->ctx, 3.0), NNINIT_OK);
    assert_false(exists(stale));
    assert_true(exists(live));
    assert_int_equal(rmdir(live), 0);

    /* a report with a file of someone else's in it: refused, untouched */
    char *notes = path_join(dir, "notes.txt");
    put_file(notes, "mine");
    uint64_t h3 = file_hash(md);
    lab_set_error("-");
    assert_int_equal(lab_write_report(dir, fx->res, 3, &fx->ctx, 4.0), NNINIT_ERR_PARAM);
    assert_non_null(strstr(lab_error(), "notes.txt"));
    assert_true(file_hash(md) == h3);
    assert_true(exists(notes));
    assert_int_equal(count_entries(base, NULL), 1);
    assert_int_equal(unlink(notes), 0);

    /* a report written before the marker (results.json of "nninit lab") is ours */
    assert_int_equal(unlink(marker), 0);
    assert_int_equal(lab_report_dir_check(dir), NNINIT_OK);
    assert_int_equal(lab_write_report(dir, fx->res, 3, &fx->ctx, 5.0), NNINIT_OK);
    assert_true(exists(marker));

    /* a foreign non-empty directory, a symlink, an empty directory */
    char *foreign = path_join(base, "foreign");
    char *ff = path_join(foreign, "results.json");
    assert_int_equal(mkdir(foreign, 0755), 0);
    put_file(ff, "{\"meta\": {\"tool\": \"something else\"}}");
    assert_int_equal(lab_write_report(foreign, fx->res, 3, &fx->ctx, 1.0), NNINIT_ERR_PARAM);
    assert_non_null(strstr(lab_error(), "not an nninit lab report"));
    assert_int_equal(count_entries(foreign, NULL), 1);
    char *link = path_join(base, "link");
    assert_int_equal(symlink("report", link), 0);
    assert_int_equal(lab_write_report(link, fx->res, 3, &fx->ctx, 1.0), NNINIT_ERR_PARAM);
    assert_non_null(strstr(lab_error(), "symlink"));
    char *empty = path_join(base, "empty");
    assert_int_equal(mkdir(empty, 0755), 0);
    assert_int_equal(lab_write_report(empty, fx->res, 3, &fx->ctx, 1.0), NNINIT_OK);
    assert_int_equal(count_entries(empty, NULL), 4);
    assert_int_equal(count_entries(base, ".nninit-tmp."), 0);

    /* the directory became foreign during the run: not replaced at commit */
    char *late = path_join(base, "late");
    assert_int_equal(lab_report_dir_begin(&t, late), NNINIT_OK);
    assert_int_equal(lab_report_dir_write(&t, fx->res, 3, &fx->ctx, 1.0), NNINIT_OK);
    assert_int_equal(mkdir(late, 0755), 0);
    char *lf = path_join(late, "theirs");
    put_file(lf, "theirs");
    assert_int_equal(lab_report_dir_commit(&t), NNINIT_ERR_PARAM);
    assert_int_equal(count_entries(late, NULL), 1);
    assert_int_equal(count_entries(base, ".nninit-tmp."), 0);

    free(lf);
    free(late);
    free(empty);
    free(link);
    free(ff);
    free(foreign);
    free(notes);
    free(half);
    free(stale);
    free(live);
    free(marker);
    free(md);
    remove_tree(base);
    free(dir);
    free(base);
    free_fixture(fx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_files),     cmocka_unit_test(test_probe_section),
        cmocka_unit_test(test_empty_and_no_ctx), cmocka_unit_test(test_unwritable),
        cmocka_unit_test(test_tmp_pattern),      cmocka_unit_test(test_atomic_sweeps_dead_temporaries),
        cmocka_unit_test(test_report_dir_swap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

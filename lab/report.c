/*
 * report.c -- the lab's report: index.html (self-contained: inline CSS and
 * SVG, no script, no URL), results.md and results.json.
 *
 * Every file is written to a mkstemp() sibling and renamed over the target,
 * so a reader never sees a partial report and a failure leaves nothing
 * behind. Nothing here prints: failures go to lab_set_error().
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab.h"
#include "common.h"
#include "svg.h"

/* ---- atomic files ---------------------------------------------------------- */

typedef nninit_status (*body_fn)(FILE *f, const lab_result *res, int n, const lab_ctx *ctx, double total_seconds);

/* Write path through body with the tools' one atomic writer (common.h). */
static nninit_status write_atomic(const char *path, body_fn body, const lab_result *res, int n, const lab_ctx *ctx,
                                  double total_seconds) {
    if (!path) {
        lab_set_error("report: path is NULL");
        return NNINIT_ERR_NULL;
    }
    if (n < 0 || (n > 0 && !res)) {
        lab_set_error("report: %d results at %p", n, (const void *)res);
        return n < 0 ? NNINIT_ERR_PARAM : NNINIT_ERR_NULL;
    }
    cli_atomic af;
    if (cli_atomic_open(&af, path) != 0) {
        if (errno == EEXIST) lab_set_error("%s exists and is not a regular file (a device, FIFO, directory or symlink): "
                                           "refusing to replace it", path);
        else lab_set_error("cannot create a temporary next to %s: %s", path, strerror(errno));
        return NNINIT_ERR_IO;
    }
    nninit_status st = body(af.f, res, n, ctx, total_seconds);
    if (st != NNINIT_OK) {
        cli_atomic_abort(&af);
        return st;
    }
    if (cli_atomic_commit(&af) != 0) {
        if (errno == EEXIST) lab_set_error("%s became something other than a regular file: not replaced", path);
        else lab_set_error("cannot write %s: %s", path, strerror(errno));
        return NNINIT_ERR_IO;
    }
    return NNINIT_OK;
}

/* mkdir -p: every missing component of dir, then check it is a directory. */
static nninit_status make_dirs(const char *dir) {
    char *p = strdup(dir);
    if (!p) {
        lab_set_error("report: out of memory creating %s", dir);
        return NNINIT_ERR_NOMEM;
    }
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            lab_set_error("cannot create directory %s: %s", p, strerror(errno));
            free(p);
            return NNINIT_ERR_IO;
        }
        *s = '/';
    }
    free(p);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        lab_set_error("cannot create directory %s: %s", dir, strerror(errno));
        return NNINIT_ERR_IO;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        lab_set_error("cannot write the report into %s: %s", dir, strerror(errno));
        return NNINIT_ERR_IO;
    }
    if (!S_ISDIR(sb.st_mode)) {
        lab_set_error("cannot write the report into %s: %s", dir, strerror(ENOTDIR));
        return NNINIT_ERR_IO;
    }
    return NNINIT_OK;
}

/* ---- shared text ------------------------------------------------------------- */

static const char *exp_name(const lab_result *r, int i, char *buf, size_t cap) {
    if (r->exp && r->exp->name) return r->exp->name;
    snprintf(buf, cap, "experiment-%d", i + 1);
    return buf;
}
static const char *exp_field(const char *s) { return s ? s : ""; }

static lab_verdict verdict_of(lab_verdict v) {
    return v == LAB_REPRODUCED || v == LAB_NOT_REPRODUCED ? v : LAB_INCONCLUSIVE;
}
/* CSS class suffix: "reproduced", "not-reproduced", "inconclusive". */
static const char *verdict_slug(lab_verdict v) {
    switch (verdict_of(v)) {
    case LAB_REPRODUCED: return "reproduced";
    case LAB_NOT_REPRODUCED: return "not-reproduced";
    default: return "inconclusive";
    }
}

static void count_verdicts(const lab_result *res, int n, int counts[3], int *errors) {
    counts[0] = counts[1] = counts[2] = 0;
    *errors = 0;
    for (int i = 0; i < n; i++) {
        counts[verdict_of(res[i].verdict)]++;
        if (res[i].status != NNINIT_OK) (*errors)++;
    }
}

/* A number for people: 4 significant digits; NaN and inf spelled out. */
static const char *fmt_num(char buf[32], double v) {
    if (isnan(v)) return "NaN";
    if (isinf(v)) return v > 0 ? "inf" : "-inf";
    snprintf(buf, 32, "%.4g", v);
    return buf;
}

/* "85.3%", "3.2x", "1.5 s" */
static const char *fmt_measure(char buf[64], double v, const char *unit) {
    char nb[32];
    const char *num = fmt_num(nb, v);
    size_t ul = strlen(unit);
    snprintf(buf, 64, "%s%s%.16s", num, ul > 1 ? " " : "", unit);
    return buf;
}

static const char *scale_note(lab_scale s) {
    switch (s) {
    case LAB_TINY: return "a smoke run of every code path; verdicts are computed but not meaningful at this size";
    case LAB_QUICK: return "the whole suite on subsets of the data";
    default: return "the published sizes as far as two cores allow";
    }
}
static const char *threads_text(const lab_ctx *ctx, char buf[32]) {
    if (ctx->threads <= 0) return "OpenBLAS's default threads";
    snprintf(buf, 32, "%d thread%s", ctx->threads, ctx->threads == 1 ? "" : "s");
    return buf;
}
static const char *scale_flag(lab_scale s) {
    return s == LAB_TINY ? " --tiny" : s == LAB_QUICK ? " --quick" : "";
}

/* The claim's first sentence, at most ~120 bytes (cut at a space). */
static void short_claim(const char *claim, char *out, size_t cap) {
    size_t n = 0;
    while (claim[n] && !(claim[n] == '.' && (claim[n + 1] == ' ' || claim[n + 1] == '\0'))) n++;
    int cut = 0;
    if (n > 120) {
        n = 120;
        while (n > 60 && claim[n] != ' ') n--;
        cut = 1;
    }
    if (n + 8 > cap) n = cap - 8;
    memcpy(out, claim, n);
    if (cut) memcpy(out + n, "\xe2\x80\xa6", 3), n += 3; /* ellipsis */
    else if (claim[n] == '.') out[n++] = '.';
    out[n] = '\0';
}

/* ---- results.md -------------------------------------------------------------- */

/* Table cell: no pipes, no line breaks. */
static void md_cell(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '|') fputs("\\|", f);
        else if (*s == '\n' || *s == '\r' || *s == '\t') fputc(' ', f);
        else fputc(*s, f);
    }
}

static nninit_status md_body(FILE *f, const lab_result *res, int n, const lab_ctx *ctx, double total) {
    int counts[3], errors;
    count_verdicts(res, n, counts, &errors);
    char nb[32], buf[64], name[32], claim[160], tb[32];
    fprintf(f, "# nninit lab: results\n\n");
    if (ctx)
        fprintf(f, "Run with `nninit lab%s` (scale %s: %s), seed %llu, %s; nninit %s.\n", scale_flag(ctx->scale),
                lab_scale_name(ctx->scale), scale_note(ctx->scale), (unsigned long long)ctx->seed, threads_text(ctx, tb),
                nninit_version_string());
    else
        fprintf(f, "nninit %s.\n", nninit_version_string());
    fprintf(f, "%d experiments in %s s: %d %s, %d %s, %d %s", n, fmt_num(nb, total), counts[LAB_REPRODUCED],
            lab_verdict_name(LAB_REPRODUCED), counts[LAB_NOT_REPRODUCED], lab_verdict_name(LAB_NOT_REPRODUCED),
            counts[LAB_INCONCLUSIVE], lab_verdict_name(LAB_INCONCLUSIVE));
    if (errors) fprintf(f, " (%d stopped by an error)", errors);
    fprintf(f, ".\n\nA check holds when the measurement satisfies its test; one that misses its threshold by less than "
               "its noise is inconclusive. An experiment is not reproduced if any check fails, else inconclusive if any "
               "check is, else reproduced.\n\n");

    fprintf(f, "| experiment | claim | verdict | time |\n|---|---|---|---:|\n");
    for (int i = 0; i < n; i++) {
        const lab_result *r = &res[i];
        fprintf(f, "| [");
        md_cell(f, exp_name(r, i, name, sizeof name));
        fprintf(f, "](#%s) | ", exp_name(r, i, name, sizeof name));
        short_claim(exp_field(r->exp ? r->exp->claim : NULL), claim, sizeof claim);
        md_cell(f, claim);
        fprintf(f, " | %s%s | %.1f s |\n", lab_verdict_name(verdict_of(r->verdict)), r->status != NNINIT_OK ? " (error)" : "",
                r->seconds);
    }

    for (int i = 0; i < n; i++) {
        const lab_result *r = &res[i];
        const char *nm = exp_name(r, i, name, sizeof name);
        fprintf(f, "\n## %s\n\n<a id=\"%s\"></a>`%s` &middot; **%s** &middot; %.1f s\n\n",
                r->exp && r->exp->title ? r->exp->title : nm, nm, nm, lab_verdict_name(verdict_of(r->verdict)), r->seconds);
        if (r->exp) fprintf(f, "**Claim.** %s\n\n**Source.** %s\n\n", exp_field(r->exp->claim), exp_field(r->exp->source));
        if (r->setup[0]) fprintf(f, "**Setup.** %s\n\n", r->setup);
        if (r->status != NNINIT_OK)
            fprintf(f, "**Error.** %s: %s\n\n", nninit_status_str(r->status), r->error[0] ? r->error : "(no message)");
        if (r->n_checks > 0) {
            fprintf(f, "| check | prediction | measured | verdict |\n|---|---|---:|---|\n");
            for (int c = 0; c < r->n_checks && c < LAB_MAX_CHECKS; c++) {
                const lab_check_t *k = &r->checks[c];
                fprintf(f, "| ");
                md_cell(f, k->name);
                fprintf(f, " | ");
                md_cell(f, k->prediction);
                fprintf(f, " (test: %s %s", lab_op_text(k->op), fmt_num(nb, k->threshold));
                if (k->noise > 0) fprintf(f, " &plusmn; %s", fmt_num(nb, k->noise));
                fprintf(f, ") | ");
                md_cell(f, fmt_measure(buf, k->measured, k->unit));
                fprintf(f, " | %s |\n", lab_verdict_name(verdict_of(k->verdict)));
            }
            fputc('\n', f);
        }
        if (r->n_curves > 0) {
            fprintf(f, "Training runs:\n\n");
            for (int c = 0; c < r->n_curves && c < LAB_MAX_CURVES; c++) {
                const lab_curve *cv = &r->curves[c];
                fprintf(f, "- ");
                md_cell(f, cv->label);
                if (cv->n > 0 && cv->points) {
                    const nninit_train_point *p = &cv->points[cv->n - 1];
                    fprintf(f, ": test accuracy %s at epoch %s", fmt_num(nb, p->test_acc), fmt_num(buf, p->epoch));
                }
                if (cv->diverged) fprintf(f, " (diverged at step %ld)", cv->diverged_step);
                fputc('\n', f);
            }
            fputc('\n', f);
        }
        if (r->notes[0]) fprintf(f, "**Notes.** %s\n", r->notes);
    }
    return NNINIT_OK;
}

/* ---- results.json -------------------------------------------------------------- */

/* Builder state: the first allocation failure sticks. */
typedef struct {
    int ok;
} jb;

static cJSON *jput(jb *b, cJSON *parent, const char *key, cJSON *item) {
    if (!item || !parent) {
        cJSON_Delete(item);
        b->ok = 0;
        return NULL;
    }
    if (!(key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item))) {
        cJSON_Delete(item);
        b->ok = 0;
        return NULL;
    }
    return item;
}
/* JSON has no NaN or inf: those are null. Finite numbers in the fewest
 * digits that read back as the same double (cJSON's own printer stops at 15
 * and accepts an approximate round trip). */
static void jnum(jb *b, cJSON *o, const char *key, double v) {
    if (!isfinite(v)) {
        jput(b, o, key, cJSON_CreateNull());
        return;
    }
    char t[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v) break;
    }
    jput(b, o, key, cJSON_CreateRaw(t));
}
static void jstr(jb *b, cJSON *o, const char *key, const char *s) { jput(b, o, key, cJSON_CreateString(s ? s : "")); }

static void json_probe(jb *b, cJSON *arr, const char *label, const nninit_probe_report *p) {
    cJSON *o = jput(b, arr, NULL, cJSON_CreateObject());
    jstr(b, o, "label", label);
    jnum(b, o, "loss", p->loss);
    jput(b, o, "mean_field", cJSON_CreateBool(p->mean_field));
    cJSON *layers = jput(b, o, "layers", cJSON_CreateArray());
    for (int l = 0; l < p->n_layers && p->layers; l++) {
        const nninit_probe_layer *y = &p->layers[l];
        cJSON *lo = jput(b, layers, NULL, cJSON_CreateObject());
        jnum(b, lo, "index", y->index);
        jnum(b, lo, "width", y->width);
        jnum(b, lo, "post_std", y->post_std);
        jnum(b, lo, "grad_std", y->grad_std);
        jnum(b, lo, "saturated", y->saturated);
        jnum(b, lo, "dead", y->dead);
        jnum(b, lo, "q_meas", y->q_meas);
        jnum(b, lo, "q_pred", y->q_pred);
    }
    cJSON *fs = jput(b, o, "findings", cJSON_CreateArray());
    for (int k = 0; k < p->n_findings && k < NNINIT_PROBE_MAX_FINDINGS; k++) {
        const nninit_finding *fd = &p->findings[k];
        size_t len = strlen(fd->text) + strlen(fd->advice) + 3;
        char *t = malloc(len);
        if (!t) {
            b->ok = 0;
            return;
        }
        snprintf(t, len, "%s%s%s", fd->text, fd->advice[0] ? ": " : "", fd->advice);
        jstr(b, fs, NULL, t);
        free(t);
    }
}

static void json_result(jb *b, cJSON *arr, const lab_result *r, int i) {
    char name[32];
    cJSON *o = jput(b, arr, NULL, cJSON_CreateObject());
    jstr(b, o, "name", exp_name(r, i, name, sizeof name));
    jstr(b, o, "title", r->exp ? r->exp->title : NULL);
    jstr(b, o, "claim", r->exp ? r->exp->claim : NULL);
    jstr(b, o, "source", r->exp ? r->exp->source : NULL);
    jstr(b, o, "setup", r->setup);
    jstr(b, o, "notes", r->notes);
    jstr(b, o, "verdict", lab_verdict_name(verdict_of(r->verdict)));
    jnum(b, o, "seconds", r->seconds);
    jstr(b, o, "status", nninit_status_str(r->status));
    jput(b, o, "error", r->status != NNINIT_OK ? cJSON_CreateString(r->error) : cJSON_CreateNull());

    cJSON *checks = jput(b, o, "checks", cJSON_CreateArray());
    for (int c = 0; c < r->n_checks && c < LAB_MAX_CHECKS; c++) {
        const lab_check_t *k = &r->checks[c];
        cJSON *co = jput(b, checks, NULL, cJSON_CreateObject());
        jstr(b, co, "name", k->name);
        jstr(b, co, "prediction", k->prediction);
        jstr(b, co, "op", lab_op_text(k->op));
        jnum(b, co, "threshold", k->threshold);
        jnum(b, co, "noise", k->noise);
        jnum(b, co, "measured", k->measured);
        jstr(b, co, "unit", k->unit);
        jstr(b, co, "verdict", lab_verdict_name(verdict_of(k->verdict)));
    }

    cJSON *curves = jput(b, o, "curves", cJSON_CreateArray());
    for (int c = 0; c < r->n_curves && c < LAB_MAX_CURVES; c++) {
        const lab_curve *cv = &r->curves[c];
        cJSON *co = jput(b, curves, NULL, cJSON_CreateObject());
        jstr(b, co, "label", cv->label);
        jput(b, co, "diverged", cJSON_CreateBool(cv->diverged));
        jput(b, co, "diverged_step", cv->diverged ? cJSON_CreateNumber((double)cv->diverged_step) : cJSON_CreateNull());
        cJSON *pts = jput(b, co, "points", cJSON_CreateArray());
        for (int k = 0; k < cv->n && cv->points; k++) {
            const nninit_train_point *p = &cv->points[k];
            cJSON *po = jput(b, pts, NULL, cJSON_CreateObject());
            jnum(b, po, "step", (double)p->step);
            jnum(b, po, "epoch", p->epoch);
            jnum(b, po, "train_loss", p->train_loss);
            jnum(b, po, "test_loss", p->test_loss);
            jnum(b, po, "test_acc", p->test_acc);
            jnum(b, po, "seconds", p->seconds);
        }
    }

    cJSON *plots = jput(b, o, "plots", cJSON_CreateArray());
    for (int p = 0; p < r->n_plots && p < LAB_MAX_PLOTS; p++) {
        const lab_plot *pl = &r->plots[p];
        cJSON *po = jput(b, plots, NULL, cJSON_CreateObject());
        jstr(b, po, "title", pl->title);
        jstr(b, po, "xlabel", pl->xlabel);
        jstr(b, po, "ylabel", pl->ylabel);
        jput(b, po, "logy", cJSON_CreateBool(pl->logy));
        cJSON *ss = jput(b, po, "series", cJSON_CreateArray());
        for (int s = 0; s < pl->n_series && s < LAB_MAX_SERIES; s++) {
            const lab_series *se = &pl->series[s];
            cJSON *so = jput(b, ss, NULL, cJSON_CreateObject());
            jstr(b, so, "label", se->label);
            jput(b, so, "dashed", cJSON_CreateBool(se->dashed));
            cJSON *xs = jput(b, so, "x", cJSON_CreateArray());
            cJSON *ys = jput(b, so, "y", cJSON_CreateArray());
            for (int k = 0; k < se->n && se->x && se->y; k++) {
                jnum(b, xs, NULL, se->x[k]);
                jnum(b, ys, NULL, se->y[k]);
            }
        }
    }

    cJSON *probes = jput(b, o, "probes", cJSON_CreateArray());
    for (int p = 0; p < r->n_probes && p < LAB_MAX_PROBES; p++) json_probe(b, probes, r->probe_label[p], &r->probes[p]);
}

static nninit_status json_body(FILE *f, const lab_result *res, int n, const lab_ctx *ctx, double total) {
    jb b = {1};
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = jput(&b, root, "meta", cJSON_CreateObject());
    jstr(&b, meta, "tool", "nninit lab");
    jstr(&b, meta, "version", nninit_version_string());
    if (ctx) {
        char seed[24];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)ctx->seed); /* exact: no trip through double */
        jstr(&b, meta, "scale", lab_scale_name(ctx->scale));
        jput(&b, meta, "seed", cJSON_CreateRaw(seed));
        jnum(&b, meta, "threads", ctx->threads);
    } else {
        jput(&b, meta, "scale", cJSON_CreateNull());
        jput(&b, meta, "seed", cJSON_CreateNull());
        jput(&b, meta, "threads", cJSON_CreateNull());
    }
    jnum(&b, meta, "total_seconds", total);
    jnum(&b, meta, "experiments", n);
    int counts[3], errors;
    count_verdicts(res, n, counts, &errors);
    cJSON *vc = jput(&b, meta, "verdicts", cJSON_CreateObject());
    for (int v = 0; v < 3; v++) jnum(&b, vc, lab_verdict_name((lab_verdict)v), counts[v]);
    jnum(&b, meta, "errors", errors);
    cJSON *arr = jput(&b, root, "experiments", cJSON_CreateArray());
    for (int i = 0; i < n && b.ok; i++) json_result(&b, arr, &res[i], i);
    char *text = b.ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        lab_set_error("report: out of memory building the JSON");
        return NNINIT_ERR_NOMEM;
    }
    fputs(text, f);
    fputc('\n', f);
    cJSON_free(text);
    return NNINIT_OK;
}

/* ---- index.html: SVG charts (svg.c) ---------------------------------------------- */

static void esc(FILE *f, const char *s) { svg_esc(f, s); }

static void chart(FILE *f, const char *title, const char *xlabel, const char *ylabel, const svg_line *ls, int nl, int logy) {
    svg_chart_opts o = {title, xlabel, ylabel, logy, 0, 0, "plot", "line"};
    svg_chart(f, &o, ls, nl);
}

/* Distinct line colours (Tableau's, with the red swapped for a brick that
 * cannot be mistaken for the "not reproduced" badge). */
static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
                                      "#17becf", "#7f7f7f", "#bcbd22", "#393b79", "#ad494a", "#637939"};
#define PALETTE_N ((int)(sizeof palette / sizeof palette[0]))
#define PRED_DASH "6,4"

/* ---- index.html: page ------------------------------------------------------------- */

static const char *const css =
    "body{margin:0;background:#fff;color:#1f2328;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
    "'Helvetica Neue',Arial,sans-serif}"
    ".wrap{max-width:1180px;margin:0 auto;padding:16px 24px 48px}"
    "h1{font-size:28px;margin:8px 0}h2{font-size:20px;margin:0 0 8px}h3{font-size:16px;margin:18px 0 6px}"
    "section{border-top:2px solid #d0d7de;margin-top:28px;padding-top:16px}"
    "table{border-collapse:collapse;margin:8px 0;width:100%}"
    "th,td{border:1px solid #d0d7de;padding:5px 8px;vertical-align:top;text-align:left}"
    "th{background:#f6f8fa}td.num{text-align:right;white-space:nowrap}"
    "ul.cell{margin:0;padding-left:16px}"
    ".badge{display:inline-block;padding:3px 10px;border-radius:12px;color:#fff;font-weight:600;font-size:13px;"
    "white-space:nowrap}"
    ".b-reproduced{background:#1a7f37}.b-not-reproduced{background:#cf222e}.b-inconclusive{background:#bf8700}"
    ".m-reproduced{color:#1a7f37;font-weight:700}.m-not-reproduced{color:#cf222e;font-weight:700}"
    ".m-inconclusive{color:#bf8700;font-weight:700}"
    ".claim{border-left:4px solid #d0d7de;margin:8px 0;padding:4px 12px;background:#f6f8fa}"
    ".muted{color:#59636e}.pre{white-space:pre-wrap}.err{color:#cf222e}"
    ".charts{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}"
    ".hists{display:flex;flex-wrap:wrap;gap:8px}.hcell{border:1px solid #d0d7de;padding:2px 6px 0}"
    ".hcell div{font-size:12px;color:#424a53}.hcell svg+svg{margin-left:10px}"
    "svg.plot{background:#fff;max-width:100%;height:auto}" SVG_CSS
    "code{background:#f6f8fa;padding:1px 4px;border-radius:4px}";

static void badge(FILE *f, lab_verdict v, const char *text) {
    fprintf(f, "<span class=\"badge b-%s\">", verdict_slug(v));
    esc(f, text ? text : lab_verdict_name(verdict_of(v)));
    fputs("</span>", f);
}

/* ✓ ✗ ? after a measurement. */
static void mark(FILE *f, lab_verdict v) {
    static const char *sym[] = {"&#10003;", "&#10007;", "?"};
    fprintf(f, " <span class=\"m-%s\" title=\"%s\">%s</span>", verdict_slug(v), lab_verdict_name(verdict_of(v)),
            sym[verdict_of(v)]);
}

static void html_claims(FILE *f, const lab_result *res, int n) {
    char name[32], buf[64];
    fputs("<table id=\"claims\">\n<thead><tr><th>experiment</th><th>claim &amp; source</th><th>prediction(s)</th>"
          "<th>measurement(s)</th><th>verdict</th></tr></thead>\n<tbody>\n",
          f);
    for (int i = 0; i < n; i++) {
        const lab_result *r = &res[i];
        const char *nm = exp_name(r, i, name, sizeof name);
        fprintf(f, "<tr class=\"verdict-%s\"><td><a href=\"#exp-", verdict_slug(r->verdict));
        esc(f, nm);
        fputs("\">", f);
        esc(f, r->exp && r->exp->title ? r->exp->title : nm);
        fputs("</a><br><code>", f);
        esc(f, nm);
        fputs("</code></td><td>", f);
        if (r->exp) {
            esc(f, exp_field(r->exp->claim));
            fputs("<br><span class=\"muted\">", f);
            esc(f, exp_field(r->exp->source));
            fputs("</span>", f);
        }
        fputs("</td><td><ul class=\"cell\">", f);
        for (int c = 0; c < r->n_checks && c < LAB_MAX_CHECKS; c++) {
            fputs("<li>", f);
            esc(f, r->checks[c].prediction);
            fputs("</li>", f);
        }
        fputs("</ul></td><td><ul class=\"cell\">", f);
        for (int c = 0; c < r->n_checks && c < LAB_MAX_CHECKS; c++) {
            const lab_check_t *k = &r->checks[c];
            fputs("<li>", f);
            esc(f, fmt_measure(buf, k->measured, k->unit));
            mark(f, k->verdict);
            fputs("</li>", f);
        }
        fputs("</ul>", f);
        if (r->status != NNINIT_OK) {
            fputs("<span class=\"err\">error: ", f);
            esc(f, r->error[0] ? r->error : nninit_status_str(r->status));
            fputs("</span>", f);
        }
        fputs("</td><td>", f);
        badge(f, r->verdict, NULL);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
}

static void html_curves(FILE *f, const lab_result *r) {
    int nc = r->n_curves < LAB_MAX_CURVES ? r->n_curves : LAB_MAX_CURVES;
    svg_line acc[LAB_MAX_CURVES], loss[LAB_MAX_CURVES];
    char labels[LAB_MAX_CURVES][72], notes[LAB_MAX_CURVES][48];
    for (int c = 0; c < nc; c++) {
        const lab_curve *cv = &r->curves[c];
        snprintf(labels[c], sizeof labels[c], "%.64s", cv->label);
        snprintf(notes[c], sizeof notes[c], "\xc3\x97 (diverged at step %ld)", cv->diverged_step);
        const nninit_train_point *p = cv->points;
        int np = p ? cv->n : 0;
        const char *dash = c >= PALETTE_N ? "2,3" : NULL; /* a second round of colours is dotted */
        acc[c] = (svg_line){labels[c], np ? &p->epoch : NULL, np ? &p->test_acc : NULL, sizeof *p, np, palette[c % PALETTE_N],
                        dash, cv->diverged, cv->diverged ? notes[c] : NULL};
        loss[c] = acc[c];
        loss[c].y = np ? &p->train_loss : NULL;
    }
    fputs("<h3>Training curves</h3>\n<div class=\"charts\">\n", f);
    chart(f, "Test accuracy", "epoch", "test accuracy", acc, nc, 0);
    chart(f, "Training loss", "epoch", "train loss", loss, nc, 1);
    fputs("</div>\n", f);
}

static void html_plot(FILE *f, const lab_plot *pl) {
    int ns = pl->n_series < LAB_MAX_SERIES ? pl->n_series : LAB_MAX_SERIES;
    svg_line ls[LAB_MAX_SERIES];
    int solid = 0, dashed = 0;
    for (int s = 0; s < ns; s++) {
        const lab_series *se = &pl->series[s];
        int ok = se->x && se->y;
        /* A prediction takes the colour of the measurement it goes with:
         * the k-th dashed series pairs with the k-th solid one. */
        int col = se->dashed ? dashed++ : solid++;
        ls[s] = (svg_line){se->label, ok ? se->x : NULL, ok ? se->y : NULL, sizeof(double), ok ? se->n : 0,
                       palette[col % PALETTE_N], se->dashed ? PRED_DASH : NULL, 0, NULL};
    }
    chart(f, pl->title, pl->xlabel, pl->ylabel, ls, ns, pl->logy);
}

/* The probe's bin count: as recorded, else from the histograms (the data's
 * maximum lands in the last bin of a layer's own range, and of the shared
 * range for the layer that holds it). */
static int probe_bins(const nninit_probe_report *p, int recorded) {
    if (recorded > 0 && recorded <= NNINIT_PROBE_MAX_BINS) return recorded;
    int bins = 0;
    for (int l = 0; l < p->n_layers; l++) {
        const nninit_probe_layer *y = &p->layers[l];
        const double *hs[] = {y->hist, y->grad_hist, y->shist, y->grad_shist};
        for (int k = 0; k < 4; k++)
            for (int b = bins; b < NNINIT_PROBE_MAX_BINS; b++)
                if (isfinite(hs[k][b]) && hs[k][b] > 0) bins = b + 1;
    }
    return bins;
}

static void html_probe(FILE *f, const char *label, const nninit_probe_report *p, int recorded_bins) {
    char nb[32];
    fputs("<h3>Probe: ", f);
    esc(f, label);
    fputs("</h3>\n<p class=\"muted\">", f);
    fprintf(f, "%d layers, loss at init %s", p->n_layers, fmt_num(nb, p->loss));
    char mf[640];
    nninit_probe_mean_field_text(p, mf, sizeof mf);
    fputs("; mean field: ", f);
    esc(f, mf);
    fputs("</p>\n", f);
    if (p->n_findings > 0) {
        fputs("<ul>", f);
        for (int k = 0; k < p->n_findings && k < NNINIT_PROBE_MAX_FINDINGS; k++) {
            fputs("<li>", f);
            esc(f, p->findings[k].text);
            if (p->findings[k].advice[0]) {
                fputs(" <span class=\"muted\">(", f);
                esc(f, p->findings[k].advice);
                fputs(")</span>", f);
            }
            fputs("</li>", f);
        }
        fputs("</ul>\n", f);
    }
    int L = p->layers ? p->n_layers : 0;
    if (L <= 0) return;
    /* x = layer number (index + 1), as in `nninit probe`. */
    double *buf3 = malloc(sizeof(double) * 3 * (size_t)L);
    if (buf3) {
        double *xs = buf3, *post = buf3 + L, *grad = buf3 + 2 * L;
        for (int l = 0; l < L; l++) {
            xs[l] = p->layers[l].index + 1;
            post[l] = p->layers[l].post_std;
            grad[l] = p->layers[l].grad_std;
        }
        svg_line ls[2] = {{"activation std (post)", xs, post, sizeof(double), L, palette[0], NULL, 0, NULL},
                      {"gradient std (dL/d pre)", xs, grad, sizeof(double), L, palette[1], NULL, 0, NULL}};
        fputs("<div class=\"charts\">\n", f);
        chart(f, "Activation and gradient std by layer", "layer", "std", ls, 2, 1);
        fputs("</div>\n", f);
        free(buf3);
    }
    /* At most 12 layers' histograms, evenly spaced, first and last included. */
    int m = L < 12 ? L : 12;
    fputs("<p class=\"muted\">", f);
    if (m < L) fprintf(f, "Histograms of %d of the %d layers. ", m, L);
    if (svg_range_ok(p->hist_shared_lo, p->hist_shared_hi))
        fputs("Activations on one x-axis for the whole network, gradients on another: a signal that vanishes with "
              "depth collapses to a spike at 0 (a layer whose values fall outside keeps its own axis).",
              f);
    fputs("</p>\n", f);
    int bins = probe_bins(p, recorded_bins);
    fputs("<div class=\"hists\">\n", f);
    for (int k = 0; k < m; k++) {
        int l = m > 1 ? (int)lround((double)k * (L - 1) / (m - 1)) : 0;
        const nninit_probe_layer *y = &p->layers[l];
        fprintf(f, "<div class=\"hcell\"><div><b>layer %d</b> &middot; %s &middot; %d wide</div>", y->index + 1,
                nninit_act_name(y->act), y->width);
        svg_probe_hist(f, p, l, 0, bins, 1, "activation", palette[0], "plot");
        svg_probe_hist(f, p, l, 1, bins, 1, "gradient dL/d pre", palette[1], "plot");
        fputs("</div>\n", f);
    }
    fputs("</div>\n", f);
}

static void html_section(FILE *f, const lab_result *r, int i) {
    char name[32], nb[32], buf[64];
    const char *nm = exp_name(r, i, name, sizeof name);
    fputs("<section id=\"exp-", f);
    esc(f, nm);
    fputs("\">\n<h2>", f);
    esc(f, r->exp && r->exp->title ? r->exp->title : nm);
    fputs(" ", f);
    badge(f, r->verdict, NULL);
    fputs("</h2>\n<p class=\"muted\"><code>", f);
    esc(f, nm);
    fprintf(f, "</code> &middot; %.1f s</p>\n", r->seconds);
    if (r->exp) {
        fputs("<div class=\"claim\"><b>Claim.</b> ", f);
        esc(f, exp_field(r->exp->claim));
        fputs("<br><b>Source.</b> ", f);
        esc(f, exp_field(r->exp->source));
        fputs("</div>\n", f);
    }
    if (r->setup[0]) {
        fputs("<p class=\"pre\"><b>Setup.</b> ", f);
        esc(f, r->setup);
        fputs("</p>\n", f);
    }
    if (r->status != NNINIT_OK) {
        fprintf(f, "<p class=\"err\"><b>Error</b> (%s): ", nninit_status_str(r->status));
        esc(f, r->error[0] ? r->error : "no message");
        fputs("</p>\n", f);
    }
    if (r->n_checks > 0) {
        fputs("<table class=\"checks\"><thead><tr><th>check</th><th>prediction</th><th>test</th><th>measured</th>"
              "<th>verdict</th></tr></thead><tbody>\n",
              f);
        for (int c = 0; c < r->n_checks && c < LAB_MAX_CHECKS; c++) {
            const lab_check_t *k = &r->checks[c];
            fputs("<tr><td>", f);
            esc(f, k->name);
            fputs("</td><td>", f);
            esc(f, k->prediction);
            fputs("</td><td>measured ", f);
            esc(f, lab_op_text(k->op));
            fprintf(f, " %s", fmt_num(nb, k->threshold));
            if (k->noise > 0) fprintf(f, " (noise &plusmn;%s)", fmt_num(nb, k->noise));
            fputs("</td><td class=\"num\">", f);
            esc(f, fmt_measure(buf, k->measured, k->unit));
            fputs("</td><td>", f);
            badge(f, k->verdict, NULL);
            fputs("</td></tr>\n", f);
        }
        fputs("</tbody></table>\n", f);
    }
    if (r->notes[0]) {
        fputs("<p class=\"pre\"><b>Notes.</b> ", f);
        esc(f, r->notes);
        fputs("</p>\n", f);
    }
    if (r->n_curves > 0) html_curves(f, r);
    if (r->n_plots > 0) {
        fputs("<h3>Plots</h3>\n<div class=\"charts\">\n", f);
        for (int p = 0; p < r->n_plots && p < LAB_MAX_PLOTS; p++) html_plot(f, &r->plots[p]);
        fputs("</div>\n", f);
    }
    for (int p = 0; p < r->n_probes && p < LAB_MAX_PROBES; p++) html_probe(f, r->probe_label[p], &r->probes[p], r->probe_bins[p]);
    fputs("</section>\n", f);
}

static nninit_status html_body(FILE *f, const lab_result *res, int n, const lab_ctx *ctx, double total) {
    int counts[3], errors;
    count_verdicts(res, n, counts, &errors);
    char nb[32], text[48], tb[32];
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<title>nninit lab</title>\n<style>%s</style></head>\n<body><div class=\"wrap\">\n<h1>nninit lab</h1>\n",
            css);
    fputs("<p>Published claims about weight initialization, tested on Fashion-MNIST. ", f);
    if (ctx)
        fprintf(f, "Run with <code>nninit lab%s</code>: scale <b>%s</b> (%s), seed %llu, %s, ", scale_flag(ctx->scale),
                lab_scale_name(ctx->scale), scale_note(ctx->scale), (unsigned long long)ctx->seed, threads_text(ctx, tb));
    fprintf(f, "%d experiments in %s s; nninit %s.</p>\n<p class=\"counts\">", n, fmt_num(nb, total), nninit_version_string());
    for (int v = 0; v < 3; v++) {
        snprintf(text, sizeof text, "%d %s", counts[v], lab_verdict_name((lab_verdict)v));
        badge(f, (lab_verdict)v, text);
        fputs(" ", f);
    }
    if (errors) fprintf(f, "<span class=\"err\">%d stopped by an error</span>", errors);
    fputs("</p>\n<p class=\"muted\">A check holds when the measurement passes its test; one that misses by less than "
          "its noise is inconclusive. An experiment is not reproduced if any check fails, else inconclusive if any "
          "check is, else reproduced. Verdicts are computed, never written by hand.</p>\n",
          f);
    html_claims(f, res, n);
    for (int i = 0; i < n; i++) html_section(f, &res[i], i);
    fputs("</div></body></html>\n", f);
    return NNINIT_OK;
}

/* ---- entry points ------------------------------------------------------------------ */

nninit_status lab_write_html(const char *path, const lab_result *res, int n, const lab_ctx *ctx, double total_seconds) {
    return write_atomic(path, html_body, res, n, ctx, total_seconds);
}

nninit_status lab_write_md(const char *path, const lab_result *res, int n, const lab_ctx *ctx, double total_seconds) {
    return write_atomic(path, md_body, res, n, ctx, total_seconds);
}

nninit_status lab_write_json(const char *path, const lab_result *res, int n, const lab_ctx *ctx, double total_seconds) {
    return write_atomic(path, json_body, res, n, ctx, total_seconds);
}

nninit_status lab_write_report(const char *dir, const lab_result *res, int n, const lab_ctx *ctx, double total_seconds) {
    if (!dir) {
        lab_set_error("report: directory is NULL");
        return NNINIT_ERR_NULL;
    }
    nninit_status st = make_dirs(dir);
    if (st != NNINIT_OK) return st;
    static const struct {
        const char *file;
        nninit_status (*write)(const char *, const lab_result *, int, const lab_ctx *, double);
    } files[] = {{"results.json", lab_write_json}, {"results.md", lab_write_md}, {"index.html", lab_write_html}};
    size_t cap = strlen(dir) + 16;
    char *path = malloc(cap);
    if (!path) {
        lab_set_error("report: out of memory");
        return NNINIT_ERR_NOMEM;
    }
    for (size_t k = 0; k < sizeof files / sizeof files[0] && st == NNINIT_OK; k++) {
        snprintf(path, cap, "%s/%s", dir, files[k].file);
        st = files[k].write(path, res, n, ctx, total_seconds);
    }
    free(path);
    return st;
}

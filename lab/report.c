/*
 * report.c -- the lab's report: index.html (self-contained: inline CSS and
 * SVG, no script, no URL), results.md and results.json.
 *
 * Every file is written through the tools' atomic writer (common.h) and the
 * whole directory is staged and swapped in (report_dir.c), so a reader never
 * sees a partial report and a failure leaves nothing behind. Nothing here
 * prints: failures go to lab_set_error().
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab.h"
#include "common.h"
#include "json.h"
#include "probe_html.h"
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
        if (errno == EEXIST)
            lab_set_error("%s exists and is not a regular file (a device, FIFO, directory or symlink): "
                          "refusing to replace it",
                          path);
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
static const char *scale_flag(lab_scale s) { return s == LAB_TINY ? " --tiny" : s == LAB_QUICK ? " --quick" : ""; }

/* lab.h's rule, as the report states it. */
static const char rule_text[] =
    "A check holds when the measurement passes its test by more than its noise (== within it); one within its noise "
    "of the threshold, on either side, is inconclusive, and one that misses by more fails. Over several seeds the "
    "measurement is the mean and the noise combines the run's own with two standard errors of the mean over seeds, "
    "sqrt(noise^2 + (2 sd / sqrt(K))^2). An experiment is not reproduced if any check fails, else inconclusive if "
    "any check is, else reproduced.";

static int seeds_of(const lab_ctx *ctx) { return ctx && ctx->n_seeds > 1 ? ctx->n_seeds : 1; }

/* "3 seeds (0 to 2)" or "seed 0 (one run)". */
static const char *seeds_text(const lab_ctx *ctx, char buf[64]) {
    const int k = seeds_of(ctx);
    if (k == 1) snprintf(buf, 64, "seed %llu (one run)", (unsigned long long)ctx->seed);
    else
        snprintf(buf, 64, "%d seeds (%llu to %llu)", k, (unsigned long long)ctx->seed,
                 (unsigned long long)lab_seed_k(ctx->seed, k - 1));
    return buf;
}

/* What decides float32 rounding: one line. */
static void machine_text(const lab_ctx *ctx, char *out, size_t cap) {
    const lab_machine *m = lab_machine_info();
    char tb[32];
    snprintf(out, cap, "CPU %s; BLAS %s, sgemm kernels for core %s, %d thread%s (%s)", m->cpu, m->blas, m->blas_core,
             m->blas_threads, m->blas_threads == 1 ? "" : "s", ctx ? threads_text(ctx, tb) : "default");
}

/* The mean and each seed's value: "0.81 ± 0.01 (0.80, 0.82, 0.81)". */
static const char *seed_values(const lab_check_t *k, char *out, size_t cap) {
    char nb[32];
    size_t n = (size_t)snprintf(out, cap, "sd %s over %d seeds:", fmt_num(nb, k->spread), k->n_seeds);
    for (int j = 0; j < k->n_seeds && j < LAB_MAX_SEEDS && n < cap; j++)
        n += (size_t)snprintf(out + n, cap - n, "%s %s", j ? "," : "", fmt_num(nb, k->per_seed[j]));
    return out;
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
    char nb[32], buf[64], name[32], claim[160], tb[32], sb[64], mach[512], sv[256];
    fprintf(f, "# nninit lab: results\n\n");
    if (ctx)
        fprintf(f, "Run with `nninit lab%s` (scale %s: %s), %s, %s; nninit %s.\n", scale_flag(ctx->scale),
                lab_scale_name(ctx->scale), scale_note(ctx->scale), seeds_text(ctx, sb), threads_text(ctx, tb),
                nninit_version_string());
    else fprintf(f, "nninit %s.\n", nninit_version_string());
    machine_text(ctx, mach, sizeof mach);
    fprintf(f, "\nWhat decides float32 rounding here: %s.\n\n", mach);
    fprintf(f, "%d experiments in %s s: %d %s, %d %s, %d %s", n, fmt_num(nb, total), counts[LAB_REPRODUCED],
            lab_verdict_name(LAB_REPRODUCED), counts[LAB_NOT_REPRODUCED], lab_verdict_name(LAB_NOT_REPRODUCED),
            counts[LAB_INCONCLUSIVE], lab_verdict_name(LAB_INCONCLUSIVE));
    if (errors) fprintf(f, " (%d stopped by an error)", errors);
    fprintf(f, ".\n\n%s\n\n", rule_text);

    fprintf(f, "| experiment | claim | verdict | time |\n|---|---|---|---:|\n");
    for (int i = 0; i < n; i++) {
        const lab_result *r = &res[i];
        fprintf(f, "| [");
        md_cell(f, exp_name(r, i, name, sizeof name));
        fprintf(f, "](#%s) | ", exp_name(r, i, name, sizeof name));
        short_claim(exp_field(r->exp ? r->exp->claim : NULL), claim, sizeof claim);
        md_cell(f, claim);
        fprintf(f, " | %s%s | %.1f s |\n", lab_verdict_name(verdict_of(r->verdict)),
                r->status != NNINIT_OK ? " (error)" : "", r->seconds);
    }

    for (int i = 0; i < n; i++) {
        const lab_result *r = &res[i];
        const char *nm = exp_name(r, i, name, sizeof name);
        fprintf(f, "\n## %s\n\n<a id=\"%s\"></a>`%s` &middot; **%s** &middot; %.1f s\n\n",
                r->exp && r->exp->title ? r->exp->title : nm, nm, nm, lab_verdict_name(verdict_of(r->verdict)),
                r->seconds);
        if (r->exp)
            fprintf(f, "**Claim.** %s\n\n**Source.** %s\n\n", exp_field(r->exp->claim), exp_field(r->exp->source));
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
                if (k->n_seeds > 1) {
                    fprintf(f, " (mean; ");
                    md_cell(f, seed_values(k, sv, sizeof sv));
                    fprintf(f, ")");
                }
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

/* Built with the tools' JSON writer (json.h); a missing text is "", not
 * null, so that every string field is a string. */
static void jstr(cli_json *b, cJSON *o, const char *key, const char *s) { cli_json_str(b, o, key, s ? s : ""); }

static void json_probe(cli_json *b, cJSON *arr, const char *label, const nninit_probe_report *p) {
    cJSON *o = cli_json_obj(b, arr, NULL);
    jstr(b, o, "label", label);
    cli_json_num(b, o, "loss", p->loss);
    cli_json_bool(b, o, "mean_field", p->mean_field);
    cJSON *layers = cli_json_arr(b, o, "layers");
    for (int l = 0; l < p->n_layers && p->layers; l++) {
        const nninit_probe_layer *y = &p->layers[l];
        cJSON *lo = cli_json_obj(b, layers, NULL);
        cli_json_int(b, lo, "index", y->index);
        cli_json_int(b, lo, "width", y->width);
        cli_json_num(b, lo, "post_std", y->post_std);
        cli_json_num(b, lo, "grad_std", y->grad_std);
        cli_json_num(b, lo, "saturated", y->saturated);
        cli_json_num(b, lo, "dead", y->dead);
        cli_json_num(b, lo, "q_meas", y->q_meas);
        cli_json_num(b, lo, "q_pred", y->q_pred);
    }
    cJSON *fs = cli_json_arr(b, o, "findings");
    for (int k = 0; k < p->n_findings && k < NNINIT_PROBE_MAX_FINDINGS; k++) {
        const nninit_finding *fd = &p->findings[k];
        size_t len = strlen(fd->text) + strlen(fd->advice) + 3;
        char *t = malloc(len);
        if (!t) {
            b->failed = 1;
            return;
        }
        snprintf(t, len, "%s%s%s", fd->text, fd->advice[0] ? ": " : "", fd->advice);
        jstr(b, fs, NULL, t);
        free(t);
    }
}

static void json_result(cli_json *b, cJSON *arr, const lab_result *r, int i) {
    char name[32];
    cJSON *o = cli_json_obj(b, arr, NULL);
    jstr(b, o, "name", exp_name(r, i, name, sizeof name));
    jstr(b, o, "title", r->exp ? r->exp->title : NULL);
    jstr(b, o, "claim", r->exp ? r->exp->claim : NULL);
    jstr(b, o, "source", r->exp ? r->exp->source : NULL);
    jstr(b, o, "setup", r->setup);
    jstr(b, o, "notes", r->notes);
    jstr(b, o, "verdict", lab_verdict_name(verdict_of(r->verdict)));
    cli_json_num(b, o, "seconds", r->seconds);
    jstr(b, o, "status", nninit_status_str(r->status));
    cli_json_str(b, o, "error", r->status != NNINIT_OK ? r->error : NULL);

    cJSON *checks = cli_json_arr(b, o, "checks");
    for (int c = 0; c < r->n_checks && c < LAB_MAX_CHECKS; c++) {
        const lab_check_t *k = &r->checks[c];
        cJSON *co = cli_json_obj(b, checks, NULL);
        jstr(b, co, "name", k->name);
        jstr(b, co, "prediction", k->prediction);
        jstr(b, co, "op", lab_op_text(k->op));
        cli_json_num(b, co, "threshold", k->threshold);
        cli_json_num(b, co, "noise", k->noise);
        cli_json_num(b, co, "measured", k->measured);
        cli_json_int(b, co, "seeds", k->n_seeds);
        cli_json_num(b, co, "spread", k->spread);
        cJSON *ps = cli_json_arr(b, co, "per_seed");
        for (int j = 0; j < k->n_seeds && j < LAB_MAX_SEEDS; j++) cli_json_num(b, ps, NULL, k->per_seed[j]);
        jstr(b, co, "unit", k->unit);
        jstr(b, co, "verdict", lab_verdict_name(verdict_of(k->verdict)));
    }

    cJSON *curves = cli_json_arr(b, o, "curves");
    for (int c = 0; c < r->n_curves && c < LAB_MAX_CURVES; c++) {
        const lab_curve *cv = &r->curves[c];
        cJSON *co = cli_json_obj(b, curves, NULL);
        jstr(b, co, "label", cv->label);
        cli_json_bool(b, co, "diverged", cv->diverged);
        if (cv->diverged) cli_json_int(b, co, "diverged_step", cv->diverged_step);
        else cli_json_null(b, co, "diverged_step");
        cJSON *pts = cli_json_arr(b, co, "points");
        for (int k = 0; k < cv->n && cv->points; k++) {
            const nninit_train_point *p = &cv->points[k];
            cJSON *po = cli_json_obj(b, pts, NULL);
            cli_json_int(b, po, "step", p->step);
            cli_json_num(b, po, "epoch", p->epoch);
            cli_json_num(b, po, "train_loss", p->train_loss);
            cli_json_num(b, po, "test_loss", p->test_loss);
            cli_json_num(b, po, "test_acc", p->test_acc);
            cli_json_num(b, po, "seconds", p->seconds);
        }
    }

    cJSON *plots = cli_json_arr(b, o, "plots");
    for (int p = 0; p < r->n_plots && p < LAB_MAX_PLOTS; p++) {
        const lab_plot *pl = &r->plots[p];
        cJSON *po = cli_json_obj(b, plots, NULL);
        jstr(b, po, "title", pl->title);
        jstr(b, po, "xlabel", pl->xlabel);
        jstr(b, po, "ylabel", pl->ylabel);
        cli_json_bool(b, po, "logy", pl->logy);
        cJSON *ss = cli_json_arr(b, po, "series");
        for (int s = 0; s < pl->n_series && s < LAB_MAX_SERIES; s++) {
            const lab_series *se = &pl->series[s];
            cJSON *so = cli_json_obj(b, ss, NULL);
            jstr(b, so, "label", se->label);
            cli_json_bool(b, so, "dashed", se->dashed);
            cJSON *xs = cli_json_arr(b, so, "x");
            cJSON *ys = cli_json_arr(b, so, "y");
            for (int k = 0; k < se->n && se->x && se->y; k++) {
                cli_json_num(b, xs, NULL, se->x[k]);
                cli_json_num(b, ys, NULL, se->y[k]);
            }
        }
    }

    cJSON *probes = cli_json_arr(b, o, "probes");
    for (int p = 0; p < r->n_probes && p < LAB_MAX_PROBES; p++) json_probe(b, probes, r->probe_label[p], &r->probes[p]);
}

static nninit_status json_body(FILE *f, const lab_result *res, int n, const lab_ctx *ctx, double total) {
    cli_json b;
    cli_json_init(&b);
    cJSON *meta = cli_json_obj(&b, NULL, "meta");
    jstr(&b, meta, "tool", "nninit lab");
    jstr(&b, meta, "version", nninit_version_string());
    if (ctx) {
        jstr(&b, meta, "scale", lab_scale_name(ctx->scale));
        cli_json_u64(&b, meta, "seed", ctx->seed); /* exact: no trip through double */
        cli_json_int(&b, meta, "threads", ctx->threads);
        cli_json_int(&b, meta, "seeds", seeds_of(ctx));
        cli_json_int(&b, meta, "n_train", ctx->data ? ctx->data->n_train : 0);
        cli_json_int(&b, meta, "n_test", ctx->data ? ctx->data->n_test : 0);
    } else {
        cli_json_null(&b, meta, "scale");
        cli_json_null(&b, meta, "seed");
        cli_json_null(&b, meta, "threads");
        cli_json_null(&b, meta, "seeds");
    }
    const lab_machine *m = lab_machine_info();
    cJSON *mo = cli_json_obj(&b, meta, "machine");
    jstr(&b, mo, "cpu", m->cpu);
    jstr(&b, mo, "blas", m->blas);
    jstr(&b, mo, "blas_core", m->blas_core);
    cli_json_int(&b, mo, "blas_threads", m->blas_threads);
    jstr(&b, meta, "rule", rule_text);
    cli_json_num(&b, meta, "total_seconds", total);
    cli_json_int(&b, meta, "experiments", n);
    int counts[3], errors;
    count_verdicts(res, n, counts, &errors);
    cJSON *vc = cli_json_obj(&b, meta, "verdicts");
    for (int v = 0; v < 3; v++) cli_json_int(&b, vc, lab_verdict_name((lab_verdict)v), counts[v]);
    cli_json_int(&b, meta, "errors", errors);
    cJSON *arr = cli_json_arr(&b, NULL, "experiments");
    for (int i = 0; i < n && !b.failed; i++) json_result(&b, arr, &res[i], i);
    int failed = b.failed, rc = cli_json_print(&b, f);
    int e = errno;
    cli_json_free(&b);
    if (failed) {
        lab_set_error("report: out of memory building the JSON");
        return NNINIT_ERR_NOMEM;
    }
    if (rc != 0) {
        lab_set_error("report: cannot write the JSON: %s", strerror(e));
        return NNINIT_ERR_IO;
    }
    return NNINIT_OK;
}

/* ---- index.html: SVG charts (svg.c) ---------------------------------------------- */

static void esc(FILE *f, const char *s) { svg_esc(f, s); }

static void chart(FILE *f, const char *title, const char *xlabel, const char *ylabel, const svg_line *ls, int nl,
                  int logy) {
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
    "h4{font-size:14px;margin:12px 0 4px}"
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
    "svg.plot{background:#fff;max-width:100%;height:auto}" CLI_PROBE_CSS
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
        acc[c] = (svg_line){
            labels[c], np ? &p->epoch : NULL, np ? &p->test_acc : NULL,      sizeof *p, np, palette[c % PALETTE_N],
            dash,      cv->diverged,          cv->diverged ? notes[c] : NULL};
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
        ls[s] = (svg_line){se->label,
                           ok ? se->x : NULL,
                           ok ? se->y : NULL,
                           sizeof(double),
                           ok ? se->n : 0,
                           palette[col % PALETTE_N],
                           se->dashed ? PRED_DASH : NULL,
                           0,
                           NULL};
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

/* The probe's section, as on `nninit probe --html`'s page (probe_html.h):
 * at most 12 layers' histograms, the layer table folded. */
static void html_probe(FILE *f, const char *label, const nninit_probe_report *p, int recorded_bins) {
    char title[96];
    snprintf(title, sizeof title, "Probe: %s", label);
    cli_probe_section_opts o = {4, title, probe_bins(p, recorded_bins), 12, 0, CLI_PROBE_TABLE_FOLDED};
    cli_probe_section(f, p, &o);
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
            if (k->n_seeds > 1) {
                char sv[256];
                fputs("<br><span class=\"muted\">mean; ", f);
                esc(f, seed_values(k, sv, sizeof sv));
                fputs("</span>", f);
            }
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
    for (int p = 0; p < r->n_probes && p < LAB_MAX_PROBES; p++)
        html_probe(f, r->probe_label[p], &r->probes[p], r->probe_bins[p]);
    fputs("</section>\n", f);
}

static nninit_status html_body(FILE *f, const lab_result *res, int n, const lab_ctx *ctx, double total) {
    int counts[3], errors;
    count_verdicts(res, n, counts, &errors);
    char nb[32], text[48], tb[32], sb[64], mach[512];
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>nninit lab</title>\n<style>%s</style></head>\n<body><div class=\"wrap\">\n<h1>nninit lab</h1>\n",
            css);
    fputs("<p>Published claims about weight initialization, tested on Fashion-MNIST. ", f);
    if (ctx)
        fprintf(f, "Run with <code>nninit lab%s</code>: scale <b>%s</b> (%s), %s, %s, ", scale_flag(ctx->scale),
                lab_scale_name(ctx->scale), scale_note(ctx->scale), seeds_text(ctx, sb), threads_text(ctx, tb));
    fprintf(f, "%d experiments in %s s; nninit %s.</p>\n<p class=\"counts\">", n, fmt_num(nb, total),
            nninit_version_string());
    for (int v = 0; v < 3; v++) {
        snprintf(text, sizeof text, "%d %s", counts[v], lab_verdict_name((lab_verdict)v));
        badge(f, (lab_verdict)v, text);
        fputs(" ", f);
    }
    if (errors) fprintf(f, "<span class=\"err\">%d stopped by an error</span>", errors);
    machine_text(ctx, mach, sizeof mach);
    fputs("</p>\n<p class=\"muted\">What decides float32 rounding here: ", f);
    esc(f, mach);
    fputs(".</p>\n<p class=\"muted\">", f);
    esc(f, rule_text);
    fputs(" Verdicts are computed, never written by hand.</p>\n", f);
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

/* The marker that makes a directory a report lab_report_dir may replace. */
static nninit_status marker_body(FILE *f, const lab_result *res, int n, const lab_ctx *ctx, double total) {
    (void)res, (void)n, (void)ctx, (void)total;
    fprintf(f,
            "nninit lab report (nninit %s)\n"
            "The next `nninit lab --out` to this directory replaces it whole; it refuses to if\n"
            "another file is added here, so that nothing of yours is ever deleted.\n",
            nninit_version_string());
    return NNINIT_OK;
}

nninit_status lab_report_dir_write(lab_report_dir *t, const lab_result *res, int n, const lab_ctx *ctx,
                                   double total_seconds) {
    if (!t || !t->tmp) {
        lab_set_error("report: no staging directory");
        return NNINIT_ERR_NULL;
    }
    static const struct {
        const char *file;
        body_fn body;
    } files[] = {{"results.json", json_body},
                 {"results.md", md_body},
                 {"index.html", html_body},
                 {LAB_REPORT_MARKER, marker_body}};
    size_t cap = strlen(t->tmp) + 32;
    char *path = malloc(cap);
    if (!path) {
        lab_set_error("report: out of memory");
        return NNINIT_ERR_NOMEM;
    }
    nninit_status st = NNINIT_OK;
    for (size_t k = 0; k < sizeof files / sizeof files[0] && st == NNINIT_OK; k++) {
        snprintf(path, cap, "%s/%s", t->tmp, files[k].file);
        st = write_atomic(path, files[k].body, res, n, ctx, total_seconds);
    }
    free(path);
    return st;
}

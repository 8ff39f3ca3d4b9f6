/* probe_html.c -- one probe report as HTML (see probe_html.h): the section
 * shared by `nninit probe --html` and the lab's report, and the probe's
 * page around it, written to a temporary file and renamed. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>

#include "common.h"
#include "nninit_probe.h"
#include "probe_html.h"
#include "svg.h"

/* Activations blue, gradients brown (not red: the lab's badges use red for
 * "not reproduced"), in the charts and the histograms alike; a prediction is
 * dashed, in the colour paired with its measurement. */
#define C_ACT     "#1f77b4"
#define C_GRAD    "#8c564b"
#define C_QPRED   "#ff7f0e"
#define C_CMEAS   "#2ca02c"
#define C_CPRED   "#9467bd"
#define PRED_DASH "6,4"

static void esc(FILE *f, const char *s) { svg_esc(f, s); }

/* ---- by depth -------------------------------------------------------------------- */

/* A per-layer field of the report as a chart line: y read in place (stride
 * = one layer), x = the layer number. */
#define LAYER_LINE(r, field, name, color, dash)                                                                        \
    ((svg_line){name, NULL, &(r)->layers[0].field, sizeof(nninit_probe_layer), (r)->n_layers, color, dash, 0, NULL})

static void chart(FILE *f, const char *title, const char *ylabel, const svg_line *ls, int nl, int logy, double ylo,
                  double yhi) {
    svg_chart_opts o = {title, "layer", ylabel, logy, ylo, yhi, "plot", "series"};
    svg_chart(f, &o, ls, nl);
}

/* Correlations on [0, 1] when none is negative, else [-1, 1]. */
static double corr_floor(const nninit_probe_report *r) {
    for (int l = 0; l < r->n_layers; l++)
        if (r->layers[l].corr_meas < 0 || r->layers[l].corr_pred < 0) return -1;
    return 0;
}

/* std and q^l on log axes; c^l on [0, 1] or [-1, 1]. */
static void depth_charts(FILE *f, const nninit_probe_report *r) {
    svg_line s1[] = {LAYER_LINE(r, post_std, "activation std (post)", C_ACT, NULL),
                     LAYER_LINE(r, grad_std, "gradient std (dL/d pre)", C_GRAD, NULL)};
    svg_line s2[] = {LAYER_LINE(r, q_meas, "q measured", C_ACT, NULL),
                     LAYER_LINE(r, q_pred, "q predicted (mean field)", C_QPRED, PRED_DASH)};
    svg_line s3[] = {LAYER_LINE(r, corr_meas, "c measured", C_CMEAS, NULL),
                     LAYER_LINE(r, corr_pred, "c predicted (mean field)", C_CPRED, PRED_DASH)};
    fputs("<div class=\"grid\">\n", f);
    chart(f, "Activation and gradient std by layer", "std", s1, 2, 1, 0, 0);
    chart(f, "Pre-activation second moment q^l", "q", s2, 2, 1, 0, 0);
    chart(f, "Correlation of two inputs c^l", "c", s3, 2, 0, corr_floor(r), 1);
    fputs("</div>\n", f);
}

/* ---- the layer table ----------------------------------------------------------------- */

/* A table cell: printf fmt of v, or a dash where the value does not apply
 * (NaN: no mean field for a conv layer, no gradient, ...). */
static void cell(FILE *f, const char *fmt, double v) {
    fputs("<td>", f);
    if (isnan(v)) fputs("&ndash;", f);
    else fprintf(f, fmt, v);
    fputs("</td>", f);
}

static void layer_table(FILE *f, const nninit_probe_report *r) {
    static const char *kinds[] = {"dense", "conv2d", "flatten", "residual"};
    fputs("<table class=\"layers\"><tr><th>layer</th><th>kind</th><th>act</th><th>width</th><th>pre std</th>"
          "<th>post std</th><th>q</th><th>q pred</th><th>sat %</th><th>dead %</th><th>grad std</th><th>dW/W</th>"
          "<th>distinct units (init &rarr; after)</th><th>c</th><th>c pred</th></tr>\n",
          f);
    for (int l = 0; l < r->n_layers; l++) {
        const nninit_probe_layer *p = &r->layers[l];
        fprintf(f, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%d</td>", l + 1, kinds[p->kind & 3],
                nninit_act_name(p->act), p->width);
        cell(f, "%.3g", p->pre_std);
        cell(f, "%.3g", p->post_std);
        cell(f, "%.3g", p->q_meas);
        cell(f, "%.3g", p->q_pred);
        cell(f, "%.1f", 100 * p->saturated);
        cell(f, "%.1f", 100 * p->dead);
        cell(f, "%.3g", p->grad_std);
        cell(f, "%.3g", p->update_ratio);
        fprintf(f, "<td>%d &rarr; %d</td>", p->distinct_units_init, p->distinct_units_after);
        cell(f, "%.3g", p->corr_meas);
        cell(f, "%.3g", p->corr_pred);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* ---- histograms ------------------------------------------------------------------------ */

/* The k-th of m layers drawn out of L: evenly spaced, the first and the last among them. */
static int pick(int k, int m, int L) { return m > 1 ? (int)lround((double)k * (L - 1) / (m - 1)) : 0; }

/* One series' histograms: a heading, a line on the axis, a grid of m
 * layers' histograms; shared: on the network's range where it holds the
 * layer's values. */
static void hists(FILE *f, const nninit_probe_report *r, const cli_probe_section_opts *o, int h, int m, int grad) {
    int L = r->n_layers;
    double lo = grad ? r->grad_shared_lo : r->hist_shared_lo, hi = grad ? r->grad_shared_hi : r->hist_shared_hi;
    int shared = !o->per_layer_axes && svg_range_ok(lo, hi);
    fprintf(f, "<h%d>%s</h%d>\n<p class=\"note\">", h,
            grad ? "Gradient histograms (dL/d pre-activation)" : "Activation histograms", h);
    if (m < L) fprintf(f, "%d of the %d layers, evenly spaced (the first and the last among them). ", m, L);
    if (shared) {
        char a[16], b[16];
        svg_num(a, lo);
        svg_num(b, hi);
        fprintf(f,
                "One x-axis for every layer (%s to %s, the whole network's range): a signal that vanishes with depth "
                "collapses to a spike at 0. <code>nninit probe --hist-axes layer</code> scales each layer to its own "
                "range.",
                a, b);
    } else if (o->per_layer_axes) {
        fputs("Each layer on its own x-axis (its own range): compare the tick labels, not the shapes. "
              "<code>nninit probe --hist-axes shared</code> puts them on one axis.",
              f);
    } else {
        fputs("Each layer on its own x-axis (the report has no range for the whole network): compare the tick labels, "
              "not the shapes.",
              f);
    }
    fprintf(f, "</p>\n<div class=\"grid\" data-hist=\"%s\">\n", grad ? "gradient" : "activation");
    for (int k = 0; k < m; k++) {
        int l = pick(k, m, L);
        const nninit_probe_layer *p = &r->layers[l];
        if (grad && !isfinite(p->grad_std)) continue;
        char lab[64];
        if (grad) snprintf(lab, sizeof lab, "layer %d", l + 1);
        else snprintf(lab, sizeof lab, "layer %d %s", l + 1, nninit_act_name(p->act));
        fputs("<div class=\"cell\">", f);
        if (!svg_probe_hist(f, r, l, grad, o->bins, shared, lab, grad ? C_GRAD : C_ACT, "plot") && shared)
            fputs("<div class=\"own\">own x-axis: outside the shared range</div>", f);
        fputs("</div>\n", f);
    }
    fputs("</div>\n", f);
}

/* ---- the section ------------------------------------------------------------------------- */

void cli_probe_section(FILE *f, const nninit_probe_report *r, const cli_probe_section_opts *o) {
    int h = o->heading >= 2 && o->heading <= 6 ? o->heading : 2;
    int L = r->layers ? r->n_layers : 0;
    fputs("<div class=\"probe\">\n", f);
    if (o->title) {
        fprintf(f, "<h%d>", h - 1);
        esc(f, o->title);
        fprintf(f, "</h%d>\n", h - 1);
    }
    fprintf(f, "<p class=\"note\">%d layer%s &middot; loss at init ", L, L == 1 ? "" : "s");
    if (isnan(r->loss)) fputs("NaN", f); /* a diverged net; %f would say "nan" */
    else fprintf(f, "%.4f", r->loss);
    fputs("</p>\n", f);
    if (r->n_findings > 0) fprintf(f, "<h%d>Findings</h%d>\n", h, h);
    for (int i = 0; i < r->n_findings && i < NNINIT_PROBE_MAX_FINDINGS; i++) {
        const nninit_finding *fd = &r->findings[i];
        fprintf(f, "<div class=\"finding%s\"><b>", fd->kind == NNINIT_FINDING_HEALTHY ? " healthy" : "");
        esc(f, fd->text);
        fputs("</b>", f);
        if (fd->advice[0]) {
            fputs("<br>", f);
            esc(f, fd->advice);
        }
        fputs("</div>\n", f);
    }
    char mf[640];
    nninit_probe_mean_field_text(r, mf, sizeof mf);
    fprintf(
        f, "<p>Mean field (Poole et al. 2016; Schoenholz et al. 2017)%s: ", r->mean_field ? ", last hidden layer" : "");
    esc(f, mf);
    fputs(".</p>\n", f);
    if (L > 0) {
        fprintf(f, "<h%d>By depth</h%d>\n", h, h);
        depth_charts(f, r);
        if (o->table == CLI_PROBE_TABLE_SHOWN) {
            fprintf(f, "<h%d>Layers</h%d>\n", h, h);
            layer_table(f, r);
        } else if (o->table == CLI_PROBE_TABLE_FOLDED) {
            fprintf(f, "<details><summary>Layers: the table (%d rows)</summary>\n", L);
            layer_table(f, r);
            fputs("</details>\n", f);
        }
        int m = o->max_hists > 0 && o->max_hists < L ? o->max_hists : L;
        hists(f, r, o, h, m, 0);
        hists(f, r, o, h, m, 1);
    }
    fputs("</div>\n", f);
}

/* ---- the probe's page --------------------------------------------------------------------- */

int cli_probe_html(const char *path, const nninit_probe_report *r, const char *arch, const nninit_probe_opts *o,
                   int per_layer_axes) {
    cli_atomic af;
    if (cli_atomic_open(&af, path) != 0) return -1;
    FILE *f = af.f;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>nninit probe</title>\n"
          "<style>body{font:14px sans-serif;margin:24px;max-width:1200px;color:#222}" CLI_PROBE_CSS
          "</style></head><body>\n<h1>nninit probe</h1>\n<p><code>",
          f);
    esc(f, arch);
    fprintf(f, "</code> &middot; batch %d &middot; seed %llu &middot; %.2f s</p>\n", o->batch,
            (unsigned long long)o->seed, r->seconds);
    cli_probe_section_opts so = {2, NULL, o->hist_bins, 0, per_layer_axes, CLI_PROBE_TABLE_SHOWN};
    cli_probe_section(f, r, &so);
    fputs("</body></html>\n", f);
    return cli_atomic_commit(&af);
}

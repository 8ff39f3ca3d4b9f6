/* probe_html.c -- the probe's self-contained HTML report: findings, the layer
 * table, predicted-against-measured curves and per-layer histograms, all as
 * inline SVG (no script, no network). Written to a temporary file, renamed. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "nninit_probe.h"
#include "probe_html.h"
#include "svg.h"

static void esc(FILE *f, const char *s) { svg_esc(f, s); }

/* A line chart of per-layer values y (n of them, NaN = gap) against xs = layers 1..n. */
typedef struct {
    const char *name, *color, *dash;
    const double *y;
} series;

static void chart(FILE *f, const char *title, const char *ylabel, const double *xs, int n, const series *s, int ns, int logy,
                  double ylo, double yhi) {
    svg_line ls[4];
    for (int k = 0; k < ns && k < 4; k++)
        ls[k] = (svg_line){s[k].name, xs, s[k].y, sizeof(double), n, s[k].color, s[k].dash, 0, NULL};
    svg_chart_opts o = {title, "layer", ylabel, logy, ylo, yhi, "chart", "series"};
    svg_chart(f, &o, ls, ns < 4 ? ns : 4);
}

/* Correlations on [0, 1] when none is negative, else [-1, 1]. */
static double corr_floor(const double *a, const double *b, int n) {
    for (int i = 0; i < n; i++)
        if (a[i] < 0 || b[i] < 0) return -1;
    return 0;
}

/* One histogram per layer; shared: on the network's range where it holds
 * the layer's values. */
static void hist_grid(FILE *f, const nninit_probe_report *r, int bins, int grad, int shared) {
    for (int l = 0; l < r->n_layers; l++) {
        const nninit_probe_layer *p = &r->layers[l];
        if (grad && !isfinite(p->grad_std)) continue;
        char lab[64];
        if (grad) snprintf(lab, sizeof lab, "layer %d", l + 1);
        else snprintf(lab, sizeof lab, "layer %d %s", l + 1, nninit_act_name(p->act));
        fprintf(f, "<div class=\"cell\">");
        if (!svg_probe_hist(f, r, l, grad, bins, shared, lab, grad ? "#d62728" : "#1f77b4", "hist") && shared)
            fprintf(f, "<div class=\"own\">own x-axis: outside the shared range</div>");
        fprintf(f, "</div>\n");
    }
}

/* The histogram sections: a heading, a line on the axis, the grid. */
static void hists(FILE *f, const nninit_probe_report *r, int bins, int grad, int per_layer_axes) {
    double lo = grad ? r->grad_shared_lo : r->hist_shared_lo, hi = grad ? r->grad_shared_hi : r->hist_shared_hi;
    int shared = !per_layer_axes && svg_range_ok(lo, hi);
    fprintf(f, "<h2>%s</h2>\n<p class=\"note\">", grad ? "Gradient histograms (dL/d pre-activation)" : "Activation histograms");
    if (shared) {
        char a[16], b[16];
        svg_num(a, lo);
        svg_num(b, hi);
        fprintf(f, "One x-axis for every layer (%s to %s, the whole network's range): a signal that vanishes with depth "
                   "collapses to a spike at 0. <code>--hist-axes layer</code> scales each layer to its own range.",
                a, b);
    } else {
        fputs("Each layer on its own x-axis (its own range): compare the tick labels, not the shapes. "
              "<code>--hist-axes shared</code> puts them on one axis.",
              f);
    }
    fprintf(f, "</p>\n<div class=\"grid\" data-hist=\"%s\">\n", grad ? "gradient" : "activation");
    hist_grid(f, r, bins, grad, shared);
    fprintf(f, "</div>\n");
}

int nninit__probe_html(const char *path, const nninit_probe_report *r, const char *arch, const nninit_probe_opts *o) {
    return nninit__probe_html_ex(path, r, arch, o, 0);
}

static void page_head(FILE *f, const nninit_probe_report *r, const char *arch, const nninit_probe_opts *o) {
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>nninit probe</title>\n"
               "<style>body{font:14px sans-serif;margin:24px;max-width:1200px;color:#222}"
               "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
               "th{background:#f0f0f0}.finding{margin:6px 0;padding:6px 10px;border-left:4px solid #c33;background:#fdf0f0}"
               ".healthy{border-color:#393;background:#eef8ee}.grid{display:flex;flex-wrap:wrap;gap:6px}"
               ".cell{border:1px solid #ddd;padding:2px}.own{font-size:11px;color:#a33;padding:0 2px}"
               ".note{color:#555;font-size:13px;margin:4px 0 8px}"
               "svg{background:#fff}" SVG_CSS "</style></head><body>\n");
    fprintf(f, "<h1>nninit probe</h1>\n<p><code>");
    esc(f, arch);
    fprintf(f, "</code> &middot; batch %d &middot; seed %llu &middot; loss at init %.4f &middot; %.2f s</p>\n", o->batch,
            (unsigned long long)o->seed, r->loss, r->seconds);
    fprintf(f, "<h2>Findings</h2>\n");
    for (int i = 0; i < r->n_findings; i++) {
        fprintf(f, "<div class=\"finding%s\"><b>", r->findings[i].kind == NNINIT_FINDING_HEALTHY ? " healthy" : "");
        esc(f, r->findings[i].text);
        fprintf(f, "</b><br>");
        esc(f, r->findings[i].advice);
        fprintf(f, "</div>\n");
    }
    char mf[640];
    nninit_probe_mean_field_text(r, mf, sizeof mf);
    fprintf(f, "<p>Mean field (Poole et al. 2016; Schoenholz et al. 2017)%s: ", r->mean_field ? ", last hidden layer" : "");
    esc(f, mf);
    fprintf(f, ".</p>\n");
}

/* std, q^l on log axes; c^l on [0, 1] or [-1, 1]. -1: out of memory. */
static int depth_charts(FILE *f, const nninit_probe_report *r) {
    int L = r->n_layers;
    double *buf = malloc(sizeof(double) * (size_t)(L > 0 ? L : 1) * 7);
    if (!buf) return -1;
    double *xs = buf, *post = buf + L, *g = buf + 2 * L, *qm = buf + 3 * L, *qp = buf + 4 * L, *cm = buf + 5 * L,
           *cp = buf + 6 * L;
    for (int l = 0; l < L; l++) {
        const nninit_probe_layer *p = &r->layers[l];
        xs[l] = l + 1;
        post[l] = p->post_std;
        g[l] = p->grad_std;
        qm[l] = p->q_meas;
        qp[l] = p->q_pred;
        cm[l] = p->corr_meas;
        cp[l] = p->corr_pred;
    }
    fprintf(f, "<h2>By depth</h2>\n<div class=\"grid\">\n");
    series s1[] = {{"activation std (post)", "#1f77b4", NULL, post}, {"gradient std (dL/d pre)", "#d62728", NULL, g}};
    chart(f, "Activation and gradient std by layer", "std", xs, L, s1, 2, 1, 0, 0);
    series s2[] = {{"q measured", "#1f77b4", NULL, qm}, {"q predicted (mean field)", "#ff7f0e", "6,4", qp}};
    chart(f, "Pre-activation second moment q^l", "q", xs, L, s2, 2, 1, 0, 0);
    series s3[] = {{"c measured", "#2ca02c", NULL, cm}, {"c predicted (mean field)", "#9467bd", "6,4", cp}};
    chart(f, "Correlation of two inputs c^l", "c", xs, L, s3, 2, 0, corr_floor(cm, cp, L), 1);
    fprintf(f, "</div>\n");
    free(buf);
    return 0;
}

static void layer_table(FILE *f, const nninit_probe_report *r) {
    static const char *kinds[] = {"dense", "conv2d", "flatten", "residual"};
    fprintf(f, "<h2>Layers</h2>\n<table id=\"layers\"><tr><th>layer</th><th>kind</th><th>act</th><th>width</th>"
               "<th>pre std</th><th>post std</th><th>q</th><th>q pred</th><th>sat %%</th><th>dead %%</th><th>grad std</th>"
               "<th>dW/W</th><th>distinct units (init &rarr; after)</th><th>c</th><th>c pred</th></tr>\n");
    for (int l = 0; l < r->n_layers; l++) {
        const nninit_probe_layer *p = &r->layers[l];
        fprintf(f, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%d</td><td>%.3g</td><td>%.3g</td><td>%.3g</td><td>%.3g</td>"
                   "<td>%.1f</td><td>%.1f</td><td>%.3g</td><td>%.3g</td><td>%d &rarr; %d</td><td>%.3g</td><td>%.3g</td></tr>\n",
                l + 1, kinds[p->kind & 3], nninit_act_name(p->act), p->width, p->pre_std, p->post_std, p->q_meas, p->q_pred,
                100 * p->saturated, 100 * p->dead, p->grad_std, p->update_ratio, p->distinct_units_init,
                p->distinct_units_after, p->corr_meas, p->corr_pred);
    }
    fprintf(f, "</table>\n");
}

int nninit__probe_html_ex(const char *path, const nninit_probe_report *r, const char *arch, const nninit_probe_opts *o,
                          int per_layer_axes) {
    cli_atomic af;
    if (cli_atomic_open(&af, path) != 0) return -1;
    FILE *f = af.f;
    page_head(f, r, arch, o);
    int bad = depth_charts(f, r);
    layer_table(f, r);
    hists(f, r, o->hist_bins, 0, per_layer_axes);
    hists(f, r, o->hist_bins, 1, per_layer_axes);
    fprintf(f, "</body></html>\n");
    if (bad) {
        cli_atomic_abort(&af);
        errno = ENOMEM;
        return -1;
    }
    return cli_atomic_commit(&af);
}

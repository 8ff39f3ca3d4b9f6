/* probe_html.c -- the probe's self-contained HTML report: findings, the layer
 * table, predicted-against-measured curves and per-layer histograms, all as
 * inline SVG (no script, no network). Written to a temporary file, renamed. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nninit_probe.h"

int nninit__probe_html(const char *path, const nninit_probe_report *r, const char *arch, const nninit_probe_opts *o);

static void esc(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

typedef struct {
    const char *name;
    const char *color;
    const double *y; /* n values, NaN = gap */
    int dashed;
} series;

/* A line chart of series over layers 1..n; logy plots log10 of positive values. */
static void chart(FILE *f, const char *title, const char *ylabel, int n, const series *s, int ns, int logy) {
    const double W = 520, H = 260, ml = 60, mr = 16, mt = 28, mb = 40;
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < n; i++) {
            double v = s[k].y[i];
            if (logy) v = v > 0 ? log10(v) : NAN;
            if (isfinite(v)) { lo = fmin(lo, v); hi = fmax(hi, v); }
        }
    fprintf(f, "<svg class=\"chart\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n", W, H, W, H);
    fprintf(f, "<text x=\"%.0f\" y=\"18\" class=\"t\">", ml);
    esc(f, title);
    fprintf(f, "</text>\n");
    if (!isfinite(lo)) {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">no data</text></svg>\n", ml, H / 2);
        return;
    }
    if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }
    double pad = 0.05 * (hi - lo);
    lo -= pad;
    hi += pad;
    double pw = W - ml - mr, ph = H - mt - mb;
#define PX(i) (ml + (n > 1 ? (double)(i) / (n - 1) : 0.5) * pw)
#define PY(v) (mt + (1 - ((v) - lo) / (hi - lo)) * ph)
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" class=\"frame\"/>\n", ml, mt, pw, ph);
    for (int t = 0; t <= 4; t++) {
        double v = lo + (hi - lo) * t / 4;
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">", ml - 4, PY(v) + 4);
        if (logy) fprintf(f, "1e%.1f", v);
        else fprintf(f, "%.3g", v);
        fprintf(f, "</text>\n");
    }
    for (int t = 0; t < n; t += (n > 10 ? n / 10 : 1))
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" class=\"ax\" text-anchor=\"middle\">%d</text>\n", PX(t), H - mb + 14, t + 1);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"ax\" text-anchor=\"middle\">layer</text>\n", ml + pw / 2, H - 6);
    fprintf(f, "<text x=\"12\" y=\"%.0f\" class=\"ax\" transform=\"rotate(-90 12 %.0f)\" text-anchor=\"middle\">", mt + ph / 2,
            mt + ph / 2);
    esc(f, ylabel);
    fprintf(f, "</text>\n");
    for (int k = 0; k < ns; k++) {
        fprintf(f, "<path class=\"series\" data-name=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"", s[k].name,
                s[k].color, s[k].dashed ? " stroke-dasharray=\"5,4\"" : "");
        int pen = 0;
        for (int i = 0; i < n; i++) {
            double v = s[k].y[i];
            if (logy) v = v > 0 ? log10(v) : NAN;
            if (!isfinite(v)) { pen = 0; continue; }
            fprintf(f, "%s%.1f %.1f ", pen ? "L" : "M", PX(i), PY(v));
            pen = 1;
        }
        fprintf(f, "\"/>\n");
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\" class=\"ax\">%s</text>\n", ml + pw - 150, mt + 14 + 14 * k,
                s[k].color, s[k].name);
    }
    fprintf(f, "</svg>\n");
#undef PX
#undef PY
}

static void hist_svg(FILE *f, const double *h, int bins, double lo, double hi, const char *label, const char *color) {
    const double W = 170, H = 90, mb = 16;
    double mx = 0;
    for (int b = 0; b < bins; b++) mx = fmax(mx, h[b]);
    fprintf(f, "<svg class=\"hist\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">", W, H + 14, W, H + 14);
    fprintf(f, "<text x=\"2\" y=\"11\" class=\"ax\">%s</text>", label);
    double bw = W / bins;
    for (int b = 0; b < bins && mx > 0; b++) {
        double bh = (H - mb - 14) * h[b] / mx;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>", b * bw, H - mb - bh, bw * 0.9,
                bh, color);
    }
    fprintf(f, "<text x=\"0\" y=\"%.0f\" class=\"ax\">%.2g</text><text x=\"%.0f\" y=\"%.0f\" class=\"ax\" "
               "text-anchor=\"end\">%.2g</text></svg>\n",
            H, lo, W, H, hi);
}

int nninit__probe_html(const char *path, const nninit_probe_report *r, const char *arch, const nninit_probe_opts *o) {
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) return -1;
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) { free(tmp); return -1; }
    int L = r->n_layers;
    double *buf = malloc(sizeof(double) * (size_t)(L > 0 ? L : 1) * 6);
    if (!buf) { fclose(f); remove(tmp); free(tmp); return -1; }
    double *post = buf, *qm = buf + L, *qp = buf + 2 * L, *cm = buf + 3 * L, *cp = buf + 4 * L, *g = buf + 5 * L;
    for (int l = 0; l < L; l++) {
        post[l] = r->layers[l].post_std;
        qm[l] = r->layers[l].q_meas;
        qp[l] = r->layers[l].q_pred;
        cm[l] = r->layers[l].corr_meas;
        cp[l] = r->layers[l].corr_pred;
        g[l] = r->layers[l].grad_std;
    }
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>nninit probe</title>\n"
               "<style>body{font:14px sans-serif;margin:24px;max-width:1200px;color:#222}"
               "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
               "th{background:#f0f0f0}.t{font-weight:bold;font-size:13px}.ax{font-size:10px;fill:#444}"
               ".frame{fill:none;stroke:#999}.finding{margin:6px 0;padding:6px 10px;border-left:4px solid #c33;background:#fdf0f0}"
               ".healthy{border-color:#393;background:#eef8ee}.grid{display:flex;flex-wrap:wrap;gap:6px}"
               ".cell{border:1px solid #ddd;padding:2px}</style></head><body>\n");
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
    if (r->mean_field)
        fprintf(f, "<p>Mean field (Poole et al. 2016; Schoenholz et al. 2017): &sigma;<sub>w</sub><sup>2</sup> = %.4g, "
                   "&sigma;<sub>b</sub><sup>2</sup> = %.4g, q* = %.4g, &chi;<sub>1</sub> = %.4g, &xi;<sub>q</sub> = %.3g, "
                   "&xi;<sub>c</sub> = %.3g.</p>\n",
                r->sw2, r->sb2, r->qstar, r->chi1, r->xi_q, r->xi_c);
    fprintf(f, "<h2>By depth</h2>\n<div class=\"grid\">\n");
    series s1[] = {{"activation std", "#1f77b4", post, 0}, {"gradient std", "#d62728", g, 0}};
    chart(f, "Activation and gradient std by layer", "std (log10)", L, s1, 2, 1);
    series s2[] = {{"q measured", "#1f77b4", qm, 0}, {"q predicted", "#ff7f0e", qp, 1}};
    chart(f, "Pre-activation second moment q^l", "q", L, s2, 2, 0);
    series s3[] = {{"c measured", "#2ca02c", cm, 0}, {"c predicted", "#9467bd", cp, 1}};
    chart(f, "Correlation of two inputs c^l", "c", L, s3, 2, 0);
    fprintf(f, "</div>\n<h2>Layers</h2>\n<table id=\"layers\"><tr><th>layer</th><th>kind</th><th>act</th><th>width</th>"
               "<th>pre std</th><th>post std</th><th>q</th><th>q pred</th><th>sat %%</th><th>dead %%</th><th>grad std</th>"
               "<th>dW/W</th><th>distinct units (init &rarr; after)</th><th>c</th><th>c pred</th></tr>\n");
    static const char *kinds[] = {"dense", "conv2d", "flatten", "residual"};
    for (int l = 0; l < L; l++) {
        const nninit_probe_layer *p = &r->layers[l];
        fprintf(f, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%d</td><td>%.3g</td><td>%.3g</td><td>%.3g</td><td>%.3g</td>"
                   "<td>%.1f</td><td>%.1f</td><td>%.3g</td><td>%.3g</td><td>%d &rarr; %d</td><td>%.3g</td><td>%.3g</td></tr>\n",
                l + 1, kinds[p->kind & 3], nninit_act_name(p->act), p->width, p->pre_std, p->post_std, p->q_meas, p->q_pred,
                100 * p->saturated, 100 * p->dead, p->grad_std, p->update_ratio, p->distinct_units_init,
                p->distinct_units_after, p->corr_meas, p->corr_pred);
    }
    fprintf(f, "</table>\n<h2>Activation histograms</h2>\n<div class=\"grid\">\n");
    for (int l = 0; l < L; l++) {
        char lab[64];
        snprintf(lab, sizeof lab, "layer %d %s", l + 1, nninit_act_name(r->layers[l].act));
        fprintf(f, "<div class=\"cell\">");
        hist_svg(f, r->layers[l].hist, o->hist_bins, r->layers[l].hist_lo, r->layers[l].hist_hi, lab, "#1f77b4");
        fprintf(f, "</div>\n");
    }
    fprintf(f, "</div>\n<h2>Gradient histograms (dL/d pre-activation)</h2>\n<div class=\"grid\">\n");
    for (int l = 0; l < L; l++) {
        if (!isfinite(r->layers[l].grad_std)) continue;
        char lab[64];
        snprintf(lab, sizeof lab, "layer %d", l + 1);
        fprintf(f, "<div class=\"cell\">");
        hist_svg(f, r->layers[l].grad_hist, o->hist_bins, r->layers[l].grad_hist_lo, r->layers[l].grad_hist_hi, lab,
                 "#d62728");
        fprintf(f, "</div>\n");
    }
    fprintf(f, "</div>\n</body></html>\n");
    free(buf);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

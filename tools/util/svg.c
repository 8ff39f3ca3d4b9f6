/* svg.c -- inline SVG charts for the probe's and the lab's HTML reports
 * (see svg.h). */
#include "svg.h"

#include <math.h>
#include <string.h>

void svg_esc(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

void svg_text(FILE *f, double x, double y, const char *anchor, const char *cls, const char *s) {
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\"%s%s%s class=\"%s\">", x, y, anchor ? " text-anchor=\"" : "",
            anchor ? anchor : "", anchor ? "\"" : "", cls);
    svg_esc(f, s);
    fputs("</text>\n", f);
}

/* A tick label: class "tick", data-dim "x" or "y". */
static void tick_text(FILE *f, double x, double y, const char *anchor, char dim, const char *s) {
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"tick\" data-dim=\"%c\">", x, y, anchor, dim);
    svg_esc(f, s);
    fputs("</text>\n", f);
}

/* %.*g without the exponent's padding ("2e-05" -> "2e-5", "1.5e+03" -> "1.5e3"), never "-0". */
static void fmt_g(char out[16], double v, int prec) {
    char b[32], t[32], *w = t;
    if (v == 0) v = 0; /* -0 */
    snprintf(b, sizeof b, "%.*g", prec, v);
    for (const char *o = b; *o; o++) {
        *w++ = *o;
        if (*o != 'e') continue;
        if (o[1] == '+') o++;
        else if (o[1] == '-') *w++ = *++o;
        while (o[1] == '0' && o[2]) o++;
    }
    *w = '\0';
    snprintf(out, 16, "%.15s", t);
}

void svg_num(char out[16], double v) { fmt_g(out, v, 3); }

void svg_pow10(char out[16], int k) {
    static const char *near[] = {"0.1", "1", "10", "100"};
    if (k >= -1 && k <= 2) snprintf(out, 16, "%s", near[k + 1]);
    else snprintf(out, 16, "1e%d", k);
}

static double nice_step(double range, int target) {
    double raw = range / target, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p;
}

static void add_tick(svg_axis *a, double at, double value) {
    if (a->nt >= SVG_MAX_TICKS) return;
    a->t[a->nt] = at;
    svg_num(a->lab[a->nt++], value);
}

void svg_axis_linear(svg_axis *a, double lo, double hi, int integer) {
    if (!(hi - lo > 1e-12 * fmax(1, fabs(hi)))) {
        double d = fabs(lo) > 0 ? 0.1 * fabs(lo) : 0.5;
        lo -= d;
        hi += d;
    }
    double st = nice_step(hi - lo, 5);
    if (integer && st < 1) st = 1;
    a->lo = floor(lo / st) * st;
    a->hi = ceil(hi / st) * st;
    a->nt = 0;
    for (int k = 0; a->nt < SVG_MAX_TICKS; k++) {
        double v = a->lo + k * st;
        if (v > a->hi + 1e-9 * st) break;
        if (fabs(v) < 1e-9 * st) v = 0;
        a->t[a->nt] = v;
        fmt_g(a->lab[a->nt++], v, 6); /* linear ticks: whole steps, all their digits */
    }
}

/* The range widened to whole decades, ticks at every st-th (multiples of st). */
static void log_decades(svg_axis *a, double lo, double hi) {
    a->lo = floor(lo);
    a->hi = ceil(hi);
    int st = (int)ceil((a->hi - a->lo) / 6);
    if (st < 1) st = 1;
    for (double k = ceil(a->lo / st) * st; k <= a->hi + 1e-9 && a->nt < SVG_MAX_TICKS; k += st) {
        a->t[a->nt] = k;
        svg_pow10(a->lab[a->nt++], (int)k);
    }
}

void svg_axis_log(svg_axis *a, double lo, double hi) {
    if (!(hi - lo > 1e-9)) {
        lo -= 0.5;
        hi += 0.5;
    }
    a->nt = 0;
    if (hi - lo >= 1.5) {
        log_decades(a, lo, hi);
        return;
    }
    double pad = 0.04 * (hi - lo);
    a->lo = lo - pad;
    a->hi = hi + pad;
    if (a->hi - a->lo >= 0.7) {
        static const double m125[] = {1, 2, 5};
        for (int e = (int)floor(a->lo); e <= (int)ceil(a->hi); e++)
            for (int k = 0; k < 3; k++) {
                double v = log10(m125[k]) + e;
                if (v >= a->lo && v <= a->hi) add_tick(a, v, m125[k] * pow(10, e));
            }
        return;
    }
    double vlo = pow(10, a->lo), vhi = pow(10, a->hi), st = nice_step(vhi - vlo, 4);
    for (double v = ceil(vlo / st) * st; v <= vhi && a->nt < SVG_MAX_TICKS; v += st)
        if (v > 0) add_tick(a, log10(v), v);
}

/* Where tick label s at x sits on a strip [0, width] (px, ~6 px a
 * character at 11 px): centred, or from/to its tick at an edge. */
static const char *label_span(const char *s, double x, double width, double *l, double *r) {
    double w = 6.0 * (double)strlen(s);
    if (x - w / 2 < 0) {
        *l = x - 3, *r = x - 3 + w;
        return "start";
    }
    if (x + w / 2 > width) {
        *l = x + 3 - w, *r = x + 3;
        return "end";
    }
    *l = x - w / 2, *r = x + w / 2;
    return "middle";
}

static double tick_x(const svg_axis *a, int t, double margin, double width) {
    return margin + (a->t[t] - a->lo) / (a->hi - a->lo) * (width - 2 * margin);
}

/* 1 when a's labels keep 6 px apart on a strip of width px. */
static int labels_fit(const svg_axis *a, double margin, double width) {
    double prev = -INFINITY, l, r;
    for (int t = 0; t < a->nt; t++) {
        label_span(a->lab[t], tick_x(a, t, margin, width), width, &l, &r);
        if (l < prev + 6) return 0;
        prev = r;
    }
    return 1;
}

static void inner_ticks(svg_axis *a, double st) {
    double eps = 1e-9 * st;
    a->nt = 0;
    for (double m = ceil((a->lo - eps) / st); m * st <= a->hi + eps && a->nt < 6; m++) add_tick(a, m * st, m * st);
}

void svg_axis_inner(svg_axis *a, double lo, double hi, double margin, double width) {
    static const int targets[] = {3, 5, 8};
    a->lo = lo;
    a->hi = hi;
    a->nt = 0;
    if (!(hi > lo) || !isfinite(hi - lo)) return;
    for (int k = 0; k < 3; k++) { /* about 3 ticks, more when fewer than 2 fall inside */
        inner_ticks(a, nice_step(hi - lo, targets[k]));
        if (a->nt >= 2 && labels_fit(a, margin, width)) return;
    }
    static const double thin[] = {2, 5, 10, 20, 50}; /* too wide: thin out until they fit */
    for (int k = 0; k < 5; k++) {
        inner_ticks(a, thin[k] * nice_step(hi - lo, 3));
        if (a->nt >= 1 && labels_fit(a, margin, width)) return;
    }
    a->nt = 0;
}

/* ---- line chart --------------------------------------------------------------- */

static double at(const double *p, size_t stride, int i) {
    return *(const double *)((const char *)p + (size_t)i * stride);
}
/* x NULL: the points are at 1..n (layer numbers). */
static double at_x(const svg_line *l, int i) { return l->x ? at(l->x, l->stride, i) : i + 1; }

/* Point i of l in plot coordinates (y as log10 on log axes); 0 if not drawable. */
static int point(const svg_line *l, int i, int logy, double *x, double *y) {
    *x = at_x(l, i);
    *y = at(l->y, l->stride, i);
    if (logy) *y = *y > 0 ? log10(*y) : NAN;
    return isfinite(*x) && isfinite(*y);
}

/* Chart geometry (px). */
enum {
    CW = 560,
    CML = 62,
    CMR = 16,
    CMT = 28,
    CPH = 210,
    CLEG = 16
};

typedef struct {
    double xlo, xhi, ylo, yhi;
    int xint, hidden; /* hidden: values <= 0 a log axis cannot show */
} extent;

static extent data_extent(const svg_line *ls, int nl, int logy) {
    extent e = {INFINITY, -INFINITY, INFINITY, -INFINITY, 1, 0};
    double x, y;
    for (int k = 0; k < nl; k++)
        for (int i = 0; i < ls[k].n; i++) {
            if (logy && isfinite(at_x(&ls[k], i)) && at(ls[k].y, ls[k].stride, i) <= 0) e.hidden++;
            if (point(&ls[k], i, logy, &x, &y)) {
                e.xint &= x == floor(x);
                e.xlo = fmin(e.xlo, x);
                e.xhi = fmax(e.xhi, x);
                e.ylo = fmin(e.ylo, y);
                e.yhi = fmax(e.yhi, y);
            }
        }
    return e;
}

typedef struct {
    svg_axis x, y;
    double pw, ph;
} frame;

static double px(const frame *fr, double v) { return CML + (v - fr->x.lo) / (fr->x.hi - fr->x.lo) * fr->pw; }
static double py(const frame *fr, double v) { return CMT + (1 - (v - fr->y.lo) / (fr->y.hi - fr->y.lo)) * fr->ph; }

static void draw_line(FILE *f, const frame *fr, const svg_line *l, int logy, const char *cls) {
    int pen = 0, drawn = 0;
    double lx = 0, ly = 0, x, y;
    fprintf(f, "<path class=\"%s\" data-name=\"", cls);
    svg_esc(f, l->label);
    fprintf(f, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"", l->color);
    if (l->dash) fprintf(f, " stroke-dasharray=\"%s\"", l->dash);
    fputs(" d=\"", f);
    for (int i = 0; i < l->n; i++) {
        if (!point(l, i, logy, &x, &y)) {
            pen = 0;
            continue;
        }
        lx = px(fr, x);
        ly = py(fr, y);
        fprintf(f, "%s%.1f %.1f", pen ? " L" : (drawn ? " M" : "M"), lx, ly);
        pen = 1;
        drawn++;
    }
    fputs("\"/>\n", f);
    if (drawn > 0 && drawn <= 24) /* few points: show them */
        for (int i = 0; i < l->n; i++)
            if (point(l, i, logy, &x, &y))
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", px(fr, x), py(fr, y), l->color);
    if (l->mark_last && drawn)
        fprintf(f,
                "<path class=\"diverged\" d=\"M%.1f %.1fl10 10m0 -10l-10 10\" stroke=\"%s\" stroke-width=\"2.5\"/>\n",
                lx - 5, ly - 5, l->color);
}

/* Legend entry k: a swatch (the line's colour and dash), then its label. */
static void legend_item(FILE *f, const svg_line *l, double lx, double ly, int cols) {
    fprintf(f,
            "<line class=\"swatch\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"2.5\"",
            lx, lx + 24, ly - 4, ly - 4, l->color);
    if (l->dash) fprintf(f, " stroke-dasharray=\"%s\"", l->dash);
    fputs("/>\n", f);
    /* keep the text in its column (~6 px a character): cut the label, never the note */
    size_t room = cols == 2 ? 34 : 72, len = strlen(l->label), nl2 = l->note ? strlen(l->note) + 1 : 0;
    size_t keep = len + nl2 <= room ? len : room > nl2 + 8 ? room - nl2 - 1 : 8;
    while (keep < len && keep > 0 && ((unsigned char)l->label[keep] & 0xC0) == 0x80) keep--; /* UTF-8 boundary */
    char lab[96];
    snprintf(lab, sizeof lab, "%.*s%s", (int)keep, l->label, keep < len ? "\xe2\x80\xa6" : "");
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"legend\">", lx + 30, ly);
    svg_esc(f, lab);
    if (l->note) {
        fputs(" <tspan class=\"dv\">", f);
        svg_esc(f, l->note);
        fputs("</tspan>", f);
    }
    fputs("</text>\n", f);
}

static void draw_axes(FILE *f, const frame *fr) {
    for (int t = 0; t < fr->y.nt; t++) {
        double y = py(fr, fr->y.t[t]);
        fprintf(f, "<line x1=\"%d\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" class=\"gridline\"/>\n", CML, CML + fr->pw, y,
                y);
        tick_text(f, CML - 5, y + 4, "end", 'y', fr->y.lab[t]);
    }
    for (int t = 0; t < fr->x.nt; t++) tick_text(f, px(fr, fr->x.t[t]), CMT + fr->ph + 14, "middle", 'x', fr->x.lab[t]);
}

void svg_chart(FILE *f, const svg_chart_opts *o, const svg_line *ls, int nl) {
    int logy = o->logy, fixed = !logy && o->ylo < o->yhi;
    extent e = data_extent(ls, nl, logy);
    /* Legend: two columns when the labels are short enough, else one. */
    int cols = 2;
    for (int k = 0; k < nl; k++)
        if (strlen(ls[k].label) + (ls[k].note ? strlen(ls[k].note) + 1 : 0) > 34) cols = 1;
    int rows = (nl + cols - 1) / cols;
    frame fr;
    fr.pw = CW - CML - CMR;
    fr.ph = CPH;
    double H = CMT + fr.ph + 40 + rows * CLEG + 6;
    fprintf(
        f,
        "<svg class=\"%s\" data-kind=\"chart\" data-scale=\"%s\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
        "role=\"img\" aria-label=\"",
        o->svg_class ? o->svg_class : "plot", logy ? "log" : "linear", CW, H, CW, H);
    svg_esc(f, o->title);
    fputs("\">\n", f);
    svg_text(f, CML, 18, NULL, "t", o->title);
    if (e.hidden) {
        char msg[64];
        snprintf(msg, sizeof msg, "%d value%s \xe2\x89\xa4 0 not shown (log scale)", e.hidden,
                 e.hidden == 1 ? "" : "s");
        svg_text(f, CML + fr.pw, 18, "end", "ax", msg);
    }
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" class=\"frame\"/>\n", CML, CMT, fr.pw, fr.ph);
    svg_text(f, CML + fr.pw / 2, CMT + fr.ph + 32, "middle", "ax", o->xlabel);
    fprintf(f, "<text x=\"14\" y=\"%.0f\" transform=\"rotate(-90 14 %.0f)\" text-anchor=\"middle\" class=\"ax\">",
            CMT + fr.ph / 2, CMT + fr.ph / 2);
    svg_esc(f, o->ylabel);
    fputs(logy ? " (log scale)</text>\n" : "</text>\n", f);
    if (isfinite(e.xlo)) {
        svg_axis_linear(&fr.x, e.xlo, e.xhi, e.xint);
        if (logy) svg_axis_log(&fr.y, e.ylo, e.yhi);
        else if (fixed) svg_axis_linear(&fr.y, o->ylo, o->yhi, 0);
        else svg_axis_linear(&fr.y, e.ylo, e.yhi, 0);
    }
    /* a span beyond DBL_MAX (data near +-1e308) has no scale either */
    if (isfinite(e.xlo) && isfinite(fr.x.hi - fr.x.lo) && isfinite(fr.y.hi - fr.y.lo)) {
        draw_axes(f, &fr);
        for (int k = 0; k < nl; k++) draw_line(f, &fr, &ls[k], logy, o->path_class ? o->path_class : "line");
    } else {
        svg_text(f, CML + fr.pw / 2, CMT + fr.ph / 2, "middle", "ax", "no finite data");
    }
    for (int k = 0; k < nl; k++)
        legend_item(f, &ls[k], CML + (k % cols) * (fr.pw / 2), CMT + fr.ph + 40 + (k / cols) * CLEG + 8, cols);
    fputs("</svg>\n", f);
}

/* ---- histogram ------------------------------------------------------------------ */

/* Histogram geometry (px): bars between HT and HB, ticks below. */
enum {
    HW = 180,
    HH = 80,
    HM = 6,
    HT = 16,
    HB = 60
};

static void hist_ticks(FILE *f, const svg_axis *a) {
    for (int t = 0; t < a->nt; t++) {
        double x = tick_x(a, t, HM, HW), l, r;
        const char *anchor = label_span(a->lab[t], x, HW, &l, &r);
        fprintf(f, "<line class=\"tickmark\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>", x, x, HB, HB + 3);
        tick_text(f, anchor[0] == 's' ? x - 3 : anchor[0] == 'e' ? x + 3 : x, HB + 14, anchor, 'x', a->lab[t]);
    }
}

/* A dashed line at 0 when the range holds it, under the bars. */
static void hist_zero(FILE *f, const svg_axis *a) {
    for (int t = 0; t < a->nt; t++)
        if (a->t[t] == 0) {
            double x = tick_x(a, t, HM, HW);
            fprintf(f, "<line class=\"zero\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>", x, x, HT - 2, HB);
        }
}

void svg_hist(FILE *f, const svg_hist_spec *s) {
    int bins = s->bins < 0 ? 0 : s->bins, nonzero = 0;
    double mx = 0, pw = HW - 2 * HM;
    for (int b = 0; b < bins; b++)
        if (isfinite(s->h[b]) && s->h[b] > 0) {
            nonzero++;
            mx = fmax(mx, s->h[b]);
        }
    int ok = nonzero > 0 && isfinite(s->lo) && isfinite(s->hi) && s->hi > s->lo;
    char lo[16], hi[16];
    svg_num(lo, ok ? s->lo : 0);
    svg_num(hi, ok ? s->hi : 0);
    fprintf(f,
            "<svg class=\"%s\" data-kind=\"hist\" data-series=\"%s\" data-layer=\"%d\" data-axis=\"%s\" data-lo=\"%s\" "
            "data-hi=\"%s\" data-bins=\"%d\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">",
            s->svg_class ? s->svg_class : "hist", s->series ? s->series : "", s->layer, s->shared ? "shared" : "layer",
            lo, hi, bins, HW, HH, HW, HH);
    if (s->label) svg_text(f, 2, 11, NULL, "ax", s->label);
    fprintf(f, "<line x1=\"0\" x2=\"%d\" y1=\"%d\" y2=\"%d\" class=\"frame\"/>", HW, HB, HB);
    if (!ok) {
        svg_text(f, HW / 2.0, HB - 20, "middle", "ax", "no data");
        fputs("</svg>\n", f);
        return;
    }
    char peak[32];
    snprintf(peak, sizeof peak, "peak %.0f%%", 100 * mx); /* bars are scaled to the tallest */
    svg_text(f, HW - 2, 11, "end", "ax peak", peak);
    svg_axis a;
    svg_axis_inner(&a, s->lo, s->hi, HM, HW);
    hist_zero(f, &a);
    double bw = pw / bins, gap = bw > 3 ? 0.1 * bw : 0;
    for (int b = 0; b < bins; b++) {
        if (!(isfinite(s->h[b]) && s->h[b] > 0)) continue;
        double bh = fmax(1, (HB - HT) * s->h[b] / mx); /* a non-empty bin shows */
        fprintf(f,
                "<rect class=\"bar\" data-bin=\"%d\" data-frac=\"%.4g\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                "height=\"%.2f\" "
                "fill=\"%s\"/>",
                b, s->h[b], HM + b * bw, HB - bh, fmax(bw - gap, 0.8), bh, s->color);
    }
    hist_ticks(f, &a);
    fputs("</svg>\n", f);
}

/* ---- a probe layer's histogram ---------------------------------------------------- */

/* The data's extent from a histogram over [lo, hi] = [min, max], or
 * [v - .5, v + .5] with one bin used when every value is v. */
static void data_extent_of(const double *h, int bins, double lo, double hi, double *mn, double *mx) {
    int nz = 0;
    for (int b = 0; b < bins; b++) nz += h[b] > 0;
    if (nz == 1 && fabs(hi - lo - 1) < 1e-9) lo = hi = 0.5 * (lo + hi);
    *mn = lo;
    *mx = hi;
}

int svg_range_ok(double lo, double hi) { return isfinite(lo) && isfinite(hi) && hi > lo; }

int svg_probe_hist(FILE *f, const nninit_probe_report *r, int l, int grad, int bins, int shared, const char *label,
                   const char *color, const char *svg_class) {
    const nninit_probe_layer *y = &r->layers[l];
    if (bins > NNINIT_PROBE_MAX_BINS) bins = NNINIT_PROBE_MAX_BINS;
    const double *own = grad ? y->grad_hist : y->hist;
    double lo = grad ? y->grad_hist_lo : y->hist_lo, hi = grad ? y->grad_hist_hi : y->hist_hi;
    double slo = grad ? r->grad_shared_lo : r->hist_shared_lo, shi = grad ? r->grad_shared_hi : r->hist_shared_hi;
    if (shared && svg_range_ok(slo, shi)) {
        double mn, mx, tol = 1e-9 * (shi - slo);
        data_extent_of(own, bins, lo, hi, &mn, &mx);
        shared = mn >= slo - tol && mx <= shi + tol;
    } else {
        shared = 0;
    }
    svg_hist_spec s = {shared ? (grad ? y->grad_shist : y->shist) : own,
                       bins,
                       shared ? slo : lo,
                       shared ? shi : hi,
                       label,
                       color,
                       svg_class,
                       grad ? "gradient" : "activation",
                       l + 1,
                       shared};
    svg_hist(f, &s);
    return shared;
}

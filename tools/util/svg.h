/* svg.h -- inline SVG charts shared by the probe's HTML report
 * (tools/util/probe_html.c) and the lab's report (lab/report.c): readable
 * axes (log axes ticked at powers of ten: 1e-4, 0.1, 1, 100), line charts
 * with legend swatches, and histograms whose x-axis can be shared by every
 * layer of a network.
 *
 * Everything a test may want to find carries a class or data attribute:
 *   <svg class="..." data-kind="chart" data-scale="log|linear">
 *     <path class="line" data-name="...">, <line class="swatch">,
 *     <text class="tick" data-dim="x|y">
 *   <svg class="..." data-kind="hist" data-series="activation|gradient"
 *        data-layer="N" data-axis="shared|layer" data-lo data-hi data-bins>
 *     <rect class="bar" data-bin="k" data-frac="...">, <text class="tick"> */
#ifndef NNINIT_TOOLS_SVG_H
#define NNINIT_TOOLS_SVG_H

#include <stddef.h>
#include <stdio.h>

#include "nninit_probe.h"

/* CSS for the classes below; a page puts it in its <style>. */
#define SVG_CSS                                                                                                        \
    "svg .t{font-size:13px;font-weight:600;fill:#1f2328}svg .ax,svg .tick,svg .legend{font-size:11px;fill:#424a53}"    \
    "svg .dv{font-weight:600}svg .frame{fill:none;stroke:#8c959f}svg .gridline{stroke:#eaeef2}"                        \
    "svg .tickmark{stroke:#8c959f}svg .zero{stroke:#8c959f;stroke-dasharray:2,2}"

/* Text for HTML and SVG: < > & " ' escaped. */
void svg_esc(FILE *f, const char *s);
/* <text x y [text-anchor] class>s</text> */
void svg_text(FILE *f, double x, double y, const char *anchor, const char *cls, const char *s);

/* A compact number: 3 significant digits, exponents without padding
 * ("2e-5", "1.5e3"), never "-0". */
void svg_num(char out[16], double v);
/* 10^k as a tick label: "0.1", "1", "10", "100", else "1e-4", "1e3". */
void svg_pow10(char out[16], int k);

#define SVG_MAX_TICKS 24

typedef struct {
    double lo, hi; /* axis range, in plot units (log10 on a log axis) */
    int nt;
    double t[SVG_MAX_TICKS]; /* tick positions, plot units */
    char lab[SVG_MAX_TICKS][16];
} svg_axis;

/* [lo, hi] widened to whole ticks (whole numbers when integer is set). */
void svg_axis_linear(svg_axis *a, double lo, double hi, int integer);
/* lo, hi: log10 of the data. Powers of ten when the data span a few decades
 * (every other one, or more, when they span many), 1-2-5 values when about
 * one, else evenly spaced values. */
void svg_axis_log(svg_axis *a, double lo, double hi);
/* Exactly [lo, hi] (a histogram's range) drawn from margin to width -
 * margin on a strip width px wide, with 2 to 5 round ticks inside (0 among
 * them when inside), fewer where their labels would not fit. */
void svg_axis_inner(svg_axis *a, double lo, double hi, double margin, double width);

typedef struct {
    const char *label;
    const double *x, *y; /* point i at (char *)x + i * stride; x NULL: at x = i + 1 */
    size_t stride;
    int n;
    const char *color;
    const char *dash; /* stroke-dasharray, or NULL for a solid line */
    int mark_last;    /* a cross at the last drawn point (diverged run) */
    const char *note; /* shown after the label in the legend, in bold (or NULL) */
} svg_line;

typedef struct {
    const char *title, *xlabel, *ylabel;
    int logy;
    double ylo, yhi;        /* a fixed linear y range when ylo < yhi (a correlation's [-1, 1]) */
    const char *svg_class;  /* class of the <svg>: NULL = "plot" */
    const char *path_class; /* class of each line's <path>: NULL = "line" */
} svg_chart_opts;

/* A line chart with a legend below it (a swatch of each line's colour and
 * dash, then its label): one path per line, broken where a point is NaN/inf
 * (or <= 0 on a log axis, which the title line then counts). */
void svg_chart(FILE *f, const svg_chart_opts *o, const svg_line *ls, int nl);

typedef struct {
    const double *h; /* bins fractions over [lo, hi] */
    int bins;
    double lo, hi;
    const char *label; /* top left (NULL: none) */
    const char *color;
    const char *svg_class; /* NULL = "hist" */
    const char *series;    /* data-series: "activation", "gradient" */
    int layer;             /* data-layer (1-based); 0: none */
    int shared;            /* data-axis: "shared" (one range for the network) or "layer" */
} svg_hist_spec;

/* A histogram: one bar per non-empty bin, heights relative to the tallest
 * (whose fraction it prints top right, "peak 97%"),
 * round x ticks from svg_axis_inner (so histograms on the same range carry
 * the same tick labels) and a dashed line at 0 when it is inside. */
void svg_hist(FILE *f, const svg_hist_spec *s);

/* 1 when [lo, hi] is a finite, non-empty range. */
int svg_range_ok(double lo, double hi);

/* Layer l's activation (grad = 0) or gradient (grad = 1) histogram of a
 * probe report. shared: on the network's range (hist_shared_lo..hi or
 * grad_shared_lo..hi) where the report has one and it holds the layer's
 * values (the output layer's gradient may not: it would pile up in the end
 * bins), else on the layer's own range. bins: the probe's opts.hist_bins.
 * Returns 1 when drawn on the shared range. */
int svg_probe_hist(FILE *f, const nninit_probe_report *r, int l, int grad, int bins, int shared, const char *label,
                   const char *color, const char *svg_class);

#endif

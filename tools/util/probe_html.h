/* probe_html.h -- one probe report as HTML (tools/util/probe_html.c): the
 * section `nninit probe --html FILE` makes a page of, and the lab's
 * index.html shows for each probe an experiment kept, so that both read the
 * same: summary, findings, mean field, depth charts, layer table and
 * histogram grids, all inline SVG (svg.h; no script, no URL).
 *
 * Everything is inside <div class="probe">; a test may look for
 *   <svg class="plot" data-kind="chart|hist" ...> (svg.h), <path class="series">,
 *   <table class="layers"> (one <tr> per layer after the header row),
 *   <div class="grid" data-hist="activation|gradient">, <div class="finding[ healthy]">. */
#ifndef NNINIT_TOOLS_PROBE_HTML_H
#define NNINIT_TOOLS_PROBE_HTML_H

#include <stdio.h>

#include "nninit_probe.h"
#include "svg.h"

/* CSS for the section (scoped to .probe, SVG_CSS included); a page puts it
 * in its <style>. */
#define CLI_PROBE_CSS                                                                                                  \
    ".probe table.layers{border-collapse:collapse;font-size:12px;width:auto;margin:4px 0}"                             \
    ".probe table.layers td,.probe table.layers th{border:1px solid #d0d7de;padding:2px 6px;text-align:right;"         \
    "vertical-align:baseline}.probe table.layers th{background:#f6f8fa}"                                               \
    ".probe .finding{margin:6px 0;padding:6px 10px;border-left:4px solid #c33;background:#fdf0f0}"                     \
    ".probe .healthy{border-color:#393;background:#eef8ee}"                                                            \
    ".probe .grid{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0}"                                                   \
    ".probe .cell{border:1px solid #d0d7de;padding:2px}.probe .own{font-size:11px;color:#a33;padding:0 2px}"           \
    ".probe .note{color:#59636e;font-size:13px;margin:4px 0 8px}.probe summary{cursor:pointer;color:#59636e}"          \
    ".probe svg{background:#fff;max-width:100%;height:auto}" SVG_CSS

/* The layer table: left out, shown, or folded in a <details> (a page with
 * many probes stays short to scroll; the table is one click away). */
typedef enum {
    CLI_PROBE_TABLE_NONE,
    CLI_PROBE_TABLE_SHOWN,
    CLI_PROBE_TABLE_FOLDED
} cli_probe_table;

typedef struct {
    int heading;           /* level of the parts' headings (Findings, By depth, ...), 2..6 */
    const char *title;     /* a heading one level above them, or NULL for none */
    int bins;              /* histogram bins: the probe's opts.hist_bins */
    int max_hists;         /* at most this many layers' histograms, evenly spaced, the first
                              and the last among them; 0: every layer's */
    int per_layer_axes;    /* each histogram on its layer's own range, not the network's */
    cli_probe_table table; /* the layer table */
} cli_probe_section_opts;

/* Write r as an HTML fragment to f: a summary line (layers, loss at init),
 * the findings, the mean-field line, three charts by depth (std, q^l, c^l;
 * predictions dashed), the layer table, then the activation and gradient
 * histograms. Histograms share one x-axis per network (the report's
 * hist_shared_lo..hi and grad_shared_lo..hi, where it holds the layer's
 * values) unless per_layer_axes is set. A report without layers gets the
 * summary and findings only. Nothing is allocated; write errors show in
 * ferror(f). */
void cli_probe_section(FILE *f, const nninit_probe_report *r, const cli_probe_section_opts *o);

/* `nninit probe --html`: a page for r (probed with o; arch as the user wrote
 * it) with the section above (every layer's histograms, the table shown),
 * written to path atomically. 0 on success, -1 with errno on failure. */
int cli_probe_html(const char *path, const nninit_probe_report *r, const char *arch, const nninit_probe_opts *o,
                   int per_layer_axes);

#endif

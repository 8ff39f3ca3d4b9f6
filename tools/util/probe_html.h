/* probe_html.h -- `nninit probe --html FILE`: the probe's self-contained
 * HTML report (tools/util/probe_html.c). */
#ifndef NNINIT_TOOLS_PROBE_HTML_H
#define NNINIT_TOOLS_PROBE_HTML_H

#include "nninit_probe.h"

/* Write the report for r (probed with o, arch as the user wrote it) to
 * path, atomically. Histograms share one x-axis per network (the report's
 * hist_shared_lo..hi and grad_shared_lo..hi) unless per_layer_axes is set,
 * then each layer is drawn on its own range. 0 on success, -1 on failure. */
int nninit__probe_html_ex(const char *path, const nninit_probe_report *r, const char *arch, const nninit_probe_opts *o,
                          int per_layer_axes);
/* The same with shared axes. */
int nninit__probe_html(const char *path, const nninit_probe_report *r, const char *arch, const nninit_probe_opts *o);

#endif

/* probe_internal.h -- what the probe's files share. */
#ifndef NNINIT_PROBE_INTERNAL_H
#define NNINIT_PROBE_INTERNAL_H

#include "nninit_probe.h"

/* Probe batch x (B x in) with labels y, and the correlated pair (2 x in). */
nninit_status nninit__probe_inputs(const nninit_probe_opts *o, int in, int classes, float *x, int *y, float *pair);
/* Fill q_pred, corr_pred, grad_var_pred_ratio and the report's summary when
 * the net is a dense MLP whose weights are zero-mean with variance sw2/fan_in. */
void nninit__probe_mean_field(const nninit_arch *arch, nninit_net *net, const nninit_layer_init *default_init,
                              const float *x, int batch, const float *pair, int drawn, nninit_probe_report *rep);
int nninit__probe_distinct(const float *x, int n, int len, int64_t si, int64_t sk, double tol);
void nninit__probe_diagnose(nninit_probe_report *r, int sgd_steps, double pair_corr, int batch);

#endif

/* probe_mf.c -- mean-field predictions next to the probe's measurements.
 *
 * Applies to plain dense MLPs (Poole et al. 2016; Schoenholz et al. 2017):
 * layer l has W ~ (0, sw2_l / fan_in) and b ~ (0, sb2_l) i.i.d.; sw2_l and
 * sb2_l come from the layer's init scheme (variance times fan_in, by
 * nninit_explain) where it resolves to a zero-mean distribution, else they
 * are read off the values actually drawn (mean square times fan_in). Each
 * layer's maps use that layer's own activation and parameter (leaky slope,
 * elu alpha) exactly as the engine applies it. q^1 = sw2_1 mean(x^2) + sb2_1,
 * then q^{l+1} = sw2_{l+1} E[phi_l(sqrt(q^l) z)^2] + sb2_{l+1}; the pair's
 * correlation follows the c map; the backward second moment follows
 * E[delta_l^2] = sw2_{l+1} E[phi_l'(h)^2] (N_{l+1}/N_l) E[delta_{l+1}^2].
 *
 * A zero init (sw2 = 0) is covered too: every pre-activation below the output
 * is its bias, q^l = sb2_l, and no gradient passes below a zero layer. Where
 * the theory does not apply, rep->mf_note says exactly why. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "nninit_meanfield.h"
#include "probe/probe_internal.h"

static double mean_sq(const float *x, int64_t n, double *mean) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) {
        s += x[i];
        s2 += (double)x[i] * x[i];
    }
    *mean = n ? s / (double)n : 0;
    return n ? s2 / (double)n : 0;
}

/* Variance of a scheme on a tensor if it resolves to zero mean, else NaN. */
static double spec_variance(const nninit_spec *s, int ndim, int64_t r, int64_t c) {
    int64_t shape[2] = {r, c};
    nninit_tensor t = nninit_tensor_make(ndim, shape, NNINIT_F32);
    nninit_info info;
    if (nninit_explain(s, &t, &info) || info.kind == NNINIT_RESOLVED_STRUCTURED || info.mean != 0.0) return NAN;
    return info.variance;
}

/* A mean m of n drawn values with mean square ms that zero-mean draws would
 * not give: beyond a tenth of the rms, and beyond 3 standard errors (a
 * 16-value bias has a sample mean of 0.25 rms by chance). */
static int nonzero_mean(double m, double ms, int64_t n) {
    return fabs(m) > fmax(0.1, 3.0 / sqrt((double)n)) * sqrt(ms);
}

/* The mean-field parameter of an activation as the engine applies it. */
static double mf_param(nninit_act a, double ap) { return a == NNINIT_ACT_LEAKY_RELU || a == NNINIT_ACT_ELU ? ap : NAN; }

/* Summary at the last hidden layer's parameters, from the first layer's q. */
static void summarize(const nninit_mf_net *n, double q0, nninit_probe_report *rep) {
    nninit_mf_fixed fx;
    rep->sw2 = n->sw2;
    rep->sb2 = n->sb2;
    if (nninit_mf_analyze(n, q0 > 0 ? q0 : 1.0, &fx) == NNINIT_OK) {
        rep->qstar = fx.qstar;
        rep->chi1 = fx.chi_1;
        rep->xi_q = fx.xi_q;
        rep->xi_c = fx.xi_c;
        rep->cstar = fx.cstar;
        rep->chi1_asym = fx.chi_1;
    } else { /* no finite fixed point: q grows; its rate far out */
        double big = 1e6 * (q0 + 1.0), qb, chi;
        if (nninit_mf_q_map(n, big, &qb) == NNINIT_OK && nninit_mf_chi1(n, big, &chi) == NNINIT_OK) {
            rep->q_unbounded = 1;
            rep->q_growth = qb / big;
            rep->chi1_asym = chi;
        }
    }
}

/* sigma_w^2 read off float draws carries their rounding (orthogonal with
 * gain sqrt 2 gives 2 +- 1e-8): six significant digits, so that an exactly
 * critical scale is seen as one. */
static double round6(double v) {
    if (!(v > 0) || !isfinite(v)) return v;
    double e = pow(10.0, floor(log10(v)) - 5);
    return round(v / e) * e;
}

void nninit__probe_mean_field(const nninit_arch *arch, nninit_net *net, const nninit_layer_init *default_init,
                              const float *x, int batch, const float *pair, int drawn, nninit_probe_report *rep) {
    int L = rep->n_layers, in = nninit_net_input_size(net);
    rep->mf_note[0] = '\0';
    if (L < 2) {
        snprintf(rep->mf_note, sizeof rep->mf_note, "a single layer: there is no hidden layer to propagate through");
        return;
    }
    double *sw2 = malloc(sizeof(double) * (size_t)L), *sb2 = malloc(sizeof(double) * (size_t)L);
    double *q = malloc(sizeof(double) * (size_t)L), *ap = malloc(sizeof(double) * (size_t)L);
    int *width = malloc(sizeof(int) * (size_t)L);
    nninit_act *act = malloc(sizeof(nninit_act) * (size_t)L);
    if (!sw2 || !sb2 || !q || !ap || !width || !act) goto out;
    int zero = 0; /* some layer has sw2 = 0 */
    for (int l = 0; l < L; l++) {
        nninit_layer_view v;
        if (nninit_net_layer(net, l, &v)) goto out;
        if (v.kind == NNINIT_LAYER_CONV2D) {
            snprintf(rep->mf_note, sizeof rep->mf_note,
                     "not predicted for conv nets (layer %d is conv2d): the q map holds per channel away from the "
                     "borders (Xiao et al. 2018), but zero padding and the spatial correlations are not modelled; "
                     "the measurements stand alone",
                     l + 1);
            goto out;
        }
        if (v.kind == NNINIT_LAYER_RESIDUAL) {
            snprintf(rep->mf_note, sizeof rep->mf_note,
                     "not predicted for residual nets (layer %d is a residual block): a block adds its branch's "
                     "variance to its input (q grows with the number of blocks unless the branch starts at zero), "
                     "which the plain-MLP maps here do not model; the measurements stand alone",
                     l + 1);
            goto out;
        }
        if (v.kind != NNINIT_LAYER_DENSE || !v.w) {
            snprintf(rep->mf_note, sizeof rep->mf_note, "not predicted: layer %d is not a dense layer", l + 1);
            goto out;
        }
        const nninit_layer_init *li =
            (l < arch->n_layers && arch->layers[l].has_init) ? &arch->layers[l].init : default_init;
        /* drawn: the weights were changed after the fill (LSUV), so the scheme no longer describes them */
        double vw = li && !drawn ? spec_variance(&li->weight, 2, v.w_rows, v.w_cols) : NAN;
        double vb = li && !drawn ? spec_variance(&li->bias, 1, v.w_rows, 1) : NAN;
        double m;
        if (isfinite(vw)) {
            sw2[l] = vw * (double)v.w_cols;
        } else { /* read it off the drawn weights; zero-mean i.i.d. only */
            double ms = mean_sq(v.w, v.w_rows * v.w_cols, &m);
            if (ms > 0 && nonzero_mean(m, ms, v.w_rows * v.w_cols)) {
                snprintf(rep->mf_note, sizeof rep->mf_note,
                         "not predicted: layer %d's weights have mean %.3g (rms %.3g); the theory needs zero-mean "
                         "i.i.d. weights",
                         l + 1, m, sqrt(ms));
                goto out;
            }
            sw2[l] = round6(ms * (double)v.w_cols);
        }
        if (isfinite(vb)) {
            sb2[l] = vb;
        } else if (v.b) {
            double ms = mean_sq(v.b, v.w_rows, &m);
            if (ms > 0 && nonzero_mean(m, ms, v.w_rows)) {
                snprintf(rep->mf_note, sizeof rep->mf_note,
                         "not predicted: layer %d's biases have mean %.3g (rms %.3g); the theory needs zero-mean "
                         "i.i.d. biases",
                         l + 1, m, sqrt(ms));
                goto out;
            }
            sb2[l] = round6(ms);
        } else {
            sb2[l] = 0.0;
        }
        if (!(sw2[l] > 0)) zero = 1;
        width[l] = v.out_size;
        act[l] = v.act;
        ap[l] = mf_param(v.act, v.act_param);
        if ((int)act[l] >= NNINIT_MF_ACT_COUNT) goto out;
    }
    if (zero) { /* sw2 = 0 somewhere: below it every pre-activation is a bias */
        double mx, qx = mean_sq(x, (int64_t)batch * in, &mx);
        q[0] = sw2[0] * qx + sb2[0];
        for (int l = 1; l < L; l++) {
            nninit_mf_net n = {(nninit_mf_act)act[l - 1], ap[l - 1], sw2[l], sb2[l]};
            q[l] = sb2[l];
            if (sw2[l] > 0 && nninit_mf_q_map(&n, q[l - 1], &q[l])) goto out;
        }
        for (int l = 0; l < L; l++) rep->layers[l].q_pred = q[l];
        rep->layers[L - 1].grad_var_pred_ratio = 1.0;
        for (int l = L - 2; l >= 0; l--) {
            double chi = 0;
            nninit_mf_net n = {(nninit_mf_act)act[l], ap[l], sw2[l + 1], sb2[l + 1]};
            if (sw2[l + 1] > 0 && nninit_mf_chi1(&n, q[l], &chi)) goto out;
            rep->layers[l].grad_var_pred_ratio =
                rep->layers[l + 1].grad_var_pred_ratio * chi * (double)width[l + 1] / (double)width[l];
        }
        int h = L - 2;
        rep->sw2 = sw2[h];
        rep->sb2 = sb2[h];
        if (sw2[h] > 0) {
            nninit_mf_net n = {(nninit_mf_act)act[h], ap[h], sw2[h], sb2[h]};
            summarize(&n, q[0], rep);
        } else {
            rep->qstar = sb2[h];
            rep->chi1 = rep->chi1_asym = 0.0;
        }
        rep->mean_field = 1;
        goto out;
    }
    /* forward: q and c */
    double mx, qx = mean_sq(x, (int64_t)batch * in, &mx);
    q[0] = sw2[0] * qx + sb2[0];
    double p11 = 0, p22 = 0, p12 = 0;
    for (int j = 0; j < in; j++) {
        p11 += (double)pair[j] * pair[j];
        p22 += (double)pair[in + j] * pair[in + j];
        p12 += (double)pair[j] * pair[in + j];
    }
    double q11 = sw2[0] * p11 / in + sb2[0], q22 = sw2[0] * p22 / in + sb2[0];
    double c = (sw2[0] * p12 / in + sb2[0]) / sqrt(q11 * q22);
    rep->layers[0].q_pred = q[0];
    rep->layers[0].corr_pred = c;
    for (int l = 1; l < L; l++) {
        nninit_mf_net n = {(nninit_mf_act)act[l - 1], ap[l - 1], sw2[l], sb2[l]};
        /* past float range the prediction is "overflow": q stays infinite */
        if (!isfinite(q[l - 1])) q[l] = INFINITY;
        else if (nninit_mf_q_map(&n, q[l - 1], &q[l])) goto out;
        rep->layers[l].q_pred = q[l];
        /* the c map needs q > 0 (and not a denormal); once a pair has collapsed
         * to 0 or overflowed it stays undefined */
        double cn = NAN;
        if (isfinite(c) && q11 > 1e-250 && q22 > 1e-250 && isfinite(q11) && isfinite(q22) &&
            !nninit_mf_c_map(&n, q11, q22, c, &cn) && !nninit_mf_q_map(&n, q11, &q11) &&
            !nninit_mf_q_map(&n, q22, &q22))
            c = cn;
        else c = NAN;
        rep->layers[l].corr_pred = c;
    }
    /* backward: second moment of dL/dpre relative to the output layer's */
    rep->layers[L - 1].grad_var_pred_ratio = 1.0;
    for (int l = L - 2; l >= 0; l--) {
        nninit_mf_net n = {(nninit_mf_act)act[l], ap[l], sw2[l + 1], sb2[l + 1]};
        double chi = INFINITY;
        if (isfinite(q[l]) && nninit_mf_chi1(&n, q[l], &chi)) goto out;
        rep->layers[l].grad_var_pred_ratio =
            rep->layers[l + 1].grad_var_pred_ratio * chi * (double)width[l + 1] / (double)width[l];
    }
    {
        int h = L - 2;
        nninit_mf_net n = {(nninit_mf_act)act[h], ap[h], sw2[h], sb2[h]};
        summarize(&n, q[0], rep);
    }
    rep->mean_field = 1;
out:
    if (!rep->mean_field) {
        for (int l = 0; l < L; l++)
            rep->layers[l].q_pred = rep->layers[l].corr_pred = rep->layers[l].grad_var_pred_ratio = NAN;
        rep->qstar = rep->chi1 = rep->xi_q = rep->xi_c = rep->cstar = rep->chi1_asym = NAN;
        rep->q_unbounded = 0;
        if (!rep->mf_note[0]) snprintf(rep->mf_note, sizeof rep->mf_note, "not predicted: %s", nninit_last_error());
    }
    free(sw2);
    free(sb2);
    free(q);
    free(ap);
    free(width);
    free(act);
}

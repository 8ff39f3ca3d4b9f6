/* lsuv.c -- layer-sequential unit-variance init (Mishkin & Matas, "All you need
 * is a good init", ICLR 2016, Algorithm 1): after an orthogonal pre-init, for
 * each layer in order, forward a calibration batch and divide the layer's
 * weights by sqrt(Var(pre-activation)) until |Var - 1| < tol or max_iter. */
#include <math.h>

#include "internal.h"
#include "nninit_probe.h"

nninit_status nninit_lsuv(nninit_net *net, const float *x, int batch, double tol, int max_iter, int *iters,
                          double *var) {
    if (!net || !x) return nninit__err(NNINIT_ERR_NULL, "lsuv: NULL argument");
    if (!(tol > 0) || max_iter < 1)
        return nninit__err(NNINIT_ERR_PARAM, "lsuv: tol %g must be > 0, max_iter %d >= 1", tol, max_iter);
    int L = nninit_net_layers(net);
    for (int l = 0; l < L; l++) {
        nninit_layer_view v;
        nninit_status st = nninit_net_layer(net, l, &v);
        if (st) return st;
        if (iters) iters[l] = 0;
        if (var) var[l] = NAN;
        /* plain layers with weights; a residual block's pre is the sum x + F(x) */
        if (!v.w || v.kind == NNINIT_LAYER_RESIDUAL) continue;
        int it = 0;
        double s2 = NAN;
        for (;;) {
            if ((st = nninit_net_forward(net, x, batch))) return st;
            if ((st = nninit_net_layer(net, l, &v))) return st;
            int64_t n = (int64_t)batch * v.out_size;
            double m = 0, q = 0;
            for (int64_t i = 0; i < n; i++) m += v.pre[i];
            m /= (double)n;
            for (int64_t i = 0; i < n; i++) q += ((double)v.pre[i] - m) * ((double)v.pre[i] - m);
            s2 = q / (double)n;
            if (fabs(s2 - 1.0) < tol || it >= max_iter || !(s2 > 0)) break;
            float scale = (float)(1.0 / sqrt(s2));
            int64_t nw = v.w_rows * v.w_cols;
            for (int64_t i = 0; i < nw; i++) v.w[i] *= scale;
            it++;
        }
        if (iters) iters[l] = it;
        if (var) var[l] = s2;
    }
    return NNINIT_OK;
}

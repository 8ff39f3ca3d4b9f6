/* inputs.c -- synthetic inputs for probes: i.i.d. N(0, 1) batches and pairs
 * of inputs with a given correlation (declared in nninit_data.h). Both draw from
 * nninit_fill, so they are as reproducible as any weight. */
#include <math.h>

#include "internal.h"
#include "nninit_data.h"

nninit_status nninit_inputs_gaussian(float *x, int n, int d, uint64_t seed) {
    if (!x) return nninit__err(NNINIT_ERR_NULL, "inputs_gaussian: NULL buffer");
    if (n < 1 || d < 1) return nninit__err(NNINIT_ERR_SHAPE, "inputs_gaussian: %d x %d inputs", n, d);
    nninit_spec s = nninit_spec_default(NNINIT_NORMAL); /* mean 0, std 1 */
    nninit_tensor t = nninit_tensor_2d(n, d, NNINIT_F32);
    return nninit_fill(&s, &t, nninit_key_from_name(seed, "inputs.gaussian"), x);
}

/* u = z1, v = c z1 + sqrt(1 - c^2) z2: Var v = c^2 + 1 - c^2 = 1, Cov(u, v) = c. */
nninit_status nninit_inputs_correlated_pair(float *x, int d, double c, uint64_t seed) {
    if (!x) return nninit__err(NNINIT_ERR_NULL, "inputs_correlated_pair: NULL buffer");
    if (d < 1) return nninit__err(NNINIT_ERR_SHAPE, "inputs_correlated_pair: d = %d", d);
    if (!(c >= -1.0 && c <= 1.0))
        return nninit__err(NNINIT_ERR_PARAM, "inputs_correlated_pair: correlation %g outside [-1, 1]", c);
    nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
    nninit_tensor t = nninit_tensor_2d(2, d, NNINIT_F32);
    nninit_status st = nninit_fill(&s, &t, nninit_key_from_name(seed, "inputs.pair"), x);
    if (st) return st;
    double r = sqrt(1.0 - c * c);
    for (int i = 0; i < d; i++) x[d + i] = (float)(c * (double)x[i] + r * (double)x[d + i]);
    return NNINIT_OK;
}

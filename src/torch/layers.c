/* layers.c -- torch.nn.init's kaiming_* and xavier_* and the reset_parameters
 * of nn.Linear and nn.Conv*d (torch/nn/init.py, torch/nn/modules/linear.py,
 * conv.py, PyTorch 1.13) on torch's CPU generator. The scales are the Python
 * code's double arithmetic, step for step: `negative_slope ** 2` is libm's
 * pow (CPython's float ** int), which differs from s * s in the last bit for
 * about 1 value in 1000, so pow it is. */
#include <math.h>

#include "torch/torch_internal.h"

/* calculate_gain(nonlinearity, param) with param given (kaiming_* pass a):
 * the library's own, whose slope ** 2 is libm's pow as in Python. */
static nninit_status gain_of(const char *op, nninit_nonlinearity nl, double param, double *gain) {
    nninit_status st = nninit_calculate_gain(nl, param, gain);
    return st ? nninit__err(st, "%s: %s", op, nninit_last_error()) : NNINIT_OK;
}

/* _calculate_fan_in_and_fan_out, with the shape checked; *numel too. */
static nninit_status fans_of(const char *op, int ndim, const int64_t *shape, int64_t *fan_in, int64_t *fan_out,
                             int64_t *numel) {
    if (!shape) return nninit__err(NNINIT_ERR_NULL, "%s: NULL shape", op);
    if (ndim < 2 || ndim > NNINIT_MAX_DIMS)
        return nninit__err(NNINIT_ERR_DIMS, "%s: fans need 2..%d dims, got %d", op, NNINIT_MAX_DIMS, ndim);
    int64_t count = 1, rf = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 1)
            return nninit__err(NNINIT_ERR_SHAPE, "%s: shape[%d] = %lld must be >= 1", op, d, (long long)shape[d]);
        if (count > INT64_MAX / shape[d]) return nninit__err(NNINIT_ERR_OVERFLOW, "%s: element count overflows", op);
        count *= shape[d];
        if (d >= 2) rf *= shape[d];
    }
    *fan_in = shape[1] * rf;
    *fan_out = shape[0] * rf;
    *numel = count;
    return NNINIT_OK;
}

static nninit_status kaiming_std(const char *op, int ndim, const int64_t *shape, double a, nninit_mode mode,
                                 nninit_nonlinearity nl, int64_t *numel, double *std) {
    int64_t fi = 0, fo = 0;
    nninit_status st = fans_of(op, ndim, shape, &fi, &fo, numel);
    if (st) return st;
    if (mode != NNINIT_FAN_IN && mode != NNINIT_FAN_OUT)
        return nninit__err(NNINIT_ERR_PARAM, "%s: mode %d: torch takes fan_in or fan_out", op, (int)mode);
    if (!isfinite(a)) return nninit__err(NNINIT_ERR_PARAM, "%s: a (%g) must be finite", op, a);
    double gain = 0;
    if ((st = gain_of(op, nl, a, &gain))) return st;
    *std = gain / sqrt((double)(mode == NNINIT_FAN_IN ? fi : fo));
    return NNINIT_OK;
}

nninit_status nninit_torch_kaiming_uniform(nninit_torch_gen *g, nninit_dtype dtype, void *data, int ndim,
                                           const int64_t *shape, double a, nninit_mode mode,
                                           nninit_nonlinearity nonlinearity) {
    int64_t n = 0;
    double std = 0;
    nninit_status st = nninit__torch_check("torch_kaiming_uniform", g, dtype, data, 1);
    if (!st) st = kaiming_std("torch_kaiming_uniform", ndim, shape, a, mode, nonlinearity, &n, &std);
    if (st) return st;
    double bound = sqrt(3.0) * std;
    return nninit_torch_uniform(g, dtype, data, n, -bound, bound);
}

nninit_status nninit_torch_kaiming_normal(nninit_torch_gen *g, nninit_dtype dtype, void *data, int ndim,
                                          const int64_t *shape, double a, nninit_mode mode,
                                          nninit_nonlinearity nonlinearity) {
    int64_t n = 0;
    double std = 0;
    nninit_status st = nninit__torch_check("torch_kaiming_normal", g, dtype, data, 1);
    if (!st) st = kaiming_std("torch_kaiming_normal", ndim, shape, a, mode, nonlinearity, &n, &std);
    if (st) return st;
    return nninit_torch_normal(g, dtype, data, n, 0, std);
}

static nninit_status xavier_std(const char *op, int ndim, const int64_t *shape, double gain, int64_t *numel,
                                double *std) {
    int64_t fi = 0, fo = 0;
    nninit_status st = fans_of(op, ndim, shape, &fi, &fo, numel);
    if (st) return st;
    if (!isfinite(gain)) return nninit__err(NNINIT_ERR_PARAM, "%s: gain (%g) must be finite", op, gain);
    *std = gain * sqrt(2.0 / (double)(fi + fo));
    return NNINIT_OK;
}

nninit_status nninit_torch_xavier_uniform(nninit_torch_gen *g, nninit_dtype dtype, void *data, int ndim,
                                          const int64_t *shape, double gain) {
    int64_t n = 0;
    double std = 0;
    nninit_status st = nninit__torch_check("torch_xavier_uniform", g, dtype, data, 1);
    if (!st) st = xavier_std("torch_xavier_uniform", ndim, shape, gain, &n, &std);
    if (st) return st;
    double a = sqrt(3.0) * std;
    return nninit_torch_uniform(g, dtype, data, n, -a, a);
}

nninit_status nninit_torch_xavier_normal(nninit_torch_gen *g, nninit_dtype dtype, void *data, int ndim,
                                         const int64_t *shape, double gain) {
    int64_t n = 0;
    double std = 0;
    nninit_status st = nninit__torch_check("torch_xavier_normal", g, dtype, data, 1);
    if (!st) st = xavier_std("torch_xavier_normal", ndim, shape, gain, &n, &std);
    if (st) return st;
    return nninit_torch_normal(g, dtype, data, n, 0., std);
}

/* reset_parameters of Linear and _ConvNd: kaiming_uniform_(weight,
 * a=math.sqrt(5)), then the bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 * Everything is checked before the first draw. */
static nninit_status module(const char *op, nninit_torch_gen *g, nninit_dtype dtype, int ndim, const int64_t *shape,
                            int64_t nbias, int has_bias, void *weight, void *bias) {
    nninit_status st = nninit__torch_check(op, g, dtype, weight, 1);
    if (st) return st;
    if (has_bias && !bias) return nninit__err(NNINIT_ERR_NULL, "%s: NULL bias", op);
    int64_t n = 0, fi = 0, fo = 0;
    double std = 0;
    if ((st = kaiming_std(op, ndim, shape, sqrt(5), NNINIT_FAN_IN, NNINIT_NL_LEAKY_RELU, &n, &std))) return st;
    if ((st = fans_of(op, ndim, shape, &fi, &fo, &n))) return st;
    double wb = sqrt(3.0) * std, bb = 1 / sqrt((double)fi);
    if ((st = nninit_torch_uniform(g, dtype, weight, n, -wb, wb))) return st;
    if (has_bias && (st = nninit_torch_uniform(g, dtype, bias, nbias, -bb, bb))) return st;
    return NNINIT_OK;
}

nninit_status nninit_torch_linear(nninit_torch_gen *g, nninit_dtype dtype, int64_t in, int64_t out, int has_bias,
                                  void *weight, void *bias) {
    const int64_t shape[2] = {out, in};
    return module("torch_linear", g, dtype, 2, shape, out, has_bias, weight, bias);
}

nninit_status nninit_torch_conv(nninit_torch_gen *g, nninit_dtype dtype, int64_t in, int64_t out, int64_t groups,
                                int nk, const int64_t *kernel, int has_bias, void *weight, void *bias) {
    if (nk < 1 || nk > 3) return nninit__err(NNINIT_ERR_DIMS, "torch_conv: %d kernel sizes (1, 2 or 3)", nk);
    if (!kernel) return nninit__err(NNINIT_ERR_NULL, "torch_conv: NULL kernel");
    if (in < 1 || out < 1)
        return nninit__err(NNINIT_ERR_SHAPE, "torch_conv: in (%lld) and out (%lld) must be >= 1", (long long)in,
                           (long long)out);
    if (groups < 1 || in % groups || out % groups)
        return nninit__err(NNINIT_ERR_GROUPS, "torch_conv: groups %lld must divide in (%lld) and out (%lld)",
                           (long long)groups, (long long)in, (long long)out);
    int64_t shape[5] = {out, in / groups};
    for (int d = 0; d < nk; d++) shape[2 + d] = kernel[d];
    return module("torch_conv", g, dtype, 2 + nk, shape, out, has_bias, weight, bias);
}

nninit_status nninit_torch_conv2d(nninit_torch_gen *g, nninit_dtype dtype, int64_t in, int64_t out, int64_t kh,
                                  int64_t kw, int64_t groups, int has_bias, void *weight, void *bias) {
    const int64_t kernel[2] = {kh, kw};
    return nninit_torch_conv(g, dtype, in, out, groups, 2, kernel, has_bias, weight, bias);
}

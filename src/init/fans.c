/* fans.c -- tensor checks, fan_in / fan_out by layout, and the gain table.
 * docs/FANS.md states each preset's formula. */
#include <math.h>

#include "internal.h"

nninit_tensor nninit_tensor_make(int ndim, const int64_t *shape, nninit_dtype dtype) {
    nninit_tensor t = {0};
    t.ndim = ndim;
    for (int i = 0; shape && i < ndim && i < NNINIT_MAX_DIMS; i++) t.shape[i] = shape[i];
    t.dtype = dtype;
    t.layout = NNINIT_LAYOUT_OIHW;
    t.groups = 1;
    return t;
}

nninit_tensor nninit_tensor_2d(int64_t rows, int64_t cols, nninit_dtype dtype) {
    int64_t s[2] = {rows, cols};
    return nninit_tensor_make(2, s, dtype);
}

nninit_status nninit_tensor_numel(const nninit_tensor *t, int64_t *numel) {
    if (!t || !numel) return nninit__err(NNINIT_ERR_NULL, "tensor: NULL argument");
    if (t->ndim < 1 || t->ndim > NNINIT_MAX_DIMS)
        return nninit__err(NNINIT_ERR_SHAPE, "tensor: ndim %d outside 1..%d", t->ndim, NNINIT_MAX_DIMS);
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) {
        int64_t d = t->shape[i];
        if (d <= 0)
            return nninit__err(NNINIT_ERR_SHAPE, "tensor: dimension %d is %lld; every dimension must be >= 1", i,
                               (long long)d);
        if (n > INT64_MAX / d)
            return nninit__err(NNINIT_ERR_OVERFLOW, "tensor: element count overflows int64 at dimension %d", i);
        n *= d;
    }
    if (nninit_dtype_size(t->dtype) == 0)
        return nninit__err(NNINIT_ERR_DTYPE, "tensor: unknown dtype %d", (int)t->dtype);
    if ((uint64_t)n > (uint64_t)INT64_MAX / 8) return nninit__err(NNINIT_ERR_OVERFLOW, "tensor: byte count overflows");
    *numel = n;
    return NNINIT_OK;
}

nninit_status nninit_fans(const nninit_tensor *t, double *fan_in, double *fan_out) {
    int64_t numel;
    if (!fan_in || !fan_out) return nninit__err(NNINIT_ERR_NULL, "fans: NULL argument");
    nninit_status st = nninit_tensor_numel(t, &numel);
    if (st) return st;
    if (t->ndim < 2)
        return nninit__err(
            NNINIT_ERR_DIMS,
            "fans: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (ndim %d)",
            t->ndim);
    int64_t groups = t->groups ? t->groups : 1;
    if (groups < 1) return nninit__err(NNINIT_ERR_GROUPS, "fans: groups %lld < 1", (long long)groups);
    int in_ax, out_ax;
    switch (t->layout) {
    case NNINIT_LAYOUT_OIHW:
        out_ax = 0;
        in_ax = 1;
        break;
    case NNINIT_LAYOUT_HWIO:
        in_ax = t->ndim - 2;
        out_ax = t->ndim - 1;
        break;
    case NNINIT_LAYOUT_IOHW:
        in_ax = 0;
        out_ax = 1;
        break;
    case NNINIT_LAYOUT_EMBEDDING:
        if (t->ndim != 2)
            return nninit__err(NNINIT_ERR_DIMS, "fans: embedding layout needs 2 dims (num_embeddings, dim), got %d",
                               t->ndim);
        *fan_in = 1.0; /* a lookup reads exactly one row */
        *fan_out = (double)t->shape[1];
        return NNINIT_OK;
    case NNINIT_LAYOUT_CUSTOM:
        in_ax = t->in_axis;
        out_ax = t->out_axis;
        if (in_ax < 0 || in_ax >= t->ndim || out_ax < 0 || out_ax >= t->ndim || in_ax == out_ax)
            return nninit__err(NNINIT_ERR_LAYOUT, "fans: custom axes in=%d out=%d invalid for %d dims", in_ax, out_ax,
                               t->ndim);
        break;
    default: return nninit__err(NNINIT_ERR_LAYOUT, "fans: unknown layout %d", (int)t->layout);
    }
    /* rf: product of the remaining axes (numel fits int64, so does rf). */
    int64_t rf = 1;
    for (int i = 0; i < t->ndim; i++)
        if (i != in_ax && i != out_ax) rf *= t->shape[i];
    double fi = (double)t->shape[in_ax] * (double)rf;
    double fo = (double)t->shape[out_ax] * (double)rf;
    if (t->layout == NNINIT_LAYOUT_IOHW) {
        /* (in, out/groups, k...): each output sees in/groups input channels. */
        if (t->shape[0] % groups)
            return nninit__err(NNINIT_ERR_GROUPS, "fans: iohw in-channels %lld not divisible by groups %lld",
                               (long long)t->shape[0], (long long)groups);
        fi = (double)(t->shape[0] / groups) * (double)rf;
    } else if (t->flags & NNINIT_LAYOUT_GROUPED_FAN_OUT) {
        if (t->shape[out_ax] % groups)
            return nninit__err(NNINIT_ERR_GROUPS, "fans: out-channels %lld not divisible by groups %lld",
                               (long long)t->shape[out_ax], (long long)groups);
        fo = (double)(t->shape[out_ax] / groups) * (double)rf;
    }
    *fan_in = fi;
    *fan_out = fo;
    return NNINIT_OK;
}

/* PyTorch torch/nn/init.py calculate_gain. */
nninit_status nninit_calculate_gain(nninit_nonlinearity nl, double param, double *gain) {
    if (!gain) return nninit__err(NNINIT_ERR_NULL, "calculate_gain: NULL gain");
    switch (nl) {
    case NNINIT_NL_LINEAR:
    case NNINIT_NL_CONV1D:
    case NNINIT_NL_CONV2D:
    case NNINIT_NL_CONV3D:
    case NNINIT_NL_CONV_TRANSPOSE1D:
    case NNINIT_NL_CONV_TRANSPOSE2D:
    case NNINIT_NL_CONV_TRANSPOSE3D:
    case NNINIT_NL_SIGMOID: *gain = 1.0; return NNINIT_OK;
    case NNINIT_NL_TANH: *gain = 5.0 / 3.0; return NNINIT_OK;
    case NNINIT_NL_RELU: *gain = sqrt(2.0); return NNINIT_OK;
    case NNINIT_NL_LEAKY_RELU: {
        double s = isnan(param) ? 0.01 : param; /* PyTorch: param None -> 0.01 */
        if (!isfinite(s))
            return nninit__err(NNINIT_ERR_PARAM, "calculate_gain: negative_slope %g is not a valid number", s);
        /* PyTorch's negative_slope ** 2 is libm's pow(), not s * s: they
         * differ in the last bit for 185 of 200000 uniform slopes in [0, 10) */
        *gain = sqrt(2.0 / (1 + nninit__pow(s, 2.0)));
        return NNINIT_OK;
    }
    case NNINIT_NL_SELU: *gain = 3.0 / 4.0; return NNINIT_OK; /* empirical, pytorch#50664 */
    default: break;
    }
    return nninit__err(NNINIT_ERR_NONLINEARITY, "calculate_gain: unsupported nonlinearity %d", (int)nl);
}

/* A bias of a fan-based rule has no fans of its own (1-D): it is drawn from
 * the distribution the rule gives on its layer's weight, as the plain spec
 * below. The fields are those nninit_explain resolved, so the bias's values
 * follow the weight's formula exactly (PyTorch's bound = sqrt(3) * std and
 * the rest, schemes.c). */
nninit_status nninit_spec_resolve_fans(const nninit_spec *spec, const nninit_tensor *fans_of, nninit_spec *out) {
    if (!spec || !fans_of || !out) return nninit__err(NNINIT_ERR_NULL, "spec_resolve_fans: NULL argument");
    if ((unsigned)spec->scheme >= NNINIT_SCHEME_COUNT)
        return nninit__err(NNINIT_ERR_PARAM, "spec_resolve_fans: unknown scheme %d", (int)spec->scheme);
    if (!nninit_scheme_uses_fans(spec->scheme)) {
        *out = *spec;
        return NNINIT_OK;
    }
    nninit_info info;
    nninit_status st = nninit_explain(spec, fans_of, &info);
    if (st) return st;
    nninit_spec e;
    switch (info.kind) {
    case NNINIT_RESOLVED_UNIFORM:
        e = nninit_spec_default(NNINIT_UNIFORM);
        e.a = info.lo, e.b = info.hi;
        break;
    case NNINIT_RESOLVED_NORMAL:
        e = nninit_spec_default(NNINIT_NORMAL);
        e.mean = info.mean, e.std = info.std;
        break;
    case NNINIT_RESOLVED_TRUNC_NORMAL: /* fan schemes are zero-centred: the mean is the normal's */
        e = nninit_spec_default(NNINIT_TRUNC_NORMAL);
        e.mean = info.mean, e.std = info.std, e.a = info.lo, e.b = info.hi;
        break;
    case NNINIT_RESOLVED_CONSTANT: /* a zero bound (gain 0) */
        e = nninit_spec_default(NNINIT_CONSTANT);
        e.value = info.lo;
        break;
    default:
        return nninit__err(NNINIT_ERR_PARAM, "spec_resolve_fans: %s resolved to a structured fill",
                           nninit_scheme_name(spec->scheme));
    }
    *out = e;
    return NNINIT_OK;
}

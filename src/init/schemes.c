/* schemes.c -- every scheme's defaults and formula, resolved on a tensor to the
 * distribution actually sampled. The formulas follow PyTorch's
 * torch/nn/init.py unless noted; Keras keras/src/initializers and JAX
 * jax/_engine/nn/initializers.py for variance_scaling. */
#include <math.h>

#include "internal.h"

/* Keras / JAX: std of a unit normal truncated to [-2, 2] is 0.8796...; they
 * divide by it so the truncated samples have the requested variance. */
#define NNINIT_TRUNC2_STD 0.87962566103423978

/* Largest |z| the normal transforms can produce: sqrt(-2 ln 2^-32) for the
 * f32 family, sqrt(-2 ln 2^-53) for f64 (docs/RNG.md). */
#define NNINIT_ZMAX_F32 6.6605 /* 6.66043711, rounded up */
#define NNINIT_ZMAX_F64 8.5717 /* 8.57167435, rounded up */

nninit_spec nninit_spec_default(nninit_scheme s) {
    nninit_spec sp = {0};
    sp.scheme = s;
    sp.value = 0.0;
    sp.a = 0.0;
    sp.b = 1.0;
    sp.mean = 0.0;
    sp.std = 1.0;
    sp.gain = 1.0;
    sp.slope = 0.0;
    sp.mode = NNINIT_FAN_IN;
    sp.nonlinearity = NNINIT_NL_LEAKY_RELU;
    sp.scale = 1.0;
    sp.distribution = NNINIT_DIST_TRUNCATED_NORMAL;
    sp.sparsity = 0.1;
    sp.groups = 1;
    switch (s) {
    case NNINIT_ONES: sp.value = 1.0; break;
    case NNINIT_TRUNC_NORMAL:
    case NNINIT_TRUNC_NORMAL_STD:
        sp.a = -2.0;
        sp.b = 2.0;
        break;
    case NNINIT_SPARSE: sp.std = 0.01; break;
    default: break;
    }
    return sp;
}

static double phi(double x) { return exp(-0.5 * x * x) / sqrt(2.0 * NNINIT_PI); }

/* Q(x) / phi(x) (Mills' ratio) for x > 0: from erfc while it is accurate,
 * else Laplace's continued fraction (A&S 26.2.14), which converges fast there. */
static double mills(double x) {
    if (x < 5.0) return 0.5 * erfc(x / sqrt(2.0)) / phi(x);
    double f = x;
    for (int k = 40; k >= 1; k--) f = x + k / f;
    return 1.0 / f;
}

/* Variance of N(0,1) restricted to [a, b] (a < b, either may be infinite):
 * 1 + (a phi(a) - b phi(b))/Z - ((phi(a) - phi(b))/Z)^2, Z = Phi(b) - Phi(a),
 * evaluated on the side away from the bulk so that far tails keep precision. */
static double trunc_std_variance(double a, double b) {
    if (b <= 0) {
        double t = a;
        a = -b;
        b = -t;
    } /* mirror to a >= 0 or straddle */
    double pa = isinf(a) ? 0.0 : phi(a), pb = isinf(b) ? 0.0 : phi(b);
    double apa = isinf(a) ? 0.0 : a * pa, bpb = isinf(b) ? 0.0 : b * pb;
    if (a > 0) {
        /* Z = Q(a) - Q(b) = phi(a) (m(a) - m(b) phi(b)/phi(a)); ratios of phi
         * computed as exp((a^2 - b^2)/2) to avoid underflow. */
        double rb = isinf(b) ? 0.0 : exp(0.5 * (a * a - b * b)); /* phi(b)/phi(a) */
        double zn = mills(a) - (isinf(b) ? 0.0 : mills(b) * rb); /* Z / phi(a) */
        double m1 = (1.0 - rb) / zn;                             /* (pa - pb)/Z */
        double m2 = (a - (isinf(b) ? 0.0 : b * rb)) / zn;        /* (a pa - b pb)/Z */
        return 1.0 + m2 - m1 * m1;
    }
    double Z = 0.5 * (erfc(-b / sqrt(2.0)) - erfc(-a / sqrt(2.0)));
    double m1 = (pa - pb) / Z;
    return 1.0 + (apa - bpb) / Z - m1 * m1;
}

static nninit_status check_finite_param(const char *scheme, const char *what, double v) {
    if (!isfinite(v)) return nninit__err(NNINIT_ERR_PARAM, "%s: %s is %g; it must be finite", scheme, what, v);
    return NNINIT_OK;
}

static nninit_status check_std(const char *scheme, double std) {
    if (isnan(std) || isinf(std) || std < 0)
        return nninit__err(NNINIT_ERR_PARAM, "%s: std is %g; it must be finite and >= 0", scheme, std);
    return NNINIT_OK;
}

/* Values up to |v| must be finite in the dtype. */
static nninit_status check_reach(const char *scheme, nninit_dtype d, double v) {
    if (!(fabs(v) <= nninit__dtype_max(d)))
        return nninit__err(NNINIT_ERR_NOT_REPRESENTABLE, "%s: values up to %g overflow %s (max %g)", scheme, v,
                           nninit_dtype_name(d), nninit__dtype_max(d));
    return NNINIT_OK;
}

static double select_fan(nninit_mode m, double fi, double fo) {
    switch (m) {
    case NNINIT_FAN_IN: return fi;
    case NNINIT_FAN_OUT: return fo;
    case NNINIT_FAN_AVG: return 0.5 * (fi + fo);
    case NNINIT_FAN_GEO_AVG: return sqrt(fi * fo);
    }
    return NAN;
}

static void set_uniform(nninit__plan *p, double lo, double hi) {
    p->kernel = NNINIT_K_UNIFORM;
    p->lo = lo;
    p->hi = hi;
    p->info.kind = NNINIT_RESOLVED_UNIFORM;
    p->info.lo = lo;
    p->info.hi = hi;
    p->info.mean = 0.5 * (lo + hi);
    p->info.variance = (hi - lo) * (hi - lo) / 12.0;
}

static void set_constant(nninit__plan *p, double v) {
    p->kernel = NNINIT_K_CONSTANT;
    p->value = v;
    p->info.kind = NNINIT_RESOLVED_CONSTANT;
    p->info.lo = p->info.hi = p->info.mean = v;
    p->info.variance = 0.0;
}

static void set_normal(nninit__plan *p, double mean, double std) {
    p->kernel = NNINIT_K_NORMAL;
    p->mean = mean;
    p->std = std;
    p->info.kind = NNINIT_RESOLVED_NORMAL;
    p->info.mean = mean;
    p->info.std = std;
    p->info.lo = -INFINITY;
    p->info.hi = INFINITY;
    p->info.variance = std * std;
}

/* Standardized bounds za < zb; value bounds va, vb (absolute). */
static void set_trunc(nninit__plan *p, double mean, double std, double za, double zb, double va, double vb) {
    p->kernel = NNINIT_K_TRUNC;
    p->mean = mean;
    p->std = std;
    p->za = za;
    p->zb = zb;
    p->va = va;
    p->vb = vb;
    p->info.kind = NNINIT_RESOLVED_TRUNC_NORMAL;
    p->info.std = std;
    p->info.lo = va;
    p->info.hi = vb;
    p->info.variance = std * std * trunc_std_variance(za, zb);
    /* mean of the truncated normal: mu + sigma (phi(za) - phi(zb)) / Z */
    double m;
    if (za >= 0 || zb <= 0) {
        int flip = zb <= 0;
        double a = flip ? -zb : za, b = flip ? -za : zb;
        double rb = isinf(b) ? 0.0 : exp(0.5 * (a * a - b * b));
        double zn = mills(a) - (isinf(b) ? 0.0 : mills(b) * rb);
        m = (1.0 - rb) / zn;
        if (flip) m = -m;
    } else {
        double Z = 0.5 * (erfc(-zb / sqrt(2.0)) - erfc(-za / sqrt(2.0)));
        m = ((isinf(za) ? 0 : phi(za)) - (isinf(zb) ? 0 : phi(zb))) / Z;
    }
    p->info.mean = mean + std * m;
}

static nninit_status plan_trunc(nninit__plan *p, const char *name, nninit_dtype d, double mean, double std, double a,
                                double b, int sigma_units) {
    nninit_status st;
    if ((st = check_finite_param(name, "mean", mean))) return st;
    if ((st = check_std(name, std))) return st;
    if (std == 0) return nninit__err(NNINIT_ERR_PARAM, "%s: std must be > 0 (a truncated normal needs a scale)", name);
    if (isnan(a) || isnan(b)) return nninit__err(NNINIT_ERR_PARAM, "%s: bounds are NaN", name);
    if (!(a < b)) return nninit__err(NNINIT_ERR_RANGE, "%s: a (%g) must be < b (%g)", name, a, b);
    double za, zb, va, vb;
    if (sigma_units) {
        za = a;
        zb = b;
        va = isinf(a) ? a : fma(std, a, mean); /* as values are formed: monotone in z */
        vb = isinf(b) ? b : fma(std, b, mean);
    } else {
        za = (a - mean) / std;
        zb = (b - mean) / std;
        va = a;
        vb = b;
    }
    if (!(za < zb) || isnan(za) || isnan(zb))
        return nninit__err(NNINIT_ERR_RANGE, "%s: bounds [%g, %g] are empty at std %g", name, a, b, std);
    double reach_lo = isinf(va) ? mean - 40 * std : va, reach_hi = isinf(vb) ? mean + 40 * std : vb;
    if ((st = check_reach(name, d, fmax(fabs(reach_lo), fabs(reach_hi))))) return st;
    set_trunc(p, mean, std, za, zb, va, vb);
    return NNINIT_OK;
}

/* Zero-centred uniform or normal of the given std; std 0 gives zeros. */
static nninit_status plan_scaled(nninit__plan *p, const char *name, nninit_dtype d, int uniform, double std) {
    p->info.std = std;
    if (uniform) {
        double bound = sqrt(3.0) * std; /* PyTorch: bound = math.sqrt(3.0) * std */
        p->info.bound = bound;
        nninit_status st = check_reach(name, d, bound);
        if (st) return st;
        if (bound == 0) set_constant(p, 0.0);
        else set_uniform(p, -bound, bound);
    } else {
        double zmax = d == NNINIT_F64 ? NNINIT_ZMAX_F64 : NNINIT_ZMAX_F32;
        nninit_status st = check_reach(name, d, zmax * std);
        if (st) return st;
        set_normal(p, 0.0, std);
    }
    p->info.std = std;
    return NNINIT_OK;
}

nninit_status nninit__plan_make(const nninit_spec *spec, const nninit_tensor *t, nninit__plan *p) {
    if (!spec || !t || !p) return nninit__err(NNINIT_ERR_NULL, "NULL spec or tensor");
    nninit_status st = nninit_tensor_numel(t, &p->numel);
    if (st) return st;
    if ((unsigned)spec->scheme >= NNINIT_SCHEME_COUNT)
        return nninit__err(NNINIT_ERR_PARAM, "unknown scheme %d", (int)spec->scheme);
    const char *name = nninit_scheme_name(spec->scheme);
    nninit_dtype d = t->dtype;
    nninit_info *in = &p->info;
    in->kind = NNINIT_RESOLVED_STRUCTURED;
    in->fan_in = in->fan_out = in->fan = in->gain = in->std = in->bound = NAN;
    in->mean = in->variance = NAN;
    in->lo = -INFINITY;
    in->hi = INFINITY;
    in->has_fans = 0;
    if (t->ndim >= 2) {
        double fi, fo;
        if (nninit_fans(t, &fi, &fo) == NNINIT_OK) {
            in->has_fans = 1;
            in->fan_in = fi;
            in->fan_out = fo;
        }
    }
    if (nninit_scheme_uses_fans(spec->scheme)) {
        double fi, fo;
        if ((st = nninit_fans(t, &fi, &fo))) {
            /* keep the fans' message, prefixed with the scheme */
            return nninit__err(st, "%s: %s", name, nninit_last_error());
        }
    }

    switch (spec->scheme) {
    case NNINIT_ZEROS: set_constant(p, 0.0); return NNINIT_OK;
    case NNINIT_ONES: set_constant(p, 1.0); return NNINIT_OK;
    case NNINIT_CONSTANT:
        if ((st = check_finite_param(name, "value", spec->value))) return st;
        {
            /* must not round to inf in the dtype */
            double v = spec->value;
            double lim = nninit__dtype_max(d);
            /* the rounding boundary is half an ulp above max */
            double half_ulp = d == NNINIT_F16 ? 16.0 : d == NNINIT_BF16 ? 0x1p119 : d == NNINIT_F32 ? 0x1p103 : 0.0;
            if (fabs(v) >= lim + half_ulp && d != NNINIT_F64)
                return nninit__err(NNINIT_ERR_NOT_REPRESENTABLE, "constant: value %g overflows %s (max %g)", v,
                                   nninit_dtype_name(d), lim);
            set_constant(p, v);
        }
        return NNINIT_OK;
    case NNINIT_UNIFORM: {
        double a = spec->a, b = spec->b;
        if ((st = check_finite_param(name, "a", a)) || (st = check_finite_param(name, "b", b))) return st;
        if (!(a < b)) return nninit__err(NNINIT_ERR_RANGE, "uniform: a (%g) must be < b (%g)", a, b);
        if ((st = check_reach(name, d, fmax(fabs(a), fabs(b)))) ||
            (st = check_reach(name, d == NNINIT_F64 ? d : NNINIT_F32, b - a)))
            return st;
        set_uniform(p, a, b);
        in->std = (b - a) / sqrt(12.0);
        if (a == -b) in->bound = b;
        return NNINIT_OK;
    }
    case NNINIT_NORMAL: {
        if ((st = check_finite_param(name, "mean", spec->mean)) || (st = check_std(name, spec->std))) return st;
        double zmax = d == NNINIT_F64 ? NNINIT_ZMAX_F64 : NNINIT_ZMAX_F32;
        if ((st = check_reach(name, d, fabs(spec->mean) + zmax * spec->std))) return st;
        set_normal(p, spec->mean, spec->std);
        return NNINIT_OK;
    }
    case NNINIT_TRUNC_NORMAL: return plan_trunc(p, name, d, spec->mean, spec->std, spec->a, spec->b, 0);
    case NNINIT_TRUNC_NORMAL_STD: return plan_trunc(p, name, d, spec->mean, spec->std, spec->a, spec->b, 1);
    case NNINIT_XAVIER_UNIFORM:
    case NNINIT_XAVIER_NORMAL: {
        double g = spec->gain;
        if (!isfinite(g) || g < 0) return nninit__err(NNINIT_ERR_PARAM, "%s: gain %g must be finite and >= 0", name, g);
        in->gain = g;
        in->fan = 0.5 * (in->fan_in + in->fan_out);
        /* PyTorch: std = gain * math.sqrt(2.0 / float(fan_in + fan_out)) */
        double std = g * sqrt(2.0 / (in->fan_in + in->fan_out));
        return plan_scaled(p, name, d, spec->scheme == NNINIT_XAVIER_UNIFORM, std);
    }
    case NNINIT_KAIMING_UNIFORM:
    case NNINIT_KAIMING_NORMAL: {
        double g;
        if (isnan(spec->slope) && spec->nonlinearity == NNINIT_NL_LEAKY_RELU)
            return nninit__err(NNINIT_ERR_PARAM, "%s: a (negative slope) is NaN", name);
        if ((st = nninit_calculate_gain(spec->nonlinearity, spec->slope, &g)))
            return nninit__err(st, "%s: %s", name, nninit_last_error());
        double fan = select_fan(spec->mode, in->fan_in, in->fan_out);
        if (isnan(fan)) return nninit__err(NNINIT_ERR_PARAM, "%s: unknown mode %d", name, (int)spec->mode);
        in->gain = g;
        in->fan = fan;
        /* PyTorch: std = gain / math.sqrt(fan) */
        return plan_scaled(p, name, d, spec->scheme == NNINIT_KAIMING_UNIFORM, g / sqrt(fan));
    }
    case NNINIT_LECUN_UNIFORM:
    case NNINIT_LECUN_NORMAL:
        in->gain = 1.0;
        in->fan = in->fan_in;
        return plan_scaled(p, name, d, spec->scheme == NNINIT_LECUN_UNIFORM, 1.0 / sqrt(in->fan_in));
    case NNINIT_VARIANCE_SCALING: {
        double scale = spec->scale;
        if (!isfinite(scale) || scale <= 0)
            return nninit__err(NNINIT_ERR_PARAM, "variance_scaling: scale %g must be finite and > 0", scale);
        double fan = select_fan(spec->mode, in->fan_in, in->fan_out);
        if (isnan(fan)) return nninit__err(NNINIT_ERR_PARAM, "%s: unknown mode %d", name, (int)spec->mode);
        in->fan = fan;
        in->gain = sqrt(scale);
        double var = scale / fmax(1.0, fan); /* Keras: scale /= max(1., fan) */
        switch (spec->distribution) {
        case NNINIT_DIST_UNIFORM: return plan_scaled(p, name, d, 1, sqrt(var));
        case NNINIT_DIST_NORMAL: return plan_scaled(p, name, d, 0, sqrt(var));
        case NNINIT_DIST_TRUNCATED_NORMAL:
            return plan_trunc(p, name, d, 0.0, sqrt(var) / NNINIT_TRUNC2_STD, -2.0, 2.0, 1);
        }
        return nninit__err(NNINIT_ERR_PARAM, "variance_scaling: unknown distribution %d", (int)spec->distribution);
    }
    case NNINIT_ORTHOGONAL:
        if (t->ndim < 2)
            return nninit__err(NNINIT_ERR_DIMS,
                               "orthogonal: only tensors with 2 or more dimensions are supported (ndim %d)", t->ndim);
        if (!isfinite(spec->gain))
            return nninit__err(NNINIT_ERR_PARAM, "orthogonal: gain %g must be finite", spec->gain);
        p->kernel = NNINIT_K_ORTHOGONAL;
        in->gain = spec->gain;
        {
            /* rows of a semi-orthogonal (r, c) matrix have norm 1 (r <= c) or
             * norm sqrt(c/r)... each entry has mean square min(r,c)/(r*c). */
            double r = (double)t->shape[0], c = (double)p->numel / r;
            in->mean = 0.0;
            in->variance = spec->gain * spec->gain * fmin(r, c) / (r * c);
            in->lo = -fabs(spec->gain);
            in->hi = fabs(spec->gain);
            if ((st = check_reach(name, d, fabs(spec->gain)))) return st;
        }
        return NNINIT_OK;
    case NNINIT_DELTA_ORTHOGONAL: {
        int out_ax, in_ax;
        if ((st = nninit__delta_orthogonal_axes(t, &out_ax, &in_ax))) return st;
        if (!isfinite(spec->gain))
            return nninit__err(NNINIT_ERR_PARAM, "delta_orthogonal: gain %g must be finite", spec->gain);
        if ((st = check_reach(name, d, fabs(spec->gain)))) return st;
        p->kernel = NNINIT_K_DELTA_ORTHOGONAL;
        /* The fans do not set the scale: gain does. The in columns of the
         * centre tap have norm |gain|, every other tap is zero. */
        in->gain = spec->gain;
        in->mean = 0.0;
        in->variance = spec->gain * spec->gain * (double)t->shape[in_ax] / (double)p->numel;
        in->lo = -fabs(spec->gain);
        in->hi = fabs(spec->gain);
        return NNINIT_OK;
    }
    case NNINIT_SPARSE:
        if (t->ndim != 2)
            return nninit__err(NNINIT_ERR_DIMS, "sparse: only tensors with 2 dimensions are supported (ndim %d)",
                               t->ndim);
        if (isnan(spec->sparsity) || spec->sparsity < 0 || spec->sparsity > 1)
            return nninit__err(NNINIT_ERR_SPARSITY, "sparse: sparsity %g must be in [0, 1]", spec->sparsity);
        if ((st = check_std(name, spec->std))) return st;
        if ((st = check_reach(name, d, (d == NNINIT_F64 ? NNINIT_ZMAX_F64 : NNINIT_ZMAX_F32) * spec->std))) return st;
        p->kernel = NNINIT_K_SPARSE;
        in->std = spec->std;
        in->mean = 0.0;
        {
            double rows = (double)t->shape[0];
            double nz = ceil(spec->sparsity * rows);
            in->variance = spec->std * spec->std * (rows - nz) / rows;
        }
        return NNINIT_OK;
    case NNINIT_EYE:
        if (t->ndim != 2)
            return nninit__err(NNINIT_ERR_DIMS, "eye: only 2-dimensional tensors are supported (ndim %d)", t->ndim);
        p->kernel = NNINIT_K_EYE;
        in->lo = 0.0;
        in->hi = 1.0;
        {
            double r = (double)t->shape[0], c = (double)t->shape[1], m = fmin(r, c) / (r * c);
            in->mean = m;
            in->variance = m - m * m;
        }
        return NNINIT_OK;
    case NNINIT_DIRAC: {
        if (t->ndim < 3 || t->ndim > 5)
            return nninit__err(NNINIT_ERR_DIMS, "dirac: only 3, 4 and 5-dimensional tensors are supported (ndim %d)",
                               t->ndim);
        int64_t g = spec->groups;
        if (g < 1) return nninit__err(NNINIT_ERR_GROUPS, "dirac: groups %lld must be >= 1", (long long)g);
        if (t->shape[0] % g)
            return nninit__err(NNINIT_ERR_GROUPS, "dirac: dim 0 (%lld) must be divisible by groups (%lld)",
                               (long long)t->shape[0], (long long)g);
        p->kernel = NNINIT_K_DIRAC;
        p->groups = g;
        in->lo = 0.0;
        in->hi = 1.0;
        {
            int64_t opg = t->shape[0] / g, mn = opg < t->shape[1] ? opg : t->shape[1];
            double m = (double)(g * mn) / (double)p->numel;
            in->mean = m;
            in->variance = m - m * m;
        }
        return NNINIT_OK;
    }
    default: break;
    }
    return nninit__err(NNINIT_ERR_PARAM, "unknown scheme %d", (int)spec->scheme);
}

nninit_status nninit_explain(const nninit_spec *spec, const nninit_tensor *t, nninit_info *info) {
    nninit__plan p;
    if (!info) return nninit__err(NNINIT_ERR_NULL, "explain: NULL info");
    nninit_status st = nninit__plan_make(spec, t, &p);
    if (st) return st;
    *info = p.info;
    return NNINIT_OK;
}

int nninit_scheme_uses_fans(nninit_scheme s) {
    switch (s) {
    case NNINIT_XAVIER_UNIFORM:
    case NNINIT_XAVIER_NORMAL:
    case NNINIT_KAIMING_UNIFORM:
    case NNINIT_KAIMING_NORMAL:
    case NNINIT_LECUN_UNIFORM:
    case NNINIT_LECUN_NORMAL:
    case NNINIT_VARIANCE_SCALING: return 1;
    default: return 0;
    }
}

int nninit_scheme_is_elementwise(nninit_scheme s) {
    return (unsigned)s < NNINIT_SCHEME_COUNT && s != NNINIT_ORTHOGONAL && s != NNINIT_SPARSE &&
           s != NNINIT_DELTA_ORTHOGONAL;
}

/* explain.c -- the PyTorch, Keras and JAX calls equivalent to a resolved
 * scheme, and numbers as Python writes them (explain.h). Public header only. */
#include "explain.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------- */
/* Number formatting                                                         */
/* ------------------------------------------------------------------------- */

int cli_shortest_digits(double x) {
    char tmp[64];
    for (int p = 1; p < 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
        if (strtod(tmp, NULL) == x) return p;
    }
    return 17;
}

const char *cli_fmt_py(char *buf, size_t cap, double x) {
    if (isnan(x)) {
        snprintf(buf, cap, "float('nan')");
        return buf;
    }
    if (isinf(x)) {
        snprintf(buf, cap, x < 0 ? "float('-inf')" : "float('inf')");
        return buf;
    }
    char tmp[64], dig[32];
    int p = cli_shortest_digits(x);
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
    const char *s = tmp;
    int neg = (*s == '-');
    if (neg) s++;
    int nd = 0;
    for (; *s && *s != 'e'; s++)
        if (isdigit((unsigned char)*s)) dig[nd++] = *s;
    dig[nd] = '\0';
    int exp = (*s == 'e') ? atoi(s + 1) : 0;

    char out[96];
    size_t n = 0;
    if (neg) out[n++] = '-';
    if (exp >= -4 && exp < 16) {
        if (exp >= 0) {
            for (int i = 0; i <= exp; i++) out[n++] = i < nd ? dig[i] : '0';
            out[n++] = '.';
            if (nd > exp + 1)
                for (int i = exp + 1; i < nd; i++) out[n++] = dig[i];
            else out[n++] = '0';
        } else {
            out[n++] = '0';
            out[n++] = '.';
            for (int i = 0; i < -exp - 1; i++) out[n++] = '0';
            for (int i = 0; i < nd; i++) out[n++] = dig[i];
        }
        out[n] = '\0';
    } else {
        out[n++] = dig[0];
        if (nd > 1) {
            out[n++] = '.';
            for (int i = 1; i < nd; i++) out[n++] = dig[i];
        }
        snprintf(out + n, sizeof out - n, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    }
    snprintf(buf, cap, "%s", out);
    return buf;
}

const char *cli_fmt_num(char *buf, size_t cap, double x) {
    if (isnan(x)) {
        snprintf(buf, cap, "n/a");
        return buf;
    }
    if (isinf(x)) {
        snprintf(buf, cap, x < 0 ? "-inf" : "inf");
        return buf;
    }
    cli_fmt_py(buf, cap, x);
    size_t n = strlen(buf);
    if (n > 2 && !strcmp(buf + n - 2, ".0")) buf[n - 2] = '\0';
    return buf;
}

/* A derived constant such as sqrt(2)^2 = 2.0000000000000004: if a short
 * decimal (12 digits) is within a few ulps, use it, so the printed call reads
 * scale=2.0; otherwise keep every digit. */
static double tidy(double x) {
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.12g", x);
    double y = strtod(tmp, NULL);
    return fabs(y - x) <= 4 * DBL_EPSILON * fabs(x) ? y : x;
}

static int close_rel(double a, double b) { return fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b)); }

/* ------------------------------------------------------------------------- */
/* Equivalent calls                                                          */
/* ------------------------------------------------------------------------- */

static int is_kaiming(nninit_scheme s) { return s == NNINIT_KAIMING_UNIFORM || s == NNINIT_KAIMING_NORMAL; }

typedef struct {
    int ok;
    double fan_in, fan_out;
    char extra[64]; /* extra arguments (JAX in_axis/out_axis) */
} fw_fans;

/* Product of the dims other than axes i and o. */
static double receptive_field(const nninit_tensor *t, int i, int o) {
    double rf = 1;
    for (int k = 0; k < t->ndim; k++)
        if (k != i && k != o) rf *= (double)t->shape[k];
    return rf;
}

static fw_fans framework_fans(cli_framework fw, const nninit_tensor *t) {
    fw_fans f = {0, 0, 0, ""};
    int n = t->ndim;
    if (n < 2) return f;
    const int64_t *s = t->shape;
    int64_t groups = t->groups > 1 ? t->groups : 1;
    switch (t->layout) {
    case NNINIT_LAYOUT_OIHW: /* the same layer everywhere: in/g * rf, out * rf */
        f.fan_in = (double)s[1] * receptive_field(t, 0, 1);
        f.fan_out = (double)s[0] * receptive_field(t, 0, 1);
        f.ok = 1;
        break;
    case NNINIT_LAYOUT_HWIO:
        f.fan_in = (double)s[n - 2] * receptive_field(t, n - 2, n - 1);
        f.fan_out = (double)s[n - 1] * receptive_field(t, n - 2, n - 1);
        f.ok = 1;
        break;
    case NNINIT_LAYOUT_IOHW: {
        /* (in, out/g, k...). PyTorch: its OIHW rule on this very tensor. Keras
         * Conv*Transpose kernel (k..., out, in): the same numbers. JAX (flax
         * ConvTranspose) kernel (k..., in, out): in * rf, out * rf. Keras and
         * flax transposed convolutions have no groups. */
        double rf = receptive_field(t, 0, 1);
        if (fw != CLI_FW_TORCH && groups > 1) return f;
        f.fan_in = (double)(fw == CLI_FW_JAX ? s[0] : s[1]) * rf;
        f.fan_out = (double)(fw == CLI_FW_JAX ? s[1] : s[0]) * rf;
        f.ok = 1;
        break;
    }
    case NNINIT_LAYOUT_EMBEDDING:
        /* The (num, dim) table as each framework computes it. */
        if (n != 2) return f;
        f.fan_in = (double)(fw == CLI_FW_TORCH ? s[1] : s[0]);
        f.fan_out = (double)(fw == CLI_FW_TORCH ? s[0] : s[1]);
        f.ok = 1;
        break;
    case NNINIT_LAYOUT_CUSTOM:
        /* Only JAX can name arbitrary axes. */
        if (fw != CLI_FW_JAX || t->in_axis == t->out_axis) return f;
        f.fan_in = (double)s[t->in_axis] * receptive_field(t, t->in_axis, t->out_axis);
        f.fan_out = (double)s[t->out_axis] * receptive_field(t, t->in_axis, t->out_axis);
        snprintf(f.extra, sizeof f.extra, ", in_axis=%d, out_axis=%d", t->in_axis, t->out_axis);
        f.ok = 1;
        break;
    }
    return f;
}

static double mode_fan(int m, double fi, double fo) {
    switch (m) {
    case NNINIT_FAN_IN: return fi;
    case NNINIT_FAN_OUT: return fo;
    case NNINIT_FAN_AVG: return (fi + fo) / 2;
    default: return sqrt(fi * fo);
    }
}

#define MODE_BIT(m) (1u << (m))

/* The framework mode (preferring nninit's own) that yields fan, or -1. */
static int match_mode(const fw_fans *f, unsigned allowed, int preferred, double fan) {
    if (!f->ok || isnan(fan)) return -1;
    if ((allowed & MODE_BIT(preferred)) && close_rel(mode_fan(preferred, f->fan_in, f->fan_out), fan)) return preferred;
    for (int m = NNINIT_FAN_IN; m <= NNINIT_FAN_GEO_AVG; m++)
        if ((allowed & MODE_BIT(m)) && close_rel(mode_fan(m, f->fan_in, f->fan_out), fan)) return m;
    return -1;
}

static const char *MODE_NAMES[] = {"fan_in", "fan_out", "fan_avg", "fan_geo_avg"};

/* Every fan-based scheme is variance scaling: var = scale / fan. */
typedef struct {
    int ok;
    double scale, gain;
    int mode;
    nninit_distribution dist;
} vs_form;

static vs_form variance_scaling_form(const nninit_spec *sp, const nninit_info *info) {
    vs_form v = {1, 1.0, 1.0, NNINIT_FAN_IN, NNINIT_DIST_UNIFORM};
    switch (sp->scheme) {
    case NNINIT_XAVIER_UNIFORM:
    case NNINIT_XAVIER_NORMAL:
        v.gain = sp->gain;
        v.scale = tidy(sp->gain * sp->gain);
        v.mode = NNINIT_FAN_AVG;
        v.dist = sp->scheme == NNINIT_XAVIER_UNIFORM ? NNINIT_DIST_UNIFORM : NNINIT_DIST_NORMAL;
        break;
    case NNINIT_KAIMING_UNIFORM:
    case NNINIT_KAIMING_NORMAL:
        v.gain = info->gain;
        v.scale = tidy(info->gain * info->gain);
        v.mode = (int)sp->mode;
        v.dist = sp->scheme == NNINIT_KAIMING_UNIFORM ? NNINIT_DIST_UNIFORM : NNINIT_DIST_NORMAL;
        break;
    case NNINIT_LECUN_UNIFORM:
    case NNINIT_LECUN_NORMAL:
        v.dist = sp->scheme == NNINIT_LECUN_UNIFORM ? NNINIT_DIST_UNIFORM : NNINIT_DIST_NORMAL;
        break;
    case NNINIT_VARIANCE_SCALING:
        v.scale = sp->scale;
        v.gain = tidy(sqrt(sp->scale));
        v.mode = (int)sp->mode;
        v.dist = sp->distribution;
        break;
    default: v.ok = 0;
    }
    return v;
}

/* A PyTorch nonlinearity whose gain^2 is scale, for kaiming_*_(w, ...). */
static const char *torch_nl_for_scale(double scale) {
    static const nninit_nonlinearity cands[] = {NNINIT_NL_LINEAR, NNINIT_NL_RELU, NNINIT_NL_TANH, NNINIT_NL_SELU};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        double g;
        if (nninit_calculate_gain(cands[i], 0.0, &g) == NNINIT_OK && close_rel(g * g, scale))
            return nninit_nonlinearity_name(cands[i]);
    }
    return NULL;
}

/* The explicit distribution of this tensor, or "" where fw cannot say it. */
static void explicit_call(cli_framework fw, const nninit_spec *sp, const nninit_info *in, char *buf, size_t cap) {
    char p1[64], p2[64], p3[64], p4[64];
    buf[0] = '\0';
    switch (in->kind) {
    case NNINIT_RESOLVED_CONSTANT:
        cli_fmt_py(p1, sizeof p1, in->lo);
        if (fw == CLI_FW_TORCH) snprintf(buf, cap, "torch.nn.init.constant_(w, %s)", p1);
        else if (fw == CLI_FW_KERAS) snprintf(buf, cap, "keras.initializers.Constant(value=%s)", p1);
        else snprintf(buf, cap, "jax.nn.initializers.constant(%s)", p1);
        break;
    case NNINIT_RESOLVED_UNIFORM:
        cli_fmt_py(p1, sizeof p1, in->lo);
        cli_fmt_py(p2, sizeof p2, in->hi);
        if (fw == CLI_FW_TORCH) snprintf(buf, cap, "torch.nn.init.uniform_(w, a=%s, b=%s)", p1, p2);
        else if (fw == CLI_FW_KERAS)
            snprintf(buf, cap, "keras.initializers.RandomUniform(minval=%s, maxval=%s)", p1, p2);
        else if (in->lo == 0) /* JAX's uniform is U[0, scale) */
            snprintf(buf, cap, "jax.nn.initializers.uniform(scale=%s)", p2);
        break;
    case NNINIT_RESOLVED_NORMAL:
        cli_fmt_py(p1, sizeof p1, in->mean);
        cli_fmt_py(p2, sizeof p2, in->std);
        if (fw == CLI_FW_TORCH) snprintf(buf, cap, "torch.nn.init.normal_(w, mean=%s, std=%s)", p1, p2);
        else if (fw == CLI_FW_KERAS) snprintf(buf, cap, "keras.initializers.RandomNormal(mean=%s, stddev=%s)", p1, p2);
        else if (in->mean == 0) /* JAX's normal has no mean */
            snprintf(buf, cap, "jax.nn.initializers.normal(stddev=%s)", p2);
        break;
    case NNINIT_RESOLVED_TRUNC_NORMAL: {
        /* info.mean is the mean of the truncated values; the calls want the
         * location of the normal before truncation (variance_scaling: 0). */
        double loc = (sp->scheme == NNINIT_TRUNC_NORMAL || sp->scheme == NNINIT_TRUNC_NORMAL_STD) ? sp->mean : 0.0;
        cli_fmt_py(p1, sizeof p1, loc);
        cli_fmt_py(p2, sizeof p2, in->std);
        cli_fmt_py(p3, sizeof p3, in->lo);
        cli_fmt_py(p4, sizeof p4, in->hi);
        if (fw == CLI_FW_TORCH) {
            snprintf(buf, cap, "torch.nn.init.trunc_normal_(w, mean=%s, std=%s, a=%s, b=%s)", p1, p2, p3, p4);
            break;
        }
        if (!(in->std > 0)) break;
        double lo = (in->lo - loc) / in->std, hi = (in->hi - loc) / in->std;
        if (fw == CLI_FW_KERAS) { /* Keras truncates at mean +- 2 stddev, always */
            if (close_rel(lo, -2) && close_rel(hi, 2))
                snprintf(buf, cap, "keras.initializers.TruncatedNormal(mean=%s, stddev=%s)", p1, p2);
        } else if (loc == 0) {
            snprintf(buf, cap, "jax.nn.initializers.truncated_normal(stddev=%s, lower=%s, upper=%s)", p2,
                     cli_fmt_py(p3, sizeof p3, tidy(lo)), cli_fmt_py(p4, sizeof p4, tidy(hi)));
        }
        break;
    }
    default: break;
    }
}

static void fan_based_call(cli_framework fw, const nninit_spec *sp, const nninit_tensor *t, const nninit_info *in,
                           char *buf, size_t cap) {
    vs_form v = variance_scaling_form(sp, in);
    fw_fans f = framework_fans(fw, t);
    char sc[64], g[64], sl[64];
    cli_fmt_py(sc, sizeof sc, v.scale);
    int m;
    buf[0] = '\0';
    if (fw == CLI_FW_TORCH) {
        const char *kind = v.dist == NNINIT_DIST_UNIFORM ? "uniform" : "normal";
        if (v.dist != NNINIT_DIST_TRUNCATED_NORMAL) {
            m = match_mode(&f, MODE_BIT(NNINIT_FAN_IN) | MODE_BIT(NNINIT_FAN_OUT), v.mode, in->fan);
            if (m >= 0 && is_kaiming(sp->scheme)) {
                cli_fmt_num(sl, sizeof sl, sp->slope);
                snprintf(buf, cap, "torch.nn.init.kaiming_%s_(w, a=%s, mode='%s', nonlinearity='%s')", kind, sl,
                         MODE_NAMES[m], nninit_nonlinearity_name(sp->nonlinearity));
                return;
            }
            const char *nl = torch_nl_for_scale(v.scale);
            if (m >= 0 && nl) {
                snprintf(buf, cap, "torch.nn.init.kaiming_%s_(w, a=0, mode='%s', nonlinearity='%s')", kind,
                         MODE_NAMES[m], nl);
                return;
            }
            if (match_mode(&f, MODE_BIT(NNINIT_FAN_AVG), NNINIT_FAN_AVG, in->fan) >= 0) {
                snprintf(buf, cap, "torch.nn.init.xavier_%s_(w, gain=%s)", kind, cli_fmt_py(g, sizeof g, v.gain));
                return;
            }
        }
    } else if (fw == CLI_FW_KERAS) {
        m = match_mode(&f, MODE_BIT(NNINIT_FAN_IN) | MODE_BIT(NNINIT_FAN_OUT) | MODE_BIT(NNINIT_FAN_AVG), v.mode,
                       in->fan);
        if (m >= 0) {
            /* Keras' 'normal' is truncated: a plain normal is 'untruncated_normal'. */
            const char *d = v.dist == NNINIT_DIST_UNIFORM  ? "uniform"
                            : v.dist == NNINIT_DIST_NORMAL ? "untruncated_normal"
                                                           : "truncated_normal";
            snprintf(buf, cap, "keras.initializers.VarianceScaling(scale=%s, mode='%s', distribution='%s')", sc,
                     MODE_NAMES[m], d);
            return;
        }
    } else {
        m = match_mode(&f, 0xfu, v.mode, in->fan);
        if (m >= 0) {
            const char *d = v.dist == NNINIT_DIST_UNIFORM  ? "uniform"
                            : v.dist == NNINIT_DIST_NORMAL ? "normal"
                                                           : "truncated_normal";
            snprintf(buf, cap, "jax.nn.initializers.variance_scaling(%s, '%s', '%s'%s)", sc, MODE_NAMES[m], d, f.extra);
            return;
        }
    }
    explicit_call(fw, sp, in, buf, cap);
}

/* The structured schemes (orthogonal, sparse, eye, dirac) ignore the layout:
 * they work on shape[0] x rest, as PyTorch does on its tensor. PyTorch's call
 * is equivalent only where its weight of the layer is this tensor (OIHW,
 * IOHW, embedding; a custom 2-D layout (out, in)), or its transpose
 * (transpose_ok: 2-D HWIO and custom; orthogonal and eye commute with the
 * transpose, sparse's zeros per column do not). An HWIO conv kernel is not
 * PyTorch's (out, in, k...) weight. */
static int torch_weight_is(const nninit_tensor *t, int transpose_ok) {
    switch (t->layout) {
    case NNINIT_LAYOUT_OIHW:
    case NNINIT_LAYOUT_IOHW:
    case NNINIT_LAYOUT_EMBEDDING: return 1;
    case NNINIT_LAYOUT_HWIO: return t->ndim == 2 && transpose_ok;
    case NNINIT_LAYOUT_CUSTOM: return t->ndim == 2 && (transpose_ok || (t->in_axis == 1 && t->out_axis == 0));
    }
    return 0;
}

void cli_equivalent_call(cli_framework fw, const nninit_spec *sp, const nninit_tensor *t, const nninit_info *in,
                         char *buf, size_t cap) {
    char p1[64], p2[64], p3[64];
    buf[0] = '\0';
    if (nninit_scheme_uses_fans(sp->scheme)) {
        fan_based_call(fw, sp, t, in, buf, cap);
        return;
    }
    switch (sp->scheme) {
    case NNINIT_ZEROS:
        snprintf(buf, cap, "%s",
                 fw == CLI_FW_TORCH   ? "torch.nn.init.zeros_(w)"
                 : fw == CLI_FW_KERAS ? "keras.initializers.Zeros()"
                                      : "jax.nn.initializers.zeros");
        break;
    case NNINIT_ONES:
        snprintf(buf, cap, "%s",
                 fw == CLI_FW_TORCH   ? "torch.nn.init.ones_(w)"
                 : fw == CLI_FW_KERAS ? "keras.initializers.Ones()"
                                      : "jax.nn.initializers.ones");
        break;
    case NNINIT_TRUNC_NORMAL_STD:
        /* Bounds in units of std: JAX's own parametrization. */
        if (fw == CLI_FW_JAX) {
            if (sp->mean == 0 && sp->std > 0)
                snprintf(buf, cap, "jax.nn.initializers.truncated_normal(stddev=%s, lower=%s, upper=%s)",
                         cli_fmt_py(p1, sizeof p1, sp->std), cli_fmt_py(p2, sizeof p2, sp->a),
                         cli_fmt_py(p3, sizeof p3, sp->b));
            break;
        }
        explicit_call(fw, sp, in, buf, cap);
        break;
    case NNINIT_CONSTANT:
    case NNINIT_UNIFORM:
    case NNINIT_NORMAL:
    case NNINIT_TRUNC_NORMAL: explicit_call(fw, sp, in, buf, cap); break;
    case NNINIT_ORTHOGONAL:
        /* PyTorch orthogonalizes (shape[0], rest). Keras and JAX take the last
         * axis as columns: on a 2-D tensor, or on the HWIO kernel of the same
         * OIHW layer, that is the same matrix up to transpose and a row
         * permutation, hence the same (Haar) distribution. */
        cli_fmt_py(p1, sizeof p1, sp->gain);
        if (fw == CLI_FW_TORCH) {
            if (torch_weight_is(t, 1)) snprintf(buf, cap, "torch.nn.init.orthogonal_(w, gain=%s)", p1);
        } else if (t->ndim == 2 || t->layout == NNINIT_LAYOUT_OIHW) {
            snprintf(buf, cap,
                     fw == CLI_FW_KERAS ? "keras.initializers.Orthogonal(gain=%s)"
                                        : "jax.nn.initializers.orthogonal(scale=%s)",
                     p1);
        }
        break;
    case NNINIT_SPARSE:
        /* Zeros per column: not invariant under transpose. */
        if (fw == CLI_FW_TORCH && torch_weight_is(t, 0))
            snprintf(buf, cap, "torch.nn.init.sparse_(w, sparsity=%s, std=%s)", cli_fmt_py(p1, sizeof p1, sp->sparsity),
                     cli_fmt_py(p2, sizeof p2, sp->std));
        break;
    case NNINIT_EYE:
        if (fw == CLI_FW_TORCH && torch_weight_is(t, 1)) snprintf(buf, cap, "torch.nn.init.eye_(w)");
        else if (fw == CLI_FW_KERAS) snprintf(buf, cap, "keras.initializers.Identity(gain=1.0)");
        break;
    case NNINIT_DIRAC:
        /* JAX's delta_orthogonal is a different (orthogonal) kernel. */
        if (fw == CLI_FW_TORCH && torch_weight_is(t, 0))
            snprintf(buf, cap, "torch.nn.init.dirac_(w, groups=%lld)", (long long)(sp->groups > 1 ? sp->groups : 1));
        break;
    default: break;
    }
}

const char *cli_resolved_name(nninit_resolved k) {
    switch (k) {
    case NNINIT_RESOLVED_CONSTANT: return "constant";
    case NNINIT_RESOLVED_UNIFORM: return "uniform";
    case NNINIT_RESOLVED_NORMAL: return "normal";
    case NNINIT_RESOLVED_TRUNC_NORMAL: return "trunc_normal";
    case NNINIT_RESOLVED_STRUCTURED: return "structured";
    }
    return "unknown";
}

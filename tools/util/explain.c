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

/* The structured schemes orthogonal, sparse, eye and dirac ignore the layout:
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
    case NNINIT_DELTA_ORTHOGONAL:
        /* JAX's own scheme, on its HWIO kernel of the same layer: nninit
         * takes the channel axes from the layout, so every layout it accepts
         * is that layer. PyTorch (dirac_ is deterministic) and Keras have
         * none. */
        if (fw == CLI_FW_JAX)
            snprintf(buf, cap, "jax.nn.initializers.delta_orthogonal(scale=%s)", cli_fmt_py(p1, sizeof p1, sp->gain));
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

/* ------------------------------------------------------------------------- */
/* Layer presets: the framework's layer and the calls that draw its params   */
/* ------------------------------------------------------------------------- */

static const struct {
    const char *name, *summary;
} PRESET_SUMMARY[] = {
    {"torch.Linear", "weight kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(in)), bias U(+-1/sqrt(in))"},
    {"torch.Conv", "weight kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(fan_in)), bias U(+-1/sqrt(fan_in)); "
                   "fan_in = in/groups * prod(kernel)"},
    {"torch.ConvTranspose", "weight (in, out/groups, k...) kaiming_uniform_(a=sqrt(5)), bias U(+-1/sqrt(fan_in)); "
                            "fan_in = out/groups * prod(kernel), PyTorch's rule on that weight"},
    {"torch.Embedding", "weight N(0, 1), row padding_idx zero"},
    {"torch.RNN", "every weight and bias U(+-1/sqrt(hidden_size))"},
    {"torch.LSTM", "every weight and bias U(+-1/sqrt(hidden_size)); 4 gates, proj_size"},
    {"torch.GRU", "every weight and bias U(+-1/sqrt(hidden_size)); 3 gates"},
    {"torch.LayerNorm", "weight ones, bias zeros (elementwise_affine)"},
    {"torch.BatchNorm", "weight ones, bias zeros (affine)"},
    {"torch.MultiheadAttention", "in_proj_weight xavier_uniform_, in_proj_bias zeros, bias_k/v xavier_normal_, "
                                 "out_proj as torch.Linear with bias zeros"},
    {"keras.Dense", "kernel (in, out) glorot_uniform = U(+-sqrt(6/(in+out))), bias zeros"},
    {"keras.Conv", "kernel (k..., in/groups, out) glorot_uniform = U(+-sqrt(6/(fan_in+fan_out))), bias zeros"},
    {"flax.Dense", "kernel (in, out) lecun_normal: truncated N, std sqrt(1/in)/.8796 on +-2 std (float32), bias "
                   "zeros"},
    {"flax.Conv", "kernel (k..., in/groups, out) lecun_normal: truncated N, std sqrt(1/fan_in)/.8796 on +-2 std "
                  "(float32), bias zeros"},
};

/* The entry of PRESET_SUMMARY for name: an exact name, else the family
 * ("torch.Conv2d" -> "torch.Conv", "keras.Conv1D" -> "keras.Conv"). */
const char *cli_preset_summary(const char *preset) {
    const char *best = "";
    size_t best_n = 0;
    for (size_t i = 0; preset && i < sizeof PRESET_SUMMARY / sizeof PRESET_SUMMARY[0]; i++) {
        size_t n = strlen(PRESET_SUMMARY[i].name);
        if (strncmp(preset, PRESET_SUMMARY[i].name, n) || n <= best_n) continue;
        /* the family's name is followed by nothing, "Nd", "ND" or a digit */
        const char *rest = preset + n;
        if (*rest && !isdigit((unsigned char)*rest)) continue;
        best = PRESET_SUMMARY[i].summary, best_n = n;
    }
    return best;
}

static int starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* The spatial rank of a conv preset: the digit in its name, or (flax.Conv)
 * the leading kernel entries >= 1. */
static int conv_rank(const char *preset, const nninit_layer *l) {
    for (const char *c = preset; *c; c++)
        if (*c >= '1' && *c <= '3') return *c - '0';
    int r = 0;
    while (r < 3 && l->kernel[r] >= 1) r++;
    return r;
}

/* "(7, 7)" */
static void tuple(char *b, size_t cap, const int64_t *v, int n) {
    size_t k = (size_t)snprintf(b, cap, "(");
    for (int i = 0; i < n && k < cap; i++)
        k += (size_t)snprintf(b + k, cap - k, "%s%lld", i ? ", " : "", (long long)v[i]);
    if (k < cap) snprintf(b + k, cap - k, n == 1 ? ",)" : ")");
}

static const char *torch_dtype(nninit_dtype d) {
    switch (d) {
    case NNINIT_F64: return "torch.float64";
    case NNINIT_BF16: return "torch.bfloat16";
    case NNINIT_F16: return "torch.float16";
    default: return NULL;
    }
}

void cli_preset_module(const char *preset, const nninit_layer *l, char *buf, size_t cap) {
    char k[96] = "", extra[160] = "";
    size_t e = 0;
    const char *dt = nninit_dtype_name(l->dtype);
    long long in = (long long)l->in, out = (long long)l->out;
    buf[0] = '\0';
#define EXTRA(...) (e += (size_t)snprintf(extra + e, e < sizeof extra ? sizeof extra - e : 0, __VA_ARGS__))
    if (starts(preset, "torch.")) {
        const char *m = preset + 6, *td = torch_dtype(l->dtype);
        if (starts(m, "Conv")) {
            tuple(k, sizeof k, l->kernel, conv_rank(preset, l));
            if (l->groups != 1) EXTRA(", groups=%lld", (long long)l->groups);
            if (!l->bias) EXTRA(", bias=False");
            if (td) EXTRA(", dtype=%s", td);
            snprintf(buf, cap, "torch.nn.%s(%lld, %lld, kernel_size=%s%s)", m, in, out, k, extra);
            return;
        }
        if (!strcmp(m, "Linear") || !strcmp(m, "Embedding")) {
            if (!l->bias && m[0] == 'L') EXTRA(", bias=False");
            if (m[0] == 'E' && l->padding_idx != NNINIT_NO_PADDING_IDX)
                EXTRA(", padding_idx=%lld", (long long)l->padding_idx);
        } else if (!strcmp(m, "RNN") || !strcmp(m, "LSTM") || !strcmp(m, "GRU")) {
            if (l->num_layers != 1) EXTRA(", num_layers=%d", l->num_layers);
            if (!l->bias) EXTRA(", bias=False");
            if (l->bidirectional) EXTRA(", bidirectional=True");
            if (l->proj_size) EXTRA(", proj_size=%lld", (long long)l->proj_size);
        } else {
            if (!strcmp(m, "LayerNorm")) {
                if (!l->bias) EXTRA(", elementwise_affine=False");
            } else if (!strcmp(m, "MultiheadAttention")) {
                EXTRA(", %lld", (long long)l->num_heads);
                if (!l->bias) EXTRA(", bias=False");
                if (l->add_bias_kv) EXTRA(", add_bias_kv=True");
            } else if (!l->bias) {
                EXTRA(", affine=False");
            }
            if (td) EXTRA(", dtype=%s", td);
            snprintf(buf, cap, "torch.nn.%s(%lld%s)", m, out, extra);
            return;
        }
        if (td) EXTRA(", dtype=%s", td);
        snprintf(buf, cap, "torch.nn.%s(%lld, %lld%s)", m, in, out, extra);
    } else if (starts(preset, "keras.")) {
        const char *m = preset + 6;
        if (starts(m, "Conv")) {
            tuple(k, sizeof k, l->kernel, conv_rank(preset, l));
            if (l->groups != 1) EXTRA(", groups=%lld", (long long)l->groups);
        }
        if (!l->bias) EXTRA(", use_bias=False");
        if (l->dtype != NNINIT_F32)
            EXTRA(", dtype='%s'", !strcmp(dt, "f64") ? "float64" : !strcmp(dt, "f16") ? "float16" : "bfloat16");
        snprintf(buf, cap, "keras.layers.%s(%lld%s%s%s)  # on %lld input %s", m, out, *k ? ", " : "", k, extra, in,
                 starts(m, "Conv") ? "channels" : "features");
    } else if (starts(preset, "flax.")) {
        const char *m = preset + 5;
        if (starts(m, "Conv")) {
            tuple(k, sizeof k, l->kernel, conv_rank(preset, l));
            EXTRA(", kernel_size=%s", k);
            if (l->groups != 1) EXTRA(", feature_group_count=%lld", (long long)l->groups);
        }
        if (!l->bias) EXTRA(", use_bias=False");
        if (l->dtype != NNINIT_F32)
            EXTRA(", param_dtype=jnp.%s", !strcmp(dt, "f64") ? "float64" : !strcmp(dt, "f16") ? "float16" : "bfloat16");
        snprintf(buf, cap, "flax.linen.%s(features=%lld%s)  # on %lld input %s", m, out, extra, in,
                 starts(m, "Conv") ? "channels" : "features");
    }
#undef EXTRA
}

/* "1/math.sqrt(147)" when b is that number exactly (PyTorch's own
 * arithmetic for the bound), else b's digits. */
static void inv_sqrt(char *out, size_t cap, double b) {
    double f = b > 0 ? floor(1.0 / (b * b) + 0.5) : 0;
    if (f >= 1 && f < 9007199254740992.0 && 1.0 / sqrt(f) == b) snprintf(out, cap, "1/math.sqrt(%.0f)", f);
    else cli_fmt_py(out, cap, b);
}

void cli_preset_call(const char *preset, const nninit_param *p, char *buf, size_t cap) {
    const nninit_spec *s = &p->spec;
    const char *n = p->name;
    char v[64];
    buf[0] = '\0';
    if (starts(preset, "torch.")) {
        switch (s->scheme) {
        case NNINIT_KAIMING_UNIFORM:
            if (s->slope == sqrt(5.0)) snprintf(v, sizeof v, "math.sqrt(5)");
            else cli_fmt_py(v, sizeof v, s->slope);
            snprintf(buf, cap, "torch.nn.init.kaiming_uniform_(%s, a=%s)", n, v);
            break;
        case NNINIT_UNIFORM:
            inv_sqrt(v, sizeof v, s->b);
            snprintf(buf, cap, "torch.nn.init.uniform_(%s, -%s, %s)", n, v, v);
            break;
        case NNINIT_NORMAL:
            if (p->zero_row >= 0)
                snprintf(buf, cap, "torch.nn.init.normal_(%s); %s[%lld].zero_()", n, n, (long long)p->zero_row);
            else snprintf(buf, cap, "torch.nn.init.normal_(%s)", n);
            break;
        case NNINIT_ONES: snprintf(buf, cap, "torch.nn.init.ones_(%s)", n); break;
        case NNINIT_ZEROS: snprintf(buf, cap, "torch.nn.init.zeros_(%s)", n); break;
        case NNINIT_XAVIER_UNIFORM: snprintf(buf, cap, "torch.nn.init.xavier_uniform_(%s)", n); break;
        case NNINIT_XAVIER_NORMAL: snprintf(buf, cap, "torch.nn.init.xavier_normal_(%s)", n); break;
        default: break;
        }
    } else if (starts(preset, "keras.")) {
        if (s->scheme == NNINIT_UNIFORM) snprintf(buf, cap, "keras.initializers.GlorotUniform()");
        else if (s->scheme == NNINIT_ZEROS) snprintf(buf, cap, "keras.initializers.Zeros()");
    } else if (starts(preset, "flax.")) {
        if (s->scheme == NNINIT_TRUNC_NORMAL_STD) snprintf(buf, cap, "flax.linen.initializers.lecun_normal()");
        else if (s->scheme == NNINIT_ZEROS) snprintf(buf, cap, "flax.linen.initializers.zeros_init()");
    }
}

/* ------------------------------------------------------------------------- */
/* The init of each layer of a network                                       */
/* ------------------------------------------------------------------------- */

static const char *source_name(nninit_init_source s) {
    switch (s) {
    case NNINIT_INIT_FROM_LAYER: return "layer";
    case NNINIT_INIT_FROM_PRESET: return "preset";
    case NNINIT_INIT_FROM_DEFAULT: return "default";
    case NNINIT_INIT_FROM_PYTORCH: return "pytorch";
    case NNINIT_INIT_FROM_RULE: return "rule";
    default: return NULL;
    }
}

/* The framework layer an init reproduces: the preset's, or PyTorch's for its defaults. */
static const char *init_framework(const nninit_layer_spec *L, const nninit_layer_init_info *in) {
    nninit_layer_kind k = L->kind == NNINIT_LAYER_RESIDUAL ? L->res_kind : L->kind;
    if (in->source == NNINIT_INIT_FROM_PRESET) return nninit_nn_preset_layer(in->preset, k);
    if (in->source == NNINIT_INIT_FROM_PYTORCH) return nninit_nn_preset_layer(NNINIT_NN_PRESET_TORCH, k);
    return NULL;
}

/* The (out) bias of weight w. */
static nninit_tensor bias_of(const nninit_tensor *w) {
    nninit_tensor b = nninit_tensor_make(1, w->shape, NNINIT_F32);
    return b;
}

static void param_json(cli_json *j, cJSON *parent, const char *key, const nninit_spec *s, const nninit_tensor *t) {
    cJSON *o = cli_json_obj(j, parent, key);
    cJSON *sh = cli_json_arr(j, o, "shape");
    for (int i = 0; i < t->ndim; i++) cli_json_int(j, sh, NULL, t->shape[i]);
    char text[NNINIT_SPEC_TEXT_MAX];
    cli_json_str(j, o, "scheme", nninit_spec_format(s, text, sizeof text) == NNINIT_OK ? text : NULL);
    nninit_info in;
    if (nninit_explain(s, t, &in) != NNINIT_OK) return;
    cli_json_str(j, o, "distribution", cli_resolved_name(in.kind));
    cli_json_num(j, o, "mean", in.mean);
    cli_json_num(j, o, "std", in.std);
    cli_json_num(j, o, "bound", in.bound);
    cli_json_num(j, o, "lo", in.lo);
    cli_json_num(j, o, "hi", in.hi);
}

void cli_layer_init_json(cli_json *j, cJSON *parent, const char *key, const nninit_layer_spec *L,
                         const nninit_layer_init_info *in) {
    if (in->source == NNINIT_INIT_FROM_NONE) {
        cli_json_null(j, parent, key);
        return;
    }
    cJSON *o = cli_json_obj(j, parent, key);
    cli_json_str(j, o, "source", source_name(in->source));
    cli_json_str(j, o, "preset", in->source == NNINIT_INIT_FROM_PRESET ? nninit_nn_preset_name(in->preset) : NULL);
    cli_json_str(j, o, "framework", init_framework(L, in));
    nninit_tensor b = bias_of(&in->weight);
    param_json(j, o, "weight", &in->init[0].weight, &in->weight);
    param_json(j, o, "bias", &in->init[0].bias, &b);
    if (L->kind == NNINIT_LAYER_RESIDUAL) {
        param_json(j, o, "weight2", &in->init[1].weight, &in->weight);
        param_json(j, o, "bias2", &in->init[1].bias, &b);
    }
}

/* "U(-0.0357, 0.0357)", "N(0, 0.05)", "TN(0, 0.1; -0.2, 0.2)", "0", or the
 * scheme's name for a structured fill. */
static void dist_text(char *buf, size_t cap, const nninit_spec *s, const nninit_tensor *t) {
    nninit_info in;
    if (nninit_explain(s, t, &in) != NNINIT_OK) {
        snprintf(buf, cap, "?");
        return;
    }
    switch (in.kind) {
    case NNINIT_RESOLVED_CONSTANT: snprintf(buf, cap, "%.4g", in.lo); break;
    case NNINIT_RESOLVED_UNIFORM: snprintf(buf, cap, "U(%.4g, %.4g)", in.lo, in.hi); break;
    case NNINIT_RESOLVED_NORMAL: snprintf(buf, cap, "N(%.4g, %.4g)", in.mean, in.std); break;
    case NNINIT_RESOLVED_TRUNC_NORMAL:
        snprintf(buf, cap, "TN(%.4g, %.4g; %.4g, %.4g)", s->scheme == NNINIT_TRUNC_NORMAL ? s->mean : in.mean, in.std,
                 in.lo, in.hi);
        break;
    default: snprintf(buf, cap, "%s", nninit_scheme_name(s->scheme)); break;
    }
}

/* "weight kaiming_uniform(a=2.23606797749979) ~ U(-0.0357, 0.0357), bias ~ U(-0.0357, 0.0357)" */
static void pair_text(char *buf, size_t cap, const nninit_layer_init *ini, const nninit_tensor *w) {
    char ws[NNINIT_SPEC_TEXT_MAX], wd[96], bd[96];
    nninit_tensor b = bias_of(w);
    if (nninit_spec_format(&ini->weight, ws, sizeof ws)) snprintf(ws, sizeof ws, "?");
    dist_text(wd, sizeof wd, &ini->weight, w);
    dist_text(bd, sizeof bd, &ini->bias, &b);
    if (nninit_scheme_uses_fans(ini->weight.scheme)) snprintf(buf, cap, "weight %s ~ %s, bias ~ %s", ws, wd, bd);
    else snprintf(buf, cap, "weight ~ %s, bias ~ %s", wd, bd);
}

static void layer_init_text(char *buf, size_t cap, const nninit_layer_spec *L, const nninit_layer_init_info *in) {
    char who[64], a[512], b[512];
    const char *fw = init_framework(L, in);
    switch (in->source) {
    case NNINIT_INIT_FROM_PRESET:
        snprintf(who, sizeof who, "preset %s (%s)", nninit_nn_preset_name(in->preset), fw);
        break;
    case NNINIT_INIT_FROM_PYTORCH: snprintf(who, sizeof who, "PyTorch's default (%s)", fw); break;
    case NNINIT_INIT_FROM_DEFAULT: snprintf(who, sizeof who, "--init/--bias"); break;
    case NNINIT_INIT_FROM_RULE:
        snprintf(who, sizeof who, "%s", L->res_rule == NNINIT_RES_RULE_HE_ZERO ? "he-zero" : "he-he");
        break;
    default: snprintf(who, sizeof who, "init=/bias="); break;
    }
    pair_text(a, sizeof a, &in->init[0], &in->weight);
    if (L->kind != NNINIT_LAYER_RESIDUAL) {
        snprintf(buf, cap, "%s: %s", who, a);
        return;
    }
    pair_text(b, sizeof b, &in->init[1], &in->weight);
    if (!strcmp(a, b)) snprintf(buf, cap, "%s: both inner layers %s", who, a);
    else snprintf(buf, cap, "%s: inner 0 %s; inner 1 %s", who, a, b);
}

/* line on f in lines of at most width characters (0: one line; a longer
 * word stands alone), broken at spaces, continuation lines indented by ind. */
static void put_wrapped(FILE *f, const char *line, int width, int ind) {
    int col = 0, fresh = 1;
    for (const char *w = line; *w;) {
        const char *e = w;
        while (*e && *e != ' ') e++;
        int n = (int)(e - w);
        if (width > 0 && !fresh && col + 1 + n > width) {
            fprintf(f, "\n%*s", ind, "");
            col = ind, fresh = 1;
        }
        if (!fresh) fputc(' ', f), col++;
        fwrite(w, 1, (size_t)n, f);
        col += n, fresh = 0;
        w = *e ? e + 1 : e;
    }
    fputc('\n', f);
}

void cli_arch_inits_print(FILE *f, const nninit_arch *arch, const nninit_layer_init_info *inits, const char *prefix,
                          int width) {
    char cur[1200], next[1200], line[1400];
    int start = -1, last = -1; /* the run: layers start..last, flatten layers between them included */
    int ind = (int)strlen(prefix) + 2;
    for (int i = 0; i <= arch->n_layers; i++) {
        int done = i == arch->n_layers;
        if (!done && inits[i].source == NNINIT_INIT_FROM_NONE) continue;
        if (!done) layer_init_text(next, sizeof next, &arch->layers[i], &inits[i]);
        if (start >= 0 && (done || strcmp(cur, next))) {
            if (last > start) snprintf(line, sizeof line, "%slayers %d-%d: %s", prefix, start + 1, last + 1, cur);
            else snprintf(line, sizeof line, "%slayer %d: %s", prefix, start + 1, cur);
            put_wrapped(f, line, width, ind);
            start = -1;
        }
        if (done) break;
        if (start < 0) {
            start = i;
            memcpy(cur, next, sizeof cur);
        }
        last = i;
    }
}

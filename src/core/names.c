/* names.c -- names and one-line formulas of schemes, modes, nonlinearities,
 * layouts and dtypes, and their parsers. */
#include <string.h>

#include "internal.h"

static const char *const scheme_names[NNINIT_SCHEME_COUNT] = {"zeros",
                                                              "ones",
                                                              "constant",
                                                              "uniform",
                                                              "normal",
                                                              "trunc_normal",
                                                              "trunc_normal_std",
                                                              "xavier_uniform",
                                                              "xavier_normal",
                                                              "kaiming_uniform",
                                                              "kaiming_normal",
                                                              "lecun_uniform",
                                                              "lecun_normal",
                                                              "variance_scaling",
                                                              "orthogonal",
                                                              "sparse",
                                                              "eye",
                                                              "dirac",
                                                              "delta_orthogonal"};

static const char *const scheme_formulas[NNINIT_SCHEME_COUNT] = {
    "w = 0",
    "w = 1",
    "w = value",
    "w ~ U(a, b)",
    "w ~ N(mean, std^2)",
    "w ~ N(mean, std^2) restricted to [a, b] (absolute bounds, PyTorch)",
    "w ~ N(mean, std^2) restricted to [mean + a*std, mean + b*std] (JAX)",
    "w ~ U(-g*sqrt(6/(fan_in+fan_out)), +g*sqrt(6/(fan_in+fan_out)))",
    "w ~ N(0, g^2 * 2/(fan_in+fan_out))",
    "w ~ U(-sqrt(3)*g/sqrt(fan), +sqrt(3)*g/sqrt(fan)), g = gain(nonlinearity, a)",
    "w ~ N(0, g^2/fan), g = gain(nonlinearity, a)",
    "w ~ U(-sqrt(3/fan_in), +sqrt(3/fan_in))",
    "w ~ N(0, 1/fan_in)",
    ("var = scale/fan; uniform U(+-sqrt(3 var)) | normal N(0, var) | "
     "truncated N(0, var/0.8796^2) on +-2 std"),
    "w = g * Q, Q from the QR of a Gaussian (rows, numel/rows) matrix, sign(diag R) fixed",
    "w ~ N(0, std^2), then ceil(sparsity*rows) zeros in each column",
    "w[i][j] = (i == j)",
    "w[g*out/groups + d][d][center...] = 1 for d < min(out/groups, in)",
    ("w[center...][o][i] = g * Q[o][i], Q = orthogonal's (out, in) matrix (Q^T Q = I), 0 at other taps; "
     "center (k-1)//2, g = gain, not the fans (JAX)")};

const char *nninit_scheme_name(nninit_scheme s) {
    return (unsigned)s < NNINIT_SCHEME_COUNT ? scheme_names[s] : "unknown";
}

const char *nninit_scheme_formula(nninit_scheme s) {
    return (unsigned)s < NNINIT_SCHEME_COUNT ? scheme_formulas[s] : "";
}

static const char *const nl_names[NNINIT_NL_COUNT] = {
    "linear",           "conv1d",  "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "sigmoid", "tanh",   "relu",   "leaky_relu",       "selu"};

const char *nninit_nonlinearity_name(nninit_nonlinearity nl) {
    return (unsigned)nl < NNINIT_NL_COUNT ? nl_names[nl] : "unknown";
}

static const char *const mode_names[] = {"fan_in", "fan_out", "fan_avg", "fan_geo_avg"};
const char *nninit_mode_name(nninit_mode m) { return (unsigned)m < 4 ? mode_names[m] : "unknown"; }

static const char *const dist_names[] = {"uniform", "normal", "truncated_normal"};
const char *nninit_distribution_name(nninit_distribution d) { return (unsigned)d < 3 ? dist_names[d] : "unknown"; }

static const char *const layout_names[] = {"oihw", "hwio", "iohw", "embedding", "custom"};
const char *nninit_layout_name(nninit_layout l) { return (unsigned)l < 5 ? layout_names[l] : "unknown"; }

static const char *const dtype_names[] = {"f32", "f64", "bf16", "f16"};
const char *nninit_dtype_name(nninit_dtype d) { return (unsigned)d < 4 ? dtype_names[d] : "unknown"; }

static int find(const char *name, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

#define NNINIT_PARSE_CHECK(name, out, what)                                                                            \
    do {                                                                                                               \
        if (!(name) || !(out)) return nninit__err(NNINIT_ERR_NULL, what ": NULL argument");                            \
    } while (0)

nninit_status nninit_scheme_parse(const char *name, nninit_scheme *out) {
    static const struct {
        const char *alias;
        nninit_scheme s;
    } aliases[] = {{"he_uniform", NNINIT_KAIMING_UNIFORM},        {"he_normal", NNINIT_KAIMING_NORMAL},
                   {"glorot_uniform", NNINIT_XAVIER_UNIFORM},     {"glorot_normal", NNINIT_XAVIER_NORMAL},
                   {"truncated_normal", NNINIT_TRUNC_NORMAL_STD}, {"identity", NNINIT_EYE}};
    NNINIT_PARSE_CHECK(name, out, "scheme");
    int i = find(name, scheme_names, NNINIT_SCHEME_COUNT);
    if (i >= 0) {
        *out = (nninit_scheme)i;
        return NNINIT_OK;
    }
    for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++)
        if (strcmp(name, aliases[k].alias) == 0) {
            *out = aliases[k].s;
            return NNINIT_OK;
        }
    return nninit__err(NNINIT_ERR_UNKNOWN_NAME, "unknown scheme '%s' (see 'nninit schemes')", name);
}

nninit_status nninit_nonlinearity_parse(const char *name, nninit_nonlinearity *out) {
    NNINIT_PARSE_CHECK(name, out, "nonlinearity");
    int i = find(name, nl_names, NNINIT_NL_COUNT);
    if (i < 0) return nninit__err(NNINIT_ERR_NONLINEARITY, "unsupported nonlinearity '%s'", name);
    *out = (nninit_nonlinearity)i;
    return NNINIT_OK;
}

nninit_status nninit_mode_parse(const char *name, nninit_mode *out) {
    NNINIT_PARSE_CHECK(name, out, "mode");
    int i = find(name, mode_names, 4);
    if (i < 0)
        return nninit__err(NNINIT_ERR_UNKNOWN_NAME, "unknown mode '%s' (fan_in, fan_out, fan_avg, fan_geo_avg)", name);
    *out = (nninit_mode)i;
    return NNINIT_OK;
}

nninit_status nninit_distribution_parse(const char *name, nninit_distribution *out) {
    NNINIT_PARSE_CHECK(name, out, "distribution");
    int i = find(name, dist_names, 3);
    if (i < 0 && strcmp(name, "untruncated_normal") == 0) i = NNINIT_DIST_NORMAL;
    if (i < 0)
        return nninit__err(NNINIT_ERR_UNKNOWN_NAME, "unknown distribution '%s' (uniform, normal, truncated_normal)",
                           name);
    *out = (nninit_distribution)i;
    return NNINIT_OK;
}

nninit_status nninit_layout_parse(const char *name, nninit_layout *out) {
    NNINIT_PARSE_CHECK(name, out, "layout");
    int i = find(name, layout_names, 5);
    if (i < 0) return nninit__err(NNINIT_ERR_LAYOUT, "unknown layout '%s' (oihw, hwio, iohw, embedding)", name);
    *out = (nninit_layout)i;
    return NNINIT_OK;
}

nninit_status nninit_dtype_parse(const char *name, nninit_dtype *out) {
    NNINIT_PARSE_CHECK(name, out, "dtype");
    int i = find(name, dtype_names, 4);
    if (i < 0) {
        if (strcmp(name, "float32") == 0) i = NNINIT_F32;
        else if (strcmp(name, "float64") == 0) i = NNINIT_F64;
        else if (strcmp(name, "bfloat16") == 0) i = NNINIT_BF16;
        else if (strcmp(name, "float16") == 0) i = NNINIT_F16;
    }
    if (i < 0) return nninit__err(NNINIT_ERR_DTYPE, "unknown dtype '%s' (f32, f64, bf16, f16)", name);
    *out = (nninit_dtype)i;
    return NNINIT_OK;
}

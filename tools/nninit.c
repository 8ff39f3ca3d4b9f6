/*
 * nninit.c -- the command-line tool. Links the library like any user would:
 * only <nninit.h>, never the internals.
 *
 *   nninit schemes [--json]
 *   nninit explain SCHEME --shape 64,3,7,7 [options] [--json]
 *   nninit fill SCHEME --shape ... --seed N -o out.npy [options] [--stats] [--json]
 *   nninit probe | train | lab ...   (cmd_probe.c, cmd_train.c, cmd_lab.c)
 *
 * Exit status: 0 success; 1 failure that is not the caller's input (out of
 * memory, LAPACK, I/O); 2 bad usage or bad input. The tool prints; the library
 * never does.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nninit.h"
#include "common.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* ------------------------------------------------------------------------- */
/* Messages                                                                  */
/* ------------------------------------------------------------------------- */

NNINIT_PRINTF(2, 3)
static int fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("nninit: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* A library failure: resource and I/O failures are 1, everything else is an
 * argument error and therefore the caller's input, 2. */
static int lib_fail(const char *cmd, nninit_status s)
{
    const char *msg = nninit_last_error();
    int code = (s == NNINIT_ERR_NOMEM || s == NNINIT_ERR_LAPACK || s == NNINIT_ERR_IO) ? EXIT_FAIL
                                                                                       : EXIT_USAGE;
    return fail(code, "%s: %s (%s)", cmd, msg && *msg ? msg : "failed", nninit_status_str(s));
}

/* ------------------------------------------------------------------------- */
/* Help                                                                      */
/* ------------------------------------------------------------------------- */

static const char HELP_MAIN[] =
    "usage: nninit COMMAND [ARGS]\n"
    "\n"
    "Neural-network weight initialization, exact and reproducible.\n"
    "\n"
    "commands:\n"
    "  schemes   list every scheme with its formula\n"
    "  explain   resolve a scheme on a shape: fans, gain, std, bound, support,\n"
    "            and the equivalent PyTorch, Keras and JAX calls\n"
    "  fill      fill a tensor and write it as a .npy file\n"
    "  probe     run a network at init: vanishing, exploding, saturation, dead\n"
    "            and symmetric units, next to mean-field theory\n"
    "  train     train a network on Fashion-MNIST (SGD, momentum, Adam, cosine)\n"
    "  lab       reproduce published claims about initialization; HTML report\n"
    "\n"
    "  nninit COMMAND --help   help for one command\n"
    "  nninit --version        library version\n"
    "\n"
    "exit status: 0 success, 1 failure (memory, LAPACK, I/O), 2 bad usage or input\n";

static const char HELP_SCHEMES[] =
    "usage: nninit schemes [--json]\n"
    "\n"
    "List every scheme with its one-line formula.\n"
    "  --json   print one JSON array of {\"name\", \"formula\", \"elementwise\"}\n";

#define HELP_TENSOR_OPTIONS                                                               \
    "tensor:\n"                                                                           \
    "  --shape D0,D1,...     dimensions, 1 to 8 positive integers (required)\n"         \
    "  --dtype f32|f64|bf16|f16           element type (default f32)\n"                 \
    "  --layout oihw|hwio|iohw|embedding  which axes are in/out (default oihw:\n"       \
    "                        PyTorch Linear/Conv weight (out, in/groups, k...))\n"      \
    "  --in-axis I --out-axis O           custom layout (axes may be negative)\n"       \
    "  --groups G            convolution groups (fans; dirac's groups)\n"                \
    "  --grouped-fan-out     divide fan_out by groups (oihw, hwio)\n"                    \
    "\n"                                                                                  \
    "scheme parameters (an option the scheme does not read is an error):\n"             \
    "  --a X                 kaiming_*: negative slope (PyTorch's a);\n"                \
    "                        uniform: lower bound; trunc_normal: lower bound\n"          \
    "                        (absolute), trunc_normal_std: lower bound in stds\n"       \
    "  --b X                 upper bound (uniform, trunc_normal, trunc_normal_std)\n"    \
    "  --slope X             kaiming_*: same as --a\n"                                   \
    "  --mean X  --std X     normal, trunc_normal*; sparse: --std\n"                     \
    "  --gain X              xavier_*, orthogonal\n"                                     \
    "  --value X             constant\n"                                                 \
    "  --nonlinearity NAME   kaiming_*: linear, conv1d..conv3d, conv_transpose1d..3d,\n" \
    "                        sigmoid, tanh, relu, leaky_relu, selu\n"                    \
    "  --mode fan_in|fan_out|fan_avg|fan_geo_avg   kaiming_*, variance_scaling\n"        \
    "  --scale X             variance_scaling\n"                                         \
    "  --distribution uniform|normal|truncated_normal   variance_scaling\n"             \
    "  --sparsity X          sparse: fraction of zeros per column, in [0, 1]\n"

static const char HELP_EXPLAIN[] =
    "usage: nninit explain SCHEME --shape D0,D1,... [options] [--json]\n"
    "\n"
    "Resolve SCHEME on a tensor without drawing anything: fan_in, fan_out, the fan\n"
    "used, gain, std, bound, mean, variance, support, and the equivalent calls of\n"
    "PyTorch, Keras and JAX for the same layer, each on its own weight layout\n"
    "(\"none\" where the framework has no equivalent).\n"
    "\n" HELP_TENSOR_OPTIONS
    "\n"
    "output:\n"
    "  --json                one JSON object; null for what does not apply\n";

static const char HELP_FILL[] =
    "usage: nninit fill SCHEME --shape D0,D1,... --seed N -o OUT.npy [options]\n"
    "\n"
    "Fill a tensor and write it atomically as a NumPy .npy file (bf16 as '<u2' bit\n"
    "patterns). The values are a pure function of (seed, key, element index).\n"
    "\n"
    "random stream:\n"
    "  --seed N              unsigned 64-bit seed (required)\n"
    "  --key NAME            tensor key name, hashed with FNV-1a 64 (default \"tensor\")\n"
    "  --key-id N            numeric tensor id instead of a name\n"
    "\n" HELP_TENSOR_OPTIONS
    "\n"
    "output:\n"
    "  -o, --output PATH     the .npy file to write (required); never left partial\n"
    "  --stats               print mean, std (population), min and max of the values\n"
    "                        as stored\n"
    "  --json                one JSON object: path, scheme, shape, dtype, seed, key,\n"
    "                        key_id, numel (and mean, std, min, max with --stats)\n";

/* ------------------------------------------------------------------------- */
/* Number formatting                                                         */
/* ------------------------------------------------------------------------- */

/* Fewest significant digits (%.*e precision + 1) that read back as x. */
static int shortest_digits(double x)
{
    char tmp[64];
    for (int p = 1; p < 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
        if (strtod(tmp, NULL) == x)
            return p;
    }
    return 17;
}


/* A Python float literal, as repr(float) writes it: shortest round-trip
 * digits, fixed notation for exponents in [-4, 16), always a '.' or 'e'. */
static const char *fmt_py(char *buf, size_t cap, double x)
{
    if (isnan(x)) {
        snprintf(buf, cap, "float('nan')");
        return buf;
    }
    if (isinf(x)) {
        snprintf(buf, cap, x < 0 ? "float('-inf')" : "float('inf')");
        return buf;
    }
    char tmp[64], dig[32];
    int p = shortest_digits(x);
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
    const char *s = tmp;
    int neg = (*s == '-');
    if (neg)
        s++;
    int nd = 0;
    for (; *s && *s != 'e'; s++)
        if (isdigit((unsigned char)*s))
            dig[nd++] = *s;
    dig[nd] = '\0';
    int exp = (*s == 'e') ? atoi(s + 1) : 0;

    char out[96];
    size_t n = 0;
    if (neg)
        out[n++] = '-';
    if (exp >= -4 && exp < 16) {
        if (exp >= 0) {
            for (int i = 0; i <= exp; i++)
                out[n++] = i < nd ? dig[i] : '0';
            out[n++] = '.';
            if (nd > exp + 1)
                for (int i = exp + 1; i < nd; i++)
                    out[n++] = dig[i];
            else
                out[n++] = '0';
        } else {
            out[n++] = '0';
            out[n++] = '.';
            for (int i = 0; i < -exp - 1; i++)
                out[n++] = '0';
            for (int i = 0; i < nd; i++)
                out[n++] = dig[i];
        }
        out[n] = '\0';
    } else {
        out[n++] = dig[0];
        if (nd > 1) {
            out[n++] = '.';
            for (int i = 1; i < nd; i++)
                out[n++] = dig[i];
        }
        snprintf(out + n, sizeof out - n, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    }
    snprintf(buf, cap, "%s", out);
    return buf;
}

/* Human output: the Python literal without a trailing ".0" (147, 0.5, 1e-07). */
static const char *fmt_num(char *buf, size_t cap, double x)
{
    if (isnan(x)) {
        snprintf(buf, cap, "n/a");
        return buf;
    }
    if (isinf(x)) {
        snprintf(buf, cap, x < 0 ? "-inf" : "inf");
        return buf;
    }
    fmt_py(buf, cap, x);
    size_t n = strlen(buf);
    if (n > 2 && !strcmp(buf + n - 2, ".0"))
        buf[n - 2] = '\0';
    return buf;
}

/* A derived constant such as sqrt(2)^2 = 2.0000000000000004: if a short
 * decimal (12 digits) is within a few ulps, use it, so the printed call reads
 * scale=2.0; otherwise keep every digit. */
static double tidy(double x)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.12g", x);
    double y = strtod(tmp, NULL);
    return fabs(y - x) <= 4 * DBL_EPSILON * fabs(x) ? y : x;
}

static int close_rel(double a, double b)
{
    return fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b));
}

/* ------------------------------------------------------------------------- */
/* JSON                                                                      */
/* ------------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* Non-finite values are not JSON: they are written as null. */
static void json_num(FILE *f, double x)
{
    if (isfinite(x))
        fprintf(f, "%.17g", x);
    else
        fputs("null", f);
}

/* An optional string: "" means "no equivalent" and is written as null. */
static void json_opt_str(FILE *f, const char *s)
{
    json_str(f, s && *s ? s : NULL);
}

static void json_shape(FILE *f, int ndim, const int64_t *shape)
{
    fputc('[', f);
    for (int i = 0; i < ndim; i++)
        fprintf(f, i ? ", %lld" : "%lld", (long long)shape[i]);
    fputc(']', f);
}

/* ------------------------------------------------------------------------- */
/* Argument parsing                                                          */
/* ------------------------------------------------------------------------- */

static int parse_double(const char *opt, const char *s, double *out)
{
    if (!*s || isspace((unsigned char)*s))
        return fail(EXIT_USAGE, "%s: '%s' is not a number", opt, s);
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end)
        return fail(EXIT_USAGE, "%s: '%s' is not a number", opt, s);
    if (errno == ERANGE && isinf(v))
        return fail(EXIT_USAGE, "%s: '%s' is out of range", opt, s);
    *out = v;
    return 0;
}

static int parse_i64(const char *opt, const char *s, int64_t *out)
{
    const char *d = (*s == '-' || *s == '+') ? s + 1 : s;
    if (!isdigit((unsigned char)*d))
        return fail(EXIT_USAGE, "%s: '%s' is not an integer", opt, s);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end)
        return fail(EXIT_USAGE, "%s: '%s' is not an integer", opt, s);
    if (errno == ERANGE)
        return fail(EXIT_USAGE, "%s: '%s' is out of range", opt, s);
    *out = (int64_t)v;
    return 0;
}

/* strtoull accepts "-1" and wraps it: only plain digits are allowed. */
static int parse_u64(const char *opt, const char *s, uint64_t *out)
{
    if (cli_parse_u64(s, out) == 0) return 0;
    if (isdigit((unsigned char)*s) && strspn(s, "0123456789") == strlen(s))
        return fail(EXIT_USAGE, "%s: '%s' is out of range (max 18446744073709551615)", opt, s);
    return fail(EXIT_USAGE, "%s: '%s' is not an unsigned integer", opt, s);
}

/* "64,3,7,7": 1..8 positive decimal integers, no empty items, no spaces. */
static int parse_shape(const char *s, int *ndim, int64_t *shape)
{
    int n = 0;
    const char *p = s;
    if (!*s)
        return fail(EXIT_USAGE, "--shape: empty shape");
    for (;;) {
        const char *q = p;
        while (*q && *q != ',')
            q++;
        if (q == p)
            return fail(EXIT_USAGE, "--shape '%s': empty dimension", s);
        if (n == NNINIT_MAX_DIMS)
            return fail(EXIT_USAGE, "--shape '%s': more than %d dimensions", s, NNINIT_MAX_DIMS);
        for (const char *r = p; r < q; r++)
            if (!isdigit((unsigned char)*r))
                return fail(EXIT_USAGE, "--shape '%s': '%.*s' is not a positive integer", s,
                            (int)(q - p), p);
        errno = 0;
        long long v = strtoll(p, NULL, 10);
        if (errno == ERANGE)
            return fail(EXIT_USAGE, "--shape '%s': '%.*s' is too large", s, (int)(q - p), p);
        if (v < 1)
            return fail(EXIT_USAGE, "--shape '%s': dimension %d is %lld, must be >= 1", s, n, v);
        shape[n++] = (int64_t)v;
        if (!*q)
            break;
        p = q + 1;
    }
    *ndim = n;
    return 0;
}

/* Scheme parameters, for "does this scheme read that option". */
enum {
    P_A = 1u << 0, P_B = 1u << 1, P_SLOPE = 1u << 2, P_MEAN = 1u << 3, P_STD = 1u << 4,
    P_GAIN = 1u << 5, P_VALUE = 1u << 6, P_SCALE = 1u << 7, P_SPARSITY = 1u << 8,
    P_NL = 1u << 9, P_MODE = 1u << 10, P_DIST = 1u << 11
};

static unsigned scheme_params(nninit_scheme s)
{
    switch (s) {
    case NNINIT_CONSTANT: return P_VALUE;
    case NNINIT_UNIFORM: return P_A | P_B;
    case NNINIT_NORMAL: return P_MEAN | P_STD;
    case NNINIT_TRUNC_NORMAL:
    case NNINIT_TRUNC_NORMAL_STD: return P_MEAN | P_STD | P_A | P_B;
    case NNINIT_XAVIER_UNIFORM:
    case NNINIT_XAVIER_NORMAL: return P_GAIN;
    case NNINIT_KAIMING_UNIFORM:
    case NNINIT_KAIMING_NORMAL: return P_A | P_SLOPE | P_MODE | P_NL;
    case NNINIT_VARIANCE_SCALING: return P_SCALE | P_MODE | P_DIST;
    case NNINIT_ORTHOGONAL: return P_GAIN;
    case NNINIT_SPARSE: return P_STD | P_SPARSITY;
    default: return 0; /* zeros, ones, lecun_*, eye, dirac */
    }
}

static int is_kaiming(nninit_scheme s)
{
    return s == NNINIT_KAIMING_UNIFORM || s == NNINIT_KAIMING_NORMAL;
}

enum { CMD_EXPLAIN = 1, CMD_FILL = 2, CMD_BOTH = 3 };

typedef enum {
    O_SHAPE, O_DTYPE, O_LAYOUT, O_IN_AXIS, O_OUT_AXIS, O_GROUPS, O_GROUPED_FAN_OUT,
    O_A, O_B, O_SLOPE, O_MEAN, O_STD, O_GAIN, O_VALUE, O_SCALE, O_SPARSITY,
    O_NONLINEARITY, O_MODE, O_DISTRIBUTION,
    O_JSON, O_SEED, O_KEY, O_KEY_ID, O_OUTPUT, O_STATS
} opt_id;

typedef struct {
    const char *name;
    opt_id id;
    int takes_value;
    int commands;
    unsigned param; /* P_* bit for scheme parameters, 0 otherwise */
} opt_def;

static const opt_def OPTIONS[] = {
    {"--shape", O_SHAPE, 1, CMD_BOTH, 0},
    {"--dtype", O_DTYPE, 1, CMD_BOTH, 0},
    {"--layout", O_LAYOUT, 1, CMD_BOTH, 0},
    {"--in-axis", O_IN_AXIS, 1, CMD_BOTH, 0},
    {"--out-axis", O_OUT_AXIS, 1, CMD_BOTH, 0},
    {"--groups", O_GROUPS, 1, CMD_BOTH, 0},
    {"--grouped-fan-out", O_GROUPED_FAN_OUT, 0, CMD_BOTH, 0},
    {"--a", O_A, 1, CMD_BOTH, P_A},
    {"--b", O_B, 1, CMD_BOTH, P_B},
    {"--slope", O_SLOPE, 1, CMD_BOTH, P_SLOPE},
    {"--mean", O_MEAN, 1, CMD_BOTH, P_MEAN},
    {"--std", O_STD, 1, CMD_BOTH, P_STD},
    {"--gain", O_GAIN, 1, CMD_BOTH, P_GAIN},
    {"--value", O_VALUE, 1, CMD_BOTH, P_VALUE},
    {"--scale", O_SCALE, 1, CMD_BOTH, P_SCALE},
    {"--sparsity", O_SPARSITY, 1, CMD_BOTH, P_SPARSITY},
    {"--nonlinearity", O_NONLINEARITY, 1, CMD_BOTH, P_NL},
    {"--mode", O_MODE, 1, CMD_BOTH, P_MODE},
    {"--distribution", O_DISTRIBUTION, 1, CMD_BOTH, P_DIST},
    {"--json", O_JSON, 0, CMD_BOTH, 0},
    {"--seed", O_SEED, 1, CMD_FILL, 0},
    {"--key", O_KEY, 1, CMD_FILL, 0},
    {"--key-id", O_KEY_ID, 1, CMD_FILL, 0},
    {"-o", O_OUTPUT, 1, CMD_FILL, 0},
    {"--output", O_OUTPUT, 1, CMD_FILL, 0},
    {"--stats", O_STATS, 0, CMD_FILL, 0},
};

typedef struct {
    const char *scheme_name;
    nninit_scheme scheme;
    int ndim;
    int64_t shape[NNINIT_MAX_DIMS];
    int have_shape;
    nninit_dtype dtype;
    nninit_layout layout;
    int have_layout, have_in_axis, have_out_axis;
    int64_t in_axis, out_axis;
    int64_t groups;
    int have_groups, grouped_fan_out;

    unsigned given;          /* P_* bits of the scheme options given */
    const char *given_name[12]; /* option spelling, per P_* bit, for messages */
    double a, b, slope, mean, std, gain, value, scale, sparsity;
    nninit_nonlinearity nl;
    nninit_mode mode;
    nninit_distribution dist;

    int json, stats;
    int have_seed, have_key_id;
    uint64_t seed, key_id;
    const char *key_name;
    const char *out_path;
} cli_args;

static int bit_index(unsigned bit)
{
    int i = 0;
    while (!(bit & 1u)) {
        bit >>= 1;
        i++;
    }
    return i;
}

static int parse_enum_option(const char *opt, const char *value, nninit_status s, const char *what)
{
    if (s == NNINIT_OK)
        return 0;
    return fail(EXIT_USAGE, "%s: unknown %s '%s'", opt, what, value);
}

/* Stores one option. Returns 0 or an exit status. */
static int set_option(cli_args *a, const opt_def *d, const char *v)
{
    int r = 0;
    double x = 0;
    switch (d->id) {
    case O_SHAPE:
        r = parse_shape(v, &a->ndim, a->shape);
        a->have_shape = (r == 0);
        return r;
    case O_DTYPE:
        return parse_enum_option(d->name, v, nninit_dtype_parse(v, &a->dtype), "dtype");
    case O_LAYOUT:
        a->have_layout = 1;
        return parse_enum_option(d->name, v, nninit_layout_parse(v, &a->layout), "layout");
    case O_IN_AXIS:
        a->have_in_axis = 1;
        return parse_i64(d->name, v, &a->in_axis);
    case O_OUT_AXIS:
        a->have_out_axis = 1;
        return parse_i64(d->name, v, &a->out_axis);
    case O_GROUPS:
        a->have_groups = 1;
        r = parse_i64(d->name, v, &a->groups);
        if (r == 0 && a->groups < 1)
            return fail(EXIT_USAGE, "--groups: %lld must be >= 1", (long long)a->groups);
        return r;
    case O_GROUPED_FAN_OUT: a->grouped_fan_out = 1; return 0;
    case O_NONLINEARITY:
        r = parse_enum_option(d->name, v, nninit_nonlinearity_parse(v, &a->nl), "nonlinearity");
        break;
    case O_MODE:
        r = parse_enum_option(d->name, v, nninit_mode_parse(v, &a->mode), "mode");
        break;
    case O_DISTRIBUTION:
        r = parse_enum_option(d->name, v, nninit_distribution_parse(v, &a->dist), "distribution");
        break;
    case O_A: case O_B: case O_SLOPE: case O_MEAN: case O_STD: case O_GAIN: case O_VALUE:
    case O_SCALE: case O_SPARSITY:
        r = parse_double(d->name, v, &x);
        if (r)
            return r;
        /* No scheme parameter has a meaning for NaN (the library reads a NaN
         * kaiming slope as an error, not as PyTorch's None). */
        if (isnan(x))
            return fail(EXIT_USAGE, "%s: NaN is not allowed", d->name);
        switch (d->id) {
        case O_A: a->a = x; break;
        case O_B: a->b = x; break;
        case O_SLOPE: a->slope = x; break;
        case O_MEAN: a->mean = x; break;
        case O_STD: a->std = x; break;
        case O_GAIN: a->gain = x; break;
        case O_VALUE: a->value = x; break;
        case O_SCALE: a->scale = x; break;
        default: a->sparsity = x; break;
        }
        break;
    case O_JSON: a->json = 1; return 0;
    case O_STATS: a->stats = 1; return 0;
    case O_SEED:
        a->have_seed = 1;
        return parse_u64(d->name, v, &a->seed);
    case O_KEY: a->key_name = v; return 0;
    case O_KEY_ID:
        a->have_key_id = 1;
        return parse_u64(d->name, v, &a->key_id);
    case O_OUTPUT:
        if (!*v)
            return fail(EXIT_USAGE, "%s: empty path", d->name);
        a->out_path = v;
        return 0;
    }
    if (r == 0 && d->param) {
        a->given |= d->param;
        a->given_name[bit_index(d->param)] = d->name;
    }
    return r;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            return 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    }
    return 0;
}

/* Parses "SCHEME [options]" of explain and fill, then checks the options
 * against each other and against the scheme. Returns 0 or an exit status. */
static int parse_args(const char *cmd, int command, int argc, char **argv, cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->dtype = NNINIT_F32;
    a->layout = NNINIT_LAYOUT_OIHW;
    a->groups = 1;
    int only_positional = 0;

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || !strcmp(arg, "-")) {
            if (a->scheme_name)
                return fail(EXIT_USAGE, "%s: unexpected argument '%s' (the scheme is '%s')", cmd,
                            arg, a->scheme_name);
            a->scheme_name = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_positional = 1;
            continue;
        }
        const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        const opt_def *d = NULL;
        for (size_t k = 0; k < sizeof OPTIONS / sizeof OPTIONS[0]; k++)
            if (strlen(OPTIONS[k].name) == len && !strncmp(OPTIONS[k].name, arg, len) &&
                (OPTIONS[k].commands & command)) {
                d = &OPTIONS[k];
                break;
            }
        if (!d)
            return fail(EXIT_USAGE, "%s: unknown option '%.*s' (try 'nninit %s --help')", cmd,
                        (int)len, arg, cmd);
        const char *value = NULL;
        if (d->takes_value) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return fail(EXIT_USAGE, "%s: option %s needs a value", cmd, d->name);
        } else if (eq) {
            return fail(EXIT_USAGE, "%s: option %s takes no value", cmd, d->name);
        }
        int r = set_option(a, d, value);
        if (r)
            return r;
    }

    if (!a->scheme_name)
        return fail(EXIT_USAGE, "%s: missing SCHEME (see 'nninit schemes')", cmd);
    if (nninit_scheme_parse(a->scheme_name, &a->scheme) != NNINIT_OK)
        return fail(EXIT_USAGE, "%s: unknown scheme '%s' (see 'nninit schemes')", cmd,
                    a->scheme_name);
    if (!a->have_shape)
        return fail(EXIT_USAGE, "%s: missing --shape", cmd);

    /* Options the scheme would silently ignore are mistakes. */
    unsigned stray = a->given & ~scheme_params(a->scheme);
    if (stray)
        return fail(EXIT_USAGE, "%s: option %s does not apply to scheme %s", cmd,
                    a->given_name[bit_index(stray)], nninit_scheme_name(a->scheme));
    if ((a->given & P_A) && (a->given & P_SLOPE))
        return fail(EXIT_USAGE, "%s: give --a or --slope, not both", cmd);

    if (a->have_in_axis != a->have_out_axis)
        return fail(EXIT_USAGE, "%s: --in-axis and --out-axis go together", cmd);
    if (a->have_in_axis) {
        if (a->have_layout && a->layout != NNINIT_LAYOUT_CUSTOM)
            return fail(EXIT_USAGE, "%s: --in-axis/--out-axis set a custom layout; drop --layout",
                        cmd);
        a->layout = NNINIT_LAYOUT_CUSTOM;
        if (a->in_axis < 0)
            a->in_axis += a->ndim;
        if (a->out_axis < 0)
            a->out_axis += a->ndim;
        if (a->in_axis < 0 || a->in_axis >= a->ndim || a->out_axis < 0 || a->out_axis >= a->ndim)
            return fail(EXIT_USAGE, "%s: --in-axis/--out-axis outside the %d dimensions", cmd,
                        a->ndim);
    } else if (a->layout == NNINIT_LAYOUT_CUSTOM) {
        return fail(EXIT_USAGE, "%s: a custom layout needs --in-axis and --out-axis", cmd);
    }

    if (command == CMD_FILL) {
        if (!a->have_seed)
            return fail(EXIT_USAGE, "%s: missing --seed", cmd);
        if (a->key_name && a->have_key_id)
            return fail(EXIT_USAGE, "%s: give --key or --key-id, not both", cmd);
        if (!a->out_path)
            return fail(EXIT_USAGE, "%s: missing -o OUT.npy", cmd);
    }
    return 0;
}

static nninit_spec make_spec(const cli_args *a)
{
    nninit_spec s = nninit_spec_default(a->scheme);
    if (a->given & P_A) {
        if (is_kaiming(a->scheme))
            s.slope = a->a; /* PyTorch's kaiming_*_(w, a=...) */
        else
            s.a = a->a;
    }
    if (a->given & P_B) s.b = a->b;
    if (a->given & P_SLOPE) s.slope = a->slope;
    if (a->given & P_MEAN) s.mean = a->mean;
    if (a->given & P_STD) s.std = a->std;
    if (a->given & P_GAIN) s.gain = a->gain;
    if (a->given & P_VALUE) s.value = a->value;
    if (a->given & P_SCALE) s.scale = a->scale;
    if (a->given & P_SPARSITY) s.sparsity = a->sparsity;
    if (a->given & P_NL) s.nonlinearity = a->nl;
    if (a->given & P_MODE) s.mode = a->mode;
    if (a->given & P_DIST) s.distribution = a->dist;
    if (a->have_groups)
        s.groups = a->groups;
    return s;
}

/* --groups changes only the fans (xavier, kaiming, lecun, variance_scaling)
 * and dirac; given to any other scheme it would be silently ignored. */
static int check_groups(const char *cmd, const cli_args *a, const nninit_spec *s)
{
    if (!a->have_groups || a->groups <= 1)
        return 0;
    switch (s->scheme) {
    case NNINIT_XAVIER_UNIFORM: case NNINIT_XAVIER_NORMAL: case NNINIT_KAIMING_UNIFORM:
    case NNINIT_KAIMING_NORMAL: case NNINIT_LECUN_UNIFORM: case NNINIT_LECUN_NORMAL:
    case NNINIT_VARIANCE_SCALING: case NNINIT_DIRAC:
        return 0;
    default:
        return fail(EXIT_USAGE, "%s: --groups %lld: %s does not use groups (the fan-based schemes and dirac do)", cmd,
                    (long long)a->groups, nninit_scheme_name(s->scheme));
    }
}

static nninit_tensor make_tensor(const cli_args *a)
{
    nninit_tensor t = nninit_tensor_make(a->ndim, a->shape, a->dtype);
    t.layout = a->layout;
    if (a->layout == NNINIT_LAYOUT_CUSTOM) {
        t.in_axis = (int)a->in_axis;
        t.out_axis = (int)a->out_axis;
    }
    t.groups = a->groups;
    t.flags = a->grouped_fan_out ? NNINIT_LAYOUT_GROUPED_FAN_OUT : 0u;
    return t;
}

/* ------------------------------------------------------------------------- */
/* Equivalent calls in PyTorch, Keras and JAX                                */
/* ------------------------------------------------------------------------- */
/*
 * Each framework is asked for the same layer, holding the weight in its own
 * layout: PyTorch (out, in/g, k...) for Linear/Conv, the tensor itself for
 * ConvTranspose (IOHW) and Embedding; Keras and JAX (k..., in/g, out). For the
 * fan-based schemes the framework's own fans of that weight must give the fan
 * nninit used under one of the framework's modes; otherwise the call falls
 * back to the explicit distribution with this tensor's numbers (normal_(w,
 * std=...)), and to "none" where even that cannot be said.
 */
enum { FW_TORCH, FW_KERAS, FW_JAX };

typedef struct {
    int ok;
    double fan_in, fan_out;
    char extra[64]; /* extra arguments (JAX in_axis/out_axis) */
} fw_fans;

/* Product of the dims other than axes i and o. */
static double receptive_field(const nninit_tensor *t, int i, int o)
{
    double rf = 1;
    for (int k = 0; k < t->ndim; k++)
        if (k != i && k != o)
            rf *= (double)t->shape[k];
    return rf;
}

static fw_fans framework_fans(int fw, const nninit_tensor *t)
{
    fw_fans f = {0, 0, 0, ""};
    int n = t->ndim;
    if (n < 2)
        return f;
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
        if (fw != FW_TORCH && groups > 1)
            return f;
        f.fan_in = (double)(fw == FW_JAX ? s[0] : s[1]) * rf;
        f.fan_out = (double)(fw == FW_JAX ? s[1] : s[0]) * rf;
        f.ok = 1;
        break;
    }
    case NNINIT_LAYOUT_EMBEDDING:
        /* The (num, dim) table as each framework computes it. */
        if (n != 2)
            return f;
        f.fan_in = (double)(fw == FW_TORCH ? s[1] : s[0]);
        f.fan_out = (double)(fw == FW_TORCH ? s[0] : s[1]);
        f.ok = 1;
        break;
    case NNINIT_LAYOUT_CUSTOM:
        /* Only JAX can name arbitrary axes. */
        if (fw != FW_JAX || t->in_axis == t->out_axis)
            return f;
        f.fan_in = (double)s[t->in_axis] * receptive_field(t, t->in_axis, t->out_axis);
        f.fan_out = (double)s[t->out_axis] * receptive_field(t, t->in_axis, t->out_axis);
        snprintf(f.extra, sizeof f.extra, ", in_axis=%d, out_axis=%d", t->in_axis, t->out_axis);
        f.ok = 1;
        break;
    }
    return f;
}

static double mode_fan(int m, double fi, double fo)
{
    switch (m) {
    case NNINIT_FAN_IN: return fi;
    case NNINIT_FAN_OUT: return fo;
    case NNINIT_FAN_AVG: return (fi + fo) / 2;
    default: return sqrt(fi * fo);
    }
}

#define MODE_BIT(m) (1u << (m))

/* The framework mode (preferring nninit's own) that yields fan, or -1. */
static int match_mode(const fw_fans *f, unsigned allowed, int preferred, double fan)
{
    if (!f->ok || isnan(fan))
        return -1;
    if ((allowed & MODE_BIT(preferred)) && close_rel(mode_fan(preferred, f->fan_in, f->fan_out), fan))
        return preferred;
    for (int m = NNINIT_FAN_IN; m <= NNINIT_FAN_GEO_AVG; m++)
        if ((allowed & MODE_BIT(m)) && close_rel(mode_fan(m, f->fan_in, f->fan_out), fan))
            return m;
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

static vs_form variance_scaling_form(const nninit_spec *sp, const nninit_info *info)
{
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
    default:
        v.ok = 0;
    }
    return v;
}

/* A PyTorch nonlinearity whose gain^2 is scale, for kaiming_*_(w, ...). */
static const char *torch_nl_for_scale(double scale)
{
    static const nninit_nonlinearity cands[] = {NNINIT_NL_LINEAR, NNINIT_NL_RELU, NNINIT_NL_TANH,
                                                NNINIT_NL_SELU};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        double g;
        if (nninit_calculate_gain(cands[i], 0.0, &g) == NNINIT_OK && close_rel(g * g, scale))
            return nninit_nonlinearity_name(cands[i]);
    }
    return NULL;
}

/* The explicit distribution of this tensor, or "" where fw cannot say it. */
static void explicit_call(int fw, const nninit_spec *sp, const nninit_info *in, char *buf,
                          size_t cap)
{
    char p1[64], p2[64], p3[64], p4[64];
    buf[0] = '\0';
    switch (in->kind) {
    case NNINIT_RESOLVED_CONSTANT:
        fmt_py(p1, sizeof p1, in->lo);
        if (fw == FW_TORCH)
            snprintf(buf, cap, "torch.nn.init.constant_(w, %s)", p1);
        else if (fw == FW_KERAS)
            snprintf(buf, cap, "keras.initializers.Constant(value=%s)", p1);
        else
            snprintf(buf, cap, "jax.nn.initializers.constant(%s)", p1);
        break;
    case NNINIT_RESOLVED_UNIFORM:
        fmt_py(p1, sizeof p1, in->lo);
        fmt_py(p2, sizeof p2, in->hi);
        if (fw == FW_TORCH)
            snprintf(buf, cap, "torch.nn.init.uniform_(w, a=%s, b=%s)", p1, p2);
        else if (fw == FW_KERAS)
            snprintf(buf, cap, "keras.initializers.RandomUniform(minval=%s, maxval=%s)", p1, p2);
        else if (in->lo == 0) /* JAX's uniform is U[0, scale) */
            snprintf(buf, cap, "jax.nn.initializers.uniform(scale=%s)", p2);
        break;
    case NNINIT_RESOLVED_NORMAL:
        fmt_py(p1, sizeof p1, in->mean);
        fmt_py(p2, sizeof p2, in->std);
        if (fw == FW_TORCH)
            snprintf(buf, cap, "torch.nn.init.normal_(w, mean=%s, std=%s)", p1, p2);
        else if (fw == FW_KERAS)
            snprintf(buf, cap, "keras.initializers.RandomNormal(mean=%s, stddev=%s)", p1, p2);
        else if (in->mean == 0) /* JAX's normal has no mean */
            snprintf(buf, cap, "jax.nn.initializers.normal(stddev=%s)", p2);
        break;
    case NNINIT_RESOLVED_TRUNC_NORMAL: {
        /* info.mean is the mean of the truncated values; the calls want the
         * location of the normal before truncation (variance_scaling: 0). */
        double loc = (sp->scheme == NNINIT_TRUNC_NORMAL || sp->scheme == NNINIT_TRUNC_NORMAL_STD)
                         ? sp->mean
                         : 0.0;
        fmt_py(p1, sizeof p1, loc);
        fmt_py(p2, sizeof p2, in->std);
        fmt_py(p3, sizeof p3, in->lo);
        fmt_py(p4, sizeof p4, in->hi);
        if (fw == FW_TORCH) {
            snprintf(buf, cap, "torch.nn.init.trunc_normal_(w, mean=%s, std=%s, a=%s, b=%s)", p1, p2,
                     p3, p4);
            break;
        }
        if (!(in->std > 0))
            break;
        double lo = (in->lo - loc) / in->std, hi = (in->hi - loc) / in->std;
        if (fw == FW_KERAS) { /* Keras truncates at mean +- 2 stddev, always */
            if (close_rel(lo, -2) && close_rel(hi, 2))
                snprintf(buf, cap, "keras.initializers.TruncatedNormal(mean=%s, stddev=%s)", p1, p2);
        } else if (loc == 0) {
            snprintf(buf, cap, "jax.nn.initializers.truncated_normal(stddev=%s, lower=%s, upper=%s)",
                     p2, fmt_py(p3, sizeof p3, tidy(lo)), fmt_py(p4, sizeof p4, tidy(hi)));
        }
        break;
    }
    default:
        break;
    }
}

static void fan_based_call(int fw, const nninit_spec *sp, const nninit_tensor *t,
                           const nninit_info *in, char *buf, size_t cap)
{
    vs_form v = variance_scaling_form(sp, in);
    fw_fans f = framework_fans(fw, t);
    char sc[64], g[64], sl[64];
    fmt_py(sc, sizeof sc, v.scale);
    int m;
    buf[0] = '\0';
    if (fw == FW_TORCH) {
        const char *kind = v.dist == NNINIT_DIST_UNIFORM ? "uniform" : "normal";
        if (v.dist != NNINIT_DIST_TRUNCATED_NORMAL) {
            m = match_mode(&f, MODE_BIT(NNINIT_FAN_IN) | MODE_BIT(NNINIT_FAN_OUT), v.mode, in->fan);
            if (m >= 0 && is_kaiming(sp->scheme)) {
                fmt_num(sl, sizeof sl, sp->slope);
                snprintf(buf, cap, "torch.nn.init.kaiming_%s_(w, a=%s, mode='%s', nonlinearity='%s')",
                         kind, sl, MODE_NAMES[m], nninit_nonlinearity_name(sp->nonlinearity));
                return;
            }
            const char *nl = torch_nl_for_scale(v.scale);
            if (m >= 0 && nl) {
                snprintf(buf, cap, "torch.nn.init.kaiming_%s_(w, a=0, mode='%s', nonlinearity='%s')",
                         kind, MODE_NAMES[m], nl);
                return;
            }
            if (match_mode(&f, MODE_BIT(NNINIT_FAN_AVG), NNINIT_FAN_AVG, in->fan) >= 0) {
                snprintf(buf, cap, "torch.nn.init.xavier_%s_(w, gain=%s)", kind,
                         fmt_py(g, sizeof g, v.gain));
                return;
            }
        }
    } else if (fw == FW_KERAS) {
        m = match_mode(&f, MODE_BIT(NNINIT_FAN_IN) | MODE_BIT(NNINIT_FAN_OUT) | MODE_BIT(NNINIT_FAN_AVG),
                       v.mode, in->fan);
        if (m >= 0) {
            /* Keras' 'normal' is truncated: a plain normal is 'untruncated_normal'. */
            const char *d = v.dist == NNINIT_DIST_UNIFORM  ? "uniform"
                            : v.dist == NNINIT_DIST_NORMAL ? "untruncated_normal"
                                                           : "truncated_normal";
            snprintf(buf, cap,
                     "keras.initializers.VarianceScaling(scale=%s, mode='%s', distribution='%s')", sc,
                     MODE_NAMES[m], d);
            return;
        }
    } else {
        m = match_mode(&f, 0xfu, v.mode, in->fan);
        if (m >= 0) {
            const char *d = v.dist == NNINIT_DIST_UNIFORM  ? "uniform"
                            : v.dist == NNINIT_DIST_NORMAL ? "normal"
                                                           : "truncated_normal";
            snprintf(buf, cap, "jax.nn.initializers.variance_scaling(%s, '%s', '%s'%s)", sc,
                     MODE_NAMES[m], d, f.extra);
            return;
        }
    }
    explicit_call(fw, sp, in, buf, cap);
}

static void equivalent_call(int fw, const nninit_spec *sp, const nninit_tensor *t,
                            const nninit_info *in, char *buf, size_t cap)
{
    char p1[64], p2[64], p3[64];
    buf[0] = '\0';
    switch (sp->scheme) {
    case NNINIT_ZEROS:
        snprintf(buf, cap, "%s", fw == FW_TORCH   ? "torch.nn.init.zeros_(w)"
                                 : fw == FW_KERAS ? "keras.initializers.Zeros()"
                                                  : "jax.nn.initializers.zeros");
        break;
    case NNINIT_ONES:
        snprintf(buf, cap, "%s", fw == FW_TORCH   ? "torch.nn.init.ones_(w)"
                                 : fw == FW_KERAS ? "keras.initializers.Ones()"
                                                  : "jax.nn.initializers.ones");
        break;
    case NNINIT_TRUNC_NORMAL_STD:
        /* Bounds in units of std: JAX's own parametrization. */
        if (fw == FW_JAX) {
            if (sp->mean == 0 && sp->std > 0)
                snprintf(buf, cap,
                         "jax.nn.initializers.truncated_normal(stddev=%s, lower=%s, upper=%s)",
                         fmt_py(p1, sizeof p1, sp->std), fmt_py(p2, sizeof p2, sp->a),
                         fmt_py(p3, sizeof p3, sp->b));
            break;
        }
        explicit_call(fw, sp, in, buf, cap);
        break;
    case NNINIT_CONSTANT:
    case NNINIT_UNIFORM:
    case NNINIT_NORMAL:
    case NNINIT_TRUNC_NORMAL:
        explicit_call(fw, sp, in, buf, cap);
        break;
    case NNINIT_XAVIER_UNIFORM:
    case NNINIT_XAVIER_NORMAL:
    case NNINIT_KAIMING_UNIFORM:
    case NNINIT_KAIMING_NORMAL:
    case NNINIT_LECUN_UNIFORM:
    case NNINIT_LECUN_NORMAL:
    case NNINIT_VARIANCE_SCALING:
        fan_based_call(fw, sp, t, in, buf, cap);
        break;
    case NNINIT_ORTHOGONAL:
        /* PyTorch orthogonalizes (shape[0], rest). Keras and JAX take the last
         * axis as columns: on a 2-D tensor, or on the HWIO kernel of the same
         * OIHW layer, that is the same matrix up to transpose and a row
         * permutation, hence the same (Haar) distribution. */
        fmt_py(p1, sizeof p1, sp->gain);
        if (fw == FW_TORCH)
            snprintf(buf, cap, "torch.nn.init.orthogonal_(w, gain=%s)", p1);
        else if (t->ndim == 2 || t->layout == NNINIT_LAYOUT_OIHW)
            snprintf(buf, cap, fw == FW_KERAS ? "keras.initializers.Orthogonal(gain=%s)"
                                              : "jax.nn.initializers.orthogonal(scale=%s)",
                     p1);
        break;
    case NNINIT_SPARSE:
        if (fw == FW_TORCH)
            snprintf(buf, cap, "torch.nn.init.sparse_(w, sparsity=%s, std=%s)",
                     fmt_py(p1, sizeof p1, sp->sparsity), fmt_py(p2, sizeof p2, sp->std));
        break;
    case NNINIT_EYE:
        if (fw == FW_TORCH)
            snprintf(buf, cap, "torch.nn.init.eye_(w)");
        else if (fw == FW_KERAS)
            snprintf(buf, cap, "keras.initializers.Identity(gain=1.0)");
        break;
    case NNINIT_DIRAC:
        /* JAX's delta_orthogonal is a different (orthogonal) kernel. */
        if (fw == FW_TORCH)
            snprintf(buf, cap, "torch.nn.init.dirac_(w, groups=%lld)",
                     (long long)(sp->groups > 1 ? sp->groups : 1));
        break;
    default:
        break;
    }
}

static const char *resolved_name(nninit_resolved k)
{
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
/* Commands                                                                  */
/* ------------------------------------------------------------------------- */

static int cmd_schemes(int argc, char **argv)
{
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(HELP_SCHEMES, stdout);
            return EXIT_OK;
        }
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            return fail(EXIT_USAGE, "schemes: unknown argument '%s' (try 'nninit schemes --help')",
                        argv[i]);
    }
    if (json)
        fputc('[', stdout);
    for (int s = 0; s < NNINIT_SCHEME_COUNT; s++) {
        const char *name = nninit_scheme_name((nninit_scheme)s);
        const char *formula = nninit_scheme_formula((nninit_scheme)s);
        if (json) {
            fputs(s ? ",\n {\"name\": " : "{\"name\": ", stdout);
            json_str(stdout, name);
            fputs(", \"formula\": ", stdout);
            json_str(stdout, formula);
            printf(", \"elementwise\": %s}",
                   nninit_scheme_is_elementwise((nninit_scheme)s) ? "true" : "false");
        } else {
            printf("%-20s %s\n", name ? name : "?", formula ? formula : "");
        }
    }
    if (json)
        fputs("]\n", stdout);
    return EXIT_OK;
}

static void print_shape(FILE *f, int ndim, const int64_t *shape)
{
    for (int i = 0; i < ndim; i++)
        fprintf(f, i ? ",%lld" : "%lld", (long long)shape[i]);
}

static int cmd_explain(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(HELP_EXPLAIN, stdout);
        return EXIT_OK;
    }
    cli_args a;
    int r = parse_args("explain", CMD_EXPLAIN, argc, argv, &a);
    if (r)
        return r;
    nninit_spec spec = make_spec(&a);
    if ((r = check_groups("explain", &a, &spec)))
        return r;
    nninit_tensor t = make_tensor(&a);
    nninit_info info;
    nninit_status s = nninit_explain(&spec, &t, &info);
    if (s != NNINIT_OK)
        return lib_fail("explain", s);

    char torch[512], keras[512], jax[512];
    equivalent_call(FW_TORCH, &spec, &t, &info, torch, sizeof torch);
    equivalent_call(FW_KERAS, &spec, &t, &info, keras, sizeof keras);
    equivalent_call(FW_JAX, &spec, &t, &info, jax, sizeof jax);
    double nan = NAN;

    if (a.json) {
        FILE *o = stdout;
        fputs("{\"scheme\": ", o);
        json_str(o, nninit_scheme_name(a.scheme));
        fputs(", \"formula\": ", o);
        json_str(o, nninit_scheme_formula(a.scheme));
        fputs(", \"shape\": ", o);
        json_shape(o, a.ndim, a.shape);
        fputs(", \"layout\": ", o);
        json_str(o, nninit_layout_name(t.layout));
        fputs(", \"dtype\": ", o);
        json_str(o, nninit_dtype_name(t.dtype));
        fprintf(o, ", \"groups\": %lld", (long long)t.groups);
        fputs(", \"fan_in\": ", o);
        json_num(o, info.has_fans ? info.fan_in : nan);
        fputs(", \"fan_out\": ", o);
        json_num(o, info.has_fans ? info.fan_out : nan);
        fputs(", \"fan\": ", o);
        json_num(o, info.fan);
        fputs(", \"gain\": ", o);
        json_num(o, info.gain);
        fputs(", \"std\": ", o);
        json_num(o, info.std);
        fputs(", \"bound\": ", o);
        json_num(o, info.bound);
        fputs(", \"mean\": ", o);
        json_num(o, info.mean);
        fputs(", \"variance\": ", o);
        json_num(o, info.variance);
        fputs(", \"lo\": ", o);
        json_num(o, info.lo);
        fputs(", \"hi\": ", o);
        json_num(o, info.hi);
        fputs(", \"distribution\": ", o);
        json_str(o, resolved_name(info.kind));
        fputs(", \"torch\": ", o);
        json_opt_str(o, torch);
        fputs(", \"keras\": ", o);
        json_opt_str(o, keras);
        fputs(", \"jax\": ", o);
        json_opt_str(o, jax);
        fputs("}\n", o);
        return EXIT_OK;
    }

    char b1[64], b2[64];
    printf("scheme        %s\n", nninit_scheme_name(a.scheme));
    printf("formula       %s\n", nninit_scheme_formula(a.scheme));
    printf("tensor        ");
    print_shape(stdout, a.ndim, a.shape);
    printf("  %s %s", nninit_layout_name(t.layout), nninit_dtype_name(t.dtype));
    if (t.groups > 1)
        printf(" groups %lld", (long long)t.groups);
    if (t.flags & NNINIT_LAYOUT_GROUPED_FAN_OUT)
        printf(" grouped-fan-out");
    printf("\n");
    printf("fan_in        %s\n", fmt_num(b1, sizeof b1, info.has_fans ? info.fan_in : nan));
    printf("fan_out       %s\n", fmt_num(b1, sizeof b1, info.has_fans ? info.fan_out : nan));
    printf("fan           %s\n", fmt_num(b1, sizeof b1, info.fan));
    printf("gain          %s\n", fmt_num(b1, sizeof b1, info.gain));
    printf("distribution  %s\n", resolved_name(info.kind));
    printf("mean          %s\n", fmt_num(b1, sizeof b1, info.mean));
    printf("std           %s\n", fmt_num(b1, sizeof b1, info.std));
    printf("bound         %s\n", fmt_num(b1, sizeof b1, info.bound));
    printf("variance      %s\n", fmt_num(b1, sizeof b1, info.variance));
    printf("support       [%s, %s]\n", fmt_num(b1, sizeof b1, info.lo),
           fmt_num(b2, sizeof b2, info.hi));
    printf("pytorch       %s\n", *torch ? torch : "none");
    printf("keras         %s\n", *keras ? keras : "none");
    printf("jax           %s\n", *jax ? jax : "none");
    return EXIT_OK;
}

static double stored_value(nninit_dtype d, const void *data, int64_t i)
{
    switch (d) {
    case NNINIT_F32: return ((const float *)data)[i];
    case NNINIT_F64: return ((const double *)data)[i];
    case NNINIT_BF16: return nninit_bf16_to_f32(((const uint16_t *)data)[i]);
    case NNINIT_F16: return nninit_f16_to_f32(((const uint16_t *)data)[i]);
    }
    return NAN;
}

typedef struct {
    double mean, std, min, max;
} stats;

/* Two passes in double: the mean, then the population std about it. */
static stats compute_stats(nninit_dtype d, const void *data, int64_t n)
{
    stats st = {0, 0, INFINITY, -INFINITY};
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        double x = stored_value(d, data, i);
        sum += x;
        if (x < st.min) st.min = x;
        if (x > st.max) st.max = x;
    }
    st.mean = sum / (double)n;
    double ss = 0;
    for (int64_t i = 0; i < n; i++) {
        double dx = stored_value(d, data, i) - st.mean;
        ss += dx * dx;
    }
    st.std = sqrt(ss / (double)n);
    return st;
}

static int cmd_fill(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(HELP_FILL, stdout);
        return EXIT_OK;
    }
    cli_args a;
    int r = parse_args("fill", CMD_FILL, argc, argv, &a);
    if (r)
        return r;
    nninit_spec spec = make_spec(&a);
    if ((r = check_groups("fill", &a, &spec)))
        return r;
    nninit_tensor t = make_tensor(&a);

    /* Validate everything before allocating: a bad parameter on a huge shape
     * is bad input (2), not out of memory (1). */
    nninit_info info;
    int64_t numel = 0;
    nninit_status s = nninit_tensor_numel(&t, &numel);
    if (s == NNINIT_OK)
        s = nninit_explain(&spec, &t, &info);
    if (s != NNINIT_OK)
        return lib_fail("fill", s);
    size_t esize = nninit_dtype_size(t.dtype);
    if (esize == 0 || (uint64_t)numel > SIZE_MAX / esize)
        return fail(EXIT_USAGE, "fill: a tensor of %lld elements does not fit in memory",
                    (long long)numel);
    void *data = malloc((size_t)numel * esize);
    if (!data)
        return fail(EXIT_FAIL, "fill: out of memory allocating %llu bytes",
                    (unsigned long long)((size_t)numel * esize));

    const char *key_name = a.have_key_id ? NULL : a.key_name ? a.key_name : "tensor";
    nninit_key key = a.have_key_id ? nninit_key_make(a.seed, a.key_id)
                                   : nninit_key_from_name(a.seed, key_name);
    s = nninit_fill(&spec, &t, key, data);
    if (s == NNINIT_OK)
        s = nninit_npy_write(a.out_path, data, t.dtype, t.ndim, t.shape);
    if (s != NNINIT_OK) {
        free(data);
        return lib_fail("fill", s);
    }
    stats st = {0, 0, 0, 0};
    if (a.stats)
        st = compute_stats(t.dtype, data, numel);
    free(data);

    if (a.json) {
        FILE *o = stdout;
        fputs("{\"path\": ", o);
        json_str(o, a.out_path);
        fputs(", \"scheme\": ", o);
        json_str(o, nninit_scheme_name(a.scheme));
        fputs(", \"shape\": ", o);
        json_shape(o, a.ndim, a.shape);
        fputs(", \"dtype\": ", o);
        json_str(o, nninit_dtype_name(t.dtype));
        fprintf(o, ", \"seed\": %llu, \"key\": ", (unsigned long long)a.seed);
        if (key_name)
            json_str(o, key_name);
        else
            fprintf(o, "%llu", (unsigned long long)key.id);
        fprintf(o, ", \"key_id\": %llu, \"numel\": %lld", (unsigned long long)key.id,
                (long long)numel);
        if (a.stats) {
            fputs(", \"mean\": ", o);
            json_num(o, st.mean);
            fputs(", \"std\": ", o);
            json_num(o, st.std);
            fputs(", \"min\": ", o);
            json_num(o, st.min);
            fputs(", \"max\": ", o);
            json_num(o, st.max);
        }
        fputs("}\n", o);
        return EXIT_OK;
    }

    printf("wrote %s: %s ", a.out_path, nninit_scheme_name(a.scheme));
    print_shape(stdout, a.ndim, a.shape);
    printf(" %s, seed %llu, key ", nninit_dtype_name(t.dtype), (unsigned long long)a.seed);
    if (key_name)
        printf("'%s' (id 0x%016llx)\n", key_name, (unsigned long long)key.id);
    else
        printf("id %llu\n", (unsigned long long)key.id);
    if (a.stats) {
        char b[64];
        printf("mean  %s\n", fmt_num(b, sizeof b, st.mean));
        printf("std   %s\n", fmt_num(b, sizeof b, st.std));
        printf("min   %s\n", fmt_num(b, sizeof b, st.min));
        printf("max   %s\n", fmt_num(b, sizeof b, st.max));
    }
    return EXIT_OK;
}

int cmd_probe(int argc, char **argv); /* cmd_probe.c */
int cmd_train(int argc, char **argv); /* cmd_train.c */
int cmd_lab(int argc, char **argv);   /* cmd_lab.c */

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(HELP_MAIN, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(HELP_MAIN, stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("nninit %s\n", nninit_version_string());
        return EXIT_OK;
    }
    if (!strcmp(cmd, "help")) {
        const char *topic = argc > 2 ? argv[2] : NULL;
        if (!topic)
            fputs(HELP_MAIN, stdout);
        else if (!strcmp(topic, "schemes"))
            fputs(HELP_SCHEMES, stdout);
        else if (!strcmp(topic, "explain"))
            fputs(HELP_EXPLAIN, stdout);
        else if (!strcmp(topic, "fill"))
            fputs(HELP_FILL, stdout);
        else
            return fail(EXIT_USAGE, "help: unknown command '%s'", topic);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "schemes"))
        return cmd_schemes(argc - 2, argv + 2);
    if (!strcmp(cmd, "explain"))
        return cmd_explain(argc - 2, argv + 2);
    if (!strcmp(cmd, "fill"))
        return cmd_fill(argc - 2, argv + 2);
    if (!strcmp(cmd, "probe"))
        return cmd_probe(argc - 1, argv + 1);
    if (!strcmp(cmd, "train"))
        return cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "lab"))
        return cmd_lab(argc - 1, argv + 1);
    return fail(EXIT_USAGE, "unknown command '%s' (try 'nninit --help')", cmd);
}

/*
 * nninit.c -- the command-line tool: main, help, and the commands schemes,
 * presets, explain and fill. Links the library like any user would: only <nninit.h>
 * and the tools' helpers (tools/util/), never the internals.
 *
 *   nninit schemes | presets [--json]
 *   nninit explain SCHEME --shape 64,3,7,7 [--fans-of SHAPE] [options] [--json]
 *   nninit explain --preset "torch.Conv2d(in=3, out=64, kernel=7)" [--json]
 *   nninit fill SCHEME --shape ... -o out.npy [--seed N] [--threads N] [options] [--stats] [--json]
 *   nninit fill --preset TEXT [--name PREFIX] [--seed N] -o out.safetensors [--json]
 *   nninit probe | train | lab ...   (cmd_probe.c, cmd_train.c, cmd_lab.c)
 *   nninit help [COMMAND]            (the same as nninit COMMAND --help)
 *
 * Options are parsed by opt.h (--opt=value or --opt value, "--" ends them,
 * -h/--help anywhere, an option given twice is an error); the PyTorch, Keras
 * and JAX calls explain prints come from explain.h.
 *
 * Exit status (common.h): 0 success; 1 a failure that is not the caller's
 * input (out of memory, LAPACK, I/O); 2 bad usage or bad input. The tool
 * prints; the library never does.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nninit.h"
#include "nninit_checkpoint.h"
#include "nninit_presets.h"
#include "checkpoint_mpi.h"
#include "common.h"
#include "explain.h"
#include "json.h"
#include "opt.h"

enum {
    EXIT_OK = CLI_EXIT_OK,
    EXIT_FAIL = CLI_EXIT_FAIL,
    EXIT_USAGE = CLI_EXIT_USAGE
};

/* ------------------------------------------------------------------------- */
/* Messages                                                                  */
/* ------------------------------------------------------------------------- */

/* Prints "nninit CMD: message" ("nninit: message" when cmd is NULL) to
 * stderr; returns code. */
NNINIT_PRINTF(3, 4)
static int fail(int code, const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (cmd) fprintf(stderr, "nninit %s: ", cmd);
    else fputs("nninit: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* A library failure, through the tools' one status -> exit status map. */
static int lib_fail(const char *cmd, nninit_status s) {
    const char *msg = nninit_last_error();
    return fail(cli_exit_status(s), cmd, "%s (%s)", msg && *msg ? msg : "failed", nninit_status_str(s));
}

/* ------------------------------------------------------------------------- */
/* Help                                                                      */
/* ------------------------------------------------------------------------- */

static const char HELP_MAIN[] = "usage: nninit COMMAND [ARGS]\n"
                                "\n"
                                "Neural-network weight initialization, exact and reproducible.\n"
                                "\n"
                                "commands:\n"
                                "  schemes   list every scheme with its formula\n"
                                "  presets   list the layer presets (torch.Linear, torch.Conv2d, keras.Dense,\n"
                                "            flax.Dense, ...): a framework layer's weight and bias init\n"
                                "  explain   resolve a scheme on a shape: fans, gain, std, bound, support,\n"
                                "            and the equivalent PyTorch, Keras and JAX calls; --preset: every\n"
                                "            parameter of a framework layer\n"
                                "  fill      fill a tensor and write it as a .npy file; --preset: a layer's\n"
                                "            parameters as one safetensors file\n"
                                "  checkpoint  write a whole model's initialized checkpoint (safetensors, .npz) from a\n"
                                "            recipe (gpt2, llama-hf, ...) or a spec file; explain --recipe or\n"
                                "            --spec shows every tensor's rule first\n"
                                "  verify    recompute every tensor of a checkpoint nninit wrote, from its manifest\n"
                                "  probe     run a network at init: vanishing, exploding, saturation, dead\n"
                                "            and symmetric units, next to mean-field theory\n"
                                "  train     train a network on Fashion-MNIST (SGD, momentum, Adam, cosine)\n"
                                "  lab       reproduce published claims about initialization; HTML report\n"
                                "\n"
                                "  nninit help COMMAND     help for one command (or: nninit COMMAND --help)\n"
                                "  nninit --version        library version, fill kernels (NNINIT_ARCH), MPI\n"
                                "\n"
                                "Options take their value as --opt=VALUE or --opt VALUE; '--' ends the options;\n"
                                "an option given twice is an error. Every --seed is optional, 0 by default.\n"
                                "\n"
                                "exit status: 0 success, 1 failure (memory, LAPACK, I/O), 2 bad usage or input\n";

static const char HELP_SCHEMES[] = "usage: nninit schemes [--json]\n"
                                   "\n"
                                   "List every scheme with its one-line formula.\n"
                                   "  --json   print one JSON array of {\"name\", \"formula\", \"elementwise\"}\n";

#define HELP_TENSOR_OPTIONS                                                                                            \
    "tensor:\n"                                                                                                        \
    "  --shape D0,D1,...     dimensions, 1 to 8 positive integers (required)\n"                                        \
    "  --dtype f32|f64|bf16|f16           element type (default f32)\n"                                                \
    "  --layout oihw|hwio|iohw|embedding  which axes are in/out (default oihw:\n"                                      \
    "                        PyTorch Linear/Conv weight (out, in/groups, k...))\n"                                     \
    "  --in-axis I --out-axis O           custom layout (axes may be negative)\n"                                      \
    "  --groups G            convolution groups (fans; dirac's groups)\n"                                              \
    "  --grouped-fan-out     divide fan_out by groups (oihw, hwio)\n"                                                  \
    "  --fans-of D0,D1,...   a fan-based scheme takes its fans from a tensor of this\n"                                \
    "                        shape instead (the layer's weight; the layout options above\n"                            \
    "                        then describe it): a bias drawn like its weight, e.g.\n"                                  \
    "                        kaiming_uniform --shape 256 --fans-of 256,784\n"                                          \
    "\n"                                                                                                               \
    "scheme parameters (an option the scheme does not read is an error):\n"                                            \
    "  --a X                 kaiming_*: negative slope (PyTorch's a);\n"                                               \
    "                        uniform: lower bound; trunc_normal: lower bound\n"                                        \
    "                        (absolute), trunc_normal_std: lower bound in stds\n"                                      \
    "  --b X                 upper bound (uniform, trunc_normal, trunc_normal_std)\n"                                  \
    "  --slope X             kaiming_*: same as --a\n"                                                                 \
    "  --mean X  --std X     normal, trunc_normal*; sparse: --std\n"                                                   \
    "  --gain X              xavier_*, orthogonal, delta_orthogonal (JAX's scale)\n"                                   \
    "  --value X             constant\n"                                                                               \
    "  --nonlinearity NAME   kaiming_*: linear, conv1d..conv3d, conv_transpose1d..3d,\n"                               \
    "                        sigmoid, tanh, relu, leaky_relu, selu\n"                                                  \
    "  --mode fan_in|fan_out|fan_avg|fan_geo_avg   kaiming_*, variance_scaling\n"                                      \
    "  --scale X             variance_scaling\n"                                                                       \
    "  --distribution uniform|normal|truncated_normal   variance_scaling\n"                                            \
    "  --sparsity X          sparse: fraction of zeros per column, in [0, 1]\n"

static const char HELP_EXPLAIN[] = "usage: nninit explain SCHEME --shape D0,D1,... [options] [--json]\n"
                                   "       nninit explain SCHEME --shape 256 --fans-of 256,784 [options] [--json]\n"
                                   "       nninit explain --preset TEXT [--json]\n"
                                   "       nninit explain (--recipe NAME [--set K=V ...] | --spec FILE) [--like FILE]\n"
                                   "                      [--dtype D] [--json]\n"
                                   "\n"
                                   "--preset: every parameter of one framework layer, e.g. \"torch.Conv2d(in=3,\n"
                                   "out=64, kernel=7)\" (see 'nninit explain --preset --help'; 'nninit presets'\n"
                                   "lists them).\n"
                                   "\n"
                                   "The second form prints every tensor of a whole model: the rule it matched,\n"
                                   "fans, std, parameters and bytes, then the totals and the rules (see\n"
                                   "'nninit help checkpoint').\n"
                                   "\n"
                                   "Resolve SCHEME on a tensor without drawing anything: fan_in, fan_out, the fan\n"
                                   "used, gain, std, bound, mean, variance, support, and the equivalent calls of\n"
                                   "PyTorch, Keras and JAX for the same layer, each on its own weight layout\n"
                                   "(\"none\" where the framework has no equivalent).\n"
                                   "\n" HELP_TENSOR_OPTIONS "\n"
                                   "output:\n"
                                   "  --json                one JSON object; null for what does not apply\n";

static const char HELP_FILL[] = "usage: nninit fill SCHEME --shape D0,D1,... -o OUT.npy [--seed N] [options]\n"
                                "       nninit fill --preset TEXT [--name PREFIX] [--seed N] -o OUT.safetensors\n"
                                "\n"
                                "--preset: every parameter of one framework layer (\"torch.Linear(in=784,\n"
                                "out=256)\") into one safetensors file, named PREFIX.weight, PREFIX.bias, ...\n"
                                "(see 'nninit fill --preset --help').\n"
                                "\n"
                                "Fill a tensor and write it atomically as a NumPy .npy file (bf16 as '<u2' bit\n"
                                "patterns). The values are a pure function of (seed, key, element index).\n"
                                "\n"
                                "random stream:\n"
                                "  --seed N              unsigned 64-bit seed, 0..18446744073709551615 (default\n"
                                "                        0); the seed used is always printed\n"
                                "  --key NAME            tensor key name, hashed with FNV-1a 64 (default \"tensor\")\n"
                                "  --key-id N            numeric tensor id instead of a name\n"
                                "\n" HELP_TENSOR_OPTIONS "\n"
                                "speed (never the values):\n"
                                "  --threads N           threads for the fill: 0 = one per core (default), 1 =\n"
                                "                        this thread only; default from the NNINIT_THREADS\n"
                                "                        environment variable when set. Fills under 131072\n"
                                "                        elements, orthogonal, delta_orthogonal and sparse\n"
                                "                        use one thread\n"
                                "  NNINIT_ARCH=NAME      (environment) the fill kernels: scalar, portable, avx2,\n"
                                "                        avx512; default the widest this CPU runs (nninit\n"
                                "                        --version says which)\n"
                                "\n"
                                "output:\n"
                                "  -o, --output PATH     the .npy file to write (required); never left partial\n"
                                "  --stats               print mean, std (population), min and max of the values\n"
                                "                        as stored\n"
                                "  --json                one JSON object: path, scheme, shape, dtype, seed, key,\n"
                                "                        key_id, numel, arch (the fill kernels), threads (as\n"
                                "                        asked, 0 = one per core), fill_s and write_s (seconds\n"
                                "                        spent filling memory and writing the file) and mean,\n"
                                "                        std, min, max with --stats\n"
                                "\n"
                                "The fill and the write are timed apart. A fill that runs over 1 s shows a\n"
                                "progress bar on stderr (a line per quarter when stderr is not a terminal;\n"
                                "NNINIT_FILL_PROGRESS_AFTER=S changes the delay).\n"
                                "A shape that needs more bytes than this machine's memory is bad input (2).\n";

/* ------------------------------------------------------------------------- */
/* JSON (json.h: shortest round-trip numbers, non-finite -> null)            */
/* ------------------------------------------------------------------------- */

/* An optional string: "" means "no equivalent" and is written as null. */
static void json_opt_str(cli_json *j, const char *key, const char *s) {
    cli_json_str(j, NULL, key, s && *s ? s : NULL);
}

static void json_shape(cli_json *j, int ndim, const int64_t *shape) {
    cJSON *arr = cli_json_arr(j, NULL, "shape");
    for (int i = 0; i < ndim; i++) cli_json_int(j, arr, NULL, shape[i]);
}

/* Prints the document to stdout and frees it; 0, or 1 after saying why. */
static int json_finish(cli_json *j, const char *cmd) {
    int r = cli_json_print(j, stdout);
    int e = errno;
    cli_json_free(j);
    return r ? fail(EXIT_FAIL, cmd, "cannot write the JSON output: %s", strerror(e)) : EXIT_OK;
}

/* ------------------------------------------------------------------------- */
/* Argument parsing                                                          */
/* ------------------------------------------------------------------------- */

static int parse_double(const char *cmd, const char *opt, const char *s, double *out) {
    if (!*s || isspace((unsigned char)*s)) return fail(EXIT_USAGE, cmd, "%s: '%s' is not a number", opt, s);
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end) return fail(EXIT_USAGE, cmd, "%s: '%s' is not a number", opt, s);
    if (errno == ERANGE && isinf(v)) return fail(EXIT_USAGE, cmd, "%s: '%s' is out of range", opt, s);
    *out = v;
    return 0;
}

static int parse_i64(const char *cmd, const char *opt, const char *s, int64_t *out) {
    const char *d = (*s == '-' || *s == '+') ? s + 1 : s;
    if (!isdigit((unsigned char)*d)) return fail(EXIT_USAGE, cmd, "%s: '%s' is not an integer", opt, s);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end) return fail(EXIT_USAGE, cmd, "%s: '%s' is not an integer", opt, s);
    if (errno == ERANGE) return fail(EXIT_USAGE, cmd, "%s: '%s' is out of range", opt, s);
    *out = (int64_t)v;
    return 0;
}

/* strtoull accepts "-1" and wraps it: only plain digits are allowed. */
static int parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out) {
    if (cli_parse_u64(s, out) == 0) return 0;
    if (isdigit((unsigned char)*s) && strspn(s, "0123456789") == strlen(s))
        return fail(EXIT_USAGE, cmd, "%s: '%s' is out of range (max 18446744073709551615)", opt, s);
    return fail(EXIT_USAGE, cmd, "%s: '%s' is not an unsigned integer", opt, s);
}

/* A thread count: 0 (one per core) .. INT_MAX. */
static int parse_threads(const char *cmd, const char *what, const char *s, int64_t *out) {
    int r = parse_i64(cmd, what, s, out);
    if (r == 0 && (*out < 0 || *out > INT_MAX))
        return fail(EXIT_USAGE, cmd, "%s: %s must be 0 (one thread per core) or a positive thread count", what, s);
    return r;
}

/* "64,3,7,7": 1..8 positive decimal integers, no empty items, no spaces
 * (--shape, --fans-of: opt names the option in messages). */
static int parse_shape(const char *cmd, const char *opt, const char *s, int *ndim, int64_t *shape) {
    int n = 0;
    const char *p = s;
    if (!*s) return fail(EXIT_USAGE, cmd, "%s: empty shape", opt);
    for (;;) {
        const char *q = p;
        while (*q && *q != ',') q++;
        if (q == p) return fail(EXIT_USAGE, cmd, "%s '%s': empty dimension", opt, s);
        if (n == NNINIT_MAX_DIMS)
            return fail(EXIT_USAGE, cmd, "%s '%s': more than %d dimensions", opt, s, NNINIT_MAX_DIMS);
        for (const char *r = p; r < q; r++)
            if (!isdigit((unsigned char)*r))
                return fail(EXIT_USAGE, cmd, "%s '%s': '%.*s' is not a positive integer (dimensions: D0,D1,...)", opt,
                            s, (int)(q - p), p);
        errno = 0;
        long long v = strtoll(p, NULL, 10);
        if (errno == ERANGE) return fail(EXIT_USAGE, cmd, "%s '%s': '%.*s' is too large", opt, s, (int)(q - p), p);
        if (v < 1) return fail(EXIT_USAGE, cmd, "%s '%s': dimension %d is %lld, must be >= 1", opt, s, n, v);
        shape[n++] = (int64_t)v;
        if (!*q) break;
        p = q + 1;
    }
    *ndim = n;
    return 0;
}

/* Scheme-parameter options, one bit each, for "given" and the messages;
 * which scheme reads which is the library's one table
 * (nninit_scheme_takes_param), asked under the option's name without "--". */
enum {
    P_A = 1u << 0,
    P_B = 1u << 1,
    P_SLOPE = 1u << 2,
    P_MEAN = 1u << 3,
    P_STD = 1u << 4,
    P_GAIN = 1u << 5,
    P_VALUE = 1u << 6,
    P_SCALE = 1u << 7,
    P_SPARSITY = 1u << 8,
    P_NL = 1u << 9,
    P_MODE = 1u << 10,
    P_DIST = 1u << 11
};

static int is_kaiming(nninit_scheme s) { return s == NNINIT_KAIMING_UNIFORM || s == NNINIT_KAIMING_NORMAL; }

enum {
    CMD_EXPLAIN = 1,
    CMD_FILL = 2
};

typedef enum {
    O_SHAPE,
    O_DTYPE,
    O_LAYOUT,
    O_IN_AXIS,
    O_OUT_AXIS,
    O_GROUPS,
    O_GROUPED_FAN_OUT,
    O_FANS_OF,
    O_A,
    O_B,
    O_SLOPE,
    O_MEAN,
    O_STD,
    O_GAIN,
    O_VALUE,
    O_SCALE,
    O_SPARSITY,
    O_NONLINEARITY,
    O_MODE,
    O_DISTRIBUTION,
    O_JSON,
    O_SEED,
    O_KEY,
    O_KEY_ID,
    O_OUTPUT,
    O_STATS,
    O_THREADS
} opt_id;

/* In opt_id order: explain reads the entries up to --json, fill all of them. */
static const cli_opt OPTIONS[] = {
    {"--shape", NULL, O_SHAPE, CLI_OPT_VALUE},
    {"--dtype", NULL, O_DTYPE, CLI_OPT_VALUE},
    {"--layout", NULL, O_LAYOUT, CLI_OPT_VALUE},
    {"--in-axis", NULL, O_IN_AXIS, CLI_OPT_VALUE},
    {"--out-axis", NULL, O_OUT_AXIS, CLI_OPT_VALUE},
    {"--groups", NULL, O_GROUPS, CLI_OPT_VALUE},
    {"--grouped-fan-out", NULL, O_GROUPED_FAN_OUT, CLI_OPT_FLAG},
    {"--fans-of", NULL, O_FANS_OF, CLI_OPT_VALUE},
    {"--a", NULL, O_A, CLI_OPT_VALUE},
    {"--b", NULL, O_B, CLI_OPT_VALUE},
    {"--slope", NULL, O_SLOPE, CLI_OPT_VALUE},
    {"--mean", NULL, O_MEAN, CLI_OPT_VALUE},
    {"--std", NULL, O_STD, CLI_OPT_VALUE},
    {"--gain", NULL, O_GAIN, CLI_OPT_VALUE},
    {"--value", NULL, O_VALUE, CLI_OPT_VALUE},
    {"--scale", NULL, O_SCALE, CLI_OPT_VALUE},
    {"--sparsity", NULL, O_SPARSITY, CLI_OPT_VALUE},
    {"--nonlinearity", NULL, O_NONLINEARITY, CLI_OPT_VALUE},
    {"--mode", NULL, O_MODE, CLI_OPT_VALUE},
    {"--distribution", NULL, O_DISTRIBUTION, CLI_OPT_VALUE},
    {"--json", NULL, O_JSON, CLI_OPT_FLAG},
    /* fill only */
    {"--seed", NULL, O_SEED, CLI_OPT_VALUE},
    {"--key", NULL, O_KEY, CLI_OPT_VALUE},
    {"--key-id", NULL, O_KEY_ID, CLI_OPT_VALUE},
    {"--output", "-o", O_OUTPUT, CLI_OPT_VALUE},
    {"--stats", NULL, O_STATS, CLI_OPT_FLAG},
    {"--threads", NULL, O_THREADS, CLI_OPT_VALUE},
};
enum {
    N_EXPLAIN_OPTIONS = O_JSON + 1,
    N_FILL_OPTIONS = O_THREADS + 1
};
_Static_assert(sizeof OPTIONS / sizeof OPTIONS[0] == N_FILL_OPTIONS, "OPTIONS: one entry per opt_id");

/* The P_* bit of a scheme parameter's option, 0 for the others. */
static unsigned option_param(opt_id id) {
    switch (id) {
    case O_A: return P_A;
    case O_B: return P_B;
    case O_SLOPE: return P_SLOPE;
    case O_MEAN: return P_MEAN;
    case O_STD: return P_STD;
    case O_GAIN: return P_GAIN;
    case O_VALUE: return P_VALUE;
    case O_SCALE: return P_SCALE;
    case O_SPARSITY: return P_SPARSITY;
    case O_NONLINEARITY: return P_NL;
    case O_MODE: return P_MODE;
    case O_DISTRIBUTION: return P_DIST;
    default: return 0;
    }
}

typedef struct {
    const char *cmd;
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
    int have_fans_of; /* --fans-of: the fans come from this tensor (the layer's weight) */
    int fo_ndim;
    int64_t fo_shape[NNINIT_MAX_DIMS];

    unsigned given;             /* P_* bits of the scheme options given */
    const char *given_name[12]; /* option spelling, per P_* bit, for messages */
    double a, b, slope, mean, std, gain, value, scale, sparsity;
    nninit_nonlinearity nl;
    nninit_mode mode;
    nninit_distribution dist;

    int json, stats;
    int have_key_id;
    uint64_t seed, key_id; /* seed: 0 unless --seed */
    const char *key_name;
    const char *out_path;
    int have_threads;
    int64_t threads; /* --threads, else NNINIT_THREADS, else 0 (one per core) */
} cli_args;

static int bit_index(unsigned bit) {
    int i = 0;
    while (!(bit & 1u)) {
        bit >>= 1;
        i++;
    }
    return i;
}

static int parse_enum_option(const char *cmd, const char *opt, const char *value, nninit_status s, const char *what) {
    if (s == NNINIT_OK) return 0;
    return fail(EXIT_USAGE, cmd, "%s: unknown %s '%s'", opt, what, value);
}

/* Stores option id (spelled name) with value v. Returns 0 or an exit status. */
static int set_option(cli_args *a, opt_id id, const char *name, const char *v) {
    const char *cmd = a->cmd;
    int r = 0;
    double x = 0;
    switch (id) {
    case O_SHAPE:
        r = parse_shape(cmd, name, v, &a->ndim, a->shape);
        a->have_shape = (r == 0);
        return r;
    case O_FANS_OF:
        r = parse_shape(cmd, name, v, &a->fo_ndim, a->fo_shape);
        a->have_fans_of = (r == 0);
        return r;
    case O_DTYPE: return parse_enum_option(cmd, name, v, nninit_dtype_parse(v, &a->dtype), "dtype");
    case O_LAYOUT:
        a->have_layout = 1;
        return parse_enum_option(cmd, name, v, nninit_layout_parse(v, &a->layout), "layout");
    case O_IN_AXIS: a->have_in_axis = 1; return parse_i64(cmd, name, v, &a->in_axis);
    case O_OUT_AXIS: a->have_out_axis = 1; return parse_i64(cmd, name, v, &a->out_axis);
    case O_GROUPS:
        a->have_groups = 1;
        r = parse_i64(cmd, name, v, &a->groups);
        if (r == 0 && a->groups < 1) return fail(EXIT_USAGE, cmd, "--groups: %lld must be >= 1", (long long)a->groups);
        return r;
    case O_GROUPED_FAN_OUT: a->grouped_fan_out = 1; return 0;
    case O_NONLINEARITY:
        r = parse_enum_option(cmd, name, v, nninit_nonlinearity_parse(v, &a->nl), "nonlinearity");
        break;
    case O_MODE: r = parse_enum_option(cmd, name, v, nninit_mode_parse(v, &a->mode), "mode"); break;
    case O_DISTRIBUTION:
        r = parse_enum_option(cmd, name, v, nninit_distribution_parse(v, &a->dist), "distribution");
        break;
    case O_A:
    case O_B:
    case O_SLOPE:
    case O_MEAN:
    case O_STD:
    case O_GAIN:
    case O_VALUE:
    case O_SCALE:
    case O_SPARSITY:
        r = parse_double(cmd, name, v, &x);
        if (r) return r;
        /* No scheme parameter has a meaning for NaN (the library reads a NaN
         * kaiming slope as an error, not as PyTorch's None). */
        if (isnan(x)) return fail(EXIT_USAGE, cmd, "%s: NaN is not allowed", name);
        switch (id) {
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
    case O_SEED: return parse_u64(cmd, name, v, &a->seed);
    case O_KEY: a->key_name = v; return 0;
    case O_KEY_ID: a->have_key_id = 1; return parse_u64(cmd, name, v, &a->key_id);
    case O_OUTPUT:
        if (!*v) return fail(EXIT_USAGE, cmd, "%s: empty path", name);
        a->out_path = v;
        return 0;
    case O_THREADS: a->have_threads = 1; return parse_threads(cmd, name, v, &a->threads);
    }
    unsigned param = option_param(id);
    if (r == 0 && param) {
        a->given |= param;
        a->given_name[bit_index(param)] = name;
    }
    return r;
}

/* Parses "SCHEME [options]" of explain and fill, then checks the options
 * against each other and against the scheme. Returns 0 (with *help set when
 * the command's help was asked for) or an exit status. */
static int parse_args(const char *cmd, int command, int argc, char **argv, cli_args *a, int *help) {
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->dtype = NNINIT_F32;
    a->layout = NNINIT_LAYOUT_OIHW;
    a->groups = 1;
    *help = 0;

    cli_opt_iter it;
    cli_opt_init(&it, cmd, OPTIONS, command == CMD_FILL ? N_FILL_OPTIONS : N_EXPLAIN_OPTIONS, argc, argv);
    const char *v;
    int id;
    while ((id = cli_opt_next(&it, &v)) != CLI_OPT_DONE) {
        if (id == CLI_OPT_HELP) {
            *help = 1;
            return 0;
        }
        if (id == CLI_OPT_ERROR) return EXIT_USAGE;
        if (id == CLI_OPT_POSITIONAL) {
            if (a->scheme_name)
                return fail(EXIT_USAGE, cmd, "unexpected argument '%s' (the scheme is '%s')", v, a->scheme_name);
            a->scheme_name = v;
            continue;
        }
        int r = set_option(a, (opt_id)id, cli_opt_name(&it), v);
        if (r) return r;
    }

    if (!a->scheme_name) return fail(EXIT_USAGE, cmd, "missing SCHEME (see 'nninit schemes')");
    if (nninit_scheme_parse(a->scheme_name, &a->scheme) != NNINIT_OK)
        return fail(EXIT_USAGE, cmd, "unknown scheme '%s' (see 'nninit schemes')", a->scheme_name);
    if (!a->have_shape) return fail(EXIT_USAGE, cmd, "missing --shape");

    /* Options the scheme would silently ignore are mistakes. */
    for (unsigned bits = a->given; bits; bits &= bits - 1) {
        const char *opt = a->given_name[bit_index(bits & (~bits + 1))];
        if (!nninit_scheme_takes_param(a->scheme, opt + 2))
            return fail(EXIT_USAGE, cmd, "option %s does not apply to scheme %s", opt, nninit_scheme_name(a->scheme));
    }
    if ((a->given & P_A) && (a->given & P_SLOPE)) return fail(EXIT_USAGE, cmd, "give --a or --slope, not both");
    if (a->have_fans_of && !nninit_scheme_uses_fans(a->scheme))
        return fail(EXIT_USAGE, cmd,
                    "--fans-of: %s does not use fans (xavier_*, kaiming_*, lecun_* and variance_scaling do)",
                    nninit_scheme_name(a->scheme));

    /* The layout options describe the tensor whose fans are used: --fans-of's, else --shape's. */
    int fan_ndim = a->have_fans_of ? a->fo_ndim : a->ndim;
    if (a->have_in_axis != a->have_out_axis) return fail(EXIT_USAGE, cmd, "--in-axis and --out-axis go together");
    if (a->have_in_axis) {
        if (a->have_layout && a->layout != NNINIT_LAYOUT_CUSTOM)
            return fail(EXIT_USAGE, cmd, "--in-axis/--out-axis set a custom layout; drop --layout");
        a->layout = NNINIT_LAYOUT_CUSTOM;
        if (a->in_axis < 0) a->in_axis += fan_ndim;
        if (a->out_axis < 0) a->out_axis += fan_ndim;
        if (a->in_axis < 0 || a->in_axis >= fan_ndim || a->out_axis < 0 || a->out_axis >= fan_ndim)
            return fail(EXIT_USAGE, cmd, "--in-axis/--out-axis outside the %d dimensions", fan_ndim);
    } else if (a->layout == NNINIT_LAYOUT_CUSTOM) {
        return fail(EXIT_USAGE, cmd, "a custom layout needs --in-axis and --out-axis");
    }

    if (command == CMD_FILL) {
        if (a->key_name && a->have_key_id) return fail(EXIT_USAGE, cmd, "give --key or --key-id, not both");
        if (!a->out_path) return fail(EXIT_USAGE, cmd, "missing -o OUT.npy");
        const char *env = getenv("NNINIT_THREADS");
        if (!a->have_threads && env && *env) {
            int r = parse_threads(cmd, "NNINIT_THREADS", env, &a->threads);
            if (r) return r;
        }
    }
    return 0;
}

static nninit_spec make_spec(const cli_args *a) {
    nninit_spec s = nninit_spec_default(a->scheme);
    if (a->given & P_A) {
        if (is_kaiming(a->scheme)) s.slope = a->a; /* PyTorch's kaiming_*_(w, a=...) */
        else s.a = a->a;
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
    if (a->have_groups) s.groups = a->groups;
    return s;
}

/* --groups changes only the fans (xavier, kaiming, lecun, variance_scaling)
 * and dirac; given to any other scheme it would be silently ignored. */
static int check_groups(const cli_args *a, const nninit_spec *s) {
    if (!a->have_groups || a->groups <= 1) return 0;
    if (nninit_scheme_uses_fans(s->scheme) || s->scheme == NNINIT_DIRAC) return 0;
    return fail(EXIT_USAGE, a->cmd, "--groups %lld: %s does not use groups (the fan-based schemes and dirac do)",
                (long long)a->groups, nninit_scheme_name(s->scheme));
}

/* The tensor whose fans the scheme reads: --fans-of's when given (the layout
 * options describe it), else the filled tensor's. */
static nninit_tensor make_fans_tensor(const cli_args *a) {
    nninit_tensor t =
        nninit_tensor_make(a->have_fans_of ? a->fo_ndim : a->ndim, a->have_fans_of ? a->fo_shape : a->shape, a->dtype);
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
/* Commands                                                                  */
/* ------------------------------------------------------------------------- */

static int cmd_schemes(int argc, char **argv) {
    enum {
        S_JSON
    };
    static const cli_opt opts[] = {{"--json", NULL, S_JSON, CLI_OPT_FLAG}};
    int json = 0;
    cli_opt_iter it;
    cli_opt_init(&it, "schemes", opts, 1, argc, argv);
    const char *v;
    int id;
    while ((id = cli_opt_next(&it, &v)) != CLI_OPT_DONE) {
        switch (id) {
        case CLI_OPT_HELP: fputs(HELP_SCHEMES, stdout); return EXIT_OK;
        case CLI_OPT_ERROR: return EXIT_USAGE;
        case CLI_OPT_POSITIONAL:
            return fail(EXIT_USAGE, "schemes", "unexpected argument '%s' (see 'nninit help schemes')", v);
        case S_JSON: json = 1; break;
        }
    }
    if (json) {
        /* One array; json.h's documents are objects, so it is built under
         * the root and printed alone. */
        cli_json j;
        cli_json_init(&j);
        cJSON *arr = cli_json_arr(&j, NULL, "schemes");
        for (int s = 0; s < NNINIT_SCHEME_COUNT; s++) {
            cJSON *o = cli_json_obj(&j, arr, NULL);
            cli_json_str(&j, o, "name", nninit_scheme_name((nninit_scheme)s));
            cli_json_str(&j, o, "formula", nninit_scheme_formula((nninit_scheme)s));
            cli_json_bool(&j, o, "elementwise", nninit_scheme_is_elementwise((nninit_scheme)s));
        }
        char *text = j.failed ? NULL : cJSON_Print(arr);
        int ok = text && printf("%s\n", text) >= 0 && fflush(stdout) == 0;
        int e = text ? errno : ENOMEM;
        cJSON_free(text);
        cli_json_free(&j);
        return ok ? EXIT_OK : fail(EXIT_FAIL, "schemes", "cannot write the JSON output: %s", strerror(e));
    }
    for (int s = 0; s < NNINIT_SCHEME_COUNT; s++) {
        const char *name = nninit_scheme_name((nninit_scheme)s);
        const char *formula = nninit_scheme_formula((nninit_scheme)s);
        printf("%-20s %s\n", name ? name : "?", formula ? formula : "");
    }
    return EXIT_OK;
}

static void print_shape(FILE *f, int ndim, const int64_t *shape) {
    for (int i = 0; i < ndim; i++) fprintf(f, i ? ",%lld" : "%lld", (long long)shape[i]);
}

/* The start of explain and fill: options, the spec as given, the tensor its
 * fans come from (fo) and the tensor filled (t; the same one unless
 * --fans-of). 0, or -1 after printing the help, or an exit status. */
static int prepare(const char *cmd, int command, const char *help_text, int argc, char **argv, cli_args *a,
                   nninit_spec *spec, nninit_tensor *fo, nninit_tensor *t) {
    int help;
    int r = parse_args(cmd, command, argc, argv, a, &help);
    if (r) return r;
    if (help) {
        fputs(help_text, stdout);
        return -1;
    }
    *spec = make_spec(a);
    if ((r = check_groups(a, spec))) return r;
    *fo = make_fans_tensor(a);
    *t = a->have_fans_of ? nninit_tensor_make(a->ndim, a->shape, a->dtype) : *fo;
    return 0;
}

/* The spec filled: spec itself, or with --fans-of the plain spec it amounts
 * to on fo (nninit_spec_resolve_fans), with fo's fans and gain in *finfo. */
static nninit_status filled_spec(const cli_args *a, const nninit_spec *spec, const nninit_tensor *fo, nninit_spec *out,
                                 nninit_info *finfo) {
    *out = *spec;
    if (!a->have_fans_of) return NNINIT_OK;
    nninit_status s = nninit_explain(spec, fo, finfo);
    return s ? s : nninit_spec_resolve_fans(spec, fo, out);
}

static int cmd_explain(int argc, char **argv) {
    cli_args a;
    nninit_spec given, spec;
    nninit_tensor fo, t;
    int r = prepare("explain", CMD_EXPLAIN, HELP_EXPLAIN, argc, argv, &a, &given, &fo, &t);
    if (r) return r < 0 ? EXIT_OK : r;
    nninit_info info, finfo;
    nninit_status s = filled_spec(&a, &given, &fo, &spec, &finfo);
    if (s == NNINIT_OK) s = nninit_explain(&spec, &t, &info);
    if (s != NNINIT_OK) return lib_fail("explain", s);
    if (!a.have_fans_of) finfo = info;
    char resolved[NNINIT_SPEC_TEXT_MAX] = "";
    if (a.have_fans_of && nninit_spec_format(&spec, resolved, sizeof resolved)) resolved[0] = '\0';

    char torch[512], keras[512], jax[512];
    cli_equivalent_call(CLI_FW_TORCH, &spec, &t, &info, torch, sizeof torch);
    cli_equivalent_call(CLI_FW_KERAS, &spec, &t, &info, keras, sizeof keras);
    cli_equivalent_call(CLI_FW_JAX, &spec, &t, &info, jax, sizeof jax);
    double nan = NAN;

    if (a.json) {
        cli_json j;
        cli_json_init(&j);
        cli_json_str(&j, NULL, "scheme", nninit_scheme_name(a.scheme));
        cli_json_str(&j, NULL, "formula", nninit_scheme_formula(a.scheme));
        json_shape(&j, a.ndim, a.shape);
        if (a.have_fans_of) {
            cJSON *fs = cli_json_arr(&j, NULL, "fans_of");
            for (int i = 0; i < fo.ndim; i++) cli_json_int(&j, fs, NULL, fo.shape[i]);
            cli_json_str(&j, NULL, "resolved", resolved);
        } else {
            cli_json_null(&j, NULL, "fans_of");
            cli_json_null(&j, NULL, "resolved");
        }
        cli_json_str(&j, NULL, "layout", nninit_layout_name(fo.layout));
        cli_json_str(&j, NULL, "dtype", nninit_dtype_name(t.dtype));
        cli_json_int(&j, NULL, "groups", fo.groups);
        cli_json_num(&j, NULL, "fan_in", finfo.has_fans ? finfo.fan_in : nan);
        cli_json_num(&j, NULL, "fan_out", finfo.has_fans ? finfo.fan_out : nan);
        cli_json_num(&j, NULL, "fan", finfo.fan);
        cli_json_num(&j, NULL, "gain", finfo.gain);
        cli_json_num(&j, NULL, "std", info.std);
        cli_json_num(&j, NULL, "bound", info.bound);
        cli_json_num(&j, NULL, "mean", info.mean);
        cli_json_num(&j, NULL, "variance", info.variance);
        cli_json_num(&j, NULL, "lo", info.lo);
        cli_json_num(&j, NULL, "hi", info.hi);
        cli_json_str(&j, NULL, "distribution", cli_resolved_name(info.kind));
        json_opt_str(&j, "torch", torch);
        json_opt_str(&j, "keras", keras);
        json_opt_str(&j, "jax", jax);
        return json_finish(&j, "explain");
    }

    char b1[64], b2[64];
    printf("scheme        %s\n", nninit_scheme_name(a.scheme));
    printf("formula       %s\n", nninit_scheme_formula(a.scheme));
    printf("tensor        ");
    print_shape(stdout, a.ndim, a.shape);
    if (a.have_fans_of) {
        printf("  %s\nfans of       ", nninit_dtype_name(t.dtype));
        print_shape(stdout, fo.ndim, fo.shape);
    }
    printf("  %s %s", nninit_layout_name(fo.layout), nninit_dtype_name(fo.dtype));
    if (fo.groups > 1) printf(" groups %lld", (long long)fo.groups);
    if (fo.flags & NNINIT_LAYOUT_GROUPED_FAN_OUT) printf(" grouped-fan-out");
    printf("\n");
    if (a.have_fans_of) printf("resolved      %s\n", resolved);
    printf("fan_in        %s\n", cli_fmt_num(b1, sizeof b1, finfo.has_fans ? finfo.fan_in : nan));
    printf("fan_out       %s\n", cli_fmt_num(b1, sizeof b1, finfo.has_fans ? finfo.fan_out : nan));
    printf("fan           %s\n", cli_fmt_num(b1, sizeof b1, finfo.fan));
    printf("gain          %s\n", cli_fmt_num(b1, sizeof b1, finfo.gain));
    printf("distribution  %s\n", cli_resolved_name(info.kind));
    printf("mean          %s\n", cli_fmt_num(b1, sizeof b1, info.mean));
    printf("std           %s\n", cli_fmt_num(b1, sizeof b1, info.std));
    printf("bound         %s\n", cli_fmt_num(b1, sizeof b1, info.bound));
    printf("variance      %s\n", cli_fmt_num(b1, sizeof b1, info.variance));
    printf("support       [%s, %s]\n", cli_fmt_num(b1, sizeof b1, info.lo), cli_fmt_num(b2, sizeof b2, info.hi));
    printf("pytorch       %s\n", *torch ? torch : "none");
    printf("keras         %s\n", *keras ? keras : "none");
    printf("jax           %s\n", *jax ? jax : "none");
    return EXIT_OK;
}

static double stored_value(nninit_dtype d, const void *data, int64_t i) {
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
static stats compute_stats(nninit_dtype d, const void *data, int64_t n) {
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

/* The bytes of the tensor's data into *bytes: 1, or 0 when they exceed
 * 2^64 - 1. */
static int tensor_bytes(const nninit_tensor *t, uint64_t *bytes) {
    uint64_t n = nninit_dtype_size(t->dtype);
    for (int i = 0; i < t->ndim; i++) {
        uint64_t d = (uint64_t)t->shape[i];
        if (d && n > UINT64_MAX / d) return 0;
        n *= d;
    }
    *bytes = n;
    return 1;
}

/* The fill, timed into *seconds, with a progress bar on stderr once it has
 * run for a second (NNINIT_FILL_PROGRESS_AFTER=S changes that): element-wise
 * schemes are filled in about 64 pieces by nninit_fill_range_threads, which
 * gives the bits of one call whatever the cut; the whole-tensor schemes
 * (orthogonal, delta_orthogonal, sparse) are one call. */
static nninit_status fill_with_progress(const nninit_spec *spec, const nninit_tensor *t, nninit_key key, int64_t numel,
                                        void *data, int threads, double *seconds) {
    double after = 1.0;
    const char *pa = getenv("NNINIT_FILL_PROGRESS_AFTER");
    if (pa && cli_parse_double(pa, &after)) after = 1.0;
    cli_progress pg;
    cli_progress_start(&pg, "nninit fill: filling", after);
    nninit_status s = NNINIT_OK;
    const int64_t piece =
        ((numel / 64 + 63) / 64) * 64 > ((int64_t)1 << 22) ? ((numel / 64 + 63) / 64) * 64 : ((int64_t)1 << 22);
    if (!nninit_scheme_is_elementwise(spec->scheme) || numel <= piece) {
        s = nninit_fill_threads(spec, t, key, data, threads);
    } else {
        const size_t es = nninit_dtype_size(t->dtype);
        for (int64_t b = 0; b < numel && s == NNINIT_OK; b += piece) {
            int64_t e = numel - b < piece ? numel : b + piece;
            s = nninit_fill_range_threads(spec, t, key, b, e, (char *)data + (size_t)b * es, threads);
            cli_progress_update(&pg, (double)e, (double)numel);
        }
    }
    cli_progress_done(&pg);
    *seconds = cli_seconds() - pg.t0;
    return s;
}

static int cmd_fill(int argc, char **argv) {
    cli_args a;
    nninit_spec given, spec;
    nninit_tensor fo, t;
    int r = prepare("fill", CMD_FILL, HELP_FILL, argc, argv, &a, &given, &fo, &t);
    if (r) return r < 0 ? EXIT_OK : r;
    nninit_info finfo;
    nninit_status fs = filled_spec(&a, &given, &fo, &spec, &finfo);
    if (fs != NNINIT_OK) return lib_fail("fill", fs);

    /* Validate everything before allocating: a bad parameter on a huge shape
     * is bad input (2), not out of memory (1); so is a shape that needs more
     * bytes than this machine has (the library's own limit, 2^63 bytes, is far
     * above that). Only a malloc that fails below that is a failure (1). */
    nninit_info info;
    int64_t numel = 0;
    nninit_status s = nninit_tensor_numel(&t, &numel);
    if (s == NNINIT_OK) s = nninit_explain(&spec, &t, &info);
    uint64_t bytes = 0, phys = 0;
    int too_big = tensor_bytes(&t, &bytes) && cli_check_alloc(bytes, &phys) != 0;
    if (s != NNINIT_OK && !(s == NNINIT_ERR_OVERFLOW && too_big)) return lib_fail("fill", s);
    if (too_big)
        return fail(EXIT_USAGE, "fill", "needs %llu bytes, more than this machine's %llu bytes of memory",
                    (unsigned long long)bytes, (unsigned long long)phys);
    void *data = cli_big_alloc((size_t)bytes);
    if (!data) return fail(EXIT_FAIL, "fill", "out of memory allocating %llu bytes", (unsigned long long)bytes);

    const char *key_name = a.have_key_id ? NULL : a.key_name ? a.key_name : "tensor";
    nninit_key key = a.have_key_id ? nninit_key_make(a.seed, a.key_id) : nninit_key_from_name(a.seed, key_name);
    double fill_s = 0.0, write_s = 0.0;
    s = fill_with_progress(&spec, &t, key, numel, data, (int)a.threads, &fill_s);
    if (s == NNINIT_OK) {
        double t0 = cli_seconds();
        s = nninit_npy_write(a.out_path, data, t.dtype, t.ndim, t.shape);
        write_s = cli_seconds() - t0;
    }
    if (s != NNINIT_OK) {
        cli_big_free(data, (size_t)bytes);
        return lib_fail("fill", s);
    }
    stats st = {0, 0, 0, 0};
    if (a.stats) st = compute_stats(t.dtype, data, numel);
    cli_big_free(data, (size_t)bytes);

    if (a.json) {
        cli_json j;
        cli_json_init(&j);
        cli_json_str(&j, NULL, "path", a.out_path);
        cli_json_str(&j, NULL, "scheme", nninit_scheme_name(a.scheme));
        json_shape(&j, a.ndim, a.shape);
        if (a.have_fans_of) {
            char text[NNINIT_SPEC_TEXT_MAX];
            cJSON *fa = cli_json_arr(&j, NULL, "fans_of");
            for (int i = 0; i < fo.ndim; i++) cli_json_int(&j, fa, NULL, fo.shape[i]);
            cli_json_str(&j, NULL, "resolved", nninit_spec_format(&spec, text, sizeof text) ? NULL : text);
        }
        cli_json_str(&j, NULL, "dtype", nninit_dtype_name(t.dtype));
        cli_json_u64(&j, NULL, "seed", a.seed);
        if (key_name) cli_json_str(&j, NULL, "key", key_name);
        else cli_json_u64(&j, NULL, "key", key.id);
        cli_json_u64(&j, NULL, "key_id", key.id);
        cli_json_int(&j, NULL, "numel", numel);
        cli_json_str(&j, NULL, "arch", nninit_arch_name());
        cli_json_int(&j, NULL, "threads", a.threads);
        cli_json_num(&j, NULL, "fill_s", fill_s);
        cli_json_num(&j, NULL, "write_s", write_s);
        if (a.stats) {
            cli_json_num(&j, NULL, "mean", st.mean);
            cli_json_num(&j, NULL, "std", st.std);
            cli_json_num(&j, NULL, "min", st.min);
            cli_json_num(&j, NULL, "max", st.max);
        }
        return json_finish(&j, "fill");
    }

    printf("wrote %s: %s ", a.out_path, nninit_scheme_name(a.scheme));
    if (a.have_fans_of) {
        printf("on the fans of ");
        print_shape(stdout, fo.ndim, fo.shape);
        printf(", ");
    }
    print_shape(stdout, a.ndim, a.shape);
    printf(" %s, seed %llu, key ", nninit_dtype_name(t.dtype), (unsigned long long)a.seed);
    if (key_name) printf("'%s' (id 0x%016llx)\n", key_name, (unsigned long long)key.id);
    else printf("id %llu\n", (unsigned long long)key.id);
    {
        const double mb = (double)bytes / 1e6;
        char th[24] = "one per core";
        if (a.threads) snprintf(th, sizeof th, "%lld", (long long)a.threads);
        printf("fill  %.3f s (%.0f MB/s; %s kernels, threads: %s)\n", fill_s, fill_s > 0 ? mb / fill_s : 0.0,
               nninit_arch_name(), th);
        printf("write %.3f s (%.0f MB/s)\n", write_s, write_s > 0 ? mb / write_s : 0.0);
    }
    if (a.stats) {
        char b[64];
        printf("mean  %s\n", cli_fmt_num(b, sizeof b, st.mean));
        printf("std   %s\n", cli_fmt_num(b, sizeof b, st.std));
        printf("min   %s\n", cli_fmt_num(b, sizeof b, st.min));
        printf("max   %s\n", cli_fmt_num(b, sizeof b, st.max));
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------- */
/* Layer presets: presets, explain --preset, fill --preset                   */
/* ------------------------------------------------------------------------- */

/* The nninit_layer fields a preset text may set, in nninit_presets.h's order. */
static const char *const PRESET_KEYS[] = {"in",          "out",        "kernel",        "groups",
                                          "bias",        "num_layers", "bidirectional", "proj_size",
                                          "padding_idx", "num_heads",  "add_bias_kv",   "dtype"};
#define N_PRESET_KEYS ((int)(sizeof PRESET_KEYS / sizeof PRESET_KEYS[0]))

/* 1 if preset reads key: the library's parser, asked with a valid value. */
static int preset_takes(const char *preset, const char *key) {
    char text[96];
    const char *name;
    nninit_layer l;
    snprintf(text, sizeof text, "%s(%s=%s)", preset, key, strcmp(key, "dtype") ? "1" : "f32");
    return nninit_preset_parse(text, &name, &l) == NNINIT_OK;
}

static const char HELP_PRESETS[] =
    "usage: nninit presets [--json]\n"
    "       nninit explain --preset list [--json]   (the same)\n"
    "\n"
    "List every layer preset: a framework's layer constructor (torch.Conv2d, keras.Dense,\n"
    "flax.Dense, ...) whose parameters nninit initializes as that framework does, the\n"
    "sizes it takes and what it draws. 'nninit explain --preset TEXT' shows one layer,\n"
    "'nninit fill --preset TEXT' writes its parameters.\n"
    "  --json   print one JSON array of {\"name\", \"keys\", \"summary\"}\n";

static int list_presets(int json) {
    if (json) {
        cli_json j;
        cli_json_init(&j);
        cJSON *arr = cli_json_arr(&j, NULL, "presets");
        for (int i = 0; i < nninit_preset_count(); i++) {
            const char *name = nninit_preset_name(i);
            cJSON *o = cli_json_obj(&j, arr, NULL);
            cli_json_str(&j, o, "name", name);
            cJSON *k = cli_json_arr(&j, o, "keys");
            for (int f = 0; f < N_PRESET_KEYS; f++)
                if (preset_takes(name, PRESET_KEYS[f])) cli_json_str(&j, k, NULL, PRESET_KEYS[f]);
            cli_json_str(&j, o, "summary", cli_preset_summary(name));
        }
        char *text = j.failed ? NULL : cJSON_Print(arr);
        int ok = text && printf("%s\n", text) >= 0 && fflush(stdout) == 0;
        int e = text ? errno : ENOMEM;
        cJSON_free(text);
        cli_json_free(&j);
        return ok ? EXIT_OK : fail(EXIT_FAIL, "presets", "cannot write the JSON output: %s", strerror(e));
    }
    for (int i = 0; i < nninit_preset_count(); i++) {
        const char *name = nninit_preset_name(i);
        printf("%-26s %s\n%-26s (", name, cli_preset_summary(name), "");
        for (int f = 0, n = 0; f < N_PRESET_KEYS; f++)
            if (preset_takes(name, PRESET_KEYS[f])) printf("%s%s", n++ ? ", " : "", PRESET_KEYS[f]);
        printf(")\n");
    }
    return EXIT_OK;
}

static int cmd_presets(int argc, char **argv) {
    static const cli_opt opts[] = {{"--json", NULL, 0, CLI_OPT_FLAG}};
    int json = 0;
    cli_opt_iter it;
    cli_opt_init(&it, "presets", opts, 1, argc, argv);
    const char *v;
    int id;
    while ((id = cli_opt_next(&it, &v)) != CLI_OPT_DONE) {
        switch (id) {
        case CLI_OPT_HELP: fputs(HELP_PRESETS, stdout); return EXIT_OK;
        case CLI_OPT_ERROR: return EXIT_USAGE;
        case CLI_OPT_POSITIONAL:
            return fail(EXIT_USAGE, "presets", "unexpected argument '%s' (see 'nninit help presets')", v);
        default: json = 1; break;
        }
    }
    return list_presets(json);
}

/* "--preset" before any "--": explain and fill of a layer preset. */
static int has_preset_option(int argc, char **argv) {
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strncmp(argv[i], "--preset", 8) && (argv[i][8] == 0 || argv[i][8] == '=')) return 1;
    return 0;
}

/* A preset text the library refuses: its message, and under a syntax error
 * ("preset: at 14: ...") the text with a caret at that column. */
static int preset_fail(const char *cmd, const char *text, nninit_status s) {
    const char *msg = nninit_last_error();
    int r = fail(cli_exit_status(s), cmd, "--preset '%s': %s", text, msg);
    const char *at = strstr(msg, "at ");
    long col = at ? strtol(at + 3, NULL, 10) : 0;
    if (col >= 1 && (size_t)col <= strlen(text) + 1) fprintf(stderr, "  %s\n  %*s^\n", text, (int)col - 1, "");
    return r;
}

/* The layer of a preset text, its parameters and their count. 0 or an exit status. */
static int preset_layer(const char *cmd, const char *text, const char **name, nninit_layer *l, nninit_param *p,
                        int *n) {
    nninit_status s = nninit_preset_parse(text, name, l);
    if (s == NNINIT_ERR_UNKNOWN_NAME) {
        fail(EXIT_USAGE, cmd, "--preset '%s': %s (see 'nninit presets')", text, nninit_last_error());
        return EXIT_USAGE;
    }
    if (s == NNINIT_OK) s = nninit_preset_params(*name, l, p, NNINIT_PRESET_MAX_PARAMS, n);
    return s ? preset_fail(cmd, text, s) : 0;
}

static const char HELP_EXPLAIN_PRESET[] =
    "usage: nninit explain --preset TEXT [--json]\n"
    "       nninit explain --preset list [--json]\n"
    "\n"
    "Every parameter of one layer as its framework's constructor creates it: name,\n"
    "shape, layout, the distribution drawn (bound or std), fans, count, and the call\n"
    "of that framework it reproduces. TEXT is a preset and the layer's sizes,\n"
    "    torch.Conv2d(in=3, out=64, kernel=7)    keras.Dense(in=784, out=256)\n"
    "    torch.LSTM(in=16, out=32, num_layers=2, proj_size=8)    flax.Conv(in=3, out=8, kernel=3x3)\n"
    "(keys: in, out, kernel (N, AxB, AxBxC), groups, bias, num_layers, bidirectional,\n"
    "proj_size, padding_idx, num_heads, add_bias_kv, dtype; each preset takes its own,\n"
    "'nninit presets' lists them). 'list' lists the presets.\n"
    "  --json   one JSON object: preset, module, count, parameters [{name, shape,\n"
    "           layout, dtype, scheme, distribution, mean, std, bound, lo, hi,\n"
    "           variance, fan_in, fan_out, count, zero_row, call}]\n";

static int cmd_explain_preset(int argc, char **argv) {
    enum {
        E_PRESET,
        E_JSON
    };
    static const cli_opt opts[] = {{"--preset", NULL, E_PRESET, CLI_OPT_VALUE}, {"--json", NULL, E_JSON, CLI_OPT_FLAG}};
    const char *text = NULL, *v;
    int json = 0, id;
    cli_opt_iter it;
    cli_opt_init(&it, "explain", opts, 2, argc, argv);
    while ((id = cli_opt_next(&it, &v)) != CLI_OPT_DONE) {
        switch (id) {
        case CLI_OPT_HELP: fputs(HELP_EXPLAIN_PRESET, stdout); return EXIT_OK;
        case CLI_OPT_ERROR: return EXIT_USAGE;
        case CLI_OPT_POSITIONAL:
            return fail(EXIT_USAGE, "explain", "unexpected argument '%s' with --preset (the preset is the layer)", v);
        case E_JSON: json = 1; break;
        default: text = v; break;
        }
    }
    if (!strcmp(text, "list")) return list_presets(json);
    const char *name;
    nninit_layer l;
    nninit_param p[NNINIT_PRESET_MAX_PARAMS];
    int n = 0, r = preset_layer("explain", text, &name, &l, p, &n);
    if (r) return r;
    char module[256];
    cli_preset_module(name, &l, module, sizeof module);
    int64_t total = 0, numel[NNINIT_PRESET_MAX_PARAMS];
    nninit_info info[NNINIT_PRESET_MAX_PARAMS];
    for (int i = 0; i < n; i++) {
        nninit_status s = nninit_tensor_numel(&p[i].tensor, &numel[i]);
        if (s == NNINIT_OK) s = nninit_explain(&p[i].spec, &p[i].tensor, &info[i]);
        if (s) return lib_fail("explain", s);
        total += numel[i];
    }
    double nan = NAN;
    if (json) {
        cli_json j;
        cli_json_init(&j);
        cli_json_str(&j, NULL, "preset", name);
        cli_json_str(&j, NULL, "text", text);
        cli_json_str(&j, NULL, "module", module);
        cli_json_int(&j, NULL, "count", total);
        cJSON *arr = cli_json_arr(&j, NULL, "parameters");
        for (int i = 0; i < n; i++) {
            char st[NNINIT_SPEC_TEXT_MAX], call[256];
            const nninit_info *in = &info[i];
            cJSON *o = cli_json_obj(&j, arr, NULL);
            cli_json_str(&j, o, "name", p[i].name);
            cJSON *sh = cli_json_arr(&j, o, "shape");
            for (int d = 0; d < p[i].tensor.ndim; d++) cli_json_int(&j, sh, NULL, p[i].tensor.shape[d]);
            cli_json_str(&j, o, "layout", nninit_layout_name(p[i].tensor.layout));
            cli_json_str(&j, o, "dtype", nninit_dtype_name(p[i].tensor.dtype));
            cli_json_str(&j, o, "scheme", nninit_spec_format(&p[i].spec, st, sizeof st) ? NULL : st);
            cli_json_str(&j, o, "distribution", cli_resolved_name(in->kind));
            cli_json_num(&j, o, "mean", in->mean);
            cli_json_num(&j, o, "std", in->std);
            cli_json_num(&j, o, "bound", in->bound);
            cli_json_num(&j, o, "lo", in->lo);
            cli_json_num(&j, o, "hi", in->hi);
            cli_json_num(&j, o, "variance", in->variance);
            cli_json_num(&j, o, "fan_in", in->has_fans ? in->fan_in : nan);
            cli_json_num(&j, o, "fan_out", in->has_fans ? in->fan_out : nan);
            cli_json_int(&j, o, "count", numel[i]);
            if (p[i].zero_row >= 0) cli_json_int(&j, o, "zero_row", p[i].zero_row);
            else cli_json_null(&j, o, "zero_row");
            cli_preset_call(name, &p[i], call, sizeof call);
            cli_json_str(&j, o, "call", *call ? call : NULL);
        }
        return json_finish(&j, "explain");
    }
    char b1[64], b2[64];
    printf("preset        %s\n", name);
    printf("module        %s\n", module);
    printf("parameters    %d, %lld values\n", n, (long long)total);
    for (int i = 0; i < n; i++) {
        const nninit_info *in = &info[i];
        char st[NNINIT_SPEC_TEXT_MAX], call[256];
        cli_preset_call(name, &p[i], call, sizeof call);
        printf("\n%s\n", p[i].name);
        printf("  shape         ");
        print_shape(stdout, p[i].tensor.ndim, p[i].tensor.shape);
        printf("  %s %s\n", nninit_layout_name(p[i].tensor.layout), nninit_dtype_name(p[i].tensor.dtype));
        printf("  scheme        %s\n", nninit_spec_format(&p[i].spec, st, sizeof st) ? "?" : st);
        printf("  distribution  %s", cli_resolved_name(in->kind));
        if (in->kind == NNINIT_RESOLVED_UNIFORM && isfinite(in->bound))
            printf(", bound %s", cli_fmt_num(b1, sizeof b1, in->bound));
        if (in->kind == NNINIT_RESOLVED_CONSTANT) printf(" %s", cli_fmt_num(b1, sizeof b1, in->lo));
        if (in->kind == NNINIT_RESOLVED_NORMAL || in->kind == NNINIT_RESOLVED_TRUNC_NORMAL)
            printf(", std %s", cli_fmt_num(b1, sizeof b1, in->std));
        if (in->kind == NNINIT_RESOLVED_TRUNC_NORMAL)
            printf(" on [%s, %s]", cli_fmt_num(b1, sizeof b1, in->lo), cli_fmt_num(b2, sizeof b2, in->hi));
        printf("\n");
        if (in->has_fans)
            printf("  fans          fan_in %s, fan_out %s\n", cli_fmt_num(b1, sizeof b1, in->fan_in),
                   cli_fmt_num(b2, sizeof b2, in->fan_out));
        else printf("  fans          n/a (1-D)\n");
        printf("  count         %lld\n", (long long)numel[i]);
        if (p[i].zero_row >= 0) printf("  zero row      %lld\n", (long long)p[i].zero_row);
        printf("  call          %s\n", *call ? call : "none");
    }
    return EXIT_OK;
}

static const char HELP_FILL_PRESET[] =
    "usage: nninit fill --preset TEXT [--name PREFIX] [--seed N] -o OUT.safetensors [--json]\n"
    "\n"
    "Fill every parameter of one layer as its framework's constructor initializes it\n"
    "(TEXT as in 'nninit explain --preset', e.g. \"torch.Conv2d(in=3, out=64, kernel=7)\")\n"
    "and write them, in the framework's order, as one safetensors file (atomically: a\n"
    "temporary renamed into place, never a partial file).\n"
    "  --name PREFIX   tensor names PREFIX.weight, PREFIX.bias, ... (default: the bare\n"
    "                  names, weight, bias, ... as in the layer's own state_dict)\n"
    "  --seed N        unsigned 64-bit seed (default 0); each tensor's key is\n"
    "                  nninit_key_from_name(seed, its full name)\n"
    "  -o, --output PATH   the .safetensors file (required)\n"
    "  --json          one JSON object: path, preset, seed, count, bytes, tensors [{name,\n"
    "                  shape, dtype, scheme, key_id, count}]\n";

static int cmd_fill_preset(int argc, char **argv) {
    enum {
        F_PRESET,
        F_NAME,
        F_SEED,
        F_OUTPUT,
        F_JSON
    };
    static const cli_opt opts[] = {{"--preset", NULL, F_PRESET, CLI_OPT_VALUE},
                                   {"--name", NULL, F_NAME, CLI_OPT_VALUE},
                                   {"--seed", NULL, F_SEED, CLI_OPT_VALUE},
                                   {"--output", "-o", F_OUTPUT, CLI_OPT_VALUE},
                                   {"--json", NULL, F_JSON, CLI_OPT_FLAG}};
    const char *text = NULL, *prefix = NULL, *out = NULL, *v;
    uint64_t seed = 0;
    int json = 0, id, r;
    cli_opt_iter it;
    cli_opt_init(&it, "fill", opts, 5, argc, argv);
    while ((id = cli_opt_next(&it, &v)) != CLI_OPT_DONE) {
        switch (id) {
        case CLI_OPT_HELP: fputs(HELP_FILL_PRESET, stdout); return EXIT_OK;
        case CLI_OPT_ERROR: return EXIT_USAGE;
        case CLI_OPT_POSITIONAL:
            return fail(EXIT_USAGE, "fill", "unexpected argument '%s' with --preset (the preset is the layer)", v);
        case F_PRESET: text = v; break;
        case F_NAME:
            if (!*v) return fail(EXIT_USAGE, "fill", "--name: empty prefix");
            prefix = v;
            break;
        case F_SEED:
            if ((r = parse_u64("fill", "--seed", v, &seed))) return r;
            break;
        case F_OUTPUT:
            if (!*v) return fail(EXIT_USAGE, "fill", "-o: empty path");
            out = v;
            break;
        default: json = 1; break;
        }
    }
    if (!out) return fail(EXIT_USAGE, "fill", "missing -o OUT.safetensors");
    const char *name;
    nninit_layer l;
    nninit_param p[NNINIT_PRESET_MAX_PARAMS];
    int n = 0;
    if ((r = preset_layer("fill", text, &name, &l, p, &n))) return r;
    if (n == 0) return fail(EXIT_USAGE, "fill", "--preset '%s': the layer has no parameters", text);

    nninit_st_tensor ts[NNINIT_PRESET_MAX_PARAMS];
    char full[NNINIT_PRESET_MAX_PARAMS][NNINIT_ST_MAX_NAME];
    int64_t numel[NNINIT_PRESET_MAX_PARAMS];
    uint64_t bytes[NNINIT_PRESET_MAX_PARAMS], total = 0, largest = 0, phys = 0;
    for (int i = 0; i < n; i++) {
        int k = prefix ? snprintf(full[i], sizeof full[i], "%s.%s", prefix, p[i].name)
                       : snprintf(full[i], sizeof full[i], "%s", p[i].name);
        if (k < 0 || (size_t)k >= sizeof full[i])
            return fail(EXIT_USAGE, "fill", "--name: the tensor names would exceed %d bytes", NNINIT_ST_MAX_NAME - 1);
        nninit_status s = nninit_tensor_numel(&p[i].tensor, &numel[i]);
        if (s) return lib_fail("fill", s);
        bytes[i] = (uint64_t)numel[i] * nninit_dtype_size(p[i].tensor.dtype);
        if (bytes[i] > largest) largest = bytes[i];
        total += bytes[i];
        memset(&ts[i], 0, sizeof ts[i]);
        ts[i].name = full[i];
        ts[i].dtype = nninit_st_dtype_of(p[i].tensor.dtype);
        ts[i].ndim = p[i].tensor.ndim;
        memcpy(ts[i].shape, p[i].tensor.shape, sizeof ts[i].shape);
    }
    if (cli_check_alloc(largest, &phys))
        return fail(EXIT_USAGE, "fill", "a tensor needs %llu bytes, more than this machine's %llu bytes of memory",
                    (unsigned long long)largest, (unsigned long long)phys);
    char seed_text[24];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
    const nninit_st_meta meta[2] = {{"nninit.preset", text}, {"nninit.seed", seed_text}};
    void *buf = cli_big_alloc((size_t)largest);
    if (!buf) return fail(EXIT_FAIL, "fill", "out of memory allocating %llu bytes", (unsigned long long)largest);
    nninit_st_writer *w = NULL;
    nninit_status s = nninit_st_writer_open(&w, out, ts, (size_t)n, meta, 2);
    /* one tensor at a time: memory is the largest tensor, whatever the layer */
    for (int i = 0; s == NNINIT_OK && i < n; i++) {
        s = nninit_param_fill(&p[i], nninit_key_from_name(seed, full[i]), buf);
        if (s == NNINIT_OK) s = nninit_st_writer_append(w, buf, (size_t)bytes[i]);
    }
    if (s == NNINIT_OK) s = nninit_st_writer_commit(w);
    else nninit_st_writer_abort(w);
    cli_big_free(buf, (size_t)largest);
    if (s) return lib_fail("fill", s);

    if (json) {
        cli_json j;
        cli_json_init(&j);
        cli_json_str(&j, NULL, "path", out);
        cli_json_str(&j, NULL, "preset", name);
        cli_json_str(&j, NULL, "text", text);
        cli_json_u64(&j, NULL, "seed", seed);
        int64_t count = 0;
        for (int i = 0; i < n; i++) count += numel[i];
        cli_json_int(&j, NULL, "count", count);
        cli_json_u64(&j, NULL, "bytes", total);
        cJSON *arr = cli_json_arr(&j, NULL, "tensors");
        for (int i = 0; i < n; i++) {
            char st[NNINIT_SPEC_TEXT_MAX];
            cJSON *o = cli_json_obj(&j, arr, NULL);
            cli_json_str(&j, o, "name", full[i]);
            cJSON *sh = cli_json_arr(&j, o, "shape");
            for (int d = 0; d < p[i].tensor.ndim; d++) cli_json_int(&j, sh, NULL, p[i].tensor.shape[d]);
            cli_json_str(&j, o, "dtype", nninit_dtype_name(p[i].tensor.dtype));
            cli_json_str(&j, o, "scheme", nninit_spec_format(&p[i].spec, st, sizeof st) ? NULL : st);
            cli_json_u64(&j, o, "key_id", nninit_hash_name(full[i]));
            cli_json_int(&j, o, "count", numel[i]);
        }
        return json_finish(&j, "fill");
    }
    printf("wrote %s: %s, %d tensors, seed %llu\n", out, name, n, (unsigned long long)seed);
    for (int i = 0; i < n; i++) {
        char st[NNINIT_SPEC_TEXT_MAX];
        printf("  %-24s ", full[i]);
        print_shape(stdout, p[i].tensor.ndim, p[i].tensor.shape);
        printf("  %s  key 0x%016llx  %s\n", nninit_dtype_name(p[i].tensor.dtype),
               (unsigned long long)nninit_hash_name(full[i]), nninit_spec_format(&p[i].spec, st, sizeof st) ? "?" : st);
    }
    return EXIT_OK;
}

int cmd_probe(int argc, char **argv);         /* cmd_probe.c */
int cmd_train(int argc, char **argv);         /* cmd_train.c */
int cmd_lab(int argc, char **argv);           /* cmd_lab.c */
int cmd_checkpoint(int argc, char **argv);    /* cmd_checkpoint.c */
int cmd_model_explain(int argc, char **argv); /* cmd_checkpoint.c: explain --recipe / --spec */
int cmd_verify(int argc, char **argv);        /* cmd_checkpoint.c */

/* explain of a whole model: --recipe, --spec or --like before any "--". */
static int is_model_explain(int argc, char **argv) {
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        for (const char *const *o = (const char *const[]){"--recipe", "--spec", "--like", NULL}; *o; o++) {
            size_t n = strlen(*o);
            if (!strncmp(argv[i], *o, n) && (argv[i][n] == 0 || argv[i][n] == '=')) return 1;
        }
    return 0;
}

/* Every command, called with argv[0] = its name. */
static int dispatch(const char *cmd, int argc, char **argv) {
    if (!strcmp(cmd, "schemes")) return cmd_schemes(argc - 1, argv + 1);
    if (!strcmp(cmd, "presets")) return cmd_presets(argc - 1, argv + 1);
    if (!strcmp(cmd, "explain"))
        return is_model_explain(argc, argv)    ? cmd_model_explain(argc, argv)
               : has_preset_option(argc, argv) ? cmd_explain_preset(argc - 1, argv + 1)
                                               : cmd_explain(argc - 1, argv + 1);
    if (!strcmp(cmd, "fill"))
        return has_preset_option(argc, argv) ? cmd_fill_preset(argc - 1, argv + 1) : cmd_fill(argc - 1, argv + 1);
    if (!strcmp(cmd, "probe")) return cmd_probe(argc, argv);
    if (!strcmp(cmd, "train")) return cmd_train(argc, argv);
    if (!strcmp(cmd, "lab")) return cmd_lab(argc, argv);
    if (!strcmp(cmd, "checkpoint")) return cmd_checkpoint(argc, argv);
    if (!strcmp(cmd, "verify")) return cmd_verify(argc, argv);
    return -1;
}

/* nninit help [COMMAND]: the main help, or exactly what COMMAND --help prints. */
static int cmd_help(int argc, char **argv) {
    if (argc < 2) {
        fputs(HELP_MAIN, stdout);
        return EXIT_OK;
    }
    if (argc > 2) return fail(EXIT_USAGE, "help", "unexpected argument '%s' (usage: nninit help [COMMAND])", argv[2]);
    char help_arg[] = "--help";
    char *args[] = {argv[1], help_arg, NULL};
    int r = dispatch(argv[1], 2, args);
    if (r < 0) return fail(EXIT_USAGE, "help", "unknown command '%s' (see 'nninit help')", argv[1]);
    return r;
}

/* "nninit 0.1.0 (fill kernels: avx512)"; a bad NNINIT_ARCH is bad input. */
static int print_version(void) {
    const char *arch = nninit_arch_name();
    if (!arch) return fail(EXIT_USAGE, NULL, "%s", nninit_last_error());
    printf("nninit %s (fill kernels: %s) (%s)\n", nninit_version_string(), arch, cli_mpi_about());
    return EXIT_OK;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(HELP_MAIN, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    int r = EXIT_OK;
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) fputs(HELP_MAIN, stdout);
    else if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) r = print_version();
    else if (!strcmp(cmd, "help")) r = cmd_help(argc - 1, argv + 1);
    else if ((r = dispatch(cmd, argc - 1, argv + 1)) < 0)
        return fail(EXIT_USAGE, NULL, "unknown command '%s' (see 'nninit help')", cmd);
    /* Output that did not reach stdout (a full disk, a closed pipe) is a
     * failure, not a success. */
    if (r == EXIT_OK && (fflush(stdout) != 0 || ferror(stdout)))
        return fail(EXIT_FAIL, NULL, "cannot write to stdout: %s", strerror(errno));
    return r;
}

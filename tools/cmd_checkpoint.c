/* cmd_checkpoint.c -- whole models from the command line:
 *
 *   nninit checkpoint (--recipe NAME [--set K=V ...] | --spec FILE) [--like FILE] -o PATH ...
 *   nninit checkpoint --list [--json]
 *   nninit explain (--recipe NAME [--set K=V ...] | --spec FILE) [--like FILE] [--json]
 *   nninit verify PATH [--json]
 *
 * The model comes from include/nninit_model.h (recipes, spec files), the
 * files from include/nninit_checkpoint.h; docs/CHECKPOINT.md is the manual. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_mpi.h"
#include "common.h"
#include "json.h"
#include "nninit.h"
#include "nninit_checkpoint.h"
#include "nninit_model.h"
#include "opt.h"

#define SPEC_MAX_BYTES ((size_t)64 << 20)

static const char checkpoint_usage[] =
    "usage: nninit checkpoint (--recipe NAME [--set KEY=VALUE ...] | --spec FILE) [--like FILE]\n"
    "                         -o PATH [--seed N] [--dtype D] [--threads N] [--max-shard-size SIZE] [--json]\n"
    "       nninit checkpoint --list [--json]\n"
    "\n"
    "Write a randomly initialized checkpoint (safetensors or .npz) of a whole model: every tensor\n"
    "named as the model's own checkpoints name it, initialized as its reference code does.\n"
    "\n"
    "the model:\n"
    "  --recipe NAME         a built-in model (--list shows them with their settings)\n"
    "  --set KEY=VALUE       a recipe setting (repeatable): --set n_layer=24 --set dtype=bf16\n"
    "  --spec FILE           a spec file: tensors and rules (docs/CHECKPOINT.md)\n"
    "  --like FILE           take the tensors' names, shapes and dtypes from an existing\n"
    "                        .safetensors file's header (or an .npz's members), and\n"
    "                        initialize each by the rules of --recipe or --spec\n"
    "  --dtype D             every tensor's dtype: f32, f64, bf16, f16\n"
    "\n"
    "the values:\n"
    "  --seed N              unsigned 64-bit seed (default 0). Tensor NAME is filled with the\n"
    "                        key of (seed, NAME): adding, removing or reordering tensors never\n"
    "                        changes the others\n"
    "  --threads N           fill threads, 0 = one per core (default; NNINIT_THREADS)\n"
    "\n"
    "the files:\n"
    "  -o, --output PATH     the .safetensors file (or .npz: one .npy member per tensor, no\n"
    "                        shards, no manifest, float dtypes only); never left partial (a\n"
    "                        temporary, fsync, rename), never replaces what is not a regular\n"
    "                        file. Under mpirun the ranks write it together (docs/MPI.md)\n"
    "  --max-shard-size SIZE shards of at most SIZE bytes of data (5GB, 500MB, 2GiB, or bytes):\n"
    "                        PATH's stem + -00001-of-0000N.safetensors, then PATH.index.json\n"
    "  --json                one JSON object on stdout: files, tensors, bytes, seconds\n"
    "\n"
    "__metadata__ holds \"format\": \"pt\" and \"nninit\": the manifest (version, seed, each\n"
    "tensor's rule and layout), which 'nninit verify' reads back. A checkpoint that takes\n"
    "over 1 s shows a progress bar on stderr.\n";

static const char verify_usage[] =
    "usage: nninit verify PATH [--threads N] [--json]\n"
    "\n"
    "Recompute every tensor of a checkpoint that nninit wrote (a .safetensors file, or a\n"
    "sharded checkpoint's .index.json) from the manifest in its __metadata__, and report\n"
    "match or mismatch per tensor. Exit 0 when all match, 1 when one does not, 2 when the\n"
    "file is not a valid safetensors file or has no nninit manifest.\n";

enum {
    C_RECIPE,
    C_SET,
    C_SPEC,
    C_LIKE,
    C_DTYPE,
    C_SEED,
    C_THREADS,
    C_OUT,
    C_SHARD,
    C_JSON,
    C_LIST
};
static const cli_opt checkpoint_opts[] = {
    {"--recipe", NULL, C_RECIPE, CLI_OPT_VALUE},
    {"--set", NULL, C_SET, CLI_OPT_VALUE | CLI_OPT_MULTI},
    {"--spec", NULL, C_SPEC, CLI_OPT_VALUE},
    {"--like", NULL, C_LIKE, CLI_OPT_VALUE},
    {"--dtype", NULL, C_DTYPE, CLI_OPT_VALUE},
    {"--seed", NULL, C_SEED, CLI_OPT_VALUE},
    {"--threads", NULL, C_THREADS, CLI_OPT_VALUE},
    {"--output", "-o", C_OUT, CLI_OPT_VALUE},
    {"--max-shard-size", NULL, C_SHARD, CLI_OPT_VALUE},
    {"--json", NULL, C_JSON, CLI_OPT_FLAG},
    {"--list", NULL, C_LIST, CLI_OPT_FLAG},
};

typedef struct {
    const char *recipe, *spec, *like, *out;
    const char *sets[64];
    int nsets, json, list, have_dtype, threads;
    nninit_dtype dtype;
    uint64_t seed, shard;
} ck_args;

static int say(int code, const char *cmd, const char *fmt, ...) NNINIT_PRINTF(3, 4);
static int say(int code, const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nninit %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

static int lib_error(const char *cmd, nninit_status s) {
    return say(cli_exit_status(s), cmd, "%s", nninit_last_error());
}

/* "5GB" (10^9), "2GiB" (2^30), "500MB", "64KiB", "123" bytes. */
static int parse_size(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || errno || !(x > 0)) return -1;
    static const struct {
        const char *suffix;
        double mult;
    } units[] = {{"", 1},      {"B", 1},        {"KB", 1e3},        {"MB", 1e6},           {"GB", 1e9},
                 {"TB", 1e12}, {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].suffix) == 0) {
            double b = x * units[i].mult;
            if (b < 1 || b > 1.8e19) return -1;
            *out = (uint64_t)b;
            return 0;
        }
    return -1;
}

/* Options shared by checkpoint and explain; 0 to go on, else the exit code. */
static int parse_args(const char *cmd, int argc, char **argv, ck_args *a, const char *usage) {
    memset(a, 0, sizeof *a);
    const char *env = getenv("NNINIT_THREADS");
    long long n;
    if (env && *env && (cli_parse_long(env, &n) || n < 0 || n > 256))
        return say(CLI_EXIT_USAGE, cmd, "NNINIT_THREADS='%s' must be an integer in 0..256", env);
    a->threads = env && *env ? (int)n : 0;
    cli_opt_iter it;
    cli_opt_init(&it, cmd, checkpoint_opts, (int)(sizeof checkpoint_opts / sizeof checkpoint_opts[0]), argc - 1,
                 argv + 1);
    const char *v;
    for (int id; (id = cli_opt_next(&it, &v)) != CLI_OPT_DONE;) {
        switch (id) {
        case CLI_OPT_HELP: fputs(usage, stdout); return -1;
        case CLI_OPT_ERROR: return CLI_EXIT_USAGE;
        case CLI_OPT_POSITIONAL:
            return say(CLI_EXIT_USAGE, cmd, "unexpected argument '%s' (see 'nninit help %s')", v, cmd);
        case C_RECIPE: a->recipe = v; break;
        case C_SET:
            if (a->nsets == 64) return say(CLI_EXIT_USAGE, cmd, "at most 64 --set");
            a->sets[a->nsets++] = v;
            break;
        case C_SPEC: a->spec = v; break;
        case C_LIKE: a->like = v; break;
        case C_DTYPE:
            if (nninit_dtype_parse(v, &a->dtype))
                return say(CLI_EXIT_USAGE, cmd, "--dtype '%s': f32, f64, bf16 or f16", v);
            a->have_dtype = 1;
            break;
        case C_SEED:
            if (cli_parse_u64(v, &a->seed))
                return say(CLI_EXIT_USAGE, cmd, "--seed '%s' must be an unsigned 64-bit integer", v);
            break;
        case C_THREADS:
            if (cli_parse_long(v, &n) || n < 0 || n > 256)
                return say(CLI_EXIT_USAGE, cmd, "--threads '%s' must be an integer in 0..256", v);
            a->threads = (int)n;
            break;
        case C_OUT: a->out = v; break;
        case C_SHARD:
            if (parse_size(v, &a->shard))
                return say(CLI_EXIT_USAGE, cmd, "--max-shard-size '%s': a size such as 5GB, 500MB, 2GiB or bytes", v);
            break;
        case C_JSON: a->json = 1; break;
        case C_LIST: a->list = 1; break;
        }
    }
    if (a->list) return 0;
    if (!!a->recipe + !!a->spec != 1) return say(CLI_EXIT_USAGE, cmd, "give one of --recipe NAME or --spec FILE");
    if (a->nsets && !a->recipe) return say(CLI_EXIT_USAGE, cmd, "--set goes with --recipe");
    return 0;
}

/* The tensors of an existing checkpoint into m (its own tensors cleared);
 * each keeps the layout m gave a tensor of the same name, else oihw. */
static int load_like(const char *cmd, nninit_model *m, const char *path) {
    /* the names, dtypes and shapes of a .safetensors or (np.savez) .npz */
    nninit_st_file *f = NULL;
    nninit_npz_file *z = NULL;
    nninit_st_tensor *zt = NULL;
    size_t n;
    const size_t plen = strlen(path);
    nninit_status s;
    if (plen > 4 && strcmp(path + plen - 4, ".npz") == 0) {
        if ((s = nninit_npz_open(path, &z))) return lib_error(cmd, s);
        n = nninit_npz_count(z);
        if (!(zt = calloc(n ? n : 1, sizeof *zt))) {
            nninit_npz_close(z);
            return say(CLI_EXIT_FAIL, cmd, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            const nninit_npz_member *e = nninit_npz_member_at(z, i);
            zt[i].name = e->name;
            zt[i].dtype = nninit_st_dtype_of(e->npy.dtype);
            zt[i].ndim = e->npy.ndim;
            memcpy(zt[i].shape, e->npy.shape, sizeof zt[i].shape);
        }
    } else {
        if ((s = nninit_st_open(path, &f))) return lib_error(cmd, s);
        n = nninit_st_count(f);
    }
    size_t nold = nninit_model_count(m);
    /* the recipe's layouts, by name (a linear search per tensor: fine for
     * the tens of thousands of tensors of the largest models) */
    typedef struct {
        char *name;
        nninit_layout layout;
    } lay_t;
    lay_t *old = calloc(nold ? nold : 1, sizeof *old);
    if (!old) {
        nninit_st_close(f);
        nninit_npz_close(z);
        free(zt);
        return say(CLI_EXIT_FAIL, cmd, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < nold; i++) {
        const nninit_model_tensor *e = nninit_model_tensor_at(m, i);
        old[i].name = malloc(strlen(e->name) + 1);
        if (!old[i].name) rc = say(CLI_EXIT_FAIL, cmd, "out of memory");
        else strcpy(old[i].name, e->name);
        old[i].layout = e->tensor.layout;
    }
    nninit_model_clear_tensors(m);
    for (size_t i = 0; i < n && !rc; i++) {
        const nninit_st_tensor *t = z ? &zt[i] : nninit_st_tensor_at(f, i);
        if (!nninit_model_dtype_name(t->dtype)) { /* F8: no values nninit makes */
            rc = say(CLI_EXIT_USAGE, cmd, "--like %s: tensor '%s' is %s, which nninit does not fill", path, t->name,
                     nninit_st_dtype_name(t->dtype));
            break;
        }
        nninit_layout lay = NNINIT_LAYOUT_OIHW;
        for (size_t k = 0; k < nold; k++)
            if (old[k].name && strcmp(old[k].name, t->name) == 0) lay = old[k].layout;
        /* integers (I64 buffers) and scalars too: resolve checks their rules */
        s = nninit_model_add_tensor_st(m, t->name, t->ndim, t->shape, t->dtype, lay);
        if (s) rc = lib_error(cmd, s);
    }
    for (size_t i = 0; i < nold; i++) free(old[i].name);
    free(old);
    nninit_st_close(f);
    nninit_npz_close(z);
    free(zt);
    return rc;
}

/* The model of the arguments, resolved; 0 or an exit code. */
static int build_model(const char *cmd, const ck_args *a, nninit_model **out) {
    nninit_model *m = NULL;
    nninit_status s;
    if (a->recipe) {
        s = nninit_model_recipe(a->recipe, a->sets, (size_t)a->nsets, &m);
        if (s) return lib_error(cmd, s);
    } else {
        size_t len = 0;
        char *text = cli_read_file(a->spec, SPEC_MAX_BYTES);
        if (!text)
            return say(errno == EFBIG ? CLI_EXIT_USAGE : CLI_EXIT_FAIL, cmd, "--spec %s: %s", a->spec, strerror(errno));
        len = strlen(text);
        s = nninit_model_from_json(text, len, &m);
        free(text);
        if (s) return say(cli_exit_status(s), cmd, "--spec %s: %s", a->spec, nninit_last_error());
    }
    int rc = a->like ? load_like(cmd, m, a->like) : 0;
    if (a->like && a->recipe) nninit_model_allow_unused_rules(m, 1); /* a subset of the recipe's tensors */
    if (!rc && a->have_dtype && (s = nninit_model_set_dtype(m, a->dtype))) rc = lib_error(cmd, s);
    if (!rc && (s = nninit_model_resolve(m))) rc = lib_error(cmd, s);
    if (rc) {
        nninit_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}


static void shape_text(char *buf, size_t cap, const nninit_tensor *t) {
    size_t k = 0;
    snprintf(buf, cap, "()"); /* a scalar */
    for (int d = 0; d < t->ndim && k < cap; d++)
        k += (size_t)snprintf(buf + k, cap - k, d ? ",%lld" : "%lld", (long long)t->shape[d]);
}

static int list_recipes(int json) {
    if (json) {
        cli_json j;
        cli_json_init(&j);
        cJSON *arr = cli_json_arr(&j, NULL, "recipes");
        for (int i = 0; i < nninit_model_recipe_count(); i++) {
            cJSON *o = cli_json_obj(&j, arr, NULL);
            cli_json_str(&j, o, "name", nninit_model_recipe_name(i));
            cli_json_str(&j, o, "about", nninit_model_recipe_about(i));
            cli_json_str(&j, o, "settings", nninit_model_recipe_settings(i));
        }
        int rc = cli_json_print(&j, stdout);
        cli_json_free(&j);
        return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    for (int i = 0; i < nninit_model_recipe_count(); i++)
        printf("%-18s %s\n%-18s settings: %s\n", nninit_model_recipe_name(i), nninit_model_recipe_about(i), "",
               nninit_model_recipe_settings(i));
    return CLI_EXIT_OK;
}

/* ---- explain --------------------------------------------------------------- */

int cmd_model_explain(int argc, char **argv) {
    ck_args a;
    int rc = parse_args("explain", argc, argv, &a, checkpoint_usage);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    if (a.out || a.shard || a.list)
        return say(CLI_EXIT_USAGE, "explain", "-o, --max-shard-size and --list go with 'checkpoint'");
    nninit_model *m;
    if ((rc = build_model("explain", &a, &m))) return rc;
    const size_t n = nninit_model_count(m);
    uint64_t bytes = 0;
    int64_t params = 0;
    cli_json j;
    cJSON *arr = NULL;
    if (a.json) {
        cli_json_init(&j);
        arr = cli_json_arr(&j, NULL, "tensors");
    } else {
        printf("%-48s %-16s %-5s %-40s %9s %9s %11s %12s\n", "tensor", "shape", "dtype", "rule", "fan_in", "fan_out",
               "std", "params");
    }
    for (size_t i = 0; i < n; i++) {
        const nninit_model_tensor *e = nninit_model_tensor_at(m, i);
        nninit_info info;
        nninit_status s = nninit_model_explain(m, i, &info);
        if (s) {
            nninit_model_free(m);
            if (a.json) cli_json_free(&j);
            return lib_error("explain", s);
        }
        char sh[96];
        shape_text(sh, sizeof sh, &e->tensor);
        const double sd = info.variance >= 0 ? sqrt(info.variance) : NAN;
        bytes += nninit_model_tensor_bytes(e);
        params += nninit_model_tensor_numel(e);
        if (a.json) {
            cJSON *o = cli_json_obj(&j, arr, NULL);
            cli_json_str(&j, o, "name", e->name);
            cJSON *shp = cli_json_arr(&j, o, "shape");
            for (int d = 0; d < e->tensor.ndim; d++) cli_json_int(&j, shp, NULL, e->tensor.shape[d]);
            cli_json_str(&j, o, "dtype", nninit_model_dtype_name(e->dtype));
            cli_json_str(&j, o, "layout", nninit_layout_name(e->tensor.layout));
            cli_json_str(&j, o, "init", e->init);
            const nninit_model_rule *r = nninit_model_rule_at(m, (size_t)e->rule);
            cli_json_int(&j, o, "rule", e->rule);
            cli_json_str(&j, o, "match", r->match);
            cli_json_str(&j, o, "source", r->source);
            if (e->padding_idx >= 0) cli_json_int(&j, o, "padding_idx", e->padding_idx);
            if (info.has_fans) {
                cli_json_num(&j, o, "fan_in", info.fan_in);
                cli_json_num(&j, o, "fan_out", info.fan_out);
            }
            cli_json_num(&j, o, "std", sd);
            cli_json_num(&j, o, "lo", info.lo);
            cli_json_num(&j, o, "hi", info.hi);
            cli_json_int(&j, o, "params", nninit_model_tensor_numel(e));
            cli_json_u64(&j, o, "bytes", nninit_model_tensor_bytes(e));
        } else {
            char fi[16] = "-", fo[16] = "-";
            if (info.has_fans) {
                snprintf(fi, sizeof fi, "%.0f", info.fan_in);
                snprintf(fo, sizeof fo, "%.0f", info.fan_out);
            }
            printf("%-48s %-16s %-5s %-40s %9s %9s %11.5g %12lld\n", e->name, sh, nninit_model_dtype_name(e->dtype),
                   e->init, fi, fo, sd, (long long)nninit_model_tensor_numel(e));
        }
    }
    if (a.json) {
        cli_json_int(&j, NULL, "tensor_count", (int64_t)n);
        cli_json_int(&j, NULL, "params", params);
        cli_json_u64(&j, NULL, "bytes", bytes);
        cJSON *rules = cli_json_arr(&j, NULL, "rules");
        for (size_t r = 0; r < nninit_model_rule_count(m); r++) {
            const nninit_model_rule *ru = nninit_model_rule_at(m, r);
            cJSON *o = cli_json_obj(&j, rules, NULL);
            cli_json_str(&j, o, "match", ru->match);
            cli_json_str(&j, o, "init", ru->init);
            cli_json_str(&j, o, "source", ru->source);
            cli_json_int(&j, o, "tensors", ru->uses);
        }
        rc = cli_json_print(&j, stdout) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
        cli_json_free(&j);
    } else {
        printf("total: %zu tensors, %lld parameters, %llu bytes (%.2f GB)\n", n, (long long)params,
               (unsigned long long)bytes, (double)bytes / 1e9);
        printf("rules (first match wins):\n");
        for (size_t r = 0; r < nninit_model_rule_count(m); r++) {
            const nninit_model_rule *ru = nninit_model_rule_at(m, r);
            printf("  %-40s -> %-40s %5d tensors  %s\n", ru->match, ru->init, ru->uses, ru->source ? ru->source : "");
        }
    }
    nninit_model_free(m);
    return rc;
}

/* ---- checkpoint ---------------------------------------------------------- */

static void on_progress(void *ctx, uint64_t done, uint64_t total) {
    cli_progress_update(ctx, (double)done, (double)total);
}

int cmd_checkpoint(int argc, char **argv) {
    ck_args a;
    int rc = parse_args("checkpoint", argc, argv, &a, checkpoint_usage);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    if (a.list) return list_recipes(a.json);
    if (!a.out) return say(CLI_EXIT_USAGE, "checkpoint", "-o PATH is required (see 'nninit help checkpoint')");
    if (cli_check_output(a.out)) { /* before the work, as probe --html; an output problem: exit 1 */
        if (errno == EEXIST)
            return say(CLI_EXIT_FAIL, "checkpoint", "-o '%s' exists and is not a regular file: refusing to replace it",
                       a.out);
        return say(CLI_EXIT_FAIL, "checkpoint", "-o '%s': cannot write there: %s", a.out, strerror(errno));
    }
    nninit_model *m;
    if ((rc = build_model("checkpoint", &a, &m))) return rc;
    /* Under mpirun the ranks write the file together, each its chunks of
     * every round, and only rank 0 prints (docs/MPI.md). */
    cli_mpi *mp;
    if ((rc = cli_mpi_start("checkpoint", &mp))) {
        nninit_model_free(m);
        return rc;
    }
    const int rank0 = cli_mpi_rank(mp) == 0;
    cli_progress pg;
    cli_progress_start(&pg, "nninit checkpoint: writing", 1.0);
    nninit_model_write_opts o = {
        .max_shard_bytes = a.shard, .threads = a.threads, .progress = rank0 ? on_progress : NULL, .progress_ctx = &pg};
    if (mp) cli_mpi_write_opts(mp, &o);
    uint64_t bytes = 0;
    nninit_status s = nninit_model_write(m, a.seed, a.out, &o, &bytes);
    if (mp) s = cli_mpi_agree(mp, s);
    cli_progress_done(&pg);
    const double secs = cli_seconds() - pg.t0;
    if (s) {
        rc = mp ? cli_mpi_report(mp, "checkpoint") : lib_error("checkpoint", s);
        cli_mpi_end(mp);
        nninit_model_free(m);
        return rc;
    }
    const size_t n = nninit_model_count(m);
    if (!rank0) {
        /* rank 0 reports the run */
    } else if (a.json) {
        cli_json j;
        cli_json_init(&j);
        cli_json_str(&j, NULL, "path", a.out);
        if (a.shard) {
            char idx[4096];
            snprintf(idx, sizeof idx, "%s.index.json", a.out);
            cli_json_str(&j, NULL, "index", idx);
            cli_json_u64(&j, NULL, "max_shard_bytes", a.shard);
        }
        cli_json_str(&j, NULL, a.recipe ? "recipe" : "spec", a.recipe ? a.recipe : a.spec);
        if (a.like) cli_json_str(&j, NULL, "like", a.like);
        cli_json_u64(&j, NULL, "seed", a.seed);
        cli_json_int(&j, NULL, "tensors", (int64_t)n);
        cli_json_u64(&j, NULL, "bytes", bytes);
        cli_json_num(&j, NULL, "seconds", secs);
        cli_json_str(&j, NULL, "arch", nninit_arch_name());
        if (mp) cli_json_int(&j, NULL, "mpi_ranks", cli_mpi_size(mp));
        rc = cli_json_print(&j, stdout) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
        cli_json_free(&j);
    } else {
        char by[48] = "";
        if (mp) snprintf(by, sizeof by, ", %d MPI rank%s", cli_mpi_size(mp), cli_mpi_size(mp) > 1 ? "s" : "");
        printf("wrote %s%s: %zu tensors, %llu bytes, seed %llu, %.2f s (%.0f MB/s)%s\n", a.out,
               a.shard ? " (shards and .index.json)" : "", n, (unsigned long long)bytes, (unsigned long long)a.seed,
               secs, secs > 0 ? (double)bytes / 1e6 / secs : 0.0, by);
    }
    cli_mpi_end(mp);
    nninit_model_free(m);
    return rc;
}

/* ---- verify ---------------------------------------------------------------- */

/* name with fnmatch's special characters escaped: a rule for it alone. */
static char *glob_literal(const char *name) {
    char *g = malloc(2 * strlen(name) + 1), *p = g;
    if (!g) return NULL;
    for (const char *s = name; *s; s++) {
        if (strchr("*?[]\\", *s)) *p++ = '\\';
        *p++ = *s;
    }
    *p = 0;
    return g;
}

typedef struct {
    int threads, json;
    size_t match, mismatch;
    cli_json *j;
    cJSON *arr;
} verify_ctx;

/* Tensor t of f against the manifest entry me; 0 match, 1 mismatch, else an exit code (2 or 1). */
static int verify_tensor(nninit_st_file *f, const nninit_st_tensor *t, const cJSON *me, uint64_t seed, verify_ctx *c,
                         const char *file) {
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(me, "init");
    const cJSON *layout = cJSON_GetObjectItemCaseSensitive(me, "layout");
    const cJSON *pad = cJSON_GetObjectItemCaseSensitive(me, "padding_idx");
    nninit_layout lay = NNINIT_LAYOUT_OIHW;
    if (!cJSON_IsString(init) ||
        (layout && (!cJSON_IsString(layout) || nninit_layout_parse(layout->valuestring, &lay))) ||
        (pad && !cJSON_IsNumber(pad)))
        return say(CLI_EXIT_USAGE, "verify", "%s: the manifest entry of '%s' is malformed", file, t->name);
    if (!nninit_model_dtype_name(t->dtype))
        return say(CLI_EXIT_USAGE, "verify", "%s: tensor '%s' (%s) is not one nninit writes", file, t->name,
                   nninit_st_dtype_name(t->dtype));
    nninit_model *m = NULL;
    char *g = glob_literal(t->name);
    nninit_status s = g ? nninit_model_new(&m) : NNINIT_ERR_NOMEM;
    /* the stored dtype (integers too) and rank (0: a scalar) */
    if (!s) s = nninit_model_add_tensor_st(m, t->name, t->ndim, t->shape, t->dtype, lay);
    if (!s) s = nninit_model_add_rule(m, g, init->valuestring, NULL, pad ? (int64_t)pad->valuedouble : -1);
    if (!s) s = nninit_model_resolve(m);
    free(g);
    if (s) {
        nninit_model_free(m);
        return say(cli_exit_status(s), "verify", "%s: '%s': %s", file, t->name, nninit_last_error());
    }
    const size_t es = nninit_st_dtype_size(t->dtype), chunk = (size_t)16 << 20;
    const int64_t numel = (int64_t)((t->end - t->begin) / es), per = (int64_t)(chunk / es);
    unsigned char *want = malloc(chunk), *got = malloc(chunk);
    int same = 1, rc = 0;
    int64_t first_bad = -1;
    if (!want || !got) rc = say(CLI_EXIT_FAIL, "verify", "out of memory");
    for (int64_t b = 0; b < numel && !rc && same; b += per) {
        const int64_t e = numel - b < per ? numel : b + per;
        s = nninit_model_fill(m, 0, seed, b, e, want, c->threads);
        if (!s) s = nninit_st_read(f, t, (uint64_t)b * es, (size_t)(e - b) * es, got);
        if (s) {
            rc = lib_error("verify", s);
            break;
        }
        if (memcmp(want, got, (size_t)(e - b) * es)) {
            same = 0;
            for (int64_t k = 0; k < e - b; k++)
                if (memcmp(want + k * (int64_t)es, got + k * (int64_t)es, es)) {
                    first_bad = b + k;
                    break;
                }
        }
    }
    free(want);
    free(got);
    nninit_model_free(m);
    if (rc) return rc;
    same ? c->match++ : c->mismatch++;
    if (c->json) {
        cJSON *o = cli_json_obj(c->j, c->arr, NULL);
        cli_json_str(c->j, o, "name", t->name);
        cli_json_str(c->j, o, "file", file);
        cli_json_str(c->j, o, "init", init->valuestring);
        cli_json_str(c->j, o, "result", same ? "match" : "mismatch");
        if (!same) cli_json_int(c->j, o, "first_mismatch", first_bad);
    } else if (same) {
        printf("match     %s  (%s)\n", t->name, init->valuestring);
    } else {
        printf("MISMATCH  %s  (%s): element %lld differs\n", t->name, init->valuestring, (long long)first_bad);
    }
    return same ? 0 : 1;
}

static int verify_file(const char *path, verify_ctx *c) {
    nninit_st_file *f;
    nninit_status s = nninit_st_open(path, &f);
    if (s) return lib_error("verify", s);
    const char *man = nninit_st_meta_get(f, "nninit");
    cJSON *root = man ? cJSON_Parse(man) : NULL;
    const cJSON *seed_j = root ? cJSON_GetObjectItemCaseSensitive(root, "seed") : NULL;
    const cJSON *ts = root ? cJSON_GetObjectItemCaseSensitive(root, "tensors") : NULL;
    uint64_t seed = 0;
    int rc = 0;
    if (!man)
        rc = say(CLI_EXIT_USAGE, "verify", "%s: no nninit manifest in __metadata__ (not written by nninit)", path);
    else if (!cJSON_IsString(seed_j) || cli_parse_u64(seed_j->valuestring, &seed) || !cJSON_IsObject(ts))
        rc = say(CLI_EXIT_USAGE, "verify", "%s: the nninit manifest is malformed", path);
    for (size_t i = 0; !rc && i < nninit_st_count(f); i++) {
        const nninit_st_tensor *t = nninit_st_tensor_at(f, i);
        const cJSON *me = cJSON_GetObjectItemCaseSensitive(ts, t->name);
        if (!cJSON_IsObject(me)) {
            rc = say(CLI_EXIT_USAGE, "verify", "%s: tensor '%s' is not in the manifest", path, t->name);
            break;
        }
        int r = verify_tensor(f, t, me, seed, c, path);
        if (r > 1 || (r == 1 && c->mismatch == 0)) rc = r; /* an error, not a mismatch */
    }
    cJSON_Delete(root);
    nninit_st_close(f);
    return rc;
}

int cmd_verify(int argc, char **argv) {
    enum {
        V_THREADS,
        V_JSON
    };
    static const cli_opt opts[] = {{"--threads", NULL, V_THREADS, CLI_OPT_VALUE},
                                   {"--json", NULL, V_JSON, CLI_OPT_FLAG}};
    verify_ctx c = {0, 0, 0, 0, NULL, NULL};
    const char *path = NULL, *v;
    long long n;
    cli_opt_iter it;
    cli_opt_init(&it, "verify", opts, 2, argc - 1, argv + 1);
    for (int id; (id = cli_opt_next(&it, &v)) != CLI_OPT_DONE;) {
        switch (id) {
        case CLI_OPT_HELP: fputs(verify_usage, stdout); return CLI_EXIT_OK;
        case CLI_OPT_ERROR: return CLI_EXIT_USAGE;
        case CLI_OPT_POSITIONAL:
            if (path) return say(CLI_EXIT_USAGE, "verify", "one PATH only");
            path = v;
            break;
        case V_THREADS:
            if (cli_parse_long(v, &n) || n < 0 || n > 256)
                return say(CLI_EXIT_USAGE, "verify", "--threads '%s' must be an integer in 0..256", v);
            c.threads = (int)n;
            break;
        case V_JSON: c.json = 1; break;
        }
    }
    if (!path) return say(CLI_EXIT_USAGE, "verify", "PATH is required (see 'nninit help verify')");
    cli_json j;
    if (c.json) {
        cli_json_init(&j);
        c.j = &j;
        c.arr = cli_json_arr(&j, NULL, "tensors");
    }
    int rc = 0;
    size_t plen = strlen(path);
    if (plen > 11 && strcmp(path + plen - 11, ".index.json") == 0) {
        nninit_st_index *ix;
        nninit_status s = nninit_st_index_open(path, &ix);
        if (s) rc = lib_error("verify", s);
        else {
            const char *slash = strrchr(path, '/');
            const size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
            for (size_t i = 0; !rc && i < nninit_st_index_count(ix); i++) {
                const char *file = nninit_st_index_at(ix, i)->file;
                int seen = 0; /* each shard once: the entries of a shard need not be adjacent */
                for (size_t k = 0; k < i && !seen; k++) seen = strcmp(nninit_st_index_at(ix, k)->file, file) == 0;
                if (seen) continue;
                char *full = malloc(dir + strlen(file) + 1);
                if (!full) {
                    rc = say(CLI_EXIT_FAIL, "verify", "out of memory");
                    break;
                }
                memcpy(full, path, dir);
                strcpy(full + dir, file);
                rc = verify_file(full, &c);
                free(full);
            }
            nninit_st_index_close(ix);
        }
    } else {
        rc = verify_file(path, &c);
    }
    if (rc > 1 || (rc == 1 && c.mismatch == 0)) {
        if (c.json) cli_json_free(&j);
        return rc;
    }
    if (c.json) {
        cli_json_str(&j, NULL, "path", path);
        cli_json_int(&j, NULL, "match", (int64_t)c.match);
        cli_json_int(&j, NULL, "mismatch", (int64_t)c.mismatch);
        if (cli_json_print(&j, stdout)) rc = CLI_EXIT_FAIL;
        cli_json_free(&j);
    } else {
        printf("%zu tensors match, %zu mismatch\n", c.match, c.mismatch);
    }
    return c.mismatch ? CLI_EXIT_FAIL : rc;
}

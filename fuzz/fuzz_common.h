/* fuzz_common.h -- what the libFuzzer harnesses share: a NUL-terminated copy
 * of the input, a scratch directory for the file formats, the check that
 * turns a broken invariant into a crash, and the architecture checks of
 * fuzz_arch and fuzz_arch_json.
 *
 * A harness aborts (a crash to libFuzzer) only on a broken promise of the
 * API: a parse that fails but changes the caller's struct, a file that does
 * not read back as what was written. Errors the API documents are fine.
 */
#ifndef NNINIT_FUZZ_COMMON_H
#define NNINIT_FUZZ_COMMON_H

#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nninit.h"
#include "nninit_nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: say which, with the library's last error, and abort so
 * that libFuzzer keeps the input. */
#define FUZZ_CHECK(cond, ...)                                                                                          \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz: %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                             \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fprintf(stderr, " (last error: %s)\n", nninit_last_error());                                               \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* data as a malloc'd C string (the input may hold NULs: the string ends at
 * the first, as a caller's would). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* ---- a scratch directory, made once, removed at exit --------------------- */

static char fuzz_dir_path[256];

static inline void fuzz_dir_remove(void) {
    DIR *d = opendir(fuzz_dir_path);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", fuzz_dir_path, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(fuzz_dir_path);
}

/* In /dev/shm where there is one (files there never touch a disk). */
static inline const char *fuzz_dir(void) {
    if (fuzz_dir_path[0]) return fuzz_dir_path;
    struct stat st;
    const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
                           ? "/dev/shm"
                           : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/nninit-fuzz.XXXXXX", base);
    if (!mkdtemp(fuzz_dir_path)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(fuzz_dir_remove);
    return fuzz_dir_path;
}

/* Number of entries in the scratch directory (to catch left-over temporaries). */
static inline int fuzz_dir_entries(void) {
    DIR *d = opendir(fuzz_dir());
    if (!d) abort();
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static inline void fuzz_write_file(const char *path, const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror("fuzz: write");
        abort();
    }
}

/* ---- architectures --------------------------------------------------------- */

/* Upper bounds, in floats, of what nninit_net_create(arch, batch 1) takes,
 * following engine/nn/net.c's plan_layer and layout: parameters (and their
 * gradients), activations, the conv workspace. Returns 0 if a layer's shape
 * is one net_create rejects before it allocates (let it say so), 1 if the
 * sizes are known. */
typedef struct {
    double params, floats;
} fuzz_arch_cost;

static inline int fuzz_arch_estimate(const nninit_arch *a, fuzz_arch_cost *cost) {
    double c = a->in_c, h = a->in_h, w = a->in_w;
    double params = 0, floats = c * h * w, ws = 0;
    if (a->n_layers < 1 || c < 1 || h < 1 || w < 1) return 0;
    for (int i = 0; i < a->n_layers; i++) {
        const nninit_layer_spec *L = &a->layers[i];
        double in = c * h * w, oc, oh, ow, p;
        int g = L->groups ? L->groups : 1;
        switch (L->kind) {
        case NNINIT_LAYER_DENSE:
            if (L->units < 1) return 0;
            oc = L->units, oh = ow = 1;
            p = oc * in + oc;
            break;
        case NNINIT_LAYER_CONV2D: {
            if (L->units < 1 || L->kh < 1 || L->kw < 1 || L->stride < 1 || L->pad < 0 || g < 1) return 0;
            double eh = h + 2.0 * L->pad - L->kh, ew = w + 2.0 * L->pad - L->kw;
            if (eh < 0 || ew < 0) return 0;
            oc = L->units, oh = (double)((int64_t)eh / L->stride + 1), ow = (double)((int64_t)ew / L->stride + 1);
            double cols = c / g * L->kh * L->kw;
            p = oc * cols + oc;
            if (cols * oh * ow * 8 > ws) ws = cols * oh * ow * 8; /* im2col of a chunk of examples */
            break;
        }
        case NNINIT_LAYER_FLATTEN: oc = in, oh = ow = 1, p = 0; break;
        case NNINIT_LAYER_RESIDUAL:
            if (L->res_kind == NNINIT_LAYER_DENSE) {
                oc = in, oh = ow = 1;
                p = 2 * (in * in + in);
            } else {
                if (L->kh < 1 || L->kw < 1 || g < 1) return 0;
                oc = c, oh = h, ow = w;
                double cols = c / g * L->kh * L->kw;
                p = 2 * (oc * cols + oc);
                if (cols * oh * ow * 8 > ws) ws = cols * oh * ow * 8;
            }
            break;
        default: return 0;
        }
        params += p;
        floats += 2 * p + 8 * oc * oh * ow; /* w, dw; pre, post, dpre, residual scratch */
        c = oc, h = oh, w = ow;
    }
    cost->params = params;
    cost->floats = floats + ws;
    return 1;
}

/* Limits of what the harness builds: a network that passes nninit's checks
 * but needs gigabytes is no bug, and would only trip libFuzzer's rss limit. */
#define FUZZ_MAX_PARAMS 1e6
#define FUZZ_MAX_FLOATS 8e6 /* 32 MB */

/* A parsed architecture must build (the parser "rejects what cannot run",
 * docs/GRAMMAR.md); a small one also runs forward and backward once. */
static inline void fuzz_arch_build(const nninit_arch *arch, uint64_t seed) {
    fuzz_arch_cost cost;
    int known = fuzz_arch_estimate(arch, &cost);
    if (known && (cost.params > FUZZ_MAX_PARAMS || cost.floats > FUZZ_MAX_FLOATS)) return;
    nninit_net *net = NULL;
    nninit_status st = nninit_net_create(arch, 1, NULL, seed, &net);
    FUZZ_CHECK(st == NNINIT_OK, "nninit_net_create of a parsed architecture: %s", nninit_status_str(st));
    FUZZ_CHECK(known, "net_create accepted what the harness's estimate says it rejects");
    if (cost.floats < 2e5) {
        int in = nninit_net_input_size(net), out = nninit_net_output_size(net);
        float *x = calloc((size_t)in, sizeof *x);
        if (!x) abort();
        for (int i = 0; i < in; i++) x[i] = (float)((i * 7) % 11) / 11.0f - 0.5f;
        FUZZ_CHECK(nninit_net_forward(net, x, 1) == NNINIT_OK, "forward");
        int label = out > 1 ? 1 : 0;
        double loss;
        FUZZ_CHECK(nninit_net_loss(net, &label, &loss) == NNINIT_OK, "loss");
        FUZZ_CHECK(nninit_net_backward(net) == NNINIT_OK, "backward");
        free(x);
    }
    nninit_net_free(net);
}

/* Parse with f; on failure the caller's arch must be untouched
 * (nninit_nn.h, docs/GRAMMAR.md "Errors"); on success, build it. */
static inline void fuzz_arch_parse_check(nninit_status (*parse)(const char *, nninit_arch *), const char *text) {
    static nninit_arch *arch, *copy;
    if (!arch) {
        arch = malloc(sizeof *arch);
        copy = malloc(sizeof *copy);
        if (!arch || !copy) abort();
        memset(copy, 0xa5, sizeof *copy);
    }
    memset(arch, 0xa5, sizeof *arch);
    nninit_status st = parse(text, arch);
    if (st != NNINIT_OK) {
        FUZZ_CHECK(st == NNINIT_ERR_PARAM || st == NNINIT_ERR_NOMEM, "parse failed with %s", nninit_status_str(st));
        FUZZ_CHECK(memcmp(arch, copy, sizeof *arch) == 0, "a failed parse changed the caller's arch");
        return;
    }
    FUZZ_CHECK(arch->n_layers >= 1 && arch->n_layers <= NNINIT_ARCH_MAX_LAYERS, "n_layers %d", arch->n_layers);
    fuzz_arch_build(arch, 1);
}

#endif

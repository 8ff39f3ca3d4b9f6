/* write.c -- a resolved model as a safetensors checkpoint, one file or
 * shards plus model.safetensors.index.json (include/nninit_model.h). Each
 * tensor is filled a chunk at a time into one buffer and appended to the
 * file's writer (nninit_checkpoint.h), so memory is one chunk whatever the
 * model's size. */
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "model/model_internal.h"
#include "nninit_checkpoint.h"

#define DEFAULT_CHUNK ((size_t)64 << 20)

static uint64_t tensor_bytes(const nninit_model_tensor *e) {
    uint64_t n = nninit_dtype_size(e->tensor.dtype);
    for (int d = 0; d < e->tensor.ndim; d++) n *= (uint64_t)e->tensor.shape[d];
    return n;
}

/* The manifest: what nninit_model_verify needs to recompute tensors
 * [lo, hi) of this file. */
static char *manifest(const nninit_model *m, uint64_t seed, size_t lo, size_t hi) {
    cJSON *root = cJSON_CreateObject(), *ts = NULL;
    char seed_text[24];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
    if (!root || !cJSON_AddStringToObject(root, "version", nninit_version_string()) ||
        !cJSON_AddStringToObject(root, "seed", seed_text) || !(ts = cJSON_AddObjectToObject(root, "tensors")))
        goto fail;
    for (size_t i = lo; i < hi; i++) {
        const nninit_model_tensor *e = &m->t[i];
        cJSON *o = cJSON_AddObjectToObject(ts, e->name);
        if (!o || !cJSON_AddStringToObject(o, "init", e->init) ||
            !cJSON_AddStringToObject(o, "layout", nninit_layout_name(e->tensor.layout)))
            goto fail;
        if (e->padding_idx >= 0 && !cJSON_AddNumberToObject(o, "padding_idx", (double)e->padding_idx)) goto fail;
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
fail:
    cJSON_Delete(root);
    return NULL;
}

typedef struct {
    const nninit_model_write_opts *o;
    uint64_t done, total;
    void *buf;
    size_t cap;
} write_ctx;

/* Tensors [lo, hi) as one safetensors file at path. */
static nninit_status write_file(const nninit_model *m, uint64_t seed, const char *path, size_t lo, size_t hi,
                                write_ctx *c) {
    const size_t n = hi - lo;
    nninit_st_tensor *ts = calloc(n ? n : 1, sizeof *ts);
    char *man = manifest(m, seed, lo, hi);
    if (!ts || !man) {
        free(ts);
        free(man);
        return nninit__err(NNINIT_ERR_NOMEM, "checkpoint: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const nninit_model_tensor *e = &m->t[lo + i];
        ts[i].name = e->name;
        ts[i].dtype = nninit_st_dtype_of(e->tensor.dtype);
        ts[i].ndim = e->tensor.ndim;
        memcpy(ts[i].shape, e->tensor.shape, sizeof ts[i].shape);
    }
    const nninit_st_meta meta[2] = {{"format", "pt"}, {"nninit", man}};
    nninit_st_writer *w = NULL;
    nninit_status st = nninit_st_writer_open(&w, path, ts, n, meta, 2);
    free(ts);
    free(man);
    if (st) return st;
    for (size_t i = lo; i < hi && !st; i++) {
        const nninit_model_tensor *e = &m->t[i];
        const size_t es = nninit_dtype_size(e->tensor.dtype);
        const int64_t numel = (int64_t)(tensor_bytes(e) / es), per = (int64_t)(c->cap / es);
        for (int64_t b = 0; b < numel && !st; b += per) {
            const int64_t end = numel - b < per ? numel : b + per;
            st = nninit_model_fill(m, i, seed, b, end, c->buf, c->o->threads);
            if (!st) st = nninit_st_writer_append(w, c->buf, (size_t)(end - b) * es);
            c->done += (uint64_t)(end - b) * es;
            if (!st && c->o->progress) c->o->progress(c->o->progress_ctx, c->done, c->total);
        }
    }
    if (st) {
        nninit_st_writer_abort(w);
        return st;
    }
    return nninit_st_writer_commit(w);
}

nninit_status nninit_model_write(const nninit_model *m, uint64_t seed, const char *path,
                                 const nninit_model_write_opts *opts, uint64_t *bytes_written) {
    if (!m || !path) return nninit__err(NNINIT_ERR_NULL, "checkpoint: NULL argument");
    if (!m->resolved) return nninit__err(NNINIT_ERR_FORMAT, "checkpoint: the model is not resolved");
    const nninit_model_write_opts dflt = {0, 0, 0, NULL, NULL};
    const nninit_model_write_opts *o = opts ? opts : &dflt;
    if (o->threads < 0) return nninit__err(NNINIT_ERR_PARAM, "checkpoint: threads (%d) must be >= 0", o->threads);
    write_ctx c = {o, 0, 0, NULL, o->chunk_bytes ? o->chunk_bytes : DEFAULT_CHUNK};
    if (c.cap < 64) c.cap = 64;
    c.cap -= c.cap % 64; /* whole cache lines of every dtype */
    for (size_t i = 0; i < m->nt; i++) c.total += tensor_bytes(&m->t[i]);
    c.buf = malloc(c.cap);
    if (!c.buf) return nninit__err(NNINIT_ERR_NOMEM, "checkpoint: cannot allocate a %zu-byte chunk", c.cap);

    nninit_status st = NNINIT_OK;
    if (o->max_shard_bytes == 0) {
        st = write_file(m, seed, path, 0, m->nt, &c);
        goto done;
    }
    /* shards: <stem>-%05d-of-%05d.safetensors, cut before a tensor that
     * would take the shard past max (a bigger tensor alone), as transformers'
     * shard_checkpoint does; the index last. */
    size_t plen = strlen(path), suffix = strlen(".safetensors");
    if (plen <= suffix || strcmp(path + plen - suffix, ".safetensors") != 0) {
        st = nninit__err(NNINIT_ERR_PARAM, "checkpoint: a sharded path must end in .safetensors, not '%s'", path);
        goto done;
    }
    size_t *cut = malloc((m->nt + 1) * sizeof *cut), nshards = 0;
    if (!cut) {
        st = nninit__err(NNINIT_ERR_NOMEM, "checkpoint: out of memory");
        goto done;
    }
    uint64_t in_shard = 0;
    cut[0] = 0;
    for (size_t i = 0; i < m->nt; i++) {
        uint64_t b = tensor_bytes(&m->t[i]);
        if (i > cut[nshards] && in_shard + b > o->max_shard_bytes) {
            cut[++nshards] = i;
            in_shard = 0;
        }
        in_shard += b;
    }
    cut[++nshards] = m->nt;
    const size_t stem = plen - suffix;
    const char *slash = strrchr(path, '/');
    const size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    char *name = malloc(plen + 32), *index = malloc(plen + 16);
    nninit_st_index_entry *ent = malloc(m->nt * sizeof *ent);
    char **files = calloc(nshards, sizeof *files);
    if (!name || !index || !ent || !files) {
        st = nninit__err(NNINIT_ERR_NOMEM, "checkpoint: out of memory");
    } else {
        for (size_t s = 0; s < nshards && !st; s++) {
            snprintf(name, plen + 32, "%.*s-%05zu-of-%05zu.safetensors", (int)stem, path, s + 1, nshards);
            files[s] = malloc(strlen(name + dir) + 1);
            if (!files[s]) {
                st = nninit__err(NNINIT_ERR_NOMEM, "checkpoint: out of memory");
                break;
            }
            strcpy(files[s], name + dir);
            st = write_file(m, seed, name, cut[s], cut[s + 1], &c);
            for (size_t i = cut[s]; i < cut[s + 1]; i++) ent[i] = (nninit_st_index_entry){m->t[i].name, files[s]};
        }
        if (!st) {
            snprintf(index, plen + 16, "%s.index.json", path);
            st = nninit_st_index_write(index, c.total, ent, m->nt);
        }
    }
    for (size_t s = 0; files && s < nshards; s++) free(files[s]);
    free(files);
    free(ent);
    free(index);
    free(name);
    free(cut);
done:
    free(c.buf);
    if (!st && bytes_written) *bytes_written = c.total;
    return st;
}

/* write.c -- a resolved model as a safetensors checkpoint, one file or
 * shards plus model.safetensors.index.json (include/nninit_model.h). Each
 * tensor is filled a chunk at a time, so memory is two chunks whatever the
 * model's size: to a local file, a writer thread appends chunk k
 * (nninit_st_writer) while chunk k+1 fills; to a sink (MPI-IO), each part
 * fills its chunk of a round and the sink writes it at its offset. The
 * chunks are the same whatever the number of parts or threads, and so are
 * the bytes. */
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "model/model_internal.h"
#include "nninit_checkpoint.h"

#define DEFAULT_CHUNK ((size_t)64 << 20)

#define tensor_bytes nninit__model_tensor_bytes

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

/* One chunk of a file: elements [b, e) of tensor t, at byte off of the
 * file's data. Chunks cut each tensor into pieces of at most cap bytes. */
typedef struct {
    size_t t;
    int64_t b, e;
    uint64_t off;
} chunk;

typedef struct {
    const nninit_model_write_opts *o;
    uint64_t done, total;
    void *buf[2];
    size_t cap;
    int part, parts;
} write_ctx;

/* Chunks cut each tensor into pieces of at most cap bytes, except a tensor
 * whose scheme fills whole tensors only (orthogonal, sparse): one chunk, as
 * big as the tensor (whole_bytes gives the buffers that room). */
static int64_t chunk_elems(const nninit_model_tensor *e, size_t cap) {
    const int64_t numel = (int64_t)(tensor_bytes(e) / nninit__model_elem_size(e));
    if (!nninit_scheme_is_elementwise(e->spec.scheme)) return numel > 0 ? numel : 1;
    return (int64_t)(cap / nninit__model_elem_size(e));
}

static uint64_t whole_bytes(const nninit_model *m) {
    uint64_t most = 0;
    for (size_t i = 0; i < m->nt; i++)
        if (!nninit_scheme_is_elementwise(m->t[i].spec.scheme) && tensor_bytes(&m->t[i]) > most)
            most = tensor_bytes(&m->t[i]);
    return most;
}

static size_t count_chunks(const nninit_model *m, size_t lo, size_t hi, size_t cap) {
    size_t n = 0;
    for (size_t i = lo; i < hi; i++) {
        const uint64_t per = (uint64_t)chunk_elems(&m->t[i], cap),
                       numel = tensor_bytes(&m->t[i]) / nninit__model_elem_size(&m->t[i]);
        n += (size_t)((numel + per - 1) / per);
    }
    return n;
}

static void list_chunks(const nninit_model *m, size_t lo, size_t hi, size_t cap, chunk *c) {
    uint64_t off = 0;
    for (size_t i = lo; i < hi; i++) {
        const size_t es = nninit__model_elem_size(&m->t[i]);
        const int64_t numel = (int64_t)(tensor_bytes(&m->t[i]) / es), per = chunk_elems(&m->t[i], cap);
        for (int64_t b = 0; b < numel; b += per, c++) {
            *c = (chunk){i, b, numel - b < per ? numel : b + per, off};
            off += (uint64_t)(c->e - c->b) * es;
        }
    }
}

static nninit_status fill_chunk(const nninit_model *m, uint64_t seed, const chunk *k, void *buf, write_ctx *c) {
    return nninit_model_fill(m, k->t, seed, k->b, k->e, buf, c->o->threads);
}

static size_t chunk_bytes(const nninit_model *m, const chunk *k) {
    return (size_t)(k->e - k->b) * nninit__model_elem_size(&m->t[k->t]);
}

static void progress(write_ctx *c, uint64_t bytes) {
    c->done += bytes;
    if (c->o->progress) c->o->progress(c->o->progress_ctx, c->done, c->total);
}

/* ---- local files: a writer thread appends chunk k while chunk k+1 fills --- */

/* A local file being written: a safetensors or an .npz writer. */
typedef struct {
    void *w;
    nninit_status (*append)(void *w, const void *data, size_t bytes);
    nninit_status (*commit)(void *w);
    void (*abort)(void *w);
} out_file;

static nninit_status st_append(void *w, const void *d, size_t n) { return nninit_st_writer_append(w, d, n); }
static nninit_status st_commit(void *w) { return nninit_st_writer_commit(w); }
static void st_abort(void *w) { nninit_st_writer_abort(w); }
static nninit_status npz_append(void *w, const void *d, size_t n) { return nninit_npz_writer_append(w, d, n); }
static nninit_status npz_commit(void *w) { return nninit_npz_writer_commit(w); }
static void npz_abort(void *w) { nninit_npz_writer_abort(w); }

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const out_file *f;
    const void *data; /* the chunk to append; NULL: none pending */
    size_t len;
    int quit;
    nninit_status st; /* the first append error, with its message in why */
    char why[512];
} appender;

static void *append_loop(void *arg) {
    appender *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->data && !a->quit) pthread_cond_wait(&a->cv, &a->mu);
        if (!a->data) break;
        const void *d = a->data;
        size_t len = a->len;
        pthread_mutex_unlock(&a->mu);
        nninit_status st = a->st ? a->st : a->f->append(a->f->w, d, len);
        pthread_mutex_lock(&a->mu);
        if (st && !a->st) {
            a->st = st;
            snprintf(a->why, sizeof a->why, "%s", nninit_last_error());
        }
        a->data = NULL;
        pthread_cond_broadcast(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* Wait until the appender holds no chunk; its status. */
static nninit_status append_wait(appender *a) {
    pthread_mutex_lock(&a->mu);
    while (a->data) pthread_cond_wait(&a->cv, &a->mu);
    nninit_status st = a->st;
    pthread_mutex_unlock(&a->mu);
    return st;
}

static void append_post(appender *a, const void *data, size_t len) {
    pthread_mutex_lock(&a->mu);
    a->data = data, a->len = len;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

/* Tensors [lo, hi) into the open file f, committed (or aborted on error). */
static nninit_status write_local(const nninit_model *m, uint64_t seed, const out_file *f, size_t lo, size_t hi,
                                 write_ctx *c) {
    nninit_status st = NNINIT_OK;
    const size_t nk = count_chunks(m, lo, hi, c->cap);
    chunk *k = malloc((nk ? nk : 1) * sizeof *k);
    if (!k) {
        f->abort(f->w);
        return nninit__err(NNINIT_ERR_NOMEM, "checkpoint: out of memory");
    }
    list_chunks(m, lo, hi, c->cap, k);
    appender a = {.f = f};
    pthread_t th;
    int threaded = pthread_mutex_init(&a.mu, NULL) == 0;
    if (threaded && pthread_cond_init(&a.cv, NULL) != 0) {
        pthread_mutex_destroy(&a.mu);
        threaded = 0;
    }
    if (threaded && pthread_create(&th, NULL, append_loop, &a) != 0) {
        pthread_cond_destroy(&a.cv);
        pthread_mutex_destroy(&a.mu);
        threaded = 0;
    }
    /* Without a thread (none could start) the same chunks are appended in
     * line: the bytes are the same, only the overlap is lost. */
    for (size_t j = 0; j < nk && !st; j++) {
        void *buf = c->buf[j & 1];
        /* buf held chunk j-2, appended before chunk j-1 was posted: fill it
         * while the appender writes chunk j-1, then wait for that */
        if ((st = fill_chunk(m, seed, &k[j], buf, c))) break;
        if (threaded && (st = append_wait(&a))) {
            st = nninit__err(st, "%s", a.why);
            break;
        }
        if (threaded) append_post(&a, buf, chunk_bytes(m, &k[j]));
        else st = f->append(f->w, buf, chunk_bytes(m, &k[j]));
        progress(c, chunk_bytes(m, &k[j]));
    }
    if (threaded) {
        nninit_status wst = append_wait(&a);
        if (wst && !st) st = nninit__err(wst, "%s", a.why);
        pthread_mutex_lock(&a.mu);
        a.quit = 1;
        pthread_cond_broadcast(&a.cv);
        pthread_mutex_unlock(&a.mu);
        pthread_join(th, NULL);
        pthread_cond_destroy(&a.cv);
        pthread_mutex_destroy(&a.mu);
    }
    free(k);
    if (st) {
        f->abort(f->w);
        return st;
    }
    return f->commit(f->w);
}

/* ---- a sink: rounds of `parts` chunks, one per part ----------------------- */

static nninit_status write_sink(const nninit_model *m, uint64_t seed, const char *path, const nninit_st_tensor *ts,
                                size_t lo, size_t hi, const nninit_st_meta *meta, write_ctx *c) {
    const nninit_model_sink *sk = c->o->sink;
    void *ctx = c->o->sink_ctx;
    unsigned char *header = NULL;
    size_t hlen = 0;
    uint64_t data = 0;
    nninit_status st = nninit_st_header(ts, hi - lo, meta, 2, &header, &hlen, NULL, &data);
    if (st) return st;
    st = sk->open(ctx, path, header, hlen, hlen + data);
    free(header);
    if (st) return st;
    const size_t nk = count_chunks(m, lo, hi, c->cap);
    chunk *k = malloc((nk ? nk : 1) * sizeof *k);
    if (!k) {
        sk->abort(ctx);
        return nninit__err(NNINIT_ERR_NOMEM, "checkpoint: out of memory");
    }
    list_chunks(m, lo, hi, c->cap, k);
    const size_t P = (size_t)c->parts, rounds = (nk + P - 1) / P;
    for (size_t r = 0; r < rounds && !st; r++) {
        const size_t j = r * P + (size_t)c->part;
        if (j < nk && (st = fill_chunk(m, seed, &k[j], c->buf[0], c))) break;
        const size_t len = j < nk ? chunk_bytes(m, &k[j]) : 0;
        st = sk->write(ctx, j < nk ? hlen + k[j].off : hlen + data, c->buf[0], len);
        /* progress of the whole write: every part's chunk of the round */
        for (size_t q = r * P; !st && q < nk && q < (r + 1) * P; q++) progress(c, chunk_bytes(m, &k[q]));
    }
    free(k);
    if (st) {
        sk->abort(ctx);
        return st;
    }
    return sk->commit(ctx);
}

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
        ts[i].dtype = nninit__model_st_dtype(e);
        ts[i].ndim = e->tensor.ndim;
        memcpy(ts[i].shape, e->tensor.shape, sizeof ts[i].shape);
    }
    const nninit_st_meta meta[2] = {{"format", "pt"}, {"nninit", man}};
    nninit_status st;
    if (c->o->sink) {
        st = write_sink(m, seed, path, ts, lo, hi, meta, c);
    } else {
        nninit_st_writer *w = NULL;
        st = nninit_st_writer_open(&w, path, ts, n, meta, 2);
        const out_file f = {w, st_append, st_commit, st_abort};
        if (!st) st = write_local(m, seed, &f, lo, hi, c);
    }
    free(ts);
    free(man);
    return st;
}

/* The model as one .npz: a member "<name>.npy" per tensor (np.load(path)[name]),
 * float dtypes only (bf16 as '<u2' bits, as .npy), no manifest (a zip has no
 * metadata; nninit verify reads safetensors). */
static nninit_status write_npz(const nninit_model *m, uint64_t seed, const char *path, write_ctx *c) {
    nninit_npz_array *arr = calloc(m->nt ? m->nt : 1, sizeof *arr);
    if (!arr) return nninit__err(NNINIT_ERR_NOMEM, "checkpoint: out of memory");
    nninit_status st = NNINIT_OK;
    for (size_t i = 0; i < m->nt && !st; i++) {
        const nninit_model_tensor *e = &m->t[i];
        nninit_dtype d;
        if (nninit_st_fill_dtype(nninit__model_st_dtype(e), &d) != NNINIT_OK) {
            st =
                nninit__err(NNINIT_ERR_FORMAT,
                            "checkpoint: tensor '%s' is %s: .npz holds f32, f64, f16 and bf16 here; write .safetensors",
                            e->name, nninit_model_dtype_name(e->dtype));
            break;
        }
        arr[i].name = e->name;
        arr[i].dtype = d;
        arr[i].ndim = e->tensor.ndim;
        memcpy(arr[i].shape, e->tensor.shape, sizeof arr[i].shape);
    }
    nninit_npz_writer *w = NULL;
    if (!st) st = nninit_npz_writer_open(&w, path, arr, m->nt, NULL);
    free(arr);
    if (st) return st;
    const out_file f = {w, npz_append, npz_commit, npz_abort};
    return write_local(m, seed, &f, 0, m->nt, c);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

nninit_status nninit_model_write(const nninit_model *m, uint64_t seed, const char *path,
                                 const nninit_model_write_opts *opts, uint64_t *bytes_written) {
    if (!m || !path) return nninit__err(NNINIT_ERR_NULL, "checkpoint: NULL argument");
    if (!m->resolved) return nninit__err(NNINIT_ERR_FORMAT, "checkpoint: the model is not resolved");
    const nninit_model_write_opts dflt = {0};
    const nninit_model_write_opts *o = opts ? opts : &dflt;
    if (o->threads < 0) return nninit__err(NNINIT_ERR_PARAM, "checkpoint: threads (%d) must be >= 0", o->threads);
    const int parts = o->parts ? o->parts : 1;
    if (parts < 0 || (parts > 1 && !o->sink) || o->part < 0 || o->part >= parts)
        return nninit__err(NNINIT_ERR_PARAM, "checkpoint: part %d of %d%s", o->part, o->parts,
                           parts > 1 && !o->sink ? " needs a sink" : " is not a part");
    if (o->sink && (!o->sink->open || !o->sink->write || !o->sink->commit || !o->sink->abort))
        return nninit__err(NNINIT_ERR_NULL, "checkpoint: the sink lacks a function");
    write_ctx c = {o, 0, 0, {NULL, NULL}, o->chunk_bytes ? o->chunk_bytes : DEFAULT_CHUNK, o->part, parts};
    if (c.cap < 64) c.cap = 64;
    c.cap -= c.cap % 64; /* whole cache lines of every dtype */
    for (size_t i = 0; i < m->nt; i++) c.total += tensor_bytes(&m->t[i]);
    /* room for the largest whole-tensor chunk (orthogonal, sparse) too */
    const uint64_t room = whole_bytes(m) > c.cap ? whole_bytes(m) : c.cap;
#if SIZE_MAX < UINT64_MAX
    if (room > SIZE_MAX)
        return nninit__err(NNINIT_ERR_NOMEM, "checkpoint: a %llu-byte tensor does not fit in memory",
                           (unsigned long long)room);
#endif
    c.buf[0] = malloc((size_t)room);
    c.buf[1] = o->sink ? NULL : malloc((size_t)room);
    if (!c.buf[0] || (!o->sink && !c.buf[1])) {
        free(c.buf[0]);
        free(c.buf[1]);
        return nninit__err(NNINIT_ERR_NOMEM, "checkpoint: cannot allocate two %llu-byte chunks",
                           (unsigned long long)room);
    }

    nninit_status st = NNINIT_OK;
    if (ends_with(path, ".npz")) {
        if (o->max_shard_bytes || o->sink)
            st =
                nninit__err(NNINIT_ERR_PARAM, "checkpoint: an .npz is one local file: no shards, no sink ('%s')", path);
        else st = write_npz(m, seed, path, &c);
        goto done;
    }
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
        if (!st && c.part == 0) {
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
    free(c.buf[0]);
    free(c.buf[1]);
    if (!st && bytes_written) *bytes_written = c.total;
    return st;
}

/*
 * safetensors.c -- safetensors checkpoints (include/nninit_checkpoint.h):
 * the header, the streaming writer, the validating reader, and the shard
 * index model.safetensors.index.json.
 *
 * Format (https://github.com/huggingface/safetensors, README "Format"): an
 * 8-byte little-endian header length N, N bytes of UTF-8 JSON beginning with
 * '{' and padded with spaces, then the data. The header is written as the
 * reference implementation (serde_json, compact) writes it:
 *     {"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}
 * with N a multiple of 8.
 *
 * Reading is strict where the reference reader is (valid UTF-8, '{' first,
 * contiguous offsets from 0 that end exactly at the end of the file, unsigned
 * integers written as integers) and, like it, ignores unknown fields of an
 * entry. cJSON reads numbers as doubles: shape entries and offsets must be
 * below 2^53 (8 PiB), where a double holds every integer exactly, and the
 * header's text is scanned once more so that a shape entry or offset written
 * "1.0", "1e3" or "-0" (which cJSON reads as integers) is refused. A NUL
 * (raw, or "\u0000") cannot be part of a C string and is refused too.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "internal.h"
#include "io/atomic.h"
#include "nninit_checkpoint.h"

#define ST_EXACT_MAX    ((uint64_t)1 << 53) /* integers below this are exact in a double */
#define ST_INDEX_MAX    ((uint64_t)256 << 20)
#define ST_WRITE_BUFFER ((size_t)1 << 16)

/* ---- dtypes ----------------------------------------------------------------- */

static const struct {
    const char *name;
    size_t size;
} st_dtypes[NNINIT_ST_DTYPE_COUNT] = {
    [NNINIT_ST_F32] = {"F32", 4},   [NNINIT_ST_F64] = {"F64", 8},         [NNINIT_ST_BF16] = {"BF16", 2},
    [NNINIT_ST_F16] = {"F16", 2},   [NNINIT_ST_I8] = {"I8", 1},           [NNINIT_ST_U8] = {"U8", 1},
    [NNINIT_ST_I16] = {"I16", 2},   [NNINIT_ST_U16] = {"U16", 2},         [NNINIT_ST_I32] = {"I32", 4},
    [NNINIT_ST_U32] = {"U32", 4},   [NNINIT_ST_I64] = {"I64", 8},         [NNINIT_ST_U64] = {"U64", 8},
    [NNINIT_ST_BOOL] = {"BOOL", 1}, [NNINIT_ST_F8_E4M3] = {"F8_E4M3", 1}, [NNINIT_ST_F8_E5M2] = {"F8_E5M2", 1},
};

const char *nninit_st_dtype_name(nninit_st_dtype d) {
    return (unsigned)d < NNINIT_ST_DTYPE_COUNT ? st_dtypes[d].name : NULL;
}

size_t nninit_st_dtype_size(nninit_st_dtype d) { return (unsigned)d < NNINIT_ST_DTYPE_COUNT ? st_dtypes[d].size : 0; }

nninit_status nninit_st_dtype_parse(const char *name, nninit_st_dtype *out) {
    if (!name || !out) return nninit__err(NNINIT_ERR_NULL, "st_dtype_parse: %s is NULL", !name ? "name" : "out");
    for (int d = 0; d < NNINIT_ST_DTYPE_COUNT; d++)
        if (strcmp(name, st_dtypes[d].name) == 0) {
            *out = (nninit_st_dtype)d;
            return NNINIT_OK;
        }
    return nninit__err(NNINIT_ERR_UNKNOWN_NAME, "st_dtype_parse: unknown safetensors dtype '%.64s'", name);
}

nninit_st_dtype nninit_st_dtype_of(nninit_dtype d) {
    switch (d) {
    case NNINIT_F32: return NNINIT_ST_F32;
    case NNINIT_F64: return NNINIT_ST_F64;
    case NNINIT_BF16: return NNINIT_ST_BF16;
    case NNINIT_F16: return NNINIT_ST_F16;
    }
    return NNINIT_ST_DTYPE_COUNT;
}

nninit_status nninit_st_fill_dtype(nninit_st_dtype d, nninit_dtype *out) {
    if (!out) return nninit__err(NNINIT_ERR_NULL, "st_fill_dtype: out is NULL");
    switch (d) {
    case NNINIT_ST_F32: *out = NNINIT_F32; return NNINIT_OK;
    case NNINIT_ST_F64: *out = NNINIT_F64; return NNINIT_OK;
    case NNINIT_ST_BF16: *out = NNINIT_BF16; return NNINIT_OK;
    case NNINIT_ST_F16: *out = NNINIT_F16; return NNINIT_OK;
    default: break;
    }
    const char *name = nninit_st_dtype_name(d);
    if (name) return nninit__err(NNINIT_ERR_DTYPE, "st_fill_dtype: nninit cannot fill %s tensors", name);
    return nninit__err(NNINIT_ERR_DTYPE, "st_fill_dtype: unknown safetensors dtype %d", (int)d);
}

/* ---- text helpers ------------------------------------------------------------- */

/* The offset of the first byte of s[0, n) that is not part of well-formed
 * UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF), or n. */
static size_t utf8_bad_at(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) k = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        } else return i;
        if (n - i <= k) return i;
        if (s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t j = 2; j <= k; j++)
            if ((s[i + j] & 0xc0) != 0x80) return i;
        i += k + 1;
    }
    return n;
}

static int utf8_ok(const char *s) {
    size_t n = strlen(s);
    return utf8_bad_at((const unsigned char *)s, n) == n;
}

/* A growing buffer; a failed allocation is remembered and ends every append. */
typedef struct {
    char *p;
    size_t n, cap;
    int nomem;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->nomem) return;
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 256;
        while (n > cap - b->n) {
            if (cap > SIZE_MAX / 2) {
                b->nomem = 1;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            b->nomem = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void sb_lit(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_u64(sbuf *b, uint64_t v) {
    char t[24];
    int w = snprintf(t, sizeof t, "%llu", (unsigned long long)v);
    sb_put(b, t, (size_t)w);
}

/* A JSON string as serde_json writes it: '"' and '\' escaped, control
 * characters as \b \t \n \f \r or \u00xx, everything else as is (UTF-8). */
static void sb_str(sbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (const char *run = s;; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        sb_put(b, run, (size_t)(s - run));
        if (!c) break;
        char e[8];
        switch (c) {
        case '"': sb_lit(b, "\\\""); break;
        case '\\': sb_lit(b, "\\\\"); break;
        case '\b': sb_lit(b, "\\b"); break;
        case '\t': sb_lit(b, "\\t"); break;
        case '\n': sb_lit(b, "\\n"); break;
        case '\f': sb_lit(b, "\\f"); break;
        case '\r': sb_lit(b, "\\r"); break;
        default: snprintf(e, sizeof e, "\\u%04x", c); sb_lit(b, e);
        }
        run = s + 1;
    }
    sb_put(b, "\"", 1);
}

static int cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first name of names[0, n) that occurs twice, or NULL; *nomem on
 * allocation failure. */
static const char *first_duplicate(const char **names, size_t n, int *nomem) {
    *nomem = 0;
    if (n < 2) return NULL;
    const char **s = malloc(n * sizeof *s);
    if (!s) {
        *nomem = 1;
        return NULL;
    }
    memcpy(s, names, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_str_ptr);
    const char *dup = NULL;
    for (size_t i = 1; i < n && !dup; i++)
        if (strcmp(s[i - 1], s[i]) == 0) dup = s[i];
    free(s);
    return dup;
}

/* Bytes of a tensor: product of its shape times the dtype's size. 0 if the
 * shape is bad (FORMAT, message set), 1 if it overflows uint64, else 2. */
static int tensor_bytes(const char *who, const char *name, nninit_st_dtype dtype, int ndim, const int64_t *shape,
                        uint64_t *bytes) {
    if ((unsigned)dtype >= NNINIT_ST_DTYPE_COUNT) {
        nninit__err(NNINIT_ERR_FORMAT, "%s: tensor '%s': unknown dtype %d", who, name, (int)dtype);
        return 0;
    }
    if (ndim < 0 || ndim > NNINIT_MAX_DIMS) {
        nninit__err(NNINIT_ERR_FORMAT, "%s: tensor '%s': ndim %d outside 0..%d", who, name, ndim, NNINIT_MAX_DIMS);
        return 0;
    }
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0 || (uint64_t)shape[i] >= ST_EXACT_MAX) {
            nninit__err(NNINIT_ERR_FORMAT, "%s: tensor '%s': shape[%d] = %lld outside 0..2^53-1", who, name, i,
                        (long long)shape[i]);
            return 0;
        }
    /* a zero dimension anywhere makes the tensor empty, whatever the others */
    uint64_t b = st_dtypes[dtype].size;
    int over = 0;
    for (int i = 0; i < ndim; i++)
        if (shape[i] == 0) b = 0;
    for (int i = 0; i < ndim && b; i++) {
        if ((uint64_t)shape[i] > UINT64_MAX / b) {
            over = 1;
            break;
        }
        b *= (uint64_t)shape[i];
    }
    *bytes = b;
    return over ? 1 : 2;
}

/* ---- header ----------------------------------------------------------------------- */

nninit_status nninit_st_header(const nninit_st_tensor *tensors, size_t n, const nninit_st_meta *meta, size_t nmeta,
                               unsigned char **out, size_t *len, uint64_t *offsets, uint64_t *data_bytes) {
    static const char who[] = "st_header";
    if ((!tensors && n) || (!meta && nmeta) || !out || !len)
        return nninit__err(NNINIT_ERR_NULL, "%s: %s is NULL", who,
                           !tensors && n    ? "tensors"
                           : !meta && nmeta ? "meta"
                           : !out           ? "out"
                                            : "len");
    if (n > SIZE_MAX / sizeof(const char *) || nmeta > SIZE_MAX / sizeof(const char *))
        return nninit__err(NNINIT_ERR_OVERFLOW, "%s: too many entries", who);

    /* every check first: nothing is written to offsets on error */
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const nninit_st_tensor *t = &tensors[i];
        if (!t->name) return nninit__err(NNINIT_ERR_NULL, "%s: tensors[%zu].name is NULL", who, i);
        size_t nl = strlen(t->name);
        if (nl == 0) return nninit__err(NNINIT_ERR_FORMAT, "%s: tensors[%zu] has an empty name", who, i);
        if (nl > NNINIT_ST_MAX_NAME)
            return nninit__err(NNINIT_ERR_FORMAT, "%s: tensors[%zu]: name of %zu bytes (at most %d)", who, i, nl,
                               NNINIT_ST_MAX_NAME);
        if (strcmp(t->name, "__metadata__") == 0)
            return nninit__err(NNINIT_ERR_FORMAT, "%s: tensors[%zu] is named __metadata__, the metadata's key", who, i);
        if (!utf8_ok(t->name))
            return nninit__err(NNINIT_ERR_FORMAT, "%s: tensors[%zu]: name is not valid UTF-8", who, i);
        uint64_t b;
        int r = tensor_bytes(who, t->name, t->dtype, t->ndim, t->shape, &b);
        if (r == 0) return NNINIT_ERR_FORMAT;
        if (r == 1 || b > ST_EXACT_MAX - 1 - total)
            return nninit__err(NNINIT_ERR_OVERFLOW, "%s: tensor '%s': the data's size overflows (2^53 bytes at most)",
                               who, t->name);
        total += b;
    }
    for (size_t i = 0; i < nmeta; i++) {
        if (!meta[i].key || !meta[i].value)
            return nninit__err(NNINIT_ERR_NULL, "%s: meta[%zu].%s is NULL", who, i, !meta[i].key ? "key" : "value");
        if (!utf8_ok(meta[i].key) || !utf8_ok(meta[i].value))
            return nninit__err(NNINIT_ERR_FORMAT, "%s: metadata '%s': not valid UTF-8", who, meta[i].key);
    }
    size_t most = n > nmeta ? n : nmeta;
    const char **names = malloc((most ? most : 1) * sizeof *names);
    if (!names) return nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
    int nomem;
    for (size_t i = 0; i < n; i++) names[i] = tensors[i].name;
    const char *dup = first_duplicate(names, n, &nomem);
    const char *kind = "tensor name";
    if (!dup && !nomem) {
        for (size_t i = 0; i < nmeta; i++) names[i] = meta[i].key;
        dup = first_duplicate(names, nmeta, &nomem);
        kind = "metadata key";
    }
    nninit_status s = NNINIT_OK;
    if (nomem) s = nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
    else if (dup) s = nninit__err(NNINIT_ERR_FORMAT, "%s: duplicate %s '%s'", who, kind, dup);
    free(names);
    if (s != NNINIT_OK) return s;

    sbuf b = {0};
    sb_put(&b, "\0\0\0\0\0\0\0\0", 8); /* the length, filled in below */
    sb_lit(&b, "{");
    if (nmeta) {
        sb_lit(&b, "\"__metadata__\":{");
        for (size_t i = 0; i < nmeta; i++) {
            if (i) sb_lit(&b, ",");
            sb_str(&b, meta[i].key);
            sb_lit(&b, ":");
            sb_str(&b, meta[i].value);
        }
        sb_lit(&b, "}");
    }
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const nninit_st_tensor *t = &tensors[i];
        uint64_t bytes;
        tensor_bytes(who, t->name, t->dtype, t->ndim, t->shape, &bytes);
        if (i || nmeta) sb_lit(&b, ",");
        sb_str(&b, t->name);
        sb_lit(&b, ":{\"dtype\":\"");
        sb_lit(&b, st_dtypes[t->dtype].name);
        sb_lit(&b, "\",\"shape\":[");
        for (int k = 0; k < t->ndim; k++) {
            if (k) sb_lit(&b, ",");
            sb_u64(&b, (uint64_t)t->shape[k]);
        }
        sb_lit(&b, "],\"data_offsets\":[");
        sb_u64(&b, off);
        sb_lit(&b, ",");
        sb_u64(&b, off + bytes);
        sb_lit(&b, "]}");
        off += bytes;
    }
    sb_lit(&b, "}");
    while (!b.nomem && (b.n - 8) % 8) sb_lit(&b, " ");
    if (b.nomem) {
        free(b.p);
        return nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
    }
    uint64_t hlen = b.n - 8;
    if (hlen > NNINIT_ST_MAX_HEADER) {
        free(b.p);
        return nninit__err(NNINIT_ERR_FORMAT, "%s: a header of %llu bytes is over the readers' limit (%llu)", who,
                           (unsigned long long)hlen, (unsigned long long)NNINIT_ST_MAX_HEADER);
    }
    for (int k = 0; k < 8; k++) b.p[k] = (char)(unsigned char)(hlen >> (8 * k));

    if (offsets) {
        off = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t bytes;
            tensor_bytes(who, tensors[i].name, tensors[i].dtype, tensors[i].ndim, tensors[i].shape, &bytes);
            offsets[2 * i] = off;
            offsets[2 * i + 1] = off += bytes;
        }
    }
    if (data_bytes) *data_bytes = total;
    *out = (unsigned char *)b.p;
    *len = b.n;
    return NNINIT_OK;
}

/* ---- writing -------------------------------------------------------------------- */

struct nninit_st_writer {
    nninit__atomic tmp;
    char *path;
    uint64_t total, written;
    nninit_status failed; /* the first error; the temporary is gone then */
    char why[256];        /* and its message */
    size_t fill;          /* bytes in buf */
    unsigned char buf[ST_WRITE_BUFFER];
};

/* Records the error that ended w (the message nninit__err just set). */
static nninit_status writer_fail(nninit_st_writer *w, nninit_status s) {
    w->failed = s;
    snprintf(w->why, sizeof w->why, "%s", nninit_last_error());
    nninit__atomic_cancel(&w->tmp);
    return s;
}

static nninit_status writer_flush(nninit_st_writer *w) {
    int e = nninit__write_all(w->tmp.fd, w->buf, w->fill);
    w->fill = 0;
    if (e) return writer_fail(w, nninit__err(NNINIT_ERR_IO, "st_writer: write %s: %s", w->path, strerror(e)));
    return NNINIT_OK;
}

nninit_status nninit_st_writer_open(nninit_st_writer **w, const char *path, const nninit_st_tensor *tensors, size_t n,
                                    const nninit_st_meta *meta, size_t nmeta) {
    if (!w || !path) return nninit__err(NNINIT_ERR_NULL, "st_writer_open: %s is NULL", !w ? "w" : "path");
    unsigned char *header;
    size_t hlen;
    uint64_t total;
    nninit_status s = nninit_st_header(tensors, n, meta, nmeta, &header, &hlen, NULL, &total);
    if (s != NNINIT_OK) return s;
    nninit_st_writer *x = malloc(sizeof *x);
    char *p = x ? malloc(strlen(path) + 1) : NULL;
    if (!p) {
        free(x);
        free(header);
        return nninit__err(NNINIT_ERR_NOMEM, "st_writer_open: out of memory");
    }
    strcpy(p, path);
    x->path = p;
    x->total = total;
    x->written = 0;
    x->failed = NNINIT_OK;
    x->why[0] = '\0';
    x->fill = 0;
    s = nninit__atomic_begin(&x->tmp, path, "st_writer_open");
    if (s == NNINIT_OK) {
        int e = nninit__write_all(x->tmp.fd, header, hlen);
        if (e) {
            nninit__atomic_cancel(&x->tmp);
            s = nninit__err(NNINIT_ERR_IO, "st_writer_open: write %s: %s", path, strerror(e));
        }
    }
    free(header);
    if (s != NNINIT_OK) {
        free(x->path);
        free(x);
        return s;
    }
    *w = x;
    return NNINIT_OK;
}

nninit_status nninit_st_writer_append(nninit_st_writer *w, const void *data, size_t bytes) {
    if (!w) return nninit__err(NNINIT_ERR_NULL, "st_writer_append: w is NULL");
    if (w->failed) return nninit__err(w->failed, "st_writer_append: the writer failed before: %s", w->why);
    if (bytes == 0) return NNINIT_OK;
    if (!data) return nninit__err(NNINIT_ERR_NULL, "st_writer_append: data is NULL");
    if (bytes > w->total - w->written)
        return writer_fail(w,
                           nninit__err(NNINIT_ERR_FORMAT,
                                       "st_writer_append: %s: %zu bytes more, after %llu of the %llu the header "
                                       "announced",
                                       w->path, bytes, (unsigned long long)w->written, (unsigned long long)w->total));
    w->written += bytes;
    if (bytes <= ST_WRITE_BUFFER - w->fill) {
        memcpy(w->buf + w->fill, data, bytes);
        w->fill += bytes;
        return w->fill == ST_WRITE_BUFFER ? writer_flush(w) : NNINIT_OK;
    }
    if (w->fill && writer_flush(w) != NNINIT_OK) return w->failed;
    if (bytes < ST_WRITE_BUFFER) {
        memcpy(w->buf, data, bytes);
        w->fill = bytes;
        return NNINIT_OK;
    }
    int e = nninit__write_all(w->tmp.fd, data, bytes);
    if (e) return writer_fail(w, nninit__err(NNINIT_ERR_IO, "st_writer_append: write %s: %s", w->path, strerror(e)));
    return NNINIT_OK;
}

static void writer_free(nninit_st_writer *w) {
    nninit__atomic_cancel(&w->tmp);
    free(w->path);
    free(w);
}

nninit_status nninit_st_writer_commit(nninit_st_writer *w) {
    if (!w) return nninit__err(NNINIT_ERR_NULL, "st_writer_commit: w is NULL");
    nninit_status s;
    if (w->failed) s = nninit__err(w->failed, "st_writer_commit: the writer failed before: %s", w->why);
    else if (w->written != w->total)
        s = nninit__err(NNINIT_ERR_FORMAT, "st_writer_commit: %s: %llu of the %llu data bytes appended", w->path,
                        (unsigned long long)w->written, (unsigned long long)w->total);
    else if (w->fill && writer_flush(w) != NNINIT_OK) s = w->failed;
    else s = nninit__atomic_commit(&w->tmp, w->path, "st_writer_commit");
    writer_free(w);
    return s;
}

void nninit_st_writer_abort(nninit_st_writer *w) {
    if (w) writer_free(w);
}

/* ---- reading --------------------------------------------------------------------- */

struct nninit_st_file {
    int fd; /* -1 for nninit_st_parse */
    uint64_t data_start;
    size_t n, nmeta;
    nninit_st_tensor *tensors; /* file order */
    size_t *by_name;           /* indices into tensors, by name */
    nninit_st_meta *meta;      /* header order */
    char *pool;                /* every string */
};

void nninit_st_close(nninit_st_file *f) {
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    free(f->tensors);
    free(f->by_name);
    free(f->meta);
    free(f->pool);
    free(f);
}

/* What cJSON does not say about the text it parsed: the numbers (outside
 * strings) that it reads as integers but that are not written as unsigned
 * integers ("1.0", "1e3", "-0", "01"), by their index in document order, and
 * the first "\u0000" in a string. */
typedef struct {
    size_t index, at, len;
} lex_num;

typedef struct {
    const char *text;
    size_t nul_at; /* SIZE_MAX: none */
    lex_num *bad;  /* by index */
    size_t nbad, cap;
} lex_info;

/* Scans text cJSON has accepted. 0 on allocation failure. */
static int lex_scan(const char *s, size_t n, lex_info *r) {
    memset(r, 0, sizeof *r);
    r->text = s;
    r->nul_at = SIZE_MAX;
    size_t index = 0;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c == '"') {
            for (i++; i < n && s[i] != '"'; i++)
                if (s[i] == '\\') {
                    if (i + 5 < n && s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0 && r->nul_at == SIZE_MAX)
                        r->nul_at = i;
                    i++;
                }
            i++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i;
            int bad = 0;
            while (j < n && s[j] && strchr("+-.eE0123456789", s[j])) {
                if (strchr("+-.eE", s[j])) bad = 1;
                j++;
            }
            if (j - i > 1 && s[i] == '0') bad = 1;
            if (bad) {
                if (r->nbad == r->cap) {
                    size_t cap = r->cap ? 2 * r->cap : 16;
                    lex_num *p = realloc(r->bad, cap * sizeof *p);
                    if (!p) return 0;
                    r->bad = p;
                    r->cap = cap;
                }
                r->bad[r->nbad++] = (lex_num){index, i, j - i};
            }
            index++;
            i = j;
        } else {
            i++;
        }
    }
    return 1;
}

/* Numbers every number node of the tree in document order (in valueint,
 * which cJSON only fills for the caller's convenience): the index lex_scan
 * counted. cJSON's nesting limit (1000) bounds the recursion. */
static void lex_number_nodes(cJSON *node, int *k) {
    for (cJSON *c = node->child; c; c = c->next) {
        if (cJSON_IsNumber(c)) c->valueint = (*k)++;
        else if (c->child) lex_number_nodes(c, k);
    }
}

/* A JSON number that is an unsigned integer below 2^53 (exact in a double),
 * written as one. */
static int json_u53(const lex_info *lx, const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(d >= 0 && d < (double)ST_EXACT_MAX)) return 0;
    uint64_t u = (uint64_t)d;
    if ((double)u != d) return 0;
    size_t lo = 0, hi = lx->nbad, idx = (size_t)v->valueint;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lx->bad[mid].index == idx) return 0;
        if (lx->bad[mid].index < idx) lo = mid + 1;
        else hi = mid;
    }
    *out = u;
    return 1;
}

/* Checks the raw text before cJSON reads it: UTF-8, no NUL byte. */
static nninit_status text_check(const char *who, const char *s, size_t n) {
    const void *z = memchr(s, '\0', n);
    if (z) return nninit__err(NNINIT_ERR_FORMAT, "%s: a NUL byte at byte %zu", who, (size_t)((const char *)z - s));
    size_t bad = utf8_bad_at((const unsigned char *)s, n);
    if (bad != n) return nninit__err(NNINIT_ERR_FORMAT, "%s: not valid UTF-8 at byte %zu", who, bad);
    return NNINIT_OK;
}

/* Parses n bytes of JSON text, the whole text one object then whitespace,
 * scans it (lex_scan) and numbers the tree's numbers. The caller frees
 * lx->bad and the tree. */
static nninit_status json_parse(const char *who, const char *s, size_t n, cJSON **out, lex_info *lx) {
    nninit_status st = text_check(who, s, n);
    if (st != NNINIT_OK) return st;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    if (!root) {
        size_t at = end && end >= s && end <= s + n ? (size_t)(end - s) : 0;
        return nninit__err(NNINIT_ERR_FORMAT, "%s: bad JSON at byte %zu", who, at);
    }
    for (const char *p = end; p < s + n; p++)
        if (!strchr(" \t\r\n", *p)) {
            cJSON_Delete(root); /* p points into s, not into the tree */
            return nninit__err(NNINIT_ERR_FORMAT, "%s: text after the JSON value at byte %zu", who, (size_t)(p - s));
        }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return nninit__err(NNINIT_ERR_FORMAT, "%s: not a JSON object", who);
    }
    if (!lex_scan(s, n, lx)) {
        free(lx->bad);
        cJSON_Delete(root);
        return nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
    }
    if (lx->nul_at != SIZE_MAX) {
        free(lx->bad);
        cJSON_Delete(root);
        return nninit__err(NNINIT_ERR_FORMAT, "%s: a string holds \\u0000 (at byte %zu)", who, lx->nul_at);
    }
    int k = 0;
    lex_number_nodes(root, &k);
    *out = root;
    return NNINIT_OK;
}

/* Appends s (and its NUL) to the pool; returns where. */
static const char *pool_add(char **pool, const char *s) {
    size_t n = strlen(s) + 1;
    memcpy(*pool, s, n);
    const char *r = *pool;
    *pool += n;
    return r;
}

typedef struct {
    nninit_st_tensor t;
    size_t idx; /* header order, the tie-break of equal offsets */
} st_entry;

static int cmp_entry(const void *pa, const void *pb) {
    const st_entry *a = pa, *b = pb;
    if (a->t.begin != b->t.begin) return a->t.begin < b->t.begin ? -1 : 1;
    if (a->t.end != b->t.end) return a->t.end < b->t.end ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* qsort has no context argument */
static _Thread_local const nninit_st_tensor *tl_sort_tensors;

static int cmp_by_name(const void *pa, const void *pb) {
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    return strcmp(tl_sort_tensors[a].name, tl_sort_tensors[b].name);
}

/* One tensor entry of the header into e (strings into the pool). */
static nninit_status parse_entry(const char *who, const lex_info *lx, const cJSON *item, char **pool, st_entry *e) {
    const char *name = item->string;
    size_t nl = strlen(name);
    if (nl == 0) return nninit__err(NNINIT_ERR_FORMAT, "%s: a tensor with an empty name", who);
    if (nl > NNINIT_ST_MAX_NAME)
        return nninit__err(NNINIT_ERR_FORMAT, "%s: tensor '%.64s...': name of %zu bytes (nninit reads at most %d)", who,
                           name, nl, NNINIT_ST_MAX_NAME);
    if (!cJSON_IsObject(item)) return nninit__err(NNINIT_ERR_FORMAT, "%s: tensor '%s' is not an object", who, name);
    const cJSON *dtype = NULL, *shape = NULL, *offs = NULL;
    for (const cJSON *c = item->child; c; c = c->next) {
        const cJSON **slot = !strcmp(c->string, "dtype")          ? &dtype
                             : !strcmp(c->string, "shape")        ? &shape
                             : !strcmp(c->string, "data_offsets") ? &offs
                                                                  : NULL;
        if (!slot) continue; /* unknown fields are ignored, as by the reference reader */
        if (*slot) return nninit__err(NNINIT_ERR_FORMAT, "%s: tensor '%s': '%s' given twice", who, name, c->string);
        *slot = c;
    }
    if (!dtype || !shape || !offs)
        return nninit__err(NNINIT_ERR_FORMAT, "%s: tensor '%s' has no '%s'", who, name,
                           !dtype   ? "dtype"
                           : !shape ? "shape"
                                    : "data_offsets");
    if (!cJSON_IsString(dtype))
        return nninit__err(NNINIT_ERR_FORMAT, "%s: tensor '%s': dtype is not a string", who, name);
    nninit_st_dtype dt = NNINIT_ST_DTYPE_COUNT;
    for (int d = 0; d < NNINIT_ST_DTYPE_COUNT; d++)
        if (!strcmp(dtype->valuestring, st_dtypes[d].name)) dt = (nninit_st_dtype)d;
    if (dt == NNINIT_ST_DTYPE_COUNT)
        return nninit__err(NNINIT_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%.32s'", who, name, dtype->valuestring);
    if (!cJSON_IsArray(shape))
        return nninit__err(NNINIT_ERR_FORMAT, "%s: tensor '%s': shape is not an array", who, name);
    int ndim = 0;
    int64_t dims[NNINIT_MAX_DIMS];
    for (const cJSON *c = shape->child; c; c = c->next) {
        uint64_t v;
        if (ndim == NNINIT_MAX_DIMS)
            return nninit__err(NNINIT_ERR_FORMAT, "%s: tensor '%s': more than %d dimensions", who, name,
                               NNINIT_MAX_DIMS);
        if (!json_u53(lx, c, &v))
            return nninit__err(NNINIT_ERR_FORMAT, "%s: tensor '%s': shape[%d] is not an unsigned integer below 2^53",
                               who, name, ndim);
        dims[ndim++] = (int64_t)v;
    }
    uint64_t o[2];
    const cJSON *c0 = cJSON_IsArray(offs) ? offs->child : NULL;
    const cJSON *c1 = c0 ? c0->next : NULL;
    if (!c1 || c1->next || !json_u53(lx, c0, &o[0]) || !json_u53(lx, c1, &o[1]))
        return nninit__err(NNINIT_ERR_FORMAT,
                           "%s: tensor '%s': data_offsets is not [begin, end] (unsigned "
                           "integers below 2^53)",
                           who, name);
    if (o[0] > o[1])
        return nninit__err(NNINIT_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] end before they begin", who,
                           name, (unsigned long long)o[0], (unsigned long long)o[1]);
    uint64_t bytes;
    int r = tensor_bytes(who, name, dt, ndim, dims, &bytes);
    if (r == 0) return NNINIT_ERR_FORMAT;
    if (r == 1 || bytes != o[1] - o[0])
        return nninit__err(NNINIT_ERR_FORMAT,
                           "%s: tensor '%s': shape and dtype %s make %s%llu bytes, data_offsets [%llu, %llu] hold %llu",
                           who, name, st_dtypes[dt].name, r == 1 ? "more than " : "",
                           (unsigned long long)(r == 1 ? UINT64_MAX : bytes), (unsigned long long)o[0],
                           (unsigned long long)o[1], (unsigned long long)(o[1] - o[0]));
    memset(&e->t, 0, sizeof e->t);
    e->t.name = pool_add(pool, name);
    e->t.dtype = dt;
    e->t.ndim = ndim;
    memcpy(e->t.shape, dims, (size_t)ndim * sizeof dims[0]);
    e->t.begin = o[0];
    e->t.end = o[1];
    return NNINIT_OK;
}

/* Validates a header's JSON (hlen bytes) of a file whose data holds
 * data_size bytes, into f's tables. */
static nninit_status parse_header(const char *json, size_t hlen, uint64_t data_size, nninit_st_file *f) {
    static const char who[] = "safetensors header";
    if (hlen == 0 || json[0] != '{') return nninit__err(NNINIT_ERR_FORMAT, "%s: does not begin with '{'", who);
    cJSON *root;
    lex_info lex;
    nninit_status s = json_parse(who, json, hlen, &root, &lex);
    if (s != NNINIT_OK) return s;

    /* sizes: entries, metadata entries, string bytes */
    size_t n = 0, nmeta = 0, pool_bytes = 0;
    const cJSON *metadata = NULL;
    st_entry *ents = NULL;
    const char **keys = NULL;
    for (const cJSON *c = root->child; c; c = c->next) {
        if (strcmp(c->string, "__metadata__")) {
            n++;
            pool_bytes += strlen(c->string) + 1;
            continue;
        }
        if (metadata) {
            s = nninit__err(NNINIT_ERR_FORMAT, "%s: __metadata__ given twice", who);
            goto done;
        }
        if (!cJSON_IsObject(c)) {
            s = nninit__err(NNINIT_ERR_FORMAT, "%s: __metadata__ is not an object", who);
            goto done;
        }
        metadata = c;
        for (const cJSON *m = c->child; m; m = m->next) {
            if (!cJSON_IsString(m)) {
                s = nninit__err(NNINIT_ERR_FORMAT, "%s: __metadata__ '%s': the value is not a string", who, m->string);
                goto done;
            }
            nmeta++;
            pool_bytes += strlen(m->string) + strlen(m->valuestring) + 2;
        }
    }

    ents = malloc((n ? n : 1) * sizeof *ents);
    f->meta = malloc((nmeta ? nmeta : 1) * sizeof *f->meta);
    f->pool = malloc(pool_bytes ? pool_bytes : 1);
    f->tensors = malloc((n ? n : 1) * sizeof *f->tensors);
    f->by_name = malloc((n ? n : 1) * sizeof *f->by_name);
    keys = malloc((nmeta ? nmeta : 1) * sizeof *keys);
    if (!ents || !f->meta || !f->pool || !f->tensors || !f->by_name || !keys) {
        s = nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
        goto done;
    }
    char *pool = f->pool;
    size_t k = 0;
    for (const cJSON *c = root->child; c; c = c->next) {
        if (c == metadata) continue;
        s = parse_entry(who, &lex, c, &pool, &ents[k]);
        if (s != NNINIT_OK) goto done;
        ents[k].idx = k;
        k++;
    }
    size_t m = 0;
    if (metadata)
        for (const cJSON *c = metadata->child; c; c = c->next, m++) {
            f->meta[m].key = keys[m] = pool_add(&pool, c->string);
            f->meta[m].value = pool_add(&pool, c->valuestring);
        }
    int nomem;
    const char *dup = first_duplicate(keys, nmeta, &nomem);
    if (nomem || dup) {
        s = nomem ? nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who)
                  : nninit__err(NNINIT_ERR_FORMAT, "%s: duplicate __metadata__ key '%s'", who, dup);
        goto done;
    }

    /* file order; names; then contiguity */
    qsort(ents, n, sizeof *ents, cmp_entry);
    for (size_t i = 0; i < n; i++) {
        f->tensors[i] = ents[i].t;
        f->by_name[i] = i;
    }
    tl_sort_tensors = f->tensors;
    qsort(f->by_name, n, sizeof *f->by_name, cmp_by_name);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(f->tensors[f->by_name[i - 1]].name, f->tensors[f->by_name[i]].name)) {
            s = nninit__err(NNINIT_ERR_FORMAT, "%s: duplicate tensor name '%s'", who, f->tensors[f->by_name[i]].name);
            goto done;
        }
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const nninit_st_tensor *t = &f->tensors[i];
        if (t->end > data_size) {
            s = nninit__err(NNINIT_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%llu, %llu] beyond the data (%llu bytes)", who, t->name,
                            (unsigned long long)t->begin, (unsigned long long)t->end, (unsigned long long)data_size);
            goto done;
        }
        if (t->begin != at) {
            s = nninit__err(NNINIT_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%llu, %llu] %s the previous tensor's end %llu", who,
                            t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                            t->begin > at ? "leave a gap after" : "overlap", (unsigned long long)at);
            goto done;
        }
        at = t->end;
    }
    if (at != data_size) {
        s = nninit__err(NNINIT_ERR_FORMAT, "%s: %llu bytes after the last tensor's data (at %llu)", who,
                        (unsigned long long)(data_size - at), (unsigned long long)at);
        goto done;
    }
    f->n = n;
    f->nmeta = nmeta;
done:
    free(ents);
    free(keys);
    free(lex.bad);
    cJSON_Delete(root);
    return s;
}

static uint64_t le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--) v = v << 8 | p[k];
    return v;
}

/* The length of a header from its 8 bytes, checked against the limit and the
 * file's size. */
static nninit_status header_length(const unsigned char *p8, uint64_t file_size, uint64_t *hlen) {
    uint64_t n = le64(p8);
    if (n > NNINIT_ST_MAX_HEADER)
        return nninit__err(NNINIT_ERR_FORMAT, "safetensors: header length %llu is over the limit (%llu)",
                           (unsigned long long)n, (unsigned long long)NNINIT_ST_MAX_HEADER);
    if (n > file_size - 8)
        return nninit__err(NNINIT_ERR_FORMAT,
                           "safetensors: header length %llu goes beyond the end of the file (%llu bytes): truncated",
                           (unsigned long long)n, (unsigned long long)file_size);
    *hlen = n;
    return NNINIT_OK;
}

static nninit_st_file *file_new(void) {
    nninit_st_file *f = calloc(1, sizeof *f);
    if (f) f->fd = -1;
    return f;
}

nninit_status nninit_st_parse(const unsigned char *buf, size_t len, uint64_t file_size, nninit_st_file **out) {
    if (!buf || !out) return nninit__err(NNINIT_ERR_NULL, "st_parse: %s is NULL", !buf ? "buf" : "f");
    if (file_size < 8 || len < 8)
        return nninit__err(NNINIT_ERR_FORMAT, "safetensors: %llu bytes, not even the 8-byte header length: truncated",
                           (unsigned long long)(file_size < len ? file_size : len));
    uint64_t hlen = 0;
    nninit_status s = header_length(buf, file_size, &hlen);
    if (s != NNINIT_OK) return s;
    if (hlen > len - 8)
        return nninit__err(NNINIT_ERR_FORMAT, "st_parse: the buffer holds %zu bytes, the header needs %llu", len,
                           (unsigned long long)(hlen + 8));
    nninit_st_file *f = file_new();
    if (!f) return nninit__err(NNINIT_ERR_NOMEM, "st_parse: out of memory");
    f->data_start = 8 + hlen;
    s = parse_header((const char *)buf + 8, (size_t)hlen, file_size - f->data_start, f);
    if (s != NNINIT_OK) {
        nninit_st_close(f);
        return s;
    }
    *out = f;
    return NNINIT_OK;
}

nninit_status nninit_st_open(const char *path, nninit_st_file **out) {
    if (!path || !out) return nninit__err(NNINIT_ERR_NULL, "st_open: %s is NULL", !path ? "path" : "f");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nninit__err(NNINIT_ERR_IO, "st_open: %s: %s", path, strerror(errno));
    nninit_st_file *f = NULL;
    char *json = NULL;
    nninit_status s;
    struct stat st;
    unsigned char p8[8];
    uint64_t hlen = 0;
    int e;
    if (fstat(fd, &st) != 0) {
        s = nninit__err(NNINIT_ERR_IO, "st_open: %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        s = nninit__err(NNINIT_ERR_IO, "st_open: %s is not a regular file", path);
    } else if (st.st_size < 8) {
        s = nninit__err(NNINIT_ERR_FORMAT, "st_open: %s: %lld bytes, not even the 8-byte header length: truncated",
                        path, (long long)st.st_size);
    } else if ((e = nninit__pread_all(fd, p8, 8, 0)) != 0) {
        s = nninit__err(NNINIT_ERR_IO, "st_open: read %s: %s", path, strerror(e));
    } else if ((s = header_length(p8, (uint64_t)st.st_size, &hlen)) != NNINIT_OK) {
        nninit__err(s, "st_open: %s: %s", path, nninit_last_error());
    } else if (!(json = malloc(hlen ? (size_t)hlen : 1)) || !(f = file_new())) {
        s = nninit__err(NNINIT_ERR_NOMEM, "st_open: %s: out of memory", path);
    } else if ((e = nninit__pread_all(fd, json, (size_t)hlen, 8)) != 0) {
        s = nninit__err(NNINIT_ERR_IO, "st_open: read %s: %s", path, e == EIO ? "the file shrank" : strerror(e));
    } else {
        f->data_start = 8 + hlen;
        s = parse_header(json, (size_t)hlen, (uint64_t)st.st_size - f->data_start, f);
        if (s != NNINIT_OK) nninit__err(s, "st_open: %s: %s", path, nninit_last_error());
    }
    free(json);
    if (s != NNINIT_OK) {
        nninit_st_close(f);
        close(fd);
        return s;
    }
    f->fd = fd;
    *out = f;
    return NNINIT_OK;
}

size_t nninit_st_count(const nninit_st_file *f) { return f ? f->n : 0; }

const nninit_st_tensor *nninit_st_tensor_at(const nninit_st_file *f, size_t i) {
    return f && i < f->n ? &f->tensors[i] : NULL;
}

const nninit_st_tensor *nninit_st_find(const nninit_st_file *f, const char *name) {
    if (!f || !name) return NULL;
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const nninit_st_tensor *t = &f->tensors[f->by_name[mid]];
        int c = strcmp(name, t->name);
        if (c == 0) return t;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

size_t nninit_st_meta_count(const nninit_st_file *f) { return f ? f->nmeta : 0; }

const nninit_st_meta *nninit_st_meta_at(const nninit_st_file *f, size_t i) {
    return f && i < f->nmeta ? &f->meta[i] : NULL;
}

const char *nninit_st_meta_get(const nninit_st_file *f, const char *key) {
    if (!f || !key) return NULL;
    for (size_t i = 0; i < f->nmeta; i++)
        if (!strcmp(f->meta[i].key, key)) return f->meta[i].value;
    return NULL;
}

uint64_t nninit_st_data_start(const nninit_st_file *f) { return f ? f->data_start : 0; }

nninit_status nninit_st_read(const nninit_st_file *f, const nninit_st_tensor *t, uint64_t off, size_t bytes,
                             void *out) {
    if (!f || !t || (!out && bytes))
        return nninit__err(NNINIT_ERR_NULL, "st_read: %s is NULL", !f ? "f" : !t ? "t" : "out");
    uintptr_t p = (uintptr_t)t, lo = (uintptr_t)f->tensors, hi = (uintptr_t)(f->tensors + f->n);
    if (p < lo || p >= hi || (p - lo) % sizeof *t)
        return nninit__err(NNINIT_ERR_PARAM, "st_read: t is not a tensor of this file");
    uint64_t span = t->end - t->begin;
    if (off > span || bytes > span - off)
        return nninit__err(NNINIT_ERR_SLICE, "st_read: bytes [%llu, %llu + %zu) outside tensor '%s' (%llu bytes)",
                           (unsigned long long)off, (unsigned long long)off, bytes, t->name, (unsigned long long)span);
    if (f->fd < 0)
        return nninit__err(NNINIT_ERR_IO, "st_read: '%s': the file was parsed from memory, not opened", t->name);
    if (bytes == 0) return NNINIT_OK;
    int e = nninit__pread_all(f->fd, out, bytes, f->data_start + t->begin + off);
    if (e) return nninit__err(NNINIT_ERR_IO, "st_read: '%s': %s", t->name, e == EIO ? "the file shrank" : strerror(e));
    return NNINIT_OK;
}

/* ---- the shard index -------------------------------------------------------------- */

/* A shard's file name: not empty, no '/', not "." or "..", valid UTF-8. */
static int shard_name_ok(const char *s) {
    return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..") && utf8_ok(s);
}

nninit_status nninit_st_index_write(const char *path, uint64_t total_size, const nninit_st_index_entry *entries,
                                    size_t n) {
    static const char who[] = "st_index_write";
    if (!path || (!entries && n))
        return nninit__err(NNINIT_ERR_NULL, "%s: %s is NULL", who, !path ? "path" : "entries");
    if (n > SIZE_MAX / sizeof(const char *)) return nninit__err(NNINIT_ERR_OVERFLOW, "%s: too many entries", who);
    for (size_t i = 0; i < n; i++) {
        if (!entries[i].name || !entries[i].file)
            return nninit__err(NNINIT_ERR_NULL, "%s: entries[%zu].%s is NULL", who, i,
                               !entries[i].name ? "name" : "file");
        if (!*entries[i].name || !utf8_ok(entries[i].name))
            return nninit__err(NNINIT_ERR_FORMAT, "%s: entries[%zu]: the name is empty or not UTF-8", who, i);
        if (!shard_name_ok(entries[i].file))
            return nninit__err(NNINIT_ERR_FORMAT, "%s: tensor '%s': '%s' is not a file name in the index's directory",
                               who, entries[i].name, entries[i].file);
    }
    const char **names = malloc((n ? n : 1) * sizeof *names);
    if (!names) return nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
    for (size_t i = 0; i < n; i++) names[i] = entries[i].name;
    int nomem;
    const char *dup = first_duplicate(names, n, &nomem);
    nninit_status s = NNINIT_OK;
    if (nomem) s = nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
    else if (dup) s = nninit__err(NNINIT_ERR_FORMAT, "%s: duplicate tensor name '%s'", who, dup);
    free(names);
    if (s != NNINIT_OK) return s;

    /* json.dumps(index, indent=2) + "\n", as transformers writes it */
    sbuf b = {0};
    sb_lit(&b, "{\n  \"metadata\": {\n    \"total_size\": ");
    sb_u64(&b, total_size);
    sb_lit(&b, n ? "\n  },\n  \"weight_map\": {\n" : "\n  },\n  \"weight_map\": {}\n}\n");
    for (size_t i = 0; i < n; i++) {
        sb_lit(&b, "    ");
        sb_str(&b, entries[i].name);
        sb_lit(&b, ": ");
        sb_str(&b, entries[i].file);
        sb_lit(&b, i + 1 < n ? ",\n" : "\n  }\n}\n");
    }
    if (b.nomem) {
        free(b.p);
        return nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
    }
    nninit__atomic a;
    s = nninit__atomic_begin(&a, path, who);
    if (s == NNINIT_OK) {
        int e = nninit__write_all(a.fd, b.p, b.n);
        if (e) {
            nninit__atomic_cancel(&a);
            s = nninit__err(NNINIT_ERR_IO, "%s: write %s: %s", who, path, strerror(e));
        } else {
            s = nninit__atomic_commit(&a, path, who);
        }
    }
    free(b.p);
    return s;
}

struct nninit_st_index {
    uint64_t total_size;
    size_t n;
    nninit_st_index_entry *entries;
    char *pool;
};

void nninit_st_index_close(nninit_st_index *ix) {
    if (!ix) return;
    free(ix->entries);
    free(ix->pool);
    free(ix);
}

static nninit_status index_parse(const char *text, size_t len, nninit_st_index *ix) {
    static const char who[] = "safetensors index";
    cJSON *root;
    lex_info lex;
    nninit_status s = json_parse(who, text, len, &root, &lex);
    if (s != NNINIT_OK) return s;
    const cJSON *meta = NULL, *map = NULL;
    const char **names = NULL;
    for (const cJSON *c = root->child; c; c = c->next) {
        const cJSON **slot = !strcmp(c->string, "metadata") ? &meta : !strcmp(c->string, "weight_map") ? &map : NULL;
        if (!slot) continue;
        if (*slot) {
            s = nninit__err(NNINIT_ERR_FORMAT, "%s: '%s' given twice", who, c->string);
            goto done;
        }
        *slot = c;
    }
    if (!cJSON_IsObject(meta) || !cJSON_IsObject(map)) {
        s = nninit__err(NNINIT_ERR_FORMAT, "%s: no '%s' object", who,
                        !cJSON_IsObject(meta) ? "metadata" : "weight_map");
        goto done;
    }
    const cJSON *ts = NULL;
    for (const cJSON *c = meta->child; c; c = c->next)
        if (!strcmp(c->string, "total_size")) {
            if (ts) {
                s = nninit__err(NNINIT_ERR_FORMAT, "%s: metadata.total_size given twice", who);
                goto done;
            }
            ts = c;
        }
    if (!json_u53(&lex, ts, &ix->total_size)) {
        s = nninit__err(NNINIT_ERR_FORMAT, "%s: metadata.total_size is %s", who,
                        ts ? "not an unsigned integer below 2^53" : "missing");
        goto done;
    }
    size_t n = 0, pool_bytes = 0;
    for (const cJSON *c = map->child; c; c = c->next) {
        if (!cJSON_IsString(c)) {
            s = nninit__err(NNINIT_ERR_FORMAT, "%s: weight_map '%s': the file is not a string", who, c->string);
            goto done;
        }
        if (!*c->string) {
            s = nninit__err(NNINIT_ERR_FORMAT, "%s: weight_map has an empty tensor name", who);
            goto done;
        }
        if (!shard_name_ok(c->valuestring)) {
            s = nninit__err(NNINIT_ERR_FORMAT, "%s: weight_map '%s': '%s' is not a file name in the index's directory",
                            who, c->string, c->valuestring);
            goto done;
        }
        n++;
        pool_bytes += strlen(c->string) + strlen(c->valuestring) + 2;
    }
    ix->entries = malloc((n ? n : 1) * sizeof *ix->entries);
    ix->pool = malloc(pool_bytes ? pool_bytes : 1);
    names = malloc((n ? n : 1) * sizeof *names);
    if (!ix->entries || !ix->pool || !names) {
        s = nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
        goto done;
    }
    char *pool = ix->pool;
    size_t i = 0;
    for (const cJSON *c = map->child; c; c = c->next, i++) {
        ix->entries[i].name = names[i] = pool_add(&pool, c->string);
        ix->entries[i].file = pool_add(&pool, c->valuestring);
    }
    int nomem;
    const char *dup = first_duplicate(names, n, &nomem);
    if (nomem) s = nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
    else if (dup) s = nninit__err(NNINIT_ERR_FORMAT, "%s: weight_map: duplicate tensor name '%s'", who, dup);
    ix->n = n;
done:
    free(names);
    free(lex.bad);
    cJSON_Delete(root);
    return s;
}

nninit_status nninit_st_index_open(const char *path, nninit_st_index **out) {
    if (!path || !out) return nninit__err(NNINIT_ERR_NULL, "st_index_open: %s is NULL", !path ? "path" : "ix");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nninit__err(NNINIT_ERR_IO, "st_index_open: %s: %s", path, strerror(errno));
    struct stat st;
    char *text = NULL;
    nninit_st_index *ix = NULL;
    nninit_status s;
    int e;
    if (fstat(fd, &st) != 0) s = nninit__err(NNINIT_ERR_IO, "st_index_open: %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode)) s = nninit__err(NNINIT_ERR_IO, "st_index_open: %s is not a regular file", path);
    else if ((uint64_t)st.st_size > ST_INDEX_MAX)
        s = nninit__err(NNINIT_ERR_FORMAT, "st_index_open: %s: %lld bytes, over the limit of %llu", path,
                        (long long)st.st_size, (unsigned long long)ST_INDEX_MAX);
    else if (!(text = malloc(st.st_size ? (size_t)st.st_size : 1)) || !(ix = calloc(1, sizeof *ix)))
        s = nninit__err(NNINIT_ERR_NOMEM, "st_index_open: %s: out of memory", path);
    else if ((e = nninit__pread_all(fd, text, (size_t)st.st_size, 0)) != 0)
        s = nninit__err(NNINIT_ERR_IO, "st_index_open: read %s: %s", path, e == EIO ? "the file shrank" : strerror(e));
    else if ((s = index_parse(text, (size_t)st.st_size, ix)) != NNINIT_OK)
        nninit__err(s, "st_index_open: %s: %s", path, nninit_last_error());
    close(fd);
    free(text);
    if (s != NNINIT_OK) {
        nninit_st_index_close(ix);
        return s;
    }
    *out = ix;
    return NNINIT_OK;
}

uint64_t nninit_st_index_total_size(const nninit_st_index *ix) { return ix ? ix->total_size : 0; }
size_t nninit_st_index_count(const nninit_st_index *ix) { return ix ? ix->n : 0; }

const nninit_st_index_entry *nninit_st_index_at(const nninit_st_index *ix, size_t i) {
    return ix && i < ix->n ? &ix->entries[i] : NULL;
}

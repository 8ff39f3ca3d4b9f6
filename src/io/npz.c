/*
 * npz.c -- NumPy .npz archives (include/nninit_checkpoint.h): the streaming
 * atomic writer and the validating reader.
 *
 * An .npz is a ZIP archive (PKWARE APPNOTE.TXT 6.3.x) of .npy members named
 * "<name>.npy" (numpy/lib/npyio.py, savez). The parts used here:
 *
 *   local header    "PK\3\4", version needed, flags, method, DOS time and
 *                   date, CRC-32, compressed and uncompressed size (32 bits),
 *                   name length, extra length; the name; the extra fields;
 *                   then the member's data (and, with flag bit 3, a data
 *                   descriptor: ["PK\7\10"] CRC, sizes, after the data)
 *   central entry   "PK\1\2", the same and: version made by, comment length,
 *                   disk, attributes, the local header's offset (32 bits)
 *   ZIP64 end       "PK\6\6": entry counts, directory size and offset, 64 bits
 *   ZIP64 locator   "PK\6\7": the ZIP64 end record's offset
 *   end record      "PK\5\6": counts (16 bits), directory size and offset (32
 *                   bits), comment length; the comment ends the file
 *
 * A 32-bit field that reads 0xFFFFFFFF (a count 0xFFFF) holds its value in
 * the ZIP64 extra field (tag 0x0001: uncompressed size, compressed size,
 * offset, disk, in that order, those that overflowed) or the ZIP64 end
 * record. The writer uses them where Python's zipfile does (values above
 * 2^31 - 1, so that readers of signed 32-bit fields agree; 65535 members or
 * more), or everywhere when asked. np.savez itself writes every local header
 * with the ZIP64 sizes (zipfile's force_zip64), which the reader reads.
 *
 * CRC-32 and inflate are zlib's. The writer stores (np.savez); the reader
 * also inflates (np.savez_compressed).
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

#define ZLIB_CONST /* next_in is const: the reader's buffer is never written */
#include <zlib.h>

#include "internal.h"
#include "io/atomic.h"
#include "nninit_checkpoint.h"

#define ZIP64_LIMIT     0x7fffffffu /* Python's zipfile.ZIP64_LIMIT */
#define ZIP_COUNT_LIMIT 0xffffu
#define U32_SENTINEL    0xffffffffu
#define U16_SENTINEL    0xffffu

#define SIG_LOCAL   0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END     0x06054b50u
#define SIG_END64   0x06064b50u
#define SIG_LOC64   0x07064b50u
#define SIG_DESCR   0x08074b50u

#define LOCAL_SIZE   30
#define CENTRAL_SIZE 46
#define END_SIZE     22
#define END64_SIZE   56
#define LOC64_SIZE   20
#define MAX_COMMENT  65535

#define FLAG_ENCRYPTED  0x0001u
#define FLAG_DESCRIPTOR 0x0008u
#define FLAG_STRONG     0x0040u
#define FLAG_UTF8       0x0800u
#define FLAG_MASKED     0x2000u

#define DOS_DATE_1980 0x0021u /* 1980-01-01, the earliest DOS date: no clock in the bytes */
#define VERSION_20    20u     /* 2.0: stored members and directories */
#define VERSION_ZIP64 45u     /* 4.5: ZIP64 */
#define MADE_BY_UNIX  0x0300u
#define ATTR_FILE     (0100644u << 16) /* a regular file, rw-r--r-- */

#define IO_CHUNK   ((size_t)1 << 16)
#define NPY_PREFIX (12 + NNINIT_NPY_MAX_HEADER) /* bytes that always hold a .npy header */
#define NAME_MAX_Z (NNINIT_NPZ_MAX_NAME + 4)    /* with ".npy" */

/* ---- little-endian fields ------------------------------------------------------- */

static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const unsigned char *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }
static unsigned char *put16(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    return p + 2;
}
static unsigned char *put32(unsigned char *p, uint32_t v) { return put16(put16(p, v & 0xffff), v >> 16); }
static unsigned char *put64(unsigned char *p, uint64_t v) { return put32(put32(p, (uint32_t)v), (uint32_t)(v >> 32)); }

/* 1 if s[0, n) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, at most U+10FFFF). */
static int utf8_ok(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) k = 1;
        else if (c >= 0xe0 && c <= 0xef) k = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        else if (c >= 0xf0 && c <= 0xf4) k = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        else return 0;
        if (n - i <= k || s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t j = 2; j <= k; j++)
            if ((s[i + j] & 0xc0) != 0x80) return 0;
        i += k + 1;
    }
    return 1;
}

static int is_ascii(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 0x80) return 0;
    return 1;
}

static uint32_t crc_update(uint32_t crc, const unsigned char *p, size_t n) { return (uint32_t)crc32_z(crc, p, n); }

/* ---- writing -------------------------------------------------------------------- */

typedef struct {
    char *zname; /* "<name>.npy", NUL-terminated */
    size_t zlen; /* its bytes */
    nninit_dtype dtype;
    int ndim;
    int64_t shape[NNINIT_MAX_DIMS];
    uint64_t npy_bytes;  /* the .npy header */
    uint64_t data_bytes; /* the array's data */
    uint64_t offset;     /* of the local header (once started) */
    uint32_t crc;
    int zip64; /* the local header has the ZIP64 sizes */
} wentry;

struct nninit_npz_writer {
    nninit__atomic tmp;
    char *path;
    int force64;
    wentry *e;
    size_t n, cap;
    size_t *hash; /* open addressing over e by name: index + 1, 0 empty */
    size_t hcap;
    uint64_t declared;    /* bytes the declared members take, headers included */
    size_t started;       /* members whose local header is written; the last one is being filled */
    uint64_t done;        /* data bytes appended to member started - 1 */
    uint64_t pos;         /* bytes of the archive so far */
    uint64_t flushed;     /* of which written to the file */
    nninit_status failed; /* the first error; the temporary is gone then */
    char why[256];        /* and its message */
    size_t fill;
    unsigned char buf[IO_CHUNK];
};

static nninit_status w_fail(nninit_npz_writer *w, nninit_status s) {
    w->failed = s;
    snprintf(w->why, sizeof w->why, "%s", nninit_last_error());
    nninit__atomic_cancel(&w->tmp);
    return s;
}

static nninit_status w_io(nninit_npz_writer *w, int e) {
    return w_fail(w, nninit__err(NNINIT_ERR_IO, "npz_writer: write %s: %s", w->path, strerror(e)));
}

static nninit_status w_flush(nninit_npz_writer *w) {
    int e = nninit__write_all(w->tmp.fd, w->buf, w->fill);
    w->flushed += w->fill;
    w->fill = 0;
    return e ? w_io(w, e) : NNINIT_OK;
}

static nninit_status w_put(nninit_npz_writer *w, const void *p, size_t n) {
    if (n > IO_CHUNK - w->fill && w->fill && w_flush(w) != NNINIT_OK) return w->failed;
    w->pos += n;
    if (n >= IO_CHUNK) {
        int e = nninit__write_all(w->tmp.fd, p, n);
        w->flushed += n;
        return e ? w_io(w, e) : NNINIT_OK;
    }
    memcpy(w->buf + w->fill, p, n);
    w->fill += n;
    return NNINIT_OK;
}

/* Overwrites bytes [off, off + n) written before: in the file or, where they
 * still are, in the buffer. */
static nninit_status w_patch(nninit_npz_writer *w, uint64_t off, const unsigned char *p, size_t n) {
    while (n > 0) {
        if (off >= w->flushed) { /* the rest is in the buffer */
            memcpy(w->buf + (off - w->flushed), p, n);
            return NNINIT_OK;
        }
        size_t run = w->flushed - off < n ? (size_t)(w->flushed - off) : n;
        ssize_t r = pwrite(w->tmp.fd, p, run, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return w_io(w, r < 0 ? errno : EIO);
        p += r;
        off += (uint64_t)r;
        n -= (size_t)r;
    }
    return NNINIT_OK;
}

static uint64_t name_hash(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

/* The slot of zname in the hash: where it is, or the empty one it would take. */
static size_t hash_slot(const nninit_npz_writer *w, const char *zname, size_t zlen) {
    size_t m = w->hcap - 1, i = (size_t)name_hash(zname, zlen) & m;
    while (w->hash[i]) {
        const wentry *e = &w->e[w->hash[i] - 1];
        if (e->zlen == zlen && !memcmp(e->zname, zname, zlen)) break;
        i = (i + 1) & m;
    }
    return i;
}

static int hash_grow(nninit_npz_writer *w) {
    size_t cap = w->hcap ? 2 * w->hcap : 64;
    size_t *h = calloc(cap, sizeof *h);
    if (!h) return 0;
    free(w->hash);
    w->hash = h;
    w->hcap = cap;
    for (size_t k = 0; k < w->n; k++) w->hash[hash_slot(w, w->e[k].zname, w->e[k].zlen)] = k + 1;
    return 1;
}

static int member_zip64(const nninit_npz_writer *w, const wentry *e) {
    return w->force64 || e->npy_bytes + e->data_bytes > ZIP64_LIMIT;
}

nninit_status nninit_npz_writer_add(nninit_npz_writer *w, const nninit_npz_array *a) {
    static const char who[] = "npz_writer_add";
    if (!w || !a || !a->name)
        return nninit__err(NNINIT_ERR_NULL, "%s: %s is NULL", who, !w ? "w" : !a ? "a" : "a->name");
    if (w->failed) return nninit__err(w->failed, "%s: the writer failed before: %s", who, w->why);
    size_t nl = strlen(a->name);
    if (nl == 0) return nninit__err(NNINIT_ERR_FORMAT, "%s: an array with an empty name", who);
    if (nl > NNINIT_NPZ_MAX_NAME)
        return nninit__err(NNINIT_ERR_FORMAT, "%s: array '%.64s...': a name of %zu bytes (at most %d)", who, a->name,
                           nl, NNINIT_NPZ_MAX_NAME);
    if (!utf8_ok((const unsigned char *)a->name, nl))
        return nninit__err(NNINIT_ERR_FORMAT, "%s: array '%s': the name is not valid UTF-8", who, a->name);
    unsigned char h[NNINIT_NPY_HEADER_MAX];
    size_t hl;
    uint64_t data;
    nninit_status s = nninit_npy_header(a->dtype, a->ndim, a->shape, h, sizeof h, &hl, &data);
    if (s != NNINIT_OK) return nninit__err(s, "%s: array '%s': %s", who, a->name, nninit_last_error());
    uint64_t take = LOCAL_SIZE + 20 + CENTRAL_SIZE + 28 + (nl + 4) * 2 + hl + data;
    if (take > (uint64_t)INT64_MAX - w->declared)
        return nninit__err(NNINIT_ERR_OVERFLOW, "%s: array '%s': the archive would pass 2^63 bytes", who, a->name);

    char *zname = malloc(nl + 5);
    if (!zname) return nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
    memcpy(zname, a->name, nl);
    memcpy(zname + nl, ".npy", 5);
    if (w->hcap && w->hash[hash_slot(w, zname, nl + 4)]) {
        free(zname);
        return nninit__err(NNINIT_ERR_FORMAT, "%s: duplicate array name '%s'", who, a->name);
    }
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        wentry *e = cap <= SIZE_MAX / sizeof *e ? realloc(w->e, cap * sizeof *e) : NULL;
        if (!e) {
            free(zname);
            return nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
        }
        w->e = e;
        w->cap = cap;
    }
    if ((w->n + 1) * 2 > w->hcap && !hash_grow(w)) {
        free(zname);
        return nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
    }
    wentry *e = &w->e[w->n];
    memset(e, 0, sizeof *e);
    e->zname = zname;
    e->zlen = nl + 4;
    e->dtype = a->dtype;
    e->ndim = a->ndim;
    memcpy(e->shape, a->shape, sizeof e->shape);
    e->npy_bytes = hl;
    e->data_bytes = data;
    w->hash[hash_slot(w, zname, nl + 4)] = ++w->n;
    w->declared += take;
    return NNINIT_OK;
}

/* Writes member i's local header and .npy header. */
static nninit_status w_start(nninit_npz_writer *w, size_t i) {
    wentry *e = &w->e[i];
    unsigned char npy[NNINIT_NPY_HEADER_MAX];
    size_t hl;
    nninit_status s = nninit_npy_header(e->dtype, e->ndim, e->shape, npy, sizeof npy, &hl, NULL);
    if (s != NNINIT_OK) return w_fail(w, s); /* checked by add: never */
    e->offset = w->pos;
    e->zip64 = member_zip64(w, e);
    uint64_t size = e->npy_bytes + e->data_bytes;
    unsigned char lh[LOCAL_SIZE + 20], *p = lh;
    p = put32(p, SIG_LOCAL);
    p = put16(p, e->zip64 ? VERSION_ZIP64 : VERSION_20);
    p = put16(p, is_ascii((const unsigned char *)e->zname, e->zlen) ? 0 : FLAG_UTF8);
    p = put16(p, 0); /* stored */
    p = put16(p, 0);
    p = put16(p, DOS_DATE_1980);
    p = put32(p, 0); /* the CRC, patched when the data are in */
    p = put32(p, e->zip64 ? U32_SENTINEL : (uint32_t)size);
    p = put32(p, e->zip64 ? U32_SENTINEL : (uint32_t)size);
    p = put16(p, (uint32_t)e->zlen);
    p = put16(p, e->zip64 ? 20 : 0);
    if (w_put(w, lh, LOCAL_SIZE) != NNINIT_OK || w_put(w, e->zname, e->zlen) != NNINIT_OK) return w->failed;
    if (e->zip64) {
        p = put16(p, 0x0001);
        p = put16(p, 16);
        p = put64(p, size);
        p = put64(p, size);
        if (w_put(w, lh + LOCAL_SIZE, 20) != NNINIT_OK) return w->failed;
    }
    if (w_put(w, npy, hl) != NNINIT_OK) return w->failed;
    e->crc = crc_update(0, npy, hl);
    w->started = i + 1;
    w->done = 0;
    return NNINIT_OK;
}

static nninit_status w_finish(nninit_npz_writer *w, const wentry *e) {
    unsigned char c[4];
    put32(c, e->crc);
    return w_patch(w, e->offset + 14, c, 4);
}

/* Finishes the member being written once it is full and another is
 * declared, and starts the next ones (an empty one is full at once). */
static nninit_status w_advance(nninit_npz_writer *w) {
    for (;;) {
        if (w->started > 0) {
            const wentry *c = &w->e[w->started - 1];
            if (w->done < c->data_bytes || w->started == w->n) return NNINIT_OK;
            if (w_finish(w, c) != NNINIT_OK) return w->failed;
        }
        if (w->started == w->n) return NNINIT_OK;
        if (w_start(w, w->started) != NNINIT_OK) return w->failed;
    }
}

static void w_free(nninit_npz_writer *w) {
    nninit__atomic_cancel(&w->tmp);
    for (size_t i = 0; i < w->n; i++) free(w->e[i].zname);
    free(w->e);
    free(w->hash);
    free(w->path);
    free(w);
}

nninit_status nninit_npz_writer_open(nninit_npz_writer **out, const char *path, const nninit_npz_array *arrays,
                                     size_t n, const nninit_npz_write_opts *opts) {
    static const char who[] = "npz_writer_open";
    if (!out || !path || (!arrays && n))
        return nninit__err(NNINIT_ERR_NULL, "%s: %s is NULL", who, !out ? "w" : !path ? "path" : "arrays");
    nninit_npz_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = malloc(strlen(path) + 1))) {
        free(w);
        return nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
    }
    strcpy(w->path, path);
    w->tmp.fd = -1;
    w->force64 = opts && opts->zip64;
    nninit_status s = NNINIT_OK;
    for (size_t i = 0; i < n && s == NNINIT_OK; i++)
        if ((s = nninit_npz_writer_add(w, &arrays[i])) != NNINIT_OK)
            nninit__err(s, "%s: arrays[%zu]: %s", who, i, nninit_last_error());
    if (s == NNINIT_OK) s = nninit__atomic_begin(&w->tmp, path, who);
    if (s != NNINIT_OK) {
        w_free(w);
        return s;
    }
    *out = w;
    return NNINIT_OK;
}

nninit_status nninit_npz_writer_append(nninit_npz_writer *w, const void *data, size_t bytes) {
    if (!w) return nninit__err(NNINIT_ERR_NULL, "npz_writer_append: w is NULL");
    if (w->failed) return nninit__err(w->failed, "npz_writer_append: the writer failed before: %s", w->why);
    if (bytes == 0) return NNINIT_OK;
    if (!data) return nninit__err(NNINIT_ERR_NULL, "npz_writer_append: data is NULL");
    const unsigned char *p = data;
    while (bytes > 0) {
        if (w_advance(w) != NNINIT_OK) return w->failed;
        wentry *c = w->started ? &w->e[w->started - 1] : NULL;
        if (!c || w->done == c->data_bytes)
            return w_fail(w, nninit__err(NNINIT_ERR_FORMAT,
                                         "npz_writer_append: %s: %zu bytes more than the %zu declared arrays hold",
                                         w->path, bytes, w->n));
        uint64_t room = c->data_bytes - w->done;
        size_t take = bytes < room ? bytes : (size_t)room;
        c->crc = crc_update(c->crc, p, take);
        if (w_put(w, p, take) != NNINIT_OK) return w->failed;
        w->done += take;
        p += take;
        bytes -= take;
    }
    return NNINIT_OK;
}

/* The central directory and the end records. */
static nninit_status w_directory(nninit_npz_writer *w) {
    uint64_t cd_off = w->pos;
    for (size_t i = 0; i < w->n; i++) {
        const wentry *e = &w->e[i];
        uint64_t size = e->npy_bytes + e->data_bytes;
        int big_size = w->force64 || size > ZIP64_LIMIT, big_off = w->force64 || e->offset > ZIP64_LIMIT;
        unsigned char ch[CENTRAL_SIZE + 28], *p = ch;
        unsigned version = big_size || big_off ? VERSION_ZIP64 : VERSION_20;
        size_t extra = (big_size ? 16 : 0) + (big_off ? 8 : 0);
        p = put32(p, SIG_CENTRAL);
        p = put16(p, MADE_BY_UNIX | version);
        p = put16(p, version);
        p = put16(p, is_ascii((const unsigned char *)e->zname, e->zlen) ? 0 : FLAG_UTF8);
        p = put16(p, 0);
        p = put16(p, 0);
        p = put16(p, DOS_DATE_1980);
        p = put32(p, e->crc);
        p = put32(p, big_size ? U32_SENTINEL : (uint32_t)size);
        p = put32(p, big_size ? U32_SENTINEL : (uint32_t)size);
        p = put16(p, (uint32_t)e->zlen);
        p = put16(p, (uint32_t)(extra ? extra + 4 : 0));
        p = put16(p, 0); /* comment */
        p = put16(p, 0); /* disk */
        p = put16(p, 0); /* internal attributes */
        p = put32(p, ATTR_FILE);
        p = put32(p, big_off ? U32_SENTINEL : (uint32_t)e->offset);
        if (w_put(w, ch, CENTRAL_SIZE) != NNINIT_OK || w_put(w, e->zname, e->zlen) != NNINIT_OK) return w->failed;
        if (extra) {
            p = put16(p, 0x0001);
            p = put16(p, (uint32_t)extra);
            if (big_size) p = put64(put64(p, size), size);
            if (big_off) p = put64(p, e->offset);
            if (w_put(w, ch + CENTRAL_SIZE, extra + 4) != NNINIT_OK) return w->failed;
        }
    }
    uint64_t cd_size = w->pos - cd_off;
    int z64 = w->force64 || w->n >= ZIP_COUNT_LIMIT || cd_off > ZIP64_LIMIT || cd_size > ZIP64_LIMIT;
    unsigned char end[END64_SIZE + LOC64_SIZE + END_SIZE], *p = end;
    if (z64) {
        uint64_t at = w->pos;
        p = put32(p, SIG_END64);
        p = put64(p, END64_SIZE - 12);
        p = put16(p, MADE_BY_UNIX | VERSION_ZIP64);
        p = put16(p, VERSION_ZIP64);
        p = put32(p, 0);
        p = put32(p, 0);
        p = put64(p, w->n);
        p = put64(p, w->n);
        p = put64(p, cd_size);
        p = put64(p, cd_off);
        p = put32(p, SIG_LOC64);
        p = put32(p, 0);
        p = put64(p, at);
        p = put32(p, 1);
    }
    p = put32(p, SIG_END);
    p = put16(p, 0);
    p = put16(p, 0);
    p = put16(p, z64 ? U16_SENTINEL : (uint32_t)w->n);
    p = put16(p, z64 ? U16_SENTINEL : (uint32_t)w->n);
    p = put32(p, z64 ? U32_SENTINEL : (uint32_t)cd_size);
    p = put32(p, z64 ? U32_SENTINEL : (uint32_t)cd_off);
    p = put16(p, 0);
    return w_put(w, end, (size_t)(p - end));
}

nninit_status nninit_npz_writer_commit(nninit_npz_writer *w) {
    static const char who[] = "npz_writer_commit";
    if (!w) return nninit__err(NNINIT_ERR_NULL, "%s: w is NULL", who);
    nninit_status s = NNINIT_OK;
    if (w->failed) s = nninit__err(w->failed, "%s: the writer failed before: %s", who, w->why);
    else if (w_advance(w) != NNINIT_OK) s = w->failed;
    else if (w->n && w->done < w->e[w->started - 1].data_bytes) {
        const wentry *c = &w->e[w->started - 1];
        s = nninit__err(NNINIT_ERR_FORMAT, "%s: %s: array '%.*s': %llu of its %llu data bytes appended", who, w->path,
                        (int)(c->zlen - 4), c->zname, (unsigned long long)w->done, (unsigned long long)c->data_bytes);
    } else if (w->n && w_finish(w, &w->e[w->n - 1]) != NNINIT_OK) s = w->failed;
    else if (w_directory(w) != NNINIT_OK || w_flush(w) != NNINIT_OK) s = w->failed;
    else s = nninit__atomic_commit(&w->tmp, w->path, who);
    w_free(w);
    return s;
}

void nninit_npz_writer_abort(nninit_npz_writer *w) {
    if (w) w_free(w);
}

/* ---- reading -------------------------------------------------------------------- */

struct nninit_npz_file {
    int fd;                   /* -1: in memory */
    const unsigned char *mem; /* nninit_npz_parse's buffer */
    uint64_t size;
    size_t n;
    nninit_npz_member *m; /* archive order */
    uint64_t *data_start; /* each member's (compressed) data, file offset */
    size_t *by_name;      /* indices into m, by name */
    char *pool;           /* the names */
    /* the inflate cursor: member z_member's stream after z_in bytes of its
     * data in and z_out out */
    z_stream z;
    int z_init, z_live;
    size_t z_member;
    uint64_t z_in, z_out;
    unsigned char *zbuf; /* its input, for a file (IO_CHUNK bytes) */
};

/* One central directory entry while the archive is checked. */
typedef struct {
    const unsigned char *zname; /* in the directory's copy */
    size_t zlen;
    uint16_t flags, method;
    uint32_t crc;
    uint64_t csize, usize, offset;
    uint64_t data_start, end;
} rentry;

/* Bytes [off, off + n) of the archive into out: OK, or IO (the message set). */
static nninit_status src_read(const nninit_npz_file *f, uint64_t off, void *out, size_t n) {
    if (off > f->size || n > f->size - off)
        return nninit__err(NNINIT_ERR_IO, "npz: bytes [%llu, +%zu) are beyond the end (%llu): the file shrank",
                           (unsigned long long)off, n, (unsigned long long)f->size);
    if (n == 0) return NNINIT_OK;
    if (f->mem) {
        memcpy(out, f->mem + off, n);
        return NNINIT_OK;
    }
    int e = nninit__pread_all(f->fd, out, n, off);
    if (e) return nninit__err(NNINIT_ERR_IO, "npz: read: %s", e == EIO ? "the file shrank" : strerror(e));
    return NNINIT_OK;
}

/* The ZIP64 extra field of extra fields ex[0, n): 1 with *z, *zn (NULL, 0
 * if none); 0 (message set) when the fields do not tile n or it is twice. */
static int extra_zip64(const unsigned char *ex, size_t n, const unsigned char **z, size_t *zn, const char *what,
                       const unsigned char *name, size_t nlen) {
    *z = NULL;
    *zn = 0;
    for (size_t i = 0; i < n;) {
        if (n - i < 4 || le16(ex + i + 2) > n - i - 4) {
            nninit__err(NNINIT_ERR_FORMAT, "npz: member '%.*s': the %s's extra fields do not add up", (int)nlen, name,
                        what);
            return 0;
        }
        size_t len = le16(ex + i + 2);
        if (le16(ex + i) == 0x0001) {
            if (*z) {
                nninit__err(NNINIT_ERR_FORMAT, "npz: member '%.*s': the %s has two ZIP64 extra fields", (int)nlen, name,
                            what);
                return 0;
            }
            *z = ex + i + 4;
            *zn = len;
        }
        i += 4 + len;
    }
    return 1;
}

/* Replaces the 32-bit fields that read 0xFFFFFFFF (v[k] for k < nv, in
 * ZIP64 order) by the ZIP64 extra field's values. 0 with the message set if
 * it lacks one. */
static int zip64_fields(const unsigned char *z, size_t zn, uint64_t *const *v, int nv, const char *what,
                        const unsigned char *name, size_t nlen) {
    size_t at = 0;
    for (int k = 0; k < nv; k++) {
        if (*v[k] != U32_SENTINEL) continue;
        if (!z || zn - at < 8) {
            nninit__err(NNINIT_ERR_FORMAT,
                        "npz: member '%.*s': the %s says 0xFFFFFFFF and no ZIP64 extra field holds the value",
                        (int)nlen, name, what);
            return 0;
        }
        *v[k] = le64(z + at);
        at += 8;
    }
    return 1;
}

static const char *method_name(unsigned m) {
    switch (m) {
    case 1: return "shrunk";
    case 6: return "imploded";
    case 9: return "deflate64";
    case 12: return "bzip2";
    case 14: return "lzma";
    case 93: return "zstd";
    case 95: return "xz";
    case 99: return "AES-encrypted";
    }
    return "unknown";
}

static int cmp_name(const void *a, const void *b, const rentry *e) {
    const rentry *x = &e[*(const size_t *)a], *y = &e[*(const size_t *)b];
    size_t n = x->zlen < y->zlen ? x->zlen : y->zlen;
    int c = memcmp(x->zname, y->zname, n);
    return c ? c : (x->zlen > y->zlen) - (x->zlen < y->zlen);
}

/* qsort has no context argument */
static _Thread_local const rentry *tl_entries;
static int cmp_entry_name(const void *a, const void *b) { return cmp_name(a, b, tl_entries); }
static int cmp_entry_offset(const void *a, const void *b) {
    const rentry *x = &tl_entries[*(const size_t *)a], *y = &tl_entries[*(const size_t *)b];
    return (x->offset > y->offset) - (x->offset < y->offset);
}
static _Thread_local const nninit_npz_member *tl_members;
static int cmp_member_name(const void *a, const void *b) {
    return strcmp(tl_members[*(const size_t *)a].name, tl_members[*(const size_t *)b].name);
}

/* ---- inflating ------------------------------------------------------------------ */

static nninit_status z_fail(nninit_npz_file *f, const char *name, const char *what, const char *detail) {
    f->z_live = 0;
    return nninit__err(NNINIT_ERR_FORMAT, "npz: member '%s.npy': %s%s", name, what, detail);
}

/* Starts member i's deflate stream from its beginning. */
static nninit_status z_begin(nninit_npz_file *f, size_t i) {
    int r = f->z_init ? inflateReset(&f->z) : inflateInit2(&f->z, -MAX_WBITS);
    if (r != Z_OK) {
        f->z_init = 0;
        return nninit__err(NNINIT_ERR_NOMEM, "npz: inflate: %s", r == Z_MEM_ERROR ? "out of memory" : "cannot start");
    }
    f->z_init = 1;
    f->z_live = 1;
    f->z_member = i;
    f->z_in = f->z_out = 0;
    f->z.next_in = NULL;
    f->z.avail_in = 0;
    return NNINIT_OK;
}

/* Inflates up to want bytes of the current member into out (NULL: thrown
 * away): *got of them; *end once the stream ended. */
static nninit_status z_pull(nninit_npz_file *f, unsigned char *out, size_t want, size_t *got, int *end) {
    const nninit_npz_member *m = &f->m[f->z_member];
    unsigned char sink[4096];
    *got = 0;
    *end = 0;
    while (*got < want) {
        if (f->z.avail_in == 0 && f->z_in < m->compressed_size) {
            uint64_t left = m->compressed_size - f->z_in, at = f->data_start[f->z_member] + f->z_in;
            size_t n;
            if (f->mem) {
                n = left < (1u << 30) ? (size_t)left : (size_t)1 << 30;
                f->z.next_in = f->mem + at;
            } else {
                n = left < IO_CHUNK ? (size_t)left : IO_CHUNK;
                nninit_status s = src_read(f, at, f->zbuf, n);
                if (s != NNINIT_OK) {
                    f->z_live = 0;
                    return s;
                }
                f->z.next_in = f->zbuf;
            }
            f->z.avail_in = (uInt)n;
            f->z_in += n;
        }
        size_t room = want - *got;
        if (out) {
            f->z.next_out = out + *got;
            f->z.avail_out = room < (1u << 30) ? (uInt)room : 1u << 30;
        } else {
            f->z.next_out = sink;
            f->z.avail_out = room < sizeof sink ? (uInt)room : (uInt)sizeof sink;
        }
        uInt before = f->z.avail_out;
        int r = inflate(&f->z, Z_NO_FLUSH);
        size_t made = before - f->z.avail_out;
        *got += made;
        f->z_out += made;
        if (r == Z_STREAM_END) {
            *end = 1;
            return NNINIT_OK;
        }
        if (r == Z_BUF_ERROR && f->z.avail_in == 0 && f->z_in == m->compressed_size)
            return z_fail(f, m->name, "the deflate stream is cut short", " (its compressed size ends inside it)");
        if (r == Z_MEM_ERROR) {
            f->z_live = 0;
            return nninit__err(NNINIT_ERR_NOMEM, "npz: inflate: out of memory");
        }
        if (r != Z_OK && r != Z_BUF_ERROR)
            return z_fail(f, m->name, "bad deflate data: ", f->z.msg ? f->z.msg : "inflate failed");
    }
    return NNINIT_OK;
}

/* ---- checking the archive ------------------------------------------------------- */

/* Locates the central directory: *cd_off, *cd_size, *n, through the end
 * record and, where its locator precedes it, the ZIP64 end record. */
static nninit_status find_directory(nninit_npz_file *f, uint64_t *cd_off, uint64_t *cd_size, uint64_t *count) {
    uint64_t size = f->size;
    if (size < END_SIZE)
        return nninit__err(NNINIT_ERR_FORMAT,
                           "npz: %llu bytes, shorter than the 22-byte end of central directory record: not a zip "
                           "archive, or truncated",
                           (unsigned long long)size);
    size_t tn = (size_t)(size < END_SIZE + MAX_COMMENT ? size : END_SIZE + MAX_COMMENT);
    unsigned char *tail = malloc(tn);
    if (!tail) return nninit__err(NNINIT_ERR_NOMEM, "npz: out of memory");
    nninit_status s = src_read(f, size - tn, tail, tn);
    if (s != NNINIT_OK) {
        free(tail);
        return s;
    }
    /* the last record whose comment ends exactly at the end of the file */
    size_t at = tn - END_SIZE;
    int found = 0;
    for (;; at--) {
        if (le32(tail + at) == SIG_END && (size_t)le16(tail + at + 20) == tn - at - END_SIZE) {
            found = 1;
            break;
        }
        if (at == 0) break;
    }
    unsigned char end[END_SIZE];
    if (found) memcpy(end, tail + at, END_SIZE);
    free(tail);
    if (!found)
        return nninit__err(NNINIT_ERR_FORMAT, "npz: no end of central directory record at the end: not a zip archive, "
                                              "truncated, or bytes after its end");
    uint64_t eocd = size - (tn - at);
    unsigned disk = le16(end + 4), cd_disk = le16(end + 6), n_disk = le16(end + 8), n = le16(end + 10);
    uint32_t size32 = le32(end + 12), off32 = le32(end + 16);

    unsigned char loc[LOC64_SIZE];
    int z64 = 0;
    if (eocd >= LOC64_SIZE) {
        if ((s = src_read(f, eocd - LOC64_SIZE, loc, LOC64_SIZE)) != NNINIT_OK) return s;
        z64 = le32(loc) == SIG_LOC64;
    }
    uint64_t end_of_cd = eocd;
    if (!z64) {
        if (disk != 0 || cd_disk != 0 || n_disk != n)
            return nninit__err(NNINIT_ERR_FORMAT, "npz: the archive spans several disks (disk %u, directory on %u)",
                               disk, cd_disk);
        *count = n;
        *cd_size = size32;
        *cd_off = off32;
    } else {
        uint64_t loc_at = eocd - LOC64_SIZE, e64 = le64(loc + 8);
        if (le32(loc + 4) != 0 || le32(loc + 16) > 1)
            return nninit__err(NNINIT_ERR_FORMAT, "npz: the ZIP64 locator names several disks");
        unsigned char r[END64_SIZE];
        if (e64 > loc_at || loc_at - e64 < END64_SIZE)
            return nninit__err(NNINIT_ERR_FORMAT,
                               "npz: the ZIP64 end record's offset %llu leaves no room for it before the locator "
                               "(at %llu)",
                               (unsigned long long)e64, (unsigned long long)loc_at);
        if ((s = src_read(f, e64, r, END64_SIZE)) != NNINIT_OK) return s;
        if (le32(r) != SIG_END64)
            return nninit__err(NNINIT_ERR_FORMAT, "npz: no ZIP64 end record at %llu, where the locator points",
                               (unsigned long long)e64);
        uint64_t rec = le64(r + 4);
        if (rec < END64_SIZE - 12 || rec != loc_at - e64 - 12)
            return nninit__err(NNINIT_ERR_FORMAT,
                               "npz: the ZIP64 end record at %llu (%llu bytes) does not end at the locator (at %llu)",
                               (unsigned long long)e64, (unsigned long long)rec + 12, (unsigned long long)loc_at);
        uint64_t n64 = le64(r + 32), size64 = le64(r + 40), off64 = le64(r + 48);
        if (le32(r + 16) != 0 || le32(r + 20) != 0 || le64(r + 24) != n64 || (disk != 0 && disk != U16_SENTINEL) ||
            (cd_disk != 0 && cd_disk != U16_SENTINEL))
            return nninit__err(NNINIT_ERR_FORMAT, "npz: the archive spans several disks");
        if ((n != U16_SENTINEL && n != n64) || (n_disk != U16_SENTINEL && n_disk != n64) ||
            (size32 != U32_SENTINEL && size32 != size64) || (off32 != U32_SENTINEL && off32 != off64))
            return nninit__err(NNINIT_ERR_FORMAT,
                               "npz: the end record (%u entries, %lu bytes at %lu) and the ZIP64 end record (%llu, "
                               "%llu at %llu) differ",
                               n, (unsigned long)size32, (unsigned long)off32, (unsigned long long)n64,
                               (unsigned long long)size64, (unsigned long long)off64);
        *count = n64;
        *cd_size = size64;
        *cd_off = off64;
        end_of_cd = e64;
    }
    if (*cd_off > end_of_cd || *cd_size != end_of_cd - *cd_off)
        return nninit__err(NNINIT_ERR_FORMAT,
                           "npz: the central directory (%llu bytes at %llu) does not end where the end records begin "
                           "(at %llu)",
                           (unsigned long long)*cd_size, (unsigned long long)*cd_off, (unsigned long long)end_of_cd);
    if (*count > *cd_size / CENTRAL_SIZE)
        return nninit__err(NNINIT_ERR_FORMAT, "npz: %llu entries do not fit in the central directory's %llu bytes",
                           (unsigned long long)*count, (unsigned long long)*cd_size);
    return NNINIT_OK;
}

/* Entry k of the directory cd[*at, cd_size) into e; advances *at. */
static nninit_status parse_central(const unsigned char *cd, uint64_t cd_size, uint64_t cd_off, size_t k, uint64_t *at,
                                   rentry *e) {
    const unsigned char *p = cd + *at;
    if (cd_size - *at < CENTRAL_SIZE || le32(p) != SIG_CENTRAL)
        return nninit__err(NNINIT_ERR_FORMAT, "npz: central directory entry %zu (at byte %llu) is %s", k,
                           (unsigned long long)(cd_off + *at),
                           cd_size - *at < CENTRAL_SIZE ? "cut short" : "not one (bad signature)");
    size_t nl = le16(p + 28), xl = le16(p + 30), cl = le16(p + 32);
    if (cd_size - *at - CENTRAL_SIZE < nl + xl + cl)
        return nninit__err(NNINIT_ERR_FORMAT, "npz: central directory entry %zu (at byte %llu) is cut short", k,
                           (unsigned long long)(cd_off + *at));
    memset(e, 0, sizeof *e);
    e->flags = le16(p + 8);
    e->method = le16(p + 10);
    e->crc = le32(p + 16);
    e->csize = le32(p + 20);
    e->usize = le32(p + 24);
    e->offset = le32(p + 42);
    e->zname = p + CENTRAL_SIZE;
    e->zlen = nl;
    uint64_t disk = le16(p + 34);
    const unsigned char *name = e->zname;
    if (nl == 0) return nninit__err(NNINIT_ERR_FORMAT, "npz: central directory entry %zu has an empty name", k);
    if (memchr(name, '\0', nl))
        return nninit__err(NNINIT_ERR_FORMAT, "npz: central directory entry %zu: the name holds a NUL byte", k);
    if ((e->flags & FLAG_UTF8) && !utf8_ok(name, nl))
        return nninit__err(NNINIT_ERR_FORMAT, "npz: central directory entry %zu: the name is flagged UTF-8 but is not",
                           k);
    if (nl <= 4 || memcmp(name + nl - 4, ".npy", 4) != 0)
        return nninit__err(NNINIT_ERR_FORMAT, "npz: member '%.*s' is not an .npy file (its name does not end in .npy)",
                           (int)(nl < 200 ? nl : 200), name);
    if (nl > NAME_MAX_Z)
        return nninit__err(NNINIT_ERR_FORMAT, "npz: member '%.64s...': a name of %zu bytes (nninit reads %d)", name,
                           nl - 4, NNINIT_NPZ_MAX_NAME);
    const unsigned char *z;
    size_t zn;
    if (!extra_zip64(name + nl, xl, &z, &zn, "central directory entry", name, nl)) return NNINIT_ERR_FORMAT;
    uint64_t *const v[3] = {&e->usize, &e->csize, &e->offset};
    if (!zip64_fields(z, zn, v, 3, "central directory entry", name, nl)) return NNINIT_ERR_FORMAT;
    if (disk == U16_SENTINEL) { /* after the ZIP64 values the 32-bit fields took */
        size_t at64 = 8 * (size_t)((le32(p + 24) == U32_SENTINEL) + (le32(p + 20) == U32_SENTINEL) +
                                   (le32(p + 42) == U32_SENTINEL));
        if (!z || zn < at64 + 4)
            return nninit__err(NNINIT_ERR_FORMAT,
                               "npz: member '%.*s': the disk number is 0xFFFF and no ZIP64 extra field holds it",
                               (int)nl, name);
        disk = le32(z + at64);
    }
    if (disk != 0)
        return nninit__err(NNINIT_ERR_FORMAT, "npz: member '%.*s' is on disk %llu: multi-disk archives are not read",
                           (int)nl, name, (unsigned long long)disk);
    if (e->flags & (FLAG_ENCRYPTED | FLAG_STRONG | FLAG_MASKED))
        return nninit__err(NNINIT_ERR_FORMAT, "npz: member '%.*s' is encrypted", (int)nl, name);
    if (e->method != 0 && e->method != 8)
        return nninit__err(NNINIT_ERR_FORMAT,
                           "npz: member '%.*s': compression method %u (%s); nninit reads stored (0) and deflated (8)",
                           (int)nl, name, e->method, method_name(e->method));
    if (e->method == 0 && e->csize != e->usize)
        return nninit__err(NNINIT_ERR_FORMAT,
                           "npz: member '%.*s' is stored, yet its compressed size %llu differs from its size %llu",
                           (int)nl, name, (unsigned long long)e->csize, (unsigned long long)e->usize);
    if (e->offset >= cd_off)
        return nninit__err(NNINIT_ERR_FORMAT,
                           "npz: member '%.*s': its local header at %llu is not before the central directory (%llu)",
                           (int)nl, name, (unsigned long long)e->offset, (unsigned long long)cd_off);
    *at += CENTRAL_SIZE + nl + xl + cl;
    return NNINIT_OK;
}

/* Member e's local header against its directory entry: e->data_start. */
static nninit_status check_local(nninit_npz_file *f, rentry *e, uint64_t cd_off, unsigned char *scratch) {
    const int nl = (int)e->zlen;
    const unsigned char *name = e->zname;
    unsigned char h[LOCAL_SIZE];
    nninit_status s;
    if (cd_off - e->offset < LOCAL_SIZE)
        return nninit__err(NNINIT_ERR_FORMAT, "npz: member '%.*s': its local header at %llu runs into the directory",
                           nl, name, (unsigned long long)e->offset);
    if ((s = src_read(f, e->offset, h, LOCAL_SIZE)) != NNINIT_OK) return s;
    if (le32(h) != SIG_LOCAL)
        return nninit__err(NNINIT_ERR_FORMAT, "npz: member '%.*s': no local header at %llu (bad signature)", nl, name,
                           (unsigned long long)e->offset);
    unsigned flags = le16(h + 6), method = le16(h + 8);
    size_t lnl = le16(h + 26), lxl = le16(h + 28);
    uint64_t crc = le32(h + 14), csize = le32(h + 18), usize = le32(h + 22);
    if (cd_off - e->offset - LOCAL_SIZE < lnl + lxl)
        return nninit__err(NNINIT_ERR_FORMAT, "npz: member '%.*s': its local header at %llu runs into the directory",
                           nl, name, (unsigned long long)e->offset);
    if ((s = src_read(f, e->offset + LOCAL_SIZE, scratch, lnl + lxl)) != NNINIT_OK) return s;
    if (lnl != e->zlen || memcmp(scratch, name, lnl) != 0)
        return nninit__err(NNINIT_ERR_FORMAT, "npz: member '%.*s': its local header at %llu names '%.*s'", nl, name,
                           (unsigned long long)e->offset, (int)(lnl < 200 ? lnl : 200), scratch);
    const unsigned mask = FLAG_ENCRYPTED | FLAG_DESCRIPTOR | FLAG_UTF8;
    if ((flags & mask) != (e->flags & mask) || method != e->method)
        return nninit__err(NNINIT_ERR_FORMAT,
                           "npz: member '%.*s': the local header says flags 0x%04x and method %u, the central "
                           "directory 0x%04x and %u",
                           nl, name, flags, method, e->flags, e->method);
    const unsigned char *z;
    size_t zn;
    if (!extra_zip64(scratch + lnl, lxl, &z, &zn, "local header", name, e->zlen)) return NNINIT_ERR_FORMAT;
    uint64_t *const v[2] = {&usize, &csize};
    if (!zip64_fields(z, zn, v, 2, "local header", name, e->zlen)) return NNINIT_ERR_FORMAT;
    int descr = (e->flags & FLAG_DESCRIPTOR) != 0;
    /* with a data descriptor the local values may be 0, the descriptor has them */
    if ((crc != e->crc && !(descr && crc == 0)) || (csize != e->csize && !(descr && csize == 0)) ||
        (usize != e->usize && !(descr && usize == 0)))
        return nninit__err(NNINIT_ERR_FORMAT,
                           "npz: member '%.*s': the local header says CRC %08llx, %llu bytes (%llu compressed), the "
                           "central directory %08lx, %llu (%llu)",
                           nl, name, (unsigned long long)crc, (unsigned long long)usize, (unsigned long long)csize,
                           (unsigned long)e->crc, (unsigned long long)e->usize, (unsigned long long)e->csize);
    e->data_start = e->offset + LOCAL_SIZE + lnl + lxl;
    if (e->csize > cd_off - e->data_start)
        return nninit__err(NNINIT_ERR_FORMAT,
                           "npz: member '%.*s': its %llu bytes at %llu run past the start of the central directory "
                           "(%llu)",
                           nl, name, (unsigned long long)e->csize, (unsigned long long)e->data_start,
                           (unsigned long long)cd_off);
    e->end = e->data_start + e->csize;
    return NNINIT_OK;
}

/* The data descriptor of e, the d bytes between its data and next. */
static nninit_status check_descriptor(nninit_npz_file *f, rentry *e, uint64_t next) {
    const int nl = (int)e->zlen;
    uint64_t d = next - e->end;
    unsigned char b[24];
    nninit_status s;
    if (d != 12 && d != 16 && d != 20 && d != 24)
        return nninit__err(NNINIT_ERR_FORMAT,
                           "npz: member '%.*s': %llu bytes follow its data, not a data descriptor (12 to 24)", nl,
                           e->zname, (unsigned long long)d);
    if ((s = src_read(f, e->end, b, (size_t)d)) != NNINIT_OK) return s;
    int sig = d == 16 || d == 24, wide = d >= 20;
    if (sig && le32(b) != SIG_DESCR)
        return nninit__err(NNINIT_ERR_FORMAT, "npz: member '%.*s': its data descriptor has a bad signature", nl,
                           e->zname);
    const unsigned char *p = b + (sig ? 4 : 0);
    uint64_t crc = le32(p), csize = wide ? le64(p + 4) : le32(p + 4), usize = wide ? le64(p + 12) : le32(p + 8);
    if (crc != e->crc || csize != e->csize || usize != e->usize)
        return nninit__err(NNINIT_ERR_FORMAT,
                           "npz: member '%.*s': its data descriptor says CRC %08llx, %llu bytes (%llu compressed), "
                           "the central directory %08lx, %llu (%llu)",
                           nl, e->zname, (unsigned long long)crc, (unsigned long long)usize, (unsigned long long)csize,
                           (unsigned long)e->crc, (unsigned long long)e->usize, (unsigned long long)e->csize);
    e->end = next;
    return NNINIT_OK;
}

/* Member i (already in f->m, data_start set): its .npy header, size and CRC. */
static nninit_status check_member(nninit_npz_file *f, size_t i, unsigned char *prefix, unsigned char *chunk) {
    nninit_npz_member *m = &f->m[i];
    uint64_t at = f->data_start[i];
    size_t have = 0;
    uint32_t crc = 0;
    nninit_status s;
    if (!m->deflated) {
        have = (size_t)(m->size < NPY_PREFIX ? m->size : NPY_PREFIX);
        if ((s = src_read(f, at, prefix, have)) != NNINIT_OK) return s;
        if (f->mem) {
            crc = crc_update(0, f->mem + at, (size_t)m->size);
        } else {
            for (uint64_t done = 0; done < m->size;) {
                size_t n = m->size - done < IO_CHUNK ? (size_t)(m->size - done) : IO_CHUNK;
                if ((s = src_read(f, at + done, chunk, n)) != NNINIT_OK) return s;
                crc = crc_update(crc, chunk, n);
                done += n;
            }
        }
    } else {
        if ((s = z_begin(f, i)) != NNINIT_OK) return s;
        uint64_t total = 0;
        for (int end = 0; !end;) {
            size_t got;
            if ((s = z_pull(f, chunk, IO_CHUNK, &got, &end)) != NNINIT_OK) return s;
            if (got > m->size - total) {
                f->z_live = 0;
                return nninit__err(NNINIT_ERR_FORMAT,
                                   "npz: member '%s.npy': inflates to more than the %llu bytes the directory says",
                                   m->name, (unsigned long long)m->size);
            }
            if (have < NPY_PREFIX) {
                size_t k = got < NPY_PREFIX - have ? got : NPY_PREFIX - have;
                memcpy(prefix + have, chunk, k);
                have += k;
            }
            crc = crc_update(crc, chunk, got);
            total += got;
        }
        f->z_live = 0;
        if (f->z.avail_in || f->z_in < m->compressed_size)
            return nninit__err(NNINIT_ERR_FORMAT,
                               "npz: member '%s.npy': %llu bytes after the end of its deflate stream", m->name,
                               (unsigned long long)(f->z.avail_in + (m->compressed_size - f->z_in)));
        if (total != m->size)
            return nninit__err(NNINIT_ERR_FORMAT,
                               "npz: member '%s.npy': inflates to %llu bytes, the directory says %llu", m->name,
                               (unsigned long long)total, (unsigned long long)m->size);
    }
    if (crc != m->crc32)
        return nninit__err(NNINIT_ERR_FORMAT, "npz: member '%s.npy': its CRC-32 is %08lx, the directory says %08lx",
                           m->name, (unsigned long)crc, (unsigned long)m->crc32);
    s = nninit_npy_parse(prefix, have, m->size, &m->npy);
    if (s != NNINIT_OK) return nninit__err(s, "npz: member '%s.npy': %s", m->name, nninit_last_error());
    return NNINIT_OK;
}

/* Everything, into f (whose fd or mem and size are set). */
static nninit_status npz_load(nninit_npz_file *f) {
    uint64_t cd_off = 0, cd_size = 0, count = 0;
    nninit_status s = find_directory(f, &cd_off, &cd_size, &count);
    if (s != NNINIT_OK) return s;
    if (count > SIZE_MAX / sizeof(rentry) || cd_size > SIZE_MAX)
        return nninit__err(NNINIT_ERR_NOMEM, "npz: %llu members: out of memory", (unsigned long long)count);
    size_t n = (size_t)count;
    unsigned char *cd = malloc(cd_size ? (size_t)cd_size : 1);
    rentry *e = malloc((n ? n : 1) * sizeof *e);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    unsigned char *scratch = malloc(2 * 65535 + NPY_PREFIX + IO_CHUNK);
    size_t pool_bytes = 0;
    if (!cd || !e || !order || !scratch) {
        s = nninit__err(NNINIT_ERR_NOMEM, "npz: out of memory");
        goto done;
    }
    if ((s = src_read(f, cd_off, cd, (size_t)cd_size)) != NNINIT_OK) goto done;
    uint64_t at = 0;
    for (size_t k = 0; k < n; k++) {
        if ((s = parse_central(cd, cd_size, cd_off, k, &at, &e[k])) != NNINIT_OK) goto done;
        pool_bytes += e[k].zlen - 3;
        order[k] = k;
    }
    if (at != cd_size) {
        s = nninit__err(NNINIT_ERR_FORMAT, "npz: %llu bytes after the %zu entries of the central directory",
                        (unsigned long long)(cd_size - at), n);
        goto done;
    }
    tl_entries = e;
    qsort(order, n, sizeof *order, cmp_entry_name);
    for (size_t k = 1; k < n; k++)
        if (cmp_name(&order[k - 1], &order[k], e) == 0) {
            s = nninit__err(NNINIT_ERR_FORMAT, "npz: two members are named '%.*s'", (int)e[order[k]].zlen,
                            e[order[k]].zname);
            goto done;
        }
    for (size_t k = 0; k < n; k++)
        if ((s = check_local(f, &e[k], cd_off, scratch)) != NNINIT_OK) goto done;

    /* the members and the directory tile the file from 0 */
    tl_entries = e;
    qsort(order, n, sizeof *order, cmp_entry_offset);
    uint64_t pos = 0;
    const rentry *prev = NULL;
    for (size_t k = 0; k < n; k++) {
        rentry *x = &e[order[k]];
        if (x->offset < pos) {
            s = nninit__err(NNINIT_ERR_FORMAT, "npz: member '%.*s' at %llu overlaps member '%.*s' [%llu, %llu)",
                            (int)x->zlen, x->zname, (unsigned long long)x->offset, (int)prev->zlen, prev->zname,
                            (unsigned long long)prev->offset, (unsigned long long)prev->end);
            goto done;
        }
        if (x->offset > pos) {
            s = nninit__err(NNINIT_ERR_FORMAT, "npz: %llu bytes at %llu that no member holds (before member '%.*s')",
                            (unsigned long long)(x->offset - pos), (unsigned long long)pos, (int)x->zlen, x->zname);
            goto done;
        }
        uint64_t next = k + 1 < n ? e[order[k + 1]].offset : cd_off;
        if ((x->flags & FLAG_DESCRIPTOR) && next >= x->end && (s = check_descriptor(f, x, next)) != NNINIT_OK)
            goto done;
        pos = x->end;
        prev = x;
    }
    if (pos != cd_off) {
        s = nninit__err(NNINIT_ERR_FORMAT,
                        "npz: %llu bytes at %llu that no member holds (before the central directory)",
                        (unsigned long long)(cd_off - pos), (unsigned long long)pos);
        goto done;
    }

    f->m = calloc(n ? n : 1, sizeof *f->m);
    f->data_start = malloc((n ? n : 1) * sizeof *f->data_start);
    f->by_name = malloc((n ? n : 1) * sizeof *f->by_name);
    f->pool = malloc(pool_bytes ? pool_bytes : 1);
    if (!f->m || !f->data_start || !f->by_name || !f->pool) {
        s = nninit__err(NNINIT_ERR_NOMEM, "npz: out of memory");
        goto done;
    }
    char *pool = f->pool;
    for (size_t k = 0; k < n; k++) {
        const rentry *x = &e[order[k]];
        nninit_npz_member *m = &f->m[k];
        memcpy(pool, x->zname, x->zlen - 4);
        pool[x->zlen - 4] = '\0';
        m->name = pool;
        pool += x->zlen - 3;
        m->deflated = x->method == 8;
        m->offset = x->offset;
        m->compressed_size = x->csize;
        m->size = x->usize;
        m->crc32 = x->crc;
        f->data_start[k] = x->data_start;
        f->by_name[k] = k;
    }
    f->n = n;
    for (size_t k = 0; k < n; k++)
        if ((s = check_member(f, k, scratch + 2 * 65535, scratch + 2 * 65535 + NPY_PREFIX)) != NNINIT_OK) goto done;
    tl_members = f->m;
    qsort(f->by_name, n, sizeof *f->by_name, cmp_member_name);
done:
    free(cd);
    free(e);
    free(order);
    free(scratch);
    return s;
}

static nninit_npz_file *file_new(void) {
    nninit_npz_file *f = calloc(1, sizeof *f);
    if (f) f->fd = -1;
    return f;
}

void nninit_npz_close(nninit_npz_file *f) {
    if (!f) return;
    if (f->z_init) inflateEnd(&f->z);
    if (f->fd >= 0) close(f->fd);
    free(f->m);
    free(f->data_start);
    free(f->by_name);
    free(f->pool);
    free(f->zbuf);
    free(f);
}

nninit_status nninit_npz_parse(const unsigned char *buf, size_t len, nninit_npz_file **out) {
    if (!buf || !out) return nninit__err(NNINIT_ERR_NULL, "npz_parse: %s is NULL", !buf ? "buf" : "f");
    nninit_npz_file *f = file_new();
    if (!f) return nninit__err(NNINIT_ERR_NOMEM, "npz_parse: out of memory");
    f->mem = buf;
    f->size = len;
    nninit_status s = npz_load(f);
    if (s != NNINIT_OK) {
        nninit_npz_close(f);
        return s;
    }
    *out = f;
    return NNINIT_OK;
}

nninit_status nninit_npz_open(const char *path, nninit_npz_file **out) {
    if (!path || !out) return nninit__err(NNINIT_ERR_NULL, "npz_open: %s is NULL", !path ? "path" : "f");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nninit__err(NNINIT_ERR_IO, "npz_open: %s: %s", path, strerror(errno));
    struct stat st;
    nninit_npz_file *f = NULL;
    nninit_status s;
    if (fstat(fd, &st) != 0) {
        s = nninit__err(NNINIT_ERR_IO, "npz_open: %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        s = nninit__err(NNINIT_ERR_IO, "npz_open: %s is not a regular file", path);
    } else if (!(f = file_new()) || !(f->zbuf = malloc(IO_CHUNK))) {
        s = nninit__err(NNINIT_ERR_NOMEM, "npz_open: %s: out of memory", path);
    } else {
        f->fd = fd;
        f->size = (uint64_t)st.st_size;
        if ((s = npz_load(f)) != NNINIT_OK) nninit__err(s, "npz_open: %s: %s", path, nninit_last_error());
    }
    if (s != NNINIT_OK) {
        if (!f || f->fd < 0) close(fd);
        nninit_npz_close(f); /* closes fd when it holds it */
        return s;
    }
    *out = f;
    return NNINIT_OK;
}

size_t nninit_npz_count(const nninit_npz_file *f) { return f ? f->n : 0; }

const nninit_npz_member *nninit_npz_member_at(const nninit_npz_file *f, size_t i) {
    return f && i < f->n ? &f->m[i] : NULL;
}

const nninit_npz_member *nninit_npz_find(const nninit_npz_file *f, const char *name) {
    if (!f || !name) return NULL;
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const nninit_npz_member *m = &f->m[f->by_name[mid]];
        int c = strcmp(name, m->name);
        if (c == 0) return m;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

nninit_status nninit_npz_read(nninit_npz_file *f, const nninit_npz_member *m, uint64_t off, size_t bytes, void *out) {
    static const char who[] = "npz_read";
    if (!f || !m || (!out && bytes))
        return nninit__err(NNINIT_ERR_NULL, "%s: %s is NULL", who, !f ? "f" : !m ? "m" : "out");
    uintptr_t p = (uintptr_t)m, lo = (uintptr_t)f->m, hi = (uintptr_t)(f->m + f->n);
    if (p < lo || p >= hi || (p - lo) % sizeof *m)
        return nninit__err(NNINIT_ERR_PARAM, "%s: m is not a member of this archive", who);
    size_t i = (size_t)(m - f->m);
    uint64_t n = m->npy.data_bytes;
    if (off > n || bytes > n - off)
        return nninit__err(NNINIT_ERR_SLICE, "%s: bytes [%llu, %llu + %zu) outside array '%s' (%llu bytes)", who,
                           (unsigned long long)off, (unsigned long long)off, bytes, m->name, (unsigned long long)n);
    if (bytes == 0) return NNINIT_OK;
    uint64_t target = m->npy.header_bytes + off;
    nninit_status s = NNINIT_OK;
    if (!m->deflated) {
        s = src_read(f, f->data_start[i] + target, out, bytes);
        return s == NNINIT_OK ? s : nninit__err(s, "%s: array '%s': %s", who, m->name, nninit_last_error());
    }
    if (!f->z_live || f->z_member != i || f->z_out > target) {
        if ((s = z_begin(f, i)) != NNINIT_OK) return s;
    }
    size_t got;
    int end = 0;
    while (f->z_out < target) {
        uint64_t skip = target - f->z_out;
        if ((s = z_pull(f, NULL, skip < SIZE_MAX ? (size_t)skip : SIZE_MAX, &got, &end)) != NNINIT_OK) break;
        if (end && f->z_out < target) {
            s = z_fail(f, m->name, "the deflate stream ends early", " (the archive changed)");
            break;
        }
    }
    if (s == NNINIT_OK && (s = z_pull(f, out, bytes, &got, &end)) == NNINIT_OK && got < bytes)
        s = z_fail(f, m->name, "the deflate stream ends early", " (the archive changed)");
    if (s == NNINIT_OK && end) f->z_live = 0;
    return s == NNINIT_OK ? s : nninit__err(s, "%s: %s", who, nninit_last_error());
}

/*
 * npy.c -- NumPy .npy files: the header (nninit_npy_header), the writer
 * (nninit_npy_write) and the validating reader (nninit_npy_parse, _open,
 * _read, _load); include/nninit_checkpoint.h describes what is checked.
 *
 * Format (numpy/lib/format.py, "NEP 1"): the magic "\x93NUMPY", the version
 * (major, minor), the header length (little-endian uint16 for 1.0, uint32
 * for 2.0 and 3.0), then an ASCII (3.0: UTF-8) Python dict literal
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (64, 3, 7, 7), }
 * padded with spaces and terminated by '\n', then the raw C-order data.
 * nninit writes 1.0, padded so that the data begin at a multiple of 64 bytes
 * (NumPy's ARRAY_ALIGN); a 1-D shape is "(n,)", a scalar's "()".
 *
 * The reader parses the dict as the Python literal NumPy writes, no more:
 * NumPy's reader evaluates it with ast.literal_eval, which also takes
 * newlines, comments, "1_000", "0x10" or "+5"; none of those is ever
 * written, and refusing them keeps the reader a small, exact grammar.
 *
 * The file is written atomically: to a fresh temporary file in the same
 * directory, flushed and fsync'd, then renamed over path. On any failure the
 * temporary file is removed and path is untouched. Temporaries follow the
 * pattern the CLI uses for all its files (tools/util/common.h):
 * "<dir>/.<base>.nninit-tmp.<pid>.<XXXXXX>", hidden, with the writer's pid;
 * their names, and the sweep of those that killed writers left behind, are
 * src/io/atomic.c's, shared with the safetensors and npz writers.
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

#include "internal.h"
#include "io/atomic.h"
#include "nninit_checkpoint.h"

#define NPY_ALIGN    64
#define NPY_PREAMBLE 10 /* magic (6) + version (2) + header length (2); 12 for 2.0 and 3.0 */

/* NumPy has no bfloat16: its bit patterns are stored as little-endian uint16. */
static const char *npy_descr(nninit_dtype d) {
    switch (d) {
    case NNINIT_F32: return "<f4";
    case NNINIT_F64: return "<f8";
    case NNINIT_F16: return "<f2";
    case NNINIT_BF16: return "<u2";
    }
    return NULL;
}

static size_t npy_elem_size(nninit_dtype d) {
    switch (d) {
    case NNINIT_F32: return 4;
    case NNINIT_F64: return 8;
    case NNINIT_F16:
    case NNINIT_BF16: return 2;
    }
    return 0;
}

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* ---- the header ------------------------------------------------------------ */

/* Builds the whole header (preamble + padded dict) into buf; returns its
 * length, a multiple of NPY_ALIGN, or 0 if it does not fit. */
static size_t npy_header(char *buf, size_t cap, const char *descr, int ndim, const int64_t *shape) {
    char dict[512];
    size_t n = 0;
    int w = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    if (w < 0) return 0;
    n = (size_t)w;
    for (int i = 0; i < ndim; i++) {
        w = snprintf(dict + n, sizeof dict - n, i ? ", %lld" : "%lld", (long long)shape[i]);
        if (w < 0 || (size_t)w >= sizeof dict - n) return 0;
        n += (size_t)w;
    }
    w = snprintf(dict + n, sizeof dict - n, ndim == 1 ? ",), }" : "), }");
    if (w < 0 || (size_t)w >= sizeof dict - n) return 0;
    n += (size_t)w;

    /* Pad with spaces so that preamble + dict + '\n' is a multiple of 64. */
    size_t total = NPY_PREAMBLE + n + 1;
    total = (total + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    size_t hlen = total - NPY_PREAMBLE;
    if (total > cap || hlen > 65535) return 0;

    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)(hlen & 0xff);
    buf[9] = (char)(hlen >> 8);
    memcpy(buf + NPY_PREAMBLE, dict, n);
    memset(buf + NPY_PREAMBLE + n, ' ', hlen - n - 1);
    buf[total - 1] = '\n';
    return total;
}

nninit_status nninit_npy_header(nninit_dtype dtype, int ndim, const int64_t *shape, unsigned char *out, size_t cap,
                                size_t *len, uint64_t *data_bytes) {
    static const char who[] = "npy_header";
    if ((!shape && ndim > 0) || !out || !len)
        return nninit__err(NNINIT_ERR_NULL, "%s: %s is NULL", who, !out ? "out" : !len ? "len" : "shape");
    if (ndim < 0 || ndim > NNINIT_MAX_DIMS)
        return nninit__err(NNINIT_ERR_SHAPE, "%s: ndim %d outside 0..%d", who, ndim, NNINIT_MAX_DIMS);
    const char *descr = npy_descr(dtype);
    if (!descr) return nninit__err(NNINIT_ERR_DTYPE, "%s: unknown dtype %d", who, (int)dtype);
    int empty = 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return nninit__err(NNINIT_ERR_SHAPE, "%s: shape[%d] = %lld is negative", who, i, (long long)shape[i]);
        if (shape[i] == 0) empty = 1;
    }
    uint64_t bytes = empty ? 0 : npy_elem_size(dtype);
    for (int i = 0; i < ndim && bytes; i++) {
        if ((uint64_t)shape[i] > (uint64_t)INT64_MAX / bytes)
            return nninit__err(NNINIT_ERR_OVERFLOW, "%s: the data's size overflows (2^63 bytes or more)", who);
        bytes *= (uint64_t)shape[i];
    }
    char h[NNINIT_NPY_HEADER_MAX];
    size_t n = npy_header(h, sizeof h, descr, ndim, shape);
    if (n == 0) return nninit__err(NNINIT_ERR_SHAPE, "%s: header does not fit", who); /* int64 dims: never */
    if (n > cap) return nninit__err(NNINIT_ERR_PARAM, "%s: the header needs %zu bytes, out holds %zu", who, n, cap);
    memcpy(out, h, n);
    *len = n;
    if (data_bytes) *data_bytes = bytes;
    return NNINIT_OK;
}

/* ---- writing ---------------------------------------------------------------- */

/* Writes nbytes of data as little-endian elements of size esize. */
static int write_data(FILE *f, const unsigned char *data, size_t nbytes, size_t esize) {
    if (host_is_little_endian()) return fwrite(data, 1, nbytes, f) == nbytes;
    unsigned char chunk[4096];
    size_t per = sizeof chunk / esize;
    for (size_t off = 0; off < nbytes;) {
        size_t m = (nbytes - off) / esize;
        if (m > per) m = per;
        for (size_t e = 0; e < m; e++)
            for (size_t k = 0; k < esize; k++) chunk[e * esize + k] = data[off + e * esize + (esize - 1 - k)];
        if (fwrite(chunk, esize, m, f) != m) return 0;
        off += m * esize;
    }
    return 1;
}

nninit_status nninit_npy_write(const char *path, const void *data, nninit_dtype dtype, int ndim, const int64_t *shape) {
    if (!path || !data || !shape)
        return nninit__err(NNINIT_ERR_NULL, "npy_write: %s is NULL", !path ? "path" : !data ? "data" : "shape");
    if (ndim < 1 || ndim > NNINIT_MAX_DIMS)
        return nninit__err(NNINIT_ERR_SHAPE, "npy_write: ndim %d outside 1..%d", ndim, NNINIT_MAX_DIMS);
    const char *descr = npy_descr(dtype);
    size_t esize = npy_elem_size(dtype);
    if (!descr) return nninit__err(NNINIT_ERR_DTYPE, "npy_write: unknown dtype %d", (int)dtype);
    size_t nbytes = esize;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1)
            return nninit__err(NNINIT_ERR_SHAPE, "npy_write: shape[%d] = %lld must be >= 1", i, (long long)shape[i]);
        if ((uint64_t)shape[i] > SIZE_MAX / nbytes || (uint64_t)shape[i] > INT64_MAX / nbytes)
            return nninit__err(NNINIT_ERR_OVERFLOW, "npy_write: tensor size overflows");
        nbytes *= (size_t)shape[i];
    }

    char header[1024];
    size_t hsize = npy_header(header, sizeof header, descr, ndim, shape);
    if (hsize == 0) /* cannot happen for ndim <= 8 and int64 dims */
        return nninit__err(NNINIT_ERR_SHAPE, "npy_write: header does not fit");

    nninit_status ts = nninit__atomic_check_target(path, "npy_write");
    if (ts != NNINIT_OK) return ts;
    nninit__sweep_dead_temps(path);
    size_t cap = nninit__temp_cap(path);
    char *tmp = malloc(cap);
    if (!tmp) return nninit__err(NNINIT_ERR_NOMEM, "npy_write: out of memory");
    int fd = nninit__open_temp(path, tmp, cap);
    if (fd < 0) {
        nninit_status s =
            nninit__err(NNINIT_ERR_IO, "npy_write: cannot create a file next to %s: %s", path, strerror(errno));
        free(tmp);
        return s;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        nninit_status s = nninit__err(NNINIT_ERR_IO, "npy_write: %s: %s", tmp, strerror(e));
        free(tmp);
        return s;
    }

    const char *what = NULL;
    if (fwrite(header, 1, hsize, f) != hsize || !write_data(f, data, nbytes, esize)) what = "write";
    else if (fflush(f) != 0) what = "flush";
    else if (fsync(fd) != 0) what = "fsync";
    int e = errno;
    if (fclose(f) != 0 && !what) {
        what = "close";
        e = errno;
    }
    if (!what && rename(tmp, path) != 0) {
        what = "rename";
        e = errno;
    }
    if (what) {
        unlink(tmp);
        nninit_status s = nninit__err(NNINIT_ERR_IO, "npy_write: %s %s: %s", what, path, strerror(e));
        free(tmp);
        return s;
    }
    free(tmp);
    nninit__sync_parent_dir(path);
    return NNINIT_OK;
}

/* ---- parsing the header ------------------------------------------------------- */

/* The dict's text, h[0, n), at file offset base (for the messages). */
typedef struct {
    const unsigned char *h;
    size_t i, n;
    uint64_t base;
} npy_lex;

static nninit_status lex_fail(const npy_lex *x, const char *what) {
    if (x->i >= x->n)
        return nninit__err(NNINIT_ERR_FORMAT, "npy: header: %s, found the end of the header (byte %llu)", what,
                           (unsigned long long)(x->base + x->n));
    unsigned c = x->h[x->i];
    if (c >= 0x20 && c < 0x7f)
        return nninit__err(NNINIT_ERR_FORMAT, "npy: header: %s, found '%c' at byte %llu", what, (char)c,
                           (unsigned long long)(x->base + x->i));
    return nninit__err(NNINIT_ERR_FORMAT, "npy: header: %s, found byte 0x%02x at byte %llu", what, c,
                       (unsigned long long)(x->base + x->i));
}

static void lex_space(npy_lex *x) {
    while (x->i < x->n && x->h[x->i] == ' ') x->i++;
}

/* Skips spaces, then eats c if it is next. */
static int lex_eat(npy_lex *x, char c) {
    lex_space(x);
    if (x->i < x->n && x->h[x->i] == (unsigned char)c) {
        x->i++;
        return 1;
    }
    return 0;
}

/* A string literal in ' or " quotes, printable ASCII without escapes, into
 * out (cap bytes, NUL included): 1; 0 with the message set. */
static int lex_string(npy_lex *x, char *out, size_t cap, const char *what) {
    lex_space(x);
    if (x->i >= x->n || (x->h[x->i] != '\'' && x->h[x->i] != '"')) {
        lex_fail(x, what);
        return 0;
    }
    unsigned char q = x->h[x->i++];
    size_t k = 0, at = x->i;
    for (;; x->i++) {
        if (x->i >= x->n) {
            lex_fail(x, "an unterminated string");
            return 0;
        }
        unsigned char c = x->h[x->i];
        if (c == q) break;
        if (c == '\\' || c < 0x20 || c >= 0x7f) {
            lex_fail(x, "a string of printable ASCII without escapes");
            return 0;
        }
        if (k + 1 >= cap) {
            nninit__err(NNINIT_ERR_FORMAT, "npy: header: the string at byte %llu is longer than %zu bytes",
                        (unsigned long long)(x->base + at), cap - 1);
            return 0;
        }
        out[k++] = (char)c;
    }
    x->i++;
    out[k] = '\0';
    return 1;
}

static int lex_is_word_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* True or False: 1 with *v; 0 with the message set. */
static int lex_bool(npy_lex *x, int *v) {
    lex_space(x);
    static const char *const words[2] = {"False", "True"};
    for (int b = 0; b < 2; b++) {
        size_t L = strlen(words[b]);
        if (x->n - x->i >= L && memcmp(x->h + x->i, words[b], L) == 0 &&
            (x->i + L == x->n || !lex_is_word_char(x->h[x->i + L]))) {
            x->i += L;
            *v = b;
            return 1;
        }
    }
    lex_fail(x, "fortran_order is True or False");
    return 0;
}

/* A shape: a tuple of non-negative decimal integers as Python writes it,
 * "()", "(5,)", "(2, 3)", "(2, 3,)". 1, or 0 with the message set. */
static int lex_shape(npy_lex *x, int *ndim, int64_t *dims) {
    if (!lex_eat(x, '(')) {
        lex_fail(x, "shape is a tuple, '('");
        return 0;
    }
    int n = 0, comma = 0;
    for (;;) {
        lex_space(x);
        if (x->i < x->n && x->h[x->i] == ')') break;
        if (n > 0 && !comma) {
            lex_fail(x, "',' or ')' in the shape");
            return 0;
        }
        int neg = x->i < x->n && x->h[x->i] == '-';
        size_t at = x->i;
        if (neg) x->i++;
        if (x->i >= x->n || x->h[x->i] < '0' || x->h[x->i] > '9') {
            lex_fail(x, n ? "an integer or ')' in the shape" : "an integer, or ')', in the shape");
            return 0;
        }
        if (x->h[x->i] == '0' && x->i + 1 < x->n && x->h[x->i + 1] >= '0' && x->h[x->i + 1] <= '9') {
            nninit__err(NNINIT_ERR_FORMAT, "npy: header: shape[%d] at byte %llu has a leading zero (not Python)", n,
                        (unsigned long long)(x->base + at));
            return 0;
        }
        uint64_t v = 0;
        int big = 0;
        for (; x->i < x->n && x->h[x->i] >= '0' && x->h[x->i] <= '9'; x->i++) {
            uint64_t d = (uint64_t)(x->h[x->i] - '0');
            if (big || v > ((uint64_t)INT64_MAX - d) / 10) big = 1;
            else v = v * 10 + d;
        }
        if (x->i < x->n && lex_is_word_char(x->h[x->i])) {
            lex_fail(x, "a decimal integer in the shape");
            return 0;
        }
        if (n == NNINIT_MAX_DIMS) {
            nninit__err(NNINIT_ERR_FORMAT, "npy: header: the shape has more than %d dimensions (nninit reads %d)",
                        NNINIT_MAX_DIMS, NNINIT_MAX_DIMS);
            return 0;
        }
        if (neg) {
            nninit__err(NNINIT_ERR_FORMAT, "npy: header: shape[%d] at byte %llu is negative", n,
                        (unsigned long long)(x->base + at));
            return 0;
        }
        if (big || v > (uint64_t)INT64_MAX) {
            nninit__err(NNINIT_ERR_FORMAT, "npy: header: shape[%d] at byte %llu is above 2^63 - 1", n,
                        (unsigned long long)(x->base + at));
            return 0;
        }
        dims[n++] = (int64_t)v;
        comma = lex_eat(x, ',');
    }
    x->i++; /* ')' */
    if (n == 1 && !comma) {
        nninit__err(NNINIT_ERR_FORMAT, "npy: header: shape (%lld) is an integer, not a tuple: one dimension is (%lld,)",
                    (long long)dims[0], (long long)dims[0]);
        return 0;
    }
    *ndim = n;
    return 1;
}

/* What a descr nninit does not read is, for the message: "int64",
 * "big-endian float32", or "" when it is not a simple NumPy type. */
static void descr_describe(const char *d, char *out, size_t cap) {
    out[0] = '\0';
    const char *order = "";
    if (*d == '<' || *d == '|' || *d == '=') d++;
    else if (*d == '>') order = "big-endian ", d++;
    static const struct {
        char kind;
        const char *name;
    } kinds[] = {{'f', "float"}, {'i', "int"}, {'u', "uint"}, {'c', "complex"},  {'b', "bool"},
                 {'S', "bytes"}, {'U', "str"}, {'V', "void"}, {'M', "datetime"}, {'m', "timedelta"}};
    if (*d == 'O' && (!d[1] || d[1] == '8')) {
        snprintf(out, cap, "Python objects, a pickle");
        return;
    }
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        if (*d != kinds[k].kind) continue;
        char *end;
        long bytes = strtol(d + 1, &end, 10);
        if (end == d + 1 || bytes <= 0 || bytes > 4096) return;
        if (*d == 'b' && bytes == 1 && !*end) snprintf(out, cap, "bool");
        else if (strchr("fiuc", *d) && !*end) snprintf(out, cap, "%s%s%ld", order, kinds[k].name, bytes * 8);
        else snprintf(out, cap, "%s%s", order, kinds[k].name);
        return;
    }
}

nninit_status nninit_npy_parse(const unsigned char *buf, size_t len, uint64_t file_size, nninit_npy_info *out) {
    if (!buf || !out) return nninit__err(NNINIT_ERR_NULL, "npy_parse: %s is NULL", !buf ? "buf" : "info");
    uint64_t have = len < file_size ? len : file_size;
    if (memcmp(buf, "\x93NUMPY", have < 6 ? (size_t)have : 6) != 0)
        return nninit__err(NNINIT_ERR_FORMAT, "npy: not a .npy file: it does not begin with \\x93NUMPY");
    if (file_size < NPY_PREAMBLE)
        return nninit__err(NNINIT_ERR_FORMAT, "npy: %llu bytes, shorter than the 10-byte preamble: truncated",
                           (unsigned long long)file_size);
    if (len < NPY_PREAMBLE)
        return nninit__err(NNINIT_ERR_FORMAT, "npy_parse: the buffer holds %zu bytes, the preamble needs 10", len);
    nninit_npy_info info;
    memset(&info, 0, sizeof info);
    if ((buf[6] != 1 && buf[6] != 2 && buf[6] != 3) || buf[7] != 0)
        return nninit__err(NNINIT_ERR_FORMAT, "npy: version %u.%u (nninit reads 1.0, 2.0 and 3.0)", buf[6], buf[7]);
    info.version = buf[6];
    uint64_t pre = info.version == 1 ? 10 : 12, hlen;
    if (file_size < pre)
        return nninit__err(NNINIT_ERR_FORMAT, "npy: %llu bytes, shorter than the %llu-byte preamble: truncated",
                           (unsigned long long)file_size, (unsigned long long)pre);
    if (len < pre)
        return nninit__err(NNINIT_ERR_FORMAT, "npy_parse: the buffer holds %zu bytes, the preamble needs %llu", len,
                           (unsigned long long)pre);
    if (info.version == 1) hlen = (uint64_t)buf[8] | (uint64_t)buf[9] << 8;
    else hlen = (uint64_t)buf[8] | (uint64_t)buf[9] << 8 | (uint64_t)buf[10] << 16 | (uint64_t)buf[11] << 24;
    if (hlen == 0) return nninit__err(NNINIT_ERR_FORMAT, "npy: the header length is 0");
    if (hlen > NNINIT_NPY_MAX_HEADER)
        return nninit__err(NNINIT_ERR_FORMAT, "npy: a header of %llu bytes is over the limit (%d, NumPy's)",
                           (unsigned long long)hlen, NNINIT_NPY_MAX_HEADER);
    if (hlen > file_size - pre)
        return nninit__err(NNINIT_ERR_FORMAT,
                           "npy: the header of %llu bytes goes beyond the end of the file (%llu bytes): truncated",
                           (unsigned long long)hlen, (unsigned long long)file_size);
    if (hlen > len - pre)
        return nninit__err(NNINIT_ERR_FORMAT, "npy_parse: the buffer holds %zu bytes, the header needs %llu", len,
                           (unsigned long long)(pre + hlen));
    info.header_bytes = pre + hlen;

    /* the dict, then spaces, then '\n' as the last byte */
    if (buf[pre + hlen - 1] != '\n')
        return nninit__err(NNINIT_ERR_FORMAT, "npy: header: its last byte (byte %llu) is not '\\n'",
                           (unsigned long long)(pre + hlen - 1));
    npy_lex x = {buf + pre, 0, (size_t)hlen - 1, pre};
    if (!lex_eat(&x, '{')) return lex_fail(&x, "a dict, '{'");
    char descr[64] = "";
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
    for (;;) {
        if (lex_eat(&x, '}')) break;
        char key[32];
        size_t key_at = x.i;
        if (!lex_string(&x, key, sizeof key, "a key in quotes, or '}'")) return NNINIT_ERR_FORMAT;
        int *seen = !strcmp(key, "descr")           ? &seen_descr
                    : !strcmp(key, "fortran_order") ? &seen_fortran
                    : !strcmp(key, "shape")         ? &seen_shape
                                                    : NULL;
        if (!seen)
            return nninit__err(NNINIT_ERR_FORMAT,
                               "npy: header: unknown key '%s' at byte %llu (the keys are descr, fortran_order, shape)",
                               key, (unsigned long long)(x.base + key_at));
        if (*seen) return nninit__err(NNINIT_ERR_FORMAT, "npy: header: '%s' given twice", key);
        *seen = 1;
        if (!lex_eat(&x, ':')) return lex_fail(&x, "':' after the key");
        if (seen == &seen_descr) {
            lex_space(&x);
            if (x.i < x.n && x.h[x.i] == '[')
                return nninit__err(NNINIT_ERR_DTYPE,
                                   "npy: descr is a list of fields, a structured dtype: nninit reads '<f4', '<f8', "
                                   "'<f2' and '<u2' (bf16 bits)");
            if (!lex_string(&x, descr, sizeof descr, "descr, a string")) return NNINIT_ERR_FORMAT;
        } else if (seen == &seen_fortran) {
            if (!lex_bool(&x, &info.fortran_order)) return NNINIT_ERR_FORMAT;
        } else if (!lex_shape(&x, &info.ndim, info.shape)) {
            return NNINIT_ERR_FORMAT;
        }
        if (!lex_eat(&x, ',')) {
            if (lex_eat(&x, '}')) break;
            return lex_fail(&x, "',' or '}'");
        }
    }
    lex_space(&x);
    if (x.i != x.n) return lex_fail(&x, "only spaces, then '\\n', after the dict");
    if (!seen_descr || !seen_fortran || !seen_shape)
        return nninit__err(NNINIT_ERR_FORMAT, "npy: header: no '%s'",
                           !seen_descr     ? "descr"
                           : !seen_fortran ? "fortran_order"
                                           : "shape");

    static const nninit_dtype dtypes[4] = {NNINIT_F32, NNINIT_F64, NNINIT_F16, NNINIT_BF16};
    int found = 0;
    for (int k = 0; k < 4 && !found; k++)
        if (!strcmp(descr, npy_descr(dtypes[k]))) {
            info.dtype = dtypes[k];
            memcpy(info.descr, descr, 4);
            found = 1;
        }
    if (!found) {
        char what[64];
        descr_describe(descr, what, sizeof what);
        return nninit__err(NNINIT_ERR_DTYPE,
                           "npy: dtype '%s'%s%s%s: nninit reads '<f4', '<f8', '<f2' and '<u2' (bf16 bits)", descr,
                           *what ? " (" : "", what, *what ? ")" : "");
    }

    /* sizes: a zero dimension makes the array empty, whatever the others */
    uint64_t numel = 1;
    int over = 0;
    for (int i = 0; i < info.ndim; i++)
        if (info.shape[i] == 0) numel = 0;
    for (int i = 0; i < info.ndim && numel; i++) {
        if ((uint64_t)info.shape[i] > (uint64_t)INT64_MAX / numel) over = 1;
        else numel *= (uint64_t)info.shape[i];
    }
    size_t es = npy_elem_size(info.dtype);
    if (over || numel > ((uint64_t)INT64_MAX - info.header_bytes) / es) {
        char dims[256];
        size_t k = 0;
        for (int i = 0; i < info.ndim; i++)
            k += (size_t)snprintf(dims + k, sizeof dims - k, i ? ", %lld" : "%lld", (long long)info.shape[i]);
        return nninit__err(NNINIT_ERR_FORMAT, "npy: shape (%s) of '%s' makes 2^63 bytes or more", dims, descr);
    }
    info.numel = numel;
    info.data_bytes = numel * es;
    uint64_t held = file_size - info.header_bytes;
    if (held < info.data_bytes)
        return nninit__err(NNINIT_ERR_FORMAT,
                           "npy: the data need %llu bytes, the file holds %llu after the header: truncated",
                           (unsigned long long)info.data_bytes, (unsigned long long)held);
    if (held > info.data_bytes)
        return nninit__err(NNINIT_ERR_FORMAT, "npy: %llu bytes after the data's %llu (at byte %llu): trailing data",
                           (unsigned long long)(held - info.data_bytes), (unsigned long long)info.data_bytes,
                           (unsigned long long)(info.header_bytes + info.data_bytes));
    *out = info;
    return NNINIT_OK;
}

/* ---- reading a file ----------------------------------------------------------- */

struct nninit_npy_file {
    int fd;
    nninit_npy_info info;
};

nninit_status nninit_npy_open(const char *path, nninit_npy_file **out) {
    if (!path || !out) return nninit__err(NNINIT_ERR_NULL, "npy_open: %s is NULL", !path ? "path" : "f");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nninit__err(NNINIT_ERR_IO, "npy_open: %s: %s", path, strerror(errno));
    struct stat st;
    nninit_status s;
    nninit_npy_file *f = NULL;
    unsigned char *head = NULL;
    int e;
    if (fstat(fd, &st) != 0) {
        s = nninit__err(NNINIT_ERR_IO, "npy_open: %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        s = nninit__err(NNINIT_ERR_IO, "npy_open: %s is not a regular file", path);
    } else {
        uint64_t size = (uint64_t)st.st_size, want = 12 + NNINIT_NPY_MAX_HEADER;
        size_t n = (size_t)(size < want ? size : want);
        if (!(head = malloc(n ? n : 1)) || !(f = malloc(sizeof *f))) {
            s = nninit__err(NNINIT_ERR_NOMEM, "npy_open: %s: out of memory", path);
        } else if ((e = nninit__pread_all(fd, head, n, 0)) != 0) {
            s = nninit__err(NNINIT_ERR_IO, "npy_open: read %s: %s", path, e == EIO ? "the file shrank" : strerror(e));
        } else if ((s = nninit_npy_parse(head, n, size, &f->info)) != NNINIT_OK) {
            nninit__err(s, "npy_open: %s: %s", path, nninit_last_error());
        }
    }
    free(head);
    if (s != NNINIT_OK) {
        free(f);
        close(fd);
        return s;
    }
    f->fd = fd;
    *out = f;
    return NNINIT_OK;
}

const nninit_npy_info *nninit_npy_file_info(const nninit_npy_file *f) { return f ? &f->info : NULL; }

nninit_status nninit_npy_read(const nninit_npy_file *f, uint64_t off, size_t bytes, void *out) {
    if (!f || (!out && bytes)) return nninit__err(NNINIT_ERR_NULL, "npy_read: %s is NULL", !f ? "f" : "out");
    uint64_t n = f->info.data_bytes;
    if (off > n || bytes > n - off)
        return nninit__err(NNINIT_ERR_SLICE, "npy_read: bytes [%llu, %llu + %zu) outside the data (%llu bytes)",
                           (unsigned long long)off, (unsigned long long)off, bytes, (unsigned long long)n);
    if (bytes == 0) return NNINIT_OK;
    int e = nninit__pread_all(f->fd, out, bytes, f->info.header_bytes + off);
    if (e) return nninit__err(NNINIT_ERR_IO, "npy_read: %s", e == EIO ? "the file shrank" : strerror(e));
    return NNINIT_OK;
}

void nninit_npy_close(nninit_npy_file *f) {
    if (!f) return;
    close(f->fd);
    free(f);
}

nninit_status nninit_npy_load(const char *path, nninit_npy_info *info, void **data) {
    if (!path || !info || !data)
        return nninit__err(NNINIT_ERR_NULL, "npy_load: %s is NULL", !path ? "path" : !info ? "info" : "data");
    nninit_npy_file *f;
    nninit_status s = nninit_npy_open(path, &f);
    if (s != NNINIT_OK) return s;
    uint64_t n = f->info.data_bytes;
    unsigned char *p = n <= SIZE_MAX ? malloc(n ? (size_t)n : 1) : NULL;
    if (!p) {
        nninit_npy_close(f);
        return nninit__err(NNINIT_ERR_NOMEM, "npy_load: %s: no memory for %llu bytes of data", path,
                           (unsigned long long)n);
    }
    s = nninit_npy_read(f, 0, (size_t)n, p);
    if (s != NNINIT_OK) {
        nninit__err(s, "npy_load: %s: %s", path, nninit_last_error());
        free(p);
        nninit_npy_close(f);
        return s;
    }
    size_t es = npy_elem_size(f->info.dtype);
    if (!host_is_little_endian())
        for (size_t i = 0; i < (size_t)n; i += es)
            for (size_t a = 0, b = es - 1; a < b; a++, b--) {
                unsigned char t = p[i + a];
                p[i + a] = p[i + b];
                p[i + b] = t;
            }
    *info = f->info;
    *data = p;
    nninit_npy_close(f);
    return NNINIT_OK;
}

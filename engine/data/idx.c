/* idx.c -- gzipped IDX files (MNIST, Fashion-MNIST) into caller-freed arrays.
 *
 * Every byte of a file is checked against its header: the gzip magic (zlib
 * would otherwise pass plain bytes through), the IDX magic, dims >= 1, and
 * exactly as many data bytes as the header declares (fewer: truncated; more:
 * trailing data, a sign of a wrong header). The data is read into a buffer
 * that grows with what the file actually holds, so a corrupt header that
 * declares gigabytes costs no more memory than the file's real content.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "internal.h"
#include "nninit_data.h"

#define IDX_MAX_BYTES     ((size_t)INT32_MAX) /* n*rows*cols as an int, as the API reports it */
#define IDX_TRAILER_CHECK ((size_t)64 << 20)  /* declarations above this must match the gzip trailer */

#if defined(__GNUC__)
static nninit_status io_err(const char *path, const char *fmt, ...) NNINIT_PRINTF(2, 3);
#endif
/* NNINIT_ERR_IO with "path: " before the message. */
static nninit_status io_err(const char *path, const char *fmt, ...) {
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nninit__err(NNINIT_ERR_IO, "%s: %s", path, msg);
}

/* A gzip reader on inflate() itself: every member must reach its end (CRC
 * and length checked by inflate); bytes after a member that do not start
 * another are ignored (as gzread does). Not gzread: it reports a file cut
 * short as complete (no error when the cut is in the trailer, and it can
 * stop early, without an error, when the cut is in the deflate data). */
typedef struct {
    FILE *f;
    z_stream z;
    int eof, ended, cut; /* fread at the end; stream ended; input ran out first */
    unsigned char in[1 << 16];
} gzr;

static void gzr_close(gzr *r) {
    if (!r) return;
    inflateEnd(&r->z);
    fclose(r->f);
    free(r);
}

static void gzr_fill(gzr *r) {
    if (r->eof) return;
    memmove(r->in, r->z.next_in, r->z.avail_in);
    size_t n = fread(r->in + r->z.avail_in, 1, sizeof r->in - r->z.avail_in, r->f);
    if (n == 0) r->eof = 1;
    r->z.next_in = r->in;
    r->z.avail_in += (unsigned)n;
}

/* Opens path for gzip reading, after checking that it exists, is readable,
 * is not empty and starts with the gzip magic 1f 8b (RFC 1952). */
static nninit_status gz_open(const char *path, gzr **out, uint32_t *isize) {
    FILE *f = fopen(path, "rb");
    if (!f) return io_err(path, "cannot open: %s", strerror(errno));
    unsigned char m[2] = {0, 0}, t[4] = {0, 0, 0, 0};
    size_t got = fread(m, 1, 2, f);
    int err = ferror(f) ? errno : 0;
    /* the gzip trailer's ISIZE: the uncompressed size mod 2^32 (RFC 1952) */
    *isize = 0;
    if (!err && got == 2 && fseek(f, -4, SEEK_END) == 0 && fread(t, 1, 4, f) == 4)
        *isize = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    if (err) {
        fclose(f);
        return io_err(path, "cannot read: %s", strerror(err));
    }
    if (got == 0) {
        fclose(f);
        return io_err(path, "empty file (0 bytes); expected a gzipped IDX file");
    }
    if (got < 2 || m[0] != 0x1f || m[1] != 0x8b) {
        fclose(f);
        return io_err(path,
                      "not a gzip file (it starts with 0x%02x 0x%02x, gzip with 0x1f 0x8b); expected a gzipped "
                      "IDX file (.gz)",
                      m[0], m[1]);
    }
    gzr *r = calloc(1, sizeof *r);
    if (!r || fseek(f, 0, SEEK_SET) != 0 || inflateInit2(&r->z, 15 + 16) != Z_OK) {
        free(r);
        fclose(f);
        return io_err(path, "cannot open: zlib could not allocate its state");
    }
    r->f = f;
    r->z.next_in = r->in;
    *out = r;
    return NNINIT_OK;
}

/* Reads up to want bytes; *got is what arrived. A corrupt or cut gzip
 * stream is an error naming what was expected. */
static nninit_status gz_read(gzr *r, const char *path, void *buf, size_t want, size_t *got, const char *what) {
    *got = 0;
    while (*got < want && !r->ended) {
        if (r->z.avail_in == 0) gzr_fill(r);
        size_t chunk = want - *got;
        if (chunk > (1u << 30)) chunk = 1u << 30;
        r->z.next_out = (unsigned char *)buf + *got;
        r->z.avail_out = (unsigned)chunk;
        int ret = inflate(&r->z, Z_NO_FLUSH);
        *got += chunk - r->z.avail_out;
        if (ret == Z_STREAM_END) { /* another member, or the end */
            if (r->z.avail_in < 2) gzr_fill(r);
            if (r->z.avail_in >= 2 && r->z.next_in[0] == 0x1f && r->z.next_in[1] == 0x8b) inflateReset(&r->z);
            else r->ended = 1;
        } else if (ret == Z_BUF_ERROR && r->z.avail_in == 0 && r->eof) {
            r->cut = 1; /* a short read: the caller names what is missing */
            break;
        } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            return nninit__err(NNINIT_ERR_IO, "%s: corrupt gzip stream (%s) while reading %s", path,
                               r->z.msg ? r->z.msg : "zlib error", what);
        }
    }
    if (r->cut && *got == 0) /* everything declared arrived, but not the stream's end */
        return nninit__err(NNINIT_ERR_IO, "%s: truncated: the gzip stream is cut short (no end, no CRC) after %s", path,
                           what);
    return NNINIT_OK;
}

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Reads a whole IDX u8 file with ndim dims: dims[] and a malloc'd payload.
 * expect (may be NULL) are the dims the caller needs: d > 0 exactly d, -d at
 * most d, 0 any.
 * Before any data is decompressed the header is checked against them and
 * against the gzip trailer's size, so a small file that declares gigabytes
 * (a gzip bomb, a wrong file) is refused, not inflated. */
static nninit_status idx_read(const char *path, uint32_t magic, int ndim, const int *expect, int *dims,
                              unsigned char **data) {
    const char *kind = magic == NNINIT_IDX_MAGIC_IMAGES ? "image" : "label";
    gzr *gz = NULL;
    unsigned char hdr[4 + 4 * 3];
    size_t got, hlen = 4 + 4 * (size_t)ndim;
    uint32_t isize = 0;
    nninit_status st = gz_open(path, &gz, &isize);
    if (st) return st;
    if ((st = gz_read(gz, path, hdr, hlen, &got, "the IDX header"))) goto fail;
    if (got < 4) {
        st = nninit__err(NNINIT_ERR_IO, "%s: truncated: the IDX header needs %zu bytes, got %zu", path, hlen, got);
        goto fail;
    }
    uint32_t m = be32(hdr);
    if (m != magic) {
        const char *hint = m == NNINIT_IDX_MAGIC_IMAGES   ? " (this is an image file)"
                           : m == NNINIT_IDX_MAGIC_LABELS ? " (this is a label file)"
                                                          : "";
        st = nninit__err(NNINIT_ERR_IO, "%s: bad magic 0x%08x: expected 0x%08x (IDX u8 %s file)%s", path, m, magic,
                         kind, hint);
        goto fail;
    }
    if (got < hlen) {
        st = nninit__err(NNINIT_ERR_IO, "%s: truncated: the IDX header needs %zu bytes, got %zu", path, hlen, got);
        goto fail;
    }
    size_t total = 1;
    for (int k = 0; k < ndim; k++) {
        uint32_t v = be32(hdr + 4 + 4 * k);
        if (v < 1 || v > INT32_MAX) {
            st = nninit__err(NNINIT_ERR_IO, "%s: header dimension %d is %u; expected 1..%d", path, k, v, INT32_MAX);
            goto fail;
        }
        if (total > IDX_MAX_BYTES / v) {
            st = nninit__err(NNINIT_ERR_IO, "%s: the header declares more than %zu bytes of %s data", path,
                             IDX_MAX_BYTES, kind);
            goto fail;
        }
        total *= v;
        dims[k] = (int)v;
        if (expect && ((expect[k] > 0 && (int)v != expect[k]) || (expect[k] < 0 && (int64_t)v > -(int64_t)expect[k]))) {
            st = nninit__err(NNINIT_ERR_IO, "%s: header dimension %d is %u; expected %s%d", path, k, v,
                             expect[k] < 0 ? "at most " : "", expect[k] < 0 ? -expect[k] : expect[k]);
            goto fail;
        }
    }
    /* a large declaration must be backed by the file (small ones are read
     * and, if short, reported as truncated with the counts) */
    if (total > IDX_TRAILER_CHECK && (uint32_t)(hlen + total) != isize) {
        st =
            nninit__err(NNINIT_ERR_IO,
                        "%s: the IDX header declares %zu bytes but the gzip trailer says the file holds %u (mod 2^32): "
                        "not a complete IDX file",
                        path, hlen + total, isize);
        goto fail;
    }

    /* Grow with the data actually present, up to the declared size. */
    size_t cap = total < ((size_t)1 << 20) ? total : (size_t)1 << 20, have = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        st = nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory for %zu bytes", path, cap);
        goto fail;
    }
    for (;;) {
        char what[64];
        snprintf(what, sizeof what, "%s data", kind);
        if ((st = gz_read(gz, path, buf + have, cap - have, &got, what))) {
            free(buf);
            goto fail;
        }
        have += got;
        if (have < cap || cap == total) break;
        size_t ncap = cap * 2 < total ? cap * 2 : total;
        unsigned char *nb = realloc(buf, ncap);
        if (!nb) {
            free(buf);
            st = nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory for %zu bytes", path, ncap);
            goto fail;
        }
        buf = nb, cap = ncap;
    }
    if (have < total) {
        free(buf);
        st = nninit__err(NNINIT_ERR_IO, "%s: truncated: expected %zu bytes of %s data, got %zu", path, total, kind,
                         have);
        goto fail;
    }
    unsigned char extra;
    if ((st = gz_read(gz, path, &extra, 1, &got, "trailing data"))) {
        free(buf);
        goto fail;
    }
    if (got) {
        free(buf);
        st = nninit__err(NNINIT_ERR_IO, "%s: more than the %zu bytes of %s data its header declares (wrong header?)",
                         path, total, kind);
        goto fail;
    }
    gzr_close(gz);
    *data = buf;
    return NNINIT_OK;
fail:
    gzr_close(gz);
    return st;
}

static nninit_status load_images(const char *path, const int *expect, float **out, int *n, int *rows, int *cols) {
    int dims[3];
    unsigned char *u8;
    nninit_status st = idx_read(path, NNINIT_IDX_MAGIC_IMAGES, 3, expect, dims, &u8);
    if (st) return st;
    size_t total = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
    float *f = malloc(total * sizeof *f);
    if (!f) {
        free(u8);
        return nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory for %zu floats", path, total);
    }
    for (size_t i = 0; i < total; i++) f[i] = (float)u8[i] / 255.0f; /* torchvision ToTensor */
    free(u8);
    *out = f;
    *n = dims[0], *rows = dims[1], *cols = dims[2];
    return NNINIT_OK;
}

nninit_status nninit_idx_load_images(const char *path, float **out, int *n, int *rows, int *cols) {
    if (!path || !out || !n || !rows || !cols) return nninit__err(NNINIT_ERR_NULL, "idx_load_images: NULL argument");
    return load_images(path, NULL, out, n, rows, cols);
}

static nninit_status load_labels(const char *path, const int *expect, uint8_t **out, int *n) {
    int dims[1];
    unsigned char *u8;
    nninit_status st = idx_read(path, NNINIT_IDX_MAGIC_LABELS, 1, expect, dims, &u8);
    if (st) return st;
    *out = u8;
    *n = dims[0];
    return NNINIT_OK;
}

nninit_status nninit_idx_load_labels(const char *path, uint8_t **out, int *n) {
    if (!path || !out || !n) return nninit__err(NNINIT_ERR_NULL, "idx_load_labels: NULL argument");
    return load_labels(path, NULL, out, n);
}

/* dir/name in a malloc'd string. */
static char *path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

/* A missing file, said in the words a user needs: where, and what to install. */
static nninit_status check_present(const char *path, int default_dir) {
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        return NNINIT_OK;
    }
    if (errno != ENOENT) return NNINIT_OK; /* the loader reports other failures */
    if (default_dir)
        return nninit__err(NNINIT_ERR_IO,
                           "Fashion-MNIST not found at %s: install the Debian package dataset-fashion-mnist", path);
    return nninit__err(NNINIT_ERR_IO,
                       "Fashion-MNIST not found at %s (the directory must hold {train,t10k}-{images-idx3,labels-idx1}"
                       "-ubyte.gz)",
                       path);
}

nninit_status nninit_fashion_mnist_load(const char *dir, int train, float **x, int **y, int *n) {
    if (!x || !y || !n) return nninit__err(NNINIT_ERR_NULL, "fashion_mnist_load: NULL argument");
    int default_dir = dir == NULL;
    if (!dir) dir = NNINIT_FASHION_MNIST_DIR;
    const char *split = train ? "train" : "t10k";
    char name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte.gz", split);
    char *ipath = path_join(dir, name);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte.gz", split);
    char *lpath = path_join(dir, name);
    float *img = NULL;
    uint8_t *lab = NULL;
    int *yi = NULL;
    int ni = 0, rows = 0, cols = 0, nl = 0;
    nninit_status st = NNINIT_OK;
    if (!ipath || !lpath) {
        st = nninit__err(NNINIT_ERR_NOMEM, "fashion_mnist_load: out of memory");
        goto done;
    }
    if ((st = check_present(ipath, default_dir)) || (st = check_present(lpath, default_dir))) goto done;
    /* Fashion-MNIST's counts, checked against the headers before any data is inflated */
    const int want_img[3] = {train ? -60000 : -10000, 28, 28}; /* at most the real counts (subsets in tests) */
    if ((st = load_images(ipath, want_img, &img, &ni, &rows, &cols))) goto done;
    if ((st = load_labels(lpath, want_img, &lab, &nl))) goto done;
    if (nl != ni) {
        st = nninit__err(NNINIT_ERR_IO, "Fashion-MNIST: %s has %d images but %s has %d labels", ipath, ni, lpath, nl);
        goto done;
    }
    yi = malloc((size_t)nl * sizeof *yi);
    if (!yi) {
        st = nninit__err(NNINIT_ERR_NOMEM, "fashion_mnist_load: out of memory for %d labels", nl);
        goto done;
    }
    for (int i = 0; i < nl; i++) {
        if (lab[i] > 9) {
            st = nninit__err(NNINIT_ERR_IO, "%s: label %d at index %d is outside 0..9", lpath, lab[i], i);
            goto done;
        }
        yi[i] = lab[i];
    }
    *x = img, *y = yi, *n = ni;
    img = NULL, yi = NULL;
done:
    free(img);
    free(yi);
    free(lab);
    free(ipath);
    free(lpath);
    return st;
}

nninit_status nninit_standardize(float *x, int n, int d, double mean, double std, double *mean_used, double *std_used) {
    if (!x) return nninit__err(NNINIT_ERR_NULL, "standardize: NULL data");
    if (n < 1 || d < 1) return nninit__err(NNINIT_ERR_SHAPE, "standardize: %d x %d values", n, d);
    size_t total = (size_t)n * (size_t)d;
    if (isnan(mean)) {
        double s = 0;
        for (size_t i = 0; i < total; i++) s += x[i];
        mean = s / (double)total;
    }
    if (isnan(std)) {
        double s = 0;
        for (size_t i = 0; i < total; i++) s += (x[i] - mean) * (x[i] - mean);
        std = sqrt(s / (double)total);
        if (!(std > 0)) return nninit__err(NNINIT_ERR_PARAM, "standardize: the data are constant (std 0)");
    }
    if (!isfinite(mean)) return nninit__err(NNINIT_ERR_PARAM, "standardize: mean %g is not finite", mean);
    if (!isfinite(std) || !(std > 0))
        return nninit__err(NNINIT_ERR_PARAM, "standardize: std %g must be finite and > 0", std);
    for (size_t i = 0; i < total; i++) x[i] = (float)((x[i] - mean) / std);
    if (mean_used) *mean_used = mean;
    if (std_used) *std_used = std;
    return NNINIT_OK;
}

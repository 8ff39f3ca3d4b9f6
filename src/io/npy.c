/*
 * npy.c -- NumPy .npy v1.0 writer (nninit_npy_write).
 *
 * Format (numpy/lib/format.py, "NEP 1"): the magic "\x93NUMPY", version 1.0,
 * a little-endian uint16 header length, then an ASCII Python dict literal
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (64, 3, 7, 7), }
 * padded with spaces and terminated by '\n' so that the data begins at a
 * multiple of 64 bytes (NumPy's ARRAY_ALIGN), then the raw C-order data.
 * A 1-D shape is written as a one-element tuple, "(n,)".
 *
 * The file is written atomically: to a fresh temporary file in the same
 * directory, flushed and fsync'd, then renamed over path. On any failure the
 * temporary file is removed and path is untouched.
 *
 * Temporaries follow the pattern the CLI uses for all its files (tools/util/
 * common.h): "<dir>/.<base>.nninit-tmp.<pid>.<XXXXXX>", hidden, with the
 * writer's pid; their names, and the sweep of those that killed writers left
 * behind, are src/io/atomic.c's, shared with the safetensors writer.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "io/atomic.h"

#define NPY_ALIGN    64
#define NPY_PREAMBLE 10 /* magic (6) + version (2) + header length (2) */

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

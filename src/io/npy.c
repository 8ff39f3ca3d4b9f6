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
 * writer's pid. A writer killed mid-write leaves one; the next write to the
 * same path removes every regular file of that pattern whose writer is gone
 * (kill(pid, 0) fails with ESRCH), silently and best effort. Nothing else in
 * the directory is touched, nor a live writer's temporary.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

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

#define NPY_TMP_TAG ".nninit-tmp."

/* Offset and length of path's basename; 0 when there is none. */
static size_t base_of(const char *path, size_t *len) {
    const char *slash = strrchr(path, '/');
    size_t b = slash ? (size_t)(slash - path) + 1 : 0;
    *len = strlen(path + b);
    return b;
}

/* The writer's pid when name is a temporary of base (".<base>.nninit-tmp.
 * <pid>.<6 alnum>"), else 0. */
static long temp_pid(const char *name, const char *base, size_t n) {
    size_t t = strlen(NPY_TMP_TAG);
    if (name[0] != '.' || strncmp(name + 1, base, n) != 0 || strncmp(name + 1 + n, NPY_TMP_TAG, t) != 0) return 0;
    const char *p = name + 1 + n + t;
    long v = 0;
    int digits = 0;
    for (; isdigit((unsigned char)*p) && digits < 10; p++, digits++) v = v * 10 + (*p - '0');
    if (!digits || *p != '.' || v > 0x7fffffffL) return 0;
    p++;
    for (int i = 0; i < 6; i++, p++)
        if (!isalnum((unsigned char)*p)) return 0;
    return *p ? 0 : v;
}

/* Removes path's temporaries (regular files only) left by dead writers. */
static void sweep_dead_temps(const char *path) {
    size_t n, b = base_of(path, &n);
    if (n == 0 || b >= 4096) return;
    char dir[4096];
    if (b == 0) {
        strcpy(dir, ".");
    } else {
        memcpy(dir, path, b);
        dir[b] = '\0';
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    int saved = errno;
    for (struct dirent *e; (e = readdir(d));) {
        long pid = temp_pid(e->d_name, path + b, n);
        if (pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* alive, or another user's: not ours to judge */
        struct stat st;
        if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            (void)unlinkat(dfd, e->d_name, 0);
    }
    closedir(d);
    errno = saved;
}

/* Creates "<dir>/.<base>.nninit-tmp.<pid>.<6 random>" exclusively. Not
 * mkstemp(): it creates files with mode 0600, which rename() would then
 * give to path; open(O_CREAT | O_EXCL, 0666) honours the umask like any
 * other new file. */
static int open_temp(const char *path, char *tmp, size_t cap) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    static _Thread_local uint64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x =
        (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)&counter;
    size_t n, b = base_of(path, &n);
    for (int attempt = 0; attempt < 100; attempt++) {
        /* splitmix64 step: distinct names for distinct (time, pid, thread, n). */
        uint64_t z = (x += 0x9e3779b97f4a7c15ull + ++counter);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        char suffix[7];
        for (int i = 0; i < 6; i++, z /= 36) suffix[i] = alphabet[z % 36];
        suffix[6] = '\0';
        snprintf(tmp, cap, "%.*s.%s%s%ld.%s", (int)b, path, path + b, NPY_TMP_TAG, (long)getpid(), suffix);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

/* Best effort: make the rename itself durable. Failure here does not undo a
 * complete, renamed file, so it is not reported. */
static void sync_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) {
        strcpy(dir, ".");
    } else {
        size_t n = (size_t)(slash - path);
        if (n == 0) n = 1; /* "/file" -> "/" */
        if (n >= sizeof dir) return;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
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

    /* replace a file, never a device, FIFO, directory or symlink (as root,
     * -o /dev/full would have become a regular file) */
    struct stat pst;
    if (lstat(path, &pst) == 0 && !S_ISREG(pst.st_mode))
        return nninit__err(NNINIT_ERR_IO,
                           "npy_write: %s exists and is not a regular file (a device, FIFO, directory or symlink): "
                           "refusing to replace it",
                           path);
    sweep_dead_temps(path);
    size_t cap = strlen(path) + sizeof "." NPY_TMP_TAG ".XXXXXX" + 24;
    char *tmp = malloc(cap);
    if (!tmp) return nninit__err(NNINIT_ERR_NOMEM, "npy_write: out of memory");
    int fd = open_temp(path, tmp, cap);
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
    sync_parent_dir(path);
    return NNINIT_OK;
}

/*
 * atomic.c -- whole-or-nothing files (atomic.h): the temporaries' names, the
 * sweep of dead writers' temporaries, the final fsync + rename.
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

#include "io/atomic.h"

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
    size_t t = strlen(NNINIT_TMP_TAG);
    if (name[0] != '.' || strncmp(name + 1, base, n) != 0 || strncmp(name + 1 + n, NNINIT_TMP_TAG, t) != 0) return 0;
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

nninit_status nninit__atomic_check_target(const char *path, const char *who) {
    /* replace a file, never a device, FIFO, directory or symlink (as root,
     * -o /dev/full would have become a regular file) */
    struct stat pst;
    if (lstat(path, &pst) == 0 && !S_ISREG(pst.st_mode))
        return nninit__err(NNINIT_ERR_IO,
                           "%s: %s exists and is not a regular file (a device, FIFO, directory or symlink): "
                           "refusing to replace it",
                           who, path);
    return NNINIT_OK;
}

void nninit__sweep_dead_temps(const char *path) {
    size_t n, b = base_of(path, &n);
    if (n == 0 || b >= 4096) return;
    char dir[4096];
    if (b == 0) {
        strcpy(dir, ".");
    } else {
        memcpy(dir, path, b);
        dir[b] = '\0';
    }
    int saved = errno;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        errno = saved;
        return;
    }
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        errno = saved;
        return;
    }
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

size_t nninit__temp_cap(const char *path) { return strlen(path) + sizeof "." NNINIT_TMP_TAG ".XXXXXX" + 24; }

/* Not mkstemp(): it creates files with mode 0600, which rename() would then
 * give to path; open(O_CREAT | O_EXCL, 0666) honours the umask like any
 * other new file. */
int nninit__open_temp(const char *path, char *tmp, size_t cap) {
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
        snprintf(tmp, cap, "%.*s.%s%s%ld.%s", (int)b, path, path + b, NNINIT_TMP_TAG, (long)getpid(), suffix);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

/* Failure here does not undo a complete, renamed file, so it is not reported. */
void nninit__sync_parent_dir(const char *path) {
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

int nninit__pread_all(int fd, void *buf, size_t n, uint64_t off) {
    unsigned char *p = buf;
    while (n > 0) {
        if (off > (uint64_t)INT64_MAX) return EOVERFLOW;
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (r == 0) return EIO;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

int nninit__write_all(int fd, const void *p, size_t n) {
    const unsigned char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (w == 0) return EIO;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

nninit_status nninit__atomic_begin(nninit__atomic *a, const char *path, const char *who) {
    a->fd = -1;
    a->tmp = NULL;
    nninit_status s = nninit__atomic_check_target(path, who);
    if (s != NNINIT_OK) return s;
    nninit__sweep_dead_temps(path);
    size_t cap = nninit__temp_cap(path);
    char *tmp = malloc(cap);
    if (!tmp) return nninit__err(NNINIT_ERR_NOMEM, "%s: out of memory", who);
    int fd = nninit__open_temp(path, tmp, cap);
    if (fd < 0) {
        s = nninit__err(NNINIT_ERR_IO, "%s: cannot create a file next to %s: %s", who, path, strerror(errno));
        free(tmp);
        return s;
    }
    a->fd = fd;
    a->tmp = tmp;
    return NNINIT_OK;
}

void nninit__atomic_cancel(nninit__atomic *a) {
    int saved = errno;
    if (a->fd >= 0) close(a->fd);
    if (a->tmp) unlink(a->tmp);
    free(a->tmp);
    a->fd = -1;
    a->tmp = NULL;
    errno = saved;
}

nninit_status nninit__atomic_commit(nninit__atomic *a, const char *path, const char *who) {
    const char *what = NULL;
    int e = 0;
    if (fsync(a->fd) != 0) what = "fsync", e = errno;
    if (close(a->fd) != 0 && !what) what = "close", e = errno;
    a->fd = -1;
    if (!what && rename(a->tmp, path) != 0) what = "rename", e = errno;
    if (what) {
        nninit__atomic_cancel(a);
        return nninit__err(NNINIT_ERR_IO, "%s: %s %s: %s", who, what, path, strerror(e));
    }
    free(a->tmp);
    a->tmp = NULL;
    nninit__sync_parent_dir(path);
    return NNINIT_OK;
}

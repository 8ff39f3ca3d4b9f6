/* atomic.h -- files that appear whole or not at all, shared by the writers
 * of src/io/ (npy.c, safetensors.c); not installed.
 *
 * A file is written to a hidden temporary in the same directory,
 * "<dir>/.<base>.nninit-tmp.<pid>.<XXXXXX>" (the pattern the CLI uses for all
 * its files, tools/util/common.h), fsync'd and renamed onto the path, and the
 * directory fsync'd. A writer killed mid-write leaves its temporary; the next
 * write to the same path removes every regular file of that pattern whose
 * writer is gone (kill(pid, 0) fails with ESRCH). A path that exists and is
 * not a regular file is never replaced. */
#ifndef NNINIT_IO_ATOMIC_H
#define NNINIT_IO_ATOMIC_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define NNINIT_TMP_TAG ".nninit-tmp."

/* IO ("<who>: <path> exists and is not a regular file ...") when path is a
 * device, FIFO, directory or symlink; OK when it is absent or a regular file. */
nninit_status nninit__atomic_check_target(const char *path, const char *who);

/* Removes path's temporaries (regular files only) left by dead writers;
 * silent, best effort, errno kept. */
void nninit__sweep_dead_temps(const char *path);

/* Bytes a temporary's name of path needs, NUL included. */
size_t nninit__temp_cap(const char *path);

/* Creates a fresh temporary of path exclusively (mode 0666 & ~umask), its
 * name into tmp (cap >= nninit__temp_cap(path)). Returns the descriptor
 * (O_WRONLY, O_CLOEXEC) or -1 with errno set. */
int nninit__open_temp(const char *path, char *tmp, size_t cap);

/* Best effort: makes a rename in path's directory durable. */
void nninit__sync_parent_dir(const char *path);

/* write(2) until all n bytes are written (EINTR retried): 0, or the errno. */
int nninit__write_all(int fd, const void *p, size_t n);
/* pread until n bytes at off: 0, or the errno (EIO for a file that ends
 * early, EOVERFLOW for an offset past off_t). The readers' one copy. */
int nninit__pread_all(int fd, void *buf, size_t n, uint64_t off);

/* The whole sequence for a writer that holds a descriptor: */
typedef struct {
    int fd;    /* the temporary, -1 when none */
    char *tmp; /* its name (malloc'd) */
} nninit__atomic;

/* check_target, sweep, open_temp. On error nothing is left and *a is
 * {-1, NULL}. Errors: IO, NOMEM. */
nninit_status nninit__atomic_begin(nninit__atomic *a, const char *path, const char *who);
/* fsync, close, rename onto path, sync the directory; on error the temporary
 * is removed. Always leaves *a as {-1, NULL}. Errors: IO. */
nninit_status nninit__atomic_commit(nninit__atomic *a, const char *path, const char *who);
/* Closes and removes the temporary (no-op when there is none). errno kept. */
void nninit__atomic_cancel(nninit__atomic *a);

#endif

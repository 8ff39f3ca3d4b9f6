/* common.c -- text helpers shared by the CLI commands and the lab. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MADV_HUGEPAGE; implies POSIX 2008 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

int cli_parse_double(const char *s, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    /* ERANGE with a non-zero result is a subnormal (1e-320): a valid number;
     * with 0 or inf it did not fit */
    int range_ok = !errno || (errno == ERANGE && *v != 0 && isfinite(*v));
    return !(*s && !*end && range_ok && isfinite(*v));
}

int cli_parse_u64(const char *s, uint64_t *v) {
    if (!isdigit((unsigned char)*s)) return -1; /* strtoull would take "-1" as 2^64 - 1 */
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end || errno) return -1;
    *v = (uint64_t)x;
    return 0;
}

int cli_parse_long(const char *s, long long *v) {
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return !(*s && !*end && !errno);
}

char *cli_read_file(const char *path, size_t max) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + len, 1, 4096, f);
        len += r;
        if (len > max) { /* /dev/zero, a wrong file: stop, do not grow without bound */
            free(buf);
            fclose(f);
            errno = EFBIG;
            return NULL;
        }
        if (r < 4096) break;
    }
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (err) {
        free(buf);
        errno = err;
        return NULL;
    }
    buf[len] = 0;
    return buf;
}

int cli_default_init(const char *init, const char *bias, nninit_layer_init *li, const nninit_layer_init **dflt) {
    *dflt = NULL;
    if (!init && !bias) return 0;
    li->weight = nninit_spec_default(NNINIT_KAIMING_UNIFORM);
    li->weight.slope = sqrt(5.0);
    li->bias = nninit_spec_default(NNINIT_ZEROS);
    if (init && nninit_spec_parse(init, &li->weight)) return -1;
    if (bias && nninit_spec_parse(bias, &li->bias)) return -1;
    *dflt = li;
    return 0;
}

int cli_bad(const char *cmd, const char *fmt, const char *arg) {
    fprintf(stderr, "nninit %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return CLI_EXIT_USAGE;
}

int cli_load_arch(const char *cmd, const char *arch_text, const char *arch_json_path, const char *init,
                  const char *bias, nninit_arch **out, nninit_layer_init *li, const nninit_layer_init **dflt) {
    *out = NULL;
    if (!arch_text == !arch_json_path) {
        fprintf(stderr, "nninit %s: give exactly one of --arch TEXT or --arch-json FILE\n", cmd);
        return CLI_EXIT_USAGE;
    }
    nninit_arch *arch = malloc(sizeof *arch);
    if (!arch) {
        fprintf(stderr, "nninit %s: out of memory\n", cmd);
        return CLI_EXIT_FAIL;
    }
    nninit_status st;
    if (arch_json_path) {
        char *text = cli_read_file(arch_json_path, CLI_ARCH_JSON_MAX);
        if (!text) {
            int big = errno == EFBIG;
            if (big)
                fprintf(stderr, "nninit %s: '%s' is larger than %d MiB; an architecture is a few KB\n", cmd,
                        arch_json_path, CLI_ARCH_JSON_MAX >> 20);
            else fprintf(stderr, "nninit %s: cannot read '%s': %s\n", cmd, arch_json_path, strerror(errno));
            free(arch);
            return big ? CLI_EXIT_USAGE : CLI_EXIT_FAIL; /* bad input, or an I/O failure */
        }
        st = nninit_arch_parse_json(text, arch);
        free(text);
    } else {
        st = nninit_arch_parse(arch_text, arch);
    }
    if (st) {
        fprintf(stderr, "nninit %s: %s\n", cmd, nninit_last_error());
        free(arch);
        return cli_exit_status(st); /* a bad architecture: 2 */
    }
    if (cli_default_init(init, bias, li, dflt)) {
        fprintf(stderr, "nninit %s: --%s: %s\n", cmd, init ? "init" : "bias", nninit_last_error());
        free(arch);
        return CLI_EXIT_USAGE;
    }
    *out = arch;
    return 0;
}

/* The directory of path (a malloc'd copy), "." for a bare name. */
static char *dir_of(const char *path) {
    char *c = strdup(path);
    if (!c) return NULL;
    char *d = strdup(dirname(c));
    free(c);
    return d;
}

int cli_check_output(const char *path) {
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        errno = EEXIST;
        return -1;
    }
    char *d = dir_of(path);
    if (!d) return -1;
    int ok = access(d, W_OK | X_OK) == 0;
    int e = errno;
    free(d);
    if (!ok) errno = e;
    return ok ? 0 : -1;
}

/* ---- temporaries (common.h: the pattern and the rule) ------------------- */

/* The basename of path, trailing slashes dropped: its offset in *b and its
 * length in *n. -1 (EINVAL) when there is none, or it is "." or "..". */
static int base_of(const char *path, size_t *b, size_t *n) {
    size_t e = strlen(path);
    while (e > 1 && path[e - 1] == '/') e--;
    size_t s = e;
    while (s > 0 && path[s - 1] != '/') s--;
    size_t len = e - s;
    if (len == 0 || (len == 1 && path[s] == '.') || (len == 2 && path[s] == '.' && path[s + 1] == '.')) {
        errno = EINVAL;
        return -1;
    }
    *b = s, *n = len;
    return 0;
}

char *cli_tmp_template(const char *path) {
    size_t b, n;
    if (base_of(path, &b, &n) != 0) return NULL;
    char pid[24];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    size_t cap = b + 1 + n + strlen(CLI_TMP_TAG) + strlen(pid) + sizeof ".XXXXXX";
    char *t = malloc(cap);
    if (!t) return NULL;
    snprintf(t, cap, "%.*s.%.*s%s%s.XXXXXX", (int)b, path, (int)n, path + b, CLI_TMP_TAG, pid);
    return t;
}

int cli_tmp_match(const char *name, const char *base, long *pid) {
    size_t n = strlen(base), t = strlen(CLI_TMP_TAG);
    if (name[0] != '.' || strncmp(name + 1, base, n) != 0 || strncmp(name + 1 + n, CLI_TMP_TAG, t) != 0) return 0;
    const char *p = name + 1 + n + t;
    long v = 0;
    int digits = 0;
    for (; isdigit((unsigned char)*p) && digits < 10; p++, digits++) v = v * 10 + (*p - '0');
    if (!digits || *p != '.' || v < 1 || v > 0x7fffffffL) return 0;
    p++;
    for (int i = 0; i < 6; i++, p++)
        if (!isalnum((unsigned char)*p)) return 0;
    if (*p) return 0;
    *pid = v;
    return 1;
}

/* rm -r name under the directory dfd, symlinks unlinked, never followed. */
static int remove_at(int dfd, const char *name) {
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOTDIR && errno != ELOOP) return -1;
        return unlinkat(dfd, name, 0); /* a file or a symlink */
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    int err = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (remove_at(fd, e->d_name) != 0 && !err) err = errno;
    }
    closedir(d);
    if (unlinkat(dfd, name, AT_REMOVEDIR) != 0 && !err) err = errno;
    errno = err;
    return err ? -1 : 0;
}

int cli_remove_tree(const char *path) { return remove_at(AT_FDCWD, path); }

int cli_tmp_sweep(const char *path) {
    size_t b, n;
    if (base_of(path, &b, &n) != 0) return -1;
    char *dir = b ? strndup(path, b) : strdup(".");
    char *base = strndup(path + b, n);
    if (!dir || !base) {
        free(dir), free(base);
        errno = ENOMEM;
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    int e = errno;
    free(dir);
    if (!d) {
        if (dfd >= 0) close(dfd);
        free(base);
        errno = e;
        return -1;
    }
    int removed = 0;
    for (struct dirent *de; (de = readdir(d));) {
        long pid;
        if (!cli_tmp_match(de->d_name, base, &pid) || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* alive, or not ours to judge */
        if (remove_at(dfd, de->d_name) == 0) removed++;
    }
    closedir(d);
    free(base);
    return removed;
}

int cli_atomic_open(cli_atomic *a, const char *path) {
    memset(a, 0, sizeof *a);
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        errno = EEXIST;
        return -1;
    }
    (void)cli_tmp_sweep(path); /* best effort: an unreadable directory fails below */
    a->tmp = cli_tmp_template(path);
    if (!a->tmp) return -1;
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        int e = errno;
        free(a->tmp), a->tmp = NULL;
        errno = e;
        return -1;
    }
    mode_t um = umask(0);
    umask(um);
    (void)fchmod(fd, 0666 & ~um); /* mkstemp's 0600 would pass to path with the rename */
    a->f = fdopen(fd, "w");
    if (!a->f) {
        int e = errno;
        close(fd);
        unlink(a->tmp);
        free(a->tmp), a->tmp = NULL;
        errno = e;
        return -1;
    }
    a->path = path;
    return 0;
}

void cli_atomic_abort(cli_atomic *a) {
    if (a->f) fclose(a->f);
    if (a->tmp) unlink(a->tmp);
    free(a->tmp);
    memset(a, 0, sizeof *a);
}

int cli_atomic_commit(cli_atomic *a) {
    int err = 0;
    if (fflush(a->f) != 0 || ferror(a->f)) err = errno ? errno : EIO;
    if (!err && fsync(fileno(a->f)) != 0) err = errno;
    if (fclose(a->f) != 0 && !err) err = errno;
    a->f = NULL;
    struct stat st; /* the path may have become something else meanwhile */
    if (!err && lstat(a->path, &st) == 0 && !S_ISREG(st.st_mode)) err = EEXIST;
    if (!err && rename(a->tmp, a->path) != 0) err = errno;
    if (err) {
        unlink(a->tmp);
        free(a->tmp), a->tmp = NULL;
        errno = err;
        return -1;
    }
    char *d = dir_of(a->path); /* best effort: make the rename durable */
    int dfd = d ? open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd >= 0) (void)fsync(dfd), close(dfd);
    free(d);
    free(a->tmp), a->tmp = NULL;
    return 0;
}

int cli_exit_status(nninit_status s) {
    switch (s) {
    case NNINIT_OK: return CLI_EXIT_OK;
    case NNINIT_ERR_NULL:
    case NNINIT_ERR_NOMEM:
    case NNINIT_ERR_LAPACK:
    case NNINIT_ERR_IO:
    case NNINIT_ERR_DIVERGED: return CLI_EXIT_FAIL;
    default: return CLI_EXIT_USAGE;
    }
}

#define BIG_ALLOC_MIN ((size_t)2 << 20)

void *cli_big_alloc(size_t bytes) {
    if (bytes < BIG_ALLOC_MIN) return malloc(bytes ? bytes : 1);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: without THP, 4 KiB pages as before */
#endif
    return p;
}

void cli_big_free(void *p, size_t bytes) {
    if (!p) return;
    if (bytes < BIG_ALLOC_MIN) free(p);
    else munmap(p, bytes);
}

double cli_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void cli_progress_start(cli_progress *p, const char *what, double after) {
    memset(p, 0, sizeof *p);
    p->what = what;
    p->after = after;
    p->t0 = cli_seconds();
    p->tty = isatty(2);
}

void cli_progress_update(cli_progress *p, double done, double total) {
    double s = cli_seconds() - p->t0, f = total > 0 ? done / total : 1.0;
    if (s < p->after) return;
    if (f > 1.0) f = 1.0;
    if (p->tty) {
        char bar[41];
        int k = (int)(f * 40.0);
        for (int i = 0; i < 40; i++) bar[i] = i < k ? '#' : '.';
        bar[40] = 0;
        double eta = f > 0 ? s / f - s : 0.0;
        fprintf(stderr, "\r%s [%s] %3d%%  %.1f s, %.0f s left ", p->what, bar, (int)(f * 100.0), s, eta);
        p->shown = 1;
    } else {
        int q = (int)(f * 4.0);
        if (q > p->quarter || !p->shown) {
            fprintf(stderr, "%s: %d%%, %.1f s\n", p->what, (int)(f * 100.0), s);
            p->quarter = q;
            p->shown = 1;
        }
    }
}

void cli_progress_done(cli_progress *p) {
    if (p->tty && p->shown) fputc('\n', stderr);
}

int cli_check_alloc(uint64_t bytes, uint64_t *phys) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    uint64_t total = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : UINT64_MAX;
    if (phys) *phys = total;
    return bytes > total || bytes > (uint64_t)SIZE_MAX ? -1 : 0;
}

/* common.c -- text helpers shared by the CLI commands and the lab. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
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
            if (!nb) { free(buf); fclose(f); errno = ENOMEM; return NULL; }
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
    if (err) { free(buf); errno = err; return NULL; }
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

void cli_json_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fprintf(f, "null");
}

void cli_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

int cli_bad(const char *cmd, const char *fmt, const char *arg) {
    fprintf(stderr, "nninit %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

int cli_load_arch(const char *cmd, const char *arch_text, const char *arch_json_path, const char *init,
                  const char *bias, nninit_arch **out, nninit_layer_init *li, const nninit_layer_init **dflt) {
    *out = NULL;
    if (!arch_text == !arch_json_path) {
        fprintf(stderr, "nninit %s: give exactly one of --arch TEXT or --arch-json FILE\n", cmd);
        return 2;
    }
    nninit_arch *arch = malloc(sizeof *arch);
    if (!arch) {
        fprintf(stderr, "nninit %s: out of memory\n", cmd);
        return 1;
    }
    nninit_status st;
    if (arch_json_path) {
        char *text = cli_read_file(arch_json_path, CLI_ARCH_JSON_MAX);
        if (!text) {
            int big = errno == EFBIG;
            if (big)
                fprintf(stderr, "nninit %s: '%s' is larger than %d MiB; an architecture is a few KB\n", cmd,
                        arch_json_path, CLI_ARCH_JSON_MAX >> 20);
            else
                fprintf(stderr, "nninit %s: cannot read '%s': %s\n", cmd, arch_json_path, strerror(errno));
            free(arch);
            return big ? 2 : 1; /* bad input, or an I/O failure */
        }
        st = nninit_arch_parse_json(text, arch);
        free(text);
    } else {
        st = nninit_arch_parse(arch_text, arch);
    }
    if (st) {
        fprintf(stderr, "nninit %s: %s\n", cmd, nninit_last_error());
        free(arch);
        return 2;
    }
    if (cli_default_init(init, bias, li, dflt)) {
        fprintf(stderr, "nninit %s: --%s: %s\n", cmd, init ? "init" : "bias", nninit_last_error());
        free(arch);
        return 2;
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

int cli_atomic_open(cli_atomic *a, const char *path) {
    memset(a, 0, sizeof *a);
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        errno = EEXIST;
        return -1;
    }
    size_t len = strlen(path) + sizeof ".tmp.XXXXXX";
    a->tmp = malloc(len);
    if (!a->tmp) return -1;
    snprintf(a->tmp, len, "%s.tmp.XXXXXX", path);
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

int cli_check_alloc(uint64_t bytes, uint64_t *phys) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    uint64_t total = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : UINT64_MAX;
    if (phys) *phys = total;
    return bytes > total || bytes > (uint64_t)SIZE_MAX ? -1 : 0;
}

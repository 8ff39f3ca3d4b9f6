/* common.h -- helpers shared by the CLI commands (probe, train, lab) and the
 * lab's experiments: numbers and schemes from text, architectures from text
 * or a JSON file. Public headers only. */
#ifndef NNINIT_TOOLS_COMMON_H
#define NNINIT_TOOLS_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nninit_nn.h"

/* 0 on success: the whole string is a finite number / a base-10 integer. */
int cli_parse_double(const char *s, double *v);
int cli_parse_long(const char *s, long long *v);
/* 0 on success: decimal digits only, 0..2^64-1 (every --seed). */
int cli_parse_u64(const char *s, uint64_t *v);

/* The whole file, NUL-terminated, malloc'ed; NULL if it cannot be read
 * (errno says why) or holds more than max bytes (errno EFBIG). */
char *cli_read_file(const char *path, size_t max);

#define CLI_ARCH_JSON_MAX (16 << 20) /* bytes of --arch-json read at most */


/* The default layer init from --init / --bias text (either may be NULL):
 * weight as given (else PyTorch's nn.Linear default), bias as given (else
 * zeros). Both NULL: *dflt = NULL (PyTorch's defaults for both). 0 on
 * success, -1 with nninit_last_error() set. */
int cli_default_init(const char *init, const char *bias, nninit_layer_init *li, const nninit_layer_init **dflt);

/* Parse exactly one of arch_text / arch_json_path into a malloc'ed arch,
 * and the default init from init / bias text (cli_default_init). Returns 0,
 * or the exit status (1 or 2) after printing "nninit CMD: why" to stderr. */
int cli_load_arch(const char *cmd, const char *arch_text, const char *arch_json_path, const char *init,
                  const char *bias, nninit_arch **out, nninit_layer_init *li, const nninit_layer_init **dflt);

/* Temporaries. Every temporary the tools write (a file, or the lab's report
 * directory) and every one the library's npy writer writes is named
 *
 *     <dir>/.<base>.nninit-tmp.<pid>.<XXXXXX>
 *
 * next to its target <dir>/<base>: hidden, with the writer's pid in decimal
 * and six random [A-Za-z0-9] after it. A writer killed mid-write (SIGKILL,
 * power loss) leaves one behind; the next write to the same target removes
 * every temporary of that target whose writer is gone (kill(pid, 0) fails
 * with ESRCH). A live writer's temporary (another user's: EPERM) is kept,
 * and so is anything else in the directory. The pid is this machine's: a
 * writer on another host sharing the directory could lose its temporary. */
#define CLI_TMP_TAG ".nninit-tmp."

/* The mkstemp()/mkdtemp() template "<dir>/.<base>.nninit-tmp.<pid>.XXXXXX"
 * for target path, malloc'ed; NULL (errno) when out of memory or path has
 * no basename (empty, "/", ending in '/'). */
char *cli_tmp_template(const char *path);

/* 1 when name (a directory entry) is a temporary of target basename base,
 * its writer's pid in *pid; else 0. */
int cli_tmp_match(const char *name, const char *base, long *pid);

/* Removes the temporaries of path whose writers are dead (files, and
 * directories with everything in them). Returns how many it removed, or -1
 * with errno when the directory cannot be read. Best effort: one it cannot
 * remove is left for the next run. */
int cli_tmp_sweep(const char *path);

/* rm -r path without following symlinks (a symlink inside is unlinked, not
 * entered). 0, or -1 with errno of the first failure (it goes on past it). */
int cli_remove_tree(const char *path);

/* The one atomic-file writer of the tools: cli_atomic_open() removes path's
 * dead temporaries (cli_tmp_sweep), creates an exclusive temporary sibling
 * (the pattern above; mode 0666 less the umask) and hands out a FILE * on
 * it; cli_atomic_commit() flushes, fsyncs, renames it over path and fsyncs
 * the directory; on any failure (and in cli_atomic_abort) the temporary is
 * removed. A path that exists and is not a regular file (a device, a FIFO,
 * a directory, a symlink) is refused, never replaced: -1 with errno EEXIST.
 * Other failures: -1 with errno. */
typedef struct {
    FILE *f;
    char *tmp;
    const char *path;
} cli_atomic;

int cli_check_output(const char *path); /* 0: absent or a regular file in a writable directory */
int cli_atomic_open(cli_atomic *a, const char *path);
int cli_atomic_commit(cli_atomic *a);
void cli_atomic_abort(cli_atomic *a);

/* Exit statuses of every command: 0 ok, 1 a failure (I/O, memory, LAPACK,
 * training diverged, a bug), 2 bad usage or input. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,
    CLI_EXIT_USAGE = 2
};

/* The one map from a library status to an exit status: the environment
 * failed (NNINIT_ERR_IO, _NOMEM, _LAPACK, _DIVERGED, _NULL) -> 1; everything
 * else the library refuses is about the request -> 2; NNINIT_OK -> 0. */
int cli_exit_status(nninit_status s);

/* 0 when a buffer of `bytes` could exist here; -1 when it is more than this
 * machine's physical memory (a request for 4 EB is bad input, exit 2, not an
 * allocation failure). */
int cli_check_alloc(uint64_t bytes, uint64_t *phys);

/* A buffer for a whole tensor: malloc below 2 MiB; above, anonymous pages
 * with transparent huge pages asked for (madvise), which makes the first
 * touch of each 2 MiB one page fault instead of 512. Freed by cli_big_free
 * with the same size. NULL when out of memory. */
void *cli_big_alloc(size_t bytes);
void cli_big_free(void *p, size_t bytes);

/* Seconds on the monotonic clock (for durations). */
double cli_seconds(void);

/* A progress bar on stderr that appears once `after` seconds have passed
 * since cli_progress_start: on a terminal one line redrawn ("\r"), else a
 * line at each quarter, so logs stay short. cli_progress_done ends the
 * terminal line if one was drawn. */
typedef struct {
    const char *what; /* "nninit fill: filling" */
    double t0, after;
    int tty, shown, quarter;
} cli_progress;

void cli_progress_start(cli_progress *p, const char *what, double after);
void cli_progress_update(cli_progress *p, double done, double total);
void cli_progress_done(cli_progress *p);

/* Prints "nninit CMD: " and fmt with one string argument to stderr; returns 2. */
int cli_bad(const char *cmd, const char *fmt, const char *arg);

#endif

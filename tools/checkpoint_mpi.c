/* checkpoint_mpi.c -- the MPI-IO sink of `mpirun -n N nninit checkpoint`
 * (checkpoint_mpi.h, docs/MPI.md). */
#define _GNU_SOURCE /* fallocate */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint_mpi.h"
#include "common.h"

int cli_mpi_launched(void) {
    const char *s = getenv("OMPI_COMM_WORLD_SIZE"), *r = getenv("PMIX_RANK");
    return (s && *s) || (r && *r);
}

#ifndef NNINIT_HAVE_MPI

const char *cli_mpi_about(void) { return "MPI: not built in"; }

/* A launch of one rank is a plain run; of more, each rank would write the
 * whole file alone: refused. */
int cli_mpi_start(const char *cmd, cli_mpi **out) {
    *out = NULL;
    const char *s = getenv("OMPI_COMM_WORLD_SIZE");
    if (!cli_mpi_launched() || (s && strcmp(s, "1") == 0)) return 0;
    fprintf(stderr,
            "nninit %s: started by an MPI launcher, but this nninit was built without MPI: run it alone, or "
            "build it with MPI (docs/MPI.md)\n",
            cmd);
    return CLI_EXIT_USAGE;
}

/* Never called with a cli_mpi: cli_mpi_start made none. */
int cli_mpi_rank(const cli_mpi *mp) {
    (void)mp;
    return 0;
}
int cli_mpi_size(const cli_mpi *mp) {
    (void)mp;
    return 1;
}
void cli_mpi_write_opts(cli_mpi *mp, nninit_model_write_opts *o) {
    (void)mp;
    (void)o;
}
nninit_status cli_mpi_agree(cli_mpi *mp, nninit_status s) {
    (void)mp;
    return s;
}
int cli_mpi_report(cli_mpi *mp, const char *cmd) {
    (void)mp;
    (void)cmd;
    return CLI_EXIT_FAIL;
}
void cli_mpi_end(cli_mpi *mp) { (void)mp; }

#else

#include <mpi.h>

/* Bytes per MPI_File_write_at_all: MPI counts are ints. */
#define PIECE    ((size_t)1 << 30)
#define NAME_CAP 4352 /* a path (PATH_MAX) and the temporary's suffix */
/* Every failure a sink step returns, this rank's own or another's:
 * cli_mpi_report prints the first failing rank's message. */
#define FAILED   NNINIT_ERR_IO

struct cli_mpi {
    MPI_Comm comm;
    int rank, size;
    /* every rank knows that rank bad_rank failed (exit status bad_code):
     * from then on nothing is collective */
    int failed, bad_rank, bad_code;
    char why[1024]; /* this rank's own failure; "" none */
    MPI_File fh;
    int open;     /* fh is open, on every rank */
    int have_tmp; /* rank 0: tmp exists and is ours to remove */
    char path[NAME_CAP], tmp[NAME_CAP];
};

const char *cli_mpi_about(void) {
    static char line[96];
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    /* may be called before MPI_Init; "Open MPI v4.1.4, package: ..." */
    if (MPI_Get_library_version(v, &n) != MPI_SUCCESS) snprintf(v, sizeof v, "unknown version");
    v[strcspn(v, ",\n")] = '\0';
    snprintf(line, sizeof line, "MPI: %.60s", v);
    return line;
}

int cli_mpi_start(const char *cmd, cli_mpi **out) {
    *out = NULL;
    if (!cli_mpi_launched()) return 0;
    cli_mpi *mp = calloc(1, sizeof *mp);
    if (!mp) {
        fprintf(stderr, "nninit %s: out of memory\n", cmd);
        return CLI_EXIT_FAIL;
    }
    /* Open MPI 4.1's own MPI-IO (OMPIO) can leave the other ranks waiting
     * inside MPI_File_write_at_all when one rank's write fails (seen here
     * with a write across a file size limit); ROMIO returns the error on
     * that rank. Asked for unless the user chose an io component; other
     * MPIs ignore the variable. */
    setenv("OMPI_MCA_io", "^ompio", 0);
    /* Only the main thread calls MPI; the fill threads never do. Errors on
     * the communicator stay fatal (the job ends): none of ours can wait on a
     * rank that is gone. */
    int provided;
    MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_dup(MPI_COMM_WORLD, &mp->comm);
    MPI_Comm_rank(mp->comm, &mp->rank);
    MPI_Comm_size(mp->comm, &mp->size);
    mp->fh = MPI_FILE_NULL;
    *out = mp;
    return 0;
}

int cli_mpi_rank(const cli_mpi *mp) { return mp ? mp->rank : 0; }
int cli_mpi_size(const cli_mpi *mp) { return mp ? mp->size : 1; }

/* This rank's own failure: its message kept (the first), exit status 1. */
static int own_fail(cli_mpi *mp, const char *fmt, ...) NNINIT_PRINTF(2, 3);
static int own_fail(cli_mpi *mp, const char *fmt, ...) {
    if (!mp->why[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(mp->why, sizeof mp->why, fmt, ap);
        va_end(ap);
    }
    return CLI_EXIT_FAIL;
}

/* MPI's text of error code err, into buf (MPI_MAX_ERROR_STRING bytes). */
static const char *mpi_text(int err, char *buf) {
    int n = 0;
    if (MPI_Error_string(err, buf, &n) != MPI_SUCCESS) snprintf(buf, MPI_MAX_ERROR_STRING, "MPI error %d", err);
    return buf;
}

/* One step's status on every rank: code is this rank's (0 ok, else its exit
 * status); ext[0 .. next) are reduced with MIN too. 0 when every rank is
 * ok; else -1, and mp->failed with the lowest failing rank. */
static int agree_ext(cli_mpi *mp, int code, int *ext, int next) {
    if (mp->failed) return -1;
    int v[4] = {code ? mp->rank * 4 + code : INT_MAX, 0, 0, 0};
    for (int i = 0; i < next; i++) v[1 + i] = ext[i];
    MPI_Allreduce(MPI_IN_PLACE, v, 1 + next, MPI_INT, MPI_MIN, mp->comm);
    for (int i = 0; i < next; i++) ext[i] = v[1 + i];
    if (v[0] == INT_MAX) return 0;
    mp->failed = 1;
    mp->bad_rank = v[0] / 4;
    mp->bad_code = v[0] % 4;
    return -1;
}

static int agree(cli_mpi *mp, int code) { return agree_ext(mp, code, NULL, 0); }

/* The temporary is gone (removed, or renamed onto its target): rank 0
 * removes it if it is still there. */
static void unlink_tmp(cli_mpi *mp) {
    if (mp->rank == 0 && mp->have_tmp) (void)unlink(mp->tmp);
    mp->have_tmp = 0;
    mp->tmp[0] = '\0';
}

/* After an agreed failure: every rank closes the file, rank 0 removes it. */
static void discard(cli_mpi *mp) {
    if (mp->open) MPI_File_close(&mp->fh);
    mp->open = 0;
    unlink_tmp(mp);
}

/* An error inside a collective MPI-IO call (a write, sync, close) can
 * leave the other ranks waiting inside that call: Open MPI's two-phase
 * writes exchange data with the aggregator that failed, which has returned.
 * No agreement could reach them, so the job ends here; the temporary goes
 * first (any rank may remove it: the file system is shared), and the final
 * name was never touched. */
static void fatal(cli_mpi *mp, const char *fmt, ...) NNINIT_PRINTF(2, 3);
static void fatal(cli_mpi *mp, const char *fmt, ...) {
    if (mp->tmp[0]) (void)unlink(mp->tmp);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nninit checkpoint: rank %d of %d: ", mp->rank, mp->size);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "; ending the job (MPI_Abort), %s not written\n", mp->path);
    va_end(ap);
    MPI_Abort(mp->comm, CLI_EXIT_FAIL);
}

static int pieces(size_t len) { return (int)((len + PIECE - 1) / PIECE); }

/* data[0 .. len) at off in n calls of MPI_File_write_at_all (n the same on
 * every rank: a rank past its own bytes writes 0 more), so that no count
 * passes INT_MAX. */
static void write_pieces(cli_mpi *mp, uint64_t off, const void *data, size_t len, int n) {
    for (int i = 0; i < n; i++) {
        const size_t b = (size_t)i * PIECE, k = b < len ? (len - b < PIECE ? len - b : PIECE) : 0;
        MPI_Status st;
        char s[MPI_MAX_ERROR_STRING];
        int got = 0, e = MPI_File_write_at_all(mp->fh, (MPI_Offset)(off + b), k ? (const char *)data + b : data, (int)k,
                                               MPI_BYTE, &st);
        if (e != MPI_SUCCESS)
            fatal(mp, "MPI_File_write_at_all %s at byte %llu: %s", mp->tmp, (unsigned long long)(off + b),
                  mpi_text(e, s));
        if (k && (MPI_Get_count(&st, MPI_BYTE, &got) != MPI_SUCCESS || (size_t)got != k))
            fatal(mp, "MPI_File_write_at_all %s at byte %llu: %d of %zu bytes written", mp->tmp,
                  (unsigned long long)(off + b), got, k);
    }
}

static int refuse(cli_mpi *mp, const char *path) {
    return own_fail(mp,
                    "%s exists and is not a regular file (a device, FIFO, directory or symlink): refusing to "
                    "replace it",
                    path);
}

/* Rank 0: the temporary of path, made exclusively (it replaces nothing),
 * after the checks of the local writer (tools/util/common.c), with its
 * bytes reserved, so that a full disk fails here, where every rank can
 * agree on it, rather than inside a collective write. */
static int make_tmp(cli_mpi *mp, const char *path, uint64_t bytes) {
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) return refuse(mp, path);
    (void)cli_tmp_sweep(path); /* dead writers' temporaries */
    char *t = cli_tmp_template(path);
    if (!t || strlen(t) >= sizeof mp->tmp) {
        int code = own_fail(mp, "%s: %s", path, t ? "the path is too long" : strerror(errno));
        free(t);
        return code;
    }
    int fd = mkstemp(t);
    if (fd < 0) {
        int code = own_fail(mp, "cannot create a file next to %s: %s", path, strerror(errno));
        free(t);
        return code;
    }
    mode_t um = umask(0);
    umask(um);
    (void)fchmod(fd, 0666 & ~um); /* mkstemp's 0600 would pass to path with the rename */
    int code = 0;
    /* fallocate, not posix_fallocate: where the file system cannot reserve
     * (EOPNOTSUPP) the writes simply go on, rather than glibc writing a
     * byte of every block first */
    if (bytes && fallocate(fd, 0, 0, (off_t)bytes) != 0 && errno != EOPNOTSUPP && errno != ENOSYS)
        code = own_fail(mp, "cannot reserve %llu bytes for %s: %s", (unsigned long long)bytes, path, strerror(errno));
    close(fd);
    if (code) {
        (void)unlink(t);
    } else {
        snprintf(mp->tmp, sizeof mp->tmp, "%s", t);
        mp->have_tmp = 1;
    }
    free(t);
    return code;
}

/* open: rank 0 makes the temporary and names it to all; every rank checks
 * that it sees it (a shared file system), opens it (MPI_File_open), and
 * rank 0 writes the header. Each step is agreed; on failure nothing is
 * left open and the temporary is gone. */
static nninit_status s_open(void *ctx, const char *path, const void *header, size_t hlen, uint64_t file_bytes) {
    cli_mpi *mp = ctx;
    int code = 0;
    if (strlen(path) >= sizeof mp->path) code = own_fail(mp, "%s: the path is too long", path);
    else snprintf(mp->path, sizeof mp->path, "%s", path);
    if (!code && mp->rank == 0) code = make_tmp(mp, path, file_bytes);
    if (agree(mp, code)) {
        unlink_tmp(mp);
        return FAILED;
    }
    MPI_Bcast(mp->tmp, (int)sizeof mp->tmp, MPI_CHAR, 0, mp->comm);
    struct stat st;
    if (mp->rank != 0 && (stat(mp->tmp, &st) != 0 || !S_ISREG(st.st_mode))) {
        char host[MPI_MAX_PROCESSOR_NAME];
        int n = 0;
        MPI_Get_processor_name(host, &n);
        code = own_fail(mp,
                        "on host %s, %s (made by rank 0) is not there: the output must be on a file system that "
                        "every rank shares (docs/MPI.md)",
                        host, mp->tmp);
    }
    if (agree(mp, code)) {
        unlink_tmp(mp);
        return FAILED;
    }
    int e = MPI_File_open(mp->comm, mp->tmp, MPI_MODE_WRONLY, MPI_INFO_NULL, &mp->fh);
    char s[MPI_MAX_ERROR_STRING];
    if (e != MPI_SUCCESS) code = own_fail(mp, "MPI_File_open %s: %s", mp->tmp, mpi_text(e, s));
    /* min(opened) is 1 when every rank opened it; min(-opened) 0 when none did */
    int ext[2] = {e == MPI_SUCCESS, -(e == MPI_SUCCESS)};
    if (agree_ext(mp, code, ext, 2)) {
        mp->open = ext[0] == 1;
        if (ext[0] != 1 && ext[1] != 0) {
            /* Open on some ranks only: MPI_File_close is collective, so the
             * file cannot be closed; the job ends here, without the
             * temporary. */
            if (mp->rank == 0) fatal(mp, "MPI_File_open %s failed on some ranks only", mp->tmp);
            MPI_Barrier(mp->comm); /* rank 0 never joins: its MPI_Abort ends the wait */
        }
        discard(mp);
        return FAILED;
    }
    mp->open = 1;
    write_pieces(mp, 0, header, mp->rank == 0 ? hlen : 0, pieces(hlen));
    return NNINIT_OK;
}

/* write: this rank's chunk of the round (len 0: none this round). */
static nninit_status s_write(void *ctx, uint64_t off, const void *data, size_t len) {
    cli_mpi *mp = ctx;
    int n = -pieces(len); /* min(-n) = -max(n): every rank makes the most calls any needs */
    if (agree_ext(mp, 0, &n, 1)) return FAILED;
    write_pieces(mp, off, data, len, -n);
    return NNINIT_OK;
}

/* Best effort: makes the rename onto path durable. */
static void sync_dir_of(const char *path) {
    char *d = strdup(path);
    if (!d) return;
    char *slash = strrchr(d, '/');
    if (slash) slash[slash == d] = '\0'; /* "/x" -> "/" */
    int fd = open(slash ? d : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(d);
}

/* commit: MPI_File_sync and close on all, then rank 0 renames onto the
 * target (still not a non-regular file) and syncs the directory. */
static nninit_status s_commit(void *ctx) {
    cli_mpi *mp = ctx;
    int none = 0; /* the shape of s_write's and s_abort's step: a failing rank's abort matches it */
    if (agree_ext(mp, 0, &none, 1)) {
        discard(mp);
        return FAILED;
    }
    char s[MPI_MAX_ERROR_STRING];
    int code = 0, e = MPI_File_sync(mp->fh);
    if (e != MPI_SUCCESS) fatal(mp, "MPI_File_sync %s: %s", mp->tmp, mpi_text(e, s));
    if ((e = MPI_File_close(&mp->fh)) != MPI_SUCCESS) fatal(mp, "MPI_File_close %s: %s", mp->tmp, mpi_text(e, s));
    mp->open = 0;
    if (mp->rank == 0) {
        struct stat st; /* the path may have become something else meanwhile */
        if (lstat(mp->path, &st) == 0 && !S_ISREG(st.st_mode)) code = refuse(mp, mp->path);
        else if (rename(mp->tmp, mp->path) != 0) code = own_fail(mp, "rename %s: %s", mp->path, strerror(errno));
        if (!code) {
            mp->have_tmp = 0; /* it is the target now */
            sync_dir_of(mp->path);
        }
    }
    unlink_tmp(mp);
    /* and no rank returns before the file is under its name */
    return agree(mp, code) ? FAILED : NNINIT_OK;
}

/* abort: the library failed on this rank (a fill, memory), or another
 * rank's failure reached this one in write; either way the file goes. */
static void s_abort(void *ctx) {
    cli_mpi *mp = ctx;
    if (!mp->failed) {
        if (!mp->why[0]) snprintf(mp->why, sizeof mp->why, "%s", nninit_last_error());
        /* the others are in this round's write (or, past the last round, in
         * commit): the same one-extra step, so the failure reaches them */
        int none = 0;
        agree_ext(mp, CLI_EXIT_FAIL, &none, 1);
    }
    discard(mp);
}

static const nninit_model_sink mpi_sink = {s_open, s_write, s_commit, s_abort};

void cli_mpi_write_opts(cli_mpi *mp, nninit_model_write_opts *o) {
    o->sink = &mpi_sink;
    o->sink_ctx = mp;
    o->part = mp->rank;
    o->parts = mp->size;
}

nninit_status cli_mpi_agree(cli_mpi *mp, nninit_status s) {
    if (!mp->failed) {
        /* a failure the sink did not see (before a file's open, rank 0's
         * index): the other ranks are at their next step, or here */
        if (s && !mp->why[0]) snprintf(mp->why, sizeof mp->why, "%s", nninit_last_error());
        agree(mp, s ? cli_exit_status(s) : 0);
    }
    return !mp->failed ? NNINIT_OK : s ? s : FAILED;
}

int cli_mpi_report(cli_mpi *mp, const char *cmd) {
    char why[sizeof mp->why];
    snprintf(why, sizeof why, "%s", mp->why[0] ? mp->why : "failed");
    MPI_Bcast(why, (int)sizeof why, MPI_CHAR, mp->bad_rank, mp->comm);
    if (mp->rank == 0) fprintf(stderr, "nninit %s: rank %d of %d: %s\n", cmd, mp->bad_rank, mp->size, why);
    return mp->bad_code;
}

void cli_mpi_end(cli_mpi *mp) {
    if (!mp) return;
    MPI_Comm_free(&mp->comm);
    MPI_Finalize();
    free(mp);
}

#endif

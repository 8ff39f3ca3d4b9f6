/*
 * bench_fill.c -- time nninit_fill() on a large f32 tensor.
 *
 * For uniform U(-1, 1), normal N(0, 1) and trunc_normal (PyTorch's default:
 * mean 0, std 1 on [-2, 2]) this fills 2^LOG2 f32 elements (default 2^26, an
 * 8192 x 8192 tensor), once to warm up and then REPS times, and reports the
 * best (minimum) wall time of one nninit_fill() call, measured with
 * clock_gettime(CLOCK_MONOTONIC), as ns per element.
 *
 *   bench_fill [--n LOG2] [--reps N] [--json] [N]
 *
 * A bare positional N is the same as --reps N. With --json each scheme is one
 * JSON object on its own line:
 *   {"impl":"nninit","scheme":"normal","n":67108864,"reps":5,"ns_per_elem":...,"best_s":...}
 *
 * Single-threaded, as the library is today. See bench/README.md.
 */
#define _POSIX_C_SOURCE 200809L

#include <nninit.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *f) {
    fprintf(f, "usage: bench_fill [--n LOG2] [--reps N] [--json] [N]\n"
               "  --n LOG2   fill 2^LOG2 f32 elements (default 26, 1..30)\n"
               "  --reps N   timed repetitions after one warm-up; the best is kept (default 5)\n"
               "  --json     one JSON object per scheme per line\n");
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv) {
    long log2n = 26, reps = 5;
    int json = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc) {
            if (parse_long(argv[++i], 1, 30, &log2n)) {
                fprintf(stderr, "bench_fill: --n wants an integer in 1..30\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            if (parse_long(argv[++i], 1, 1000000, &reps)) {
                fprintf(stderr, "bench_fill: --reps wants a positive integer\n");
                return 2;
            }
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] != '-' && parse_long(argv[i], 1, 1000000, &reps) == 0) {
            /* bare N: repetitions */
        } else {
            usage(stderr);
            return 2;
        }
    }

    /* 2^26 -> 8192 x 8192; odd powers give (2^(k), 2^(k+1)). */
    const int64_t rows = (int64_t)1 << (log2n / 2);
    const int64_t cols = (int64_t)1 << (log2n - log2n / 2);
    const int64_t n = rows * cols;
    nninit_tensor t = nninit_tensor_2d(rows, cols, NNINIT_F32);

    /* aligned_alloc needs a size that is a multiple of the alignment. */
    size_t bytes = (size_t)n * sizeof(float);
    bytes = (bytes + 63) & ~(size_t)63;
    float *buf = aligned_alloc(64, bytes);
    if (!buf) {
        fprintf(stderr, "bench_fill: cannot allocate %zu bytes\n", bytes);
        return 1;
    }
    /* Touch every page once before timing, so that the first-touch page faults
     * (2^26 f32 = 256 MiB = 65536 4-KiB pages) are not part of any timing. */
    memset(buf, 0, bytes);

    struct {
        const char *name;
        nninit_spec spec;
    } cases[3];
    cases[0].name = "uniform";
    cases[0].spec = nninit_spec_default(NNINIT_UNIFORM);
    cases[0].spec.a = -1.0;
    cases[0].spec.b = 1.0;
    cases[1].name = "normal";
    cases[1].spec = nninit_spec_default(NNINIT_NORMAL); /* mean 0, std 1 */
    cases[1].spec.mean = 0.0;
    cases[1].spec.std = 1.0;
    cases[2].name = "trunc_normal";
    cases[2].spec = nninit_spec_default(NNINIT_TRUNC_NORMAL); /* PyTorch default */
    cases[2].spec.mean = 0.0;
    cases[2].spec.std = 1.0;
    cases[2].spec.a = -2.0;
    cases[2].spec.b = 2.0;

    const nninit_key key = nninit_key_from_name(0, "bench.weight");
    int rc = 0;

    for (int c = 0; c < 3; c++) {
        double best = 1e300;
        for (long r = -1; r < reps; r++) { /* r == -1: warm-up, not counted */
            double t0 = now_s();
            nninit_status st = nninit_fill(&cases[c].spec, &t, key, buf);
            double dt = now_s() - t0;
            if (st != NNINIT_OK) {
                fprintf(stderr, "bench_fill: %s: %s: %s\n", cases[c].name, nninit_status_str(st), nninit_last_error());
                rc = 1;
                goto next;
            }
            if (r >= 0 && dt < best) best = dt;
        }
        {
            /* A cheap sanity check that something was written (and a use of
             * the buffer): a few values must lie in the scheme's support. */
            double lo = cases[c].name[0] == 'u' ? -1.0 : cases[c].name[0] == 't' ? -2.0 : -1e9;
            double hi = -lo;
            for (int64_t i = 0; i < n; i += n / 16) {
                if (!(buf[i] >= lo && buf[i] <= hi)) {
                    fprintf(stderr, "bench_fill: %s: element %lld = %g out of range\n", cases[c].name, (long long)i,
                            (double)buf[i]);
                    rc = 1;
                }
            }
        }
        double ns = best * 1e9 / (double)n;
        if (json)
            printf("{\"impl\":\"nninit\",\"scheme\":\"%s\",\"n\":%lld,\"reps\":%ld,"
                   "\"ns_per_elem\":%.4f,\"best_s\":%.6f}\n",
                   cases[c].name, (long long)n, reps, ns, best);
        else
            printf("nninit %-13s n=2^%ld (%lld x %lld)  best of %ld: %9.6f s  %7.3f ns/elem\n", cases[c].name, log2n,
                   (long long)rows, (long long)cols, reps, best, ns);
        fflush(stdout);
    next:;
    }

    free(buf);
    return rc;
}

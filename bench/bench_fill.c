/*
 * bench_fill.c -- time nninit's fills, and the machine's write bandwidth,
 * on large buffers: the C half of bench/run.sh (see bench/README.md).
 *
 *   bench_fill [--elems N | --n LOG2] [--reps R] [--threads T] [--dtypes f32,bf16]
 *              [--cases LIST] [--ortho N] [--json]
 *
 * Cases (default: all but llama7b):
 *   uniform          U(-1, 1)
 *   normal           N(0, 1)
 *   trunc_normal     N(0, 1) on [-2, 2] (PyTorch's trunc_normal_ default)
 *   kaiming_uniform  PyTorch's default (a=0, fan_in, leaky_relu) on rows x cols
 *   xavier_normal    gain 1 on rows x cols
 *   orthogonal       gain 1 on ORTHO x ORTHO (default 4096), in each dtype
 *   memset           memset() of the same buffer with the byte 0x3f (not 0:
 *                    some machines write zeros much faster than any other
 *                    byte, 58-75 GB/s against 24 GB/s on one core of the
 *                    Zen 4 VM of bench/results.md, and a fill's bytes are
 *                    not zeros)
 *   stream           a non-temporal-store fill of the same buffer
 *                    (_mm256_stream_si256 where the CPU has AVX2, else
 *                    _mm_stream_si128), the bandwidth a fill can reach
 *   philox           uniform f32 on a 4096-element (16 KiB) buffer that stays
 *                    in L1, repeated: Philox4x32-10 plus the bits -> float
 *                    transform, per 32-bit word, with no memory traffic; and
 *                    nninit_philox4x32() called one block at a time
 *   llama7b          the Llama-2-7B tensor set in bf16, normal(std=0.02)
 *
 * Every case runs on T threads (0: one per online CPU): the fills through
 * nninit_fill_threads(), memset/stream through the same split on pthreads.
 * Buffers are written once before any timing (first-touch page faults are not
 * timed); each case is then timed REPS times (default 5) and the median and
 * minimum wall times (clock_gettime(CLOCK_MONOTONIC)) are reported, with
 * ns/element, GB/s (bytes written / median time) and TSC cycles/element (the
 * TSC frequency calibrated against CLOCK_MONOTONIC over 100 ms). The kernel
 * path is the library's choice, or the one NNINIT_ARCH names; a path this CPU
 * or build lacks is reported as not available (exit 0).
 *
 * --json prints one JSON object per line, the first {"impl":"meta",...}.
 * Nothing here asserts a time; the process fails only if a fill fails or
 * writes a value outside its support.
 */
#define _GNU_SOURCE

#include <nninit.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <x86intrin.h>
#define BENCH_X86 1
#endif


static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t ticks(void) {
#ifdef BENCH_X86
    return __rdtsc();
#else
    return 0;
#endif
}

/* TSC ticks per second: rdtsc against CLOCK_MONOTONIC over 100 ms. The TSC is
 * constant (constant_tsc/nonstop_tsc), so these are reference cycles at the
 * nominal frequency, not core clocks under boost. */
static double tsc_hz(void) {
#ifdef BENCH_X86
    double t0 = now_s();
    uint64_t c0 = ticks();
    while (now_s() - t0 < 0.1) {}
    double t1 = now_s();
    uint64_t c1 = ticks();
    return (double)(c1 - c0) / (t1 - t0);
#else
    return 0.0;
#endif
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- threads: [begin, end) split in T contiguous, 64-byte-aligned parts --- */
typedef struct {
    int kind; /* 0 fill_range, 1 memset, 2 stream */
    const nninit_spec *spec;
    const nninit_tensor *t;
    nninit_key key;
    unsigned char *base; /* element 0 */
    size_t esize;
    int64_t begin, end;
    nninit_status st;
} part;

#ifdef BENCH_X86
__attribute__((target("avx2"))) static void stream_avx2(unsigned char *p, size_t bytes) {
    const __m256i z = _mm256_set1_epi32(0x3f800000);
    size_t i = 0;
    for (; i < bytes && ((uintptr_t)(p + i) & 31); i++) p[i] = 0;
    for (; i + 32 <= bytes; i += 32) _mm256_stream_si256((__m256i *)(void *)(p + i), z);
    for (; i < bytes; i++) p[i] = 0;
    _mm_sfence();
}
static void stream_sse2(unsigned char *p, size_t bytes) {
    const __m128i z = _mm_set1_epi32(0x3f800000);
    size_t i = 0;
    for (; i < bytes && ((uintptr_t)(p + i) & 15); i++) p[i] = 0;
    for (; i + 16 <= bytes; i += 16) _mm_stream_si128((__m128i *)(void *)(p + i), z);
    for (; i < bytes; i++) p[i] = 0;
    _mm_sfence();
}
#endif

static const char *stream_kind(void) {
#ifdef BENCH_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? "_mm256_stream_si256" : "_mm_stream_si128";
#else
    return "memset (no x86)";
#endif
}

static void stream_fill(unsigned char *p, size_t bytes) {
#ifdef BENCH_X86
    if (__builtin_cpu_supports("avx2")) stream_avx2(p, bytes);
    else stream_sse2(p, bytes);
#else
    memset(p, 0, bytes);
#endif
}

#define MEMSET_BYTE 0x3f /* see the top: not 0 */

static void *run_part(void *arg) {
    part *w = arg;
    unsigned char *p = w->base + (size_t)w->begin * w->esize;
    size_t bytes = (size_t)(w->end - w->begin) * w->esize;
    if (w->kind == 0) w->st = nninit_fill_range(w->spec, w->t, w->key, w->begin, w->end, p);
    else if (w->kind == 1) memset(p, MEMSET_BYTE, bytes);
    else stream_fill(p, bytes);
    return NULL;
}

/* A large buffer: anonymous pages, transparent huge pages asked for (the
 * kernel's default here is madvise), so that touching 13.5 GB before timing
 * takes seconds, not minutes of 4-KiB faults. Then written once: no first-touch
 * fault is timed. */
static void *big_alloc(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    memset(p, 0, bytes);
    return p;
}

static void big_free(void *p, size_t bytes) {
    if (p) munmap(p, bytes);
}

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

/* Run `kind` (1 memset, 2 non-temporal stores; 0 nninit_fill_range, unused
 * now that nninit_fill_threads exists) over [0, n) on `threads` threads. */
static nninit_status split_run(int kind, const nninit_spec *spec, const nninit_tensor *t, nninit_key key, void *data,
                               size_t esize, int64_t n, int threads) {
    enum {
        MAXT = 256
    };
    part w[MAXT];
    pthread_t tid[MAXT];
    if (threads > MAXT) threads = MAXT;
    int64_t align = 64 / (int64_t)esize; /* parts start on cache lines */
    for (int i = 0; i < threads; i++) {
        int64_t b = n * i / threads, e = n * (i + 1) / threads;
        b = i == 0 ? 0 : b - b % align;
        e = i == threads - 1 ? n : e - e % align;
        w[i] = (part){kind, spec, t, key, data, esize, b, e, NNINIT_OK};
    }
    int started = 0;
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&tid[i], NULL, run_part, &w[i])) break;
        started = i;
    }
    run_part(&w[0]);
    for (int i = 1; i <= started; i++) pthread_join(tid[i], NULL);
    if (started != threads - 1) return NNINIT_ERR_NOMEM;
    for (int i = 0; i < threads; i++)
        if (w[i].st != NNINIT_OK) return w[i].st;
    return NNINIT_OK;
}

static nninit_status fill(const nninit_spec *spec, const nninit_tensor *t, nninit_key key, void *data, int threads) {
    if (threads == 1 || spec->scheme == NNINIT_ORTHOGONAL) return nninit_fill(spec, t, key, data);
    return nninit_fill_threads(spec, t, key, data, threads);
}

/* ---- output ---------------------------------------------------------------- */
static int json = 0;
static double g_budget = 20.0; /* seconds per case: past it, stop at 3 repetitions */
static double g_tsc = 0.0;
static const char *g_arch = "unknown";

static void report(const char *impl, const char *op, const char *dtype, int threads, int64_t n, size_t bytes, int reps,
                   double med, double min, const char *note) {
    double ns = med * 1e9 / (double)n;
    double gbps = (double)bytes / med * 1e-9;
    double cyc = g_tsc > 0 ? med * g_tsc / (double)n : NAN;
    if (json) {
        printf("{\"impl\":\"%s\",\"arch\":\"%s\",\"op\":\"%s\",\"dtype\":\"%s\",\"threads\":%d,\"n\":%lld,"
               "\"bytes\":%zu,\"reps\":%d,\"median_s\":%.6f,\"min_s\":%.6f,\"ns_per_elem\":%.4f,\"gbps\":%.3f,"
               "\"cycles_per_elem\":%.4f,\"note\":\"%s\"}\n",
               impl, g_arch, op, dtype, threads, (long long)n, bytes, reps, med, min, ns, gbps, cyc, note ? note : "");
    } else {
        printf("%-8s %-7s %-16s %-5s T=%-3d n=%-11lld median %9.6f s  %8.3f ns/el  %7.2f GB/s  %7.3f cyc/el  %s\n",
               impl, g_arch, op, dtype, threads, (long long)n, med, ns, gbps, cyc, note ? note : "");
    }
    fflush(stdout);
}

static void report_na(const char *impl, const char *op, const char *dtype, int threads, const char *why) {
    if (json)
        printf("{\"impl\":\"%s\",\"arch\":\"%s\",\"op\":\"%s\",\"dtype\":\"%s\",\"threads\":%d,\"error\":\"%s\"}\n",
               impl, g_arch, op, dtype, threads, why);
    else printf("%-8s %-7s %-16s %-5s T=%-3d %s\n", impl, g_arch, op, dtype, threads, why);
    fflush(stdout);
}

/* ---- cases ------------------------------------------------------------------ */
static int has_case(const char *list, const char *name) {
    size_t k = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += k)
        if ((p == list || p[-1] == ',') && (p[k] == '\0' || p[k] == ',')) return 1;
    return 0;
}

/* A few sampled values must lie in [lo, hi]: something was written, and used. */
static int check(const void *buf, nninit_dtype d, int64_t n, double lo, double hi, const char *what) {
    int bad = 0;
    for (int64_t i = 0; i<n; i += n / 16> 0 ? n / 16 : 1) {
        double v;
        if (d == NNINIT_F32) {
            v = ((const float *)buf)[i];
        } else {
            uint32_t u = (uint32_t)((const uint16_t *)buf)[i] << 16;
            float f;
            memcpy(&f, &u, sizeof f);
            v = f;
        }
        if (!(v >= lo && v <= hi)) {
            fprintf(stderr, "bench_fill: %s: element %lld = %g outside [%g, %g]\n", what, (long long)i, v, lo, hi);
            bad = 1;
        }
    }
    return bad;
}

static int time_fill(const char *op, const nninit_spec *spec, const nninit_tensor *t, void *buf, int threads, int reps,
                     double lo, double hi) {
    const char *dt = t->dtype == NNINIT_BF16 ? "bf16" : "f32";
    int64_t n;
    nninit_tensor_numel(t, &n);
    size_t esize = t->dtype == NNINIT_BF16 ? 2 : 4;
    nninit_key key = nninit_key_from_name(0, "bench.weight");
    double v[64], mn = 1e300, spent = 0.0;
    if (reps > 64) reps = 64;
    for (int r = 0; r < reps; r++) {
        if (r >= 3 && spent > g_budget) {
            reps = r; /* slow case: fewer repetitions (the JSON's reps says how many) */
            break;
        }
        double t0 = now_s();
        nninit_status st = fill(spec, t, key, buf, threads);
        v[r] = now_s() - t0;
        spent += v[r];
        if (st != NNINIT_OK) {
            char why[300];
            snprintf(why, sizeof why, "%s: %s", nninit_status_str(st), nninit_last_error());
            for (char *c = why; *c; c++)
                if (*c == '"' || *c == '\\') *c = '\'';
            report_na("nninit", op, dt, threads, why);
            return st == NNINIT_ERR_ARCH ? 0 : 1;
        }
        if (v[r] < mn) mn = v[r];
    }
    int bad = check(buf, t->dtype, n, lo, hi, op);
    const char *note = threads == 1 || spec->scheme == NNINIT_ORTHOGONAL
                           ? (spec->scheme == NNINIT_ORTHOGONAL ? "calling thread (+ LAPACK's pool)" : "")
                           : "nninit_fill_threads";
    report("nninit", op, dt, threads, n, (size_t)n * esize, reps, median(v, reps), mn, note);
    return bad;
}

static void time_raw(int kind, void *buf, size_t bytes, int threads, int reps, const char *dt, size_t esize) {
    double v[64], mn = 1e300;
    if (reps > 64) reps = 64;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        split_run(kind, NULL, NULL, (nninit_key){0}, buf, esize, (int64_t)(bytes / esize), threads);
        v[r] = now_s() - t0;
        if (v[r] < mn) mn = v[r];
    }
    report(kind == 1 ? "memset" : "stream", kind == 1 ? "memset" : "stream", dt, threads, (int64_t)(bytes / esize),
           bytes, reps, median(v, reps), mn, kind == 1 ? "memset()" : stream_kind());
}

/* One fill of a 4096-element (16 KiB, L1-resident) f32 buffer, called until
 * ~50 ms pass; median of reps batches: the per-core compute cost with no
 * memory traffic. For uniform that is Philox4x32-10 per 32-bit word plus the
 * bits -> float transform and the store: an upper bound on the generator. */
static void time_l1(const char *op, const nninit_spec *s, int reps, const char *note) {
    enum {
        M = 4096
    };
    static float small[M] __attribute__((aligned(64)));
    nninit_tensor t = nninit_tensor_2d(1, M, NNINIT_F32);
    nninit_key key = nninit_key_from_name(0, "bench.l1");
    double v[64], mn = 1e300;
    int64_t calls = 0;
    double t0 = now_s();
    do {
        if (nninit_fill(s, &t, key, small) != NNINIT_OK) {
            report_na("nninit", op, "f32", 1, "fill failed");
            return;
        }
        calls++;
    } while (now_s() - t0 < 0.05);
    double cpu[64];
    for (int r = 0; r < reps; r++) {
        double a = now_s(), ca = cpu_s();
        for (int64_t c = 0; c < calls; c++) nninit_fill(s, &t, key, small);
        v[r] = now_s() - a;
        cpu[r] = cpu_s() - ca;
        if (v[r] < mn) mn = v[r];
    }
    /* On a shared machine the wall clock counts the time other processes
     * held this core; the thread's CPU time does not: report both. */
    char full[300];
    double cm = median(cpu, reps);
    snprintf(full, sizeof full, "%s; thread CPU time: %.4f ns/el, %.3f TSC cycles/el", note,
             cm * 1e9 / (double)(calls * M), cm * g_tsc / (double)(calls * M));
    report("nninit", op, "f32", 1, calls * M, (size_t)(calls * M) * 4, reps, median(v, reps), mn, full);
    if (json) {
        /* the same figure, machine-readable, as its own line */
        printf("{\"impl\":\"nninit\",\"arch\":\"%s\",\"op\":\"%s_cpu\",\"dtype\":\"f32\",\"threads\":1,"
               "\"n\":%lld,\"bytes\":%lld,\"reps\":%d,\"median_s\":%.6f,\"min_s\":%.6f,\"ns_per_elem\":%.4f,"
               "\"gbps\":%.3f,\"cycles_per_elem\":%.4f,\"note\":\"thread CPU time (CLOCK_THREAD_CPUTIME_ID)\"}\n",
               g_arch, op, (long long)(calls * M), (long long)(calls * M) * 4, reps, cm, cm,
               cm * 1e9 / (double)(calls * M), (double)(calls * M) * 4 / cm * 1e-9, cm * g_tsc / (double)(calls * M));
        fflush(stdout);
    }
}

static int time_philox(int reps, int threads) {
    if (reps > 64) reps = 64;
    nninit_spec s = nninit_spec_default(NNINIT_UNIFORM);
    s.a = -1.0;
    s.b = 1.0;
    time_l1("philox_l1_uniform", &s, reps, "4096-el L1 buffer: Philox + u->f32 + store, per word");
    nninit_spec n = nninit_spec_default(NNINIT_NORMAL);
    time_l1("normal_l1", &n, reps, "4096-el L1 buffer: compute only");
    nninit_spec tn = nninit_spec_default(NNINIT_TRUNC_NORMAL);
    tn.a = -2.0, tn.b = 2.0;
    time_l1("trunc_normal_l1", &tn, reps, "4096-el L1 buffer: compute only");
    double v[64], mn = 1e300;
    nninit_key key = nninit_key_from_name(0, "bench.philox");
    /* the public one-block function, scalar by definition */
    uint32_t ctr[4] = {0, 0, 0, 0}, k2[2], out[4], acc = 0;
    nninit_key_philox(key, k2);
    int64_t blocks = 1 << 22;
    for (int r = 0; r < reps; r++) {
        double a = now_s();
        for (int64_t b = 0; b < blocks; b++) {
            ctr[0] = (uint32_t)b;
            nninit_philox4x32(ctr, k2, out);
            acc ^= out[0] ^ out[3];
        }
        v[r] = now_s() - a;
        if (v[r] < mn) mn = v[r];
    }
    report("nninit", "philox4x32_call", "u32", 1, blocks * 4, (size_t)blocks * 16, reps, median(v, reps), mn,
           acc ? "nninit_philox4x32(), one block per call, per word" : "per word");
    (void)threads;
    return 0;
}

/* ---- Llama-2-7B ------------------------------------------------------------ */
static long long mem_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long long kb = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) break;
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

typedef struct {
    char name[64];
    int64_t rows, cols; /* cols 0: a vector */
    int layer;          /* -1: not in a layer */
} l7_tensor;

static int llama7b(int threads, int reps, double max_s, int force_reuse) {
    enum {
        V = 32000,
        D = 4096,
        L = 32,
        F = 11008
    };
    static l7_tensor ts[2 + L * 9 + 1];
    int nt = 0;
    snprintf(ts[nt].name, 64, "tok_embeddings.weight"), ts[nt].rows = V, ts[nt].cols = D, ts[nt++].layer = -1;
    for (int l = 0; l < L; l++) {
        static const char *nm[9] = {"attention.wq",    "attention.wk",    "attention.wv",
                                    "attention.wo",    "feed_forward.w1", "feed_forward.w3",
                                    "feed_forward.w2", "attention_norm",  "ffn_norm"};
        const int64_t r[9] = {D, D, D, D, F, F, D, D, D}, c[9] = {D, D, D, D, D, D, F, 0, 0};
        for (int k = 0; k < 9; k++) {
            snprintf(ts[nt].name, 64, "layers.%d.%s.weight", l, nm[k]);
            ts[nt].rows = r[k], ts[nt].cols = c[k], ts[nt++].layer = l;
        }
    }
    snprintf(ts[nt].name, 64, "norm.weight"), ts[nt].rows = D, ts[nt].cols = 0, ts[nt++].layer = -1;
    snprintf(ts[nt].name, 64, "output.weight"), ts[nt].rows = D, ts[nt].cols = V, ts[nt++].layer = -1;

    int64_t total = 0, layer_elems = 0, biggest = 0;
    for (int i = 0; i < nt; i++) {
        int64_t e = ts[i].rows * (ts[i].cols ? ts[i].cols : 1);
        total += e;
        if (ts[i].layer == 0) layer_elems += e;
        if (ts[i].layer < 0 && e > biggest) biggest = e;
    }
    if (layer_elems > biggest) biggest = layer_elems;
    const size_t need = (size_t)total * 2;
    const long long avail = mem_available();
    /* all of it only with 4 GiB to spare: others share this machine */
    const int whole = !force_reuse && avail > 0 && (long long)need + (4LL << 30) < avail;
    const size_t bytes = whole ? need : (size_t)biggest * 2;
    double ta = now_s();
    unsigned char *buf = big_alloc(bytes); /* every page touched before timing */
    if (!buf) {
        report_na("nninit", "llama7b_normal", "bf16", threads, "cannot allocate");
        return 1;
    }
    ta = now_s() - ta;
    nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
    s.mean = 0.0;
    s.std = 0.02;
    double v[64], mn = 1e300, spent = 0.0;
    int done = 0;
    if (reps > 64) reps = 64;
    for (int r = 0; r < reps; r++) {
        size_t off = 0;
        double t0 = now_s();
        for (int i = 0; i < nt; i++) {
            nninit_tensor t = ts[i].cols ? nninit_tensor_2d(ts[i].rows, ts[i].cols, NNINIT_BF16)
                                         : nninit_tensor_make(1, &ts[i].rows, NNINIT_BF16);
            /* reused buffer: each layer's tensors from offset 0, each
             * embedding alone at 0; otherwise every tensor its own place */
            if (!whole && (i == 0 || ts[i].layer != ts[i - 1].layer)) off = 0;
            nninit_status st = fill(&s, &t, nninit_key_from_name(0, ts[i].name), buf + off, threads);
            if (st != NNINIT_OK) {
                report_na("nninit", "llama7b_normal", "bf16", threads, nninit_status_str(st));
                big_free(buf, bytes);
                return st == NNINIT_ERR_ARCH ? 0 : 1;
            }
            off += (size_t)ts[i].rows * (size_t)(ts[i].cols ? ts[i].cols : 1) * 2;
        }
        v[r] = now_s() - t0;
        if (v[r] < mn) mn = v[r];
        spent += v[r];
        done++;
        if (spent > max_s) break; /* slow kernels: fewer repetitions, said in the output */
    }
    char note[200];
    snprintf(note, sizeof note,
             "%s; %d tensors, %lld params; MemAvailable %.1f GiB; %.1f s to allocate and touch (untimed)",
             whole         ? "all tensors resident"
             : force_reuse ? "layer by layer into one reused buffer of the largest layer (--7b-reuse)"
                           : "layer by layer into one reused buffer of the largest layer (does not fit)",
             nt, (long long)total, (double)avail / (1 << 30), ta);
    report("nninit", "llama7b_normal", "bf16", threads, total, need, done, median(v, done), mn, note);
    big_free(buf, bytes);
    return 0;
}

/* ---- main ---------------------------------------------------------------- */
static void usage(FILE *f) {
    fprintf(f, "usage: bench_fill [--elems N | --n LOG2] [--reps R] [--threads T] [--dtypes f32,bf16]\n"
               "                  [--cases LIST] [--ortho N] [--budget-s S] [--max-7b-s S] [--json]\n"
               "  --elems N   elements per buffer (default 2^26); --n LOG2: 2^LOG2\n"
               "  --reps R    timed repetitions, median reported (default 5)\n"
               "  --threads T threads (default 1; 0: one per online CPU)\n"
               "  --budget-s  a fill case that has spent S seconds (default 20) stops at 3 repetitions\n"
               "  --max-7b-s  llama7b stops repeating after S seconds in all (default 60)\n"
               "  --7b-reuse  llama7b into one reused buffer even when the whole set fits\n"
               "  --cases     comma list of uniform,normal,trunc_normal,kaiming_uniform,xavier_normal,\n"
               "              orthogonal,memset,stream,philox,llama7b (default: all but llama7b)\n");
}

static int parse_ll(const char *s, long long lo, long long hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno || end == s || *end != '\0' || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv) {
    long long n = 1LL << 26, reps = 5, threads = 1, ortho = 4096;
    double max7b = 60.0;
    int reuse7b = 0;
    const char *dtypes = "f32,bf16";
    const char *cases = "uniform,normal,trunc_normal,kaiming_uniform,xavier_normal,orthogonal,memset,stream,philox";
    for (int i = 1; i < argc; i++) {
        long long v;
        const char *a = argv[i], *b = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--n") == 0 && b && parse_ll(b, 6, 34, &v) == 0) {
            n = 1LL << v, i++;
        } else if (strcmp(a, "--elems") == 0 && b && parse_ll(b, 64, 1LL << 34, &v) == 0) {
            n = v, i++;
        } else if (strcmp(a, "--reps") == 0 && b && parse_ll(b, 1, 64, &v) == 0) {
            reps = v, i++;
        } else if (strcmp(a, "--threads") == 0 && b && parse_ll(b, 0, 256, &v) == 0) {
            threads = v, i++;
        } else if (strcmp(a, "--ortho") == 0 && b && parse_ll(b, 2, 1 << 16, &v) == 0) {
            ortho = v, i++;
        } else if (strcmp(a, "--7b-reuse") == 0) {
            reuse7b = 1;
        } else if (strcmp(a, "--budget-s") == 0 && b) {
            g_budget = atof(b), i++;
        } else if (strcmp(a, "--max-7b-s") == 0 && b) {
            max7b = atof(b), i++;
        } else if (strcmp(a, "--dtypes") == 0 && b) {
            dtypes = b, i++;
        } else if (strcmp(a, "--cases") == 0 && b) {
            cases = b, i++;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    const int T = threads == 0 ? online_cpus() : (int)threads;
    const char *env = getenv("NNINIT_ARCH");
    const char *a = nninit_arch_name();
    g_arch = a ? a : "n/a";
    g_tsc = tsc_hz();
    if (json)
        printf("{\"impl\":\"meta\",\"arch\":\"%s\",\"arch_requested\":\"%s\",\"arch_name_linked\":%s,"
               "\"fill_threads_linked\":%s,\"threads\":%d,\"online_cpus\":%d,\"tsc_hz\":%.0f,"
               "\"tsc_source\":\"rdtsc calibrated against CLOCK_MONOTONIC over 100 ms\",\"stream\":\"%s\","
               "\"version\":\"%s\"}\n",
               g_arch, env ? env : "", "true", "true", T, online_cpus(), g_tsc, stream_kind(), nninit_version_string());
    else
        printf("kernel path %s (NNINIT_ARCH=%s), %d thread(s), TSC %.1f MHz (calibrated)\n", g_arch, env ? env : "", T,
               g_tsc * 1e-6);
    fflush(stdout);
    if (nninit_arch_name() == NULL) {
        report_na("nninit", "all", "-", T, "not available");
        return 0;
    }

    int rc = 0;
    if (has_case(cases, "llama7b")) rc |= llama7b(T, (int)reps, max7b, reuse7b);

    const int rows = (int)(n >= 4096 && n % 4096 == 0 ? n / 4096 : 1);
    const int64_t cols = n / rows;
    size_t bytes = (size_t)n * 4;
    unsigned char *buf = NULL;
    if (strcmp(cases, "llama7b") != 0) {
        buf = big_alloc(bytes); /* first-touch page faults are not timed */
        if (!buf) {
            fprintf(stderr, "bench_fill: cannot allocate %zu bytes\n", bytes);
            return 1;
        }
    }
    for (int di = 0; di < 2; di++) {
        const char *dt = di ? "bf16" : "f32";
        if (!has_case(dtypes, dt)) continue;
        nninit_dtype d = di ? NNINIT_BF16 : NNINIT_F32;
        size_t esize = di ? 2 : 4;
        nninit_tensor t = nninit_tensor_2d(rows, cols, d);
        if (has_case(cases, "uniform")) {
            nninit_spec s = nninit_spec_default(NNINIT_UNIFORM);
            s.a = -1.0, s.b = 1.0;
            rc |= time_fill("uniform", &s, &t, buf, T, (int)reps, -1.0, 1.0);
        }
        if (has_case(cases, "normal")) {
            nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
            s.mean = 0.0, s.std = 1.0;
            rc |= time_fill("normal", &s, &t, buf, T, (int)reps, -1e9, 1e9);
        }
        if (has_case(cases, "trunc_normal")) {
            nninit_spec s = nninit_spec_default(NNINIT_TRUNC_NORMAL);
            s.mean = 0.0, s.std = 1.0, s.a = -2.0, s.b = 2.0;
            rc |= time_fill("trunc_normal", &s, &t, buf, T, (int)reps, -2.0, 2.0);
        }
        if (has_case(cases, "kaiming_uniform")) {
            nninit_spec s = nninit_spec_default(NNINIT_KAIMING_UNIFORM);
            double bound = sqrt(3.0) * sqrt(2.0) / sqrt((double)cols);
            rc |= time_fill("kaiming_uniform", &s, &t, buf, T, (int)reps, -bound * 1.01, bound * 1.01);
        }
        if (has_case(cases, "xavier_normal")) {
            nninit_spec s = nninit_spec_default(NNINIT_XAVIER_NORMAL);
            rc |= time_fill("xavier_normal", &s, &t, buf, T, (int)reps, -1e9, 1e9);
        }
        if (has_case(cases, "orthogonal")) {
            nninit_tensor o = nninit_tensor_2d(ortho, ortho, d);
            size_t ob = (size_t)(ortho * ortho) * esize;
            unsigned char *obuf = ob <= bytes ? buf : aligned_alloc(64, (ob + 63) & ~(size_t)63);
            if (obuf) {
                if (obuf != buf) memset(obuf, 0, ob);
                nninit_spec s = nninit_spec_default(NNINIT_ORTHOGONAL);
                rc |= time_fill("orthogonal", &s, &o, obuf, T, (int)reps, -1.0, 1.0);
                if (obuf != buf) free(obuf);
            }
        }
        if (has_case(cases, "memset")) time_raw(1, buf, (size_t)n * esize, T, (int)reps, dt, esize);
        if (has_case(cases, "stream")) time_raw(2, buf, (size_t)n * esize, T, (int)reps, dt, esize);
    }
    if (has_case(cases, "philox")) rc |= time_philox((int)reps, T);
    big_free(buf, bytes);
    return rc;
}

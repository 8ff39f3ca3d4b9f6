/* fill.c -- nninit_fill / nninit_fill_range and their _threads variants:
 * validate, resolve, dispatch (to the kernel set of src/rng/kernels.h). */
#define _POSIX_C_SOURCE 200809L /* sysconf(_SC_NPROCESSORS_ONLN) */
#include <pthread.h>
#include <unistd.h>

#include "internal.h"
#include "rng/kernels.h"

/* eye and dirac are deterministic functions of the index. */
static void fill_eye(const nninit_tensor *t, int64_t begin, int64_t end, void *out) {
    int64_t cols = t->shape[1];
    for (int64_t i = begin; i < end; i++)
        nninit__store_f64(t->dtype, out, i - begin, (i / cols == i % cols) ? 1.0 : 0.0);
}

/* PyTorch dirac_: w[g*opg + d, d, center...] = 1 for d < min(opg, in). */
static void fill_dirac(const nninit_tensor *t, int64_t groups, int64_t begin, int64_t end, void *out) {
    int64_t spatial = 1;
    for (int k = 2; k < t->ndim; k++) spatial *= t->shape[k];
    int64_t center = 0; /* flat index of (size//2, ...) within the spatial block */
    for (int k = 2; k < t->ndim; k++) center = center * t->shape[k] + t->shape[k] / 2;
    int64_t in = t->shape[1], opg = t->shape[0] / groups;
    for (int64_t i = begin; i < end; i++) {
        int64_t s = i % spatial, c = (i / spatial) % in, o = i / (spatial * in);
        nninit__store_f64(t->dtype, out, i - begin, (s == center && c == o % opg) ? 1.0 : 0.0);
    }
}

/* What every fill checks before writing: the output, the plan (spec and
 * tensor together), the range, and that a kernel set runs here. */
static nninit_status prepare(const nninit_spec *spec, const nninit_tensor *t, int64_t begin, int64_t end,
                             const void *out, nninit__plan *p) {
    if (!out) return nninit__err(NNINIT_ERR_NULL, "fill: NULL output buffer");
    nninit_status st = nninit__plan_make(spec, t, p);
    if (st) return st;
    if (begin < 0 || end < begin || end > p->numel)
        return nninit__err(NNINIT_ERR_SLICE, "fill: range [%lld, %lld) not inside [0, %lld]", (long long)begin,
                           (long long)end, (long long)p->numel);
    if (nninit__kernel_is_whole(p->kernel) && (begin != 0 || end != p->numel))
        return nninit__err(NNINIT_ERR_NOT_ELEMENTWISE, "%s: fills whole tensors only, not the range [%lld, %lld)",
                           nninit_scheme_name(spec->scheme), (long long)begin, (long long)end);
    const char *why;
    if (!nninit__kernels(&why)) return nninit__err(NNINIT_ERR_ARCH, "%s", why);
    return NNINIT_OK;
}

/* [begin, end) of an element-wise plan into out[0 .. end-begin). */
static void fill_elementwise(const nninit__plan *p, const nninit_tensor *t, const uint32_t k[2], int64_t begin,
                             int64_t end, void *out) {
    switch (p->kernel) {
    case NNINIT_K_CONSTANT:
        for (int64_t i = 0; i < end - begin; i++) nninit__store_f64(t->dtype, out, i, p->value);
        return;
    case NNINIT_K_UNIFORM: nninit__fill_uniform(k, t->dtype, p->lo, p->hi, begin, end, out); return;
    case NNINIT_K_NORMAL: nninit__fill_normal(k, t->dtype, p->mean, p->std, begin, end, out); return;
    case NNINIT_K_TRUNC: nninit__fill_trunc_normal(k, t->dtype, p, begin, end, out); return;
    case NNINIT_K_EYE: fill_eye(t, begin, end, out); return;
    case NNINIT_K_DIRAC: fill_dirac(t, p->groups, begin, end, out); return;
    case NNINIT_K_ORTHOGONAL:
    case NNINIT_K_SPARSE:
    case NNINIT_K_DELTA_ORTHOGONAL: return; /* whole-tensor: see fill_planned */
    }
}

/* A validated fill on the calling thread. */
static nninit_status fill_planned(const nninit_spec *spec, const nninit__plan *p, const nninit_tensor *t,
                                  const uint32_t k[2], int64_t begin, int64_t end, void *out) {
    if (p->kernel == NNINIT_K_ORTHOGONAL) return nninit__fill_orthogonal(spec, t, p->numel, k, out);
    if (p->kernel == NNINIT_K_SPARSE) return nninit__fill_sparse(spec, t, p->numel, k, out);
    if (p->kernel == NNINIT_K_DELTA_ORTHOGONAL) return nninit__fill_delta_orthogonal(spec, t, p->numel, k, out);
    fill_elementwise(p, t, k, begin, end, out);
    return NNINIT_OK;
}

nninit_status nninit_fill_range(const nninit_spec *spec, const nninit_tensor *t, nninit_key key, int64_t begin,
                                int64_t end, void *out) {
    nninit__plan p;
    nninit_status st = prepare(spec, t, begin, end, out, &p);
    if (st) return st;
    uint32_t k[2];
    nninit_key_philox(key, k);
    return fill_planned(spec, &p, t, k, begin, end, out);
}

nninit_status nninit_fill(const nninit_spec *spec, const nninit_tensor *t, nninit_key key, void *data) {
    int64_t n;
    if (!data) return nninit__err(NNINIT_ERR_NULL, "fill: NULL data");
    nninit_status st = nninit_tensor_numel(t, &n);
    if (st) return st;
    return nninit_fill_range(spec, t, key, 0, n, data);
}

/* ---- boxes ----------------------------------------------------------------
 * A box [lo[d], hi[d]) of every dim is R runs of L contiguous flat indices:
 * L is the product of the box's extents over the innermost dims it covers
 * whole, plus the next dim inward's extent; R the product of the rest. Run r
 * starts at the flat index of its outer coordinates (r in mixed radix over
 * the outer extents). The box's own row-major order ("box index") is run r,
 * offset o -> r * L + o, which is where it goes in out. */
typedef struct {
    int nouter;                    /* dims 0 .. nouter-1 are iterated; the rest form a run */
    int64_t run, runs;             /* L and R */
    int64_t ext[NNINIT_MAX_DIMS];  /* the box's extent per outer dim */
    int64_t lo[NNINIT_MAX_DIMS];   /* its start per outer dim */
    int64_t step[NNINIT_MAX_DIMS]; /* the tensor's flat stride per outer dim */
    int64_t base;                  /* flat index of the box's origin within the run dims */
} box_plan;

static nninit_status box_make(const nninit_tensor *t, const int64_t *lo, const int64_t *hi, box_plan *b,
                              int64_t *count) {
    if (!lo || !hi) return nninit__err(NNINIT_ERR_NULL, "fill_box: NULL lo or hi");
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (lo[d] < 0 || hi[d] < lo[d] || hi[d] > t->shape[d])
            return nninit__err(NNINIT_ERR_SLICE, "fill_box: dim %d: [%lld, %lld) not inside [0, %lld]", d,
                               (long long)lo[d], (long long)hi[d], (long long)t->shape[d]);
        n *= hi[d] - lo[d]; /* <= numel: no overflow once the tensor was checked */
    }
    *count = n;
    /* innermost dims covered whole, and the one inside of which the run ends */
    int d = t->ndim - 1;
    int64_t stride = 1, run = 1, base = 0;
    while (d >= 0 && lo[d] == 0 && hi[d] == t->shape[d]) {
        run *= t->shape[d];
        stride *= t->shape[d];
        d--;
    }
    if (d >= 0) { /* a partial dim: its extent joins the run */
        run *= hi[d] - lo[d];
        base = lo[d] * stride;
        stride *= t->shape[d];
        d--;
    }
    b->nouter = d + 1;
    b->run = run;
    b->base = base;
    b->runs = 1;
    for (int k = d; k >= 0; k--) {
        b->ext[k] = hi[k] - lo[k];
        b->lo[k] = lo[k];
        b->step[k] = stride;
        stride *= t->shape[k];
        b->runs *= b->ext[k];
    }
    return NNINIT_OK;
}

/* The flat index where run r starts. */
static int64_t box_run_start(const box_plan *b, int64_t r) {
    int64_t flat = b->base;
    for (int k = b->nouter - 1; k >= 0; k--) {
        flat += (b->lo[k] + r % b->ext[k]) * b->step[k];
        r /= b->ext[k];
    }
    return flat;
}

/* Box indices [a, e) into out (box index a at out[0]). */
static void fill_box_part(const nninit__plan *p, const nninit_tensor *t, const uint32_t k[2], const box_plan *b,
                          int64_t a, int64_t e, void *out) {
    const size_t size = nninit_dtype_size(t->dtype);
    for (int64_t pos = a; pos < e;) {
        const int64_t r = pos / b->run, off = pos % b->run;
        const int64_t len = b->run - off < e - pos ? b->run - off : e - pos;
        const int64_t start = box_run_start(b, r) + off;
        fill_elementwise(p, t, k, start, start + len, (char *)out + (size_t)(pos - a) * size);
        pos += len;
    }
}

/* ---- threads ---------------------------------------------------------------
 * Every element is a function of (key, index) alone, so any split gives the
 * same bits; the split only decides who computes what. [begin, end) is cut
 * into one contiguous piece per thread, each at least THREAD_MIN_ELEMS long
 * (smaller fills are not worth a thread's start-up, ~20 us), with the inner
 * cuts on multiples of THREAD_ALIGN of the tensor's flat index: a SIMD kernel
 * then starts every piece on a whole block of its widest vector (16 f32 lanes
 * = 4 Philox blocks; the f64 and bf16/f16 paths divide 64 as well), and no
 * two threads write the same cache line of an f32/f64 output aligned to 64
 * bytes. The caller's thread computes the first piece, then joins the rest.
 * The pieces live on the caller's stack, so the library still allocates
 * nothing of its own; THREAD_MAX bounds that. */
#define THREAD_MIN_ELEMS ((int64_t)1 << 16)
#define THREAD_ALIGN     64
#define THREAD_MAX       256

typedef struct {
    const nninit__plan *p;
    const nninit_tensor *t;
    const uint32_t *k;
    const box_plan *box; /* NULL: [begin, end) are flat indices; else box indices */
    int64_t begin, end;
    void *out;
} piece;

static void *run_piece(void *arg) {
    const piece *w = arg;
    if (w->box) fill_box_part(w->p, w->t, w->k, w->box, w->begin, w->end, w->out);
    else fill_elementwise(w->p, w->t, w->k, w->begin, w->end, w->out);
    return NULL;
}

/* The number of threads for n elements when `threads` were asked for. */
static int thread_count(int threads, int64_t n) {
    int64_t want = threads;
    if (want == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        want = cpus > 0 ? cpus : 1;
    }
    int64_t cap = n / THREAD_MIN_ELEMS;
    if (want > cap) want = cap;
    if (want > THREAD_MAX) want = THREAD_MAX;
    return want < 1 ? 1 : (int)want;
}

/* [begin, end) of flat (box == NULL) or box indices on nt threads: one
 * contiguous piece each, inner cuts on multiples of THREAD_ALIGN. */
static nninit_status run_split(const nninit__plan *p, const nninit_tensor *t, const uint32_t k[2], const box_plan *box,
                               int64_t begin, int64_t end, void *out, int nt) {
    const int64_t n = end - begin;
    const size_t size = nninit_dtype_size(t->dtype);
    piece w[THREAD_MAX];
    pthread_t tid[THREAD_MAX];
    int64_t lo = begin;
    for (int j = 0; j < nt; j++) {
        /* cut j+1 at begin + n(j+1)/nt (without overflowing), rounded down to
         * the alignment; pieces are >= 2^16 long, so none is empty. */
        int64_t hi = end;
        if (j + 1 < nt) {
            const int64_t q = n / nt, r = n % nt;
            hi = begin + q * (j + 1) + r * (j + 1) / nt;
            hi -= hi % THREAD_ALIGN;
        }
        w[j] = (piece){p, t, k, box, lo, hi, (char *)out + (size_t)(lo - begin) * size};
        lo = hi;
    }
    int started = 1;
    for (; started < nt; started++)
        if (pthread_create(&tid[started], NULL, run_piece, &w[started]) != 0) break;
    if (started == nt) run_piece(&w[0]);
    for (int j = 1; j < started; j++) pthread_join(tid[j], NULL);
    if (started < nt)
        return nninit__err(NNINIT_ERR_NOMEM, "fill: cannot start thread %d of %d (the output is partly written)",
                           started + 1, nt);
    return NNINIT_OK;
}

nninit_status nninit_fill_range_threads(const nninit_spec *spec, const nninit_tensor *t, nninit_key key, int64_t begin,
                                        int64_t end, void *out, int threads) {
    nninit__plan p;
    nninit_status st = prepare(spec, t, begin, end, out, &p);
    if (st) return st;
    if (threads < 0) return nninit__err(NNINIT_ERR_PARAM, "fill: threads (%d) must be >= 0", threads);
    uint32_t k[2];
    nninit_key_philox(key, k);
    const int nt = nninit__kernel_is_whole(p.kernel) ? 1 : thread_count(threads, end - begin);
    if (nt == 1) return fill_planned(spec, &p, t, k, begin, end, out);
    return run_split(&p, t, k, NULL, begin, end, out, nt);
}

nninit_status nninit_fill_box_threads(const nninit_spec *spec, const nninit_tensor *t, nninit_key key,
                                      const int64_t *lo, const int64_t *hi, void *out, int threads) {
    if (!out) return nninit__err(NNINIT_ERR_NULL, "fill_box: NULL output buffer");
    nninit__plan p;
    nninit_status st = nninit__plan_make(spec, t, &p);
    if (st) return st;
    box_plan b;
    int64_t n = 0;
    if ((st = box_make(t, lo, hi, &b, &n))) return st;
    if (threads < 0) return nninit__err(NNINIT_ERR_PARAM, "fill_box: threads (%d) must be >= 0", threads);
    if (nninit__kernel_is_whole(p.kernel)) {
        if (n != p.numel) /* only the whole tensor: then the box is the tensor */
            return nninit__err(NNINIT_ERR_NOT_ELEMENTWISE,
                               "%s: fills whole tensors only, not a box of %lld of its %lld elements",
                               nninit_scheme_name(spec->scheme), (long long)n, (long long)p.numel);
        return nninit_fill_range_threads(spec, t, key, 0, n, out, 1);
    }
    const char *why;
    if (!nninit__kernels(&why)) return nninit__err(NNINIT_ERR_ARCH, "%s", why);
    if (n == 0) return NNINIT_OK;
    uint32_t k[2];
    nninit_key_philox(key, k);
    const int nt = thread_count(threads, n);
    if (nt == 1) {
        fill_box_part(&p, t, k, &b, 0, n, out);
        return NNINIT_OK;
    }
    return run_split(&p, t, k, &b, 0, n, out, nt);
}

nninit_status nninit_fill_box(const nninit_spec *spec, const nninit_tensor *t, nninit_key key, const int64_t *lo,
                              const int64_t *hi, void *out) {
    return nninit_fill_box_threads(spec, t, key, lo, hi, out, 1);
}

nninit_status nninit_fill_threads(const nninit_spec *spec, const nninit_tensor *t, nninit_key key, void *data,
                                  int threads) {
    int64_t n;
    if (!data) return nninit__err(NNINIT_ERR_NULL, "fill: NULL data");
    nninit_status st = nninit_tensor_numel(t, &n);
    if (st) return st;
    return nninit_fill_range_threads(spec, t, key, 0, n, data, threads);
}

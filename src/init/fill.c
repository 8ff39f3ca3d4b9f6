/* fill.c -- nninit_fill / nninit_fill_range: validate, resolve, dispatch. */
#include "internal.h"

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

nninit_status nninit_fill_range(const nninit_spec *spec, const nninit_tensor *t, nninit_key key, int64_t begin,
                                int64_t end, void *out) {
    nninit__plan p;
    if (!out) return nninit__err(NNINIT_ERR_NULL, "fill: NULL output buffer");
    nninit_status st = nninit__plan_make(spec, t, &p);
    if (st) return st;
    if (begin < 0 || end < begin || end > p.numel)
        return nninit__err(NNINIT_ERR_SLICE, "fill: range [%lld, %lld) not inside [0, %lld]", (long long)begin,
                           (long long)end, (long long)p.numel);
    uint32_t k[2];
    nninit_key_philox(key, k);
    switch (p.kernel) {
    case NNINIT_K_CONSTANT:
        for (int64_t i = 0; i < end - begin; i++) nninit__store_f64(t->dtype, out, i, p.value);
        return NNINIT_OK;
    case NNINIT_K_UNIFORM: nninit__fill_uniform(k, t->dtype, p.lo, p.hi, begin, end, out); return NNINIT_OK;
    case NNINIT_K_NORMAL: nninit__fill_normal(k, t->dtype, p.mean, p.std, begin, end, out); return NNINIT_OK;
    case NNINIT_K_TRUNC: nninit__fill_trunc_normal(k, t->dtype, &p, begin, end, out); return NNINIT_OK;
    case NNINIT_K_EYE: fill_eye(t, begin, end, out); return NNINIT_OK;
    case NNINIT_K_DIRAC: fill_dirac(t, p.groups, begin, end, out); return NNINIT_OK;
    case NNINIT_K_ORTHOGONAL:
    case NNINIT_K_SPARSE:
        if (begin != 0 || end != p.numel)
            return nninit__err(NNINIT_ERR_NOT_ELEMENTWISE, "%s: fills whole tensors only, not the range [%lld, %lld)",
                               nninit_scheme_name(spec->scheme), (long long)begin, (long long)end);
        return p.kernel == NNINIT_K_ORTHOGONAL ? nninit__fill_orthogonal(spec, t, p.numel, k, out)
                                               : nninit__fill_sparse(spec, t, p.numel, k, out);
    }
    return nninit__err(NNINIT_ERR_PARAM, "fill: internal error, unknown kernel");
}

nninit_status nninit_fill(const nninit_spec *spec, const nninit_tensor *t, nninit_key key, void *data) {
    int64_t n;
    if (!data) return nninit__err(NNINIT_ERR_NULL, "fill: NULL data");
    nninit_status st = nninit_tensor_numel(t, &n);
    if (st) return st;
    return nninit_fill_range(spec, t, key, 0, n, data);
}

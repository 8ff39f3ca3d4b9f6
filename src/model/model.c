/* model.c -- a model's tensors and rules (include/nninit_model.h): building,
 * matching, fans_of, integer and scalar tensors, the spec file's JSON, and
 * filling one tensor. Writing is in write.c, the built-in recipes in
 * recipes.c. */
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "model/model_internal.h"

nninit_status nninit_model_new(nninit_model **m) {
    if (!m) return nninit__err(NNINIT_ERR_NULL, "model: NULL output");
    *m = calloc(1, sizeof **m);
    if (!*m) return nninit__err(NNINIT_ERR_NOMEM, "model: out of memory");
    return NNINIT_OK;
}

void nninit_model_clear_tensors(nninit_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->nt; i++) {
        free((char *)m->t[i].name);
        free(m->tinit[i]);
    }
    m->nt = 0;
    m->resolved = 0;
    for (size_t r = 0; r < m->nr; r++) m->r[r].uses = 0;
}

void nninit_model_free(nninit_model *m) {
    if (!m) return;
    nninit_model_clear_tensors(m);
    for (size_t r = 0; r < m->nr; r++) {
        free((char *)m->r[r].match);
        free((char *)m->r[r].init);
        free((char *)m->r[r].source);
        free((char *)m->r[r].fans_of);
    }
    free(m->t);
    free(m->tinit);
    free(m->r);
    free(m->rspec);
    free(m);
}

static char *dup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Room for one more in an array of *cap elements of size es. */
static int grow(void **a, size_t n, size_t *cap, size_t es) {
    if (n < *cap) return 0;
    size_t c = *cap ? *cap * 2 : 16;
    void *p = realloc(*a, c * es);
    if (!p) return -1;
    *a = p;
    *cap = c;
    return 0;
}

/* ---- dtypes ------------------------------------------------------------------ */

static const struct {
    const char *name;
    nninit_st_dtype d;
} DTYPES[] = {
    {"f32", NNINIT_ST_F32},    {"f64", NNINIT_ST_F64},   {"bf16", NNINIT_ST_BF16},  {"f16", NNINIT_ST_F16},
    {"i8", NNINIT_ST_I8},      {"u8", NNINIT_ST_U8},     {"i16", NNINIT_ST_I16},    {"u16", NNINIT_ST_U16},
    {"i32", NNINIT_ST_I32},    {"u32", NNINIT_ST_U32},   {"i64", NNINIT_ST_I64},    {"u64", NNINIT_ST_U64},
    {"bool", NNINIT_ST_BOOL},  {"int8", NNINIT_ST_I8},   {"uint8", NNINIT_ST_U8},   {"int16", NNINIT_ST_I16},
    {"uint16", NNINIT_ST_U16}, {"int32", NNINIT_ST_I32}, {"uint32", NNINIT_ST_U32}, {"int64", NNINIT_ST_I64},
    {"uint64", NNINIT_ST_U64},
};
#define N_DTYPES 13 /* the canonical names; the rest are aliases */

const char *nninit_model_dtype_name(nninit_st_dtype d) {
    for (int i = 0; i < N_DTYPES; i++)
        if (DTYPES[i].d == d) return DTYPES[i].name;
    return NULL;
}

nninit_status nninit_model_dtype_parse(const char *name, nninit_st_dtype *out) {
    if (!name || !out) return nninit__err(NNINIT_ERR_NULL, "model: NULL argument");
    nninit_dtype f;
    if (nninit_dtype_parse(name, &f) == NNINIT_OK) {
        *out = nninit_st_dtype_of(f);
        return NNINIT_OK;
    }
    for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0]; i++)
        if (strcmp(DTYPES[i].name, name) == 0) {
            *out = DTYPES[i].d;
            return NNINIT_OK;
        }
    return nninit__err(NNINIT_ERR_UNKNOWN_NAME,
                       "model: unknown dtype '%s' (f32, f64, bf16, f16, i8, u8, i16, u16, i32, u32, i64, u64, bool)",
                       name);
}

/* The integer dtypes a model stores: values from zeros / ones / constant. */
static int is_int(nninit_st_dtype d) {
    switch (d) {
    case NNINIT_ST_I8:
    case NNINIT_ST_U8:
    case NNINIT_ST_I16:
    case NNINIT_ST_U16:
    case NNINIT_ST_I32:
    case NNINIT_ST_U32:
    case NNINIT_ST_I64:
    case NNINIT_ST_U64:
    case NNINIT_ST_BOOL: return 1;
    default: return 0;
    }
}

/* The values of an integer dtype: [lo, top), top a power of 2 (exact in a
 * double, unlike INT64_MAX), and the largest as text. */
static void int_range(nninit_st_dtype d, double *lo, double *top, char *max_text, size_t cap) {
    const int bits = d == NNINIT_ST_BOOL ? 1 : (int)nninit_st_dtype_size(d) * 8;
    const int is_signed = d == NNINIT_ST_I8 || d == NNINIT_ST_I16 || d == NNINIT_ST_I32 || d == NNINIT_ST_I64;
    *lo = is_signed ? -ldexp(1.0, bits - 1) : 0.0;
    *top = ldexp(1.0, is_signed ? bits - 1 : bits);
    if (is_signed) snprintf(max_text, cap, "%llu", (1ull << (bits - 1)) - 1);
    else snprintf(max_text, cap, "%llu", bits == 64 ? ~0ull : (1ull << bits) - 1);
}

/* A scalar as the one-element 1-D tensor the fill and explain see. */
static nninit_tensor view_of(const nninit_tensor *t) {
    nninit_tensor v = *t;
    if (v.ndim == 0) {
        v.ndim = 1;
        v.shape[0] = 1;
    }
    return v;
}

/* ---- tensors ------------------------------------------------------------------- */

nninit_status nninit_model_add_tensor_st(nninit_model *m, const char *name, int ndim, const int64_t *shape,
                                         nninit_st_dtype dtype, nninit_layout layout) {
    if (!m || !name || (!shape && ndim > 0)) return nninit__err(NNINIT_ERR_NULL, "model: NULL argument");
    size_t len = strlen(name);
    if (len == 0 || len > NNINIT_MODEL_MAX_NAME)
        return nninit__err(NNINIT_ERR_FORMAT, "model: a tensor name must have 1 to %d bytes, not %zu",
                           NNINIT_MODEL_MAX_NAME, len);
    if (ndim < 0 || ndim > NNINIT_MAX_DIMS)
        return nninit__err(NNINIT_ERR_SHAPE, "model: tensor '%s': %d dims (0 to %d)", name, ndim, NNINIT_MAX_DIMS);
    nninit_dtype fd = NNINIT_F64; /* an integer tensor's values are computed in double */
    if (!is_int(dtype) && nninit_st_fill_dtype(dtype, &fd))
        return nninit__err(NNINIT_ERR_DTYPE, "model: tensor '%s': dtype %s is not one nninit fills", name,
                           nninit_st_dtype_name(dtype) ? nninit_st_dtype_name(dtype) : "(unknown)");
    if (!nninit_layout_name(layout)) return nninit__err(NNINIT_ERR_LAYOUT, "model: tensor '%s': unknown layout", name);
    nninit_tensor t = nninit_tensor_make(ndim, shape, fd);
    t.layout = layout;
    int64_t numel;
    nninit_tensor v = view_of(&t);
    nninit_status st = nninit_tensor_numel(&v, &numel);
    if (st) return nninit__err(st, "model: tensor '%s': %s", name, nninit_last_error());
    if (m->nt == m->ct) {
        size_t cap = m->ct;
        if (grow((void **)&m->t, m->nt, &cap, sizeof *m->t))
            return nninit__err(NNINIT_ERR_NOMEM, "model: out of memory");
        char **p = realloc(m->tinit, cap * sizeof *p);
        if (!p) return nninit__err(NNINIT_ERR_NOMEM, "model: out of memory");
        m->tinit = p;
        m->ct = cap;
    }
    nninit_model_tensor *e = &m->t[m->nt];
    memset(e, 0, sizeof *e);
    e->name = dup(name);
    if (!e->name) return nninit__err(NNINIT_ERR_NOMEM, "model: out of memory");
    m->tinit[m->nt] = NULL;
    e->tensor = t;
    e->dtype = dtype;
    e->rule = -1;
    e->padding_idx = -1;
    m->nt++;
    m->resolved = 0;
    return NNINIT_OK;
}

nninit_status nninit_model_add_tensor(nninit_model *m, const char *name, int ndim, const int64_t *shape,
                                      nninit_dtype dtype, nninit_layout layout) {
    if (m && name && !nninit_dtype_name(dtype))
        return nninit__err(NNINIT_ERR_DTYPE, "model: tensor '%s': unknown dtype", name);
    return nninit_model_add_tensor_st(m, name, ndim, shape, nninit_st_dtype_of(dtype), layout);
}

nninit_status nninit_model_add_rule(nninit_model *m, const char *match, const char *init, const char *source,
                                    int64_t padding_idx) {
    return nninit_model_add_rule_fans_of(m, match, init, source, padding_idx, NULL);
}

nninit_status nninit_model_add_rule_fans_of(nninit_model *m, const char *match, const char *init, const char *source,
                                            int64_t padding_idx, const char *fans_of) {
    if (!m || !match || !init) return nninit__err(NNINIT_ERR_NULL, "model: NULL argument");
    if (!*match) return nninit__err(NNINIT_ERR_FORMAT, "model: rule %zu: empty pattern", m->nr);
    if (fans_of && !*fans_of)
        return nninit__err(NNINIT_ERR_FORMAT, "model: rule %zu ('%s'): empty fans_of", m->nr, match);
    nninit_spec sp;
    nninit_status st = nninit_spec_parse(init, &sp);
    if (st) return nninit__err(st, "model: rule %zu ('%s'): %s", m->nr, match, nninit_last_error());
    char canon[NNINIT_SPEC_TEXT_MAX];
    if ((st = nninit_spec_format(&sp, canon, sizeof canon))) return st;
    if (padding_idx < -1) return nninit__err(NNINIT_ERR_FORMAT, "model: rule %zu: padding_idx must be >= 0", m->nr);
    size_t cap = m->cr;
    if (grow((void **)&m->r, m->nr, &cap, sizeof *m->r)) return nninit__err(NNINIT_ERR_NOMEM, "model: out of memory");
    if (cap != m->cr) {
        nninit_spec *p = realloc(m->rspec, cap * sizeof *p);
        if (!p) return nninit__err(NNINIT_ERR_NOMEM, "model: out of memory");
        m->rspec = p;
        m->cr = cap;
    }
    nninit_model_rule *r = &m->r[m->nr];
    r->match = dup(match);
    r->init = dup(canon);
    r->source = source ? dup(source) : NULL;
    r->padding_idx = padding_idx;
    r->uses = 0;
    r->fans_of = fans_of ? dup(fans_of) : NULL;
    if (!r->match || !r->init || (source && !r->source) || (fans_of && !r->fans_of)) {
        free((char *)r->match);
        free((char *)r->init);
        free((char *)r->source);
        free((char *)r->fans_of);
        return nninit__err(NNINIT_ERR_NOMEM, "model: out of memory");
    }
    m->rspec[m->nr] = sp;
    m->nr++;
    m->resolved = 0;
    return NNINIT_OK;
}

nninit_status nninit_model_set_dtype(nninit_model *m, nninit_dtype d) {
    if (!m) return nninit__err(NNINIT_ERR_NULL, "model: NULL model");
    if (!nninit_dtype_name(d)) return nninit__err(NNINIT_ERR_DTYPE, "model: unknown dtype");
    for (size_t i = 0; i < m->nt; i++)
        if (!is_int(m->t[i].dtype)) {
            m->t[i].tensor.dtype = d;
            m->t[i].dtype = nninit_st_dtype_of(d);
        }
    m->resolved = 0;
    return NNINIT_OK;
}

static int cmp_names(const void *a, const void *b) {
    const nninit_model_tensor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* Tensor i takes the fans of the tensor its rule's fans_of names (by: the
 * tensors sorted by name): its spec becomes the distribution the rule's
 * scheme resolves to on that tensor. */
static nninit_status take_fans(nninit_model *m, const nninit_model_tensor *const *by, size_t i, size_t r) {
    nninit_model_tensor *e = &m->t[i];
    const char *f = m->r[r].fans_of;
    char want[NNINIT_MODEL_MAX_NAME + 1];
    size_t keep = 0, flen = strlen(f);
    if (!strchr(f, '.')) { /* a replacement of the name's last part */
        const char *dot = strrchr(e->name, '.');
        keep = dot ? (size_t)(dot - e->name) + 1 : 0;
    }
    const nninit_model_tensor *w = NULL;
    if (keep + flen <= NNINIT_MODEL_MAX_NAME) {
        memcpy(want, e->name, keep);
        memcpy(want + keep, f, flen + 1);
        nninit_model_tensor key = {0};
        key.name = want;
        const nninit_model_tensor *kp = &key, *const *hit = bsearch(&kp, by, m->nt, sizeof *by, cmp_names);
        w = hit ? *hit : NULL;
    }
    if (!w)
        return nninit__err(NNINIT_ERR_FORMAT, "model: tensor '%s' (rule %zu, '%s'): fans_of '%s': no tensor '%.*s%s'",
                           e->name, r, m->r[r].match, f, (int)keep, e->name, f);
    if (!nninit_scheme_uses_fans(e->spec.scheme)) return NNINIT_OK; /* nothing to take */
    nninit_tensor wt = view_of(&w->tensor);
    wt.dtype = e->tensor.dtype;
    nninit_spec plain;
    char text[NNINIT_SPEC_TEXT_MAX];
    nninit_status st = nninit_spec_resolve_fans(&e->spec, &wt, &plain);
    if (!st) st = nninit_spec_format(&plain, text, sizeof text);
    if (st)
        return nninit__err(st, "model: tensor '%s' (rule %zu, '%s' -> %s) with the fans of '%s': %s", e->name, r,
                           m->r[r].match, m->r[r].init, w->name, nninit_last_error());
    if (!(m->tinit[i] = dup(text))) return nninit__err(NNINIT_ERR_NOMEM, "model: out of memory");
    e->spec = plain;
    e->init = m->tinit[i];
    e->fans_of = w->name;
    return NNINIT_OK;
}

/* An integer tensor takes zeros, ones or an integer constant it can hold. */
static nninit_status check_int(const nninit_model *m, const nninit_model_tensor *e, size_t r) {
    const char *dn = nninit_model_dtype_name(e->dtype);
    double v, lo, top;
    char max_text[24];
    switch (e->spec.scheme) {
    case NNINIT_ZEROS: v = 0; break;
    case NNINIT_ONES: v = 1; break;
    case NNINIT_CONSTANT: v = e->spec.value; break;
    default:
        return nninit__err(NNINIT_ERR_FORMAT,
                           "model: tensor '%s' is %s: its rule (rule %zu, '%s' -> %s) must be zeros, ones or "
                           "constant(value=an integer)",
                           e->name, dn, r, m->r[r].match, m->r[r].init);
    }
    int_range(e->dtype, &lo, &top, max_text, sizeof max_text);
    if (!(v == floor(v) && v >= lo && v < top))
        return nninit__err(NNINIT_ERR_FORMAT,
                           "model: tensor '%s' is %s: constant value %.17g (rule %zu, '%s') is not an integer in "
                           "[%.0f, %s]",
                           e->name, dn, v, r, m->r[r].match, lo, max_text);
    return NNINIT_OK;
}

nninit_status nninit_model_resolve(nninit_model *m) {
    if (!m) return nninit__err(NNINIT_ERR_NULL, "model: NULL model");
    if (m->nt == 0) return nninit__err(NNINIT_ERR_FORMAT, "model: no tensors");
    m->resolved = 0;
    /* duplicates: sort pointers by name (kept for fans_of's look-ups) */
    const nninit_model_tensor **by = malloc(m->nt * sizeof *by);
    if (!by) return nninit__err(NNINIT_ERR_NOMEM, "model: out of memory");
    for (size_t i = 0; i < m->nt; i++) by[i] = &m->t[i];
    qsort(by, m->nt, sizeof *by, cmp_names);
    nninit_status st = NNINIT_OK;
    for (size_t i = 1; i < m->nt && !st; i++)
        if (strcmp(by[i - 1]->name, by[i]->name) == 0)
            st = nninit__err(NNINIT_ERR_FORMAT, "model: tensor '%s' is listed twice", by[i]->name);
    for (size_t r = 0; r < m->nr; r++) m->r[r].uses = 0;
    for (size_t i = 0; i < m->nt && !st; i++) {
        nninit_model_tensor *e = &m->t[i];
        free(m->tinit[i]);
        m->tinit[i] = NULL;
        e->fans_of = NULL;
        size_t r = 0;
        while (r < m->nr && fnmatch(m->r[r].match, e->name, 0) != 0) r++;
        if (r == m->nr) {
            st = nninit__err(NNINIT_ERR_FORMAT, "model: tensor '%s' matches no rule", e->name);
            break;
        }
        e->rule = (int)r;
        e->spec = m->rspec[r];
        e->init = m->r[r].init;
        e->padding_idx = m->r[r].padding_idx;
        m->r[r].uses++;
        if (is_int(e->dtype) && (st = check_int(m, e, r))) break;
        if (m->r[r].fans_of && (st = take_fans(m, by, i, r))) break;
        nninit_info info;
        const nninit_tensor v = view_of(&e->tensor);
        if ((st = nninit_explain(&e->spec, &v, &info))) {
            st = nninit__err(st, "model: tensor '%s' (rule %zu, '%s' -> %s): %s", e->name, r, m->r[r].match, e->init,
                             nninit_last_error());
            break;
        }
        if (e->padding_idx >= 0 && e->tensor.ndim == 0)
            st = nninit__err(NNINIT_ERR_FORMAT, "model: tensor '%s': padding_idx on a scalar (0 dims)", e->name);
        else if (e->padding_idx >= e->tensor.shape[0])
            st = nninit__err(NNINIT_ERR_FORMAT, "model: tensor '%s': padding_idx %lld outside its %lld rows", e->name,
                             (long long)e->padding_idx, (long long)e->tensor.shape[0]);
    }
    free(by);
    if (st) return st;
    for (size_t r = 0; r < m->nr; r++)
        if (m->r[r].uses == 0 && !m->allow_unused)
            return nninit__err(NNINIT_ERR_FORMAT, "model: rule %zu ('%s' -> %s) matches no tensor", r, m->r[r].match,
                               m->r[r].init);
    m->resolved = 1;
    return NNINIT_OK;
}

void nninit_model_allow_unused_rules(nninit_model *m, int allow) {
    if (m) m->allow_unused = allow != 0;
}

size_t nninit_model_count(const nninit_model *m) { return m ? m->nt : 0; }
const nninit_model_tensor *nninit_model_tensor_at(const nninit_model *m, size_t i) {
    return m && i < m->nt ? &m->t[i] : NULL;
}
size_t nninit_model_rule_count(const nninit_model *m) { return m ? m->nr : 0; }
const nninit_model_rule *nninit_model_rule_at(const nninit_model *m, size_t i) {
    return m && i < m->nr ? &m->r[i] : NULL;
}

int64_t nninit_model_tensor_numel(const nninit_model_tensor *e) {
    if (!e) return 0;
    int64_t n = 1;
    for (int d = 0; d < e->tensor.ndim; d++) n *= e->tensor.shape[d];
    return n;
}

uint64_t nninit_model_tensor_bytes(const nninit_model_tensor *e) {
    return e ? (uint64_t)nninit_model_tensor_numel(e) * nninit_st_dtype_size(e->dtype) : 0;
}

uint64_t nninit__model_tensor_bytes(const nninit_model_tensor *e) { return nninit_model_tensor_bytes(e); }

size_t nninit__model_elem_size(const nninit_model_tensor *e) { return nninit_st_dtype_size(e->dtype); }

nninit_st_dtype nninit__model_st_dtype(const nninit_model_tensor *e) { return e->dtype; }

nninit_status nninit_model_explain(const nninit_model *m, size_t i, nninit_info *info) {
    if (!m || !info) return nninit__err(NNINIT_ERR_NULL, "model: NULL argument");
    if (!m->resolved) return nninit__err(NNINIT_ERR_FORMAT, "model: not resolved (nninit_model_resolve)");
    if (i >= m->nt) return nninit__err(NNINIT_ERR_SLICE, "model: tensor %zu of %zu", i, m->nt);
    const nninit_tensor v = view_of(&m->t[i].tensor);
    return nninit_explain(&m->t[i].spec, &v, info);
}

/* Elements [begin, end) of an integer tensor: its constant, little-endian. */
static void fill_int(const nninit_model_tensor *e, int64_t begin, int64_t end, void *out) {
    const double v = e->spec.scheme == NNINIT_ZEROS ? 0 : e->spec.scheme == NNINIT_ONES ? 1 : e->spec.value;
    const uint64_t bits = v < 0 ? (uint64_t)(int64_t)v : (uint64_t)v; /* in range: check_int */
    const size_t es = nninit_st_dtype_size(e->dtype);
    unsigned char pat[8];
    for (size_t k = 0; k < 8; k++) pat[k] = (unsigned char)(bits >> (8 * k));
    unsigned char *p = out;
    for (int64_t n = begin; n < end; n++, p += es) memcpy(p, pat, es);
}

nninit_status nninit_model_fill(const nninit_model *m, size_t i, uint64_t seed, int64_t begin, int64_t end, void *out,
                                int threads) {
    if (!m || !out) return nninit__err(NNINIT_ERR_NULL, "model: NULL argument");
    if (!m->resolved) return nninit__err(NNINIT_ERR_FORMAT, "model: not resolved (nninit_model_resolve)");
    if (i >= m->nt) return nninit__err(NNINIT_ERR_SLICE, "model: tensor %zu of %zu", i, m->nt);
    const nninit_model_tensor *e = &m->t[i];
    const int64_t numel = nninit_model_tensor_numel(e);
    if (is_int(e->dtype)) {
        if (begin < 0 || begin > end || end > numel)
            return nninit__err(NNINIT_ERR_SLICE, "model: tensor '%s': [%lld, %lld) outside its %lld elements", e->name,
                               (long long)begin, (long long)end, (long long)numel);
        fill_int(e, begin, end, out);
    } else {
        const nninit_tensor v = view_of(&e->tensor);
        nninit_key key = nninit_key_from_name(seed, e->name);
        nninit_status st = nninit_fill_range_threads(&e->spec, &v, key, begin, end, out, threads);
        if (st) return nninit__err(st, "model: tensor '%s': %s", e->name, nninit_last_error());
    }
    if (e->padding_idx >= 0) { /* zero the part of row padding_idx inside [begin, end) */
        int64_t row = 1;
        for (int d = 1; d < e->tensor.ndim; d++) row *= e->tensor.shape[d];
        int64_t lo = e->padding_idx * row, hi = lo + row;
        if (lo < begin) lo = begin;
        if (hi > end) hi = end;
        const size_t es = nninit_st_dtype_size(e->dtype);
        if (lo < hi) memset((char *)out + (size_t)(lo - begin) * es, 0, (size_t)(hi - lo) * es);
    }
    return NNINIT_OK;
}

/* ---- the spec file ---------------------------------------------------------- */

/* Every key of object o is one of keys[] (NULL-terminated); else FORMAT. */
static nninit_status only_keys(const cJSON *o, const char *const *keys, const char *where) {
    for (const cJSON *c = o->child; c; c = c->next) {
        int ok = 0;
        for (int k = 0; keys[k]; k++) ok |= c->string && strcmp(c->string, keys[k]) == 0;
        if (!ok) return nninit__err(NNINIT_ERR_FORMAT, "spec: %s: unknown key '%s'", where, c->string ? c->string : "");
    }
    return NNINIT_OK;
}

/* A JSON number that is an integer in [lo, hi]. */
static int json_int(const cJSON *v, int64_t lo, int64_t hi, int64_t *out) {
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(d >= (double)lo && d <= (double)hi) || d != (double)(int64_t)d) return 0;
    *out = (int64_t)d;
    return 1;
}

#define DTYPE_NAMES "f32, f64, bf16, f16, i8, u8, i16, u16, i32, u32, i64, u64 or bool"

static nninit_status parse_tensor(nninit_model *m, const cJSON *o, size_t i, nninit_st_dtype dflt) {
    char where[64];
    snprintf(where, sizeof where, "tensors[%zu]", i);
    if (!cJSON_IsObject(o)) return nninit__err(NNINIT_ERR_FORMAT, "spec: %s: not an object", where);
    static const char *const keys[] = {"name", "shape", "dtype", "layout", NULL};
    nninit_status st = only_keys(o, keys, where);
    if (st) return st;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(o, "shape");
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(o, "dtype");
    const cJSON *layout = cJSON_GetObjectItemCaseSensitive(o, "layout");
    if (!cJSON_IsString(name)) return nninit__err(NNINIT_ERR_FORMAT, "spec: %s: \"name\" must be a string", where);
    if (!cJSON_IsArray(shape))
        return nninit__err(NNINIT_ERR_FORMAT, "spec: %s ('%s'): \"shape\" must be an array", where, name->valuestring);
    int64_t dims[NNINIT_MAX_DIMS];
    int nd = 0;
    for (const cJSON *d = shape->child; d; d = d->next) {
        if (nd == NNINIT_MAX_DIMS)
            return nninit__err(NNINIT_ERR_FORMAT, "spec: %s ('%s'): more than %d dims", where, name->valuestring,
                               NNINIT_MAX_DIMS);
        if (!json_int(d, 1, INT64_MAX / 2, &dims[nd++]))
            return nninit__err(NNINIT_ERR_FORMAT, "spec: %s ('%s'): shape[%d] must be a positive integer", where,
                               name->valuestring, nd - 1);
    }
    nninit_st_dtype dt = dflt;
    if (dtype && (!cJSON_IsString(dtype) || nninit_model_dtype_parse(dtype->valuestring, &dt)))
        return nninit__err(NNINIT_ERR_FORMAT, "spec: %s ('%s'): \"dtype\" must be " DTYPE_NAMES, where,
                           name->valuestring);
    nninit_layout lay = NNINIT_LAYOUT_OIHW;
    if (layout &&
        (!cJSON_IsString(layout) || nninit_layout_parse(layout->valuestring, &lay) || lay == NNINIT_LAYOUT_CUSTOM))
        return nninit__err(NNINIT_ERR_FORMAT, "spec: %s ('%s'): \"layout\" must be oihw, hwio, iohw or embedding",
                           where, name->valuestring);
    return nninit_model_add_tensor_st(m, name->valuestring, nd, dims, dt, lay);
}

static nninit_status parse_rule(nninit_model *m, const cJSON *o, size_t i) {
    char where[64];
    snprintf(where, sizeof where, "rules[%zu]", i);
    if (!cJSON_IsObject(o)) return nninit__err(NNINIT_ERR_FORMAT, "spec: %s: not an object", where);
    static const char *const keys[] = {"match", "init", "padding_idx", "fans_of", "source", NULL};
    nninit_status st = only_keys(o, keys, where);
    if (st) return st;
    const cJSON *match = cJSON_GetObjectItemCaseSensitive(o, "match");
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(o, "init");
    const cJSON *pad = cJSON_GetObjectItemCaseSensitive(o, "padding_idx");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
    const cJSON *fans = cJSON_GetObjectItemCaseSensitive(o, "fans_of");
    if (!cJSON_IsString(match) || !cJSON_IsString(init))
        return nninit__err(NNINIT_ERR_FORMAT, "spec: %s: \"match\" and \"init\" must be strings", where);
    if (src && !cJSON_IsString(src))
        return nninit__err(NNINIT_ERR_FORMAT, "spec: %s: \"source\" must be a string", where);
    if (fans && !(cJSON_IsString(fans) && fans->valuestring[0]))
        return nninit__err(NNINIT_ERR_FORMAT, "spec: %s: \"fans_of\" must be a non-empty string", where);
    int64_t p = -1;
    if (pad && !json_int(pad, 0, INT64_MAX / 2, &p))
        return nninit__err(NNINIT_ERR_FORMAT, "spec: %s: \"padding_idx\" must be a non-negative integer", where);
    return nninit_model_add_rule_fans_of(m, match->valuestring, init->valuestring, src ? src->valuestring : NULL, p,
                                         fans ? fans->valuestring : NULL);
}

nninit_status nninit_model_from_json(const char *text, size_t len, nninit_model **out) {
    if (!text || !out) return nninit__err(NNINIT_ERR_NULL, "spec: NULL argument");
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : 0;
        return nninit__err(NNINIT_ERR_FORMAT, "spec: not valid JSON (near byte %zu)", off + 1);
    }
    nninit_model *m = NULL;
    nninit_status st = NNINIT_OK;
    static const char *const keys[] = {"format", "dtype", "tensors", "rules", "about", NULL};
    if (!cJSON_IsObject(root)) {
        st = nninit__err(NNINIT_ERR_FORMAT, "spec: the top level must be an object");
        goto done;
    }
    if ((st = only_keys(root, keys, "top level"))) goto done;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (fmt && !(cJSON_IsString(fmt) && strcmp(fmt->valuestring, NNINIT_MODEL_FORMAT) == 0)) {
        st = nninit__err(NNINIT_ERR_FORMAT, "spec: \"format\" must be \"%s\"", NNINIT_MODEL_FORMAT);
        goto done;
    }
    nninit_st_dtype dflt = NNINIT_ST_F32;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(root, "dtype");
    if (dt && (!cJSON_IsString(dt) || nninit_model_dtype_parse(dt->valuestring, &dflt))) {
        st = nninit__err(NNINIT_ERR_FORMAT, "spec: \"dtype\" must be " DTYPE_NAMES);
        goto done;
    }
    const cJSON *tensors = cJSON_GetObjectItemCaseSensitive(root, "tensors");
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(root, "rules");
    if ((tensors && !cJSON_IsArray(tensors)) || !cJSON_IsArray(rules)) {
        st = nninit__err(NNINIT_ERR_FORMAT, "spec: \"rules\" (required) and \"tensors\" must be arrays");
        goto done;
    }
    if ((st = nninit_model_new(&m))) goto done;
    size_t i = 0;
    for (const cJSON *o = tensors ? tensors->child : NULL; o; o = o->next, i++)
        if ((st = parse_tensor(m, o, i, dflt))) goto done;
    i = 0;
    for (const cJSON *o = rules->child; o; o = o->next, i++)
        if ((st = parse_rule(m, o, i))) goto done;
done:
    cJSON_Delete(root);
    if (st) {
        nninit_model_free(m);
        return st;
    }
    *out = m;
    return NNINIT_OK;
}

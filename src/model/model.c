/* model.c -- a model's tensors and rules (include/nninit_model.h): building,
 * matching, the spec file's JSON, and filling one tensor. Writing is in
 * write.c, the built-in recipes in recipes.c. */
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <fnmatch.h>
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
    for (size_t i = 0; i < m->nt; i++) free((char *)m->t[i].name);
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
    }
    free(m->t);
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

nninit_status nninit_model_add_tensor(nninit_model *m, const char *name, int ndim, const int64_t *shape,
                                      nninit_dtype dtype, nninit_layout layout) {
    if (!m || !name || (!shape && ndim > 0)) return nninit__err(NNINIT_ERR_NULL, "model: NULL argument");
    size_t len = strlen(name);
    if (len == 0 || len > NNINIT_MODEL_MAX_NAME)
        return nninit__err(NNINIT_ERR_FORMAT, "model: a tensor name must have 1 to %d bytes, not %zu",
                           NNINIT_MODEL_MAX_NAME, len);
    if (ndim < 1 || ndim > NNINIT_MAX_DIMS)
        return nninit__err(NNINIT_ERR_SHAPE, "model: tensor '%s': %d dims (1 to %d)", name, ndim, NNINIT_MAX_DIMS);
    if (!nninit_dtype_name(dtype)) return nninit__err(NNINIT_ERR_DTYPE, "model: tensor '%s': unknown dtype", name);
    if (!nninit_layout_name(layout)) return nninit__err(NNINIT_ERR_LAYOUT, "model: tensor '%s': unknown layout", name);
    nninit_tensor t = nninit_tensor_make(ndim, shape, dtype);
    t.layout = layout;
    int64_t numel;
    nninit_status st = nninit_tensor_numel(&t, &numel);
    if (st) return nninit__err(st, "model: tensor '%s': %s", name, nninit_last_error());
    if (grow((void **)&m->t, m->nt, &m->ct, sizeof *m->t)) return nninit__err(NNINIT_ERR_NOMEM, "model: out of memory");
    nninit_model_tensor *e = &m->t[m->nt];
    memset(e, 0, sizeof *e);
    e->name = dup(name);
    if (!e->name) return nninit__err(NNINIT_ERR_NOMEM, "model: out of memory");
    e->tensor = t;
    e->rule = -1;
    e->padding_idx = -1;
    m->nt++;
    m->resolved = 0;
    return NNINIT_OK;
}

nninit_status nninit_model_add_rule(nninit_model *m, const char *match, const char *init, const char *source,
                                    int64_t padding_idx) {
    if (!m || !match || !init) return nninit__err(NNINIT_ERR_NULL, "model: NULL argument");
    if (!*match) return nninit__err(NNINIT_ERR_FORMAT, "model: rule %zu: empty pattern", m->nr);
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
    if (!r->match || !r->init || (source && !r->source)) {
        free((char *)r->match);
        free((char *)r->init);
        free((char *)r->source);
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
    for (size_t i = 0; i < m->nt; i++) m->t[i].tensor.dtype = d;
    m->resolved = 0;
    return NNINIT_OK;
}

static int cmp_names(const void *a, const void *b) {
    const nninit_model_tensor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

nninit_status nninit_model_resolve(nninit_model *m) {
    if (!m) return nninit__err(NNINIT_ERR_NULL, "model: NULL model");
    if (m->nt == 0) return nninit__err(NNINIT_ERR_FORMAT, "model: no tensors");
    /* duplicates: sort pointers by name */
    const nninit_model_tensor **by = malloc(m->nt * sizeof *by);
    if (!by) return nninit__err(NNINIT_ERR_NOMEM, "model: out of memory");
    for (size_t i = 0; i < m->nt; i++) by[i] = &m->t[i];
    qsort(by, m->nt, sizeof *by, cmp_names);
    for (size_t i = 1; i < m->nt; i++)
        if (strcmp(by[i - 1]->name, by[i]->name) == 0) {
            nninit_status st = nninit__err(NNINIT_ERR_FORMAT, "model: tensor '%s' is listed twice", by[i]->name);
            free(by);
            return st;
        }
    free(by);
    for (size_t r = 0; r < m->nr; r++) m->r[r].uses = 0;
    for (size_t i = 0; i < m->nt; i++) {
        nninit_model_tensor *e = &m->t[i];
        size_t r = 0;
        while (r < m->nr && fnmatch(m->r[r].match, e->name, 0) != 0) r++;
        if (r == m->nr) return nninit__err(NNINIT_ERR_FORMAT, "model: tensor '%s' matches no rule", e->name);
        e->rule = (int)r;
        e->spec = m->rspec[r];
        e->init = m->r[r].init;
        e->padding_idx = m->r[r].padding_idx;
        m->r[r].uses++;
        nninit_info info;
        nninit_status st = nninit_explain(&e->spec, &e->tensor, &info);
        if (st)
            return nninit__err(st, "model: tensor '%s' (rule %zu, '%s' -> %s): %s", e->name, r, m->r[r].match, e->init,
                               nninit_last_error());
        if (e->padding_idx >= e->tensor.shape[0])
            return nninit__err(NNINIT_ERR_FORMAT, "model: tensor '%s': padding_idx %lld outside its %lld rows", e->name,
                               (long long)e->padding_idx, (long long)e->tensor.shape[0]);
    }
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

uint64_t nninit__model_tensor_bytes(const nninit_model_tensor *e) {
    uint64_t n = nninit_dtype_size(e->tensor.dtype);
    for (int d = 0; d < e->tensor.ndim; d++) n *= (uint64_t)e->tensor.shape[d];
    return n;
}

size_t nninit__model_elem_size(const nninit_model_tensor *e) { return nninit_dtype_size(e->tensor.dtype); }

nninit_st_dtype nninit__model_st_dtype(const nninit_model_tensor *e) { return nninit_st_dtype_of(e->tensor.dtype); }

nninit_status nninit_model_fill(const nninit_model *m, size_t i, uint64_t seed, int64_t begin, int64_t end, void *out,
                                int threads) {
    if (!m || !out) return nninit__err(NNINIT_ERR_NULL, "model: NULL argument");
    if (!m->resolved) return nninit__err(NNINIT_ERR_FORMAT, "model: not resolved (nninit_model_resolve)");
    if (i >= m->nt) return nninit__err(NNINIT_ERR_SLICE, "model: tensor %zu of %zu", i, m->nt);
    const nninit_model_tensor *e = &m->t[i];
    nninit_key key = nninit_key_from_name(seed, e->name);
    nninit_status st = nninit_fill_range_threads(&e->spec, &e->tensor, key, begin, end, out, threads);
    if (st) return nninit__err(st, "model: tensor '%s': %s", e->name, nninit_last_error());
    if (e->padding_idx >= 0) { /* zero the part of row padding_idx inside [begin, end) */
        int64_t row = 1;
        for (int d = 1; d < e->tensor.ndim; d++) row *= e->tensor.shape[d];
        int64_t lo = e->padding_idx * row, hi = lo + row;
        if (lo < begin) lo = begin;
        if (hi > end) hi = end;
        const size_t es = nninit_dtype_size(e->tensor.dtype);
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

static nninit_status parse_tensor(nninit_model *m, const cJSON *o, size_t i, nninit_dtype dflt) {
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
    nninit_dtype dt = dflt;
    if (dtype && (!cJSON_IsString(dtype) || nninit_dtype_parse(dtype->valuestring, &dt)))
        return nninit__err(NNINIT_ERR_FORMAT, "spec: %s ('%s'): \"dtype\" must be f32, f64, bf16 or f16", where,
                           name->valuestring);
    nninit_layout lay = NNINIT_LAYOUT_OIHW;
    if (layout &&
        (!cJSON_IsString(layout) || nninit_layout_parse(layout->valuestring, &lay) || lay == NNINIT_LAYOUT_CUSTOM))
        return nninit__err(NNINIT_ERR_FORMAT, "spec: %s ('%s'): \"layout\" must be oihw, hwio, iohw or embedding",
                           where, name->valuestring);
    return nninit_model_add_tensor(m, name->valuestring, nd, dims, dt, lay);
}

static nninit_status parse_rule(nninit_model *m, const cJSON *o, size_t i) {
    char where[64];
    snprintf(where, sizeof where, "rules[%zu]", i);
    if (!cJSON_IsObject(o)) return nninit__err(NNINIT_ERR_FORMAT, "spec: %s: not an object", where);
    static const char *const keys[] = {"match", "init", "padding_idx", "source", NULL};
    nninit_status st = only_keys(o, keys, where);
    if (st) return st;
    const cJSON *match = cJSON_GetObjectItemCaseSensitive(o, "match");
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(o, "init");
    const cJSON *pad = cJSON_GetObjectItemCaseSensitive(o, "padding_idx");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
    if (!cJSON_IsString(match) || !cJSON_IsString(init))
        return nninit__err(NNINIT_ERR_FORMAT, "spec: %s: \"match\" and \"init\" must be strings", where);
    if (src && !cJSON_IsString(src))
        return nninit__err(NNINIT_ERR_FORMAT, "spec: %s: \"source\" must be a string", where);
    int64_t p = -1;
    if (pad && !json_int(pad, 0, INT64_MAX / 2, &p))
        return nninit__err(NNINIT_ERR_FORMAT, "spec: %s: \"padding_idx\" must be a non-negative integer", where);
    return nninit_model_add_rule(m, match->valuestring, init->valuestring, src ? src->valuestring : NULL, p);
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
    nninit_dtype dflt = NNINIT_F32;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(root, "dtype");
    if (dt && (!cJSON_IsString(dt) || nninit_dtype_parse(dt->valuestring, &dflt))) {
        st = nninit__err(NNINIT_ERR_FORMAT, "spec: \"dtype\" must be f32, f64, bf16 or f16");
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

/* fuzz_safetensors.c -- the safetensors reader, nninit_st_parse()
 * (src/io/safetensors.c), on the input as a whole file.
 *
 * A refused file is NNINIT_ERR_FORMAT (or NOMEM) and leaves the caller's
 * pointer alone. An accepted one keeps every promise of the header
 * (include/nninit_checkpoint.h): tensors in data order, contiguous from 0 to
 * the end of the file, each span the shape's bytes, names unique and found
 * by nninit_st_find, metadata keys unique; and it survives a round trip:
 * nninit_st_header() of the tensors and metadata read parses again to the
 * same tables (offsets, being contiguous in that order, come out equal).
 */
#include "fuzz_common.h" /* first: it sets _POSIX_C_SOURCE */

#include "nninit_checkpoint.h"

static void check_same(const nninit_st_file *a, const nninit_st_file *b) {
    FUZZ_CHECK(nninit_st_count(a) == nninit_st_count(b), "round trip: %zu tensors, then %zu", nninit_st_count(a),
               nninit_st_count(b));
    FUZZ_CHECK(nninit_st_meta_count(a) == nninit_st_meta_count(b), "round trip: metadata count");
    for (size_t i = 0; i < nninit_st_count(a); i++) {
        const nninit_st_tensor *x = nninit_st_tensor_at(a, i), *y = nninit_st_tensor_at(b, i);
        FUZZ_CHECK(!strcmp(x->name, y->name) && x->dtype == y->dtype && x->ndim == y->ndim && x->begin == y->begin &&
                       x->end == y->end,
                   "round trip: tensor %zu ('%s')", i, x->name);
        for (int k = 0; k < x->ndim; k++) FUZZ_CHECK(x->shape[k] == y->shape[k], "round trip: '%s' shape", x->name);
    }
    for (size_t i = 0; i < nninit_st_meta_count(a); i++) {
        const nninit_st_meta *x = nninit_st_meta_at(a, i), *y = nninit_st_meta_at(b, i);
        FUZZ_CHECK(!strcmp(x->key, y->key) && !strcmp(x->value, y->value), "round trip: metadata %zu", i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nninit_st_file *const sentinel = (nninit_st_file *)(uintptr_t)0x5a5a;
    nninit_st_file *f = sentinel;
    nninit_status st = nninit_st_parse(data, size, size, &f);
    if (st != NNINIT_OK) {
        FUZZ_CHECK(st == NNINIT_ERR_FORMAT || st == NNINIT_ERR_NOMEM, "parse failed with %s", nninit_status_str(st));
        FUZZ_CHECK(f == sentinel, "a failed parse changed *f");
        return 0;
    }
    uint64_t start = nninit_st_data_start(f), at = 0;
    FUZZ_CHECK(start >= 8 && start <= size, "data start %llu", (unsigned long long)start);
    size_t n = nninit_st_count(f), nmeta = nninit_st_meta_count(f);
    for (size_t i = 0; i < n; i++) {
        const nninit_st_tensor *t = nninit_st_tensor_at(f, i);
        FUZZ_CHECK(t && t->name[0] && strlen(t->name) <= NNINIT_ST_MAX_NAME, "tensor %zu's name", i);
        FUZZ_CHECK(t->begin == at && t->end >= t->begin, "'%s' is not contiguous", t->name);
        FUZZ_CHECK(t->ndim >= 0 && t->ndim <= NNINIT_MAX_DIMS, "'%s' ndim %d", t->name, t->ndim);
        size_t es = nninit_st_dtype_size(t->dtype);
        FUZZ_CHECK(es > 0, "'%s' dtype %d", t->name, (int)t->dtype);
        double bytes = (double)es;
        for (int k = 0; k < t->ndim; k++) {
            FUZZ_CHECK(t->shape[k] >= 0, "'%s' shape[%d] < 0", t->name, k);
            bytes *= (double)t->shape[k];
        }
        FUZZ_CHECK(bytes == (double)(t->end - t->begin), "'%s': shape and span differ", t->name);
        FUZZ_CHECK(nninit_st_find(f, t->name) == t, "find('%s')", t->name);
        at = t->end;
    }
    FUZZ_CHECK(start + at == size, "the data ends at %llu, the file at %zu", (unsigned long long)(start + at), size);
    FUZZ_CHECK(nninit_st_tensor_at(f, n) == NULL, "tensor_at(count)");
    for (size_t i = 0; i < nmeta; i++) {
        const nninit_st_meta *m = nninit_st_meta_at(f, i);
        FUZZ_CHECK(m && m->key && m->value, "metadata %zu", i);
        FUZZ_CHECK(nninit_st_meta_get(f, m->key) == m->value, "metadata key '%s' twice", m->key);
    }

    /* what was read, written again by nninit_st_header, reads the same */
    nninit_st_tensor *ts = malloc((n ? n : 1) * sizeof *ts);
    nninit_st_meta *ms = malloc((nmeta ? nmeta : 1) * sizeof *ms);
    if (!ts || !ms) abort();
    for (size_t i = 0; i < n; i++) ts[i] = *nninit_st_tensor_at(f, i);
    for (size_t i = 0; i < nmeta; i++) ms[i] = *nninit_st_meta_at(f, i);
    unsigned char *h = NULL;
    size_t hlen = 0;
    uint64_t total = 0;
    st = nninit_st_header(ts, n, ms, nmeta, &h, &hlen, NULL, &total);
    FUZZ_CHECK(st == NNINIT_OK, "st_header of a parsed file: %s", nninit_status_str(st));
    FUZZ_CHECK(total == at && hlen % 8 == 0, "st_header: %llu data bytes, header %zu", (unsigned long long)total, hlen);
    nninit_st_file *g = NULL;
    st = nninit_st_parse(h, hlen, hlen + total, &g);
    FUZZ_CHECK(st == NNINIT_OK, "parse of st_header's bytes: %s", nninit_status_str(st));
    check_same(f, g);
    nninit_st_close(g);
    free(h);
    free(ts);
    free(ms);
    nninit_st_close(f);
    return 0;
}

/* fuzz_model_spec.c -- spec files (docs/CHECKPOINT.md "Spec files"):
 * nninit_model_from_json() on the input, then nninit_model_resolve()
 * (src/model/model.c).
 *
 * A refused text leaves the caller's pointer alone, with one of the errors
 * include/nninit_model.h names (and OVERFLOW, for a shape of 2^63 bytes or
 * more, which add_tensor's comment does not name). Resolve may refuse anything, but twice the
 * same way. A resolved model keeps its promises: every tensor is matched by
 * its rule and by no rule before it (fnmatch(3) without flags), every rule
 * matches a tensor and the uses add up, names are unique, padding_idx is a
 * row of dim 0; nninit_model_explain accepts every tensor; and a small
 * tensor (up to 4096 elements, 64 Ki per input) fills, twice the same, with
 * finite values and the padding row zero.
 */
#include "fuzz_common.h" /* first: it sets _POSIX_C_SOURCE */

#include <fnmatch.h>
#include <math.h>

#include "nninit_checkpoint.h"
#include "nninit_model.h"

#define MAX_FILL_ONE 4096
#define MAX_FILL_ALL 65536

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Element k of a fill of dtype d is finite (integers always are). */
static int finite_at(nninit_st_dtype d, const unsigned char *p, int64_t k) {
    switch (d) {
    case NNINIT_ST_F32: {
        float v;
        memcpy(&v, p + 4 * k, 4);
        return isfinite(v);
    }
    case NNINIT_ST_F64: {
        double v;
        memcpy(&v, p + 8 * k, 8);
        return isfinite(v);
    }
    case NNINIT_ST_BF16: return (((p[2 * k + 1] << 8) | p[2 * k]) & 0x7f80) != 0x7f80;
    case NNINIT_ST_F16: return (((p[2 * k + 1] << 8) | p[2 * k]) & 0x7c00) != 0x7c00;
    default: return 1;
    }
}

static void check_resolved(nninit_model *m) {
    size_t n = nninit_model_count(m), nr = nninit_model_rule_count(m);
    FUZZ_CHECK(n > 0 && nr > 0, "%zu tensors, %zu rules", n, nr);
    const char **names = malloc(n * sizeof *names);
    if (!names) abort();
    long uses = 0;
    for (size_t r = 0; r < nr; r++) {
        const nninit_model_rule *R = nninit_model_rule_at(m, r);
        FUZZ_CHECK(R && R->match && R->init && R->uses >= 1, "rule %zu is unused or incomplete", r);
        uses += R->uses;
    }
    FUZZ_CHECK(uses == (long)n, "the rules' uses add up to %ld, for %zu tensors", uses, n);
    int64_t filled = 0;
    for (size_t i = 0; i < n; i++) {
        const nninit_model_tensor *t = nninit_model_tensor_at(m, i);
        FUZZ_CHECK(t && t->name && t->name[0], "tensor %zu has no name", i);
        names[i] = t->name;
        FUZZ_CHECK(t->rule >= 0 && (size_t)t->rule < nr, "'%s': rule %d", t->name, t->rule);
        for (int r = 0; r < t->rule; r++)
            FUZZ_CHECK(fnmatch(nninit_model_rule_at(m, (size_t)r)->match, t->name, 0) != 0,
                       "'%s' matches rule %d before its rule %d", t->name, r, t->rule);
        FUZZ_CHECK(fnmatch(nninit_model_rule_at(m, (size_t)t->rule)->match, t->name, 0) == 0,
                   "'%s' does not match its rule %d ('%s')", t->name, t->rule,
                   nninit_model_rule_at(m, (size_t)t->rule)->match);
        FUZZ_CHECK(t->tensor.ndim >= 0 && t->tensor.ndim <= NNINIT_MAX_DIMS, "'%s': ndim %d", t->name, t->tensor.ndim);
        FUZZ_CHECK(t->padding_idx == -1 ||
                       (t->tensor.ndim > 0 && t->padding_idx >= 0 && t->padding_idx < t->tensor.shape[0]),
                   "'%s': padding_idx %lld", t->name, (long long)t->padding_idx);
        nninit_info info;
        nninit_status st = nninit_model_explain(m, i, &info);
        FUZZ_CHECK(st == NNINIT_OK, "explain of resolved '%s': %s", t->name, nninit_last_error());

        int64_t numel = nninit_model_tensor_numel(t);
        uint64_t bytes = nninit_model_tensor_bytes(t);
        FUZZ_CHECK(numel >= 1 && bytes >= (uint64_t)numel, "'%s': %lld elements, %llu bytes", t->name, (long long)numel,
                   (unsigned long long)bytes);
        if (numel > MAX_FILL_ONE || filled + numel > MAX_FILL_ALL) continue;
        filled += numel;
        unsigned char *a = malloc((size_t)bytes), *b = malloc((size_t)bytes);
        if (!a || !b) abort();
        st = nninit_model_fill(m, i, 7, 0, numel, a, 1);
        FUZZ_CHECK(st == NNINIT_OK, "fill of resolved '%s' (%s): %s", t->name, t->init, nninit_last_error());
        FUZZ_CHECK(nninit_model_fill(m, i, 7, 0, numel, b, 1) == NNINIT_OK && !memcmp(a, b, (size_t)bytes),
                   "'%s': two fills differ", t->name);
        for (int64_t k = 0; k < numel; k++)
            FUZZ_CHECK(finite_at(t->dtype, a, k), "'%s' (%s): element %lld is not finite", t->name, t->init,
                       (long long)k);
        if (t->padding_idx >= 0) {
            size_t row = (size_t)(bytes / (uint64_t)t->tensor.shape[0]);
            for (size_t k = 0; k < row; k++)
                FUZZ_CHECK(a[(size_t)t->padding_idx * row + k] == 0, "'%s': the padding row is not zero", t->name);
        }
        free(a);
        free(b);
    }
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 1; i < n; i++) FUZZ_CHECK(strcmp(names[i - 1], names[i]), "'%s' twice", names[i]);
    free(names);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nninit_model *const sentinel = (nninit_model *)(uintptr_t)0x5a5a;
    nninit_model *m = sentinel;
    nninit_status st = nninit_model_from_json((const char *)data, size, &m);
    if (st != NNINIT_OK) {
        /* OVERFLOW: a shape whose bytes pass 2^63 (add_tensor's byte count) */
        FUZZ_CHECK(st == NNINIT_ERR_FORMAT || st == NNINIT_ERR_PARAM || st == NNINIT_ERR_SHAPE ||
                       st == NNINIT_ERR_DTYPE || st == NNINIT_ERR_LAYOUT || st == NNINIT_ERR_NOMEM ||
                       st == NNINIT_ERR_OVERFLOW,
                   "from_json failed with %s: %s", nninit_status_str(st), nninit_last_error());
        FUZZ_CHECK(m == sentinel, "a failed from_json changed *m");
        return 0;
    }
    FUZZ_CHECK(m != sentinel && m != NULL, "from_json gave no model");
    st = nninit_model_resolve(m);
    nninit_status again = nninit_model_resolve(m);
    FUZZ_CHECK(again == st, "resolve gave %s, then %s", nninit_status_str(st), nninit_status_str(again));
    if (st == NNINIT_OK) check_resolved(m);
    nninit_model_free(m);
    return 0;
}

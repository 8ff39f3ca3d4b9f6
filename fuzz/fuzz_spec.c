/* fuzz_spec.c -- nninit_spec_parse() on the input as text. What parses must
 * keep the promises of include/nninit.h:
 *   - a failed parse leaves *out untouched;
 *   - nninit_spec_format() of a parsed spec, parsed again and formatted
 *     again, gives the same text (format's round trip);
 *   - on a small tensor (4x3, or 4x2x3x3 for the conv-only schemes) in a
 *     dtype picked from the input, nninit_explain() and nninit_fill() agree
 *     on the status, every value filled is finite and inside the support
 *     explain reports, and nninit_fill_range() of a slice equals the same
 *     slice of the whole fill, bit for bit.
 */
#include "fuzz_common.h" /* first: it sets _POSIX_C_SOURCE */

#include <math.h>

static uint64_t fnv1a(const uint8_t *d, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ d[i]) * 1099511628211ull;
    return h;
}

static double value_at(nninit_dtype d, const void *buf, int64_t i) {
    switch (d) {
    case NNINIT_F32: return ((const float *)buf)[i];
    case NNINIT_F64: return ((const double *)buf)[i];
    case NNINIT_BF16: return nninit_bf16_to_f32(((const uint16_t *)buf)[i]);
    case NNINIT_F16: return nninit_f16_to_f32(((const uint16_t *)buf)[i]);
    }
    abort();
}

static void check_fill(const nninit_spec *spec, const nninit_tensor *t, uint64_t h) {
    int64_t numel = 1;
    for (int i = 0; i < t->ndim; i++) numel *= t->shape[i];
    size_t es = nninit_dtype_size(t->dtype);
    static unsigned char whole[72 * 8], part[72 * 8];
    nninit_info info;
    nninit_status se = nninit_explain(spec, t, &info);
    nninit_key key = nninit_key_make(h, 7);
    nninit_status sf = nninit_fill(spec, t, key, whole);
    FUZZ_CHECK(se == sf, "explain says %s, fill says %s", nninit_status_str(se), nninit_status_str(sf));
    if (sf != NNINIT_OK) return;
    /* Rounding to the dtype may step just past a bound given in double. */
    double span = fmax(fabs(info.lo), fabs(info.hi));
    double tol = ldexp(span, -7) + (t->dtype == NNINIT_F16 ? 0x1p-24 : 0x1p-126);
    for (int64_t i = 0; i < numel; i++) {
        double v = value_at(t->dtype, whole, i);
        FUZZ_CHECK(isfinite(v), "value %lld is %g", (long long)i, v);
        if (!isnan(info.lo)) FUZZ_CHECK(v >= info.lo - tol, "value %lld = %g below lo %g", (long long)i, v, info.lo);
        if (!isnan(info.hi)) FUZZ_CHECK(v <= info.hi + tol, "value %lld = %g above hi %g", (long long)i, v, info.hi);
    }
    if (!nninit_scheme_is_elementwise(spec->scheme)) return;
    int64_t begin = (int64_t)(h % (uint64_t)numel), end = begin + (int64_t)((h >> 20) % (uint64_t)(numel - begin)) + 1;
    nninit_status sr = nninit_fill_range(spec, t, key, begin, end, part);
    FUZZ_CHECK(sr == NNINIT_OK, "fill_range [%lld, %lld): %s", (long long)begin, (long long)end, nninit_status_str(sr));
    FUZZ_CHECK(memcmp(part, whole + (size_t)begin * es, (size_t)(end - begin) * es) == 0,
               "fill_range [%lld, %lld) differs from fill", (long long)begin, (long long)end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_cstr(data, size);
    uint64_t h = fnv1a(data, size);
    nninit_spec spec, untouched;
    memset(&spec, 0x5a, sizeof spec);
    memcpy(&untouched, &spec, sizeof spec);
    nninit_status st = nninit_spec_parse(text, &spec);
    if (st != NNINIT_OK) {
        FUZZ_CHECK(st == NNINIT_ERR_PARAM, "spec_parse failed with %s", nninit_status_str(st));
        FUZZ_CHECK(memcmp(&spec, &untouched, sizeof spec) == 0, "a failed parse changed *out");
        free(text);
        return 0;
    }

    char t1[NNINIT_SPEC_TEXT_MAX], t2[NNINIT_SPEC_TEXT_MAX];
    if (nninit_spec_format(&spec, t1, sizeof t1) == NNINIT_OK) {
        nninit_spec again;
        FUZZ_CHECK(nninit_spec_parse(t1, &again) == NNINIT_OK, "format wrote '%s', which does not parse", t1);
        FUZZ_CHECK(nninit_spec_format(&again, t2, sizeof t2) == NNINIT_OK, "'%s' parsed does not format", t1);
        FUZZ_CHECK(strcmp(t1, t2) == 0, "round trip: '%s' -> '%s'", t1, t2);
    }

    static const int64_t s2[2] = {4, 3}, s4[4] = {4, 2, 3, 3};
    nninit_dtype d = (nninit_dtype)(h >> 60 & 3);
    nninit_tensor t = nninit_tensor_make(2, s2, d);
    check_fill(&spec, &t, h);
    t = nninit_tensor_make(4, s4, d);
    check_fill(&spec, &t, h);
    free(text);
    return 0;
}

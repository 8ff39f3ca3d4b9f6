/* test_delta_orthogonal.c -- DELTA_ORTHOGONAL (JAX's delta_orthogonal, Xiao
 * et al. 2018): a 3-5-D conv kernel, zero but for gain * Q at the centre tap
 * (k-1)//2 of every spatial dim, Q the (out, in) matrix ORTHOGONAL fills on a
 * 2-D (out, in) tensor with the same key, in every layout and dtype.
 *
 * Orthogonality bound: as tests/test_orthogonal.c, ||M^T M / g^2 - I||_F <
 * 4 u n / sqrt(m) + 1e-14 n for the m x n centre matrix stored in a dtype of
 * unit roundoff u. The centre is also compared with ORTHOGONAL's bytes, so
 * this bound only guards the test's own reading of the layout.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nninit.h"

static const nninit_dtype DTYPES[4] = {NNINIT_F32, NNINIT_F64, NNINIT_BF16, NNINIT_F16};

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    assert_non_null(p);
    return p;
}

static double unit_roundoff(nninit_dtype d) {
    switch (d) {
    case NNINIT_F64: return ldexp(1.0, -53);
    case NNINIT_F32: return ldexp(1.0, -24);
    case NNINIT_F16: return ldexp(1.0, -11);
    case NNINIT_BF16: return ldexp(1.0, -8);
    }
    return 1.0;
}

static double load(nninit_dtype d, const void *p, int64_t i) {
    switch (d) {
    case NNINIT_F64: return ((const double *)p)[i];
    case NNINIT_F32: return ((const float *)p)[i];
    case NNINIT_BF16: return nninit_bf16_to_f32(((const uint16_t *)p)[i]);
    case NNINIT_F16: return nninit_f16_to_f32(((const uint16_t *)p)[i]);
    }
    return NAN;
}

/* A tensor of shape s[0..n) in a layout; custom takes in/out axes. */
static nninit_tensor make(int n, const int64_t *s, nninit_dtype d, nninit_layout l, int in_ax, int out_ax) {
    nninit_tensor t = nninit_tensor_make(n, s, d);
    t.layout = l;
    t.in_axis = in_ax;
    t.out_axis = out_ax;
    return t;
}

/* The channel axes the test expects of a layout (its own reading of FANS.md). */
static void axes_of(const nninit_tensor *t, int *out_ax, int *in_ax) {
    switch (t->layout) {
    case NNINIT_LAYOUT_OIHW: *out_ax = 0, *in_ax = 1; return;
    case NNINIT_LAYOUT_HWIO: *out_ax = t->ndim - 1, *in_ax = t->ndim - 2; return;
    case NNINIT_LAYOUT_IOHW: *out_ax = 1, *in_ax = 0; return;
    default: *out_ax = t->out_axis, *in_ax = t->in_axis; return;
    }
}

static void *fill_ok(const nninit_spec *s, const nninit_tensor *t, nninit_key k, int64_t *numel) {
    assert_int_equal(nninit_tensor_numel(t, numel), NNINIT_OK);
    void *buf = xmalloc((size_t)*numel * nninit_dtype_size(t->dtype));
    memset(buf, 0xa5, (size_t)*numel * nninit_dtype_size(t->dtype)); /* no stale zeros */
    nninit_status st = nninit_fill(s, t, k, buf);
    if (st != NNINIT_OK) fail_msg("fill: %s (%s)", nninit_status_str(st), nninit_last_error());
    return buf;
}

static nninit_spec delta(double gain) {
    nninit_spec s = nninit_spec_default(NNINIT_DELTA_ORTHOGONAL);
    s.gain = gain;
    return s;
}

/* Fill t with delta_orthogonal(gain) and check it all: zero bytes off the
 * centre tap (k-1)//2, the centre's (o, i) element byte-equal to ORTHOGONAL's
 * (out, in) fill with the same key, and M^T M = gain^2 I. */
static void check_kernel(const nninit_tensor *t, double gain, nninit_key key, const char *label) {
    const nninit_spec s = delta(gain);
    int64_t numel, mn;
    void *w = fill_ok(&s, t, key, &numel);
    int out_ax, in_ax;
    axes_of(t, &out_ax, &in_ax);
    const int64_t out = t->shape[out_ax], in = t->shape[in_ax];
    const size_t size = nninit_dtype_size(t->dtype);

    nninit_spec os = nninit_spec_default(NNINIT_ORTHOGONAL);
    os.gain = gain;
    const nninit_tensor mt = nninit_tensor_2d(out, in, t->dtype);
    void *ref = fill_ok(&os, &mt, key, &mn);
    static const unsigned char zero[8] = {0};

    double *m = xmalloc((size_t)mn * sizeof(double));
    int64_t centre_seen = 0;
    for (int64_t f = 0; f < numel; f++) {
        int64_t rem = f, c[NNINIT_MAX_DIMS];
        for (int d = t->ndim - 1; d >= 0; d--) c[d] = rem % t->shape[d], rem /= t->shape[d];
        int centre = 1;
        for (int d = 0; d < t->ndim; d++)
            if (d != out_ax && d != in_ax && c[d] != (t->shape[d] - 1) / 2) centre = 0;
        const unsigned char *got = (const unsigned char *)w + (size_t)f * size;
        if (!centre) {
            if (memcmp(got, zero, size)) fail_msg("%s: element %lld off the centre tap is not +0", label, (long long)f);
            continue;
        }
        const int64_t r = c[out_ax] * in + c[in_ax];
        if (memcmp(got, (const unsigned char *)ref + (size_t)r * size, size))
            fail_msg("%s: centre (o %lld, i %lld) differs from orthogonal's (out, in) fill", label,
                     (long long)c[out_ax], (long long)c[in_ax]);
        m[r] = load(t->dtype, w, f);
        centre_seen++;
    }
    assert_int_equal(centre_seen, out * in);

    /* ||M^T M / g^2 - I||_F over the in columns of the out x in matrix M. */
    double sum = 0;
    for (int64_t a = 0; a < in; a++)
        for (int64_t b = 0; b < in; b++) {
            double g = 0;
            for (int64_t o = 0; o < out; o++) g += m[o * in + a] * m[o * in + b];
            const double e = g / (gain * gain) - (a == b);
            sum += e * e;
        }
    const double err = sqrt(sum), bound = 4.0 * unit_roundoff(t->dtype) * in / sqrt((double)out) + 1e-14 * in;
    if (!(err < bound)) fail_msg("%s: ||M^T M/g^2 - I||_F = %.3e >= %.3e", label, err, bound);
    free(m);
    free(ref);
    free(w);
}

/* ------------------------------------------------------------------------- */

/* Every layout x dtype, on 3-, 4- and 5-D kernels (odd kernels, in < out). */
static void test_layouts_dtypes(void **state) {
    (void)state;
    /* out 8, in 5; spatial 3, 5, 3 (OIHW order): each layout holds the same
     * layer, channels where the layout puts them. */
    static const int64_t sp[3] = {3, 5, 3};
    const nninit_key key = nninit_key_from_name(11, "conv.weight");
    for (int nd = 3; nd <= 5; nd++) {
        const int ns = nd - 2;
        for (int l = 0; l < 4; l++)
            for (int di = 0; di < 4; di++) {
                int64_t s[5];
                nninit_tensor t;
                if (l == 0) { /* oihw */
                    s[0] = 8, s[1] = 5;
                    for (int k = 0; k < ns; k++) s[2 + k] = sp[k];
                    t = make(nd, s, DTYPES[di], NNINIT_LAYOUT_OIHW, 0, 0);
                } else if (l == 1) { /* hwio */
                    for (int k = 0; k < ns; k++) s[k] = sp[k];
                    s[ns] = 5, s[ns + 1] = 8;
                    t = make(nd, s, DTYPES[di], NNINIT_LAYOUT_HWIO, 0, 0);
                } else if (l == 2) { /* iohw */
                    s[0] = 5, s[1] = 8;
                    for (int k = 0; k < ns; k++) s[2 + k] = sp[k];
                    t = make(nd, s, DTYPES[di], NNINIT_LAYOUT_IOHW, 0, 0);
                } else { /* custom: (k0, out, k1.., in), channels apart */
                    s[0] = sp[0], s[1] = 8;
                    for (int k = 1; k < ns; k++) s[1 + k] = sp[k];
                    s[nd - 1] = 5;
                    t = make(nd, s, DTYPES[di], NNINIT_LAYOUT_CUSTOM, nd - 1, 1);
                }
                char label[64];
                snprintf(label, sizeof label, "%d-D %s %s", nd, nninit_layout_name(t.layout),
                         nninit_dtype_name(DTYPES[di]));
                check_kernel(&t, 1.5, key, label);
                check_kernel(&t, -0.75, key, label); /* any finite gain, as orthogonal */
            }
    }
}

/* Square (in == out) and 1-wide kernels: the centre is then everything. */
static void test_square_and_pointwise(void **state) {
    (void)state;
    const int64_t sq[4] = {6, 6, 3, 3}, pw[3] = {7, 4, 1};
    for (int di = 0; di < 4; di++) {
        nninit_tensor a = make(4, sq, DTYPES[di], NNINIT_LAYOUT_OIHW, 0, 0);
        nninit_tensor b = make(3, pw, DTYPES[di], NNINIT_LAYOUT_OIHW, 0, 0);
        check_kernel(&a, 1.0, nninit_key_make(3, 4), "square");
        check_kernel(&b, 2.0, nninit_key_make(3, 5), "pointwise");
    }
}

/* Even kernels: JAX's index (k-1)//2, the lower middle (PyTorch's dirac_
 * takes k//2). Found by scanning for the non-zeros, not by the helper's own
 * formula. */
static void test_even_kernels(void **state) {
    (void)state;
    static const struct {
        int nd;
        int64_t s[5];
        nninit_layout l;
        int64_t want[3]; /* centre per spatial dim, in the tensor's order */
    } cases[] = {
        {3, {6, 4, 2}, NNINIT_LAYOUT_OIHW, {0}},
        {4, {6, 4, 2, 4}, NNINIT_LAYOUT_OIHW, {0, 1}},
        {4, {6, 4, 4, 6}, NNINIT_LAYOUT_OIHW, {1, 2}},
        {4, {2, 4, 4, 6}, NNINIT_LAYOUT_HWIO, {0, 1}},
        {5, {2, 3, 4, 4, 6}, NNINIT_LAYOUT_HWIO, {0, 1, 1}},
        {5, {6, 4, 8, 2, 5}, NNINIT_LAYOUT_OIHW, {3, 0, 2}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nninit_tensor t = make(cases[c].nd, cases[c].s, NNINIT_F64, cases[c].l, 0, 0);
        int64_t numel;
        nninit_spec s = delta(1.0);
        double *w = fill_ok(&s, &t, nninit_key_make(1, c), &numel);
        int out_ax, in_ax;
        axes_of(&t, &out_ax, &in_ax);
        int64_t nonzero = 0;
        double ss = 0;
        for (int64_t f = 0; f < numel; f++) {
            if (w[f] == 0) continue;
            int64_t rem = f, co[5];
            for (int d = t.ndim - 1; d >= 0; d--) co[d] = rem % t.shape[d], rem /= t.shape[d];
            for (int d = 0, k = 0; d < t.ndim; d++)
                if (d != out_ax && d != in_ax) {
                    if (co[d] != cases[c].want[k])
                        fail_msg("case %zu: non-zero at index %lld of dim %d, want %lld", c, (long long)co[d], d,
                                 (long long)cases[c].want[k]);
                    k++;
                }
            nonzero++;
            ss += w[f] * w[f];
        }
        assert_int_equal(nonzero, t.shape[out_ax] * t.shape[in_ax]);
        assert_true(fabs(ss - (double)t.shape[in_ax]) < 1e-12); /* in unit columns */
        free(w);
        check_kernel(&t, 1.0, nninit_key_make(1, c), "even");
    }
}

/* A pure function of (seed, key): repeatable, other keys and seeds differ,
 * threads and the whole-tensor range and box change nothing. groups are
 * ignored (as orthogonal's). */
static void test_keys_and_whole_fills(void **state) {
    (void)state;
    const int64_t s[4] = {16, 8, 3, 3};
    const nninit_spec sp = delta(1.0);
    for (int di = 0; di < 4; di++) {
        nninit_tensor t = make(4, s, DTYPES[di], NNINIT_LAYOUT_OIHW, 0, 0);
        int64_t n;
        const size_t bytes = 16 * 8 * 9 * nninit_dtype_size(DTYPES[di]);
        void *a = fill_ok(&sp, &t, nninit_key_from_name(5, "w"), &n);
        void *b = fill_ok(&sp, &t, nninit_key_from_name(5, "w"), &n);
        void *c = fill_ok(&sp, &t, nninit_key_from_name(5, "v"), &n);
        void *d = fill_ok(&sp, &t, nninit_key_from_name(6, "w"), &n);
        assert_memory_equal(a, b, bytes);
        assert_memory_not_equal(a, c, bytes);
        assert_memory_not_equal(a, d, bytes);

        memset(b, 0x5a, bytes);
        assert_int_equal(nninit_fill_threads(&sp, &t, nninit_key_from_name(5, "w"), b, 0), NNINIT_OK);
        assert_memory_equal(a, b, bytes);
        memset(b, 0x5a, bytes);
        assert_int_equal(nninit_fill_range(&sp, &t, nninit_key_from_name(5, "w"), 0, n, b), NNINIT_OK);
        assert_memory_equal(a, b, bytes);
        const int64_t lo[4] = {0, 0, 0, 0}, hi[4] = {16, 8, 3, 3};
        memset(b, 0x5a, bytes);
        assert_int_equal(nninit_fill_box(&sp, &t, nninit_key_from_name(5, "w"), lo, hi, b), NNINIT_OK);
        assert_memory_equal(a, b, bytes);
        nninit_tensor g = t;
        g.groups = 2;
        memset(b, 0x5a, bytes);
        assert_int_equal(nninit_fill(&sp, &g, nninit_key_from_name(5, "w"), b), NNINIT_OK);
        assert_memory_equal(a, b, bytes);

        /* Like orthogonal: a part of the tensor is refused, output untouched. */
        memset(b, 0x5a, bytes);
        memcpy(c, b, bytes);
        assert_int_equal(nninit_fill_range(&sp, &t, nninit_key_from_name(5, "w"), 0, n - 1, b),
                         NNINIT_ERR_NOT_ELEMENTWISE);
        assert_int_equal(nninit_fill_range(&sp, &t, nninit_key_from_name(5, "w"), 9, n, b), NNINIT_ERR_NOT_ELEMENTWISE);
        const int64_t half[4] = {8, 8, 3, 3};
        assert_int_equal(nninit_fill_box(&sp, &t, nninit_key_from_name(5, "w"), lo, half, b),
                         NNINIT_ERR_NOT_ELEMENTWISE);
        assert_non_null(strstr(nninit_last_error(), "delta_orthogonal: fills whole tensors only"));
        assert_memory_equal(b, c, bytes);
        free(a), free(b), free(c), free(d);
    }
    assert_int_equal(nninit_scheme_is_elementwise(NNINIT_DELTA_ORTHOGONAL), 0);
    assert_int_equal(nninit_scheme_uses_fans(NNINIT_DELTA_ORTHOGONAL), 0);
}

/* Every refusal: its status and message, and the output untouched. */
static void expect_fail(const nninit_spec *sp, const nninit_tensor *t, nninit_status want, const char *msg) {
    double buf[64];
    unsigned char before[sizeof buf];
    memset(buf, 0x77, sizeof buf);
    memcpy(before, buf, sizeof buf);
    nninit_info info;
    assert_int_equal(nninit_explain(sp, t, &info), want);
    if (!strstr(nninit_last_error(), msg)) fail_msg("message '%s' lacks '%s'", nninit_last_error(), msg);
    int64_t n = 0;
    if (nninit_tensor_numel(t, &n) == NNINIT_OK && (size_t)n * nninit_dtype_size(t->dtype) <= sizeof buf) {
        assert_int_equal(nninit_fill(sp, t, nninit_key_make(0, 0), buf), want);
        if (!strstr(nninit_last_error(), msg)) fail_msg("message '%s' lacks '%s'", nninit_last_error(), msg);
        assert_memory_equal(buf, before, sizeof buf);
    }
}

static void test_errors(void **state) {
    (void)state;
    const nninit_spec sp = delta(1.0);
    const int64_t two[2] = {4, 4}, six[6] = {2, 2, 1, 1, 1, 1}, one[1] = {4};
    nninit_tensor t = make(2, two, NNINIT_F32, NNINIT_LAYOUT_OIHW, 0, 0);
    expect_fail(&sp, &t, NNINIT_ERR_DIMS, "only 3, 4 and 5-dimensional tensors are supported (ndim 2)");
    t = make(6, six, NNINIT_F32, NNINIT_LAYOUT_OIHW, 0, 0);
    expect_fail(&sp, &t, NNINIT_ERR_DIMS, "(ndim 6)");
    t = make(1, one, NNINIT_F32, NNINIT_LAYOUT_OIHW, 0, 0);
    expect_fail(&sp, &t, NNINIT_ERR_DIMS, "(ndim 1)");

    /* in > out in every layout, by that layout's axes */
    const int64_t oihw[4] = {3, 4, 1, 1}, hwio[4] = {1, 1, 4, 3}, iohw[4] = {4, 3, 1, 1};
    t = make(4, oihw, NNINIT_F32, NNINIT_LAYOUT_OIHW, 0, 0);
    expect_fail(&sp, &t, NNINIT_ERR_SHAPE,
                "delta_orthogonal: in-channels (4, dim 1) must be <= out-channels (3, dim 0)");
    t = make(4, hwio, NNINIT_F32, NNINIT_LAYOUT_HWIO, 0, 0);
    expect_fail(&sp, &t, NNINIT_ERR_SHAPE, "in-channels (4, dim 2) must be <= out-channels (3, dim 3)");
    t = make(4, iohw, NNINIT_F32, NNINIT_LAYOUT_IOHW, 0, 0);
    expect_fail(&sp, &t, NNINIT_ERR_SHAPE, "in-channels (4, dim 0) must be <= out-channels (3, dim 1)");
    t = make(4, hwio, NNINIT_F32, NNINIT_LAYOUT_CUSTOM, 2, 3);
    expect_fail(&sp, &t, NNINIT_ERR_SHAPE, "in-channels (4, dim 2)");
    /* the same shapes are fine the other way round */
    nninit_info info;
    t = make(4, oihw, NNINIT_F32, NNINIT_LAYOUT_IOHW, 0, 0);
    assert_int_equal(nninit_explain(&sp, &t, &info), NNINIT_OK);
    t = make(4, iohw, NNINIT_F32, NNINIT_LAYOUT_OIHW, 0, 0);
    assert_int_equal(nninit_explain(&sp, &t, &info), NNINIT_OK);

    /* layouts without two channel axes */
    const int64_t k3[3] = {4, 4, 3};
    t = make(3, k3, NNINIT_F32, NNINIT_LAYOUT_EMBEDDING, 0, 0);
    expect_fail(&sp, &t, NNINIT_ERR_LAYOUT, "embedding layout has no spatial dims");
    t = make(3, k3, NNINIT_F32, NNINIT_LAYOUT_CUSTOM, 1, 1);
    expect_fail(&sp, &t, NNINIT_ERR_LAYOUT, "custom axes in=1 out=1 invalid for 3 dims");
    t = make(3, k3, NNINIT_F32, NNINIT_LAYOUT_CUSTOM, 0, 3);
    expect_fail(&sp, &t, NNINIT_ERR_LAYOUT, "custom axes in=0 out=3");

    /* gain */
    t = make(3, k3, NNINIT_F32, NNINIT_LAYOUT_OIHW, 0, 0);
    nninit_spec bad = delta(NAN);
    expect_fail(&bad, &t, NNINIT_ERR_PARAM, "delta_orthogonal: gain nan must be finite");
    bad = delta(INFINITY);
    expect_fail(&bad, &t, NNINIT_ERR_PARAM, "must be finite");
    bad = delta(1e6);
    t.dtype = NNINIT_F16;
    expect_fail(&bad, &t, NNINIT_ERR_NOT_REPRESENTABLE, "overflow f16");
}

/* explain: structured, scaled by gain and not by the fans; the variance it
 * states is the mean square of the values filled. */
static void test_explain(void **state) {
    (void)state;
    const int64_t s[4] = {64, 32, 3, 3}, h[4] = {3, 3, 32, 64};
    const nninit_spec sp = delta(2.0);
    nninit_tensor a = make(4, s, NNINIT_F64, NNINIT_LAYOUT_OIHW, 0, 0),
                  b = make(4, h, NNINIT_F64, NNINIT_LAYOUT_HWIO, 0, 0);
    nninit_info ia, ib;
    assert_int_equal(nninit_explain(&sp, &a, &ia), NNINIT_OK);
    assert_int_equal(nninit_explain(&sp, &b, &ib), NNINIT_OK);
    assert_int_equal(ia.kind, NNINIT_RESOLVED_STRUCTURED);
    assert_true(ia.has_fans && ia.fan_in == 288 && ia.fan_out == 576);
    assert_true(isnan(ia.fan) && isnan(ia.std) && isnan(ia.bound));
    assert_true(ia.gain == 2.0 && ia.mean == 0.0 && ia.lo == -2.0 && ia.hi == 2.0);
    assert_true(fabs(ia.variance - 4.0 * 32 / (64.0 * 32 * 9)) < 1e-18);
    assert_true(ia.variance == ib.variance); /* the same layer in either layout */
    int64_t n;
    double *w = fill_ok(&sp, &a, nninit_key_make(9, 9), &n);
    double ss = 0;
    for (int64_t i = 0; i < n; i++) ss += w[i] * w[i];
    assert_true(fabs(ss / (double)n - ia.variance) < 1e-15);
    free(w);
}

/* The name, the spec text (gain, as orthogonal's) and the table. */
static void test_names_and_text(void **state) {
    (void)state;
    nninit_scheme sc;
    assert_string_equal(nninit_scheme_name(NNINIT_DELTA_ORTHOGONAL), "delta_orthogonal");
    assert_int_equal(nninit_scheme_parse("delta_orthogonal", &sc), NNINIT_OK);
    assert_int_equal(sc, NNINIT_DELTA_ORTHOGONAL);
    assert_non_null(strstr(nninit_scheme_formula(NNINIT_DELTA_ORTHOGONAL), "(k-1)//2"));
    assert_int_equal(nninit_scheme_takes_param(NNINIT_DELTA_ORTHOGONAL, "gain"), 1);
    assert_int_equal(nninit_scheme_takes_param(NNINIT_DELTA_ORTHOGONAL, "groups"), 0);
    assert_int_equal(nninit_scheme_takes_param(NNINIT_DELTA_ORTHOGONAL, "scale"), 0);
    nninit_spec sp;
    assert_int_equal(nninit_spec_parse("delta_orthogonal(gain=1.4142)", &sp), NNINIT_OK);
    assert_int_equal(sp.scheme, NNINIT_DELTA_ORTHOGONAL);
    assert_true(sp.gain == 1.4142);
    char text[NNINIT_SPEC_TEXT_MAX];
    assert_int_equal(nninit_spec_format(&sp, text, sizeof text), NNINIT_OK);
    assert_string_equal(text, "delta_orthogonal(gain=1.4142)");
    assert_int_equal(nninit_spec_parse("delta_orthogonal(groups=2)", &sp), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_spec_parse("delta_orthogonal", &sp), NNINIT_OK);
    assert_true(sp.gain == 1.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts_dtypes), cmocka_unit_test(test_square_and_pointwise),
        cmocka_unit_test(test_even_kernels),   cmocka_unit_test(test_keys_and_whole_fills),
        cmocka_unit_test(test_errors),         cmocka_unit_test(test_explain),
        cmocka_unit_test(test_names_and_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

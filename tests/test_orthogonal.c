/* test_orthogonal.c -- the two whole-tensor schemes: ORTHOGONAL and SPARSE.
 *
 * Orthogonality bounds. Let u be the unit roundoff of the output dtype
 * (2^-53 f64, 2^-24 f32, 2^-11 f16, 2^-8 bf16) and Q the m x n matrix whose n
 * orthonormal vectors are checked (m = max(rows, cols), n = min). The QR runs
 * in double, so the stored Q is Q_exact + D with D_ij = Q_ij * e_ij, |e| <= u,
 * e roughly independent with E[e^2] <= u^2/3. E = Q^T Q - I is then Q^T D +
 * D^T Q to first order; an off-diagonal entry is a sum of 2m terms
 * q_ki q_kj e_kj with q^2 ~ 1/m, variance <= (2/3) u^2 / m, and there are n^2
 * entries, so
 *     ||E||_F ~= sqrt(2/3) * u * n / sqrt(m)        (rounding to the dtype)
 * and the bound used is 4 * u * n / sqrt(m), about 5x the expected value.
 * (Measured: 0.15 of the bound for f32 2048 x 2048, 1.6e-6.) For f64 the
 * rounding term is negligible and the error is Householder QR's own (Higham,
 * ASNA 2nd ed., Thm 19.4: O(m n u) worst case, a few u sqrt(n) in practice;
 * measured <= 9e-17 * n here); we allow 1e-14 * n, 100x that. An f32 round
 * trip anywhere in the f64 path (~5e-8 * n / sqrt(m)) exceeds it 10^5-fold.
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
#include <lapacke.h>

#include "nninit.h"

/* ------------------------------------------------------------------------- */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------- */

static double unit_roundoff(nninit_dtype d) {
    switch (d) {
    case NNINIT_F64: return ldexp(1.0, -53);
    case NNINIT_F32: return ldexp(1.0, -24);
    case NNINIT_F16: return ldexp(1.0, -11);
    case NNINIT_BF16: return ldexp(1.0, -8);
    }
    return 1.0;
}

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    assert_non_null(p);
    return p;
}

/* Element i of a buffer of dtype d, as double. */
static double load(nninit_dtype d, const void *p, int64_t i) {
    switch (d) {
    case NNINIT_F64: return ((const double *)p)[i];
    case NNINIT_F32: return ((const float *)p)[i];
    case NNINIT_BF16: return nninit_bf16_to_f32(((const uint16_t *)p)[i]);
    case NNINIT_F16: return nninit_f16_to_f32(((const uint16_t *)p)[i]);
    }
    return NAN;
}

static double *to_f64(nninit_dtype d, const void *p, int64_t n) {
    double *x = xmalloc((size_t)n * sizeof(double));
    for (int64_t i = 0; i < n; i++) x[i] = load(d, p, i);
    return x;
}

/* Fill a tensor of the given shape and dtype; returns the buffer (caller frees). */
static void *fill(const nninit_spec *s, int ndim, const int64_t *shape, nninit_dtype d, nninit_key k, int64_t *numel) {
    nninit_tensor t = nninit_tensor_make(ndim, shape, d);
    assert_int_equal(nninit_tensor_numel(&t, numel), NNINIT_OK);
    void *buf = xmalloc((size_t)*numel * nninit_dtype_size(d));
    nninit_status st = nninit_fill(s, &t, k, buf);
    if (st != NNINIT_OK) fail_msg("nninit_fill: %s (%s)", nninit_status_str(st), nninit_last_error());
    return buf;
}

/* ||V^T V / gain^2 - I||_F by the definition: the readable reference that
 * ortho_error() is checked against. x is rows x cols, rows >= cols. */
static double ortho_error_naive(const double *x, int64_t rows, int64_t cols, double gain) {
    double sum = 0.0;
    for (int64_t i = 0; i < cols; i++) {
        for (int64_t j = 0; j < cols; j++) {
            double g = 0.0;
            for (int64_t k = 0; k < rows; k++) g += x[k * cols + i] * x[k * cols + j];
            const double e = g / (gain * gain) - (i == j);
            sum += e * e;
        }
    }
    return sqrt(sum);
}

/* Orthogonality error of a rows x cols row-major matrix x: ||X^T X/gain^2 - I||_F
 * (over columns) when rows >= cols, ||X X^T/gain^2 - I||_F (over rows) else.
 * The Gram matrix comes from LAPACK's dsfrk (a syrk into packed storage):
 * 2048^3/2 multiply-adds take ~3 s as a scalar loop, ~0.1 s there. */
static double ortho_error(const double *x, int64_t rows, int64_t cols, double gain) {
    /* Row-major x is column-major X^T (cols x rows, lda = cols): X^T X is
     * A A^T ('N') with A = X^T, and X X^T is A^T A ('T'). */
    const lapack_int n = (lapack_int)(rows >= cols ? cols : rows);
    const lapack_int k = (lapack_int)(rows >= cols ? rows : cols);
    double *rfp = xmalloc((size_t)n * (size_t)(n + 1) / 2 * sizeof(double));
    double *g = xmalloc((size_t)n * (size_t)n * sizeof(double));
    assert_int_equal(LAPACKE_dsfrk(LAPACK_COL_MAJOR, 'N', 'L', rows >= cols ? 'N' : 'T', n, k, 1.0 / (gain * gain), x,
                                   (lapack_int)cols, 0.0, rfp),
                     0);
    assert_int_equal(LAPACKE_dtfttr(LAPACK_COL_MAJOR, 'N', 'L', n, rfp, g, n), 0);
    for (lapack_int i = 0; i < n; i++) g[(size_t)i * (size_t)n + (size_t)i] -= 1.0;
    const double e = LAPACKE_dlansy(LAPACK_COL_MAJOR, 'F', 'L', n, g, n);
    free(g);
    free(rfp);
    return e;
}

static double ortho_bound(nninit_dtype d, int64_t rows, int64_t cols) {
    const double m = (double)(rows > cols ? rows : cols), n = (double)(rows > cols ? cols : rows);
    return 4.0 * unit_roundoff(d) * n / sqrt(m) + 1e-14 * n;
}

static const char *dtype_str(nninit_dtype d) { return nninit_dtype_name(d); }

/* Fill ORTHOGONAL(gain) and check the orthogonality error; returns it. */
static double check_orthogonal(int ndim, const int64_t *shape, nninit_dtype d, double gain, uint64_t id) {
    nninit_spec s = nninit_spec_default(NNINIT_ORTHOGONAL);
    s.gain = gain;
    int64_t numel;
    void *buf = fill(&s, ndim, shape, d, nninit_key_make(7, id), &numel);
    const int64_t rows = shape[0], cols = numel / rows;
    double *x = to_f64(d, buf, numel);
    for (int64_t i = 0; i < numel; i++) assert_true(isfinite(x[i]));
    const double err = ortho_error(x, rows, cols, gain);
    const double bound = ortho_bound(d, rows, cols);
    printf("    orthogonal %5lld x %-5lld %-4s gain %g: ||Q^TQ - I||_F = %.3e (bound %.3e)\n", (long long)rows,
           (long long)cols, dtype_str(d), gain, err, bound);
    if (!(err < bound)) fail_msg("orthogonality error %.3e >= bound %.3e", err, bound);
    free(x);
    free(buf);
    return err;
}

/* ------------------------------------------------------------------------- */
/* Orthogonal                                                                */
/* ------------------------------------------------------------------------- */

static void test_orthogonal_shapes_f64(void **state) {
    (void)state;
    const int64_t sq[] = {64, 64}, tall[] = {300, 100}, wide[] = {100, 300}, w2[] = {512, 2048},
                  conv[] = {64, 16, 3, 3}, col[] = {50, 1}, row[] = {1, 50};
    check_orthogonal(2, sq, NNINIT_F64, 1.0, 1);
    check_orthogonal(2, tall, NNINIT_F64, 1.0, 2);
    check_orthogonal(2, wide, NNINIT_F64, 1.0, 3);
    check_orthogonal(2, w2, NNINIT_F64, 1.0, 4);
    check_orthogonal(4, conv, NNINIT_F64, 1.0, 5); /* flattened to 64 x 144 */
    check_orthogonal(2, col, NNINIT_F64, 1.0, 6);  /* a unit column */
    check_orthogonal(2, row, NNINIT_F64, 1.0, 7);  /* a unit row */
}

static void test_orthogonal_shapes_f32(void **state) {
    (void)state;
    const int64_t sq[] = {64, 64}, tall[] = {300, 100}, wide[] = {100, 300}, w2[] = {512, 2048},
                  conv[] = {64, 16, 3, 3}, big[] = {2048, 2048};
    check_orthogonal(2, sq, NNINIT_F32, 1.0, 1);
    check_orthogonal(2, tall, NNINIT_F32, 1.0, 2);
    check_orthogonal(2, wide, NNINIT_F32, 1.0, 3);
    check_orthogonal(2, w2, NNINIT_F32, 1.0, 4);
    check_orthogonal(4, conv, NNINIT_F32, 1.0, 5);
    check_orthogonal(2, big, NNINIT_F32, 1.0, 8);
}

/* The LAPACK-based checker agrees with the definition, on a matrix far from
 * orthogonal (so that every entry of the error matters), tall and wide. */
static void test_ortho_error_checker(void **state) {
    (void)state;
    const int64_t rows = 45, cols = 17;
    double *x = xmalloc(rows * cols * sizeof(double)), *xt = xmalloc(rows * cols * sizeof(double));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++)
            x[r * cols + c] = xt[c * rows + r] = sin((double)(r * cols + c) * 0.7) / (1.0 + (double)c);
    const double ref = ortho_error_naive(x, rows, cols, 1.5);
    assert_true(ref > 1.0);
    assert_true(fabs(ortho_error(x, rows, cols, 1.5) - ref) < 1e-12 * ref);
    assert_true(fabs(ortho_error(xt, cols, rows, 1.5) - ref) < 1e-12 * ref);
    free(x);
    free(xt);
}

/* bf16 and f16 are rounded from the double Q once: same bound formula, with
 * their own roundoff (64 x 64: 0.125 for bf16, 0.016 for f16). */
static void test_orthogonal_half(void **state) {
    (void)state;
    const int64_t sq[] = {64, 64}, tall[] = {300, 100}, wide[] = {100, 300};
    const nninit_dtype ds[] = {NNINIT_BF16, NNINIT_F16};
    for (int i = 0; i < 2; i++) {
        check_orthogonal(2, sq, ds[i], 1.0, 1);
        check_orthogonal(2, tall, ds[i], 1.0, 2);
        check_orthogonal(2, wide, ds[i], 1.0, 3);
    }
}

/* The definition (src/init/orthogonal.c), rebuilt here without LAPACK: g_k =
 * entries k .. m-1 of column k of the tensor's own N(0, 1) stream (the matrix
 * NNINIT_NORMAL(0, 1) writes, transposed when wide); reflector k maps g_k to
 * beta_k e_1 with LAPACK's dlarfg convention (beta = -sign(alpha) ||g_k||,
 * v = (1, x / (alpha - beta)), tau = (beta - alpha) / beta); the values are
 * the first n columns of H_0 H_1 .. H_{n-1}, column k times sign(beta_k).
 * So column 0 is g_0 / ||g_0||, and each column k has a positive component
 * along the reflected g_k: the Haar sample of Stewart (1980) and Mezzadri. */
static void check_definition(int64_t rows, int64_t cols, nninit_dtype d) {
    const int64_t shape[2] = {rows, cols};
    const nninit_key k = nninit_key_make(99, 1234);
    nninit_spec so = nninit_spec_default(NNINIT_ORTHOGONAL);
    nninit_spec sn = nninit_spec_default(NNINIT_NORMAL);
    int64_t numel;
    void *qb = fill(&so, 2, shape, d, k, &numel);
    void *ab = fill(&sn, 2, shape, d, k, &numel);
    double *q = to_f64(d, qb, numel), *g = to_f64(d, ab, numel);
    const int tall = rows >= cols;
    const int64_t n = tall ? cols : rows, m = tall ? rows : cols;
    /* column-major m x n: the factorized orientation */
    double *a = xmalloc((size_t)(m * n) * sizeof(double)), *ref = xmalloc((size_t)(m * n) * sizeof(double));
    double *tau = xmalloc((size_t)n * sizeof(double)), *sg = xmalloc((size_t)n * sizeof(double));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) a[tall ? r + c * m : c + r * m] = g[r * cols + c];
    for (int64_t j = 0; j < n; j++) { /* a[j.., j] becomes v (v_0 = 1 implied), beta stored in sg */
        double *col = a + j * m, alpha = col[j], xn = 0.0;
        for (int64_t t = j + 1; t < m; t++) xn += col[t] * col[t];
        if (xn == 0.0) {
            tau[j] = 0.0, sg[j] = alpha < 0 ? -1.0 : 1.0;
            continue;
        }
        double beta = -copysign(sqrt(alpha * alpha + xn), alpha);
        tau[j] = (beta - alpha) / beta;
        for (int64_t t = j + 1; t < m; t++) col[t] /= alpha - beta;
        sg[j] = beta < 0 ? -1.0 : 1.0;
    }
    for (int64_t t = 0; t < m * n; t++) ref[t] = 0.0;
    for (int64_t j = 0; j < n; j++) ref[j + j * m] = 1.0;
    for (int64_t j = n - 1; j >= 0; j--) { /* ref = H_j ref */
        const double *v = a + j * m;
        for (int64_t c = 0; c < n; c++) {
            double *rc = ref + c * m, dot = rc[j];
            for (int64_t t = j + 1; t < m; t++) dot += v[t] * rc[t];
            rc[j] -= tau[j] * dot;
            for (int64_t t = j + 1; t < m; t++) rc[t] -= tau[j] * dot * v[t];
        }
    }
    double err = 0.0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            double want = tall ? ref[r + c * m] * sg[c] : ref[c + r * m] * sg[r];
            err = fmax(err, fabs(q[r * cols + c] - want));
        }
    /* one rounding to d, plus the two double computations' error ~ u m */
    const double tol = unit_roundoff(d) + 64.0 * 0x1p-53 * (double)m;
    printf("    definition %lld x %lld %s: max |Q - reference| %.3e (tol %.3e)\n", (long long)rows, (long long)cols,
           dtype_str(d), err, tol);
    assert_true(err < tol);
    free(sg);
    free(tau);
    free(ref);
    free(a);
    free(q);
    free(g);
    free(qb);
    free(ab);
}

static void test_orthogonal_definition(void **state) {
    (void)state;
    check_definition(120, 40, NNINIT_F64);
    check_definition(40, 120, NNINIT_F64);
    check_definition(50, 50, NNINIT_F32);
    check_definition(30, 90, NNINIT_F32);
    check_definition(64, 64, NNINIT_BF16);
    check_definition(7, 1, NNINIT_F64);
}

static void test_orthogonal_gain(void **state) {
    (void)state;
    const int64_t shape[2] = {96, 64};
    const nninit_key k = nninit_key_make(3, 4);
    nninit_spec s1 = nninit_spec_default(NNINIT_ORTHOGONAL), s2 = s1, sm = s1;
    assert_true(s1.gain == 1.0);
    s2.gain = 2.0;
    sm.gain = -0.5;
    const nninit_dtype ds[] = {NNINIT_F64, NNINIT_F32};
    for (int di = 0; di < 2; di++) {
        int64_t numel;
        void *b1 = fill(&s1, 2, shape, ds[di], k, &numel);
        void *b2 = fill(&s2, 2, shape, ds[di], k, &numel);
        void *bm = fill(&sm, 2, shape, ds[di], k, &numel);
        /* Scaling by 2 and -1/2 is exact in binary, so it commutes with the
         * single rounding: the values are exactly 2x and -x/2. */
        for (int64_t i = 0; i < numel; i++) {
            assert_true(load(ds[di], b2, i) == 2.0 * load(ds[di], b1, i));
            assert_true(load(ds[di], bm, i) == -0.5 * load(ds[di], b1, i));
        }
        /* Columns have norm gain. */
        double *x = to_f64(ds[di], b2, numel);
        for (int64_t c = 0; c < shape[1]; c++) {
            double ss = 0.0;
            for (int64_t r = 0; r < shape[0]; r++) ss += x[r * shape[1] + c] * x[r * shape[1] + c];
            assert_true(fabs(sqrt(ss) - 2.0) < 1e-5);
        }
        free(x);
        free(b1);
        free(b2);
        free(bm);
    }
    /* gain 0 is finite and allowed (PyTorch too): all zeros. */
    nninit_spec s0 = s1;
    s0.gain = 0.0;
    int64_t numel;
    double *b0 = fill(&s0, 2, shape, NNINIT_F64, k, &numel);
    for (int64_t i = 0; i < numel; i++) assert_true(b0[i] == 0.0);
    free(b0);
    const int64_t sq[] = {128, 128};
    check_orthogonal(2, sq, NNINIT_F64, 3.0, 11);
    check_orthogonal(2, sq, NNINIT_F32, 0.25, 12);
}

static void test_orthogonal_reproducible(void **state) {
    (void)state;
    const int64_t shape[3] = {40, 10, 3};
    nninit_spec s = nninit_spec_default(NNINIT_ORTHOGONAL);
    const nninit_dtype ds[] = {NNINIT_F64, NNINIT_F32, NNINIT_BF16, NNINIT_F16};
    for (int di = 0; di < 4; di++) {
        const size_t es = nninit_dtype_size(ds[di]);
        int64_t n;
        void *a = fill(&s, 3, shape, ds[di], nninit_key_from_name(1, "w"), &n);
        void *b = fill(&s, 3, shape, ds[di], nninit_key_from_name(1, "w"), &n);
        void *c = fill(&s, 3, shape, ds[di], nninit_key_from_name(1, "v"), &n);
        void *e = fill(&s, 3, shape, ds[di], nninit_key_from_name(2, "w"), &n);
        assert_memory_equal(a, b, (size_t)n * es);
        assert_memory_not_equal(a, c, (size_t)n * es);
        assert_memory_not_equal(a, e, (size_t)n * es);
        free(a);
        free(b);
        free(c);
        free(e);
    }
}

static void test_orthogonal_errors(void **state) {
    (void)state;
    nninit_spec s = nninit_spec_default(NNINIT_ORTHOGONAL);
    float buf[64];
    const float sentinel = 12345.0f;
    for (int i = 0; i < 64; i++) buf[i] = sentinel;
    const nninit_key k = nninit_key_make(0, 0);

    const int64_t n1[1] = {64};
    nninit_tensor t1 = nninit_tensor_make(1, n1, NNINIT_F32);
    assert_int_equal(nninit_fill(&s, &t1, k, buf), NNINIT_ERR_DIMS);

    nninit_tensor t2 = nninit_tensor_2d(8, 8, NNINIT_F32);
    const double bad[] = {INFINITY, -INFINITY, NAN};
    for (int i = 0; i < 3; i++) {
        s.gain = bad[i];
        assert_int_equal(nninit_fill(&s, &t2, k, buf), NNINIT_ERR_PARAM);
        assert_true(strlen(nninit_last_error()) > 0);
    }
    for (int i = 0; i < 64; i++) assert_true(buf[i] == sentinel); /* untouched on error */
}

static void test_orthogonal_fill_range(void **state) {
    (void)state;
    nninit_spec s = nninit_spec_default(NNINIT_ORTHOGONAL);
    nninit_tensor t = nninit_tensor_2d(12, 20, NNINIT_F32);
    const nninit_key k = nninit_key_make(5, 6);
    float whole[240], part[240];
    assert_int_equal(nninit_scheme_is_elementwise(NNINIT_ORTHOGONAL), 0);
    assert_int_equal(nninit_fill_range(&s, &t, k, 0, 100, part), NNINIT_ERR_NOT_ELEMENTWISE);
    assert_int_equal(nninit_fill_range(&s, &t, k, 10, 240, part), NNINIT_ERR_NOT_ELEMENTWISE);
    assert_int_equal(nninit_fill(&s, &t, k, whole), NNINIT_OK);
    assert_int_equal(nninit_fill_range(&s, &t, k, 0, 240, part), NNINIT_OK);
    assert_memory_equal(whole, part, sizeof whole);
}

/* ------------------------------------------------------------------------- */
/* Sparse                                                                    */
/* ------------------------------------------------------------------------- */

static int64_t zeros_in_column(nninit_dtype d, const void *p, int64_t rows, int64_t cols, int64_t c) {
    int64_t z = 0;
    for (int64_t r = 0; r < rows; r++) z += load(d, p, r * cols + c) == 0.0;
    return z;
}

static void test_sparse_zero_count(void **state) {
    (void)state;
    const int64_t rows = 37, cols = 53, shape[2] = {rows, cols};
    const double sp[] = {0.0, 0.01, 0.1, 0.25, 1.0 / 3.0, 0.5, 0.9, 0.99, 1.0};
    /* ceil(sparsity * 37) in double, as PyTorch's math.ceil. */
    const int64_t expect[] = {0, 1, 4, 10, 13, 19, 34, 37, 37};
    /* f16 with std 0.01 could round a tiny normal value to 0: use std 1 there. */
    const nninit_dtype ds[] = {NNINIT_F64, NNINIT_F32, NNINIT_BF16, NNINIT_F16};
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        for (int di = 0; di < 4; di++) {
            nninit_spec s = nninit_spec_default(NNINIT_SPARSE);
            s.sparsity = sp[i];
            if (ds[di] == NNINIT_F16) s.std = 1.0;
            int64_t n;
            void *b = fill(&s, 2, shape, ds[di], nninit_key_make(10, 20), &n);
            for (int64_t c = 0; c < cols; c++) assert_int_equal(zeros_in_column(ds[di], b, rows, cols, c), expect[i]);
            free(b);
        }
    }
    /* 10 rows, sparsity 0.1: 0.1 * 10 == 1.0 exactly in double, so 1 zero. */
    nninit_spec s = nninit_spec_default(NNINIT_SPARSE);
    assert_true(s.sparsity == 0.1 && s.std == 0.01);
    const int64_t sh10[2] = {10, 7};
    int64_t n;
    float *b = fill(&s, 2, sh10, NNINIT_F32, nninit_key_make(1, 1), &n);
    for (int64_t c = 0; c < 7; c++) assert_int_equal(zeros_in_column(NNINIT_F32, b, 10, 7, c), 1);
    free(b);
}

/* Non-zeros are exactly NNINIT_NORMAL(0, std) at the same indices, and the
 * pattern depends on (key, column) only: the same in every dtype. */
static void test_sparse_values_and_pattern(void **state) {
    (void)state;
    const int64_t rows = 64, cols = 48, shape[2] = {rows, cols};
    const nninit_key k = nninit_key_from_name(3, "sparse.weight");
    nninit_spec s = nninit_spec_default(NNINIT_SPARSE);
    s.sparsity = 0.3;
    s.std = 0.05;
    nninit_spec sn = nninit_spec_default(NNINIT_NORMAL);
    sn.mean = 0.0;
    sn.std = s.std;
    int64_t n;
    void *ref_pattern = NULL;
    const nninit_dtype ds[] = {NNINIT_F64, NNINIT_F32, NNINIT_BF16};
    for (int di = 0; di < 3; di++) {
        void *b = fill(&s, 2, shape, ds[di], k, &n);
        void *nb = fill(&sn, 2, shape, ds[di], k, &n);
        unsigned char *pat = xmalloc((size_t)n);
        for (int64_t i = 0; i < n; i++) {
            const double v = load(ds[di], b, i);
            pat[i] = v == 0.0;
            if (v != 0.0) assert_true(v == load(ds[di], nb, i));
        }
        if (!ref_pattern) ref_pattern = pat;
        else {
            assert_memory_equal(ref_pattern, pat, (size_t)n);
            free(pat);
        }
        free(b);
        free(nb);
    }
    free(ref_pattern);
}

static void test_sparse_statistics(void **state) {
    (void)state;
    /* Values: n non-zeros of N(0, std^2). The sample std has relative standard
     * error 1/sqrt(2n), the mean std/sqrt(n); allow 5 of each. */
    const int64_t rows = 400, cols = 500, shape[2] = {rows, cols};
    nninit_spec s = nninit_spec_default(NNINIT_SPARSE);
    s.sparsity = 0.2;
    s.std = 0.01;
    int64_t n;
    float *b = fill(&s, 2, shape, NNINIT_F32, nninit_key_make(11, 12), &n);
    double sum = 0, sum2 = 0;
    int64_t nz = 0;
    for (int64_t i = 0; i < n; i++) {
        if (b[i] != 0.0f) {
            sum += b[i];
            sum2 += (double)b[i] * b[i];
            nz++;
        }
    }
    assert_int_equal(nz, n - cols * 80);
    const double mean = sum / (double)nz, sd = sqrt(sum2 / (double)nz - mean * mean);
    printf("    sparse 400x500 f32 std 0.01: %lld non-zeros, mean %.2e, std %.6f\n", (long long)nz, mean, sd);
    assert_true(fabs(mean) < 5.0 * s.std / sqrt((double)nz));
    assert_true(fabs(sd / s.std - 1.0) < 5.0 / sqrt(2.0 * (double)nz));
    free(b);

    /* Pattern: every row equally likely. rows = 20, 4 zeros per column, 20000
     * columns: row r's zero count is a sum of 20000 Bernoulli(1/5), mean 4000,
     * sd sqrt(20000 * 0.2 * 0.8) = 56.6; allow 6 sd. Chi-square over the 20
     * rows (19 dof; the mean count is 4000): allow 60 (p ~ 4e-6). */
    const int64_t r2 = 20, c2 = 20000, sh2[2] = {r2, c2};
    s.sparsity = 0.2;
    s.std = 1.0;
    double *b2 = fill(&s, 2, sh2, NNINIT_F64, nninit_key_make(13, 14), &n);
    double chi2 = 0.0;
    for (int64_t r = 0; r < r2; r++) {
        int64_t z = 0;
        for (int64_t c = 0; c < c2; c++) z += b2[r * c2 + c] == 0.0;
        assert_true(fabs((double)z - 4000.0) < 6.0 * 56.6);
        chi2 += ((double)z - 4000.0) * ((double)z - 4000.0) / 4000.0;
    }
    printf("    sparse 20x20000 zero pattern: chi2 = %.1f (19 dof, limit 60)\n", chi2);
    assert_true(chi2 < 60.0);
    free(b2);
}

static void test_sparse_reproducible(void **state) {
    (void)state;
    const int64_t shape[2] = {30, 30};
    nninit_spec s = nninit_spec_default(NNINIT_SPARSE);
    s.sparsity = 0.5;
    int64_t n;
    float *a = fill(&s, 2, shape, NNINIT_F32, nninit_key_make(1, 2), &n);
    float *b = fill(&s, 2, shape, NNINIT_F32, nninit_key_make(1, 2), &n);
    float *c = fill(&s, 2, shape, NNINIT_F32, nninit_key_make(1, 3), &n);
    assert_memory_equal(a, b, sizeof(float) * (size_t)n);
    int same_pattern = 1;
    for (int64_t i = 0; i < n; i++) same_pattern &= (a[i] == 0.0f) == (c[i] == 0.0f);
    assert_false(same_pattern);

    /* Column c's pattern depends on (key, c, rows) only, not on cols. */
    const int64_t wider[2] = {30, 45};
    float *w = fill(&s, 2, wider, NNINIT_F32, nninit_key_make(1, 2), &n);
    for (int64_t r = 0; r < 30; r++)
        for (int64_t col = 0; col < 30; col++) assert_int_equal(a[r * 30 + col] == 0.0f, w[r * 45 + col] == 0.0f);
    free(a);
    free(b);
    free(c);
    free(w);

    /* std 0: every value is zero. */
    s.std = 0.0;
    double *z = fill(&s, 2, shape, NNINIT_F64, nninit_key_make(1, 2), &n);
    for (int64_t i = 0; i < n; i++) assert_true(z[i] == 0.0);
    free(z);
}

static void test_sparse_errors(void **state) {
    (void)state;
    const nninit_key k = nninit_key_make(0, 0);
    double buf[64];
    for (int i = 0; i < 64; i++) buf[i] = 777.0;
    nninit_spec s = nninit_spec_default(NNINIT_SPARSE);

    const int64_t s3[3] = {4, 4, 4}, s1[1] = {64};
    nninit_tensor t3 = nninit_tensor_make(3, s3, NNINIT_F64);
    nninit_tensor t1 = nninit_tensor_make(1, s1, NNINIT_F64);
    assert_int_equal(nninit_fill(&s, &t3, k, buf), NNINIT_ERR_DIMS);
    assert_int_equal(nninit_fill(&s, &t1, k, buf), NNINIT_ERR_DIMS);

    nninit_tensor t = nninit_tensor_2d(8, 8, NNINIT_F64);
    const double bad_sparsity[] = {-0.1, 1.5, NAN, INFINITY, -INFINITY};
    for (int i = 0; i < 5; i++) {
        nninit_spec b = s;
        b.sparsity = bad_sparsity[i];
        assert_int_equal(nninit_fill(&b, &t, k, buf), NNINIT_ERR_SPARSITY);
    }
    const double bad_std[] = {-0.01, NAN, INFINITY};
    for (int i = 0; i < 3; i++) {
        nninit_spec b = s;
        b.std = bad_std[i];
        assert_int_equal(nninit_fill(&b, &t, k, buf), NNINIT_ERR_PARAM);
    }
    for (int i = 0; i < 64; i++) assert_true(buf[i] == 777.0);

    /* Whole-tensor scheme: only the full range is accepted. */
    double whole[64];
    assert_int_equal(nninit_scheme_is_elementwise(NNINIT_SPARSE), 0);
    assert_int_equal(nninit_fill_range(&s, &t, k, 8, 64, buf), NNINIT_ERR_NOT_ELEMENTWISE);
    assert_int_equal(nninit_fill(&s, &t, k, whole), NNINIT_OK);
    assert_int_equal(nninit_fill_range(&s, &t, k, 0, 64, buf), NNINIT_OK);
    assert_memory_equal(whole, buf, sizeof whole);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ortho_error_checker),       cmocka_unit_test(test_orthogonal_shapes_f64),
        cmocka_unit_test(test_orthogonal_shapes_f32),     cmocka_unit_test(test_orthogonal_half),
        cmocka_unit_test(test_orthogonal_definition),     cmocka_unit_test(test_orthogonal_gain),
        cmocka_unit_test(test_orthogonal_reproducible),   cmocka_unit_test(test_orthogonal_errors),
        cmocka_unit_test(test_orthogonal_fill_range),     cmocka_unit_test(test_sparse_zero_count),
        cmocka_unit_test(test_sparse_values_and_pattern), cmocka_unit_test(test_sparse_statistics),
        cmocka_unit_test(test_sparse_reproducible),       cmocka_unit_test(test_sparse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

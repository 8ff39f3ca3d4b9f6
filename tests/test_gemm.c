/* test_gemm.c -- the reference matrix product (engine/nn/gemm.h) and the
 * net's switch to it (nninit_net_set_matmul).
 *
 *   - nninit__sgemm_ref against a triple loop written here in gemm.h's
 *     documented order, bit for bit: every transpose pair, alpha and beta in
 *     {0, 1, other}, sizes on both sides of the kernel's tiles (MR 4, NR 8,
 *     MC 32, NC 64, KC 64) and k = 0. Leading dimensions are padded with NaN
 *     (a read outside the matrix shows), beta = 0 starts from a NaN C (C must
 *     not be read), and C's padding must come back untouched.
 *   - against cblas_sgemm within the error bound of two summation orders:
 *     |ref - blas| <= 2 (k + 2) eps (|alpha| sum_p |A(i,p) B(p,j)| + |beta C|)
 *     (each side is within (k + 2) u of the exact value, u = eps / 2; +2 for
 *     the scaling and the beta term), far below the O(1) error of a wrong
 *     index or transpose.
 *   - equal columns of op(B) give bit-equal columns of C, equal rows of op(A)
 *     bit-equal rows, for every n (m) from 1 to 140: each edge position of a
 *     register tile and of a block.
 *   - nets: a dense and a conv forward under NNINIT_MATMUL_REFERENCE are the
 *     documented sums bit for bit (so every product really is the reference);
 *     and nets with constant weights keep every hidden unit bit-identical
 *     through forward, backward, SGD steps and nninit_train_run, dense, conv
 *     (all 7 products of conv.c) and residual alike. Under OpenBLAS the same
 *     is printed, not asserted: it depends on the CPU.
 *
 * The file compiles with -ffp-contract=off (tests/CMakeLists.txt), so the
 * triple loop here rounds each product and sum as the reference does.
 */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn/gemm.h"
#include "nninit_train.h"

/* ------------------------------------------------------------------------- */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

/* splitmix64 -> a float in [-1, 1) with 24 random bits. */
static float frand(void) {
    uint64_t z = (rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return (float)(z >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

/* Element (r, c) of op(X), X stored with leading dimension ld. */
static float at(const float *x, int ld, int tr, int r, int c) {
    return tr ? x[(size_t)c * ld + r] : x[(size_t)r * ld + c];
}

/* gemm.h's definition, one element at a time. */
static void naive(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                  float beta, float *c, int ldc) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float *cij = c + (size_t)i * ldc + j;
            if (alpha == 0.0f) {
                *cij = beta == 0.0f ? 0.0f : beta * *cij;
                continue;
            }
            float s = 0.0f;
            for (int p = 0; p < k; p++) {
                const float prod = at(a, lda, ta, i, p) * at(b, ldb, tb, p, j);
                s = s + prod;
            }
            const float t = alpha * s;
            *cij = beta == 0.0f ? t : t + beta * *cij;
        }
}

/* A rows x cols matrix with leading dimension cols + 3, the padding NaN. */
static float *matrix(int rows, int cols, int *ld) {
    *ld = cols + 3;
    size_t n = (size_t)(rows ? rows : 1) * (size_t)*ld;
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < *ld; c++) x[(size_t)r * *ld + c] = c < cols ? frand() : NAN;
    if (!rows) x[0] = NAN;
    return x;
}

static int same_bits(const float *x, const float *y, size_t n) { return memcmp(x, y, n * sizeof *x) == 0; }

/* The sizes: around MR, NR, MC, NC, KC and their multiples. */
static const int dims[] = {1, 3, 17, 33, 65, 130};
static const int depths[] = {0, 1, 3, 17, 65, 130};
static const float alphas[] = {1.0f, 0.0f, -0.75f};
static const float betas[] = {0.0f, 1.0f, 0.5f};
#define COUNT(x) (int)(sizeof(x) / sizeof(x)[0])

typedef struct {
    int ta, tb, m, n, k, lda, ldb, ldc;
    float alpha, beta;
    float *a, *b, *c0;
} gemm_case;

/* Random op(A), op(B), C for one case (C NaN where beta is 0: it is not read). */
static void case_make(gemm_case *g) {
    g->a = g->ta ? matrix(g->k, g->m, &g->lda) : matrix(g->m, g->k, &g->lda);
    g->b = g->tb ? matrix(g->n, g->k, &g->ldb) : matrix(g->k, g->n, &g->ldb);
    g->c0 = matrix(g->m, g->n, &g->ldc);
    if (g->beta == 0.0f)
        for (int i = 0; i < g->m; i++)
            for (int j = 0; j < g->n; j++) g->c0[(size_t)i * g->ldc + j] = NAN;
}

static void case_free(gemm_case *g) { free(g->a), free(g->b), free(g->c0); }

static float *copy_c(const gemm_case *g) {
    size_t n = (size_t)g->m * g->ldc;
    float *c = malloc(n * sizeof *c);
    assert_non_null(c);
    memcpy(c, g->c0, n * sizeof *c);
    return c;
}

/* Calls f on every case of the grid. */
static void each_case(void (*f)(const gemm_case *)) {
    int n = 0;
    for (int t = 0; t < 4; t++)
        for (int ia = 0; ia < COUNT(alphas); ia++)
            for (int ib = 0; ib < COUNT(betas); ib++)
                for (int im = 0; im < COUNT(dims); im++)
                    for (int in = 0; in < COUNT(dims); in++)
                        for (int ik = 0; ik < COUNT(depths); ik++) {
                            gemm_case g = {t >> 1, t & 1,      dims[im],  dims[in], depths[ik], 0,   0,
                                           0,      alphas[ia], betas[ib], NULL,     NULL,       NULL};
                            case_make(&g);
                            f(&g);
                            case_free(&g);
                            n++;
                        }
    printf("  %d products\n", n);
}

/* ------------------------------------------------------------------------- */
/* The product                                                               */
/* ------------------------------------------------------------------------- */

static void check_naive(const gemm_case *g) {
    float *want = copy_c(g), *got = copy_c(g);
    naive(g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->a, g->lda, g->b, g->ldb, g->beta, want, g->ldc);
    nninit__sgemm_ref(g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->a, g->lda, g->b, g->ldb, g->beta, got, g->ldc);
    /* the whole of C, padding included: equal bits, and the padding still NaN */
    if (!same_bits(want, got, (size_t)g->m * g->ldc))
        fail_msg("ta %d tb %d m %d n %d k %d alpha %g beta %g: not the documented sum", g->ta, g->tb, g->m, g->n, g->k,
                 g->alpha, g->beta);
    for (int i = 0; i < g->m; i++)
        for (int j = 0; j < g->ldc; j++) {
            const float v = got[(size_t)i * g->ldc + j];
            if (j < g->n) assert_false(isnan(v)); /* nothing NaN was read */
            else assert_true(isnan(v));           /* nothing past n was written */
        }
    free(want), free(got);
}

static void test_bits_vs_naive(void **state) {
    (void)state;
    each_case(check_naive);
}

static int bits_equal_blas, compared_blas;

static void check_blas(const gemm_case *g) {
    if (g->alpha == 0.0f) return; /* C = beta C: one rounding, tested above */
    float *want = copy_c(g), *got = copy_c(g);
    cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, g->m, g->n, g->k,
                g->alpha, g->a, g->lda, g->b, g->ldb, g->beta, want, g->ldc);
    nninit__sgemm_ref(g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->a, g->lda, g->b, g->ldb, g->beta, got, g->ldc);
    for (int i = 0; i < g->m; i++)
        for (int j = 0; j < g->n; j++) {
            double mag = 0.0;
            for (int p = 0; p < g->k; p++)
                mag += fabs((double)at(g->a, g->lda, g->ta, i, p) * at(g->b, g->ldb, g->tb, p, j));
            mag *= fabs(g->alpha);
            if (g->beta != 0.0f) mag += fabs((double)g->beta * g->c0[(size_t)i * g->ldc + j]);
            const double tol = 2.0 * (g->k + 2) * FLT_EPSILON * mag + FLT_MIN;
            const size_t e = (size_t)i * g->ldc + j;
            if (!(fabs((double)got[e] - want[e]) <= tol))
                fail_msg("ta %d tb %d m %d n %d k %d alpha %g beta %g: C[%d][%d] = %.9g, OpenBLAS %.9g (tol %.3g)",
                         g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->beta, i, j, got[e], want[e], tol);
        }
    compared_blas++;
    bits_equal_blas += same_bits(want, got, (size_t)g->m * g->ldc);
    free(want), free(got);
}

static void test_close_to_blas(void **state) {
    (void)state;
    each_case(check_blas);
    printf("  equal to OpenBLAS bit for bit in %d of %d (reported, not asserted)\n", bits_equal_blas, compared_blas);
}

/* op(B)'s columns all equal (op(A)'s rows, when rows is set): C's columns
 * (rows) come out bit-equal, including the beta C term when C's columns
 * (rows) are equal too, as a bias is. */
static void check_equal_lines(int ta, int tb, int m, int n, int k, float beta, int rows) {
    int lda, ldb, ldc;
    float *a = ta ? matrix(k, m, &lda) : matrix(m, k, &lda);
    float *b = tb ? matrix(n, k, &ldb) : matrix(k, n, &ldb);
    float *c = matrix(m, n, &ldc);
    for (int p = 0; p < k; p++) /* line 0 copied onto the others */
        if (rows)
            for (int i = 1; i < m; i++)
                *(ta ? &a[(size_t)p * lda + i] : &a[(size_t)i * lda + p]) = at(a, lda, ta, 0, p);
        else
            for (int j = 1; j < n; j++)
                *(tb ? &b[(size_t)j * ldb + p] : &b[(size_t)p * ldb + j]) = at(b, ldb, tb, p, 0);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = rows ? c[j] : c[(size_t)i * ldc];
    nninit__sgemm_ref(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            const float *v = c + (size_t)i * ldc + j, *u = rows ? c + j : c + (size_t)i * ldc;
            if (!same_bits(v, u, 1))
                fail_msg("ta %d tb %d m %d n %d k %d beta %g: C[%d][%d] = %.9g differs from its %s's %.9g", ta, tb, m,
                         n, k, beta, i, j, *v, rows ? "row 0" : "column 0", *u);
        }
    free(a), free(b), free(c);
}

static void test_equal_columns_and_rows(void **state) {
    (void)state;
    for (int t = 0; t < 4; t++)
        for (int s = 1; s <= 140; s++) {
            check_equal_lines(t >> 1, t & 1, 5, s, 70, 0.0f, 0);
            check_equal_lines(t >> 1, t & 1, 5, s, 130, 1.0f, 0);
            check_equal_lines(t >> 1, t & 1, s, 9, 70, 0.0f, 1);
            check_equal_lines(t >> 1, t & 1, s, 9, 130, 1.0f, 1);
        }
}

/* ------------------------------------------------------------------------- */
/* Nets                                                                      */
/* ------------------------------------------------------------------------- */

static nninit_arch *parse(const char *text) {
    nninit_arch *a = calloc(1, sizeof *a); /* ~100 KB: never on the stack */
    assert_non_null(a);
    if (nninit_arch_parse(text, a)) fail_msg("%s: %s", text, nninit_last_error());
    return a;
}

static nninit_net *net_new(const char *text, int max_batch, const char *weight, const char *bias, nninit_matmul m) {
    nninit_arch *a = parse(text);
    nninit_layer_init ini;
    assert_int_equal(nninit_spec_parse(weight, &ini.weight), NNINIT_OK);
    assert_int_equal(nninit_spec_parse(bias, &ini.bias), NNINIT_OK);
    nninit_net *net = NULL;
    assert_int_equal(nninit_net_create(a, max_batch, &ini, 7, &net), NNINIT_OK);
    assert_int_equal(nninit_net_set_matmul(net, m), NNINIT_OK);
    free(a);
    return net;
}

static float *random_floats(size_t n) {
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) x[i] = frand();
    return x;
}

static void test_switch(void **state) {
    (void)state;
    nninit_net *net = net_new("7 -> dense 5", 2, "normal", "uniform", NNINIT_MATMUL_BLAS);
    assert_int_equal(nninit_net_set_matmul(NULL, NNINIT_MATMUL_REFERENCE), NNINIT_ERR_NULL);
    assert_int_equal(nninit_net_set_matmul(net, (nninit_matmul)2), NNINIT_ERR_PARAM);
    assert_non_null(strstr(nninit_last_error(), "nninit_matmul"));
    assert_int_equal(nninit_net_matmul(net), NNINIT_MATMUL_BLAS);
    assert_int_equal(nninit_net_matmul(NULL), NNINIT_MATMUL_BLAS);
    assert_int_equal(nninit_net_set_matmul(net, NNINIT_MATMUL_REFERENCE), NNINIT_OK);
    assert_int_equal(nninit_net_matmul(net), NNINIT_MATMUL_REFERENCE);
    /* the net's choice holds for its own calls only: the thread's is back after them */
    float *x = random_floats(14);
    int y[2] = {1, 4};
    double loss;
    assert_int_equal(nninit_net_forward(net, x, 2), NNINIT_OK);
    assert_int_equal(nninit__matmul_use(NNINIT_MATMUL_BLAS), NNINIT_MATMUL_BLAS);
    assert_int_equal(nninit_net_loss(net, y, &loss), NNINIT_OK);
    assert_int_equal(nninit_net_backward(net), NNINIT_OK);
    assert_int_equal(nninit__matmul_use(NNINIT_MATMUL_BLAS), NNINIT_MATMUL_BLAS);
    free(x);
    nninit_net_free(net);
}

/* Under the reference, a dense layer's output is bias + the documented sum,
 * and a conv layer's (zero padding, stride s) likewise, in the order of the
 * weight's (ci, ki, kj): bit for bit, for one example (the conv writes onto
 * the bias) and several (the bias is added afterwards: the same s + b). */
static void test_net_forward_is_the_sum(void **state) {
    (void)state;
    nninit_net *d = net_new("37 -> dense 19", 5, "normal", "uniform(a=-1,b=1)", NNINIT_MATMUL_REFERENCE);
    float *x = random_floats(5 * 37);
    assert_int_equal(nninit_net_forward(d, x, 5), NNINIT_OK);
    nninit_layer_view v;
    assert_int_equal(nninit_net_layer(d, 0, &v), NNINIT_OK);
    for (int n = 0; n < 5; n++)
        for (int o = 0; o < 19; o++) {
            float s = 0.0f;
            for (int i = 0; i < 37; i++) {
                const float prod = x[n * 37 + i] * v.w[o * 37 + i];
                s = s + prod;
            }
            const float want = s + v.b[o];
            assert_true(same_bits(&want, v.post + n * 19 + o, 1));
        }
    free(x);
    nninit_net_free(d);

    const char *convs[] = {"3x9x9 -> conv 5 3x3 p1", "3x9x9 -> conv 4 3x5 s2 p1", "4x6x6 -> conv 6 1x1 g2"};
    for (int t = 0; t < 3; t++) {
        for (int batch = 1; batch <= 13; batch += 12) {
            nninit_net *c = net_new(convs[t], batch, "normal", "uniform(a=-1,b=1)", NNINIT_MATMUL_REFERENCE);
            nninit_arch *a = parse(convs[t]);
            const nninit_layer_spec *ls = &a->layers[0];
            const int C = a->in_c, H = a->in_h, W = a->in_w, g = ls->groups ? ls->groups : 1;
            const int cg = C / g, og = ls->units / g;
            const int in_size = C * H * W;
            x = random_floats((size_t)batch * in_size);
            assert_int_equal(nninit_net_forward(c, x, batch), NNINIT_OK);
            assert_int_equal(nninit_net_layer(c, 0, &v), NNINIT_OK);
            const int OH = v.out_h, OW = v.out_w;
            for (int n = 0; n < batch; n++)
                for (int o = 0; o < v.out_c; o++)
                    for (int oy = 0; oy < OH; oy++)
                        for (int ox = 0; ox < OW; ox++) {
                            float s = 0.0f;
                            for (int ci = 0; ci < cg; ci++)
                                for (int ki = 0; ki < ls->kh; ki++)
                                    for (int kj = 0; kj < ls->kw; kj++) {
                                        const int iy = oy * ls->stride - ls->pad + ki;
                                        const int ix = ox * ls->stride - ls->pad + kj;
                                        const int cin = (o / og) * cg + ci;
                                        const float xv = iy < 0 || iy >= H || ix < 0 || ix >= W
                                                             ? 0.0f
                                                             : x[(size_t)n * in_size + ((size_t)cin * H + iy) * W + ix];
                                        const float prod = v.w[((o * cg + ci) * ls->kh + ki) * ls->kw + kj] * xv;
                                        s = s + prod;
                                    }
                            const float want = s + v.b[o];
                            const float *got = v.post + (size_t)n * v.out_size + ((size_t)o * OH + oy) * OW + ox;
                            if (!same_bits(&want, got, 1))
                                fail_msg("%s batch %d: y[%d][%d][%d][%d] = %.9g, the sum is %.9g", convs[t], batch, n,
                                         o, oy, ox, *got, want);
                        }
            free(x);
            free(a);
            nninit_net_free(c);
        }
    }
}

/* Units of layer l that differ (in any bit) from unit 0: in pre, post,
 * dpre, and the rows of the weights and their gradients. */
static int asymmetric_units(const nninit_net *net, int l, int batch) {
    nninit_layer_view v;
    assert_int_equal(nninit_net_layer(net, l, &v), NNINIT_OK);
    const int units = v.out_c;
    const size_t plane = (size_t)v.out_size / units, wc = (size_t)v.w_cols, wc2 = (size_t)v.w2_cols;
    int bad = 0;
    for (int u = 1; u < units; u++) {
        int same = 1;
        for (int n = 0; n < batch; n++) {
            const size_t r = (size_t)n * v.out_size;
            same &= same_bits(v.pre + r + u * plane, v.pre + r, plane);
            same &= same_bits(v.post + r + u * plane, v.post + r, plane);
            same &= same_bits(v.dpre + r + u * plane, v.dpre + r, plane);
        }
        same &= same_bits(v.w + u * wc, v.w, wc) && same_bits(v.dw + u * wc, v.dw, wc);
        same &= same_bits(v.b + u, v.b, 1) && same_bits(v.db + u, v.db, 1);
        if (v.w2) same &= same_bits(v.w2 + u * wc2, v.w2, wc2) && same_bits(v.dw2 + u * wc2, v.dw2, wc2);
        bad += !same;
    }
    return bad;
}

/* All layers but the last (and flattens): units different from unit 0,
 * summed. */
static int asymmetric_hidden(const nninit_net *net, int batch) {
    int bad = 0;
    for (int l = 0; l < nninit_net_layers(net) - 1; l++) {
        nninit_layer_view v;
        assert_int_equal(nninit_net_layer(net, l, &v), NNINIT_OK);
        if (v.kind != NNINIT_LAYER_FLATTEN) bad += asymmetric_units(net, l, batch);
    }
    return bad;
}

/* Forward, loss, backward, SGD, `steps` times on one batch; then `train`
 * more steps through nninit_train_run. Returns the asymmetric hidden units
 * seen after each backward and after training, summed. */
static int run_constant(const char *text, nninit_matmul m, int batch) {
    nninit_net *net = net_new(text, batch, "constant(value=0.1)", "constant(value=0.05)", m);
    const int in = nninit_net_input_size(net), n_train = 4 * batch;
    float *x = random_floats((size_t)n_train * in);
    int *y = malloc((size_t)n_train * sizeof *y);
    assert_non_null(y);
    for (int i = 0; i < n_train; i++) y[i] = (int)((frand() + 1.0f) * 5.0f) % 10;
    int bad = 0;
    for (int step = 0; step < 3; step++) {
        double loss;
        assert_int_equal(nninit_net_forward(net, x, batch), NNINIT_OK);
        assert_int_equal(nninit_net_loss(net, y, &loss), NNINIT_OK);
        assert_int_equal(nninit_net_backward(net), NNINIT_OK);
        bad += asymmetric_hidden(net, batch);
        assert_int_equal(nninit_net_sgd_step(net, 0.1f), NNINIT_OK);
    }
    nninit_train_opts o = nninit_train_opts_default();
    o.batch = batch, o.epochs = 1, o.lr = 0.1, o.momentum = 0.9;
    o.evals_per_epoch = 0, o.eval_train_at_init = 0;
    nninit_dataset tr = {x, y, n_train, in};
    nninit_train_report rep;
    assert_int_equal(nninit_train_run(net, &o, &tr, NULL, NULL, NULL, &rep), NNINIT_OK);
    assert_int_equal(rep.steps, 4);
    nninit_train_report_free(&rep);
    /* the last step's gradients and the trained weights; pre and post from a fresh forward */
    assert_int_equal(nninit_net_forward(net, x, batch), NNINIT_OK);
    bad += asymmetric_hidden(net, batch);
    free(x), free(y);
    nninit_net_free(net);
    return bad;
}

static void test_constant_init_stays_symmetric(void **state) {
    (void)state;
    /* odd widths and inputs (edges of every tile); batch 13 on 9x9 planes:
     * a conv chunk of 12 examples and one of 1; the conv layers take every
     * path of conv.c (the first without dx, 'same' stride-1 with dx as a
     * convolution, stride 2 through col2im, pointwise) */
    const char *archs[] = {
        "37 -> dense 33 tanh -> res dense tanh -> dense 33 tanh -> dense 10",
        "3x9x9 -> conv 5 3x3 p1 tanh -> res conv tanh -> conv 6 3x3 s2 p1 tanh -> conv 4 1x1 tanh -> flatten -> "
        "dense 10",
    };
    for (int t = 0; t < 2; t++) {
        assert_int_equal(run_constant(archs[t], NNINIT_MATMUL_REFERENCE, 13), 0);
        int blas = run_constant(archs[t], NNINIT_MATMUL_BLAS, 13);
        printf("  %s: reference: every hidden unit bit-identical; OpenBLAS: %s (%d unit-checks differ; "
               "reported, not asserted)\n",
               archs[t], blas ? "symmetry broken" : "also bit-identical", blas);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bits_vs_naive),          cmocka_unit_test(test_close_to_blas),
        cmocka_unit_test(test_equal_columns_and_rows), cmocka_unit_test(test_switch),
        cmocka_unit_test(test_net_forward_is_the_sum), cmocka_unit_test(test_constant_init_stays_symmetric),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* orthogonal.c -- gain * Q, a random (semi-)orthogonal matrix.
 *
 * PyTorch torch/nn/init.py orthogonal_(tensor, gain) (after Saxe et al. 2013,
 * "Exact solutions to the nonlinear dynamics of learning in deep linear neural
 * networks", arXiv:1312.6120):
 *
 *     rows = tensor.size(0); cols = tensor.numel() // rows
 *     flattened = normal_(0, 1) of shape (rows, cols)
 *     if rows < cols: flattened.t_()
 *     q, r = torch.linalg.qr(flattened)
 *     q *= torch.diag(r, 0).sign()
 *     if rows < cols: q.t_()
 *     tensor.copy_(q); tensor.mul_(gain)
 *
 * Multiplying column j of Q by sign(R[j][j]) makes the factorization unique
 * (R with a positive diagonal), which is what makes Q Haar-distributed rather
 * than biased by the Householder sign convention (Mezzadri, "How to generate
 * random matrices from the classical compact groups", math-ph/0609050).
 *
 * The QR itself is not computed. dgeqrf on a Gaussian A builds reflector k
 * from column k after reflections 0 .. k-1, whose entries k .. m-1 are again
 * i.i.d. N(0, 1) and independent of the reflectors before (the Gaussian is
 * invariant under the orthogonal H_0 .. H_{k-1}, which depend only on columns
 * 0 .. k-1). So reflector k may be built from column k of A as drawn, and Q
 * (H_0 .. H_{n-1} times the sign correction) has the same Haar distribution
 * (Stewart 1980, "The efficient generation of random orthogonal matrices
 * with an application to condition estimators", SIAM J. Numer. Anal. 17:403).
 * That skips dgeqrf's update of the trailing matrix, half of the work: dlarfg
 * per column (O(mn) in all), then dorgqr forms Q (2mn^2 - 2n^3/3 flops), in
 * double, as accurate as before (Q is a product of Householder reflections
 * either way). tests/test_orthogonal.c rebuilds this definition without
 * LAPACK; tests/test_torch.py compares the entries' distribution with
 * torch's orthogonal_.
 *
 * Differences from PyTorch, all deliberate:
 *   - The Gaussian is this tensor's own standard normal stream, the one
 *     NNINIT_NORMAL(0, 1) writes for its dtype family (f32 values for
 *     f32/bf16/f16 tensors, f64 for f64), widened to double, and reflectors
 *     come from it as above: the same distribution as torch's QR, in half
 *     the time (bench/).
 *   - Q is formed in double and each value is rounded once to the tensor's
 *     dtype, so bf16 and f16 work (PyTorch's geqrf has no half kernels:
 *     pytorch#9315, transformers#47225) and f32 results are orthogonal to
 *     f32 rounding, not to f32 QR accuracy.
 *   - Q's bits depend on LAPACK's dorgqr (its blocking and kernels); the
 *     Gaussian does not.
 */
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

/* Elements drawn from the stream per call: bounds the scratch buffer. */
#define ORTHO_CHUNK 4096

/* Draw the rows x cols Gaussian (element r*cols + c of the stream) into a, the
 * column-major m x n matrix that is factorized: the matrix itself when it is
 * tall (m = rows), its transpose when it is wide (m = cols). In both cases
 * element (r, c) goes to a[r + c*rows] (tall) or a[c + r*cols] = a[i] (wide). */
static nninit_status draw_gaussian(const nninit_tensor *t, int64_t rows, int64_t cols, const uint32_t key[2],
                                   double *a) {
    const int64_t numel = rows * cols;
    const int tall = rows >= cols;
    const int f64 = t->dtype == NNINIT_F64;
    const int64_t rows_per_chunk = cols >= ORTHO_CHUNK ? 1 : ORTHO_CHUNK / cols;
    const int64_t chunk = rows_per_chunk * cols;

    if (!tall && f64) { /* the stream's layout already is the wide case's */
        nninit__std_normal_f64(key, 0, numel, a);
        return NNINIT_OK;
    }
    void *scratch = malloc((size_t)chunk * (f64 ? sizeof(double) : sizeof(float)));
    if (!scratch)
        return nninit__err(NNINIT_ERR_NOMEM, "orthogonal: cannot allocate %lld-element scratch", (long long)chunk);
    for (int64_t r0 = 0; r0 < rows; r0 += rows_per_chunk) {
        const int64_t r1 = rows - r0 < rows_per_chunk ? rows : r0 + rows_per_chunk;
        const int64_t begin = r0 * cols, end = r1 * cols;
        if (f64) nninit__std_normal_f64(key, begin, end, (double *)scratch);
        else nninit__std_normal_f32(key, begin, end, (float *)scratch);
        for (int64_t r = r0; r < r1; r++) {
            for (int64_t c = 0; c < cols; c++) {
                const int64_t s = (r - r0) * cols + c;
                const double v = f64 ? ((const double *)scratch)[s] : (double)((const float *)scratch)[s];
                a[tall ? r + c * rows : r * cols + c] = v;
            }
        }
    }
    free(scratch);
    return NNINIT_OK;
}

static nninit_status lapack_status(const char *routine, lapack_int info) {
    if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
        return nninit__err(NNINIT_ERR_NOMEM, "orthogonal: %s could not allocate its workspace", routine);
    return nninit__err(NNINIT_ERR_LAPACK, "orthogonal: %s failed, info = %lld", routine, (long long)info);
}

nninit_status nninit__fill_orthogonal(const nninit_spec *spec, const nninit_tensor *t, int64_t numel,
                                      const uint32_t key[2], void *data) {
    if (t->ndim < 2) return nninit__err(NNINIT_ERR_DIMS, "orthogonal: needs at least 2 dims, got %d", t->ndim);
    const double gain = spec->gain;
    if (!isfinite(gain)) return nninit__err(NNINIT_ERR_PARAM, "orthogonal: gain (%g) must be finite", gain);

    const int64_t rows = t->shape[0], cols = numel / rows;
    const int64_t m = rows > cols ? rows : cols; /* factorize the tall orientation */
    const int64_t n = rows > cols ? cols : rows;
    const int64_t lapack_max = sizeof(lapack_int) >= 8 ? INT64_MAX : INT32_MAX;
    if (m > lapack_max)
        return nninit__err(NNINIT_ERR_LAPACK, "orthogonal: dimension %lld exceeds LAPACK's integer range",
                           (long long)m);
    if ((uint64_t)numel > SIZE_MAX / sizeof(double))
        return nninit__err(NNINIT_ERR_NOMEM, "orthogonal: %lld doubles do not fit in memory", (long long)numel);

    nninit_status st = NNINIT_OK;
    double *a = malloc((size_t)numel * sizeof(double)); /* m x n, column-major, lda = m */
    double *tau = malloc((size_t)n * 2 * sizeof(double));
    if (!a || !tau) {
        st = nninit__err(NNINIT_ERR_NOMEM, "orthogonal: cannot allocate a %lld x %lld workspace", (long long)m,
                         (long long)n);
        goto done;
    }
    double *sign = tau + n;

    st = draw_gaussian(t, rows, cols, key, a);
    if (st != NNINIT_OK) goto done;

    /* The reflectors straight from the Gaussian (Stewart 1980): Householder
     * vector k from column k's entries k .. m-1 as drawn, where dgeqrf would
     * use them after reflections 0 .. k-1 (same distribution: see the top). */
    for (int64_t k = 0; k < n; k++) {
        double *akk = a + k + k * m;
        lapack_int info = LAPACKE_dlarfg_work((lapack_int)(m - k), akk, akk + 1, 1, tau + k);
        if (info != 0) {
            st = lapack_status("dlarfg", info);
            goto done;
        }
        /* *akk is now beta = R[k][k]. PyTorch's sign() gives 0 for a zero
         * diagonal (zeroing a column of Q); we use +1 so Q stays orthogonal.
         * R[k][k] == 0 has probability zero. */
        sign[k] = *akk < 0 ? -1.0 : 1.0;
    }

    lapack_int info =
        LAPACKE_dorgqr(LAPACK_COL_MAJOR, (lapack_int)m, (lapack_int)n, (lapack_int)n, a, (lapack_int)m, tau);
    if (info != 0) {
        st = lapack_status("dorgqr", info);
        goto done;
    }

    /* Element (r, c) of the tensor is (Q D)[r][c] (tall) or (Q D)^T[r][c]
     * (wide), D = diag(sign); times gain in double, rounded once on store.
     * Tall reads Q across its columns: in 64 x 64 tiles, so that each tile's
     * columns stay in cache while its rows are written. */
    if (rows >= cols) {
        for (int64_t r0 = 0; r0 < rows; r0 += 64)
            for (int64_t c0 = 0; c0 < cols; c0 += 64) {
                const int64_t r1 = r0 + 64 < rows ? r0 + 64 : rows, c1 = c0 + 64 < cols ? c0 + 64 : cols;
                for (int64_t r = r0; r < r1; r++)
                    for (int64_t c = c0; c < c1; c++)
                        nninit__store_f64(t->dtype, data, r * cols + c, a[r + c * m] * sign[c] * gain);
            }
    } else {
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++)
                nninit__store_f64(t->dtype, data, r * cols + c, a[c + r * m] * sign[r] * gain);
    }

done:
    free(tau);
    free(a);
    return st;
}

/* gemm.h -- the engine's matrix product (internal, not installed).
 *
 * Every product of the engine's forward and backward (dense and conv, the
 * im2col, dW and dX paths of net.c and conv.c) is one nninit__sgemm call,
 * which runs OpenBLAS's cblas_sgemm or the reference product below,
 * whichever the calling thread's current matmul says. nninit_net_forward
 * and nninit_net_backward make their net's choice (nninit_net_set_matmul)
 * current for the call and put the previous one back, so nets on one thread
 * may differ; the conv and dense kernels themselves take no extra argument.
 *
 * The reference product exists for two reasons. OpenBLAS rounds output
 * columns differently (edge and interior micro-kernels sum in different
 * orders, and the kernel depends on the CPU), so identical columns of a
 * zero- or constant-initialized layer can drift apart on some machines and
 * not others. And a build without OpenBLAS (WebAssembly) needs a plain-C
 * product.
 */
#ifndef NNINIT_GEMM_H
#define NNINIT_GEMM_H

#include "nninit_nn.h"

/* op(X) = X or X^T, as CblasNoTrans / CblasTrans. */
typedef enum {
    NNINIT__NO_TRANS = 0,
    NNINIT__TRANS = 1
} nninit__trans;

/* C = alpha op(A) op(B) + beta C with cblas_sgemm's row-major semantics:
 * C is m x n (row i at c + i ldc), op(A) m x k, op(B) k x n; A is stored
 * m x k (lda >= k) or, transposed, k x m (lda >= m); B k x n (ldb >= n) or,
 * transposed, n x k (ldb >= k). beta == 0: C is not read (NaN there does
 * not propagate); alpha == 0: A and B are not read, C = beta C.
 *
 * The order, the same for every element whatever its row, column, block or
 * edge (gemm.c compiles with -ffp-contract=off: no fused multiply-add):
 *     s = 0;  for p = 0, 1, ..., k-1:  s = s + A(i,p) B(p,j)
 *     C(i,j) = alpha s                 (beta == 0)
 *     C(i,j) = alpha s + beta C(i,j)   (otherwise)
 * each product, sum and scaling rounded to float on its own. So two output
 * columns j, j' whose columns of op(B) are equal are equal bit for bit, and
 * so are rows of equal rows of op(A); and the bits are the same on every
 * compiler and machine with IEEE single precision (the engine's alpha is 1:
 * alpha s = s exactly). Single-threaded; never allocates (about 32 KB of
 * stack). */
void nninit__sgemm_ref(nninit__trans ta, nninit__trans tb, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc);

/* The same product by the calling thread's current matmul: cblas_sgemm for
 * NNINIT_MATMUL_BLAS (the default), nninit__sgemm_ref for _REFERENCE. */
void nninit__sgemm(nninit__trans ta, nninit__trans tb, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc);

/* Make m the calling thread's current matmul; returns the previous one. */
nninit_matmul nninit__matmul_use(nninit_matmul m);

#endif

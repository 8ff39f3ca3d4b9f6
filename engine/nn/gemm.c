/* gemm.c -- the reference matrix product, and the switch between it and
 * OpenBLAS (gemm.h says what each computes, and the order of the reference).
 *
 * Exactness. This file is compiled with -ffp-contract=off (CMakeLists.txt,
 * on this file as well as the whole build): clang would otherwise fuse
 * s + a*b into one fma where gcc does not, and the bits would depend on the
 * compiler. No -ffast-math, so nothing is reassociated either.
 *
 * Blocking. C is computed in blocks of MC x NC, each over the whole of k in
 * panels of KC steps. For a block, op(A)'s rows and op(B)'s columns are
 * copied ("packed") panel by panel into small stack buffers: whatever the
 * transposes, the kernel then reads A as MR values per step and B as NR
 * contiguous values per step, and rows and columns past the edge of C are
 * zeros, so edge tiles run the very same kernel as interior ones (their
 * extra rows and columns are computed and dropped). The running sums of a
 * block live in acc between panels, and go into C, scaled, once k is done.
 *
 * The kernel keeps an MR x NR tile of sums in registers and adds, for each
 * step p in order, A(i,p) B(p,j) to every element (i,j) of it. Its inner
 * loop runs over the NR columns, so the compiler turns it into vector
 * multiplies and adds, each lane one element of C: vectorizing over j
 * changes no element's sequence of roundings.
 */
#include <cblas.h>
#include <string.h>

#include "gemm.h"

/* 4 x 8 sums are 8 of x86-64's 16 SSE registers, with room for B's two
 * vectors and A's broadcast: the largest tile that gcc 12 and clang 14 both
 * keep in registers (6 x 8 and 4 x 16 spill on one or the other and run
 * 2-5x slower). A block's panels, 8 + 16 KB, and its sums, 8 KB, stay in L1. */
#define MR 4  /* rows of the register tile */
#define NR 8  /* columns of the register tile: two SSE vectors */
#define MC 32 /* rows of a block of C (a multiple of MR) */
#define NC 64 /* columns of a block of C (a multiple of NR) */
#define KC 64 /* steps of k per packed panel */

/* The tile at acc (rows ld floats apart) += ap (kc steps of MR values) bp
 * (kc steps of NR values). */
static void kernel(int kc, const float *ap, const float *bp, float *acc, int ld) {
    float s[MR][NR];
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < NR; j++) s[r][j] = acc[r * ld + j];
    for (int p = 0; p < kc; p++) {
        const float *a = ap + p * MR, *b = bp + p * NR;
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++) s[r][j] = s[r][j] + a[r] * b[j];
    }
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < NR; j++) acc[r * ld + j] = s[r][j];
}

/* op(A) rows [i0, i0 + mc), steps [p0, p0 + kc) into ap: MR-row panels, each
 * kc steps of MR values; rows past mc are zero. */
static void pack_a(nninit__trans ta, const float *a, int lda, int i0, int mc, int p0, int kc, float *ap) {
    for (int q = 0; q < mc; q += MR, ap += kc * MR)
        for (int r = 0; r < MR; r++) {
            if (q + r >= mc) {
                for (int p = 0; p < kc; p++) ap[p * MR + r] = 0.0f;
                continue;
            }
            const size_t i = (size_t)(i0 + q + r);
            for (int p = 0; p < kc; p++) {
                const size_t kp = (size_t)(p0 + p);
                ap[p * MR + r] = ta ? a[kp * lda + i] : a[i * lda + kp];
            }
        }
}

/* op(B) steps [p0, p0 + kc), columns [j0, j0 + nc) into bp: NR-column
 * panels, each kc steps of NR values; columns past nc are zero. */
static void pack_b(nninit__trans tb, const float *b, int ldb, int p0, int kc, int j0, int nc, float *bp) {
    for (int q = 0; q < nc; q += NR, bp += kc * NR)
        for (int p = 0; p < kc; p++) {
            const size_t kp = (size_t)(p0 + p);
            for (int j = 0; j < NR; j++) {
                const size_t jj = (size_t)(j0 + q + j);
                bp[p * NR + j] = q + j >= nc ? 0.0f : tb ? b[jj * ldb + kp] : b[kp * ldb + jj];
            }
        }
}

void nninit__sgemm_ref(nninit__trans ta, nninit__trans tb, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    if (alpha == 0.0f) { /* as cblas: A and B are not read */
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[(size_t)i * ldc + j];
        return;
    }
    float ap[KC * MC], bp[KC * NC], acc[MC * NC];
    for (int j0 = 0; j0 < n; j0 += NC) {
        const int nc = n - j0 < NC ? n - j0 : NC;
        for (int i0 = 0; i0 < m; i0 += MC) {
            const int mc = m - i0 < MC ? m - i0 : MC;
            memset(acc, 0, sizeof acc);
            for (int p0 = 0; p0 < k; p0 += KC) {
                const int kc = k - p0 < KC ? k - p0 : KC;
                pack_a(ta, a, lda, i0, mc, p0, kc, ap);
                pack_b(tb, b, ldb, p0, kc, j0, nc, bp);
                for (int i = 0; i < mc; i += MR)
                    for (int j = 0; j < nc; j += NR) kernel(kc, ap + i * kc, bp + j * kc, acc + i * NC + j, NC);
            }
            for (int i = 0; i < mc; i++) {
                float *ci = c + (size_t)(i0 + i) * ldc + j0;
                const float *s = acc + i * NC;
                if (beta == 0.0f)
                    for (int j = 0; j < nc; j++) ci[j] = alpha * s[j];
                else
                    for (int j = 0; j < nc; j++) ci[j] = alpha * s[j] + beta * ci[j];
            }
        }
    }
}

/* The calling thread's current matmul (gemm.h). Thread-local so that nets
 * used on different threads at once do not see each other's choice. */
static _Thread_local nninit_matmul current = NNINIT_MATMUL_BLAS;

nninit_matmul nninit__matmul_use(nninit_matmul m) {
    nninit_matmul prev = current;
    current = m;
    return prev;
}

void nninit__sgemm(nninit__trans ta, nninit__trans tb, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc) {
    if (current == NNINIT_MATMUL_REFERENCE) {
        nninit__sgemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda,
                b, ldb, beta, c, ldc);
}

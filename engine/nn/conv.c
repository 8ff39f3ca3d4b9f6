/* conv.c -- conv2d forward and backward by im2col + sgemm, a few examples
 * per product.
 *
 * For an example x (c, h, w), im2col lays out the receptive fields as a
 * (c kh kw) x (oh ow) matrix: row (ci, ki, kj), column (oy, ox) holds
 * x[ci][oy*stride - ph + ki][ox*stride - pw + kj], 0 outside the image.
 * A chunk of m examples sits side by side: col is (c kh kw) x (m oh ow),
 * example j in columns [j oh ow, (j+1) oh ow). Because the weight is
 * (o, c/groups, kh, kw) row-major, group g's weight rows and col rows are
 * both contiguous blocks, so each group is one sgemm per chunk:
 *     y_g (o/G, m oh ow) = W_g (o/G, K) col_g (K, m oh ow),  K = (c/G) kh kw
 * y comes out channel-major over the chunk and is copied example-major into
 * the output, adding the bias on the way (one example: the sgemm writes y
 * itself, adding onto the bias, as torch.addmm).
 *
 * Backward, stride 1 (every 'same' conv): the input gradient is itself a
 * convolution, of dy with the flipped, transposed weight
 *     W'[ci][(o, ki', kj')] = W[o][ci][kh-1-ki'][kw-1-kj'],
 * padding kh-1-ph, kw-1-pw; so one im2col of dy, col' (o kh kw, m h w),
 * gives both products of the chunk:
 *     dx_g (c/G, m h w) = W'_g col'_g                       (K = (o/G) kh kw)
 *     dW'^T_g ((o/G) kh kw, c/G) += col'_g x_g^T            (K = m h w)
 * with x_g the chunk's input channel-major, and dW is dW'^T flipped back
 * once per batch. No col2im (a scatter-add of a matrix kh kw times the
 * input) and no second im2col of x. Otherwise (stride > 1, or no input
 * gradient wanted, as for the first layer): dW^T_g += col_g dy_g^T and, for
 * dx, dcol_g = W_g^T dy_g, and col2im adds dcol back onto the pixels each
 * column was read from. dW is accumulated transposed because OpenBLAS runs
 * the shape (K, o/G, inner m oh ow) faster than (o/G, K, ...) for small o
 * (144 x 16 x 784: 83 GFLOP/s on one core here, 16 x 144 x 784: 66).
 *
 * Chunk size: about CHUNK_COLS output columns per product, at least one
 * example: one 28x28 example (784 columns), five of 14x14, twenty of 7x7.
 * Per example, a 16 -> 16 3x3 product on 28x28 (16 x 784 x 144) already
 * runs near the square sgemm's rate, and its col (450 KB) is still in L2
 * when the sgemm reads it; small planes need several examples per product
 * (16 x 49 x 144 is mostly call overhead), but a col much beyond L2 is
 * written to and read back from memory: a whole-batch im2col (116 MB at
 * batch 256) runs the product at a fraction of the rate (bench/bench_conv.c
 * measures both). With one example the kernels read x, dy and write y, dx in
 * place; with several, the chunk's y, dx, x or dy is copied between the
 * example-major tensors and the channel-major chunk. The workspace is sized
 * once by nninit__conv_ws_size and comes from the network's block.
 *
 * im2col and col2im work on spans: for each kernel offset the output
 * columns whose input column lies inside the image are one interval, so the
 * inner loops are plain copies / adds with no test per element; when
 * stride is 1 and ow == w a whole plane is one memcpy, then the columns that
 * fell outside the image are zeroed.
 */
#include <string.h>

#include "gemm.h"
#include "nn_internal.h"

/* Output columns (examples x oh ow) a chunk aims at; at least one example. */
#define CHUNK_COLS 1024

static int is_pointwise(const nninit__conv_geom *g) {
    return g->kh == 1 && g->kw == 1 && g->stride == 1 && g->ph == 0 && g->pw == 0;
}

/* Backward as a convolution of dy (stride 1, an input gradient wanted). */
static int transposed_backward(const nninit__conv_geom *g) { return g->stride == 1 && !is_pointwise(g); }

/* The convolution that maps dy (o, oh, ow) to dx (c, h, w) when stride is 1. */
static nninit__conv_geom transposed_geom(const nninit__conv_geom *g) {
    nninit__conv_geom t = {g->o,      g->oh, g->ow, g->c, g->kh, g->kw, 1, g->kh - 1 - g->ph, g->kw - 1 - g->pw,
                           g->groups, g->h,  g->w};
    return t;
}

/* Examples per chunk: CHUNK_COLS over the larger of the input and output planes. */
static int chunk_examples(const nninit__conv_geom *g) {
    size_t plane = (size_t)g->oh * g->ow, in = (size_t)g->h * g->w;
    if (in > plane) plane = in;
    size_t m = plane ? CHUNK_COLS / plane : 1;
    return m < 1 ? 1 : (int)m;
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Rows of the im2col matrix of g times m examples' columns. */
static size_t col_floats(const nninit__conv_geom *g, size_t m) {
    return (size_t)g->c * (size_t)g->kh * (size_t)g->kw * (size_t)g->oh * (size_t)g->ow * m;
}

static size_t weight_floats(const nninit__conv_geom *g) {
    return (size_t)g->o * (size_t)(g->c / g->groups) * (size_t)g->kh * (size_t)g->kw;
}

/* Floats of a chunk's copy of n floats per example: none when a chunk is
 * one example, which the kernels read and write in place. */
static size_t chunk_copy(size_t n, int chunk) { return chunk > 1 ? round16(n * (size_t)chunk) : 0; }

/* Workspace layout, for a chunk of m examples (a pointwise conv has no col):
 *   forward:                col (c kh kw, m oh ow), yc (o, m oh ow)
 *   backward, stride 1, dx: col' (o kh kw, m h w), xc (c, m h w), dxc (c, m h w), W', dW'^T
 *   backward, otherwise:    col, dyc (o, m oh ow), dcol (as col; with dx), dW^T */
size_t nninit__conv_ws_size(const nninit__conv_geom *g) {
    const int chunk = chunk_examples(g);
    const size_t m = (size_t)chunk, nw = round16(weight_floats(g));
    const size_t col = is_pointwise(g) ? 0 : round16(col_floats(g, m));
    const size_t out = chunk_copy((size_t)g->o * g->oh * g->ow, chunk);
    const size_t in = chunk_copy((size_t)g->c * g->h * g->w, chunk);
    size_t need = col + out, bwd = 2 * col + out + nw;
    if (bwd > need) need = bwd;
    if (transposed_backward(g)) {
        nninit__conv_geom t = transposed_geom(g);
        size_t tb = round16(col_floats(&t, m)) + 2 * in + 2 * nw;
        if (tb > need) need = tb;
    }
    return need;
}

/* Outputs i in [*lo, *hi) of n_out read input i*stride + off inside [0, n_in). */
static void span(int n_out, int stride, int off, int n_in, int *lo, int *hi) {
    long l = off >= 0 ? 0 : ((long)-off + stride - 1) / stride;
    long h = (long)n_in - off <= 0 ? 0 : ((long)n_in - off + stride - 1) / stride;
    if (h > n_out) h = n_out;
    if (l > h) l = h;
    *lo = (int)l, *hi = (int)h;
}

/* One example's im2col into col, whose rows are ld floats apart. */
static void im2col(const nninit__conv_geom *g, const float *x, float *col, size_t ld) {
    const int ow = g->ow, oh = g->oh, s = g->stride;
    const size_t ohw = (size_t)oh * ow;
    const int flat = s == 1 && ow == g->w; /* output rows and input rows have one pitch */
    for (int c = 0; c < g->c; c++) {
        const float *xc = x + (size_t)c * g->h * g->w;
        for (int ki = 0; ki < g->kh; ki++) {
            int ylo, yhi;
            span(oh, s, ki - g->ph, g->h, &ylo, &yhi);
            for (int kj = 0; kj < g->kw; kj++) {
                float *row = col + ((size_t)(c * g->kh + ki) * g->kw + kj) * ld;
                const int off = kj - g->pw;
                int xlo, xhi;
                span(ow, s, off, g->w, &xlo, &xhi);
                if (ylo >= yhi || xlo >= xhi) {
                    memset(row, 0, ohw * sizeof *row);
                    continue;
                }
                memset(row, 0, (size_t)ylo * ow * sizeof *row);
                memset(row + (size_t)yhi * ow, 0, (size_t)(oh - yhi) * ow * sizeof *row);
                if (flat) {
                    /* col[oy ow + ox] = x[(oy + ki - ph) w + ox + off]: one shift for the whole plane.
                     * Copy from the first valid element to the last, then zero the columns that
                     * wrapped onto a neighbouring input row. */
                    float *r = row + (size_t)ylo * ow;
                    const ptrdiff_t first = (ptrdiff_t)(ylo + ki - g->ph) * g->w + off + xlo; /* >= 0 */
                    size_t n = (size_t)(yhi - ylo - 1) * ow + (size_t)xhi - (size_t)xlo;
                    memcpy(r + xlo, xc + first, n * sizeof *r);
                    /* column by column, strided: a row-wise loop of one or two stores
                     * would become a memset call per row */
                    for (int ox = 0; ox < ow; ox++) {
                        if (ox == xlo) ox = xhi;
                        if (ox >= ow) break;
                        for (int oy = ylo; oy < yhi; oy++) r[(size_t)(oy - ylo) * ow + ox] = 0.0f;
                    }
                    continue;
                }
                for (int oy = ylo; oy < yhi; oy++) {
                    float *r = row + (size_t)oy * ow;
                    /* the input row's element for output column xlo (inside the row) */
                    const float *xr = xc + (ptrdiff_t)(oy * s - g->ph + ki) * g->w + ((ptrdiff_t)xlo * s + off);
                    for (int ox = 0; ox < xlo; ox++) r[ox] = 0.0f;
                    if (s == 1) memcpy(r + xlo, xr, (size_t)(xhi - xlo) * sizeof *r);
                    else
                        for (int ox = xlo; ox < xhi; ox++) r[ox] = xr[(ptrdiff_t)(ox - xlo) * s];
                    for (int ox = xhi; ox < ow; ox++) r[ox] = 0.0f;
                }
            }
        }
    }
}

/* dx += the transpose of im2col applied to dcol (rows ld floats apart). */
static void col2im(const nninit__conv_geom *g, const float *dcol, size_t ld, float *dx) {
    const int ow = g->ow, oh = g->oh, s = g->stride;
    for (int c = 0; c < g->c; c++) {
        float *dxc = dx + (size_t)c * g->h * g->w;
        for (int ki = 0; ki < g->kh; ki++) {
            int ylo, yhi;
            span(oh, s, ki - g->ph, g->h, &ylo, &yhi);
            for (int kj = 0; kj < g->kw; kj++) {
                const float *row = dcol + ((size_t)(c * g->kh + ki) * g->kw + kj) * ld;
                const int off = kj - g->pw;
                int xlo, xhi;
                span(ow, s, off, g->w, &xlo, &xhi);
                for (int oy = ylo; oy < yhi; oy++) {
                    const float *r = row + (size_t)oy * ow;
                    if (xlo >= xhi) continue;
                    float *dxr = dxc + (ptrdiff_t)(oy * s - g->ph + ki) * g->w + ((ptrdiff_t)xlo * s + off);
                    if (s == 1)
                        for (int ox = xlo; ox < xhi; ox++) dxr[ox - xlo] += r[ox];
                    else
                        for (int ox = xlo; ox < xhi; ox++) dxr[(ptrdiff_t)(ox - xlo) * s] += r[ox];
                }
            }
        }
    }
}

/* Example j of a chunk, channel-major: dst[r][j n + i] = src[r][i], rows of n. */
static void to_chunk(int rows, size_t n, const float *src, float *dst, size_t ld) {
    for (int r = 0; r < rows; r++) memcpy(dst + (size_t)r * ld, src + (size_t)r * n, n * sizeof *dst);
}

/* db[o] += sum of dy's row o (n values), in 16 interleaved partial sums. */
static void add_row_sums(int rows, size_t n, const float *dy, float *db) {
    for (int o = 0; o < rows; o++) {
        const float *d = dy + (size_t)o * n;
        float acc[16] = {0};
        size_t p = 0;
        for (; p + 16 <= n; p += 16)
            for (int j = 0; j < 16; j++) acc[j] += d[p + j];
        for (int j = 0; p < n; p++, j++) acc[j] += d[p];
        for (int w = 8; w >= 1; w /= 2)
            for (int j = 0; j < w; j++) acc[j] += acc[j + w];
        db[o] += acc[0];
    }
}

void nninit__conv_forward(const nninit__conv_geom *g, int batch, const float *x, const float *w, const float *b,
                          float *y, float *ws) {
    const int og = g->o / g->groups, k = g->c / g->groups * g->kh * g->kw, ohw = g->oh * g->ow;
    const size_t in_size = (size_t)g->c * g->h * g->w, out_size = (size_t)g->o * ohw;
    if (is_pointwise(g)) { /* the input is its own col: per example, the bias under the sgemm */
        for (int n = 0; n < batch; n++) {
            float *yn = y + n * out_size;
            for (int o = 0; o < g->o; o++)
                for (int p = 0; p < ohw; p++) yn[(size_t)o * ohw + p] = b[o];
            for (int gi = 0; gi < g->groups; gi++)
                nninit__sgemm(NNINIT__NO_TRANS, NNINIT__NO_TRANS, og, ohw, k, 1.0f, w + (size_t)gi * og * k, k,
                              x + n * in_size + (size_t)gi * k * ohw, ohw, 1.0f, yn + (size_t)gi * og * ohw, ohw);
        }
        return;
    }
    const int chunk = chunk_examples(g);
    float *col = ws, *yc = ws + round16(col_floats(g, (size_t)chunk));
    for (int n0 = 0; n0 < batch; n0 += chunk) {
        const int m = batch - n0 < chunk ? batch - n0 : chunk;
        const size_t ld = (size_t)m * ohw;
        for (int j = 0; j < m; j++) im2col(g, x + (n0 + j) * in_size, col + (size_t)j * ohw, ld);
        float *dst = m == 1 ? y + n0 * out_size : yc; /* one example: straight into y, onto the bias */
        if (m == 1)
            for (int o = 0; o < g->o; o++)
                for (int p = 0; p < ohw; p++) dst[(size_t)o * ohw + p] = b[o];
        for (int gi = 0; gi < g->groups; gi++)
            nninit__sgemm(NNINIT__NO_TRANS, NNINIT__NO_TRANS, og, (int)ld, k, 1.0f, w + (size_t)gi * og * k, k,
                          col + (size_t)gi * k * ld, ld, m == 1 ? 1.0f : 0.0f, dst + (size_t)gi * og * ld, ld);
        for (int j = 0; j < m && m > 1; j++)
            for (int o = 0; o < g->o; o++) {
                float *yo = y + (n0 + j) * out_size + (size_t)o * ohw;
                const float *src = yc + (size_t)o * ld + (size_t)j * ohw, bo = b[o];
                for (int p = 0; p < ohw; p++) yo[p] = src[p] + bo;
            }
    }
}

/* Stride-1 backward with an input gradient: see the top of the file. */
static void backward_transposed(const nninit__conv_geom *g, int batch, const float *x, const float *w, const float *dy,
                                float *dw, float *db, float *dx, int accumulate, float *ws) {
    const nninit__conv_geom t = transposed_geom(g);
    const int og = g->o / g->groups, cg = g->c / g->groups, khw = g->kh * g->kw;
    const int kt = og * khw; /* inner dimension of dx_g = W'_g col'_g */
    const int hw = g->h * g->w, ohw = g->oh * g->ow, chunk = chunk_examples(g);
    const size_t in_size = (size_t)g->c * hw, out_size = (size_t)g->o * ohw, wg = (size_t)kt * cg;
    const size_t in_chunk = chunk_copy(in_size, chunk);
    float *colt = ws, *xc = colt + round16(col_floats(&t, (size_t)chunk)), *dxc = xc + in_chunk;
    float *wt = dxc + in_chunk, *dwt = wt + round16(weight_floats(g));
    /* W'[gi][ci][o][ki'][kj'] = W[gi og + o][ci][kh-1-ki'][kw-1-kj'] */
    for (int gi = 0; gi < g->groups; gi++)
        for (int ci = 0; ci < cg; ci++)
            for (int o = 0; o < og; o++) {
                const float *src = w + ((size_t)(gi * og + o) * cg + ci) * khw;
                float *dst = wt + ((size_t)(gi * cg + ci) * og + o) * khw;
                for (int q = 0; q < khw; q++) dst[q] = src[khw - 1 - q];
            }
    memset(db, 0, (size_t)g->o * sizeof *db);
    for (int n0 = 0; n0 < batch; n0 += chunk) {
        const int m = batch - n0 < chunk ? batch - n0 : chunk;
        const size_t ld = (size_t)m * hw;
        /* one example: x and dx in place */
        const float *xs = m == 1 ? x + n0 * in_size : xc;
        float *dxs = m == 1 ? dx + n0 * in_size : dxc;
        for (int j = 0; j < m; j++) {
            const float *dyn = dy + (n0 + j) * out_size;
            add_row_sums(g->o, (size_t)ohw, dyn, db);
            im2col(&t, dyn, colt + (size_t)j * hw, ld);
            if (m > 1) to_chunk(g->c, (size_t)hw, x + (n0 + j) * in_size, xc + (size_t)j * hw, ld);
        }
        for (int gi = 0; gi < g->groups; gi++) {
            const float *cgi = colt + (size_t)gi * kt * ld;
            nninit__sgemm(NNINIT__NO_TRANS, NNINIT__TRANS, kt, cg, (int)ld, 1.0f, cgi, ld, xs + (size_t)gi * cg * ld,
                          ld, n0 ? 1.0f : 0.0f, dwt + gi * wg, cg);
            nninit__sgemm(NNINIT__NO_TRANS, NNINIT__NO_TRANS, cg, (int)ld, kt, 1.0f, wt + gi * wg, kt, cgi, ld,
                          m == 1 && accumulate ? 1.0f : 0.0f, dxs + (size_t)gi * cg * ld, ld);
        }
        for (int j = 0; j < m && m > 1; j++)
            for (int c = 0; c < g->c; c++) {
                float *d = dx + (n0 + j) * in_size + (size_t)c * hw;
                const float *src = dxc + (size_t)c * ld + (size_t)j * hw;
                if (accumulate)
                    for (int q = 0; q < hw; q++) d[q] += src[q];
                else memcpy(d, src, (size_t)hw * sizeof *d);
            }
    }
    /* dW[gi og + o][ci][q] = dW'^T[gi][o khw + khw-1-q][ci] */
    for (int gi = 0; gi < g->groups; gi++)
        for (int o = 0; o < og; o++)
            for (int ci = 0; ci < cg; ci++) {
                const float *src = dwt + gi * wg + ((size_t)o * khw + khw - 1) * cg + ci;
                float *dst = dw + ((size_t)(gi * og + o) * cg + ci) * khw;
                for (int q = 0; q < khw; q++) dst[q] = src[-(ptrdiff_t)q * cg];
            }
}

void nninit__conv_backward(const nninit__conv_geom *g, int batch, const float *x, const float *w, const float *dy,
                           float *dw, float *db, float *dx, int accumulate, float *ws) {
    if (dx && transposed_backward(g)) {
        backward_transposed(g, batch, x, w, dy, dw, db, dx, accumulate, ws);
        return;
    }
    const int og = g->o / g->groups, k = g->c / g->groups * g->kh * g->kw, ohw = g->oh * g->ow;
    const size_t in_size = (size_t)g->c * g->h * g->w, out_size = (size_t)g->o * ohw, wg = (size_t)k * og;
    const int pointwise = is_pointwise(g), chunk = pointwise ? 1 : chunk_examples(g);
    const size_t ncol = pointwise ? 0 : round16(col_floats(g, (size_t)chunk));
    float *col = ws, *dyc = col + ncol, *dcol = dyc + chunk_copy(out_size, chunk), *dwt = dcol + ncol;
    memset(db, 0, (size_t)g->o * sizeof *db);
    for (int n0 = 0; n0 < batch; n0 += chunk) {
        const int m = batch - n0 < chunk ? batch - n0 : chunk;
        const size_t ld = (size_t)m * ohw;
        const float *cc = x + n0 * in_size, *dc = dy + n0 * out_size; /* pointwise: one example, in place */
        for (int j = 0; j < m && !pointwise; j++) {
            const float *dyn = dy + (n0 + j) * out_size;
            im2col(g, x + (n0 + j) * in_size, col + (size_t)j * ohw, ld);
            if (m > 1) to_chunk(g->o, (size_t)ohw, dyn, dyc + (size_t)j * ohw, ld);
            cc = col, dc = m > 1 ? dyc : dyn;
        }
        for (int j = 0; j < m; j++) add_row_sums(g->o, (size_t)ohw, dy + (n0 + j) * out_size, db);
        for (int gi = 0; gi < g->groups; gi++)
            nninit__sgemm(NNINIT__NO_TRANS, NNINIT__TRANS, k, og, (int)ld, 1.0f, cc + (size_t)gi * k * ld, ld,
                          dc + (size_t)gi * og * ld, ld, n0 ? 1.0f : 0.0f, dwt + gi * wg, og);
        if (!dx) continue;
        if (pointwise) { /* dcol is dx itself */
            float *dxn = dx + n0 * in_size;
            for (int gi = 0; gi < g->groups; gi++)
                nninit__sgemm(NNINIT__TRANS, NNINIT__NO_TRANS, k, ohw, og, 1.0f, w + (size_t)gi * og * k, k,
                              dc + (size_t)gi * og * ohw, ohw, accumulate ? 1.0f : 0.0f, dxn + (size_t)gi * k * ohw,
                              ohw);
            continue;
        }
        for (int gi = 0; gi < g->groups; gi++)
            nninit__sgemm(NNINIT__TRANS, NNINIT__NO_TRANS, k, (int)ld, og, 1.0f, w + (size_t)gi * og * k, k,
                          dc + (size_t)gi * og * ld, ld, 0.0f, dcol + (size_t)gi * k * ld, ld);
        for (int j = 0; j < m; j++) {
            float *dxn = dx + (n0 + j) * in_size;
            if (!accumulate) memset(dxn, 0, in_size * sizeof *dxn);
            col2im(g, dcol + (size_t)j * ohw, ld, dxn);
        }
    }
    /* dW[gi og + o][j] = dW^T[gi][j][o] */
    for (int gi = 0; gi < g->groups; gi++)
        for (int o = 0; o < og; o++)
            for (int j = 0; j < k; j++) dw[(size_t)(gi * og + o) * k + j] = dwt[gi * wg + (size_t)j * og + o];
}

/* conv.c -- conv2d forward and backward by im2col + sgemm, one example at a time.
 *
 * For an example x (c, h, w), im2col lays out the receptive fields as a
 * (c kh kw) x (oh ow) matrix: row (ci, ki, kj), column (oy, ox) holds
 * x[ci][oy*stride - ph + ki][ox*stride - pw + kj], 0 outside the image.
 * Because the weight is (o, c/groups, kh, kw) row-major, group g's weight
 * rows and col rows are both contiguous blocks, so each group is one sgemm:
 *     y_g (o/G, oh ow) = W_g (o/G, K) col_g (K, oh ow),  K = (c/G) kh kw
 * Backward: dW_g += dy_g col_g^T, dcol_g = W_g^T dy_g, and col2im adds dcol
 * back onto the pixels each column was read from.
 */
#include <cblas.h>
#include <string.h>

#include "nn_internal.h"

static int is_pointwise(const nninit__conv_geom *g) {
    return g->kh == 1 && g->kw == 1 && g->stride == 1 && g->ph == 0 && g->pw == 0;
}

size_t nninit__conv_col_size(const nninit__conv_geom *g) {
    if (is_pointwise(g)) return 0;
    return (size_t)g->c * (size_t)g->kh * (size_t)g->kw * (size_t)g->oh * (size_t)g->ow;
}

static void im2col(const nninit__conv_geom *g, const float *x, float *col) {
    const int ohw = g->oh * g->ow;
    for (int c = 0; c < g->c; c++) {
        const float *xc = x + (size_t)c * g->h * g->w;
        for (int ki = 0; ki < g->kh; ki++)
            for (int kj = 0; kj < g->kw; kj++) {
                float *row = col + ((size_t)(c * g->kh + ki) * g->kw + kj) * ohw;
                for (int oy = 0; oy < g->oh; oy++) {
                    float *r = row + (size_t)oy * g->ow;
                    int iy = oy * g->stride - g->ph + ki;
                    if (iy < 0 || iy >= g->h) {
                        memset(r, 0, (size_t)g->ow * sizeof *r);
                        continue;
                    }
                    const float *xr = xc + (size_t)iy * g->w;
                    for (int ox = 0; ox < g->ow; ox++) {
                        int ix = ox * g->stride - g->pw + kj;
                        r[ox] = (ix >= 0 && ix < g->w) ? xr[ix] : 0.0f;
                    }
                }
            }
    }
}

/* dx += the transpose of im2col applied to dcol. */
static void col2im(const nninit__conv_geom *g, const float *dcol, float *dx) {
    const int ohw = g->oh * g->ow;
    for (int c = 0; c < g->c; c++) {
        float *dxc = dx + (size_t)c * g->h * g->w;
        for (int ki = 0; ki < g->kh; ki++)
            for (int kj = 0; kj < g->kw; kj++) {
                const float *row = dcol + ((size_t)(c * g->kh + ki) * g->kw + kj) * ohw;
                for (int oy = 0; oy < g->oh; oy++) {
                    int iy = oy * g->stride - g->ph + ki;
                    if (iy < 0 || iy >= g->h) continue;
                    const float *r = row + (size_t)oy * g->ow;
                    float *dxr = dxc + (size_t)iy * g->w;
                    for (int ox = 0; ox < g->ow; ox++) {
                        int ix = ox * g->stride - g->pw + kj;
                        if (ix >= 0 && ix < g->w) dxr[ix] += r[ox];
                    }
                }
            }
    }
}

void nninit__conv_forward(const nninit__conv_geom *g, int batch, const float *x, const float *w, const float *b,
                          float *y, float *col) {
    const int og = g->o / g->groups, k = g->c / g->groups * g->kh * g->kw, ohw = g->oh * g->ow;
    const size_t in_size = (size_t)g->c * g->h * g->w, out_size = (size_t)g->o * ohw;
    for (int n = 0; n < batch; n++) {
        const float *xn = x + n * in_size;
        float *yn = y + n * out_size;
        const float *cn = xn;
        if (!is_pointwise(g)) {
            im2col(g, xn, col);
            cn = col;
        }
        for (int gi = 0; gi < g->groups; gi++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, og, ohw, k, 1.0f, w + (size_t)gi * og * k, k,
                        cn + (size_t)gi * k * ohw, ohw, 0.0f, yn + (size_t)gi * og * ohw, ohw);
        for (int o = 0; o < g->o; o++) {
            float *yo = yn + (size_t)o * ohw;
            for (int p = 0; p < ohw; p++) yo[p] += b[o];
        }
    }
}

void nninit__conv_backward(const nninit__conv_geom *g, int batch, const float *x, const float *w, const float *dy,
                           float *dw, float *db, float *dx, int accumulate, float *col, float *dcol) {
    const int og = g->o / g->groups, k = g->c / g->groups * g->kh * g->kw, ohw = g->oh * g->ow;
    const size_t in_size = (size_t)g->c * g->h * g->w, out_size = (size_t)g->o * ohw;
    const int pointwise = is_pointwise(g);
    memset(db, 0, (size_t)g->o * sizeof *db);
    for (int n = 0; n < batch; n++) {
        const float *xn = x + n * in_size, *dyn = dy + n * out_size;
        const float *cn = xn;
        if (!pointwise) {
            im2col(g, xn, col);
            cn = col;
        }
        for (int gi = 0; gi < g->groups; gi++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, og, k, ohw, 1.0f, dyn + (size_t)gi * og * ohw, ohw,
                        cn + (size_t)gi * k * ohw, ohw, n ? 1.0f : 0.0f, dw + (size_t)gi * og * k, k);
        for (int o = 0; o < g->o; o++) {
            const float *d = dyn + (size_t)o * ohw;
            float s = 0.0f;
            for (int p = 0; p < ohw; p++) s += d[p];
            db[o] += s;
        }
        if (!dx) continue;
        float *dxn = dx + n * in_size;
        if (pointwise) { /* dcol is dx itself */
            for (int gi = 0; gi < g->groups; gi++)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, ohw, og, 1.0f, w + (size_t)gi * og * k, k,
                            dyn + (size_t)gi * og * ohw, ohw, accumulate ? 1.0f : 0.0f, dxn + (size_t)gi * k * ohw,
                            ohw);
            continue;
        }
        for (int gi = 0; gi < g->groups; gi++)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, ohw, og, 1.0f, w + (size_t)gi * og * k, k,
                        dyn + (size_t)gi * og * ohw, ohw, 0.0f, dcol + (size_t)gi * k * ohw, ohw);
        if (!accumulate) memset(dxn, 0, in_size * sizeof *dxn);
        col2im(g, dcol, dxn);
    }
}

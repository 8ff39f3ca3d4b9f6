/*
 * bench_conv.c -- conv2d forward/backward of the engine against the machine's
 * sgemm rate, and a correctness check of the conv kernels.
 *
 *   bench_conv [--reps N] [--batch B] [--arch TEXT] [--only sgemm|kernel|net] [--json]
 *   bench_conv --check
 *
 * Timings (best of N after one warm-up, CLOCK_MONOTONIC):
 *   sgemm      one cblas_sgemm call on a large square product (2048^3) and on
 *              the conv's own shapes (one example; all 256 at once), so the
 *              conv rates below have a ceiling measured in the same run;
 *   kernel     nninit__conv_forward and nninit__conv_backward (dW, db, dx) of
 *              one 16 -> 16 3x3 p1 conv on 16x28x28 over the batch, of the
 *              first layer 1 -> 16 (backward without dx, as in a network),
 *              and of a 64 -> 64 3x3 p1 conv on 7x7 planes;
 *   net        nninit_net_forward + loss + backward of --arch (default the
 *              probe's 1x28x28 -> conv 16 3x3 p1 relu -> [conv 16 3x3 p1 relu]
 *              x8 -> flatten -> dense 10), everything the engine does per SGD
 *              step except the update.
 * GFLOP/s counts 2 M N K per product: forward (y = W col), dW (dy col^T) and
 * dx (W^T dy), as a framework would, whatever the kernel does inside.
 *
 * --check compares the kernels with a direct convolution in double on random
 * geometries (strides, paddings above and below the kernel size, groups,
 * 1x1, non-square kernels and images, accumulate on and off) and exits 1 if
 * any value is off by more than 1e-5 of the sum of the absolute values of
 * its terms (float rounding in any summation order stays far below that).
 *
 * OpenBLAS threads: the library's default (all cores) unless
 * OPENBLAS_NUM_THREADS says otherwise; the count is printed. Not a test.
 */
#define _POSIX_C_SOURCE 200809L

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/nn_internal.h"
#include "nninit_nn.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static float *falloc(size_t n) {
    float *p = aligned_alloc(64, ((n ? n : 1) * sizeof(float) + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "bench_conv: out of memory\n");
        exit(2);
    }
    return p;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float frand(void) { /* U(-1, 1), xorshift64* */
    rng_state ^= rng_state >> 12, rng_state ^= rng_state << 25, rng_state ^= rng_state >> 27;
    return (float)((double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) * 0x1p-52 - 1.0);
}
static int irand(int lo, int hi) { return lo + (int)((frand() * 0.5f + 0.5f) * (float)(hi - lo + 1)) % (hi - lo + 1); }
static void fill(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = frand();
}

static int json = 0;
static void report(const char *what, const char *shape, double flops, double sec, double ref) {
    double gf = flops / sec * 1e-9;
    if (json)
        printf("{\"case\":\"%s\",\"shape\":\"%s\",\"seconds\":%.6g,\"gflops\":%.4g,\"of_sgemm\":%.4g}\n", what, shape,
               sec, gf, ref > 0 ? gf / ref : 0.0);
    else if (ref > 0) printf("| %s | %s | %.3f ms | %.1f | %.0f%% |\n", what, shape, sec * 1e3, gf, 100.0 * gf / ref);
    else printf("| %s | %s | %.3f ms | %.1f | |\n", what, shape, sec * 1e3, gf);
}

/* ---- sgemm references ------------------------------------------------------ */

static double time_sgemm(int ta, int tb, int m, int n, int k, int reps) {
    float *a = falloc((size_t)m * k), *b = falloc((size_t)k * n), *c = falloc((size_t)m * n);
    fill(a, (size_t)m * k), fill(b, (size_t)k * n), memset(c, 0, (size_t)m * n * sizeof *c);
    int lda = ta ? m : k, ldb = tb ? k : n;
    /* at least ~0.2 s of calls per timing for the small shapes */
    double one = now_s();
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda, b,
                ldb, 0.0f, c, n);
    one = now_s() - one;
    int inner = one > 0.02 ? 1 : (int)(0.02 / (one > 1e-7 ? one : 1e-7)) + 1;
    double best = INFINITY;
    for (int r = 0; r < reps; r++) {
        double t = now_s();
        for (int i = 0; i < inner; i++)
            cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a,
                        lda, b, ldb, 0.0f, c, n);
        t = (now_s() - t) / inner;
        if (t < best) best = t;
    }
    free(a), free(b), free(c);
    return best;
}

/* ---- conv kernels ------------------------------------------------------------- */

static nninit__conv_geom geom(int c, int h, int w, int o, int kh, int kw, int s, int ph, int pw, int g) {
    nninit__conv_geom r = {c, h, w, o, kh, kw, s, ph, pw, g, (h + 2 * ph - kh) / s + 1, (w + 2 * pw - kw) / s + 1};
    return r;
}

typedef struct {
    size_t in, out, nw;
    float *x, *w, *b, *y, *dy, *dw, *db, *dx, *ws;
} conv_bufs;

static conv_bufs bufs_new(const nninit__conv_geom *g, int batch) {
    conv_bufs B;
    B.in = (size_t)g->c * g->h * g->w, B.out = (size_t)g->o * g->oh * g->ow;
    B.nw = (size_t)g->o * (g->c / g->groups) * g->kh * g->kw;
    B.x = falloc(B.in * batch), B.dx = falloc(B.in * batch);
    B.y = falloc(B.out * batch), B.dy = falloc(B.out * batch);
    B.w = falloc(B.nw), B.dw = falloc(B.nw), B.b = falloc((size_t)g->o), B.db = falloc((size_t)g->o);
    B.ws = falloc(nninit__conv_ws_size(g));
    fill(B.x, B.in * batch), fill(B.dy, B.out * batch), fill(B.w, B.nw), fill(B.b, (size_t)g->o);
    fill(B.dx, B.in * batch);
    return B;
}

static void bufs_free(conv_bufs *B) {
    free(B->x), free(B->dx), free(B->y), free(B->dy), free(B->w), free(B->dw), free(B->b), free(B->db), free(B->ws);
}

/* One product of the conv over the batch, in flops. */
static double conv_product_flops(const nninit__conv_geom *g, int batch) {
    return 2.0 * g->o * ((double)g->c / g->groups * g->kh * g->kw) * g->oh * g->ow * batch;
}

static void bench_kernel(const char *name, const nninit__conv_geom *g, int batch, int with_dx, int reps, double ref) {
    conv_bufs B = bufs_new(g, batch);
    double bf = INFINITY, bb = INFINITY;
    for (int r = 0; r <= reps; r++) { /* r = 0: warm-up */
        double t = now_s();
        nninit__conv_forward(g, batch, B.x, B.w, B.b, B.y, B.ws);
        t = now_s() - t;
        if (r && t < bf) bf = t;
        t = now_s();
        nninit__conv_backward(g, batch, B.x, B.w, B.dy, B.dw, B.db, with_dx ? B.dx : NULL, 0, B.ws);
        t = now_s() - t;
        if (r && t < bb) bb = t;
    }
    char shape[128], what[160];
    snprintf(shape, sizeof shape, "%dx%dx%d -> %d %dx%d s%d p%d, batch %d", g->c, g->h, g->w, g->o, g->kh, g->kw,
             g->stride, g->ph, batch);
    double p = conv_product_flops(g, batch);
    snprintf(what, sizeof what, "%s forward", name);
    report(what, shape, p, bf, ref);
    snprintf(what, sizeof what, "%s backward (dW%s)", name, with_dx ? ", dx" : "");
    report(what, shape, p * (with_dx ? 2 : 1), bb, ref);
    snprintf(what, sizeof what, "%s forward + backward", name);
    report(what, shape, p * (with_dx ? 3 : 2), bf + bb, ref);
    bufs_free(&B);
}

/* ---- the whole network --------------------------------------------------------- */

static int bench_net(const char *text, int batch, int reps, double ref) {
    nninit_arch *a = malloc(sizeof *a);
    nninit_net *net = NULL;
    if (!a || nninit_arch_parse(text, a) || nninit_net_create(a, batch, NULL, 1, &net)) {
        fprintf(stderr, "bench_conv: %s: %s\n", text, nninit_last_error());
        free(a);
        return 1;
    }
    /* flops of the affine products: forward, dW, and dx except for the first layer */
    double conv = 0, dense = 0;
    int first = 1;
    for (int l = 0; l < nninit_net_layers(net); l++) {
        nninit_layer_view v;
        nninit_net_layer(net, l, &v);
        if (!v.w) continue;
        double prods = first ? 2 : 3, f = 2.0 * (double)v.w_rows * v.w_cols * batch;
        if (v.kind == NNINIT_LAYER_CONV2D) conv += prods * f * v.out_h * v.out_w;
        else if (v.kind == NNINIT_LAYER_DENSE) dense += prods * f;
        else if (v.kind == NNINIT_LAYER_RESIDUAL && v.out_h * v.out_w > 1) conv += 2 * prods * f * v.out_h * v.out_w;
        else if (v.kind == NNINIT_LAYER_RESIDUAL) dense += 2 * prods * f; /* two products each */
        first = 0;
    }
    size_t in = (size_t)nninit_net_input_size(net);
    float *x = falloc(in * batch);
    int *y = malloc(sizeof(int) * (size_t)batch);
    fill(x, in * batch);
    for (int n = 0; n < batch; n++) y[n] = n % nninit_net_output_size(net);
    double best = INFINITY, loss;
    for (int r = 0; r <= reps; r++) {
        double t = now_s();
        if (nninit_net_forward(net, x, batch) || nninit_net_loss(net, y, &loss) || nninit_net_backward(net)) {
            fprintf(stderr, "bench_conv: %s\n", nninit_last_error());
            return 1;
        }
        t = now_s() - t;
        if (r && t < best) best = t;
    }
    char shape[96];
    snprintf(shape, sizeof shape, "batch %d, %.1f GFLOP (conv %.0f%%)", batch, (conv + dense) * 1e-9,
             100.0 * conv / (conv + dense));
    report("net: forward + loss + backward", shape, conv + dense, best, ref);
    free(x), free(y), free(a);
    nninit_net_free(net);
    return 0;
}

/* ---- --check -------------------------------------------------------------------- */

static double xat(const nninit__conv_geom *g, const float *x, int c, int iy, int ix) {
    return (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) ? 0.0 : x[((size_t)c * g->h + iy) * g->w + ix];
}

/* max |got - want| / sum |terms|: the error in units of the sum of the
 * absolute values of the terms that make each value, the scale that float
 * rounding of any summation order is proportional to */
static double relerr(const float *got, const double *want, const double *scale, size_t n) {
    double e = 0;
    for (size_t i = 0; i < n; i++) e = fmax(e, fabs(got[i] - want[i]) / (scale[i] + 1e-30));
    return e;
}

static int check_one(const nninit__conv_geom *g, int batch, int accumulate) {
    conv_bufs B = bufs_new(g, batch);
    const int cg = g->c / g->groups, og = g->o / g->groups;
    const size_t ny = B.out * batch, nx = B.in * batch;
    double *y = calloc(ny, sizeof *y), *dw = calloc(B.nw, sizeof *dw), *db = calloc((size_t)g->o, sizeof *db),
           *dx = calloc(nx, sizeof *dx), *sy = calloc(ny, sizeof *sy), *sdw = calloc(B.nw, sizeof *sdw),
           *sdb = calloc((size_t)g->o, sizeof *sdb), *sdx = calloc(nx, sizeof *sdx);
    for (size_t i = 0; i < nx; i++) dx[i] = accumulate ? B.dx[i] : 0.0, sdx[i] = fabs(dx[i]);
    for (int n = 0; n < batch; n++)
        for (int o = 0; o < g->o; o++) {
            int gi = o / og;
            for (int oy = 0; oy < g->oh; oy++)
                for (int ox = 0; ox < g->ow; ox++) {
                    size_t yi = (size_t)n * B.out + ((size_t)o * g->oh + oy) * g->ow + ox;
                    double s = B.b[o], ss = fabs(B.b[o]), d = B.dy[yi];
                    db[o] += d, sdb[o] += fabs(d);
                    for (int ci = 0; ci < cg; ci++)
                        for (int ki = 0; ki < g->kh; ki++)
                            for (int kj = 0; kj < g->kw; kj++) {
                                int c = gi * cg + ci, iy = oy * g->stride - g->ph + ki;
                                int ix = ox * g->stride - g->pw + kj;
                                size_t wi = (((size_t)o * cg + ci) * g->kh + ki) * g->kw + kj;
                                double xv = xat(g, B.x + (size_t)n * B.in, c, iy, ix);
                                s += B.w[wi] * xv, ss += fabs(B.w[wi] * xv);
                                dw[wi] += d * xv, sdw[wi] += fabs(d * xv);
                                if (iy >= 0 && iy < g->h && ix >= 0 && ix < g->w) {
                                    size_t xi = (size_t)n * B.in + ((size_t)c * g->h + iy) * g->w + ix;
                                    dx[xi] += d * B.w[wi], sdx[xi] += fabs(d * B.w[wi]);
                                }
                            }
                    y[yi] = s, sy[yi] = ss;
                }
        }
    nninit__conv_forward(g, batch, B.x, B.w, B.b, B.y, B.ws);
    double e[4] = {relerr(B.y, y, sy, ny), 0, 0, 0};
    nninit__conv_backward(g, batch, B.x, B.w, B.dy, B.dw, B.db, B.dx, accumulate, B.ws);
    e[1] = relerr(B.dw, dw, sdw, B.nw), e[2] = relerr(B.db, db, sdb, (size_t)g->o), e[3] = relerr(B.dx, dx, sdx, nx);
    /* and without dx (the first layer's path) */
    fill(B.dw, B.nw);
    nninit__conv_backward(g, batch, B.x, B.w, B.dy, B.dw, B.db, NULL, 0, B.ws);
    double e4 = relerr(B.dw, dw, sdw, B.nw);
    if (e4 > e[1]) e[1] = e4;
    int bad = 0;
    for (int i = 0; i < 4; i++) bad |= !(e[i] < 1e-5);
    if (bad || getenv("BENCH_CONV_VERBOSE"))
        printf("%s %dx%dx%d -> %d %dx%d s%d p%d,%d g%d batch %d acc %d: y %.1e dW %.1e db %.1e dx %.1e\n",
               bad ? "FAIL" : "ok", g->c, g->h, g->w, g->o, g->kh, g->kw, g->stride, g->ph, g->pw, g->groups, batch,
               accumulate, e[0], e[1], e[2], e[3]);
    free(y), free(dw), free(db), free(dx), free(sy), free(sdw), free(sdb), free(sdx);
    bufs_free(&B);
    return bad;
}

static int check(void) {
    int bad = 0, n = 0;
    const nninit__conv_geom fixed[] = {
        geom(16, 28, 28, 16, 3, 3, 1, 1, 1, 1), geom(1, 28, 28, 16, 3, 3, 1, 1, 1, 1),
        geom(2, 5, 5, 4, 3, 3, 2, 1, 1, 2),     geom(4, 3, 3, 3, 2, 2, 1, 0, 0, 1),
        geom(2, 6, 5, 4, 3, 2, 2, 2, 2, 2),     geom(4, 3, 3, 2, 1, 3, 1, 1, 1, 2),
        geom(3, 4, 4, 6, 1, 1, 1, 0, 0, 3),     geom(3, 7, 6, 4, 3, 3, 1, 4, 3, 1), /* pad > kernel - 1 */
        geom(4, 9, 9, 4, 5, 5, 1, 2, 2, 4),     geom(2, 8, 3, 2, 3, 1, 3, 1, 0, 1),
    };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++, n += 2) {
        bad += check_one(&fixed[i], 3, 0);
        bad += check_one(&fixed[i], 2, 1);
    }
    /* several chunks and a partial last one (a 9x9 plane: 12 examples per chunk) */
    const nninit__conv_geom chunked[] = {geom(2, 9, 9, 3, 3, 3, 1, 1, 1, 1), geom(3, 9, 9, 4, 3, 3, 2, 1, 1, 1),
                                         geom(4, 9, 9, 6, 1, 1, 1, 0, 0, 2), geom(2, 9, 8, 4, 3, 2, 1, 2, 0, 2)};
    for (size_t i = 0; i < sizeof chunked / sizeof *chunked; i++, n += 2) {
        bad += check_one(&chunked[i], 29, 0);
        bad += check_one(&chunked[i], 29, 1);
    }
    for (int t = 0; t < 300; t++, n++) {
        int groups = irand(1, 3), c = groups * irand(1, 3), o = groups * irand(1, 3);
        int kh = irand(1, 4), kw = irand(1, 4), s = irand(1, 3), ph = irand(0, 3), pw = irand(0, 3);
        int h = irand(1, 9), w = irand(1, 9);
        if (h + 2 * ph < kh || w + 2 * pw < kw) continue;
        nninit__conv_geom g = geom(c, h, w, o, kh, kw, s, ph, pw, groups);
        bad += check_one(&g, irand(1, 3), irand(0, 1));
    }
    printf("check: %d of %d conv geometries %s\n", n - bad, n,
           bad ? "within tolerance; FAILURES above"
               : "agree with a direct convolution in double (error < 1e-5 of the sum of |terms|)");
    return bad ? 1 : 0;
}

int main(int argc, char **argv) {
    int reps = 5, batch = 256;
    const char *arch = "1x28x28 -> conv 16 3x3 p1 relu -> [conv 16 3x3 p1 relu] x8 -> flatten -> dense 10";
    const char *only = NULL; /* for perf record: one part alone */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--check")) return check();
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--arch") && i + 1 < argc) arch = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else {
            fprintf(stderr,
                    "usage: bench_conv [--reps N] [--batch B] [--arch TEXT] [--only sgemm|kernel|net] [--json]\n"
                    "       bench_conv --check\n");
            return 2;
        }
    }
    if (reps < 1 || batch < 1) {
        fprintf(stderr, "bench_conv: --reps and --batch must be >= 1\n");
        return 2;
    }
    if (!json) {
        printf("OpenBLAS: %s; core %s; %d thread(s)\n\n", openblas_get_config(), openblas_get_corename(),
               openblas_get_num_threads());
        printf("| case | shape | best time | GFLOP/s | of square sgemm |\n|---|---|---:|---:|---:|\n");
    }
    const int sq = 2048;
    double ref = 0;
    if (!only || !strcmp(only, "sgemm")) {
        ref = 2.0 * sq * sq * sq / time_sgemm(0, 0, sq, sq, sq, reps) * 1e-9;
        report("sgemm NN (reference)", "2048 x 2048 x 2048", 2.0 * sq * sq * sq, 2.0 * sq * sq * sq / (ref * 1e9), 0);
        const int k = 144, p = 784;
        char s[96];
        snprintf(s, sizeof s, "%d x %d x %d (one example)", 16, p, k);
        report("sgemm NN, conv forward shape", s, 2.0 * 16 * p * k, time_sgemm(0, 0, 16, p, k, reps), ref);
        snprintf(s, sizeof s, "%d x %d x %d (one example)", 16, k, p);
        report("sgemm NT, conv dW shape", s, 2.0 * 16 * p * k, time_sgemm(0, 1, 16, k, p, reps), ref);
        snprintf(s, sizeof s, "%d x %d x %d (batch %d in one call)", 16, p * batch, k, batch);
        report("sgemm NN, whole-batch im2col shape", s, 2.0 * 16 * p * k * batch,
               time_sgemm(0, 0, 16, p * batch, k, reps > 3 ? 3 : reps), ref);
    }
    if (!only || !strcmp(only, "kernel")) {
        const nninit__conv_geom g = geom(16, 28, 28, 16, 3, 3, 1, 1, 1, 1), g1 = geom(1, 28, 28, 16, 3, 3, 1, 1, 1, 1);
        bench_kernel("conv 16->16", &g, batch, 1, reps, ref);
        bench_kernel("conv 1->16 (first layer)", &g1, batch, 0, reps, ref);
        /* small planes: several examples per product */
        const nninit__conv_geom g7 = geom(64, 7, 7, 64, 3, 3, 1, 1, 1, 1);
        bench_kernel("conv 64->64 on 7x7", &g7, batch, 1, reps, ref);
    }
    if (only && strcmp(only, "net")) return 0;
    return bench_net(arch, batch, reps, ref);
}

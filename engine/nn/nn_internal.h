/* nn_internal.h -- kernels shared by the network engine (net.c, act.c,
 * conv.c); not installed. Every kernel works on caller buffers and never
 * allocates: the network allocates all of them once, in nninit_net_create. */
#ifndef NNINIT_NN_INTERNAL_H
#define NNINIT_NN_INTERNAL_H

#include <stddef.h>

#include "internal.h"
#include "nninit_nn.h"

/* ---- activations (act.c) ------------------------------------------------- */

/* The parameter an activation actually uses: leaky_relu's slope (NaN ->
 * 0.01), elu's alpha (NaN -> 1); 0 for the others. */
float nninit__act_param(nninit_act a, double param);

/* post[i] = act(pre[i]) for i < n. post may equal pre. */
void nninit__act_forward(nninit_act a, float param, const float *pre, float *post, size_t n);

/* d[i] *= act'(pre[i]) for i < n: turns dL/d(post) into dL/d(pre).
 * post = act(pre) is passed too because several derivatives are cheapest
 * from it (tanh' = 1 - y^2, sigmoid' = y (1 - y), elu' = y + alpha for
 * x <= 0); the value is the derivative at pre either way. */
void nninit__act_backward(nninit_act a, float param, const float *pre, const float *post, float *d, size_t n);

/* ---- dense (net.c) and conv2d (conv.c) ------------------------------------ */

/* y (batch, out) = x (batch, in) W^T + b, W (out, in) row-major. */
void nninit__dense_forward(int batch, int in, int out, const float *x, const float *w, const float *b, float *y);

/* From dy (batch, out): dw = dy^T x, db = column sums of dy and, if dx is
 * not NULL, dx (batch, in) = dy W, added to dx when accumulate is set. */
void nninit__dense_backward(int batch, int in, int out, const float *x, const float *w, const float *dy, float *dw,
                            float *db, float *dx, int accumulate);

/* Geometry of one conv2d: input (c, h, w), weight (o, c/groups, kh, kw),
 * zero padding ph rows / pw columns on each side, output (o, oh, ow) with
 * oh = (h + 2 ph - kh) / stride + 1, ow = (w + 2 pw - kw) / stride + 1. */
typedef struct {
    int c, h, w;
    int o, kh, kw;
    int stride, ph, pw, groups;
    int oh, ow;
} nninit__conv_geom;

/* Floats of workspace one conv needs for forward and backward: the im2col
 * matrix of a chunk of a few examples (about 1024 output columns, at least
 * one example), the chunk's output or input gradient, and the flipped
 * weight and the weight gradient's accumulator. Independent of the batch:
 * the kernels go one chunk at a time. */
size_t nninit__conv_ws_size(const nninit__conv_geom *g);

/* y (batch, o*oh*ow) = conv(x (batch, c*h*w), w) + b. ws: workspace of
 * nninit__conv_ws_size floats. */
void nninit__conv_forward(const nninit__conv_geom *g, int batch, const float *x, const float *w, const float *b,
                          float *y, float *ws);

/* From dy (batch, o*oh*ow): dw, db and, if dx is not NULL, dx (batch,
 * c*h*w), added to dx when accumulate is set. ws: workspace of
 * nninit__conv_ws_size floats (the forward's may be reused). */
void nninit__conv_backward(const nninit__conv_geom *g, int batch, const float *x, const float *w, const float *dy,
                           float *dw, float *db, float *dx, int accumulate, float *ws);

/* ---- parameters, for optimizers (net.c) ------------------------------------ */

typedef struct {
    float *w;       /* the parameter */
    const float *g; /* its gradient after backward */
    size_t n;
} nninit__param;

/* Every parameter tensor of net in a fixed order (weights and biases, layer
 * by layer). Stores at most cap entries in p (p may be NULL) and returns how
 * many there are. */
int nninit__net_params(nninit_net *net, nninit__param *p, int cap);

#endif

/* net.c -- the network: build and initialize, forward, softmax cross-entropy,
 * backward, SGD, and the per-layer views used by probes.
 *
 * Memory. nninit_net_create sizes every buffer for max_batch and takes them
 * all from one zeroed block; forward, loss, backward and sgd never allocate.
 * Per layer: weights and their gradients, pre- and post-activation (one
 * buffer when the activation is the identity) and dL/d(pre). Shared: a copy
 * of the input, dL/d(output), the conv workspace (a chunk of a few examples)
 * and two residual scratch buffers.
 *
 * Data flow. Activations are (batch, C*H*W) row-major, so a flatten moves no
 * data: its output is its input buffer. A dense layer after a conv reads that
 * same buffer, i.e. it flattens implicitly (PyTorch would need nn.Flatten).
 * Each layer reads the post-activation of its "source", the nearest earlier
 * layer that is not a flatten (-1: the network input). Backward writes a
 * layer's input gradient straight into its source's dpre and then multiplies
 * by the source's activation derivative; the first layer's input gradient is
 * not computed, as nothing consumes it.
 *
 * Residual block: h = act_in(x W0^T + b0), f = h W1^T + b1 (or the conv
 * equivalents, 'same' padding, stride 1), pre = x + alpha f, post = act(pre).
 * The spec has one act_param: act_in and act share it.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "nn_internal.h"
#include "nninit_train.h"

typedef struct {
    nninit_layer_kind kind;
    nninit_act act;
    float ap; /* act parameter, defaults resolved */
    int src;  /* source layer, -1 = network input */
    int in_c, in_h, in_w, in_size;
    int out_c, out_h, out_w, out_size;
    nninit__conv_geom g; /* conv; residual conv: both inner layers */
    nninit_layer_kind res_kind;
    nninit_res_rule res_rule;
    nninit_act inner_act;
    float inner_ap, alpha;
    float *w, *b, *dw, *db;
    int64_t w_rows, w_cols;
    float *w2, *b2, *dw2, *db2; /* residual inner layer 1 */
    int64_t w2_rows, w2_cols;
    const float *in;          /* (batch, in_size): the source's post */
    float *pre, *post, *dpre; /* flatten: post = in, pre = dpre = NULL */
    float *h_pre, *h_post;    /* residual hidden (batch, out_size) */
} layer;

struct nninit_net {
    int n_layers, max_batch, batch, has_grad;
    int in_size, out_size;
    int out_src;          /* the layer whose post is the output */
    nninit_matmul matmul; /* every product of forward and backward (gemm.h) */
    layer *layers;
    float *input, *dout;
    float *conv_ws;   /* conv workspace, a chunk of examples */
    float *rd0, *rd1; /* residual: dL/dh_pre, alpha dL/dpre */
    void *mem;
};

/* ------------------------------------------------------------------------- */
/* Dense kernels (conv ones are in conv.c)                                   */
/* ------------------------------------------------------------------------- */

void nninit__dense_forward(int batch, int in, int out, const float *x, const float *w, const float *b, float *y) {
    nninit__sgemm(NNINIT__NO_TRANS, NNINIT__TRANS, batch, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
    for (int n = 0; n < batch; n++) {
        float *yn = y + (size_t)n * out;
        for (int o = 0; o < out; o++) yn[o] += b[o];
    }
}

void nninit__dense_backward(int batch, int in, int out, const float *x, const float *w, const float *dy, float *dw,
                            float *db, float *dx, int accumulate) {
    nninit__sgemm(NNINIT__TRANS, NNINIT__NO_TRANS, out, in, batch, 1.0f, dy, out, x, in, 0.0f, dw, in);
    memset(db, 0, (size_t)out * sizeof *db);
    for (int n = 0; n < batch; n++) {
        const float *dyn = dy + (size_t)n * out;
        for (int o = 0; o < out; o++) db[o] += dyn[o];
    }
    if (dx)
        nninit__sgemm(NNINIT__NO_TRANS, NNINIT__NO_TRANS, batch, in, out, 1.0f, dy, out, w, in,
                      accumulate ? 1.0f : 0.0f, dx, in);
}

/* ------------------------------------------------------------------------- */
/* Shapes: validate the architecture, one layer at a time                    */
/* ------------------------------------------------------------------------- */

/* c*h*w as an int (sgemm dimensions are int), or OVERFLOW. */
static nninit_status shape_size(int i, int64_t c, int64_t h, int64_t w, int *size) {
    int64_t n = c * h * w; /* each factor < 2^31, c*h < 2^62; check before the second product */
    if (c * h > INT32_MAX || n > INT32_MAX) {
        char where[32] = "input";
        if (i >= 0) snprintf(where, sizeof where, "layers.%d", i);
        return nninit__err(NNINIT_ERR_OVERFLOW, "%s: %lld x %lld x %lld features exceed 2^31 - 1", where, (long long)c,
                           (long long)h, (long long)w);
    }
    *size = (int)n;
    return NNINIT_OK;
}

static nninit_status check_act(int i, const char *what, nninit_act a, double param, float *ap) {
    if ((unsigned)a >= NNINIT_ACT_COUNT)
        return nninit__err(NNINIT_ERR_PARAM, "layers.%d: unknown %s activation %d", i, what, (int)a);
    if (isinf(param)) return nninit__err(NNINIT_ERR_PARAM, "layers.%d: %s activation parameter is infinite", i, what);
    *ap = nninit__act_param(a, param);
    return NNINIT_OK;
}

/* groups as in nninit_tensor: 0 reads as 1. */
static nninit_status check_groups(int i, int groups, int c, int o, int *out) {
    int g = groups ? groups : 1;
    if (g < 1) return nninit__err(NNINIT_ERR_GROUPS, "layers.%d: groups %d < 1", i, groups);
    if (c % g || o % g)
        return nninit__err(NNINIT_ERR_GROUPS,
                           "layers.%d: groups %d must divide input channels %d and output channels %d", i, g, c, o);
    *out = g;
    return NNINIT_OK;
}

/* Fill L's geometry from spec s and the incoming shape (c, h, w). */
static nninit_status plan_layer(const nninit_layer_spec *s, int i, int c, int h, int w, layer *L) {
    nninit_status st;
    L->kind = s->kind;
    L->in_c = c, L->in_h = h, L->in_w = w;
    if ((st = shape_size(i, c, h, w, &L->in_size))) return st;
    if ((st = check_act(i, "output", s->act, s->act_param, &L->ap))) return st;
    L->act = s->act;
    switch (s->kind) {
    case NNINIT_LAYER_DENSE:
        if (s->units < 1) return nninit__err(NNINIT_ERR_SHAPE, "layers.%d (dense): units %d < 1", i, s->units);
        L->out_c = s->units, L->out_h = 1, L->out_w = 1;
        L->w_rows = s->units, L->w_cols = L->in_size;
        break;
    case NNINIT_LAYER_CONV2D: {
        if (s->units < 1) return nninit__err(NNINIT_ERR_SHAPE, "layers.%d (conv2d): out channels %d < 1", i, s->units);
        if (s->kh < 1 || s->kw < 1)
            return nninit__err(NNINIT_ERR_SHAPE, "layers.%d (conv2d): kernel %dx%d", i, s->kh, s->kw);
        if (s->stride < 1) return nninit__err(NNINIT_ERR_PARAM, "layers.%d (conv2d): stride %d < 1", i, s->stride);
        if (s->pad < 0) return nninit__err(NNINIT_ERR_PARAM, "layers.%d (conv2d): padding %d < 0", i, s->pad);
        int g = 1;
        if ((st = check_groups(i, s->groups, c, s->units, &g))) return st;
        int64_t eh = (int64_t)h + 2 * (int64_t)s->pad - s->kh, ew = (int64_t)w + 2 * (int64_t)s->pad - s->kw;
        if (eh < 0 || ew < 0)
            return nninit__err(NNINIT_ERR_SHAPE,
                               "layers.%d (conv2d): kernel %dx%d does not fit the %dx%d input with padding %d", i,
                               s->kh, s->kw, h, w, s->pad);
        nninit__conv_geom gm = {c,
                                h,
                                w,
                                s->units,
                                s->kh,
                                s->kw,
                                s->stride,
                                s->pad,
                                s->pad,
                                g,
                                (int)(eh / s->stride + 1),
                                (int)(ew / s->stride + 1)};
        L->g = gm;
        L->out_c = s->units, L->out_h = gm.oh, L->out_w = gm.ow;
        L->w_rows = s->units, L->w_cols = (int64_t)(c / g) * s->kh * s->kw;
        if (L->w_cols > INT32_MAX)
            return nninit__err(NNINIT_ERR_OVERFLOW, "layers.%d (conv2d): receptive field exceeds 2^31 - 1", i);
        break;
    }
    case NNINIT_LAYER_FLATTEN:
        if (s->act != NNINIT_ACT_IDENTITY)
            return nninit__err(NNINIT_ERR_PARAM, "layers.%d (flatten): takes no activation (got %s)", i,
                               nninit_act_name(s->act));
        L->out_c = L->in_size, L->out_h = 1, L->out_w = 1;
        break;
    case NNINIT_LAYER_RESIDUAL:
        if ((st = check_act(i, "inner", s->res_inner_act, s->act_param, &L->inner_ap))) return st;
        L->inner_act = s->res_inner_act;
        if (!isfinite(s->alpha))
            return nninit__err(NNINIT_ERR_PARAM, "layers.%d (residual): alpha %g is not finite", i, s->alpha);
        L->alpha = (float)s->alpha;
        if ((unsigned)s->res_rule > NNINIT_RES_RULE_HE_HE)
            return nninit__err(NNINIT_ERR_PARAM, "layers.%d (residual): res_rule %d is not an nninit_res_rule (0..2)",
                               i, (int)s->res_rule);
        L->res_kind = s->res_kind, L->res_rule = s->res_rule;
        if (s->res_kind == NNINIT_LAYER_DENSE) { /* width = input width */
            if (s->units != 0 && s->units != L->in_size)
                return nninit__err(NNINIT_ERR_SHAPE, "layers.%d (residual dense): units %d != input width %d", i,
                                   s->units, L->in_size);
            L->out_c = L->in_size, L->out_h = 1, L->out_w = 1;
            L->w_rows = L->w2_rows = L->in_size;
            L->w_cols = L->w2_cols = L->in_size;
        } else if (s->res_kind == NNINIT_LAYER_CONV2D) { /* same channels, 'same' padding, stride 1 */
            if (s->units != 0 && s->units != c)
                return nninit__err(NNINIT_ERR_SHAPE, "layers.%d (residual conv): channels %d != input channels %d", i,
                                   s->units, c);
            if (s->kh < 1 || s->kw < 1 || s->kh % 2 == 0 || s->kw % 2 == 0)
                return nninit__err(NNINIT_ERR_SHAPE,
                                   "layers.%d (residual conv): kernel %dx%d; 'same' padding needs odd sizes >= 1", i,
                                   s->kh, s->kw);
            int g = 1;
            if ((st = check_groups(i, s->groups, c, c, &g))) return st;
            nninit__conv_geom gm = {c, h, w, c, s->kh, s->kw, 1, (s->kh - 1) / 2, (s->kw - 1) / 2, g, h, w};
            L->g = gm;
            L->out_c = c, L->out_h = h, L->out_w = w;
            L->w_rows = L->w2_rows = c;
            L->w_cols = L->w2_cols = (int64_t)(c / g) * s->kh * s->kw;
            if (L->w_cols > INT32_MAX)
                return nninit__err(NNINIT_ERR_OVERFLOW, "layers.%d (residual conv): receptive field exceeds 2^31 - 1",
                                   i);
        } else {
            return nninit__err(NNINIT_ERR_PARAM, "layers.%d (residual): inner kind %d is neither dense nor conv2d", i,
                               (int)s->res_kind);
        }
        break;
    default: return nninit__err(NNINIT_ERR_PARAM, "layers.%d: unknown layer kind %d", i, (int)s->kind);
    }
    return shape_size(i, L->out_c, L->out_h, L->out_w, &L->out_size);
}

/* ------------------------------------------------------------------------- */
/* Buffers: one block, laid out twice (first to size it, then to assign)     */
/* ------------------------------------------------------------------------- */

typedef struct {
    float *base; /* NULL while sizing */
    size_t used; /* floats, each buffer rounded up to 64 bytes */
    double need; /* the same in double, to detect size_t overflow */
} arena;

static float *take(arena *a, size_t n) {
    float *p = a->base ? a->base + a->used : NULL;
    a->used += (n + 15) & ~(size_t)15;
    a->need += (double)n + 16.0;
    return p;
}

static void layout(nninit_net *net, arena *a) {
    size_t mb = (size_t)net->max_batch, col = 0, res = 0;
    net->input = take(a, mb * net->in_size);
    for (int i = 0; i < net->n_layers; i++) {
        layer *L = &net->layers[i];
        size_t act = mb * L->out_size, nw = (size_t)L->w_rows * L->w_cols;
        L->in = L->src < 0 ? net->input : net->layers[L->src].post;
        if (L->kind == NNINIT_LAYER_FLATTEN) {
            L->post = (float *)L->in; /* the same buffer, seen as (batch, c*h*w) */
            L->pre = L->dpre = NULL;
            continue;
        }
        L->w = take(a, nw), L->dw = take(a, nw);
        L->b = take(a, (size_t)L->w_rows), L->db = take(a, (size_t)L->w_rows);
        if (L->kind == NNINIT_LAYER_RESIDUAL) {
            size_t nw2 = (size_t)L->w2_rows * L->w2_cols;
            L->w2 = take(a, nw2), L->dw2 = take(a, nw2);
            L->b2 = take(a, (size_t)L->w2_rows), L->db2 = take(a, (size_t)L->w2_rows);
            L->h_pre = take(a, act);
            L->h_post = L->inner_act == NNINIT_ACT_IDENTITY ? L->h_pre : take(a, act);
            if ((size_t)L->out_size > res) res = (size_t)L->out_size;
        }
        if (L->kind == NNINIT_LAYER_CONV2D ||
            (L->kind == NNINIT_LAYER_RESIDUAL && L->res_kind == NNINIT_LAYER_CONV2D)) {
            size_t c = nninit__conv_ws_size(&L->g);
            if (c > col) col = c;
        }
        L->pre = take(a, act);
        L->post = L->act == NNINIT_ACT_IDENTITY ? L->pre : take(a, act);
        L->dpre = take(a, act);
    }
    net->dout = take(a, mb * net->out_size);
    net->conv_ws = take(a, col);
    net->rd0 = take(a, mb * res), net->rd1 = take(a, mb * res);
}

/* ------------------------------------------------------------------------- */
/* Initialization                                                            */
/* ------------------------------------------------------------------------- */

/* Prefix the message of a failed fill with the tensor's name. */
static nninit_status named(nninit_status st, const char *name) {
    return nninit__err(st, "%s: %s", name, nninit_last_error());
}

/* PyTorch's nn.Linear / nn.Conv2d reset_parameters on weight wt:
 * kaiming_uniform(a = sqrt 5) on the weight (bound 1/sqrt(fan_in)) and
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) on the bias. */
static nninit_status pytorch_default(const nninit_tensor *wt, nninit_layer_init *ini) {
    double fan_in, fan_out;
    nninit_status st = nninit_fans(wt, &fan_in, &fan_out);
    if (st) return st;
    ini->weight = nninit_spec_default(NNINIT_KAIMING_UNIFORM);
    ini->weight.slope = sqrt(5.0);
    ini->weight.nonlinearity = NNINIT_NL_LEAKY_RELU;
    ini->weight.mode = NNINIT_FAN_IN;
    ini->bias = nninit_spec_default(NNINIT_UNIFORM);
    ini->bias.a = -1.0 / sqrt(fan_in), ini->bias.b = 1.0 / sqrt(fan_in);
    return NNINIT_OK;
}

static nninit_tensor weight_tensor(const layer *L) {
    if (L->kind == NNINIT_LAYER_DENSE || (L->kind == NNINIT_LAYER_RESIDUAL && L->res_kind == NNINIT_LAYER_DENSE))
        return nninit_tensor_2d(L->w_rows, L->w_cols, NNINIT_F32);
    int64_t shape[4] = {L->g.o, L->g.c / L->g.groups, L->g.kh, L->g.kw};
    nninit_tensor t = nninit_tensor_make(4, shape, NNINIT_F32);
    t.groups = L->g.groups;
    return t;
}

/* What layer i (spec s, planned as L) is filled with: the rule of a
 * residual block, else the layer's init, else default_init, else PyTorch's.
 * A bias scheme that needs fans (xavier, kaiming, lecun, variance_scaling)
 * has none of its own (1-D), so it is resolved on the weight's fans
 * (nninit_spec_resolve_fans): the same distribution the weight gets, drawn
 * with the bias's key. */
static nninit_status layer_inits(const nninit_layer_spec *s, int i, const layer *L,
                                 const nninit_layer_init *default_init, nninit_layer_init_info *out) {
    nninit_layer_init_info r;
    memset(&r, 0, sizeof r);
    if (L->kind == NNINIT_LAYER_FLATTEN) {
        *out = r;
        return NNINIT_OK;
    }
    nninit_status st;
    char name[64];
    int res = L->kind == NNINIT_LAYER_RESIDUAL;
    r.weight = weight_tensor(L);
    if (res && L->res_rule != NNINIT_RES_RULE_NONE) {
        /* he-zero: F(x) = 0 at init, so the block starts as the identity (Goyal
         * et al. 2017, zero-init of the last layer of each residual branch). */
        nninit_layer_init he = {nninit_spec_default(NNINIT_KAIMING_NORMAL), nninit_spec_default(NNINIT_ZEROS)};
        he.weight.nonlinearity = NNINIT_NL_RELU;
        he.weight.mode = NNINIT_FAN_IN;
        nninit_layer_init zero = {nninit_spec_default(NNINIT_ZEROS), nninit_spec_default(NNINIT_ZEROS)};
        r.source = NNINIT_INIT_FROM_RULE;
        r.init[0] = he;
        r.init[1] = L->res_rule == NNINIT_RES_RULE_HE_ZERO ? zero : he;
    } else {
        if (s->has_init) {
            r.source = s->preset != NNINIT_NN_PRESET_NONE ? NNINIT_INIT_FROM_PRESET : NNINIT_INIT_FROM_LAYER;
            r.preset = s->preset;
            r.init[0] = s->init;
        } else if (default_init) {
            r.source = NNINIT_INIT_FROM_DEFAULT;
            r.init[0] = *default_init;
        } else {
            r.source = NNINIT_INIT_FROM_PYTORCH;
            snprintf(name, sizeof name, "layers.%d", i);
            if ((st = pytorch_default(&r.weight, &r.init[0]))) return named(st, name);
        }
        r.init[1] = r.init[0];
    }
    for (int k = 0; k < 2; k++) {
        if (res) snprintf(name, sizeof name, "layers.%d.%d.bias", i, k);
        else snprintf(name, sizeof name, "layers.%d.bias", i);
        if ((st = nninit_spec_resolve_fans(&r.init[k].bias, &r.weight, &r.init[k].bias))) return named(st, name);
    }
    *out = r;
    return NNINIT_OK;
}

/* Fill weight w (tensor wt) and bias b (wt->shape[0] values) with ini under
 * keys "<prefix>.weight" / "<prefix>.bias". */
static nninit_status init_affine(const nninit_layer_init *ini, const nninit_tensor *wt, float *w, float *b,
                                 uint64_t seed, const char *prefix) {
    char name[64];
    nninit_status st;
    nninit_tensor bt = nninit_tensor_2d(wt->shape[0], 1, NNINIT_F32);
    bt.ndim = 1;
    snprintf(name, sizeof name, "%s.weight", prefix);
    if ((st = nninit_fill(&ini->weight, wt, nninit_key_from_name(seed, name), w))) return named(st, name);
    snprintf(name, sizeof name, "%s.bias", prefix);
    if ((st = nninit_fill(&ini->bias, &bt, nninit_key_from_name(seed, name), b))) return named(st, name);
    return NNINIT_OK;
}

static nninit_status init_layer(const nninit_layer_spec *s, int i, layer *L, const nninit_layer_init *default_init,
                                uint64_t seed) {
    char prefix[48];
    nninit_status st;
    nninit_layer_init_info r;
    if ((st = layer_inits(s, i, L, default_init, &r))) return st;
    if (L->kind != NNINIT_LAYER_RESIDUAL) {
        snprintf(prefix, sizeof prefix, "layers.%d", i);
        return init_affine(&r.init[0], &r.weight, L->w, L->b, seed, prefix);
    }
    snprintf(prefix, sizeof prefix, "layers.%d.0", i);
    if ((st = init_affine(&r.init[0], &r.weight, L->w, L->b, seed, prefix))) return st;
    snprintf(prefix, sizeof prefix, "layers.%d.1", i);
    return init_affine(&r.init[1], &r.weight, L->w2, L->b2, seed, prefix);
}

nninit_status nninit_arch_inits(const nninit_arch *arch, const nninit_layer_init *default_init,
                                nninit_layer_init_info *out) {
    if (!arch || !out) return nninit__err(NNINIT_ERR_NULL, "arch_inits: NULL argument");
    if (arch->n_layers < 1 || arch->n_layers > NNINIT_ARCH_MAX_LAYERS)
        return nninit__err(NNINIT_ERR_PARAM, "arch_inits: %d layers, need 1..%d", arch->n_layers,
                           NNINIT_ARCH_MAX_LAYERS);
    if (arch->in_c < 1 || arch->in_h < 1 || arch->in_w < 1)
        return nninit__err(NNINIT_ERR_SHAPE, "arch_inits: input shape %dx%dx%d", arch->in_c, arch->in_h, arch->in_w);
    int c = arch->in_c, h = arch->in_h, w = arch->in_w;
    nninit_status st;
    for (int i = 0; i < arch->n_layers; i++) {
        layer L;
        memset(&L, 0, sizeof L);
        if ((st = plan_layer(&arch->layers[i], i, c, h, w, &L))) return st;
        if ((st = layer_inits(&arch->layers[i], i, &L, default_init, &out[i]))) return st;
        c = L.out_c, h = L.out_h, w = L.out_w;
    }
    return NNINIT_OK;
}

/* ------------------------------------------------------------------------- */
/* Create / free                                                             */
/* ------------------------------------------------------------------------- */

void nninit_net_free(nninit_net *net) {
    if (!net) return;
    free(net->mem);
    free(net->layers);
    free(net);
}

nninit_status nninit_net_create(const nninit_arch *arch, int max_batch, const nninit_layer_init *default_init,
                                uint64_t seed, nninit_net **out) {
    nninit_status st;
    if (!arch || !out) return nninit__err(NNINIT_ERR_NULL, "net_create: NULL argument");
    if (max_batch < 1) return nninit__err(NNINIT_ERR_PARAM, "net_create: max_batch %d < 1", max_batch);
    if (arch->n_layers < 1 || arch->n_layers > NNINIT_ARCH_MAX_LAYERS)
        return nninit__err(NNINIT_ERR_PARAM, "net_create: %d layers, need 1..%d", arch->n_layers,
                           NNINIT_ARCH_MAX_LAYERS);
    if (arch->in_c < 1 || arch->in_h < 1 || arch->in_w < 1)
        return nninit__err(NNINIT_ERR_SHAPE, "net_create: input shape %dx%dx%d", arch->in_c, arch->in_h, arch->in_w);

    nninit_net *net = calloc(1, sizeof *net);
    if (!net) return nninit__err(NNINIT_ERR_NOMEM, "net_create: out of memory");
    net->layers = calloc((size_t)arch->n_layers, sizeof *net->layers);
    if (!net->layers) {
        nninit_net_free(net);
        return nninit__err(NNINIT_ERR_NOMEM, "net_create: out of memory");
    }
    net->n_layers = arch->n_layers;
    net->max_batch = max_batch;
    if ((st = shape_size(-1, arch->in_c, arch->in_h, arch->in_w, &net->in_size))) goto fail;

    int c = arch->in_c, h = arch->in_h, w = arch->in_w, src = -1;
    for (int i = 0; i < net->n_layers; i++) {
        layer *L = &net->layers[i];
        if ((st = plan_layer(&arch->layers[i], i, c, h, w, L))) goto fail;
        L->src = src;
        if (L->kind != NNINIT_LAYER_FLATTEN) src = i;
        c = L->out_c, h = L->out_h, w = L->out_w;
    }
    net->out_src = src;
    net->out_size = net->layers[net->n_layers - 1].out_size;

    arena a = {NULL, 0, 0.0};
    layout(net, &a);
    if (a.need * sizeof(float) > (double)(SIZE_MAX / 2)) {
        st = nninit__err(NNINIT_ERR_OVERFLOW, "net_create: buffers for max_batch %d overflow size_t", max_batch);
        goto fail;
    }
    /* calloc zeroes (large blocks come zeroed from mmap for free); +64 to align. */
    net->mem = calloc(a.used + 16, sizeof(float));
    if (!net->mem) {
        st = nninit__err(NNINIT_ERR_NOMEM, "net_create: cannot allocate %.0f MiB",
                         (double)a.used * sizeof(float) / 1048576.0);
        goto fail;
    }
    a.base = (float *)(((uintptr_t)net->mem + 63) & ~(uintptr_t)63);
    a.used = 0;
    layout(net, &a);

    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].kind != NNINIT_LAYER_FLATTEN &&
            (st = init_layer(&arch->layers[i], i, &net->layers[i], default_init, seed)))
            goto fail;
    *out = net;
    return NNINIT_OK;
fail:
    nninit_net_free(net);
    return st;
}

/* ------------------------------------------------------------------------- */
/* Forward, loss, backward, SGD                                              */
/* ------------------------------------------------------------------------- */

static void forward_residual(layer *L, int batch, float *ws) {
    size_t n = (size_t)batch * L->out_size;
    if (L->res_kind == NNINIT_LAYER_DENSE) {
        nninit__dense_forward(batch, L->out_size, L->out_size, L->in, L->w, L->b, L->h_pre);
        nninit__act_forward(L->inner_act, L->inner_ap, L->h_pre, L->h_post, n);
        nninit__dense_forward(batch, L->out_size, L->out_size, L->h_post, L->w2, L->b2, L->pre);
    } else {
        nninit__conv_forward(&L->g, batch, L->in, L->w, L->b, L->h_pre, ws);
        nninit__act_forward(L->inner_act, L->inner_ap, L->h_pre, L->h_post, n);
        nninit__conv_forward(&L->g, batch, L->h_post, L->w2, L->b2, L->pre, ws);
    }
    const float *x = L->in, alpha = L->alpha;
    float *pre = L->pre;
    for (size_t i = 0; i < n; i++) pre[i] = x[i] + alpha * pre[i];
}

nninit_status nninit_net_forward(nninit_net *net, const float *x, int batch) {
    if (!net || !x) return nninit__err(NNINIT_ERR_NULL, "net_forward: NULL argument");
    if (batch < 1 || batch > net->max_batch)
        return nninit__err(NNINIT_ERR_PARAM, "net_forward: batch %d not in 1..%d (max_batch)", batch, net->max_batch);
    /* memmove: x may be a view of this very buffer (a leading flatten's post) */
    memmove(net->input, x, (size_t)batch * net->in_size * sizeof *x);
    const nninit_matmul prev = nninit__matmul_use(net->matmul); /* for this call only */
    for (int i = 0; i < net->n_layers; i++) {
        layer *L = &net->layers[i];
        switch (L->kind) {
        case NNINIT_LAYER_DENSE: /* bias rows, sgemm accumulating onto them (as torch.addmm), activation */
            for (int n = 0; n < batch; n++)
                memcpy(L->pre + (size_t)n * L->out_size, L->b, (size_t)L->out_size * sizeof *L->b);
            nninit__sgemm(NNINIT__NO_TRANS, NNINIT__TRANS, batch, L->out_size, L->in_size, 1.0f, L->in, L->in_size,
                          L->w, L->in_size, 1.0f, L->pre, L->out_size);
            break;
        case NNINIT_LAYER_CONV2D: nninit__conv_forward(&L->g, batch, L->in, L->w, L->b, L->pre, net->conv_ws); break;
        case NNINIT_LAYER_RESIDUAL: forward_residual(L, batch, net->conv_ws); break;
        case NNINIT_LAYER_FLATTEN: continue;
        }
        nninit__act_forward(L->act, L->ap, L->pre, L->post, (size_t)batch * L->out_size);
    }
    nninit__matmul_use(prev);
    net->batch = batch;
    net->has_grad = 0;
    return NNINIT_OK;
}

const float *nninit_net_output(const nninit_net *net) { return net ? net->layers[net->n_layers - 1].post : NULL; }

nninit_status nninit_net_loss(nninit_net *net, const int *labels, double *loss) {
    if (!net || !labels || !loss) return nninit__err(NNINIT_ERR_NULL, "net_loss: NULL argument");
    if (!net->batch) return nninit__err(NNINIT_ERR_PARAM, "net_loss: no forward pass yet");
    const int k = net->out_size, batch = net->batch;
    for (int n = 0; n < batch; n++)
        if (labels[n] < 0 || labels[n] >= k)
            return nninit__err(NNINIT_ERR_PARAM, "net_loss: labels[%d] = %d not in 0..%d", n, labels[n], k - 1);
    const float *out = nninit_net_output(net);
    double total = 0.0;
    for (int n = 0; n < batch; n++) {
        /* log-sum-exp shifted by the row max: every exp() is <= 1. */
        const float *z = out + (size_t)n * k;
        float *g = net->dout + (size_t)n * k;
        double m = z[0], s = 0.0;
        for (int j = 1; j < k; j++)
            if (z[j] > m) m = z[j];
        for (int j = 0; j < k; j++) s += exp((double)z[j] - m);
        total += m + log(s) - z[labels[n]];
        for (int j = 0; j < k; j++) g[j] = (float)((exp((double)z[j] - m) / s - (j == labels[n])) / batch);
    }
    *loss = total / batch;
    net->has_grad = 1;
    return NNINIT_OK;
}

nninit_status nninit_net_set_output_grad(nninit_net *net, const float *g) {
    if (!net || !g) return nninit__err(NNINIT_ERR_NULL, "net_set_output_grad: NULL argument");
    if (!net->batch) return nninit__err(NNINIT_ERR_PARAM, "net_set_output_grad: no forward pass yet");
    memcpy(net->dout, g, (size_t)net->batch * net->out_size * sizeof *g);
    net->has_grad = 1;
    return NNINIT_OK;
}

/* Residual backward from L->dpre; dx (the source's dpre) may be NULL. */
static void backward_residual(nninit_net *net, layer *L, int batch, float *dx) {
    size_t n = (size_t)batch * L->out_size;
    const float *df = L->dpre; /* dL/df = alpha dL/dpre */
    if (L->alpha != 1.0f) {
        for (size_t i = 0; i < n; i++) net->rd1[i] = L->alpha * L->dpre[i];
        df = net->rd1;
    }
    if (dx) memcpy(dx, L->dpre, n * sizeof *dx); /* the identity path */
    if (L->res_kind == NNINIT_LAYER_DENSE) {
        int d = L->out_size;
        nninit__dense_backward(batch, d, d, L->h_post, L->w2, df, L->dw2, L->db2, net->rd0, 0);
        nninit__act_backward(L->inner_act, L->inner_ap, L->h_pre, L->h_post, net->rd0, n);
        nninit__dense_backward(batch, d, d, L->in, L->w, net->rd0, L->dw, L->db, dx, 1);
    } else {
        nninit__conv_backward(&L->g, batch, L->h_post, L->w2, df, L->dw2, L->db2, net->rd0, 0, net->conv_ws);
        nninit__act_backward(L->inner_act, L->inner_ap, L->h_pre, L->h_post, net->rd0, n);
        nninit__conv_backward(&L->g, batch, L->in, L->w, net->rd0, L->dw, L->db, dx, 1, net->conv_ws);
    }
}

nninit_status nninit_net_backward(nninit_net *net) {
    if (!net) return nninit__err(NNINIT_ERR_NULL, "net_backward: NULL net");
    if (!net->has_grad)
        return nninit__err(NNINIT_ERR_PARAM,
                           "net_backward: no output gradient; call nninit_net_loss or nninit_net_set_output_grad "
                           "after the forward pass");
    const int batch = net->batch;
    if (net->out_src < 0) return NNINIT_OK; /* only flattens: nothing to learn */
    layer *O = &net->layers[net->out_src];
    size_t no = (size_t)batch * O->out_size;
    memcpy(O->dpre, net->dout, no * sizeof *O->dpre);
    nninit__act_backward(O->act, O->ap, O->pre, O->post, O->dpre, no);
    const nninit_matmul prev = nninit__matmul_use(net->matmul); /* for this call only */
    for (int i = net->out_src; i >= 0; i--) {
        layer *L = &net->layers[i];
        if (L->kind == NNINIT_LAYER_FLATTEN) continue;
        layer *S = L->src >= 0 ? &net->layers[L->src] : NULL;
        float *dx = S ? S->dpre : NULL;
        switch (L->kind) {
        case NNINIT_LAYER_DENSE:
            nninit__dense_backward(batch, L->in_size, L->out_size, L->in, L->w, L->dpre, L->dw, L->db, dx, 0);
            break;
        case NNINIT_LAYER_CONV2D:
            nninit__conv_backward(&L->g, batch, L->in, L->w, L->dpre, L->dw, L->db, dx, 0, net->conv_ws);
            break;
        case NNINIT_LAYER_RESIDUAL: backward_residual(net, L, batch, dx); break;
        case NNINIT_LAYER_FLATTEN: break;
        }
        if (S) nninit__act_backward(S->act, S->ap, S->pre, S->post, dx, (size_t)batch * S->out_size);
    }
    nninit__matmul_use(prev);
    return NNINIT_OK;
}

nninit_status nninit_net_set_matmul(nninit_net *net, nninit_matmul m) {
    if (!net) return nninit__err(NNINIT_ERR_NULL, "net_set_matmul: NULL net");
    if (m != NNINIT_MATMUL_BLAS && m != NNINIT_MATMUL_REFERENCE)
        return nninit__err(NNINIT_ERR_PARAM, "net_set_matmul: %d is not an nninit_matmul (0 blas, 1 reference)",
                           (int)m);
    net->matmul = m;
    return NNINIT_OK;
}

nninit_matmul nninit_net_matmul(const nninit_net *net) { return net ? net->matmul : NNINIT_MATMUL_BLAS; }

static void sgd(float *w, const float *g, size_t n, float lr) {
    for (size_t i = 0; i < n; i++) w[i] -= lr * g[i];
}

nninit_status nninit_net_sgd_step(nninit_net *net, float lr) {
    if (!net) return nninit__err(NNINIT_ERR_NULL, "net_sgd_step: NULL net");
    if (!isfinite(lr)) return nninit__err(NNINIT_ERR_PARAM, "net_sgd_step: learning rate %g is not finite", lr);
    for (int i = 0; i < net->n_layers; i++) {
        layer *L = &net->layers[i];
        if (L->kind == NNINIT_LAYER_FLATTEN) continue;
        sgd(L->w, L->dw, (size_t)L->w_rows * L->w_cols, lr);
        sgd(L->b, L->db, (size_t)L->w_rows, lr);
        if (L->kind == NNINIT_LAYER_RESIDUAL) {
            sgd(L->w2, L->dw2, (size_t)L->w2_rows * L->w2_cols, lr);
            sgd(L->b2, L->db2, (size_t)L->w2_rows, lr);
        }
    }
    return NNINIT_OK;
}

/* ------------------------------------------------------------------------- */
/* Inspection                                                                */
/* ------------------------------------------------------------------------- */

int nninit__net_params(nninit_net *net, nninit__param *p, int cap) {
    int k = 0;
#define PUT(W, G, N)                                                                                                   \
    do {                                                                                                               \
        if (p && k < cap) p[k] = (nninit__param){(W), (G), (N)};                                                       \
        k++;                                                                                                           \
    } while (0)
    for (int i = 0; i < net->n_layers; i++) {
        layer *L = &net->layers[i];
        if (L->kind == NNINIT_LAYER_FLATTEN) continue;
        PUT(L->w, L->dw, (size_t)L->w_rows * L->w_cols);
        PUT(L->b, L->db, (size_t)L->w_rows);
        if (L->kind == NNINIT_LAYER_RESIDUAL) {
            PUT(L->w2, L->dw2, (size_t)L->w2_rows * L->w2_cols);
            PUT(L->b2, L->db2, (size_t)L->w2_rows);
        }
    }
#undef PUT
    return k;
}

int nninit_net_max_batch(const nninit_net *net) { return net ? net->max_batch : 0; }
int nninit_net_layers(const nninit_net *net) { return net ? net->n_layers : 0; }
int nninit_net_batch(const nninit_net *net) { return net ? net->batch : 0; }
int nninit_net_input_size(const nninit_net *net) { return net ? net->in_size : 0; }
int nninit_net_output_size(const nninit_net *net) { return net ? net->out_size : 0; }

nninit_status nninit_net_layer(const nninit_net *net, int l, nninit_layer_view *v) {
    if (!net || !v) return nninit__err(NNINIT_ERR_NULL, "net_layer: NULL argument");
    if (l < 0 || l >= net->n_layers)
        return nninit__err(NNINIT_ERR_PARAM, "net_layer: layer %d not in 0..%d", l, net->n_layers - 1);
    const layer *L = &net->layers[l];
    nninit_layer_view r = {0};
    r.kind = L->kind;
    r.act = L->act;
    r.act_param = L->ap;
    r.out_size = L->out_size;
    r.out_c = L->out_c, r.out_h = L->out_h, r.out_w = L->out_w;
    r.pre = L->pre, r.post = L->post, r.dpre = L->dpre;
    r.w = L->w, r.b = L->b, r.dw = L->dw, r.db = L->db;
    r.w_rows = L->w_rows, r.w_cols = L->w_cols;
    r.w2 = L->w2, r.b2 = L->b2, r.dw2 = L->dw2, r.db2 = L->db2;
    r.w2_rows = L->w2_rows, r.w2_cols = L->w2_cols;
    *v = r;
    return NNINIT_OK;
}

/* presets.c -- layer presets: the parameters a framework's layer constructor
 * creates and the initialization it gives them (include/nninit_presets.h).
 * Each rule cites the source it reproduces: PyTorch 1.13 torch/nn/modules,
 * Keras keras/src/initializers (VarianceScaling, compute_fans), Flax
 * flax/linen/linear.py with JAX jax/_src/nn/initializers.py. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "nninit_presets.h"

typedef enum {
    P_TORCH_LINEAR,
    P_TORCH_CONV,
    P_TORCH_CONV_T,
    P_TORCH_EMBEDDING,
    P_TORCH_RNN,
    P_TORCH_NORM,
    P_TORCH_MHA,
    P_KERAS_DENSE,
    P_KERAS_CONV,
    P_FLAX_DENSE,
    P_FLAX_CONV
} preset_kind;

typedef struct {
    const char *name;
    preset_kind kind;
    int rank;  /* spatial dims of a conv; 0 = from the kernel (flax.Conv) */
    int gates; /* RNN family */
} preset_def;

static const preset_def presets[] = {
    {"torch.Linear", P_TORCH_LINEAR, 0, 0},
    {"torch.Conv1d", P_TORCH_CONV, 1, 0},
    {"torch.Conv2d", P_TORCH_CONV, 2, 0},
    {"torch.Conv3d", P_TORCH_CONV, 3, 0},
    {"torch.ConvTranspose1d", P_TORCH_CONV_T, 1, 0},
    {"torch.ConvTranspose2d", P_TORCH_CONV_T, 2, 0},
    {"torch.ConvTranspose3d", P_TORCH_CONV_T, 3, 0},
    {"torch.Embedding", P_TORCH_EMBEDDING, 0, 0},
    {"torch.RNN", P_TORCH_RNN, 0, 1},
    {"torch.LSTM", P_TORCH_RNN, 0, 4},
    {"torch.GRU", P_TORCH_RNN, 0, 3},
    {"torch.LayerNorm", P_TORCH_NORM, 0, 0},
    {"torch.BatchNorm1d", P_TORCH_NORM, 0, 0},
    {"torch.BatchNorm2d", P_TORCH_NORM, 0, 0},
    {"torch.BatchNorm3d", P_TORCH_NORM, 0, 0},
    {"torch.MultiheadAttention", P_TORCH_MHA, 0, 0},
    {"keras.Dense", P_KERAS_DENSE, 0, 0},
    {"keras.Conv1D", P_KERAS_CONV, 1, 0},
    {"keras.Conv2D", P_KERAS_CONV, 2, 0},
    {"keras.Conv3D", P_KERAS_CONV, 3, 0},
    {"flax.Dense", P_FLAX_DENSE, 0, 0},
    {"flax.Conv", P_FLAX_CONV, 0, 0},
};
#define PRESET_COUNT ((int)(sizeof presets / sizeof presets[0]))

int nninit_preset_count(void) { return PRESET_COUNT; }

const char *nninit_preset_name(int i) { return i >= 0 && i < PRESET_COUNT ? presets[i].name : NULL; }

nninit_layer nninit_layer_default(void) {
    nninit_layer l = {0};
    l.groups = 1;
    l.bias = 1;
    l.num_layers = 1;
    l.padding_idx = NNINIT_NO_PADDING_IDX;
    l.num_heads = 1;
    l.dtype = NNINIT_F32;
    return l;
}

/* Parameters are made twice: once counting and checking (out == NULL), then
 * writing, so that an error leaves params untouched. */
typedef struct {
    nninit_param *out;
    int n;
    const char *preset;
    nninit_dtype dtype;
} builder;

static nninit_status emit(builder *b, const char *name, int ndim, const int64_t *shape, nninit_layout layout,
                          int64_t groups, nninit_spec spec, int64_t zero_row) {
    nninit_tensor t = nninit_tensor_make(ndim, shape, b->dtype);
    t.layout = layout;
    t.groups = groups;
    if (!b->out) {
        nninit_info info;
        nninit_status st = nninit_explain(&spec, &t, &info);
        if (st) return nninit__err(st, "%s: %s: %s", b->preset, name, nninit_last_error());
        b->n++;
        return NNINIT_OK;
    }
    nninit_param *p = &b->out[b->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->tensor = t;
    p->spec = spec;
    p->zero_row = zero_row;
    return NNINIT_OK;
}

static nninit_spec uniform_pm(double bound) {
    nninit_spec s = nninit_spec_default(NNINIT_UNIFORM);
    s.a = -bound;
    s.b = bound;
    return s;
}

/* torch/nn/modules/linear.py:107 and conv.py:150:
 * init.kaiming_uniform_(self.weight, a=math.sqrt(5)), i.e. gain
 * sqrt(2/(1+a^2)), std = gain/sqrt(fan_in), bound = sqrt(3)*std (init.py). */
static nninit_spec torch_weight_spec(void) {
    nninit_spec s = nninit_spec_default(NNINIT_KAIMING_UNIFORM);
    s.slope = sqrt(5.0);
    s.mode = NNINIT_FAN_IN;
    s.nonlinearity = NNINIT_NL_LEAKY_RELU;
    return s;
}

/* linear.py:109-111, conv.py:152-155: fan_in from
 * _calculate_fan_in_and_fan_out(self.weight), bound = 1 / math.sqrt(fan_in). */
static nninit_status torch_weight_and_bias(builder *b, const char *wname, const char *bname, int ndim,
                                           const int64_t *shape, int64_t groups, int bias) {
    nninit_status st = emit(b, wname, ndim, shape, NNINIT_LAYOUT_OIHW, groups, torch_weight_spec(), -1);
    if (st || !bias) return st;
    nninit_tensor w = nninit_tensor_make(ndim, shape, b->dtype);
    double fi, fo;
    if ((st = nninit_fans(&w, &fi, &fo))) return nninit__err(st, "%s: %s", b->preset, nninit_last_error());
    int64_t bshape[1] = {shape[0]};
    return emit(b, bname, 1, bshape, NNINIT_LAYOUT_OIHW, 1, uniform_pm(1.0 / sqrt(fi)), -1);
}

static nninit_status check_size(const char *preset, const char *what, int64_t v) {
    if (v < 1) return nninit__err(NNINIT_ERR_SHAPE, "%s: %s is %lld; it must be >= 1", preset, what, (long long)v);
    return NNINIT_OK;
}

static nninit_status check_flag(const char *preset, const char *what, int v) {
    if (v != 0 && v != 1) return nninit__err(NNINIT_ERR_PARAM, "%s: %s is %d; it must be 0 or 1", preset, what, v);
    return NNINIT_OK;
}

static nninit_status check_groups(const char *preset, const nninit_layer *l) {
    if (l->groups < 1)
        return nninit__err(NNINIT_ERR_GROUPS, "%s: groups %lld must be >= 1", preset, (long long)l->groups);
    if (l->in % l->groups)
        return nninit__err(NNINIT_ERR_GROUPS, "%s: in (%lld) must be divisible by groups (%lld)", preset,
                           (long long)l->in, (long long)l->groups);
    if (l->out % l->groups)
        return nninit__err(NNINIT_ERR_GROUPS, "%s: out (%lld) must be divisible by groups (%lld)", preset,
                           (long long)l->out, (long long)l->groups);
    return NNINIT_OK;
}

/* The conv's spatial rank: fixed by the preset, or (flax.Conv) the leading
 * kernel entries >= 1 followed only by zeros. Checks the entries read. */
static nninit_status kernel_rank(const char *preset, int fixed, const int64_t *k, int *rank) {
    int r = fixed;
    if (!r) {
        while (r < 3 && k[r] >= 1) r++;
        for (int i = r; i < 3; i++)
            if (k[i] != 0)
                return nninit__err(NNINIT_ERR_SHAPE, "%s: kernel[%d] is %lld; the kernel is its leading entries >= 1",
                                   preset, i, (long long)k[i]);
        if (!r) return nninit__err(NNINIT_ERR_SHAPE, "%s: kernel[0] is %lld; it must be >= 1", preset, (long long)k[0]);
    }
    for (int i = 0; i < r; i++)
        if (k[i] < 1)
            return nninit__err(NNINIT_ERR_SHAPE, "%s: kernel[%d] is %lld; it must be >= 1", preset, i, (long long)k[i]);
    *rank = r;
    return NNINIT_OK;
}

/* Keras keras/src/initializers/random_initializers.py VarianceScaling with
 * GlorotUniform's scale 1, fan_avg, uniform:
 *   scale /= max(1.0, (fan_in + fan_out) / 2.0); limit = math.sqrt(3.0 * scale)
 * with compute_fans (same file) = nninit's HWIO fans. */
static nninit_status keras_kernel(builder *b, int ndim, const int64_t *shape, nninit_spec *out) {
    nninit_tensor t = nninit_tensor_make(ndim, shape, b->dtype);
    t.layout = NNINIT_LAYOUT_HWIO;
    double fi, fo;
    nninit_status st = nninit_fans(&t, &fi, &fo);
    if (st) return nninit__err(st, "%s: %s", b->preset, nninit_last_error());
    double scale = 1.0 / fmax(1.0, (fi + fo) / 2.0);
    *out = uniform_pm(sqrt(3.0 * scale));
    return NNINIT_OK;
}

/* Flax flax/linen/linear.py default_kernel_init = lecun_normal(), JAX
 * jax/_src/nn/initializers.py variance_scaling(1.0, "fan_in",
 * "truncated_normal"):
 *   variance = jnp.array(scale / denominator, dtype=dtype)
 *   stddev = jnp.sqrt(variance) / jnp.array(.87962566103423978, dtype)
 *   return random.truncated_normal(key, -2, 2, shape, dtype) * stddev
 * in the parameter dtype: float32 (Flax's default param_dtype) unless f64. */
static nninit_status flax_kernel(builder *b, int ndim, const int64_t *shape, nninit_spec *out) {
    nninit_tensor t = nninit_tensor_make(ndim, shape, b->dtype);
    t.layout = NNINIT_LAYOUT_HWIO;
    double fi, fo;
    nninit_status st = nninit_fans(&t, &fi, &fo);
    if (st) return nninit__err(st, "%s: %s", b->preset, nninit_last_error());
    double var = 1.0 / fi, std;
    if (b->dtype == NNINIT_F64) std = sqrt(var) / 0.87962566103423978;
    else std = (double)(sqrtf((float)var) / (float)0.87962566103423978);
    nninit_spec s = nninit_spec_default(NNINIT_TRUNC_NORMAL_STD);
    s.std = std; /* mean 0, a = -2, b = 2 (std units) */
    *out = s;
    return NNINIT_OK;
}

static nninit_status build_conv(builder *b, const preset_def *ps, const nninit_layer *l) {
    nninit_status st;
    int rank = 0;
    if ((st = check_size(ps->name, "in", l->in)) || (st = check_size(ps->name, "out", l->out)) ||
        (st = kernel_rank(ps->name, ps->rank, l->kernel, &rank)) || (st = check_groups(ps->name, l)) ||
        (st = check_flag(ps->name, "bias", l->bias)))
        return st;
    int64_t shape[5];
    int nd = rank + 2;
    switch (ps->kind) {
    case P_TORCH_CONV:
        /* conv.py:139-141: (out_channels, in_channels // groups, *kernel_size) */
        shape[0] = l->out;
        shape[1] = l->in / l->groups;
        for (int i = 0; i < rank; i++) shape[2 + i] = l->kernel[i];
        return torch_weight_and_bias(b, "weight", "bias", nd, shape, l->groups, l->bias);
    case P_TORCH_CONV_T:
        /* conv.py:136-138 (transposed): (in_channels, out_channels // groups,
         * *kernel_size), initialized by the same reset_parameters: the OIHW
         * rule on this shape, fan_in = out/groups * prod(k), bias likewise. */
        shape[0] = l->in;
        shape[1] = l->out / l->groups;
        for (int i = 0; i < rank; i++) shape[2 + i] = l->kernel[i];
        {
            if ((st = emit(b, "weight", nd, shape, NNINIT_LAYOUT_OIHW, l->groups, torch_weight_spec(), -1)) || !l->bias)
                return st;
            nninit_tensor w = nninit_tensor_make(nd, shape, b->dtype);
            double fi, fo;
            if ((st = nninit_fans(&w, &fi, &fo))) return nninit__err(st, "%s: %s", b->preset, nninit_last_error());
            int64_t bshape[1] = {l->out}; /* bias: (out_channels,) */
            return emit(b, "bias", 1, bshape, NNINIT_LAYOUT_OIHW, 1, uniform_pm(1.0 / sqrt(fi)), -1);
        }
    default: {
        /* Keras Conv: kernel_size + (input_channel // groups, filters);
         * Flax Conv: kernel_size + (in_features // feature_group_count, features). */
        for (int i = 0; i < rank; i++) shape[i] = l->kernel[i];
        shape[rank] = l->in / l->groups;
        shape[rank + 1] = l->out;
        nninit_spec ks;
        st = ps->kind == P_KERAS_CONV ? keras_kernel(b, nd, shape, &ks) : flax_kernel(b, nd, shape, &ks);
        if (st || (st = emit(b, "kernel", nd, shape, NNINIT_LAYOUT_HWIO, l->groups, ks, -1)) || !l->bias) return st;
        int64_t bshape[1] = {l->out};
        return emit(b, "bias", 1, bshape, NNINIT_LAYOUT_HWIO, 1, nninit_spec_default(NNINIT_ZEROS), -1);
    }
    }
}

static nninit_status build_dense(builder *b, const preset_def *ps, const nninit_layer *l) {
    nninit_status st;
    if ((st = check_size(ps->name, "in", l->in)) || (st = check_size(ps->name, "out", l->out)) ||
        (st = check_flag(ps->name, "bias", l->bias)))
        return st;
    if (ps->kind == P_TORCH_LINEAR) {
        int64_t shape[2] = {l->out, l->in}; /* linear.py:96 (out_features, in_features) */
        return torch_weight_and_bias(b, "weight", "bias", 2, shape, 1, l->bias);
    }
    int64_t shape[2] = {l->in, l->out}; /* Keras Dense, Flax Dense: (input_dim, units) */
    nninit_spec ks;
    st = ps->kind == P_KERAS_DENSE ? keras_kernel(b, 2, shape, &ks) : flax_kernel(b, 2, shape, &ks);
    if (st || (st = emit(b, "kernel", 2, shape, NNINIT_LAYOUT_HWIO, 1, ks, -1)) || !l->bias) return st;
    int64_t bshape[1] = {l->out};
    return emit(b, "bias", 1, bshape, NNINIT_LAYOUT_HWIO, 1, nninit_spec_default(NNINIT_ZEROS), -1);
}

/* sparse.py:150-157: init.normal_(self.weight), then row padding_idx zero;
 * padding_idx < 0 counts from the end (sparse.py:130-135). */
static nninit_status build_embedding(builder *b, const preset_def *ps, const nninit_layer *l) {
    nninit_status st;
    if ((st = check_size(ps->name, "in (num_embeddings)", l->in)) ||
        (st = check_size(ps->name, "out (embedding_dim)", l->out)))
        return st;
    int64_t row = -1;
    if (l->padding_idx != NNINIT_NO_PADDING_IDX) {
        if (l->padding_idx >= l->in || l->padding_idx < -l->in)
            return nninit__err(NNINIT_ERR_PARAM, "%s: padding_idx %lld must be within num_embeddings (%lld)", ps->name,
                               (long long)l->padding_idx, (long long)l->in);
        row = l->padding_idx < 0 ? l->in + l->padding_idx : l->padding_idx;
    }
    int64_t shape[2] = {l->in, l->out};
    return emit(b, "weight", 2, shape, NNINIT_LAYOUT_EMBEDDING, 1, nninit_spec_default(NNINIT_NORMAL), row);
}

/* rnn.py:60-125 (shapes and names), rnn.py:198-201 (reset_parameters):
 * stdv = 1.0 / math.sqrt(self.hidden_size); every parameter U(-stdv, stdv). */
static nninit_status build_rnn(builder *b, const preset_def *ps, const nninit_layer *l) {
    nninit_status st;
    if ((st = check_size(ps->name, "in (input_size)", l->in)) ||
        (st = check_size(ps->name, "out (hidden_size)", l->out)) || (st = check_flag(ps->name, "bias", l->bias)) ||
        (st = check_flag(ps->name, "bidirectional", l->bidirectional)))
        return st;
    if (l->num_layers < 1 || l->num_layers > INT_MAX / 10)
        return nninit__err(NNINIT_ERR_PARAM, "%s: num_layers %d must be in 1..%d", ps->name, l->num_layers,
                           INT_MAX / 10);
    if (l->proj_size != 0 && ps->gates != 4)
        return nninit__err(NNINIT_ERR_PARAM, "%s: proj_size is only for torch.LSTM", ps->name);
    if (l->proj_size < 0 || l->proj_size >= l->out)
        return nninit__err(NNINIT_ERR_PARAM, "%s: proj_size %lld must be in 0..hidden_size-1 (%lld)", ps->name,
                           (long long)l->proj_size, (long long)(l->out - 1));
    if (l->out > INT64_MAX / 4 || (l->proj_size ? l->proj_size : l->out) > INT64_MAX / 2)
        return nninit__err(NNINIT_ERR_OVERFLOW, "%s: hidden_size %lld overflows the gate size", ps->name,
                           (long long)l->out);
    int64_t gate = ps->gates * l->out, real_hidden = l->proj_size ? l->proj_size : l->out;
    int dirs = l->bidirectional ? 2 : 1;
    nninit_spec u = uniform_pm(1.0 / sqrt((double)l->out));
    char name[NNINIT_PARAM_NAME_MAX];
    for (int k = 0; k < l->num_layers; k++) {
        for (int d = 0; d < dirs; d++) {
            const char *sfx = d ? "_reverse" : "";
            int64_t ih[2] = {gate, k == 0 ? l->in : real_hidden * dirs}, hh[2] = {gate, real_hidden}, bv[1] = {gate};
            int64_t hr[2] = {l->proj_size, l->out};
            snprintf(name, sizeof name, "weight_ih_l%d%s", k, sfx);
            if ((st = emit(b, name, 2, ih, NNINIT_LAYOUT_OIHW, 1, u, -1))) return st;
            snprintf(name, sizeof name, "weight_hh_l%d%s", k, sfx);
            if ((st = emit(b, name, 2, hh, NNINIT_LAYOUT_OIHW, 1, u, -1))) return st;
            if (l->bias) {
                snprintf(name, sizeof name, "bias_ih_l%d%s", k, sfx);
                if ((st = emit(b, name, 1, bv, NNINIT_LAYOUT_OIHW, 1, u, -1))) return st;
                snprintf(name, sizeof name, "bias_hh_l%d%s", k, sfx);
                if ((st = emit(b, name, 1, bv, NNINIT_LAYOUT_OIHW, 1, u, -1))) return st;
            }
            if (l->proj_size) {
                snprintf(name, sizeof name, "weight_hr_l%d%s", k, sfx);
                if ((st = emit(b, name, 2, hr, NNINIT_LAYOUT_OIHW, 1, u, -1))) return st;
            }
        }
    }
    return NNINIT_OK;
}

/* normalization.py:184-187 (LayerNorm), batchnorm.py:76-80 (_NormBase):
 * init.ones_(self.weight); init.zeros_(self.bias), when affine. */
static nninit_status build_norm(builder *b, const preset_def *ps, const nninit_layer *l) {
    nninit_status st;
    if ((st = check_size(ps->name, "out", l->out)) || (st = check_flag(ps->name, "bias (affine)", l->bias)) || !l->bias)
        return st;
    int64_t shape[1] = {l->out};
    if ((st = emit(b, "weight", 1, shape, NNINIT_LAYOUT_OIHW, 1, nninit_spec_default(NNINIT_ONES), -1))) return st;
    return emit(b, "bias", 1, shape, NNINIT_LAYOUT_OIHW, 1, nninit_spec_default(NNINIT_ZEROS), -1);
}

/* activation.py:954-1003. Parameters in named_parameters() order: the
 * module's own (in_proj_weight, in_proj_bias, bias_k, bias_v), then
 * out_proj's. in_proj_weight xavier_uniform_, in_proj_bias and out_proj.bias
 * constant_ 0, bias_k / bias_v xavier_normal_; out_proj.weight keeps
 * NonDynamicallyQuantizableLinear's (= Linear's) kaiming_uniform_(a=sqrt(5)). */
static nninit_status build_mha(builder *b, const preset_def *ps, const nninit_layer *l) {
    nninit_status st;
    if ((st = check_size(ps->name, "out (embed_dim)", l->out)) || (st = check_flag(ps->name, "bias", l->bias)) ||
        (st = check_flag(ps->name, "add_bias_kv", l->add_bias_kv)))
        return st;
    if (l->num_heads < 1 || l->out % l->num_heads)
        return nninit__err(NNINIT_ERR_PARAM, "%s: embed_dim (%lld) must be divisible by num_heads (%lld)", ps->name,
                           (long long)l->out, (long long)l->num_heads);
    if (l->out > INT64_MAX / 3)
        return nninit__err(NNINIT_ERR_OVERFLOW, "%s: embed_dim %lld overflows 3 * embed_dim", ps->name,
                           (long long)l->out);
    int64_t e = l->out, in_w[2] = {3 * e, e}, in_b[1] = {3 * e}, kv[3] = {1, 1, e}, out_w[2] = {e, e}, out_b[1] = {e};
    nninit_spec zeros = nninit_spec_default(NNINIT_ZEROS);
    if ((st =
             emit(b, "in_proj_weight", 2, in_w, NNINIT_LAYOUT_OIHW, 1, nninit_spec_default(NNINIT_XAVIER_UNIFORM), -1)))
        return st;
    if (l->bias && (st = emit(b, "in_proj_bias", 1, in_b, NNINIT_LAYOUT_OIHW, 1, zeros, -1))) return st;
    if (l->add_bias_kv) {
        nninit_spec xn = nninit_spec_default(NNINIT_XAVIER_NORMAL);
        if ((st = emit(b, "bias_k", 3, kv, NNINIT_LAYOUT_OIHW, 1, xn, -1)) ||
            (st = emit(b, "bias_v", 3, kv, NNINIT_LAYOUT_OIHW, 1, xn, -1)))
            return st;
    }
    if ((st = emit(b, "out_proj.weight", 2, out_w, NNINIT_LAYOUT_OIHW, 1, torch_weight_spec(), -1))) return st;
    if (l->bias && (st = emit(b, "out_proj.bias", 1, out_b, NNINIT_LAYOUT_OIHW, 1, zeros, -1))) return st;
    return NNINIT_OK;
}

static nninit_status build(builder *b, const preset_def *ps, const nninit_layer *l) {
    switch (ps->kind) {
    case P_TORCH_LINEAR:
    case P_KERAS_DENSE:
    case P_FLAX_DENSE: return build_dense(b, ps, l);
    case P_TORCH_CONV:
    case P_TORCH_CONV_T:
    case P_KERAS_CONV:
    case P_FLAX_CONV: return build_conv(b, ps, l);
    case P_TORCH_EMBEDDING: return build_embedding(b, ps, l);
    case P_TORCH_RNN: return build_rnn(b, ps, l);
    case P_TORCH_NORM: return build_norm(b, ps, l);
    case P_TORCH_MHA: return build_mha(b, ps, l);
    }
    return nninit__err(NNINIT_ERR_PARAM, "%s: unknown preset kind", ps->name);
}

nninit_status nninit_preset_params(const char *preset, const nninit_layer *layer, nninit_param *params, int cap,
                                   int *count) {
    if (!preset || !layer || !count) return nninit__err(NNINIT_ERR_NULL, "preset: NULL preset, layer or count");
    if (!params && cap > 0) return nninit__err(NNINIT_ERR_NULL, "preset: NULL params with cap %d", cap);
    const preset_def *ps = NULL;
    for (int i = 0; i < PRESET_COUNT; i++)
        if (!strcmp(presets[i].name, preset)) ps = &presets[i];
    if (!ps) return nninit__err(NNINIT_ERR_UNKNOWN_NAME, "preset: unknown preset '%s'", preset);
    if (nninit_dtype_size(layer->dtype) == 0)
        return nninit__err(NNINIT_ERR_DTYPE, "%s: unknown dtype %d", ps->name, (int)layer->dtype);
    builder b = {NULL, 0, ps->name, layer->dtype};
    nninit_status st = build(&b, ps, layer);
    if (st) return st;
    *count = b.n;
    if (!params && cap == 0) return NNINIT_OK;
    if (cap < b.n)
        return nninit__err(NNINIT_ERR_PARAM, "%s: the layer has %d parameters; cap is %d", ps->name, b.n, cap);
    b.out = params;
    b.n = 0;
    return build(&b, ps, layer);
}

nninit_status nninit_param_fill(const nninit_param *p, nninit_key key, void *data) {
    if (!p || !data) return nninit__err(NNINIT_ERR_NULL, "param_fill: NULL param or data");
    int64_t numel;
    nninit_status st = nninit_tensor_numel(&p->tensor, &numel);
    if (st) return st;
    if (p->zero_row >= p->tensor.shape[0])
        return nninit__err(NNINIT_ERR_SHAPE, "param_fill: %s: zero_row %lld is not a row of %lld", p->name,
                           (long long)p->zero_row, (long long)p->tensor.shape[0]);
    if ((st = nninit_fill(&p->spec, &p->tensor, key, data))) return st;
    if (p->zero_row >= 0) {
        /* +0.0 is all zero bits in every dtype nninit has. */
        size_t es = nninit_dtype_size(p->tensor.dtype), row = (size_t)(numel / p->tensor.shape[0]);
        memset((char *)data + (size_t)p->zero_row * row * es, 0, row * es);
    }
    return NNINIT_OK;
}

/* ---- preset text: "torch.Conv2d(in=3, out=64, kernel=7)" ---------------- */

enum {
    F_IN = 1 << 0,
    F_OUT = 1 << 1,
    F_KERNEL = 1 << 2,
    F_GROUPS = 1 << 3,
    F_BIAS = 1 << 4,
    F_NUM_LAYERS = 1 << 5,
    F_BIDIRECTIONAL = 1 << 6,
    F_PROJ_SIZE = 1 << 7,
    F_PADDING_IDX = 1 << 8,
    F_NUM_HEADS = 1 << 9,
    F_ADD_BIAS_KV = 1 << 10,
    F_DTYPE = 1 << 11
};

static const char *const field_names[] = {"in",          "out",        "kernel",        "groups",
                                          "bias",        "num_layers", "bidirectional", "proj_size",
                                          "padding_idx", "num_heads",  "add_bias_kv",   "dtype"};
#define FIELD_COUNT ((int)(sizeof field_names / sizeof field_names[0]))

/* The fields each kind reads (the table in nninit_presets.h). */
static unsigned kind_fields(const preset_def *ps) {
    switch (ps->kind) {
    case P_TORCH_LINEAR:
    case P_KERAS_DENSE:
    case P_FLAX_DENSE: return F_IN | F_OUT | F_BIAS | F_DTYPE;
    case P_TORCH_CONV:
    case P_TORCH_CONV_T:
    case P_KERAS_CONV:
    case P_FLAX_CONV: return F_IN | F_OUT | F_KERNEL | F_GROUPS | F_BIAS | F_DTYPE;
    case P_TORCH_EMBEDDING: return F_IN | F_OUT | F_PADDING_IDX | F_DTYPE;
    case P_TORCH_RNN:
        return F_IN | F_OUT | F_BIAS | F_NUM_LAYERS | F_BIDIRECTIONAL | (ps->gates == 4 ? F_PROJ_SIZE : 0u) | F_DTYPE;
    case P_TORCH_NORM: return F_OUT | F_BIAS | F_DTYPE;
    case P_TORCH_MHA: return F_OUT | F_NUM_HEADS | F_BIAS | F_ADD_BIAS_KV | F_DTYPE;
    }
    return 0;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static int is_word(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

static nninit_status perr(size_t at, const char *what) {
    return nninit__err(NNINIT_ERR_PARAM, "preset: at %zu: %s", at + 1, what);
}

/* A decimal integer (optional '-') at text[*i]; *i moves past it. */
static nninit_status parse_int(const char *text, size_t *i, int64_t lo, int64_t hi, int64_t *out) {
    size_t j = *i;
    int neg = text[j] == '-';
    if (neg) j++;
    if (text[j] < '0' || text[j] > '9') return perr(*i, "expected an integer");
    uint64_t v = 0;
    for (; text[j] >= '0' && text[j] <= '9'; j++) {
        if (v > (UINT64_MAX - 9) / 10) return perr(*i, "integer out of range");
        v = v * 10 + (uint64_t)(text[j] - '0');
    }
    if (v > (uint64_t)INT64_MAX) return perr(*i, "integer out of range");
    int64_t s = neg ? -(int64_t)v : (int64_t)v;
    if (s < lo || s > hi) return perr(*i, "integer out of range");
    *i = j;
    *out = s;
    return NNINIT_OK;
}

nninit_status nninit_preset_parse(const char *text, const char **preset, nninit_layer *layer) {
    if (!text || !preset || !layer) return nninit__err(NNINIT_ERR_NULL, "preset: NULL argument");
    size_t i = 0;
    while (is_space(text[i])) i++;
    size_t n0 = i;
    while (is_word(text[i])) i++;
    const preset_def *ps = NULL;
    for (int k = 0; k < PRESET_COUNT; k++)
        if (strlen(presets[k].name) == i - n0 && !strncmp(presets[k].name, text + n0, i - n0)) ps = &presets[k];
    if (!ps) return nninit__err(NNINIT_ERR_UNKNOWN_NAME, "preset: unknown preset '%.*s'", (int)(i - n0), text + n0);
    nninit_layer l = nninit_layer_default();
    unsigned takes = kind_fields(ps), seen = 0;
    nninit_status st;
    while (is_space(text[i])) i++;
    if (text[i] == '(') {
        i++;
        while (is_space(text[i])) i++;
        if (text[i] == ')') i++;
        else
            for (;;) {
                size_t k0 = i;
                while (is_word(text[i])) i++;
                int f = -1;
                for (int k = 0; k < FIELD_COUNT; k++)
                    if (strlen(field_names[k]) == i - k0 && !strncmp(field_names[k], text + k0, i - k0)) f = k;
                if (f < 0 || !(takes & (1u << f)))
                    return nninit__err(NNINIT_ERR_PARAM, "preset: at %zu: %s takes no parameter '%.*s'", k0 + 1,
                                       ps->name, (int)(i - k0), text + k0);
                if (seen & (1u << f)) return perr(k0, "parameter given twice");
                seen |= 1u << f;
                while (is_space(text[i])) i++;
                if (text[i] != '=') return perr(i, "expected '='");
                i++;
                while (is_space(text[i])) i++;
                int64_t v = 0;
                switch (1u << f) {
                case F_KERNEL: {
                    /* "7" (every spatial dim, as PyTorch's int kernel_size; flax.Conv: 1-D) or "3x5[x7]" */
                    int nk = 0;
                    int64_t k[3] = {0, 0, 0};
                    for (;;) {
                        if (nk == 3) return perr(i, "a kernel has at most 3 dims");
                        if ((st = parse_int(text, &i, INT64_MIN, INT64_MAX, &k[nk++]))) return st;
                        if (text[i] != 'x') break;
                        i++;
                    }
                    if (nk > 1 && ps->rank && nk != ps->rank) return perr(k0, "kernel has the wrong number of dims");
                    for (int d = 0; d < 3; d++) l.kernel[d] = nk == 1 && d < ps->rank ? k[0] : k[d];
                    break;
                }
                case F_BIAS:
                case F_BIDIRECTIONAL:
                case F_ADD_BIAS_KV: {
                    int b;
                    if (!strncmp(text + i, "true", 4) && !is_word(text[i + 4])) b = 1, i += 4;
                    else if (!strncmp(text + i, "false", 5) && !is_word(text[i + 5])) b = 0, i += 5;
                    else if ((text[i] == '0' || text[i] == '1') && !is_word(text[i + 1])) b = text[i++] - '0';
                    else return perr(i, "expected true, false, 1 or 0");
                    if (1u << f == F_BIAS) l.bias = b;
                    else if (1u << f == F_BIDIRECTIONAL) l.bidirectional = b;
                    else l.add_bias_kv = b;
                    break;
                }
                case F_DTYPE: {
                    size_t d0 = i;
                    char buf[16];
                    while (is_word(text[i])) i++;
                    if (i - d0 >= sizeof buf) return perr(d0, "unknown dtype");
                    memcpy(buf, text + d0, i - d0);
                    buf[i - d0] = 0;
                    if (nninit_dtype_parse(buf, &l.dtype)) return perr(d0, "unknown dtype (f32, f64, bf16, f16)");
                    break;
                }
                case F_NUM_LAYERS:
                    if ((st = parse_int(text, &i, INT_MIN, INT_MAX, &v))) return st;
                    l.num_layers = (int)v;
                    break;
                default:
                    if ((st = parse_int(text, &i, INT64_MIN + 1, INT64_MAX, &v))) return st;
                    if (1u << f == F_IN) l.in = v;
                    else if (1u << f == F_OUT) l.out = v;
                    else if (1u << f == F_GROUPS) l.groups = v;
                    else if (1u << f == F_PROJ_SIZE) l.proj_size = v;
                    else if (1u << f == F_PADDING_IDX) l.padding_idx = v;
                    else l.num_heads = v;
                    break;
                }
                while (is_space(text[i])) i++;
                if (text[i] == ')') {
                    i++;
                    break;
                }
                if (text[i] != ',') return perr(i, "expected ',' or ')'");
                i++;
                while (is_space(text[i])) i++;
            }
    }
    while (is_space(text[i])) i++;
    if (text[i]) return perr(i, "unexpected text after the preset");
    *preset = ps->name;
    *layer = l;
    return NNINIT_OK;
}

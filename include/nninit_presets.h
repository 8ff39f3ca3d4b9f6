/*
 * nninit_presets.h -- the initialization a framework's layer constructor
 * performs, weight and bias together, by the layer's name.
 *
 * A preset turns a layer ("torch.Conv2d" with in 3, out 64, kernel 7x7) into
 * its parameters as the framework stores them: name, shape, and the nninit
 * tensor and spec that reproduce the framework's default initialization
 * exactly (same formula, same floating-point arithmetic for the bound or std;
 * the random stream is nninit's own). A bias whose bound comes from its
 * weight's fan gets that bound computed into a plain uniform spec.
 *
 * Example:
 *
 *     #include <nninit_presets.h>
 *     nninit_layer l = nninit_layer_default();
 *     l.in = 3; l.out = 64; l.kernel[0] = l.kernel[1] = 7;
 *     nninit_param p[NNINIT_PRESET_MAX_PARAMS];
 *     int n;
 *     if (nninit_preset_params("torch.Conv2d", &l, p, NNINIT_PRESET_MAX_PARAMS, &n) != NNINIT_OK)
 *         fprintf(stderr, "nninit: %s\n", nninit_last_error());
 *     for (int i = 0; i < n; i++)   // p[0] "weight" (64, 3, 7, 7), p[1] "bias" (64)
 *         nninit_param_fill(&p[i], nninit_key_from_name(42, p[i].name), buffers[i]);
 *
 * Presets and the fields of nninit_layer they read (everything else is
 * ignored). Sizes are >= 1.
 *
 *   torch.Linear                  in, out, bias
 *   torch.Conv1d/2d/3d            in, out, kernel[0..N-1], groups, bias
 *   torch.ConvTranspose1d/2d/3d   in, out, kernel[0..N-1], groups, bias
 *       weight U(+-b), b = kaiming_uniform_(a=sqrt(5)) on the stored weight
 *       (PyTorch's arithmetic: sqrt(3) * sqrt(2/(1+sqrt(5)^2)) / sqrt(fan_in));
 *       bias U(+-1/sqrt(fan_in)), fan_in that of the weight. The weight is
 *       OIHW (out, in/groups, k...), for ConvTranspose (in, out/groups, k...)
 *       with the OIHW rule applied to it as PyTorch does (fan_in =
 *       out/groups * prod(k)): the layout is OIHW so nninit_fans agrees.
 *       tensor.groups is the layer's groups, so a caller who sets a
 *       ConvTranspose weight's layout to NNINIT_LAYOUT_IOHW gets the fans of
 *       the layer as it computes (in/groups * prod(k)) instead.
 *   torch.Embedding               in = num_embeddings, out = embedding_dim,
 *       padding_idx                weight N(0, 1), EMBEDDING layout; row
 *                                  padding_idx zero (param.zero_row)
 *   torch.RNN / LSTM / GRU        in = input_size, out = hidden_size, bias,
 *       num_layers, bidirectional, proj_size (LSTM only); gates 1 / 4 / 3.
 *       Every parameter U(+-1/sqrt(hidden_size)), in PyTorch's order:
 *       weight_ih_l{k}[_reverse] (gates*hidden, in or (proj or hidden)*dirs),
 *       weight_hh_l{k} (gates*hidden, proj or hidden), bias_ih_l{k},
 *       bias_hh_l{k} (gates*hidden), weight_hr_l{k} (proj, hidden).
 *   torch.LayerNorm               out = normalized_shape (1-D), bias
 *   torch.BatchNorm1d/2d/3d       out = num_features, bias
 *       weight ones, bias zeros; bias = 0 means affine=False: no parameters.
 *   torch.MultiheadAttention      out = embed_dim, num_heads, bias, add_bias_kv
 *       in_proj_weight (3E, E) xavier_uniform_, in_proj_bias (3E) zeros,
 *       bias_k, bias_v (1, 1, E) xavier_normal_, out_proj.weight (E, E) as
 *       torch.Linear, out_proj.bias (E) zeros.
 *   keras.Dense                   in, out = units, bias
 *   keras.Conv1D/2D/3D            in, out = filters, kernel[0..N-1], groups, bias
 *       kernel (k..., in/groups, out) HWIO, glorot_uniform: U(+-limit),
 *       limit = sqrt(3 * (1 / max(1, (fan_in + fan_out) / 2))) as Keras'
 *       VarianceScaling computes it; bias zeros.
 *   flax.Dense                    in, out = features, bias
 *   flax.Conv                     in, out = features, kernel[0..N-1] (N: the
 *       leading entries >= 1, then 0s), groups (feature_group_count), bias
 *       kernel (k..., in/groups, out) HWIO, lecun_normal = variance_scaling(
 *       1, fan_in, truncated_normal): std sqrt(1/fan_in) / .87962566103423978
 *       on +-2 std, computed in float32 (Flax's param_dtype) unless dtype is
 *       NNINIT_F64; bias zeros.
 *
 * Groups must divide both in and out (as every one of these frameworks
 * requires), num_heads must divide embed_dim.
 */
#ifndef NNINIT_PRESETS_H
#define NNINIT_PRESETS_H

#include "nninit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* padding_idx of a layer without one (PyTorch's None). */
#define NNINIT_NO_PADDING_IDX INT64_MIN

/* Room for the name of every parameter a preset makes, NUL included. */
#define NNINIT_PARAM_NAME_MAX 48

/* Enough entries for every preset with num_layers <= 4 (an LSTM with
 * projections, bidirectional: 4 * 2 * 5 = 40). */
#define NNINIT_PRESET_MAX_PARAMS 40

/* A layer's sizes; each preset reads its own fields (table above). */
typedef struct {
    int64_t in, out;     /* in/out features or channels; Embedding: num, dim */
    int64_t kernel[3];   /* kernel size per spatial dim */
    int64_t groups;      /* conv groups (>= 1) */
    int bias;            /* 1: the layer has a bias (norms: affine) */
    int num_layers;      /* RNN/LSTM/GRU, >= 1 */
    int bidirectional;   /* RNN/LSTM/GRU, 0 or 1 */
    int64_t proj_size;   /* LSTM, 0 (none) .. out-1 */
    int64_t padding_idx; /* Embedding: -in .. in-1 or NNINIT_NO_PADDING_IDX */
    int64_t num_heads;   /* MultiheadAttention, divides out */
    int add_bias_kv;     /* MultiheadAttention, 0 or 1 */
    nninit_dtype dtype;  /* of every parameter */
} nninit_layer;

/* One parameter of a layer. */
typedef struct {
    char name[NNINIT_PARAM_NAME_MAX]; /* the framework's: "weight", "bias_hh_l1_reverse", "out_proj.weight" */
    nninit_tensor tensor;             /* shape, dtype, and the layout that makes nninit_fans the framework's */
    nninit_spec spec;                 /* what the framework draws */
    int64_t zero_row;                 /* >= 0: that row of dim 0 is then set to zero (padding_idx); else -1 */
} nninit_param;

/*! nninit_layer_default() : in = out = 0 (to be set), kernel {0, 0, 0},
 *  groups 1, bias 1, num_layers 1, bidirectional 0, proj_size 0, padding_idx
 *  NNINIT_NO_PADDING_IDX, num_heads 1, add_bias_kv 0, dtype NNINIT_F32: the
 *  frameworks' constructor defaults. */
NNINIT_API nninit_layer nninit_layer_default(void);

/*! nninit_preset_params() : the parameters of layer `layer` built by preset
 *  `preset` ("torch.Conv2d"), in the framework's order, into params[0 ..
 *  *count-1]. *count is always set to the number the layer has when the
 *  arguments are valid; with params NULL and cap 0 nothing else happens (a
 *  query). Every tensor passes nninit_explain with its spec. Errors: NULL
 *  (preset, layer or count; params with cap > 0), UNKNOWN_NAME (preset),
 *  SHAPE (a size or kernel entry < 1 that the preset reads), GROUPS (groups
 *  < 1 or not dividing in and out), DTYPE, OVERFLOW (a shape's element count),
 *  PARAM (num_layers < 1, bidirectional / bias / add_bias_kv not 0 or 1,
 *  proj_size outside 0..out-1 or set for a layer other than torch.LSTM,
 *  padding_idx out of range, num_heads < 1 or not dividing out, and 0 < cap
 *  < *count). On error nothing is written to params. */
NNINIT_API nninit_status nninit_preset_params(const char *preset, const nninit_layer *layer, nninit_param *params,
                                              int cap, int *count);

/*! nninit_param_fill() : fill one parameter: nninit_fill(&p->spec,
 *  &p->tensor, key, data), then zeros in row p->zero_row if >= 0. Errors:
 *  NULL (p or data), those of nninit_fill, and SHAPE if zero_row is not a row
 *  of the tensor (nothing written). */
NNINIT_API nninit_status nninit_param_fill(const nninit_param *p, nninit_key key, void *data);

/*! nninit_preset_parse() : read a layer written as text,
 *
 *      preset [ "(" [ key "=" value { "," key "=" value } ] ")" ]
 *
 *      "torch.Conv2d(in=3, out=64, kernel=7, groups=1, bias=false)"
 *      "torch.LSTM(in=16, out=32, num_layers=2, proj_size=8)"  "keras.Conv2D(in=3, out=8, kernel=3x5)"
 *
 *  into *preset (the name as nninit_preset_name() returns it, static) and
 *  *layer (nninit_layer_default() but for the keys given). Keys: the
 *  nninit_layer fields the preset reads (the table above), each at most once.
 *  Values: decimal integers; bias, bidirectional and add_bias_kv true, false,
 *  1 or 0; dtype a name nninit_dtype_parse() reads; kernel N or AxB or AxBxC,
 *  N meaning N in every spatial dim (PyTorch's int kernel_size; for flax.Conv,
 *  a 1-D kernel). Spaces may surround the parentheses, keys, '=' and ','.
 *  Only the text is checked: whether the sizes make a layer is
 *  nninit_preset_params()'s question. Errors: NULL; UNKNOWN_NAME (preset);
 *  PARAM for a syntax error, a key the preset does not read or given twice,
 *  an integer out of range, with nninit_last_error() naming the 1-based byte
 *  column ("preset: at 14: torch.Linear takes no parameter 'kernel'"). On
 *  error *preset and *layer are untouched. */
NNINIT_API nninit_status nninit_preset_parse(const char *text, const char **preset, nninit_layer *layer);

/*! nninit_preset_count(), nninit_preset_name() : the preset names, i = 0 ..
 *  count-1 ("torch.Linear", ...); NULL for any other i. */
NNINIT_API int nninit_preset_count(void);
NNINIT_API const char *nninit_preset_name(int i);

#ifdef __cplusplus
}
#endif
#endif /* NNINIT_PRESETS_H */

/*
 * nninit_nn.h -- a small network engine for probing and training at init.
 *
 * Dense, conv2d (im2col + sgemm), flatten and residual layers, the usual
 * activations, softmax cross-entropy; forward and backward on a batch in f32
 * with OpenBLAS. Weights are initialized by nninit's schemes, per layer.
 * Used by `nninit probe`, `nninit train` and `nninit lab`. Experimental API.
 *
 * Tensors are row-major, batch first: a dense activation is (batch, features),
 * a conv activation is (batch, C, H, W) stored as batch x (C*H*W).
 */
#ifndef NNINIT_NN_H
#define NNINIT_NN_H

/* The engine's API is unstable (it may change in any 0.x release): a user
 * opts in by defining NNINIT_UNSTABLE_API, as zstd's ZSTD_STATIC_LINKING_ONLY.
 * The initializer layer (src/) must not depend on the engine. */
#if !defined(NNINIT_UNSTABLE_API)
#error "nninit_nn.h is nninit's unstable engine API: #define NNINIT_UNSTABLE_API before including it"
#endif
#if defined(NNINIT_BUILD_INITIALIZER)
#error "the initializer layer (src/) must not include the engine's nninit_nn.h"
#endif

#include "nninit.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    NNINIT_ACT_IDENTITY = 0,
    NNINIT_ACT_SIGMOID,
    NNINIT_ACT_TANH,
    NNINIT_ACT_RELU,
    NNINIT_ACT_LEAKY_RELU, /* param: negative slope (default 0.01) */
    NNINIT_ACT_ELU,        /* param: alpha (default 1) */
    NNINIT_ACT_SELU,
    NNINIT_ACT_GELU, /* exact: x * Phi(x) */
    NNINIT_ACT_SOFTPLUS,
    NNINIT_ACT_COUNT
} nninit_act;

typedef enum {
    NNINIT_LAYER_DENSE = 0,
    NNINIT_LAYER_CONV2D,
    NNINIT_LAYER_FLATTEN,
    NNINIT_LAYER_RESIDUAL /* x + alpha * F(x), F = two dense or two conv layers */
} nninit_layer_kind;

/* How a residual block initializes its two inner layers. */
typedef enum {
    NNINIT_RES_RULE_NONE = 0,    /* both: the layer's init, or the network default */
    NNINIT_RES_RULE_HE_ZERO = 1, /* "he-zero": inner[0] He (kaiming_normal, relu,
                                    fan_in), inner[1] zeros, biases zero: F(x) = 0,
                                    the block starts as the identity */
    NNINIT_RES_RULE_HE_HE = 2    /* "he-he": both inner layers He, biases zero */
} nninit_res_rule;

/* Per-layer init: a scheme for the weight and one for the bias. A bias of a
 * fan-based scheme (kaiming_uniform, ...) takes its fans from the layer's
 * weight (nninit_spec_resolve_fans). */
typedef struct {
    nninit_spec weight;
    nninit_spec bias;
} nninit_layer_init;

/* A framework's layer constructors as a layer's init ("preset=torch"): a
 * dense layer gets the weight and bias init of the framework's dense layer,
 * a conv layer that of its 2-D conv, a residual block's two inner layers
 * those of their kind, each on the layer's own sizes (nninit_preset_params,
 * include/nninit_presets.h, with in = the layer's inputs or input channels,
 * out = units, kernel kh x kw, groups). */
typedef enum {
    NNINIT_NN_PRESET_NONE = 0,
    NNINIT_NN_PRESET_TORCH = 1, /* torch.Linear, torch.Conv2d */
    NNINIT_NN_PRESET_KERAS = 2, /* keras.Dense, keras.Conv2D */
    NNINIT_NN_PRESET_FLAX = 3,  /* flax.Dense, flax.Conv */
    NNINIT_NN_PRESET_COUNT
} nninit_nn_preset;

/* One layer of an architecture (what the parser produces). */
typedef struct {
    nninit_layer_kind kind;
    int units;        /* dense: outputs; conv: output channels */
    int kh, kw;       /* conv kernel */
    int stride, pad;  /* conv */
    int groups;       /* conv, >= 1 */
    nninit_act act;   /* applied after the affine map */
    double act_param; /* leaky slope / elu alpha; NaN = default */
    int has_init;     /* 1: use init below; 0: the network default */
    nninit_layer_init init;
    /* residual: F = inner[0] -> act -> inner[1]; the block's output is
     * act_out(x + alpha * F(x)) where act_out is this layer's act. */
    nninit_layer_kind res_kind; /* NNINIT_LAYER_DENSE or NNINIT_LAYER_CONV2D */
    nninit_res_rule res_rule;   /* a rule replaces init (the parsers refuse both) */
    nninit_act res_inner_act;
    double alpha; /* residual scale, 1 unless a scheme sets it */
    /* The framework whose constructor init holds (has_init 1: preset= on the
     * layer or the network's default), NNINIT_NN_PRESET_NONE if none. */
    nninit_nn_preset preset;
} nninit_layer_spec;

#define NNINIT_ARCH_MAX_LAYERS 1024

/* A whole architecture: an input shape and a list of layers. */
typedef struct {
    int in_c, in_h, in_w; /* dense input: in_c = features, in_h = in_w = 1 */
    int n_layers;
    /* The network's default preset ("784 preset=keras -> ...",
     * nninit_arch_set_preset): every dense, conv and residual layer without
     * init=, bias=, preset= or a rule has it (layers[i].preset). */
    nninit_nn_preset preset;
    nninit_layer_spec layers[NNINIT_ARCH_MAX_LAYERS];
} nninit_arch;

/*! nninit_arch_parse() : parse the one-line grammar (docs/GRAMMAR.md), e.g.
 *  "784 -> [dense 256 tanh] x20 -> dense 10" or
 *  "1x28x28 -> conv 16 3x3 s1 p1 relu -> flatten -> dense 10".
 *  On a syntax error returns NNINIT_ERR_PARAM and nninit_last_error() names
 *  the byte position and what was expected. arch may be large: heap-allocate. */
NNINIT_API nninit_status nninit_arch_parse(const char *text, nninit_arch *arch);
/*! nninit_arch_parse_json() : the same architecture as JSON (docs/GRAMMAR.md). */
NNINIT_API nninit_status nninit_arch_parse_json(const char *json, nninit_arch *arch);

/*! nninit_nn_preset_name() : "torch", "keras", "flax"; "none" for
 *  NNINIT_NN_PRESET_NONE; NULL for any other value. */
NNINIT_API const char *nninit_nn_preset_name(nninit_nn_preset p);
/*! nninit_nn_preset_parse() : "torch", "keras" or "flax". Errors: NULL,
 *  UNKNOWN_NAME (the message lists the three). */
NNINIT_API nninit_status nninit_nn_preset_parse(const char *name, nninit_nn_preset *out);
/*! nninit_nn_preset_layer() : the framework layer preset p gives a layer of
 *  kind (NNINIT_LAYER_DENSE: "torch.Linear", "keras.Dense", "flax.Dense";
 *  NNINIT_LAYER_CONV2D: "torch.Conv2d", "keras.Conv2D", "flax.Conv"; a
 *  residual block's inner layers are of its res_kind); NULL otherwise. */
NNINIT_API const char *nninit_nn_preset_layer(nninit_nn_preset p, nninit_layer_kind kind);

/*! nninit_layer_preset_init() : the init preset p gives a layer of kind
 *  (dense or conv2d) with `out` units, `in` inputs (dense: the flat input
 *  size; conv: input channels), a kh x kw kernel and groups (conv; dense:
 *  1, 1, 1): the weight and bias specs of nninit_preset_params for the
 *  framework's layer, which fill the engine's weight (out, in) or (out,
 *  in/groups, kh, kw) and its (out) bias with the framework's distribution.
 *  Errors: NULL, PARAM (p or kind), and nninit_preset_params' (SHAPE,
 *  GROUPS) for sizes no layer has. */
NNINIT_API nninit_status nninit_layer_preset_init(nninit_nn_preset p, nninit_layer_kind kind, int out, int in, int kh,
                                                  int kw, int groups, nninit_layer_init *init);

/*! nninit_arch_set_preset() : make p the network's default preset: every
 *  dense, conv and residual layer of arch without its own init (has_init 0)
 *  or a residual rule gets p's init on its sizes (has_init 1, preset p,
 *  init), and arch->preset = p. Layers with init=, bias= or preset= keep
 *  theirs. Errors: NULL; PARAM for p not a preset, for an arch whose
 *  network preset is another one already, and for an arch the grammar would
 *  refuse (the message names "layers[i]"); on error arch is untouched. */
NNINIT_API nninit_status nninit_arch_set_preset(nninit_arch *arch, nninit_nn_preset p);

/* Where a layer's init comes from (nninit_arch_inits). */
typedef enum {
    NNINIT_INIT_FROM_NONE = 0,    /* flatten: no parameters */
    NNINIT_INIT_FROM_LAYER = 1,   /* init= / bias= of the layer */
    NNINIT_INIT_FROM_PRESET = 2,  /* preset= of the layer or the network */
    NNINIT_INIT_FROM_DEFAULT = 3, /* nninit_net_create's default_init */
    NNINIT_INIT_FROM_PYTORCH = 4, /* default_init NULL: PyTorch's nn.Linear /
                                     nn.Conv2d reset_parameters */
    NNINIT_INIT_FROM_RULE = 5     /* a residual rule (he-zero, he-he) */
} nninit_init_source;

/* What nninit_net_create fills for one layer. */
typedef struct {
    nninit_init_source source;
    nninit_nn_preset preset; /* the layer's preset (source PRESET) */
    nninit_tensor weight;    /* the weight as the engine holds it, f32, OIHW:
                                (out, in) or (out, in/groups, kh, kw) with groups;
                                ndim 0 for flatten */
    /* The specs filled, the bias's resolved on the weight's fans: [0] the
     * layer (a residual block's inner layer 0), [1] a residual block's
     * inner layer 1 (the same weight shape). */
    nninit_layer_init init[2];
} nninit_layer_init_info;

/*! nninit_arch_inits() : for every layer of arch, what nninit_net_create(
 *  arch, ., default_init, ...) fills it with, into out[0 .. arch->n_layers-1]
 *  (the caller's array): the weight tensor, the specs and where they come
 *  from. Draws nothing. Errors: NULL (arch, out), those of net_create's
 *  checks of the shapes ("layers.<i>: ..."), and of nninit_spec_resolve_fans
 *  for a bias that cannot take the weight's fans; out may then be partly
 *  written. */
NNINIT_API nninit_status nninit_arch_inits(const nninit_arch *arch, const nninit_layer_init *default_init,
                                           nninit_layer_init_info *out);

typedef struct nninit_net nninit_net; /* opaque */

/*! nninit_net_create() : build a network for batches of up to max_batch,
 *  initialize every weight with its layer's init (or default_init; NULL:
 *  PyTorch's nn.Linear / nn.Conv2d defaults), keys "layers.<i>.weight" /
 *  "layers.<i>.bias" under seed ("layers.<i>.0.weight" ... for a residual
 *  block's inner layers); nninit_arch_inits says what each layer gets. */
NNINIT_API nninit_status nninit_net_create(const nninit_arch *arch, int max_batch,
                                           const nninit_layer_init *default_init, uint64_t seed, nninit_net **out);
NNINIT_API void nninit_net_free(nninit_net *net);

/*! nninit_net_forward() : x is (batch, input size). Keeps every layer's
 *  pre- and post-activation for backward and for inspection. */
NNINIT_API nninit_status nninit_net_forward(nninit_net *net, const float *x, int batch);
/*! nninit_net_loss() : softmax cross-entropy of the last forward against
 *  labels (batch ints); stores dL/d(output) for backward; returns mean loss. */
NNINIT_API nninit_status nninit_net_loss(nninit_net *net, const int *labels, double *loss);
/*! nninit_net_backward() : backward from the stored dL/d(output) (set by
 *  nninit_net_loss or nninit_net_set_output_grad); fills every gradient. */
NNINIT_API nninit_status nninit_net_backward(nninit_net *net);
NNINIT_API nninit_status nninit_net_set_output_grad(nninit_net *net, const float *g);
/*! nninit_net_sgd_step() : w -= lr * grad for every parameter. */
NNINIT_API nninit_status nninit_net_sgd_step(nninit_net *net, float lr);

/* The matrix product of a net's forward and backward (dense and conv). */
typedef enum {
    NNINIT_MATMUL_BLAS = 0,     /* OpenBLAS's sgemm (the default): fast; how
                                   it rounds depends on the CPU and on where
                                   an element falls in its blocking */
    NNINIT_MATMUL_REFERENCE = 1 /* the engine's own plain-C product: every
                                   element summed over k in order, one
                                   rounding per multiply and add, so equal
                                   inputs give bit-equal outputs (a constant-
                                   initialized layer's units stay identical)
                                   and the product's bits do not depend on
                                   the CPU or compiler; single-threaded,
                                   about a quarter of OpenBLAS's speed */
} nninit_matmul;

/*! nninit_net_set_matmul() : the product every later forward and backward of
 *  net uses (LSUV, probes and training through this net included). Errors:
 *  NULL, PARAM (m not an nninit_matmul). */
NNINIT_API nninit_status nninit_net_set_matmul(nninit_net *net, nninit_matmul m);
/*! nninit_net_matmul() : net's product; NNINIT_MATMUL_BLAS for NULL. */
NNINIT_API nninit_matmul nninit_net_matmul(const nninit_net *net);

/* Inspection: "units" are the layers that have parameters or activations.
 * For layer l (0-based, as in the arch): sizes and pointers into the
 * network's own buffers, valid until the next call that changes them.
 * For a residual layer, pre = x + alpha F(x) (before act_out), post = output. */
typedef struct {
    nninit_layer_kind kind;
    nninit_act act;
    double act_param; /* the parameter the engine uses: leaky slope, elu
                         alpha (defaults resolved); 0 for the others */
    int out_size;     /* features per example after the layer */
    int out_c, out_h, out_w;
    const float *pre;  /* (batch, out_size) pre-activation, or NULL */
    const float *post; /* (batch, out_size) */
    const float *dpre; /* dL/d pre after backward, or NULL */
    float *w, *b;      /* parameters (NULL for flatten); residual: inner[0] */
    const float *dw, *db;
    int64_t w_rows, w_cols; /* weight as (out, in*k*k) matrix */
    float *w2, *b2;         /* residual: inner[1] */
    const float *dw2, *db2;
    int64_t w2_rows, w2_cols;
} nninit_layer_view;

NNINIT_API int nninit_net_layers(const nninit_net *net);
NNINIT_API nninit_status nninit_net_layer(const nninit_net *net, int l, nninit_layer_view *v);
NNINIT_API int nninit_net_batch(const nninit_net *net);
NNINIT_API const float *nninit_net_output(const nninit_net *net); /* (batch, classes) */
NNINIT_API int nninit_net_input_size(const nninit_net *net);
NNINIT_API int nninit_net_output_size(const nninit_net *net);

NNINIT_API const char *nninit_act_name(nninit_act a);
NNINIT_API nninit_status nninit_act_parse(const char *name, nninit_act *out);

#ifdef __cplusplus
}
#endif
#endif

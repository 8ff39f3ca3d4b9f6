/* recipes.c -- the built-in model recipes (include/nninit_model.h): the
 * tensors of a published architecture, named as its checkpoints name them,
 * and the rules its reference code initializes them with. Each rule cites
 * the file (and function) it reproduces; docs/CHECKPOINT.md lists them.
 *
 * Settings are "key=value": integers, or decimals where the source uses one
 * (ffn_dim_multiplier, initializer_range, mlp_ratio), plus
 * dtype=f32|f64|bf16|f16 for every floating-point tensor (integer buffers,
 * such as BatchNorm's num_batches_tracked, stay int64, as Module.to). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "model/model_internal.h"

#define MAX_SETTINGS 12

typedef struct {
    const char *key;
    double dflt, lo, hi;
    int integer; /* 1: the value must be an integer */
} setting;

typedef struct recipe recipe;
struct recipe {
    const char *name, *about;
    setting s[MAX_SETTINGS];
    nninit_status (*build)(nninit_model *m, const double *v);
    nninit_dtype dtype; /* default dtype of every tensor */
    char settings_text[512];
};

/* ---- helpers -------------------------------------------------------------- */

static nninit_status add(nninit_model *m, nninit_layout lay, int ndim, int64_t d0, int64_t d1, const char *fmt, ...)
    NNINIT_PRINTF(6, 7);
static nninit_status add(nninit_model *m, nninit_layout lay, int ndim, int64_t d0, int64_t d1, const char *fmt, ...) {
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    const int64_t shape[2] = {d0, d1};
    return nninit_model_add_tensor(m, name, ndim, shape, NNINIT_F32, lay);
}

/* A tensor of any rank (0: a scalar) and stored dtype. */
static nninit_status addn(nninit_model *m, nninit_st_dtype dt, nninit_layout lay, int ndim, const int64_t *shape,
                          const char *fmt, ...) NNINIT_PRINTF(6, 7);
static nninit_status addn(nninit_model *m, nninit_st_dtype dt, nninit_layout lay, int ndim, const int64_t *shape,
                          const char *fmt, ...) {
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return nninit_model_add_tensor_st(m, name, ndim, shape, dt, lay);
}

/* A rule with padding_idx (-1: none) and fans_of (NULL: none). */
static nninit_status rule_ex(nninit_model *m, const char *match, int64_t pad, const char *fans_of, const char *src,
                             const char *fmt, ...) NNINIT_PRINTF(6, 7);
static nninit_status rule_ex(nninit_model *m, const char *match, int64_t pad, const char *fans_of, const char *src,
                             const char *fmt, ...) {
    char init[NNINIT_SPEC_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(init, sizeof init, fmt, ap);
    va_end(ap);
    return nninit_model_add_rule_fans_of(m, match, init, src, pad, fans_of);
}

static nninit_status rule(nninit_model *m, const char *match, const char *src, const char *fmt, ...)
    NNINIT_PRINTF(4, 5);
static nninit_status rule(nninit_model *m, const char *match, const char *src, const char *fmt, ...) {
    char init[NNINIT_SPEC_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(init, sizeof init, fmt, ap);
    va_end(ap);
    return nninit_model_add_rule(m, match, init, src, -1);
}

#define TRY(x)                                                                                                         \
    do {                                                                                                               \
        nninit_status st_ = (x);                                                                                       \
        if (st_) return st_;                                                                                           \
    } while (0)

/* %.17g: the double itself, read back exactly by nninit_spec_parse. */
#define G "%.17g"

/* ---- GPT-2 (Hugging Face transformers) -------------------------------------
 * transformers/models/gpt2/modeling_gpt2.py, GPT2PreTrainedModel._init_weights:
 * Linear/Conv1D weight normal(0, initializer_range = 0.02), bias zeros;
 * Embedding normal(0, 0.02); LayerNorm weight 1, bias 0; then every
 * parameter named "c_proj.weight" (attn.c_proj and mlp.c_proj) normal(0,
 * 0.02 / sqrt(2 n_layer)) ("Special Scaled Initialization", after Megatron-LM
 * and the GPT-2 paper). Names as GPT2Model's state dict (the published
 * gpt2/model.safetensors): Conv1D weights are stored (in, out). lm_head is
 * tied to wte and not stored. */
#define SRC_GPT2 "transformers/models/gpt2/modeling_gpt2.py GPT2PreTrainedModel._init_weights"

static nninit_status build_gpt2(nninit_model *m, const double *v) {
    const int64_t L = (int64_t)v[0], E = (int64_t)v[1], H = (int64_t)v[2], V = (int64_t)v[3], P = (int64_t)v[4];
    const int64_t I = v[5] > 0 ? (int64_t)v[5] : 4 * E;
    if (E % H)
        return nninit__err(NNINIT_ERR_PARAM, "recipe gpt2: n_embd (%lld) must be a multiple of n_head (%lld)",
                           (long long)E, (long long)H);
    TRY(add(m, NNINIT_LAYOUT_EMBEDDING, 2, V, E, "wte.weight"));
    TRY(add(m, NNINIT_LAYOUT_EMBEDDING, 2, P, E, "wpe.weight"));
    for (int64_t i = 0; i < L; i++) {
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "h.%lld.ln_1.weight", (long long)i));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "h.%lld.ln_1.bias", (long long)i));
        TRY(add(m, NNINIT_LAYOUT_IOHW, 2, E, 3 * E, "h.%lld.attn.c_attn.weight", (long long)i));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, 3 * E, 0, "h.%lld.attn.c_attn.bias", (long long)i));
        TRY(add(m, NNINIT_LAYOUT_IOHW, 2, E, E, "h.%lld.attn.c_proj.weight", (long long)i));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "h.%lld.attn.c_proj.bias", (long long)i));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "h.%lld.ln_2.weight", (long long)i));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "h.%lld.ln_2.bias", (long long)i));
        TRY(add(m, NNINIT_LAYOUT_IOHW, 2, E, I, "h.%lld.mlp.c_fc.weight", (long long)i));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, I, 0, "h.%lld.mlp.c_fc.bias", (long long)i));
        TRY(add(m, NNINIT_LAYOUT_IOHW, 2, I, E, "h.%lld.mlp.c_proj.weight", (long long)i));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "h.%lld.mlp.c_proj.bias", (long long)i));
    }
    TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "ln_f.weight"));
    TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "ln_f.bias"));
    TRY(rule(m, "*ln_*.weight", SRC_GPT2 ": LayerNorm weight 1", "ones"));
    TRY(rule(m, "*ln_*.bias", SRC_GPT2 ": LayerNorm bias 0", "zeros"));
    TRY(rule(m, "*.c_proj.weight", SRC_GPT2 ": c_proj.weight std 0.02 / sqrt(2 n_layer)", "normal(std=" G ")",
             0.02 / sqrt(2.0 * (double)L)));
    TRY(rule(m, "*.bias", SRC_GPT2 ": Conv1D bias 0", "zeros"));
    TRY(rule(m, "*.weight", SRC_GPT2 ": Conv1D and Embedding weight normal(0, 0.02)", "normal(std=0.02)"));
    return NNINIT_OK;
}

/* ---- Llama (Hugging Face transformers) --------------------------------------
 * transformers/modeling_utils.py PreTrainedModel._init_weights as
 * LlamaPreTrainedModel uses it (models/llama/modeling_llama.py): Linear
 * weight normal(0, initializer_range = 0.02) (Llama's Linears have no bias),
 * Embedding normal(0, 0.02) (pad_token_id None in Llama's configs: no zero
 * row), LlamaRMSNorm weight 1. Names as LlamaForCausalLM's state dict. */
#define SRC_LLAMA_HF "transformers/modeling_utils.py PreTrainedModel._init_weights (LlamaPreTrainedModel)"

static nninit_status build_llama_hf(nninit_model *m, const double *v) {
    const int64_t D = (int64_t)v[0], L = (int64_t)v[1], H = (int64_t)v[2], KV = (int64_t)v[3], V = (int64_t)v[4],
                  F = (int64_t)v[5];
    const int tie = v[6] != 0;
    if (D % H || H % KV)
        return nninit__err(
            NNINIT_ERR_PARAM,
            "recipe llama-hf: dim (%lld) must be a multiple of n_heads (%lld), n_heads of n_kv_heads (%lld)",
            (long long)D, (long long)H, (long long)KV);
    const int64_t hd = D / H;
    TRY(add(m, NNINIT_LAYOUT_EMBEDDING, 2, V, D, "model.embed_tokens.weight"));
    for (int64_t i = 0; i < L; i++) {
        const long long k = (long long)i;
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, H * hd, D, "model.layers.%lld.self_attn.q_proj.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, KV * hd, D, "model.layers.%lld.self_attn.k_proj.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, KV * hd, D, "model.layers.%lld.self_attn.v_proj.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, D, H * hd, "model.layers.%lld.self_attn.o_proj.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, F, D, "model.layers.%lld.mlp.gate_proj.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, F, D, "model.layers.%lld.mlp.up_proj.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, D, F, "model.layers.%lld.mlp.down_proj.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "model.layers.%lld.input_layernorm.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "model.layers.%lld.post_attention_layernorm.weight", k));
    }
    TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "model.norm.weight"));
    if (!tie) TRY(add(m, NNINIT_LAYOUT_OIHW, 2, V, D, "lm_head.weight"));
    TRY(rule(m, "*norm.weight", SRC_LLAMA_HF ": LlamaRMSNorm weight 1", "ones"));
    TRY(rule(m, "*", SRC_LLAMA_HF ": Linear and Embedding weight normal(0, 0.02)", "normal(std=0.02)"));
    return NNINIT_OK;
}

/* ---- Llama 3 (torchtitan) ---------------------------------------------------
 * torchtitan/models/llama3/__init__.py (commit b5bcd76, 2026-08): Linear
 * weight trunc_normal_(std=0.02) (torch's default bounds a=-2, b=2, absolute)
 * for wq, wk, wv and w1; wo, w2 and w3 trunc_normal_(std=0.02 / sqrt(2
 * (layer_id + 1))) (_depth_init, common/param_init.py depth_scaled_std);
 * RMSNorm weight 1; tok_embeddings normal_(std=1.0); lm_head
 * trunc_normal_(std=dim^-0.5, a=-3 std, b=3 std) (_output_linear_init).
 * hidden_dim = compute_ffn_hidden_dim(dim, multiple_of, ffn_dim_multiplier)
 * (common/feed_forward.py). Names as torchtitan's state dict there
 * (llama3/state_dict_adapter.py maps them to Hugging Face's). */
#define SRC_TITAN "torchtitan/models/llama3/__init__.py"

static nninit_status build_llama_titan(nninit_model *m, const double *v) {
    const int64_t D = (int64_t)v[0], L = (int64_t)v[1], H = (int64_t)v[2], KV = (int64_t)v[3], V = (int64_t)v[4],
                  mult = (int64_t)v[5];
    const double ffn_mult = v[6];
    if (D % H || H % KV)
        return nninit__err(
            NNINIT_ERR_PARAM,
            "recipe llama-torchtitan: dim (%lld) must be a multiple of n_heads (%lld), n_heads of n_kv_heads (%lld)",
            (long long)D, (long long)H, (long long)KV);
    const int64_t hd = D / H;
    /* compute_ffn_hidden_dim: int(2 * 4 * dim / 3), int(multiplier * that), rounded up */
    int64_t F = (int64_t)(2.0 * 4.0 * (double)D / 3.0);
    if (ffn_mult > 0) F = (int64_t)(ffn_mult * (double)F);
    F = mult * ((F + mult - 1) / mult);
    TRY(add(m, NNINIT_LAYOUT_EMBEDDING, 2, V, D, "tok_embeddings.weight"));
    for (int64_t i = 0; i < L; i++) {
        const long long k = (long long)i;
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, H * hd, D, "layers.%lld.attention.qkv_linear.wq.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, KV * hd, D, "layers.%lld.attention.qkv_linear.wk.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, KV * hd, D, "layers.%lld.attention.qkv_linear.wv.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, D, H * hd, "layers.%lld.attention.wo.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, F, D, "layers.%lld.feed_forward.w1.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, D, F, "layers.%lld.feed_forward.w2.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, F, D, "layers.%lld.feed_forward.w3.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "layers.%lld.attention_norm.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "layers.%lld.ffn_norm.weight", k));
    }
    TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "norm.weight"));
    TRY(add(m, NNINIT_LAYOUT_OIHW, 2, V, D, "lm_head.weight"));
    TRY(rule(m, "*norm.weight", SRC_TITAN ": _NORM_INIT ones_", "ones"));
    TRY(rule(m, "tok_embeddings.weight", SRC_TITAN ": _EMBEDDING_INIT normal_(std=1.0)", "normal"));
    const double s = 1.0 / sqrt((double)D);
    TRY(rule(m, "lm_head.weight", SRC_TITAN ": _output_linear_init trunc_normal_(std=dim**-0.5, a=-3s, b=3s)",
             "trunc_normal(std=" G ", a=" G ", b=" G ")", s, -3.0 * s, 3.0 * s));
    for (int64_t i = 0; i < L; i++) {
        char pat[96];
        const double sd = 0.02 / sqrt(2.0 * (double)(i + 1));
        snprintf(pat, sizeof pat, "layers.%lld.attention.wo.weight", (long long)i);
        TRY(rule(m, pat, SRC_TITAN ": _depth_init(layer_id) trunc_normal_(std=0.02 / sqrt(2 (layer_id + 1)))",
                 "trunc_normal(std=" G ")", sd));
        snprintf(pat, sizeof pat, "layers.%lld.feed_forward.w[23].weight", (long long)i);
        TRY(rule(m, pat, SRC_TITAN ": _depth_init(layer_id) for w2 and w3", "trunc_normal(std=" G ")", sd));
    }
    TRY(rule(m, "layers.*.weight", SRC_TITAN ": _LINEAR_INIT trunc_normal_(std=0.02) for wq, wk, wv, w1",
             "trunc_normal(std=0.02)"));
    return NNINIT_OK;
}

/* ---- BERT (Hugging Face transformers) ---------------------------------------
 * transformers/models/bert/modeling_bert.py, BertPreTrainedModel._init_weights:
 * Linear weight normal(0, initializer_range = 0.02), bias zeros; Embedding
 * normal(0, 0.02), then row padding_idx zero (word_embeddings only: it is
 * the one built with padding_idx=config.pad_token_id, 0 in BertConfig);
 * LayerNorm weight 1, bias 0. Names as BertModel's state dict (the pooler
 * included: add_pooling_layer=True). BertEmbeddings registers position_ids
 * and token_type_ids with persistent=False (transformers since 4.31, PR
 * #24505), so neither is in the state dict, nor here. */
#define SRC_BERT "transformers/models/bert/modeling_bert.py BertPreTrainedModel._init_weights"

static nninit_status build_bert(nninit_model *m, const double *v) {
    const int64_t V = (int64_t)v[0], E = (int64_t)v[1], L = (int64_t)v[2], H = (int64_t)v[3], I = (int64_t)v[4],
                  P = (int64_t)v[5], T = (int64_t)v[6], pad = (int64_t)v[7];
    const double R = v[8];
    const int pooler = v[9] != 0;
    if (E % H)
        return nninit__err(NNINIT_ERR_PARAM,
                           "recipe bert: hidden_size (%lld) must be a multiple of num_attention_heads (%lld)",
                           (long long)E, (long long)H);
    if (pad >= V)
        return nninit__err(NNINIT_ERR_PARAM, "recipe bert: pad_token_id (%lld) must be below vocab_size (%lld)",
                           (long long)pad, (long long)V);
    TRY(add(m, NNINIT_LAYOUT_EMBEDDING, 2, V, E, "embeddings.word_embeddings.weight"));
    TRY(add(m, NNINIT_LAYOUT_EMBEDDING, 2, P, E, "embeddings.position_embeddings.weight"));
    TRY(add(m, NNINIT_LAYOUT_EMBEDDING, 2, T, E, "embeddings.token_type_embeddings.weight"));
    TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "embeddings.LayerNorm.weight"));
    TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "embeddings.LayerNorm.bias"));
    for (int64_t i = 0; i < L; i++) {
        const long long k = (long long)i;
        static const char *const qkv[] = {"query", "key", "value"};
        for (int j = 0; j < 3; j++) {
            TRY(add(m, NNINIT_LAYOUT_OIHW, 2, E, E, "encoder.layer.%lld.attention.self.%s.weight", k, qkv[j]));
            TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "encoder.layer.%lld.attention.self.%s.bias", k, qkv[j]));
        }
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, E, E, "encoder.layer.%lld.attention.output.dense.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "encoder.layer.%lld.attention.output.dense.bias", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "encoder.layer.%lld.attention.output.LayerNorm.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "encoder.layer.%lld.attention.output.LayerNorm.bias", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, I, E, "encoder.layer.%lld.intermediate.dense.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, I, 0, "encoder.layer.%lld.intermediate.dense.bias", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, E, I, "encoder.layer.%lld.output.dense.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "encoder.layer.%lld.output.dense.bias", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "encoder.layer.%lld.output.LayerNorm.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "encoder.layer.%lld.output.LayerNorm.bias", k));
    }
    if (pooler) {
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, E, E, "pooler.dense.weight"));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, E, 0, "pooler.dense.bias"));
    }
    TRY(rule(m, "*LayerNorm.weight", SRC_BERT ": LayerNorm weight 1", "ones"));
    TRY(rule(m, "*LayerNorm.bias", SRC_BERT ": LayerNorm bias 0", "zeros"));
    TRY(rule_ex(m, "embeddings.word_embeddings.weight", pad, NULL,
                SRC_BERT ": Embedding normal(0, initializer_range), row padding_idx (pad_token_id) zero",
                "normal(std=" G ")", R));
    TRY(rule(m, "*.bias", SRC_BERT ": Linear bias 0", "zeros"));
    TRY(rule(m, "*.weight", SRC_BERT ": Linear and Embedding weight normal(0, initializer_range)", "normal(std=" G ")",
             R));
    return NNINIT_OK;
}

/* ---- ViT (timm) --------------------------------------------------------------
 * timm/models/vision_transformer.py (commit 9456764), VisionTransformer with
 * weight_init '' (the default): init_weights() gives pos_embed
 * trunc_normal_(std=.02) (timm/layers/weight_init.py: bounds a=-2, b=2,
 * absolute, as torch's), cls_token normal_(std=1e-6), then
 * named_apply(init_weights_vit_timm): every nn.Linear trunc_normal_(std=.02),
 * bias zeros. init_weights_vit_timm touches nothing else (modules without
 * an init_weights method), so the rest keep PyTorch's constructor init:
 * patch_embed.proj, an nn.Conv2d, kaiming_uniform_(a=sqrt 5) and bias
 * U(+-1/sqrt(fan_in)) (torch/nn/modules/conv.py _ConvNd.reset_parameters);
 * LayerNorm weight 1, bias 0 (torch/nn/modules/normalization.py). Names as
 * timm's state dict; class token, pos_embed over it (no_embed_class False),
 * global_pool 'token', final norm. */
#define SRC_VIT  "timm/models/vision_transformer.py"
#define SRC_CONV "torch/nn/modules/conv.py _ConvNd.reset_parameters"
#define SRC_LIN  "torch/nn/modules/linear.py Linear.reset_parameters"

static nninit_status build_vit(nninit_model *m, const double *v) {
    const int64_t img = (int64_t)v[0], p = (int64_t)v[1], C = (int64_t)v[2], K = (int64_t)v[3], D = (int64_t)v[4],
                  L = (int64_t)v[5], H = (int64_t)v[6];
    const int64_t F = (int64_t)((double)D * v[7]); /* Block: int(dim * mlp_ratio) */
    const int qkv_bias = v[8] != 0;
    if (D % H)
        return nninit__err(NNINIT_ERR_PARAM, "recipe vit: embed_dim (%lld) must be a multiple of num_heads (%lld)",
                           (long long)D, (long long)H);
    if (p > img || F < 1)
        return nninit__err(NNINIT_ERR_PARAM,
                           "recipe vit: patch_size (%lld) must be at most img_size (%lld), mlp hidden (%lld) >= 1",
                           (long long)p, (long long)img, (long long)F);
    const int64_t grid = img / p, n_tok = grid * grid + 1;
    const int64_t s_cls[3] = {1, 1, D}, s_pos[3] = {1, n_tok, D}, s_patch[4] = {D, C, p, p};
    TRY(addn(m, NNINIT_ST_F32, NNINIT_LAYOUT_OIHW, 3, s_cls, "cls_token"));
    TRY(addn(m, NNINIT_ST_F32, NNINIT_LAYOUT_OIHW, 3, s_pos, "pos_embed"));
    TRY(addn(m, NNINIT_ST_F32, NNINIT_LAYOUT_OIHW, 4, s_patch, "patch_embed.proj.weight"));
    TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "patch_embed.proj.bias"));
    for (int64_t i = 0; i < L; i++) {
        const long long k = (long long)i;
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "blocks.%lld.norm1.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "blocks.%lld.norm1.bias", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, 3 * D, D, "blocks.%lld.attn.qkv.weight", k));
        if (qkv_bias) TRY(add(m, NNINIT_LAYOUT_OIHW, 1, 3 * D, 0, "blocks.%lld.attn.qkv.bias", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, D, D, "blocks.%lld.attn.proj.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "blocks.%lld.attn.proj.bias", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "blocks.%lld.norm2.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "blocks.%lld.norm2.bias", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, F, D, "blocks.%lld.mlp.fc1.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, F, 0, "blocks.%lld.mlp.fc1.bias", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, D, F, "blocks.%lld.mlp.fc2.weight", k));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "blocks.%lld.mlp.fc2.bias", k));
    }
    TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "norm.weight"));
    TRY(add(m, NNINIT_LAYOUT_OIHW, 1, D, 0, "norm.bias"));
    if (K > 0) { /* num_classes 0: head is nn.Identity */
        TRY(add(m, NNINIT_LAYOUT_OIHW, 2, K, D, "head.weight"));
        TRY(add(m, NNINIT_LAYOUT_OIHW, 1, K, 0, "head.bias"));
    }
    const double a5 = sqrt(5.0);
    TRY(rule(m, "cls_token", SRC_VIT " VisionTransformer.init_weights: nn.init.normal_(cls_token, std=1e-6)",
             "normal(std=1e-06)"));
    TRY(rule(m, "pos_embed", SRC_VIT " VisionTransformer.init_weights: trunc_normal_(pos_embed, std=.02), a=-2, b=2",
             "trunc_normal(std=0.02)"));
    TRY(rule(m, "patch_embed.proj.weight", SRC_CONV ": Conv2d weight kaiming_uniform_(a=sqrt(5))",
             "kaiming_uniform(a=" G ")", a5));
    TRY(rule_ex(m, "patch_embed.proj.bias", -1, "weight", SRC_CONV ": Conv2d bias U(+-1/sqrt(fan_in of the weight))",
                "kaiming_uniform(a=" G ")", a5));
    TRY(rule(m, "*norm*.weight", "torch/nn/modules/normalization.py LayerNorm.reset_parameters: weight 1", "ones"));
    TRY(rule(m, "*norm*.bias", "torch/nn/modules/normalization.py LayerNorm.reset_parameters: bias 0", "zeros"));
    TRY(rule(m, "*.bias", SRC_VIT " init_weights_vit_timm: Linear bias zeros", "zeros"));
    TRY(rule(m, "*.weight", SRC_VIT " init_weights_vit_timm: Linear weight trunc_normal_(std=.02), a=-2, b=2",
             "trunc_normal(std=0.02)"));
    return NNINIT_OK;
}

/* ---- ResNet (torchvision) -----------------------------------------------------
 * torchvision/models/resnet.py, ResNet.__init__: every nn.Conv2d
 * kaiming_normal_(mode="fan_out", nonlinearity="relu"); BatchNorm2d weight 1,
 * bias 0; with zero_init_residual the last BN of each block (bn2 of a
 * BasicBlock, bn3 of a Bottleneck) weight 0. fc keeps nn.Linear's own init
 * (torch/nn/modules/linear.py reset_parameters): weight
 * kaiming_uniform_(a=sqrt 5) = U(+-1/sqrt(fan_in)), bias U(+-1/sqrt(fan_in)).
 * BatchNorm's buffers (torch/nn/modules/batchnorm.py _NormBase): running_mean
 * 0, running_var 1, num_batches_tracked an int64 scalar 0. Names and order
 * as torchvision.models.resnetNN().state_dict(); depth 18, 34 (BasicBlock),
 * 50, 101, 152 (Bottleneck, stride on the 3x3: "ResNet V1.5"); groups and
 * width_per_group as resnext50_32x4d (32, 4) or wide_resnet50_2 (1, 128). */
#define SRC_RESNET "torchvision/models/resnet.py ResNet.__init__"
#define SRC_BN     "torch/nn/modules/batchnorm.py _NormBase.reset_running_stats"

/* BatchNorm2d(c) named prefix: weight, bias, running_mean, running_var, num_batches_tracked. */
static nninit_status add_bn(nninit_model *m, int64_t c, const char *prefix) {
    TRY(add(m, NNINIT_LAYOUT_OIHW, 1, c, 0, "%s.weight", prefix));
    TRY(add(m, NNINIT_LAYOUT_OIHW, 1, c, 0, "%s.bias", prefix));
    TRY(add(m, NNINIT_LAYOUT_OIHW, 1, c, 0, "%s.running_mean", prefix));
    TRY(add(m, NNINIT_LAYOUT_OIHW, 1, c, 0, "%s.running_var", prefix));
    return addn(m, NNINIT_ST_I64, NNINIT_LAYOUT_OIHW, 0, NULL, "%s.num_batches_tracked", prefix);
}

static nninit_status add_conv(nninit_model *m, int64_t o, int64_t i, int64_t k, const char *name) {
    const int64_t s[4] = {o, i, k, k};
    return addn(m, NNINIT_ST_F32, NNINIT_LAYOUT_OIHW, 4, s, "%s", name);
}

static nninit_status build_resnet(nninit_model *m, const double *v) {
    const int depth = (int)v[0];
    const int64_t K = (int64_t)v[1], groups = (int64_t)v[3], base = (int64_t)v[4];
    const int zero_res = v[2] != 0;
    static const struct {
        int depth, bottleneck, blocks[4];
    } CFG[] = {{18, 0, {2, 2, 2, 2}},
               {34, 0, {3, 4, 6, 3}},
               {50, 1, {3, 4, 6, 3}},
               {101, 1, {3, 4, 23, 3}},
               {152, 1, {3, 8, 36, 3}}};
    int c = -1;
    for (int k = 0; k < 5; k++)
        if (CFG[k].depth == depth) c = k;
    if (c < 0)
        return nninit__err(NNINIT_ERR_PARAM, "recipe resnet: depth must be 18, 34, 50, 101 or 152, not %d", depth);
    const int bott = CFG[c].bottleneck;
    const int64_t exp = bott ? 4 : 1;
    if (!bott && (groups != 1 || base != 64))
        return nninit__err(NNINIT_ERR_PARAM,
                           "recipe resnet: BasicBlock (depth %d) only supports groups=1 and "
                           "width_per_group=64",
                           depth);
    char pre[96], name[128];
    TRY(add_conv(m, 64, 3, 7, "conv1.weight"));
    TRY(add_bn(m, 64, "bn1"));
    int64_t inplanes = 64;
    for (int l = 0; l < 4; l++) {
        const int64_t planes = (int64_t)64 << l;
        const int64_t width = (int64_t)((double)planes * ((double)base / 64.0)) * groups;
        for (int b = 0; b < CFG[c].blocks[l]; b++) {
            const int stride = l > 0 && b == 0 ? 2 : 1;
            snprintf(pre, sizeof pre, "layer%d.%d", l + 1, b);
#define SUB(s) (snprintf(name, sizeof name, "%s.%s", pre, s), name)
            if (bott) {
                TRY(add_conv(m, width, inplanes, 1, SUB("conv1.weight")));
                TRY(add_bn(m, width, SUB("bn1")));
                TRY(add_conv(m, width, width / groups, 3, SUB("conv2.weight")));
                TRY(add_bn(m, width, SUB("bn2")));
                TRY(add_conv(m, planes * exp, width, 1, SUB("conv3.weight")));
                TRY(add_bn(m, planes * exp, SUB("bn3")));
            } else {
                TRY(add_conv(m, planes, inplanes, 3, SUB("conv1.weight")));
                TRY(add_bn(m, planes, SUB("bn1")));
                TRY(add_conv(m, planes, planes, 3, SUB("conv2.weight")));
                TRY(add_bn(m, planes, SUB("bn2")));
            }
            if (b == 0 && (stride != 1 || inplanes != planes * exp)) { /* _make_layer's downsample */
                TRY(add_conv(m, planes * exp, inplanes, 1, SUB("downsample.0.weight")));
                TRY(add_bn(m, planes * exp, SUB("downsample.1")));
            }
#undef SUB
            inplanes = planes * exp;
        }
    }
    TRY(add(m, NNINIT_LAYOUT_OIHW, 2, K, 512 * exp, "fc.weight"));
    TRY(add(m, NNINIT_LAYOUT_OIHW, 1, K, 0, "fc.bias"));
    const double a5 = sqrt(5.0);
    TRY(rule(m, "*.num_batches_tracked", SRC_BN ": num_batches_tracked 0 (int64 scalar)", "zeros"));
    TRY(rule(m, "*.running_mean", SRC_BN ": running_mean 0", "zeros"));
    TRY(rule(m, "*.running_var", SRC_BN ": running_var 1", "ones"));
    if (zero_res)
        TRY(rule(m, bott ? "layer*.bn3.weight" : "layer*.bn2.weight",
                 SRC_RESNET ": zero_init_residual, the last BN of each block weight 0", "zeros"));
    TRY(rule(m, "*bn[0-9].weight", SRC_RESNET ": BatchNorm2d weight 1", "ones"));
    TRY(rule(m, "*downsample.1.weight", SRC_RESNET ": BatchNorm2d weight 1", "ones"));
    TRY(rule(m, "*bn[0-9].bias", SRC_RESNET ": BatchNorm2d bias 0", "zeros"));
    TRY(rule(m, "*downsample.1.bias", SRC_RESNET ": BatchNorm2d bias 0", "zeros"));
    TRY(rule(m, "fc.weight", SRC_LIN ": kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(fan_in))", "kaiming_uniform(a=" G ")",
             a5));
    TRY(rule_ex(m, "fc.bias", -1, "weight", SRC_LIN ": bias U(+-1/sqrt(fan_in of the weight))",
                "kaiming_uniform(a=" G ")", a5));
    TRY(rule(m, "*.weight", SRC_RESNET ": Conv2d kaiming_normal_(mode=\"fan_out\", nonlinearity=\"relu\")",
             "kaiming_normal(mode=fan_out, nonlinearity=relu)"));
    return NNINIT_OK;
}

/* ---- the table ------------------------------------------------------------- */

static recipe RECIPES[] = {
    {"gpt2",
     "GPT-2 (Hugging Face GPT2Model names; normal 0.02, residual projections 0.02/sqrt(2 n_layer)), " SRC_GPT2,
     {{"n_layer", 12, 1, 1000, 1},
      {"n_embd", 768, 1, 1 << 20, 1},
      {"n_head", 12, 1, 1 << 16, 1},
      {"vocab_size", 50257, 1, 1 << 24, 1},
      {"n_positions", 1024, 1, 1 << 24, 1},
      {"n_inner", 0, 0, 1 << 24, 1}},
     build_gpt2,
     NNINIT_F32,
     ""},
    {"llama-hf",
     "Llama (Hugging Face LlamaForCausalLM names; normal 0.02, RMSNorm 1; defaults: Llama-2-7B), " SRC_LLAMA_HF,
     {{"dim", 4096, 1, 1 << 20, 1},
      {"n_layers", 32, 1, 1000, 1},
      {"n_heads", 32, 1, 1 << 16, 1},
      {"n_kv_heads", 32, 1, 1 << 16, 1},
      {"vocab_size", 32000, 1, 1 << 24, 1},
      {"ffn_dim", 11008, 1, 1 << 24, 1},
      {"tie_word_embeddings", 0, 0, 1, 1}},
     build_llama_hf,
     NNINIT_F32,
     ""},
    {"llama-torchtitan",
     "Llama 3 (torchtitan names; trunc_normal 0.02, depth-scaled wo/w2/w3, lm_head dim^-0.5 cut at 3 std; "
     "defaults: Llama-3-8B), " SRC_TITAN,
     {{"dim", 4096, 1, 1 << 20, 1},
      {"n_layers", 32, 1, 1000, 1},
      {"n_heads", 32, 1, 1 << 16, 1},
      {"n_kv_heads", 8, 1, 1 << 16, 1},
      {"vocab_size", 128256, 1, 1 << 24, 1},
      {"multiple_of", 1024, 1, 1 << 20, 1},
      {"ffn_dim_multiplier", 1.3, 0, 64, 0}},
     build_llama_titan,
     NNINIT_F32,
     ""},
    {"bert",
     "BERT (Hugging Face BertModel names, pooler included; Linear and Embedding normal(0, initializer_range), "
     "word_embeddings row pad_token_id zero, LayerNorm 1/0; position_ids and token_type_ids are non-persistent "
     "buffers, not stored; defaults: bert-base-uncased), " SRC_BERT,
     {{"vocab_size", 30522, 1, 1 << 24, 1},
      {"hidden_size", 768, 1, 1 << 20, 1},
      {"num_hidden_layers", 12, 1, 1000, 1},
      {"num_attention_heads", 12, 1, 1 << 16, 1},
      {"intermediate_size", 3072, 1, 1 << 24, 1},
      {"max_position_embeddings", 512, 1, 1 << 24, 1},
      {"type_vocab_size", 2, 1, 1 << 16, 1},
      {"pad_token_id", 0, -1, 1 << 24, 1},
      {"initializer_range", 0.02, 0, 10, 0},
      {"add_pooling_layer", 1, 0, 1, 1}},
     build_bert,
     NNINIT_F32,
     ""},
    {"vit",
     "Vision Transformer (timm VisionTransformer names, weight_init ''; Linear trunc_normal 0.02, pos_embed "
     "trunc_normal 0.02, cls_token normal 1e-6, patch_embed Conv2d and LayerNorm PyTorch's defaults; defaults: "
     "vit_base_patch16_224), " SRC_VIT,
     {{"img_size", 224, 1, 1 << 16, 1},
      {"patch_size", 16, 1, 1 << 16, 1},
      {"in_chans", 3, 1, 1 << 16, 1},
      {"num_classes", 1000, 0, 1 << 24, 1},
      {"embed_dim", 768, 1, 1 << 20, 1},
      {"depth", 12, 1, 1000, 1},
      {"num_heads", 12, 1, 1 << 16, 1},
      {"mlp_ratio", 4, 0, 64, 0},
      {"qkv_bias", 1, 0, 1, 1}},
     build_vit,
     NNINIT_F32,
     ""},
    {"resnet",
     "ResNet (torchvision resnetNN() state dict names, BatchNorm buffers included, num_batches_tracked int64; "
     "conv kaiming_normal fan_out relu, BN 1/0, fc nn.Linear's default; depth 18, 34, 50, 101, 152), " SRC_RESNET,
     {{"depth", 50, 18, 152, 1},
      {"num_classes", 1000, 1, 1 << 24, 1},
      {"zero_init_residual", 0, 0, 1, 1},
      {"groups", 1, 1, 1 << 16, 1},
      {"width_per_group", 64, 1, 1 << 16, 1}},
     build_resnet,
     NNINIT_F32,
     ""},
};
#define N_RECIPES ((int)(sizeof RECIPES / sizeof RECIPES[0]))

int nninit_model_recipe_count(void) { return N_RECIPES; }
const char *nninit_model_recipe_name(int i) { return i >= 0 && i < N_RECIPES ? RECIPES[i].name : NULL; }
const char *nninit_model_recipe_about(int i) { return i >= 0 && i < N_RECIPES ? RECIPES[i].about : NULL; }

const char *nninit_model_recipe_settings(int i) {
    if (i < 0 || i >= N_RECIPES) return NULL;
    recipe *r = &RECIPES[i];
    if (!r->settings_text[0]) { /* written once; the table is constant otherwise */
        size_t n = 0;
        for (int k = 0; k < MAX_SETTINGS && r->s[k].key; k++)
            n += (size_t)snprintf(r->settings_text + n, sizeof r->settings_text - n, "%s%s=%.15g", k ? " " : "",
                                  r->s[k].key, r->s[k].dflt);
        snprintf(r->settings_text + n, sizeof r->settings_text - n, " dtype=%s", nninit_dtype_name(r->dtype));
    }
    return r->settings_text;
}

nninit_status nninit_model_recipe(const char *name, const char *const *settings, size_t nsettings, nninit_model **out) {
    if (!name || !out || (nsettings && !settings)) return nninit__err(NNINIT_ERR_NULL, "recipe: NULL argument");
    const recipe *r = NULL;
    for (int i = 0; i < N_RECIPES; i++)
        if (strcmp(RECIPES[i].name, name) == 0) r = &RECIPES[i];
    if (!r) {
        char list[256] = "";
        size_t n = 0;
        for (int i = 0; i < N_RECIPES; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", RECIPES[i].name);
        return nninit__err(NNINIT_ERR_UNKNOWN_NAME, "recipe: unknown recipe '%s' (recipes: %s)", name, list);
    }
    double v[MAX_SETTINGS];
    int ns = 0;
    for (; ns < MAX_SETTINGS && r->s[ns].key; ns++) v[ns] = r->s[ns].dflt;
    nninit_dtype dtype = r->dtype;
    for (size_t j = 0; j < nsettings; j++) {
        const char *s = settings[j];
        if (!s) return nninit__err(NNINIT_ERR_NULL, "recipe %s: NULL setting", name);
        const char *eq = strchr(s, '=');
        if (!eq || eq == s) return nninit__err(NNINIT_ERR_PARAM, "recipe %s: setting '%s' is not key=value", name, s);
        size_t klen = (size_t)(eq - s);
        if (klen == 5 && strncmp(s, "dtype", 5) == 0) {
            if (nninit_dtype_parse(eq + 1, &dtype))
                return nninit__err(NNINIT_ERR_PARAM, "recipe %s: dtype '%s' (f32, f64, bf16, f16)", name, eq + 1);
            continue;
        }
        int k = 0;
        while (k < ns && !(strlen(r->s[k].key) == klen && strncmp(r->s[k].key, s, klen) == 0)) k++;
        if (k == ns)
            return nninit__err(NNINIT_ERR_UNKNOWN_NAME, "recipe %s: unknown setting '%.*s' (settings: %s)", name,
                               (int)klen, s, nninit_model_recipe_settings((int)(r - RECIPES)));
        char *end;
        errno = 0;
        double x = strtod(eq + 1, &end);
        if (end == eq + 1 || *end || errno || !(x >= r->s[k].lo && x <= r->s[k].hi) ||
            (r->s[k].integer && x != floor(x)))
            return nninit__err(NNINIT_ERR_PARAM, "recipe %s: %s must be %s in [%.15g, %.15g], not '%s'", name,
                               r->s[k].key, r->s[k].integer ? "an integer" : "a number", r->s[k].lo, r->s[k].hi,
                               eq + 1);
        v[k] = x;
    }
    nninit_model *m;
    nninit_status st = nninit_model_new(&m);
    if (st) return st;
    if ((st = r->build(m, v)) || (st = nninit_model_set_dtype(m, dtype)) || (st = nninit_model_resolve(m))) {
        nninit_model_free(m);
        return st;
    }
    *out = m;
    return NNINIT_OK;
}

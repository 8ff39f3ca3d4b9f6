/* recipes.c -- the built-in model recipes (include/nninit_model.h): the
 * tensors of a published architecture, named as its checkpoints name them,
 * and the rules its reference code initializes them with. Each rule cites
 * the file (and function) it reproduces; docs/CHECKPOINT.md lists them.
 *
 * Settings are "key=value": integers, or decimals where the source uses one
 * (ffn_dim_multiplier), plus dtype=f32|f64|bf16|f16 for every tensor. */
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
    char settings_text[256];
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

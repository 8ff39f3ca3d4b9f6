/*
 * nninit_model.h -- whole models: a list of named tensors and the rules that
 * initialize them, from a spec file (docs/CHECKPOINT.md), a built-in recipe
 * (the published init of GPT-2, Llama, ...) or an existing checkpoint's
 * header, filled tensor by tensor or written as a safetensors checkpoint.
 *
 *     nninit_model *m;
 *     const char *set[] = {"n_layer=12"};
 *     if (nninit_model_recipe("gpt2", set, 1, &m) != NNINIT_OK) ... nninit_last_error()
 *     nninit_model_write(m, 0, "model.safetensors", NULL, NULL);
 *     nninit_model_free(m);
 *
 * Rules: a glob pattern on tensor names (fnmatch(3) without flags: '*' also
 * matches '.'), the scheme text of nninit_spec_parse(), optionally the row
 * of an embedding that is zero (padding_idx), and the source of the rule.
 * The first rule that matches a tensor initializes it. A tensor that no rule
 * matches, a name given twice, and a rule that matches no tensor are errors
 * (NNINIT_ERR_FORMAT, naming them), so a typo in a pattern cannot pass
 * silently.
 *
 * A bias under a fan-based scheme takes the fans of its layer's weight
 * (fans_of, nninit_model_add_rule_fans_of): "kaiming_uniform(a=sqrt 5)" on
 * fc.bias with fans_of "weight" becomes uniform(+-1/sqrt(fan_in of
 * fc.weight)), nn.Linear's bias.
 *
 * Tensors may be scalars (0 dims, one element: BatchNorm's
 * num_batches_tracked) and may be stored as integers (I8 .. U64, BOOL of
 * nninit_checkpoint.h), which take only zeros, ones or constant(value=an
 * integer the dtype holds); any other rule on them is NNINIT_ERR_FORMAT
 * naming the tensor.
 *
 * Values: tensor `name` is filled with key nninit_key_from_name(seed, name),
 * so it depends on (seed, name, rule, shape, dtype, layout) alone: adding,
 * removing or reordering other tensors never changes it.
 */
#ifndef NNINIT_MODEL_H
#define NNINIT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "nninit.h"
#include "nninit_checkpoint.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nninit_model nninit_model;

/* One tensor after resolve: every pointer stays valid until nninit_model_free. */
typedef struct {
    const char *name;
    nninit_tensor tensor;  /* shape, dtype, layout, groups; ndim 0: a scalar (one
                             element); an integer tensor's tensor.dtype is F64 */
    nninit_spec spec;      /* from the rule's text (fans_of: the resolved uniform,
                             normal or trunc_normal) */
    int rule;              /* index of the rule that matched */
    int64_t padding_idx;   /* a row (index along dim 0) set to zero after the fill; -1: none */
    const char *init;      /* the scheme text of spec, canonical (nninit_spec_format) */
    nninit_st_dtype dtype; /* as stored: nninit_st_dtype_of(tensor.dtype), or an
                              integer dtype (I8 .. U64, BOOL) */
    const char *fans_of;   /* the tensor whose fans spec took, else NULL */
} nninit_model_tensor;

typedef struct {
    const char *match, *init, *source; /* source may be NULL */
    int64_t padding_idx;               /* -1: none */
    int uses;                          /* tensors it initializes (after resolve) */
    const char *fans_of;               /* NULL: none (nninit_model_add_rule_fans_of) */
} nninit_model_rule;

/*! nninit_model_new() : an empty model. Errors: NULL, NOMEM. */
NNINIT_API nninit_status nninit_model_new(nninit_model **m);
NNINIT_API void nninit_model_free(nninit_model *m);

/*! nninit_model_add_tensor() : append a tensor (name copied; layout as in
 *  nninit_tensor; ndim 0 .. NNINIT_MAX_DIMS, 0 a scalar). Errors: NULL,
 *  FORMAT (empty name, longer than 1024 bytes), SHAPE, OVERFLOW (the byte
 *  count), DTYPE, LAYOUT, NOMEM.
 *  A duplicate name is reported by resolve. */
NNINIT_API nninit_status nninit_model_add_tensor(nninit_model *m, const char *name, int ndim, const int64_t *shape,
                                                 nninit_dtype dtype, nninit_layout layout);
/*! nninit_model_add_tensor_st() : the same with the dtype it is stored as:
 *  F32, F64, BF16, F16 (every scheme), or I8, U8, I16, U16, I32, U32, I64,
 *  U64, BOOL (zeros, ones and integer constants only, checked by resolve).
 *  Errors: as nninit_model_add_tensor; DTYPE for F8 and unknown values. */
NNINIT_API nninit_status nninit_model_add_tensor_st(nninit_model *m, const char *name, int ndim, const int64_t *shape,
                                                    nninit_st_dtype dtype, nninit_layout layout);
/*! nninit_model_add_rule() : append a rule (strings copied; init parsed now).
 *  Errors: NULL, FORMAT (empty pattern), PARAM (init's syntax: the message
 *  has the column), NOMEM. */
NNINIT_API nninit_status nninit_model_add_rule(nninit_model *m, const char *match, const char *init, const char *source,
                                               int64_t padding_idx);
/*! nninit_model_add_rule_fans_of() : a rule whose fan-based scheme takes
 *  the fans of another tensor, as a bias takes its layer's weight's (torch
 *  nn.Linear / nn.Conv2d reset_parameters): fans_of without a '.' replaces
 *  the last '.'-separated part of the matched name ("weight": fc.bias ->
 *  fc.weight); with a '.' it names the tensor. resolve explains the scheme
 *  on that tensor and fills the matched one with the distribution it
 *  resolves to (uniform, normal or trunc_normal: its init text and the
 *  manifest say which). A scheme that uses no fans ignores it, but the
 *  tensor must exist. fans_of NULL: nninit_model_add_rule. Errors: as
 *  nninit_model_add_rule; FORMAT for an empty fans_of. */
NNINIT_API nninit_status nninit_model_add_rule_fans_of(nninit_model *m, const char *match, const char *init,
                                                       const char *source, int64_t padding_idx, const char *fans_of);
/*! nninit_model_clear_tensors() : drop the tensors, keep the rules (--like:
 *  a recipe's rules on another checkpoint's tensors). */
NNINIT_API void nninit_model_clear_tensors(nninit_model *m);

/*! nninit_model_allow_unused_rules() : with allow = 1, resolve accepts rules
 *  that match no tensor (a recipe's full rule set on --like's subset of its
 *  tensors). Off by default. */
NNINIT_API void nninit_model_allow_unused_rules(nninit_model *m, int allow);

/*! nninit_model_resolve() : match every tensor to its rule and check the
 *  spec on the tensor (nninit_explain), padding_idx inside dim 0, fans_of.
 *  Errors: FORMAT (unmatched tensor, duplicate name, unused rule, bad
 *  padding_idx, a fans_of tensor that is not in the model, a rule other
 *  than zeros / ones / an integer constant in range on an integer tensor),
 *  or the scheme's own error naming the tensor. */
NNINIT_API nninit_status nninit_model_resolve(nninit_model *m);

/*! nninit_model_from_json() : a spec file's text (docs/CHECKPOINT.md):
 *  {"tensors": [{"name", "shape", "dtype"?, "layout"?}...],
 *   "rules": [{"match", "init", "padding_idx"?, "fans_of"?, "source"?}...],
 *   "dtype"?} with dtypes as nninit_model_dtype_parse reads them, shape []
 *  a scalar.
 *  "tensors" may be absent (rules only, for --like). Not resolved yet.
 *  Errors: NULL, FORMAT (JSON, a missing or mistyped field, unknown key:
 *  the message names the tensor or rule), and add_tensor's / add_rule's. */
NNINIT_API nninit_status nninit_model_from_json(const char *text, size_t len, nninit_model **m);

/* ---- recipes ---------------------------------------------------------------- */

/*! nninit_model_recipe_count(), nninit_model_recipe_name(),
 *  nninit_model_recipe_about() : the built-in recipes ("gpt2", ...), and a
 *  line on each: what it reproduces, with the source file of its rules and
 *  its settings with their defaults ("n_layer=12 n_embd=768 ..."). */
NNINIT_API int nninit_model_recipe_count(void);
NNINIT_API const char *nninit_model_recipe_name(int i);
NNINIT_API const char *nninit_model_recipe_about(int i);
NNINIT_API const char *nninit_model_recipe_settings(int i);

/*! nninit_model_recipe() : the model of recipe `name` with settings
 *  ("n_layer=12", each overriding a default; "dtype=bf16" sets every
 *  tensor's dtype), resolved. Errors: NULL, UNKNOWN_NAME (recipe or setting),
 *  PARAM (a value: not an integer in range, or sizes that do not divide),
 *  NOMEM. */
NNINIT_API nninit_status nninit_model_recipe(const char *name, const char *const *settings, size_t nsettings,
                                             nninit_model **m);

/* ---- what is in it ------------------------------------------------------------ */

NNINIT_API size_t nninit_model_count(const nninit_model *m);
NNINIT_API const nninit_model_tensor *nninit_model_tensor_at(const nninit_model *m, size_t i);
NNINIT_API size_t nninit_model_rule_count(const nninit_model *m);
NNINIT_API const nninit_model_rule *nninit_model_rule_at(const nninit_model *m, size_t i);
/*! nninit_model_set_dtype() : every floating-point tensor's dtype (before
 *  resolve); integer tensors keep theirs, as torch's Module.to(dtype). */
NNINIT_API nninit_status nninit_model_set_dtype(nninit_model *m, nninit_dtype d);

/*! nninit_model_dtype_name(), nninit_model_dtype_parse() : the spec file's
 *  dtype names: "f32", "f64", "bf16", "f16", "i8", "u8", "i16", "u16",
 *  "i32", "u32", "i64", "u64", "bool" (NULL / UNKNOWN_NAME for the others:
 *  F8 and unknown values). */
NNINIT_API const char *nninit_model_dtype_name(nninit_st_dtype d);
NNINIT_API nninit_status nninit_model_dtype_parse(const char *name, nninit_st_dtype *out);

/*! nninit_model_tensor_numel(), nninit_model_tensor_bytes() : elements (1 for
 *  a scalar) and bytes as stored. */
NNINIT_API int64_t nninit_model_tensor_numel(const nninit_model_tensor *e);
NNINIT_API uint64_t nninit_model_tensor_bytes(const nninit_model_tensor *e);

/*! nninit_model_explain() : nninit_explain of resolved tensor i's spec on it
 *  (a scalar as one element; an integer tensor's constant). Errors: NULL,
 *  FORMAT (not resolved), SLICE (i out of range), and explain's. */
NNINIT_API nninit_status nninit_model_explain(const nninit_model *m, size_t i, nninit_info *info);

/* ---- values ------------------------------------------------------------------- */

/*! nninit_model_fill() : elements [begin, end) of resolved tensor i with seed
 *  into out (elements of its stored dtype, little-endian), on `threads`
 *  threads (nninit_fill_range_threads; padding row zeroed). Errors: NULL,
 *  SLICE, and the fill's. */
NNINIT_API nninit_status nninit_model_fill(const nninit_model *m, size_t i, uint64_t seed, int64_t begin, int64_t end,
                                           void *out, int threads);

/* Progress of a write: bytes of tensor data done of total, after each piece. */
typedef void (*nninit_model_progress)(void *ctx, uint64_t done, uint64_t total);

/* Where a write goes instead of local files (MPI-IO, a network store): the
 * model's files in order, each open, writes, commit. Every call of a part
 * (see nninit_model_write_opts.parts) is matched by the same call, in the
 * same order, on every other part, so a sink may make each of them
 * collective; a part with nothing to write in a round calls write with
 * len 0. */
typedef struct {
    /* a file of file_bytes bytes at path, header[0 .. hlen) its first bytes
     * (the same on every part; the sink writes them once) */
    nninit_status (*open)(void *ctx, const char *path, const void *header, size_t hlen, uint64_t file_bytes);
    /* data[0 .. len) at byte off of the open file (len may be 0) */
    nninit_status (*write)(void *ctx, uint64_t off, const void *data, size_t len);
    nninit_status (*commit)(void *ctx); /* the file is whole: make it appear under its path */
    void (*abort)(void *ctx);           /* after an error: remove what open made */
} nninit_model_sink;

typedef struct {
    uint64_t max_shard_bytes; /* 0: one file; else shards of at most this many
                                 bytes of data (a larger tensor alone in its
                                 shard), named <stem>-00001-of-0000N.safetensors
                                 beside <path>.index.json (path = <stem>.safetensors) */
    int threads;              /* 0: one per CPU */
    size_t chunk_bytes;       /* bytes filled and written at a time (0: 64 MiB) */
    nninit_model_progress progress;
    void *progress_ctx;
    /* NULL: local files, each written by a writer thread while the next
     * chunk is filled, temporary + fsync + rename (nninit_st_writer). */
    const nninit_model_sink *sink;
    void *sink_ctx;
    /* With a sink, this call does part `part` of `parts` (0: 1): each file's
     * chunks are dealt out in rounds of `parts`, chunk j to part j % parts,
     * so parts together write every byte once, the same bytes whatever
     * `parts` is. Part 0 also writes the sharded index. */
    int part, parts;
} nninit_model_write_opts;

/*! nninit_model_write() : write the resolved model as safetensors, streaming
 *  (memory: one chunk), each file atomic (nninit_st_writer), the index last.
 *  __metadata__ holds "format": "pt" and "nninit": the manifest, a JSON
 *  string {"version", "seed", "tensors": {name: {"init", "layout",
 *  "padding_idx"?}}} from which nninit_model_verify recomputes every tensor.
 *  opts NULL: defaults. Errors: NULL, IO, NOMEM, PARAM (threads < 0, parts
 *  without a sink, part outside 0 .. parts-1), the sink's, and the fill's. */
NNINIT_API nninit_status nninit_model_write(const nninit_model *m, uint64_t seed, const char *path,
                                            const nninit_model_write_opts *opts, uint64_t *bytes_written);

#ifdef __cplusplus
}
#endif

#endif

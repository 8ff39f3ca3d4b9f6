/*
 * nninit.h -- neural-network weight initialization, exact and reproducible.
 *
 * nninit fills caller-owned tensors with the initialization schemes of PyTorch,
 * Keras and JAX (zeros ... orthogonal), in f32, f64, bf16 or f16. Every random
 * value is a pure function of (seed, tensor key, element index): a tensor filled
 * in slices, by any number of threads or machines, holds the same bits as one
 * filled in a single call.
 *
 * Example:
 *
 *     #include <nninit.h>
 *     float w[256 * 784];
 *     nninit_tensor t = nninit_tensor_2d(256, 784, NNINIT_F32);   // OIHW: (out, in)
 *     nninit_spec   s = nninit_spec_default(NNINIT_KAIMING_NORMAL); // relu, fan_in
 *     nninit_key    k = nninit_key_from_name(42, "layers.0.weight");
 *     if (nninit_fill(&s, &t, k, w) != NNINIT_OK)
 *         fprintf(stderr, "nninit: %s\n", nninit_last_error());
 *
 * Conventions
 *   - Every function returns an nninit_status; NNINIT_OK is 0. On failure the
 *     output buffers are untouched where the error is found before writing
 *     (always, for argument errors) and nninit_last_error() says why.
 *   - The library never prints, never exits and never allocates for element-wise
 *     schemes; orthogonal, delta_orthogonal and sparse allocate a workspace
 *     (NNINIT_ERR_NOMEM).
 *   - Tensors are dense, row-major (C order). Element i is the i-th element of
 *     the flat buffer.
 *
 * Threads
 *   Every function is reentrant and thread-safe: there is no global state but
 *   the last-error message (thread-local) and the fill kernel set, chosen once
 *   per process on first use (nninit_arch_name()). Different threads may fill
 *   different tensors, or disjoint slices of one tensor (nninit_fill_range),
 *   at the same time. nninit_fill_threads() does the splitting itself: it
 *   creates and joins its threads inside the call (their stacks are the only
 *   memory it asks for, from the system) and leaves none behind.
 *
 * Environment
 *   NNINIT_ARCH    the fill kernels: scalar, portable, avx2 or avx512 (default:
 *                  the widest this CPU runs). Every path gives the same bits;
 *                  one this CPU or build lacks makes fills fail (NNINIT_ERR_ARCH).
 *
 * The exact bit-level definitions (key derivation, counters, bits -> floats,
 * Box-Muller, truncated normal) are in docs/RNG.md; known-answer tests pin them.
 */
#ifndef NNINIT_H
#define NNINIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(NNINIT_BUILD_SHARED)
#define NNINIT_API __declspec(dllexport)
#elif defined(__GNUC__)
#define NNINIT_API __attribute__((visibility("default")))
#else
#define NNINIT_API
#endif

/* printf-style format checking, the one spelling used across nninit. */
#if defined(__GNUC__)
#define NNINIT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define NNINIT_PRINTF(fmt, args)
#endif

#define NNINIT_VERSION_MAJOR  0
#define NNINIT_VERSION_MINOR  1
#define NNINIT_VERSION_PATCH  0
#define NNINIT_VERSION_NUMBER (NNINIT_VERSION_MAJOR * 10000 + NNINIT_VERSION_MINOR * 100 + NNINIT_VERSION_PATCH)

/*! nninit_version_string() : "MAJOR.MINOR.PATCH" of the library actually linked. */
NNINIT_API const char *nninit_version_string(void);
/*! nninit_version_number() : NNINIT_VERSION_NUMBER of the library actually linked. */
NNINIT_API unsigned nninit_version_number(void);

/* ------------------------------------------------------------------------- */
/* Status codes: values are pinned; new codes are only ever appended.        */
/* ------------------------------------------------------------------------- */
typedef enum {
    NNINIT_OK = 0,
    NNINIT_ERR_NULL = 1,               /* a required pointer is NULL */
    NNINIT_ERR_SHAPE = 2,              /* ndim outside 1..8, or a dimension <= 0 */
    NNINIT_ERR_OVERFLOW = 3,           /* the element count overflows int64 */
    NNINIT_ERR_PARAM = 4,              /* NaN/inf/negative std, bad enum, bad gain ... */
    NNINIT_ERR_RANGE = 5,              /* an interval with a >= b */
    NNINIT_ERR_SPARSITY = 6,           /* sparsity outside [0, 1] */
    NNINIT_ERR_NONLINEARITY = 7,       /* unknown nonlinearity */
    NNINIT_ERR_DIMS = 8,               /* the scheme needs another number of dims */
    NNINIT_ERR_GROUPS = 9,             /* groups < 1 or channels not divisible */
    NNINIT_ERR_DTYPE = 10,             /* unknown dtype */
    NNINIT_ERR_NOT_REPRESENTABLE = 11, /* a value overflows the output dtype */
    NNINIT_ERR_NOMEM = 12,             /* workspace allocation failed */
    NNINIT_ERR_LAPACK = 13,            /* LAPACK reported a failure */
    NNINIT_ERR_SLICE = 14,             /* [begin, end) not inside [0, numel] */
    NNINIT_ERR_NOT_ELEMENTWISE = 15,   /* scheme cannot fill a partial slice */
    NNINIT_ERR_LAYOUT = 16,            /* bad layout or axes */
    NNINIT_ERR_IO = 17,                /* file could not be written */
    NNINIT_ERR_UNKNOWN_NAME = 18,      /* a name (scheme, mode, ...) not recognized */
    NNINIT_ERR_DIVERGED = 19,          /* training: the loss became NaN or infinite */
    NNINIT_ERR_ARCH = 20,              /* NNINIT_ARCH names a kernel path this CPU or build lacks */
    NNINIT_ERR_FORMAT = 21             /* a file or spec is malformed (header, offsets, names, dtypes) */
} nninit_status;

/*! nninit_status_str() : a constant name for a status ("NNINIT_ERR_RANGE"). */
NNINIT_API const char *nninit_status_str(nninit_status s);
/*! nninit_last_error() : thread-local detail of the last failure in this
 *  thread ("uniform: a (1) must be < b (0)"); "" if none. */
NNINIT_API const char *nninit_last_error(void);

/* ------------------------------------------------------------------------- */
/* Tensors                                                                   */
/* ------------------------------------------------------------------------- */
#define NNINIT_MAX_DIMS 8

typedef enum {
    NNINIT_F32 = 0,
    NNINIT_F64 = 1,
    NNINIT_BF16 = 2,
    NNINIT_F16 = 3
} nninit_dtype;

/* Which axis is "out", which is "in"; all other axes are the receptive field
 * rf = product of their sizes. fan_in = in * rf, fan_out = out * rf, with the
 * per-preset adjustments below (see docs/FANS.md).
 *
 *  OIHW       (out, in/groups, k...)   PyTorch Linear/Conv weight. Exactly
 *             torch.nn.init._calculate_fan_in_and_fan_out: fan_in = shape[1]*rf,
 *             fan_out = shape[0]*rf. groups do not change fan_out (as PyTorch).
 *  HWIO       (k..., in/groups, out)   Keras/TF kernel; fan_in = shape[-2]*rf,
 *             fan_out = shape[-1]*rf (Keras compute_fans). 2-D: (in, out).
 *  IOHW       (in, out/groups, k...)   PyTorch ConvTranspose weight read as the
 *             layer it is: fan_in = (shape[0]/groups)*rf, fan_out = shape[1]*rf.
 *             (PyTorch itself applies the OIHW rule to this shape; use OIHW to
 *             reproduce that.)
 *  EMBEDDING  (num_embeddings, dim)    a lookup reads one row: fan_in = 1,
 *             fan_out = dim. kaiming_normal(linear) then gives N(0, 1), PyTorch's
 *             nn.Embedding default.
 *  CUSTOM     in_axis / out_axis given by the caller.
 *
 * With NNINIT_LAYOUT_GROUPED_FAN_OUT set in flags, OIHW and HWIO divide fan_out
 * by groups (each input channel feeds only out/groups outputs; pytorch#23854).
 */
typedef enum {
    NNINIT_LAYOUT_OIHW = 0,
    NNINIT_LAYOUT_HWIO = 1,
    NNINIT_LAYOUT_IOHW = 2,
    NNINIT_LAYOUT_EMBEDDING = 3,
    NNINIT_LAYOUT_CUSTOM = 4
} nninit_layout;

#define NNINIT_LAYOUT_GROUPED_FAN_OUT 1u

typedef struct {
    int ndim;                       /* 1..NNINIT_MAX_DIMS */
    int64_t shape[NNINIT_MAX_DIMS]; /* row-major, every entry >= 1 */
    nninit_dtype dtype;
    nninit_layout layout;
    int in_axis, out_axis; /* NNINIT_LAYOUT_CUSTOM only */
    int64_t groups;        /* >= 1; 0 is read as 1 */
    unsigned flags;        /* NNINIT_LAYOUT_GROUPED_FAN_OUT */
} nninit_tensor;

/*! nninit_tensor_make() : an OIHW tensor of the given shape, groups 1. */
NNINIT_API nninit_tensor nninit_tensor_make(int ndim, const int64_t *shape, nninit_dtype dtype);
/*! nninit_tensor_2d() : an OIHW (out, in) tensor. */
NNINIT_API nninit_tensor nninit_tensor_2d(int64_t rows, int64_t cols, nninit_dtype dtype);

/*! nninit_tensor_numel() : checks the shape and stores the element count. */
NNINIT_API nninit_status nninit_tensor_numel(const nninit_tensor *t, int64_t *numel);

/*! nninit_fans() : fan_in and fan_out of t by its layout. Errors: NULL,
 *  SHAPE, OVERFLOW, DIMS (fewer than 2 dims, as PyTorch), LAYOUT, GROUPS. */
NNINIT_API nninit_status nninit_fans(const nninit_tensor *t, double *fan_in, double *fan_out);

/*! nninit_dtype_size() : bytes per element, 0 for an unknown dtype. */
NNINIT_API size_t nninit_dtype_size(nninit_dtype d);
NNINIT_API const char *nninit_dtype_name(nninit_dtype d);

/* ------------------------------------------------------------------------- */
/* Keys: which random stream a tensor draws from                             */
/* ------------------------------------------------------------------------- */
/* A key is the pair (seed, tensor id). The Philox key is derived from it by
 * nninit_key_philox(); element i then uses counters derived from i only. */
typedef struct {
    uint64_t seed;
    uint64_t id;
} nninit_key;

/*! nninit_key_make() : key for a numeric tensor id. */
NNINIT_API nninit_key nninit_key_make(uint64_t seed, uint64_t id);
/*! nninit_key_from_name() : id = FNV-1a 64 of the UTF-8 bytes of name (offset
 *  0xcbf29ce484222325, prime 0x100000001b3); NULL is hashed as "". */
NNINIT_API nninit_key nninit_key_from_name(uint64_t seed, const char *name);
NNINIT_API uint64_t nninit_hash_name(const char *name);

/* ------------------------------------------------------------------------- */
/* Philox4x32-10 (Salmon et al., SC11), exposed for tests and other engines  */
/* ------------------------------------------------------------------------- */
/*! nninit_philox4x32() : out = Philox4x32-10(ctr, key), Random123's definition. */
NNINIT_API void nninit_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
/*! nninit_key_philox() : the 2x32 Philox key of (seed, id); docs/RNG.md. */
NNINIT_API void nninit_key_philox(nninit_key k, uint32_t out[2]);

/* ------------------------------------------------------------------------- */
/* Schemes                                                                   */
/* ------------------------------------------------------------------------- */
typedef enum {
    NNINIT_ZEROS = 0,
    NNINIT_ONES,
    NNINIT_CONSTANT,         /* value */
    NNINIT_UNIFORM,          /* U(a, b) */
    NNINIT_NORMAL,           /* N(mean, std^2) */
    NNINIT_TRUNC_NORMAL,     /* N(mean, std^2) on [a, b], absolute (PyTorch) */
    NNINIT_TRUNC_NORMAL_STD, /* N(mean, std^2) on [mean+a*std, mean+b*std] (JAX)*/
    NNINIT_XAVIER_UNIFORM,   /* U(+-gain*sqrt(6/(fan_in+fan_out))) */
    NNINIT_XAVIER_NORMAL,    /* N(0, (gain*sqrt(2/(fan_in+fan_out)))^2) */
    NNINIT_KAIMING_UNIFORM,  /* U(+-sqrt(3)*gain(nl,a)/sqrt(fan)) */
    NNINIT_KAIMING_NORMAL,   /* N(0, (gain(nl,a)/sqrt(fan))^2) */
    NNINIT_LECUN_UNIFORM,    /* U(+-sqrt(3/fan_in)) */
    NNINIT_LECUN_NORMAL,     /* N(0, 1/fan_in) (untruncated; see VS for Keras) */
    NNINIT_VARIANCE_SCALING, /* scale/fan, distribution (Keras, JAX) */
    NNINIT_ORTHOGONAL,       /* gain * Q, PyTorch orthogonal_: rows = shape[0],
                                cols = numel/rows, whatever the layout */
    NNINIT_SPARSE,           /* N(0, std^2), ceil(sparsity*rows) zeros per col */
    NNINIT_EYE,              /* 2-D identity (rectangular allowed) */
    NNINIT_DIRAC,            /* conv identity, 3-5-D, groups */
    NNINIT_DELTA_ORTHOGONAL, /* JAX delta_orthogonal(scale=gain): 3-5-D conv
                                kernel, in <= out (else ERR_SHAPE); the centre
                                tap (k-1)//2 of every spatial dim holds gain *
                                the (out, in) matrix ORTHOGONAL fills with the
                                same key, the other taps 0; the channel axes
                                are the layout's (embedding: ERR_LAYOUT),
                                groups ignored; whole tensors only */
    NNINIT_SCHEME_COUNT
} nninit_scheme;

typedef enum {
    NNINIT_FAN_IN = 0,
    NNINIT_FAN_OUT = 1,
    NNINIT_FAN_AVG = 2,    /* (fan_in + fan_out) / 2 */
    NNINIT_FAN_GEO_AVG = 3 /* sqrt(fan_in * fan_out)  (JAX fan_geo_avg) */
} nninit_mode;

typedef enum {
    NNINIT_NL_LINEAR = 0,
    NNINIT_NL_CONV1D,
    NNINIT_NL_CONV2D,
    NNINIT_NL_CONV3D,
    NNINIT_NL_CONV_TRANSPOSE1D,
    NNINIT_NL_CONV_TRANSPOSE2D,
    NNINIT_NL_CONV_TRANSPOSE3D,
    NNINIT_NL_SIGMOID,
    NNINIT_NL_TANH,
    NNINIT_NL_RELU,
    NNINIT_NL_LEAKY_RELU,
    NNINIT_NL_SELU,
    NNINIT_NL_COUNT
} nninit_nonlinearity;

typedef enum {
    NNINIT_DIST_UNIFORM = 0,         /* U(+-sqrt(3*var)) */
    NNINIT_DIST_NORMAL = 1,          /* N(0, var), untruncated */
    NNINIT_DIST_TRUNCATED_NORMAL = 2 /* std sqrt(var)/0.87962566103423978 on +-2 std */
} nninit_distribution;

/* Parameters of every scheme; a scheme reads only its own fields.
 * nninit_spec_default() fills PyTorch's (or Keras') defaults. */
typedef struct {
    nninit_scheme scheme;
    double value;                     /* CONSTANT */
    double a, b;                      /* UNIFORM bounds; TRUNC_NORMAL bounds */
    double mean, std;                 /* NORMAL, TRUNC_NORMAL*, SPARSE (std) */
    double gain;                      /* XAVIER_*, ORTHOGONAL, DELTA_ORTHOGONAL */
    double slope;                     /* KAIMING_* 'a' (leaky_relu negative slope;
                                         PyTorch's default 0; NaN is rejected) */
    nninit_mode mode;                 /* KAIMING_*, VARIANCE_SCALING */
    nninit_nonlinearity nonlinearity; /* KAIMING_* */
    double scale;                     /* VARIANCE_SCALING: var = scale/max(1, fan) */
    nninit_distribution distribution; /* VARIANCE_SCALING */
    double sparsity;                  /* SPARSE */
    int64_t groups;                   /* DIRAC (fans read nninit_tensor.groups) */
} nninit_spec;

/*! nninit_spec_default() : the defaults of the scheme's reference:
 *  uniform a=0 b=1; normal mean=0 std=1; trunc_normal mean 0 std 1 a=-2 b=2;
 *  xavier gain 1; kaiming slope 0, fan_in, leaky_relu (=> gain sqrt(2));
 *  variance_scaling scale 1, fan_in, truncated_normal (Keras); orthogonal and
 *  delta_orthogonal gain 1;
 *  sparse std 0.01, sparsity 0.1 (PyTorch has no default sparsity); dirac groups 1. */
NNINIT_API nninit_spec nninit_spec_default(nninit_scheme s);

/*! nninit_calculate_gain() : PyTorch's table. linear, conv*, conv_transpose*,
 *  sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2/(1+s^2)), s = param,
 *  or 0.01 when param is NaN (PyTorch's None); selu: 3/4. Errors: NULL,
 *  NONLINEARITY, PARAM (leaky_relu param infinite). */
NNINIT_API nninit_status nninit_calculate_gain(nninit_nonlinearity nl, double param, double *gain);

/* What a scheme resolves to on a tensor: the distribution actually sampled. */
typedef enum {
    NNINIT_RESOLVED_CONSTANT = 0,     /* every element = lo */
    NNINIT_RESOLVED_UNIFORM = 1,      /* U(lo, hi) */
    NNINIT_RESOLVED_NORMAL = 2,       /* N(mean, std^2) */
    NNINIT_RESOLVED_TRUNC_NORMAL = 3, /* N(mean, std^2) restricted to [lo, hi] */
    NNINIT_RESOLVED_STRUCTURED = 4    /* orthogonal, sparse, eye, dirac, delta_orthogonal */
} nninit_resolved;

typedef struct {
    nninit_resolved kind;
    int has_fans; /* 1 if fan_in/fan_out were computed (ndim >= 2) */
    double fan_in, fan_out;
    double fan;      /* the fan the scheme used; NaN if none */
    double gain;     /* NaN where the scheme has no gain */
    double mean;     /* mean of the values produced (after truncation) */
    double std;      /* std parameter of the (pre-truncation) normal, or
                        of the uniform; NaN for constants */
    double bound;    /* half-width of a zero-centred uniform; NaN else */
    double lo, hi;   /* support of the values */
    double variance; /* variance of the values actually produced */
} nninit_info;

/*! nninit_explain() : resolve spec on tensor t without drawing anything.
 *  Validates exactly as nninit_fill() does. */
NNINIT_API nninit_status nninit_explain(const nninit_spec *spec, const nninit_tensor *t, nninit_info *info);

/*! nninit_spec_resolve_fans() : the plain spec that spec amounts to on the
 *  fans of another tensor, fans_of: a bias drawn by its layer's weight's
 *  rule (kaiming_uniform on the (256, 784) weight gives the bias
 *  U(+-sqrt(3) gain / sqrt(784))). A 1-D bias has no fans of its own, so a
 *  fan-based scheme (nninit_scheme_uses_fans) cannot fill it directly; the
 *  spec this returns can, and any tensor, with that distribution.
 *  For a fan-based scheme, *out is what nninit_explain(spec, fans_of)
 *  resolves to, as nninit_spec_default() of the plain scheme with:
 *      uniform        a = lo, b = hi         (xavier/kaiming/lecun_uniform,
 *                                             variance_scaling uniform)
 *      normal         mean, std              (the *_normal, variance_scaling normal)
 *      trunc_normal   mean, std, a = lo, b = hi (absolute; variance_scaling
 *                                             truncated_normal: +-2 std)
 *      constant       value = lo             (a zero bound: gain 0)
 *  Any other scheme is copied to *out unchanged (fans_of is not read).
 *  out may equal spec. Errors: NULL (any argument), PARAM (unknown scheme),
 *  and those of nninit_explain on fans_of (DIMS for fewer than 2 dims, PARAM
 *  for a bad parameter, ...); on error *out is untouched. */
NNINIT_API nninit_status nninit_spec_resolve_fans(const nninit_spec *spec, const nninit_tensor *fans_of,
                                                  nninit_spec *out);

/*! nninit_fill() : fill the whole tensor. data holds numel elements of t->dtype. */
NNINIT_API nninit_status nninit_fill(const nninit_spec *spec, const nninit_tensor *t, nninit_key key, void *data);

/*! nninit_fill_range() : fill elements [begin, end) of the flat tensor into
 *  out[0 .. end-begin). The values equal those of nninit_fill() at the same
 *  indices, bit for bit. Element-wise schemes only (everything but ORTHOGONAL,
 *  SPARSE and DELTA_ORTHOGONAL, which return NNINIT_ERR_NOT_ELEMENTWISE unless
 *  the range is the whole tensor). Errors: as nninit_fill, plus SLICE. */
NNINIT_API nninit_status nninit_fill_range(const nninit_spec *spec, const nninit_tensor *t, nninit_key key,
                                           int64_t begin, int64_t end, void *out);

/*! nninit_fill_threads(), nninit_fill_range_threads() : the same values as
 *  nninit_fill() / nninit_fill_range(), bit for bit, computed on up to
 *  `threads` threads: 0 means one per online CPU, 1 the calling thread only.
 *  The range is cut into contiguous pieces of at least 65536 elements (a
 *  smaller fill stays on the calling thread), at most 256 threads; the split
 *  never changes a bit. The threads are created and joined inside the call.
 *  Orthogonal, sparse and delta_orthogonal run on the calling thread.
 *  Errors: as nninit_fill / nninit_fill_range, plus PARAM for threads < 0 and
 *  NOMEM if a thread cannot be started (the threads already started are
 *  joined first; the output is then partly written). */
NNINIT_API nninit_status nninit_fill_threads(const nninit_spec *spec, const nninit_tensor *t, nninit_key key,
                                             void *data, int threads);
NNINIT_API nninit_status nninit_fill_range_threads(const nninit_spec *spec, const nninit_tensor *t, nninit_key key,
                                                   int64_t begin, int64_t end, void *out, int threads);

/*! nninit_fill_box(), nninit_fill_box_threads() : fill the box [lo[d], hi[d])
 *  of every dim d of t into out, row-major with shape (hi[0]-lo[0], ...):
 *  exactly the values nninit_fill() gives at those indices, bit for bit (a
 *  column- or row-parallel shard, one attention head, a slice of an expert).
 *  The box is cut into runs of contiguous indices (the innermost dims it
 *  covers whole merge into one run), each filled by the kernels at the speed
 *  of a contiguous fill. Threads as nninit_fill_threads (0 = one per CPU).
 *  Element-wise schemes only: ORTHOGONAL, SPARSE and DELTA_ORTHOGONAL return
 *  NNINIT_ERR_NOT_ELEMENTWISE unless the box is the whole tensor. Errors: as
 *  nninit_fill, plus NULL (lo, hi, out), SLICE (a dim with lo < 0, hi < lo or
 *  hi > shape) and PARAM (threads < 0). An empty box writes nothing. */
NNINIT_API nninit_status nninit_fill_box(const nninit_spec *spec, const nninit_tensor *t, nninit_key key,
                                         const int64_t *lo, const int64_t *hi, void *out);
NNINIT_API nninit_status nninit_fill_box_threads(const nninit_spec *spec, const nninit_tensor *t, nninit_key key,
                                                 const int64_t *lo, const int64_t *hi, void *out, int threads);

/*! nninit_arch_name() : the fill kernels in use: "avx512" (AVX-512 F, DQ,
 *  BW, VL), "avx2" (AVX2 + FMA), "scalar" (the reference C, with FMA
 *  instructions where the CPU has them) or "portable" (the reference C, libm's
 *  fma). The widest this CPU runs unless the environment variable NNINIT_ARCH
 *  names one (read once, at the first fill or call of this function). Every
 *  path gives the same bits. NULL if NNINIT_ARCH names a path this CPU or
 *  build cannot run, or no path at all; nninit_last_error() then says why
 *  ("NNINIT_ARCH=avx512: this CPU lacks AVX-512 BW") and every fill fails
 *  with NNINIT_ERR_ARCH and that message. */
NNINIT_API const char *nninit_arch_name(void);

/*! nninit_scheme_is_elementwise() : 1 if nninit_fill_range() accepts any slice. */
NNINIT_API int nninit_scheme_is_elementwise(nninit_scheme s);

/*! nninit_scheme_uses_fans() : 1 if the scheme's scale comes from the tensor's
 *  fans (xavier_*, kaiming_*, lecun_*, variance_scaling), so that the layout,
 *  the axes and groups change its values; 0 otherwise and for unknown s. */
NNINIT_API int nninit_scheme_uses_fans(nninit_scheme s);

/* ------------------------------------------------------------------------- */
/* Names (for CLIs, config files and bindings)                               */
/* ------------------------------------------------------------------------- */
NNINIT_API const char *nninit_scheme_name(nninit_scheme s);    /* "kaiming_normal" */
NNINIT_API const char *nninit_scheme_formula(nninit_scheme s); /* one line */
NNINIT_API const char *nninit_nonlinearity_name(nninit_nonlinearity nl);
NNINIT_API const char *nninit_mode_name(nninit_mode m);
NNINIT_API const char *nninit_distribution_name(nninit_distribution d);
NNINIT_API const char *nninit_layout_name(nninit_layout l);
/* Parse names, case-sensitive, as printed by the functions above. Errors:
 * NULL; UNKNOWN_NAME (scheme, mode, distribution), NONLINEARITY, LAYOUT and
 * DTYPE for the others. Aliases: he_* for kaiming_*, glorot_* for xavier_*,
 * trunc_normal_std also as truncated_normal; conv2d etc. for nonlinearities. */
NNINIT_API nninit_status nninit_scheme_parse(const char *name, nninit_scheme *out);
NNINIT_API nninit_status nninit_nonlinearity_parse(const char *name, nninit_nonlinearity *out);
NNINIT_API nninit_status nninit_mode_parse(const char *name, nninit_mode *out);
NNINIT_API nninit_status nninit_distribution_parse(const char *name, nninit_distribution *out);
NNINIT_API nninit_status nninit_layout_parse(const char *name, nninit_layout *out);
NNINIT_API nninit_status nninit_dtype_parse(const char *name, nninit_dtype *out);

/* ------------------------------------------------------------------------- */
/* Scheme text: a scheme and its parameters as one string                    */
/* ------------------------------------------------------------------------- */
/* The form init= takes in the architecture grammar (docs/GRAMMAR.md), for
 * config files, command lines and bindings:
 *
 *     scheme = name [ "(" [ key "=" value { "," key "=" value } ] ")" ]
 *
 *     "xavier_normal"   "normal(std=0.02)"   "dirac(groups=2)"
 *     "trunc_normal(std=0.02, a=-0.04, b=0.04)"
 *     "kaiming_normal(a=0.1, mode=fan_out, nonlinearity=leaky_relu)"
 *
 * name: any that nninit_scheme_parse() accepts. key: a parameter the scheme
 * reads (nninit_scheme_takes_param()), at most once; the others keep
 * nninit_spec_default(scheme). The keys are the nninit_spec fields gain, a,
 * b, mean, std, value, scale, mode, nonlinearity, distribution, sparsity,
 * groups and slope, except that kaiming_* store a in slope: for them "a"
 * (PyTorch's name) and "slope" are one parameter. value: a finite decimal
 * number (C strtod syntax; no inf, nan or hex; groups an integer 1..2^31-1)
 * or, for mode, nonlinearity and distribution, a name as nninit_mode_parse()
 * etc. read it. Spaces may surround keys, '=' and ','; none goes between the
 * name and '('. Only the text is checked: whether the spec can fill a given
 * tensor is nninit_explain()'s question. */

/* A buffer of this many bytes holds every text nninit_spec_format() writes. */
#define NNINIT_SPEC_TEXT_MAX 256

/*! nninit_spec_parse() : parse the whole of text (leading and trailing spaces
 *  allowed) into *out. Errors: NULL; PARAM for any syntax error, with
 *  nninit_last_error() naming the 1-based byte column in text and what was
 *  expected ("scheme: at 8: normal takes no parameter 'gain' (it takes: mean,
 *  std)"). On error *out is untouched. */
NNINIT_API nninit_status nninit_spec_parse(const char *text, nninit_spec *out);

/*! nninit_spec_format() : the canonical text of spec into buf (cap bytes,
 *  NUL included): the scheme's own name (no alias), then, in parentheses, the
 *  parameters the scheme reads that differ (bit for bit) from
 *  nninit_spec_default(scheme), in the order of nninit_spec_param_name(),
 *  separated by ", ": "trunc_normal(a=-0.04, b=0.04, std=0.02)". A scheme at
 *  its defaults is its bare name ("kaiming_normal"; the parser also takes
 *  "kaiming_normal()"). Numbers have the fewest digits that read back to the
 *  same double, so nninit_spec_parse() of the text gives spec again, bit for
 *  bit, in every field the scheme reads (the others come back as
 *  nninit_spec_default's). Errors: NULL; PARAM for a spec the text cannot hold
 *  (unknown scheme or enum value, a non-finite number, groups outside
 *  1..2^31-1) and when the text does not fit in cap bytes (the message says
 *  how many it needs); on error buf is untouched, never a cut text. */
NNINIT_API nninit_status nninit_spec_format(const nninit_spec *spec, char *buf, size_t cap);

/*! nninit_spec_param_count(), nninit_spec_param_name() : the parameter keys,
 *  i = 0 .. count-1 ("gain", "a", ..., "slope"); NULL for any other i. */
NNINIT_API int nninit_spec_param_count(void);
NNINIT_API const char *nninit_spec_param_name(int i);

/*! nninit_scheme_takes_param() : 1 if scheme s reads parameter name, i.e. the
 *  text "s(name=...)" is accepted and sets a field that s reads; 0 if not, and
 *  for an unknown scheme, an unknown name or NULL. "a" and "slope" are both
 *  1 for kaiming_*; "slope" is 0 for every other scheme. */
NNINIT_API int nninit_scheme_takes_param(nninit_scheme s, const char *name);

/* ------------------------------------------------------------------------- */
/* Rounding to narrow dtypes (round to nearest even, NaN kept quiet)         */
/* ------------------------------------------------------------------------- */
NNINIT_API uint16_t nninit_f32_to_bf16(float x);
NNINIT_API uint16_t nninit_f32_to_f16(float x);
NNINIT_API float nninit_bf16_to_f32(uint16_t h);
NNINIT_API float nninit_f16_to_f32(uint16_t h);

/* ------------------------------------------------------------------------- */
/* .npy output                                                               */
/* ------------------------------------------------------------------------- */
/*! nninit_npy_write() : write data (numel elements of dtype, shape as given) as
 *  a NumPy .npy v1.0 file whose data starts at a multiple of 64 bytes. The file
 *  is written to a hidden temporary in the same directory,
 *  ".<name>.nninit-tmp.<pid>.XXXXXX", fsync'd and renamed, so path never holds
 *  a partial file; the temporaries of path left by writers that were killed
 *  (their pid no longer exists on this machine) are removed first. A path
 *  that exists and is not a regular file is refused (IO), never replaced. bf16
 *  is stored as '<u2' bit patterns (NumPy has no bfloat16). Errors: NULL,
 *  SHAPE, DTYPE, OVERFLOW, NOMEM, IO. */
NNINIT_API nninit_status nninit_npy_write(const char *path, const void *data, nninit_dtype dtype, int ndim,
                                          const int64_t *shape);

#ifdef __cplusplus
}
#endif
#endif /* NNINIT_H */

/*
 * nninit_torch.h -- PyTorch's CPU generator, bit for bit.
 *
 * A stateful stream that gives the bytes torch gives: torch.manual_seed(s)
 * followed by any sequence of uniform_, normal_, trunc_normal_, kaiming_*,
 * xavier_* calls and nn.Linear / nn.Conv*d constructions, in float32 or
 * float64, fills the same bits here, in C, without Python. The reference is
 * PyTorch 1.13 (Debian 12's python3-torch, x86-64); docs/TORCH_STREAM.md says
 * which versions, dtypes and paths match, which do not, and why.
 *
 * Unlike the rest of nninit (a value is a pure function of seed, tensor and
 * index), this stream is sequential: every call advances one MT19937 state
 * exactly as torch's CPUGeneratorImpl does, so the order of the calls is part
 * of the result, as it is in torch.
 *
 * Example: torch.manual_seed(0); nn.Linear(784, 256); nn.Conv2d(3, 64, 3):
 *
 *     #include <nninit_torch.h>
 *     static float w1[256 * 784], b1[256], w2[64 * 3 * 3 * 3], b2[64];
 *     nninit_torch_gen g;
 *     nninit_torch_gen_init(&g, 0);                         // torch.manual_seed(0)
 *     nninit_torch_linear(&g, NNINIT_F32, 784, 256, 1, w1, b1);
 *     nninit_torch_conv2d(&g, NNINIT_F32, 3, 64, 3, 3, 1, 1, w2, b2);
 *
 * Conventions are those of nninit.h: every function returns an nninit_status
 * (NNINIT_OK is 0), argument errors are found before anything is written or
 * drawn (the generator is then unchanged) and nninit_last_error() says why;
 * nothing allocates, prints or exits. A generator is a plain struct the
 * caller owns (copying it snapshots the stream); one generator must not be
 * used by two threads at once, different generators may.
 */
#ifndef NNINIT_TORCH_H
#define NNINIT_TORCH_H

#include "nninit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which of ATen's CPU kernels the stream reproduces. The draws are the same;
 * the arithmetic differs in its roundings. */
typedef enum {
    /* ATEN_CPU_CAPABILITY avx2 or avx512 (the default of x86-64 builds on any
     * CPU with AVX2): the AVX2 normal_ kernel (avx_mathfun.h log/sincos) and
     * GCC's contraction of a*b+c into FMA in every kernel. */
    NNINIT_TORCH_CPU_AVX2 = 0,
    /* ATEN_CPU_CAPABILITY=default, or an x86-64 CPU without AVX2: the scalar
     * kernels, libm's logf/sincosf, no FMA. */
    NNINIT_TORCH_CPU_DEFAULT = 1
} nninit_torch_cpu;

/* The generator: torch's mt19937 engine (aten/src/ATen/core/MT19937RNGEngine.h)
 * and the cached second normal of CPUGeneratorImpl. Read and written only by
 * the functions below; the layout is fixed (for bindings): 2536 bytes. */
typedef struct {
    uint64_t seed;             /* torch.initial_seed(): all 64 bits */
    double next_double_normal; /* Box-Muller's second value, kept for the next normal_ */
    uint32_t state[624];       /* MT19937 words */
    uint32_t left;             /* torch's left_: 1 .. 624 (1 after seeding) */
    uint32_t next;             /* torch's next_: 0 .. 624 */
    int32_t has_next_double_normal;
    float next_float_normal; /* kept only for get/set_state: no op here uses it */
    int32_t has_next_float_normal;
    int32_t cpu; /* nninit_torch_cpu */
} nninit_torch_gen;

/* Bytes of torch.get_rng_state() (the legacy THGeneratorState POD and the
 * float normal cache), as nninit_torch_gen_get_state writes them. */
#define NNINIT_TORCH_STATE_SIZE 5056

/*! nninit_torch_gen_init() : torch.manual_seed(seed): the engine seeded with
 *  the low 32 bits of seed (torch's init_with_uint32), both normal caches
 *  cleared, cpu = NNINIT_TORCH_CPU_AVX2. A negative Python seed s is
 *  (uint64_t)(s mod 2^64), as torch reads it. Errors: NULL. */
NNINIT_API nninit_status nninit_torch_gen_init(nninit_torch_gen *g, uint64_t seed);

/*! nninit_torch_gen_set_cpu() : which kernels to reproduce (nninit_torch_cpu);
 *  the state is kept. Errors: NULL, PARAM (unknown cpu). */
NNINIT_API nninit_status nninit_torch_gen_set_cpu(nninit_torch_gen *g, nninit_torch_cpu cpu);

/*! nninit_torch_gen_get_state() : torch.get_rng_state() of this generator:
 *  NNINIT_TORCH_STATE_SIZE bytes into buf (cap at least that). Errors: NULL,
 *  PARAM (cap too small). */
NNINIT_API nninit_status nninit_torch_gen_get_state(const nninit_torch_gen *g, void *buf, size_t cap);

/*! nninit_torch_gen_set_state() : torch.set_rng_state(bytes): continue the
 *  stream of a torch generator; cpu is kept. Errors: NULL, FORMAT (not
 *  NNINIT_TORCH_STATE_SIZE bytes, or a position the engine cannot be in: not
 *  seeded, or (left, next) neither (1, 0) nor left + next = 625 with left in
 *  1..624); on error g is unchanged. */
NNINIT_API nninit_status nninit_torch_gen_set_state(nninit_torch_gen *g, const void *buf, size_t len);

/*! nninit_torch_random() : the next n raw 32-bit engine outputs
 *  (CPUGeneratorImpl::random()). Errors: NULL (g; out with n > 0), PARAM (n < 0,
 *  a generator never initialized), ARCH (as below). */
NNINIT_API nninit_status nninit_torch_random(nninit_torch_gen *g, uint32_t *out, int64_t n);

/* ---- the tensor ops: data holds n contiguous elements of dtype ----------
 * dtype is NNINIT_F32 or NNINIT_F64 (bf16/f16: NNINIT_ERR_DTYPE). n = 0 draws
 * nothing (data may be NULL). Errors of all: NULL (g; data with n > 0),
 * PARAM (n < 0, a non-finite parameter, a generator never initialized), DTYPE,
 * ARCH (NNINIT_ARCH names a kernel path this CPU or build lacks, as for every
 * fill; the stream uses the AVX2 instructions where NNINIT_ARCH allows). */

/*! nninit_torch_uniform() : tensor.uniform_(a, b). a and b are rounded to
 *  dtype first, as torch does. Errors: RANGE (a > b; a == b is allowed and
 *  still draws), NOT_REPRESENTABLE (a, b or b - a overflows dtype). */
NNINIT_API nninit_status nninit_torch_uniform(nninit_torch_gen *g, nninit_dtype dtype, void *data, int64_t n, double a,
                                              double b);

/*! nninit_torch_normal() : tensor.normal_(mean, std), all three of torch's
 *  paths: float32 with n >= 16 (16 at a time, the last 16 drawn again when
 *  16 does not divide n), float64 with n >= 16 (the same in double, libm),
 *  n < 16 (one Box-Muller pair per two values in double, the second value
 *  kept in g for the next call, as torch keeps it). Errors: PARAM (std < 0),
 *  NOT_REPRESENTABLE (float32: mean or std beyond FLT_MAX). */
NNINIT_API nninit_status nninit_torch_normal(nninit_torch_gen *g, nninit_dtype dtype, void *data, int64_t n,
                                             double mean, double std);

/*! nninit_torch_trunc_normal() : torch.nn.init.trunc_normal_(t, mean, std,
 *  a, b) of 1.13 (inverse CDF): uniform_(2 Phi(a') - 1, 2 Phi(b') - 1),
 *  erfinv_ (ATen's calc_erfinv), mul_(std sqrt 2), add_(mean), clamp_(a, b).
 *  a and b may be infinite (no truncation on that side), as in torch.
 *  Errors: PARAM (std <= 0, a or b NaN), RANGE (a > b), NOT_REPRESENTABLE
 *  (std sqrt 2, mean, a or b beyond the dtype). */
NNINIT_API nninit_status nninit_torch_trunc_normal(nninit_torch_gen *g, nninit_dtype dtype, void *data, int64_t n,
                                                   double mean, double std, double a, double b);

/* ---- torch.nn.init on a tensor of a shape ---------------------------------
 * shape: ndim (2..8) sizes >= 1, row-major; fans as torch's
 * _calculate_fan_in_and_fan_out (fan_in = shape[1] * rf, fan_out = shape[0] *
 * rf, rf the product of shape[2:]); every scale computed in double as the
 * Python code does (calculate_gain, math.sqrt, **). Errors of all: NULL,
 * DTYPE, SHAPE (a size < 1), DIMS (ndim < 2 or > 8), OVERFLOW. */

/*! nninit_torch_kaiming_uniform(), nninit_torch_kaiming_normal() :
 *  kaiming_uniform_(t, a, mode, nonlinearity) / kaiming_normal_: gain =
 *  calculate_gain(nonlinearity, a), std = gain / sqrt(fan), uniform_(+-sqrt(3)
 *  std) or normal_(0, std). torch's defaults: a = 0, NNINIT_FAN_IN,
 *  NNINIT_NL_LEAKY_RELU. Errors: PARAM (mode other than fan_in/fan_out, a not
 *  finite), NONLINEARITY. */
NNINIT_API nninit_status nninit_torch_kaiming_uniform(nninit_torch_gen *g, nninit_dtype dtype, void *data, int ndim,
                                                      const int64_t *shape, double a, nninit_mode mode,
                                                      nninit_nonlinearity nonlinearity);
NNINIT_API nninit_status nninit_torch_kaiming_normal(nninit_torch_gen *g, nninit_dtype dtype, void *data, int ndim,
                                                     const int64_t *shape, double a, nninit_mode mode,
                                                     nninit_nonlinearity nonlinearity);

/*! nninit_torch_xavier_uniform(), nninit_torch_xavier_normal() :
 *  xavier_uniform_(t, gain) / xavier_normal_: std = gain sqrt(2 / (fan_in +
 *  fan_out)), uniform_(+-sqrt(3) std) or normal_(0, std). torch's default
 *  gain is 1. Errors: PARAM (gain not finite). */
NNINIT_API nninit_status nninit_torch_xavier_uniform(nninit_torch_gen *g, nninit_dtype dtype, void *data, int ndim,
                                                     const int64_t *shape, double gain);
NNINIT_API nninit_status nninit_torch_xavier_normal(nninit_torch_gen *g, nninit_dtype dtype, void *data, int ndim,
                                                    const int64_t *shape, double gain);

/* ---- whole modules: reset_parameters() of a fresh module ------------------
 * The weight, then the bias (if has_bias), as the constructor draws them:
 * kaiming_uniform_(weight, a=sqrt(5)), then uniform_(+-1/sqrt(fan_in)).
 * bias is not read when has_bias is 0 (may be NULL). Errors: NULL, DTYPE,
 * SHAPE (a size < 1), OVERFLOW. */

/*! nninit_torch_linear() : nn.Linear(in, out, bias): weight (out, in), bias (out). */
NNINIT_API nninit_status nninit_torch_linear(nninit_torch_gen *g, nninit_dtype dtype, int64_t in, int64_t out,
                                             int has_bias, void *weight, void *bias);

/*! nninit_torch_conv() : nn.Conv1d/2d/3d(in, out, kernel, groups=groups,
 *  bias=has_bias) for nk = 1, 2, 3 kernel sizes: weight (out, in/groups,
 *  kernel...), bias (out). Errors: also DIMS (nk outside 1..3), GROUPS
 *  (groups < 1, or in or out not divisible by groups). */
NNINIT_API nninit_status nninit_torch_conv(nninit_torch_gen *g, nninit_dtype dtype, int64_t in, int64_t out,
                                           int64_t groups, int nk, const int64_t *kernel, int has_bias, void *weight,
                                           void *bias);

/*! nninit_torch_conv2d() : nn.Conv2d(in, out, (kh, kw), groups=groups,
 *  bias=has_bias): nninit_torch_conv with nk = 2. */
NNINIT_API nninit_status nninit_torch_conv2d(nninit_torch_gen *g, nninit_dtype dtype, int64_t in, int64_t out,
                                             int64_t kh, int64_t kw, int64_t groups, int has_bias, void *weight,
                                             void *bias);

#ifdef __cplusplus
}
#endif
#endif /* NNINIT_TORCH_H */

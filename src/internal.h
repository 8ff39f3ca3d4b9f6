/* internal.h -- declarations shared inside the initializer library (src/),
 * also read by the engine (engine/) for the error state, the scheme text,
 * the constants and the Philox core; not installed. */
#ifndef NNINIT_INTERNAL_H
#define NNINIT_INTERNAL_H

#include <math.h>

#include "nninit.h"

/* Strict C11 has no M_PI. */
#define NNINIT_PI 3.14159265358979323846
#define NNINIT_E  2.71828182845904523536

/* The initializer's internals that the engine (libnninit_engine) calls
 * across the library boundary: exported from libnninit.so under the nninit__
 * prefix, declared only here, not API. The error state, so that
 * nninit_last_error() sees what the engine recorded, and the scheme text
 * (below), so that architectures parse schemes with the initializer's one
 * parameter table. */
#if defined(__GNUC__) && !defined(_WIN32)
#define NNINIT_CROSS_LAYER __attribute__((visibility("default")))
#else
#define NNINIT_CROSS_LAYER
#endif

/* Record a failure for nninit_last_error() and return s. printf-style. */
NNINIT_CROSS_LAYER nninit_status nninit__err(nninit_status s, const char *fmt, ...) NNINIT_PRINTF(2, 3);

/* ---- scheme text and the parameter table (src/init/spec.c) --------------
 * Read by engine/nn/arch.c for init=/bias= in both forms of architectures.
 * Every failure is NNINIT_ERR_PARAM, with a message that starts with prefix,
 * the caller's context ("arch: ", "arch: layers[0].init.std: "). */

/* Parses the scheme that starts at text[start] (its name; no space before
 * it): name [ "(" key=value, ... ")" ]. On success *out is the spec and *end
 * the index just after it (what follows is the caller's). Messages name the
 * 1-based byte column in the whole text: "<prefix>at N: ...". */
NNINIT_CROSS_LAYER nninit_status nninit__spec_parse_at(const char *text, size_t start, const char *prefix,
                                                       nninit_spec *out, size_t *end);

/* The table by row k: the row of a parameter name, or -1; 1 if it takes a
 * name (mode, nonlinearity, distribution), 0 a number; the names scheme s
 * takes ("mean, std" or "none") into buf. */
NNINIT_CROSS_LAYER int nninit__spec_param_find(const char *name);
NNINIT_CROSS_LAYER int nninit__spec_param_takes_name(int k);
NNINIT_CROSS_LAYER const char *nninit__spec_param_list(nninit_scheme s, char *buf, size_t cap);
/* Checks that scheme s reads parameter k and that *seen (0 before the first)
 * does not hold it yet ('a' and 'slope' are one); records it in *seen. */
NNINIT_CROSS_LAYER nninit_status nninit__spec_param_check(nninit_scheme s, int k, unsigned *seen, const char *prefix);
/* Sets parameter k of sp (for sp->scheme) from a finite number (groups: a
 * positive integer) or from a name. */
NNINIT_CROSS_LAYER nninit_status nninit__spec_param_set_num(nninit_spec *sp, int k, double v, const char *prefix);
NNINIT_CROSS_LAYER nninit_status nninit__spec_param_set_name(nninit_spec *sp, int k, const char *v, const char *prefix);

/* Counter word 3 ("domain") of every Philox call, so that the streams of
 * different distributions on one tensor are independent. Pinned: changing one
 * changes published values. */
enum {
    NNINIT_DOMAIN_UNIFORM = 0x756e6966u, /* "unif" */
    NNINIT_DOMAIN_NORMAL = 0x6e6f726du,  /* "norm" */
    NNINIT_DOMAIN_TRUNC = 0x7472756eu,   /* "trun" */
    NNINIT_DOMAIN_SPARSE = 0x73707273u   /* "sprs" */
};

/* Standard normal stream of a tensor (domain NORMAL), elements [begin, end),
 * exactly the values NNINIT_NORMAL(0, 1) writes for that dtype family:
 * f32 for f32/bf16/f16 tensors, f64 for f64. */
void nninit__std_normal_f32(const uint32_t key[2], int64_t begin, int64_t end, float *out);
void nninit__std_normal_f64(const uint32_t key[2], int64_t begin, int64_t end, double *out);

/* Store v at out[i] of dtype d, rounded once (round to nearest even). */
void nninit__store_f64(nninit_dtype d, void *out, int64_t i, double v);
void nninit__store_f32(nninit_dtype d, void *out, int64_t i, float v);

/* Largest finite value of a dtype. */
double nninit__dtype_max(nninit_dtype d);

/* Whole-tensor schemes (src/init/orthogonal.c, src/init/sparse.c). Called by
 * nninit_fill after nninit__plan_make validated tensor, dtype and parameters;
 * their own checks repeat those for direct callers. */
nninit_status nninit__fill_orthogonal(const nninit_spec *spec, const nninit_tensor *t, int64_t numel,
                                      const uint32_t key[2], void *data);
nninit_status nninit__fill_sparse(const nninit_spec *spec, const nninit_tensor *t, int64_t numel, const uint32_t key[2],
                                  void *data);
/* src/init/delta_orthogonal.c: the kernel's out and in axes by its layout,
 * after checking ndim 3..5, the layout and in <= out; and its fill. */
nninit_status nninit__delta_orthogonal_axes(const nninit_tensor *t, int *out_ax, int *in_ax);
nninit_status nninit__fill_delta_orthogonal(const nninit_spec *spec, const nninit_tensor *t, int64_t numel,
                                            const uint32_t key[2], void *data);


/* ---- a scheme resolved on a tensor (src/init/schemes.c) ------------------ */
typedef enum {
    NNINIT_K_CONSTANT,
    NNINIT_K_UNIFORM,
    NNINIT_K_NORMAL,
    NNINIT_K_TRUNC,
    NNINIT_K_EYE,
    NNINIT_K_DIRAC,
    NNINIT_K_ORTHOGONAL,
    NNINIT_K_SPARSE,
    NNINIT_K_DELTA_ORTHOGONAL
} nninit__kernel;

/* Orthogonal, sparse and delta_orthogonal fill whole tensors only. */
static inline int nninit__kernel_is_whole(nninit__kernel k) {
    return k == NNINIT_K_ORTHOGONAL || k == NNINIT_K_SPARSE || k == NNINIT_K_DELTA_ORTHOGONAL;
}

typedef struct {
    nninit__kernel kernel;
    int64_t numel;
    nninit_info info;
    double value;     /* CONSTANT */
    double lo, hi;    /* UNIFORM: U(lo, hi) */
    double mean, std; /* NORMAL, TRUNC */
    double za, zb;    /* TRUNC: standardized bounds */
    double va, vb;    /* TRUNC: bounds in value space (checked per value)*/
    int64_t groups;   /* DIRAC */
} nninit__plan;

/* Validate spec and tensor together and resolve the scheme. */
nninit_status nninit__plan_make(const nninit_spec *spec, const nninit_tensor *t, nninit__plan *p);

/* Element-wise kernels over [begin, end) of a tensor's flat index range,
 * writing out[0 .. end-begin) (src/rng/fill_kernels.c), through the kernel
 * set chosen once (src/rng/kernels.h). Callers make sure first that there is
 * one (nninit__kernels() != NULL; src/init/fill.c does, for every public
 * fill). Any thread may call them at once on disjoint outputs. */
void nninit__fill_uniform(const uint32_t key[2], nninit_dtype d, double lo, double hi, int64_t begin, int64_t end,
                          void *out);
void nninit__fill_normal(const uint32_t key[2], nninit_dtype d, double mean, double std, int64_t begin, int64_t end,
                         void *out);
void nninit__fill_trunc_normal(const uint32_t key[2], nninit_dtype d, const nninit__plan *p, int64_t begin, int64_t end,
                               void *out);
/* One truncated-normal value of element i, in double (for tests and kernels). */
double nninit__trunc_normal_at(const uint32_t key[2], int64_t i, double mean, double std, double za, double zb,
                               double va, double vb);

/* libm's pow(x, y) itself, as Python's x ** y calls it. With a constant
 * exponent the compiler folds pow(x, 2.0) into x * x (even without
 * -ffast-math), which differs from glibc's pow in the last bit for about 1
 * x in 1000: PyTorch's gains (1 + negative_slope ** 2) need the call. */
static inline double nninit__pow(double x, double y) {
    volatile double v = y;
    return pow(x, v);
}

#endif

/* internal.h -- declarations shared inside the initializer library (src/),
 * also read by the engine (engine/) for the error state, the constants and
 * the Philox core; not installed. */
#ifndef NNINIT_INTERNAL_H
#define NNINIT_INTERNAL_H

#include "nninit.h"

/* Strict C11 has no M_PI. */
#define NNINIT_PI 3.14159265358979323846
#define NNINIT_E 2.71828182845904523536

/* The initializer's internals that the engine (libnninit_engine) calls
 * across the library boundary: exported from libnninit.so under the nninit__
 * prefix, declared only here, not API. Just one: the error state, so that
 * nninit_last_error() sees what the engine recorded. */
#if defined(__GNUC__) && !defined(_WIN32)
#define NNINIT_CROSS_LAYER __attribute__((visibility("default")))
#else
#define NNINIT_CROSS_LAYER
#endif

/* Record a failure for nninit_last_error() and return s. printf-style. */
NNINIT_CROSS_LAYER nninit_status nninit__err(nninit_status s, const char *fmt, ...) NNINIT_PRINTF(2, 3);

/* Counter word 3 ("domain") of every Philox call, so that the streams of
 * different distributions on one tensor are independent. Pinned: changing one
 * changes published values. */
enum {
    NNINIT_DOMAIN_UNIFORM = 0x756e6966u,  /* "unif" */
    NNINIT_DOMAIN_NORMAL = 0x6e6f726du,   /* "norm" */
    NNINIT_DOMAIN_TRUNC = 0x7472756eu,    /* "trun" */
    NNINIT_DOMAIN_SPARSE = 0x73707273u    /* "sprs" */
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
nninit_status nninit__fill_orthogonal(const nninit_spec *spec, const nninit_tensor *t,
                                      int64_t numel, const uint32_t key[2], void *data);
nninit_status nninit__fill_sparse(const nninit_spec *spec, const nninit_tensor *t,
                                  int64_t numel, const uint32_t key[2], void *data);


/* ---- a scheme resolved on a tensor (src/init/schemes.c) ------------------ */
typedef enum {
    NNINIT_K_CONSTANT,
    NNINIT_K_UNIFORM,
    NNINIT_K_NORMAL,
    NNINIT_K_TRUNC,
    NNINIT_K_EYE,
    NNINIT_K_DIRAC,
    NNINIT_K_ORTHOGONAL,
    NNINIT_K_SPARSE
} nninit__kernel;

typedef struct {
    nninit__kernel kernel;
    int64_t numel;
    nninit_info info;
    double value;          /* CONSTANT                                       */
    double lo, hi;         /* UNIFORM: U(lo, hi)                             */
    double mean, std;      /* NORMAL, TRUNC                                  */
    double za, zb;         /* TRUNC: standardized bounds                      */
    double va, vb;         /* TRUNC: bounds in value space (checked per value)*/
    int64_t groups;        /* DIRAC                                          */
} nninit__plan;

/* Validate spec and tensor together and resolve the scheme. */
nninit_status nninit__plan_make(const nninit_spec *spec, const nninit_tensor *t, nninit__plan *p);

/* Element-wise kernels over [begin, end) of a tensor's flat index range,
 * writing out[0 .. end-begin) (src/rng/fill_kernels.c). */
void nninit__fill_uniform(const uint32_t key[2], nninit_dtype d, double lo, double hi,
                          int64_t begin, int64_t end, void *out);
void nninit__fill_normal(const uint32_t key[2], nninit_dtype d, double mean, double std,
                         int64_t begin, int64_t end, void *out);
void nninit__fill_trunc_normal(const uint32_t key[2], nninit_dtype d, const nninit__plan *p,
                               int64_t begin, int64_t end, void *out);
/* One truncated-normal value of element i, in double (for tests and kernels). */
double nninit__trunc_normal_at(const uint32_t key[2], int64_t i, double mean, double std,
                               double za, double zb, double va, double vb);

#endif

/*
 * nninit_meanfield.h -- mean-field theory of deep random fully connected networks.
 *
 * A network h^{l} = W^{l} phi(h^{l-1}) + b^{l}, W_ij ~ N(0, sw2/N_{l-1}),
 * b_i ~ N(0, sb2), in the limit of infinite width. The pre-activations of one
 * layer are Gaussian; what survives is their variance q and, for two inputs,
 * their correlation c (Poole et al. 2016, "Exponential expressivity in deep
 * neural networks through transient chaos"; Schoenholz et al. 2017, "Deep
 * information propagation"). With z, z1, z2 independent N(0, 1):
 *
 *   q map     q'   = sw2 E[phi(sqrt(q) z)^2] + sb2
 *   c map     q12' = sw2 E[phi(u1) phi(u2)] + sb2,  c' = q12' / sqrt(q11' q22')
 *             u1 = sqrt(q11) z1,  u2 = sqrt(q22) (c z1 + sqrt(1 - c^2) z2)
 *   chi_1     sw2 E[phi'(sqrt(q*) z)^2]      slope of the c map at c = 1, and the
 *                                            per-layer ratio of gradient variances
 *   chi_q     sw2 E[phi'^2 + phi phi'']      slope of the q map at q*
 *   chi_c     sw2 E[phi'(u1) phi'(u2)]       slope of the c map at c*
 *   xi_q = -1/ln chi_q,  xi_c = -1/ln chi_c  depth scales (INFINITY at chi = 1)
 *
 * Indexing: q^0 (and c^0) are the statistics of the first layer's
 * pre-activations; q^{l} = q map(q^{l-1}). So for ReLU with sw2 = 2, sb2 = 0
 * and c^0 = 0, c^1 = 1/pi.
 *
 * Expectations use closed forms where they exist (identity, relu, leaky_relu:
 * the arc-cosine kernel of Cho & Saul 2009; erf: Williams 1997) and otherwise
 * composite Gauss-Legendre quadrature on panels that break at the activation's
 * kink and shrink with sqrt(q); the 2-D expectations integrate one dimension
 * inside the other. Accuracy, formulas and derivations: docs/MEANFIELD.md.
 *
 * Conventions as nninit.h: every function returns an nninit_status; outputs are
 * untouched on an argument error; nninit_last_error() says why. No allocation,
 * no global state: every function is thread-safe.
 *
 * Example (tanh at the edge of chaos, Schoenholz et al. Fig. 1):
 *
 *     nninit_mf_net net = {NNINIT_MF_TANH, NAN, 1.76, 0.05};
 *     nninit_mf_fixed fp;
 *     if (nninit_mf_analyze(&net, 1.0, &fp) == NNINIT_OK)
 *         printf("q* %.3f chi_1 %.3f xi_c %g\n", fp.qstar, fp.chi_1, fp.xi_c);
 */
#ifndef NNINIT_MEANFIELD_H
#define NNINIT_MEANFIELD_H

/* The engine's API is unstable (it may change in any 0.x release): a user
 * opts in by defining NNINIT_UNSTABLE_API, as zstd's ZSTD_STATIC_LINKING_ONLY.
 * The initializer layer (src/) must not depend on the engine. */
#if !defined(NNINIT_UNSTABLE_API)
#error "nninit_meanfield.h is nninit's unstable engine API: #define NNINIT_UNSTABLE_API before including it"
#endif
#if defined(NNINIT_BUILD_INITIALIZER)
#error "the initializer layer (src/) must not include the engine's nninit_meanfield.h"
#endif

#include "nninit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Activations. Values 0..8 equal nninit_act's (nninit_nn.h), so a cast converts. */
typedef enum {
    NNINIT_MF_IDENTITY = 0,
    NNINIT_MF_SIGMOID = 1,
    NNINIT_MF_TANH = 2,
    NNINIT_MF_RELU = 3,
    NNINIT_MF_LEAKY_RELU = 4, /* param: negative slope s, NaN = 0.01: x > 0 ? x : s x */
    NNINIT_MF_ELU = 5,        /* param: alpha, NaN = 1: x > 0 ? x : alpha (e^x - 1) */
    NNINIT_MF_SELU = 6,       /* lambda * elu_alpha, Klambauer et al. 2017 constants */
    NNINIT_MF_GELU = 7,       /* exact: x Phi(x) */
    NNINIT_MF_SOFTPLUS = 8,   /* log(1 + e^x) */
    NNINIT_MF_ERF = 9,        /* param: scale a > 0, NaN = 1: erf(a x) */
    NNINIT_MF_ACT_COUNT
} nninit_mf_act;

/* A network's mean-field description. sw2 > 0 and sb2 >= 0, finite. */
typedef struct {
    nninit_mf_act act;
    double param; /* leaky slope, elu alpha or erf scale; NaN = the default; else ignored */
    double sw2;   /* weight variance times fan-in: W ~ N(0, sw2 / fan_in) */
    double sb2;   /* bias variance: b ~ N(0, sb2) */
} nninit_mf_net;

/*! nninit_mf_act_name() : "tanh", "leaky_relu", ...; "unknown" out of range. */
NNINIT_API const char *nninit_mf_act_name(nninit_mf_act act);
/*! nninit_mf_act_parse() : inverse of nninit_mf_act_name(); "linear" is also
 *  read as identity. Errors: NULL, NONLINEARITY. */
NNINIT_API nninit_status nninit_mf_act_parse(const char *name, nninit_mf_act *out);

/*! nninit_mf_phi() : phi(x), phi'(x), phi''(x); any output may be NULL. At a
 *  kink the left derivative is used (PyTorch: relu'(0) = 0), and phi'' omits
 *  the Dirac terms (every kinked activation here has phi(0) = 0, so they never
 *  contribute to E[phi phi'']). Errors: NONLINEARITY, PARAM (param infinite,
 *  erf scale <= 0, x NaN). */
NNINIT_API nninit_status nninit_mf_phi(nninit_mf_act act, double param, double x, double *f, double *df, double *d2f);

/* Gaussian expectations, the building block of every map. */
typedef enum {
    NNINIT_MF_PHI_PHI = 0,   /* E[phi(u1) phi(u2)] */
    NNINIT_MF_DPHI_DPHI = 1, /* E[phi'(u1) phi'(u2)] */
    NNINIT_MF_PHI_D2PHI = 2  /* E[phi(u) phi''(u)], u = sqrt(q11) z (q22, c ignored) */
} nninit_mf_moment;

/* flags of nninit_mf_expect(): skip the closed forms (for tests of the rules). */
#define NNINIT_MF_QUADRATURE 1u

/*! nninit_mf_expect() : the moment m of (u1, u2), centred Gaussian with
 *  variances q11, q22 and correlation c. Closed forms for identity, relu,
 *  leaky_relu and erf unless flags has NNINIT_MF_QUADRATURE. Errors: NULL,
 *  NONLINEARITY, PARAM (param; q11, q22 negative or not finite; c outside
 *  [-1, 1]; unknown moment). */
NNINIT_API nninit_status nninit_mf_expect(nninit_mf_act act, double param, nninit_mf_moment m, double q11, double q22,
                                          double c, unsigned flags, double *out);

/* ---- the variance map ---------------------------------------------------- */

/*! nninit_mf_q_map() : q_out = sw2 E[phi(sqrt(q_in) z)^2] + sb2, q_in >= 0.
 *  Errors (every function below too): NULL, NONLINEARITY, PARAM (net->param,
 *  sw2 <= 0, sb2 < 0, a NaN or infinite argument, a q < 0). */
NNINIT_API nninit_status nninit_mf_q_map(const nninit_mf_net *net, double q_in, double *q_out);

/*! nninit_mf_q_sequence() : q_out[0] = q0, q_out[l] = q map(q_out[l-1]) for
 *  l = 1..L (L + 1 values). Errors: also PARAM for L < 0 or a q that overflows. */
NNINIT_API nninit_status nninit_mf_q_sequence(const nninit_mf_net *net, double q0, int L, double *q_out);

/*! nninit_mf_qstar() : the fixed point q* = q map(q*) that iterating from q0
 *  reaches: the first root of q map(q) - q on the side the map moves q0 to
 *  (the q map is increasing), bracketed by factors of 2 and bisected to a
 *  relative 4e-16. q* = 0 exactly when the iterates collapse (sb2 = 0,
 *  phi(0) = 0). iters (may be NULL) receives the number of q-map evaluations.
 *  Errors: also PARAM when q grows without bound (no finite fixed point: e.g.
 *  relu with sw2 >= 2 and sb2 > 0). */
NNINIT_API nninit_status nninit_mf_qstar(const nninit_mf_net *net, double q0, double *qstar, int *iters);

/*! nninit_mf_chi1() : chi_1 = sw2 E[phi'(sqrt(q) z)^2], at any q >= 0 (at q*
 *  it is the slope of the c map at c = 1: > 1 chaotic, < 1 ordered). */
NNINIT_API nninit_status nninit_mf_chi1(const nninit_mf_net *net, double q, double *chi1);

/*! nninit_mf_chi_q() : sw2 E[phi'(u)^2 + phi(u) phi''(u)], u = sqrt(q) z: the
 *  derivative dq'/dq of the q map (Gaussian integration by parts). */
NNINIT_API nninit_status nninit_mf_chi_q(const nninit_mf_net *net, double q, double *chi_q);

/* ---- the correlation map ------------------------------------------------- */

/*! nninit_mf_c_map() : c of the next layer for pre-activation variances q11,
 *  q22 > 0 and correlation c in [-1, 1] of this layer. Errors: also PARAM when
 *  q11 or q22 <= 0 or c is outside [-1, 1]. */
NNINIT_API nninit_status nninit_mf_c_map(const nninit_mf_net *net, double q11, double q22, double c, double *c_out);

/*! nninit_mf_c_sequence() : c_out[0] = c0 and c_out[l] = c map(q1^{l-1},
 *  q2^{l-1}, c_out[l-1]) for l = 1..L, where q1, q2 are the q sequences from
 *  q1_0 and q2_0 (L + 1 values). */
NNINIT_API nninit_status nninit_mf_c_sequence(const nninit_mf_net *net, double q1_0, double q2_0, double c0, int L,
                                              double *c_out);

/*! nninit_mf_cstar() : the stable fixed point of the c map at q11 = q22 = q
 *  (normally q = q*): 1 when the map's slope at c = 1, chi_1(q) q / q map(q),
 *  is <= 1 + 1e-12 (ordered or critical); otherwise its only other root in
 *  [0, 1) (the map is a power series in c with non-negative coefficients,
 *  so convex there), found to 1e-14. Errors: also PARAM for q <= 0. */
NNINIT_API nninit_status nninit_mf_cstar(const nninit_mf_net *net, double q, double *cstar);

/*! nninit_mf_chi_c() : sw2 E[phi'(u1) phi'(u2)] at q11 = q22 = q and
 *  correlation c (at c* the slope of the c map there). */
NNINIT_API nninit_status nninit_mf_chi_c(const nninit_mf_net *net, double q, double c, double *chi_c);

/* ---- fixed point, depth scales, criticality ------------------------------ */

typedef struct {
    double qstar;      /* fixed point of the q map reached from q0 */
    int iters;         /* q-map evaluations spent finding it */
    double chi_1;      /* sw2 E[phi'^2] at q* */
    double chi_q;      /* sw2 E[phi'^2 + phi phi''] at q* */
    double cstar;      /* stable fixed point of the c map (1: ordered phase) */
    double chi_c;      /* sw2 E[phi'(u1) phi'(u2)] at q*, c* */
    double xi_q, xi_c; /* -1/ln chi_q, -1/ln chi_c; INFINITY when chi >= 1 - 1e-12 */
} nninit_mf_fixed;

/*! nninit_mf_analyze() : everything above at the fixed point reached from q0.
 *  When q* = 0 (signals die out: sb2 = 0, phi(0) = 0, ordered) the c map is
 *  undefined: cstar, chi_c and xi_c are NaN and the status is still OK. */
NNINIT_API nninit_status nninit_mf_analyze(const nninit_mf_net *net, double q0, nninit_mf_fixed *out);

/*! nninit_mf_depth_scales() : xi_q and xi_c of nninit_mf_analyze(). */
NNINIT_API nninit_status nninit_mf_depth_scales(const nninit_mf_net *net, double q0, double *xi_q, double *xi_c);

/*! nninit_mf_critical_sw2() : the sw2 at which chi_1(q*(sw2)) = 1 for this
 *  activation and sb2 (the edge of chaos; q* reached from q0 = 1), by bisection
 *  on log sw2 to a relative 1e-12. A sw2 whose q map has no finite fixed point
 *  counts as chaotic. Errors: NULL, NONLINEARITY, PARAM (param, sb2), and
 *  PARAM when chi_1 stays below 1 up to sw2 = 1e8. */
NNINIT_API nninit_status nninit_mf_critical_sw2(nninit_mf_act act, double param, double sb2, double *sw2);

/* ---- gradients ------------------------------------------------------------ */

/*! nninit_mf_grad_ratio() : E[delta_l^2] / E[delta_{l+1}^2] for the gradients
 *  delta_l = dL/dh^l of the pre-activations, = width_ratio * sw2 *
 *  E[phi'(sqrt(q) z)^2] with q = q^l and width_ratio = N_{l+1} / N_l (1 for
 *  equal widths). At q* and equal widths this is chi_1 (Schoenholz et al.
 *  eq. 9). Errors: also PARAM for width_ratio <= 0. */
NNINIT_API nninit_status nninit_mf_grad_ratio(const nninit_mf_net *net, double q, double width_ratio, double *ratio);

/*! nninit_mf_grad_variance() : predicted E[(dL/dh^l)^2] for l = 0..L (out has
 *  L + 1 values) given var_last = E[(dL/dh^L)^2], with q^l the q sequence from
 *  q0 and widths[l] = N_l the width of layer l (L + 1 values; NULL for equal
 *  widths). out[L] = var_last; out[l] = out[l+1] * grad_ratio(q^l, N_{l+1}/N_l).
 *  Errors: also PARAM for L < 0, var_last < 0, a width < 1. */
NNINIT_API nninit_status nninit_mf_grad_variance(const nninit_mf_net *net, double q0, int L, const int64_t *widths,
                                                 double var_last, double *out);

#ifdef __cplusplus
}
#endif
#endif /* NNINIT_MEANFIELD_H */

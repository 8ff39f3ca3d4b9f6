/* meanfield.c -- mean-field signal propagation in deep random networks:
 * the q and c maps, their fixed points, chi_1, depth scales and the backward
 * gradient-variance recursion (Poole et al. 2016; Schoenholz et al. 2017).
 * Formulas, derivations and measured accuracy: docs/MEANFIELD.md. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "nninit_meanfield.h"

/* ---- quadrature parameters (docs/MEANFIELD.md, "Numerics") ---------------
 * Every Gaussian expectation is  int f(z) phi(z) dz  over z ~ N(0, 1), taken
 * on [-MF_Z, MF_Z] (the mass outside is 1.5e-23) with MF_K-point Gauss-Legendre
 * on panels. Where the activation has structure -- its kink, its steep part --
 * (|u| < MF_U in activation units) panels are at most MF_H wide in u, so that
 * the poles of tanh/sigmoid/softplus at Im u = pi/2 and beyond stay far from
 * each panel whatever q is; elsewhere panels are 1 wide in z. A kink is always
 * a panel edge. */
#define MF_K 16
#define MF_Z 10.0
#define MF_H 1.5
#define MF_U 40.0

#define MF_Q_HUGE   1e200 /* q beyond this: no finite fixed point */
#define MF_CRIT_TOL 1e-12 /* chi within this of 1 is critical (xi = inf) */

/* SELU constants (Klambauer et al. 2017), as PyTorch. */
#define MF_SELU_LAMBDA 1.0507009873554804934193349852946
#define MF_SELU_ALPHA  1.6732632423543772848170429916717

#define MF_SQRT2    1.41421356237309504880
#define MF_SQRT_2PI 2.50662827463100050242
#define MF_SQRT_PI  1.77245385090551602730

typedef struct {
    nninit_mf_act act;
    double p;                  /* resolved parameter: leaky slope, elu alpha, erf scale */
    double len;                /* length of the activation's features in u: 1, or 1/a for erf */
    int kinked;                /* phi or phi' jumps at 0 (relu, leaky_relu, elu, selu) */
    double gx[MF_K], gw[MF_K]; /* Gauss-Legendre nodes and weights on [-1, 1] */
} mf_ctx;

/* ---- activations --------------------------------------------------------- */

static const char *const mf_names[NNINIT_MF_ACT_COUNT] = {"identity", "sigmoid", "tanh", "relu",     "leaky_relu",
                                                          "elu",      "selu",    "gelu", "softplus", "erf"};

const char *nninit_mf_act_name(nninit_mf_act act) {
    if ((int)act < 0 || act >= NNINIT_MF_ACT_COUNT) return "unknown";
    return mf_names[act];
}

nninit_status nninit_mf_act_parse(const char *name, nninit_mf_act *out) {
    if (!name || !out) return nninit__err(NNINIT_ERR_NULL, "mf_act_parse: NULL argument");
    for (int i = 0; i < NNINIT_MF_ACT_COUNT; i++)
        if (strcmp(name, mf_names[i]) == 0) {
            *out = (nninit_mf_act)i;
            return NNINIT_OK;
        }
    if (strcmp(name, "linear") == 0) {
        *out = NNINIT_MF_IDENTITY;
        return NNINIT_OK;
    }
    return nninit__err(NNINIT_ERR_NONLINEARITY, "mf_act_parse: unknown activation '%s'", name);
}

/* Logistic sigmoid and s(1-s) without cancellation for large |u|. */
static double mf_sigmoid(double u) {
    if (u >= 0) return 1.0 / (1.0 + exp(-u));
    double e = exp(u);
    return e / (1.0 + e);
}
static double mf_sigmoid_d1(double u) {
    double e = exp(-fabs(u));
    return e / ((1.0 + e) * (1.0 + e));
}

/* d-th derivative (d = 0, 1, 2) of phi at u. Kinks take the left branch. */
static double mf_f(const mf_ctx *cx, int d, double u) {
    switch (cx->act) {
    case NNINIT_MF_IDENTITY: return d == 0 ? u : d == 1 ? 1.0 : 0.0;
    case NNINIT_MF_SIGMOID:
        if (d == 0) return mf_sigmoid(u);
        if (d == 1) return mf_sigmoid_d1(u);
        return -mf_sigmoid_d1(u) * tanh(0.5 * u); /* s(1-s)(1-2s) */
    case NNINIT_MF_TANH: {
        if (d == 0) return tanh(u);
        double sh = 1.0 / cosh(u);
        return d == 1 ? sh * sh : -2.0 * tanh(u) * sh * sh;
    }
    case NNINIT_MF_RELU:
        if (u > 0) return d == 0 ? u : d == 1 ? 1.0 : 0.0;
        return 0.0;
    case NNINIT_MF_LEAKY_RELU:
        if (u > 0) return d == 0 ? u : d == 1 ? 1.0 : 0.0;
        return d == 0 ? cx->p * u : d == 1 ? cx->p : 0.0;
    case NNINIT_MF_ELU:
    case NNINIT_MF_SELU: {
        double lam = cx->act == NNINIT_MF_SELU ? MF_SELU_LAMBDA : 1.0;
        double al = cx->act == NNINIT_MF_SELU ? MF_SELU_ALPHA : cx->p;
        if (u > 0) return d == 0 ? lam * u : d == 1 ? lam : 0.0;
        return d == 0 ? lam * al * expm1(u) : lam * al * exp(u);
    }
    case NNINIT_MF_GELU: {
        double cdf = 0.5 * erfc(-u / MF_SQRT2), pdf = exp(-0.5 * u * u) / MF_SQRT_2PI;
        return d == 0 ? u * cdf : d == 1 ? cdf + u * pdf : pdf * (2.0 - u * u);
    }
    case NNINIT_MF_SOFTPLUS:
        if (d == 0) return u > 0 ? u + log1p(exp(-u)) : log1p(exp(u));
        return d == 1 ? mf_sigmoid(u) : mf_sigmoid_d1(u);
    case NNINIT_MF_ERF: {
        double a = cx->p;
        if (d == 0) return erf(a * u);
        double g = 2.0 * a / MF_SQRT_PI * exp(-a * a * u * u);
        return d == 1 ? g : -2.0 * a * a * u * g;
    }
    case NNINIT_MF_ACT_COUNT: break;
    }
    return NAN;
}

/* Gauss-Legendre nodes and weights on [-1, 1]: Newton on P_n from Tricomi's
 * initial guesses, weights 2 / ((1 - x^2) P_n'(x)^2). */
static void mf_gauss_legendre(int n, double *x, double *w) {
    for (int i = 0; i < (n + 1) / 2; i++) {
        double z = cos(NNINIT_PI * (i + 0.75) / (n + 0.5)), dp = 1.0;
        for (int it = 0; it < 100; it++) {
            double p1 = 1.0, p0 = 0.0;
            for (int j = 1; j <= n; j++) {
                double pm = p0;
                p0 = p1;
                p1 = ((2.0 * j - 1.0) * z * p0 - (j - 1.0) * pm) / j;
            }
            dp = n * (z * p1 - p0) / (z * z - 1.0);
            double step = p1 / dp;
            z -= step;
            if (fabs(step) <= 1e-16) break;
        }
        x[i] = -z;
        x[n - 1 - i] = z;
        w[i] = w[n - 1 - i] = 2.0 / ((1.0 - z * z) * dp * dp);
    }
}

static nninit_status mf_ctx_init(mf_ctx *cx, nninit_mf_act act, double param, const char *fn) {
    if ((int)act < 0 || act >= NNINIT_MF_ACT_COUNT)
        return nninit__err(NNINIT_ERR_NONLINEARITY, "%s: unknown activation %d", fn, (int)act);
    cx->act = act;
    cx->p = param;
    cx->len = 1.0;
    cx->kinked = act == NNINIT_MF_RELU || act == NNINIT_MF_LEAKY_RELU || act == NNINIT_MF_ELU || act == NNINIT_MF_SELU;
    switch (act) {
    case NNINIT_MF_LEAKY_RELU:
        if (isnan(param)) cx->p = 0.01;
        if (!isfinite(cx->p)) return nninit__err(NNINIT_ERR_PARAM, "%s: leaky_relu slope must be finite", fn);
        break;
    case NNINIT_MF_ELU:
        if (isnan(param)) cx->p = 1.0;
        if (!isfinite(cx->p)) return nninit__err(NNINIT_ERR_PARAM, "%s: elu alpha must be finite", fn);
        break;
    case NNINIT_MF_ERF:
        if (isnan(param)) cx->p = 1.0;
        if (!(isfinite(cx->p) && cx->p > 0))
            return nninit__err(NNINIT_ERR_PARAM, "%s: erf scale (%g) must be finite and > 0", fn, cx->p);
        cx->len = 1.0 / cx->p;
        break;
    default: break;
    }
    return NNINIT_OK;
}

/* A context for quadrature: the activation and the Gauss-Legendre rule. */
static nninit_status mf_ctx_init_rule(mf_ctx *cx, nninit_mf_act act, double param, const char *fn) {
    nninit_status s = mf_ctx_init(cx, act, param, fn);
    if (s == NNINIT_OK) mf_gauss_legendre(MF_K, cx->gx, cx->gw);
    return s;
}

nninit_status nninit_mf_phi(nninit_mf_act act, double param, double x, double *f, double *df, double *d2f) {
    mf_ctx cx = {0};
    nninit_status s = mf_ctx_init(&cx, act, param, "mf_phi");
    if (s != NNINIT_OK) return s;
    if (isnan(x)) return nninit__err(NNINIT_ERR_PARAM, "mf_phi: x is NaN");
    if (f) *f = mf_f(&cx, 0, x);
    if (df) *df = mf_f(&cx, 1, x);
    if (d2f) *d2f = mf_f(&cx, 2, x);
    return NNINIT_OK;
}

/* ---- quadrature ------------------------------------------------------------ */

typedef double (*mf_integrand)(const void *data, double z);

/* sum over [a, b] cut into equal panels no wider than hmax of
 * int f(z) exp(-z^2/2) dz, MF_K-point Gauss-Legendre per panel. */
static double mf_panels(const mf_ctx *cx, double a, double b, double hmax, mf_integrand f, const void *data) {
    if (!(b > a)) return 0.0;
    double np = ceil((b - a) / hmax);
    long n = np < 1 ? 1 : (long)np;
    double width = (b - a) / (double)n, s = 0.0;
    for (long i = 0; i < n; i++) {
        double lo = a + width * (double)i, hi = i + 1 == n ? b : a + width * (double)(i + 1);
        double mid = 0.5 * (lo + hi), r = 0.5 * (hi - lo), ps = 0.0;
        for (int k = 0; k < MF_K; k++) {
            double z = mid + r * cx->gx[k];
            ps += cx->gw[k] * f(data, z) * exp(-0.5 * z * z);
        }
        s += r * ps;
    }
    return s;
}

/* Where an integrand has its structure: a breakpoint zc; tiers i < n within
 * wa[i] of zc where panels are at most ha[i] wide (the narrowest tier covering
 * a point wins; elsewhere 1); panels graded geometrically from hmin at zc. */
typedef struct {
    double zc, hmin;
    int n;
    double wa[2], ha[2];
} mf_mesh;

/* Panel width limit at distance t from zc, and where that limit next changes. */
static double mf_width_at(const mf_mesh *ms, double t, double *next) {
    double w = 1.0, nb = INFINITY;
    for (int i = 0; i < ms->n; i++)
        if (ms->wa[i] > t) {
            w = fmin(w, ms->ha[i]);
            nb = fmin(nb, ms->wa[i]);
        }
    *next = nb;
    return w;
}

/* Panels from x_from (the end nearest zc) to x_to, walking away from zc.
 * A panel is no wider than the tier width at its start, nor than its distance
 * from zc (geometric grading, down to hmin), nor narrower than 1e-12 |x|
 * (finer is below the resolution of z itself: it would not advance). */
static double mf_side(const mf_ctx *cx, const mf_mesh *ms, double x_from, double x_to, mf_integrand f,
                      const void *data) {
    double dir = x_to > x_from ? 1.0 : -1.0, x0 = x_from, s = 0.0, nb;
    while (dir * (x_to - x0) > 0) {
        double t0 = fabs(x0 - ms->zc);
        double w = fmin(mf_width_at(ms, t0, &nb), fmax(ms->hmin, t0));
        w = fmax(w, 1e-12 * fmax(1.0, fabs(x0)));
        double step = nb - t0 < 0.25 * w ? w : fmin(w, nb - t0); /* stop at a tier's edge */
        double x1 = x0 + dir * step;
        if (dir * (x1 - x_to) > 0) x1 = x_to;
        s += mf_panels(cx, fmin(x0, x1), fmax(x0, x1), w, f, data);
        x0 = x1;
    }
    return s;
}

/* E[f(z)], z ~ N(0, 1), on [-MF_Z, MF_Z] cut by the mesh. */
static double mf_gauss(const mf_ctx *cx, const mf_mesh *ms, mf_integrand f, const void *data) {
    double s, zc = ms->zc;
    if (!isfinite(zc)) s = mf_panels(cx, -MF_Z, MF_Z, 1.0, f, data);
    else if (zc > -MF_Z && zc < MF_Z) s = mf_side(cx, ms, zc, -MF_Z, f, data) + mf_side(cx, ms, zc, MF_Z, f, data);
    else /* the breakpoint lies beyond an end: walk away from it across [-Z, Z] */
        s = zc > 0 ? mf_side(cx, ms, MF_Z, -MF_Z, f, data) : mf_side(cx, ms, -MF_Z, MF_Z, f, data);
    return s / MF_SQRT_2PI;
}

/* Add the tier of phi(m + sigma z): panels MF_H wide in u over |u| < MF_U
 * (in units of cx->len); its kink at z = -m/sigma must be the mesh's zc. */
static void mf_mesh_add(const mf_ctx *cx, mf_mesh *ms, double sigma) {
    if (!(sigma > 0)) return;
    ms->wa[ms->n] = MF_U * cx->len / sigma;
    ms->ha[ms->n] = fmin(1.0, MF_H * cx->len / sigma);
    ms->hmin = fmin(ms->hmin, ms->ha[ms->n]);
    ms->n++;
}

static mf_mesh mf_mesh_at(double zc) {
    mf_mesh ms = {zc, 1.0, 0, {0, 0}, {1, 1}};
    return ms;
}

/* 1-D: E[phi^(da)(s1 z) phi^(db)(s2 z)]. */
typedef struct {
    const mf_ctx *cx;
    int da, db;
    double s1, s2;
} mf_1d;

static double mf_1d_f(const void *data, double z) {
    const mf_1d *d = data;
    return mf_f(d->cx, d->da, d->s1 * z) * mf_f(d->cx, d->db, d->s2 * z);
}

/* A zero scale becomes MF_TINY: u = MF_TINY z keeps the sign of z, so q = 0
 * gives the limit q -> 0+ (relu'^2 -> 1/2), not the value at the kink. */
#define MF_TINY 1e-300

static double mf_expect_1d(const mf_ctx *cx, int da, int db, double s1, double s2) {
    if (s1 == 0.0) s1 = MF_TINY;
    if (s2 == 0.0) s2 = MF_TINY;
    mf_1d d = {cx, da, db, s1, s2};
    mf_mesh ms = mf_mesh_at(0.0);
    mf_mesh_add(cx, &ms, fabs(s1));
    mf_mesh_add(cx, &ms, fabs(s2));
    return mf_gauss(cx, &ms, mf_1d_f, &d);
}

/* 2-D: E[phi^(da)(u1) phi^(db)(u2)] as an outer integral over z1 of
 * phi^(da)(sqrt(q11) z1) times the inner conditional expectation
 * E[phi^(db)(m + tau z2)], m = sqrt(q22) c z1, tau = sqrt(q22 (1 - c^2)). */
typedef struct {
    const mf_ctx *cx;
    int db;
    double m, tau;
} mf_inner;

static double mf_inner_f(const void *data, double z) {
    const mf_inner *d = data;
    return mf_f(d->cx, d->db, d->m + d->tau * z);
}

typedef struct {
    const mf_ctx *cx;
    int da, db;
    double s11, s22, c, s;
} mf_outer;

static double mf_outer_f(const void *data, double z1) {
    const mf_outer *d = data;
    double a = mf_f(d->cx, d->da, d->s11 * z1);
    if (a == 0.0) return 0.0; /* relu's dead half: skip the inner integral */
    mf_inner in = {d->cx, d->db, d->s22 * d->c * z1, d->s22 * d->s};
    mf_mesh ms = mf_mesh_at(in.tau > 0 ? -in.m / in.tau : NAN);
    mf_mesh_add(d->cx, &ms, in.tau);
    return a * mf_gauss(d->cx, &ms, mf_inner_f, &in);
}

static double mf_expect_2d(const mf_ctx *cx, int da, int db, double q11, double q22, double c) {
    mf_outer d = {cx, da, db, fmax(sqrt(q11), MF_TINY), fmax(sqrt(q22), MF_TINY), c, sqrt((1.0 - c) * (1.0 + c))};
    /* The outer integrand is phi^(da)(s11 z1) times g(z1) = E[phi^(db)(m + tau z2)],
     * m = s22 c z1: a Gaussian blur of width tau of phi^(db) at m. Its structure
     * reaches out to |m| < MF_U len + MF_Z tau, its scale is max(len, tau),
     * and for a kinked phi it has a corner of width tau at z1 = 0, which the
     * mesh resolves by grading. */
    mf_mesh ms = mf_mesh_at(0.0);
    mf_mesh_add(cx, &ms, d.s11);
    double tau = d.s22 * d.s, sg = d.s22 * fabs(c);
    if (sg > 0) {
        ms.wa[ms.n] = (MF_U * cx->len + MF_Z * tau) / sg;
        ms.ha[ms.n] = fmin(1.0, MF_H * fmax(cx->len, tau) / sg);
        ms.hmin = fmin(ms.hmin, ms.ha[ms.n]);
        if (cx->kinked && tau < cx->len) ms.hmin = fmin(ms.hmin, fmax(MF_H * tau / sg, 1e-14));
        ms.n++;
    }
    return mf_gauss(cx, &ms, mf_outer_f, &d);
}

/* ---- closed forms ---------------------------------------------------------- */

/* E[relu(u1) relu(u2)]: the arc-cosine kernel of degree 1 (Cho & Saul 2009). */
static double mf_relu_k1(double q11, double q22, double c) {
    return (sqrt(q11) * sqrt(q22)) / (2.0 * NNINIT_PI) * (sqrt((1.0 - c) * (1.0 + c)) + (NNINIT_PI - acos(c)) * c);
}
/* E[1{u1 > 0} 1{u2 > 0}]: degree 0. */
static double mf_relu_k0(double c) { return (NNINIT_PI - acos(c)) / (2.0 * NNINIT_PI); }

/* Closed form of moment m where one exists; returns 0 and leaves *out alone
 * otherwise. */
static int mf_closed(const mf_ctx *cx, nninit_mf_moment m, double q11, double q22, double c, double *out) {
    double s = cx->p;
    switch (cx->act) {
    case NNINIT_MF_IDENTITY:
        *out = m == NNINIT_MF_PHI_PHI ? c * (sqrt(q11) * sqrt(q22)) : m == NNINIT_MF_DPHI_DPHI ? 1.0 : 0.0;
        return 1;
    case NNINIT_MF_RELU:
        *out = m == NNINIT_MF_PHI_PHI ? mf_relu_k1(q11, q22, c) : m == NNINIT_MF_DPHI_DPHI ? mf_relu_k0(c) : 0.0;
        return 1;
    case NNINIT_MF_LEAKY_RELU:
        /* phi = (1-s) relu(u) + s u, and E[relu(u1) u2] = E[u1 u2] / 2 by symmetry. */
        if (m == NNINIT_MF_PHI_PHI)
            *out = (1 - s) * (1 - s) * mf_relu_k1(q11, q22, c) + s * c * (sqrt(q11) * sqrt(q22));
        else if (m == NNINIT_MF_DPHI_DPHI) *out = (1 - s) * (1 - s) * mf_relu_k0(c) + s;
        else *out = 0.0;
        return 1;
    case NNINIT_MF_ERF: {
        /* Williams 1997; A = 2 a^2. */
        double A = 2.0 * s * s, q12 = c * (sqrt(q11) * sqrt(q22));
        if (m == NNINIT_MF_PHI_PHI) {
            double x = A * q12 / sqrt((1.0 + A * q11) * (1.0 + A * q22));
            *out = 2.0 / NNINIT_PI * asin(fmax(-1.0, fmin(1.0, x)));
        } else if (m == NNINIT_MF_DPHI_DPHI) {
            /* 1 + A(q11 + q22) + A^2 q11 q22 (1 - c^2) without cancellation at c = 1 */
            double det = 1.0 + A * (q11 + q22) + A * A * q11 * q22 * (1.0 - c) * (1.0 + c);
            *out = 2.0 * A / NNINIT_PI / sqrt(det);
        } else {
            /* E[phi phi''] = d/dq E[phi^2] - E[phi'^2] */
            double q = q11;
            *out = -2.0 * A / NNINIT_PI * A * q / ((1.0 + A * q) * sqrt(1.0 + 2.0 * A * q));
        }
        return 1;
    }
    default: return 0;
    }
}

/* The moment, closed form unless numeric. */
static double mf_moment(const mf_ctx *cx, nninit_mf_moment m, double q11, double q22, double c, int numeric) {
    double v;
    if (!numeric && mf_closed(cx, m, q11, q22, c, &v)) return v;
    if (m == NNINIT_MF_PHI_D2PHI) return mf_expect_1d(cx, 0, 2, sqrt(q11), sqrt(q11));
    int d = m == NNINIT_MF_DPHI_DPHI ? 1 : 0;
    if (c == 1.0) return mf_expect_1d(cx, d, d, sqrt(q11), sqrt(q22));
    if (c == -1.0) return mf_expect_1d(cx, d, d, sqrt(q11), -sqrt(q22));
    return mf_expect_2d(cx, d, d, q11, q22, c);
}

nninit_status nninit_mf_expect(nninit_mf_act act, double param, nninit_mf_moment m, double q11, double q22, double c,
                               unsigned flags, double *out) {
    if (!out) return nninit__err(NNINIT_ERR_NULL, "mf_expect: out is NULL");
    mf_ctx cx = {0};
    nninit_status s = mf_ctx_init_rule(&cx, act, param, "mf_expect");
    if (s != NNINIT_OK) return s;
    if ((int)m < 0 || m > NNINIT_MF_PHI_D2PHI)
        return nninit__err(NNINIT_ERR_PARAM, "mf_expect: unknown moment %d", (int)m);
    if (!(isfinite(q11) && q11 >= 0 && isfinite(q22) && q22 >= 0))
        return nninit__err(NNINIT_ERR_PARAM, "mf_expect: q11 (%g), q22 (%g) must be finite, >= 0", q11, q22);
    if (!(c >= -1.0 && c <= 1.0)) return nninit__err(NNINIT_ERR_PARAM, "mf_expect: c (%g) must be in [-1, 1]", c);
    *out = mf_moment(&cx, m, q11, q22, c, (flags & NNINIT_MF_QUADRATURE) != 0);
    return NNINIT_OK;
}

/* ---- maps ---------------------------------------------------------------- */

static nninit_status mf_net_init(mf_ctx *cx, const nninit_mf_net *net, const char *fn) {
    if (!net) return nninit__err(NNINIT_ERR_NULL, "%s: net is NULL", fn);
    nninit_status s = mf_ctx_init_rule(cx, net->act, net->param, fn);
    if (s != NNINIT_OK) return s;
    if (!(isfinite(net->sw2) && net->sw2 > 0))
        return nninit__err(NNINIT_ERR_PARAM, "%s: sw2 (%g) must be finite and > 0", fn, net->sw2);
    if (!(isfinite(net->sb2) && net->sb2 >= 0))
        return nninit__err(NNINIT_ERR_PARAM, "%s: sb2 (%g) must be finite and >= 0", fn, net->sb2);
    return NNINIT_OK;
}

static nninit_status mf_check_q(double q, const char *fn, const char *name) {
    if (!(isfinite(q) && q >= 0))
        return nninit__err(NNINIT_ERR_PARAM, "%s: %s (%g) must be finite and >= 0", fn, name, q);
    return NNINIT_OK;
}

static double mf_qmap(const mf_ctx *cx, const nninit_mf_net *net, double q) {
    return net->sw2 * mf_moment(cx, NNINIT_MF_PHI_PHI, q, q, 1.0, 0) + net->sb2;
}

static double mf_chi1(const mf_ctx *cx, const nninit_mf_net *net, double q) {
    return net->sw2 * mf_moment(cx, NNINIT_MF_DPHI_DPHI, q, q, 1.0, 0);
}

static double mf_chi_q(const mf_ctx *cx, const nninit_mf_net *net, double q) {
    return net->sw2 *
           (mf_moment(cx, NNINIT_MF_DPHI_DPHI, q, q, 1.0, 0) + mf_moment(cx, NNINIT_MF_PHI_D2PHI, q, q, 1.0, 0));
}

/* c map with the next layer's variances known (q11n = q map(q11), ...). */
static double mf_cmap(const mf_ctx *cx, const nninit_mf_net *net, double q11, double q22, double c, double q11n,
                      double q22n) {
    double q12n = net->sw2 * mf_moment(cx, NNINIT_MF_PHI_PHI, q11, q22, c, 0) + net->sb2;
    double cn = q12n / (sqrt(q11n) * sqrt(q22n));
    return fmax(-1.0, fmin(1.0, cn)); /* Cauchy-Schwarz, up to rounding */
}

nninit_status nninit_mf_q_map(const nninit_mf_net *net, double q_in, double *q_out) {
    mf_ctx cx = {0};
    nninit_status s = mf_net_init(&cx, net, "mf_q_map");
    if (s == NNINIT_OK) s = mf_check_q(q_in, "mf_q_map", "q_in");
    if (s == NNINIT_OK && !q_out) s = nninit__err(NNINIT_ERR_NULL, "mf_q_map: q_out is NULL");
    if (s != NNINIT_OK) return s;
    *q_out = mf_qmap(&cx, net, q_in);
    return NNINIT_OK;
}

nninit_status nninit_mf_q_sequence(const nninit_mf_net *net, double q0, int L, double *q_out) {
    mf_ctx cx = {0};
    nninit_status s = mf_net_init(&cx, net, "mf_q_sequence");
    if (s == NNINIT_OK) s = mf_check_q(q0, "mf_q_sequence", "q0");
    if (s == NNINIT_OK && L < 0) s = nninit__err(NNINIT_ERR_PARAM, "mf_q_sequence: L (%d) < 0", L);
    if (s == NNINIT_OK && !q_out) s = nninit__err(NNINIT_ERR_NULL, "mf_q_sequence: q_out is NULL");
    if (s != NNINIT_OK) return s;
    q_out[0] = q0;
    for (int l = 1; l <= L; l++) {
        q_out[l] = mf_qmap(&cx, net, q_out[l - 1]);
        if (!isfinite(q_out[l])) return nninit__err(NNINIT_ERR_PARAM, "mf_q_sequence: q overflows at layer %d", l);
    }
    return NNINIT_OK;
}

/* q* is where iterating the q map from q0 ends. The q map F is increasing
 * (phi(u)^2 + phi(-u)^2 grows with |u| for every activation here), so the
 * iterates move monotonically, in the direction of the sign of F(q0) - q0, to
 * the first root of G(q) = F(q) - q on that side. It is bracketed by stepping
 * by factors of 2 (a sign change counts only when |G| exceeds 1e-13 q, so
 * that the rounding of F(q) - q at large q is no root) and then bisected to
 * the last bit: robust where iteration
 * crawls (chi_q near 1, q* = 0 approached geometrically) and where it drifts
 * off linearly (F(q) ~ q + b: no finite fixed point). */
static nninit_status mf_qstar_impl(const mf_ctx *cx, const nninit_mf_net *net, double q0, double *qstar, int *iters,
                                   const char *fn) {
    int n = 1;
    double g0 = mf_qmap(cx, net, q0) - q0, a = q0, b = q0, q = q0;
    if (fabs(g0) <= 1e-12 * q0) { /* q0 is fixed up to rounding (relu with sw2 = 2, sb2 = 0) */
        g0 = 0.0;
        q = q0;
    } else if (g0 > 0) { /* iterates rise: bracket [a, b] with G(a) > 0 >= G(b) */
        a = q0;
        b = q0 > 0 ? 2.0 * q0 : q0 + g0;
        for (;;) {
            double gb = mf_qmap(cx, net, b) - b;
            n++;
            if (gb < -1e-13 * b) break; /* a crossing, not rounding of F(b) - b */
            if (b > MF_Q_HUGE)
                return nninit__err(NNINIT_ERR_PARAM,
                                   "%s: q grows without bound (no finite fixed point) for %s, "
                                   "sw2 %g, sb2 %g",
                                   fn, mf_names[cx->act], net->sw2, net->sb2);
            a = b;
            b *= b < 1e6 * (q0 + 1.0) ? 2.0 : 1e10; /* far out, only divergence is left to see */
        }
    } else { /* iterates fall: bracket [a, b] with G(a) >= 0 > G(b) */
        b = q0;
        a = 0.5 * q0;
        for (;;) {
            double ga = mf_qmap(cx, net, a) - a;
            n++;
            if (ga > 1e-13 * a) break;
            if (a < 1e-300) { /* G < 0 down to 0: the iterates collapse onto 0 or just above */
                a = 0.0;
                break;
            }
            b = a;
            a *= 0.5;
        }
    }
    if (g0 != 0.0 && a == 0.0 && mf_qmap(cx, net, 0.0) == 0.0) {
        q = 0.0; /* sb2 = 0 and phi(0) = 0: q* = 0 exactly */
    } else if (g0 != 0.0) {
        double lo = a, hi = b; /* G(lo) >= 0 >= G(hi), one strictly */
        while (hi - lo > 4e-16 * hi) {
            double mid = 0.5 * (lo + hi), gm = mf_qmap(cx, net, mid) - mid;
            n++;
            if (gm == 0.0) {
                lo = hi = mid;
                break;
            }
            if (gm > 0) lo = mid;
            else hi = mid;
        }
        q = 0.5 * (lo + hi);
    }
    *qstar = q;
    if (iters) *iters = n;
    return NNINIT_OK;
}

nninit_status nninit_mf_qstar(const nninit_mf_net *net, double q0, double *qstar, int *iters) {
    mf_ctx cx = {0};
    nninit_status s = mf_net_init(&cx, net, "mf_qstar");
    if (s == NNINIT_OK) s = mf_check_q(q0, "mf_qstar", "q0");
    if (s == NNINIT_OK && !qstar) s = nninit__err(NNINIT_ERR_NULL, "mf_qstar: qstar is NULL");
    if (s != NNINIT_OK) return s;
    return mf_qstar_impl(&cx, net, q0, qstar, iters, "mf_qstar");
}

nninit_status nninit_mf_chi1(const nninit_mf_net *net, double q, double *chi1) {
    mf_ctx cx = {0};
    nninit_status s = mf_net_init(&cx, net, "mf_chi1");
    if (s == NNINIT_OK) s = mf_check_q(q, "mf_chi1", "q");
    if (s == NNINIT_OK && !chi1) s = nninit__err(NNINIT_ERR_NULL, "mf_chi1: chi1 is NULL");
    if (s != NNINIT_OK) return s;
    *chi1 = mf_chi1(&cx, net, q);
    return NNINIT_OK;
}

nninit_status nninit_mf_chi_q(const nninit_mf_net *net, double q, double *chi_q) {
    mf_ctx cx = {0};
    nninit_status s = mf_net_init(&cx, net, "mf_chi_q");
    if (s == NNINIT_OK) s = mf_check_q(q, "mf_chi_q", "q");
    if (s == NNINIT_OK && !chi_q) s = nninit__err(NNINIT_ERR_NULL, "mf_chi_q: chi_q is NULL");
    if (s != NNINIT_OK) return s;
    *chi_q = mf_chi_q(&cx, net, q);
    return NNINIT_OK;
}

static nninit_status mf_check_c(double q11, double q22, double c, const char *fn) {
    if (!(isfinite(q11) && q11 > 0 && isfinite(q22) && q22 > 0))
        return nninit__err(NNINIT_ERR_PARAM, "%s: q11 (%g) and q22 (%g) must be finite and > 0", fn, q11, q22);
    if (!(c >= -1.0 && c <= 1.0)) return nninit__err(NNINIT_ERR_PARAM, "%s: c (%g) must be in [-1, 1]", fn, c);
    return NNINIT_OK;
}

nninit_status nninit_mf_c_map(const nninit_mf_net *net, double q11, double q22, double c, double *c_out) {
    mf_ctx cx = {0};
    nninit_status s = mf_net_init(&cx, net, "mf_c_map");
    if (s == NNINIT_OK) s = mf_check_c(q11, q22, c, "mf_c_map");
    if (s == NNINIT_OK && !c_out) s = nninit__err(NNINIT_ERR_NULL, "mf_c_map: c_out is NULL");
    if (s != NNINIT_OK) return s;
    double q11n = mf_qmap(&cx, net, q11);
    double q22n = q22 == q11 ? q11n : mf_qmap(&cx, net, q22);
    *c_out = mf_cmap(&cx, net, q11, q22, c, q11n, q22n);
    return NNINIT_OK;
}

nninit_status nninit_mf_c_sequence(const nninit_mf_net *net, double q1_0, double q2_0, double c0, int L,
                                   double *c_out) {
    mf_ctx cx = {0};
    nninit_status s = mf_net_init(&cx, net, "mf_c_sequence");
    if (s == NNINIT_OK) s = mf_check_c(q1_0, q2_0, c0, "mf_c_sequence");
    if (s == NNINIT_OK && L < 0) s = nninit__err(NNINIT_ERR_PARAM, "mf_c_sequence: L (%d) < 0", L);
    if (s == NNINIT_OK && !c_out) s = nninit__err(NNINIT_ERR_NULL, "mf_c_sequence: c_out is NULL");
    if (s != NNINIT_OK) return s;
    double q1 = q1_0, q2 = q2_0;
    c_out[0] = c0;
    for (int l = 1; l <= L; l++) {
        double q1n = mf_qmap(&cx, net, q1), q2n = q2 == q1 ? q1n : mf_qmap(&cx, net, q2);
        if (!isfinite(q1n) || !isfinite(q2n))
            return nninit__err(NNINIT_ERR_PARAM, "mf_c_sequence: q overflows at layer %d", l);
        c_out[l] = mf_cmap(&cx, net, q1, q2, c_out[l - 1], q1n, q2n);
        q1 = q1n;
        q2 = q2n;
    }
    return NNINIT_OK;
}

/* Stable fixed point of c -> c map(q, q, c). The c map at equal q is a power
 * series in c with non-negative coefficients (Mehler: sum_k a_k^2 c^k), so on
 * [0, 1] it is increasing and convex, its value at 0 is >= 0 and at 1 is 1:
 * when its slope at 1 (chi_1 q / q') exceeds 1 there is exactly one other
 * root, in [0, 1), and it is stable; otherwise c* = 1. The root is bracketed
 * by c = 1 - 2^-k and found by the Illinois method to 1e-14. */
static double mf_cstar_impl(const mf_ctx *cx, const nninit_mf_net *net, double q) {
    double qn = mf_qmap(cx, net, q);
    if (mf_chi1(cx, net, q) * q / qn <= 1.0 + MF_CRIT_TOL) return 1.0;
    double a = 0.0, b = 1.0;
    if (mf_cmap(cx, net, q, q, 0.0, qn, qn) <= 0.0) return 0.0;
    int found = 0;
    for (int k = 1; k <= 44 && !found; k++) {
        double t = 1.0 - ldexp(1.0, -k);
        if (mf_cmap(cx, net, q, q, t, qn, qn) - t < 0.0) {
            b = t;
            found = 1;
        } else {
            a = t;
        }
    }
    if (!found) return 1.0; /* critical within rounding */
    /* Illinois regula falsi on g(c) = c map(c) - c, g(a) >= 0 > g(b). */
    double ga = mf_cmap(cx, net, q, q, a, qn, qn) - a, gb = mf_cmap(cx, net, q, q, b, qn, qn) - b;
    int side = 0;
    for (int it = 0; it < 200 && b - a > 1e-14; it++) {
        double t = (a * gb - b * ga) / (gb - ga);
        if (!(t > a && t < b)) t = 0.5 * (a + b);
        double gt = mf_cmap(cx, net, q, q, t, qn, qn) - t;
        if (gt >= 0) {
            a = t;
            ga = gt;
            if (side > 0) gb *= 0.5;
            side = 1;
        } else {
            b = t;
            gb = gt;
            if (side < 0) ga *= 0.5;
            side = -1;
        }
        if (gt == 0.0) return t;
    }
    return 0.5 * (a + b);
}

nninit_status nninit_mf_cstar(const nninit_mf_net *net, double q, double *cstar) {
    mf_ctx cx = {0};
    nninit_status s = mf_net_init(&cx, net, "mf_cstar");
    if (s == NNINIT_OK) s = mf_check_c(q, q, 1.0, "mf_cstar");
    if (s == NNINIT_OK && !cstar) s = nninit__err(NNINIT_ERR_NULL, "mf_cstar: cstar is NULL");
    if (s != NNINIT_OK) return s;
    *cstar = mf_cstar_impl(&cx, net, q);
    return NNINIT_OK;
}

nninit_status nninit_mf_chi_c(const nninit_mf_net *net, double q, double c, double *chi_c) {
    mf_ctx cx = {0};
    nninit_status s = mf_net_init(&cx, net, "mf_chi_c");
    if (s == NNINIT_OK) s = mf_check_q(q, "mf_chi_c", "q");
    if (s == NNINIT_OK && !(c >= -1.0 && c <= 1.0))
        s = nninit__err(NNINIT_ERR_PARAM, "mf_chi_c: c (%g) must be in [-1, 1]", c);
    if (s == NNINIT_OK && !chi_c) s = nninit__err(NNINIT_ERR_NULL, "mf_chi_c: chi_c is NULL");
    if (s != NNINIT_OK) return s;
    *chi_c = net->sw2 * mf_moment(&cx, NNINIT_MF_DPHI_DPHI, q, q, c, 0);
    return NNINIT_OK;
}

/* -1 / ln chi, infinite at (and, for an unstable point, beyond) criticality. */
static double mf_depth(double chi) {
    if (chi >= 1.0 - MF_CRIT_TOL) return INFINITY;
    if (chi <= 0.0) return 0.0;
    return -1.0 / log(chi);
}

nninit_status nninit_mf_analyze(const nninit_mf_net *net, double q0, nninit_mf_fixed *out) {
    mf_ctx cx = {0};
    nninit_status s = mf_net_init(&cx, net, "mf_analyze");
    if (s == NNINIT_OK) s = mf_check_q(q0, "mf_analyze", "q0");
    if (s == NNINIT_OK && !out) s = nninit__err(NNINIT_ERR_NULL, "mf_analyze: out is NULL");
    if (s != NNINIT_OK) return s;
    nninit_mf_fixed r;
    s = mf_qstar_impl(&cx, net, q0, &r.qstar, &r.iters, "mf_analyze");
    if (s != NNINIT_OK) return s;
    r.chi_1 = mf_chi1(&cx, net, r.qstar);
    r.chi_q = mf_chi_q(&cx, net, r.qstar);
    r.xi_q = mf_depth(r.chi_q);
    if (r.qstar > 0) {
        r.cstar = mf_cstar_impl(&cx, net, r.qstar);
        r.chi_c =
            r.cstar == 1.0 ? r.chi_1 : net->sw2 * mf_moment(&cx, NNINIT_MF_DPHI_DPHI, r.qstar, r.qstar, r.cstar, 0);
        r.xi_c = mf_depth(r.chi_c);
    } else {
        r.cstar = r.chi_c = r.xi_c = NAN;
    }
    *out = r;
    return NNINIT_OK;
}

nninit_status nninit_mf_depth_scales(const nninit_mf_net *net, double q0, double *xi_q, double *xi_c) {
    if (!xi_q || !xi_c) return nninit__err(NNINIT_ERR_NULL, "mf_depth_scales: NULL output");
    nninit_mf_fixed r;
    nninit_status s = nninit_mf_analyze(net, q0, &r);
    if (s != NNINIT_OK) return s;
    *xi_q = r.xi_q;
    *xi_c = r.xi_c;
    return NNINIT_OK;
}

/* chi_1 at the q* reached from 1; +inf where q has no finite fixed point. */
static double mf_chi1_at(const mf_ctx *cx, nninit_mf_net *net, double sw2) {
    double q;
    net->sw2 = sw2;
    if (mf_qstar_impl(cx, net, 1.0, &q, NULL, "mf_critical_sw2") != NNINIT_OK) return INFINITY;
    return mf_chi1(cx, net, q);
}

nninit_status nninit_mf_critical_sw2(nninit_mf_act act, double param, double sb2, double *sw2) {
    if (!sw2) return nninit__err(NNINIT_ERR_NULL, "mf_critical_sw2: sw2 is NULL");
    nninit_mf_net net = {act, param, 1.0, sb2};
    mf_ctx cx = {0};
    nninit_status s = mf_net_init(&cx, &net, "mf_critical_sw2");
    if (s != NNINIT_OK) return s;
    double lo = 1.0, hi = 1.0;
    if (mf_chi1_at(&cx, &net, 1.0) < 1.0) {
        do {
            lo = hi;
            hi *= 2.0;
            if (hi > 1e8) return nninit__err(NNINIT_ERR_PARAM, "mf_critical_sw2: chi_1 < 1 up to sw2 = 1e8");
        } while (mf_chi1_at(&cx, &net, hi) < 1.0);
    } else {
        do {
            hi = lo;
            lo *= 0.5;
            if (lo < 1e-8) return nninit__err(NNINIT_ERR_PARAM, "mf_critical_sw2: chi_1 >= 1 down to sw2 = 1e-8");
        } while (mf_chi1_at(&cx, &net, lo) >= 1.0);
    }
    /* chi_1(lo) < 1 <= chi_1(hi) */
    while (hi - lo > 1e-12 * hi) {
        double mid = sqrt(lo * hi);
        if (mf_chi1_at(&cx, &net, mid) < 1.0) lo = mid;
        else hi = mid;
    }
    *sw2 = 0.5 * (lo + hi);
    return NNINIT_OK;
}

/* ---- gradients -------------------------------------------------------------- */

nninit_status nninit_mf_grad_ratio(const nninit_mf_net *net, double q, double width_ratio, double *ratio) {
    mf_ctx cx = {0};
    nninit_status s = mf_net_init(&cx, net, "mf_grad_ratio");
    if (s == NNINIT_OK) s = mf_check_q(q, "mf_grad_ratio", "q");
    if (s == NNINIT_OK && !(isfinite(width_ratio) && width_ratio > 0))
        s = nninit__err(NNINIT_ERR_PARAM, "mf_grad_ratio: width_ratio (%g) must be finite and > 0", width_ratio);
    if (s == NNINIT_OK && !ratio) s = nninit__err(NNINIT_ERR_NULL, "mf_grad_ratio: ratio is NULL");
    if (s != NNINIT_OK) return s;
    *ratio = width_ratio * mf_chi1(&cx, net, q);
    return NNINIT_OK;
}

nninit_status nninit_mf_grad_variance(const nninit_mf_net *net, double q0, int L, const int64_t *widths,
                                      double var_last, double *out) {
    mf_ctx cx = {0};
    const char *fn = "mf_grad_variance";
    nninit_status s = mf_net_init(&cx, net, fn);
    if (s == NNINIT_OK) s = mf_check_q(q0, fn, "q0");
    if (s == NNINIT_OK && L < 0) s = nninit__err(NNINIT_ERR_PARAM, "%s: L (%d) < 0", fn, L);
    if (s == NNINIT_OK && !(isfinite(var_last) && var_last >= 0))
        s = nninit__err(NNINIT_ERR_PARAM, "%s: var_last (%g) must be finite and >= 0", fn, var_last);
    if (s == NNINIT_OK && !out) s = nninit__err(NNINIT_ERR_NULL, "%s: out is NULL", fn);
    for (int l = 0; s == NNINIT_OK && widths && l <= L; l++)
        if (widths[l] < 1)
            s = nninit__err(NNINIT_ERR_PARAM, "%s: widths[%d] (%lld) must be >= 1", fn, l, (long long)widths[l]);
    if (s != NNINIT_OK) return s;
    /* out[] holds q^l on the way forward, then the variances on the way back. */
    out[0] = q0;
    for (int l = 1; l <= L; l++) {
        out[l] = mf_qmap(&cx, net, out[l - 1]);
        if (!isfinite(out[l])) return nninit__err(NNINIT_ERR_PARAM, "%s: q overflows at layer %d", fn, l);
    }
    out[L] = var_last;
    for (int l = L - 1; l >= 0; l--) {
        double wr = widths ? (double)widths[l + 1] / (double)widths[l] : 1.0;
        out[l] = out[l + 1] * wr * mf_chi1(&cx, net, out[l]);
    }
    return NNINIT_OK;
}

/* test_stats.c -- statistical tests of every random scheme.
 *
 * Every case uses a fixed key, so a run is a deterministic function of the
 * library: nothing here can flake. The tolerances are nonetheless derived
 * from n so that a correct generator passes them with overwhelming
 * probability for (almost) every key, and a wrong one fails.
 *
 * Per case (n = 10^6 values unless stated):
 *
 *  Mean.  |xbar - mu| <= 5 sigma / sqrt(n)  (+ the rounding term below).
 *      xbar has standard error sigma/sqrt(n); 5 standard errors are exceeded
 *      with probability 5.7e-7 (normal approximation, CLT at n = 10^6).
 *
 *  Variance.  |s^2 - sigma^2| <= 5 sqrt(Var(s^2))  (+ rounding term), with
 *      Var(s^2) = (mu4 - sigma^4)/n + O(1/n^2), mu4 the exact fourth central
 *      moment of the distribution:
 *        U(lo, hi), w = hi - lo:  sigma^2 = w^2/12, mu4 = w^4/80, so
 *                                 mu4 - sigma^4 = w^4 (1/80 - 1/144) = w^4/180;
 *        N(m, s^2):               mu4 = 3 s^4, so mu4 - sigma^4 = 2 s^4;
 *        truncated normal:        mean, sigma^2 and mu4 by Simpson's rule on
 *                                 the unnormalised density exp(-z^2/2) over
 *                                 [za, zb] (20000 panels, error < 1e-13 rel.),
 *                                 independent of the library's closed forms.
 *      The analytic mean and variance come from nninit_explain() (info.mean,
 *      info.variance) and are first checked against the test's own formulas
 *      (the Simpson moments for truncated normals; the textbook variance of
 *      each scheme, e.g. 2 gain^2/(fan_in + fan_out) for xavier).
 *
 *  Rounding term.  A stored value is y = x + d with |d| <= u (|x| + sigma_p)
 *      + eta, u the relative error of the dtype and the f32/f64 transforms
 *      (f64 4*2^-53, f32 8*2^-24 -- the f32 log/sincos are within a few ulp --,
 *      bf16 2^-8 + 8*2^-24, f16 2^-11 + 8*2^-24), eta = 2^-25 the f16
 *      subnormal half-step. With D = u (rms(y) + sigma_p) + eta >= rms(d):
 *      |mean(y) - mean(x)| <= D and |s_y - s_x| <= D (triangle inequality on
 *      the centred vectors), so |s_y^2 - s_x^2| <= D (2 s_y + D). Both are
 *      added to the statistical tolerances (negligible for f32 and f64).
 *
 *  Support.  Every value (all n) is finite and inside [info.lo, info.hi]. For
 *      f64 that is checked exactly. For the narrower dtypes the bound itself
 *      is usually not representable: a value outside [lo, hi] (in double) is
 *      accepted only if it is the dtype value nearest to the bound (rounding
 *      is monotone, so round(x) for x <= hi never exceeds round(hi)).
 *
 *  No pile-up at the bounds (truncated normals).  For f64 the number of
 *      values equal to a bound is <= 2 (the expectation is ~1e-9). For the
 *      narrower dtypes every value in the rounding cell of the grid point
 *      nearest to a bound lands on it; the part of that cell inside [lo, hi]
 *      is at most one ulp long, so the expected count is at most
 *      lam = n * sum_bounds density(bound) * ulp(bound) (the density is
 *      monotone over the cell to first order), and the test allows
 *      lam + 5 sqrt(lam) + 2. A sampler that clamps instead of rejecting
 *      would put ~n*P(outside) values there.
 *
 *  Kolmogorov-Smirnov (f32 and f64 outputs).  D_n = sup_x |F_n(x) - F(x)|
 *      from the sample sorted ascending: D_n = max_i max(i/n - F(x_(i)),
 *      F(x_(i)) - (i-1)/n) (ties handled: the largest i of a tie gives the
 *      right limit, the smallest the left one). Kolmogorov's limit law:
 *      P(sqrt(n) D_n > x) -> 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 x^2). At the
 *      x of interest the k = 2 term is < 1e-17, so alpha = 2 exp(-2 x^2) gives
 *      x_alpha = sqrt(ln(2/alpha) / 2) = 2.2253 at alpha = 1e-4, and the
 *      critical value is 2.2253/sqrt(n) = 2.23e-3 at n = 10^6 (Stephens'
 *      finite-n correction sqrt(n) + 0.12 + 0.11/sqrt(n) changes it by 1e-4
 *      relative). The f32 output is discrete (24-bit uniforms, values rounded
 *      to f32): F of the discrete law differs from the continuous F by at most
 *      the largest atom, ~1e-7, far below the critical value.
 *      Exact CDFs: uniform (x - lo)/(hi - lo); normal Phi(z) = erfc(-z/sqrt2)/2;
 *      truncated on [a, b]: (Phi(z) - Phi(a))/(Phi(b) - Phi(a)), evaluated in
 *      the upper-tail form (Q(a) - Q(z))/(Q(a) - Q(b)), Q(z) = erfc(z/sqrt2)/2,
 *      when a >= 0 so that far tails keep their precision.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nninit.h"
#include "rng/transform.h"

#define N_STAT   1000000
#define SQRT2    1.41421356237309504880
#define KS_ALPHA 1e-4

/* ------------------------------------------------------------------------- */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------- */

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    assert_non_null(p);
    return p;
}

static double load(nninit_dtype d, const void *p, int64_t i) {
    switch (d) {
    case NNINIT_F64: return ((const double *)p)[i];
    case NNINIT_F32: return ((const float *)p)[i];
    case NNINIT_BF16: return nninit_bf16_to_f32(((const uint16_t *)p)[i]);
    case NNINIT_F16: return nninit_f16_to_f32(((const uint16_t *)p)[i]);
    }
    return NAN;
}

static double Phi(double z) { return 0.5 * erfc(-z / SQRT2); }
static double Qtail(double z) { return 0.5 * erfc(z / SQRT2); }

/* Precision (bits incl. the implicit one) and minimum normal exponent. */
static int dtype_prec(nninit_dtype d) {
    switch (d) {
    case NNINIT_F64: return 53;
    case NNINIT_F32: return 24;
    case NNINIT_BF16: return 8;
    case NNINIT_F16: return 11;
    }
    return 0;
}

static int dtype_emin(nninit_dtype d) {
    switch (d) {
    case NNINIT_F64: return -1022;
    case NNINIT_F32:
    case NNINIT_BF16: return -126;
    case NNINIT_F16: return -14;
    }
    return 0;
}

/* Spacing of the dtype's grid around x (x finite). */
static double dtype_ulp(nninit_dtype d, double x) {
    int e;
    if (x == 0.0) return ldexp(1.0, dtype_emin(d) - dtype_prec(d) + 1);
    (void)frexp(x, &e); /* |x| in [2^(e-1), 2^e) */
    int ex = e - 1;
    if (ex < dtype_emin(d)) ex = dtype_emin(d);
    return ldexp(1.0, ex - dtype_prec(d) + 1);
}

/* Relative error allowance u of a stored value (see the header comment). */
static double dtype_u(nninit_dtype d) {
    switch (d) {
    case NNINIT_F64: return 4.0 * 0x1p-53;
    case NNINIT_F32: return 8.0 * 0x1p-24;
    case NNINIT_BF16: return 0x1p-8 + 8.0 * 0x1p-24;
    case NNINIT_F16: return 0x1p-11 + 8.0 * 0x1p-24;
    }
    return 1.0;
}

/* Is v (a stored value) inside [lo, hi], allowing a narrow dtype only the
 * nearest representable value to a non-representable bound? */
static int inside_bounds(nninit_dtype d, double v, double lo, double hi) {
    if (v >= lo && v <= hi) return 1;
    if (d == NNINIT_F64) return 0;
    double b = v > hi ? hi : lo;
    if (!isfinite(b)) return 0;
    double ulp = dtype_ulp(d, b);
    double down = floor(b / ulp) * ulp, up = down + ulp; /* exact: small precisions */
    if (v > hi) return v == up && (up - b) <= (b - down);
    return v == down && (b - down) <= (up - b);
}

/* The dtype value a bound rounds to (nearest; ties either way accepted). */
static double nearest_in_dtype(nninit_dtype d, double b) {
    if (d == NNINIT_F64 || !isfinite(b)) return b;
    double ulp = dtype_ulp(d, b);
    double down = floor(b / ulp) * ulp, up = down + ulp;
    return (b - down) <= (up - b) ? down : up;
}

/* Moments of N(0,1) restricted to [za, zb] by composite Simpson. */
typedef struct {
    double mean, var, mu4;
} moments;

static moments trunc_moments_simpson(double za, double zb) {
    const int panels = 20000; /* even */
    const double h = (zb - za) / panels;
    double s0 = 0, s1 = 0;
    for (int k = 0; k <= panels; k++) {
        double z = za + h * k, w = exp(-0.5 * z * z);
        double c = (k == 0 || k == panels) ? 1.0 : (k & 1) ? 4.0 : 2.0;
        s0 += c * w;
        s1 += c * w * z;
    }
    moments m;
    m.mean = s1 / s0;
    double s2 = 0, s4 = 0;
    for (int k = 0; k <= panels; k++) {
        double z = za + h * k, w = exp(-0.5 * z * z), dz = z - m.mean, dz2 = dz * dz;
        double c = (k == 0 || k == panels) ? 1.0 : (k & 1) ? 4.0 : 2.0;
        s2 += c * w * dz2;
        s4 += c * w * dz2 * dz2;
    }
    m.var = s2 / s0;
    m.mu4 = s4 / s0;
    return m;
}

/* ---- Kolmogorov-Smirnov --------------------------------------------------- */
typedef struct {
    nninit_resolved kind;
    double lo, hi;   /* uniform */
    double mean, sd; /* normal / truncated: parent mean and std */
    double za, zb;   /* truncated: standardized bounds */
} cdf_par;

static double cdf(const cdf_par *p, double x) {
    switch (p->kind) {
    case NNINIT_RESOLVED_UNIFORM: {
        double f = (x - p->lo) / (p->hi - p->lo);
        return f < 0 ? 0 : f > 1 ? 1 : f;
    }
    case NNINIT_RESOLVED_NORMAL: return Phi((x - p->mean) / p->sd);
    case NNINIT_RESOLVED_TRUNC_NORMAL: {
        double z = (x - p->mean) / p->sd, f;
        if (z <= p->za) return 0.0;
        if (z >= p->zb) return 1.0;
        if (p->za >= 0) f = (Qtail(p->za) - Qtail(z)) / (Qtail(p->za) - Qtail(p->zb));
        else f = (Phi(z) - Phi(p->za)) / (Phi(p->zb) - Phi(p->za));
        return f < 0 ? 0 : f > 1 ? 1 : f;
    }
    default: break;
    }
    return NAN;
}

/* Ascending sort of doubles (no NaN) by LSD radix sort on order-preserving
 * 64-bit keys, 6 passes of 11 bits: ~10x faster than qsort at n = 10^6,
 * which keeps the 30 KS tests here within the time budget. */
static uint64_t dkey(double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    return (u >> 63) ? ~u : (u | 0x8000000000000000ull);
}

static double dunkey(uint64_t k) {
    uint64_t u = (k >> 63) ? (k & 0x7fffffffffffffffull) : ~k;
    double v;
    memcpy(&v, &u, 8);
    return v;
}

static void sort_doubles(double *x, int64_t n) {
    enum {
        BITS = 11,
        BUCKETS = 1 << BITS,
        PASSES = (64 + BITS - 1) / BITS
    };
    uint64_t *a = xmalloc((size_t)n * sizeof(uint64_t)), *b = xmalloc((size_t)n * sizeof(uint64_t));
    size_t cnt[PASSES][BUCKETS];
    memset(cnt, 0, sizeof cnt);
    for (int64_t i = 0; i < n; i++) {
        a[i] = dkey(x[i]);
        for (int p = 0; p < PASSES; p++) cnt[p][(a[i] >> (BITS * p)) & (BUCKETS - 1)]++;
    }
    for (int p = 0; p < PASSES && n > 0; p++) {
        if (cnt[p][(a[0] >> (BITS * p)) & (BUCKETS - 1)] == (size_t)n) continue; /* one digit: no-op */
        size_t pos = 0;
        for (int j = 0; j < BUCKETS; j++) {
            size_t c = cnt[p][j];
            cnt[p][j] = pos;
            pos += c;
        }
        for (int64_t i = 0; i < n; i++) b[cnt[p][(a[i] >> (BITS * p)) & (BUCKETS - 1)]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    for (int64_t i = 0; i < n; i++) x[i] = dunkey(a[i]);
    for (int64_t i = 1; i < n; i++) assert_true(x[i - 1] <= x[i]);
    free(a);
    free(b);
}

/* D_n of x[0..n) (sorted in place). */
static double ks_stat(double *x, int64_t n, const cdf_par *p) {
    sort_doubles(x, n);
    double d = 0.0, fn = (double)n;
    for (int64_t i = 0; i < n; i++) {
        double f = cdf(p, x[i]);
        double dp = (double)(i + 1) / fn - f, dm = f - (double)i / fn;
        if (dp > d) d = dp;
        if (dm > d) d = dm;
    }
    return d;
}

static double ks_critical(int64_t n) { return sqrt(0.5 * log(2.0 / KS_ALPHA)) / sqrt((double)n); }

/* ------------------------------------------------------------------------- */
/* One statistical case                                                      */
/* ------------------------------------------------------------------------- */

static double info_parent_mean(const nninit_spec *s) { return s->scheme == NNINIT_VARIANCE_SCALING ? 0.0 : s->mean; }

static int rel_close(double a, double b, double rel) { return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)); }

typedef struct {
    double mean, var, d_ks, ks_crit;
    int64_t at_bounds;
} case_result;

/* Fill spec on t (n elements) with key (seed, id) and check everything the
 * header comment lists. exp_var: the scheme's textbook variance (NaN: no
 * such check beyond the distribution's own formulas). ks: also run the KS
 * test (f32 / f64 only). It is run for uniform, normal, trunc_normal,
 * trunc_normal_std and Keras' truncated variance_scaling; xavier, kaiming,
 * lecun and the other variance_scaling cases resolve to the same kernels
 * (the resolution is checked by info and the moments), which keeps the test
 * fast enough for the sanitizer build. */
static case_result run_case(const char *label, const nninit_spec *spec, const nninit_tensor *t, uint64_t seed,
                            uint64_t id, double exp_var, int ks) {
    case_result r = {NAN, NAN, NAN, NAN, 0};
    const nninit_dtype d = t->dtype;
    int64_t n;
    assert_int_equal(nninit_tensor_numel(t, &n), NNINIT_OK);
    nninit_info info;
    nninit_status st = nninit_explain(spec, t, &info);
    if (st != NNINIT_OK) fail_msg("%s: explain: %s (%s)", label, nninit_status_str(st), nninit_last_error());

    /* The distribution's exact moments, from the test's own formulas. */
    double mu, var, mu4, pm = NAN, sdp = NAN;
    cdf_par cp;
    memset(&cp, 0, sizeof cp);
    cp.kind = info.kind;
    switch (info.kind) {
    case NNINIT_RESOLVED_UNIFORM: {
        double w = info.hi - info.lo;
        mu = 0.5 * (info.lo + info.hi);
        var = w * w / 12.0;
        mu4 = w * w * w * w / 80.0;
        sdp = sqrt(var);
        cp.lo = info.lo;
        cp.hi = info.hi;
        break;
    }
    case NNINIT_RESOLVED_NORMAL:
        mu = info.mean;
        sdp = info.std;
        var = sdp * sdp;
        mu4 = 3.0 * var * var;
        cp.mean = mu;
        cp.sd = sdp;
        if (spec->scheme == NNINIT_NORMAL) {
            assert_true(info.mean == spec->mean);
            assert_true(info.std == spec->std);
        } else {
            assert_true(info.mean == 0.0);
        }
        break;
    case NNINIT_RESOLVED_TRUNC_NORMAL: {
        pm = info_parent_mean(spec);
        sdp = info.std;
        double za = (info.lo - pm) / sdp, zb = (info.hi - pm) / sdp;
        moments m = trunc_moments_simpson(za, zb);
        mu = pm + sdp * m.mean;
        var = sdp * sdp * m.var;
        mu4 = sdp * sdp * sdp * sdp * m.mu4;
        cp.mean = pm;
        cp.sd = sdp;
        cp.za = za;
        cp.zb = zb;
        break;
    }
    default: fail_msg("%s: resolved kind %d is not a random distribution", label, (int)info.kind); return r;
    }
    const double sigma = sqrt(var);
    /* info.mean / info.variance agree with the test's formulas. */
    if (!(fabs(info.mean - mu) <= 1e-10 * (fabs(mu) + sigma)))
        fail_msg("%s: info.mean %.17g, test's formula %.17g", label, info.mean, mu);
    if (!rel_close(info.variance, var, 1e-10))
        fail_msg("%s: info.variance %.17g, test's formula %.17g", label, info.variance, var);
    if (!isnan(exp_var) && !rel_close(info.variance, exp_var, 1e-12))
        fail_msg("%s: info.variance %.17g, scheme's textbook variance %.17g", label, info.variance, exp_var);

    /* Fill. */
    void *buf = xmalloc((size_t)n * nninit_dtype_size(d));
    st = nninit_fill(spec, t, nninit_key_make(seed, id), buf);
    if (st != NNINIT_OK) fail_msg("%s: fill: %s (%s)", label, nninit_status_str(st), nninit_last_error());
    double *x = xmalloc((size_t)n * sizeof(double));
    const double lo_near = nearest_in_dtype(d, info.lo), hi_near = nearest_in_dtype(d, info.hi);
    double sum = 0.0;
    int64_t at_bounds = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = load(d, buf, i);
        x[i] = v;
        if (!isfinite(v) || !inside_bounds(d, v, info.lo, info.hi))
            fail_msg("%s (%s, seed %llu, id %llu): element %lld = %.17g outside [%.17g, %.17g]", label,
                     nninit_dtype_name(d), (unsigned long long)seed, (unsigned long long)id, (long long)i, v, info.lo,
                     info.hi);
        if (v == lo_near || v == hi_near) at_bounds++;
        sum += v;
    }
    free(buf);
    const double mean = sum / (double)n;
    double ss = 0.0, sq = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double e = x[i] - mean;
        ss += e * e;
        sq += x[i] * x[i];
    }
    const double s2 = ss / (double)(n - 1);
    const double rms = sqrt(sq / (double)n);

    /* Tolerances (header comment). */
    const double D = dtype_u(d) * (rms + sdp) + (d == NNINIT_F16 ? 0x1p-25 : 0.0);
    const double tol_mean = 5.0 * sigma / sqrt((double)n) + D;
    const double tol_var = 5.0 * sqrt((mu4 - var * var) / (double)n) + D * (2.0 * sqrt(s2) + D);
    r.mean = mean;
    r.var = s2;
    r.at_bounds = at_bounds;

    if (info.kind == NNINIT_RESOLVED_TRUNC_NORMAL) {
        int64_t allowed = 2;
        if (d != NNINIT_F64) {
            /* density at each bound times one ulp there, times n */
            double z0 = sqrt(2.0 * 3.14159265358979323846);
            double Zm = (cp.za >= 0) ? Qtail(cp.za) - Qtail(cp.zb) : Phi(cp.zb) - Phi(cp.za);
            double dens_a = exp(-0.5 * cp.za * cp.za) / z0 / Zm / sdp;
            double dens_b = exp(-0.5 * cp.zb * cp.zb) / z0 / Zm / sdp;
            double lam = (double)n * (dens_a * dtype_ulp(d, info.lo) + dens_b * dtype_ulp(d, info.hi));
            allowed = (int64_t)ceil(lam + 5.0 * sqrt(lam)) + 2;
        }
        if (at_bounds > allowed)
            fail_msg("%s (%s): %lld values equal to a bound (allowed %lld)", label, nninit_dtype_name(d),
                     (long long)at_bounds, (long long)allowed);
    }

    if (ks && (d == NNINIT_F32 || d == NNINIT_F64)) {
        r.d_ks = ks_stat(x, n, &cp);
        r.ks_crit = ks_critical(n);
    }
    free(x);

    print_message("%-44s %-4s n=%lld mean %+.6e (exp %+.6e, |d|/tol %.2f) var %.6e (exp %.6e, |d|/tol %.2f)"
                  " at_bounds %lld",
                  label, nninit_dtype_name(d), (long long)n, mean, mu, fabs(mean - mu) / tol_mean, s2, var,
                  fabs(s2 - var) / tol_var, (long long)at_bounds);
    if (!isnan(r.d_ks)) print_message(" KS D %.3e (crit %.3e)\n", r.d_ks, r.ks_crit);
    else print_message("\n");

    if (!(fabs(mean - mu) <= tol_mean))
        fail_msg("%s (%s, seed %llu, id %llu): mean %.10g, expected %.10g +- %.3g", label, nninit_dtype_name(d),
                 (unsigned long long)seed, (unsigned long long)id, mean, mu, tol_mean);
    if (!(fabs(s2 - var) <= tol_var))
        fail_msg("%s (%s, seed %llu, id %llu): variance %.10g, expected %.10g +- %.3g", label, nninit_dtype_name(d),
                 (unsigned long long)seed, (unsigned long long)id, s2, var, tol_var);
    if (!isnan(r.d_ks) && !(r.d_ks <= r.ks_crit))
        fail_msg("%s (%s, seed %llu, id %llu): KS D_n %.5g > critical %.5g (alpha %g)", label, nninit_dtype_name(d),
                 (unsigned long long)seed, (unsigned long long)id, r.d_ks, r.ks_crit, KS_ALPHA);
    return r;
}

static nninit_tensor t1d(int64_t n, nninit_dtype d) {
    const int64_t shape[1] = {n};
    return nninit_tensor_make(1, shape, d);
}

/* 4-D OIHW (250, 160, 5, 5): 10^6 elements, fan_in 4000, fan_out 6250. */
static nninit_tensor t4d(nninit_dtype d) {
    const int64_t shape[4] = {250, 160, 5, 5};
    return nninit_tensor_make(4, shape, d);
}
#define FI4 4000.0
#define FO4 6250.0

/* 2-D (1250, 800): fan_in 800, fan_out 1250. */
static nninit_tensor t2d(nninit_dtype d) { return nninit_tensor_2d(1250, 800, d); }
#define FI2 800.0
#define FO2 1250.0

static const nninit_dtype FLOATS[2] = {NNINIT_F32, NNINIT_F64};

/* ------------------------------------------------------------------------- */
/* Tests                                                                     */
/* ------------------------------------------------------------------------- */

/* The truncated-normal constants, independently of the library. */
static void test_trunc_constants(void **state) {
    (void)state;
    /* Closed form: Var(Z | |Z| <= 2) = 1 - 2*2*phi(2)/(Phi(2) - Phi(-2)). */
    const double phi2 = exp(-2.0) / sqrt(2.0 * 3.14159265358979323846);
    const double v_closed = 1.0 - 4.0 * phi2 / erf(SQRT2);
    const moments m = trunc_moments_simpson(-2.0, 2.0);
    print_message("Var N(0,1) on [-2,2]: closed %.17g simpson %.17g sqrt %.17g\n", v_closed, m.var, sqrt(m.var));
    assert_true(fabs(v_closed - 0.7737413) < 5e-8);
    assert_true(fabs(m.var - v_closed) < 1e-13);
    assert_true(fabs(m.mean) < 1e-15);
    assert_true(fabs(sqrt(v_closed) - 0.87962566103423978) < 1e-15);

    /* Far tail [3, 8]: mean phi(3)/(Q(3) - Q(8)) (closed form). */
    const moments t = trunc_moments_simpson(3.0, 8.0);
    const double mean_closed =
        (exp(-4.5) - exp(-32.0)) / sqrt(2.0 * 3.14159265358979323846) / (Qtail(3.0) - Qtail(8.0));
    print_message("N(0,1) on [3,8]: mean closed %.17g simpson %.17g var %.17g\n", mean_closed, t.mean, t.var);
    assert_true(fabs(t.mean - mean_closed) < 1e-12);

    /* The library's info for the default trunc_normal and for Keras'
     * variance_scaling(truncated_normal), whose variance must be scale/fan:
     * that is what dividing by 0.87962566103423978 is for. */
    nninit_info info;
    nninit_spec s = nninit_spec_default(NNINIT_TRUNC_NORMAL);
    nninit_tensor tt = t1d(10, NNINIT_F64);
    assert_int_equal(nninit_explain(&s, &tt, &info), NNINIT_OK);
    assert_true(fabs(info.variance - v_closed) < 1e-14);
    assert_true(fabs(info.mean) < 1e-15);
    assert_true(info.lo == -2.0 && info.hi == 2.0);

    s = nninit_spec_default(NNINIT_VARIANCE_SCALING); /* scale 1, fan_in, truncated */
    nninit_tensor t4 = t4d(NNINIT_F64);
    assert_int_equal(nninit_explain(&s, &t4, &info), NNINIT_OK);
    print_message("variance_scaling(trunc) info.variance*fan_in = %.17g (1 expected)\n", info.variance * FI4);
    assert_true(rel_close(info.variance, 1.0 / FI4, 1e-14));
    assert_true(rel_close(info.std, sqrt(1.0 / FI4) / 0.87962566103423978, 1e-15));
    assert_true(rel_close(info.hi, 2.0 * info.std, 1e-15) && rel_close(info.lo, -2.0 * info.std, 1e-15));
}

static void test_uniform(void **state) {
    (void)state;
    static const double ab[4][2] = {{0.0, 1.0}, {-3.0, 5.0}, {2.0, 2.5}, {-1e-3, 1e-3}};
    for (int c = 0; c < 4; c++)
        for (int k = 0; k < 2; k++) {
            nninit_spec s = nninit_spec_default(NNINIT_UNIFORM);
            s.a = ab[c][0];
            s.b = ab[c][1];
            char label[80];
            snprintf(label, sizeof label, "uniform(%g, %g)", s.a, s.b);
            nninit_tensor t = t1d(N_STAT, FLOATS[k]);
            double w = s.b - s.a;
            run_case(label, &s, &t, 1000 + (uint64_t)c, 7, w * w / 12.0, 1);
        }
    /* narrow dtypes: moments and support (bounds exactly representable) */
    nninit_spec s = nninit_spec_default(NNINIT_UNIFORM);
    s.a = -3.0;
    s.b = 5.0;
    nninit_tensor t = t1d(N_STAT, NNINIT_BF16);
    run_case("uniform(-3, 5)", &s, &t, 1010, 7, 64.0 / 12.0, 0);
    t = t1d(N_STAT, NNINIT_F16);
    run_case("uniform(-3, 5)", &s, &t, 1011, 7, 64.0 / 12.0, 0);
}

static void test_normal(void **state) {
    (void)state;
    static const double ms[3][2] = {{0.0, 1.0}, {-1.5, 0.25}, {3.0, 10.0}};
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 2; k++) {
            nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
            s.mean = ms[c][0];
            s.std = ms[c][1];
            char label[80];
            snprintf(label, sizeof label, "normal(%g, %g)", s.mean, s.std);
            nninit_tensor t = t1d(N_STAT, FLOATS[k]);
            run_case(label, &s, &t, 2000 + (uint64_t)c, 11, s.std * s.std, 1);
        }
}

/* Narrow dtypes: mean/std of the values converted back, within the
 * statistical tolerance plus the rounding term (run_case), and each value is
 * exactly the f32 value of the same key rounded to nearest even (the f32
 * family shares one stream; docs/RNG.md). */
static void test_normal_narrow(void **state) {
    (void)state;
    static const struct {
        nninit_dtype d;
        double mean, std;
    } cs[4] = {{NNINIT_BF16, 0.5, 2.0}, {NNINIT_BF16, 0.0, 1.0}, {NNINIT_F16, 0.0, 1.0}, {NNINIT_F16, -0.25, 0.03}};
    for (int c = 0; c < 4; c++) {
        nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
        s.mean = cs[c].mean;
        s.std = cs[c].std;
        char label[80];
        snprintf(label, sizeof label, "normal(%g, %g)", s.mean, s.std);
        nninit_tensor t = t1d(N_STAT, cs[c].d);
        run_case(label, &s, &t, 2100 + (uint64_t)c, 11, s.std * s.std, 0);

        uint16_t *h = xmalloc(N_STAT * sizeof(uint16_t));
        float *f = xmalloc(N_STAT * sizeof(float));
        nninit_tensor tf = t1d(N_STAT, NNINIT_F32);
        assert_int_equal(nninit_fill(&s, &t, nninit_key_make(2100 + (uint64_t)c, 11), h), NNINIT_OK);
        assert_int_equal(nninit_fill(&s, &tf, nninit_key_make(2100 + (uint64_t)c, 11), f), NNINIT_OK);
        for (int64_t i = 0; i < N_STAT; i++) {
            uint16_t want = cs[c].d == NNINIT_BF16 ? nninit_f32_to_bf16(f[i]) : nninit_f32_to_f16(f[i]);
            if (h[i] != want)
                fail_msg("%s %s: element %lld is 0x%04x, round(f32 %.9g) = 0x%04x", label, nninit_dtype_name(cs[c].d),
                         (long long)i, h[i], (double)f[i], want);
        }
        free(h);
        free(f);
    }
}

typedef struct {
    double mean, std, a, b;
} tn_case;

static void test_trunc_normal(void **state) {
    (void)state;
    static const tn_case cs[5] = {
        {0.0, 1.0, -2.0, 2.0},  /* PyTorch default */
        {0.5, 2.0, -1.0, 3.0},  /* asymmetric window, z in [-0.75, 1.25] */
        {0.0, 1.0, 0.1, 0.2},   /* narrow window */
        {0.0, 1.0, 3.0, 8.0},   /* far one-sided tail */
        {0.0, 1.0, -8.0, -3.0}, /* its mirror */
    };
    for (int c = 0; c < 5; c++)
        for (int k = 0; k < 2; k++) {
            nninit_spec s = nninit_spec_default(NNINIT_TRUNC_NORMAL);
            s.mean = cs[c].mean;
            s.std = cs[c].std;
            s.a = cs[c].a;
            s.b = cs[c].b;
            char label[80];
            snprintf(label, sizeof label, "trunc_normal(%g, %g, [%g, %g])", s.mean, s.std, s.a, s.b);
            nninit_tensor t = t1d(N_STAT, FLOATS[k]);
            run_case(label, &s, &t, 3000 + (uint64_t)c, 13, NAN, 1);
        }
    /* narrow dtypes: support (bounds not representable) and moments */
    static const struct {
        nninit_dtype d;
        tn_case c;
    } nc[3] = {
        {NNINIT_BF16, {0.0, 1.0, -2.0, 2.0}}, {NNINIT_F16, {0.0, 1.0, 0.1, 0.2}}, {NNINIT_BF16, {0.0, 1.0, 3.0, 8.0}}};
    for (int c = 0; c < 3; c++) {
        nninit_spec s = nninit_spec_default(NNINIT_TRUNC_NORMAL);
        s.mean = nc[c].c.mean;
        s.std = nc[c].c.std;
        s.a = nc[c].c.a;
        s.b = nc[c].c.b;
        char label[80];
        snprintf(label, sizeof label, "trunc_normal(%g, %g, [%g, %g])", s.mean, s.std, s.a, s.b);
        nninit_tensor t = t1d(N_STAT, nc[c].d);
        run_case(label, &s, &t, 3100 + (uint64_t)c, 13, NAN, 0);
    }
}

static void test_trunc_normal_std(void **state) {
    (void)state;
    static const tn_case cs[2] = {{1.0, 0.5, -2.0, 2.0}, {-3.0, 4.0, -0.5, 3.0}};
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < 2; k++) {
            nninit_spec s = nninit_spec_default(NNINIT_TRUNC_NORMAL_STD);
            s.mean = cs[c].mean;
            s.std = cs[c].std;
            s.a = cs[c].a;
            s.b = cs[c].b;
            char label[80];
            snprintf(label, sizeof label, "trunc_normal_std(%g, %g, [%g, %g] sd)", s.mean, s.std, s.a, s.b);
            nninit_tensor t = t1d(N_STAT, FLOATS[k]);
            nninit_info info;
            assert_int_equal(nninit_explain(&s, &t, &info), NNINIT_OK);
            /* the bounds are mean + {a, b} * std */
            assert_true(rel_close(info.lo, s.mean + s.a * s.std, 1e-15));
            assert_true(rel_close(info.hi, s.mean + s.b * s.std, 1e-15));
            moments m = trunc_moments_simpson(s.a, s.b);
            run_case(label, &s, &t, 4000 + (uint64_t)c, 17, s.std * s.std * m.var, 1);
        }
}

static void test_xavier(void **state) {
    (void)state;
    for (int k = 0; k < 2; k++) {
        nninit_spec s = nninit_spec_default(NNINIT_XAVIER_UNIFORM);
        nninit_tensor t = t4d(FLOATS[k]);
        run_case("xavier_uniform(gain 1) 250x160x5x5", &s, &t, 5000, 1, 2.0 / (FI4 + FO4), 0);
        s = nninit_spec_default(NNINIT_XAVIER_NORMAL);
        s.gain = 5.0 / 3.0;
        t = t2d(FLOATS[k]);
        run_case("xavier_normal(gain 5/3) 1250x800", &s, &t, 5001, 1, s.gain * s.gain * 2.0 / (FI2 + FO2), 0);
    }
}

static void test_kaiming(void **state) {
    (void)state;
    for (int k = 0; k < 2; k++) {
        nninit_spec s = nninit_spec_default(NNINIT_KAIMING_UNIFORM); /* leaky_relu(0), fan_in */
        nninit_tensor t = t4d(FLOATS[k]);
        run_case("kaiming_uniform(default) 250x160x5x5", &s, &t, 6000, 1, 2.0 / FI4, 0);
        s = nninit_spec_default(NNINIT_KAIMING_NORMAL);
        s.nonlinearity = NNINIT_NL_RELU;
        s.mode = NNINIT_FAN_OUT;
        run_case("kaiming_normal(relu, fan_out) 250x160x5x5", &s, &t, 6001, 1, 2.0 / FO4, 0);
        s = nninit_spec_default(NNINIT_KAIMING_NORMAL);
        s.slope = 0.2;
        t = t2d(FLOATS[k]);
        run_case("kaiming_normal(leaky 0.2, fan_in) 1250x800", &s, &t, 6002, 1, 2.0 / (1.0 + 0.04) / FI2, 0);
        s = nninit_spec_default(NNINIT_KAIMING_UNIFORM);
        s.nonlinearity = NNINIT_NL_TANH;
        s.mode = NNINIT_FAN_OUT;
        run_case("kaiming_uniform(tanh, fan_out) 1250x800", &s, &t, 6003, 1, 25.0 / 9.0 / FO2, 0);
    }
}

static void test_lecun(void **state) {
    (void)state;
    for (int k = 0; k < 2; k++) {
        nninit_spec s = nninit_spec_default(NNINIT_LECUN_UNIFORM);
        nninit_tensor t = t4d(FLOATS[k]);
        run_case("lecun_uniform 250x160x5x5", &s, &t, 7000, 1, 1.0 / FI4, 0);
        s = nninit_spec_default(NNINIT_LECUN_NORMAL);
        t = t2d(FLOATS[k]);
        run_case("lecun_normal 1250x800", &s, &t, 7001, 1, 1.0 / FI2, 0);
    }
}

static void test_variance_scaling(void **state) {
    (void)state;
    for (int k = 0; k < 2; k++) {
        nninit_tensor t = t4d(FLOATS[k]);
        nninit_spec s = nninit_spec_default(NNINIT_VARIANCE_SCALING);
        s.distribution = NNINIT_DIST_UNIFORM;
        s.mode = NNINIT_FAN_AVG;
        s.scale = 2.0;
        run_case("variance_scaling(uniform, fan_avg, 2)", &s, &t, 8000, 1, 2.0 / (0.5 * (FI4 + FO4)), 0);
        s.distribution = NNINIT_DIST_NORMAL;
        s.mode = NNINIT_FAN_OUT;
        s.scale = 0.5;
        run_case("variance_scaling(normal, fan_out, 0.5)", &s, &t, 8001, 1, 0.5 / FO4, 0);
        s = nninit_spec_default(NNINIT_VARIANCE_SCALING); /* truncated, fan_in, 1 */
        run_case("variance_scaling(trunc, fan_in, 1)", &s, &t, 8002, 1, 1.0 / FI4, 1);
        s.mode = NNINIT_FAN_GEO_AVG;
        s.scale = 3.0;
        t = t2d(FLOATS[k]);
        run_case("variance_scaling(trunc, fan_geo_avg, 3) 2-D", &s, &t, 8003, 1, 3.0 / sqrt(FI2 * FO2), 0);
    }
}

/* Tails of the f32 normal over 2^24 values: max |z| below 6.6604, the cap
 * the library uses (NNINIT_ZMAX_F32) for sqrt(-2 ln 2^-32) = 6.660437 (the
 * smallest u1 is 2^-32; test_normal_cap checks that extreme value itself --
 * it is reached only when a 32-bit word is 0, p = 2^-32 per pair), and the count of
 * |z| > 4.5 within 5 sigma of its binomial expectation n p, p = 2 Q(4.5):
 * sigma = sqrt(n p (1 - p)); n p = 114.0, sigma = 10.7. */
static void test_normal_tail(void **state) {
    (void)state;
    const int64_t n = (int64_t)1 << 24, chunk = (int64_t)1 << 20;
    nninit_spec s = nninit_spec_default(NNINIT_NORMAL);
    nninit_tensor t = t1d(n, NNINIT_F32);
    nninit_key k = nninit_key_make(9000, 3);
    float *buf = xmalloc((size_t)chunk * sizeof(float));
    double maxz = 0.0;
    int64_t imax = -1, over45 = 0;
    for (int64_t b = 0; b < n; b += chunk) {
        assert_int_equal(nninit_fill_range(&s, &t, k, b, b + chunk, buf), NNINIT_OK);
        for (int64_t i = 0; i < chunk; i++) {
            double z = fabs((double)buf[i]);
            if (!(z <= maxz)) {
                maxz = z;
                imax = b + i;
            }
            if (z > 4.5) over45++;
        }
    }
    free(buf);
    const double p = erfc(4.5 / SQRT2), np = (double)n * p, sd = sqrt(np * (1.0 - p));
    print_message(
        "f32 normal, n = 2^24: max |z| %.7f at %lld (cap 6.6604); |z| > 4.5: %lld (expected %.2f +- 5 * %.2f)\n", maxz,
        (long long)imax, (long long)over45, np, sd);
    assert_true(maxz < 6.6604);
    if (!(fabs((double)over45 - np) <= 5.0 * sd))
        fail_msg("|z| > 4.5 count %lld, expected %.2f +- %.2f", (long long)over45, np, 5.0 * sd);
}

/* The extreme Box-Muller output (all-zero words: u1 = smallest value, t = 0)
 * is the documented cap: sqrt(-2 ln 2^-32) for f32, sqrt(-2 ln 2^-53) for f64. */
static void test_normal_cap(void **state) {
    (void)state;
    float z0, z1;
    nninit__box_muller_f32(0u, 0u, &z0, &z1);
    const double cap32 = sqrt(-2.0 * log(0x1p-32)), cap64 = sqrt(-2.0 * log(0x1p-53));
    const uint32_t w[4] = {0, 0, 0, 0};
    double y0, y1;
    nninit__box_muller_f64(w, &y0, &y1);
    print_message("extreme z: f32 %.9g (sqrt(64 ln 2) = %.9g), f64 %.17g (sqrt(106 ln 2) = %.17g)\n", (double)z0, cap32,
                  y0, cap64);
    assert_true(z1 == 0.0f && y1 == 0.0);
    assert_true(fabs((double)z0 - cap32) <= 4.0 * 0x1p-24 * cap32);
    assert_true(fabs(y0 - cap64) <= 8.0 * 0x1p-53 * cap64);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trunc_constants), cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_normal),          cmocka_unit_test(test_normal_narrow),
        cmocka_unit_test(test_trunc_normal),    cmocka_unit_test(test_trunc_normal_std),
        cmocka_unit_test(test_xavier),          cmocka_unit_test(test_kaiming),
        cmocka_unit_test(test_lecun),           cmocka_unit_test(test_variance_scaling),
        cmocka_unit_test(test_normal_tail),     cmocka_unit_test(test_normal_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

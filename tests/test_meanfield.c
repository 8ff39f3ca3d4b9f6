/* test_meanfield.c -- mean-field maps (engine/probe/meanfield.c): the published
 * values of Poole et al. 2016 / Schoenholz et al. 2017, closed forms against
 * the quadrature, the quadrature against Gauss-Hermite built here
 * independently (Golub-Welsch) and against Monte Carlo, derivatives against
 * finite differences, criticality, gradients, and every bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nninit.h"
#include "nninit_meanfield.h"

#define PI 3.14159265358979323846

/* x agrees with ref to 3 significant digits: |x - ref| <= half a unit in
 * ref's third digit. */
static int sig3(double x, double ref) {
    double unit = pow(10.0, floor(log10(fabs(ref))) - 2.0);
    return fabs(x - ref) <= 0.5 * unit;
}

static void assert_close(double x, double ref, double rel, double abs_tol) {
    double tol = fmax(rel * fabs(ref), abs_tol);
    if (!(fabs(x - ref) <= tol)) fail_msg("got %.17g, expected %.17g (tol %.3g)", x, ref, tol);
}

static nninit_mf_net net_of(nninit_mf_act act, double param, double sw2, double sb2) {
    nninit_mf_net n = {act, param, sw2, sb2};
    return n;
}

static double expect(nninit_mf_act act, double param, nninit_mf_moment m, double q11, double q22, double c,
                     unsigned flags) {
    double v = NAN;
    assert_int_equal(nninit_mf_expect(act, param, m, q11, q22, c, flags, &v), NNINIT_OK);
    return v;
}

static double phi(nninit_mf_act act, double param, int d, double x) {
    double f[3];
    assert_int_equal(nninit_mf_phi(act, param, x, &f[0], &f[1], &f[2]), NNINIT_OK);
    return f[d];
}

/* ---- the published values ---------------------------------------------------
 * Schoenholz et al. 2017 (Fig. 1, tanh, sb2 = 0.05): q*, chi_1 to 3 digits.
 * sw2 = 1.76 is their rounded critical point: at sw2 = 1.76 exactly we get
 * q* = 0.56946 (chi_1 = 0.99980), at the exact critical sw2 = 1.7609546 we get
 * q* = 0.57005 and chi_1 = 1 -- the reference's 0.570 is the latter. */
static void test_reference_tanh(void **state) {
    (void)state;
    static const struct {
        double sw2, qstar, chi1;
    } ref[] = {{1.0, 0.194, 0.759}, {1.76, 0.570, 1.000}, {4.0, 2.196, 1.342}};
    for (int i = 0; i < 3; i++) {
        nninit_mf_net n = net_of(NNINIT_MF_TANH, NAN, ref[i].sw2, 0.05);
        nninit_mf_fixed f;
        assert_int_equal(nninit_mf_analyze(&n, 1.0, &f), NNINIT_OK);
        if (ref[i].sw2 == 1.76) assert_true(fabs(f.qstar - ref[i].qstar) < 1e-3); /* "~=": 0.56946 */
        else assert_true(sig3(f.qstar, ref[i].qstar));
        assert_true(sig3(f.chi_1, ref[i].chi1));
    }
    double sw2c;
    assert_int_equal(nninit_mf_critical_sw2(NNINIT_MF_TANH, NAN, 0.05, &sw2c), NNINIT_OK);
    assert_true(sig3(sw2c, 1.76));
    nninit_mf_net n = net_of(NNINIT_MF_TANH, NAN, sw2c, 0.05);
    nninit_mf_fixed f;
    assert_int_equal(nninit_mf_analyze(&n, 1.0, &f), NNINIT_OK);
    assert_true(sig3(f.qstar, 0.570));
    assert_close(f.chi_1, 1.0, 1e-10, 0);

    /* Known answers of this implementation (15 digits; docs/MEANFIELD.md). A
     * change here is a change of numerics and must be deliberate. */
    static const struct {
        double sw2, qstar, chi1, chiq, cstar, xi_c;
    } kat[] = {{1.0, 0.193592520245297, 0.759031647185394, 0.564279982046774, 1.0, 3.62697561805297},
               {1.76, 0.569462839851776, 0.999796424203735, 0.518314952314759, 1.0, 4911.67529242394},
               {4.0, 2.19549392803449, 1.34240241444519, 0.31819509940455, 0.16506496202231, 6.98027353297697}};
    for (int i = 0; i < 3; i++) {
        n = net_of(NNINIT_MF_TANH, NAN, kat[i].sw2, 0.05);
        assert_int_equal(nninit_mf_analyze(&n, 1.0, &f), NNINIT_OK);
        assert_close(f.qstar, kat[i].qstar, 1e-12, 0);
        assert_close(f.chi_1, kat[i].chi1, 1e-12, 0);
        assert_close(f.chi_q, kat[i].chiq, 1e-12, 0);
        assert_close(f.cstar, kat[i].cstar, 1e-11, 0);
        assert_close(f.xi_c, kat[i].xi_c, 1e-7, 0); /* 1/(1 - chi): amplified */
    }
}

/* ReLU, He (sw2 = 2, sb2 = 0), orthogonal inputs: c^1 = 1/pi = 0.318 and
 * c^5 = 0.736 (arc-cosine kernel iterated). */
static void test_reference_relu(void **state) {
    (void)state;
    nninit_mf_net n = net_of(NNINIT_MF_RELU, NAN, 2.0, 0.0);
    double c[6];
    assert_int_equal(nninit_mf_c_sequence(&n, 1.0, 1.0, 0.0, 5, c), NNINIT_OK);
    assert_true(c[0] == 0.0);
    assert_true(sig3(c[1], 0.318));
    assert_true(sig3(c[5], 0.736));
    assert_close(c[1], 1.0 / PI, 1e-15, 0);
    /* the same through the quadrature: c map by hand with forced quadrature */
    double cc = 0.0;
    for (int l = 1; l <= 5; l++) {
        double e = expect(NNINIT_MF_RELU, NAN, NNINIT_MF_PHI_PHI, 1.0, 1.0, cc, NNINIT_MF_QUADRATURE);
        cc = 2.0 * e; /* q' = q = 1 */
        assert_close(cc, c[l], 1e-13, 0);
    }
}

/* ---- closed forms against the quadrature ------------------------------------ */
static void test_closed_vs_quadrature(void **state) {
    (void)state;
    static const struct {
        nninit_mf_act act;
        double param;
    } acts[] = {{NNINIT_MF_ERF, 0.5},     {NNINIT_MF_ERF, 1.0},        {NNINIT_MF_ERF, 3.0},
                {NNINIT_MF_RELU, NAN},    {NNINIT_MF_LEAKY_RELU, 0.2}, {NNINIT_MF_LEAKY_RELU, -0.3},
                {NNINIT_MF_IDENTITY, NAN}};
    static const double qs[][2] = {{1e-3, 0.5}, {2.0, 2.0}, {50.0, 0.5}, {0.5, 0.5}, {1e4, 3.0}};
    static const double cs[] = {-1.0, -0.7, 0.0, 0.6, 0.999, 1.0 - 1e-9, 1.0};
    double worst = 0;
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
        for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
            for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++)
                for (int m = 0; m < 3; m++) {
                    double q11 = qs[i][0], q22 = m == 2 ? q11 : qs[i][1];
                    double cl = expect(acts[a].act, acts[a].param, (nninit_mf_moment)m, q11, q22, cs[k], 0);
                    double qu =
                        expect(acts[a].act, acts[a].param, (nninit_mf_moment)m, q11, q22, cs[k], NNINIT_MF_QUADRATURE);
                    /* scale: phi ~ sqrt(q) piecewise-linear, 1 for erf; phi' ~ 1 (a for erf) */
                    double sc = acts[a].act == NNINIT_MF_ERF ? (m == 0 ? 1.0 : acts[a].param * acts[a].param)
                                                             : (m == 0 ? sqrt(q11 * q22) : 1.0);
                    double e = fabs(cl - qu) / sc;
                    if (e > worst) worst = e;
                    if (e > 1e-12)
                        fail_msg("act %d param %g m %d q %g %g c %.12g: closed %.17g quad %.17g", (int)acts[a].act,
                                 acts[a].param, m, q11, q22, cs[k], cl, qu);
                }
    print_message("closed forms vs quadrature: worst scaled difference %.2e\n", worst);
}

/* ELU/SELU 1-D moments in closed form (written here, not in the library):
 * with u ~ N(0, q), s = sqrt(q), E[e^{tu} 1{u<0}] = e^{t^2 q/2} Phi(-t s). */
static double Phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

static void test_elu_closed_forms(void **state) {
    (void)state;
    static const double qs[] = {0.01, 0.3, 1.0, 4.0, 9.0};
    for (int which = 0; which < 3; which++) {
        double lam = which == 2 ? 1.0507009873554804934193349852946 : 1.0;
        double al = which == 0 ? 1.0 : which == 1 ? 0.5 : 1.6732632423543772848170429916717;
        nninit_mf_act act = which == 2 ? NNINIT_MF_SELU : NNINIT_MF_ELU;
        double param = which == 1 ? 0.5 : NAN;
        for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
            double q = qs[i], s = sqrt(q);
            double e2 = exp(2 * q) * Phi(-2 * s), e1 = exp(q / 2) * Phi(-s);
            double pp = lam * lam * (q / 2 + al * al * (e2 - 2 * e1 + 0.5));
            double dd = lam * lam * (0.5 + al * al * e2);
            double pdd = lam * lam * al * al * (e2 - e1);
            assert_close(expect(act, param, NNINIT_MF_PHI_PHI, q, q, 1.0, 0), pp, 1e-13, 0);
            assert_close(expect(act, param, NNINIT_MF_DPHI_DPHI, q, q, 1.0, 0), dd, 1e-13, 0);
            assert_close(expect(act, param, NNINIT_MF_PHI_D2PHI, q, q, 1.0, 0), pdd, 1e-12, 0);
        }
    }
    /* SELU's self-normalizing fixed point: sw2 = 1 (LeCun), sb2 = 0 -> q* = 1
     * (Klambauer et al. 2017), chi_1 = 1.0716 */
    nninit_mf_net n = net_of(NNINIT_MF_SELU, NAN, 1.0, 0.0);
    double qs1, chi1;
    assert_int_equal(nninit_mf_qstar(&n, 0.3, &qs1, NULL), NNINIT_OK);
    assert_close(qs1, 1.0, 1e-6, 0);
    assert_int_equal(nninit_mf_chi1(&n, qs1, &chi1), NNINIT_OK);
    assert_true(sig3(chi1, 1.07));
}

/* ---- Gauss-Hermite built here: Golub-Welsch eigenvalues of the Jacobi matrix
 * of the probabilists' Hermite polynomials (off-diagonal sqrt(k)), polished by
 * Newton on the orthonormal recurrence; w = 1 / (n p_{n-1}(x)^2). */
static void gauss_hermite(int n, double *x, double *w) {
    double *e = malloc(sizeof(double) * (size_t)n);
    assert_non_null(e);
    for (int i = 0; i < n; i++) {
        x[i] = 0.0;
        e[i] = i < n - 1 ? sqrt(i + 1.0) : 0.0;
    }
    assert_int_equal(LAPACKE_dstev(LAPACK_COL_MAJOR, 'N', n, x, e, NULL, 1), 0);
    free(e);
    for (int i = 0; i < n; i++) {
        double xi = x[i], pm = 0;
        for (int it = 0; it < 4; it++) {
            double p0 = 0, p1 = 1;
            for (int k = 0; k < n; k++) {
                double p2 = (xi * p1 - sqrt((double)k) * p0) / sqrt(k + 1.0);
                p0 = p1;
                p1 = p2;
            }
            pm = p0;
            if (it < 3) xi -= p1 / (sqrt((double)n) * p0);
        }
        double p0 = 0, p1 = 1;
        for (int k = 0; k < n - 1; k++) {
            double p2 = (xi * p1 - sqrt((double)k) * p0) / sqrt(k + 1.0);
            p0 = p1;
            p1 = p2;
        }
        (void)pm;
        x[i] = xi;
        w[i] = 1.0 / (n * p1 * p1);
    }
}

static void test_gauss_hermite_crosscheck(void **state) {
    (void)state;
    enum {
        N = 400,
        N2 = 120
    };
    static double x[N], w[N], x2[N2], w2[N2];
    gauss_hermite(N, x, w);
    gauss_hermite(N2, x2, w2);
    double sw = 0, m4 = 0;
    for (int i = 0; i < N; i++) {
        sw += w[i];
        m4 += w[i] * x[i] * x[i] * x[i] * x[i];
    }
    assert_close(sw, 1.0, 1e-14, 0);
    assert_close(m4, 3.0, 1e-13, 0);
    /* Smooth activations, q small enough for Gauss-Hermite to converge: its
     * error decays only like exp(-k sqrt(n / q)) (tanh's poles at i pi/2);
     * at q = 2 the 200-node rule is off by 3e-12 in E[tanh'^2], 400 nodes are
     * not. */
    static const nninit_mf_act smooth[] = {NNINIT_MF_SIGMOID, NNINIT_MF_TANH, NNINIT_MF_GELU, NNINIT_MF_SOFTPLUS,
                                           NNINIT_MF_ERF};
    static const double qs[] = {0.05, 0.5, 1.0, 2.0};
    for (size_t a = 0; a < 5; a++)
        for (size_t i = 0; i < 4; i++) {
            double q = qs[i], s = sqrt(q), pp = 0, dd = 0, pdd = 0;
            for (int k = 0; k < N; k++) {
                double f = phi(smooth[a], NAN, 0, s * x[k]), d1 = phi(smooth[a], NAN, 1, s * x[k]);
                pp += w[k] * f * f;
                dd += w[k] * d1 * d1;
                pdd += w[k] * f * phi(smooth[a], NAN, 2, s * x[k]);
            }
            unsigned fl = NNINIT_MF_QUADRATURE;
            assert_close(expect(smooth[a], NAN, NNINIT_MF_PHI_PHI, q, q, 1, fl), pp, 1e-12, 1e-15);
            assert_close(expect(smooth[a], NAN, NNINIT_MF_DPHI_DPHI, q, q, 1, fl), dd, 1e-12, 1e-15);
            assert_close(expect(smooth[a], NAN, NNINIT_MF_PHI_D2PHI, q, q, 1, fl), pdd, 1e-11, 1e-14);
        }
    /* 2-D product rule: tanh and gelu, q11 = 1, q22 = 0.7 */
    static const double cs[] = {-0.8, 0.0, 0.5, 0.95};
    for (int a = 0; a < 2; a++) {
        nninit_mf_act act = a ? NNINIT_MF_GELU : NNINIT_MF_TANH;
        for (int k = 0; k < 4; k++) {
            double c = cs[k], s = sqrt(1 - c * c), pp = 0, dd = 0;
            for (int i = 0; i < N2; i++)
                for (int j = 0; j < N2; j++) {
                    double u1 = x2[i], u2 = sqrt(0.7) * (c * x2[i] + s * x2[j]);
                    pp += w2[i] * w2[j] * phi(act, NAN, 0, u1) * phi(act, NAN, 0, u2);
                    dd += w2[i] * w2[j] * phi(act, NAN, 1, u1) * phi(act, NAN, 1, u2);
                }
            assert_close(expect(act, NAN, NNINIT_MF_PHI_PHI, 1.0, 0.7, c, 0), pp, 1e-11, 1e-14);
            assert_close(expect(act, NAN, NNINIT_MF_DPHI_DPHI, 1.0, 0.7, c, 0), dd, 1e-11, 1e-14);
        }
    }
}

/* ---- Monte Carlo ------------------------------------------------------------
 * 10^6 pairs from a 64-bit LCG (Knuth's MMIX constants) through Box-Muller,
 * fixed seed; every estimate within 5 standard errors. */
static uint64_t lcg_state;
static double lcg_uniform(void) { /* (0, 1) */
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return ((double)(lcg_state >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

enum {
    MC_N = 1000000
};

typedef struct {
    nninit_mf_act act;
    nninit_mf_moment m;
    double q11, q22, c;
} mc_case;

static void test_monte_carlo(void **state) {
    (void)state;
    static const mc_case cases[] = {
        {NNINIT_MF_TANH, NNINIT_MF_PHI_PHI, 1.3, 1.3, 1.0},
        {NNINIT_MF_SELU, NNINIT_MF_PHI_PHI, 0.8, 0.8, 1.0},
        {NNINIT_MF_GELU, NNINIT_MF_PHI_PHI, 2.0, 2.0, 1.0},
        {NNINIT_MF_ELU, NNINIT_MF_PHI_PHI, 3.0, 3.0, 1.0},
        {NNINIT_MF_SIGMOID, NNINIT_MF_PHI_PHI, 25.0, 25.0, 1.0},
        {NNINIT_MF_SOFTPLUS, NNINIT_MF_DPHI_DPHI, 0.7, 0.7, 1.0},
        {NNINIT_MF_SELU, NNINIT_MF_DPHI_DPHI, 0.8, 0.8, 1.0},
        {NNINIT_MF_TANH, NNINIT_MF_PHI_PHI, 1.0, 2.0, 0.4},
        {NNINIT_MF_SELU, NNINIT_MF_PHI_PHI, 0.6, 1.5, -0.3},
        {NNINIT_MF_ELU, NNINIT_MF_DPHI_DPHI, 1.0, 1.0, 0.9},
        {NNINIT_MF_RELU, NNINIT_MF_PHI_PHI, 1.0, 4.0, 0.2},
        {NNINIT_MF_TANH, NNINIT_MF_PHI_D2PHI, 0.9, 0.9, 1.0},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const mc_case *k = &cases[t];
        int da = k->m == NNINIT_MF_DPHI_DPHI ? 1 : 0;
        int db = k->m == NNINIT_MF_PHI_PHI ? 0 : k->m == NNINIT_MF_DPHI_DPHI ? 1 : 2;
        double s = sqrt(1 - k->c * k->c), sum = 0, sum2 = 0;
        lcg_state = 0x5eed0000u + t;
        for (int i = 0; i < MC_N; i++) {
            double r = sqrt(-2.0 * log(lcg_uniform())), th = 2.0 * PI * lcg_uniform();
            double z1 = r * cos(th), z2 = r * sin(th);
            double u1 = sqrt(k->q11) * z1, u2 = sqrt(k->q22) * (k->c * z1 + s * z2);
            if (k->m == NNINIT_MF_PHI_D2PHI) u2 = u1;
            double v = phi(k->act, NAN, da, u1) * phi(k->act, NAN, db, u2);
            sum += v;
            sum2 += v * v;
        }
        double mean = sum / MC_N, se = sqrt((sum2 / MC_N - mean * mean) / (MC_N - 1));
        double e = expect(k->act, NAN, k->m, k->q11, k->q22, k->c, 0);
        if (!(fabs(e - mean) <= 5 * se))
            fail_msg("case %zu: quadrature %.10g, Monte Carlo %.10g +- %.2g", t, e, mean, se);
    }
}

/* ---- exact criticality and depth scales --------------------------------------- */
static void test_relu_he_critical(void **state) {
    (void)state;
    nninit_mf_net n = net_of(NNINIT_MF_RELU, NAN, 2.0, 0.0);
    double chi1, q;
    int it;
    assert_int_equal(nninit_mf_chi1(&n, 0.37, &chi1), NNINIT_OK);
    assert_true(chi1 == 1.0);
    assert_int_equal(nninit_mf_qstar(&n, 1.7, &q, &it), NNINIT_OK);
    assert_true(q == 1.7); /* every q is a fixed point */
    nninit_mf_fixed f;
    assert_int_equal(nninit_mf_analyze(&n, 1.0, &f), NNINIT_OK);
    assert_true(f.chi_1 == 1.0 && f.chi_q == 1.0 && f.cstar == 1.0 && f.chi_c == 1.0);
    assert_true(isinf(f.xi_q) && isinf(f.xi_c));
    double xq, xc;
    assert_int_equal(nninit_mf_depth_scales(&n, 1.0, &xq, &xc), NNINIT_OK);
    assert_true(isinf(xq) && isinf(xc));
    /* leaky relu with its Kaiming gain sw2 = 2/(1+s^2): critical too */
    n = net_of(NNINIT_MF_LEAKY_RELU, 0.2, 2.0 / 1.04, 0.0);
    assert_int_equal(nninit_mf_chi1(&n, 2.0, &chi1), NNINIT_OK);
    assert_close(chi1, 1.0, 1e-15, 0);
    /* critical sw2 of exactly critical families */
    double sw2;
    assert_int_equal(nninit_mf_critical_sw2(NNINIT_MF_RELU, NAN, 0.0, &sw2), NNINIT_OK);
    assert_close(sw2, 2.0, 1e-10, 0);
    assert_int_equal(nninit_mf_critical_sw2(NNINIT_MF_IDENTITY, NAN, 0.0, &sw2), NNINIT_OK);
    assert_close(sw2, 1.0, 1e-10, 0);
    assert_int_equal(nninit_mf_critical_sw2(NNINIT_MF_ERF, NAN, 0.0, &sw2), NNINIT_OK);
    /* chi_1(q* = 0) = sw2 * 4/pi. For odd phi at sb2 = 0, chi_1(q*(sw2)) - 1 is
     * of second order in sw2 - sw2c, so the bisection only resolves ~sqrt(eps)
     * relative: 1e-8 for erf, 1e-5 for tanh. */
    assert_close(sw2, PI / 4, 1e-6, 0);
    assert_int_equal(nninit_mf_critical_sw2(NNINIT_MF_TANH, NAN, 0.0, &sw2), NNINIT_OK);
    assert_close(sw2, 1.0, 1e-4, 0);
}

static void test_depth_scales(void **state) {
    (void)state;
    double sw2c, xq, xc;
    assert_int_equal(nninit_mf_critical_sw2(NNINIT_MF_TANH, NAN, 0.05, &sw2c), NNINIT_OK);
    /* finite off criticality */
    static const double sws[] = {1.0, 4.0};
    for (int i = 0; i < 2; i++) {
        nninit_mf_net n = net_of(NNINIT_MF_TANH, NAN, sws[i], 0.05);
        assert_int_equal(nninit_mf_depth_scales(&n, 1.0, &xq, &xc), NNINIT_OK);
        assert_true(isfinite(xq) && isfinite(xc) && xc > 0 && xc < 10);
    }
    /* diverges at criticality like 1/|sw2 - sw2c|, from both sides */
    for (int side = -1; side <= 1; side += 2) {
        double prev = 0;
        for (int k = 1; k <= 4; k++) {
            nninit_mf_net n = net_of(NNINIT_MF_TANH, NAN, sw2c * (1 + side * pow(10, -k)), 0.05);
            assert_int_equal(nninit_mf_depth_scales(&n, 1.0, &xq, &xc), NNINIT_OK);
            assert_true(isfinite(xc));
            if (k > 1) assert_true(xc / prev > 8 && xc / prev < 12);
            prev = xc;
        }
        assert_true(prev > 2e4);
    }
    nninit_mf_net n = net_of(NNINIT_MF_TANH, NAN, sw2c, 0.05);
    assert_int_equal(nninit_mf_depth_scales(&n, 1.0, &xq, &xc), NNINIT_OK);
    assert_true(xc > 1e9);     /* infinite, or chi_1 a rounding away from 1 */
    assert_true(isfinite(xq)); /* xi_q stays finite at the edge of chaos */
}

/* ---- derivatives --------------------------------------------------------------- */
static void test_derivatives(void **state) {
    (void)state;
    /* phi', phi'' against central differences, away from kinks */
    for (int a = 0; a < NNINIT_MF_ACT_COUNT; a++)
        for (double x = -2.3; x < 2.5; x += 0.7) {
            double h = 1e-5;
            double d1 = (phi(a, NAN, 0, x + h) - phi(a, NAN, 0, x - h)) / (2 * h);
            double d2 = (phi(a, NAN, 1, x + h) - phi(a, NAN, 1, x - h)) / (2 * h);
            assert_close(phi(a, NAN, 1, x), d1, 1e-8, 1e-9);
            assert_close(phi(a, NAN, 2, x), d2, 1e-8, 1e-9);
        }
    /* chi_q is dq'/dq; chi_c is dc'/dc at q* */
    static const nninit_mf_act acts[] = {NNINIT_MF_SIGMOID, NNINIT_MF_TANH,     NNINIT_MF_ELU, NNINIT_MF_SELU,
                                         NNINIT_MF_GELU,    NNINIT_MF_SOFTPLUS, NNINIT_MF_ERF, NNINIT_MF_LEAKY_RELU};
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
        nninit_mf_net n = net_of(acts[a], NAN, 1.3, 0.1);
        double q = 0.9, h = 1e-5, qp, qm, chiq;
        assert_int_equal(nninit_mf_q_map(&n, q + h, &qp), NNINIT_OK);
        assert_int_equal(nninit_mf_q_map(&n, q - h, &qm), NNINIT_OK);
        assert_int_equal(nninit_mf_chi_q(&n, q, &chiq), NNINIT_OK);
        assert_close(chiq, (qp - qm) / (2 * h), 1e-7, 0);

        double qs, cp, cm, chic, c = 0.5;
        assert_int_equal(nninit_mf_qstar(&n, 1.0, &qs, NULL), NNINIT_OK);
        assert_int_equal(nninit_mf_c_map(&n, qs, qs, c + h, &cp), NNINIT_OK);
        assert_int_equal(nninit_mf_c_map(&n, qs, qs, c - h, &cm), NNINIT_OK);
        assert_int_equal(nninit_mf_chi_c(&n, qs, c, &chic), NNINIT_OK);
        assert_close(chic, (cp - cm) / (2 * h), 1e-7, 0);
    }
}

/* ---- fixed points ------------------------------------------------------------ */
static void test_fixed_points(void **state) {
    (void)state;
    double q, c;
    int it = -1;
    /* identity: q* = sb2 / (1 - sw2) */
    nninit_mf_net n = net_of(NNINIT_MF_IDENTITY, NAN, 0.5, 0.3);
    assert_int_equal(nninit_mf_qstar(&n, 10.0, &q, &it), NNINIT_OK);
    assert_close(q, 0.6, 1e-15, 0);
    assert_true(it > 0);
    /* q* from below and from above agree; q0 = 0 works */
    n = net_of(NNINIT_MF_TANH, NAN, 1.5, 0.2);
    double qa, qb, qc;
    assert_int_equal(nninit_mf_qstar(&n, 1e-3, &qa, NULL), NNINIT_OK);
    assert_int_equal(nninit_mf_qstar(&n, 50.0, &qb, NULL), NNINIT_OK);
    assert_int_equal(nninit_mf_qstar(&n, 0.0, &qc, NULL), NNINIT_OK);
    assert_close(qa, qb, 1e-15, 0);
    assert_close(qa, qc, 1e-15, 0);
    double fq;
    assert_int_equal(nninit_mf_q_map(&n, qa, &fq), NNINIT_OK);
    assert_close(fq, qa, 1e-15, 0);
    /* and the q sequence converges to it */
    double seq[61];
    assert_int_equal(nninit_mf_q_sequence(&n, 5.0, 60, seq), NNINIT_OK);
    assert_true(seq[0] == 5.0);
    assert_close(seq[60], qa, 1e-12, 0);
    /* signals die: tanh, sb2 = 0, sw2 < 1 -> q* = 0, c map undefined */
    n = net_of(NNINIT_MF_TANH, NAN, 0.8, 0.0);
    assert_int_equal(nninit_mf_qstar(&n, 1.0, &q, NULL), NNINIT_OK);
    assert_true(q == 0.0);
    nninit_mf_fixed f;
    assert_int_equal(nninit_mf_analyze(&n, 1.0, &f), NNINIT_OK);
    assert_true(f.qstar == 0.0 && isnan(f.cstar) && isnan(f.xi_c));
    assert_close(f.chi_1, 0.8, 1e-15, 0);
    /* no finite fixed point */
    n = net_of(NNINIT_MF_RELU, NAN, 3.0, 0.0);
    assert_int_equal(nninit_mf_qstar(&n, 1.0, &q, NULL), NNINIT_ERR_PARAM);
    assert_non_null(strstr(nninit_last_error(), "without bound"));
    n = net_of(NNINIT_MF_RELU, NAN, 2.0, 0.05); /* q' = q + 0.05 */
    assert_int_equal(nninit_mf_qstar(&n, 1.0, &q, NULL), NNINIT_ERR_PARAM);
    /* chaotic: c* < 1 is a fixed point of the c map, and the c sequence goes there */
    n = net_of(NNINIT_MF_TANH, NAN, 4.0, 0.05);
    assert_int_equal(nninit_mf_analyze(&n, 1.0, &f), NNINIT_OK);
    assert_true(f.cstar > 0.1 && f.cstar < 0.2);
    assert_int_equal(nninit_mf_c_map(&n, f.qstar, f.qstar, f.cstar, &c), NNINIT_OK);
    assert_close(c, f.cstar, 1e-12, 0);
    double cseq[151];
    assert_int_equal(nninit_mf_c_sequence(&n, 1.0, 1.0, 0.9, 150, cseq), NNINIT_OK);
    assert_close(cseq[150], f.cstar, 1e-7, 0);
    /* odd phi, sb2 = 0, chaotic: c* = 0 */
    n = net_of(NNINIT_MF_TANH, NAN, 2.0, 0.0);
    assert_int_equal(nninit_mf_analyze(&n, 1.0, &f), NNINIT_OK);
    assert_true(fabs(f.cstar) < 1e-12);
    /* ordered: c* = 1 */
    n = net_of(NNINIT_MF_TANH, NAN, 1.0, 0.05);
    assert_int_equal(nninit_mf_cstar(&n, 0.2, &c), NNINIT_OK);
    assert_true(c == 1.0);
    /* unequal input norms: c_sequence is the c map chained with both q sequences */
    n = net_of(NNINIT_MF_SELU, NAN, 1.0, 0.0);
    double cs2[4], q1[4], q2[4];
    assert_int_equal(nninit_mf_c_sequence(&n, 0.5, 2.0, 0.3, 3, cs2), NNINIT_OK);
    assert_int_equal(nninit_mf_q_sequence(&n, 0.5, 3, q1), NNINIT_OK);
    assert_int_equal(nninit_mf_q_sequence(&n, 2.0, 3, q2), NNINIT_OK);
    for (int l = 1; l <= 3; l++) {
        assert_int_equal(nninit_mf_c_map(&n, q1[l - 1], q2[l - 1], cs2[l - 1], &c), NNINIT_OK);
        assert_close(cs2[l], c, 1e-15, 0);
    }
}

/* The q map increases with q for every activation (what qstar relies on). */
static void test_q_map_increasing(void **state) {
    (void)state;
    for (int a = 0; a < NNINIT_MF_ACT_COUNT; a++) {
        nninit_mf_net n = net_of(a, NAN, 1.0, 0.0);
        double prev = -1;
        for (double q = 1e-4; q < 1e4; q *= 1.5) {
            double v;
            assert_int_equal(nninit_mf_q_map(&n, q, &v), NNINIT_OK);
            assert_true(v > prev);
            prev = v;
        }
    }
}

/* ---- gradients ------------------------------------------------------------------ */
static void test_gradients(void **state) {
    (void)state;
    enum {
        L = 12
    };
    double out[L + 1];
    /* relu He: gradients keep their variance */
    nninit_mf_net n = net_of(NNINIT_MF_RELU, NAN, 2.0, 0.0);
    assert_int_equal(nninit_mf_grad_variance(&n, 1.0, L, NULL, 3.0, out), NNINIT_OK);
    for (int l = 0; l <= L; l++) assert_true(out[l] == 3.0);
    /* tanh from q*: a factor chi_1 per layer */
    n = net_of(NNINIT_MF_TANH, NAN, 1.0, 0.05);
    nninit_mf_fixed f;
    assert_int_equal(nninit_mf_analyze(&n, 1.0, &f), NNINIT_OK);
    assert_int_equal(nninit_mf_grad_variance(&n, f.qstar, L, NULL, 1.0, out), NNINIT_OK);
    for (int l = 0; l <= L; l++) assert_close(out[l], pow(f.chi_1, L - l), 1e-12, 0);
    double r;
    assert_int_equal(nninit_mf_grad_ratio(&n, f.qstar, 1.0, &r), NNINIT_OK);
    assert_close(r, f.chi_1, 1e-15, 0);
    assert_int_equal(nninit_mf_grad_ratio(&n, f.qstar, 2.0, &r), NNINIT_OK);
    assert_close(r, 2 * f.chi_1, 1e-15, 0);
    /* away from q*: per-layer q^l, and width ratios N_{l+1}/N_l */
    int64_t widths[L + 1];
    for (int l = 0; l <= L; l++) widths[l] = 64 << (l % 3);
    double q[L + 1];
    assert_int_equal(nninit_mf_q_sequence(&n, 3.0, L, q), NNINIT_OK);
    assert_int_equal(nninit_mf_grad_variance(&n, 3.0, L, widths, 0.5, out), NNINIT_OK);
    double v = 0.5;
    assert_true(out[L] == 0.5);
    for (int l = L - 1; l >= 0; l--) {
        double c1;
        assert_int_equal(nninit_mf_chi1(&n, q[l], &c1), NNINIT_OK);
        v *= c1 * (double)widths[l + 1] / (double)widths[l];
        assert_close(out[l], v, 1e-13, 0);
    }
}

/* ---- names and errors ------------------------------------------------------------ */
static void test_names(void **state) {
    (void)state;
    for (int a = 0; a < NNINIT_MF_ACT_COUNT; a++) {
        nninit_mf_act p;
        assert_int_equal(nninit_mf_act_parse(nninit_mf_act_name(a), &p), NNINIT_OK);
        assert_int_equal(p, a);
    }
    nninit_mf_act p = NNINIT_MF_TANH;
    assert_int_equal(nninit_mf_act_parse("linear", &p), NNINIT_OK);
    assert_int_equal(p, NNINIT_MF_IDENTITY);
    assert_int_equal(nninit_mf_act_parse("swish", &p), NNINIT_ERR_NONLINEARITY);
    assert_int_equal(nninit_mf_act_parse(NULL, &p), NNINIT_ERR_NULL);
    assert_string_equal(nninit_mf_act_name(NNINIT_MF_ACT_COUNT), "unknown");
    assert_string_equal(nninit_mf_act_name(NNINIT_MF_LEAKY_RELU), "leaky_relu");
}

#define EXPECT_ERR(call, status)                                                                                       \
    do {                                                                                                               \
        assert_int_equal((call), (status));                                                                            \
        assert_true(strlen(nninit_last_error()) > 0);                                                                  \
    } while (0)

static void test_errors(void **state) {
    (void)state;
    const double SENT = 12345.0;
    double o = SENT, o2 = SENT, arr[4] = {SENT, SENT, SENT, SENT};
    int it = -7;
    nninit_mf_net good = net_of(NNINIT_MF_TANH, NAN, 1.0, 0.05);
    nninit_mf_net bad_act = net_of(NNINIT_MF_ACT_COUNT, NAN, 1.0, 0.05);
    nninit_mf_net neg_act = net_of((nninit_mf_act)-1, NAN, 1.0, 0.05);
    nninit_mf_net bad_sw[] = {net_of(NNINIT_MF_TANH, NAN, 0.0, 0.05),
                              net_of(NNINIT_MF_TANH, NAN, -1.0, 0.05),
                              net_of(NNINIT_MF_TANH, NAN, NAN, 0.05),
                              net_of(NNINIT_MF_TANH, NAN, INFINITY, 0.05),
                              net_of(NNINIT_MF_TANH, NAN, 1.0, -0.1),
                              net_of(NNINIT_MF_TANH, NAN, 1.0, NAN),
                              net_of(NNINIT_MF_LEAKY_RELU, INFINITY, 1.0, 0.0),
                              net_of(NNINIT_MF_ELU, -INFINITY, 1.0, 0.0),
                              net_of(NNINIT_MF_ERF, 0.0, 1.0, 0.0),
                              net_of(NNINIT_MF_ERF, -2.0, 1.0, 0.0)};

    /* NULLs */
    EXPECT_ERR(nninit_mf_q_map(NULL, 1.0, &o), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_q_map(&good, 1.0, NULL), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_q_sequence(&good, 1.0, 3, NULL), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_qstar(&good, 1.0, NULL, &it), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_chi1(&good, 1.0, NULL), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_chi_q(&good, 1.0, NULL), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_c_map(&good, 1.0, 1.0, 0.5, NULL), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_c_sequence(&good, 1.0, 1.0, 0.5, 3, NULL), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_cstar(&good, 1.0, NULL), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_chi_c(&good, 1.0, 0.5, NULL), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_analyze(&good, 1.0, NULL), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_depth_scales(&good, 1.0, &o, NULL), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_depth_scales(&good, 1.0, NULL, &o), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_critical_sw2(NNINIT_MF_TANH, NAN, 0.05, NULL), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_grad_ratio(&good, 1.0, 1.0, NULL), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_grad_variance(&good, 1.0, 3, NULL, 1.0, NULL), NNINIT_ERR_NULL);
    EXPECT_ERR(nninit_mf_expect(NNINIT_MF_TANH, NAN, NNINIT_MF_PHI_PHI, 1, 1, 0, 0, NULL), NNINIT_ERR_NULL);

    /* activation out of range */
    EXPECT_ERR(nninit_mf_q_map(&bad_act, 1.0, &o), NNINIT_ERR_NONLINEARITY);
    EXPECT_ERR(nninit_mf_q_map(&neg_act, 1.0, &o), NNINIT_ERR_NONLINEARITY);
    EXPECT_ERR(nninit_mf_phi(NNINIT_MF_ACT_COUNT, NAN, 0.0, &o, NULL, NULL), NNINIT_ERR_NONLINEARITY);
    EXPECT_ERR(nninit_mf_critical_sw2(NNINIT_MF_ACT_COUNT, NAN, 0.0, &o), NNINIT_ERR_NONLINEARITY);
    EXPECT_ERR(nninit_mf_expect(NNINIT_MF_ACT_COUNT, NAN, NNINIT_MF_PHI_PHI, 1, 1, 0, 0, &o), NNINIT_ERR_NONLINEARITY);

    /* bad sw2, sb2, param: every entry point */
    for (size_t i = 0; i < sizeof bad_sw / sizeof bad_sw[0]; i++) {
        const nninit_mf_net *b = &bad_sw[i];
        EXPECT_ERR(nninit_mf_q_map(b, 1.0, &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_q_sequence(b, 1.0, 3, arr), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_qstar(b, 1.0, &o, &it), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_chi1(b, 1.0, &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_chi_q(b, 1.0, &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_c_map(b, 1.0, 1.0, 0.5, &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_c_sequence(b, 1.0, 1.0, 0.5, 3, arr), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_cstar(b, 1.0, &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_chi_c(b, 1.0, 0.5, &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_depth_scales(b, 1.0, &o, &o2), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_grad_ratio(b, 1.0, 1.0, &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_grad_variance(b, 1.0, 3, NULL, 1.0, arr), NNINIT_ERR_PARAM);
    }
    EXPECT_ERR(nninit_mf_phi(NNINIT_MF_ERF, -1.0, 0.0, &o, NULL, NULL), NNINIT_ERR_PARAM);
    EXPECT_ERR(nninit_mf_phi(NNINIT_MF_TANH, NAN, NAN, &o, NULL, NULL), NNINIT_ERR_PARAM);
    EXPECT_ERR(nninit_mf_critical_sw2(NNINIT_MF_TANH, NAN, -1.0, &o), NNINIT_ERR_PARAM);
    EXPECT_ERR(nninit_mf_critical_sw2(NNINIT_MF_LEAKY_RELU, INFINITY, 0.0, &o), NNINIT_ERR_PARAM);

    /* bad q, c, L, widths, ratios, moments */
    static const double bad_q[] = {-1.0, NAN, INFINITY};
    for (int i = 0; i < 3; i++) {
        EXPECT_ERR(nninit_mf_q_map(&good, bad_q[i], &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_q_sequence(&good, bad_q[i], 3, arr), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_qstar(&good, bad_q[i], &o, &it), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_chi1(&good, bad_q[i], &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_chi_q(&good, bad_q[i], &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_c_map(&good, bad_q[i], 1.0, 0.5, &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_c_map(&good, 1.0, bad_q[i], 0.5, &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_c_sequence(&good, bad_q[i], 1.0, 0.5, 3, arr), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_cstar(&good, bad_q[i], &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_chi_c(&good, bad_q[i], 0.5, &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_analyze(&good, bad_q[i], &(nninit_mf_fixed){0}), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_grad_ratio(&good, bad_q[i], 1.0, &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_grad_variance(&good, bad_q[i], 3, NULL, 1.0, arr), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_expect(NNINIT_MF_TANH, NAN, NNINIT_MF_PHI_PHI, bad_q[i], 1, 0, 0, &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_expect(NNINIT_MF_TANH, NAN, NNINIT_MF_PHI_PHI, 1, bad_q[i], 0, 0, &o), NNINIT_ERR_PARAM);
    }
    EXPECT_ERR(nninit_mf_c_map(&good, 0.0, 1.0, 0.5, &o), NNINIT_ERR_PARAM); /* c undefined */
    EXPECT_ERR(nninit_mf_cstar(&good, 0.0, &o), NNINIT_ERR_PARAM);
    static const double bad_c[] = {1.0000001, -1.5, NAN, INFINITY};
    for (int i = 0; i < 4; i++) {
        EXPECT_ERR(nninit_mf_c_map(&good, 1.0, 1.0, bad_c[i], &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_c_sequence(&good, 1.0, 1.0, bad_c[i], 3, arr), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_chi_c(&good, 1.0, bad_c[i], &o), NNINIT_ERR_PARAM);
        EXPECT_ERR(nninit_mf_expect(NNINIT_MF_TANH, NAN, NNINIT_MF_PHI_PHI, 1, 1, bad_c[i], 0, &o), NNINIT_ERR_PARAM);
    }
    EXPECT_ERR(nninit_mf_q_sequence(&good, 1.0, -1, arr), NNINIT_ERR_PARAM);
    EXPECT_ERR(nninit_mf_c_sequence(&good, 1.0, 1.0, 0.5, -1, arr), NNINIT_ERR_PARAM);
    EXPECT_ERR(nninit_mf_grad_variance(&good, 1.0, -1, NULL, 1.0, arr), NNINIT_ERR_PARAM);
    EXPECT_ERR(nninit_mf_grad_variance(&good, 1.0, 3, NULL, -1.0, arr), NNINIT_ERR_PARAM);
    EXPECT_ERR(nninit_mf_grad_variance(&good, 1.0, 3, NULL, NAN, arr), NNINIT_ERR_PARAM);
    int64_t w[4] = {8, 8, 0, 8};
    EXPECT_ERR(nninit_mf_grad_variance(&good, 1.0, 3, w, 1.0, arr), NNINIT_ERR_PARAM);
    EXPECT_ERR(nninit_mf_grad_ratio(&good, 1.0, 0.0, &o), NNINIT_ERR_PARAM);
    EXPECT_ERR(nninit_mf_grad_ratio(&good, 1.0, NAN, &o), NNINIT_ERR_PARAM);
    EXPECT_ERR(nninit_mf_expect(NNINIT_MF_TANH, NAN, (nninit_mf_moment)3, 1, 1, 0, 0, &o), NNINIT_ERR_PARAM);
    assert_non_null(strstr(nninit_last_error(), "mf_expect"));

    /* outputs untouched by every failure above */
    assert_true(o == SENT && o2 == SENT && it == -7);
    for (int i = 0; i < 4; i++) assert_true(arr[i] == SENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_tanh),
        cmocka_unit_test(test_reference_relu),
        cmocka_unit_test(test_closed_vs_quadrature),
        cmocka_unit_test(test_elu_closed_forms),
        cmocka_unit_test(test_gauss_hermite_crosscheck),
        cmocka_unit_test(test_monte_carlo),
        cmocka_unit_test(test_relu_he_critical),
        cmocka_unit_test(test_depth_scales),
        cmocka_unit_test(test_derivatives),
        cmocka_unit_test(test_fixed_points),
        cmocka_unit_test(test_q_map_increasing),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

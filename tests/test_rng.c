/* test_rng.c -- Philox known answers, key derivation, bits -> floats, and the
 * accuracy of the polynomial log and sincos against libm (long double). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "nninit.h"
#include "rng/transform.h"

/* Random123 tests/kat_vectors, "philox4x32 10" lines (ctr x4, key x2 -> out x4). */
static void test_philox_kat(void **state) {
    (void)state;
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6,
         0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420,
         0x24126ea1},
    };
    for (int v = 0; v < 3; v++) {
        uint32_t out[4];
        nninit_philox4x32(&kat[v][0], &kat[v][4], out);
        for (int j = 0; j < 4; j++) assert_int_equal(out[j], kat[v][6 + j]);
    }
}

/* The key derivation is part of the published values: pin it. */
static void test_key_derivation(void **state) {
    (void)state;
    assert_int_equal(nninit_hash_name(""), 0xcbf29ce484222325ull);
    assert_int_equal(nninit_hash_name("a"), 0xaf63dc4c8601ec8cull); /* FNV-1a 64 of "a" */
    assert_int_equal(nninit_hash_name("layers.0.weight"), 0x718a5d75ec8bf0d9ull);
    assert_int_equal(nninit_hash_name(NULL), nninit_hash_name(""));
    uint32_t k[2];
    nninit_key_philox(nninit_key_from_name(42, "layers.0.weight"), k);
    assert_int_equal(k[0], 0x301008c1u);
    assert_int_equal(k[1], 0x8ce2554fu);
    nninit_key a = nninit_key_from_name(7, "x");
    assert_int_equal(a.seed, 7);
    assert_int_equal(a.id, nninit_hash_name("x"));
    uint32_t k2[2];
    nninit_key_philox(nninit_key_make(42, 1), k);
    nninit_key_philox(nninit_key_make(42, 2), k2);
    assert_true(k[0] != k2[0] || k[1] != k2[1]);
    nninit_key_philox(nninit_key_make(43, 1), k2);
    assert_true(k[0] != k2[0] || k[1] != k2[1]);
}

static void test_uniform_mapping(void **state) {
    (void)state;
    assert_true(nninit__u01_f32(0) == 0.0f);
    assert_true(nninit__u01_f32(0xffffffffu) == 1.0f - 0x1p-24f);
    assert_true(nninit__u01_f32(0x00000100u) == 0x1p-24f);
    assert_true(nninit__u01_open0_f32(0) == 0x1p-32f);
    assert_true(nninit__u01_open0_f32(0xffffffffu) == 1.0f);
    assert_true(nninit__u01_open0_f32(0xfffffffeu) == 1.0f); /* rounds up */
    assert_true(nninit__u01_f64(0, 0) == 0.0);
    assert_true(nninit__u01_f64(0xffffffffu, 0xffffffffu) == 1.0 - 0x1p-53);
    assert_true(nninit__u01_open0_f64(0, 0) == 0x1p-53);
    assert_true(nninit__u01_open0_f64(0xffffffffu, 0xffffffffu) == 1.0);
}

static double ulp_f32(long double x) { return ldexp(1.0, ilogbf((float)x) - 23); }
static double ulp_f64(long double x) { return ldexp(1.0, ilogb((double)x) - 52); }

/* Over u1's whole domain (sampled every 9973rd word): |log - log_exact| in
 * units in the last place of the exact value. Measured: 1.59 ulp (f32), 1.96
 * ulp (f64). */
static void test_log_accuracy(void **state) {
    (void)state;
    double max32 = 0, max64 = 0;
    for (uint64_t w = 0; w < (1ull << 32); w += 9973) {
        float u = nninit__u01_open0_f32((uint32_t)w);
        if (u != 1.0f) {
            long double ex = logl((long double)u);
            double e = (double)(fabsl((long double)nninit__log_f32(u) - ex) / ulp_f32(ex));
            if (e > max32) max32 = e;
        }
        double ud = nninit__u01_open0_f64((uint32_t)w, (uint32_t)(w * 2654435761u));
        if (ud != 1.0) {
            long double ex = logl((long double)ud);
            double e = (double)(fabsl((long double)nninit__log_f64(ud) - ex) / ulp_f64(ex));
            if (e > max64) max64 = e;
        }
    }
    print_message("log: max error %.3f ulp (f32), %.3f ulp (f64)\n", max32, max64);
    assert_true(max32 < 2.0);
    assert_true(max64 < 2.5);
    assert_true(nninit__log_f32(1.0f) == 0.0f);
    assert_true(nninit__log_f64(1.0) == 0.0);
}

/* Reference: the same exact reduction in turns, then sinl/cosl in long double. */
static void ref_sincos(long double t, long double *s, long double *c) {
    const long double two_pi = 6.283185307179586476925286766559L;
    long double q = floorl(4 * t + 0.5L), f = t - q / 4;
    long double ss = sinl(two_pi * f), cc = cosl(two_pi * f);
    int k = (int)q & 3;
    long double rs = (k & 1) ? cc : ss, rc = (k & 1) ? ss : cc;
    *s = (k & 2) ? -rs : rs;
    *c = ((k + 1) & 2) ? -rc : rc;
}

/* Measured over every t = k 2^-24 (f32) and a sample with 53-bit t (f64):
 * 1.68 ulp (f32), 1.58 ulp (f64). */
static void test_sincos_accuracy(void **state) {
    (void)state;
    double m32 = 0, m64 = 0;
    for (uint32_t k = 0; k < (1u << 24); k += 3) {
        float t = (float)k * 0x1p-24f, s, c;
        long double es, ec;
        nninit__sincos2pi_f32(t, &s, &c);
        ref_sincos(t, &es, &ec);
        if (es != 0) m32 = fmax(m32, (double)(fabsl(s - es) / ulp_f32(es)));
        else assert_true(s == 0.0f);
        if (ec != 0) m32 = fmax(m32, (double)(fabsl(c - ec) / ulp_f32(ec)));
        else assert_true(c == 0.0f);
        double td = (double)k * 0x1p-24 + (double)(k % 1000) * 0x1p-50, sd, cd;
        nninit__sincos2pi_f64(td, &sd, &cd);
        ref_sincos(td, &es, &ec);
        if (es != 0) m64 = fmax(m64, (double)(fabsl(sd - es) / ulp_f64(es)));
        if (ec != 0) m64 = fmax(m64, (double)(fabsl(cd - ec) / ulp_f64(ec)));
    }
    print_message("sincos: max error %.3f ulp (f32), %.3f ulp (f64)\n", m32, m64);
    assert_true(m32 < 2.0);
    assert_true(m64 < 2.0);
}

/* The largest |z| is reached at u1 = 2^-32 (f32 family) / 2^-53 (f64). */
static void test_box_muller_cap(void **state) {
    (void)state;
    float z0, z1;
    nninit__box_muller_f32(0, 0, &z0, &z1);
    assert_float_equal(z0, sqrt(64 * log(2.0)), 1e-5);
    assert_true(z1 == 0.0f);
    uint32_t w[4] = {0, 0, 0, 0};
    double d0, d1;
    nninit__box_muller_f64(w, &d0, &d1);
    assert_float_equal(d0, sqrt(106 * log(2.0)), 1e-12);
    /* u1 = 1 gives r = 0 */
    nninit__box_muller_f32(0xffffffffu, 12345u, &z0, &z1);
    assert_true(z0 == 0.0f && z1 == 0.0f);
    /* against libm Box-Muller in double: |difference| below 1e-5 */
    double maxd = 0;
    for (uint32_t k = 1; k < 200000; k++) {
        uint32_t a = k * 2654435761u, b = k * 2246822519u;
        nninit__box_muller_f32(a, b, &z0, &z1);
        double u1 = ((double)a + 1) * 0x1p-32, t = (double)(b >> 8) * 0x1p-24;
        double r = sqrt(-2 * log(u1));
        maxd = fmax(maxd, fabs(z0 - r * cos(2 * 3.14159265358979323846 * t)));
        maxd = fmax(maxd, fabs(z1 - r * sin(2 * 3.14159265358979323846 * t)));
    }
    print_message("box-muller f32 vs libm double: max |diff| %.3g\n", maxd);
    assert_true(maxd < 5e-6);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_philox_kat),      cmocka_unit_test(test_key_derivation),
        cmocka_unit_test(test_uniform_mapping), cmocka_unit_test(test_log_accuracy),
        cmocka_unit_test(test_sincos_accuracy), cmocka_unit_test(test_box_muller_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

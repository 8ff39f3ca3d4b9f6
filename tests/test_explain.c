/* test_explain.c -- the PyTorch, Keras and JAX calls `nninit explain` prints
 * (tools/util/explain.h), pinned string for string, and the Python number
 * literals they are written with.
 *
 * The strings are what the CLI printed before the code moved out of
 * tools/nninit.c, so the move is behaviour-preserving; each one was checked by
 * hand against the framework's source:
 *   torch  torch/nn/init.py: kaiming_*_ (a matters only for leaky_relu;
 *          fans of dim 1 and dim 0 times the receptive field, also on a
 *          ConvTranspose weight (in, out/g, k...)), xavier_*_ (gain,
 *          fan_avg), trunc_normal_ (absolute bounds a, b), orthogonal_
 *          (shape[0] x rest), sparse_ (zeros per column), dirac_, eye_.
 *   keras  keras/src/initializers/random_initializers.py: VarianceScaling
 *          (scale, mode fan_in|fan_out|fan_avg, distribution
 *          'truncated_normal' (= HeNormal at scale 2, fan_in; std / .8796,
 *          cut at 2 std) | 'untruncated_normal' | 'uniform'), fans
 *          (k..., in, out); TruncatedNormal cuts at +-2 stddev, always.
 *   jax    jax/_src/nn/initializers.py: variance_scaling(scale, mode,
 *          distribution 'truncated_normal' | 'normal' (untruncated) |
 *          'uniform', in_axis=-2, out_axis=-1), mode also fan_geo_avg;
 *          he_normal is variance_scaling(2, 'fan_in', 'truncated_normal'),
 *          so nninit's kaiming_normal (a plain Gaussian) is 'normal', not
 *          he_normal; truncated_normal(stddev, lower, upper) has bounds in
 *          stddevs and no mean; normal(stddev) no mean; uniform(scale) is
 *          U[0, scale).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "explain.h"
#include "nninit.h"

static nninit_tensor tensor(nninit_layout layout, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    int64_t s[4] = {d0, d1, d2, d3};
    nninit_tensor t = nninit_tensor_make(ndim, s, NNINIT_F32);
    t.layout = layout;
    return t;
}

#define OIHW(a, b, c, d)  tensor(NNINIT_LAYOUT_OIHW, 4, a, b, c, d)
#define HWIO(a, b, c, d)  tensor(NNINIT_LAYOUT_HWIO, 4, a, b, c, d)
#define IOHW(a, b, c, d)  tensor(NNINIT_LAYOUT_IOHW, 4, a, b, c, d)
#define MAT(layout, r, c) tensor(layout, 2, r, c, 1, 1)

/* The three calls for (sp, t); "" where a framework has none. */
static void expect(nninit_spec sp, nninit_tensor t, const char *torch, const char *keras, const char *jax) {
    nninit_info in;
    assert_int_equal(nninit_explain(&sp, &t, &in), NNINIT_OK);
    const char *want[3] = {torch, keras, jax};
    for (int fw = CLI_FW_TORCH; fw <= CLI_FW_JAX; fw++) {
        char buf[512];
        memset(buf, 'x', sizeof buf);
        cli_equivalent_call((cli_framework)fw, &sp, &t, &in, buf, sizeof buf);
        if (strcmp(buf, want[fw]))
            print_error("%s, framework %d:\n  got  '%s'\n  want '%s'\n", nninit_scheme_name(sp.scheme), fw, buf,
                        want[fw]);
        assert_string_equal(buf, want[fw]);
    }
}

static nninit_spec spec(nninit_scheme s) { return nninit_spec_default(s); }

/* ------------------------------------------------------------------------- */

static void test_kaiming_normal_relu_conv(void **state) {
    (void)state;
    nninit_spec sp = spec(NNINIT_KAIMING_NORMAL);
    sp.nonlinearity = NNINIT_NL_RELU;
    /* He et al. on a 7x7 conv: a plain Gaussian, so Keras says
     * 'untruncated_normal' and JAX 'normal' (HeNormal / he_normal would be
     * the truncated one). */
    expect(sp, OIHW(64, 3, 7, 7), "torch.nn.init.kaiming_normal_(w, a=0, mode='fan_in', nonlinearity='relu')",
           "keras.initializers.VarianceScaling(scale=2.0, mode='fan_in', distribution='untruncated_normal')",
           "jax.nn.initializers.variance_scaling(2.0, 'fan_in', 'normal')");
    /* The same layer held as a Keras/JAX kernel: the same three calls. */
    expect(sp, HWIO(7, 7, 3, 64), "torch.nn.init.kaiming_normal_(w, a=0, mode='fan_in', nonlinearity='relu')",
           "keras.initializers.VarianceScaling(scale=2.0, mode='fan_in', distribution='untruncated_normal')",
           "jax.nn.initializers.variance_scaling(2.0, 'fan_in', 'normal')");
}

static void test_kaiming_leaky_relu_slope(void **state) {
    (void)state;
    /* PyTorch's default: a=0 with leaky_relu is relu's gain. */
    nninit_spec sp = spec(NNINIT_KAIMING_UNIFORM);
    expect(sp, MAT(NNINIT_LAYOUT_OIHW, 256, 784),
           "torch.nn.init.kaiming_uniform_(w, a=0, mode='fan_in', nonlinearity='leaky_relu')",
           "keras.initializers.VarianceScaling(scale=2.0, mode='fan_in', distribution='uniform')",
           "jax.nn.initializers.variance_scaling(2.0, 'fan_in', 'uniform')");
    /* a = 0.2: gain^2 = 2 / (1 + 0.04). */
    sp.slope = 0.2;
    sp.mode = NNINIT_FAN_OUT;
    expect(sp, MAT(NNINIT_LAYOUT_OIHW, 128, 64),
           "torch.nn.init.kaiming_uniform_(w, a=0.2, mode='fan_out', nonlinearity='leaky_relu')",
           "keras.initializers.VarianceScaling(scale=1.923076923076923, mode='fan_out', distribution='uniform')",
           "jax.nn.initializers.variance_scaling(1.923076923076923, 'fan_out', 'uniform')");
    /* kaiming with fan_avg is xavier in PyTorch's terms. */
    sp = spec(NNINIT_KAIMING_NORMAL);
    sp.nonlinearity = NNINIT_NL_TANH;
    sp.mode = NNINIT_FAN_AVG;
    expect(sp, OIHW(64, 3, 7, 7), "torch.nn.init.xavier_normal_(w, gain=1.6666666666666667)",
           "keras.initializers.VarianceScaling(scale=2.777777777777778, mode='fan_avg', "
           "distribution='untruncated_normal')",
           "jax.nn.initializers.variance_scaling(2.777777777777778, 'fan_avg', 'normal')");
}

static void test_xavier_with_gain(void **state) {
    (void)state;
    nninit_spec sp = spec(NNINIT_XAVIER_UNIFORM);
    sp.gain = 2;
    expect(sp, MAT(NNINIT_LAYOUT_OIHW, 128, 64), "torch.nn.init.xavier_uniform_(w, gain=2.0)",
           "keras.initializers.VarianceScaling(scale=4.0, mode='fan_avg', distribution='uniform')",
           "jax.nn.initializers.variance_scaling(4.0, 'fan_avg', 'uniform')");
    /* gain sqrt(2): scale is tidied from 2.0000000000000004 to 2.0. */
    sp = spec(NNINIT_XAVIER_NORMAL);
    sp.gain = sqrt(2.0);
    expect(sp, HWIO(7, 7, 3, 64), "torch.nn.init.xavier_normal_(w, gain=1.4142135623730951)",
           "keras.initializers.VarianceScaling(scale=2.0, mode='fan_avg', distribution='untruncated_normal')",
           "jax.nn.initializers.variance_scaling(2.0, 'fan_avg', 'normal')");
}

static void test_lecun_is_kaiming_linear(void **state) {
    (void)state;
    expect(spec(NNINIT_LECUN_NORMAL), OIHW(32, 16, 3, 3),
           "torch.nn.init.kaiming_normal_(w, a=0, mode='fan_in', nonlinearity='linear')",
           "keras.initializers.VarianceScaling(scale=1.0, mode='fan_in', distribution='untruncated_normal')",
           "jax.nn.initializers.variance_scaling(1.0, 'fan_in', 'normal')");
    /* Embedding: nninit's fan_in is 1 (a lookup reads one row), no
     * framework's fans give 1, so every call names N(0, 1) itself. */
    expect(spec(NNINIT_LECUN_NORMAL), MAT(NNINIT_LAYOUT_EMBEDDING, 1000, 64),
           "torch.nn.init.normal_(w, mean=0.0, std=1.0)", "keras.initializers.RandomNormal(mean=0.0, stddev=1.0)",
           "jax.nn.initializers.normal(stddev=1.0)");
}

static void test_variance_scaling(void **state) {
    (void)state;
    /* Keras' HeNormal and JAX's he_normal: truncated at 2 std. PyTorch has
     * no such call: trunc_normal_ with this tensor's numbers. */
    nninit_spec sp = spec(NNINIT_VARIANCE_SCALING);
    sp.scale = 2;
    sp.distribution = NNINIT_DIST_TRUNCATED_NORMAL;
    expect(sp, OIHW(64, 3, 7, 7),
           "torch.nn.init.trunc_normal_(w, mean=0.0, std=0.1326045542677961, a=-0.2652091085355922, "
           "b=0.2652091085355922)",
           "keras.initializers.VarianceScaling(scale=2.0, mode='fan_in', distribution='truncated_normal')",
           "jax.nn.initializers.variance_scaling(2.0, 'fan_in', 'truncated_normal')");
    /* fan_geo_avg: JAX only. */
    sp.distribution = NNINIT_DIST_NORMAL;
    sp.mode = NNINIT_FAN_GEO_AVG;
    expect(sp, OIHW(64, 3, 7, 7), "torch.nn.init.normal_(w, mean=0.0, std=0.05427397754654232)",
           "keras.initializers.RandomNormal(mean=0.0, stddev=0.05427397754654232)",
           "jax.nn.initializers.variance_scaling(2.0, 'fan_geo_avg', 'normal')");
}

static void test_trunc_normal(void **state) {
    (void)state;
    /* PyTorch's defaults: absolute bounds [-2, 2], here 100 std. */
    nninit_spec sp = spec(NNINIT_TRUNC_NORMAL);
    sp.std = 0.02;
    expect(sp, MAT(NNINIT_LAYOUT_OIHW, 128, 64), "torch.nn.init.trunc_normal_(w, mean=0.0, std=0.02, a=-2.0, b=2.0)",
           "", "jax.nn.initializers.truncated_normal(stddev=0.02, lower=-100.0, upper=100.0)");
    /* The location before truncation, not the mean of the values. */
    sp.mean = 1;
    sp.std = 2;
    sp.a = -3;
    sp.b = 5;
    expect(sp, tensor(NNINIT_LAYOUT_OIHW, 1, 10, 1, 1, 1),
           "torch.nn.init.trunc_normal_(w, mean=1.0, std=2.0, a=-3.0, b=5.0)",
           "keras.initializers.TruncatedNormal(mean=1.0, stddev=2.0)", "");
    /* Bounds in stds: JAX's own parametrization. */
    sp = spec(NNINIT_TRUNC_NORMAL_STD);
    sp.std = 0.02;
    sp.a = -3;
    sp.b = 1;
    expect(sp, MAT(NNINIT_LAYOUT_OIHW, 128, 64), "torch.nn.init.trunc_normal_(w, mean=0.0, std=0.02, a=-0.06, b=0.02)",
           "", "jax.nn.initializers.truncated_normal(stddev=0.02, lower=-3.0, upper=1.0)");
    sp.mean = 0.5;
    sp.a = -2;
    sp.b = 2;
    expect(sp, MAT(NNINIT_LAYOUT_OIHW, 128, 64), "torch.nn.init.trunc_normal_(w, mean=0.5, std=0.02, a=0.46, b=0.54)",
           "keras.initializers.TruncatedNormal(mean=0.5, stddev=0.02)", "");
}

static void test_explicit_distributions(void **state) {
    (void)state;
    nninit_spec sp = spec(NNINIT_UNIFORM);
    sp.a = 0;
    sp.b = 0.1;
    expect(sp, MAT(NNINIT_LAYOUT_OIHW, 10, 10), "torch.nn.init.uniform_(w, a=0.0, b=0.1)",
           "keras.initializers.RandomUniform(minval=0.0, maxval=0.1)", "jax.nn.initializers.uniform(scale=0.1)");
    sp.a = -1; /* JAX's uniform starts at 0 */
    expect(sp, MAT(NNINIT_LAYOUT_OIHW, 10, 10), "torch.nn.init.uniform_(w, a=-1.0, b=0.1)",
           "keras.initializers.RandomUniform(minval=-1.0, maxval=0.1)", "");
    sp = spec(NNINIT_NORMAL);
    sp.mean = 1e-20;
    sp.std = 1.0 / 3;
    expect(sp, MAT(NNINIT_LAYOUT_OIHW, 128, 64), "torch.nn.init.normal_(w, mean=1e-20, std=0.3333333333333333)",
           "keras.initializers.RandomNormal(mean=1e-20, stddev=0.3333333333333333)", "");
    sp = spec(NNINIT_CONSTANT);
    sp.value = 1e16;
    expect(sp, MAT(NNINIT_LAYOUT_OIHW, 4, 4), "torch.nn.init.constant_(w, 1e+16)",
           "keras.initializers.Constant(value=1e+16)", "jax.nn.initializers.constant(1e+16)");
    expect(spec(NNINIT_ZEROS), MAT(NNINIT_LAYOUT_OIHW, 4, 4), "torch.nn.init.zeros_(w)", "keras.initializers.Zeros()",
           "jax.nn.initializers.zeros");
    expect(spec(NNINIT_ONES), MAT(NNINIT_LAYOUT_OIHW, 4, 4), "torch.nn.init.ones_(w)", "keras.initializers.Ones()",
           "jax.nn.initializers.ones");
}

static void test_orthogonal(void **state) {
    (void)state;
    nninit_spec sp = spec(NNINIT_ORTHOGONAL);
    sp.gain = 2;
    /* PyTorch's (out, in*k*k) matrix is the transpose, up to a row
     * permutation, of Keras/JAX's (k*k*in, out) of the HWIO kernel. */
    expect(sp, OIHW(64, 3, 7, 7), "torch.nn.init.orthogonal_(w, gain=2.0)", "keras.initializers.Orthogonal(gain=2.0)",
           "jax.nn.initializers.orthogonal(scale=2.0)");
    sp.gain = 1;
    expect(sp, MAT(NNINIT_LAYOUT_HWIO, 128, 64), "torch.nn.init.orthogonal_(w, gain=1.0)",
           "keras.initializers.Orthogonal(gain=1.0)", "jax.nn.initializers.orthogonal(scale=1.0)");
}

/* nninit's structured schemes work on shape[0] x rest whatever the layout: on
 * an HWIO conv kernel that is (kh, kw*in*out), which no framework draws for
 * the same layer. PyTorch's call used to be printed there (it only holds for
 * PyTorch run on the HWIO tensor itself, not on its (out, in, kh, kw) weight). */
static void test_structured_on_foreign_layouts_have_no_equivalent(void **state) {
    (void)state;
    expect(spec(NNINIT_ORTHOGONAL), HWIO(7, 7, 3, 64), "", "", "");
    nninit_tensor c = OIHW(64, 3, 7, 7);
    c.layout = NNINIT_LAYOUT_CUSTOM;
    c.in_axis = 1;
    c.out_axis = 3;
    expect(spec(NNINIT_ORTHOGONAL), c, "", "", "");
    nninit_spec sp = spec(NNINIT_SPARSE);
    sp.sparsity = 0.1;
    sp.std = 0.01;
    expect(sp, MAT(NNINIT_LAYOUT_OIHW, 128, 64), "torch.nn.init.sparse_(w, sparsity=0.1, std=0.01)", "", "");
    /* (in, out): PyTorch's weight is the transpose; zeros per column differ. */
    expect(sp, MAT(NNINIT_LAYOUT_HWIO, 128, 64), "", "", "");
    expect(spec(NNINIT_DIRAC), HWIO(3, 3, 8, 8), "", "", "");
}

static void test_dirac_eye_sparse(void **state) {
    (void)state;
    nninit_spec sp = spec(NNINIT_DIRAC);
    sp.groups = 2;
    nninit_tensor t = OIHW(16, 8, 3, 3);
    t.groups = 2;
    expect(sp, t, "torch.nn.init.dirac_(w, groups=2)", "", ""); /* JAX's delta_orthogonal differs */
    expect(spec(NNINIT_DIRAC), IOHW(16, 8, 3, 3), "torch.nn.init.dirac_(w, groups=1)", "", "");
    expect(spec(NNINIT_EYE), MAT(NNINIT_LAYOUT_OIHW, 3, 5), "torch.nn.init.eye_(w)",
           "keras.initializers.Identity(gain=1.0)", "");
    expect(spec(NNINIT_EYE), MAT(NNINIT_LAYOUT_HWIO, 3, 5), "torch.nn.init.eye_(w)",
           "keras.initializers.Identity(gain=1.0)", "");
}

static void test_conv_transpose_fans(void **state) {
    (void)state;
    /* ConvTranspose weight (in=16, out=8, 3, 3): nninit's fan_in is 16*9.
     * PyTorch computes fan_in from dim 1 on this very tensor (72), so its
     * mode for 144 is 'fan_out'; Keras' (k, k, out, in) kernel the same;
     * flax's (k, k, in, out) kernel reads 144 as fan_in. */
    nninit_spec sp = spec(NNINIT_KAIMING_NORMAL);
    expect(sp, IOHW(16, 8, 3, 3), "torch.nn.init.kaiming_normal_(w, a=0, mode='fan_out', nonlinearity='leaky_relu')",
           "keras.initializers.VarianceScaling(scale=2.0, mode='fan_out', distribution='untruncated_normal')",
           "jax.nn.initializers.variance_scaling(2.0, 'fan_in', 'normal')");
    /* Keras and flax transposed convolutions have no groups: explicit. */
    nninit_tensor t = IOHW(16, 8, 3, 3);
    t.groups = 2;
    expect(sp, t, "torch.nn.init.kaiming_normal_(w, a=0, mode='fan_in', nonlinearity='leaky_relu')",
           "keras.initializers.RandomNormal(mean=0.0, stddev=0.16666666666666669)",
           "jax.nn.initializers.normal(stddev=0.16666666666666669)");
}

static void test_custom_axes_and_grouped_fan_out(void **state) {
    (void)state;
    /* Only JAX names arbitrary axes; the others fall back to the numbers. */
    nninit_tensor t = OIHW(3, 4, 5, 6);
    t.layout = NNINIT_LAYOUT_CUSTOM;
    t.in_axis = 1;
    t.out_axis = 3;
    expect(spec(NNINIT_KAIMING_UNIFORM), t, "torch.nn.init.uniform_(w, a=-0.31622776601683794, b=0.31622776601683794)",
           "keras.initializers.RandomUniform(minval=-0.31622776601683794, maxval=0.31622776601683794)",
           "jax.nn.initializers.variance_scaling(2.0, 'fan_in', 'uniform', in_axis=1, out_axis=3)");
    /* No framework divides fan_out by groups. */
    nninit_spec sp = spec(NNINIT_KAIMING_NORMAL);
    sp.mode = NNINIT_FAN_OUT;
    t = OIHW(64, 8, 3, 3);
    t.groups = 4;
    t.flags = NNINIT_LAYOUT_GROUPED_FAN_OUT;
    expect(sp, t, "torch.nn.init.normal_(w, mean=0.0, std=0.11785113019775793)",
           "keras.initializers.RandomNormal(mean=0.0, stddev=0.11785113019775793)",
           "jax.nn.initializers.normal(stddev=0.11785113019775793)");
}

static void test_truncates_to_cap(void **state) {
    (void)state;
    nninit_spec sp = spec(NNINIT_KAIMING_NORMAL);
    nninit_tensor t = OIHW(64, 3, 7, 7);
    nninit_info in;
    assert_int_equal(nninit_explain(&sp, &t, &in), NNINIT_OK);
    char buf[16];
    cli_equivalent_call(CLI_FW_TORCH, &sp, &t, &in, buf, sizeof buf);
    assert_string_equal(buf, "torch.nn.init.k");
}

/* ------------------------------------------------------------------------- */
/* Numbers as Python's repr(float) writes them                                */
/* ------------------------------------------------------------------------- */

static void py(double x, const char *want) {
    char buf[64];
    assert_string_equal(cli_fmt_py(buf, sizeof buf, x), want);
}

static void test_fmt_py(void **state) {
    (void)state;
    py(1.0 / 3, "0.3333333333333333");
    py(2.0 / 3, "0.6666666666666666");
    py(0.1, "0.1");
    py(0.1 + 0.2, "0.30000000000000004");
    py(1e-20, "1e-20");
    py(1.5e-20, "1.5e-20");
    py(2, "2.0");
    py(0, "0.0");
    py(-0.0, "-0.0");
    py(-2.5, "-2.5");
    py(147, "147.0");
    py(0.0001, "0.0001");
    py(0.00001, "1e-05");
    py(1e15, "1000000000000000.0");
    py(1e16, "1e+16");
    py(123456789012345678.0, "1.2345678901234568e+17");
    py(1e100, "1e+100");
    py(5e-324, "5e-324");
    py(1.7976931348623157e308, "1.7976931348623157e+308");
    py(sqrt(2.0), "1.4142135623730951");
    py(NAN, "float('nan')");
    py(INFINITY, "float('inf')");
    py(-INFINITY, "float('-inf')");
}

static void test_fmt_num_and_digits(void **state) {
    (void)state;
    char buf[64];
    assert_string_equal(cli_fmt_num(buf, sizeof buf, 147), "147");
    assert_string_equal(cli_fmt_num(buf, sizeof buf, 0.5), "0.5");
    assert_string_equal(cli_fmt_num(buf, sizeof buf, 1e-7), "1e-07");
    assert_string_equal(cli_fmt_num(buf, sizeof buf, 1e16), "1e+16");
    assert_string_equal(cli_fmt_num(buf, sizeof buf, NAN), "n/a");
    assert_string_equal(cli_fmt_num(buf, sizeof buf, -INFINITY), "-inf");
    assert_int_equal(cli_shortest_digits(0.1), 1);
    assert_int_equal(cli_shortest_digits(1.0 / 3), 16);
    assert_int_equal(cli_shortest_digits(0.1 + 0.2), 17);
    assert_int_equal(cli_shortest_digits(1e-20), 1);
    assert_int_equal(cli_shortest_digits(5e-324), 1);
    assert_string_equal(cli_resolved_name(NNINIT_RESOLVED_TRUNC_NORMAL), "trunc_normal");
    assert_string_equal(cli_resolved_name(NNINIT_RESOLVED_STRUCTURED), "structured");
}

/* ---- nninit_spec_resolve_fans: a bias drawn on its weight's fans ---------- */

/* Every field equal (bit for bit; the padding aside). */
static int spec_eq(const nninit_spec *x, const nninit_spec *y) {
    return x->scheme == y->scheme && !memcmp(&x->value, &y->value, sizeof x->value) && !memcmp(&x->a, &y->a, 8) &&
           !memcmp(&x->b, &y->b, 8) && !memcmp(&x->mean, &y->mean, 8) && !memcmp(&x->std, &y->std, 8) &&
           !memcmp(&x->gain, &y->gain, 8) && !memcmp(&x->slope, &y->slope, 8) && x->mode == y->mode &&
           x->nonlinearity == y->nonlinearity && !memcmp(&x->scale, &y->scale, 8) &&
           x->distribution == y->distribution && !memcmp(&x->sparsity, &y->sparsity, 8) && x->groups == y->groups;
}

typedef struct {
    nninit_spec spec;
    nninit_scheme kind; /* the plain scheme it resolves to */
    double p1, p2;      /* uniform: the bound; normal: the std; trunc: std, bound */
} resolve_case;

static void test_resolve_fans_every_scheme(void **state) {
    (void)state;
    /* A conv weight (out 64, in 3, 7x7), groups 1: fan_in 147, fan_out 3136. */
    nninit_tensor w = OIHW(64, 3, 7, 7);
    const double fi = 147, fo = 3136, avg = (fi + fo) / 2;
    nninit_spec xu = nninit_spec_default(NNINIT_XAVIER_UNIFORM), xn = nninit_spec_default(NNINIT_XAVIER_NORMAL);
    xu.gain = xn.gain = 0.5;
    nninit_spec ku = nninit_spec_default(NNINIT_KAIMING_UNIFORM), kn = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    ku.slope = 0.2, ku.mode = NNINIT_FAN_OUT;
    kn.nonlinearity = NNINIT_NL_TANH;
    nninit_spec vu = nninit_spec_default(NNINIT_VARIANCE_SCALING), vn = vu, vt = vu;
    vu.distribution = NNINIT_DIST_UNIFORM, vu.scale = 2, vu.mode = NNINIT_FAN_AVG;
    vn.distribution = NNINIT_DIST_NORMAL, vn.mode = NNINIT_FAN_GEO_AVG;
    vt.scale = 3;
    const double lg = sqrt(2.0 / (1 + 0.2 * 0.2)); /* leaky_relu(0.2)'s gain */
    const double vts = sqrt(3 / fi) / 0.87962566103423978;
    const resolve_case cases[] = {
        {xu, NNINIT_UNIFORM, sqrt(3.0) * (0.5 * sqrt(2.0 / (fi + fo))), 0},
        {xn, NNINIT_NORMAL, 0.5 * sqrt(2.0 / (fi + fo)), 0},
        {ku, NNINIT_UNIFORM, sqrt(3.0) * (lg / sqrt(fo)), 0},
        {kn, NNINIT_NORMAL, (5.0 / 3.0) / sqrt(fi), 0},
        {nninit_spec_default(NNINIT_LECUN_UNIFORM), NNINIT_UNIFORM, sqrt(3.0) * (1.0 / sqrt(fi)), 0},
        {nninit_spec_default(NNINIT_LECUN_NORMAL), NNINIT_NORMAL, 1.0 / sqrt(fi), 0},
        {vu, NNINIT_UNIFORM, sqrt(3.0) * sqrt(2 / avg), 0},
        {vn, NNINIT_NORMAL, sqrt(1 / sqrt(fi * fo)), 0},
        {vt, NNINIT_TRUNC_NORMAL, vts, 2 * vts},
    };
    int seen[NNINIT_SCHEME_COUNT] = {0};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const resolve_case *c = &cases[k];
        nninit_spec r;
        memset(&r, 0x5a, sizeof r);
        assert_int_equal(nninit_spec_resolve_fans(&c->spec, &w, &r), NNINIT_OK);
        seen[c->spec.scheme] = 1;
        assert_int_equal(r.scheme, c->kind);
        nninit_spec want = nninit_spec_default(c->kind);
        if (c->kind == NNINIT_UNIFORM) want.a = -c->p1, want.b = c->p1;
        else if (c->kind == NNINIT_NORMAL) want.std = c->p1;
        else want.std = c->p1, want.a = -c->p2, want.b = c->p2;
        if (fabs(r.a - want.a) > 1e-15 || fabs(r.b - want.b) > 1e-15 || fabs(r.std - want.std) > 1e-15 || r.mean != 0)
            print_error("%s: a %.17g b %.17g std %.17g mean %g; want a %.17g b %.17g std %.17g\n",
                        nninit_scheme_name(c->spec.scheme), r.a, r.b, r.std, r.mean, want.a, want.b, want.std);
        assert_true(fabs(r.a - want.a) <= 1e-15 && fabs(r.b - want.b) <= 1e-15 && fabs(r.std - want.std) <= 1e-15);
        assert_true(r.mean == 0.0);
        /* Exactly the distribution nninit_explain gives on the weight, and it fills a 1-D bias. */
        nninit_info on_w, on_b;
        nninit_tensor bias = tensor(NNINIT_LAYOUT_OIHW, 1, 64, 1, 1, 1);
        assert_int_equal(nninit_explain(&c->spec, &w, &on_w), NNINIT_OK);
        assert_int_equal(nninit_explain(&c->spec, &bias, &on_b), NNINIT_ERR_DIMS); /* no fans of its own */
        assert_int_equal(nninit_explain(&r, &bias, &on_b), NNINIT_OK);
        assert_true(on_b.lo == on_w.lo && on_b.hi == on_w.hi && on_b.variance == on_w.variance);
        assert_true(c->kind == NNINIT_UNIFORM ? on_b.bound == on_w.bound : on_b.std == on_w.std);
        /* out may be the spec itself */
        nninit_spec in_place = c->spec;
        assert_int_equal(nninit_spec_resolve_fans(&in_place, &w, &in_place), NNINIT_OK);
        assert_true(spec_eq(&in_place, &r));
    }
    for (int sc = 0; sc < NNINIT_SCHEME_COUNT; sc++) assert_int_equal(seen[sc], nninit_scheme_uses_fans(sc));

    /* A zero bound (gain 0) is a constant. */
    xu.gain = 0;
    nninit_spec r;
    assert_int_equal(nninit_spec_resolve_fans(&xu, &w, &r), NNINIT_OK);
    assert_int_equal(r.scheme, NNINIT_CONSTANT);
    assert_true(r.value == 0.0);
    /* The weight's layout and groups count: HWIO (7, 7, 3, 64) is the same layer. */
    nninit_tensor h = HWIO(7, 7, 3, 64);
    nninit_spec r2;
    assert_int_equal(nninit_spec_resolve_fans(&cases[2].spec, &h, &r2), NNINIT_OK);
    assert_int_equal(nninit_spec_resolve_fans(&cases[2].spec, &w, &r), NNINIT_OK);
    assert_true(spec_eq(&r, &r2));
}

static void test_resolve_fans_passes_others_and_errors(void **state) {
    (void)state;
    nninit_tensor w = MAT(NNINIT_LAYOUT_OIHW, 256, 784), v = tensor(NNINIT_LAYOUT_OIHW, 1, 256, 1, 1, 1);
    for (int sc = 0; sc < NNINIT_SCHEME_COUNT; sc++) {
        if (nninit_scheme_uses_fans(sc)) continue;
        nninit_spec in = nninit_spec_default(sc), out;
        in.std = 0.25, in.a = -3, in.value = 7; /* whatever it holds comes back */
        memset(&out, 0, sizeof out);
        assert_int_equal(nninit_spec_resolve_fans(&in, &w, &out), NNINIT_OK);
        assert_true(spec_eq(&in, &out));
        assert_int_equal(nninit_spec_resolve_fans(&in, &v, &out), NNINIT_OK); /* fans_of not read */
        assert_true(spec_eq(&in, &out));
    }
    nninit_spec k = nninit_spec_default(NNINIT_KAIMING_UNIFORM), out, keep;
    memset(&out, 0x33, sizeof out);
    keep = out;
    assert_int_equal(nninit_spec_resolve_fans(NULL, &w, &out), NNINIT_ERR_NULL);
    assert_int_equal(nninit_spec_resolve_fans(&k, NULL, &out), NNINIT_ERR_NULL);
    assert_int_equal(nninit_spec_resolve_fans(&k, &w, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_spec_resolve_fans(&k, &v, &out), NNINIT_ERR_DIMS); /* a 1-D tensor has no fans */
    assert_non_null(strstr(nninit_last_error(), "fewer than 2 dimensions"));
    nninit_spec bad = nninit_spec_default(NNINIT_XAVIER_NORMAL);
    bad.gain = -1;
    assert_int_equal(nninit_spec_resolve_fans(&bad, &w, &out), NNINIT_ERR_PARAM);
    bad = nninit_spec_default(NNINIT_VARIANCE_SCALING);
    bad.scale = 0;
    assert_int_equal(nninit_spec_resolve_fans(&bad, &w, &out), NNINIT_ERR_PARAM);
    bad = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    bad.nonlinearity = NNINIT_NL_COUNT;
    assert_int_equal(nninit_spec_resolve_fans(&bad, &w, &out), NNINIT_ERR_NONLINEARITY);
    bad.scheme = NNINIT_SCHEME_COUNT;
    assert_int_equal(nninit_spec_resolve_fans(&bad, &w, &out), NNINIT_ERR_PARAM);
    nninit_tensor zero = MAT(NNINIT_LAYOUT_OIHW, 0, 4);
    assert_int_equal(nninit_spec_resolve_fans(&k, &zero, &out), NNINIT_ERR_SHAPE);
    assert_memory_equal(&out, &keep, sizeof out); /* untouched on every error */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kaiming_normal_relu_conv),
        cmocka_unit_test(test_kaiming_leaky_relu_slope),
        cmocka_unit_test(test_xavier_with_gain),
        cmocka_unit_test(test_lecun_is_kaiming_linear),
        cmocka_unit_test(test_variance_scaling),
        cmocka_unit_test(test_trunc_normal),
        cmocka_unit_test(test_explicit_distributions),
        cmocka_unit_test(test_orthogonal),
        cmocka_unit_test(test_structured_on_foreign_layouts_have_no_equivalent),
        cmocka_unit_test(test_dirac_eye_sparse),
        cmocka_unit_test(test_conv_transpose_fans),
        cmocka_unit_test(test_custom_axes_and_grouped_fan_out),
        cmocka_unit_test(test_truncates_to_cap),
        cmocka_unit_test(test_fmt_py),
        cmocka_unit_test(test_fmt_num_and_digits),
        cmocka_unit_test(test_resolve_fans_every_scheme),
        cmocka_unit_test(test_resolve_fans_passes_others_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

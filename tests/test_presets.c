/* test_presets.c -- layer presets (include/nninit_presets.h): the list of
 * names, parameter names and shapes, the exact bound or std each framework
 * computes (the arithmetic of its source, written out here), Embedding's
 * padding row, the query and capacity protocol, and every bad argument with
 * its status. The comparison with PyTorch's own modules is
 * tests/test_presets_torch.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "nninit_presets.h"

#define SENTINEL 0x5a

static nninit_layer mk(int64_t in, int64_t out, int64_t k0, int64_t k1, int64_t k2) {
    nninit_layer l = nninit_layer_default();
    l.in = in;
    l.out = out;
    l.kernel[0] = k0;
    l.kernel[1] = k1;
    l.kernel[2] = k2;
    return l;
}

/* Builds the parameters; fails the test on error. */
static int build(const char *preset, const nninit_layer *l, nninit_param *p) {
    int n = -1;
    nninit_status st = nninit_preset_params(preset, l, p, NNINIT_PRESET_MAX_PARAMS, &n);
    if (st) print_error("%s: %s (%s)\n", preset, nninit_status_str(st), nninit_last_error());
    assert_int_equal(st, NNINIT_OK);
    return n;
}

static void assert_shape(const nninit_param *p, const char *name, int ndim, const int64_t *shape) {
    assert_string_equal(p->name, name);
    assert_int_equal(p->tensor.ndim, ndim);
    for (int i = 0; i < ndim; i++) assert_int_equal(p->tensor.shape[i], shape[i]);
}

static nninit_info explain(const nninit_param *p) {
    nninit_info info;
    assert_int_equal(nninit_explain(&p->spec, &p->tensor, &info), NNINIT_OK);
    return info;
}

/* torch init.py kaiming_uniform_(a=sqrt(5)) with fan_in, as PyTorch computes it. */
static double torch_weight_bound(double fan_in) {
    double a = sqrt(5.0), gain = sqrt(2.0 / (1 + a * a));
    return sqrt(3.0) * (gain / sqrt(fan_in));
}

static void test_names(void **state) {
    (void)state;
    int n = nninit_preset_count();
    assert_int_equal(n, 22);
    assert_null(nninit_preset_name(-1));
    assert_null(nninit_preset_name(n));
    assert_string_equal(nninit_preset_name(0), "torch.Linear");
    for (int i = 0; i < n; i++) {
        const char *name = nninit_preset_name(i);
        assert_non_null(name);
        for (int j = 0; j < i; j++) assert_string_not_equal(name, nninit_preset_name(j));
        /* every preset builds a generic layer, and every parameter fills */
        nninit_layer l = mk(4, 8, 3, 3, 3);
        l.num_heads = 2;
        nninit_param p[NNINIT_PRESET_MAX_PARAMS];
        int np = build(name, &l, p);
        assert_true(np >= 1);
        for (int k = 0; k < np; k++) {
            static float buf[4 * 8 * 27 * 4];
            explain(&p[k]);
            int64_t numel;
            assert_int_equal(nninit_tensor_numel(&p[k].tensor, &numel), NNINIT_OK);
            assert_true(numel <= (int64_t)(sizeof buf / sizeof buf[0]));
            assert_int_equal(nninit_param_fill(&p[k], nninit_key_from_name(1, p[k].name), buf), NNINIT_OK);
        }
    }
}

static void test_layer_default(void **state) {
    (void)state;
    nninit_layer l = nninit_layer_default();
    assert_int_equal(l.in, 0);
    assert_int_equal(l.out, 0);
    assert_int_equal(l.groups, 1);
    assert_int_equal(l.bias, 1);
    assert_int_equal(l.num_layers, 1);
    assert_int_equal(l.bidirectional, 0);
    assert_int_equal(l.proj_size, 0);
    assert_true(l.padding_idx == NNINIT_NO_PADDING_IDX);
    assert_int_equal(l.num_heads, 1);
    assert_int_equal(l.add_bias_kv, 0);
    assert_int_equal(l.dtype, NNINIT_F32);
}

static void test_torch_linear_conv(void **state) {
    (void)state;
    nninit_param p[NNINIT_PRESET_MAX_PARAMS];
    nninit_layer l = mk(300, 129, 0, 0, 0);
    assert_int_equal(build("torch.Linear", &l, p), 2);
    assert_shape(&p[0], "weight", 2, (int64_t[]){129, 300});
    assert_shape(&p[1], "bias", 1, (int64_t[]){129});
    nninit_info w = explain(&p[0]), b = explain(&p[1]);
    assert_true(w.kind == NNINIT_RESOLVED_UNIFORM && w.fan_in == 300 && w.fan_out == 129);
    assert_true(w.bound == torch_weight_bound(300));
    assert_true(b.kind == NNINIT_RESOLVED_UNIFORM && b.lo == -1 / sqrt(300.0) && b.hi == 1 / sqrt(300.0));

    l = mk(3, 64, 7, 7, 0);
    l.bias = 0;
    assert_int_equal(build("torch.Conv2d", &l, p), 1);
    assert_shape(&p[0], "weight", 4, (int64_t[]){64, 3, 7, 7});
    assert_true(explain(&p[0]).bound == torch_weight_bound(147));

    l = mk(8, 12, 3, 1, 2);
    l.groups = 4;
    assert_int_equal(build("torch.Conv3d", &l, p), 2);
    assert_shape(&p[0], "weight", 5, (int64_t[]){12, 2, 3, 1, 2});
    assert_true(explain(&p[1]).hi == 1 / sqrt(12.0)); /* fan_in = in/groups * prod(k) */

    /* ConvTranspose: stored (in, out/groups, k...); PyTorch's OIHW rule on it
     * reads fan_in from dim 1: out/groups * prod(k) = 4 * 16. */
    l = mk(16, 8, 4, 4, 0);
    l.groups = 2;
    assert_int_equal(build("torch.ConvTranspose2d", &l, p), 2);
    assert_shape(&p[0], "weight", 4, (int64_t[]){16, 4, 4, 4});
    assert_shape(&p[1], "bias", 1, (int64_t[]){8});
    w = explain(&p[0]);
    assert_true(w.fan_in == 64 && w.fan_out == 256 && w.bound == torch_weight_bound(64));
    assert_true(explain(&p[1]).hi == 0.125);
    assert_int_equal(p[0].tensor.layout, NNINIT_LAYOUT_OIHW);

    l = mk(5, 6, 3, 0, 0);
    assert_int_equal(build("torch.ConvTranspose1d", &l, p), 2);
    assert_shape(&p[0], "weight", 3, (int64_t[]){5, 6, 3});
    assert_true(explain(&p[1]).hi == 1 / sqrt(18.0));
}

static void test_torch_embedding(void **state) {
    (void)state;
    nninit_param p[NNINIT_PRESET_MAX_PARAMS];
    nninit_layer l = mk(10, 6, 0, 0, 0);
    l.dtype = NNINIT_F64;
    assert_int_equal(build("torch.Embedding", &l, p), 1);
    assert_shape(&p[0], "weight", 2, (int64_t[]){10, 6});
    assert_int_equal(p[0].tensor.dtype, NNINIT_F64);
    nninit_info e = explain(&p[0]);
    assert_true(e.kind == NNINIT_RESOLVED_NORMAL && e.mean == 0 && e.std == 1);
    assert_true(p[0].zero_row == -1 && p[0].tensor.layout == NNINIT_LAYOUT_EMBEDDING);
    int64_t rows[] = {3, -1, 0, -10}, want[] = {3, 9, 0, 0};
    for (int c = 0; c < 4; c++) {
        l.padding_idx = rows[c];
        assert_int_equal(build("torch.Embedding", &l, p), 1);
        assert_int_equal(p[0].zero_row, want[c]);
        double buf[60];
        assert_int_equal(nninit_param_fill(&p[0], nninit_key_make(7, 7), buf), NNINIT_OK);
        for (int i = 0; i < 60; i++) {
            if (i / 6 == want[c]) assert_true(buf[i] == 0.0);
            else assert_true(buf[i] != 0.0);
        }
    }
    /* the other rows are exactly nninit_fill's */
    double ref[60], got[60];
    assert_int_equal(nninit_fill(&p[0].spec, &p[0].tensor, nninit_key_make(7, 8), ref), NNINIT_OK);
    assert_int_equal(nninit_param_fill(&p[0], nninit_key_make(7, 8), got), NNINIT_OK);
    assert_memory_equal(ref + 6, got + 6, 54 * sizeof(double));
}

static void test_torch_rnn(void **state) {
    (void)state;
    nninit_param p[NNINIT_PRESET_MAX_PARAMS];
    nninit_layer l = mk(9, 40, 0, 0, 0);
    l.num_layers = 2;
    l.bidirectional = 1;
    l.proj_size = 7;
    assert_int_equal(build("torch.LSTM", &l, p), 20);
    assert_shape(&p[0], "weight_ih_l0", 2, (int64_t[]){160, 9});
    assert_shape(&p[1], "weight_hh_l0", 2, (int64_t[]){160, 7});
    assert_shape(&p[2], "bias_ih_l0", 1, (int64_t[]){160});
    assert_shape(&p[3], "bias_hh_l0", 1, (int64_t[]){160});
    assert_shape(&p[4], "weight_hr_l0", 2, (int64_t[]){7, 40});
    assert_shape(&p[5], "weight_ih_l0_reverse", 2, (int64_t[]){160, 9});
    assert_shape(&p[10], "weight_ih_l1", 2, (int64_t[]){160, 14});
    assert_shape(&p[19], "weight_hr_l1_reverse", 2, (int64_t[]){7, 40});
    for (int i = 0; i < 20; i++) {
        nninit_info in = explain(&p[i]);
        assert_true(in.kind == NNINIT_RESOLVED_UNIFORM && in.hi == 1.0 / sqrt(40.0) && in.lo == -in.hi);
    }
    l = mk(3, 7, 0, 0, 0);
    l.num_layers = 3;
    l.bias = 0;
    assert_int_equal(build("torch.GRU", &l, p), 6);
    assert_shape(&p[2], "weight_ih_l1", 2, (int64_t[]){21, 7});
    assert_shape(&p[5], "weight_hh_l2", 2, (int64_t[]){21, 7});
    l = mk(3, 7, 0, 0, 0);
    assert_int_equal(build("torch.RNN", &l, p), 4);
    assert_shape(&p[0], "weight_ih_l0", 2, (int64_t[]){7, 3});
}

static void test_torch_norm_mha(void **state) {
    (void)state;
    nninit_param p[NNINIT_PRESET_MAX_PARAMS];
    const char *norms[] = {"torch.LayerNorm", "torch.BatchNorm1d", "torch.BatchNorm2d", "torch.BatchNorm3d"};
    for (int i = 0; i < 4; i++) {
        nninit_layer l = mk(0, 5, 0, 0, 0);
        assert_int_equal(build(norms[i], &l, p), 2);
        assert_shape(&p[0], "weight", 1, (int64_t[]){5});
        assert_shape(&p[1], "bias", 1, (int64_t[]){5});
        nninit_info w = explain(&p[0]), b = explain(&p[1]);
        assert_true(w.kind == NNINIT_RESOLVED_CONSTANT && w.lo == 1.0);
        assert_true(b.kind == NNINIT_RESOLVED_CONSTANT && b.lo == 0.0);
        l.bias = 0; /* affine=False */
        assert_int_equal(build(norms[i], &l, p), 0);
    }
    nninit_layer l = mk(0, 30, 0, 0, 0);
    l.num_heads = 3;
    l.add_bias_kv = 1;
    assert_int_equal(build("torch.MultiheadAttention", &l, p), 6);
    assert_shape(&p[0], "in_proj_weight", 2, (int64_t[]){90, 30});
    assert_shape(&p[1], "in_proj_bias", 1, (int64_t[]){90});
    assert_shape(&p[2], "bias_k", 3, (int64_t[]){1, 1, 30});
    assert_shape(&p[3], "bias_v", 3, (int64_t[]){1, 1, 30});
    assert_shape(&p[4], "out_proj.weight", 2, (int64_t[]){30, 30});
    assert_shape(&p[5], "out_proj.bias", 1, (int64_t[]){30});
    assert_true(explain(&p[0]).bound == sqrt(3.0) * (1.0 * sqrt(2.0 / (30.0 + 90.0))));
    assert_true(explain(&p[1]).kind == NNINIT_RESOLVED_CONSTANT);
    assert_true(explain(&p[2]).std == 1.0 * sqrt(2.0 / 60.0));
    assert_true(explain(&p[4]).bound == torch_weight_bound(30));
    assert_true(explain(&p[5]).kind == NNINIT_RESOLVED_CONSTANT && explain(&p[5]).lo == 0.0);
    l.bias = 0;
    l.add_bias_kv = 0;
    assert_int_equal(build("torch.MultiheadAttention", &l, p), 2);
    assert_string_equal(p[1].name, "out_proj.weight");
}

static void test_keras_flax(void **state) {
    (void)state;
    nninit_param p[NNINIT_PRESET_MAX_PARAMS];
    nninit_layer l = mk(6, 12, 3, 3, 0);
    l.groups = 3;
    assert_int_equal(build("keras.Conv2D", &l, p), 2);
    assert_shape(&p[0], "kernel", 4, (int64_t[]){3, 3, 2, 12});
    assert_shape(&p[1], "bias", 1, (int64_t[]){12});
    nninit_info k = explain(&p[0]);
    /* Keras: fans 18, 108; scale /= max(1, (18 + 108) / 2); limit = sqrt(3 * scale) */
    assert_true(k.fan_in == 18 && k.fan_out == 108 && k.hi == sqrt(3.0 * (1.0 / 63.0)) && k.lo == -k.hi);
    assert_true(explain(&p[1]).kind == NNINIT_RESOLVED_CONSTANT && explain(&p[1]).lo == 0.0);
    l = mk(784, 10, 0, 0, 0);
    assert_int_equal(build("keras.Dense", &l, p), 2);
    assert_shape(&p[0], "kernel", 2, (int64_t[]){784, 10});
    assert_true(explain(&p[0]).hi == sqrt(3.0 * (1.0 / 397.0)));
    l = mk(4, 8, 5, 0, 0);
    assert_int_equal(build("keras.Conv1D", &l, p), 2);
    assert_shape(&p[0], "kernel", 3, (int64_t[]){5, 4, 8});
    l = mk(4, 8, 2, 3, 4);
    assert_int_equal(build("keras.Conv3D", &l, p), 2);
    assert_shape(&p[0], "kernel", 5, (int64_t[]){2, 3, 4, 4, 8});

    /* Flax lecun_normal: truncated normal on +-2 std, std sqrt(1/fan_in) /
     * .87962566103423978 in float32 (param_dtype), float64 when asked. */
    l = mk(784, 10, 0, 0, 0);
    l.bias = 0;
    assert_int_equal(build("flax.Dense", &l, p), 1);
    assert_shape(&p[0], "kernel", 2, (int64_t[]){784, 10});
    k = explain(&p[0]);
    float s32 = sqrtf((float)(1.0 / 784.0)) / (float)0.87962566103423978;
    assert_true(k.kind == NNINIT_RESOLVED_TRUNC_NORMAL && k.std == (double)s32 && k.hi == 2.0 * s32);
    l.dtype = NNINIT_F64;
    assert_int_equal(build("flax.Dense", &l, p), 1);
    assert_true(explain(&p[0]).std == sqrt(1.0 / 784.0) / 0.87962566103423978);
    l = mk(6, 4, 3, 5, 0);
    l.groups = 2;
    assert_int_equal(build("flax.Conv", &l, p), 2);
    assert_shape(&p[0], "kernel", 4, (int64_t[]){3, 5, 3, 4});
    assert_true(explain(&p[0]).fan_in == 45);
    l = mk(6, 4, 3, 0, 0);
    assert_int_equal(build("flax.Conv", &l, p), 2);
    assert_shape(&p[0], "kernel", 3, (int64_t[]){3, 6, 4});
}

static void test_query_and_cap(void **state) {
    (void)state;
    nninit_layer l = mk(3, 7, 0, 0, 0);
    l.num_layers = 2;
    int n = -1;
    assert_int_equal(nninit_preset_params("torch.LSTM", &l, NULL, 0, &n), NNINIT_OK);
    assert_int_equal(n, 8);
    nninit_param p[8];
    memset(p, SENTINEL, sizeof p);
    n = -1;
    assert_int_equal(nninit_preset_params("torch.LSTM", &l, p, 7, &n), NNINIT_ERR_PARAM);
    assert_int_equal(n, 8);
    for (size_t i = 0; i < sizeof p; i++) assert_int_equal(((unsigned char *)p)[i], SENTINEL);
    assert_int_equal(nninit_preset_params("torch.LSTM", &l, p, 8, &n), NNINIT_OK);
    assert_string_equal(p[7].name, "bias_hh_l1");
}

/* The call must fail with `want`, say so, and write neither params nor count. */
static void expect_fail(const char *preset, nninit_layer l, nninit_status want) {
    nninit_param p[NNINIT_PRESET_MAX_PARAMS];
    memset(p, SENTINEL, sizeof p);
    int n = -7;
    nninit_status got = nninit_preset_params(preset, &l, p, NNINIT_PRESET_MAX_PARAMS, &n);
    if (got != want)
        print_error("%s: got %s (%s), want %s\n", preset ? preset : "(null)", nninit_status_str(got),
                    nninit_last_error(), nninit_status_str(want));
    assert_int_equal(got, want);
    assert_true(strlen(nninit_last_error()) > 0);
    assert_int_equal(n, -7);
    for (size_t i = 0; i < sizeof p; i++) assert_int_equal(((unsigned char *)p)[i], SENTINEL);
}

static void test_errors(void **state) {
    (void)state;
    nninit_layer ok = mk(4, 8, 3, 3, 3);
    nninit_param p[4];
    int n;
    /* NULL pointers */
    assert_int_equal(nninit_preset_params(NULL, &ok, p, 4, &n), NNINIT_ERR_NULL);
    assert_int_equal(nninit_preset_params("torch.Linear", NULL, p, 4, &n), NNINIT_ERR_NULL);
    assert_int_equal(nninit_preset_params("torch.Linear", &ok, p, 4, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_preset_params("torch.Linear", &ok, NULL, 4, &n), NNINIT_ERR_NULL);
    /* unknown names: case-sensitive, no prefix matching */
    expect_fail("torch.conv2d", ok, NNINIT_ERR_UNKNOWN_NAME);
    expect_fail("", ok, NNINIT_ERR_UNKNOWN_NAME);
    expect_fail("torch.Linear ", ok, NNINIT_ERR_UNKNOWN_NAME);
    expect_fail("Linear", ok, NNINIT_ERR_UNKNOWN_NAME);
    assert_non_null(strstr(nninit_last_error(), "Linear"));
    /* zero and negative sizes, in every family */
    const char *all[] = {"torch.Linear",    "torch.Conv2d", "torch.ConvTranspose3d",
                         "torch.Embedding", "torch.LSTM",   "keras.Dense",
                         "keras.Conv1D",    "flax.Dense",   "flax.Conv"};
    for (int i = 0; i < 9; i++) {
        nninit_layer l = ok;
        l.in = 0;
        expect_fail(all[i], l, NNINIT_ERR_SHAPE);
        l = ok;
        l.out = -3;
        expect_fail(all[i], l, NNINIT_ERR_SHAPE);
    }
    nninit_layer l = ok;
    l.out = 0;
    expect_fail("torch.LayerNorm", l, NNINIT_ERR_SHAPE);
    expect_fail("torch.BatchNorm2d", l, NNINIT_ERR_SHAPE);
    expect_fail("torch.MultiheadAttention", l, NNINIT_ERR_SHAPE);
    l = ok;
    l.kernel[1] = 0;
    expect_fail("torch.Conv2d", l, NNINIT_ERR_SHAPE);
    expect_fail("keras.Conv3D", l, NNINIT_ERR_SHAPE);
    expect_fail("flax.Conv", l, NNINIT_ERR_SHAPE); /* a 0 between entries */
    l.kernel[1] = -1;
    expect_fail("torch.ConvTranspose2d", l, NNINIT_ERR_SHAPE);
    l = mk(4, 8, 0, 0, 0);
    expect_fail("flax.Conv", l, NNINIT_ERR_SHAPE);
    expect_fail("torch.Conv1d", l, NNINIT_ERR_SHAPE);
    /* groups */
    const char *convs[] = {"torch.Conv1d", "torch.ConvTranspose2d", "keras.Conv2D", "flax.Conv"};
    for (int i = 0; i < 4; i++) {
        l = ok;
        l.groups = 0;
        expect_fail(convs[i], l, NNINIT_ERR_GROUPS);
        l.groups = -2;
        expect_fail(convs[i], l, NNINIT_ERR_GROUPS);
        l.groups = 3; /* divides neither */
        expect_fail(convs[i], l, NNINIT_ERR_GROUPS);
        l = mk(6, 8, 3, 3, 3);
        l.groups = 3; /* divides in, not out */
        expect_fail(convs[i], l, NNINIT_ERR_GROUPS);
        l = mk(4, 6, 3, 3, 3);
        l.groups = 3; /* divides out, not in */
        expect_fail(convs[i], l, NNINIT_ERR_GROUPS);
    }
    /* dtype */
    l = ok;
    l.dtype = (nninit_dtype)99;
    expect_fail("torch.Linear", l, NNINIT_ERR_DTYPE);
    /* flags and counts */
    l = ok;
    l.bias = 2;
    expect_fail("torch.Linear", l, NNINIT_ERR_PARAM);
    expect_fail("torch.BatchNorm1d", l, NNINIT_ERR_PARAM);
    l = ok;
    l.num_layers = 0;
    expect_fail("torch.GRU", l, NNINIT_ERR_PARAM);
    l = ok;
    l.bidirectional = -1;
    expect_fail("torch.RNN", l, NNINIT_ERR_PARAM);
    l = ok;
    l.proj_size = 2;
    expect_fail("torch.GRU", l, NNINIT_ERR_PARAM); /* LSTM only */
    l.proj_size = 8;
    expect_fail("torch.LSTM", l, NNINIT_ERR_PARAM); /* must be < hidden */
    l.proj_size = -1;
    expect_fail("torch.LSTM", l, NNINIT_ERR_PARAM);
    l = ok;
    l.padding_idx = 4;
    expect_fail("torch.Embedding", l, NNINIT_ERR_PARAM);
    l.padding_idx = -5;
    expect_fail("torch.Embedding", l, NNINIT_ERR_PARAM);
    l = ok;
    l.num_heads = 0;
    expect_fail("torch.MultiheadAttention", l, NNINIT_ERR_PARAM);
    l.num_heads = 3;
    expect_fail("torch.MultiheadAttention", l, NNINIT_ERR_PARAM);
    l.num_heads = 2;
    l.add_bias_kv = 5;
    expect_fail("torch.MultiheadAttention", l, NNINIT_ERR_PARAM);
    /* overflow */
    l = mk(INT64_C(1) << 40, INT64_C(1) << 40, 0, 0, 0);
    expect_fail("torch.Linear", l, NNINIT_ERR_OVERFLOW);
    l = mk(3, INT64_MAX / 2, 0, 0, 0);
    expect_fail("torch.LSTM", l, NNINIT_ERR_OVERFLOW);
    l = mk(3, INT64_MAX / 2, 0, 0, 0);
    expect_fail("torch.MultiheadAttention", l, NNINIT_ERR_OVERFLOW);

    /* nninit_param_fill */
    l = mk(10, 6, 0, 0, 0);
    l.padding_idx = 2;
    assert_int_equal(nninit_preset_params("torch.Embedding", &l, p, 4, &n), NNINIT_OK);
    float buf[60];
    assert_int_equal(nninit_param_fill(NULL, nninit_key_make(1, 1), buf), NNINIT_ERR_NULL);
    assert_int_equal(nninit_param_fill(&p[0], nninit_key_make(1, 1), NULL), NNINIT_ERR_NULL);
    p[0].zero_row = 10;
    memset(buf, SENTINEL, sizeof buf);
    assert_int_equal(nninit_param_fill(&p[0], nninit_key_make(1, 1), buf), NNINIT_ERR_SHAPE);
    for (size_t i = 0; i < sizeof buf; i++) assert_int_equal(((unsigned char *)buf)[i], SENTINEL);
    p[0].zero_row = 2;
    p[0].tensor.shape[1] = 0;
    assert_int_equal(nninit_param_fill(&p[0], nninit_key_make(1, 1), buf), NNINIT_ERR_SHAPE);
}

static void test_parse(void **state) {
    (void)state;
    const char *name = NULL;
    nninit_layer l;
    assert_int_equal(nninit_preset_parse("torch.Conv2d(in=3,out=64,kernel=7,groups=1,bias=true)", &name, &l),
                     NNINIT_OK);
    assert_string_equal(name, "torch.Conv2d");
    assert_ptr_equal(name, nninit_preset_name(2)); /* the static name */
    assert_true(l.in == 3 && l.out == 64 && l.kernel[0] == 7 && l.kernel[1] == 7 && l.kernel[2] == 0);
    assert_true(l.groups == 1 && l.bias == 1 && l.dtype == NNINIT_F32);
    assert_int_equal(
        nninit_preset_parse("  keras.Conv3D ( in = 2 , out=4, kernel=3x5x1, bias=0, dtype=f64 )  ", &name, &l),
        NNINIT_OK);
    assert_string_equal(name, "keras.Conv3D");
    assert_true(l.kernel[0] == 3 && l.kernel[1] == 5 && l.kernel[2] == 1 && l.bias == 0 && l.dtype == NNINIT_F64);
    assert_int_equal(nninit_preset_parse("flax.Conv(in=2, out=4, kernel=3)", &name, &l), NNINIT_OK);
    assert_true(l.kernel[0] == 3 && l.kernel[1] == 0);
    assert_int_equal(
        nninit_preset_parse("torch.LSTM(in=9,out=40,num_layers=2,bidirectional=true,proj_size=7)", &name, &l),
        NNINIT_OK);
    assert_true(l.num_layers == 2 && l.bidirectional == 1 && l.proj_size == 7);
    assert_int_equal(nninit_preset_parse("torch.Embedding(in=10, out=3, padding_idx=-1)", &name, &l), NNINIT_OK);
    assert_true(l.padding_idx == -1);
    assert_int_equal(nninit_preset_parse("torch.MultiheadAttention(out=8, num_heads=2, add_bias_kv=1)", &name, &l),
                     NNINIT_OK);
    assert_true(l.num_heads == 2 && l.add_bias_kv == 1);
    /* bare and empty parentheses: the defaults */
    nninit_layer d = nninit_layer_default();
    assert_int_equal(nninit_preset_parse("torch.BatchNorm2d", &name, &l), NNINIT_OK);
    assert_memory_equal(&l, &d, sizeof l);
    assert_int_equal(nninit_preset_parse("torch.LayerNorm()", &name, &l), NNINIT_OK);
    assert_memory_equal(&l, &d, sizeof l);
    /* the parsed layer builds what the fields give */
    nninit_param a[NNINIT_PRESET_MAX_PARAMS], b[NNINIT_PRESET_MAX_PARAMS];
    assert_int_equal(nninit_preset_parse("torch.ConvTranspose2d(in=16, out=8, kernel=4x3, groups=2)", &name, &l),
                     NNINIT_OK);
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    int na = build(name, &l, a);
    l = mk(16, 8, 4, 3, 0);
    l.groups = 2;
    int nb = build("torch.ConvTranspose2d", &l, b);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na * sizeof a[0]);

    /* errors: *preset and *layer untouched */
    const char *bad[] = {"torch.Linear(in=3, kernel=3)",        /* a key Linear does not read */
                         "torch.GRU(in=3, out=4, proj_size=1)", /* LSTM only */
                         "torch.Linear(in=3, in=4)",
                         "torch.Linear(in=3 out=4)",
                         "torch.Linear(in=3, out=4",
                         "torch.Linear(in=3,)",
                         "torch.Linear(in=, out=4)",
                         "torch.Linear(in=3.5)",
                         "torch.Linear(in=99999999999999999999)",
                         "torch.Linear(bias=yes)",
                         "torch.Linear(dtype=f8)",
                         "torch.Linear(in=3) x",
                         "torch.Conv2d(kernel=3x3x3)",
                         "torch.Conv3d(kernel=3x3)",
                         "flax.Conv(kernel=1x2x3x4)",
                         "torch.RNN(num_layers=9999999999)",
                         "torch.Linear(In=3)"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *keep = "sentinel";
        nninit_layer before;
        memset(&before, SENTINEL, sizeof before);
        l = before;
        name = keep;
        nninit_status st = nninit_preset_parse(bad[i], &name, &l);
        if (st != NNINIT_ERR_PARAM) print_error("'%s': %s (%s)\n", bad[i], nninit_status_str(st), nninit_last_error());
        assert_int_equal(st, NNINIT_ERR_PARAM);
        assert_non_null(strstr(nninit_last_error(), "preset: at "));
        assert_ptr_equal(name, keep);
        assert_memory_equal(&l, &before, sizeof l);
    }
    assert_int_equal(nninit_preset_parse("torch.Linear(in=3, kernel=3)", &name, &l), NNINIT_ERR_PARAM);
    assert_string_equal(nninit_last_error(), "preset: at 20: torch.Linear takes no parameter 'kernel'");
    assert_int_equal(nninit_preset_parse("torch.Lin(in=3)", &name, &l), NNINIT_ERR_UNKNOWN_NAME);
    assert_int_equal(nninit_preset_parse("(in=3)", &name, &l), NNINIT_ERR_UNKNOWN_NAME);
    assert_int_equal(nninit_preset_parse("", &name, &l), NNINIT_ERR_UNKNOWN_NAME);
    assert_int_equal(nninit_preset_parse(NULL, &name, &l), NNINIT_ERR_NULL);
    assert_int_equal(nninit_preset_parse("torch.Linear", NULL, &l), NNINIT_ERR_NULL);
    assert_int_equal(nninit_preset_parse("torch.Linear", &name, NULL), NNINIT_ERR_NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_layer_default),
        cmocka_unit_test(test_torch_linear_conv),
        cmocka_unit_test(test_torch_embedding),
        cmocka_unit_test(test_torch_rnn),
        cmocka_unit_test(test_torch_norm_mha),
        cmocka_unit_test(test_keras_flax),
        cmocka_unit_test(test_query_and_cap),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

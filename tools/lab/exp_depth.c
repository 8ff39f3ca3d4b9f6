/* exp_depth.c -- lab experiments (being written). */
#include "lab.h"

static nninit_status run_relu_depth(const lab_ctx *ctx, lab_result *r) {
    (void)ctx, (void)r;
    lab_set_error("relu-depth: not written yet");
    return NNINIT_ERR_PARAM;
}
const lab_experiment lab_exp_relu_depth = {"relu-depth", "relu-depth", "", "", run_relu_depth};

static nninit_status run_tanh_sigmoid(const lab_ctx *ctx, lab_result *r) {
    (void)ctx, (void)r;
    lab_set_error("tanh-sigmoid: not written yet");
    return NNINIT_ERR_PARAM;
}
const lab_experiment lab_exp_tanh_sigmoid = {"tanh-sigmoid", "tanh-sigmoid", "", "", run_tanh_sigmoid};

static nninit_status run_shallow(const lab_ctx *ctx, lab_result *r) {
    (void)ctx, (void)r;
    lab_set_error("shallow: not written yet");
    return NNINIT_ERR_PARAM;
}
const lab_experiment lab_exp_shallow = {"shallow", "shallow", "", "", run_shallow};

static nninit_status run_residual(const lab_ctx *ctx, lab_result *r) {
    (void)ctx, (void)r;
    lab_set_error("residual: not written yet");
    return NNINIT_ERR_PARAM;
}
const lab_experiment lab_exp_residual = {"residual", "residual", "", "", run_residual};

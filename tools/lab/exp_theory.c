/* exp_theory.c -- lab experiments (being written). */
#include "lab.h"

static nninit_status run_mean_field(const lab_ctx *ctx, lab_result *r) {
    (void)ctx, (void)r;
    lab_set_error("mean-field: not written yet");
    return NNINIT_ERR_PARAM;
}
const lab_experiment lab_exp_mean_field = {"mean-field", "mean-field", "", "", run_mean_field};

static nninit_status run_lsuv(const lab_ctx *ctx, lab_result *r) {
    (void)ctx, (void)r;
    lab_set_error("lsuv: not written yet");
    return NNINIT_ERR_PARAM;
}
const lab_experiment lab_exp_lsuv = {"lsuv", "lsuv", "", "", run_lsuv};

static nninit_status run_selu(const lab_ctx *ctx, lab_result *r) {
    (void)ctx, (void)r;
    lab_set_error("selu: not written yet");
    return NNINIT_ERR_PARAM;
}
const lab_experiment lab_exp_selu = {"selu", "selu", "", "", run_selu};

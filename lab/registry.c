/* registry.c -- every experiment of the lab, in report order. */
#include <string.h>

#include "lab.h"

static const lab_experiment *const all[] = {
    &lab_exp_zero_init,    &lab_exp_constant_init,
    &lab_exp_small_random, &lab_exp_large_random,
    &lab_exp_relu_depth,   &lab_exp_tanh_sigmoid,
    &lab_exp_shallow,      &lab_exp_residual,
    &lab_exp_mean_field,   &lab_exp_lsuv,
    &lab_exp_selu, /* exp_claims2.c: */
    &lab_exp_zero_bias,    &lab_exp_lr_rescue,
    &lab_exp_relu_explode, /* exp_scaling.c: */
    &lab_exp_leaky_he,     NULL,
};

const lab_experiment *const *lab_experiments(int *n) {
    *n = (int)(sizeof all / sizeof all[0]) - 1;
    return all;
}

const lab_experiment *lab_find(const char *name) {
    int n;
    const lab_experiment *const *e = lab_experiments(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(e[i]->name, name)) return e[i];
    return NULL;
}

/* probe_inputs.c -- the probe's batch and its pair of correlated inputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "nninit_data.h"
#include "probe/probe_internal.h"
#include "rng/philox.h"

nninit_status nninit__probe_inputs(const nninit_probe_opts *o, int in, int classes, float *x, int *y, float *pair) {
    nninit_status st;
    int B = o->batch;
    if (o->input == NNINIT_INPUT_CALLER) {
        if (!o->x || !o->y) return nninit__err(NNINIT_ERR_NULL, "probe: input 'caller' without opts.x and opts.y");
        for (int b = 0; b < B; b++)
            if (o->y[b] < 0 || o->y[b] >= classes)
                return nninit__err(NNINIT_ERR_PARAM, "probe: label %d = %d not in 0..%d", b, o->y[b], classes - 1);
        memcpy(x, o->x, (size_t)B * in * sizeof *x);
        memcpy(y, o->y, (size_t)B * sizeof *y);
    } else if (o->input == NNINIT_INPUT_FASHION) {
        if (in != 784)
            return nninit__err(NNINIT_ERR_PARAM, "probe: Fashion-MNIST inputs have 784 features, the network takes %d",
                               in);
        if (classes < 10)
            return nninit__err(NNINIT_ERR_PARAM, "probe: Fashion-MNIST has 10 classes, the network outputs %d",
                               classes);
        float *fx = NULL;
        int *fy = NULL, n = 0;
        if ((st = nninit_fashion_mnist_load(o->data_dir, 1, &fx, &fy, &n))) return st;
        if ((st = nninit_standardize(fx, n, 784, NAN, NAN, NULL, NULL))) {
            free(fx);
            free(fy);
            return st;
        }
        /* B examples from a seed-dependent offset, wrapping around */
        int off = (int)(o->seed % (uint64_t)n);
        for (int b = 0; b < B; b++) {
            int i = (off + b) % n;
            memcpy(x + (size_t)b * 784, fx + (size_t)i * 784, 784 * sizeof(float));
            y[b] = fy[i];
        }
        free(fx);
        free(fy);
    } else {
        if ((st = nninit_inputs_gaussian(x, B, in, o->seed))) return st;
        /* random labels: Philox words of key (seed, "inputs.labels") */
        uint32_t key[2], w[4];
        nninit_key_philox(nninit_key_from_name(o->seed, "inputs.labels"), key);
        for (int b = 0; b < B; b++) {
            const uint32_t ctr[4] = {(uint32_t)b, 0, 0, 0};
            nninit__philox4x32_10(ctr, key, w);
            y[b] = (int)(((uint64_t)w[0] * (uint64_t)classes) >> 32);
        }
    }
    if ((st = nninit_inputs_correlated_pair(pair, in, o->pair_corr, o->seed))) return st;
    /* Make the pair's sample correlation exactly c0 with equal norms sqrt(d)
     * (Gram-Schmidt), so the correlation map starts where it is asked to. */
    if (in >= 2) {
        float *u = pair, *v = pair + in;
        double uu = 0, uv = 0, vv = 0;
        for (int j = 0; j < in; j++) uu += (double)u[j] * u[j];
        for (int j = 0; j < in; j++) uv += (double)u[j] * v[j];
        double a = uv / uu;
        for (int j = 0; j < in; j++) v[j] = (float)(v[j] - a * u[j]);
        for (int j = 0; j < in; j++) vv += (double)v[j] * v[j];
        double su = sqrt(in / uu), sv = sqrt(in / vv), c = o->pair_corr, s = sqrt(1 - c * c);
        for (int j = 0; j < in; j++) {
            double uj = u[j] * su, vj = v[j] * sv;
            u[j] = (float)uj;
            v[j] = (float)(c * uj + s * vj);
        }
    }
    return NNINIT_OK;
}

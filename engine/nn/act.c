/* act.c -- activations: names, forward, and the derivative used by backward.
 *
 * All in f32. Each loop has the switch outside so that the compiler sees a
 * plain element-wise loop. Derivatives at a kink follow PyTorch's backward:
 * relu'(0) = 0, leaky_relu'(0) = slope, elu'(0) = alpha, selu'(0) = lambda alpha.
 */
#include <math.h>
#include <string.h>

#include "nn_internal.h"

/* SELU constants (Klambauer et al. 2017, eq. 14), as torch.nn.SELU. */
#define SELU_LAMBDA  1.0507009873554805f
#define SELU_ALPHA   1.6732632423543772f
#define INV_SQRT2    0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

static const char *const act_names[NNINIT_ACT_COUNT] = {"identity", "sigmoid", "tanh", "relu",    "leaky_relu",
                                                        "elu",      "selu",    "gelu", "softplus"};

const char *nninit_act_name(nninit_act a) { return (unsigned)a < NNINIT_ACT_COUNT ? act_names[a] : "unknown"; }

nninit_status nninit_act_parse(const char *name, nninit_act *out) {
    if (!name || !out) return nninit__err(NNINIT_ERR_NULL, "act_parse: NULL argument");
    for (int i = 0; i < NNINIT_ACT_COUNT; i++)
        if (strcmp(name, act_names[i]) == 0) {
            *out = (nninit_act)i;
            return NNINIT_OK;
        }
    return nninit__err(NNINIT_ERR_UNKNOWN_NAME,
                       "unknown activation '%s' (identity, sigmoid, tanh, relu, leaky_relu, elu, selu, gelu, "
                       "softplus)",
                       name);
}

float nninit__act_param(nninit_act a, double param) {
    switch (a) {
    case NNINIT_ACT_LEAKY_RELU: return isnan(param) ? 0.01f : (float)param; /* torch.nn.LeakyReLU default */
    case NNINIT_ACT_ELU: return isnan(param) ? 1.0f : (float)param;         /* torch.nn.ELU default */
    default: return 0.0f;
    }
}

/* 1 / (1 + e^-x) without overflow: e^-|x| <= 1 always. */
static inline float sigmoidf(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* Phi(x) = erfc(-x / sqrt 2) / 2: unlike (1 + erf(x / sqrt 2)) / 2 it keeps
 * full relative precision in the left tail (no cancellation of 1 - 0.99...). */
static inline float phi_cdf(float x) { return 0.5f * erfcf(-x * INV_SQRT2); }

void nninit__act_forward(nninit_act a, float p, const float *pre, float *post, size_t n) {
    switch (a) {
    case NNINIT_ACT_IDENTITY:
        if (post != pre) memcpy(post, pre, n * sizeof *post);
        return;
    case NNINIT_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) post[i] = sigmoidf(pre[i]);
        return;
    case NNINIT_ACT_TANH:
        for (size_t i = 0; i < n; i++) post[i] = tanhf(pre[i]);
        return;
    case NNINIT_ACT_RELU:
        for (size_t i = 0; i < n; i++) post[i] = pre[i] > 0.0f ? pre[i] : 0.0f;
        return;
    case NNINIT_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) post[i] = pre[i] > 0.0f ? pre[i] : p * pre[i];
        return;
    case NNINIT_ACT_ELU:
        for (size_t i = 0; i < n; i++) post[i] = pre[i] > 0.0f ? pre[i] : p * expm1f(pre[i]);
        return;
    case NNINIT_ACT_SELU:
        for (size_t i = 0; i < n; i++) post[i] = SELU_LAMBDA * (pre[i] > 0.0f ? pre[i] : SELU_ALPHA * expm1f(pre[i]));
        return;
    case NNINIT_ACT_GELU: /* exact: x Phi(x) */
        for (size_t i = 0; i < n; i++) post[i] = pre[i] * phi_cdf(pre[i]);
        return;
    case NNINIT_ACT_SOFTPLUS: /* log(1 + e^x) = max(x, 0) + log1p(e^-|x|), never overflows */
        for (size_t i = 0; i < n; i++) {
            float x = pre[i];
            post[i] = (x > 0.0f ? x : 0.0f) + log1pf(expf(-fabsf(x)));
        }
        return;
    case NNINIT_ACT_COUNT: break;
    }
}

void nninit__act_backward(nninit_act a, float p, const float *pre, const float *post, float *d, size_t n) {
    switch (a) {
    case NNINIT_ACT_IDENTITY: return;
    case NNINIT_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) d[i] *= post[i] * (1.0f - post[i]);
        return;
    case NNINIT_ACT_TANH:
        for (size_t i = 0; i < n; i++) d[i] *= 1.0f - post[i] * post[i];
        return;
    case NNINIT_ACT_RELU:
        for (size_t i = 0; i < n; i++) d[i] = pre[i] > 0.0f ? d[i] : 0.0f;
        return;
    case NNINIT_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) d[i] = pre[i] > 0.0f ? d[i] : p * d[i];
        return;
    case NNINIT_ACT_ELU: /* x <= 0: alpha e^x = y + alpha */
        for (size_t i = 0; i < n; i++) d[i] = pre[i] > 0.0f ? d[i] : (post[i] + p) * d[i];
        return;
    case NNINIT_ACT_SELU: /* x <= 0: lambda alpha e^x = y + lambda alpha */
        for (size_t i = 0; i < n; i++)
            d[i] = pre[i] > 0.0f ? SELU_LAMBDA * d[i] : (post[i] + SELU_LAMBDA * SELU_ALPHA) * d[i];
        return;
    case NNINIT_ACT_GELU: /* Phi(x) + x phi(x) */
        for (size_t i = 0; i < n; i++) {
            float x = pre[i];
            d[i] *= phi_cdf(x) + x * (INV_SQRT_2PI * expf(-0.5f * x * x));
        }
        return;
    case NNINIT_ACT_SOFTPLUS: /* sigmoid(x) */
        for (size_t i = 0; i < n; i++) d[i] *= sigmoidf(pre[i]);
        return;
    case NNINIT_ACT_COUNT: break;
    }
}

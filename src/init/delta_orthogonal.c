/* delta_orthogonal.c -- a conv kernel that is gain * an orthogonal matrix at
 * its centre tap and zero at every other tap.
 *
 * Xiao, Bahri, Sohl-Dickstein, Schoenholz & Pennington 2018, "Dynamical
 * Isometry and a Mean Field Theory of CNNs: How to Train 10,000-Layer Vanilla
 * Convolutional Neural Networks" (arXiv:1806.05393), Algorithm 2; JAX's
 * jax/_src/nn/initializers.py delta_orthogonal(scale=1.0, column_axis=-1):
 *
 *     if len(shape) not in [3, 4, 5]: raise ValueError(...)
 *     if shape[-1] < shape[-2]: raise ValueError("`fan_in` must be less or
 *                                                 equal than `fan_out`. ")
 *     ortho_matrix = orthogonal(scale, column_axis)(key, shape[-2:])
 *     W = zeros(shape)
 *     return W.at[(k1-1)//2, (k2-1)//2, ..., :, :].set(ortho_matrix)
 *
 * JAX's kernel is HWIO. Here the channel axes are the tensor's layout's
 * (oihw: 0 and 1; hwio: the last two; iohw: 1 and 0; custom: out_axis and
 * in_axis) and every other axis is spatial, so the same conv layer gets the
 * same kernel in any layout. groups are ignored, as orthogonal ignores them:
 * the matrix is the (out, in) one the tensor stores.
 *
 * The centre tap is (k-1)//2 on every spatial axis, JAX's index: k//2 (the
 * middle) for odd k, the lower of the two middles for even k (k = 2 -> 0,
 * k = 4 -> 1), where PyTorch's dirac_ takes k//2, the upper one.
 *
 * The channel matrix M, M[o][i] = w[centre..., o, i], is exactly what
 * NNINIT_ORTHOGONAL writes on a 2-D (out, in) tensor of the same dtype with
 * the same key (src/init/orthogonal.c): out >= in, so its columns are
 * orthonormal and M^T M = gain^2 I. JAX forms its (in, out) matrix as the
 * transpose of the Q of an (out, in) Gaussian (the square case untransposed,
 * the same Haar distribution), so M has JAX's distribution; column_axis does
 * not change it when in <= out. The bits are not JAX's (another generator).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

nninit_status nninit__delta_orthogonal_axes(const nninit_tensor *t, int *out_ax, int *in_ax) {
    const int n = t->ndim;
    if (n < 3 || n > 5)
        return nninit__err(NNINIT_ERR_DIMS,
                           "delta_orthogonal: only 3, 4 and 5-dimensional tensors are supported (ndim %d)", n);
    switch (t->layout) {
    case NNINIT_LAYOUT_OIHW: *out_ax = 0, *in_ax = 1; break;
    case NNINIT_LAYOUT_HWIO: *out_ax = n - 1, *in_ax = n - 2; break;
    case NNINIT_LAYOUT_IOHW: *out_ax = 1, *in_ax = 0; break;
    case NNINIT_LAYOUT_CUSTOM:
        *out_ax = t->out_axis, *in_ax = t->in_axis;
        if (*in_ax < 0 || *in_ax >= n || *out_ax < 0 || *out_ax >= n || *in_ax == *out_ax)
            return nninit__err(NNINIT_ERR_LAYOUT, "delta_orthogonal: custom axes in=%d out=%d invalid for %d dims",
                               *in_ax, *out_ax, n);
        break;
    case NNINIT_LAYOUT_EMBEDDING:
        return nninit__err(
            NNINIT_ERR_LAYOUT,
            "delta_orthogonal: the embedding layout has no spatial dims (use oihw, hwio, iohw or custom)");
    default: return nninit__err(NNINIT_ERR_LAYOUT, "delta_orthogonal: unknown layout %d", (int)t->layout);
    }
    /* JAX's check: an (in, out) matrix with orthonormal rows needs in <= out. */
    if (t->shape[*in_ax] > t->shape[*out_ax])
        return nninit__err(NNINIT_ERR_SHAPE,
                           "delta_orthogonal: in-channels (%lld, dim %d) must be <= out-channels (%lld, dim %d)",
                           (long long)t->shape[*in_ax], *in_ax, (long long)t->shape[*out_ax], *out_ax);
    return NNINIT_OK;
}

nninit_status nninit__fill_delta_orthogonal(const nninit_spec *spec, const nninit_tensor *t, int64_t numel,
                                            const uint32_t key[2], void *data) {
    int out_ax, in_ax;
    nninit_status st = nninit__delta_orthogonal_axes(t, &out_ax, &in_ax);
    if (st) return st;
    const int64_t out = t->shape[out_ax], in = t->shape[in_ax];
    const size_t size = nninit_dtype_size(t->dtype);

    /* Row-major strides, and the centre tap's flat offset. */
    int64_t stride[NNINIT_MAX_DIMS], centre = 0;
    stride[t->ndim - 1] = 1;
    for (int d = t->ndim - 1; d > 0; d--) stride[d - 1] = stride[d] * t->shape[d];
    for (int d = 0; d < t->ndim; d++)
        if (d != out_ax && d != in_ax) centre += (t->shape[d] - 1) / 2 * stride[d];

    /* M into a scratch buffer first, so that a failure leaves data untouched;
     * out * in <= numel, which the tensor check bounded. */
    void *m = malloc((size_t)(out * in) * size);
    if (!m)
        return nninit__err(NNINIT_ERR_NOMEM, "delta_orthogonal: cannot allocate a %lld x %lld matrix", (long long)out,
                           (long long)in);
    nninit_spec ortho = nninit_spec_default(NNINIT_ORTHOGONAL);
    ortho.gain = spec->gain;
    const nninit_tensor mt = nninit_tensor_2d(out, in, t->dtype);
    st = nninit__fill_orthogonal(&ortho, &mt, out * in, key, m);
    if (st) {
        free(m);
        return nninit__err(st, "delta_orthogonal: %s", nninit_last_error());
    }
    /* All-zero bytes are +0 in every dtype; the centre gets M's values as
     * stored, already rounded once to the dtype. */
    memset(data, 0, (size_t)numel * size);
    for (int64_t o = 0; o < out; o++)
        for (int64_t i = 0; i < in; i++)
            memcpy((char *)data + (size_t)(centre + o * stride[out_ax] + i * stride[in_ax]) * size,
                   (const char *)m + (size_t)(o * in + i) * size, size);
    free(m);
    return NNINIT_OK;
}

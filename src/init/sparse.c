/* sparse.c -- N(0, std^2) with ceil(sparsity * rows) zeros in every column.
 *
 * PyTorch torch/nn/init.py sparse_(tensor, sparsity, std=0.01) (Martens 2010,
 * "Deep learning via Hessian-free optimization", sec. 5):
 *
 *     rows, cols = tensor.shape              # 2-D only
 *     num_zeros = int(math.ceil(sparsity * rows))
 *     tensor.normal_(0, std)
 *     for col_idx in range(cols):
 *         zero_indices = torch.randperm(rows)[:num_zeros]
 *         tensor[zero_indices, col_idx] = 0
 *
 * PyTorch's randperm is not passed the caller's generator, so its zero pattern
 * comes from the global RNG even when a generator is given. Here the pattern
 * is a pure function of (key, column): a partial Fisher-Yates shuffle whose
 * step j in column c uses Philox counter {c_lo, c_hi, j, "sprs"}.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

/* High 64 bits of the 128-bit product a*b, in portable C11. */
static uint64_t mulhi64(uint64_t a, uint64_t b) {
    const uint64_t a_lo = (uint32_t)a, a_hi = a >> 32;
    const uint64_t b_lo = (uint32_t)b, b_hi = b >> 32;
    const uint64_t p0 = a_lo * b_lo, p1 = a_lo * b_hi, p2 = a_hi * b_lo, p3 = a_hi * b_hi;
    const uint64_t mid = (p0 >> 32) + (uint32_t)p1 + (uint32_t)p2; /* < 3 * 2^32 */
    return p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
}

nninit_status nninit__fill_sparse(const nninit_spec *spec, const nninit_tensor *t, int64_t numel, const uint32_t key[2],
                                  void *data) {
    if (t->ndim != 2) return nninit__err(NNINIT_ERR_DIMS, "sparse: needs exactly 2 dims, got %d", t->ndim);
    const double sparsity = spec->sparsity, std = spec->std;
    if (!(sparsity >= 0.0 && sparsity <= 1.0)) /* also rejects NaN */
        return nninit__err(NNINIT_ERR_SPARSITY, "sparse: sparsity (%g) must be in [0, 1]", sparsity);
    if (!(isfinite(std) && std >= 0.0))
        return nninit__err(NNINIT_ERR_PARAM, "sparse: std (%g) must be finite and >= 0", std);

    const int64_t rows = t->shape[0], cols = t->shape[1];
    /* math.ceil(sparsity * rows) in double, as PyTorch; clamped so that a row
     * count above 2^53 (rounded up by the conversion) cannot exceed rows. */
    const double zd = ceil(sparsity * (double)rows);
    const int64_t num_zeros = zd >= (double)rows ? rows : (int64_t)zd;

    /* Allocate before writing anything, so a failure leaves data untouched. */
    int64_t *perm = NULL;
    if (num_zeros > 0) {
        if ((uint64_t)rows > SIZE_MAX / sizeof(int64_t) || !(perm = malloc((size_t)rows * sizeof(int64_t))))
            return nninit__err(NNINIT_ERR_NOMEM, "sparse: cannot allocate %lld row indices", (long long)rows);
    }

    /* The values NNINIT_NORMAL(0, std) writes, bit for bit: std * z of the
     * tensor's standard normal stream, in float for f32/bf16/f16 and in
     * double for f64. */
    nninit__fill_normal(key, t->dtype, 0.0, std, 0, numel, data);

    for (int64_t c = 0; c < cols && num_zeros > 0; c++) {
        for (int64_t r = 0; r < rows; r++) perm[r] = r;
        /* Partial Fisher-Yates: step j swaps position j with a uniform pick from
         * [j, rows). The pick is Lemire's multiply-high of a 64-bit draw, without
         * rejection: each index gets floor or ceil of 2^64/(rows-j) of the draws,
         * a relative bias below rows * 2^-64. (uint32_t)j repeats counters only
         * past 2^32 zeros in one column. */
        for (int64_t j = 0; j < num_zeros; j++) {
            const uint32_t ctr[4] = {(uint32_t)c, (uint32_t)((uint64_t)c >> 32), (uint32_t)j, NNINIT_DOMAIN_SPARSE};
            uint32_t out[4];
            nninit_philox4x32(ctr, key, out);
            const uint64_t bits = ((uint64_t)out[0] << 32) | out[1];
            const int64_t k = j + (int64_t)mulhi64(bits, (uint64_t)(rows - j));
            const int64_t tmp = perm[j];
            perm[j] = perm[k];
            perm[k] = tmp;
            nninit__store_f64(t->dtype, data, perm[j] * cols + c, 0.0);
        }
    }
    free(perm);
    return NNINIT_OK;
}

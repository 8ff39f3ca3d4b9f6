/* philox.h -- Philox4x32-10, the counter-based generator every value comes from.
 *
 * Salmon, Moraes, Dror & Shaw, "Parallel Random Numbers: As Easy as 1, 2, 3",
 * SC11. Constants and round structure as Random123's include/Random123/philox.h;
 * tests/test_rng.c checks Random123's known-answer vectors (kat_vectors).
 * Inline so that the fill kernels keep the state in registers. */
#ifndef NNINIT_PHILOX_H
#define NNINIT_PHILOX_H

#include <stdint.h>

#define NNINIT_PHILOX_M0 0xD2511F53u
#define NNINIT_PHILOX_M1 0xCD9E8D57u
#define NNINIT_PHILOX_W0 0x9E3779B9u /* golden ratio */
#define NNINIT_PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

static inline void nninit__philox_round(uint32_t c[4], uint32_t k0, uint32_t k1) {
    uint64_t p0 = (uint64_t)NNINIT_PHILOX_M0 * c[0];
    uint64_t p1 = (uint64_t)NNINIT_PHILOX_M1 * c[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t c1 = c[1], c3 = c[3];
    c[0] = hi1 ^ c1 ^ k0;
    c[1] = lo1;
    c[2] = hi0 ^ c3 ^ k1;
    c[3] = lo0;
}

/* out = Philox4x32-10(ctr, key). The key is bumped by the Weyl constants
 * before every round but the first. */
static inline void nninit__philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r) {
            k0 += NNINIT_PHILOX_W0;
            k1 += NNINIT_PHILOX_W1;
        }
        nninit__philox_round(c, k0, k1);
    }
    out[0] = c[0];
    out[1] = c[1];
    out[2] = c[2];
    out[3] = c[3];
}

#endif

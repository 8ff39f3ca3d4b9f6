/* key.c -- tensor keys and the Philox key derived from them (docs/RNG.md). */
#include "internal.h"
#include "rng/philox.h"

/* SplitMix64's output function (Steele, Lea & Flood, OOPSLA 2014): a bijective
 * 64-bit mixer, so distinct (seed, id) pairs rarely share a Philox key. */
static uint64_t nninit__mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t nninit_hash_name(const char *name) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 offset basis */
    if (name)
        for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
            h ^= *p;
            h *= 0x100000001b3ull; /* FNV 64 prime */
        }
    return h;
}

nninit_key nninit_key_make(uint64_t seed, uint64_t id) {
    nninit_key k = {seed, id};
    return k;
}

nninit_key nninit_key_from_name(uint64_t seed, const char *name) {
    return nninit_key_make(seed, nninit_hash_name(name));
}

/* philox key = mix64(seed ^ mix64(id)), low word first. */
void nninit_key_philox(nninit_key k, uint32_t out[2]) {
    uint64_t m = nninit__mix64(k.seed ^ nninit__mix64(k.id));
    out[0] = (uint32_t)m;
    out[1] = (uint32_t)(m >> 32);
}

void nninit_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    nninit__philox4x32_10(ctr, key, out);
}

/* mt19937.c -- torch's CPU generator: the MT19937 engine of
 * aten/src/ATen/core/MT19937RNGEngine.h (32-bit state, Cokus' twist), the
 * seeding of CPUGeneratorImpl::set_current_seed, raw words, and
 * torch.get_rng_state()'s bytes. */
#include <string.h>

#include "torch/torch_internal.h"

enum {
    MT_N = NNINIT__MT_N,
    MT_M = NNINIT__MT_M
};
#define MT_MATRIX_A 0x9908b0dfu
#define MT_UMASK    0x80000000u
#define MT_LMASK    0x7fffffffu

/* init_with_uint32: only the low 32 bits seed the engine; left_ = 1 makes the
 * first draw twist. manual_seed also clears both normal caches. */
nninit_status nninit_torch_gen_init(nninit_torch_gen *g, uint64_t seed) {
    if (!g) return nninit__err(NNINIT_ERR_NULL, "torch_gen_init: NULL generator");
    memset(g, 0, sizeof *g);
    g->seed = seed;
    g->state[0] = (uint32_t)seed;
    for (uint32_t j = 1; j < MT_N; j++) g->state[j] = 1812433253u * (g->state[j - 1] ^ (g->state[j - 1] >> 30)) + j;
    g->left = 1;
    g->next = 0;
    g->cpu = NNINIT_TORCH_CPU_AVX2;
    return NNINIT_OK;
}

nninit_status nninit_torch_gen_set_cpu(nninit_torch_gen *g, nninit_torch_cpu cpu) {
    if (!g) return nninit__err(NNINIT_ERR_NULL, "torch_gen_set_cpu: NULL generator");
    if (cpu != NNINIT_TORCH_CPU_AVX2 && cpu != NNINIT_TORCH_CPU_DEFAULT)
        return nninit__err(NNINIT_ERR_PARAM, "torch_gen_set_cpu: unknown cpu %d", (int)cpu);
    g->cpu = cpu;
    return NNINIT_OK;
}

static uint32_t mix(uint32_t u, uint32_t v) {
    return (((u & MT_UMASK) | (v & MT_LMASK)) >> 1) ^ ((v & 1u) ? MT_MATRIX_A : 0u);
}

void nninit__mt_twist(uint32_t *s) {
    int j = 0;
    for (; j < MT_N - MT_M; j++) s[j] = s[j + MT_M] ^ mix(s[j], s[j + 1]);
    for (; j < MT_N - 1; j++) s[j] = s[j + MT_M - MT_N] ^ mix(s[j], s[j + 1]);
    s[MT_N - 1] = s[MT_M - 1] ^ mix(s[MT_N - 1], s[0]);
}

/* The words of the state after next are the ones left - 1 draws read before
 * the next twist; a twist happens only when a word is needed, so left/next
 * always hold what torch's engine holds after the same number of draws. */
void nninit__mt_words(nninit_torch_gen *g, uint32_t *out, int64_t n, int simd) {
    while (n > 0) {
        if (g->left == 1) {
#if NNINIT__TORCH_HAVE_AVX2
            if (simd) nninit__mt_twist_avx2(g->state);
            else
#endif
                nninit__mt_twist(g->state);
            g->left = MT_N + 1; /* the draw that twisted then leaves left_ = 624 */
            g->next = 0;
        }
        int64_t k = (int64_t)g->left - 1;
        if (k > n) k = n;
        const uint32_t *w = g->state + g->next;
#if NNINIT__TORCH_HAVE_AVX2
        if (simd) nninit__mt_temper_avx2(w, out, k);
        else
#endif
            for (int64_t i = 0; i < k; i++) out[i] = nninit__mt_temper(w[i]);
        g->next += (uint32_t)k;
        g->left -= (uint32_t)k;
        out += k;
        n -= k;
    }
    (void)simd;
}

/* The positions torch's engine can be in: (1, 0) after seeding, else
 * left + next = 625. Anything else would read past the state. */
static int position_ok(uint32_t left, uint64_t next) {
    return (left == 1 && next == 0) || (left >= 1 && left <= MT_N && next <= MT_N && left + next == MT_N + 1);
}

int nninit__torch_simd(void) {
    const char *arch = nninit_arch_name();
    if (!arch) return -1;
#if NNINIT__TORCH_HAVE_AVX2
    if (strcmp(arch, "avx2") != 0 && strcmp(arch, "avx512") != 0) return 0;
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

nninit_status nninit__torch_check(const char *op, const nninit_torch_gen *g, nninit_dtype d, const void *data,
                                  int64_t n) {
    if (!g) return nninit__err(NNINIT_ERR_NULL, "%s: NULL generator", op);
    if (n < 0) return nninit__err(NNINIT_ERR_PARAM, "%s: n (%lld) < 0", op, (long long)n);
    if (n > 0 && !data) return nninit__err(NNINIT_ERR_NULL, "%s: NULL data", op);
    if (d != NNINIT_F32 && d != NNINIT_F64) {
        if (d == NNINIT_BF16 || d == NNINIT_F16)
            return nninit__err(NNINIT_ERR_DTYPE, "%s: %s is not reproduced (float32 and float64 only)", op,
                               nninit_dtype_name(d));
        return nninit__err(NNINIT_ERR_DTYPE, "%s: unknown dtype %d", op, (int)d);
    }
    if (g->cpu != NNINIT_TORCH_CPU_AVX2 && g->cpu != NNINIT_TORCH_CPU_DEFAULT)
        return nninit__err(NNINIT_ERR_PARAM, "%s: generator has unknown cpu %d", op, (int)g->cpu);
    if (!position_ok(g->left, g->next))
        return nninit__err(NNINIT_ERR_PARAM, "%s: generator not initialized (left %u, next %u)", op, (unsigned)g->left,
                           (unsigned)g->next);
    return NNINIT_OK;
}

nninit_status nninit_torch_random(nninit_torch_gen *g, uint32_t *out, int64_t n) {
    if (!g) return nninit__err(NNINIT_ERR_NULL, "torch_random: NULL generator");
    if (n < 0) return nninit__err(NNINIT_ERR_PARAM, "torch_random: n (%lld) < 0", (long long)n);
    if (n > 0 && !out) return nninit__err(NNINIT_ERR_NULL, "torch_random: NULL out");
    if (!position_ok(g->left, g->next))
        return nninit__err(NNINIT_ERR_PARAM, "torch_random: generator not initialized (left %u, next %u)",
                           (unsigned)g->left, (unsigned)g->next);
    int simd = nninit__torch_simd();
    if (simd < 0) return nninit__err(NNINIT_ERR_ARCH, "torch_random: %s", nninit_last_error());
    nninit__mt_words(g, out, n, simd);
    return NNINIT_OK;
}

/* ---- torch.get_rng_state() / set_rng_state() ------------------------------
 * CPUGeneratorImpl's CPUGeneratorImplState (the legacy THGeneratorState POD,
 * then the float cache), little-endian x86-64 layout, padding zero:
 *     0 u64 the_initial_seed     8 i32 left     12 i32 seeded   16 u64 next
 *    24 u64 state[624] (the 32-bit words widened)
 *  5016 f64 normal_x (0)  5024 f64 normal_y (the cached double normal)
 *  5032 f64 normal_rho (0)  5040 i32 normal_is_valid  (pad to 5048)
 *  5048 f32 next_float_normal_sample  5052 u8 its validity  (pad to 5056) */
enum {
    ST_SEED = 0,
    ST_LEFT = 8,
    ST_SEEDED = 12,
    ST_NEXT = 16,
    ST_STATE = 24,
    ST_NORMAL_X = 24 + 8 * MT_N,
    ST_NORMAL_Y = ST_NORMAL_X + 8,
    ST_NORMAL_RHO = ST_NORMAL_X + 16,
    ST_NORMAL_VALID = ST_NORMAL_X + 24,
    ST_FLOAT_NORMAL = ST_NORMAL_VALID + 8,
    ST_FLOAT_VALID = ST_FLOAT_NORMAL + 4
};

static void put(unsigned char *b, size_t off, const void *v, size_t len) { memcpy(b + off, v, len); }
static void get(const unsigned char *b, size_t off, void *v, size_t len) { memcpy(v, b + off, len); }

nninit_status nninit_torch_gen_get_state(const nninit_torch_gen *g, void *buf, size_t cap) {
    if (!g || !buf) return nninit__err(NNINIT_ERR_NULL, "torch_gen_get_state: NULL argument");
    if (cap < NNINIT_TORCH_STATE_SIZE)
        return nninit__err(NNINIT_ERR_PARAM, "torch_gen_get_state: cap %zu < %d bytes", cap, NNINIT_TORCH_STATE_SIZE);
    unsigned char *b = buf;
    memset(b, 0, NNINIT_TORCH_STATE_SIZE);
    int32_t left = (int32_t)g->left, seeded = 1, valid = g->has_next_double_normal ? 1 : 0;
    uint64_t next = g->next;
    put(b, ST_SEED, &g->seed, 8);
    put(b, ST_LEFT, &left, 4);
    put(b, ST_SEEDED, &seeded, 4);
    put(b, ST_NEXT, &next, 8);
    for (int i = 0; i < MT_N; i++) {
        uint64_t w = g->state[i];
        put(b, ST_STATE + 8 * (size_t)i, &w, 8);
    }
    if (valid) put(b, ST_NORMAL_Y, &g->next_double_normal, 8);
    put(b, ST_NORMAL_VALID, &valid, 4);
    if (g->has_next_float_normal) {
        put(b, ST_FLOAT_NORMAL, &g->next_float_normal, 4);
        b[ST_FLOAT_VALID] = 1;
    }
    return NNINIT_OK;
}

nninit_status nninit_torch_gen_set_state(nninit_torch_gen *g, const void *buf, size_t len) {
    if (!g || !buf) return nninit__err(NNINIT_ERR_NULL, "torch_gen_set_state: NULL argument");
    if (len != NNINIT_TORCH_STATE_SIZE)
        return nninit__err(NNINIT_ERR_FORMAT, "torch_gen_set_state: %zu bytes, expected %d", len,
                           NNINIT_TORCH_STATE_SIZE);
    const unsigned char *b = buf;
    int32_t left, seeded, valid;
    uint64_t next;
    get(b, ST_LEFT, &left, 4);
    get(b, ST_SEEDED, &seeded, 4);
    get(b, ST_NEXT, &next, 8);
    get(b, ST_NORMAL_VALID, &valid, 4);
    /* mt19937_engine::is_valid(), narrowed to the positions the engine can
     * reach (torch would read past its state from the others) */
    if (seeded == 0 || left < 1 || left > MT_N || next > MT_N || !position_ok((uint32_t)left, next))
        return nninit__err(NNINIT_ERR_FORMAT,
                           "torch_gen_set_state: invalid mt19937 state (seeded %d, left %d, next %llu)", (int)seeded,
                           (int)left, (unsigned long long)next);
    nninit_torch_gen t = *g;
    get(b, ST_SEED, &t.seed, 8);
    for (int i = 0; i < MT_N; i++) {
        uint64_t w;
        get(b, ST_STATE + 8 * (size_t)i, &w, 8);
        t.state[i] = (uint32_t)w;
    }
    t.left = (uint32_t)left;
    t.next = (uint32_t)next;
    t.has_next_double_normal = valid != 0;
    t.next_double_normal = 0;
    if (valid) get(b, ST_NORMAL_Y, &t.next_double_normal, 8);
    t.has_next_float_normal = b[ST_FLOAT_VALID] != 0;
    t.next_float_normal = 0;
    if (t.has_next_float_normal) get(b, ST_FLOAT_NORMAL, &t.next_float_normal, 4);
    *g = t;
    return NNINIT_OK;
}

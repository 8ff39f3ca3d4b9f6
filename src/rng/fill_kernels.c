/* fill_kernels.c -- the scalar reference kernels: element i of a tensor from
 * (Philox key, i) only. docs/RNG.md is the specification.
 *
 * f32 family (f32, bf16, f16 outputs): block b = i / 4 holds elements 4b..4b+3;
 *   its four words are Philox4x32-10((b_lo, b_hi, 0, domain), key).
 *   uniform: lane j uses word j.
 *   normal:  lanes (0, 1) are Box-Muller of words (0, 1) -> (r cos, r sin);
 *            lanes (2, 3) the same of words (2, 3).
 * f64: block b = i / 2 holds elements 2b, 2b+1.
 *   uniform: lane j uses words (2j, 2j+1) as 53 bits.
 *   normal:  Box-Muller of u1 = words (0, 1), t = words (2, 3) -> (r cos, r sin).
 * truncated normal (all dtypes, computed in double): element i alone, attempt k
 *   uses Philox((i_lo, i_hi, k, TRUNC), key).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rng/philox.h"
#include "rng/kernels.h"
#include "rng/transform.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <cpuid.h>
#endif

/* ---- two builds of each kernel, one table each -------------------------
 * fma() is correctly rounded whether libm computes it or the CPU does, so a
 * kernel compiled for FMA hardware gives the same bits as the portable one;
 * it only saves a libm call per fma (about ten per normal value). Each kernel
 * below is a forced-inline body (NNINIT_INLINE, as are the transforms of
 * transform.h); KERNEL_SET stamps out wrappers compiled once as they are and
 * once with target("fma"), and the entry points at the end call through the
 * set chosen at first use (below). These two are "scalar" (the FMA build,
 * where the CPU has FMA) and "portable"; NNINIT_ARCH=portable forces the
 * latter (to check on FMA hardware that both give the same bits); building
 * with -DNNINIT_NO_FMA_SET leaves the portable one alone.
 *
 * Not target_clones, which this file used before: clang before 18 names the
 * dispatching ifunc "f.ifunc" and defines no symbol "f", so a caller in
 * another file that sees the plain declaration (src/init/fill.c) fails to
 * link, "undefined reference to nninit__fill_normal" (llvm-project PR 71706
 * gave the ifunc the plain name, in clang 18). Visibility is not the cause:
 * the clones are hidden either way. An ifunc also needs a loader that runs
 * resolvers (musl's does not). A table works with any compiler and costs one
 * indirect call per range. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(NNINIT_NO_FMA_SET)
#define NNINIT_HAVE_FMA_SET 1
#endif

#define CHUNK 256 /* values staged in f32 before conversion to bf16 / f16 */

static inline void block_words(const uint32_t key[2], uint64_t b, uint32_t domain, uint32_t w[4]) {
    const uint32_t ctr[4] = {(uint32_t)b, (uint32_t)(b >> 32), 0u, domain};
    nninit__philox4x32_10(ctr, key, w);
}

/* Stage f32 values of [begin, end) through gen(), then store them as d. */
typedef void (*gen_f32_fn)(const uint32_t key[2], const void *par, int64_t begin, int64_t end, float *out);

static void run_f32(gen_f32_fn gen, const uint32_t key[2], const void *par, nninit_dtype d, int64_t begin, int64_t end,
                    void *out) {
    if (d == NNINIT_F32) {
        gen(key, par, begin, end, (float *)out);
        return;
    }
    float buf[CHUNK];
    for (int64_t i = begin; i < end; i += CHUNK) {
        int64_t n = end - i < CHUNK ? end - i : CHUNK;
        gen(key, par, i, i + n, buf);
        for (int64_t j = 0; j < n; j++) nninit__store_f32(d, out, i - begin + j, buf[j]);
    }
}

/* ---- uniform ------------------------------------------------------------ */
/* min(v, hi), written out: v unless v > hi, so v on a tie of +0 and -0. Not
 * fminf, which C lets return either zero on that tie (GCC 12 swaps its
 * operands; glibc versions differ), so the bits would depend on the compiler
 * and libm. These bits are the ones fminf gave with GCC 12 and glibc 2.36. */
NNINIT_INLINE float cap_f32(float v, float hi) { return v > hi ? hi : v; }
NNINIT_INLINE double cap_f64(double v, double hi) { return v > hi ? hi : v; }

typedef struct {
    float lo, width, hi;
} unif_f32_par;

/* v = fma(u, hi - lo, lo), capped at hi: u in [0, 1), so v in [lo, hi]. */
NNINIT_INLINE void gen_uniform_f32(const uint32_t key[2], const void *vp, int64_t begin, int64_t end, float *out) {
    const unif_f32_par *p = vp;
    for (int64_t i = begin; i < end;) {
        uint32_t w[4];
        uint64_t b = (uint64_t)i >> 2;
        block_words(key, b, NNINIT_DOMAIN_UNIFORM, w);
        for (int j = (int)(i & 3); j < 4 && i < end; j++, i++)
            out[i - begin] = cap_f32(fmaf(nninit__u01_f32(w[j]), p->width, p->lo), p->hi);
    }
}

NNINIT_INLINE void fill_uniform(const uint32_t key[2], nninit_dtype d, double lo, double hi, int64_t begin, int64_t end,
                                void *out, gen_f32_fn gen) {
    if (d == NNINIT_F64) {
        double *o = out, width = hi - lo;
        for (int64_t i = begin; i < end;) {
            uint32_t w[4];
            block_words(key, (uint64_t)i >> 1, NNINIT_DOMAIN_UNIFORM, w);
            for (int j = (int)(i & 1); j < 2 && i < end; j++, i++)
                o[i - begin] = cap_f64(fma(nninit__u01_f64(w[2 * j], w[2 * j + 1]), width, lo), hi);
        }
        return;
    }
    unif_f32_par p = {(float)lo, (float)(hi - lo), (float)hi};
    run_f32(gen, key, &p, d, begin, end, out);
}

/* ---- normal ------------------------------------------------------------- */
typedef struct {
    float mean, std;
} norm_f32_par;

NNINIT_INLINE void gen_normal_f32(const uint32_t key[2], const void *vp, int64_t begin, int64_t end, float *out) {
    const norm_f32_par *p = vp;
    for (int64_t i = begin; i < end;) {
        uint32_t w[4];
        float z[4];
        block_words(key, (uint64_t)i >> 2, NNINIT_DOMAIN_NORMAL, w);
        nninit__box_muller_f32(w[0], w[1], &z[0], &z[1]);
        nninit__box_muller_f32(w[2], w[3], &z[2], &z[3]);
        for (int j = (int)(i & 3); j < 4 && i < end; j++, i++) out[i - begin] = fmaf(z[j], p->std, p->mean);
    }
}

NNINIT_INLINE void fill_normal(const uint32_t key[2], nninit_dtype d, double mean, double std, int64_t begin,
                               int64_t end, void *out, gen_f32_fn gen) {
    if (d == NNINIT_F64) {
        double *o = out;
        for (int64_t i = begin; i < end;) {
            uint32_t w[4];
            double z[2];
            block_words(key, (uint64_t)i >> 1, NNINIT_DOMAIN_NORMAL, w);
            nninit__box_muller_f64(w, &z[0], &z[1]);
            for (int j = (int)(i & 1); j < 2 && i < end; j++, i++) o[i - begin] = fma(z[j], std, mean);
        }
        return;
    }
    norm_f32_par p = {(float)mean, (float)std};
    run_f32(gen, key, &p, d, begin, end, out);
}

/* ---- truncated normal ----------------------------------------------------
 * Exact rejection sampling (Robert 1995, "Simulation of truncated normal
 * variables", Stat. Comput. 5:121; arXiv 0907.4010), per element with a retry
 * counter, in double for every dtype. For z ~ N(0,1) restricted to [za, zb]:
 *   - window straddling 0 and wider than sqrt(2 pi): normal proposals (both
 *     Box-Muller outputs of an attempt), accept if inside;
 *   - window straddling 0, narrower: z ~ U(za, zb), accept if
 *     log u <= -z^2/2;
 *   - one-sided window za > 0 (zb < 0 is mirrored): uniform proposals when the
 *     window is short (Robert's threshold), else the translated exponential
 *     z = za + E/lam, lam = (za + sqrt(za^2 + 4))/2, accept if z <= zb and
 *     log u <= -(z - lam)^2/2.
 * Acceptance is above ~0.5 in every case, so 128 attempts fail with
 * probability < 1e-38; should that happen the value is the last uniform
 * proposal (or the finite bound), still inside [a, b]. Values are formed as
 * x = mean + std*z and accepted only if va <= x <= vb, so rounding can never
 * put a value outside the bounds, and nothing is clamped. */
#define TRUNC_MAX_ATTEMPTS 128

NNINIT_INLINE double trunc_uniform(double za, double zb, double u) { return fma(u, zb - za, za); }

NNINIT_INLINE double trunc_normal_at(const uint32_t key[2], int64_t i, double mean, double std, double za, double zb,
                                     double va, double vb) {
    const nninit__trunc_mode tm = nninit__trunc_mode_of(za, zb); /* kernels.h */
    const int mirror = tm.mirror, mode = tm.mode; /* 0 normal, 1 uniform straddle, 2 uniform tail, 3 exp */
    const double a = tm.a, b = tm.b, lam = tm.lam;
    double last = NAN;
    for (uint32_t k = 0; k < TRUNC_MAX_ATTEMPTS; k++) {
        const uint32_t ctr[4] = {(uint32_t)(uint64_t)i, (uint32_t)((uint64_t)i >> 32), k, NNINIT_DOMAIN_TRUNC};
        uint32_t w[4];
        nninit__philox4x32_10(ctr, key, w);
        double cand[2];
        int nc = 0;
        switch (mode) {
        case 0: {
            double z0, z1;
            nninit__box_muller_f64(w, &z0, &z1);
            if (z0 >= a && z0 <= b) cand[nc++] = z0;
            if (z1 >= a && z1 <= b) cand[nc++] = z1;
            break;
        }
        case 1:
        case 2: {
            double z = trunc_uniform(a, b, nninit__u01_f64(w[0], w[1]));
            if (isfinite(a) && isfinite(b)) last = z;
            double lu = nninit__log_f64(nninit__u01_open0_f64(w[2], w[3]));
            double lim = mode == 1 ? -0.5 * z * z : 0.5 * (a - z) * (a + z);
            if (z >= a && z <= b && lu <= lim) cand[nc++] = z;
            break;
        }
        default: {
            double e = -nninit__log_f64(nninit__u01_open0_f64(w[0], w[1]));
            double z = a + e / lam;
            double lu = nninit__log_f64(nninit__u01_open0_f64(w[2], w[3]));
            double dz = z - lam;
            if (z <= b && lu <= -0.5 * dz * dz) cand[nc++] = z;
            break;
        }
        }
        for (int c = 0; c < nc; c++) {
            double z = mirror ? -cand[c] : cand[c];
            double x = fma(std, z, mean);
            if (x >= va && x <= vb) return x;
        }
    }
    /* Not reached in practice (see above); stay inside the bounds. */
    if (!isnan(last)) {
        double x = fma(std, mirror ? -last : last, mean);
        if (x >= va && x <= vb) return x;
    }
    return isfinite(va) ? va : vb;
}

NNINIT_INLINE void fill_trunc_normal(const uint32_t key[2], nninit_dtype d, const nninit__plan *p, int64_t begin,
                                     int64_t end, void *out) {
    for (int64_t i = begin; i < end; i++)
        nninit__store_f64(d, out, i - begin, trunc_normal_at(key, i, p->mean, p->std, p->za, p->zb, p->va, p->vb));
}

/* ---- the tables ---------------------------------------------------------- */
/* The set `name`, every wrapper compiled with the attribute ATTR (which the
 * forced-inline bodies then are too). */
#define KERNEL_SET(name, ATTR)                                                                                         \
    ATTR static void name##_gen_uniform_f32(const uint32_t key[2], const void *par, int64_t begin, int64_t end,        \
                                            float *out) {                                                              \
        gen_uniform_f32(key, par, begin, end, out);                                                                    \
    }                                                                                                                  \
    ATTR static void name##_uniform(const uint32_t key[2], nninit_dtype d, double lo, double hi, int64_t begin,        \
                                    int64_t end, void *out) {                                                          \
        fill_uniform(key, d, lo, hi, begin, end, out, name##_gen_uniform_f32);                                         \
    }                                                                                                                  \
    ATTR static void name##_gen_normal_f32(const uint32_t key[2], const void *par, int64_t begin, int64_t end,         \
                                           float *out) {                                                               \
        gen_normal_f32(key, par, begin, end, out);                                                                     \
    }                                                                                                                  \
    ATTR static void name##_normal(const uint32_t key[2], nninit_dtype d, double mean, double std, int64_t begin,      \
                                   int64_t end, void *out) {                                                           \
        fill_normal(key, d, mean, std, begin, end, out, name##_gen_normal_f32);                                        \
    }                                                                                                                  \
    ATTR static void name##_trunc_normal(const uint32_t key[2], nninit_dtype d, const nninit__plan *p, int64_t begin,  \
                                         int64_t end, void *out) {                                                     \
        fill_trunc_normal(key, d, p, begin, end, out);                                                                 \
    }                                                                                                                  \
    ATTR static double name##_trunc_normal_at(const uint32_t key[2], int64_t i, double mean, double std, double za,    \
                                              double zb, double va, double vb) {                                       \
        return trunc_normal_at(key, i, mean, std, za, zb, va, vb);                                                     \
    }                                                                                                                  \
    const nninit__kernel_set nninit__##name##_set = {#name, name##_uniform, name##_normal, name##_trunc_normal,        \
                                                     name##_trunc_normal_at}

#define NNINIT_NO_ATTR
KERNEL_SET(portable, NNINIT_NO_ATTR);
#ifdef NNINIT_HAVE_FMA_SET
KERNEL_SET(scalar, __attribute__((target("fma"))));
#else
const nninit__kernel_set nninit__scalar_set = {"scalar", portable_uniform, portable_normal, portable_trunc_normal,
                                               portable_trunc_normal_at};
#endif

/* ---- which set runs -------------------------------------------------------
 * Chosen once per process (pthread_once): NNINIT_ARCH names a set (scalar,
 * portable, avx2, avx512, avx512bf16) or, unset or empty, the widest this
 * CPU runs: avx512bf16 > avx512 > avx2 > scalar. A name this build or CPU cannot run is an error,
 * remembered with its reason: never a silent fallback, so that a test run
 * under NNINIT_ARCH=avx512 really ran the avx512 kernels.
 *
 * A SIMD set needs the CPU's instructions and the operating system's
 * consent: XCR0 must show that it saves the YMM (avx2) or the opmask and ZMM
 * (avx512) registers on a context switch, else the first instruction that
 * touches them faults. libgcc's and compiler-rt's __builtin_cpu_supports do
 * check XCR0 (gcc 12, clang 14), but which runtime answers depends on the
 * link line, so XCR0 is read here too; that also lets the message tell a CPU
 * that lacks a feature from an OS that disabled it. */
#if defined(NNINIT_HAVE_FMA_SET) || defined(NNINIT_HAVE_X86_SETS)

/* XCR0, or 0 when the OS has not enabled XSAVE (xgetbv would fault). */
static uint64_t xcr0(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
    __asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
    return ((uint64_t)d << 32) | a;
}

#ifdef NNINIT_HAVE_X86_SETS
/* The CPU itself has AVX (avx512 = 0) or AVX-512 F (1), whatever the OS
 * enabled: only to tell the two cases apart in a message. */
static int cpu_has_base(int avx512) {
    unsigned a, b, c, d;
    if (!avx512) return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_AVX);
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX512F);
}
#endif
#endif

#define XCR0_YMM    0x06u /* SSE + AVX state */
#define XCR0_AVX512 0xe6u /* SSE + AVX + opmask + ZMM0-15 upper + ZMM16-31 */

static char choice_why[192];
static const nninit__kernel_set *choice;

/* The scalar set: its FMA build where the CPU has FMA (and the OS the YMM
 * state: target("fma") code is VEX-encoded), else the portable one. Without
 * an FMA build "scalar" is the portable code under its own name. */
static const nninit__kernel_set *scalar_set(void) {
#ifdef NNINIT_HAVE_FMA_SET
    __builtin_cpu_init(); /* idempotent; needed if called before constructors run */
    if (__builtin_cpu_supports("fma") && (xcr0() & XCR0_YMM) == XCR0_YMM) return &nninit__scalar_set;
    return &nninit__portable_set;
#else
    return &nninit__scalar_set;
#endif
}

#ifdef NNINIT_HAVE_X86_SETS
int nninit__cpu_has_avx512bf16(void) {
    unsigned a, b, c, d;
    return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5));
}
#endif

/* The SIMD set named (avx2, avx512 or avx512bf16) if this CPU and OS run it;
 * else NULL and the reason, after "NNINIT_ARCH=name: ", in why. */
static const nninit__kernel_set *simd_set(const char *name, char *why, size_t cap) {
#ifdef NNINIT_HAVE_X86_SETS
    __builtin_cpu_init();
    const int bf16 = strcmp(name, "avx512bf16") == 0;
    const int avx512 = bf16 || strcmp(name, "avx512") == 0;
#ifndef NNINIT_HAVE_AVX512BF16_SET
    if (bf16) {
        snprintf(why, cap, "this build has no avx512bf16 kernels (its compiler lacks -mavx512bf16)");
        return NULL;
    }
#endif
    const uint64_t need = avx512 ? XCR0_AVX512 : XCR0_YMM;
    if ((xcr0() & need) != need && cpu_has_base(avx512)) {
        snprintf(why, cap, "the operating system has not enabled the %s registers (XCR0)", avx512 ? "AVX-512" : "AVX");
        return NULL;
    }
    char lacks[64] = "";
    size_t n = 0;
#define NEED(feature, label)                                                                                           \
    do {                                                                                                               \
        if (!__builtin_cpu_supports(feature))                                                                          \
            n += (size_t)snprintf(lacks + n, sizeof lacks - n, "%s%s", n ? ", " : "", label);                          \
    } while (0)
    if (avx512) {
        NEED("avx512f", "AVX-512 F");
        NEED("avx512dq", "AVX-512 DQ");
        NEED("avx512bw", "AVX-512 BW");
        NEED("avx512vl", "AVX-512 VL");
        if (bf16 && !nninit__cpu_has_avx512bf16())
            n += (size_t)snprintf(lacks + n, sizeof lacks - n, "%sAVX-512 BF16", n ? ", " : "");
    } else {
        NEED("avx2", "AVX2");
        NEED("fma", "FMA");
    }
#undef NEED
    if (n) {
        snprintf(why, cap, "this CPU lacks %s", lacks);
        return NULL;
    }
    if ((xcr0() & need) != need) { /* CPUID says no base feature, yet the builtins said yes */
        snprintf(why, cap, "the operating system has not enabled the %s registers (XCR0)", avx512 ? "AVX-512" : "AVX");
        return NULL;
    }
#ifdef NNINIT_HAVE_AVX512BF16_SET
    if (bf16) return &nninit__avx512bf16_set;
#endif
    return avx512 ? &nninit__avx512_set : &nninit__avx2_set;
#else
    (void)name;
    snprintf(why, cap, "this build has no x86 SIMD kernels (only scalar, portable)");
    return NULL;
#endif
}

static void choose_set(void) {
    const char *env = getenv("NNINIT_ARCH");
    char why[128];
    if (!env || !*env) {
        const nninit__kernel_set *k = simd_set("avx512bf16", why, sizeof why);
        if (!k) k = simd_set("avx512", why, sizeof why);
        if (!k) k = simd_set("avx2", why, sizeof why);
        choice = k ? k : scalar_set();
        return;
    }
    if (strcmp(env, "scalar") == 0) choice = scalar_set();
    else if (strcmp(env, "portable") == 0) choice = &nninit__portable_set;
    else if (strcmp(env, "avx2") == 0 || strcmp(env, "avx512") == 0 || strcmp(env, "avx512bf16") == 0)
        choice = simd_set(env, why, sizeof why);
    else snprintf(why, sizeof why, "unknown kernel path (scalar, portable, avx2, avx512, avx512bf16)");
    if (!choice) snprintf(choice_why, sizeof choice_why, "NNINIT_ARCH=%.24s: %s", env, why);
}

const nninit__kernel_set *nninit__kernels(const char **why) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, choose_set);
    if (!choice && why) *why = choice_why;
    return choice;
}

const char *nninit_arch_name(void) {
    const char *why;
    const nninit__kernel_set *k = nninit__kernels(&why);
    if (!k) nninit__err(NNINIT_ERR_ARCH, "%s", why);
    return k ? k->name : NULL;
}

/* The entry points below run only after a public fill saw nninit__kernels()
 * succeed (src/init/fill.c checks first); the portable set only keeps a
 * broken caller from jumping through NULL. */
static const nninit__kernel_set *kernels(void) {
    const nninit__kernel_set *k = nninit__kernels(NULL);
    return k ? k : &nninit__portable_set;
}

/* ---- entry points (src/internal.h) ---------------------------------------- */
void nninit__fill_uniform(const uint32_t key[2], nninit_dtype d, double lo, double hi, int64_t begin, int64_t end,
                          void *out) {
    kernels()->uniform(key, d, lo, hi, begin, end, out);
}

void nninit__fill_normal(const uint32_t key[2], nninit_dtype d, double mean, double std, int64_t begin, int64_t end,
                         void *out) {
    kernels()->normal(key, d, mean, std, begin, end, out);
}

void nninit__std_normal_f32(const uint32_t key[2], int64_t begin, int64_t end, float *out) {
    nninit__fill_normal(key, NNINIT_F32, 0.0, 1.0, begin, end, out);
}

void nninit__std_normal_f64(const uint32_t key[2], int64_t begin, int64_t end, double *out) {
    nninit__fill_normal(key, NNINIT_F64, 0.0, 1.0, begin, end, out);
}

void nninit__fill_trunc_normal(const uint32_t key[2], nninit_dtype d, const nninit__plan *p, int64_t begin, int64_t end,
                               void *out) {
    kernels()->trunc_normal(key, d, p, begin, end, out);
}

double nninit__trunc_normal_at(const uint32_t key[2], int64_t i, double mean, double std, double za, double zb,
                               double va, double vb) {
    return kernels()->trunc_normal_at(key, i, mean, std, za, zb, va, vb);
}

/* test_model_write.c -- nninit_model_write's two paths (include/nninit_model.h):
 * local files (a writer thread appending chunk k while chunk k+1 fills) and
 * a sink with parts (what the MPI-IO writer uses).
 *
 * - Local files at chunk sizes from 64 bytes to the default give the same
 *   bytes (the chunking never shows), one file or shards.
 * - A sink run as parts 0..P-1 of P, for P = 1..5, each part writing its
 *   chunks into one shared image, gives exactly the local file's bytes; every
 *   part makes the same sequence of calls (open, write count, commit), as
 *   collective I/O needs; every byte is written by exactly one part.
 * - Errors: a failing sink write aborts (abort called, commit not), a sink
 *   without a function, parts without a sink, a part out of range. */
#define _POSIX_C_SOURCE 200809L
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nninit.h"
#include "nninit_model.h"

static nninit_model *small_model(void) {
    nninit_model *m;
    const char *set[] = {"n_layer=2", "n_embd=64", "n_head=4", "vocab_size=300", "n_positions=40"};
    assert_int_equal(nninit_model_recipe("gpt2", set, 5, &m), NNINIT_OK);
    return m;
}

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static char dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/nninit-mw.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static unsigned char *write_local(const nninit_model *m, size_t chunk, uint64_t shard, const char *name, size_t *len) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    nninit_model_write_opts o = {.chunk_bytes = chunk, .max_shard_bytes = shard, .threads = 2};
    assert_int_equal(nninit_model_write(m, 7, path, &o, NULL), NNINIT_OK);
    return slurp(path, len);
}

static void test_local_chunking_invisible(void **state) {
    (void)state;
    nninit_model *m = small_model();
    size_t n0, n;
    unsigned char *ref = write_local(m, 0, 0, "ref.safetensors", &n0);
    const size_t chunks[] = {64, 192, 4096, 100000};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        unsigned char *b = write_local(m, chunks[c], 0, "c.safetensors", &n);
        assert_int_equal(n, n0);
        assert_memory_equal(b, ref, n);
        free(b);
    }
    free(ref);
    /* shards: the same files, a chunk of 64 bytes or the default */
    char path[128];
    snprintf(path, sizeof path, "%s/s.safetensors", dir);
    nninit_model_write_opts o = {.chunk_bytes = 64, .max_shard_bytes = 60000, .threads = 2};
    assert_int_equal(nninit_model_write(m, 7, path, &o, NULL), NNINIT_OK);
    snprintf(path, sizeof path, "%s/t.safetensors", dir);
    o.chunk_bytes = 0;
    assert_int_equal(nninit_model_write(m, 7, path, &o, NULL), NNINIT_OK);
    glob_t g1, g2;
    char pat[160];
    snprintf(pat, sizeof pat, "%s/s-*-of-*.safetensors", dir);
    assert_int_equal(glob(pat, 0, NULL, &g1), 0);
    snprintf(pat, sizeof pat, "%s/t-*-of-*.safetensors", dir);
    assert_int_equal(glob(pat, 0, NULL, &g2), 0);
    assert_true(g1.gl_pathc > 2);
    assert_int_equal(g1.gl_pathc, g2.gl_pathc);
    for (size_t k = 0; k < g1.gl_pathc; k++) {
        size_t l1, l2;
        unsigned char *b1 = slurp(g1.gl_pathv[k], &l1), *b2 = slurp(g2.gl_pathv[k], &l2);
        assert_int_equal(l1, l2);
        assert_memory_equal(b1, b2, l1);
        free(b1);
        free(b2);
    }
    globfree(&g1);
    globfree(&g2);
    nninit_model_free(m);
}

/* A sink writing into one shared image per file, counting calls per part. */
#define MAX_FILES 16
typedef struct {
    unsigned char *img[MAX_FILES];
    unsigned char *owner[MAX_FILES]; /* which part wrote each byte (+1) */
    uint64_t size[MAX_FILES];
    char path[MAX_FILES][160];
    int nfiles, cur, part;
    int opens, writes, commits, aborts;
    int fail_at_write; /* 1-based; 0: never */
} image_sink;

static nninit_status s_open(void *ctx, const char *path, const void *header, size_t hlen, uint64_t bytes) {
    image_sink *s = ctx;
    int f;
    for (f = 0; f < s->nfiles && strcmp(s->path[f], path) != 0; f++) {}
    if (f == s->nfiles) {
        assert_true(f < MAX_FILES);
        snprintf(s->path[f], sizeof s->path[f], "%s", path);
        s->img[f] = calloc(bytes ? bytes : 1, 1);
        s->owner[f] = calloc(bytes ? bytes : 1, 1);
        s->size[f] = bytes;
        s->nfiles++;
    }
    assert_int_equal(s->size[f], bytes);
    assert_true(hlen <= bytes);
    memcpy(s->img[f], header, hlen); /* the same header from every part */
    s->cur = f;
    s->opens++;
    return NNINIT_OK;
}

static nninit_status s_write(void *ctx, uint64_t off, const void *data, size_t len) {
    image_sink *s = ctx;
    s->writes++;
    if (s->fail_at_write && s->writes == s->fail_at_write) return NNINIT_ERR_IO;
    assert_true(off + len <= s->size[s->cur]);
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(s->owner[s->cur][off + i], 0); /* written once */
        s->owner[s->cur][off + i] = (unsigned char)(s->part + 1);
    }
    memcpy(s->img[s->cur] + off, data, len);
    return NNINIT_OK;
}

static nninit_status s_commit(void *ctx) {
    ((image_sink *)ctx)->commits++;
    return NNINIT_OK;
}

static void s_abort(void *ctx) { ((image_sink *)ctx)->aborts++; }

static const nninit_model_sink sink = {s_open, s_write, s_commit, s_abort};

static void check_parts(const nninit_model *m, uint64_t shard, size_t chunk) {
    size_t nref;
    unsigned char *ref = write_local(m, chunk, 0, "p.safetensors", &nref);
    for (int P = 1; P <= 5; P++) {
        image_sink s = {0};
        int opens = -1, writes = -1, commits = -1;
        for (int p = 0; p < P; p++) {
            s.part = p;
            s.opens = s.writes = s.commits = 0;
            nninit_model_write_opts o = {.chunk_bytes = chunk,
                                         .max_shard_bytes = shard,
                                         .threads = 1,
                                         .sink = &sink,
                                         .sink_ctx = &s,
                                         .part = p,
                                         .parts = P};
            char path[128];
            snprintf(path, sizeof path, "%s/p.safetensors", dir);
            assert_int_equal(nninit_model_write(m, 7, path, &o, NULL), NNINIT_OK);
            if (p == 0) opens = s.opens, writes = s.writes, commits = s.commits;
            assert_int_equal(s.opens, opens); /* every part: the same calls */
            assert_int_equal(s.writes, writes);
            assert_int_equal(s.commits, commits);
        }
        assert_int_equal(s.aborts, 0);
        if (!shard) {
            assert_int_equal(s.nfiles, 1);
            assert_int_equal(s.size[0], nref);
            assert_memory_equal(s.img[0], ref, nref);
        } else {
            assert_true(s.nfiles > 1);
        }
        int used = 0;
        for (int f = 0; f < s.nfiles; f++) {
            uint64_t data_start = 0;
            memcpy(&data_start, s.img[f], 8);
            data_start += 8;
            for (uint64_t i = data_start; i < s.size[f]; i++) {
                assert_int_not_equal(s.owner[f][i], 0); /* every data byte written */
                used |= 1 << (s.owner[f][i] - 1);
            }
            free(s.img[f]);
            free(s.owner[f]);
        }
        assert_int_equal(used, (1 << P) - 1); /* each part did some of it */
    }
    free(ref);
}

static void test_sink_parts(void **state) {
    (void)state;
    nninit_model *m = small_model();
    check_parts(m, 0, 4096);
    check_parts(m, 60000, 4096);
    nninit_model_free(m);
}

static void test_sink_errors(void **state) {
    (void)state;
    nninit_model *m = small_model();
    char path[128];
    snprintf(path, sizeof path, "%s/e.safetensors", dir);
    image_sink s = {.fail_at_write = 3};
    nninit_model_write_opts o = {.chunk_bytes = 4096, .sink = &sink, .sink_ctx = &s};
    assert_int_equal(nninit_model_write(m, 7, path, &o, NULL), NNINIT_ERR_IO);
    assert_int_equal(s.aborts, 1);
    assert_int_equal(s.commits, 0);
    for (int f = 0; f < s.nfiles; f++) free(s.img[f]), free(s.owner[f]);

    nninit_model_sink half = {s_open, s_write, NULL, s_abort};
    o = (nninit_model_write_opts){.sink = &half, .sink_ctx = &s};
    assert_int_equal(nninit_model_write(m, 7, path, &o, NULL), NNINIT_ERR_NULL);
    o = (nninit_model_write_opts){.parts = 2};
    assert_int_equal(nninit_model_write(m, 7, path, &o, NULL), NNINIT_ERR_PARAM);
    assert_non_null(strstr(nninit_last_error(), "needs a sink"));
    o = (nninit_model_write_opts){.sink = &sink, .sink_ctx = &s, .part = 2, .parts = 2};
    assert_int_equal(nninit_model_write(m, 7, path, &o, NULL), NNINIT_ERR_PARAM);
    o = (nninit_model_write_opts){.sink = &sink, .sink_ctx = &s, .part = -1};
    assert_int_equal(nninit_model_write(m, 7, path, &o, NULL), NNINIT_ERR_PARAM);
    assert_int_equal(access(path, F_OK), -1); /* nothing local was made */
    nninit_model_free(m);
}

/* A scheme that fills whole tensors only (orthogonal, sparse) is one chunk
 * whatever the chunk size: its bytes are those of the whole fill. */
static void test_whole_tensor_schemes(void **state) {
    (void)state;
    nninit_model *m;
    assert_int_equal(nninit_model_new(&m), NNINIT_OK);
    const int64_t sq[2] = {96, 64}, sp[2] = {80, 40};
    assert_int_equal(nninit_model_add_tensor(m, "q", 2, sq, NNINIT_F32, NNINIT_LAYOUT_OIHW), NNINIT_OK);
    assert_int_equal(nninit_model_add_tensor(m, "s", 2, sp, NNINIT_F32, NNINIT_LAYOUT_OIHW), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(m, "q", "orthogonal", NULL, -1), NNINIT_OK);
    assert_int_equal(nninit_model_add_rule(m, "s", "sparse(sparsity=0.5)", NULL, -1), NNINIT_OK);
    assert_int_equal(nninit_model_resolve(m), NNINIT_OK);
    size_t n0, n;
    unsigned char *ref = write_local(m, 0, 0, "w0.safetensors", &n0);
    unsigned char *small = write_local(m, 256, 0, "w1.safetensors", &n); /* 256 B: far less than a tensor */
    assert_int_equal(n, n0);
    assert_memory_equal(small, ref, n);
    /* the values are the whole fill's */
    float *q = malloc(96 * 64 * sizeof *q);
    assert_non_null(q);
    assert_int_equal(nninit_model_fill(m, 0, 7, 0, 96 * 64, q, 1), NNINIT_OK);
    uint64_t hlen;
    memcpy(&hlen, ref, 8);
    assert_memory_equal(ref + 8 + hlen, q, 96 * 64 * sizeof *q);
    free(q);
    /* and through a sink in parts */
    image_sink s = {0};
    for (int p = 0; p < 3; p++) {
        s.part = p;
        char path[128];
        snprintf(path, sizeof path, "%s/w2.safetensors", dir);
        nninit_model_write_opts o = {.chunk_bytes = 256, .sink = &sink, .sink_ctx = &s, .part = p, .parts = 3};
        assert_int_equal(nninit_model_write(m, 7, path, &o, NULL), NNINIT_OK);
    }
    assert_int_equal(s.size[0], n0);
    assert_memory_equal(s.img[0], ref, n0);
    free(s.img[0]);
    free(s.owner[0]);
    free(ref);
    free(small);
    nninit_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_chunking_invisible),
        cmocka_unit_test(test_sink_parts),
        cmocka_unit_test(test_sink_errors),
        cmocka_unit_test(test_whole_tensor_schemes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_npz.c -- .npz archives (include/nninit_checkpoint.h): round trips of
 * every dtype and of scalars and empty arrays, declared up front or one at a
 * time, appended in pieces that span arrays, with ZIP64 records forced and
 * where 65536 members need them, bit-identical files for the same arrays;
 * the writer's errors (bad arrays, too many or too few bytes, a path that is
 * a directory or a device, an unwritable directory, a write that fails with
 * EFBIG) leaving no file and no temporary; the reader on archives built by
 * hand: stored, deflated and data-descriptor members, and every refusal with
 * its message (truncated, lying sizes, overlapping members, bad CRC, huge
 * shapes, unknown dtypes, duplicate names, ZIP64 records that disagree). */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "nninit.h"
#include "nninit_checkpoint.h"

static char g_dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/nninit_test_npz_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    DIR *d = opendir(g_dir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
            chmod(p, 0700);
            if (rmdir(p) != 0) unlink(p);
        }
        closedir(d);
    }
    return rmdir(g_dir);
}

static void path_in_dir(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", g_dir, name); }

static int count_entries(void) {
    DIR *d = opendir(g_dir);
    int n = 0;
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void spit(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const unsigned char *p) { return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16; }
static void set16(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void set32(unsigned char *p, uint32_t v) {
    set16(p, v & 0xffff);
    set16(p + 2, v >> 16);
}

static nninit_npz_array array(const char *name, nninit_dtype dt, int ndim, const int64_t *shape) {
    nninit_npz_array a;
    memset(&a, 0, sizeof a);
    a.name = name;
    a.dtype = dt;
    a.ndim = ndim;
    for (int i = 0; i < ndim; i++) a.shape[i] = shape[i];
    return a;
}

static uint64_t array_bytes(const nninit_npz_array *a) {
    uint64_t n = nninit_dtype_size(a->dtype);
    for (int i = 0; i < a->ndim; i++) n *= (uint64_t)a->shape[i];
    return n;
}

static unsigned char pattern(size_t i, unsigned seed) { return (unsigned char)((i * 131u + seed * 17u) >> 1); }

/* ---- round trips ------------------------------------------------------------- */

#define N_ARRAYS 24

/* Every dtype on a scalar, an empty array, a vector, a matrix, 8 dims, and
 * an empty one with large dimensions. */
static size_t every_array(nninit_npz_array *a, char names[][16]) {
    static const nninit_dtype dts[4] = {NNINIT_F32, NNINIT_F64, NNINIT_BF16, NNINIT_F16};
    const int64_t shapes[6][8] = {{0}, {0}, {5}, {3, 4}, {2, 1, 2, 1, 2, 1, 1, 3}, {INT64_C(1) << 40, 0, 7}};
    const int ndims[6] = {0, 1, 1, 2, 8, 3};
    size_t n = 0;
    for (int d = 0; d < 4; d++)
        for (int k = 0; k < 6; k++, n++) {
            snprintf(names[n], 16, "t%d.s%d", d, k);
            a[n] = array(names[n], dts[d], ndims[k], shapes[k]);
        }
    return n;
}

/* Writes arrays a[0, n) with pattern data appended in pieces of `piece`
 * bytes (spanning arrays); declared up front or, with one_by_one, each just
 * before its data. */
static void write_archive(const char *path, const nninit_npz_array *a, size_t n, int zip64, size_t piece,
                          int one_by_one) {
    nninit_npz_write_opts o = {zip64};
    nninit_npz_writer *w;
    assert_int_equal(nninit_npz_writer_open(&w, path, a, one_by_one ? 0 : n, &o), NNINIT_OK);
    unsigned char *buf = malloc(piece);
    size_t fill = 0;
    for (size_t i = 0; i < n; i++) {
        if (one_by_one) assert_int_equal(nninit_npz_writer_add(w, &a[i]), NNINIT_OK);
        uint64_t bytes = array_bytes(&a[i]);
        for (uint64_t k = 0; k < bytes; k++) {
            buf[fill++] = pattern(k, (unsigned)i);
            if (fill == piece) {
                assert_int_equal(nninit_npz_writer_append(w, buf, fill), NNINIT_OK);
                fill = 0;
            }
        }
        if (one_by_one && fill) {
            assert_int_equal(nninit_npz_writer_append(w, buf, fill), NNINIT_OK);
            fill = 0;
        }
    }
    assert_int_equal(nninit_npz_writer_append(w, buf, fill), NNINIT_OK);
    free(buf);
    nninit_status s = nninit_npz_writer_commit(w);
    if (s != NNINIT_OK) fail_msg("commit: %s", nninit_last_error());
}

/* Checks an archive read against a[0, n) with pattern data. */
static void check_archive(nninit_npz_file *f, const nninit_npz_array *a, size_t n) {
    assert_int_equal(nninit_npz_count(f), n);
    assert_null(nninit_npz_member_at(f, n));
    for (size_t i = 0; i < n; i++) {
        const nninit_npz_member *m = nninit_npz_member_at(f, i);
        assert_string_equal(m->name, a[i].name);
        assert_ptr_equal(nninit_npz_find(f, a[i].name), m);
        assert_int_equal(m->npy.dtype, a[i].dtype);
        assert_int_equal(m->npy.ndim, a[i].ndim);
        for (int k = 0; k < a[i].ndim; k++) assert_int_equal(m->npy.shape[k], a[i].shape[k]);
        assert_int_equal(m->npy.version, 1);
        assert_int_equal(m->npy.header_bytes % 64, 0);
        assert_int_equal(m->deflated, 0);
        uint64_t bytes = array_bytes(&a[i]);
        assert_int_equal(m->npy.data_bytes, bytes);
        assert_int_equal(m->size, m->npy.header_bytes + bytes);
        assert_int_equal(m->compressed_size, m->size);
        unsigned char *got = malloc(bytes + 1);
        size_t cut = (size_t)bytes / 2;
        assert_int_equal(nninit_npz_read(f, m, cut, (size_t)bytes - cut, got + cut), NNINIT_OK);
        assert_int_equal(nninit_npz_read(f, m, 0, cut, got), NNINIT_OK);
        for (uint64_t k = 0; k < bytes; k++) assert_int_equal(got[k], pattern(k, (unsigned)i));
        assert_int_equal(nninit_npz_read(f, m, bytes, 1, got), NNINIT_ERR_SLICE);
        assert_non_null(strstr(nninit_last_error(), a[i].name));
        free(got);
        /* the member's bytes as numpy's header plus data: the header is nninit_npy_header's */
        unsigned char h[NNINIT_NPY_HEADER_MAX];
        size_t hl;
        assert_int_equal(nninit_npy_header(a[i].dtype, a[i].ndim, a[i].shape, h, sizeof h, &hl, NULL), NNINIT_OK);
        assert_int_equal(hl, m->npy.header_bytes);
    }
    assert_null(nninit_npz_find(f, "nope"));
    assert_null(nninit_npz_find(f, "t0.s0.npy"));
}

static void round_trip(int zip64, size_t piece, int one_by_one) {
    nninit_npz_array a[N_ARRAYS];
    char names[N_ARRAYS][16];
    size_t n = every_array(a, names);
    char path[256];
    path_in_dir(path, sizeof path, "a.npz");
    write_archive(path, a, n, zip64, piece, one_by_one);
    assert_int_equal(count_entries(), 1);
    nninit_npz_file *f;
    nninit_status s = nninit_npz_open(path, &f);
    if (s != NNINIT_OK) fail_msg("open: %s", nninit_last_error());
    check_archive(f, a, n);
    nninit_npz_close(f);
    size_t len;
    unsigned char *b = slurp(path, &len);
    assert_int_equal(nninit_npz_parse(b, len, &f), NNINIT_OK);
    check_archive(f, a, n);
    nninit_npz_close(f);
    /* ZIP64 end records exactly where asked */
    assert_int_equal(le32(b + len - 22), 0x06054b50u);
    assert_int_equal(le32(b + len - 42) == 0x07064b50u, zip64);
    /* each local header's CRC is the CRC of the member's bytes */
    for (size_t at = 0; le32(b + at) == 0x04034b50u;) {
        size_t nl = le16(b + at + 26), xl = le16(b + at + 28);
        if (zip64) assert_int_equal(le32(b + at + 22), 0xffffffffu);
        uint64_t size = le32(b + at + (zip64 ? 30 + nl + 4 : 22)); /* small: the low word of the ZIP64 size */
        uLong crc = crc32(0, b + at + 30 + nl + xl, (uInt)size);
        assert_int_equal(le32(b + at + 14), crc);
        at += 30 + nl + xl + size;
    }
    /* the same arrays make the same bytes */
    char again[256];
    path_in_dir(again, sizeof again, "b.npz");
    write_archive(again, a, n, zip64, piece + 3, !one_by_one);
    size_t len2;
    unsigned char *b2 = slurp(again, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(b2, b, len);
    free(b2);
    free(b);
}

static void test_round_trip(void **state) {
    (void)state;
    round_trip(0, 5, 0);
}
static void test_round_trip_zip64(void **state) {
    (void)state;
    round_trip(1, 7, 0);
}
static void test_round_trip_one_by_one(void **state) {
    (void)state;
    round_trip(0, 100000, 1);
}

/* Arrays declared after part of the data: a piece may start in one array
 * and end in one declared since. */
static void test_add_between_appends(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "c.npz");
    const int64_t s3[1] = {3}, s2[2] = {2, 2};
    nninit_npz_array x = array("x", NNINIT_F32, 1, s3), y = array("y", NNINIT_F16, 2, s2);
    nninit_npz_writer *w;
    assert_int_equal(nninit_npz_writer_open(&w, path, &x, 1, NULL), NNINIT_OK);
    unsigned char d[20];
    for (int i = 0; i < 20; i++) d[i] = (unsigned char)i;
    assert_int_equal(nninit_npz_writer_append(w, d, 5), NNINIT_OK);
    assert_int_equal(nninit_npz_writer_append(w, d + 5, 8), NNINIT_ERR_FORMAT); /* only x is declared */
    assert_non_null(strstr(nninit_last_error(), "1 bytes more than the 1 declared arrays hold"));
    assert_int_equal(nninit_npz_writer_commit(w), NNINIT_ERR_FORMAT);
    assert_int_equal(count_entries(), 0);

    assert_int_equal(nninit_npz_writer_open(&w, path, &x, 1, NULL), NNINIT_OK);
    assert_int_equal(nninit_npz_writer_append(w, d, 5), NNINIT_OK);
    assert_int_equal(nninit_npz_writer_add(w, &y), NNINIT_OK);
    assert_int_equal(nninit_npz_writer_append(w, d + 5, 15), NNINIT_OK);
    assert_int_equal(nninit_npz_writer_commit(w), NNINIT_OK);
    nninit_npz_file *f;
    assert_int_equal(nninit_npz_open(path, &f), NNINIT_OK);
    unsigned char got[8];
    assert_int_equal(nninit_npz_read(f, nninit_npz_find(f, "y"), 0, 8, got), NNINIT_OK);
    assert_memory_equal(got, d + 12, 8);
    nninit_npz_close(f);
}

static void test_empty_archive(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "e.npz");
    for (int z = 0; z < 2; z++) {
        nninit_npz_write_opts o = {z};
        nninit_npz_writer *w;
        assert_int_equal(nninit_npz_writer_open(&w, path, NULL, 0, &o), NNINIT_OK);
        assert_int_equal(nninit_npz_writer_append(w, NULL, 0), NNINIT_OK);
        assert_int_equal(nninit_npz_writer_commit(w), NNINIT_OK);
        size_t len;
        unsigned char *b = slurp(path, &len);
        assert_int_equal(len, z ? 22 + 20 + 56 : 22);
        nninit_npz_file *f;
        assert_int_equal(nninit_npz_parse(b, len, &f), NNINIT_OK);
        assert_int_equal(nninit_npz_count(f), 0);
        nninit_npz_close(f);
        free(b);
    }
}

/* 65536 members: more than the end record's 16-bit count, so the ZIP64 end
 * records are written without being asked. */
static void test_65536_members(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "many.npz");
    nninit_npz_writer *w;
    assert_int_equal(nninit_npz_writer_open(&w, path, NULL, 0, NULL), NNINIT_OK);
    for (int i = 0; i < 65536; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%05d", i);
        nninit_npz_array a = array(name, NNINIT_F32, 0, NULL);
        assert_int_equal(nninit_npz_writer_add(w, &a), NNINIT_OK);
        float v = (float)i;
        assert_int_equal(nninit_npz_writer_append(w, &v, 4), NNINIT_OK);
    }
    nninit_npz_array dup = array("m00007", NNINIT_F32, 0, NULL);
    assert_int_equal(nninit_npz_writer_add(w, &dup), NNINIT_ERR_FORMAT);
    assert_non_null(strstr(nninit_last_error(), "duplicate array name 'm00007'"));
    assert_int_equal(nninit_npz_writer_commit(w), NNINIT_OK);
    size_t len;
    unsigned char *b = slurp(path, &len);
    assert_int_equal(le32(b + len - 42), 0x07064b50u);
    assert_int_equal(le16(b + len - 22 + 10), 0xffff);
    nninit_npz_file *f;
    assert_int_equal(nninit_npz_parse(b, len, &f), NNINIT_OK);
    assert_int_equal(nninit_npz_count(f), 65536);
    float v;
    assert_int_equal(nninit_npz_read(f, nninit_npz_find(f, "m65535"), 0, 4, &v), NNINIT_OK);
    assert_true(v == 65535.0f);
    nninit_npz_close(f);
    free(b);
}

/* ---- the writer's errors ------------------------------------------------------ */

static void test_writer_bad_arrays(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "w.npz");
    const int64_t s2[2] = {2, 3}, neg[2] = {2, -1}, huge[2] = {INT64_C(1) << 32, INT64_C(1) << 32};
    char long_name[NNINIT_NPZ_MAX_NAME + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    static const struct {
        const char *name;
        int dtype, ndim, shape;
        nninit_status want;
        const char *fragment;
    } cases[] = {
        {"", 0, 2, 0, NNINIT_ERR_FORMAT, "an array with an empty name"},
        {NULL, 0, 2, 0, NNINIT_ERR_FORMAT, "a name of 1025 bytes (at most 1024)"},
        {"bad\xff", 0, 2, 0, NNINIT_ERR_FORMAT, "array 'bad\xff': the name is not valid UTF-8"},
        {"\xc0\xaf", 0, 2, 0, NNINIT_ERR_FORMAT, "not valid UTF-8"},
        {"d", 9, 2, 0, NNINIT_ERR_DTYPE, "array 'd': npy_header: unknown dtype 9"},
        {"s", 0, 9, 0, NNINIT_ERR_SHAPE, "array 's': npy_header: ndim 9 outside 0..8"},
        {"s", 0, 2, 1, NNINIT_ERR_SHAPE, "shape[1] = -1 is negative"},
        {"o", 1, 2, 2, NNINIT_ERR_OVERFLOW, "array 'o': npy_header: the data's size overflows"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const int64_t *sh = cases[k].shape == 0 ? s2 : cases[k].shape == 1 ? neg : huge;
        nninit_npz_array a = array(cases[k].name ? cases[k].name : long_name, (nninit_dtype)cases[k].dtype,
                                   cases[k].ndim < 9 ? cases[k].ndim : 2, sh);
        a.ndim = cases[k].ndim;
        nninit_npz_writer *w = (nninit_npz_writer *)(uintptr_t)0x1234;
        /* in open: nothing is left */
        nninit_status s = nninit_npz_writer_open(&w, path, &a, 1, NULL);
        if (s != cases[k].want || !strstr(nninit_last_error(), cases[k].fragment))
            fail_msg("case %zu: %d '%s'", k, (int)s, nninit_last_error());
        assert_non_null(strstr(nninit_last_error(), "npz_writer_open: arrays[0]: "));
        assert_ptr_equal(w, (nninit_npz_writer *)(uintptr_t)0x1234);
        assert_int_equal(count_entries(), 0);
        /* in add: the writer goes on */
        nninit_npz_array ok = array("ok", NNINIT_F32, 2, s2);
        assert_int_equal(nninit_npz_writer_open(&w, path, &ok, 1, NULL), NNINIT_OK);
        assert_int_equal(nninit_npz_writer_add(w, &a), cases[k].want);
        assert_int_equal(nninit_npz_writer_add(w, &ok), NNINIT_ERR_FORMAT);
        assert_non_null(strstr(nninit_last_error(), "duplicate array name 'ok'"));
        unsigned char d[24] = {0};
        assert_int_equal(nninit_npz_writer_append(w, d, 24), NNINIT_OK);
        assert_int_equal(nninit_npz_writer_commit(w), NNINIT_OK);
        nninit_npz_file *f;
        assert_int_equal(nninit_npz_open(path, &f), NNINIT_OK);
        assert_int_equal(nninit_npz_count(f), 1);
        nninit_npz_close(f);
        unlink(path);
    }
    nninit_npz_writer *w;
    nninit_npz_array ok = array("ok", NNINIT_F32, 2, s2);
    assert_int_equal(nninit_npz_writer_open(NULL, path, NULL, 0, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_npz_writer_open(&w, NULL, NULL, 0, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_npz_writer_open(&w, path, NULL, 1, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_npz_writer_add(NULL, &ok), NNINIT_ERR_NULL);
    assert_int_equal(nninit_npz_writer_append(NULL, "x", 1), NNINIT_ERR_NULL);
    assert_int_equal(nninit_npz_writer_commit(NULL), NNINIT_ERR_NULL);
    nninit_npz_writer_abort(NULL);
    assert_int_equal(count_entries(), 0);
    /* two arrays of one name in open */
    nninit_npz_array two[2] = {ok, ok};
    assert_int_equal(nninit_npz_writer_open(&w, path, two, 2, NULL), NNINIT_ERR_FORMAT);
    assert_non_null(strstr(nninit_last_error(), "arrays[1]: npz_writer_add: duplicate array name 'ok'"));
    assert_int_equal(count_entries(), 0);
}

static void test_writer_byte_counts(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "n.npz");
    const int64_t s4[1] = {4}, s2[1] = {2};
    nninit_npz_array a[2] = {array("a", NNINIT_F32, 1, s4), array("b", NNINIT_F64, 1, s2)};
    unsigned char d[40] = {0};
    nninit_npz_writer *w;
    /* too many bytes: FORMAT, then every call fails, and nothing is left */
    assert_int_equal(nninit_npz_writer_open(&w, path, a, 2, NULL), NNINIT_OK);
    assert_int_equal(count_entries(), 1); /* the temporary */
    assert_int_equal(nninit_npz_writer_append(w, d, 33), NNINIT_ERR_FORMAT);
    assert_int_equal(count_entries(), 0);
    assert_int_equal(nninit_npz_writer_append(w, d, 1), NNINIT_ERR_FORMAT);
    assert_non_null(strstr(nninit_last_error(), "the writer failed before"));
    assert_int_equal(nninit_npz_writer_add(w, &a[0]), NNINIT_ERR_FORMAT);
    assert_int_equal(nninit_npz_writer_commit(w), NNINIT_ERR_FORMAT);
    assert_int_equal(count_entries(), 0);
    /* too few: commit names the array */
    assert_int_equal(nninit_npz_writer_open(&w, path, a, 2, NULL), NNINIT_OK);
    assert_int_equal(nninit_npz_writer_append(w, d, 16 + 3), NNINIT_OK);
    assert_int_equal(nninit_npz_writer_commit(w), NNINIT_ERR_FORMAT);
    assert_non_null(strstr(nninit_last_error(), "array 'b': 3 of its 16 data bytes appended"));
    assert_int_equal(count_entries(), 0);
    /* none at all */
    assert_int_equal(nninit_npz_writer_open(&w, path, a, 2, NULL), NNINIT_OK);
    assert_int_equal(nninit_npz_writer_commit(w), NNINIT_ERR_FORMAT);
    assert_non_null(strstr(nninit_last_error(), "array 'a': 0 of its 16 data bytes appended"));
    /* abort */
    assert_int_equal(nninit_npz_writer_open(&w, path, a, 2, NULL), NNINIT_OK);
    assert_int_equal(nninit_npz_writer_append(w, d, 32), NNINIT_OK);
    nninit_npz_writer_abort(w);
    assert_int_equal(count_entries(), 0);
    /* an existing file is replaced at commit, not before */
    spit(path, "keep", 4);
    assert_int_equal(nninit_npz_writer_open(&w, path, a, 2, NULL), NNINIT_OK);
    assert_int_equal(nninit_npz_writer_append(w, d, 32), NNINIT_OK);
    size_t len;
    unsigned char *b = slurp(path, &len);
    assert_int_equal(len, 4);
    free(b);
    assert_int_equal(nninit_npz_writer_commit(w), NNINIT_OK);
    b = slurp(path, &len);
    assert_true(len > 100);
    free(b);
    assert_int_equal(count_entries(), 1);
}

static void test_writer_bad_paths(void **state) {
    (void)state;
    const int64_t s4[1] = {4};
    nninit_npz_array a = array("a", NNINIT_F32, 1, s4);
    nninit_npz_writer *w = (nninit_npz_writer *)(uintptr_t)0x1234;
    /* a directory at the path, a device, a directory nobody can create in */
    assert_int_equal(nninit_npz_writer_open(&w, g_dir, &a, 1, NULL), NNINIT_ERR_IO);
    assert_non_null(strstr(nninit_last_error(), "is not a regular file"));
    assert_int_equal(nninit_npz_writer_open(&w, "/dev/full", &a, 1, NULL), NNINIT_ERR_IO);
    assert_non_null(strstr(nninit_last_error(), "/dev/full exists and is not a regular file"));
    assert_int_equal(nninit_npz_writer_open(&w, "/proc/nninit-test.npz", &a, 1, NULL), NNINIT_ERR_IO);
    assert_non_null(strstr(nninit_last_error(), "cannot create a file next to /proc/nninit-test.npz"));
    char path[256];
    path_in_dir(path, sizeof path, "no/such/dir/a.npz");
    assert_int_equal(nninit_npz_writer_open(&w, path, &a, 1, NULL), NNINIT_ERR_IO);
    assert_ptr_equal(w, (nninit_npz_writer *)(uintptr_t)0x1234);
    struct stat st;
    assert_int_equal(stat("/proc/nninit-test.npz", &st), -1);
    if (geteuid() != 0) { /* permission bits do not stop root */
        char sub[128];
        path_in_dir(sub, sizeof sub, "ro");
        assert_int_equal(mkdir(sub, 0500), 0);
        snprintf(path, sizeof path, "%s/a.npz", sub);
        assert_int_equal(nninit_npz_writer_open(&w, path, &a, 1, NULL), NNINIT_ERR_IO);
        assert_int_equal(stat(path, &st), -1);
    }
}

/* A write that fails (EFBIG under RLIMIT_FSIZE, SIGXFSZ ignored) in a child,
 * within the data (limit small) or within the central directory (limit just
 * past the data): IO with errno's text, and neither the file nor a temporary
 * stays. */
static void efbig(rlim_t limit, int members) {
    char path[256];
    path_in_dir(path, sizeof path, "big.npz");
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {limit, limit};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(10);
        nninit_npz_writer *w;
        if (nninit_npz_writer_open(&w, path, NULL, 0, NULL) != NNINIT_OK) _exit(11);
        static unsigned char piece[3000];
        nninit_status s = NNINIT_OK;
        for (int i = 0; i < members && s == NNINIT_OK; i++) {
            char name[16];
            snprintf(name, sizeof name, "w%d", i);
            const int64_t shape[1] = {750};
            nninit_npz_array a = array(name, NNINIT_F32, 1, shape);
            if (nninit_npz_writer_add(w, &a) != NNINIT_OK) _exit(12);
            s = nninit_npz_writer_append(w, piece, sizeof piece);
        }
        if (s == NNINIT_OK) s = nninit_npz_writer_commit(w);
        else if (nninit_npz_writer_commit(w) != NNINIT_ERR_IO) _exit(13);
        if (s != NNINIT_ERR_IO) _exit(14);
        if (!strstr(nninit_last_error(), strerror(EFBIG))) _exit(15);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(count_entries(), 0);
}

static void test_writer_efbig(void **state) {
    (void)state;
    efbig(100000, 200);                 /* in the data */
    efbig(200 * 3000 + 200 * 128, 200); /* data and headers fit: the central directory does not */
}

/* ---- archives built by hand --------------------------------------------------- */

typedef struct {
    unsigned char *p;
    size_t n, cap;
} tbuf;

static void tb_put(tbuf *b, const void *s, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
static void tb16(tbuf *b, unsigned v) {
    unsigned char c[2];
    set16(c, v);
    tb_put(b, c, 2);
}
static void tb32(tbuf *b, uint32_t v) {
    unsigned char c[4];
    set32(c, v);
    tb_put(b, c, 4);
}

/* An .npy: the dict padded to 64 with '\n', then dlen bytes 0, 1, 2, ... */
static unsigned char *npy_bytes(const char *dict, size_t dlen, size_t *len) {
    size_t n = strlen(dict), total = (10 + n + 1 + 63) / 64 * 64, hlen = total - 10;
    unsigned char *b = malloc(total + dlen + 1);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    set16(b + 8, (unsigned)hlen);
    memcpy(b + 10, dict, n);
    memset(b + 10 + n, ' ', hlen - n - 1);
    b[total - 1] = '\n';
    for (size_t k = 0; k < dlen; k++) b[total + k] = (unsigned char)(k * 7);
    *len = total + dlen;
    return b;
}

/* Raw deflate (as zipfile writes it) of p[0, n), with `pad` zero bytes after. */
static unsigned char *deflate_raw(const unsigned char *p, size_t n, size_t pad, size_t *len) {
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)n) + pad + 16;
    unsigned char *out = calloc(1, cap);
    z.next_in = (unsigned char *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *len = z.total_out + pad;
    deflateEnd(&z);
    return out;
}

typedef struct {
    const char *name; /* as stored; NULL: "w.npy" */
    size_t name_len;  /* 0: strlen */
    const unsigned char *data;
    size_t len;
    int deflate;            /* 1: deflated */
    int descriptor;         /* flag bit 3, CRC and sizes 0 in the local header, and after the data a
                               descriptor: 1 signed, 2 signed and a byte of junk, 3 unsigned */
    size_t cut, pad;        /* deflated: bytes cut off the stream, zero bytes after it */
    unsigned flags, method; /* extra flags; method to write instead (0: the real one) */
} zm;

typedef struct {
    size_t lh[4], cd[4], eocd;
} zoffsets;

/* A zip of members m[0, n), no ZIP64, `lead` bytes of junk first. */
static unsigned char *zip_build(const zm *m, size_t n, size_t lead, size_t *len, zoffsets *o) {
    tbuf b = {0};
    zoffsets off;
    uint32_t crc[4];
    size_t csize[4];
    for (size_t k = 0; k < lead; k++) tb_put(&b, "J", 1);
    for (size_t i = 0; i < n; i++) {
        const char *name = m[i].name ? m[i].name : "w.npy";
        size_t nl = m[i].name_len ? m[i].name_len : strlen(name);
        crc[i] = (uint32_t)crc32(0, m[i].data, (uInt)m[i].len);
        unsigned char *z = NULL;
        const unsigned char *data = m[i].data;
        csize[i] = m[i].len;
        if (m[i].deflate) {
            z = deflate_raw(m[i].data, m[i].len, m[i].pad, &csize[i]);
            csize[i] -= m[i].cut;
            data = z;
        }
        off.lh[i] = b.n;
        tb32(&b, 0x04034b50u);
        tb16(&b, 20);
        tb16(&b, m[i].flags | (m[i].descriptor ? 8u : 0u));
        tb16(&b, m[i].method ? m[i].method : m[i].deflate ? 8 : 0);
        tb16(&b, 0);
        tb16(&b, 0x21);
        tb32(&b, m[i].descriptor ? 0 : crc[i]);
        tb32(&b, m[i].descriptor ? 0 : (uint32_t)csize[i]);
        tb32(&b, m[i].descriptor ? 0 : (uint32_t)m[i].len);
        tb16(&b, (unsigned)nl);
        tb16(&b, 0);
        tb_put(&b, name, nl);
        tb_put(&b, data, csize[i]);
        if (m[i].descriptor) {
            if (m[i].descriptor != 3) tb32(&b, 0x08074b50u);
            tb32(&b, crc[i]);
            tb32(&b, (uint32_t)csize[i]);
            tb32(&b, (uint32_t)m[i].len);
            if (m[i].descriptor == 2) tb_put(&b, "J", 1);
        }
        free(z);
    }
    size_t cd = b.n;
    for (size_t i = 0; i < n; i++) {
        const char *name = m[i].name ? m[i].name : "w.npy";
        size_t nl = m[i].name_len ? m[i].name_len : strlen(name);
        off.cd[i] = b.n;
        tb32(&b, 0x02014b50u);
        tb16(&b, 0x0314);
        tb16(&b, 20);
        tb16(&b, m[i].flags | (m[i].descriptor ? 8u : 0u));
        tb16(&b, m[i].method ? m[i].method : m[i].deflate ? 8 : 0);
        tb16(&b, 0);
        tb16(&b, 0x21);
        tb32(&b, crc[i]);
        tb32(&b, (uint32_t)csize[i]);
        tb32(&b, (uint32_t)m[i].len);
        tb16(&b, (unsigned)nl);
        tb16(&b, 0);
        tb16(&b, 0);
        tb16(&b, 0);
        tb16(&b, 0);
        tb32(&b, 0);
        tb32(&b, (uint32_t)off.lh[i]);
        tb_put(&b, name, nl);
    }
    off.eocd = b.n;
    tb32(&b, 0x06054b50u);
    tb16(&b, 0);
    tb16(&b, 0);
    tb16(&b, (unsigned)n);
    tb16(&b, (unsigned)n);
    tb32(&b, (uint32_t)(b.n - 12 - cd));
    tb32(&b, (uint32_t)cd);
    tb16(&b, 0);
    if (o) *o = off;
    *len = b.n;
    return b.p;
}

/* b[0, len) is refused, from memory and from a file, with want and a
 * message holding fragment; *f untouched. */
static void refuse(const unsigned char *b, size_t len, nninit_status want, const char *fragment) {
    nninit_npz_file *const sentinel = (nninit_npz_file *)(uintptr_t)0x5a5a;
    nninit_npz_file *f = sentinel;
    nninit_status s = nninit_npz_parse(b, len, &f);
    if (s != want || !strstr(nninit_last_error(), fragment))
        fail_msg("parse: status %d, message '%s', wanted %d with '%s'", (int)s, nninit_last_error(), (int)want,
                 fragment);
    assert_ptr_equal(f, sentinel);
    char path[256];
    path_in_dir(path, sizeof path, "r.npz");
    spit(path, b, len);
    s = nninit_npz_open(path, &f);
    if (s != want || !strstr(nninit_last_error(), fragment) || !strstr(nninit_last_error(), path))
        fail_msg("open: status %d, message '%s', wanted %d with '%s'", (int)s, nninit_last_error(), (int)want,
                 fragment);
    assert_ptr_equal(f, sentinel);
    unlink(path);
}

static nninit_npz_file *accept(const unsigned char *b, size_t len) {
    nninit_npz_file *f;
    nninit_status s = nninit_npz_parse(b, len, &f);
    if (s != NNINIT_OK) fail_msg("refused: %s", nninit_last_error());
    return f;
}

/* 51 bytes: with the preamble and '\n' the header is 64, an .npy of it 124 */
static const char F32_DICT[] = "{'descr':'<f4','fortran_order':False,'shape':(3,5)}";

static void test_read_stored_deflated_descriptor(void **state) {
    (void)state;
    size_t na, nb;
    unsigned char *a = npy_bytes(F32_DICT, 60, &na);
    unsigned char *big = npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (100000,), }", 800000, &nb);
    zm m[3] = {{.name = "s.npy", .data = a, .len = na},
               {.name = "d.npy", .data = big, .len = nb, .deflate = 1},
               {.name = "x/dd.npy", .data = a, .len = na, .deflate = 1, .descriptor = 1}};
    size_t len;
    unsigned char *z = zip_build(m, 3, 0, &len, NULL);
    nninit_npz_file *f = accept(z, len);
    assert_int_equal(nninit_npz_count(f), 3);
    const nninit_npz_member *s = nninit_npz_find(f, "s"), *d = nninit_npz_find(f, "d"),
                            *dd = nninit_npz_find(f, "x/dd");
    assert_non_null(s);
    assert_non_null(d);
    assert_non_null(dd);
    assert_int_equal(d->deflated, 1);
    assert_true(d->compressed_size < d->size);
    assert_int_equal(d->npy.data_bytes, 800000);
    assert_int_equal(dd->npy.ndim, 2);
    unsigned char *out = malloc(800000);
    /* whole, in ascending pieces (the cursor goes on), backwards (it restarts), and across members */
    assert_int_equal(nninit_npz_read(f, d, 0, 800000, out), NNINIT_OK);
    assert_memory_equal(out, big + 128, 800000);
    for (size_t off = 0; off < 800000; off += 99991) {
        size_t n = 800000 - off < 99991 ? 800000 - off : 99991;
        assert_int_equal(nninit_npz_read(f, d, off, n, out), NNINIT_OK);
        assert_memory_equal(out, big + 128 + off, n);
    }
    for (size_t off = 700000;; off -= 100000) {
        assert_int_equal(nninit_npz_read(f, d, off, 1000, out), NNINIT_OK);
        assert_memory_equal(out, big + 128 + off, 1000);
        assert_int_equal(nninit_npz_read(f, dd, 7, 50, out), NNINIT_OK);
        assert_memory_equal(out, a + 64 + 7, 50);
        if (off == 0) break;
    }
    assert_int_equal(nninit_npz_read(f, s, 0, 60, out), NNINIT_OK);
    assert_memory_equal(out, a + 64, 60);
    /* errors */
    assert_int_equal(nninit_npz_read(f, d, 799999, 2, out), NNINIT_ERR_SLICE);
    assert_int_equal(nninit_npz_read(f, NULL, 0, 1, out), NNINIT_ERR_NULL);
    assert_int_equal(nninit_npz_read(NULL, d, 0, 1, out), NNINIT_ERR_NULL);
    nninit_npz_member copy = *d;
    assert_int_equal(nninit_npz_read(f, &copy, 0, 1, out), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_npz_read(f, (const nninit_npz_member *)((const char *)d + 1), 0, 1, out), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_npz_read(f, d, 5, 0, NULL), NNINIT_OK);
    assert_int_equal(nninit_npz_count(NULL), 0);
    assert_null(nninit_npz_member_at(NULL, 0));
    assert_null(nninit_npz_find(NULL, "s"));
    assert_null(nninit_npz_find(f, NULL));
    nninit_npz_close(f);
    nninit_npz_close(NULL);
    /* from a file, the same; the deflated one through the file's own buffer */
    char path[256];
    path_in_dir(path, sizeof path, "h.npz");
    spit(path, z, len);
    assert_int_equal(nninit_npz_open(path, &f), NNINIT_OK);
    d = nninit_npz_find(f, "d");
    assert_int_equal(nninit_npz_read(f, d, 400000, 400000, out), NNINIT_OK);
    assert_memory_equal(out, big + 128 + 400000, 400000);
    assert_int_equal(nninit_npz_read(f, nninit_npz_find(f, "s"), 0, 60, out), NNINIT_OK);
    assert_memory_equal(out, a + 64, 60);
    nninit_npz_close(f);
    assert_int_equal(nninit_npz_open(g_dir, &f), NNINIT_ERR_IO);
    assert_int_equal(nninit_npz_open("/nonexistent/x.npz", &f), NNINIT_ERR_IO);
    assert_int_equal(nninit_npz_open(NULL, &f), NNINIT_ERR_NULL);
    assert_int_equal(nninit_npz_parse(NULL, 0, &f), NNINIT_ERR_NULL);
    free(out);
    free(z);
    free(a);
    free(big);
}

static void test_read_comment(void **state) {
    (void)state;
    size_t na, len;
    unsigned char *a = npy_bytes(F32_DICT, 60, &na);
    zm m = {.data = a, .len = na};
    zoffsets o;
    unsigned char *z = zip_build(&m, 1, 0, &len, &o);
    z = realloc(z, len + 5);
    memcpy(z + len, "hello", 5);
    set16(z + len - 2, 5); /* a 5-byte comment ends the file */
    nninit_npz_close(accept(z, len + 5));
    set16(z + len - 2, 4); /* one byte after the comment */
    refuse(z, len + 5, NNINIT_ERR_FORMAT, "no end of central directory record at the end");
    free(z);
    free(a);
}

static void test_refuse_truncated(void **state) {
    (void)state;
    size_t na, len;
    unsigned char *a = npy_bytes(F32_DICT, 60, &na);
    zm m = {.data = a, .len = na};
    zoffsets o;
    unsigned char *z = zip_build(&m, 1, 0, &len, &o);
    refuse(z, len - 1, NNINIT_ERR_FORMAT, "no end of central directory record at the end");
    refuse(z, 21, NNINIT_ERR_FORMAT, "21 bytes, shorter than the 22-byte end of central directory record");
    refuse(a, na, NNINIT_ERR_FORMAT, "no end of central directory record");
    /* bytes cut out of the member: the directory no longer ends at the end record */
    unsigned char *c = malloc(len);
    memcpy(c, z, 100);
    memcpy(c + 100, z + 105, len - 105);
    refuse(c, len - 5, NNINIT_ERR_FORMAT,
           "the central directory (51 bytes at 159) does not end where the end records begin (at 205)");
    /* junk after the end record */
    memcpy(c, z, len);
    c = realloc(c, len + 3);
    memcpy(c + len, "JJJ", 3);
    refuse(c, len + 3, NNINIT_ERR_FORMAT, "no end of central directory record at the end");
    free(c);
    /* junk before the first member (the offsets shifted with it) */
    free(z);
    z = zip_build(&m, 1, 7, &len, &o);
    refuse(z, len, NNINIT_ERR_FORMAT, "7 bytes at 0 that no member holds (before member 'w.npy')");
    free(z);
    free(a);
}

/* Sets the sizes of member i (CD entry and, with local, its local header). */
static void set_sizes(unsigned char *z, const zoffsets *o, int i, uint32_t csize, uint32_t usize, int local) {
    set32(z + o->cd[i] + 20, csize);
    set32(z + o->cd[i] + 24, usize);
    if (local) {
        set32(z + o->lh[i] + 18, csize);
        set32(z + o->lh[i] + 22, usize);
    }
}

static void test_refuse_lying_sizes_and_overlaps(void **state) {
    (void)state;
    size_t na, len;
    unsigned char *a = npy_bytes(F32_DICT, 60, &na); /* 124 bytes */
    zm m[2] = {{.name = "a.npy", .data = a, .len = na}, {.name = "b.npy", .data = a, .len = na}};
    zoffsets o;
    unsigned char *z = zip_build(m, 2, 0, &len, &o), *c = malloc(len);
    assert_int_equal(o.lh[1], 30 + 5 + 124);
    /* the directory alone lies */
    memcpy(c, z, len);
    set_sizes(c, &o, 0, 130, 130, 0);
    refuse(c, len, NNINIT_ERR_FORMAT, "member 'a.npy': the local header says CRC");
    refuse(c, len, NNINIT_ERR_FORMAT, "124 bytes (124 compressed), the central directory");
    /* both lie: a runs over b's local header */
    memcpy(c, z, len);
    set_sizes(c, &o, 0, 134, 134, 1);
    refuse(c, len, NNINIT_ERR_FORMAT, "member 'b.npy' at 159 overlaps member 'a.npy' [0, 169)");
    /* both lie short: a gap */
    memcpy(c, z, len);
    set_sizes(c, &o, 0, 120, 120, 1);
    refuse(c, len, NNINIT_ERR_FORMAT, "4 bytes at 155 that no member holds (before member 'b.npy')");
    /* two entries with the same local header */
    memcpy(c, z, len);
    set32(c + o.cd[1] + 42, 0);
    refuse(c, len, NNINIT_ERR_FORMAT, "member 'b.npy': its local header at 0 names 'a.npy'");
    /* b's data past the directory */
    memcpy(c, z, len);
    set_sizes(c, &o, 1, 200, 200, 1);
    refuse(c, len, NNINIT_ERR_FORMAT,
           "member 'b.npy': its 200 bytes at 194 run past the start of the central directory (318)");
    /* the .npy's own sizes: data cut, or more than the shape */
    memcpy(c, z, len);
    c[o.lh[0] + 30 + 5 + 10 + 48] = '4'; /* shape (3,4): 48 bytes of 60, and the CRC changed */
    refuse(c, len, NNINIT_ERR_FORMAT, "member 'a.npy': its CRC-32 is");
    free(z);
    free(c);
    unsigned char *b = npy_bytes(F32_DICT, 56, &na);
    zm m1 = {.data = b, .len = na};
    z = zip_build(&m1, 1, 0, &len, &o);
    refuse(z, len, NNINIT_ERR_FORMAT, "member 'w.npy': npy: the data need 60 bytes, the file holds 56");
    free(z);
    free(b);
    b = npy_bytes(F32_DICT, 64, &na);
    m1.data = b, m1.len = na;
    z = zip_build(&m1, 1, 0, &len, &o);
    refuse(z, len, NNINIT_ERR_FORMAT, "member 'w.npy': npy: 4 bytes after the data's 60");
    free(z);
    free(b);
    free(a);
}

static void test_refuse_crc(void **state) {
    (void)state;
    size_t na, len;
    unsigned char *a = npy_bytes(F32_DICT, 60, &na);
    zm m = {.data = a, .len = na};
    zoffsets o;
    unsigned char *z = zip_build(&m, 1, 0, &len, &o);
    uint32_t crc = le32(z + o.cd[0] + 16);
    z[o.lh[0] + 30 + 5 + 100] ^= 1;
    char want[128];
    snprintf(want, sizeof want, "member 'w.npy': its CRC-32 is %08lx, the directory says %08lx",
             (unsigned long)crc32(0, z + 35, (uInt)na), (unsigned long)crc);
    refuse(z, len, NNINIT_ERR_FORMAT, want);
    free(z);
    /* deflated */
    m.deflate = 1;
    z = zip_build(&m, 1, 0, &len, &o);
    set32(z + o.cd[0] + 16, 0x12345678);
    set32(z + o.lh[0] + 14, 0x12345678);
    refuse(z, len, NNINIT_ERR_FORMAT, "the directory says 12345678");
    free(z);
    free(a);
}

static void test_refuse_member_npy(void **state) {
    (void)state;
    static const struct {
        const char *dict;
        size_t dlen;
        nninit_status want;
        const char *fragment;
    } cases[] = {
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 16, NNINIT_ERR_FORMAT,
         "member 'w.npy': npy: shape (4294967296, 4294967296) of '<f4' makes 2^63 bytes or more"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807,), }", 16, NNINIT_ERR_FORMAT,
         "member 'w.npy': npy: shape (9223372036854775807) of '<f8' makes 2^63 bytes or more"},
        {"{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", 16, NNINIT_ERR_DTYPE,
         "member 'w.npy': npy: dtype '<i8' (int64): nninit reads"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8, NNINIT_ERR_FORMAT,
         "member 'w.npy': npy: header: unknown key 'x'"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t na, len;
        unsigned char *a = npy_bytes(cases[k].dict, cases[k].dlen, &na);
        for (int deflate = 0; deflate < 2; deflate++) {
            zm m = {.data = a, .len = na, .deflate = deflate};
            unsigned char *z = zip_build(&m, 1, 0, &len, NULL);
            refuse(z, len, cases[k].want, cases[k].fragment);
            free(z);
        }
        free(a);
    }
    /* not an .npy at all */
    zm m = {.data = (const unsigned char *)"hello", .len = 5};
    size_t len;
    unsigned char *z = zip_build(&m, 1, 0, &len, NULL);
    refuse(z, len, NNINIT_ERR_FORMAT, "member 'w.npy': npy: not a .npy file");
    free(z);
}

static void test_refuse_names(void **state) {
    (void)state;
    size_t na, len;
    unsigned char *a = npy_bytes(F32_DICT, 60, &na);
    static const struct {
        const char *name;
        size_t nl;
        unsigned flags;
        const char *fragment;
    } cases[] = {
        {"readme.txt", 0, 0, "member 'readme.txt' is not an .npy file (its name does not end in .npy)"},
        {".npy", 0, 0, "member '.npy' is not an .npy file"},
        {"w.NPY", 0, 0, "member 'w.NPY' is not an .npy file"},
        {"a\0b.npy", 7, 0, "central directory entry 0: the name holds a NUL byte"},
        {"\xff.npy", 0, 0x800, "central directory entry 0: the name is flagged UTF-8 but is not"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        zm m = {.name = cases[k].name, .name_len = cases[k].nl, .data = a, .len = na, .flags = cases[k].flags};
        unsigned char *z = zip_build(&m, 1, 0, &len, NULL);
        refuse(z, len, NNINIT_ERR_FORMAT, cases[k].fragment);
        free(z);
    }
    /* a name of bytes, unflagged (cp437 to others), is taken as it is */
    zm raw = {.name = "\xff.npy", .data = a, .len = na};
    unsigned char *z = zip_build(&raw, 1, 0, &len, NULL);
    nninit_npz_file *f = accept(z, len);
    assert_non_null(nninit_npz_find(f, "\xff"));
    nninit_npz_close(f);
    free(z);
    /* duplicates */
    zm two[3] = {{.name = "w.npy", .data = a, .len = na},
                 {.name = "v.npy", .data = a, .len = na},
                 {.name = "w.npy", .data = a, .len = na, .deflate = 1}};
    z = zip_build(two, 3, 0, &len, NULL);
    refuse(z, len, NNINIT_ERR_FORMAT, "two members are named 'w.npy'");
    free(z);
    /* an empty name */
    zm e = {.name = "", .data = a, .len = na};
    z = zip_build(&e, 1, 0, &len, NULL);
    refuse(z, len, NNINIT_ERR_FORMAT, "central directory entry 0 has an empty name");
    free(z);
    free(a);
}

static void test_refuse_flags_and_methods(void **state) {
    (void)state;
    size_t na, len;
    unsigned char *a = npy_bytes(F32_DICT, 60, &na);
    zm cases[] = {{.data = a, .len = na, .flags = 1},
                  {.data = a, .len = na, .flags = 0x40},
                  {.data = a, .len = na, .method = 12},
                  {.data = a, .len = na, .method = 14},
                  {.data = a, .len = na, .method = 7}};
    const char *want[] = {"member 'w.npy' is encrypted", "member 'w.npy' is encrypted",
                          "compression method 12 (bzip2); nninit reads stored (0) and deflated (8)",
                          "compression method 14 (lzma)", "compression method 7 (unknown)"};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        unsigned char *z = zip_build(&cases[k], 1, 0, &len, NULL);
        refuse(z, len, NNINIT_ERR_FORMAT, want[k]);
        free(z);
    }
    zoffsets o;
    zm m = {.data = a, .len = na};
    unsigned char *z = zip_build(&m, 1, 0, &len, &o);
    unsigned char *c = malloc(len);
    /* stored, with two sizes */
    memcpy(c, z, len);
    set_sizes(c, &o, 0, 120, 124, 1);
    refuse(c, len, NNINIT_ERR_FORMAT,
           "member 'w.npy' is stored, yet its compressed size 120 differs from its size 124");
    /* local flags or method other than the directory's */
    memcpy(c, z, len);
    set16(c + o.lh[0] + 6, 0x800);
    refuse(c, len, NNINIT_ERR_FORMAT,
           "the local header says flags 0x0800 and method 0, the central directory 0x0000 and 0");
    memcpy(c, z, len);
    set16(c + o.lh[0] + 8, 8);
    refuse(c, len, NNINIT_ERR_FORMAT, "the local header says flags 0x0000 and method 8");
    /* signatures */
    memcpy(c, z, len);
    c[o.lh[0]] = 'Q';
    refuse(c, len, NNINIT_ERR_FORMAT, "member 'w.npy': no local header at 0 (bad signature)");
    memcpy(c, z, len);
    c[o.cd[0]] = 'Q';
    refuse(c, len, NNINIT_ERR_FORMAT, "central directory entry 0 (at byte 159) is not one (bad signature)");
    /* counts */
    memcpy(c, z, len);
    set16(c + o.eocd + 8, 2);
    set16(c + o.eocd + 10, 2);
    refuse(c, len, NNINIT_ERR_FORMAT, "2 entries do not fit in the central directory's 51 bytes");
    memcpy(c, z, len);
    set16(c + o.eocd + 8, 0);
    set16(c + o.eocd + 10, 0);
    refuse(c, len, NNINIT_ERR_FORMAT, "51 bytes after the 0 entries of the central directory");
    memcpy(c, z, len);
    set16(c + o.eocd + 4, 1);
    refuse(c, len, NNINIT_ERR_FORMAT, "the archive spans several disks (disk 1, directory on 0)");
    memcpy(c, z, len);
    set16(c + o.cd[0] + 34, 2);
    refuse(c, len, NNINIT_ERR_FORMAT, "member 'w.npy' is on disk 2");
    /* extra fields that do not add up: the directory entry claims 4 bytes the name does not leave */
    memcpy(c, z, len);
    set16(c + o.cd[0] + 30, 4);
    set16(c + o.cd[0] + 28, 1);
    refuse(c, len, NNINIT_ERR_FORMAT, "is not an .npy file");
    free(c);
    free(z);
    free(a);
}

static void test_refuse_deflate(void **state) {
    (void)state;
    size_t na, len;
    unsigned char *a = npy_bytes(F32_DICT, 60, &na);
    zm cut = {.data = a, .len = na, .deflate = 1, .cut = 3};
    unsigned char *z = zip_build(&cut, 1, 0, &len, NULL);
    refuse(z, len, NNINIT_ERR_FORMAT,
           "member 'w.npy': the deflate stream is cut short (its compressed size ends inside it)");
    free(z);
    zm pad = {.data = a, .len = na, .deflate = 1, .pad = 5};
    z = zip_build(&pad, 1, 0, &len, NULL);
    refuse(z, len, NNINIT_ERR_FORMAT, "member 'w.npy': 5 bytes after the end of its deflate stream");
    free(z);
    zm m = {.data = a, .len = na, .deflate = 1};
    zoffsets o;
    z = zip_build(&m, 1, 0, &len, &o);
    unsigned char *c = malloc(len);
    uint32_t cs = le32(z + o.cd[0] + 20);
    memcpy(c, z, len);
    set_sizes(c, &o, 0, cs, 123, 1);
    refuse(c, len, NNINIT_ERR_FORMAT, "member 'w.npy': inflates to more than the 123 bytes the directory says");
    memcpy(c, z, len);
    set_sizes(c, &o, 0, cs, 125, 1);
    refuse(c, len, NNINIT_ERR_FORMAT, "member 'w.npy': inflates to 124 bytes, the directory says 125");
    memcpy(c, z, len);
    c[o.lh[0] + 35] = 0xff; /* BFINAL, BTYPE 11: a reserved block type */
    refuse(c, len, NNINIT_ERR_FORMAT, "member 'w.npy': bad deflate data: invalid block type");
    free(c);
    free(z);
    free(a);
}

static void test_refuse_descriptor(void **state) {
    (void)state;
    size_t na, len;
    unsigned char *a = npy_bytes(F32_DICT, 60, &na);
    zm m[2] = {{.name = "a.npy", .data = a, .len = na, .descriptor = 1}, {.name = "b.npy", .data = a, .len = na}};
    zoffsets o;
    unsigned char *z = zip_build(m, 2, 0, &len, &o);
    nninit_npz_close(accept(z, len));
    unsigned char *c = malloc(len);
    memcpy(c, z, len);
    c[o.lh[1] - 12] ^= 1; /* the descriptor's CRC */
    refuse(c, len, NNINIT_ERR_FORMAT, "member 'a.npy': its data descriptor says CRC");
    memcpy(c, z, len);
    c[o.lh[1] - 16] = 'Q';
    refuse(c, len, NNINIT_ERR_FORMAT, "member 'a.npy': its data descriptor has a bad signature");
    memcpy(c, z, len);
    set32(c + o.cd[1] + 42, (uint32_t)(o.lh[1] - 3)); /* b said to begin inside a's descriptor */
    refuse(c, len, NNINIT_ERR_FORMAT, "member 'b.npy': no local header at 172");
    free(c);
    free(z);
    m[0].descriptor = 2;
    z = zip_build(m, 2, 0, &len, &o);
    refuse(z, len, NNINIT_ERR_FORMAT, "member 'a.npy': 17 bytes follow its data, not a data descriptor (12 to 24)");
    free(z);
    m[0].descriptor = 3;
    m[0].deflate = 1;
    z = zip_build(m, 2, 0, &len, &o);
    nninit_npz_close(accept(z, len));
    free(z);
    free(a);
}

/* The ZIP64 records, on a forced archive of nninit's writer. */
static void test_refuse_zip64(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "z.npz");
    const int64_t s3[1] = {3};
    nninit_npz_array arr = array("w", NNINIT_F32, 1, s3);
    write_archive(path, &arr, 1, 1, 12, 0);
    size_t len;
    unsigned char *z = slurp(path, &len), *c = malloc(len);
    size_t eocd = len - 22, loc = eocd - 20, e64 = loc - 56, cd = e64 - (46 + 5 + 28);
    assert_int_equal(le32(z + cd), 0x02014b50u);
    nninit_npz_close(accept(z, len));
    memcpy(c, z, len);
    set32(c + loc + 8, (uint32_t)(e64 - 8));
    refuse(c, len, NNINIT_ERR_FORMAT, "where the locator points");
    memcpy(c, z, len);
    set32(c + loc + 8, (uint32_t)(loc - 10));
    refuse(c, len, NNINIT_ERR_FORMAT, "leaves no room for it before the locator");
    memcpy(c, z, len);
    set32(c + e64 + 4, 45);
    refuse(c, len, NNINIT_ERR_FORMAT, "(57 bytes) does not end at the locator");
    memcpy(c, z, len);
    set16(c + eocd + 10, 2);
    refuse(c, len, NNINIT_ERR_FORMAT,
           "the end record (2 entries, 4294967295 bytes at 4294967295) and the ZIP64 end "
           "record (1, 79 at");
    memcpy(c, z, len);
    set32(c + loc + 16, 2);
    refuse(c, len, NNINIT_ERR_FORMAT, "the ZIP64 locator names several disks");
    memcpy(c, z, len);
    set16(c + cd + 46 + 5, 0x0002); /* the entry's ZIP64 field retagged: nothing holds its sizes */
    refuse(c, len, NNINIT_ERR_FORMAT,
           "member 'w.npy': the central directory entry says 0xFFFFFFFF and no ZIP64 extra field holds the value");
    memcpy(c, z, len);
    set16(c + cd + 46 + 5 + 2, 26); /* its length past the extra's end */
    refuse(c, len, NNINIT_ERR_FORMAT, "member 'w.npy': the central directory entry's extra fields do not add up");
    memcpy(c, z, len);
    set16(c + 30 + 5, 0x0002); /* the local header's */
    refuse(c, len, NNINIT_ERR_FORMAT,
           "member 'w.npy': the local header says 0xFFFFFFFF and no ZIP64 extra field holds the value");
    memcpy(c, z, len);
    c[30 + 5 + 4] ^= 1; /* the local ZIP64 size */
    refuse(c, len, NNINIT_ERR_FORMAT, "member 'w.npy': the local header says CRC");
    free(c);
    free(z);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_zip64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_one_by_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_between_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_archive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_65536_members, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_bad_arrays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_byte_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_bad_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_efbig, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_stored_deflated_descriptor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_comment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_lying_sizes_and_overlaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_crc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_member_npy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_flags_and_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_deflate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_descriptor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_zip64, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

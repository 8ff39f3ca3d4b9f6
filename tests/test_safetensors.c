/* test_safetensors.c -- safetensors (include/nninit_checkpoint.h): the exact
 * header bytes, round trips of every fill dtype (a 0-d scalar, a zero-size
 * dim, pieces of odd sizes, metadata), every validation error of the reader
 * on files built by hand, the writer's errors (too many or too few bytes, a
 * directory or symlink at the path, a write that fails with EFBIG) leaving no
 * file and no temporary, and the shard index. */
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

#include "nninit.h"
#include "nninit_checkpoint.h"

static char g_dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/nninit_test_st_XXXXXX");
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
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void spit(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len) assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static nninit_st_tensor tensor(const char *name, nninit_st_dtype d, int ndim, const int64_t *shape) {
    nninit_st_tensor t;
    memset(&t, 0, sizeof t);
    t.name = name;
    t.dtype = d;
    t.ndim = ndim;
    for (int i = 0; i < ndim; i++) t.shape[i] = shape[i];
    return t;
}

/* ---- dtypes -------------------------------------------------------------- */

static void test_dtypes(void **state) {
    (void)state;
    static const char *names[] = {"F32", "F64", "BF16", "F16", "I8",   "U8",      "I16",    "U16",
                                  "I32", "U32", "I64",  "U64", "BOOL", "F8_E4M3", "F8_E5M2"};
    static const size_t sizes[] = {4, 8, 2, 2, 1, 1, 2, 2, 4, 4, 8, 8, 1, 1, 1};
    assert_int_equal(sizeof names / sizeof names[0], NNINIT_ST_DTYPE_COUNT);
    for (int d = 0; d < NNINIT_ST_DTYPE_COUNT; d++) {
        assert_string_equal(nninit_st_dtype_name((nninit_st_dtype)d), names[d]);
        assert_int_equal(nninit_st_dtype_size((nninit_st_dtype)d), sizes[d]);
        nninit_st_dtype p;
        assert_int_equal(nninit_st_dtype_parse(names[d], &p), NNINIT_OK);
        assert_int_equal(p, d);
        nninit_dtype fd;
        nninit_status s = nninit_st_fill_dtype((nninit_st_dtype)d, &fd);
        if (d <= NNINIT_ST_F16) {
            assert_int_equal(s, NNINIT_OK);
            assert_int_equal(nninit_st_dtype_of(fd), d);
        } else {
            assert_int_equal(s, NNINIT_ERR_DTYPE);
            assert_non_null(strstr(nninit_last_error(), names[d]));
        }
    }
    assert_null(nninit_st_dtype_name(NNINIT_ST_DTYPE_COUNT));
    assert_null(nninit_st_dtype_name((nninit_st_dtype)-1));
    assert_int_equal(nninit_st_dtype_size(NNINIT_ST_DTYPE_COUNT), 0);
    nninit_st_dtype p = NNINIT_ST_I8;
    assert_int_equal(nninit_st_dtype_parse("f32", &p), NNINIT_ERR_UNKNOWN_NAME);
    assert_int_equal(nninit_st_dtype_parse("F8_E4M", &p), NNINIT_ERR_UNKNOWN_NAME);
    assert_int_equal(p, NNINIT_ST_I8);
    assert_int_equal(nninit_st_dtype_parse(NULL, &p), NNINIT_ERR_NULL);
    assert_int_equal(nninit_st_dtype_parse("F32", NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_st_dtype_of((nninit_dtype)9), NNINIT_ST_DTYPE_COUNT);
    assert_int_equal(nninit_st_fill_dtype(NNINIT_ST_F32, NULL), NNINIT_ERR_NULL);
}

/* ---- header -------------------------------------------------------------- */

/* 8-byte length + json + spaces to a multiple of 8 */
static size_t expected(unsigned char *out, const char *json) {
    size_t n = strlen(json), padded = (n + 7) / 8 * 8;
    for (int k = 0; k < 8; k++) out[k] = (unsigned char)((uint64_t)padded >> (8 * k));
    memcpy(out + 8, json, n);
    memset(out + 8 + n, ' ', padded - n);
    return 8 + padded;
}

static void test_header_exact(void **state) {
    (void)state;
    const int64_t s23[2] = {2, 3}, s0[1] = {0};
    nninit_st_tensor t[3] = {tensor("w", NNINIT_ST_BF16, 2, s23), tensor("s", NNINIT_ST_F64, 0, NULL),
                             tensor("e", NNINIT_ST_F32, 1, s0)};
    nninit_st_meta m[2] = {{"format", "pt"}, {"q\"\\\n\x01", "\xc3\xa9t\xc3\xa9"}};
    unsigned char *h;
    size_t len;
    uint64_t off[6], total;
    assert_int_equal(nninit_st_header(t, 3, m, 2, &h, &len, off, &total), NNINIT_OK);
    unsigned char want[512];
    size_t wl = expected(want, "{\"__metadata__\":{\"format\":\"pt\",\"q\\\"\\\\\\n\\u0001\":\"\xc3\xa9t\xc3\xa9\"},"
                               "\"w\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,12]},"
                               "\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[12,20]},"
                               "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[20,20]}}");
    assert_int_equal(len, wl);
    assert_int_equal(len % 8, 0);
    assert_memory_equal(h, want, wl);
    const uint64_t want_off[6] = {0, 12, 12, 20, 20, 20};
    assert_memory_equal(off, want_off, sizeof want_off);
    assert_int_equal(total, 20);
    free(h);

    /* no tensors, no metadata: "{}" padded; offsets and data_bytes may be NULL */
    assert_int_equal(nninit_st_header(NULL, 0, NULL, 0, &h, &len, NULL, NULL), NNINIT_OK);
    wl = expected(want, "{}");
    assert_int_equal(len, 16);
    assert_memory_equal(h, want, wl);
    free(h);
}

static void test_header_errors(void **state) {
    (void)state;
    const int64_t s2[1] = {2}, neg[2] = {2, -1}, big[3] = {1 << 30, 1 << 30, 1 << 30};
    char longname[NNINIT_ST_MAX_NAME + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    unsigned char *h = (unsigned char *)"untouched";
    size_t len = 77;
    uint64_t off[4] = {9, 9, 9, 9};
    struct {
        nninit_st_tensor t[2];
        size_t n;
        nninit_status want;
        const char *mention;
    } cases[] = {
        {{tensor("", NNINIT_ST_F32, 1, s2)}, 1, NNINIT_ERR_FORMAT, "empty"},
        {{tensor(longname, NNINIT_ST_F32, 1, s2)}, 1, NNINIT_ERR_FORMAT, "1025 bytes"},
        {{tensor("__metadata__", NNINIT_ST_F32, 1, s2)}, 1, NNINIT_ERR_FORMAT, "__metadata__"},
        {{tensor("a", NNINIT_ST_F32, 1, s2), tensor("a", NNINIT_ST_F16, 1, s2)}, 2, NNINIT_ERR_FORMAT, "duplicate"},
        {{tensor("a", NNINIT_ST_DTYPE_COUNT, 1, s2)}, 1, NNINIT_ERR_FORMAT, "dtype"},
        {{tensor("a", (nninit_st_dtype)-3, 1, s2)}, 1, NNINIT_ERR_FORMAT, "dtype"},
        {{tensor("a", NNINIT_ST_F32, -1, s2)}, 1, NNINIT_ERR_FORMAT, "ndim"},
        {{tensor("a", NNINIT_ST_F32, 2, neg)}, 1, NNINIT_ERR_FORMAT, "shape[1]"},
        {{tensor("a\xff", NNINIT_ST_F32, 1, s2)}, 1, NNINIT_ERR_FORMAT, "UTF-8"},
        {{tensor("a\xc0\x80", NNINIT_ST_F32, 1, s2)}, 1, NNINIT_ERR_FORMAT, "UTF-8"}, /* overlong NUL */
        {{tensor("a", NNINIT_ST_F64, 3, big), tensor("b", NNINIT_ST_F64, 3, big)}, 2, NNINIT_ERR_OVERFLOW, "'a'"},
        {{tensor("a", NNINIT_ST_F32, 1, s2), tensor(NULL, NNINIT_ST_F32, 1, s2)}, 2, NNINIT_ERR_NULL, "tensors[1]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nninit_status s = nninit_st_header(cases[i].t, cases[i].n, NULL, 0, &h, &len, off, NULL);
        if (s != cases[i].want || !strstr(nninit_last_error(), cases[i].mention))
            fail_msg("case %zu: %s: %s", i, nninit_status_str(s), nninit_last_error());
        assert_int_equal(len, 77);
        assert_int_equal(off[0], 9);
    }
    nninit_st_tensor nine_t;
    memset(&nine_t, 0, sizeof nine_t);
    nine_t.name = "a";
    nine_t.ndim = 9;
    assert_int_equal(nninit_st_header(&nine_t, 1, NULL, 0, &h, &len, NULL, NULL), NNINIT_ERR_FORMAT);
    nninit_st_tensor ok = tensor("a", NNINIT_ST_F32, 1, s2);
    nninit_st_meta dupm[2] = {{"k", "1"}, {"k", "2"}}, nullm[1] = {{"k", NULL}}, badm[1] = {{"k", "\xed\xa0\x80"}};
    assert_int_equal(nninit_st_header(&ok, 1, dupm, 2, &h, &len, NULL, NULL), NNINIT_ERR_FORMAT);
    assert_non_null(strstr(nninit_last_error(), "metadata key 'k'"));
    assert_int_equal(nninit_st_header(&ok, 1, nullm, 1, &h, &len, NULL, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_st_header(&ok, 1, badm, 1, &h, &len, NULL, NULL), NNINIT_ERR_FORMAT); /* surrogate */
    assert_int_equal(nninit_st_header(NULL, 1, NULL, 0, &h, &len, NULL, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_st_header(&ok, 1, NULL, 1, &h, &len, NULL, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_st_header(&ok, 1, NULL, 0, NULL, &len, NULL, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_st_header(&ok, 1, NULL, 0, &h, NULL, NULL, NULL), NNINIT_ERR_NULL);
    /* a dimension of 2^53 cannot be read back exactly by a JSON reader */
    const int64_t huge[2] = {0, (int64_t)1 << 53};
    nninit_st_tensor ht = tensor("h", NNINIT_ST_F32, 2, huge);
    assert_int_equal(nninit_st_header(&ht, 1, NULL, 0, &h, &len, NULL, NULL), NNINIT_ERR_FORMAT);
    assert_string_equal((const char *)h, "untouched");
}

/* ---- round trip ------------------------------------------------------------ */

#define NT 10

typedef struct {
    nninit_st_tensor t[NT];
    unsigned char *data[NT];
    size_t bytes[NT];
    char names[NT][32];
} model;

/* Every fill dtype in several shapes, filled by nninit_fill where it can
 * (a 0-d scalar and an empty tensor are not fill shapes: bytes by hand). */
static void model_make(model *m) {
    static const int64_t shapes[][4] = {{3, 5}, {64, 3, 3, 3}, {7}, {300, 257}};
    static const int nd[] = {2, 4, 1, 2};
    int k = 0;
    for (int d = 0; d < 4; d++)
        for (int s = d % 2; s < 4; s += 2, k++) {
            snprintf(m->names[k], sizeof m->names[k], "layers.%d.%s", k, s == 3 ? "embed" : "weight");
            nninit_tensor nt = nninit_tensor_make(nd[s], shapes[s], (nninit_dtype)d);
            int64_t numel;
            assert_int_equal(nninit_tensor_numel(&nt, &numel), NNINIT_OK);
            m->t[k] = tensor(m->names[k], nninit_st_dtype_of((nninit_dtype)d), nd[s], shapes[s]);
            m->bytes[k] = (size_t)numel * nninit_st_dtype_size(m->t[k].dtype);
            m->data[k] = malloc(m->bytes[k]);
            assert_non_null(m->data[k]);
            nninit_spec sp = nninit_spec_default(NNINIT_NORMAL);
            assert_int_equal(nninit_fill(&sp, &nt, nninit_key_from_name(7, m->names[k]), m->data[k]), NNINIT_OK);
        }
    static const int64_t empty[3] = {3, 0, 2};
    snprintf(m->names[k], sizeof m->names[k], "scale");
    m->t[k] = tensor(m->names[k], NNINIT_ST_F32, 0, NULL);
    m->bytes[k] = 4;
    m->data[k] = malloc(4);
    memcpy(m->data[k], "\x00\x00\xc0\x3f", 4); /* 1.5f, little-endian */
    k++;
    snprintf(m->names[k], sizeof m->names[k], "empty");
    m->t[k] = tensor(m->names[k], NNINIT_ST_BF16, 3, empty);
    m->bytes[k] = 0;
    m->data[k] = malloc(1);
    k++;
    assert_int_equal(k, NT);
}

static void model_free(model *m) {
    for (int k = 0; k < NT; k++) free(m->data[k]);
}

/* Writes m to path in pieces of odd sizes that straddle tensors. */
static nninit_status model_write(const model *m, const char *path, const nninit_st_meta *meta, size_t nmeta) {
    nninit_st_writer *w = NULL;
    nninit_status s = nninit_st_writer_open(&w, path, m->t, NT, meta, nmeta);
    if (s != NNINIT_OK) return s;
    static const size_t pieces[] = {1, 3, 7, 65536, 13, 65535, 100003, 5, 2};
    size_t total = 0;
    for (int k = 0; k < NT; k++) total += m->bytes[k];
    unsigned char *all = malloc(total + 1);
    size_t at = 0;
    for (int k = 0; k < NT; k++) memcpy(all + at, m->data[k], m->bytes[k]), at += m->bytes[k];
    for (size_t off = 0, i = 0; off < total; i++) {
        size_t p = pieces[i % (sizeof pieces / sizeof pieces[0])];
        if (p > total - off) p = total - off;
        s = nninit_st_writer_append(w, all + off, p);
        assert_int_equal(s, NNINIT_OK);
        off += p;
    }
    assert_int_equal(nninit_st_writer_append(w, NULL, 0), NNINIT_OK);
    free(all);
    return nninit_st_writer_commit(w);
}

static void test_round_trip(void **state) {
    (void)state;
    model m;
    model_make(&m);
    char path[256];
    path_in_dir(path, sizeof path, "model.safetensors");
    nninit_st_meta meta[3] = {{"format", "pt"}, {"nninit.seed", "7"}, {"note", "line\nbreak \"quoted\" \xe2\x9c\x93"}};
    assert_int_equal(model_write(&m, path, meta, 3), NNINIT_OK);
    assert_int_equal(count_entries(), 1);

    /* the file is exactly nninit_st_header's bytes, then the data in order */
    unsigned char *h;
    size_t hlen;
    uint64_t off[2 * NT], total;
    assert_int_equal(nninit_st_header(m.t, NT, meta, 3, &h, &hlen, off, &total), NNINIT_OK);
    size_t flen;
    unsigned char *file = slurp(path, &flen);
    assert_non_null(file);
    assert_int_equal(flen, hlen + total);
    assert_memory_equal(file, h, hlen);
    for (int k = 0; k < NT; k++)
        if (m.bytes[k]) assert_memory_equal(file + hlen + off[2 * k], m.data[k], m.bytes[k]);

    nninit_st_file *f = NULL;
    assert_int_equal(nninit_st_open(path, &f), NNINIT_OK);
    assert_int_equal(nninit_st_data_start(f), hlen);
    assert_int_equal(nninit_st_count(f), NT);
    for (int k = 0; k < NT; k++) {
        const nninit_st_tensor *t = nninit_st_tensor_at(f, (size_t)k);
        assert_non_null(t);
        assert_string_equal(t->name, m.names[k]);
        assert_int_equal(t->dtype, m.t[k].dtype);
        assert_int_equal(t->ndim, m.t[k].ndim);
        for (int i = 0; i < t->ndim; i++) assert_int_equal(t->shape[i], m.t[k].shape[i]);
        assert_int_equal(t->begin, off[2 * k]);
        assert_int_equal(t->end, off[2 * k + 1]);
        assert_ptr_equal(nninit_st_find(f, m.names[k]), t);
        unsigned char *back = malloc(m.bytes[k] + 1);
        assert_int_equal(nninit_st_read(f, t, 0, m.bytes[k], back), NNINIT_OK);
        if (m.bytes[k]) assert_memory_equal(back, m.data[k], m.bytes[k]);
        if (m.bytes[k] > 3) { /* a slice in the middle, and one past the end */
            assert_int_equal(nninit_st_read(f, t, 1, m.bytes[k] - 2, back), NNINIT_OK);
            assert_memory_equal(back, m.data[k] + 1, m.bytes[k] - 2);
            assert_int_equal(nninit_st_read(f, t, 2, m.bytes[k] - 1, back), NNINIT_ERR_SLICE);
        }
        assert_int_equal(nninit_st_read(f, t, m.bytes[k] + 1, 0, back), NNINIT_ERR_SLICE);
        free(back);
    }
    assert_null(nninit_st_tensor_at(f, NT));
    assert_null(nninit_st_find(f, "layers.0"));
    assert_null(nninit_st_find(f, NULL));
    assert_int_equal(nninit_st_meta_count(f), 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(nninit_st_meta_at(f, (size_t)i)->key, meta[i].key);
        assert_string_equal(nninit_st_meta_at(f, (size_t)i)->value, meta[i].value);
        assert_string_equal(nninit_st_meta_get(f, meta[i].key), meta[i].value);
    }
    assert_null(nninit_st_meta_at(f, 3));
    assert_null(nninit_st_meta_get(f, "absent"));
    /* a tensor of another file is refused, not read */
    nninit_st_tensor other = *nninit_st_tensor_at(f, 0);
    unsigned char b4[4];
    assert_int_equal(nninit_st_read(f, &other, 0, 4, b4), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_st_read(f, NULL, 0, 4, b4), NNINIT_ERR_NULL);

    /* the same header parsed from memory; it has no descriptor to read from */
    nninit_st_file *g = NULL;
    assert_int_equal(nninit_st_parse(file, hlen, flen, &g), NNINIT_OK);
    assert_int_equal(nninit_st_count(g), NT);
    assert_string_equal(nninit_st_meta_get(g, "note"), meta[2].value);
    assert_int_equal(nninit_st_read(g, nninit_st_tensor_at(g, 0), 0, 4, b4), NNINIT_ERR_IO);
    nninit_st_close(g);
    nninit_st_close(f);
    nninit_st_close(NULL);

    /* a second write replaces the file; no metadata means no __metadata__ */
    assert_int_equal(model_write(&m, path, NULL, 0), NNINIT_OK);
    assert_int_equal(nninit_st_open(path, &f), NNINIT_OK);
    assert_int_equal(nninit_st_meta_count(f), 0);
    assert_int_equal(nninit_st_count(f), NT);
    nninit_st_close(f);
    assert_int_equal(count_entries(), 1);
    free(file);
    free(h);
    model_free(&m);
}

/* ---- the reader's validation ------------------------------------------------- */

/* A file of json (padded to 8 with spaces unless raw) and data_len zero bytes. */
static unsigned char *build(const char *json, size_t data_len, size_t *len) {
    size_t n = strlen(json), padded = (n + 7) / 8 * 8;
    unsigned char *b = calloc(1, 8 + padded + data_len + 1);
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)((uint64_t)padded >> (8 * k));
    memcpy(b + 8, json, n);
    memset(b + 8 + n, ' ', padded - n);
    *len = 8 + padded + data_len;
    return b;
}

/* Both readers refuse the file with FORMAT, a message that holds mention,
 * and leave the caller's pointer alone. */
static void expect_bad(const unsigned char *b, size_t len, const char *mention, const char *what) {
    char path[256];
    path_in_dir(path, sizeof path, "bad.safetensors");
    spit(path, b, len);
    nninit_st_file *f = (nninit_st_file *)(uintptr_t)0x1234;
    nninit_status s = nninit_st_parse(b, len, len, &f);
    if (s != NNINIT_ERR_FORMAT || !strstr(nninit_last_error(), mention))
        fail_msg("%s: parse: %s: %s (wanted '%s')", what, nninit_status_str(s), nninit_last_error(), mention);
    assert_ptr_equal(f, (nninit_st_file *)(uintptr_t)0x1234);
    s = nninit_st_open(path, &f);
    if (s != NNINIT_ERR_FORMAT || !strstr(nninit_last_error(), mention) || !strstr(nninit_last_error(), path))
        fail_msg("%s: open: %s: %s (wanted '%s')", what, nninit_status_str(s), nninit_last_error(), mention);
    assert_ptr_equal(f, (nninit_st_file *)(uintptr_t)0x1234);
    unlink(path);
}

static void expect_bad_json(const char *json, size_t data_len, const char *mention) {
    size_t len;
    unsigned char *b = build(json, data_len, &len);
    expect_bad(b, len, mention, json);
    free(b);
}

#define E(name, dt, shape, b, e)                                                                                       \
    "\"" name "\":{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":[" b "," e "]}"

static void test_reader_errors(void **state) {
    (void)state;
    /* the 8-byte length itself */
    unsigned char tiny[5] = {8, 0, 0, 0, 0};
    expect_bad(tiny, sizeof tiny, "truncated", "5-byte file");
    size_t len;
    unsigned char *b = build("{}", 0, &len);
    b[0] = 64; /* 64 header bytes in a 16-byte file */
    expect_bad(b, len, "beyond the end of the file", "header length beyond the file");
    uint64_t over = NNINIT_ST_MAX_HEADER + 8;
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)(over >> (8 * k));
    expect_bad(b, len, "over the limit", "header length over the limit");
    free(b);
    /* a data part cut short: the last tensor runs out of the file */
    b = build("{" E("a", "F32", "[4]", "0", "16") "}", 16, &len);
    expect_bad(b, len - 1, "beyond the data", "truncated data");
    free(b);

    /* the JSON */
    expect_bad_json("{\"a\":", 0, "bad JSON");
    expect_bad_json("{\"a\":{\"dtype\":\"F32\",}}", 0, "bad JSON");
    expect_bad_json("[1,2]", 0, "'{'");
    expect_bad_json(" {}", 0, "'{'");
    expect_bad_json("{} x", 0, "text after");
    expect_bad_json("{\"a\":5}", 0, "'a' is not an object");
    expect_bad_json("{\"a\xff\":5}", 0, "UTF-8");
    expect_bad_json("{\"a\\u0000b\":5}", 0, "\\u0000");
    b = build("{}", 0, &len);
    b[9] = '\0'; /* "{\0" */
    expect_bad(b, len, "NUL byte", "a NUL byte");
    free(b);

    /* an entry */
    expect_bad_json("{" E("w", "F33", "[2]", "0", "8") "}", 8, "unknown dtype 'F33'");
    expect_bad_json("{\"w\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "'w': dtype is not a string");
    expect_bad_json("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "'w' has no 'dtype'");
    expect_bad_json("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                    "'dtype' given twice");
    expect_bad_json("{" E("w", "F32", "[2,3]", "0", "20") "}", 20, "'w': shape and dtype F32 make 24 bytes");
    expect_bad_json("{" E("w", "BF16", "[2]", "0", "8") "}", 8, "'w': shape and dtype BF16 make 4 bytes");
    expect_bad_json("{" E("w", "F32", "[2,-1]", "0", "8") "}", 8, "'w': shape[1] is not an unsigned integer");
    expect_bad_json("{" E("w", "F32", "[2.5]", "0", "8") "}", 8, "'w': shape[0] is not an unsigned integer");
    expect_bad_json("{" E("w", "F32", "[\"2\"]", "0", "8") "}", 8, "'w': shape[0]");
    expect_bad_json("{" E("w", "F32", "2", "0", "8") "}", 8, "'w': shape is not an array");
    expect_bad_json("{" E("w", "F32", "[1,1,1,1,1,1,1,1,2]", "0", "8") "}", 8, "'w': more than 8 dimensions");
    expect_bad_json("{" E("w", "F32", "[0,9007199254740992]", "0", "0") "}", 0, "'w': shape[1]");
    expect_bad_json("{" E("w", "F64", "[4611686018427387904,4]", "0", "8") "}", 8, "'w': shape[0]");
    expect_bad_json("{" E("w", "U8", "[4294967296,4294967296]", "0", "8") "}", 8, "more than");
    expect_bad_json("{" E("w", "F32", "[2.0]", "0", "8") "}", 8, "'w': shape[0] is not an unsigned");
    expect_bad_json("{" E("w", "F32", "[2]", "0", "8e0") "}", 8, "'w': data_offsets is not");
    expect_bad_json("{" E("w", "F32", "[0]", "-0", "0") "}", 0, "'w': data_offsets is not");
    expect_bad_json("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "'w': data_offsets is not");
    expect_bad_json("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8, "'w': data_offsets");
    expect_bad_json("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":{}}}", 8, "'w': data_offsets");
    expect_bad_json("{" E("w", "F32", "[0]", "8", "0") "}", 8, "'w': data_offsets [8, 0] end before");
    expect_bad_json("{\"\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4, "empty name");
    {
        char json[2 * NNINIT_ST_MAX_NAME];
        snprintf(json, sizeof json, "{\"%0*d\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}",
                 NNINIT_ST_MAX_NAME + 1, 0);
        expect_bad_json(json, 4, "1025 bytes");
    }

    /* the offsets together */
    expect_bad_json("{" E("w", "F32", "[2]", "0", "8") "}", 4, "'w': data_offsets [0, 8] beyond the data (4 bytes)");
    expect_bad_json("{" E("w", "F32", "[2]", "0", "8") "," E("v", "F32", "[1]", "12", "16") "}", 16,
                    "'v': data_offsets [12, 16] leave a gap after the previous tensor's end 8");
    expect_bad_json("{" E("w", "F32", "[2]", "4", "12") "}", 12, "'w': data_offsets [4, 12] leave a gap");
    expect_bad_json("{" E("w", "F32", "[2]", "0", "8") "," E("v", "F32", "[2]", "4", "12") "}", 12,
                    "'v': data_offsets [4, 12] overlap");
    expect_bad_json("{" E("w", "F32", "[2]", "0", "8") "}", 12, "4 bytes after the last tensor");
    expect_bad_json("{" E("w", "F32", "[2]", "0", "8") "," E("w", "F32", "[2]", "8", "16") "}", 16,
                    "duplicate tensor name 'w'");
    expect_bad_json("{" E("e", "F32", "[0]", "0", "0") "," E("e", "F16", "[0]", "0", "0") "}", 0,
                    "duplicate tensor name 'e'");

    /* metadata */
    expect_bad_json("{\"__metadata__\":{\"a\":\"x\",\"n\":3}}", 0, "__metadata__ 'n': the value is not a string");
    expect_bad_json("{\"__metadata__\":{\"a\":null}}", 0, "'a': the value is not a string");
    expect_bad_json("{\"__metadata__\":{\"a\":{}}}", 0, "'a': the value is not a string");
    expect_bad_json("{\"__metadata__\":[]}", 0, "__metadata__ is not an object");
    expect_bad_json("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "__metadata__ given twice");
    expect_bad_json("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "duplicate __metadata__ key 'k'");
}

/* What the reader accepts beyond what nninit writes: offsets out of header
 * order, zero-size tensors sharing an offset, unknown fields, no padding,
 * JSON whitespace, escapes. */
static void test_reader_accepts(void **state) {
    (void)state;
    const char *json = "{ \"b\" : {\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[4,7],\"extra\":[1.5]},\n"
                       "\"e2\":{\"dtype\":\"F8_E5M2\",\"shape\":[0,5],\"data_offsets\":[7,7]},"
                       "\"e1\":{\"dtype\":\"BOOL\",\"shape\":[2,0],\"data_offsets\":[7,7]},"
                       "\"__metadata__\":{\"\\u00e9\\n\":\"\\ud83d\\ude00\"},"
                       "\"a\\\"\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}";
    size_t n = strlen(json);
    unsigned char *b = calloc(1, 8 + n + 7);
    b[0] = (unsigned char)(n & 0xff);
    b[1] = (unsigned char)(n >> 8);
    memcpy(b + 8, json, n);
    memcpy(b + 8 + n, "\x01\x02\x03\x04\x05\x06\x07", 7);
    nninit_st_file *f = NULL;
    assert_int_equal(nninit_st_parse(b, 8 + n, 8 + n + 7, &f), NNINIT_OK);
    assert_int_equal(nninit_st_count(f), 4);
    static const char *order[] = {"a\"", "b", "e2", "e1"}; /* by offset, header order on ties */
    for (size_t i = 0; i < 4; i++) assert_string_equal(nninit_st_tensor_at(f, i)->name, order[i]);
    assert_int_equal(nninit_st_tensor_at(f, 0)->ndim, 0);
    assert_int_equal(nninit_st_tensor_at(f, 0)->dtype, NNINIT_ST_I32);
    assert_int_equal(nninit_st_find(f, "e1")->dtype, NNINIT_ST_BOOL);
    assert_int_equal(nninit_st_find(f, "e2")->shape[1], 5);
    assert_string_equal(nninit_st_meta_get(f, "\xc3\xa9\n"), "\xf0\x9f\x98\x80");
    assert_int_equal(nninit_st_data_start(f), 8 + n);
    nninit_st_close(f);

    /* the buffer must hold the header; file_size may say more */
    assert_int_equal(nninit_st_parse(b, 8 + n - 1, 8 + n + 7, &f), NNINIT_ERR_FORMAT);
    assert_int_equal(nninit_st_parse(NULL, 0, 0, &f), NNINIT_ERR_NULL);
    assert_int_equal(nninit_st_parse(b, 8 + n, 8 + n + 7, NULL), NNINIT_ERR_NULL);
    free(b);

    char path[256];
    path_in_dir(path, sizeof path, "absent.safetensors");
    assert_int_equal(nninit_st_open(path, &f), NNINIT_ERR_IO);
    assert_non_null(strstr(nninit_last_error(), "absent.safetensors"));
    assert_int_equal(nninit_st_open(g_dir, &f), NNINIT_ERR_IO);
    assert_int_equal(nninit_st_open(NULL, &f), NNINIT_ERR_NULL);
    assert_int_equal(nninit_st_count(NULL), 0);
    assert_null(nninit_st_tensor_at(NULL, 0));
    assert_null(nninit_st_meta_get(NULL, "k"));
}

/* ---- the writer's errors ----------------------------------------------------- */

static void test_writer_errors(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "w.safetensors");
    const int64_t s4[1] = {4};
    nninit_st_tensor t[2] = {tensor("a", NNINIT_ST_F32, 1, s4), tensor("b", NNINIT_ST_F16, 1, s4)};
    unsigned char data[64] = {0};
    nninit_st_writer *w = NULL;

    /* more bytes than announced (24): refused, the temporary goes at once */
    assert_int_equal(nninit_st_writer_open(&w, path, t, 2, NULL, 0), NNINIT_OK);
    assert_int_equal(count_entries(), 1); /* the temporary */
    assert_int_equal(nninit_st_writer_append(w, data, 20), NNINIT_OK);
    assert_int_equal(nninit_st_writer_append(w, data, 5), NNINIT_ERR_FORMAT);
    assert_non_null(strstr(nninit_last_error(), "more"));
    assert_int_equal(count_entries(), 0);
    assert_int_equal(nninit_st_writer_append(w, data, 1), NNINIT_ERR_FORMAT);
    assert_non_null(strstr(nninit_last_error(), "failed before"));
    assert_int_equal(nninit_st_writer_commit(w), NNINIT_ERR_FORMAT);
    assert_int_equal(count_entries(), 0);

    /* bytes missing at commit */
    assert_int_equal(nninit_st_writer_open(&w, path, t, 2, NULL, 0), NNINIT_OK);
    assert_int_equal(nninit_st_writer_append(w, data, 23), NNINIT_OK);
    assert_int_equal(nninit_st_writer_commit(w), NNINIT_ERR_FORMAT);
    assert_non_null(strstr(nninit_last_error(), "23 of the 24"));
    assert_int_equal(count_entries(), 0);

    /* abort, and the NULL cases */
    assert_int_equal(nninit_st_writer_open(&w, path, t, 2, NULL, 0), NNINIT_OK);
    assert_int_equal(nninit_st_writer_append(w, data, 24), NNINIT_OK);
    assert_int_equal(nninit_st_writer_append(w, NULL, 1), NNINIT_ERR_NULL);
    nninit_st_writer_abort(w);
    nninit_st_writer_abort(NULL);
    assert_int_equal(count_entries(), 0);
    assert_int_equal(nninit_st_writer_append(NULL, data, 1), NNINIT_ERR_NULL);
    assert_int_equal(nninit_st_writer_commit(NULL), NNINIT_ERR_NULL);
    w = (nninit_st_writer *)(uintptr_t)0x1234;
    assert_int_equal(nninit_st_writer_open(NULL, path, t, 2, NULL, 0), NNINIT_ERR_NULL);
    assert_int_equal(nninit_st_writer_open(&w, NULL, t, 2, NULL, 0), NNINIT_ERR_NULL);
    /* a bad header fails before any file is made */
    nninit_st_tensor dup[2] = {t[0], t[0]};
    assert_int_equal(nninit_st_writer_open(&w, path, dup, 2, NULL, 0), NNINIT_ERR_FORMAT);
    assert_ptr_equal(w, (nninit_st_writer *)(uintptr_t)0x1234);
    assert_int_equal(count_entries(), 0);

    /* a directory, a symlink: refused and untouched */
    char dir[256], link[256], target[256];
    path_in_dir(dir, sizeof dir, "adir");
    path_in_dir(link, sizeof link, "alink");
    path_in_dir(target, sizeof target, "target");
    assert_int_equal(mkdir(dir, 0700), 0);
    spit(target, "keep", 4);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(nninit_st_writer_open(&w, dir, t, 2, NULL, 0), NNINIT_ERR_IO);
    assert_non_null(strstr(nninit_last_error(), "not a regular file"));
    assert_int_equal(nninit_st_writer_open(&w, link, t, 2, NULL, 0), NNINIT_ERR_IO);
    struct stat st;
    assert_int_equal(lstat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    size_t len;
    unsigned char *keep = slurp(target, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(keep, "keep", 4);
    free(keep);
    assert_int_equal(count_entries(), 3);
    /* a directory that does not exist */
    char nodir[256];
    path_in_dir(nodir, sizeof nodir, "no/such.safetensors");
    assert_int_equal(nninit_st_writer_open(&w, nodir, t, 2, NULL, 0), NNINIT_ERR_IO);
    assert_ptr_equal(w, (nninit_st_writer *)(uintptr_t)0x1234);
}

/* A write that fails (EFBIG under RLIMIT_FSIZE, SIGXFSZ ignored), in a
 * child: IO with errno's text, and neither the file nor a temporary stays. */
static void test_writer_efbig(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "big.safetensors");
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {100000, 100000};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(10);
        const int64_t shape[1] = {1 << 18};
        nninit_st_tensor t = tensor("big", NNINIT_ST_F32, 1, shape);
        nninit_st_writer *w;
        if (nninit_st_writer_open(&w, path, &t, 1, NULL, 0) != NNINIT_OK) _exit(11);
        static unsigned char piece[3000];
        nninit_status s = NNINIT_OK;
        for (size_t off = 0; off < ((size_t)1 << 20) && s == NNINIT_OK; off += sizeof piece) {
            size_t p = ((size_t)1 << 20) - off < sizeof piece ? ((size_t)1 << 20) - off : sizeof piece;
            s = nninit_st_writer_append(w, piece, p);
        }
        if (s != NNINIT_ERR_IO) _exit(12);
        if (!strstr(nninit_last_error(), strerror(EFBIG))) _exit(13);
        if (nninit_st_writer_commit(w) != NNINIT_ERR_IO) _exit(14);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(count_entries(), 0);
}

/* A killed writer's temporary is removed by the next write of the path;
 * another name's, or a live writer's, is not. */
static void test_sweep(void **state) {
    (void)state;
    fflush(NULL);
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    assert_int_equal(waitpid(dead, NULL, 0), dead);
    char stale[256], live[256], other[256], path[256];
    snprintf(stale, sizeof stale, "%s/.m.safetensors.nninit-tmp.%ld.abc123", g_dir, (long)dead);
    snprintf(live, sizeof live, "%s/.m.safetensors.nninit-tmp.%ld.abc123", g_dir, (long)getppid());
    snprintf(other, sizeof other, "%s/.n.safetensors.nninit-tmp.%ld.abc123", g_dir, (long)dead);
    spit(stale, "x", 1);
    spit(live, "x", 1);
    spit(other, "x", 1);
    path_in_dir(path, sizeof path, "m.safetensors");
    nninit_st_writer *w;
    assert_int_equal(nninit_st_writer_open(&w, path, NULL, 0, NULL, 0), NNINIT_OK);
    assert_int_equal(nninit_st_writer_commit(w), NNINIT_OK);
    struct stat st;
    assert_int_equal(stat(stale, &st), -1);
    assert_int_equal(stat(live, &st), 0);
    assert_int_equal(stat(other, &st), 0);
    assert_int_equal(count_entries(), 3);
    size_t len;
    unsigned char *b = slurp(path, &len);
    assert_int_equal(len, 16);
    assert_memory_equal(b, "\x08\0\0\0\0\0\0\0{}      ", 16);
    free(b);
}

/* ---- the shard index --------------------------------------------------------- */

static void test_index(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "model.safetensors.index.json");
    nninit_st_index_entry e[3] = {{"lm_head.weight", "model-00002-of-00002.safetensors"},
                                  {"embed\"tokens", "model-00001-of-00002.safetensors"},
                                  {"norm.weight", "model-00002-of-00002.safetensors"}};
    assert_int_equal(nninit_st_index_write(path, 123456789012ull, e, 3), NNINIT_OK);
    size_t len;
    unsigned char *b = slurp(path, &len);
    const char *want = "{\n  \"metadata\": {\n    \"total_size\": 123456789012\n  },\n  \"weight_map\": {\n"
                       "    \"lm_head.weight\": \"model-00002-of-00002.safetensors\",\n"
                       "    \"embed\\\"tokens\": \"model-00001-of-00002.safetensors\",\n"
                       "    \"norm.weight\": \"model-00002-of-00002.safetensors\"\n  }\n}\n";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(b, want, len);
    free(b);
    nninit_st_index *ix = NULL;
    assert_int_equal(nninit_st_index_open(path, &ix), NNINIT_OK);
    assert_int_equal(nninit_st_index_total_size(ix), 123456789012ull);
    assert_int_equal(nninit_st_index_count(ix), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(nninit_st_index_at(ix, i)->name, e[i].name);
        assert_string_equal(nninit_st_index_at(ix, i)->file, e[i].file);
    }
    assert_null(nninit_st_index_at(ix, 3));
    nninit_st_index_close(ix);
    nninit_st_index_close(NULL);

    assert_int_equal(nninit_st_index_write(path, 0, NULL, 0), NNINIT_OK);
    assert_int_equal(nninit_st_index_open(path, &ix), NNINIT_OK);
    assert_int_equal(nninit_st_index_count(ix), 0);
    assert_int_equal(nninit_st_index_total_size(ix), 0);
    nninit_st_index_close(ix);

    /* write errors: nothing is written */
    unlink(path);
    nninit_st_index_entry dup[2] = {{"a", "x.safetensors"}, {"a", "y.safetensors"}};
    nninit_st_index_entry slash[1] = {{"a", "../x.safetensors"}}, dots[1] = {{"a", ".."}}, nul[1] = {{"a", NULL}};
    assert_int_equal(nninit_st_index_write(path, 1, dup, 2), NNINIT_ERR_FORMAT);
    assert_non_null(strstr(nninit_last_error(), "duplicate tensor name 'a'"));
    assert_int_equal(nninit_st_index_write(path, 1, slash, 1), NNINIT_ERR_FORMAT);
    assert_int_equal(nninit_st_index_write(path, 1, dots, 1), NNINIT_ERR_FORMAT);
    assert_int_equal(nninit_st_index_write(path, 1, nul, 1), NNINIT_ERR_NULL);
    assert_int_equal(nninit_st_index_write(NULL, 1, dup, 1), NNINIT_ERR_NULL);
    assert_int_equal(nninit_st_index_write(g_dir, 1, dup, 1), NNINIT_ERR_IO);
    assert_int_equal(count_entries(), 0);

    /* read errors */
    static const struct {
        const char *text, *mention;
    } bad[] = {
        {"{\"metadata\": {\"total_size\": 1}, \"weight_map\": {\"a\": \"x\", \"a\": \"y\"}}",
         "duplicate tensor name 'a'"},
        {"{\"metadata\": {\"total_size\": 1}, \"weight_map\": {\"a\": \"d/x\"}}", "'d/x' is not a file name"},
        {"{\"metadata\": {\"total_size\": 1}, \"weight_map\": {\"a\": 3}}", "'a': the file is not a string"},
        {"{\"metadata\": {\"total_size\": -1}, \"weight_map\": {}}", "total_size is not an unsigned integer"},
        {"{\"metadata\": {\"total_size\": 1.5}, \"weight_map\": {}}", "total_size is not an unsigned integer"},
        {"{\"metadata\": {}, \"weight_map\": {}}", "total_size is missing"},
        {"{\"metadata\": {\"total_size\": 1}}", "no 'weight_map'"},
        {"{\"weight_map\": {}}", "no 'metadata'"},
        {"{\"metadata\": {\"total_size\": 1}, \"weight_map\": []}", "no 'weight_map'"},
        {"{\"metadata\": {\"total_size\": 1}, \"weight_map\": {}, \"weight_map\": {}}", "given twice"},
        {"[]", "not a JSON object"},
        {"{\"metadata\": ", "bad JSON"},
        {"{\"metadata\": {\"total_size\": 1}, \"weight_map\": {}} {}", "text after"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        spit(path, bad[i].text, strlen(bad[i].text));
        ix = (nninit_st_index *)(uintptr_t)0x1234;
        nninit_status s = nninit_st_index_open(path, &ix);
        if (s != NNINIT_ERR_FORMAT || !strstr(nninit_last_error(), bad[i].mention))
            fail_msg("index %zu: %s: %s", i, nninit_status_str(s), nninit_last_error());
        assert_ptr_equal(ix, (nninit_st_index *)(uintptr_t)0x1234);
    }
    /* other metadata keys are allowed (transformers writes total_parameters) */
    const char *extra = "{\"metadata\": {\"total_parameters\": 3.5, \"total_size\": 8}, \"weight_map\": {\"a\": \"x\"},"
                        " \"other\": 1}";
    spit(path, extra, strlen(extra));
    assert_int_equal(nninit_st_index_open(path, &ix), NNINIT_OK);
    assert_int_equal(nninit_st_index_total_size(ix), 8);
    nninit_st_index_close(ix);
    unlink(path);
    assert_int_equal(nninit_st_index_open(path, &ix), NNINIT_ERR_IO);
    assert_int_equal(nninit_st_index_open(NULL, &ix), NNINIT_ERR_NULL);
    assert_int_equal(nninit_st_index_count(NULL), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dtypes),
        cmocka_unit_test(test_header_exact),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_accepts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_efbig, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

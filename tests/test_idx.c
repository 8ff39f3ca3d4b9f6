/* test_idx.c -- gzipped IDX loading (the real Fashion-MNIST where Debian's
 * dataset-fashion-mnist is installed; every kind of broken file, each an
 * NNINIT_ERR_IO with a clear message and untouched outputs), standardization,
 * and the synthetic inputs (Gaussian batches, correlated pairs). */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "nninit_data.h"
#include "nninit.h"

static char g_dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/nninit_test_idx_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static const char *const g_names[] = {"img.gz",
                                      "lab.gz",
                                      "raw.idx",
                                      "empty.gz",
                                      "text.gz",
                                      "cut.gz",
                                      "train-images-idx3-ubyte.gz",
                                      "train-labels-idx1-ubyte.gz",
                                      "t10k-images-idx3-ubyte.gz",
                                      "t10k-labels-idx1-ubyte.gz",
                                      "adir"};

static int teardown(void **state) {
    (void)state;
    char p[256];
    for (size_t k = 0; k < sizeof g_names / sizeof g_names[0]; k++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, g_names[k]);
        if (rmdir(p) != 0) unlink(p);
    }
    return rmdir(g_dir);
}

static const char *tmp(const char *name) {
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", g_dir, name);
    return p[k];
}

static void write_gz(const char *path, const void *data, size_t n) {
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    if (n) assert_int_equal(gzwrite(gz, data, (unsigned)n), (int)n);
    assert_int_equal(gzclose(gz), Z_OK);
}

static void write_raw(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void put_be32(unsigned char *b, uint32_t v) {
    b[0] = (unsigned char)(v >> 24), b[1] = (unsigned char)(v >> 16), b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

/* An IDX3 image file declaring n x rows x cols, holding `have` data bytes
 * (byte i = i % 256), gzipped. Returns the bytes written before gzip. */
static size_t write_images(const char *path, uint32_t magic, uint32_t n, uint32_t rows, uint32_t cols, size_t have) {
    unsigned char *b = malloc(16 + have);
    assert_non_null(b);
    put_be32(b, magic), put_be32(b + 4, n), put_be32(b + 8, rows), put_be32(b + 12, cols);
    for (size_t i = 0; i < have; i++) b[16 + i] = (unsigned char)(i % 256);
    write_gz(path, b, 16 + have);
    free(b);
    return 16 + have;
}

static void write_labels(const char *path, uint32_t magic, uint32_t n, const unsigned char *lab, size_t have) {
    unsigned char *b = malloc(8 + have);
    assert_non_null(b);
    put_be32(b, magic), put_be32(b + 4, n);
    memcpy(b + 8, lab, have);
    write_gz(path, b, 8 + have);
    free(b);
}

static void expect_msg(const char *frag) {
    const char *msg = nninit_last_error();
    if (!strstr(msg, frag)) print_error("message '%s' lacks '%s'\n", msg, frag);
    assert_non_null(strstr(msg, frag));
}

/* The image loader must fail with IO, say frag, and leave outputs alone. */
static void images_fail(const char *path, const char *frag) {
    float *x = (float *)(uintptr_t)0x1234;
    int n = -7, r = -7, c = -7;
    nninit_status st = nninit_idx_load_images(path, &x, &n, &r, &c);
    if (st != NNINIT_ERR_IO) print_error("%s: got %s (%s)\n", path, nninit_status_str(st), nninit_last_error());
    assert_int_equal(st, NNINIT_ERR_IO);
    expect_msg(path);
    expect_msg(frag);
    assert_true(x == (float *)(uintptr_t)0x1234);
    assert_int_equal(n, -7);
    assert_int_equal(r, -7);
    assert_int_equal(c, -7);
}

static void labels_fail(const char *path, const char *frag) {
    uint8_t *y = (uint8_t *)(uintptr_t)0x1234;
    int n = -7;
    assert_int_equal(nninit_idx_load_labels(path, &y, &n), NNINIT_ERR_IO);
    expect_msg(path);
    expect_msg(frag);
    assert_true(y == (uint8_t *)(uintptr_t)0x1234);
    assert_int_equal(n, -7);
}

static void fashion_fail(const char *dir, int train, const char *frag) {
    float *x = (float *)(uintptr_t)0x1234;
    int *y = (int *)(uintptr_t)0x1234, n = -7;
    nninit_status st = nninit_fashion_mnist_load(dir, train, &x, &y, &n);
    if (st != NNINIT_ERR_IO) print_error("%s: got %s (%s)\n", dir, nninit_status_str(st), nninit_last_error());
    assert_int_equal(st, NNINIT_ERR_IO);
    expect_msg(frag);
    assert_true(x == (float *)(uintptr_t)0x1234);
    assert_true(y == (int *)(uintptr_t)0x1234);
    assert_int_equal(n, -7);
}

/* ---- the real data --------------------------------------------------------- */

static int have_fashion_mnist(void) {
    FILE *f = fopen(NNINIT_FASHION_MNIST_DIR "/t10k-labels-idx1-ubyte.gz", "rb");
    if (f) fclose(f);
    return f != NULL;
}

static void test_fashion_mnist_train(void **state) {
    (void)state;
    if (!have_fashion_mnist()) {
        /* The default location's message names the Debian package. */
        fashion_fail(NULL, 1, "install the Debian package dataset-fashion-mnist");
        skip();
    }
    float *x;
    int *y, n;
    nninit_status st = nninit_fashion_mnist_load(NULL, 1, &x, &y, &n);
    if (st) print_error("%s\n", nninit_last_error());
    assert_int_equal(st, NNINIT_OK);
    assert_int_equal(n, 60000);
    /* First labels (python3: gzip + struct on the same file). */
    static const int head[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
    for (int i = 0; i < 10; i++) assert_int_equal(y[i], head[i]);
    int count[10] = {0};
    for (int i = 0; i < n; i++) count[y[i]]++;
    for (int k = 0; k < 10; k++) assert_int_equal(count[k], 6000);
    double s = 0, first = 0;
    for (size_t i = 0; i < (size_t)n * 784; i++) {
        assert_true(x[i] >= 0.0f && x[i] <= 1.0f);
        s += x[i];
    }
    for (int i = 0; i < 784; i++) first += x[i] * 255.0;
    assert_true(fabs(first - 76247) < 1e-2); /* the first image's byte sum */
    assert_true(x[95] == 0.0f && x[96] > 0.0f);
    assert_true(fabs(s / ((double)n * 784) - 0.2860406) < 1e-6); /* the pixel mean, as below */
    /* Per-dataset standardization: Fashion-MNIST's well-known 0.2860 / 0.3530. */
    double mean, std;
    assert_int_equal(nninit_standardize(x, n, 784, NAN, NAN, &mean, &std), NNINIT_OK);
    assert_true(fabs(mean - 0.2860406) < 1e-6);
    assert_true(fabs(std - 0.3530) < 5e-4);
    double m2 = 0, v2 = 0;
    for (size_t i = 0; i < (size_t)n * 784; i++) m2 += x[i];
    m2 /= (double)n * 784;
    for (size_t i = 0; i < (size_t)n * 784; i++) v2 += (x[i] - m2) * (x[i] - m2);
    v2 /= (double)n * 784;
    assert_true(fabs(m2) < 1e-5);
    assert_true(fabs(v2 - 1.0) < 1e-5);
    free(x);
    free(y);
}

static void test_fashion_mnist_test_split(void **state) {
    (void)state;
    if (!have_fashion_mnist()) skip();
    float *x;
    int *y, n;
    assert_int_equal(nninit_fashion_mnist_load(NNINIT_FASHION_MNIST_DIR, 0, &x, &y, &n), NNINIT_OK);
    assert_int_equal(n, 10000);
    static const int head[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    for (int i = 0; i < 10; i++) assert_int_equal(y[i], head[i]);
    int count[10] = {0};
    for (int i = 0; i < n; i++) count[y[i]]++;
    for (int k = 0; k < 10; k++) assert_int_equal(count[k], 1000); /* balanced */
    /* The test split standardized with given (training) statistics. */
    double mu, sd;
    assert_int_equal(nninit_standardize(x, n, 784, 0.2860, 0.3530, &mu, &sd), NNINIT_OK);
    assert_true(mu == 0.2860 && sd == 0.3530);
    assert_true(fabs(x[0] - (0.0 - 0.2860) / 0.3530) < 1e-6);
    free(x);
    free(y);
    /* The loaders directly. */
    int r, c;
    assert_int_equal(nninit_idx_load_images(NNINIT_FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz", &x, &n, &r, &c),
                     NNINIT_OK);
    assert_int_equal(n, 10000);
    assert_int_equal(r, 28);
    assert_int_equal(c, 28);
    free(x);
    uint8_t *lab;
    assert_int_equal(nninit_idx_load_labels(NNINIT_FASHION_MNIST_DIR "/t10k-labels-idx1-ubyte.gz", &lab, &n),
                     NNINIT_OK);
    assert_int_equal(n, 10000);
    assert_int_equal(lab[0], 9);
    free(lab);
    /* Images where labels are expected, and the other way round: the magic says so. */
    labels_fail(NNINIT_FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz", "(this is an image file)");
    images_fail(NNINIT_FASHION_MNIST_DIR "/t10k-labels-idx1-ubyte.gz", "(this is a label file)");
}

/* ---- small valid files ------------------------------------------------------- */

static void test_small_roundtrip(void **state) {
    (void)state;
    write_images(tmp("img.gz"), NNINIT_IDX_MAGIC_IMAGES, 3, 2, 5, 30);
    float *x;
    int n, r, c;
    assert_int_equal(nninit_idx_load_images(tmp("img.gz"), &x, &n, &r, &c), NNINIT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(r, 2);
    assert_int_equal(c, 5);
    for (int i = 0; i < 30; i++) assert_true(x[i] == (float)i / 255.0f);
    free(x);
    unsigned char lab[4] = {0, 9, 3, 255};
    write_labels(tmp("lab.gz"), NNINIT_IDX_MAGIC_LABELS, 4, lab, 4);
    uint8_t *y;
    assert_int_equal(nninit_idx_load_labels(tmp("lab.gz"), &y, &n), NNINIT_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(y, lab, 4); /* the generic loader keeps any byte */
    free(y);
}

/* A directory laid out like the Debian package, from the given pieces. */
static void write_split(const char *prefix, uint32_t n_img, uint32_t rows, uint32_t n_lab, const unsigned char *lab) {
    char p[128];
    snprintf(p, sizeof p, "%s-images-idx3-ubyte.gz", prefix);
    write_images(tmp(p), NNINIT_IDX_MAGIC_IMAGES, n_img, rows, rows, (size_t)n_img * rows * rows);
    snprintf(p, sizeof p, "%s-labels-idx1-ubyte.gz", prefix);
    write_labels(tmp(p), NNINIT_IDX_MAGIC_LABELS, n_lab, lab, n_lab);
}

static void test_fashion_layout_in_dir(void **state) {
    (void)state;
    unsigned char lab[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    write_split("t10k", 10, 28, 10, lab);
    float *x;
    int *y, n;
    assert_int_equal(nninit_fashion_mnist_load(g_dir, 0, &x, &y, &n), NNINIT_OK);
    assert_int_equal(n, 10);
    for (int i = 0; i < 10; i++) assert_int_equal(y[i], i);
    assert_true(x[784] == (float)(784 % 256) / 255.0f);
    free(x);
    free(y);

    /* One label short. */
    write_split("t10k", 10, 28, 9, lab);
    fashion_fail(g_dir, 0, "has 10 images but");
    expect_msg("has 9 labels");
    /* A label outside 0..9. */
    unsigned char bad[10] = {0, 1, 2, 12, 4, 5, 6, 7, 8, 9};
    write_split("t10k", 10, 28, 10, bad);
    fashion_fail(g_dir, 0, "label 12 at index 3 is outside 0..9");
    /* Not 28x28. */
    write_split("t10k", 10, 5, 10, lab);
    fashion_fail(g_dir, 0, "header dimension 1 is 5; expected 28");
    /* The training split is missing from this directory. */
    fashion_fail(g_dir, 1, "Fashion-MNIST not found at ");
    expect_msg("/train-images-idx3-ubyte.gz");
    /* Images present, labels missing. */
    write_images(tmp("train-images-idx3-ubyte.gz"), NNINIT_IDX_MAGIC_IMAGES, 1, 28, 28, 784);
    fashion_fail(g_dir, 1, "/train-labels-idx1-ubyte.gz");
    fashion_fail("/nonexistent/nninit", 0, "Fashion-MNIST not found at /nonexistent/nninit/t10k-images-idx3-ubyte.gz");
}

/* ---- broken files -------------------------------------------------------------- */

static void test_truncated(void **state) {
    (void)state;
    /* The header declares 100 28x28 images; half of them are there. */
    write_images(tmp("img.gz"), NNINIT_IDX_MAGIC_IMAGES, 100, 28, 28, 50 * 784);
    images_fail(tmp("img.gz"), "truncated: expected 78400 bytes of image data, got 39200");
    unsigned char lab[5] = {1, 2, 3, 4, 5};
    write_labels(tmp("lab.gz"), NNINIT_IDX_MAGIC_LABELS, 10, lab, 5);
    labels_fail(tmp("lab.gz"), "truncated: expected 10 bytes of label data, got 5");
    /* Cut inside the header. */
    unsigned char hdr[10];
    put_be32(hdr, NNINIT_IDX_MAGIC_IMAGES), put_be32(hdr + 4, 3);
    write_gz(tmp("img.gz"), hdr, 3);
    images_fail(tmp("img.gz"), "truncated: the IDX header needs 16 bytes, got 3");
    write_gz(tmp("img.gz"), hdr, 10);
    images_fail(tmp("img.gz"), "truncated: the IDX header needs 16 bytes, got 10");
    /* The gzip file itself cut in half (a partial download). */
    size_t raw = write_images(tmp("img.gz"), NNINIT_IDX_MAGIC_IMAGES, 200, 28, 28, 200 * 784);
    (void)raw;
    FILE *f = fopen(tmp("img.gz"), "rb");
    assert_non_null(f);
    unsigned char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len > 100 && len < sizeof buf);
    write_raw(tmp("cut.gz"), buf, len / 2);
    images_fail(tmp("cut.gz"), "bytes of image data");
    /* A damaged stream: zlib's CRC-32 check fails. */
    unsigned char ok[16 + 8];
    put_be32(ok, NNINIT_IDX_MAGIC_IMAGES), put_be32(ok + 4, 2), put_be32(ok + 8, 2), put_be32(ok + 12, 2);
    memset(ok + 16, 3, 8);
    write_gz(tmp("img.gz"), ok, sizeof ok);
    f = fopen(tmp("img.gz"), "rb");
    assert_non_null(f);
    len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    buf[len - 8] ^= 0xff; /* the trailer's CRC-32 */
    write_raw(tmp("cut.gz"), buf, len);
    images_fail(tmp("cut.gz"), "corrupt gzip stream (incorrect data check) while reading");
    /* Found by fuzz_idx: a valid labels file with its gzip trailer cut (3 of
     * its 8 bytes missing) loaded without error (gzread never said), and a
     * file cut inside its deflate data could stop early, without error, with
     * exactly the declared count (fuzz/regressions/fuzz_idx/). Both are cut
     * files: the stream must reach its end, CRC checked. */
    unsigned char lab10[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    write_labels(tmp("lab.gz"), NNINIT_IDX_MAGIC_LABELS, 10, lab10, 10);
    f = fopen(tmp("lab.gz"), "rb");
    assert_non_null(f);
    len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    write_raw(tmp("cut.gz"), buf, len - 3);
    labels_fail(tmp("cut.gz"), "truncated");
    char reg[512];
    snprintf(reg, sizeof reg, "%s/fuzz/regressions/fuzz_idx/gzip-cut-in-deflate-labels-accepted", NNINIT_SOURCE_DIR);
    labels_fail(reg, "");
    snprintf(reg, sizeof reg, "%s/fuzz/regressions/fuzz_idx/gzip-cut-in-deflate-images-accepted", NNINIT_SOURCE_DIR);
    images_fail(reg, "");
    /* A header that declares ~1.5 GB over a few bytes: refused before any
     * data is inflated, by the gzip trailer's size. */
    write_images(tmp("img.gz"), NNINIT_IDX_MAGIC_IMAGES, 2000000, 28, 28, 1000);
    images_fail(tmp("img.gz"), "declares 1568000016 bytes but the gzip trailer says the file holds 1016");
}

/* A gzip bomb given as Fashion-MNIST: the header's counts are checked
 * against the data set's before anything is decompressed (it once inflated
 * gigabytes before the count check). 64 MiB of zeros in a ~64 KB file whose
 * header declares 85,000 28x28 images: more than the 60,000 of the split. */
static void test_fashion_bomb(void **state) {
    (void)state;
    size_t n = 85000, raw = 16 + n * 784;
    unsigned char *b = calloc(raw, 1);
    assert_non_null(b);
    put_be32(b, NNINIT_IDX_MAGIC_IMAGES), put_be32(b + 4, (uint32_t)n), put_be32(b + 8, 28), put_be32(b + 12, 28);
    write_gz(tmp("train-images-idx3-ubyte.gz"), b, raw);
    free(b);
    unsigned char lab[1] = {0};
    write_labels(tmp("train-labels-idx1-ubyte.gz"), NNINIT_IDX_MAGIC_LABELS, 1, lab, 1);
    float *x = NULL;
    int *y = NULL, m = -1;
    assert_int_equal(nninit_fashion_mnist_load(g_dir, 1, &x, &y, &m), NNINIT_ERR_IO);
    expect_msg("header dimension 0 is 85000; expected at most 60000");
    assert_null(x);
    assert_int_equal(m, -1);
    remove(tmp("train-images-idx3-ubyte.gz"));
    remove(tmp("train-labels-idx1-ubyte.gz"));
}

static void test_bad_headers(void **state) {
    (void)state;
    write_images(tmp("img.gz"), 0x00000802u, 1, 2, 2, 4);
    images_fail(tmp("img.gz"), "bad magic 0x00000802: expected 0x00000803");
    write_images(tmp("img.gz"), NNINIT_IDX_MAGIC_LABELS, 1, 2, 2, 4);
    images_fail(tmp("img.gz"), "bad magic 0x00000801: expected 0x00000803 (IDX u8 image file) (this is a label file)");
    unsigned char lab[2] = {1, 2};
    write_labels(tmp("lab.gz"), 0x08010000u, 2, lab, 2); /* little-endian by mistake */
    labels_fail(tmp("lab.gz"), "bad magic 0x08010000: expected 0x00000801");
    write_images(tmp("img.gz"), NNINIT_IDX_MAGIC_IMAGES, 0, 28, 28, 0);
    images_fail(tmp("img.gz"), "header dimension 0 is 0");
    write_images(tmp("img.gz"), NNINIT_IDX_MAGIC_IMAGES, 5, 28, 0, 0);
    images_fail(tmp("img.gz"), "header dimension 2 is 0");
    write_images(tmp("img.gz"), NNINIT_IDX_MAGIC_IMAGES, 0x80000000u, 28, 28, 0);
    images_fail(tmp("img.gz"), "header dimension 0 is 2147483648");
    write_images(tmp("img.gz"), NNINIT_IDX_MAGIC_IMAGES, 0x7fffffffu, 28, 28, 0);
    images_fail(tmp("img.gz"), "the header declares more than 2147483647 bytes of image data");
    /* More data than declared. */
    write_images(tmp("img.gz"), NNINIT_IDX_MAGIC_IMAGES, 2, 2, 2, 9);
    images_fail(tmp("img.gz"), "more than the 8 bytes of image data its header declares");
}

static void test_not_gzip(void **state) {
    (void)state;
    write_raw(tmp("empty.gz"), "", 0);
    images_fail(tmp("empty.gz"), "empty file (0 bytes)");
    labels_fail(tmp("empty.gz"), "empty file (0 bytes)");
    write_raw(tmp("text.gz"), "hello, world\n", 13);
    images_fail(tmp("text.gz"), "not a gzip file (it starts with 0x68 0x65, gzip with 0x1f 0x8b)");
    write_raw(tmp("text.gz"), "\x1f", 1);
    images_fail(tmp("text.gz"), "not a gzip file (it starts with 0x1f 0x00");
    /* An uncompressed IDX file: valid IDX, but not the .gz it is read as. */
    unsigned char raw[16 + 4];
    put_be32(raw, NNINIT_IDX_MAGIC_IMAGES), put_be32(raw + 4, 1), put_be32(raw + 8, 2), put_be32(raw + 12, 2);
    memset(raw + 16, 7, 4);
    write_raw(tmp("raw.idx"), raw, sizeof raw);
    images_fail(tmp("raw.idx"), "not a gzip file (it starts with 0x00 0x00");
    /* An empty gzip stream. */
    write_gz(tmp("empty.gz"), "", 0);
    images_fail(tmp("empty.gz"), "truncated: the IDX header needs 16 bytes, got 0");
}

static void test_missing_and_args(void **state) {
    (void)state;
    images_fail(tmp("nope.gz"), "cannot open: No such file or directory");
    labels_fail(tmp("nope.gz"), "cannot open");
    assert_int_equal(mkdir(tmp("adir"), 0700), 0);
    images_fail(tmp("adir"), "cannot read");
    float *x;
    uint8_t *y8;
    int *y, n, r, c;
    assert_int_equal(nninit_idx_load_images(NULL, &x, &n, &r, &c), NNINIT_ERR_NULL);
    assert_int_equal(nninit_idx_load_images(tmp("img.gz"), NULL, &n, &r, &c), NNINIT_ERR_NULL);
    assert_int_equal(nninit_idx_load_images(tmp("img.gz"), &x, &n, NULL, &c), NNINIT_ERR_NULL);
    assert_int_equal(nninit_idx_load_labels(NULL, &y8, &n), NNINIT_ERR_NULL);
    assert_int_equal(nninit_idx_load_labels(tmp("lab.gz"), &y8, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_fashion_mnist_load(NULL, 1, NULL, &y, &n), NNINIT_ERR_NULL);
    assert_int_equal(nninit_fashion_mnist_load(NULL, 1, &x, &y, NULL), NNINIT_ERR_NULL);
}

/* ---- standardization and synthetic inputs ----------------------------------------- */

static void test_standardize(void **state) {
    (void)state;
    float x[6] = {1, 2, 3, 4, 5, 6};
    double m, s;
    assert_int_equal(nninit_standardize(x, 2, 3, NAN, NAN, &m, &s), NNINIT_OK);
    assert_true(m == 3.5);
    assert_true(fabs(s - sqrt(17.5 / 6)) < 1e-15);
    assert_true(fabs(x[0] - (1 - 3.5) / sqrt(17.5 / 6)) < 1e-6);
    float y[4] = {1, 3, 5, 7};
    assert_int_equal(nninit_standardize(y, 4, 1, 1.0, 2.0, NULL, NULL), NNINIT_OK);
    assert_true(y[0] == 0.0f && y[3] == 3.0f);
    /* Only the mean given: std from the data around it. */
    float z[2] = {1, 3};
    assert_int_equal(nninit_standardize(z, 1, 2, 0.0, NAN, &m, &s), NNINIT_OK);
    assert_true(m == 0.0 && fabs(s - sqrt(5.0)) < 1e-15);
    float k[3] = {2, 2, 2};
    assert_int_equal(nninit_standardize(k, 3, 1, NAN, NAN, NULL, NULL), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_standardize(k, 3, 1, 0.0, 0.0, NULL, NULL), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_standardize(k, 3, 1, INFINITY, 1.0, NULL, NULL), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_standardize(k, 0, 1, NAN, NAN, NULL, NULL), NNINIT_ERR_SHAPE);
    assert_int_equal(nninit_standardize(NULL, 3, 1, NAN, NAN, NULL, NULL), NNINIT_ERR_NULL);
    assert_true(k[0] == 2.0f); /* untouched by the failures */
}

static void test_inputs_gaussian(void **state) {
    (void)state;
    enum {
        N = 200,
        D = 500
    };
    float *x = malloc(sizeof(float) * N * D), *z = malloc(sizeof(float) * N * D);
    assert_int_equal(nninit_inputs_gaussian(x, N, D, 42), NNINIT_OK);
    double s = 0, q = 0;
    for (int i = 0; i < N * D; i++) s += x[i], q += (double)x[i] * x[i];
    double mean = s / (N * D), var = q / (N * D) - mean * mean;
    /* 6 standard errors: sd(mean) = 1/sqrt(n), sd(var) = sqrt(2/n). */
    assert_true(fabs(mean) < 6.0 / sqrt(N * D));
    assert_true(fabs(var - 1.0) < 6.0 * sqrt(2.0 / (N * D)));
    /* Exactly nninit_fill's normal stream under the documented key. */
    nninit_spec sp = nninit_spec_default(NNINIT_NORMAL);
    nninit_tensor t = nninit_tensor_2d(N, D, NNINIT_F32);
    assert_int_equal(nninit_fill(&sp, &t, nninit_key_from_name(42, "inputs.gaussian"), z), NNINIT_OK);
    assert_memory_equal(x, z, sizeof(float) * N * D);
    assert_int_equal(nninit_inputs_gaussian(z, N, D, 43), NNINIT_OK);
    assert_true(memcmp(x, z, sizeof(float) * N * D) != 0);
    assert_int_equal(nninit_inputs_gaussian(NULL, N, D, 1), NNINIT_ERR_NULL);
    assert_int_equal(nninit_inputs_gaussian(x, 0, D, 1), NNINIT_ERR_SHAPE);
    free(x);
    free(z);
}

static void test_inputs_correlated_pair(void **state) {
    (void)state;
    enum {
        D = 200000
    };
    float *x = malloc(sizeof(float) * 2 * D);
    static const double cs[] = {-1.0, -0.9, -0.3, 0.0, 0.5, 0.9, 0.99, 1.0};
    for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
        double c = cs[k];
        assert_int_equal(nninit_inputs_correlated_pair(x, D, c, 7 + k), NNINIT_OK);
        double su = 0, sv = 0, uu = 0, vv = 0, uv = 0;
        for (int i = 0; i < D; i++) {
            double u = x[i], v = x[D + i];
            su += u, sv += v, uu += u * u, vv += v * v, uv += u * v;
        }
        double mu = su / D, mv = sv / D;
        double cu = uu / D - mu * mu, cv = vv / D - mv * mv, cuv = uv / D - mu * mv;
        double r = cuv / sqrt(cu * cv);
        /* sd(r) ~ (1 - c^2)/sqrt(D); six of them, plus float rounding at |c| = 1. */
        double tol = 6.0 * (1.0 - c * c) / sqrt(D) + 1e-6;
        if (fabs(r - c) > tol) print_error("c = %g: sample correlation %g (tol %g)\n", c, r, tol);
        assert_true(fabs(r - c) <= tol);
        assert_true(fabs(cu - 1.0) < 6.0 * sqrt(2.0 / D)); /* unit variance, both inputs */
        assert_true(fabs(cv - 1.0) < 6.0 * sqrt(2.0 / D));
    }
    assert_int_equal(nninit_inputs_correlated_pair(x, 16, 1.0, 3), NNINIT_OK);
    assert_memory_equal(x, x + 16, 16 * sizeof(float)); /* c = 1: the same input twice */
    assert_int_equal(nninit_inputs_correlated_pair(x, 16, 1.5, 3), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_inputs_correlated_pair(x, 16, -1.01, 3), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_inputs_correlated_pair(x, 16, NAN, 3), NNINIT_ERR_PARAM);
    assert_int_equal(nninit_inputs_correlated_pair(x, 0, 0.5, 3), NNINIT_ERR_SHAPE);
    assert_int_equal(nninit_inputs_correlated_pair(NULL, 16, 0.5, 3), NNINIT_ERR_NULL);
    free(x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fashion_mnist_train), cmocka_unit_test(test_fashion_mnist_test_split),
        cmocka_unit_test(test_small_roundtrip),     cmocka_unit_test(test_fashion_layout_in_dir),
        cmocka_unit_test(test_truncated),           cmocka_unit_test(test_fashion_bomb),
        cmocka_unit_test(test_bad_headers),         cmocka_unit_test(test_not_gzip),
        cmocka_unit_test(test_missing_and_args),    cmocka_unit_test(test_standardize),
        cmocka_unit_test(test_inputs_gaussian),     cmocka_unit_test(test_inputs_correlated_pair),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_npy_read.c -- the .npy header and reader (include/nninit_checkpoint.h):
 * nninit_npy_header's exact bytes for scalars and empty arrays and its
 * errors; round trips of nninit_npy_write through nninit_npy_open / _read /
 * _load for every dtype; the header variants NumPy and other writers produce
 * (quotes, spaces, trailing commas, key order, Fortran order, versions 2.0
 * and 3.0); and every validation error on headers built by hand, each with
 * its message. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
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

#include "nninit.h"
#include "nninit_checkpoint.h"

static char g_dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/nninit_test_npyr_XXXXXX");
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

static void spit(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* A .npy file: the preamble of `version` (1, 2, 3), the dict padded with
 * spaces to a multiple of 64 and '\n' (pad = 0: none, the dict's own end),
 * then dlen data bytes (0, 1, 2, ...). *len gets its size. */
static unsigned char *npy_file(int version, const char *dict, int pad, size_t dlen, size_t *len) {
    size_t pre = version == 1 ? 10 : 12, n = strlen(dict);
    size_t total = pad ? (pre + n + 1 + 63) / 64 * 64 : pre + n;
    size_t hlen = total - pre;
    unsigned char *b = malloc(total + dlen + 1);
    assert_non_null(b);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)version;
    b[7] = 0;
    for (size_t k = 0; k < pre - 8; k++) b[8 + k] = (unsigned char)(hlen >> (8 * k));
    memcpy(b + pre, dict, n);
    if (pad) {
        memset(b + pre + n, ' ', hlen - n - 1);
        b[total - 1] = '\n';
    }
    for (size_t k = 0; k < dlen; k++) b[total + k] = (unsigned char)k;
    *len = total + dlen;
    return b;
}

/* b[0, len) as a whole file is refused with want and a message holding
 * fragment, and *info is untouched. */
static void refuse(const unsigned char *b, size_t len, nninit_status want, const char *fragment) {
    nninit_npy_info info, copy;
    memset(&info, 0x5a, sizeof info);
    memcpy(&copy, &info, sizeof info);
    nninit_status s = nninit_npy_parse(b, len, len, &info);
    if (s != want || !strstr(nninit_last_error(), fragment))
        fail_msg("status %d, message '%s', wanted %d with '%s'", (int)s, nninit_last_error(), (int)want, fragment);
    assert_memory_equal(&info, &copy, sizeof info);
}

/* A header dict, refused with a message holding fragment; dlen data bytes. */
static void refuse_dict(const char *dict, size_t dlen, nninit_status want, const char *fragment) {
    size_t len;
    unsigned char *b = npy_file(1, dict, 1, dlen, &len);
    refuse(b, len, want, fragment);
    free(b);
}

static void accept_dict(int version, const char *dict, int pad, size_t dlen, nninit_npy_info *info) {
    size_t len;
    unsigned char *b = npy_file(version, dict, pad, dlen, &len);
    nninit_status s = nninit_npy_parse(b, len, len, info);
    if (s != NNINIT_OK) fail_msg("'%s' refused: %s", dict, nninit_last_error());
    assert_int_equal(info->header_bytes + info->data_bytes, len);
    free(b);
}

/* ---- nninit_npy_header ----------------------------------------------------------- */

static void test_header_scalar_and_empty(void **state) {
    (void)state;
    unsigned char h[NNINIT_NPY_HEADER_MAX];
    size_t len;
    uint64_t bytes;
    static const char scalar[] = "{'descr': '<f8', 'fortran_order': False, 'shape': (), }";
    assert_int_equal(nninit_npy_header(NNINIT_F64, 0, NULL, h, sizeof h, &len, &bytes), NNINIT_OK);
    assert_int_equal(len, 128);
    assert_int_equal(bytes, 8);
    assert_memory_equal(h, "\x93NUMPY\x01\x00\x76\x00", 10);
    assert_memory_equal(h + 10, scalar, strlen(scalar));
    for (size_t k = 10 + strlen(scalar); k < 127; k++) assert_int_equal(h[k], ' ');
    assert_int_equal(h[127], '\n');

    const int64_t empty[3] = {4, 0, 7};
    static const char dict[] = "{'descr': '<f2', 'fortran_order': False, 'shape': (4, 0, 7), }";
    assert_int_equal(nninit_npy_header(NNINIT_F16, 3, empty, h, sizeof h, &len, &bytes), NNINIT_OK);
    assert_int_equal(len, 128);
    assert_int_equal(bytes, 0);
    assert_memory_equal(h + 10, dict, strlen(dict));
    /* it reads back as itself */
    nninit_npy_info info;
    assert_int_equal(nninit_npy_parse(h, len, len, &info), NNINIT_OK);
    assert_int_equal(info.ndim, 3);
    assert_int_equal(info.shape[1], 0);
    assert_int_equal(info.numel, 0);
    assert_string_equal(info.descr, "<f2");

    /* the longest: 8 dimensions of 2^63 - 1 digits fit NNINIT_NPY_HEADER_MAX */
    const int64_t big[8] = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, 0};
    assert_int_equal(nninit_npy_header(NNINIT_F32, 8, big, h, sizeof h, &len, &bytes), NNINIT_OK);
    assert_true(len <= NNINIT_NPY_HEADER_MAX);
    assert_int_equal(bytes, 0);
}

static void test_header_errors(void **state) {
    (void)state;
    unsigned char h[NNINIT_NPY_HEADER_MAX];
    size_t len = 77;
    const int64_t s2[2] = {2, 3}, neg[2] = {2, -1}, huge[2] = {INT64_C(1) << 32, INT64_C(1) << 32};
    assert_int_equal(nninit_npy_header(NNINIT_F32, 2, NULL, h, sizeof h, &len, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_npy_header(NNINIT_F32, 2, s2, NULL, sizeof h, &len, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_npy_header(NNINIT_F32, 2, s2, h, sizeof h, NULL, NULL), NNINIT_ERR_NULL);
    assert_int_equal(nninit_npy_header(NNINIT_F32, 9, s2, h, sizeof h, &len, NULL), NNINIT_ERR_SHAPE);
    assert_int_equal(nninit_npy_header(NNINIT_F32, -1, s2, h, sizeof h, &len, NULL), NNINIT_ERR_SHAPE);
    assert_int_equal(nninit_npy_header(NNINIT_F32, 2, neg, h, sizeof h, &len, NULL), NNINIT_ERR_SHAPE);
    assert_non_null(strstr(nninit_last_error(), "shape[1] = -1 is negative"));
    assert_int_equal(nninit_npy_header((nninit_dtype)9, 2, s2, h, sizeof h, &len, NULL), NNINIT_ERR_DTYPE);
    assert_int_equal(nninit_npy_header(NNINIT_F64, 2, huge, h, sizeof h, &len, NULL), NNINIT_ERR_OVERFLOW);
    assert_int_equal(nninit_npy_header(NNINIT_F32, 2, s2, h, 127, &len, NULL), NNINIT_ERR_PARAM);
    assert_non_null(strstr(nninit_last_error(), "needs 128 bytes"));
    assert_int_equal(len, 77);
}

/* ---- round trips ------------------------------------------------------------------ */

static void test_round_trip_every_dtype(void **state) {
    (void)state;
    static const nninit_dtype dts[4] = {NNINIT_F32, NNINIT_F64, NNINIT_BF16, NNINIT_F16};
    static const char *descrs[4] = {"<f4", "<f8", "<u2", "<f2"};
    static const size_t es[4] = {4, 8, 2, 2};
    const int64_t shapes[4][3] = {{7, 1, 1}, {2, 3, 1}, {1, 4, 5}, {3, 3, 3}};
    const int ndims[4] = {1, 2, 3, 3};
    char path[256];
    path_in_dir(path, sizeof path, "r.npy");
    for (int d = 0; d < 4; d++)
        for (int k = 0; k < 4; k++) {
            size_t n = 1;
            for (int i = 0; i < ndims[k]; i++) n *= (size_t)shapes[k][i];
            unsigned char *data = malloc(n * es[d]), *back = malloc(n * es[d]);
            for (size_t i = 0; i < n * es[d]; i++) data[i] = (unsigned char)(i * 37 + d + k);
            assert_int_equal(nninit_npy_write(path, data, dts[d], ndims[k], shapes[k]), NNINIT_OK);
            nninit_npy_file *f;
            assert_int_equal(nninit_npy_open(path, &f), NNINIT_OK);
            const nninit_npy_info *info = nninit_npy_file_info(f);
            assert_int_equal(info->dtype, dts[d]);
            assert_string_equal(info->descr, descrs[d]);
            assert_int_equal(info->version, 1);
            assert_int_equal(info->fortran_order, 0);
            assert_int_equal(info->ndim, ndims[k]);
            for (int i = 0; i < ndims[k]; i++) assert_int_equal(info->shape[i], shapes[k][i]);
            assert_int_equal(info->numel, n);
            assert_int_equal(info->data_bytes, n * es[d]);
            assert_int_equal(info->header_bytes % 64, 0);
            /* pieces in any order, of any size */
            size_t cut = n * es[d] / 3;
            assert_int_equal(nninit_npy_read(f, cut, n * es[d] - cut, back + cut), NNINIT_OK);
            assert_int_equal(nninit_npy_read(f, 0, cut, back), NNINIT_OK);
            assert_memory_equal(back, data, n * es[d]); /* little-endian host */
            assert_int_equal(nninit_npy_read(f, 1, n * es[d], back), NNINIT_ERR_SLICE);
            assert_int_equal(nninit_npy_read(f, n * es[d] + 1, 0, back), NNINIT_ERR_SLICE);
            assert_int_equal(nninit_npy_read(f, n * es[d], 0, NULL), NNINIT_OK);
            nninit_npy_close(f);

            nninit_npy_info li;
            void *all = NULL;
            assert_int_equal(nninit_npy_load(path, &li, &all), NNINIT_OK);
            assert_int_equal(li.dtype, dts[d]);
            assert_int_equal(li.ndim, ndims[k]);
            assert_int_equal(li.data_bytes, n * es[d]);
            assert_memory_equal(all, data, n * es[d]);
            free(all);
            free(data);
            free(back);
        }
}

static void test_open_errors(void **state) {
    (void)state;
    char path[256];
    nninit_npy_file *const sentinel = (nninit_npy_file *)(uintptr_t)0x1234;
    nninit_npy_file *f = sentinel;
    path_in_dir(path, sizeof path, "missing.npy");
    assert_int_equal(nninit_npy_open(path, &f), NNINIT_ERR_IO);
    assert_non_null(strstr(nninit_last_error(), "No such file"));
    assert_int_equal(nninit_npy_open(g_dir, &f), NNINIT_ERR_IO);
    assert_non_null(strstr(nninit_last_error(), "not a regular file"));
    assert_int_equal(nninit_npy_open(NULL, &f), NNINIT_ERR_NULL);
    assert_int_equal(nninit_npy_open(path, NULL), NNINIT_ERR_NULL);
    /* a bad file: FORMAT, the path and the reason in the message */
    path_in_dir(path, sizeof path, "bad.npy");
    size_t len;
    unsigned char *b = npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 1, 7, &len);
    spit(path, b, len);
    free(b);
    assert_int_equal(nninit_npy_open(path, &f), NNINIT_ERR_FORMAT);
    assert_non_null(strstr(nninit_last_error(), path));
    assert_non_null(strstr(nninit_last_error(), "the data need 8 bytes, the file holds 7 after the header"));
    nninit_npy_info info;
    void *data = (void *)sentinel;
    assert_int_equal(nninit_npy_load(path, &info, &data), NNINIT_ERR_FORMAT);
    assert_ptr_equal(data, sentinel);
    assert_ptr_equal(f, sentinel);
    assert_int_equal(nninit_npy_load(NULL, &info, &data), NNINIT_ERR_NULL);
    assert_null(nninit_npy_file_info(NULL));
    assert_int_equal(nninit_npy_read(NULL, 0, 0, NULL), NNINIT_ERR_NULL);
    nninit_npy_close(NULL);
    assert_int_equal(nninit_npy_parse(NULL, 0, 0, &info), NNINIT_ERR_NULL);
}

/* ---- what other writers write ---------------------------------------------------- */

static void test_header_variants(void **state) {
    (void)state;
    nninit_npy_info i;
    /* NumPy's own: sorted keys, ", " and ": ", a trailing ", ", growth padding */
    accept_dict(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }                    ", 1, 48, &i);
    assert_int_equal(i.ndim, 2);
    assert_int_equal(i.shape[0], 3);
    assert_int_equal(i.shape[1], 4);
    /* double quotes, no spaces, no trailing comma, other key order, no padding */
    accept_dict(1, "{\"shape\":(3,),\"fortran_order\":True,\"descr\":\"<f8\"}\n", 0, 24, &i);
    assert_int_equal(i.dtype, NNINIT_F64);
    assert_int_equal(i.fortran_order, 1);
    assert_int_equal(i.ndim, 1);
    assert_int_equal(i.header_bytes, 10 + 50);
    /* a trailing comma inside the tuple, spaces everywhere */
    accept_dict(1, "{ 'descr' : '<f2' , 'fortran_order' : False , 'shape' : ( 2 , 1 , ) , }", 1, 4, &i);
    assert_int_equal(i.ndim, 2);
    /* a scalar, and empty arrays */
    accept_dict(1, "{'descr': '<u2', 'fortran_order': False, 'shape': (), }", 1, 2, &i);
    assert_int_equal(i.dtype, NNINIT_BF16);
    assert_int_equal(i.ndim, 0);
    assert_int_equal(i.numel, 1);
    accept_dict(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", 1, 0, &i);
    assert_int_equal(i.numel, 0);
    /* a zero makes it empty however large the others: no overflow */
    accept_dict(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807, 0, 4), }", 1, 0, &i);
    assert_int_equal(i.shape[0], INT64_MAX);
    /* versions 2.0 and 3.0: a 4-byte length */
    accept_dict(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 1, 8, &i);
    assert_int_equal(i.version, 2);
    assert_int_equal(i.header_bytes, 128);
    accept_dict(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 1, 8, &i);
    assert_int_equal(i.version, 3);
    /* the header alone, from a buffer shorter than the file */
    size_t len;
    unsigned char *b = npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }", 1, 0, &len);
    assert_int_equal(nninit_npy_parse(b, len, len + 4000, &i), NNINIT_OK);
    assert_int_equal(i.data_bytes, 4000);
    assert_int_equal(nninit_npy_parse(b, len - 1, len + 4000, &i), NNINIT_ERR_FORMAT);
    assert_non_null(strstr(nninit_last_error(), "the buffer holds 127 bytes, the header needs 128"));
    free(b);
}

/* ---- every refusal ---------------------------------------------------------------- */

static void test_refuse_preamble(void **state) {
    (void)state;
    size_t len;
    unsigned char *b = npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 1, 4, &len);
    unsigned char *c = malloc(len);
    memcpy(c, b, len);
    c[0] = 'X';
    refuse(c, len, NNINIT_ERR_FORMAT, "not a .npy file: it does not begin with \\x93NUMPY");
    refuse(b, 9, NNINIT_ERR_FORMAT, "9 bytes, shorter than the 10-byte preamble: truncated");
    refuse(b, 0, NNINIT_ERR_FORMAT, "0 bytes");
    memcpy(c, b, len);
    c[6] = 4;
    refuse(c, len, NNINIT_ERR_FORMAT, "version 4.0 (nninit reads 1.0, 2.0 and 3.0)");
    c[6] = 1, c[7] = 1;
    refuse(c, len, NNINIT_ERR_FORMAT, "version 1.1");
    memcpy(c, b, len);
    c[8] = c[9] = 0;
    refuse(c, len, NNINIT_ERR_FORMAT, "the header length is 0");
    c[8] = 0x11, c[9] = 0x27; /* 10001 */
    refuse(c, len, NNINIT_ERR_FORMAT, "a header of 10001 bytes is over the limit (10000, NumPy's)");
    c[8] = 200, c[9] = 0;
    refuse(c, len, NNINIT_ERR_FORMAT, "the header of 200 bytes goes beyond the end of the file (132 bytes)");
    refuse(b, 40, NNINIT_ERR_FORMAT, "goes beyond the end of the file (40 bytes): truncated");
    free(c);
    free(b);
    /* 2.0 with a length past the limit, and cut in its 12-byte preamble */
    unsigned char v2[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0, 0, 1, 0};
    refuse(v2, 12, NNINIT_ERR_FORMAT, "a header of 65536 bytes is over the limit");
    refuse(v2, 11, NNINIT_ERR_FORMAT, "11 bytes, shorter than the 12-byte preamble");
}

static void test_refuse_dict_syntax(void **state) {
    (void)state;
    refuse_dict("'descr': '<f4'", 0, NNINIT_ERR_FORMAT, "a dict, '{', found ''' at byte 10");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'foo': 1}", 4, NNINIT_ERR_FORMAT,
                "unknown key 'foo' at byte 64");
    refuse_dict("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4, NNINIT_ERR_FORMAT,
                "'descr' given twice");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, }", 4, NNINIT_ERR_FORMAT, "no 'shape'");
    refuse_dict("{'shape': (), 'fortran_order': False, }", 4, NNINIT_ERR_FORMAT, "no 'descr'");
    refuse_dict("{'descr': '<f4', 'shape': (), }", 4, NNINIT_ERR_FORMAT, "no 'fortran_order'");
    refuse_dict("{'descr': '<f4' 'fortran_order': False, 'shape': (), }", 4, NNINIT_ERR_FORMAT,
                "',' or '}', found ''' at byte 26");
    refuse_dict("{'descr' '<f4', 'fortran_order': False, 'shape': (), }", 4, NNINIT_ERR_FORMAT, "':' after the key");
    refuse_dict("{'descr': '<f4',, 'fortran_order': False, 'shape': (), }", 4, NNINIT_ERR_FORMAT,
                "a key in quotes, or '}', found ','");
    refuse_dict("{descr: '<f4', 'fortran_order': False, 'shape': (), }", 4, NNINIT_ERR_FORMAT,
                "a key in quotes, or '}', found 'd'");
    refuse_dict("{'descr': '<f4\\x', 'fortran_order': False, 'shape': (), }", 4, NNINIT_ERR_FORMAT,
                "printable ASCII without escapes, found '\\'");
    refuse_dict("{'descr': '<f4, 'fortran_order': False, 'shape': (), }", 4, NNINIT_ERR_FORMAT,
                "',' or '}', found 'f' at byte 27");
    refuse_dict("{'descr': <f4, 'fortran_order': False, 'shape': (), }", 4, NNINIT_ERR_FORMAT,
                "descr, a string, found '<'");
    refuse_dict("{'descr': '<f4', 'fortran_order': 0, 'shape': (), }", 4, NNINIT_ERR_FORMAT,
                "fortran_order is True or False, found '0'");
    refuse_dict("{'descr': '<f4', 'fortran_order': true, 'shape': (), }", 4, NNINIT_ERR_FORMAT,
                "fortran_order is True or False, found 't'");
    refuse_dict("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (), }", 4, NNINIT_ERR_FORMAT,
                "fortran_order is True or False");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (), } x", 4, NNINIT_ERR_FORMAT,
                "only spaces, then '\\n', after the dict, found 'x'");
    refuse_dict("{'descr': '<f4', 'fortran_order': False,\n'shape': (), }", 4, NNINIT_ERR_FORMAT,
                "found byte 0x0a at byte 50");
    refuse_dict("{'descr': '<f4',\t'fortran_order': False, 'shape': (), }", 4, NNINIT_ERR_FORMAT, "found byte 0x09");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': ()", 4, NNINIT_ERR_FORMAT,
                "',' or '}', found the end of the header");
    /* the last byte must be the newline */
    size_t len;
    unsigned char *b = npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 1, 4, &len);
    b[127] = ' ';
    refuse(b, len, NNINIT_ERR_FORMAT, "its last byte (byte 127) is not '\\n'");
    free(b);
    /* a key longer than any known one */
    refuse_dict("{'descr_descr_descr_descr_descr_descr': 1}", 0, NNINIT_ERR_FORMAT, "longer than 31 bytes");
}

static void test_refuse_shapes(void **state) {
    (void)state;
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (5), }", 20, NNINIT_ERR_FORMAT,
                "shape (5) is an integer, not a tuple: one dimension is (5,)");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': [5], }", 20, NNINIT_ERR_FORMAT,
                "shape is a tuple, '(', found '['");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", 0, NNINIT_ERR_FORMAT,
                "shape[1] at byte 64 is negative");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (-0,), }", 0, NNINIT_ERR_FORMAT, "is negative");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (05,), }", 20, NNINIT_ERR_FORMAT,
                "shape[0] at byte 61 has a leading zero");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1_000,), }", 4000, NNINIT_ERR_FORMAT,
                "a decimal integer in the shape, found '_'");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (0x10,), }", 64, NNINIT_ERR_FORMAT,
                "a decimal integer in the shape, found 'x'");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", 24, NNINIT_ERR_FORMAT,
                "',' or ')' in the shape, found '3'");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (,), }", 0, NNINIT_ERR_FORMAT,
                "an integer, or ')', in the shape, found ','");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,), }", 8, NNINIT_ERR_FORMAT,
                "',' or ')' in the shape, found '.'");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }", 4,
                NNINIT_ERR_FORMAT, "the shape has more than 8 dimensions (nninit reads 8)");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808,), }", 0, NNINIT_ERR_FORMAT,
                "shape[0] at byte 61 is above 2^63 - 1");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", 0, NNINIT_ERR_FORMAT,
                "is above 2^63 - 1");
    /* huge shapes: the product (times the element size) passes 2^63 */
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 16, NNINIT_ERR_FORMAT,
                "shape (4294967296, 4294967296) of '<f4' makes 2^63 bytes or more");
    refuse_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (1152921504606846976,), }", 16, NNINIT_ERR_FORMAT,
                "makes 2^63 bytes or more");
    refuse_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3037000499, 3037000499), }", 16,
                NNINIT_ERR_FORMAT, "makes 2^63 bytes or more");
}

static void test_refuse_dtypes(void **state) {
    (void)state;
    static const struct {
        const char *dict, *fragment;
    } cases[] = {
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (), }", "dtype '>f4' (big-endian float32): nninit reads"},
        {"{'descr': '<i8', 'fortran_order': False, 'shape': (), }", "dtype '<i8' (int64)"},
        {"{'descr': '|u1', 'fortran_order': False, 'shape': (), }", "dtype '|u1' (uint8)"},
        {"{'descr': '|b1', 'fortran_order': False, 'shape': (), }", "dtype '|b1' (bool)"},
        {"{'descr': '<c16', 'fortran_order': False, 'shape': (), }", "dtype '<c16' (complex128)"},
        {"{'descr': '|O', 'fortran_order': False, 'shape': (), }", "dtype '|O' (Python objects, a pickle)"},
        {"{'descr': '<U5', 'fortran_order': False, 'shape': (), }", "dtype '<U5' (str)"},
        {"{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (), }", "dtype '<M8[ns]' (datetime)"},
        {"{'descr': 'float32', 'fortran_order': False, 'shape': (), }", "dtype 'float32': nninit reads"},
        {"{'descr': '', 'fortran_order': False, 'shape': (), }", "dtype '': nninit reads '<f4', '<f8', '<f2' and "
                                                                 "'<u2' (bf16 bits)"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (), }",
         "descr is a list of fields, a structured dtype"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        refuse_dict(cases[k].dict, 4, NNINIT_ERR_DTYPE, cases[k].fragment);
}

static void test_refuse_data_size(void **state) {
    (void)state;
    refuse_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 31, NNINIT_ERR_FORMAT,
                "the data need 32 bytes, the file holds 31 after the header: truncated");
    refuse_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 33, NNINIT_ERR_FORMAT,
                "1 bytes after the data's 32 (at byte 160): trailing data");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 0, NNINIT_ERR_FORMAT,
                "the data need 4 bytes, the file holds 0");
    refuse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", 1, NNINIT_ERR_FORMAT,
                "1 bytes after the data's 0");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_scalar_and_empty),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test_setup_teardown(test_round_trip_every_dtype, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test(test_header_variants),
        cmocka_unit_test(test_refuse_preamble),
        cmocka_unit_test(test_refuse_dict_syntax),
        cmocka_unit_test(test_refuse_shapes),
        cmocka_unit_test(test_refuse_dtypes),
        cmocka_unit_test(test_refuse_data_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

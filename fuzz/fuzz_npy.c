/* fuzz_npy.c -- the .npy writer, nninit_npy_write() (src/io/npy.c).
 *
 * The input picks the call: byte 0 the dtype (one value out of range), byte 1
 * ndim (0..9, so 0 and 9 are refused), byte 2 what is at the path already
 * (nothing, a regular file to replace, a directory that must be refused),
 * then one byte per dimension (0..16, or -1, or sizes whose product
 * overflows), and the rest are the data bytes, repeated as needed.
 * A written file is read back by an independent parser of NumPy's format
 * (numpy/lib/format.py): magic, version 1.0, little-endian header length,
 * preamble + header a multiple of 64 ending in '\n', a Python dict literal
 * with exactly descr / fortran_order / shape, as written, and then the data,
 * byte for byte. A refused call must leave no file and no temporary behind.
 */
#include "fuzz_common.h" /* first: it sets _POSIX_C_SOURCE */

#include <ctype.h>
#include <errno.h>

#define MAX_BYTES ((size_t)1 << 20)

typedef struct {
    const char *s, *end;
} cursor;

static void skip_space(cursor *c) {
    while (c->s < c->end && *c->s == ' ') c->s++;
}

static int eat(cursor *c, char ch) {
    skip_space(c);
    if (c->s < c->end && *c->s == ch) {
        c->s++;
        return 1;
    }
    return 0;
}

/* 'text' (no escapes: the writer writes none) into out. */
static int quoted(cursor *c, char *out, size_t cap) {
    if (!eat(c, '\'')) return 0;
    size_t n = 0;
    while (c->s < c->end && *c->s != '\'') {
        if (*c->s == '\\' || n + 1 >= cap) return 0;
        out[n++] = *c->s++;
    }
    out[n] = '\0';
    return eat(c, '\'');
}

/* A Python tuple of non-negative ints: "()", "(5,)", "(5, 6)", "(5, 6,)";
 * "(5)" is an int in Python, not a tuple. */
static int tuple(cursor *c, int64_t *dims, int *ndim) {
    if (!eat(c, '(')) return 0;
    int n = 0, trailing = 0;
    skip_space(c);
    while (c->s < c->end && isdigit((unsigned char)*c->s)) {
        if (n == NNINIT_MAX_DIMS) return 0;
        int64_t v = 0;
        while (c->s < c->end && isdigit((unsigned char)*c->s)) {
            if (v > (INT64_MAX - 9) / 10) return 0;
            v = v * 10 + (*c->s++ - '0');
        }
        dims[n++] = v;
        trailing = eat(c, ',');
        if (!trailing) break;
        skip_space(c);
    }
    if (!eat(c, ')')) return 0;
    if (n == 1 && !trailing) return 0;
    *ndim = n;
    return 1;
}

/* Checks the file at path against what was written; aborts on any difference. */
static void check_npy(const char *path, const char *descr, int ndim, const int64_t *shape, const unsigned char *data,
                      size_t nbytes) {
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f != NULL, "written file missing: %s", strerror(errno));
    static unsigned char buf[MAX_BYTES + 65536 + 128];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    FUZZ_CHECK(len >= 10 && memcmp(buf, "\x93NUMPY", 6) == 0, "magic");
    FUZZ_CHECK(buf[6] == 1 && buf[7] == 0, "version %d.%d", buf[6], buf[7]);
    size_t hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
    FUZZ_CHECK((10 + hlen) % 64 == 0, "preamble + header = %zu bytes, not a multiple of 64", 10 + hlen);
    FUZZ_CHECK(len >= 10 + hlen && hlen >= 1 && buf[10 + hlen - 1] == '\n', "header does not end in a newline");
    for (size_t i = 10; i < 10 + hlen - 1; i++)
        FUZZ_CHECK(buf[i] >= 0x20 && buf[i] < 0x7f, "byte %zu of the header", i);
    FUZZ_CHECK(len == 10 + hlen + nbytes, "file is %zu bytes, header %zu + data %zu", len, 10 + hlen, nbytes);
    FUZZ_CHECK(memcmp(buf + 10 + hlen, data, nbytes) == 0, "data differ"); /* little-endian host */

    cursor c = {(const char *)buf + 10, (const char *)buf + 10 + hlen - 1};
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
    FUZZ_CHECK(eat(&c, '{'), "header is not a dict");
    while (!eat(&c, '}')) {
        char key[32], val[32];
        FUZZ_CHECK(quoted(&c, key, sizeof key) && eat(&c, ':'), "dict key");
        if (!strcmp(key, "descr")) {
            FUZZ_CHECK(!seen_descr++ && quoted(&c, val, sizeof val), "descr");
            FUZZ_CHECK(!strcmp(val, descr), "descr '%s', wrote '%s'", val, descr);
        } else if (!strcmp(key, "fortran_order")) {
            skip_space(&c);
            FUZZ_CHECK(!seen_fortran++ && c.end - c.s >= 5 && !memcmp(c.s, "False", 5), "fortran_order");
            c.s += 5;
        } else if (!strcmp(key, "shape")) {
            int64_t dims[NNINIT_MAX_DIMS];
            int n = -1;
            FUZZ_CHECK(!seen_shape++ && tuple(&c, dims, &n), "shape is not a tuple of ints");
            FUZZ_CHECK(n == ndim, "shape has %d dims, wrote %d", n, ndim);
            for (int i = 0; i < n; i++) FUZZ_CHECK(dims[i] == shape[i], "shape[%d]", i);
        } else {
            FUZZ_CHECK(0, "unknown key '%s'", key);
        }
        if (!eat(&c, ',')) {
            FUZZ_CHECK(eat(&c, '}'), "dict: expected ',' or '}'");
            break;
        }
    }
    skip_space(&c);
    FUZZ_CHECK(c.s == c.end, "text after the dict");
    FUZZ_CHECK(seen_descr && seen_fortran && seen_shape, "dict lacks a key");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *descrs[4] = {"<f4", "<f8", "<u2", "<f2"}; /* F32, F64, BF16, F16 */
    static const size_t esizes[4] = {4, 8, 2, 2};
    static char path[300];
    if (!path[0]) snprintf(path, sizeof path, "%s/out.npy", fuzz_dir());
    if (size < 3) return 0;
    int dt = data[0] % 5; /* 4: not a dtype */
    int ndim = data[1] % 10;
    int existing = data[2] % 3;
    size_t pos = 3;
    int64_t shape[10];
    double product = 1;
    for (int i = 0; i < ndim; i++) {
        uint8_t b = pos < size ? data[pos++] : 1;
        shape[i] = b == 0xff ? -1 : b == 0xfe ? INT64_MAX : b == 0xfd ? (int64_t)1 << 40 : b % 17;
        product *= (double)shape[i];
    }
    size_t esize = dt < 4 ? esizes[dt] : 1;
    double want = product * (double)esize;
    int overflows = want >= 0x1p63;                       /* past INT64_MAX (and SIZE_MAX): the writer refuses */
    if (!overflows && want > (double)MAX_BYTES) return 0; /* valid but too large to supply */
    size_t nbytes = overflows || want < 1 ? 16 : (size_t)want;
    unsigned char *buf = malloc(nbytes);
    if (!buf) abort();
    for (size_t i = 0; i < nbytes; i++) buf[i] = size > pos ? data[pos + i % (size - pos)] : (unsigned char)i;

    if (existing == 1) fuzz_write_file(path, (const uint8_t *)"old", 3);
    if (existing == 2 && mkdir(path, 0700) != 0) abort();
    nninit_status st = nninit_npy_write(path, buf, (nninit_dtype)dt, ndim, shape);
    int ok = dt < 4 && ndim >= 1 && ndim <= NNINIT_MAX_DIMS && product >= 1 && !overflows && existing != 2;
    if (ndim >= 1 && ndim <= NNINIT_MAX_DIMS)
        for (int i = 0; i < ndim; i++) ok = ok && shape[i] >= 1;
    FUZZ_CHECK((st == NNINIT_OK) == ok, "npy_write returned %s (dtype %d, ndim %d, existing %d)", nninit_status_str(st),
               dt, ndim, existing);
    if (st == NNINIT_OK) {
        check_npy(path, descrs[dt], ndim, shape, buf, nbytes);
        FUZZ_CHECK(fuzz_dir_entries() == 1, "a temporary file was left behind");
        unlink(path);
    } else {
        struct stat sb;
        if (existing == 0) FUZZ_CHECK(lstat(path, &sb) != 0, "a refused write left a file");
        if (existing == 1) {
            FUZZ_CHECK(lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 3, "old file changed");
            unlink(path);
        }
        if (existing == 2) {
            FUZZ_CHECK(lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode), "directory changed");
            rmdir(path);
        }
        FUZZ_CHECK(fuzz_dir_entries() == 0, "a temporary file was left behind");
    }
    free(buf);
    return 0;
}

/* fuzz_npy.c -- the .npy writer and reader (src/io/npy.c): nninit_npy_write,
 * nninit_npy_parse, nninit_npy_open / _read, nninit_npy_header.
 *
 * An input that begins with the magic "\x93NUMPY" is a file for the reader:
 * a refusal is FORMAT or DTYPE and leaves the caller's info alone, and a
 * buffer holding only the first 12 + NNINIT_NPY_MAX_HEADER bytes gives the
 * same verdict; an accepted file keeps the promises of nninit_checkpoint.h
 * (a dtype of the four, 0..8 dimensions >= 0, numel their product, the data
 * exactly the rest of the file), reads the same through nninit_npy_open and
 * _read, and, written again with nninit_npy_header's header in front of its
 * data, parses to the same array.
 *
 * Any other input picks a call of the writer: byte 0 the dtype (one value out of range), byte 1
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

#include "nninit_checkpoint.h"

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

static size_t elem_size(nninit_dtype d) { return d == NNINIT_F64 ? 8 : d == NNINIT_F32 ? 4 : 2; }

/* The file at path reads back through nninit_npy_open / _read as want says,
 * with exactly data[0, nbytes). */
static void check_open(const char *path, const nninit_npy_info *want, const unsigned char *data, size_t nbytes) {
    nninit_npy_file *f = NULL;
    nninit_status st = nninit_npy_open(path, &f);
    FUZZ_CHECK(st == NNINIT_OK, "npy_open of a file npy_parse accepted: %s", nninit_status_str(st));
    const nninit_npy_info *i = nninit_npy_file_info(f);
    FUZZ_CHECK(i->dtype == want->dtype && i->ndim == want->ndim && i->numel == want->numel &&
                   i->header_bytes == want->header_bytes && i->data_bytes == want->data_bytes &&
                   i->fortran_order == want->fortran_order && i->version == want->version,
               "npy_open's header differs from npy_parse's");
    for (int k = 0; k < i->ndim; k++) FUZZ_CHECK(i->shape[k] == want->shape[k], "shape[%d]", k);
    FUZZ_CHECK(i->data_bytes == nbytes, "data bytes %llu, expected %zu", (unsigned long long)i->data_bytes, nbytes);
    unsigned char *back = malloc(nbytes + 1);
    if (!back) abort();
    size_t cut = nbytes / 3;
    FUZZ_CHECK(nninit_npy_read(f, cut, nbytes - cut, back + cut) == NNINIT_OK, "npy_read");
    FUZZ_CHECK(nninit_npy_read(f, 0, cut, back) == NNINIT_OK, "npy_read");
    FUZZ_CHECK(memcmp(back, data, nbytes) == 0, "npy_read returned other bytes");
    FUZZ_CHECK(nninit_npy_read(f, nbytes, 1, back) == NNINIT_ERR_SLICE, "a read past the data");
    free(back);
    nninit_npy_close(f);
}

/* An input that is a file for the reader. */
static void fuzz_reader(const uint8_t *data, size_t size, const char *path) {
    nninit_npy_info info, sentinel;
    memset(&info, 0xa5, sizeof info);
    memcpy(&sentinel, &info, sizeof info);
    nninit_status st = nninit_npy_parse(data, size, size, &info);
    size_t head = size < 12 + NNINIT_NPY_MAX_HEADER ? size : 12 + NNINIT_NPY_MAX_HEADER;
    nninit_npy_info info2;
    nninit_status st2 = nninit_npy_parse(data, head, size, &info2);
    FUZZ_CHECK(st == st2, "the header alone gives %s, the whole file %s", nninit_status_str(st2),
               nninit_status_str(st));
    if (st != NNINIT_OK) {
        FUZZ_CHECK(st == NNINIT_ERR_FORMAT || st == NNINIT_ERR_DTYPE, "parse failed with %s", nninit_status_str(st));
        FUZZ_CHECK(memcmp(&info, &sentinel, sizeof info) == 0, "a failed parse changed *info");
        return;
    }
    static const char *descrs[4] = {"<f4", "<f8", "<u2", "<f2"}; /* F32, F64, BF16, F16 */
    FUZZ_CHECK((unsigned)info.dtype < 4 && !strcmp(info.descr, descrs[info.dtype]), "dtype %d, descr '%.4s'",
               (int)info.dtype, info.descr);
    FUZZ_CHECK(info.version >= 1 && info.version <= 3, "version %d", info.version);
    FUZZ_CHECK(info.fortran_order == 0 || info.fortran_order == 1, "fortran_order %d", info.fortran_order);
    FUZZ_CHECK(info.ndim >= 0 && info.ndim <= NNINIT_MAX_DIMS, "ndim %d", info.ndim);
    double numel = 1;
    for (int k = 0; k < info.ndim; k++) {
        FUZZ_CHECK(info.shape[k] >= 0, "shape[%d] < 0", k);
        numel *= (double)info.shape[k];
    }
    FUZZ_CHECK(numel == (double)info.numel, "numel %llu", (unsigned long long)info.numel);
    FUZZ_CHECK(info.data_bytes == info.numel * elem_size(info.dtype), "data bytes");
    FUZZ_CHECK(info.header_bytes + info.data_bytes == size, "header %llu + data %llu != file %zu",
               (unsigned long long)info.header_bytes, (unsigned long long)info.data_bytes, size);
    const unsigned char *payload = data + info.header_bytes;
    size_t nbytes = (size_t)info.data_bytes;

    fuzz_write_file(path, data, size);
    check_open(path, &info, payload, nbytes);
    unlink(path);

    /* nninit's own header in front of the same data reads as the same array */
    unsigned char h[NNINIT_NPY_HEADER_MAX];
    size_t hl;
    uint64_t db;
    st = nninit_npy_header(info.dtype, info.ndim, info.shape, h, sizeof h, &hl, &db);
    FUZZ_CHECK(st == NNINIT_OK, "npy_header of a parsed array: %s", nninit_status_str(st));
    FUZZ_CHECK(db == info.data_bytes && hl % 64 == 0, "npy_header: %llu data bytes, header %zu", (unsigned long long)db,
               hl);
    unsigned char *again = malloc(hl + nbytes + 1);
    if (!again) abort();
    memcpy(again, h, hl);
    memcpy(again + hl, payload, nbytes);
    nninit_npy_info back;
    st = nninit_npy_parse(again, hl + nbytes, hl + nbytes, &back);
    FUZZ_CHECK(st == NNINIT_OK, "npy_header's file refused: %s", nninit_last_error());
    FUZZ_CHECK(back.dtype == info.dtype && back.ndim == info.ndim && back.numel == info.numel && back.version == 1 &&
                   back.fortran_order == 0 && back.header_bytes == hl,
               "npy_header's file reads as another array");
    for (int k = 0; k < info.ndim; k++) FUZZ_CHECK(back.shape[k] == info.shape[k], "shape[%d]", k);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *descrs[4] = {"<f4", "<f8", "<u2", "<f2"}; /* F32, F64, BF16, F16 */
    static const size_t esizes[4] = {4, 8, 2, 2};
    static char path[300];
    if (!path[0]) snprintf(path, sizeof path, "%s/out.npy", fuzz_dir());
    if (size >= 6 && memcmp(data, "\x93NUMPY", 6) == 0) {
        fuzz_reader(data, size, path);
        FUZZ_CHECK(fuzz_dir_entries() == 0, "a file was left behind");
        return 0;
    }
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
        /* and nninit's own reader reads it back */
        nninit_npy_info want;
        memset(&want, 0, sizeof want);
        want.dtype = (nninit_dtype)dt;
        want.version = 1;
        want.ndim = ndim;
        want.numel = 1;
        for (int i = 0; i < ndim; i++) want.shape[i] = shape[i], want.numel *= (uint64_t)shape[i];
        want.data_bytes = nbytes;
        struct stat sb;
        FUZZ_CHECK(stat(path, &sb) == 0, "stat");
        want.header_bytes = (uint64_t)sb.st_size - nbytes;
        check_open(path, &want, buf, nbytes);
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

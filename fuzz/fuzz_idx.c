/* fuzz_idx.c -- the IDX reader (include/nninit_data.h): the input is written
 * to a file and loaded both as images and as labels.
 *
 * The harness decodes the input itself with zlib's inflate() and checks:
 *   - success only for a whole gzip file (not cut: its CRC was checked)
 *     whose content is exactly an IDX u8 file (magic, dims >= 1, as many data
 *     bytes as they declare), and the values loaded are that content
 *     (images: byte / 255);
 *   - such a file is never refused (unless the allocation fails);
 *   - on failure the outputs are untouched.
 * Memory: the reader grows its buffer with the data actually inflated, so
 * what a gzip bomb can cost is bounded by deflate's ratio (about 1:1032) times
 * the input size; libFuzzer's -rss_limit_mb catches a reader that stops doing
 * so.
 */
#include "fuzz_common.h" /* first: it sets _POSIX_C_SOURCE */

#include <zlib.h>

#include "nninit_data.h"

#define DECODE_CAP ((size_t)256 << 20) /* more than the harness's inputs can inflate to */

/* Why not gzread: it ends a stream that is cut short as if it were complete,
 * without an error, when the cut falls in the trailer (no CRC check), and,
 * when the cut falls inside the deflate data, it may even stop early: once
 * the whole file is in its input buffer and inflate has taken every byte,
 * gz_read() (zlib 1.2.13 gzread.c, "return if we're at the end of the
 * input") returns 0 while inflate still holds output, so 4 KB reads of a cut
 * file can end at 1 MiB where one 4 MiB read gets 1049393 bytes and
 * Z_BUF_ERROR (fuzz/regressions/fuzz_idx/). */

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* The file's decompressed content, or NULL if it is not gzip or not whole.
 * With inflate() itself, not gzread(): gzread's answer depends on how it is
 * called (see above), inflate's does not. Members follow one another, each
 * must reach its end (its CRC and length checked); bytes after a member that
 * do not start another one are ignored, as gzread ignores them. */
static unsigned char *decode(const uint8_t *data, size_t size, size_t *len) {
    if (size < 2 || data[0] != 0x1f || data[1] != 0x8b) return NULL;
    size_t cap = 1 << 16, n = 0, pos = 0;
    unsigned char *buf = malloc(cap);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (!buf || inflateInit2(&z, 15 + 16) != Z_OK) abort();
    while (pos == 0 || (size - pos >= 2 && data[pos] == 0x1f && data[pos + 1] == 0x8b)) {
        inflateReset(&z);
        z.next_in = (unsigned char *)(uintptr_t)(data + pos);
        z.avail_in = (unsigned)(size - pos);
        int r;
        do {
            if (n == cap) {
                FUZZ_CHECK(cap < DECODE_CAP, "input inflates past %zu bytes", DECODE_CAP);
                buf = realloc(buf, cap *= 2);
                if (!buf) abort();
            }
            z.next_out = buf + n;
            z.avail_out = (unsigned)(cap - n);
            r = inflate(&z, Z_NO_FLUSH);
            n = cap - z.avail_out;
        } while (r == Z_OK);
        if (r != Z_STREAM_END) { /* corrupt, or cut short (Z_BUF_ERROR: no more input) */
            inflateEnd(&z);
            free(buf);
            return NULL;
        }
        pos = size - z.avail_in;
    }
    inflateEnd(&z);
    *len = n;
    return buf;
}

/* 1 if content is a whole IDX u8 file with this magic and ndim dims. */
static int idx_valid(const unsigned char *c, size_t len, uint32_t magic, int ndim, uint32_t dims[3]) {
    size_t hlen = 4 + 4 * (size_t)ndim, total = 1;
    if (!c || len < hlen || be32(c) != magic) return 0;
    for (int k = 0; k < ndim; k++) {
        dims[k] = be32(c + 4 + 4 * k);
        if (dims[k] < 1 || dims[k] > INT32_MAX) return 0;
        if (total > (size_t)INT32_MAX / dims[k]) return 0;
        total *= dims[k];
    }
    return len == hlen + total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[300];
    if (!path[0]) snprintf(path, sizeof path, "%s/input.idx.gz", fuzz_dir());
    fuzz_write_file(path, data, size);
    size_t len = 0;
    unsigned char *content = decode(data, size, &len);
    uint32_t dims[3];

    float *img = (float *)(uintptr_t)0x1;
    int n = -7, rows = -7, cols = -7;
    nninit_status st = nninit_idx_load_images(path, &img, &n, &rows, &cols);
    int valid = idx_valid(content, len, NNINIT_IDX_MAGIC_IMAGES, 3, dims);
    if (st == NNINIT_OK) {
        FUZZ_CHECK(valid, "images loaded from a file that is not a whole IDX3 file");
        FUZZ_CHECK((uint32_t)n == dims[0] && (uint32_t)rows == dims[1] && (uint32_t)cols == dims[2],
                   "dims %d x %d x %d", n, rows, cols);
        size_t total = (size_t)n * (size_t)rows * (size_t)cols;
        for (size_t i = 0; i < total; i++) FUZZ_CHECK(img[i] == (float)content[16 + i] / 255.0f, "image value %zu", i);
        free(img);
    } else {
        FUZZ_CHECK(!valid || st == NNINIT_ERR_NOMEM, "a whole IDX3 file refused: %s", nninit_status_str(st));
        FUZZ_CHECK(img == (float *)(uintptr_t)0x1 && n == -7 && rows == -7 && cols == -7, "outputs changed on failure");
    }

    uint8_t *lab = (uint8_t *)(uintptr_t)0x1;
    n = -7;
    st = nninit_idx_load_labels(path, &lab, &n);
    valid = idx_valid(content, len, NNINIT_IDX_MAGIC_LABELS, 1, dims);
    if (st == NNINIT_OK) {
        FUZZ_CHECK(valid, "labels loaded from a file that is not a whole IDX1 file");
        FUZZ_CHECK((uint32_t)n == dims[0], "n %d", n);
        FUZZ_CHECK(memcmp(lab, content + 8, (size_t)n) == 0, "label bytes differ");
        free(lab);
    } else {
        FUZZ_CHECK(!valid || st == NNINIT_ERR_NOMEM, "a whole IDX1 file refused: %s", nninit_status_str(st));
        FUZZ_CHECK(lab == (uint8_t *)(uintptr_t)0x1 && n == -7, "outputs changed on failure");
    }
    free(content);
    return 0;
}

/* fuzz_npz.c -- the .npz reader, nninit_npz_parse() (src/io/npz.c), on the
 * input as a whole archive, and the writer on what it accepted.
 *
 * A refused archive is FORMAT, DTYPE (a member of a dtype nninit does not
 * read) or NOMEM, and leaves the caller's pointer alone. An accepted one
 * keeps the promises of include/nninit_checkpoint.h: members in archive
 * order (ascending offsets), names unique and found by nninit_npz_find, each
 * member's size its .npy header plus its data, a stored member's compressed
 * size its size; every member's data read whole equals the data read in two
 * pieces, the later first (a deflated member's stream restarts); reads
 * outside the data are SLICE. And it survives a round trip: the arrays read,
 * written by nninit_npz_writer (ZIP64 forced when the input's last byte is
 * odd), read back as the same names, dtypes, shapes and bytes, unless a name
 * is not UTF-8 (a ZIP name unflagged may be any bytes), which the writer
 * refuses (FORMAT).
 */
#include "fuzz_common.h" /* first: it sets _POSIX_C_SOURCE */

#include "nninit_checkpoint.h"

#define MAX_DATA ((uint64_t)64 << 20) /* read back at most this much per input */

/* Member m's whole data, and checked against a read in two pieces. NULL if
 * it is larger than MAX_DATA. */
static unsigned char *read_member(nninit_npz_file *f, const nninit_npz_member *m) {
    uint64_t n = m->npy.data_bytes;
    if (n > MAX_DATA) return NULL;
    unsigned char *a = malloc((size_t)n + 1), *b = malloc((size_t)n + 1);
    if (!a || !b) abort();
    nninit_status st = nninit_npz_read(f, m, 0, (size_t)n, a);
    FUZZ_CHECK(st == NNINIT_OK, "read of '%s' (%llu bytes): %s", m->name, (unsigned long long)n, nninit_status_str(st));
    size_t cut = (size_t)n / 2;
    FUZZ_CHECK(nninit_npz_read(f, m, cut, (size_t)n - cut, b + cut) == NNINIT_OK, "read of '%s' from %zu", m->name,
               cut);
    FUZZ_CHECK(nninit_npz_read(f, m, 0, cut, b) == NNINIT_OK, "read of '%s' up to %zu", m->name, cut);
    FUZZ_CHECK(memcmp(a, b, (size_t)n) == 0, "'%s' read whole and in pieces differ", m->name);
    FUZZ_CHECK(nninit_npz_read(f, m, n, 1, b) == NNINIT_ERR_SLICE, "a read past '%s'", m->name);
    free(b);
    return a;
}

static int utf8_ok(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, k;
        unsigned lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) k = 1;
        else if (c >= 0xe0 && c <= 0xef) k = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        else if (c >= 0xf0 && c <= 0xf4) k = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        else return 0;
        if (p[1] < lo || p[1] > hi) return 0;
        for (unsigned j = 2; j <= k; j++)
            if ((p[j] & 0xc0) != 0x80) return 0;
        p += k + 1;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[300];
    if (!path[0]) snprintf(path, sizeof path, "%s/out.npz", fuzz_dir());
    nninit_npz_file *const sentinel = (nninit_npz_file *)(uintptr_t)0x5a5a;
    nninit_npz_file *f = sentinel;
    nninit_status st = nninit_npz_parse(data, size, &f);
    if (st != NNINIT_OK) {
        FUZZ_CHECK(st == NNINIT_ERR_FORMAT || st == NNINIT_ERR_DTYPE || st == NNINIT_ERR_NOMEM, "parse failed with %s",
                   nninit_status_str(st));
        FUZZ_CHECK(f == sentinel, "a failed parse changed *f");
        return 0;
    }
    size_t n = nninit_npz_count(f);
    FUZZ_CHECK(nninit_npz_member_at(f, n) == NULL, "member_at(count)");
    uint64_t total = 0;
    int names_ok = 1;
    unsigned char **payload = calloc(n ? n : 1, sizeof *payload);
    if (!payload) abort();
    for (size_t i = 0; i < n; i++) {
        const nninit_npz_member *m = nninit_npz_member_at(f, i);
        FUZZ_CHECK(m && m->name && nninit_npz_find(f, m->name) == m, "find('%s')", m ? m->name : "?");
        FUZZ_CHECK(i == 0 || m->offset > nninit_npz_member_at(f, i - 1)->offset, "member %zu out of order", i);
        FUZZ_CHECK(m->offset < size && m->compressed_size <= size, "member '%s' beyond the input", m->name);
        FUZZ_CHECK(m->deflated || m->compressed_size == m->size, "stored '%s' with two sizes", m->name);
        FUZZ_CHECK(m->size == m->npy.header_bytes + m->npy.data_bytes, "'%s': size %llu", m->name,
                   (unsigned long long)m->size);
        FUZZ_CHECK((unsigned)m->npy.dtype < 4 && m->npy.ndim >= 0 && m->npy.ndim <= NNINIT_MAX_DIMS, "'%s' header",
                   m->name);
        names_ok = names_ok && utf8_ok(m->name) && strlen(m->name) <= NNINIT_NPZ_MAX_NAME;
        total += m->npy.data_bytes;
        if (total <= MAX_DATA) payload[i] = read_member(f, m);
    }

    /* what was read, written by nninit's writer, reads the same */
    if (total <= MAX_DATA) {
        nninit_npz_write_opts o = {size && (data[size - 1] & 1)};
        nninit_npz_writer *w = NULL;
        st = nninit_npz_writer_open(&w, path, NULL, 0, &o);
        FUZZ_CHECK(st == NNINIT_OK, "writer_open: %s", nninit_status_str(st));
        int refused = 0;
        for (size_t i = 0; i < n && !refused; i++) {
            const nninit_npz_member *m = nninit_npz_member_at(f, i);
            nninit_npz_array a;
            memset(&a, 0, sizeof a);
            a.name = m->name;
            a.dtype = m->npy.dtype;
            a.ndim = m->npy.ndim;
            memcpy(a.shape, m->npy.shape, sizeof a.shape);
            st = nninit_npz_writer_add(w, &a);
            if (st != NNINIT_OK) {
                FUZZ_CHECK(!names_ok && st == NNINIT_ERR_FORMAT, "writer_add('%s'): %s", m->name, nninit_last_error());
                refused = 1;
                break;
            }
            st = nninit_npz_writer_append(w, payload[i], (size_t)m->npy.data_bytes);
            FUZZ_CHECK(st == NNINIT_OK, "writer_append('%s'): %s", m->name, nninit_last_error());
        }
        if (refused) {
            nninit_npz_writer_abort(w);
        } else {
            FUZZ_CHECK(names_ok, "the writer took a name that is not UTF-8");
            st = nninit_npz_writer_commit(w);
            FUZZ_CHECK(st == NNINIT_OK, "writer_commit: %s", nninit_last_error());
            nninit_npz_file *g = NULL;
            st = nninit_npz_open(path, &g);
            FUZZ_CHECK(st == NNINIT_OK, "open of the archive written: %s", nninit_last_error());
            FUZZ_CHECK(nninit_npz_count(g) == n, "round trip: %zu members, then %zu", n, nninit_npz_count(g));
            for (size_t i = 0; i < n; i++) {
                const nninit_npz_member *x = nninit_npz_member_at(f, i), *y = nninit_npz_member_at(g, i);
                FUZZ_CHECK(!strcmp(x->name, y->name) && x->npy.dtype == y->npy.dtype && x->npy.ndim == y->npy.ndim &&
                               x->npy.data_bytes == y->npy.data_bytes && !y->deflated && y->npy.version == 1 &&
                               y->npy.fortran_order == 0,
                           "round trip: member %zu ('%s')", i, x->name);
                for (int k = 0; k < x->npy.ndim; k++)
                    FUZZ_CHECK(x->npy.shape[k] == y->npy.shape[k], "round trip: '%s' shape", x->name);
                unsigned char *back = read_member(g, y);
                FUZZ_CHECK(!memcmp(back, payload[i], (size_t)x->npy.data_bytes), "round trip: '%s' data", x->name);
                free(back);
            }
            nninit_npz_close(g);
            unlink(path);
        }
        FUZZ_CHECK(fuzz_dir_entries() == 0, "a file was left behind");
    }
    for (size_t i = 0; i < n; i++) free(payload[i]);
    free(payload);
    nninit_npz_close(f);
    return 0;
}

/*
 * nninit_checkpoint.h -- checkpoint files: safetensors (single file and
 * sharded with model.safetensors.index.json), read and written by libnninit;
 * and, in the sections at the end, NumPy's .npy (the header, reading) and
 * .npz (np.savez archives: a streaming writer, a validating reader).
 *
 * safetensors (https://github.com/huggingface/safetensors, "Format"): an
 * 8-byte little-endian unsigned header length N, then N bytes of UTF-8 JSON
 * {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]},
 * ..., "__metadata__": {"key": "string value", ...}} padded with spaces to a
 * multiple of 8, then the data: each tensor's bytes, row-major, little-endian,
 * at [begin, end) relative to the end of the header, contiguous and
 * non-overlapping. nninit writes tensors in the order given, data in that
 * order, and the JSON keys in that order with "__metadata__" first.
 *
 * Writing is streaming: open with every tensor's name, dtype and shape (the
 * header is written first), then append each tensor's bytes in order, in
 * pieces of any size; commit fsyncs and renames a temporary
 * (".<name>.nninit-tmp.<pid>.XXXXXX" in the same directory) to the path, so
 * the path never holds a partial file; abort (or any error) removes it.
 * Memory stays bounded by what the caller passes per call.
 *
 * Reading validates everything before returning a file: the header length
 * (at most NNINIT_ST_MAX_HEADER bytes and inside the file), the JSON, each
 * entry's dtype name, shape (non-negative, product times the dtype size equal
 * to the offsets' span, no overflow), offsets inside the data and together
 * contiguous from 0 and non-overlapping, no duplicate names, metadata values
 * strings. A bad file is NNINIT_ERR_FORMAT with a message naming the entry.
 *
 * Thread safety: a reader or writer object is used by one thread at a time;
 * different objects are independent.
 */
#ifndef NNINIT_CHECKPOINT_H
#define NNINIT_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "nninit.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NNINIT_ST_MAX_HEADER ((uint64_t)100 << 20) /* the reference reader's limit: 100 MB */
#define NNINIT_ST_MAX_NAME   1024                  /* bytes of a tensor name, nninit's limit */

/* The dtypes of the format. nninit fills F32, F64, BF16 and F16; the reader
 * accepts every dtype of the format (so that --like can read any checkpoint)
 * and reports the others by name. */
typedef enum {
    NNINIT_ST_F32 = 0,
    NNINIT_ST_F64,
    NNINIT_ST_BF16,
    NNINIT_ST_F16,
    NNINIT_ST_I8,
    NNINIT_ST_U8,
    NNINIT_ST_I16,
    NNINIT_ST_U16,
    NNINIT_ST_I32,
    NNINIT_ST_U32,
    NNINIT_ST_I64,
    NNINIT_ST_U64,
    NNINIT_ST_BOOL,
    NNINIT_ST_F8_E4M3,
    NNINIT_ST_F8_E5M2,
    NNINIT_ST_DTYPE_COUNT
} nninit_st_dtype;

/*! nninit_st_dtype_name() : "F32", "BF16", ... (NULL for an unknown value). */
NNINIT_API const char *nninit_st_dtype_name(nninit_st_dtype d);
/*! nninit_st_dtype_parse() : the dtype of a format name ("BF16"). Errors: UNKNOWN_NAME. */
NNINIT_API nninit_status nninit_st_dtype_parse(const char *name, nninit_st_dtype *out);
/*! nninit_st_dtype_size() : bytes per element (1 for BOOL and F8), 0 if unknown. */
NNINIT_API size_t nninit_st_dtype_size(nninit_st_dtype d);
/*! nninit_st_dtype_of() : the format's dtype for a fill dtype
 *  (NNINIT_ST_DTYPE_COUNT for an unknown value). */
NNINIT_API nninit_st_dtype nninit_st_dtype_of(nninit_dtype d);
/*! nninit_st_fill_dtype() : the fill dtype of a format dtype. Errors: DTYPE
 *  for those nninit cannot fill (integers, BOOL, F8). */
NNINIT_API nninit_status nninit_st_fill_dtype(nninit_st_dtype d, nninit_dtype *out);

/* One tensor of a header. name is NUL-terminated UTF-8 (not "__metadata__"). */
typedef struct {
    const char *name;
    nninit_st_dtype dtype;
    int ndim; /* 0 (a scalar) .. NNINIT_MAX_DIMS */
    int64_t shape[NNINIT_MAX_DIMS];
    uint64_t begin, end; /* data_offsets: bytes relative to the start of the data */
} nninit_st_tensor;

/* One __metadata__ entry (both strings NUL-terminated). */
typedef struct {
    const char *key, *value;
} nninit_st_meta;

/* ---- header -------------------------------------------------------------- */

/*! nninit_st_header() : the header of a file holding `n` tensors (their
 *  begin/end are ignored and computed: contiguous, in the given order) and
 *  `nmeta` metadata entries, as the bytes to write first: *out (malloc'd, the
 *  caller frees) of *len bytes = 8-byte length + JSON padded to 8. Writes
 *  each tensor's offsets into offsets[2*i], offsets[2*i+1] when offsets is not
 *  NULL, and the data's total size into *data_bytes. For writers that place
 *  data themselves (MPI-IO: each rank writes its tensors at header + begin).
 *  Errors: NULL, FORMAT (empty, duplicate or over-long name, a name
 *  "__metadata__", a bad dtype or shape), OVERFLOW, NOMEM. */
NNINIT_API nninit_status nninit_st_header(const nninit_st_tensor *tensors, size_t n, const nninit_st_meta *meta,
                                          size_t nmeta, unsigned char **out, size_t *len, uint64_t *offsets,
                                          uint64_t *data_bytes);

/* ---- writing ------------------------------------------------------------- */

typedef struct nninit_st_writer nninit_st_writer;

/*! nninit_st_writer_open() : start writing `path`: checks that path is absent
 *  or a regular file (never replaces anything else: NNINIT_ERR_IO), creates
 *  the temporary, writes the header of nninit_st_header(). The tensors' and
 *  metadata's strings are copied. */
NNINIT_API nninit_status nninit_st_writer_open(nninit_st_writer **w, const char *path, const nninit_st_tensor *tensors,
                                               size_t n, const nninit_st_meta *meta, size_t nmeta);
/*! nninit_st_writer_append() : the next `bytes` bytes of data (tensor order,
 *  any piece size). Errors: IO (write failed, disk full: errno's text), FORMAT
 *  (more bytes than the header announced). */
NNINIT_API nninit_status nninit_st_writer_append(nninit_st_writer *w, const void *data, size_t bytes);
/*! nninit_st_writer_commit() : checks that every announced byte was appended
 *  (else FORMAT), fsyncs, renames the temporary to the path, fsyncs the
 *  directory, frees w. On error the temporary is removed and w freed. */
NNINIT_API nninit_status nninit_st_writer_commit(nninit_st_writer *w);
/*! nninit_st_writer_abort() : removes the temporary, frees w (NULL: no-op). */
NNINIT_API void nninit_st_writer_abort(nninit_st_writer *w);

/* ---- reading ------------------------------------------------------------- */

typedef struct nninit_st_file nninit_st_file;

/*! nninit_st_open() : open and validate a safetensors file (see the top).
 *  Errors: NULL, IO (cannot open or read: errno's text), FORMAT, NOMEM. */
NNINIT_API nninit_status nninit_st_open(const char *path, nninit_st_file **f);
/*! nninit_st_parse() : the same checks on a file's first bytes in memory:
 *  buf holds at least the header (8 + N bytes), file_size is the whole
 *  file's size (the data's extent is checked against it). For fuzzing and
 *  for readers of other transports. */
NNINIT_API nninit_status nninit_st_parse(const unsigned char *buf, size_t len, uint64_t file_size, nninit_st_file **f);
NNINIT_API void nninit_st_close(nninit_st_file *f);

/*! The tensors in file order (by data offset), and the metadata in header
 *  order. Pointers stay valid until nninit_st_close. */
NNINIT_API size_t nninit_st_count(const nninit_st_file *f);
NNINIT_API const nninit_st_tensor *nninit_st_tensor_at(const nninit_st_file *f, size_t i);
/*! nninit_st_find() : the tensor called name, or NULL. */
NNINIT_API const nninit_st_tensor *nninit_st_find(const nninit_st_file *f, const char *name);
NNINIT_API size_t nninit_st_meta_count(const nninit_st_file *f);
NNINIT_API const nninit_st_meta *nninit_st_meta_at(const nninit_st_file *f, size_t i);
/*! nninit_st_meta_get() : the value of a metadata key, or NULL. */
NNINIT_API const char *nninit_st_meta_get(const nninit_st_file *f, const char *key);
/*! nninit_st_data_start() : the file offset of the data (8 + N). */
NNINIT_API uint64_t nninit_st_data_start(const nninit_st_file *f);

/*! nninit_st_read() : bytes [off, off + bytes) of tensor t's data into out
 *  (pread; a file opened by nninit_st_open only). Errors: SLICE (outside the
 *  tensor), IO. */
NNINIT_API nninit_status nninit_st_read(const nninit_st_file *f, const nninit_st_tensor *t, uint64_t off, size_t bytes,
                                        void *out);

/* ---- sharded checkpoints: model.safetensors.index.json ------------------- */

/* {"metadata": {"total_size": <bytes of tensor data in all shards>},
 *  "weight_map": {"<tensor name>": "<shard file name>", ...}}
 * as Hugging Face's transformers writes it (modeling_utils.py). */
typedef struct {
    const char *name, *file;
} nninit_st_index_entry;

/*! nninit_st_index_write() : write the index atomically (as the writer).
 *  Errors: NULL, FORMAT (duplicate name), IO, NOMEM. */
NNINIT_API nninit_status nninit_st_index_write(const char *path, uint64_t total_size,
                                               const nninit_st_index_entry *entries, size_t n);

typedef struct nninit_st_index nninit_st_index;
/*! nninit_st_index_open() : read and validate an index (JSON object with
 *  metadata.total_size a non-negative integer and weight_map a map of
 *  strings, no duplicate names, file names without '/'). Errors: NULL, IO,
 *  FORMAT, NOMEM. */
NNINIT_API nninit_status nninit_st_index_open(const char *path, nninit_st_index **ix);
NNINIT_API void nninit_st_index_close(nninit_st_index *ix);
NNINIT_API uint64_t nninit_st_index_total_size(const nninit_st_index *ix);
NNINIT_API size_t nninit_st_index_count(const nninit_st_index *ix);
NNINIT_API const nninit_st_index_entry *nninit_st_index_at(const nninit_st_index *ix, size_t i);

/* ---- .npy files: the header, reading -------------------------------------
 *
 * NumPy's format (numpy/lib/format.py): the magic "\x93NUMPY", a version
 * byte pair (1.0, 2.0 or 3.0), the header's length (little-endian uint16 for
 * 1.0, uint32 for 2.0 and 3.0), the header: a Python dict literal
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (64, 3, 7, 7), }
 * padded with spaces and ended by '\n', then the raw data. nninit writes 1.0
 * with the data at a multiple of 64 bytes (nninit_npy_write, nninit_npy_header).
 *
 * Reading checks everything before returning: the magic and version; the
 * header's length (1 to NNINIT_NPY_MAX_HEADER bytes, inside the file); the
 * dict, parsed as the Python literal NumPy writes (quotes ' or ", spaces,
 * trailing commas, any key order) with exactly the keys descr,
 * fortran_order (True or False) and shape (a tuple of at most
 * NNINIT_MAX_DIMS integers >= 0, "(n,)" for one); spaces after it and '\n'
 * as its last byte; the product of the shape times the element size below
 * 2^63 (a 0 anywhere makes the array empty); and the data's size equal to
 * what the file holds after the header (a truncated file, or bytes after the
 * data, is FORMAT). descr: '<f4', '<f8', '<f2', and '<u2', which nninit
 * writes for bf16 (NumPy has no bfloat16): it reads as NNINIT_BF16 bit
 * patterns, and so does a NumPy uint16 array (the bytes are the same). Any
 * other descr (big-endian, integers, structured, objects) is DTYPE, its name
 * in the message. Data bytes are returned as they are in the file:
 * little-endian. */

#define NNINIT_NPY_MAX_HEADER 10000 /* NumPy's own limit (format.py _MAX_HEADER_SIZE) */
#define NNINIT_NPY_HEADER_MAX 256   /* bytes of the longest header nninit writes */

typedef struct {
    nninit_dtype dtype; /* '<f4' F32, '<f8' F64, '<f2' F16, '<u2' BF16 */
    char descr[4];      /* as in the file, NUL-terminated: "<f4" */
    int version;        /* 1, 2 or 3 (the minor version is 0) */
    int fortran_order;  /* 1: the data are column-major (NumPy's order='F'); nninit writes 0 */
    int ndim;           /* 0 (a scalar) .. NNINIT_MAX_DIMS */
    int64_t shape[NNINIT_MAX_DIMS];
    uint64_t numel;        /* product of the shape (1 for a scalar) */
    uint64_t header_bytes; /* where the data begin: magic, version, length, header */
    uint64_t data_bytes;   /* numel times the element size */
} nninit_npy_info;

/*! nninit_npy_header() : the .npy 1.0 header of an array (the bytes that
 *  nninit_npy_write writes before the data), for writers that place the data
 *  themselves: ndim 0..NNINIT_MAX_DIMS, each dimension >= 0 (0-D is a scalar,
 *  a 0 makes it empty). Into out[0, cap) (NNINIT_NPY_HEADER_MAX bytes always
 *  suffice); *len gets its length, a multiple of 64; *data_bytes (if not
 *  NULL) the data's size. Errors: NULL, SHAPE, DTYPE, OVERFLOW (2^63 bytes
 *  or more), PARAM (cap too small). */
NNINIT_API nninit_status nninit_npy_header(nninit_dtype dtype, int ndim, const int64_t *shape, unsigned char *out,
                                           size_t cap, size_t *len, uint64_t *data_bytes);

/*! nninit_npy_parse() : validate the first len bytes of a .npy file whose
 *  whole size is file_size (see above) into *info (untouched on error). buf
 *  holds at least the header: min(file_size, 12 + NNINIT_NPY_MAX_HEADER)
 *  bytes always do. For fuzzing and for readers of other transports.
 *  Errors: NULL, FORMAT, DTYPE. */
NNINIT_API nninit_status nninit_npy_parse(const unsigned char *buf, size_t len, uint64_t file_size,
                                          nninit_npy_info *info);

typedef struct nninit_npy_file nninit_npy_file;

/*! nninit_npy_open() : open and validate a .npy file; the data are read
 *  with nninit_npy_read. Errors: NULL, IO (cannot open or read, not a
 *  regular file: errno's text), FORMAT, DTYPE, NOMEM. */
NNINIT_API nninit_status nninit_npy_open(const char *path, nninit_npy_file **f);
/*! nninit_npy_file_info() : the header of an open file (NULL for NULL). */
NNINIT_API const nninit_npy_info *nninit_npy_file_info(const nninit_npy_file *f);
/*! nninit_npy_read() : bytes [off, off + bytes) of the data into out
 *  (pread: any piece, any order). Errors: NULL, SLICE (outside the data),
 *  IO (also: the file shrank). */
NNINIT_API nninit_status nninit_npy_read(const nninit_npy_file *f, uint64_t off, size_t bytes, void *out);
/*! nninit_npy_close() : closes f (NULL: no-op). */
NNINIT_API void nninit_npy_close(nninit_npy_file *f);

/*! nninit_npy_load() : the whole file: its header into *info and its data
 *  into *data (malloc'd, the caller frees; elements in the host's byte
 *  order). Errors: those of open and read, NOMEM. */
NNINIT_API nninit_status nninit_npy_load(const char *path, nninit_npy_info *info, void **data);

/* ---- .npz archives: NumPy's np.savez / np.load ---------------------------
 *
 * A ZIP archive (PKWARE APPNOTE.TXT 6.3) whose members are .npy files named
 * "<name>.npy"; np.load(path)[name] is the array.
 *
 * Writing is streaming and atomic, as nninit_st_writer: arrays are declared
 * up front (open) or one at a time (add), their data appended in
 * declaration order in pieces of any size; every member is stored
 * (ZIP_STORED, as np.savez), a .npy 1.0 as nninit_npy_header writes it, its
 * CRC-32 (zlib) patched into its local header when its last byte is in.
 * ZIP64 records are written where a size or offset passes 2^31 - 1 or
 * there are 65535 members or more (where Python's zipfile writes them), or
 * everywhere with opts.zip64. The archive is a temporary
 * (".<name>.nninit-tmp.<pid>.XXXXXX") fsync'd and renamed onto the path by
 * commit; any error removes it, so the path never holds a partial archive.
 * Timestamps are 1980-01-01 00:00: the bytes depend on the arrays alone.
 *
 * Reading validates the whole archive before returning it: the end of
 * central directory record (a comment allowed, ending the file) and, where
 * present, the ZIP64 end record and locator right before it; one disk; the
 * central directory ending where they begin; every entry: its extra fields
 * (ZIP64 sizes and offset where the 32-bit fields say 0xFFFFFFFF), not
 * encrypted, stored or deflated, a name ending in ".npy" without NUL bytes
 * (valid UTF-8 where flagged so), no two names alike; its local header with
 * the same name, flags, method and, unless a data descriptor follows
 * (bit 3, then checked too), the same CRC and sizes; the members and the
 * central directory tiling the file from byte 0 without gap or overlap;
 * every member's .npy header as nninit_npy_parse, its size, and its CRC-32
 * over every byte (deflated members are inflated whole: zlib). A bad archive
 * is FORMAT (a member of an unread dtype DTYPE), the member named. */

#define NNINIT_NPZ_MAX_NAME 1024 /* bytes of an array's name (without ".npy"), nninit's limit */

/* One array to write. */
typedef struct {
    const char *name; /* 1..NNINIT_NPZ_MAX_NAME bytes of UTF-8; the member is "<name>.npy" */
    nninit_dtype dtype;
    int ndim;                       /* 0 (a scalar) .. NNINIT_MAX_DIMS */
    int64_t shape[NNINIT_MAX_DIMS]; /* each >= 0 */
} nninit_npz_array;

typedef struct {
    int zip64; /* 1: ZIP64 records for every member and the end even where nothing needs
                  them (for tests of the ZIP64 path on small files) */
} nninit_npz_write_opts;

typedef struct nninit_npz_writer nninit_npz_writer;

/*! nninit_npz_writer_open() : start writing path: checks that it is absent
 *  or a regular file (else IO), creates the temporary, declares arrays[0, n)
 *  (n may be 0). opts NULL: defaults. Strings are copied. Errors: NULL, IO,
 *  NOMEM, and those of add (nothing is left then). */
NNINIT_API nninit_status nninit_npz_writer_open(nninit_npz_writer **w, const char *path, const nninit_npz_array *arrays,
                                                size_t n, const nninit_npz_write_opts *opts);
/*! nninit_npz_writer_add() : declare one more array, after those declared.
 *  Errors (the array is not added, w stays usable): NULL, FORMAT (empty,
 *  over-long or not UTF-8 name, or one declared before), SHAPE, DTYPE,
 *  OVERFLOW. */
NNINIT_API nninit_status nninit_npz_writer_add(nninit_npz_writer *w, const nninit_npz_array *a);
/*! nninit_npz_writer_append() : the next `bytes` bytes of data: the
 *  declared arrays' elements in declaration order, little-endian, any piece
 *  size (a piece may span arrays). Errors: NULL, IO (write failed, disk
 *  full), FORMAT (more bytes than the arrays declared so far hold); after
 *  one, w only fails and commit removes the temporary. */
NNINIT_API nninit_status nninit_npz_writer_append(nninit_npz_writer *w, const void *data, size_t bytes);
/*! nninit_npz_writer_commit() : checks that every declared array got all its
 *  bytes (else FORMAT, naming it), writes the central directory and the end
 *  records, fsyncs, renames onto the path, fsyncs the directory, frees w. On
 *  error the temporary is removed and w freed. */
NNINIT_API nninit_status nninit_npz_writer_commit(nninit_npz_writer *w);
/*! nninit_npz_writer_abort() : removes the temporary, frees w (NULL: no-op). */
NNINIT_API void nninit_npz_writer_abort(nninit_npz_writer *w);

/* One member of an archive read. */
typedef struct {
    const char *name;         /* the array's name: the member's without ".npy" */
    nninit_npy_info npy;      /* its .npy header (npy.header_bytes: where its data begin in the member) */
    int deflated;             /* 0: stored (np.savez), 1: deflated (np.savez_compressed) */
    uint64_t offset;          /* file offset of its local header */
    uint64_t compressed_size; /* bytes in the archive */
    uint64_t size;            /* bytes of the .npy: npy.header_bytes + npy.data_bytes */
    uint32_t crc32;
} nninit_npz_member;

typedef struct nninit_npz_file nninit_npz_file;

/*! nninit_npz_open() : open and validate an archive (see above; this reads
 *  it whole once, for the CRCs). Errors: NULL, IO, FORMAT, DTYPE, NOMEM. */
NNINIT_API nninit_status nninit_npz_open(const char *path, nninit_npz_file **f);
/*! nninit_npz_parse() : the same on an archive in memory, buf[0, len),
 *  which must stay unchanged until nninit_npz_close (reads come from it). */
NNINIT_API nninit_status nninit_npz_parse(const unsigned char *buf, size_t len, nninit_npz_file **f);
/*! nninit_npz_close() : (NULL: no-op). */
NNINIT_API void nninit_npz_close(nninit_npz_file *f);

/*! The members in archive order. Pointers stay valid until nninit_npz_close. */
NNINIT_API size_t nninit_npz_count(const nninit_npz_file *f);
NNINIT_API const nninit_npz_member *nninit_npz_member_at(const nninit_npz_file *f, size_t i);
/*! nninit_npz_find() : the member of array `name` (without ".npy"), or NULL. */
NNINIT_API const nninit_npz_member *nninit_npz_find(const nninit_npz_file *f, const char *name);

/*! nninit_npz_read() : bytes [off, off + bytes) of member m's array data
 *  into out, as in the file (little-endian). A stored member is read in
 *  place (pread); a deflated one is inflated from its start, or, when the
 *  previous read of f ended at or before off in the same member, from
 *  there: read such a member in ascending pieces. Errors: NULL, PARAM (m not
 *  of f), SLICE (outside the data), IO, FORMAT (the archive changed). */
NNINIT_API nninit_status nninit_npz_read(nninit_npz_file *f, const nninit_npz_member *m, uint64_t off, size_t bytes,
                                         void *out);

#ifdef __cplusplus
}
#endif

#endif

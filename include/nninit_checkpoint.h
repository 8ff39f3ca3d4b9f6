/*
 * nninit_checkpoint.h -- checkpoint files: safetensors (single file and
 * sharded with model.safetensors.index.json), read and written by libnninit.
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

#ifdef __cplusplus
}
#endif

#endif

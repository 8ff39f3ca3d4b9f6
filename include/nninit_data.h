/* nninit_data.h -- inputs for probes and training: IDX files (MNIST,
 * Fashion-MNIST), standardization, and synthetic Gaussian inputs. Part of the
 * engine (libnninit_engine); unstable API.
 *
 * IDX (Y. LeCun, http://yann.lecun.com/exdb/mnist/): a big-endian header
 *     magic u32   0x00000803 images (u8, 3 dims) / 0x00000801 labels (u8, 1 dim)
 *     dims  u32 x (magic & 0xff)   n, then rows, cols for images
 * then n*rows*cols (or n) unsigned bytes, row-major. The files are read
 * gzipped (.gz), as Debian's dataset-fashion-mnist ships them.
 *
 * Loaders allocate their outputs with malloc: release them with free(). On
 * failure nothing is allocated, the outputs are untouched, and the status is
 * NNINIT_ERR_IO (file missing, unreadable, not gzip, bad header, truncated,
 * trailing data, counts that disagree, labels outside 0..9), NNINIT_ERR_NULL
 * or NNINIT_ERR_NOMEM; nninit_last_error() names the file and the problem.
 */
#ifndef NNINIT_DATA_H
#define NNINIT_DATA_H

/* The engine's API is unstable (it may change in any 0.x release): a user
 * opts in by defining NNINIT_UNSTABLE_API, as zstd's ZSTD_STATIC_LINKING_ONLY.
 * The initializer layer (src/) must not depend on the engine. */
#if !defined(NNINIT_UNSTABLE_API)
#error "nninit_data.h is nninit's unstable engine API: #define NNINIT_UNSTABLE_API before including it"
#endif
#if defined(NNINIT_BUILD_INITIALIZER)
#error "the initializer layer (src/) must not include the engine's nninit_data.h"
#endif

#include <stdint.h>

#include "nninit.h"

#define NNINIT_IDX_MAGIC_IMAGES 0x00000803u
#define NNINIT_IDX_MAGIC_LABELS 0x00000801u

/* Where Debian's dataset-fashion-mnist package installs the four files. */
#define NNINIT_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/*! nninit_idx_load_images() : a gzipped IDX3 u8 image file as floats in
 *  [0, 1] (byte / 255), *out = n x (rows*cols), row-major. */
NNINIT_API nninit_status nninit_idx_load_images(const char *path, float **out, int *n, int *rows, int *cols);

/*! nninit_idx_load_labels() : a gzipped IDX1 u8 label file, *out = n bytes. */
NNINIT_API nninit_status nninit_idx_load_labels(const char *path, uint8_t **out, int *n);

/*! nninit_fashion_mnist_load() : the training (train != 0, 60000) or test
 *  (10000) split from dir (NULL: NNINIT_FASHION_MNIST_DIR), files
 *  {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz. *x = n x 784 floats in
 *  [0, 1], *y = n labels 0..9 as int. Checks 28x28 images, one label per
 *  image, labels in 0..9. A missing default file names the Debian package. */
NNINIT_API nninit_status nninit_fashion_mnist_load(const char *dir, int train, float **x, int **y, int *n);

/*! nninit_standardize() : x = (x - mean) / std over all n*d values (one
 *  mean and std for the whole data set, as torchvision's Normalize with
 *  scalars). mean or std NaN: computed from x (population std, in double).
 *  The values used are stored to *mean_used / *std_used when not NULL, so the
 *  test split can reuse the training split's. Errors: NULL, SHAPE (n or d < 1),
 *  PARAM (std not finite and > 0, or computed 0: constant data). */
NNINIT_API nninit_status nninit_standardize(float *x, int n, int d, double mean, double std, double *mean_used,
                                            double *std_used);

/*! nninit_inputs_gaussian() : x = n x d values, i.i.d. N(0, 1): nninit_fill
 *  of NORMAL(0, 1) on an (n, d) f32 tensor keyed nninit_key_from_name(seed,
 *  "inputs.gaussian"). Errors: NULL, SHAPE. */
NNINIT_API nninit_status nninit_inputs_gaussian(float *x, int n, int d, uint64_t seed);

/*! nninit_inputs_correlated_pair() : two inputs x[0..d) and x[d..2d) whose
 *  coordinates are pairs of N(0, 1) values with correlation c:
 *  u = z1, v = c z1 + sqrt(1 - c^2) z2, z = the (2, d) tensor of
 *  nninit_key_from_name(seed, "inputs.pair") (as nninit_inputs_gaussian).
 *  Errors: NULL, SHAPE (d < 1), PARAM (c outside [-1, 1] or NaN). */
NNINIT_API nninit_status nninit_inputs_correlated_pair(float *x, int d, double c, uint64_t seed);

#endif

"""libnninit through ctypes: finding and loading it, the C structs, the
prototypes, and C status codes turned into Python exceptions.

Every foreign call goes through a CDLL function, so ctypes releases the GIL
for its duration: other Python threads run while a tensor fills.

Where the library is looked for, first hit wins:
  1. $NNINIT_LIBRARY (a path to libnninit.so*);
  2. next to the package: nninit/libnninit.so* (a copy placed there);
  3. the library directory `make install` recorded (nninit/_install.py,
     written by python/CMakeLists.txt, relative to the package);
  4. the build tree, when the package is imported from a source checkout
     (<source>/python/nninit): $NNINIT_BUILD_DIR, then <source>/build;
  5. the system's library path (the dynamic loader: libnninit.so.0), then
     <sys.prefix>/lib and /usr/local/lib.
"""
import ctypes
import ctypes.util
import os
import sys

# The C API this module's structs and prototypes were written against
# (include/nninit.h NNINIT_VERSION_*): a library of another major.minor may
# lay its structs out differently, so it is refused at import.
ABI_MAJOR, ABI_MINOR = 0, 1

MAX_DIMS = 8
PARAM_NAME_MAX = 48
PRESET_MAX_PARAMS = 40
NO_PADDING_IDX = -(2**63)

# nninit_status, pinned values (include/nninit.h).
OK = 0
ERR_NULL, ERR_SHAPE, ERR_OVERFLOW, ERR_PARAM, ERR_RANGE, ERR_SPARSITY = 1, 2, 3, 4, 5, 6
ERR_NONLINEARITY, ERR_DIMS, ERR_GROUPS, ERR_DTYPE, ERR_NOT_REPRESENTABLE = 7, 8, 9, 10, 11
ERR_NOMEM, ERR_LAPACK, ERR_SLICE, ERR_NOT_ELEMENTWISE, ERR_LAYOUT, ERR_IO = 12, 13, 14, 15, 16, 17
ERR_UNKNOWN_NAME, ERR_DIVERGED, ERR_ARCH, ERR_FORMAT = 18, 19, 20, 21

# nninit_dtype
F32, F64, BF16, F16 = 0, 1, 2, 3
DTYPE_NAMES = {F32: "f32", F64: "f64", BF16: "bf16", F16: "f16"}

# nninit_layout
LAYOUT_OIHW, LAYOUT_HWIO, LAYOUT_IOHW, LAYOUT_EMBEDDING, LAYOUT_CUSTOM = 0, 1, 2, 3, 4
LAYOUT_GROUPED_FAN_OUT = 1

# nninit_st_dtype
(ST_F32, ST_F64, ST_BF16, ST_F16, ST_I8, ST_U8, ST_I16, ST_U16, ST_I32, ST_U32, ST_I64, ST_U64, ST_BOOL,
 ST_F8_E4M3, ST_F8_E5M2, ST_DTYPE_COUNT) = range(16)

# nninit_scheme, in enum order; the names are nninit_scheme_name()'s.
SCHEMES = ("zeros", "ones", "constant", "uniform", "normal", "trunc_normal", "trunc_normal_std", "xavier_uniform",
           "xavier_normal", "kaiming_uniform", "kaiming_normal", "lecun_uniform", "lecun_normal",
           "variance_scaling", "orthogonal", "sparse", "eye", "dirac", "delta_orthogonal")


class Error(Exception):
    """A failure reported by libnninit. `status` is the C status name
    ("NNINIT_ERR_RANGE"); the message is nninit_last_error()'s. Every error
    is also the built-in exception of its kind (ValueError, TypeError,
    MemoryError, OSError, RuntimeError), so either can be caught."""

    status = None


def _error_class(base):
    return type(base.__name__, (Error, base), {"__module__": "nninit"})


ValueError_ = _error_class(ValueError)
TypeError_ = _error_class(TypeError)
MemoryError_ = _error_class(MemoryError)
OSError_ = _error_class(OSError)
RuntimeError_ = _error_class(RuntimeError)

_KIND = {ERR_DTYPE: TypeError_, ERR_NOMEM: MemoryError_, ERR_IO: OSError_, ERR_LAPACK: RuntimeError_,
         ERR_ARCH: RuntimeError_, ERR_DIVERGED: RuntimeError_}


# --- structs (include/nninit.h, nninit_presets.h, nninit_checkpoint.h, nninit_model.h) ---

class Tensor(ctypes.Structure):
    _fields_ = [("ndim", ctypes.c_int), ("shape", ctypes.c_int64 * MAX_DIMS), ("dtype", ctypes.c_int),
                ("layout", ctypes.c_int), ("in_axis", ctypes.c_int), ("out_axis", ctypes.c_int),
                ("groups", ctypes.c_int64), ("flags", ctypes.c_uint)]


class Spec(ctypes.Structure):
    _fields_ = [("scheme", ctypes.c_int), ("value", ctypes.c_double), ("a", ctypes.c_double),
                ("b", ctypes.c_double), ("mean", ctypes.c_double), ("std", ctypes.c_double),
                ("gain", ctypes.c_double), ("slope", ctypes.c_double), ("mode", ctypes.c_int),
                ("nonlinearity", ctypes.c_int), ("scale", ctypes.c_double), ("distribution", ctypes.c_int),
                ("sparsity", ctypes.c_double), ("groups", ctypes.c_int64)]


class Info(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("has_fans", ctypes.c_int)] + [
        (n, ctypes.c_double)
        for n in ("fan_in", "fan_out", "fan", "gain", "mean", "std", "bound", "lo", "hi", "variance")]


class Key(ctypes.Structure):
    _fields_ = [("seed", ctypes.c_uint64), ("id", ctypes.c_uint64)]


class Layer(ctypes.Structure):
    _fields_ = [("in_", ctypes.c_int64), ("out", ctypes.c_int64), ("kernel", ctypes.c_int64 * 3),
                ("groups", ctypes.c_int64), ("bias", ctypes.c_int), ("num_layers", ctypes.c_int),
                ("bidirectional", ctypes.c_int), ("proj_size", ctypes.c_int64), ("padding_idx", ctypes.c_int64),
                ("num_heads", ctypes.c_int64), ("add_bias_kv", ctypes.c_int), ("dtype", ctypes.c_int)]


class Param(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * PARAM_NAME_MAX), ("tensor", Tensor), ("spec", Spec),
                ("zero_row", ctypes.c_int64)]


class StTensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("ndim", ctypes.c_int),
                ("shape", ctypes.c_int64 * MAX_DIMS), ("begin", ctypes.c_uint64), ("end", ctypes.c_uint64)]


class StMeta(ctypes.Structure):
    _fields_ = [("key", ctypes.c_char_p), ("value", ctypes.c_char_p)]


class StIndexEntry(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("file", ctypes.c_char_p)]


class ModelTensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("tensor", Tensor), ("spec", Spec), ("rule", ctypes.c_int),
                ("padding_idx", ctypes.c_int64), ("init", ctypes.c_char_p), ("dtype", ctypes.c_int),
                ("fans_of", ctypes.c_char_p)]


class ModelRule(ctypes.Structure):
    _fields_ = [("match", ctypes.c_char_p), ("init", ctypes.c_char_p), ("source", ctypes.c_char_p),
                ("padding_idx", ctypes.c_int64), ("uses", ctypes.c_int), ("fans_of", ctypes.c_char_p)]


PROGRESS = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64)


class ModelWriteOpts(ctypes.Structure):
    _fields_ = [("max_shard_bytes", ctypes.c_uint64), ("threads", ctypes.c_int), ("chunk_bytes", ctypes.c_size_t),
                ("progress", PROGRESS), ("progress_ctx", ctypes.c_void_p), ("sink", ctypes.c_void_p),
                ("sink_ctx", ctypes.c_void_p), ("part", ctypes.c_int), ("parts", ctypes.c_int)]


# include/nninit_torch.h: PyTorch's CPU generator (the torch stream).
TORCH_STATE_SIZE = 5056  # NNINIT_TORCH_STATE_SIZE: bytes of torch.get_rng_state()
TORCH_CPU_AVX2, TORCH_CPU_DEFAULT = 0, 1  # nninit_torch_cpu


class TorchGen(ctypes.Structure):
    """nninit_torch_gen (2536 bytes, fixed layout)."""
    _fields_ = [("seed", ctypes.c_uint64), ("next_double_normal", ctypes.c_double), ("state", ctypes.c_uint32 * 624),
                ("left", ctypes.c_uint32), ("next", ctypes.c_uint32), ("has_next_double_normal", ctypes.c_int32),
                ("next_float_normal", ctypes.c_float), ("has_next_float_normal", ctypes.c_int32),
                ("cpu", ctypes.c_int32)]


# --- finding the library ---

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def _candidates():
    """(where, path) pairs in search order; path None means the loader's own search."""
    env = os.environ.get("NNINIT_LIBRARY")
    if env:
        yield "NNINIT_LIBRARY", env
        return
    for name in ("libnninit.so", "libnninit.so.0"):
        yield "next to the package", os.path.join(_PKG_DIR, name)
    try:
        from . import _install  # written by `make install` (python/CMakeLists.txt)
        libdir = _install.LIBDIR
        if not os.path.isabs(libdir):
            libdir = os.path.normpath(os.path.join(_PKG_DIR, libdir))
        yield "the installed library directory", os.path.join(libdir, "libnninit.so.0")
    except ImportError:
        pass
    src = os.path.dirname(os.path.dirname(_PKG_DIR))  # <source>/python/nninit -> <source>
    if os.path.isfile(os.path.join(src, "include", "nninit.h")):
        bd = os.environ.get("NNINIT_BUILD_DIR")
        if bd:
            yield "$NNINIT_BUILD_DIR", os.path.join(bd, "libnninit.so")
        yield "the build tree", os.path.join(src, "build", "libnninit.so")
    yield "the system library path", None
    for d in (os.path.join(sys.prefix, "lib"), "/usr/local/lib"):
        yield "a prefix", os.path.join(d, "libnninit.so.0")


def _load():
    tried = []
    for where, path in _candidates():
        if path is None:
            found = ctypes.util.find_library("nninit")
            names = ["libnninit.so.0"] + ([found] if found else [])
            for n in names:
                try:
                    return ctypes.CDLL(n), n
                except OSError as e:
                    tried.append("%s (%s): %s" % (n, where, e))
            continue
        if where != "NNINIT_LIBRARY" and not os.path.exists(path):
            tried.append("%s (%s): absent" % (path, where))
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s): %s" % (path, where, e))
            if where == "NNINIT_LIBRARY":
                break
    raise ImportError("nninit: cannot load libnninit; set NNINIT_LIBRARY to its path. Tried:\n  " +
                      "\n  ".join(tried))


lib, LIBRARY_PATH = _load()

_c = ctypes
_P = ctypes.POINTER
_i64p = _P(_c.c_int64)
_PROTOTYPES = {
    "nninit_version_string": (_c.c_char_p, []),
    "nninit_version_number": (_c.c_uint, []),
    "nninit_status_str": (_c.c_char_p, [_c.c_int]),
    "nninit_last_error": (_c.c_char_p, []),
    "nninit_arch_name": (_c.c_char_p, []),
    "nninit_spec_default": (Spec, [_c.c_int]),
    "nninit_spec_parse": (_c.c_int, [_c.c_char_p, _P(Spec)]),
    "nninit_spec_format": (_c.c_int, [_P(Spec), _c.c_char_p, _c.c_size_t]),
    "nninit_spec_param_count": (_c.c_int, []),
    "nninit_spec_param_name": (_c.c_char_p, [_c.c_int]),
    "nninit_scheme_takes_param": (_c.c_int, [_c.c_int, _c.c_char_p]),
    "nninit_scheme_uses_fans": (_c.c_int, [_c.c_int]),
    "nninit_scheme_is_elementwise": (_c.c_int, [_c.c_int]),
    "nninit_scheme_name": (_c.c_char_p, [_c.c_int]),
    "nninit_scheme_formula": (_c.c_char_p, [_c.c_int]),
    "nninit_scheme_parse": (_c.c_int, [_c.c_char_p, _P(_c.c_int)]),
    "nninit_nonlinearity_parse": (_c.c_int, [_c.c_char_p, _P(_c.c_int)]),
    "nninit_nonlinearity_name": (_c.c_char_p, [_c.c_int]),
    "nninit_mode_parse": (_c.c_int, [_c.c_char_p, _P(_c.c_int)]),
    "nninit_mode_name": (_c.c_char_p, [_c.c_int]),
    "nninit_distribution_parse": (_c.c_int, [_c.c_char_p, _P(_c.c_int)]),
    "nninit_distribution_name": (_c.c_char_p, [_c.c_int]),
    "nninit_layout_parse": (_c.c_int, [_c.c_char_p, _P(_c.c_int)]),
    "nninit_dtype_parse": (_c.c_int, [_c.c_char_p, _P(_c.c_int)]),
    "nninit_calculate_gain": (_c.c_int, [_c.c_int, _c.c_double, _P(_c.c_double)]),
    "nninit_key_from_name": (Key, [_c.c_uint64, _c.c_char_p]),
    "nninit_key_make": (Key, [_c.c_uint64, _c.c_uint64]),
    "nninit_hash_name": (_c.c_uint64, [_c.c_char_p]),
    "nninit_explain": (_c.c_int, [_P(Spec), _P(Tensor), _P(Info)]),
    "nninit_fans": (_c.c_int, [_P(Tensor), _P(_c.c_double), _P(_c.c_double)]),
    "nninit_spec_resolve_fans": (_c.c_int, [_P(Spec), _P(Tensor), _P(Spec)]),
    "nninit_fill_threads": (_c.c_int, [_P(Spec), _P(Tensor), Key, _c.c_void_p, _c.c_int]),
    "nninit_fill_box_threads": (_c.c_int, [_P(Spec), _P(Tensor), Key, _i64p, _i64p, _c.c_void_p, _c.c_int]),
    "nninit_layer_default": (Layer, []),
    "nninit_preset_parse": (_c.c_int, [_c.c_char_p, _P(_c.c_char_p), _P(Layer)]),
    "nninit_preset_params": (_c.c_int, [_c.c_char_p, _P(Layer), _P(Param), _c.c_int, _P(_c.c_int)]),
    "nninit_preset_count": (_c.c_int, []),
    "nninit_preset_name": (_c.c_char_p, [_c.c_int]),
    "nninit_st_dtype_name": (_c.c_char_p, [_c.c_int]),
    "nninit_st_dtype_size": (_c.c_size_t, [_c.c_int]),
    "nninit_st_writer_open": (_c.c_int, [_P(_c.c_void_p), _c.c_char_p, _P(StTensor), _c.c_size_t, _P(StMeta),
                                         _c.c_size_t]),
    "nninit_st_writer_append": (_c.c_int, [_c.c_void_p, _c.c_void_p, _c.c_size_t]),
    "nninit_st_writer_commit": (_c.c_int, [_c.c_void_p]),
    "nninit_st_writer_abort": (None, [_c.c_void_p]),
    "nninit_st_open": (_c.c_int, [_c.c_char_p, _P(_c.c_void_p)]),
    "nninit_st_close": (None, [_c.c_void_p]),
    "nninit_st_count": (_c.c_size_t, [_c.c_void_p]),
    "nninit_st_tensor_at": (_P(StTensor), [_c.c_void_p, _c.c_size_t]),
    "nninit_st_meta_count": (_c.c_size_t, [_c.c_void_p]),
    "nninit_st_meta_at": (_P(StMeta), [_c.c_void_p, _c.c_size_t]),
    "nninit_st_read": (_c.c_int, [_c.c_void_p, _P(StTensor), _c.c_uint64, _c.c_size_t, _c.c_void_p]),
    "nninit_st_index_open": (_c.c_int, [_c.c_char_p, _P(_c.c_void_p)]),
    "nninit_st_index_close": (None, [_c.c_void_p]),
    "nninit_st_index_count": (_c.c_size_t, [_c.c_void_p]),
    "nninit_st_index_at": (_P(StIndexEntry), [_c.c_void_p, _c.c_size_t]),
    "nninit_model_recipe_count": (_c.c_int, []),
    "nninit_model_recipe_name": (_c.c_char_p, [_c.c_int]),
    "nninit_model_recipe_about": (_c.c_char_p, [_c.c_int]),
    "nninit_model_recipe_settings": (_c.c_char_p, [_c.c_int]),
    "nninit_model_recipe": (_c.c_int, [_c.c_char_p, _P(_c.c_char_p), _c.c_size_t, _P(_c.c_void_p)]),
    "nninit_model_free": (None, [_c.c_void_p]),
    "nninit_model_set_dtype": (_c.c_int, [_c.c_void_p, _c.c_int]),
    "nninit_model_resolve": (_c.c_int, [_c.c_void_p]),
    "nninit_model_count": (_c.c_size_t, [_c.c_void_p]),
    "nninit_model_tensor_at": (_P(ModelTensor), [_c.c_void_p, _c.c_size_t]),
    "nninit_model_rule_count": (_c.c_size_t, [_c.c_void_p]),
    "nninit_model_rule_at": (_P(ModelRule), [_c.c_void_p, _c.c_size_t]),
    "nninit_model_tensor_numel": (_c.c_int64, [_P(ModelTensor)]),
    "nninit_model_tensor_bytes": (_c.c_uint64, [_P(ModelTensor)]),
    "nninit_model_dtype_parse": (_c.c_int, [_c.c_char_p, _P(_c.c_int)]),
    "nninit_model_dtype_name": (_c.c_char_p, [_c.c_int]),
    "nninit_model_fill": (_c.c_int, [_c.c_void_p, _c.c_size_t, _c.c_uint64, _c.c_int64, _c.c_int64, _c.c_void_p,
                                     _c.c_int]),
    "nninit_model_write": (_c.c_int, [_c.c_void_p, _c.c_uint64, _c.c_char_p, _P(ModelWriteOpts),
                                      _P(_c.c_uint64)]),
    # include/nninit_torch.h
    "nninit_torch_gen_init": (_c.c_int, [_P(TorchGen), _c.c_uint64]),
    "nninit_torch_gen_set_cpu": (_c.c_int, [_P(TorchGen), _c.c_int]),
    "nninit_torch_gen_get_state": (_c.c_int, [_P(TorchGen), _c.c_void_p, _c.c_size_t]),
    "nninit_torch_gen_set_state": (_c.c_int, [_P(TorchGen), _c.c_void_p, _c.c_size_t]),
    "nninit_torch_random": (_c.c_int, [_P(TorchGen), _c.c_void_p, _c.c_int64]),
    "nninit_torch_uniform": (_c.c_int, [_P(TorchGen), _c.c_int, _c.c_void_p, _c.c_int64, _c.c_double, _c.c_double]),
    "nninit_torch_normal": (_c.c_int, [_P(TorchGen), _c.c_int, _c.c_void_p, _c.c_int64, _c.c_double, _c.c_double]),
    "nninit_torch_trunc_normal": (_c.c_int, [_P(TorchGen), _c.c_int, _c.c_void_p, _c.c_int64, _c.c_double,
                                             _c.c_double, _c.c_double, _c.c_double]),
    "nninit_torch_kaiming_uniform": (_c.c_int, [_P(TorchGen), _c.c_int, _c.c_void_p, _c.c_int, _i64p, _c.c_double,
                                                _c.c_int, _c.c_int]),
    "nninit_torch_kaiming_normal": (_c.c_int, [_P(TorchGen), _c.c_int, _c.c_void_p, _c.c_int, _i64p, _c.c_double,
                                               _c.c_int, _c.c_int]),
    "nninit_torch_xavier_uniform": (_c.c_int, [_P(TorchGen), _c.c_int, _c.c_void_p, _c.c_int, _i64p, _c.c_double]),
    "nninit_torch_xavier_normal": (_c.c_int, [_P(TorchGen), _c.c_int, _c.c_void_p, _c.c_int, _i64p, _c.c_double]),
    "nninit_torch_linear": (_c.c_int, [_P(TorchGen), _c.c_int, _c.c_int64, _c.c_int64, _c.c_int, _c.c_void_p,
                                       _c.c_void_p]),
    "nninit_torch_conv": (_c.c_int, [_P(TorchGen), _c.c_int, _c.c_int64, _c.c_int64, _c.c_int64, _c.c_int, _i64p,
                                     _c.c_int, _c.c_void_p, _c.c_void_p]),
}
for _name, (_res, _args) in _PROTOTYPES.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

_v = lib.nninit_version_number()
if (_v // 10000, _v // 100 % 100) != (ABI_MAJOR, ABI_MINOR):
    raise ImportError("nninit: %s is libnninit %s; this package speaks the C API %d.%d" %
                      (LIBRARY_PATH, lib.nninit_version_string().decode(), ABI_MAJOR, ABI_MINOR))


def last_error():
    return lib.nninit_last_error().decode("utf-8", "replace")


def fail(status, prefix=None):
    """The exception for a C status, with nninit_last_error()'s message."""
    msg = last_error() or lib.nninit_status_str(status).decode()
    if prefix:
        msg = "%s: %s" % (prefix, msg)
    e = _KIND.get(status, ValueError_)(msg)
    e.status = lib.nninit_status_str(status).decode()
    return e


def check(status, prefix=None):
    if status != OK:
        raise fail(status, prefix)


def encode(s, what):
    if not isinstance(s, str):
        raise TypeError("%s must be a str, not %s" % (what, type(s).__name__))
    b = s.encode("utf-8")
    if b"\0" in b:
        raise ValueError("%s contains a NUL character" % what)
    return b

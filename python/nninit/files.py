"""Checkpoints through libnninit's safetensors reader and writer
(include/nninit_checkpoint.h) and its built-in recipes
(include/nninit_model.h): the files are the CLI's, byte for byte.

NumPy has no bfloat16: a BF16 tensor reads as uint16 bit patterns with
framework="numpy" (as `nninit fill --dtype bf16` writes .npy files), as
torch.bfloat16 with framework="torch"; a torch.bfloat16 tensor writes as
BF16, a NumPy uint16 array as U16.
"""
import collections.abc
import ctypes
import numbers
import os
import re

import numpy as np

from . import _arrays, _core, _lib

lib = _lib.lib

_ST_NUMPY = {_lib.ST_F32: "<f4", _lib.ST_F64: "<f8", _lib.ST_BF16: "<u2", _lib.ST_F16: "<f2", _lib.ST_I8: "i1",
             _lib.ST_U8: "u1", _lib.ST_I16: "<i2", _lib.ST_U16: "<u2", _lib.ST_I32: "<i4", _lib.ST_U32: "<u4",
             _lib.ST_I64: "<i8", _lib.ST_U64: "<u8", _lib.ST_BOOL: "?", _lib.ST_F8_E4M3: "u1",
             _lib.ST_F8_E5M2: "u1"}
_NUMPY_ST = {np.dtype("<f4"): _lib.ST_F32, np.dtype("<f8"): _lib.ST_F64, np.dtype("<f2"): _lib.ST_F16,
             np.dtype("i1"): _lib.ST_I8, np.dtype("u1"): _lib.ST_U8, np.dtype("<i2"): _lib.ST_I16,
             np.dtype("<u2"): _lib.ST_U16, np.dtype("<i4"): _lib.ST_I32, np.dtype("<u4"): _lib.ST_U32,
             np.dtype("<i8"): _lib.ST_I64, np.dtype("<u8"): _lib.ST_U64, np.dtype("?"): _lib.ST_BOOL}


def _st_name(d):
    return lib.nninit_st_dtype_name(d).decode()


def _torch_st(torch):
    return {torch.float32: _lib.ST_F32, torch.float64: _lib.ST_F64, torch.float16: _lib.ST_F16,
            torch.bfloat16: _lib.ST_BF16, torch.int8: _lib.ST_I8, torch.uint8: _lib.ST_U8, torch.int16: _lib.ST_I16,
            torch.int32: _lib.ST_I32, torch.int64: _lib.ST_I64, torch.bool: _lib.ST_BOOL}


def _framework(framework, func):
    if framework in ("numpy", "np"):
        return "numpy"
    if framework in ("torch", "pt"):
        return "torch"
    raise ValueError("%s: framework must be 'numpy' or 'torch', not %r" % (func, framework))


def _to_framework(a, st, name, framework, func):
    """NumPy array a (the file's dtype st) as the framework wants it."""
    if framework == "numpy":
        return a
    import torch
    if st == _lib.ST_BF16:
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    if st in (_lib.ST_U16, _lib.ST_U32, _lib.ST_U64, _lib.ST_F8_E4M3, _lib.ST_F8_E5M2):
        raise TypeError("%s: tensor '%s' is %s, which torch %s has no dtype for (read it with framework='numpy')" %
                        (func, name, _st_name(st), torch.__version__))
    return torch.from_numpy(a)


def _path(path, func):
    return _lib.encode(os.fspath(path), func + ": path")


def _read_file(path, framework, func, want=None):
    f = ctypes.c_void_p()
    _lib.check(lib.nninit_st_open(_path(path, func), ctypes.byref(f)), func)
    try:
        out = {}
        for i in range(lib.nninit_st_count(f)):
            tp = lib.nninit_st_tensor_at(f, i)
            t = tp.contents
            name = t.name.decode("utf-8")
            if want is not None and name not in want:
                continue
            shape = tuple(t.shape[d] for d in range(t.ndim))
            a = np.empty(shape, dtype=_ST_NUMPY[t.dtype])
            n = t.end - t.begin
            if n:
                _lib.check(lib.nninit_st_read(f, tp, 0, n, ctypes.c_void_p(a.__array_interface__["data"][0])),
                           "%s: '%s'" % (func, name))
            out[name] = _to_framework(a, t.dtype, name, framework, func)
        return out
    finally:
        lib.nninit_st_close(f)


def load_safetensors(path, *, framework="numpy"):
    """Every tensor of a safetensors file, validated by libnninit's reader,
    as a dict name -> array in file order; path may also be a sharded
    checkpoint's model.safetensors.index.json (its shards, index order)."""
    func = "load_safetensors"
    framework = _framework(framework, func)
    p = os.fspath(path)
    if not p.endswith(".index.json"):
        return _read_file(p, framework, func)
    ix = ctypes.c_void_p()
    _lib.check(lib.nninit_st_index_open(_path(p, func), ctypes.byref(ix)), func)
    try:
        entries = []
        for i in range(lib.nninit_st_index_count(ix)):
            e = lib.nninit_st_index_at(ix, i).contents
            entries.append((e.name.decode("utf-8"), e.file.decode("utf-8")))
    finally:
        lib.nninit_st_index_close(ix)
    files = {}
    for name, file in entries:
        files.setdefault(file, set()).add(name)
    loaded = {}
    for file, names in files.items():
        got = _read_file(os.path.join(os.path.dirname(p), file), framework, func, names)
        absent = sorted(names - set(got))
        if absent:
            raise _lib.ValueError_("%s: %s lists %s in %s, which does not hold it" % (func, p, absent[0], file))
        loaded.update(got)
    return {name: loaded[name] for name, _ in entries}


def safetensors_metadata(path):
    """The __metadata__ of a safetensors file as a dict of strings."""
    f = ctypes.c_void_p()
    _lib.check(lib.nninit_st_open(_path(path, "safetensors_metadata"), ctypes.byref(f)), "safetensors_metadata")
    try:
        out = {}
        for i in range(lib.nninit_st_meta_count(f)):
            m = lib.nninit_st_meta_at(f, i).contents
            out[m.key.decode("utf-8")] = m.value.decode("utf-8")
        return out
    finally:
        lib.nninit_st_close(f)


def _as_bytes(name, x, func):
    """(st dtype, shape, a contiguous NumPy array holding x's bytes)."""
    if _arrays.is_torch(x):
        import torch
        dts = _torch_st(torch)
        if x.dtype not in dts:
            raise TypeError("%s: tensor '%s': torch dtype %s has no safetensors dtype nninit writes" %
                            (func, name, str(x.dtype).replace("torch.", "")))
        st = dts[x.dtype]
        x = x.detach().cpu().contiguous()
        a = (x.view(torch.int16) if st == _lib.ST_BF16 else x).numpy()
        return st, tuple(x.shape), a
    if not isinstance(x, np.ndarray):
        raise TypeError("%s: tensor '%s' is a %s, not a numpy.ndarray or torch.Tensor" % (func, name, type(x).__name__))
    d = x.dtype.newbyteorder("<") if x.dtype.byteorder in "=>" and x.dtype.itemsize > 1 else x.dtype
    if d not in _NUMPY_ST:
        raise TypeError("%s: tensor '%s': dtype %s has no safetensors dtype nninit writes" % (func, name, x.dtype))
    return _NUMPY_ST[d], x.shape, np.ascontiguousarray(x, dtype=d)


def save_safetensors(tensors, path, *, metadata=None):
    """Write tensors (a mapping name -> NumPy array or torch tensor, in its
    order) as a safetensors file through libnninit's writer: atomically (a
    temporary renamed into place; never a partial file), metadata (a dict of
    strings) as __metadata__. Non-contiguous inputs are written as their
    C-order copies. Returns the file's size in bytes."""
    func = "save_safetensors"
    if not isinstance(tensors, collections.abc.Mapping):
        raise TypeError("%s: tensors must be a mapping name -> array, not %s" % (func, type(tensors).__name__))
    items = []
    for name, x in tensors.items():
        if not isinstance(name, str):
            raise TypeError("%s: tensor names must be str, not %s" % (func, type(name).__name__))
        st, shape, a = _as_bytes(name, x, func)
        if len(shape) > _lib.MAX_DIMS:
            raise ValueError("%s: tensor '%s' has %d dimensions, more than %d" % (func, name, len(shape),
                                                                                  _lib.MAX_DIMS))
        items.append((_lib.encode(name, func + ": name"), st, shape, a))
    meta = dict(metadata or {})
    for k, v in meta.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError("%s: metadata must map str to str" % func)
    sts = (_lib.StTensor * max(len(items), 1))()
    for i, (name, st, shape, _) in enumerate(items):
        sts[i].name, sts[i].dtype, sts[i].ndim = name, st, len(shape)
        for d, n in enumerate(shape):
            sts[i].shape[d] = n
    metas = (_lib.StMeta * max(len(meta), 1))()
    keep = []
    for i, (k, v) in enumerate(meta.items()):
        kb, vb = _lib.encode(k, func + ": metadata key"), _lib.encode(v, func + ": metadata value")
        keep += [kb, vb]
        metas[i].key, metas[i].value = kb, vb
    w = ctypes.c_void_p()
    _lib.check(lib.nninit_st_writer_open(ctypes.byref(w), _path(path, func), sts, len(items), metas, len(meta)), func)
    try:
        for name, _, _, a in items:
            if a.nbytes:
                _lib.check(lib.nninit_st_writer_append(w, ctypes.c_void_p(a.__array_interface__["data"][0]),
                                                       a.nbytes), "%s: '%s'" % (func, name.decode()))
    except BaseException:
        lib.nninit_st_writer_abort(w)
        raise
    _lib.check(lib.nninit_st_writer_commit(w), func)
    return os.path.getsize(os.fspath(path))


# ---- recipes ---------------------------------------------------------------------------------------------------


def recipes():
    """The built-in recipes: a list of dicts name, about, settings (with
    their defaults)."""
    return [{"name": lib.nninit_model_recipe_name(i).decode(), "about": lib.nninit_model_recipe_about(i).decode(),
             "settings": lib.nninit_model_recipe_settings(i).decode()} for i in range(lib.nninit_model_recipe_count())]


def _settings(settings, func):
    if settings is None:
        return []
    if isinstance(settings, str):
        raise TypeError("%s: settings must be a mapping {'n_layer': 12} or a list of 'n_layer=12' strings, not a "
                        "str" % func)
    if isinstance(settings, collections.abc.Mapping):
        out = []
        for k, v in settings.items():
            if isinstance(v, bool):
                v = int(v)
            out.append("%s=%s" % (k, v))
        return out
    return [s for s in settings]


class _Model:
    """A resolved nninit_model of a recipe, freed on exit."""

    def __init__(self, name, settings, dtype, func):
        sets = _settings(settings, func)
        arr = (ctypes.c_char_p * max(len(sets), 1))(*[_lib.encode(s, func + ": setting") for s in sets])
        self.m = ctypes.c_void_p()
        _lib.check(lib.nninit_model_recipe(_lib.encode(name, func + ": recipe"), arr, len(sets),
                                           ctypes.byref(self.m)), func)
        try:
            if dtype is not None:
                _lib.check(lib.nninit_model_set_dtype(self.m, _arrays.parse_dtype(dtype, func)), func)
                _lib.check(lib.nninit_model_resolve(self.m), func)
        except BaseException:
            lib.nninit_model_free(self.m)
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        lib.nninit_model_free(self.m)

    def tensors(self):
        return [lib.nninit_model_tensor_at(self.m, i) for i in range(lib.nninit_model_count(self.m))]


def recipe_tensors(name, settings=None, *, dtype=None):
    """The tensors of recipe `name` with settings, drawing nothing: a list of
    dicts name, shape, dtype (as stored: f32, bf16, i64, ...), init (the
    canonical scheme text), fans_of, padding_idx (None if none), source (of
    the rule)."""
    func = "recipe_tensors"
    with _Model(name, settings, dtype, func) as m:
        out = []
        for tp in m.tensors():
            t = tp.contents
            rule = lib.nninit_model_rule_at(m.m, t.rule).contents
            out.append({"name": t.name.decode(), "shape": tuple(t.tensor.shape[d] for d in range(t.tensor.ndim)),
                        "dtype": lib.nninit_model_dtype_name(t.dtype).decode(), "init": t.init.decode(),
                        "fans_of": t.fans_of.decode() if t.fans_of else None,
                        "padding_idx": t.padding_idx if t.padding_idx >= 0 else None,
                        "source": rule.source.decode() if rule.source else None})
        return out


def recipe(name, settings=None, *, seed=0, dtype=None, framework="numpy", threads=None):
    """Every tensor of recipe `name` filled in memory, as a dict name ->
    array: the values `nninit checkpoint --recipe name --seed seed` writes."""
    func = "recipe"
    framework = _framework(framework, func)
    k = _core.make_key(seed, "", func)  # checks seed
    nthreads = _core.make_threads(threads, func)
    out = {}
    with _Model(name, settings, dtype, func) as m:
        for i, tp in enumerate(m.tensors()):
            t = tp.contents
            tname = t.name.decode()
            a = np.empty(tuple(t.tensor.shape[d] for d in range(t.tensor.ndim)), dtype=_ST_NUMPY[t.dtype])
            _lib.check(lib.nninit_model_fill(m.m, i, k.seed, 0, lib.nninit_model_tensor_numel(tp),
                                             ctypes.c_void_p(a.__array_interface__["data"][0]), nthreads),
                       "%s: '%s'" % (func, tname))
            out[tname] = _to_framework(a, t.dtype, tname, framework, func)
    return out


_UNITS = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KiB": 1024.0, "MiB": 1048576.0,
          "GiB": 1073741824.0, "TiB": 1099511627776.0}


def _shard_bytes(size, func):
    """max_shard_size: bytes (an int) or the CLI's text ("5GB", "500MB", "2GiB")."""
    if size is None:
        return 0
    if isinstance(size, bool):
        raise TypeError("%s: max_shard_size must be an int or a str such as '5GB'" % func)
    if isinstance(size, numbers.Integral):
        if not 1 <= size < 2**64:
            raise ValueError("%s: max_shard_size %d must be in 1..2^64-1 bytes" % (func, size))
        return int(size)
    if isinstance(size, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)([A-Za-z]*)", size)
        if m and m.group(2) in _UNITS:
            b = float(m.group(1)) * _UNITS[m.group(2)]
            if 1 <= b <= 1.8e19:
                return int(b)
        raise ValueError("%s: max_shard_size '%s': a size such as 5GB, 500MB, 2GiB or bytes" % (func, size))
    raise TypeError("%s: max_shard_size must be an int or a str such as '5GB', not %s" % (func, type(size).__name__))


def checkpoint(recipe, path, settings=None, *, seed=0, dtype=None, max_shard_size=None, threads=None, progress=None):
    """Write recipe `recipe` with settings (a mapping {"n_layer": 2} or
    "n_layer=2" strings) as a safetensors checkpoint at path, as `nninit
    checkpoint --recipe R --set K=V ... --seed S [--dtype D]
    [--max-shard-size SIZE] -o path` writes it (the same bytes; `nninit
    verify` recomputes it). progress: called as progress(done, total) in
    bytes of tensor data. Returns the bytes of tensor data written (all
    shards; headers and the index not counted)."""
    func = "checkpoint"
    k = _core.make_key(seed, "", func)
    opts = _lib.ModelWriteOpts()
    opts.max_shard_bytes = _shard_bytes(max_shard_size, func)
    opts.threads = _core.make_threads(threads, func)
    cb = None
    if progress is not None:
        if not callable(progress):
            raise TypeError("%s: progress must be callable" % func)
        cb = _lib.PROGRESS(lambda ctx, done, total: progress(done, total))
        opts.progress = cb
    written = ctypes.c_uint64()
    with _Model(recipe, settings, dtype, func) as m:
        _lib.check(lib.nninit_model_write(m.m, k.seed, _path(path, func), ctypes.byref(opts), ctypes.byref(written)),
                   func)
    return written.value

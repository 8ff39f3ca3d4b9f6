"""Layer presets (include/nninit_presets.h): the parameters a framework's
layer constructor makes, initialized as it initializes them, by the
layer's text: "torch.Conv2d(in=3, out=64, kernel=7)", "keras.Dense(in=784,
out=256)", "flax.Conv(in=3, out=8, kernel=3x3)" (`nninit presets` lists
them and their keys).

Parameter `name` (with prefix: "prefix.name") is keyed
nninit_key_from_name(seed, that name), as `nninit fill --preset TEXT --name
PREFIX --seed S` keys it, so the values equal that file's, byte for byte.
"""
import collections.abc
import ctypes

from . import _arrays, _core, _lib

lib = _lib.lib


def presets():
    """The preset names ("torch.Linear", ...)."""
    return [lib.nninit_preset_name(i).decode() for i in range(lib.nninit_preset_count())]


def _parse(text, func):
    name = ctypes.c_char_p()
    layer = _lib.Layer()
    _lib.check(lib.nninit_preset_parse(_lib.encode(text, func + ": preset"), ctypes.byref(name), ctypes.byref(layer)),
               func)
    return name.value, layer


def _params(name, layer, func):
    n = ctypes.c_int()
    _lib.check(lib.nninit_preset_params(name, ctypes.byref(layer), None, 0, ctypes.byref(n)), func)
    arr = (_lib.Param * max(n.value, 1))()
    _lib.check(lib.nninit_preset_params(name, ctypes.byref(layer), arr, n.value, ctypes.byref(n)), func)
    return list(arr[:n.value])


def _full(prefix, name):
    return "%s.%s" % (prefix, name) if prefix else name


def _shape(p):
    return tuple(p.tensor.shape[i] for i in range(p.tensor.ndim))


def preset_params(text):
    """What preset text makes, drawing nothing: a list of dicts with name,
    shape, dtype, scheme (its canonical text), layout, zero_row (the
    padding row set to zero, or None), and explain()'s fields."""
    name, layer = _parse(text, "preset_params")
    out = []
    for p in _params(name, layer, "preset_params"):
        layout = _core.LAYOUTS[p.tensor.layout]  # presets use oihw, hwio and embedding
        e = _core.explain(p.spec, _shape(p), p.tensor.dtype, "preset_params", layout=layout, groups=p.tensor.groups)
        e.update(name=p.name.decode(), shape=_shape(p), dtype=_lib.DTYPE_NAMES[p.tensor.dtype], layout=layout,
                 zero_row=p.zero_row if p.zero_row >= 0 else None)
        out.append(e)
    return out


def fill_param(x, p, key_name, seed, threads, func, bf16_bits=False):
    """Fill array x as preset parameter p (nninit_param_fill: the fill, then
    the padding row zero), keyed by key_name."""
    v = _arrays.view(x, func, bf16_bits)
    if v.shape != _shape(p):
        raise ValueError("%s: '%s' has shape %s; the layer's is %s" % (func, key_name, v.shape, _shape(p)))
    t = _lib.Tensor.from_buffer_copy(p.tensor)
    t.dtype = v.dtype
    k = _core.make_key(seed, key_name, func)
    _lib.check(lib.nninit_fill_threads(ctypes.byref(p.spec), ctypes.byref(t), k, ctypes.c_void_p(v.ptr),
                                       _core.make_threads(threads, func)), "%s: %s" % (func, key_name))
    if p.zero_row >= 0:
        if v.torch:
            import torch
            with torch.no_grad():
                x[p.zero_row].zero_()
        else:
            x[p.zero_row] = 0
    v.touched()
    return x


def preset(text, *, seed=0, prefix=None, framework="numpy", threads=None):
    """The parameters of the layer preset text describes, as new arrays in
    the framework's order: a dict name -> array (framework "numpy", bf16 as
    uint16 bit patterns, or "torch"). prefix: the names (and keys) become
    prefix.weight, ... as `nninit fill --preset --name PREFIX`."""
    name, layer = _parse(text, "preset")
    out = {}
    for p in _params(name, layer, "preset"):
        full = _full(prefix, p.name.decode())
        x = _arrays.empty(_shape(p), p.tensor.dtype, framework, "preset")
        out[full] = fill_param(x, p, full, seed, threads, "preset", bf16_bits=True)
    return out


def preset_(text, tensors, *, seed=0, prefix=None, threads=None):
    """Fill the given tensors in place as the layer preset text initializes
    them: tensors is a mapping from the preset's parameter names ("weight",
    "bias", "out_proj.weight", ...) to arrays, or a torch module (its
    named_parameters()), with exactly the layer's names and shapes. Their
    dtype is the layer's (one for all; it replaces the text's default f32).
    Returns tensors."""
    func = "preset_"
    if hasattr(tensors, "named_parameters") and callable(tensors.named_parameters):
        named = dict(tensors.named_parameters())
    elif isinstance(tensors, collections.abc.Mapping):
        named = dict(tensors)
    else:
        raise TypeError("%s: tensors must be a mapping name -> array or a torch module, not %s" %
                        (func, type(tensors).__name__))
    name, layer = _parse(text, func)
    views = {k: _arrays.view(v, "%s: '%s'" % (func, k)) for k, v in named.items()}
    dts = {v.dtype for v in views.values()}
    if len(dts) > 1:
        raise TypeError("%s: the tensors mix dtypes (%s); a layer has one" %
                        (func, ", ".join(sorted(_lib.DTYPE_NAMES[d] for d in dts))))
    if dts:
        d = dts.pop()
        if layer.dtype != d and layer.dtype != _lib.F32:
            raise TypeError("%s: the text says dtype %s, the tensors are %s" %
                            (func, _lib.DTYPE_NAMES[layer.dtype], _lib.DTYPE_NAMES[d]))
        layer.dtype = d
    params = _params(name, layer, func)
    want = [p.name.decode() for p in params]
    missing = [n for n in want if n not in named]
    extra = [n for n in named if n not in want]
    if missing or extra:
        raise ValueError("%s: %s has parameters %s; %s%s" % (
            func, name.decode(), ", ".join(want) or "none", "missing: " + ", ".join(missing) if missing else "",
            ("; " if missing and extra else "") + ("not in the layer: " + ", ".join(extra) if extra else "")))
    for p in params:
        fill_param(named[p.name.decode()], p, _full(prefix, p.name.decode()), seed, threads, func)
    return tensors

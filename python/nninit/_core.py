"""Specs, tensors, keys and fills: the Python values turned into the C
structs, checked with messages that name the calling function."""
import ctypes
import math
import numbers
import os

from . import _arrays, _lib

lib = _lib.lib

DEFAULT_KEY = "tensor"  # the CLI's: nninit fill --key (default "tensor")

NONLINEARITIES = tuple(lib.nninit_nonlinearity_name(i).decode() for i in range(12))
MODES = tuple(lib.nninit_mode_name(i).decode() for i in range(4))
DISTRIBUTIONS = tuple(lib.nninit_distribution_name(i).decode() for i in range(3))
LAYOUTS = ("oihw", "hwio", "iohw", "embedding")
PARAM_NAMES = tuple(lib.nninit_spec_param_name(i).decode() for i in range(lib.nninit_spec_param_count()))


def scheme_id(name, func):
    s = ctypes.c_int()
    if lib.nninit_scheme_parse(_lib.encode(name, func + ": scheme"), ctypes.byref(s)) != _lib.OK:
        raise ValueError("%s: unknown scheme '%s' (%s)" % (func, name, ", ".join(_lib.SCHEMES)))
    return s.value


def params_of(scheme):
    """The parameter keys scheme (an id) reads, in nninit_spec_param_name order."""
    return tuple(p for p in PARAM_NAMES if p != "slope" and lib.nninit_scheme_takes_param(scheme, p.encode()))


def _number(v, func, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError("%s: %s must be a real number, not %s" % (func, name, type(v).__name__))
    return float(v)


def _enum(parse, v, func, what, names):
    if not isinstance(v, str):
        raise TypeError("%s: %s must be a str (%s), not %s" % (func, what, ", ".join(names), type(v).__name__))
    out = ctypes.c_int()
    if parse(_lib.encode(v, func + ": " + what), ctypes.byref(out)) != _lib.OK:
        raise ValueError("%s: unsupported %s '%s' (one of %s)" % (func, what, v, ", ".join(names)))
    return out.value


def make_spec(scheme, params, func):
    """An nninit_spec from a scheme name or text ("normal(std=0.02)") and
    keyword parameters, which override the text's; a parameter the scheme
    does not read is a ValueError naming the ones it does."""
    if isinstance(scheme, _lib.Spec):
        spec = _lib.Spec.from_buffer_copy(scheme)
    else:
        text = _lib.encode(scheme, func + ": scheme")
        spec = _lib.Spec()
        st = lib.nninit_spec_parse(text, ctypes.byref(spec))
        if st != _lib.OK:
            raise _lib.fail(st, func)
    for k, v in params.items():
        if k not in PARAM_NAMES or not lib.nninit_scheme_takes_param(spec.scheme, k.encode()):
            name = lib.nninit_scheme_name(spec.scheme).decode()
            raise ValueError("%s: %s takes no parameter '%s' (it takes: %s)" %
                             (func, name, k, ", ".join(params_of(spec.scheme)) or "none"))
        if k == "mode":
            spec.mode = _enum(lib.nninit_mode_parse, v, func, "mode", MODES)
        elif k == "nonlinearity":
            spec.nonlinearity = _enum(lib.nninit_nonlinearity_parse, v, func, "nonlinearity", NONLINEARITIES)
        elif k == "distribution":
            spec.distribution = _enum(lib.nninit_distribution_parse, v, func, "distribution", DISTRIBUTIONS)
        elif k == "groups":
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError("%s: groups must be an int, not %s" % (func, type(v).__name__))
            if not 1 <= v <= 2**31 - 1:
                raise ValueError("%s: groups %d must be in 1..2^31-1" % (func, v))
            spec.groups = int(v)
        elif k in ("a", "slope") and spec.scheme in (9, 10):  # kaiming_*: PyTorch's a is the slope
            spec.slope = _number(v, func, k)
        else:
            setattr(spec, k, _number(v, func, k))
    return spec


def spec_text(spec):
    buf = ctypes.create_string_buffer(256)
    _lib.check(lib.nninit_spec_format(ctypes.byref(spec), buf, 256))
    return buf.value.decode()


def make_tensor(shape, dtype, func, layout="oihw", groups=1, in_axis=None, out_axis=None, grouped_fan_out=False):
    """An nninit_tensor of shape (a 0-d shape is one element, as (1,))."""
    shape = tuple(shape)
    if len(shape) > _lib.MAX_DIMS:
        raise ValueError("%s: %d dimensions; nninit fills tensors of at most %d" % (func, len(shape), _lib.MAX_DIMS))
    t = _lib.Tensor()
    dims = shape if shape else (1,)
    t.ndim = len(dims)
    for i, d in enumerate(dims):
        if isinstance(d, bool) or not isinstance(d, numbers.Integral):
            raise TypeError("%s: shape entries must be ints, not %s" % (func, type(d).__name__))
        t.shape[i] = int(d)
    t.dtype = dtype
    if in_axis is not None or out_axis is not None:
        if in_axis is None or out_axis is None:
            raise ValueError("%s: in_axis and out_axis go together" % func)
        if layout not in ("oihw", "custom"):
            raise ValueError("%s: in_axis/out_axis set a custom layout; drop layout=%r" % (func, layout))
        n = t.ndim
        ia, oa = in_axis + n if in_axis < 0 else in_axis, out_axis + n if out_axis < 0 else out_axis
        if not (0 <= ia < n and 0 <= oa < n):
            raise ValueError("%s: in_axis/out_axis outside the %d dimensions" % (func, n))
        t.layout, t.in_axis, t.out_axis = _lib.LAYOUT_CUSTOM, ia, oa
    else:
        if layout == "custom":
            raise ValueError("%s: a custom layout needs in_axis and out_axis" % func)
        t.layout = _enum(lib.nninit_layout_parse, layout, func, "layout", LAYOUTS)
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
        raise TypeError("%s: groups must be an int, not %s" % (func, type(groups).__name__))
    t.groups = int(groups)
    t.flags = _lib.LAYOUT_GROUPED_FAN_OUT if grouped_fan_out else 0
    return t


def make_key(seed, key, func):
    """nninit_key_from_name(seed, key) for a str key, nninit_key_make(seed,
    key) for an int (the CLI's --key-id)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError("%s: seed must be an int, not %s" % (func, type(seed).__name__))
    if not 0 <= seed < 2**64:
        raise ValueError("%s: seed %d outside 0..2^64-1" % (func, seed))
    if isinstance(key, str):
        return lib.nninit_key_from_name(int(seed), _lib.encode(key, func + ": key"))
    if isinstance(key, bool) or not isinstance(key, numbers.Integral):
        raise TypeError("%s: key must be a str (a name) or an int (an id), not %s" % (func, type(key).__name__))
    if not 0 <= key < 2**64:
        raise ValueError("%s: key id %d outside 0..2^64-1" % (func, key))
    return lib.nninit_key_make(int(seed), int(key))


def make_threads(threads, func):
    """threads as the C API takes it (0 = one per CPU); None: $NNINIT_THREADS, else 0."""
    if threads is None:
        env = os.environ.get("NNINIT_THREADS", "")
        if not env:
            return 0
        try:
            threads = int(env)
        except ValueError:
            raise ValueError("%s: NNINIT_THREADS='%s' must be an integer in 0..256" % (func, env)) from None
        if not 0 <= threads <= 256:
            raise ValueError("%s: NNINIT_THREADS='%s' must be an integer in 0..256" % (func, env))
        return threads
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError("%s: threads must be an int, not %s" % (func, type(threads).__name__))
    if threads < 0:
        raise ValueError("%s: threads %d must be >= 0 (0: one per CPU)" % (func, threads))
    return min(int(threads), 256)


def _check_ndim(spec, ndim, func):
    """PyTorch's dimension checks, before the C library sees a 0-d tensor as (1,)."""
    s = spec.scheme
    name = lib.nninit_scheme_name(s).decode()
    if lib.nninit_scheme_uses_fans(s) and ndim < 2:
        raise ValueError("%s: %s: fan in and fan out can not be computed for a tensor with fewer than 2 "
                         "dimensions (ndim %d)" % (func, name, ndim))
    if s == 14 and ndim < 2:
        raise ValueError("%s: orthogonal: only tensors with 2 or more dimensions are supported (ndim %d)" %
                         (func, ndim))
    if s == 15 and ndim != 2:
        raise ValueError("%s: sparse: only tensors with 2 dimensions are supported (ndim %d)" % (func, ndim))
    if s == 16 and ndim != 2:
        raise ValueError("%s: eye: only 2-dimensional tensors are supported (ndim %d)" % (func, ndim))
    if s == 17 and not 3 <= ndim <= 5:
        raise ValueError("%s: dirac: only 3, 4 and 5-dimensional tensors are supported (ndim %d)" % (func, ndim))


def fill(x, spec, func, seed=0, key=DEFAULT_KEY, threads=None, layout="oihw", groups=1, fans_of=None,
         in_axis=None, out_axis=None, grouped_fan_out=False):
    """Fill array/tensor x in place with spec; returns x. fans_of: the shape
    of the tensor whose fans a fan-based scheme takes (a bias drawn like its
    weight; the layout options then describe that tensor)."""
    v = _arrays.view(x, func)
    k = make_key(seed, key, func)
    nthreads = make_threads(threads, func)
    if fans_of is not None:
        fo = tuple(fans_of)
        if not lib.nninit_scheme_uses_fans(spec.scheme):
            raise ValueError("%s: fans_of: %s does not use fans (xavier_*, kaiming_*, lecun_* and variance_scaling "
                             "do)" % (func, lib.nninit_scheme_name(spec.scheme).decode()))
        ft = make_tensor(fo, v.dtype, func, layout, groups, in_axis, out_axis, grouped_fan_out)
        resolved = _lib.Spec()
        _check_ndim(spec, len(fo), func)
        _lib.check(lib.nninit_spec_resolve_fans(ctypes.byref(spec), ctypes.byref(ft), ctypes.byref(resolved)), func)
        spec = resolved
        t = make_tensor(v.shape, v.dtype, func)
    else:
        _check_ndim(spec, len(v.shape), func)
        t = make_tensor(v.shape, v.dtype, func, layout, groups, in_axis, out_axis, grouped_fan_out)
    if v.numel == 0:
        # Nothing to write (PyTorch: a no-op); the parameters are still checked
        # on the same shape with every empty dimension read as 1.
        t1 = _lib.Tensor.from_buffer_copy(t)
        for i in range(t1.ndim):
            t1.shape[i] = max(1, t1.shape[i])
        _lib.check(lib.nninit_explain(ctypes.byref(spec), ctypes.byref(t1), ctypes.byref(_lib.Info())), func)
        return x
    _lib.check(lib.nninit_fill_threads(ctypes.byref(spec), ctypes.byref(t), k, ctypes.c_void_p(v.ptr), nthreads),
               func)
    v.touched()
    return x


def fill_box(x, spec, func, global_shape, offsets, seed=0, key=DEFAULT_KEY, threads=None, layout="oihw", groups=1,
             in_axis=None, out_axis=None, grouped_fan_out=False, bf16_bits=False):
    """Fill x with the box of the tensor of global_shape that starts at
    offsets and has x's shape (nninit_fill_box_threads)."""
    v = _arrays.view(x, func, bf16_bits)
    k = make_key(seed, key, func)
    nthreads = make_threads(threads, func)
    gs, off = tuple(global_shape), tuple(offsets)
    if len(v.shape) != len(gs) or len(off) != len(gs):
        raise ValueError("%s: the shard (shape %s), global_shape %s and offsets %s must have as many dimensions" %
                         (func, v.shape, gs, off))
    _check_ndim(spec, len(gs), func)
    for d, (o, n, g) in enumerate(zip(off, v.shape, gs)):
        if isinstance(o, bool) or not isinstance(o, numbers.Integral):
            raise TypeError("%s: offsets must be ints, not %s" % (func, type(o).__name__))
        if o < 0 or o + n > g:
            raise ValueError("%s: dim %d: the shard [%d, %d) is not inside [0, %d)" % (func, d, o, o + n, g))
    t = make_tensor(gs, v.dtype, func, layout, groups, in_axis, out_axis, grouped_fan_out)
    if not gs:
        off, hi = (0,), (v.numel,)
    else:
        hi = tuple(o + n for o, n in zip(off, v.shape))
    lo_a = (ctypes.c_int64 * len(off))(*off)
    hi_a = (ctypes.c_int64 * len(hi))(*hi)
    if v.numel == 0:
        for i in range(t.ndim):
            t.shape[i] = max(1, t.shape[i])
        _lib.check(lib.nninit_explain(ctypes.byref(spec), ctypes.byref(t), ctypes.byref(_lib.Info())), func)
        return x
    _lib.check(lib.nninit_fill_box_threads(ctypes.byref(spec), ctypes.byref(t), k, lo_a, hi_a,
                                           ctypes.c_void_p(v.ptr), nthreads), func)
    v.touched()
    return x


def explain(spec, shape, dtype, func, layout="oihw", groups=1, in_axis=None, out_axis=None, grouped_fan_out=False):
    _check_ndim(spec, len(tuple(shape)), func)
    t = make_tensor(shape, dtype, func, layout, groups, in_axis, out_axis, grouped_fan_out)
    info = _lib.Info()
    _lib.check(lib.nninit_explain(ctypes.byref(spec), ctypes.byref(t), ctypes.byref(info)), func)
    kinds = ("constant", "uniform", "normal", "trunc_normal", "structured")
    out = {"distribution": kinds[info.kind], "scheme": spec_text(spec)}
    for f in ("fan_in", "fan_out", "fan", "gain", "mean", "std", "bound", "lo", "hi", "variance"):
        val = getattr(info, f)
        out[f] = None if (math.isnan(val) or (f in ("fan_in", "fan_out") and not info.has_fans)) else val
    return out

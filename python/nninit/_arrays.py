"""NumPy arrays and CPU torch tensors as nninit tensors: the memory is
written in place, never copied, so what is refused is refused with the
reason: a dtype nninit does not fill (TypeError), memory that is not one
dense C-ordered block, read-only, misaligned or not on the CPU (ValueError).

torch is never imported here: a tensor is recognised only when the caller
has imported torch already.
"""
import sys

import numpy as np

from . import _lib

_NP_DTYPES = {np.dtype(np.float32): _lib.F32, np.dtype(np.float64): _lib.F64, np.dtype(np.float16): _lib.F16}
_NP_ITEMSIZE = {_lib.F32: 4, _lib.F64: 8, _lib.BF16: 2, _lib.F16: 2}


def _torch():
    return sys.modules.get("torch")


def is_torch(x):
    t = _torch()
    return t is not None and isinstance(x, t.Tensor)


def _torch_dtypes(torch):
    return {torch.float32: _lib.F32, torch.float64: _lib.F64, torch.bfloat16: _lib.BF16, torch.float16: _lib.F16}


class View:
    """Where an array's elements are: ptr, shape (a tuple), dtype (nninit's)."""
    __slots__ = ("obj", "ptr", "shape", "dtype", "numel", "torch")

    def __init__(self, obj, ptr, shape, dtype, torch):
        self.obj, self.ptr, self.shape, self.dtype, self.torch = obj, ptr, tuple(int(d) for d in shape), dtype, torch
        n = 1
        for d in self.shape:
            n *= d
        self.numel = n

    def touched(self):
        """After writing through ptr: bump the torch tensor's version counter
        (as an in-place torch op would), so that autograd sees the change."""
        if self.torch and self.numel:
            torch = _torch()
            with torch.no_grad():
                self.obj.view(-1)[:0].zero_()  # a view shares the counter; 0 elements: no work


def view(x, func, bf16_bits=False):
    """The View of x, or a TypeError / ValueError naming func and the problem.
    bf16_bits: a NumPy uint16 array holds bf16 bit patterns (arrays this
    package made itself: NumPy has no bfloat16)."""
    if is_torch(x):
        torch = _torch()
        dts = _torch_dtypes(torch)
        if x.dtype not in dts:
            raise TypeError("%s: torch dtype %s is not filled by nninit (float32, float64, bfloat16, float16)" %
                            (func, str(x.dtype).replace("torch.", "")))
        if x.layout != torch.strided:
            raise TypeError("%s: a %s tensor; nninit fills dense (strided) tensors" % (func, x.layout))
        if x.device.type != "cpu":
            raise ValueError("%s: the tensor is on device '%s'; nninit fills CPU memory (fill a CPU tensor and "
                             "copy it)" % (func, x.device))
        if not x.is_contiguous():
            raise ValueError("%s: the tensor is not contiguous (strides %s for shape %s); pass a contiguous "
                             "tensor (x.contiguous() is a copy, which nninit would fill instead of x)" %
                             (func, tuple(x.stride()), tuple(x.shape)))
        ptr = x.data_ptr()
        if x.numel() and ptr % x.element_size():
            raise ValueError("%s: the tensor's data (0x%x) is not aligned to its %d-byte elements" %
                             (func, ptr, x.element_size()))
        return View(x, ptr, x.shape, dts[x.dtype], True)
    if not isinstance(x, np.ndarray):
        raise TypeError("%s: expected a numpy.ndarray or a torch.Tensor, not %s" % (func, type(x).__name__))
    dt = x.dtype
    base = dt.newbyteorder("=") if dt.byteorder in "<>" else dt
    if dt.byteorder == ">" or (dt.byteorder == "<" and sys.byteorder != "little"):
        raise TypeError("%s: dtype %s is not in this machine's byte order" % (func, dt.str))
    if bf16_bits and base == np.uint16:
        nd = _lib.BF16
    elif base not in _NP_DTYPES:
        hint = " (NumPy has no bfloat16: use a torch.bfloat16 tensor)" if base == np.uint16 else ""
        raise TypeError("%s: dtype %s is not filled by nninit (float32, float64, float16)%s" % (func, dt, hint))
    else:
        nd = _NP_DTYPES[base]
    if not x.flags.c_contiguous:
        raise ValueError("%s: the array is not C-contiguous (strides %s for shape %s); pass a contiguous array "
                         "(np.ascontiguousarray would be a copy, filled instead of the array)" %
                         (func, x.strides, x.shape))
    if not x.flags.writeable:
        raise ValueError("%s: the array is read-only (flags.writeable is False)" % func)
    if not x.flags.aligned:
        raise ValueError("%s: the array's data is not aligned to its %d-byte elements" % (func, dt.itemsize))
    return View(x, x.__array_interface__["data"][0], x.shape, nd, False)


def numpy_dtype(d):
    """The NumPy dtype nninit's dtype d is held in (bf16: uint16 bit patterns)."""
    return {_lib.F32: np.float32, _lib.F64: np.float64, _lib.F16: np.float16, _lib.BF16: np.uint16}[d]


def torch_dtype(d):
    torch = _torch()
    return {_lib.F32: torch.float32, _lib.F64: torch.float64, _lib.F16: torch.float16, _lib.BF16: torch.bfloat16}[d]


_DTYPE_WORDS = {"f32": _lib.F32, "float32": _lib.F32, "float": _lib.F32, "f64": _lib.F64, "float64": _lib.F64,
                "double": _lib.F64, "bf16": _lib.BF16, "bfloat16": _lib.BF16, "f16": _lib.F16, "float16": _lib.F16,
                "half": _lib.F16}


def parse_dtype(d, func):
    """nninit's dtype from "f32" / "bfloat16" / np.float32 / torch.float16."""
    if isinstance(d, str):
        if d in _DTYPE_WORDS:
            return _DTYPE_WORDS[d]
        raise TypeError("%s: unknown dtype '%s' (f32, f64, bf16, f16)" % (func, d))
    t = _torch()
    if t is not None and isinstance(d, t.dtype):
        dts = _torch_dtypes(t)
        if d in dts:
            return dts[d]
        raise TypeError("%s: torch dtype %s is not filled by nninit (float32, float64, bfloat16, float16)" %
                        (func, str(d).replace("torch.", "")))
    try:
        nd = np.dtype(d)
    except TypeError:
        raise TypeError("%s: not a dtype: %r" % (func, d)) from None
    if nd in _NP_DTYPES:
        return _NP_DTYPES[nd]
    raise TypeError("%s: dtype %s is not filled by nninit (float32, float64, float16; bf16 by name)" % (func, nd))


def empty(shape, dtype, framework, func):
    """A new array of nninit dtype `dtype`: NumPy (bf16 as uint16 bit
    patterns) or torch."""
    if framework in ("numpy", "np"):
        return np.empty(shape, dtype=numpy_dtype(dtype))
    if framework in ("torch", "pt"):
        torch = _torch()
        if torch is None:
            import torch  # noqa: F401  (the caller asked for torch tensors)
        return torch.empty(tuple(shape), dtype=torch_dtype(dtype))
    raise ValueError("%s: framework must be 'numpy' or 'torch', not %r" % (func, framework))

"""PyTorch's CPU generator, bit for bit (include/nninit_torch.h, docs/TORCH_STREAM.md).

    from nninit.torch_stream import Generator
    g = Generator(0)                      # torch.manual_seed(0)
    w, b = g.linear(784, 256)             # nn.Linear(784, 256): weight, bias
    x = np.empty((64, 3, 3, 3), np.float32)
    g.normal_(x, std=0.02)                # x.normal_(0, 0.02)

Unlike the rest of nninit (a value is a pure function of seed, tensor and
index), this stream is sequential: a Generator is torch's CPUGeneratorImpl
(MT19937 and the cached second Box-Muller normal), and every call advances it
exactly as the same call advances torch's, so torch.manual_seed(s) followed
by any sequence of uniform_, normal_, trunc_normal_, kaiming_*, xavier_* and
nn.Linear / nn.Conv1d/2d/3d constructions fills the same bits here, without
torch. The reference is PyTorch 1.13 (x86-64, GCC builds as Debian's);
docs/TORCH_STREAM.md says which versions and paths match and why.

Arrays are NumPy float32/float64 arrays or CPU torch float32/float64
tensors, C-contiguous and writable, filled in place (float16 and bfloat16
are not reproduced: torch draws them with other arithmetic; a non-contiguous
tensor would be filled in another order by torch). Argument errors are found
before anything is drawn: the generator is then unchanged.

cpu: torch's CPU kernels round differently per ATEN_CPU_CAPABILITY (the
draws are the same): "avx2" reproduces the AVX2 and AVX-512 builds' kernels
(the default of x86-64 torch on any CPU with AVX2 and FMA), "default"
ATEN_CPU_CAPABILITY=default or a CPU without them; "auto" picks what torch
in this process reports if torch is imported (torch.__config__.show()),
else what torch would pick here: ATEN_CPU_CAPABILITY if it is avx2, avx512
or default, else AVX2 when /proc/cpuinfo lists avx2 and fma. Both modes run
everywhere and give the same bits on every machine.

One Generator serves one thread at a time; calls hold its lock (the GIL is
released while the C code fills), so threads sharing one are serialized.
"""
import ctypes
import math
import numbers
import os
import platform
import re
import sys
import threading
import warnings

import numpy as np

from . import _arrays, _core, _lib

lib = _lib.lib

STATE_SIZE = _lib.TORCH_STATE_SIZE
# c10::default_rng_seed_val: the seed of torch.Generator() and of a fresh process's default generator.
DEFAULT_SEED = 67280421310721
CPU_MODES = ("avx2", "default")
_CPU_IDS = {"avx2": _lib.TORCH_CPU_AVX2, "default": _lib.TORCH_CPU_DEFAULT}
_FLOAT_NAMES = {_lib.F32: "float32", _lib.F64: "float64", _lib.F16: "float16", _lib.BF16: "bfloat16"}
_FAN_MODES = ("fan_in", "fan_out")
_NONLINEARITIES = _core.NONLINEARITIES

if ctypes.sizeof(_lib.TorchGen) != 2536:  # nninit_torch_gen's fixed layout
    raise ImportError("nninit.torch_stream: nninit_torch_gen is %d bytes here, 2536 in nninit_torch.h" %
                      ctypes.sizeof(_lib.TorchGen))


def _cpu_has_avx2_fma():
    """cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3(), as ATen asks; None
    when /proc/cpuinfo cannot be read."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
                    return "avx2" in flags and "fma" in flags
    except OSError:
        return None
    return None


def detect_cpu():
    """The cpu mode "auto" stands for: "avx2" or "default" (see the module's
    docstring)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            m = re.search(r"CPU capability usage: (\w+)", torch.__config__.show())
        except Exception:  # a torch without __config__: decide as below
            m = None
        if m:
            return "avx2" if m.group(1) in ("AVX2", "AVX512") else "default"
    env = os.environ.get("ATEN_CPU_CAPABILITY")
    if env in ("avx2", "avx512"):  # ATen's strcmp: other values are ignored (with a warning)
        return "avx2"
    if env == "default":
        return "default"
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return "default"  # ATen's AVX2 kernels are x86's (docs/TORCH_STREAM.md: other CPUs are not claimed)
    has = _cpu_has_avx2_fma()
    return "avx2" if has is None else ("avx2" if has else "default")


def _cpu_id(cpu, func):
    if not isinstance(cpu, str):
        raise TypeError("%s: cpu must be a str (auto, avx2, default), not %s" % (func, type(cpu).__name__))
    if cpu == "auto":
        cpu = detect_cpu()
    if cpu not in _CPU_IDS:
        raise ValueError("%s: unknown cpu '%s' (auto, avx2, default)" % (func, cpu))
    return _CPU_IDS[cpu]


def _seed_u64(seed, func):
    """torch.manual_seed's reading of a seed: -2^63..2^64-1, a negative one as
    its two's complement."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError("%s: seed must be an int, not %s" % (func, type(seed).__name__))
    seed = int(seed)
    if not -2**63 <= seed < 2**64:
        raise ValueError("%s: seed %d outside -2^63..2^64-1 (torch.manual_seed's range)" % (func, seed))
    return seed % 2**64


def _real(v, func, name):
    return _core._number(v, func, name)


def _target(t, func):
    """The View of an array or tensor the stream can fill: float32/float64,
    contiguous, writable, on the CPU."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(t, torch.Tensor):
        dt = t.dtype
        if dt not in (torch.float32, torch.float64):
            name = str(dt).replace("torch.", "")
            raise TypeError("%s: torch dtype %s is not reproduced (float32 and float64 only%s)" %
                            (func, name, "; torch draws half types with their own arithmetic"
                             if dt in (torch.float16, torch.bfloat16) else ""))
    elif isinstance(t, np.ndarray):
        base = t.dtype.newbyteorder("=") if t.dtype.byteorder in "<>" else t.dtype
        if base not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError("%s: dtype %s is not reproduced (float32 and float64 only%s)" %
                            (func, t.dtype, "; torch draws half types with their own arithmetic"
                             if base == np.float16 else ""))
    v = _arrays.view(t, func)  # the rest: contiguous, writable, aligned, CPU, byte order
    return v


def _fans(shape, func):
    if len(shape) < 2:
        raise ValueError("%s: Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                         "(shape %s)" % (func, tuple(shape)))
    rf = 1
    for s in shape[2:]:
        rf *= s
    return shape[1] * rf, shape[0] * rf


def _shape_arg(shape):
    return (ctypes.c_int64 * len(shape))(*shape)


def _size(v, func, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError("%s: %s must be an int, not %s" % (func, name, type(v).__name__))
    return int(v)


def _new_dtype(dtype, framework, func):
    if dtype is None:
        torch = sys.modules.get("torch")
        if framework in ("torch", "pt") and torch is not None:
            dtype = torch.get_default_dtype()
        else:
            dtype = "float32"
    d = _arrays.parse_dtype(dtype, func)
    if d not in (_lib.F32, _lib.F64):
        raise TypeError("%s: dtype %s is not reproduced (float32 and float64 only; torch draws half types with "
                        "their own arithmetic)" % (func, _FLOAT_NAMES[d]))
    return d


class Generator:
    """torch's CPU generator (torch.Generator(), the default generator), in
    nninit: seed as torch.manual_seed (None: torch's default seed,
    67280421310721, the state of a fresh process); cpu "auto", "avx2" or
    "default" (the module's docstring)."""

    __slots__ = ("_g", "_lock", "__weakref__")

    def __init__(self, seed=None, cpu="auto"):
        cpu_id = _cpu_id(cpu, "Generator")
        s = DEFAULT_SEED if seed is None else _seed_u64(seed, "Generator")
        self._g = _lib.TorchGen()
        self._lock = threading.Lock()
        _lib.check(lib.nninit_torch_gen_init(ctypes.byref(self._g), s), "Generator")
        _lib.check(lib.nninit_torch_gen_set_cpu(ctypes.byref(self._g), cpu_id), "Generator")

    # ---- the state ----

    def manual_seed(self, seed):
        """torch.manual_seed(seed) / Generator.manual_seed: the engine seeded
        with the low 32 bits, the cached normals cleared; the cpu mode kept.
        Returns self."""
        s = _seed_u64(seed, "Generator.manual_seed")
        with self._lock:
            cpu = self._g.cpu
            _lib.check(lib.nninit_torch_gen_init(ctypes.byref(self._g), s), "Generator.manual_seed")
            _lib.check(lib.nninit_torch_gen_set_cpu(ctypes.byref(self._g), cpu), "Generator.manual_seed")
        return self

    def initial_seed(self):
        """torch.initial_seed(): the seed last given, all 64 bits."""
        return int(self._g.seed)

    @property
    def cpu(self):
        """The kernels reproduced: "avx2" or "default" (settable, also to "auto")."""
        return CPU_MODES[self._g.cpu]

    @cpu.setter
    def cpu(self, cpu):
        c = _cpu_id(cpu, "Generator.cpu")
        with self._lock:
            _lib.check(lib.nninit_torch_gen_set_cpu(ctypes.byref(self._g), c), "Generator.cpu")

    def get_state(self, framework="bytes"):
        """torch.get_rng_state() of this generator: the same 5056 bytes, as
        bytes (framework "bytes"), a uint8 NumPy array ("numpy") or a
        torch.ByteTensor ("torch", which torch.set_rng_state takes)."""
        buf = ctypes.create_string_buffer(STATE_SIZE)
        with self._lock:
            st = lib.nninit_torch_gen_get_state(ctypes.byref(self._g), buf, STATE_SIZE)
        _lib.check(st, "Generator.get_state")
        raw = buf.raw
        if framework == "bytes":
            return raw
        if framework in ("numpy", "np"):
            return np.frombuffer(raw, dtype=np.uint8).copy()
        if framework in ("torch", "pt"):
            import torch
            return torch.from_numpy(np.frombuffer(raw, dtype=np.uint8).copy())
        raise ValueError("Generator.get_state: framework must be 'bytes', 'numpy' or 'torch', not %r" % (framework,))

    def set_state(self, state):
        """torch.set_rng_state(state): continue a torch generator's stream.
        state: bytes (bytearray, memoryview), a uint8 NumPy array or a CPU
        torch.ByteTensor of 5056 bytes (torch.get_rng_state(),
        torch.Generator.get_state()). The cpu mode is kept; a bad state is a
        ValueError and leaves the generator unchanged. Returns self."""
        func = "Generator.set_state"
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(state, torch.Tensor):
            if state.dtype != torch.uint8:
                raise TypeError("%s: a torch tensor of dtype %s; the state is a torch.uint8 tensor (ByteTensor, "
                                "torch.get_rng_state())" % (func, str(state.dtype).replace("torch.", "")))
            if state.device.type != "cpu":
                raise ValueError("%s: the state tensor is on device '%s'; pass a CPU ByteTensor" %
                                 (func, state.device))
            raw = state.detach().contiguous().numpy().tobytes()
        elif isinstance(state, np.ndarray):
            if state.dtype != np.uint8:
                raise TypeError("%s: a NumPy array of dtype %s; the state is uint8 bytes" % (func, state.dtype))
            raw = state.tobytes()
        elif isinstance(state, (bytes, bytearray, memoryview)):
            raw = bytes(state)
        else:
            raise TypeError("%s: expected bytes, a uint8 NumPy array or a torch.ByteTensor (torch.get_rng_state()), "
                            "not %s" % (func, type(state).__name__))
        with self._lock:
            st = lib.nninit_torch_gen_set_state(ctypes.byref(self._g), raw, len(raw))
        _lib.check(st, func)
        return self

    @classmethod
    def from_torch(cls, generator=None, cpu="auto"):
        """A Generator continuing torch's stream: a copy of the state of
        torch's default generator (torch.get_rng_state()), or of the CPU
        torch.Generator given. torch is imported (ImportError without it)."""
        func = "Generator.from_torch"
        cpu_id = _cpu_id(cpu, func)
        try:
            import torch
        except ImportError as e:
            raise ImportError("%s: needs torch (%s)" % (func, e)) from e
        if generator is None:
            generator = torch.default_generator
        elif not isinstance(generator, torch.Generator):
            raise TypeError("%s: expected a torch.Generator, not %s" % (func, type(generator).__name__))
        if generator.device.type != "cpu":
            raise ValueError("%s: a torch.Generator on device '%s'; the stream is the CPU generator's" %
                             (func, generator.device))
        g = cls(cpu=CPU_MODES[cpu_id])
        g.set_state(generator.get_state())
        return g

    def copy(self):
        """An independent Generator at the same point of the same stream."""
        g = Generator.__new__(Generator)
        g._lock = threading.Lock()
        with self._lock:
            g._g = _lib.TorchGen.from_buffer_copy(self._g)
        return g

    __copy__ = copy

    def __deepcopy__(self, memo):
        return self.copy()

    def __reduce__(self):
        return (_restore, (self.get_state(), self.cpu))

    def __repr__(self):
        return "nninit.torch_stream.Generator(initial_seed=%d, cpu=%r)" % (self.initial_seed(), self.cpu)

    # ---- raw words ----

    def random(self, n):
        """The next n raw 32-bit engine outputs (CPUGeneratorImpl::random()),
        a uint32 NumPy array."""
        n = _size(n, "Generator.random", "n")
        if n < 0:
            raise ValueError("Generator.random: n (%d) must be >= 0" % n)
        out = np.empty(n, dtype=np.uint32)
        with self._lock:
            st = lib.nninit_torch_random(ctypes.byref(self._g), out.ctypes.data_as(ctypes.c_void_p), n)
        _lib.check(st, "Generator.random")
        return out

    # ---- the tensor ops ----

    def _call(self, v, func, fn, *args):
        with self._lock:
            st = fn(ctypes.byref(self._g), v.dtype, ctypes.c_void_p(v.ptr), *args)
        _lib.check(st, func)
        v.touched()

    def uniform_(self, tensor, a=0.0, b=1.0):
        """tensor.uniform_(a, b) / nn.init.uniform_(tensor, a, b). Returns tensor."""
        func = "Generator.uniform_"
        v = _target(tensor, func)
        self._call(v, func, lib.nninit_torch_uniform, v.numel, _real(a, func, "a"), _real(b, func, "b"))
        return tensor

    def normal_(self, tensor, mean=0.0, std=1.0):
        """tensor.normal_(mean, std) / nn.init.normal_: all three of torch's
        paths, the cached second value of the n < 16 path kept in the
        generator as torch keeps it. Returns tensor."""
        func = "Generator.normal_"
        v = _target(tensor, func)
        self._call(v, func, lib.nninit_torch_normal, v.numel, _real(mean, func, "mean"), _real(std, func, "std"))
        return tensor

    def trunc_normal_(self, tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
        """nn.init.trunc_normal_(tensor, mean, std, a, b) of 1.13 (inverse
        CDF; torch >= 2.12 draws another stream). Warns as torch does when
        mean is more than 2 std outside [a, b]. Returns tensor."""
        func = "Generator.trunc_normal_"
        v = _target(tensor, func)
        mean, std = _real(mean, func, "mean"), _real(std, func, "std")
        a, b = _real(a, func, "a"), _real(b, func, "b")
        if (mean < a - 2 * std) or (mean > b + 2 * std):
            warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                          "The distribution of values may be incorrect.", stacklevel=2)
        self._call(v, func, lib.nninit_torch_trunc_normal, v.numel, mean, std, a, b)
        return tensor

    def _kaiming(self, tensor, a, mode, nonlinearity, func, fn):
        v = _target(tensor, func)
        if 0 in v.shape:  # torch: a warning, nothing drawn
            warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
            return tensor
        _fans(v.shape, func)
        if not isinstance(mode, str):
            raise TypeError("%s: mode must be a str (fan_in or fan_out), not %s" % (func, type(mode).__name__))
        m = mode.lower()
        if m not in _FAN_MODES:
            raise ValueError("%s: Mode %s not supported, please use one of ['fan_in', 'fan_out']" % (func, m))
        if not isinstance(nonlinearity, str) or nonlinearity not in _NONLINEARITIES:
            raise ValueError("%s: Unsupported nonlinearity %s (one of %s)" %
                             (func, nonlinearity, ", ".join(_NONLINEARITIES)))
        slope = 0.0  # read by leaky_relu only, as in torch
        if nonlinearity == "leaky_relu":
            if a is None:
                slope = 0.01
            elif isinstance(a, bool) or not isinstance(a, numbers.Real):
                raise ValueError("%s: negative_slope %r not a valid number" % (func, a))
            else:
                slope = float(a)
        nl = _NONLINEARITIES.index(nonlinearity)
        self._call(v, func, fn, len(v.shape), _shape_arg(v.shape), slope, _FAN_MODES.index(m), nl)
        return tensor

    def kaiming_uniform_(self, tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
        """nn.init.kaiming_uniform_: U(+-sqrt(3) gain / sqrt(fan)). Returns tensor."""
        return self._kaiming(tensor, a, mode, nonlinearity, "Generator.kaiming_uniform_",
                             lib.nninit_torch_kaiming_uniform)

    def kaiming_normal_(self, tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
        """nn.init.kaiming_normal_: N(0, gain^2 / fan). Returns tensor."""
        return self._kaiming(tensor, a, mode, nonlinearity, "Generator.kaiming_normal_",
                             lib.nninit_torch_kaiming_normal)

    def _xavier(self, tensor, gain, func, fn):
        v = _target(tensor, func)
        fan_in, fan_out = _fans(v.shape, func)
        gain = _real(gain, func, "gain")
        if v.numel == 0:  # torch computes the std (ZeroDivisionError for fans 0 + 0) and draws nothing
            gain * math.sqrt(2.0 / float(fan_in + fan_out))
            return tensor
        self._call(v, func, fn, len(v.shape), _shape_arg(v.shape), gain)
        return tensor

    def xavier_uniform_(self, tensor, gain=1.0):
        """nn.init.xavier_uniform_: U(+-gain sqrt(6 / (fan_in + fan_out))). Returns tensor."""
        return self._xavier(tensor, gain, "Generator.xavier_uniform_", lib.nninit_torch_xavier_uniform)

    def xavier_normal_(self, tensor, gain=1.0):
        """nn.init.xavier_normal_: N(0, gain^2 2 / (fan_in + fan_out)). Returns tensor."""
        return self._xavier(tensor, gain, "Generator.xavier_normal_", lib.nninit_torch_xavier_normal)

    # ---- whole layers: what their constructors draw ----

    def _layer(self, func, fn, wshape, bias, dtype, framework, *args):
        d = _new_dtype(dtype, framework, func)
        w = _arrays.empty(wshape, d, framework, func)
        b = _arrays.empty((wshape[0],), d, framework, func) if bias else None
        pw = ctypes.c_void_p(_arrays.view(w, func).ptr)
        pb = ctypes.c_void_p(_arrays.view(b, func).ptr) if bias else None
        with self._lock:
            st = fn(ctypes.byref(self._g), d, *args, 1 if bias else 0, pw, pb)
        _lib.check(st, func)
        return w, b

    def linear(self, in_features, out_features, bias=True, dtype=None, framework="numpy"):
        """nn.Linear(in_features, out_features, bias): (weight (out, in),
        bias (out,) or None), new arrays: NumPy (framework "numpy") or torch
        tensors ("torch"). dtype float32 (None; torch.get_default_dtype()
        for torch tensors) or float64. Sizes must be >= 1."""
        func = "Generator.linear"
        i, o = _size(in_features, func, "in_features"), _size(out_features, func, "out_features")
        if i < 1 or o < 1:
            raise ValueError("%s: in_features (%d) and out_features (%d) must be >= 1" % (func, i, o))
        return self._layer(func, lib.nninit_torch_linear, (o, i), bias, dtype, framework, i, o)

    def conv(self, in_channels, out_channels, kernel_size, groups=1, bias=True, dtype=None, framework="numpy",
             dims=2):
        """nn.Conv{dims}d(in_channels, out_channels, kernel_size,
        groups=groups, bias=bias): (weight (out, in / groups, *kernel),
        bias (out,) or None). kernel_size an int or dims ints; sizes >= 1."""
        if isinstance(dims, bool) or dims not in (1, 2, 3):
            raise ValueError("Generator.conv: dims must be 1, 2 or 3, not %r" % (dims,))
        func = "Generator.conv%dd" % dims
        i, o = _size(in_channels, func, "in_channels"), _size(out_channels, func, "out_channels")
        g = _size(groups, func, "groups")
        if isinstance(kernel_size, numbers.Integral) and not isinstance(kernel_size, bool):
            k = (int(kernel_size),) * dims
        else:
            try:
                k = tuple(kernel_size)
            except TypeError:
                raise TypeError("%s: kernel_size must be an int or %d ints, not %s" %
                                (func, dims, type(kernel_size).__name__)) from None
            if len(k) != dims:
                raise ValueError("%s: kernel_size %s must have %d entries" % (func, k, dims))
            k = tuple(_size(x, func, "kernel_size") for x in k)
        if i < 1 or o < 1 or min(k) < 1:
            raise ValueError("%s: in_channels (%d), out_channels (%d) and kernel_size %s must be >= 1" %
                             (func, i, o, k))
        if g < 1:
            raise ValueError("%s: groups (%d) must be a positive integer" % (func, g))
        if i % g:
            raise ValueError("%s: in_channels (%d) must be divisible by groups (%d)" % (func, i, g))
        if o % g:
            raise ValueError("%s: out_channels (%d) must be divisible by groups (%d)" % (func, o, g))
        return self._layer(func, lib.nninit_torch_conv, (o, i // g) + k, bias, dtype, framework, i, o, g, dims,
                           _shape_arg(k))

    def conv1d(self, in_channels, out_channels, kernel_size, groups=1, bias=True, dtype=None, framework="numpy"):
        """nn.Conv1d(...): (weight (out, in / groups, k), bias or None)."""
        return self.conv(in_channels, out_channels, kernel_size, groups, bias, dtype, framework, dims=1)

    def conv2d(self, in_channels, out_channels, kernel_size, groups=1, bias=True, dtype=None, framework="numpy"):
        """nn.Conv2d(...): (weight (out, in / groups, kh, kw), bias or None)."""
        return self.conv(in_channels, out_channels, kernel_size, groups, bias, dtype, framework, dims=2)

    def conv3d(self, in_channels, out_channels, kernel_size, groups=1, bias=True, dtype=None, framework="numpy"):
        """nn.Conv3d(...): (weight (out, in / groups, kd, kh, kw), bias or None)."""
        return self.conv(in_channels, out_channels, kernel_size, groups, bias, dtype, framework, dims=3)


def _restore(state, cpu):
    return Generator(cpu=cpu).set_state(state)


# ---- whole modules ----

_SUPPORTED = ("Linear, Bilinear, Conv1d/2d/3d, ConvTranspose1d/2d/3d, Embedding, EmbeddingBag, RNN, LSTM, GRU, "
              "RNNCell, LSTMCell, GRUCell; LayerNorm, BatchNorm, InstanceNorm, GroupNorm and PReLU draw nothing")


def _module_plan(module, func):
    """(action, module) for every module in module.modules() order, or a
    ValueError naming the first module whose construction is not reproduced."""
    import torch.nn as nn
    from torch.nn.modules.batchnorm import _NormBase
    from torch.nn.modules.conv import _ConvNd
    kinds = [(nn.Linear, nn.Linear.reset_parameters, "linear"), (_ConvNd, _ConvNd.reset_parameters, "conv"),
             (nn.Embedding, nn.Embedding.reset_parameters, "embedding"),
             (nn.EmbeddingBag, nn.EmbeddingBag.reset_parameters, "embedding"),
             (nn.Bilinear, nn.Bilinear.reset_parameters, "bilinear"),
             (nn.RNNBase, nn.RNNBase.reset_parameters, "rnn"), (nn.RNNCellBase, nn.RNNCellBase.reset_parameters, "rnn"),
             (nn.LayerNorm, nn.LayerNorm.reset_parameters, "reset"), (_NormBase, _NormBase.reset_parameters, "reset"),
             (nn.GroupNorm, nn.GroupNorm.reset_parameters, "reset"), (nn.PReLU, None, "keep")]
    plan = []
    for name, m in module.named_modules():
        kind = None
        for cls, reset, k in kinds:
            if isinstance(m, cls) and getattr(type(m), "reset_parameters", None) is reset and \
                    (k != "keep" or type(m) is cls):
                kind = k
                break
        params = list(m.named_parameters(recurse=False))
        if kind is None:
            if params:
                raise ValueError("%s: module '%s' (%s) has parameters (%s) whose construction the stream does not "
                                 "reproduce (%s)" % (func, name or "<root>", type(m).__name__,
                                                     ", ".join(n for n, _ in params), _SUPPORTED))
            continue
        for pn, p in params:
            _target(p, "%s: %s%s" % (func, name + "." if name else "", pn))
        plan.append((kind, m))
    return plan


def init_module_like_torch_(module, gen):
    """Re-draw every parameter of a torch module as its constructors drew
    them, from gen: each module's reset_parameters() in module.modules()
    order (Linear, Conv*d, ConvTranspose*d: kaiming_uniform_(weight,
    a=sqrt(5)), then the bias U(+-1/sqrt(fan_in)); Bilinear: U(+-1/sqrt(in1));
    RNN, LSTM, GRU and their cells: every parameter U(+-1/sqrt(hidden));
    Embedding(Bag): normal_, the padding_idx row zero; LayerNorm, GroupNorm,
    BatchNorm and InstanceNorm: their own reset_parameters(), which draws
    nothing; PReLU: left as it is, its constructor draws nothing).
    That equals constructing the module after torch.manual_seed(s) with
    Generator(s) when its layers were constructed in module order (as in
    nn.Sequential and __init__ code that assigns each layer as it builds
    it) and in the dtype they have now. Any other module with parameters of
    its own is a ValueError, raised before anything is drawn. Returns
    module."""
    func = "init_module_like_torch_"
    if not isinstance(gen, Generator):
        raise TypeError("%s: gen must be an nninit.torch_stream.Generator, not %s" % (func, type(gen).__name__))
    import torch
    plan = _module_plan(module, func)
    with torch.no_grad():
        for kind, m in plan:
            if kind in ("linear", "conv"):
                gen.kaiming_uniform_(m.weight, a=math.sqrt(5))
                if m.bias is not None:
                    fan_in, _ = _fans(tuple(m.weight.shape), func)
                    if kind == "linear":
                        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                        gen.uniform_(m.bias, -bound, bound)
                    elif fan_in != 0:
                        bound = 1 / math.sqrt(fan_in)
                        gen.uniform_(m.bias, -bound, bound)
            elif kind == "bilinear":
                bound = 1 / math.sqrt(m.weight.size(1))
                gen.uniform_(m.weight, -bound, bound)
                if m.bias is not None:
                    gen.uniform_(m.bias, -bound, bound)
            elif kind == "rnn":
                stdv = 1.0 / math.sqrt(m.hidden_size) if m.hidden_size > 0 else 0
                for w in m.parameters():
                    gen.uniform_(w, -stdv, stdv)
            elif kind == "embedding":
                gen.normal_(m.weight)
                m._fill_padding_idx_with_zero()
            elif kind == "reset":
                m.reset_parameters()
    return module


__all__ = ["CPU_MODES", "DEFAULT_SEED", "Generator", "STATE_SIZE", "detect_cpu", "init_module_like_torch_"]

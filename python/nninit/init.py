"""torch.nn.init's functions, in place, on NumPy arrays and CPU torch tensors.

Each has torch.nn.init's (PyTorch 1.13) signature and defaults, and takes
three more keyword arguments:

    seed=0          the seed (0..2^64-1)
    key="tensor"    the tensor's key: a name (hashed with FNV-1a 64, as
                    `nninit fill --key`; "tensor" is the CLI's default) or an
                    int id (`--key-id`)
    threads=None    fill threads, as nninit_fill_threads: 0 = one per CPU,
                    1 = this thread; None: $NNINIT_THREADS, else 0

and writes exactly the bytes `nninit fill SCHEME --shape ... --seed S --key K
--dtype D` writes: values are a pure function of (scheme, shape, dtype, seed,
key, element index), never of the thread count or the machine. The GIL is
released during the fill (ctypes does so for every foreign call), so other
Python threads run meanwhile.

The distribution is PyTorch's (same formula and arithmetic for bounds and
stds); the random stream is nninit's own (docs/RNG.md), so the values differ
from torch's for the same torch seed. Differences: orthogonal_ builds Q from
Householder reflectors (the same Haar distribution); sparse_ draws its zero
pattern from the tensor's key; a zero-element tensor is left as it is, after
its parameters are checked. Tensors must be dense and C-contiguous (a copy
would be filled instead of the caller's memory): float32, float64, float16,
and bfloat16 for torch.
"""
import ctypes
import numbers

from . import _core, _lib

lib = _lib.lib
_K = _core.DEFAULT_KEY


def _fill(tensor, scheme, func, seed, key, threads, **params):
    return _core.fill(tensor, _core.make_spec(scheme, params, func), func, seed=seed, key=key, threads=threads)


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (torch.nn.init.calculate_gain):
    linear, conv*, conv_transpose*, sigmoid 1; tanh 5/3; relu sqrt(2);
    leaky_relu sqrt(2 / (1 + param^2)), param 0.01 when None; selu 3/4."""
    nl = _core._enum(lib.nninit_nonlinearity_parse, nonlinearity, "calculate_gain", "nonlinearity",
                     _core.NONLINEARITIES)
    if param is None:
        p = float("nan")  # the C API's None: 0.01 for leaky_relu
    elif isinstance(param, bool) or not isinstance(param, numbers.Real):
        if nonlinearity == "leaky_relu":
            raise ValueError("calculate_gain: negative_slope %r not a valid number" % (param,))
        p = 0.0  # read by leaky_relu only
    else:
        p = float(param)
    g = ctypes.c_double()
    _lib.check(lib.nninit_calculate_gain(nl, p, ctypes.byref(g)), "calculate_gain")
    return g.value


def uniform_(tensor, a=0.0, b=1.0, *, seed=0, key=_K, threads=None):
    """U(a, b)."""
    return _fill(tensor, "uniform", "uniform_", seed, key, threads, a=a, b=b)


def normal_(tensor, mean=0.0, std=1.0, *, seed=0, key=_K, threads=None):
    """N(mean, std^2)."""
    return _fill(tensor, "normal", "normal_", seed, key, threads, mean=mean, std=std)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, *, seed=0, key=_K, threads=None):
    """N(mean, std^2) restricted to [a, b], absolute bounds (PyTorch)."""
    return _fill(tensor, "trunc_normal", "trunc_normal_", seed, key, threads, mean=mean, std=std, a=a, b=b)


def trunc_normal_std_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, *, seed=0, key=_K, threads=None):
    """N(mean, std^2) restricted to [mean + a*std, mean + b*std]: bounds in
    units of std (JAX's truncated_normal; scheme trunc_normal_std)."""
    return _fill(tensor, "trunc_normal_std", "trunc_normal_std_", seed, key, threads, mean=mean, std=std, a=a, b=b)


def constant_(tensor, val, *, seed=0, key=_K, threads=None):
    """Every element val (seed and key are accepted and change nothing)."""
    return _fill(tensor, "constant", "constant_", seed, key, threads, value=val)


def ones_(tensor, *, seed=0, key=_K, threads=None):
    return _fill(tensor, "ones", "ones_", seed, key, threads)


def zeros_(tensor, *, seed=0, key=_K, threads=None):
    return _fill(tensor, "zeros", "zeros_", seed, key, threads)


def eye_(tensor, *, seed=0, key=_K, threads=None):
    """The 2-D identity (rectangular allowed)."""
    return _fill(tensor, "eye", "eye_", seed, key, threads)


def dirac_(tensor, groups=1, *, seed=0, key=_K, threads=None):
    """The identity of a 3-, 4- or 5-D convolution weight, per group."""
    return _fill(tensor, "dirac", "dirac_", seed, key, threads, groups=groups)


def xavier_uniform_(tensor, gain=1.0, *, seed=0, key=_K, threads=None):
    """U(+-gain * sqrt(6 / (fan_in + fan_out)))."""
    return _fill(tensor, "xavier_uniform", "xavier_uniform_", seed, key, threads, gain=gain)


def xavier_normal_(tensor, gain=1.0, *, seed=0, key=_K, threads=None):
    """N(0, gain^2 * 2 / (fan_in + fan_out))."""
    return _fill(tensor, "xavier_normal", "xavier_normal_", seed, key, threads, gain=gain)


def _kaiming(tensor, a, mode, nonlinearity, func, scheme, seed, key, threads):
    if not isinstance(mode, str):
        raise TypeError("%s: mode must be a str (fan_in or fan_out), not %s" % (func, type(mode).__name__))
    if a is None:
        a = 0.01  # calculate_gain's None
    elif isinstance(a, bool) or not isinstance(a, numbers.Real):
        if nonlinearity == "leaky_relu":
            raise ValueError("%s: negative_slope %r not a valid number" % (func, a))
        a = 0.0  # PyTorch reads a for leaky_relu only
    return _fill(tensor, scheme, func, seed, key, threads, a=a, mode=mode.lower(), nonlinearity=nonlinearity)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", *, seed=0, key=_K, threads=None):
    """U(+-sqrt(3) * gain / sqrt(fan)), gain = calculate_gain(nonlinearity, a),
    fan by mode: fan_in or fan_out (also fan_avg, fan_geo_avg)."""
    return _kaiming(tensor, a, mode, nonlinearity, "kaiming_uniform_", "kaiming_uniform", seed, key, threads)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", *, seed=0, key=_K, threads=None):
    """N(0, gain^2 / fan), gain = calculate_gain(nonlinearity, a)."""
    return _kaiming(tensor, a, mode, nonlinearity, "kaiming_normal_", "kaiming_normal", seed, key, threads)


def orthogonal_(tensor, gain=1, *, seed=0, key=_K, threads=None):
    """gain * a (semi-)orthogonal matrix of shape (rows, numel / rows), Haar
    distributed. Runs on the calling thread."""
    return _fill(tensor, "orthogonal", "orthogonal_", seed, key, threads, gain=gain)


def sparse_(tensor, sparsity, std=0.01, *, seed=0, key=_K, threads=None):
    """N(0, std^2), then ceil(sparsity * rows) zeros in each column (2-D)."""
    return _fill(tensor, "sparse", "sparse_", seed, key, threads, sparsity=sparsity, std=std)


# ---- what torch.nn.init lacks ----------------------------------------------

def _layout_kw(layout, groups, in_axis, out_axis, grouped_fan_out):
    return dict(layout=layout, groups=groups, in_axis=in_axis, out_axis=out_axis, grouped_fan_out=grouped_fan_out)


def lecun_uniform_(tensor, *, seed=0, key=_K, threads=None, layout="oihw", groups=1, in_axis=None, out_axis=None,
                   grouped_fan_out=False):
    """U(+-sqrt(3 / fan_in)); fans by layout (default oihw, PyTorch's)."""
    return _core.fill(tensor, _core.make_spec("lecun_uniform", {}, "lecun_uniform_"), "lecun_uniform_", seed=seed,
                      key=key, threads=threads, **_layout_kw(layout, groups, in_axis, out_axis, grouped_fan_out))


def lecun_normal_(tensor, *, seed=0, key=_K, threads=None, layout="oihw", groups=1, in_axis=None, out_axis=None,
                  grouped_fan_out=False):
    """N(0, 1 / fan_in), untruncated (Keras' lecun_normal is
    variance_scaling_(t, 1, "fan_in", "truncated_normal"))."""
    return _core.fill(tensor, _core.make_spec("lecun_normal", {}, "lecun_normal_"), "lecun_normal_", seed=seed,
                      key=key, threads=threads, **_layout_kw(layout, groups, in_axis, out_axis, grouped_fan_out))


def variance_scaling_(tensor, scale=1.0, mode="fan_in", distribution="truncated_normal", *, seed=0, key=_K,
                      threads=None, layout="oihw", groups=1, in_axis=None, out_axis=None, grouped_fan_out=False):
    """Keras' / JAX's VarianceScaling: var = scale / max(1, fan), fan by mode
    (fan_in, fan_out, fan_avg, fan_geo_avg); distribution uniform
    U(+-sqrt(3 var)), normal N(0, var), or truncated_normal (std
    sqrt(var) / .87962566103423978 on +-2 std). For a Keras/TF kernel
    (k..., in, out) pass layout="hwio"."""
    spec = _core.make_spec("variance_scaling", dict(scale=scale, mode=mode, distribution=distribution),
                           "variance_scaling_")
    return _core.fill(tensor, spec, "variance_scaling_", seed=seed, key=key, threads=threads,
                      **_layout_kw(layout, groups, in_axis, out_axis, grouped_fan_out))


def fill_(tensor, scheme, *, seed=0, key=_K, threads=None, layout="oihw", groups=1, fans_of=None, in_axis=None,
          out_axis=None, grouped_fan_out=False, **params):
    """Any scheme, as scheme text ("trunc_normal(std=0.02, a=-0.04, b=0.04)",
    the grammar of nninit_spec_parse and the CLI) and/or keyword parameters
    (which override the text's): `nninit fill` in Python, option for option:
    layout, groups, in_axis/out_axis, grouped_fan_out, fans_of (the shape
    of the tensor whose fans a fan-based scheme takes: a bias drawn like its
    weight)."""
    spec = _core.make_spec(scheme, params, "fill_")
    return _core.fill(tensor, spec, "fill_", seed=seed, key=key, threads=threads, fans_of=fans_of,
                      **_layout_kw(layout, groups, in_axis, out_axis, grouped_fan_out))


def explain(scheme, shape, dtype="f32", *, layout="oihw", groups=1, in_axis=None, out_axis=None,
            grouped_fan_out=False, **params):
    """What scheme resolves to on a tensor of shape, drawing nothing (as
    `nninit explain`): a dict with distribution (constant, uniform, normal,
    trunc_normal, structured), scheme (canonical text), fan_in, fan_out, fan,
    gain, mean, std, bound, lo, hi, variance (None where they do not apply)."""
    from . import _arrays
    spec = _core.make_spec(scheme, params, "explain")
    return _core.explain(spec, shape, _arrays.parse_dtype(dtype, "explain"), "explain",
                         **_layout_kw(layout, groups, in_axis, out_axis, grouped_fan_out))

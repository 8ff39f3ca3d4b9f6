#!/usr/bin/python3
"""test_python_init.py -- the nninit Python package's torch.nn.init-style
functions (python/nninit/init.py) on NumPy arrays and torch tensors.

Run by ctest as `/usr/bin/python3 tests/test_python_init.py` with
NNINIT_BUILD_DIR (libnninit.so), NNINIT_SOURCE_DIR and NNINIT_CLI; the
package loads libnninit.so through ctypes.CDLL (so that the sanitizer
build preloads its runtimes for this test).

  bytes        every scheme, f32/f64/f16 NumPy and f32/bf16/f16 torch, keys by
               name and id, several seeds: exactly the bytes of `nninit fill ...
               -o x.npy` for the same (scheme, shape, dtype, seed, key); threads
               1, 3 and 0 give the same bytes.
  in place     the caller's memory is written (data pointers unchanged, views
               of a base see the values); torch's version counter moves.
  torch        every torch.nn.init function has torch 1.13's parameters and
               defaults (inspect.signature), plus keyword-only seed, key,
               threads; calculate_gain equals torch's exactly.
  errors       every bad argument: wrong dtype, byte order, non-contiguous,
               read-only, misaligned, not an array, meta device, bad mode and
               nonlinearity, fans of 1-D and 0-D, eye_ 3-D, dirac_ 2-D and bad
               groups, sparse_ 3-D and bad sparsity, orthogonal_ 1-D, bad
               bounds and stds, bad seed / key / threads, too many dims, a
               constant the dtype cannot hold, scheme text errors: the
               exception type and the message.
  GIL          another Python thread runs while a long fill is in the C call.
"""
import inspect
import math
import random
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
SRC = os.environ.get("NNINIT_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("NNINIT_BUILD_DIR", os.path.join(SRC, "build"))
os.environ["NNINIT_LIBRARY"] = os.path.join(BUILD, "libnninit.so")
os.environ.pop("NNINIT_THREADS", None)
sys.path.insert(0, os.path.join(SRC, "python"))
CLI = os.environ.get("NNINIT_CLI", os.path.join(BUILD, "nninit"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.init as tinit  # noqa: E402

import nninit  # noqa: E402

# (scheme, CLI options, nninit function, args, kwargs, shape)
CASES = [
    ("uniform", ["--a", "-0.5", "--b", "0.25"], nninit.uniform_, (-0.5, 0.25), {}, (300, 500)),
    ("uniform", [], nninit.uniform_, (), {}, (7,)),
    ("normal", ["--mean", "0.1", "--std", "0.02"], nninit.normal_, (), {"mean": 0.1, "std": 0.02}, (300, 500)),
    ("normal", [], nninit.normal_, (), {}, (3, 4, 5)),
    ("trunc_normal", ["--std", "0.02", "--a", "-0.04", "--b", "0.04"], nninit.trunc_normal_, (),
     {"std": 0.02, "a": -0.04, "b": 0.04}, (256, 300)),
    ("trunc_normal", [], nninit.trunc_normal_, (), {}, (33,)),
    ("trunc_normal_std", ["--mean", "1", "--std", "3", "--a", "-1.5", "--b", "2"], nninit.trunc_normal_std_,
     (1.0, 3.0, -1.5, 2.0), {}, (64, 65)),
    ("constant", ["--value", "0.3"], nninit.constant_, (0.3,), {}, (10, 10)),
    ("zeros", [], nninit.zeros_, (), {}, (4, 4)),
    ("ones", [], nninit.ones_, (), {}, (4, 4)),
    ("eye", [], nninit.eye_, (), {}, (5, 7)),
    ("dirac", ["--groups", "2"], nninit.dirac_, (2,), {}, (6, 4, 3, 3)),
    ("dirac", [], nninit.dirac_, (), {}, (4, 4, 3)),
    ("xavier_uniform", ["--gain", "1.5"], nninit.xavier_uniform_, (1.5,), {}, (300, 500)),
    ("xavier_normal", [], nninit.xavier_normal_, (), {}, (64, 3, 7, 7)),
    ("kaiming_uniform", ["--a", "0.1", "--mode", "fan_out"], nninit.kaiming_uniform_, (0.1, "fan_out"), {},
     (128, 64, 3)),
    ("kaiming_uniform", ["--a", "2.23606797749979"], nninit.kaiming_uniform_, (math.sqrt(5),), {}, (256, 784)),
    ("kaiming_normal", ["--nonlinearity", "relu"], nninit.kaiming_normal_, (), {"nonlinearity": "relu"},
     (300, 500)),
    ("kaiming_normal", ["--nonlinearity", "tanh", "--mode", "fan_out"], nninit.kaiming_normal_, (),
     {"mode": "FAN_OUT", "nonlinearity": "tanh"}, (16, 8)),
    ("lecun_uniform", [], nninit.lecun_uniform_, (), {}, (100, 50)),
    ("lecun_normal", ["--layout", "hwio"], nninit.lecun_normal_, (), {"layout": "hwio"}, (3, 3, 16, 32)),
    ("variance_scaling", [], nninit.variance_scaling_, (), {}, (200, 300)),
    ("variance_scaling", ["--scale", "2", "--mode", "fan_avg", "--distribution", "uniform"],
     nninit.variance_scaling_, (2.0, "fan_avg", "uniform"), {}, (50, 60)),
    ("variance_scaling", ["--scale", "0.5", "--mode", "fan_geo_avg", "--distribution", "normal"],
     nninit.variance_scaling_, (0.5, "fan_geo_avg", "normal"), {}, (50, 60)),
    ("orthogonal", ["--gain", "1.3"], nninit.orthogonal_, (1.3,), {}, (20, 50)),
    ("orthogonal", [], nninit.orthogonal_, (), {}, (50, 4, 5)),
    ("sparse", ["--sparsity", "0.3", "--std", "0.05"], nninit.sparse_, (0.3, 0.05), {}, (40, 30)),
]
NUMPY_DTYPES = [("f32", np.float32), ("f64", np.float64), ("f16", np.float16)]
TORCH_DTYPES = [("f32", torch.float32), ("bf16", torch.bfloat16), ("f16", torch.float16)]


def cli_fill(scheme, opts, shape, dtype, seed, key, tmp):
    out = os.path.join(tmp, "x.npy")
    keyopt = ["--key-id", str(key)] if isinstance(key, int) else ["--key", key]
    r = subprocess.run([CLI, "fill", scheme, "--shape", ",".join(map(str, shape)), "--dtype", dtype, "--seed",
                        str(seed), *keyopt, *opts, "-o", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=120)
    if r.returncode:
        raise AssertionError("nninit fill %s %s: %s" % (scheme, opts, r.stderr))
    return np.load(out).tobytes()


def torch_bytes(t):
    return (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()


class Bytes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def test_numpy_equals_cli(self):
        for scheme, opts, f, args, kw, shape in CASES:
            for dname, dt in NUMPY_DTYPES:
                for seed, key in ((0, "tensor"), (7, "layers.0.weight"), (2**64 - 1, 12345)):
                    with self.subTest(scheme=scheme, opts=opts, dtype=dname, seed=seed, key=key):
                        x = np.empty(shape, dtype=dt)
                        kk = {} if (seed, key) == (0, "tensor") else {"seed": seed, "key": key}
                        y = f(x, *args, **kw, **kk)
                        self.assertIs(y, x)
                        self.assertEqual(x.tobytes(), cli_fill(scheme, opts, shape, dname, seed, key,
                                                               self.tmp.name))

    def test_torch_equals_cli(self):
        for scheme, opts, f, args, kw, shape in CASES:
            for dname, dt in TORCH_DTYPES:
                with self.subTest(scheme=scheme, opts=opts, dtype=dname):
                    x = torch.empty(shape, dtype=dt)
                    ptr = x.data_ptr()
                    y = f(x, *args, **kw, seed=3, key="w")
                    self.assertIs(y, x)
                    self.assertEqual(x.data_ptr(), ptr)
                    self.assertEqual(torch_bytes(x), cli_fill(scheme, opts, shape, dname, 3, "w", self.tmp.name))

    def test_fill_text_equals_cli(self):
        x = np.empty((64, 48), np.float32)
        nninit.fill_(x, "trunc_normal(std=0.02, a=-0.04, b=0.04)", seed=5, key="k")
        self.assertEqual(x.tobytes(), cli_fill("trunc_normal", ["--std", "0.02", "--a", "-0.04", "--b", "0.04"],
                                               (64, 48), "f32", 5, "k", self.tmp.name))
        # keyword parameters override the text's
        nninit.fill_(x, "normal(std=0.5)", std=0.25, mean=1.0, seed=5, key="k")
        self.assertEqual(x.tobytes(), cli_fill("normal", ["--std", "0.25", "--mean", "1"], (64, 48), "f32", 5, "k",
                                               self.tmp.name))

    def test_fans_of_and_layout_options_equal_cli(self):
        b = np.empty(256, np.float32)
        nninit.fill_(b, "kaiming_uniform", a=math.sqrt(5), fans_of=(256, 784), seed=1, key="fc.bias")
        self.assertEqual(b.tobytes(), cli_fill("kaiming_uniform", ["--a", "2.23606797749979", "--fans-of",
                                                                   "256,784"], (256,), "f32", 1, "fc.bias",
                                               self.tmp.name))
        w = np.empty((3, 3, 8, 16), np.float64)
        nninit.fill_(w, "xavier_normal", in_axis=-2, out_axis=-1, seed=2)
        self.assertEqual(w.tobytes(), cli_fill("xavier_normal", ["--in-axis", "-2", "--out-axis", "-1"],
                                               (3, 3, 8, 16), "f64", 2, "tensor", self.tmp.name))
        w = np.empty((8, 4, 3, 3), np.float32)
        nninit.fill_(w, "kaiming_normal", groups=2, grouped_fan_out=True, mode="fan_out", seed=2)
        self.assertEqual(w.tobytes(), cli_fill("kaiming_normal", ["--groups", "2", "--grouped-fan-out", "--mode",
                                                                  "fan_out"], (8, 4, 3, 3), "f32", 2, "tensor",
                                               self.tmp.name))

    def test_threads_never_change_a_bit(self):
        for scheme, opts, f, args, kw, shape in CASES:
            with self.subTest(scheme=scheme, opts=opts):
                ref = f(np.empty(shape, np.float32), *args, **kw, threads=1)
                for n in (0, 3, 1000):
                    self.assertEqual(f(np.empty(shape, np.float32), *args, **kw, threads=n).tobytes(),
                                     ref.tobytes())
        big = np.empty(1 << 20, np.float32)
        ref = nninit.normal_(big.copy(), threads=1)
        os.environ["NNINIT_THREADS"] = "2"  # threads=None reads it
        try:
            self.assertEqual(nninit.normal_(big).tobytes(), ref.tobytes())
        finally:
            del os.environ["NNINIT_THREADS"]

    def test_seed_and_key_select_streams(self):
        a = nninit.normal_(np.empty(1000, np.float32), seed=1, key="a")
        self.assertNotEqual(a.tobytes(), nninit.normal_(np.empty(1000, np.float32), seed=2, key="a").tobytes())
        self.assertNotEqual(a.tobytes(), nninit.normal_(np.empty(1000, np.float32), seed=1, key="b").tobytes())
        self.assertEqual(a.tobytes(), nninit.normal_(np.empty(1000, np.float32), seed=1, key="a").tobytes())
        # the default key is the CLI's: "tensor"
        self.assertEqual(nninit.normal_(np.empty(10, np.float32)).tobytes(),
                         nninit.normal_(np.empty(10, np.float32), key="tensor").tobytes())


class InPlace(unittest.TestCase):
    def test_writes_the_callers_memory(self):
        base = np.zeros((4, 100), np.float32)
        row = base[1]  # a contiguous view
        nninit.ones_(row)
        self.assertTrue((base[1] == 1).all() and (base[0] == 0).all() and (base[2:] == 0).all())
        t = torch.zeros(4, 100)
        nninit.ones_(t[2])
        self.assertTrue(bool((t[2] == 1).all()) and float(t.sum()) == 100.0)
        shared = torch.zeros(10)
        view = shared.numpy()
        nninit.constant_(shared, 2.5)
        self.assertTrue((view == 2.5).all())

    def test_torch_version_counter_moves(self):
        w = torch.empty(5, 5, requires_grad=True)
        v = w._version
        nninit.normal_(w)
        self.assertGreater(w._version, v)
        self.assertTrue(w.requires_grad and w.grad_fn is None)
        # autograd sees the write: a tensor saved for backward, then re-filled
        x = torch.ones(3, requires_grad=True)
        y = x * 1.0
        z = (y * y).sum()
        nninit.zeros_(y)
        with self.assertRaisesRegex(RuntimeError, "modified by an inplace operation"):
            z.backward()

    def test_empty_and_scalar(self):
        e = np.empty((0, 5), np.float32)
        self.assertIs(nninit.kaiming_uniform_(e), e)
        with self.assertRaisesRegex(ValueError, "uniform: a \\(1\\) must be < b \\(0\\)"):
            nninit.uniform_(np.empty((0, 3), np.float32), 1.0, 0.0)  # still checked
        s = np.empty((), np.float64)
        nninit.normal_(s, seed=4)
        ref = nninit.normal_(np.empty(1, np.float64), seed=4)
        self.assertEqual(s.tobytes(), ref.tobytes())
        ts = torch.empty(())
        nninit.uniform_(ts)
        self.assertTrue(0 <= float(ts) < 1)


class TorchSignatures(unittest.TestCase):
    NAMES = ["uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
             "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
             "calculate_gain"]

    def test_parameters_and_defaults(self):
        for name in self.NAMES:
            with self.subTest(name=name):
                theirs = inspect.signature(getattr(tinit, name)).parameters
                ours = inspect.signature(getattr(nninit, name)).parameters
                positional = [p for p in ours.values() if p.kind != p.KEYWORD_ONLY]
                self.assertEqual([p.name for p in positional], list(theirs))
                for p in positional:
                    t = theirs[p.name]
                    self.assertEqual(p.default, t.default, p.name)
                    if t.default is not inspect.Parameter.empty:
                        self.assertEqual(type(p.default) is float, type(t.default) is float, p.name)
                extra = [p.name for p in ours.values() if p.kind == p.KEYWORD_ONLY]
                self.assertEqual(extra, [] if name == "calculate_gain" else ["seed", "key", "threads"])

    def test_calculate_gain_equals_torch(self):
        for nl in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                   "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]:
            for param in (None, 0, 0.2, 1, 3.5, -0.3):
                with self.subTest(nl=nl, param=param):
                    self.assertEqual(nninit.calculate_gain(nl, param), tinit.calculate_gain(nl, param))
        # slopes where negative_slope ** 2 (libm's pow) and s * s give different gains: a
        # compiler folding pow(s, 2.0) into s * s would fail here
        rng = random.Random(1)
        slopes = [s for s in (rng.uniform(0, 10) for _ in range(100000))
                  if math.sqrt(2 / (1 + s ** 2)) != math.sqrt(2 / (1 + s * s))]
        self.assertGreater(len(slopes), 3)
        for s in slopes:
            self.assertEqual(nninit.calculate_gain("leaky_relu", s), tinit.calculate_gain("leaky_relu", s), s)

    def test_same_distribution_as_torch(self):
        # the bound / std torch computes: the extremes and moments of large fills
        w = torch.empty(512, 1024)
        nninit.kaiming_uniform_(w, a=math.sqrt(5))
        bound = math.sqrt(3.0) * tinit.calculate_gain("leaky_relu", math.sqrt(5)) / math.sqrt(1024)
        self.assertLessEqual(float(w.abs().max()), bound)
        self.assertGreater(float(w.abs().max()), bound * 0.999)
        nninit.xavier_normal_(w, gain=2.0)
        std = 2.0 * math.sqrt(2.0 / (512 + 1024))
        self.assertAlmostEqual(float(w.std()) / std, 1.0, delta=5 * math.sqrt(2 / w.numel()))
        nninit.trunc_normal_(w, std=0.02, a=-0.03, b=0.01)
        self.assertGreaterEqual(float(w.min()), -0.03)
        self.assertLessEqual(float(w.max()), 0.01)
        nninit.sparse_(w, 0.25)
        zeros = (w == 0).sum(0)
        self.assertTrue(bool((zeros == math.ceil(0.25 * 512)).all()))
        nninit.orthogonal_(w)
        self.assertTrue(torch.allclose(w @ w.T, torch.eye(512), atol=1e-4))


class Errors(unittest.TestCase):
    def check(self, exc, pattern, f, *args, **kw):
        with self.assertRaisesRegex(exc, pattern):
            f(*args, **kw)

    def test_arrays(self):
        self.check(TypeError, "normal_: dtype int32 is not filled by nninit", nninit.normal_, np.zeros(3, np.int32))
        self.check(TypeError, "NumPy has no bfloat16", nninit.normal_, np.zeros(3, np.uint16))
        self.check(TypeError, "dtype complex64", nninit.normal_, np.zeros(3, np.complex64))
        self.check(TypeError, "not in this machine's byte order", nninit.normal_, np.zeros(3, ">f4"))
        self.check(TypeError, "torch dtype int64 is not filled", nninit.normal_, torch.zeros(3, dtype=torch.int64))
        self.check(TypeError, "expected a numpy.ndarray or a torch.Tensor, not list", nninit.normal_, [1.0, 2.0])
        self.check(ValueError, "not C-contiguous \\(strides \\(32, 16\\) for shape \\(4, 2\\)\\)", nninit.normal_,
                   np.zeros((4, 4))[:, ::2])
        self.check(ValueError, "not C-contiguous", nninit.xavier_uniform_, np.zeros((4, 3), np.float32).T)
        self.check(ValueError, "the tensor is not contiguous", nninit.xavier_uniform_, torch.zeros(4, 3).T)
        ro = np.zeros(4, np.float32)
        ro.flags.writeable = False
        self.check(ValueError, "uniform_: the array is read-only", nninit.uniform_, ro)
        self.check(ValueError, "not C-contiguous \\(strides \\(0, 0\\)", nninit.zeros_,
                   np.broadcast_to(np.float32(1), (3, 3)))
        mis = np.frombuffer(bytearray(17), dtype=np.float32, count=4, offset=1)
        self.check(ValueError, "normal_: the array's data is not aligned to its 4-byte elements", nninit.normal_, mis)
        buf = np.zeros(17, np.uint8)
        mis = buf[1:].view(np.float32)
        self.check(ValueError, "not aligned to its 4-byte elements", nninit.normal_, mis)
        self.check(ValueError, "on device 'meta'", nninit.normal_, torch.empty(3, device="meta"))
        self.check(TypeError, "torch.sparse_coo tensor", nninit.normal_, torch.zeros(3, 3).to_sparse())
        self.check(ValueError, "9 dimensions; nninit fills tensors of at most 8", nninit.normal_,
                   np.zeros((1,) * 9, np.float32))

    def test_modes_and_nonlinearities(self):
        w = np.zeros((4, 4), np.float32)
        self.check(ValueError, "kaiming_uniform_: unsupported mode 'fan_x' \\(one of fan_in, fan_out",
                   nninit.kaiming_uniform_, w, mode="fan_x")
        self.check(TypeError, "kaiming_normal_: mode must be a str", nninit.kaiming_normal_, w, mode=1)
        self.check(ValueError, "kaiming_normal_: unsupported nonlinearity 'gelu' \\(one of linear",
                   nninit.kaiming_normal_, w, nonlinearity="gelu")
        self.check(ValueError, "unsupported nonlinearity 'Relu'", nninit.calculate_gain, "Relu")
        self.check(TypeError, "nonlinearity must be a str", nninit.calculate_gain, None)
        self.check(ValueError, "negative_slope True not a valid number", nninit.calculate_gain, "leaky_relu", True)
        self.check(ValueError, "negative_slope 'x' not a valid number", nninit.kaiming_uniform_, w, a="x")
        self.check(ValueError, "kaiming_uniform_: kaiming_uniform: calculate_gain: negative_slope inf is not a "
                   "valid number", nninit.kaiming_uniform_, w, a=math.inf)
        self.check(ValueError, "variance_scaling_: unsupported distribution 'gamma'", nninit.variance_scaling_, w,
                   distribution="gamma")
        self.check(ValueError, "variance_scaling: scale -1 must be finite and > 0", nninit.variance_scaling_, w, -1.0)

    def test_dimensions(self):
        one = np.zeros(5, np.float32)
        for f in (nninit.kaiming_uniform_, nninit.kaiming_normal_, nninit.xavier_uniform_, nninit.xavier_normal_,
                  nninit.lecun_uniform_, nninit.lecun_normal_, nninit.variance_scaling_):
            with self.subTest(f=f.__name__):
                self.check(ValueError, "%s: .*fan in and fan out can not be computed for a tensor with fewer than 2 "
                           "dimensions \\(ndim 1\\)" % f.__name__, f, one)
                self.check(ValueError, "fewer than 2 dimensions \\(ndim 0\\)", f, np.zeros((), np.float32))
        self.check(ValueError, "eye_: eye: only 2-dimensional tensors are supported \\(ndim 3\\)", nninit.eye_,
                   np.zeros((2, 2, 2), np.float32))
        self.check(ValueError, "eye: only 2-dimensional .*\\(ndim 1\\)", nninit.eye_, torch.zeros(3))
        self.check(ValueError, "dirac_: dirac: only 3, 4 and 5-dimensional tensors are supported \\(ndim 2\\)",
                   nninit.dirac_, np.zeros((3, 3), np.float32))
        self.check(ValueError, "\\(ndim 6\\)", nninit.dirac_, np.zeros((2,) * 6, np.float32))
        self.check(ValueError, "dirac: dim 0 \\(6\\) must be divisible by groups \\(4\\)", nninit.dirac_,
                   np.zeros((6, 3, 3), np.float32), 4)
        self.check(ValueError, "dirac_: groups 0 must be in 1..2\\^31-1", nninit.dirac_,
                   np.zeros((6, 3, 3), np.float32), 0)
        self.check(TypeError, "groups must be an int, not float", nninit.dirac_, np.zeros((6, 3, 3), np.float32), 2.0)
        self.check(ValueError, "sparse_: sparse: only tensors with 2 dimensions are supported \\(ndim 3\\)",
                   nninit.sparse_, np.zeros((2, 2, 2), np.float32), 0.1)
        self.check(ValueError, "sparse: sparsity 1.5 must be in \\[0, 1\\]", nninit.sparse_,
                   np.zeros((4, 4), np.float32), 1.5)
        self.check(ValueError, "orthogonal_: orthogonal: only tensors with 2 or more dimensions are supported "
                   "\\(ndim 1\\)", nninit.orthogonal_, np.zeros(4, np.float32))

    def test_parameters(self):
        w = np.zeros((4, 4), np.float32)
        self.check(ValueError, "uniform_: uniform: a \\(1\\) must be < b \\(0\\)", nninit.uniform_, w, 1.0, 0.0)
        self.check(ValueError, "uniform_: uniform: a is nan; it must be finite", nninit.uniform_, w, math.nan, 1.0)
        self.check(ValueError, "normal_: normal: std is -1; it must be finite and >= 0", nninit.normal_, w, 0.0, -1.0)
        self.check(ValueError, "normal: std is nan", nninit.normal_, w, 0.0, math.nan)
        self.check(TypeError, "normal_: std must be a real number, not str", nninit.normal_, w, 0.0, "1")
        self.check(TypeError, "mean must be a real number, not NoneType", nninit.normal_, w, None)
        self.check(ValueError, "trunc_normal_: trunc_normal: a \\(2\\) must be < b \\(-2\\)", nninit.trunc_normal_,
                   w, 0.0,
                   1.0, 2.0, -2.0)
        self.check(ValueError, "trunc_normal: std must be > 0", nninit.trunc_normal_, w, std=0.0)
        self.check(ValueError, "orthogonal: gain inf must be finite", nninit.orthogonal_, w, math.inf)
        self.check(ValueError, "sparse: sparsity nan must be in", nninit.sparse_, w, math.nan)
        self.check(ValueError, "xavier_uniform: gain -1 must be finite and >= 0", nninit.xavier_uniform_, w, -1.0)
        self.check(ValueError, "constant: value 1e\\+06 overflows f16", nninit.constant_, np.zeros(3, np.float16),
                   1e6)
        self.check(ValueError, "overflows bf16", nninit.constant_, torch.zeros(3, dtype=torch.bfloat16), 1e39)
        e = None
        try:
            nninit.uniform_(w, 1.0, 0.0)
        except ValueError as ex:
            e = ex
        self.assertIsInstance(e, nninit.Error)  # C-reported errors are nninit.Error too
        self.assertEqual(e.status, "NNINIT_ERR_RANGE")

    def test_seed_key_threads(self):
        w = np.zeros(4, np.float32)
        self.check(ValueError, "normal_: seed -1 outside 0..2\\^64-1", nninit.normal_, w, seed=-1)
        self.check(ValueError, "seed 18446744073709551616 outside", nninit.normal_, w, seed=2**64)
        self.check(TypeError, "seed must be an int, not float", nninit.normal_, w, seed=1.5)
        self.check(TypeError, "seed must be an int, not bool", nninit.normal_, w, seed=True)
        self.check(TypeError, "key must be a str \\(a name\\) or an int \\(an id\\), not float", nninit.normal_, w,
                   key=1.5)
        self.check(ValueError, "key contains a NUL character", nninit.normal_, w, key="a\0b")
        self.check(ValueError, "key id -1 outside", nninit.normal_, w, key=-1)
        self.check(ValueError, "normal_: threads -1 must be >= 0", nninit.normal_, w, threads=-1)
        self.check(TypeError, "threads must be an int, not str", nninit.normal_, w, threads="2")
        os.environ["NNINIT_THREADS"] = "many"
        try:
            self.check(ValueError, "NNINIT_THREADS='many' must be an integer in 0..256", nninit.normal_, w)
        finally:
            del os.environ["NNINIT_THREADS"]

    def test_scheme_text(self):
        w = np.zeros((4, 4), np.float32)
        self.check(ValueError, "fill_: normal takes no parameter 'gain' \\(it takes: mean, std\\)", nninit.fill_, w,
                   "normal", gain=2.0)
        self.check(ValueError, "fill_: scheme: at 8: normal takes no parameter 'gain'", nninit.fill_, w,
                   "normal(gain=2)")
        self.check(ValueError, "fill_: scheme: at 1: expected a scheme .* but found 'gaussian'", nninit.fill_, w,
                   "gaussian")
        self.check(ValueError, "fill_: scheme: at 12: expected a number for std but found '\\)'", nninit.fill_, w,
                   "normal(std=)")
        self.check(TypeError, "fill_: scheme must be a str, not int", nninit.fill_, w, 3)
        self.check(ValueError, "fans_of: normal does not use fans", nninit.fill_, np.zeros(4, np.float32), "normal",
                   fans_of=(4, 4))
        self.check(ValueError, "a custom layout needs in_axis and out_axis", nninit.fill_, w, "xavier_normal",
                   layout="custom")
        self.check(ValueError, "in_axis and out_axis go together", nninit.fill_, w, "xavier_normal", in_axis=0)
        self.check(ValueError, "in_axis/out_axis outside the 2 dimensions", nninit.fill_, w, "xavier_normal",
                   in_axis=0, out_axis=2)
        self.check(ValueError, "unsupported layout 'nchw'", nninit.fill_, w, "xavier_normal", layout="nchw")
        self.check(ValueError, "explain: .*fewer than 2 dimensions", nninit.explain, "xavier_normal", (4,))
        self.check(TypeError, "explain: unknown dtype 'f8'", nninit.explain, "normal", (4,), "f8")


class Gil(unittest.TestCase):
    def test_another_thread_runs_during_a_fill(self):
        # A fill long enough (grown until it takes >= 0.3 s on one thread) and
        # a thread that counts; with the GIL held for the whole C call the
        # counter could not move between the fill's start and end.
        n = 1 << 22
        while True:
            x = np.empty(n, np.float64)
            t0 = time.perf_counter()
            nninit.trunc_normal_(x, threads=1)
            if time.perf_counter() - t0 >= 0.3 or n >= 1 << 28:
                break
            n *= 2
        ticks = []
        stop = threading.Event()

        def count():
            while not stop.is_set():
                ticks.append(time.perf_counter())

        th = threading.Thread(target=count)
        th.start()
        while not ticks:
            time.sleep(0.001)
        t0 = time.perf_counter()
        nninit.trunc_normal_(x, threads=1)
        t1 = time.perf_counter()
        stop.set()
        th.join()
        during = [t for t in ticks if t0 + 0.05 < t < t1 - 0.05]
        self.assertGreater(len(during), 100, "the counting thread did not run during the fill (%.2f s)" % (t1 - t0))


if __name__ == "__main__":
    unittest.main(verbosity=1)

#!/usr/bin/python3
"""test_torch_stream_torch.py -- the torch stream (include/nninit_torch.h) against
Debian's PyTorch 1.13 (python3-torch), byte for byte.

Run by ctest as `/usr/bin/python3 tests/test_torch_stream_torch.py`, with
libnninit.so from $NNINIT_BUILD_DIR, through ctypes. After torch.manual_seed(s)
on one side and nninit_torch_gen_init(s) on the other, every tensor must hold
the same bytes:
  1. the engine: raw words against the tempered words of torch.get_rng_state(),
     the state bytes themselves after every kind of call (the cached normal
     included), and a stream continued from a torch state (set_state);
  2. each call alone, for seeds 0, 1, 42, 2**32-1, 2**63 and random ones,
     sizes 1..33, 1000 and 10**6+3, float32 and float64: uniform_, normal_
     (the 16-wide path, its tail redraw, and the n < 16 path with its cached
     second value), trunc_normal_;
  3. random sequences of mixed calls (the cache and the stream position carry
     from call to call), kaiming_* and xavier_* over nonlinearities, modes,
     slopes and shapes, nn.Linear / nn.Conv1d/2d/3d constructions (groups,
     bias on and off, both dtypes);
  4. uniform_'s upper bound: 1.13 returns b itself when x * (b - a) + a
     rounds up to it, and so does the stream;
  5. the other kernels of torch, each in a child process: ATEN_CPU_CAPABILITY=
     default (the stream's NNINIT_TORCH_CPU_DEFAULT) and avx512 (torch then
     still runs the AVX2 normal_), and the stream's portable C kernels
     (NNINIT_ARCH=scalar) against torch's default; NNINIT_ARCH=bogus makes
     every op fail with NNINIT_ERR_ARCH.
The cpu mode compared in the main process is the one torch reports
(torch.__config__.show(): "CPU capability usage: AVX2").
"""
import ctypes
import math
import os
import random
import re
import subprocess
import sys
import unittest
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.init as init

BUILD = os.environ.get("NNINIT_BUILD_DIR", "/work/main/build")
lib = ctypes.CDLL(os.path.join(BUILD, "libnninit.so"))

NNINIT_F32, NNINIT_F64 = 0, 1
CPU_AVX2, CPU_DEFAULT = 0, 1
STATE_SIZE = 5056
NL = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid",
      "tanh", "relu", "leaky_relu", "selu"]
MODES = {"fan_in": 0, "fan_out": 1}
SEEDS = [0, 1, 42, 2**32 - 1, 2**63] + [random.Random(1913 + i).getrandbits(64) for i in range(3)]
SIZES = list(range(1, 34)) + [1000, 10**6 + 3]


class Gen(ctypes.Structure):
    _fields_ = [("seed", ctypes.c_uint64), ("next_double_normal", ctypes.c_double), ("state", ctypes.c_uint32 * 624),
                ("left", ctypes.c_uint32), ("next", ctypes.c_uint32), ("has_next_double_normal", ctypes.c_int32),
                ("next_float_normal", ctypes.c_float), ("has_next_float_normal", ctypes.c_int32),
                ("cpu", ctypes.c_int32)]


G = ctypes.POINTER(Gen)
P, D, I64, INT = ctypes.c_void_p, ctypes.c_double, ctypes.c_int64, ctypes.c_int
I64P = ctypes.POINTER(ctypes.c_int64)
for name, args in {
        "nninit_torch_gen_init": [G, ctypes.c_uint64], "nninit_torch_gen_set_cpu": [G, INT],
        "nninit_torch_gen_get_state": [G, P, ctypes.c_size_t], "nninit_torch_gen_set_state": [G, P, ctypes.c_size_t],
        "nninit_torch_random": [G, P, I64], "nninit_torch_uniform": [G, INT, P, I64, D, D],
        "nninit_torch_normal": [G, INT, P, I64, D, D], "nninit_torch_trunc_normal": [G, INT, P, I64, D, D, D, D],
        "nninit_torch_kaiming_uniform": [G, INT, P, INT, I64P, D, INT, INT],
        "nninit_torch_kaiming_normal": [G, INT, P, INT, I64P, D, INT, INT],
        "nninit_torch_xavier_uniform": [G, INT, P, INT, I64P, D], "nninit_torch_xavier_normal": [G, INT, P, INT, I64P, D],
        "nninit_torch_linear": [G, INT, I64, I64, INT, P, P],
        "nninit_torch_conv": [G, INT, I64, I64, I64, INT, I64P, INT, P, P]}.items():
    getattr(lib, name).argtypes = args
    getattr(lib, name).restype = INT
lib.nninit_last_error.restype = ctypes.c_char_p


def torch_cpu_mode():
    cap = re.search(r"CPU capability usage: (\S+)", torch.__config__.show()).group(1)
    return CPU_AVX2 if cap in ("AVX2", "AVX512") else CPU_DEFAULT


def tdtype(dt):
    return torch.float32 if dt == NNINIT_F32 else torch.float64


def ndtype(dt):
    return np.float32 if dt == NNINIT_F32 else np.float64


def shape_arg(shape):
    return (ctypes.c_int64 * len(shape))(*shape)


class Stream:
    """The stream through ctypes, one method per op, each returning arrays."""

    def __init__(self, seed, cpu):
        self.g = Gen()
        assert lib.nninit_torch_gen_init(ctypes.byref(self.g), seed) == 0
        assert lib.nninit_torch_gen_set_cpu(ctypes.byref(self.g), cpu) == 0

    def call(self, fn, *args):
        st = fn(ctypes.byref(self.g), *args)
        if st != 0:
            raise RuntimeError(lib.nninit_last_error().decode())

    def empty(self, dt, shape):
        return np.zeros(shape, dtype=ndtype(dt))

    def run(self, op):
        kind, dt = op[0], op[1]
        if kind in ("uniform", "normal", "trunc"):
            n, params = op[2], op[3]
            x = self.empty(dt, n)
            fn = {"uniform": lib.nninit_torch_uniform, "normal": lib.nninit_torch_normal,
                  "trunc": lib.nninit_torch_trunc_normal}[kind]
            self.call(fn, dt, x.ctypes.data, n, *params)
            return [x]
        if kind in ("ku", "kn"):
            shape, a, mode, nl = op[2:]
            x = self.empty(dt, shape)
            fn = lib.nninit_torch_kaiming_uniform if kind == "ku" else lib.nninit_torch_kaiming_normal
            self.call(fn, dt, x.ctypes.data, len(shape), shape_arg(shape), a, MODES[mode], NL.index(nl))
            return [x]
        if kind in ("xu", "xn"):
            shape, gain = op[2:]
            x = self.empty(dt, shape)
            fn = lib.nninit_torch_xavier_uniform if kind == "xu" else lib.nninit_torch_xavier_normal
            self.call(fn, dt, x.ctypes.data, len(shape), shape_arg(shape), gain)
            return [x]
        if kind == "linear":
            fin, fout, bias = op[2:]
            w, b = self.empty(dt, (fout, fin)), self.empty(dt, fout)
            self.call(lib.nninit_torch_linear, dt, fin, fout, int(bias), w.ctypes.data, b.ctypes.data)
            return [w, b] if bias else [w]
        if kind == "conv":
            cin, cout, kernel, groups, bias = op[2:]
            w, b = self.empty(dt, (cout, cin // groups) + tuple(kernel)), self.empty(dt, cout)
            self.call(lib.nninit_torch_conv, dt, cin, cout, groups, len(kernel), shape_arg(kernel), int(bias),
                      w.ctypes.data, b.ctypes.data)
            return [w, b] if bias else [w]
        raise ValueError(kind)


def torch_run(op):
    """The same op on torch's default generator."""
    kind, dt = op[0], tdtype(op[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind in ("uniform", "normal", "trunc"):
            x = torch.empty(op[2], dtype=dt)
            if kind == "uniform":
                x.uniform_(*op[3])
            elif kind == "normal":
                x.normal_(*op[3])
            else:
                init.trunc_normal_(x, *op[3])
            return [x.numpy()]
        if kind in ("ku", "kn"):
            shape, a, mode, nl = op[2:]
            x = torch.empty(shape, dtype=dt)
            (init.kaiming_uniform_ if kind == "ku" else init.kaiming_normal_)(x, a=a, mode=mode, nonlinearity=nl)
            return [x.numpy()]
        if kind in ("xu", "xn"):
            shape, gain = op[2:]
            x = torch.empty(shape, dtype=dt)
            (init.xavier_uniform_ if kind == "xu" else init.xavier_normal_)(x, gain=gain)
            return [x.numpy()]
        if kind == "linear":
            fin, fout, bias = op[2:]
            m = nn.Linear(fin, fout, bias=bias, dtype=dt)
        else:
            cin, cout, kernel, groups, bias = op[2:]
            conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[len(kernel)]
            m = conv(cin, cout, tuple(kernel), groups=groups, bias=bias, dtype=dt)
        return [p.detach().numpy() for p in m.parameters()]


def compare(seed, ops, cpu):
    """Runs ops after seeding both sides; the first difference, or None."""
    s = Stream(seed, cpu)
    torch.manual_seed(seed)
    for k, op in enumerate(ops):
        ours, theirs = s.run(op), torch_run(op)
        for a, b in zip(ours, theirs):
            if a.shape != b.shape or a.tobytes() != b.tobytes():
                d = np.nonzero(a.reshape(-1) != b.reshape(-1))[0]
                return "seed %d, call %d of %d %r: %d of %d elements differ, first at %s: %r vs torch %r" % (
                    seed, k + 1, len(ops), op[:3], len(d), a.size, d[:4], a.reshape(-1)[d[:2]], b.reshape(-1)[d[:2]])
    return None


UNIFORM = [(-0.3, 0.9), (0.0, 1.0), (-0.0625, 0.0625), (-3.0, 7.0), (2.0, 2.0)]
NORMAL = [(0.0, 1.0), (0.5, 2.0), (0.0, 0.02), (-3.0, 0.1), (1.0, 0.0)]
TRUNC = [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (1.0, 3.0, -1.0, 5.0), (0.0, 0.02, -2.0, 2.0),
         (0.5, 1.0, 0.0, 10.0)]
SHAPES = [(3, 5), (4, 3, 2), (16, 8, 3, 3), (1, 1), (33, 17), (7, 1, 5), (2, 3, 2, 2, 2), (64, 1000)]
MODULES = [("linear", 3, 2, True), ("linear", 784, 256, True), ("linear", 1, 1, False), ("linear", 33, 17, True),
           ("linear", 5, 1000, False), ("conv", 3, 64, (3, 3), 1, True), ("conv", 4, 8, (3, 5), 2, True),
           ("conv", 6, 6, (1, 1), 6, False), ("conv", 16, 32, (5, 5), 4, True), ("conv", 1, 1, (1, 1), 1, True),
           ("conv", 3, 5, (7,), 1, True), ("conv", 2, 4, (3, 3, 3), 2, False), ("conv", 8, 16, (2, 4), 8, True)]


def random_op(rng, big=False):
    dt = rng.choice([NNINIT_F32, NNINIT_F64])
    kind = rng.choice(["uniform", "normal", "normal", "trunc", "ku", "kn", "xu", "xn", "module"])
    n = rng.choice(SIZES if big else SIZES[:-1] + [rng.randrange(34, 300)])
    if kind == "uniform":
        return ("uniform", dt, n, rng.choice(UNIFORM))
    if kind == "normal":
        return ("normal", dt, n, rng.choice(NORMAL))
    if kind == "trunc":
        return ("trunc", dt, n, rng.choice(TRUNC))
    if kind in ("ku", "kn"):
        return (kind, dt, rng.choice(SHAPES), rng.choice([0.0, math.sqrt(5), 0.1, 2.0]), rng.choice(list(MODES)),
                rng.choice(NL))
    if kind in ("xu", "xn"):
        return (kind, dt, rng.choice(SHAPES), rng.choice([1.0, init.calculate_gain("relu"), 0.5, 5.0 / 3]))
    m = rng.choice(MODULES)
    return (m[0], dt) + m[1:]


class TestEngine(unittest.TestCase):
    def test_words_and_state_bytes(self):
        def temper(y):
            y ^= y >> 11
            y ^= (y << 7) & 0x9D2C5680
            y ^= (y << 15) & 0xEFC60000
            return (y ^ (y >> 18)) & 0xFFFFFFFF

        buf = ctypes.create_string_buffer(STATE_SIZE)
        for seed in SEEDS:
            s = Stream(seed, torch_cpu_mode())
            w = np.zeros(700, dtype=np.uint32)
            s.call(lib.nninit_torch_random, w.ctypes.data, 700)
            torch.manual_seed(seed)
            torch.rand(1)  # one draw: the state is twisted once
            st = np.frombuffer(torch.get_rng_state().numpy().tobytes(), dtype="<u8", count=624, offset=24)
            self.assertEqual([int(x) for x in w[:624]], [temper(int(x)) for x in st], seed)
            # the state bytes after each kind of call, the n < 16 cache included
            s = Stream(seed, torch_cpu_mode())
            torch.manual_seed(seed)
            for op in [("normal", 1, 3, (0.0, 1.0)), ("uniform", 0, 1000, (-1.0, 1.0)), ("normal", 0, 17, (0.0, 1.0)),
                       ("normal", 1, 1, (0.0, 1.0)), ("trunc", 0, 20, (0.0, 1.0, -2.0, 2.0)),
                       ("linear", 0, 5, 3, True)]:
                s.run(op)
                torch_run(op)
                s.call(lib.nninit_torch_gen_get_state, buf, STATE_SIZE)
                self.assertEqual(buf.raw, torch.get_rng_state().numpy().tobytes(), (seed, op))
        # a stream continued from torch's own state, mid-pair
        torch.manual_seed(99)
        torch.randn(5)
        b = torch.get_rng_state().numpy().tobytes()
        s = Stream(0, torch_cpu_mode())
        s.call(lib.nninit_torch_gen_set_state, b, len(b))
        for op in [("normal", 0, 5, (0.0, 1.0)), ("normal", 0, 40, (0.0, 1.0)), ("uniform", 1, 9, (0.0, 1.0))]:
            self.assertEqual(s.run(op)[0].tobytes(), torch_run(op)[0].tobytes(), op)


class TestCalls(unittest.TestCase):
    cpu = None

    def setUp(self):
        if self.cpu is None:
            self.cpu = torch_cpu_mode()

    def check(self, seed, ops):
        err = compare(seed, ops, self.cpu)
        self.assertIsNone(err, err)

    def test_each_call_alone(self):
        for i, seed in enumerate(SEEDS):
            for dt in (NNINIT_F32, NNINIT_F64):
                for n in SIZES:
                    self.check(seed, [("uniform", dt, n, UNIFORM[(i + n) % len(UNIFORM)])])
                    self.check(seed, [("normal", dt, n, NORMAL[(i + n) % len(NORMAL)])])
                    self.check(seed, [("trunc", dt, n, TRUNC[(i + n) % len(TRUNC)])])

    def test_sequences(self):
        rng = random.Random(20240611)
        for seed in SEEDS + [rng.randrange(2**64) for _ in range(24)]:
            ops = [random_op(rng, big=(seed == SEEDS[2])) for _ in range(rng.randrange(6, 16))]
            self.check(seed, ops)
        # the n < 16 cache carries across calls, dtypes and ops
        self.check(7, [("normal", 1, 3, (0.0, 1.0)), ("normal", 0, 5, (1.0, 2.0)), ("kn", 0, (3, 5), 0.0, "fan_in",
                                                                                      "relu"),
                       ("uniform", 0, 1, (0.0, 1.0)), ("normal", 1, 1, (0.0, 1.0)), ("xn", 1, (2, 7), 1.0),
                       ("normal", 0, 16, (0.0, 1.0)), ("normal", 0, 15, (0.0, 1.0))])

    def test_init_functions(self):
        seed = 0
        for dt in (NNINIT_F32, NNINIT_F64):
            for shape in SHAPES:
                for nl in NL:
                    # 2.886...: a slope whose gain differs with s * s for slope ** 2
                    for a in (0.0, math.sqrt(5), 0.1, 2.8860720177807253):
                        for mode in MODES:
                            seed += 1
                            self.check(seed, [("ku", dt, shape, a, mode, nl), ("kn", dt, shape, a, mode, nl)])
                for gain in (1.0, init.calculate_gain("relu"), 0.5, init.calculate_gain("tanh")):
                    seed += 1
                    self.check(seed, [("xu", dt, shape, gain), ("xn", dt, shape, gain)])

    def test_modules(self):
        for seed in SEEDS:
            for dt in (NNINIT_F32, NNINIT_F64):
                self.check(seed, [(m[0], dt) + m[1:] for m in MODULES])

    def test_uniform_upper_bound(self):
        """1.13's float uniform_ returns b when x (b - a) + a rounds to b."""
        ops = [("uniform", NNINIT_F32, 10**6, (1e4, 1e4 + 1))]
        self.check(5, ops)
        x = Stream(5, self.cpu).run(ops[0])[0]
        self.assertGreater(int((x == np.float32(1e4 + 1)).sum()), 100)


def child(which):
    """A subset in this process, which the parent started with another torch
    kernel set (ATEN_CPU_CAPABILITY) or another nninit path (NNINIT_ARCH)."""
    if which == "bogus":  # NNINIT_ARCH names no path: every op fails with NNINIT_ERR_ARCH
        g = Gen()
        lib.nninit_torch_gen_init(ctypes.byref(g), 0)
        x = np.zeros(4, dtype=np.float32)
        return 0 if lib.nninit_torch_uniform(ctypes.byref(g), 0, x.ctypes.data, 4, 0.0, 1.0) == 20 else 1
    cpu = torch_cpu_mode()
    if which == "default" and cpu != CPU_DEFAULT:
        print("ATEN_CPU_CAPABILITY=default was not honoured", file=sys.stderr)
        return 1
    rng = random.Random(which)
    failures = []
    for i, seed in enumerate(SEEDS[:4]):
        for dt in (NNINIT_F32, NNINIT_F64):
            for n in SIZES[::3] + [SIZES[-1]]:
                for op in [("uniform", dt, n, UNIFORM[i]), ("normal", dt, n, NORMAL[i]), ("trunc", dt, n, TRUNC[i])]:
                    failures.append(compare(seed, [op], cpu))
        failures.append(compare(seed, [random_op(rng) for _ in range(10)], cpu))
        failures.append(compare(seed, [(m[0], NNINIT_F32) + m[1:] for m in MODULES], cpu))
    failures = [f for f in failures if f]
    for f in failures[:10]:
        print(f, file=sys.stderr)
    return 1 if failures else 0


class TestOtherKernels(unittest.TestCase):
    def run_child(self, which, **env):
        e = dict(os.environ, **env)
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", which], env=e, capture_output=True,
                           text=True, timeout=600)
        self.assertEqual(r.returncode, 0, "%s: %s" % (which, r.stderr[-3000:]))

    def test_torch_default_kernels(self):
        self.run_child("default", ATEN_CPU_CAPABILITY="default")

    def test_torch_avx512_kernels(self):
        self.run_child("avx512", ATEN_CPU_CAPABILITY="avx512")

    def test_portable_c(self):
        self.run_child("scalar", NNINIT_ARCH="scalar")

    def test_bogus_arch(self):
        self.run_child("bogus", NNINIT_ARCH="bogus")

    def test_modes_differ(self):
        """Both cpu modes are needed: the default kernels round differently."""
        op = ("uniform", NNINIT_F32, 4096, (-0.3, 0.9))
        a, b = Stream(3, CPU_AVX2).run(op)[0], Stream(3, CPU_DEFAULT).run(op)[0]
        self.assertNotEqual(a.tobytes(), b.tobytes())
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2]))
    unittest.main(verbosity=2)

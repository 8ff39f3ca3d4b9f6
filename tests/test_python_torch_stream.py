#!/usr/bin/python3
"""test_python_torch_stream.py -- nninit.torch_stream (python/nninit/torch_stream.py),
PyTorch's CPU generator from Python, against Debian's PyTorch 1.13 bit for bit.

Run by ctest as `/usr/bin/python3 tests/test_python_torch_stream.py` with
NNINIT_BUILD_DIR (libnninit.so) and NNINIT_SOURCE_DIR; the package loads
libnninit.so through ctypes.CDLL (so that the sanitizer build preloads its
runtimes for this test).

  ops        after torch.manual_seed(s) and Generator(s): each call in a
             sequence over sizes 1..33, 1000 and 10**6+3, float32 and float64,
             NumPy arrays and torch tensors alternately: uniform_, normal_,
             trunc_normal_, kaiming_uniform_/normal_, xavier_uniform_/normal_
             give torch's bytes, and get_state() equals torch.get_rng_state()
             after each sequence; random mixed sequences likewise.
  layers     nn.Linear / nn.Conv1d/2d/3d constructions equal linear /
             conv1d/2d/3d (groups, bias on and off, both dtypes, both
             frameworks); init_module_like_torch_ equals constructing the
             module (Sequential and nested modules of every supported type).
  state      Generator() is torch.Generator(); seeds as torch.manual_seed
             (negative, 64-bit); raw words; from_torch continues torch's
             default generator and a torch.Generator; set_state from bytes,
             NumPy and torch; torch continues from get_state("torch"); copy,
             deepcopy and pickle; two threads on one generator.
  cpu        "auto" is torch's mode here; in child processes with
             ATEN_CPU_CAPABILITY=default and avx512 "auto" follows the
             variable and equals torch, "avx2"/"default" forced differ.
  errors     bf16/f16/int dtypes, non-contiguous, read-only, non-arrays, bad
             mode / nonlinearity / slope / dims, bad cpu, bad state bytes,
             bad seeds, bad layer sizes, dtypes and frameworks, unsupported
             modules: the exception type and message, the generator unchanged.
"""
import copy
import math
import os
import pickle
import random
import subprocess
import sys
import threading
import unittest
import warnings

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
SRC = os.environ.get("NNINIT_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("NNINIT_BUILD_DIR", os.path.join(SRC, "build"))
os.environ["NNINIT_LIBRARY"] = os.path.join(BUILD, "libnninit.so")
sys.path.insert(0, os.path.join(SRC, "python"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.init as tinit  # noqa: E402

import nninit  # noqa: E402
from nninit.torch_stream import Generator, detect_cpu, init_module_like_torch_  # noqa: E402

SIZES = list(range(1, 34)) + [1000, 10**6 + 3]
SEEDS = [0, 2**63 + 12345, random.Random(2024).getrandbits(64)]
NP = {torch.float32: np.float32, torch.float64: np.float64}


def tb(x):
    return (x.detach().numpy() if isinstance(x, torch.Tensor) else x).tobytes()


def torch_state():
    return torch.get_rng_state().numpy().tobytes()


def shape_of(n, i):
    return (n, 1) if i % 2 else (1, n)


# (name, torch call on a tensor, Generator method name, args, kwargs, needs 2-D)
OPS = [
    ("uniform_", lambda t: t.uniform_(-0.3, 0.9), "uniform_", (-0.3, 0.9), {}, False),
    ("normal_", lambda t: t.normal_(0.5, 2.0), "normal_", (0.5, 2.0), {}, False),
    ("trunc_normal_", lambda t: tinit.trunc_normal_(t, 0.1, 0.5, -0.4, 0.9), "trunc_normal_",
     (0.1, 0.5, -0.4, 0.9), {}, False),
    ("kaiming_uniform_", lambda t: tinit.kaiming_uniform_(t, a=0.2, mode="fan_out"), "kaiming_uniform_", (),
     {"a": 0.2, "mode": "fan_out"}, True),
    ("kaiming_normal_", lambda t: tinit.kaiming_normal_(t, nonlinearity="relu"), "kaiming_normal_", (),
     {"nonlinearity": "relu"}, True),
    ("xavier_uniform_", lambda t: tinit.xavier_uniform_(t, gain=1.3), "xavier_uniform_", (), {"gain": 1.3}, True),
    ("xavier_normal_", lambda t: tinit.xavier_normal_(t), "xavier_normal_", (), {}, True),
]


class Ops(unittest.TestCase):
    def test_each_call_in_sequence(self):
        for seed in SEEDS:
            for name, tcall, meth, args, kw, two_d in OPS:
                for dt in (torch.float32, torch.float64):
                    torch.manual_seed(seed)
                    g = Generator(seed)
                    for i, n in enumerate(SIZES):
                        shape = shape_of(n, i) if two_d else (n,)
                        t = torch.empty(shape, dtype=dt)
                        tcall(t)
                        x = torch.empty(shape, dtype=dt) if i % 3 == 0 else np.empty(shape, NP[dt])
                        self.assertIs(getattr(g, meth)(x, *args, **kw), x)
                        if tb(t) != tb(x):
                            self.fail("seed %d %s %s n=%d: differs from torch" % (seed, name, dt, n))
                    self.assertEqual(g.get_state(), torch_state(), "%s %s seed %d: state" % (name, dt, seed))

    def test_mixed_sequences(self):
        rng = random.Random(7)
        shapes2 = [(3, 4), (16, 1), (5, 3, 3, 3), (64, 3, 7, 7), (2, 9), (7, 7, 2), (128, 300)]
        for trial in range(24):
            seed = rng.getrandbits(64)
            torch.manual_seed(seed)
            g = Generator(seed)
            for step in range(rng.randint(6, 14)):
                name, tcall, meth, args, kw, two_d = rng.choice(OPS)
                shape = rng.choice(shapes2) if two_d else (rng.choice(SIZES[:-1] + [15, 16, 17, 4096]),)
                dt = rng.choice((torch.float32, torch.float64))
                t = torch.empty(shape, dtype=dt)
                tcall(t)
                x = torch.empty(shape, dtype=dt) if rng.random() < 0.5 else np.empty(shape, NP[dt])
                getattr(g, meth)(x, *args, **kw)
                self.assertEqual(tb(t), tb(x), "trial %d step %d: %s %s %s" % (trial, step, name, shape, dt))
            self.assertEqual(g.get_state(), torch_state(), "trial %d: state" % trial)

    def test_kaiming_variants(self):
        torch.manual_seed(3)
        g = Generator(3)
        for nl in nninit._core.NONLINEARITIES:
            for a in (0, 0.01, None, 3):
                for mode in ("fan_in", "FAN_OUT"):
                    for f in ("kaiming_uniform_", "kaiming_normal_"):
                        t = torch.empty(6, 5, 2)
                        getattr(tinit, f)(t, a=a, mode=mode, nonlinearity=nl)
                        x = np.empty((6, 5, 2), np.float32)
                        getattr(g, f)(x, a=a, mode=mode, nonlinearity=nl)
                        self.assertEqual(tb(t), tb(x), (nl, a, mode, f))

    def test_cached_normal_across_calls(self):
        # n < 16: one Box-Muller pair per two values, the second kept for the next call
        torch.manual_seed(11)
        g = Generator(11)
        for n, dt in ((3, torch.float32), (5, torch.float64), (16, torch.float32), (1, torch.float64),
                      (7, torch.float32), (2, torch.float32)):
            t = torch.randn(n, dtype=dt)
            x = np.empty(n, NP[dt])
            g.normal_(x)
            self.assertEqual(tb(t), tb(x), (n, dt))
            self.assertEqual(g.get_state(), torch_state(), (n, dt))

    def test_empty_and_zero_element(self):
        torch.manual_seed(1)
        g = Generator(1)
        for f in ("uniform_", "normal_", "trunc_normal_"):
            getattr(g, f)(np.empty(0, np.float32))
        g.xavier_uniform_(np.empty((0, 4), np.float32))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            g.kaiming_normal_(np.empty((0, 4), np.float32))
        self.assertIn("zero-element tensors is a no-op", str(w[0].message))
        self.assertEqual(g.get_state(), torch_state())
        t = torch.empty(())  # 0-d: one element
        t.uniform_()
        x = np.empty((), np.float32)
        g.uniform_(x)
        self.assertEqual(tb(t), tb(x))

    def test_trunc_normal_warning(self):
        g = Generator(0)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            g.trunc_normal_(np.empty(4), mean=10.0, std=1.0, a=-2.0, b=2.0)
        self.assertIn("mean is more than 2 std from [a, b]", str(w[0].message))

    def test_in_place_and_version_counter(self):
        base = np.zeros(40, np.float32)
        view = base[10:30]
        g = Generator(0)
        g.uniform_(view)
        self.assertTrue((base[:10] == 0).all() and (base[30:] == 0).all() and (view != 0).all())
        t = torch.zeros(8, 4)
        v0 = t._version
        p = t.data_ptr()
        g.normal_(t)
        self.assertEqual(t.data_ptr(), p)
        self.assertGreater(t._version, v0)
        w = nn.Parameter(torch.empty(3, 4))
        g.kaiming_uniform_(w)  # a leaf that requires grad, as nn.init takes it
        self.assertTrue(w.requires_grad)


class Layers(unittest.TestCase):
    def layers(self, dt):
        return [
            (lambda: nn.Linear(784, 256, dtype=dt), lambda g: g.linear(784, 256, dtype=dt)),
            (lambda: nn.Linear(3, 2, bias=False, dtype=dt), lambda g: g.linear(3, 2, bias=False, dtype=dt)),
            (lambda: nn.Conv1d(4, 6, 5, dtype=dt), lambda g: g.conv1d(4, 6, 5, dtype=dt)),
            (lambda: nn.Conv2d(3, 64, 3, dtype=dt), lambda g: g.conv2d(3, 64, 3, dtype=dt)),
            (lambda: nn.Conv2d(4, 8, (3, 5), groups=2, bias=False, dtype=dt),
             lambda g: g.conv2d(4, 8, (3, 5), groups=2, bias=False, dtype=dt)),
            (lambda: nn.Conv3d(2, 4, (1, 2, 3), dtype=dt), lambda g: g.conv3d(2, 4, (1, 2, 3), dtype=dt)),
            (lambda: nn.Linear(1, 1, dtype=dt), lambda g: g.linear(1, 1, dtype=dt)),
            (lambda: nn.Conv2d(6, 6, 1, groups=6, dtype=dt), lambda g: g.conv(6, 6, 1, groups=6, dtype=dt)),
        ]

    def test_constructions(self):
        for seed in SEEDS:
            for dt in (torch.float32, torch.float64):
                torch.manual_seed(seed)
                g = Generator(seed)
                for k, (tmake, gmake) in enumerate(self.layers(dt)):
                    m = tmake()
                    w, b = gmake(g)
                    self.assertIsInstance(w, np.ndarray)
                    self.assertEqual(w.dtype, NP[dt])
                    self.assertEqual(w.shape, tuple(m.weight.shape))
                    self.assertEqual(tb(m.weight), tb(w), (seed, dt, k))
                    if m.bias is None:
                        self.assertIsNone(b)
                    else:
                        self.assertEqual(tb(m.bias), tb(b), (seed, dt, k))
                self.assertEqual(g.get_state(), torch_state())

    def test_torch_framework(self):
        torch.manual_seed(5)
        m1, m2 = nn.Linear(10, 20), nn.Conv2d(3, 8, 3)
        g = Generator(5)
        w1, b1 = g.linear(10, 20, framework="torch")
        w2, b2 = g.conv2d(3, 8, 3, framework="torch")
        for a, b in ((m1.weight, w1), (m1.bias, b1), (m2.weight, w2), (m2.bias, b2)):
            self.assertIsInstance(b, torch.Tensor)
            self.assertEqual(b.dtype, torch.float32)
            self.assertTrue(torch.equal(a.detach(), b))
        w, _ = g.linear(2, 2, dtype=torch.float64, framework="torch")
        self.assertEqual(w.dtype, torch.float64)
        w, _ = g.linear(2, 2, dtype="f64")
        self.assertEqual(w.dtype, np.float64)

    def build(self):
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(6, 6)
                self.norm = nn.LayerNorm(6)
                self.seq = nn.Sequential(nn.Linear(6, 3, bias=False), nn.ReLU(), nn.Linear(3, 6))

        return nn.Sequential(
            nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 16, (3, 5), groups=2, bias=False),
            nn.ConvTranspose2d(16, 4, 3, groups=2), nn.Conv1d(2, 4, 3), nn.Conv3d(1, 2, 2), nn.Flatten(),
            nn.Linear(40, 10), nn.Bilinear(10, 6, 3), nn.Embedding(7, 5, padding_idx=2), nn.EmbeddingBag(20, 16),
            nn.LSTM(5, 4, num_layers=2, bidirectional=True), nn.GRUCell(3, 4), nn.RNN(3, 2, bias=False),
            nn.GroupNorm(2, 4), nn.InstanceNorm1d(3, affine=True), nn.PReLU(3), Block(),
            nn.Linear(6, 3, dtype=torch.float64), nn.Conv2d(2, 2, 2, dtype=torch.float64))

    def test_init_module_like_torch(self):
        for seed in SEEDS[:2]:
            torch.manual_seed(seed)
            ref = self.build()
            state = torch_state()
            torch.manual_seed(seed + 1)
            m = self.build()
            with torch.no_grad():
                m[1].running_mean.fill_(3.0)
            g = Generator(seed)
            self.assertIs(init_module_like_torch_(m, g), m)
            self.assertEqual(g.get_state(), state)
            sd, rd = m.state_dict(), ref.state_dict()
            self.assertEqual(list(sd), list(rd))
            for k in rd:
                self.assertEqual(tb(rd[k]), tb(sd[k]), k)

    def test_init_module_refuses(self):
        g = Generator(0)
        before = g.get_state()
        m = nn.Sequential(nn.Linear(2, 2), nn.MultiheadAttention(4, 2))
        with self.assertRaisesRegex(ValueError, r"init_module_like_torch_: module '1' \(MultiheadAttention\) has "
                                                r"parameters \(in_proj_weight, in_proj_bias\)"):
            init_module_like_torch_(m, g)

        class Custom(nn.Module):
            def __init__(self):
                super().__init__()
                self.scale = nn.Parameter(torch.ones(3))

        with self.assertRaisesRegex(ValueError, r"module '<root>' \(Custom\) has parameters \(scale\)"):
            init_module_like_torch_(Custom(), g)

        class MyLinear(nn.Linear):
            def reset_parameters(self):
                nn.init.zeros_(self.weight)

        with self.assertRaisesRegex(ValueError, r"\(MyLinear\)"):
            init_module_like_torch_(nn.Sequential(MyLinear(2, 2)), g)
        with self.assertRaisesRegex(TypeError, r"init_module_like_torch_: 0\.weight: torch dtype float16 is "
                                               r"not reproduced"):
            init_module_like_torch_(nn.Sequential(nn.Linear(2, 2).half()), g)
        with self.assertRaisesRegex(TypeError, "gen must be an nninit.torch_stream.Generator, not Generator"):
            init_module_like_torch_(nn.Linear(2, 2), torch.Generator())
        self.assertEqual(g.get_state(), before)


class State(unittest.TestCase):
    def test_default_seed_is_torch_generator(self):
        tg = torch.Generator()
        g = Generator()
        self.assertEqual(g.initial_seed(), tg.initial_seed())
        self.assertEqual(g.get_state(), tg.get_state().numpy().tobytes())
        t = torch.empty(100).uniform_(generator=tg)
        x = np.empty(100, np.float32)
        g.uniform_(x)
        self.assertEqual(tb(t), tb(x))

    def test_seeds(self):
        for s in (0, 1, -1, -2**63, 2**32 - 1, 2**32, 2**63, 2**64 - 1, np.uint64(12345), np.int32(-7)):
            torch.manual_seed(s)
            g = Generator(s)
            self.assertEqual(g.initial_seed(), torch.initial_seed(), s)
            self.assertEqual(g.get_state(), torch_state(), s)
            t = torch.randn(20)
            self.assertEqual(tb(t), tb(g.normal_(np.empty(20, np.float32))), s)
        g = Generator(1)
        self.assertIs(g.manual_seed(9), g)
        torch.manual_seed(9)
        self.assertEqual(g.get_state(), torch_state())

    def test_raw_words(self):
        self.assertEqual(Generator(5489).random(1)[0], 3499211612)  # the reference mt19937
        self.assertEqual(list(Generator(137).random(2)), [4053805790, 2173880614])
        torch.manual_seed(42)
        r = torch.rand(50)  # one word per float32 value: (w & 0xffffff) * 2^-24
        w = Generator(42).random(50)
        self.assertEqual(w.dtype, np.uint32)
        self.assertEqual(tb(r), ((w & 0xffffff).astype(np.float32) * np.float32(2.0**-24)).tobytes())
        self.assertEqual(Generator(0).random(0).shape, (0,))

    def test_from_torch(self):
        torch.manual_seed(7)
        torch.rand(100)
        torch.randn(3)  # leaves a cached normal in the generator
        g = Generator.from_torch()
        self.assertEqual(g.get_state(), torch_state())
        for n, dt in ((5, torch.float32), (1000, torch.float32), (9, torch.float64), (10**6 + 3, torch.float32)):
            t = torch.randn(n, dtype=dt)
            self.assertEqual(tb(t), tb(g.normal_(np.empty(n, NP[dt]))), (n, dt))
        torch.manual_seed(8)
        torch.nn.Linear(20, 30)
        g = Generator.from_torch()
        self.assertEqual(tb(nn.Conv2d(3, 4, 3).weight), tb(g.conv2d(3, 4, 3)[0]))
        tg = torch.Generator().manual_seed(11)
        torch.randn(5, generator=tg)
        g = Generator.from_torch(tg, cpu="avx2")
        self.assertEqual(g.cpu, "avx2")
        self.assertEqual(g.initial_seed(), 11)
        self.assertEqual(tb(torch.randn(9, generator=tg)), tb(g.normal_(np.empty(9, np.float32))))

    def test_set_state_forms_and_torch_continues(self):
        torch.manual_seed(21)
        torch.randn(3)
        st = torch.get_rng_state()
        for form in (st, st.numpy(), st.numpy().tobytes(), bytearray(st.numpy().tobytes()),
                     memoryview(st.numpy().tobytes())):
            g = Generator(0, cpu="default")
            self.assertIs(g.set_state(form), g)
            self.assertEqual(g.cpu, "default")  # set_state keeps the mode
            self.assertEqual(g.get_state(), st.numpy().tobytes())
        g = Generator(33)
        g.normal_(np.empty(5))
        s = g.get_state("torch")
        self.assertEqual(s.dtype, torch.uint8)
        self.assertEqual(tuple(s.shape), (5056,))
        self.assertEqual(g.get_state("numpy").tobytes(), g.get_state())
        torch.set_rng_state(s)
        self.assertEqual(tb(torch.randn(7, dtype=torch.float64)), tb(g.normal_(np.empty(7))))

    def test_copy_pickle(self):
        g = Generator(3, cpu="default")
        g.normal_(np.empty(3))
        for h in (g.copy(), copy.copy(g), copy.deepcopy(g), pickle.loads(pickle.dumps(g))):
            self.assertIsNot(h, g)
            self.assertEqual(h.cpu, "default")
            self.assertEqual(h.get_state(), g.get_state())
            a, b = np.empty(33), np.empty(33)
            g2 = g.copy()
            g2.normal_(a)
            h.normal_(b)
            self.assertEqual(a.tobytes(), b.tobytes())
        self.assertIn("initial_seed=3", repr(g))

    def test_threads_share_one_generator(self):
        g, ref = Generator(4), Generator(4)

        def work():
            x = np.empty(1000, np.float32)
            for _ in range(100):
                g.uniform_(x)

        ths = [threading.Thread(target=work) for _ in range(2)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        ref.random(200 * 1000)
        self.assertEqual(g.get_state(), ref.get_state())


CHILD = r"""
import os, sys
sys.path.insert(0, os.path.join(os.environ["NNINIT_SOURCE_DIR"], "python"))
import numpy as np
from nninit.torch_stream import Generator, detect_cpu
before = detect_cpu()  # torch not imported yet: from the variable
import torch
out = [before, detect_cpu()]
for cpu in ("auto", "avx2", "default"):
    torch.manual_seed(5)
    g = Generator(5, cpu=cpu)
    ok = True
    for n in (1000, 10**5 + 3):
        t = torch.empty(n).uniform_(-0.3, 0.9)
        ok &= t.numpy().tobytes() == g.uniform_(np.empty(n, np.float32), -0.3, 0.9).tobytes()
        t = torch.empty(n).normal_(0.5, 2.0)
        ok &= t.numpy().tobytes() == g.normal_(np.empty(n, np.float32), 0.5, 2.0).tobytes()
    out.append("%s=%s" % (cpu, "same" if ok else "differs"))
print(" ".join(out))
"""


class Cpu(unittest.TestCase):
    def test_modes(self):
        self.assertEqual(Generator(0, cpu="avx2").cpu, "avx2")
        g = Generator(0, cpu="default")
        self.assertEqual(g.cpu, "default")
        g.manual_seed(1)
        self.assertEqual(g.cpu, "default")  # manual_seed keeps the mode
        g.cpu = "avx2"
        self.assertEqual(g.cpu, "avx2")
        a = Generator(0, cpu="avx2").uniform_(np.empty(1000, np.float32), -0.3, 0.9)
        b = Generator(0, cpu="default").uniform_(np.empty(1000, np.float32), -0.3, 0.9)
        self.assertNotEqual(a.tobytes(), b.tobytes())  # FMA or not: last bits

    def test_auto_is_torch_here(self):
        show = torch.__config__.show()
        expect = "avx2" if ("CPU capability usage: AVX2" in show or "CPU capability usage: AVX512" in show) \
            else "default"
        self.assertEqual(detect_cpu(), expect)
        self.assertEqual(Generator(0).cpu, expect)

    def test_child_processes(self):
        for env_value, expect in (("default", "default default auto=same avx2=differs default=same"),
                                  ("avx512", "avx2 avx2 auto=same avx2=same default=differs")):
            env = dict(os.environ, ATEN_CPU_CAPABILITY=env_value, NNINIT_SOURCE_DIR=SRC)
            r = subprocess.run([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.strip(), expect, env_value)


class Errors(unittest.TestCase):
    def setUp(self):
        self.g = Generator(99)
        self.before = self.g.get_state()

    def tearDown(self):
        self.assertEqual(self.g.get_state(), self.before, "an error changed the generator")

    def raises(self, exc, pattern, f, *args, **kw):
        with self.assertRaisesRegex(exc, pattern) as cm:
            f(*args, **kw)
        return cm.exception

    def test_dtypes(self):
        g = self.g
        for t in (torch.empty(4, 4, dtype=torch.bfloat16), torch.empty(4, 4, dtype=torch.float16)):
            for f in ("uniform_", "normal_", "trunc_normal_", "kaiming_uniform_", "kaiming_normal_",
                      "xavier_uniform_", "xavier_normal_"):
                name = str(t.dtype).replace("torch.", "")
                self.raises(TypeError, r"Generator\.%s: torch dtype %s is not reproduced \(float32 and float64 "
                            r"only; torch draws half types with their own arithmetic\)" % (f, name), getattr(g, f), t)
        self.raises(TypeError, r"dtype float16 is not reproduced", g.uniform_, np.empty(3, np.float16))
        self.raises(TypeError, r"dtype int32 is not reproduced \(float32 and float64 only\)", g.uniform_,
                    np.empty(3, np.int32))
        self.raises(TypeError, r"torch dtype int64 is not reproduced", g.normal_, torch.empty(3, dtype=torch.int64))
        self.raises(TypeError, r"dtype >f4 is not in this machine's byte order", g.uniform_, np.empty(3, ">f4"))
        self.raises(TypeError, r"expected a numpy.ndarray or a torch.Tensor, not list", g.uniform_, [1.0, 2.0])

    def test_memory(self):
        g = self.g
        self.raises(ValueError, r"Generator\.uniform_: the tensor is not contiguous \(strides \(1, 3\) for shape "
                    r"\(3, 4\)\)", g.uniform_, torch.empty(4, 3).t())
        self.raises(ValueError, r"Generator\.kaiming_normal_: the array is not C-contiguous", g.kaiming_normal_,
                    np.empty((4, 6), np.float32)[:, ::2])
        ro = np.zeros(8, np.float32)
        ro.flags.writeable = False
        self.raises(ValueError, r"Generator\.normal_: the array is read-only", g.normal_, ro)
        self.raises(ValueError, r"the tensor is on device 'meta'", g.uniform_, torch.empty(3, device="meta"))

    def test_params(self):
        g, x = self.g, np.empty((4, 5), np.float32)
        self.raises(ValueError, r"Generator\.kaiming_uniform_: Mode fan_avg not supported, please use one of "
                    r"\['fan_in', 'fan_out'\]", g.kaiming_uniform_, x, mode="fan_avg")
        self.raises(TypeError, r"mode must be a str \(fan_in or fan_out\), not int", g.kaiming_normal_, x, mode=1)
        self.raises(ValueError, r"Generator\.kaiming_normal_: Unsupported nonlinearity gelu", g.kaiming_normal_, x,
                    nonlinearity="gelu")
        self.raises(ValueError, r"Unsupported nonlinearity ReLU", g.kaiming_uniform_, x, nonlinearity="ReLU")
        self.raises(ValueError, r"negative_slope 'x' not a valid number", g.kaiming_uniform_, x, a="x")
        self.raises(ValueError, r"negative_slope True not a valid number", g.kaiming_uniform_, x, a=True)
        e = self.raises(ValueError, r"a \(inf\) must be finite", g.kaiming_uniform_, x, a=math.inf)
        self.assertIsInstance(e, nninit.Error)
        self.assertEqual(e.status, "NNINIT_ERR_PARAM")
        self.raises(ValueError, r"Generator\.xavier_uniform_: Fan in and fan out can not be computed for tensor "
                    r"with fewer than 2 dimensions \(shape \(5,\)\)", g.xavier_uniform_, np.empty(5))
        self.raises(ValueError, r"Fan in and fan out can not be computed", g.kaiming_normal_, torch.empty(()))
        self.raises(ValueError, r"fans need 2\.\.8 dims, got 9", g.xavier_normal_, np.empty((1,) * 9))
        self.raises(TypeError, r"Generator\.xavier_uniform_: gain must be a real number, not str",
                    g.xavier_uniform_, x, gain="1")
        e = self.raises(ValueError, r"Generator\.uniform_: torch_uniform: a \(1\) must be <= b \(0\)", g.uniform_, x,
                        1.0, 0.0)
        self.assertEqual(e.status, "NNINIT_ERR_RANGE")
        self.raises(TypeError, r"Generator\.uniform_: a must be a real number, not NoneType", g.uniform_, x, None)
        self.raises(ValueError, r"torch_normal: std \(-1\) must be >= 0", g.normal_, x, 0.0, -1.0)
        self.raises(ValueError, r"torch_normal: mean \(nan\) and std \(1\) must be finite", g.normal_, x, math.nan)
        self.raises(ValueError, r"torch_trunc_normal: std \(0\) must be > 0", g.trunc_normal_, x, 0.0, 0.0)
        self.raises(ValueError, r"torch_trunc_normal: a \(1\) must be <= b \(-1\)", g.trunc_normal_, x, 0.0, 1.0,
                    1.0, -1.0)
        self.raises(ValueError, r"Generator\.random: n \(-1\) must be >= 0", g.random, -1)
        self.raises(TypeError, r"Generator\.random: n must be an int, not float", g.random, 2.0)

    def test_cpu_names(self):
        for bad in ("avx512", "AVX2", "", "scalar"):
            self.raises(ValueError, r"Generator: unknown cpu '%s' \(auto, avx2, default\)" % bad, Generator, 0,
                        cpu=bad)
        self.raises(TypeError, r"Generator: cpu must be a str \(auto, avx2, default\), not int", Generator, cpu=1)

        def set_cpu():
            self.g.cpu = "fast"
        self.raises(ValueError, r"Generator\.cpu: unknown cpu 'fast'", set_cpu)
        self.raises(ValueError, r"Generator\.from_torch: unknown cpu 'x'", Generator.from_torch, cpu="x")

    def test_seeds(self):
        self.raises(ValueError, r"Generator: seed 18446744073709551616 outside -2\^63\.\.2\^64-1", Generator, 2**64)
        self.raises(ValueError, r"seed -9223372036854775809 outside", Generator, -2**63 - 1)
        self.raises(TypeError, r"Generator: seed must be an int, not float", Generator, 1.5)
        self.raises(TypeError, r"seed must be an int, not bool", Generator, True)
        self.raises(ValueError, r"Generator\.manual_seed: seed .* outside", self.g.manual_seed, 2**70)

    def test_state_bytes(self):
        g = self.g
        e = self.raises(ValueError, r"Generator\.set_state: torch_gen_set_state: 10 bytes, expected 5056",
                        g.set_state, b"\0" * 10)
        self.assertEqual(e.status, "NNINIT_ERR_FORMAT")
        self.raises(ValueError, r"5057 bytes, expected 5056", g.set_state, torch.get_rng_state().numpy().tobytes()
                    + b"\0")
        bad = bytearray(torch.get_rng_state().numpy().tobytes())
        bad[8:12] = (0).to_bytes(4, "little")  # left = 0: a position the engine cannot be in
        self.raises(ValueError, r"torch_gen_set_state: invalid mt19937 state \(seeded 1, left 0, next", g.set_state,
                    bytes(bad))
        bad = bytearray(torch.get_rng_state().numpy().tobytes())
        bad[12:16] = bytes(4)  # seeded = 0
        self.raises(ValueError, r"invalid mt19937 state \(seeded 0", g.set_state, bad)
        self.raises(TypeError, r"Generator\.set_state: expected bytes, a uint8 NumPy array or a torch\.ByteTensor "
                    r"\(torch\.get_rng_state\(\)\), not list", g.set_state, [0] * 5056)
        self.raises(TypeError, r"a torch tensor of dtype float32; the state is a torch\.uint8 tensor",
                    g.set_state, torch.zeros(5056))
        self.raises(TypeError, r"a NumPy array of dtype int64; the state is uint8 bytes", g.set_state,
                    np.zeros(5056, np.int64))
        self.raises(ValueError, r"Generator\.get_state: framework must be 'bytes', 'numpy' or 'torch', not 'jax'",
                    g.get_state, "jax")
        self.raises(TypeError, r"Generator\.from_torch: expected a torch\.Generator, not int", Generator.from_torch,
                    5)

    def test_layers(self):
        g = self.g
        self.raises(ValueError, r"Generator\.linear: in_features \(0\) and out_features \(3\) must be >= 1",
                    g.linear, 0, 3)
        self.raises(TypeError, r"Generator\.linear: in_features must be an int, not float", g.linear, 2.0, 3)
        self.raises(TypeError, r"Generator\.linear: dtype float16 is not reproduced \(float32 and float64 only",
                    g.linear, 2, 3, dtype=np.float16)
        self.raises(TypeError, r"Generator\.conv2d: dtype bfloat16 is not reproduced", g.conv2d, 2, 2, 3,
                    dtype=torch.bfloat16)
        self.raises(TypeError, r"Generator\.linear: unknown dtype 'f8'", g.linear, 2, 3, dtype="f8")
        self.raises(ValueError, r"Generator\.linear: framework must be 'numpy' or 'torch', not 'jax'", g.linear, 2, 3,
                    framework="jax")
        self.raises(ValueError, r"Generator\.conv2d: in_channels \(3\) must be divisible by groups \(2\)", g.conv2d,
                    3, 4, 3, groups=2)
        self.raises(ValueError, r"Generator\.conv1d: out_channels \(3\) must be divisible by groups \(2\)", g.conv1d,
                    4, 3, 3, groups=2)
        self.raises(ValueError, r"Generator\.conv3d: groups \(0\) must be a positive integer", g.conv3d, 4, 4, 3,
                    groups=0)
        self.raises(ValueError, r"Generator\.conv2d: kernel_size \(3, 3, 3\) must have 2 entries", g.conv2d, 2, 2,
                    (3, 3, 3))
        self.raises(ValueError, r"Generator\.conv2d: in_channels \(2\), out_channels \(2\) and kernel_size \(3, 0\) "
                    r"must be >= 1", g.conv2d, 2, 2, (3, 0))
        self.raises(TypeError, r"Generator\.conv1d: kernel_size must be an int or 1 ints, not float", g.conv1d, 2, 2,
                    3.0)
        self.raises(ValueError, r"Generator\.conv: dims must be 1, 2 or 3, not 4", g.conv, 2, 2, 3, dims=4)


if __name__ == "__main__":
    unittest.main(verbosity=1)

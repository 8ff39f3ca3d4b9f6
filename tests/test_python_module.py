#!/usr/bin/python3
"""test_python_module.py -- nninit.torch.init_module_: whole torch modules
re-initialized by layer type or by rules, keyed by qualified names.

Run by ctest as `/usr/bin/python3 tests/test_python_module.py` with
NNINIT_BUILD_DIR and NNINIT_SOURCE_DIR; the package loads libnninit.so
through ctypes.CDLL.

  order        the same model built in different orders, under different torch
               RNG states, gives bit-identical state dicts after init_module_;
               another seed changes every random parameter.
  keys         a parameter's values are the layer preset's under its qualified
               name (nninit.preset(..., prefix=module name)).
  defaults     every covered layer type, against freshly constructed torch
               modules: two-sample Kolmogorov-Smirnov p > 1e-4 on >= 20000
               values per parameter (fixed seeds: the same answer every run),
               the support inside torch's bound, constants and padding rows
               exact.
  rules        first match wins over defaults, fans_of, padding_idx, layout,
               custom parameters, tied weights, dtypes, non-contiguous
               parameters, init_plan.
  errors       a parameter nothing places (named, with its module type), an
               unused rule, bad rule texts and options, lazy, meta and integer
               parameters, not a module.
"""
import math
import os
import sys
import unittest
import warnings

sys.dont_write_bytecode = True
SRC = os.environ.get("NNINIT_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("NNINIT_BUILD_DIR", os.path.join(SRC, "build"))
os.environ["NNINIT_LIBRARY"] = os.path.join(BUILD, "libnninit.so")
sys.path.insert(0, os.path.join(SRC, "python"))

import numpy as np  # noqa: E402
import scipy.stats  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import nninit  # noqa: E402
from nninit.torch import COVERED, init_module_, init_plan  # noqa: E402

# About 60 KS comparisons: p > 1e-4 each keeps the chance that any fails on
# correct code under 1% (Bonferroni); the seeds are fixed, so the answer never
# changes. Bounds, constants and bytes are checked exactly elsewhere.
KS_P = 1e-4
KS_N = 20000

# One instance of every covered type (and a few variants), by a short name.
LAYERS = {
    "fc": lambda: nn.Linear(24, 16),
    "fc_nobias": lambda: nn.Linear(24, 16, bias=False),
    "bil": lambda: nn.Bilinear(6, 5, 4),
    "c1": lambda: nn.Conv1d(4, 6, 3, groups=2),
    "c2": lambda: nn.Conv2d(3, 8, 3),
    "c3": lambda: nn.Conv3d(2, 4, (3, 2, 2)),
    "ct1": lambda: nn.ConvTranspose1d(4, 6, 3, groups=2),
    "ct2": lambda: nn.ConvTranspose2d(3, 5, 2),
    "ct3": lambda: nn.ConvTranspose3d(2, 3, 2, bias=False),
    "emb": lambda: nn.Embedding(40, 12, padding_idx=3),
    "bag": lambda: nn.EmbeddingBag(30, 8, padding_idx=0),
    "ln": lambda: nn.LayerNorm(10),
    "ln2": lambda: nn.LayerNorm((3, 4)),
    "bn1": lambda: nn.BatchNorm1d(7),
    "bn2": lambda: nn.BatchNorm2d(8),
    "bn3": lambda: nn.BatchNorm3d(3),
    "inorm": lambda: nn.InstanceNorm2d(5, affine=True),
    "gn": lambda: nn.GroupNorm(2, 6),
    "rnn": lambda: nn.RNN(5, 7, num_layers=2, nonlinearity="relu"),
    "lstm": lambda: nn.LSTM(6, 9, bidirectional=True, proj_size=4),
    "gru": lambda: nn.GRU(4, 6, bias=False),
    "rnncell": lambda: nn.RNNCell(5, 6),
    "lstmcell": lambda: nn.LSTMCell(4, 5),
    "grucell": lambda: nn.GRUCell(3, 4),
    "mha": lambda: nn.MultiheadAttention(16, 4, add_bias_kv=True),
    "mha_kv": lambda: nn.MultiheadAttention(12, 2, kdim=5, vdim=7),
    "mha_nobias": lambda: nn.MultiheadAttention(8, 2, bias=False),
    "prelu": lambda: nn.PReLU(3),
}


class Net(nn.Module):
    def __init__(self, order):
        super().__init__()
        for name in order:
            setattr(self, name, LAYERS[name]())
        self.block = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.TransformerEncoderLayer(16, 2, 32))


def state_bytes(m):
    return {k: (v.view(torch.int16) if v.dtype == torch.bfloat16 else v).detach().numpy().tobytes()
            for k, v in m.state_dict().items()}


class Order(unittest.TestCase):
    def test_any_order_any_rng_same_state_dict(self):
        names = list(LAYERS)
        torch.manual_seed(1)
        a = init_module_(Net(names), seed=7)
        torch.manual_seed(2)
        b = Net(list(reversed(names)))
        self.assertIs(init_module_(b, seed=7), b)
        torch.manual_seed(3)
        perm = [names[i] for i in np.random.default_rng(0).permutation(len(names))]
        c = init_module_(Net(perm), seed=7, threads=1)
        sa, sb, sc = state_bytes(a), state_bytes(b), state_bytes(c)
        self.assertNotEqual(list(a.state_dict()), list(b.state_dict()))  # built in other orders
        self.assertEqual(sa, sb)
        self.assertEqual(sa, sc)
        # another seed changes every parameter that is random
        d = state_bytes(init_module_(Net(names), seed=8))
        plan = {e["name"]: e for e in init_plan(a)}
        for k, v in sa.items():
            if k in plan and not plan[k]["init"].startswith(("ones", "zeros", "constant")):
                self.assertNotEqual(v, d[k], k)

    def test_keys_are_qualified_names(self):
        m = init_module_(Net(["fc", "c2", "emb"]), seed=5)
        want = nninit.preset("torch.Linear(in=24, out=16)", seed=5, prefix="fc")
        self.assertEqual(m.fc.weight.detach().numpy().tobytes(), want["fc.weight"].tobytes())
        self.assertEqual(m.fc.bias.detach().numpy().tobytes(), want["fc.bias"].tobytes())
        want = nninit.preset("torch.Embedding(in=40, out=12, padding_idx=3)", seed=5, prefix="emb")
        self.assertEqual(m.emb.weight.detach().numpy().tobytes(), want["emb.weight"].tobytes())
        want = nninit.preset("torch.Linear(in=16, out=32)", seed=5, prefix="block.2.linear1")
        self.assertEqual(m.block[2].linear1.weight.detach().numpy().tobytes(), want["block.2.linear1.weight"].tobytes())


class Defaults(unittest.TestCase):
    def test_distributions_equal_torch(self):
        checked = 0
        for lname, make in LAYERS.items():
            ref = make()
            sizes = {n: p.numel() for n, p in ref.named_parameters()}
            if not sizes:
                continue
            reps = max(1, -(-KS_N // max(1, min(sizes.values()))))
            reps = min(reps, 400)
            ours = {n: [] for n in sizes}
            theirs = {n: [] for n in sizes}
            for i in range(reps):
                torch.manual_seed(i)
                t = make()
                for n, p in t.named_parameters():
                    theirs[n].append(p.detach().numpy().ravel().copy())
                init_module_(t, seed=i)
                for n, p in t.named_parameters():
                    ours[n].append(p.detach().numpy().ravel().copy())
            for n in sizes:
                with self.subTest(layer=lname, param=n):
                    x, y = np.concatenate(ours[n]), np.concatenate(theirs[n])
                    if np.all(y == y[0]):
                        self.assertTrue(np.all(x == y[0]), "constant %r expected" % y[0])
                        continue
                    if n.endswith("weight") and lname in ("emb", "bag"):
                        pad = ref.padding_idx
                        rows = lambda v: v.reshape(reps, *ref.weight.shape)[:, pad]
                        self.assertTrue(np.all(rows(x) == 0) and np.all(rows(y) == 0))
                    p = scipy.stats.ks_2samp(x, y).pvalue
                    self.assertGreater(p, KS_P, "KS p = %.3g (%d values)" % (p, len(x)))
                    checked += 1
        self.assertGreater(checked, 40)

    def test_uniform_bounds_are_torchs(self):
        # the support of every uniform default is torch's, to the last ulp
        m = Net(["fc", "c2", "ct1", "lstm", "rnncell", "bil"])
        for e in init_plan(m):
            if not e["init"].startswith(("uniform", "kaiming_uniform")):
                continue
            info = nninit.explain(e["init"], e["shape"] if len(e["shape"]) > 1 else (e["shape"][0], 1))
            b = info["bound"]
            name = e["name"]
            mod = m.get_submodule(name.rpartition(".")[0])
            if isinstance(mod, (nn.Linear, nn.modules.conv._ConvNd)):
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(mod.weight)
                # torch's arithmetic: std = gain / math.sqrt(fan); bound = math.sqrt(3.0) * std
                want = (math.sqrt(3.0) * (nn.init.calculate_gain("leaky_relu", math.sqrt(5)) / math.sqrt(fan_in))
                        if name.endswith("weight") else 1 / math.sqrt(fan_in))
            elif isinstance(mod, nn.Bilinear):
                want = 1 / math.sqrt(mod.weight.size(1))
            else:
                want = 1.0 / math.sqrt(mod.hidden_size)
            self.assertEqual(b, want, name)

    def test_every_covered_type_has_a_default(self):
        made = {type(f()).__name__ for f in LAYERS.values()}
        made |= {"SyncBatchNorm", "InstanceNorm1d", "InstanceNorm3d"}
        self.assertEqual(set(COVERED) - made, set())
        for extra in (nn.SyncBatchNorm(4), nn.InstanceNorm1d(3, affine=True), nn.InstanceNorm3d(2, affine=True),
                      nn.TransformerDecoderLayer(8, 2, 16), nn.Transformer(8, 2, 1, 1, 16)):
            init_module_(extra)
        self.assertEqual(init_plan(nn.ReLU()), [])
        self.assertEqual(init_plan(nn.BatchNorm2d(3, affine=False)), [])


class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.scale = nn.Parameter(torch.zeros(3))
        self.pos = nn.Parameter(torch.zeros(1, 5, 3))


class Rules(unittest.TestCase):
    def test_first_match_wins_over_defaults(self):
        m = Net(["fc", "emb", "ln"])
        init_module_(m, seed=1, rules=[("fc.*", "ones"), ("*.weight", "normal(std=0.02)"), ("fc.bias", "zeros")],
                     allow_unused_rules=True)
        self.assertTrue(bool((m.fc.weight == 1).all() and (m.fc.bias == 1).all()))
        w = nninit.normal_(np.empty((40, 12), np.float32), std=0.02, seed=1, key="emb.weight")
        self.assertEqual(m.emb.weight.detach().numpy().tobytes(), w.tobytes())
        self.assertAlmostEqual(float(m.ln.weight.std()), 0.02, delta=0.015)  # the rule, not ones
        ln_b = nninit.preset("torch.LayerNorm(out=10)", seed=1, prefix="ln")["ln.bias"]
        self.assertEqual(m.ln.bias.detach().numpy().tobytes(), ln_b.tobytes())  # default
        plan = {e["name"]: e for e in init_plan(m, {"fc.*": "ones", "*.weight": "normal(std=0.02)"})}
        self.assertEqual(plan["fc.bias"]["source"], "rule 'fc.*'")
        self.assertEqual(plan["emb.weight"]["init"], "normal(std=0.02)")
        self.assertEqual(plan["ln.bias"]["source"], "preset torch.LayerNorm")
        self.assertEqual(plan["emb.weight"]["zero_row"], None)  # a rule replaces the default's padding row
        self.assertEqual(init_plan(m)[[e["name"] for e in init_plan(m)].index("emb.weight")]["zero_row"], 3)

    def test_custom_parameters_fans_of_padding(self):
        m = Custom()
        rules = {"scale": "ones", "pos": "trunc_normal(std=0.02)",
                 "fc.bias": {"init": "kaiming_uniform(a=2.23606797749979)", "fans_of": "weight"}}
        init_module_(m, seed=3, rules=rules)
        self.assertTrue(bool((m.scale == 1).all()))
        pos = nninit.trunc_normal_(np.empty((1, 5, 3), np.float32), std=0.02, seed=3, key="pos")
        self.assertEqual(m.pos.detach().numpy().tobytes(), pos.tobytes())
        b = nninit.fill_(np.empty(3, np.float32), "kaiming_uniform", a=math.sqrt(5), fans_of=(3, 4), seed=3,
                         key="fc.bias")
        self.assertEqual(m.fc.bias.detach().numpy().tobytes(), b.tobytes())
        e = nn.Embedding(6, 4)
        init_module_(e, rules={"weight": {"init": "normal", "padding_idx": 2}})
        self.assertTrue(bool((e.weight[2] == 0).all()) and float(e.weight[1].abs().sum()) > 0)
        k = nn.Conv2d(2, 4, 3)
        init_module_(k, rules={"weight": {"init": "lecun_normal", "layout": "iohw"}}, allow_unused_rules=True)
        w = nninit.fill_(np.empty((4, 2, 3, 3), np.float32), "lecun_normal", layout="iohw", key="weight")
        self.assertEqual(k.weight.detach().numpy().tobytes(), w.tobytes())

    def test_tied_dtypes_noncontiguous(self):
        class Tied(nn.Module):
            def __init__(self):
                super().__init__()
                self.wte = nn.Embedding(10, 4)
                self.head = nn.Linear(4, 10, bias=False)
                self.head.weight = self.wte.weight

        t = init_module_(Tied(), seed=2)
        self.assertIs(t.head.weight, t.wte.weight)
        self.assertEqual(t.wte.weight.detach().numpy().tobytes(),
                         nninit.preset("torch.Embedding(in=10, out=4)", seed=2, prefix="wte")["wte.weight"].tobytes())
        for dt in (torch.float64, torch.bfloat16, torch.float16):
            m = init_module_(nn.Linear(8, 5).to(dt), seed=4)
            want = nninit.preset("torch.Linear(in=8, out=5, dtype=%s)" % {torch.float64: "f64", torch.bfloat16: "bf16",
                                                                            torch.float16: "f16"}[dt], seed=4)
            got = (m.weight.view(torch.int16) if dt == torch.bfloat16 else m.weight).detach().numpy().tobytes()
            self.assertEqual(got, want["weight"].tobytes(), dt)
        m = nn.Linear(4, 3)
        m.weight = nn.Parameter(torch.empty(4, 3).T)  # (3, 4), not contiguous
        init_module_(m, seed=6)
        want = nninit.preset("torch.Linear(in=4, out=3)", seed=6)
        self.assertEqual(m.weight.detach().contiguous().numpy().tobytes(), want["weight"].tobytes())
        v = m.bias._version
        init_module_(m)
        self.assertGreater(m.bias._version, v)

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, "init_module_: no default for parameter 'scale' of shape \\(3,\\) "
                                                "\\(in a Custom, which nninit does not cover: Linear, .*\\); give a "
                                                "rule"):
            init_module_(Custom())
        with self.assertRaisesRegex(ValueError, "rule 'fc.wieght' matches no parameter"):
            init_module_(Custom(), rules={"scale": "ones", "pos": "zeros", "fc.wieght": "zeros"})
        init_module_(Custom(), rules={"scale": "ones", "pos": "zeros", "fc.wieght": "zeros"}, allow_unused_rules=True)
        with self.assertRaisesRegex(ValueError, "init_module_: 'scale' \\(rule 'scale'\\): kaiming_normal: fan in "
                                                "and fan out can not be computed .*\\(ndim 1\\)"):
            init_module_(Custom(), rules={"scale": "kaiming_normal", "pos": "zeros"})
        with self.assertRaisesRegex(ValueError, "init_module_: rule 'pos': scheme: at 12: expected a number for std "
                                    "but found 'x'"):
            init_module_(Custom(), rules={"scale": "ones", "pos": "normal(std=x)"})
        with self.assertRaisesRegex(ValueError, "'pos' \\(rule 'pos'\\): eye: only 2-dimensional"):
            init_module_(Custom(), rules={"scale": "ones", "pos": "eye"})
        with self.assertRaisesRegex(ValueError, "fans_of 'w': no parameter 'fc.w'"):
            init_module_(Custom(), rules={"scale": "ones", "pos": "zeros",
                                          "fc.bias": {"init": "kaiming_uniform", "fans_of": "w"}})
        with self.assertRaisesRegex(ValueError, "rule 'pos': unknown key 'std'"):
            init_module_(Custom(), rules={"scale": "ones", "pos": {"init": "normal", "std": 1}})
        with self.assertRaisesRegex(ValueError, "padding_idx 7 is not a row of shape \\(6, 4\\)"):
            init_module_(nn.Embedding(6, 4), rules={"weight": {"init": "normal", "padding_idx": 7}})
        with self.assertRaisesRegex(ValueError, "padding_idx -1 is not a row of shape \\(6, 4\\)"):
            init_module_(nn.Embedding(6, 4), rules={"weight": {"init": "normal", "padding_idx": -1}})
        with self.assertRaisesRegex(TypeError, "padding_idx must be an int, not float"):
            init_module_(nn.Embedding(6, 4), rules={"weight": {"init": "normal", "padding_idx": 1.0}})
        with self.assertRaisesRegex(TypeError, "rules must be a mapping or a list of \\(pattern, init\\) pairs"):
            init_module_(Custom(), rules=["scale"])
        with self.assertRaisesRegex(TypeError, "init must be scheme text or a dict with 'init'"):
            init_module_(Custom(), rules={"scale": 1.0})
        with self.assertRaisesRegex(TypeError, "expected a torch.nn.Module, not dict"):
            init_module_({})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lazy modules warn that they are new
            lazy = nn.LazyLinear(4)
        with self.assertRaisesRegex(ValueError, "'weight' is uninitialized \\(a lazy module"):
            init_module_(lazy)
        with self.assertRaisesRegex(ValueError, "'weight' is on the meta device"):
            init_module_(nn.Linear(3, 2, device="meta"))
        m = nn.Module()
        m.count = nn.Parameter(torch.zeros(3, dtype=torch.int64), requires_grad=False)
        with self.assertRaisesRegex(TypeError, "init_module_: 'count' is int64; nninit fills float32"):
            init_module_(m, rules={"count": "zeros"})
        with self.assertRaisesRegex(ValueError, "init_module_: threads -1 must be >= 0"):
            init_module_(nn.Linear(3, 2), threads=-1)


if __name__ == "__main__":
    unittest.main(verbosity=1)

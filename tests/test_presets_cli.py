#!/usr/bin/python3
"""test_presets_cli.py -- layer presets and fan-based biases from the command line,
against PyTorch 1.13 (Debian python3-torch) and the Keras / Flax formulas.

Run by ctest as `/usr/bin/python3 tests/test_presets_cli.py` with NNINIT_CLI set to
the built nninit (or NNINIT_BUILD_DIR holding it).

  explain --preset   every parameter's name, shape, fans, count and bound / std equal
                     the torch module's, the numbers from torch's own helpers
                     (init._calculate_fan_in_and_fan_out, init.calculate_gain, math as
                     in reset_parameters), exactly; keras / flax from their formulas.
  fill --preset      the safetensors file read back here (8-byte little-endian header
                     length, JSON, data): torch's names and shapes, each tensor exactly
                     `nninit fill` of its spec under key nninit_key_from_name(seed,
                     full name), values KS-equal to freshly constructed torch modules.
  --fans-of          a bias drawn on its weight's fans: the weight's bound (torch's).
  bad preset texts   exit 2, the column named.
  probe, train       --preset runs and reports the init of every layer; preset torch is
                     PyTorch's default bit for bit; bias=kaiming_uniform in an
                     architecture has the weight's bound.
Fixed seeds everywhere: every statistical check gives the same answer every run.
"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import scipy.stats
import torch
import torch.nn as nn
import torch.nn.init as init


def _cli_path():
    path = os.environ.get("NNINIT_CLI")
    if not path and os.environ.get("NNINIT_BUILD_DIR"):
        path = os.path.join(os.environ["NNINIT_BUILD_DIR"], "nninit")
    if not path or not os.path.exists(path):
        sys.exit("test_presets_cli.py: set NNINIT_CLI to the built nninit binary")
    return path


CLI = _cli_path()
ENV = {k: v for k, v in os.environ.items() if k != "NNINIT_THREADS"}
FASHION = "/usr/share/datasets/fashion-mnist"
KS_P = 1e-3


def run(*args):
    return subprocess.run([CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=300, env=ENV)


def read_safetensors(path):
    """{name: np.ndarray} and the metadata: 8-byte LE header length N, N bytes of JSON, the data."""
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = blob[8 + n:]
    kinds = {"F32": np.float32, "F64": np.float64, "F16": np.float16}
    out, order = {}, []
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(data[b:end], dtype=kinds[e["dtype"]]).reshape(e["shape"])
        order.append(name)
    return out, order, meta


def torch_kaiming_uniform_bound(w, a):
    """torch.nn.init.kaiming_uniform_'s bound on w, as init.py computes it."""
    fan_in, _ = init._calculate_fan_in_and_fan_out(w)
    gain = init.calculate_gain("leaky_relu", a)
    return math.sqrt(3.0) * (gain / math.sqrt(fan_in))


def torch_linear_bias_bound(w):
    """reset_parameters of nn.Linear / nn.Conv*: bound = 1 / math.sqrt(fan_in)."""
    fan_in, _ = init._calculate_fan_in_and_fan_out(w)
    return 1 / math.sqrt(fan_in) if fan_in > 0 else 0


class Case(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def ok(self, *args):
        r = run(*args)
        self.assertEqual(r.returncode, 0, (args, r.stderr))
        return r

    def explain(self, text):
        return json.loads(self.ok("explain", "--preset", text, "--json").stdout)


class ExplainPreset(Case):
    def check_torch(self, text, module):
        e = self.explain(text)
        params = list(module.named_parameters())
        self.assertEqual([p["name"] for p in e["parameters"]], [n for n, _ in params])
        self.assertEqual(e["count"], sum(p.numel() for _, p in params))
        for p, (name, t) in zip(e["parameters"], params):
            self.assertEqual(p["shape"], list(t.shape), name)
            self.assertEqual(p["count"], t.numel(), name)
            if t.dim() >= 2:
                fi, fo = init._calculate_fan_in_and_fan_out(t)
                if p["layout"] != "embedding":
                    self.assertEqual((p["fan_in"], p["fan_out"]), (fi, fo), name)
            else:
                self.assertIsNone(p["fan_in"], name)
        return e

    def test_conv2d_numbers_are_torchs(self):
        m = nn.Conv2d(3, 64, kernel_size=7)
        e = self.check_torch("torch.Conv2d(in=3, out=64, kernel=7)", m)
        w, b = e["parameters"]
        self.assertEqual(w["bound"], torch_kaiming_uniform_bound(m.weight, math.sqrt(5)))
        self.assertEqual(b["bound"], torch_linear_bias_bound(m.weight))
        self.assertEqual((w["fan_in"], w["fan_out"]), (147, 3136))
        self.assertEqual(w["distribution"], "uniform")
        self.assertEqual(w["layout"], "oihw")
        self.assertEqual(w["call"], "torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5))")
        self.assertEqual(b["call"], "torch.nn.init.uniform_(bias, -1/math.sqrt(147), 1/math.sqrt(147))")
        self.assertEqual(e["module"], "torch.nn.Conv2d(3, 64, kernel_size=(7, 7))")
        human = self.ok("explain", "--preset", "torch.Conv2d(in=3, out=64, kernel=7)").stdout
        for needle in ("torch.nn.Conv2d(3, 64, kernel_size=(7, 7))", "64,3,7,7  oihw f32", "fan_in 147, fan_out 3136",
                       "count         9408", "bound %r" % w["bound"], "kaiming_uniform_(weight, a=math.sqrt(5))"):
            self.assertIn(needle, human)

    def test_more_torch_layers(self):
        for text, m, a in (("torch.Linear(in=784, out=256, bias=false)", nn.Linear(784, 256, bias=False), True),
                           ("torch.Conv1d(in=4, out=6, kernel=5, groups=2)", nn.Conv1d(4, 6, 5, groups=2), True),
                           ("torch.ConvTranspose2d(in=8, out=4, kernel=3x2, groups=2)",
                            nn.ConvTranspose2d(8, 4, (3, 2), groups=2), True),
                           ("torch.LSTM(in=16, out=32, num_layers=2, proj_size=8)",
                            nn.LSTM(16, 32, num_layers=2, proj_size=8), False),
                           ("torch.Embedding(in=10, out=4, padding_idx=3)", nn.Embedding(10, 4, padding_idx=3), False),
                           ("torch.MultiheadAttention(out=16, num_heads=4)", nn.MultiheadAttention(16, 4), False)):
            e = self.check_torch(text, m)
            ps = dict(m.named_parameters())
            for p in e["parameters"]:
                t = ps[p["name"]]
                if a and t.dim() >= 2:
                    self.assertEqual(p["bound"], torch_kaiming_uniform_bound(t, math.sqrt(5)), text)
                elif a:
                    self.assertEqual(p["bound"], torch_linear_bias_bound(m.weight), text)
            if text.startswith("torch.LSTM"):
                self.assertTrue(all(p["bound"] == 1.0 / math.sqrt(32) for p in e["parameters"]))
            if text.startswith("torch.Embedding"):
                self.assertEqual(e["parameters"][0]["zero_row"], 3)
                self.assertEqual(e["parameters"][0]["std"], 1.0)

    def test_keras_and_flax_formulas(self):
        e = self.explain("keras.Conv2D(in=3, out=8, kernel=3x5)")
        k, b = e["parameters"]
        self.assertEqual((k["name"], k["shape"], k["layout"]), ("kernel", [3, 5, 3, 8], "hwio"))
        fi, fo = 3 * 15, 8 * 15
        self.assertEqual(k["bound"], math.sqrt(3.0 * (1.0 / max(1.0, (fi + fo) / 2.0))))
        self.assertEqual(k["call"], "keras.initializers.GlorotUniform()")
        self.assertEqual((b["distribution"], b["lo"]), ("constant", 0))
        e = self.explain("flax.Dense(in=784, out=256)")
        k = e["parameters"][0]
        std32 = np.sqrt(np.float32(1.0 / 784)) / np.float32(0.87962566103423978)
        self.assertEqual(k["std"], float(std32))
        self.assertEqual((k["lo"], k["hi"]), (-2 * k["std"], 2 * k["std"]))
        self.assertEqual(k["call"], "flax.linen.initializers.lecun_normal()")

    def test_list_presets(self):
        listed = json.loads(self.ok("presets", "--json").stdout)
        names = [p["name"] for p in listed]
        for n in ("torch.Linear", "torch.Conv2d", "keras.Dense", "keras.Conv2D", "flax.Dense", "flax.Conv"):
            self.assertIn(n, names)
        for p in listed:
            self.assertTrue(p["summary"], p["name"])
            self.assertIn("in" if p["name"] not in ("torch.LayerNorm", "torch.MultiheadAttention")
                          and not p["name"].startswith("torch.BatchNorm") else "out", p["keys"])
        by = {p["name"]: p for p in listed}
        self.assertEqual(by["torch.Linear"]["keys"], ["in", "out", "bias", "dtype"])
        self.assertIn("kernel", by["flax.Conv"]["keys"])
        text = self.ok("presets").stdout
        self.assertEqual(self.ok("explain", "--preset", "list").stdout, text)
        self.assertEqual(json.loads(self.ok("explain", "--preset", "list", "--json").stdout), listed)
        self.assertEqual(len(text.splitlines()), 2 * len(listed))
        for cmd in (["presets"], ["explain", "--preset", "x"], ["fill", "--preset", "x"]):
            h = self.ok(*cmd, "--help").stdout
            self.assertIn("usage: nninit", h)
        self.assertIn("--preset", self.ok("help", "explain").stdout)
        self.assertIn("--fans-of", self.ok("help", "fill").stdout)
        self.assertIn("presets", self.ok("--help").stdout)

    def test_bad_texts_exit_2_with_the_column(self):
        for cmd in (["explain"], ["fill", "-o", self.path("x.safetensors")]):
            for text, col in (("torch.Conv2d(in=3, out=64, kernal=7)", 28), ("torch.Linear(in=3, out=4", 25),
                              ("torch.Linear(in=3, out=x)", 24), ("torch.Linear(in=3, in=4)", 20),
                              ("keras.Dense(in=3, out=4) extra", 26)):
                r = run(*cmd, "--preset", text)
                self.assertEqual(r.returncode, 2, (cmd, text, r.stderr))
                self.assertIn("at %d:" % col, r.stderr, text)
                self.assertIn("\n  %s^\n" % (" " * (col - 1)), r.stderr, text)  # a caret under it
                self.assertEqual(r.stdout, "")
            for text, needle in (("torch.Conv9d(in=3)", "unknown preset 'torch.Conv9d'"),
                                 ("torch.Linear(in=0, out=3)", "in is 0"),
                                 ("torch.Conv2d(in=3, out=4, kernel=3, groups=2)", "divisible by groups")):
                r = run(*cmd, "--preset", text)
                self.assertEqual(r.returncode, 2, (text, r.stderr))
                self.assertIn(needle, r.stderr)
        self.assertFalse(os.listdir(self.tmp.name))  # nothing written, no temporary left
        r = run("explain", "--preset", "torch.Linear(in=3, out=4)", "--shape", "3,4")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option '--shape'", r.stderr)


class FillPreset(Case):
    def test_conv2d_names_shapes_keys_and_values(self):
        out = self.path("conv.safetensors")
        r = self.ok("fill", "--preset", "torch.Conv2d(in=3, out=16, kernel=5)", "--name", "features.0", "--seed", "5",
                    "-o", out, "--json")
        rep = json.loads(r.stdout)
        got, order, meta = read_safetensors(out)
        m = nn.Conv2d(3, 16, 5)
        want = [("features.0." + n, tuple(t.shape)) for n, t in m.state_dict().items()]
        self.assertEqual([(n, got[n].shape) for n in order], want)
        self.assertEqual([t["name"] for t in rep["tensors"]], [n for n, _ in want])
        self.assertEqual(meta, {"nninit.preset": "torch.Conv2d(in=3, out=16, kernel=5)", "nninit.seed": "5"})
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["conv.safetensors"])  # atomic: no temporary
        # each tensor is `nninit fill` of its spec under the key of its full name
        wb = torch_kaiming_uniform_bound(m.weight, math.sqrt(5))
        bb = torch_linear_bias_bound(m.weight)
        self.ok("fill", "kaiming_uniform", "--a", repr(math.sqrt(5)), "--shape", "16,3,5,5", "--key",
                "features.0.weight", "--seed", "5", "-o", self.path("w.npy"))
        self.ok("fill", "uniform", "--a", repr(-bb), "--b", repr(bb), "--shape", "16", "--key", "features.0.bias",
                "--seed", "5", "-o", self.path("b.npy"))
        np.testing.assert_array_equal(got["features.0.weight"], np.load(self.path("w.npy")))
        np.testing.assert_array_equal(got["features.0.bias"], np.load(self.path("b.npy")))
        self.assertLessEqual(np.abs(got["features.0.weight"]).max(), wb)
        # KS against torch's own modules (a fixed pool of seeds)
        pool_w, pool_b = [], []
        for s in range(8):
            torch.manual_seed(s)
            t = nn.Conv2d(3, 16, 5)
            pool_w.append(t.weight.detach().numpy().ravel())
            pool_b.append(t.bias.detach().numpy().ravel())
        self.assertGreater(scipy.stats.ks_2samp(got["features.0.weight"].ravel(), np.concatenate(pool_w)).pvalue, KS_P)
        many_b = np.concatenate([read_safetensors(self.fill_bias(s))[0]["bias"] for s in range(8)])
        self.assertGreater(scipy.stats.ks_2samp(many_b, np.concatenate(pool_b)).pvalue, KS_P)

    def fill_bias(self, seed):
        out = self.path("b%d.safetensors" % seed)
        self.ok("fill", "--preset", "torch.Conv2d(in=3, out=16, kernel=5)", "--seed", str(seed), "-o", out)
        return out

    def test_lstm_and_linear_names(self):
        out = self.path("lstm.safetensors")
        self.ok("fill", "--preset", "torch.LSTM(in=6, out=8, bidirectional=true)", "-o", out)
        got, order, _ = read_safetensors(out)
        m = nn.LSTM(6, 8, bidirectional=True)
        self.assertEqual(order, list(m.state_dict()))
        for n, t in m.state_dict().items():
            self.assertEqual(got[n].shape, tuple(t.shape))
            self.assertLessEqual(np.abs(got[n]).max(), 1 / math.sqrt(8))
        pool = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
        mine = np.concatenate([got[n].ravel() for n in order])
        self.assertGreater(scipy.stats.ks_2samp(mine, pool).pvalue, KS_P)
        out = self.path("fc.safetensors")
        r = self.ok("fill", "--preset", "torch.Linear(in=20, out=3, bias=false, dtype=f64)", "--name", "fc", "-o", out)
        self.assertIn("fc.weight", r.stdout)
        got, order, _ = read_safetensors(out)
        self.assertEqual(order, ["fc.weight"])
        self.assertEqual(got["fc.weight"].dtype, np.float64)

    def test_keras_kernel(self):
        out = self.path("dense.safetensors")
        self.ok("fill", "--preset", "keras.Dense(in=64, out=32)", "--name", "dense", "-o", out, "--seed", "1")
        got, order, _ = read_safetensors(out)
        self.assertEqual(order, ["dense.kernel", "dense.bias"])
        self.assertEqual(got["dense.kernel"].shape, (64, 32))  # Keras' (input_dim, units)
        self.assertTrue((got["dense.bias"] == 0).all())
        limit = math.sqrt(3.0 * (1.0 / ((64 + 32) / 2.0)))
        k = got["dense.kernel"].astype(np.float64).ravel()
        self.assertLessEqual(np.abs(k).max(), limit)
        self.assertGreater(scipy.stats.kstest(k, "uniform", args=(-limit, 2 * limit)).pvalue, KS_P)

    def test_usage_errors(self):
        for args, needle in ((["--preset", "torch.Linear(in=3, out=4)"], "missing -o"),
                             (["--preset", "torch.Linear(in=3, out=4)", "-o", self.path("a"), "--name", ""],
                              "empty prefix"),
                             (["--preset", "torch.Linear(in=3, out=4)", "-o", self.path("a"), "--seed", "-1"],
                              "--seed"),
                             (["--preset", "torch.LayerNorm(out=4, bias=false)", "-o", self.path("a")],
                              "no parameters")):
            r = run("fill", *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(needle, r.stderr)
        r = run("fill", "--preset", "torch.Linear(in=3, out=4)", "-o", self.path("no/such/dir/x.safetensors"))
        self.assertEqual(r.returncode, 1, r.stderr)  # an I/O failure


class FansOf(Case):
    def test_bias_on_its_weights_fans(self):
        w = torch.empty(256, 784)
        bound = torch_kaiming_uniform_bound(w, 0)  # nninit's kaiming defaults: a=0, leaky_relu, fan_in
        e = json.loads(self.ok("explain", "kaiming_uniform", "--shape", "256", "--fans-of", "256,784", "--json").stdout)
        self.assertEqual(e["bound"], bound)
        self.assertEqual((e["fan_in"], e["fan_out"], e["fans_of"], e["shape"]), (784, 256, [256, 784], [256]))
        self.assertEqual(e["resolved"], "uniform(a=%r, b=%r)" % (-bound, bound))
        self.assertEqual(e["torch"], "torch.nn.init.uniform_(w, a=%r, b=%r)" % (-bound, bound))
        self.ok("fill", "kaiming_uniform", "--shape", "256", "--fans-of", "256,784", "--seed", "2", "--key", "b", "-o",
                self.path("k.npy"))
        self.ok("fill", "uniform", "--a", repr(-bound), "--b", repr(bound), "--shape", "256", "--seed", "2", "--key",
                "b", "-o", self.path("u.npy"))
        np.testing.assert_array_equal(np.load(self.path("k.npy")), np.load(self.path("u.npy")))
        # the layout options describe the --fans-of tensor: HWIO (3, 3, 16, 32) is conv fan_in 144
        e = json.loads(self.ok("explain", "xavier_normal", "--shape", "32", "--fans-of", "3,3,16,32", "--layout",
                               "hwio", "--json").stdout)
        self.assertEqual((e["fan_in"], e["fan_out"]), (144, 288))
        self.assertEqual(e["std"], math.sqrt(2.0 / (144 + 288)))
        human = self.ok("explain", "lecun_normal", "--shape", "10", "--fans-of", "10,40").stdout
        self.assertIn("fans of       10,40", human)
        self.assertIn("resolved      normal(std=", human)
        for args, needle in ((["normal", "--shape", "8", "--fans-of", "8,4"], "normal does not use fans"),
                             (["kaiming_normal", "--shape", "8", "--fans-of", "8x4"], "--fans-of '8x4'"),
                             (["kaiming_normal", "--shape", "8", "--fans-of", "8"], "fewer than 2 dimensions")):
            r = run("explain", *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(needle, r.stderr)


class ProbeTrain(Case):
    def probe(self, *args):
        r = self.ok("probe", "--batch", "8", "--steps", "0", "--threads", "1", "--json", *args)
        return json.loads(r.stdout)

    def test_probe_preset_keras_reports_each_layer(self):
        p = self.probe("--arch", "784 -> [dense 64 relu] x2 -> dense 10", "--preset", "keras")
        self.assertEqual(p["preset"], "keras")
        for y, (fi, fo) in zip(p["layers"], ((784, 64), (64, 64), (64, 10))):
            i = y["init"]
            self.assertEqual((i["source"], i["preset"], i["framework"]), ("preset", "keras", "keras.Dense"))
            self.assertEqual(i["weight"]["bound"], math.sqrt(3.0 * (1.0 / ((fi + fo) / 2.0))))
            self.assertEqual(i["weight"]["shape"], [fo, fi])
            self.assertEqual(i["bias"]["distribution"], "constant")
        text = self.ok("probe", "--arch", "784 -> [dense 64 relu] x3 -> dense 10", "--preset", "keras", "--batch",
                       "8", "--steps", "0").stdout
        self.assertIn("init: layer 1: preset keras (keras.Dense): weight ~ U(-0.08412, 0.08412), bias ~ 0\n", text)
        self.assertIn("init: layers 2-3: preset keras (keras.Dense): weight ~ U(-0.2165, 0.2165), bias ~ 0\n", text)
        self.assertIn("init: layer 4: preset keras", text)

    def test_preset_torch_is_the_default_bit_for_bit(self):
        arch = ["--arch", "1x8x8 -> conv 4 3 relu -> flatten -> dense 16 tanh -> dense 10"]
        a, b = self.probe(*arch), self.probe(*arch, "--preset", "torch")
        self.assertEqual(a["loss"], b["loss"])
        self.assertEqual([y["pre_std"] for y in a["layers"]], [y["pre_std"] for y in b["layers"]])
        self.assertIsNone(a["preset"])
        self.assertEqual([y["init"] and y["init"]["source"] for y in a["layers"]],
                         ["pytorch", None, "pytorch", "pytorch"])
        self.assertEqual([y["init"] and y["init"]["framework"] for y in b["layers"]],
                         ["torch.Conv2d", None, "torch.Linear", "torch.Linear"])
        conv = nn.Conv2d(1, 4, 3)
        self.assertEqual(b["layers"][0]["init"]["weight"]["bound"], torch_kaiming_uniform_bound(conv.weight,
                                                                                               math.sqrt(5)))
        self.assertEqual(b["layers"][0]["init"]["bias"]["bound"], torch_linear_bias_bound(conv.weight))
        f = self.probe("--arch", "1x8x8 -> conv 4 3 relu -> flatten -> dense 10", "--preset", "flax")
        std32 = np.sqrt(np.float32(1.0 / 9)) / np.float32(0.87962566103423978)
        self.assertEqual(f["layers"][0]["init"]["weight"]["std"], float(std32))
        self.assertEqual(f["layers"][0]["init"]["framework"], "flax.Conv")

    def test_bias_kaiming_uniform_in_an_arch_is_the_weights_bound(self):
        p = self.probe("--arch", "784 -> dense 64 relu init=kaiming_uniform bias=kaiming_uniform -> "
                       "dense 10 bias=kaiming_uniform(a=1, mode=fan_out)")
        w = torch.empty(64, 784)
        l0 = p["layers"][0]["init"]
        self.assertEqual(l0["weight"]["bound"], torch_kaiming_uniform_bound(w, 0))
        self.assertEqual(l0["bias"]["bound"], l0["weight"]["bound"])
        self.assertEqual(l0["bias"]["shape"], [64])
        b1 = p["layers"][1]["init"]["bias"]  # mode=fan_out of the (10, 64) weight: 10
        self.assertEqual(b1["bound"], math.sqrt(3.0) * (init.calculate_gain("leaky_relu", 1) / math.sqrt(10)))

    def test_probe_errors(self):
        arch = ["--arch", "784 -> dense 10"]
        for args, needle in ((["--preset", "jax"], "--preset 'jax': expected torch, keras or flax"),
                             (["--preset", "torch", "--init", "zeros"], "not both"),
                             (["--arch", "784 preset=keras -> dense 10", "--preset", "flax"], "already"),
                             (["--arch", "784 -> dense 10 preset=torch init=zeros"], "at 30:"),
                             (["--arch", "784 -> dense 10 bias=eye"], "the bias init cannot fill a (10) bias")):
            r = run("probe", *(arch if args[0] != "--arch" else []), *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(needle, r.stderr)
        self.assertIn("--preset NAME", self.ok("probe", "--help").stdout)
        self.assertIn("--preset NAME", self.ok("train", "--help").stdout)

    @unittest.skipUnless(os.path.isdir(FASHION), "needs Debian's dataset-fashion-mnist")
    def test_train_preset_flax(self):
        args = ["--arch", "784 -> dense 32 relu -> dense 10", "--preset", "flax", "--subset", "500", "--test-subset",
                "100", "--batch", "100", "--max-steps", "3", "--threads", "1"]
        rep = json.loads(self.ok("train", *args, "--json", "--quiet").stdout)
        self.assertEqual(rep["preset"], "flax")
        self.assertEqual([i["framework"] for i in rep["init"]], ["flax.Dense", "flax.Dense"])
        std32 = np.sqrt(np.float32(1.0 / 784)) / np.float32(0.87962566103423978)
        self.assertEqual(rep["init"][0]["weight"]["std"], float(std32))
        self.assertEqual(rep["steps"], 3)
        r = self.ok("train", *args)
        self.assertIn("init: layer 1: preset flax (flax.Dense): weight ~ TN(0, ", r.stderr)
        self.assertEqual(len(r.stdout.strip().splitlines()), 3)  # the table alone on stdout
        r = run("train", *args, "--init", "zeros")
        self.assertEqual(r.returncode, 2)
        self.assertIn("not both", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/python3
"""test_python_checkpoint.py -- presets, safetensors and recipes from Python
(python/nninit/layers.py, files.py) against the CLI's files.

Run by ctest as `/usr/bin/python3 tests/test_python_checkpoint.py` with
NNINIT_BUILD_DIR, NNINIT_SOURCE_DIR and NNINIT_CLI; the package loads
libnninit.so through ctypes.CDLL.

  presets      preset(text, seed, prefix) equals `nninit fill --preset TEXT
               --name PREFIX --seed S` (names, order, bytes) for torch, keras
               and flax layers, bf16 included; preset_ fills given arrays and a
               torch module with the same bytes; preset_params agrees with
               `nninit explain --preset --json`.
  safetensors  the CLI writes, load_safetensors reads: the bytes equal an
               independent reader's (header JSON parsed here); save_safetensors
               of what was read (with its metadata) is byte-identical to the
               CLI's file, and `nninit verify` accepts it; a file Python writes
               is the --like of a CLI checkpoint; every dtype round-trips
               (NumPy and torch); sharded checkpoints load through the index.
  recipes      checkpoint() equals `nninit checkpoint --recipe` byte for byte
               (single file and shards, dtype and settings), `nninit verify`
               accepts it; recipe() in memory equals the file; recipe_tensors.
  errors       missing and corrupt files, bad dtypes, names, metadata,
               settings, recipes, shard sizes, frameworks, preset texts.
"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
SRC = os.environ.get("NNINIT_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("NNINIT_BUILD_DIR", os.path.join(SRC, "build"))
os.environ["NNINIT_LIBRARY"] = os.path.join(BUILD, "libnninit.so")
os.environ.pop("NNINIT_THREADS", None)
sys.path.insert(0, os.path.join(SRC, "python"))
CLI = os.environ.get("NNINIT_CLI", os.path.join(BUILD, "nninit"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import nninit  # noqa: E402

GPT2 = {"n_layer": 2, "n_embd": 64, "n_head": 4, "vocab_size": 300, "n_positions": 32}
GPT2_SET = ["--set", "n_layer=2", "--set", "n_embd=64", "--set", "n_head=4", "--set", "vocab_size=300", "--set",
            "n_positions=32"]


def cli(*args):
    r = subprocess.run([CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=300)
    if r.returncode:
        raise AssertionError("nninit %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r.stdout


def read_raw(path):
    """An independent reader: {name: (dtype, shape, bytes)}, metadata, in header order."""
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = blob[8 + n:]
    return {k: (v["dtype"], tuple(v["shape"]), data[v["data_offsets"][0]:v["data_offsets"][1]])
            for k, v in header.items()}, meta


def raw_bytes(x):
    if isinstance(x, torch.Tensor):
        return (x.view(torch.int16) if x.dtype == torch.bfloat16 else x).numpy().tobytes()
    return x.tobytes()


class Presets(unittest.TestCase):
    TEXTS = ["torch.Linear(in=784, out=256)", "torch.Conv2d(in=3, out=64, kernel=7)",
             "torch.Conv1d(in=4, out=8, kernel=3, groups=2, bias=false)",
             "torch.ConvTranspose2d(in=6, out=4, kernel=3)", "torch.Embedding(in=50, out=16, padding_idx=3)",
             "torch.LSTM(in=16, out=32, num_layers=2, proj_size=8)", "torch.GRU(in=5, out=7, bidirectional=true)",
             "torch.MultiheadAttention(out=32, num_heads=4, add_bias_kv=true)", "torch.LayerNorm(out=10)",
             "torch.BatchNorm2d(out=6)", "keras.Dense(in=20, out=30)", "keras.Conv2D(in=3, out=8, kernel=3x5)",
             "flax.Conv(in=3, out=8, kernel=3x3)", "torch.Linear(in=64, out=32, dtype=bf16)",
             "flax.Dense(in=7, out=9, dtype=f64)"]

    def test_preset_equals_cli(self):
        with tempfile.TemporaryDirectory() as tmp:
            for text in self.TEXTS:
                for seed, prefix in ((0, None), (42, "encoder.layer1")):
                    with self.subTest(text=text, seed=seed, prefix=prefix):
                        out = os.path.join(tmp, "p.safetensors")
                        cli("fill", "--preset", text, "--seed", str(seed), *(["--name", prefix] if prefix else []),
                            "-o", out)
                        raw, _ = read_raw(out)
                        for fw in ("numpy", "torch"):
                            got = nninit.preset(text, seed=seed, prefix=prefix, framework=fw)
                            self.assertEqual(list(got), list(raw))
                            for name, x in got.items():
                                self.assertEqual(tuple(x.shape), raw[name][1])
                                self.assertEqual(raw_bytes(x), raw[name][2], name)
                        # preset_ into given arrays: the same bytes
                        arrays = {n[len(prefix) + 1:] if prefix else n: np.empty(raw[n][1], {
                            "F32": np.float32, "F64": np.float64}[raw[n][0]]) for n in raw if raw[n][0] != "BF16"}
                        if len(arrays) == len(raw):
                            nninit.preset_(text, arrays, seed=seed, prefix=prefix)
                            for n, x in arrays.items():
                                self.assertEqual(x.tobytes(), raw[(prefix + "." + n) if prefix else n][2])

    def test_preset_into_a_torch_module(self):
        m = nn.Linear(10, 6)
        nninit.preset_("torch.Linear(in=10, out=6)", m, seed=9, prefix="fc")
        want = nninit.preset("torch.Linear(in=10, out=6)", seed=9, prefix="fc")
        self.assertEqual(m.weight.detach().numpy().tobytes(), want["fc.weight"].tobytes())
        self.assertEqual(m.bias.detach().numpy().tobytes(), want["fc.bias"].tobytes())
        mha = nn.MultiheadAttention(16, 2, dtype=torch.float64)
        nninit.preset_("torch.MultiheadAttention(out=16, num_heads=2)", mha)
        want = nninit.preset("torch.MultiheadAttention(out=16, num_heads=2, dtype=f64)")
        for n, p in mha.named_parameters():
            self.assertEqual(p.detach().numpy().tobytes(), want[n].tobytes(), n)
        e = nn.Embedding(10, 4, padding_idx=2).to(torch.bfloat16)
        nninit.preset_("torch.Embedding(in=10, out=4, padding_idx=2)", e)
        self.assertTrue(bool((e.weight[2] == 0).all()))
        self.assertEqual(raw_bytes(e.weight.detach()),
                         nninit.preset("torch.Embedding(in=10, out=4, padding_idx=2, dtype=bf16)")["weight"].tobytes())

    def test_preset_params_equals_explain(self):
        for text in ("torch.Conv2d(in=3, out=64, kernel=7)", "torch.Embedding(in=5, out=2, padding_idx=-1)",
                     "keras.Conv2D(in=3, out=8, kernel=3x5)"):
            ours = nninit.preset_params(text)
            theirs = json.loads(cli("explain", "--preset", text, "--json"))["parameters"]
            self.assertEqual(len(ours), len(theirs))
            for o, t in zip(ours, theirs):
                for k in ("name", "layout", "dtype", "scheme", "distribution", "mean", "std", "bound", "lo", "hi",
                          "variance", "fan_in", "fan_out", "zero_row"):
                    v = o[k]
                    if isinstance(v, float) and not math.isfinite(v):
                        v = None  # JSON's null: an unbounded support
                    self.assertEqual(v, t[k], (text, o["name"], k))
                self.assertEqual(list(o["shape"]), t["shape"])
        self.assertEqual(nninit.preset_params("torch.Embedding(in=5, out=2, padding_idx=-1)")[0]["zero_row"], 4)
        self.assertIn("torch.Linear", nninit.presets())

    def test_preset_errors(self):
        with self.assertRaisesRegex(ValueError, "preset: preset: at 14: torch.Linear takes no parameter 'kernel'"):
            nninit.preset("torch.Linear(kernel=3)")
        with self.assertRaisesRegex(ValueError, "preset: preset: unknown preset 'torch.Dense'"):
            nninit.preset("torch.Dense(in=3, out=4)")
        with self.assertRaisesRegex(ValueError, "preset_: torch.Linear has parameters weight, bias; missing: bias"):
            nninit.preset_("torch.Linear(in=3, out=4)", {"weight": np.empty((4, 3), np.float32)})
        with self.assertRaisesRegex(ValueError, "not in the layer: gamma"):
            nninit.preset_("torch.Linear(in=3, out=4)", {"weight": np.empty((4, 3), np.float32),
                                                         "bias": np.empty(4, np.float32),
                                                         "gamma": np.empty(4, np.float32)})
        with self.assertRaisesRegex(ValueError, "preset_: 'weight' has shape \\(3, 4\\); the layer's is \\(4, 3\\)"):
            nninit.preset_("torch.Linear(in=3, out=4)", {"weight": np.empty((3, 4), np.float32),
                                                         "bias": np.empty(4, np.float32)})
        with self.assertRaisesRegex(TypeError, "preset_: the tensors mix dtypes \\(f32, f64\\)"):
            nninit.preset_("torch.Linear(in=3, out=4)", {"weight": np.empty((4, 3), np.float32),
                                                         "bias": np.empty(4, np.float64)})
        with self.assertRaisesRegex(TypeError, "the text says dtype f64, the tensors are f32"):
            nninit.preset_("torch.Linear(in=3, out=4, dtype=f64)", nn.Linear(3, 4))
        with self.assertRaisesRegex(TypeError, "preset_: tensors must be a mapping name -> array or a torch module"):
            nninit.preset_("torch.Linear(in=3, out=4)", [1, 2])
        with self.assertRaisesRegex(ValueError, "preset_: 'weight': the tensor is not contiguous"):
            nninit.preset_("torch.Linear(in=3, out=4)", {"weight": torch.empty(3, 4).T, "bias": torch.empty(4)})
        with self.assertRaisesRegex(ValueError, "framework must be 'numpy' or 'torch', not 'jax'"):
            nninit.preset("torch.Linear(in=3, out=4)", framework="jax")
        with self.assertRaisesRegex(ValueError, "preset: torch.Conv2d: in \\(3\\) must be divisible by groups \\(2\\)"):
            nninit.preset("torch.Conv2d(in=3, out=4, kernel=3, groups=2)")


class Safetensors(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def p(self, name):
        return os.path.join(self.dir, name)

    def test_cli_writes_python_reads_and_rewrites_identically(self):
        cli("checkpoint", "--recipe", "gpt2", *GPT2_SET, "--seed", "3", "-o", self.p("g.safetensors"))
        raw, meta = read_raw(self.p("g.safetensors"))
        got = nninit.load_safetensors(self.p("g.safetensors"))
        self.assertEqual(list(got), list(raw))  # file order: data offsets, as written
        for n, x in got.items():
            self.assertEqual(x.dtype, np.float32)
            self.assertEqual(x.shape, raw[n][1])
            self.assertEqual(x.tobytes(), raw[n][2])
        md = nninit.safetensors_metadata(self.p("g.safetensors"))
        self.assertEqual(md, meta)
        self.assertEqual(list(md), ["format", "nninit"])
        n = nninit.save_safetensors(got, self.p("again.safetensors"), metadata=md)
        with open(self.p("g.safetensors"), "rb") as a, open(self.p("again.safetensors"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertEqual(n, os.path.getsize(self.p("again.safetensors")))
        cli("verify", self.p("again.safetensors"))
        # torch tensors, through the same file
        tg = nninit.load_safetensors(self.p("g.safetensors"), framework="torch")
        self.assertTrue(all(isinstance(v, torch.Tensor) for v in tg.values()))
        nninit.save_safetensors(tg, self.p("t.safetensors"), metadata=md)
        with open(self.p("g.safetensors"), "rb") as a, open(self.p("t.safetensors"), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_python_writes_cli_reads(self):
        # a checkpoint's tensors written by Python, zeros: the CLI takes the
        # file as --like and fills a recipe's rules on its header
        zeros = {e["name"]: np.zeros(e["shape"], np.float32) for e in nninit.recipe_tensors("gpt2", GPT2)}
        nninit.save_safetensors(zeros, self.p("like.safetensors"))
        cli("checkpoint", "--recipe", "gpt2", *GPT2_SET, "--like", self.p("like.safetensors"), "--seed", "3", "-o",
            self.p("out.safetensors"))
        cli("checkpoint", "--recipe", "gpt2", *GPT2_SET, "--seed", "3", "-o", self.p("ref.safetensors"))
        a, b = nninit.load_safetensors(self.p("out.safetensors")), nninit.load_safetensors(self.p("ref.safetensors"))
        self.assertEqual(sorted(a), sorted(b))
        for k in a:
            self.assertEqual(a[k].tobytes(), b[k].tobytes())
        # and the independent reader agrees with what Python wrote
        raw, meta = read_raw(self.p("like.safetensors"))
        self.assertEqual(meta, {})
        self.assertEqual(list(raw), list(zeros))

    def test_every_dtype_round_trips(self):
        rng = np.random.default_rng(0)
        arrays = {"f32": rng.standard_normal((3, 4)).astype(np.float32), "f64": rng.standard_normal(5),
                  "f16": rng.standard_normal((2, 2)).astype(np.float16),
                  "i8": np.arange(-3, 3, dtype=np.int8), "u8": np.arange(6, dtype=np.uint8),
                  "i16": np.arange(4, dtype=np.int16), "u16": np.arange(4, dtype=np.uint16),
                  "i32": np.arange(4, dtype=np.int32), "u32": np.arange(4, dtype=np.uint32),
                  "i64": np.arange(4, dtype=np.int64), "u64": np.arange(4, dtype=np.uint64),
                  "bool": np.array([True, False, True]), "scalar": np.array(2.5, np.float32),
                  "empty": np.zeros((0, 3), np.float32), "big_endian": np.arange(3, dtype=">f4"),
                  "strided": np.arange(12, dtype=np.float32).reshape(3, 4).T}
        nninit.save_safetensors(arrays, self.p("all.safetensors"), metadata={"k": "v"})
        raw, meta = read_raw(self.p("all.safetensors"))
        self.assertEqual(meta, {"k": "v"})
        self.assertEqual(raw["u16"][0], "U16")
        self.assertEqual(raw["bool"][0], "BOOL")
        self.assertEqual(raw["big_endian"][0], "F32")
        self.assertEqual(raw["scalar"][1], ())
        back = nninit.load_safetensors(self.p("all.safetensors"))
        for k, v in arrays.items():
            self.assertTrue(np.array_equal(back[k], v), k)
            self.assertEqual(back[k].shape, v.shape, k)
        t = {"bf16": torch.tensor([1.5, -2.0, 3.25], dtype=torch.bfloat16), "i64": torch.arange(3),
             "f16": torch.ones(2, dtype=torch.float16), "bool": torch.tensor([True, False])}
        nninit.save_safetensors(t, self.p("t.safetensors"))
        raw, _ = read_raw(self.p("t.safetensors"))
        self.assertEqual(raw["bf16"][0], "BF16")
        tb = nninit.load_safetensors(self.p("t.safetensors"), framework="torch")
        for k in t:
            self.assertTrue(torch.equal(tb[k], t[k]), k)
        nb = nninit.load_safetensors(self.p("t.safetensors"))
        self.assertEqual(nb["bf16"].dtype, np.uint16)  # NumPy: bf16 bit patterns
        self.assertEqual(nb["bf16"].tobytes(), t["bf16"].view(torch.int16).numpy().tobytes())

    def test_errors(self):
        with self.assertRaisesRegex(OSError, "load_safetensors: st_open: .*absent.safetensors: No such file or "
                                    "directory"):
            nninit.load_safetensors(self.p("absent.safetensors"))
        nninit.save_safetensors({"a": np.zeros(4, np.float32)}, self.p("ok.safetensors"))
        with open(self.p("ok.safetensors"), "rb") as f:
            blob = f.read()
        with open(self.p("cut.safetensors"), "wb") as f:
            f.write(blob[:-3])
        with self.assertRaisesRegex(ValueError, "load_safetensors: st_open: .*cut.safetensors: safetensors header: "
                                    "tensor 'a': data_offsets \\[0, 16\\] beyond the data \\(13 bytes\\)") as cm:
            nninit.load_safetensors(self.p("cut.safetensors"))
        self.assertEqual(cm.exception.status, "NNINIT_ERR_FORMAT")
        with open(self.p("junk.safetensors"), "wb") as f:
            f.write(struct.pack("<Q", 8) + b"{nope}  ")
        with self.assertRaisesRegex(nninit.Error, "junk.safetensors: safetensors header: bad JSON at byte 2") as cm:
            nninit.load_safetensors(self.p("junk.safetensors"))
        self.assertIsInstance(cm.exception, ValueError)
        with self.assertRaisesRegex(TypeError, "save_safetensors: tensors must be a mapping"):
            nninit.save_safetensors([np.zeros(3)], self.p("x.safetensors"))
        with self.assertRaisesRegex(TypeError, "tensor 'c': dtype complex64 has no safetensors dtype"):
            nninit.save_safetensors({"c": np.zeros(3, np.complex64)}, self.p("x.safetensors"))
        with self.assertRaisesRegex(TypeError, "tensor 'c': torch dtype complex64"):
            nninit.save_safetensors({"c": torch.zeros(3, dtype=torch.complex64)}, self.p("x.safetensors"))
        with self.assertRaisesRegex(TypeError, "tensor 'l' is a list"):
            nninit.save_safetensors({"l": [1.0]}, self.p("x.safetensors"))
        with self.assertRaisesRegex(TypeError, "tensor names must be str, not int"):
            nninit.save_safetensors({1: np.zeros(3)}, self.p("x.safetensors"))
        with self.assertRaisesRegex(TypeError, "metadata must map str to str"):
            nninit.save_safetensors({"a": np.zeros(3)}, self.p("x.safetensors"), metadata={"k": 1})
        with self.assertRaisesRegex(ValueError, "save_safetensors: st_header: tensors\\[0\\] is named __metadata__"):
            nninit.save_safetensors({"__metadata__": np.zeros(3)}, self.p("x.safetensors"))
        with self.assertRaisesRegex(ValueError, "save_safetensors: st_header: tensors\\[0\\] has an empty name"):
            nninit.save_safetensors({"": np.zeros(3)}, self.p("x.safetensors"))
        os.mkdir(self.p("dir.safetensors"))
        with self.assertRaisesRegex(OSError, "save_safetensors: .*dir.safetensors exists and is not a regular file"):
            nninit.save_safetensors({"a": np.zeros(3)}, self.p("dir.safetensors"))
        self.assertEqual(sorted(os.listdir(self.dir)), ["cut.safetensors", "dir.safetensors", "junk.safetensors",
                                                        "ok.safetensors"])  # no temporaries left
        nninit.save_safetensors({"u": np.zeros(3, np.uint16)}, self.p("u.safetensors"))
        with self.assertRaisesRegex(TypeError, "load_safetensors: tensor 'u' is U16, which torch .* has no dtype"):
            nninit.load_safetensors(self.p("u.safetensors"), framework="torch")
        with self.assertRaisesRegex(ValueError, "framework must be 'numpy' or 'torch', not 'tf'"):
            nninit.load_safetensors(self.p("u.safetensors"), framework="tf")


class Recipes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def p(self, name):
        return os.path.join(self.dir, name)

    def same_files(self, a, b):
        with open(a, "rb") as fa, open(b, "rb") as fb:
            self.assertEqual(fa.read(), fb.read(), (a, b))

    def test_checkpoint_equals_cli(self):
        cases = [("gpt2", GPT2, GPT2_SET, {}, []),
                 ("gpt2", GPT2, GPT2_SET, {"dtype": "bf16", "seed": 2**64 - 1}, ["--dtype", "bf16", "--seed",
                                                                                 str(2**64 - 1)]),
                 ("resnet", {"depth": 18, "num_classes": 10}, ["--set", "depth=18", "--set", "num_classes=10"],
                  {"seed": 5}, ["--seed", "5"]),
                 ("bert", ["num_hidden_layers=1", "hidden_size=32", "num_attention_heads=2", "intermediate_size=64",
                           "vocab_size=100", "max_position_embeddings=16"],
                  ["--set", "num_hidden_layers=1", "--set", "hidden_size=32", "--set", "num_attention_heads=2",
                   "--set", "intermediate_size=64", "--set", "vocab_size=100", "--set", "max_position_embeddings=16"],
                  {"threads": 1}, [])]
        for name, settings, sets, kw, opts in cases:
            with self.subTest(recipe=name, kw=kw):
                n = nninit.checkpoint(name, self.p("py.safetensors"), settings, **kw)
                cli("checkpoint", "--recipe", name, *sets, *opts, "-o", self.p("cli.safetensors"))
                self.assertEqual(n, sum(len(v[2]) for v in read_raw(self.p("cli.safetensors"))[0].values()))
                self.same_files(self.p("py.safetensors"), self.p("cli.safetensors"))
                cli("verify", self.p("py.safetensors"))
                # in memory: the same values
                mem = nninit.recipe(name, settings, seed=kw.get("seed", 0), dtype=kw.get("dtype"))
                raw, _ = read_raw(self.p("cli.safetensors"))
                self.assertEqual(list(mem), list(raw))
                for k, x in mem.items():
                    self.assertEqual(x.tobytes(), raw[k][2], k)
                info = nninit.recipe_tensors(name, settings, dtype=kw.get("dtype"))
                self.assertEqual([(e["name"], e["shape"]) for e in info], [(k, raw[k][1]) for k in raw])

    def test_sharded(self):
        progress = []
        os.mkdir(self.p("py"))
        nninit.checkpoint("gpt2", self.p("py/model.safetensors"), GPT2, max_shard_size="200KB",
                          progress=lambda d, t: progress.append((d, t)))
        os.mkdir(self.p("cli"))
        cli("checkpoint", "--recipe", "gpt2", *GPT2_SET, "--max-shard-size", "200KB", "-o",
            self.p("cli/model.safetensors"))
        files = sorted(os.listdir(self.p("py")))
        self.assertEqual(files, sorted(os.listdir(self.p("cli"))))
        self.assertGreater(len(files), 3)
        for f in files:
            self.same_files(self.p("py/" + f), self.p("cli/" + f))
        self.assertTrue(progress and progress[-1][0] == progress[-1][1])
        whole = nninit.load_safetensors(self.p("py/model.safetensors.index.json"))
        mem = nninit.recipe("gpt2", GPT2)
        self.assertEqual(sorted(whole), sorted(mem))
        for k in mem:
            self.assertEqual(whole[k].tobytes(), mem[k].tobytes())
        # integer max_shard_size: the same bytes
        os.mkdir(self.p("int"))
        nninit.checkpoint("gpt2", self.p("int/model.safetensors"), GPT2, max_shard_size=200000)
        for f in files:
            self.same_files(self.p("int/" + f), self.p("cli/" + f))

    def test_resnet_integers(self):
        mem = nninit.recipe("resnet", {"depth": 18}, framework="torch")
        nbt = [k for k in mem if k.endswith("num_batches_tracked")]
        self.assertTrue(nbt and all(mem[k].dtype == torch.int64 and mem[k].shape == () for k in nbt))
        self.assertTrue(any(r["name"] == "resnet" for r in nninit.recipes()))

    def test_errors(self):
        out = self.p("x.safetensors")
        with self.assertRaisesRegex(ValueError, "checkpoint: recipe: unknown recipe 'gpt3' \\(recipes: gpt2") as cm:
            nninit.checkpoint("gpt3", out)
        self.assertEqual(cm.exception.status, "NNINIT_ERR_UNKNOWN_NAME")
        with self.assertRaisesRegex(ValueError, "checkpoint: recipe gpt2: unknown setting 'n_layers'"):
            nninit.checkpoint("gpt2", out, {"n_layers": 2})
        with self.assertRaisesRegex(ValueError, "checkpoint: recipe gpt2: n_layer must be an integer in \\[1, "
                                    "1000\\], not '-2'"):
            nninit.checkpoint("gpt2", out, {"n_layer": -2})
        with self.assertRaisesRegex(TypeError, "settings must be a mapping .* not a str"):
            nninit.checkpoint("gpt2", out, "n_layer=2")
        with self.assertRaisesRegex(ValueError, "max_shard_size '5 parsecs': a size such as 5GB"):
            nninit.checkpoint("gpt2", out, GPT2, max_shard_size="5 parsecs")
        with self.assertRaisesRegex(ValueError, "max_shard_size 0 must be in 1..2\\^64-1"):
            nninit.checkpoint("gpt2", out, GPT2, max_shard_size=0)
        with self.assertRaisesRegex(TypeError, "max_shard_size must be an int or a str"):
            nninit.checkpoint("gpt2", out, GPT2, max_shard_size=1.5)
        with self.assertRaisesRegex(TypeError, "checkpoint: unknown dtype 'int8'"):
            nninit.checkpoint("gpt2", out, GPT2, dtype="int8")
        with self.assertRaisesRegex(ValueError, "checkpoint: seed -1 outside"):
            nninit.checkpoint("gpt2", out, GPT2, seed=-1)
        with self.assertRaisesRegex(TypeError, "progress must be callable"):
            nninit.checkpoint("gpt2", out, GPT2, progress=3)
        with self.assertRaisesRegex(OSError, "checkpoint: st_writer_open: cannot create a file next to "
                                    ".*x.safetensors: No such file"):
            nninit.checkpoint("gpt2", self.p("no/such/dir/x.safetensors"), GPT2)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main(verbosity=1)

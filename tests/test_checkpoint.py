#!/usr/bin/env python3
"""nninit checkpoint / explain --recipe / verify, end to end through the CLI.

The files are read back by a safetensors reader written here from the
published format (8-byte little-endian header length, JSON header,
data_offsets relative to the data; github.com/huggingface/safetensors
"Format"), not by nninit's own reader, and the values are checked against
the recipes' formulas (GPT-2: transformers GPT2PreTrainedModel._init_weights).
"""
import json
import os
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import unittest

import numpy as np


def _cli():
    path = os.environ.get("NNINIT_CLI")
    if not path and os.environ.get("NNINIT_BUILD_DIR"):
        path = os.path.join(os.environ["NNINIT_BUILD_DIR"], "nninit")
    if not path or not os.path.exists(path):
        sys.exit("set NNINIT_CLI or NNINIT_BUILD_DIR to the build")
    return path


CLI = _cli()
ENV = {k: v for k, v in os.environ.items() if k != "NNINIT_THREADS"}
DT = {"F32": (np.float32, 4), "F64": (np.float64, 8), "F16": (np.float16, 2), "BF16": (np.uint16, 2)}


def run(*args, **kw):
    return subprocess.run([CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=600, env=ENV, **kw)


def read_st(path):
    """(header dict without __metadata__, metadata, {name: np.ndarray as float64})."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0, "header not padded to 8"
    head = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = head.pop("__metadata__", {})
    data = raw[8 + n:]
    out, spans = {}, []
    for name, e in head.items():
        b, end = e["data_offsets"]
        spans.append((b, end))
        ty, size = DT[e["dtype"]]
        count = int(np.prod(e["shape"])) if e["shape"] else 1
        assert end - b == count * size, name
        a = np.frombuffer(data[b:end], dtype=ty)
        if e["dtype"] == "BF16":
            a = (a.astype(np.uint32) << 16).view(np.float32)
        out[name] = a.astype(np.float64).reshape(e["shape"])
    spans.sort()
    pos = 0
    for b, end in spans:  # contiguous from 0, no gap, no overlap, to the end
        assert b == pos, (b, pos)
        pos = end
    assert pos == len(data)
    return head, meta, out


def write_st(path, tensors, meta=None):
    """A safetensors file by the format: tensors {name: (dtype name, shape, bytes)}."""
    head, blob = {}, b""
    if meta is not None:
        head["__metadata__"] = meta
    for name, (dt, shape, data) in tensors.items():
        head[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    h = json.dumps(head).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + blob)


SMALL = ["--set", "n_layer=2", "--set", "n_embd=64", "--set", "n_head=4", "--set", "vocab_size=1000",
         "--set", "n_positions=128"]


class Checkpoint(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def p(self, name):
        return os.path.join(self.d, name)

    def ok(self, *args):
        r = run(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def bad(self, code, needle, *args):
        r = run(*args)
        self.assertEqual(r.returncode, code, (args, r.stdout, r.stderr))
        self.assertIn(needle, r.stderr)
        return r

    def test_list_and_explain(self):
        out = self.ok("checkpoint", "--list").stdout
        for name in ("gpt2", "llama-hf", "llama-torchtitan"):
            self.assertIn(name, out)
        j = json.loads(self.ok("checkpoint", "--list", "--json").stdout)
        self.assertEqual({r["name"] for r in j["recipes"]} >= {"gpt2", "llama-hf", "llama-torchtitan"}, True)
        e = json.loads(self.ok("explain", "--recipe", "gpt2", *SMALL, "--json").stdout)
        self.assertEqual(e["tensor_count"], 2 + 12 * 2 + 2)
        self.assertEqual(sum(r["tensors"] for r in e["rules"]), e["tensor_count"])
        by = {t["name"]: t for t in e["tensors"]}
        self.assertAlmostEqual(by["h.1.mlp.c_proj.weight"]["std"], 0.02 / np.sqrt(4), places=15)
        self.assertEqual(by["h.1.mlp.c_proj.weight"]["fan_in"], 256)  # Conv1D (in, out): iohw
        self.assertIn("modeling_gpt2.py", by["wte.weight"]["source"])
        self.assertEqual(e["params"], sum(int(np.prod(t["shape"])) for t in e["tensors"]))
        human = self.ok("explain", "--recipe", "gpt2").stdout
        self.assertIn("total: 148 tensors, 124439808 parameters", human)
        self.assertIn("first match wins", human)

    def test_gpt2_values_and_determinism(self):
        a = self.p("a.safetensors")
        r = self.ok("checkpoint", "--recipe", "gpt2", *SMALL, "-o", a, "--json")
        j = json.loads(r.stdout)
        self.assertEqual(j["tensors"], 28)
        head, meta, t = read_st(a)
        self.assertEqual(list(head)[:3], ["wte.weight", "wpe.weight", "h.0.ln_1.weight"])  # model order
        self.assertEqual(meta["format"], "pt")
        man = json.loads(meta["nninit"])
        self.assertEqual(man["seed"], "0")
        self.assertEqual(man["tensors"]["h.0.attn.c_proj.weight"]["init"], "normal(std=0.01)")  # 0.02/sqrt(2*2)
        self.assertEqual(head["h.0.mlp.c_fc.weight"]["shape"], [64, 256])
        self.assertTrue(np.all(t["h.1.ln_2.weight"] == 1) and np.all(t["ln_f.bias"] == 0))
        self.assertTrue(np.all(t["h.0.attn.c_attn.bias"] == 0))
        self.assertAlmostEqual(t["wte.weight"].std(), 0.02, delta=0.02 * 0.02)
        c = np.concatenate([t["h.%d.%s.c_proj.weight" % (i, k)].ravel() for i in (0, 1) for k in ("attn", "mlp")])
        self.assertAlmostEqual(c.std(), 0.01, delta=0.01 * 0.02)
        # the same again, and on other thread counts: the same bytes
        b = self.p("b.safetensors")
        self.ok("checkpoint", "--recipe", "gpt2", *SMALL, "-o", b, "--threads", "3")
        with open(a, "rb") as fa, open(b, "rb") as fb:
            self.assertEqual(fa.read(), fb.read())
        # a tensor depends on its own name and rule only: 3 layers share wte and c_attn with 2
        c3 = self.p("c.safetensors")
        self.ok("checkpoint", "--recipe", "gpt2", *SMALL, "--set", "n_layer=3", "-o", c3)
        _, _, t3 = read_st(c3)
        self.assertTrue(np.array_equal(t["wte.weight"], t3["wte.weight"]))
        self.assertTrue(np.array_equal(t["h.1.attn.c_attn.weight"], t3["h.1.attn.c_attn.weight"]))
        self.assertFalse(np.array_equal(t["h.1.attn.c_proj.weight"], t3["h.1.attn.c_proj.weight"]))  # std 1/sqrt(2L)
        # another seed: other values
        s7 = self.p("s7.safetensors")
        self.ok("checkpoint", "--recipe", "gpt2", *SMALL, "-o", s7, "--seed", "7")
        _, m7, t7 = read_st(s7)
        self.assertEqual(json.loads(m7["nninit"])["seed"], "7")
        self.assertFalse(np.array_equal(t["wte.weight"], t7["wte.weight"]))

    def test_shards_index_and_verify(self):
        one = self.p("one.safetensors")
        self.ok("checkpoint", "--recipe", "gpt2", *SMALL, "--set", "dtype=bf16", "-o", one)
        _, _, whole = read_st(one)
        os.mkdir(self.p("sh"))
        path = os.path.join(self.d, "sh", "model.safetensors")
        self.ok("checkpoint", "--recipe", "gpt2", *SMALL, "--set", "dtype=bf16", "-o", path,
                "--max-shard-size", "40KB")
        with open(path + ".index.json") as f:
            ix = json.load(f)
        files = sorted(set(ix["weight_map"].values()))
        self.assertGreater(len(files), 2)
        self.assertEqual(files[0], "model-00001-of-%05d.safetensors" % len(files))
        got, total = {}, 0
        for fn in files:
            size = os.path.getsize(os.path.join(self.d, "sh", fn))
            h, _, t = read_st(os.path.join(self.d, "sh", fn))
            data = sum(e["data_offsets"][1] - e["data_offsets"][0] for e in h.values())
            self.assertTrue(data <= 40000 or len(h) == 1, (fn, data))
            total += data
            for k, v in t.items():
                self.assertEqual(ix["weight_map"][k], fn)
                got[k] = v
        self.assertEqual(total, ix["metadata"]["total_size"])
        self.assertEqual(set(got), set(whole))
        for k in whole:
            self.assertTrue(np.array_equal(got[k], whole[k]), k)
        self.assertNotIn("model.safetensors", os.listdir(self.p("sh")))
        # verify: all match; one flipped byte is a mismatch (1); a foreign file is 2
        r = self.ok("verify", path + ".index.json")
        self.assertIn("28 tensors match, 0 mismatch", r.stdout)
        j = json.loads(self.ok("verify", one, "--json").stdout)
        self.assertEqual((j["match"], j["mismatch"]), (28, 0))
        with open(one, "r+b") as f:
            f.seek(-3, 2)
            byte = f.read(1)
            f.seek(-3, 2)
            f.write(bytes([byte[0] ^ 1]))
        r = run("verify", one)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("MISMATCH  ln_f.bias", r.stdout)
        foreign = self.p("foreign.safetensors")
        write_st(foreign, {"w": ("F32", (2, 2), np.zeros(4, np.float32).tobytes())})
        self.bad(2, "no nninit manifest", "verify", foreign)

    def test_like_and_spec(self):
        like = self.p("like.safetensors")
        write_st(like, {"wte.weight": ("BF16", (100, 16), bytes(3200)),
                        "h.0.attn.c_proj.weight": ("F16", (16, 16), bytes(512)),
                        "h.0.ln_1.bias": ("F32", (16,), bytes(64))}, {"format": "pt"})
        out = self.p("re.safetensors")
        self.ok("checkpoint", "--recipe", "gpt2", "--like", like, "-o", out)
        h, _, t = read_st(out)
        self.assertEqual({k: (v["dtype"], v["shape"]) for k, v in h.items()},
                         {"wte.weight": ("BF16", [100, 16]), "h.0.attn.c_proj.weight": ("F16", [16, 16]),
                          "h.0.ln_1.bias": ("F32", [16])})
        self.assertTrue(np.all(t["h.0.ln_1.bias"] == 0))
        # rules that take none of --like's tensors are errors: the spec's rules must all be used
        spec = self.p("spec.json")
        with open(spec, "w") as f:
            json.dump({"rules": [{"match": "*.bias", "init": "zeros"}, {"match": "*", "init": "normal(std=0.5)"},
                                 {"match": "unused", "init": "ones"}]}, f)
        self.bad(2, "rule 2 ('unused' -> ones) matches no tensor", "checkpoint", "--spec", spec, "--like", like,
                 "-o", self.p("x.safetensors"))
        with open(spec, "w") as f:
            json.dump({"rules": [{"match": "*.weight", "init": "normal(std=0.5)"}]}, f)
        self.bad(2, "tensor 'h.0.ln_1.bias' matches no rule", "checkpoint", "--spec", spec, "--like", like,
                 "-o", self.p("x.safetensors"))
        self.assertFalse(os.path.exists(self.p("x.safetensors")))
        with open(spec, "w") as f:
            json.dump({"dtype": "f64", "tensors": [{"name": "emb", "shape": [50, 8], "layout": "embedding"}],
                       "rules": [{"match": "emb", "init": "normal(std=0.5)", "padding_idx": 3}]}, f)
        self.ok("checkpoint", "--spec", spec, "-o", self.p("s.safetensors"))
        h, _, t = read_st(self.p("s.safetensors"))
        self.assertEqual(h["emb"]["dtype"], "F64")
        self.assertTrue(np.all(t["emb"][3] == 0) and np.all(t["emb"][2] != 0))
        self.ok("verify", self.p("s.safetensors"))
        with open(spec, "w") as f:
            f.write('{"rules": [')
        self.bad(2, "not valid JSON", "checkpoint", "--spec", spec, "-o", self.p("x.safetensors"))
        bad_like = self.p("bad.safetensors")
        with open(bad_like, "wb") as f:
            f.write(struct.pack("<Q", 1 << 40) + b"{}")
        self.bad(2, "", "checkpoint", "--recipe", "gpt2", "--like", bad_like, "-o", self.p("x.safetensors"))

    def test_npz_output(self):
        """-o X.npz: np.load gives every tensor, the same values as the safetensors file,
        in every float dtype; shards, integer tensors and a refused path leave nothing."""
        for dt in ("f32", "bf16", "f16"):
            st, nz = self.p("m-%s.safetensors" % dt), self.p("m-%s.npz" % dt)
            self.ok("checkpoint", "--recipe", "gpt2", *SMALL, "--set", "dtype=" + dt, "--seed", "5", "-o", st)
            self.ok("checkpoint", "--recipe", "gpt2", *SMALL, "--set", "dtype=" + dt, "--seed", "5", "-o", nz)
            head, _, want = read_st(st)
            with np.load(nz, allow_pickle=False) as z:
                self.assertEqual(sorted(z.files), sorted(want))
                for name, v in want.items():
                    a = z[name]
                    self.assertEqual(list(a.shape), head[name]["shape"], name)
                    if dt == "bf16":  # '<u2' bit patterns, as .npy
                        self.assertEqual(a.dtype, np.uint16)
                        a = (a.astype(np.uint32) << 16).view(np.float32)
                    np.testing.assert_array_equal(a.astype(np.float64), v, err_msg=name)
        self.bad(2, "no shards", "checkpoint", "--recipe", "gpt2", *SMALL, "--max-shard-size", "1MB",
                 "-o", self.p("s.npz"))
        self.bad(2, "is i64: .npz holds", "checkpoint", "--recipe", "resnet", "--set", "depth=18",
                 "-o", self.p("r.npz"))
        self.assertEqual(sorted(f for f in os.listdir(self.d) if not f.startswith("m-")), [])
        # --like an .npz NumPy wrote (stored and deflated): its names, shapes and dtypes
        for save in (np.savez, np.savez_compressed):
            like = self.p("like.npz")
            save(like, **{"fc.weight": np.zeros((16, 8), np.float16), "fc.bias": np.zeros(16, np.float32)})
            spec = self.p("rules.json")
            with open(spec, "w") as f:
                json.dump({"format": "nninit-spec/1", "rules": [
                    {"match": "*.weight", "init": "normal(std=0.5)"}, {"match": "*.bias", "init": "zeros"}]}, f)
            out = self.p("l.safetensors")
            self.ok("checkpoint", "--spec", spec, "--like", like, "-o", out)
            head, _, got = read_st(out)
            self.assertEqual(list(head), ["fc.weight", "fc.bias"])
            self.assertEqual((head["fc.weight"]["dtype"], head["fc.weight"]["shape"]), ("F16", [16, 8]))
            self.assertEqual((head["fc.bias"]["dtype"], head["fc.bias"]["shape"]), ("F32", [16]))
            self.assertTrue(np.all(got["fc.bias"] == 0) and got["fc.weight"].std() > 0.3)
            os.unlink(out)
        with open(like, "r+b") as f:  # a broken archive: exit 2, said
            f.truncate(100)
        self.bad(2, "npz", "checkpoint", "--spec", spec, "--like", like, "-o", out)

    def test_bad_usage(self):
        o = self.p("o.safetensors")
        self.bad(2, "-o PATH is required", "checkpoint", "--recipe", "gpt2")
        self.bad(2, "give one of --recipe NAME or --spec FILE", "checkpoint", "-o", o)
        self.bad(2, "give one of", "checkpoint", "--recipe", "gpt2", "--spec", "x.json", "-o", o)
        self.bad(2, "--set goes with --recipe", "checkpoint", "--spec", "x.json", "--set", "a=1", "-o", o)
        self.bad(2, "--max-shard-size 'lots'", "checkpoint", "--recipe", "gpt2", "--max-shard-size", "lots", "-o", o)
        self.bad(2, "unknown recipe 'gpt3'", "checkpoint", "--recipe", "gpt3", "-o", o)
        self.bad(2, "unknown setting 'layers'", "checkpoint", "--recipe", "gpt2", "--set", "layers=2", "-o", o)
        self.bad(2, "must be an integer", "checkpoint", "--recipe", "gpt2", "--set", "n_layer=x", "-o", o)
        self.bad(2, "unexpected argument", "checkpoint", "gpt2", "-o", o)
        os.mkdir(self.p("dir.safetensors"))
        # an output that cannot be written: exit 1 (as fill -o, probe --html), said before the work
        self.bad(1, "exists and is not a regular file", "checkpoint", "--recipe", "gpt2", *SMALL, "-o",
                 self.p("dir.safetensors"))
        self.bad(1, "cannot write there", "checkpoint", "--recipe", "gpt2", *SMALL, "-o", self.p("no/m.safetensors"))
        self.assertEqual(os.listdir(self.p("dir.safetensors")), [])
        self.assertFalse(os.path.exists(o))
        self.assertIn("usage: nninit checkpoint", self.ok("help", "checkpoint").stdout)
        self.assertIn("usage: nninit verify", self.ok("help", "verify").stdout)
        self.bad(2, "PATH is required", "verify")

    def test_write_failure_leaves_nothing(self):
        # a file-size limit makes write() fail (EFBIG) part-way: exit 1, no
        # file under the final name and no temporary left behind
        out = self.p("big.safetensors")

        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
        r = run("checkpoint", "--recipe", "gpt2", *SMALL[:-4], "-o", out, preexec_fn=limit)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(os.listdir(self.d), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)

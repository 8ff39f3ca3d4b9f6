#!/usr/bin/env python3
"""The resnet, bert and vit recipes against their sources, through the CLI.

resnet: the checkpoint is read by a safetensors reader written here from the
published format (8-byte little-endian header length, JSON header, data at
data_offsets after it; github.com/huggingface/safetensors "Format") and
loaded into torchvision.models.resnetNN() with load_state_dict(strict=True):
names, order, shapes and dtypes (num_batches_tracked an int64 scalar) as
torchvision's own state dict. Every tensor torchvision sets to a constant
(BatchNorm weight, bias, buffers; zero_init_residual) equals torchvision's
bit for bit; every random one has the std (or bound) of torch's formula on
torch.nn.init._calculate_fan_in_and_fan_out of that tensor, and passes a
two-sample Kolmogorov-Smirnov test against a freshly constructed
torchvision module (torch.manual_seed fixed, p > 1e-3).

bert and vit (transformers and timm are not installed): the expected names
and shapes are written out here from the sources' module structure
(transformers models/bert/modeling_bert.py BertModel; timm
models/vision_transformer.py VisionTransformer), their parameter counts
computed from them and checked against the published ones, then against
`nninit explain --json` at full size; the values of a small configuration
are checked per tensor (std of every Linear, zero padding row, ones/zeros).

`nninit verify` passes on every recipe's output and fails on a flipped byte,
an integer scalar's included.
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
import torchvision

KS_P = 1e-3


def _cli():
    path = os.environ.get("NNINIT_CLI")
    if not path and os.environ.get("NNINIT_BUILD_DIR"):
        path = os.path.join(os.environ["NNINIT_BUILD_DIR"], "nninit")
    if not path or not os.path.exists(path):
        sys.exit("set NNINIT_CLI or NNINIT_BUILD_DIR to the build")
    return path


CLI = _cli()
ENV = {k: v for k, v in os.environ.items() if k != "NNINIT_THREADS"}
DT = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "BF16": np.uint16, "I8": np.int8,
      "U8": np.uint8, "I16": np.int16, "U16": np.uint16, "I32": np.int32, "U32": np.uint32, "I64": np.int64,
      "U64": np.uint64, "BOOL": np.bool_}
TORCH_DT = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def run(*args):
    return subprocess.run([CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=600, env=ENV)


def read_st(path):
    """(header without __metadata__ in file order, metadata, {name: np.ndarray}, data start)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    head = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = head.pop("__metadata__", {})
    data = raw[8 + n:]
    out, pos = {}, 0
    for name, e in sorted(head.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        b, end = e["data_offsets"]
        assert b == pos, (name, b, pos)  # contiguous, in order
        pos = end
        ty = np.dtype(DT[e["dtype"]]).newbyteorder("<")
        count = int(np.prod(e["shape"])) if e["shape"] else 1
        assert end - b == count * ty.itemsize, name
        out[name] = np.frombuffer(data, dtype=ty, count=count, offset=b).reshape(e["shape"])
    assert pos == len(data)
    return head, meta, out, 8 + n


def write_st(path, sd):
    """A safetensors file of a torch state dict (F32, I64), by the format."""
    head, blobs, off = {}, [], 0
    for name, t in sd.items():
        a = t.detach().cpu().numpy()
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        head[name] = {"dtype": TORCH_DT[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(head).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def fans(shape):
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def sample(a, k=200000):
    """At most k values of a (the elements are i.i.d.: the first k)."""
    return np.asarray(a, np.float64).ravel()[:k]


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def ok(self, *args):
        r = run(*args)
        self.assertEqual(r.returncode, 0, (args, r.stderr))
        return r

    def write(self, recipe, *sets, name="m.safetensors", seed="1"):
        path = os.path.join(self.d, name)
        args = [a for s in sets for a in ("--set", s)]
        self.ok("checkpoint", "--recipe", recipe, *args, "--seed", seed, "-o", path)
        return path

    def explain(self, recipe, *sets):
        args = [a for s in sets for a in ("--set", s)]
        return json.loads(self.ok("explain", "--recipe", recipe, *args, "--json").stdout)

    def assert_std(self, x, want, name):
        """Sample std of n i.i.d. values within 6 standard errors (sd(s) ~ s / sqrt(2n); 4th moment
        of a uniform or normal at most the normal's)."""
        x = np.asarray(x, np.float64).ravel()
        tol = 6 * want / math.sqrt(2 * x.size)
        self.assertLess(abs(x.std() - want), tol, (name, x.size, x.std(), want))
        self.assertLess(abs(x.mean()), 6 * want / math.sqrt(x.size), (name, x.mean()))

    def assert_ks(self, x, y, name):
        p = scipy.stats.ks_2samp(sample(x), sample(y)).pvalue
        self.assertGreater(p, KS_P, (name, p))
        return p

    def verify_and_flip(self, path, victims):
        """verify passes; flipping one byte of each victim's data makes it a mismatch (exit 1)."""
        r = self.ok("verify", path, "--json")
        j = json.loads(r.stdout)
        self.assertEqual(j["mismatch"], 0)
        self.assertGreater(j["match"], 0)
        head, _, _, start = read_st(path)
        for v in victims:
            off = start + head[v]["data_offsets"][0]
            with open(path, "r+b") as f:
                f.seek(off)
                byte = f.read(1)
                f.seek(off)
                f.write(bytes([byte[0] ^ 0x10]))
            r = run("verify", path)
            self.assertEqual(r.returncode, 1, (v, r.stdout[-300:], r.stderr))
            self.assertIn("MISMATCH  %s " % v, r.stdout)
            with open(path, "r+b") as f:  # put it back
                f.seek(off)
                f.write(byte)
        self.ok("verify", path)


class ResNet(Base):
    def check(self, depth, zero_init):
        path = self.write("resnet", "depth=%d" % depth, "zero_init_residual=%d" % zero_init)
        head, meta, t, _ = read_st(path)
        torch.manual_seed(1234)
        ref = getattr(torchvision.models, "resnet%d" % depth)(zero_init_residual=bool(zero_init))
        want = ref.state_dict()
        # names in state_dict order, shapes, dtypes: exactly
        self.assertEqual(list(head), list(want))
        for k, v in want.items():
            self.assertEqual(head[k]["shape"], list(v.shape), k)
            self.assertEqual(head[k]["dtype"], TORCH_DT[v.dtype], k)
        self.assertEqual(head["bn1.num_batches_tracked"], {"dtype": "I64", "shape": [],
                                                           "data_offsets": head["bn1.num_batches_tracked"]
                                                           ["data_offsets"]})
        model = getattr(torchvision.models, "resnet%d" % depth)()
        sd = {k: torch.from_numpy(v.copy()) for k, v in t.items()}
        model.load_state_dict(sd, strict=True)
        for k, v in model.state_dict().items():
            self.assertEqual(v.dtype, want[k].dtype, k)
        # constants equal torchvision's bit for bit (BN weight / bias / buffers, zero_init_residual)
        n_const = n_zero_gamma = 0
        for k, v in want.items():
            if k.endswith("num_batches_tracked") or ".bn" in k or k.startswith("bn1") or "downsample.1" in k:
                self.assertTrue(torch.equal(sd[k], v), k)
                n_const += 1
                last = "bn3.weight" if depth >= 50 else "bn2.weight"
                if zero_init and k.startswith("layer") and k.endswith(last):
                    self.assertTrue(np.all(t[k] == 0), k)
                    n_zero_gamma += 1
                elif k.endswith(".weight"):
                    self.assertTrue(np.all(t[k] == 1), k)
        self.assertEqual(n_zero_gamma, zero_init * sum(1 for k in want if k.startswith("layer") and
                                                       k.endswith("bn3.weight" if depth >= 50 else "bn2.weight")))
        self.assertGreater(n_const, 0)
        # random tensors: torch's std / bound, and the distribution of a fresh torchvision module
        n_conv, pmin = 0, 1.0
        for k, v in want.items():
            if v.dim() == 4:  # conv: kaiming_normal_(mode="fan_out", nonlinearity="relu")
                _, fan_out = fans(v.shape)
                std = torch.nn.init.calculate_gain("relu") / math.sqrt(fan_out)
                self.assert_std(t[k], std, k)
                pmin = min(pmin, self.assert_ks(t[k], v.numpy(), k))
                n_conv += 1
        self.assertEqual(n_conv, sum(1 for v in want.values() if v.dim() == 4))
        fan_in, _ = fans(want["fc.weight"].shape)
        gain = torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5))
        bound_w = math.sqrt(3.0) * gain / math.sqrt(fan_in)  # init.py kaiming_uniform_
        self.assertAlmostEqual(bound_w, 1 / math.sqrt(fan_in), places=15)
        w = t["fc.weight"].astype(np.float64)
        self.assertLessEqual(np.abs(w).max(), bound_w)
        self.assertGreater(np.abs(w).max(), 0.999 * bound_w)
        self.assert_std(w, bound_w / math.sqrt(3), "fc.weight")
        self.assert_ks(w, want["fc.weight"].numpy(), "fc.weight")
        b = t["fc.bias"].astype(np.float64)
        bound_b = 1 / math.sqrt(fan_in)  # linear.py reset_parameters
        self.assertLessEqual(np.abs(b).max(), bound_b)
        self.assertGreater(np.abs(b).max(), 0.99 * bound_b)
        self.assert_ks(b, want["fc.bias"].numpy(), "fc.bias")
        man = json.loads(meta["nninit"])["tensors"]
        self.assertTrue(man["fc.bias"]["init"].startswith("uniform(a=-0.0"), man["fc.bias"])
        self.assertEqual(man["bn1.num_batches_tracked"]["init"], "zeros")
        return path

    def test_resnet18(self):
        path = self.check(18, 0)
        self.verify_and_flip(path, ["layer1.0.bn1.num_batches_tracked", "layer4.1.conv2.weight", "fc.bias"])
        self.check(18, 1)

    def test_resnet50(self):
        self.check(50, 1)
        self.check(50, 0)

    def test_resnext_and_like(self):
        # resnext50_32x4d: grouped 3x3 convs, names and shapes as torchvision's
        path = self.write("resnet", "depth=50", "groups=32", "width_per_group=4", "num_classes=10")
        head, _, t, _ = read_st(path)
        want = torchvision.models.resnext50_32x4d(num_classes=10).state_dict()
        self.assertEqual({k: h["shape"] for k, h in head.items()}, {k: list(v.shape) for k, v in want.items()})
        self.assert_std(t["layer3.2.conv2.weight"], math.sqrt(2 / (512 * 9)), "grouped conv")
        # --like a torchvision checkpoint holding I64 scalars: names, dtypes and shapes kept
        like = os.path.join(self.d, "tv.safetensors")
        write_st(like, torchvision.models.resnet18(num_classes=7).state_dict())
        out = os.path.join(self.d, "re.safetensors")
        self.ok("checkpoint", "--recipe", "resnet", "--set", "depth=18", "--like", like, "-o", out)
        h0, _, _, _ = read_st(like)
        h1, _, t1, _ = read_st(out)
        self.assertEqual({k: (v["dtype"], v["shape"]) for k, v in h0.items()},
                         {k: (v["dtype"], v["shape"]) for k, v in h1.items()})
        self.assertEqual(t1["layer2.0.downsample.1.num_batches_tracked"].dtype, np.int64)
        self.assertTrue(np.all(t1["fc.bias"] != 0) and np.abs(t1["fc.bias"]).max() <= 1 / math.sqrt(512))
        self.verify_and_flip(out, ["layer2.0.downsample.1.num_batches_tracked"])
        # with --dtype bf16 the floats change, the int64 buffers do not (Module.to)
        out16 = os.path.join(self.d, "bf16.safetensors")
        self.ok("checkpoint", "--recipe", "resnet", "--set", "depth=18", "--set", "dtype=bf16", "-o", out16)
        h2, _, _, _ = read_st(out16)
        self.assertEqual(h2["bn1.weight"]["dtype"], "BF16")
        self.assertEqual(h2["bn1.num_batches_tracked"]["dtype"], "I64")
        self.ok("verify", out16)
        # a rule on an int64 tensor that is not an integer constant: exit 2, the tensor named
        spec = os.path.join(self.d, "spec.json")
        with open(spec, "w") as f:
            json.dump({"rules": [{"match": "*.num_batches_tracked", "init": "normal"},
                                 {"match": "*", "init": "zeros"}]}, f)
        r = run("checkpoint", "--spec", spec, "--like", like, "-o", os.path.join(self.d, "x.safetensors"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("tensor 'bn1.num_batches_tracked' is i64", r.stderr)
        with open(spec, "w") as f:
            json.dump({"rules": [{"match": "*.num_batches_tracked", "init": "constant(value=7)"},
                                 {"match": "*", "init": "zeros"}]}, f)
        x = os.path.join(self.d, "x.safetensors")
        self.ok("checkpoint", "--spec", spec, "--like", like, "-o", x)
        _, _, tx, _ = read_st(x)
        self.assertEqual(int(tx["bn1.num_batches_tracked"]), 7)
        self.ok("verify", x)


# ---- bert: transformers models/bert/modeling_bert.py, BertModel ----------------------------------------

def bert_tensors(V=30522, E=768, L=12, I=3072, P=512, T=2, pooler=True):
    """BertModel's state dict (names, shapes) from the source's modules, in registration order."""
    out = [("embeddings.word_embeddings.weight", [V, E]), ("embeddings.position_embeddings.weight", [P, E]),
           ("embeddings.token_type_embeddings.weight", [T, E]), ("embeddings.LayerNorm.weight", [E]),
           ("embeddings.LayerNorm.bias", [E])]
    for i in range(L):
        p = "encoder.layer.%d." % i
        for q in ("query", "key", "value"):  # BertSelfAttention
            out += [(p + "attention.self.%s.weight" % q, [E, E]), (p + "attention.self.%s.bias" % q, [E])]
        out += [(p + "attention.output.dense.weight", [E, E]), (p + "attention.output.dense.bias", [E]),
                (p + "attention.output.LayerNorm.weight", [E]), (p + "attention.output.LayerNorm.bias", [E]),
                (p + "intermediate.dense.weight", [I, E]), (p + "intermediate.dense.bias", [I]),
                (p + "output.dense.weight", [E, I]), (p + "output.dense.bias", [E]),
                (p + "output.LayerNorm.weight", [E]), (p + "output.LayerNorm.bias", [E])]
    if pooler:
        out += [("pooler.dense.weight", [E, E]), ("pooler.dense.bias", [E])]
    return out


# ---- vit: timm models/vision_transformer.py, VisionTransformer ------------------------------------------

def vit_tensors(img=224, p=16, C=3, K=1000, D=768, L=12, ratio=4.0, qkv_bias=True):
    """VisionTransformer's state dict: own parameters (cls_token, pos_embed) first, then children."""
    n = (img // p) ** 2 + 1
    F = int(D * ratio)
    out = [("cls_token", [1, 1, D]), ("pos_embed", [1, n, D]), ("patch_embed.proj.weight", [D, C, p, p]),
           ("patch_embed.proj.bias", [D])]
    for i in range(L):
        b = "blocks.%d." % i
        out += [(b + "norm1.weight", [D]), (b + "norm1.bias", [D]), (b + "attn.qkv.weight", [3 * D, D])]
        if qkv_bias:
            out += [(b + "attn.qkv.bias", [3 * D])]
        out += [(b + "attn.proj.weight", [D, D]), (b + "attn.proj.bias", [D]), (b + "norm2.weight", [D]),
                (b + "norm2.bias", [D]), (b + "mlp.fc1.weight", [F, D]), (b + "mlp.fc1.bias", [F]),
                (b + "mlp.fc2.weight", [D, F]), (b + "mlp.fc2.bias", [D])]
    out += [("norm.weight", [D]), ("norm.bias", [D])]
    if K:
        out += [("head.weight", [K, D]), ("head.bias", [K])]
    return out


def count(ts):
    return sum(int(np.prod(s)) for _, s in ts)


class Transformers(Base):
    def test_bert_full_size(self):
        want = bert_tensors()
        self.assertEqual(count(want), 109482240)  # bert-base-uncased BertModel, published
        e = self.explain("bert")
        self.assertEqual([(x["name"], x["shape"]) for x in e["tensors"]], want)
        self.assertEqual(e["params"], 109482240)
        for x in e["tensors"]:
            if x["name"].endswith(".weight") and "LayerNorm" not in x["name"]:
                self.assertAlmostEqual(x["std"], 0.02, places=15, msg=x["name"])
        self.assertEqual({x["name"]: x.get("padding_idx") for x in e["tensors"] if "padding_idx" in x},
                         {"embeddings.word_embeddings.weight": 0})
        self.assertIn("modeling_bert.py", e["tensors"][0]["source"])

    def test_bert_values(self):
        sets = ["vocab_size=1000", "hidden_size=64", "num_hidden_layers=2", "num_attention_heads=4",
                "intermediate_size=256", "max_position_embeddings=128", "pad_token_id=5", "initializer_range=0.03"]
        path = self.write("bert", *sets)
        head, _, t, _ = read_st(path)
        self.assertEqual([(k, v["shape"]) for k, v in head.items()],
                         bert_tensors(V=1000, E=64, L=2, I=256, P=128))
        torch.manual_seed(0)
        ref = torch.empty(20000).normal_(0, 0.03).numpy()
        linears = [k for k in t if k.endswith(".weight") and "LayerNorm" not in k and "embeddings" not in k]
        self.assertEqual(len(linears), 2 * 6 + 1)
        for k in t:
            x = t[k].astype(np.float64)
            if "LayerNorm" in k:
                self.assertTrue(np.all(x == (1 if k.endswith("weight") else 0)), k)
            elif k.endswith(".bias"):
                self.assertTrue(np.all(x == 0), k)
            elif k == "embeddings.word_embeddings.weight":
                self.assertTrue(np.all(x[5] == 0))
                self.assertTrue(np.all(np.delete(x, 5, axis=0) != 0))
                self.assert_std(np.delete(x, 5, axis=0), 0.03, k)
            else:  # every Linear and the other embeddings
                self.assertEqual(t[k].dtype, np.float32)
                self.assert_std(x, 0.03, k)
                if x.size >= 4096:
                    self.assert_ks(x, ref, k)
        self.verify_and_flip(path, ["embeddings.word_embeddings.weight", "pooler.dense.bias"])
        # no pooler, no pad token
        path = self.write("bert", *sets[:-2], "pad_token_id=-1", "add_pooling_layer=0", name="n.safetensors")
        head, _, t, _ = read_st(path)
        self.assertNotIn("pooler.dense.weight", head)
        self.assertTrue(np.all(t["embeddings.word_embeddings.weight"] != 0))

    def test_vit_full_size(self):
        want = vit_tensors()
        self.assertEqual(count(want), 86567656)  # vit_base_patch16_224, published
        e = self.explain("vit")
        self.assertEqual([(x["name"], x["shape"]) for x in e["tensors"]], want)
        self.assertEqual(e["params"], 86567656)
        by = {x["name"]: x for x in e["tensors"]}
        for k, x in by.items():
            if (".attn." in k or ".mlp." in k or k == "head.weight") and k.endswith("weight"):
                self.assertAlmostEqual(x["std"], 0.02, places=6, msg=k)  # trunc_normal_ cut at +-2: 100 std
                self.assertEqual((x["lo"], x["hi"]), (-2, 2), k)
        self.assertEqual(by["cls_token"]["std"], 1e-6)
        fan_in, _ = fans(by["patch_embed.proj.weight"]["shape"])
        self.assertAlmostEqual(by["patch_embed.proj.bias"]["hi"], 1 / math.sqrt(fan_in), places=15)
        self.assertAlmostEqual(by["patch_embed.proj.weight"]["hi"], 1 / math.sqrt(fan_in), places=15)

    def test_vit_values(self):
        sets = ["img_size=64", "patch_size=16", "embed_dim=384", "depth=2", "num_heads=6", "num_classes=10"]
        path = self.write("vit", *sets)
        head, _, t, _ = read_st(path)
        self.assertEqual([(k, v["shape"]) for k, v in head.items()], vit_tensors(64, 16, 3, 10, 384, 2))
        torch.manual_seed(0)
        ref = torch.nn.init.trunc_normal_(torch.empty(50000), std=0.02).numpy()  # timm's: the same a=-2, b=2
        conv = torch.nn.Conv2d(3, 384, 16, 16)  # PatchEmbed.proj: PyTorch's own init
        linears = 0
        for k in t:
            x = t[k].astype(np.float64)
            if "norm" in k:
                self.assertTrue(np.all(x == (1 if k.endswith("weight") else 0)), k)
            elif k.startswith("patch_embed"):
                bound = 1 / math.sqrt(fans(conv.weight.shape)[0])
                self.assertLessEqual(np.abs(x).max(), bound, k)
                self.assertGreater(np.abs(x).max(), 0.95 * bound, k)
                self.assert_ks(x, getattr(conv, k.split(".")[-1]).detach().numpy(), k)
            elif k == "cls_token":
                self.assert_std(x, 1e-6, k)
            elif k.endswith(".bias"):
                self.assertTrue(np.all(x == 0), k)
            else:  # pos_embed and every Linear weight: trunc_normal_(std=.02)
                self.assert_std(x, 0.02, k)
                self.assert_ks(x, ref, k)
                linears += k != "pos_embed"
        self.assertEqual(linears, 2 * 4 + 1)
        self.verify_and_flip(path, ["cls_token", "blocks.1.attn.qkv.bias", "patch_embed.proj.bias"])


if __name__ == "__main__":
    unittest.main(verbosity=2)

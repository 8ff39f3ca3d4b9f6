#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<harness>/ (committed; run again only to
change them). Text seeds come from docs/GRAMMAR.md and tests/test_arch.c, valid
and not; binary seeds are tiny IDX files (gzipped, cut, bombs), .npy calls
in fuzz_npy.c's encoding and safetensors files, valid and broken.
Deterministic: gzip with mtime 0. `make_corpus.py fuzz_npy ...` writes only
the corpora named."""
import gzip
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

ARCH = [
    "784 -> [dense 256 tanh] x20 -> dense 10",
    "1x28x28 -> conv 16 3x3 s2 p1 relu -> conv 32 3x3 g2 relu -> flatten -> dense 10",
    "784 -> dense 256 relu -> [res dense relu he-zero] x50 -> dense 10",
    "784 -> dense 256 tanh init=xavier_normal -> dense 256 leaky_relu(0.2) "
    "init=kaiming_normal(nonlinearity=leaky_relu,a=0.2) -> dense 10 bias=normal(std=0.01)",
    "1x16x16 -> [conv 4 3 p1 relu -> res conv relu he-zero] x2 -> flatten -> [dense 8 -> res dense] x2",
    "3x8x8 -> res conv 3 relu out=leaky_relu(0.2) alpha=0.5 he-he -> flatten -> dense 10",
    "4x8x8 -> conv 8 3 p1 g2 init=dirac(groups=2) -> conv 8 3 init=orthogonal(gain=1.4142)",
    "4x8x8 -> conv 8 3x3 p1 g2 init=dirac(groups=2) -> flatten -> dense 10 init=kaiming_uniform(a=2.23)",
    "3x32x32 -> conv 8 3x5 p1",
    "784 -> [[dense 3 leaky_relu(0.2)] x2 -> dense 4] x3",
    "  784\t->\n[ dense 256 tanh ] x 20 -> dense 10  ",
    "784 -> dense 10 elu(1.0) init=constant(value=0.5)",
    "1x8x8 -> [conv 4 3] x4",
    "784 -> [dense 4] x1000 -> [dense 4] x24",
    "784 -> dense 10 init=normal(std=-1)",
    "784 -> [dense 10] y3",
    "1x28x28 -> flatten -> conv 16 3",
]

ARCH_JSON = [
    {"input": [784], "layers": [
        {"type": "dense", "units": 256, "act": "tanh",
         "init": {"scheme": "xavier_normal", "gain": 1.0}, "repeat": 20},
        {"type": "dense", "units": 10}]},
    {"input": [784], "layers": [
        {"type": "group", "repeat": 3, "layers": [
            {"type": "dense", "units": 128, "act": "relu"},
            {"type": "res", "block": "dense", "act": "relu", "rule": "he-zero"}]},
        {"type": "dense", "units": 10}]},
    {"input": [1, 28, 28], "layers": [
        {"type": "conv", "units": 16, "kernel": [3, 3], "stride": 2, "pad": 1, "act": "relu"},
        {"type": "conv", "units": 32, "kernel": 3, "groups": 2, "act": "relu"},
        {"type": "flatten"},
        {"type": "dense", "units": 10, "bias": "normal(std=0.01)"}]},
    {"input": [3, 8, 8], "layers": [
        {"type": "res", "block": "conv", "units": 3, "act": "relu", "out": "leaky_relu(0.2)",
         "alpha": 0.5, "rule": "he-he"},
        {"type": "flatten"}, {"type": "dense", "units": 10}]},
    {"input": [784], "layers": [
        {"type": "res", "block": "dense", "act": "leaky_relu(0.1)", "init": "kaiming_normal(a=0.1)"}]},
    {"input": [4, 8, 8], "layers": [
        {"type": "conv", "units": 8, "kernel": 3, "pad": 1, "groups": 2,
         "init": {"scheme": "dirac", "groups": 2}},
        {"type": "conv", "units": 8, "kernel": 3,
         "init": {"scheme": "variance_scaling", "scale": 2, "mode": "fan_avg", "distribution": "uniform"}}]},
    {"input": 784, "layers": [{"type": "dense", "units": 3,
                               "init": {"scheme": "trunc_normal", "std": 0.02, "a": -0.04, "b": 0.04}}]},
    {"input": [1, 8, 8], "layers": [{"type": "conv", "units": 4, "kernel": 3, "repeat": 4}]},
    {"input": [784], "layers": [{"type": "dense", "units": 3, "units": 4}]},
    {"input": [784], "layers": [{"type": "dense", "units": 2.5}]},
    {"input": [1, 0, 28], "layers": [{"type": "dense", "units": 3}]},
    {"input": [784], "layers": [{"type": "group", "layers": []}]},
]
ARCH_JSON_RAW = [  # not valid JSON, or not what json.dumps writes
    '{"input": [784],\n "layers": [{"type": "dense" "units": 3}]}',
    '{"input": [784], "layers": [{"type": "dense", "units": 3, "units": 4}]}',
]

SPEC = [
    "kaiming_normal(nonlinearity=leaky_relu,a=0.2)", "kaiming_uniform(a=2.23, mode=fan_out)",
    "dirac", "dirac(groups=2)", "trunc_normal(a=-0.04, b=0.04, std=0.02)",
    "trunc_normal_std(mean=1, std=2, a=-3, b=0.5)", "variance_scaling(scale=2, mode=fan_avg, distribution=uniform)",
    "sparse(std=0.01, sparsity=0.1)", "orthogonal(gain=1.4142)", "uniform(a=-1, b=1)", "normal(mean=0, std=0.02)",
    "constant(value=0.5)", "xavier_uniform(gain=1.6666666666666667)", "he_normal", "glorot_uniform()",
    "eye", "  zeros  ", "lecun_normal", "normal(gain=2)", "normal(std=0.1", "kaiming_normal(mode=fan_up)",
]


def idx(magic, dims, payload):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload


def gz(b):
    return gzip.compress(b, mtime=0)


def idx_seeds():
    img = idx(0x803, [2, 3, 3], bytes(range(0, 180, 10)))
    lab = idx(0x801, [5], bytes([0, 1, 9, 3, 255]))
    fm = "/usr/share/datasets/fashion-mnist"
    seeds = {
        "images-2x3x3.gz": gz(img),
        "labels-5.gz": gz(lab),
        "images-raw-not-gzip": img,
        "images-truncated-data.gz": gz(img[:-4]),
        "images-trailing-data.gz": gz(img + b"\0"),
        "images-header-only.gz": gz(img[:16]),
        "images-cut-stream.gz": gz(img)[:-12],
        "labels-two-members.gz": gz(lab[:8]) + gz(lab[8:]),
        "images-dim-zero.gz": gz(idx(0x803, [0, 3, 3], b"")),
        "images-wrong-magic.gz": gz(idx(0x801, [2, 3, 3], bytes(18))),
        "images-declares-2g.gz": gz(idx(0x803, [32767, 256, 256], bytes(64))),
        # inflates to 1 MiB of zeros from ~1 KB: the reader must read what is there, no more
        "images-bomb-1m.gz": gz(idx(0x803, [16, 256, 256], bytes(16 * 256 * 256))),
    }
    for name, n in (("t10k-images-idx3-ubyte.gz", 2), ("t10k-labels-idx1-ubyte.gz", 8)):
        path = os.path.join(fm, name)
        if os.path.exists(path):  # the first records of the real data set, header fixed up
            raw = gzip.open(path).read()
            if "images" in name:
                seeds["fashion-images-2.gz"] = gz(idx(0x803, [n, 28, 28], raw[16:16 + n * 784]))
            else:
                seeds["fashion-labels-8.gz"] = gz(idx(0x801, [n], raw[8:8 + n]))
    return seeds


def npy(dtype, dims, existing=0, data=b""):
    # fuzz_npy.c: dtype byte, ndim byte, existing byte, one byte per dim, data
    return bytes([dtype, len(dims), existing]) + bytes(dims) + data


def npy_seeds():
    return {
        "f32-64x3x7x7-header": npy(0, [16, 3, 7, 7], data=struct.pack("<4f", 1.0, -2.5, 0.0, 1e-3)),
        "f64-vector": npy(1, [5], data=struct.pack("<5d", 1, 2, 3, 4, 5)),
        "bf16-2x2": npy(2, [2, 2], data=b"\x80\x3f\x00\x40"),
        "f16-1": npy(3, [1], data=b"\x00\x3c"),
        "f32-8-dims": npy(0, [1, 2, 1, 2, 1, 2, 1, 2], data=b"\x01\x02\x03\x04"),
        "replace-existing-file": npy(1, [3, 4], existing=1, data=b"\xff" * 8),
        "refuse-directory": npy(0, [2], existing=2),
        "refuse-ndim-0": npy(0, []),
        "refuse-ndim-9": npy(0, [1] * 9),
        "refuse-dim-zero": npy(0, [3, 0]),
        "refuse-dim-negative": npy(0, [3, 0xff]),
        "refuse-overflow": npy(1, [0xfe]),
        "refuse-overflow-2": npy(2, [0xfd, 0xfd]),
        "refuse-dtype": npy(4, [2]),
    }


def st_file(header, data=b"", pad=True, raw=None):
    """A safetensors file: 8-byte little-endian length, the header, the data."""
    text = raw if raw is not None else json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def st_entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def st_seeds():
    every, off = {}, 0
    for d, size in (("F32", 4), ("F64", 8), ("BF16", 2), ("F16", 2), ("I8", 1), ("U8", 1), ("I16", 2), ("U16", 2),
                    ("I32", 4), ("U32", 4), ("I64", 8), ("U64", 8), ("BOOL", 1), ("F8_E4M3", 1), ("F8_E5M2", 1)):
        every["t." + d.lower()] = st_entry(d, [1], off, off + size)
        off += size
    two = {"__metadata__": {"format": "pt"}, "w": st_entry("F32", [2, 3], 0, 24), "b": st_entry("BF16", [3], 24, 30)}
    return {
        "valid-two-tensors": st_file(two, struct.pack("<6f", 1, 2, 3, 4, 5, 6) + b"\x80\x3f\x00\x40\x00\x00"),
        "valid-empty": st_file({}),
        "valid-scalar-and-empty": st_file({"s": st_entry("F64", [], 0, 8), "e": st_entry("F16", [4, 0], 8, 8)},
                                          struct.pack("<d", 0.5)),
        "valid-every-dtype": st_file(every, bytes(off)),
        "valid-unpadded-escapes": st_file({"a\"\u00e9": st_entry("U16", [1], 0, 2), "__metadata__": {"k\n": "\u2713"}},
                                          b"\x01\x02", pad=False),
        "valid-offsets-out-of-header-order": st_file({"b": st_entry("U8", [2], 2, 4), "a": st_entry("U8", [2], 0, 2)},
                                                     b"abcd"),
        "bad-truncated": st_file(two, bytes(10)),
        "bad-trailing-data": st_file(two, bytes(31)),
        "bad-header-length-beyond-file": struct.pack("<Q", 64) + b"{}      ",
        "bad-header-length-over-limit": struct.pack("<Q", (100 << 20) + 8) + b"{}      ",
        "bad-short": b"\x08\x00\x00",
        "bad-json": st_file(None, raw=b'{"w":{"dtype":"F32",'),
        "bad-not-object": st_file(None, raw=b"[1,2,3]"),
        "bad-dtype": st_file({"w": st_entry("F33", [1], 0, 4)}, bytes(4)),
        "bad-shape-span": st_file({"w": st_entry("F32", [2], 0, 4)}, bytes(4)),
        "bad-gap": st_file({"w": st_entry("U8", [1], 1, 2)}, bytes(2)),
        "bad-overlap": st_file({"w": st_entry("U8", [2], 0, 2), "v": st_entry("U8", [2], 1, 3)}, bytes(3)),
        "bad-duplicate": st_file(None, raw=b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                                           b'"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', data=bytes(2)),
        "bad-metadata-number": st_file({"__metadata__": {"n": 1}}),
        "bad-float-dim": st_file(None, raw=b'{"w":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}', data=b"x"),
        "bad-huge-dims": st_file({"w": st_entry("F64", [4294967296, 4294967296, 4294967296], 0, 8)}, bytes(8)),
        "bad-nul-escape": st_file(None, raw=b'{"a\\u0000":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}', data=b"x"),
    }


def write(harness, files):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    for name, content in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)


def main():
    only = set(sys.argv[1:])
    if only:
        corpora = {"fuzz_idx": idx_seeds, "fuzz_npy": npy_seeds, "fuzz_safetensors": st_seeds}
        for h in only:
            if h not in corpora:
                sys.exit("make_corpus.py: no binary corpus '%s' (%s)" % (h, ", ".join(sorted(corpora))))
            write(h, corpora[h]())
        return 0
    write("fuzz_arch", {"arch-%02d" % i: s for i, s in enumerate(ARCH)})
    js = {"arch-%02d.json" % i: json.dumps(j) for i, j in enumerate(ARCH_JSON)}
    js.update({"raw-%02d.json" % i: s for i, s in enumerate(ARCH_JSON_RAW)})
    write("fuzz_arch_json", js)
    write("fuzz_spec", {"spec-%02d" % i: s for i, s in enumerate(SPEC)})
    write("fuzz_idx", idx_seeds())
    write("fuzz_npy", npy_seeds())
    write("fuzz_safetensors", st_seeds())
    return 0


if __name__ == "__main__":
    sys.exit(main())

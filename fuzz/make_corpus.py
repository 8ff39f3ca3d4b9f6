#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<harness>/ (committed; run again only to
change them). Text seeds come from docs/GRAMMAR.md and tests/test_arch.c, valid
and not, and spec files from docs/CHECKPOINT.md and tests/test_model.c; binary
seeds are tiny IDX files (gzipped, cut, bombs), .npy calls in fuzz_npy.c's
encoding and .npy files, .npz archives (stored, deflated, ZIP64, data
descriptors) and safetensors files, valid and broken.
Deterministic: gzip with mtime 0, zip members dated 1980-01-01.
`make_corpus.py fuzz_npy ...` writes only the corpora named."""
import gzip
import json
import os
import struct
import sys
import zlib

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
        **npy_file_seeds(),
    }


def npy_file(dict_text, data=b"", version=1, pad=True):
    """A .npy file: magic, version, header length, the dict padded to 64 with '\n' (or as given), data."""
    text = dict_text.encode()
    pre = 10 if version == 1 else 12
    if pad:
        text += b" " * (-(pre + len(text) + 1) % 64) + b"\n"
    length = struct.pack("<H" if version == 1 else "<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + data


def npy_dict(descr, shape, fortran=False):
    return "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, repr(tuple(shape)))


def npy_file_seeds():
    f4 = struct.pack("<6f", 1, -2, 0.5, 0, 3, -0.0)
    return {
        "read-f32-2x3": npy_file(npy_dict("<f4", (2, 3)), f4),
        "read-f64-scalar": npy_file(npy_dict("<f8", ()), struct.pack("<d", 2.5)),
        "read-f16-empty": npy_file(npy_dict("<f2", (0, 3)), b""),
        "read-bf16-vector": npy_file(npy_dict("<u2", (3,)), b"\x80\x3f\x00\x40\x80\xbf"),
        "read-fortran": npy_file(npy_dict("<f4", (3, 2), True), f4),
        "read-v2": npy_file(npy_dict("<f4", (6,)), f4, version=2),
        "read-v3": npy_file(npy_dict("<f4", (1, 6)), f4, version=3),
        "read-numpy-growth-padding": npy_file(npy_dict("<f4", (2, 3)) + " " * 20, f4),
        "read-compact-quotes": npy_file('{"shape":(2,3),"descr":"<f4","fortran_order":False}', f4),
        "read-8-dims": npy_file(npy_dict("<f2", (1, 2, 1, 1, 1, 1, 1, 1)), b"\x00\x3c\x00\xbc"),
        "read-bad-truncated": npy_file(npy_dict("<f4", (2, 3)), f4[:-1]),
        "read-bad-trailing": npy_file(npy_dict("<f4", (2, 3)), f4 + b"\0"),
        "read-bad-header-length": b"\x93NUMPY\x01\x00\xff\x00{'descr': '<f4'}\n",
        "read-bad-version": npy_file(npy_dict("<f4", ()), f4[:4], version=4),
        "read-bad-unknown-key": npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", f4[:4]),
        "read-bad-duplicate-key": npy_file("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}",
                                           f4[:4]),
        "read-bad-int64": npy_file(npy_dict("<i8", (1,)), bytes(8)),
        "read-bad-big-endian": npy_file(npy_dict(">f4", (1,)), bytes(4)),
        "read-bad-structured": npy_file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
                                        bytes(4)),
        "read-bad-huge-shape": npy_file(npy_dict("<f8", (4294967296, 4294967296)), bytes(8)),
        "read-bad-negative": npy_file(npy_dict("<f4", (-1,)), b""),
        "read-bad-not-tuple": npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", f4),
        "read-bad-9-dims": npy_file(npy_dict("<f4", (1,) * 9), bytes(4)),
        "read-bad-no-newline": npy_file(npy_dict("<f4", ()) + "   ", bytes(4), pad=False),
    }


class Zip:
    """A minimal ZIP writer (APPNOTE.TXT) for seeds valid and broken: members
    stored or deflated, ZIP64 records on request (zip64="all": every local
    header, directory entry and the end; "local": local headers only, as
    np.savez writes them), data descriptors, a comment."""

    def __init__(self, zip64=None, comment=b""):
        self.zip64, self.comment, self.members = zip64, comment, []

    def add(self, name, data, method=0, descriptor=False, flags=0, crc=None, lie=0):
        self.members.append((name.encode() if isinstance(name, str) else name, data, method, descriptor, flags,
                             zlib.crc32(data) if crc is None else crc, lie))
        return self

    def bytes(self):
        out, cd = b"", b""
        for name, data, method, desc, flags, crc, lie in self.members:
            if method == 8:
                c = zlib.compressobj(6, zlib.DEFLATED, -15)
                body = c.compress(data) + c.flush()
            else:
                body = data
            usize, csize = len(data) + lie, len(body) + lie
            off = len(out)
            big = self.zip64 in ("all", "local")
            flags |= 8 if desc else 0
            lcrc, lc, lu = (0, 0, 0) if desc else (crc, csize, usize)
            extra = struct.pack("<HHQQ", 1, 16, lu, lc) if big else b""
            out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if big else 20, flags, method, 0, 0x21, lcrc,
                               0xFFFFFFFF if big else lc, 0xFFFFFFFF if big else lu, len(name), len(extra))
            out += name + extra + body
            if desc:
                out += struct.pack("<IIII", 0x08074B50, crc, csize, usize)
            every = self.zip64 == "all"
            cextra = struct.pack("<HHQQQ", 1, 24, usize, csize, off) if every else b""
            cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x0314, 45 if every else 20, flags, method, 0, 0x21,
                              crc, 0xFFFFFFFF if every else csize, 0xFFFFFFFF if every else usize, len(name),
                              len(cextra), 0, 0, 0, 0o100644 << 16, 0xFFFFFFFF if every else off)
            cd += name + cextra
        n, cd_off = len(self.members), len(out)
        out += cd
        if self.zip64 == "all":
            e64 = len(out)
            out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x032D, 45, 0, 0, n, n, len(cd), cd_off)
            out += struct.pack("<IIQI", 0x07064B50, 0, e64, 1)
            out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(self.comment))
        else:
            out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(cd), cd_off, len(self.comment))
        return out + self.comment


def npz_seeds():
    a = npy_file(npy_dict("<f4", (2, 3)), struct.pack("<6f", 1, 2, 3, 4, 5, 6))
    b = npy_file(npy_dict("<f8", ()), struct.pack("<d", -1))
    z = npy_file(npy_dict("<f2", (64, 4)), bytes(512))  # deflates well
    i8 = npy_file(npy_dict("<i8", (1,)), bytes(8))
    huge = npy_file(npy_dict("<f4", (4294967296, 4294967296)), bytes(8))
    overlap = Zip().add("a.npy", a).add("b.npy", b).bytes()
    # a's sizes grow by 8 in both headers: its data run over b's local header
    ob = bytearray(overlap)
    for at in (18, 22):
        struct.pack_into("<I", ob, at, len(a) + 8)
    cd = overlap.index(b"PK\x01\x02")
    for at in (cd + 20, cd + 24):
        struct.pack_into("<I", ob, at, len(a) + 8)
    mismatch = bytearray(Zip("all").add("w.npy", a).bytes())
    struct.pack_into("<H", mismatch, len(mismatch) - 12, 2)  # the end record's count: 2, the ZIP64 record's 1
    return {
        "npz-stored-two": Zip().add("a.npy", a).add("b.npy", b).bytes(),
        "npz-deflated": Zip().add("z.npy", z, method=8).add("b.npy", b, method=8).bytes(),
        "npz-zip64-everywhere": Zip("all").add("a.npy", a).add("b.npy", b).bytes(),
        "npz-zip64-local-like-np-savez": Zip("local").add("a.npy", a).add("z.npy", z, method=8).bytes(),
        "npz-data-descriptors": Zip().add("a.npy", a, descriptor=True).add("z.npy", z, 8, descriptor=True).bytes(),
        "npz-empty": Zip().bytes(),
        "npz-comment-utf8-name": Zip(comment=b"nninit").add("gewicht_\xc3\xa4.npy".encode("latin1"), b,
                                                             flags=0x800).bytes(),
        "npz-bad-crc": Zip().add("a.npy", a, crc=0x12345678).bytes(),
        "npz-bad-truncated": Zip().add("a.npy", a).bytes()[:-5],
        "npz-bad-duplicate": Zip().add("a.npy", a).add("a.npy", b).bytes(),
        "npz-bad-overlap": bytes(ob),
        "npz-bad-sizes": Zip().add("a.npy", a, lie=4).bytes(),
        "npz-bad-dtype": Zip().add("i.npy", i8).bytes(),
        "npz-bad-huge-shape": Zip().add("h.npy", huge).bytes(),
        "npz-bad-not-npy": Zip().add("readme.txt", b"hello").bytes(),
        "npz-bad-method-bzip2": Zip().add("a.npy", a, method=12).bytes(),
        "npz-bad-encrypted": Zip().add("a.npy", a, flags=1).bytes(),
        "npz-bad-zip64-counts": bytes(mismatch),
    }


MODEL_SPEC = [
    {"format": "nninit-spec/1", "dtype": "bf16",
     "tensors": [{"name": "embed.weight", "shape": [32, 8], "layout": "embedding"},
                 {"name": "layers.0.attn.q.weight", "shape": [8, 8]},
                 {"name": "layers.0.norm.weight", "shape": [8], "dtype": "f32"}],
     "rules": [{"match": "*norm.weight", "init": "ones"},
               {"match": "embed.weight", "init": "normal(std=0.02)", "padding_idx": 0},
               {"match": "*.weight", "init": "trunc_normal(std=0.02, a=-0.04, b=0.04)",
                "source": "my_model.py init_weights"}]},
    {"format": "nninit-spec/1", "dtype": "bf16",
     "tensors": [{"name": "e", "shape": [10, 4], "layout": "embedding"}, {"name": "w", "shape": [4, 4], "dtype": "f64"}],
     "rules": [{"match": "e", "init": "normal(std=0.02)", "padding_idx": 0, "source": "here"},
               {"match": "*", "init": "kaiming_uniform(a=2.23606797749979)"}]},
    {"dtype": "i32", "tensors": [{"name": "step", "shape": [], "dtype": "i64"}, {"name": "ids", "shape": [4]},
                                 {"name": "x", "shape": [2], "dtype": "f16"}],
     "rules": [{"match": "step", "init": "zeros"}, {"match": "ids", "init": "constant(value=3)"},
               {"match": "x", "init": "normal"}]},
    {"tensors": [{"name": "l.weight", "shape": [3, 16]}, {"name": "l.bias", "shape": [3]}],
     "rules": [{"match": "*.bias", "init": "kaiming_uniform(a=2.23606797749979)", "fans_of": "weight"},
               {"match": "*", "init": "kaiming_uniform(a=2.23606797749979)"}]},
    {"tensors": [{"name": "c.weight", "shape": [8, 4, 3, 3], "layout": "oihw"},
                 {"name": "k.kernel", "shape": [3, 3, 4, 8], "layout": "hwio"},
                 {"name": "o.weight", "shape": [6, 6]}, {"name": "s.weight", "shape": [6, 6]},
                 {"name": "d.weight", "shape": [4, 4, 3, 3]}],
     "rules": [{"match": "c.*", "init": "kaiming_normal(mode=fan_out, nonlinearity=relu)"},
               {"match": "k.*", "init": "variance_scaling(scale=2, mode=fan_avg, distribution=uniform)"},
               {"match": "o.*", "init": "orthogonal(gain=1.4142)"}, {"match": "s.*", "init": "sparse(sparsity=0.1)"},
               {"match": "d.*", "init": "dirac"}]},
    {"rules": [{"match": "*", "init": "zeros"}]},
    {"tensors": [{"name": "a", "shape": [2]}, {"name": "a", "shape": [2]}], "rules": [{"match": "a", "init": "zeros"}]},
    {"tensors": [{"name": "a", "shape": [2]}], "rules": [{"match": "b", "init": "zeros"}]},
    {"tensors": [{"name": "a", "shape": [2]}], "rules": [{"match": "a", "init": "zeros", "padding_idx": 5}]},
    {"tensors": [{"name": "a", "shape": [2]}], "rules": [{"match": "a", "init": "xavier_normal"}]},
    {"tensors": [{"name": "a", "shape": [2], "dtype": "i64"}], "rules": [{"match": "a", "init": "normal"}]},
    {"tensors": [{"name": "a", "shape": [2], "w": 1}], "rules": []},
    {"tensors": [{"name": "a[1]", "shape": [2]}], "rules": [{"match": "a\\[1]", "init": "uniform(a=-1, b=1)"}]},
]
MODEL_SPEC_RAW = [
    '{"rules": [',
    '{"tensors": [{"name": "a", "shape": [2.5]}], "rules": []}',
    '{"tensors": [{"name": "a", "shape": [1,1,1,1,1,1,1,1,1]}], "rules": []}',
    '{"tensors": [{"name": "a", "shape": [2]}], "rules": [{"match": "a", "init": "normal(std=0.1"}]}',
]


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


def model_spec_seeds():
    seeds = {"spec-%02d.json" % i: json.dumps(j, indent=1) for i, j in enumerate(MODEL_SPEC)}
    seeds.update({"raw-%02d.json" % i: s for i, s in enumerate(MODEL_SPEC_RAW)})
    return seeds


def write(harness, files):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    for name, content in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)


def main():
    only = set(sys.argv[1:])
    if only:
        corpora = {"fuzz_idx": idx_seeds, "fuzz_npy": npy_seeds, "fuzz_npz": npz_seeds, "fuzz_safetensors": st_seeds,
                   "fuzz_model_spec": model_spec_seeds}
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
    write("fuzz_npz", npz_seeds())
    write("fuzz_safetensors", st_seeds())
    write("fuzz_model_spec", model_spec_seeds())
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""safetensors against the published format, through libnninit.so (ctypes).

The reader here is written from the format's description
(https://github.com/huggingface/safetensors, "Format"), not from nninit's
code: an 8-byte little-endian header length N, N bytes of JSON padded with
spaces, then each tensor's little-endian bytes at [begin, end) from the end
of the header. Files nninit writes (nninit_st_writer_*) must read back here
as exactly the arrays written; files written here must read back through
nninit_st_open. bf16 is decoded as uint16 << 16 viewed as float32, and, where
PyTorch is importable, compared with torch.frombuffer(..., torch.bfloat16)."""
import ctypes
import json
import os
import struct
import tempfile
import unittest

import numpy as np

MAX_DIMS = 8
F32, F64, BF16, F16 = 0, 1, 2, 3
ST_NAMES = ["F32", "F64", "BF16", "F16", "I8", "U8", "I16", "U16", "I32", "U32", "I64", "U64", "BOOL",
            "F8_E4M3", "F8_E5M2"]
NP_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "BF16": "<u2", "I8": "i1", "U8": "u1", "I16": "<i2",
             "U16": "<u2", "I32": "<i4", "U32": "<u4", "I64": "<i8", "U64": "<u8", "BOOL": "?",
             "F8_E4M3": "u1", "F8_E5M2": "u1"}
OK, ERR_FORMAT, ERR_IO = 0, 21, 17


class Tensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("ndim", ctypes.c_int),
                ("shape", ctypes.c_int64 * MAX_DIMS), ("begin", ctypes.c_uint64), ("end", ctypes.c_uint64)]


class Meta(ctypes.Structure):
    _fields_ = [("key", ctypes.c_char_p), ("value", ctypes.c_char_p)]


def load_lib():
    build = os.environ.get("NNINIT_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "build"))
    lib = ctypes.CDLL(os.path.join(build, "libnninit.so"))
    P = ctypes.c_void_p
    sigs = {
        "nninit_st_writer_open": (ctypes.c_int, [ctypes.POINTER(P), ctypes.c_char_p, ctypes.POINTER(Tensor),
                                                 ctypes.c_size_t, ctypes.POINTER(Meta), ctypes.c_size_t]),
        "nninit_st_writer_append": (ctypes.c_int, [P, ctypes.c_char_p, ctypes.c_size_t]),
        "nninit_st_writer_commit": (ctypes.c_int, [P]),
        "nninit_st_open": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(P)]),
        "nninit_st_close": (None, [P]),
        "nninit_st_count": (ctypes.c_size_t, [P]),
        "nninit_st_tensor_at": (ctypes.POINTER(Tensor), [P, ctypes.c_size_t]),
        "nninit_st_find": (ctypes.POINTER(Tensor), [P, ctypes.c_char_p]),
        "nninit_st_meta_count": (ctypes.c_size_t, [P]),
        "nninit_st_meta_at": (ctypes.POINTER(Meta), [P, ctypes.c_size_t]),
        "nninit_st_data_start": (ctypes.c_uint64, [P]),
        "nninit_st_read": (ctypes.c_int, [P, ctypes.POINTER(Tensor), ctypes.c_uint64, ctypes.c_size_t,
                                          ctypes.c_char_p]),
        "nninit_last_error": (ctypes.c_char_p, []),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


LIB = load_lib()


def err():
    return LIB.nninit_last_error().decode()


def nninit_write(path, tensors, meta=(), piece=4099):
    """tensors: [(name, st dtype index, shape, bytes)]; the data in pieces of `piece` bytes."""
    arr = (Tensor * max(len(tensors), 1))()
    for i, (name, dt, shape, _) in enumerate(tensors):
        arr[i].name, arr[i].dtype, arr[i].ndim = name.encode(), dt, len(shape)
        for k, d in enumerate(shape):
            arr[i].shape[k] = d
    marr = (Meta * max(len(meta), 1))()
    for i, (k, v) in enumerate(meta):
        marr[i].key, marr[i].value = k.encode(), v.encode()
    w = ctypes.c_void_p()
    s = LIB.nninit_st_writer_open(ctypes.byref(w), path.encode(), arr, len(tensors), marr, len(meta))
    if s != OK:
        return s
    data = b"".join(t[3] for t in tensors)
    for off in range(0, len(data), piece):
        s = LIB.nninit_st_writer_append(w, data[off:off + piece], len(data[off:off + piece]))
        if s != OK:
            LIB.nninit_st_writer_commit(w)
            return s
    return LIB.nninit_st_writer_commit(w)


def read_safetensors(path):
    """The format's reader: (header dict in order, {name: (dtype, shape, raw bytes)}, data start)."""
    with open(path, "rb") as f:
        b = f.read()
    (n,) = struct.unpack("<Q", b[:8])
    text = b[8:8 + n].decode("utf-8")
    header = json.loads(text)
    data = b[8 + n:]
    out = {}
    end = 0
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, stop = e["data_offsets"]
        assert 0 <= begin <= stop <= len(data), (name, e)
        out[name] = (e["dtype"], tuple(e["shape"]), data[begin:stop])
        end = max(end, stop)
    assert end == len(data)
    return header, out, 8 + n, text


def decode(dtype, shape, raw):
    if dtype == "BF16":
        return (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32).reshape(shape)
    return np.frombuffer(raw, NP_DTYPES[dtype]).reshape(shape)


def bf16_bits(x):
    """float32 -> bf16 bit patterns, round to nearest even (finite values)."""
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


class FromNninit(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        rng = np.random.default_rng(12345)
        w32 = rng.standard_normal((16, 9)).astype("<f4")
        w64 = rng.standard_normal((3, 4, 5)).astype("<f8")
        w16 = rng.standard_normal((33,)).astype("<f2")
        self.bf = rng.standard_normal((7, 3)).astype(np.float32)
        wbf = bf16_bits(self.bf)
        self.arrays = {
            "model.embed.weight": (F32, w32),
            "model.layers.0.w": (F64, w64),
            "model.layers.0.b": (F16, w16),
            "lm_head.weight": (BF16, wbf),
            "scale": (F32, np.array(2.5, "<f4")),
            "empty": (F16, np.zeros((4, 0, 3), "<f2")),
            "odd piece": (F64, rng.standard_normal((1,)).astype("<f8")),
        }
        self.meta = [("format", "pt"), ("nninit", "seed=42 \"quoted\" \u00e9\n")]

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, piece):
        path = os.path.join(self.dir, "m.safetensors")
        ts = [(k, dt, a.shape, a.tobytes()) for k, (dt, a) in self.arrays.items()]
        self.assertEqual(nninit_write(path, ts, self.meta, piece), OK, err())
        return path

    def test_read_back_by_the_format(self):
        for piece in (1, 7, 4099, 1 << 20):
            path = self.write(piece)
            header, tensors, start, text = read_safetensors(path)
            self.assertEqual((start - 8) % 8, 0)
            # compact JSON as the reference writer's serde_json, then spaces only
            self.assertEqual(text.rstrip(" "), json.dumps(header, separators=(",", ":"), ensure_ascii=False))
            self.assertLess(len(text) - len(text.rstrip(" ")), 8)
            self.assertTrue(text.startswith('{"__metadata__":'))
            self.assertEqual(list(header)[0], "__metadata__")
            self.assertEqual(header["__metadata__"], dict(self.meta))
            self.assertEqual(list(header)[1:], list(self.arrays))
            off = 0
            for name, (dt, a) in self.arrays.items():
                e = header[name]
                self.assertEqual(e["dtype"], ST_NAMES[dt])
                self.assertEqual(tuple(e["shape"]), a.shape)
                self.assertEqual(e["data_offsets"], [off, off + a.nbytes])  # contiguous, in the given order
                off += a.nbytes
                dtype, shape, raw = tensors[name]
                self.assertEqual(raw, a.tobytes())
                got = decode(dtype, shape, raw)
                if dt == BF16:
                    np.testing.assert_array_equal(got.view(np.uint32) >> 16, a)
                    np.testing.assert_allclose(got, self.bf, rtol=2 ** -8)
                else:
                    np.testing.assert_array_equal(got, a)
            self.assertEqual(os.listdir(self.dir), ["m.safetensors"])

    def test_bf16_against_torch(self):
        try:
            import torch
        except ImportError:
            self.skipTest("PyTorch is not importable")
        path = self.write(4099)
        _, tensors, _, _ = read_safetensors(path)
        _, shape, raw = tensors["lm_head.weight"]
        t = torch.frombuffer(bytearray(raw), dtype=torch.bfloat16).reshape(shape)
        np.testing.assert_array_equal(t.float().numpy(), decode("BF16", shape, raw))
        np.testing.assert_array_equal(t.float().numpy(), torch.from_numpy(self.bf).bfloat16().float().numpy())

    def test_refused_writes_leave_nothing(self):
        path = os.path.join(self.dir, "x.safetensors")
        ts = [("a", F32, (4,), bytes(16))]
        self.assertEqual(nninit_write(path, [("a", F32, (4,), bytes(20))]), ERR_FORMAT)  # more than announced
        self.assertEqual(nninit_write(path, [("a", F32, (5,), bytes(16))]), ERR_FORMAT)  # bytes missing
        self.assertEqual(os.listdir(self.dir), [])
        os.mkdir(path)
        self.assertEqual(nninit_write(path, ts), ERR_IO)
        self.assertEqual(os.listdir(path), [])


class FromPython(unittest.TestCase):
    """Files written here by the format, read by nninit_st_open."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "py.safetensors")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, header, data, pad=True):
        text = json.dumps(header).encode()  # with spaces after ':' and ',', as Python writes it
        if pad:
            text += b" " * (-len(text) % 8)
        with open(self.path, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + data)

    def open(self):
        f = ctypes.c_void_p()
        s = LIB.nninit_st_open(self.path.encode(), ctypes.byref(f))
        return s, f

    def test_every_dtype(self):
        rng = np.random.default_rng(7)
        arrays = {}
        for i, name in enumerate(ST_NAMES):
            shape = [(3, 2), (5,), (), (2, 1, 2)][i % 4]
            if name == "BOOL":
                a = rng.integers(0, 2, shape).astype("?")
            elif name.startswith("F") and name not in ("BF16",) and not name.startswith("F8"):
                a = rng.standard_normal(shape).astype(NP_DTYPES[name])
            else:
                a = rng.integers(0, 100, shape).astype(NP_DTYPES[name])
            arrays["t.%s" % name.lower()] = (name, a)
        # header order differs from data order: nninit lists tensors by offset
        names = list(arrays)
        data_order = names[::-1]
        header, data, off = {}, b"", 0
        for n in data_order:
            raw = arrays[n][1].tobytes()
            header[n] = {"dtype": arrays[n][0], "shape": list(arrays[n][1].shape),
                         "data_offsets": [off, off + len(raw)]}
            data += raw
            off += len(raw)
        header = {k: header[k] for k in names}
        header["__metadata__"] = {"format": "np", "\u00fcml": "\u2713"}
        self.write(header, data, pad=False)
        s, f = self.open()
        self.assertEqual(s, OK, err())
        try:
            self.assertEqual(LIB.nninit_st_count(f), len(names))
            self.assertEqual(LIB.nninit_st_data_start(f), 8 + len(json.dumps(header).encode()))
            for i, n in enumerate(data_order):
                t = LIB.nninit_st_tensor_at(f, i).contents
                self.assertEqual(t.name.decode(), n)
                dtype, a = arrays[n]
                self.assertEqual(ST_NAMES[t.dtype], dtype)
                self.assertEqual(tuple(t.shape[:t.ndim]), a.shape)
                self.assertEqual(list((t.begin, t.end)), header[n]["data_offsets"])
                buf = ctypes.create_string_buffer(max(a.nbytes, 1))
                found = LIB.nninit_st_find(f, n.encode())
                self.assertEqual(LIB.nninit_st_read(f, found, 0, a.nbytes, buf), OK, err())
                self.assertEqual(buf.raw[:a.nbytes], a.tobytes())
            meta = {}
            for i in range(LIB.nninit_st_meta_count(f)):
                m = LIB.nninit_st_meta_at(f, i).contents
                meta[m.key.decode()] = m.value.decode()
            self.assertEqual(meta, header["__metadata__"])
        finally:
            LIB.nninit_st_close(f)

    def test_bad_files(self):
        good = {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
        cases = [
            ({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, 8, "'w'"),
            ({"w": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}}, 8, "'Q4'"),
            ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
              "v": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, 8, "overlap"),
            (good, 4, "beyond"),
            (good, 12, "after the last tensor"),
            ({"__metadata__": {"n": 1}}, 0, "not a string"),
        ]
        for header, nbytes, mention in cases:
            self.write(header, bytes(nbytes))
            s, f = self.open()
            self.assertEqual(s, ERR_FORMAT, (header, err()))
            self.assertIn(mention, err())
        with open(self.path, "wb") as f:  # duplicates: json.dumps cannot write them
            text = b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, ' \
                   b'"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}'
            f.write(struct.pack("<Q", len(text)) + text + bytes(8))
        s, _ = self.open()
        self.assertEqual(s, ERR_FORMAT)
        self.assertIn("duplicate tensor name 'w'", err())


if __name__ == "__main__":
    unittest.main()

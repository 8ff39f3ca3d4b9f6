"""nninit's .npy and .npz files against NumPy's, through libnninit.so (ctypes).

NumPy reads what nninit writes: np.load of nninit_npy_write's files and of
nninit_npz_writer's archives (stored, and with ZIP64 records forced on a small
file, and with 65536 members, where they are needed), bit for bit, with
allow_pickle=False; zipfile's CRC check passes. nninit reads what NumPy writes:
np.save (format 1.0, and 2.0 and 3.0 through numpy.lib.format.write_array),
np.savez (whose members carry ZIP64 local headers) and np.savez_compressed
(deflated), a zip streamed with data descriptors, bit for bit; and refuses what
it does not read (big-endian, integers, structured dtypes) with the dtype's
name in the message."""
import ctypes
import io
import os
import tempfile
import unittest
import warnings
import zipfile

import numpy as np

MAX_DIMS = 8
F32, F64, BF16, F16 = 0, 1, 2, 3
DESCR = {F32: "<f4", F64: "<f8", BF16: "<u2", F16: "<f2"}
OK, ERR_DTYPE, ERR_FORMAT = 0, 10, 21


class NpyInfo(ctypes.Structure):
    _fields_ = [("dtype", ctypes.c_int), ("descr", ctypes.c_char * 4), ("version", ctypes.c_int),
                ("fortran_order", ctypes.c_int), ("ndim", ctypes.c_int), ("shape", ctypes.c_int64 * MAX_DIMS),
                ("numel", ctypes.c_uint64), ("header_bytes", ctypes.c_uint64), ("data_bytes", ctypes.c_uint64)]


class NpzArray(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("ndim", ctypes.c_int),
                ("shape", ctypes.c_int64 * MAX_DIMS)]


class NpzOpts(ctypes.Structure):
    _fields_ = [("zip64", ctypes.c_int)]


class NpzMember(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("npy", NpyInfo), ("deflated", ctypes.c_int),
                ("offset", ctypes.c_uint64), ("compressed_size", ctypes.c_uint64), ("size", ctypes.c_uint64),
                ("crc32", ctypes.c_uint32)]


def load_lib():
    build = os.environ.get("NNINIT_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "build"))
    lib = ctypes.CDLL(os.path.join(build, "libnninit.so"))
    P, S, U64 = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint64
    sigs = {
        "nninit_npy_write": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                                            ctypes.POINTER(ctypes.c_int64)]),
        "nninit_npy_open": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(P)]),
        "nninit_npy_file_info": (ctypes.POINTER(NpyInfo), [P]),
        "nninit_npy_read": (ctypes.c_int, [P, U64, S, ctypes.c_char_p]),
        "nninit_npy_close": (None, [P]),
        "nninit_npz_writer_open": (ctypes.c_int, [ctypes.POINTER(P), ctypes.c_char_p, ctypes.POINTER(NpzArray), S,
                                                  ctypes.POINTER(NpzOpts)]),
        "nninit_npz_writer_add": (ctypes.c_int, [P, ctypes.POINTER(NpzArray)]),
        "nninit_npz_writer_append": (ctypes.c_int, [P, ctypes.c_char_p, S]),
        "nninit_npz_writer_commit": (ctypes.c_int, [P]),
        "nninit_npz_open": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(P)]),
        "nninit_npz_close": (None, [P]),
        "nninit_npz_count": (S, [P]),
        "nninit_npz_member_at": (ctypes.POINTER(NpzMember), [P, S]),
        "nninit_npz_find": (ctypes.POINTER(NpzMember), [P, ctypes.c_char_p]),
        "nninit_npz_read": (ctypes.c_int, [P, ctypes.POINTER(NpzMember), U64, S, ctypes.c_char_p]),
        "nninit_last_error": (ctypes.c_char_p, []),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


LIB = load_lib()


def err():
    return LIB.nninit_last_error().decode()


def slurp(path):
    with open(path, "rb") as fh:
        return fh.read()


def rng_bytes(n, seed):
    return np.random.default_rng(seed).integers(0, 256, size=n, dtype=np.uint8).tobytes()


def np_dtype(dt):
    return np.dtype(DESCR[dt])


def shape_arg(shape):
    return (ctypes.c_int64 * MAX_DIMS)(*shape)


def write_npz(path, arrays, zip64=False, piece=7, declare_up_front=True):
    """arrays: [(name, dtype, shape, bytes)], appended in pieces of `piece` bytes."""
    specs = (NpzArray * max(1, len(arrays)))()
    for i, (name, dt, shape, _) in enumerate(arrays):
        specs[i] = NpzArray(name.encode(), dt, len(shape), shape_arg(shape))
    w = ctypes.c_void_p()
    opts = NpzOpts(1 if zip64 else 0)
    n = len(arrays) if declare_up_front else 0
    st = LIB.nninit_npz_writer_open(ctypes.byref(w), path.encode(), specs, n, ctypes.byref(opts))
    assert st == OK, err()
    for i, (_, _, _, data) in enumerate(arrays):
        if not declare_up_front:
            assert LIB.nninit_npz_writer_add(w, ctypes.byref(specs[i])) == OK, err()
        for k in range(0, len(data), piece):
            assert LIB.nninit_npz_writer_append(w, data[k:k + piece], len(data[k:k + piece])) == OK, err()
    assert LIB.nninit_npz_writer_commit(w) == OK, err()


def read_npy(path):
    """(info, data bytes) through nninit_npy_open / _read, or (status, message)."""
    f = ctypes.c_void_p()
    st = LIB.nninit_npy_open(path.encode(), ctypes.byref(f))
    if st != OK:
        return st, err()
    info = LIB.nninit_npy_file_info(f).contents
    out = ctypes.create_string_buffer(max(1, info.data_bytes))
    # two pieces, the second first: reads are positioned
    half = info.data_bytes // 2
    assert LIB.nninit_npy_read(f, half, info.data_bytes - half, ctypes.cast(ctypes.addressof(out) + half,
                                                                            ctypes.c_char_p)) == OK, err()
    assert LIB.nninit_npy_read(f, 0, half, out) == OK, err()
    copy = NpyInfo()
    ctypes.memmove(ctypes.byref(copy), ctypes.byref(info), ctypes.sizeof(info))
    LIB.nninit_npy_close(f)
    return copy, out.raw[:info.data_bytes]


def read_npz(path, piece=None):
    """{name: (member info, data bytes)} through nninit_npz_open / _read, or (status, message)."""
    f = ctypes.c_void_p()
    st = LIB.nninit_npz_open(path.encode(), ctypes.byref(f))
    if st != OK:
        return st, err()
    res = {}
    for i in range(LIB.nninit_npz_count(f)):
        mp = LIB.nninit_npz_member_at(f, i)
        m = mp.contents
        n = m.npy.data_bytes
        out = ctypes.create_string_buffer(max(1, n))
        step = piece or max(1, n)
        for k in range(0, n, step):
            k1 = min(n, k + step)
            dst = ctypes.cast(ctypes.addressof(out) + k, ctypes.c_char_p)
            assert LIB.nninit_npz_read(f, mp, k, k1 - k, dst) == OK, err()
        name = m.name.decode()
        assert ctypes.addressof(LIB.nninit_npz_find(f, m.name).contents) == ctypes.addressof(m)
        copy = NpzMember()
        ctypes.memmove(ctypes.byref(copy), ctypes.byref(m), ctypes.sizeof(m))
        res[name] = (copy, out.raw[:n])
    LIB.nninit_npz_close(f)
    return res


def c_order_bytes(a):
    """The bytes of the file: C order unless the header says Fortran."""
    return a.tobytes(order="F" if (a.flags.f_contiguous and not a.flags.c_contiguous) else "C")


# Shapes for every dtype: 0-D, empty (a zero dimension, with and without
# large others), 1-D, up to 8 dimensions.
SHAPES = [(), (0,), (3, 0), (0, 5, 7), (1,), (5,), (2, 3), (4, 1, 3), (2, 1, 2, 1, 2, 1, 2, 3)]


class FromNninit(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def arrays(self):
        out = []
        for dt in (F32, F64, BF16, F16):
            for k, shape in enumerate(SHAPES):
                n = int(np.prod(shape, dtype=np.int64)) * np_dtype(dt).itemsize
                out.append(("a%d_%d" % (dt, k), dt, shape, rng_bytes(n, 100 * dt + k)))
        return out

    def test_npy_loads_in_numpy(self):
        for dt in (F32, F64, BF16, F16):
            for shape in [s for s in SHAPES if s and 0 not in s]:
                n = int(np.prod(shape))
                data = rng_bytes(n * np_dtype(dt).itemsize, n + dt)
                path = os.path.join(self.dir, "x.npy")
                st = LIB.nninit_npy_write(path.encode(), data, dt, len(shape), shape_arg(shape))
                self.assertEqual(st, OK, err())
                a = np.load(path, allow_pickle=False)
                self.assertEqual(a.dtype, np_dtype(dt))
                self.assertEqual(a.shape, shape)
                self.assertEqual(a.tobytes(), data)
                info, back = read_npy(path)
                self.assertEqual((info.dtype, info.ndim, tuple(info.shape[:info.ndim])), (dt, len(shape), shape))
                self.assertEqual(back, data)

    def check_npz(self, path, arrays):
        with np.load(path, allow_pickle=False) as z:
            self.assertEqual(sorted(z.files), sorted(a[0] for a in arrays))
            for name, dt, shape, data in arrays:
                a = z[name]
                self.assertEqual(a.dtype, np_dtype(dt), name)
                self.assertEqual(a.shape, shape, name)
                self.assertEqual(a.tobytes(), data, name)
        with zipfile.ZipFile(path) as zf:
            self.assertIsNone(zf.testzip())  # every CRC
            self.assertEqual([i.filename for i in zf.infolist()], [a[0] + ".npy" for a in arrays])
            self.assertTrue(all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist()))
        back = read_npz(path)
        for name, dt, shape, data in arrays:
            m, got = back[name]
            self.assertEqual((m.npy.dtype, m.npy.ndim, tuple(m.npy.shape[:m.npy.ndim])), (dt, len(shape), shape))
            self.assertEqual(got, data, name)

    def test_npz_loads_in_numpy(self):
        arrays = self.arrays()
        path = os.path.join(self.dir, "a.npz")
        write_npz(path, arrays)
        self.check_npz(path, arrays)
        raw = slurp(path)
        self.assertNotIn(b"PK\x06\x06", raw)  # nothing needs ZIP64

    def test_npz_declared_one_at_a_time(self):
        arrays = self.arrays()[:9]
        path = os.path.join(self.dir, "b.npz")
        write_npz(path, arrays, declare_up_front=False, piece=1000)
        self.check_npz(path, arrays)

    def test_npz_zip64_forced_loads_in_numpy(self):
        arrays = self.arrays()
        path = os.path.join(self.dir, "z.npz")
        write_npz(path, arrays, zip64=True, piece=3)
        raw = slurp(path)
        self.assertEqual(raw[-22 - 20 - 56:-22 - 20 - 52], b"PK\x06\x06")  # ZIP64 end record,
        self.assertEqual(raw[-22 - 20:-22 - 16], b"PK\x06\x07")  # its locator, then the end record
        with zipfile.ZipFile(path) as zf:
            for i in zf.infolist():  # 0xFFFFFFFF in every 32-bit field: the values come from ZIP64 extras
                self.assertEqual(i.extra[:2], b"\x01\x00")
        self.check_npz(path, arrays)

    def test_npz_65536_members_get_zip64_end_records(self):
        n = 65536
        names = ["m%05d" % i for i in range(n)]
        path = os.path.join(self.dir, "many.npz")
        arrays = [(names[i], F32, (), np.float32(i).tobytes()) for i in range(n)]
        write_npz(path, arrays, piece=4)
        raw = slurp(path)
        self.assertEqual(raw[-22 - 20 - 56:-22 - 20 - 52], b"PK\x06\x06")
        with np.load(path, allow_pickle=False) as z:
            self.assertEqual(len(z.files), n)
            for i in (0, 1, 65534, 65535):
                self.assertEqual(z[names[i]].item(), float(i))
                self.assertEqual(z[names[i]].shape, ())
        back = read_npz(path)
        self.assertEqual(len(back), n)
        self.assertEqual(back[names[65535]][1], np.float32(65535).tobytes())


class FromNumpy(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def samples(self):
        rng = np.random.default_rng(7)
        out = []
        for dt in ("<f4", "<f8", "<f2", "<u2"):
            for shape in SHAPES:
                out.append(rng.standard_normal(shape).astype(dt) if dt != "<u2"
                           else rng.integers(0, 65536, size=shape, dtype="<u2"))
        out.append(np.asfortranarray(rng.standard_normal((3, 4)).astype("<f4")))  # fortran_order: True
        out.append(np.float64(np.pi))  # a NumPy scalar: 0-D
        return out

    def check_info(self, info, a, version=1):
        self.assertEqual(info.descr.decode(), a.dtype.str)
        self.assertEqual(info.version, version)
        self.assertEqual(info.ndim, a.ndim)
        self.assertEqual(tuple(info.shape[:info.ndim]), a.shape)
        self.assertEqual(info.numel, a.size)
        self.assertEqual(info.data_bytes, a.nbytes)
        self.assertEqual(bool(info.fortran_order), a.flags.f_contiguous and not a.flags.c_contiguous)

    def test_np_save_v1(self):
        for a in self.samples():
            a = np.asanyarray(a)
            path = os.path.join(self.dir, "s.npy")
            np.save(path, a)
            info, data = read_npy(path)
            self.check_info(info, a)
            self.assertEqual(data, c_order_bytes(a))
            self.assertEqual(info.header_bytes + info.data_bytes, os.path.getsize(path))

    def test_write_array_v2_v3(self):
        for version in ((2, 0), (3, 0)):
            for a in self.samples()[:12]:
                path = os.path.join(self.dir, "v.npy")
                with open(path, "wb") as fh, warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    np.lib.format.write_array(fh, a, version=version)
                with open(path, "rb") as fh:
                    self.assertEqual(fh.read(8)[6:], bytes(version))
                info, data = read_npy(path)
                self.check_info(info, a, version[0])
                self.assertEqual(data, c_order_bytes(a))

    def test_long_descr_v2_refused_by_name(self):
        # a structured dtype whose descr passes 65535 bytes: np.save picks format 2.0 itself
        dt = np.dtype([("field_%05d" % i, "<f4") for i in range(4000)])
        path = os.path.join(self.dir, "st.npy")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.save(path, np.zeros(2, dtype=dt))
        with open(path, "rb") as fh:
            self.assertEqual(fh.read(8)[6:], b"\x02\x00")
        st, msg = read_npy(path)
        self.assertEqual(st, ERR_FORMAT)
        self.assertIn("over the limit (10000", msg)
        # a small one fits the limit and is named a structured dtype
        np.save(path, np.zeros(2, dtype=[("a", "<f4"), ("b", "<i8")]))
        st, msg = read_npy(path)
        self.assertEqual(st, ERR_DTYPE)
        self.assertIn("structured dtype", msg)

    def test_other_dtypes_refused_by_name(self):
        cases = [(np.zeros(3, ">f4"), "'>f4' (big-endian float32)"), (np.zeros(3, "<i8"), "'<i8' (int64)"),
                 (np.zeros(3, "u1"), "'|u1' (uint8)"), (np.zeros(3, "?"), "'|b1' (bool)"),
                 (np.zeros(3, "<c8"), "'<c8' (complex64)"), (np.zeros(2, "<M8[s]"), "'<M8[s]' (datetime)")]
        for a, want in cases:
            path = os.path.join(self.dir, "o.npy")
            np.save(path, a)
            st, msg = read_npy(path)
            self.assertEqual(st, ERR_DTYPE, msg)
            self.assertIn("dtype " + want, msg)

    def check_npz(self, path, arrays, deflated, piece=None):
        back = read_npz(path, piece)
        self.assertIsInstance(back, dict, back)
        self.assertEqual(sorted(back), sorted(arrays))
        for name, a in arrays.items():
            a = np.asanyarray(a)
            m, data = back[name]
            self.check_info(m.npy, a)
            self.assertEqual(m.deflated, deflated)
            self.assertEqual(data, c_order_bytes(a), name)

    def test_np_savez(self):
        arrays = {"s%d" % i: a for i, a in enumerate(self.samples())}
        path = os.path.join(self.dir, "n.npz")
        np.savez(path, **arrays)
        self.check_npz(path, arrays, 0)

    def test_np_savez_positional_and_unicode_names(self):
        a, b = np.arange(6, dtype="<f4").reshape(2, 3), np.ones(4, "<f8")
        path = os.path.join(self.dir, "p.npz")
        np.savez(path, a, b, **{"gewicht_ä": a})
        self.check_npz(path, {"arr_0": a, "arr_1": b, "gewicht_ä": a}, 0)

    def test_np_savez_compressed(self):
        rng = np.random.default_rng(3)
        arrays = {"s%d" % i: a for i, a in enumerate(self.samples())}
        arrays["big"] = rng.standard_normal((300, 257)).astype("<f4")  # several inflate chunks
        arrays["zeros"] = np.zeros((1000, 100), "<f8")  # compresses 1000 to 1
        path = os.path.join(self.dir, "c.npz")
        np.savez_compressed(path, **arrays)
        self.check_npz(path, arrays, 1)
        self.check_npz(path, arrays, 1, piece=1000)  # ascending pieces: the inflate cursor

    def test_streamed_zip_with_data_descriptors(self):
        class Unseekable(io.RawIOBase):
            def __init__(self, fh):
                self.fh = fh

            def writable(self):
                return True

            def write(self, b):
                return self.fh.write(b)

        a, b = np.arange(12, dtype="<f2").reshape(3, 4), np.full((2, 2), 0.5, "<f8")
        path = os.path.join(self.dir, "d.npz")
        for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            with open(path, "wb") as fh, zipfile.ZipFile(Unseekable(fh), "w", method) as zf:
                for name, x in (("a", a), ("b", b)):
                    with zf.open(name + ".npy", "w") as m:
                        np.lib.format.write_array(m, x)
            with zipfile.ZipFile(path) as zf:
                self.assertTrue(all(i.flag_bits & 0x08 for i in zf.infolist()))
            self.check_npz(path, {"a": a, "b": b}, int(method == zipfile.ZIP_DEFLATED))

    def test_npz_with_other_members_refused(self):
        path = os.path.join(self.dir, "t.npz")
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("readme.txt", "hello")
        st, msg = read_npz(path)
        self.assertEqual(st, ERR_FORMAT)
        self.assertIn("member 'readme.txt' is not an .npy", msg)
        np.savez(path, w=np.zeros(3, "<i4"))
        st, msg = read_npz(path)
        self.assertEqual(st, ERR_DTYPE)
        self.assertIn("member 'w.npy'", msg)
        self.assertIn("'<i4' (int32)", msg)


if __name__ == "__main__":
    unittest.main()

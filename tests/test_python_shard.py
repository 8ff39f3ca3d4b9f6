#!/usr/bin/python3
"""test_python_shard.py -- shard-exact fills from Python (python/nninit/shard.py).

Run by ctest as `/usr/bin/python3 tests/test_python_shard.py` with
NNINIT_BUILD_DIR and NNINIT_SOURCE_DIR; the package loads libnninit.so
through ctypes.CDLL.

  Shard(d)     every element-wise scheme (fan-based ones on the global
               tensor's fans), f32 / f64 NumPy and bf16 torch, 2-D and 3-D:
               the tensor sharded 1, 2, 3 and 4 ways along each dimension
               (DTensor's torch.chunk split, empty shards included) equals the
               full fill's slices, bytes exactly; and the full fill equals
               `nninit fill`'s.
  2-D mesh     Shard(0) x Shard(1) boxes tile the tensor exactly.
  boxes        arbitrary boxes (fixed seed) equal the full fill's.
  chunks       chunk_range / shard_box against torch.chunk for sizes 0..13.
  errors       orthogonal / sparse on a part, boxes outside the tensor, wrong
               ranks, world sizes, dims and local shapes.
"""
import os
import random
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
SRC = os.environ.get("NNINIT_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("NNINIT_BUILD_DIR", os.path.join(SRC, "build"))
os.environ["NNINIT_LIBRARY"] = os.path.join(BUILD, "libnninit.so")
sys.path.insert(0, os.path.join(SRC, "python"))
CLI = os.environ.get("NNINIT_CLI", os.path.join(BUILD, "nninit"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import nninit  # noqa: E402

SCHEMES = [("uniform", {"a": -1.0, "b": 2.0}), ("normal", {"std": 0.02}), ("trunc_normal", {"std": 0.5}),
           ("trunc_normal_std", {}), ("kaiming_uniform", {"a": 5 ** 0.5}),
           ("kaiming_normal", {"mode": "fan_out", "nonlinearity": "relu"}), ("xavier_normal", {"gain": 2.0}),
           ("lecun_uniform", {}), ("variance_scaling", {"distribution": "uniform", "mode": "fan_avg"}),
           ("constant", {"value": 0.5}), ("eye", {}), ("dirac", {})]
SHAPES = [(12, 10), (6, 5, 7), (13, 3, 2, 2)]


def bytes_of(x):
    if isinstance(x, torch.Tensor):
        return (x.view(torch.int16) if x.dtype == torch.bfloat16 else x).numpy().tobytes()
    return x.tobytes()


class Shards(unittest.TestCase):
    def full(self, scheme, kw, shape, make):
        x = make(shape)
        nninit.fill_(x, scheme, seed=11, key="layers.3.attn.weight", **kw)
        return x

    def applies(self, scheme, shape):
        return not ((scheme == "eye" and len(shape) != 2) or (scheme == "dirac" and len(shape) == 2))

    def test_shard_each_dim_1_to_4_ways(self):
        makes = [("f32", lambda s: np.empty(s, np.float32)), ("f64", lambda s: np.empty(s, np.float64)),
                 ("bf16", lambda s: torch.empty(s, dtype=torch.bfloat16))]
        count = 0
        for scheme, kw in SCHEMES:
            for shape in SHAPES:
                if not self.applies(scheme, shape):
                    continue
                for dname, make in makes:
                    full = self.full(scheme, kw, shape, make)
                    for dim in range(len(shape)):
                        for world in (1, 2, 3, 4):
                            pieces = []
                            for rank in range(world):
                                with self.subTest(scheme=scheme, shape=shape, dtype=dname, dim=dim, world=world,
                                                  rank=rank):
                                    offsets, local = nninit.shard_box(shape, dim, world, rank)
                                    x = make(local)
                                    y = nninit.fill_dtensor_shard_(x, scheme, global_shape=shape, dim=dim,
                                                                   world_size=world, rank=rank, seed=11,
                                                                   key="layers.3.attn.weight", **kw)
                                    self.assertIs(y, x)
                                    sl = tuple(slice(o, o + n) for o, n in zip(offsets, local))
                                    want = full[sl]
                                    if isinstance(want, torch.Tensor):
                                        want = want.contiguous()
                                    self.assertEqual(bytes_of(x), bytes_of(np.ascontiguousarray(want)
                                                                           if isinstance(want, np.ndarray)
                                                                           else want))
                                    pieces.append(x)
                                    count += 1
                            # the pieces, concatenated, are the whole tensor
                            if isinstance(full, np.ndarray):
                                self.assertEqual(np.concatenate(pieces, axis=dim).tobytes(), full.tobytes())
                            else:
                                self.assertEqual(bytes_of(torch.cat(pieces, dim=dim)), bytes_of(full))
        self.assertGreater(count, 1000)

    def test_full_fill_is_the_clis(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "w.npy")
            subprocess.run([CLI, "fill", "kaiming_uniform", "--a", "2.23606797749979", "--shape", "12,10", "--seed",
                            "11", "--key", "layers.3.attn.weight", "-o", out], check=True, stdout=subprocess.PIPE)
            full = np.load(out)
        x = nninit.dtensor_shard("kaiming_uniform", (12, 10), dim=1, world_size=3, rank=2, seed=11,
                                 key="layers.3.attn.weight", a=5 ** 0.5)
        self.assertEqual(x.tobytes(), np.ascontiguousarray(full[:, 8:]).tobytes())
        t = nninit.dtensor_shard("kaiming_uniform", (12, 10), dim=0, world_size=4, rank=1, seed=11,
                                 key="layers.3.attn.weight", framework="torch", a=5 ** 0.5)
        self.assertEqual(t.numpy().tobytes(), full[3:6].tobytes())

    def test_mesh_2d(self):
        shape = (10, 9)
        full = self.full("normal", {}, shape, lambda s: np.empty(s, np.float32))
        out = np.full(shape, np.nan, np.float32)
        for r0 in range(3):
            for r1 in range(2):
                (o0, _), (n0, _) = nninit.shard_box(shape, 0, 3, r0)
                (_, o1), (_, n1) = nninit.shard_box(shape, 1, 2, r1)
                x = np.empty((n0, n1), np.float32)
                nninit.fill_shard_(x, "normal", global_shape=shape, offsets=(o0, o1), seed=11,
                                   key="layers.3.attn.weight")
                out[o0:o0 + n0, o1:o1 + n1] = x
        self.assertEqual(out.tobytes(), full.tobytes())

    def test_arbitrary_boxes(self):
        rng = random.Random(5)
        shape = (7, 6, 5, 4)
        full = self.full("trunc_normal", {"std": 0.5}, shape, lambda s: np.empty(s, np.float32))
        for _ in range(200):
            lo = [rng.randrange(n) for n in shape]
            hi = [rng.randrange(l + 1, n + 1) for l, n in zip(lo, shape)]
            x = np.empty([h - l for l, h in zip(lo, hi)], np.float32)
            nninit.fill_shard_(x, "trunc_normal", global_shape=shape, offsets=lo, seed=11,
                               key="layers.3.attn.weight", std=0.5, threads=rng.choice((0, 1, 2)))
            want = full[tuple(slice(l, h) for l, h in zip(lo, hi))]
            self.assertEqual(x.tobytes(), np.ascontiguousarray(want).tobytes())
        # the whole tensor as one box: orthogonal and sparse allowed there
        for scheme in ("orthogonal", "sparse"):
            kw = {"sparsity": 0.2} if scheme == "sparse" else {}
            whole = np.empty((8, 6), np.float32)
            nninit.fill_(whole, scheme, **kw)
            x = np.empty((8, 6), np.float32)
            nninit.fill_shard_(x, scheme, global_shape=(8, 6), offsets=(0, 0), **kw)
            self.assertEqual(x.tobytes(), whole.tobytes())

    def test_chunks_are_torch_chunk(self):
        for size in range(14):
            for world in range(1, 6):
                parts = torch.arange(size).chunk(world) if size else ()
                for rank in range(world):
                    b, e = nninit.chunk_range(size, world, rank)
                    got = list(range(b, e))
                    want = parts[rank].tolist() if rank < len(parts) else []
                    self.assertEqual(got, want, (size, world, rank))
                    self.assertLessEqual(b, size)
        self.assertEqual(nninit.shard_box((10, 4), -1, 3, 2), ((0, 4), (10, 0)))
        self.assertEqual(nninit.shard_box((10, 4), 0, 4, 3), ((9, 0), (1, 4)))
        # an empty shard is filled (with nothing) without error
        e = np.empty((10, 0), np.float32)
        nninit.fill_dtensor_shard_(e, "xavier_uniform", global_shape=(10, 4), dim=1, world_size=3, rank=2)

    def test_errors(self):
        x = np.empty((4, 5), np.float32)
        with self.assertRaisesRegex(ValueError, "fill_shard_: orthogonal: fills whole tensors only, not a box of 20 "
                                    "of its 40 elements"):
            nninit.fill_shard_(x, "orthogonal", global_shape=(8, 5), offsets=(0, 0))
        with self.assertRaisesRegex(ValueError, "fill_shard_: dim 0: the shard \\[6, 10\\) is not inside \\[0, 8\\)"):
            nninit.fill_shard_(x, "normal", global_shape=(8, 5), offsets=(6, 0))
        with self.assertRaisesRegex(ValueError, "dim 1: the shard \\[-1, 4\\) is not inside"):
            nninit.fill_shard_(x, "normal", global_shape=(8, 5), offsets=(0, -1))
        with self.assertRaisesRegex(ValueError, "must have as many dimensions"):
            nninit.fill_shard_(x, "normal", global_shape=(8, 5, 1), offsets=(0, 0, 0))
        with self.assertRaisesRegex(ValueError, "must have as many dimensions"):
            nninit.fill_shard_(x, "normal", global_shape=(8, 5), offsets=(0,))
        with self.assertRaisesRegex(TypeError, "offsets must be ints, not float"):
            nninit.fill_shard_(x, "normal", global_shape=(8, 5), offsets=(0.0, 0))
        with self.assertRaisesRegex(ValueError, "fill_shard_: kaiming_uniform: fan in and fan out can not be computed"):
            nninit.fill_shard_(np.empty(4, np.float32), "kaiming_uniform", global_shape=(8,), offsets=(0,))
        with self.assertRaisesRegex(ValueError, "rank 1 of 2 along dim 0 of \\(8, 5\\) holds shape \\(4, 5\\), not "
                                                "\\(3, 5\\)"):
            nninit.fill_dtensor_shard_(np.empty((3, 5), np.float32), "normal", global_shape=(8, 5), dim=0,
                                       world_size=2, rank=1)
        with self.assertRaisesRegex(ValueError, "chunk_range: rank 2 outside 0..1"):
            nninit.shard_box((8, 5), 0, 2, 2)
        with self.assertRaisesRegex(ValueError, "chunk_range: world_size 0 must be >= 1"):
            nninit.shard_box((8, 5), 0, 0, 0)
        with self.assertRaisesRegex(ValueError, "shard_box: dim 2 outside the 2 dimensions"):
            nninit.shard_box((8, 5), 2, 2, 0)
        with self.assertRaisesRegex(TypeError, "chunk_range: rank must be an int, not str"):
            nninit.chunk_range(8, 2, "0")
        with self.assertRaisesRegex(ValueError, "not C-contiguous"):
            nninit.fill_shard_(np.empty((5, 4), np.float32).T, "normal", global_shape=(8, 5), offsets=(0, 0))


if __name__ == "__main__":
    unittest.main(verbosity=1)

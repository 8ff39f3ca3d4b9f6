"""test_delta_orthogonal_jax.py -- `nninit fill delta_orthogonal` beside a NumPy
re-implementation of JAX's jax.nn.initializers.delta_orthogonal.

Run by ctest as `/usr/bin/python3 tests/test_delta_orthogonal_jax.py` with
NNINIT_CLI set to the built binary. JAX is not packaged for Debian, so its
algorithm (jax/_src/nn/initializers.py: orthogonal(scale, column_axis=-1) of
shape[-2:] written at index (k-1)//2 of every spatial dim of an HWIO kernel,
zeros elsewhere, ValueError unless 3-5-D with in <= out) is restated below in
NumPy. The bits cannot match (another generator); checked: the same zero
pattern, the same refusals, orthogonality of the centre tap, in every layout
and dtype, and the same distribution of the centre's entries (two-sample KS).
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from scipy import stats


def _cli_path():
    path = os.environ.get("NNINIT_CLI")
    if not path and os.environ.get("NNINIT_BUILD_DIR"):
        path = os.path.join(os.environ["NNINIT_BUILD_DIR"], "nninit")
    if not path or not os.path.exists(path):
        sys.exit("test_delta_orthogonal_jax.py: set NNINIT_CLI to the built nninit binary")
    return path


CLI = _cli_path()
ENV = {k: v for k, v in os.environ.items() if k != "NNINIT_THREADS"}


def run(*args):
    return subprocess.run([CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=120, env=ENV)


# ---- JAX's algorithm, in NumPy ---------------------------------------------

def jax_orthogonal(rng, shape, scale=1.0, column_axis=-1):
    """jax.nn.initializers.orthogonal(scale, column_axis)(key, shape)."""
    if len(shape) < 2:
        raise ValueError("orthogonal initializer requires at least a 2D shape")
    n_rows, n_cols = int(np.prod(shape)) // shape[column_axis], shape[column_axis]
    matrix_shape = (n_cols, n_rows) if n_rows < n_cols else (n_rows, n_cols)
    a = rng.standard_normal(matrix_shape)
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))  # needed for a uniform distribution
    if n_rows < n_cols:
        q = q.T
    q = np.reshape(q, tuple(np.delete(shape, column_axis)) + (shape[column_axis],))
    q = np.moveaxis(q, -1, column_axis)
    return scale * q


def jax_delta_orthogonal(rng, shape, scale=1.0, column_axis=-1):
    """jax.nn.initializers.delta_orthogonal(scale, column_axis)(key, shape), HWIO."""
    if len(shape) not in (3, 4, 5):
        raise ValueError("Delta orthogonal initializer requires a 3D, 4D or 5D shape.")
    if shape[-1] < shape[-2]:
        raise ValueError("`fan_in` must be less or equal than `fan_out`. ")
    ortho = jax_orthogonal(rng, tuple(shape[-2:]), scale, column_axis)
    w = np.zeros(shape)
    w[tuple((k - 1) // 2 for k in shape[:-2])] = ortho
    return w


# ---- nninit's output, as the HWIO kernel of the same layer -----------------

def bf16_to_f32(u16):
    return (u16.astype(np.uint32) << 16).view(np.float32)


# Where each layout keeps the channels: the permutation from its shape to HWIO.
def to_hwio(w, layout, nd, in_axis=None, out_axis=None):
    if layout == "oihw":
        i, o = 1, 0
    elif layout == "iohw":
        i, o = 0, 1
    elif layout == "hwio":
        i, o = nd - 2, nd - 1
    else:
        i, o = in_axis, out_axis
    spatial = [d for d in range(nd) if d not in (i, o)]
    return np.transpose(w, spatial + [i, o])


def from_hwio_shape(hwio, layout, in_axis=None, out_axis=None):
    """The shape in `layout` of the layer whose HWIO kernel has shape hwio."""
    k, cin, cout = list(hwio[:-2]), hwio[-2], hwio[-1]
    if layout == "oihw":
        return [cout, cin] + k
    if layout == "iohw":
        return [cin, cout] + k
    if layout == "hwio":
        return list(hwio)
    shape, ks = [], iter(k)
    for d in range(len(hwio)):
        shape.append(cin if d == in_axis else cout if d == out_axis else next(ks))
    return shape


class Case(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="nninit_delta_")

    def tearDown(self):
        self._tmp.cleanup()

    def fill(self, shape, *args, dtype="f64"):
        path = os.path.join(self._tmp.name, "x.npy")
        r = run("fill", "delta_orthogonal", "--shape", ",".join(map(str, shape)), "--dtype", dtype, *args,
                "-o", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        x = np.load(path)
        return (bf16_to_f32(x) if dtype == "bf16" else x).astype(np.float64)


TOL = {"f64": 1e-13, "f32": 1e-5, "f16": 4e-3, "bf16": 3e-2}

# HWIO kernels: odd, even and mixed spatial sizes; in < out and in == out.
KERNELS = [(3, 4, 6), (2, 4, 4), (3, 3, 5, 8), (2, 4, 3, 7), (4, 4, 6, 6), (3, 3, 3, 2, 5), (2, 5, 4, 4, 4)]
LAYOUTS = [("oihw", []), ("hwio", []), ("iohw", []), ("custom", ["--in-axis", "-1", "--out-axis", "0"])]


class TestStructure(Case):
    def test_zero_pattern_and_orthogonality(self):
        rng = np.random.default_rng(0)
        for hwio in KERNELS:
            ref = jax_delta_orthogonal(rng, hwio, scale=1.5)
            nd = len(hwio)
            ref_centre = ref[tuple((k - 1) // 2 for k in hwio[:-2])]  # (in, out)
            np.testing.assert_allclose(ref_centre @ ref_centre.T, 2.25 * np.eye(hwio[-2]), atol=1e-12)
            for layout, extra in LAYOUTS:
                in_axis, out_axis = (nd - 1, 0) if layout == "custom" else (None, None)
                shape = from_hwio_shape(hwio, layout, in_axis, out_axis)
                args = extra if layout == "custom" else ["--layout", layout]
                for dtype in ("f64", "f32", "f16", "bf16"):
                    with self.subTest(kernel=hwio, layout=layout, dtype=dtype):
                        w = to_hwio(self.fill(shape, *args, "--gain", "1.5", "--seed", "3", dtype=dtype), layout,
                                    nd, in_axis, out_axis)
                        self.assertEqual(w.shape, tuple(hwio))
                        # the same taps are zero as in JAX's kernel (a centre
                        # entry is zero with probability 0)
                        np.testing.assert_array_equal(w != 0, ref != 0)
                        c = w[tuple((k - 1) // 2 for k in hwio[:-2])]
                        # JAX's (in, out) centre has orthonormal rows, times scale
                        err = np.abs(c @ c.T / 2.25 - np.eye(hwio[-2])).max()
                        self.assertLess(err, TOL[dtype])

    def test_layouts_hold_the_same_layer(self):
        # One key, one layer: every layout stores the same centre matrix.
        hwio = (3, 3, 5, 8)
        base = None
        for layout, extra in LAYOUTS:
            in_axis, out_axis = (3, 0) if layout == "custom" else (None, None)
            shape = from_hwio_shape(hwio, layout, in_axis, out_axis)
            args = extra if layout == "custom" else ["--layout", layout]
            w = to_hwio(self.fill(shape, *args, "--key", "conv1.weight"), layout, 4, in_axis, out_axis)
            if base is None:
                base = w
            np.testing.assert_array_equal(w, base, layout)

    def test_centre_is_orthogonal_of_out_by_in(self):
        # The (out, in) centre matrix equals `nninit fill orthogonal` of shape (out, in), same seed and key.
        path = os.path.join(self._tmp.name, "q.npy")
        r = run("fill", "orthogonal", "--shape", "8,5", "--dtype", "f32", "--gain", "2", "--seed", "9", "-o", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        q = np.load(path)
        w = self.fill((8, 5, 3, 3), "--gain", "2", "--seed", "9", dtype="f32")
        np.testing.assert_array_equal(w[:, :, 1, 1], q.astype(np.float64))

    def test_entries_have_jax_distribution(self):
        # Centre entries of 40 kernels each: nninit against the NumPy JAX.
        # Deterministic seeds on both sides, so this cannot flake.
        hwio = (3, 6, 10)
        rng = np.random.default_rng(1)
        ref = np.concatenate([jax_delta_orthogonal(rng, hwio)[1].ravel() for _ in range(40)])
        ours = np.concatenate([self.fill((10, 6, 3), "--key-id", str(i))[:, :, 1].ravel() for i in range(40)])
        self.assertEqual(ours.size, ref.size)
        p = stats.ks_2samp(ours, ref).pvalue
        self.assertGreater(p, 1e-3)
        # the test can fail: U(-1, 1), of the same support, is told apart
        self.assertLess(stats.ks_2samp(ours, rng.uniform(-1, 1, ours.size)).pvalue, 1e-6)


class TestRefusals(Case):
    def test_same_refusals_as_jax(self):
        rng = np.random.default_rng(2)
        for hwio in [(4, 4), (1, 1, 1, 1, 2, 2), (3, 3, 6, 4), (3, 5, 4)]:
            with self.assertRaises(ValueError):
                jax_delta_orthogonal(rng, hwio)
            r = run("fill", "delta_orthogonal", "--shape", ",".join(map(str, hwio)), "--layout", "hwio", "-o",
                    os.path.join(self._tmp.name, "bad.npy"))
            self.assertEqual(r.returncode, 2, hwio)
            self.assertIn("delta_orthogonal:", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(self._tmp.name, "bad.npy")))
        r = run("fill", "delta_orthogonal", "--shape", "3,6,3,3", "-o", os.path.join(self._tmp.name, "bad.npy"))
        self.assertIn("in-channels (6, dim 1) must be <= out-channels (3, dim 0)", r.stderr)
        self.assertIn("NNINIT_ERR_SHAPE", r.stderr)
        r = run("fill", "delta_orthogonal", "--shape", "8,8", "-o", os.path.join(self._tmp.name, "bad.npy"))
        self.assertIn("only 3, 4 and 5-dimensional tensors are supported (ndim 2)", r.stderr)
        r = run("fill", "delta_orthogonal", "--shape", "8,4,3,3", "--groups", "2", "-o",
                os.path.join(self._tmp.name, "bad.npy"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("does not use groups", r.stderr)


class TestExplain(Case):
    def test_explain(self):
        r = run("explain", "delta_orthogonal", "--shape", "64,32,3,3", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        e = json.loads(r.stdout)
        self.assertEqual(e["distribution"], "structured")
        self.assertEqual((e["fan_in"], e["fan_out"]), (288, 576))
        self.assertIsNone(e["fan"])  # the gain sets the scale, not the fans
        self.assertEqual(e["gain"], 1)
        self.assertAlmostEqual(e["variance"], 32 / (64 * 32 * 9), delta=1e-18)
        self.assertEqual((e["lo"], e["hi"]), (-1, 1))
        self.assertEqual(e["jax"], "jax.nn.initializers.delta_orthogonal(scale=1.0)")
        self.assertIsNone(e["torch"])
        self.assertIsNone(e["keras"])
        text = run("explain", "delta_orthogonal", "--shape", "64,32,3,3").stdout
        self.assertRegex(text, r"fan +n/a")
        self.assertIn("(k-1)//2", text)


if __name__ == "__main__":
    unittest.main(verbosity=1)

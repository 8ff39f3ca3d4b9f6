#!/usr/bin/python3
"""test_presets_torch.py -- layer presets (include/nninit_presets.h) against
the modules of PyTorch 1.13 (Debian python3-torch) they reproduce.

Run by ctest as `/usr/bin/python3 tests/test_presets_torch.py`, with
libnninit.so from $NNINIT_BUILD_DIR, through ctypes.

For every torch.* preset, on several sizes each, against the freshly
constructed torch module of the same sizes:
  1. names and shapes: nninit_preset_params gives exactly
     module.named_parameters(), in order.
  2. resolved parameters: nninit_explain of each parameter's spec on its
     tensor gives the bound (uniform) or std (normal) that the module's
     reset_parameters computes, recomputed here with torch's own helpers
     (torch.nn.init._calculate_fan_in_and_fan_out, calculate_gain, math as in
     the source), to 1e-12 relative; fan_in / fan_out of every >= 2-D tensor
     equal torch's helper exactly (Embedding: nninit's EMBEDDING layout, fan_in
     1, fan_out dim; torch reads no fan there); constants (ones, zeros) exactly.
  3. values: nninit_param_fill output (keys 0, 1, ... concatenated until
     >= 20000 values) against the values of freshly constructed modules
     (torch.manual_seed 0, 1, ...), two-sample Kolmogorov-Smirnov, p > 1e-3
     (fixed seeds: the result never changes); constants equal exactly on both
     sides; Embedding's padding_idx row zero on both sides.
keras.* and flax.* are checked against their frameworks' formulas written
out here (Keras and Flax are not installed): Keras' VarianceScaling and
compute_fans in float64, Flax's lecun_normal in float32.
"""
import ctypes
import math
import os
import sys
import unittest

import numpy as np
import scipy.stats
import torch
import torch.nn as nn
import torch.nn.init as init

BUILD = os.environ.get("NNINIT_BUILD_DIR", "/work/main/build")
RTOL = 1e-12
KS_P = 1e-3
KS_N = 20000

NNINIT_F32, NNINIT_F64 = 0, 1
RES_CONSTANT, RES_UNIFORM, RES_NORMAL, RES_TRUNC = 0, 1, 2, 3
NO_PADDING_IDX = -(2**63)


class Tensor(ctypes.Structure):
    _fields_ = [("ndim", ctypes.c_int), ("shape", ctypes.c_int64 * 8), ("dtype", ctypes.c_int),
                ("layout", ctypes.c_int), ("in_axis", ctypes.c_int), ("out_axis", ctypes.c_int),
                ("groups", ctypes.c_int64), ("flags", ctypes.c_uint)]


class Spec(ctypes.Structure):
    _fields_ = [("scheme", ctypes.c_int), ("value", ctypes.c_double), ("a", ctypes.c_double),
                ("b", ctypes.c_double), ("mean", ctypes.c_double), ("std", ctypes.c_double),
                ("gain", ctypes.c_double), ("slope", ctypes.c_double), ("mode", ctypes.c_int),
                ("nonlinearity", ctypes.c_int), ("scale", ctypes.c_double), ("distribution", ctypes.c_int),
                ("sparsity", ctypes.c_double), ("groups", ctypes.c_int64)]


class Info(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("has_fans", ctypes.c_int)] + [
        (n, ctypes.c_double) for n in ("fan_in", "fan_out", "fan", "gain", "mean", "std", "bound", "lo", "hi",
                                       "variance")]


class Layer(ctypes.Structure):
    _fields_ = [("in_", ctypes.c_int64), ("out", ctypes.c_int64), ("kernel", ctypes.c_int64 * 3),
                ("groups", ctypes.c_int64), ("bias", ctypes.c_int), ("num_layers", ctypes.c_int),
                ("bidirectional", ctypes.c_int), ("proj_size", ctypes.c_int64), ("padding_idx", ctypes.c_int64),
                ("num_heads", ctypes.c_int64), ("add_bias_kv", ctypes.c_int), ("dtype", ctypes.c_int)]


class Param(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * 48), ("tensor", Tensor), ("spec", Spec), ("zero_row", ctypes.c_int64)]


class Key(ctypes.Structure):
    _fields_ = [("seed", ctypes.c_uint64), ("id", ctypes.c_uint64)]


lib = ctypes.CDLL(os.path.join(BUILD, "libnninit.so"))
lib.nninit_layer_default.restype = Layer
lib.nninit_preset_params.argtypes = [ctypes.c_char_p, ctypes.POINTER(Layer), ctypes.POINTER(Param), ctypes.c_int,
                                     ctypes.POINTER(ctypes.c_int)]
lib.nninit_param_fill.argtypes = [ctypes.POINTER(Param), Key, ctypes.c_void_p]
lib.nninit_explain.argtypes = [ctypes.POINTER(Spec), ctypes.POINTER(Tensor), ctypes.POINTER(Info)]
lib.nninit_fans.argtypes = [ctypes.POINTER(Tensor), ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double)]
lib.nninit_last_error.restype = ctypes.c_char_p
lib.nninit_preset_name.restype = ctypes.c_char_p


def layer(**kw):
    l = lib.nninit_layer_default()
    for k, v in kw.items():
        if k == "kernel":
            v = list(v) + [0] * (3 - len(v))
            l.kernel = (ctypes.c_int64 * 3)(*v)
        else:
            setattr(l, "in_" if k == "in" else k, v)
    return l


def preset_params(name, l):
    n = ctypes.c_int()
    st = lib.nninit_preset_params(name.encode(), ctypes.byref(l), None, 0, ctypes.byref(n))
    assert st == 0, lib.nninit_last_error()
    arr = (Param * max(n.value, 1))()
    st = lib.nninit_preset_params(name.encode(), ctypes.byref(l), arr, n.value, ctypes.byref(n))
    assert st == 0, lib.nninit_last_error()
    return list(arr[:n.value])


def explain(p):
    info = Info()
    st = lib.nninit_explain(ctypes.byref(p.spec), ctypes.byref(p.tensor), ctypes.byref(info))
    assert st == 0, lib.nninit_last_error()
    return info


def shape_of(p):
    return tuple(p.tensor.shape[i] for i in range(p.tensor.ndim))


def fill(p, key_id, dtype=np.float32):
    out = np.empty(shape_of(p), dtype=dtype)
    st = lib.nninit_param_fill(ctypes.byref(p), Key(1234, key_id), out.ctypes.data)
    assert st == 0, lib.nninit_last_error()
    return out


def close(a, b):
    return a == b or abs(a - b) <= RTOL * max(abs(a), abs(b))


def torch_linear_weight_bound(w):
    # linear.py:107 / conv.py:150, through init.py kaiming_uniform_'s arithmetic.
    fan_in, _ = init._calculate_fan_in_and_fan_out(w)
    gain = init.calculate_gain("leaky_relu", math.sqrt(5))
    std = gain / math.sqrt(fan_in)
    return math.sqrt(3.0) * std


def torch_rule(kind, module, name, w):
    """('uniform', bound) | ('normal', std) | ('const', value) as torch 1.13 computes it."""
    if kind in ("linear", "conv"):
        weight = module.weight
        if name == "weight":
            return ("uniform", torch_linear_weight_bound(weight))
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)  # linear.py:109, conv.py:152
        return ("uniform", 1 / math.sqrt(fan_in))
    if kind == "embedding":
        return ("normal", 1.0)  # sparse.py:151 init.normal_
    if kind == "rnn":
        return ("uniform", 1.0 / math.sqrt(module.hidden_size))  # rnn.py:199
    if kind == "norm":
        return ("const", 1.0 if name == "weight" else 0.0)
    if kind == "mha":
        if name == "in_proj_weight":  # init.py xavier_uniform_
            fi, fo = init._calculate_fan_in_and_fan_out(w)
            return ("uniform", math.sqrt(3.0) * (1.0 * math.sqrt(2.0 / float(fi + fo))))
        if name in ("bias_k", "bias_v"):  # init.py xavier_normal_
            fi, fo = init._calculate_fan_in_and_fan_out(w)
            return ("normal", 1.0 * math.sqrt(2.0 / float(fi + fo)))
        if name == "out_proj.weight":
            return ("uniform", torch_linear_weight_bound(w))
        return ("const", 0.0)
    raise AssertionError(kind)


# (preset, nninit layer fields, torch constructor, rule kind)
CASES = [
    ("torch.Linear", dict(**{"in": 7}, out=50), lambda: nn.Linear(7, 50), "linear"),
    ("torch.Linear", dict(**{"in": 300}, out=129), lambda: nn.Linear(300, 129), "linear"),
    ("torch.Linear", dict(**{"in": 1}, out=400, bias=0), lambda: nn.Linear(1, 400, bias=False), "linear"),
    ("torch.Conv1d", dict(**{"in": 6}, out=40, kernel=[5], groups=2), lambda: nn.Conv1d(6, 40, 5, groups=2), "conv"),
    ("torch.Conv2d", dict(**{"in": 3}, out=64, kernel=[7, 7]), lambda: nn.Conv2d(3, 64, 7), "conv"),
    ("torch.Conv2d", dict(**{"in": 32}, out=32, kernel=[3, 5], groups=32),
     lambda: nn.Conv2d(32, 32, (3, 5), groups=32), "conv"),
    ("torch.Conv3d", dict(**{"in": 4}, out=16, kernel=[3, 2, 3], groups=4),
     lambda: nn.Conv3d(4, 16, (3, 2, 3), groups=4), "conv"),
    ("torch.ConvTranspose1d", dict(**{"in": 12}, out=30, kernel=[4], groups=3),
     lambda: nn.ConvTranspose1d(12, 30, 4, groups=3), "conv"),
    ("torch.ConvTranspose2d", dict(**{"in": 16}, out=8, kernel=[4, 4]), lambda: nn.ConvTranspose2d(16, 8, 4), "conv"),
    ("torch.ConvTranspose2d", dict(**{"in": 8}, out=64, kernel=[3, 2], groups=4, bias=0),
     lambda: nn.ConvTranspose2d(8, 64, (3, 2), groups=4, bias=False), "conv"),
    ("torch.ConvTranspose3d", dict(**{"in": 6}, out=20, kernel=[2, 3, 2], groups=2),
     lambda: nn.ConvTranspose3d(6, 20, (2, 3, 2), groups=2), "conv"),
    ("torch.Embedding", dict(**{"in": 1000}, out=24), lambda: nn.Embedding(1000, 24), "embedding"),
    ("torch.Embedding", dict(**{"in": 300}, out=70, padding_idx=5),
     lambda: nn.Embedding(300, 70, padding_idx=5), "embedding"),
    ("torch.Embedding", dict(**{"in": 300}, out=70, padding_idx=-1),
     lambda: nn.Embedding(300, 70, padding_idx=-1), "embedding"),
    ("torch.RNN", dict(**{"in": 10}, out=20), lambda: nn.RNN(10, 20), "rnn"),
    ("torch.RNN", dict(**{"in": 5}, out=33, num_layers=2, bidirectional=1, bias=0),
     lambda: nn.RNN(5, 33, num_layers=2, bidirectional=True, bias=False), "rnn"),
    ("torch.LSTM", dict(**{"in": 16}, out=32, num_layers=2), lambda: nn.LSTM(16, 32, num_layers=2), "rnn"),
    ("torch.LSTM", dict(**{"in": 9}, out=40, num_layers=2, bidirectional=1, proj_size=7),
     lambda: nn.LSTM(9, 40, num_layers=2, bidirectional=True, proj_size=7), "rnn"),
    ("torch.GRU", dict(**{"in": 12}, out=50, bidirectional=1), lambda: nn.GRU(12, 50, bidirectional=True), "rnn"),
    ("torch.GRU", dict(**{"in": 3}, out=7, num_layers=3), lambda: nn.GRU(3, 7, num_layers=3), "rnn"),
    ("torch.LayerNorm", dict(out=64), lambda: nn.LayerNorm(64), "norm"),
    ("torch.LayerNorm", dict(out=5, bias=0), lambda: nn.LayerNorm(5, elementwise_affine=False), "norm"),
    ("torch.BatchNorm1d", dict(out=17), lambda: nn.BatchNorm1d(17), "norm"),
    ("torch.BatchNorm2d", dict(out=3), lambda: nn.BatchNorm2d(3), "norm"),
    ("torch.BatchNorm3d", dict(out=8, bias=0), lambda: nn.BatchNorm3d(8, affine=False), "norm"),
    ("torch.MultiheadAttention", dict(out=64, num_heads=8), lambda: nn.MultiheadAttention(64, 8), "mha"),
    ("torch.MultiheadAttention", dict(out=30, num_heads=3, add_bias_kv=1),
     lambda: nn.MultiheadAttention(30, 3, add_bias_kv=True), "mha"),
    ("torch.MultiheadAttention", dict(out=16, num_heads=4, bias=0),
     lambda: nn.MultiheadAttention(16, 4, bias=False), "mha"),
]


class TorchPresets(unittest.TestCase):
    def test_torch_presets(self):
        covered = set()
        for preset, kw, make, kind in CASES:
            covered.add(preset)
            with self.subTest(preset=preset, layer=kw):
                self.check_case(preset, kw, make, kind)
        listed = {lib.nninit_preset_name(i).decode() for i in range(lib.nninit_preset_count())}
        self.assertEqual({p for p in listed if p.startswith("torch.")}, covered)

    def check_case(self, preset, kw, make, kind):
        torch.manual_seed(0)
        module = make()
        ref = list(module.named_parameters())
        params = preset_params(preset, layer(**kw))
        # 1. names and shapes, in order
        self.assertEqual([p.name.decode() for p in params], [n for n, _ in ref])
        self.assertEqual([shape_of(p) for p in params], [tuple(w.shape) for _, w in ref])
        if not params:
            return
        # torch side: values of freshly constructed modules, seeds 0, 1, ...
        need = {n: max(1, -(-KS_N // w.numel())) for n, w in ref}
        tvals = {n: [] for n, _ in ref}
        for seed in range(max(need.values())):
            torch.manual_seed(seed)
            m = make()
            for n, w in m.named_parameters():
                if seed < need[n]:
                    tvals[n].append(w.detach().numpy().copy())
        for p, (name, w) in zip(params, ref):
            info = explain(p)
            # 2. fans and the resolved parameter
            if kind == "embedding":
                # torch reads no fan for nn.Embedding; nninit's EMBEDDING layout
                # says a lookup reads one row (fan_in 1, fan_out dim).
                self.assertEqual((info.fan_in, info.fan_out), (1.0, float(w.shape[1])), name)
            elif w.dim() >= 2:
                fi, fo = init._calculate_fan_in_and_fan_out(w)
                self.assertEqual((info.fan_in, info.fan_out), (float(fi), float(fo)), name)
            rule, v = torch_rule(kind, module, name, w)
            if rule == "uniform":
                self.assertEqual(info.kind, RES_UNIFORM, name)
                self.assertTrue(close(info.bound, v), (name, info.bound, v))
                self.assertTrue(close(info.hi, v) and close(info.lo, -v), name)
            elif rule == "normal":
                self.assertEqual(info.kind, RES_NORMAL, name)
                self.assertTrue(close(info.std, v) and info.mean == 0.0, (name, info.std, v))
            else:
                self.assertEqual(info.kind, RES_CONSTANT, name)
                self.assertEqual(info.lo, v, name)
            # 3. values
            ours = [fill(p, k) for k in range(need[name])]
            theirs = tvals[name]
            if rule == "const":
                for a in ours + theirs:
                    self.assertTrue(np.all(a == np.float32(v)), name)
                continue
            if p.zero_row >= 0:
                r = module.padding_idx
                self.assertEqual(p.zero_row, r)
                for a in ours + theirs:
                    self.assertTrue(np.all(a[r] == 0), name)
                ours = [np.delete(a, r, axis=0) for a in ours]
                theirs = [np.delete(a, r, axis=0) for a in theirs]
            x = np.concatenate([a.ravel() for a in ours])
            y = np.concatenate([a.ravel() for a in theirs])
            self.assertGreaterEqual(min(x.size, y.size), KS_N - 2 * w.shape[-1], name)
            if rule == "uniform":
                self.assertLessEqual(np.abs(x).max(), np.float32(v), name)
            pv = scipy.stats.ks_2samp(x, y).pvalue
            self.assertGreater(pv, KS_P, (preset, name, pv))


def keras_fans(shape):  # keras/src/initializers/random_initializers.py compute_fans
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    rf = 1
    for d in shape[:-2]:
        rf *= d
    return int(shape[-2] * rf), int(shape[-1] * rf)


class KerasFlaxFormulas(unittest.TestCase):
    CASES = [
        ("Dense", dict(**{"in": 784}, out=10)),
        ("Dense", dict(**{"in": 3}, out=1000, bias=0)),
        ("Conv1D", dict(**{"in": 8}, out=16, kernel=[5], groups=2)),
        ("Conv2D", dict(**{"in": 3}, out=64, kernel=[7, 7])),
        ("Conv3D", dict(**{"in": 6}, out=12, kernel=[3, 3, 2], groups=3)),
    ]

    def check_bias(self, params, kw):
        names = [p.name.decode() for p in params]
        self.assertEqual(names, ["kernel", "bias"] if kw.get("bias", 1) else ["kernel"])
        if len(params) == 2:
            self.assertEqual(shape_of(params[1]), (kw["out"],))
            self.assertTrue(np.all(fill(params[1], 0) == 0))

    def kernel_shape(self, kw):
        k = tuple(kw.get("kernel", []))
        return k + (kw["in"] // kw.get("groups", 1), kw["out"])

    def test_keras(self):
        for cls, kw in self.CASES:
            params = preset_params("keras." + cls, layer(**kw))
            shape = self.kernel_shape(kw)
            self.assertEqual(shape_of(params[0]), shape)
            fi, fo = keras_fans(shape)
            scale = 1.0
            scale /= max(1.0, (fi + fo) / 2.0)
            limit = math.sqrt(3.0 * scale)
            info = explain(params[0])
            self.assertEqual((info.kind, info.fan_in, info.fan_out), (RES_UNIFORM, fi, fo))
            self.assertEqual((info.lo, info.hi), (-limit, limit))
            self.check_bias(params, kw)

    def test_flax(self):
        for cls, kw in self.CASES:
            kw = dict(kw)
            name = "flax.Dense" if cls == "Dense" else "flax.Conv"
            for dtype in (NNINIT_F32, NNINIT_F64):
                kw["dtype"] = dtype
                params = preset_params(name, layer(**kw))
                shape = self.kernel_shape(kw)
                self.assertEqual(shape_of(params[0]), shape)
                fi = float(shape[-2] * (np.prod(shape) / shape[-2] / shape[-1]))  # jax _compute_fans
                ft = np.float32 if dtype == NNINIT_F32 else np.float64
                variance = ft(1.0 / fi)
                stddev = np.sqrt(variance) / ft(.87962566103423978)
                info = explain(params[0])
                self.assertEqual(info.kind, RES_TRUNC)
                self.assertEqual(info.std, float(stddev))
                self.assertEqual((info.lo, info.hi), (-2 * float(stddev), 2 * float(stddev)))
                if dtype == NNINIT_F32:
                    self.check_bias(params, kw)
                    x = np.concatenate([fill(params[0], k).ravel() for k in range(-(-KS_N // int(np.prod(shape))))])
                    pv = scipy.stats.kstest(x / float(stddev), scipy.stats.truncnorm(-2, 2).cdf).pvalue
                    self.assertGreater(pv, KS_P, (name, kw, pv))


if __name__ == "__main__":
    unittest.main(verbosity=2)

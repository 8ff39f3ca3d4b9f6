"""test_cli.py -- the nninit command-line tool, end to end.

Run by ctest as `/usr/bin/python3 tests/test_cli.py` with NNINIT_CLI set to the
built binary. Checks: every command's help, and `nninit help CMD`; the option
rules every command shares (opt.h); `schemes`; `explain` against hand-computed
fans and stds and the equivalent PyTorch/Keras/JAX calls; `fill` output read
back with NumPy (f32, f64, f16, bf16), reproducibility by (seed, key), the
default seed 0, --stats against NumPy; that every bad input exits 2 with a
message and writes nothing, and that failures of the environment exit 1;
the fill kernels (NNINIT_ARCH, shown by --version) and --threads /
NNINIT_THREADS never change a byte, and a bad NNINIT_ARCH exits 2.
"""
import json
import math
import os
import re
import stat
import subprocess
import sys
import tempfile
import unittest

import numpy as np


def _cli_path():
    path = os.environ.get("NNINIT_CLI")
    if not path and os.environ.get("NNINIT_BUILD_DIR"):
        path = os.path.join(os.environ["NNINIT_BUILD_DIR"], "nninit")
    if not path or not os.path.exists(path):
        sys.exit("test_cli.py: set NNINIT_CLI to the built nninit binary")
    return path


CLI = _cli_path()

SCHEMES = [
    "zeros", "ones", "constant", "uniform", "normal", "trunc_normal", "trunc_normal_std",
    "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "lecun_uniform",
    "lecun_normal", "variance_scaling", "orthogonal", "sparse", "eye", "dirac", "delta_orthogonal",
]

EXPLAIN_KEYS = [
    "scheme", "shape", "layout", "dtype", "fan_in", "fan_out", "fan", "gain", "std", "bound",
    "mean", "variance", "lo", "hi", "distribution", "torch", "keras", "jax",
]

# A shape each scheme accepts.
SHAPE_FOR = {"sparse": "10,20", "eye": "10,20", "dirac": "16,8,3,3", "delta_orthogonal": "16,8,3,3"}


# The caller's NNINIT_THREADS would change --json's "threads"; NNINIT_ARCH is
# kept, so that the whole file can run under any kernel path.
BASE_ENV = {k: v for k, v in os.environ.items() if k != "NNINIT_THREADS"}


def run(*args, env=None):
    e = dict(BASE_ENV, **(env or {}))
    return subprocess.run([CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120, env=e)


def strict_json(text):
    """json.loads that refuses NaN/Infinity, which are not JSON."""
    def no_constant(name):
        raise ValueError("non-JSON constant %s" % name)
    return json.loads(text, parse_constant=no_constant)


def bf16_to_f32(u16):
    return (u16.astype(np.uint32) << 16).view(np.float32)


class Case(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="nninit_cli_")
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def ok(self, *args):
        r = run(*args)
        self.assertEqual(r.returncode, 0, "nninit %s\nstderr: %s" % (" ".join(args), r.stderr))
        return r

    def explain(self, *args):
        return strict_json(self.ok("explain", *args, "--json").stdout)

    def fill(self, scheme, *args, out="out.npy"):
        path = self.path(out)
        self.ok("fill", scheme, *args, "-o", path)
        return np.load(path)


class TestHelp(Case):
    def test_help_every_command(self):
        for args in (["--help"], ["-h"], ["help"], ["schemes", "--help"], ["explain", "--help"],
                     ["fill", "--help"], ["help", "fill"], ["help", "explain"],
                     ["help", "schemes"], ["fill", "kaiming_normal", "--help"]):
            r = run(*args)
            self.assertEqual(r.returncode, 0, args)
            self.assertIn("usage: nninit", r.stdout, args)
            self.assertEqual(r.stderr, "", args)

    def test_fill_help_documents_default_key(self):
        self.assertIn('"tensor"', self.ok("fill", "--help").stdout)

    def test_fill_help_documents_default_seed(self):
        out = self.ok("fill", "--help").stdout
        self.assertIn("[--seed N]", out)
        self.assertIn("(default\n                        0)", out)

    def test_help_cmd_is_cmd_help(self):
        # `nninit help CMD` prints exactly what `nninit CMD --help` prints, for
        # every command, those of cmd_probe.c / cmd_train.c / cmd_lab.c too.
        for cmd in ("schemes", "explain", "fill", "probe", "train", "lab"):
            a, b = run("help", cmd), run(cmd, "--help")
            self.assertEqual((a.returncode, b.returncode), (0, 0), cmd)
            self.assertEqual(a.stdout, b.stdout, cmd)
            self.assertIn("usage: nninit %s" % cmd, a.stdout)
            self.assertEqual(a.stderr, "", cmd)
        self.assertEqual(run("help").stdout, run("--help").stdout)
        self.assertIn("nninit help COMMAND", run("help").stdout)

    def test_help_wins_anywhere_before_double_dash(self):
        for args in (["fill", "--bogus", "--help"], ["explain", "normal", "--shape", "-h"],
                     ["fill", "normal", "--json=1", "-h"], ["schemes", "x", "--help"]):
            r = run(*args)
            self.assertEqual(r.returncode, 0, args)
            self.assertIn("usage: nninit %s" % args[0], r.stdout)

    def test_version(self):
        r = self.ok("--version")
        self.assertRegex(r.stdout.strip(), r"^nninit \d+\.\d+\.\d+ \(fill kernels: (avx512bf16|avx512|avx2|scalar|portable)\) \(MPI: [^()]+\)$")

    def test_no_arguments_is_usage_error(self):
        r = run()
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr)

    def test_help_unknown_command(self):
        for args in (["help", "frobnicate"], ["help", "fill", "extra"]):
            r = run(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertTrue(r.stderr.startswith("nninit help: "), r.stderr)
            self.assertEqual(r.stdout, "")


class TestOptions(Case):
    """The rules of opt.h, seen through explain and fill."""

    def test_value_forms_and_double_dash(self):
        a = self.explain("kaiming_normal", "--shape", "64,3,7,7", "--a", "-0.5")
        b = strict_json(self.ok("explain", "--json", "--shape=64,3,7,7", "--a=-0.5", "--",
                                "kaiming_normal").stdout)
        self.assertEqual(a, b)
        self.assertEqual(a["fan_in"], 147)

    def test_short_alias(self):
        p, q = self.path("p.npy"), self.path("q.npy")
        self.ok("fill", "normal", "--shape", "8", "-o", p)
        self.ok("fill", "normal", "--shape", "8", "--output=" + q)
        with open(p, "rb") as fp, open(q, "rb") as fq:
            self.assertEqual(fp.read(), fq.read())

    def test_messages(self):
        cases = [
            (["explain", "normal", "--shape", "4", "--x=1"],
             "nninit explain: unknown option '--x' (see 'nninit help explain')\n"),
            (["explain", "normal", "--shape"], "nninit explain: option --shape needs a value\n"),
            (["schemes", "--json=yes"], "nninit schemes: option --json takes no value\n"),
            (["explain", "normal", "--shape", "4", "--shape=5"],
             "nninit explain: option --shape given twice\n"),
            (["fill", "normal", "--shape", "4", "-o", "a.npy", "--output", "b.npy"],
             "nninit fill: option --output given twice\n"),
            (["explain", "normal", "--", "--shape", "4"],
             "nninit explain: unexpected argument '--shape' (the scheme is 'normal')\n"),
        ]
        for args, err in cases:
            r = run(*args)
            self.assertEqual((r.returncode, r.stderr, r.stdout), (2, err, ""), args)


class TestSchemes(Case):
    def test_lists_every_scheme_with_formula(self):
        lines = self.ok("schemes").stdout.splitlines()
        self.assertEqual(len(lines), len(SCHEMES))
        for line, name in zip(lines, SCHEMES):
            self.assertEqual(line.split()[0], name)
            self.assertGreater(len(line.split(None, 1)[1]), 3)

    def test_json(self):
        data = strict_json(self.ok("schemes", "--json").stdout)
        self.assertEqual([d["name"] for d in data], SCHEMES)
        for d in data:
            self.assertTrue(d["formula"])
            self.assertIn(d["elementwise"], (True, False))
        by_name = {d["name"]: d for d in data}
        self.assertFalse(by_name["orthogonal"]["elementwise"])
        self.assertTrue(by_name["normal"]["elementwise"])


class TestExplain(Case):
    def test_kaiming_normal_relu_conv(self):
        e = self.explain("kaiming_normal", "--shape", "64,3,7,7", "--nonlinearity", "relu")
        for k in EXPLAIN_KEYS:
            self.assertIn(k, e)
        self.assertEqual(e["scheme"], "kaiming_normal")
        self.assertEqual(e["shape"], [64, 3, 7, 7])
        self.assertEqual(e["layout"], "oihw")
        self.assertEqual(e["dtype"], "f32")
        self.assertEqual(e["fan_in"], 147)
        self.assertEqual(e["fan_out"], 64 * 49)
        self.assertEqual(e["fan"], 147)
        self.assertAlmostEqual(e["gain"], math.sqrt(2), delta=1e-15)
        self.assertAlmostEqual(e["std"], math.sqrt(2 / 147), delta=1e-15)
        self.assertAlmostEqual(e["variance"], 2 / 147, delta=1e-15)
        self.assertEqual(e["mean"], 0)
        self.assertIsNone(e["bound"])
        self.assertIsNone(e["lo"])
        self.assertIsNone(e["hi"])
        self.assertEqual(e["distribution"], "normal")
        self.assertEqual(e["torch"],
                         "torch.nn.init.kaiming_normal_(w, a=0, mode='fan_in', nonlinearity='relu')")
        self.assertEqual(e["keras"], "keras.initializers.VarianceScaling(scale=2.0, mode='fan_in', "
                                     "distribution='untruncated_normal')")
        self.assertEqual(e["jax"], "jax.nn.initializers.variance_scaling(2.0, 'fan_in', 'normal')")

    def test_kaiming_uniform_default_linear_layer(self):
        # PyTorch's default a=0, leaky_relu: gain sqrt(2), bound sqrt(6/fan_in).
        e = self.explain("kaiming_uniform", "--shape", "256,784")
        bound = math.sqrt(6 / 784)
        self.assertEqual(e["distribution"], "uniform")
        self.assertAlmostEqual(e["bound"], bound, delta=1e-15)
        self.assertAlmostEqual(e["lo"], -bound, delta=1e-15)
        self.assertAlmostEqual(e["hi"], bound, delta=1e-15)
        self.assertAlmostEqual(e["variance"], bound * bound / 3, delta=1e-15)
        self.assertEqual(e["torch"], "torch.nn.init.kaiming_uniform_(w, a=0, mode='fan_in', "
                                     "nonlinearity='leaky_relu')")

    def test_xavier_uniform(self):
        e = self.explain("xavier_uniform", "--shape", "10,20")
        self.assertEqual((e["fan_in"], e["fan_out"], e["fan"]), (20, 10, 15))
        self.assertAlmostEqual(e["bound"], math.sqrt(6 / 30), delta=1e-15)
        self.assertEqual(e["torch"], "torch.nn.init.xavier_uniform_(w, gain=1.0)")
        self.assertEqual(e["keras"], "keras.initializers.VarianceScaling(scale=1.0, mode='fan_avg', "
                                     "distribution='uniform')")

    def test_lecun_normal_is_kaiming_linear(self):
        e = self.explain("lecun_normal", "--shape", "32,16,3,3")
        self.assertAlmostEqual(e["std"], 1 / math.sqrt(144), delta=1e-15)
        self.assertEqual(e["torch"], "torch.nn.init.kaiming_normal_(w, a=0, mode='fan_in', "
                                     "nonlinearity='linear')")
        self.assertEqual(e["jax"], "jax.nn.initializers.variance_scaling(1.0, 'fan_in', 'normal')")

    def test_variance_scaling_truncated(self):
        e = self.explain("variance_scaling", "--shape", "64,3,7,7")
        std = math.sqrt(1 / 147) / 0.87962566103423978
        self.assertEqual(e["distribution"], "trunc_normal")
        self.assertAlmostEqual(e["std"], std, delta=1e-15)
        self.assertAlmostEqual(e["lo"], -2 * std, delta=1e-15)
        self.assertAlmostEqual(e["hi"], 2 * std, delta=1e-15)
        # The truncated samples have the requested variance scale/fan.
        self.assertAlmostEqual(e["variance"], 1 / 147, delta=1e-12)
        self.assertEqual(e["keras"], "keras.initializers.VarianceScaling(scale=1.0, mode='fan_in', "
                                     "distribution='truncated_normal')")

    def test_keras_fans_hwio_same_as_oihw(self):
        oihw = self.explain("kaiming_normal", "--shape", "64,3,7,7")
        hwio = self.explain("kaiming_normal", "--shape", "7,7,3,64", "--layout", "hwio")
        for k in ("fan_in", "fan_out", "std", "keras", "jax", "torch"):
            self.assertEqual(oihw[k], hwio[k], k)

    def test_grouped_fan_out_falls_back_to_explicit_std(self):
        e = self.explain("kaiming_normal", "--shape", "64,8,3,3", "--groups", "4",
                         "--grouped-fan-out", "--mode", "fan_out")
        self.assertEqual(e["fan_out"], 64 * 9 / 4)
        # No framework divides fan_out by groups: the call names the std.
        self.assertTrue(e["torch"].startswith("torch.nn.init.normal_(w, mean=0.0, std="))

    def test_custom_axes(self):
        e = self.explain("variance_scaling", "--shape", "5,64,3,7", "--in-axis", "1",
                         "--out-axis", "-1", "--mode", "fan_avg", "--distribution", "uniform")
        self.assertEqual(e["layout"], "custom")
        self.assertEqual((e["fan_in"], e["fan_out"]), (64 * 15, 7 * 15))
        self.assertIn("in_axis=1, out_axis=3", e["jax"])

    def test_no_equivalents_are_null(self):
        e = self.explain("dirac", "--shape", "16,16,3,3")
        self.assertEqual(e["torch"], "torch.nn.init.dirac_(w, groups=1)")
        self.assertIsNone(e["keras"])
        self.assertIsNone(e["jax"])
        e = self.explain("sparse", "--shape", "10,20", "--sparsity", "0.5")
        self.assertIsNone(e["keras"])
        self.assertIsNone(e["jax"])
        e = self.explain("eye", "--shape", "3,5")
        self.assertEqual(e["torch"], "torch.nn.init.eye_(w)")
        self.assertIsNone(e["jax"])

    def test_structured_on_hwio_have_no_torch_call(self):
        # orthogonal works on shape[0] x rest whatever the layout; PyTorch's
        # weight of an HWIO conv is (out, in, kh, kw), a different matrix.
        e = self.explain("orthogonal", "--shape", "7,7,3,64", "--layout", "hwio")
        self.assertEqual((e["torch"], e["keras"], e["jax"]), (None, None, None))
        e = self.explain("orthogonal", "--shape", "64,3,7,7")
        self.assertEqual(e["torch"], "torch.nn.init.orthogonal_(w, gain=1.0)")
        self.assertEqual(e["keras"], "keras.initializers.Orthogonal(gain=1.0)")
        # sparse's zeros per column: not the same on the transposed weight
        e = self.explain("sparse", "--shape", "20,10", "--layout", "hwio")
        self.assertIsNone(e["torch"])

    def test_trunc_normal_location_not_mean_of_values(self):
        e = self.explain("trunc_normal", "--shape", "10", "--mean", "1", "--std", "2",
                         "--a", "-3", "--b", "5")
        self.assertEqual(e["torch"],
                         "torch.nn.init.trunc_normal_(w, mean=1.0, std=2.0, a=-3.0, b=5.0)")
        self.assertEqual(e["keras"], "keras.initializers.TruncatedNormal(mean=1.0, stddev=2.0)")
        self.assertIsNone(e["jax"])  # JAX's truncated_normal has no mean

    def test_one_dimensional_has_no_fans(self):
        e = self.explain("normal", "--shape", "100", "--mean", "0.5", "--std", "2")
        self.assertIsNone(e["fan_in"])
        self.assertIsNone(e["fan_out"])
        self.assertIsNone(e["fan"])
        self.assertEqual((e["mean"], e["std"], e["variance"]), (0.5, 2, 4))

    def test_every_scheme_prints_strict_json(self):
        for s in SCHEMES:
            e = self.explain(s, "--shape", SHAPE_FOR.get(s, "32,16,3,3"))
            self.assertEqual(e["scheme"], s)
            self.assertIn(e["distribution"],
                          ("constant", "uniform", "normal", "trunc_normal", "structured"))
            # delta_orthogonal is JAX's alone; PyTorch has every other scheme
            self.assertIsNotNone(e["jax" if s == "delta_orthogonal" else "torch"], s)

    def test_human_output(self):
        out = self.ok("explain", "kaiming_normal", "--shape", "64,3,7,7").stdout
        for word in ("fan_in", "fan_out", "gain", "std", "bound", "mean", "variance", "support",
                     "pytorch", "keras", "jax"):
            self.assertRegex(out, r"(?m)^%s\s" % word)
        self.assertIn("147", out)

    def test_option_equals_form(self):
        e = self.explain("kaiming_normal", "--shape=64,3,7,7", "--nonlinearity=relu")
        self.assertEqual(e["fan_in"], 147)


class TestFill(Case):
    def test_refuses_what_is_not_a_regular_file(self):
        # a FIFO, a symlink or a device at -o is refused, never replaced by a regular file
        fifo, target, link = self.path("fifo"), self.path("target"), self.path("link")
        os.mkfifo(fifo)
        with open(target, "w") as fh:
            fh.write("keep")
        os.symlink(target, link)
        for out in (fifo, link, "/dev/full"):
            r = run("fill", "normal", "--shape", "4,4", "--seed", "0", "-o", out)
            self.assertEqual(r.returncode, 1, (out, r.stderr))
            self.assertIn("is not a regular file", r.stderr)
        self.assertTrue(os.path.islink(link))
        with open(target) as fh:
            self.assertEqual(fh.read(), "keep")
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/full").st_mode))
        self.assertEqual(sorted(os.listdir(self.dir)), ["fifo", "link", "target"])  # no temporaries left

    def test_dtypes_read_back(self):
        f32 = self.fill("kaiming_normal", "--shape", "64,3,7,7", "--seed", "7", out="f32.npy")
        self.assertEqual((f32.shape, f32.dtype), ((64, 3, 7, 7), np.float32))
        f64 = self.fill("kaiming_normal", "--shape", "64,3,7,7", "--seed", "7", "--dtype", "f64",
                        out="f64.npy")
        self.assertEqual((f64.shape, f64.dtype), ((64, 3, 7, 7), np.float64))
        f16 = self.fill("kaiming_normal", "--shape", "64,3,7,7", "--seed", "7", "--dtype", "f16",
                        out="f16.npy")
        self.assertEqual((f16.shape, f16.dtype), ((64, 3, 7, 7), np.float16))
        raw = self.fill("kaiming_normal", "--shape", "64,3,7,7", "--seed", "7", "--dtype", "bf16",
                        out="bf16.npy")
        self.assertEqual((raw.shape, raw.dtype), ((64, 3, 7, 7), np.uint16))
        bf16 = bf16_to_f32(raw)
        # One stream, rounded once per dtype: the narrow fills are the f32 fill
        # to within their own precision.
        np.testing.assert_allclose(bf16, f32, rtol=2.0 ** -8, atol=0)
        np.testing.assert_allclose(f16.astype(np.float32), f32, rtol=2.0 ** -10, atol=2.0 ** -24)
        # The std is right for 9408 samples (its standard error is about 0.7%).
        std = math.sqrt(2 / 147)
        for a in (f32, f64, f16.astype(np.float64), bf16):
            self.assertAlmostEqual(float(np.std(a, dtype=np.float64)) / std, 1.0, delta=0.05)
            self.assertLess(abs(float(np.mean(a, dtype=np.float64))), 5 * std / math.sqrt(a.size))

    def test_uniform_bounds(self):
        a = self.fill("uniform", "--shape", "1000", "--seed", "1", "--a", "-0.5", "--b", "2")
        self.assertGreaterEqual(a.min(), -0.5)
        self.assertLessEqual(a.max(), 2)
        self.assertEqual(a.shape, (1000,))

    def test_same_seed_and_key_same_bytes(self):
        args = ("xavier_uniform", "--shape", "33,17", "--seed", "123", "--key", "layers.0.weight")
        self.ok("fill", *args, "-o", self.path("a.npy"))
        self.ok("fill", *args, "-o", self.path("b.npy"))
        with open(self.path("a.npy"), "rb") as fa, open(self.path("b.npy"), "rb") as fb:
            self.assertEqual(fa.read(), fb.read())

    def test_key_and_seed_change_values(self):
        base = ("normal", "--shape", "256")
        a = self.fill(*base, "--seed", "5", "--key", "a", out="a.npy")
        b = self.fill(*base, "--seed", "5", "--key", "b", out="b.npy")
        c = self.fill(*base, "--seed", "6", "--key", "a", out="c.npy")
        d = self.fill(*base, "--seed", "5", "--key-id", "1", out="d.npy")
        default = self.fill(*base, "--seed", "5", out="e.npy")
        named = self.fill(*base, "--seed", "5", "--key", "tensor", out="f.npy")
        self.assertFalse(np.array_equal(a, b))
        self.assertFalse(np.array_equal(a, c))
        self.assertFalse(np.array_equal(a, d))
        np.testing.assert_array_equal(default, named)  # the default key is "tensor"

    def test_default_seed_is_zero(self):
        # --seed is optional, 0 by default, and the seed used is printed.
        a, b = self.path("a.npy"), self.path("b.npy")
        human = self.ok("fill", "kaiming_normal", "--shape", "33,17", "-o", a).stdout
        self.assertIn(", seed 0, key 'tensor'", human)
        j = strict_json(self.ok("fill", "kaiming_normal", "--shape", "33,17", "--seed", "0", "-o", b,
                                "--json").stdout)
        self.assertEqual(j["seed"], 0)
        with open(a, "rb") as fa, open(b, "rb") as fb:
            self.assertEqual(fa.read(), fb.read())
        j = strict_json(self.ok("fill", "kaiming_normal", "--shape", "33,17", "-o", b,
                                "--json").stdout)
        self.assertEqual(j["seed"], 0)

    def test_fill_pieces_progress_and_times(self):
        # Past 2^22 elements fill works in pieces (for its progress bar); the
        # bits are those of one call: a tensor of 2^22 elements is one piece,
        # and element i of these schemes depends on i alone, not on the shape.
        one = 1 << 22
        for scheme, dt in (("normal", "f32"), ("uniform", "bf16"), ("trunc_normal", "f16")):
            small = self.fill(scheme, "--shape", str(one), "--dtype", dt, "--seed", "7", out="s.npy")
            mid = self.fill(scheme, "--shape", str(one + 4096), "--dtype", dt, "--seed", "7", out="m.npy")
            r = run("fill", scheme, "--shape", str(one + 4160), "--dtype", dt, "--seed", "7",
                    "--threads", "3", "-o", self.path("b.npy"), env={"NNINIT_FILL_PROGRESS_AFTER": "0"})
            self.assertEqual(r.returncode, 0, r.stderr)
            big = np.load(self.path("b.npy"))
            self.assertEqual(small.tobytes(), big[:one].tobytes(), scheme)
            self.assertEqual(mid.tobytes(), big[:one + 4096].tobytes(), scheme)
            # not a terminal: a line per quarter, ending at 100%
            self.assertRegex(r.stderr, r"nninit fill: filling: 100%, [0-9.]+ s\n$")
            self.assertIn("wrote ", r.stdout)
        out = self.ok("fill", "normal", "--shape", "1000", "-o", self.path("t.npy")).stdout
        self.assertRegex(out, r"(?m)^fill  [0-9.]+ s \([0-9]+ MB/s; \w+ kernels, threads: one per core\)$")
        self.assertRegex(out, r"(?m)^write [0-9.]+ s \([0-9]+ MB/s\)$")
        r = run("fill", "normal", "--shape", "1000", "-o", self.path("t.npy"))
        self.assertEqual(r.stderr, "")  # under a second: no progress at all
        j = strict_json(self.ok("fill", "normal", "--shape", "1000", "--threads", "2", "-o",
                                self.path("t.npy"), "--json").stdout)
        self.assertGreaterEqual(j["fill_s"], 0.0)
        self.assertGreaterEqual(j["write_s"], 0.0)
        self.assertEqual(j["threads"], 2)

    def test_seed_full_u64_range(self):
        top = str(2 ** 64 - 1)
        out = self.ok("fill", "normal", "--shape", "4", "--seed", top, "-o", self.path("t.npy")).stdout
        self.assertIn("seed %s," % top, out)
        j = strict_json(self.ok("fill", "normal", "--shape", "4", "--seed", top, "-o",
                                self.path("t.npy"), "--json").stdout)
        self.assertEqual(j["seed"], 2 ** 64 - 1)
        r = run("fill", "normal", "--shape", "4", "--seed", str(2 ** 64), "-o", self.path("u.npy"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("out of range", r.stderr)

    def test_stats_agree_with_numpy(self):
        for dtype in ("f32", "f64", "bf16", "f16"):
            path = self.path("s_%s.npy" % dtype)
            r = self.ok("fill", "kaiming_uniform", "--shape", "128,64", "--seed", "9", "--dtype",
                        dtype, "-o", path, "--stats", "--json")
            j = strict_json(r.stdout)
            a = np.load(path)
            v = bf16_to_f32(a) if dtype == "bf16" else a
            v = v.astype(np.float64)
            self.assertAlmostEqual(j["mean"], float(v.mean()), delta=1e-12)
            self.assertAlmostEqual(j["std"], float(v.std()), delta=1e-12)
            self.assertEqual(j["min"], float(v.min()))
            self.assertEqual(j["max"], float(v.max()))

    def test_json_keys(self):
        path = self.path("j.npy")
        j = strict_json(self.ok("fill", "normal", "--shape", "4,5", "--seed", "3", "--key", "w",
                                "-o", path, "--json").stdout)
        self.assertEqual(j["path"], path)
        self.assertEqual(j["scheme"], "normal")
        self.assertEqual(j["shape"], [4, 5])
        self.assertEqual(j["dtype"], "f32")
        self.assertEqual(j["seed"], 3)
        self.assertEqual(j["key"], "w")
        self.assertEqual(j["numel"], 20)
        self.assertEqual(j["threads"], 0)
        self.assertIn(j["arch"], ("avx512bf16", "avx512", "avx2", "scalar", "portable"))
        self.assertNotIn("mean", j)
        # FNV-1a 64 of "w"
        h = 0xcbf29ce484222325
        for byte in b"w":
            h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
        self.assertEqual(j["key_id"], h)

    def test_human_output_and_stats(self):
        path = self.path("h.npy")
        out = self.ok("fill", "ones", "--shape", "3,3", "--seed", "0", "-o", path,
                      "--stats").stdout
        self.assertIn(path, out)
        self.assertRegex(out, r"(?m)^mean\s+1$")
        self.assertRegex(out, r"(?m)^std\s+0$")

    def test_structured_schemes(self):
        q = self.fill("orthogonal", "--shape", "16,32", "--seed", "2", "--dtype", "f64")
        np.testing.assert_allclose(q @ q.T, np.eye(16), atol=1e-12)
        e = self.fill("eye", "--shape", "3,5", "--seed", "0", out="eye.npy")
        np.testing.assert_array_equal(e, np.eye(3, 5, dtype=np.float32))
        d = self.fill("dirac", "--shape", "4,4,3,3", "--seed", "0", out="dirac.npy")
        self.assertEqual(d.sum(), 4)
        self.assertTrue(np.all(d[np.arange(4), np.arange(4), 1, 1] == 1))

    def test_overwrites_existing_output(self):
        path = self.path("o.npy")
        with open(path, "wb") as f:
            f.write(b"old")
        self.ok("fill", "zeros", "--shape", "2", "--seed", "0", "-o", path)
        np.testing.assert_array_equal(np.load(path), np.zeros(2, np.float32))

    def test_unwritable_output_is_failure_1(self):
        path = self.path("no/such/dir/x.npy")
        r = run("fill", "zeros", "--shape", "2", "--seed", "0", "-o", path)
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.startswith("nninit fill: "))
        self.assertIn("x.npy", r.stderr)
        self.assertIn("NNINIT_ERR_IO", r.stderr)
        self.assertEqual(os.listdir(self.dir), [])

    def test_more_than_memory_is_bad_input_2(self):
        # 4 EiB of f32 (the library's own limit is 2^63 bytes): bad input, not
        # an allocation failure; nothing is allocated or written.
        for shape, n in (("1073741824,1073741824", 2 ** 60), ("1073741824,1073741823", 2 ** 60 - 2 ** 30),
                         ("4611686018427387903", 2 ** 62 - 1)):
            r = run("fill", "normal", "--shape", shape, "-o", self.path("big.npy"))
            self.assertEqual(r.returncode, 2, (shape, r.stderr))
            self.assertRegex(r.stderr, r"^nninit fill: needs %d bytes, more than this machine's "
                                       r"\d+ bytes of memory\n$" % (4 * n))
        # a bad parameter is still named first
        r = run("fill", "normal", "--shape", "1073741824,1073741823", "--std", "-1", "-o",
                self.path("big.npy"))
        self.assertEqual(r.returncode, 2)
        self.assertNotIn("bytes of memory", r.stderr)
        self.assertEqual(os.listdir(self.dir), [])


# Each case must exit 2, say why on stderr, and write nothing.
BAD_FILL = [
    ("zero dim", ["kaiming_normal", "--shape", "0,3"]),
    ("letters", ["kaiming_normal", "--shape", "a,b"]),
    ("nine dims", ["normal", "--shape", "1,1,1,1,1,1,1,1,1"]),
    ("empty shape", ["normal", "--shape", ""]),
    ("empty item", ["normal", "--shape", "3,,4"]),
    ("trailing comma", ["normal", "--shape", "3,"]),
    ("negative dim", ["normal", "--shape", "-3,4"]),
    ("huge dim", ["normal", "--shape", "99999999999999999999"]),
    ("numel overflow", ["normal", "--shape", "4294967296,4294967296,4"]),
    ("negative std", ["normal", "--shape", "10", "--std", "-1"]),
    ("nan std", ["normal", "--shape", "10", "--std", "nan"]),
    ("std trailing junk", ["normal", "--shape", "10", "--std", "1x"]),
    ("std empty", ["normal", "--shape", "10", "--std", ""]),
    ("a >= b", ["uniform", "--shape", "10", "--a", "1", "--b", "0"]),
    ("a == b", ["uniform", "--shape", "10", "--a", "1", "--b", "1"]),
    ("sparsity 1.5", ["sparse", "--shape", "10,10", "--sparsity", "1.5"]),
    ("unknown nonlinearity", ["kaiming_normal", "--shape", "4,4", "--nonlinearity", "swish"]),
    ("dirac 2-D", ["dirac", "--shape", "3,3"]),
    ("eye 3-D", ["eye", "--shape", "2,3,4"]),
    ("orthogonal 1-D", ["orthogonal", "--shape", "5"]),
    ("kaiming 1-D", ["kaiming_normal", "--shape", "5"]),
    ("dirac groups", ["dirac", "--shape", "6,3,3,3", "--groups", "4"]),
    ("groups 0", ["dirac", "--shape", "6,3,3,3", "--groups", "0"]),
    ("unknown scheme", ["frobnicate", "--shape", "4"]),
    ("missing scheme", ["--shape", "4"]),
    ("two schemes", ["normal", "uniform", "--shape", "4"]),
    ("unknown option", ["normal", "--shape", "4", "--bogus", "1"]),
    ("option for another scheme", ["uniform", "--shape", "4", "--std", "2"]),
    ("missing value", ["normal", "--shape", "4", "--std"]),
    ("unknown dtype", ["normal", "--shape", "4", "--dtype", "f8"]),
    ("unknown layout", ["kaiming_normal", "--shape", "4,4", "--layout", "nchw"]),
    ("unknown mode", ["kaiming_normal", "--shape", "4,4", "--mode", "fan"]),
    ("in-axis alone", ["kaiming_normal", "--shape", "4,4", "--in-axis", "1"]),
    ("axis out of range", ["kaiming_normal", "--shape", "4,4", "--in-axis", "1",
                           "--out-axis", "2"]),
    ("missing shape", ["normal"]),
    ("bad seed", ["normal", "--shape", "4", "--seed", "-1"]),
    ("seed junk", ["normal", "--shape", "4", "--seed", "12ab"]),
    ("key and key-id", ["normal", "--shape", "4", "--key", "a", "--key-id", "1"]),
    ("threads negative", ["normal", "--shape", "4", "--threads", "-1"]),
    ("threads junk", ["normal", "--shape", "4", "--threads", "2x"]),
    ("threads empty", ["normal", "--shape", "4", "--threads", ""]),
    ("threads above int", ["normal", "--shape", "4", "--threads", "4294967296"]),
]


def arch_of_version(r):
    m = re.search(r"\(fill kernels: ([a-z0-9]+)\)", r.stdout)
    return m.group(1) if m else None


class TestArchAndThreads(Case):
    """Kernel paths and threads change the speed, never a byte."""
    # (scheme, shape, options): large enough for several threads (> 2^17
    # elements) where the scheme is element-wise.
    CASES = [
        ("normal", "512,700", []),
        ("uniform", "700,300", ["--a", "-2", "--b", "3"]),
        ("trunc_normal", "400,400", ["--std", "0.02", "--a", "-0.04", "--b", "0.04"]),
        ("kaiming_uniform", "64,32,9,9", []),
        ("xavier_normal", "333,777", ["--dtype", "bf16"]),
        ("variance_scaling", "500,500", ["--distribution", "truncated_normal", "--dtype", "f16"]),
        ("lecun_normal", "300,500", ["--dtype", "f64"]),
        ("orthogonal", "64,100", []),
        ("sparse", "300,200", ["--sparsity", "0.25"]),
    ]

    def bytes_of(self, scheme, shape, opts, *extra, env=None, name="x.npy"):
        path = self.path(name)
        r = run("fill", scheme, "--shape", shape, "--seed", "9", *opts, *extra, "-o", path, "--json", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(path, "rb") as f:
            return f.read(), strict_json(r.stdout)

    def test_version_names_the_kernels(self):
        for arch in ("portable", "scalar"):
            r = run("--version", env={"NNINIT_ARCH": arch})
            self.assertEqual(r.returncode, 0, r.stderr)
            # scalar is the portable C on a CPU without FMA
            self.assertIn(arch_of_version(r), (arch, "portable"))
        r = run("--version", env={"NNINIT_ARCH": ""})  # empty: as unset
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(arch_of_version(r), ("avx512bf16", "avx512", "avx2", "scalar", "portable"))

    def test_bad_arch_exits_2(self):
        r = run("--version", env={"NNINIT_ARCH": "bogus"})
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        self.assertEqual(r.stderr, "nninit: NNINIT_ARCH=bogus: unknown kernel path (scalar, portable, avx2, "
                                   "avx512, avx512bf16)\n")
        out = self.path("x.npy")
        r = run("fill", "normal", "--shape", "4", "-o", out, env={"NNINIT_ARCH": "bogus"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("nninit fill: NNINIT_ARCH=bogus: unknown kernel path", r.stderr)
        self.assertIn("NNINIT_ERR_ARCH", r.stderr)
        self.assertEqual(os.listdir(self.dir), [])
        # a SIMD path the CPU lacks says which feature
        for arch in ("avx2", "avx512", "avx512bf16"):
            r = run("--version", env={"NNINIT_ARCH": arch})
            if r.returncode == 0:
                self.assertEqual(arch_of_version(r), arch)
            else:
                self.assertEqual(r.returncode, 2)
                self.assertRegex(r.stderr, r"^nninit: NNINIT_ARCH=%s: (this CPU lacks|the operating system|this "
                                           r"build has no)" % arch)

    def test_every_arch_same_bytes(self):
        default = {}
        for scheme, shape, opts in self.CASES:
            default[scheme], j = self.bytes_of(scheme, shape, opts)
        for arch in ("portable", "scalar", "avx2", "avx512", "avx512bf16"):
            if run("--version", env={"NNINIT_ARCH": arch}).returncode != 0:
                continue  # this CPU lacks it (test_bad_arch_exits_2)
            for scheme, shape, opts in self.CASES:
                with self.subTest(arch=arch, scheme=scheme):
                    data, j = self.bytes_of(scheme, shape, opts, env={"NNINIT_ARCH": arch})
                    self.assertEqual(data, default[scheme])
                    self.assertIn(j["arch"], (arch, "portable"))

    def test_threads_same_bytes(self):
        for scheme, shape, opts in self.CASES:
            one, j = self.bytes_of(scheme, shape, opts, "--threads", "1")
            self.assertEqual(j["threads"], 1)
            for n in ("3", "0", "2", "16"):
                with self.subTest(scheme=scheme, threads=n):
                    data, j = self.bytes_of(scheme, shape, opts, "--threads", n)
                    self.assertEqual(data, one)
                    self.assertEqual(j["threads"], int(n))

    def test_nninit_threads_env(self):
        scheme, shape, opts = self.CASES[0]
        one, _ = self.bytes_of(scheme, shape, opts, "--threads", "1")
        data, j = self.bytes_of(scheme, shape, opts, env={"NNINIT_THREADS": "3"})
        self.assertEqual((data, j["threads"]), (one, 3))
        data, j = self.bytes_of(scheme, shape, opts, "--threads", "2", env={"NNINIT_THREADS": "3"})
        self.assertEqual((data, j["threads"]), (one, 2))  # --threads wins
        data, j = self.bytes_of(scheme, shape, opts, env={"NNINIT_THREADS": ""})  # empty: as unset
        self.assertEqual((data, j["threads"]), (one, 0))
        # a bad NNINIT_THREADS is bad input, unless --threads overrides it
        out = self.path("bad.npy")
        for bad in ("-2", "many", "1.5"):
            r = run("fill", "normal", "--shape", "4", "-o", out, env={"NNINIT_THREADS": bad})
            self.assertEqual(r.returncode, 2, bad)
            self.assertTrue(r.stderr.startswith("nninit fill: NNINIT_THREADS: "), r.stderr)
            self.assertFalse(os.path.exists(out))
        self.ok("fill", "normal", "--shape", "4", "-o", out, "--threads", "1")

    def test_fill_help_documents_threads_and_arch(self):
        out = self.ok("fill", "--help").stdout
        for word in ("--threads N", "NNINIT_THREADS", "NNINIT_ARCH"):
            self.assertIn(word, out)


class TestBadInput(Case):
    def check_usage_error(self, args, out=None):
        r = run(*args)
        self.assertEqual(r.returncode, 2, "%s\nstdout: %s\nstderr: %s" % (args, r.stdout, r.stderr))
        m = re.match(r"nninit( [a-z]+)?: ", r.stderr)
        self.assertTrue(m, "%s: stderr %r" % (args, r.stderr))
        if args and args[0] in ("schemes", "explain", "fill"):
            self.assertEqual(m.group(1), " " + args[0], r.stderr)
        self.assertGreater(len(r.stderr.strip()), m.end() + 5)
        self.assertEqual(r.stdout, "", args)
        if out is not None:
            self.assertFalse(os.path.exists(out), args)
        self.assertEqual([n for n in os.listdir(self.dir) if n != "keep.npy"], [], args)

    def test_fill_bad_inputs(self):
        for name, args in BAD_FILL:
            with self.subTest(name):
                out = self.path("out.npy")
                extra = [] if "--seed" in args else ["--seed", "1"]
                self.check_usage_error(["fill", *args, *extra, "-o", out], out)

    def test_explain_bad_inputs(self):
        for name, args in BAD_FILL:
            if "--seed" in args or "--key" in args:
                continue  # fill-only options
            with self.subTest(name):
                self.check_usage_error(["explain", *args])

    def test_groups_a_scheme_ignores(self):
        # --groups changes fans and dirac only; anywhere else it would be silently ignored
        for cmd in (["explain", "normal", "--shape", "4,4"], ["fill", "uniform", "--shape", "4,4", "--seed", "0",
                                                              "-o", self.path("g.npy")]):
            r = run(*cmd, "--groups", "2")
            self.assertEqual(r.returncode, 2, (cmd, r.stderr))
            self.assertIn("does not use groups", r.stderr)
        self.assertFalse(os.path.exists(self.path("g.npy")))
        self.ok("explain", "kaiming_normal", "--shape", "8,4,3,3", "--groups", "2")
        self.ok("explain", "dirac", "--shape", "4,2,3,3", "--groups", "2")
        self.ok("explain", "normal", "--shape", "4,4", "--groups", "1")

    def test_fill_missing_output(self):
        # -o is required; --seed is not (test_default_seed_is_zero).
        self.check_usage_error(["fill", "normal", "--shape", "4", "--seed", "1"])
        self.check_usage_error(["fill", "normal", "--shape", "4"])
        self.check_usage_error(["fill", "normal", "--shape", "4", "--seed", "1", "-o"])
        self.check_usage_error(["fill", "normal", "--shape", "4", "--seed", "-o", self.path("x.npy")],
                               self.path("x.npy"))

    def test_exit_status_map(self):
        # One map for every command (common.h cli_exit_status): a request the
        # library refuses is 2, an environment that fails is 1.
        r = run("fill", "kaiming_normal", "--shape", "4,4", "--nonlinearity", "swish", "-o",
                self.path("x.npy"))
        self.assertEqual(r.returncode, 2, r.stderr)
        r = run("explain", "dirac", "--shape", "3,3")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("NNINIT_ERR_", r.stderr)
        r = run("fill", "zeros", "--shape", "2", "-o", self.path("missing/dir/x.npy"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(os.listdir(self.dir), [])

    def test_unwritable_stdout_is_failure_1(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        for args in (["explain", "normal", "--shape", "4"], ["explain", "normal", "--shape", "4", "--json"],
                     ["schemes", "--json"], ["help", "fill"], ["--version"]):
            with open("/dev/full", "w") as full:
                r = subprocess.run([CLI, *args], stdout=full, stderr=subprocess.PIPE,
                                   universal_newlines=True, timeout=120)
            self.assertEqual(r.returncode, 1, (args, r.stderr))
            self.assertIn("No space left on device", r.stderr)

    def test_failure_keeps_existing_file(self):
        keep = self.path("keep.npy")
        with open(keep, "wb") as f:
            f.write(b"precious")
        r = run("fill", "normal", "--shape", "4", "--std", "-1", "--seed", "1", "-o", keep)
        self.assertEqual(r.returncode, 2)
        with open(keep, "rb") as f:
            self.assertEqual(f.read(), b"precious")

    def test_unknown_command_and_options(self):
        self.check_usage_error(["frobnicate"])
        self.check_usage_error(["schemes", "--bogus"])
        self.check_usage_error(["explain", "normal", "--shape", "4", "--seed", "1"])
        self.check_usage_error(["help", "frobnicate"])
        self.check_usage_error(["fill", "normal", "--shape", "4", "--seed", "1", "--json=1",
                                "-o", self.path("x.npy")], self.path("x.npy"))


if __name__ == "__main__":
    unittest.main(verbosity=2)

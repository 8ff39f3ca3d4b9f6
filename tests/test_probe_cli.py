"""nninit probe from the command line: JSON, the HTML report, and bad input."""
import json
import os
import subprocess
import tempfile
import unittest

CLI = os.environ.get("NNINIT_CLI", os.path.join(os.path.dirname(__file__), "..", "build", "nninit"))


def run(*args):
    return subprocess.run([CLI, "probe", *args], capture_output=True, text=True, timeout=300)


class ProbeCli(unittest.TestCase):
    def test_json_keys_and_findings(self):
        r = run("--arch", "64 -> [dense 32 tanh] x4 -> dense 10", "--init", "normal(std=1)", "--json",
                "--batch", "64", "--steps", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        rep = json.loads(r.stdout)
        self.assertEqual(len(rep["layers"]), 5)
        for key in ("pre_std", "post_std", "q_meas", "q_pred", "saturated", "dead", "grad_std", "wgrad_std",
                    "update_ratio", "distinct_units_init", "distinct_units_after", "corr_meas", "corr_pred",
                    "hist", "grad_hist"):
            self.assertIn(key, rep["layers"][0])
        kinds = [f["kind"] for f in rep["findings"]]
        self.assertIn("saturated", kinds)
        self.assertTrue(rep["mean_field"]["applies"])
        self.assertAlmostEqual(sum(rep["layers"][1]["hist"]), 1.0, places=3)

    def test_zero_init_is_symmetric(self):
        r = run("--arch", "32 -> [dense 16 relu] x2 -> dense 10", "--init", "zeros", "--json", "--batch", "32")
        self.assertEqual(r.returncode, 0, r.stderr)
        rep = json.loads(r.stdout)
        self.assertEqual(rep["findings"][0]["kind"], "symmetric")
        self.assertEqual(rep["layers"][0]["distinct_units_after"], 1)

    def test_table_and_html(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "probe.html")
            r = run("--arch", "784 -> [dense 64 relu] x3 -> dense 10", "--init", "kaiming_normal(nonlinearity=relu)",
                    "--html", out, "--batch", "64")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("layer", r.stdout)
            self.assertIn("healthy", r.stdout)
            self.assertIn("checked per layer", r.stdout)
            with open(out) as fh:
                html = fh.read()
            self.assertTrue(html.startswith("<!DOCTYPE html>"))
            self.assertIn("<svg", html)
            self.assertIn('class="series"', html)
            self.assertNotIn("http", html.replace("http://www.w3.org", ""))  # self-contained
            self.assertEqual(os.listdir(d), ["probe.html"])  # no temporary left

    def test_lsuv(self):
        r = run("--arch", "64 -> [dense 64 tanh] x4 -> dense 10", "--lsuv", "--json", "--batch", "128")
        self.assertEqual(r.returncode, 0, r.stderr)
        rep = json.loads(r.stdout)
        for layer in rep["layers"]:
            self.assertLess(abs(layer["lsuv_var"] - 1), 0.05)

    def test_arch_json(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"input": [16], "layers": [{"type": "dense", "units": 8, "act": "tanh", "repeat": 2},
                                                 {"type": "dense", "units": 4}]}, f)
        try:
            r = run("--arch-json", f.name, "--json", "--batch", "8")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(json.loads(r.stdout)["layers"]), 3)
        finally:
            os.unlink(f.name)

    def test_bad_input(self):
        for args, needle in [
            (["--arch", "784 -> dens 10"], "at 8"),
            (["--arch", "784 -> [dense 10 tanh] x -> dense 10"], "at"),
            (["--arch", "784 -> dense 10", "--init", "nosuch"], "init"),
            (["--arch", "784 -> dense 10", "--batch", "1"], "batch"),
            (["--arch", "784 -> dense 10", "--corr", "2"], "corr"),
            (["--arch", "784 -> dense 10", "--bogus", "1"], "unknown option"),
            (["--arch", "784 -> dense 10", "--threads", "0"], "threads"),
            (["--arch", "784 -> dense 10", "--hist-axes", "both"], "hist-axes"),
            ([], "--arch"),
        ]:
            r = run(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(needle, r.stderr, args)
        # --arch-json: a file that never ends is bad input after 16 MiB, not 4 GB of memory;
        # a missing file is an I/O failure with its errno
        r = run("--arch-json", "/dev/zero")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("larger than 16 MiB", r.stderr)
        r = run("--arch-json", "/nonexistent.json")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("No such file or directory", r.stderr)
        r = run("--arch", "784 -> dense 10", "--input", "fashion", "--data", "/nonexistent")
        self.assertEqual(r.returncode, 1)
        self.assertIn("/nonexistent", r.stderr)

    def test_table_fits_100_columns(self):
        # the reproduction: the default table fits 100 columns and has a legend;
        # --wide has every column; a missing fixed point reads as words
        r = run("--arch", "784 -> [dense 256 leaky_relu(0.5)] x3 -> dense 10", "--init", "normal(std=1)")
        self.assertEqual(r.returncode, 0, r.stderr)
        for line in r.stdout.splitlines():
            self.assertLessEqual(len(line), 100, line)
        for word in ("columns:", "q pred", "g pred", "distinct", "c pred", "stuck%"):
            self.assertIn(word, r.stdout)
        self.assertIn("leaky_relu(0.5)", r.stdout)
        self.assertIn("no fixed point: q grows without bound", r.stdout)
        self.assertNotIn("nan", r.stdout)
        self.assertIn("loss:", r.stdout)
        self.assertNotIn("healthy", r.stdout)
        w = run("--arch", "784 -> [dense 256 leaky_relu(0.5)] x3 -> dense 10", "--init", "normal(std=1)", "--wide")
        self.assertEqual(w.returncode, 0, w.stderr)
        self.assertIn("dW/W", w.stdout)
        self.assertIn("post std", w.stdout)
        self.assertGreater(max(len(x) for x in w.stdout.splitlines()), 100)

    def test_table_tiny_numbers(self):
        # values down to 1e-130: three-digit exponents still fit 7 characters
        r = run("--arch", "64 -> [dense 64 tanh] x60 -> dense 10", "--init", "normal(std=0.01)", "--batch", "32",
                "--steps", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        table = r.stdout.split("\n\n")[0]
        self.assertIn("e-1", table)  # e-1xx exponents are present
        for line in r.stdout.splitlines():
            self.assertLessEqual(len(line), 100, line)
        self.assertNotIn("inf", table)
        self.assertNotIn("10e", table)

    def test_not_applicable_says_why(self):
        r = run("--arch", "1x12x12 -> conv 4 3x3 p1 relu -> flatten -> dense 10", "--batch", "16")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("mean field: not predicted for conv nets", r.stdout)
        r = run("--arch", "32 -> dense 16 relu -> [res dense relu he-zero] x2 -> dense 10", "--batch", "16")
        self.assertIn("not predicted for residual nets", r.stdout)

    def test_findings_json_basis(self):
        r = run("--arch", "784 -> [dense 256 selu] x30 -> dense 10", "--init", "kaiming_normal", "--json",
                "--batch", "64", "--steps", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        rep = json.loads(r.stdout)
        self.assertTrue(rep["mean_field"]["q_unbounded"])
        self.assertAlmostEqual(rep["mean_field"]["q_growth"], 1.104, places=2)
        bases = {f["basis"] for f in rep["findings"]}
        self.assertLessEqual(bases, {"measured", "mean field"})
        self.assertNotIn("healthy", [f["kind"] for f in rep["findings"]])
        for key in ("act_rate", "act_factor", "grad_rate", "grad_factor", "loss_ref", "dead_max", "corr_last"):
            self.assertIn(key, rep)

    def test_progress_on_stderr(self):
        env = dict(os.environ, NNINIT_PROBE_PROGRESS_AFTER="0")
        r = subprocess.run([CLI, "probe", "--arch", "64 -> [dense 32 tanh] x2 -> dense 10", "--batch", "16",
                            "--steps", "2"], capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("nninit probe: sgd", r.stderr)
        q = run("--arch", "64 -> [dense 32 tanh] x2 -> dense 10", "--batch", "16")
        self.assertEqual(q.stderr, "")  # a quick probe prints nothing there

    def test_init_text_is_checked_on_the_real_net(self):
        # --init is parsed as text and filled on the network itself: dirac fits a conv net
        r = run("--arch", "1x8x8 -> conv 4 3x3 p1 relu -> [conv 4 3x3 p1 relu] x2 -> flatten -> dense 10 "
                "init=xavier_normal", "--init", "dirac", "--batch", "16", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        # and an error points into the text the user wrote (column 8: 'stdd')
        r = run("--arch", "784 -> dense 10", "--init", "normal(stdd=1)")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--init: scheme: at 8:", r.stderr)
        r = run("--arch", "784 -> [dense 20 relu] x2 -> dense 10", "--init", "dirac")
        self.assertEqual(r.returncode, 2)
        self.assertIn("layers.0.weight: dirac", r.stderr)

    def test_html_path_checked_before_the_run(self):
        with tempfile.TemporaryDirectory() as d:
            fifo = os.path.join(d, "fifo")
            os.mkfifo(fifo)
            r = run("--arch", "16 -> dense 4", "--html", fifo)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("is not a regular file", r.stderr)
            self.assertEqual(r.stdout, "")  # refused before probing
            self.assertEqual(os.listdir(d), ["fifo"])
        r = run("--arch", "16 -> dense 4", "--html", "/nonexistent-dir/p.html")
        self.assertEqual(r.returncode, 1)
        self.assertIn("No such file or directory", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_arch_errors_exit_status(self):
        # the one status -> exit map: an unreadable file is 1 with the errno text, bad text 2
        r = run("--arch-json", "/nonexistent/arch.json")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot read '/nonexistent/arch.json': No such file or directory", r.stderr)
        r = run("--arch", "784 -> [dense x relu] -> dense 10")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("arch: at 15", r.stderr)
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "arch.json")
            with open(bad, "w") as f:
                f.write("{not json")
            r = run("--arch-json", bad)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(r.stdout, "")

    def test_seed_is_printed(self):
        args = ["--arch", "16 -> [dense 8 tanh] x2 -> dense 4", "--batch", "8", "--steps", "0"]
        r = run(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("seed 0, batch 8: loss at init", r.stdout)  # the default, printed
        r = run(*args, "--seed", "18446744073709551615")
        self.assertIn("seed 18446744073709551615, batch 8:", r.stdout)
        rep = json.loads(run(*args, "--json").stdout)
        self.assertEqual(rep["seed"], 0)
        r = run(*args, "--json", "--seed", "18446744073709551615")
        self.assertIn('"seed":\t18446744073709551615,', r.stdout)  # every digit, no trip through double
        self.assertEqual(json.loads(r.stdout)["seed"], 18446744073709551615)

    def test_json_numbers_read_back(self):
        # numbers in the fewest digits that read back as the same double; the float --lr as a float
        r = run("--arch", "16 -> [dense 8 tanh] x2 -> dense 4", "--batch", "8", "--lr", "0.1", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"lr":\t0.1,', r.stdout)
        rep = json.loads(r.stdout)
        self.assertEqual(rep["lr"], 0.1)
        self.assertTrue(r.stdout.endswith("}\n"))
        for key in ("loss", "loss_ref"):
            self.assertIsInstance(rep[key], float)

    def test_opt_equals_value(self):
        # opt.h: --opt=value is --opt value; the value may itself hold '=' and spaces
        a = run("--arch=16 -> [dense 8 tanh] x2 -> dense 4", "--batch=8", "--seed=5", "--init=normal(std=0.5)",
                "--corr=0.25", "--json")
        b = run("--arch", "16 -> [dense 8 tanh] x2 -> dense 4", "--batch", "8", "--seed", "5", "--init",
                "normal(std=0.5)", "--corr", "0.25", "--json")
        self.assertEqual(a.returncode, 0, a.stderr)
        ja, jb = json.loads(a.stdout), json.loads(b.stdout)
        self.assertEqual(ja["seed"], 5)
        self.assertEqual(ja["pair_corr"], 0.25)
        self.assertEqual([y["pre_std"] for y in ja["layers"]], [y["pre_std"] for y in jb["layers"]])
        for args, needle in ((["--batch=1"], "--batch '1'"), (["--json=1"], "takes no value"),
                             (["--seed=1", "--seed", "2"], "given twice"), (["--batch"], "needs a value"),
                             (["stray"], "unexpected argument 'stray'")):
            r = run("--arch", "16 -> dense 4", *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(needle, r.stderr, args)

    def test_help(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--arch", r.stdout)
        self.assertIn("--matmul KIND", r.stdout)

    def test_matmul(self):
        # the reference product keeps a constant init's units bit-identical (the probe
        # counts distinct units within 1e-6, so this holds, to that tolerance, under BLAS
        # on many CPUs too: it is the reference that must never fail it)
        arch = "24 -> [dense 13 tanh] x2 -> dense 10"
        args = ["--arch", arch, "--init", "constant(value=0.1)", "--json", "--batch", "16", "--steps", "3"]
        r = run(*args, "--matmul", "reference")
        self.assertEqual(r.returncode, 0, r.stderr)
        ref = json.loads(r.stdout)
        self.assertEqual(ref["matmul"], "reference")
        for layer in ref["layers"][:-1]:
            self.assertEqual((layer["distinct_units_init"], layer["distinct_units_after"]), (1, 1))
        blas = json.loads(run(*args).stdout)
        self.assertEqual(blas["matmul"], "blas")
        self.assertAlmostEqual(ref["loss"], blas["loss"], places=5)  # the same net, rounded differently
        self.assertEqual(json.loads(run(*args, "--matmul=blas").stdout)["matmul"], "blas")
        for bad in ("BLAS", "ref", "", "openblas"):
            r = run("--arch", arch, "--matmul", bad)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertIn("--matmul '%s': expected blas or reference" % bad, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

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

    def test_help(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--arch", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)

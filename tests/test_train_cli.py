"""nninit train from the command line: curves, reproducibility, divergence, bad input.

Needs Debian's dataset-fashion-mnist (installed by scripts/install-deps.sh)."""
import json
import math
import os
import subprocess
import tempfile
import unittest

CLI = os.environ.get("NNINIT_CLI", os.path.join(os.path.dirname(__file__), "..", "build", "nninit"))
SMALL = ["--arch", "784 -> [dense 64 relu] x2 -> dense 10", "--subset", "1000", "--test-subset", "500",
         "--batch", "100", "--threads", "1"]


COLUMNS = ["epoch", "step", "train loss", "test loss", "test acc", "seconds"]
DIVERGE = [*SMALL, "--epochs", "3", "--lr", "1e6", "--momentum", "0.9"]
EXPLODE = [*SMALL, "--init", "normal(std=30)", "--lr", "1e-4", "--evals-per-epoch", "2"]  # losses ~1e7


def run(*args):
    return subprocess.run([CLI, "train", *args], capture_output=True, text=True, timeout=600)


def table(stdout):
    """The rows of the text table, as lists of cells, after checking that every cell
    ends where its column's header ends (right-aligned, nothing shifted)."""
    lines = stdout.rstrip("\n").split("\n")
    head = lines[0]
    ends = [head.index(c) + len(c) for c in COLUMNS]
    rows = []
    for line in lines[1:]:
        assert len(line) == len(head), (line, head)
        cells = line.split()
        assert len(cells) == len(COLUMNS), line
        pos, got = 0, []
        for c in cells:
            pos = line.index(c, pos) + len(c)
            got.append(pos)
        assert got == ends, (line, head)
        rows.append(cells)
    return rows


class TrainCli(unittest.TestCase):
    def test_json_curve(self):
        r = run(*SMALL, "--epochs", "2", "--lr", "0.05", "--momentum", "0.9", "--json", "--quiet", "--seed", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        rep = json.loads(r.stdout)
        self.assertEqual(rep["steps"], 20)
        self.assertEqual(rep["n_train"], 1000)
        self.assertEqual(rep["n_test"], 500)
        self.assertFalse(rep["diverged"])
        self.assertIsNone(rep["diverged_step"])
        self.assertIsNone(rep["exploding"])                 # losses near ln 10
        self.assertEqual([p["step"] for p in rep["points"]], [0, 10, 20])
        self.assertEqual([p["epoch"] for p in rep["points"]], [0, 1, 2])
        self.assertGreater(rep["final_test_acc"], 0.6)      # it learns
        self.assertLess(rep["points"][0]["test_acc"], 0.3)  # from chance
        self.assertLess(rep["points"][-1]["train_loss"], rep["points"][0]["train_loss"])
        self.assertGreater(rep["examples_per_s"], 0)
        self.assertEqual(r.stderr, "")                      # --quiet

    def test_same_seed_same_curve(self):
        args = [*SMALL, "--epochs", "1", "--evals-per-epoch", "2", "--json", "--quiet", "--optim", "adam",
                "--lr", "0.001", "--schedule", "cosine"]
        a = json.loads(run(*args, "--seed", "5").stdout)
        b = json.loads(run(*args, "--seed", "5").stdout)
        c = json.loads(run(*args, "--seed", "6").stdout)
        key = lambda rep: [(p["train_loss"], p["test_loss"], p["test_acc"]) for p in rep["points"]]
        self.assertEqual(key(a), key(b))
        self.assertNotEqual(key(a), key(c))

    def test_progress_and_table(self):
        r = run(*SMALL, "--epochs", "1", "--init", "kaiming_normal(nonlinearity=relu)", "--weight-decay", "1e-4",
                "--momentum", "0.9", "--nesterov")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("training on 1000 examples, testing on 500", r.stderr)
        self.assertIn("epoch   1.00", r.stderr)
        self.assertIn("test acc", r.stderr)
        self.assertIn("train loss", r.stdout)
        self.assertEqual(len(r.stdout.strip().splitlines()), 3)  # header, init, epoch 1

    def test_diverges(self):
        r = run(*SMALL, "--epochs", "3", "--lr", "1e6", "--momentum", "0.9")
        self.assertEqual(r.returncode, 1)
        self.assertIn("diverged at step", r.stderr)
        r = run(*SMALL, "--epochs", "3", "--lr", "1e6", "--json", "--quiet")
        self.assertEqual(r.returncode, 1)
        rep = json.loads(r.stdout)
        self.assertTrue(rep["diverged"])
        self.assertGreaterEqual(rep["diverged_step"], 1)
        self.assertIn("diverged at step", rep["error"])

    def test_diverged_table(self):
        r = run(*DIVERGE, "--quiet")
        self.assertEqual(r.returncode, 1, r.stderr)
        k = json.loads(run(*DIVERGE, "--quiet", "--json").stdout)["diverged_step"]
        self.assertIn("diverged at step %d" % k, r.stderr)
        rows = table(r.stdout)
        self.assertEqual(rows[0][1], "0")                   # the loss at init is kept
        self.assertAlmostEqual(float(rows[0][2]), 2.3, delta=0.3)
        self.assertEqual(rows[-1][1], str(k))               # ends at the diverged step
        self.assertIn(rows[-1][2], ("nan", "inf"))
        self.assertEqual(rows[-1][3:5], ["-", "-"])
        self.assertEqual([int(row[1]) for row in rows], sorted(int(row[1]) for row in rows))

    def test_exploding(self):
        r = run(*EXPLODE, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)         # warned, not stopped
        self.assertIn("exploding: loss ", r.stderr)
        self.assertIn("at step 0 (> 100 x ln 10 = 230.3", r.stderr)
        self.assertIn("scale the weights down", r.stderr)
        rows = table(r.stdout)
        self.assertEqual([row[1] for row in rows], ["0", "5", "10"])
        self.assertGreater(float(rows[0][2]), 1e6)
        rep = json.loads(run(*EXPLODE, "--quiet", "--json").stdout)
        x = rep["exploding"]
        self.assertEqual(x["step"], 0)
        self.assertAlmostEqual(x["threshold"], 100 * math.log(10), places=3)
        self.assertAlmostEqual(x["loss"], rep["points"][0]["train_loss"], delta=1e-5 * x["loss"])
        self.assertGreaterEqual(x["max_loss"], x["loss"])
        self.assertFalse(rep["diverged"])
        # huge during training, then NaN: both reported, the exploding step first
        rep = json.loads(run(*DIVERGE, "--quiet", "--json").stdout)
        if rep["exploding"] is not None:
            self.assertLess(rep["exploding"]["step"], rep["diverged_step"])

    def test_table_aligned(self):
        for args in (EXPLODE, DIVERGE, [*SMALL, "--no-eval"], [*SMALL, "--evals-per-epoch", "3"]):
            r = run(*args, "--quiet")
            self.assertIn(r.returncode, (0, 1), r.stderr)
            rows = table(r.stdout)
            self.assertGreaterEqual(len(rows), 2, args)

    def test_full_seed_range_and_subnormal_eps(self):
        # every command takes the whole u64 seed range; 1e-320 is a positive number
        r = run("--arch", "784 -> dense 10", "--optim", "adam", "--eps", "1e-320", "--max-steps", "1",
                "--subset", "200", "--test-subset", "100", "--batch", "100", "--seed", "18446744073709551615",
                "--json", "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["seed"], 18446744073709551615)
        r = run("--arch", "784 -> dense 10", "--subset", "60001")  # more than Fashion-MNIST has
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("more than the 60000 there are", r.stderr)
        for bad in (["--seed", "-1"], ["--seed", "18446744073709551616"], ["--eps", "1e-400"]):
            r = run("--arch", "784 -> dense 10", *bad)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))

    def test_bad_usage(self):
        for args in ([], ["--arch", "784 -> dense 10", "--optim", "rmsprop"],
                     ["--arch", "100 -> dense 10"], ["--arch", "784 -> dense 10", "--batch", "0"],
                     ["--arch", "784 -> dense 10", "--momentum", "1"], ["--arch", "784 -> dense 10", "--bogus", "1"],
                     ["--arch", "784 -> dense 10", "--nesterov"], ["--arch", "784 -> dense 10", "--init", "nope"],
                     ["--arch", "784 -> dense 10", "--subset", "50", "--batch", "100"],
                     ["--arch", "784 -> dense"]):
            r = run(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertTrue(r.stderr.startswith("nninit train: "), (args, r.stderr))
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--momentum", r.stdout)

    def test_matmul(self):
        args = [*SMALL, "--max-steps", "3", "--evals-per-epoch", "0", "--json", "--quiet"]
        r = run(*args, "--matmul", "reference")
        self.assertEqual(r.returncode, 0, r.stderr)
        ref = json.loads(r.stdout)
        self.assertEqual((ref["matmul"], ref["steps"]), ("reference", 3))
        key = lambda rep: [(p["step"], p["train_loss"], p["test_loss"], p["test_acc"]) for p in rep["points"]]
        self.assertEqual(key(json.loads(run(*args, "--matmul", "reference").stdout)), key(ref))
        blas = json.loads(run(*args).stdout)
        self.assertEqual(blas["matmul"], "blas")
        # the same net and data: the loss at init agrees to float rounding
        self.assertAlmostEqual(ref["points"][0]["train_loss"], blas["points"][0]["train_loss"], places=4)
        for bad in ("reference2", "Reference", ""):
            r = run("--arch", "784 -> dense 10", "--matmul", bad)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertIn("--matmul '%s': expected blas or reference" % bad, r.stderr)
        self.assertIn("--matmul KIND", run("--help").stdout)

    def test_arch_errors_exit_status(self):
        # one map from status to exit (tools/util/common.h): an unreadable --arch-json is an
        # I/O failure (1) with its errno text; a bad architecture is bad input (2)
        r = run("--arch-json", "/nonexistent/arch.json")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot read '/nonexistent/arch.json': No such file or directory", r.stderr)
        r = run("--arch", "784 -> [dense x relu] -> dense 10")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("arch: at 15", r.stderr)
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "arch.json")
            with open(bad, "w") as f:
                f.write('{"input": [784], "layers": [{"dense": "ten"}]}')
            r = run("--arch-json", bad)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertTrue(r.stderr.startswith("nninit train: "), r.stderr)

    def test_seed_is_printed(self):
        # the seed used, default 0, in the human output and in --json
        args = ["--arch", "784 -> dense 10", "--subset", "200", "--test-subset", "100", "--batch", "100",
                "--max-steps", "1"]
        r = run(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("; seed 0\n", r.stderr)
        r = run(*args, "--seed", "7")
        self.assertIn("; seed 7\n", r.stderr)
        r = run(*args, "--json", "--quiet")
        self.assertEqual(json.loads(r.stdout)["seed"], 0)
        r = run(*args, "--json", "--quiet", "--seed", "9007199254740993")  # 2^53 + 1: printed exactly
        self.assertIn('"seed":\t9007199254740993,', r.stdout)
        self.assertEqual(json.loads(r.stdout)["seed"], 9007199254740993)

    def test_opt_equals_value(self):
        # opt.h: --opt=value is --opt value, and the range checks and messages are the same
        base = ["--arch=784 -> dense 10", "--subset=200", "--test-subset=100", "--batch=100", "--max-steps=1",
                "--json", "--quiet"]
        a = run(*base, "--seed=3", "--lr=0.05", "--momentum=0.5")
        b = run("--arch", "784 -> dense 10", "--subset", "200", "--test-subset", "100", "--batch", "100",
                "--max-steps", "1", "--json", "--quiet", "--seed", "3", "--lr", "0.05", "--momentum", "0.5")
        self.assertEqual(a.returncode, 0, a.stderr)
        ja, jb = json.loads(a.stdout), json.loads(b.stdout)
        self.assertEqual((ja["seed"], ja["lr"], ja["momentum"], ja["batch"]), (3, 0.05, 0.5, 100))
        self.assertEqual(ja["points"][-1]["train_loss"], jb["points"][-1]["train_loss"])
        for args, needle in ((["--batch=0"], "--batch '0': expected an integer in 1..65536"),
                             (["--momentum=1"], "'1': expected a number in [0, 1)"),
                             (["--quiet=yes"], "takes no value"), (["--lr=0.1", "--lr", "0.2"], "given twice")):
            r = run("--arch", "784 -> dense 10", *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(needle, r.stderr, args)

    def test_missing_data_is_io_failure(self):
        r = run("--arch", "784 -> dense 10", "--data", "/nonexistent")
        self.assertEqual(r.returncode, 1)
        self.assertIn("/nonexistent", r.stderr)


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""nninit checkpoint writes any size in bounded memory.

Two Llama-shaped bf16 checkpoints, 0.23 GB and 1.14 GB (five times the
data), are written to the build directory (a disk) by the CLI; the peak
resident set of each run (wait4's ru_maxrss) must be under 400 MB and must
not grow with the model: the large one within 32 MB of the small one. The
writer holds two 64 MiB chunks whatever the model (src/model/write.c), so
the 13.5 GB Llama-2-7B checkpoint of bench/bench_checkpoint.sh stays as low
(its peak is recorded there). Each file is then checked to be the size its
header says and is removed.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest


def _cli():
    path = os.environ.get("NNINIT_CLI")
    if not path and os.environ.get("NNINIT_BUILD_DIR"):
        path = os.path.join(os.environ["NNINIT_BUILD_DIR"], "nninit")
    if not path or not os.path.exists(path):
        sys.exit("set NNINIT_CLI or NNINIT_BUILD_DIR to the build")
    return path


CLI = _cli()
WHERE = os.environ.get("NNINIT_BUILD_DIR", tempfile.gettempdir())
SMALL = ["dim=1024", "n_layers=4", "ffn_dim=2816", "n_heads=8", "n_kv_heads=8", "dtype=bf16"]
LARGE = ["dim=1024", "n_layers=40", "ffn_dim=2816", "n_heads=8", "n_kv_heads=8", "dtype=bf16"]


def peak_rss_and_size(settings, path):
    args = [CLI, "checkpoint", "--recipe", "llama-hf", "-o", path]
    for s in settings:
        args += ["--set", s]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    err = p.stderr.read().decode()
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise AssertionError("checkpoint failed (%d): %s" % (p.returncode, err))
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    data = max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
    size = os.path.getsize(path)
    os.unlink(path)
    return ru.ru_maxrss * 1024, size, 8 + n + data


class Memory(unittest.TestCase):
    def test_bounded(self):
        with tempfile.TemporaryDirectory(dir=WHERE) as d:
            small, ssize, swant = peak_rss_and_size(SMALL, os.path.join(d, "small.safetensors"))
            large, lsize, lwant = peak_rss_and_size(LARGE, os.path.join(d, "large.safetensors"))
        print("peak RSS: %.1f MB for %.2f GB, %.1f MB for %.2f GB"
              % (small / 1e6, ssize / 1e9, large / 1e6, lsize / 1e9))
        self.assertEqual(ssize, swant)
        self.assertEqual(lsize, lwant)
        self.assertGreater(lsize, 4.5 * ssize)
        self.assertGreater(lsize, 1e9)
        self.assertLess(small, 400e6)
        self.assertLess(large, 400e6)
        self.assertLess(large - small, 32e6)


if __name__ == "__main__":
    unittest.main(verbosity=2)

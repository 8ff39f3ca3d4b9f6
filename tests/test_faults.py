"""Faults: a writer killed with SIGKILL mid-write.

Every temporary the CLI and the library's npy writer create is named
".<base>.nninit-tmp.<pid>.<6 random>" next to its target (tools/util/common.h);
the next write to the same target removes those whose writer is dead. The lab's
report directory is staged the same way and swapped in whole (lab/lab.h), so a
killed run leaves the previous report exactly as it was.

The lab part needs Debian's dataset-fashion-mnist (as the other lab tests)."""
import hashlib
import os
import re
import signal
import struct
import subprocess
import tempfile
import time
import unittest

CLI = os.environ.get("NNINIT_CLI", os.path.join(os.path.dirname(__file__), "..", "build", "nninit"))


def temps(d, base):
    """{name: pid} of the temporaries of target base in directory d."""
    pat = re.compile(r"^\." + re.escape(base) + r"\.nninit-tmp\.(\d+)\.[A-Za-z0-9]{6}$")
    out = {}
    for name in os.listdir(d):
        m = pat.match(name)
        if m:
            out[name] = int(m.group(1))
    return out


def kill_when(proc, cond, timeout=120.0, settle=0.0):
    """SIGKILL proc as soon as cond() holds (after settle seconds more), reap it;
    True if it was killed, False if it ended first."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            return False
        if cond():
            if settle:
                time.sleep(settle)
            proc.send_signal(signal.SIGKILL)
            proc.wait()  # reaped: a zombie would still answer kill(pid, 0)
            return proc.returncode == -signal.SIGKILL
        time.sleep(0.001)
    proc.kill()
    proc.wait()
    raise AssertionError("timed out waiting for the writer")


def npy_shape_and_size(path):
    with open(path, "rb") as f:
        head = f.read(10)
        assert head[:6] == b"\x93NUMPY", head
        hlen = struct.unpack("<H", head[8:10])[0]
        header = f.read(hlen).decode("ascii")
    m = re.search(r"'shape': \(([^)]*)\)", header)
    shape = tuple(int(x) for x in m.group(1).split(",") if x.strip())
    return shape, 10 + hlen, os.path.getsize(path)


def tree_hashes(d):
    out = {}
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


class FillKilled(unittest.TestCase):
    def test_sigkill_leaves_a_temp_the_next_fill_removes(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "w.npy")
            big = [CLI, "fill", "normal", "--shape", "8192,8192", "--seed", "0", "-o", out]
            for attempt in range(5):  # the write takes about a second; a fast disk may beat the poll
                p = subprocess.Popen(big, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if kill_when(p, lambda: temps(d, "w.npy")):
                    break
                os.remove(out)
            else:
                self.skipTest("the fill always finished before its temporary was seen")
            left = temps(d, "w.npy")
            self.assertEqual(list(left.values()), [p.pid], left)  # the pattern, with the killed writer's pid
            self.assertFalse(os.path.exists(out))                  # never a partial w.npy

            r = subprocess.run([CLI, "fill", "normal", "--shape", "4,4", "--seed", "0", "-o", out],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(temps(d, "w.npy"), {})                # removed by the next write
            self.assertEqual(os.listdir(d), ["w.npy"])
            shape, data_at, size = npy_shape_and_size(out)
            self.assertEqual(shape, (4, 4))
            self.assertEqual(size, data_at + 16 * 4)                # complete

    def test_live_writers_temp_is_kept(self):
        with tempfile.TemporaryDirectory() as d:
            live = os.path.join(d, ".w.npy.nninit-tmp.%d.abc123" % os.getpid())  # ours: alive
            other = os.path.join(d, ".v.npy.nninit-tmp.999999999.abc123")          # another target
            for f in (live, other):
                open(f, "w").close()
            r = subprocess.run([CLI, "fill", "zeros", "--shape", "2", "-o", os.path.join(d, "w.npy")],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(os.path.exists(live))
            self.assertTrue(os.path.exists(other))


class LabKilled(unittest.TestCase):
    def run_lab(self, out, *names):
        return subprocess.run([CLI, "lab", "--tiny", *names, "--out", out], capture_output=True, text=True,
                              timeout=900)

    def test_report_survives_a_killed_run_and_the_next_cleans_up(self):
        with tempfile.TemporaryDirectory() as d:
            rep = os.path.join(d, "report")
            r = self.run_lab(rep, "zero-init")
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            before = tree_hashes(rep)
            self.assertIn(".nninit-report", before)
            self.assertIn("results.json", before)

            # run 2: every experiment (seconds); killed while it trains
            p = subprocess.Popen([CLI, "lab", "--tiny", "--out", rep], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            killed = kill_when(p, lambda: temps(d, "report"), settle=0.5)
            self.assertTrue(killed, "the lab run ended before it was killed")
            self.assertEqual(tree_hashes(rep), before)  # the old report, exactly
            stray = temps(d, "report")
            self.assertEqual(list(stray.values()), [p.pid], stray)
            self.assertTrue(os.path.isdir(os.path.join(d, list(stray)[0])))

            # run 3 removes the stray staging directory and replaces the report
            r = self.run_lab(rep, "zero-init", "--seed", "4")
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            self.assertEqual(temps(d, "report"), {})
            self.assertEqual(sorted(os.listdir(d)), ["report"])
            after = tree_hashes(rep)
            self.assertEqual(sorted(after), sorted(before))
            self.assertNotEqual(after["results.json"], before["results.json"])  # seed 4 now

    def test_foreign_directory_is_refused_untouched(self):
        with tempfile.TemporaryDirectory() as d:
            foreign = os.path.join(d, "photos")
            os.mkdir(foreign)
            with open(os.path.join(foreign, "cat.jpg"), "w") as f:
                f.write("not a report")
            before = tree_hashes(foreign)
            r = self.run_lab(foreign, "zero-init")
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("not an nninit lab report", r.stderr)
            self.assertNotIn("[1/1]", r.stderr)  # refused before any experiment ran
            self.assertEqual(tree_hashes(foreign), before)
            self.assertEqual(sorted(os.listdir(d)), ["photos"])  # no staging directory made

            link = os.path.join(d, "link")
            os.symlink("photos", link)
            r = self.run_lab(link, "zero-init")
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("symlink", r.stderr)
            self.assertEqual(tree_hashes(foreign), before)


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/python3
"""The README's lab table is what scripts/lab_readme_table.py makes of the
kept results (docs/lab-results/), and the script builds it from a real run.

The first test fails when someone edits the table by hand or updates the kept
results without regenerating it; the second runs `nninit lab --tiny` on one
experiment and checks that the script puts that run's checks and verdicts in
a table (it refuses a run of the wrong scale).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SRC = os.environ.get("NNINIT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), ".."))
CLI = os.environ.get("NNINIT_CLI", os.path.join(SRC, "build", "nninit"))
SCRIPT = os.path.join(SRC, "scripts", "lab_readme_table.py")
KEPT = os.path.join(SRC, "docs", "lab-results")


class LabTable(unittest.TestCase):
    def test_readme_matches_kept_results(self):
        files = [os.path.join(KEPT, "quick.json")]
        if os.path.exists(os.path.join(KEPT, "full.json")):
            files.append(os.path.join(KEPT, "full.json"))
        r = subprocess.run([sys.executable, SCRIPT, *files, "--readme", os.path.join(SRC, "README.md"), "--check"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, "README.md's lab table differs from what scripts/lab_readme_table.py "
                         "makes of docs/lab-results/: regenerate it " + r.stderr)

    def test_table_from_a_run(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "r")
            r = subprocess.run([CLI, "lab", "--tiny", "zero-init", "--out", out], capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            res = os.path.join(out, "results.json")
            readme = os.path.join(d, "README.md")
            with open(readme, "w") as f:
                f.write("intro\n<!-- lab-table:begin -->\nold\n<!-- lab-table:end -->\nafter\n")
            # a tiny run is neither quick nor full: refused
            r = subprocess.run([sys.executable, SCRIPT, res, "--readme", readme], capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            with open(res) as f:
                j = json.load(f)
            j["meta"]["scale"] = "quick"  # as if it were a quick run
            with open(res, "w") as f:
                json.dump(j, f)
            os.mkdir(os.path.join(d, "keep"))
            r = subprocess.run([sys.executable, SCRIPT, res, "--readme", readme, "--keep", os.path.join(d, "keep")],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            text = open(readme).read()
            self.assertTrue(text.startswith("intro\n<!-- lab-table:begin -->\n") and text.endswith("after\n"))
            self.assertNotIn("old", text)
            row = [l for l in text.splitlines() if l.startswith("| 1 | `zero-init`")]
            self.assertEqual(len(row), 1, text)
            e = j["experiments"][0]
            self.assertIn(e["checks"][0]["name"], row[0])
            self.assertIn("| reproduced |" if e["verdict"] == "reproduced" else f"**{e['verdict']}**", row[0])
            self.assertIn("1000 test images", text)
            # the kept copy rebuilds the same table
            r = subprocess.run([sys.executable, SCRIPT, os.path.join(d, "keep", "quick.json"), "--readme", readme,
                                "--check"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            # and a hand edit is caught
            text2 = text.replace("| 1 | `zero-init`", "| 1 | `zero-init-edited`")
            with open(readme, "w") as f:
                f.write(text2)
            r = subprocess.run([sys.executable, SCRIPT, os.path.join(d, "keep", "quick.json"), "--readme", readme,
                                "--check"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)

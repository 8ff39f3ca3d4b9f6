"""nninit lab --tiny end to end: the three report files, then index.html as
headless Chromium renders it (the DOM it builds and a screenshot).

Needs Debian's chromium (scripts/install-deps.sh installs it). The screenshot
is kept as $NNINIT_BUILD_DIR/lab-report-screenshot.png for a person to look at.
"""
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib
from collections import Counter

CLI = os.environ.get("NNINIT_CLI", os.path.join(os.path.dirname(__file__), "..", "build", "nninit"))
BUILD = os.environ.get("NNINIT_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "build"))
CHROMIUM = "/usr/bin/chromium"
# every registered experiment: one line each in `nninit lab --list`
N_EXPERIMENTS = len(subprocess.run([CLI, "lab", "--list"], capture_output=True, text=True,
                                   check=True).stdout.splitlines())

# lab/report.c: verdict badges and the first chart line colours.
BADGE = {"reproduced": (0x1A, 0x7F, 0x37), "not reproduced": (0xCF, 0x22, 0x2E), "inconclusive": (0xBF, 0x87, 0x00)}
LINES = [(0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E)]


# ---- PNG, in pure Python ----------------------------------------------------

def _busy(n, *rows):
    """Byte ranges [s, e) of 0..n where any of rows (int masks) is nonzero."""
    m = 0
    for r in rows:
        m |= r
    return [x.span() for x in re.finditer(rb"[^\x00]+", m.to_bytes(n, "big"))]


def _unfilter(ft, line, prev, ch):
    """One row back from PNG filter ft (0 none, 1 sub, 2 up, 3 average,
    4 paeth). A page is mostly flat colour: where the filtered bytes are zero
    (and, for Paeth, the row above is flat, so it predicts the left byte)
    whole runs are copied instead of computed byte by byte."""
    n = len(line)
    if ft == 0:
        return line
    if ft == 2:  # up
        cur = bytearray(prev)
        for s, e in _busy(n, int.from_bytes(line, "big")):
            cur[s:e] = bytes((a + b) & 255 for a, b in zip(line[s:e], prev[s:e]))
        return bytes(cur)
    cur = bytearray(n)
    if ft == 3:  # average
        for i in range(n):
            left = cur[i - ch] if i >= ch else 0
            cur[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        return bytes(cur)
    if ft not in (1, 4):
        raise ValueError("bad PNG filter type %d" % ft)
    for i in range(ch):  # no left neighbour: sub adds 0, paeth predicts the byte above
        cur[i] = (line[i] + (prev[i] if ft == 4 else 0)) & 255
    masks = [int.from_bytes(line[ch:], "big")]
    if ft == 4:  # b != c where the row above is not flat
        masks.append(int.from_bytes(prev[ch:], "big") ^ int.from_bytes(prev[:-ch], "big"))
    i = ch
    for s, e in _busy(n - ch, *masks) + [(n - ch, n - ch)]:
        s, e = s + ch, e + ch
        if s > i:  # quiet: cur[k] = cur[k - ch], the last pixel repeated
            cur[i:s] = (bytes(cur[i - ch:i]) * ((s - i) // ch + 1))[:s - i]
        for k in range(s, e):
            a = cur[k - ch]
            if ft == 1:
                cur[k] = (line[k] + a) & 255
                continue
            b, c = prev[k], prev[k - ch]
            pa, pb = abs(b - c), abs(a - c)  # |p - a|, |p - b| with p = a + b - c
            pc = abs(a + b - 2 * c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[k] = (line[k] + pred) & 255
        i = e
    return bytes(cur)


def decode_png(path):
    """(width, height, channels, rows): 8-bit RGB or RGBA, non-interlaced;
    rows are bytes of width * channels."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace != 0:
        raise ValueError("unsupported PNG: depth %d, colour type %d, interlace %d" % (depth, ctype, interlace))
    ch = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * ch
    if len(raw) != h * (stride + 1):
        raise ValueError("PNG data has %d bytes, expected %d" % (len(raw), h * (stride + 1)))
    prev = bytes(stride)
    rows = []
    for y in range(h):
        o = y * (stride + 1)
        prev = _unfilter(raw[o], raw[o + 1:o + 1 + stride], prev, ch)
        rows.append(prev)
    return w, h, ch, rows


def colour_counts(rows, ch):
    """Counter of (r, g, b) over every pixel (identical rows counted once)."""
    total = Counter()
    for row, times in Counter(rows).items():
        c = Counter(row[i:i + 3] for i in range(0, len(row), ch))
        for k, v in c.items():
            total[k] += v * times
    return Counter({tuple(k): v for k, v in total.items()})


def near(counts, rgb, tol):
    return sum(v for k, v in counts.items() if max(abs(k[i] - rgb[i]) for i in range(3)) <= tol)


# ---- the DOM Chromium built ---------------------------------------------------

class DomSummary(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.claims_rows = []   # classes of the claims table's body rows
        self.plots = 0          # <svg class="plot">
        self.hists = 0          # of which histograms
        self.plot_paths = 0     # <path class="line"> inside plots
        self.sections = []
        self.probes = 0         # <div class="probe">: a probe's section (tools/util/probe_html.h)
        self.layer_rows = []    # per <table class="layers">: its rows, the header's aside
        self._in_claims = False
        self._in_body = False
        self._in_layers = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "table" and a.get("id") == "claims":
            self._in_claims = True
        elif tag == "tbody" and self._in_claims:
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.claims_rows.append(a.get("class") or "")
        elif tag == "svg" and "plot" in cls:
            self.plots += 1
            self.hists += a.get("data-kind") == "hist"
        elif tag == "path" and "line" in cls:
            self.plot_paths += 1
        elif tag == "section" and (a.get("id") or "").startswith("exp-"):
            self.sections.append(a["id"][4:])
        elif tag == "div" and "probe" in cls:
            self.probes += 1
        elif tag == "table" and "layers" in cls:
            self.layer_rows.append(-1)
        elif tag == "tr" and self.layer_rows and self._in_layers:
            self.layer_rows[-1] += 1
        if tag == "table":
            self._in_layers = "layers" in cls

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._in_claims = False
            self._in_layers = False


def chromium(url, *args, timeout=180):
    with tempfile.TemporaryDirectory() as profile:
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--no-first-run", "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile, *args,
               url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def expected_plots(results):
    """Charts report.c draws, histograms aside: two per experiment with
    training curves, its plots, and per probe with layers the three depth
    charts of its section (std, q^l, c^l), as on `nninit probe --html`."""
    n = 0
    for e in results["experiments"]:
        n += 2 if e["curves"] else 0
        n += len(e["plots"])
        n += sum(3 for p in e["probes"] if p["layers"])
    return n


# index.html's size at --tiny, per probe section (the histograms dominate:
# about 1.5 MB for 16 probe sections, 2.2 MB for 25) plus the rest: room to
# grow, not to double; a page past it is no longer read, only scrolled.
SIZE_PER_PROBE = 128 << 10
SIZE_BASE = 512 << 10


def slug(verdict):
    return "verdict-" + verdict.replace(" ", "-")


class LabReport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nninit_lab_html_")
        cls.out = os.path.join(cls.tmp, "report")
        cls.proc = subprocess.run([CLI, "lab", "--tiny", "--out", cls.out], capture_output=True, text=True, timeout=900)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.proc.returncode, 0, "nninit lab --tiny failed:\n" + self.proc.stderr[-4000:])

    def results(self):
        with open(os.path.join(self.out, "results.json")) as f:
            return json.load(f)

    def test_files(self):
        self.assertEqual(sorted(os.listdir(self.out)), [".nninit-report", "index.html", "results.json", "results.md"])
        res = self.results()
        self.assertEqual(len(res["experiments"]), N_EXPERIMENTS)
        self.assertEqual(res["meta"]["experiments"], N_EXPERIMENTS)
        self.assertEqual(res["meta"]["scale"], "tiny")
        self.assertEqual(sum(res["meta"]["verdicts"].values()), N_EXPERIMENTS)
        for e in res["experiments"]:
            self.assertIn(e["verdict"], BADGE)
            self.assertTrue(e["claim"] and e["source"], e["name"])
        with open(os.path.join(self.out, "results.md")) as f:
            md = f.read()
        for e in res["experiments"]:
            self.assertIn("| [%s](#%s) |" % (e["name"], e["name"]), md)
        with open(os.path.join(self.out, "index.html")) as f:
            page = f.read()
        self.assertNotIn("http://", page)  # self-contained: no URL at all
        self.assertNotIn("https://", page)
        self.assertNotIn("<script", page)
        probes = sum(len(e["probes"]) for e in res["experiments"])
        budget = SIZE_BASE + SIZE_PER_PROBE * probes
        self.assertLess(len(page.encode()), budget, "index.html is over its size budget (%d probes)" % probes)

    def test_rendered(self):
        if not os.path.exists(CHROMIUM):
            self.fail("%s is missing: install Debian's chromium (apt-get install chromium; "
                      "scripts/install-deps.sh does it)" % CHROMIUM)
        res = self.results()
        url = "file://" + os.path.abspath(os.path.join(self.out, "index.html"))

        dom = chromium(url, "--dump-dom")
        self.assertEqual(dom.returncode, 0, dom.stderr[-2000:])
        s = DomSummary()
        s.feed(dom.stdout)
        self.assertEqual(len(s.claims_rows), N_EXPERIMENTS, "rows of table#claims")
        self.assertEqual(s.claims_rows, [slug(e["verdict"]) for e in res["experiments"]])
        self.assertEqual(s.sections, [e["name"] for e in res["experiments"]])
        self.assertGreaterEqual(s.plots - s.hists, expected_plots(res))
        self.assertGreater(s.plots - s.hists, 0)
        self.assertGreater(s.plot_paths, 0)
        if any(p["layers"] for e in res["experiments"] for p in e["probes"]):
            self.assertGreater(s.hists, 0)
        # each probe kept gets the probe page's section, its layer table included
        probes = [p for e in res["experiments"] for p in e["probes"]]
        self.assertEqual(s.probes, len(probes))
        self.assertEqual(s.layer_rows, [len(p["layers"]) for p in probes if p["layers"]])

        png = os.path.join(self.tmp, "shot.png")
        shot = chromium(url, "--window-size=1280,6000", "--screenshot=" + png)
        self.assertEqual(shot.returncode, 0, shot.stderr[-2000:])
        keep = os.path.join(BUILD, "lab-report-screenshot.png")
        shutil.copyfile(png, keep)
        print("screenshot: " + keep, file=sys.stderr)
        check_screenshot(self, png)


def check_screenshot(tc, png):
    w, h, ch, rows = decode_png(png)
    tc.assertEqual((w, h), (1280, 6000))
    counts = colour_counts(rows, ch)
    white = near(counts, (255, 255, 255), 4)
    tc.assertGreater(len(counts), 100, "too few colours: a blank page?")
    tc.assertGreater(w * h - white, 0.02 * w * h, "the page is nearly all white")
    for name, rgb in BADGE.items():  # the verdict counts at the top show all three badges
        tc.assertGreater(near(counts, rgb, 10), 500, "pixels of the %s badge colour" % name)
    for rgb in LINES:
        tc.assertGreater(near(counts, rgb, 10), 100, "pixels of chart colour #%02x%02x%02x" % rgb)


class LabOut(unittest.TestCase):
    def test_out_checked_before_the_run(self):
        # --out that cannot hold the report is refused before any experiment runs
        with tempfile.TemporaryDirectory() as d:
            f = os.path.join(d, "afile")
            with open(f, "w") as fh:
                fh.write("keep")
            r = subprocess.run([CLI, "lab", "--tiny", "zero-init", "--out", f], capture_output=True, text=True,
                               timeout=120)
            self.assertEqual(r.returncode, 2, r.stderr)  # not a report directory: refused, as bad usage
            self.assertIn("exists and is not a directory", r.stderr)
            self.assertNotIn("[1/1]", r.stderr)  # no experiment ran
            with open(f) as fh:
                self.assertEqual(fh.read(), "keep")

    def test_opt_equals_value(self):
        # opt.h: --out=DIR --seed=N work as --out DIR --seed N; bad values keep their message
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "r")
            r = subprocess.run([CLI, "lab", "--tiny", "zero-init", "--seed=3", "--threads=1", "--out=" + out],
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            with open(os.path.join(out, "results.json")) as f:
                meta = json.load(f)["meta"]
            self.assertEqual((meta["seed"], meta["threads"]), (3, 1))
        for args, needle in ((["--seed=x"], "bad option '--seed x'"), (["--threads=0"], "bad option '--threads 0'"),
                             (["--tiny=1"], "takes no value"), (["--out"], "needs a value"),
                             (["nosuch"], "unknown experiment 'nosuch'")):
            r = subprocess.run([CLI, "lab", *args], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(needle, r.stderr, args)

    def test_seeds(self):
        # --seeds K: every check over K runs, mean, spread and each value in the report
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "r")
            r = subprocess.run([CLI, "lab", "--tiny", "zero-init", "--seed", "7", "--seeds", "2", "--out", out],
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            self.assertIn("nninit lab (tiny, seed 7, 2 seeds):", r.stderr)
            self.assertIn("zero-init: seed 8 (2 of 2)", r.stderr)
            with open(os.path.join(out, "results.json")) as f:
                j = json.load(f)
            self.assertEqual(j["meta"]["seeds"], 2)
            self.assertIn("sqrt(noise^2", j["meta"]["rule"])
            for key in ("cpu", "blas", "blas_core", "blas_threads"):
                self.assertIn(key, j["meta"]["machine"])
            self.assertIn("OpenBLAS", j["meta"]["machine"]["blas"])
            for c in j["experiments"][0]["checks"]:
                self.assertEqual(c["seeds"], 2)
                self.assertEqual(len(c["per_seed"]), 2)
                self.assertAlmostEqual(c["measured"], sum(c["per_seed"]) / 2)
            with open(os.path.join(out, "results.md")) as f:
                md = f.read()
            self.assertIn("2 seeds (7 to 8)", md)
            self.assertIn("over 2 seeds:", md)
            self.assertIn("What decides float32 rounding here: CPU ", md)
        for bad in ("0", "17", "x"):
            r = subprocess.run([CLI, "lab", "--tiny", "--seeds", bad], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn("bad option '--seeds %s'" % bad, r.stderr)

    def test_seed_is_printed(self):
        # the seed used, in the human output, results.json and the report's setup text
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "r")
            r = subprocess.run([CLI, "lab", "--tiny", "zero-init", "--seed", "18446744073709551615", "--out", out],
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            self.assertIn("nninit lab (tiny, seed 18446744073709551615, 1 seed):", r.stderr)
            self.assertIn("(seed 18446744073709551615)", r.stdout)
            with open(os.path.join(out, "results.json")) as f:
                text = f.read()
            self.assertIn('"seed":\t18446744073709551615,', text)  # exact
            self.assertEqual(json.loads(text)["meta"]["seed"], 18446744073709551615)
            with open(os.path.join(out, "results.md")) as f:
                self.assertIn("seed 18446744073709551615", f.read())
            r = subprocess.run([CLI, "lab", "--tiny", "zero-init", "--out", out], capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            self.assertIn("(seed 0)", r.stdout)  # the default


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""nninit probe --html: pictures a learner reads at a glance.

A vanishing net (tanh, N(0, 0.01^2) weights) probed twice: with the default
shared histogram axes every activation histogram carries the same x tick
labels and the deep layers collapse to a spike at 0 (the textbook figure);
with --hist-axes layer each layer is scaled to its own range and the tick
labels differ. Log axes are ticked at powers of ten in a readable form, the
legends have line swatches. Then headless Chromium renders the page; the
screenshot is kept as $NNINIT_BUILD_DIR/probe-report-screenshot.png.

Needs Debian's chromium for the rendering part only (skipped without it).
"""
import html.parser
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_lab_html import CHROMIUM, chromium, colour_counts, decode_png, near  # noqa: E402

CLI = os.environ.get("NNINIT_CLI", os.path.join(os.path.dirname(__file__), "..", "build", "nninit"))
BUILD = os.environ.get("NNINIT_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "build"))
ARCH = "256 -> [dense 128 tanh] x10 -> dense 10"
LAYERS = 11
INIT = "normal(std=0.01)"
SHOT = (1280, 2400)

# tools/util/probe_html.c: activation and gradient histogram colours, q predicted.
ACT, GRAD, PRED = (0x1F, 0x77, 0xB4), (0x8C, 0x56, 0x4B), (0xFF, 0x7F, 0x0E)

# A log axis spanning decades: a power of ten, "0.1", "1", "10", "100" or "1e-4", "1e3".
POW10 = re.compile(r"^(0\.1|1|10|100|1e-?[1-9][0-9]*)$")


class Page(html.parser.HTMLParser):
    """The probe page's SVGs: for each, its attributes, tick labels by
    dimension, histogram bars, line paths, legend swatches and texts."""

    def __init__(self):
        super().__init__()
        self.svgs = []
        self._svg = None
        self._text = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "svg":
            self._svg = {"attrs": a, "ticks": {"x": [], "y": []}, "bars": [], "paths": [], "swatches": [],
                         "legend": []}
            self.svgs.append(self._svg)
        elif self._svg is None:
            return
        elif tag == "text" and ("tick" in cls or "legend" in cls):
            self._text = (cls, a, [])
        elif tag == "rect" and "bar" in cls:
            self._svg["bars"].append((int(a["data-bin"]), float(a["data-frac"])))
        elif tag == "path" and "series" in cls:
            self._svg["paths"].append(a)
        elif tag == "line" and "swatch" in cls:
            self._svg["swatches"].append(a)

    def handle_data(self, data):
        if self._text:
            self._text[2].append(data)

    def handle_endtag(self, tag):
        if tag == "text" and self._text:
            cls, a, parts = self._text
            if "tick" in cls:
                self._svg["ticks"][a["data-dim"]].append("".join(parts))
            else:
                self._svg["legend"].append("".join(parts).strip())
            self._text = None
        elif tag == "svg":
            self._svg = None

    def hists(self, series):
        return [s for s in self.svgs if s["attrs"].get("data-kind") == "hist" and s["attrs"].get("data-series") == series]

    def charts(self):
        return [s for s in self.svgs if s["attrs"].get("data-kind") == "chart"]

    def chart(self, title_part):
        found = [s for s in self.charts() if title_part in s["attrs"].get("aria-label", "")]
        assert len(found) == 1, title_part
        return found[0]


class Section(html.parser.HTMLParser):
    """The probe's section (tools/util/probe_html.h): how many there are,
    the headings inside, the layer table's rows."""

    def __init__(self):
        super().__init__()
        self.sections, self.headings, self.rows, self.findings = 0, [], 0, 0
        self._depth = 0  # inside <div class="probe">: nesting of divs
        self._h = None
        self._table = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "div":
            if "probe" in cls:
                self.sections += 1
                self._depth = 1
            elif self._depth:
                self._depth += 1
                self.findings += "finding" in cls
        elif not self._depth:
            return
        elif re.fullmatch(r"h[1-6]", tag):
            self._h = []
        elif tag == "table" and "layers" in cls:
            self._table = True
        elif tag == "tr" and self._table:
            self.rows += 1

    def handle_data(self, data):
        if self._h is not None:
            self._h.append(data)

    def handle_endtag(self, tag):
        if tag == "div" and self._depth:
            self._depth -= 1
        elif re.fullmatch(r"h[1-6]", tag) and self._h is not None:
            self.headings.append("".join(self._h))
            self._h = None
        elif tag == "table":
            self._table = False


def probe_page(path, *extra):
    r = subprocess.run([CLI, "probe", "--arch", ARCH, "--init", INIT, "--html", path, *extra], capture_output=True,
                       text=True, timeout=300)
    return r


def parse(path):
    p = Page()
    with open(path) as f:
        p.feed(f.read())
    return p


def zero_bin(svg):
    a = svg["attrs"]
    lo, hi, bins = float(a["data-lo"]), float(a["data-hi"]), int(a["data-bins"])
    return (0 - lo) / (hi - lo) * bins


class ProbeHtml(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nninit_probe_html_")
        cls.shared_path = os.path.join(cls.tmp, "shared.html")
        cls.layer_path = os.path.join(cls.tmp, "layer.html")
        cls.shared_run = probe_page(cls.shared_path)
        cls.layer_run = probe_page(cls.layer_path, "--hist-axes", "layer")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def shared(self):
        self.assertEqual(self.shared_run.returncode, 0, self.shared_run.stderr)
        return parse(self.shared_path)

    def test_shared_axis_and_spike(self):
        p = self.shared()
        act = p.hists("activation")
        self.assertEqual([int(h["attrs"]["data-layer"]) for h in act], list(range(1, LAYERS + 1)))
        self.assertEqual({h["attrs"]["data-axis"] for h in act}, {"shared"})
        ticks = {tuple(h["ticks"]["x"]) for h in act}
        self.assertEqual(len(ticks), 1, "every activation histogram has the same x tick labels: %s" % ticks)
        ticks = ticks.pop()
        self.assertGreaterEqual(len(ticks), 2)
        self.assertIn("0", ticks)
        self.assertEqual(len({(h["attrs"]["data-lo"], h["attrs"]["data-hi"]) for h in act}), 1)
        # layer 1 is spread out; from layer 4 on (std < 1e-3 of layer 1's) all mass sits at 0
        self.assertGreater(len(act[0]["bars"]), 10, "layer 1 is a spread-out histogram")
        for h in act[3:]:
            bars = h["bars"]
            self.assertLessEqual(len(bars), 2, "layer %s: a spike" % h["attrs"]["data-layer"])
            self.assertGreater(sum(f for _, f in bars), 0.99)
            z = zero_bin(h)
            for b, _ in bars:
                self.assertLessEqual(abs(b + 0.5 - z), 1.5, "layer %s: the spike is at 0" % h["attrs"]["data-layer"])
        # hidden layers' gradients share one axis too (the output layer's may fall outside it)
        grad = [h for h in p.hists("gradient") if h["attrs"]["data-axis"] == "shared"]
        self.assertGreaterEqual(len(grad), LAYERS - 1)
        self.assertEqual(len({tuple(h["ticks"]["x"]) for h in grad}), 1)

    def test_per_layer_axes_differ(self):
        r = self.layer_run
        if r.returncode != 0 and "unknown option" in r.stderr:
            self.skipTest("nninit probe has no --hist-axes yet")
        self.assertEqual(r.returncode, 0, r.stderr)
        act = parse(self.layer_path).hists("activation")
        self.assertEqual(len(act), LAYERS)
        self.assertEqual({h["attrs"]["data-axis"] for h in act}, {"layer"})
        self.assertGreaterEqual(len({tuple(h["ticks"]["x"]) for h in act}), 5, "each layer on its own scale")
        for h in act:  # auto-scaled: no spike anywhere
            self.assertGreater(len(h["bars"]), 10, "layer %s" % h["attrs"]["data-layer"])
        shared = self.shared().hists("activation")
        self.assertNotEqual([h["ticks"]["x"] for h in act], [h["ticks"]["x"] for h in shared])

    def test_log_axes_readable(self):
        p = self.shared()
        for title in ("std by layer", "q^l"):
            c = p.chart(title)
            self.assertEqual(c["attrs"]["data-scale"], "log", title)
            ys = c["ticks"]["y"]
            self.assertGreaterEqual(len(ys), 3, title)
            for t in ys:
                self.assertRegex(t, POW10, "%s: tick label %r" % (title, t))
            exps = [round(math.log10(float(t))) for t in ys]
            steps = {b - a for a, b in zip(exps, exps[1:])}
            self.assertEqual(len(steps), 1, "%s: evenly spaced decades %s" % (title, ys))
        self.assertIn("1e-4", p.chart("q^l")["ticks"]["y"] + p.chart("std by layer")["ticks"]["y"])
        c = p.chart("Correlation")
        self.assertEqual(c["attrs"]["data-scale"], "linear")
        ys = [float(t) for t in c["ticks"]["y"]]
        self.assertEqual(max(ys), 1)
        self.assertIn(min(ys), (-1, 0))

    def test_legends_have_swatches(self):
        p = self.shared()
        charts = p.charts()
        self.assertEqual(len(charts), 3)
        dashed = 0
        for c in charts:
            paths, sw = c["paths"], c["swatches"]
            self.assertEqual(len(sw), len(paths), c["attrs"]["aria-label"])
            self.assertEqual(c["legend"], [q["data-name"] for q in paths])
            for q, s in zip(paths, sw):
                self.assertEqual(s["stroke"], q["stroke"])
                self.assertEqual(s.get("stroke-dasharray"), q.get("stroke-dasharray"))
                self.assertGreaterEqual(float(s["x2"]) - float(s["x1"]), 16, "a visible line segment")
                dashed += "stroke-dasharray" in s
        self.assertGreaterEqual(dashed, 2, "predictions are dashed, in the legend too")

    def test_section(self):
        # one section, as the lab's report shows for each probe: every part, the table with a row per layer
        self.assertEqual(self.shared_run.returncode, 0, self.shared_run.stderr)
        s = Section()
        with open(self.shared_path) as f:
            s.feed(f.read())
        self.assertEqual(s.sections, 1)
        self.assertEqual(s.headings, ["Findings", "By depth", "Layers", "Activation histograms",
                                      "Gradient histograms (dL/d pre-activation)"])
        self.assertGreaterEqual(s.findings, 1)
        self.assertEqual(s.rows, 1 + LAYERS)

    def test_rendered(self):
        if not os.path.exists(CHROMIUM):
            self.skipTest("%s is missing" % CHROMIUM)
        self.assertEqual(self.shared_run.returncode, 0, self.shared_run.stderr)
        url = "file://" + os.path.abspath(self.shared_path)
        dom = chromium(url, "--dump-dom")
        self.assertEqual(dom.returncode, 0, dom.stderr[-2000:])
        d = Page()
        d.feed(dom.stdout)
        self.assertEqual(len(d.hists("activation")), LAYERS)
        self.assertEqual(len({tuple(h["ticks"]["x"]) for h in d.hists("activation")}), 1)

        png = os.path.join(self.tmp, "shot.png")
        shot = chromium(url, "--window-size=%d,%d" % SHOT, "--screenshot=" + png)
        self.assertEqual(shot.returncode, 0, shot.stderr[-2000:])
        keep = os.path.join(BUILD, "probe-report-screenshot.png")
        shutil.copyfile(png, keep)
        print("screenshot: " + keep, file=sys.stderr)
        w, h, ch, rows = decode_png(png)
        self.assertEqual((w, h), SHOT)
        counts = colour_counts(rows, ch)
        self.assertGreater(len(counts), 100, "too few colours: a blank page?")
        white = near(counts, (255, 255, 255), 4)
        self.assertGreater(w * h - white, 0.02 * w * h, "the page is nearly all white")
        for name, rgb, least in (("activation", ACT, 2000), ("gradient", GRAD, 2000), ("q predicted", PRED, 100)):
            self.assertGreater(near(counts, rgb, 10), least, "pixels of the %s colour #%02x%02x%02x" % ((name,) + rgb))


if __name__ == "__main__":
    unittest.main(verbosity=2)

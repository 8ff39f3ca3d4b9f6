#!/usr/bin/python3
"""bench_python.py -- nninit's Python package beside torch.nn.init, in one run.

    PYTHONPATH=python NNINIT_LIBRARY=build/libnninit.so /usr/bin/python3 bench/bench_python.py
    ... bench/bench_python.py --threads 1,2 --reps 5 --json out.json

Times nninit.normal_ and nninit.kaiming_uniform_ against torch.nn.init.normal_
and kaiming_uniform_ on the same float32 torch tensors (4096 x 4096 and 2^26
elements by default), with torch.set_num_threads(T) and threads=T for each T,
each the best of --reps calls after one warm-up call (first touch of the
memory is outside the timing). Prints the CPU (lscpu's model name), nninit's
kernel path (nninit.arch(), as `nninit --version` names it), the versions,
and per case ns per element and the ratio torch / nninit (> 1: nninit is
faster). The values differ (each library draws its own stream); the
distributions are the same.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))
if "NNINIT_LIBRARY" not in os.environ and os.path.exists(os.path.join(os.path.dirname(HERE), "build",
                                                                      "libnninit.so")):
    os.environ["NNINIT_LIBRARY"] = os.path.join(os.path.dirname(HERE), "build", "libnninit.so")

import torch  # noqa: E402
import torch.nn.init as tinit  # noqa: E402

import nninit  # noqa: E402


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, universal_newlines=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def best(f, reps):
    f()  # warm-up: pages touched, kernels chosen, thread pools started
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="4096x4096,67108864",
                    help="comma-separated shapes, AxB or a count (default 4096x4096,67108864 = 2^26)")
    ap.add_argument("--threads", default="1,%d" % os.cpu_count(), help="comma-separated thread counts (default 1,all)")
    ap.add_argument("--reps", type=int, default=5, help="timed calls per case; the best counts (default 5)")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()

    shapes = [tuple(int(d) for d in s.split("x")) for s in a.sizes.split(",")]
    threads = [int(t) for t in a.threads.split(",")]
    info = {"cpu": cpu_model(), "cores": os.cpu_count(), "nninit_arch": nninit.arch(),
            "nninit": nninit.library_version(), "library": nninit.library_path, "torch": torch.__version__,
            "python": sys.version.split()[0]}
    print("cpu: %s (%d logical CPUs)" % (info["cpu"], info["cores"]))
    print("nninit %s, fill kernels: %s (%s); torch %s" % (info["nninit"], info["nninit_arch"], info["library"],
                                                          info["torch"]))
    print("best of %d calls, float32, ns per element; ratio = torch / nninit\n" % a.reps)
    print("%-17s %-12s %7s %10s %10s %7s" % ("operation", "shape", "threads", "nninit", "torch", "ratio"))
    cases = [("normal_", lambda x, t: nninit.normal_(x, 0.0, 0.02, threads=t), lambda x: tinit.normal_(x, 0.0, 0.02)),
             ("kaiming_uniform_", lambda x, t: nninit.kaiming_uniform_(x, a=5 ** 0.5, threads=t),
              lambda x: tinit.kaiming_uniform_(x, a=5 ** 0.5))]
    rows = []
    for shape in shapes:
        x = torch.empty(shape if len(shape) > 1 else (shape[0] // 4096, 4096))  # kaiming needs 2-D
        n = x.numel()
        for name, ours, theirs in cases:
            for t in threads:
                torch.set_num_threads(t)
                tn = best(lambda: ours(x, t), a.reps)
                tt = best(lambda: theirs(x), a.reps)
                row = {"op": name, "shape": list(x.shape), "numel": n, "threads": t, "nninit_ns": tn / n * 1e9,
                       "torch_ns": tt / n * 1e9, "ratio": tt / tn}
                rows.append(row)
                print("%-17s %-12s %7d %10.3f %10.3f %7.2f" % (name, "x".join(map(str, x.shape)), t,
                                                               row["nninit_ns"], row["torch_ns"], row["ratio"]))
        x = None  # the next shape's memory, not both
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"info": info, "results": rows}, f, indent=1)


if __name__ == "__main__":
    main()

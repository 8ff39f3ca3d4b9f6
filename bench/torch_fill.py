#!/usr/bin/python3
"""torch_fill.py -- the PyTorch (and NumPy) counterpart of bench_fill.

Times, on a float32 tensor of 2**LOG2 elements (default 2**26):
  torch   uniform       t.uniform_(-1, 1)
  torch   normal        t.normal_(0, 1)
  torch   trunc_normal  torch.nn.init.trunc_normal_(t, 0, 1, -2, 2)
  numpy   standard_normal  np.random.default_rng(0).standard_normal(dtype=float32)
  numpy   random           rng.random(dtype=float32)
each once to warm up and then REPS times; the best (minimum) wall time of one
call (time.perf_counter_ns, CLOCK_MONOTONIC on Linux) is reported as ns per
element. The buffers are allocated and touched before timing, so page faults
are not timed; NumPy writes into a preallocated array through out= for the
same reason (n, dtype and generator are those of
rng.standard_normal(n, dtype=np.float32)).

torch.set_num_threads(1) by default, because nninit is single-threaded for
now; --threads T changes it.

usage: torch_fill.py [--n LOG2] [--reps N] [--threads T] [--json]
"""
import argparse
import json
import sys
import time


def best_of(fn, reps):
    fn()  # warm-up
    best = None
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        fn()
        dt = time.perf_counter_ns() - t0
        if best is None or dt < best:
            best = dt
    return best * 1e-9


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=26, metavar="LOG2",
                    help="fill 2**LOG2 float32 elements (default 26)")
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions (default 5)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch.set_num_threads (default 1)")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    ap.add_argument("--no-numpy", action="store_true", help="skip the NumPy lines")
    args = ap.parse_args()
    if not 1 <= args.n <= 30 or args.reps < 1 or args.threads < 1:
        ap.error("need 1 <= --n <= 30, --reps >= 1, --threads >= 1")

    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n = 2 ** args.n
    t = torch.empty(n, dtype=torch.float32)
    t.zero_()  # touch every page before timing (first-touch faults not timed)

    def tr_trunc():
        torch.nn.init.trunc_normal_(t, 0.0, 1.0, -2.0, 2.0)

    cases = [
        ("torch", "uniform", lambda: t.uniform_(-1.0, 1.0)),
        ("torch", "normal", lambda: t.normal_(0.0, 1.0)),
        ("torch", "trunc_normal", tr_trunc),
    ]
    if not args.no_numpy:
        import numpy as np

        rng = np.random.default_rng(0)
        a = np.zeros(n, dtype=np.float32)  # allocated and touched before timing
        cases += [
            ("numpy", "standard_normal",
             lambda: rng.standard_normal(dtype=np.float32, out=a)),
            ("numpy", "random", lambda: rng.random(dtype=np.float32, out=a)),
        ]

    with torch.no_grad():
        for impl, scheme, fn in cases:
            best = best_of(fn, args.reps)
            ns = best * 1e9 / n
            if args.json:
                print(json.dumps({"impl": impl, "scheme": scheme, "n": n, "reps": args.reps,
                                  "threads": args.threads if impl == "torch" else 1,
                                  "ns_per_elem": round(ns, 4), "best_s": round(best, 6)}))
            else:
                print(f"{impl:6s} {scheme:16s} n=2^{args.n}  best of {args.reps}: "
                      f"{best:9.6f} s  {ns:7.3f} ns/elem")
            sys.stdout.flush()
    if not args.json:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")


if __name__ == "__main__":
    main()

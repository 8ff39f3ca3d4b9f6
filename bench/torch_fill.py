#!/usr/bin/python3
"""torch_fill.py -- the PyTorch (and NumPy) counterpart of bench_fill.

Times, on a tensor of N elements (default 2**26; 2-D as (N/4096, 4096) where
a scheme needs fans), in float32 and bfloat16:
  torch uniform          t.uniform_(-1, 1)
  torch normal           t.normal_(0, 1)
  torch trunc_normal     torch.nn.init.trunc_normal_(t, 0, 1, -2, 2)
  torch kaiming_uniform  torch.nn.init.kaiming_uniform_(t2d)   (a=0, fan_in, leaky_relu)
  torch xavier_normal    torch.nn.init.xavier_normal_(t2d)
  torch orthogonal       torch.nn.init.orthogonal_(w) on ORTHO x ORTHO (default 4096)
  numpy standard_normal  np.random.default_rng(0).standard_normal(dtype=float32, out=a)
  numpy random           rng.random(dtype=float32, out=a)
and, with --llama7b, torch.nn.init.normal_(w, 0, 0.02) on the bf16 tensors of
one Llama-2-7B layer and on the embeddings (bench_fill's llama7b case).

The buffers are allocated and written before timing (page faults not timed);
each case runs REPS times (default 5) and the median and minimum wall times
(time.perf_counter) are reported; a case that has spent --budget-s seconds
stops at 3 repetitions (its "reps" says so). A dtype torch does not support
for a scheme is reported with its error. torch.set_num_threads(--threads);
run.sh runs this script once per thread count, with OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS set to the same count (orthogonal_'s QR runs in
OpenBLAS, whose pool set_num_threads does not size).

usage: torch_fill.py [--elems N] [--reps R] [--threads T] [--dtypes f32,bf16]
                     [--ortho N] [--llama7b] [--no-numpy] [--json]
"""
import argparse
import json
import sys
import time


def timed(fn, reps, budget):
    v = []
    spent = 0.0
    for r in range(reps):
        if r >= 3 and spent > budget:
            break
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        v.append(dt)
        spent += dt
    s = sorted(v)
    k = len(s)
    med = s[k // 2] if k % 2 else 0.5 * (s[k // 2 - 1] + s[k // 2])
    return med, s[0], k


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elems", type=int, default=2 ** 26)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dtypes", default="f32,bf16")
    ap.add_argument("--ortho", type=int, default=4096)
    ap.add_argument("--budget-s", type=float, default=20.0)
    ap.add_argument("--llama7b", action="store_true")
    ap.add_argument("--only-llama7b", action="store_true")
    ap.add_argument("--no-numpy", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    T = args.threads

    def out(rec):
        rec.setdefault("threads", T)
        if args.json:
            print(json.dumps(rec))
        else:
            print(" ".join(f"{k}={v}" for k, v in rec.items()))
        sys.stdout.flush()

    def case(impl, op, dt, n, esize, fn, reps=None):
        t_ = T if impl == "torch" else 1  # numpy's generators are single-threaded
        try:
            fn()  # also proves the dtype is supported; not timed
            med, mn, k = timed(fn, reps or args.reps, args.budget_s)
        except Exception as e:  # unsupported dtype for this scheme
            out({"impl": impl, "op": op, "dtype": dt, "threads": t_,
                 "error": f"{type(e).__name__}: {e}"[:200]})
            return
        out({"impl": impl, "op": op, "dtype": dt, "threads": t_, "n": n, "bytes": n * esize, "reps": k,
             "median_s": round(med, 6), "min_s": round(mn, 6),
             "ns_per_elem": round(med * 1e9 / n, 4), "gbps": round(n * esize / med * 1e-9, 3)})

    n = args.elems
    cols = 4096 if n % 4096 == 0 else n
    dts = {"f32": (torch.float32, 4), "bf16": (torch.bfloat16, 2)}
    init = torch.nn.init
    with torch.no_grad():
        if not args.only_llama7b:
            for dn in args.dtypes.split(","):
                dt, es = dts[dn]
                t = torch.empty(n, dtype=dt)
                t.zero_()  # touch every page before timing
                t2 = t.view(n // cols, cols)
                case("torch", "uniform", dn, n, es, lambda: t.uniform_(-1.0, 1.0))
                case("torch", "normal", dn, n, es, lambda: t.normal_(0.0, 1.0))
                case("torch", "trunc_normal", dn, n, es, lambda: init.trunc_normal_(t, 0.0, 1.0, -2.0, 2.0))
                case("torch", "kaiming_uniform", dn, n, es, lambda: init.kaiming_uniform_(t2))
                case("torch", "xavier_normal", dn, n, es, lambda: init.xavier_normal_(t2))
                if args.ortho > 0:  # bf16 is recorded as torch's error (its QR has no bf16 kernel)
                    w = torch.empty(args.ortho, args.ortho, dtype=dt)
                    w.zero_()
                    case("torch", "orthogonal", dn, args.ortho ** 2, es, lambda: init.orthogonal_(w))
                del t, t2
            if not args.no_numpy and "f32" in args.dtypes.split(","):
                import numpy as np

                rng = np.random.default_rng(0)
                a = np.zeros(n, dtype=np.float32)  # allocated and touched before timing
                case("numpy", "standard_normal", "f32", n, 4,
                     lambda: rng.standard_normal(dtype=np.float32, out=a))
                case("numpy", "random", "f32", n, 4, lambda: rng.random(dtype=np.float32, out=a))
                del a

        if args.llama7b or args.only_llama7b:
            # One Llama-2-7B layer in bf16 and the embeddings, each tensor
            # allocated and touched first; normal_(0, 0.02) timed per set.
            D, F, V, L = 4096, 11008, 32000, 32
            shapes = [(D, D)] * 4 + [(F, D), (F, D), (D, F), (D,), (D,)]
            layer = [torch.zeros(s, dtype=torch.bfloat16) for s in shapes]
            n_layer = sum(x.numel() for x in layer)

            def fill_layer():
                for x in layer:
                    init.normal_(x, 0.0, 0.02)
            lm, lmin, lk = timed(fill_layer, max(3, args.reps), args.budget_s)
            del layer
            emb = torch.zeros((V, D), dtype=torch.bfloat16)
            em, emin, ek = timed(lambda: init.normal_(emb, 0.0, 0.02), max(3, args.reps), args.budget_s)
            del emb
            total = L * n_layer + 2 * V * D + D
            est = L * lm + 2 * em  # output (D x V) has the embedding's size; final norm ~0
            out({"impl": "torch", "op": "llama7b_normal", "dtype": "bf16", "n": total, "bytes": total * 2,
                 "reps": min(lk, ek), "median_s": round(est, 4), "layer_median_s": round(lm, 6),
                 "embed_median_s": round(em, 6), "layer_params": n_layer,
                 "ns_per_elem": round(est * 1e9 / total, 4), "gbps": round(total * 2 / est * 1e-9, 3),
                 "note": "extrapolated: 32 x one layer + 2 x embedding (32000x4096), median of each"})
    if not args.json:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""report.py -- bench/run.sh's table: reads the JSON lines of bench_fill and
torch_fill.py, prints the Markdown table, writes bench/results.json (machine
and every figure) and bench/results.md (regenerated from results.json).

usage: report.py DEFAULT.jsonl NNINIT.jsonl TORCH.jsonl --json OUT --md OUT
       report.py --from-json bench/results.json --md bench/results.md
"""
import argparse
import json
import os
import re
import sys

OPS = ["uniform", "normal", "trunc_normal", "kaiming_uniform", "xavier_normal", "orthogonal"]
TORCH_NAME = {"uniform": "uniform_", "normal": "normal_", "trunc_normal": "trunc_normal_",
              "kaiming_uniform": "kaiming_uniform_", "xavier_normal": "xavier_normal_",
              "orthogonal": "orthogonal_"}
NUMPY_FOR = {("normal", "f32"): "standard_normal", ("uniform", "f32"): "random"}


def load(p):
    return [json.loads(l) for l in open(p) if l.strip()] if p and os.path.exists(p) else []


def machine(default_meta):
    info = {}
    try:
        txt = open("/proc/cpuinfo").read()
        m = re.search(r"^model name\s*:\s*(.*)$", txt, re.M)
        info["cpu_model"] = m.group(1).strip() if m else "unknown"
        m = re.search(r"^cpu MHz\s*:\s*(.*)$", txt, re.M)
        info["cpuinfo_mhz"] = float(m.group(1)) if m else None
        flags = set(re.search(r"^flags\s*:\s*(.*)$", txt, re.M).group(1).split())
        info["flags"] = {f: f in flags for f in ("avx2", "fma", "avx512f", "avx512dq", "avx512bw",
                                                   "avx512vl", "avx512_bf16", "constant_tsc", "nonstop_tsc")}
    except (OSError, AttributeError):
        pass
    E = os.environ
    info.update({
        "cores": os.cpu_count(),
        "kernel_path_default": default_meta.get("arch"),
        "tsc_hz": default_meta.get("tsc_hz"),
        "tsc_source": default_meta.get("tsc_source"),
        "nninit_version": default_meta.get("version"),
        "compiler": E.get("BENCH_CC"), "build_type": E.get("BENCH_BUILD_TYPE"),
        "commit": E.get("BENCH_COMMIT"),
        "uncommitted_library_files": int(E.get("BENCH_DIRTY", "0") or 0),
        "load_before": E.get("BENCH_LOAD_BEFORE"), "load_after": E.get("BENCH_LOAD_AFTER"),
        "mem_available_gib": E.get("BENCH_MEM_GIB"),
        "torch": E.get("BENCH_TORCH_VERSION"), "numpy": E.get("BENCH_NUMPY_VERSION"),
    })
    return info


def collect(args):
    dflt = load(args.inputs[0])
    meta0 = next((r for r in dflt if r.get("impl") == "meta"), {})
    nn, metas, cur = [], [], None
    for r in load(args.inputs[1]):
        if r.get("impl") == "meta":
            cur = r
            metas.append(r)
            continue
        r["arch_requested"] = (cur or {}).get("arch_requested") or r.get("arch")
        r["fill_threads_linked"] = (cur or {}).get("fill_threads_linked")
        nn.append(r)
    E = os.environ
    return {
        "date": E.get("BENCH_DATE") or __import__("datetime").datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        "command": E.get("BENCH_COMMAND", "bash bench/run.sh"),
        "seconds": int(E.get("BENCH_SECONDS", "0") or 0),
        "n": int(E.get("BENCH_N_USED", "0") or 0), "n_slow": int(E.get("BENCH_N_SLOW_USED", "0") or 0),
        "n_mid": int(E.get("BENCH_N_MID_USED", "0") or 0),
        "reps": int(E.get("BENCH_REPS_USED", "5") or 5),
        "archs_tried": E.get("BENCH_ARCHS_USED", "").split(),
        "machine": machine(meta0),
        "runs": metas,
        "nninit": nn,
        "torch_numpy": load(args.inputs[2]),
    }


# ---- lookups -------------------------------------------------------------
def idx(res):
    nn = {}
    for r in res["nninit"]:
        nn[(r["arch_requested"], r["op"], r["dtype"], r["threads"])] = r
    tn = {}
    for r in res["torch_numpy"]:
        tn.setdefault((r["impl"], r["op"], r["dtype"]), []).append(r)
    return nn, tn


def best(rows):
    ok = [r for r in rows or [] if r and "median_s" in r]
    return min(ok, key=lambda r: r["median_s"]) if ok else None


def fmt(x, d=2):
    if x is None:
        return "n/a"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{d}f}"


def archs_measured(res):
    seen = []
    for m in res["runs"]:
        a = m.get("arch_requested")
        if a and a not in seen:
            seen.append(a)
    return seen


def arch_ok(res, a):
    return any(r["arch_requested"] == a and "median_s" in r for r in res["nninit"])


def best_arch(res):
    for a in ("avx512bf16", "avx512", "avx2", "scalar", "portable"):
        if arch_ok(res, a):
            return a
    return None


def analysis(res):
    nn, tn = idx(res)
    allT = res["machine"].get("cores") or 1
    A = best_arch(res)
    g = lambda a, op, dt, t: nn.get((a, op, dt, t))
    goals = []

    def goal(name, value, target, ok, how):
        goals.append({"goal": name, "value": value, "target": target,
                      "met": None if ok is None else bool(ok), "how": how})

    def cyc(a, op):
        r = g(a, op, "f32", 1)
        return r.get("cycles_per_elem") if r and "median_s" in r else None

    for a, lim in (("avx512bf16", 1.5), ("avx512", 1.5), ("avx2", 3.0)):
        v, w = cyc(a, "philox_l1_uniform_cpu"), cyc(a, "philox_l1_uniform")
        goal(f"Philox per core, {a}: <= {lim} cycles/word", v, lim, None if v is None else v <= lim,
             "uniform f32 into a 4096-element L1-resident buffer, 1 thread, TSC cycles per 32-bit word "
             f"from the thread's CPU time (wall clock: {fmt(w)}); includes the u->float transform and the "
             "store: an upper bound")
    for a, lim in (("avx512bf16", 2.5), ("avx512", 2.5), ("avx2", 5.0)):
        v, w, fv = cyc(a, "normal_l1_cpu"), cyc(a, "normal_l1"), cyc(a, "normal")
        goal(f"normal f32, {a}: <= {lim} cycles/element", v, lim, None if v is None else v <= lim,
             "1 thread, 4096-element L1-resident buffer (compute per core), TSC cycles from the thread's "
             f"CPU time (wall clock: {fmt(w)}); on the full buffer, wall clock, memory traffic included: {fmt(fv)}")
    if A:
        for dt in ("f32", "bf16"):
            tr, no = g(A, "trunc_normal", dt, 1), g(A, "normal", dt, 1)
            v = tr["median_s"] / no["median_s"] if tr and no and "median_s" in tr and "median_s" in no else None
            extra = ""
            if dt == "f32":
                t1, n1 = g(A, "trunc_normal_l1_cpu", "f32", 1), g(A, "normal_l1_cpu", "f32", 1)
                if t1 and n1 and "median_s" in t1 and "median_s" in n1:
                    extra = f"; in L1 (compute only, CPU time): {t1['ns_per_elem'] / n1['ns_per_elem']:.2f}"
            goal(f"trunc_normal <= 2x normal ({dt}, {A}, 1 thread)", v, 2.0, None if v is None else v <= 2.0,
                 "time ratio trunc_normal / normal on the full buffer" + extra)
        worst = None
        for op in OPS[:5]:
            f, b = g(A, op, "f32", 1), g(A, op, "bf16", 1)
            if f and b and "median_s" in f and "median_s" in b:
                q = b["ns_per_elem"] / f["ns_per_elem"]
                if worst is None or q > worst[0]:
                    worst = (q, op)
        goal(f"bf16 within 10% of f32 ({A}, 1 thread, worst op{': ' + worst[1] if worst else ''})",
             worst[0] if worst else None, 1.10, None if worst is None else worst[0] <= 1.10,
             "ns/element bf16 / f32, the worst of the five element-wise schemes")
        u, m = g(A, "uniform", "f32", allT), nn.get(("__raw__",))
        ms = next((r for r in res["nninit"] if r["op"] == "memset" and r["dtype"] == "f32"
                   and r["threads"] == allT), None)
        v = u["gbps"] / ms["gbps"] if u and ms and "gbps" in u else None
        goal(f"uniform f32 >= 0.9x memset bandwidth ({allT} threads)", v, 0.9,
             None if v is None else v >= 0.9, "GB/s uniform / GB/s memset, same buffer")
        for op, lim in (("normal", 10.0), ("trunc_normal", 40.0)):
            n_ = g(A, op, "f32", allT)
            t_ = best(tn.get(("torch", op, "f32")))
            v = t_["median_s"] / n_["median_s"] if n_ and t_ and "median_s" in n_ else None
            goal(f"{op} f32 >= {lim:g}x torch {TORCH_NAME[op]} ({allT} threads vs torch's best)", v, lim,
                 None if v is None else v >= lim, "torch time / nninit time")
        worst = None
        for op in OPS[:5]:
            for dt in ("f32", "bf16"):
                a1, a2 = g(A, op, dt, 1), g(A, op, dt, allT)
                if a1 and a2 and "median_s" in a1 and "median_s" in a2:
                    q = a1["median_s"] / a2["median_s"]
                    if worst is None or q < worst[0]:
                        worst = (q, f"{op} {dt}")
        goal(f"threads scale >= 1.8x from 1 to {allT} cores ({A}, worst: {worst[1] if worst else '-'})",
             worst[0] if worst else None, 1.8, None if worst is None else worst[0] >= 1.8,
             "time 1 thread / time all threads, the worst of the element-wise cases")
    r7 = next((r for r in res["nninit"] if r["op"] == "llama7b_normal" and "median_s" in r), None)
    goal(f"Llama-2-7B bf16 normal(0.02) < 2 s on {allT} cores", r7["median_s"] if r7 else None, 2.0,
         None if r7 is None else r7["median_s"] < 2.0, r7["note"] if r7 else "not run")
    return goals


# ---- tables ----------------------------------------------------------------
def tables(res):
    nn, tn = idx(res)
    allT = res["machine"].get("cores") or 1
    archs = archs_measured(res)
    avail = [a for a in archs if arch_ok(res, a)]
    A = best_arch(res)
    L = []
    head = ["operation", "dtype"]
    for a in avail:
        head += [f"{a} 1T", f"{a} {allT}T"]
    head += ["torch (best T)", "numpy", "torch/nninit", "nninit/memset BW"]
    L.append("| " + " | ".join(head) + " |")
    L.append("|" + "---|" * 2 + "---:|" * (len(head) - 2))
    for op in OPS + ["memset", "stream"]:
        for dt in ("f32", "bf16"):
            cells = [op if op not in ("memset", "stream") else
                     ("memset()" if op == "memset" else "non-temporal store fill"), dt]
            have = False
            for ai, a in enumerate(avail):
                for t in (1, allT):
                    if op in ("memset", "stream") and ai > 0:
                        cells.append("")
                        continue
                    if op in ("memset", "stream"):
                        r = next((x for x in res["nninit"] if x["op"] == op and x["dtype"] == dt
                                  and x["threads"] == t), None)
                    else:
                        r = nn.get((a, op, dt, t))
                    if r and "median_s" in r:
                        have = True
                        cells.append(fmt(r["ns_per_elem"], 3))
                    elif r:
                        cells.append("error")
                    else:
                        cells.append("-")
            if not have and op in ("memset", "stream"):
                continue
            tb = best(tn.get(("torch", op, dt))) if op in TORCH_NAME else None
            terr = next((r for r in tn.get(("torch", op, dt), []) if "error" in r), None)
            cells.append(f"{fmt(tb['ns_per_elem'], 3)} ({tb['threads']}T)" if tb else
                         ("unsupported" if terr else "-"))
            np_ = best(tn.get(("numpy", NUMPY_FOR.get((op, dt), "?"), "f32")))
            cells.append(f"{fmt(np_['ns_per_elem'], 3)} ({NUMPY_FOR[(op, dt)]})" if np_ else "-")
            mine = nn.get((A, op, dt, allT)) if A and op in TORCH_NAME else None
            if op == "orthogonal":  # QR on the calling thread: the faster of the runs there are
                mine = best([nn.get((A, op, dt, 1)), nn.get((A, op, dt, allT))])
            cells.append(f"{tb['median_s'] / mine['median_s']:.1f}x" if tb and mine and "median_s" in mine
                         else "-")
            ms = next((x for x in res["nninit"] if x["op"] == "memset" and x["dtype"] == dt
                       and x["threads"] == allT and "gbps" in x), None)
            cells.append(f"{mine['gbps'] / ms['gbps']:.2f}" if mine and ms and "gbps" in mine and
                         op != "orthogonal" else "-")
            L.append("| " + " | ".join(cells) + " |")
    main = "\n".join(L)

    # per-path detail: GB/s and cycles/element
    D = ["| path | operation | dtype | threads | n | reps | median s | ns/elem | GB/s | TSC cycles/elem |",
         "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["nninit"]:
        if "median_s" not in r:
            D.append(f"| {r['arch_requested']} | {r['op']} | {r['dtype']} | {r['threads']} | | | "
                     f"{r.get('error', '')} | | | |")
            continue
        D.append(f"| {r['arch_requested']} | {r['op']} | {r['dtype']} | {r['threads']} | {r['n']} | "
                 f"{r['reps']} | {r['median_s']:.4f} | {r['ns_per_elem']:.3f} | {r['gbps']:.2f} | "
                 f"{r['cycles_per_elem']:.3f} |")
    detail = "\n".join(D)

    P = ["| impl | operation | dtype | threads | n | reps | median s | ns/elem | GB/s |",
         "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in res["torch_numpy"]:
        if "median_s" not in r:
            P.append(f"| {r['impl']} | {r['op']} | {r['dtype']} | {r['threads']} | | | "
                     f"unsupported: {r.get('error', '')[:80]} | | |")
            continue
        P.append(f"| {r['impl']} | {r['op']} | {r['dtype']} | {r['threads']} | {r['n']} | {r['reps']} | "
                 f"{r['median_s']:.4f} | {r['ns_per_elem']:.3f} | {r['gbps']:.2f} |")
    py = "\n".join(P)
    return main, detail, py, avail


def llama_table(res):
    r7 = [r for r in res["nninit"] if r["op"] == "llama7b_normal"]
    t7 = [r for r in res["torch_numpy"] if r["op"] == "llama7b_normal" and "median_s" in r]
    L = ["| implementation | threads | seconds (median) | GB/s | note |", "|---|---:|---:|---:|---|"]
    for r in r7:
        if "median_s" in r:
            L.append(f"| nninit normal(0, 0.02), path {r.get('arch')} | {r['threads']} | {r['median_s']:.3f} "
                     f"(of {r['reps']}) | {r['gbps']:.2f} | {r['note']} |")
    tb = best(t7)
    for r in t7:
        L.append(f"| torch.nn.init.normal_ (extrapolated) | {r['threads']} | {r['median_s']:.2f} | "
                 f"{r['gbps']:.2f} | one layer {r['layer_median_s']:.3f} s x 32 + 2 x embedding "
                 f"{r['embed_median_s']:.3f} s{' (best)' if r is tb else ''} |")
    mine = next((r for r in r7 if "median_s" in r), None)
    if mine and tb:
        L.append("")
        L.append(f"torch (extrapolated, best thread setting) / nninit: **{tb['median_s'] / mine['median_s']:.1f}x**")
    return "\n".join(L)


def l1_table(res):
    nn, _ = idx(res)
    avail = [a for a in archs_measured(res) if arch_ok(res, a)]
    L = ["| 1 thread, TSC cycles/element | " + " | ".join(avail) + " |", "|---|" + "---:|" * len(avail)]
    for op, label in (("philox_l1_uniform_cpu", "uniform f32 in L1 (= Philox per 32-bit word, upper bound), CPU time"),
                      ("normal_l1_cpu", "normal f32 in L1, CPU time"),
                      ("trunc_normal_l1_cpu", "trunc_normal f32 in L1, CPU time"),
                      ("philox_l1_uniform", "uniform f32 in L1, wall clock"),
                      ("normal_l1", "normal f32 in L1, wall clock"), ("trunc_normal_l1", "trunc_normal f32 in L1, wall clock"),
                      ("normal", "normal f32, full buffer"), ("philox4x32_call", "nninit_philox4x32() per word")):
        cells = []
        for a in avail:
            r = nn.get((a, op, "u32" if op == "philox4x32_call" else "f32", 1))
            cells.append(fmt(r["cycles_per_elem"]) if r and "median_s" in r else "-")
        L.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(L)


def goals_table(goals):
    L = ["| goal | measured | met? | how |", "|---|---:|---|---|"]
    for g in goals:
        met = "n/a" if g["met"] is None else ("**met**" if g["met"] else "**missed**")
        L.append(f"| {g['goal']} | {fmt(g['value'], 2)} | {met} | {g['how']} |")
    return "\n".join(L)


def cpu_share(res):
    """thread CPU time / wall time of the 1-thread L1 cases: the share of a
    core this benchmark got (1.0 on an idle machine)."""
    nn, _ = idx(res)
    q = []
    for (a, op, dt, t), r in nn.items():
        if op.endswith("_l1") and "median_s" in r:
            c = nn.get((a, op + "_cpu", dt, t))
            if c and "median_s" in c:
                q.append(c["median_s"] / r["median_s"])
    return sorted(q)[len(q) // 2] if q else None


def machine_lines(res):
    m = res["machine"]
    share = cpu_share(res)
    fl = m.get("flags", {})
    return "\n".join([
        f"- date: {res['date']}; command: `{res['command']}` ({res['seconds']} s in all)",
        f"- CPU: {m.get('cpu_model')} (/proc/cpuinfo), {m.get('cores')} cores (nproc); "
        f"avx2 {'yes' if fl.get('avx2') else 'no'}, avx512f/dq/bw/vl "
        f"{'yes' if all(fl.get(f) for f in ('avx512f', 'avx512dq', 'avx512bw', 'avx512vl')) else 'no'}, "
        f"avx512_bf16 {'yes' if fl.get('avx512_bf16') else 'no'}; "
        f"TSC {m['tsc_hz'] / 1e6 if m.get('tsc_hz') else 0:.1f} MHz, {m.get('tsc_source')} "
        f"(/proc/cpuinfo cpu MHz says {m.get('cpuinfo_mhz')}); constant_tsc "
        f"{'yes' if fl.get('constant_tsc') else 'no'}",
        f"- kernel path the library picks by itself: **{m.get('kernel_path_default')}**; "
        f"paths measured: {', '.join(a for a in archs_measured(res) if arch_ok(res, a)) or 'none'}; "
        f"not available: {', '.join(a for a in archs_measured(res) if not arch_ok(res, a)) or 'none'}",
        f"- n = {res['n']} elements per buffer for the library's own path, torch and numpy; "
        f"{res.get('n_mid')} for another SIMD path, {res['n_slow']} for scalar and portable "
        f"(their costs are compute-bound; a smaller n keeps the run short); "
        f"median of {res['reps']} repetitions (a case past its time budget stops at 3: see reps below)",
        f"- nninit {m.get('nninit_version')}, {m.get('build_type')} build, {m.get('compiler')}, "
        f"commit {m.get('commit')}"
        + (f" plus {m['uncommitted_library_files']} uncommitted library files (work in progress)"
           if m.get("uncommitted_library_files") else ""),
        f"- torch {m.get('torch')}, numpy {m.get('numpy')}",
        f"- machine state: load average {m.get('load_before')} before, {m.get('load_after')} after "
        f"(shared machine{'; BUSY: other builds were running, so the figures are pessimistic and noisy' if float((m.get('load_before') or '0').split()[0]) > 1.5 else ''}); "
        f"MemAvailable {m.get('mem_available_gib')} GiB at the start"
        + (f"; a 1-thread case got {share:.0%} of a core (thread CPU time / wall time, median of the L1 "
           "cases)" + (": wall-clock figures are inflated by the other processes" if share < 0.9 else
                       ": the machine was effectively idle") if share is not None else ""),
    ])


EXPLAIN = """\
## How it is measured

- `bench_fill` (C, linked with the library) fills one buffer of n elements,
  as an (n/4096) x 4096 tensor for the schemes with fans, with
  `nninit_fill()` (1 thread) or `nninit_fill_threads()` (every core), in f32
  and bf16: uniform U(-1, 1), normal N(0, 1), trunc_normal (N(0, 1) on
  [-2, 2], PyTorch's default), kaiming_uniform and xavier_normal (PyTorch's
  defaults), orthogonal on 4096 x 4096 (Householder reflectors from the
  normal stream, Q formed by LAPACK's dorgqr in double: OpenBLAS, whose pool
  is sized by OPENBLAS_NUM_THREADS, set to the thread count of the run).
  It runs once per kernel path (NNINIT_ARCH=avx512bf16, avx512, avx2, scalar,
  portable);
  a path the CPU or build lacks makes every fill fail with NNINIT_ERR_ARCH and
  is reported as not available.
- The physical limit: `memset()` of the same buffer (with the byte 0x3f: zeros
  are written much faster than any other byte on some machines, this VM
  among them, and a fill's bytes are not zeros) and a non-temporal-store
  fill (`_mm256_stream_si256` where the CPU has AVX2), split over the same
  threads as the fills.
- `torch_fill.py` times `torch.Tensor.uniform_`, `normal_`,
  `torch.nn.init.trunc_normal_`, `kaiming_uniform_`, `xavier_normal_` and
  `orthogonal_` (4096^2; in bf16 torch's QR raises an error, shown as
  "unsupported") on the same sizes and
  dtypes, once with `torch.set_num_threads(1)` and once with every core
  (OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set to match), and keeps the
  faster (the T in the table says which); NumPy's `Generator(PCG64)`
  `standard_normal(dtype=float32, out=)` and `random(dtype=float32, out=)`,
  single-threaded, for context.
- Every buffer is allocated and written once before any timing, so first-touch
  page faults are not timed. Each case runs 5 times and the **median** wall
  time (CLOCK_MONOTONIC) is kept; ns/element = median / n; GB/s = bytes
  written / median; cycles/element = median x TSC frequency / n. The TSC is
  constant (constant_tsc, nonstop_tsc), so these are reference cycles at the
  nominal clock, not core clocks under boost.
- Per-core compute, no memory traffic: uniform, normal and trunc_normal f32
  into a 4096-element (16 KiB) buffer that stays in L1, repeated for ~50 ms,
  1 thread, per path (`*_l1` rows). Uniform there is the Philox-per-word
  figure: the generator plus the bits -> float transform and the store, so an
  upper bound on Philox4x32-10 alone. `philox4x32_call` is the public
  one-block `nninit_philox4x32()`, scalar by definition, for reference.
- The 7B case: the Llama-2-7B tensor set (vocab 32000, dim 4096, 32 layers,
  FFN 11008: per layer wq, wk, wv, wo 4096x4096, w1, w3 11008x4096, w2
  4096x11008, two RMSNorm 4096 vectors; embeddings 32000x4096, output
  4096x32000, final norm; 6.74e9 parameters, 13.5 GB in bf16), every tensor
  normal(0, 0.02) in bf16 with its own key (its name), on every core, all
  tensors resident when MemAvailable holds them with 4 GiB to spare, else
  layer by layer into one reused buffer (the note says which). PyTorch's
  figure is **extrapolated**: `torch.nn.init.normal_` on the bf16 tensors of
  one layer times 32, plus twice the 32000x4096 embedding.
- The values are not compared: nninit uses counter-based Philox4x32-10 with its
  own bits-to-floats transforms (docs/RNG.md), PyTorch its own generator, so
  the two are not bit-identical and are not meant to be.
- These are medians on whatever machine ran them, which may be shared and
  virtualized; expect run-to-run variation of tens of percent. Compare
  numbers only from the same run of `run.sh`. No test asserts a time.

## Reading the tables

- Cells of the first table are **ns per element** (lower is better); `1T` one
  thread, `NT` every core. `torch/nninit` is torch's best time over nninit's
  on every core with the widest path (> 1: nninit is faster);
  `nninit/memset BW` is that fill's bandwidth over memset's on every core
  (1.0: the fill runs at memory speed).
- A fill that is compute-cheap ends up bound by memory write bandwidth once the
  buffer is far larger than the caches; the normal and truncated-normal fills
  are dominated by the transform (Box-Muller; exact rejection sampling for the
  truncated normal, see docs/RNG.md; PyTorch's trunc_normal_ is uniform_ +
  erfinv_ + clamp_).
"""


def markdown(res, goals):
    main, detail, py, avail = tables(res)
    return "\n\n".join([
        "# nninit fill benchmark",
        machine_lines(res),
        "## Fill time, ns per element (median)",
        main,
        "## Per-core compute (no memory traffic)",
        l1_table(res),
        "## Goals",
        goals_table(goals),
        "## Llama-2-7B in bf16",
        llama_table(res),
        EXPLAIN.rstrip(),
        "## Every nninit figure",
        detail,
        "## Every PyTorch and NumPy figure",
        py,
    ]) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inputs", nargs="*")
    ap.add_argument("--from-json")
    ap.add_argument("--json")
    ap.add_argument("--md")
    args = ap.parse_args()
    if args.from_json:
        res = json.load(open(args.from_json))
    else:
        res = collect(args)
    goals = analysis(res)
    res["goals"] = goals
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
    md = markdown(res, goals)
    if args.md:
        with open(args.md, "w") as f:
            f.write(md)
    main_, _, _, _ = tables(res)
    print(machine_lines(res))
    print()
    print(main_)
    print()
    print(l1_table(res))
    print()
    print(goals_table(goals))
    print()
    print(llama_table(res))
    if args.json:
        print(f"\nwrote {args.json} and {args.md}", file=sys.stderr)


if __name__ == "__main__":
    main()

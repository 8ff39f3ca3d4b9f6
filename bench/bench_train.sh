#!/usr/bin/env bash
# bench_train.sh -- one training epoch, nninit train vs PyTorch, in one go.
#
#   bash bench/bench_train.sh [--save] [--repeats R] [--threads "1 2"] [--seed S]
#
# Same work on both sides: MLP 784-256-256-256-256-10 (ReLU), PyTorch's default
# init, softmax cross-entropy, SGD lr 0.01 momentum 0.9, batch 128, one epoch
# of Fashion-MNIST (468 steps), data in memory, a fresh permutation per epoch;
# only the training loop is timed. Builds the CLI if needed (BUILD_DIR, default
# "build", relative to the source root), then for each thread count T runs
# `nninit train --threads T` (best of R runs) and bench/torch_train.py (best of
# R), and prints a Markdown table. --save also writes it to
# bench/train-results.md. The stated goal is nninit/torch <= 0.5; the ratio is
# printed whatever it is and nothing fails when the goal is missed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

BUILD_DIR=${BUILD_DIR:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
save=0 repeats=3 threads="1 2" seed=0
while [ $# -gt 0 ]; do
    case "$1" in
        --save) save=1 ;;
        --repeats) repeats=$2; shift ;;
        --threads) threads=$2; shift ;;
        --seed) seed=$2; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "bench_train.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

bin="$BUILD_DIR/nninit"
# Configure only when the build directory is new; always build (a no-op when
# up to date) so a stale binary is never timed.
[ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S . -B "$BUILD_DIR" >&2
cmake --build "$BUILD_DIR" --target nninit_cli >&2
if ! "$bin" train --help >/dev/null 2>&1; then
    echo "bench_train.sh: '$bin train' is not available in this build" >&2
    exit 1
fi
# --no-eval (no test evaluation at all) when the CLI has it; the evaluations
# are excluded from "seconds" either way.
noeval=()
if "$bin" train --help 2>&1 | grep -q -- '--no-eval'; then noeval=(--no-eval); fi

arch="784 -> [dense 256 relu] x4 -> dense 10"
common=(--arch "$arch" --optim sgd --lr 0.01 --momentum 0.9 --batch 128 --epochs 1
        --seed "$seed" --json --quiet)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for t in $threads; do
    # One untimed run with the test evaluation: gives the test accuracy (the
    # timed runs are the same computation, bit for bit) and warms the caches.
    echo "nninit train --threads $t: accuracy run, then $repeats timed run(s) ..." >&2
    "$bin" train "${common[@]}" --threads "$t" > "$tmp/nninit-$t-eval.json"
    for r in $(seq 1 "$repeats"); do
        "$bin" train "${common[@]}" --threads "$t" "${noeval[@]}" > "$tmp/nninit-$t-$r.json"
    done
    echo "torch_train.py --threads $t (best of $repeats) ..." >&2
    # OMP_WAIT_POLICY=PASSIVE: with T > 1, torch's OpenMP workers otherwise
    # spin between parallel regions while OpenBLAS's own threads (also T)
    # run the matrix products: more busy threads than cores, several times
    # slower (and minutes per epoch on a loaded machine).
    wait_env=()
    if [ "$t" -gt 1 ]; then wait_env=(OMP_WAIT_POLICY=PASSIVE); fi
    env "${wait_env[@]}" "$PYTHON" "$here/torch_train.py" --threads "$t" --repeats "$repeats" \
        --seed "$seed" > "$tmp/torch-$t-a.json"
    if [ "$t" -gt 1 ]; then
        # nninit threads only its matrix products (OpenBLAS); the same split for
        # torch: one intra-op thread, T OpenBLAS threads. The faster torch
        # configuration is the one compared.
        echo "torch_train.py --threads 1 --blas-threads $t (best of $repeats) ..." >&2
        "$PYTHON" "$here/torch_train.py" --threads 1 --blas-threads "$t" --repeats "$repeats" \
            --seed "$seed" > "$tmp/torch-$t-b.json"
    fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n1)
cores=$(nproc)
torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)')
openblas=$(dpkg-query -W -f='${db:Status-Abbrev}${Package} ${Version}\n' 'libopenblas0*' 2>/dev/null \
            | sed -n 's/^ii *//p' | paste -sd, - | sed 's/,/, /g')
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" | head -n1)
cc_version=$("${cc:-cc}" --version 2>/dev/null | head -n1 || true)
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" | head -n1)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "none")
dirty=$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (work tree modified)" || true)

BENCH_DATE=$(date -u '+%Y-%m-%d %H:%M UTC') BENCH_MODEL=${model:-unknown} BENCH_CORES=$cores \
BENCH_TORCH=$torch_version BENCH_OPENBLAS=${openblas:-unknown} BENCH_CC=${cc_version:-unknown compiler} \
BENCH_BUILD_TYPE=${build_type:-default} BENCH_COMMIT="$commit$dirty" BENCH_REPEATS=$repeats \
BENCH_THREADS=$threads BENCH_NOEVAL=${#noeval[@]} BENCH_SEED=$seed \
BENCH_LOAD="$load_before -> $load_after" \
"$PYTHON" - "$tmp" > "$tmp/table.md" <<'PY'
import glob, json, os, sys
E = os.environ
tmp = sys.argv[1]
R = int(E["BENCH_REPEATS"])

def load(p):
    return json.load(open(p)) if os.path.exists(p) else None

def f(x, d=3):
    return "n/a" if x is None else f"{x:.{d}f}"

def pct(x):
    return "n/a" if x is None else f"{100 * x:.2f}%"

rows = []
for t in E["BENCH_THREADS"].split():
    runs = [load(p) for p in sorted(glob.glob(f"{tmp}/nninit-{t}-[0-9]*.json"))]
    nn_all = [r["seconds"] for r in runs if r and r.get("seconds") is not None]
    ev = load(f"{tmp}/nninit-{t}-eval.json") or {}
    steps = {r.get("steps") for r in runs if r}
    ta, tb = load(f"{tmp}/torch-{t}-a.json"), load(f"{tmp}/torch-{t}-b.json")
    cands = [(c["seconds"], lbl, c) for c, lbl in
             ((ta, f"intra-op {t}, BLAS {t}" + (", OMP_WAIT_POLICY=PASSIVE" if t != "1" else "")), (tb, f"intra-op 1, BLAS {t}")) if c]
    tbest = min(cands, key=lambda c: c[0]) if cands else (None, "n/a", {})
    nn = min(nn_all) if nn_all else None
    rows.append(dict(t=t, nn=nn, nn_all=nn_all, nn_acc=ev.get("final_test_acc"),
                     nn_eval_s=ev.get("seconds"), nn_steps=steps, torch=tbest[0],
                     torch_cfg=tbest[1], torch_acc=tbest[2].get("test_acc"), cands=cands,
                     ratio=(nn / tbest[0]) if nn is not None and tbest[0] else None))

print(f"# nninit training benchmark, {E['BENCH_DATE']}")
print()
print(f"- machine: {E['BENCH_MODEL']}, {E['BENCH_CORES']} core(s) (/proc/cpuinfo model name, nproc); "
      f"load average {E['BENCH_LOAD']} (1/5/15 min, before -> after)")
print(f"- work: MLP 784-256-256-256-256-10 (ReLU), PyTorch's nn.Linear default init, softmax "
      f"cross-entropy, SGD lr 0.01 momentum 0.9, batch 128, one epoch of Fashion-MNIST "
      f"(60000 images standardized, last partial batch dropped: 468 steps), seed {E['BENCH_SEED']}")
print(f"- nninit: `nninit train ... --threads T"
      f"{' --no-eval' if E['BENCH_NOEVAL'] != '0' else ''}`, best of {R} runs of its "
      f"\"seconds\" (training loop only); {E['BENCH_BUILD_TYPE']} build, {E['BENCH_CC']}, "
      f"commit {E['BENCH_COMMIT']}; test accuracy from one extra untimed run with evaluation, run first")
print(f"- torch {E['BENCH_TORCH']} (bench/torch_train.py): best of {R} epochs after 5 warm-up "
      f"steps, torch.set_num_interop_threads(1); test accuracy after timing")
print(f"- OpenBLAS (both sides): {E['BENCH_OPENBLAS']}")
print()
print("| threads | nninit s/epoch | torch s/epoch | ratio nninit/torch | nninit test acc | torch test acc |")
print("|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r['t']} | {f(r['nn'])} | {f(r['torch'])} | {f(r['ratio'], 2)} | "
          f"{pct(r['nn_acc'])} | {pct(r['torch_acc'])} |")
print()
for r in rows:
    if r["ratio"] is None:
        print(f"- {r['t']} thread(s): no ratio (a run failed).")
    else:
        verdict = "met" if r["ratio"] <= 0.5 else "missed"
        print(f"- {r['t']} thread(s): goal nninit/torch <= 0.5 {verdict} "
              f"(ratio {r['ratio']:.2f}; nninit at {1 / r['ratio']:.2f}x torch's speed).")
print()
print("All timed runs (seconds per epoch):")
print()
print("| threads | program | configuration | runs | best |")
print("|---:|---|---|---|---:|")
for r in rows:
    print(f"| {r['t']} | nninit | `--threads {r['t']}` (OpenBLAS {r['t']}) | "
          f"{', '.join(f(x) for x in r['nn_all'])} | {f(r['nn'])} |")
    for s, lbl, c in r["cands"]:
        mark = " (compared)" if len(r["cands"]) > 1 and lbl == r["torch_cfg"] else ""
        print(f"| {r['t']} | torch | {lbl}{mark} | {', '.join(f(x) for x in c['all'])} | {f(s)} |")
print()
print("torch's configurations: `intra-op N` is torch.set_num_threads(N), `BLAS M` is "
      "OPENBLAS_NUM_THREADS=M (Debian's torch does its matrix products in OpenBLAS, whose "
      "pool torch does not size); with T > 1 the set_num_threads(T) run has OMP_WAIT_POLICY=PASSIVE, "
      "without which torch's spinning OpenMP workers and OpenBLAS's threads oversubscribe the cores "
      "(several times slower). With more than one thread both the set_num_threads(T) "
      "configuration and nninit's own split (only the matrix products threaded) are run, and "
      "the faster is compared.")
print()
print("Wall-clock minima on a possibly shared, virtualized machine: they vary from run to run. "
      "Compare numbers only from the same run of bench_train.sh. No test asserts a time.")
PY

cat "$tmp/table.md"
if [ "$save" = 1 ]; then
    cp "$tmp/table.md" "$here/train-results.md"
    echo "wrote $here/train-results.md" >&2
fi

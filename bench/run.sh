#!/usr/bin/env bash
# run.sh -- nninit vs PyTorch fill throughput, on this machine, in one go.
#
#   bash bench/run.sh [--save] [--reps N] [--n LOG2] [--threads T]
#
# Builds bench_fill if needed (BUILD_DIR, default "build", relative to the
# source root), runs bench/bench_fill and bench/torch_fill.py with the same
# size and repetitions, and prints a Markdown table of ns per element.
# --save also writes the table to bench/results.md. Nothing here asserts a time.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

BUILD_DIR=${BUILD_DIR:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
save=0 reps=5 log2n=26 threads=1
while [ $# -gt 0 ]; do
    case "$1" in
        --save) save=1 ;;
        --reps) reps=$2; shift ;;
        --n) log2n=$2; shift ;;
        --threads) threads=$2; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

bin="$BUILD_DIR/bench/bench_fill"
# Configure only when the build directory is new; the build step is always run
# (a no-op when up to date) so a stale library is never benchmarked.
[ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S . -B "$BUILD_DIR" >&2
cmake --build "$BUILD_DIR" --target bench_fill >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "running bench_fill (n=2^$log2n, best of $reps) ..." >&2
"$bin" --n "$log2n" --reps "$reps" --json > "$tmp/nninit.jsonl"
echo "running torch_fill.py (threads=$threads) ..." >&2
"$PYTHON" "$here/torch_fill.py" --n "$log2n" --reps "$reps" --threads "$threads" --json \
    > "$tmp/torch.jsonl"

model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)
cores=$(nproc)
torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)')
numpy_version=$("$PYTHON" -c 'import numpy; print(numpy.__version__)')
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" | head -n1)
cc_version=$("${cc:-cc}" --version 2>/dev/null | head -n1 || true)
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" | head -n1)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "none")

BENCH_DATE=$(date -u '+%Y-%m-%d %H:%M UTC') BENCH_MODEL=$model BENCH_CORES=$cores \
BENCH_TORCH=$torch_version BENCH_NUMPY=$numpy_version BENCH_CC=${cc_version:-unknown compiler} \
BENCH_BUILD_TYPE=${build_type:-default} BENCH_COMMIT=$commit BENCH_LOG2N=$log2n \
BENCH_REPS=$reps BENCH_THREADS=$threads \
"$PYTHON" - "$tmp/nninit.jsonl" "$tmp/torch.jsonl" > "$tmp/table.md" <<'PY'
import json, os, sys
E = os.environ
def load(p):
    return [json.loads(l) for l in open(p) if l.strip()]
nn = {r["scheme"]: r for r in load(sys.argv[1])}
rows = load(sys.argv[2])
tc = {r["scheme"]: r for r in rows if r["impl"] == "torch"}
npy = [r for r in rows if r["impl"] == "numpy"]
log2n = int(E["BENCH_LOG2N"])
n = 2 ** log2n
rows_, cols_ = 2 ** (log2n // 2), 2 ** (log2n - log2n // 2)
def f(x):
    return "n/a" if x is None else f"{x:.3f}"
print(f"# nninit fill benchmark, {E['BENCH_DATE']}")
print()
print(f"- machine: {E['BENCH_MODEL']}, {E['BENCH_CORES']} core(s) (lscpu model name, nproc)")
print(f"- n = 2^{log2n} = {n} float32 elements (nninit: {rows_} x {cols_} tensor; "
      f"torch/numpy: flat), best of {E['BENCH_REPS']} after one warm-up")
print(f"- nninit: single thread, {E['BENCH_BUILD_TYPE']} build, {E['BENCH_CC']}, "
      f"commit {E['BENCH_COMMIT']}")
print(f"- torch {E['BENCH_TORCH']}, torch.set_num_threads({E['BENCH_THREADS']}); "
      f"numpy {E['BENCH_NUMPY']} (single thread)")
print()
print("| scheme | nninit ns/elem | torch ns/elem | ratio (nninit/torch) |")
print("|---|---:|---:|---:|")
for s in ("uniform", "normal", "trunc_normal"):
    a = nn.get(s, {}).get("ns_per_elem")
    b = tc.get(s, {}).get("ns_per_elem")
    r = f"{a / b:.2f}" if a is not None and b else "n/a"
    print(f"| {s} | {f(a)} | {f(b)} | {r} |")
print()
print("NumPy, for context (np.random.default_rng(0), float32, written into a preallocated array):")
print()
print("| numpy | ns/elem |")
print("|---|---:|")
for r in npy:
    print(f"| rng.{r['scheme']} | {f(r['ns_per_elem'])} |")
print()
print("Wall-clock minima on a possibly shared machine: they vary from run to run. "
      "No target is set and no test asserts a time.")
PY

cat "$tmp/table.md"
if [ "$save" = 1 ]; then
    cp "$tmp/table.md" "$here/results.md"
    echo "wrote $here/results.md" >&2
fi

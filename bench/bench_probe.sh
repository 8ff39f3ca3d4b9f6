#!/usr/bin/env bash
# Times `nninit probe` on a 50-layer, width-1000 tanh MLP at batch 256 (forward,
# backward, statistics, mean-field theory), separately from building and
# initializing its 50M weights; then the conv probe (1x28x28, nine 3x3 convs,
# batch 256, 10 SGD steps) and bench_conv: the conv kernels' and the conv
# net's forward + backward in GFLOP/s next to a large sgemm measured in the
# same run. Best of N runs. Not a test: timings are never asserted.
#
#   bash bench/bench_probe.sh [N]          # N repetitions (default 5)
#   BENCH_CONV=0 bash bench/bench_probe.sh # skip the conv part
#
# OpenBLAS threads: its default (every core) unless OPENBLAS_NUM_THREADS is
# set, as for `nninit probe` itself; bench_conv prints the count.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
reps=${1:-5}
export NNINIT_PROBE_PROGRESS_AFTER=1e9 # no progress lines on stderr between the tables
[ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S . -B "$BUILD_DIR" >/dev/null
cmake --build "$BUILD_DIR" --target nninit_cli >/dev/null
arch="784 -> [dense 1000 tanh] x50 -> dense 10"
echo "# nninit probe timing, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) core(s); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- arch: $arch, --init xavier_normal, batch 256, --steps 0"
best_init=1e9; best=1e9
for i in $(seq "$reps"); do
  read -r ti tp < <("$BUILD_DIR/nninit" probe --arch "$arch" --init xavier_normal --batch 256 --steps 0 --json |
    /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["init_seconds"], r["seconds"])')
  best_init=$(/usr/bin/python3 -c "print(min($best_init, $ti))")
  best=$(/usr/bin/python3 -c "print(min($best, $tp))")
done
echo
echo "| step | best of $reps (s) |"
echo "|---|---:|"
echo "| build + initialize (50M weights) | $best_init |"
echo "| probe: forward, backward, statistics, theory | $best |"

[ "${BENCH_CONV:-1}" = 0 ] && exit 0
cmake --build "$BUILD_DIR" --target bench_conv >/dev/null
carch="1x28x28 -> conv 16 3x3 p1 relu -> [conv 16 3x3 p1 relu] x8 -> flatten -> dense 10"
cinit="kaiming_normal(nonlinearity=relu)"
echo
echo "## conv probe"
echo "- arch: $carch, --init '$cinit', batch 256, 10 SGD steps (the defaults)"
best_wall=1e9; best=1e9
for i in $(seq "$reps"); do
  t0=$(date +%s.%N)
  tp=$("$BUILD_DIR/nninit" probe --arch "$carch" --init "$cinit" --json |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
  t1=$(date +%s.%N)
  best_wall=$(/usr/bin/python3 -c "print(round(min($best_wall, $t1 - $t0), 3))")
  best=$(/usr/bin/python3 -c "print(min($best, $tp))")
done
echo
echo "| step | best of $reps (s) |"
echo "|---|---:|"
echo "| probe (the report's \"seconds\"): forward, backward, statistics, 10 SGD steps | $best |"
echo "| the whole command (wall) | $best_wall |"
echo
echo "## conv forward + backward against sgemm (bench_conv)"
echo "- GFLOP/s counts 2 M N K for each product: forward, dW and dx (none for the first layer);"
echo "  the last column is the fraction of the square sgemm's rate measured in the same run"
echo
"$BUILD_DIR/bench/bench_conv" --reps "$reps" --arch "$carch"
echo
echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

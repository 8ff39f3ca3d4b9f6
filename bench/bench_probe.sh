#!/usr/bin/env bash
# Times `nninit probe` on a 50-layer, width-1000 tanh MLP at batch 256 (forward,
# backward, statistics, mean-field theory), separately from building and
# initializing its 50M weights. Best of N runs. Not a test: timings are never
# asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
reps=${1:-5}
[ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S . -B "$BUILD_DIR" >/dev/null
cmake --build "$BUILD_DIR" --target nninit_cli >/dev/null
arch="784 -> [dense 1000 tanh] x50 -> dense 10"
echo "# nninit probe timing, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) core(s); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
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

#!/usr/bin/env bash
# bench_checkpoint.sh -- writing whole checkpoints, nninit against dd, in one go.
#
#   bash bench/bench_checkpoint.sh [--dir D] [--repeats R] [--no-7b] [--save]
#
# The physical limit of writing a checkpoint is the disk: `dd if=/dev/zero
# bs=64M conv=fsync` writing as many bytes to the same directory is timed
# side by side with `nninit checkpoint` (which also fsyncs the file and its
# directory), alternately, R times each, after a `sync`. Cases:
#   gpt2       --recipe gpt2 (GPT-2 small, f32, 498 MB), in D and in /dev/shm
#   llama7b    --recipe llama-hf --set dtype=bf16 (Llama-2-7B, 13.5 GB), in D
# Reported: best and median seconds, MB/s, and nninit's speed over dd's
# (the goal for llama7b is >= 0.8), and the peak resident set of one more
# nninit run (GNU time's %M). D defaults to the build directory (a
# disk, not tmpfs); it needs 2 x 13.5 GB free for llama7b (--no-7b skips it).
# Builds the CLI if needed (BUILD_DIR, default "build"). --save writes the
# table to bench/checkpoint-results.md. Nothing fails when a goal is missed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

BUILD_DIR=${BUILD_DIR:-build}
save=0 repeats=3 big=1 dir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --save) save=1 ;;
        --repeats) repeats=$2; shift ;;
        --dir) dir=$2; shift ;;
        --no-7b) big=0 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "bench_checkpoint.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
    shift
done
[ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target nninit_cli >/dev/null
cli=$(cd "$BUILD_DIR" && pwd)/nninit
dir=${dir:-$(cd "$BUILD_DIR" && pwd)/bench-checkpoint}
mkdir -p "$dir"
work=$(mktemp -d "$dir/run.XXXXXX")
shm=$(mktemp -d /dev/shm/nninit-bench.XXXXXX)
trap 'rm -rf "$work" "$shm"' EXIT

now() { date +%s.%N; }
# rss CMD...: CMD's peak resident set in MB (GNU time), "n/a" without it
rss() {
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>&1 && echo "$(( $(tail -1 "$work/rss") / 1024 ))"
    else echo n/a; fi
}
# secs CMD...: wall seconds of CMD (stdout and stderr dropped)
secs() { local t0 t1; sync; t0=$(now); "$@" >/dev/null 2>&1; t1=$(now); echo "$t1 - $t0" | bc -l; }
stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.3f %.3f", a[1], (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

rows=()
# case NAME DIR RECIPE-ARGS...
run_case() {
    local name=$1 d=$2; shift 2
    local out="$d/$name.safetensors" ddf="$d/$name.dd" nt=() dt=() bytes
    "$cli" checkpoint "$@" -o "$out" --threads 0 >/dev/null 2>&1
    bytes=$(stat -c %s "$out")
    rm -f "$out"
    local count=$(( (bytes + (64 << 20) - 1) / (64 << 20) ))
    for _ in $(seq "$repeats"); do
        dt+=("$(secs dd if=/dev/zero of="$ddf" bs=64M count="$count" conv=fsync)")
        rm -f "$ddf"
        nt+=("$(secs "$cli" checkpoint "$@" -o "$out")")
        rm -f "$out"
    done
    local peak
    peak=$(rss "$cli" checkpoint "$@" -o "$out")
    rm -f "$out"
    local ddbytes=$(( count << 26 ))
    read -r nb nm <<<"$(stats "${nt[@]}")"
    read -r db dm <<<"$(stats "${dt[@]}")"
    local nmbs dmbs ratio
    nmbs=$(echo "$bytes / $nm / 1000000" | bc -l)
    dmbs=$(echo "$ddbytes / $dm / 1000000" | bc -l)
    ratio=$(echo "$nmbs / $dmbs" | bc -l)
    rows+=("$(printf '| %s | %s | %d | %.3f | %.3f | %.0f | %.3f | %.0f | %.2f | %s |' "$name" "$(df -T "$d" | awk 'NR==2 {print $2}')" "$bytes" "$nb" "$nm" "$nmbs" "$dm" "$dmbs" "$ratio" "$peak")")
    printf '%s: nninit best %.3f s median %.3f s (%.0f MB/s); dd median %.3f s (%.0f MB/s); speed ratio %.2f\n' \
        "$name" "$nb" "$nm" "$nmbs" "$dm" "$dmbs" "$ratio" >&2
}

run_case gpt2 "$work" --recipe gpt2
run_case gpt2-shm "$shm" --recipe gpt2
[ "$big" = 1 ] && run_case llama7b-bf16 "$work" --recipe llama-hf --set dtype=bf16

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
fs=$(df -T "$work" | awk 'NR==2 {print $2}')
table=$(
    echo "# Checkpoint writing: nninit against dd"
    echo
    echo "\`bash bench/bench_checkpoint.sh --repeats $repeats$([ "$big" = 1 ] || echo ' --no-7b')\` on $(date -u +%Y-%m-%d),"
    echo "$cpu, $(nproc) CPUs, $("$cli" --version), output on $fs ($dir) and tmpfs (/dev/shm)."
    echo "Wall seconds of R=$repeats alternating runs after \`sync\`; dd writes the bytes rounded up to 64 MiB with conv=fsync;"
    echo "ratio = nninit MB/s / dd MB/s (medians); peak RSS of one more nninit run (GNU time); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "| case | dir | bytes | nninit best s | nninit median s | nninit MB/s | dd median s | dd MB/s | ratio | nninit peak RSS MB |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${rows[@]}"
)
echo "$table"
[ "$save" = 1 ] && echo "$table" >"$here/checkpoint-results.md"
exit 0

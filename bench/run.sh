#!/usr/bin/env bash
# run.sh -- nninit's fills vs PyTorch, NumPy and memset, on this machine, in one go.
#
#   bash bench/run.sh            (make bench: BUILD_DIR=build bash bench/run.sh)
#
# Environment (all optional):
#   BUILD_DIR     build directory, relative to the source root (default build)
#   BENCH_N       elements per buffer: an integer or 2^K (default 2^27)
#   BENCH_N_MID   elements for a SIMD path that is not the library's own choice
#                 (default min(BENCH_N, 2^24))
#   BENCH_N_SLOW  elements for the scalar and portable paths (default min(BENCH_N, 2^22));
#                 per-element costs there are compute-bound, not size-bound
#   BENCH_7B_REUSE 1: the 7B case fills one reused layer-sized buffer even when
#                 the 13.5 GB set fits (touching 13.5 GB takes ~70 s on this VM)
#   BENCH_7B_S    the 7B case stops repeating after this many seconds (default 30)
#   BENCH_REPS    repetitions per case; the median is reported (default 5)
#   BENCH_ARCHS   kernel paths to try (default "avx512bf16 avx512 avx2 scalar portable")
#   BENCH_ORTHO   orthogonal's side (default 4096; 0 skips it)
#   BENCH_ORTHO_THREADS  thread counts for orthogonal, nninit and torch (default "1 all")
#   BENCH_7B_TORCH_THREADS thread counts for torch's 7B extrapolation (default "1 all")
#   BENCH_7B      1 (default) runs the Llama-2-7B case, 0 skips it
#   BENCH_TORCH   1 (default) runs torch_fill.py, 0 skips it
#   BENCH_BUDGET_S a case that has spent this many seconds stops at 3 reps (default 20)
#
# Builds bench_fill (configuring BUILD_DIR if it has no CMakeCache.txt), runs
# bench_fill once per NNINIT_ARCH value and thread count (1 and every core),
# the 7B case, torch_fill.py at 1 thread and every core, then bench/report.py,
# which prints the table and writes bench/results.json and bench/results.md.
# Nothing here asserts a time.
set -euo pipefail
# The whole script is one function, read before it runs: editing this file
# during a run cannot change the run.
main() {

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

BUILD_DIR=${BUILD_DIR:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$root/$BUILD_DIR" ;; esac
pow() { case "$1" in *^*) echo $(( ${1%^*} ** ${1#*^} )) ;; *) echo $(( $1 )) ;; esac; }
N=$(pow "${BENCH_N:-2^27}")
N_MID=$(pow "${BENCH_N_MID:-$(( N < (1 << 24) ? N : (1 << 24) ))}")
N_SLOW=$(pow "${BENCH_N_SLOW:-$(( N < (1 << 22) ? N : (1 << 22) ))}")
REPS=${BENCH_REPS:-5}
ARCHS=${BENCH_ARCHS:-avx512bf16 avx512 avx2 scalar portable}
ORTHO=${BENCH_ORTHO:-4096}
BUDGET=${BENCH_BUDGET_S:-20}
ALL=$(nproc)
# thread counts ("1", "all") at which orthogonal and torch's 7B extrapolation run
ORTHO_T=${BENCH_ORTHO_THREADS:-1 all}
T7_T=${BENCH_7B_TORCH_THREADS:-1 all}
in_list() { local x; for x in $2; do [ "$x" = all ] && x=$ALL; [ "$x" = "$1" ] && return 0; done; return 1; }

[ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S "$root" -B "$BUILD_DIR" >&2
# BENCH_NO_BUILD=1 times the bench_fill already built (say so if you use it)
[ "${BENCH_NO_BUILD:-0}" = 1 ] || cmake --build "$BUILD_DIR" --target bench_fill >&2
bin="$BUILD_DIR/bench/bench_fill"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
mem_before=$(awk '/MemAvailable/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
t_start=$(date +%s)
log() { echo "[run.sh $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)] $*" >&2; }

# The library's own choice, with no NNINIT_ARCH.
env -u NNINIT_ARCH "$bin" --elems 64 --cases none --json > "$out/default.jsonl"
default_arch=$(sed -n 's/.*"arch":"\([a-z0-9]*\)".*/\1/p' "$out/default.jsonl" | head -n1)

elementwise=uniform,normal,trunc_normal,kaiming_uniform,xavier_normal
first=1
for arch in $ARCHS; do
    n=$N
    case "$arch" in
        scalar|portable) n=$N_SLOW ;;
        "$default_arch") n=$N ;;
        *) n=$N_MID ;;
    esac
    for T in 1 "$ALL"; do
        cases=$elementwise
        # orthogonal is a QR (LAPACK) on one thread whatever the fill path:
        # timed once, with the first path that runs; memset and stream too.
        if [ "$first" = 1 ]; then
            cases=$cases,memset,stream
            in_list "$T" "$ORTHO_T" && [ "$ORTHO" -gt 0 ] && cases=$cases,orthogonal
        fi
        [ "$T" = 1 ] && cases=$cases,philox
        log "bench_fill NNINIT_ARCH=$arch threads=$T n=$n"
        NNINIT_ARCH=$arch OMP_NUM_THREADS=$T OPENBLAS_NUM_THREADS=$T \
            "$bin" --elems "$n" --reps "$REPS" --threads "$T" --ortho "$ORTHO" \
            --budget-s "$BUDGET" --cases "$cases" --json >> "$out/nninit.jsonl" || {
            echo "run.sh: bench_fill failed (NNINIT_ARCH=$arch, threads $T)" >&2; exit 1; }
        if tail -n1 "$out/nninit.jsonl" | grep -q '"op":"all"'; then
            log "$arch: not available"
            break
        fi
        [ "$T" = "$ALL" ] && first=0
    done
done

if [ "${BENCH_7B:-1}" = 1 ]; then
    log "bench_fill llama7b, threads=$ALL (library's path)"
    r7=()
    [ "${BENCH_7B_REUSE:-0}" = 1 ] && r7=(--7b-reuse)
    env -u NNINIT_ARCH "$bin" "${r7[@]}" --cases llama7b --threads 0 --reps "$REPS" --max-7b-s "${BENCH_7B_S:-30}" --json \
        >> "$out/nninit.jsonl"
fi

if [ "${BENCH_TORCH:-1}" = 1 ]; then
    for T in 1 "$ALL"; do
        extra=()
        [ "$T" = 1 ] || extra+=(--no-numpy)
        [ "${BENCH_7B:-1}" = 1 ] && in_list "$T" "$T7_T" && extra+=(--llama7b)
        o=$ORTHO
        in_list "$T" "$ORTHO_T" || o=0
        log "torch_fill.py threads=$T n=$N"
        OMP_NUM_THREADS=$T OPENBLAS_NUM_THREADS=$T "$PYTHON" "$here/torch_fill.py" --elems "$N" \
            --reps "$REPS" --threads "$T" --ortho "$o" --budget-s "$BUDGET" --json "${extra[@]}" \
            >> "$out/torch.jsonl"
    done
fi

cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" | head -n1)
export BENCH_CC=$("${cc:-cc}" --version 2>/dev/null | head -n1 || echo unknown)
export BENCH_BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" | head -n1)
export BENCH_COMMIT=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo none)
export BENCH_DIRTY=$(git -C "$root" status --porcelain -- src include CMakeLists.txt 2>/dev/null | wc -l)
export BENCH_LOAD_BEFORE=$load_before BENCH_LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
export BENCH_MEM_GIB=$mem_before BENCH_SECONDS=$(( $(date +%s) - t_start ))
export BENCH_N_USED=$N BENCH_N_MID_USED=$N_MID BENCH_N_SLOW_USED=$N_SLOW BENCH_DEFAULT_ARCH=$default_arch BENCH_REPS_USED=$REPS BENCH_ARCHS_USED="$ARCHS"
cmdenv=""
for v in BENCH_NO_BUILD BENCH_N BENCH_N_MID BENCH_N_SLOW BENCH_REPS BENCH_ARCHS BENCH_ORTHO BENCH_ORTHO_THREADS BENCH_7B \
         BENCH_7B_REUSE BENCH_7B_S BENCH_7B_TORCH_THREADS BENCH_TORCH BENCH_BUDGET_S; do
    [ -n "${!v:-}" ] && cmdenv+="$v=\"${!v}\" "
done
export BENCH_COMMAND="${cmdenv}BUILD_DIR=${BUILD_DIR#"$root"/} bash bench/run.sh"
export BENCH_TORCH_VERSION=$("$PYTHON" -c 'import torch; print(torch.__version__)')
export BENCH_NUMPY_VERSION=$("$PYTHON" -c 'import numpy; print(numpy.__version__)')
touch "$out/torch.jsonl"
"$PYTHON" "$here/report.py" "$out/default.jsonl" "$out/nninit.jsonl" "$out/torch.jsonl" \
    --json "$here/results.json" --md "$here/results.md"
}
main "$@"

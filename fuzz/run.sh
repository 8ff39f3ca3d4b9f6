#!/usr/bin/env bash
# fuzz/run.sh BUILD_DIR [SECONDS] -- runs every libFuzzer harness of BUILD_DIR
# (configured with -DNNINIT_FUZZ=ON; `make fuzz` does it all).
#
# Per harness: first the inputs of fuzz/regressions/<harness>/ (each once: a
# crash found before must stay fixed), then SECONDS (FUZZ_SECONDS, default
# 60) of fuzzing that starts from a copy of fuzz/corpus/<harness>/ in a
# temporary directory, so that the committed corpus never changes. Prints the
# inputs executed, the final coverage (libFuzzer's cov: edges, ft: features)
# and the crashes; a crash input is kept under FUZZ_ARTIFACTS (default
# BUILD_DIR/fuzz-artifacts/<harness>/) and its path printed. Exits non-zero
# if any harness crashed or any regression input fails.
# FUZZ_HARNESSES="fuzz_arch fuzz_idx" runs a subset.
set -uo pipefail
build=${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS]}
secs=${2:-${FUZZ_SECONDS:-60}}
here=$(cd "$(dirname "$0")" && pwd)
harnesses=${FUZZ_HARNESSES:-"fuzz_arch fuzz_arch_json fuzz_spec fuzz_idx fuzz_npy fuzz_npz fuzz_safetensors fuzz_model_spec"}
artifacts=${FUZZ_ARTIFACTS:-$build/fuzz-artifacts}
work=$(mktemp -d "${TMPDIR:-/tmp}/nninit-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT

# libFuzzer's limits: 2 GB of memory (a gzip bomb must stay far below), 10 s
# per input, inputs up to 4 KB. UBSan stops at the first report.
opts=(-rss_limit_mb=2048 -timeout=10 -max_len=4096 -print_final_stats=1)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
printf '%-15s %10s %7s %7s  %s\n' harness execs cov ft crashes
for h in $harnesses; do
    bin=$build/fuzz/$h
    if [ ! -x "$bin" ]; then
        echo "$h: $bin not built" >&2
        failed=1
        continue
    fi
    mkdir -p "$artifacts/$h"

    reg=("$here/regressions/$h"/*)
    if [ -e "${reg[0]}" ]; then
        if ! "$bin" "${opts[@]}" "${reg[@]}" >"$work/$h.regressions.log" 2>&1; then
            echo "$h: a regression input fails again (fuzz/regressions/$h/):" >&2
            grep -E '^Running: |check failed|ERROR: |SUMMARY: |runtime error' "$work/$h.regressions.log" | head -20 >&2
            failed=1
            continue
        fi
    fi

    mkdir -p "$work/$h"
    cp "$here/corpus/$h"/* "$work/$h/"
    dict=()
    [ -f "$here/dict/$h.dict" ] && dict=(-dict="$here/dict/$h.dict")
    log=$work/$h.log
    rc=0
    "$bin" "${opts[@]}" "${dict[@]}" -max_total_time="$secs" -artifact_prefix="$artifacts/$h/" "$work/$h" \
        >"$log" 2>&1 || rc=$?

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | grep -E ' cov: ' | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    if [ "$rc" -ne 0 ]; then
        printf '%-15s %10s %7s %7s  1: %s\n' "$h" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${crash:-(no input written, rc $rc)}"
        grep -E 'check failed|ERROR: |SUMMARY: |runtime error|^    #[0-9] ' "$log" | head -25 >&2
        failed=1
    else
        printf '%-15s %10s %7s %7s  0\n' "$h" "${execs:-?}" "${cov:-?}" "${ft:-?}"
    fi
done
exit $failed

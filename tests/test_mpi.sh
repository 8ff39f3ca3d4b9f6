#!/usr/bin/env bash
# `mpirun -n N nninit checkpoint` (docs/MPI.md, tools/checkpoint_mpi.c): the
# ranks write one checkpoint together with MPI-IO collective writes.
#
# - For N = 1, 2, 3, 4 (--oversubscribe: more ranks than cores), a single
#   file and a sharded write of a small GPT-2, and a bf16 one whose
#   embedding spans two chunks, are byte for byte the files of a run
#   without MPI; only rank 0 prints (one summary line, one JSON object).
# - No temporary is left, and the libraries do not link MPI.
# - Failures end every rank with a non-zero status, without a hang (each
#   run under `timeout`) and without a partial file under the final name:
#   a missing output directory, a path that is a directory, a shard's name
#   that is a directory (refused at that shard's open), an index that is a
#   directory (rank 0 fails after the shards), a file size limit (rank 0
#   cannot reserve the file's bytes).
#
# Exit 77 (ctest SKIP_RETURN_CODE) when this nninit has no MPI built in or
# mpirun is missing.
set -euo pipefail
cli=${NNINIT_CLI:?NNINIT_CLI names the nninit binary}
build=${NNINIT_BUILD_DIR:-$(dirname "$cli")}

command -v mpirun >/dev/null 2>&1 || { echo "SKIP: no mpirun"; exit 77; }
# --version says "MPI: not built in" or names the MPI library; where it
# says neither, the dynamic linker's view decides
version=$("$cli" --version)
libs=$(ldd "$cli" 2>/dev/null || true)
if grep -q "MPI: not built in" <<<"$version" ||
    { ! grep -q "MPI: " <<<"$version" && ! grep -q 'libmpi\.so' <<<"$libs"; }; then
    echo "SKIP: this nninit has no MPI built in ($version)"
    exit 77
fi
# Open MPI refuses root without these (CI containers run as root).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# mpi N CMD...: CMD on N ranks; a run past 120 s is a hang.
mpi() {
    local n=$1 st=0
    shift
    timeout 120 mpirun --oversubscribe -n "$n" "$@" || st=$?
    [ "$st" -ne 124 ] || fail "mpirun -n $n $* hung"
    return "$st"
}

timeout 60 mpirun --oversubscribe -n 1 true || { echo "SKIP: mpirun cannot start a process here"; exit 77; }

if [ -e "$build/libnninit.so" ] && grep -q 'libmpi' <<<"$(ldd "$build/libnninit.so")"; then
    fail "libnninit.so links MPI: only the CLI may"
fi

small=(--recipe gpt2 --set n_layer=2 --set n_embd=64 --set n_head=4 --set vocab_size=300 --set n_positions=40
    --seed 7)
# wte is 50257 x 768 bf16 = 77 MB: two 64 MiB chunks, on two ranks
bf16=(--recipe gpt2 --set n_layer=1 --set dtype=bf16)

mkdir "$t/ref"
"$cli" checkpoint "${small[@]}" -o "$t/ref/one.safetensors" >/dev/null
"$cli" checkpoint "${small[@]}" --max-shard-size 60000 -o "$t/ref/sh.safetensors" >/dev/null
"$cli" checkpoint "${bf16[@]}" -o "$t/ref/bf.safetensors" >/dev/null
shards=$(cd "$t/ref" && ls sh-*-of-*.safetensors)
nshards=$(wc -l <<<"$shards")
[ "$nshards" -gt 3 ] || fail "expected several shards, got $nshards"

for n in 1 2 3 4; do
    d=$t/n$n
    mkdir "$d"
    mpi "$n" "$cli" checkpoint "${small[@]}" --threads 1 -o "$d/one.safetensors" >"$d/one.out" || fail "N=$n: single file"
    cmp "$t/ref/one.safetensors" "$d/one.safetensors" || fail "N=$n: the single file differs"
    [ "$(grep -c '^wrote ' "$d/one.out")" -eq 1 ] || fail "N=$n: not one summary line: $(cat "$d/one.out")"
    grep -q "$n MPI rank" "$d/one.out" || fail "N=$n: the summary does not name the ranks: $(cat "$d/one.out")"

    mpi "$n" "$cli" checkpoint "${small[@]}" --threads 1 --max-shard-size 60000 --json \
        -o "$d/sh.safetensors" >"$d/sh.json"
    for f in $shards sh.safetensors.index.json; do
        cmp "$t/ref/$f" "$d/$f" || fail "N=$n: $f differs"
    done
    [ "$(grep -c '"path"' "$d/sh.json")" -eq 1 ] || fail "N=$n: not one JSON object: $(cat "$d/sh.json")"
    grep -Eq "\"mpi_ranks\":[[:space:]]*$n\b" "$d/sh.json" || fail "N=$n: no mpi_ranks in $(cat "$d/sh.json")"

    mpi "$n" "$cli" checkpoint "${bf16[@]}" --threads 2 -o "$d/bf.safetensors" >/dev/null
    cmp "$t/ref/bf.safetensors" "$d/bf.safetensors" || fail "N=$n: the bf16 file differs"
    rm "$d/bf.safetensors"
    echo "N=$n: single file, $nshards shards + index, bf16: identical to the run without MPI"
done

temps() {
    local left
    left=$(find "$t" -name '*.nninit-tmp.*')
    [ -z "$left" ] || fail "temporaries left $1: $left"
}
temps "after the writes"

# every_rank_fails N CMD...: CMD on N ranks, each rank's exit status kept
# in $t/rc/<rank>; every one must be non-zero. stderr in $t/err. With
# FSIZE, each rank runs under `ulimit -f FSIZE` (KiB; SIGXFSZ ignored, so a
# write past it fails with EFBIG): set in the rank, not around mpirun,
# which cannot run under one.
every_rank_fails() {
    local n=$1 st=0
    shift
    rm -rf "$t/rc"
    mkdir "$t/rc"
    # shellcheck disable=SC2016 # expanded by the rank's shell
    timeout 60 mpirun --oversubscribe -n "$n" -x RCDIR="$t/rc" -x FSIZE="${FSIZE:-}" sh -c \
        'trap "" XFSZ; [ -z "$FSIZE" ] || ulimit -f "$FSIZE"; "$@"; echo $? > "$RCDIR/$OMPI_COMM_WORLD_RANK"' \
        sh "$@" >/dev/null 2>"$t/err" || st=$?
    [ "$st" -ne 124 ] || fail "hung: $*"
    [ "$(find "$t/rc" -type f | wc -l)" -eq "$n" ] || fail "not every rank ended by itself: $*: $(cat "$t/err")"
    for r in "$t"/rc/*; do
        [ "$(cat "$r")" != 0 ] || fail "rank $(basename "$r") exited 0: $*"
    done
}

every_rank_fails 3 "$cli" checkpoint "${small[@]}" -o "$t/missing/m.safetensors"
[ ! -e "$t/missing" ] || fail "a missing directory was made"

mkdir "$t/adir"
every_rank_fails 3 "$cli" checkpoint "${small[@]}" -o "$t/adir"
if [ ! -d "$t/adir" ] || [ -n "$(ls -A "$t/adir")" ]; then fail "the directory was touched"; fi

mkdir -p "$t/sd/m-00002-of-$(printf %05d "$nshards").safetensors"
every_rank_fails 3 "$cli" checkpoint "${small[@]}" --max-shard-size 60000 -o "$t/sd/m.safetensors"
[ -d "$t/sd/m-00002-of-$(printf %05d "$nshards").safetensors" ] || fail "the shard's directory was replaced"
[ ! -e "$t/sd/m-00003-of-$(printf %05d "$nshards").safetensors" ] || fail "went on past the failed shard"
[ ! -e "$t/sd/m.safetensors.index.json" ] || fail "an index after a failed shard"
[ "$(grep -c 'is not a regular file' "$t/err")" -eq 1 ] || fail "not one message: $(cat "$t/err")"

mkdir -p "$t/ix/m.safetensors.index.json"
every_rank_fails 3 "$cli" checkpoint "${small[@]}" --max-shard-size 60000 -o "$t/ix/m.safetensors"
[ -d "$t/ix/m.safetensors.index.json" ] || fail "the index's directory was replaced"
grep -q 'rank 0 of 3' "$t/err" || fail "rank 0's failure not reported: $(cat "$t/err")"

# 60000 KiB: room for MPI's shared memory, not for the 93 MB file
mkdir "$t/lim"
FSIZE=60000 every_rank_fails 3 "$cli" checkpoint "${bf16[@]}" -o "$t/lim/m.safetensors"
[ -z "$(ls -A "$t/lim")" ] || fail "a file size limit left $(ls -A "$t/lim")"
grep -q 'cannot reserve' "$t/err" || fail "the reservation's failure not reported: $(cat "$t/err")"

temps "after the failures"
echo "failures: every rank non-zero, no hang, nothing partial under a final name"
echo "OK"

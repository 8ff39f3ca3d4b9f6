#!/usr/bin/env bash
# Every symbol the two shared libraries export is declared in an installed
# header (include/), and nothing else leaks: the one exception is what
# libnninit exports for libnninit_engine under the nninit__ prefix (marked
# NNINIT_CROSS_LAYER in src/internal.h: the error recorder and the scheme
# parameter table), which is not API. Every NNINIT_API
# declaration of a header is exported by the library of its layer. And the
# layers: the initializer cannot include an engine header.
set -euo pipefail
build=${NNINIT_BUILD_DIR:?}
src=${NNINIT_SOURCE_DIR:?}
fail=0
declared() { grep -h -v '^#' "$@" | grep -o 'NNINIT_API[^;(]*(' | sed -E 's/.*[ *]([A-Za-z_0-9]+)\($/\1/' | sort -u; }
# The initializer's internals the engine calls (NNINIT_CROSS_LAYER in src/internal.h).
cross() { grep -h -v '^#' "$src/src/internal.h" | grep -o 'NNINIT_CROSS_LAYER[^;(]*(' | sed -E 's/.*[ *]([A-Za-z_0-9]+)\($/\1/' | sort -u; }
exported() { nm -D --defined-only "$1" | awk '$2 ~ /^[TDBRiW]$/ {print $3}' | sort -u; }
check() { # library, its headers...
    local lib=$1; shift
    local exp dec
    exp=$(exported "$build/$lib")
    dec=$(declared "$@")
    extra=$(comm -23 <(echo "$exp") <(echo "$dec") | grep -vxF -f <(cross) || true)
    missing=$(comm -13 <(echo "$exp") <(echo "$dec") || true)
    if [ -n "$extra" ]; then echo "$lib exports symbols no installed header declares:"; echo "$extra"; fail=1; fi
    if [ -n "$missing" ]; then echo "$lib does not export what its headers declare:"; echo "$missing"; fail=1; fi
    echo "$lib: $(echo "$exp" | wc -l) exported, $(echo "$dec" | wc -l) declared"
}
check libnninit.so "$src/include/nninit.h" "$src/include/nninit_checkpoint.h" "$src/include/nninit_model.h" \
    "$src/include/nninit_presets.h" "$src/include/nninit_torch.h"
check libnninit_engine.so "$src/include/nninit_nn.h" "$src/include/nninit_probe.h" "$src/include/nninit_train.h" \
      "$src/include/nninit_data.h" "$src/include/nninit_meanfield.h"
# The installed headers are exactly include/*.h (what CMake installs).
for h in "$src"/include/*.h; do
    grep -q "include/$(basename "$h")" "$src/CMakeLists.txt" || { echo "$h is not installed"; fail=1; }
done
# Layers: an engine header included from the initializer stops the build.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include "nninit_nn.h"\n' > "$tmp/wrong_way.c"
if cc -std=c11 -fsyntax-only -DNNINIT_BUILD_INITIALIZER -DNNINIT_UNSTABLE_API -I"$src/include" "$tmp/wrong_way.c" \
      2>"$tmp/err"; then
    echo "the initializer can include an engine header"; fail=1
fi
grep -q 'must not include' "$tmp/err" || { cat "$tmp/err"; fail=1; }
[ $fail = 0 ] && echo "1 passed, 0 failed"
exit $fail

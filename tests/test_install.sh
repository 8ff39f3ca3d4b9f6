#!/usr/bin/env bash
# Linking as a user would: install the build into a DESTDIR and build small
# programs against it through pkg-config (whose prefix follows the .pc file,
# so no override is needed) and find_package(nninit); then the same from the
# build tree, uninstalled: nninit-uninstalled.pc and the build-tree CMake
# package. A program that only fills tensors links libnninit and nothing of
# the engine (no OpenBLAS; libnninit itself links zlib, for .npz).
set -euo pipefail
build=${NNINIT_BUILD_DIR:?}
src=${NNINIT_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=/opt/nninit-test
DESTDIR="$tmp/stage" cmake --install "$build" --prefix "$prefix" >/dev/null
root="$tmp/stage$prefix"
libdir=$(find "$root" -name 'libnninit.so' -printf '%h\n' | head -1)
for f in include/nninit.h include/nninit_torch.h include/nninit_nn.h include/nninit_probe.h include/nninit_train.h \
         include/nninit_data.h include/nninit_meanfield.h bin/nninit; do
    test -e "$root/$f" || { echo "not installed: $f"; exit 1; }
done
for f in libnninit.a libnninit_engine.so libnninit_engine.a pkgconfig/nninit.pc pkgconfig/nninit-engine.pc \
         cmake/nninit/nninitConfig.cmake; do
    test -e "$libdir/$f" || { echo "not installed: $f"; exit 1; }
done

# A sanitizer build installs sanitized libraries: their users need the runtime.
san=""
deps=$(ldd "$libdir/libnninit.so")   # not piped into grep -q: pipefail + SIGPIPE
case "$deps" in *libasan*) san="-fsanitize=address,undefined" ;; esac
direct=$(readelf -d "$libdir/libnninit.so")   # NEEDED: what it links itself
case "$direct" in *openblas*) echo "libnninit.so links an engine dependency: $direct"; exit 1 ;; esac
case "$direct" in *libz.so*) ;; *) echo "libnninit.so does not link zlib (.npz needs it): $direct"; exit 1 ;; esac

cat > "$tmp/hello.c" <<'C'
#include <stdio.h>
#include <nninit.h>
int main(void) {
    float w[64 * 32];
    nninit_tensor t = nninit_tensor_2d(64, 32, NNINIT_F32);
    nninit_spec s = nninit_spec_default(NNINIT_KAIMING_NORMAL);
    if (nninit_fill(&s, &t, nninit_key_from_name(42, "w"), w) != NNINIT_OK) {
        fprintf(stderr, "%s\n", nninit_last_error());
        return 1;
    }
    printf("%s %.6f\n", nninit_version_string(), w[0]);
    return 0;
}
C
# The engine: an unstable API, so the program opts in (the .pc does it).
cat > "$tmp/engine.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <nninit_nn.h>
int main(void) {
    nninit_arch *a = malloc(sizeof *a);
    if (!a || nninit_arch_parse("8 -> dense 4 relu -> dense 2", a) != NNINIT_OK) return 1;
    nninit_net *net;
    if (nninit_net_create(a, 4, NULL, 0, &net) != NNINIT_OK) return 1;
    printf("layers %d\n", nninit_net_layers(net));
    nninit_net_free(net);
    free(a);
    return 0;
}
C
# Without NNINIT_UNSTABLE_API the engine's headers refuse to compile.
if cc -std=c11 -fsyntax-only -I"$src/include" "$tmp/engine.c" 2>"$tmp/err"; then
    echo "nninit_nn.h compiled without NNINIT_UNSTABLE_API"; exit 1
fi
grep -q NNINIT_UNSTABLE_API "$tmp/err"

# 1. pkg-config from the installed tree: nothing to override.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
test "$(pkg-config --variable=prefix nninit)" -ef "$root"
cc -std=c11 $san "$tmp/hello.c" -o "$tmp/hello_pc" $(pkg-config --cflags --libs nninit)
out1=$(LD_LIBRARY_PATH="$libdir" "$tmp/hello_pc")
needed=$(readelf -d "$tmp/hello_pc")
case "$needed" in *nninit_engine*|*openblas*) echo "a fill-only program links the engine"; exit 1 ;; esac
cc -std=c11 $san "$tmp/engine.c" -o "$tmp/engine_pc" $(pkg-config --cflags --libs nninit-engine)
eng1=$(LD_LIBRARY_PATH="$libdir" "$tmp/engine_pc")
# 2. CMake package from the installed tree
mkdir -p "$tmp/proj"
cp "$tmp/hello.c" "$tmp/engine.c" "$tmp/proj/"
cat > "$tmp/proj/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(hello C)
find_package(nninit 0.1 REQUIRED)
add_executable(hello hello.c)
target_link_libraries(hello PRIVATE nninit::nninit)
add_executable(engine engine.c)
target_link_libraries(engine PRIVATE nninit::engine)
CM
cmake -S "$tmp/proj" -B "$tmp/proj/b" -DCMAKE_PREFIX_PATH="$root" -DCMAKE_C_FLAGS="$san" >/dev/null
cmake --build "$tmp/proj/b" >/dev/null
out2=$(LD_LIBRARY_PATH="$libdir" "$tmp/proj/b/hello")
eng2=$(LD_LIBRARY_PATH="$libdir" "$tmp/proj/b/engine")
# 3. pkg-config from the build tree (nninit-uninstalled.pc, preferred by pkg-config)
export PKG_CONFIG_PATH="$build"
cc -std=c11 $san "$tmp/hello.c" -o "$tmp/hello_unpc" $(pkg-config --cflags --libs nninit)
out3=$(LD_LIBRARY_PATH="$build" "$tmp/hello_unpc")
# 4. CMake package from the build tree
cmake -S "$tmp/proj" -B "$tmp/proj/bt" -Dnninit_DIR="$build" -DCMAKE_C_FLAGS="$san" >/dev/null
cmake --build "$tmp/proj/bt" >/dev/null
out4=$("$tmp/proj/bt/hello")
eng4=$("$tmp/proj/bt/engine")
echo "pkg-config:            $out1 / $eng1"
echo "cmake:                 $out2 / $eng2"
echo "pkg-config, uninstalled: $out3"
echo "cmake, build tree:     $out4 / $eng4"
[ "$out1" = "$out2" ] && [ "$out1" = "$out3" ] && [ "$out1" = "$out4" ]
[ "$eng1" = "$eng2" ] && [ "$eng1" = "$eng4" ]
case "$out1" in 0.1.0\ *) ;; *) echo "unexpected output"; exit 1;; esac
case "$eng1" in "layers 2") ;; *) echo "unexpected engine output: $eng1"; exit 1;; esac
echo "1 passed, 0 failed"

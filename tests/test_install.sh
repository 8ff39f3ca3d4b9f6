#!/usr/bin/env bash
# make-install check: install the build into a DESTDIR, then build a tiny
# program against it twice, through pkg-config and through find_package(nninit).
set -euo pipefail
build=${NNINIT_BUILD_DIR:?}
src=${NNINIT_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=/opt/nninit-test
DESTDIR="$tmp/stage" cmake --install "$build" --prefix "$prefix" >/dev/null
root="$tmp/stage$prefix"
libdir=$(find "$root" -name 'libnninit.so' -printf '%h\n' | head -1)
test -f "$root/include/nninit.h"
test -f "$libdir/libnninit.a"
test -f "$libdir/pkgconfig/nninit.pc"
test -f "$libdir/cmake/nninit/nninitConfig.cmake"
test -x "$root/bin/nninit"

# A sanitizer build installs a sanitized library: its users need the runtime.
san=""
deps=$(ldd "$libdir/libnninit.so")   # not piped into grep -q: pipefail + SIGPIPE
case "$deps" in *libasan*) san="-fsanitize=address,undefined" ;; esac

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
# 1. pkg-config (the .pc's prefix points at the final prefix: override it)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 $san "$tmp/hello.c" -o "$tmp/hello_pc" \
   $(pkg-config --define-variable=prefix="$root" --cflags --libs nninit)
out1=$(LD_LIBRARY_PATH="$libdir" "$tmp/hello_pc")
# 2. CMake package
mkdir -p "$tmp/proj"
cp "$tmp/hello.c" "$tmp/proj/"
cat > "$tmp/proj/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(hello C)
find_package(nninit 0.1 REQUIRED)
add_executable(hello hello.c)
target_link_libraries(hello PRIVATE nninit::nninit)
CM
cmake -S "$tmp/proj" -B "$tmp/proj/b" -DCMAKE_PREFIX_PATH="$root" -DCMAKE_C_FLAGS="$san" >/dev/null
cmake --build "$tmp/proj/b" >/dev/null
out2=$(LD_LIBRARY_PATH="$libdir" "$tmp/proj/b/hello")
echo "pkg-config: $out1"
echo "cmake:      $out2"
[ "$out1" = "$out2" ]
case "$out1" in 0.1.0\ *) ;; *) echo "unexpected output"; exit 1;; esac
echo "1 passed, 0 failed"

#!/usr/bin/env bash
# Installs the Debian packages nninit needs to build and test, if missing.
# Used by `make demo`, `make check`, `make check-clang` and `make fuzz`; safe
# to run again. clang-14 is Debian 12's clang; libclang-rt-14-dev holds its
# sanitizer and libFuzzer runtimes, which clang-14 only recommends (and
# recommends are not installed here).
set -euo pipefail
pkgs=(cmake make gcc clang-14 libclang-rt-14-dev pkgconf libcmocka-dev liblapacke-dev libopenblas-dev libcjson-dev zlib1g-dev
      dataset-fashion-mnist
      python3 python3-numpy python3-scipy python3-torch python3-torchvision chromium
      libopenmpi-dev openmpi-bin)
# node and npm run tests/test_safetensors_js.py (the Hugging Face JavaScript
# safetensors parser). Debian's nodejs and npm only when the command is
# missing: another Node.js (NodeSource's nodejs carries its own npm) stays.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "nninit: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

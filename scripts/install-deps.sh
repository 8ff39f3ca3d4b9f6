#!/usr/bin/env bash
# Installs the Debian packages nninit needs to build and test, if missing.
# Used by `make demo` and `make check`; safe to run again.
set -euo pipefail
pkgs=(cmake make gcc pkgconf libcmocka-dev liblapacke-dev libopenblas-dev libcjson-dev zlib1g-dev
      dataset-fashion-mnist
      python3 python3-numpy python3-scipy python3-torch chromium)
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

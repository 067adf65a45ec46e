#!/usr/bin/env bash
# Installs what the test suite needs on a Debian/Ubuntu machine, then fetches the real ORT binaries the
# tests use. Idempotent: installs only what is missing. Needs root (or sudo) for apt-get.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# command → Debian package that provides it
declare -A wanted=(
    [aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu
    [aarch64-linux-gnu-g++]=g++-aarch64-linux-gnu
    [qemu-aarch64]=qemu-user
    [pkg-config]=pkg-config
    [npm]=npm
    [unshare]=util-linux
    [readelf]=binutils
)
packages=()
for cmd in "${!wanted[@]}"; do
    command -v "$cmd" >/dev/null || packages+=("${wanted[$cmd]}")
done
# The aarch64 C library for linking the cross consumer.
[[ -e /usr/aarch64-linux-gnu/lib/libc.so.6 ]] || packages+=(libc6-dev-arm64-cross)
python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
# LLVM's assembler and linkers build Mach-O and PE test binaries without any SDK.
compgen -G '/usr/lib/llvm-*/bin/ld.lld' >/dev/null || packages+=(lld)
compgen -G '/usr/lib/llvm-*/bin/llvm-lipo' >/dev/null || packages+=(llvm)

if ((${#packages[@]})); then
    sudo=()
    [[ $(id -u) == 0 ]] || sudo=(sudo)
    echo "setup: installing ${packages[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

bash "$repo/ci/test-assets.sh"

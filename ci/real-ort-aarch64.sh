#!/usr/bin/env bash
# Cross, x86_64 host → aarch64-unknown-linux-gnu, with the real ONNX Runtime 1.22.0. Proves that:
#  - the probe, run as a build script would be with TARGET=aarch64-unknown-linux-gnu, picks the
#    linux-aarch64 archive from a mirror that also serves linux-x64 (only the aarch64 one is requested),
#    verifies it against the private manifest, and stages an AArch64 library;
#  - an x86_64 library handed to it through ONNXRUNTIME_LIB_DIR is refused for its architecture;
#  - a C program linked by aarch64-linux-gnu-gcc with exactly the emitted directives runs under
#    qemu-aarch64 with no LD_LIBRARY_PATH (the emitted rpath finds the staged library), reports 1.22.0
#    and computes mul_1.onnx exactly.
# There is no Rust std for aarch64 here, hence examples/probe.rs and a C consumer.
# Usage (from anywhere; CI runs it as root from the repo root): bash ci/real-ort-aarch64.sh
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/wheels.sh
source "$CI_REPO/ci/lib/wheels.sh"
# shellcheck source=lib/mirror.sh
source "$CI_REPO/ci/lib/mirror.sh"
# shellcheck source=lib/directives.sh
source "$CI_REPO/ci/lib/directives.sh"

PLATFORM=linux-aarch64
TARGET_TRIPLE=aarch64-unknown-linux-gnu
HOST_TRIPLE=x86_64-unknown-linux-gnu
SYSROOT=/usr/aarch64-linux-gnu
WORK="$CI_WORK/real-ort-aarch64"
MANIFEST="$WORK/manifest.txt"
MODEL="$(wheel_files_dir "$PLATFORM")/mul_1.onnx"
OUT_DIR="$WORK/out"

[[ $(uname -m) == x86_64 ]] || die "this leg needs an x86_64 Linux host (found $(uname -m))"
command -v cargo >/dev/null || die "cargo is not on PATH"
need_commands python3:python3 curl:curl readelf:binutils tar:tar gzip:gzip \
    aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu qemu-aarch64:qemu-user unshare:util-linux
need_packages libc6-dev-arm64-cross libstdc++6-arm64-cross
rm -rf "$WORK/cache" "$OUT_DIR" "$WORK/out-refused" "$WORK/logs"
mkdir -p "$WORK/cache" "$OUT_DIR" "$WORK/logs"

# --- both archives, one manifest listing both -------------------------------------------------------------
ort_private_mirror "$MANIFEST" linux-x64 "$PLATFORM"
ARCHIVE_SHA=$(sha256_of "$(ort_archive_path "$PLATFORM")")
proved "$(ort_asset linux-x64) and $(ort_asset "$PLATFORM") repackaged from the wheels; the manifest lists both"
mirror_start "$MIRROR_DIR" "$WORK/logs/mirror.log"

# --- the probe, as cargo would run a build script for the aarch64 target ---------------------------------
t=$SECONDS
(cd "$CI_REPO" && cargo build --quiet --example probe --target-dir "$CI_REPO/target") >"$WORK/logs/build-probe.log" 2>&1 || {
    cat "$WORK/logs/build-probe.log" >&2
    die "building examples/probe.rs failed"
}
PROBE="$CI_REPO/target/debug/examples/probe"

# Runs the probe with only the given variables of ours (the caller's ONNXRUNTIME_* removed).
# Usage: run_probe NAME OUT_DIR [VAR=value...]; stdout to $WORK/logs/NAME.out, stderr to NAME.err.
run_probe() {
    local name=$1 out_dir=$2 var
    shift 2
    local unset=(-u LD_LIBRARY_PATH)
    for var in $(compgen -e); do
        [[ $var == ONNXRUNTIME_* || $var == CARGO_* ]] && unset+=(-u "$var")
    done
    env "${unset[@]}" TARGET="$TARGET_TRIPLE" HOST="$HOST_TRIPLE" OUT_DIR="$out_dir" \
        CARGO_CFG_TARGET_ARCH=aarch64 CARGO_CFG_TARGET_OS=linux CARGO_CFG_TARGET_ENV=gnu \
        "$@" "$PROBE" 1.22 >"$WORK/logs/$name.out" 2>"$WORK/logs/$name.err"
}

if ! run_probe probe "$OUT_DIR" ONNXRUNTIME_MIRROR="$MIRROR_URL" ONNXRUNTIME_MANIFEST="$MANIFEST" \
    ONNXRUNTIME_CACHE_DIR="$WORK/cache" ONNXRUNTIME_SOURCES=download; then
    cat "$WORK/logs/probe.err" >&2
    die "the probe for $TARGET_TRIPLE failed"
fi
T_PROBE=$((SECONDS - t))
requests=$(mirror_requests)
[[ $requests == "GET /v$ORT_VERSION/$(ort_asset "$PLATFORM") 200" ]] ||
    die "expected exactly one request, for $(ort_asset "$PLATFORM"); the mirror saw: ${requests:-nothing}"
proved "the probe for $TARGET_TRIPLE requested only /v$ORT_VERSION/$(ort_asset "$PLATFORM") (never the linux-x64 archive beside it)"

LIB_DIR="$OUT_DIR/onnxruntime/lib"
expect_link_directives "$WORK/logs/probe.out" "$LIB_DIR"
readelf -h "$LIB_DIR/libonnxruntime.so.1" | grep -qE 'Machine: +AArch64$' || die "the staged library is not AArch64"
real=$(readlink -f "$LIB_DIR/libonnxruntime.so.1")
[[ $real == "$WORK/cache"/* ]] || die "the staged library resolves to $real, outside the cache"
[[ $(sha256_of "$real") == $(sha256_of "$(wheel_files_dir "$PLATFORM")/libonnxruntime.so.$ORT_VERSION") ]] ||
    die "the staged library is not the aarch64 wheel's"
proved "emitted link-search, link-lib=dylib=onnxruntime and rpath to \$OUT_DIR/onnxruntime/lib, whose libonnxruntime.so.1 is the AArch64 wheel library (archive sha256 $ARCHIVE_SHA)"

# --- an x86_64 library offered for the aarch64 target is refused ------------------------------------------
X64_LIB_DIR="$WORK/x64-lib"
rm -rf "$X64_LIB_DIR"
mkdir -p "$X64_LIB_DIR"
cp "$(wheel_files_dir linux-x64)/libonnxruntime.so.$ORT_VERSION" "$X64_LIB_DIR/"
ln -s "libonnxruntime.so.$ORT_VERSION" "$X64_LIB_DIR/libonnxruntime.so.1"
ln -s libonnxruntime.so.1 "$X64_LIB_DIR/libonnxruntime.so"
mkdir -p "$WORK/out-refused"
if run_probe refused "$WORK/out-refused" ONNXRUNTIME_LIB_DIR="$X64_LIB_DIR" ONNXRUNTIME_SOURCES=env; then
    die "the probe for $TARGET_TRIPLE accepted the x86_64 library in $X64_LIB_DIR"
fi
expect_in_file "$WORK/logs/refused.err" "ONNXRUNTIME_LIB_DIR" "wrong-arch refusal"
grep -qiE 'x86[-_]64' "$WORK/logs/refused.err" || die "the refusal does not name x86_64: $WORK/logs/refused.err"
! grep -q '^cargo:rustc-link' "$WORK/logs/refused.out" || die "the refused probe still emitted link lines"
proved "ONNXRUNTIME_LIB_DIR with the x86_64 library is refused for $TARGET_TRIPLE, naming the variable and the architecture"

# --- link a C consumer with exactly the emitted directives, run it under qemu -----------------------------
link_flags=()
directive_link_flags "$WORK/logs/probe.out" link_flags
say "aarch64-linux-gnu-gcc main.c ${link_flags[*]}"
aarch64-linux-gnu-gcc -std=c11 -Wall -Wextra -Werror -o "$WORK/c-mul" "$CI_REPO/ci/consumers/c-mul/main.c" \
    "${link_flags[@]}"
readelf -h "$WORK/c-mul" | grep -qE 'Machine: +AArch64$' || die "c-mul is not an AArch64 binary"
readelf -d "$WORK/c-mul" >"$WORK/logs/readelf-d.txt"
expect_in_file "$WORK/logs/readelf-d.txt" "Shared library: [libonnxruntime.so.1]" "c-mul NEEDED"
grep -E '\(RPATH\)' "$WORK/logs/readelf-d.txt" | grep -qF "$LIB_DIR" || die "c-mul's RPATH lacks $LIB_DIR"
proved "aarch64-linux-gnu-gcc linked c-mul with exactly those directives: NEEDED libonnxruntime.so.1, RPATH the staged dir"

# ORT's cpuinfo can crash under qemu-user reading the host's cache topology (reference/ort-facts.md);
# hiding /sys/devices/system/cpu/cpu*/cache in a private mount namespace avoids it. That needs root.
t=$SECONDS
qemu=(qemu-aarch64 -L "$SYSROOT" "$WORK/c-mul" "$MODEL")
if [[ $(id -u) == 0 ]]; then
    # shellcheck disable=SC2016 # expanded by the inner shell
    run=(unshare -m sh -c 'for d in /sys/devices/system/cpu/cpu*/cache; do mount -t tmpfs none "$d"; done; exec "$@"' sh
        "${qemu[@]}")
else
    say "not root: running qemu without hiding the host's cpu cache topology"
    run=("${qemu[@]}")
fi
if ! env -u LD_LIBRARY_PATH -u QEMU_LD_PREFIX timeout 300 "${run[@]}" >"$WORK/logs/qemu.txt" 2>&1; then
    cat "$WORK/logs/qemu.txt" >&2
    die "c-mul under qemu-aarch64 failed"
fi
T_QEMU=$((SECONDS - t))
expect_in_file "$WORK/logs/qemu.txt" "ONNX Runtime version: $ORT_VERSION" "qemu run"
expect_in_file "$WORK/logs/qemu.txt" "GetApi(22): served" "qemu run"
expect_in_file "$WORK/logs/qemu.txt" "Y = [1, 4, 9, 16, 25, 36]" "qemu run"
proved "under qemu-aarch64, no LD_LIBRARY_PATH: ONNX Runtime $ORT_VERSION, GetApi(22) served, mul_1.onnx Y = [1, 4, 9, 16, 25, 36]"

say "SUMMARY: real-ort-aarch64 OK: probe for $TARGET_TRIPLE picked $(ort_asset "$PLATFORM") (not linux-x64) from a loopback mirror, verified, staged AArch64; x86_64 library refused; C consumer linked with the emitted directives ran mul_1.onnx on ONNX Runtime $ORT_VERSION under $(qemu-aarch64 --version | head -n1 | sed 's/ (.*//'); probe ${T_PROBE}s, qemu run ${T_QEMU}s, total $(elapsed)"

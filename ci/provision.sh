#!/usr/bin/env bash
# The main job, on any machine: `cargo onnxruntime fetch` provisions the real ONNX Runtime 1.22.0 for
# x86_64 and aarch64 Linux into a cache, then `cargo onnxruntime which` shows what a build would pick.
#
# GitHub's release downloads are not reachable from every machine (they are not from our CI), so this
# serves the real library from the onnxruntime PyPI wheel — repackaged in the official archive layout,
# described by a private manifest — on a loopback mirror (ONNXRUNTIME_MIRROR). On a machine that reaches
# GitHub, the same command needs neither: `cargo onnxruntime fetch --version 1.22`.
# Usage: bash ci/provision.sh            (cache: target/ci/provision/cache)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/wheels.sh
source "$CI_REPO/ci/lib/wheels.sh"
# shellcheck source=lib/mirror.sh
source "$CI_REPO/ci/lib/mirror.sh"

WORK="$CI_WORK/provision"
CACHE="$WORK/cache"
mkdir -p "$WORK"
rm -rf "$CACHE"

ort_private_mirror "$WORK/manifest.txt" linux-x64 linux-aarch64
mirror_start "$MIRROR_DIR" "$WORK/mirror.log"

cargo_onnxruntime() {
    (cd "$CI_REPO" && env ONNXRUNTIME_MIRROR="$MIRROR_URL" ONNXRUNTIME_MANIFEST="$WORK/manifest.txt" \
        cargo run --quiet --locked --features cli --bin cargo-onnxruntime -- onnxruntime "$@")
}

say "cargo onnxruntime fetch --version $ORT_VERSION --target x86_64-unknown-linux-gnu --target aarch64-unknown-linux-gnu --cache-dir $CACHE"
cargo_onnxruntime fetch --version "$ORT_VERSION" \
    --target x86_64-unknown-linux-gnu --target aarch64-unknown-linux-gnu --cache-dir "$CACHE"
say "cargo onnxruntime which --version $ORT_VERSION (cache $CACHE)"
ONNXRUNTIME_CACHE_DIR="$CACHE" cargo_onnxruntime which --version "$ORT_VERSION"
say "done in $(elapsed): builds can now use ONNXRUNTIME_CACHE_DIR=$CACHE (add ONNXRUNTIME_OFFLINE=1 to stay off the network)"

#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (`.ci/run` calls this). Run from anywhere:
#   bash ci/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$SECONDS
step() { printf '\n=== %s (%ds)\n' "$*" $((SECONDS - start)); }

step "setup: system packages and test assets"
bash ci/setup.sh

step "format and lints"
cargo fmt --check
cargo clippy --locked --all-targets --all-features -- -D warnings

step "docs build without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --all-features

step "library without the download feature (what a lean user compiles)"
cargo build --locked --no-default-features
cargo test --locked --no-default-features --lib

step "unit and integration tests"
cargo test --locked --all-features

step "real ONNX Runtime from the PyPI wheel, end to end: x86_64 inference with the ort crate"
bash ci/real-ort.sh

step "real ONNX Runtime cross-provisioned for aarch64, linked with the cross gcc, run under qemu"
bash ci/real-ort-aarch64.sh

step "cargo onnxruntime env --for ort-sys: ort-sys from the registry links and runs the real ONNX Runtime"
bash ci/ort-sys-handoff.sh

step "reliability: kill -9 loop and fuzzing (ci/reliability.sh)"
bash ci/reliability.sh

step "done in $((SECONDS - start)) s"

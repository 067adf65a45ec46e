#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a bounded time and fails on any crash, leak, hang or timeout,
# printing the executions of each. Seeds come from the test generators (tests/fuzz_seeds.rs) and are
# written to fuzz/corpus/ (gitignored); libFuzzer adds what it finds there.
#   bash ci/fuzz.sh            # 45 s per target
#   FUZZ_SECONDS=300 bash ci/fuzz.sh manifest
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
seconds=${FUZZ_SECONDS:-45}
targets=("$@")
((${#targets[@]})) || targets=(manifest binary_header tgz tar zip http_response)
cargo_fuzz_version=0.13.2

if [[ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $cargo_fuzz_version" ]]; then
    echo "fuzz: installing cargo-fuzz $cargo_fuzz_version"
    cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked
fi
corpus="$repo/fuzz/corpus"
cargo test --locked --all-features --test fuzz_seeds -- --out "$corpus"

# Only a stable toolchain exists here. cargo fuzz passes nightly-only flags (-Zsanitizer=address and
# the sanitizer-coverage options); RUSTC_BOOTSTRAP=1 lets stable rustc accept them, AddressSanitizer
# included (its runtime ships with the stable x86_64 Linux std). No nightly toolchain is needed.
# Set only now: it is part of cargo's fingerprint and would rebuild the main target dir.
export RUSTC_BOOTSTRAP=1
(cd fuzz && cargo fuzz build -O)

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
summary=()
total=0
for target in "${targets[@]}"; do
    log="$logs/$target.log"
    echo "fuzz: $target for ${seconds}s"
    # -timeout: one input running 10 s is a hang, reported as a failure like a crash.
    if ! (cd fuzz && cargo fuzz run -O "$target" "$corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1) >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz: $target FAILED (the crashing input is in fuzz/artifacts/$target/)" >&2
        exit 1
    fi
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')
    [[ -n "$execs" ]] || { tail -n 30 "$log"; echo "fuzz: no statistics from $target" >&2; exit 1; }
    summary+=("$target $execs")
    total=$((total + execs))
done
for line in "${summary[@]}"; do
    printf 'FUZZ %-14s %12d executions in %ss, no crash\n' ${line} "$seconds"
done
echo "FUZZ total ${total} executions"

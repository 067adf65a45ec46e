#!/usr/bin/env bash
# Benchmarks (issue 7): prints each figure as the median of several runs next to its reference measured
# in the same run, with the machine it ran on. Not part of the test suite (benchmarks are not tests).
#
#   bash ci/bench.sh            # all figures; about 10 minutes on 2 cores, bounded at 45
#   BENCH_FIGURES=1,2 BENCH_RUNS=3 bash ci/bench.sh
#
# Runs unattended. Downloads, pinned: the onnxruntime 1.22.0 wheel from PyPI (by hash) and the crates
# of the compile-cost consumers (by Cargo.lock / exact version). Everything else is served from a
# loopback mirror. Work files go to $BENCH_WORK (default target/bench); the results also to
# $BENCH_WORK/results.txt.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${BENCH_WORK:-$repo/target/bench}
mkdir -p "$work"
log() { printf 'bench: %s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------------------------------
declare -A wanted=([curl]=curl [gzip]=gzip [tar]=tar [pkg-config]=pkg-config [/usr/bin/time]=time)
packages=()
for cmd in "${!wanted[@]}"; do
    command -v "$cmd" >/dev/null || packages+=("${wanted[$cmd]}")
done
python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
if ((${#packages[@]})); then
    sudo=()
    [[ $(id -u) == 0 ]] || sudo=(sudo)
    log "installing ${packages[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# --- the real library: the PyPI wheel's libonnxruntime, pinned by the wheel's SHA-256 -----------------
version=1.22.0
wheel_name=onnxruntime-1.22.0-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
wheel_sha256=6964a975731afc19dc3418fad8d4e08c48920144ff590149429a5ebe0d15fb3c
wheel="$work/wheel/$wheel_name"
if ! echo "$wheel_sha256  $wheel" | sha256sum --check --quiet - 2>/dev/null; then
    log "downloading $wheel_name"
    mkdir -p "$work/wheel"
    echo "onnxruntime==$version --hash=sha256:$wheel_sha256" >"$work/wheel/requirements.txt"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux_2_27_x86_64 \
        --python-version 3.12 --require-hashes -r "$work/wheel/requirements.txt" -d "$work/wheel"
fi

# --- archives on the mirror: the repackaged release, and padded ones for the scaling figure -----------
mkdir -p "$work/mirror/v$version" "$work/manifests"
make_archive() { # label asset [pad-to-bytes]
    local out="$work/mirror/v$version/$2" manifest="$work/manifests/$1.txt"
    # Remade when the packer changed since (a new layout is a new archive).
    if [[ ! -s $manifest || ! -s $out || $repo/ci/bench/archive.py -nt $manifest ]]; then
        log "packing $2"
        python3 "$repo/ci/bench/archive.py" "$wheel" "$version" "$out" "${3:-0}" >"$manifest.partial"
        mv "$manifest.partial" "$manifest"
    fi
}
make_archive real "onnxruntime-linux-x64-$version.tgz"
for mb in 10 50 200; do
    make_archive "pad$(printf %03d $mb)M" "onnxruntime-linux-x64-$version-pad${mb}M.tgz" $((mb * 1000 * 1000))
done

# --- the crate as a user of the official archives has it --------------------------------------------
# A copy of the crate whose shipped manifest lists the repackaged archive in place of the official one
# (same name, its own hash), so a warm probe reads what it reads for a user of the official archives:
# the shipped manifest, and no ONNXRUNTIME_MANIFEST. Only that line differs; the code is the crate's.
# Copied with its times (`cp -a`), so cargo rebuilds it only when the crate changed.
crate="$work/crate"
rm -rf "$crate.partial"
mkdir -p "$crate.partial/ci"
cp -a "$repo/Cargo.toml" "$repo/Cargo.lock" "$repo/build.rs" "$repo/README.md" "$repo/src" "$repo/manifests" "$repo/tests" \
    "$crate.partial/"
cp -a "$repo/ci/bench" "$crate.partial/ci/"
real_line=$(cat "$work/manifests/real.txt")
shipped="$crate.partial/manifests/$version.txt"
awk -v version="$version" '!($1 == version && $2 == "linux-x64" && $3 == "cpu")' \
    "$repo/manifests/$version.txt" >"$shipped.new"
echo "$real_line" >>"$shipped.new"
if cmp -s "$shipped.new" "$crate/manifests/$version.txt"; then
    cp -a "$crate/manifests/$version.txt" "$shipped" # unchanged: keep its time
else
    mv "$shipped.new" "$shipped"
fi
rm -f "$shipped.new"
rm -rf "$crate"
mv "$crate.partial" "$crate"

# --- the harness, at the opt-level cargo gives build scripts (0) and at 3 ---------------------------
export CARGO_TARGET_DIR="$work/target"
for profile in o0 o3; do
    log "building the harness ($profile)"
    cargo build --quiet --manifest-path "$crate/ci/bench/Cargo.toml" --profile "$profile" --bins
done
log "building the harness (o0, default-features = false)"
cargo build --quiet --manifest-path "$crate/ci/bench/Cargo.toml" --profile o0 --bin probe-script \
    --no-default-features --target-dir "$work/target-lean"
unset CARGO_TARGET_DIR

# --- the references: ort-sys's build script, built the way cargo builds it for a dependent ----------
# Once lean (features std) and once with its download code (as in the compile-cost figure), since a
# build script that can download carries that code whether or not it runs.
ortsys_reference() {
    local dir=$1 features=$2
    mkdir -p "$dir/src"
    cat >"$dir/Cargo.toml" <<TOML
[package]
name = "ort-sys-reference"
version = "0.1.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
ort-sys = { version = "=2.0.0-rc.15", default-features = false, features = [$features] }
TOML
    : >"$dir/src/lib.rs"
    log "building ort-sys 2.0.0-rc.15's build script (features $features)"
    # With download-binaries the build script tries to download when it runs, which fails offline;
    # only the compiled build script is needed (it is run below with ORT_LIB_LOCATION set).
    (cd "$dir" && env -u ORT_LIB_LOCATION -u ORT_LIB_PATH cargo build --quiet) ||
        log "(the build of the reference crate failed after its build script was compiled; that is expected offline)"
    # Named after its source file (build/main.rs): build-script-main, in ort-sys's own build dir (with
    # the download features, ring and others have build scripts too).
    find "$dir/target/debug/build" -maxdepth 2 -type f -path "$dir/target/debug/build/ort-sys-*/build-script-*" \
        -executable | head -1
}
ortsys_script=$(ortsys_reference "$work/ort-sys-reference" '"std"')
[[ -n $ortsys_script ]] || { log "ort-sys's build script was not built"; exit 1; }
ortsys_script_full=$(ortsys_reference "$work/ort-sys-reference-full" '"std", "download-binaries", "tls-rustls"')
[[ -n $ortsys_script_full ]] || { log "ort-sys's build script (with downloads) was not built"; exit 1; }

# --- the figures ----------------------------------------------------------------------------------------
log "load: $(cut -d' ' -f1-3 /proc/loadavg); running the figures"
timeout 45m "$work/target/o3/bench" --work "$work" --repo "$repo" \
    --probe-o0 "$work/target/o0/probe-script" --probe-o3 "$work/target/o3/probe-script" \
    --probe-lean "$work/target-lean/o0/probe-script" --bare-script "$work/target/o0/bare-script" \
    --replay-script "$work/target/o0/replay-script" \
    --ortsys-script "$ortsys_script" --ortsys-script-full "$ortsys_script_full" \
    --figures "${BENCH_FIGURES:-1,2,3,4,5,6}" --runs "${BENCH_RUNS:-5}" \
    --compile-runs "${BENCH_COMPILE_RUNS:-5}" | tee "$work/results.txt"

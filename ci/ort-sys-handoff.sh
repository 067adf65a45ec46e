#!/usr/bin/env bash
# `cargo onnxruntime env --for ort-sys` with real consumers: ort-sys from the crate registry (2.0.0-rc.15
# and 2.0.0-rc.10, default features, so no download of their own) linked against the real ONNX Runtime
# 1.22.0 from the PyPI wheel, provisioned by the CLI from a loopback mirror with a private manifest.
# Proves that:
#  - `doctor` on the fresh project reports that ort-sys has nothing to link (exit 1), and after the
#    hand-off that it will link 1.22.0 (exit 0);
#  - rc.15, `env --for ort-sys --write`: .cargo/config.toml gets ORT_LIB_LOCATION=<lib dir>,
#    ORT_PREFER_DYNAMIC_LINK=1 and an rpath; `cargo build` links the cache's library; the binary, run
#    directly with no LD_LIBRARY_PATH (and with a decoy on it), prints 1.22.0 through OrtGetApiBase and
#    GetApi(17) is served; `doctor --binary` agrees;
#  - rc.10, the printed route: `eval "$(cargo onnxruntime env --for ort-sys)"` in the shell, build, run
#    (GetApi(22) served); without the printed LD_LIBRARY_PATH the binary cannot start, and
#    `doctor --binary` says so beforehand (exit 1);
#  - the ONNX Runtime archive was downloaded once (the rc.10 hand-off comes from the cache, server stopped).
# Usage (from anywhere; CI runs it as root from the repo root): bash ci/ort-sys-handoff.sh
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/wheels.sh
source "$CI_REPO/ci/lib/wheels.sh"
# shellcheck source=lib/mirror.sh
source "$CI_REPO/ci/lib/mirror.sh"

PLATFORM=linux-x64
WORK="$CI_WORK/ort-sys-handoff"
MANIFEST="$WORK/manifest.txt"
CACHE="$WORK/cache"
PROJECTS="$WORK/projects"
LOGS="$WORK/logs"

[[ $(uname -m) == x86_64 ]] || die "this leg needs an x86_64 Linux host (found $(uname -m))"
command -v cargo >/dev/null || die "cargo is not on PATH"
need_commands python3:python3 curl:curl gcc:gcc readelf:binutils tar:tar gzip:gzip
# Consumers are rebuilt every run: the build must follow the hand-off of this run.
rm -rf "$CACHE" "$PROJECTS" "$LOGS" "$WORK/target-ort-sys-rc10" "$WORK/target-ort-sys-rc15"
mkdir -p "$WORK" "$LOGS"

# --- the CLI, found by cargo as `cargo onnxruntime` ----------------------------------------------------
t=$SECONDS
cargo build --locked --features cli --bin cargo-onnxruntime --manifest-path "$CI_REPO/Cargo.toml" \
    >"$LOGS/build-cli.log" 2>&1 || {
    tail -n 40 "$LOGS/build-cli.log" >&2
    die "building cargo-onnxruntime failed"
}
export PATH="$CI_REPO/target/debug:$PATH"
cargo onnxruntime --version >"$LOGS/version.txt" || die "cargo does not find the onnxruntime subcommand"
proved "cargo runs the subcommand: $(cat "$LOGS/version.txt") (built in $((SECONDS - t))s)"

# --- the real ORT archive, served from loopback --------------------------------------------------------
ort_private_mirror "$MANIFEST" "$PLATFORM"
ARCHIVE_SHA=$(sha256_of "$(ort_archive_path "$PLATFORM")")
mirror_start "$MIRROR_DIR" "$LOGS/mirror.log"
LIB_DIR="$CACHE/$ARCHIVE_SHA/content/onnxruntime-$PLATFORM-$ORT_VERSION/lib"

# Runs a command with none of the caller's ORT_* / ONNXRUNTIME_* / LD_LIBRARY_PATH, plus the mirror setup.
clean_env() {
    local unset=(-u LD_LIBRARY_PATH) var
    for var in $(compgen -e); do
        [[ $var == ORT_* || $var == ONNXRUNTIME_* || $var == LIBONNXRUNTIME_* ]] && unset+=(-u "$var")
    done
    env "${unset[@]}" ONNXRUNTIME_MIRROR="${MIRROR_URL:-http://127.0.0.1:9}" ONNXRUNTIME_MANIFEST="$MANIFEST" \
        ONNXRUNTIME_CACHE_DIR="$CACHE" ONNXRUNTIME_SOURCES=download "$@"
}

# Copies the consumers (both crates share ../ort-sys-version.rs) so --write never touches the repo.
mkdir -p "$PROJECTS"
cp "$CI_REPO/ci/consumers/ort-sys-version.rs" "$PROJECTS/"
for v in rc10 rc15; do
    mkdir -p "$PROJECTS/ort-sys-$v"
    cp "$CI_REPO/ci/consumers/ort-sys-$v/Cargo.toml" "$CI_REPO/ci/consumers/ort-sys-$v/Cargo.lock" "$PROJECTS/ort-sys-$v/"
done

# Builds a consumer with cargo; stops with the log's tail on failure.
build() {
    local project=$1 log=$2
    shift 2
    if ! (cd "$project" && "$@" cargo build --locked --target-dir "$WORK/target-$(basename "$project")") \
        >"$LOGS/$log.log" 2>&1; then
        tail -n 40 "$LOGS/$log.log" >&2
        die "cargo build of $(basename "$project") failed; log: $LOGS/$log.log"
    fi
}

# --- ort-sys 2.0.0-rc.15: doctor, env --write, doctor, build, run ------------------------------------------
P15="$PROJECTS/ort-sys-rc15"
if (cd "$P15" && clean_env cargo onnxruntime doctor >"$LOGS/doctor-before.txt" 2>&1); then
    cat "$LOGS/doctor-before.txt" >&2
    die "doctor found nothing wrong before the hand-off"
fi
expect_in_file "$LOGS/doctor-before.txt" "ort-sys 2.0.0-rc.15 needs ONNX Runtime 1.17 or newer (C API 17), and its build has none to link" "doctor before"
expect_in_file "$LOGS/doctor-before.txt" "cargo onnxruntime env --for ort-sys --write" "doctor before"
proved "doctor on the fresh rc.15 project: ort-sys has nothing to link (exit 1), fix: cargo onnxruntime env --for ort-sys --write"

t=$SECONDS
(cd "$P15" && clean_env cargo onnxruntime env --for ort-sys --version "$ORT_VERSION" --write) >"$LOGS/env-write.txt" 2>"$LOGS/env-write.err" || {
    cat "$LOGS/env-write.err" >&2
    die "env --for ort-sys --write failed"
}
T_ENV_WRITE=$((SECONDS - t))
CONFIG="$P15/.cargo/config.toml"
expect_in_file "$CONFIG" "ORT_LIB_LOCATION = \"$LIB_DIR\"" ".cargo/config.toml"
expect_in_file "$CONFIG" 'ORT_PREFER_DYNAMIC_LINK = "1"' ".cargo/config.toml"
expect_in_file "$CONFIG" "\"link-arg=-Wl,-rpath,$LIB_DIR\"" ".cargo/config.toml"
requests=$(mirror_requests)
[[ $requests == "GET /v$ORT_VERSION/$(ort_asset "$PLATFORM") 200" ]] ||
    die "expected exactly one download of $(ort_asset "$PLATFORM"), the mirror saw: ${requests:-nothing}"
proved "env --for ort-sys --write downloaded $(ort_asset "$PLATFORM") once (checked against the private manifest) and wrote ORT_LIB_LOCATION=$LIB_DIR, ORT_PREFER_DYNAMIC_LINK=1 and an rpath into .cargo/config.toml"

(cd "$P15" && clean_env cargo onnxruntime doctor >"$LOGS/doctor-after.txt" 2>&1) || {
    cat "$LOGS/doctor-after.txt" >&2
    die "doctor still finds a problem after the hand-off"
}
expect_in_file "$LOGS/doctor-after.txt" "ort-sys 2.0.0-rc.15 will link ONNX Runtime $ORT_VERSION from $LIB_DIR" "doctor after"
proved "doctor after the hand-off: ort-sys 2.0.0-rc.15 will link ONNX Runtime $ORT_VERSION (exit 0)"

t=$SECONDS
build "$P15" build-rc15 env -u LD_LIBRARY_PATH
T_BUILD15=$((SECONDS - t))
BIN15="$WORK/target-ort-sys-rc15/debug/ort-sys-version"
readelf -d "$BIN15" >"$LOGS/readelf-rc15.txt"
expect_in_file "$LOGS/readelf-rc15.txt" "Shared library: [libonnxruntime.so.1]" "rc.15 binary NEEDED"
grep -E '\(RPATH\)' "$LOGS/readelf-rc15.txt" | grep -qF "$LIB_DIR" || die "the rc.15 binary's DT_RPATH lacks $LIB_DIR"
env -u LD_LIBRARY_PATH "$BIN15" >"$LOGS/run-rc15.txt" 2>&1 || {
    cat "$LOGS/run-rc15.txt" >&2
    die "the rc.15 consumer failed to run"
}
expect_in_file "$LOGS/run-rc15.txt" "ONNX Runtime $ORT_VERSION" "rc.15 run"
expect_in_file "$LOGS/run-rc15.txt" "GetApi(17): served" "rc.15 run"
proved "ort-sys 2.0.0-rc.15 consumer built with only .cargo/config.toml, run directly: ONNX Runtime $ORT_VERSION, GetApi(17) served (DT_RPATH $LIB_DIR)"

# A decoy libonnxruntime.so.1 (no VERS_ node) first on LD_LIBRARY_PATH: DT_RPATH still wins.
DECOY="$WORK/decoy"
rm -rf "$DECOY" && mkdir -p "$DECOY"
printf 'void OrtGetApiBase(void) {}\n' >"$DECOY/decoy.c"
gcc -shared -fPIC -Wl,-soname,libonnxruntime.so.1 -o "$DECOY/libonnxruntime.so.1" "$DECOY/decoy.c"
LD_LIBRARY_PATH="$DECOY" "$BIN15" >"$LOGS/run-rc15-decoy.txt" 2>&1 || {
    cat "$LOGS/run-rc15-decoy.txt" >&2
    die "with a decoy on LD_LIBRARY_PATH the rc.15 consumer did not load the handed-off library"
}
expect_in_file "$LOGS/run-rc15-decoy.txt" "ONNX Runtime $ORT_VERSION" "rc.15 run with a decoy"
clean_env cargo onnxruntime doctor --binary "$BIN15" >"$LOGS/doctor-binary-rc15.txt" 2>&1 || {
    cat "$LOGS/doctor-binary-rc15.txt" >&2
    die "doctor --binary finds a problem with the working rc.15 binary"
}
expect_in_file "$LOGS/doctor-binary-rc15.txt" "loads libonnxruntime.so.1 from $LIB_DIR/libonnxruntime.so.$ORT_VERSION (VERS_$ORT_VERSION; needs VERS_$ORT_VERSION)" "doctor --binary"
proved "the rpath outranks a decoy on LD_LIBRARY_PATH, and doctor --binary resolves libonnxruntime.so.1 to the cache's $ORT_VERSION (exit 0)"

# --- ort-sys 2.0.0-rc.10: the printed hand-off, from the cache with the server stopped ----------------------
mirror_stop
MIRROR_URL=http://127.0.0.1:9
P10="$PROJECTS/ort-sys-rc10"
t=$SECONDS
(cd "$P10" && clean_env cargo onnxruntime env --for ort-sys --version "$ORT_VERSION") >"$LOGS/env-print.sh" 2>"$LOGS/env-print.err" || {
    cat "$LOGS/env-print.err" >&2
    die "env --for ort-sys (printed) failed"
}
T_ENV_PRINT=$((SECONDS - t))
expect_in_file "$LOGS/env-print.sh" "export ORT_LIB_LOCATION='$LIB_DIR'" "printed hand-off"
expect_in_file "$LOGS/env-print.sh" "export ORT_PREFER_DYNAMIC_LINK='1'" "printed hand-off"
expect_in_file "$LOGS/env-print.sh" "export LD_LIBRARY_PATH='$LIB_DIR'" "printed hand-off"
(
    for var in $(compgen -e); do
        [[ $var == ORT_* || $var == ONNXRUNTIME_* || $var == LD_LIBRARY_PATH ]] && unset "$var"
    done
    # shellcheck disable=SC1090,SC1091
    source "$LOGS/env-print.sh"
    build "$P10" build-rc10 env
    "$WORK/target-ort-sys-rc10/debug/ort-sys-version" >"$LOGS/run-rc10.txt" 2>&1
) || {
    cat "$LOGS/run-rc10.txt" >&2 2>/dev/null || true
    die "building or running the rc.10 consumer with the printed variables failed"
}
expect_in_file "$LOGS/run-rc10.txt" "ONNX Runtime $ORT_VERSION" "rc.10 run"
expect_in_file "$LOGS/run-rc10.txt" "GetApi(22): served" "rc.10 run"
proved "ort-sys 2.0.0-rc.10 consumer built and run in a shell that evaluated the printed hand-off: ONNX Runtime $ORT_VERSION, GetApi(22) served (from the cache, mirror stopped)"

BIN10="$WORK/target-ort-sys-rc10/debug/ort-sys-version"
if env -u LD_LIBRARY_PATH "$BIN10" >"$LOGS/run-rc10-bare.txt" 2>&1; then
    die "the rc.10 binary ran without LD_LIBRARY_PATH: it should have no rpath (ort-sys emits none)"
fi
expect_in_file "$LOGS/run-rc10-bare.txt" "libonnxruntime.so.1" "rc.10 run without the loader path"
if env -u LD_LIBRARY_PATH "$CI_REPO/target/debug/cargo-onnxruntime" doctor --binary "$BIN10" \
    >"$LOGS/doctor-binary-rc10.txt" 2>&1; then
    die "doctor --binary did not predict that the rc.10 binary cannot start without LD_LIBRARY_PATH"
fi
expect_in_file "$LOGS/doctor-binary-rc10.txt" "will not start: libonnxruntime.so.1 not found" "doctor --binary rc.10"
proved "without the printed LD_LIBRARY_PATH the rc.10 binary cannot start (ort-sys emits no rpath), and doctor --binary says so first (exit 1)"

[[ $(mirror_requests | wc -l) == 1 ]] || die "the mirror served more than one request: $(mirror_requests)"
say "SUMMARY: ort-sys-handoff OK: ort-sys 2.0.0-rc.15 (config --write) and 2.0.0-rc.10 (printed) linked and ran ONNX Runtime $ORT_VERSION from the PyPI wheel via cargo onnxruntime; env --write ${T_ENV_WRITE}s (download included), env printed ${T_ENV_PRINT}s (cache), rc.15 consumer build ${T_BUILD15}s, total $(elapsed)"

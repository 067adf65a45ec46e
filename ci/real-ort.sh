#!/usr/bin/env bash
# End to end with the real ONNX Runtime 1.22.0 on x86_64 Linux. Proves that:
#  - the crate's download source fetches the linux-x64 archive from a mirror (ONNXRUNTIME_MIRROR, here a
#    loopback server holding the wheel's library repackaged in the official layout), verifies it against
#    a private manifest (ONNXRUNTIME_MANIFEST), extracts it into the cache, stages and links it;
#  - the `ort` 2.0.0-rc.15 crate (linking disabled in ort-sys) builds against it and its binary, run
#    directly with no LD_LIBRARY_PATH, loads the staged library and computes mul_1.onnx exactly;
#  - a C program linked with exactly the emitted directives does the same;
#  - the embedded manifest (Microsoft's hash) refuses the repackaged archive: the hash is really checked;
#  - with the server stopped, a fresh target dir builds from the cache, also with ONNXRUNTIME_OFFLINE=1,
#    and offline with an empty cache fails.
# Usage (from anywhere; CI runs it as root from the repo root): bash ci/real-ort.sh
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

ORT_CRATE_VERSION=2.0.0-rc.15
PLATFORM=linux-x64
WORK="$CI_WORK/real-ort"
CONSUMER="$CI_REPO/ci/consumers/ort-mul"
MANIFEST="$WORK/manifest.txt"
MODEL="$(wheel_files_dir "$PLATFORM")/mul_1.onnx"
# A persistent target dir (only the consumer is rebuilt in it) and a fresh one for the cache-hit builds.
TARGET_MAIN="$WORK/target"
TARGET_FRESH="$WORK/target-fresh"

[[ $(uname -m) == x86_64 ]] || die "this leg needs an x86_64 Linux host (found $(uname -m))"
command -v cargo >/dev/null || die "cargo is not on PATH"
need_commands python3:python3 curl:curl gcc:gcc readelf:binutils ldd:libc-bin tar:tar gzip:gzip
mkdir -p "$WORK"
# Scratch from an earlier run that a new run must not see.
rm -rf "$WORK/cache" "$WORK/cache-empty" "$WORK/cache-refused" "$TARGET_FRESH" "$WORK/logs"
mkdir -p "$WORK/logs"

# --- the archive and the private manifest ---------------------------------------------------------------
previous_sha=$(sed -n "s/^$ORT_VERSION $PLATFORM cpu [^ ]* \([0-9a-f]*\) .*/\1/p" "$MANIFEST" 2>/dev/null || true)
ort_private_mirror "$MANIFEST" "$PLATFORM"
ARCHIVE=$(ort_archive_path "$PLATFORM")
ARCHIVE_SHA=$(sha256_of "$ARCHIVE")
proved "$(ort_asset "$PLATFORM") repackaged from ${ORT_WHEEL_FILE[$PLATFORM]} (sha256 $ARCHIVE_SHA)"
if [[ -n $previous_sha ]]; then
    [[ $previous_sha == "$ARCHIVE_SHA" ]] || die "the archive is not reproducible: $previous_sha before, $ARCHIVE_SHA now"
    proved "the repackaged archive is byte-identical to the previous run's"
fi
WHEEL_LIB_SHA=$(sha256_of "$(wheel_files_dir "$PLATFORM")/libonnxruntime.so.$ORT_VERSION")

mirror_start "$MIRROR_DIR" "$WORK/logs/mirror.log"

# Runs cargo on the consumer with only our variables set (any ONNXRUNTIME_* of the caller removed, no
# LD_LIBRARY_PATH), logging to $WORK/logs/$1.log. Usage: consumer_cargo LOGNAME TARGET_DIR CACHE [VAR=value...] -- ARGS
consumer_cargo() {
    local log="$WORK/logs/$1.log" target_dir=$2 cache=$3 var
    shift 3
    local vars=()
    while [[ $1 != -- ]]; do
        vars+=("$1")
        shift
    done
    shift
    local unset=(-u LD_LIBRARY_PATH)
    for var in $(compgen -e); do
        [[ $var == ONNXRUNTIME_* ]] && unset+=(-u "$var")
    done
    env "${unset[@]}" ONNXRUNTIME_MIRROR="$MIRROR_URL" ONNXRUNTIME_CACHE_DIR="$cache" \
        ONNXRUNTIME_SOURCES=download "${vars[@]}" \
        cargo "$@" --manifest-path "$CONSUMER/Cargo.toml" --target-dir "$target_dir" >"$log" 2>&1
}

# Builds the consumer; on failure shows the log and stops.
build_consumer() {
    local name=$1
    if ! consumer_cargo "$@" -- build; then
        tail -n 60 "$WORK/logs/$name.log" >&2
        die "building the ort consumer ($name) failed; log: $WORK/logs/$name.log"
    fi
}

# The consumer's build-script run directory (…/build/ort-mul-<hash>, the one holding `output`).
consumer_build_dir() {
    local dirs
    mapfile -t dirs < <(find "$1/debug/build" -maxdepth 2 -path '*/ort-mul-*/output' -printf '%h\n')
    ((${#dirs[@]} == 1)) || die "expected one build-script output of ort-mul under $1, found ${#dirs[@]}"
    echo "${dirs[0]}"
}

# Checks one built consumer: directives, staged library, ELF linkage, and a real run.
check_consumer() {
    local target_dir=$1 cache=$2 label=$3
    local build_dir lib_dir bin real
    build_dir=$(consumer_build_dir "$target_dir")
    lib_dir="$build_dir/out/onnxruntime/lib"
    bin="$target_dir/debug/ort-mul"
    expect_link_directives "$build_dir/output" "$lib_dir"
    proved "$label: build.rs emitted link-search, link-lib=dylib=onnxruntime and an rpath, all to \$OUT_DIR/onnxruntime/lib"

    real=$(readlink -f "$lib_dir/libonnxruntime.so.1")
    [[ $real == "$cache"/* ]] || die "$label: staged libonnxruntime.so.1 resolves to $real, outside the cache $cache"
    [[ $(sha256_of "$real") == "$WHEEL_LIB_SHA" ]] || die "$label: the staged library is not the wheel's"
    readelf -h "$lib_dir/libonnxruntime.so.1" | grep -qE "Machine: +${ORT_ELF_MACHINE[$PLATFORM]}\$" ||
        die "$label: the staged library is not ${ORT_ELF_MACHINE[$PLATFORM]}"
    proved "$label: \$OUT_DIR/onnxruntime/lib/libonnxruntime.so.1 -> $real (the wheel's ${ORT_ELF_MACHINE[$PLATFORM]} library, in the cache)"

    readelf -d "$bin" >"$WORK/logs/readelf-d.txt"
    expect_in_file "$WORK/logs/readelf-d.txt" "Shared library: [libonnxruntime.so.1]" "$label: NEEDED"
    grep -E '\(RPATH\)' "$WORK/logs/readelf-d.txt" | grep -qF "$lib_dir" ||
        die "$label: the binary's RPATH does not contain $lib_dir"
    readelf -V "$bin" >"$WORK/logs/readelf-V.txt"
    expect_in_file "$WORK/logs/readelf-V.txt" "Name: VERS_$ORT_VERSION" "$label: symbol version"
    env -u LD_LIBRARY_PATH ldd "$bin" >"$WORK/logs/ldd.txt"
    expect_in_file "$WORK/logs/ldd.txt" "libonnxruntime.so.1 => $lib_dir/libonnxruntime.so.1" "$label: ldd"
    proved "$label: ort-mul needs libonnxruntime.so.1 (VERS_$ORT_VERSION) and resolves it, with no LD_LIBRARY_PATH, in the staged dir"

    if ! env -u LD_LIBRARY_PATH "$bin" "$MODEL" >"$WORK/logs/run.txt" 2>&1; then
        cat "$WORK/logs/run.txt" >&2
        die "$label: running $bin failed"
    fi
    expect_in_file "$WORK/logs/run.txt" "ONNX Runtime version: $ORT_VERSION" "$label: run"
    expect_in_file "$WORK/logs/run.txt" "Y shape [3, 2] = [1.0, 4.0, 9.0, 16.0, 25.0, 36.0]" "$label: run"
    proved "$label: ort $ORT_CRATE_VERSION ran mul_1.onnx on ONNX Runtime $ORT_VERSION, run directly: Y = [1, 4, 9, 16, 25, 36]"
}

# Reruns only the consumer's build script next time (a fresh OUT_DIR, the rest of the target dir kept).
clean_consumer() {
    consumer_cargo clean-"$(basename "$1")" "$1" "$WORK/cache-unused" -- clean -p ort-mul ||
        die "cargo clean -p ort-mul failed"
}

lock_before=$(sha256_of "$CONSUMER/Cargo.lock")

# --- 1. cold cache: download from the mirror ------------------------------------------------------------
t=$SECONDS
[[ -d $TARGET_MAIN ]] && clean_consumer "$TARGET_MAIN"
mkdir -p "$WORK/cache"
build_consumer download "$TARGET_MAIN" "$WORK/cache" ONNXRUNTIME_MANIFEST="$MANIFEST"
requests=$(mirror_requests)
[[ $requests == "GET /v$ORT_VERSION/$(ort_asset "$PLATFORM") 200" ]] ||
    die "expected exactly one download of $(ort_asset "$PLATFORM"), the mirror saw: ${requests:-nothing}"
proved "download: one GET of /v$ORT_VERSION/$(ort_asset "$PLATFORM") from the loopback mirror, verified against the private manifest"
check_consumer "$TARGET_MAIN" "$WORK/cache" download
T_DOWNLOAD=$((SECONDS - t))

# --- 2. a C program linked with exactly the emitted directives --------------------------------------------
build_dir=$(consumer_build_dir "$TARGET_MAIN")
link_flags=()
directive_link_flags "$build_dir/output" link_flags
say "gcc main.c ${link_flags[*]}"
gcc -std=c11 -Wall -Wextra -Werror -o "$WORK/c-mul" "$CI_REPO/ci/consumers/c-mul/main.c" "${link_flags[@]}"
env -u LD_LIBRARY_PATH "$WORK/c-mul" "$MODEL" >"$WORK/logs/c-mul.txt" 2>&1 || {
    cat "$WORK/logs/c-mul.txt" >&2
    die "the C consumer failed"
}
expect_in_file "$WORK/logs/c-mul.txt" "ONNX Runtime version: $ORT_VERSION" "C consumer"
expect_in_file "$WORK/logs/c-mul.txt" "Y = [1, 4, 9, 16, 25, 36]" "C consumer"
proved "a C program linked with exactly the emitted directives runs mul_1.onnx: Y = [1, 4, 9, 16, 25, 36]"

# --- 2b. the emitted rpath wins over LD_LIBRARY_PATH ----------------------------------------------------
# A decoy libonnxruntime.so.1 without ORT's VERS_1.22.0 symbol version: were it loaded instead of the
# staged library, the binary would fail with "version `VERS_1.22.0' not found".
DECOY="$WORK/decoy"
rm -rf "$DECOY"
mkdir -p "$DECOY"
printf 'void OrtGetApiBase(void) {}\n' >"$DECOY/decoy.c"
gcc -shared -fPIC -Wl,-soname,libonnxruntime.so.1 -o "$DECOY/libonnxruntime.so.1" "$DECOY/decoy.c"
LD_LIBRARY_PATH="$DECOY" "$TARGET_MAIN/debug/ort-mul" "$MODEL" >"$WORK/logs/decoy.txt" 2>&1 || {
    cat "$WORK/logs/decoy.txt" >&2
    die "with LD_LIBRARY_PATH=$DECOY (a decoy libonnxruntime.so.1) ort-mul did not load the staged library"
}
expect_in_file "$WORK/logs/decoy.txt" "ONNX Runtime version: $ORT_VERSION" "decoy on LD_LIBRARY_PATH"
proved "with a decoy libonnxruntime.so.1 first on LD_LIBRARY_PATH, ort-mul still loads the staged $ORT_VERSION (DT_RPATH wins)"

# --- 3. the embedded manifest (Microsoft's hash) refuses the repackaged archive -----------------------------
MICROSOFT_SHA=$(awk -v v="$ORT_VERSION" -v p="$PLATFORM" '$1 == v && $2 == p && $3 == "cpu" { print $5 }' \
    "$CI_REPO/manifests/$ORT_VERSION.txt" || true)
[[ $MICROSOFT_SHA =~ ^[0-9a-f]{64}$ ]] || die "manifests/$ORT_VERSION.txt has no $PLATFORM cpu entry"
clean_consumer "$TARGET_MAIN"
mkdir -p "$WORK/cache-refused"
if consumer_cargo refused "$TARGET_MAIN" "$WORK/cache-refused" -- build; then
    die "the build succeeded with the embedded manifest, whose hash ($MICROSOFT_SHA) is not the repackaged archive's"
fi
expect_in_file "$WORK/logs/refused.log" "$MICROSOFT_SHA" "embedded manifest refusal"
expect_in_file "$WORK/logs/refused.log" "$ARCHIVE_SHA" "embedded manifest refusal"
[[ -z $(find "$WORK/cache-refused" -name 'libonnxruntime*' -print -quit) ]] ||
    die "a refused archive left library files in the cache: $(find "$WORK/cache-refused" -name 'libonnxruntime*')"
proved "without the private manifest, the embedded entry (Microsoft's $MICROSOFT_SHA) refuses the archive (sha256 $ARCHIVE_SHA); nothing enters the cache"

# --- 4. cache hit: the server stopped, a fresh target dir ------------------------------------------------
mirror_stop
t=$SECONDS
build_consumer cache-hit "$TARGET_FRESH" "$WORK/cache" ONNXRUNTIME_MANIFEST="$MANIFEST"
check_consumer "$TARGET_FRESH" "$WORK/cache" cache-hit
T_CACHE=$((SECONDS - t))

# --- 5. offline: from the cache, and a clear failure with an empty one ---------------------------------------
clean_consumer "$TARGET_FRESH"
build_consumer offline "$TARGET_FRESH" "$WORK/cache" ONNXRUNTIME_MANIFEST="$MANIFEST" ONNXRUNTIME_OFFLINE=1
check_consumer "$TARGET_FRESH" "$WORK/cache" offline
clean_consumer "$TARGET_FRESH"
mkdir -p "$WORK/cache-empty"
if consumer_cargo offline-empty "$TARGET_FRESH" "$WORK/cache-empty" ONNXRUNTIME_MANIFEST="$MANIFEST" \
    ONNXRUNTIME_OFFLINE=1 -- build; then
    die "an offline build with an empty cache succeeded: the offline builds above did not prove a cache hit"
fi
grep -qi offline "$WORK/logs/offline-empty.log" || die "the offline failure does not say it is offline: $WORK/logs/offline-empty.log"
proved "offline with an empty cache fails and says offline (so the offline build above came from the cache)"

if [[ $(sha256_of "$CONSUMER/Cargo.lock") != "$lock_before" ]]; then
    say "NOTE: ci/consumers/ort-mul/Cargo.lock changed (the crate's dependencies changed); commit the new one"
fi
say "SUMMARY: real-ort OK: ort $ORT_CRATE_VERSION + ONNX Runtime $ORT_VERSION ($PLATFORM, from the PyPI wheel), downloaded from a loopback mirror, verified, cached, staged, run directly (Rust and C); embedded hash refused it; cache-hit and offline builds OK; download build ${T_DOWNLOAD}s, fresh cache-hit build ${T_CACHE}s, total $(elapsed)"

# shellcheck shell=bash
# Real ONNX Runtime for the ci/ scripts: the PyPI `onnxruntime` wheels carry the real C API library
# (onnxruntime/capi/libonnxruntime.so.<ver>, SONAME libonnxruntime.so.1) and a tiny model, but no
# headers. They are repackaged here in the official release-archive layout (reference/ort-facts.md
# "Layout"), so the crate's download source can fetch, verify and extract them from a loopback mirror.
# Source common.sh first.

ORT_VERSION=1.22.0
ORT_WHEEL_PYTHON=3.11

# Per ORT platform: the pip --platform tag, the wheel file pip picks for it, and that file's SHA-256
# (computed here on first download; a changed file on the index fails the run instead of passing silently).
declare -A ORT_WHEEL_TAG=(
    [linux-x64]=manylinux_2_27_x86_64
    [linux-aarch64]=manylinux_2_28_aarch64
)
declare -A ORT_WHEEL_FILE=(
    [linux-x64]=onnxruntime-1.22.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
    [linux-aarch64]=onnxruntime-1.22.0-cp311-cp311-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl
)
declare -A ORT_WHEEL_SHA256=(
    [linux-x64]=b978aa63a9a22095479c38371a9b359d4c15173cbb164eaad5f2cd27d666aa65
    [linux-aarch64]=fef17d665a917866d1f68f09edc98223b9a27e6cb167dec69da4c66484ad12fd
)
# The ELF machine `readelf -h` reports for each platform's library.
# shellcheck disable=SC2034 # used by the scripts that source this file
declare -A ORT_ELF_MACHINE=(
    [linux-x64]='Advanced Micro Devices X86-64'
    [linux-aarch64]='AArch64'
)

WHEEL_DIR="$CI_WORK/wheels"
# The mirror root: <mirror>/v<version>/<asset>, the layout ONNXRUNTIME_MIRROR expects.
MIRROR_DIR="$CI_WORK/mirror"

ort_asset() { echo "onnxruntime-$1-$ORT_VERSION.tgz"; }
ort_archive_path() { echo "$MIRROR_DIR/v$ORT_VERSION/$(ort_asset "$1")"; }
# What the wheel's files are extracted to: libonnxruntime.so.<ver>, libonnxruntime_providers_shared.so, mul_1.onnx, ...
wheel_files_dir() { echo "$WHEEL_DIR/$1"; }

# Downloads (once) and checks the wheel for an ORT platform.
wheel_fetch() {
    local platform=$1
    local file="$WHEEL_DIR/${ORT_WHEEL_FILE[$platform]}" want=${ORT_WHEEL_SHA256[$platform]}
    if [[ -f $file && $(sha256_of "$file") == "$want" ]]; then
        return 0
    fi
    need_commands python3:python3
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    local tmp="$WHEEL_DIR/.download-$platform-$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    say "pip download onnxruntime==$ORT_VERSION for ${ORT_WHEEL_TAG[$platform]}"
    PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip download --quiet --no-input --no-deps --only-binary=:all: \
        --platform "${ORT_WHEEL_TAG[$platform]}" --python-version "$ORT_WHEEL_PYTHON" \
        -d "$tmp" "onnxruntime==$ORT_VERSION" </dev/null
    [[ -f $tmp/${ORT_WHEEL_FILE[$platform]} ]] ||
        die "pip fetched $(ls "$tmp") instead of ${ORT_WHEEL_FILE[$platform]}"
    local got
    got=$(sha256_of "$tmp/${ORT_WHEEL_FILE[$platform]}")
    [[ $got == "$want" ]] || die "${ORT_WHEEL_FILE[$platform]}: sha256 $got, pinned $want"
    mv "$tmp/${ORT_WHEEL_FILE[$platform]}" "$file"
    rm -rf "$tmp"
}

# Extracts the files the tests use from the wheel, once: a stamp naming the wheel's hash, written
# last, marks a complete extraction (into a temp dir renamed into place).
wheel_extract() {
    local platform=$1 dest tmp
    dest=$(wheel_files_dir "$platform")
    [[ -f $dest/.extracted-${ORT_WHEEL_SHA256[$platform]} ]] && return 0
    wheel_fetch "$platform"
    tmp="$dest.tmp-$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    python3 - "$WHEEL_DIR/${ORT_WHEEL_FILE[$platform]}" "$tmp" "$ORT_VERSION" <<'PY'
import os, sys, zipfile
wheel, dest, version = sys.argv[1:]
wanted = [
    f"onnxruntime/capi/libonnxruntime.so.{version}",
    "onnxruntime/capi/libonnxruntime_providers_shared.so",
    "onnxruntime/datasets/mul_1.onnx",
    "onnxruntime/LICENSE",
    "onnxruntime/Privacy.md",
    "onnxruntime/ThirdPartyNotices.txt",
]
with zipfile.ZipFile(wheel) as z:
    for name in wanted:
        with z.open(name) as src, open(os.path.join(dest, os.path.basename(name)), "wb") as out:
            out.write(src.read())
PY
    touch "$tmp/.extracted-${ORT_WHEEL_SHA256[$platform]}"
    rm -rf "$dest"
    mv "$tmp" "$dest"
}

# Builds <mirror>/v<ver>/onnxruntime-<platform>-<ver>.tgz in the official layout, byte for byte the
# same on every run (sorted entries, fixed mtime, owner and modes, gzip without a timestamp).
ort_archive() {
    local platform=$1
    local files root stage archive
    files=$(wheel_files_dir "$platform")
    wheel_extract "$platform"
    root="onnxruntime-$platform-$ORT_VERSION"
    stage="$CI_WORK/repack/$platform.$$"
    archive=$(ort_archive_path "$platform")
    rm -rf "$stage"
    mkdir -p "$stage/$root/lib" "$stage/$root/include" "$(dirname "$archive")"
    cp "$files/libonnxruntime.so.$ORT_VERSION" "$files/libonnxruntime_providers_shared.so" "$stage/$root/lib/"
    ln -s "libonnxruntime.so.$ORT_VERSION" "$stage/$root/lib/libonnxruntime.so.1"
    ln -s libonnxruntime.so.1 "$stage/$root/lib/libonnxruntime.so"
    cp "$files/LICENSE" "$files/Privacy.md" "$files/ThirdPartyNotices.txt" "$stage/$root/"
    printf '%s\n' "$ORT_VERSION" >"$stage/$root/VERSION_NUMBER"
    printf 'ONNX Runtime %s for %s, repackaged from the onnxruntime %s PyPI wheel (%s) for tests.\nThe wheels carry no headers, so include/ is empty.\n' \
        "$ORT_VERSION" "$platform" "$ORT_VERSION" "${ORT_WHEEL_FILE[$platform]}" >"$stage/$root/README.md"
    find "$stage/$root" -type d -exec chmod 0755 {} +
    find "$stage/$root" -type f -exec chmod 0644 {} +
    chmod 0755 "$stage/$root/lib/"*.so*
    tar --sort=name --format=gnu --mtime=@0 --owner=0 --group=0 --numeric-owner \
        -C "$stage" -cf - "$root" | gzip -n >"$archive.tmp-$$"
    mv "$archive.tmp-$$" "$archive"
    rm -rf "$stage"
}

# One manifest line (DESIGN.md "Manifests": version platform variant asset sha256 size source).
ort_manifest_line() {
    local platform=$1 archive
    archive=$(ort_archive_path "$platform")
    printf '%s %s cpu %s %s %s repackaged from the onnxruntime %s wheel for tests (%s)\n' \
        "$ORT_VERSION" "$platform" "$(ort_asset "$platform")" "$(sha256_of "$archive")" \
        "$(stat -c %s "$archive")" "$ORT_VERSION" "${ORT_WHEEL_FILE[$platform]}"
}

# Builds the archives for the given platforms and writes a private manifest listing them.
ort_private_mirror() {
    local manifest=$1 platform
    shift
    for platform in "$@"; do
        ort_archive "$platform"
    done
    {
        echo "# Private manifest for ci/: archives repackaged from PyPI wheels, served from loopback."
        for platform in "$@"; do
            ort_manifest_line "$platform"
        done
    } >"$manifest.tmp-$$"
    mv "$manifest.tmp-$$" "$manifest"
}

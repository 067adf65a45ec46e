#!/usr/bin/env bash
# Fetches real ONNX Runtime binaries for the header-parsing tests (src/inspect/binary): the npm package
# onnxruntime-node carries the Linux .so, macOS .dylib and Windows .dll of one release, so one
# `npm pack` gives real ELF, Mach-O and PE files without installing anything.
# Idempotent: does nothing when the files are already there. Output: <repo>/.test-assets/ (gitignored).
set -euo pipefail

version=1.30.0
# The registry's own `dist.integrity` of that tarball, as hex: versions are immutable, so a mismatch
# means a tampered mirror or cache.
sha512=b7086cd42d82fc1164cf5c9ce4e634288536194aba0d444eee10f86f1e50d90cb79c0309c115d6f31537355733136f5503d96894b3987a9a03f1f8d318e7c8ab
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest="$repo/.test-assets/onnxruntime-node-$version"
files=(
    "bin/napi-v6/darwin/arm64/libonnxruntime.$version.dylib"
    bin/napi-v6/win32/x64/onnxruntime.dll
    bin/napi-v6/win32/arm64/onnxruntime.dll
    bin/napi-v6/linux/x64/libonnxruntime.so.1
    bin/napi-v6/linux/arm64/libonnxruntime.so.1
)

missing=0
for f in "${files[@]}"; do
    [[ -s "$dest/$f" ]] || missing=1
done
if [[ $missing == 0 ]]; then
    echo "test assets present in $dest"
    exit 0
fi

command -v npm >/dev/null || { echo "npm is needed: apt-get install npm" >&2; exit 1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
(cd "$scratch" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
tarball="$scratch/onnxruntime-node-$version.tgz"
[[ -f "$tarball" ]] || { echo "npm pack did not produce $(basename "$tarball")" >&2; exit 1; }
echo "$sha512  $tarball" | sha512sum --check --quiet -

# npm tarballs put everything under package/.
tar -xzf "$tarball" -C "$scratch" "${files[@]/#/package/}"
for f in "${files[@]}"; do
    mkdir -p "$(dirname "$dest/$f")"
    # Write under a temporary name, then rename, so an interrupted run never leaves a short file behind.
    cp "$scratch/package/$f" "$dest/$f.partial"
    mv "$dest/$f.partial" "$dest/$f"
done
echo "test assets written to $dest"

#!/usr/bin/env python3
"""Write manifests/<version>.txt from the project's checksum table, once.

Usage: python3 ci/manifests-from-tsv.py PATH/TO/ort-release-checksums.tsv [OUT_DIR]

This was run once to create manifests/; from then on the files are edited by hand (or by
`cargo onnxruntime manifest add`). Neither CI nor the build runs it, and nothing reads the table at
build or test time. It copies hashes; it computes none.

Table columns: version, asset, sha256, confidence, sources. A size, where the table has one, is
written inside the sources text as "(size N bytes ...)"; it moves to the size column here.
"""

import os
import re
import sys

# The public repositories behind the source keys of the table (its header expands them the same way).
SOURCE_KEYS = {
    "A-rb": "ankane/onnxruntime-ruby, Rakefile",
    "A-php": "ankane/onnxruntime-php, src/Vendor.php (same author as A-rb)",
    "XM": "xmake-io/xmake-repo, packages/o/onnxruntime/xmake.lua",
    "PAC": "pacstall/pacstall-programs, packages/onnxruntime-bin/onnxruntime-bin.pacscript",
    "SH": "k2-fsa/sherpa-onnx, cmake/onnxruntime-<platform>.cmake (only lines with Microsoft's URL)",
}

CONFIDENCE = {
    "named": "named = at least one named public repository pins this hash (keys follow)",
    "multi": "multi = two or more independent named repositories agree",
    "index": "index = unnamed public files (their count follows) carry this hash (lower confidence)",
}

PLATFORMS = [
    "linux-x64",
    "linux-aarch64",
    "osx-arm64",
    "osx-universal2",
    "osx-x86_64",
    "win-x64",
    "win-arm64",
    "win-x86",
]
VARIANTS = ["cpu", "cuda11", "cuda12", "cuda13"]

ASSET = re.compile(
    r"^onnxruntime-(?P<platform>" + "|".join(re.escape(p) for p in PLATFORMS) + r")"
    r"(?P<suffix>-gpu_cuda12|-gpu_cuda13|-cuda12|-gpu)?"
    r"-(?P<version>\d+\.\d+\.\d+)\.(?P<ext>tgz|zip)$"
)
SIZE = re.compile(r"\(size (?P<size>\d+) bytes(?P<rest>[^)]*)\)")


def version_key(text):
    return tuple(int(part) for part in text.split("."))


def variant_of(suffix, version):
    if suffix is None:
        return "cpu"
    if suffix == "-gpu":
        # The plain GPU archives were CUDA 11 through 1.19.0 and CUDA 12 from 1.19.2 (ORT issue #21965:
        # 1.19.0's -gpu zip still needed CUDA 11). 1.24 ships CUDA 12 and CUDA 13 builds (ORT issue
        # #27130), the latter as -gpu_cuda13, so -gpu stays the CUDA 12 build there.
        return "cuda11" if version_key(version) <= (1, 19, 0) else "cuda12"
    return {"-cuda12": "cuda12", "-gpu_cuda12": "cuda12", "-gpu_cuda13": "cuda13"}[suffix]


def provenance(confidence, sources):
    """Split a size out of the sources text; keep everything else as provenance."""
    size = "-"
    match = SIZE.search(sources)
    if match:
        size = match.group("size")
        rest = match.group("rest").strip().lstrip(";").strip()
        replacement = f"({rest})" if rest else ""
        sources = (sources[: match.start()] + replacement + sources[match.end() :]).strip()
        sources = re.sub(r"\s+", " ", sources)
    return size, f"{confidence} {sources}".strip()


def read_table(path):
    rows = []
    with open(path, encoding="utf-8") as table:
        for number, line in enumerate(table, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#") or line.startswith("version\t"):
                continue
            fields = line.split("\t")
            if len(fields) != 5:
                sys.exit(f"{path}:{number}: expected 5 tab-separated fields, found {len(fields)}")
            version, asset, sha256, confidence, sources = fields
            match = ASSET.match(asset)
            if not match:
                sys.exit(f"{path}:{number}: asset name {asset!r} does not follow the official pattern")
            if match.group("version") != version:
                sys.exit(f"{path}:{number}: asset {asset} is not release {version}")
            if not re.fullmatch(r"[0-9a-f]{64}", sha256):
                sys.exit(f"{path}:{number}: {sha256!r} is not a lowercase SHA-256")
            if confidence not in CONFIDENCE:
                sys.exit(f"{path}:{number}: unknown confidence {confidence!r}")
            size, source = provenance(confidence, sources)
            rows.append(
                {
                    "version": version,
                    "platform": match.group("platform"),
                    "variant": variant_of(match.group("suffix"), version),
                    "asset": asset,
                    "sha256": sha256,
                    "size": size,
                    "source": source,
                    "confidence": confidence,
                    "keys": [k for k in sources.split() if k in SOURCE_KEYS],
                }
            )
    return rows


def header(version, rows):
    lines = [
        f"# ONNX Runtime {version}: the official release archives and their SHA-256.",
        f"# URL: https://github.com/microsoft/onnxruntime/releases/download/v{version}/<asset>",
        "# Columns: version platform variant asset sha256 size source   (size in bytes or -; source = the",
        "# rest of the line: where the hash comes from). `#` starts a comment.",
        "#",
        "# Every hash here was copied from public repositories that download these exact Microsoft URLs",
        "# and check them against the hash; none was computed by this crate. Source column:",
    ]
    for confidence in CONFIDENCE:
        if any(row["confidence"] == confidence for row in rows):
            lines.append(f"#   {CONFIDENCE[confidence]}")
    used = [key for key in SOURCE_KEYS if any(key in row["keys"] for row in rows)]
    for key in used:
        lines.append(f"#   {key:<5} = {SOURCE_KEYS[key]}")
    if any(row["variant"] != "cpu" for row in rows):
        lines += [
            "#",
            "# GPU archives: plain `-gpu` is CUDA 11 through 1.19.0 and CUDA 12 from 1.19.2 on (ORT issue #21965;",
            "# 1.24 ships CUDA 12 and CUDA 13 builds, ORT issue #27130); `-cuda12` (1.17.x) and `-gpu_cuda12` are",
            "# CUDA 12; `-gpu_cuda13` is CUDA 13.",
        ]
    return lines


def write(out_dir, version, rows):
    rows.sort(key=lambda r: (PLATFORMS.index(r["platform"]), VARIANTS.index(r["variant"])))
    keys = [(r["platform"], r["variant"]) for r in rows]
    if len(set(keys)) != len(keys):
        sys.exit(f"{version}: two assets map to the same platform and variant: {keys}")
    width = max(len(r["asset"]) for r in rows)
    size_width = max(len(r["size"]) for r in rows)
    lines = header(version, rows)
    lines.append("")
    for r in rows:
        lines.append(
            f"{r['version']} {r['platform']:<14} {r['variant']:<6} {r['asset']:<{width}} "
            f"{r['sha256']} {r['size']:<{size_width}} {r['source']}"
        )
    path = os.path.join(out_dir, f"{version}.txt")
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return path


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    rows = read_table(sys.argv[1])
    out_dir = sys.argv[2] if len(sys.argv) == 3 else os.path.join(os.path.dirname(__file__), "..", "manifests")
    os.makedirs(out_dir, exist_ok=True)
    by_version = {}
    for row in rows:
        by_version.setdefault(row["version"], []).append(row)
    for version in sorted(by_version, key=version_key):
        path = write(out_dir, version, by_version[version])
        print(f"{path}: {len(by_version[version])} archives")


if __name__ == "__main__":
    main()

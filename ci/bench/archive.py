#!/usr/bin/env python3
"""Repackages the onnxruntime wheel's C library in the layout of the official Linux archive
(onnxruntime-linux-x64-<ver>/lib/libonnxruntime.so -> .so.1 -> .so.<ver>, include/, VERSION_NUMBER and
the rest of its names),
optionally padded with incompressible filler so the .tgz reaches a given size, and prints the
manifest line for it. The output is deterministic: fixed mtimes, owners, order, gzip level and seed.

    archive.py WHEEL VERSION OUT.tgz [PAD_TO_BYTES]
"""
import gzip
import hashlib
import io
import os
import random
import sys
import tarfile
import zipfile

MTIME = 1_700_000_000
# gzip's own default level, as the official archives use.
LEVEL = 6


def members(wheel, version):
    """(name, bytes or None for a directory, link target or None, mode) in archive order: every name
    of the official archive (ort-facts.md, "Layout of an official archive"), so a warm probe checks as
    many files as it does in a real cache entry. Only the two libraries are real; the rest are short
    stand-ins (the wheels ship no headers or notices)."""
    top = f"onnxruntime-linux-x64-{version}"
    with zipfile.ZipFile(wheel) as z:
        lib = z.read(f"onnxruntime/capi/libonnxruntime.so.{version}")
        shared = z.read("onnxruntime/capi/libonnxruntime_providers_shared.so")

    def text(what):
        return f"stand-in for the official {what}\n".encode()

    # The version line is what a header-based check reads.
    api = version.split(".")[1]
    c_api = f"/* stand-in for the official header */\n#define ORT_API_VERSION {api}\n".encode()
    headers = [
        "cpu_provider_factory.h",
        "onnxruntime_c_api.h",
        "onnxruntime_cxx_api.h",
        "onnxruntime_cxx_inline.h",
        "onnxruntime_float16.h",
        "onnxruntime_lite_custom_op.h",
        "onnxruntime_run_options_config_keys.h",
        "onnxruntime_session_options_config_keys.h",
        "provider_options.h",
    ]
    cmake = [
        "onnxruntimeConfig.cmake",
        "onnxruntimeConfigVersion.cmake",
        "onnxruntimeTargets-release.cmake",
        "onnxruntimeTargets.cmake",
    ]
    return [
        (f"{top}/", None, None, 0o755),
        (f"{top}/GIT_COMMIT_ID", text("GIT_COMMIT_ID"), None, 0o644),
        (f"{top}/LICENSE", text("LICENSE"), None, 0o644),
        (f"{top}/Privacy.md", text("Privacy.md"), None, 0o644),
        (f"{top}/README.md", text("README.md"), None, 0o644),
        (f"{top}/ThirdPartyNotices.txt", text("ThirdPartyNotices.txt"), None, 0o644),
        (f"{top}/VERSION_NUMBER", f"{version}\n".encode(), None, 0o644),
        (f"{top}/include/", None, None, 0o755),
        *[(f"{top}/include/{h}", c_api if h == "onnxruntime_c_api.h" else text(h), None, 0o644) for h in headers],
        (f"{top}/lib/", None, None, 0o755),
        (f"{top}/lib/cmake/", None, None, 0o755),
        (f"{top}/lib/cmake/onnxruntime/", None, None, 0o755),
        *[(f"{top}/lib/cmake/onnxruntime/{c}", text(c), None, 0o644) for c in cmake],
        (f"{top}/lib/libonnxruntime.so", None, "libonnxruntime.so.1", 0o777),
        (f"{top}/lib/libonnxruntime.so.1", None, f"libonnxruntime.so.{version}", 0o777),
        (f"{top}/lib/libonnxruntime.so.{version}", lib, None, 0o755),
        (f"{top}/lib/libonnxruntime_providers_shared.so", shared, None, 0o755),
        (f"{top}/lib/pkgconfig/", None, None, 0o755),
        (f"{top}/lib/pkgconfig/libonnxruntime.pc", text("libonnxruntime.pc"), None, 0o644),
    ]


def write(out, entries):
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=LEVEL, mtime=0, filename="") as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for name, data, link, mode in entries:
                info = tarfile.TarInfo(name.rstrip("/"))
                info.mtime, info.mode, info.uid, info.gid = MTIME, mode, 0, 0
                if link is not None:
                    info.type, info.linkname = tarfile.SYMTYPE, link
                    tar.addfile(info)
                elif data is None:
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                else:
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))


def main():
    wheel, version, out = sys.argv[1:4]
    pad_to = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    entries = members(wheel, version)
    tmp = out + ".partial"
    write(tmp, entries)
    missing = pad_to - os.path.getsize(tmp)
    if missing > 0:
        # Random bytes do not compress: the archive grows by about as much as the filler.
        filler = random.Random(pad_to).randbytes(missing)
        top = entries[0][0]
        entries.insert(2, (f"{top}filler.bin", filler, None, 0o644))
        write(tmp, entries)
    os.replace(tmp, out)
    digest = hashlib.sha256(open(out, "rb").read()).hexdigest()
    size = os.path.getsize(out)
    print(f"{version} linux-x64 cpu {os.path.basename(out)} {digest} {size} bench: repackaged PyPI wheel")


if __name__ == "__main__":
    main()

/work/main/ci/bench/target/o3/deps/onnxruntime_provision-06bfdb2a4abed6fd.d: /work/main/src/lib.rs /work/main/src/cache.rs /work/main/src/config.rs /work/main/src/dependent.rs /work/main/src/emit.rs /work/main/src/env.rs /work/main/src/error.rs /work/main/src/extract/mod.rs /work/main/src/extract/gzip.rs /work/main/src/extract/inflate/mod.rs /work/main/src/extract/inflate/zlib.rs /work/main/src/extract/overlap.rs /work/main/src/extract/tarfile.rs /work/main/src/extract/tgz.rs /work/main/src/extract/zipfile.rs /work/main/src/fetch/mod.rs /work/main/src/fetch/body.rs /work/main/src/fetch/connection.rs /work/main/src/fetch/file.rs /work/main/src/fetch/http.rs /work/main/src/fetch/proxy.rs /work/main/src/fetch/socks.rs /work/main/src/fetch/tls.rs /work/main/src/fetch/url.rs /work/main/src/fetch/wire.rs /work/main/src/inspect/mod.rs /work/main/src/inspect/binary/mod.rs /work/main/src/inspect/binary/ar.rs /work/main/src/inspect/binary/elf.rs /work/main/src/inspect/binary/input.rs /work/main/src/inspect/binary/macho.rs /work/main/src/inspect/binary/pe.rs /work/main/src/inspect/memo.rs /work/main/src/inspect/static_lib.rs /work/main/src/internal.rs /work/main/src/library.rs /work/main/src/manifest/mod.rs /work/main/src/manifest/naming.rs /work/main/src/manifest/parse.rs /work/main/src/manifest/platform.rs /work/main/src/memo.rs /work/main/src/probe.rs /work/main/src/request.rs /work/main/src/sources/mod.rs /work/main/src/sources/download.rs /work/main/src/sources/env.rs /work/main/src/sources/pkg_config.rs /work/main/src/sources/pkg_config/search.rs /work/main/src/sources/system.rs /work/main/src/stage/mod.rs /work/main/src/stage/final_dir.rs /work/main/src/target.rs /work/main/src/version.rs /work/main/ci/bench/target/o3/build/onnxruntime-provision-75f3361089804abf/out/manifests.rs

/work/main/ci/bench/target/o3/deps/libonnxruntime_provision-06bfdb2a4abed6fd.rmeta: /work/main/src/lib.rs /work/main/src/cache.rs /work/main/src/config.rs /work/main/src/dependent.rs /work/main/src/emit.rs /work/main/src/env.rs /work/main/src/error.rs /work/main/src/extract/mod.rs /work/main/src/extract/gzip.rs /work/main/src/extract/inflate/mod.rs /work/main/src/extract/inflate/zlib.rs /work/main/src/extract/overlap.rs /work/main/src/extract/tarfile.rs /work/main/src/extract/tgz.rs /work/main/src/extract/zipfile.rs /work/main/src/fetch/mod.rs /work/main/src/fetch/body.rs /work/main/src/fetch/connection.rs /work/main/src/fetch/file.rs /work/main/src/fetch/http.rs /work/main/src/fetch/proxy.rs /work/main/src/fetch/socks.rs /work/main/src/fetch/tls.rs /work/main/src/fetch/url.rs /work/main/src/fetch/wire.rs /work/main/src/inspect/mod.rs /work/main/src/inspect/binary/mod.rs /work/main/src/inspect/binary/ar.rs /work/main/src/inspect/binary/elf.rs /work/main/src/inspect/binary/input.rs /work/main/src/inspect/binary/macho.rs /work/main/src/inspect/binary/pe.rs /work/main/src/inspect/memo.rs /work/main/src/inspect/static_lib.rs /work/main/src/internal.rs /work/main/src/library.rs /work/main/src/manifest/mod.rs /work/main/src/manifest/naming.rs /work/main/src/manifest/parse.rs /work/main/src/manifest/platform.rs /work/main/src/memo.rs /work/main/src/probe.rs /work/main/src/request.rs /work/main/src/sources/mod.rs /work/main/src/sources/download.rs /work/main/src/sources/env.rs /work/main/src/sources/pkg_config.rs /work/main/src/sources/pkg_config/search.rs /work/main/src/sources/system.rs /work/main/src/stage/mod.rs /work/main/src/stage/final_dir.rs /work/main/src/target.rs /work/main/src/version.rs /work/main/ci/bench/target/o3/build/onnxruntime-provision-75f3361089804abf/out/manifests.rs

/work/main/src/lib.rs:
/work/main/src/cache.rs:
/work/main/src/config.rs:
/work/main/src/dependent.rs:
/work/main/src/emit.rs:
/work/main/src/env.rs:
/work/main/src/error.rs:
/work/main/src/extract/mod.rs:
/work/main/src/extract/gzip.rs:
/work/main/src/extract/inflate/mod.rs:
/work/main/src/extract/inflate/zlib.rs:
/work/main/src/extract/overlap.rs:
/work/main/src/extract/tarfile.rs:
/work/main/src/extract/tgz.rs:
/work/main/src/extract/zipfile.rs:
/work/main/src/fetch/mod.rs:
/work/main/src/fetch/body.rs:
/work/main/src/fetch/connection.rs:
/work/main/src/fetch/file.rs:
/work/main/src/fetch/http.rs:
/work/main/src/fetch/proxy.rs:
/work/main/src/fetch/socks.rs:
/work/main/src/fetch/tls.rs:
/work/main/src/fetch/url.rs:
/work/main/src/fetch/wire.rs:
/work/main/src/inspect/mod.rs:
/work/main/src/inspect/binary/mod.rs:
/work/main/src/inspect/binary/ar.rs:
/work/main/src/inspect/binary/elf.rs:
/work/main/src/inspect/binary/input.rs:
/work/main/src/inspect/binary/macho.rs:
/work/main/src/inspect/binary/pe.rs:
/work/main/src/inspect/memo.rs:
/work/main/src/inspect/static_lib.rs:
/work/main/src/internal.rs:
/work/main/src/library.rs:
/work/main/src/manifest/mod.rs:
/work/main/src/manifest/naming.rs:
/work/main/src/manifest/parse.rs:
/work/main/src/manifest/platform.rs:
/work/main/src/memo.rs:
/work/main/src/probe.rs:
/work/main/src/request.rs:
/work/main/src/sources/mod.rs:
/work/main/src/sources/download.rs:
/work/main/src/sources/env.rs:
/work/main/src/sources/pkg_config.rs:
/work/main/src/sources/pkg_config/search.rs:
/work/main/src/sources/system.rs:
/work/main/src/stage/mod.rs:
/work/main/src/stage/final_dir.rs:
/work/main/src/target.rs:
/work/main/src/version.rs:
/work/main/ci/bench/target/o3/build/onnxruntime-provision-75f3361089804abf/out/manifests.rs:

# env-dep:CARGO_PKG_VERSION=0.1.0
# env-dep:ONNXRUNTIME_PROVISION_HOST=x86_64-unknown-linux-gnu
# env-dep:OUT_DIR=/work/main/ci/bench/target/o3/build/onnxruntime-provision-75f3361089804abf/out

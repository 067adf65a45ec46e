//! Shared test parts: ORT stand-in libraries built at test time, official-layout install trees, and
//! loopback HTTP(S) servers and proxies with fault injection (`server`).
//!
//! A stand-in is a real shared library: it exports `OrtGetApiBase` (whose `GetVersionString` returns the
//! chosen release), has SONAME `libonnxruntime.so.1` and a `VERS_1.X.Y` version node, so linking,
//! loading and release mismatches behave as with the real thing.
#![allow(dead_code)]

#[cfg(feature = "download")]
pub mod archive;
#[cfg(feature = "download")]
pub mod hostile;
#[cfg(feature = "download")]
pub mod scene;
pub mod server;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const X86_64: &str = "x86_64-unknown-linux-gnu";
pub const AARCH64: &str = "aarch64-unknown-linux-gnu";

/// The C source of the stand-in. `OrtApiBase` is two function pointers and never changes.
pub const STANDIN_C: &str = r#"
#include <stddef.h>
#include <stdint.h>
typedef struct OrtApi OrtApi;
typedef struct OrtApiBase {
    const OrtApi* (*GetApi)(uint32_t version);
    const char* (*GetVersionString)(void);
} OrtApiBase;
static const OrtApi* get_api(uint32_t version) { (void)version; return NULL; }
static const char* get_version(void) { return ORT_STANDIN_VERSION; }
static const OrtApiBase base = { get_api, get_version };
const OrtApiBase* OrtGetApiBase(void) { return &base; }
"#;

/// A compiler for `target`, found the way the `cc` crate finds it.
pub fn compiler(target: &str) -> Command {
    if target == AARCH64 {
        ensure_cross_toolchain();
    }
    let tool = cc::Build::new()
        .target(target)
        .host(X86_64)
        .opt_level(0)
        .cargo_metadata(false)
        .cargo_warnings(false)
        .try_get_compiler()
        .unwrap_or_else(|e| panic!("no C compiler for {target}: {e}"));
    let mut cmd = Command::new(tool.path());
    // Only the flags that choose the target; the cc crate's own flags are for object files.
    for arg in tool.args() {
        let s = arg.to_string_lossy();
        if s.starts_with("-m") || s.starts_with("--target") {
            cmd.arg(arg);
        }
    }
    cmd
}

/// Installs the aarch64 cross compiler when it is missing and we are root (as in CI); otherwise fails
/// the test with what to install. It never lets a test pass silently without it.
pub fn ensure_cross_toolchain() {
    if which("aarch64-linux-gnu-gcc") {
        return;
    }
    let lock = fs::File::create(std::env::temp_dir().join("onnxruntime-provision-apt.lock")).unwrap();
    lock.lock().unwrap();
    if which("aarch64-linux-gnu-gcc") {
        return;
    }
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    assert!(
        root,
        "aarch64-linux-gnu-gcc is missing: install it with `apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross` \
         (the tests do it themselves when run as root)"
    );
    for args in [&["update", "-qq"][..], &["install", "-y", "-qq", "gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross"]] {
        let status =
            Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive").status().expect("apt-get runs");
        assert!(status.success(), "apt-get {args:?} failed");
    }
    assert!(which("aarch64-linux-gnu-gcc"), "apt-get ran, but aarch64-linux-gnu-gcc is still missing");
}

pub fn which(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Builds `libonnxruntime.so.<version>` for `target` into `dir` (SONAME `libonnxruntime.so.1`, version
/// node `VERS_<version>`) and returns its path.
pub fn build_standin(dir: &Path, version: &str, target: &str) -> PathBuf {
    build_shared(dir, &format!("libonnxruntime.so.{version}"), Some("libonnxruntime.so.1"), version, target)
}

/// Builds a shared library named `file_name` exporting `OrtGetApiBase` that reports `version`.
pub fn build_shared(dir: &Path, file_name: &str, soname: Option<&str>, version: &str, target: &str) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    // Compile in a scratch dir with a plain path (linker arguments are text), then move it in place.
    let scratch = tempdir();
    let src = scratch.path().join("standin.c");
    let map = scratch.path().join("standin.map");
    fs::write(&src, STANDIN_C).unwrap();
    fs::write(&map, format!("VERS_{version} {{\n  global: OrtGetApiBase;\n  local: *;\n}};\n")).unwrap();
    let built = scratch.path().join(file_name);
    let mut cmd = compiler(target);
    cmd.arg("-shared").arg("-fPIC").arg(format!("-DORT_STANDIN_VERSION=\"{version}\"")).arg("-o").arg(&built).arg(&src);
    cmd.arg(format!("-Wl,--version-script={}", map.display()));
    if let Some(soname) = soname {
        cmd.arg(format!("-Wl,-soname,{soname}"));
    }
    let output = cmd.output().expect("the C compiler runs");
    assert!(output.status.success(), "building {file_name} failed: {}", String::from_utf8_lossy(&output.stderr));
    let out = dir.join(file_name);
    fs::copy(&built, &out).unwrap();
    out
}

/// An install tree in the official archive layout under `parent/<top>`:
/// `lib/libonnxruntime.so -> .so.1 -> .so.<version>`, `lib/libonnxruntime_providers_shared.so`,
/// `include/onnxruntime_c_api.h` (with `ORT_API_VERSION`), `VERSION_NUMBER`. Returns the root.
pub fn official_tree(parent: &Path, top: &str, version: &str, target: &str) -> PathBuf {
    let root = parent.join(top);
    let lib = root.join("lib");
    build_standin(&lib, version, target);
    symlink(&format!("libonnxruntime.so.{version}"), &lib.join("libonnxruntime.so.1"));
    symlink("libonnxruntime.so.1", &lib.join("libonnxruntime.so"));
    build_shared(&lib, "libonnxruntime_providers_shared.so", None, version, target);
    let include = root.join("include");
    fs::create_dir_all(&include).unwrap();
    let minor = version.split('.').nth(1).unwrap();
    fs::write(include.join("onnxruntime_c_api.h"), format!("#pragma once\n#define ORT_API_VERSION {minor}\n")).unwrap();
    fs::write(root.join("VERSION_NUMBER"), format!("{version}\n")).unwrap();
    root
}

pub fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// A fresh temporary directory, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("ort-provision-test-").tempdir().unwrap()
}

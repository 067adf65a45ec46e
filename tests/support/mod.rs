//! Shared test parts: ORT stand-in libraries built at test time (Mach-O and PE ones with LLVM:
//! `llvm`), official-layout install trees, and loopback HTTP(S) servers and proxies with fault
//! injection (`server`).
//!
//! A stand-in is a real shared library: it exports `OrtGetApiBase` (whose `GetVersionString` returns the
//! chosen release), has SONAME `libonnxruntime.so.1` and a `VERS_1.X.Y` version node, so linking,
//! loading and release mismatches behave as with the real thing.
#![allow(dead_code)]

#[cfg(feature = "download")]
pub mod archive;
#[cfg(feature = "download")]
pub mod hostile;
pub mod llvm;
pub mod process_env;
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
    apt_install(&["gcc-aarch64-linux-gnu", "g++-aarch64-linux-gnu", "libc6-dev-arm64-cross"], || {
        which("aarch64-linux-gnu-gcc") && which("aarch64-linux-gnu-g++")
    });
}

/// The path of an LLVM tool (`/usr/lib/llvm-<N>/bin/<name>`, the newest), installing `llvm` and `lld`
/// when missing, as [`ensure_cross_toolchain`] does.
pub fn llvm_tool(name: &str) -> PathBuf {
    apt_install(&["llvm", "lld"], || find_llvm_tool(name).is_some());
    find_llvm_tool(name).unwrap_or_else(|| panic!("{name} is missing from /usr/lib/llvm-*/bin"))
}

fn find_llvm_tool(name: &str) -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.strip_prefix("llvm-")?.parse().ok()?;
            Some((version, e.path().join("bin").join(name)))
        })
        .filter(|(_, path)| path.is_file())
        .collect();
    found.sort();
    found.pop().map(|(_, path)| path)
}

/// Installs Debian `packages` unless `present()` already holds: only as root (CI), one installer at a
/// time across test processes; otherwise the test fails naming the packages.
pub fn apt_install(packages: &[&str], present: impl Fn() -> bool) {
    if present() {
        return;
    }
    let lock = fs::File::create(std::env::temp_dir().join("onnxruntime-provision-apt.lock")).unwrap();
    lock.lock().unwrap();
    if present() {
        return;
    }
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    let list = packages.join(" ");
    assert!(root, "missing: install it with `apt-get install {list}` (the tests do it themselves when run as root)");
    for args in [vec!["update", "-qq"], [&["install", "-y", "-qq"][..], packages].concat()] {
        let status = Command::new("apt-get")
            .args(&args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .expect("apt-get runs");
        assert!(status.success(), "apt-get {args:?} failed");
    }
    assert!(present(), "apt-get installed {list}, but it is still missing");
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

/// A C program that prints `ONNX Runtime <version>` from the ORT it loads, linked in `dir` against the
/// library in `link_dir`; with `rpath`, that directory is its DT_RUNPATH.
pub fn version_printer(dir: &Path, link_dir: &Path, rpath: Option<&Path>) -> PathBuf {
    let source = dir.join("version_printer.c");
    fs::write(
        &source,
        "#include <stdio.h>\n\
         typedef struct OrtApiBase { const void* (*GetApi)(unsigned); const char* (*GetVersionString)(void); } OrtApiBase;\n\
         const OrtApiBase* OrtGetApiBase(void);\n\
         int main(void) { printf(\"ONNX Runtime %s\\n\", OrtGetApiBase()->GetVersionString()); return 0; }\n",
    )
    .unwrap();
    let program = dir.join("version_printer");
    let mut cc = compiler(X86_64);
    cc.arg("-o").arg(&program).arg(&source).arg(format!("-L{}", link_dir.display())).arg("-lonnxruntime");
    if let Some(rpath) = rpath {
        cc.arg("-Wl,--enable-new-dtags").arg(format!("-Wl,-rpath,{}", rpath.display()));
    }
    let output = cc.output().unwrap();
    assert!(output.status.success(), "linking failed: {}", String::from_utf8_lossy(&output.stderr));
    program
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
    write_release_files(&root, version);
    root
}

/// What every release root holds beside its libraries: `include/onnxruntime_c_api.h` with the
/// release's `ORT_API_VERSION` (its minor version), and `VERSION_NUMBER`.
pub fn write_release_files(root: &Path, version: &str) {
    let include = root.join("include");
    fs::create_dir_all(&include).unwrap();
    let minor = version.split('.').nth(1).unwrap();
    fs::write(include.join("onnxruntime_c_api.h"), format!("#pragma once\n#define ORT_API_VERSION {minor}\n")).unwrap();
    fs::write(root.join("VERSION_NUMBER"), format!("{version}\n")).unwrap();
}

pub fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// A fresh temporary directory, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("ort-provision-test-").tempdir().unwrap()
}

/// A static ORT stand-in in C++ as a CMake build tree has it: `libonnxruntime_session.a` (the C API entry
/// point, using std::string) needs `libonnxruntime_common.a`, which needs `_deps/foo-build/libfoo.a` —
/// listed here in no useful order — plus a test-only archive that must not be linked. `version` is
/// `1.X.Y`; the patch number comes from the dependency at run time. Returns the build directory.
pub fn static_build_tree(parent: &Path, version: &str, target: &str) -> PathBuf {
    let (major_minor, patch) = version.rsplit_once('.').unwrap();
    let build = parent.join("build/Linux/Release");
    let sources = [
        (
            "libonnxruntime_session.a",
            "session.cpp",
            r#"#include <cstdint>
#include <string>
extern "C" const char* ort_common_version();
struct OrtApi;
struct OrtApiBase { const OrtApi* (*GetApi)(uint32_t); const char* (*GetVersionString)(); };
static std::string text;
static const OrtApi* get_api(uint32_t) { return nullptr; }
static const char* get_version() { text = ort_common_version(); return text.c_str(); }
static const OrtApiBase base = { get_api, get_version };
extern "C" const OrtApiBase* OrtGetApiBase() { return &base; }
"#
            .to_string(),
        ),
        (
            "libonnxruntime_common.a",
            "common.cpp",
            format!(
                "#include <string>\nextern \"C\" int foo_patch();\nextern \"C\" const char* ort_common_version() {{\n  \
                 static std::string v = std::string(\"{major_minor}.\") + std::to_string(foo_patch());\n  return v.c_str();\n}}\n"
            ),
        ),
        ("_deps/foo-build/libfoo.a", "foo.c", format!("int foo_patch(void) {{ return {patch}; }}\n")),
        ("libonnxruntime_test_utils.a", "test_utils.c", "int test_only(void) { return 1; }\n".to_string()),
    ];
    let scratch = tempdir();
    for (archive, file, code) in sources {
        let src = scratch.path().join(file);
        fs::write(&src, code).unwrap();
        let object = src.with_extension("o");
        let mut cc = compiler(target);
        if file.ends_with(".cpp") {
            // The C++ driver of the same toolchain: g++ beside gcc.
            let gxx = cc.get_program().to_string_lossy().replace("gcc", "g++").replace("/cc", "/c++");
            cc = Command::new(gxx);
        }
        let output = cc.arg("-c").arg("-fPIC").arg("-o").arg(&object).arg(&src).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let archive = build.join(archive);
        fs::create_dir_all(archive.parent().unwrap()).unwrap();
        let ar = if target == AARCH64 { "aarch64-linux-gnu-ar" } else { "ar" };
        assert!(Command::new(ar).arg("rcs").arg(&archive).arg(&object).status().unwrap().success());
    }
    fs::write(build.join("VERSION_NUMBER"), format!("{version}\n")).unwrap();
    build
}

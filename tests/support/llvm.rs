//! Real Mach-O and PE files built with LLVM, which needs no SDK: `llvm-mc` assembles for any target,
//! `ld64.lld` links Mach-O, `lld-link` links PE, `llvm-lipo` makes universal files. The stand-ins
//! export `OrtGetApiBase` without code (only the symbol matters: they are read, never run), and the
//! executables refer to it, so the linker records the library as a dependency the way a real
//! program's is recorded.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::llvm_tool;

/// Runs a command and fails the test with its output if it fails.
pub fn run(cmd: &mut Command) {
    let output = cmd.output().unwrap_or_else(|e| panic!("{cmd:?} did not start: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Assembles `source` for `triple` into an object file `dir/<name>`.
pub fn assemble(dir: &Path, name: &str, triple: &str, source: &str) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let src = dir.join(format!("{name}.s"));
    fs::write(&src, source).unwrap();
    let out = dir.join(name);
    run(Command::new(llvm_tool("llvm-mc"))
        .arg(format!("-triple={triple}"))
        .arg("-filetype=obj")
        .arg(&src)
        .arg("-o")
        .arg(&out));
    out
}

/// What a Mach-O stand-in dylib records about itself.
pub struct Dylib<'a> {
    /// `ld64.lld`'s word for the architecture: `x86_64` or `arm64`.
    pub arch: &'a str,
    /// `LC_ID_DYLIB`, which a program linked against the dylib records as the name to load.
    pub install_name: &'a str,
    pub current_version: &'a str,
    /// `LC_RPATH` entries.
    pub rpaths: &'a [&'a str],
}

/// The install name of ORT's official macOS dylibs (checked on 1.30.0's).
pub const ORT_INSTALL_NAME: &str = "@rpath/libonnxruntime.1.dylib";

/// A stand-in dylib `dir/<file_name>` exporting `_OrtGetApiBase`.
pub fn macho_dylib(dir: &Path, file_name: &str, dylib: &Dylib) -> PathBuf {
    let scratch = super::tempdir();
    let object = assemble(
        scratch.path(),
        "standin.o",
        &format!("{}-apple-macos11", dylib.arch),
        ".text\n.globl _OrtGetApiBase\n_OrtGetApiBase:\n.long 0\n",
    );
    fs::create_dir_all(dir).unwrap();
    let out = dir.join(file_name);
    let mut cmd = Command::new(llvm_tool("ld64.lld"));
    cmd.args(["-dylib", "-arch", dylib.arch, "-platform_version", "macos", "11.0", "11.0"])
        .args(["-install_name", dylib.install_name, "-current_version", dylib.current_version])
        .args(["-compatibility_version", "1.0.0"]);
    for rpath in dylib.rpaths {
        cmd.args(["-rpath", rpath]);
    }
    run(cmd.arg("-o").arg(&out).arg(&object));
    out
}

/// A Mach-O executable `dir/<name>` for `arch` with an `_main` that refers to `_OrtGetApiBase` of
/// `libraries` (none: a program that links no ORT), and `rpaths` as its `LC_RPATH` entries.
pub fn macho_executable(dir: &Path, name: &str, arch: &str, libraries: &[&Path], rpaths: &[&str]) -> PathBuf {
    let inputs: Vec<OsString> = libraries.iter().map(|l| l.as_os_str().to_owned()).collect();
    link_macho_executable(dir, name, arch, !libraries.is_empty(), rpaths, &inputs)
}

/// A Mach-O executable `dir/<name>` for `arch` linked the way ort-sys links: `-L lib_dir -lonnxruntime`
/// (the linker records the dylib's install name, not the file it read), with `rpaths` as `LC_RPATH`.
pub fn macho_executable_linking(dir: &Path, name: &str, arch: &str, lib_dir: &Path, rpaths: &[&str]) -> PathBuf {
    let inputs = [OsString::from("-L"), lib_dir.as_os_str().to_owned(), OsString::from("-lonnxruntime")];
    link_macho_executable(dir, name, arch, true, rpaths, &inputs)
}

/// `ld64.lld -execute` of an `_main` (referring to `_OrtGetApiBase` when `uses_ort`) with `inputs`.
fn link_macho_executable(
    dir: &Path,
    name: &str,
    arch: &str,
    uses_ort: bool,
    rpaths: &[&str],
    inputs: &[OsString],
) -> PathBuf {
    let scratch = super::tempdir();
    // A data reference binds at load time; a call would need libSystem's lazy-binding helper.
    let reference = if uses_ort { ".data\n.quad _OrtGetApiBase\n" } else { "" };
    let object = assemble(
        scratch.path(),
        "main.o",
        &format!("{arch}-apple-macos11"),
        &format!(".text\n.globl _main\n_main:\n.long 0\n{reference}"),
    );
    fs::create_dir_all(dir).unwrap();
    let out = dir.join(name);
    let mut cmd = Command::new(llvm_tool("ld64.lld"));
    cmd.args(["-execute", "-arch", arch, "-platform_version", "macos", "11.0", "11.0"]);
    for rpath in rpaths {
        cmd.args(["-rpath", rpath]);
    }
    run(cmd.arg("-o").arg(&out).arg(&object).args(inputs));
    out
}

/// An install in the layout of ORT's macOS archives under `parent/onnxruntime-osx-<arch>-<version>`
/// (`arch` is `arm64` or `x86_64`): `lib/libonnxruntime.<version>.dylib` (install name
/// [`ORT_INSTALL_NAME`], current version `version`), `lib/libonnxruntime.dylib` linking it,
/// `include/onnxruntime_c_api.h`, `VERSION_NUMBER` — and, as in the real archives, no
/// `libonnxruntime.1.dylib`. Returns the root.
pub fn macos_official_tree(parent: &Path, version: &str, arch: &str) -> PathBuf {
    let root = parent.join(format!("onnxruntime-osx-{arch}-{version}"));
    let lib = root.join("lib");
    let file_name = format!("libonnxruntime.{version}.dylib");
    let dylib = Dylib { arch, install_name: ORT_INSTALL_NAME, current_version: version, rpaths: &[] };
    macho_dylib(&lib, &file_name, &dylib);
    super::symlink(&file_name, &lib.join("libonnxruntime.dylib"));
    super::write_release_files(&root, version);
    root
}

/// A universal file `out` of the thin `slices`.
pub fn lipo(out: &Path, slices: &[&Path]) -> PathBuf {
    fs::create_dir_all(out.parent().unwrap()).unwrap();
    run(Command::new(llvm_tool("llvm-lipo")).arg("-create").args(slices).arg("-output").arg(out));
    out.to_path_buf()
}

/// An `lld-link` machine: its name, assembler triple, how C names are decorated (x86 adds `_`), and
/// how a function is called and returned from.
pub struct PeMachine {
    pub name: &'static str,
    pub triple: &'static str,
    pub prefix: &'static str,
    call: &'static str,
    ret: &'static str,
}

pub const PE_X64: PeMachine =
    PeMachine { name: "x64", triple: "x86_64-pc-windows-msvc", prefix: "", call: "callq", ret: "retq" };
pub const PE_X86: PeMachine =
    PeMachine { name: "x86", triple: "i686-pc-windows-msvc", prefix: "_", call: "calll", ret: "retl" };
pub const PE_ARM64: PeMachine =
    PeMachine { name: "arm64", triple: "aarch64-pc-windows-msvc", prefix: "", call: "bl", ret: "ret" };

/// `dir/onnxruntime.dll` and its import library `dir/onnxruntime.lib` for `machine`.
pub fn pe_standin(dir: &Path, machine: &PeMachine) -> (PathBuf, PathBuf) {
    let scratch = super::tempdir();
    let source = format!(".text\n.globl {p}OrtGetApiBase\n{p}OrtGetApiBase:\n.long 0\n", p = machine.prefix);
    let object = assemble(scratch.path(), "standin.obj", machine.triple, &source);
    fs::create_dir_all(dir).unwrap();
    let (dll, lib) = (dir.join("onnxruntime.dll"), dir.join("onnxruntime.lib"));
    run(Command::new(llvm_tool("lld-link"))
        // The stand-in has no exception-handler table, which x86 SafeSEH would insist on.
        .args(["/dll", "/noentry", "/export:OrtGetApiBase", "/safeseh:no"])
        .arg(format!("/machine:{}", machine.name))
        .arg(format!("/out:{}", dll.display()))
        .arg(format!("/implib:{}", lib.display()))
        .arg(&object));
    (dll, lib)
}

/// A console executable `dir/<name>` for `machine` whose `main` calls `OrtGetApiBase` through
/// `import_lib` (so it imports `onnxruntime.dll`), or calls nothing when there is none.
pub fn pe_executable(dir: &Path, name: &str, machine: &PeMachine, import_lib: Option<&Path>) -> PathBuf {
    let scratch = super::tempdir();
    let p = machine.prefix;
    let call = if import_lib.is_some() { format!("{} {p}OrtGetApiBase\n", machine.call) } else { String::new() };
    let source = format!(".text\n.globl {p}main\n{p}main:\n{call}{}\n", machine.ret);
    let object = assemble(scratch.path(), "main.obj", machine.triple, &source);
    fs::create_dir_all(dir).unwrap();
    let out = dir.join(name);
    run(Command::new(llvm_tool("lld-link"))
        .args(["/entry:main", "/subsystem:console", "/safeseh:no"])
        .arg(format!("/machine:{}", machine.name))
        .arg(format!("/out:{}", out.display()))
        .arg(&object)
        .args(import_lib));
    out
}

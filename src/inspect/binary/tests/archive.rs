//! Static libraries: `ar` archives of ELF objects compiled by gcc and the aarch64 cross gcc (GNU
//! format, with a symbol table and a long-name table), and of Mach-O objects in BSD format.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::read_ok;
use super::support::{self, AARCH64, X86_64};
use super::toolchain::{self, llvm_tool};
use crate::inspect::binary::Format;
use crate::target::{Arch, Os};

/// An object file of the stand-in for `target`, with a name longer than 15 bytes so the archive
/// needs its long-name table.
pub(super) fn object(dir: &Path, target: &str) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let src = dir.join("standin.c");
    fs::write(&src, support::STANDIN_C).unwrap();
    let out = dir.join(format!("onnxruntime_standin_{}.o", target.split('-').next().unwrap()));
    let mut cmd = support::compiler(target);
    cmd.arg("-c").arg("-fPIC").arg("-DORT_STANDIN_VERSION=\"1.22.0\"").arg("-o").arg(&out).arg(&src);
    toolchain::run(&mut cmd);
    out
}

/// `ar` with a symbol table (`s`) over `members`.
pub(super) fn archive(dir: &Path, members: &[PathBuf]) -> PathBuf {
    let out = dir.join("libonnxruntime.a");
    toolchain::run(Command::new(llvm_tool("llvm-ar")).arg("rcs").arg(&out).args(members));
    out
}

#[test]
fn static_library_of_x86_64_objects() {
    let dir = support::tempdir();
    let lib = archive(dir.path(), &[object(dir.path(), X86_64)]);
    let info = read_ok(&lib);
    assert_eq!(info.format, Format::Archive);
    assert_eq!(info.os, Some(Os::Linux));
    assert_eq!(info.archs, vec![Arch::X86_64]);
    assert_eq!(info.description, "ar archive of ELF objects (x86-64)");
}

#[test]
fn static_library_made_by_gnu_ar_for_aarch64() {
    let dir = support::tempdir();
    let member = object(dir.path(), AARCH64);
    let lib = dir.path().join("libonnxruntime.a");
    toolchain::run(Command::new("aarch64-linux-gnu-ar").arg("rcs").arg(&lib).arg(&member));
    let info = read_ok(&lib);
    assert_eq!(info.archs, vec![Arch::Aarch64]);
    assert_eq!(info.description, "ar archive of ELF objects (aarch64)");
}

#[test]
fn mixed_archive_lists_every_architecture() {
    let dir = support::tempdir();
    let lib = archive(dir.path(), &[object(dir.path(), X86_64), object(dir.path(), AARCH64)]);
    assert_eq!(read_ok(&lib).archs, vec![Arch::X86_64, Arch::Aarch64]);
}

#[test]
fn bsd_archive_of_mach_o_objects() {
    let dir = support::tempdir();
    let members: Vec<PathBuf> = ["x86_64", "arm64"]
        .iter()
        .map(|arch| {
            let name = format!("onnxruntime_standin_object_{arch}.o");
            toolchain::assemble(dir.path(), &name, &format!("{arch}-apple-macos11"), ".text\n.globl _f\n_f:\n.long 0\n")
        })
        .collect();
    let lib = dir.path().join("libonnxruntime.a");
    toolchain::run(Command::new(llvm_tool("llvm-ar")).arg("--format=darwin").arg("rcs").arg(&lib).args(&members));
    let bytes = fs::read(&lib).unwrap();
    assert!(bytes.windows(3).any(|w| w == b"#1/"), "llvm-ar should have written BSD long names");
    let info = read_ok(&lib);
    assert_eq!(info.os, Some(Os::MacOs));
    assert_eq!(info.archs, vec![Arch::X86_64, Arch::Aarch64]);
    assert_eq!(info.description, "ar archive of Mach-O objects (x86_64, arm64)");
}

//! PE/COFF: `onnxruntime.dll` stand-ins linked by `lld-link` for x64, x86 and arm64, their import
//! libraries (real short-import-object archives, like the official `onnxruntime.lib`), and a DLL
//! that imports from the stand-in.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::support;
use super::toolchain::{self, llvm_tool};
use super::{put, read_ok};
use crate::inspect::binary::{Format, parse};
use crate::target::{Arch, Os};

pub(super) use crate::test_support::llvm::{PE_ARM64 as ARM64, PE_X64 as X64, PE_X86 as X86, PeMachine as Machine};

/// `onnxruntime.dll` and `onnxruntime.lib` for `machine`, in `dir`.
pub(super) fn standin(dir: &Path, machine: &Machine) -> (PathBuf, PathBuf) {
    crate::test_support::llvm::pe_standin(dir, machine)
}

fn check(machine: &Machine, arch: Arch, description: &str, lib_description: &str) {
    let dir = support::tempdir();
    let (dll, lib) = standin(dir.path(), machine);
    let info = read_ok(&dll);
    assert_eq!(info.format, Format::Pe);
    assert_eq!(info.os, Some(Os::Windows));
    assert_eq!(info.archs, vec![arch.clone()]);
    assert_eq!(info.description, description);
    assert_eq!(info.soname, None);

    let info = read_ok(&lib);
    assert_eq!(info.format, Format::Archive);
    assert_eq!(info.os, Some(Os::Windows));
    assert_eq!(info.archs, vec![arch]);
    assert_eq!(info.description, lib_description);
}

#[test]
fn x64_dll_and_import_library() {
    check(&X64, Arch::X86_64, "PE32+ x86-64", "ar archive of COFF objects (x86-64)");
}

#[test]
fn x86_dll_is_pe32_and_its_import_library_says_i386() {
    check(&X86, Arch::X86, "PE32 i386", "ar archive of COFF objects (i386)");
}

#[test]
fn arm64_dll_and_import_library() {
    check(&ARM64, Arch::Aarch64, "PE32+ arm64", "ar archive of COFF objects (arm64)");
}

#[test]
fn a_dll_importing_from_the_standin_names_it() {
    let dir = support::tempdir();
    let (_, lib) = standin(dir.path(), &X64);
    let object = toolchain::assemble(
        dir.path(),
        "consumer.obj",
        X64.triple,
        ".text\n.globl consumer\nconsumer:\ncallq OrtGetApiBase\nretq\n",
    );
    let out = dir.path().join("consumer.dll");
    toolchain::run(
        Command::new(llvm_tool("lld-link"))
            .args(["/dll", "/noentry", "/export:consumer", "/machine:x64"])
            .arg(format!("/out:{}", out.display()))
            .arg(&object)
            .arg(&lib),
    );
    assert_eq!(read_ok(&out).needed, vec!["onnxruntime.dll".to_string()]);
}

#[test]
fn executables_of_every_machine_name_the_dll_they_import() {
    for (machine, arch) in [(&X64, Arch::X86_64), (&X86, Arch::X86), (&ARM64, Arch::Aarch64)] {
        let dir = support::tempdir();
        let (_, lib) = standin(dir.path(), machine);
        let exe = crate::test_support::llvm::pe_executable(dir.path(), "app.exe", machine, Some(&lib));
        let info = read_ok(&exe);
        assert_eq!((info.archs, info.needed), (vec![arch.clone()], vec!["onnxruntime.dll".to_string()]), "{arch}");
        let plain = crate::test_support::llvm::pe_executable(dir.path(), "plain.exe", machine, None);
        assert!(read_ok(&plain).needed.is_empty());
    }
}

#[test]
fn arm64ec_machine_counts_as_aarch64() {
    // lld here cannot link ARM64EC; the x64 stand-in with its COFF machine set to 0xA641 stands in.
    let dir = support::tempdir();
    let (dll, _) = standin(dir.path(), &X64);
    let mut bytes = fs::read(&dll).unwrap();
    let pe = u32::from_le_bytes(bytes[0x3c..0x40].try_into().unwrap()) as usize;
    put(&mut bytes, pe + 4, &0xa641u16.to_le_bytes());
    let info = parse(&bytes).unwrap();
    assert_eq!(info.archs, vec![Arch::Aarch64]);
    assert_eq!(info.description, "PE32+ arm64");
}

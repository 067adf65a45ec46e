//! Mach-O: dylibs linked by `ld64.lld` for x86_64 and arm64 (install name, current version, rpath),
//! a dylib that loads another, universal files made by `llvm-lipo`, and the same slices behind a
//! 64-bit fat header.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::support;
use super::toolchain::{self, llvm_tool};
use super::{put, read_ok};
use crate::inspect::binary::{Format, VersionNeed, parse};
use crate::target::{Arch, Os};

use crate::test_support::llvm::{self as llvm_build, Dylib, ORT_INSTALL_NAME as INSTALL_NAME};

/// `libonnxruntime.1.22.0.dylib` for `arch` (`x86_64` or `arm64`) with ORT's install name.
pub(super) fn dylib(dir: &Path, arch: &str) -> PathBuf {
    let dylib = Dylib { arch, install_name: INSTALL_NAME, current_version: "1.22.0", rpaths: &["@loader_path/../lib"] };
    llvm_build::macho_dylib(dir, &format!("libonnxruntime.1.22.0-{arch}.dylib"), &dylib)
}

#[test]
fn x86_64_dylib_gives_install_name_version_and_rpath() {
    let dir = support::tempdir();
    let info = read_ok(&dylib(dir.path(), "x86_64"));
    assert_eq!(info.format, Format::MachO);
    assert_eq!(info.os, Some(Os::MacOs));
    assert_eq!(info.archs, vec![Arch::X86_64]);
    assert_eq!(info.description, "Mach-O 64-bit x86_64");
    assert_eq!(info.soname.as_deref(), Some(INSTALL_NAME));
    assert_eq!(info.dylib_version, Some((1, 22, 0)));
    assert_eq!(info.run_paths, vec!["@loader_path/../lib".to_string()]);
    assert!(info.version_definitions.is_empty());
}

#[test]
fn arm64_dylib() {
    let dir = support::tempdir();
    let info = read_ok(&dylib(dir.path(), "arm64"));
    assert_eq!(info.archs, vec![Arch::Aarch64]);
    assert_eq!(info.description, "Mach-O 64-bit arm64");
    assert_eq!(info.soname.as_deref(), Some(INSTALL_NAME));
    assert_eq!(info.dylib_version, Some((1, 22, 0)));
}

#[test]
fn a_dylib_linked_against_the_standin_needs_its_install_name() {
    let dir = support::tempdir();
    let ort = dylib(dir.path(), "x86_64");
    let object = toolchain::assemble(
        dir.path(),
        "consumer.o",
        "x86_64-apple-macos11",
        // A data reference binds at load time; a call would need libSystem's lazy-binding helper.
        ".data\n.globl _consumer\n_consumer:\n.quad _OrtGetApiBase\n",
    );
    let out = dir.path().join("libconsumer.dylib");
    toolchain::run(
        Command::new(llvm_tool("ld64.lld"))
            .args(["-dylib", "-arch", "x86_64", "-platform_version", "macos", "11.0", "11.0"])
            .args(["-install_name", "@rpath/libconsumer.dylib"])
            .arg("-o")
            .arg(&out)
            .arg(&object)
            .arg(&ort),
    );
    let info = read_ok(&out);
    assert_eq!(info.soname.as_deref(), Some("@rpath/libconsumer.dylib"));
    assert_eq!(info.needed, vec![INSTALL_NAME.to_string()]);
    let need = VersionNeed { file: INSTALL_NAME.to_string(), versions: Vec::new(), current_version: Some((1, 22, 0)) };
    assert_eq!(info.version_needs, vec![need]);
    assert_eq!(info.dylib_version, Some((0, 0, 0)));
}

#[test]
fn an_executable_records_its_rpaths_in_order_and_the_version_it_was_linked_against() {
    let dir = support::tempdir();
    let dylib = Dylib {
        arch: "arm64",
        install_name: "@rpath/libonnxruntime.1.23.2.dylib",
        current_version: "1.23.2",
        rpaths: &[],
    };
    let ort = llvm_build::macho_dylib(dir.path(), "libonnxruntime.1.23.2.dylib", &dylib);
    let rpaths = ["@executable_path/../lib", "/opt/onnxruntime/lib"];
    let exe = llvm_build::macho_executable(dir.path(), "app", "arm64", &[&ort], &rpaths);
    let info = read_ok(&exe);
    assert_eq!(info.archs, vec![Arch::Aarch64]);
    assert_eq!(info.soname, None);
    assert_eq!(info.run_paths, rpaths.map(String::from));
    assert_eq!(info.needed, vec!["@rpath/libonnxruntime.1.23.2.dylib".to_string()]);
    assert_eq!(info.version_needs[0].current_version, Some((1, 23, 2)));
    // Only the doctor reads these; a probe's copy goes without them.
    let probe = info.for_probe();
    assert!(probe.needed.is_empty() && probe.version_needs.is_empty() && probe.run_paths.is_empty());
}

/// A universal dylib of the x86_64 and arm64 stand-ins.
pub(super) fn universal(dir: &Path) -> PathBuf {
    let (x86, arm) = (dylib(dir, "x86_64"), dylib(dir, "arm64"));
    llvm_build::lipo(&dir.join("libonnxruntime.1.22.0.dylib"), &[&x86, &arm])
}

#[test]
fn universal_dylib_lists_both_slices_and_the_first_slices_names() {
    let dir = support::tempdir();
    let info = read_ok(&universal(dir.path()));
    assert_eq!(info.format, Format::MachO);
    assert_eq!(info.archs, vec![Arch::X86_64, Arch::Aarch64]);
    assert_eq!(info.description, "Mach-O universal binary (x86_64, arm64)");
    assert_eq!(info.soname.as_deref(), Some(INSTALL_NAME));
    assert_eq!(info.dylib_version, Some((1, 22, 0)));
}

#[test]
fn fat64_header_around_the_same_slices() {
    let dir = support::tempdir();
    let fat = fs::read(universal(dir.path())).unwrap();
    let be32 = |at: usize| u32::from_be_bytes(fat[at..at + 4].try_into().unwrap());
    assert_eq!(be32(0), 0xcafe_babe);
    let count = be32(4) as usize;
    // fat_arch (20 bytes) → fat_arch_64 (32 bytes); lipo aligns slices to pages, so the larger table
    // still ends before the first slice and the slices can stay where they are.
    let mut fat64 = fat.clone();
    fat64[..8 + count * 32].fill(0);
    put(&mut fat64, 0, &0xcafe_babfu32.to_be_bytes());
    put(&mut fat64, 4, &(count as u32).to_be_bytes());
    for i in 0..count {
        let (from, to) = (8 + i * 20, 8 + i * 32);
        assert!(be32(from + 8) as usize >= 8 + count * 32);
        put(&mut fat64, to, &fat[from..from + 8]); // cputype, cpusubtype
        put(&mut fat64, to + 8, &u64::from(be32(from + 8)).to_be_bytes()); // offset
        put(&mut fat64, to + 16, &u64::from(be32(from + 12)).to_be_bytes()); // size
        put(&mut fat64, to + 24, &fat[from + 16..from + 20]); // align
    }
    assert_eq!(parse(&fat64).unwrap(), parse(&fat).unwrap());
}

#[test]
fn big_endian_32_bit_header_is_read_in_its_byte_order() {
    // No toolchain here writes big-endian Mach-O (PowerPC Macs are long gone): a hand-made
    // MH_MAGIC header with one LC_ID_DYLIB, to check the other byte order and the 32-bit layout.
    let mut file = Vec::new();
    let name = b"@rpath/libppc.dylib\0\0\0\0\0";
    let command_size = 24 + name.len() as u32;
    for field in [0xfeed_face, 18, 0, 6, 1, command_size, 0] {
        file.extend_from_slice(&u32::to_be_bytes(field));
    }
    for field in [0xd, command_size, 24, 0, (2 << 16) | (3 << 8) | 4, 1 << 16] {
        file.extend_from_slice(&u32::to_be_bytes(field));
    }
    file.extend_from_slice(name);
    let info = parse(&file).unwrap();
    assert_eq!(info.archs, vec![Arch::Other("ppc".to_string())]);
    assert_eq!(info.description, "Mach-O 32-bit ppc big-endian");
    assert_eq!(info.soname.as_deref(), Some("@rpath/libppc.dylib"));
    assert_eq!(info.dylib_version, Some((2, 3, 4)));
}

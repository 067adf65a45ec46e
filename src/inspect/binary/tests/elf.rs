//! ELF: stand-ins built with gcc (x86_64) and the aarch64 cross gcc, executables linked against
//! them, copies with their section headers stripped, and 32-bit / big-endian builds linked by lld.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::support::{self, AARCH64, X86_64};
use super::toolchain::{self, ARMV7, ElfTarget, I386, PPC32, PPC64};
use super::{get_u64, put, read_ok};
use crate::inspect::binary::{BinaryInfo, Format, VersionNeed, parse};
use crate::target::{Arch, Os};

fn assert_standin(info: &BinaryInfo, arch: Arch, description: &str) {
    assert_eq!(info.format, Format::Elf);
    assert_eq!(info.os, Some(Os::Linux));
    assert_eq!(info.archs, vec![arch]);
    assert_eq!(info.description, description);
    assert_eq!(info.soname.as_deref(), Some("libonnxruntime.so.1"));
    assert_eq!(info.version_definitions, vec!["VERS_1.22.0".to_string()]);
}

#[test]
fn x86_64_standin_reports_arch_soname_version_and_libc() {
    let dir = support::tempdir();
    let lib = support::build_standin(dir.path(), "1.22.0", X86_64);
    let info = read_ok(&lib);
    assert_standin(&info, Arch::X86_64, "ELF 64-bit x86-64");
    // gcc may link with --as-needed, and the stand-in calls nothing in libc: ask readelf what is there.
    assert_eq!(info.needed, readelf_needed(&lib));
    // The in-memory parser sees the same file the same way.
    assert_eq!(parse(&fs::read(&lib).unwrap()).unwrap(), info);
}

#[test]
fn aarch64_standin_reports_arch_soname_version_and_libc() {
    let dir = support::tempdir();
    let lib = support::build_standin(dir.path(), "1.22.0", AARCH64);
    let info = read_ok(&lib);
    assert_standin(&info, Arch::Aarch64, "ELF 64-bit aarch64");
    assert_eq!(info.needed, readelf_needed(&lib));
}

/// The DT_NEEDED names as binutils' `readelf` reports them, in order.
fn readelf_needed(path: &Path) -> Vec<String> {
    let output = Command::new("readelf").arg("-d").arg(path).output().expect("readelf (binutils) runs");
    assert!(output.status.success(), "readelf failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split_once('[')?.1.trim_end_matches(']').to_string()))
        .collect()
}

/// Links `main.c` against the stand-in in `dir` (through `libonnxruntime.so`, as `-lonnxruntime` does).
pub(super) fn link_consumer(dir: &Path, target: &str, extra: &[&str]) -> PathBuf {
    support::build_standin(dir, "1.22.0", target);
    support::symlink("libonnxruntime.so.1.22.0", &dir.join("libonnxruntime.so"));
    let main = dir.join("main.c");
    fs::write(&main, "extern const void* OrtGetApiBase(void);\nint main(void) { return OrtGetApiBase() == 0; }\n")
        .unwrap();
    let exe = dir.join("consumer");
    let mut cmd = support::compiler(target);
    cmd.arg("-o").arg(&exe).arg(&main).arg("-L").arg(dir).arg("-lonnxruntime").args(extra);
    toolchain::run(&mut cmd);
    exe
}

fn assert_consumer(info: &BinaryInfo) {
    assert!(info.needed.iter().any(|n| n == "libonnxruntime.so.1"), "needed: {:?}", info.needed);
    let ort = info.version_needs.iter().find(|n| n.file == "libonnxruntime.so.1");
    assert_eq!(
        ort,
        Some(&VersionNeed {
            file: "libonnxruntime.so.1".to_string(),
            versions: vec!["VERS_1.22.0".to_string()],
            current_version: None
        }),
        "version needs: {:?}",
        info.version_needs
    );
    assert!(info.version_needs.iter().any(|n| n.file.starts_with("libc.so")), "{:?}", info.version_needs);
    assert!(info.version_definitions.is_empty());
}

#[test]
fn executable_needs_the_standins_version_and_keeps_its_runpath() {
    let dir = support::tempdir();
    let exe = link_consumer(dir.path(), X86_64, &["-Wl,--enable-new-dtags", "-Wl,-rpath,/opt/ort/lib:$ORIGIN/../lib"]);
    let info = read_ok(&exe);
    assert_consumer(&info);
    assert_eq!(info.needed, readelf_needed(&exe));
    assert_eq!(info.run_paths, vec!["/opt/ort/lib".to_string(), "$ORIGIN/../lib".to_string()]);
    assert!(!info.run_paths_are_rpath, "--enable-new-dtags writes DT_RUNPATH");
    assert_eq!(info.soname, None);
}

#[test]
fn aarch64_executable_with_old_style_rpath() {
    let dir = support::tempdir();
    let exe = link_consumer(dir.path(), AARCH64, &["-Wl,--disable-new-dtags", "-Wl,-rpath,/opt/ort-arm/lib"]);
    let info = read_ok(&exe);
    assert_eq!(info.archs, vec![Arch::Aarch64]);
    assert_consumer(&info);
    assert_eq!(info.run_paths, vec!["/opt/ort-arm/lib".to_string()]);
    assert!(info.run_paths_are_rpath, "--disable-new-dtags writes DT_RPATH");
}

/// Offsets of e_shoff, e_shnum and e_shstrndx in an ELF64 header.
const E_SHOFF: usize = 40;
const E_SHNUM: usize = 60;
const E_SHSTRNDX: usize = 62;

#[test]
fn without_section_headers_the_program_headers_still_give_names_and_versions() {
    let dir = support::tempdir();
    let lib = support::build_standin(dir.path(), "1.22.0", X86_64);
    let full = read_ok(&lib);
    let bytes = fs::read(&lib).unwrap();
    let shoff = get_u64(&bytes, E_SHOFF, false) as usize;

    // Cut off at the section header table, as a careless strip or a partial copy would.
    let cut = parse(&bytes[..shoff]).unwrap();
    // Header fields zeroed, as `sstrip` does.
    let mut zeroed = bytes.clone();
    put(&mut zeroed, E_SHOFF, &0u64.to_le_bytes());
    put(&mut zeroed, E_SHNUM, &0u16.to_le_bytes());
    put(&mut zeroed, E_SHSTRNDX, &0u16.to_le_bytes());
    let zeroed = parse(&zeroed).unwrap();
    for info in [cut, zeroed] {
        assert_eq!(info, full, "the program headers must give the same answers as the section headers");
    }
    assert_standin(&full, Arch::X86_64, "ELF 64-bit x86-64");
}

#[test]
fn section_header_string_index_out_of_range_is_harmless() {
    let dir = support::tempdir();
    let lib = support::build_standin(dir.path(), "1.22.0", X86_64);
    let mut bytes = fs::read(&lib).unwrap();
    put(&mut bytes, E_SHSTRNDX, &0xfff0u16.to_le_bytes());
    assert_standin(&parse(&bytes).unwrap(), Arch::X86_64, "ELF 64-bit x86-64");
}

#[test]
fn a_truncated_library_is_refused() {
    let dir = support::tempdir();
    let lib = support::build_standin(dir.path(), "1.22.0", X86_64);
    let bytes = fs::read(&lib).unwrap();
    // Cut inside the last loadable segment: what an interrupted download leaves.
    let err = parse(&bytes[..bytes.len() / 2]).unwrap_err();
    assert!(err.to_string().contains("truncated?"), "{err}");
}

/// 32-bit and big-endian files of both classes, linked by lld: a stand-in and a consumer of it.
fn check_lld_target(target: &ElfTarget, arch: Arch, description: &str) {
    let dir = support::tempdir();
    let lib = toolchain::elf_standin(dir.path(), target, "1.22.0");
    let info = read_ok(&lib);
    assert_eq!(info.format, Format::Elf);
    assert_eq!(info.archs, vec![arch.clone()]);
    assert_eq!(info.description, description);
    assert_eq!(info.soname.as_deref(), Some("libonnxruntime.so.1"));
    assert_eq!(info.version_definitions, vec!["VERS_1.22.0".to_string()]);

    for new_dtags in [true, false] {
        let exe = toolchain::elf_consumer(dir.path(), target, &lib, "/opt/a:/opt/b", new_dtags);
        let info = read_ok(&exe);
        assert_eq!(info.archs, vec![arch.clone()]);
        assert_eq!(info.needed, vec!["libonnxruntime.so.1".to_string()]);
        assert_eq!(info.run_paths, vec!["/opt/a".to_string(), "/opt/b".to_string()]);
        assert_eq!(info.run_paths_are_rpath, !new_dtags);
        assert_eq!(
            info.version_needs,
            vec![VersionNeed {
                file: "libonnxruntime.so.1".to_string(),
                versions: vec!["VERS_1.22.0".to_string()],
                current_version: None
            }]
        );
    }
}

#[test]
fn elf32_little_endian_i386() {
    check_lld_target(&I386, Arch::X86, "ELF 32-bit i386");
}

#[test]
fn elf32_little_endian_arm() {
    check_lld_target(&ARMV7, Arch::Arm, "ELF 32-bit arm");
}

#[test]
fn elf32_big_endian_powerpc() {
    check_lld_target(&PPC32, Arch::Other("machine 20".to_string()), "ELF 32-bit machine 20 big-endian");
}

#[test]
fn elf64_big_endian_powerpc64() {
    check_lld_target(&PPC64, Arch::Other("machine 21".to_string()), "ELF 64-bit machine 21 big-endian");
}

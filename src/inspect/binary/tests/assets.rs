//! The real ORT 1.30.0 libraries of the `onnxruntime-node` npm package (`bash ci/test-assets.sh`
//! fetches them): one Mach-O, two PE and two ELF files of 25 to 45 MB, which must cost only a few
//! kilobytes of reads.

use super::{Counting, Patched, asset, open, read_ok};
use crate::inspect::binary::{Format, ReadAt, parse_source};
use crate::target::{Arch, Os};

/// Headers, tables and names are a few kilobytes; a parser that read whole sections (or the whole
/// file) would blow far past this.
const READ_LIMIT: u64 = 256 * 1024;

fn bytes_read(relative: &str) -> u64 {
    let source = open(&asset(relative));
    let counting = Counting::new(&source as &dyn ReadAt);
    parse_source(&counting).unwrap_or_else(|e| panic!("{relative}: {e}"));
    let (bytes, reads) = (counting.bytes.get(), counting.reads.get());
    eprintln!("{relative}: {} bytes in the file, {bytes} read in {reads} reads", source.len());
    assert!(reads < 400, "{relative}: {reads} reads");
    bytes
}

#[test]
fn darwin_arm64_dylib() {
    let info = read_ok(&asset("darwin/arm64/libonnxruntime.1.30.0.dylib"));
    assert_eq!(info.format, Format::MachO);
    assert_eq!(info.os, Some(Os::MacOs));
    assert_eq!(info.archs, vec![Arch::Aarch64]);
    assert_eq!(info.description, "Mach-O 64-bit arm64");
    assert_eq!(info.soname.as_deref(), Some("@rpath/libonnxruntime.1.dylib"));
    assert_eq!(info.dylib_version, Some((1, 30, 0)));
    assert_eq!(info.run_paths, vec!["@loader_path".to_string()]);
    assert!(info.needed.iter().any(|n| n == "/usr/lib/libSystem.B.dylib"), "{:?}", info.needed);
}

#[test]
fn win32_x64_dll() {
    let info = read_ok(&asset("win32/x64/onnxruntime.dll"));
    assert_eq!(info.format, Format::Pe);
    assert_eq!(info.os, Some(Os::Windows));
    assert_eq!(info.archs, vec![Arch::X86_64]);
    assert_eq!(info.description, "PE32+ x86-64");
    assert!(info.needed.iter().any(|n| n == "api-ms-win-core-libraryloader-l1-2-0.dll"), "{:?}", info.needed);
}

#[test]
fn win32_arm64_dll() {
    let info = read_ok(&asset("win32/arm64/onnxruntime.dll"));
    assert_eq!(info.format, Format::Pe);
    assert_eq!(info.archs, vec![Arch::Aarch64]);
    assert_eq!(info.description, "PE32+ arm64");
}

fn check_linux(relative: &str, arch: Arch, description: &str) {
    let info = read_ok(&asset(relative));
    assert_eq!(info.format, Format::Elf);
    assert_eq!(info.os, Some(Os::Linux));
    assert_eq!(info.archs, vec![arch]);
    assert_eq!(info.description, description);
    assert_eq!(info.soname.as_deref(), Some("libonnxruntime.so.1"));
    assert_eq!(info.version_definitions, vec!["VERS_1.30.0".to_string()]);
    assert_eq!(info.run_paths, vec!["$ORIGIN".to_string()]);
    assert!(info.needed.iter().any(|n| n == "libc.so.6"), "{:?}", info.needed);
    assert!(info.version_needs.iter().any(|n| n.file == "libc.so.6" && !n.versions.is_empty()));
}

#[test]
fn linux_x64_so() {
    check_linux("linux/x64/libonnxruntime.so.1", Arch::X86_64, "ELF 64-bit x86-64");
}

#[test]
fn linux_arm64_so() {
    check_linux("linux/arm64/libonnxruntime.so.1", Arch::Aarch64, "ELF 64-bit aarch64");
}

#[test]
fn reading_a_real_library_costs_a_few_kilobytes() {
    for relative in [
        "linux/x64/libonnxruntime.so.1",
        "linux/arm64/libonnxruntime.so.1",
        "darwin/arm64/libonnxruntime.1.30.0.dylib",
        "win32/x64/onnxruntime.dll",
        "win32/arm64/onnxruntime.dll",
    ] {
        let bytes = bytes_read(relative);
        assert!(bytes < READ_LIMIT, "{relative}: {bytes} bytes read (limit {READ_LIMIT})");
    }
}

#[test]
fn real_libraries_cut_short_are_refused() {
    for relative in
        ["linux/x64/libonnxruntime.so.1", "darwin/arm64/libonnxruntime.1.30.0.dylib", "win32/x64/onnxruntime.dll"]
    {
        let file = open(&asset(relative));
        let mut cut = Patched::new(&file);
        cut.len = file.len() / 2;
        let err = parse_source(&cut).unwrap_err();
        assert!(err.to_string().contains("truncated?"), "{relative}: {err}");
    }
}

//! Reading just enough of a library file to judge it: ELF, Mach-O (thin and fat), PE/COFF, and `ar`
//! archives (static libraries and Windows import libraries). Only the headers and the few tables
//! needed are read, with positioned reads, so a 45 MB library costs a few kilobytes of I/O.
//!
//! Every size, count and offset comes from the file and is treated as hostile: ranges are checked
//! against the file size before anything is allocated, tables and name lengths have caps, and one
//! parse reads at most [`input::MAX_TOTAL_READ`] bytes in all.

mod ar;
mod elf;
mod input;
mod macho;
mod pe;
#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::path::Path;

use crate::target::{Arch, Os};

use input::{FileSource, Input, ReadAt};

/// The container format of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Elf,
    MachO,
    Pe,
    /// A Unix `ar` archive: a static library, or a Windows import library (`onnxruntime.lib`).
    Archive,
}

/// The versions a binary records for one of the libraries it needs: an ELF `.gnu.version_r` entry,
/// or a Mach-O `LC_LOAD_DYLIB` (or weak, re-export, lazy, upward) one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionNeed {
    /// The library as recorded: file name (`libonnxruntime.so.1`) or install name
    /// (`@rpath/libonnxruntime.1.dylib`).
    pub file: String,
    /// ELF: the version names needed from it (`VERS_1.22.0`).
    pub versions: Vec<String>,
    /// Mach-O: the dylib's current version when the binary was linked against it, as (major, minor,
    /// patch). It names the release an executable was built with even when the install name does not.
    pub current_version: Option<(u32, u32, u32)>,
}

/// What a library (or executable) file says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryInfo {
    pub format: Format,
    /// The OS family the format implies (ELF → Linux, Mach-O → macOS, PE → Windows), when it does.
    pub os: Option<Os>,
    /// The architectures inside: one for thin files, several for a fat Mach-O or a mixed archive.
    pub archs: Vec<Arch>,
    /// Human words for reports: "ELF 64-bit x86-64", "Mach-O 64-bit arm64", "PE32+ x86-64".
    pub description: String,
    /// ELF `DT_SONAME`; Mach-O `LC_ID_DYLIB` install name.
    pub soname: Option<String>,
    /// ELF `DT_NEEDED`; Mach-O `LC_LOAD_DYLIB` names; PE imported DLL names.
    pub needed: Vec<String>,
    /// ELF `.gnu.version_d` names other than the file's own base entry (`VERS_1.22.0`).
    pub version_definitions: Vec<String>,
    /// ELF `.gnu.version_r`; Mach-O: one entry per `needed` dylib, with its current version.
    pub version_needs: Vec<VersionNeed>,
    /// ELF `DT_RUNPATH` and `DT_RPATH` entries (split on `:`); Mach-O `LC_RPATH`.
    pub run_paths: Vec<String>,
    /// ELF: the run paths come from `DT_RPATH` alone (no `DT_RUNPATH`), which the loader searches
    /// before `LD_LIBRARY_PATH` rather than after it.
    pub run_paths_are_rpath: bool,
    /// Mach-O `LC_ID_DYLIB` current version as (major, minor, patch).
    pub dylib_version: Option<(u32, u32, u32)>,
}

impl BinaryInfo {
    /// A result with only the header facts filled in; the format parsers add the rest.
    pub(crate) fn new(format: Format, os: Option<Os>, archs: Vec<Arch>, description: String) -> BinaryInfo {
        BinaryInfo {
            format,
            os,
            archs,
            description,
            soname: None,
            needed: Vec::new(),
            version_definitions: Vec::new(),
            version_needs: Vec::new(),
            run_paths: Vec::new(),
            run_paths_are_rpath: false,
            dylib_version: None,
        }
    }

    /// Without what only the doctor reads (NEEDED, needed versions, run paths): what a probe keeps of
    /// a library, whether read now or remembered (`inspect::memo`), so both give the same result.
    pub(crate) fn for_probe(self) -> BinaryInfo {
        BinaryInfo {
            needed: Vec::new(),
            version_needs: Vec::new(),
            run_paths: Vec::new(),
            run_paths_are_rpath: false,
            ..self
        }
    }
}

/// Why a file could not be read as a binary.
#[derive(Debug)]
pub enum BinaryError {
    Io(std::io::Error),
    /// Not ELF, Mach-O, PE or ar (first bytes shown).
    NotABinary(String),
    /// A header or table points outside the file, or a field has an impossible value.
    Malformed(String),
}

impl std::fmt::Display for BinaryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BinaryError::Io(e) => write!(f, "cannot read: {e}"),
            BinaryError::NotABinary(what) => write!(f, "not a library file ({what})"),
            BinaryError::Malformed(what) => write!(f, "malformed: {what}"),
        }
    }
}

impl std::error::Error for BinaryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BinaryError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Reads the file at `path` with positioned reads.
pub fn read(path: &Path) -> Result<BinaryInfo, BinaryError> {
    let file = FileSource::open(path).map_err(BinaryError::Io)?;
    parse_source(&file)
}

/// Parses an in-memory file (the same parser as [`read`]; used by the fuzz target).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn parse(bytes: &[u8]) -> Result<BinaryInfo, BinaryError> {
    parse_source(&bytes)
}

/// Parses any positioned-read source: a file, a slice, or a test wrapper that counts bytes.
pub(crate) fn parse_source(source: &dyn ReadAt) -> Result<BinaryInfo, BinaryError> {
    let spent = Cell::new(0);
    let input = Input::new(source, &spent);
    let head = input.read_up_to(0, 64, "the file's first bytes")?;
    match head.as_slice() {
        [0x7f, b'E', b'L', b'F', ..] => elf::parse(input),
        _ if head.starts_with(ar::MAGIC) => ar::parse(input),
        _ if head.starts_with(ar::THIN_MAGIC) => Ok(ar::thin()),
        [b'M', b'Z', ..] => pe::parse(input),
        [a, b, c, d, ..] if macho::is_thin_magic([*a, *b, *c, *d]) => macho::parse_thin(input),
        [a, b, c, d, ..] if macho::is_fat_magic([*a, *b, *c, *d]) => macho::parse_fat(input),
        _ => Err(not_a_binary(&head)),
    }
}

/// The error for a file that is no binary at all, showing its first bytes and, for the usual
/// impostors, what it probably is.
fn not_a_binary(head: &[u8]) -> BinaryError {
    if head.is_empty() {
        return BinaryError::NotABinary("the file is empty".to_string());
    }
    let shown = head.get(..32).unwrap_or(head);
    let is_text = head.iter().all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    let start = if is_text {
        format!("it starts with {:?}", String::from_utf8_lossy(shown))
    } else {
        let hex: Vec<String> = shown.iter().map(|b| format!("{b:02x}")).collect();
        format!("it starts with bytes {}", hex.join(" "))
    };
    let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    let hint = if lower.trim_start().starts_with("<!doctype html") || lower.contains("<html") {
        "; this is an HTML page, perhaps a login or error page saved in place of the file"
    } else if lower.starts_with("version https://git-lfs") {
        "; this is a Git LFS pointer: the real file was never fetched (`git lfs pull`)"
    } else if lower.contains("gnu ld script") || lower.starts_with("input(") || lower.starts_with("group(") {
        "; this is a linker script, not the library itself"
    } else {
        ""
    };
    BinaryError::NotABinary(format!("{start}{hint}"))
}

/// An architecture in the words each format's own tools use (`readelf`, `lipo`, `dumpbin`).
fn arch_words(format: Format, arch: &Arch) -> &str {
    match (arch, format) {
        (Arch::X86_64, Format::MachO) => "x86_64",
        (Arch::X86_64, _) => "x86-64",
        (Arch::Aarch64, Format::Elf) => "aarch64",
        (Arch::Aarch64, _) => "arm64",
        (Arch::X86, _) => "i386",
        (Arch::Arm, _) => "arm",
        (Arch::Other(name), _) => name,
    }
}

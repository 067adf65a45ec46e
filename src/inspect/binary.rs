//! Reading just enough of a library file to judge it: ELF, Mach-O (thin and fat), PE/COFF, and `ar`
//! archives of ELF objects (static libraries). Only the headers and the few tables needed are read,
//! with positioned reads, so a 20 MB library costs a handful of small reads.
//!
//! INTERFACE (implemented by the binary-parsing work item; see the task description).

use std::path::Path;

use crate::target::{Arch, Os};

/// The container format of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Elf,
    MachO,
    Pe,
    /// A Unix `ar` archive (a static library).
    Archive,
}

/// An ELF `.gnu.version_r` entry: the versions a binary needs from one of its libraries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VersionNeed {
    /// The library file name as recorded (`libonnxruntime.so.1`).
    pub file: String,
    /// The version names needed from it (`VERS_1.22.0`).
    pub versions: Vec<String>,
}

/// What a library (or executable) file says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BinaryInfo {
    pub format: Format,
    /// The OS family the format implies (ELF → Linux, Mach-O → macOS, PE → Windows), when it does.
    pub os: Option<Os>,
    /// The architectures inside: one for thin files, several for a fat Mach-O or a mixed archive.
    pub archs: Vec<Arch>,
    /// Human words for reports: "ELF 64-bit x86-64", "Mach-O arm64", "PE32+ x86-64".
    pub description: String,
    /// ELF `DT_SONAME`; Mach-O `LC_ID_DYLIB` install name.
    pub soname: Option<String>,
    /// ELF `DT_NEEDED`; Mach-O `LC_LOAD_DYLIB` names; PE imported DLL names.
    pub needed: Vec<String>,
    /// ELF `.gnu.version_d` names other than the file's own base entry (`VERS_1.22.0`).
    pub version_definitions: Vec<String>,
    /// ELF `.gnu.version_r`.
    pub version_needs: Vec<VersionNeed>,
    /// ELF `DT_RUNPATH` and `DT_RPATH` entries (split on `:`); Mach-O `LC_RPATH`.
    pub run_paths: Vec<String>,
    /// Mach-O `LC_ID_DYLIB` current version as (major, minor, patch).
    pub dylib_version: Option<(u32, u32, u32)>,
}

/// Why a file could not be read as a binary.
#[derive(Debug)]
pub(crate) enum BinaryError {
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

/// Reads the file at `path` with positioned reads.
pub(crate) fn read(path: &Path) -> Result<BinaryInfo, BinaryError> {
    let bytes = std::fs::read(path).map_err(BinaryError::Io)?;
    parse(&bytes)
}

/// Parses an in-memory file (the same parser as [`read`]; used by the fuzz target).
pub(crate) fn parse(bytes: &[u8]) -> Result<BinaryInfo, BinaryError> {
    Err(BinaryError::NotABinary(format!("{:02x?}", &bytes[..bytes.len().min(4)])))
}

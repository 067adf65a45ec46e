//! PE/COFF: the DOS header's pointer to the PE signature, the COFF machine, the optional header's
//! magic (PE32 or PE32+), and the DLL names of the import directory. Also the machine of a COFF
//! object or import object, for the members of `.lib` archives.

use super::input::{Endian, Fields, Input, Table};
use super::{BinaryError, BinaryInfo, Format, arch_words};
use crate::target::{Arch, Os};

const MACHINE_I386: u16 = 0x14c;
const MACHINE_ARM: u16 = 0x1c0;
const MACHINE_ARMNT: u16 = 0x1c4;
const MACHINE_AMD64: u16 = 0x8664;
const MACHINE_ARM64: u16 = 0xaa64;
const MACHINE_ARM64EC: u16 = 0xa641;
const MACHINE_ARM64X: u16 = 0xa64e;

const PE32: u16 = 0x10b;
const PE32_PLUS: u16 = 0x20b;

/// The Windows loader accepts at most 96 sections; this cap leaves room for odd linkers.
const MAX_SECTIONS: u16 = 1024;
const MAX_IMPORTS: u64 = 4096;
const SECTION_HEADER: usize = 40;
const IMPORT_DESCRIPTOR: usize = 20;

fn le(bytes: &[u8]) -> Fields<'_> {
    Fields { bytes, endian: Endian::Little }
}

/// Machines ORT ships for, and their relatives. `None` for anything else, so a random member of an
/// archive is not mistaken for a COFF object.
fn known_machine(machine: u16) -> Option<Arch> {
    match machine {
        MACHINE_AMD64 => Some(Arch::X86_64),
        // ARM64EC and ARM64X code runs on arm64 Windows.
        MACHINE_ARM64 | MACHINE_ARM64EC | MACHINE_ARM64X => Some(Arch::Aarch64),
        MACHINE_I386 => Some(Arch::X86),
        MACHINE_ARMNT | MACHINE_ARM => Some(Arch::Arm),
        _ => None,
    }
}

fn arch(machine: u16) -> Arch {
    known_machine(machine).unwrap_or_else(|| Arch::Other(format!("machine {machine:#06x}")))
}

/// The architecture of a COFF import object (short import library member: `Sig1` 0, `Sig2` 0xFFFF,
/// `Machine` at offset 6) or of a COFF object file (`Machine` first, no optional header).
pub(super) fn identify_coff(head: &[u8]) -> Option<Arch> {
    let f = le(head);
    if f.u16(0).ok()? == 0 && f.u16(2).ok()? == 0xffff {
        return Some(arch(f.u16(6).ok()?));
    }
    let optional_header_size = f.u16(16).ok()?;
    if optional_header_size != 0 {
        return None;
    }
    known_machine(f.u16(0).ok()?)
}

/// One section header's fields used to map RVAs to file offsets.
struct Section {
    address: u32,
    raw_size: u32,
    raw_offset: u32,
}

impl Section {
    /// The file offset of `rva` and the end of this section's file bytes, when `rva` has file bytes here.
    fn map(&self, rva: u32) -> Option<(u64, u64)> {
        let delta = rva.checked_sub(self.address)?;
        (delta < self.raw_size).then(|| {
            let start = u64::from(self.raw_offset);
            (start + u64::from(delta), start + u64::from(self.raw_size))
        })
    }
}

pub(super) fn parse(input: Input) -> Result<BinaryInfo, BinaryError> {
    let dos = input.read_up_to(0, 64, "the DOS header")?;
    let pe_offset = u64::from(
        le(&dos)
            .u32(0x3c)
            .map_err(|_| BinaryError::Malformed(format!("the DOS header is cut short: {} of 64 bytes", dos.len())))?,
    );
    let pe = input.read(pe_offset, 24, "the PE header")?;
    if pe.get(..4) != Some(b"PE\0\0") {
        return Err(BinaryError::Malformed(format!(
            "an MZ file without a PE signature at offset {pe_offset} (a DOS program?)"
        )));
    }
    let coff = le(pe.get(4..).unwrap_or_default());
    let (machine, section_count, optional_size) = (coff.u16(0)?, coff.u16(2)?, coff.u16(16)?);
    let optional_offset = pe_offset + 24;
    // The standard fields and the 16 data directories fit in 240 bytes (PE32+); more is padding.
    let optional = input.read(optional_offset, usize::from(optional_size).min(240), "the optional header")?;
    let kind = match le(&optional).u16(0).ok() {
        Some(PE32) => "PE32",
        Some(PE32_PLUS) => "PE32+",
        Some(magic) => return Err(BinaryError::Malformed(format!("unknown optional header magic {magic:#x}"))),
        None => return Err(BinaryError::Malformed("a PE image without an optional header".to_string())),
    };
    let arch = arch(machine);
    let description = format!("{kind} {}", arch_words(Format::Pe, &arch));
    let mut info = BinaryInfo::new(Format::Pe, Some(Os::Windows), vec![arch], description);

    if section_count > MAX_SECTIONS {
        return Err(BinaryError::Malformed(format!("{section_count} sections (at most {MAX_SECTIONS})")));
    }
    let mut sections = Vec::new();
    let table_offset = optional_offset + u64::from(optional_size);
    input.entries(table_offset, section_count.into(), SECTION_HEADER, "the section table", |bytes| {
        let s = le(bytes);
        let section = Section { address: s.u32(12)?, raw_size: s.u32(16)?, raw_offset: s.u32(20)? };
        // A cut-off download usually ends inside a section's bytes.
        let end = u64::from(section.raw_offset) + u64::from(section.raw_size);
        if section.raw_size > 0 && end > input.len() {
            return Err(BinaryError::Malformed(format!(
                "a section ({} bytes at offset {}) runs past the end of the file ({} bytes); truncated?",
                section.raw_size,
                section.raw_offset,
                input.len()
            )));
        }
        sections.push(section);
        Ok(true)
    })?;
    // Imports are a courtesy for reports (the architecture is what decides), so a damaged import
    // directory yields the names read before the damage rather than an error.
    let _ = imports(&input, &optional, kind == "PE32+", &sections, &mut info.needed);
    Ok(info)
}

/// The DLL names of the import directory (data directory 1): descriptors of 20 bytes, each with the
/// RVA of a name at offset 12, ended by an all-zero descriptor.
fn imports(
    input: &Input,
    optional: &[u8],
    plus: bool,
    sections: &[Section],
    names: &mut Vec<String>,
) -> Result<(), BinaryError> {
    let o = le(optional);
    let directories = if plus { 112 } else { 96 };
    if o.u32(directories - 4)? < 2 {
        return Ok(());
    }
    let (rva, size) = (o.u32(directories + 8)?, o.u32(directories + 12)?);
    if rva == 0 {
        return Ok(());
    }
    let map = |rva: u32| sections.iter().find_map(|s| s.map(rva));
    let (offset, end) =
        map(rva).ok_or_else(|| BinaryError::Malformed("the import directory is outside every section".to_string()))?;
    // The directory's size (terminator included) bounds the read; the all-zero terminator ends it.
    let count =
        (u64::from(size) / IMPORT_DESCRIPTOR as u64).min((end - offset) / IMPORT_DESCRIPTOR as u64).min(MAX_IMPORTS);
    // Linkers put the DLL names shortly after the descriptors: one read from the directory on
    // serves most of them.
    let near = Table::new(input, offset, end, "the import section");
    input.entries(offset, count, IMPORT_DESCRIPTOR, "the import directory", |descriptor| {
        let name_rva = le(descriptor).u32(12)?;
        if name_rva == 0 {
            return Ok(false);
        }
        let (at, limit) = map(name_rva)
            .ok_or_else(|| BinaryError::Malformed("an import name is outside every section".to_string()))?;
        let name = if at >= offset && limit == end {
            near.c_string(at, "an imported DLL name")?
        } else {
            input.c_string(at, limit, "an imported DLL name")?
        };
        names.push(name);
        Ok(true)
    })
}

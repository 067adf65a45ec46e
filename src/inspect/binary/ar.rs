//! `ar` archives: static libraries (`libonnxruntime.a`, whose members are ELF or Mach-O objects) and
//! Windows import libraries (`onnxruntime.lib`, whose members are COFF import objects). The
//! architectures are those of the first object members; symbol tables and name tables are skipped.
//! Member headers are 60 bytes: name (16), date, uid, gid, mode, size (10, decimal), "`\n".

use super::input::Input;
use super::{BinaryError, BinaryInfo, Format, arch_words, elf, macho, pe};
use crate::target::{Arch, Os};

pub(super) const MAGIC: &[u8] = b"!<arch>\n";
/// GNU thin archives hold only paths to their members.
pub(super) const THIN_MAGIC: &[u8] = b"!<thin>\n";

const HEADER: u64 = 60;
/// Object members examined: enough to see a mixed archive, few enough to stay cheap on a big `.lib`.
const MAX_OBJECTS: usize = 64;
/// Members walked in all, counting symbol tables and name tables.
const MAX_MEMBERS: usize = 1024;
/// BSD long names (`#1/<length>`) longer than this are refused.
const MAX_NAME: u64 = 4096;
/// How much of a member is enough to tell what it is (ELF, Mach-O and COFF headers all fit).
const HEAD: usize = 64;

/// The object format of the members.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Elf,
    MachO,
    Coff,
}

impl Kind {
    fn words(self) -> &'static str {
        match self {
            Kind::Elf => "ELF",
            Kind::MachO => "Mach-O",
            Kind::Coff => "COFF",
        }
    }

    fn format(self) -> Format {
        match self {
            Kind::Elf => Format::Elf,
            Kind::MachO => Format::MachO,
            Kind::Coff => Format::Pe,
        }
    }

    fn os(self) -> Os {
        match self {
            Kind::Elf => Os::Linux,
            Kind::MachO => Os::MacOs,
            Kind::Coff => Os::Windows,
        }
    }
}

pub(super) fn thin() -> BinaryInfo {
    BinaryInfo::new(Format::Archive, None, Vec::new(), "thin ar archive (its members are separate files)".to_string())
}

pub(super) fn parse(input: Input) -> Result<BinaryInfo, BinaryError> {
    let mut kind = None;
    let mut archs: Vec<Arch> = Vec::new();
    let mut objects = 0;
    let mut at = MAGIC.len() as u64;
    for _ in 0..MAX_MEMBERS {
        if at >= input.len() || objects == MAX_OBJECTS {
            break;
        }
        let member = member(&input, at)?;
        if !is_index(&member.name) {
            objects += 1;
            let len = usize::try_from(member.size).map_or(HEAD, |s| s.min(HEAD));
            let head = input.read_up_to(member.data, len, "an archive member")?;
            if let Some((member_kind, arch)) = classify(&head) {
                kind.get_or_insert(member_kind);
                if !archs.contains(&arch) {
                    archs.push(arch);
                }
            }
        }
        // Members start at even offsets.
        let end = member.data + member.size;
        at = end + (end & 1);
    }
    let description = match kind {
        Some(kind) => {
            let words: Vec<&str> = archs.iter().map(|a| arch_words(kind.format(), a)).collect();
            format!("ar archive of {} objects ({})", kind.words(), words.join(", "))
        }
        None => "ar archive without recognised object files".to_string(),
    };
    Ok(BinaryInfo::new(Format::Archive, kind.map(Kind::os), archs, description))
}

/// One member: its name and where its data lies (checked to be inside the file).
struct Member {
    name: String,
    data: u64,
    size: u64,
}

fn member(input: &Input, at: u64) -> Result<Member, BinaryError> {
    let header = input.read(at, HEADER as usize, "an archive member header")?;
    if header.get(58..60) != Some(b"`\n") {
        return Err(BinaryError::Malformed(format!("the archive member header at offset {at} has no end marker")));
    }
    let field =
        |range: std::ops::Range<usize>| String::from_utf8_lossy(header.get(range).unwrap_or_default()).into_owned();
    let size_text = field(48..58);
    let size = decimal(&size_text).ok_or_else(|| {
        BinaryError::Malformed(format!("the archive member at offset {at} has size {:?}", size_text.trim()))
    })?;
    let mut name = field(0..16).trim_end().to_string();
    let mut data = at + HEADER;
    let mut data_size = size;
    // BSD: the real name is the first <length> bytes of the data.
    if let Some(length) = name.strip_prefix("#1/").map(decimal) {
        let length = length.filter(|&l| l <= MAX_NAME.min(size)).ok_or_else(|| {
            BinaryError::Malformed(format!("the archive member at offset {at} has a bad long name {name:?}"))
        })?;
        let bytes = input.read(data, length as usize, "an archive member name")?;
        name = String::from_utf8_lossy(&bytes).trim_end_matches('\0').to_string();
        data += length;
        data_size -= length;
    }
    match data.checked_add(data_size) {
        Some(end) if end <= input.len() => Ok(Member { name, data, size: data_size }),
        _ => Err(BinaryError::Malformed(format!(
            "the archive member at offset {at} claims {size} bytes, past the end of the file ({} bytes)",
            input.len()
        ))),
    }
}

/// A decimal field, space-padded on the right.
fn decimal(text: &str) -> Option<u64> {
    let digits = text.trim_end();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Symbol tables (`/`, `/SYM64/`, `__.SYMDEF…`), the GNU long-name table (`//`) and the Windows
/// ARM64EC/hybrid maps (`/<ECSYMBOLS>/`, `/<HYBRIDMAP>/`). GNU long-name references (`/123`) are
/// real members.
fn is_index(name: &str) -> bool {
    name == "/" || name == "//" || name.starts_with("/SYM") || name.starts_with("/<") || name.starts_with("__.SYMDEF")
}

fn classify(head: &[u8]) -> Option<(Kind, Arch)> {
    if head.starts_with(b"\x7fELF") {
        return elf::identify(head).map(|a| (Kind::Elf, a));
    }
    if let Some(arch) = macho::identify(head) {
        return Some((Kind::MachO, arch));
    }
    pe::identify_coff(head).map(|a| (Kind::Coff, a))
}

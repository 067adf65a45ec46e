//! Mach-O: thin 32/64-bit files in either byte order, and fat (universal) files, whose big-endian
//! header lists one slice per architecture. Names and the dylib version come from the load commands
//! (of the first slice, for a fat file).

use super::input::{Endian, Fields, Input, MAX_READ, MAX_STRING, name_before_nul};
use super::{BinaryError, BinaryInfo, Format, VersionNeed, arch_words};
use crate::target::{Arch, Os};

const MH_MAGIC: u32 = 0xfeed_face;
const MH_MAGIC_64: u32 = 0xfeed_facf;
const FAT_MAGIC: u32 = 0xcafe_babe;
const FAT_MAGIC_64: u32 = 0xcafe_babf;

const CPU_ARCH_ABI64: u32 = 0x0100_0000;
const CPU_ARCH_ABI64_32: u32 = 0x0200_0000;
const CPU_TYPE_X86: u32 = 7;
const CPU_TYPE_ARM: u32 = 12;
const CPU_TYPE_POWERPC: u32 = 18;

const LC_SEGMENT: u32 = 0x1;
const LC_LOAD_DYLIB: u32 = 0xc;
const LC_ID_DYLIB: u32 = 0xd;
const LC_SEGMENT_64: u32 = 0x19;
const LC_LAZY_LOAD_DYLIB: u32 = 0x20;
const LC_LOAD_WEAK_DYLIB: u32 = 0x8000_0018;
const LC_RPATH: u32 = 0x8000_001c;
const LC_REEXPORT_DYLIB: u32 = 0x8000_001f;
const LC_LOAD_UPWARD_DYLIB: u32 = 0x8000_0023;

/// Universal files hold a handful of slices. The cap also tells a Java class file (same `CAFEBABE`
/// magic, followed by a class-file version of 45 or more) from a fat header.
const MAX_FAT_ARCHS: u32 = 32;
const MAX_NAMES: usize = 4096;

/// A thin header's magic in either byte order.
pub(super) fn is_thin_magic(magic: [u8; 4]) -> bool {
    thin_kind(&magic).is_some()
}

/// A fat header's magic (always big-endian).
pub(super) fn is_fat_magic(magic: [u8; 4]) -> bool {
    matches!(u32::from_be_bytes(magic), FAT_MAGIC | FAT_MAGIC_64)
}

/// Whether a thin header is 64-bit, and its byte order.
fn thin_kind(head: &[u8]) -> Option<(bool, Endian)> {
    let magic: [u8; 4] = head.get(..4)?.try_into().ok()?;
    match (u32::from_be_bytes(magic), u32::from_le_bytes(magic)) {
        (MH_MAGIC, _) => Some((false, Endian::Big)),
        (MH_MAGIC_64, _) => Some((true, Endian::Big)),
        (_, MH_MAGIC) => Some((false, Endian::Little)),
        (_, MH_MAGIC_64) => Some((true, Endian::Little)),
        _ => None,
    }
}

/// The architecture of a thin header (also used for archive members).
pub(super) fn identify(head: &[u8]) -> Option<Arch> {
    let (_, endian) = thin_kind(head)?;
    Fields { bytes: head, endian }.u32(4).ok().map(arch)
}

fn arch(cputype: u32) -> Arch {
    match cputype {
        t if t == CPU_TYPE_X86 | CPU_ARCH_ABI64 => Arch::X86_64,
        t if t == CPU_TYPE_ARM | CPU_ARCH_ABI64 => Arch::Aarch64,
        CPU_TYPE_X86 => Arch::X86,
        CPU_TYPE_ARM => Arch::Arm,
        t if t == CPU_TYPE_ARM | CPU_ARCH_ABI64_32 => Arch::Other("arm64_32".to_string()),
        CPU_TYPE_POWERPC => Arch::Other("ppc".to_string()),
        t if t == CPU_TYPE_POWERPC | CPU_ARCH_ABI64 => Arch::Other("ppc64".to_string()),
        other => Arch::Other(format!("cputype {other:#x}")),
    }
}

/// What the load commands say.
#[derive(Default)]
struct LoadNames {
    soname: Option<String>,
    dylib_version: Option<(u32, u32, u32)>,
    needed: Vec<String>,
    version_needs: Vec<VersionNeed>,
    run_paths: Vec<String>,
}

impl LoadNames {
    fn fill(self, info: &mut BinaryInfo) {
        info.soname = self.soname;
        info.dylib_version = self.dylib_version;
        info.needed = self.needed;
        info.version_needs = self.version_needs;
        info.run_paths = self.run_paths;
    }
}

/// A thin file's header facts and load-command names.
struct Thin {
    arch: Arch,
    wide: bool,
    endian: Endian,
    names: LoadNames,
}

pub(super) fn parse_thin(input: Input) -> Result<BinaryInfo, BinaryError> {
    let thin = thin(&input)?;
    let description = format!(
        "Mach-O {}-bit {}{}",
        if thin.wide { 64 } else { 32 },
        arch_words(Format::MachO, &thin.arch),
        if thin.endian == Endian::Big { " big-endian" } else { "" }
    );
    let mut info = BinaryInfo::new(Format::MachO, Some(Os::MacOs), vec![thin.arch], description);
    thin.names.fill(&mut info);
    Ok(info)
}

fn thin(input: &Input) -> Result<Thin, BinaryError> {
    let head = input.read_up_to(0, 32, "the Mach-O header")?;
    let (wide, endian) =
        thin_kind(&head).ok_or_else(|| BinaryError::Malformed("no Mach-O header where one should be".to_string()))?;
    let header_size = if wide { 32 } else { 28 };
    if head.len() < header_size {
        return Err(BinaryError::Malformed(format!(
            "the Mach-O header is cut short: {} of {header_size} bytes",
            head.len()
        )));
    }
    let f = Fields { bytes: &head, endian };
    let (cputype, command_count, commands_size) = (f.u32(4)?, f.u32(16)?, f.u32(20)?);
    let commands_size = usize::try_from(commands_size).unwrap_or(usize::MAX);
    if commands_size > MAX_READ {
        return Err(BinaryError::Malformed(format!("{commands_size} bytes of load commands (at most {MAX_READ})")));
    }
    let commands = input.read(header_size as u64, commands_size, "the load commands")?;
    let names = load_commands(&commands, endian, command_count, input.len())?;
    Ok(Thin { arch: arch(cputype), wide, endian, names })
}

/// Walks `count` load commands. Each is at least 8 bytes and lies inside `bytes`, so the walk ends
/// after at most `bytes.len() / 8` steps whatever `count` says.
fn load_commands(bytes: &[u8], endian: Endian, count: u32, file_size: u64) -> Result<LoadNames, BinaryError> {
    let mut names = LoadNames::default();
    let mut at = 0usize;
    for index in 0..count {
        let f = Fields { bytes, endian };
        let (cmd, size) = (f.u32(at)?, f.u32(at.saturating_add(4))?);
        let command = usize::try_from(size)
            .ok()
            .filter(|&s| s >= 8)
            .and_then(|s| bytes.get(at..at.checked_add(s)?))
            .ok_or_else(|| BinaryError::Malformed(format!("load command {index} has an impossible size {size}")))?;
        let c = Fields { bytes: command, endian };
        match cmd {
            LC_ID_DYLIB => {
                names.soname = Some(lc_str(command, c.u32(8)?)?);
                names.dylib_version = Some(unpack_version(c.u32(16)?));
            }
            LC_LOAD_DYLIB | LC_LOAD_WEAK_DYLIB | LC_REEXPORT_DYLIB | LC_LAZY_LOAD_DYLIB | LC_LOAD_UPWARD_DYLIB
                if names.needed.len() < MAX_NAMES =>
            {
                let file = lc_str(command, c.u32(8)?)?;
                // `struct dylib`: name offset, timestamp, current version, compatibility version.
                let current_version = Some(unpack_version(c.u32(16)?));
                names.version_needs.push(VersionNeed { file: file.clone(), versions: Vec::new(), current_version });
                names.needed.push(file);
            }
            LC_RPATH if names.run_paths.len() < MAX_NAMES => names.run_paths.push(lc_str(command, c.u32(8)?)?),
            LC_SEGMENT => check_segment(index, c.u32(32)?.into(), c.u32(36)?.into(), file_size)?,
            LC_SEGMENT_64 => check_segment(index, c.u64(40)?, c.u64(48)?, file_size)?,
            _ => {}
        }
        at += command.len();
    }
    Ok(names)
}

/// A dylib version packed as xxxx.yy.zz.
fn unpack_version(v: u32) -> (u32, u32, u32) {
    (v >> 16, (v >> 8) & 0xff, v & 0xff)
}

/// A segment whose bytes lie past the end of the file means a cut-off download.
fn check_segment(index: u32, offset: u64, size: u64, file_size: u64) -> Result<(), BinaryError> {
    match offset.checked_add(size) {
        Some(end) if end <= file_size => Ok(()),
        _ => Err(BinaryError::Malformed(format!(
            "segment of load command {index} ({size} bytes at offset {offset}) runs past the end of the file \
             ({file_size} bytes); truncated?"
        ))),
    }
}

/// An `lc_str`: a name at `offset` from the start of its load command, NUL-padded to the command's end.
fn lc_str(command: &[u8], offset: u32) -> Result<String, BinaryError> {
    let bad = || BinaryError::Malformed(format!("a load command's name offset {offset} lies outside it"));
    let start = usize::try_from(offset).map_err(|_| bad())?;
    let rest = command.get(start..).filter(|r| !r.is_empty()).ok_or_else(bad)?;
    let name = name_before_nul(rest).unwrap_or_else(|| String::from_utf8_lossy(rest).into_owned());
    if name.len() > MAX_STRING {
        return Err(BinaryError::Malformed(format!("a load command names something longer than {MAX_STRING} bytes")));
    }
    Ok(name)
}

pub(super) fn parse_fat(input: Input) -> Result<BinaryInfo, BinaryError> {
    let head = input.array::<8>(0, "the fat header")?;
    let f = Fields { bytes: &head, endian: Endian::Big };
    let wide = f.u32(0)? == FAT_MAGIC_64;
    let count = f.u32(4)?;
    if count == 0 || count > MAX_FAT_ARCHS {
        return Err(BinaryError::Malformed(format!(
            "the fat header claims {count} architectures (a universal file has 1 to {MAX_FAT_ARCHS}; a Java class \
             file also starts with CAFEBABE)"
        )));
    }
    let entry_size = if wide { 32 } else { 20 };
    let table = input.read(8, count as usize * entry_size, "the fat architecture table")?;
    let mut archs = Vec::new();
    let mut first_slice = None;
    for entry in table.chunks_exact(entry_size) {
        let e = Fields { bytes: entry, endian: Endian::Big };
        let (offset, size) = if wide { (e.u64(8)?, e.u64(16)?) } else { (e.u32(8)?.into(), e.u32(12)?.into()) };
        let slice = input.window(offset, size, "a fat slice")?;
        first_slice.get_or_insert(slice);
        let arch = arch(e.u32(0)?);
        if !archs.contains(&arch) {
            archs.push(arch);
        }
    }
    let words: Vec<&str> = archs.iter().map(|a| arch_words(Format::MachO, a)).collect();
    let description = format!("Mach-O universal binary ({})", words.join(", "));
    let mut info = BinaryInfo::new(Format::MachO, Some(Os::MacOs), archs, description);
    // Slices of one universal file are builds of one library, so the first one's names stand for all.
    // A fat static library has `ar` slices, which carry no names.
    if let Some(slice) = first_slice {
        let magic = slice.read_up_to(0, 4, "a fat slice's magic")?;
        if thin_kind(&magic).is_some() {
            thin(&slice)?.names.fill(&mut info);
        }
    }
    Ok(info)
}

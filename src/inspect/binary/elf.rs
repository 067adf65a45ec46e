//! ELF: the header, the dynamic table (SONAME, NEEDED, RUNPATH) and the GNU symbol-version tables
//! (`VERS_1.22.0` is what the loader checks between an ORT consumer and `libonnxruntime.so.1`).
//! Tables are found through the section headers; when those are stripped or damaged, through the
//! program headers, which are all the loader itself reads.

use super::input::{Endian, Fields, Input, Table};
use super::{BinaryError, BinaryInfo, Format, VersionNeed, arch_words};
use crate::target::{Arch, Os};

const EM_386: u16 = 3;
const EM_ARM: u16 = 40;
const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
/// `e_phnum` value meaning "the real count is in section 0's `sh_info`".
const PN_XNUM: u64 = 0xffff;

const SHT_STRTAB: u32 = 3;
const SHT_DYNAMIC: u32 = 6;
const SHT_GNU_VERDEF: u32 = 0x6fff_fffd;
const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;

const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_STRSZ: u64 = 10;
const DT_SONAME: u64 = 14;
const DT_RPATH: u64 = 15;
const DT_RUNPATH: u64 = 29;
const DT_VERDEF: u64 = 0x6fff_fffc;
const DT_VERDEFNUM: u64 = 0x6fff_fffd;
const DT_VERNEED: u64 = 0x6fff_fffe;
const DT_VERNEEDNUM: u64 = 0x6fff_ffff;

/// The version definition that names the file itself (its SONAME), not a symbol version.
const VER_FLG_BASE: u16 = 1;

// Caps far above any real library and low enough that hostile counts stay cheap.
const MAX_SECTIONS: u64 = 65_535;
const MAX_SEGMENTS: u64 = 65_535;
const MAX_LOADS: usize = 256;
const MAX_DYNAMIC_BYTES: u64 = 1 << 20;
/// Names of one kind (NEEDED entries, version records) kept per file.
const MAX_NAMES: usize = 4096;

/// The ELF class (32 or 64-bit) and byte order, which fix every record's layout.
#[derive(Clone, Copy)]
struct Layout {
    wide: bool,
    endian: Endian,
}

impl Layout {
    fn from_ident(head: &[u8]) -> Result<Layout, BinaryError> {
        let wide = match head.get(4) {
            Some(1) => false,
            Some(2) => true,
            other => return Err(BinaryError::Malformed(format!("unknown ELF class {other:?}"))),
        };
        let endian = match head.get(5) {
            Some(1) => Endian::Little,
            Some(2) => Endian::Big,
            other => return Err(BinaryError::Malformed(format!("unknown ELF byte order {other:?}"))),
        };
        Ok(Layout { wide, endian })
    }

    fn fields(self, bytes: &[u8]) -> Fields<'_> {
        Fields { bytes, endian: self.endian }
    }

    fn header_size(self) -> usize {
        if self.wide { 64 } else { 52 }
    }

    fn section_header_size(self) -> usize {
        if self.wide { 64 } else { 40 }
    }

    fn program_header_size(self) -> usize {
        if self.wide { 56 } else { 32 }
    }

    fn dynamic_entry_size(self) -> usize {
        if self.wide { 16 } else { 8 }
    }
}

/// The architecture named by an ELF header's first 20 bytes (also used for archive members).
pub(super) fn identify(head: &[u8]) -> Option<Arch> {
    let layout = Layout::from_ident(head).ok()?;
    layout.fields(head).u16(18).ok().map(arch)
}

fn arch(machine: u16) -> Arch {
    match machine {
        EM_X86_64 => Arch::X86_64,
        EM_AARCH64 => Arch::Aarch64,
        EM_386 => Arch::X86,
        EM_ARM => Arch::Arm,
        other => Arch::Other(format!("machine {other}")),
    }
}

/// The fields of the file header this parser uses.
struct Header {
    layout: Layout,
    machine: u16,
    osabi: u8,
    phoff: u64,
    phentsize: u16,
    phnum: u64,
    shoff: u64,
    shentsize: u16,
    shnum: u64,
}

fn header(input: &Input) -> Result<Header, BinaryError> {
    let head = input.read_up_to(0, 64, "the ELF header")?;
    let layout = Layout::from_ident(&head)?;
    if head.len() < layout.header_size() {
        return Err(BinaryError::Malformed(format!(
            "the ELF header is cut short: {} of {} bytes",
            head.len(),
            layout.header_size()
        )));
    }
    let f = layout.fields(&head);
    let (phoff, shoff, at) =
        if layout.wide { (f.u64(32)?, f.u64(40)?, 54) } else { (f.u32(28)?.into(), f.u32(32)?.into(), 42) };
    Ok(Header {
        layout,
        machine: f.u16(18)?,
        osabi: head.get(7).copied().unwrap_or(0),
        phoff,
        phentsize: f.u16(at)?,
        phnum: f.u16(at + 2)?.into(),
        shoff,
        shentsize: f.u16(at + 4)?,
        shnum: f.u16(at + 6)?.into(),
    })
}

/// A byte range of the file, checked to lie inside it when made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Region {
    offset: u64,
    size: u64,
}

impl Region {
    fn within(input: &Input, offset: u64, size: u64, what: &str) -> Result<Region, BinaryError> {
        match offset.checked_add(size) {
            Some(end) if end <= input.len() => Ok(Region { offset, size }),
            _ => Err(BinaryError::Malformed(format!(
                "{what} ({size} bytes at offset {offset}) runs past the end of the file ({} bytes); truncated?",
                input.len()
            ))),
        }
    }

    fn end(self) -> u64 {
        self.offset.saturating_add(self.size)
    }
}

/// A `.gnu.version_d` or `.gnu.version_r` table: where it is, how many records it says it has, and
/// its own string table when the section headers name one.
#[derive(Clone, Copy)]
struct VersionTable {
    region: Region,
    count: Option<u64>,
    strings: Option<Region>,
}

/// The dynamic-linking tables as the section headers describe them.
#[derive(Default)]
struct SectionTables {
    dynamic: Option<Region>,
    strings: Option<Region>,
    verdef: Option<VersionTable>,
    verneed: Option<VersionTable>,
}

/// Reads ELF `input`: header facts always; SONAME, NEEDED, run paths and versions when the file has
/// a dynamic table (shared libraries and dynamic executables; not objects or static executables).
pub(super) fn parse(input: Input) -> Result<BinaryInfo, BinaryError> {
    let h = header(&input)?;
    let mut info = describe(&h);
    // The loader needs the program headers: a file whose program headers (or segments) are cut off
    // cannot load, so that is an error. Section headers are optional at run time (`strip` can drop
    // them), so trouble there only means falling back to the program headers.
    let segments = segments(&input, &h)?;
    let sections = section_tables(&input, &h).unwrap_or_default();
    if let Some(region) = sections.dynamic.or(segments.dynamic) {
        read_dynamic(&input, h.layout, region, &sections, &segments, &mut info)?;
    }
    Ok(info)
}

fn describe(h: &Header) -> BinaryInfo {
    let arch = arch(h.machine);
    let description = format!(
        "ELF {}-bit {}{}",
        if h.layout.wide { 64 } else { 32 },
        arch_words(Format::Elf, &arch),
        if h.layout.endian == Endian::Big { " big-endian" } else { "" }
    );
    // SYSV (0) and GNU (3) are what Linux toolchains write; others (FreeBSD's 9, ...) are not Linux.
    let os = matches!(h.osabi, 0 | 3).then_some(Os::Linux);
    BinaryInfo::new(Format::Elf, os, vec![arch], description)
}

/// Fills in the names of the dynamic table at `region` and the version tables.
fn read_dynamic(
    input: &Input,
    layout: Layout,
    region: Region,
    sections: &SectionTables,
    segments: &Segments,
    info: &mut BinaryInfo,
) -> Result<(), BinaryError> {
    let dynamic = dynamic_entries(input, layout, region)?;
    let strings = sections.strings.or_else(|| segments.map_table(dynamic.strtab, dynamic.strsz));
    let names = Names::new(input, strings);

    info.soname = dynamic.soname.map(|o| names.get(o, "DT_SONAME")).transpose()?;
    for &offset in &dynamic.needed {
        info.needed.push(names.get(offset, "DT_NEEDED")?);
    }
    info.run_paths_are_rpath = dynamic.runpath.is_empty() && !dynamic.rpath.is_empty();
    for &offset in dynamic.runpath.iter().chain(&dynamic.rpath) {
        for path in names.get(offset, "DT_RUNPATH")?.split(':') {
            if !path.is_empty() && !info.run_paths.iter().any(|p| p == path) {
                info.run_paths.push(path.to_string());
            }
        }
    }

    let from_dynamic = |address: Option<u64>, count: Option<u64>| {
        Some(VersionTable { region: segments.map(address?)?, count, strings: None })
    };
    // Version names normally live in the same string table as the dynamic names; share its reads.
    let names_for = |table: &VersionTable| match table.strings {
        Some(own) if Some(own) != strings => Some(Names::new(input, Some(own))),
        _ => None,
    };
    if let Some(table) = sections.verdef.or_else(|| from_dynamic(dynamic.verdef, dynamic.verdefnum)) {
        let own = names_for(&table);
        info.version_definitions = version_definitions(input, layout, table, own.as_ref().unwrap_or(&names))?;
    }
    if let Some(table) = sections.verneed.or_else(|| from_dynamic(dynamic.verneed, dynamic.verneednum)) {
        let own = names_for(&table);
        info.version_needs = version_needs(input, layout, table, own.as_ref().unwrap_or(&names))?;
    }
    Ok(())
}

/// One section header's fields used here.
struct Section {
    kind: u32,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
}

fn parse_section(layout: Layout, bytes: &[u8]) -> Result<Section, BinaryError> {
    let f = layout.fields(bytes);
    Ok(if layout.wide {
        Section { kind: f.u32(4)?, offset: f.u64(24)?, size: f.u64(32)?, link: f.u32(40)?, info: f.u32(44)? }
    } else {
        Section {
            kind: f.u32(4)?,
            offset: f.u32(16)?.into(),
            size: f.u32(20)?.into(),
            link: f.u32(24)?,
            info: f.u32(28)?,
        }
    })
}

fn section_at(input: &Input, h: &Header, index: u64) -> Result<Section, BinaryError> {
    let size = h.layout.section_header_size();
    if usize::from(h.shentsize) < size {
        return Err(BinaryError::Malformed(format!("section header size {} (expected {size})", h.shentsize)));
    }
    let offset = index
        .checked_mul(h.shentsize.into())
        .and_then(|o| o.checked_add(h.shoff))
        .ok_or_else(|| BinaryError::Malformed(format!("section {index} lies past any file")))?;
    parse_section(h.layout, &input.read(offset, size, "a section header")?)
}

/// Finds `.dynamic`, `.gnu.version_d`, `.gnu.version_r` and their string tables by section type.
fn section_tables(input: &Input, h: &Header) -> Result<SectionTables, BinaryError> {
    let mut tables = SectionTables::default();
    if h.shoff == 0 {
        return Ok(tables);
    }
    // More than 0xff00 sections: `e_shnum` is 0 and section 0's `sh_size` holds the count.
    let count = if h.shnum == 0 { section_at(input, h, 0)?.size } else { h.shnum };
    if count == 0 {
        return Ok(tables);
    }
    if count > MAX_SECTIONS {
        return Err(BinaryError::Malformed(format!("{count} section headers (at most {MAX_SECTIONS} are read)")));
    }
    if usize::from(h.shentsize) < h.layout.section_header_size() {
        return Err(BinaryError::Malformed(format!("section header size {}", h.shentsize)));
    }
    let (mut dynamic, mut verdef, mut verneed) = (None, None, None);
    input.entries(h.shoff, count, h.shentsize.into(), "the section header table", |bytes| {
        let section = parse_section(h.layout, bytes)?;
        let slot = match section.kind {
            SHT_DYNAMIC => &mut dynamic,
            SHT_GNU_VERDEF => &mut verdef,
            SHT_GNU_VERNEED => &mut verneed,
            _ => return Ok(true),
        };
        slot.get_or_insert(section);
        Ok(dynamic.is_none() || verdef.is_none() || verneed.is_none())
    })?;
    let strings_of = |s: &Section| -> Result<Option<Region>, BinaryError> {
        let link = section_at(input, h, s.link.into())?;
        if link.kind != SHT_STRTAB {
            return Ok(None);
        }
        Region::within(input, link.offset, link.size, "a string table").map(Some)
    };
    let version_table = |s: &Section, what: &str| -> Result<VersionTable, BinaryError> {
        Ok(VersionTable {
            region: Region::within(input, s.offset, s.size, what)?,
            count: Some(s.info.into()),
            strings: strings_of(s)?,
        })
    };
    if let Some(s) = &dynamic {
        tables.dynamic = Some(Region::within(input, s.offset, s.size, "the .dynamic section")?);
        tables.strings = strings_of(s)?;
    }
    tables.verdef = verdef.map(|s| version_table(&s, "the .gnu.version_d section")).transpose()?;
    tables.verneed = verneed.map(|s| version_table(&s, "the .gnu.version_r section")).transpose()?;
    Ok(tables)
}

/// A `PT_LOAD` segment: how file offsets map to addresses.
struct Load {
    offset: u64,
    address: u64,
    size: u64,
}

/// What the program headers say: the loadable segments and the dynamic table.
#[derive(Default)]
struct Segments {
    loads: Vec<Load>,
    dynamic: Option<Region>,
}

impl Segments {
    /// The file bytes behind `address`, to the end of its segment.
    fn map(&self, address: u64) -> Option<Region> {
        self.loads.iter().find_map(|load| {
            let delta = address.checked_sub(load.address)?;
            // Segments were checked to lie inside the file, so these cannot overflow.
            (delta < load.size).then(|| Region { offset: load.offset + delta, size: load.size - delta })
        })
    }

    /// A table given by its address and (optional) size in the dynamic table.
    fn map_table(&self, address: Option<u64>, size: Option<u64>) -> Option<Region> {
        let region = self.map(address?)?;
        Some(Region { size: size.map_or(region.size, |s| s.min(region.size)), ..region })
    }
}

fn segments(input: &Input, h: &Header) -> Result<Segments, BinaryError> {
    let mut segments = Segments::default();
    let count = if h.phnum == PN_XNUM { section_at(input, h, 0)?.info.into() } else { h.phnum };
    if h.phoff == 0 || count == 0 {
        return Ok(segments);
    }
    if count > MAX_SEGMENTS {
        return Err(BinaryError::Malformed(format!("{count} program headers (at most {MAX_SEGMENTS} are read)")));
    }
    let layout = h.layout;
    if usize::from(h.phentsize) < layout.program_header_size() {
        return Err(BinaryError::Malformed(format!("program header size {}", h.phentsize)));
    }
    input.entries(h.phoff, count, h.phentsize.into(), "the program header table", |bytes| {
        let f = layout.fields(bytes);
        let (kind, offset, address, size) = if layout.wide {
            (f.u32(0)?, f.u64(8)?, f.u64(16)?, f.u64(32)?)
        } else {
            (f.u32(0)?, f.u32(4)?.into(), f.u32(8)?.into(), f.u32(16)?.into())
        };
        match kind {
            PT_LOAD => {
                // A cut-off download usually ends inside a segment: refuse it here, as the loader would.
                Region::within(input, offset, size, "a loadable segment")?;
                if segments.loads.len() < MAX_LOADS {
                    segments.loads.push(Load { offset, address, size });
                }
            }
            PT_DYNAMIC if segments.dynamic.is_none() => {
                segments.dynamic = Some(Region::within(input, offset, size, "the dynamic segment")?);
            }
            _ => {}
        }
        Ok(true)
    })?;
    Ok(segments)
}

/// The dynamic-table entries this parser uses. Names are offsets into the dynamic string table.
#[derive(Default)]
struct Dynamic {
    needed: Vec<u64>,
    soname: Option<u64>,
    runpath: Vec<u64>,
    rpath: Vec<u64>,
    strtab: Option<u64>,
    strsz: Option<u64>,
    verdef: Option<u64>,
    verdefnum: Option<u64>,
    verneed: Option<u64>,
    verneednum: Option<u64>,
}

fn dynamic_entries(input: &Input, layout: Layout, region: Region) -> Result<Dynamic, BinaryError> {
    let mut d = Dynamic::default();
    let size = layout.dynamic_entry_size();
    let count = region.size.min(MAX_DYNAMIC_BYTES) / size as u64;
    input.entries(region.offset, count, size, "the dynamic table", |entry| {
        let f = layout.fields(entry);
        let tag = f.word(0, layout.wide)?;
        let value = f.word(size / 2, layout.wide)?;
        let list = match tag {
            DT_NULL => return Ok(false),
            DT_NEEDED => &mut d.needed,
            DT_RUNPATH => &mut d.runpath,
            DT_RPATH => &mut d.rpath,
            _ => {
                let slot = match tag {
                    DT_SONAME => &mut d.soname,
                    DT_STRTAB => &mut d.strtab,
                    DT_STRSZ => &mut d.strsz,
                    DT_VERDEF => &mut d.verdef,
                    DT_VERDEFNUM => &mut d.verdefnum,
                    DT_VERNEED => &mut d.verneed,
                    DT_VERNEEDNUM => &mut d.verneednum,
                    _ => return Ok(true),
                };
                slot.get_or_insert(value);
                return Ok(true);
            }
        };
        if list.len() < MAX_NAMES {
            list.push(value);
        }
        Ok(true)
    })?;
    Ok(d)
}

/// Names by offset into one string table (absent when the file names none).
struct Names<'i, 'a>(Option<Table<'i, 'a>>);

impl<'i, 'a> Names<'i, 'a> {
    fn new(input: &'i Input<'a>, strings: Option<Region>) -> Names<'i, 'a> {
        Names(strings.map(|r| Table::new(input, r.offset, r.end(), "the string table")))
    }

    fn get(&self, offset: u64, what: &str) -> Result<String, BinaryError> {
        let table = self
            .0
            .as_ref()
            .ok_or_else(|| BinaryError::Malformed(format!("{what} names a string, but there is no string table")))?;
        let at = table
            .start()
            .checked_add(offset)
            .ok_or_else(|| BinaryError::Malformed(format!("{what}: string offset {offset} is impossible")))?;
        table.c_string(at, what)
    }
}

/// The next record of a chain: `at + delta`, or an error if that overflows.
fn advance(at: u64, delta: u32, what: &str) -> Result<u64, BinaryError> {
    at.checked_add(delta.into()).ok_or_else(|| BinaryError::Malformed(format!("{what}: impossible offset")))
}

/// How many records of a version table to visit: the count the file gives, capped.
fn record_limit(table: &VersionTable) -> usize {
    table.count.map_or(MAX_NAMES, |c| usize::try_from(c).unwrap_or(MAX_NAMES).min(MAX_NAMES))
}

/// `.gnu.version_d`: Elf_Verdef records (20 bytes) chained by `vd_next`, each naming itself in its
/// first Elf_Verdaux (8 bytes). Same layout in 32 and 64-bit files.
fn version_definitions(
    input: &Input,
    layout: Layout,
    table: VersionTable,
    names: &Names,
) -> Result<Vec<String>, BinaryError> {
    let what = "a version definition";
    let records = Table::new(input, table.region.offset, table.region.end(), "the version definitions");
    let mut at = table.region.offset;
    let mut found = Vec::new();
    for _ in 0..record_limit(&table) {
        let bytes = records.record(at, 20, what)?;
        let f = layout.fields(&bytes);
        let revision = f.u16(0)?;
        if revision != 1 {
            return Err(BinaryError::Malformed(format!("{what} has revision {revision} (only 1 exists)")));
        }
        let (flags, aux_count, aux, next) = (f.u16(2)?, f.u16(6)?, f.u32(12)?, f.u32(16)?);
        if flags & VER_FLG_BASE == 0 && aux_count > 0 {
            let aux_bytes = records.record(advance(at, aux, what)?, 8, what)?;
            let name = names.get(layout.fields(&aux_bytes).u32(0)?.into(), "a version definition name")?;
            if !found.contains(&name) {
                found.push(name);
            }
        }
        if next == 0 {
            break;
        }
        at = advance(at, next, what)?;
    }
    Ok(found)
}

/// `.gnu.version_r`: Elf_Verneed records (16 bytes: file name, a chain of Elf_Vernaux of 16 bytes
/// each naming one version) chained by `vn_next`. Same layout in 32 and 64-bit files.
fn version_needs(
    input: &Input,
    layout: Layout,
    table: VersionTable,
    names: &Names,
) -> Result<Vec<VersionNeed>, BinaryError> {
    let what = "a version need";
    let records = Table::new(input, table.region.offset, table.region.end(), "the version needs");
    let mut at = table.region.offset;
    let mut needs = Vec::new();
    let mut budget = MAX_NAMES;
    for _ in 0..record_limit(&table) {
        let bytes = records.record(at, 16, what)?;
        let f = layout.fields(&bytes);
        let revision = f.u16(0)?;
        if revision != 1 {
            return Err(BinaryError::Malformed(format!("{what} has revision {revision} (only 1 exists)")));
        }
        let (aux_count, file, aux, next) = (f.u16(2)?, f.u32(4)?, f.u32(8)?, f.u32(12)?);
        let mut need = VersionNeed {
            file: names.get(file.into(), "a version need's file name")?,
            versions: Vec::new(),
            current_version: None,
        };
        let mut aux_at = advance(at, aux, what)?;
        for _ in 0..usize::from(aux_count).min(budget) {
            budget -= 1;
            let aux_bytes = records.record(aux_at, 16, what)?;
            let a = layout.fields(&aux_bytes);
            need.versions.push(names.get(a.u32(8)?.into(), "a needed version name")?);
            match a.u32(12)? {
                0 => break,
                next_aux => aux_at = advance(aux_at, next_aux, what)?,
            }
        }
        needs.push(need);
        if next == 0 || budget == 0 {
            break;
        }
        at = advance(at, next, what)?;
    }
    Ok(needs)
}

//! What inspection read from the file system, remembered in `OUT_DIR` for the next run of the same
//! build script (see [`crate::memo`]): the facts read from a library's headers and version tables, the
//! names in a directory that could be ORT's, and the links staging left in `OUT_DIR`. Those are most
//! of a warm probe's work (listing `/usr/lib/<multiarch>`, a thousand names, most of all), and a build
//! script mostly reruns for reasons that leave them as they were.
//!
//! An entry is keyed by the identity of the file or directory (device, inode, size, modification and
//! status-change times: adding, removing or renaming a name in a directory changes its times). A
//! library's entry holds format, OS, architectures, description, SONAME, version definitions and dylib
//! version; a directory's, the names [`super::list_dir`] keeps, or every name with its link target
//! ([`Memo::links`]). Anything that cannot be written back exactly (an unknown architecture, a name
//! with a tab or line break) is not remembered. Outside a build script, and on hosts without inodes,
//! everything is read.

use std::cell::RefCell;
use std::fs;
use std::path::{Path, PathBuf};

use super::binary::{self, BinaryError, BinaryInfo, Format};
use crate::error::Verdict;
use crate::target::{Arch, Os};

const NAME: &str = "onnxruntime-provision-inspected";
/// Entries kept: a probe judges a library or a few, in the half-dozen directories of the system source.
const MAX_ENTRIES: usize = 32;

/// One remembered fact, and the identity of the file or directory it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    key: String,
    fact: Fact,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Fact {
    /// What a library's headers say ([`BinaryInfo::for_probe`]).
    Binary(BinaryInfo),
    /// The names in a directory that could be ORT's, sorted.
    Listing(Vec<String>),
    /// Every name in a directory, with the target of each link (`None` for what is no link), sorted:
    /// what staging left in `OUT_DIR` ([`Memo::links`]).
    Links(Vec<(String, Option<String>)>),
}

/// The memo of one probe: where it lives, and its lines once read. A line is parsed only when its
/// key is asked for, and the whole memo only when an entry is added: a probe asks for three of a
/// dozen, unoptimised (issue 7).
pub(crate) struct Memo {
    out_dir: Option<PathBuf>,
    /// The entry lines (below [`HEADER`]); empty for a memo that is absent or in another format.
    lines: RefCell<Option<String>>,
}

impl Memo {
    /// The memo in `out_dir`, or none (everything is read).
    pub(crate) fn new(out_dir: Option<PathBuf>) -> Memo {
        Memo { out_dir, lines: RefCell::new(None) }
    }

    /// The facts of the library at `path` a probe uses.
    pub(crate) fn binary(&self, path: &Path) -> Result<BinaryInfo, BinaryError> {
        let read = || binary::read(path).map(|info| Fact::Binary(info.for_probe()));
        match self.recall_or_read(path, read)? {
            Fact::Binary(info) => Ok(info),
            // A key names one inode, a file's or a directory's; should a directory's entry ever turn
            // up for a file, the file is simply read (so with any entry of another kind).
            Fact::Listing(_) | Fact::Links(_) => binary::read(path).map(BinaryInfo::for_probe),
        }
    }

    /// The names in `dir` that could be ORT's (see [`super::list_dir`]).
    pub(crate) fn list_dir(&self, dir: &Path) -> Result<Vec<String>, Verdict> {
        match self.recall_or_read(dir, || super::list_dir(dir).map(Fact::Listing))? {
            Fact::Listing(names) => Ok(names),
            Fact::Binary(_) | Fact::Links(_) => super::list_dir(dir),
        }
    }

    /// Every name in `dir` with where each link leads, sorted by name; `None` when `dir` cannot be
    /// read or holds a name or link target that is not UTF-8 (nothing staged has one). A link cannot be
    /// pointed elsewhere in place, only replaced, which changes the directory's times too.
    pub(crate) fn links(&self, dir: &Path) -> Option<Vec<(String, Option<String>)>> {
        match self.recall_or_read(dir, || read_links(dir).map(Fact::Links)) {
            Ok(Fact::Links(links)) => Some(links),
            Ok(_) => read_links(dir).ok(),
            Err(()) => None,
        }
    }

    /// The entry for what is at `path` when its identity is unchanged; else `read` it, and remember
    /// what was read when the file or directory has settled.
    fn recall_or_read<E>(&self, path: &Path, read: impl FnOnce() -> Result<Fact, E>) -> Result<Fact, E> {
        let (Some(out_dir), Ok(meta)) = (&self.out_dir, fs::metadata(path)) else { return read() };
        let Some(key) = crate::memo::identity(&meta) else { return read() };
        let mut lines = self.lines.borrow_mut();
        let lines = lines.get_or_insert_with(|| {
            let text = crate::memo::read(out_dir, NAME).unwrap_or_default();
            text.strip_prefix(HEADER).map(str::to_string).unwrap_or_default()
        });
        // The key is the line's first field (a key holds no tab).
        let mut keyed =
            lines.lines().filter(|l| l.strip_prefix(key.as_str()).is_some_and(|rest| rest.starts_with('\t')));
        if let Some(entry) = keyed.find_map(entry) {
            return Ok(entry.fact);
        }
        let fact = read()?;
        let entry = Entry { key, fact };
        if crate::memo::settled(&meta) && line(&entry).is_some() {
            let mut entries = parse(lines);
            entries.retain(|e| e.key != entry.key);
            entries.push(entry.clone());
            let skip = entries.len().saturating_sub(MAX_ENTRIES);
            entries.drain(..skip);
            let text = render(&entries);
            crate::memo::write(out_dir, NAME, &text);
            *lines = text.strip_prefix(HEADER).map(str::to_string).unwrap_or_default();
        }
        Ok(entry.fact)
    }
}

fn read_links(dir: &Path) -> Result<Vec<(String, Option<String>)>, ()> {
    let mut links = Vec::new();
    for entry in fs::read_dir(dir).map_err(drop)? {
        let entry = entry.map_err(drop)?;
        let name = entry.file_name().into_string().map_err(drop)?;
        let target = match entry.file_type().map_err(drop)?.is_symlink() {
            true => Some(fs::read_link(entry.path()).map_err(drop)?.into_os_string().into_string().map_err(drop)?),
            false => None,
        };
        links.push((name, target));
    }
    links.sort();
    Ok(links)
}

/// The first line below the writer's ([`crate::memo`]): the format, so that a change of it is explicit.
const HEADER: &str = "inspection memo, format 1\n";

fn render(entries: &[Entry]) -> String {
    let mut text = HEADER.to_string();
    for line in entries.iter().filter_map(line) {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// Tab-separated: `key binary format os archs description soname dylib-version version-definitions…`
/// or `key listing names…`; `None` when some field could not be read back exactly.
fn line(entry: &Entry) -> Option<String> {
    let mut fields = vec![entry.key.clone()];
    match &entry.fact {
        Fact::Binary(info) => {
            if info.archs.is_empty() {
                return None;
            }
            let archs = info.archs.iter().map(arch_word).collect::<Option<Vec<_>>>()?.join(",");
            // An empty soname field is "none"; a present one is written after `=`, so an empty name survives.
            let soname = info.soname.as_ref().map_or(String::new(), |s| format!("={s}"));
            let dylib = info.dylib_version.map_or(String::new(), |(a, b, c)| format!("{a}.{b}.{c}"));
            let (format, os) = (format_word(info.format)?, os_word(info.os.as_ref())?);
            fields.extend(["binary".into(), format.into(), os.into(), archs, info.description.clone(), soname, dylib]);
            fields.extend(info.version_definitions.iter().cloned());
        }
        Fact::Listing(names) => {
            fields.push("listing".into());
            fields.extend(names.iter().cloned());
        }
        // Name and target in turn; as for a SONAME, a target is written after `=` and no link is empty.
        Fact::Links(links) => {
            fields.push("links".into());
            for (name, target) in links {
                fields.push(name.clone());
                fields.push(target.as_ref().map_or(String::new(), |t| format!("={t}")));
            }
        }
    }
    fields.iter().all(|f| !f.contains(['\t', '\n', '\r'])).then(|| fields.join("\t"))
}

/// The entries of a memo's lines (below [`HEADER`]), leaving out any line that does not read back whole.
fn parse(lines: &str) -> Vec<Entry> {
    lines.lines().filter_map(entry).collect()
}

fn entry(line: &str) -> Option<Entry> {
    let mut fields = line.split('\t');
    let key = fields.next()?.to_string();
    let fact = match fields.next()? {
        "binary" => Fact::Binary(binary_fields(fields)?),
        "listing" => Fact::Listing(fields.map(str::to_string).collect()),
        "links" => Fact::Links(link_fields(fields)?),
        _ => return None,
    };
    Some(Entry { key, fact })
}

fn link_fields<'a>(mut fields: impl Iterator<Item = &'a str>) -> Option<Vec<(String, Option<String>)>> {
    let mut links = Vec::new();
    while let Some(name) = fields.next() {
        let target = match fields.next()? {
            "" => None,
            target => Some(target.strip_prefix('=')?.to_string()),
        };
        links.push((name.to_string(), target));
    }
    Some(links)
}

fn binary_fields<'a>(mut fields: impl Iterator<Item = &'a str>) -> Option<BinaryInfo> {
    let word = fields.next()?;
    let format = [Format::Elf, Format::MachO, Format::Pe].into_iter().find(|f| format_word(*f) == Some(word))?;
    let word = fields.next()?;
    let os = [None, Some(Os::Linux), Some(Os::MacOs), Some(Os::Windows)]
        .into_iter()
        .find(|os| os_word(os.as_ref()) == Some(word))?;
    let archs = fields.next()?.split(',').map(arch_of_word).collect::<Option<Vec<Arch>>>()?;
    let description = fields.next()?.to_string();
    let soname = match fields.next()? {
        "" => None,
        named => Some(named.strip_prefix('=')?.to_string()),
    };
    let dylib_version = match fields.next()? {
        "" => None,
        dotted => {
            let mut parts = dotted.split('.').map(|p| p.parse::<u32>().ok());
            let version = (parts.next()??, parts.next()??, parts.next()??);
            if parts.next().is_some() {
                return None;
            }
            Some(version)
        }
    };
    let mut info = BinaryInfo::new(format, os, archs, description);
    info.soname = soname;
    info.dylib_version = dylib_version;
    info.version_definitions = fields.map(str::to_string).collect();
    Some(info)
}

/// Libraries to load are ELF, Mach-O or PE; an archive (static linking) is never remembered.
fn format_word(format: Format) -> Option<&'static str> {
    match format {
        Format::Elf => Some("elf"),
        Format::MachO => Some("macho"),
        Format::Pe => Some("pe"),
        Format::Archive => None,
    }
}

fn os_word(os: Option<&Os>) -> Option<&'static str> {
    match os {
        None => Some("-"),
        Some(Os::Linux) => Some("linux"),
        Some(Os::MacOs) => Some("macos"),
        Some(Os::Windows) => Some("windows"),
        Some(Os::Other(_)) => None,
    }
}

fn arch_word(arch: &Arch) -> Option<&'static str> {
    match arch {
        Arch::X86_64 => Some("x86_64"),
        Arch::Aarch64 => Some("aarch64"),
        Arch::X86 => Some("x86"),
        Arch::Arm => Some("arm"),
        Arch::Other(_) => None,
    }
}

fn arch_of_word(word: &str) -> Option<Arch> {
    [Arch::X86_64, Arch::Aarch64, Arch::X86, Arch::Arm].into_iter().find(|a| arch_word(a) == Some(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf() -> BinaryInfo {
        let mut info = BinaryInfo::new(Format::Elf, Some(Os::Linux), vec![Arch::X86_64], "ELF 64-bit x86-64".into());
        info.soname = Some("libonnxruntime.so.1".into());
        info.version_definitions = vec!["VERS_1.22.0".into(), String::new()];
        info
    }

    fn entry_of(key: &str, fact: Fact) -> Entry {
        Entry { key: key.into(), fact }
    }

    #[test]
    fn entries_read_back_exactly() {
        let mut fat = BinaryInfo::new(Format::MachO, None, vec![Arch::X86_64, Arch::Aarch64], "Mach-O fat".into());
        fat.soname = Some(String::new());
        fat.dylib_version = Some((1, 22, 0));
        let bare = BinaryInfo::new(Format::Pe, Some(Os::Windows), vec![Arch::X86], String::new());
        let names = vec!["libonnxruntime.so".to_string(), "libonnxruntime.so.1.22.0".into()];
        let entries = vec![
            entry_of("1 2 3 4 5", Fact::Binary(elf())),
            entry_of("6 7 8 9 10", Fact::Binary(fat)),
            entry_of("k", Fact::Binary(bare)),
            entry_of("11 12 13 14 15", Fact::Listing(names)),
            entry_of("16 17 18 19 20", Fact::Listing(Vec::new())),
            entry_of(
                "21 22 23 24 25",
                Fact::Links(vec![("include".into(), Some("/x/include".into())), ("lib".into(), None)]),
            ),
            entry_of("26 27 28 29 30", Fact::Links(vec![("empty-target".into(), Some(String::new()))])),
            entry_of("31 32 33 34 35", Fact::Links(Vec::new())),
        ];
        assert_eq!(parse_text(&render(&entries)), entries);
    }

    #[test]
    fn what_cannot_be_written_back_exactly_is_not_remembered() {
        let binary = |info: BinaryInfo| line(&entry_of("k", Fact::Binary(info)));
        let mut info = elf();
        info.version_definitions.push("VERS\t1".into());
        assert_eq!(binary(info), None);
        let mut info = elf();
        info.soname = Some("lib\nx".into());
        assert_eq!(binary(info), None);
        assert_eq!(
            binary(BinaryInfo::new(Format::Elf, None, vec![Arch::Other("machine 9".into())], "ELF".into())),
            None
        );
        assert_eq!(binary(BinaryInfo::new(Format::Elf, None, Vec::new(), "ELF".into())), None);
        assert_eq!(binary(BinaryInfo::new(Format::Archive, None, vec![Arch::X86_64], "ar".into())), None);
        assert_eq!(line(&entry_of("k", Fact::Listing(vec!["libonnx\rruntime.so".into()]))), None);
        assert_eq!(line(&entry_of("k", Fact::Links(vec![("lib".into(), Some("/a\tb".into()))]))), None);
    }

    #[test]
    fn another_formats_memo_and_damaged_lines_are_ignored() {
        let good = line(&entry_of("k", Fact::Binary(elf()))).unwrap();
        let other_format = format!("inspection memo, format 0\n{good}\n");
        assert_eq!(parse_text(&other_format), Vec::new());
        let damaged = [
            "k\tbinary\tcoff\tlinux\tx86_64\tELF\t\t",
            "k\tbinary\telf\tbeos\tx86_64\tELF\t\t",
            "k\tbinary\telf\tlinux\tx86_64,sparc\tELF\t\t",
            "k\tbinary\telf\tlinux\tx86_64\tELF\tnoequals\t",
            "k\tbinary\telf\tlinux\tx86_64\tELF\t\t1.2",
            "k\tbinary\telf\tlinux",
            "k\tlisted\tlibonnxruntime.so",
            "k\tlinks\tlib",
            "k\tlinks\tinclude\t/no/equals",
            "k",
        ];
        let text = format!("{HEADER}{}\n{good}\n", damaged.join("\n"));
        assert_eq!(parse_text(&text), vec![entry_of("k", Fact::Binary(elf()))]);

        // As a probe reads it: the lines of a file's key are tried in turn, the damaged ones passed
        // over, and the file is not read (it is no library at all).
        let out = tempfile::tempdir().unwrap();
        let file = out.path().join("libonnxruntime.so");
        fs::write(&file, b"not a library").unwrap();
        let key = crate::memo::identity(&fs::metadata(&file).unwrap()).unwrap();
        let lines: Vec<String> = damaged.iter().chain([&good.as_str()]).map(|l| l.replacen('k', &key, 1)).collect();
        crate::memo::write(out.path(), NAME, &format!("{HEADER}{}\n", lines.join("\n")));
        let memo = Memo::new(Some(out.path().to_path_buf()));
        assert_eq!(memo.binary(&file).unwrap(), elf());
        // Without its good line, the file is read, and refused.
        crate::memo::write(out.path(), NAME, &format!("{HEADER}{}\n", lines[..damaged.len()].join("\n")));
        assert!(Memo::new(Some(out.path().to_path_buf())).binary(&file).is_err());
    }

    /// A memo's text as [`Memo`] reads it: nothing from another format.
    fn parse_text(text: &str) -> Vec<Entry> {
        text.strip_prefix(HEADER).map(parse).unwrap_or_default()
    }
}

//! What inspection read from a library file, remembered in `OUT_DIR` for the next run of the same build
//! script (see [`crate::memo`]). Reading a library's headers and version tables is the largest part of
//! a warm probe, and a build script mostly reruns for reasons that leave the library as it was.
//!
//! An entry is keyed by the file's identity (device, inode, size, modification and status-change
//! times) and holds the facts a probe uses: format, OS, architectures, description, SONAME, version
//! definitions and dylib version. Anything that cannot be written back exactly (an unknown
//! architecture, a name with a tab or line break) is simply not remembered. Outside a build script,
//! and on hosts without inodes, every file is read.

use std::cell::RefCell;
use std::fs;
use std::path::{Path, PathBuf};

use super::binary::{self, BinaryError, BinaryInfo, Format};
use crate::target::{Arch, Os};

const NAME: &str = "onnxruntime-provision-inspected";
/// Entries kept: a probe judges one library, or a few when earlier candidates are refused.
const MAX_ENTRIES: usize = 8;

/// The memo of one probe: where it lives, and its entries once read.
pub(crate) struct Memo {
    out_dir: Option<PathBuf>,
    entries: RefCell<Option<Vec<(String, BinaryInfo)>>>,
}

impl Memo {
    /// The memo in `out_dir`, or none (every file is read).
    pub(crate) fn new(out_dir: Option<PathBuf>) -> Memo {
        Memo { out_dir, entries: RefCell::new(None) }
    }

    /// The facts of the library at `path` a probe uses: remembered, or read now (and remembered
    /// when the file has settled).
    pub(crate) fn read(&self, path: &Path) -> Result<BinaryInfo, BinaryError> {
        let (Some(out_dir), Ok(meta)) = (&self.out_dir, fs::metadata(path)) else {
            return binary::read(path).map(BinaryInfo::for_probe);
        };
        let Some(key) = crate::memo::identity(&meta) else {
            return binary::read(path).map(BinaryInfo::for_probe);
        };
        let mut entries = self.entries.borrow_mut();
        let entries = entries.get_or_insert_with(|| crate::memo::read(out_dir, NAME).map(parse).unwrap_or_default());
        if let Some((_, info)) = entries.iter().find(|(k, _)| *k == key) {
            return Ok(info.clone());
        }
        let info = binary::read(path)?.for_probe();
        if crate::memo::settled(&meta) && line(&key, &info).is_some() {
            entries.retain(|(k, _)| *k != key);
            entries.push((key, info.clone()));
            let skip = entries.len().saturating_sub(MAX_ENTRIES);
            entries.drain(..skip);
            crate::memo::write(out_dir, NAME, &render(entries));
        }
        Ok(info)
    }
}

/// The first line: a memo written by another version of this crate (whose reader may differ) is not used.
fn header() -> String {
    format!("onnxruntime-provision inspection memo, version {}\n", env!("CARGO_PKG_VERSION"))
}

fn render(entries: &[(String, BinaryInfo)]) -> String {
    let mut text = header();
    for line in entries.iter().filter_map(|(key, info)| line(key, info)) {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// `key format os archs description soname dylib-version version-definitions…`, tab-separated; `None`
/// when some field could not be read back exactly.
fn line(key: &str, info: &BinaryInfo) -> Option<String> {
    let format = format_word(info.format)?;
    let os = os_word(info.os.as_ref())?;
    if info.archs.is_empty() {
        return None;
    }
    let archs = info.archs.iter().map(arch_word).collect::<Option<Vec<_>>>()?.join(",");
    // An empty soname field is "none"; a present one is written after `=`, so an empty name survives.
    let soname = info.soname.as_ref().map_or(String::new(), |s| format!("={s}"));
    let dylib = info.dylib_version.map_or(String::new(), |(a, b, c)| format!("{a}.{b}.{c}"));
    let fixed = [key, format, os, &archs, &info.description, &soname, &dylib];
    let fields: Vec<&str> = fixed.into_iter().chain(info.version_definitions.iter().map(String::as_str)).collect();
    fields.iter().all(|f| !f.contains(['\t', '\n', '\r'])).then(|| fields.join("\t"))
}

/// The entries of a memo's text; nothing when it was written by another version, and no line that
/// does not read back whole.
fn parse(text: String) -> Vec<(String, BinaryInfo)> {
    let Some(body) = text.strip_prefix(&header()) else { return Vec::new() };
    body.lines().filter_map(entry).collect()
}

fn entry(line: &str) -> Option<(String, BinaryInfo)> {
    let mut fields = line.split('\t');
    let key = fields.next()?.to_string();
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
    Some((key, info))
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

    fn fat_macho() -> BinaryInfo {
        let mut info = BinaryInfo::new(Format::MachO, None, vec![Arch::X86_64, Arch::Aarch64], "Mach-O fat".into());
        info.soname = Some(String::new());
        info.dylib_version = Some((1, 22, 0));
        info
    }

    #[test]
    fn entries_read_back_exactly() {
        let entries = vec![("1 2 3 4 5".to_string(), elf()), ("6 7 8 9 10".to_string(), fat_macho())];
        assert_eq!(parse(render(&entries)), entries);
        let mut bare = BinaryInfo::new(Format::Pe, Some(Os::Windows), vec![Arch::X86], String::new());
        bare.soname = None;
        let entries = vec![("k".to_string(), bare)];
        assert_eq!(parse(render(&entries)), entries);
    }

    #[test]
    fn what_cannot_be_written_back_exactly_is_not_remembered() {
        let mut info = elf();
        info.version_definitions.push("VERS\t1".into());
        assert_eq!(line("k", &info), None);
        let mut info = elf();
        info.soname = Some("lib\nx".into());
        assert_eq!(line("k", &info), None);
        let info = BinaryInfo::new(Format::Elf, None, vec![Arch::Other("machine 9".into())], "ELF".into());
        assert_eq!(line("k", &info), None);
        let info = BinaryInfo::new(Format::Elf, None, Vec::new(), "ELF".into());
        assert_eq!(line("k", &info), None);
        let info = BinaryInfo::new(Format::Archive, None, vec![Arch::X86_64], "ar".into());
        assert_eq!(line("k", &info), None);
    }

    #[test]
    fn another_versions_memo_and_damaged_lines_are_ignored() {
        let good = line("k", &elf()).unwrap();
        let other_version = format!("onnxruntime-provision inspection memo, version 0.0.0-other\n{good}\n");
        assert_eq!(parse(other_version), Vec::new());
        let damaged = [
            "k\tcoff\tlinux\tx86_64\tELF\t\t".to_string(),
            "k\telf\tbeos\tx86_64\tELF\t\t".to_string(),
            "k\telf\tlinux\tx86_64,sparc\tELF\t\t".to_string(),
            "k\telf\tlinux\tx86_64\tELF\tnoequals\t".to_string(),
            "k\telf\tlinux\tx86_64\tELF\t\t1.2".to_string(),
            "k\telf\tlinux".to_string(),
        ];
        let text = format!("{}{}\n{good}\n", header(), damaged.join("\n"));
        assert_eq!(parse(text), vec![("k".to_string(), elf())]);
    }
}

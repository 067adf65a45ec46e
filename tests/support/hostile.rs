//! Hostile archives built byte by byte: tar headers written raw (because `tar::Header::set_path`
//! refuses the names we need), zip files laid out as PKWARE's APPNOTE describes. Shared by the
//! extractor's unit tests and the end-to-end tests that serve such archives through the probe.

use std::fs;
use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::{DeflateEncoder, GzEncoder};

/// One tar entry, header fields written as given.
#[derive(Clone)]
pub struct TarEntry {
    pub name: Vec<u8>,
    pub kind: u8,
    pub mode: u32,
    pub data: Vec<u8>,
    pub link: Vec<u8>,
    /// PAX records written in an `x` entry just before this one.
    pub pax: Vec<(&'static str, Vec<u8>)>,
    /// A header size other than the data's length.
    pub header_size: Option<u64>,
}

pub fn tar_file(name: &str, data: &[u8]) -> TarEntry {
    TarEntry {
        name: name.into(),
        kind: b'0',
        mode: 0o644,
        data: data.into(),
        link: Vec::new(),
        pax: Vec::new(),
        header_size: None,
    }
}

pub fn tar_dir(name: &str) -> TarEntry {
    TarEntry { kind: b'5', mode: 0o755, ..tar_file(name, b"") }
}

pub fn tar_link(name: &str, target: &str) -> TarEntry {
    TarEntry { kind: b'2', mode: 0o777, link: target.into(), ..tar_file(name, b"") }
}

pub fn tar_special(name: &str, kind: u8) -> TarEntry {
    TarEntry { kind, ..tar_file(name, b"") }
}

pub fn tar_header(name: &[u8], kind: u8, size: u64, mode: u32, link: &[u8]) -> [u8; 512] {
    // GNU sparse entries in a GNU header, as GNU tar writes them.
    let mut header = if kind == b'S' { tar::Header::new_gnu() } else { tar::Header::new_ustar() };
    header.set_entry_type(tar::EntryType::new(kind));
    header.set_size(size);
    header.set_mode(mode);
    header.set_mtime(0);
    if let Some(gnu) = header.as_gnu_mut() {
        gnu.set_real_size(size);
    }
    let old = header.as_old_mut();
    assert!(name.len() <= 100 && link.len() <= 100, "test names fit the ustar fields");
    old.name = [0; 100];
    old.name[..name.len()].copy_from_slice(name);
    old.linkname = [0; 100];
    old.linkname[..link.len()].copy_from_slice(link);
    header.set_cksum();
    *header.as_bytes()
}

pub fn pad_to_block(out: &mut Vec<u8>) {
    out.resize(out.len().div_ceil(512) * 512, 0);
}

pub fn pax_records(records: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (key, value) in records {
        // "<len> <key>=<value>\n", where <len> counts itself.
        let body = key.len() + value.len() + 3;
        let mut len = body + 1;
        while len != body + len.to_string().len() {
            len = body + len.to_string().len();
        }
        out.extend(format!("{len} {key}=").as_bytes());
        out.extend(value);
        out.push(b'\n');
    }
    out
}

/// The entries without the end-of-archive marker.
pub fn tar_body(entries: &[TarEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        if !e.pax.is_empty() {
            let records = pax_records(&e.pax);
            out.extend(tar_header(b"PaxHeader/x", b'x', records.len() as u64, 0o644, b""));
            out.extend(&records);
            pad_to_block(&mut out);
        }
        let size = e.header_size.unwrap_or(e.data.len() as u64);
        out.extend(tar_header(&e.name, e.kind, size, e.mode, &e.link));
        out.extend(&e.data);
        pad_to_block(&mut out);
    }
    out
}

/// A complete tar stream: entries, two zero blocks, padding to a 10 KiB record as GNU tar writes it.
pub fn tar_bytes(entries: &[TarEntry]) -> Vec<u8> {
    let mut out = tar_body(entries);
    out.extend([0; 1024]);
    out.resize(out.len().div_ceil(10240) * 10240, 0);
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn tgz(entries: &[TarEntry]) -> Vec<u8> {
    gzip(&tar_bytes(entries))
}

/// One zip entry; the fields the tests tamper with are explicit.
#[derive(Clone)]
pub struct ZipEntry {
    pub name: Vec<u8>,
    pub data: Vec<u8>,
    /// `st_mode` (type and permissions); `None` writes a DOS entry without Unix attributes.
    pub mode: Option<u32>,
    pub method: u16,
    pub flags: u16,
    /// Lies for the headers: declared uncompressed size, CRC, compressed bytes.
    pub declared: Option<u32>,
    pub crc: Option<u32>,
    pub compressed: Option<Vec<u8>>,
    /// The name in the local header, when it differs from the central directory's.
    pub local_name: Option<Vec<u8>>,
}

pub fn zip_file(name: &str, data: &[u8]) -> ZipEntry {
    ZipEntry {
        name: name.into(),
        data: data.into(),
        mode: Some(0o100644),
        method: 8,
        flags: 0,
        declared: None,
        crc: None,
        compressed: None,
        local_name: None,
    }
}

pub fn zip_dir(name: &str) -> ZipEntry {
    ZipEntry { mode: Some(0o040755), method: 0, ..zip_file(name, b"") }
}

pub fn zip_link(name: &str, target: &str) -> ZipEntry {
    ZipEntry { mode: Some(0o120777), method: 0, ..zip_file(name, target.as_bytes()) }
}

pub fn zip_mode(name: &str, mode: u32) -> ZipEntry {
    ZipEntry { mode: Some(mode), ..zip_file(name, b"x") }
}

pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}

/// A zip file as PKWARE's APPNOTE lays it out: local headers with data, central directory, end record.
pub fn zip_bytes(entries: &[ZipEntry]) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for e in entries {
        let compressed =
            e.compressed.clone().unwrap_or_else(|| if e.method == 8 { deflate(&e.data) } else { e.data.clone() });
        let crc = e.crc.unwrap_or_else(|| crc32(&e.data));
        let size = e.declared.unwrap_or(e.data.len() as u32);
        let offset = out.len() as u32;
        let local_name = e.local_name.as_ref().unwrap_or(&e.name);
        let common = |v: &mut Vec<u8>, name: &[u8]| {
            v.extend(e.flags.to_le_bytes());
            v.extend(e.method.to_le_bytes());
            v.extend(0u16.to_le_bytes()); // time
            v.extend(0x21u16.to_le_bytes()); // 1980-01-01
            v.extend(crc.to_le_bytes());
            v.extend((compressed.len() as u32).to_le_bytes());
            v.extend(size.to_le_bytes());
            v.extend((name.len() as u16).to_le_bytes());
            v.extend(0u16.to_le_bytes()); // extra field length
        };
        out.extend(0x04034b50u32.to_le_bytes());
        out.extend(20u16.to_le_bytes());
        common(&mut out, local_name);
        out.extend(local_name);
        out.extend(&compressed);

        central.extend(0x02014b50u32.to_le_bytes());
        // Made by: Unix (3) when there is a Unix mode, else MS-DOS (0); spec version 2.0.
        central.extend(if e.mode.is_some() { 0x0314u16 } else { 0x0014u16 }.to_le_bytes());
        central.extend(20u16.to_le_bytes());
        common(&mut central, &e.name);
        central.extend(0u16.to_le_bytes()); // comment length
        central.extend(0u16.to_le_bytes()); // disk
        central.extend(0u16.to_le_bytes()); // internal attributes
        central.extend(e.mode.map_or(0, |m| m << 16).to_le_bytes());
        central.extend(offset.to_le_bytes());
        central.extend(&e.name);
    }
    let (cd_offset, cd_len, n) = (out.len() as u32, central.len() as u32, entries.len() as u16);
    out.extend(central);
    out.extend(0x06054b50u32.to_le_bytes());
    out.extend([0; 4]); // disk numbers
    out.extend(n.to_le_bytes());
    out.extend(n.to_le_bytes());
    out.extend(cd_len.to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// The entries of a real directory tree under `top/` (files with their modes, symlinks as symlinks),
/// sorted by name: an official-layout tree to which a test adds its hostile entries.
pub fn tar_entries_of(root: &Path, top: &str) -> Vec<TarEntry> {
    let mut entries = vec![tar_dir(&format!("{top}/"))];
    for (name, item) in tree_items(root) {
        let name = format!("{top}/{name}");
        entries.push(match item {
            Item::Dir => tar_dir(&format!("{name}/")),
            Item::Link(target) => tar_link(&name, &target),
            Item::File(data, mode) => TarEntry { mode, ..tar_file(&name, &data) },
        });
    }
    entries
}

/// [`tar_entries_of`] for zip files.
pub fn zip_entries_of(root: &Path, top: &str) -> Vec<ZipEntry> {
    let mut entries = vec![zip_dir(&format!("{top}/"))];
    for (name, item) in tree_items(root) {
        let name = format!("{top}/{name}");
        entries.push(match item {
            Item::Dir => zip_dir(&format!("{name}/")),
            Item::Link(target) => zip_link(&name, &target),
            Item::File(data, mode) => ZipEntry { mode: Some(0o100000 | mode), ..zip_file(&name, &data) },
        });
    }
    entries
}

enum Item {
    Dir,
    Link(String),
    File(Vec<u8>, u32),
}

fn tree_items(root: &Path) -> Vec<(String, Item)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(root).unwrap().to_str().unwrap().to_string();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                out.push((name, Item::Link(fs::read_link(&path).unwrap().to_str().unwrap().to_string())));
            } else if meta.is_dir() {
                out.push((name, Item::Dir));
                dirs.push(path);
            } else {
                out.push((name, Item::File(fs::read(&path).unwrap(), meta.permissions().mode() & 0o7777)));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

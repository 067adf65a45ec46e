//! `.zip` (the Windows archives), read here from PKWARE's APPNOTE layout: the end record, the central
//! directory (ZIP64 too), and each entry's local header. Only what the official archives use is
//! accepted: one disk, stored or deflate, no encryption.
//!
//! Every byte of the file must belong to exactly one entry, the central directory or the end records:
//! entries tile the file from offset 0 in order, so prefixed data, gaps, hidden local headers and
//! overlapping entries (the "overlap" zip bomb) are refused before anything is written. Local headers
//! must agree with the central directory, so tools that read a zip differently see the same files.
//! Inflating, the size cap and the CRC check are done while unpacking, so an entry inflating past its
//! declared size is stopped one byte past it.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::inflate::Inflate;
use super::{ArchiveError, Limits, MAX_LINK_TARGET, Tree, Unpacked};

const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const EOCD_SIGNATURE: u32 = 0x0605_4b50;
const ZIP64_EOCD_SIGNATURE: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const DESCRIPTOR_SIGNATURE: u32 = 0x0807_4b50;
/// Fixed sizes of the records, without their variable parts.
const EOCD_LEN: u64 = 22;
const ZIP64_LOCATOR_LEN: u64 = 20;
const ZIP64_EOCD_MIN_LEN: u64 = 56;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;
const MAX_COMMENT: u64 = u16::MAX as u64;
/// The extra field holding 64-bit sizes and offsets.
const ZIP64_EXTRA: u16 = 0x0001;
/// General-purpose flags: encrypted, and sizes in a data descriptor after the data.
const FLAG_ENCRYPTED: u16 = 1;
const FLAG_DESCRIPTOR: u16 = 1 << 3;
const STORED: u16 = 0;
const DEFLATED: u16 = 8;
/// "Version made by" hosts whose external attributes carry a Unix `st_mode` in their high half.
const HOST_UNIX: u8 = 3;
const DOS_DIRECTORY: u32 = 0x10;

// Unix file types in the high half of a zip entry's external attributes (`st_mode`).
const S_IFMT: u32 = 0o170000;
const S_IFSOCK: u32 = 0o140000;
const S_IFLNK: u32 = 0o120000;
const S_IFREG: u32 = 0o100000;
const S_IFBLK: u32 = 0o060000;
const S_IFDIR: u32 = 0o040000;
const S_IFCHR: u32 = 0o020000;
const S_IFIFO: u32 = 0o010000;

/// Unpacks the zip file `archive` into `dest`, an existing, empty directory private to the caller.
pub(crate) fn unpack_zip(archive: &Path, dest: &Path, limits: &Limits) -> Result<Unpacked, ArchiveError> {
    let file =
        File::open(archive).map_err(|source| ArchiveError::Io { action: "open", path: archive.into(), source })?;
    let mut zip = Zip { file: BufReader::with_capacity(64 << 10, file), path: archive };
    let directory = zip.directory(limits)?;
    let entries = zip.entries(&directory)?;
    zip.check_tiling(&entries, directory.offset)?;
    let mut tree = Tree::new(dest, limits);
    for entry in &entries {
        tree.count_entry()?;
        zip.unpack_entry(entry, &mut tree)?;
    }
    tree.finish()
}

/// Where the central directory is, from the end record (or its ZIP64 form).
struct Directory {
    offset: u64,
    size: u64,
    entries: u64,
}

/// One central-directory record, with its ZIP64 values applied.
struct Entry {
    name: Vec<u8>,
    flags: u16,
    method: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    /// Of its local header.
    offset: u64,
    unix_mode: Option<u32>,
    /// Where its data starts, and where its data (and data descriptor) end: from the local header.
    data_start: u64,
    end: u64,
}

struct Zip<'a> {
    file: BufReader<File>,
    path: &'a Path,
}

impl Zip<'_> {
    fn io_error(&self, source: io::Error) -> ArchiveError {
        ArchiveError::Io { action: "read", path: self.path.to_owned(), source }
    }

    /// `len` bytes at `offset`; running out of file is corruption, not an I/O failure.
    fn read_at(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, ArchiveError> {
        self.file.seek(SeekFrom::Start(offset)).map_err(|e| self.io_error(e))?;
        let mut bytes = vec![0; len];
        match self.file.read_exact(&mut bytes) {
            Ok(()) => Ok(bytes),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                Err(ArchiveError::corrupt(None, format!("the file ends inside a record at offset {offset}")))
            }
            Err(e) => Err(self.io_error(e)),
        }
    }

    /// Finds the end record, which must end the file exactly (a written archive ends with the record
    /// and its comment), and the ZIP64 end record when the plain one says to look for it.
    fn directory(&mut self, limits: &Limits) -> Result<Directory, ArchiveError> {
        let length = self.file.seek(SeekFrom::End(0)).map_err(|e| self.io_error(e))?;
        let window = length.min(EOCD_LEN + MAX_COMMENT);
        let tail = self.read_at(length - window, window as usize)?;
        let ends_here = |at: &usize| {
            let record = Fields(tail.get(*at..).unwrap_or_default());
            record.u32(0) == Some(EOCD_SIGNATURE)
                && record.u16(20).is_some_and(|comment| *at as u64 + EOCD_LEN + u64::from(comment) == window)
        };
        let Some(at) = (0..tail.len().saturating_sub(EOCD_LEN as usize - 1)).rev().find(ends_here) else {
            return Err(ArchiveError::corrupt(
                None,
                "no end-of-central-directory record at the end of the file (truncated, or data after it)",
            ));
        };
        let eocd_offset = length - window + at as u64;
        let record = Fields(tail.get(at..).unwrap_or_default());
        let field16 = |at| record.u16(at).unwrap_or(0);
        let field32 = |at| record.u32(at).unwrap_or(0);
        let (disk, directory_disk) = (field16(4), field16(6));
        let (on_disk, total) = (field16(8), field16(10));
        let (size, offset) = (field32(12), field32(16));
        let zip64 = total == u16::MAX || size == u32::MAX || offset == u32::MAX;
        let (directory, directory_end) = if zip64 {
            self.zip64_directory(eocd_offset)?
        } else {
            if disk != 0 || directory_disk != 0 || on_disk != total {
                return Err(spanned_disks());
            }
            (Directory { offset: u64::from(offset), size: u64::from(size), entries: u64::from(total) }, eocd_offset)
        };
        if directory.offset.checked_add(directory.size) != Some(directory_end) {
            return Err(ArchiveError::corrupt(None, "the central directory does not end where the end record begins"));
        }
        if directory.entries > limits.max_entries {
            let what = format!("has {} entries, more than the limit of {}", directory.entries, limits.max_entries);
            return Err(ArchiveError::too_large(None, what));
        }
        Ok(directory)
    }

    /// The ZIP64 end record, through its locator just before the plain end record; and where it begins
    /// (the central directory's end).
    fn zip64_directory(&mut self, eocd_offset: u64) -> Result<(Directory, u64), ArchiveError> {
        let missing = || ArchiveError::corrupt(None, "the end record asks for a ZIP64 record that is not there");
        let locator_offset = eocd_offset.checked_sub(ZIP64_LOCATOR_LEN).ok_or_else(missing)?;
        let locator = self.read_at(locator_offset, ZIP64_LOCATOR_LEN as usize)?;
        let locator = Fields(&locator);
        if locator.u32(0) != Some(ZIP64_LOCATOR_SIGNATURE) {
            return Err(missing());
        }
        if locator.u32(4) != Some(0) || locator.u32(16) != Some(1) {
            return Err(spanned_disks());
        }
        let record_offset = locator.u64(8).ok_or_else(missing)?;
        let record = self.read_at(record_offset, ZIP64_EOCD_MIN_LEN as usize)?;
        let record = Fields(&record);
        // The record's own size field counts what follows its first 12 bytes; it must end at the locator.
        let ends_at = record.u64(4).and_then(|size| size.checked_add(12)).and_then(|n| n.checked_add(record_offset));
        if record.u32(0) != Some(ZIP64_EOCD_SIGNATURE) || ends_at != Some(locator_offset) {
            return Err(missing());
        }
        if record.u32(16) != Some(0) || record.u32(20) != Some(0) || record.u64(24) != record.u64(32) {
            return Err(spanned_disks());
        }
        let directory = Directory {
            entries: record.u64(32).ok_or_else(missing)?,
            size: record.u64(40).ok_or_else(missing)?,
            offset: record.u64(48).ok_or_else(missing)?,
        };
        Ok((directory, record_offset))
    }

    /// Every central-directory record, each checked against its local header.
    fn entries(&mut self, directory: &Directory) -> Result<Vec<Entry>, ArchiveError> {
        let size = usize::try_from(directory.size)
            .map_err(|_| ArchiveError::too_large(None, "has a central directory too large for this host"))?;
        let bytes = self.read_at(directory.offset, size)?;
        let mut rest = bytes.as_slice();
        let mut entries = Vec::new();
        while !rest.is_empty() {
            // Checked before parsing on, so a directory full of tiny records cannot outgrow the cap.
            if entries.len() as u64 == directory.entries {
                return Err(ArchiveError::corrupt(
                    None,
                    "the central directory holds more records than the end record counts",
                ));
            }
            let (entry, after) = central_entry(rest)?;
            entries.push(entry);
            rest = after;
        }
        if entries.len() as u64 != directory.entries {
            let problem =
                format!("the end record counts {} entries, the directory holds {}", directory.entries, entries.len());
            return Err(ArchiveError::corrupt(None, problem));
        }
        for entry in &mut entries {
            self.read_local_header(entry)?;
        }
        Ok(entries)
    }

    /// Checks the local header against the central record and finds where the entry's data starts and
    /// ends (after its data descriptor, when it has one).
    fn read_local_header(&mut self, entry: &mut Entry) -> Result<(), ArchiveError> {
        let shown = super::shown(&entry.name);
        let disagree = |what: &str| {
            ArchiveError::corrupt(
                Some(&shown),
                format!("its local header disagrees with the central directory ({what})"),
            )
        };
        let header = self.read_at(entry.offset, LOCAL_LEN)?;
        let header = Fields(&header);
        if header.u32(0) != Some(LOCAL_SIGNATURE) {
            return Err(ArchiveError::corrupt(Some(&shown), format!("no local header at offset {}", entry.offset)));
        }
        let name_len = usize::from(header.u16(26).unwrap_or(0));
        let extra_len = usize::from(header.u16(28).unwrap_or(0));
        let too_far = || ArchiveError::corrupt(Some(&shown), "its data runs past the end of the file");
        let variable_at = entry.offset.checked_add(LOCAL_LEN as u64).ok_or_else(too_far)?;
        let variable = self.read_at(variable_at, name_len + extra_len)?;
        let (name, extra) = variable.split_at_checked(name_len).unwrap_or_default();
        if name != entry.name.as_slice() {
            return Err(disagree("name"));
        }
        if header.u16(6) != Some(entry.flags) || header.u16(8) != Some(entry.method) {
            return Err(disagree("flags or compression method"));
        }
        let (crc, compressed, size) = (header.u32(14), header.u32(18), header.u32(22));
        let deferred = entry.flags & FLAG_DESCRIPTOR != 0 && crc == Some(0) && compressed == Some(0) && size == Some(0);
        if !deferred {
            let zip64 = Fields(zip64_extra(extra).unwrap_or_default());
            let wide = |narrow: Option<u32>, at| match narrow {
                Some(u32::MAX) => zip64.u64(at),
                other => other.map(u64::from),
            };
            // In a local header, the ZIP64 field holds both sizes, uncompressed first.
            if crc != Some(entry.crc)
                || wide(size, 0) != Some(entry.size)
                || wide(compressed, 8) != Some(entry.compressed)
            {
                return Err(disagree("CRC or sizes"));
            }
        }
        entry.data_start = variable_at.checked_add(variable.len() as u64).ok_or_else(too_far)?;
        let data_end = entry.data_start.checked_add(entry.compressed).ok_or_else(too_far)?;
        entry.end = data_end;
        if entry.flags & FLAG_DESCRIPTOR != 0 {
            let descriptor = self.descriptor_len(entry, data_end)?;
            entry.end = data_end.checked_add(descriptor).ok_or_else(too_far)?;
        }
        Ok(())
    }

    /// The length of the data descriptor at `at`: an optional signature, the CRC, then both sizes in
    /// 4 or 8 bytes each. It must repeat the central directory's values.
    fn descriptor_len(&mut self, entry: &Entry, at: u64) -> Result<u64, ArchiveError> {
        let mut bytes = Vec::with_capacity(24);
        self.file.seek(SeekFrom::Start(at)).map_err(|e| self.io_error(e))?;
        (&mut self.file).take(24).read_to_end(&mut bytes).map_err(|e| self.io_error(e))?;
        let fields = Fields(&bytes);
        let skip = if fields.u32(0) == Some(DESCRIPTOR_SIGNATURE) { 4 } else { 0 };
        let narrow = fields.u32(skip) == Some(entry.crc)
            && fields.u32(skip + 4).map(u64::from) == Some(entry.compressed)
            && fields.u32(skip + 8).map(u64::from) == Some(entry.size);
        let wide = fields.u32(skip) == Some(entry.crc)
            && fields.u64(skip + 4) == Some(entry.compressed)
            && fields.u64(skip + 12) == Some(entry.size);
        match (narrow, wide) {
            (true, _) => Ok(skip as u64 + 12),
            (false, true) => Ok(skip as u64 + 20),
            (false, false) => Err(ArchiveError::corrupt(
                Some(&super::shown(&entry.name)),
                "its data descriptor disagrees with the central directory",
            )),
        }
    }

    /// Entries, in the order of their offsets, must cover the file from 0 to the central directory
    /// without a gap or an overlap.
    fn check_tiling(&self, entries: &[Entry], directory_offset: u64) -> Result<(), ArchiveError> {
        let mut order: Vec<&Entry> = entries.iter().collect();
        order.sort_by_key(|e| e.offset);
        let mut expected = 0;
        for entry in order {
            if entry.offset != expected {
                let problem = if entry.offset < expected {
                    "overlaps the entry before it"
                } else {
                    "follows data that belongs to no entry"
                };
                return Err(ArchiveError::corrupt(Some(&super::shown(&entry.name)), problem));
            }
            expected = entry.end;
        }
        if expected != directory_offset {
            let problem = if expected > directory_offset {
                "the last entry runs into the central directory"
            } else {
                "data that belongs to no entry lies before the central directory"
            };
            return Err(ArchiveError::corrupt(None, problem));
        }
        Ok(())
    }

    fn unpack_entry(&mut self, entry: &Entry, tree: &mut Tree<'_>) -> Result<(), ArchiveError> {
        let name = &entry.name;
        let shown = super::shown(name);
        if entry.flags & FLAG_ENCRYPTED != 0 {
            return Err(ArchiveError::Unsupported { entry: shown, what: "is encrypted".into() });
        }
        if entry.method != STORED && entry.method != DEFLATED {
            let what =
                format!("uses compression method {}; only stored (0) and deflate (8) are supported", entry.method);
            return Err(ArchiveError::Unsupported { entry: shown, what });
        }
        let kind = kind_of(name, entry.unix_mode);
        match kind {
            Kind::Forbidden(kind) => return Err(ArchiveError::ForbiddenType { entry: shown, kind: kind.into() }),
            Kind::Dir if entry.size != 0 => {
                return Err(ArchiveError::corrupt(Some(&shown), "a directory with data"));
            }
            Kind::Dir => return tree.add_dir(name),
            Kind::File(_) | Kind::Link => {}
        }
        self.file.seek(SeekFrom::Start(entry.data_start)).map_err(|e| self.io_error(e))?;
        let path = self.path;
        let raw = (&mut self.file).take(entry.compressed);
        let mut data = Checksummed::new(if entry.method == DEFLATED {
            Decoded::Deflated(Inflate::new(raw))
        } else {
            Decoded::Stored(raw)
        });
        let mut read_error = |e: io::Error| data_error(e, &shown, path);
        match kind {
            Kind::File(mode) => tree.add_file(name, mode, entry.size, &mut data, &mut read_error)?,
            _ => {
                if entry.size > MAX_LINK_TARGET {
                    let what =
                        format!("is a symlink whose target is {} bytes, more than {MAX_LINK_TARGET}", entry.size);
                    return Err(ArchiveError::too_large(Some(&shown), what));
                }
                let mut target = Vec::new();
                (&mut data).take(entry.size + 1).read_to_end(&mut target).map_err(&mut read_error)?;
                if target.len() as u64 != entry.size {
                    let problem = format!("symlink target of {} bytes, {} declared", target.len(), entry.size);
                    return Err(ArchiveError::corrupt(Some(&shown), problem));
                }
                check_stream(&data, entry, &shown)?;
                return tree.add_symlink(name, &target);
            }
        }
        check_stream(&data, entry, &shown)
    }
}

/// Parses the central-directory record at the start of `bytes`; returns it and what follows.
fn central_entry(bytes: &[u8]) -> Result<(Entry, &[u8]), ArchiveError> {
    let cut = || ArchiveError::corrupt(None, "the central directory ends inside a record");
    let fixed = Fields(bytes.get(..CENTRAL_LEN).ok_or_else(cut)?);
    let field16 = |at| fixed.u16(at).unwrap_or(0);
    let field32 = |at| fixed.u32(at).unwrap_or(0);
    if field32(0) != CENTRAL_SIGNATURE {
        return Err(ArchiveError::corrupt(None, "a central-directory record has a bad signature"));
    }
    let (name_len, extra_len, comment_len) =
        (usize::from(field16(28)), usize::from(field16(30)), usize::from(field16(32)));
    let total = CENTRAL_LEN + name_len + extra_len + comment_len;
    let record = bytes.get(..total).ok_or_else(cut)?;
    let name = record.get(CENTRAL_LEN..CENTRAL_LEN + name_len).unwrap_or_default().to_vec();
    let extra = record.get(CENTRAL_LEN + name_len..CENTRAL_LEN + name_len + extra_len).unwrap_or_default();

    // ZIP64 values appear only for the fields that overflowed, in this order.
    let zip64 = zip64_extra(extra).unwrap_or_default();
    let mut wide = Fields(zip64).u64s();
    let mut widen = |narrow: u32| -> Result<u64, ArchiveError> {
        if narrow != u32::MAX {
            return Ok(u64::from(narrow));
        }
        wide.next().ok_or_else(|| ArchiveError::corrupt(Some(&super::shown(&name)), "a ZIP64 size is missing"))
    };
    let size = widen(field32(24))?;
    let compressed = widen(field32(20))?;
    let offset = widen(field32(42))?;
    if field16(34) != 0 {
        return Err(spanned_disks());
    }

    let external = field32(38);
    let host = field16(4).to_be_bytes()[0];
    let unix_mode = match external >> 16 {
        mode if host == HOST_UNIX && mode != 0 => Some(mode),
        _ if external & DOS_DIRECTORY != 0 => Some(S_IFDIR | 0o755),
        _ => None,
    };
    let entry = Entry {
        flags: field16(8),
        method: field16(10),
        crc: field32(16),
        compressed,
        size,
        offset,
        unix_mode,
        data_start: 0,
        end: 0,
        name,
    };
    Ok((entry, bytes.get(total..).unwrap_or_default()))
}

/// The data of the ZIP64 extra field, if `extra` has one.
fn zip64_extra(mut extra: &[u8]) -> Option<&[u8]> {
    while extra.len() >= 4 {
        let fields = Fields(extra);
        let (id, len) = (fields.u16(0)?, usize::from(fields.u16(2)?));
        let data = extra.get(4..4 + len)?;
        if id == ZIP64_EXTRA {
            return Some(data);
        }
        extra = extra.get(4 + len..)?;
    }
    None
}

fn spanned_disks() -> ArchiveError {
    ArchiveError::Unsupported { entry: String::new(), what: "spans several disks".into() }
}

/// Little-endian fields of a record, read without ever indexing out of bounds.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn u16(&self, at: usize) -> Option<u16> {
        Some(u16::from_le_bytes(self.0.get(at..at + 2)?.try_into().ok()?))
    }

    fn u32(&self, at: usize) -> Option<u32> {
        Some(u32::from_le_bytes(self.0.get(at..at + 4)?.try_into().ok()?))
    }

    fn u64(&self, at: usize) -> Option<u64> {
        Some(u64::from_le_bytes(self.0.get(at..at + 8)?.try_into().ok()?))
    }

    fn u64s(self) -> impl Iterator<Item = u64> + 'a {
        self.0.chunks_exact(8).filter_map(|c| c.try_into().ok().map(u64::from_le_bytes))
    }
}

/// What an entry is, from its Unix mode when it has one, else from its name.
enum Kind {
    File(u32),
    Dir,
    Link,
    Forbidden(&'static str),
}

fn kind_of(name: &[u8], unix_mode: Option<u32>) -> Kind {
    let slash = name.ends_with(b"/");
    let mode = unix_mode.unwrap_or(0o644);
    match mode & S_IFMT {
        S_IFDIR => Kind::Dir,
        // Some writers mark directories only by the trailing slash.
        0 | S_IFREG if slash => Kind::Dir,
        0 | S_IFREG => Kind::File(mode),
        S_IFLNK => Kind::Link,
        S_IFCHR => Kind::Forbidden("character device"),
        S_IFBLK => Kind::Forbidden("block device"),
        S_IFIFO => Kind::Forbidden("FIFO"),
        S_IFSOCK => Kind::Forbidden("socket"),
        _ => Kind::Forbidden("special file of unknown type"),
    }
}

/// After the declared bytes came out: the CRC matches, and the deflate stream used all the entry's
/// compressed bytes.
fn check_stream<R: BufRead>(data: &Checksummed<Decoded<R>>, entry: &Entry, shown: &str) -> Result<(), ArchiveError> {
    let crc = data.crc.clone().finalize();
    if crc != entry.crc {
        let problem = format!("CRC-32 {crc:08x}, {:08x} declared", entry.crc);
        return Err(ArchiveError::corrupt(Some(shown), problem));
    }
    if let Decoded::Deflated(decoder) = &data.inner
        && decoder.total_in() != entry.compressed
    {
        let problem =
            format!("its deflate stream ends after {} of {} compressed bytes", decoder.total_in(), entry.compressed);
        return Err(ArchiveError::corrupt(Some(shown), problem));
    }
    Ok(())
}

/// An entry's bytes as stored in the zip file, inflated when compressed.
enum Decoded<R> {
    Stored(R),
    Deflated(Inflate<R>),
}

/// Bytes read through, with the CRC-32 of all of them.
struct Checksummed<R> {
    inner: R,
    crc: crc32fast::Hasher,
}

impl<R: Read> Checksummed<R> {
    fn new(inner: R) -> Self {
        Checksummed { inner, crc: crc32fast::Hasher::new() }
    }
}

impl<R: Read> Read for Checksummed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

impl<R: BufRead> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoded::Stored(r) => r.read(buf),
            Decoded::Deflated(r) => r.read(buf),
        }
    }
}

/// An error reading an entry's data: bad compressed data is the archive's fault; any other failure
/// comes from reading the local file.
fn data_error(e: io::Error, entry: &str, archive: &Path) -> ArchiveError {
    match e.kind() {
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
            ArchiveError::corrupt(Some(entry), e.to_string())
        }
        _ => ArchiveError::Io { action: "read", path: archive.to_owned(), source: e },
    }
}

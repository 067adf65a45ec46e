//! `.zip` (the Windows archives). The zip crate reads the central directory and finds each entry's data;
//! inflating, the size cap and the CRC check are done here, so an entry inflating past its declared
//! size is stopped one byte past it, whatever the crate would do.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use flate2::CrcReader;
use flate2::bufread::DeflateDecoder;
use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

use super::{ArchiveError, Limits, MAX_LINK_TARGET, Tree, Unpacked};

/// The end-of-central-directory record: its signature and its size without the comment.
const EOCD_SIGNATURE: [u8; 4] = *b"PK\x05\x06";
const EOCD_LEN: usize = 22;
const MAX_COMMENT: usize = u16::MAX as usize;

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
    let io_error = |action, source| ArchiveError::Io { action, path: archive.to_owned(), source };
    let mut file = File::open(archive).map_err(|e| io_error("open", e))?;
    check_tail(&mut file).map_err(|e| match e {
        Tail::Io(source) => io_error("read", source),
        Tail::Garbage => ArchiveError::corrupt(
            None,
            "no end-of-central-directory record at the end of the file (truncated, or data after it)",
        ),
    })?;
    let mut zip = ZipArchive::new(BufReader::new(file)).map_err(|e| zip_error(e, None, archive))?;
    if zip.offset() != 0 {
        return Err(ArchiveError::corrupt(None, format!("{} bytes of data before the first entry", zip.offset())));
    }
    // The crate keeps one entry per name; a name listed twice is only visible as this count.
    if zip.has_duplicate_names() {
        return Err(ArchiveError::Duplicate { entry: None });
    }
    // Local headers that disagree with the central directory, overlapping entries (the "overlap" zip
    // bomb) and local headers missing from it: tools that read a zip differently would see other files.
    zip.validate_header_consistency().map_err(|e| zip_error(e, None, archive))?;
    if zip.len() as u64 > limits.max_entries {
        let what = format!("has {} entries, more than the limit of {}", zip.len(), limits.max_entries);
        return Err(ArchiveError::too_large(None, what));
    }
    let mut tree = Tree::new(dest, limits);
    for index in 0..zip.len() {
        tree.count_entry()?;
        unpack_entry(&mut zip, index, &mut tree, archive)?;
    }
    tree.finish()
}

enum Tail {
    Io(io::Error),
    Garbage,
}

/// The zip crate searches backwards for the end record and accepts bytes after it; an archive as
/// written ends exactly with the record and its comment.
fn check_tail(file: &mut File) -> Result<(), Tail> {
    let length = file.seek(SeekFrom::End(0)).map_err(Tail::Io)?;
    let window = length.min((EOCD_LEN + MAX_COMMENT) as u64);
    file.seek(SeekFrom::Start(length - window)).map_err(Tail::Io)?;
    let mut tail = Vec::new();
    file.take(window).read_to_end(&mut tail).map_err(Tail::Io)?;
    file.seek(SeekFrom::Start(0)).map_err(Tail::Io)?;
    let ends_here = |at: usize| {
        let record = tail.get(at..at + EOCD_LEN);
        record.is_some_and(|r| {
            let comment = usize::from(u16::from_le_bytes([r[20], r[21]]));
            r.starts_with(&EOCD_SIGNATURE) && at + EOCD_LEN + comment == tail.len()
        })
    };
    if (0..tail.len().saturating_sub(EOCD_LEN - 1)).rev().any(ends_here) { Ok(()) } else { Err(Tail::Garbage) }
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

fn unpack_entry<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    index: usize,
    tree: &mut Tree<'_>,
    archive: &Path,
) -> Result<(), ArchiveError> {
    let raw = zip.by_index_raw(index).map_err(|e| zip_error(e, None, archive))?;
    let name = raw.name_raw().to_vec();
    let entry = super::shown(&name);
    if raw.encrypted() {
        return Err(ArchiveError::Unsupported { entry, what: "is encrypted".into() });
    }
    let (size, crc, compressed) = (raw.size(), raw.crc32(), raw.compressed_size());
    let kind = kind_of(&name, raw.unix_mode());
    let mut data = CrcReader::new(match raw.compression() {
        CompressionMethod::Stored => Decoded::Stored(raw),
        CompressionMethod::Deflated => Decoded::Deflated(DeflateDecoder::new(BufReader::new(raw))),
        other => {
            let what = format!("uses compression method {other}; only stored and deflate are supported");
            return Err(ArchiveError::Unsupported { entry, what });
        }
    });
    match kind {
        Kind::Forbidden(kind) => return Err(ArchiveError::ForbiddenType { entry, kind: kind.into() }),
        Kind::Dir if size != 0 => return Err(ArchiveError::corrupt(Some(&entry), "a directory with data")),
        Kind::Dir => return tree.add_dir(&name),
        Kind::File(mode) => tree.add_file(&name, mode, size, &mut data, &mut |e| data_error(e, &entry, archive))?,
        Kind::Link => {
            if size > MAX_LINK_TARGET {
                let what = format!("is a symlink whose target is {size} bytes, more than {MAX_LINK_TARGET}");
                return Err(ArchiveError::too_large(Some(&entry), what));
            }
            let mut target = Vec::new();
            (&mut data).take(size + 1).read_to_end(&mut target).map_err(|e| data_error(e, &entry, archive))?;
            if target.len() as u64 != size {
                let problem = format!("symlink target of {} bytes, {size} declared", target.len());
                return Err(ArchiveError::corrupt(Some(&entry), problem));
            }
            check_stream(&data, crc, compressed, &entry)?;
            return tree.add_symlink(&name, &target);
        }
    }
    check_stream(&data, crc, compressed, &entry)
}

/// After the declared bytes came out: the CRC matches, and the deflate stream used all the entry's
/// compressed bytes.
fn check_stream<R: Read>(
    data: &CrcReader<Decoded<R>>,
    crc: u32,
    compressed: u64,
    entry: &str,
) -> Result<(), ArchiveError> {
    if data.crc().sum() != crc {
        return Err(ArchiveError::corrupt(Some(entry), format!("CRC-32 {:08x}, {crc:08x} declared", data.crc().sum())));
    }
    if let Decoded::Deflated(decoder) = data.get_ref()
        && decoder.total_in() != compressed
    {
        let problem = format!("its deflate stream ends after {} of {compressed} compressed bytes", decoder.total_in());
        return Err(ArchiveError::corrupt(Some(entry), problem));
    }
    Ok(())
}

/// An entry's bytes as stored in the zip file, inflated when compressed.
enum Decoded<R> {
    Stored(R),
    Deflated(DeflateDecoder<BufReader<R>>),
}

impl<R: Read> Read for Decoded<R> {
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

fn zip_error(e: ZipError, entry: Option<&str>, archive: &Path) -> ArchiveError {
    match e {
        ZipError::Io(e) => match e.kind() {
            io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => ArchiveError::corrupt(entry, e.to_string()),
            _ => ArchiveError::Io { action: "read", path: archive.to_owned(), source: e },
        },
        other => ArchiveError::corrupt(entry, other.to_string()),
    }
}

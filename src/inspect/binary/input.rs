//! Positioned reads: the parsers ask for the few byte ranges they need, never for the whole file, and
//! every range is checked against the file's size before anything is allocated for it.

use std::cell::{Cell, OnceCell};
use std::fs::File;
use std::io;
use std::path::Path;

use super::BinaryError;

/// The largest single read (one table, one set of load commands). Anything that could be larger is
/// read in chunks of [`CHUNK`] or refused.
pub(super) const MAX_READ: usize = 1 << 20;
/// How much of a table of fixed-size entries is read at once.
pub(super) const CHUNK: usize = 64 * 1024;
/// The most bytes one parse may read in all: hostile counts and offsets cannot make it read more.
pub(super) const MAX_TOTAL_READ: u64 = 8 << 20;
/// The longest name accepted (SONAME, version name, install name, DLL name).
pub(super) const MAX_STRING: usize = 4096;
/// Most names are short: the first read of a string is this long, a second one goes to [`MAX_STRING`].
const FIRST_STRING_READ: usize = 128;
/// A table's first bytes are read in one go, up to this much: string and version tables of real
/// libraries fit, so their names and records cost no further reads.
const TABLE_HEAD: u64 = 16 * 1024;

/// A random-access byte source: a file on disk or a slice in memory.
pub(crate) trait ReadAt {
    fn len(&self) -> u64;
    /// Fills `buf` from `offset`. Callers only ask for ranges inside `len()`.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
}

impl ReadAt for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let source = usize::try_from(offset)
            .ok()
            .and_then(|start| self.get(start..start.checked_add(buf.len())?))
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(source);
        Ok(())
    }
}

/// An open file and its size, taken once when opened.
pub(crate) struct FileSource {
    file: File,
    len: u64,
}

impl FileSource {
    pub(crate) fn open(path: &Path) -> io::Result<FileSource> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(FileSource { file, len })
    }
}

impl ReadAt for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    #[cfg(unix)]
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset)
    }

    #[cfg(windows)]
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while done < buf.len() {
            let rest = buf.get_mut(done..).unwrap_or_default();
            let at = offset.checked_add(done as u64).ok_or(io::ErrorKind::InvalidInput)?;
            match self.file.seek_read(rest, at)? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => done += n,
            }
        }
        Ok(())
    }

    #[cfg(not(any(unix, windows)))]
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = &self.file;
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(buf)
    }
}

/// A window onto a source (the whole file, one slice of a fat Mach-O, one archive member), with a
/// read budget shared by every window of one parse.
#[derive(Clone, Copy)]
pub(super) struct Input<'a> {
    source: &'a dyn ReadAt,
    base: u64,
    len: u64,
    spent: &'a Cell<u64>,
}

impl<'a> Input<'a> {
    pub(super) fn new(source: &'a dyn ReadAt, spent: &'a Cell<u64>) -> Input<'a> {
        Input { source, base: 0, len: source.len(), spent }
    }

    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// The part `offset..offset + len`, which must lie inside this window.
    pub(super) fn window(&self, offset: u64, len: u64, what: &str) -> Result<Input<'a>, BinaryError> {
        self.check_range(offset, len, what)?;
        let base = self.base.checked_add(offset).ok_or_else(|| past_end(what, offset, len, self.len))?;
        Ok(Input { base, len, ..*self })
    }

    /// Exactly `len` bytes at `offset`, or an error saying that `what` runs past the end.
    pub(super) fn read(&self, offset: u64, len: usize, what: &str) -> Result<Vec<u8>, BinaryError> {
        if len > MAX_READ {
            return Err(BinaryError::Malformed(format!("{what} is {len} bytes, more than the {MAX_READ} accepted")));
        }
        self.check_range(offset, len as u64, what)?;
        let spent = self.spent.get().saturating_add(len as u64);
        if spent > MAX_TOTAL_READ {
            return Err(BinaryError::Malformed(format!(
                "reading {what} would take the headers past {} MiB; no real library needs that",
                MAX_TOTAL_READ >> 20
            )));
        }
        self.spent.set(spent);
        let mut buf = vec![0; len];
        let at = self.base.checked_add(offset).ok_or_else(|| past_end(what, offset, len as u64, self.len))?;
        self.source.read_exact_at(at, &mut buf).map_err(BinaryError::Io)?;
        Ok(buf)
    }

    /// Up to `max` bytes at `offset`: fewer at the end of the window, none past it.
    pub(super) fn read_up_to(&self, offset: u64, max: usize, what: &str) -> Result<Vec<u8>, BinaryError> {
        let available = self.len.saturating_sub(offset);
        let len = usize::try_from(available).map_or(max, |a| a.min(max));
        self.read(offset.min(self.len), len, what)
    }

    /// `N` bytes at `offset` as an array.
    pub(super) fn array<const N: usize>(&self, offset: u64, what: &str) -> Result<[u8; N], BinaryError> {
        let bytes = self.read(offset, N, what)?;
        bytes.try_into().map_err(|_| BinaryError::Malformed(format!("{what}: short read")))
    }

    /// Visits `count` entries of `entry_size` bytes from `offset` (a section or program header table,
    /// a dynamic table), reading [`CHUNK`] bytes at a time. `visit` returns false to stop early.
    pub(super) fn entries(
        &self,
        offset: u64,
        count: u64,
        entry_size: usize,
        what: &str,
        mut visit: impl FnMut(&[u8]) -> Result<bool, BinaryError>,
    ) -> Result<(), BinaryError> {
        if entry_size == 0 || entry_size > CHUNK {
            return Err(BinaryError::Malformed(format!("{what}: impossible entry size {entry_size}")));
        }
        let total = count
            .checked_mul(entry_size as u64)
            .ok_or_else(|| BinaryError::Malformed(format!("{what}: {count} entries of {entry_size} bytes")))?;
        self.check_range(offset, total, what)?;
        let per_chunk = (CHUNK / entry_size) as u64;
        let mut done = 0u64;
        while done < count {
            let n = per_chunk.min(count - done);
            // In range: `offset + total` was checked above and `done + n <= count`.
            let chunk = self.read(offset + done * entry_size as u64, (n as usize) * entry_size, what)?;
            for entry in chunk.chunks_exact(entry_size) {
                if !visit(entry)? {
                    return Ok(());
                }
            }
            done += n;
        }
        Ok(())
    }

    /// A NUL-terminated name at `offset` that must end before `limit` (the end of its string table)
    /// and within [`MAX_STRING`] bytes.
    pub(super) fn c_string(&self, offset: u64, limit: u64, what: &str) -> Result<String, BinaryError> {
        let limit = limit.min(self.len);
        if offset >= limit {
            return Err(BinaryError::Malformed(format!("{what}: name at offset {offset} is outside its table")));
        }
        let available = limit - offset;
        for want in [FIRST_STRING_READ, MAX_STRING + 1] {
            let len = usize::try_from(available).map_or(want, |a| a.min(want));
            let bytes = self.read(offset, len, what)?;
            if let Some(name) = name_before_nul(&bytes) {
                return Ok(name);
            }
            if len as u64 == available {
                return Err(BinaryError::Malformed(format!("{what}: name at offset {offset} is not terminated")));
            }
        }
        Err(BinaryError::Malformed(format!("{what}: name at offset {offset} is longer than {MAX_STRING} bytes")))
    }

    fn check_range(&self, offset: u64, len: u64, what: &str) -> Result<(), BinaryError> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(past_end(what, offset, len, self.len)),
        }
    }
}

/// A table inside the input (string table, version records, import names): records and names are
/// served from its first [`TABLE_HEAD`] bytes, read once, and read one by one beyond that.
pub(super) struct Table<'i, 'a> {
    input: &'i Input<'a>,
    start: u64,
    end: u64,
    what: &'static str,
    head: OnceCell<Vec<u8>>,
}

impl<'i, 'a> Table<'i, 'a> {
    /// The table at `start..end`; the caller has checked that the range lies inside `input`.
    pub(super) fn new(input: &'i Input<'a>, start: u64, end: u64, what: &'static str) -> Table<'i, 'a> {
        Table { input, start, end: end.max(start), what, head: OnceCell::new() }
    }

    pub(super) fn start(&self) -> u64 {
        self.start
    }

    fn head(&self) -> Result<&[u8], BinaryError> {
        if let Some(head) = self.head.get() {
            return Ok(head);
        }
        let len = (self.end - self.start).min(TABLE_HEAD) as usize;
        let bytes = self.input.read(self.start, len, self.what)?;
        Ok(self.head.get_or_init(|| bytes))
    }

    /// The head's bytes from `at` on, when `at` falls inside the head.
    fn in_head(&self, at: u64) -> Result<Option<&[u8]>, BinaryError> {
        let head = self.head()?;
        Ok(at.checked_sub(self.start).and_then(|i| head.get(usize::try_from(i).ok()?..)).filter(|r| !r.is_empty()))
    }

    /// `len` bytes at the absolute offset `at`, which must lie inside the table.
    pub(super) fn record(&self, at: u64, len: usize, what: &str) -> Result<Vec<u8>, BinaryError> {
        match at.checked_add(len as u64) {
            Some(end) if at >= self.start && end <= self.end => {}
            _ => return Err(BinaryError::Malformed(format!("{what} at offset {at} lies outside {}", self.what))),
        }
        match self.in_head(at)?.and_then(|rest| rest.get(..len)) {
            Some(bytes) => Ok(bytes.to_vec()),
            None => self.input.read(at, len, what),
        }
    }

    /// The NUL-terminated name at the absolute offset `at` inside the table.
    pub(super) fn c_string(&self, at: u64, what: &str) -> Result<String, BinaryError> {
        if at < self.start {
            return Err(BinaryError::Malformed(format!("{what} at offset {at} lies outside {}", self.what)));
        }
        if let Some(rest) = self.in_head(at)? {
            let window = rest.get(..MAX_STRING + 1).unwrap_or(rest);
            if let Some(name) = name_before_nul(window) {
                return Ok(name);
            }
        }
        // Past the head, or running past its end: the general reader decides.
        self.input.c_string(at, self.end, what)
    }
}

/// The text before the first NUL, if there is one (names are bytes; non-UTF-8 ones are shown lossily).
pub(super) fn name_before_nul(bytes: &[u8]) -> Option<String> {
    let nul = bytes.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(bytes.get(..nul)?).into_owned())
}

fn past_end(what: &str, offset: u64, len: u64, size: u64) -> BinaryError {
    BinaryError::Malformed(format!(
        "{what} ({len} bytes at offset {offset}) runs past the end of the data ({size} bytes); truncated?"
    ))
}

/// Byte order of a file's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Endian {
    Little,
    Big,
}

/// Fixed-size fields of one record, in the file's byte order. Out-of-range offsets are errors, so
/// a record shorter than its format says cannot cause a panic.
#[derive(Clone, Copy)]
pub(super) struct Fields<'b> {
    pub bytes: &'b [u8],
    pub endian: Endian,
}

impl Fields<'_> {
    fn take<const N: usize>(&self, at: usize) -> Result<[u8; N], BinaryError> {
        at.checked_add(N).and_then(|end| self.bytes.get(at..end)).and_then(|b| b.try_into().ok()).ok_or_else(|| {
            BinaryError::Malformed(format!("a record of {} bytes has no field at {at}", self.bytes.len()))
        })
    }

    pub(super) fn u16(&self, at: usize) -> Result<u16, BinaryError> {
        let b = self.take::<2>(at)?;
        Ok(match self.endian {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        })
    }

    pub(super) fn u32(&self, at: usize) -> Result<u32, BinaryError> {
        let b = self.take::<4>(at)?;
        Ok(match self.endian {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }

    pub(super) fn u64(&self, at: usize) -> Result<u64, BinaryError> {
        let b = self.take::<8>(at)?;
        Ok(match self.endian {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        })
    }

    /// An address-sized field: 8 bytes in 64-bit files, 4 in 32-bit ones.
    pub(super) fn word(&self, at: usize, wide: bool) -> Result<u64, BinaryError> {
        if wide { self.u64(at) } else { self.u32(at).map(u64::from) }
    }
}

//! A tar reader, front to back over any `io::Read`, one entry at a time, never holding more than one
//! entry's extended headers. Written to POSIX.1-2001 (ustar and pax) and GNU tar's format description.
//!
//! Understood: ustar names (`prefix/name`), GNU long names and long link targets (`L`, `K`), PAX
//! per-entry headers (`x`: `path`, `linkpath`, `size`), base-256 numbers (sizes past 8 GiB), octal
//! fields padded with spaces or NULs, and checksums summed as unsigned or signed bytes (both are
//! accepted, as GNU tar does: old Unix tars summed signed chars).
//!
//! Where readers disagree on what an archive holds, the archive is refused rather than read one way
//! (RUSTSEC-2026-0068 was such a disagreement): an entry named by both a long name and a PAX `path`,
//! two extended headers of one kind for one entry, duplicate PAX keys, a PAX global header (`g`) that
//! sets `path`, `linkpath` or `size` (whether those apply to later entries depends on the reader;
//! everything else in it, such as the commit id `git archive` writes, is parsed and ignored), and
//! extended headers not followed by their entry. Every entry's data takes the bytes its size says,
//! whatever its type (POSIX gives links and directories none; a writer that gives them some is read as
//! the `tar` crate and GNU tar read it: skipped). GNU sparse files, by typeflag `S` or by PAX
//! `GNU.sparse.*` records, are reported as [`Kind::Other`]`(b'S')`: their data is a map, not the file.

use std::io::{self, Read};

use super::shown;

/// A tar block: headers are one block, data is padded to whole blocks.
pub(super) const BLOCK: usize = 512;
/// Most bytes accepted in one GNU long name, long link target or PAX header's data. Real ones take a
/// few hundred bytes (Linux paths end at 4096).
pub(super) const MAX_EXTENDED: u64 = 64 << 10;

/// What an entry is, from its typeflag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// `0`, or NUL (pre-POSIX tars).
    File,
    /// `5`.
    Dir,
    /// `2`.
    Symlink,
    /// `1`: another name for an earlier entry.
    HardLink,
    /// Character and block devices (`3`, `4`), FIFOs (`6`), contiguous files (`7`), GNU sparse files
    /// (`S`), and every typeflag unknown here; with the typeflag.
    Other(u8),
}

/// One entry's header, with its extended headers applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Header {
    /// As stored: no `.`/`..` or slash handling (the extractor judges names).
    pub path: Vec<u8>,
    pub kind: Kind,
    /// Symlink and hardlink targets, as stored; empty when the header has none.
    pub link_target: Vec<u8>,
    /// The mode field, all of it (permission, setuid, setgid and sticky bits).
    pub mode: u32,
    /// Bytes of data after the header: the PAX `size` when there is one, else the header's.
    pub size: u64,
    /// The header's own size field; differs from `size` only when a PAX `size` says otherwise.
    pub header_size: u64,
}

/// How the archive ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum End {
    /// Two zero blocks, the end-of-archive marker.
    Marker,
    /// One zero block, then the end of the input. GNU tar accepts this with a warning.
    LoneZeroBlock,
}

/// Why the archive could not be read. `entry` names the entry concerned, as [`shown`] writes names,
/// when there is one.
#[derive(Debug)]
pub(super) enum TarError {
    /// The input failed; its error, unchanged.
    Read { entry: Option<String>, source: io::Error },
    /// The bytes are not a well-formed tar archive (truncated ones included).
    Malformed { entry: Option<String>, problem: String },
    /// An extended header past [`MAX_EXTENDED`].
    TooLong { entry: Option<String>, what: String },
}

impl std::fmt::Display for TarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (entry, what) = match self {
            TarError::Read { entry, source } => (entry, source.to_string()),
            TarError::Malformed { entry, problem } => (entry, problem.clone()),
            TarError::TooLong { entry, what } => (entry, what.clone()),
        };
        match entry {
            Some(entry) => write!(f, "tar entry `{entry}`: {what}"),
            None => f.write_str(&what),
        }
    }
}

fn malformed(entry: Option<&[u8]>, problem: impl Into<String>) -> TarError {
    TarError::Malformed { entry: entry.map(shown), problem: problem.into() }
}

/// Extended headers read so far for the next entry.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    /// The `x` header had been seen (even an empty one).
    pax: bool,
    pax_path: Option<Vec<u8>>,
    pax_link: Option<Vec<u8>>,
    pax_size: Option<u64>,
    sparse: bool,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.long_name.is_none() && self.long_link.is_none() && !self.pax
    }
}

/// Reads a tar stream: [`TarReader::next_header`] for each entry, [`TarReader::data`] for its bytes.
pub(super) struct TarReader<R> {
    inner: R,
    /// Offset in the tar stream of the next byte read: where each message says the problem is.
    offset: u64,
    /// The current entry's data not read yet, and the padding after it.
    data_left: u64,
    padding: u64,
    /// The current entry's name, for messages about its data.
    current: Vec<u8>,
    end: Option<End>,
}

impl<R: Read> TarReader<R> {
    pub(super) fn new(inner: R) -> Self {
        TarReader { inner, offset: 0, data_left: 0, padding: 0, current: Vec::new(), end: None }
    }

    /// The next entry's header, skipping whatever is left of the current entry's data; `None` at the
    /// end of the archive (then see [`TarReader::end`]).
    pub(super) fn next_header(&mut self) -> Result<Option<Header>, TarError> {
        if self.end.is_some() {
            return Ok(None);
        }
        let left = self.data_left.checked_add(self.padding).ok_or_else(|| self.overflow())?;
        let current = std::mem::take(&mut self.current);
        self.skip(left, &current)?;
        self.data_left = 0;
        self.padding = 0;
        let mut pending = Pending::default();
        loop {
            let at = self.offset;
            let mut block = [0u8; BLOCK];
            if !self.read_block(&mut block, pending.long_name.as_deref())? {
                let problem = if pending.is_empty() {
                    "the archive ends without its end-of-archive marker (two zero blocks)"
                } else {
                    "the archive ends after extended headers, before the entry they describe"
                };
                return Err(malformed(pending.long_name.as_deref(), problem));
            }
            if block.iter().all(|&b| b == 0) {
                if !pending.is_empty() {
                    let problem = format!("extended headers are followed by a zero block at byte {at}, not an entry");
                    return Err(malformed(pending.long_name.as_deref(), problem));
                }
                return self.finish_at_zero_block().map(|()| None);
            }
            let fields = Fields(&block);
            let name = pending.long_name.clone().unwrap_or_else(|| fields.path());
            check_sum(&fields).map_err(|p| malformed(Some(&name), format!("the header at byte {at} {p}")))?;
            let header_size = fields.number(SIZE).map_err(|p| malformed(Some(&name), format!("its size field {p}")))?;
            match fields.typeflag() {
                kind @ (b'L' | b'K' | b'x' | b'g') => {
                    let data = self.read_extended(kind, header_size, &name)?;
                    apply_extended(&mut pending, kind, data, &name)?;
                }
                _ => return self.start_entry(&fields, header_size, pending).map(Some),
            }
        }
    }

    /// A bounded reader over the current entry's data: ends after exactly its size, and fails (with
    /// `UnexpectedEof`) if the archive ends sooner.
    pub(super) fn data(&mut self) -> EntryData<'_, R> {
        EntryData { reader: self }
    }

    /// How the archive ended, once [`TarReader::next_header`] has returned `None`.
    pub(super) fn end(&self) -> Option<End> {
        self.end
    }

    /// The input, positioned after the end-of-archive marker (or at its end). The extractor reads on
    /// from its own handle instead (it lends the reader `&mut` to it).
    #[cfg(test)]
    pub(super) fn into_inner(self) -> R {
        self.inner
    }

    fn start_entry(&mut self, fields: &Fields<'_>, header_size: u64, pending: Pending) -> Result<Header, TarError> {
        if pending.long_name.is_some() && pending.pax_path.is_some() {
            let problem = "is named twice, by a GNU long name and by a PAX `path`";
            return Err(malformed(pending.long_name.as_deref(), problem));
        }
        if pending.long_link.is_some() && pending.pax_link.is_some() {
            let problem = "has two link targets, a GNU long link and a PAX `linkpath`";
            return Err(malformed(pending.long_name.as_deref(), problem));
        }
        let path = pending.long_name.or(pending.pax_path).unwrap_or_else(|| fields.path());
        let link_target = pending.long_link.or(pending.pax_link).unwrap_or_else(|| fields.text(LINKNAME).to_vec());
        let mode = fields
            .number(MODE)
            .and_then(|m| u32::try_from(m).map_err(|_| "does not fit 32 bits".to_string()))
            .map_err(|p| malformed(Some(&path), format!("its mode field {p}")))?;
        let kind = match fields.typeflag() {
            _ if pending.sparse => Kind::Other(b'S'),
            b'0' | 0 => Kind::File,
            b'1' => Kind::HardLink,
            b'2' => Kind::Symlink,
            b'5' => Kind::Dir,
            other => Kind::Other(other),
        };
        let size = pending.pax_size.unwrap_or(header_size);
        self.padding = padding(size).ok_or_else(|| malformed(Some(&path), format!("its size ({size}) overflows")))?;
        self.data_left = size;
        self.current = path.clone();
        Ok(Header { path, kind, link_target, mode, size, header_size })
    }

    /// The data of an `L`, `K`, `x` or `g` header, read whole (it is small), with its padding.
    fn read_extended(&mut self, kind: u8, size: u64, name: &[u8]) -> Result<Vec<u8>, TarError> {
        if size > MAX_EXTENDED {
            let what = format!(
                "has a `{}` extended header of {size} bytes, past the limit of {MAX_EXTENDED}",
                char::from(kind)
            );
            return Err(TarError::TooLong { entry: Some(shown(name)), what });
        }
        // At most MAX_EXTENDED: fits usize.
        let mut data = vec![0u8; size as usize];
        self.read_exact(&mut data, name)?;
        let pad = padding(size).ok_or_else(|| self.overflow())?;
        self.skip(pad, name)?;
        Ok(data)
    }

    /// After a first zero block: a second one ends the archive; so does the end of the input.
    fn finish_at_zero_block(&mut self) -> Result<(), TarError> {
        let at = self.offset;
        let mut block = [0u8; BLOCK];
        if !self.read_block(&mut block, None)? {
            self.end = Some(End::LoneZeroBlock);
        } else if block.iter().all(|&b| b == 0) {
            self.end = Some(End::Marker);
        } else {
            let problem = format!("a zero block is followed by a non-zero block at byte {at}");
            return Err(malformed(None, problem));
        }
        Ok(())
    }

    /// Fills `block`; `false` if the input ends before its first byte.
    fn read_block(&mut self, block: &mut [u8; BLOCK], entry: Option<&[u8]>) -> Result<bool, TarError> {
        let mut filled = 0;
        while filled < BLOCK {
            let n = self.read_some(block.get_mut(filled..).unwrap_or_default(), entry)?;
            if n == 0 {
                if filled == 0 {
                    return Ok(false);
                }
                let start = self.offset.saturating_sub(filled as u64);
                let problem = format!("the archive ends inside the header at byte {start}");
                return Err(malformed(entry, problem));
            }
            filled += n;
        }
        Ok(true)
    }

    fn read_exact(&mut self, buf: &mut [u8], entry: &[u8]) -> Result<(), TarError> {
        let mut filled = 0;
        while filled < buf.len() {
            let n = self.read_some(buf.get_mut(filled..).unwrap_or_default(), Some(entry))?;
            if n == 0 {
                return Err(malformed(Some(entry), format!("the archive ends inside it, at byte {}", self.offset)));
            }
            filled += n;
        }
        Ok(())
    }

    /// Reads and drops `n` bytes of `entry`'s data or padding.
    fn skip(&mut self, mut n: u64, entry: &[u8]) -> Result<(), TarError> {
        let mut scratch = [0u8; 8192];
        while n > 0 {
            let want = usize::try_from(n).unwrap_or(usize::MAX).min(scratch.len());
            let got = self.read_some(scratch.get_mut(..want).unwrap_or_default(), Some(entry))?;
            if got == 0 {
                return Err(malformed(Some(entry), format!("the archive ends inside it, at byte {}", self.offset)));
            }
            n = n.saturating_sub(got as u64);
        }
        Ok(())
    }

    fn read_some(&mut self, buf: &mut [u8], entry: Option<&[u8]>) -> Result<usize, TarError> {
        loop {
            match self.inner.read(buf) {
                Ok(n) => {
                    self.offset = self.offset.saturating_add(n as u64);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(TarError::Read { entry: entry.map(shown), source }),
            }
        }
    }

    fn overflow(&self) -> TarError {
        malformed(Some(&self.current), "its size overflows")
    }
}

/// The current entry's data; see [`TarReader::data`].
pub(super) struct EntryData<'a, R> {
    reader: &'a mut TarReader<R>,
}

impl<R: Read> Read for EntryData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let reader = &mut *self.reader;
        if reader.data_left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = usize::try_from(reader.data_left).unwrap_or(usize::MAX).min(buf.len());
        let n = reader.inner.read(buf.get_mut(..want).unwrap_or_default())?;
        if n == 0 {
            let message = format!("the tar stream ends {} bytes before the end of this entry", reader.data_left);
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, message));
        }
        reader.data_left = reader.data_left.saturating_sub(n as u64);
        reader.offset = reader.offset.saturating_add(n as u64);
        Ok(n)
    }
}

/// Zero bytes after `size` bytes of data, up to the next block; `None` if that overflows.
fn padding(size: u64) -> Option<u64> {
    let block = BLOCK as u64;
    Some(size.checked_next_multiple_of(block)? - size)
}

/// Takes the records of an extended header into `pending`.
fn apply_extended(pending: &mut Pending, kind: u8, data: Vec<u8>, name: &[u8]) -> Result<(), TarError> {
    let twice = |what: &str| malformed(Some(name), format!("has two {what} headers for one entry"));
    match kind {
        b'L' if pending.long_name.is_some() => Err(twice("GNU long name")),
        b'L' => {
            pending.long_name = Some(gnu_long_text(data));
            Ok(())
        }
        b'K' if pending.long_link.is_some() => Err(twice("GNU long link")),
        b'K' => {
            pending.long_link = Some(gnu_long_text(data));
            Ok(())
        }
        b'x' if pending.pax => Err(twice("PAX")),
        b'x' => {
            pending.pax = true;
            apply_pax(pending, &data).map_err(|p| malformed(Some(name), format!("its PAX header {p}")))
        }
        _ => check_global(&data).map_err(|p| malformed(Some(name), format!("the PAX global header {p}"))),
    }
}

/// A GNU long name is the name and a NUL. NULs at the end are dropped; one inside is kept, so the
/// name is never cut short (the extractor refuses it).
fn gnu_long_text(mut data: Vec<u8>) -> Vec<u8> {
    while data.last() == Some(&0) {
        data.pop();
    }
    data
}

fn apply_pax(pending: &mut Pending, data: &[u8]) -> Result<(), String> {
    for record in PaxRecords(data) {
        let PaxRecord { key, value } = record?;
        match key {
            b"path" => set_once(&mut pending.pax_path, non_empty(key, value)?.to_vec(), key)?,
            b"linkpath" => set_once(&mut pending.pax_link, non_empty(key, value)?.to_vec(), key)?,
            b"size" => set_once(&mut pending.pax_size, pax_decimal(value)?, key)?,
            _ if key.starts_with(b"GNU.sparse.") => pending.sparse = true,
            _ => {}
        }
    }
    Ok(())
}

fn check_global(data: &[u8]) -> Result<(), String> {
    for record in PaxRecords(data) {
        let key = record?.key;
        if matches!(key, b"path" | b"linkpath" | b"size") {
            return Err(format!("sets `{}`, which readers apply differently", shown(key)));
        }
    }
    Ok(())
}

fn set_once<T>(slot: &mut Option<T>, value: T, key: &[u8]) -> Result<(), String> {
    if slot.is_some() {
        return Err(format!("has two `{}` records", shown(key)));
    }
    *slot = Some(value);
    Ok(())
}

fn non_empty<'a>(key: &[u8], value: &'a [u8]) -> Result<&'a [u8], String> {
    if value.is_empty() {
        return Err(format!("has an empty `{}` record", shown(key)));
    }
    Ok(value)
}

fn pax_decimal(value: &[u8]) -> Result<u64, String> {
    let bad = || format!("has a `size` record that is not a 64-bit decimal number: `{}`", shown(value));
    if value.is_empty() {
        return Err(bad());
    }
    value
        .iter()
        .try_fold(0u64, |n, &b| {
            if !b.is_ascii_digit() {
                return None;
            }
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        })
        .ok_or_else(bad)
}

/// PAX records, `"<length> <key>=<value>\n"`, where the length counts the whole record. The value
/// may hold any byte, newlines and NULs included: only the length says where it ends.
struct PaxRecords<'a>(&'a [u8]);

struct PaxRecord<'a> {
    key: &'a [u8],
    value: &'a [u8],
}

impl<'a> Iterator for PaxRecords<'a> {
    type Item = Result<PaxRecord<'a>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let record = pax_record(self.0);
        // After a bad record, nothing more is read.
        self.0 = match &record {
            Ok((_, rest)) => rest,
            Err(_) => &[],
        };
        Some(record.map(|(record, _)| record))
    }
}

/// One record, and the bytes after it.
fn pax_record(data: &[u8]) -> Result<(PaxRecord<'_>, &[u8]), String> {
    let space = data.iter().take(20).position(|&b| b == b' ').ok_or("has a record without a length")?;
    let digits = data.get(..space).unwrap_or_default();
    let length = parse_decimal(digits).ok_or("has a record whose length is not a number")?;
    let length = usize::try_from(length).map_err(|_| "has a record longer than itself")?;
    if length > data.len() || length <= space + 1 {
        return Err(format!("has a record of {length} bytes where {} are left", data.len()));
    }
    let (record, rest) = data.split_at(length);
    let body = record.get(space + 1..length - 1).unwrap_or_default();
    if record.last() != Some(&b'\n') {
        return Err("has a record not ending in a newline".into());
    }
    let equals = body.iter().position(|&b| b == b'=').ok_or("has a record without `=`")?;
    let (key, value) = (body.get(..equals).unwrap_or_default(), body.get(equals + 1..).unwrap_or_default());
    if key.is_empty() {
        return Err("has a record with an empty key".into());
    }
    Ok((PaxRecord { key, value }, rest))
}

fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

// Header fields: (offset, length).
const NAME: (usize, usize) = (0, 100);
const MODE: (usize, usize) = (100, 8);
const SIZE: (usize, usize) = (124, 12);
const CHKSUM: (usize, usize) = (148, 8);
const TYPEFLAG: usize = 156;
const LINKNAME: (usize, usize) = (157, 100);
const MAGIC: (usize, usize) = (257, 6);
const PREFIX: (usize, usize) = (345, 155);

/// The fields of one header block.
struct Fields<'a>(&'a [u8; BLOCK]);

impl Fields<'_> {
    fn raw(&self, (at, len): (usize, usize)) -> &[u8] {
        self.0.get(at..at + len).unwrap_or_default()
    }

    /// A text field: up to its first NUL, or all of it.
    fn text(&self, field: (usize, usize)) -> &[u8] {
        let raw = self.raw(field);
        raw.split(|&b| b == 0).next().unwrap_or(raw)
    }

    fn typeflag(&self) -> u8 {
        self.0.get(TYPEFLAG).copied().unwrap_or(0)
    }

    /// The name; in a POSIX ustar header, `prefix/name` when the prefix is set. (GNU headers keep
    /// other fields where ustar has the prefix.)
    fn path(&self) -> Vec<u8> {
        let name = self.text(NAME);
        let prefix = self.text(PREFIX);
        if self.raw(MAGIC) != b"ustar\0" || prefix.is_empty() {
            return name.to_vec();
        }
        let mut path = Vec::with_capacity(prefix.len() + 1 + name.len());
        path.extend_from_slice(prefix);
        path.push(b'/');
        path.extend_from_slice(name);
        path
    }

    fn number(&self, field: (usize, usize)) -> Result<u64, String> {
        parse_number(self.raw(field))
    }
}

/// A numeric field: octal digits, optionally after spaces (and one NUL, from old tars whose previous
/// field overflowed), ending in spaces or NULs; all NULs, which GNU tar reads as zero; or base-256,
/// GNU's form for values octal cannot hold: a first byte of 0x80 (0xff would be negative), then the
/// value big-endian.
fn parse_number(field: &[u8]) -> Result<u64, String> {
    let not_a_number = || format!("is not a number: `{}`", shown(field));
    if field.iter().all(|&b| b == 0) {
        return Ok(0);
    }
    match field.first() {
        Some(0x80) => field.iter().skip(1).try_fold(0u64, |n, &b| n.checked_mul(256)?.checked_add(u64::from(b))),
        Some(0xff) => return Err("is negative (base-256)".into()),
        Some(b) if b & 0x80 != 0 => return Err(not_a_number()),
        _ => {
            let start = usize::from(field.first() == Some(&0));
            let field = field.get(start..).unwrap_or_default();
            let digits_at = field.iter().position(|&b| b != b' ').unwrap_or(field.len());
            let rest = field.get(digits_at..).unwrap_or_default();
            let digits_len = rest.iter().position(|b| !(b'0'..=b'7').contains(b)).unwrap_or(rest.len());
            let (digits, after) = rest.split_at(digits_len);
            if digits.is_empty() || after.iter().any(|&b| b != 0 && b != b' ') {
                return Err(not_a_number());
            }
            digits.iter().try_fold(0u64, |n, &b| n.checked_mul(8)?.checked_add(u64::from(b - b'0')))
        }
    }
    .ok_or_else(|| "does not fit 64 bits".to_string())
}

/// The stored checksum against the header's bytes, its own field counted as spaces; summed as unsigned
/// bytes (POSIX) or as signed ones (old Unix tars).
fn check_sum(fields: &Fields<'_>) -> Result<(), String> {
    let stored = fields.number(CHKSUM).map_err(|p| format!("has a checksum field that {p}"))?;
    let (at, len) = CHKSUM;
    let (mut unsigned, mut signed) = (0i64, 0i64);
    for (i, &b) in fields.0.iter().enumerate() {
        let b = if (at..at + len).contains(&i) { b' ' } else { b };
        unsigned += i64::from(b);
        signed += i64::from(b as i8);
    }
    if i64::try_from(stored).is_ok_and(|s| s == unsigned || s == signed) {
        return Ok(());
    }
    Err(format!("has a bad checksum (stored {stored}, computed {unsigned})"))
}

// The tests compare with GNU tar and use Unix file types.
#[cfg(all(test, unix))]
mod tests;

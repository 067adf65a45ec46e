//! `.tgz`: one gzip member holding a tar stream, read once, front to back, never buffered whole.
//!
//! The stream is layered `reader → Source → BufReader → Gunzip → Budgeted → TarReader`.
//! `Source` keeps the reader's own error so the caller can tell a broken download from a broken archive;
//! `Budgeted` bounds the bytes the tar reader may decompress between entries (padding, extended
//! headers, the data of entries that have none to write) and in all.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use super::gzip::Gunzip;
use super::tarfile::{End, Header, Kind, TarError, TarReader};
use super::{ArchiveError, Limits, Tree, Unpacked};

/// Decompressed bytes the tar reader may read between two entries: the previous entry's padding,
/// headers, PAX records and GNU long names. Real ones take a few hundred bytes.
const HEADER_ALLOWANCE: u64 = 1 << 20;
/// Per entry, on top of its data, in the budget for the whole stream: a header, padding, a short PAX
/// record or long name.
const ENTRY_OVERHEAD: u64 = 2048;

/// Unpacks a gzip-compressed tar stream into `dest`, an existing, empty directory private to the caller.
///
/// Official archives are one gzip member; anything after it (a second member, garbage) is refused, as is
/// a tar stream without its end-of-archive marker, so a download cut at a block boundary is caught here
/// too, not only by its checksum.
///
/// The input is a trait object, as is the tar reader's: every caller (the download, the fuzz entry
/// points) then shares one compiled copy of the whole stack, which every user compiles (issue 7). A
/// virtual call per read of 64 KiB or one tar block costs nothing measurable.
pub(crate) fn unpack_tar_gz(reader: &mut dyn Read, dest: &Path, limits: &Limits) -> Result<Unpacked, ArchiveError> {
    let state = Rc::new(StreamState::new(limits));
    let source = BufReader::with_capacity(64 << 10, Source { inner: reader, state: Rc::clone(&state) });
    let mut stream = Budgeted { inner: Gunzip::new(source), state: Rc::clone(&state) };
    let mut archive = TarReader::new(&mut stream as &mut dyn Read);
    let mut tree = Tree::new(dest, limits);
    loop {
        state.allow(HEADER_ALLOWANCE);
        let Some(header) = archive.next_header().map_err(|e| tar_error(e, &state))? else { break };
        unpack_entry(&mut tree, &header, &mut archive, &state)?;
    }
    if archive.end() == Some(End::LoneZeroBlock) {
        return Err(ArchiveError::corrupt(None, NO_END_MARKER));
    }
    drop(archive);
    check_end(stream, &state)?;
    tree.finish()
}

const NO_END_MARKER: &str = "the tar stream ends without its end-of-archive marker (two zero blocks)";

fn unpack_entry(
    tree: &mut Tree<'_>,
    header: &Header,
    archive: &mut TarReader<&mut dyn Read>,
    state: &StreamState,
) -> Result<(), ArchiveError> {
    tree.count_entry()?;
    let name = &header.path;
    let shown = super::shown(name);
    if header.kind == Kind::Other(b'S') {
        // Sparse entries carry their real size elsewhere; say what they are rather than "bad size".
        return Err(ArchiveError::ForbiddenType { entry: shown, kind: type_name(b'S') });
    }
    // A PAX `size` decides where the next header is; readers that do not follow it would see other
    // entries (RUSTSEC-2026-0068). An honest writer only uses PAX for sizes the header cannot hold.
    if header.size != header.header_size {
        let problem = format!("its PAX size ({}) disagrees with its header size ({})", header.size, header.header_size);
        return Err(ArchiveError::corrupt(Some(&shown), problem));
    }
    match header.kind {
        Kind::File => {
            state.allow(HEADER_ALLOWANCE.saturating_add(header.size));
            let data = &mut archive.data();
            tree.add_file(name, header.mode, header.size, data, &mut |e| state.error(e, Some(&shown)))
        }
        Kind::Dir => tree.add_dir(name),
        // No target at all is the empty target, which the link rules refuse.
        Kind::Symlink => tree.add_symlink(name, &header.link_target),
        Kind::HardLink => Err(ArchiveError::ForbiddenType { entry: shown, kind: "hardlink".into() }),
        Kind::Other(typeflag) => Err(ArchiveError::ForbiddenType { entry: shown, kind: type_name(typeflag) }),
    }
}

fn type_name(typeflag: u8) -> String {
    match typeflag {
        b'3' => "character device".into(),
        b'4' => "block device".into(),
        b'6' => "FIFO".into(),
        b'7' => "contiguous file".into(),
        b'S' => "GNU sparse file".into(),
        other => format!("tar entry of type {:?}", char::from(other)),
    }
}

/// The reader's error as the archive's: the input's failure or a cap reached (told by the stream
/// state), else corruption.
fn tar_error(e: TarError, state: &StreamState) -> ArchiveError {
    match e {
        TarError::Read { entry, source } => state.error(source, entry.as_deref()),
        TarError::Malformed { entry, problem } => ArchiveError::Corrupt { entry, problem },
        TarError::TooLong { entry, what } => ArchiveError::TooLarge { entry, what },
    }
}

/// After the end-of-archive marker: at most more zero padding (GNU tar pads to 10 KiB records); then
/// the gzip member ends, and the input with it.
fn check_end(
    mut stream: Budgeted<Gunzip<BufReader<Source<&mut dyn Read>>>>,
    state: &StreamState,
) -> Result<(), ArchiveError> {
    state.allow(HEADER_ALLOWANCE);
    let mut buf = [0u8; 8192];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(state.error(e, None)),
        };
        if buf.get(..n).unwrap_or_default().iter().any(|&b| b != 0) {
            return Err(ArchiveError::corrupt(None, "data after the tar end-of-archive marker"));
        }
    }
    let mut rest = stream.inner.into_inner();
    match rest.fill_buf() {
        Ok([]) => Ok(()),
        Ok(_) => Err(ArchiveError::corrupt(None, "data after the end of the gzip stream")),
        Err(e) => Err(state.error(e, None)),
    }
}

/// What the layers of one stream share, so an error can be told for what it is at the top.
struct StreamState {
    /// The input reader's own error, moved out unchanged by [`StreamState::error`].
    read_error: Cell<Option<io::Error>>,
    /// Decompressed bytes the tar reader may read before the next allowance.
    allowance: Cell<u64>,
    /// Decompressed bytes left for the whole stream.
    left: Cell<u64>,
    over: Cell<bool>,
    limits: Limits,
}

impl StreamState {
    fn new(limits: &Limits) -> Self {
        let left = limits
            .max_total_bytes
            .saturating_add(limits.max_entries.saturating_mul(ENTRY_OVERHEAD))
            .saturating_add(HEADER_ALLOWANCE);
        StreamState {
            read_error: Cell::new(None),
            allowance: Cell::new(0),
            left: Cell::new(left),
            over: Cell::new(false),
            limits: *limits,
        }
    }

    fn allow(&self, bytes: u64) {
        self.allowance.set(bytes);
    }

    /// Names what an error from any layer really is: the input's failure, a cap reached, or corruption.
    fn error(&self, e: io::Error, entry: Option<&str>) -> ArchiveError {
        if let Some(original) = self.read_error.take() {
            return ArchiveError::Read(original);
        }
        if self.over.get() {
            let what = format!(
                "decompresses past its limits ({} bytes of files; {HEADER_ALLOWANCE} bytes of headers per entry)",
                self.limits.max_total_bytes
            );
            return ArchiveError::too_large(entry, what);
        }
        let problem = match e.kind() {
            io::ErrorKind::UnexpectedEof => format!("truncated: {e}"),
            _ => e.to_string(),
        };
        ArchiveError::corrupt(entry, problem)
    }
}

/// The input reader, with its errors kept aside for [`StreamState::error`].
struct Source<R> {
    inner: R,
    state: Rc<StreamState>,
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.state.read_error.set(Some(e));
                    return Err(io::Error::other("the archive's reader failed"));
                }
                Ok(n) => return Ok(n),
            }
        }
    }
}

/// The decompressed stream, refusing to yield a byte past the allowance or the stream's budget.
struct Budgeted<R> {
    inner: R,
    state: Rc<StreamState>,
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let state = &self.state;
        let budget = state.allowance.get().min(state.left.get());
        // One byte more than the budget, to tell "exactly used up" from "more was coming".
        let want = usize::try_from(budget.saturating_add(1)).unwrap_or(usize::MAX).min(buf.len());
        let n = self.inner.read(buf.get_mut(..want).unwrap_or_default())?;
        let got = n as u64;
        if got > budget {
            state.over.set(true);
            return Err(io::Error::other("decompressed stream past its limit"));
        }
        state.allowance.set(state.allowance.get() - got);
        state.left.set(state.left.get() - got);
        Ok(n)
    }
}

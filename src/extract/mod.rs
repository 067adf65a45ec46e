//! Unpacking release archives (`.tgz`, `.zip`) under an allowlist: regular files, directories, and
//! symlinks whose target stays inside the archive. Anything else refuses the whole archive.
//!
//! Both formats feed one [`Tree`], which owns every rule, so a `.zip` can do nothing a `.tgz` may not.
//! Names are checked before anything is created. Files are created with `create_new` (`O_EXCL`), so an
//! existing path, and so a symlink, is never followed; symlinks are created last, after every file and
//! directory, and nothing may be placed under one, so nothing is ever written through a link
//! (RUSTSEC-2018-0002, RUSTSEC-2021-0080, RUSTSEC-2025-0168, RUSTSEC-2026-0067).

// Wired in by the cache, which unpacks into a private directory and publishes it by rename.

mod gzip;
mod inflate;
mod overlap;
mod tarfile;
mod tgz;
mod zipfile;

// The tests use Unix modes and symlinks.
#[cfg(all(test, unix))]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

pub(crate) use overlap::overlapped;
pub(crate) use tgz::unpack_tar_gz;
pub(crate) use zipfile::unpack_zip;

/// Default cap on the bytes of all files together. The largest official archives (CUDA builds)
/// unpack to 1–2 GB.
pub(crate) const DEFAULT_MAX_TOTAL_BYTES: u64 = 8 << 30;
/// Default cap on the number of entries (files, directories, symlinks). Official archives hold a few
/// hundred.
pub(crate) const DEFAULT_MAX_ENTRIES: u64 = 100_000;
/// Default cap on the bytes of one file.
pub(crate) const DEFAULT_MAX_ENTRY_BYTES: u64 = 4 << 30;

/// Longest symlink target accepted (Linux's `PATH_MAX`).
const MAX_LINK_TARGET: u64 = 4096;

/// What an archive may unpack to. Exceeding any cap refuses the archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    pub max_total_bytes: u64,
    pub max_entries: u64,
    pub max_entry_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            max_entries: DEFAULT_MAX_ENTRIES,
            max_entry_bytes: DEFAULT_MAX_ENTRY_BYTES,
        }
    }
}

/// What was unpacked. `dirs` counts every directory created, listed in the archive or implied by a path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Unpacked {
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    pub bytes: u64,
}

/// Why an archive was not unpacked. Everything except [`ArchiveError::Read`] and [`ArchiveError::Io`]
/// is a fault of the archive's content.
#[derive(Debug)]
pub(crate) enum ArchiveError {
    /// The reader handed to [`unpack_tar_gz`] failed; its error, unchanged (the fetch layer retries on it).
    Read(io::Error),
    /// A local I/O failure: creating or writing under `dest` (e.g. disk full), or reading the zip file.
    Io { action: &'static str, path: PathBuf, source: io::Error },
    /// An entry's name breaks a path rule (`..`, absolute, Windows forms, control characters, empty).
    UnsafePath { entry: String, rule: &'static str },
    /// A symlink whose target leaves the archive (or cannot be judged without following other links).
    EscapingLink { entry: String, target: String, rule: &'static str },
    /// An entry placed under a path the archive makes a symlink.
    ThroughLink { entry: String, link: String },
    /// Hardlinks, devices, FIFOs, sparse files and every other type but file, directory and symlink.
    ForbiddenType { entry: String, kind: String },
    /// The same path twice (after normalising `a/./b`, `a//b`), or one path both file and directory.
    /// `None` when no entry can be named.
    Duplicate { entry: Option<String> },
    /// Past a cap of [`Limits`], or past the size an entry declares.
    TooLarge { entry: Option<String>, what: String },
    /// Encryption, or a compression method other than stored and deflate.
    Unsupported { entry: String, what: String },
    /// Truncated, trailing garbage, bad checksums, corrupt deflate, malformed headers.
    Corrupt { entry: Option<String>, problem: String },
}

impl ArchiveError {
    /// A local I/O failure rather than a fault of the archive: retrying with more space or other
    /// permissions may succeed, fetching the archive again will not help.
    #[cfg(test)]
    pub(crate) fn is_io(&self) -> bool {
        matches!(self, ArchiveError::Io { .. })
    }

    fn corrupt(entry: Option<&str>, problem: impl Into<String>) -> Self {
        ArchiveError::Corrupt { entry: entry.map(str::to_string), problem: problem.into() }
    }

    fn too_large(entry: Option<&str>, what: impl Into<String>) -> Self {
        ArchiveError::TooLarge { entry: entry.map(str::to_string), what: what.into() }
    }
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArchiveError::Read(source) => write!(f, "reading the archive failed: {source}"),
            ArchiveError::Io { action, path, source } => write!(f, "could not {action} {}: {source}", path.display()),
            ArchiveError::UnsafePath { entry, rule } => write!(f, "entry `{entry}` {rule}"),
            ArchiveError::EscapingLink { entry, target, rule } => write!(f, "symlink `{entry}` -> `{target}` {rule}"),
            ArchiveError::ThroughLink { entry, link } => {
                write!(f, "entry `{entry}` would be written through the symlink `{link}`")
            }
            ArchiveError::ForbiddenType { entry, kind } => {
                write!(f, "entry `{entry}` is a {kind}; only files, directories and symlinks are allowed")
            }
            ArchiveError::Duplicate { entry: Some(entry) } => write!(f, "entry `{entry}` appears twice"),
            ArchiveError::Duplicate { entry: None } => write!(f, "the zip's central directory lists a name twice"),
            ArchiveError::TooLarge { entry: Some(entry), what } => write!(f, "entry `{entry}` {what}"),
            ArchiveError::TooLarge { entry: None, what } => write!(f, "the archive {what}"),
            ArchiveError::Unsupported { entry, what } => write!(f, "entry `{entry}` {what}"),
            ArchiveError::Corrupt { entry: Some(entry), problem } => {
                write!(f, "corrupt or truncated archive at entry `{entry}`: {problem}")
            }
            ArchiveError::Corrupt { entry: None, problem } => write!(f, "corrupt or truncated archive: {problem}"),
        }
    }
}

impl std::error::Error for ArchiveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ArchiveError::Read(source) | ArchiveError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// An entry name as it can be shown in a message: lossy UTF-8 with control characters escaped.
fn shown(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in String::from_utf8_lossy(raw).chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The components of an entry name, or the rule it breaks. `.` and empty components (`a//b`) are
/// dropped, so `a/./b` and `a//b` are the same path as `a/b`.
fn checked_path(raw: &[u8]) -> Result<Vec<&str>, &'static str> {
    let name = checked_text(raw)?;
    if name.starts_with('/') {
        return Err("is an absolute path");
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("contains a `..` component"),
            _ => {
                check_component(part)?;
                parts.push(part);
            }
        }
    }
    Ok(parts)
}

/// Rules shared by entry names and symlink targets.
fn checked_text(raw: &[u8]) -> Result<&str, &'static str> {
    let text = std::str::from_utf8(raw).map_err(|_| "is not UTF-8")?;
    if text.is_empty() {
        Err("is empty")
    } else if text.chars().any(char::is_control) {
        Err("contains a control character (NUL, newline, ...)")
    } else if text.contains('\\') {
        Err("contains a backslash (a Windows path separator)")
    } else {
        Ok(text)
    }
}

/// One path component, judged by what it would do on a Windows host too.
fn check_component(part: &str) -> Result<(), &'static str> {
    if part.contains(':') {
        return Err("contains `:` (a drive letter or an NTFS stream name)");
    }
    if part.contains(['<', '>', '"', '|', '?', '*']) {
        return Err("contains a character Windows does not allow in names");
    }
    if part.ends_with(['.', ' ']) {
        return Err("has a component ending in a dot or space (Windows drops it, so two names could meet)");
    }
    let stem = part.split('.').next().unwrap_or(part);
    let device = ["CON", "PRN", "AUX", "NUL"].iter().any(|d| stem.eq_ignore_ascii_case(d))
        || ["COM", "LPT"].iter().any(|d| {
            stem.len() == 4
                && stem.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(d))
                && stem.as_bytes().get(3).is_some_and(|c| (b'1'..=b'9').contains(c))
        });
    if device {
        return Err("has a component that is a Windows device name (CON, NUL, COM1, ...)");
    }
    Ok(())
}

/// Judges a symlink target lexically against the link's own directory. Leading `..` may climb up to the
/// archive root; after a name, `..` is refused, because the kernel would apply it to wherever that name
/// leads if it is itself a link, not to the name (`l -> ..` then `x -> l/../y` leaves the root).
fn check_link_target(link_parts: &[&str], raw_target: &[u8]) -> Result<(), &'static str> {
    let target = checked_text(raw_target)?;
    if target.starts_with('/') {
        return Err("points to an absolute path");
    }
    let mut depth = link_parts.len().saturating_sub(1);
    let mut named = false;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." if named => return Err("has `..` after a name (where it leads would depend on other links)"),
            ".." => depth = depth.checked_sub(1).ok_or("points outside the archive")?,
            _ => {
                check_component(part)?;
                named = true;
            }
        }
    }
    Ok(())
}

/// The mode a file gets: executable if the archive says anyone may execute it, else plain; never
/// setuid, setgid or sticky, and always readable.
fn file_mode(archive_mode: u32) -> u32 {
    if archive_mode & 0o111 != 0 { 0o755 } else { 0o644 }
}

const DIR_MODE: u32 = 0o755;

/// What a path inside `dest` holds so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    File,
    /// `listed`: the archive has an entry for it (an implied parent may still be listed once later).
    Dir {
        listed: bool,
    },
    Link,
}

/// The tree being unpacked into `dest`: checks each entry against every rule, then creates it.
struct Tree<'a> {
    dest: &'a Path,
    limits: &'a Limits,
    nodes: BTreeMap<String, Node>,
    /// (path, target), created by [`Tree::finish`] once every file and directory exists.
    links: Vec<(String, String)>,
    entries: u64,
    unpacked: Unpacked,
    buf: Vec<u8>,
}

impl<'a> Tree<'a> {
    fn new(dest: &'a Path, limits: &'a Limits) -> Self {
        Tree {
            dest,
            limits,
            nodes: BTreeMap::new(),
            links: Vec::new(),
            entries: 0,
            unpacked: Unpacked::default(),
            buf: vec![0; 64 << 10],
        }
    }

    /// Counts one archive entry of any kind against `max_entries`.
    fn count_entry(&mut self) -> Result<(), ArchiveError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(ArchiveError::too_large(None, format!("has more than {} entries", self.limits.max_entries)));
        }
        Ok(())
    }

    /// Checks an entry's name and makes its parent directories. Returns the normalised key, or `None` for
    /// a name that is the archive root itself (`./`).
    fn place(&mut self, raw: &[u8]) -> Result<Option<String>, ArchiveError> {
        let parts = checked_path(raw).map_err(|rule| ArchiveError::UnsafePath { entry: shown(raw), rule })?;
        let Some((_, parents)) = parts.split_last() else { return Ok(None) };
        let mut key = String::new();
        for part in parents {
            if !key.is_empty() {
                key.push('/');
            }
            key.push_str(part);
            match self.nodes.get(&key) {
                Some(Node::Dir { .. }) => {}
                Some(Node::Link) => return Err(ArchiveError::ThroughLink { entry: shown(raw), link: key }),
                Some(Node::File) => return Err(ArchiveError::Duplicate { entry: Some(key) }),
                None => {
                    self.make_dir(&key)?;
                    self.nodes.insert(key.clone(), Node::Dir { listed: false });
                }
            }
        }
        Ok(Some(parts.join("/")))
    }

    fn add_dir(&mut self, raw: &[u8]) -> Result<(), ArchiveError> {
        let Some(key) = self.place(raw)? else { return Ok(()) };
        match self.nodes.get(&key) {
            None => {
                self.make_dir(&key)?;
                self.nodes.insert(key, Node::Dir { listed: true });
                Ok(())
            }
            Some(Node::Dir { listed: false }) => {
                self.nodes.insert(key, Node::Dir { listed: true });
                Ok(())
            }
            Some(_) => Err(ArchiveError::Duplicate { entry: Some(key) }),
        }
    }

    /// Creates a file holding exactly `size` bytes of `data`. `read_error` turns a failure of `data`
    /// into the format's error (transport, corrupt stream, ...).
    fn add_file(
        &mut self,
        raw: &[u8],
        archive_mode: u32,
        size: u64,
        data: &mut dyn Read,
        read_error: &mut dyn FnMut(io::Error) -> ArchiveError,
    ) -> Result<(), ArchiveError> {
        let entry = shown(raw);
        if size > self.limits.max_entry_bytes {
            let what =
                format!("declares {size} bytes, past the per-file limit of {} bytes", self.limits.max_entry_bytes);
            return Err(ArchiveError::too_large(Some(&entry), what));
        }
        if self.unpacked.bytes.saturating_add(size) > self.limits.max_total_bytes {
            let what = format!("would take the archive past its limit of {} bytes", self.limits.max_total_bytes);
            return Err(ArchiveError::too_large(Some(&entry), what));
        }
        let key = self.place(raw)?.ok_or(ArchiveError::UnsafePath { entry: entry.clone(), rule: "names the root" })?;
        if self.nodes.contains_key(&key) {
            return Err(ArchiveError::Duplicate { entry: Some(key) });
        }
        self.nodes.insert(key.clone(), Node::File);
        let path = self.dest.join(&key);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(|e| create_error(&key, &path, e))?;
        self.write_contents(&entry, &path, size, data, &mut file, read_error)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::Permissions::from_mode(file_mode(archive_mode));
            file.set_permissions(mode).map_err(|source| ArchiveError::Io {
                action: "set the mode of",
                path,
                source,
            })?;
        }
        #[cfg(not(unix))]
        let _ = archive_mode;
        self.unpacked.files += 1;
        self.unpacked.bytes += size;
        Ok(())
    }

    /// Copies exactly `size` bytes. Reading stops one byte past `size`, so an entry that inflates past
    /// what it declares is refused without being inflated any further.
    fn write_contents(
        &mut self,
        entry: &str,
        path: &Path,
        size: u64,
        data: &mut dyn Read,
        out: &mut dyn Write,
        read_error: &mut dyn FnMut(io::Error) -> ArchiveError,
    ) -> Result<(), ArchiveError> {
        let mut capped = data.take(size.saturating_add(1));
        let mut written: u64 = 0;
        loop {
            let n = match capped.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(e)),
            };
            written = written.saturating_add(n as u64);
            if written > size {
                return Err(ArchiveError::too_large(
                    Some(entry),
                    format!("inflates past its declared size of {size} bytes"),
                ));
            }
            let chunk = self.buf.get(..n).unwrap_or_default();
            out.write_all(chunk).map_err(|source| ArchiveError::Io {
                action: "write",
                path: path.to_owned(),
                source,
            })?;
        }
        if written < size {
            return Err(ArchiveError::corrupt(Some(entry), format!("ends after {written} of its {size} bytes")));
        }
        Ok(())
    }

    /// Records a symlink; it is created by [`Tree::finish`].
    fn add_symlink(&mut self, raw: &[u8], raw_target: &[u8]) -> Result<(), ArchiveError> {
        let entry = shown(raw);
        let parts = checked_path(raw).map_err(|rule| ArchiveError::UnsafePath { entry: entry.clone(), rule })?;
        check_link_target(&parts, raw_target).map_err(|rule| ArchiveError::EscapingLink {
            entry: entry.clone(),
            target: shown(raw_target),
            rule,
        })?;
        let key = self.place(raw)?.ok_or(ArchiveError::UnsafePath { entry: entry.clone(), rule: "names the root" })?;
        match self.nodes.get(&key) {
            None => {}
            // Its directory was implied by an earlier entry: that entry sits under the link.
            Some(Node::Dir { listed: false }) => {
                let under = self.nodes.range(format!("{key}/")..).next().map(|(k, _)| k.clone());
                return Err(ArchiveError::ThroughLink { entry: under.unwrap_or(key.clone()), link: key });
            }
            Some(_) => return Err(ArchiveError::Duplicate { entry: Some(key) }),
        }
        self.nodes.insert(key.clone(), Node::Link);
        // checked_text accepted it above, so it is UTF-8.
        self.links.push((key, String::from_utf8_lossy(raw_target).into_owned()));
        Ok(())
    }

    /// Creates the symlinks, now that nothing more will be written.
    fn finish(mut self) -> Result<Unpacked, ArchiveError> {
        for (key, target) in std::mem::take(&mut self.links) {
            let path = self.dest.join(&key);
            self.make_link(&key, &target, &path)?;
            self.unpacked.symlinks += 1;
        }
        Ok(self.unpacked)
    }

    #[cfg(unix)]
    fn make_link(&self, key: &str, target: &str, path: &Path) -> Result<(), ArchiveError> {
        std::os::unix::fs::symlink(target, path).map_err(|e| create_error(key, path, e))
    }

    /// Without Unix symlinks (creating one needs a privilege on Windows), the link's name gets a copy
    /// of the file the chain ends at.
    #[cfg(not(unix))]
    fn make_link(&self, key: &str, target: &str, path: &Path) -> Result<(), ArchiveError> {
        let Some(file) = self.resolve(key, target) else {
            let what = "is a symlink to a directory or to nothing, which this host cannot create".to_string();
            return Err(ArchiveError::Unsupported { entry: key.to_string(), what });
        };
        let from_path = self.dest.join(file);
        let mut from = fs::File::open(&from_path).map_err(|source| ArchiveError::Io {
            action: "open",
            path: from_path,
            source,
        })?;
        let mut to =
            fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| create_error(key, path, e))?;
        io::copy(&mut from, &mut to).map_err(|source| ArchiveError::Io {
            action: "write",
            path: path.into(),
            source,
        })?;
        Ok(())
    }

    /// The file a symlink chain ends at, following links lexically through the archive's own entries.
    /// `None` for a chain that ends at a directory, at nothing, or loops. Needed only on hosts without
    /// symlinks, tested everywhere.
    #[cfg_attr(unix, allow(dead_code))]
    fn resolve(&self, link: &str, target: &str) -> Option<String> {
        let (mut link, mut target) = (link.to_string(), target.to_string());
        for _ in 0..=self.links.len() {
            let mut parts: Vec<&str> = link.split('/').collect();
            parts.pop();
            for part in target.split('/') {
                match part {
                    "" | "." => {}
                    ".." => {
                        parts.pop()?;
                    }
                    _ => parts.push(part),
                }
            }
            let key = parts.join("/");
            match self.nodes.get(&key)? {
                Node::File => return Some(key),
                Node::Dir { .. } => return None,
                Node::Link => {
                    let next = self.links.iter().find(|(k, _)| *k == key)?.1.clone();
                    (link, target) = (key, next);
                }
            }
        }
        None
    }

    fn make_dir(&mut self, key: &str) -> Result<(), ArchiveError> {
        let path = self.dest.join(key);
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
        builder.create(&path).map_err(|e| create_error(key, &path, e))?;
        // The umask may have taken bits away; the cache is shared, so set them exactly.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(DIR_MODE)).map_err(|source| ArchiveError::Io {
                action: "set the mode of",
                path,
                source,
            })?;
        }
        self.unpacked.dirs += 1;
        Ok(())
    }
}

/// `dest` is empty and private, so a path that already exists was put there by this archive: on a
/// case-insensitive filesystem, `A` and `a` are the same path twice.
fn create_error(key: &str, path: &Path, source: io::Error) -> ArchiveError {
    if source.kind() == io::ErrorKind::AlreadyExists {
        ArchiveError::Duplicate { entry: Some(key.to_string()) }
    } else {
        ArchiveError::Io { action: "create", path: path.to_owned(), source }
    }
}

/// Reads every header and all the data of an uncompressed tar stream, creating nothing: the tar reader
/// alone, for its fuzz target. Whether the stream was read to its end marker.
pub(crate) fn read_tar(mut input: &[u8]) -> bool {
    let mut reader = tarfile::TarReader::new(&mut input as &mut dyn Read);
    loop {
        match reader.next_header() {
            Ok(Some(_)) => {
                if io::copy(&mut reader.data(), &mut io::sink()).is_err() {
                    return false;
                }
            }
            Ok(None) => return reader.end() == Some(tarfile::End::Marker),
            Err(_) => return false,
        }
    }
}

/// How many names [`find_root`] lists at most.
const MAX_LISTED: usize = 20;

/// The archive's root after unpacking: `dest` itself when it holds `lib/`, else its single top folder
/// when that holds `lib/`. The folder's name is not checked: a GPU archive's top folder can differ from
/// the archive's file name (ort-facts.md). On failure, lists what was found (directories end in `/`).
pub(crate) fn find_root(dest: &Path) -> Result<PathBuf, Vec<String>> {
    if is_real_dir(&dest.join("lib")) {
        return Ok(dest.to_path_buf());
    }
    let top = listing(dest)?;
    match top.as_slice() {
        [(name, true)] => {
            let root = dest.join(name);
            if is_real_dir(&root.join("lib")) {
                return Ok(root);
            }
            let inside = listing(&root)?;
            if inside.is_empty() {
                return Err(vec![format!("{name}/ (empty)")]);
            }
            Err(shown_listing(inside.iter().map(|(n, dir)| (format!("{name}/{n}"), *dir))))
        }
        _ => Err(shown_listing(top.into_iter())),
    }
}

fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Names in `dir`, sorted, with whether each is a real directory.
fn listing(dir: &Path) -> Result<Vec<(String, bool)>, Vec<String>> {
    let entries = fs::read_dir(dir).map_err(|e| vec![format!("(cannot list {}: {e})", dir.display())])?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| vec![format!("(cannot list {}: {e})", dir.display())])?;
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        names.push((entry.file_name().to_string_lossy().into_owned(), is_dir));
    }
    names.sort();
    Ok(names)
}

fn shown_listing(names: impl ExactSizeIterator<Item = (String, bool)>) -> Vec<String> {
    let total = names.len();
    let mut shown: Vec<String> =
        names.take(MAX_LISTED).map(|(name, dir)| if dir { format!("{name}/") } else { name }).collect();
    if total > MAX_LISTED {
        shown.push(format!("... and {} more", total - MAX_LISTED));
    }
    shown
}

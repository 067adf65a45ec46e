//! The shared, content-addressed download cache.
//!
//! Layout: `<cache>/<sha256>/` holds `content/` (the unpacked archive) and `marker` (what was unpacked,
//! with every file's size). An entry is built in `<cache>/.tmp/` and renamed into place whole, marker
//! included, so a final name never shows a partial tree; an entry whose marker is missing, garbled, or
//! disagrees with the files is treated as absent and replaced. One lock file per artifact
//! (`<cache>/.locks/<sha256>.lock`, `File::lock`) keeps concurrent builds from downloading twice; the
//! kernel releases it when its holder dies.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::DownloadError;

const MARKER: &str = "marker";
const CONTENT: &str = "content";
const MARKER_HEADER: &str = "onnxruntime-provision cache entry v1";

/// The cache root.
#[derive(Clone, Debug)]
pub(crate) struct Cache {
    root: PathBuf,
}

/// A valid, published entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CacheEntry {
    /// `<cache>/<sha256>`.
    pub dir: PathBuf,
    /// The archive's root folder inside `content/`.
    pub root: PathBuf,
}

/// Held while an artifact is being fetched into the cache.
pub(crate) struct CacheLock {
    file: Option<File>,
}

impl CacheLock {
    /// False on a filesystem without locks, where other processes may be working on the same artifact.
    pub fn is_held(&self) -> bool {
        self.file.is_some()
    }
}

/// A private directory in `<cache>/.tmp/`, removed on drop unless published.
pub(crate) struct Staging {
    dir: PathBuf,
    published: bool,
}

impl Staging {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the archive is unpacked.
    pub fn content(&self) -> PathBuf {
        self.dir.join(CONTENT)
    }

    /// Empties `content/` for a fresh attempt (a retried download starts over).
    pub fn reset_content(&self) -> io::Result<()> {
        let content = self.content();
        match fs::remove_dir_all(&content) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        fs::create_dir(&content)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn cache_error(action: &str, path: &Path) -> impl FnOnce(io::Error) -> DownloadError {
    let action = action.to_string();
    let path = path.to_path_buf();
    move |source| DownloadError::Cache { action, path, source }
}

static STAGING_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Cache {
    pub fn new(root: PathBuf) -> Cache {
        Cache { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A valid entry for `sha256`, if one is published.
    pub fn lookup(&self, sha256: &str) -> Option<CacheEntry> {
        let dir = self.root.join(sha256);
        let text = fs::read_to_string(dir.join(MARKER)).ok()?;
        let marker = Marker::parse(&text)?;
        if marker.sha256 != sha256 || !marker.files_present(&dir.join(CONTENT)) {
            return None;
        }
        Some(CacheEntry { root: dir.join(CONTENT).join(&marker.root), dir })
    }

    /// Takes the per-artifact lock, saying so on stderr if another process holds it. A filesystem
    /// without locks does not block the build: the atomic publish keeps the cache sound, at worst two
    /// processes download the same file.
    pub fn lock(&self, sha256: &str, what: &str) -> Result<CacheLock, DownloadError> {
        let dir = self.root.join(".locks");
        fs::create_dir_all(&dir).map_err(cache_error("create the lock directory", &dir))?;
        let path = dir.join(format!("{sha256}.lock"));
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(cache_error("open the lock file", &path))?;
        let attempt = file.try_lock();
        settle_lock(file, attempt, &path, what)
    }

    /// Removes what dead processes left for this artifact. Call with the artifact's lock held.
    pub fn clear_leftovers(&self, sha256: &str) {
        let Ok(entries) = fs::read_dir(self.root.join(".tmp")) else { return };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(sha256) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }

    /// A fresh private directory for building the entry of `sha256`.
    pub fn staging(&self, sha256: &str) -> Result<Staging, DownloadError> {
        let tmp = self.root.join(".tmp");
        fs::create_dir_all(&tmp).map_err(cache_error("create", &tmp))?;
        let n = STAGING_COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = tmp.join(format!("{sha256}.{}.{n}", std::process::id()));
        fs::create_dir(&dir).map_err(cache_error("create", &dir))?;
        let staging = Staging { dir, published: false };
        fs::create_dir(staging.content()).map_err(cache_error("create", &staging.content()))?;
        Ok(staging)
    }

    /// Writes the marker into the staging directory and renames it to its final name, replacing an
    /// invalid entry if one is there.
    pub fn publish(
        &self,
        mut staging: Staging,
        sha256: &str,
        asset: &str,
        root: &Path,
    ) -> Result<CacheEntry, DownloadError> {
        let content = staging.content();
        let relative_root = root.strip_prefix(&content).unwrap_or(Path::new("")).to_path_buf();
        let marker = Marker::describe(sha256, asset, &relative_root, &content)
            .map_err(cache_error("list the unpacked files in", &content))?;
        let marker_path = staging.dir.join(MARKER);
        write_synced(&marker_path, marker.render().as_bytes()).map_err(cache_error("write", &marker_path))?;

        let final_dir = self.root.join(sha256);
        if let Some(entry) = self.lookup(sha256) {
            // Another process published it meanwhile (possible only without locks): keep theirs, which
            // builds may already be linking against; ours is dropped with the staging directory.
            return Ok(entry);
        }
        if fs::symlink_metadata(&final_dir).is_ok() {
            // A damaged entry (lookup refused it): move it aside, then remove it.
            let trash = staging.dir.with_extension("replaced");
            fs::rename(&final_dir, &trash).map_err(cache_error("move aside the damaged entry", &final_dir))?;
            let _ = fs::remove_dir_all(&trash);
        }
        fs::rename(&staging.dir, &final_dir).map_err(cache_error("publish", &final_dir))?;
        staging.published = true;
        sync_dir(&self.root);
        Ok(CacheEntry { root: final_dir.join(CONTENT).join(relative_root), dir: final_dir })
    }
}

/// What a first, non-blocking lock attempt means: held; wait for the holder; no locks on this filesystem
/// (go on without one, never hang); or a clear error at once. Apart from `lock` so that the unsupported
/// case, which no local Linux filesystem produces for `flock`, is tested directly.
fn settle_lock(
    file: File,
    attempt: Result<(), fs::TryLockError>,
    path: &Path,
    what: &str,
) -> Result<CacheLock, DownloadError> {
    match attempt {
        Ok(()) => Ok(CacheLock { file: Some(file) }),
        Err(fs::TryLockError::WouldBlock) => {
            eprintln!(
                "onnxruntime-provision: waiting for lock on {} ({what} is being downloaded by another build)",
                path.display()
            );
            file.lock().map_err(cache_error("lock", path))?;
            Ok(CacheLock { file: Some(file) })
        }
        Err(fs::TryLockError::Error(e)) if e.kind() == io::ErrorKind::Unsupported => Ok(CacheLock { file: None }),
        Err(fs::TryLockError::Error(e)) => Err(cache_error("lock", path)(e)),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut file = File::options().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes a rename durable where the platform allows it (best effort).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// What an entry holds: enough to notice a deleted or truncated file without hashing it again. Read
/// back, its text is borrowed from the marker file's (every warm probe reads one, unoptimised).
#[derive(Debug, PartialEq, Eq)]
struct Marker<'t> {
    sha256: Cow<'t, str>,
    asset: Cow<'t, str>,
    root: Cow<'t, Path>,
    /// Regular files as (relative path, size); symlinks as (relative path, None).
    files: Vec<(Cow<'t, str>, Option<u64>)>,
}

impl Marker<'_> {
    fn describe(sha256: &str, asset: &str, root: &Path, content: &Path) -> io::Result<Marker<'static>> {
        let mut files = Vec::new();
        walk(content, content, &mut files)?;
        files.sort();
        let files = files.into_iter().map(|(path, size)| (Cow::Owned(path), size)).collect();
        Ok(Marker {
            sha256: Cow::Owned(sha256.into()),
            asset: Cow::Owned(asset.into()),
            root: Cow::Owned(root.to_path_buf()),
            files,
        })
    }

    fn render(&self) -> String {
        let mut text =
            format!("{MARKER_HEADER}\nsha256 {}\nasset {}\nroot {}\n", self.sha256, self.asset, self.root.display());
        for (path, size) in &self.files {
            let _ = match size {
                Some(size) => writeln!(text, "file {size} {path}"),
                None => writeln!(text, "link {path}"),
            };
        }
        text.push_str("end\n");
        text
    }

    /// `None` for anything but a complete marker (an emptied or garbled one included).
    fn parse(text: &str) -> Option<Marker<'_>> {
        let mut lines = text.lines();
        if lines.next()? != MARKER_HEADER {
            return None;
        }
        let sha256 = Cow::Borrowed(lines.next()?.strip_prefix("sha256 ")?);
        let asset = Cow::Borrowed(lines.next()?.strip_prefix("asset ")?);
        let root = Cow::Borrowed(Path::new(lines.next()?.strip_prefix("root ")?));
        let mut files = Vec::new();
        for line in lines {
            if line == "end" {
                return Some(Marker { sha256, asset, root, files });
            }
            if let Some(rest) = line.strip_prefix("file ") {
                let (size, path) = rest.split_once(' ')?;
                files.push((Cow::Borrowed(path), Some(size.parse().ok()?)));
            } else {
                files.push((Cow::Borrowed(line.strip_prefix("link ")?), None));
            }
        }
        None // no `end`: cut short
    }

    fn files_present(&self, content: &Path) -> bool {
        // One buffer for every file's path.
        let mut path = PathBuf::new();
        !self.files.is_empty()
            && self.files.iter().all(|(name, size)| {
                path.as_mut_os_string().clear();
                path.push(content);
                path.push(name.as_ref());
                match (fs::symlink_metadata(&path), size) {
                    (Ok(meta), Some(size)) => meta.is_file() && meta.len() == *size,
                    (Ok(meta), None) => meta.file_type().is_symlink(),
                    (Err(_), _) => false,
                }
            })
    }
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Option<u64>)>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        let relative = path.strip_prefix(base).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        if kind.is_dir() {
            walk(base, &path, out)?;
        } else if kind.is_symlink() {
            out.push((relative, None));
        } else {
            out.push((relative, Some(entry.metadata()?.len())));
        }
    }
    Ok(())
}

/// The default cache root: the OS cache directory plus `onnxruntime-provision`. Build scripts run on
/// the host, so this follows the host's conventions.
pub(crate) fn default_root(vars: &crate::env::Vars<'_>) -> Option<PathBuf> {
    let base = if cfg!(windows) {
        vars.plain("LOCALAPPDATA").map(|v| v.path())
    } else if cfg!(target_os = "macos") {
        vars.plain("HOME").map(|v| v.path().join("Library").join("Caches"))
    } else {
        vars.plain("XDG_CACHE_HOME")
            .map(|v| v.path())
            .filter(|p| p.is_absolute())
            .or_else(|| vars.plain("HOME").map(|v| v.path().join(".cache")))
    };
    base.map(|b| b.join("onnxruntime-provision"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(content: &Path) -> PathBuf {
        let root = content.join("onnxruntime-linux-x64-1.22.0");
        fs::create_dir_all(root.join("lib")).unwrap();
        fs::write(root.join("lib/libonnxruntime.so.1.22.0"), b"not really a library").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("libonnxruntime.so.1.22.0", root.join("lib/libonnxruntime.so.1")).unwrap();
        fs::write(root.join("VERSION_NUMBER"), b"1.22.0\n").unwrap();
        root
    }

    const SHA: &str = "8344d55f93d5bc5021ce342db50f62079daf39aaafb5d311a451846228be49b3";

    #[test]
    fn publish_then_lookup_and_detect_damage() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("cache"));
        assert_eq!(cache.lookup(SHA), None);
        let staging = cache.staging(SHA).unwrap();
        let root = tree(&staging.content());
        let entry = cache.publish(staging, SHA, "onnxruntime-linux-x64-1.22.0.tgz", &root).unwrap();
        assert_eq!(entry.root, dir.path().join("cache").join(SHA).join("content/onnxruntime-linux-x64-1.22.0"));
        assert_eq!(cache.lookup(SHA), Some(entry.clone()));
        // Nothing left in .tmp.
        assert_eq!(fs::read_dir(cache.root().join(".tmp")).unwrap().count(), 0);

        // A truncated file is noticed.
        fs::write(entry.root.join("VERSION_NUMBER"), b"1").unwrap();
        assert_eq!(cache.lookup(SHA), None);
        fs::write(entry.root.join("VERSION_NUMBER"), b"1.22.0\n").unwrap();
        assert!(cache.lookup(SHA).is_some());

        // A deleted file is noticed.
        fs::remove_file(entry.root.join("lib/libonnxruntime.so.1.22.0")).unwrap();
        assert_eq!(cache.lookup(SHA), None);

        // A damaged entry is replaced by a new publish.
        let staging = cache.staging(SHA).unwrap();
        let root = tree(&staging.content());
        cache.publish(staging, SHA, "onnxruntime-linux-x64-1.22.0.tgz", &root).unwrap();
        assert!(cache.lookup(SHA).is_some());

        // An emptied or garbled marker makes the entry absent.
        let marker = cache.root().join(SHA).join(MARKER);
        let good = fs::read_to_string(&marker).unwrap();
        for bad in ["", "garbage", &good[..good.len() - 4], &good.replace("sha256 8", "sha256 9")] {
            fs::write(&marker, bad).unwrap();
            assert_eq!(cache.lookup(SHA), None, "marker {bad:?}");
        }
        fs::write(&marker, good).unwrap();
        assert!(cache.lookup(SHA).is_some());
    }

    #[test]
    fn a_valid_entry_published_meanwhile_is_kept_not_replaced() {
        // Without locks, two processes can both download; the second must not pull the first's entry
        // out from under builds already linking against it.
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("cache"));
        let first = cache.staging(SHA).unwrap();
        let root = tree(&first.content());
        let second = cache.staging(SHA).unwrap();
        tree(&second.content());
        let second_dir = second.dir().to_path_buf();
        let entry = cache.publish(first, SHA, "a.tgz", &root).unwrap();
        let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&fs::metadata(p).unwrap());
        let before = inode(&entry.root.join("VERSION_NUMBER"));
        let again = cache
            .publish(second, SHA, "a.tgz", &second_dir.join(CONTENT).join("onnxruntime-linux-x64-1.22.0"))
            .unwrap();
        assert_eq!(again, entry);
        assert_eq!(inode(&entry.root.join("VERSION_NUMBER")), before, "the first entry stays in place");
        assert!(!second_dir.exists(), "the second staging directory is removed");
    }

    #[test]
    fn staging_is_removed_unless_published() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        let staging = cache.staging(SHA).unwrap();
        let path = staging.dir().to_path_buf();
        tree(&staging.content());
        drop(staging);
        assert!(!path.exists());
    }

    #[test]
    fn leftovers_of_dead_processes_are_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        let left = cache.root().join(".tmp").join(format!("{SHA}.99999.0"));
        fs::create_dir_all(left.join("content")).unwrap();
        let other = cache.root().join(".tmp").join("0000.1.0");
        fs::create_dir_all(&other).unwrap();
        cache.clear_leftovers(SHA);
        assert!(!left.exists());
        assert!(other.exists());
    }

    #[test]
    fn a_filesystem_without_locks_proceeds_and_a_lock_failure_fails_fast() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let started = std::time::Instant::now();
        // EOPNOTSUPP / ENOSYS from flock: proceed without a lock (the atomic publish keeps the cache sound).
        let unsupported = Err(fs::TryLockError::Error(io::Error::from(io::ErrorKind::Unsupported)));
        let lock = settle_lock(File::create(&path).unwrap(), unsupported, &path, "x").unwrap();
        assert!(lock.file.is_none());
        // ENOLCK (an NFS mount without its lock daemon): an error naming the lock file, at once.
        let no_locks = Err(fs::TryLockError::Error(io::Error::other("No locks available")));
        let err = settle_lock(File::create(&path).unwrap(), no_locks, &path, "x").err().unwrap();
        assert!(matches!(&err, DownloadError::Cache { path: p, .. } if *p == path), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "never waits");
    }

    #[test]
    fn a_second_locker_waits_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        let first = cache.lock(SHA, "x").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let cache2 = cache.clone();
        let waiter = std::thread::spawn(move || {
            let _second = cache2.lock(SHA, "x").unwrap();
            tx.send(()).unwrap();
        });
        assert!(rx.recv_timeout(std::time::Duration::from_millis(300)).is_err(), "the second lock must wait");
        drop(first);
        rx.recv_timeout(std::time::Duration::from_secs(10)).expect("the second lock is granted once released");
        waiter.join().unwrap();
    }
}

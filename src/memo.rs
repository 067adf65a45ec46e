//! Small files a build script keeps in `OUT_DIR` between its runs (cargo keeps that directory), so a
//! rerun caused by some unrelated input need not repeat work whose own inputs did not change.
//!
//! A memo is written under a temporary name and renamed, so a reader never sees half of one; one that
//! cannot be written or read only costs the next run the work again. Each user keys its entries by
//! what the work depended on, and checks the key before trusting an entry. Above that, a memo is used
//! only by the build-script executable that wrote it ([`writer`]): one rebuilt because its own code or
//! this crate's changed starts afresh, even where the crate's version did not (a path dependency).

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

/// The memo `name` in `out_dir`, if there is a readable one written by this executable.
pub(crate) fn read(out_dir: &Path, name: &str) -> Option<String> {
    let text = fs::read_to_string(out_dir.join(name)).ok()?;
    let (first, rest) = text.split_once('\n')?;
    (first == writer()?).then(|| rest.to_string())
}

/// Replaces the memo `name` in `out_dir` with `text`; failing is not an error (see the module doc).
pub(crate) fn write(out_dir: &Path, name: &str, text: &str) {
    let Some(writer) = writer() else { return };
    let temp = out_dir.join(format!(".{name}.{}", std::process::id()));
    let written = fs::write(&temp, format!("{writer}\n{text}"));
    if written.and_then(|()| fs::rename(&temp, out_dir.join(name))).is_err() {
        let _ = fs::remove_file(&temp);
    }
}

/// A memo's first line: this crate's version and the identity of the running executable (its size and
/// modification time where there are no inodes). `None`, and no memos, when the executable cannot be
/// looked at.
fn writer() -> Option<&'static str> {
    static WRITER: OnceLock<Option<String>> = OnceLock::new();
    WRITER
        .get_or_init(|| {
            // Linux names the running executable's own file in /proc, with no path to read first.
            let meta = match cfg!(target_os = "linux").then(|| fs::metadata("/proc/self/exe")) {
                Some(Ok(meta)) => meta,
                _ => fs::metadata(std::env::current_exe().ok()?).ok()?,
            };
            let exe = identity(&meta).or_else(|| Some(format!("{} {:?}", meta.len(), meta.modified().ok()?)))?;
            Some(format!("onnxruntime-provision {} memo, written by {exe}", env!("CARGO_PKG_VERSION")))
        })
        .as_deref()
}

/// A file's identity for keying what was read from it: device, inode, size, and modification and
/// status-change times in nanoseconds. Any write or rename over the file changes one of them: the
/// status-change time cannot be set back, unlike the modification time (`touch -d`, `tar` and `cp -p`
/// restore that one). What is read from a file that changed less than [`SETTLE_SECS`] ago is not
/// remembered: a second change within the file system's clock tick could leave every field the same.
/// `None` where std gives no inode (Windows).
pub(crate) fn identity(meta: &fs::Metadata) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let nanos = |secs: i64, nsec: i64| i128::from(secs) * 1_000_000_000 + i128::from(nsec);
        Some(format!(
            "{} {} {} {} {}",
            meta.dev(),
            meta.ino(),
            meta.len(),
            nanos(meta.mtime(), meta.mtime_nsec()),
            nanos(meta.ctime(), meta.ctime_nsec()),
        ))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// How long a file must have been left alone before what was read from it is remembered (see
/// [`identity`]). Two seconds covers the coarsest timestamps in use (FAT's) with room to spare.
pub(crate) const SETTLE_SECS: i64 = 2;

/// Has the file of `meta` been left alone for [`SETTLE_SECS`]? Judged by its status-change time
/// against the clock now; a clock that reads earlier than the file's times says no.
pub(crate) fn settled(meta: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) else { return false };
        let changed = i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec());
        let now = i128::try_from(now.as_nanos()).unwrap_or(i128::MAX);
        now.saturating_sub(changed) >= i128::from(SETTLE_SECS) * 1_000_000_000
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memo_is_read_back_only_by_the_executable_that_wrote_it() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "m", "key\nvalue\n");
        assert_eq!(read(dir.path(), "m").as_deref(), Some("key\nvalue\n"));
        let text = fs::read_to_string(dir.path().join("m")).unwrap();
        assert!(text.starts_with(&format!("onnxruntime-provision {} memo, written by ", env!("CARGO_PKG_VERSION"))));
        // Another build of the build script (another identity) wrote it: not used.
        let (first, rest) = text.split_once('\n').unwrap();
        let other = format!("{first}0");
        fs::write(dir.path().join("m"), format!("{other}\n{rest}")).unwrap();
        assert_eq!(read(dir.path(), "m"), None);
        assert_eq!(read(dir.path(), "absent"), None);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }
}

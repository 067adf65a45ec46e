//! `file://` URLs: a mirror folder on disk or a network share (`ONNXRUNTIME_MIRROR=file:///…`). The file
//! streams through the same hashing reader as a download; one attempt, no retries.

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;

use super::body::Body;
use super::{Failed, Problem, Progress, Streamed};

pub(super) fn fetch<T, E>(
    url: &str,
    progress: Option<&dyn Progress>,
    limit: Option<u64>,
    consume: &mut dyn FnMut(&mut dyn Read) -> Result<T, E>,
) -> Result<Streamed<T>, Failed<E>> {
    let path =
        path_from_url(url).map_err(|reason| Failed::Problem(Problem::Transport { cause: reason, transient: false }))?;
    let local_file = |source: io::Error| Problem::LocalFile { path: path.clone(), source };
    let file = File::open(&path).map_err(|e| Failed::Problem(local_file(e)))?;
    let metadata = file.metadata().map_err(|e| Failed::Problem(local_file(e)))?;
    if !metadata.is_file() {
        let not_a_file = io::Error::new(io::ErrorKind::InvalidInput, "not a regular file");
        return Err(Failed::Problem(local_file(not_a_file)));
    }
    if let Some(progress) = progress {
        progress.started(url, Some(metadata.len()));
    }
    let mut body = Body::new(file, Some(metadata.len()), progress, None, limit, &local_file);
    let consumed = consume(&mut body);
    body.finish(consumed, None)
}

/// The local path of a `file://` URL: `file:///abs/path` or `file://localhost/abs/path`, with
/// percent-escapes decoded (`%20` is a space). Query and fragment are ignored.
pub(super) fn path_from_url(url: &str) -> Result<PathBuf, String> {
    let rest = url
        .get(..7)
        .filter(|scheme| scheme.eq_ignore_ascii_case("file://"))
        .and_then(|_| url.get(7..))
        .ok_or_else(|| format!("{url} is not a file:// URL"))?;
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (host, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    if !(host.is_empty() || host.eq_ignore_ascii_case("localhost")) {
        return Err(format!(
            "file URLs naming another host ({host}) are not supported; write file:///absolute/path (three slashes)"
        ));
    }
    if path.len() <= 1 {
        return Err(format!("{url} names no file"));
    }
    let bytes = percent_decode(path).ok_or_else(|| format!("{url} has a malformed %-escape"))?;
    if bytes.contains(&0) {
        return Err(format!("{url} has a NUL byte in its path"));
    }
    native_path(bytes).ok_or_else(|| format!("{url} does not decode to a usable path"))
}

#[cfg(unix)]
fn native_path(bytes: Vec<u8>) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
}

#[cfg(windows)]
fn native_path(bytes: Vec<u8>) -> Option<PathBuf> {
    // `file:///C:/dir/x.zip` → `C:\dir\x.zip`.
    let text = String::from_utf8(bytes).ok()?;
    let has_drive = text.as_bytes().get(2) == Some(&b':');
    let text = if has_drive { text.get(1..)? } else { text.as_str() };
    Some(PathBuf::from(text.replace('/', "\\")))
}

#[cfg(not(any(unix, windows)))]
fn native_path(bytes: Vec<u8>) -> Option<PathBuf> {
    String::from_utf8(bytes).ok().map(PathBuf::from)
}

/// Decodes `%XX` escapes; `None` for a `%` not followed by two hex digits.
fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            let high = char::from(bytes.next()?).to_digit(16)?;
            let low = char::from(bytes.next()?).to_digit(16)?;
            out.push(u8::try_from(high * 16 + low).ok()?);
        } else {
            out.push(byte);
        }
    }
    Some(out)
}

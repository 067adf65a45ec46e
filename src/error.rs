//! Errors that read as a fix-it guide: what was searched, what was found there, and the exact
//! variable or command that fixes it. `Debug` prints the same text, so `.unwrap()` in a build script
//! shows the guide rather than a struct dump.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::sources::SourceKind;
use crate::version::{Version, VersionReq};

/// Why a probe failed.
#[non_exhaustive]
pub enum Error {
    /// A builder setting or variable could not be understood.
    InvalidSetting { setting: String, value: String, reason: String, fix: String },
    /// A variable is set, but the place it names does not hold a usable ONNX Runtime. Never a silent
    /// fall-through to the next source: the user asked for this location.
    BadVariable { variable: String, value: PathBuf, verdict: Verdict, report: Box<Report> },
    /// Every source was tried and none gave an acceptable library.
    NotFound(Box<Report>),
    /// The download source failed in a way that needs the user's attention.
    Download { error: DownloadError, report: Box<Report> },
    /// A file operation of this crate failed (staging, writing the cache).
    Io { action: String, path: PathBuf, source: io::Error },
}

/// What a probe searched and what it thought of each place: the body of most errors.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Report {
    pub target: String,
    pub host: String,
    /// The request, in words: `ONNX Runtime 1.22 (cpu, dynamic link)`.
    pub request: String,
    pub sources: Vec<SourceKind>,
    pub attempts: Vec<Attempt>,
    /// Variables that were set and shaped the search, as `(name, value)`.
    pub variables: Vec<(String, String)>,
}

/// One place a source looked at, and the verdict on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub source: SourceKind,
    /// What was looked at: a path, `pkg-config libonnxruntime`, a URL.
    pub location: String,
    pub verdict: Verdict,
}

/// The verdict on one candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    Accepted {
        version: Version,
        evidence: String,
    },
    /// Nothing there (no directory, no library file, no `.pc`).
    NotFound {
        detail: String,
    },
    /// A library built for another CPU or OS.
    WrongArch {
        file: PathBuf,
        found: String,
        expected: String,
    },
    /// A library of a release the requirement excludes.
    WrongVersion {
        found: Version,
        required: VersionReq,
        evidence: String,
    },
    /// The release could not be told and the requirement is not `*`.
    UnknownVersion {
        required: VersionReq,
        looked_at: String,
    },
    /// Present but unusable: unreadable, truncated, not a library, half an install.
    Unusable {
        detail: String,
    },
    /// The source was not consulted (offline, turned off, not applicable to this target).
    Skipped {
        reason: String,
    },
    /// Not in the cache; a build would download this archive (surveys only).
    WouldDownload {
        url: String,
        sha256: String,
    },
    /// The download source failed; the error itself is in [`Error::Download`] when it ends the probe.
    Failed {
        detail: String,
    },
}

impl Verdict {
    pub fn is_accepted(&self) -> bool {
        matches!(self, Verdict::Accepted { .. })
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Accepted { version, evidence } => write!(f, "accepted: ONNX Runtime {version} (from {evidence})"),
            Verdict::NotFound { detail } => write!(f, "not found: {detail}"),
            Verdict::WrongArch { file, found, expected } => {
                write!(f, "wrong architecture: {} is {found}, the target needs {expected}", file.display())
            }
            Verdict::WrongVersion { found, required, evidence } => {
                write!(f, "wrong version: {found} (from {evidence}) does not satisfy `{required}`")
            }
            Verdict::UnknownVersion { required, looked_at } => write!(
                f,
                "unknown release: none of {looked_at} tells which ONNX Runtime release this is (required: `{required}`)"
            ),
            Verdict::Unusable { detail } => write!(f, "unusable: {detail}"),
            Verdict::Skipped { reason } => write!(f, "skipped: {reason}"),
            Verdict::WouldDownload { url, sha256 } => {
                write!(f, "not cached: a build would download {url} (sha256 {sha256})")
            }
            Verdict::Failed { detail } => write!(f, "failed: {detail}"),
        }
    }
}

/// What went wrong in the download source.
#[derive(Debug)]
#[non_exhaustive]
pub enum DownloadError {
    /// No official archive exists for this target at all.
    UnsupportedTarget { target: String, supported: Vec<String> },
    /// The manifests have no archive for this version × platform × variant.
    NoArtifact { required: VersionReq, platform: String, variant: String, available: Vec<String> },
    /// A manifest given through `ONNXRUNTIME_MANIFEST` (or the builder) is malformed or unreadable
    /// (`line` 0: the file as a whole).
    Manifest { path: PathBuf, line: usize, reason: String },
    /// Offline, and the archive is not in the cache.
    Offline { asset: String, version: Version, cache_dir: PathBuf, switch: String },
    /// The server answered with an error status.
    Http { url: String, status: u16, attempts: u32 },
    /// The connection failed or broke (resets, refused, DNS, bad redirects).
    Transport { url: String, attempts: u32, cause: String },
    /// A timeout fired; `which` says which one (connect, read, stalled transfer).
    Timeout { url: String, which: String, after: Duration, attempts: u32 },
    /// The TLS handshake failed (unknown issuer, expired or wrong-host certificate).
    Tls { url: String, cause: String },
    /// A proxy variable could not be used.
    Proxy { variable: String, value: String, reason: String },
    /// The mirror setting (`ONNXRUNTIME_MIRROR`, possibly target-suffixed, or `Config::mirror`) is not a usable URL.
    Mirror { setting: String, value: String, reason: String },
    /// A download setting (`ONNXRUNTIME_HTTP_TIMEOUT`, `ONNXRUNTIME_CA_BUNDLE`, `SSL_CERT_FILE`) cannot be used.
    Setting { variable: String, value: String, reason: String },
    /// A `file://` URL names a file that cannot be read (the local counterpart of HTTP 404).
    LocalFile { url: String, path: PathBuf, source: io::Error },
    /// The bytes received do not have the pinned SHA-256.
    ChecksumMismatch { url: String, expected: String, actual: String, bytes: u64, content_type: Option<String> },
    /// More bytes were announced or sent than the manifest's size for the archive (or the unpacking
    /// cap): not the pinned file, and not worth reading to the end to prove it.
    TooLarge { url: String, limit: u64, announced: Option<u64> },
    /// The archive broke a rule of the extraction allowlist, or is corrupt.
    Archive { asset: String, problem: String },
    /// The archive unpacked, but it does not look like an ONNX Runtime release.
    Layout { asset: String, found: Vec<String> },
    /// Reading or writing the cache failed.
    Cache { action: String, path: PathBuf, source: io::Error },
}

impl fmt::Display for DownloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownloadError::UnsupportedTarget { target, supported } => write!(
                f,
                "Microsoft publishes no ONNX Runtime archive for {target}; official archives exist for: {}",
                supported.join(", ")
            ),
            DownloadError::NoArtifact { required, platform, variant, available } => {
                write!(f, "no known archive of ONNX Runtime `{required}` for {platform} ({variant})")?;
                if available.is_empty() {
                    write!(f, "; the manifests list no release for {platform}")
                } else {
                    write!(f, "; known releases for {platform}: {}", available.join(", "))
                }
            }
            // Line 0: the file as a whole (missing, unreadable).
            DownloadError::Manifest { path, line: 0, reason } => write!(f, "manifest {}: {reason}", path.display()),
            DownloadError::Manifest { path, line, reason } => {
                write!(f, "manifest {}:{line}: {reason}", path.display())
            }
            DownloadError::Offline { asset, version, cache_dir, switch } => write!(
                f,
                "offline ({switch}) and {asset} (ONNX Runtime {version}) is not in the cache {}",
                cache_dir.display()
            ),
            DownloadError::Http { url, status, attempts } => {
                write!(f, "{url} answered HTTP {status} ({attempts} attempt{})", plural(*attempts))
            }
            DownloadError::Transport { url, attempts, cause } => {
                write!(f, "could not download {url} ({attempts} attempt{}): {cause}", plural(*attempts))
            }
            DownloadError::Timeout { url, which, after, attempts } => write!(
                f,
                "{which} timeout after {:.1} s while downloading {url} ({attempts} attempt{})",
                after.as_secs_f64(),
                plural(*attempts)
            ),
            DownloadError::Tls { url, cause } => write!(f, "TLS failed for {url}: {cause}"),
            DownloadError::Proxy { variable, value, reason } => {
                write!(f, "{variable}={value} cannot be used as a proxy: {reason}")
            }
            DownloadError::Mirror { setting, value, reason } => write!(f, "{setting}={value}: {reason}"),
            DownloadError::Setting { variable, value, reason } => {
                write!(f, "{variable}={value} cannot be used: {reason}")
            }
            DownloadError::LocalFile { url, path, source } => {
                write!(f, "could not read {} (from {url}): {source}", path.display())
            }
            DownloadError::ChecksumMismatch { url, expected, actual, bytes, content_type } => {
                write!(
                    f,
                    "checksum mismatch for {url}\n    expected sha256 {expected}\n    received sha256 {actual} ({bytes} bytes)"
                )?;
                match content_type {
                    Some(kind) if kind.starts_with("text/html") => write!(
                        f,
                        "\n    the server sent a web page ({kind}), not an archive: a login portal or a proxy's error page?"
                    ),
                    _ => Ok(()),
                }
            }
            DownloadError::TooLarge { url, limit, announced } => {
                write!(f, "{url} is not the pinned file: ")?;
                match announced {
                    Some(n) => write!(f, "the server announces {n} bytes, "),
                    None => write!(f, "the body grew past "),
                }?;
                write!(f, "where {limit} bytes are expected; the transfer was stopped and nothing was kept")
            }
            DownloadError::Archive { asset, problem } => write!(f, "refused archive {asset}: {problem}"),
            DownloadError::Layout { asset, found } => write!(
                f,
                "layout not recognised in {asset}: expected one top folder with lib/ holding the ONNX Runtime library; found: {}",
                if found.is_empty() { "nothing".to_string() } else { found.join(", ") }
            ),
            DownloadError::Cache { action, path, source } => {
                write!(f, "could not {action} {}: {source}", path.display())
            }
        }
    }
}

impl DownloadError {
    /// The lines of advice that follow this error.
    fn hints(&self) -> Vec<String> {
        match self {
            DownloadError::UnsupportedTarget { .. } => vec![
                "build ONNX Runtime for this target yourself and set ONNXRUNTIME_DIR to the install root".into(),
                "or describe your own archive in a private manifest and set ONNXRUNTIME_MANIFEST and ONNXRUNTIME_MIRROR"
                    .into(),
            ],
            DownloadError::NoArtifact { .. } => vec![
                "ask for a listed release (ONNXRUNTIME_VERSION, or `.version(..)` in build.rs)".into(),
                "or add the release to a private manifest (`cargo onnxruntime manifest add <version> <archive>...`) and set ONNXRUNTIME_MANIFEST".into(),
            ],
            DownloadError::Manifest { .. } => {
                vec!["each line is: version platform variant asset sha256 size source (`#` starts a comment)".into()]
            }
            DownloadError::Offline { .. } => vec![
                "on a connected machine run `cargo onnxruntime fetch` with the same --target and --version, then copy its cache and set ONNXRUNTIME_CACHE_DIR".into(),
                "or serve a mirror folder (`cargo onnxruntime fetch --mirror-dir DIR`) and set ONNXRUNTIME_MIRROR=file:///path/to/DIR".into(),
                "or point ONNXRUNTIME_DIR at an installed ONNX Runtime".into(),
            ],
            DownloadError::Http { status, .. } if (400..500).contains(status) => vec![
                "if GitHub is blocked here, set ONNXRUNTIME_MIRROR to a mirror (https://, http:// or file://) holding v<version>/<asset>".into(),
                "or prefetch elsewhere with `cargo onnxruntime fetch` and set ONNXRUNTIME_CACHE_DIR / ONNXRUNTIME_OFFLINE=1".into(),
                "or point ONNXRUNTIME_DIR at an installed ONNX Runtime".into(),
            ],
            DownloadError::Http { .. } | DownloadError::Transport { .. } | DownloadError::Timeout { .. } => vec![
                "behind a proxy, set HTTPS_PROXY (NO_PROXY for exceptions); a slow link can raise ONNXRUNTIME_HTTP_TIMEOUT (seconds)".into(),
                "or set ONNXRUNTIME_MIRROR to a reachable mirror, or prefetch with `cargo onnxruntime fetch` and set ONNXRUNTIME_CACHE_DIR".into(),
            ],
            DownloadError::Tls { .. } => vec![
                "a TLS-inspecting proxy's CA must be trusted: set ONNXRUNTIME_CA_BUNDLE (or SSL_CERT_FILE) to its PEM file".into(),
            ],
            DownloadError::Proxy { variable, .. } => {
                vec![format!("fix or unset {variable}; it should look like http://host:port or socks5://host:port")]
            }
            DownloadError::Setting { variable, .. } => vec![format!("fix or unset {variable}")],
            DownloadError::LocalFile { .. } => vec![
                "a file:// mirror must hold v<version>/<asset>; fill it with `cargo onnxruntime fetch --mirror-dir DIR`".into(),
            ],
            DownloadError::Mirror { .. } => vec![
                "ONNXRUNTIME_MIRROR is the base URL that holds v<version>/<asset>: https://…, http://… or file:///abs/path".into(),
            ],
            DownloadError::ChecksumMismatch { .. } | DownloadError::TooLarge { .. } => vec![
                "the file was changed or damaged in transit; nothing was kept. If a mirror serves it, refresh the mirror from the official release".into(),
            ],
            DownloadError::Archive { .. } | DownloadError::Layout { .. } => {
                vec!["nothing was unpacked into the cache; check the mirror's copy against the official release".into()]
            }
            DownloadError::Cache { .. } => {
                vec!["check the permissions and free space of the cache, or set ONNXRUNTIME_CACHE_DIR elsewhere".into()]
            }
        }
    }
}

impl std::error::Error for DownloadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DownloadError::Cache { source, .. } | DownloadError::LocalFile { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl Error {
    /// The report of what was searched, when the error has one.
    pub fn report(&self) -> Option<&Report> {
        match self {
            Error::BadVariable { report, .. } | Error::Download { report, .. } | Error::NotFound(report) => {
                Some(report)
            }
            _ => None,
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            Error::InvalidSetting { fix, .. } => vec![fix.clone()],
            Error::BadVariable { variable, verdict, report, .. } => {
                let library = library_file_hint(&report.target);
                let what = if variable.starts_with("ONNXRUNTIME_LIB_DIR") {
                    format!("the directory that holds {library}")
                } else if variable.starts_with("ONNXRUNTIME_INCLUDE_DIR") {
                    "the directory that holds onnxruntime_c_api.h".to_string()
                } else {
                    format!("an install root with lib/{library}")
                };
                let mut hints = vec![format!(
                    "point {variable} at {what} for {}, or unset it to let the other sources search",
                    report.target
                )];
                if matches!(verdict, Verdict::WrongVersion { .. }) {
                    hints.push("or change the requirement with ONNXRUNTIME_VERSION".into());
                }
                hints
            }
            Error::NotFound(report) => not_found_hints(report),
            Error::Download { error, .. } => error.hints(),
            Error::Io { .. } => vec!["check permissions and free space where the path points".into()],
        }
    }
}

fn library_file_hint(target: &str) -> &'static str {
    if target.contains("windows") {
        "onnxruntime.lib and onnxruntime.dll"
    } else if target.contains("apple") {
        "libonnxruntime.dylib"
    } else {
        "libonnxruntime.so"
    }
}

fn not_found_hints(report: &Report) -> Vec<String> {
    let mut hints = Vec::new();
    let wrong_arch = report.attempts.iter().find_map(|a| match &a.verdict {
        Verdict::WrongArch { found, .. } => Some(found.clone()),
        _ => None,
    });
    if let Some(found) = wrong_arch {
        hints.push(format!(
            "the libraries found are built for {found}; {} needs its own build (cross-compiling links the target's library, not the host's)",
            report.target
        ));
    }
    let versions: Vec<String> = report
        .attempts
        .iter()
        .filter_map(|a| match &a.verdict {
            Verdict::WrongVersion { found, .. } => Some(found.to_string()),
            _ => None,
        })
        .collect();
    if !versions.is_empty() {
        hints.push(format!(
            "found release(s) {}; widen the requirement with ONNXRUNTIME_VERSION if one of them is acceptable",
            versions.join(", ")
        ));
    }
    hints.push(format!(
        "set ONNXRUNTIME_DIR to an ONNX Runtime install for {} (a directory with lib/{} and include/)",
        report.target,
        library_file_hint(&report.target)
    ));
    if !report.sources.contains(&SourceKind::Download) {
        hints.push("or add `download` to ONNXRUNTIME_SOURCES to fetch the official, checksum-pinned release".into());
    }
    hints
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Build logs are shared: a password in a proxy or mirror URL never reaches them.
        f.write_str(&redact_passwords(&Rendered(self).to_string()))
    }
}

/// The error's text before redaction.
struct Rendered<'e>(&'e Error);

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Error::InvalidSetting { setting, value, reason, .. } => {
                writeln!(f, "{setting}=`{value}` cannot be used: {reason}")?;
            }
            Error::BadVariable { variable, value, verdict, report } => {
                writeln!(
                    f,
                    "{variable} is set to {}, but that is not a usable ONNX Runtime for {}",
                    value.display(),
                    report.target
                )?;
                writeln!(f, "    {verdict}")?;
                write_report(f, report)?;
            }
            Error::NotFound(report) => {
                writeln!(f, "could not find {} for {}", report.request, target_words(report))?;
                write_report(f, report)?;
            }
            Error::Download { error, report } => {
                writeln!(f, "could not provision {} for {}", report.request, target_words(report))?;
                writeln!(f, "{error}")?;
                write_report(f, report)?;
            }
            Error::Io { action, path, source } => {
                writeln!(f, "could not {action} {}: {source}", path.display())?;
            }
        }
        for hint in self.0.hints() {
            writeln!(f, "HINT: {hint}")?;
        }
        Ok(())
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`, wherever a URL with credentials appears.
pub(crate) fn redact_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after.find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace()).unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@').map(|i| (&authority[..i], &authority[i..])) {
            Some((userinfo, host)) if userinfo.contains(':') => {
                let user = userinfo.split(':').next().unwrap_or_default();
                out.push_str(user);
                out.push_str(":***");
                out.push_str(host);
            }
            _ => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn target_words(report: &Report) -> String {
    if !report.host.is_empty() && report.host != report.target {
        format!("target {} (cross-compiling on {})", report.target, report.host)
    } else {
        format!("target {}", report.target)
    }
}

fn write_report(f: &mut fmt::Formatter<'_>, report: &Report) -> fmt::Result {
    if !report.attempts.is_empty() {
        let order: Vec<&str> = report.sources.iter().map(|s| s.as_str()).collect();
        writeln!(f, "\nSearched, in this order ({}):", order.join(","))?;
        for attempt in &report.attempts {
            writeln!(f, "  {:<10}  {}\n              {}", attempt.source.as_str(), attempt.location, attempt.verdict)?;
        }
    }
    if !report.variables.is_empty() {
        writeln!(f, "\nVariables in effect:")?;
        for (name, value) in &report.variables {
            writeln!(f, "  {name}={value}")?;
        }
    }
    writeln!(f)
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `.unwrap()` in a build script should show the guide, not a struct dump.
        write!(f, "\n{self}")
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Download { error, .. } => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_redacted() {
        let text = "HTTPS_PROXY=http://alice:hunter2@proxy:3128 and https://u:p%40ss@mirror.example/v1/x.tgz";
        assert_eq!(
            redact_passwords(text),
            "HTTPS_PROXY=http://alice:***@proxy:3128 and https://u:***@mirror.example/v1/x.tgz"
        );
        for plain in ["no url here", "http://host:80/path", "socks5://user@host", "file:///a@b:c/d", "x://"] {
            assert_eq!(redact_passwords(plain), plain);
        }
    }

    #[test]
    fn errors_never_show_a_proxy_password() {
        let report = Report {
            target: "x86_64-unknown-linux-gnu".into(),
            variables: vec![("HTTPS_PROXY".into(), "http://alice:hunter2@127.0.0.1:9".into())],
            ..Report::default()
        };
        let error = Error::Download {
            error: DownloadError::Proxy {
                variable: "HTTPS_PROXY".into(),
                value: "http://alice:hunter2@127.0.0.1:9".into(),
                reason: "refused".into(),
            },
            report: Box::new(report),
        };
        let text = error.to_string();
        assert!(!text.contains("hunter2") && text.contains("alice:***@127.0.0.1:9"), "{text}");
        assert_eq!(format!("{error:?}").trim(), text.trim());
    }
}

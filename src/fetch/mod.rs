//! Getting bytes from a URL (`https://`, `http://`, `file://`): timeouts, bounded retries with backoff,
//! bounded redirects without https→http downgrade, proxies, extra CA roots, SHA-256 while streaming.
//!
//! Every setting comes from [`Vars`], proxies included (never the process environment). The HTTP/1.1
//! client is our own (`http`, `connection`, `wire`, `url`, `socks`, over rustls and std's TcpStream):
//! one streaming GET is all a download needs. No `Content-Encoding` is ever decoded (the request says
//! `Accept-Encoding: identity`), so the SHA-256 covers the bytes on the wire — the bytes the manifest pins.

mod body;
mod connection;
mod file;
mod http;
mod proxy;
mod socks;
#[cfg(test)]
mod tests;
mod tls;
mod url;
mod wire;
#[cfg(test)]
mod wire_tests;

use std::fmt;
use std::io::{self, Read};
use std::path::PathBuf;
use std::time::Duration;

use crate::env::{Var, Vars};
use crate::error::DownloadError;

pub(crate) use proxy::Proxies;
pub(crate) use tls::RootFile;

/// The fuzz target's entry point: `bytes` as a server's response, head and body, never a panic.
pub(crate) fn parse_response(bytes: &[u8]) {
    let _ = wire::parse_response(bytes);
}

/// The connect, per-read and low-speed timeout when neither the builder nor the variable sets one.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Retries after the first attempt, for failures another attempt may cure.
pub(crate) const DEFAULT_RETRIES: u32 = 3;
/// The wait before the first retry; it doubles for each further one.
pub(crate) const DEFAULT_BACKOFF: Duration = Duration::from_millis(500);
/// No wait between attempts is longer than this, whatever `Retry-After` asks for.
pub(crate) const DEFAULT_BACKOFF_CAP: Duration = Duration::from_secs(8);
/// Redirect hops followed before giving up (GitHub release assets take one).
pub(crate) const MAX_REDIRECTS: u32 = 5;
/// A transfer that delivers fewer bytes than this in one `timeout` window of waiting has stalled, so a
/// server trickling a byte every few seconds fails in bounded time (curl's low-speed limit, in spirit).
pub(crate) const STALL_MIN_BYTES: u64 = 1024;

const TIMEOUT_VAR: &str = "ONNXRUNTIME_HTTP_TIMEOUT";
const CA_BUNDLE_VAR: &str = "ONNXRUNTIME_CA_BUNDLE";
/// The longest timeout accepted: a day. Anything longer is a typo, not a slow link.
const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// How to fetch: everything a request needs, read once from the variables.
#[derive(Clone, Debug)]
pub(crate) struct HttpSettings {
    /// Connect timeout, per-read timeout, and the window of the low-speed guard.
    pub timeout: Duration,
    /// Retries after the first attempt (so at most `retries + 1` attempts).
    pub retries: u32,
    /// The wait before the first retry; doubled for each further retry, up to `backoff_cap`.
    pub backoff: Duration,
    pub backoff_cap: Duration,
    pub max_redirects: u32,
    pub proxies: Proxies,
    /// Roots trusted on top of the OS store (`SSL_CERT_FILE`, `SSL_CERT_DIR`, `ONNXRUNTIME_CA_BUNDLE`).
    pub extra_roots: Vec<RootFile>,
    pub user_agent: String,
    /// A body longer than this is cut off and refused (a mirror streaming without end must not fill
    /// the disk or run forever). The download source sets it from the manifest's size or the unpack cap.
    pub max_body_bytes: Option<u64>,
}

impl HttpSettings {
    /// Reads `https_proxy`/`HTTPS_PROXY`, `all_proxy`/`ALL_PROXY` (http://, https://, socks4://, socks5://,
    /// socks5h://), `http_proxy`/`HTTP_PROXY` (for http:// URLs only), `no_proxy`/`NO_PROXY`, `SSL_CERT_FILE`,
    /// `SSL_CERT_DIR`, `ONNXRUNTIME_CA_BUNDLE` and `ONNXRUNTIME_HTTP_TIMEOUT` (seconds, may be fractional). `timeout` (from
    /// the builder) applies when the variable is unset; the default is 30 s. A value that is set but
    /// unusable is an error naming the variable, never a silent fallback.
    pub(crate) fn from_vars(vars: &Vars<'_>, timeout: Option<Duration>) -> Result<HttpSettings, DownloadError> {
        let timeout = match vars.get(TIMEOUT_VAR) {
            Some(var) => parse_timeout(&var)?,
            None => timeout.unwrap_or(DEFAULT_TIMEOUT),
        };
        let proxies = Proxies::from_vars(vars)?;
        // Each adds to the OS store (see `tls`); none replaces it, as OpenSSL's SSL_CERT_FILE would.
        let mut extra_roots = Vec::new();
        if let Some(var) = vars.plain("SSL_CERT_FILE") {
            extra_roots.push(RootFile::read(&var)?);
        }
        if let Some(var) = vars.plain("SSL_CERT_DIR") {
            extra_roots.extend(RootFile::read_dirs(&var)?);
        }
        if let Some(var) = vars.get(CA_BUNDLE_VAR) {
            extra_roots.push(RootFile::read(&var)?);
        }
        Ok(HttpSettings {
            timeout,
            retries: DEFAULT_RETRIES,
            backoff: DEFAULT_BACKOFF,
            backoff_cap: DEFAULT_BACKOFF_CAP,
            max_redirects: MAX_REDIRECTS,
            proxies,
            extra_roots,
            user_agent: concat!("onnxruntime-provision/", env!("CARGO_PKG_VERSION")).to_string(),
            max_body_bytes: None,
        })
    }

    /// The wait before retry number `retry` (1 for the first): exponential, capped; a server's
    /// `Retry-After` is honoured when longer, within the same cap.
    fn backoff_before(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let factor = 1u32.checked_shl(retry.saturating_sub(1)).unwrap_or(u32::MAX);
        let exponential = self.backoff.saturating_mul(factor);
        exponential.max(retry_after.unwrap_or(Duration::ZERO)).min(self.backoff_cap)
    }
}

fn parse_timeout(var: &Var) -> Result<Duration, DownloadError> {
    let invalid = |reason: &str| DownloadError::Setting {
        variable: var.name.clone(),
        value: var.value.to_string_lossy().into_owned(),
        reason: format!("{reason}; expected a number of seconds such as 30 or 2.5"),
    };
    let text = var.value.to_str().ok_or_else(|| invalid("the value is not valid UTF-8"))?;
    let seconds: f64 = text.trim().parse().map_err(|_| invalid("not a number"))?;
    if !seconds.is_finite() || seconds <= 0.0 || seconds > MAX_TIMEOUT_SECS {
        return Err(invalid("it must be more than 0 and at most 86400 (a day)"));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| invalid("not a duration"))
}

/// Told about a transfer as it goes (the CLI draws a bar with it).
pub trait Progress {
    /// An attempt began; `total` is the announced length when known. A retry calls it again and the
    /// count starts over.
    fn started(&self, url: &str, total: Option<u64>);
    /// `bytes` more arrived.
    fn advanced(&self, bytes: u64);
    /// The fetch is over, successfully or not.
    fn finished(&self);
}

/// The SHA-256 (lowercase hex) and size of a local file, read in chunks: for archives already on disk
/// (a mirror folder's copy, an archive a maintainer adds to a manifest).
#[cfg(feature = "cli")]
pub(crate) fn sha256_of_file(path: &std::path::Path) -> io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(buffer.get(..n).unwrap_or_default());
        total = total.saturating_add(n as u64);
    }
    Ok((body::hex(hasher.finish().as_ref()), total))
}

/// What a successful fetch produced.
#[derive(Debug)]
pub(crate) struct Fetched<T> {
    /// What the consumer returned.
    pub value: T,
    /// SHA-256 of every byte of the body, lowercase hex.
    pub sha256: String,
    pub bytes: u64,
    /// Attempts made, this successful one included.
    #[cfg_attr(not(test), allow(dead_code, reason = "asserted by the tests"))]
    pub attempts: u32,
    /// The server's `Content-Type`, so a caller can tell a login page from an archive.
    pub content_type: Option<String>,
}

/// Why a fetch failed: the transfer, or the consumer for reasons of its own.
#[derive(Debug)]
pub(crate) enum FetchError<E> {
    Download(DownloadError),
    Consumer(E),
}

impl<E: fmt::Display> fmt::Display for FetchError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Download(error) => error.fmt(f),
            FetchError::Consumer(error) => error.fmt(f),
        }
    }
}

/// GETs `url` (`https://`, `http://`, `file://`) and hands the body to `consume` as a reader. Every byte
/// is hashed as it streams; after `consume` returns `Ok`, the rest of the body is read to the end so the
/// hash covers all of it. A failure another attempt may cure (refused or reset connection, timeout, 5xx,
/// 408, 429, a body shorter than its `Content-Length`) starts the whole attempt over, `consume`
/// included, with exponential backoff and a bounded number of attempts. An error `consume` returns
/// because reading the body failed counts as such a failure; any other error of `consume` is final
/// ([`FetchError::Consumer`]), and so is any other 4xx.
pub(crate) fn fetch<T, E>(
    url: &str,
    settings: &HttpSettings,
    progress: Option<&dyn Progress>,
    mut consume: impl FnMut(&mut dyn Read) -> Result<T, E>,
) -> Result<Fetched<T>, FetchError<E>> {
    let result = fetch_with_retries(url, settings, progress, &mut consume);
    if let Some(progress) = progress {
        progress.finished();
    }
    result
}

fn fetch_with_retries<T, E>(
    url: &str,
    settings: &HttpSettings,
    progress: Option<&dyn Progress>,
    consume: &mut dyn FnMut(&mut dyn Read) -> Result<T, E>,
) -> Result<Fetched<T>, FetchError<E>> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
    if scheme.as_deref() == Some("file") {
        return match file::fetch(url, progress, settings.max_body_bytes, consume) {
            Ok(streamed) => Ok(streamed.fetched(1)),
            Err(Failed::Consumer(error)) => Err(FetchError::Consumer(error)),
            Err(Failed::Problem(problem)) => Err(FetchError::Download(problem.into_error(url, 1))),
        };
    }
    if !matches!(scheme.as_deref(), Some("https" | "http")) {
        return Err(FetchError::Download(DownloadError::Transport {
            url: url.to_string(),
            attempts: 0,
            cause: "only https://, http:// and file:// URLs can be downloaded".into(),
        }));
    }
    let session = http::Session::new(settings);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match session.attempt(url, progress, consume) {
            Ok(streamed) => return Ok(streamed.fetched(attempt)),
            Err(Failed::Consumer(error)) => return Err(FetchError::Consumer(error)),
            Err(Failed::Problem(problem)) => {
                if problem.is_transient() && attempt <= settings.retries {
                    std::thread::sleep(settings.backoff_before(attempt, problem.retry_after()));
                    continue;
                }
                return Err(FetchError::Download(with_roots(problem.into_error(url, attempt), settings)));
            }
        }
    }
}

/// One attempt's body, read to the end.
struct Streamed<T> {
    value: T,
    sha256: String,
    bytes: u64,
    content_type: Option<String>,
}

impl<T> Streamed<T> {
    fn fetched(self, attempts: u32) -> Fetched<T> {
        Fetched { value: self.value, sha256: self.sha256, bytes: self.bytes, attempts, content_type: self.content_type }
    }
}

/// How one attempt failed.
enum Failed<E> {
    Problem(Problem),
    Consumer(E),
}

/// What went wrong in one attempt, before we know how many attempts there were.
#[derive(Debug)]
enum Problem {
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    Transport {
        cause: String,
        transient: bool,
    },
    Timeout {
        which: &'static str,
        after: Duration,
    },
    Tls(String),
    Proxy {
        variable: String,
        value: String,
        reason: String,
    },
    LocalFile {
        path: PathBuf,
        source: io::Error,
    },
    /// More bytes than expected were announced or arrived (`HttpSettings::max_body_bytes`).
    TooLarge {
        limit: u64,
        announced: Option<u64>,
    },
}

impl Problem {
    /// Whether another attempt may succeed: the server or the network had a bad moment.
    fn is_transient(&self) -> bool {
        match self {
            Problem::Status { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            Problem::Transport { transient, .. } => *transient,
            Problem::Timeout { .. } => true,
            Problem::Tls(_) | Problem::Proxy { .. } | Problem::LocalFile { .. } | Problem::TooLarge { .. } => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Problem::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The error kind a consumer sees when reading the body failed this way.
    fn io_kind(&self) -> io::ErrorKind {
        match self {
            Problem::Timeout { .. } => io::ErrorKind::TimedOut,
            Problem::LocalFile { source, .. } => source.kind(),
            _ => io::ErrorKind::ConnectionAborted,
        }
    }

    fn into_error(self, url: &str, attempts: u32) -> DownloadError {
        let url = url.to_string();
        match self {
            Problem::Status { status, .. } => DownloadError::Http { url, status, attempts },
            Problem::Transport { cause, .. } => DownloadError::Transport { url, attempts, cause },
            Problem::Timeout { which, after } => DownloadError::Timeout { url, which: which.into(), after, attempts },
            Problem::Tls(cause) => DownloadError::Tls { url, cause },
            Problem::Proxy { variable, value, reason } => DownloadError::Proxy { variable, value, reason },
            Problem::LocalFile { path, source } => DownloadError::LocalFile { url, path, source },
            Problem::TooLarge { limit, announced } => DownloadError::TooLarge { url, limit, announced },
        }
    }
}

/// A TLS failure says which extra roots were trusted, so "I set the bundle" can be checked at a glance.
fn with_roots(error: DownloadError, settings: &HttpSettings) -> DownloadError {
    match error {
        DownloadError::Tls { url, mut cause } if !settings.extra_roots.is_empty() => {
            let roots: Vec<String> =
                settings.extra_roots.iter().map(|r| format!("{}={}", r.variable, r.path.display())).collect();
            cause.push_str(&format!(" (extra roots trusted: {})", roots.join(", ")));
            DownloadError::Tls { url, cause }
        }
        other => other,
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Status { status, .. } => write!(f, "HTTP {status}"),
            Problem::Transport { cause, .. } => f.write_str(cause),
            Problem::Timeout { which, after } => write!(f, "{which} timeout after {:.1} s", after.as_secs_f64()),
            Problem::Tls(cause) => write!(f, "TLS failed: {cause}"),
            Problem::Proxy { variable, value, reason } => write!(f, "proxy {variable}={value}: {reason}"),
            Problem::LocalFile { path, source } => write!(f, "could not read {}: {source}", path.display()),
            Problem::TooLarge { limit, announced: Some(announced) } => {
                write!(f, "{announced} bytes announced, more than the {limit} expected")
            }
            Problem::TooLarge { limit, announced: None } => write!(f, "more than the {limit} bytes expected arrived"),
        }
    }
}

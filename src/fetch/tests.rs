//! `fetch` against real loopback servers (tests/support/server.rs): every "Transport" row of
//! TEST-MATRIX.md, TLS with a test CA, proxies, retries counted from the server's own request log.

use std::cell::RefCell;
use std::io::{self, Write};
use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::proxy::NoProxy;
use super::*;
use crate::env::Env;
use crate::error::{Error, Report};

use crate::test_support::server::{ConnectProxy, Leaf, Reply, Server, Socks5Proxy, TestPki};

mod proxy_auth;

const TARGET: &str = "x86_64-unknown-linux-gnu";

fn settings_from(vars: &[(&str, &str)]) -> Result<HttpSettings, DownloadError> {
    // A map environment: nothing of the test runner's own environment (proxies!) is visible.
    let env = Env::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    HttpSettings::from_vars(&Vars::new(&env, TARGET), None)
}

/// Settings with test-sized timeouts and backoff, so fault tests finish in a second or two.
fn quick(vars: &[(&str, &str)]) -> HttpSettings {
    let mut settings = settings_from(vars).unwrap();
    settings.timeout = Duration::from_secs(1);
    settings.backoff = Duration::from_millis(10);
    settings.backoff_cap = Duration::from_millis(50);
    settings
}

fn to_vec(url: &str, settings: &HttpSettings) -> Result<Fetched<Vec<u8>>, FetchError<io::Error>> {
    fetch(url, settings, None, read_all)
}

/// The consumer most tests use: the whole body, or the read's error.
fn read_all(reader: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    reader.read_to_end(&mut body).map(|_| body)
}

fn download_error<T: fmt::Debug, E: fmt::Debug>(result: Result<Fetched<T>, FetchError<E>>) -> DownloadError {
    match result {
        Err(FetchError::Download(error)) => error,
        other => panic!("expected a download error, got {other:?}"),
    }
}

fn sha256(bytes: &[u8]) -> String {
    super::body::hex(&Sha256::digest(bytes))
}

/// Bytes that are not all alike, so a cut or a reordering changes the hash.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31) ^ (i >> 7)) as u8).collect()
}

fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(TestPki::new)
}

/// A temp dir holding the test CA's PEM, and the PEM's path as text.
fn ca_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = pki().write_ca(dir.path());
    (dir, path.to_str().unwrap().to_string())
}

#[derive(Default)]
struct Recorder {
    events: RefCell<Vec<String>>,
    bytes: RefCell<u64>,
}

impl Progress for Recorder {
    fn started(&self, url: &str, total: Option<u64>) {
        self.events.borrow_mut().push(format!("started {url} {total:?}"));
        *self.bytes.borrow_mut() = 0;
    }
    fn advanced(&self, bytes: u64) {
        *self.bytes.borrow_mut() += bytes;
    }
    fn finished(&self) {
        self.events.borrow_mut().push("finished".into());
    }
}

// ---- success, headers, progress ----

#[test]
fn a_body_arrives_whole_with_its_hash_progress_and_our_headers() {
    let server = Server::http();
    let body = payload(300 * 1024);
    server.route("/ort.tgz", Reply::ok(body.clone()));
    let progress = Recorder::default();
    let url = server.url("/ort.tgz");

    let got = fetch(&url, &quick(&[]), Some(&progress), read_all).unwrap();

    assert_eq!(got.value, body);
    assert_eq!(got.sha256, sha256(&body));
    assert_eq!((got.bytes, got.attempts), (body.len() as u64, 1));
    assert_eq!(*progress.events.borrow(), [format!("started {url} Some({})", body.len()), "finished".into()]);
    assert_eq!(*progress.bytes.borrow(), body.len() as u64);
    let request = &server.requests()[0];
    assert_eq!(request.header("User-Agent"), Some(concat!("onnxruntime-provision/", env!("CARGO_PKG_VERSION"))));
    assert_eq!(request.header("Accept-Encoding"), Some("identity"), "we must not invite a Content-Encoding");
}

#[test]
fn the_hash_covers_the_part_the_consumer_did_not_read() {
    let server = Server::http();
    let body = payload(50_000);
    server.route("/f", Reply::ok(body.clone()));
    let got = fetch(&server.url("/f"), &quick(&[]), None, |r| {
        let mut first = [0u8; 10];
        r.read_exact(&mut first).map(|()| first)
    })
    .unwrap();
    assert_eq!(got.value[..], body[..10]);
    assert_eq!((got.sha256, got.bytes), (sha256(&body), body.len() as u64));
}

// ---- retries ----

#[test]
fn server_errors_are_retried_then_succeed() {
    let server = Server::http();
    server.sequence("/f", vec![Reply::status(500), Reply::status(500), Reply::ok("payload")]);
    let got = to_vec(&server.url("/f"), &quick(&[])).unwrap();
    assert_eq!((got.value.as_slice(), got.attempts), (&b"payload"[..], 3));
    assert_eq!(server.hits("/f"), 3);
}

#[test]
fn persistent_server_errors_give_up_after_bounded_attempts_naming_url_and_attempts() {
    for status in [500, 502, 503] {
        let server = Server::http();
        server.route("/f", Reply::status(status));
        let mut settings = quick(&[]);
        settings.retries = 2;
        let url = server.url("/f");
        let error = download_error(to_vec(&url, &settings));
        assert!(matches!(error, DownloadError::Http { status: s, attempts: 3, .. } if s == status), "{error:?}");
        assert_eq!(server.hits("/f"), 3);
        let text = error.to_string();
        assert!(text.contains(&url) && text.contains("3 attempts"), "{text}");
    }
}

#[test]
fn client_errors_are_final() {
    for status in [403, 404, 410] {
        let server = Server::http();
        server.route("/f", Reply::status(status));
        let error = download_error(to_vec(&server.url("/f"), &quick(&[])));
        assert!(matches!(error, DownloadError::Http { status: s, attempts: 1, .. } if s == status), "{error:?}");
        assert_eq!(server.hits("/f"), 1, "HTTP {status} must not be retried");
    }
}

#[test]
fn request_timeout_and_throttling_statuses_are_retried() {
    for status in [408, 429] {
        let server = Server::http();
        server.sequence("/f", vec![Reply::status(status).with_header("Retry-After", "0"), Reply::ok("x")]);
        let got = to_vec(&server.url("/f"), &quick(&[])).unwrap();
        assert_eq!(got.attempts, 2, "HTTP {status}");
    }
}

#[test]
fn a_refused_connection_is_retried_then_named() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port(); // closed again
    let mut settings = quick(&[]);
    settings.retries = 1;
    let error = download_error(to_vec(&format!("http://127.0.0.1:{port}/f"), &settings));
    assert!(
        matches!(&error, DownloadError::Transport { attempts: 2, cause, .. } if cause.contains("refused")),
        "{error:?}"
    );
}

#[test]
fn backoff_doubles_up_to_the_cap_and_honours_retry_after_within_it() {
    let mut settings = quick(&[]);
    settings.backoff = Duration::from_millis(100);
    settings.backoff_cap = Duration::from_millis(350);
    let waits: Vec<u128> = (1..=4).map(|n| settings.backoff_before(n, None).as_millis()).collect();
    assert_eq!(waits, [100, 200, 350, 350]);
    assert_eq!(settings.backoff_before(1, Some(Duration::from_millis(300))).as_millis(), 300);
    assert_eq!(settings.backoff_before(1, Some(Duration::from_secs(3600))).as_millis(), 350);
    assert_eq!(settings.backoff_before(u32::MAX, None).as_millis(), 350);
}

// ---- broken bodies ----

#[test]
fn a_reset_mid_body_is_retried_and_the_consumer_starts_over() {
    let server = Server::http();
    let body = payload(200 * 1024);
    server.sequence("/f", vec![Reply::ResetMidBody { body: body.clone(), sent: 64 * 1024 }, Reply::ok(body.clone())]);
    let calls = RefCell::new(0);
    let progress = Recorder::default();
    let got = fetch(&server.url("/f"), &quick(&[]), Some(&progress), |r| {
        *calls.borrow_mut() += 1;
        let mut v = Vec::new();
        r.read_to_end(&mut v).map(|_| v) // the read error becomes the consumer's error
    })
    .unwrap();
    assert_eq!((got.attempts, *calls.borrow()), (2, 2));
    assert_eq!((got.value == body, got.sha256), (true, sha256(&body)));
    let starts = progress.events.borrow().iter().filter(|e| e.starts_with("started")).count();
    assert_eq!(starts, 2, "each attempt restarts the progress");
}

#[test]
fn a_consumer_that_swallows_a_read_error_does_not_make_a_broken_body_succeed() {
    let server = Server::http();
    let body = payload(100 * 1024);
    server.sequence("/f", vec![Reply::ResetMidBody { body: body.clone(), sent: 1000 }, Reply::ok(body.clone())]);
    let got = fetch(&server.url("/f"), &quick(&[]), None, |r| {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v); // ignores the error
        Ok::<_, io::Error>(v)
    })
    .unwrap();
    assert_eq!((got.attempts, got.value == body), (2, true));
}

#[test]
fn a_body_shorter_than_its_content_length_never_succeeds() {
    let server = Server::http();
    let body = payload(10_000);
    server.route("/f", Reply::ShortBody { body, sent: 4000, declare_length: true });
    let mut settings = quick(&[]);
    settings.retries = 2;
    let error = download_error(to_vec(&server.url("/f"), &settings));
    match &error {
        DownloadError::Transport { attempts: 3, cause, .. } => {
            assert!(cause.contains("closed after 4000 of 10000 bytes"), "{cause}")
        }
        other => panic!("expected a transport error after 3 attempts, got {other:?}"),
    }
    assert_eq!(server.hits("/f"), 3);
}

#[test]
fn a_short_close_delimited_body_is_delivered_and_its_hash_tells() {
    // Without a Content-Length nothing says the body is short; the pinned checksum will.
    let server = Server::http();
    let body = payload(10_000);
    server.route("/f", Reply::ShortBody { body: body.clone(), sent: 6000, declare_length: false });
    let got = to_vec(&server.url("/f"), &quick(&[])).unwrap();
    assert_eq!(got.bytes, 6000);
    assert_ne!(got.sha256, sha256(&body));
    assert_eq!(got.sha256, sha256(&body[..6000]));
}

#[test]
fn a_server_that_hangs_up_without_answering_is_retried() {
    let server = Server::http();
    server.sequence("/f", vec![Reply::Hangup, Reply::ok("x")]);
    assert_eq!(to_vec(&server.url("/f"), &quick(&[])).unwrap().attempts, 2);
}

// ---- timeouts ----

#[test]
fn a_stall_after_the_headers_fires_the_read_timeout() {
    let server = Server::http();
    server.route("/f", Reply::Stall { length: 5000, silence: Duration::from_secs(20) });
    let mut settings = quick(&[]);
    settings.retries = 0;
    let started = Instant::now();
    let error = download_error(to_vec(&server.url("/f"), &settings));
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(
        matches!(&error, DownloadError::Timeout { which, after, attempts: 1, .. } if which == "read" && *after == Duration::from_secs(1)),
        "{error:?}"
    );
    assert!(error.to_string().starts_with("read timeout after 1.0 s"), "{error}");
}

#[test]
fn a_name_that_does_not_resolve_is_named_within_the_timeout() {
    let mut settings = quick(&[]);
    settings.retries = 0;
    let started = Instant::now();
    // `.invalid` never resolves (RFC 2606); a resolver without a network may instead hang: the timeout.
    let error = download_error(to_vec("http://no-such-host.invalid/f", &settings));
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    let named = matches!(&error, DownloadError::Transport { cause, .. } if cause.contains("no-such-host.invalid could not be resolved"));
    let timed_out = matches!(&error, DownloadError::Timeout { which, .. } if which == "DNS lookup");
    assert!(named || timed_out, "{error:?}");
}

#[test]
fn a_head_sent_a_line_at_a_time_fires_the_response_timeout() {
    let server = Server::http();
    server.route("/f", Reply::SlowHead { interval: Duration::from_millis(300) });
    let mut settings = quick(&[]);
    settings.retries = 0;
    let started = Instant::now();
    let error = download_error(to_vec(&server.url("/f"), &settings));
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(matches!(&error, DownloadError::Timeout { which, .. } if which == "response"), "{error:?}");
}

#[test]
fn a_trickle_is_stopped_by_the_low_speed_guard() {
    // 1 byte every 200 ms never trips the 1 s per-read timeout; the stall guard must stop it.
    let server = Server::http();
    server.route("/f", Reply::Trickle { body: payload(4096), interval: Duration::from_millis(200) });
    let mut settings = quick(&[]);
    settings.retries = 0;
    let started = Instant::now();
    let error = download_error(to_vec(&server.url("/f"), &settings));
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(matches!(&error, DownloadError::Timeout { which, .. } if which == "stalled transfer"), "{error:?}");
}

#[test]
fn a_tls_handshake_that_never_comes_fires_the_connect_timeout() {
    // The kernel completes the TCP handshake for a listener that never accepts; TLS then hangs.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/f", silent.local_addr().unwrap());
    let mut settings = quick(&[]);
    settings.retries = 0;
    let started = Instant::now();
    let error = download_error(to_vec(&url, &settings));
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(matches!(&error, DownloadError::Timeout { which, .. } if which == "connect"), "{error:?}");
}

// ---- encodings and impostors ----

#[test]
fn a_gzip_labelled_tgz_is_stored_as_the_bytes_on_the_wire() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&payload(100_000)).unwrap();
    let tgz = encoder.finish().unwrap();
    let server = Server::http();
    server.route("/ort.tgz", Reply::gzip_labelled(tgz.clone()));
    let got = to_vec(&server.url("/ort.tgz"), &quick(&[])).unwrap();
    assert_eq!(got.sha256, sha256(&tgz), "the body must not be decoded");
    assert_eq!(got.value, tgz);
}

#[test]
fn a_login_page_is_delivered_as_is_for_the_checksum_to_refuse() {
    let server = Server::http();
    server.route("/ort.tgz", Reply::login_page());
    let got = to_vec(&server.url("/ort.tgz"), &quick(&[])).unwrap();
    assert_ne!(got.sha256, sha256(&payload(1000)));
    assert!(got.content_type.as_deref().is_some_and(|t| t.starts_with("text/html")), "{:?}", got.content_type);
}

// ---- chunked bodies ----

#[test]
fn a_chunked_body_arrives_whole_with_its_hash_and_no_announced_length() {
    let body = payload(150_000);
    let server = Server::http();
    server.route("/f", Reply::chunked(body.clone(), 7_000));
    let progress = Recorder::default();
    let url = server.url("/f");
    let got = fetch(&url, &quick(&[]), Some(&progress), read_all).unwrap();
    assert_eq!((got.value == body, got.sha256, got.bytes), (true, sha256(&body), body.len() as u64));
    assert_eq!(progress.events.borrow()[0], format!("started {url} None"));
}

#[test]
fn a_chunked_body_over_tls_arrives_whole() {
    let body = payload(100_000);
    let server = Server::https(pki().server_config(Leaf::Good));
    server.route("/f", Reply::chunked(body.clone(), 16_384));
    let (_dir, ca) = ca_file();
    let got = to_vec(&server.url("/f"), &quick(&[("ONNXRUNTIME_CA_BUNDLE", &ca)])).unwrap();
    assert_eq!((got.value == body, got.sha256), (true, sha256(&body)));
}

#[test]
fn a_chunked_body_cut_short_is_retried_like_a_short_content_length() {
    let body = payload(10_000);
    let server = Server::http();
    server.sequence(
        "/f",
        vec![Reply::Chunked { body: body.clone(), chunk: 1000, sent: 4000 }, Reply::chunked(body.clone(), 1000)],
    );
    let got = to_vec(&server.url("/f"), &quick(&[])).unwrap();
    assert_eq!((got.attempts, got.sha256), (2, sha256(&body)));

    server.route("/always-short", Reply::Chunked { body, chunk: 1000, sent: 4000 });
    let error = download_error(to_vec(&server.url("/always-short"), &quick(&[])));
    match &error {
        DownloadError::Transport { cause, attempts: 4, .. } => {
            assert!(cause.contains("closed after 4000 bytes, before the body's end"), "{cause}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_response_framed_two_ways_is_refused_without_retries() {
    let server = Server::http();
    // The test server adds its own Content-Length to a full reply.
    server.route("/f", Reply::ok("x").with_header("Transfer-Encoding", "chunked"));
    let error = download_error(to_vec(&server.url("/f"), &quick(&[])));
    assert!(
        matches!(&error, DownloadError::Transport { cause, attempts: 1, .. } if cause.contains("both Transfer-Encoding and Content-Length")),
        "{error:?}"
    );
    assert_eq!(server.hits("/f"), 1);
}

// ---- redirects ----

#[test]
fn redirects_are_followed_relative_and_absolute() {
    let server = Server::http();
    server.route("/releases/a", Reply::redirect(302, "b"));
    server.route("/releases/b", Reply::redirect(301, "/final/c"));
    server.route("/final/c", Reply::redirect(307, &server.url("/final/d")));
    server.route("/final/d", Reply::ok("here"));
    let got = to_vec(&server.url("/releases/a"), &quick(&[])).unwrap();
    assert_eq!((got.value.as_slice(), got.attempts), (&b"here"[..], 1));
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/releases/a", "/releases/b", "/final/c", "/final/d"]);
}

#[test]
fn redirects_resolve_scheme_relative_and_query_only_locations() {
    let server = Server::http();
    let authority = server.addr().to_string();
    server.route("/a/start", Reply::redirect(303, &format!("//{authority}/b/next")));
    server.route("/b/next", Reply::redirect(308, "?v=2"));
    server.route("/b/next?v=2", Reply::redirect(302, "../c/end"));
    server.route("/c/end", Reply::ok("resolved"));
    let got = to_vec(&server.url("/a/start"), &quick(&[])).unwrap();
    assert_eq!(got.value, b"resolved");
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/a/start", "/b/next", "/b/next?v=2", "/c/end"]);
}

#[test]
fn dot_segments_of_a_location_are_resolved_before_the_next_request() {
    let server = Server::http();
    server.route("/releases/v1/latest/file.tgz", Reply::redirect(302, "../../v2/./pinned/file.tgz?sig=a/../b"));
    server.route("/releases/v2/pinned/file.tgz?sig=a/../b", Reply::redirect(302, "/mirror/x/../final.tgz"));
    server.route("/mirror/final.tgz", Reply::ok("resolved"));
    // A server that got the dot segments as sent would answer 404 here.
    for dotted in ["/releases/v1/latest/../../v2/./pinned/file.tgz?sig=a/../b", "/mirror/x/../final.tgz"] {
        server.route(dotted, Reply::status(404));
    }
    let got = to_vec(&server.url("/releases/v1/latest/file.tgz"), &quick(&[])).unwrap();
    assert_eq!((got.value.as_slice(), got.attempts), (&b"resolved"[..], 1));
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    // The query keeps its own `/../`: only the path is resolved.
    assert_eq!(paths, ["/releases/v1/latest/file.tgz", "/releases/v2/pinned/file.tgz?sig=a/../b", "/mirror/final.tgz"]);
}

#[test]
fn a_redirect_loop_ends_with_a_clear_error_without_retries() {
    let server = Server::http();
    server.route("/one", Reply::redirect(302, "/two"));
    server.route("/two", Reply::redirect(302, "/one"));
    let error = download_error(to_vec(&server.url("/one"), &quick(&[])));
    assert!(
        matches!(&error, DownloadError::Transport { attempts: 1, cause, .. } if cause.contains("redirect loop")),
        "{error:?}"
    );
    assert_eq!((server.hits("/one"), server.hits("/two")), (1, 1));
}

#[test]
fn a_long_redirect_chain_stops_at_the_bound() {
    let server = Server::http();
    for hop in 0..20 {
        server.route(&format!("/r{hop}"), Reply::redirect(302, &format!("/r{}", hop + 1)));
    }
    let error = download_error(to_vec(&server.url("/r0"), &quick(&[])));
    assert!(
        matches!(&error, DownloadError::Transport { cause, .. } if cause.contains("more than 5 redirects")),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 6, "the first request and 5 redirects");
}

#[test]
fn https_never_redirects_to_http() {
    let plain = Server::http();
    plain.route("/f", Reply::ok("downgraded"));
    let secure = Server::https(pki().server_config(Leaf::Good));
    secure.route("/f", Reply::redirect(302, &plain.url("/f")));
    let (_dir, ca) = ca_file();
    let error = download_error(to_vec(&secure.url("/f"), &quick(&[("ONNXRUNTIME_CA_BUNDLE", &ca)])));
    assert!(matches!(&error, DownloadError::Transport { cause, .. } if cause.contains("downgrade")), "{error:?}");
    assert_eq!(plain.requests().len(), 0, "the http URL must never be asked");
}

// ---- consumer errors ----

#[test]
fn a_consumer_error_of_its_own_is_final() {
    let server = Server::http();
    server.route("/f", Reply::ok(payload(10_000)));
    let calls = RefCell::new(0);
    let result = fetch(&server.url("/f"), &quick(&[]), None, |r| {
        *calls.borrow_mut() += 1;
        let mut head = [0u8; 10];
        r.read_exact(&mut head).map_err(|e| e.to_string())?;
        Err::<(), _>("not an archive".to_string())
    });
    assert!(matches!(&result, Err(FetchError::Consumer(e)) if e == "not an archive"), "{result:?}");
    assert_eq!((server.hits("/f"), *calls.borrow()), (1, 1));
}

// ---- file:// ----

#[test]
fn file_urls_are_read_with_percent_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("mirror dir");
    std::fs::create_dir(&folder).unwrap();
    let body = payload(70_000);
    std::fs::write(folder.join("ort 1.22.tgz"), &body).unwrap();
    let url = format!("file://{}/mirror%20dir/ort%201.22.tgz", dir.path().display());
    let progress = Recorder::default();
    let got = fetch(&url, &quick(&[]), Some(&progress), read_all).unwrap();
    assert_eq!((got.value == body, got.sha256, got.attempts), (true, sha256(&body), 1));
    assert_eq!(progress.events.borrow()[0], format!("started {url} Some(70000)"));
    let localhost = format!("file://localhost{}/mirror%20dir/ort%201.22.tgz", dir.path().display());
    assert_eq!(to_vec(&localhost, &quick(&[])).unwrap().sha256, sha256(&body));
}

#[cfg(unix)]
#[test]
fn file_urls_reach_non_utf8_file_names() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(std::ffi::OsStr::from_bytes(b"ort-\xff.tgz")), b"bytes").unwrap();
    let url = format!("file://{}/ort-%FF.tgz", dir.path().display());
    assert_eq!(to_vec(&url, &quick(&[])).unwrap().value, b"bytes");
}

#[test]
fn a_missing_file_is_a_clear_final_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}/v1.22.0/absent.tgz", dir.path().display());
    let error = download_error(to_vec(&url, &quick(&[])));
    match &error {
        DownloadError::LocalFile { path, source, .. } => {
            assert_eq!(path, &dir.path().join("v1.22.0/absent.tgz"));
            assert_eq!(source.kind(), io::ErrorKind::NotFound);
        }
        other => panic!("expected LocalFile, got {other:?}"),
    }
    assert!(error.to_string().contains("absent.tgz"), "{error}");
    let dir_url = format!("file://{}", dir.path().display());
    assert!(matches!(download_error(to_vec(&dir_url, &quick(&[]))), DownloadError::LocalFile { .. }));
}

#[test]
fn file_urls_that_cannot_name_a_local_file_are_refused() {
    for url in ["file://fileserver/share/x.tgz", "file:///tmp/bad%zzescape", "file://", "file:///"] {
        let error = download_error(to_vec(url, &quick(&[])));
        assert!(matches!(error, DownloadError::Transport { .. }), "{url}: {error:?}");
    }
    let error = download_error(to_vec("ftp://example.invalid/x.tgz", &quick(&[])));
    assert!(error.to_string().contains("only https://, http:// and file://"), "{error}");
}

// ---- TLS ----

#[test]
fn tls_refuses_an_unknown_issuer_and_says_how_to_add_a_ca() {
    let server = Server::https(pki().server_config(Leaf::Good));
    server.route("/f", Reply::ok("secret"));
    let error = download_error(to_vec(&server.url("/f"), &quick(&[])));
    assert!(matches!(&error, DownloadError::Tls { cause, .. } if cause.contains("unknown issuer")), "{error:?}");
    assert_eq!(server.requests().len(), 0);
    let guide = Error::Download { error, report: Box::new(Report::default()) }.to_string();
    assert!(guide.contains("ONNXRUNTIME_CA_BUNDLE") && guide.contains("SSL_CERT_FILE"), "{guide}");
}

#[test]
fn tls_trusts_a_ca_added_by_onnxruntime_ca_bundle_or_ssl_cert_file() {
    let server = Server::https(pki().server_config(Leaf::Good));
    server.route("/f", Reply::ok("trusted"));
    let (_dir, ca) = ca_file();
    let suffixed = format!("ONNXRUNTIME_CA_BUNDLE_{TARGET}");
    for variable in ["ONNXRUNTIME_CA_BUNDLE", suffixed.as_str(), "SSL_CERT_FILE"] {
        let got = to_vec(&server.url("/f"), &quick(&[(variable, &ca)])).unwrap();
        assert_eq!(got.value, b"trusted", "{variable}");
    }
    // The host name in the URL is checked too, not just the address.
    let got = to_vec(&server.localhost_url("/f"), &quick(&[("ONNXRUNTIME_CA_BUNDLE", &ca)])).unwrap();
    assert_eq!(got.value, b"trusted");
}

#[test]
fn a_reset_mid_body_over_tls_is_retried() {
    let server = Server::https(pki().server_config(Leaf::Good));
    let body = payload(150 * 1024);
    server.sequence("/f", vec![Reply::ResetMidBody { body: body.clone(), sent: 20_000 }, Reply::ok(body.clone())]);
    let (_dir, ca) = ca_file();
    let got = to_vec(&server.url("/f"), &quick(&[("ONNXRUNTIME_CA_BUNDLE", &ca)])).unwrap();
    assert_eq!((got.attempts, got.sha256), (2, sha256(&body)));
}

#[test]
fn tls_refuses_expired_and_wrong_host_certificates_even_with_the_ca() {
    let (_dir, ca) = ca_file();
    for (leaf, words) in [(Leaf::Expired, "expired"), (Leaf::WrongHost, "another host name")] {
        let server = Server::https(pki().server_config(leaf));
        server.route("/f", Reply::ok("x"));
        let error = download_error(to_vec(&server.url("/f"), &quick(&[("ONNXRUNTIME_CA_BUNDLE", &ca)])));
        assert!(matches!(&error, DownloadError::Tls { cause, .. } if cause.contains(words)), "{leaf:?}: {error:?}");
        assert_eq!(server.requests().len(), 0, "{leaf:?}: TLS errors are not retried");
    }
}

#[test]
fn an_unusable_ca_bundle_is_an_error_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let no_pem = dir.path().join("not-pem.txt");
    std::fs::write(&no_pem, "just text\n").unwrap();
    let missing = dir.path().join("missing.pem");
    for (variable, path) in
        [("ONNXRUNTIME_CA_BUNDLE", &no_pem), ("ONNXRUNTIME_CA_BUNDLE", &missing), ("SSL_CERT_FILE", &missing)]
    {
        let error = settings_from(&[(variable, path.to_str().unwrap())]).unwrap_err();
        assert!(matches!(&error, DownloadError::Setting { variable: v, .. } if v == variable), "{error:?}");
        assert!(error.to_string().starts_with(variable), "{error}");
    }
}

#[test]
fn extra_roots_are_added_to_the_os_store_never_replacing_it() {
    let store = tls::os_store();
    assert!(!store.is_empty(), "this machine has no CA store: apt-get install ca-certificates");
    let server = Server::https(pki().server_config(Leaf::Good));
    server.route("/f", Reply::ok("trusted"));
    let (_dir, ca) = ca_file();
    let settings = quick(&[("ONNXRUNTIME_CA_BUNDLE", &ca)]);
    let mut public = rustls::RootCertStore::empty();
    public.add_parsable_certificates(store.iter().cloned());
    let mut test_ca = rustls::RootCertStore::empty();
    test_ca.add_parsable_certificates(settings.extra_roots[0].certs.iter().cloned());
    // The public roots, then the test CA.
    let roots = tls::root_store(store, &settings.extra_roots).roots;
    assert_eq!(roots[..public.roots.len()], public.roots[..]);
    assert_eq!(roots[public.roots.len()..], test_ca.roots[..]);
    assert_eq!(to_vec(&server.url("/f"), &settings).unwrap().value, b"trusted");
    // With no OS store, Mozilla's roots are the public ones the CA joins.
    assert_eq!(tls::root_store(&[], &settings.extra_roots).roots.len(), webpki_roots::TLS_SERVER_ROOTS.len() + 1);
}

#[test]
fn mozillas_roots_are_handed_to_rustls_as_the_same_anchors() {
    let store = tls::root_store(&[], &[]);
    assert_eq!(store.roots, webpki_roots::TLS_SERVER_ROOTS);
    // Name constraints (a few national CAs carry them) survive too.
    assert!(store.roots.iter().any(|anchor| anchor.name_constraints.is_some()));
}

/// What a parent run of the test below tells its child run.
#[allow(clippy::disallowed_methods, reason = "a child test process reads what its parent set")]
fn told_by_parent(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// rustls-native-certs' `load_native_certs` reads a process's SSL_CERT_FILE/SSL_CERT_DIR *instead of*
/// the OS store, so a corporate CA there dropped every public root. The process environment can only
/// be set for a child, so the test runs itself again with both set.
#[cfg(all(unix, not(target_os = "macos")))]
#[test]
fn the_os_store_ignores_the_process_ssl_cert_variables() {
    const SIZE: &str = "ORT_PROVISION_TEST_OS_STORE_SIZE";
    if let Some(expected) = told_by_parent(SIZE) {
        assert_eq!(tls::load_os_store().len().to_string(), expected, "with SSL_CERT_FILE and SSL_CERT_DIR set");
        return;
    }
    let size = tls::load_os_store().len();
    assert!(size > 1, "this machine has no CA store: apt-get install ca-certificates");
    let (dir, ca) = ca_file();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "fetch::tests::the_os_store_ignores_the_process_ssl_cert_variables"])
        .env(SIZE, size.to_string())
        .env("SSL_CERT_FILE", &ca)
        .env("SSL_CERT_DIR", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn ssl_cert_dir_adds_its_certificates_and_is_watched() {
    let server = Server::https(pki().server_config(Leaf::Good));
    server.route("/f", Reply::ok("trusted"));
    let (dir, _ca) = ca_file();
    let dir = dir.path().to_str().unwrap();
    let env = Env::from_vars([("SSL_CERT_DIR", format!("/nonexistent-certs::{dir}"))]);
    let vars = Vars::new(&env, TARGET);
    // A missing directory in the list is named, as any unusable setting is.
    let error = HttpSettings::from_vars(&vars, None).unwrap_err();
    assert!(error.to_string().starts_with("SSL_CERT_DIR") && error.to_string().contains("/nonexistent"), "{error}");
    // `rerun-if-env-changed` covers it: the probe prints one for every name looked up.
    assert!(vars.seen().iter().any(|name| name == "SSL_CERT_DIR"), "{:?}", vars.seen());

    let settings = quick(&[("SSL_CERT_DIR", dir)]);
    assert_eq!(settings.extra_roots.len(), 1);
    assert_eq!(to_vec(&server.url("/f"), &settings).unwrap().value, b"trusted");
    let empty = tempfile::tempdir().unwrap();
    let error = settings_from(&[("SSL_CERT_DIR", empty.path().to_str().unwrap())]).unwrap_err();
    assert!(error.to_string().contains("holds no PEM certificate"), "{error}");
}

// ---- proxies ----

#[test]
fn https_proxy_carries_the_request_through_a_connect_tunnel() {
    let origin = Server::https(pki().server_config(Leaf::Good));
    origin.route("/f", Reply::ok("via proxy"));
    let proxy = ConnectProxy::start();
    let (_dir, ca) = ca_file();
    let settings = quick(&[("HTTPS_PROXY", &proxy.url()), ("ONNXRUNTIME_CA_BUNDLE", &ca)]);
    let got = to_vec(&origin.url("/f"), &settings).unwrap();
    assert_eq!(got.value, b"via proxy");
    assert_eq!(proxy.tunnels(), 1);
    assert_eq!(proxy.targets(), [origin.addr().to_string()]);
    assert_eq!(origin.hits("/f"), 1);
}

#[test]
fn no_proxy_sends_matching_hosts_direct() {
    let origin = Server::https(pki().server_config(Leaf::Good));
    origin.route("/f", Reply::ok("direct"));
    let proxy = ConnectProxy::start();
    let (_dir, ca) = ca_file();
    for (no_proxy, url) in [
        ("127.0.0.1", origin.url("/f")),
        ("example.com, 127.0.0.0/8", origin.url("/f")),
        ("*", origin.url("/f")),
        (".localhost", origin.localhost_url("/f")),
    ] {
        let settings = quick(&[("https_proxy", &proxy.url()), ("NO_PROXY", no_proxy), ("ONNXRUNTIME_CA_BUNDLE", &ca)]);
        assert_eq!(to_vec(&url, &settings).unwrap().value, b"direct", "NO_PROXY={no_proxy}");
    }
    assert_eq!(proxy.tunnels(), 0);
    // A NO_PROXY that does not match keeps the proxy in the way.
    let settings = quick(&[("https_proxy", &proxy.url()), ("no_proxy", "example.com"), ("ONNXRUNTIME_CA_BUNDLE", &ca)]);
    to_vec(&origin.url("/f"), &settings).unwrap();
    assert_eq!(proxy.tunnels(), 1);
}

#[test]
fn the_proxy_is_chosen_again_for_each_redirect_hop() {
    let origin = Server::https(pki().server_config(Leaf::Good));
    origin.route("/start", Reply::redirect(302, &origin.localhost_url("/end")));
    origin.route("/end", Reply::ok("done"));
    let proxy = ConnectProxy::start();
    let (_dir, ca) = ca_file();
    let settings = quick(&[("HTTPS_PROXY", &proxy.url()), ("NO_PROXY", "localhost"), ("ONNXRUNTIME_CA_BUNDLE", &ca)]);
    assert_eq!(to_vec(&origin.url("/start"), &settings).unwrap().value, b"done");
    assert_eq!(proxy.tunnels(), 1, "only the 127.0.0.1 hop goes through the proxy");
    assert_eq!((origin.hits("/start"), origin.hits("/end")), (1, 1));
}

/// An http and an https origin, each serving its own name at `/f`.
fn plain_and_secure() -> (Server, Server) {
    let plain = Server::http();
    plain.route("/f", Reply::ok("plain"));
    let secure = Server::https(pki().server_config(Leaf::Good));
    secure.route("/f", Reply::ok("secure"));
    (plain, secure)
}

#[test]
fn http_proxy_serves_only_http_urls() {
    let (plain, secure) = plain_and_secure();
    let proxy = ConnectProxy::start();
    let (_dir, ca) = ca_file();
    let settings = quick(&[("HTTP_PROXY", &proxy.url()), ("ONNXRUNTIME_CA_BUNDLE", &ca)]);
    to_vec(&secure.url("/f"), &settings).unwrap();
    assert_eq!(proxy.tunnels(), 0, "HTTP_PROXY must not carry https");
    to_vec(&plain.url("/f"), &settings).unwrap();
    assert_eq!(proxy.forwarded(), 1, "an http URL goes through the proxy as an absolute-form request");
    assert_eq!(plain.hits("/f"), 1);
}

#[test]
fn proxy_credentials_go_in_proxy_authorization_for_tunnels_and_plain_requests() {
    let (plain, secure) = plain_and_secure();
    let proxy = ConnectProxy::start();
    let (_dir, ca) = ca_file();
    // `%40` in the URL is an `@` of the password.
    let value = proxy.url().replace("http://", "http://alice:p%40ss@");
    let settings = quick(&[("HTTP_PROXY", &value), ("HTTPS_PROXY", &value), ("ONNXRUNTIME_CA_BUNDLE", &ca)]);
    assert_eq!(to_vec(&plain.url("/f"), &settings).unwrap().value, b"plain");
    assert_eq!(to_vec(&secure.url("/f"), &settings).unwrap().value, b"secure");
    let expected = format!("Basic {}", wire::base64(b"alice:p@ss"));
    let asked = proxy.requests();
    assert_eq!(asked.len(), 2);
    assert_eq!((asked[0].method.as_str(), asked[0].path.clone()), ("GET", plain.url("/f")), "absolute-form");
    assert_eq!((asked[1].method.as_str(), asked[1].path.clone()), ("CONNECT", secure.addr().to_string()));
    for request in &asked {
        assert_eq!(request.header("Proxy-Authorization"), Some(expected.as_str()), "{}", request.method);
    }
    // The origin behind a tunnel never sees the proxy's credentials.
    assert_eq!(secure.requests()[0].header("Proxy-Authorization"), None);
    assert_eq!((proxy.tunnels(), proxy.forwarded()), (1, 1));
}

#[test]
fn all_proxy_socks5_carries_http_and_https() {
    let plain = Server::http();
    plain.route("/f", Reply::ok("plain"));
    let secure = Server::https(pki().server_config(Leaf::Good));
    secure.route("/f", Reply::ok("secure"));
    let socks = Socks5Proxy::start();
    let (_dir, ca) = ca_file();
    for scheme in ["socks5", "socks5h"] {
        let settings = quick(&[("ALL_PROXY", &socks.url(scheme)), ("ONNXRUNTIME_CA_BUNDLE", &ca)]);
        assert_eq!(to_vec(&plain.url("/f"), &settings).unwrap().value, b"plain");
        assert_eq!(to_vec(&secure.url("/f"), &settings).unwrap().value, b"secure");
    }
    assert_eq!(socks.connections(), 4);
    assert!(socks.targets().contains(&secure.addr().to_string()), "{:?}", socks.targets());
}

#[test]
fn a_malformed_proxy_is_an_error_naming_the_variable_never_a_direct_connection() {
    for value in [
        "http://:3128",
        "ftp://proxy.corp:21",
        "http://proxy.corp:99999",
        "http://proxy.corp:0",
        "http://[::1",
        "socks5://pro xy:1080",
        "://",
        "http://user:pw@",
    ] {
        let error = settings_from(&[("HTTPS_PROXY", value)]).unwrap_err();
        assert!(
            matches!(&error, DownloadError::Proxy { variable, .. } if variable == "HTTPS_PROXY"),
            "{value}: {error:?}"
        );
    }
    let error = settings_from(&[("all_proxy", "gopher://x:70")]).unwrap_err();
    assert!(error.to_string().starts_with("all_proxy=gopher://x:70 cannot be used as a proxy"), "{error}");
    // A scheme-less value means http://, as for curl.
    let settings = settings_from(&[("HTTPS_PROXY", "proxy.corp:3128")]).unwrap();
    assert_eq!(settings.proxies.https.unwrap().shown, "http://proxy.corp:3128");
}

#[test]
fn a_dead_proxy_fails_instead_of_going_direct() {
    let origin = Server::http();
    origin.route("/f", Reply::ok("x"));
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut settings = quick(&[("http_proxy", &format!("http://127.0.0.1:{port}"))]);
    settings.retries = 1;
    let error = download_error(to_vec(&origin.url("/f"), &settings));
    assert!(error.to_string().contains("through the proxy http_proxy="), "{error}");
    assert_eq!(origin.requests().len(), 0);
}

#[test]
fn a_proxy_refusing_the_tunnel_is_a_final_proxy_error_that_hides_the_password() {
    let origin = Server::http();
    let proxy = ConnectProxy::answering(407);
    let value = proxy.url().replace("http://", "http://user:hunter2@");
    let error = download_error(to_vec(&origin.url("/f"), &quick(&[("HTTP_PROXY", &value)])));
    assert!(matches!(&error, DownloadError::Proxy { variable, .. } if variable == "HTTP_PROXY"), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("407") && text.contains("user:***@") && !text.contains("hunter2"), "{text}");
    assert_eq!(proxy.targets().len(), 1, "a refusal is not retried");
}

#[test]
fn no_proxy_entries_match_like_curl() {
    let list =
        NoProxy::parse("localhost, .internal.corp,*.svc ,10.0.0.0/8 192.168.1.7, mirror.corp:8443,[::1],fd00::/8");
    let direct = |host: &str, port: u16| list.matches(host, port);
    assert!(direct("localhost", 80) && direct("LOCALHOST.", 443));
    assert!(direct("internal.corp", 443) && direct("a.b.internal.corp", 443));
    assert!(!direct("notinternal.corp", 443));
    assert!(direct("api.svc", 443) && direct("svc", 443));
    assert!(direct("10.20.30.40", 443) && !direct("11.0.0.1", 443));
    assert!(direct("192.168.1.7", 8080) && !direct("192.168.1.70", 8080));
    assert!(direct("mirror.corp", 8443) && !direct("mirror.corp", 443));
    assert!(direct("[::1]", 443) && direct("[fd00::5]", 443) && !direct("[fe80::1]", 443));
    assert!(!direct("example.com", 443));
    assert!(NoProxy::parse("*").matches("anything.at.all", 1));
    assert!(!NoProxy::parse(" , ,").matches("localhost", 80));
}

// ---- settings ----

#[test]
fn the_timeout_comes_from_the_variable_then_the_builder_then_the_default() {
    let env = Env::from_vars([("ONNXRUNTIME_HTTP_TIMEOUT", "2.5")]);
    let settings = HttpSettings::from_vars(&Vars::new(&env, TARGET), Some(Duration::from_secs(9))).unwrap();
    assert_eq!(settings.timeout, Duration::from_millis(2500));
    let env =
        Env::from_vars([(format!("ONNXRUNTIME_HTTP_TIMEOUT_{TARGET}"), "7"), ("ONNXRUNTIME_HTTP_TIMEOUT".into(), "1")]);
    assert_eq!(HttpSettings::from_vars(&Vars::new(&env, TARGET), None).unwrap().timeout, Duration::from_secs(7));
    let empty = Env::from_vars(Vec::<(String, String)>::new());
    let from_builder = HttpSettings::from_vars(&Vars::new(&empty, TARGET), Some(Duration::from_secs(9))).unwrap();
    assert_eq!(from_builder.timeout, Duration::from_secs(9));
    let default = HttpSettings::from_vars(&Vars::new(&empty, TARGET), None).unwrap();
    assert_eq!((default.timeout, default.retries, default.backoff), (DEFAULT_TIMEOUT, 3, Duration::from_millis(500)));
    assert!(default.proxies.https.is_none() && default.extra_roots.is_empty());
}

#[test]
fn an_invalid_timeout_is_an_error_naming_the_variable() {
    for value in ["abc", "-1", "0", "inf", "NaN", "1e9", "30s"] {
        let error = settings_from(&[("ONNXRUNTIME_HTTP_TIMEOUT", value)]).unwrap_err();
        assert!(
            matches!(&error, DownloadError::Setting { variable, .. } if variable == "ONNXRUNTIME_HTTP_TIMEOUT"),
            "{value}: {error:?}"
        );
    }
    let suffixed = format!("ONNXRUNTIME_HTTP_TIMEOUT_{TARGET}");
    let error = settings_from(&[(suffixed.as_str(), "soon")]).unwrap_err();
    assert!(error.to_string().starts_with(&format!("{suffixed}=soon cannot be used")), "{error}");
}

#[test]
fn a_body_longer_than_expected_is_cut_off_and_not_retried() {
    let server = Server::http();
    let long = payload(300_000);
    // No Content-Length: only counting the bytes can stop it.
    server.route("/endless", Reply::ShortBody { body: long.clone(), sent: long.len(), declare_length: false });
    server.route("/announced", Reply::ok(long.clone()));
    let mut settings = quick(&[]);
    settings.max_body_bytes = Some(100_000);
    // A consumer that stops early still has the rest drained into the hash: the cap applies there too.
    let error = download_error(fetch(&server.url("/endless"), &settings, None, |_| Ok::<_, io::Error>(())));
    assert!(matches!(&error, DownloadError::TooLarge { limit: 100_000, announced: None, .. }), "{error}");
    let error = download_error(to_vec(&server.url("/announced"), &settings));
    assert!(matches!(&error, DownloadError::TooLarge { announced: Some(300_000), .. }), "{error}");
    assert_eq!(server.hits("/endless") + server.hits("/announced"), 2, "no retries");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.tgz");
    std::fs::write(&file, &long).unwrap();
    let error = download_error(to_vec(&format!("file://{}", file.display()), &settings));
    assert!(matches!(&error, DownloadError::TooLarge { limit: 100_000, .. }), "{error}");
    settings.max_body_bytes = Some(300_000);
    assert_eq!(to_vec(&format!("file://{}", file.display()), &settings).unwrap().bytes, 300_000);
}

//! The "Transport" rows of TEST-MATRIX.md through the probe (the fetch layer's own tests in
//! src/fetch/tests.rs cover each in more forms), and the cache-damage rows of "Integrity". Every probe
//! is a real download source run against loopback servers and proxies; each test bounds its time, and
//! every refusal checks that no cache entry was published and that `<cache>/.tmp` is empty.
#![allow(clippy::result_large_err)]

mod support;

use std::fs;
use std::time::{Duration, Instant};

use onnxruntime_provision::{DownloadError, Error, Library};
use support::X86_64;
use support::archive::Archive;
use support::scene::{Scene, download_error, fetched_now};
use support::server::{ConnectProxy, Leaf, Reply, Server, Socks5Proxy, TestPki, TlsConnectProxy};

const TGZ: &str = "onnxruntime-linux-x64-1.22.0.tgz";

/// A scene whose manifest pins a freshly built official-layout archive, served by `server` under
/// its mirror path. Returns the scene, the archive and the URL path it is served under.
fn scene_for(server: &Server) -> (Scene, Archive, String) {
    let mut scene = Scene::new(X86_64);
    let archive = scene.archive("1.22.0", X86_64, TGZ);
    scene.manifest(&[archive.manifest_line("1.22.0", "linux-x64", "cpu")]).set("ONNXRUNTIME_MIRROR", server.url(""));
    let path = archive.url_path("1.22.0");
    (scene, archive, path)
}

/// The probe fails with a download error matching `expected`, within `limit`, keeping nothing.
fn refused(scene: &Scene, limit: Duration, expected: impl Fn(&DownloadError) -> bool) -> Error {
    let started = Instant::now();
    let err = scene.probe().expect_err("the download must fail");
    assert!(started.elapsed() < limit, "took {:?} (limit {limit:?})", started.elapsed());
    assert!(expected(download_error(&err)), "unexpected error:\n{err}");
    assert!(scene.entries().is_empty(), "published: {:?}", scene.entries());
    assert!(scene.temps().is_empty(), "temps left: {:?}", scene.temps());
    err
}

fn succeeded(scene: &Scene) -> Library {
    let lib = scene.probe().unwrap_or_else(|e| panic!("{e}"));
    assert!(lib.library_file.is_file());
    assert!(scene.temps().is_empty(), "temps left: {:?}", scene.temps());
    lib
}

// ---- statuses, resets, short bodies ----

#[test]
fn server_errors_are_retried_with_backoff_then_named_with_url_and_attempts() {
    for status in [500, 502, 503] {
        let server = Server::http();
        let (scene, _, path) = scene_for(&server);
        server.route(&path, Reply::status(status));
        let started = Instant::now();
        let err = refused(
            &scene,
            Duration::from_secs(20),
            |e| matches!(e, DownloadError::Http { status: s, attempts: 4, .. } if *s == status),
        );
        // Backoff 0.5 + 1 + 2 s between the four attempts.
        assert!(started.elapsed() >= Duration::from_millis(3400), "no backoff: {:?}", started.elapsed());
        assert!(err.to_string().contains(&server.url(&path)) && err.to_string().contains("4 attempts"), "{err}");
        assert_eq!(server.hits(&path), 4);
    }
}

#[test]
fn a_reset_mid_body_or_a_503_is_retried_and_then_succeeds() {
    let server = Server::http();
    let (scene, archive, path) = scene_for(&server);
    let half = archive.bytes.len() / 2;
    server.sequence(
        &path,
        vec![
            Reply::ResetMidBody { body: archive.bytes.clone(), sent: half },
            Reply::status(503),
            Reply::ok(archive.bytes),
        ],
    );
    let lib = succeeded(&scene);
    assert!(fetched_now(&lib));
    assert_eq!(server.hits(&path), 3);
    assert_eq!(scene.entries().len(), 1);
}

#[test]
fn client_errors_are_final_and_name_the_ways_out() {
    for status in [403, 410] {
        let server = Server::http();
        let (scene, _, path) = scene_for(&server);
        server.route(&path, Reply::status(status));
        let err = refused(
            &scene,
            Duration::from_secs(5),
            |e| matches!(e, DownloadError::Http { status: s, attempts: 1, .. } if *s == status),
        );
        assert_eq!(server.hits(&path), 1, "no retry on {status}");
        let text = err.to_string();
        for words in
            [path.as_str(), "1.22", "linux-x64", "ONNXRUNTIME_MIRROR", "ONNXRUNTIME_OFFLINE", "ONNXRUNTIME_DIR"]
        {
            assert!(text.contains(words), "{status}: missing {words:?} in:\n{text}");
        }
    }
}

#[test]
fn a_body_shorter_than_its_content_length_is_refused() {
    let server = Server::http();
    let (scene, archive, path) = scene_for(&server);
    let sent = archive.bytes.len() - 100;
    server.route(&path, Reply::ShortBody { body: archive.bytes, sent, declare_length: true });
    refused(&scene, Duration::from_secs(20), |e| matches!(e, DownloadError::Transport { attempts: 4, .. }));
    assert_eq!(server.hits(&path), 4, "a short body is worth another attempt");
}

#[test]
fn a_short_close_delimited_body_is_a_checksum_mismatch_at_worst() {
    let server = Server::http();
    let (scene, archive, path) = scene_for(&server);
    // Cut at the end of the gzip stream's data, so nothing but the hash can tell.
    let sent = archive.bytes.len() - 8;
    server.route(&path, Reply::ShortBody { body: archive.bytes, sent, declare_length: false });
    // The extractor sees a gzip stream without its trailer, but the hash is judged first.
    let err = refused(
        &scene,
        Duration::from_secs(10),
        |e| matches!(e, DownloadError::ChecksumMismatch { bytes, .. } if *bytes == sent as u64),
    );
    assert!(err.to_string().contains(&archive.sha256), "{err}");
}

// ---- timeouts ----

#[test]
fn a_server_stalling_after_the_headers_fires_the_read_timeout() {
    let server = Server::http();
    let (mut scene, archive, path) = scene_for(&server);
    scene.set("ONNXRUNTIME_HTTP_TIMEOUT", "1");
    server.route(&path, Reply::Stall { length: archive.bytes.len(), silence: Duration::from_secs(30) });
    // Four attempts of 1 s plus 3.5 s of backoff.
    let err = refused(
        &scene,
        Duration::from_secs(15),
        |e| matches!(e, DownloadError::Timeout { which, after, attempts: 4, .. } if which == "read" && *after == Duration::from_secs(1)),
    );
    assert!(err.to_string().contains("read timeout after 1.0 s"), "{err}");
    assert!(err.to_string().contains("ONNXRUNTIME_HTTP_TIMEOUT"), "{err}");
}

#[test]
fn a_trickle_is_stopped_by_the_low_speed_guard() {
    // A byte every 300 ms never trips the 1 s read timeout; the stall guard must stop it.
    let server = Server::http();
    let (mut scene, archive, path) = scene_for(&server);
    scene.set("ONNXRUNTIME_HTTP_TIMEOUT", "1");
    server.route(&path, Reply::Trickle { body: archive.bytes, interval: Duration::from_millis(300) });
    let err = refused(
        &scene,
        Duration::from_secs(20),
        |e| matches!(e, DownloadError::Timeout { which, .. } if which == "stalled transfer"),
    );
    assert!(err.to_string().contains("stalled transfer timeout"), "{err}");
}

// ---- redirects ----

#[test]
fn a_redirect_loop_is_refused_without_retries() {
    let server = Server::http();
    let (scene, _, path) = scene_for(&server);
    server.route(&path, Reply::redirect(302, "/elsewhere"));
    server.route("/elsewhere", Reply::redirect(302, &path));
    refused(
        &scene,
        Duration::from_secs(5),
        |e| matches!(e, DownloadError::Transport { attempts: 1, cause, .. } if cause.contains("redirect loop")),
    );
    assert_eq!((server.hits(&path), server.hits("/elsewhere")), (1, 1));
}

#[test]
fn an_https_to_http_redirect_is_refused() {
    let pki = TestPki::new();
    let plain = Server::http();
    let secure = Server::https(pki.server_config(Leaf::Good));
    let (mut scene, archive, path) = scene_for(&secure);
    plain.route(&path, Reply::ok(archive.bytes));
    secure.route(&path, Reply::redirect(302, &plain.url(&path)));
    let ca = pki.write_ca(scene.tmp.path());
    scene.set("ONNXRUNTIME_CA_BUNDLE", ca);
    refused(
        &scene,
        Duration::from_secs(5),
        |e| matches!(e, DownloadError::Transport { cause, .. } if cause.contains("downgrade")),
    );
    assert_eq!(plain.requests().len(), 0, "the http URL is never asked");
}

// ---- encodings and impostors ----

#[test]
fn a_gzip_content_encoding_is_stored_as_the_bytes_on_the_wire() {
    let server = Server::http();
    let (scene, archive, path) = scene_for(&server);
    server.route(&path, Reply::gzip_labelled(archive.bytes));
    let lib = succeeded(&scene);
    assert!(fetched_now(&lib), "the hash of the undecoded bytes matched the manifest");
    let request = &server.requests()[0];
    assert!(request.header("Accept-Encoding").is_none_or(|v| v == "identity"), "{request:?}");
}

#[test]
fn a_login_page_with_status_200_is_a_checksum_mismatch_that_says_so() {
    let server = Server::http();
    let (scene, archive, path) = scene_for(&server);
    server.route(&path, Reply::login_page());
    let err = refused(
        &scene,
        Duration::from_secs(5),
        |e| matches!(e, DownloadError::ChecksumMismatch { expected, .. } if *expected == archive.sha256),
    );
    assert!(err.to_string().contains("web page"), "{err}");
}

// ---- TLS ----

#[test]
fn certificates_that_do_not_check_out_are_refused_even_with_the_ca() {
    let pki = TestPki::new();
    for leaf in [Leaf::Expired, Leaf::WrongHost] {
        let server = Server::https(pki.server_config(leaf));
        let (mut scene, archive, path) = scene_for(&server);
        server.route(&path, Reply::ok(archive.bytes));
        scene.set("ONNXRUNTIME_CA_BUNDLE", pki.write_ca(scene.tmp.path()));
        let err = refused(&scene, Duration::from_secs(5), |e| matches!(e, DownloadError::Tls { .. }));
        assert!(err.to_string().contains("ONNXRUNTIME_CA_BUNDLE"), "{leaf:?}: {err}");
        assert_eq!(server.requests().len(), 0, "{leaf:?}: no request may be sent");
    }
}

#[test]
fn an_unknown_issuer_is_refused_and_ssl_cert_file_adds_the_ca() {
    let pki = TestPki::new();
    let server = Server::https(pki.server_config(Leaf::Good));
    let (mut scene, archive, path) = scene_for(&server);
    server.route(&path, Reply::ok(archive.bytes));
    let err = refused(&scene, Duration::from_secs(5), |e| matches!(e, DownloadError::Tls { .. }));
    let text = err.to_string();
    assert!(text.contains("ONNXRUNTIME_CA_BUNDLE") && text.contains("SSL_CERT_FILE"), "{text}");
    scene.set("SSL_CERT_FILE", pki.write_ca(scene.tmp.path()));
    assert!(fetched_now(&succeeded(&scene)));
}

// ---- chunked bodies ----

#[test]
fn a_chunked_download_is_verified_and_unpacked_and_one_cut_short_is_retried() {
    let server = Server::http();
    let (scene, archive, path) = scene_for(&server);
    let whole = Reply::chunked(archive.bytes.clone(), 4096);
    let cut = Reply::Chunked { body: archive.bytes.clone(), chunk: 4096, sent: archive.bytes.len() / 2 };
    server.sequence(&path, vec![cut, whole]);
    succeeded(&scene);
    assert_eq!(server.hits(&path), 2, "the cut body, then the whole one");
}

// ---- proxies ----

#[test]
fn https_proxy_carries_the_download_through_a_connect_tunnel() {
    let pki = TestPki::new();
    let server = Server::https(pki.server_config(Leaf::Good));
    let proxy = ConnectProxy::start();
    let (mut scene, archive, path) = scene_for(&server);
    server.route(&path, Reply::ok(archive.bytes));
    scene.set("ONNXRUNTIME_CA_BUNDLE", pki.write_ca(scene.tmp.path())).set("HTTPS_PROXY", proxy.url());
    succeeded(&scene);
    assert_eq!(proxy.tunnels(), 1);
    assert_eq!(proxy.targets(), [server.addr().to_string()]);
}

/// An https:// proxy with a login: TLS to the proxy, the origin's TLS inside it, the credentials in
/// `Proxy-Authorization` on the `CONNECT`.
#[test]
fn an_https_proxy_with_a_login_carries_the_download_tls_inside_tls() {
    let pki = TestPki::new();
    let server = Server::https(pki.server_config(Leaf::Good));
    let proxy = TlsConnectProxy::start(pki.server_config(Leaf::Good));
    let (mut scene, archive, path) = scene_for(&server);
    server.route(&path, Reply::ok(archive.bytes));
    let with_login = proxy.url().replace("https://", "https://alice:p%40ss@");
    scene.set("ONNXRUNTIME_CA_BUNDLE", pki.write_ca(scene.tmp.path())).set("HTTPS_PROXY", with_login);
    succeeded(&scene);
    assert_eq!((proxy.handshakes(), proxy.behind.tunnels()), (1, 1));
    let asked = proxy.behind.requests();
    assert_eq!(asked[0].path, server.addr().to_string());
    // "alice:p@ss" in base64.
    assert_eq!(asked[0].header("Proxy-Authorization"), Some("Basic YWxpY2U6cEBzcw=="));
}

#[test]
fn no_proxy_sends_the_download_direct() {
    let pki = TestPki::new();
    let server = Server::https(pki.server_config(Leaf::Good));
    let proxy = ConnectProxy::start();
    let (mut scene, archive, path) = scene_for(&server);
    server.route(&path, Reply::ok(archive.bytes));
    scene
        .set("ONNXRUNTIME_CA_BUNDLE", pki.write_ca(scene.tmp.path()))
        .set("HTTPS_PROXY", proxy.url())
        .set("NO_PROXY", "example.com,127.0.0.1");
    succeeded(&scene);
    assert_eq!(proxy.tunnels(), 0);
    assert_eq!(server.hits(&path), 1);
}

#[test]
fn all_proxy_socks5_carries_the_download() {
    let server = Server::http();
    let socks = Socks5Proxy::start();
    let (mut scene, archive, path) = scene_for(&server);
    server.route(&path, Reply::ok(archive.bytes));
    scene.set("ALL_PROXY", socks.url("socks5"));
    succeeded(&scene);
    assert_eq!(socks.connections(), 1);
    assert_eq!(socks.targets(), [server.addr().to_string()]);
}

/// A SOCKS5 login (RFC 1929) that the proxy refuses fails the probe at once, naming the variable
/// and never showing the password; the right one downloads.
#[test]
fn a_socks5_login_refused_fails_the_probe_without_showing_the_password() {
    let server = Server::http();
    let socks = Socks5Proxy::requiring("alice", "right-one");
    let (mut scene, archive, path) = scene_for(&server);
    server.route(&path, Reply::ok(archive.bytes));
    scene.set("ALL_PROXY", socks.url_with("socks5h", "alice:wrong-one"));
    let error = refused(&scene, Duration::from_secs(20), |e| matches!(e, DownloadError::Proxy { .. }));
    let text = format!("{error} {error:?}");
    assert!(text.contains("ALL_PROXY") && !text.contains("wrong-one"), "{text}");
    assert_eq!(server.hits(&path), 0);

    scene.set("ALL_PROXY", socks.url_with("socks5h", "alice:right-one"));
    succeeded(&scene);
    let accepted: Vec<bool> = socks.logins().iter().map(|l| l.accepted).collect();
    assert_eq!(accepted, [false, true]);
}

#[test]
fn a_malformed_or_dead_proxy_is_an_error_never_a_direct_connection() {
    let server = Server::http();
    let (mut scene, archive, path) = scene_for(&server);
    server.route(&path, Reply::ok(archive.bytes));
    for (name, value) in
        [("HTTPS_PROXY", "http://[::1"), ("ALL_PROXY", "gopher://proxy:70"), ("HTTP_PROXY", "http://:3128")]
    {
        let mut bad = Scene { tmp: support::tempdir(), vars: scene.vars.clone() };
        bad.set("ONNXRUNTIME_CACHE_DIR", bad.path("cache")).set(name, value);
        let err = refused(
            &bad,
            Duration::from_secs(5),
            |e| matches!(e, DownloadError::Proxy { variable, .. } if variable == name),
        );
        assert!(err.to_string().contains(value), "{err}");
    }
    // A proxy that is down: the download fails rather than going around it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    scene.set("HTTP_PROXY", format!("http://127.0.0.1:{port}"));
    let err = refused(&scene, Duration::from_secs(15), |_| true);
    assert!(err.to_string().contains("HTTP_PROXY"), "{err}");
    assert_eq!(server.requests().len(), 0, "never a direct connection");
}

// ---- cache damage ----

/// Ways a published entry gets damaged after the fact.
const DAMAGES: &[&str] =
    &["library deleted", "file truncated", "marker emptied", "marker garbled", "marker deleted", "content deleted"];

fn damage(entry: &std::path::Path, lib: &Library, how: &str) {
    let marker = entry.join("marker");
    match how {
        "library deleted" => fs::remove_file(&lib.library_file).unwrap(),
        "file truncated" => fs::write(&lib.library_file, b"\x7fELF").unwrap(),
        "marker emptied" => fs::write(&marker, b"").unwrap(),
        "marker garbled" => {
            let text = fs::read_to_string(&marker).unwrap().replace("file ", "fiel ");
            fs::write(&marker, text).unwrap()
        }
        "marker deleted" => fs::remove_file(&marker).unwrap(),
        "content deleted" => fs::remove_dir_all(entry.join("content")).unwrap(),
        other => unreachable!("{other}"),
    }
}

#[test]
fn a_damaged_entry_is_refetched_online_and_a_clear_error_offline() {
    let server = Server::http();
    let (mut scene, archive, path) = scene_for(&server);
    server.route(&path, Reply::ok(archive.bytes));
    let entry = scene.cache().join(&archive.sha256);
    for (n, how) in DAMAGES.iter().enumerate() {
        let lib = succeeded(&scene);
        damage(&entry, &lib, how);

        scene.set("ONNXRUNTIME_OFFLINE", "1");
        let err = scene.probe().expect_err("a damaged entry must not be used");
        assert!(matches!(download_error(&err), DownloadError::Offline { .. }), "{how}: {err}");
        assert!(err.to_string().contains("cargo onnxruntime fetch"), "{how}: {err}");
        scene.set("ONNXRUNTIME_OFFLINE", "");

        let lib = succeeded(&scene);
        assert!(fetched_now(&lib), "{how}: repaired by a new download");
        assert_eq!(server.hits(&path), n + 2, "{how}");
        assert_eq!(scene.entries(), std::slice::from_ref(&archive.sha256), "{how}");
        assert!(fs::read_to_string(entry.join("marker")).unwrap().ends_with("end\n"), "{how}");
        // The staged links of the next build lead into the repaired entry.
        let staged = scene.path("out/onnxruntime/lib/libonnxruntime.so.1");
        assert!(fs::canonicalize(&staged).unwrap().starts_with(fs::canonicalize(&entry).unwrap()), "{how}");
    }
}

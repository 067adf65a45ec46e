//! Proxies that need more than a plain TCP connection, against real loopback proxies: an https://
//! proxy (TLS to the proxy, then TLS to the origin inside it) with Basic credentials, SOCKS5 with
//! RFC 1929 user and password, SOCKS4 with a user id. Every refusal is final, names the variable, and
//! never shows the password.

use super::*;
use crate::test_support::server::{Socks4Proxy, SocksLogin, TlsConnectProxy};

/// The error text of a failed fetch, checked to be the proxy's refusal of `variable`.
fn proxy_refusal(result: Result<Fetched<Vec<u8>>, FetchError<io::Error>>, variable: &str) -> String {
    let error = download_error(result);
    assert!(matches!(&error, DownloadError::Proxy { variable: v, .. } if v == variable), "{error:?}");
    // The report a build shows carries the same text: neither may hold a password.
    format!("{error} {error:?}")
}

fn login(user: &str, password: &str, accepted: bool) -> SocksLogin {
    SocksLogin { user: user.into(), password: password.into(), accepted }
}

// ---- https:// proxy ----

#[test]
fn an_https_proxy_carries_tls_inside_tls_and_plain_http_inside_tls() {
    let origin = Server::https(pki().server_config(Leaf::Good));
    let body = payload(300_000); // many TLS records each way through both layers
    origin.route("/f", Reply::ok(body.clone()));
    let plain = Server::http();
    plain.route("/f", Reply::ok("plain"));
    let proxy = TlsConnectProxy::start(pki().server_config(Leaf::Good));
    let (_dir, ca) = ca_file();
    let settings =
        quick(&[("HTTPS_PROXY", &proxy.url()), ("HTTP_PROXY", &proxy.url()), ("ONNXRUNTIME_CA_BUNDLE", &ca)]);
    let got = to_vec(&origin.url("/f"), &settings).unwrap();
    assert_eq!((got.sha256, got.attempts), (sha256(&body), 1));
    assert_eq!(to_vec(&plain.url("/f"), &settings).unwrap().value, b"plain");
    assert_eq!(proxy.handshakes(), 2, "each request spoke TLS to the proxy");
    let asked = proxy.behind.requests();
    assert_eq!((asked[0].method.as_str(), asked[0].path.clone()), ("CONNECT", origin.addr().to_string()));
    assert_eq!((asked[1].method.as_str(), asked[1].path.clone()), ("GET", plain.url("/f")), "absolute-form");
    assert_eq!((proxy.behind.tunnels(), proxy.behind.forwarded()), (1, 1));
    assert_eq!((origin.hits("/f"), plain.hits("/f")), (1, 1));
}

#[test]
fn an_https_proxy_is_verified_like_an_origin() {
    let origin = Server::https(pki().server_config(Leaf::Good));
    origin.route("/f", Reply::ok("never"));
    let proxy = TlsConnectProxy::start(pki().server_config(Leaf::Good));
    // The test CA is not trusted: the proxy's certificate is refused before anything is sent.
    let error = download_error(to_vec(&origin.url("/f"), &quick(&[("HTTPS_PROXY", &proxy.url())])));
    assert!(matches!(&error, DownloadError::Tls { cause, .. } if cause.contains("unknown issuer")), "{error:?}");
    assert_eq!((proxy.handshakes(), proxy.behind.requests().len(), origin.hits("/f")), (0, 0, 0));
    // A certificate for another name is refused too, even with the CA.
    let wrong = TlsConnectProxy::start(pki().server_config(Leaf::WrongHost));
    let (_dir, ca) = ca_file();
    let settings = quick(&[("HTTPS_PROXY", &wrong.url()), ("ONNXRUNTIME_CA_BUNDLE", &ca)]);
    let error = download_error(to_vec(&origin.url("/f"), &settings));
    assert!(matches!(&error, DownloadError::Tls { cause, .. } if cause.contains("another host name")), "{error:?}");
    assert_eq!(wrong.behind.requests().len(), 0);
}

#[test]
fn https_proxy_credentials_go_in_proxy_authorization_inside_its_tls() {
    let (plain, secure) = plain_and_secure();
    let proxy = TlsConnectProxy::start(pki().server_config(Leaf::Good));
    let (_dir, ca) = ca_file();
    // `%40` and `%3A` are an `@` and a `:` of the password.
    let value = proxy.url().replace("https://", "https://alice:p%40ss%3Aw0rd@");
    let settings = quick(&[("HTTPS_PROXY", &value), ("HTTP_PROXY", &value), ("ONNXRUNTIME_CA_BUNDLE", &ca)]);
    assert_eq!(to_vec(&secure.url("/f"), &settings).unwrap().value, b"secure");
    assert_eq!(to_vec(&plain.url("/f"), &settings).unwrap().value, b"plain");
    let expected = format!("Basic {}", wire::base64(b"alice:p@ss:w0rd"));
    let asked = proxy.behind.requests();
    assert_eq!(asked.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(), ["CONNECT", "GET"]);
    for request in &asked {
        assert_eq!(request.header("Proxy-Authorization"), Some(expected.as_str()), "{}", request.method);
    }
    // The origin behind the tunnel never sees them.
    assert_eq!(secure.requests()[0].header("Proxy-Authorization"), None);
}

#[test]
fn an_https_proxy_answering_407_is_a_final_error_without_the_password() {
    let (plain, secure) = plain_and_secure();
    let proxy = TlsConnectProxy::answering(pki().server_config(Leaf::Good), 407);
    let (_dir, ca) = ca_file();
    let value = proxy.url().replace("https://", "https://carol:Tr0ub4dor%263@");
    for (variable, url) in [("HTTPS_PROXY", secure.url("/f")), ("HTTP_PROXY", plain.url("/f"))] {
        let settings = quick(&[(variable, &value), ("ONNXRUNTIME_CA_BUNDLE", &ca)]);
        let text = proxy_refusal(to_vec(&url, &settings), variable);
        assert!(text.contains("407") && text.contains("https://carol:***@"), "{text}");
        assert!(!text.contains("Tr0ub4dor"), "the password leaked: {text}");
    }
    // One CONNECT and one plain request, each refused once and never retried; the origins never asked.
    assert_eq!(proxy.behind.targets().len(), 2);
    assert_eq!(proxy.handshakes(), 2);
    assert_eq!((plain.hits("/f"), secure.hits("/f")), (0, 0));
}

// ---- SOCKS5 with a user and password (RFC 1929) ----

#[test]
fn socks5_with_user_and_password_logs_in_and_carries_http_and_https() {
    let (plain, secure) = plain_and_secure();
    let socks = Socks5Proxy::requiring("alice", "s3cr:t@x");
    let (_dir, ca) = ca_file();
    for scheme in ["socks5", "socks5h"] {
        let value = socks.url_with(scheme, "alice:s3cr%3At%40x");
        let settings = quick(&[("ALL_PROXY", &value), ("ONNXRUNTIME_CA_BUNDLE", &ca)]);
        assert_eq!(to_vec(&plain.url("/f"), &settings).unwrap().value, b"plain");
        assert_eq!(to_vec(&secure.localhost_url("/f"), &settings).unwrap().value, b"secure");
    }
    assert_eq!(socks.logins(), vec![login("alice", "s3cr:t@x", true); 4]);
    assert_eq!(socks.connections(), 4);
    // socks5:// resolves the name here, socks5h:// hands it to the proxy.
    let port = secure.addr().port();
    let targets = socks.targets();
    assert_eq!(targets[1], format!("127.0.0.1:{port}"), "{targets:?}");
    assert_eq!(targets[3], format!("localhost:{port}"), "{targets:?}");
}

#[test]
fn socks5_refusing_the_login_is_a_final_error_without_the_password() {
    let origin = Server::http();
    origin.route("/f", Reply::ok("never"));
    let socks = Socks5Proxy::requiring("alice", "right");
    let value = socks.url_with("socks5h", "alice:Wr0ng-Secret");
    let text = proxy_refusal(to_vec(&origin.url("/f"), &quick(&[("ALL_PROXY", &value)])), "ALL_PROXY");
    assert!(text.contains("refused the user name and password") && text.contains("alice:***@"), "{text}");
    assert!(text.contains("check the user `alice`"), "says what to fix: {text}");
    assert!(!text.contains("Wr0ng-Secret"), "the password leaked: {text}");
    assert_eq!(socks.logins(), [login("alice", "Wr0ng-Secret", false)], "one try, not retried");
    assert_eq!((socks.connections(), origin.hits("/f")), (0, 0));
}

#[test]
fn socks5_asking_for_a_login_the_url_lacks_says_where_it_goes() {
    let origin = Server::http();
    let socks = Socks5Proxy::requiring("alice", "right");
    let text = proxy_refusal(to_vec(&origin.url("/f"), &quick(&[("ALL_PROXY", &socks.url("socks5"))])), "ALL_PROXY");
    assert!(text.contains("wants a user name and password") && text.contains("socks5://user:password@"), "{text}");
    assert!(socks.logins().is_empty());
}

#[test]
fn socks5_credentials_longer_than_rfc_1929_allows_are_refused_before_sending() {
    let origin = Server::http();
    let socks = Socks5Proxy::requiring("alice", "right");
    let long_user = "u".repeat(256);
    let long_password = "Secret-".repeat(40); // 280 bytes
    for (userinfo, what, length) in
        [(format!("{long_user}:pw"), "user name", 256), (format!("alice:{long_password}"), "password", 280)]
    {
        let value = socks.url_with("socks5h", &userinfo);
        let text = proxy_refusal(to_vec(&origin.url("/f"), &quick(&[("ALL_PROXY", &value)])), "ALL_PROXY");
        let cause = format!("SOCKS5 {what} in the proxy URL is {length} bytes, and RFC 1929 allows at most 255");
        assert!(text.contains(&cause) && text.contains("use a shorter one"), "{text}");
        assert!(!text.contains("Secret-"), "the password leaked: {text}");
    }
    assert!(socks.logins().is_empty(), "nothing was sent: {:?}", socks.logins());
}

// ---- SOCKS4 user id ----

#[test]
fn socks4_sends_the_user_id_and_never_the_password() {
    let origin = Server::http();
    origin.route("/f", Reply::ok("via socks4"));
    let socks = Socks4Proxy::requiring("bob");
    for scheme in ["socks4", "socks4a"] {
        let value = socks.url_with(scheme, "bob:not-sent");
        let got = to_vec(&origin.localhost_url("/f"), &quick(&[("ALL_PROXY", &value)])).unwrap();
        assert_eq!(got.value, b"via socks4");
    }
    assert_eq!(socks.logins(), vec![login("bob", "", true); 2]);
    // socks4:// resolves the name here; socks4a:// hands it to the proxy.
    let port = origin.addr().port();
    assert_eq!(socks.targets(), [format!("127.0.0.1:{port}"), format!("localhost:{port}")]);
    assert_eq!((socks.connections(), origin.hits("/f")), (2, 2));
}

#[test]
fn socks4_refusing_the_user_id_is_a_final_error_naming_it() {
    let origin = Server::http();
    let socks = Socks4Proxy::requiring("bob");
    let value = socks.url_with("socks4", "mallory:hunter2");
    let text = proxy_refusal(to_vec(&origin.url("/f"), &quick(&[("ALL_PROXY", &value)])), "ALL_PROXY");
    assert!(text.contains("could not confirm the user id `mallory`") && text.contains("reply 93"), "{text}");
    assert!(!text.contains("hunter2"), "the password leaked: {text}");
    assert_eq!(socks.logins(), [login("mallory", "", false)], "one try, not retried");
    assert_eq!((socks.connections(), origin.hits("/f")), (0, 0));
}

#[test]
fn settings_in_debug_output_never_show_a_proxy_password() {
    let settings = settings_from(&[
        ("HTTPS_PROXY", "https://alice:Sup3r-S3cret@proxy.corp:8443"),
        ("ALL_PROXY", "socks5h://bob:An0ther-S3cret@socks.corp:1080"),
    ])
    .unwrap();
    let shown = format!("{settings:?}");
    assert!(shown.contains("\"alice\", \"***\"") && shown.contains("\"bob\", \"***\""), "{shown}");
    assert!(!shown.contains("Sup3r-S3cret") && !shown.contains("An0ther-S3cret"), "a password leaked: {shown}");
}

//! The HTTP/1.1 client's parts without a network: hostile response heads and bodies (wire.rs), URL
//! parsing and redirect resolution (url.rs), base64, and the SOCKS handshakes against scripted proxies.

use std::io::{self, BufReader, Read, Write};
use std::net::SocketAddr;

use super::proxy::{ProxyKind, ProxyServer};
use super::socks::{self, Destination, SocksFailure};
use super::url::HttpUrl;
use super::wire::{self, BodyReader, Framing, Malformed};

/// The head of `bytes`, or the error's text.
fn head(bytes: &[u8]) -> Result<wire::Head, String> {
    wire::read_response_head(&mut BufReader::new(bytes)).map_err(|e| describe(&e))
}

fn describe(error: &io::Error) -> String {
    match error.get_ref().and_then(|e| e.downcast_ref::<Malformed>()) {
        Some(Malformed(what)) => format!("malformed: {what}"),
        None => format!("{:?}: {error}", error.kind()),
    }
}

/// The whole body of a response, or the error's text.
fn body(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut reader = BufReader::with_capacity(7, bytes); // small, so lines and chunks span refills
    let head = wire::read_response_head(&mut reader).map_err(|e| describe(&e))?;
    let framing = head.framing().map_err(|Malformed(what)| format!("malformed: {what}"))?;
    let mut out = Vec::new();
    BodyReader::new(reader, framing).read_to_end(&mut out).map_err(|e| describe(&e))?;
    Ok(out)
}

fn framing(headers: &str) -> Result<Framing, String> {
    let head = head(format!("HTTP/1.1 200 OK\r\n{headers}\r\n").as_bytes())?;
    head.framing().map_err(|Malformed(what)| what)
}

#[test]
fn a_response_head_is_read_with_case_insensitive_names_and_trimmed_values() {
    let head =
        head(b"HTTP/1.1 302 Found\r\nlOcAtion:  /next \t\r\nX-Empty:\r\nServer: caf\xc3\xa9\r\n\r\nbody").unwrap();
    assert_eq!((head.status, head.reason.as_str()), (302, "Found"));
    assert_eq!(head.header("LOCATION"), Some("/next"));
    assert_eq!(head.header("x-empty"), Some(""));
    assert_eq!(head.header("server"), Some("café"));
    assert_eq!(head.header("absent"), None);
    // HTTP/1.0, and a status line without a reason phrase.
    assert_eq!(self::head(b"HTTP/1.0 200\r\n\r\n").unwrap().status, 200);
}

#[test]
fn lf_only_line_endings_are_accepted_a_bare_cr_is_not() {
    assert_eq!(body(b"HTTP/1.1 200 OK\nContent-Length: 3\n\nabc").unwrap(), b"abc");
    assert_eq!(body(b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n").unwrap(), b"abc");
    let error = head(b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n").unwrap_err();
    assert!(error.contains("bare CR"), "{error}");
}

#[test]
fn bad_status_lines_are_refused() {
    for line in [
        "HTTP/2 200 OK",
        "HTTP/1.1 20 OK",
        "HTTP/1.1 2000 OK",
        "HTTP/1.1 abc OK",
        "HTTP/1.1  200 OK",
        "HTTP/1.1 200OK",
        "HTTP/1.x 200 OK",
        "ICY 200 OK",
        "HTTP/1.1 099 Low",
        "HTTP/1.1 200 O\u{1}K",
        "",
    ] {
        let error = head(format!("{line}\r\n\r\n").as_bytes()).unwrap_err();
        assert!(error.starts_with("malformed: not an HTTP/1.x status line"), "{line:?}: {error}");
    }
}

#[test]
fn bad_header_lines_are_refused() {
    for (line, words) in [
        (" folded: value", "obsolete line folding"),
        ("\tfolded", "obsolete line folding"),
        ("No colon here", "not a header"),
        ("Name : value", "not a header name"),
        (": value", "not a header name"),
        ("Na(me: value", "not a header name"),
        ("Name: va\u{0}lue", "control byte"),
        ("Name: va\u{7f}lue", "control byte"),
    ] {
        let error = head(format!("HTTP/1.1 200 OK\r\nHost: x\r\n{line}\r\n\r\n").as_bytes()).unwrap_err();
        assert!(error.contains(words), "{line:?}: {error}");
    }
}

#[test]
fn heads_are_capped_in_bytes_and_in_lines() {
    let long = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(wire::MAX_HEAD_BYTES));
    let error = head(long.as_bytes()).unwrap_err();
    assert!(error.contains("longer than 65536 bytes"), "{error}");
    // An endless header line from a server that never sends a newline stops at the cap too.
    let mut endless = io::repeat(b'a');
    let error = wire::read_head(&mut BufReader::new(&mut endless)).unwrap_err();
    assert!(describe(&error).contains("longer than"), "{}", describe(&error));

    let many = |count: usize| format!("HTTP/1.1 200 OK\r\n{}\r\n", "X: y\r\n".repeat(count));
    assert!(head(many(wire::MAX_HEADERS).as_bytes()).is_ok());
    let error = head(many(wire::MAX_HEADERS + 1).as_bytes()).unwrap_err();
    assert!(error.contains("more than 100 header lines"), "{error}");
}

#[test]
fn a_head_cut_short_is_an_unexpected_eof() {
    for cut in [&b""[..], b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"] {
        let error = head(cut).unwrap_err();
        assert!(error.starts_with("UnexpectedEof"), "{:?}: {error}", String::from_utf8_lossy(cut));
    }
}

#[test]
fn interim_responses_are_skipped_within_a_bound_and_101_is_refused() {
    let response = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    assert_eq!(body(response).unwrap(), b"ok");
    let endless = "HTTP/1.1 100 Continue\r\n\r\n".repeat(20);
    assert!(head(endless.as_bytes()).unwrap_err().contains("interim"));
    assert!(head(b"HTTP/1.1 101 Switching Protocols\r\n\r\n").unwrap_err().contains("101"));
}

#[test]
fn content_length_must_be_digits_and_agree_with_itself() {
    assert_eq!(framing("Content-Length: 42\r\n"), Ok(Framing::Length(42)));
    assert_eq!(framing("Content-Length: 42\r\ncontent-length: 42\r\n"), Ok(Framing::Length(42)));
    assert_eq!(framing("Content-Length: 42, 42\r\n"), Ok(Framing::Length(42)));
    assert_eq!(framing(""), Ok(Framing::Close));
    for bad in ["-1", "+5", "0x10", "4 2", "", "1e3", "18446744073709551616", "abc"] {
        let error = framing(&format!("Content-Length: {bad}\r\n")).unwrap_err();
        assert!(error.contains("is not a length"), "{bad:?}: {error}");
    }
    for conflicting in ["Content-Length: 42\r\nContent-Length: 43\r\n", "Content-Length: 42, 7\r\n"] {
        assert!(framing(conflicting).unwrap_err().contains("conflicting"), "{conflicting:?}");
    }
}

#[test]
fn chunked_is_the_only_transfer_coding_and_never_comes_with_a_length() {
    assert_eq!(framing("Transfer-Encoding: Chunked\r\n"), Ok(Framing::Chunked));
    let error = framing("Transfer-Encoding: chunked\r\nContent-Length: 10\r\n").unwrap_err();
    assert!(error.contains("both Transfer-Encoding and Content-Length"), "{error}");
    for coding in ["gzip, chunked", "chunked, chunked", "identity", "gzip"] {
        let error = framing(&format!("Transfer-Encoding: {coding}\r\n")).unwrap_err();
        assert!(error.contains("was not asked for"), "{coding}: {error}");
    }
    // No body at all for 204 and 304, whatever the headers say.
    let head = head(b"HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n").unwrap();
    assert_eq!(head.framing().ok(), Some(Framing::Length(0)));
}

#[test]
fn a_chunked_body_is_decoded_with_extensions_ignored_and_trailers_skipped() {
    let response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
        5;name=value\r\nhello\r\n1 \r\n,\r\nA\r\n world!!!!\r\n0\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\nnot the body";
    assert_eq!(body(response).unwrap(), b"hello, world!!!!");
}

#[test]
fn chunk_sizes_are_hex_in_checked_arithmetic() {
    for (size, words) in [
        ("ffffffffffffffffff", "too large"),
        ("10000000000000000", "too large"),
        ("-1", "not a chunk size"),
        ("", "not a chunk size"),
        ("0x5", "not a chunk size"),
        ("5 5", "not a chunk size"),
        ("g", "not a chunk size"),
    ] {
        let response = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nhello\r\n0\r\n\r\n");
        let error = body(response.as_bytes()).unwrap_err();
        assert!(error.contains(words), "{size:?}: {error}");
    }
    // The largest size that fits is read as such: the body then ends early, an EOF, not an overflow.
    let response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc";
    assert!(body(response.as_bytes()).unwrap_err().starts_with("UnexpectedEof"));
}

#[test]
fn chunk_data_longer_than_its_size_is_refused() {
    let response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n";
    assert!(body(response).unwrap_err().contains("longer than its size"));
}

#[test]
fn chunked_bodies_cut_short_anywhere_are_an_unexpected_eof() {
    let whole = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n";
    let head_end = whole.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(body(whole).unwrap(), b"hello");
    for cut in head_end..whole.len() - 1 {
        let error = body(&whole[..cut]).unwrap_err();
        assert!(error.starts_with("UnexpectedEof"), "cut at {cut}: {error}");
    }
}

#[test]
fn trailers_are_capped_like_a_head() {
    let many = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n{}\r\n", "T: 1\r\n".repeat(200));
    assert!(body(many.as_bytes()).unwrap_err().contains("more than 100 trailer lines"));
    let long = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: {}\r\n\r\n", "a".repeat(70_000));
    assert!(body(long.as_bytes()).unwrap_err().contains("longer than"));
}

#[test]
fn a_length_body_stops_at_its_length_and_a_short_one_is_an_unexpected_eof() {
    assert_eq!(body(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef").unwrap(), b"abc");
    let error = body(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").unwrap_err();
    assert!(error.starts_with("UnexpectedEof"), "{error}");
    assert_eq!(body(b"HTTP/1.1 200 OK\r\n\r\nto the close").unwrap(), b"to the close");
}

#[test]
fn the_fuzz_entry_point_survives_what_the_tests_above_throw_at_it() {
    for bytes in
        [&b""[..], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", b"\xff\xfe\r\n\r\n"]
    {
        super::parse_response(bytes);
    }
}

#[test]
fn requests_carry_our_headers_and_proxy_credentials() {
    let mut out = Vec::new();
    wire::write_get(&mut out, "/v1/a.tgz?x=%20", "mirror:8080", "agent/1", Some("Basic dTpw")).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "GET /v1/a.tgz?x=%20 HTTP/1.1\r\nHost: mirror:8080\r\nUser-Agent: agent/1\r\nAccept: */*\r\n\
         Accept-Encoding: identity\r\nConnection: close\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
    );
    let mut out = Vec::new();
    wire::write_connect(&mut out, "[::1]:443", "agent/1", None).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\nUser-Agent: agent/1\r\n\r\n"
    );
}

#[test]
fn base64_matches_the_rfc_4648_vectors() {
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(wire::base64(plain.as_bytes()), encoded, "{plain:?}");
    }
    assert_eq!(wire::base64(&[0xfb, 0xff, 0xbf]), "+/+/");
    // RFC 7617's example.
    assert_eq!(wire::basic_credentials("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

// ---- URLs ----

#[test]
fn urls_give_host_port_and_target() {
    let url = HttpUrl::parse("HTTPS://Mirror.Example/v1.22.0/a%20b.tgz?sig=x%2F#frag").unwrap();
    assert_eq!((url.https, url.host.as_str(), url.port), (true, "mirror.example", 443));
    assert_eq!(url.target, "/v1.22.0/a%20b.tgz?sig=x%2F", "percent escapes pass through untouched");
    assert_eq!((url.authority(), url.host_port()), ("mirror.example".into(), "mirror.example:443".into()));

    let url = HttpUrl::parse("http://[::1]:8080").unwrap();
    assert_eq!((url.host.as_str(), url.port, url.target.as_str()), ("::1", 8080, "/"));
    assert_eq!((url.authority(), url.absolute()), ("[::1]:8080".into(), "http://[::1]:8080/".into()));
    assert_eq!(HttpUrl::parse("http://127.0.0.1?q").unwrap().target, "/?q");
    assert_eq!(HttpUrl::parse("http://h/a b/é").unwrap().target, "/a%20b/%C3%A9");

    for bad in [
        "ftp://h/x",
        "https://user:pw@h/x",
        "https:///x",
        "https://h:port/x",
        "https://h:99999/x",
        "https://[::1/x",
        "https://[nope]/x",
        "https://h/a\r\nX: y",
        "https://h/\u{0}",
        "h/x",
    ] {
        assert!(HttpUrl::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn locations_resolve_against_the_url_that_answered() {
    let base = HttpUrl::parse("https://mirror.example:8443/releases/v1/a.tgz?sig=1").unwrap();
    for (location, expected) in [
        ("https://cdn.example/x", "https://cdn.example/x"),
        ("HTTP://cdn.example/x", "HTTP://cdn.example/x"),
        ("//cdn.example/x", "https://cdn.example/x"),
        ("/final/b.tgz", "https://mirror.example:8443/final/b.tgz"),
        ("b.tgz", "https://mirror.example:8443/releases/v1/b.tgz"),
        ("sub/b.tgz?x=1#frag", "https://mirror.example:8443/releases/v1/sub/b.tgz?x=1"),
        ("?sig=2", "https://mirror.example:8443/releases/v1/a.tgz?sig=2"),
        ("  /spaced  ", "https://mirror.example:8443/spaced"),
    ] {
        assert_eq!(base.resolve(location), expected, "{location}");
    }
    let ipv6 = HttpUrl::parse("http://[::1]:8080/a/b").unwrap();
    assert_eq!(ipv6.resolve("c"), "http://[::1]:8080/a/c");
}

// ---- SOCKS ----

/// A proxy that answers from a script and records what it was sent.
struct Scripted {
    replies: io::Cursor<Vec<u8>>,
    sent: Vec<u8>,
}

impl Scripted {
    fn new(replies: &[u8]) -> Scripted {
        Scripted { replies: io::Cursor::new(replies.to_vec()), sent: Vec::new() }
    }
}

impl Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.replies.read(buf)
    }
}

impl Write for Scripted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sent.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn socks_proxy(kind: ProxyKind, credentials: Option<(&str, &str)>) -> ProxyServer {
    let credentials = credentials.map(|(u, p)| (u.to_string(), p.to_string()));
    ProxyServer { kind, host: "proxy".into(), port: 1080, credentials }
}

const SOCKS5_OK: [u8; 10] = [5, 0, 0, 1, 0, 0, 0, 0, 0, 0];

#[test]
fn socks5_sends_a_name_for_socks5h_and_an_address_for_socks5() {
    let mut proxy = Scripted::new(&[&[5, 0][..], &SOCKS5_OK].concat());
    socks::handshake(&mut proxy, &socks_proxy(ProxyKind::Socks5h, None), &Destination::Name("cdn.example", 443))
        .unwrap();
    assert_eq!(proxy.sent, [&[5, 1, 0, 5, 1, 0, 3, 11][..], b"cdn.example", &[1, 187]].concat());

    let address: SocketAddr = "[2001:db8::1]:8080".parse().unwrap();
    let mut proxy = Scripted::new(&[&[5, 0][..], &[5, 0, 0, 4], &[0; 18]].concat());
    socks::handshake(&mut proxy, &socks_proxy(ProxyKind::Socks5, None), &Destination::Address(address)).unwrap();
    let mut expected = vec![5, 1, 0, 5, 1, 0, 4];
    expected.extend("2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap().octets());
    expected.extend([0x1f, 0x90]);
    assert_eq!(proxy.sent, expected);
}

#[test]
fn socks5_authenticates_with_user_and_password() {
    let mut proxy = Scripted::new(&[&[5, 2][..], &[1, 0], &SOCKS5_OK].concat());
    let server = socks_proxy(ProxyKind::Socks5h, Some(("alice", "s3cret")));
    socks::handshake(&mut proxy, &server, &Destination::Name("h", 80)).unwrap();
    assert_eq!(proxy.sent[..4], [5, 2, 0, 2], "offers none and user/password");
    assert_eq!(proxy.sent[4..18], [&[1, 5][..], b"alice", &[6], b"s3cret"].concat());

    let mut proxy = Scripted::new(&[&[5, 2][..], &[1, 1]].concat());
    let failure = socks::handshake(&mut proxy, &server, &Destination::Name("h", 80)).unwrap_err();
    assert!(matches!(&failure, SocksFailure::Refused(why) if why.contains("user name and password")), "{failure:?}");
    let mut proxy = Scripted::new(&[5, 0xff]);
    let failure = socks::handshake(&mut proxy, &server, &Destination::Name("h", 80)).unwrap_err();
    assert!(matches!(&failure, SocksFailure::Refused(why) if why.contains("authentication methods")), "{failure:?}");
}

#[test]
fn socks5_failures_are_sorted_into_transient_and_final() {
    let server = socks_proxy(ProxyKind::Socks5h, None);
    let outcome = |reply: &[u8]| {
        let mut proxy = Scripted::new(&[&[5, 0][..], reply].concat());
        socks::handshake(&mut proxy, &server, &Destination::Name("h", 80)).unwrap_err()
    };
    assert!(matches!(outcome(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]), SocksFailure::Unreachable(w) if w.contains("refused")));
    assert!(matches!(outcome(&[5, 2, 0, 1, 0, 0, 0, 0, 0, 0]), SocksFailure::Refused(w) if w.contains("rules")));
    assert!(matches!(outcome(&[4, 0, 0, 1]), SocksFailure::Refused(w) if w.contains("not answer as a SOCKS5")));
    assert!(matches!(outcome(&[5, 0, 0, 9]), SocksFailure::Refused(w) if w.contains("address type")));
    // A reply cut short is an I/O error (transient once classified).
    assert!(matches!(outcome(&[5, 0, 0, 1, 0]), SocksFailure::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof));
    let long = "a".repeat(256);
    let mut proxy = Scripted::new(&[5, 0]);
    let failure = socks::handshake(&mut proxy, &server, &Destination::Name(&long, 80)).unwrap_err();
    assert!(matches!(failure, SocksFailure::Refused(w) if w.contains("too long")));
}

#[test]
fn socks4_sends_an_ipv4_address_and_socks4a_a_name() {
    let address: SocketAddr = "10.1.2.3:443".parse().unwrap();
    let mut proxy = Scripted::new(&[0, 90, 0, 0, 0, 0, 0, 0]);
    let server = socks_proxy(ProxyKind::Socks4, Some(("bob", "")));
    socks::handshake(&mut proxy, &server, &Destination::Address(address)).unwrap();
    assert_eq!(proxy.sent, [&[4, 1, 1, 187, 10, 1, 2, 3][..], b"bob\0"].concat());

    let mut proxy = Scripted::new(&[0, 90, 0, 0, 0, 0, 0, 0]);
    socks::handshake(&mut proxy, &socks_proxy(ProxyKind::Socks4a, None), &Destination::Name("cdn.example", 80))
        .unwrap();
    assert_eq!(proxy.sent, [&[4, 1, 0, 80, 0, 0, 0, 1, 0][..], b"cdn.example\0"].concat());

    let v6: SocketAddr = "[::1]:443".parse().unwrap();
    let failure = socks::handshake(&mut Scripted::new(&[]), &server, &Destination::Address(v6)).unwrap_err();
    assert!(matches!(failure, SocksFailure::Refused(w) if w.contains("IPv6")));
    let mut proxy = Scripted::new(&[0, 91, 0, 0, 0, 0, 0, 0]);
    assert!(matches!(
        socks::handshake(&mut proxy, &server, &Destination::Address(address)),
        Err(SocksFailure::Unreachable(_))
    ));
}

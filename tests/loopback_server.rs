//! The loopback servers' faults are real on the wire: checked with raw sockets, so the fetch tests that
//! rely on them (src/fetch/tests.rs) test what they claim.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::server::{ConnectProxy, Reply, Server, Socks5Proxy};

/// Sends a GET and reads until EOF or an error: (bytes received, how it ended).
fn raw_get(stream: &mut TcpStream, path: &str) -> (Vec<u8>, Option<ErrorKind>) {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (received, None),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) => return (received, Some(e.kind())),
        }
    }
}

fn body_of(response: &[u8]) -> &[u8] {
    let at = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
    &response[at..]
}

#[test]
fn reset_mid_body_is_a_tcp_reset_after_the_promised_prefix() {
    let server = Server::http();
    server.route("/f", Reply::ResetMidBody { body: vec![7; 100_000], sent: 30_000 });
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    // Let the reset arrive before reading, as a slow client would see it.
    std::thread::sleep(Duration::from_millis(300));
    let (received, ended) = raw_get(&mut stream, "/f");
    assert!(String::from_utf8_lossy(&received).contains("Content-Length: 100000"));
    assert_eq!(ended, Some(ErrorKind::ConnectionReset));
}

#[test]
fn short_bodies_end_cleanly_with_or_without_a_length() {
    let server = Server::http();
    server.route("/with", Reply::ShortBody { body: vec![1; 1000], sent: 400, declare_length: true });
    server.route("/without", Reply::ShortBody { body: vec![1; 1000], sent: 400, declare_length: false });
    let (with, ended) = raw_get(&mut TcpStream::connect(server.addr()).unwrap(), "/with");
    assert_eq!((body_of(&with).len(), ended), (400, None));
    assert!(String::from_utf8_lossy(&with).contains("Content-Length: 1000"));
    let (without, _) = raw_get(&mut TcpStream::connect(server.addr()).unwrap(), "/without");
    assert_eq!(body_of(&without).len(), 400);
    assert!(!String::from_utf8_lossy(&without).contains("Content-Length"));
}

#[test]
fn sequences_play_in_order_and_the_log_counts_each_request() {
    let server = Server::http();
    server.sequence("/f", vec![Reply::status(503), Reply::ok("fine")]);
    let statuses: Vec<String> = (0..3)
        .map(|_| {
            let (response, _) = raw_get(&mut TcpStream::connect(server.addr()).unwrap(), "/f");
            String::from_utf8_lossy(&response).lines().next().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(statuses, ["HTTP/1.1 503 Service Unavailable", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]);
    assert_eq!(server.hits("/f"), 3);
    assert_eq!(server.requests()[0].header("host"), Some("test"));
}

#[test]
fn a_stalling_server_stops_promptly_when_dropped() {
    let server = Server::http();
    server.route("/f", Reply::Stall { length: 10, silence: Duration::from_secs(60) });
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    write!(stream, "GET /f HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let mut head = [0u8; 20];
    stream.read_exact(&mut head).unwrap();
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(3), "shutdown took {:?}", started.elapsed());
}

#[test]
fn the_proxies_tunnel_to_the_origin_and_count() {
    let origin = Server::http();
    origin.route("/f", Reply::ok("through"));

    let proxy = ConnectProxy::start();
    let mut stream = TcpStream::connect(proxy.url().trim_start_matches("http://")).unwrap();
    write!(stream, "CONNECT {} HTTP/1.1\r\n\r\n", origin.addr()).unwrap();
    let mut established = [0u8; 39];
    stream.read_exact(&mut established).unwrap();
    assert!(established.starts_with(b"HTTP/1.1 200"));
    let (response, _) = raw_get(&mut stream, "/f");
    assert_eq!(body_of(&response), b"through");
    assert_eq!(proxy.tunnels(), 1);

    let socks = Socks5Proxy::start();
    let mut stream = TcpStream::connect(socks.url("socks5").trim_start_matches("socks5://")).unwrap();
    stream.write_all(&[5, 1, 0]).unwrap();
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).unwrap();
    assert_eq!(choice, [5, 0]);
    let port = origin.addr().port().to_be_bytes();
    stream.write_all(&[5, 1, 0, 1, 127, 0, 0, 1, port[0], port[1]]).unwrap();
    let mut reply = [0u8; 10];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(reply[1], 0, "SOCKS5 success");
    let (response, _) = raw_get(&mut stream, "/f");
    assert_eq!(body_of(&response), b"through");
    assert_eq!((socks.connections(), origin.hits("/f")), (1, 2));
}

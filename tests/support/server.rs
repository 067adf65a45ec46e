//! Loopback test servers: HTTP and HTTPS with fault injection per path, an HTTP CONNECT proxy (also
//! behind TLS, as an https:// proxy), SOCKS5 (optionally requiring a user and password) and SOCKS4
//! proxies that count their tunnels, and a test PKI (a CA with a good, an expired and a wrong-host
//! leaf). Everything listens on 127.0.0.1:0, serves a thread per connection, logs what it was asked, and
//! stops on drop: live sockets are shut down, sleeps notice the stop flag, and every thread is joined.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// Connections a listener serves before it drops new ones unanswered: a runaway retry loop then fails
/// its test instead of spinning forever.
const MAX_CONNECTIONS: usize = 200;
/// A connection idle this long is abandoned (a safety net; tests use far shorter timeouts).
const IDLE: Duration = Duration::from_secs(10);
/// The longest request head read.
const MAX_HEAD: usize = 64 * 1024;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking handler thread must not hide the log from the test that reads it.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Per path: the replies in order, and how many were given.
type Routes = Mutex<HashMap<String, (Vec<Reply>, usize)>>;
/// The request line's words, and the headers.
type Head = (Vec<String>, Vec<(String, String)>);

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A complete response with a `Content-Length`.
    Full { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// `Content-Length` of the whole body, `sent` bytes of it, then a TCP reset (SO_LINGER 0).
    ResetMidBody { body: Vec<u8>, sent: usize },
    /// `sent` bytes of the body, then a clean close. With `declare_length`, the headers announced the
    /// whole body's length; without, the body is close-delimited.
    ShortBody { body: Vec<u8>, sent: usize, declare_length: bool },
    /// Headers announcing `length` bytes, then silence for `silence`, then a close.
    Stall { length: usize, silence: Duration },
    /// The body one byte at a time, `interval` apart.
    Trickle { body: Vec<u8>, interval: Duration },
    /// The body in `chunk`-byte pieces, `interval` apart, counted in [`Server::body_bytes_sent`]: a
    /// large download slow enough for another process to watch it and kill its client mid-way.
    Paced { body: Vec<u8>, chunk: usize, interval: Duration },
    /// `Transfer-Encoding: chunked`, the body in `chunk`-byte chunks (with an extension), then the last
    /// chunk and a trailer. With `sent` short of the body, a clean close after that many bytes instead.
    Chunked { body: Vec<u8>, chunk: usize, sent: usize },
    /// A status line, then a header line every `interval`, never ending the head.
    SlowHead { interval: Duration },
    /// Close without answering.
    Hangup,
}

impl Reply {
    /// The whole body, chunked.
    pub fn chunked(body: impl Into<Vec<u8>>, chunk: usize) -> Reply {
        let body = body.into();
        Reply::Chunked { sent: body.len(), body, chunk }
    }

    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full { status: 200, headers: Vec::new(), body: body.into() }
    }

    pub fn status(status: u16) -> Reply {
        Reply::Full { status, headers: Vec::new(), body: format!("status {status}\n").into_bytes() }
    }

    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::Full { status, headers: vec![("Location".into(), location.into())], body: Vec::new() }
    }

    /// `body` labelled `Content-Encoding: gzip`, as some servers label a `.tgz`.
    pub fn gzip_labelled(body: impl Into<Vec<u8>>) -> Reply {
        Reply::ok(body).with_header("Content-Type", "application/x-tar").with_header("Content-Encoding", "gzip")
    }

    /// A captive portal's answer: 200 and an HTML page instead of the file.
    pub fn login_page() -> Reply {
        let page = "<!DOCTYPE html><html><head><title>Sign in</title></head>\
                    <body><form method=post action=/login>Network login required</form></body></html>\n";
        Reply::ok(page).with_header("Content-Type", "text/html; charset=utf-8")
    }

    /// Adds a header to a [`Reply::Full`]; other replies are returned unchanged.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Full { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Logged {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The accept loop shared by the servers and proxies, with what a clean stop needs.
struct Listener {
    addr: SocketAddr,
    control: Arc<Control>,
    accept: Option<JoinHandle<()>>,
}

/// Given to every connection handler: the stop flag and the registry of live sockets.
pub struct Control {
    stop: AtomicBool,
    /// Body bytes written by [`Reply::Paced`] replies.
    paced_bytes: AtomicU64,
    next_id: AtomicUsize,
    live: Mutex<HashMap<usize, TcpStream>>,
    handlers: Mutex<Vec<JoinHandle<()>>>,
}

/// Keeps a socket in the registry while it lives; dropping it lets the socket really close.
pub struct Tracked<'c> {
    control: &'c Control,
    id: usize,
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        lock(&self.control.live).remove(&self.id);
    }
}

impl Control {
    fn track(&self, stream: &TcpStream) -> Tracked<'_> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&self.live).insert(id, clone);
        }
        Tracked { control: self, id }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps up to `duration`, waking early when the listener stops. False when it stopped.
    fn sleep(&self, duration: Duration) -> bool {
        let end = Instant::now() + duration;
        while !self.stopped() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            thread::sleep(left.min(Duration::from_millis(20)));
        }
        false
    }
}

impl Listener {
    fn start(handle: impl Fn(TcpStream, &Control) + Send + Sync + 'static) -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let control = Arc::new(Control {
            stop: AtomicBool::new(false),
            paced_bytes: AtomicU64::new(0),
            next_id: AtomicUsize::new(0),
            live: Mutex::new(HashMap::new()),
            handlers: Mutex::new(Vec::new()),
        });
        let handle = Arc::new(handle);
        let accept_control = Arc::clone(&control);
        let accept = thread::spawn(move || {
            let mut served = 0;
            for stream in listener.incoming() {
                if accept_control.stopped() {
                    break;
                }
                let Ok(stream) = stream else { continue };
                served += 1;
                if served > MAX_CONNECTIONS {
                    continue; // dropped unanswered
                }
                let _ = stream.set_read_timeout(Some(IDLE));
                let _ = stream.set_write_timeout(Some(IDLE));
                let control = Arc::clone(&accept_control);
                let handle = Arc::clone(&handle);
                let worker = thread::spawn(move || handle(stream, &control));
                lock(&accept_control.handlers).push(worker);
            }
        });
        Listener { addr, control, accept: Some(accept) }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.control.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop, which then sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        for stream in lock(&self.control.live).values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let handlers = std::mem::take(&mut *lock(&self.control.handlers));
        for handler in handlers {
            let _ = handler.join();
        }
    }
}

/// A plain or TLS connection of the origin server.
enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(stream) => stream,
            Conn::Tls(stream) => &stream.sock,
        }
    }

    /// A clean end: TLS close_notify (so a close-delimited body ends properly), then FIN.
    fn close(mut self) {
        if let Conn::Tls(stream) = &mut self {
            stream.conn.send_close_notify();
            let _ = stream.flush();
        }
        let _ = self.tcp().shutdown(Shutdown::Write);
        // Let the client read what was sent before the socket goes away.
        let mut rest = [0u8; 512];
        let _ = self.tcp().set_read_timeout(Some(Duration::from_millis(200)));
        while matches!(self.read(&mut rest), Ok(n) if n > 0) {}
    }

    /// An abrupt end: SO_LINGER 0 turns the close into a TCP reset.
    fn reset(self) {
        set_linger_zero(self.tcp());
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(stream) => stream.read(buf),
            Conn::Tls(stream) => stream.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(stream) => stream.write(buf),
            Conn::Tls(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(stream) => stream.flush(),
            Conn::Tls(stream) => stream.flush(),
        }
    }
}

#[cfg(unix)]
fn set_linger_zero(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: a valid socket descriptor and a properly sized, initialised option value.
    let result = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast::<libc::c_void>(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(result, 0, "setsockopt(SO_LINGER) failed: {}", io::Error::last_os_error());
}

#[cfg(not(unix))]
fn set_linger_zero(stream: &TcpStream) {
    // No reset without libc here: a clean close still cuts the body short of its Content-Length.
    let _ = stream.shutdown(Shutdown::Both);
}

/// Reads a request or proxy head, byte by byte so nothing after it is consumed.
fn read_head(conn: &mut impl Read) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD || conn.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(head)
}

fn parse_head(head: &[u8]) -> Option<Head> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let words = lines.next()?.split(' ').map(str::to_string).collect();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .collect();
    Some((words, headers))
}

/// The origin server.
pub struct Server {
    listener: Listener,
    scheme: &'static str,
    routes: Arc<Routes>,
    log: Arc<Mutex<Vec<Logged>>>,
}

impl Server {
    pub fn http() -> Server {
        Server::start(None)
    }

    pub fn https(tls: Arc<ServerConfig>) -> Server {
        Server::start(Some(tls))
    }

    fn start(tls: Option<Arc<ServerConfig>>) -> Server {
        let routes: Arc<Routes> = Arc::default();
        let log: Arc<Mutex<Vec<Logged>>> = Arc::default();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let (handler_routes, handler_log) = (Arc::clone(&routes), Arc::clone(&log));
        let listener = Listener::start(move |stream, control| {
            let _tracked = control.track(&stream);
            let conn = match &tls {
                None => Conn::Plain(stream),
                Some(config) => match ServerConnection::new(Arc::clone(config)) {
                    Ok(server) => Conn::Tls(Box::new(StreamOwned::new(server, stream))),
                    Err(_) => return,
                },
            };
            serve(conn, control, &handler_routes, &handler_log);
        });
        Server { listener, scheme, routes, log }
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.addr
    }

    /// `scheme://127.0.0.1:port/path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.listener.addr)
    }

    /// `scheme://localhost:port/path`.
    pub fn localhost_url(&self, path: &str) -> String {
        format!("{}://localhost:{}{path}", self.scheme, self.listener.addr.port())
    }

    /// Every request to `path` gets `reply`.
    pub fn route(&self, path: &str, reply: Reply) {
        self.sequence(path, vec![reply]);
    }

    /// Requests to `path` get `replies` in order; the last one repeats.
    pub fn sequence(&self, path: &str, replies: Vec<Reply>) {
        assert!(!replies.is_empty(), "a route needs at least one reply");
        lock(&self.routes).insert(path.to_string(), (replies, 0));
    }

    pub fn requests(&self) -> Vec<Logged> {
        lock(&self.log).clone()
    }

    /// Body bytes written so far by [`Reply::Paced`] replies, over all requests.
    pub fn body_bytes_sent(&self) -> u64 {
        self.listener.control.paced_bytes.load(Ordering::SeqCst)
    }

    /// How many requests asked for `path`.
    pub fn hits(&self, path: &str) -> usize {
        lock(&self.log).iter().filter(|r| r.path == path).count()
    }
}

fn serve(mut conn: Conn, control: &Control, routes: &Routes, log: &Mutex<Vec<Logged>>) {
    // A TLS client that refuses the certificate ends here, before any request is logged.
    let Some(head) = read_head(&mut conn) else { return };
    let Some((words, headers)) = parse_head(&head) else { return };
    let method = words.first().cloned().unwrap_or_default();
    let path = words.get(1).cloned().unwrap_or_default();
    lock(log).push(Logged { method, path: path.clone(), headers });
    let reply = match lock(routes).get_mut(&path) {
        Some((replies, next)) => {
            let reply = replies[(*next).min(replies.len() - 1)].clone();
            *next += 1;
            reply
        }
        None => Reply::status(404),
    };
    respond(conn, control, reply);
}

fn respond(mut conn: Conn, control: &Control, reply: Reply) {
    match reply {
        Reply::Full { status, headers, body } => {
            let extra: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            if write_head(&mut conn, status, Some(body.len()), &extra).is_ok() && conn.write_all(&body).is_ok() {
                let _ = conn.flush();
                conn.close();
            }
        }
        Reply::ResetMidBody { body, sent } => {
            let _ = write_head(&mut conn, 200, Some(body.len()), &[]);
            let _ = conn.write_all(&body[..sent.min(body.len())]);
            let _ = conn.flush();
            control.sleep(Duration::from_millis(50));
            conn.reset();
        }
        Reply::ShortBody { body, sent, declare_length } => {
            let _ = write_head(&mut conn, 200, declare_length.then_some(body.len()), &[]);
            let _ = conn.write_all(&body[..sent.min(body.len())]);
            let _ = conn.flush();
            conn.close();
        }
        Reply::Stall { length, silence } => {
            let _ = write_head(&mut conn, 200, Some(length), &[]);
            let _ = conn.flush();
            control.sleep(silence);
            conn.close();
        }
        Reply::Trickle { body, interval } => {
            if write_head(&mut conn, 200, Some(body.len()), &[]).is_err() {
                return;
            }
            for byte in body {
                if conn.write_all(&[byte]).and_then(|()| conn.flush()).is_err() || !control.sleep(interval) {
                    return;
                }
            }
            conn.close();
        }
        Reply::Paced { body, chunk, interval } => {
            if write_head(&mut conn, 200, Some(body.len()), &[]).is_err() {
                return;
            }
            for piece in body.chunks(chunk.max(1)) {
                if conn.write_all(piece).and_then(|()| conn.flush()).is_err() {
                    return;
                }
                control.paced_bytes.fetch_add(piece.len() as u64, Ordering::SeqCst);
                if !control.sleep(interval) {
                    return;
                }
            }
            conn.close();
        }
        Reply::Chunked { body, chunk, sent } => {
            if write_head(&mut conn, 200, None, &[("Transfer-Encoding", "chunked")]).is_err() {
                return;
            }
            let sent = sent.min(body.len());
            for piece in body[..sent].chunks(chunk.max(1)) {
                let framed = [format!("{:x};piece=1\r\n", piece.len()).as_bytes(), piece, b"\r\n"].concat();
                if conn.write_all(&framed).is_err() {
                    return;
                }
            }
            if sent == body.len() {
                let _ = conn.write_all(b"0\r\nX-Trailer: ignored\r\n\r\n");
            }
            let _ = conn.flush();
            conn.close();
        }
        Reply::SlowHead { interval } => {
            let mut line: &[u8] = b"HTTP/1.1 200 OK\r\n";
            while conn.write_all(line).and_then(|()| conn.flush()).is_ok() && control.sleep(interval) {
                line = b"X-Slow: 1\r\n";
            }
        }
        Reply::Hangup => conn.close(),
    }
}

fn write_head(conn: &mut Conn, status: u16, length: Option<usize>, headers: &[(&str, &str)]) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\nConnection: close\r\n", reason(status));
    if let Some(length) = length {
        head.push_str(&format!("Content-Length: {length}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        403 => "Forbidden",
        404 => "Not Found",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Copies both ways between two sockets until both directions end.
fn pipe(client: TcpStream, upstream: TcpStream) {
    let (Ok(mut client_read), Ok(mut upstream_write)) = (client.try_clone(), upstream.try_clone()) else { return };
    let upward = thread::spawn(move || {
        let _ = io::copy(&mut client_read, &mut upstream_write);
        let _ = upstream_write.shutdown(Shutdown::Write);
    });
    let (mut upstream_read, mut client_write) = (upstream, client);
    let _ = io::copy(&mut upstream_read, &mut client_write);
    let _ = client_write.shutdown(Shutdown::Write);
    let _ = upward.join();
}

/// An HTTP CONNECT proxy that counts its tunnels.
pub struct ConnectProxy {
    listener: Listener,
    tunnels: Arc<AtomicUsize>,
    forwarded: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<Logged>>>,
    targets: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        ConnectProxy::answering(200)
    }

    /// A proxy that answers every CONNECT with `status` (200 opens the tunnel; 407 refuses).
    pub fn answering(status: u16) -> ConnectProxy {
        let tunnels = Arc::new(AtomicUsize::new(0));
        let forwarded = Arc::new(AtomicUsize::new(0));
        let targets: Arc<Mutex<Vec<String>>> = Arc::default();
        let (count, seen, sent) = (Arc::clone(&tunnels), Arc::clone(&targets), Arc::clone(&forwarded));
        let log: Arc<Mutex<Vec<Logged>>> = Arc::default();
        let logged = Arc::clone(&log);
        let listener = Listener::start(move |mut client, control| {
            let _tracked = control.track(&client);
            let Some(head) = read_head(&mut client) else { return };
            let Some((words, headers)) = parse_head(&head) else { return };
            let target = words.get(1).cloned().unwrap_or_default();
            let method = words.first().cloned().unwrap_or_default();
            lock(&logged).push(Logged { method, path: target.clone(), headers });
            if words.first().map(String::as_str) != Some("CONNECT") {
                forward(client, &head, &target, status, control, &seen, &sent);
                return;
            }
            lock(&seen).push(target.clone());
            if status != 200 {
                let _ = write!(client, "HTTP/1.1 {status} {}\r\nContent-Length: 0\r\n\r\n", reason(status));
                return;
            }
            let Ok(upstream) = TcpStream::connect(&target) else {
                let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
                return;
            };
            let _tracked_upstream = control.track(&upstream);
            count.fetch_add(1, Ordering::SeqCst);
            if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").is_ok() {
                pipe(client, upstream);
            }
        });
        ConnectProxy { listener, tunnels, forwarded, log, targets }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.listener.addr)
    }

    /// Tunnels opened.
    pub fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }

    /// Every request the proxy was asked (`CONNECT host:port` or `GET http://…`), headers included.
    pub fn requests(&self) -> Vec<Logged> {
        lock(&self.log).clone()
    }

    /// Plain requests (absolute-form, for http:// URLs) passed on to their origin.
    pub fn forwarded(&self) -> usize {
        self.forwarded.load(Ordering::SeqCst)
    }

    /// The `host:port` of every CONNECT or forwarded request asked for.
    pub fn targets(&self) -> Vec<String> {
        lock(&self.targets).clone()
    }
}

/// A plain proxy request (`GET http://host:port/path`): passed on in origin form to its origin, whose
/// answer goes back as is; with `status` other than 200, refused with that status.
fn forward(
    mut client: TcpStream,
    head: &[u8],
    target: &str,
    status: u16,
    control: &Control,
    seen: &Mutex<Vec<String>>,
    forwarded: &AtomicUsize,
) {
    let Some((authority, path)) =
        target.strip_prefix("http://").map(|rest| rest.split_at(rest.find('/').unwrap_or(rest.len())))
    else {
        let _ = client.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    lock(seen).push(authority.to_string());
    if status != 200 {
        let _ = write!(client, "HTTP/1.1 {status} {}\r\nContent-Length: 0\r\n\r\n", reason(status));
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(authority) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let _tracked_upstream = control.track(&upstream);
    forwarded.fetch_add(1, Ordering::SeqCst);
    let text = String::from_utf8_lossy(head);
    let (_, rest) = text.split_once("\r\n").unwrap_or_default();
    let path = if path.is_empty() { "/" } else { path };
    if write!(upstream, "GET {path} HTTP/1.1\r\n{rest}").is_ok() {
        pipe(client, upstream);
    }
}

/// A SOCKS5 proxy (CONNECT only; no authentication, or RFC 1929 user/password when built with
/// [`Socks5Proxy::requiring`]) that counts its connections.
pub struct Socks5Proxy {
    _listener: Listener,
    seen: SocksSeen,
}

/// Where a SOCKS proxy listens and what it saw: connections made, targets asked for, logins tried.
/// Both SOCKS proxies dereference to it.
#[derive(Clone)]
pub struct SocksSeen {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    targets: Arc<Mutex<Vec<String>>>,
    logins: Arc<Mutex<Vec<SocksLogin>>>,
}

impl SocksSeen {
    fn new() -> SocksSeen {
        let unbound = SocketAddr::from(([127, 0, 0, 1], 0));
        SocksSeen { addr: unbound, connections: Arc::default(), targets: Arc::default(), logins: Arc::default() }
    }

    /// `socks5h://127.0.0.1:port` and the like (ours are IP literals, so who resolves names is moot).
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }

    /// `scheme://userinfo@127.0.0.1:port`, `userinfo` as it goes in the URL (percent-encoded).
    pub fn url_with(&self, scheme: &str, userinfo: &str) -> String {
        format!("{scheme}://{userinfo}@{}", self.addr)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn targets(&self) -> Vec<String> {
        lock(&self.targets).clone()
    }

    /// Every login, in order: RFC 1929 sub-negotiations (SOCKS5), user ids (SOCKS4, password empty).
    pub fn logins(&self) -> Vec<SocksLogin> {
        lock(&self.logins).clone()
    }
}

/// What a client presented to a SOCKS proxy: RFC 1929's user and password, or SOCKS4's user id (with
/// an empty password), and whether the proxy let it in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocksLogin {
    pub user: String,
    pub password: String,
    pub accepted: bool,
}

impl Socks5Proxy {
    pub fn start() -> Socks5Proxy {
        Socks5Proxy::serve(None)
    }

    /// A proxy that offers only user/password authentication and lets in only `user` with `password`.
    pub fn requiring(user: &str, password: &str) -> Socks5Proxy {
        Socks5Proxy::serve(Some((user.to_string(), password.to_string())))
    }

    fn serve(required: Option<(String, String)>) -> Socks5Proxy {
        let mut record = SocksSeen::new();
        let (count, seen, logged) =
            (Arc::clone(&record.connections), Arc::clone(&record.targets), Arc::clone(&record.logins));
        let listener = Listener::start(move |mut client, control| {
            let _tracked = control.track(&client);
            let Some(target) = socks5_handshake(&mut client, required.as_ref(), &logged) else { return };
            lock(&seen).push(target.clone());
            // Replies: succeeded, or "connection refused" (RFC 1928 §6), with an empty IPv4 address.
            relay(client, &target, control, &count, &[5, 0, 0, 1, 0, 0, 0, 0, 0, 0], &[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
        });
        record.addr = listener.addr;
        Socks5Proxy { _listener: listener, seen: record }
    }
}

/// A SOCKS proxy's last step: connect to `target`, answer `granted` (then copy both ways, counting the
/// connection) or `refused`.
fn relay(mut client: TcpStream, target: &str, control: &Control, count: &AtomicUsize, granted: &[u8], refused: &[u8]) {
    let Ok(upstream) = TcpStream::connect(target) else {
        let _ = client.write_all(refused);
        return;
    };
    let _tracked_upstream = control.track(&upstream);
    count.fetch_add(1, Ordering::SeqCst);
    if client.write_all(granted).is_ok() {
        pipe(client, upstream);
    }
}

impl std::ops::Deref for Socks5Proxy {
    type Target = SocksSeen;

    fn deref(&self) -> &SocksSeen {
        &self.seen
    }
}

/// RFC 1928: greeting (we pick "no authentication", or user/password when `required`), the RFC 1929
/// sub-negotiation in the latter case, then a CONNECT request; returns `host:port`.
fn socks5_handshake(
    client: &mut TcpStream,
    required: Option<&(String, String)>,
    logins: &Mutex<Vec<SocksLogin>>,
) -> Option<String> {
    let mut greeting = [0u8; 2];
    client.read_exact(&mut greeting).ok()?;
    let mut methods = vec![0u8; usize::from(greeting[1])];
    client.read_exact(&mut methods).ok()?;
    let method = if required.is_some() { 2 } else { 0 };
    if greeting[0] != 5 || !methods.contains(&method) {
        let _ = client.write_all(&[5, 0xff]);
        return None;
    }
    client.write_all(&[5, method]).ok()?;
    if let Some((user, password)) = required {
        let login = rfc1929_login(client)?;
        let accepted = login.user == *user && login.password == *password;
        lock(logins).push(SocksLogin { accepted, ..login });
        // RFC 1929: a status other than 0 is a refusal, and the server closes the connection.
        client.write_all(&[1, if accepted { 0 } else { 1 }]).ok()?;
        if !accepted {
            return None;
        }
    }
    let mut request = [0u8; 4];
    client.read_exact(&mut request).ok()?;
    if request[..3] != [5, 1, 0] {
        let _ = client.write_all(&[5, 7, 0, 1, 0, 0, 0, 0, 0, 0]); // command not supported
        return None;
    }
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).ok()?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len).ok()?;
            let mut name = vec![0u8; usize::from(len[0])];
            client.read_exact(&mut name).ok()?;
            String::from_utf8(name).ok()?
        }
        4 => {
            let mut ip = [0u8; 16];
            client.read_exact(&mut ip).ok()?;
            format!("[{}]", std::net::Ipv6Addr::from(ip))
        }
        _ => return None,
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port).ok()?;
    Some(format!("{host}:{}", u16::from_be_bytes(port)))
}

/// RFC 1929's request: version 1, then the user and the password, each after a one-byte length.
fn rfc1929_login(client: &mut TcpStream) -> Option<SocksLogin> {
    let mut version = [0u8; 1];
    client.read_exact(&mut version).ok()?;
    if version[0] != 1 {
        return None;
    }
    let mut field = || -> Option<String> {
        let mut length = [0u8; 1];
        client.read_exact(&mut length).ok()?;
        let mut value = vec![0u8; usize::from(length[0])];
        client.read_exact(&mut value).ok()?;
        String::from_utf8(value).ok()
    };
    let user = field()?;
    let password = field()?;
    Some(SocksLogin { user, password, accepted: false })
}

/// A SOCKS4/4a proxy (CONNECT only) that lets in only the user id it was given, as an identd-checking
/// proxy would (reply 93 otherwise).
pub struct Socks4Proxy {
    _listener: Listener,
    seen: SocksSeen,
}

impl Socks4Proxy {
    pub fn requiring(user_id: &str) -> Socks4Proxy {
        let mut record = SocksSeen::new();
        let (count, seen, logged) =
            (Arc::clone(&record.connections), Arc::clone(&record.targets), Arc::clone(&record.logins));
        let required = user_id.to_string();
        let listener = Listener::start(move |mut client, control| {
            let _tracked = control.track(&client);
            let Some((user, target)) = socks4_request(&mut client) else { return };
            let accepted = user == required;
            lock(&logged).push(SocksLogin { user, password: String::new(), accepted });
            if !accepted {
                let _ = client.write_all(&[0, 93, 0, 0, 0, 0, 0, 0]);
                return;
            }
            lock(&seen).push(target.clone());
            // Replies 90 (granted) and 91 (rejected or failed).
            relay(client, &target, control, &count, &[0, 90, 0, 0, 0, 0, 0, 0], &[0, 91, 0, 0, 0, 0, 0, 0]);
        });
        record.addr = listener.addr;
        Socks4Proxy { _listener: listener, seen: record }
    }
}

impl std::ops::Deref for Socks4Proxy {
    type Target = SocksSeen;

    fn deref(&self) -> &SocksSeen {
        &self.seen
    }
}

/// SOCKS4's CONNECT: version 4, command 1, port, IPv4 address, the user id up to a NUL; with the
/// address 0.0.0.x (x ≠ 0), SOCKS4a's host name up to a NUL follows. Returns the user id and `host:port`.
fn socks4_request(client: &mut TcpStream) -> Option<(String, String)> {
    let mut fixed = [0u8; 8];
    client.read_exact(&mut fixed).ok()?;
    let [4, 1, port_high, port_low, a, b, c, d] = fixed else { return None };
    let mut until_nul = || -> Option<String> {
        let mut text = Vec::new();
        let mut byte = [0u8; 1];
        while text.len() < 1024 {
            client.read_exact(&mut byte).ok()?;
            if byte[0] == 0 {
                return String::from_utf8(text).ok();
            }
            text.push(byte[0]);
        }
        None
    };
    let user = until_nul()?;
    let host = match [a, b, c] == [0, 0, 0] && d != 0 {
        true => until_nul()?,
        false => std::net::Ipv4Addr::new(a, b, c, d).to_string(),
    };
    Some((user, format!("{host}:{}", u16::from_be_bytes([port_high, port_low]))))
}

/// An https:// proxy: TLS with the client ends here, and a [`ConnectProxy`] behind it (reached over
/// loopback TCP) does the proxying, so both kinds log, count and refuse alike. A `CONNECT` to an https
/// origin then runs TLS inside this TLS.
pub struct TlsConnectProxy {
    front: Listener,
    handshakes: Arc<AtomicUsize>,
    /// The plain proxy behind the TLS front: its log, targets and tunnels are this proxy's.
    pub behind: ConnectProxy,
}

impl TlsConnectProxy {
    pub fn start(tls: Arc<ServerConfig>) -> TlsConnectProxy {
        TlsConnectProxy::answering(tls, 200)
    }

    /// A proxy that answers every request with `status` as [`ConnectProxy::answering`] does.
    pub fn answering(tls: Arc<ServerConfig>, status: u16) -> TlsConnectProxy {
        let behind = ConnectProxy::answering(status);
        let plain = behind.listener.addr;
        let handshakes = Arc::new(AtomicUsize::new(0));
        let completed = Arc::clone(&handshakes);
        let front = Listener::start(move |mut client, control| {
            let _tracked = control.track(&client);
            let Ok(mut session) = ServerConnection::new(Arc::clone(&tls)) else { return };
            while session.is_handshaking() {
                // A client that refuses the certificate ends here.
                if session.complete_io(&mut client).is_err() {
                    return;
                }
            }
            completed.fetch_add(1, Ordering::SeqCst);
            let Ok(upstream) = TcpStream::connect(plain) else { return };
            let _tracked_upstream = control.track(&upstream);
            pipe_tls(session, client, upstream);
        });
        TlsConnectProxy { front, handshakes, behind }
    }

    /// `https://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("https://{}", self.front.addr)
    }

    /// TLS handshakes completed with clients.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

/// Copies both ways between a TLS client and a plain upstream until both directions end. The TLS
/// session sits behind a mutex so each direction has its own thread; no socket is read while it is held.
fn pipe_tls(session: ServerConnection, client: TcpStream, upstream: TcpStream) {
    let (Ok(mut client_read), Ok(mut client_write_up), Ok(mut upstream_write)) =
        (client.try_clone(), client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let session = Arc::new(Mutex::new(session));
    let upward_session = Arc::clone(&session);
    let upward = thread::spawn(move || {
        let mut raw = vec![0u8; 16 * 1024];
        let mut plain = Vec::new();
        loop {
            // Plaintext may already wait (a request sent with the handshake's last flight).
            let closed = {
                let mut session = lock(&upward_session);
                let closed = take_plaintext(&mut session, &mut plain);
                closed || flush_tls(&mut session, &mut client_write_up).is_err()
            };
            if upstream_write.write_all(&plain).is_err() || closed {
                break;
            }
            plain.clear();
            let received = match client_read.read(&mut raw) {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.get(..n).unwrap_or_default(),
            };
            let mut session = lock(&upward_session);
            let mut input = received;
            while !input.is_empty() {
                // rustls takes records only while its plaintext buffer has room: empty it each time.
                let taken = session.read_tls(&mut input).is_ok() && session.process_new_packets().is_ok();
                if !taken || take_plaintext(&mut session, &mut plain) {
                    break;
                }
            }
        }
        let _ = upstream_write.shutdown(Shutdown::Write);
    });
    let (mut upstream_read, mut client_write) = (upstream, client);
    let mut raw = vec![0u8; 16 * 1024];
    loop {
        let n = match upstream_read.read(&mut raw) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut session = lock(&session);
        let data = raw.get(..n).unwrap_or_default();
        if session.writer().write_all(data).is_err() || flush_tls(&mut session, &mut client_write).is_err() {
            break;
        }
    }
    {
        let mut session = lock(&session);
        session.send_close_notify();
        let _ = flush_tls(&mut session, &mut client_write);
    }
    let _ = client_write.shutdown(Shutdown::Write);
    let _ = upward.join();
}

/// Moves the plaintext the session has decrypted into `plain`; true when the client has closed.
fn take_plaintext(session: &mut ServerConnection, plain: &mut Vec<u8>) -> bool {
    let mut buffer = [0u8; 4096];
    loop {
        match session.reader().read(&mut buffer) {
            Ok(0) => return true,
            Ok(n) => plain.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// Writes every TLS record the session has ready.
fn flush_tls(session: &mut ServerConnection, socket: &mut TcpStream) -> io::Result<()> {
    while session.wants_write() {
        session.write_tls(socket)?;
    }
    socket.flush()
}

/// The leaf certificates a test server can present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leaf {
    /// Valid now, for 127.0.0.1 and localhost.
    Good,
    /// For 127.0.0.1 and localhost, but valid only in 2000.
    Expired,
    /// Valid now, but for another host name.
    WrongHost,
}

/// A test CA and three leaves it signed.
pub struct TestPki {
    pub ca_pem: String,
    good: Arc<ServerConfig>,
    expired: Arc<ServerConfig>,
    wrong_host: Arc<ServerConfig>,
}

impl TestPki {
    pub fn new() -> TestPki {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
            KeyUsagePurpose,
        };
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "onnxruntime-provision test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().expect("CA key");
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-signed CA");
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf = |names: &[&str], expired: bool| -> Arc<ServerConfig> {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            let mut params = CertificateParams::new(names).expect("leaf parameters");
            params.distinguished_name.push(DnType::CommonName, "onnxruntime-provision test server");
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            params.use_authority_key_identifier_extension = true;
            if expired {
                params.not_before = rcgen::date_time_ymd(2000, 1, 1);
                params.not_after = rcgen::date_time_ymd(2001, 1, 1);
            }
            let key = KeyPair::generate().expect("leaf key");
            let cert = params.signed_by(&key, &issuer).expect("leaf signed by the CA");
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
            server_config(vec![cert.der().clone()], key)
        };
        TestPki {
            ca_pem: ca_cert.pem(),
            good: leaf(&["127.0.0.1", "localhost"], false),
            expired: leaf(&["127.0.0.1", "localhost"], true),
            wrong_host: leaf(&["wrong-host.invalid"], false),
        }
    }

    pub fn server_config(&self, leaf: Leaf) -> Arc<ServerConfig> {
        Arc::clone(match leaf {
            Leaf::Good => &self.good,
            Leaf::Expired => &self.expired,
            Leaf::WrongHost => &self.wrong_host,
        })
    }

    /// Writes the CA certificate as PEM into `dir` and returns the file's path.
    pub fn write_ca(&self, dir: &Path) -> PathBuf {
        let path = dir.join("test-ca.pem");
        std::fs::write(&path, &self.ca_pem).expect("write the CA PEM");
        path
    }
}

impl Default for TestPki {
    fn default() -> TestPki {
        TestPki::new()
    }
}

fn server_config(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server certificate and key");
    Arc::new(config)
}

//! Opening the connection one request goes over: DNS with a timeout, TCP to each address in turn,
//! the proxy's part (an http(s) proxy's `CONNECT` tunnel or a SOCKS handshake), then TLS. Every
//! failure becomes a [`Problem`] that names the phase, and the proxy when one was in the way.

use std::io::{self, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::proxy::{ProxyKind, ProxySetting};
use super::socks::{self, Destination, SocksFailure};
use super::url::HttpUrl;
use super::{Problem, tls, wire};

/// A byte stream to the origin: plain TCP, TLS, or either inside a proxy's tunnel.
pub(super) trait Transport: Read + Write + Send {}

impl<T: Read + Write + Send> Transport for T {}

pub(super) type Stream = Box<dyn Transport>;

/// What a request is waiting for when it fails: the names of `Problem::Timeout`.
#[derive(Clone, Copy, Debug)]
pub(super) enum Phase {
    Resolve,
    /// TCP, the proxy's handshake and TLS's.
    Connect,
    Send,
    Response,
    Read,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Resolve => "DNS lookup",
            Phase::Connect => "connect",
            Phase::Send => "send",
            Phase::Response => "response",
            Phase::Read => "read",
        }
    }
}

/// How one request reaches its origin: directly or through a proxy, and the timeout of each wait.
pub(super) struct Route {
    pub proxy: Option<ProxySetting>,
    pub timeout: Duration,
}

/// An open connection, ready for the request.
pub(super) struct Opened {
    pub stream: Stream,
    /// Through an http(s) proxy without a tunnel: the request names the absolute URL, with the
    /// proxy's credentials.
    pub via_http_proxy: bool,
}

impl Route {
    /// Connects to `url`'s origin; `tls` gives the TLS configuration when one is needed.
    pub(super) fn open(
        &self,
        url: &HttpUrl,
        user_agent: &str,
        tls: &dyn Fn() -> Result<Arc<ClientConfig>, Problem>,
    ) -> Result<Opened, Problem> {
        let Some(setting) = &self.proxy else {
            let tcp = self.tcp(&url.host, url.port)?;
            let stream = if url.https { self.tls(Box::new(tcp), &url.host, tls()?)? } else { Box::new(tcp) };
            return Ok(Opened { stream, via_http_proxy: false });
        };
        let proxy = &setting.server;
        let tcp = self.tcp(&proxy.host, proxy.port)?;
        match proxy.kind {
            ProxyKind::Http | ProxyKind::Https => {
                let mut stream: Stream = Box::new(tcp);
                if proxy.kind == ProxyKind::Https {
                    stream = self.tls(stream, &proxy.host, tls()?)?;
                }
                if !url.https {
                    return Ok(Opened { stream, via_http_proxy: true });
                }
                let tunnel = self.tunnel(stream, url, user_agent)?;
                Ok(Opened { stream: self.tls(tunnel, &url.host, tls()?)?, via_http_proxy: false })
            }
            _ => {
                let mut tcp = tcp;
                let remote_dns = matches!(proxy.kind, ProxyKind::Socks4a | ProxyKind::Socks5h);
                let destination = match url.host.parse::<IpAddr>() {
                    Ok(ip) => Destination::Address(SocketAddr::new(ip, url.port)),
                    Err(_) if remote_dns => Destination::Name(&url.host, url.port),
                    Err(_) => {
                        let addresses = self.resolve(&url.host, url.port)?;
                        // SOCKS4 reaches IPv4 only: prefer such an address when there is one.
                        let address = addresses.iter().find(|a| a.is_ipv4()).or(addresses.first());
                        Destination::Address(*address.ok_or_else(|| self.unresolved(&url.host, "no address"))?)
                    }
                };
                socks::handshake(&mut tcp, proxy, &destination).map_err(|failure| match failure {
                    SocksFailure::Io(error) => self.problem(error, Phase::Connect),
                    SocksFailure::Refused(reason) => self.proxy_problem(setting, reason),
                    SocksFailure::Unreachable(cause) => self.transient(cause),
                })?;
                let stream = if url.https { self.tls(Box::new(tcp), &url.host, tls()?)? } else { Box::new(tcp) };
                Ok(Opened { stream, via_http_proxy: false })
            }
        }
    }

    /// `Proxy-Authorization` for the proxy, when its URL has credentials.
    pub(super) fn proxy_authorization(&self) -> Option<String> {
        let (user, password) = self.proxy.as_ref()?.server.credentials.as_ref()?;
        Some(wire::basic_credentials(user, password))
    }

    /// `CONNECT host:port` and the proxy's answer; anything but 2xx is the proxy's refusal.
    fn tunnel(&self, mut stream: Stream, url: &HttpUrl, user_agent: &str) -> Result<Stream, Problem> {
        let authorization = self.proxy_authorization();
        wire::write_connect(&mut stream, &url.host_port(), user_agent, authorization.as_deref())
            .map_err(|e| self.problem(e, Phase::Connect))?;
        // One byte at a time: nothing of the tunnel after the proxy's head may be consumed here, so
        // the emptied buffer is dropped with nothing in it.
        let mut reader = BufReader::with_capacity(1, stream);
        let head = wire::read_response_head(&mut reader).map_err(|e| self.problem(e, Phase::Connect))?;
        match (&self.proxy, head.status) {
            (_, 200..=299) => Ok(reader.into_inner()),
            (Some(setting), status) => {
                Err(self.proxy_problem(setting, format!("the proxy refused the tunnel: HTTP {status} {}", head.reason)))
            }
            (None, status) => {
                Err(Problem::Transport { cause: format!("CONNECT failed: HTTP {status}"), transient: false })
            }
        }
    }

    /// The addresses of `host`, within the timeout: `ToSocketAddrs` has none of its own, so the lookup
    /// runs on a thread of its own that is left behind if it hangs. (A mutex and `park` hand the answer
    /// over: a channel would compile a good deal more code for one message.)
    fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Problem> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let answer: Arc<Mutex<Option<io::Result<Vec<SocketAddr>>>>> = Arc::default();
        let (name, slot, waiting) = (host.to_string(), Arc::clone(&answer), std::thread::current());
        let lookup = move || {
            let found = (name.as_str(), port).to_socket_addrs().map(Vec::from_iter);
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(found);
            }
            waiting.unpark();
        };
        if let Err(error) = std::thread::Builder::new().name("dns".into()).spawn(lookup) {
            return Err(self.unresolved(host, &format!("no thread for the lookup: {error}")));
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some(found) = answer.lock().ok().and_then(|mut slot| slot.take()) {
                return match found {
                    Ok(addresses) if !addresses.is_empty() => Ok(addresses),
                    Ok(_) => Err(self.unresolved(host, "no address")),
                    Err(error) => Err(self.unresolved(host, &error.to_string())),
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Problem::Timeout { which: Phase::Resolve.name(), after: self.timeout });
            }
            std::thread::park_timeout(left);
        }
    }

    fn unresolved(&self, host: &str, why: &str) -> Problem {
        self.transient(format!("the host name {host} could not be resolved ({why})"))
    }

    /// TCP to each address of `host` in turn, each within the timeout; read and write timeouts set.
    fn tcp(&self, host: &str, port: u16) -> Result<TcpStream, Problem> {
        let mut last = None;
        for address in self.resolve(host, port)? {
            match TcpStream::connect_timeout(&address, self.timeout) {
                Ok(stream) => {
                    let configured = stream
                        .set_read_timeout(Some(self.timeout))
                        .and_then(|()| stream.set_write_timeout(Some(self.timeout)))
                        .and_then(|()| stream.set_nodelay(true));
                    return configured.map(|()| stream).map_err(|e| self.problem(e, Phase::Connect));
                }
                Err(error) => last = Some(error),
            }
        }
        let error = last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address to connect to"));
        Err(self.problem(error, Phase::Connect))
    }

    /// TLS over `stream` to `host` (an IP address is verified as one), the handshake done here so
    /// its failures and timeouts are the connect phase's. One stream type, so rustls's generic code
    /// is compiled once here (compile time is what this client exists for).
    fn tls(&self, mut stream: Stream, host: &str, config: Arc<ClientConfig>) -> Result<Stream, Problem> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| Problem::Tls(format!("{host} is not a name a certificate can be checked against")))?;
        let mut connection = ClientConnection::new(config, name).map_err(|e| Problem::Tls(tls::describe(&e)))?;
        while connection.is_handshaking() {
            connection.complete_io(&mut stream).map_err(|e| self.problem(e, Phase::Connect))?;
        }
        Ok(Box::new(StreamOwned::new(connection, stream)))
    }

    /// Sorts an I/O failure into a [`Problem`]: what to tell the user, and whether to try again.
    pub(super) fn problem(&self, error: io::Error, phase: Phase) -> Problem {
        if matches!(error.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) {
            return Problem::Timeout { which: phase.name(), after: self.timeout };
        }
        let inner = error.get_ref();
        // rustls hands a failed handshake or a bad record over inside an io::Error.
        if let Some(tls_error) = inner.and_then(|e| e.downcast_ref::<rustls::Error>()) {
            return Problem::Tls(tls::describe(tls_error));
        }
        if let Some(wire::Malformed(what)) = inner.and_then(|e| e.downcast_ref::<wire::Malformed>()) {
            let cause = self.via(format!("the server's response breaks HTTP/1.1: {what}"));
            return Problem::Transport { cause, transient: false };
        }
        self.transient(io_cause(&error))
    }

    /// A failure another attempt may cure, naming the proxy in the way.
    fn transient(&self, cause: String) -> Problem {
        Problem::Transport { cause: self.via(cause), transient: true }
    }

    /// A failure to reach the origin may be the proxy's: say which proxy was in the way.
    fn via(&self, cause: String) -> String {
        match &self.proxy {
            Some(proxy) => format!("{cause} (through the proxy {}={})", proxy.variable, proxy.shown),
            None => cause,
        }
    }

    pub(super) fn proxy_problem(&self, setting: &ProxySetting, reason: String) -> Problem {
        Problem::Proxy { variable: setting.variable.clone(), value: setting.shown.clone(), reason }
    }
}

fn io_cause(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset by the peer".into(),
        io::ErrorKind::ConnectionAborted => "connection aborted".into(),
        io::ErrorKind::UnexpectedEof => "the connection closed before the response was complete".into(),
        _ => error.to_string(),
    }
}

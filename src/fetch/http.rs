//! One attempt over HTTP(S) with ureq: redirects followed here (bounded, never from https back to
//! http, proxy chosen again for each hop), timeouts on every phase, and ureq's errors sorted into
//! "try again" and "give up".

use std::cell::OnceCell;
use std::io::{self, Read};
use std::time::Duration;

use ureq::http::{Response, Uri, header};
use ureq::tls::{RootCerts, TlsConfig};
use ureq::{Agent, Body as UreqBody};

use super::body::Body;
use super::{Failed, HttpSettings, Problem, Progress, ProxySetting, Streamed, tls};

/// What all attempts of one fetch share.
pub(super) struct Session<'s> {
    settings: &'s HttpSettings,
    /// Loaded on the first TLS hop: plain-http mirrors never read the OS store.
    roots: OnceCell<RootCerts>,
}

/// One request of a redirect chain: the agent configured for it, and the proxy it goes through.
struct Hop {
    agent: Agent,
    proxy: Option<ProxySetting>,
    timeout: Duration,
}

impl<'s> Session<'s> {
    pub(super) fn new(settings: &'s HttpSettings) -> Session<'s> {
        Session { settings, roots: OnceCell::new() }
    }

    pub(super) fn attempt<T, E>(
        &self,
        url: &str,
        progress: Option<&dyn Progress>,
        consume: &mut dyn FnMut(&mut dyn Read) -> Result<T, E>,
    ) -> Result<Streamed<T>, Failed<E>> {
        let (response, hop) = self.get_following_redirects(url).map_err(Failed::Problem)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let retry_after = header_text(&response, header::RETRY_AFTER)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(Failed::Problem(Problem::Status { status, retry_after }));
        }
        let total = header_text(&response, header::CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok());
        let content_type = header_text(&response, header::CONTENT_TYPE).map(str::to_string);
        if let (Some(total), Some(limit)) = (total, self.settings.max_body_bytes)
            && total > limit
        {
            return Err(Failed::Problem(Problem::TooLarge { limit, announced: Some(total) }));
        }
        if let Some(progress) = progress {
            progress.started(url, total);
        }
        let classify = |error: io::Error| problem_from_ureq(ureq::Error::from(error), &hop);
        let reader = response.into_body().into_reader();
        let limit = self.settings.max_body_bytes;
        let mut body = Body::new(reader, total, progress, Some(self.settings.timeout), limit, &classify);
        let consumed = consume(&mut body);
        body.finish(consumed, content_type)
    }

    /// GETs `url`, following at most `max_redirects` redirects. A redirect to plain http after TLS was
    /// used, to another scheme, or back to a URL already visited is refused.
    fn get_following_redirects(&self, url: &str) -> Result<(Response<UreqBody>, Hop), Problem> {
        let mut chain = vec![url.to_string()];
        let mut tls_seen = false;
        loop {
            let current = chain.last().map(String::as_str).unwrap_or(url);
            let uri: Uri = current.parse().map_err(|_| refused(format!("{current} is not a valid URL")))?;
            tls_seen |= is_https(&uri);
            let hop = self.hop(&uri, tls_seen)?;
            let response = hop.agent.get(uri.clone()).call().map_err(|e| problem_from_ureq(e, &hop))?;
            if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
                return Ok((response, hop));
            }
            let status = response.status().as_u16();
            let location = header_text(&response, header::LOCATION)
                .ok_or_else(|| refused(format!("{current} answered HTTP {status} without a Location to follow")))?;
            let next = resolve_location(&uri, location);
            let next_scheme = next.split_once("://").map(|(s, _)| s.to_ascii_lowercase()).unwrap_or_default();
            if tls_seen && next_scheme != "https" {
                return Err(refused(format!(
                    "refused the redirect from {current} to {next}: it leaves https (a downgrade to {next_scheme})"
                )));
            }
            if next_scheme != "http" && next_scheme != "https" {
                return Err(refused(format!("refused the redirect from {current} to {next}: not an http(s) URL")));
            }
            if chain.contains(&next) {
                chain.push(next);
                return Err(refused(format!("redirect loop: {}", chain.join(" → "))));
            }
            chain.push(next);
            if chain.len() > self.settings.max_redirects as usize + 1 {
                return Err(refused(format!(
                    "more than {} redirects: {}",
                    self.settings.max_redirects,
                    chain.join(" → ")
                )));
            }
        }
    }

    /// An agent for one request: our proxy (or none), our roots, our timeouts, redirects left to us.
    fn hop(&self, uri: &Uri, https_only: bool) -> Result<Hop, Problem> {
        let settings = self.settings;
        let https = is_https(uri);
        let host = uri.host().ok_or_else(|| refused(format!("{uri} has no host")))?;
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let proxy = settings.proxies.for_target(https, host, port).cloned();
        let proxy_tls = proxy.as_ref().is_some_and(|p| p.proxy.protocol() == ureq::ProxyProtocol::Https);
        let mut tls = TlsConfig::builder();
        if https || proxy_tls {
            let roots = self.roots.get_or_init(|| tls::root_certs(&settings.extra_roots));
            tls = tls.root_certs(roots.clone());
        }
        let timeout = Some(settings.timeout);
        let config = Agent::config_builder()
            // Our own redirect loop and status handling give clearer errors than ureq's.
            .max_redirects(0)
            .http_status_as_error(false)
            .https_only(https_only)
            // Set explicitly: ureq's default reads *_PROXY from the process, not from our Vars.
            .proxy(proxy.as_ref().map(|p| p.proxy.clone()))
            .tls_config(tls.build())
            .user_agent(settings.user_agent.as_str())
            // An empty value sends no Accept-Encoding: the bytes must be the file's, undecoded.
            .accept_encoding("")
            .timeout_resolve(timeout)
            .timeout_connect(timeout)
            .timeout_send_request(timeout)
            .timeout_recv_response(timeout)
            .timeout_per_read(timeout)
            .timeout_per_write(timeout)
            .build();
        Ok(Hop { agent: Agent::new_with_config(config), proxy, timeout: settings.timeout })
    }
}

fn is_https(uri: &Uri) -> bool {
    uri.scheme_str().is_some_and(|s| s.eq_ignore_ascii_case("https"))
}

fn header_text(response: &Response<UreqBody>, name: header::HeaderName) -> Option<&str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A final refusal (another attempt would do the same).
fn refused(cause: String) -> Problem {
    Problem::Transport { cause, transient: false }
}

/// The absolute URL a `Location` header points to, relative to the URL that answered.
fn resolve_location(base: &Uri, location: &str) -> String {
    let location = location.trim();
    let location = location.split('#').next().unwrap_or_default();
    if has_scheme(location) {
        return location.to_string();
    }
    let scheme = base.scheme_str().unwrap_or("https");
    if let Some(rest) = location.strip_prefix("//") {
        return format!("{scheme}://{rest}");
    }
    let authority = base.authority().map(|a| a.as_str()).unwrap_or_default();
    if location.starts_with('/') {
        return format!("{scheme}://{authority}{location}");
    }
    let path = base.path();
    let directory = path.rfind('/').and_then(|slash| path.get(..=slash)).unwrap_or("/");
    format!("{scheme}://{authority}{directory}{location}")
}

/// `scheme:` before any `/`, `?` or `#` (RFC 3986 §3.1).
fn has_scheme(reference: &str) -> bool {
    let Some((scheme, _)) = reference.split_once(':') else { return false };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Sorts a ureq error into a [`Problem`]: what to tell the user, and whether to try again.
fn problem_from_ureq(error: ureq::Error, hop: &Hop) -> Problem {
    // A failure to reach the origin may be the proxy's: say which proxy was in the way.
    let via = |cause: String| match &hop.proxy {
        Some(proxy) => format!("{cause} (through the proxy {}={})", proxy.variable, proxy.shown),
        None => cause,
    };
    let transient = |cause: &str| Problem::Transport { cause: via(cause.to_string()), transient: true };
    match error {
        ureq::Error::Timeout(which) => Problem::Timeout { which: timeout_name(which), after: hop.timeout },
        ureq::Error::Io(error) => match error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
            // rustls hands a failed handshake to ureq inside an io::Error.
            Some(tls_error) => Problem::Tls(tls::describe(tls_error)),
            None => Problem::Transport { cause: via(io_cause(&error)), transient: true },
        },
        ureq::Error::HostNotFound => transient("the host name could not be resolved"),
        ureq::Error::ConnectionFailed => transient("the connection failed"),
        ureq::Error::BodyStalled => transient("the body stopped arriving"),
        ureq::Error::Rustls(error) => Problem::Tls(tls::describe(&error)),
        ureq::Error::Tls(cause) => Problem::Tls(cause.to_string()),
        ureq::Error::Pem(error) => Problem::Tls(format!("{error:?}")),
        ureq::Error::TlsRequired => Problem::Tls("the connection was not encrypted".into()),
        ureq::Error::ConnectProxyFailed(reason) => match &hop.proxy {
            Some(proxy) => Problem::Proxy {
                variable: proxy.variable.clone(),
                value: proxy.shown.clone(),
                reason: format!("the proxy refused the tunnel: {reason}"),
            },
            None => refused(format!("CONNECT failed: {reason}")),
        },
        ureq::Error::StatusCode(status) => Problem::Status { status, retry_after: None },
        ureq::Error::RequireHttpsOnly(url) => refused(format!("refused to leave https for {url}")),
        other => refused(via(other.to_string())),
    }
}

fn timeout_name(timeout: ureq::Timeout) -> &'static str {
    match timeout {
        ureq::Timeout::Resolve => "DNS lookup",
        ureq::Timeout::Connect => "connect",
        ureq::Timeout::SendRequest | ureq::Timeout::SendBody | ureq::Timeout::PerWrite => "send",
        ureq::Timeout::RecvResponse => "response",
        ureq::Timeout::PerRead => "read",
        _ => "transfer",
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

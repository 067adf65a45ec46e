//! One attempt over HTTP(S): redirects followed here (bounded, never from https back to http, the
//! proxy chosen again for each hop), a connection per request (`Connection: close`: one file per
//! fetch leaves nothing to reuse), and the status, length and body checked on the way.

use std::cell::OnceCell;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;

use super::body::Body;
use super::connection::{Phase, Route, Stream};
use super::url::HttpUrl;
use super::wire::{self, BodyReader, Head};
use super::{Failed, HttpSettings, Problem, Progress, Streamed, tls};

/// Read buffer of a response: large reads of the body bypass it.
const BUFFER: usize = 64 * 1024;

/// What all attempts of one fetch share.
pub(super) struct Session<'s> {
    settings: &'s HttpSettings,
    /// Built on the first TLS hop: plain-http mirrors never read the OS store.
    tls: OnceCell<Arc<ClientConfig>>,
}

/// A response whose head has been read; the body is next on the connection.
struct Response {
    head: Head,
    connection: BufReader<Stream>,
    route: Route,
}

impl<'s> Session<'s> {
    pub(super) fn new(settings: &'s HttpSettings) -> Session<'s> {
        Session { settings, tls: OnceCell::new() }
    }

    pub(super) fn attempt<T, E>(
        &self,
        url: &str,
        progress: Option<&dyn Progress>,
        consume: &mut dyn FnMut(&mut dyn Read) -> Result<T, E>,
    ) -> Result<Streamed<T>, Failed<E>> {
        let Response { head, connection, route } = self.get_following_redirects(url).map_err(Failed::Problem)?;
        if !(200..300).contains(&head.status) {
            let retry_after = head.header("retry-after").and_then(|v| v.parse::<u64>().ok()).map(Duration::from_secs);
            return Err(Failed::Problem(Problem::Status { status: head.status, retry_after }));
        }
        let framing =
            head.framing().map_err(|wire::Malformed(what)| {
                Failed::Problem(route.problem(
                    std::io::Error::new(std::io::ErrorKind::InvalidData, wire::Malformed(what)),
                    Phase::Response,
                ))
            })?;
        let total = match framing {
            wire::Framing::Length(length) => Some(length),
            _ => None,
        };
        let content_type = head.header("content-type").map(str::to_string);
        if let (Some(total), Some(limit)) = (total, self.settings.max_body_bytes)
            && total > limit
        {
            return Err(Failed::Problem(Problem::TooLarge { limit, announced: Some(total) }));
        }
        if let Some(progress) = progress {
            progress.started(url, total);
        }
        let classify = |error| route.problem(error, Phase::Read);
        let reader = BodyReader::new(connection, framing);
        let limit = self.settings.max_body_bytes;
        let mut body = Body::new(reader, total, progress, Some(self.settings.timeout), limit, &classify);
        let consumed = consume(&mut body);
        body.finish(consumed, content_type)
    }

    /// GETs `url`, following at most `max_redirects` redirects. A redirect to plain http after TLS was
    /// used, to another scheme, or back to a URL already visited is refused.
    fn get_following_redirects(&self, url: &str) -> Result<Response, Problem> {
        let mut chain = vec![url.to_string()];
        let mut tls_seen = false;
        loop {
            let current = chain.last().map(String::as_str).unwrap_or(url);
            let parsed = HttpUrl::parse(current).map_err(refused)?;
            tls_seen |= parsed.https;
            let response = self.get(&parsed)?;
            let status = response.head.status;
            if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                return Ok(response);
            }
            let location = response
                .head
                .header("location")
                .ok_or_else(|| refused(format!("{current} answered HTTP {status} without a Location to follow")))?;
            let next = parsed.resolve(location);
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

    /// One GET over a new connection, through the proxy chosen for this URL (or none), up to the
    /// end of the response head.
    fn get(&self, url: &HttpUrl) -> Result<Response, Problem> {
        let settings = self.settings;
        let proxy = settings.proxies.for_target(url.https, &url.host, url.port).cloned();
        let route = Route { proxy, timeout: settings.timeout };
        let user_agent = settings.user_agent.as_str();
        let opened = route.open(url, user_agent, &|| self.tls_config())?;
        let mut stream = opened.stream;
        let (target, authorization) = match opened.via_http_proxy {
            true => (url.absolute(), route.proxy_authorization()),
            false => (url.target.clone(), None),
        };
        wire::write_get(&mut stream, &target, &url.authority(), user_agent, authorization.as_deref())
            .map_err(|e| route.problem(e, Phase::Send))?;
        let mut connection = BufReader::with_capacity(BUFFER, stream);
        let mut within = Within { inner: &mut connection, deadline: Instant::now() + settings.timeout };
        let head = wire::read_response_head(&mut within).map_err(|e| route.problem(e, Phase::Response))?;
        if opened.via_http_proxy
            && head.status == 407
            && let Some(setting) = &route.proxy
        {
            let reason = format!("the proxy refused the request: HTTP 407 {}", head.reason);
            return Err(route.proxy_problem(setting, reason));
        }
        Ok(Response { head, connection, route })
    }

    /// The TLS configuration, built once per session.
    fn tls_config(&self) -> Result<Arc<ClientConfig>, Problem> {
        if let Some(config) = self.tls.get() {
            return Ok(Arc::clone(config));
        }
        let config = tls::client_config(&self.settings.extra_roots).map_err(|e| Problem::Tls(tls::describe(&e)))?;
        Ok(Arc::clone(self.tls.get_or_init(|| config)))
    }
}

/// The response head must arrive within one timeout in all, as the body's trickle is bounded by the
/// stall guard: a server sending a header byte now and then is stopped too.
struct Within<'a, R> {
    inner: &'a mut R,
    deadline: Instant,
}

impl<R> Within<'_, R> {
    fn check(&self) -> std::io::Result<()> {
        match Instant::now() < self.deadline {
            true => Ok(()),
            false => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the response head took too long")),
        }
    }
}

impl<R: BufRead> Read for Within<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.check()?;
        self.inner.read(buf)
    }
}

impl<R: BufRead> BufRead for Within<'_, R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.check()?;
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
    }
}

/// A final refusal (another attempt would do the same).
fn refused(cause: String) -> Problem {
    Problem::Transport { cause, transient: false }
}

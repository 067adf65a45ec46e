//! http:// and https:// URLs as the client needs them: host, port and request target, and the
//! resolution of a redirect's `Location` against the URL that answered (RFC 3986 §5.2, without
//! dot-segment removal: servers send clean paths, and the server gets what it sent).

use std::net::Ipv6Addr;

/// A parsed http(s) URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct HttpUrl {
    pub https: bool,
    /// A name or an IP address; an IPv6 address without its brackets.
    pub host: String,
    pub port: u16,
    /// Path and query as given (percent escapes untouched), `/` when empty; never a fragment.
    pub target: String,
}

impl HttpUrl {
    /// Reads `http(s)://host[:port][/path][?query][#fragment]`. Credentials in the URL are refused:
    /// they would be sent to every host of a redirect chain, and build logs would show them.
    pub(super) fn parse(url: &str) -> Result<HttpUrl, String> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("{url} is not a URL"))?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(format!("{url} is not an http:// or https:// URL")),
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(format!("{url} has credentials in it, which are not sent; use a URL without them"));
        }
        let (host, port) = split_host_port(authority).ok_or_else(|| format!("{url} has no valid host and port"))?;
        let target = match target {
            "" => "/".to_string(),
            query if query.starts_with('?') => format!("/{query}"),
            path => encode_target(path).ok_or_else(|| format!("{url} has control characters in its path"))?,
        };
        Ok(HttpUrl { https, host, port: port.unwrap_or(if https { 443 } else { 80 }), target })
    }

    /// `host[:port]` for the `Host` header: IPv6 in brackets, the port only when not the default.
    pub(super) fn authority(&self) -> String {
        let host = self.bracketed_host();
        if self.port == if self.https { 443 } else { 80 } { host } else { format!("{host}:{}", self.port) }
    }

    /// `host:port`, always with the port: a `CONNECT` target.
    pub(super) fn host_port(&self) -> String {
        format!("{}:{}", self.bracketed_host(), self.port)
    }

    fn bracketed_host(&self) -> String {
        if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() }
    }

    /// The absolute URL (absolute-form, for requests through an http proxy).
    pub(super) fn absolute(&self) -> String {
        format!("{}://{}{}", if self.https { "https" } else { "http" }, self.authority(), self.target)
    }

    /// The absolute URL a `Location` header points to, relative to this URL.
    pub(super) fn resolve(&self, location: &str) -> String {
        let location = location.trim();
        let location = location.split('#').next().unwrap_or_default();
        if has_scheme(location) {
            return location.to_string();
        }
        let scheme = if self.https { "https" } else { "http" };
        if let Some(rest) = location.strip_prefix("//") {
            return format!("{scheme}://{rest}");
        }
        let base = format!("{scheme}://{}", self.authority());
        let path = self.target.split('?').next().unwrap_or("/");
        if location.is_empty() {
            return format!("{base}{}", self.target);
        }
        if location.starts_with('/') {
            return format!("{base}{location}");
        }
        if location.starts_with('?') {
            return format!("{base}{path}{location}");
        }
        let directory = path.rfind('/').and_then(|slash| path.get(..=slash)).unwrap_or("/");
        format!("{base}{directory}{location}")
    }
}

/// `host[:port]`, the host a name or an IPv4 address, or an IPv6 address in brackets.
fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest.split_once(']')?;
            host.parse::<Ipv6Addr>().ok()?;
            let port = if after.is_empty() { None } else { Some(after.strip_prefix(':')?) };
            (host, port)
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let host_ok = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b));
    let port = match port {
        None | Some("") => None,
        Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => Some(digits.parse::<u16>().ok()?),
        Some(_) => return None,
    };
    host_ok.then(|| (host.to_ascii_lowercase(), port))
}

/// The path and query as a request target: controls refused (they would split the request line),
/// spaces and non-ASCII bytes percent-encoded as browsers do, everything else untouched.
fn encode_target(path: &str) -> Option<String> {
    let mut target = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            0..=0x1f | 0x7f => return None,
            b' ' | 0x80..=0xff => target.push_str(&format!("%{byte:02X}")),
            _ => target.push(char::from(byte)),
        }
    }
    Some(target)
}

/// `scheme:` before any `/`, `?` or `#` (RFC 3986 §3.1).
fn has_scheme(reference: &str) -> bool {
    let Some((scheme, _)) = reference.split_once(':') else { return false };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

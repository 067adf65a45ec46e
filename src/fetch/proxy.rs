//! Proxies from the usual variables, read through [`Vars`] (never from the process environment
//! directly). `https_proxy` then `all_proxy` serve https:// URLs; `http_proxy` then `all_proxy` serve
//! http:// ones; lowercase before uppercase, as curl does. `no_proxy` follows curl too: comma- or
//! space-separated entries; `*`; a domain (with or without a leading `.` or `*.`) matching itself and its
//! subdomains; an IP address or CIDR range; an optional `:port`.

use std::net::IpAddr;

use crate::env::{Var, Vars};
use crate::error::DownloadError;

const HTTPS_NAMES: [&str; 4] = ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"];
const HTTP_NAMES: [&str; 4] = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"];
const NO_PROXY_NAMES: [&str; 2] = ["no_proxy", "NO_PROXY"];
const SCHEMES: [&str; 7] = ["http", "https", "socks4", "socks4a", "socks", "socks5", "socks5h"];

/// A proxy from one variable, parsed once.
#[derive(Clone, Debug)]
pub(crate) struct ProxySetting {
    /// The variable it came from (`https_proxy`, `ALL_PROXY`, …).
    pub variable: String,
    /// The value for messages: a password in it is shown as `***`.
    pub shown: String,
    pub(super) server: ProxyServer,
}

/// How to talk to a proxy, parsed from its URL. `Debug` shows the password as `***`: settings end up
/// in debug output and panic messages, which build logs keep.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct ProxyServer {
    pub kind: ProxyKind,
    /// A name or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// User and password, percent-decoded (`Proxy-Authorization: Basic`, SOCKS5 RFC 1929, SOCKS4 user id).
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for ProxyServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let credentials = self.credentials.as_ref().map(|(user, _)| (user, "***"));
        f.debug_struct("ProxyServer")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &credentials)
            .finish()
    }
}

/// The proxy protocols accepted (`SCHEMES`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ProxyKind {
    /// http://: absolute-form requests for http:// URLs, `CONNECT` tunnels for https:// ones.
    Http,
    /// https://: the same, inside TLS to the proxy.
    Https,
    /// socks4://: IPv4 only; the name is resolved here.
    Socks4,
    /// socks4a://: the proxy resolves the name.
    Socks4a,
    /// socks5:// and socks://: the name is resolved here (as curl does).
    Socks5,
    /// socks5h://: the proxy resolves the name.
    Socks5h,
}

/// Which proxy serves which URL.
#[derive(Clone, Debug, Default)]
pub(crate) struct Proxies {
    pub https: Option<ProxySetting>,
    pub http: Option<ProxySetting>,
    pub no_proxy: NoProxy,
}

impl Proxies {
    /// Reads the proxy variables. A set but unusable value is an error naming it: a direct connection
    /// the user did not ask for could leak traffic, or hang where only the proxy gets out.
    pub(crate) fn from_vars(vars: &Vars<'_>) -> Result<Proxies, DownloadError> {
        Ok(Proxies {
            https: first_set(vars, &HTTPS_NAMES).map(|var| ProxySetting::parse(&var)).transpose()?,
            http: first_set(vars, &HTTP_NAMES).map(|var| ProxySetting::parse(&var)).transpose()?,
            no_proxy: first_set(vars, &NO_PROXY_NAMES)
                .map(|var| NoProxy::parse(&var.value.to_string_lossy()))
                .unwrap_or_default(),
        })
    }

    /// The proxy for a connection to `host:port`, or `None` for a direct one.
    pub(crate) fn for_target(&self, https: bool, host: &str, port: u16) -> Option<&ProxySetting> {
        let proxy = if https { self.https.as_ref() } else { self.http.as_ref() };
        proxy.filter(|_| !self.no_proxy.matches(host, port))
    }
}

/// The first of `names` that is set. Every name is looked up, so each gets `rerun-if-env-changed`.
fn first_set(vars: &Vars<'_>, names: &[&str]) -> Option<Var> {
    let found: Vec<Var> = names.iter().filter_map(|name| vars.plain(name)).collect();
    found.into_iter().next()
}

impl ProxySetting {
    pub(crate) fn parse(var: &Var) -> Result<ProxySetting, DownloadError> {
        let lossy = var.value.to_string_lossy();
        let refuse =
            |reason: String| DownloadError::Proxy { variable: var.name.clone(), value: redact(&lossy), reason };
        let text = var.value.to_str().ok_or_else(|| refuse("the value is not valid UTF-8".into()))?.trim();
        // `proxy.corp:3128` means http://proxy.corp:3128 to curl and everyone else.
        let url = if text.contains("://") { text.to_string() } else { format!("http://{text}") };
        let (scheme, rest) = url.split_once("://").unwrap_or_default();
        if !SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()) {
            return Err(refuse(format!(
                "unknown proxy scheme `{scheme}://`; use http://, https://, socks4://, socks5:// or socks5h://"
            )));
        }
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "https" => ProxyKind::Https,
            "socks4" => ProxyKind::Socks4,
            "socks4a" => ProxyKind::Socks4a,
            "socks" | "socks5" => ProxyKind::Socks5,
            "socks5h" => ProxyKind::Socks5h,
            _ => ProxyKind::Http,
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        let (host, port) = check_host_port(host_port).map_err(refuse)?;
        let credentials = userinfo.map(|userinfo| {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            (percent_decode(user), percent_decode(password))
        });
        let port = port.unwrap_or(match kind {
            ProxyKind::Http => 80,
            ProxyKind::Https => 443,
            _ => 1080,
        });
        let server = ProxyServer { kind, host: host.to_string(), port, credentials };
        Ok(ProxySetting { variable: var.name.clone(), shown: redact(&url), server })
    }
}

/// `%XX` escapes decoded (a password may hold `@` or `:` that way); anything else kept as is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let escaped = bytes.get(i + 1..i + 3).filter(|hex| hex.iter().all(u8::is_ascii_hexdigit));
        let decoded =
            escaped.and_then(|hex| std::str::from_utf8(hex).ok()).and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(decoded) if byte == b'%' => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Checks `host[:port]` (IPv6 in brackets), so every malformed value gets a reason; returns the host
/// (without brackets) and the port, if any.
fn check_host_port(host_port: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if let Some(rest) = host_port.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("an IPv6 address needs a closing `]`")?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`{host}` is not an IPv6 address"));
        }
        (host, after.strip_prefix(':'))
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("there is no host name".into());
    }
    if !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b)) {
        return Err(format!("`{host}` is not a host name"));
    }
    match port {
        Some(port) => match port.parse::<u16>() {
            Ok(number) if number != 0 => Ok((host, Some(number))),
            _ => Err(format!("`{port}` is not a port number")),
        },
        None => Ok((host, None)),
    }
}

/// The URL with any password replaced by `***`, for messages.
fn redact(url: &str) -> String {
    let (prefix, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{prefix}{user}:***@{host}{tail}"),
            None => format!("{prefix}{userinfo}@{host}{tail}"),
        },
        None => format!("{prefix}{rest}"),
    }
}

/// The hosts that bypass the proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NoProxy {
    entries: Vec<NoProxyEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum NoProxyEntry {
    All,
    /// A host name, matching itself and every subdomain.
    Domain {
        name: String,
        port: Option<u16>,
    },
    Address {
        addr: IpAddr,
        port: Option<u16>,
    },
    Network {
        addr: IpAddr,
        prefix: u8,
    },
}

impl NoProxy {
    pub(crate) fn parse(text: &str) -> NoProxy {
        let entries = text.split([',', ' ', '\t', '\n']).filter_map(NoProxyEntry::parse).collect();
        NoProxy { entries }
    }

    /// Whether a connection to `host:port` goes direct. `host` may be an IPv6 literal in brackets.
    pub(crate) fn matches(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase();
        let addr = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|entry| entry.matches(&host, addr, port))
    }
}

impl NoProxyEntry {
    fn parse(raw: &str) -> Option<NoProxyEntry> {
        let entry = raw.trim().to_ascii_lowercase();
        if entry.is_empty() {
            return None;
        }
        if entry == "*" {
            return Some(NoProxyEntry::All);
        }
        if let Some((addr, prefix)) = entry.split_once('/') {
            let addr: IpAddr = addr.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
            let prefix: u8 = prefix.parse().ok()?;
            let bits = if addr.is_ipv4() { 32 } else { 128 };
            return (prefix <= bits).then_some(NoProxyEntry::Network { addr, prefix });
        }
        if let Ok(addr) = entry.parse::<IpAddr>() {
            return Some(NoProxyEntry::Address { addr, port: None });
        }
        if let Some(rest) = entry.strip_prefix('[') {
            let (addr, after) = rest.split_once(']')?;
            let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
            return Some(NoProxyEntry::Address { addr: addr.parse().ok()?, port });
        }
        let (name, port) = match entry.rsplit_once(':') {
            Some((name, port)) => (name, Some(port.parse::<u16>().ok()?)),
            None => (entry.as_str(), None),
        };
        if let Ok(addr) = name.parse::<IpAddr>() {
            return Some(NoProxyEntry::Address { addr, port });
        }
        let name = name.trim_start_matches("*.").trim_start_matches('.').trim_end_matches('.');
        (!name.is_empty()).then(|| NoProxyEntry::Domain { name: name.to_string(), port })
    }

    fn matches(&self, host: &str, addr: Option<IpAddr>, port: u16) -> bool {
        let port_ok = |wanted: &Option<u16>| wanted.is_none_or(|p| p == port);
        match self {
            NoProxyEntry::All => true,
            NoProxyEntry::Domain { name, port: wanted } => {
                let subdomain = host.strip_suffix(name.as_str()).is_some_and(|head| head.ends_with('.'));
                (host == name || subdomain) && port_ok(wanted)
            }
            NoProxyEntry::Address { addr: wanted, port: wanted_port } => addr == Some(*wanted) && port_ok(wanted_port),
            NoProxyEntry::Network { addr: network, prefix } => addr.is_some_and(|a| in_network(a, *network, *prefix)),
        }
    }
}

fn in_network(addr: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (addr, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

//! http:// and https:// URLs as the client needs them: host, port and request target, and the
//! resolution of a redirect's `Location` against the URL that answered (RFC 3986 §5.2, with the
//! dot-segment removal of §5.2.4: a `../` sent on is resolved by some servers and refused or misread
//! by others, so it is resolved here, as browsers (the WHATWG URL parser) and curl (unless told
//! `--path-as-is`) do).

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

    /// The absolute URL a `Location` header points to, relative to this URL; `.` and `..` segments of
    /// the resulting path removed, the query kept as sent, the fragment dropped.
    pub(super) fn resolve(&self, location: &str) -> String {
        let location = location.trim();
        let location = location.split('#').next().unwrap_or_default();
        if has_scheme(location) {
            return without_dot_segments(location);
        }
        let scheme = if self.https { "https" } else { "http" };
        if let Some(rest) = location.strip_prefix("//") {
            return without_dot_segments(&format!("{scheme}://{rest}"));
        }
        let base = format!("{scheme}://{}", self.authority());
        let (path, _) = split_query(&self.target);
        if location.is_empty() {
            return format!("{base}{}", self.target);
        }
        if location.starts_with('?') {
            return format!("{base}{path}{location}");
        }
        let (relative, query) = split_query(location);
        let merged = if relative.starts_with('/') {
            relative.to_string()
        } else {
            // RFC 3986 §5.2.3: the base path up to its last `/`, then the reference.
            let directory = path.rfind('/').and_then(|slash| path.get(..=slash)).unwrap_or("/");
            format!("{directory}{relative}")
        };
        format!("{base}{}{query}", remove_dot_segments(&merged))
    }
}

/// `scheme://authority/path?query` with `.` and `..` removed from the path; anything without `://`
/// (an opaque URI such as `mailto:`) as it is.
fn without_dot_segments(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_query) = rest.split_at(authority_end);
    let (path, query) = split_query(path_query);
    format!("{scheme}://{authority}{}{query}", remove_dot_segments(path))
}

/// The path, and the query with its `?` (empty when there is none).
fn split_query(path_query: &str) -> (&str, &str) {
    path_query.split_at(path_query.find('?').unwrap_or(path_query.len()))
}

/// RFC 3986 §5.2.4, step by step as written there: the input buffer is consumed from the left, each
/// step named by the rule (A–E) it follows.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut output = String::with_capacity(path.len());
    while !input.is_empty() {
        if let Some(rest) = input.strip_prefix("../").or_else(|| input.strip_prefix("./")) {
            input = rest; // A
        } else if input.starts_with("/./") || input == "/." {
            input = input.get(2..).filter(|rest| !rest.is_empty()).unwrap_or("/"); // B
        } else if input.starts_with("/../") || input == "/.." {
            input = input.get(3..).filter(|rest| !rest.is_empty()).unwrap_or("/"); // C
            output.truncate(output.rfind('/').unwrap_or(0));
        } else if input == "." || input == ".." {
            input = ""; // D
        } else {
            // E: the first segment, with its leading `/`, moves to the output.
            let after_slash = usize::from(input.starts_with('/'));
            let end = input.get(after_slash..).and_then(|rest| rest.find('/')).map_or(input.len(), |i| i + after_slash);
            let (segment, rest) = input.split_at(end);
            output.push_str(segment);
            input = rest;
        }
    }
    output
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

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3986 §5.4's examples against its base `http://a/b/c/d;p?q`, less the fragments (never
    /// sent, so dropped here) and the non-http `g:h`.
    #[test]
    fn references_resolve_as_in_rfc_3986_section_5_4() {
        let base = HttpUrl::parse("http://a/b/c/d;p?q").unwrap();
        let examples = [
            // §5.4.1, normal examples
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q"),
            ("g#s", "http://a/b/c/g"),
            ("g?y#s", "http://a/b/c/g?y"),
            (";x", "http://a/b/c/;x"),
            ("g;x", "http://a/b/c/g;x"),
            ("g;x?y#s", "http://a/b/c/g;x?y"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../", "http://a/"),
            ("../../g", "http://a/g"),
            // §5.4.2, abnormal examples
            ("../../../g", "http://a/g"),
            ("../../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            (".g", "http://a/b/c/.g"),
            ("g..", "http://a/b/c/g.."),
            ("..g", "http://a/b/c/..g"),
            ("./../g", "http://a/b/g"),
            ("./g/.", "http://a/b/c/g/"),
            ("g/./h", "http://a/b/c/g/h"),
            ("g/../h", "http://a/b/c/h"),
            ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
            ("g;x=1/../y", "http://a/b/c/y"),
            ("g?y/./x", "http://a/b/c/g?y/./x"),
            ("g?y/../x", "http://a/b/c/g?y/../x"),
            ("g#s/./x", "http://a/b/c/g"),
            ("g#s/../x", "http://a/b/c/g"),
        ];
        for (reference, expected) in examples {
            assert_eq!(base.resolve(reference), expected, "{reference:?}");
        }
    }

    #[test]
    fn absolute_and_scheme_relative_locations_lose_their_dot_segments_but_not_their_query() {
        let base = HttpUrl::parse("https://mirror.example:8443/releases/v1/file.tgz").unwrap();
        let cases = [
            ("https://cdn.example/a/./b/../c?x=/../y", "https://cdn.example/a/c?x=/../y"),
            ("//cdn.example:9000/../../top", "https://cdn.example:9000/top"),
            ("/releases/v2/../v3/./file.tgz?sig=a/./b", "https://mirror.example:8443/releases/v3/file.tgz?sig=a/./b"),
            ("../../other/x", "https://mirror.example:8443/other/x"),
            ("https://cdn.example", "https://cdn.example"),
            ("https://cdn.example?q", "https://cdn.example?q"),
            ("mailto:someone@example.com", "mailto:someone@example.com"),
        ];
        for (location, expected) in cases {
            assert_eq!(base.resolve(location), expected, "{location:?}");
        }
    }

    #[test]
    fn dot_segments_are_removed_as_section_5_2_4_walks_them() {
        // §5.2.4's two worked examples, then edges of the rules.
        assert_eq!(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
        assert_eq!(remove_dot_segments("mid/content=5/../6"), "mid/6");
        for (input, expected) in [
            ("", ""),
            ("/", "/"),
            ("/..", "/"),
            ("/.", "/"),
            ("/a/..", "/"),
            ("/a/.", "/a/"),
            ("/a/b/..", "/a/"),
            ("/a//../b", "/a/b"),
            ("/%2E%2E/x", "/%2E%2E/x"),
            ("/é/../ü", "/ü"),
            ("../", ""),
            ("..", ""),
        ] {
            assert_eq!(remove_dot_segments(input), expected, "{input:?}");
        }
    }
}

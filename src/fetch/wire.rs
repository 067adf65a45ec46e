//! HTTP/1.1 on the wire (RFC 9112), as much as one streaming GET needs: the request, the response's
//! status line and headers, and the body's framing (chunked, `Content-Length`, or until the close).
//!
//! Everything read is bounded: a head (status line and headers, 1xx heads and chunked trailers alike)
//! holds at most [`MAX_HEAD_BYTES`] and [`MAX_HEADERS`] lines. What is refused: obsolete line folding,
//! control bytes, a bare CR, a malformed or conflicting `Content-Length`, a transfer coding other than
//! `chunked`, and a message carrying both `Transfer-Encoding` and `Content-Length` (RFC 9112 §6.3 lets
//! a recipient reject it; two framings are the signature of request smuggling). A lone LF ends a line
//! as CRLF does (RFC 9112 §2.2 allows a recipient to accept it). Violations are [`Malformed`] inside an
//! `io::Error` of kind `InvalidData`; a connection closed early is `UnexpectedEof`.

use std::fmt;
use std::io::{self, BufRead, Read, Write};

/// The most bytes of one head: status line and headers (or a chunked body's trailers).
pub(super) const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The most header lines of one head.
pub(super) const MAX_HEADERS: usize = 100;
/// The most `1xx` interim responses skipped before the final one.
const MAX_INTERIM: usize = 10;
/// The longest chunk-size line (extensions included; they are ignored).
const MAX_CHUNK_LINE: usize = 4096;

/// A protocol violation by the server: the text says which.
#[derive(Debug)]
pub(super) struct Malformed(pub String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Malformed {}

fn malformed(text: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, Malformed(text.into()))
}

fn closed(during: &str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, format!("the connection closed during {during}"))
}

/// Writes a GET. `target` is the origin form (`/path?query`) or, to an http proxy, the absolute URL.
/// `Accept-Encoding: identity` keeps the body the file's own bytes, the bytes its SHA-256 pins.
pub(super) fn write_get(
    out: &mut dyn Write,
    target: &str,
    host: &str,
    user_agent: &str,
    proxy_authorization: Option<&str>,
) -> io::Result<()> {
    let mut head = format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\n\
         Accept-Encoding: identity\r\nConnection: close\r\n"
    );
    if let Some(credentials) = proxy_authorization {
        head.push_str(&format!("Proxy-Authorization: {credentials}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.flush()
}

/// Writes a `CONNECT host:port` asking a proxy for a tunnel.
pub(super) fn write_connect(
    out: &mut dyn Write,
    host_port: &str,
    user_agent: &str,
    proxy_authorization: Option<&str>,
) -> io::Result<()> {
    let mut head = format!("CONNECT {host_port} HTTP/1.1\r\nHost: {host_port}\r\nUser-Agent: {user_agent}\r\n");
    if let Some(credentials) = proxy_authorization {
        head.push_str(&format!("Proxy-Authorization: {credentials}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.flush()
}

/// `Basic` credentials (RFC 7617) for `Proxy-Authorization`.
pub(super) fn basic_credentials(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

/// Standard base64 with padding (RFC 4648 §4).
pub(super) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let symbol = |index: u32| char::from(ALPHABET[(index & 63) as usize]);
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = |i: usize| u32::from(group.get(i).copied().unwrap_or(0));
        let bits = (b(0) << 16) | (b(1) << 8) | b(2);
        text.push(symbol(bits >> 18));
        text.push(symbol(bits >> 12));
        text.push(if group.len() > 1 { symbol(bits >> 6) } else { '=' });
        text.push(if group.len() > 2 { symbol(bits) } else { '=' });
    }
    text
}

/// A response's status line and headers.
#[derive(Debug)]
pub(super) struct Head {
    pub status: u16,
    pub reason: String,
    headers: Vec<(String, String)>,
}

/// How the body's end is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Framing {
    Chunked,
    Length(u64),
    /// Until the server closes the connection.
    Close,
}

impl Head {
    /// The first header called `name` (case-insensitive).
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn all<'h>(&'h self, name: &'h str) -> impl Iterator<Item = &'h str> + 'h {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body's framing (RFC 9112 §6.3). Repeated `Content-Length`s that agree count as one.
    pub(super) fn framing(&self) -> Result<Framing, Malformed> {
        if matches!(self.status, 204 | 304) {
            return Ok(Framing::Length(0));
        }
        let codings: Vec<String> =
            self.all("transfer-encoding").flat_map(|v| v.split(',')).map(|c| c.trim().to_ascii_lowercase()).collect();
        let lengths: Vec<&str> = self.all("content-length").flat_map(|v| v.split(',')).map(str::trim).collect();
        if !codings.is_empty() {
            if !lengths.is_empty() {
                return Err(Malformed(
                    "the response has both Transfer-Encoding and Content-Length (RFC 9112 §6.3: refused, a \
                     message framed two ways)"
                        .into(),
                ));
            }
            if codings != ["chunked"] {
                return Err(Malformed(format!(
                    "Transfer-Encoding `{}` was not asked for (only chunked is read)",
                    codings.join(", ")
                )));
            }
            return Ok(Framing::Chunked);
        }
        let mut found: Option<u64> = None;
        for text in lengths {
            let length =
                parse_decimal(text).ok_or_else(|| Malformed(format!("Content-Length `{text}` is not a length")))?;
            if found.is_some_and(|earlier| earlier != length) {
                return Err(Malformed("the response has conflicting Content-Length values".into()));
            }
            found = Some(length);
        }
        Ok(found.map_or(Framing::Close, Framing::Length))
    }
}

/// One or more ASCII digits, within u64 (no sign, no spaces, no `0x`).
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Reads the final response head, skipping `1xx` interim responses (at most [`MAX_INTERIM`]).
pub(super) fn read_response_head(reader: &mut dyn BufRead) -> io::Result<Head> {
    for _ in 0..=MAX_INTERIM {
        let head = read_head(reader)?;
        match head.status {
            101 => return Err(malformed("the server switched protocols (HTTP 101) though none was asked for")),
            100..=199 => continue,
            _ => return Ok(head),
        }
    }
    Err(malformed(format!("more than {MAX_INTERIM} interim (1xx) responses")))
}

/// Reads one head: the status line, then header lines up to the empty line.
pub(super) fn read_head(reader: &mut dyn BufRead) -> io::Result<Head> {
    let mut budget = MAX_HEAD_BYTES;
    let line = read_line(reader, &mut budget, "the response head")?;
    let (status, reason) = parse_status_line(&line)?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader, &mut budget, "the response head")?;
        if line.is_empty() {
            return Ok(Head { status, reason, headers });
        }
        if headers.len() >= MAX_HEADERS {
            return Err(malformed(format!("more than {MAX_HEADERS} header lines")));
        }
        headers.push(parse_header_line(&line)?);
    }
}

/// One line without its CRLF (or LF), counted against `budget`.
fn read_line(reader: &mut dyn BufRead, budget: &mut usize, during: &str) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Err(closed(during));
        }
        let (taken, complete) = match available.iter().position(|&b| b == b'\n') {
            Some(end) => (end + 1, true),
            None => (available.len(), false),
        };
        if taken > *budget {
            return Err(malformed(format!("{during} is longer than {MAX_HEAD_BYTES} bytes")));
        }
        *budget -= taken;
        line.extend_from_slice(available.get(..taken).unwrap_or_default());
        reader.consume(taken);
        if complete {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.contains(&b'\r') {
                return Err(malformed(format!("a bare CR in {during}")));
            }
            return Ok(line);
        }
    }
}

/// `HTTP/1.x SSS reason`.
fn parse_status_line(line: &[u8]) -> io::Result<(u16, String)> {
    let bad = || malformed(format!("not an HTTP/1.x status line: `{}`", String::from_utf8_lossy(line)));
    let rest = line.strip_prefix(b"HTTP/1.").ok_or_else(bad)?;
    let (minor, rest) = rest.split_first().ok_or_else(bad)?;
    let rest = rest.strip_prefix(b" ").filter(|_| minor.is_ascii_digit()).ok_or_else(bad)?;
    let digits = rest.get(..3).filter(|d| d.iter().all(u8::is_ascii_digit)).ok_or_else(bad)?;
    let status = digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    let reason = match rest.get(3..) {
        Some([]) | None => &[][..],
        Some([b' ', reason @ ..]) => reason,
        Some(_) => return Err(bad()),
    };
    if status < 100 || !reason.iter().all(|&b| is_field_byte(b)) {
        return Err(bad());
    }
    Ok((status, String::from_utf8_lossy(reason).into_owned()))
}

/// `name: value`; the name a token (RFC 9110 §5.1), no space before the colon, no folding.
fn parse_header_line(line: &[u8]) -> io::Result<(String, String)> {
    let shown = || String::from_utf8_lossy(line).into_owned();
    if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
        return Err(malformed(format!("obsolete line folding in the headers: `{}`", shown())));
    }
    let colon =
        line.iter().position(|&b| b == b':').ok_or_else(|| malformed(format!("not a header: `{}`", shown())))?;
    let (name, value) = (line.get(..colon).unwrap_or_default(), line.get(colon + 1..).unwrap_or_default());
    if name.is_empty() || !name.iter().all(|&b| is_token_byte(b)) {
        return Err(malformed(format!("not a header name: `{}`", shown())));
    }
    if !value.iter().all(|&b| is_field_byte(b)) {
        return Err(malformed(format!("a control byte in the header `{}`", String::from_utf8_lossy(name))));
    }
    let value = value.trim_ascii();
    Ok((String::from_utf8_lossy(name).into_owned(), String::from_utf8_lossy(value).into_owned()))
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// HTAB, SP, visible ASCII, or obs-text (RFC 9110 §5.5).
fn is_field_byte(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80
}

/// A response body as its framing delimits it; reads the connection only as far as the body goes.
pub(super) struct BodyReader<R> {
    inner: R,
    state: State,
}

enum State {
    Length {
        left: u64,
    },
    Close,
    /// Before a chunk-size line.
    ChunkSize,
    ChunkData {
        left: u64,
    },
    /// The CRLF after a chunk's data.
    ChunkEnd,
    Done,
}

impl<R: BufRead> BodyReader<R> {
    pub(super) fn new(inner: R, framing: Framing) -> BodyReader<R> {
        let state = match framing {
            Framing::Chunked => State::ChunkSize,
            Framing::Length(0) => State::Done,
            Framing::Length(left) => State::Length { left },
            Framing::Close => State::Close,
        };
        BodyReader { inner, state }
    }

    /// Reads the next chunk-size line; after the last chunk, skips the trailers.
    fn next_chunk(&mut self) -> io::Result<()> {
        let mut budget = MAX_CHUNK_LINE;
        let line = read_line(&mut self.inner, &mut budget, "a chunked body")?;
        let size = parse_chunk_size(&line)?;
        if size > 0 {
            self.state = State::ChunkData { left: size };
            return Ok(());
        }
        // Trailer fields are skipped, within the same caps as a head.
        let mut budget = MAX_HEAD_BYTES;
        for _ in 0..=MAX_HEADERS {
            if read_line(&mut self.inner, &mut budget, "a chunked body's trailers")?.is_empty() {
                self.state = State::Done;
                return Ok(());
            }
        }
        Err(malformed(format!("more than {MAX_HEADERS} trailer lines")))
    }
}

/// The hexadecimal size before any `;extension` (RFC 9112 §7.1), in checked arithmetic.
fn parse_chunk_size(line: &[u8]) -> io::Result<u64> {
    let shown = || String::from_utf8_lossy(line).into_owned();
    let digits_end = line.iter().position(|b| !b.is_ascii_hexdigit()).unwrap_or(line.len());
    let (digits, rest) = line.split_at(digits_end);
    let rest = rest.trim_ascii_start();
    if digits.is_empty() || !(rest.is_empty() || rest.starts_with(b";")) {
        return Err(malformed(format!("not a chunk size: `{}`", shown())));
    }
    digits
        .iter()
        .try_fold(0u64, |size, &d| {
            let value = u64::from(char::from(d).to_digit(16)?);
            size.checked_mul(16)?.checked_add(value)
        })
        .ok_or_else(|| malformed(format!("the chunk size `{}` is too large", shown())))
}

impl<R: BufRead> Read for BodyReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.state {
                State::Done => return Ok(0),
                State::Close => {
                    return match self.inner.read(buf) {
                        // A TLS peer closing without close_notify: the end of a close-delimited body
                        // looks exactly like this. Its SHA-256 tells a truncated file anyway.
                        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                        other => other,
                    };
                }
                State::Length { left } | State::ChunkData { left } => {
                    let wanted = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
                    let n = self.inner.read(buf.get_mut(..wanted).unwrap_or_default())?;
                    if n == 0 {
                        return Err(closed("the body"));
                    }
                    let left = left.saturating_sub(n as u64);
                    self.state = match (&self.state, left) {
                        (State::Length { .. }, 0) => State::Done,
                        (State::Length { .. }, left) => State::Length { left },
                        (_, 0) => State::ChunkEnd,
                        (_, left) => State::ChunkData { left },
                    };
                    return Ok(n);
                }
                State::ChunkSize => self.next_chunk()?,
                State::ChunkEnd => {
                    let mut budget = MAX_CHUNK_LINE;
                    if !read_line(&mut self.inner, &mut budget, "a chunked body")?.is_empty() {
                        return Err(malformed("a chunk's data is longer than its size"));
                    }
                    self.state = State::ChunkSize;
                }
            }
        }
    }
}

/// Parses `bytes` as a response and reads its body to the end: the fuzz target's entry point. The
/// bytes stand in for a connection (the same reader types as a real response: no extra code compiled).
pub(crate) fn parse_response(bytes: &[u8]) -> io::Result<(Head, u64)> {
    let connection: super::connection::Stream = Box::new(io::Cursor::new(bytes.to_vec()));
    let mut reader = io::BufReader::with_capacity(64, connection);
    let head = read_response_head(&mut reader)?;
    let framing = head.framing().map_err(|m| malformed(m.0))?;
    let read = io::copy(&mut BodyReader::new(reader, framing), &mut io::sink())?;
    Ok((head, read))
}

//! The SOCKS handshakes, on a connection already open to the proxy: SOCKS5 (RFC 1928) with no
//! authentication or user/password (RFC 1929), SOCKS4 and SOCKS4a. Where the name is resolved is the
//! scheme's choice (see [`ProxyKind`]): socks4:// and socks5:// send an address resolved here,
//! socks4a:// and socks5h:// send the name for the proxy to resolve.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};

use super::proxy::{ProxyKind, ProxyServer};

/// Where the tunnel should lead.
pub(super) enum Destination<'a> {
    Address(SocketAddr),
    Name(&'a str, u16),
}

/// Why a handshake failed.
#[derive(Debug)]
pub(super) enum SocksFailure {
    Io(io::Error),
    /// The proxy will refuse again (authentication, rules, protocol): a setting to fix.
    Refused(String),
    /// The proxy could not reach the destination this time.
    Unreachable(String),
}

impl From<io::Error> for SocksFailure {
    fn from(error: io::Error) -> SocksFailure {
        SocksFailure::Io(error)
    }
}

/// Asks the proxy on `stream` for a tunnel to `destination`.
pub(super) fn handshake(
    stream: &mut (impl Read + Write),
    proxy: &ProxyServer,
    destination: &Destination<'_>,
) -> Result<(), SocksFailure> {
    match proxy.kind {
        ProxyKind::Socks4 | ProxyKind::Socks4a => socks4(stream, proxy, destination),
        _ => socks5(stream, proxy, destination),
    }
}

fn socks5(
    stream: &mut (impl Read + Write),
    proxy: &ProxyServer,
    destination: &Destination<'_>,
) -> Result<(), SocksFailure> {
    let greeting: &[u8] = if proxy.credentials.is_some() { &[5, 2, 0, 2] } else { &[5, 1, 0] };
    stream.write_all(greeting)?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice)?;
    match (choice, &proxy.credentials) {
        ([5, 0], _) => {}
        ([5, 2], Some((user, password))) => authenticate(stream, user, password)?,
        ([5, 2], None) | ([5, 0xff], None) => {
            return Err(SocksFailure::Refused(
                "the SOCKS5 proxy wants a user name and password (RFC 1929); put them in the proxy URL as \
                 socks5://user:password@host:port (percent-encode `@`, `:` and `%` in them)"
                    .into(),
            ));
        }
        ([5, _], _) => {
            return Err(SocksFailure::Refused(
                "the SOCKS5 proxy accepts none of our authentication methods (none; user and password when \
                 the URL has them)"
                    .into(),
            ));
        }
        _ => return Err(SocksFailure::Refused("the proxy does not answer as a SOCKS5 proxy".into())),
    }
    let mut request = vec![5, 1, 0];
    let port = match destination {
        Destination::Address(address) => {
            match address.ip() {
                IpAddr::V4(ip) => request.extend([1].iter().chain(&ip.octets())),
                IpAddr::V6(ip) => request.extend([4].iter().chain(&ip.octets())),
            }
            address.port()
        }
        Destination::Name(name, port) => {
            let length = u8::try_from(name.len())
                .map_err(|_| SocksFailure::Refused(format!("the host name {name} is too long for SOCKS5")))?;
            request.push(3);
            request.push(length);
            request.extend_from_slice(name.as_bytes());
            *port
        }
    };
    request.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&request)?;
    let mut reply = [0u8; 4];
    stream.read_exact(&mut reply)?;
    if reply[0] != 5 {
        return Err(SocksFailure::Refused("the proxy does not answer as a SOCKS5 proxy".into()));
    }
    if reply[1] != 0 {
        return Err(socks5_refusal(reply[1]));
    }
    // The address the proxy bound, unused: read past it so the tunnel starts clean.
    let bound = match reply[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut length = [0u8; 1];
            stream.read_exact(&mut length)?;
            usize::from(length[0])
        }
        _ => return Err(SocksFailure::Refused("the SOCKS5 proxy's reply has an unknown address type".into())),
    };
    let mut rest = vec![0u8; bound + 2];
    stream.read_exact(&mut rest)?;
    Ok(())
}

/// RFC 1929 user/password sub-negotiation. No message here quotes the password.
fn authenticate(stream: &mut (impl Read + Write), user: &str, password: &str) -> Result<(), SocksFailure> {
    let mut message = vec![1];
    for (what, value) in [("user name", user), ("password", password)] {
        // RFC 1929 gives each a one-byte length.
        let length = u8::try_from(value.len()).map_err(|_| {
            SocksFailure::Refused(format!(
                "the SOCKS5 {what} in the proxy URL is {} bytes, and RFC 1929 allows at most 255; use a shorter \
                 one, or an http:// or https:// proxy (whose Basic credentials have no such limit)",
                value.len()
            ))
        })?;
        message.push(length);
        message.extend_from_slice(value.as_bytes());
    }
    stream.write_all(&message)?;
    let mut status = [0u8; 2];
    stream.read_exact(&mut status)?;
    if status[1] != 0 {
        return Err(SocksFailure::Refused(format!(
            "the SOCKS5 proxy refused the user name and password (RFC 1929 status {}); check the user `{user}` \
             and its password in the proxy URL",
            status[1]
        )));
    }
    Ok(())
}

fn socks5_refusal(code: u8) -> SocksFailure {
    let unreachable = |what: &str| SocksFailure::Unreachable(format!("the SOCKS5 proxy reports: {what}"));
    match code {
        1 => unreachable("general failure"),
        3 => unreachable("network unreachable"),
        4 => unreachable("host unreachable"),
        5 => unreachable("connection refused"),
        6 => unreachable("TTL expired"),
        2 => SocksFailure::Refused("the SOCKS5 proxy's rules forbid this connection".into()),
        7 => SocksFailure::Refused("the SOCKS5 proxy does not support CONNECT".into()),
        8 => SocksFailure::Refused("the SOCKS5 proxy does not support this address type".into()),
        other => SocksFailure::Refused(format!("the SOCKS5 proxy answered with the unknown code {other}")),
    }
}

fn socks4(
    stream: &mut (impl Read + Write),
    proxy: &ProxyServer,
    destination: &Destination<'_>,
) -> Result<(), SocksFailure> {
    // SOCKS4 has a user id and no password: the URL's password, if any, is not sent.
    let user = proxy.credentials.as_ref().map(|(user, _)| user.as_str()).unwrap_or_default();
    let (ip, port, name) = match destination {
        Destination::Address(SocketAddr::V4(address)) => (address.ip().octets(), address.port(), None),
        Destination::Address(SocketAddr::V6(address)) => {
            return Err(SocksFailure::Refused(format!(
                "SOCKS4 cannot reach the IPv6 address {}; use socks5:// or socks5h://",
                address.ip()
            )));
        }
        // SOCKS4a: the address 0.0.0.x (x ≠ 0) says a name follows.
        Destination::Name(name, port) => ([0, 0, 0, 1], *port, Some(*name)),
    };
    if user.contains('\0') || name.is_some_and(|n| n.contains('\0')) {
        return Err(SocksFailure::Refused("a NUL byte cannot be sent through SOCKS4".into()));
    }
    let mut request = vec![4, 1];
    request.extend_from_slice(&port.to_be_bytes());
    request.extend_from_slice(&ip);
    request.extend_from_slice(user.as_bytes());
    request.push(0);
    if let Some(name) = name {
        request.extend_from_slice(name.as_bytes());
        request.push(0);
    }
    stream.write_all(&request)?;
    let mut reply = [0u8; 8];
    stream.read_exact(&mut reply)?;
    match reply[1] {
        90 => Ok(()),
        91 => Err(SocksFailure::Unreachable("the SOCKS4 proxy rejected the request or could not connect".into())),
        92 | 93 => Err(SocksFailure::Refused(format!(
            "the SOCKS4 proxy could not confirm the user id `{user}` (identd, reply {}); check the user in the \
             proxy URL",
            reply[1]
        ))),
        _ => Err(SocksFailure::Refused("the proxy does not answer as a SOCKS4 proxy".into())),
    }
}

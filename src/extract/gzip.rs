//! One gzip member (RFC 1952): the header, a raw deflate stream, and the trailer.
//!
//! The trailer's length is checked; its CRC-32 is not computed. Every archive comes from the download
//! source, which publishes nothing until the SHA-256 of the compressed bytes matches the manifest, and
//! the CRC would only catch a change of those same bytes. Computing it costs a third of the unpacking
//! time in an unoptimised build script (cargo's default for build dependencies), for no added safety.

use std::io::{self, BufRead, Read};

use super::inflate::Inflate;

const MAGIC: [u8; 3] = [0x1f, 0x8b, 8];
const FHCRC: u8 = 1 << 1;
const FEXTRA: u8 = 1 << 2;
const FNAME: u8 = 1 << 3;
const FCOMMENT: u8 = 1 << 4;
const RESERVED: u8 = 0xe0;
/// Longest file name or comment accepted in the header.
const MAX_HEADER_TEXT: u64 = 64 << 10;

/// The decompressed bytes of the one gzip member at the start of the input.
pub(super) struct Gunzip<R> {
    decoder: Inflate<R>,
    header_read: bool,
    ended: bool,
}

impl<R: BufRead> Gunzip<R> {
    pub(super) fn new(input: R) -> Self {
        Gunzip { decoder: Inflate::new(input), header_read: false, ended: false }
    }

    /// The input after the member's trailer (once the member has been read to its end).
    pub(super) fn into_inner(self) -> R {
        self.decoder.into_inner()
    }
}

impl<R: BufRead> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.header_read {
            skip_header(self.decoder.get_mut())?;
            self.header_read = true;
        }
        if self.ended || buf.is_empty() {
            return Ok(0);
        }
        let n = self.decoder.read(buf)?;
        if n == 0 {
            let mut trailer = [0u8; 8];
            self.decoder.get_mut().read_exact(&mut trailer)?;
            let [_, _, _, _, a, b, c, d] = trailer;
            // ISIZE is the length modulo 2^32.
            if u32::from_le_bytes([a, b, c, d]) != self.decoder.total_out() as u32 {
                return Err(corrupt("the gzip trailer's length differs from the decompressed length"));
            }
            self.ended = true;
        }
        Ok(n)
    }
}

fn skip_header(input: &mut impl BufRead) -> io::Result<()> {
    let mut fixed = [0u8; 10];
    input.read_exact(&mut fixed)?;
    let [id1, id2, method, flags, ..] = fixed;
    if [id1, id2, method] != MAGIC {
        return Err(corrupt("not a gzip stream (or not deflate-compressed)"));
    }
    if flags & RESERVED != 0 {
        return Err(corrupt("the gzip header sets reserved flags"));
    }
    if flags & FEXTRA != 0 {
        let mut length = [0u8; 2];
        input.read_exact(&mut length)?;
        let length = u64::from(u16::from_le_bytes(length));
        if io::copy(&mut input.take(length), &mut io::sink())? != length {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
    }
    for (flag, what) in [(FNAME, "file name"), (FCOMMENT, "comment")] {
        if flags & flag != 0 {
            let mut text = Vec::new();
            input.take(MAX_HEADER_TEXT).read_until(0, &mut text)?;
            if text.last() != Some(&0) {
                return Err(corrupt(&format!("the gzip header's {what} is unterminated or too long")));
            }
        }
    }
    if flags & FHCRC != 0 {
        input.read_exact(&mut [0u8; 2])?;
    }
    Ok(())
}

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

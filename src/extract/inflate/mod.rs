//! Raw deflate (RFC 1951), the compression inside `.tgz` members and zip entries, as a `Read`er.
//!
//! Two engines decode the same streams:
//! - **The system's zlib**, opened with `dlopen` the first time an archive is unpacked
//!   ([`zlib`]). Its C inflate keeps its speed in the unoptimised builds cargo gives build scripts:
//!   a cold provision of the real 7.6 MB archive takes 88 ms with it and 359 ms with miniz_oxide at
//!   opt-level 0 (`ci/bench.sh`, figure 2). It is opened rather than linked because a linked libz is
//!   loaded by every run of every build script that depends on this crate, downloads or not: that
//!   added 0.06 ms to the 1 ms start-up of such a build script (figure 1's `DOCS_RS` row), for a
//!   library only a cold provision uses.
//! - **miniz_oxide**, where no system zlib can be opened (Windows, static builds, a system without
//!   `libz.so.1`). Same results, slower when unoptimised (the README's Performance section gives the
//!   one-package `opt-level` setting that restores the speed), with one difference on damaged input:
//!   a distance reaching before the start of the output is copied as zeros, where zlib refuses it.
//!   That cannot publish damaged files: the download's SHA-256 is checked before anything unpacked
//!   is published, and every zip entry's CRC-32.
//!
//! Errors: a malformed stream is `InvalidData`; input that ends before the stream does is
//! `UnexpectedEof`; a failure of the input itself is passed through unchanged.

mod zlib;

use std::io::{self, BufRead, Read};

use miniz_oxide::inflate::stream::InflateState;
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

/// Which engine decodes; [`Engine::best`] picks, the tests pick both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Engine {
    SystemZlib,
    MinizOxide,
}

impl Engine {
    /// The system's zlib when it can be opened, else miniz_oxide.
    pub(crate) fn best() -> Engine {
        if zlib::Library::get().is_some() { Engine::SystemZlib } else { Engine::MinizOxide }
    }
}

/// The decompressed bytes of the raw deflate stream at the start of `input`. Reads nothing past the
/// stream's end, so what follows it (a gzip trailer, the next zip entry) stays in `input`.
pub(crate) struct Inflate<R> {
    input: R,
    decoder: Decoder,
    total_in: u64,
    total_out: u64,
    ended: bool,
}

enum Decoder {
    Zlib(zlib::Stream),
    Miniz(Box<InflateState>),
}

/// What one decoding step did.
struct Step {
    consumed: usize,
    written: usize,
    ended: bool,
}

impl<R: BufRead> Inflate<R> {
    pub(crate) fn new(input: R) -> Self {
        Self::with_engine(input, Engine::best())
    }

    /// With `engine`, or miniz_oxide when `engine` is the system's zlib and it cannot be opened.
    pub(crate) fn with_engine(input: R, engine: Engine) -> Self {
        let zlib = match engine {
            Engine::SystemZlib => zlib::Library::get().and_then(zlib::Stream::new),
            Engine::MinizOxide => None,
        };
        let decoder = match zlib {
            Some(stream) => Decoder::Zlib(stream),
            None => Decoder::Miniz(InflateState::new_boxed(DataFormat::Raw)),
        };
        Inflate { input, decoder, total_in: 0, total_out: 0, ended: false }
    }

    #[cfg(test)]
    pub(crate) fn engine(&self) -> Engine {
        match self.decoder {
            Decoder::Zlib(_) => Engine::SystemZlib,
            Decoder::Miniz(_) => Engine::MinizOxide,
        }
    }

    /// Compressed bytes consumed so far.
    pub(crate) fn total_in(&self) -> u64 {
        self.total_in
    }

    /// Decompressed bytes produced so far.
    pub(crate) fn total_out(&self) -> u64 {
        self.total_out
    }

    pub(crate) fn get_mut(&mut self) -> &mut R {
        &mut self.input
    }

    pub(crate) fn into_inner(self) -> R {
        self.input
    }
}

impl<R: BufRead> Read for Inflate<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ended || buf.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.input.fill_buf()?;
            let at_end_of_input = input.is_empty();
            let step = match &mut self.decoder {
                Decoder::Zlib(stream) => stream.inflate(input, buf)?,
                Decoder::Miniz(state) => miniz_step(state, input, buf)?,
            };
            self.input.consume(step.consumed);
            self.total_in += step.consumed as u64;
            self.total_out += step.written as u64;
            self.ended = step.ended;
            if step.written > 0 || step.ended {
                return Ok(step.written);
            }
            if step.consumed == 0 {
                // Neither engine stalls while it has input and room for output.
                return Err(if at_end_of_input {
                    io::Error::new(io::ErrorKind::UnexpectedEof, "the deflate stream is cut short")
                } else {
                    corrupt("the deflate stream makes no progress")
                });
            }
        }
    }
}

fn miniz_step(state: &mut InflateState, input: &[u8], output: &mut [u8]) -> io::Result<Step> {
    let result = miniz_oxide::inflate::stream::inflate(state, input, output, MZFlush::None);
    let (consumed, written) = (result.bytes_consumed, result.bytes_written);
    match result.status {
        Ok(MZStatus::StreamEnd) => Ok(Step { consumed, written, ended: true }),
        Ok(MZStatus::Ok) | Err(MZError::Buf) => Ok(Step { consumed, written, ended: false }),
        Ok(MZStatus::NeedDict) => Err(corrupt("the deflate stream asks for a preset dictionary")),
        Err(_) => Err(corrupt("invalid deflate data")),
    }
}

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

#[cfg(test)]
mod tests;

//! The reader a consumer gets: it hashes every byte, reports progress, stops a stalled transfer, and
//! remembers a read failure so the fetch can tell "the network broke" from "the consumer refused".

use std::io::{self, Read};
use std::time::{Duration, Instant};

use ring::digest::{Context, SHA256};

use super::{Failed, Problem, Progress, STALL_MIN_BYTES, Streamed};

/// Turns a read error of the underlying stream into a [`Problem`].
pub(super) type Classify<'a> = &'a dyn Fn(io::Error) -> Problem;

pub(super) struct Body<'a, R> {
    inner: R,
    /// ring's SHA-256 runs as assembly, so it keeps its speed when the build script that calls us is
    /// compiled unoptimised (cargo's default for build dependencies): about 1.5 GB/s where a pure-Rust
    /// implementation manages 30 MB/s.
    hasher: Context,
    bytes: u64,
    /// The announced length (`Content-Length`, file size), when known.
    total: Option<u64>,
    progress: Option<&'a dyn Progress>,
    stall: Option<StallGuard>,
    /// More bytes than this end the transfer.
    limit: Option<u64>,
    classify: Classify<'a>,
    /// The first read failure; once set, every read fails the same way.
    failure: Option<Problem>,
}

impl<'a, R: Read> Body<'a, R> {
    /// `stall_window`: fewer than [`STALL_MIN_BYTES`] in this much time spent waiting is a stall.
    pub(super) fn new(
        inner: R,
        total: Option<u64>,
        progress: Option<&'a dyn Progress>,
        stall_window: Option<Duration>,
        limit: Option<u64>,
        classify: Classify<'a>,
    ) -> Body<'a, R> {
        Body {
            inner,
            hasher: Context::new(&SHA256),
            bytes: 0,
            total,
            progress,
            stall: stall_window.map(StallGuard::new),
            limit,
            classify,
            failure: None,
        }
    }

    /// Settles the attempt once the consumer returned: drains the rest of the body into the hash, and
    /// turns a consumer error into a transport failure when a read failure caused it.
    pub(super) fn finish<T, E>(
        mut self,
        consumed: Result<T, E>,
        content_type: Option<String>,
    ) -> Result<Streamed<T>, Failed<E>> {
        let value = match consumed {
            Ok(value) => value,
            Err(error) => {
                return Err(match self.failure.take() {
                    Some(problem) => Failed::Problem(problem),
                    None => Failed::Consumer(error),
                });
            }
        };
        if self.failure.is_none() {
            // Any error is recorded in `self.failure` by `read`.
            let _ = io::copy(&mut self, &mut io::sink());
        }
        // A consumer that swallowed a read error still gets no success: the body is incomplete.
        if let Some(problem) = self.failure.take() {
            return Err(Failed::Problem(problem));
        }
        let sha256 = hex(self.hasher.finish().as_ref());
        Ok(Streamed { value, sha256, bytes: self.bytes, content_type })
    }

    fn fail(&mut self, problem: Problem) -> io::Error {
        let error = io::Error::new(problem.io_kind(), problem.to_string());
        self.failure = Some(problem);
        error
    }
}

impl<R: Read> Read for Body<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(problem) = &self.failure {
            return Err(io::Error::new(problem.io_kind(), problem.to_string()));
        }
        let started = Instant::now();
        let result = self.inner.read(buf);
        let waited = started.elapsed();
        match result {
            Ok(n) => {
                let chunk = buf.get(..n).unwrap_or_default();
                self.hasher.update(chunk);
                self.bytes = self.bytes.saturating_add(chunk.len() as u64);
                if let Some(progress) = self.progress {
                    progress.advanced(chunk.len() as u64);
                }
                if let Some(limit) = self.limit
                    && self.bytes > limit
                {
                    return Err(self.fail(Problem::TooLarge { limit, announced: None }));
                }
                if let Some(stall) = &mut self.stall
                    && stall.record(waited, chunk.len())
                {
                    let problem = Problem::Timeout { which: "stalled transfer", after: stall.window };
                    return Err(self.fail(problem));
                }
                Ok(n)
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => Err(error),
            Err(error) => {
                // The framing reports a body cut short (of its Content-Length, or before its last chunk)
                // as an unexpected EOF.
                let problem = match self.total {
                    Some(total) if error.kind() == io::ErrorKind::UnexpectedEof => Problem::Transport {
                        cause: format!("the connection closed after {} of {total} bytes", self.bytes),
                        transient: true,
                    },
                    None if error.kind() == io::ErrorKind::UnexpectedEof => Problem::Transport {
                        cause: format!("the connection closed after {} bytes, before the body's end", self.bytes),
                        transient: true,
                    },
                    _ => (self.classify)(error),
                };
                Err(self.fail(problem))
            }
        }
    }
}

/// Counts bytes per window of time spent waiting for them. Only waiting counts, so a consumer that
/// takes its time between reads (unpacking, writing to disk) is never mistaken for a stall.
struct StallGuard {
    window: Duration,
    waited: Duration,
    received: u64,
}

impl StallGuard {
    fn new(window: Duration) -> StallGuard {
        StallGuard { window, waited: Duration::ZERO, received: 0 }
    }

    /// Adds one read; true when a window closed with fewer than [`STALL_MIN_BYTES`] in it.
    fn record(&mut self, waited: Duration, received: usize) -> bool {
        self.waited = self.waited.saturating_add(waited);
        self.received = self.received.saturating_add(received as u64);
        if self.waited < self.window {
            return false;
        }
        let stalled = self.received < STALL_MIN_BYTES;
        self.waited = Duration::ZERO;
        self.received = 0;
        stalled
    }
}

pub(super) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

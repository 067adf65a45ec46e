//! Reading and unpacking at the same time. The calling thread reads the input (the download body,
//! which hashes what it reads) and hands it over in chunks to a second thread that decompresses and
//! writes. On two cores this takes the network, the TLS and HTTP framing work and the SHA-256 off the unpacking
//! path: the unpacking thread never waits for them while there is data in flight.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread;

/// Bytes per hand-over.
const CHUNK: usize = 64 << 10;
/// Chunks in flight at most: 1 MiB, enough to ride out a slow write.
const DEPTH: usize = 16;

enum Message {
    Data(Vec<u8>),
    /// The input failed; the reading side stops here.
    Failed(io::Error),
}

/// Runs `consume` on a second thread, on everything this thread reads from `input`, until `input`
/// ends, fails (`consume` sees the same error) or `consume` returns (no more is read then).
pub(crate) fn overlapped<T: Send, E: Send>(
    input: &mut dyn Read,
    consume: impl FnOnce(&mut dyn Read) -> Result<T, E> + Send,
) -> Result<T, E> {
    thread::scope(|scope| {
        let (to_consumer, from_reader) = mpsc::sync_channel(DEPTH);
        let (recycle, spare) = mpsc::channel();
        let consumer = scope.spawn(move || {
            let mut reader = Handed { from: from_reader, recycle, chunk: Vec::new(), at: 0, failure: None };
            consume(&mut reader)
        });
        pump(input, &to_consumer, &spare);
        // The consumer sees the end of the input once this sender is gone.
        drop(to_consumer);
        match consumer.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

fn pump(input: &mut dyn Read, to_consumer: &SyncSender<Message>, spare: &Receiver<Vec<u8>>) {
    loop {
        let mut buf = spare.try_recv().unwrap_or_default();
        buf.resize(CHUNK, 0);
        let message = match input.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                buf.truncate(n);
                Message::Data(buf)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Message::Failed(e),
        };
        let failed = matches!(message, Message::Failed(_));
        // A send fails once the consumer has returned: nothing more is wanted.
        if to_consumer.send(message).is_err() || failed {
            return;
        }
    }
}

/// The consumer's side: the chunks as one stream.
struct Handed {
    from: Receiver<Message>,
    /// Used chunks go back to the reading side, so the buffers are allocated once.
    recycle: mpsc::Sender<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
    /// Once the input failed, every read fails the same way (as the input itself would).
    failure: Option<(io::ErrorKind, String)>,
}

impl Read for Handed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.chunk.len() {
            if let Some((kind, text)) = &self.failure {
                return Err(io::Error::new(*kind, text.clone()));
            }
            match self.from.recv() {
                Ok(Message::Data(next)) => {
                    let used = std::mem::replace(&mut self.chunk, next);
                    let _ = self.recycle.send(used);
                    self.at = 0;
                }
                Ok(Message::Failed(error)) => {
                    self.failure = Some((error.kind(), error.to_string()));
                    return Err(error);
                }
                // The reading side is done: the input ended.
                Err(_) => return Ok(0),
            }
        }
        let rest = self.chunk.get(self.at..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf.get_mut(..n).unwrap_or_default().copy_from_slice(rest.get(..n).unwrap_or_default());
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves `data` in odd-sized reads, then fails with `error` if given.
    struct Input {
        data: Vec<u8>,
        at: usize,
        error: Option<io::ErrorKind>,
        reads: usize,
    }

    impl Read for Input {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            let n = (self.data.len() - self.at).min(buf.len()).min(1000 + self.reads % 7);
            if n == 0 {
                return match self.error {
                    Some(kind) => Err(io::Error::new(kind, "the connection broke")),
                    None => Ok(0),
                };
            }
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn input(len: usize, error: Option<io::ErrorKind>) -> Input {
        Input { data: (0..len).map(|i| (i * 7 % 251) as u8).collect(), at: 0, error, reads: 0 }
    }

    #[test]
    fn the_consumer_reads_exactly_what_the_input_holds() {
        let mut source = input(3 << 20, None);
        let expected = source.data.clone();
        let got = overlapped(&mut source, |r| {
            let mut all = Vec::new();
            r.read_to_end(&mut all).map(|_| all)
        });
        assert_eq!(got.unwrap(), expected);
        assert_eq!(source.at, expected.len());
    }

    #[test]
    fn an_input_failure_reaches_the_consumer_and_stays() {
        let mut source = input(200_000, Some(io::ErrorKind::ConnectionReset));
        let result: Result<(), (io::Error, io::Error)> = overlapped(&mut source, |r| {
            let first = r.read_to_end(&mut Vec::new()).unwrap_err();
            let again = r.read(&mut [0; 10]).unwrap_err();
            Err((first, again))
        });
        let (first, again) = result.unwrap_err();
        assert_eq!((first.kind(), again.kind()), (io::ErrorKind::ConnectionReset, io::ErrorKind::ConnectionReset));
    }

    #[test]
    fn a_consumer_that_stops_early_stops_the_reading() {
        let mut source = input(64 << 20, None);
        let result: Result<(), &str> = overlapped(&mut source, |r| {
            r.read_exact(&mut [0; 100]).unwrap();
            Err("refused")
        });
        assert_eq!(result, Err("refused"));
        // At most the chunks in flight were read past what the consumer took.
        assert!(source.at <= (DEPTH + 2) * CHUNK, "read {} bytes", source.at);
    }
}

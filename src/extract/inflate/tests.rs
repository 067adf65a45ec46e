//! Both engines against streams written by an independent encoder (flate2), and against broken ones.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};

use flate2::Compression;
use flate2::write::DeflateEncoder;

use super::{Engine, Inflate};

const ENGINES: [Engine; 2] = [Engine::SystemZlib, Engine::MinizOxide];

/// Bytes that compress somewhat: words from a small vocabulary, with pseudo-random runs between them.
fn sample(len: usize, seed: u64) -> Vec<u8> {
    let words: [&[u8]; 6] = [b"onnxruntime ", b"lib", b".so.1.22.0\n", b"include/", b"\0\0\0\0", b"VERS_1.22.0 "];
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        let r = next();
        if r % 3 == 0 {
            out.extend(r.to_le_bytes());
        } else {
            out.extend_from_slice(words[(r % 6) as usize]);
        }
    }
    out.truncate(len);
    out
}

fn deflate(data: &[u8], level: Compression) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), level);
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// Decodes `stream` with `engine`, feeding `input_chunk` bytes at a time and reading into buffers of
/// `output_chunk` bytes; returns the result and what is left of the input.
fn decode(
    stream: &[u8],
    engine: Engine,
    input_chunk: usize,
    output_chunk: usize,
) -> (std::io::Result<Vec<u8>>, Vec<u8>) {
    let mut inflate = Inflate::with_engine(BufReader::with_capacity(input_chunk, stream), engine);
    assert_eq!(inflate.engine(), engine, "the engine asked for is the one used");
    let mut out = Vec::new();
    let mut buf = vec![0u8; output_chunk];
    let result = loop {
        match inflate.read(&mut buf) {
            Ok(0) => break Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => break Err(e),
        }
    };
    if let Ok(out) = &result {
        assert_eq!(inflate.total_out(), out.len() as u64);
    }
    let consumed = inflate.total_in();
    let mut rest = Vec::new();
    inflate.into_inner().read_to_end(&mut rest).unwrap();
    if result.is_ok() {
        assert_eq!(consumed as usize + rest.len(), stream.len(), "total_in counts what was taken from the input");
    }
    (result, rest)
}

// CI runs on Debian, where zlib1g (libz.so.1) is always installed: dpkg itself depends on it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_system_zlib_is_opened_where_it_is_installed() {
    assert_eq!(Engine::best(), Engine::SystemZlib);
    let inflate = Inflate::new(&b""[..]);
    assert_eq!(inflate.engine(), Engine::SystemZlib);
}

#[test]
fn both_engines_decode_what_an_independent_encoder_wrote() {
    let cases: Vec<(&str, Vec<u8>, Compression)> = vec![
        ("empty", Vec::new(), Compression::default()),
        ("one byte", vec![7], Compression::default()),
        ("stored blocks", sample(200_000, 1), Compression::none()),
        ("fast", sample(300_000, 2), Compression::fast()),
        ("best", sample(300_000, 3), Compression::best()),
        // Long matches at the window's far end.
        ("zeros", vec![0; 3 << 20], Compression::default()),
    ];
    for (what, data, level) in &cases {
        let stream = deflate(data, *level);
        for engine in ENGINES {
            for (input_chunk, output_chunk) in [(64 << 10, 64 << 10), (1, 64 << 10), (64 << 10, 1), (7, 13)] {
                if data.len() > 400_000 && (input_chunk < 8 || output_chunk < 8) {
                    continue; // byte-at-a-time over megabytes proves nothing more and takes long unoptimised
                }
                let (result, rest) = decode(&stream, engine, input_chunk, output_chunk);
                let out = result.unwrap_or_else(|e| panic!("{what}, {engine:?}, {input_chunk}/{output_chunk}: {e}"));
                assert!(out == *data, "{what}, {engine:?}, {input_chunk}/{output_chunk}: output differs");
                assert!(rest.is_empty());
            }
        }
    }
}

#[test]
fn what_follows_the_stream_stays_in_the_input() {
    let data = sample(100_000, 4);
    let mut stream = deflate(&data, Compression::default());
    let compressed = stream.len();
    stream.extend_from_slice(b"TRAILER!");
    for engine in ENGINES {
        for input_chunk in [1, 5, 64 << 10] {
            let mut inflate = Inflate::with_engine(BufReader::with_capacity(input_chunk, &stream[..]), engine);
            let mut out = Vec::new();
            inflate.read_to_end(&mut out).unwrap();
            assert!(out == data, "{engine:?}");
            assert_eq!(inflate.total_in(), compressed as u64, "{engine:?}");
            // Reading on after the end yields nothing and takes nothing.
            assert_eq!(inflate.read(&mut [0u8; 16]).unwrap(), 0);
            let mut rest = Vec::new();
            inflate.get_mut().read_to_end(&mut rest).unwrap();
            assert_eq!(rest, b"TRAILER!", "{engine:?}, input chunk {input_chunk}");
        }
    }
}

#[test]
fn a_stream_cut_anywhere_is_cut_short_never_complete() {
    let data = sample(20_000, 5);
    let stream = deflate(&data, Compression::default());
    for engine in ENGINES {
        for cut in (0..stream.len()).step_by(37).chain([stream.len() - 1]) {
            let (result, _) = decode(&stream[..cut], engine, 4096, 4096);
            let error = result.expect_err(&format!("{engine:?}, cut at {cut} of {}", stream.len()));
            assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{engine:?}, cut at {cut}: {error}");
        }
    }
}

/// Deflate's bit order (RFC 1951 §3.1.1): fields least significant bit first, Huffman codes most
/// significant bit first.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: u32,
}

impl Bits {
    fn field(mut self, value: u32, width: u32) -> Self {
        for i in 0..width {
            self.bit((value >> i) & 1);
        }
        self
    }

    fn code(mut self, code: u32, width: u32) -> Self {
        for i in (0..width).rev() {
            self.bit((code >> i) & 1);
        }
        self
    }

    fn bit(&mut self, bit: u32) {
        if self.used.is_multiple_of(8) {
            self.bytes.push(0);
        }
        *self.bytes.last_mut().unwrap() |= (bit as u8) << (self.used % 8);
        self.used += 1;
    }
}

#[test]
fn malformed_streams_are_invalid_data_in_both_engines() {
    let fixed_block = || Bits::default().field(1, 1).field(1, 2);
    let cases: [(&str, Vec<u8>); 5] = [
        ("the reserved block type", Bits::default().field(1, 1).field(3, 2).field(0, 16).bytes),
        ("a stored block whose NLEN is not LEN's complement", [&[0x01, 0x05, 0x00, 0x00, 0x00][..], b"hello"].concat()),
        (
            // Fixed codes 286 and 287 exist in the code table but mean nothing.
            "literal/length symbol 286",
            fixed_block().code(0b1100_0110, 8).code(0, 7).bytes,
        ),
        (
            // Distance codes 30 and 31 likewise.
            "distance symbol 30",
            fixed_block().code(b'a' as u32 + 0x30, 8).code(1, 7).code(30, 5).code(0, 7).bytes,
        ),
        (
            // HLIT = 31: 288 literal/length codes, more than the 286 deflate has.
            "too many literal/length codes",
            Bits::default()
                .field(1, 1)
                .field(2, 2)
                .field(31, 5)
                .field(0, 5)
                .field(15, 4)
                .field(0, 30)
                .field(0, 30)
                .bytes,
        ),
    ];
    for (what, stream) in cases {
        for engine in ENGINES {
            let (result, _) = decode(&stream, engine, 4096, 4096);
            let error = result.expect_err(&format!("{what}, {engine:?}"));
            assert_eq!(error.kind(), ErrorKind::InvalidData, "{what}, {engine:?}: {error}");
        }
    }
}

/// Flipped bits decode the same in both engines, or fail in both, with one known exception: zlib
/// refuses a distance that reaches before the start of the output, where miniz_oxide's streaming mode
/// copies zeros. (Harmless here: a damaged archive fails its SHA-256, and a zip entry its CRC.)
#[test]
fn the_engines_agree_on_damaged_streams() {
    let data = sample(30_000, 6);
    let stream = deflate(&data, Compression::default());
    let (mut agreed, mut too_far_back, mut disagreements) = (0, 0, Vec::new());
    for at in (0..stream.len()).step_by(53) {
        for bit in [0u8, 3, 7] {
            let mut damaged = stream.clone();
            damaged[at] ^= 1 << bit;
            let [zlib, miniz] = ENGINES.map(|engine| decode(&damaged, engine, 4096, 4096).0);
            match (&zlib, &miniz) {
                (Ok(a), Ok(b)) if a == b => agreed += 1,
                (Err(a), Err(b)) if a.kind() == b.kind() => agreed += 1,
                (Err(e), Ok(_)) if e.to_string().contains("invalid distance too far back") => too_far_back += 1,
                _ => disagreements.push(format!("byte {at} bit {bit}: {} vs {}", outcome(&zlib), outcome(&miniz))),
            }
        }
    }
    assert!(disagreements.is_empty(), "zlib and miniz_oxide differ:\n{}", disagreements.join("\n"));
    assert!(agreed > too_far_back, "{agreed} agreed, {too_far_back} reached too far back");
}

fn outcome(result: &std::io::Result<Vec<u8>>) -> String {
    match result {
        Ok(out) => format!("{} bytes", out.len()),
        Err(e) => format!("{:?} ({e})", e.kind()),
    }
}

/// A reader whose failures must reach the caller unchanged, not be reported as bad data.
struct Failing<'a>(&'a [u8]);

impl Read for Failing<'_> {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        unreachable!("read through BufRead")
    }
}

impl BufRead for Failing<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.0.is_empty() {
            Err(std::io::Error::new(ErrorKind::ConnectionReset, "the input broke"))
        } else {
            Ok(self.0)
        }
    }
    fn consume(&mut self, n: usize) {
        self.0 = &self.0[n..];
    }
}

#[test]
fn a_failing_input_is_passed_through() {
    let stream = deflate(&sample(50_000, 7), Compression::default());
    for engine in ENGINES {
        let mut inflate = Inflate::with_engine(Failing(&stream[..stream.len() / 2]), engine);
        let error = inflate.read_to_end(&mut Vec::new()).expect_err("the input fails half way");
        assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{engine:?}: {error}");
    }
}

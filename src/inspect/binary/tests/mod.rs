//! Tests of the binary readers on real files: ELF stand-ins built with gcc and the aarch64 cross gcc,
//! 32-bit and big-endian ELF, Mach-O and PE files linked with LLVM's linkers, the real ORT 1.30.0
//! libraries of the `onnxruntime-node` npm package, and hostile variants of all of them.

use crate::test_support as support;

mod archive;
mod assets;
mod elf;
mod hostile;
mod macho;
mod pe;
mod toolchain;

use std::cell::{Cell, RefCell};
use std::io;
use std::path::{Path, PathBuf};

use super::BinaryInfo;
use super::input::{FileSource, ReadAt};

/// A source that counts what the parser reads through it and records the ranges.
pub(super) struct Counting<S> {
    pub inner: S,
    pub bytes: Cell<u64>,
    pub reads: Cell<u64>,
    pub ranges: RefCell<Vec<(u64, usize)>>,
}

impl<S: ReadAt> Counting<S> {
    pub fn new(inner: S) -> Counting<S> {
        Counting { inner, bytes: Cell::new(0), reads: Cell::new(0), ranges: RefCell::new(Vec::new()) }
    }
}

impl<S: ReadAt> ReadAt for Counting<S> {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.bytes.set(self.bytes.get() + buf.len() as u64);
        self.reads.set(self.reads.get() + 1);
        self.ranges.borrow_mut().push((offset, buf.len()));
        self.inner.read_exact_at(offset, buf)
    }
}

/// A real file seen through changes: some bytes replaced, and optionally cut short, without copying
/// a 45 MB library for every variant.
pub(super) struct Patched<'a> {
    pub inner: &'a dyn ReadAt,
    pub patches: Vec<(u64, u8)>,
    pub len: u64,
}

impl<'a> Patched<'a> {
    pub fn new(inner: &'a dyn ReadAt) -> Patched<'a> {
        Patched { inner, patches: Vec::new(), len: inner.len() }
    }
}

impl ReadAt for Patched<'_> {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        assert!(offset + buf.len() as u64 <= self.len, "the parser read past the end it was given");
        self.inner.read_exact_at(offset, buf)?;
        for &(at, byte) in &self.patches {
            if let Some(i) = at.checked_sub(offset).filter(|&i| i < buf.len() as u64) {
                buf[i as usize] = byte;
            }
        }
        Ok(())
    }
}

/// Opens a file as a positioned-read source.
pub(super) fn open(path: &Path) -> FileSource {
    FileSource::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
}

/// Parses `path` with `read`, failing the test with the error.
pub(super) fn read_ok(path: &Path) -> BinaryInfo {
    super::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

impl ReadAt for &dyn ReadAt {
    fn len(&self) -> u64 {
        (**self).len()
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        (**self).read_exact_at(offset, buf)
    }
}

/// A file of the `onnxruntime-node` 1.30.0 npm package, fetched by `ci/test-assets.sh`.
pub(super) fn asset(relative: &str) -> PathBuf {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".test-assets/onnxruntime-node-1.30.0/bin/napi-v6").join(relative);
    assert!(path.is_file(), "{} is missing: run `bash ci/test-assets.sh` first", path.display());
    path
}

/// Reads a little-endian or big-endian integer out of a file image (for patching test copies).
pub(super) fn get_u64(bytes: &[u8], at: usize, big: bool) -> u64 {
    let b: [u8; 8] = bytes[at..at + 8].try_into().unwrap();
    if big { u64::from_be_bytes(b) } else { u64::from_le_bytes(b) }
}

pub(super) fn put(bytes: &mut [u8], at: usize, value: &[u8]) {
    bytes[at..at + value.len()].copy_from_slice(value);
}

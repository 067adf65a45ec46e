//! The system's zlib, opened at run time: `dlopen`, then four functions through `dlsym`. The crate's
//! only unsafe code; every block says what it relies on.
//!
//! The library is opened once per process and never closed, so the function pointers stay valid.
//! Any failure (no `dlopen`, no library, a missing symbol, a zlib other than 1.x, a failed
//! `inflateInit2_`) leaves the caller with miniz_oxide instead.

#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_int, c_uint, c_ulong, c_void};
use std::io;
use std::ptr;
use std::sync::OnceLock;

use super::{Step, corrupt};

// zlib.h's return codes and flush value.
const Z_OK: c_int = 0;
const Z_STREAM_END: c_int = 1;
const Z_NEED_DICT: c_int = 2;
const Z_DATA_ERROR: c_int = -3;
const Z_MEM_ERROR: c_int = -4;
const Z_BUF_ERROR: c_int = -5;
const Z_NO_FLUSH: c_int = 0;
/// `windowBits` for a raw deflate stream with zlib's largest window (32 KiB, what deflate allows).
const RAW_DEFLATE: c_int = -15;
/// The zlib.h release [`ZStream`] follows. zlib compares only the first character (the major
/// version) and `sizeof(z_stream)`.
const HEADER_VERSION: &CStr = c"1.3.1";

/// zlib.h's `z_stream`. Its layout has not changed since zlib 1.0; zlib-ng's compatible build keeps it.
#[repr(C)]
struct ZStream {
    next_in: *const u8,
    avail_in: c_uint,
    total_in: c_ulong,
    next_out: *mut u8,
    avail_out: c_uint,
    total_out: c_ulong,
    msg: *const c_char,
    state: *mut c_void,
    /// `None` (NULL) for this and `zfree`: zlib's own allocator.
    zalloc: Option<unsafe extern "C" fn(*mut c_void, c_uint, c_uint) -> *mut c_void>,
    zfree: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    opaque: *mut c_void,
    data_type: c_int,
    adler: c_ulong,
    reserved: c_ulong,
}

type InflateInit2 = unsafe extern "C" fn(*mut ZStream, c_int, *const c_char, c_int) -> c_int;
type InflateFn = unsafe extern "C" fn(*mut ZStream, c_int) -> c_int;
type InflateEnd = unsafe extern "C" fn(*mut ZStream) -> c_int;
type ZlibVersion = unsafe extern "C" fn() -> *const c_char;

/// The opened library's functions.
pub(super) struct Library {
    init: InflateInit2,
    inflate: InflateFn,
    end: InflateEnd,
}

impl Library {
    /// The system's zlib, opened on the first call; `None` when it cannot be used.
    pub(super) fn get() -> Option<&'static Library> {
        static LIBRARY: OnceLock<Option<Library>> = OnceLock::new();
        LIBRARY.get_or_init(open).as_ref()
    }
}

/// The name `dlopen` is given: the runtime library's, which every system that ships zlib installs
/// (the unversioned `libz.so` comes only with the development package).
#[cfg(target_vendor = "apple")]
const LIBRARY_NAME: &CStr = c"/usr/lib/libz.1.dylib";
#[cfg(any(target_os = "freebsd", target_os = "dragonfly"))]
const LIBRARY_NAME: &CStr = c"libz.so.6";
#[cfg(not(any(target_vendor = "apple", target_os = "freebsd", target_os = "dragonfly")))]
const LIBRARY_NAME: &CStr = c"libz.so.1";

/// `RTLD_NOW`: the same value on Linux (glibc, musl), the BSDs and Apple's systems.
const RTLD_NOW: c_int = 2;

// `dlopen` in a statically linked glibc program needs that glibc's shared libraries at run time, and the
// linker warns about it; such builds use miniz_oxide.
#[cfg(all(unix, not(target_feature = "crt-static")))]
fn open() -> Option<Library> {
    unsafe extern "C" {
        fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    }
    // SAFETY: the name is a NUL-terminated constant. Opening zlib runs no code of consequence: it has
    // no initialisers beyond the dynamic loader's relocation.
    let handle = unsafe { dlopen(LIBRARY_NAME.as_ptr(), RTLD_NOW) };
    if handle.is_null() {
        return None;
    }
    // SAFETY: `handle` came from a successful `dlopen` and is never closed; the names are
    // NUL-terminated constants.
    let symbol = |name: &CStr| Some(unsafe { dlsym(handle, name.as_ptr()) }).filter(|p| !p.is_null());
    let version = symbol(c"zlibVersion")?;
    let (init, inflate, end) = (symbol(c"inflateInit2_")?, symbol(c"inflate")?, symbol(c"inflateEnd")?);
    // SAFETY: each pointer is the address of the zlib function of that name, whose C prototype (zlib.h,
    // unchanged through 1.x) the type spells out. Data and function pointers have one size on every
    // platform with `dlsym`.
    let (version, library) = unsafe {
        (
            std::mem::transmute::<*mut c_void, ZlibVersion>(version),
            Library {
                init: std::mem::transmute::<*mut c_void, InflateInit2>(init),
                inflate: std::mem::transmute::<*mut c_void, InflateFn>(inflate),
                end: std::mem::transmute::<*mut c_void, InflateEnd>(end),
            },
        )
    };
    // SAFETY: `zlibVersion` takes nothing and returns a pointer to a static NUL-terminated string.
    let version = unsafe { version() };
    // SAFETY: as above: non-null (checked), NUL-terminated, static.
    let is_1x = !version.is_null() && unsafe { CStr::from_ptr(version) }.to_bytes().starts_with(b"1.");
    is_1x.then_some(library)
}

#[cfg(not(all(unix, not(target_feature = "crt-static"))))]
fn open() -> Option<Library> {
    None
}

/// One raw deflate stream being decoded by zlib.
pub(super) struct Stream {
    library: &'static Library,
    /// Boxed: zlib keeps the stream's address in its state and refuses a stream that moved.
    z: Box<ZStream>,
}

// SAFETY: a `z_stream` and the state zlib allocates for it belong to whoever holds the stream; zlib keeps
// no per-thread data, so the stream may move to another thread (it is never shared: `&mut` only).
unsafe impl Send for Stream {}

impl Stream {
    /// A stream ready for raw deflate input, or `None` if zlib refuses (out of memory, another ABI).
    pub(super) fn new(library: &'static Library) -> Option<Stream> {
        let mut z = Box::new(ZStream {
            next_in: ptr::null(),
            avail_in: 0,
            total_in: 0,
            next_out: ptr::null_mut(),
            avail_out: 0,
            total_out: 0,
            msg: ptr::null(),
            state: ptr::null_mut(),
            zalloc: None,
            zfree: None,
            opaque: ptr::null_mut(),
            data_type: 0,
            adler: 0,
            reserved: 0,
        });
        let size = c_int::try_from(size_of::<ZStream>()).ok()?;
        // SAFETY: `z` is a zeroed, boxed `z_stream` with no input, which is what `inflateInit2_` expects;
        // the version string is NUL-terminated and `size` lets zlib check our layout against its own.
        let status = unsafe { (library.init)(&mut *z, RAW_DEFLATE, HEADER_VERSION.as_ptr(), size) };
        // On failure zlib has freed what it allocated, so there is nothing to end.
        (status == Z_OK).then(|| Stream { library, z })
    }

    /// Decodes from `input` into `output` until either runs out or the stream ends.
    pub(super) fn inflate(&mut self, input: &[u8], output: &mut [u8]) -> io::Result<Step> {
        let avail_in = c_uint::try_from(input.len()).unwrap_or(c_uint::MAX);
        let avail_out = c_uint::try_from(output.len()).unwrap_or(c_uint::MAX);
        let z = &mut *self.z;
        z.next_in = input.as_ptr();
        z.avail_in = avail_in;
        z.next_out = output.as_mut_ptr();
        z.avail_out = avail_out;
        // SAFETY: the stream was initialised by `inflateInit2_` and not ended; `next_in`/`avail_in` and
        // `next_out`/`avail_out` describe live buffers we borrow for this call only, within their lengths.
        let status = unsafe { (self.library.inflate)(z, Z_NO_FLUSH) };
        let consumed = (avail_in - z.avail_in) as usize;
        let written = (avail_out - z.avail_out) as usize;
        // zlib copies what it keeps into its own window; leave no pointer into the borrowed buffers.
        (z.next_in, z.avail_in, z.next_out, z.avail_out) = (ptr::null(), 0, ptr::null_mut(), 0);
        match status {
            Z_OK | Z_BUF_ERROR => Ok(Step { consumed, written, ended: false }),
            Z_STREAM_END => Ok(Step { consumed, written, ended: true }),
            Z_NEED_DICT => Err(corrupt("the deflate stream asks for a preset dictionary")),
            Z_DATA_ERROR => Err(corrupt(&match self.message() {
                Some(message) => format!("invalid deflate data ({message})"),
                None => "invalid deflate data".to_string(),
            })),
            Z_MEM_ERROR => Err(io::Error::new(io::ErrorKind::OutOfMemory, "zlib ran out of memory")),
            other => Err(io::Error::other(format!("zlib's inflate failed with code {other}"))),
        }
    }

    /// zlib's description of the last error: a static string, or none.
    fn message(&self) -> Option<String> {
        let msg = self.z.msg;
        // SAFETY: zlib sets `msg` to NULL or to one of its static NUL-terminated strings.
        (!msg.is_null()).then(|| unsafe { CStr::from_ptr(msg) }.to_string_lossy().into_owned())
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // SAFETY: the stream was initialised (a `Stream` exists only then) and is ended once, here.
        unsafe { (self.library.end)(&mut *self.z) };
    }
}

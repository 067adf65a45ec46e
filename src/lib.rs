//! Find ONNX Runtime for cargo's target — or download the official, SHA-256-pinned release into a
//! shared cache — check that it is the right architecture and release, link it, and make it loadable
//! at run time without `LD_LIBRARY_PATH`.
//!
//! Use it from a build script:
//!
//! ```toml
//! [build-dependencies]
//! onnxruntime-provision = "0.1"
//! ```
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     let ort = onnxruntime_provision::Config::new().version("1.22").probe().unwrap();
//!     // Linked, staged in $OUT_DIR/onnxruntime/lib, rpath set; `ort` says what was chosen and why.
//!     println!("cargo:warning=using ONNX Runtime {} from {}", ort.version, ort.origin);
//! }
//! ```
//!
//! Sources are tried in the order of `ONNXRUNTIME_SOURCES` (default `env,pkg-config,system,download`).
//! Every candidate is inspected: the library file must exist, its ELF / Mach-O / PE header must match
//! the target architecture, and its release must satisfy the requirement. A refused candidate is kept
//! for the error message, which lists everything tried and the exact fix.
//!
//! Linux builds of ORT are symbol-versioned per release (`VERS_1.22.0`): a binary linked against one
//! release does not load with another. This crate therefore links the library from a staged directory
//! and points the binary's rpath at that same directory, so the release found at run time is the one
//! linked. Ship that release with your program.
//!
//! Variables (each also as `NAME_<target>` and `NAME_<target_with_underscores>`; empty means unset):
//!
//! | variable | meaning |
//! |---|---|
//! | `ONNXRUNTIME_DIR` | install root (`lib/` or `lib64/`, `include/`) |
//! | `ONNXRUNTIME_LIB_DIR`, `ONNXRUNTIME_INCLUDE_DIR` | override one part |
//! | `ONNXRUNTIME_VERSION` | version requirement; overrides the one in `build.rs` |
//! | `ONNXRUNTIME_SOURCES` | which sources, in order |
//! | `ONNXRUNTIME_VARIANT` | `cpu` (default), `cuda11`, `cuda12`, `cuda13` |
//! | `ONNXRUNTIME_STATIC` | link a user-supplied static build |
//! | `ONNXRUNTIME_CXX_STDLIB` | C++ runtime for static links (`none` for none) |
//! | `ONNXRUNTIME_CACHE_DIR` | the shared download cache |
//! | `ONNXRUNTIME_MIRROR` | base URL replacing GitHub's releases (`https://`, `http://`, `file://`) |
//! | `ONNXRUNTIME_MANIFEST` | extra manifest files (`:`-separated; `;` on Windows) |
//! | `ONNXRUNTIME_OFFLINE`, `CARGO_NET_OFFLINE` | never touch the network |
//! | `ONNXRUNTIME_CA_BUNDLE` | extra PEM roots, added to the system's |
//! | `ONNXRUNTIME_HTTP_TIMEOUT` | connect / read timeout in seconds (default 30) |

// The one exception, the system zlib opened at run time, allows it in its own module.
#![deny(unsafe_code)]
// An error is returned at most once per build and carries the whole search report; boxing it would
// only make matching on its variants clumsier.
#![allow(clippy::result_large_err)]
// The examples are build scripts, whose `fn main` is the point.
#![allow(clippy::needless_doctest_main)]

#[cfg(feature = "download")]
mod cache;
mod config;
mod dependent;
mod emit;
mod env;
mod error;
#[cfg(feature = "download")]
mod extract;
#[cfg(feature = "download")]
mod fetch;
mod inspect;
#[doc(hidden)]
pub mod internal;
mod library;
#[cfg(feature = "download")]
mod manifest;
mod memo;
mod probe;
mod request;
mod sources;
mod stage;
mod target;
mod version;

/// The integration tests' support code, shared with the unit tests. (Its servers set socket options
/// and its tests set variables, which `std` and `libc` make unsafe.)
#[cfg(test)]
#[allow(unsafe_code)]
#[path = "../tests/support/mod.rs"]
mod test_support;
// Lets the shared test support name this crate as the integration tests do.
#[cfg(test)]
extern crate self as onnxruntime_provision;

pub use config::Config;
pub use dependent::{dependent_rpath, dependent_rpath_lines};
pub use emit::LIB_PATH_ENV;
pub use env::Env;
pub use error::{Attempt, DownloadError, Error, Report, Verdict};
pub use library::Library;
pub use probe::Survey;
pub use request::{LinkKind, Request, Variant};
pub use sources::{Origin, SourceKind};
pub use target::{Arch, Os, Target};
pub use version::{Version, VersionReq, VersionReqError};

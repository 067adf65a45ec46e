//! The CLI's one place that reads the process environment directly. The library's own variables
//! (`ONNXRUNTIME_*`) are read by the library through `Env`; what is read here is what the CLI itself
//! inspects or passes on: cargo's and the loader's standard names (`CARGO_TARGET_<T>_LINKER`,
//! `LD_LIBRARY_PATH`, `PATH`, `CARGO_HOME`, `RUSTC`, `CARGO_TERM_PROGRESS_WHEN`, `ORT_*` as `ort-sys`
//! reads them), and the whole environment when a command overrides some of the library's variables.

use std::ffi::OsString;
use std::path::PathBuf;

/// A variable's value; empty counts as unset, as everywhere in this crate.
#[allow(clippy::disallowed_methods, reason = "the CLI's single audited read of the environment")]
pub fn var_os(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// A variable as text; a non-UTF-8 value counts as unset.
pub fn var(name: &str) -> Option<String> {
    var_os(name).and_then(|v| v.into_string().ok())
}

/// Every variable, for building the environment a command hands to the library.
pub fn all() -> Vec<(OsString, OsString)> {
    std::env::vars_os().collect()
}

/// `$CARGO_HOME`, else `~/.cargo` (cargo's own rule).
pub fn cargo_home() -> Option<PathBuf> {
    var_os("CARGO_HOME").map(PathBuf::from).or_else(|| home_dir().map(|h| h.join(".cargo")))
}

fn home_dir() -> Option<PathBuf> {
    #[cfg(windows)]
    let name = "USERPROFILE";
    #[cfg(not(windows))]
    let name = "HOME";
    var_os(name).map(PathBuf::from)
}

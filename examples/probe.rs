//! Runs the probe exactly as a build script would, for checking a machine or a cross setup without a
//! crate to build: it reads `TARGET`, `HOST`, `OUT_DIR` and the `ONNXRUNTIME_*` variables from the
//! process environment, prints the `cargo:` directives on stdout, and what it chose on stderr.
//!
//! ```text
//! TARGET=aarch64-unknown-linux-gnu HOST=x86_64-unknown-linux-gnu OUT_DIR=/tmp/out \
//!     cargo run --example probe -- 1.22
//! ```
//!
//! The optional argument is the version requirement `build.rs` would pass to `Config::version`.
//! Exits non-zero, printing the error, when no acceptable ONNX Runtime is found.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut config = onnxruntime_provision::Config::new();
    if let Some(requirement) = std::env::args().nth(1) {
        config.version(&requirement);
    }
    match config.probe() {
        Ok(library) => {
            eprintln!(
                "probe: ONNX Runtime {} for {} from {}, linked from {}",
                library.version,
                library.target,
                library.origin,
                library.lib_dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("probe: {error}");
            ExitCode::FAILURE
        }
    }
}

//! A build script's stand-in, built at the opt-level a build script gets: the one call a user's
//! `build.rs` makes. The driver runs it with the environment cargo gives a build script.
//!
//! `BENCH_PROBE_ITERATIONS=N` repeats the probe N more times in-process after the first, and
//! `BENCH_REPORT=FILE` receives the chosen source and each repetition's time in nanoseconds.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use onnxruntime_provision::{Config, Origin};

fn main() -> ExitCode {
    let iterations: usize = setting("BENCH_PROBE_ITERATIONS").and_then(|v| v.parse().ok()).unwrap_or(0);
    let first = match Config::new().version("1.22").probe() {
        Ok(library) => library,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let mut report = format!("source {}\n", source_name(&first.origin));
    for _ in 0..iterations {
        let started = Instant::now();
        let result = Config::new().version("1.22").probe();
        let elapsed = started.elapsed();
        if let Err(error) = result {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
        let _ = writeln!(report, "{}", elapsed.as_nanos());
    }
    if let Some(path) = setting("BENCH_REPORT")
        && let Err(error) = std::fs::write(&path, report)
    {
        eprintln!("cannot write {path}: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn source_name(origin: &Origin) -> &'static str {
    match origin {
        Origin::Variable { .. } => "env",
        Origin::PkgConfig { .. } => "pkg-config",
        Origin::System { .. } => "system",
        Origin::Download { fetched_now: true, .. } => "download (fetched now)",
        Origin::Download { fetched_now: false, .. } => "download (cached)",
        _ => "other",
    }
}

/// The harness's own knobs (not the library's settings, which it reads itself).
#[allow(clippy::disallowed_methods)]
fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

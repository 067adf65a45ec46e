//! Not a design: the lower bound of every design. It links the library exactly as `probe-script`
//! does, but once a first run has stored the probe's directives in `BENCH_REPLAY=FILE`, each run
//! only prints them again, checking nothing (not the cache, not the library, not `OUT_DIR`). A build
//! script that links this crate cannot finish sooner, whatever its probe does; figure 1 times it to
//! show how much of the process figure is left for the probe to spend.

use std::fs;
use std::io::Write as _;
use std::process::ExitCode;

use onnxruntime_provision::Config;

fn main() -> ExitCode {
    let Some(stored) = setting("BENCH_REPLAY") else {
        eprintln!("BENCH_REPLAY is not set");
        return ExitCode::FAILURE;
    };
    let text = match fs::read_to_string(&stored) {
        Ok(text) => text,
        Err(_) => match Config::new().version("1.22").cargo_metadata(false).probe() {
            Ok(library) => {
                let text: String = library.cargo_directives().iter().map(|line| format!("{line}\n")).collect();
                if let Err(error) = fs::write(&stored, &text) {
                    eprintln!("cannot write {stored}: {error}");
                    return ExitCode::FAILURE;
                }
                text
            }
            Err(error) => {
                eprintln!("{error}");
                return ExitCode::FAILURE;
            }
        },
    };
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// The harness's own knob (not the library's settings, which it reads itself).
#[allow(clippy::disallowed_methods)]
fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

//! `cargo onnxruntime`: prefetch ONNX Runtime, show what a build would pick, hand it to other crates
//! (`ort-sys`), diagnose broken builds, and add releases to the manifests.
//!
//! Cargo runs `cargo-onnxruntime onnxruntime <args>` for `cargo onnxruntime <args>`; the binary also
//! works when run by its own name. Exit status: 0 success, 1 failure (or problems found by `doctor`),
//! 2 a command line that cannot be understood.

mod args;
mod cargo_config;
mod doctor;
mod env;
mod fetch;
mod host_env;
mod lockfile;
mod manifest;
mod ort_sys;
mod progress;
mod project;
mod semver;
mod settings;
mod which;

use std::ffi::OsString;
use std::process::ExitCode;

use args::UsageError;

const USAGE: &str = "\
cargo onnxruntime — provision ONNX Runtime for Rust builds

Usage: cargo onnxruntime <command> [options]

Commands:
  fetch     download and verify ONNX Runtime into the cache, or into a mirror folder
  which     every candidate of every source, the verdict on each, and what a build would pick
  env       print (or --write into .cargo/config.toml) what makes another crate use that ONNX Runtime
  doctor    check a project's Cargo.lock, toolchain, linker and built binary for known breakages
  manifest  (maintainers) `manifest add <version> <archive>...` writes manifests/<version>.txt

Run `cargo onnxruntime <command> --help` for a command's options.";

/// Why a command stopped.
pub enum Failure {
    /// The command line is wrong: the message, then the command's usage.
    Usage { message: String, usage: &'static str },
    /// The work failed: a message that says what to do (the library's errors are fix-it guides).
    Error(String),
}

impl Failure {
    pub fn usage(usage: &'static str) -> impl Fn(UsageError) -> Failure {
        move |e| Failure::Usage { message: e.0, usage }
    }
}

/// The options of a command that takes no positional arguments; `None` when `--help` was answered.
pub fn command_args(
    words: &[OsString],
    options: &[args::Opt],
    usage: &'static str,
) -> Result<Option<args::Parsed>, Failure> {
    let fail = Failure::usage(usage);
    let args = args::parse(words, options).map_err(&fail)?;
    if args.help {
        println!("{usage}");
        return Ok(None);
    }
    args.no_positionals().map_err(&fail)?;
    Ok(Some(args))
}

impl From<onnxruntime_provision::Error> for Failure {
    fn from(error: onnxruntime_provision::Error) -> Failure {
        Failure::Error(error.to_string())
    }
}

fn main() -> ExitCode {
    let mut words: Vec<OsString> = std::env::args_os().skip(1).collect();
    // `cargo onnxruntime x` runs `cargo-onnxruntime onnxruntime x`.
    if words.first().is_some_and(|w| w == "onnxruntime") {
        words.remove(0);
    }
    match run(&words) {
        Ok(code) => code,
        Err(Failure::Usage { message, usage }) => {
            eprintln!("error: {message}\n\n{usage}");
            ExitCode::from(2)
        }
        Err(Failure::Error(message)) => {
            eprintln!("error: {}", message.trim_end());
            ExitCode::FAILURE
        }
    }
}

fn run(words: &[OsString]) -> Result<ExitCode, Failure> {
    let Some((command, rest)) = words.split_first() else {
        println!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    };
    match command.to_str().unwrap_or_default() {
        "fetch" => fetch::run(rest),
        "which" => which::run(rest),
        "env" => env::run(rest),
        "doctor" => doctor::run(rest),
        "manifest" => manifest::run(rest),
        "-h" | "--help" | "help" => {
            let usage = match rest.first().and_then(|w| w.to_str()) {
                Some("fetch") => fetch::USAGE,
                Some("which") => which::USAGE,
                Some("env") => env::USAGE,
                Some("doctor") => doctor::USAGE,
                Some("manifest") => manifest::USAGE,
                _ => USAGE,
            };
            println!("{usage}");
            Ok(ExitCode::SUCCESS)
        }
        "-V" | "--version" => {
            println!("cargo-onnxruntime {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        other => Err(Failure::Usage { message: format!("unknown command `{other}`"), usage: USAGE }),
    }
}

//! `cargo onnxruntime doctor`: the checks an expert would make on a build that uses ONNX Runtime
//! through `ort` / `wasmtime-wasi-nn`, from the project's files alone (no network): the locked crate
//! versions, the ONNX Runtime the locked `ort-sys` needs and whether one is at hand, the toolchain, a
//! cross linker, and where a built binary's `libonnxruntime` will come from at run time.
//!
//! Each finding says what, why, and the exact command that fixes it. Exit status 1 when any finding is
//! a problem (the build or the program will fail), 0 otherwise.

mod crates;
mod loader;
mod native;
mod toolchain;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::Failure;
use crate::args::Opt;
use crate::lockfile::Lock;
use crate::project::{self, PackageFacts};
use crate::settings;

pub const USAGE: &str = "\
Usage: cargo onnxruntime doctor [--manifest-path P] [--target T] [--binary B]

Checks a project for the reasons ONNX Runtime builds fail, reading Cargo.lock, Cargo.toml(s) and
.cargo/config.toml without network access:
  - ort / ort-sys versions that do not belong together, or that drifted past what a dependent was
    written for (pre-release caret requirements accept every later pre-release);
  - wasmtime, wasmtime-wasi, wasmtime-wasi-nn and other wasmtime-* crates on different release lines;
  - the ONNX Runtime C API the locked ort-sys needs, and whether an ONNX Runtime that serves it is
    configured, provisioned or findable for the target;
  - rustc against the project's edition / rust-version and the locked crates' rust-version;
  - for a cross target: the target's standard library and a configured, installed linker;
  - with --binary: which ONNX Runtime library the loader will pick for that executable, searching
    as the executable's own platform does: for ELF (Linux) RPATH / LD_LIBRARY_PATH / RUNPATH /
    ld.so.conf, and whether it defines the VERS_1.X.Y version the executable needs (\"version
    `VERS_1.X.Y' not found\"); for Mach-O (macOS) DYLD_LIBRARY_PATH / @rpath under LC_RPATH /
    DYLD_FALLBACK_LIBRARY_PATH (\"Library not loaded\"); for PE (Windows) the DLL search order, where
    Windows' own older System32\\onnxruntime.dll wins unless the program's copy is beside it.
Every finding comes with why and the exact fix. Exit status 1 when something is wrong, else 0.

Options:
  --manifest-path P   the project's Cargo.toml (default: the nearest one above the current directory)
  --target T          the target to check for (default: build.target from .cargo/config.toml, else this machine)
  --binary B          a built executable (ELF, Mach-O or PE) to check run-time loading for";

const OPTIONS: [Opt; 3] = [Opt::value("--manifest-path"), Opt::value("--target"), Opt::value("--binary")];

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The build or the program will fail.
    Problem,
    /// Likely to fail in some setups (offline, a blocked CDN), or could not be checked.
    Warning,
    /// Checked and fine, or worth knowing.
    Ok,
}

/// One finding: what, why, and the commands that fix it.
#[derive(Clone, Debug)]
pub struct Finding {
    pub severity: Severity,
    pub what: String,
    pub why: String,
    pub fix: Vec<String>,
}

impl Finding {
    pub fn problem(what: impl Into<String>, why: impl Into<String>, fix: Vec<String>) -> Finding {
        Finding { severity: Severity::Problem, what: what.into(), why: why.into(), fix }
    }

    pub fn warning(what: impl Into<String>, why: impl Into<String>, fix: Vec<String>) -> Finding {
        Finding { severity: Severity::Warning, what: what.into(), why: why.into(), fix }
    }

    pub fn ok(what: impl Into<String>, why: impl Into<String>) -> Finding {
        Finding { severity: Severity::Ok, what: what.into(), why: why.into(), fix: Vec::new() }
    }
}

/// What the checks look at.
pub struct Project {
    pub manifest: PathBuf,
    /// Where cargo runs: the workspace root (beside Cargo.lock) or the manifest's directory.
    pub dir: PathBuf,
    pub lock: Option<Lock>,
    pub packages: Vec<PackageFacts>,
    pub target: String,
    pub host: String,
}

pub fn run(words: &[OsString]) -> Result<ExitCode, Failure> {
    let usage = Failure::usage(USAGE);
    let Some(args) = crate::command_args(words, &OPTIONS, USAGE)? else { return Ok(ExitCode::SUCCESS) };
    let cwd = std::env::current_dir().map_err(|e| Failure::Error(format!("no current directory: {e}")))?;
    let binary = args.path("--binary");
    let given_target = args.text("--target").map_err(&usage)?.map(String::from);

    let mut findings = Vec::new();
    let manifest = match project::find_manifest(args.path("--manifest-path").as_deref(), &cwd) {
        Ok(manifest) => Some(manifest),
        // Checking a binary needs no project.
        Err(_) if binary.is_some() && args.os("--manifest-path").is_none() => None,
        Err(message) => return Err(Failure::Error(message)),
    };
    if let Some(manifest) = &manifest {
        let project = load(manifest, given_target.clone(), &mut findings);
        println!(
            "cargo onnxruntime doctor: {} ({}), target {}\n",
            project.manifest.display(),
            project.lock.as_ref().map(|l| l.path.display().to_string()).unwrap_or_else(|| "no Cargo.lock".into()),
            project.target
        );
        if let Some(lock) = &project.lock {
            findings.extend(crates::check(&project, lock));
            findings.extend(native::check(&project, lock));
        }
        findings.extend(toolchain::check(&project));
    } else {
        println!("cargo onnxruntime doctor: no Cargo.toml here; checking the binary only\n");
    }
    if let Some(binary) = &binary {
        findings.extend(loader::check(binary));
    }

    for finding in &findings {
        print!("{}", render(finding));
    }
    let problems = findings.iter().filter(|f| f.severity == Severity::Problem).count();
    let warnings = findings.iter().filter(|f| f.severity == Severity::Warning).count();
    println!(
        "{problems} problem{}, {warnings} warning{}",
        if problems == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" }
    );
    Ok(if problems == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Reads what the checks need; what cannot be read becomes a finding rather than an abort.
fn load(manifest: &Path, given_target: Option<String>, findings: &mut Vec<Finding>) -> Project {
    let lock = match project::read_lock(manifest) {
        Ok(Some(lock)) => Some(lock),
        Ok(None) => {
            findings.push(Finding::warning(
                "no Cargo.lock",
                "without a lock file the versions cargo will pick are unknown (a fresh resolve takes the newest pre-releases of ort), so the version checks are skipped",
                vec![format!("cargo generate-lockfile --manifest-path {}", manifest.display()), "cargo onnxruntime doctor".into()],
            ));
            None
        }
        Err(message) => {
            findings.push(Finding::problem(
                "Cargo.lock cannot be read",
                message,
                vec![format!("cargo generate-lockfile --manifest-path {}", manifest.display())],
            ));
            None
        }
    };
    let packages = match project::packages(manifest) {
        Ok(packages) => packages,
        Err(message) => {
            findings.push(Finding::problem("a Cargo.toml cannot be read", message, Vec::new()));
            Vec::new()
        }
    };
    let dir = lock
        .as_ref()
        .and_then(|l| l.path.parent())
        .or_else(|| manifest.parent())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let target = given_target.unwrap_or_else(|| project::default_target(&dir));
    Project { manifest: manifest.to_path_buf(), dir, lock, packages, target, host: settings::host_triple() }
}

fn render(finding: &Finding) -> String {
    let label = match finding.severity {
        Severity::Problem => "PROBLEM",
        Severity::Warning => "WARNING",
        Severity::Ok => "ok",
    };
    let mut out = format!("{label:<8} {}\n", finding.what);
    if !finding.why.is_empty() {
        out.push_str(&indent("  why", &finding.why));
    }
    for (i, fix) in finding.fix.iter().enumerate() {
        out.push_str(&indent(if i == 0 { "  fix" } else { "" }, fix));
    }
    out.push('\n');
    out
}

/// `label` in a 9-column gutter, the text's lines after it.
fn indent(label: &str, text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        out.push_str(&format!("{:<9}{line}\n", if i == 0 { label } else { "" }));
    }
    out
}

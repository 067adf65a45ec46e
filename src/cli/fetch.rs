//! `cargo onnxruntime fetch`: download, verify and unpack the official archive into the shared cache
//! for one or more targets, or put the verified archives into a mirror folder (`<dir>/v<version>/<asset>`)
//! that another machine serves or reads through `ONNXRUNTIME_MIRROR=file://…`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use onnxruntime_provision::Origin;
use onnxruntime_provision::internal::cli::{self as internal, Progress};

use crate::Failure;
use crate::args::{self, Opt};
use crate::progress::{self, Reporter};
use crate::settings::{self, Overrides};

pub const USAGE: &str = "\
Usage: cargo onnxruntime fetch [--version REQ] [--target T]... [--variant V] [--cache-dir D] [--mirror-dir D]

Downloads the official ONNX Runtime archive for each target, checks its pinned SHA-256, and unpacks it
into the shared cache, so later builds work offline (ONNXRUNTIME_CACHE_DIR=<cache> ONNXRUNTIME_OFFLINE=1).
With --mirror-dir, writes the verified archives as D/v<version>/<asset> instead: serve D over HTTP(S),
or point builds at it with ONNXRUNTIME_MIRROR=file:///abs/path/D.

Options:
  --version REQ     release requirement: 1.22 (any 1.22.x), 1.22.0 (exactly), '>=1.20, <2' (default: newest)
  --target T        target triple; repeat for several (default: build.target from .cargo/config.toml,
                    else this machine)
  --variant V       cpu (default), cuda11, cuda12, cuda13
  --cache-dir D     the cache to fill (default: ONNXRUNTIME_CACHE_DIR, else the OS cache directory)
  --mirror-dir D    write a mirror folder instead of filling the cache

Progress goes to stderr: a bar on a terminal, plain lines otherwise (CARGO_TERM_PROGRESS_WHEN=always|never).
ONNXRUNTIME_MIRROR, ONNXRUNTIME_MANIFEST, proxies and CA settings apply as in a build.";

const OPTIONS: [Opt; 5] = [
    Opt::value("--version"),
    Opt::repeated("--target"),
    Opt::value("--variant"),
    Opt::value("--cache-dir"),
    Opt::value("--mirror-dir"),
];

pub fn run(words: &[OsString]) -> Result<ExitCode, Failure> {
    let usage = Failure::usage(USAGE);
    let Some(args) = crate::command_args(words, &OPTIONS, USAGE)? else { return Ok(ExitCode::SUCCESS) };
    let mut targets: Vec<String> = args.texts("--target").map_err(&usage)?.into_iter().map(String::from).collect();
    if targets.is_empty() {
        targets.push(crate::project::default_target(&std::env::current_dir().unwrap_or_default()));
    }
    targets.dedup();
    let mut overrides = Overrides::from_args(&args).map_err(&usage)?;
    // Fetching means the download source, whatever ONNXRUNTIME_SOURCES says for builds.
    overrides.set(settings::SOURCES, "download");
    let mirror_dir = args.path("--mirror-dir").map(|d| settings::absolute(&d));
    if mirror_dir.is_some() && args.os("--cache-dir").is_some() {
        return Err(usage(args::UsageError(
            "--mirror-dir writes a mirror folder, not the cache: drop --cache-dir".into(),
        )));
    }

    let reporter = Reporter::for_stderr();
    let mut failed = 0;
    let mut caches: Vec<PathBuf> = Vec::new();
    for target in &targets {
        eprintln!("{target}:");
        let config = overrides.config(target);
        let result = match &mirror_dir {
            Some(dir) => mirror_one(&config, target, dir, &reporter),
            None => cache_one(&config, target, &reporter).map(|cache| {
                if !caches.contains(&cache) {
                    caches.push(cache);
                }
            }),
        };
        if let Err(message) = result {
            eprintln!("error: {}\n", message.trim_end());
            failed += 1;
        }
    }

    if failed < targets.len() {
        match &mirror_dir {
            Some(dir) => {
                println!(
                    "\nServe {} over HTTP(S) and set ONNXRUNTIME_MIRROR to its URL, or use it as it is:",
                    dir.display()
                );
                println!("  ONNXRUNTIME_MIRROR={}", settings::file_url(dir));
            }
            None => {
                for cache in &caches {
                    println!("\nBuilds on this machine now find it offline; elsewhere, copy the cache and set:");
                    println!("  ONNXRUNTIME_CACHE_DIR={} ONNXRUNTIME_OFFLINE=1", cache.display());
                }
            }
        }
        if let Some(manifest) = crate::host_env::var_os("ONNXRUNTIME_MANIFEST") {
            println!(
                "  (and ONNXRUNTIME_MANIFEST={}: the releases it lists are not shipped with the crate)",
                manifest.to_string_lossy()
            );
        }
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Provisions one target into the cache; returns the cache root.
fn cache_one(config: &onnxruntime_provision::Config, target: &str, reporter: &Reporter) -> Result<PathBuf, String> {
    let library = internal::provision(config, Some(reporter as &dyn Progress)).map_err(|e| e.to_string())?;
    let Origin::Download { url, sha256, cache_entry, fetched_now } = &library.origin else {
        return Err(format!("the download source was not used (origin: {})", library.origin));
    };
    println!(
        "{:<8} {target}  ONNX Runtime {} ({})  {}",
        if *fetched_now { "fetched" } else { "cached" },
        library.version,
        library.variant,
        cache_entry.display()
    );
    println!("         from {url}\n         sha256 {sha256}");
    Ok(cache_entry.parent().map(Path::to_path_buf).unwrap_or_else(|| cache_entry.clone()))
}

fn mirror_one(
    config: &onnxruntime_provision::Config,
    target: &str,
    dir: &Path,
    reporter: &Reporter,
) -> Result<(), String> {
    let copy = internal::mirror(config, dir, Some(reporter as &dyn Progress)).map_err(|e| e.to_string())?;
    let shown = copy.path.strip_prefix(dir).unwrap_or(&copy.path);
    println!(
        "{:<8} {target}  {}  ({}, sha256 {})",
        if copy.fetched_now { "fetched" } else { "present" },
        shown.display(),
        progress::size(copy.bytes),
        copy.sha256
    );
    Ok(())
}

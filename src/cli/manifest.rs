//! `cargo onnxruntime manifest add <version> <archive>...`: for maintainers adding a release. Hashes
//! the archives, tells platform and variant from their official names (the library's naming rules),
//! and writes `manifests/<version>.txt` in the crate's format, checked by the same parser the crate's
//! `build.rs` uses. An existing line for the same release, platform and variant with another hash is
//! refused unless `--force`: a changed hash is exactly what the manifests exist to catch.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use onnxruntime_provision::Version;
use onnxruntime_provision::internal::cli as internal;

use crate::Failure;
use crate::args::{self, Opt, UsageError};

pub const USAGE: &str = "\
Usage: cargo onnxruntime manifest add <version> <archive>... --source TEXT [--output FILE] [--force]

Hashes each archive (official names: onnxruntime-<platform>[-gpu|-gpu_cuda12|-gpu_cuda13|-cuda12]-<version>.tgz|.zip),
tells its platform and variant from the name, and writes one line per archive to manifests/<version>.txt
(or FILE): version platform variant asset sha256 size source.

Options:
  --source TEXT   where the archives come from (the manifest's provenance column), e.g.
                  'downloaded from the v1.31.0 GitHub release and hashed locally'
  --output FILE   the manifest to write (default: manifests/<version>.txt under the current directory);
                  an existing file is merged: same lines are kept, new ones appended
  --force         replace a line whose hash differs (otherwise refused)";

const OPTIONS: [Opt; 3] = [Opt::value("--source"), Opt::value("--output"), Opt::flag("--force")];

/// One archive's manifest line.
#[derive(Clone, Debug)]
struct Line {
    version: Version,
    platform: &'static str,
    variant: &'static str,
    asset: String,
    sha256: String,
    size: u64,
}

pub fn run(words: &[OsString]) -> Result<ExitCode, Failure> {
    let usage = Failure::usage(USAGE);
    let Some((sub, rest)) = words.split_first() else {
        return Err(usage(UsageError("missing subcommand: `manifest add <version> <archive>...`".into())));
    };
    if sub == "-h" || sub == "--help" {
        println!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    }
    if sub != "add" {
        return Err(usage(UsageError(format!("unknown subcommand `{}`; only `add` exists", sub.to_string_lossy()))));
    }
    let args = args::parse(rest, &OPTIONS).map_err(&usage)?;
    if args.help {
        println!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    }
    let Some((version_word, archives)) = args.positionals.split_first() else {
        return Err(usage(UsageError("missing <version> and archives".into())));
    };
    let version_text = version_word.to_str().unwrap_or_default();
    let version = Version::parse(version_text)
        .filter(|_| !version_text.trim().starts_with('v'))
        .ok_or_else(|| usage(UsageError(format!("`{version_text}` is not a release such as 1.22.0"))))?;
    if archives.is_empty() {
        return Err(usage(UsageError("no archives given".into())));
    }
    let source = args
        .text("--source")
        .map_err(&usage)?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| usage(UsageError("--source is required: say where these archives come from".into())))?;
    if source.contains('\n') {
        return Err(usage(UsageError("--source must be one line".into())));
    }
    let output = match args.path("--output") {
        Some(path) => path,
        None => {
            let dir = PathBuf::from("manifests");
            if !dir.is_dir() {
                return Err(Failure::Error(
                    "no manifests/ folder in the current directory: run from the crate's root, or pass --output FILE"
                        .into(),
                ));
            }
            dir.join(format!("{version}.txt"))
        }
    };

    let mut lines = Vec::new();
    for archive in archives {
        lines.push(hash_archive(Path::new(archive), version).map_err(Failure::Error)?);
    }
    let existing = match std::fs::read_to_string(&output) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Failure::Error(format!("cannot read {}: {e}", output.display()))),
    };
    let (text, report) = merge(existing.as_deref(), &lines, source, version, args.flag("--force"), &output)?;
    check(&output, &text)?;
    write_atomically(&output, &text).map_err(Failure::Error)?;
    println!("wrote {}", output.display());
    for line in report {
        println!("  {line}");
    }
    Ok(ExitCode::SUCCESS)
}

fn hash_archive(path: &Path, version: Version) -> Result<Line, String> {
    let asset = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: not a file name this crate can list", path.display()))?
        .to_string();
    let name = internal::recognise_archive_name(&asset).ok_or_else(|| {
        format!(
            "{asset}: not an official archive name (onnxruntime-<platform>[-gpu|-gpu_cuda12|-gpu_cuda13|-cuda12]-<version>.tgz|.zip \
             with platform one of {})",
            internal::PLATFORMS.join(", ")
        )
    })?;
    if name.version != version {
        return Err(format!("{asset} is release {}, not {version}", name.version));
    }
    let (sha256, size) = internal::sha256_of_file(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Line { version, platform: name.platform, variant: name.variant.as_str(), asset, sha256, size })
}

/// The new text of the manifest and a line of report per archive.
fn merge(
    existing: Option<&str>,
    lines: &[Line],
    source: &str,
    version: Version,
    force: bool,
    output: &Path,
) -> Result<(String, Vec<String>), Failure> {
    let width = lines.iter().map(|l| l.asset.len()).max().unwrap_or(0);
    let render = |l: &Line| {
        format!(
            "{} {:<14} {:<6} {:<width$} {} {} {source}",
            l.version, l.platform, l.variant, l.asset, l.sha256, l.size
        )
    };
    let mut text_lines: Vec<String> = match existing {
        Some(text) => text.lines().map(String::from).collect(),
        None => header(version),
    };
    let listed = match existing {
        Some(text) => listed(text, output)?,
        None => Vec::new(),
    };
    let mut report = Vec::new();
    let mut conflicts = Vec::new();
    for line in lines {
        let key = format!("{} {} {}", line.version, line.platform, line.variant);
        match listed.iter().find(|l| l.key == key) {
            Some(old) if old.sha256 == line.sha256 => report.push(format!("{key}: already listed with this hash")),
            Some(old) if force => {
                if let Some(slot) = old.line.checked_sub(1).and_then(|i| text_lines.get_mut(i)) {
                    *slot = render(line);
                }
                let (asset, sha) = (&old.asset, &old.sha256);
                report.push(format!("{key}: replaced {asset} {sha} with {} {} (--force)", line.asset, line.sha256));
            }
            Some(old) => conflicts.push(format!(
                "{key}: {}:{} lists {} with sha256 {}, but {} hashes to {}",
                output.display(),
                old.line,
                old.asset,
                old.sha256,
                line.asset,
                line.sha256
            )),
            None => {
                text_lines.push(render(line));
                report.push(format!("{key}: {} {} ({} bytes)", line.asset, line.sha256, line.size));
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(Failure::Error(format!(
            "refusing to change a pinned hash (nothing was written):\n  {}\nIf the release really was re-published, check the new archives and rerun with --force.",
            conflicts.join("\n  ")
        )));
    }
    let mut text = text_lines.join("\n");
    text.push('\n');
    Ok((text, report))
}

/// A line already in the manifest: where, its release-platform-variant key, and what it pins.
struct Listed {
    line: usize,
    key: String,
    sha256: String,
    asset: String,
}

fn listed(text: &str, output: &Path) -> Result<Vec<Listed>, Failure> {
    let records = internal::parse(text).map_err(|errors| {
        let shown: Vec<String> = errors.iter().map(|e| format!("{}:{}: {e}", output.display(), e.line)).collect();
        Failure::Error(format!("the existing manifest is malformed; fix it first:\n{}", shown.join("\n")))
    })?;
    Ok(records
        .iter()
        .map(|r| {
            let [major, minor, patch] = r.version;
            Listed {
                line: r.line,
                key: format!("{major}.{minor}.{patch} {} {}", r.platform, r.variant),
                sha256: r.sha256.to_string(),
                asset: r.asset.to_string(),
            }
        })
        .collect())
}

fn header(version: Version) -> Vec<String> {
    vec![
        format!("# ONNX Runtime {version}: release archives and their SHA-256."),
        format!("# URL: https://github.com/microsoft/onnxruntime/releases/download/v{version}/<asset>"),
        "# Columns: version platform variant asset sha256 size source   (size in bytes or -; source = the".into(),
        "# rest of the line: where the hash comes from). `#` starts a comment.".into(),
        "# Lines written by `cargo onnxruntime manifest add`, which hashed the archives it was given.".into(),
        String::new(),
    ]
}

/// The crate's own rules: a shipped file `<version>.txt` must list that release only.
fn check(output: &Path, text: &str) -> Result<(), Failure> {
    let name = output.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let result = if Version::parse(name.strip_suffix(".txt").unwrap_or("")).is_some() {
        internal::parse_release_file(name, text).map(drop)
    } else {
        internal::parse(text).map(drop)
    };
    result.map_err(|errors| {
        let shown: Vec<String> = errors.iter().map(|e| format!("line {}: {e}", e.line)).collect();
        Failure::Error(format!(
            "the result would not be a valid manifest (nothing was written):\n  {}",
            shown.join("\n  ")
        ))
    })
}

fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temp = dir.join(format!(".manifest-{}.tmp", std::process::id()));
    std::fs::write(&temp, text).map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
    std::fs::rename(&temp, path).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("cannot write {}: {e}", path.display())
    })
}

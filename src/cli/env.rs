//! `cargo onnxruntime env`: provision ONNX Runtime for a target, then print (or write into
//! `.cargo/config.toml`) what makes another crate use it:
//! - `--for ort-sys`: the variables the locked `ort-sys` release reads (see `ort_sys`), plus what the
//!   built program needs at run time. ort-sys emits no rpath, so a program linked through it does not
//!   find the library by itself. Printed, the hand-off uses `LD_LIBRARY_PATH` (the shell that evals it
//!   builds and runs); written, it adds `-C link-arg=-Wl,-rpath,<lib>` to `[target.<triple>] rustflags`
//!   — the same rpath this crate's own build-script route emits — so `cargo run`, `cargo test` and the
//!   binary run directly all load the library that was linked. `ORT_DYLIB_PATH` serves `ort`'s
//!   `load-dynamic` feature.
//! - `--for shell`: `export` lines (`ONNXRUNTIME_DIR` for an install root, else `ONNXRUNTIME_LIB_DIR` and
//!   `ONNXRUNTIME_INCLUDE_DIR`; `ORT_DYLIB_PATH`; the loader path variable).
//! - `--for cargo-config`: `[env]` entries pinning crates that use this library to that install.
//!
//! What is handed off is a directory holding every name the linker and loader ask for: the source
//! one when it does (every official Linux archive), else a staged one under the cache's `handoff/`
//! (macOS archives lack `libonnxruntime.1.dylib`, the install name a linked program asks for; see
//! `internal::cli::hand_off`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use onnxruntime_provision::internal::cli::{self as internal, Progress};
use onnxruntime_provision::{Library, Os, SourceKind, Target, Verdict};

use crate::Failure;
use crate::args::{self, Opt, UsageError};
use crate::cargo_config::{Change, ConfigFile};
use crate::host_env;
use crate::ort_sys::{self, Rules, Setting};
use crate::progress::Reporter;
use crate::project;
use crate::semver::CrateVersion;
use crate::settings::{self, Overrides};

pub const USAGE: &str = "\
Usage: cargo onnxruntime env --for ort-sys|shell|cargo-config [--target T] [--version REQ] [--write]

Provisions ONNX Runtime for the target (as a build would: your variables, pkg-config, system
directories, else the checked download into the cache), then prints what makes another crate use it.

  --for ort-sys        the variables the ort-sys release in Cargo.lock reads (ORT_LIB_LOCATION, ...),
                       plus run-time loading (LD_LIBRARY_PATH when printed, an rpath when written)
  --for shell          export lines: ONNXRUNTIME_DIR (or _LIB_DIR), ORT_DYLIB_PATH, the loader path variable
  --for cargo-config   [env] entries for .cargo/config.toml

Options:
  --write              merge into .cargo/config.toml (ort-sys, cargo-config), keeping what is there
  --target T           target triple (default: build.target from .cargo/config.toml, else this machine)
  --version REQ        release requirement (ort-sys default: the C API level the locked ort-sys needs)
  --variant V          cpu, cuda11, cuda12, cuda13
  --cache-dir D        the download cache
  --manifest-path P    the project's Cargo.toml (default: the nearest one above the current directory)
  --ort-sys VERSION    the ort-sys release to hand off to, instead of the one in Cargo.lock";

const OPTIONS: [Opt; 8] = [
    Opt::value("--for"),
    Opt::flag("--write"),
    Opt::value("--target"),
    Opt::value("--version"),
    Opt::value("--variant"),
    Opt::value("--cache-dir"),
    Opt::value("--manifest-path"),
    Opt::value("--ort-sys"),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Consumer {
    OrtSys,
    Shell,
    CargoConfig,
}

pub fn run(words: &[OsString]) -> Result<ExitCode, Failure> {
    let usage = Failure::usage(USAGE);
    let Some(args) = crate::command_args(words, &OPTIONS, USAGE)? else { return Ok(ExitCode::SUCCESS) };
    let consumer = match args.text("--for").map_err(&usage)? {
        Some("ort-sys") => Consumer::OrtSys,
        Some("shell") => Consumer::Shell,
        Some("cargo-config") => Consumer::CargoConfig,
        Some(other) => return Err(usage(UsageError(format!("`--for {other}`: use ort-sys, shell or cargo-config")))),
        None => return Err(usage(UsageError("--for is required: ort-sys, shell or cargo-config".into()))),
    };
    let write = args.flag("--write");
    if write && consumer == Consumer::Shell {
        return Err(usage(UsageError("--write works with --for ort-sys and --for cargo-config".into())));
    }

    let cwd = std::env::current_dir().map_err(|e| Failure::Error(format!("no current directory: {e}")))?;
    let manifest = match args.path("--manifest-path") {
        Some(path) => Some(project::find_manifest(Some(&path), &cwd).map_err(Failure::Error)?),
        None => project::find_manifest(None, &cwd).ok(),
    };
    // Where .cargo/config.toml goes: the workspace root (beside Cargo.lock), else the manifest's directory.
    let project_dir: PathBuf = manifest
        .as_deref()
        .and_then(|m| project::find_lock(m).or_else(|| Some(m.to_path_buf())))
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| cwd.clone());
    let target_triple = match args.text("--target").map_err(&usage)? {
        Some(t) => t.to_string(),
        None => project::default_target(&project_dir),
    };
    let target = Target::new(&target_triple)?;
    let mut overrides = Overrides::from_args(&args).map_err(&usage)?;

    let ort_sys = match consumer {
        Consumer::OrtSys => Some(locked_ort_sys(&args, manifest.as_deref()).map_err(Failure::Error)?),
        _ => None,
    };
    if let Some((version, _)) = &ort_sys {
        let (rules, _) = ort_sys::rules_for(version);
        if overrides.get(settings::VERSION).is_none() && !version_variable_set() {
            overrides.set(settings::VERSION, format!(">=1.{}", rules.api));
        }
    }

    let reporter = Reporter::for_stderr();
    let config = overrides.config(&target_triple);
    let library = internal::provision(&config, Some(&reporter as &dyn Progress))?;
    eprintln!("using ONNX Runtime {} for {target_triple} from {}", library.version, library.origin);
    let (library, staged) = internal::hand_off(&config, library)?;
    if let Some(why) = staged {
        eprintln!("note: {why}");
    }

    match (consumer, ort_sys) {
        (Consumer::OrtSys, Some((version, from))) => {
            let (rules, exact) = ort_sys::rules_for(&version);
            let pkg_config = rules.pkg_config_first && pkg_config_answers(&overrides, &target_triple);
            // Those ort-sys releases that take a root append lib/ (never lib64/): a root only when that is it.
            let root = library.root.as_deref().filter(|root| is_library_dir(&root.join("lib"), &library));
            let settings = ort_sys::build_settings(rules, root, &library.lib_dir, pkg_config);
            let header = ort_sys_header(&version, &from, rules, exact);
            if write {
                write_ort_sys(&project_dir, &header, &settings, &library, &target)
            } else {
                print_ort_sys(&header, &settings, &library, &target);
                Ok(ExitCode::SUCCESS)
            }
        }
        (Consumer::Shell, _) => {
            print!("{}", shell_lines(&library, &target));
            Ok(ExitCode::SUCCESS)
        }
        (_, _) => {
            let entries = cargo_config_entries(&library, &target);
            if write {
                write_entries(&project_dir, &entries, &target)
            } else {
                println!("[env]");
                for entry in &entries {
                    println!("# {}\n{} = {}", entry.why, entry.name, toml_edit::Value::from(entry.value.as_str()));
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// The ort-sys release to hand off to: `--ort-sys`, else the one in the project's Cargo.lock.
fn locked_ort_sys(args: &args::Parsed, manifest: Option<&Path>) -> Result<(CrateVersion, String), String> {
    if let Some(text) = args.text("--ort-sys").map_err(|e| e.0)? {
        let version =
            CrateVersion::parse(text).ok_or_else(|| format!("--ort-sys {text}: not a version such as 2.0.0-rc.10"))?;
        return Ok((version, "--ort-sys".into()));
    }
    let manifest =
        manifest.ok_or("no Cargo.toml here to read Cargo.lock from: pass --manifest-path, or --ort-sys VERSION")?;
    let lock = project::read_lock(manifest)?.ok_or_else(|| {
        format!("no Cargo.lock for {}: run `cargo generate-lockfile`, or pass --ort-sys VERSION", manifest.display())
    })?;
    let mut found: Vec<CrateVersion> = lock.named("ort-sys").map(|p| p.version.clone()).collect();
    found.sort();
    let newest = found.pop().ok_or_else(|| {
        format!(
            "{} has no ort-sys: add `ort` (or `ort-sys`) to the project first, or pass --ort-sys VERSION",
            lock.path.display()
        )
    })?;
    if !found.is_empty() {
        eprintln!("note: {} locks several ort-sys releases; handing off to the newest, {newest}", lock.path.display());
    }
    Ok((newest, lock.path.display().to_string()))
}

/// Any spelling of ONNXRUNTIME_VERSION (plain or target-suffixed) in the environment.
fn version_variable_set() -> bool {
    host_env::all().iter().any(|(k, v)| !v.is_empty() && k.to_string_lossy().starts_with(settings::VERSION))
}

/// Whether `pkg-config libonnxruntime` answers for the target (ort-sys would then use it first).
fn pkg_config_answers(overrides: &Overrides, target: &str) -> bool {
    let mut only_pkg_config = overrides.clone();
    only_pkg_config.set(settings::SOURCES, SourceKind::PkgConfig.as_str());
    match only_pkg_config.config(target).survey() {
        Ok(survey) => survey
            .report
            .attempts
            .iter()
            .any(|a| !matches!(a.verdict, Verdict::NotFound { .. } | Verdict::Skipped { .. })),
        Err(_) => false,
    }
}

fn ort_sys_header(version: &CrateVersion, from: &str, rules: &Rules, exact: bool) -> String {
    let read = if exact {
        "its build script was read".to_string()
    } else {
        format!("not read itself: using the rules of {}, the nearest release read", rules.read)
    };
    let api = if rules.api_features {
        format!("C API {} or higher with its api-N features", rules.api)
    } else {
        format!("C API {}", rules.api)
    };
    format!("ort-sys {version} (from {from}; {read}) needs ONNX Runtime 1.{}+ ({api})", rules.api)
}

/// The loader's search-path variable for the target's OS.
fn loader_variable(target: &Target) -> Option<&'static str> {
    match target.os() {
        Os::Linux => Some("LD_LIBRARY_PATH"),
        Os::MacOs => Some("DYLD_LIBRARY_PATH"),
        Os::Windows => Some("PATH"),
        _ => None,
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `export VAR='dir'"${VAR:+:$VAR}"`: prepends, keeping what was there.
fn prepend_line(var: &str, dir: &Path) -> String {
    format!("export {var}={}\"${{{var}:+:${var}}}\"\n", quote(&dir.display().to_string()))
}

fn print_ort_sys(header: &str, settings: &[Setting], library: &Library, target: &Target) {
    let mut out = format!("# {header}\n");
    for s in settings {
        out.push_str(&format!("# {}\nexport {}={}\n", s.why, s.name, quote(&s.value)));
    }
    if let Some(var) = loader_variable(target) {
        out.push_str("# run time: ort-sys emits no rpath, so the program must be told where the library is\n");
        out.push_str(&prepend_line(var, &library.lib_dir));
    }
    out.push_str("# read at run time by `ort` with its load-dynamic feature\n");
    out.push_str(&format!("export ORT_DYLIB_PATH={}\n", quote(&library.library_file.display().to_string())));
    out.push_str("# to keep this in the project (with an rpath instead of the loader variable):\n");
    out.push_str("#   cargo onnxruntime env --for ort-sys --write\n");
    print!("{out}");
}

fn write_ort_sys(
    project_dir: &Path,
    header: &str,
    settings: &[Setting],
    library: &Library,
    target: &Target,
) -> Result<ExitCode, Failure> {
    let mut entries: Vec<Setting> = settings.to_vec();
    entries.push(Setting {
        name: "ORT_DYLIB_PATH".into(),
        value: library.library_file.display().to_string(),
        why: "read at run time by `ort` with its load-dynamic feature".into(),
    });
    let mut file = ConfigFile::open(project_dir).map_err(Failure::Error)?;
    let mut report = vec![format!("# {header}")];
    for entry in &entries {
        let change = file.set_env(&entry.name, &entry.value, &entry.why).map_err(Failure::Error)?;
        report.push(describe("[env]", &entry.name, &entry.value, &change));
    }
    match target.os() {
        Os::Linux | Os::MacOs => {
            let dir = library.lib_dir.display().to_string();
            let args = internal::rpath_link_args(target, &dir);
            let build = file.build_rustflags(project_dir, host_env::cargo_home().as_deref(), target.triple());
            let (change, kept) =
                file.set_rpath(target.triple(), &library.lib_dir, &args, &build.flags).map_err(Failure::Error)?;
            let key = format!("[target.{}] rustflags", target.triple());
            report.push(describe(&key, "rpath", &library.lib_dir.display().to_string(), &change));
            if kept {
                let from: Vec<String> = build.from.iter().map(|p| p.display().to_string()).collect();
                eprintln!(
                    "note: cargo uses {key} instead of [build] rustflags, so yours were copied to the front of it: {} \
                     (from {})",
                    build.flags.join(" "),
                    from.join(", ")
                );
            }
            if host_env::var_os("CARGO_BUILD_RUSTFLAGS").is_some() {
                eprintln!("warning: CARGO_BUILD_RUSTFLAGS is set in this shell; cargo ignores it once {key} is set");
            }
        }
        _ => report.push(format!(
            "note: {} has no rpath: put {} next to the program, or its directory on PATH",
            target.triple(),
            library.library_file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        )),
    }
    file.save().map_err(Failure::Error)?;
    println!("{} {}", if file.existed() { "updated" } else { "created" }, file.path.display());
    for line in report {
        println!("  {line}");
    }
    warn_shadowing(&entries);
    println!("  note: RUSTFLAGS or CARGO_ENCODED_RUSTFLAGS in the environment replace config rustflags; with them");
    println!("  set, add the rpath yourself: -C link-arg=-Wl,-rpath,{}", library.lib_dir.display());
    Ok(ExitCode::SUCCESS)
}

fn write_entries(project_dir: &Path, entries: &[Setting], target: &Target) -> Result<ExitCode, Failure> {
    let mut file = ConfigFile::open(project_dir).map_err(Failure::Error)?;
    let mut report = Vec::new();
    for entry in entries {
        let change = file.set_env(&entry.name, &entry.value, &entry.why).map_err(Failure::Error)?;
        report.push(describe("[env]", &entry.name, &entry.value, &change));
    }
    // A location variable of this target left from an earlier write would win over (LIB_DIR over DIR)
    // or mix with the ones just written: the install may have moved from a root to a bare lib dir.
    for base in ["ONNXRUNTIME_DIR", "ONNXRUNTIME_LIB_DIR", "ONNXRUNTIME_INCLUDE_DIR"] {
        let name = our_name(base, target);
        if !entries.iter().any(|e| e.name == name)
            && let Some(old) = file.remove_env(&name).map_err(Failure::Error)?
        {
            report.push(format!("[env] {name}  (removed; was {old})"));
        }
    }
    file.save().map_err(Failure::Error)?;
    println!("{} {}", if file.existed() { "updated" } else { "created" }, file.path.display());
    for line in report {
        println!("  {line}");
    }
    warn_shadowing(entries);
    Ok(ExitCode::SUCCESS)
}

fn describe(table: &str, name: &str, value: &str, change: &Change) -> String {
    match change {
        Change::Added => format!("{table} {name} = {value}  (added)"),
        Change::Updated { old } => format!("{table} {name} = {value}  (was {old})"),
        Change::Unchanged => format!("{table} {name} = {value}  (already so)"),
    }
}

/// cargo's `[env]` does not override a variable already set in the environment (unless `force`).
fn warn_shadowing(entries: &[Setting]) {
    for entry in entries {
        if let Some(value) = host_env::var_os(&entry.name)
            && value != OsString::from(&entry.value)
        {
            println!(
                "  warning: {} is set in this shell ({}); it wins over [env] until you unset it",
                entry.name,
                value.to_string_lossy()
            );
        }
    }
}

/// The `ONNXRUNTIME_*` name for the target: plain when it is the host, target-suffixed otherwise, so a
/// cross build and the host's own builds can each have theirs.
fn our_name(base: &str, target: &Target) -> String {
    if target.is_cross() { format!("{base}_{}", target.triple().replace(['-', '.'], "_")) } else { base.to_string() }
}

/// Whether `dir` is the directory the probe took the library from. `lib_dir` may be a staged copy and
/// `library_file` has its symlinks resolved, so either one matching (canonicalised) counts.
fn is_library_dir(dir: &Path, library: &Library) -> bool {
    let Ok(dir) = std::fs::canonicalize(dir) else { return false };
    let used = [Some(library.lib_dir.as_path()), library.library_file.parent()];
    used.into_iter().flatten().any(|used| std::fs::canonicalize(used).is_ok_and(|used| used == dir))
}

/// `library.root` when `ONNXRUNTIME_DIR=<root>` would make the next build link this same library: the
/// directory the env source takes under it (lib/, else lib64/) is the one the probe used. A root is
/// sometimes only the parent of the library directory (pkg-config's `libdir=/usr/lib/x86_64-linux-gnu`
/// gives `/usr/lib`, `ONNXRUNTIME_LIB_DIR=…/build/Linux/Release` gives `…/build/Linux`): naming it
/// would stop the next build with "has neither lib/ nor lib64/", or find another library.
fn install_root(library: &Library) -> Option<&Path> {
    let root = library.root.as_deref()?;
    let lib = internal::library_dir_of(root)?;
    is_library_dir(&lib, library).then_some(root)
}

/// The variables that point the next build at this library: `ONNXRUNTIME_DIR` for an install root,
/// else `ONNXRUNTIME_LIB_DIR` with `ONNXRUNTIME_INCLUDE_DIR` when there are headers.
fn location_settings(library: &Library, target: &Target) -> Vec<(String, PathBuf)> {
    if let Some(root) = install_root(library) {
        return vec![(our_name("ONNXRUNTIME_DIR", target), root.to_path_buf())];
    }
    let mut settings = vec![(our_name("ONNXRUNTIME_LIB_DIR", target), library.lib_dir.clone())];
    if let Some(include) = library.include_dir.as_ref().filter(|d| d.is_dir()) {
        settings.push((our_name("ONNXRUNTIME_INCLUDE_DIR", target), include.clone()));
    }
    settings
}

fn shell_lines(library: &Library, target: &Target) -> String {
    let mut out = format!("# ONNX Runtime {} for {} ({})\n", library.version, target.triple(), library.origin);
    for (name, path) in location_settings(library, target) {
        out.push_str(&format!("export {name}={}\n", quote(&path.display().to_string())));
    }
    out.push_str(&format!("export ORT_DYLIB_PATH={}\n", quote(&library.library_file.display().to_string())));
    if let Some(var) = loader_variable(target) {
        out.push_str(&prepend_line(var, &library.lib_dir));
    }
    out
}

fn cargo_config_entries(library: &Library, target: &Target) -> Vec<Setting> {
    let why = format!(
        "ONNX Runtime {} for {}: crates using onnxruntime-provision link this one",
        library.version,
        target.triple()
    );
    let mut entries: Vec<Setting> = location_settings(library, target)
        .into_iter()
        .map(|(name, path)| Setting { name, value: path.display().to_string(), why: why.clone() })
        .collect();
    // `[env]` reaches every program `cargo run` starts; a cross target's library is no use to the host's.
    if !target.is_cross() {
        entries.push(Setting {
            name: "ORT_DYLIB_PATH".into(),
            value: library.library_file.display().to_string(),
            why: "read at run time by `ort` with its load-dynamic feature".into(),
        });
    }
    entries
}

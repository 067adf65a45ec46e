//! Timing processes, medians, and the environment cargo gives a build script.

// The harness is not the library: it hands its own `PATH` and `HOME` on to the processes it runs.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub type Env = BTreeMap<String, OsString>;

/// Runs `command` once, stdout discarded; the wall time, or the failure with its stderr.
pub fn time(command: &mut Command) -> Result<Duration, String> {
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let started = Instant::now();
    let output = command.output().map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let elapsed = started.elapsed();
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        ));
    }
    Ok(elapsed)
}

/// The median of `runs` timings of `once`, after `prepare` (untimed) before each.
pub fn median_of(
    runs: usize,
    mut prepare: impl FnMut() -> Result<(), String>,
    mut once: impl FnMut() -> Result<Duration, String>,
) -> Result<Duration, String> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        prepare()?;
        times.push(once()?);
    }
    Ok(median(&mut times))
}

/// The median of `runs` timings of each of `commands`, run in turn (a, b, c, a, b, c, …), so that a
/// change in the machine's speed while they run reaches each of them alike.
pub fn interleaved(
    runs: usize,
    commands: &mut [&mut dyn FnMut() -> Result<Duration, String>],
) -> Result<Vec<Duration>, String> {
    let mut times = vec![Vec::with_capacity(runs); commands.len()];
    for _ in 0..runs.max(1) {
        for (once, times) in commands.iter_mut().zip(&mut times) {
            times.push(once()?);
        }
    }
    Ok(times.iter_mut().map(|times| median(times)).collect())
}

pub fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    match times.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => times[n / 2],
        n => (times[n / 2 - 1] + times[n / 2]) / 2,
    }
}

/// `rustc -vV`'s host triple.
pub fn host_triple() -> Result<String, String> {
    let text = run_text(Command::new("rustc").arg("-vV"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| "rustc -vV names no host".into())
}

pub fn run_text(command: &mut Command) -> Result<String, String> {
    let output = command.stderr(Stdio::inherit()).output().map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!("{command:?} failed ({})", output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// What cargo sets for a package's build script in a dev build on this host (the `CARGO_CFG_*` from
/// `rustc --print cfg`), plus `PATH` and `HOME`, and nothing else of this process's environment.
pub fn build_script_env(package: &str, manifest_dir: &Path, out_dir: &Path) -> Result<Env, String> {
    let host = host_triple()?;
    let mut env = Env::new();
    for name in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(name) {
            env.insert(name.into(), value);
        }
    }
    let mut set = |name: &str, value: &str| {
        env.insert(name.to_string(), value.into());
    };
    set("CARGO", &which("cargo"));
    set("RUSTC", &which("rustc"));
    set("RUSTDOC", &which("rustdoc"));
    set("TARGET", &host);
    set("HOST", &host);
    set("NUM_JOBS", "2");
    set("OPT_LEVEL", "0");
    set("DEBUG", "true");
    set("PROFILE", "debug");
    set("CARGO_ENCODED_RUSTFLAGS", "");
    set("CARGO_PKG_NAME", package);
    set("CARGO_PKG_VERSION", "0.1.0");
    set("CARGO_PKG_VERSION_MAJOR", "0");
    set("CARGO_PKG_VERSION_MINOR", "1");
    set("CARGO_PKG_VERSION_PATCH", "0");
    set("CARGO_PKG_VERSION_PRE", "");
    set("CARGO_PKG_AUTHORS", "");
    set("CARGO_PKG_DESCRIPTION", "");
    set("CARGO_PKG_HOMEPAGE", "");
    set("CARGO_PKG_REPOSITORY", "");
    set("CARGO_PKG_LICENSE", "");
    set("CARGO_MANIFEST_DIR", &manifest_dir.display().to_string());
    set("CARGO_MANIFEST_PATH", &manifest_dir.join("Cargo.toml").display().to_string());
    set("OUT_DIR", &out_dir.display().to_string());
    let cfg = run_text(Command::new("rustc").args(["--print", "cfg"]))?;
    let mut cfgs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in cfg.lines() {
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k, v.trim_matches('"').to_string()),
            None => (line, String::new()),
        };
        let values = cfgs.entry(key.to_string()).or_default();
        if !value.is_empty() {
            values.push(value);
        }
    }
    cfgs.entry("debug_assertions".into()).or_default();
    for (key, values) in cfgs {
        set(&format!("CARGO_CFG_{}", key.to_uppercase()), &values.join(","));
    }
    Ok(env)
}

fn which(program: &str) -> String {
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
        })
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| program.to_string())
}

/// The instructions one run of `program` executes, as valgrind's callgrind counts them: exact, so
/// unmoved by the machine's load (a process time of a millisecond or two is not). `None` without
/// valgrind. The second of two runs is counted: the first may write memos the second reads (ours are
/// keyed by the running executable, which under valgrind is valgrind's).
pub fn instructions(program: &Path, env: &Env) -> Result<Option<u64>, String> {
    let valgrind = which("valgrind");
    if !Path::new(&valgrind).is_file() {
        return Ok(None);
    }
    let mut counted = None;
    for _ in 0..2 {
        let mut run = command(Path::new(&valgrind), env);
        run.args(["--tool=callgrind", "--callgrind-out-file=/dev/null"]).arg(program);
        let failed = |why: &dyn std::fmt::Display| format!("{valgrind} --tool=callgrind {}: {why}", program.display());
        let output = run.stdin(Stdio::null()).stdout(Stdio::null()).output().map_err(|e| failed(&e))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(failed(&format_args!("{}\n{}", output.status, stderr.trim_end())));
        }
        counted = stderr.lines().find_map(|line| line.split_once("Collected : ")?.1.trim().parse().ok());
    }
    counted.map(Some).ok_or_else(|| format!("callgrind printed no count for {}", program.display()))
}

/// A command with exactly `env` as its environment.
pub fn command(program: &Path, env: &Env) -> Command {
    let mut command = Command::new(program);
    command.env_clear().envs(env);
    command
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

pub fn ratio(value: Duration, reference: Duration) -> String {
    if reference.is_zero() {
        return "-".into();
    }
    format!("{:.2}×", value.as_secs_f64() / reference.as_secs_f64())
}

/// MB/s (10^6 bytes) of `bytes` in `d`.
pub fn rate(bytes: u64, d: Duration) -> String {
    format!("{:.0} MB/s", bytes as f64 / 1e6 / d.as_secs_f64().max(1e-9))
}

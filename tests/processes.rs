//! Separate processes against one cache (TEST-MATRIX.md, "Concurrency and crashes"): 8 cold builds at
//! once, and `kill -9` of a provisioning process during download, extraction and publish, each followed
//! by a run that must succeed on the same cache.
//!
//! A test binary without libtest (`harness = false`): run with `--child` it is a build script's probe
//! reading the process environment, so the parent starts real processes of it. The parent serves a
//! stand-in release with 16 MiB of incompressible padding from loopback, at a pace slow enough to be
//! watched, and classifies each kill from what it can see afterwards: the bytes the server had sent, the
//! staging directories in `<cache>/.tmp` (and whether one holds a marker), the final entry. The library
//! has no test hooks.
//!
//! `cargo test` runs it with 2 kills per phase; `ci/reliability.sh` with `--kills-per-phase 20`.
//! Options: `--kills-per-phase N`, `--processes N`, `--seed N`.
#![allow(clippy::result_large_err)]

mod support;

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use onnxruntime_provision::Config;
use support::X86_64;
use support::archive::{self, Archive};
use support::server::{Reply, Server};

const TOP: &str = "onnxruntime-linux-x64-1.22.0";
const VERSION: &str = "1.22.0";
const PADDING_BYTES: usize = 16 << 20;
const MARKER_HEADER: &str = "onnxruntime-provision cache entry v1";
/// A run that has not finished after this long is hung (a healthy one takes a few seconds).
const RUN_LIMIT: Duration = Duration::from_secs(90);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return child();
    }
    let number = |name: &str, default: u64| -> u64 {
        match args.iter().position(|a| a == name) {
            Some(i) => args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{name} needs a number")),
            None => default,
        }
    };
    let kills_per_phase = number("--kills-per-phase", 2) as usize;
    let processes = number("--processes", 8) as usize;
    let seed = number("--seed", std::process::id() as u64 ^ 0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();

    let bench = Bench::new();
    println!("processes: built the stand-in release in {:.1} s (seed {seed})", started.elapsed().as_secs_f64());
    let cold = concurrent_cold_builds(&bench, processes);
    println!("{cold}");
    let waiter = waiter_proceeds_when_the_holder_dies(&bench);
    println!("{waiter}");
    let crashes = crash_loop(&bench, kills_per_phase, seed);
    println!("{crashes}");
    println!(
        "SUMMARY processes: {} cold builds at once -> {} download; {} processes started; kills: {}; {:.0} s",
        processes,
        cold.downloads,
        processes + 2 + crashes.processes,
        crashes.kills_line(),
        started.elapsed().as_secs_f64()
    );
    println!("processes: 3 passed, 0 failed");
}

/// The build script's side: probe with the process environment, print the library path.
fn child() {
    match Config::new().cargo_metadata(false).version("1.22").probe() {
        Ok(lib) => println!("LIB {}", lib.library_file.display()),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Tgz,
    Zip,
}

/// The release, its two archives, and the server that paces them out.
struct Bench {
    dir: tempfile::TempDir,
    tree: PathBuf,
    tgz: Archive,
    zip: Archive,
    server: Server,
}

impl Bench {
    fn new() -> Bench {
        let dir = support::tempdir();
        let tree = support::official_tree(&dir.path().join("tree"), TOP, VERSION, X86_64);
        fs::create_dir_all(tree.join("share")).unwrap();
        fs::write(tree.join("share/padding.bin"), incompressible(PADDING_BYTES)).unwrap();
        let tgz = archive::tgz(&tree, TOP, &format!("{TOP}.tgz"));
        let zip = archive::zip(&tree, TOP, &format!("{TOP}.zip"));
        let server = Server::http();
        for a in [&tgz, &zip] {
            // About 30 MB/s: the download of ~16 MB takes half a second.
            let reply = Reply::Paced { body: a.bytes.clone(), chunk: 128 << 10, interval: Duration::from_millis(4) };
            server.route(&a.url_path(VERSION), reply);
            fs::write(dir.path().join(format!("{}.manifest", a.asset)), a.manifest_line(VERSION, "linux-x64", "cpu"))
                .unwrap();
        }
        Bench { dir, tree, tgz, zip, server }
    }

    fn archive(&self, format: Format) -> &Archive {
        match format {
            Format::Tgz => &self.tgz,
            Format::Zip => &self.zip,
        }
    }

    /// A fresh, empty cache directory.
    fn new_cache(&self, name: &str) -> PathBuf {
        let cache = self.dir.path().join(name);
        let _ = fs::remove_dir_all(&cache);
        cache
    }

    /// A provisioning process for `format` on `cache`, with its own OUT_DIR.
    fn spawn(&self, format: Format, cache: &Path, run: &str) -> Run {
        let out = self.dir.path().join("out").join(run);
        let _ = fs::remove_dir_all(&out);
        fs::create_dir_all(&out).unwrap();
        let logs = self.dir.path().join("logs");
        fs::create_dir_all(&logs).unwrap();
        let (stdout, stderr) = (logs.join(format!("{run}.out")), logs.join(format!("{run}.err")));
        let asset = &self.archive(format).asset;
        // The child's environment is exactly a build script's: nothing of the caller's leaks in.
        #[allow(clippy::disallowed_methods, reason = "PATH for the child, not a setting of ours")]
        let path = std::env::var_os("PATH").unwrap_or_default();
        let child = Command::new(std::env::current_exe().unwrap())
            .arg("--child")
            .env_clear()
            .env("PATH", path)
            .env("TARGET", X86_64)
            .env("HOST", X86_64)
            .env("OUT_DIR", &out)
            .env("ONNXRUNTIME_SOURCES", "download")
            .env("ONNXRUNTIME_CACHE_DIR", cache)
            .env("ONNXRUNTIME_MANIFEST", self.dir.path().join(format!("{asset}.manifest")))
            .env("ONNXRUNTIME_MIRROR", self.server.url(""))
            .env("ONNXRUNTIME_HTTP_TIMEOUT", "20")
            .stdin(Stdio::null())
            .stdout(fs::File::create(&stdout).unwrap())
            .stderr(fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("start a child process");
        Run { child, out, stdout, stderr, sent_before: self.server.body_bytes_sent() }
    }

    /// Waits for a run that must succeed; returns the library path it printed and its stderr.
    fn finish(&self, mut run: Run, what: &str) -> (PathBuf, String) {
        let status =
            wait_bounded(&mut run.child, RUN_LIMIT).unwrap_or_else(|| panic!("{what}: hung for {RUN_LIMIT:?}"));
        let stdout = fs::read_to_string(&run.stdout).unwrap();
        let stderr = fs::read_to_string(&run.stderr).unwrap();
        assert!(status.success(), "{what}: failed ({status}):\n{stderr}");
        let lib = stdout.lines().find_map(|l| l.strip_prefix("LIB ")).unwrap_or_else(|| panic!("{what}: {stdout}"));
        (PathBuf::from(lib), stderr)
    }

    /// The published entry for `format` in `cache`: absent, or complete with a valid marker and exactly
    /// the release's files. Anything in between is corruption. True when present.
    fn check_entry(&self, cache: &Path, format: Format) -> Result<bool, String> {
        let sha = &self.archive(format).sha256;
        let entry = cache.join(sha);
        if fs::symlink_metadata(&entry).is_err() {
            return Ok(false);
        }
        let marker = fs::read_to_string(entry.join("marker")).map_err(|e| format!("entry without a marker: {e}"))?;
        let complete = marker.starts_with(&format!("{MARKER_HEADER}\nsha256 {sha}\n")) && marker.ends_with("\nend\n");
        if !complete {
            return Err(format!("entry with an invalid marker:\n{marker}"));
        }
        same_tree(&self.tree, &entry.join("content").join(TOP))?;
        Ok(true)
    }
}

/// Bytes that deflate cannot shrink (xorshift64*), so the archive is as large as its content.
fn incompressible(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend(state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// `actual` holds exactly what `expected` holds: the same names, file bytes and link targets.
fn same_tree(expected: &Path, actual: &Path) -> Result<(), String> {
    let (want, got) = (tree_items(expected)?, tree_items(actual)?);
    if want.keys().ne(got.keys()) {
        return Err(format!("entry lists {:?}, the release {:?}", got.keys(), want.keys()));
    }
    for (name, item) in &want {
        if got[name] != *item {
            return Err(format!("{name} differs from the release"));
        }
    }
    Ok(())
}

#[derive(PartialEq, Eq)]
enum Item {
    Dir,
    Link(PathBuf),
    File(Vec<u8>),
}

fn tree_items(root: &Path) -> Result<BTreeMap<String, Item>, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            let name = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let meta = fs::symlink_metadata(&path).map_err(|e| e.to_string())?;
            let item = if meta.file_type().is_symlink() {
                Item::Link(fs::read_link(&path).map_err(|e| e.to_string())?)
            } else if meta.is_dir() {
                dirs.push(path);
                Item::Dir
            } else {
                Item::File(fs::read(&path).map_err(|e| e.to_string())?)
            };
            out.insert(name, item);
        }
    }
    Ok(out)
}

/// One child process and where its output goes.
struct Run {
    child: Child,
    out: PathBuf,
    stdout: PathBuf,
    stderr: PathBuf,
    /// The server's paced-byte count when it started.
    sent_before: u64,
}

fn wait_bounded(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

// ---------------------------------------------------------------------------------------------------
// 8 cold builds at once

struct ColdBuilds {
    processes: usize,
    downloads: usize,
    waited: usize,
    elapsed: Duration,
}

impl fmt::Display for ColdBuilds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "processes: {} cold builds at once on one cache: {} download, {} waited for the lock, all succeeded with identical trees, no partial entry ever visible ({:.1} s)",
            self.processes,
            self.downloads,
            self.waited,
            self.elapsed.as_secs_f64()
        )
    }
}

fn concurrent_cold_builds(bench: &Bench, processes: usize) -> ColdBuilds {
    let started = Instant::now();
    let cache = bench.new_cache("cold-cache");
    let archive = bench.archive(Format::Tgz);
    let hits_before = bench.server.hits(&archive.url_path(VERSION));
    // Watches the final name the whole time: whenever it exists it must hold the marker.
    let entry = cache.join(&archive.sha256);
    let stop = Arc::new(AtomicBool::new(false));
    let partial_sightings = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (stop, partial) = (Arc::clone(&stop), Arc::clone(&partial_sightings));
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                if entry.exists() && !entry.join("marker").is_file() {
                    partial.fetch_add(1, Ordering::SeqCst);
                }
                thread::sleep(Duration::from_micros(200));
            }
        })
    };
    let runs: Vec<Run> = (0..processes).map(|i| bench.spawn(Format::Tgz, &cache, &format!("cold-{i}"))).collect();
    let outs: Vec<PathBuf> = runs.iter().map(|r| r.out.clone()).collect();
    let mut libs = Vec::new();
    let mut waited = 0;
    for (i, run) in runs.into_iter().enumerate() {
        let (lib, stderr) = bench.finish(run, &format!("cold build {i}"));
        waited += usize::from(stderr.contains("waiting for lock"));
        libs.push(fs::canonicalize(lib).unwrap());
    }
    stop.store(true, Ordering::SeqCst);
    watcher.join().unwrap();

    let downloads = bench.server.hits(&archive.url_path(VERSION)) - hits_before;
    assert_eq!(downloads, 1, "{processes} processes must download once");
    assert_eq!(partial_sightings.load(Ordering::SeqCst), 0, "a partial entry was visible under the final name");
    assert!(libs.iter().all(|l| *l == libs[0] && l.starts_with(fs::canonicalize(&cache).unwrap())), "{libs:?}");
    assert_eq!(bench.check_entry(&cache, Format::Tgz), Ok(true));
    // Every build staged the same tree, leading to the same files.
    let staged: Vec<BTreeMap<String, PathBuf>> = outs.iter().map(|o| staged_tree(&o.join("onnxruntime/lib"))).collect();
    assert!(!staged[0].is_empty());
    assert!(staged.iter().all(|s| *s == staged[0]), "staged trees differ: {staged:?}");
    assert_eq!(fs::read_dir(cache.join(".tmp")).unwrap().count(), 0, "temps left behind");
    ColdBuilds { processes, downloads, waited, elapsed: started.elapsed() }
}

/// The staged directory: each name and the file it finally leads to.
fn staged_tree(dir: &Path) -> BTreeMap<String, PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (path.file_name().unwrap().to_string_lossy().into_owned(), fs::canonicalize(&path).unwrap())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------
// A waiter blocked on the lock when its holder dies

fn waiter_proceeds_when_the_holder_dies(bench: &Bench) -> String {
    let cache = bench.new_cache("waiter-cache");
    let archive = bench.archive(Format::Tgz);
    let mut holder = bench.spawn(Format::Tgz, &cache, "holder");
    // The holder has the lock once its staging directory exists and bytes flow.
    let end = Instant::now() + RUN_LIMIT;
    while staging_dirs(&cache, &archive.sha256).is_empty() || bench.server.body_bytes_sent() == holder.sent_before {
        assert!(Instant::now() < end && holder.child.try_wait().unwrap().is_none(), "the holder never started");
        thread::sleep(Duration::from_millis(1));
    }
    let waiter = bench.spawn(Format::Tgz, &cache, "waiter");
    while !fs::read_to_string(&waiter.stderr).unwrap().contains("waiting for lock") {
        assert!(Instant::now() < end, "the second process never waited for the lock");
        thread::sleep(Duration::from_millis(1));
    }
    assert!(holder.child.try_wait().unwrap().is_none(), "the holder finished before it could be killed");
    holder.child.kill().unwrap();
    holder.child.wait().unwrap();
    let killed_at = Instant::now();
    let (lib, _) = bench.finish(waiter, "the waiter after its lock holder died");
    let took = killed_at.elapsed();
    assert!(took < Duration::from_secs(30), "the waiter took {took:?} after the holder died");
    assert!(lib.starts_with(cache.join(&archive.sha256)));
    assert_eq!(bench.check_entry(&cache, Format::Tgz), Ok(true));
    assert_eq!(fs::read_dir(cache.join(".tmp")).unwrap().count(), 0, "the dead holder's staging was cleared");
    format!(
        "processes: a waiter blocked on the lock took it when the holder was killed, and finished its own download {:.1} s later",
        took.as_secs_f64()
    )
}

// ---------------------------------------------------------------------------------------------------
// kill -9 at random points

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Download,
    Extraction,
    /// The marker is written in the staging directory; the rename has not happened.
    PublishBeforeRename,
    /// The entry is in place; the process was syncing, staging into OUT_DIR or inspecting.
    PublishAfterRename,
}

impl Phase {
    /// The three phases the matrix names.
    fn group(self) -> &'static str {
        match self {
            Phase::Download => "download",
            Phase::Extraction => "extraction",
            Phase::PublishBeforeRename | Phase::PublishAfterRename => "publish",
        }
    }
}

#[derive(Default)]
struct Crashes {
    kills: BTreeMap<Phase, usize>,
    by_format: BTreeMap<(&'static str, &'static str), usize>,
    missed: usize,
    processes: usize,
    elapsed: Duration,
}

impl Crashes {
    fn in_group(&self, group: &str) -> usize {
        self.kills.iter().filter(|(p, _)| p.group() == group).map(|(_, n)| n).sum()
    }

    fn kills_line(&self) -> String {
        let groups = ["download", "extraction", "publish"];
        groups.iter().map(|g| format!("{g} {}", self.in_group(g))).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Crashes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "processes: kill -9 loop ({:.0} s, {} processes):", self.elapsed.as_secs_f64(), self.processes)?;
        for (phase, n) in &self.kills {
            writeln!(f, "  {n:3} kills during {phase:?}")?;
        }
        for ((format, group), n) in &self.by_format {
            writeln!(f, "  {n:3} {format} kills during {group}")?;
        }
        write!(
            f,
            "  {} runs ended before the chosen moment (not counted); after every kill the cache held no partial entry and the next process succeeded without waiting for the dead one's lock",
            self.missed
        )
    }
}

/// A tiny deterministic generator, so a failing run can be repeated with `--seed`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `[low, high)`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low).max(1)
    }
}

/// Kills a provisioning process at a random point of the phase that has the fewest kills so far, until
/// every phase has `per_phase`; after each kill, checks the cache and runs a process that must succeed.
fn crash_loop(bench: &Bench, per_phase: usize, seed: u64) -> Crashes {
    let started = Instant::now();
    let mut rng = Rng(seed | 1);
    let mut crashes = Crashes::default();
    let cache = bench.new_cache("crash-cache");
    let mut iteration = 0;
    loop {
        let groups = ["download", "extraction", "publish"];
        let Some(&aim) = groups.iter().filter(|g| crashes.in_group(g) < per_phase).min_by_key(|g| crashes.in_group(g))
        else {
            break;
        };
        iteration += 1;
        assert!(iteration <= per_phase * 3 * 4 + 10, "could not hit every phase:\n{crashes}");
        // A zip is unpacked after its download, which gives extraction a window of its own.
        let format = if aim == "extraction" || iteration % 2 == 0 { Format::Zip } else { Format::Tgz };
        let label = format!("{format:?}").to_lowercase();
        let archive = bench.archive(format);

        let mut run = bench.spawn(format, &cache, &format!("kill-{iteration}"));
        crashes.processes += 1;
        let killed = kill_at(bench, &mut run, &cache, format, aim, &mut rng);
        match killed {
            Some(phase) => {
                *crashes.kills.entry(phase).or_default() += 1;
                *crashes
                    .by_format
                    .entry((if format == Format::Zip { "zip" } else { "tgz" }, phase.group()))
                    .or_default() += 1;
            }
            None => {
                crashes.missed += 1;
                bench.finish(run, &format!("unkilled run {iteration}"));
            }
        }
        if let Err(corrupt) = bench.check_entry(&cache, format) {
            panic!("after kill {iteration} ({killed:?}, {label}) the cache is corrupt: {corrupt}");
        }

        // The next build: succeeds at once (the dead holder's lock is gone), leaves a complete entry, no temps.
        let recovery = bench.spawn(format, &cache, &format!("after-{iteration}"));
        crashes.processes += 1;
        let (lib, stderr) = bench.finish(recovery, &format!("the run after kill {iteration} ({killed:?}, {label})"));
        assert!(
            !stderr.contains("waiting for lock"),
            "run after kill {iteration} waited for a dead process:\n{stderr}"
        );
        assert!(lib.starts_with(cache.join(&archive.sha256)), "{}", lib.display());
        assert_eq!(bench.check_entry(&cache, format), Ok(true), "after kill {iteration}");
        let temps: Vec<_> =
            fs::read_dir(cache.join(".tmp")).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        assert!(temps.is_empty(), "after kill {iteration} ({killed:?}): temps left {temps:?}");

        // Cold again for the next kill.
        fs::remove_dir_all(cache.join(&archive.sha256)).unwrap();
    }
    crashes.elapsed = started.elapsed();
    crashes
}

/// Watches `run` and kills it at a random point of `aim`; returns the phase it was really in, as the
/// cache and the server show it once the process is dead, or `None` when it finished first.
fn kill_at(bench: &Bench, run: &mut Run, cache: &Path, format: Format, aim: &str, rng: &mut Rng) -> Option<Phase> {
    let archive = bench.archive(format);
    let total = archive.bytes.len() as u64;
    let sent = |run: &Run| bench.server.body_bytes_sent() - run.sent_before;
    let download_point = rng.between(total / 20, total * 9 / 10);
    let extraction_delay = Duration::from_micros(rng.between(0, 150_000));
    let mut extraction_seen: Option<Instant> = None;
    let end = Instant::now() + RUN_LIMIT;
    loop {
        if run.child.try_wait().unwrap().is_some() {
            return None;
        }
        assert!(Instant::now() < end, "a run hung for {RUN_LIMIT:?}");
        let staging = staging_dirs(cache, &archive.sha256);
        let fire = match aim {
            "download" => sent(run) >= download_point,
            "extraction" => {
                let unpacking = sent(run) >= total && staging.iter().any(|s| has_entries(&s.join("content")));
                if unpacking && extraction_seen.is_none() {
                    extraction_seen = Some(Instant::now());
                }
                extraction_seen.is_some_and(|t| t.elapsed() >= extraction_delay)
            }
            _ => staging.iter().any(|s| s.join("marker").exists()) || cache.join(&archive.sha256).exists(),
        };
        if fire {
            break;
        }
        thread::sleep(Duration::from_micros(100));
    }
    run.child.kill().unwrap();
    let status = run.child.wait().unwrap();
    if status.code().is_some() {
        return None; // it exited on its own just before the signal
    }
    // The process is gone: what it left is exactly where it was.
    let staging = staging_dirs(cache, &archive.sha256);
    Some(if cache.join(&archive.sha256).exists() {
        Phase::PublishAfterRename
    } else if staging.iter().any(|s| s.join("marker").exists()) {
        Phase::PublishBeforeRename
    } else if sent(run) < total {
        Phase::Download
    } else if format == Format::Tgz || staging.iter().any(|s| has_entries(&s.join("content"))) {
        // The whole body was sent: a .tgz is still being unpacked from it; a .zip's unpacking began.
        Phase::Extraction
    } else {
        // The last bytes were still being read and hashed.
        Phase::Download
    })
}

/// `<cache>/.tmp/<sha>.*` staging directories.
fn staging_dirs(cache: &Path, sha: &str) -> Vec<PathBuf> {
    match fs::read_dir(cache.join(".tmp")) {
        Ok(dir) => {
            dir.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(sha)).map(|e| e.path()).collect()
        }
        Err(_) => Vec::new(),
    }
}

fn has_entries(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

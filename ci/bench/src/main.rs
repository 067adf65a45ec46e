//! The benchmark driver `ci/bench.sh` runs: each figure of issue 7 as the median of several runs, next
//! to its reference measured in the same run. Everything is served from a loopback mirror; nothing
//! here touches the network except the compile-cost figure's `cargo fetch` (crates only).
//!
//! `bench --work DIR --probe-o0 BIN --probe-o3 BIN --ortsys-script BIN --ortsys-script-full BIN --repo DIR [--runs N]
//!        [--process-runs N] [--iterations N] [--compile-runs N] [--figures 1,2,3,4,5,6]`

mod measure;
mod server;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use measure::{Env, command, interleaved, median, median_of, ms, rate, ratio, secs, time};
use server::Mirror;

/// One archive on the mirror, and the private manifest that lists it: none for the repackaged release,
/// which the harness's copy of the crate lists in its shipped manifest instead (`ci/bench.sh`), so its
/// probes read what they read for a user of the official archive.
struct Archive {
    label: String,
    manifest: Option<PathBuf>,
    asset: String,
    sha256: String,
    size: u64,
    /// The file on disk, and its path on the mirror.
    file: PathBuf,
    url_path: String,
}

struct Probe {
    label: &'static str,
    bin: PathBuf,
}

struct Bench {
    work: PathBuf,
    repo: PathBuf,
    mirror: Mirror,
    probes: Vec<Probe>,
    /// The opt-level 0 stand-in built with `default-features = false`.
    lean: PathBuf,
    /// A build script with no dependencies: the limit of any build-script process.
    bare: PathBuf,
    /// Links the library, then only reprints a stored answer: the lower bound of every design.
    replay: PathBuf,
    ortsys_script: PathBuf,
    /// The same build script built with ort-sys's download code (`download-binaries,tls-rustls`), as
    /// in the compile-cost figure: the like-for-like reference for a crate that can download.
    ortsys_script_full: PathBuf,
    real: Archive,
    padded: Vec<Archive>,
    runs: usize,
    process_runs: usize,
    iterations: usize,
    compile_runs: usize,
}

/// Which sources a probe tries: the default order, the download source alone, or told where the
/// library is (`ONNXRUNTIME_DIR`, the first source).
#[derive(Clone, Copy)]
enum Sources<'a> {
    Default,
    DownloadOnly,
    Dir(&'a Path),
}

impl Sources<'_> {
    fn label(self) -> &'static str {
        match self {
            Sources::Default => "default sources",
            Sources::DownloadOnly => "ONNXRUNTIME_SOURCES=download",
            Sources::Dir(_) => "ONNXRUNTIME_DIR",
        }
    }
}

/// A new file at `to` with the bytes and permissions of `from`, on disk.
fn fresh_copy(from: &str, to: &Path) -> Result<PathBuf, String> {
    let dir = to.parent().ok_or("no parent")?;
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    match fs::remove_file(to) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(format!("{}: {e}", to.display())),
        _ => {}
    }
    fs::copy(from, to).map_err(|e| format!("copying {from} to {}: {e}", to.display()))?;
    // Written back now, not while the timings run.
    fs::File::open(to).and_then(|f| f.sync_all()).map_err(|e| format!("{}: {e}", to.display()))?;
    Ok(to.to_path_buf())
}

fn main() {
    if let Err(error) = run() {
        eprintln!("bench: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg =
        |name: &str| -> Option<String> { args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned() };
    let required = |name: &str| arg(name).ok_or_else(|| format!("missing {name}"));
    let number = |name: &str, default: usize| arg(name).and_then(|v| v.parse().ok()).unwrap_or(default);
    let work = PathBuf::from(required("--work")?);
    let figures: Vec<u32> = arg("--figures")
        .unwrap_or_else(|| "1,2,3,4,5,6".into())
        .split(',')
        .filter_map(|f| f.trim().parse().ok())
        .collect();

    let mut archives = Vec::new();
    let mut manifests: Vec<PathBuf> = fs::read_dir(work.join("manifests"))
        .map_err(|e| format!("{}: {e}", work.join("manifests").display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    manifests.sort();
    for path in manifests {
        archives.push(archive(&work, &path)?);
    }
    let real_at = archives.iter().position(|a| a.label == "real").ok_or("no manifests/real.txt")?;
    let mut real = archives.remove(real_at);
    real.manifest = None;
    archives.sort_by_key(|a| a.size);

    // Every executable whose start-up is timed runs from a copy made now. Where its pages sit in the
    // page cache moves a 1 ms start-up by up to 0.1 ms (just written by the linker, just copied, or read
    // back from disk), and the references are built once while ours are rebuilt on every run: timed
    // where they were built, they would start in different states.
    let exec = work.join("exec");
    let copy = |flag: &str, name: &str| fresh_copy(&required(flag)?, &exec.join(name));
    let bench = Bench {
        mirror: Mirror::start(&work.join("mirror")).map_err(|e| format!("mirror: {e}"))?,
        repo: PathBuf::from(required("--repo")?),
        probes: vec![
            Probe { label: "opt-level 0", bin: copy("--probe-o0", "probe-o0")? },
            Probe { label: "opt-level 3", bin: copy("--probe-o3", "probe-o3")? },
        ],
        lean: copy("--probe-lean", "probe-lean")?,
        bare: copy("--bare-script", "bare-script")?,
        replay: copy("--replay-script", "replay-script")?,
        ortsys_script: copy("--ortsys-script", "ort-sys-lean")?,
        ortsys_script_full: copy("--ortsys-script-full", "ort-sys-full")?,
        work,
        real,
        padded: archives,
        runs: number("--runs", 5),
        process_runs: number("--process-runs", 101),
        iterations: number("--iterations", 200),
        compile_runs: number("--compile-runs", 5),
    };
    print_machine();
    let started = Instant::now();
    for figure in figures {
        match figure {
            1 => bench.warm_probe()?,
            2 => bench.cold_provision()?,
            3 => bench.peak_memory()?,
            4 => bench.compile_cost()?,
            5 => bench.concurrency()?,
            6 => bench.scaling()?,
            other => return Err(format!("no figure {other}")),
        }
    }
    println!("\nload average at the end: {}", load_average());
    println!("figures took {}", secs(started.elapsed()));
    Ok(())
}

/// Reads `manifests/<label>.txt` (one line: `version platform variant asset sha256 size source`).
fn archive(work: &Path, manifest: &Path) -> Result<Archive, String> {
    let text = fs::read_to_string(manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let columns: Vec<&str> = text.split_whitespace().collect();
    let [version, _, _, asset, sha256, size, ..] = columns.as_slice() else {
        return Err(format!("{}: not a manifest line", manifest.display()));
    };
    let url_path = format!("/v{version}/{asset}");
    Ok(Archive {
        label: manifest.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        manifest: Some(manifest.to_path_buf()),
        asset: asset.to_string(),
        sha256: sha256.to_string(),
        size: size.parse().map_err(|_| format!("{}: bad size", manifest.display()))?,
        file: work.join("mirror").join(url_path.trim_start_matches('/')),
        url_path,
    })
}

fn print_machine() {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let nproc = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let rustc = measure::run_text(Command::new("rustc").arg("-V")).unwrap_or_default();
    let kernel = measure::run_text(Command::new("uname").arg("-r")).unwrap_or_default();
    println!("machine: {nproc} CPUs ({cpu}), Linux {}, {}", kernel.trim(), rustc.trim());
    println!("load average at the start: {}", load_average());
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn heading(text: &str) {
    println!("\n== {text}");
}

fn row(label: &str, value: &str, comparison: &str) {
    println!("  {label:<62} {value:>12}   {comparison}");
}

impl Bench {
    /// The environment of our build-script stand-in: cargo's variables, the mirror, the private
    /// manifest of `archive` if it has one, and `cache`.
    fn probe_env(&self, archive: &Archive, cache: &Path, sources: Sources) -> Result<Env, String> {
        let manifest_dir = self.work.join("consumer");
        let out_dir = self.work.join("out").join("consumer");
        fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
        let mut env = measure::build_script_env("bench-consumer", &manifest_dir, &out_dir)?;
        env.insert("ONNXRUNTIME_MIRROR".into(), self.mirror.base_url.clone().into());
        if let Some(manifest) = &archive.manifest {
            env.insert("ONNXRUNTIME_MANIFEST".into(), manifest.into());
        }
        env.insert("ONNXRUNTIME_CACHE_DIR".into(), cache.into());
        match sources {
            Sources::Default => {}
            Sources::DownloadOnly => {
                env.insert("ONNXRUNTIME_SOURCES".into(), "download".into());
            }
            Sources::Dir(dir) => {
                env.insert("ONNXRUNTIME_DIR".into(), dir.into());
            }
        }
        Ok(env)
    }

    /// One run of the stand-in; its time and the source it says it used.
    fn run_probe(&self, bin: &Path, env: &Env) -> Result<(Duration, String), String> {
        let report = self.work.join("out").join("report.txt");
        let _ = fs::remove_file(&report);
        let mut cmd = command(bin, env);
        cmd.env("BENCH_REPORT", &report);
        let elapsed = time(&mut cmd)?;
        let text = fs::read_to_string(&report).map_err(|e| format!("{}: {e}", report.display()))?;
        let source = text.lines().next().and_then(|l| l.strip_prefix("source ")).unwrap_or("?").to_string();
        Ok((elapsed, source))
    }

    /// The median time of `probe()` repeated in one process, with the artifact cached.
    fn in_process(&self, bin: &Path, env: &Env, iterations: usize) -> Result<(Duration, String), String> {
        let report = self.work.join("out").join("iterations.txt");
        let mut cmd = command(bin, env);
        cmd.env("BENCH_PROBE_ITERATIONS", iterations.to_string()).env("BENCH_REPORT", &report);
        time(&mut cmd)?;
        let text = fs::read_to_string(&report).map_err(|e| format!("{}: {e}", report.display()))?;
        let mut lines = text.lines();
        let source = lines.next().and_then(|l| l.strip_prefix("source ")).unwrap_or("?").to_string();
        let mut times: Vec<Duration> = lines.filter_map(|l| l.parse().ok()).map(Duration::from_nanos).collect();
        Ok((median(&mut times), source))
    }

    fn expect_source(got: &str, want: &str) -> Result<(), String> {
        if got != want {
            return Err(format!(
                "the probe used `{got}`, expected `{want}`: the benchmark would measure the wrong thing"
            ));
        }
        Ok(())
    }

    /// A cache with `archive` in it.
    fn warm_cache(&self, archive: &Archive) -> Result<PathBuf, String> {
        let cache = self.work.join("cache").join(format!("warm-{}", archive.label));
        let fresh = !cache.join(&archive.sha256).exists();
        let env = self.probe_env(archive, &cache, Sources::DownloadOnly)?;
        let probe = self.probes.last().ok_or("no probe")?;
        self.run_probe(&probe.bin, &env)?;
        if fresh {
            settle();
        }
        Ok(cache)
    }

    fn warm_probe(&self) -> Result<(), String> {
        heading(&format!(
            "1. Warm probe: artifact cached; in-process median of {} probe() calls; process median of {} runs, \
             each in turn with the two references",
            self.iterations, self.process_runs
        ));
        let cache = self.warm_cache(&self.real)?;
        let lib_dir =
            cache.join(&self.real.sha256).join("content").join(self.real.asset.trim_end_matches(".tgz")).join("lib");

        // The reference: ort-sys's build script told where the same library is.
        let out_dir = self.work.join("out").join("ort-sys");
        fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
        let mut ref_env = measure::build_script_env("ort-sys", &self.work.join("ort-sys"), &out_dir)?;
        ref_env.insert("CARGO_MANIFEST_LINKS".into(), "onnxruntime".into());
        ref_env.insert("ORT_LIB_LOCATION".into(), lib_dir.clone().into());
        ref_env.insert("ORT_PREFER_DYNAMIC_LINK".into(), "1".into());

        for sources in [Sources::Default, Sources::DownloadOnly] {
            for probe in &self.probes {
                let env = self.probe_env(&self.real, &cache, sources)?;
                let (probe_time, source) = self.in_process(&probe.bin, &env, self.iterations)?;
                Self::expect_source(&source, "download (cached)")?;
                let label = format!("probe() in-process, {}, {}", probe.label, sources.label());
                row(
                    &label,
                    &ms(probe_time),
                    &format!("{} of the 2 ms target", ratio(probe_time, Duration::from_millis(2))),
                );
            }
        }

        // The processes: (label, executable, environment, the source it must say it used).
        let mut processes: Vec<(String, &Path, Env, Option<&str>)> = Vec::new();
        for sources in [Sources::Default, Sources::DownloadOnly] {
            for probe in &self.probes {
                let env = self.probe_env(&self.real, &cache, sources)?;
                let label = format!("build-script process, {}, {}", probe.label, sources.label());
                processes.push((label, &probe.bin, env, Some("download (cached)")));
            }
        }
        // Told where the library is, as ort-sys is: with and without the download code linked in.
        let root = lib_dir.parent().ok_or("no root")?;
        let default_build = self.probes.first().ok_or("no probe")?;
        for (bin, label) in [(&default_build.bin, "default features"), (&self.lean, "default-features = false")] {
            let env = self.probe_env(&self.real, &cache, Sources::Dir(root))?;
            let label = format!("build-script process, opt-level 0, ONNXRUNTIME_DIR, {label}");
            processes.push((label, bin, env, Some("env")));
        }
        // The floor: the same binary told `DOCS_RS`, which returns before any work. What is left above
        // it is the probe; the floor itself is loading a binary of this size (code and relocations).
        let mut env = self.probe_env(&self.real, &cache, Sources::DownloadOnly)?;
        env.insert("DOCS_RS".into(), "1".into());
        let label = "build-script process, opt-level 0, DOCS_RS (no work: the start-up floor)".to_string();
        processes.push((label, &default_build.bin, env, None));
        // The lower bound of any probe in a build script linking this crate: the answer reprinted,
        // nothing checked. Its first run (below, untimed) probes and stores the answer.
        let mut env = self.probe_env(&self.real, &cache, Sources::DownloadOnly)?;
        let stored = self.work.join("out").join("replay.txt");
        remove_file(&stored)?;
        env.insert("BENCH_REPLAY".into(), stored.into());
        let label = "build-script process, opt-level 0, the answer reprinted, nothing checked (the bound)".to_string();
        processes.push((label, &self.replay, env, None));
        // The limit: a build script with no dependencies, in the same environment.
        let env = self.probe_env(&self.real, &cache, Sources::DownloadOnly)?;
        let label = "build-script process, opt-level 0, no dependencies (the limit of any build script)".to_string();
        processes.push((label, &self.bare, env, None));

        // Each process runs in turn with both references, and its ratios are to their medians from the
        // same rounds. The source is checked once beforehand, not in the timed runs: reporting it
        // writes a file, which the references do not.
        let mut lean_reference = || time(&mut command(&self.ortsys_script, &ref_env));
        let mut full_reference = || time(&mut command(&self.ortsys_script_full, &ref_env));
        let mut rows = Vec::new();
        let mut counted = Vec::new();
        let (mut lean_medians, mut full_medians) = (Vec::new(), Vec::new());
        for (label, bin, env, expected) in processes {
            match expected {
                Some(expected) => {
                    let (_, source) = self.run_probe(bin, &env)?;
                    Self::expect_source(&source, expected)?;
                }
                None => drop(time(&mut command(bin, &env))?),
            }
            let mut ours = || time(&mut command(bin, &env));
            let medians = interleaved(self.process_runs, &mut [&mut ours, &mut lean_reference, &mut full_reference])?;
            let [process, lean, full] = medians[..] else { return Err("three medians expected".into()) };
            let versus =
                format!("{} ort-sys lean, {} ort-sys with downloads", ratio(process, lean), ratio(process, full));
            counted.push((label.clone(), bin, env.clone()));
            rows.push((label, process, versus));
            lean_medians.push(lean);
            full_medians.push(full);
        }
        let spread = |medians: &mut Vec<Duration>| {
            medians.sort();
            let (low, high) = (medians[0], medians[medians.len() - 1]);
            (measure::median(medians), format!("(medians of its rounds with each row: {} to {})", ms(low), ms(high)))
        };
        let (lean, lean_spread) = spread(&mut lean_medians);
        let (full, full_spread) = spread(&mut full_medians);
        row("ort-sys 2.0.0-rc.15 build script, ORT_LIB_LOCATION, features std (reference)", &ms(lean), &lean_spread);
        row(
            "ort-sys 2.0.0-rc.15 build script, ORT_LIB_LOCATION, download-binaries,tls-rustls (reference)",
            &ms(full),
            &full_spread,
        );
        for (label, process, versus) in rows {
            row(&label, &ms(process), &versus);
        }
        // The same processes counted in instructions (exact; where valgrind is installed), after the
        // timed runs: under valgrind the memos are rewritten for valgrind's executable. A count that
        // fails is reported, and the other figures still run.
        if let Err(error) = self.instruction_counts(&ref_env, counted) {
            println!("  (instruction counts stopped: {error})");
        }
        Ok(())
    }

    /// Figure 1's processes and the references, each counted in instructions (see
    /// [`measure::instructions`]).
    fn instruction_counts(&self, ref_env: &Env, counted: Vec<(String, &Path, Env)>) -> Result<(), String> {
        let (Some(lean), Some(full)) = (
            measure::instructions(&self.ortsys_script, ref_env)?,
            measure::instructions(&self.ortsys_script_full, ref_env)?,
        ) else {
            println!("  (no instruction counts: valgrind is not installed)");
            return Ok(());
        };
        let thousands = |n: u64| format!("{}k instr", n.div_ceil(1000));
        let per = |n: u64, of: u64| format!("{:.2}×", n as f64 / of as f64);
        row("instructions: ort-sys lean (reference)", &thousands(lean), "");
        row("instructions: ort-sys with downloads (reference)", &thousands(full), "");
        for (label, bin, env) in counted {
            let Some(count) = measure::instructions(bin, &env)? else { continue };
            let label = label.replacen("build-script process", "instructions", 1);
            let versus = format!("{} ort-sys lean, {} ort-sys with downloads", per(count, lean), per(count, full));
            row(&label, &thousands(count), &versus);
        }
        Ok(())
    }

    /// The median cold provision of `archive` by `probe` into an empty cache; checks it downloaded.
    fn cold(&self, probe: &Probe, archive: &Archive, runs: usize) -> Result<Duration, String> {
        let cache = self.work.join("cache").join("cold");
        let env = self.probe_env(archive, &cache, Sources::DownloadOnly)?;
        median_of(
            runs,
            || remove_dir(&cache),
            || {
                let (elapsed, source) = self.run_probe(&probe.bin, &env)?;
                Self::expect_source(&source, "download (fetched now)")?;
                Ok(elapsed)
            },
        )
    }

    /// `curl -s URL | tee >(sha256sum) | tar xz` into an empty directory.
    fn curl_pipeline(&self, archive: &Archive, runs: usize) -> Result<Duration, String> {
        let dir = self.work.join("out").join("curl");
        let url = format!("{}{}", self.mirror.base_url, archive.url_path);
        let script =
            format!("set -o pipefail; curl -sf '{url}' | tee >(sha256sum >/dev/null) | tar xz -C '{}'", dir.display());
        median_of(
            runs,
            || remove_dir(&dir).and_then(|()| fs::create_dir_all(&dir).map_err(|e| e.to_string())),
            || time(Command::new("bash").args(["-c", &script])),
        )
    }

    /// `gzip -dc FILE > /dev/null`: single-threaded decompression, the limit of one streaming pass.
    fn gzip_limit(&self, archive: &Archive, runs: usize) -> Result<Duration, String> {
        median_of(runs, || Ok(()), || time(Command::new("gzip").arg("-dc").arg(&archive.file)))
    }

    fn cold_provision(&self) -> Result<(), String> {
        let archive = &self.real;
        heading(&format!(
            "2. Cold provision of {} ({:.1} MB) from the loopback mirror into an empty cache; median of {}",
            archive.asset,
            archive.size as f64 / 1e6,
            self.runs
        ));
        let curl = self.curl_pipeline(archive, self.runs)?;
        let limit = self.gzip_limit(archive, self.runs)?;
        for probe in &self.probes {
            let cold = self.cold(probe, archive, self.runs)?;
            let label = format!("build-script process, {}", probe.label);
            row(
                &label,
                &ms(cold),
                &format!("{} curl | tee >(sha256sum) | tar xz   ({})", ratio(cold, curl), rate(archive.size, cold)),
            );
        }
        row("curl -s URL | tee >(sha256sum) | tar xz (reference)", &ms(curl), &rate(archive.size, curl));
        row("gzip -dc FILE > /dev/null (single-thread decompression)", &ms(limit), &rate(archive.size, limit));
        Ok(())
    }

    fn peak_memory(&self) -> Result<(), String> {
        heading("3. Peak memory (maximum resident set size, /usr/bin/time -v) of one cold provision");
        let mut archives = vec![&self.real];
        archives.extend(self.padded.last());
        for archive in archives {
            for probe in &self.probes {
                let cache = self.work.join("cache").join("cold");
                remove_dir(&cache)?;
                let env = self.probe_env(archive, &cache, Sources::DownloadOnly)?;
                let mut cmd = command(Path::new("/usr/bin/time"), &env);
                cmd.arg("-v").arg(&probe.bin).stdin(Stdio::null()).stdout(Stdio::null());
                let output = cmd.output().map_err(|e| format!("/usr/bin/time: {e}"))?;
                let stderr = String::from_utf8_lossy(&output.stderr);
                if !output.status.success() {
                    return Err(format!("cold provision under /usr/bin/time failed:\n{stderr}"));
                }
                let kib: u64 = stderr
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
                    .and_then(|v| v.trim().parse().ok())
                    .ok_or("no maximum resident set size in /usr/bin/time's output")?;
                let mb = kib as f64 * 1024.0 / 1e6;
                let label = format!("{} ({:.0} MB), {}", archive.asset, archive.size as f64 / 1e6, probe.label);
                row(&label, &format!("{mb:.1} MB"), &format!("{:.2}× of the 32 MB target", mb / 32.0));
            }
        }
        Ok(())
    }

    fn concurrency(&self) -> Result<(), String> {
        const PROCESSES: usize = 8;
        let archive = &self.real;
        heading(&format!(
            "5. Concurrency: {PROCESSES} processes cold-provisioning {} into one empty cache; median of {}",
            archive.asset, self.runs
        ));
        for probe in &self.probes {
            let single = self.cold(probe, archive, self.runs)?;
            let cache = self.work.join("cache").join("shared");
            let env = self.probe_env(archive, &cache, Sources::DownloadOnly)?;
            let mut downloads = Vec::new();
            let wall = median_of(
                self.runs,
                || remove_dir(&cache),
                || {
                    let before = self.mirror.gets(&archive.url_path);
                    let started = Instant::now();
                    // Eight builds (so eight OUT_DIRs) sharing one cache.
                    let children: Vec<Child> = (0..PROCESSES)
                        .map(|i| {
                            let out_dir = self.work.join("out").join(format!("concurrent-{i}"));
                            fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
                            command(&probe.bin, &env)
                                .env("OUT_DIR", &out_dir)
                                .stdin(Stdio::null())
                                .stdout(Stdio::null())
                                .stderr(Stdio::piped())
                                .spawn()
                                .map_err(|e| e.to_string())
                        })
                        .collect::<Result<_, _>>()?;
                    for child in children {
                        let output = child.wait_with_output().map_err(|e| e.to_string())?;
                        if !output.status.success() {
                            return Err(format!(
                                "a concurrent probe failed:\n{}",
                                String::from_utf8_lossy(&output.stderr)
                            ));
                        }
                    }
                    let elapsed = started.elapsed();
                    downloads.push(self.mirror.gets(&archive.url_path) - before);
                    Ok(elapsed)
                },
            )?;
            let label = format!("{PROCESSES} processes, {}", probe.label);
            let counts: Vec<String> = downloads.iter().map(u64::to_string).collect();
            row(
                &label,
                &ms(wall),
                &format!(
                    "{} a single one ({}); downloads per run: {}",
                    ratio(wall, single),
                    ms(single),
                    counts.join(",")
                ),
            );
        }
        Ok(())
    }

    fn scaling(&self) -> Result<(), String> {
        let runs = self.runs.min(3);
        heading(&format!("6. Scaling: cold provision by archive size (median of {runs}), and the warm probe"));
        let mut archives: Vec<&Archive> = vec![&self.real];
        archives.extend(self.padded.iter());
        for archive in archives {
            let limit = self.gzip_limit(archive, runs)?;
            let mb = archive.size as f64 / 1e6;
            row(&format!("{mb:.0} MB: gzip -dc (single-thread limit)"), &ms(limit), &rate(archive.size, limit));
            for probe in &self.probes {
                let cold = self.cold(probe, archive, runs)?;
                let label = format!("{mb:.0} MB: cold provision, {}", probe.label);
                row(
                    &label,
                    &ms(cold),
                    &format!("{}  {} the gzip -dc limit", rate(archive.size, cold), ratio(cold, limit)),
                );
            }
            // The cold runs left a warm cache behind.
            settle();
            let probe = self.probes.first().ok_or("no probe")?;
            let env = self.probe_env(archive, &self.work.join("cache").join("cold"), Sources::DownloadOnly)?;
            let (warm, source) = self.in_process(&probe.bin, &env, self.iterations / 4)?;
            Self::expect_source(&source, "download (cached)")?;
            row(&format!("{mb:.0} MB: warm probe() in-process, {}", probe.label), &ms(warm), "");
        }
        Ok(())
    }

    fn compile_cost(&self) -> Result<(), String> {
        heading(&format!(
            "4. Compile cost: clean `cargo build -j 2` of a minimal consumer (fresh target dir, build scripts told DOCS_RS); median of {}",
            self.compile_runs
        ));
        let repo = self.repo.display().to_string();
        let consumers = [
            (
                "ort-sys",
                "ort-sys =2.0.0-rc.15 (download-binaries, tls-rustls) (reference)",
                String::new(),
                r#"ort-sys = { version = "=2.0.0-rc.15", features = ["download-binaries", "tls-rustls"] }"#.to_string(),
            ),
            (
                "ours",
                "onnxruntime-provision, default features",
                format!(r#"onnxruntime-provision = {{ path = "{repo}" }}"#),
                String::new(),
            ),
            (
                "ours-lean",
                "onnxruntime-provision, default-features = false",
                format!(r#"onnxruntime-provision = {{ path = "{repo}", default-features = false }}"#),
                String::new(),
            ),
        ];
        for (name, _, build_dep, dep) in &consumers {
            write_consumer(&self.work.join("consumers").join(name), &self.repo, build_dep, dep)?;
        }
        // The consumers take turns, so a change of load on this shared machine falls on all of them.
        let mut measured: Vec<(Vec<Duration>, Vec<Duration>, usize)> = vec![Default::default(); consumers.len()];
        for _ in 0..self.compile_runs.max(1) {
            for ((name, ..), (walls, cpus, units)) in consumers.iter().zip(measured.iter_mut()) {
                let (wall, cpu, compiled) = self.clean_build(name)?;
                walls.push(wall);
                cpus.push(cpu);
                *units = compiled;
            }
        }
        let mut reference = None;
        for ((name, label, ..), (mut walls, mut cpus, units)) in consumers.iter().zip(measured) {
            let (wall, cpu) = (median(&mut walls), median(&mut cpus));
            let comparison = match (*name, reference) {
                ("ort-sys", _) => {
                    reference = Some((wall, cpu));
                    format!("{units} crates, {} CPU", secs(cpu))
                }
                ("ours-lean", _) => {
                    format!(
                        "{units} crates, {} CPU; {} of the 3 s target",
                        secs(cpu),
                        ratio(wall, Duration::from_secs(3))
                    )
                }
                (_, Some((w, c))) => {
                    format!("{units} crates, {} CPU; {} ort-sys (CPU {})", secs(cpu), ratio(wall, w), ratio(cpu, c))
                }
                (_, None) => format!("{units} crates"),
            };
            row(label, &secs(wall), &comparison);
        }
        Ok(())
    }

    /// One clean build of a consumer: wall time, CPU time (user + system of cargo and everything it
    /// ran), and how many crates it compiled.
    fn clean_build(&self, name: &str) -> Result<(Duration, Duration, usize), String> {
        let dir = self.work.join("consumers").join(name);
        let target = self.work.join("consumers").join(format!("{name}-target"));
        remove_dir(&target)?;
        let mut cmd = Command::new("cargo");
        cmd.current_dir(&dir)
            .args(["build", "-j", "2", "--offline", "--locked"])
            .env("CARGO_TARGET_DIR", &target)
            .env("CARGO_INCREMENTAL", "0")
            .env("DOCS_RS", "1")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let cpu_before = children_cpu();
        let started = Instant::now();
        let output = cmd.output().map_err(|e| e.to_string())?;
        let wall = started.elapsed();
        let cpu = children_cpu().saturating_sub(cpu_before);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(format!("building the {name} consumer failed:\n{stderr}"));
        }
        remove_dir(&target)?;
        let units = stderr.lines().filter(|l| l.trim_start().starts_with("Compiling")).count();
        Ok((wall, cpu, units))
    }
}

/// User + system time of this process's waited-for children (`/proc/self/stat`, in clock ticks of
/// 1/100 s, the Linux default).
fn children_cpu() -> Duration {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    // Fields 16 and 17 (cutime, cstime); the text after the name starts at field 3.
    let ticks: u64 = after_name.split_whitespace().skip(13).take(2).filter_map(|f| f.parse::<u64>().ok()).sum();
    Duration::from_millis(ticks * 10)
}

/// A binary crate with `build_dep` as its only build-dependency and `dep` as its only dependency, its
/// lockfile resolved and its crates fetched (so the timed builds only compile).
fn write_consumer(dir: &Path, repo: &Path, build_dep: &str, dep: &str) -> Result<(), String> {
    fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    if !build_dep.is_empty() {
        // Start from the library's own lockfile, so the consumer compiles the versions it is tested with.
        fs::copy(repo.join("Cargo.lock"), dir.join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    }
    let manifest = format!(
        "[package]\nname = \"bench-consumer\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\n{dep}\n\n[build-dependencies]\n{build_dep}\n"
    );
    let build_rs = if build_dep.is_empty() {
        "fn main() {}\n"
    } else {
        "fn main() {\n    onnxruntime_provision::Config::new().version(\"1.22\").probe().unwrap();\n}\n"
    };
    let write = |path: PathBuf, text: &str| fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()));
    write(dir.join("Cargo.toml"), &manifest)?;
    write(dir.join("build.rs"), build_rs)?;
    write(dir.join("src/main.rs"), "fn main() {}\n")?;
    measure::run_text(Command::new("cargo").current_dir(dir).arg("fetch").stdout(Stdio::null()))?;
    Ok(())
}

/// Waits until files written just now have settled: a user's warm cache is old, and the inspection
/// memo remembers nothing read from a file changed in the last 2 s (src/memo.rs, `SETTLE_SECS`).
fn settle() {
    std::thread::sleep(Duration::from_millis(2500));
}

fn remove_dir(dir: &Path) -> Result<(), String> {
    removed(dir, fs::remove_dir_all(dir))
}

fn remove_file(file: &Path) -> Result<(), String> {
    removed(file, fs::remove_file(file))
}

/// The outcome of removing `path`, which need not have been there.
fn removed(path: &Path, outcome: std::io::Result<()>) -> Result<(), String> {
    match outcome {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove {}: {e}", path.display())),
    }
}

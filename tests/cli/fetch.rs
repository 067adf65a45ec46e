//! `fetch`: several targets into a cache (then builds work offline), a mirror folder (then builds work
//! from `file://` with no server), progress on a terminal and in logs, refusal of bad bytes.

use std::fs;
use std::process::Command;

use onnxruntime_provision::{Config, Env, Library, Origin, SourceKind, Version};

use super::support::server::Reply;
use super::support::{self, AARCH64, X86_64};
use super::{Ran, Releases, Run};

const BOTH: [(&str, &str, &str); 2] = [("1.22.0", X86_64, "linux-x64"), ("1.22.0", AARCH64, "linux-aarch64")];

/// A probe for `target` as a build script runs it, with only the download source.
fn probe(target: &str, vars: &[(&str, &std::path::Path)], offline: bool) -> Library {
    let mut env = Env::from_vars([("TARGET", target), ("HOST", X86_64)]);
    for (name, value) in vars {
        env = env.with(*name, *value);
    }
    if offline {
        env = env.with("ONNXRUNTIME_OFFLINE", "1");
    }
    Config::new()
        .env(env)
        .sources([SourceKind::Download])
        .version("1.22")
        .cargo_metadata(false)
        .probe()
        .unwrap_or_else(|e| panic!("probe for {target} failed:\n{e}"))
}

fn fetched_now(library: &Library) -> bool {
    match &library.origin {
        Origin::Download { fetched_now, .. } => *fetched_now,
        other => panic!("not a download: {other:?}"),
    }
}

#[test]
fn two_targets_into_a_cache_then_builds_work_offline() {
    let releases = Releases::serve(&BOTH);
    let cache = releases.path("cache");
    let ran = releases
        .run(&["fetch", "--version", "1.22", "--target", X86_64, "--target", AARCH64])
        .env("ONNXRUNTIME_CACHE_DIR", &cache)
        .output()
        .expect(0);
    ran.stdout_has(&format!("fetched  {X86_64}  ONNX Runtime 1.22.0 (cpu)"))
        .stdout_has(&format!("fetched  {AARCH64}  ONNX Runtime 1.22.0 (cpu)"))
        .stdout_has(&format!("ONNXRUNTIME_CACHE_DIR={} ONNXRUNTIME_OFFLINE=1", cache.display()));
    // Not a terminal: plain progress lines, no carriage returns.
    ran.stderr_has("downloading http://127.0.0.1:").stderr_has("onnxruntime-linux-aarch64-1.22.0.tgz");
    assert!(!ran.stderr.contains('\r'), "{}", ran.stderr);
    assert!(!ran.stderr.contains("retrying"), "each target's download is its own: {}", ran.stderr);
    for archive in &releases.archives {
        assert!(cache.join(&archive.sha256).join("marker").is_file(), "{} not in the cache", archive.asset);
        assert_eq!(releases.server.hits(&archive.url_path("1.22.0")), 1);
    }

    // Again: nothing to download.
    let again = Run::new(&["fetch", "--version", "1.22", "--target", X86_64, "--target", AARCH64])
        .env("ONNXRUNTIME_MIRROR", releases.server.url(""))
        .env("ONNXRUNTIME_MANIFEST", &releases.manifest)
        .env("ONNXRUNTIME_CACHE_DIR", &cache)
        .output()
        .expect(0);
    again.stdout_has(&format!("cached   {X86_64}")).stdout_has(&format!("cached   {AARCH64}"));

    // The mirror goes away; builds for both targets are served from the cache, offline.
    let manifest = releases.manifest.clone();
    let hits: usize = releases.archives.iter().map(|a| releases.server.hits(&a.url_path("1.22.0"))).sum();
    assert_eq!(hits, 2);
    drop(releases.server);
    for target in [X86_64, AARCH64] {
        let library = probe(target, &[("ONNXRUNTIME_CACHE_DIR", &cache), ("ONNXRUNTIME_MANIFEST", &manifest)], true);
        assert_eq!(library.version, Version::new(1, 22, 0));
        assert!(!fetched_now(&library));
        assert!(library.library_file.starts_with(fs::canonicalize(&cache).unwrap()), "{library:?}");
    }
}

#[test]
fn a_mirror_folder_serves_a_build_through_file_urls_with_no_server() {
    let releases = Releases::serve(&BOTH);
    let mirror = releases.path("mirror dir");
    let ran = releases
        .run(&["fetch", "--version", "1.22.0", "--target", X86_64, "--target", AARCH64, "--mirror-dir"])
        .output();
    assert_eq!(ran.code, 2, "--mirror-dir without a value is a usage error: {}", ran.stderr);
    let ran = releases
        .run(&[
            "fetch",
            "--version",
            "1.22.0",
            "--target",
            X86_64,
            "--target",
            AARCH64,
            "--mirror-dir",
            mirror.to_str().unwrap(),
        ])
        .output()
        .expect(0);
    ran.stdout_has("fetched  x86_64-unknown-linux-gnu  v1.22.0/onnxruntime-linux-x64-1.22.0.tgz")
        .stdout_has("ONNXRUNTIME_MIRROR=file://")
        .stdout_has("mirror%20dir");
    for archive in &releases.archives {
        let copy = mirror.join("v1.22.0").join(&archive.asset);
        assert_eq!(fs::read(&copy).unwrap(), archive.bytes, "{}", copy.display());
    }
    // No temporary files left in the mirror.
    let names: Vec<String> =
        fs::read_dir(mirror.join("v1.22.0")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names.len(), 2, "{names:?}");

    let manifest = releases.manifest.clone();
    drop(releases.server);
    // Running again needs no network: the verified copies are kept.
    let again =
        Run::new(&["fetch", "--version", "1.22.0", "--target", X86_64, "--mirror-dir", mirror.to_str().unwrap()])
            .env("ONNXRUNTIME_MIRROR", "http://127.0.0.1:9/unreachable")
            .env("ONNXRUNTIME_MANIFEST", &manifest)
            .output()
            .expect(0);
    again.stdout_has("present  x86_64-unknown-linux-gnu");

    // Another machine: an empty cache and the folder as a file:// mirror.
    let url = ran.stdout.lines().find_map(|l| l.trim().strip_prefix("ONNXRUNTIME_MIRROR=")).unwrap().to_string();
    let cache = mirror.parent().unwrap().join("other-cache");
    for target in [X86_64, AARCH64] {
        let mut env = Env::from_vars([("TARGET", target), ("HOST", X86_64)]);
        env = env
            .with("ONNXRUNTIME_MIRROR", &url)
            .with("ONNXRUNTIME_CACHE_DIR", &cache)
            .with("ONNXRUNTIME_MANIFEST", &manifest);
        let library = Config::new()
            .env(env)
            .sources([SourceKind::Download])
            .version("1.22")
            .cargo_metadata(false)
            .probe()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(fetched_now(&library));
        let Origin::Download { url: from, .. } = &library.origin else { unreachable!() };
        assert!(from.starts_with("file:///"), "{from}");
    }
}

#[test]
fn a_bar_with_rate_and_eta_on_a_terminal() {
    // Large enough to arrive in many reads, so the bar is drawn before the end.
    let releases = Releases::serve_padded(&BOTH[..1], 8 << 20);
    let cache = releases.path("cache");
    // Forced, as CARGO_TERM_PROGRESS_WHEN=always forces cargo's own bar.
    let ran = releases
        .run(&["fetch", "--version", "1.22", "--target", X86_64])
        .env("ONNXRUNTIME_CACHE_DIR", &cache)
        .env("CARGO_TERM_PROGRESS_WHEN", "always")
        .output()
        .expect(0);
    check_bar(&ran.stderr);

    // On a real terminal (a pseudo-terminal from `script`), without forcing.
    assert!(support::which("script"), "`script` is missing: apt-get install bsdutils");
    let cache2 = releases.path("cache2");
    let command = format!(
        "{} onnxruntime fetch --version 1.22 --target {X86_64} --cache-dir '{}'",
        super::binary(),
        cache2.display()
    );
    let output = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .env("ONNXRUNTIME_MIRROR", releases.server.url(""))
        .env("ONNXRUNTIME_MANIFEST", &releases.manifest)
        .env_remove("CARGO_TERM_PROGRESS_WHEN")
        .output()
        .unwrap();
    let ran = Ran::from(output).expect(0);
    check_bar(&ran.stdout);
}

fn check_bar(text: &str) {
    assert!(text.contains("\r  ["), "no bar redrawn in place:\n{text:?}");
    assert!(text.contains("ETA "), "no ETA:\n{text:?}");
    assert!(text.contains("/s"), "no rate:\n{text:?}");
    assert!(
        text.contains("] 1") || text.contains("] 2") || text.contains("MiB /") || text.contains("KiB /"),
        "{text:?}"
    );
}

#[test]
fn bytes_that_do_not_match_the_pin_are_refused() {
    let releases = Releases::serve(&BOTH[..1]);
    let archive = &releases.archives[0];
    // A well-formed archive, but not the pinned one (another build of "the same" release).
    let other = super::build_archive(&releases.path("other"), "1.22.1", X86_64, "onnxruntime-linux-x64-1.22.0.tgz");
    assert_ne!(other.sha256, archive.sha256);
    releases.server.route(&archive.url_path("1.22.0"), Reply::ok(other.bytes.clone()));
    // Other bytes: a checksum mismatch, or (when longer than the manifest's size) stopped at that size.
    let refused = |place: &str, dir: &std::path::Path| {
        let ran = releases
            .run(&["fetch", "--version", "1.22", "--target", X86_64, place, dir.to_str().unwrap()])
            .output()
            .expect(1);
        assert!(
            ran.stderr.contains("checksum mismatch") || ran.stderr.contains("is not the pinned file"),
            "{place}: {}",
            ran.stderr
        );
    };
    let cache = releases.path("cache");
    refused("--cache-dir", &cache);
    assert!(!cache.join(&archive.sha256).exists());
    let mirror = releases.path("mirror");
    refused("--mirror-dir", &mirror);
    let left: Vec<_> = fs::read_dir(mirror.join("v1.22.0")).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    Run::new(&["fetch", "--bogus"]).output().expect(2).stderr_has("unknown option `--bogus`");
    Run::new(&["fetch", "--variant", "rocm"]).output().expect(2).stderr_has("cpu, cuda11, cuda12, cuda13");
    Run::new(&["frobnicate"]).output().expect(2).stderr_has("unknown command");
    for command in ["fetch", "which", "env", "doctor", "manifest"] {
        Run::new(&[command, "--help"]).output().expect(0).stdout_has("Usage: cargo onnxruntime");
    }
    // Run by its own name, without cargo's extra word.
    let output = Command::new(super::binary()).args(["which", "--help"]).output().unwrap();
    Ran::from(output).expect(0).stdout_has("Usage: cargo onnxruntime which");
}

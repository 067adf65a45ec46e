//! `cargo onnxruntime` end to end: the built binary, run as a user runs it, against loopback mirrors,
//! stand-in ONNX Runtime libraries built at test time, and checked-in Cargo.lock fixtures.
// Probes return the crate's full error report; its size does not matter in tests.
#![allow(clippy::result_large_err)]

#[path = "../support/mod.rs"]
mod support;

mod doctor;
mod env;
mod fetch;
mod handoff;
mod manifest;
mod which;

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::archive::{self, Archive};
use support::server::{Reply, Server};

/// The binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_cargo-onnxruntime")
}

/// A command-line run: the binary with a scrubbed environment (no ONNXRUNTIME_*, ORT_*, loader or
/// cargo-target variables from the machine running the tests), plus what the test sets.
pub struct Run {
    cmd: Command,
}

impl Run {
    /// `cargo onnxruntime <args>` as cargo runs it (with the `onnxruntime` word first).
    pub fn new(args: &[&str]) -> Run {
        let mut cmd = Command::new(binary());
        cmd.arg("onnxruntime").args(args);
        for (name, _) in std::env::vars_os() {
            let text = name.to_string_lossy();
            if text.starts_with("ONNXRUNTIME_")
                || text.starts_with("ORT_")
                || text.starts_with("CARGO_TARGET_")
                || text.starts_with("PKG_CONFIG")
                || matches!(&*text, "LD_LIBRARY_PATH" | "CARGO_BUILD_TARGET" | "RUSTFLAGS" | "CARGO_TERM_PROGRESS_WHEN")
            {
                cmd.env_remove(name);
            }
        }
        // Downloads in tests are local; a stray proxy setting must not reach them.
        for proxy in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
            cmd.env_remove(proxy);
        }
        cmd.env("ONNXRUNTIME_HTTP_TIMEOUT", "10");
        Run { cmd }
    }

    pub fn env(mut self, name: &str, value: impl AsRef<OsStr>) -> Run {
        self.cmd.env(name, value);
        self
    }

    pub fn dir(mut self, dir: &Path) -> Run {
        self.cmd.current_dir(dir);
        self
    }

    pub fn output(mut self) -> Ran {
        let output = self.cmd.output().expect("the CLI binary runs");
        Ran::from(output)
    }
}

/// What a run printed, and how it exited.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Ran {
    fn from(output: Output) -> Ran {
        Ran {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Ran {
    /// Asserts the exit status, showing everything printed when it differs.
    pub fn expect(self, code: i32) -> Ran {
        assert_eq!(self.code, code, "exit status\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    pub fn stdout_has(&self, text: &str) -> &Ran {
        assert!(self.stdout.contains(text), "stdout lacks {text:?}:\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    pub fn stderr_has(&self, text: &str) -> &Ran {
        assert!(self.stderr.contains(text), "stderr lacks {text:?}:\n{}\n--- stdout\n{}", self.stderr, self.stdout);
        self
    }
}

/// A temporary directory with stand-in release archives, a manifest describing them, and a loopback
/// mirror serving them.
pub struct Releases {
    pub tmp: tempfile::TempDir,
    pub server: Server,
    pub manifest: PathBuf,
    pub archives: Vec<Archive>,
}

impl Releases {
    /// Archives of stand-ins for each `(version, target, platform)`, in the official layout.
    pub fn serve(list: &[(&str, &str, &str)]) -> Releases {
        Releases::serve_padded(list, 0)
    }

    /// [`Releases::serve`] with `padding` bytes of incompressible data in each archive.
    pub fn serve_padded(list: &[(&str, &str, &str)], padding: usize) -> Releases {
        let tmp = support::tempdir();
        let server = Server::http();
        let mut lines = String::new();
        let mut archives = Vec::new();
        for (version, target, platform) in list {
            let asset = format!("onnxruntime-{platform}-{version}.tgz");
            let archive = build_archive_padded(tmp.path(), version, target, &asset, padding);
            server.route(&archive.url_path(version), Reply::ok(archive.bytes.clone()));
            lines.push_str(&archive.manifest_line(version, platform, "cpu"));
            archives.push(archive);
        }
        let manifest = tmp.path().join("test-manifest.txt");
        fs::write(&manifest, lines).unwrap();
        Releases { tmp, server, manifest, archives }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// A run with the mirror and manifest set.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::new(args).env("ONNXRUNTIME_MIRROR", self.server.url("")).env("ONNXRUNTIME_MANIFEST", &self.manifest)
    }
}

/// A `.tgz` (or `.zip`) release archive of a stand-in built for `target`, named `asset`.
pub fn build_archive(dir: &Path, version: &str, target: &str, asset: &str) -> Archive {
    build_archive_padded(dir, version, target, asset, 0)
}

fn build_archive_padded(dir: &Path, version: &str, target: &str, asset: &str, padding: usize) -> Archive {
    let top = asset.trim_end_matches(".tgz").trim_end_matches(".zip");
    let tree = dir.join("trees").join(asset);
    let root = support::official_tree(&tree, top, version, target);
    if padding > 0 {
        // xorshift noise: gzip cannot shrink it, so the archive really is `padding` bytes larger.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let noise: Vec<u8> = (0..padding)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        fs::write(root.join("padding.bin"), noise).unwrap();
    }
    if asset.ends_with(".zip") { archive::zip(&root, top, asset) } else { archive::tgz(&root, top, asset) }
}

/// Copies a checked-in fixture project (`tests/fixtures/<name>`) into `dest`.
pub fn copy_fixture(name: &str, dest: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let dir = dest.join(name);
    fs::create_dir_all(&dir).unwrap();
    for file in ["Cargo.toml", "Cargo.lock"] {
        fs::copy(src.join(file), dir.join(file)).unwrap();
    }
    dir
}

/// The real rustc (not the rustup proxy, which would need the test's `CARGO_HOME`).
pub fn real_rustc() -> PathBuf {
    let output = Command::new("rustc").args(["--print", "sysroot"]).output().expect("rustc runs");
    let sysroot = String::from_utf8(output.stdout).unwrap();
    PathBuf::from(sysroot.trim()).join("bin").join("rustc")
}

/// Every variable a POSIX shell holds after sourcing `lines` (written to `tmp/exports.sh`) in an
/// otherwise empty environment: what `eval "$(cargo onnxruntime env --for shell)"` leaves behind.
pub fn sourced(tmp: &Path, lines: &str) -> Vec<(String, String)> {
    let script = tmp.join("exports.sh");
    fs::write(&script, lines).unwrap();
    let output = Command::new("sh")
        .arg("-c")
        .arg(r#". "$1" && env"#)
        .arg("sh")
        .arg(&script)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect()
}

pub fn os(text: &str) -> OsString {
    OsString::from(text)
}

//! A real downstream crate (tests/fixtures/consumer) whose build.rs makes the one call a crate author
//! writes, built by cargo and then run *directly* — no `cargo run`, no `LD_LIBRARY_PATH` — to show the
//! library it linked is the one it loads.
// Probes return the crate's full error report; its size does not matter in tests.
#![allow(clippy::result_large_err)]

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use support::X86_64;

/// Fixture builds share one target dir (so this crate compiles once) and one output binary name.
static FIXTURE_TARGET: Mutex<()> = Mutex::new(());

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn target_dir() -> PathBuf {
    repo().join("target").join("fixtures")
}

/// A copy of the fixture crate in `dir`, depending on this crate by path.
pub fn make_fixture(dir: &Path) -> PathBuf {
    let src = repo().join("tests/fixtures/consumer");
    let crate_dir = dir.join("consumer");
    fs::create_dir_all(crate_dir.join("src")).unwrap();
    fs::copy(src.join("build.rs"), crate_dir.join("build.rs")).unwrap();
    fs::copy(src.join("src/main.rs"), crate_dir.join("src/main.rs")).unwrap();
    // The same dependency versions as this crate, so the build needs no registry access.
    fs::copy(repo().join("Cargo.lock"), crate_dir.join("Cargo.lock")).unwrap();
    fs::write(
        crate_dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"consumer\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [build-dependencies]\nonnxruntime-provision = {{ path = {:?} }}\n\n[workspace]\n",
            repo().display().to_string()
        ),
    )
    .unwrap();
    crate_dir
}

/// `cargo <args>` in the fixture with only the given ONNXRUNTIME_* variables.
pub fn cargo(crate_dir: &Path, args: &[&str], vars: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(args).arg("--offline").current_dir(crate_dir).env("CARGO_TARGET_DIR", target_dir());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ONNXRUNTIME_") || name == "LD_LIBRARY_PATH" {
            cmd.env_remove(name);
        }
    }
    cmd.env("ONNXRUNTIME_SOURCES", "env");
    for (name, value) in vars {
        cmd.env(name, value);
    }
    let output = cmd.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs the built consumer directly, with no loader path set.
pub fn run_consumer() -> String {
    let output = Command::new(target_dir().join("debug/consumer")).env_remove("LD_LIBRARY_PATH").output().unwrap();
    assert!(output.status.success(), "consumer failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_built_binary_runs_directly_and_follows_a_changed_variable() {
    let _serial = FIXTURE_TARGET.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = support::tempdir();
    let first = support::official_tree(tmp.path(), "onnxruntime-linux-x64-1.22.0", "1.22.0", X86_64);
    let crate_dir = make_fixture(tmp.path());

    cargo(&crate_dir, &["build"], &[("ONNXRUNTIME_DIR", &first)]);
    assert_eq!(run_consumer(), "ONNX Runtime 1.22.0\n");

    // `cargo test` finds it as well (the staged directory is inside target/).
    let output = cargo(&crate_dir, &["test"], &[("ONNXRUNTIME_DIR", &first)]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("loads_under_cargo_test ... ok"));

    // rerun-if-env-changed: pointing the variable elsewhere relinks against that release.
    let second = support::official_tree(tmp.path(), "onnxruntime-linux-x64-1.22.4", "1.22.4", X86_64);
    cargo(&crate_dir, &["build"], &[("ONNXRUNTIME_DIR", &second)]);
    assert_eq!(run_consumer(), "ONNX Runtime 1.22.4\n");
}

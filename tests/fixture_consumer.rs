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
    cargo_into(&target_dir(), crate_dir, args, vars)
}

/// [`cargo`] with another target directory.
fn cargo_into(target: &Path, crate_dir: &Path, args: &[&str], vars: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(args).arg("--offline").current_dir(crate_dir).env("CARGO_TARGET_DIR", target);
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

    // The build script, with the download code in it, loads only the libraries any Rust program does:
    // the system zlib is opened when an archive is unpacked, never linked, since a linked library is
    // loaded by every run of the script (ci/bench.sh, figure 1).
    let scripts = fs::read_dir(target_dir().join("debug/build"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|dir| dir.file_name().unwrap().to_string_lossy().starts_with("consumer-"))
        .map(|dir| dir.join("build-script-build"))
        .filter(|script| script.is_file());
    let script = scripts.max_by_key(|script| fs::metadata(script).unwrap().modified().unwrap()).expect("built");
    let dynamic = dynamic_section(&script);
    let needed: Vec<&str> = dynamic
        .lines()
        .filter(|line| line.contains("(NEEDED)"))
        .filter_map(|line| line.split('[').nth(1)?.strip_suffix(']'))
        .collect();
    assert!(needed.contains(&"libc.so.6"), "{dynamic}");
    let beyond_std: Vec<_> = needed
        .iter()
        .filter(|n| !["libc.so.6", "libgcc_s.so.1", "libm.so.6"].contains(n) && !n.starts_with("ld-linux"))
        .collect();
    assert!(beyond_std.is_empty(), "{} links {beyond_std:?}:\n{dynamic}", script.display());
}

/// The dynamic section entries of `binary` (`readelf -d`).
fn dynamic_section(binary: &Path) -> String {
    let out = Command::new("readelf").arg("-d").arg(binary).output().expect("readelf (binutils) is installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_linked_release_is_loaded_even_when_another_comes_first_on_the_library_path() {
    let _serial = FIXTURE_TARGET.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = support::tempdir();
    let linked = support::official_tree(tmp.path(), "onnxruntime-linux-x64-1.22.0", "1.22.0", X86_64);
    let crate_dir = make_fixture(tmp.path());
    cargo(&crate_dir, &["build"], &[("ONNXRUNTIME_DIR", &linked)]);

    // Another release with the same SONAME, first on LD_LIBRARY_PATH.
    let other = tmp.path().join("other");
    support::build_shared(&other, "libonnxruntime.so.1", Some("libonnxruntime.so.1"), "1.23.2", X86_64);
    let binary = target_dir().join("debug/consumer");
    let run = |path: &Path| Command::new(path).env("LD_LIBRARY_PATH", &other).output().unwrap();
    let output = run(&binary);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "ONNX Runtime 1.22.0\n");
    assert!(
        dynamic_section(&binary).contains("(RPATH)"),
        "the staged dir is in DT_RPATH, searched before LD_LIBRARY_PATH"
    );

    // The control: the same program linked the usual way (DT_RUNPATH) picks the other release and fails
    // exactly as users see it, so the check above cannot pass by accident.
    let staged = fs::read_dir(target_dir().join("debug/build"))
        .unwrap()
        .map(|e| e.unwrap().path().join("out/onnxruntime/lib"))
        .find(|p| {
            p.join("libonnxruntime.so.1").exists()
                && fs::canonicalize(p.join("libonnxruntime.so.1"))
                    .unwrap()
                    .starts_with(fs::canonicalize(&linked).unwrap())
        })
        .expect("the staged directory of this build");
    let main_c = tmp.path().join("main.c");
    fs::write(&main_c, "const void* OrtGetApiBase(void);\nint main(void) { return OrtGetApiBase() == 0; }\n").unwrap();
    let control = tmp.path().join("control");
    let status = support::compiler(X86_64)
        .arg(&main_c)
        .arg("-o")
        .arg(&control)
        .arg(format!("-L{}", staged.display()))
        .arg("-lonnxruntime")
        .arg(format!("-Wl,--enable-new-dtags,-rpath,{}", staged.display()))
        .status()
        .unwrap();
    assert!(status.success());
    let output = run(&control);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("version `VERS_1.22.0' not found"), "{output:?}");
}

#[test]
fn a_relocatable_build_runs_after_moving_it_with_its_libraries() {
    let _serial = FIXTURE_TARGET.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = support::tempdir();
    let tree = support::official_tree(tmp.path(), "onnxruntime-linux-x64-1.22.0", "1.22.0", X86_64);
    let crate_dir = make_fixture(tmp.path());
    let on = tmp.path().join("on");
    cargo(&crate_dir, &["build"], &[("ONNXRUNTIME_DIR", &tree), ("FIXTURE_COPY_TO_TARGET_DIR", &on)]);
    let debug = target_dir().join("debug");
    assert!(dynamic_section(&debug.join("consumer")).contains("[$ORIGIN]"));

    // Ship: the binary and the run-time files, to a place the build never knew; the original install
    // is gone.
    let shipped = tmp.path().join("shipped elsewhere");
    fs::create_dir_all(&shipped).unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(debug.join("consumer"))
        .arg(debug.join("libonnxruntime.so.1"))
        .arg(debug.join("libonnxruntime.so.1.22.0"))
        .arg(debug.join("libonnxruntime_providers_shared.so"))
        .arg(&shipped)
        .status()
        .unwrap();
    assert!(status.success());
    fs::remove_dir_all(&tree).unwrap();
    let output = Command::new(shipped.join("consumer")).env_remove("LD_LIBRARY_PATH").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "ONNX Runtime 1.22.0\n");
    // Tests and examples find the files beside them too.
    assert!(debug.join("deps/libonnxruntime.so.1").exists() && debug.join("examples/libonnxruntime.so.1").exists());
}

/// With cargo's `build.build-dir` apart from the target directory — set in a `.cargo/config.toml`, which
/// a build script cannot see — the copies reach the final binary in the target directory as well as the
/// tests in the build dir, and the binary runs on them alone.
#[test]
fn a_relocatable_build_with_a_separate_build_dir_puts_copies_beside_the_final_binary() {
    let tmp = support::tempdir();
    let tree = support::official_tree(tmp.path(), "onnxruntime-linux-x64-1.22.0", "1.22.0", X86_64);
    let crate_dir = make_fixture(tmp.path());
    // The intermediate files stay between runs (the dependencies build once); the final ones start afresh.
    let build_dir = repo().join("target").join("fixtures-build-dir");
    fs::create_dir_all(crate_dir.join(".cargo")).unwrap();
    let config = format!("[build]\nbuild-dir = '{}'\n", build_dir.display());
    fs::write(crate_dir.join(".cargo/config.toml"), config).unwrap();
    let target = tmp.path().join("target");
    let on = tmp.path().join("on");
    cargo_into(&target, &crate_dir, &["build"], &[("ONNXRUNTIME_DIR", &tree), ("FIXTURE_COPY_TO_TARGET_DIR", &on)]);

    let debug = target.join("debug");
    assert!(dynamic_section(&debug.join("consumer")).contains("[$ORIGIN]"));
    for dir in [debug.clone(), debug.join("examples"), build_dir.join("debug/deps")] {
        assert!(dir.join("libonnxruntime.so.1").exists(), "no copy in {}", dir.display());
    }
    fs::remove_dir_all(&tree).unwrap();
    let output = Command::new(debug.join("consumer")).env_remove("LD_LIBRARY_PATH").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "ONNX Runtime 1.22.0\n");
}

/// A crate in `dir/name` with the given manifest tail and files.
fn write_crate(dir: &Path, name: &str, manifest_tail: &str, files: &[(&str, &str)]) -> PathBuf {
    let crate_dir = dir.join(name);
    for (path, text) in files {
        let path = crate_dir.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    fs::write(
        crate_dir.join("Cargo.toml"),
        format!("[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n{manifest_tail}\n[workspace]\n"),
    )
    .unwrap();
    fs::copy(repo().join("Cargo.lock"), crate_dir.join("Cargo.lock")).unwrap();
    crate_dir
}

#[test]
fn a_binary_depending_on_a_sys_crate_runs_directly_with_the_helper_and_not_without() {
    let _serial = FIXTURE_TARGET.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = support::tempdir();
    let tree = support::official_tree(tmp.path(), "onnxruntime-linux-x64-1.22.0", "1.22.0", X86_64);
    let provision = format!("onnxruntime-provision = {{ path = {:?} }}", repo().display().to_string());
    let main_rs = fs::read_to_string(repo().join("tests/fixtures/consumer/src/main.rs")).unwrap();
    let sys_lib = main_rs
        .replace("fn version()", "pub fn version()")
        .replace("fn main() {\n    println!(\"ONNX Runtime {}\", version());\n}\n", "");
    write_crate(
        tmp.path(),
        "ort-sys-fixture",
        &format!("links = \"onnxruntime\"\n[build-dependencies]\n{provision}\n"),
        &[
            ("build.rs", "fn main() { onnxruntime_provision::Config::new().probe().unwrap(); }\n"),
            ("src/lib.rs", &sys_lib),
        ],
    );
    let app_main = "fn main() { println!(\"ONNX Runtime {}\", ort_sys_fixture::version()); }\n";
    let app = |name: &str, with_helper: bool| {
        let mut tail = "[dependencies]\nort-sys-fixture = { path = \"../ort-sys-fixture\" }\n".to_string();
        let mut files = vec![("src/main.rs", app_main)];
        if with_helper {
            tail.push_str(&format!("[build-dependencies]\n{provision}\n"));
            files.push((
                "build.rs",
                "fn main() { onnxruntime_provision::dependent_rpath(\"onnxruntime\").unwrap(); }\n",
            ));
        }
        write_crate(tmp.path(), name, &tail, &files)
    };
    let with = app("app-with-helper", true);
    let without = app("app-without-helper", false);
    cargo(&with, &["build"], &[("ONNXRUNTIME_DIR", &tree)]);
    cargo(&without, &["build"], &[("ONNXRUNTIME_DIR", &tree)]);

    let run = |name: &str| {
        Command::new(target_dir().join("debug").join(name)).env_remove("LD_LIBRARY_PATH").output().unwrap()
    };
    let output = run("app-with-helper");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "ONNX Runtime 1.22.0\n");
    // rustc-link-arg does not reach dependents: without the helper the binary links but cannot load.
    let output = run("app-without-helper");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("libonnxruntime.so.1: cannot open shared object file"),
        "{output:?}"
    );
}

#[test]
fn a_static_build_tree_is_discovered_and_linked_with_no_shared_library_left() {
    let _serial = FIXTURE_TARGET.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = support::tempdir();
    let build = support::static_build_tree(tmp.path(), "1.22.3", X86_64);
    let crate_dir = make_fixture(tmp.path());
    let yes = Path::new("1");
    let output = cargo(&crate_dir, &["build", "-vv"], &[("ONNXRUNTIME_LIB_DIR", &build), ("ONNXRUNTIME_STATIC", yes)]);
    let log = String::from_utf8_lossy(&output.stderr);
    // What rustc was given (cargo -vv shows the command).
    for arg in ["-l static=onnxruntime_session", "-l static=onnxruntime_common", "-l static=foo", "-l dylib=stdc++"] {
        assert!(log.contains(arg), "{arg} missing from:\n{log}");
    }
    assert!(!log.contains("static=onnxruntime_test_utils"), "test-only archives stay out");

    assert_eq!(run_consumer(), "ONNX Runtime 1.22.3\n");
    let dynamic = dynamic_section(&target_dir().join("debug/consumer"));
    assert!(!dynamic.contains("libonnxruntime") && dynamic.contains("libstdc++"), "{dynamic}");
}

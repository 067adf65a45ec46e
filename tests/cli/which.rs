//! `which`: every candidate with its verdict and the pick, from the library's own survey.

use std::fs;
use std::path::Path;

use super::support::{self, AARCH64, X86_64};
use super::{Releases, Run};

/// A correct `libonnxruntime.pc` for an install root, in `dir`.
fn write_pc(dir: &Path, root: &Path, version: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join("libonnxruntime.pc"),
        format!(
            "prefix={}\nlibdir=${{prefix}}/lib\nincludedir=${{prefix}}/include\n\nName: onnxruntime\n\
             Description: test\nVersion: {version}\nLibs: -L${{libdir}} -lonnxruntime\nCflags: -I${{includedir}}\n",
            root.display()
        ),
    )
    .unwrap();
}

#[test]
fn refused_candidates_with_reasons_and_the_pick() {
    assert!(support::which("pkg-config"), "pkg-config is not installed: apt-get install pkg-config");
    let releases = Releases::serve(&[("1.22.0", X86_64, "linux-x64")]);
    // pkg-config finds an aarch64 build: refused for its architecture.
    let arm = support::official_tree(&releases.path("arm"), "onnxruntime-linux-aarch64-1.22.0", "1.22.0", AARCH64);
    write_pc(&releases.path("pc"), &arm, "1.22.0");
    let cache = releases.path("cache");
    let survey = |extra: &[(&str, &Path)]| {
        let mut run = releases
            .run(&["which", "--target", X86_64, "--version", "1.22"])
            .env("ONNXRUNTIME_CACHE_DIR", &cache)
            .env("PKG_CONFIG_PATH", releases.path("pc"));
        for (name, value) in extra {
            run = run.env(name, value);
        }
        run.output()
    };

    // Not cached yet: the pick is the download a build would make.
    let ran = survey(&[]).expect(0);
    ran.stdout_has("ONNX Runtime 1.22 (cpu, dynamic link) for x86_64-unknown-linux-gnu")
        .stdout_has("sources, in order: env, pkg-config, system, download")
        .stdout_has("[-]       env")
        .stdout_has("[refused] pkg-config")
        .stdout_has("wrong architecture")
        .stdout_has("ELF 64-bit aarch64")
        .stdout_has("[picked]  download")
        .stdout_has("a build would download http://127.0.0.1:");
    // stdout carries the report only: no `cargo:` directive from the pkg-config probe.
    assert!(!ran.stdout.contains("cargo:"), "{}", ran.stdout);
    // A survey downloads nothing.
    assert_eq!(releases.server.hits(&releases.archives[0].url_path("1.22.0")), 0);
    assert!(!cache.exists() || fs::read_dir(&cache).unwrap().count() == 0);

    // Once fetched, the cached archive is the pick; an older release from the env source is refused.
    releases
        .run(&["fetch", "--version", "1.22", "--target", X86_64])
        .env("ONNXRUNTIME_CACHE_DIR", &cache)
        .output()
        .expect(0);
    let old = support::official_tree(&releases.path("old"), "onnxruntime-linux-x64-1.20.0", "1.20.0", X86_64);
    let ran = survey(&[("ONNXRUNTIME_DIR", &old)]).expect(1);
    ran.stdout_has("[refused] env")
        .stdout_has("wrong version: 1.20.0 (from the ELF version node VERS_1.20.0")
        .stdout_has("a build would stop with this error")
        .stdout_has("ONNXRUNTIME_DIR is set to");

    let ran = survey(&[]).expect(0);
    ran.stdout_has("[picked]  download").stdout_has("accepted: ONNX Runtime 1.22.0").stdout_has(&format!(
        "a build would use ONNX Runtime 1.22.0 from {}",
        fs::canonicalize(&cache).unwrap_or(cache.clone()).join(&releases.archives[0].sha256).display()
    ));
}

#[test]
fn nothing_acceptable_exits_1() {
    let tmp = support::tempdir();
    let ran = Run::new(&["which", "--target", X86_64, "--version", "1.22"])
        .env("ONNXRUNTIME_SOURCES", "env,download")
        .env("ONNXRUNTIME_OFFLINE", "1")
        .env("ONNXRUNTIME_CACHE_DIR", tmp.path())
        .output()
        .expect(1);
    ran.stdout_has("[refused] download").stdout_has("offline (ONNXRUNTIME_OFFLINE=1)").stdout_has("a build would fail");
}

#[test]
fn only_a_location_a_variable_named_is_refused_for_being_empty() {
    // pkg-config names a directory whose (relative) name reads like a variable's location,
    // `ONNXRUNTIME_…:…`, and that holds no library: refused as unusable, a candidate the build moves
    // past — not the variable-named refusal a build stops at.
    assert!(support::which("pkg-config"), "pkg-config is not installed: apt-get install pkg-config");
    let tmp = support::tempdir();
    let look_alike = "ONNXRUNTIME_OLD:copy";
    fs::create_dir_all(tmp.path().join(look_alike)).unwrap();
    let pc = tmp.path().join("pc");
    fs::create_dir_all(&pc).unwrap();
    fs::write(
        pc.join("libonnxruntime.pc"),
        format!("libdir={look_alike}\n\nName: onnxruntime\nDescription: x\nVersion: 1.22.0\nLibs: -L${{libdir}} -lonnxruntime\n"),
    )
    .unwrap();
    let which = || {
        Run::new(&["which", "--target", X86_64])
            .dir(tmp.path())
            .env("ONNXRUNTIME_SOURCES", "env,pkg-config")
            .env("PKG_CONFIG_PATH", &pc)
    };
    let ran = which().output().expect(1);
    ran.stdout_has("[refused] pkg-config  pkg-config libonnxruntime")
        .stdout_has(look_alike)
        .stdout_has("a build would fail");
    assert!(!ran.stdout.contains("a build would stop with this error"), "{}", ran.stdout);

    // The same empty place named by ONNXRUNTIME_LIB_DIR is what a build stops at.
    let ran = which().env("ONNXRUNTIME_LIB_DIR", tmp.path().join(look_alike)).output().expect(1);
    ran.stdout_has("[refused] env").stdout_has("a build would stop with this error");
}

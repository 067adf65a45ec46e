//! The probe against local sources (env, system) with real stand-in libraries: each source, precedence,
//! target-suffixed variables, cross-compiling, version checks, bad variables, staging and the exact
//! directives. Every probe gets its own environment map; the process environment is never touched.
// Probes return the crate's full error report; its size does not matter in tests.
#![allow(clippy::result_large_err)]

mod support;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use onnxruntime_provision::{Config, Env, Error, LinkKind, Origin, SourceKind, Verdict, Version};
use support::{AARCH64, X86_64};

/// A build-script-like environment for `target`, with an OUT_DIR under `dir`.
fn build_env(dir: &Path, target: &str) -> Vec<(OsString, OsString)> {
    let out = dir.join("out");
    fs::create_dir_all(&out).unwrap();
    vec![("TARGET".into(), target.into()), ("HOST".into(), X86_64.into()), ("OUT_DIR".into(), out.into_os_string())]
}

fn config(vars: Vec<(OsString, OsString)>) -> Config {
    let mut config = Config::new();
    config.env(Env::from_vars(vars)).cargo_metadata(false).system_dirs(Vec::<PathBuf>::new());
    config
}

fn var(name: &str, value: impl Into<OsString>) -> (OsString, OsString) {
    (name.into(), value.into())
}

/// An official 1.22.0 x86_64 release under `dir`, and a build environment naming it in `ONNXRUNTIME_DIR`.
fn release_named_by_env(dir: &Path) -> (PathBuf, Vec<(OsString, OsString)>) {
    let root = support::official_tree(dir, "onnxruntime-linux-x64-1.22.0", "1.22.0", X86_64);
    let mut vars = build_env(dir, X86_64);
    vars.push(var("ONNXRUNTIME_DIR", root.as_os_str()));
    (root, vars)
}

#[test]
fn env_dir_is_linked_from_the_staged_directory_with_exact_directives() {
    let tmp = support::tempdir();
    let (root, mut vars) = release_named_by_env(tmp.path());
    vars.push(var("CARGO_MANIFEST_LINKS", "onnxruntime"));
    let lib = config(vars).version("1.22").probe().unwrap();

    let out = tmp.path().join("out");
    let staged = out.join("onnxruntime/lib");
    assert_eq!(lib.version, Version::new(1, 22, 0));
    assert_eq!(lib.link, LinkKind::Dynamic);
    assert_eq!(lib.lib_dir, staged);
    assert_eq!(lib.root.as_deref(), Some(root.as_path()));
    assert_eq!(lib.origin, Origin::Variable { name: "ONNXRUNTIME_DIR".into(), path: root.clone() });
    assert_eq!(lib.library_file, fs::canonicalize(root.join("lib/libonnxruntime.so.1.22.0")).unwrap());

    let s = |p: &Path| p.to_str().unwrap().to_string();
    let mut expected: Vec<String> =
        ["ONNXRUNTIME_DIR_x86_64-unknown-linux-gnu", "ONNXRUNTIME_DIR_x86_64_unknown_linux_gnu", "ONNXRUNTIME_DIR"]
            .iter()
            .map(|n| format!("cargo:rerun-if-env-changed={n}"))
            .collect();
    let directives = lib.cargo_directives();
    // Every variable looked up is watched (more than the three above: version, sources, …).
    for line in &expected {
        assert!(directives.contains(line), "missing {line} in {directives:#?}");
    }
    assert!(directives.contains(&"cargo:rerun-if-env-changed=ONNXRUNTIME_VERSION".to_string()));
    let link_lines: Vec<&String> =
        directives.iter().filter(|l| !l.starts_with("cargo:rerun-if-env-changed=")).collect();
    expected = vec![
        format!("cargo:rustc-link-search=native={}", s(&staged)),
        "cargo:rustc-link-lib=dylib=onnxruntime".into(),
        "cargo:rustc-link-arg=-Wl,--disable-new-dtags".into(),
        format!("cargo:rustc-link-arg=-Wl,-rpath,{}", s(&staged)),
        format!("cargo:rerun-if-changed={}", s(&lib.library_file)),
        format!("cargo:rustc-env=ONNXRUNTIME_LIB_PATH={}", s(&staged.join("libonnxruntime.so.1"))),
        format!("cargo:root={}", s(&root)),
        format!("cargo:lib_dir={}", s(&staged)),
        format!("cargo:rpath={}", s(&staged)),
        format!("cargo:include={}", s(&out.join("onnxruntime/include"))),
        "cargo:version=1.22.0".into(),
        "cargo:api_version=22".into(),
    ];
    assert_eq!(link_lines, expected.iter().collect::<Vec<_>>());

    // Every name the loader and linker ask for is there and leads to the real library.
    let mut names: Vec<String> =
        fs::read_dir(&staged).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(
        names,
        ["libonnxruntime.so", "libonnxruntime.so.1", "libonnxruntime.so.1.22.0", "libonnxruntime_providers_shared.so"]
    );
    for name in &names[..3] {
        assert_eq!(fs::canonicalize(staged.join(name)).unwrap(), lib.library_file);
    }
    assert!(out.join("onnxruntime/include/onnxruntime_c_api.h").is_file());
}

#[test]
fn no_cargo_metadata_links_means_no_metadata_lines_and_rpath_can_be_turned_off() {
    let tmp = support::tempdir();
    let root = support::official_tree(tmp.path(), "ort", "1.22.0", X86_64);
    let mut vars = build_env(tmp.path(), X86_64);
    vars.push(var("ONNXRUNTIME_DIR", root.as_os_str()));
    let lib = config(vars).rpath(false).probe().unwrap();
    let d = lib.cargo_directives();
    assert!(!d.iter().any(|l| l.starts_with("cargo:version=") || l.starts_with("cargo:root=")), "{d:#?}");
    assert!(!d.iter().any(|l| l.contains("rpath")), "{d:#?}");
    assert!(d.contains(&"cargo:rustc-link-lib=dylib=onnxruntime".to_string()));
}

#[test]
fn a_directory_with_only_the_versioned_file_gets_link_name_and_soname_staged() {
    let tmp = support::tempdir();
    let lib_dir = tmp.path().join("bare/lib");
    support::build_standin(&lib_dir, "1.22.0", X86_64);
    let mut vars = build_env(tmp.path(), X86_64);
    vars.push(var("ONNXRUNTIME_LIB_DIR", lib_dir.as_os_str()));
    let lib = config(vars).probe().unwrap();
    let staged = tmp.path().join("out/onnxruntime/lib");
    for name in ["libonnxruntime.so", "libonnxruntime.so.1", "libonnxruntime.so.1.22.0"] {
        assert!(staged.join(name).exists(), "{name} staged");
    }
    assert_eq!(lib.origin, Origin::Variable { name: "ONNXRUNTIME_LIB_DIR".into(), path: lib_dir });
}

#[test]
fn target_suffixed_variables_win_over_plain_ones() {
    let tmp = support::tempdir();
    let good = support::official_tree(tmp.path(), "good", "1.22.0", X86_64);
    let other = support::official_tree(tmp.path(), "other", "1.21.0", X86_64);
    for name in ["ONNXRUNTIME_DIR_x86_64-unknown-linux-gnu", "ONNXRUNTIME_DIR_x86_64_unknown_linux_gnu"] {
        let mut vars = build_env(tmp.path(), X86_64);
        vars.push(var("ONNXRUNTIME_DIR", other.as_os_str()));
        vars.push(var(name, good.as_os_str()));
        let lib = config(vars).probe().unwrap();
        assert_eq!(lib.version, Version::new(1, 22, 0), "{name}");
        assert_eq!(lib.origin, Origin::Variable { name: name.into(), path: good.clone() });
    }
}

#[test]
fn bad_variables_stop_the_probe_and_name_the_variable() {
    let tmp = support::tempdir();
    let empty = tmp.path().join("empty");
    fs::create_dir_all(empty.join("lib")).unwrap();
    let arm = support::official_tree(tmp.path(), "arm", "1.22.0", AARCH64);
    let old = support::official_tree(tmp.path(), "old", "1.21.0", X86_64);
    // A usable library in a system dir must NOT be used instead: the variable is a promise.
    let fallback = support::official_tree(tmp.path(), "fallback", "1.22.0", X86_64);
    let cases: Vec<(&str, OsString, &str)> = vec![
        ("ONNXRUNTIME_DIR", tmp.path().join("missing").into(), "does not exist"),
        ("ONNXRUNTIME_DIR", empty.clone().into(), "no libonnxruntime.so*"),
        ("ONNXRUNTIME_LIB_DIR", empty.join("lib").into(), "no libonnxruntime.so*"),
        ("ONNXRUNTIME_DIR", arm.clone().into(), "wrong architecture"),
        ("ONNXRUNTIME_DIR", old.clone().into(), "wrong version: 1.21.0"),
        ("ONNXRUNTIME_DIR", "relative/path".into(), "relative path"),
        ("ONNXRUNTIME_INCLUDE_DIR", tmp.path().join("no-include").into(), "does not exist"),
    ];
    for (name, value, words) in cases {
        let mut vars = build_env(tmp.path(), X86_64);
        vars.push(var(name, value.clone()));
        let err = config(vars).version("1.22").system_dirs([fallback.join("lib")]).probe().unwrap_err();
        let text = err.to_string();
        match &err {
            Error::BadVariable { variable, value: v, .. } => {
                assert_eq!(variable, name);
                assert_eq!(v.as_os_str(), value.as_os_str());
            }
            other => panic!("{name}={value:?}: expected BadVariable, got {other}"),
        }
        assert!(text.contains(name) && text.contains(words), "{name}: {text}");
        assert!(text.contains("HINT:"), "{text}");
        assert_eq!(format!("{err:?}").trim(), text.trim(), "Debug prints the guide");
    }
}

#[test]
fn empty_values_count_as_unset() {
    let tmp = support::tempdir();
    let sys = support::official_tree(tmp.path(), "sys", "1.22.0", X86_64);
    let mut vars = build_env(tmp.path(), X86_64);
    vars.push(var("ONNXRUNTIME_DIR", ""));
    vars.push(var("ONNXRUNTIME_VERSION", ""));
    vars.push(var("ONNXRUNTIME_SOURCES", ""));
    let lib = config(vars).system_dirs([sys.join("lib")]).probe().unwrap();
    assert_eq!(lib.origin, Origin::System { dir: sys.join("lib") });
}

/// The system source looks for `include/` beside a directory only once it holds the library, and then
/// finds it: the headers are handed on, and give the release where nothing else does.
#[test]
fn a_system_directory_brings_the_headers_beside_it() {
    let tmp = support::tempdir();
    let sys = support::official_tree(tmp.path(), "sys", "1.22.0", X86_64);
    let mut vars = build_env(tmp.path(), X86_64);
    vars.push(var("ONNXRUNTIME_SOURCES", "system"));
    let empty = tmp.path().join("empty/lib");
    fs::create_dir_all(&empty).unwrap();
    let lib = config(vars.clone()).system_dirs([empty.clone(), sys.join("lib")]).probe().unwrap();
    assert_eq!(lib.origin, Origin::System { dir: sys.join("lib") });
    let include = lib.include_dir.expect("the headers beside the system directory");
    assert!(include.join("onnxruntime_c_api.h").is_file(), "{}", include.display());

    // A library with no version of its own (no version node, an unversioned name, no VERSION_NUMBER):
    // only the header beside it can name the release.
    let bare = tmp.path().join("bare");
    fs::create_dir_all(bare.join("lib")).unwrap();
    let src = tmp.path().join("bare.c");
    fs::write(&src, support::STANDIN_C).unwrap();
    let built = support::compiler(X86_64)
        .args(["-shared", "-fPIC", "-DORT_STANDIN_VERSION=\"1.22.0\"", "-o"])
        .arg(bare.join("lib/libonnxruntime.so"))
        .arg(&src)
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let err = config(vars.clone()).system_dirs([bare.join("lib")]).probe().unwrap_err().to_string();
    assert!(err.contains("VERSION_NUMBER") && !err.contains("onnxruntime_c_api.h"), "no headers to look at: {err}");
    support::write_release_files(&bare, "1.22.0");
    fs::remove_file(bare.join("VERSION_NUMBER")).unwrap();
    let lib = config(vars).system_dirs([bare.join("lib")]).probe().unwrap();
    assert_eq!(lib.version, Version::new(1, 22, 0), "from ORT_API_VERSION 22 in the header beside it");
    assert_eq!(lib.include_dir.map(|d| d.join("onnxruntime_c_api.h").is_file()), Some(true));
}

#[test]
fn sources_are_tried_in_order() {
    let tmp = support::tempdir();
    let via_env = support::official_tree(tmp.path(), "env", "1.22.0", X86_64);
    let via_system = support::official_tree(tmp.path(), "sys", "1.22.1", X86_64);
    let probe = |sources: Option<&str>, builder: Option<Vec<SourceKind>>| {
        let mut vars = build_env(tmp.path(), X86_64);
        vars.push(var("ONNXRUNTIME_DIR", via_env.as_os_str()));
        if let Some(s) = sources {
            vars.push(var("ONNXRUNTIME_SOURCES", s));
        }
        let mut c = config(vars);
        c.system_dirs([via_system.join("lib")]);
        if let Some(b) = builder {
            c.sources(b);
        }
        c.probe().unwrap().version
    };
    assert_eq!(probe(None, None), Version::new(1, 22, 0), "env comes first by default");
    assert_eq!(probe(Some("system,env"), None), Version::new(1, 22, 1));
    assert_eq!(probe(None, Some(vec![SourceKind::System])), Version::new(1, 22, 1));
    assert_eq!(probe(Some("env"), Some(vec![SourceKind::System])), Version::new(1, 22, 0), "the variable wins");
}

#[test]
fn system_dirs_refuse_wrong_versions_and_go_on() {
    let tmp = support::tempdir();
    let old = support::official_tree(tmp.path(), "old", "1.21.0", X86_64);
    let new = support::official_tree(tmp.path(), "new", "1.22.3", X86_64);
    let mut vars = build_env(tmp.path(), X86_64);
    vars.push(var("ONNXRUNTIME_SOURCES", "system"));
    let lib = config(vars.clone()).version("1.22").system_dirs([old.join("lib"), new.join("lib")]).probe().unwrap();
    assert_eq!(lib.version, Version::new(1, 22, 3));

    // ONNXRUNTIME_VERSION overrides build.rs; nothing fits → NotFound listing both verdicts.
    vars.push(var("ONNXRUNTIME_VERSION", "=1.23.0"));
    let err = config(vars).version("1.22").system_dirs([old.join("lib"), new.join("lib")]).probe().unwrap_err();
    let Error::NotFound(report) = &err else { panic!("expected NotFound, got {err}") };
    let verdicts: Vec<&Verdict> = report.attempts.iter().map(|a| &a.verdict).collect();
    assert!(matches!(verdicts[0], Verdict::WrongVersion { found, .. } if *found == Version::new(1, 21, 0)));
    assert!(matches!(verdicts[1], Verdict::WrongVersion { found, .. } if *found == Version::new(1, 22, 3)));
    let text = err.to_string();
    assert!(text.contains("=1.23.0") && text.contains("1.21.0") && text.contains("ONNXRUNTIME_VERSION"), "{text}");
}

#[test]
fn cross_compiling_refuses_host_libraries_and_accepts_target_ones() {
    let tmp = support::tempdir();
    let host_only = support::official_tree(tmp.path(), "host", "1.22.0", X86_64);
    let mut vars = build_env(tmp.path(), AARCH64);
    vars.push(var("ONNXRUNTIME_SOURCES", "env,system"));
    let err = config(vars.clone()).system_dirs([host_only.join("lib")]).probe().unwrap_err();
    let text = err.to_string();
    let Error::NotFound(report) = &err else { panic!("expected NotFound, got {err}") };
    assert!(
        report
            .attempts
            .iter()
            .any(|a| matches!(&a.verdict, Verdict::WrongArch { expected, .. } if expected.contains("aarch64"))),
        "{text}"
    );
    assert!(text.contains("cross-compiling") && text.contains("x86-64"), "{text}");

    let target_lib = support::official_tree(tmp.path(), "target", "1.22.0", AARCH64);
    let lib = config(vars).system_dirs([host_only.join("lib"), target_lib.join("lib")]).probe().unwrap();
    assert_eq!(lib.target, AARCH64);
    assert_eq!(lib.origin, Origin::System { dir: target_lib.join("lib") });
}

#[test]
fn nothing_found_lists_every_source_and_the_fix() {
    let tmp = support::tempdir();
    let mut vars = build_env(tmp.path(), X86_64);
    vars.push(var("ONNXRUNTIME_SOURCES", "env,system"));
    let err = config(vars).version("1.22").system_dirs([tmp.path().join("nothing-here")]).probe().unwrap_err();
    let text = err.to_string();
    for words in ["could not find ONNX Runtime 1.22", "env", "system", "ONNXRUNTIME_DIR", "HINT:", "download"] {
        assert!(text.contains(words), "missing {words:?} in:\n{text}");
    }
}

#[test]
fn invalid_settings_are_errors() {
    let tmp = support::tempdir();
    for (name, value) in [
        ("ONNXRUNTIME_VERSION", "one.two"),
        ("ONNXRUNTIME_SOURCES", "env,ftp"),
        ("ONNXRUNTIME_VARIANT", "rocm"),
        ("ONNXRUNTIME_STATIC", "maybe"),
        ("ONNXRUNTIME_OFFLINE", "perhaps"),
    ] {
        let mut vars = build_env(tmp.path(), X86_64);
        vars.push(var(name, value));
        let err = config(vars).probe().unwrap_err();
        assert!(matches!(err, Error::InvalidSetting { .. }), "{name}: {err}");
        assert!(err.to_string().contains(name) && err.to_string().contains(value), "{err}");
    }
    let err = config(build_env(tmp.path(), X86_64)).version(">=").probe().unwrap_err();
    assert!(matches!(err, Error::InvalidSetting { .. }) && err.to_string().contains("`>=`"), "{err}");
}

#[test]
fn docs_rs_succeeds_and_emits_nothing() {
    let lib = config(vec![var("DOCS_RS", "1"), var("TARGET", X86_64)]).probe().unwrap();
    assert!(lib.is_skipped());
    assert!(lib.cargo_directives().is_empty());
}

#[test]
fn paths_with_spaces_and_non_utf8_bytes_work() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = support::tempdir();
    let odd = tmp.path().join(std::ffi::OsStr::from_bytes(b"with space \xff"));
    let root = support::official_tree(&odd, "onnxruntime", "1.22.0", X86_64);
    let mut vars = build_env(tmp.path(), X86_64);
    vars.push(var("ONNXRUNTIME_DIR", root.as_os_str()));
    vars.push(var("CARGO_MANIFEST_LINKS", "onnxruntime"));
    let lib = config(vars).probe().unwrap();
    // Everything cargo must read is inside OUT_DIR (UTF-8); the staged links lead to the odd path.
    assert!(lib.cargo_directives().iter().all(|l| !l.contains('\u{fffd}')));
    assert_eq!(fs::canonicalize(lib.lib_dir.join("libonnxruntime.so")).unwrap(), lib.library_file);
    assert!(lib.library_file.starts_with(fs::canonicalize(&odd).unwrap()));
}

#[test]
fn static_builds_link_every_archive_then_the_cxx_runtime() {
    let tmp = support::tempdir();
    let build = support::static_build_tree(tmp.path(), "1.22.0", X86_64);
    let mut vars = build_env(tmp.path(), X86_64);
    vars.push(var("ONNXRUNTIME_LIB_DIR", build.as_os_str()));
    let lib = config(vars.clone()).static_link(true).probe().unwrap();
    assert_eq!(lib.link, LinkKind::Static);
    assert_eq!(lib.version, Version::new(1, 22, 0));
    assert!(lib.runtime_files.is_empty(), "nothing to load at run time");
    let lines: Vec<&String> = lib.cargo_directives().iter().filter(|l| l.starts_with("cargo:rustc-link-")).collect();
    let expected = [
        format!("cargo:rustc-link-search=native={}", tmp.path().join("out/onnxruntime/lib").display()),
        "cargo:rustc-link-lib=static=onnxruntime_common".into(),
        "cargo:rustc-link-lib=static=onnxruntime_session".into(),
        "cargo:rustc-link-lib=static=foo".into(),
        "cargo:rustc-link-lib=dylib=stdc++".into(),
        "cargo:rustc-link-lib=dylib=pthread".into(),
        "cargo:rustc-link-lib=dylib=dl".into(),
        "cargo:rustc-link-lib=dylib=m".into(),
    ];
    assert_eq!(lines, expected.iter().collect::<Vec<_>>());

    // ONNXRUNTIME_STATIC and ONNXRUNTIME_CXX_STDLIB from the environment.
    vars.push(var("ONNXRUNTIME_STATIC", "1"));
    vars.push(var("ONNXRUNTIME_CXX_STDLIB", "c++"));
    let lib = config(vars.clone()).probe().unwrap();
    assert!(lib.cargo_directives().contains(&"cargo:rustc-link-lib=dylib=c++".to_string()));
    vars.push(var("ONNXRUNTIME_CXX_STDLIB_x86_64-unknown-linux-gnu", "none"));
    let lib = config(vars).probe().unwrap();
    assert!(!lib.cargo_directives().iter().any(|l| l.contains("c++") || l.contains("stdc++")));
}

#[test]
fn static_archives_of_another_architecture_are_refused() {
    let tmp = support::tempdir();
    let build = support::static_build_tree(tmp.path(), "1.22.0", AARCH64);
    let mut vars = build_env(tmp.path(), X86_64);
    vars.push(var("ONNXRUNTIME_LIB_DIR", build.as_os_str()));
    vars.push(var("ONNXRUNTIME_STATIC", "1"));
    let err = config(vars.clone()).probe().unwrap_err();
    assert!(matches!(&err, Error::BadVariable { verdict: Verdict::WrongArch { .. }, .. }), "{err}");
    // A shared-only install has nothing to link statically.
    let shared = support::official_tree(tmp.path(), "shared", "1.22.0", X86_64);
    vars.retain(|(n, _)| n != "ONNXRUNTIME_LIB_DIR");
    vars.push(var("ONNXRUNTIME_DIR", shared.as_os_str()));
    let err = config(vars).probe().unwrap_err();
    assert!(err.to_string().contains("no libonnxruntime.a or libonnxruntime_*.a"), "{err}");
}

#[test]
fn a_rerun_with_the_same_library_keeps_the_staged_directory_and_another_one_replaces_it() {
    use std::os::unix::fs::MetadataExt;
    let tmp = support::tempdir();
    let first = support::official_tree(tmp.path(), "first", "1.22.0", X86_64);
    let second = support::official_tree(tmp.path(), "second", "1.22.0", X86_64);
    let staged = tmp.path().join("out/onnxruntime");
    let probe = |root: &Path| {
        let mut vars = build_env(tmp.path(), X86_64);
        vars.push(var("ONNXRUNTIME_DIR", root.as_os_str()));
        config(vars).probe().unwrap()
    };
    let lib = probe(&first);
    let inode = fs::metadata(&staged).unwrap().ino();
    assert_eq!(probe(&first).lib_dir, lib.lib_dir);
    assert_eq!(fs::metadata(&staged).unwrap().ino(), inode, "an up-to-date staged directory is left alone");

    // A stray file makes it out of date, and so does another library.
    fs::write(staged.join("lib/stray"), b"").unwrap();
    probe(&first);
    assert!(!staged.join("lib/stray").exists());
    let lib = probe(&second);
    assert_eq!(lib.library_file, fs::canonicalize(second.join("lib/libonnxruntime.so.1.22.0")).unwrap());
    for name in ["libonnxruntime.so", "libonnxruntime.so.1", "libonnxruntime.so.1.22.0"] {
        assert_eq!(fs::canonicalize(staged.join("lib").join(name)).unwrap(), lib.library_file);
    }
    assert_eq!(fs::canonicalize(staged.join("include")).unwrap(), fs::canonicalize(second.join("include")).unwrap());
}

#[test]
fn only_a_real_install_root_is_reported_as_the_root() {
    let tmp = support::tempdir();
    // A library directory whose parent is not an install root (a CMake build tree, a multiarch dir).
    let build = tmp.path().join("build/Linux/Release");
    support::build_standin(&build, "1.22.0", X86_64);
    let mut vars = build_env(tmp.path(), X86_64);
    vars.push(var("ONNXRUNTIME_LIB_DIR", build.as_os_str()));
    vars.push(var("CARGO_MANIFEST_LINKS", "onnxruntime"));
    let lib = config(vars.clone()).probe().unwrap();
    assert_eq!(lib.root, None);
    assert!(!lib.cargo_directives().iter().any(|l| l.starts_with("cargo:root=")), "{:#?}", lib.cargo_directives());

    // The lib/ of an install: its parent is the root.
    let tree = support::official_tree(tmp.path(), "onnxruntime", "1.22.0", X86_64);
    vars.retain(|(n, _)| n != "ONNXRUNTIME_LIB_DIR");
    vars.push(var("ONNXRUNTIME_LIB_DIR", tree.join("lib").as_os_str()));
    assert_eq!(config(vars).probe().unwrap().root, Some(tree));
}

/// A rerun of the build script takes what inspection read (the library's headers, the directory's
/// names) out of `OUT_DIR` rather than reading it again, until the file or directory changes. Shown by
/// editing the memo (the edit is believed), then changing the library's status-change time alone, then
/// adding a file to the directory (the memo is no longer trusted either time).
#[cfg(unix)]
#[test]
fn what_inspection_read_is_remembered_until_it_changes() {
    use std::os::unix::fs::PermissionsExt;

    let tmp = support::tempdir();
    let (root, vars) = release_named_by_env(tmp.path());
    let memo = tmp.path().join("out/onnxruntime-provision-inspected");
    let probe = || config(vars.clone()).version("1.22").probe();
    let version = || probe().unwrap().version;

    // Just changed (the library's mode, the directory's names, however long building them took): a
    // second change in the same clock tick could go unseen, so nothing is remembered.
    let library = fs::canonicalize(root.join("lib/libonnxruntime.so")).unwrap();
    let mode = fs::metadata(&library).unwrap().permissions().mode();
    fs::set_permissions(&library, fs::Permissions::from_mode(mode | 0o004)).unwrap();
    fs::write(root.join("lib/NOTES"), "changed").unwrap();
    assert_eq!(version(), Version::new(1, 22, 0));
    assert!(!memo.exists(), "a library changed a moment ago was remembered");

    // Left alone for two seconds (the crate's settling time): read once more, and remembered.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(version(), Version::new(1, 22, 0));
    let text = fs::read_to_string(&memo).unwrap();
    let line = |kind: &str| text.lines().find(|l| l.contains(kind)).unwrap_or_else(|| panic!("{kind} in {text}"));
    assert!(line("\tbinary\t").ends_with("\t=libonnxruntime.so.1\t\tVERS_1.22.0"), "{text}");
    let listing = line("\tlisting\t");
    assert!(
        listing.contains("\tlisting\tlibonnxruntime.so\tlibonnxruntime.so.1\tlibonnxruntime.so.1.22.0\t"),
        "{text}"
    );

    // The library: an edited version is believed, until the file changes in any way (here its mode).
    fs::write(&memo, text.replace("VERS_1.22.0", "VERS_1.22.7")).unwrap();
    assert_eq!(version(), Version::new(1, 22, 7), "the library's entry was not used");
    fs::set_permissions(&library, fs::Permissions::from_mode(mode ^ 0o010)).unwrap();
    assert_eq!(version(), Version::new(1, 22, 0), "the library's entry outlived a change of the library");

    // The directory: an edited listing without the library is believed, until a name is added.
    let (key, _) = listing.split_once('\t').unwrap();
    fs::write(&memo, text.replace(listing, &format!("{key}\tlisting\tonnxruntime-notes.txt"))).unwrap();
    let error = probe().unwrap_err().to_string();
    assert!(error.contains("no libonnxruntime.so*") && error.contains("onnxruntime-notes.txt"), "{error}");
    fs::write(root.join("lib/README"), "added").unwrap();
    assert_eq!(version(), Version::new(1, 22, 0), "the listing outlived a change of the directory");
}

/// A rerun finds what it staged in `OUT_DIR` through the same memo, keyed by the identity of each
/// staged directory: an edited entry is believed (and here differs from what would be staged, so the
/// run stages afresh), and a staged link replaced behind the memo's back is put right.
#[cfg(unix)]
#[test]
fn staged_links_are_remembered_until_their_directory_changes() {
    use std::os::unix::fs::MetadataExt;

    let tmp = support::tempdir();
    let (root, vars) = release_named_by_env(tmp.path());
    let probe = || config(vars.clone()).version("1.22").probe().unwrap();
    let staged_lib = tmp.path().join("out/onnxruntime/lib");
    let memo = tmp.path().join("out/onnxruntime-provision-inspected");
    let inode = || fs::metadata(&staged_lib).unwrap().ino();
    // The memo's entry for the staged lib/ as it is now (its key's second field is the inode).
    let entry = || {
        let text = fs::read_to_string(&memo).unwrap_or_default();
        let line = text.lines().find(|l| {
            let mut fields = l.split('\t');
            let key = fields.next().unwrap_or_default();
            fields.next() == Some("links") && key.split(' ').nth(1) == Some(&inode().to_string())
        });
        line.map(str::to_string)
    };
    let real = fs::canonicalize(root.join("lib/libonnxruntime.so.1.22.0")).unwrap();

    probe();
    assert_eq!(entry(), None, "directories staged a moment ago were remembered");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let staged = inode();
    probe();
    assert_eq!(inode(), staged, "an unchanged staged directory was staged again");
    let line = entry().expect("the staged lib/ is remembered once it has settled");
    let link = format!("\tlibonnxruntime.so.1\t={}", real.display());
    assert!(line.contains(&link), "{line}");

    // The entry is what the run goes by: edited so one link leads elsewhere, it is staged afresh (a
    // new directory takes the old one's place), though nothing on disk changed.
    let text = fs::read_to_string(&memo).unwrap();
    fs::write(&memo, text.replace(&line, &line.replace(&link, "\tlibonnxruntime.so.1\t=/elsewhere"))).unwrap();
    probe();
    assert_ne!(inode(), staged, "the memo's entry was not used");

    // Settled and remembered again; then a link is replaced: its directory changed, so the entry is not
    // trusted, and the link leads to the library again.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    probe();
    assert!(entry().is_some(), "the new staged lib/ is remembered");
    let replaced = staged_lib.join("libonnxruntime.so.1");
    fs::remove_file(&replaced).unwrap();
    std::os::unix::fs::symlink("/elsewhere/libonnxruntime.so.1", &replaced).unwrap();
    probe();
    assert_eq!(fs::read_link(&replaced).unwrap(), real);
}

//! macOS and Windows layouts, judged and staged on this Linux machine with real ORT binaries: the
//! `onnxruntime-node` 1.30.0 npm package carries an arm64 Mach-O dylib and x64/arm64 PE DLLs
//! (`bash ci/test-assets.sh` fetches them into `.test-assets/`).

// Probes return the crate's full error report; its size does not matter in tests.
#![allow(clippy::result_large_err)]

mod support;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use onnxruntime_provision::{Config, Env, Error, Library, SourceKind, Verdict, Version};

const NODE: &str = ".test-assets/onnxruntime-node-1.30.0/bin/napi-v6";

fn asset(rel: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(NODE).join(rel);
    assert!(path.is_file(), "{} is missing: run `bash ci/test-assets.sh` first", path.display());
    path
}

/// A build-script environment for `target` whose OUT_DIR sits where cargo puts it
/// (`<target-dir>/<profile>/build/<pkg>-<hash>/out`), so copies next to executables can be checked.
fn build_env(tmp: &Path, target: &str, root: &Path) -> (Vec<(OsString, OsString)>, PathBuf) {
    let profile = tmp.join("target/debug");
    let out = profile.join("build/consumer-0123456789abcdef/out");
    fs::create_dir_all(&out).unwrap();
    let vars = vec![
        ("TARGET".into(), target.into()),
        ("HOST".into(), support::X86_64.into()),
        ("OUT_DIR".into(), out.into_os_string()),
        ("ONNXRUNTIME_DIR".into(), root.as_os_str().to_owned()),
    ];
    (vars, profile)
}

fn probe(vars: Vec<(OsString, OsString)>) -> Result<Library, Error> {
    Config::new().env(Env::from_vars(vars)).cargo_metadata(false).probe()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

/// A macOS install as the official archive has it: `lib/libonnxruntime.<ver>.dylib` and
/// `lib/libonnxruntime.dylib` pointing at it — but not `libonnxruntime.1.dylib`, the install name.
fn macos_tree(tmp: &Path) -> PathBuf {
    let root = tmp.join("onnxruntime-osx-arm64-1.30.0");
    fs::create_dir_all(root.join("lib")).unwrap();
    fs::copy(asset("darwin/arm64/libonnxruntime.1.30.0.dylib"), root.join("lib/libonnxruntime.1.30.0.dylib")).unwrap();
    support::symlink("libonnxruntime.1.30.0.dylib", &root.join("lib/libonnxruntime.dylib"));
    root
}

#[test]
fn macos_dylib_is_staged_under_its_install_name() {
    let tmp = support::tempdir();
    let root = macos_tree(tmp.path());
    let (vars, _) = build_env(tmp.path(), "aarch64-apple-darwin", &root);
    let lib = probe(vars).unwrap();
    // The version comes from the dylib's own LC_ID_DYLIB current_version.
    assert_eq!(lib.version, Version::new(1, 30, 0));
    assert_eq!(names(&lib.lib_dir), ["libonnxruntime.1.30.0.dylib", "libonnxruntime.1.dylib", "libonnxruntime.dylib"]);
    let staged = lib.lib_dir.to_str().unwrap();
    let link_lines: Vec<&str> =
        lib.cargo_directives().iter().map(String::as_str).filter(|l| !l.starts_with("cargo:rerun")).collect();
    assert_eq!(
        link_lines,
        [
            format!("cargo:rustc-link-search=native={staged}").as_str(),
            "cargo:rustc-link-lib=dylib=onnxruntime",
            format!("cargo:rustc-link-arg=-Wl,-rpath,{staged}").as_str(),
            format!("cargo:rustc-env=ONNXRUNTIME_LIB_PATH={staged}/libonnxruntime.1.dylib").as_str(),
        ]
    );
}

#[test]
fn macos_relocatable_builds_use_loader_path() {
    let tmp = support::tempdir();
    let root = macos_tree(tmp.path());
    let (vars, profile) = build_env(tmp.path(), "aarch64-apple-darwin", &root);
    let lib = Config::new().env(Env::from_vars(vars)).cargo_metadata(false).copy_to_target_dir(true).probe().unwrap();
    assert!(lib.cargo_directives().contains(&"cargo:rustc-link-arg=-Wl,-rpath,@loader_path".to_string()));
    assert!(
        profile.join("libonnxruntime.1.dylib").exists() && profile.join("deps/libonnxruntime.1.30.0.dylib").exists()
    );
}

#[test]
fn macos_wrong_architecture_is_refused() {
    let tmp = support::tempdir();
    let root = macos_tree(tmp.path());
    let (vars, _) = build_env(tmp.path(), "x86_64-apple-darwin", &root);
    let err = probe(vars).unwrap_err();
    match &err {
        Error::BadVariable { verdict: Verdict::WrongArch { found, expected, .. }, .. } => {
            assert!(found.contains("arm64") && expected.contains("x86_64"), "{err}");
        }
        other => panic!("expected a wrong-architecture refusal, got {other}"),
    }
}

/// An import library for `onnxruntime.dll`, made by LLVM's dlltool for `machine` (`i386:x86-64`, `arm64`).
fn import_lib(dir: &Path, machine: &str) -> PathBuf {
    let def = dir.join("onnxruntime.def");
    fs::write(&def, "LIBRARY onnxruntime.dll\nEXPORTS\n  OrtGetApiBase\n").unwrap();
    let lib = dir.join("onnxruntime.lib");
    let status = Command::new(support::llvm_tool("llvm-dlltool"))
        .args(["-m", machine, "-d"])
        .arg(&def)
        .arg("-l")
        .arg(&lib)
        .status()
        .unwrap();
    assert!(status.success());
    fs::remove_file(def).unwrap();
    lib
}

/// A Windows install: `lib/onnxruntime.dll` (real), its import library, `VERSION_NUMBER`.
fn windows_tree(tmp: &Path, dll_arch: &str, lib_machine: &str) -> PathBuf {
    let root = tmp.join(format!("onnxruntime-win-{dll_arch}-1.30.0"));
    let lib = root.join("lib");
    fs::create_dir_all(&lib).unwrap();
    fs::copy(asset(&format!("win32/{dll_arch}/onnxruntime.dll")), lib.join("onnxruntime.dll")).unwrap();
    import_lib(&lib, lib_machine);
    fs::write(root.join("VERSION_NUMBER"), "1.30.0\n").unwrap();
    root
}

#[test]
fn windows_links_the_import_library_and_copies_the_dll_beside_the_executables() {
    let tmp = support::tempdir();
    let root = windows_tree(tmp.path(), "x64", "i386:x86-64");
    let (vars, profile) = build_env(tmp.path(), "x86_64-pc-windows-msvc", &root);
    let lib = probe(vars).unwrap();
    assert_eq!(lib.version, Version::new(1, 30, 0));
    assert_eq!(names(&lib.lib_dir), ["onnxruntime.dll", "onnxruntime.lib"]);
    let d = lib.cargo_directives();
    assert!(d.contains(&format!("cargo:rustc-link-search=native={}", lib.lib_dir.display())));
    assert!(d.contains(&"cargo:rustc-link-lib=dylib=onnxruntime".to_string()));
    assert!(!d.iter().any(|l| l.contains("rpath")), "Windows has no rpath: {d:#?}");
    // The loader looks beside the executable: the DLL is there for binaries, tests and examples.
    for dir in [profile.clone(), profile.join("deps"), profile.join("examples")] {
        assert_eq!(fs::read(dir.join("onnxruntime.dll")).unwrap(), fs::read(root.join("lib/onnxruntime.dll")).unwrap());
        assert!(!dir.join("onnxruntime.lib").exists(), "import libraries are for linking only");
    }
}

#[test]
fn windows_refuses_dlls_and_import_libraries_of_another_architecture() {
    let tmp = support::tempdir();
    let arm_dll = windows_tree(&tmp.path().join("a"), "arm64", "arm64");
    let (vars, _) = build_env(&tmp.path().join("a"), "x86_64-pc-windows-msvc", &arm_dll);
    let err = probe(vars).unwrap_err();
    assert!(matches!(&err, Error::BadVariable { verdict: Verdict::WrongArch { .. }, .. }), "{err}");
    assert!(err.to_string().contains("arm64"), "{err}");

    let mixed = windows_tree(&tmp.path().join("b"), "x64", "arm64");
    let (vars, _) = build_env(&tmp.path().join("b"), "x86_64-pc-windows-msvc", &mixed);
    let err = probe(vars).unwrap_err();
    assert!(
        matches!(&err, Error::BadVariable { verdict: Verdict::WrongArch { file, .. }, .. } if file.ends_with("onnxruntime.lib")),
        "{err}"
    );

    let (vars, _) = build_env(&tmp.path().join("a"), "aarch64-pc-windows-msvc", &arm_dll);
    assert_eq!(probe(vars).unwrap().version, Version::new(1, 30, 0));
}

#[test]
fn windows_never_searches_system_directories() {
    let tmp = support::tempdir();
    let (mut vars, _) = build_env(tmp.path(), "x86_64-pc-windows-msvc", tmp.path());
    vars.retain(|(n, _)| n != "ONNXRUNTIME_DIR");
    let survey = Config::new().env(Env::from_vars(vars)).sources([SourceKind::System]).survey().unwrap();
    assert_eq!(survey.chosen, None);
    let attempt = &survey.report.attempts[0];
    assert!(matches!(&attempt.verdict, Verdict::Skipped { reason } if reason.contains("windows")), "{attempt:?}");
}

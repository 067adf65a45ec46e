//! `doctor`: the checked-in wasmtime 25 project (ort/ort-sys drifted to rc.15), a healthy `ort` project
//! after `env --for ort-sys --write`, the toolchain checks, a cross linker, a built executable whose
//! libonnxruntime resolves to another release, and Mach-O and PE executables linked with LLVM here
//! (read, never run) whose dylib dyld would or would not find, or whose `onnxruntime.dll` is or is not
//! beside them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::Run;
use super::support::llvm::{self, Dylib, ORT_INSTALL_NAME, PE_ARM64, PE_X64, PeMachine};
use super::support::{self, X86_64};

/// `doctor` with an empty `CARGO_HOME` (no registry sources: nothing leaks in from the machine), the
/// real rustc, and a fresh download cache.
fn doctor(tmp: &Path, args: &[&str]) -> Run {
    let home = tmp.join("cargo-home");
    fs::create_dir_all(&home).unwrap();
    Run::new(&[&["doctor"], args].concat())
        .env("CARGO_HOME", &home)
        .env("RUSTC", super::real_rustc())
        .env("ONNXRUNTIME_CACHE_DIR", tmp.join("cache"))
}

#[test]
fn the_wasmtime_25_project_gets_the_pins_and_the_native_requirement() {
    let tmp = support::tempdir();
    let project = super::copy_fixture("wasmtime25", tmp.path());
    let manifest = project.join("Cargo.toml");
    let ran = doctor(tmp.path(), &["--manifest-path", manifest.to_str().unwrap()]).output().expect(1);
    ran.stdout_has("PROBLEM  ort 2.0.0-rc.15 is not the release wasmtime-wasi-nn 25.0.3 was written for (it asks for ort `^2.0.0-rc.2`)")
        .stdout_has("cargo update -p ort --precise 2.0.0-rc.2\n")
        .stdout_has("cargo update -p ort-sys --precise 2.0.0-rc.2\n")
        .stdout_has("cargo onnxruntime env --for ort-sys --write")
        .stdout_has("ort-sys 2.0.0-rc.2 links a checked ONNX Runtime 1.17+")
        .stdout_has("a TLS feature must be configured")
        .stdout_has("ort-sys 2.0.0-rc.15 needs ONNX Runtime 1.17 or newer (C API 17)")
        .stdout_has("ok       wasmtime, wasmtime-wasi, wasmtime-wasi-nn and 14 other wasmtime-* crates are all on release line 25")
        .stdout_has("rust-version unknown for 290 locked crates")
        .stdout_has("2 problems");
    // The two update commands come in the order that works.
    let first = ran.stdout.find("cargo update -p ort --precise").unwrap();
    let second = ran.stdout.find("cargo update -p ort-sys --precise").unwrap();
    assert!(first < second);
}

#[test]
fn a_healthy_ort_project_exits_0_after_the_hand_off() {
    let tmp = support::tempdir();
    let project = super::copy_fixture("ort-rc10", tmp.path());
    let manifest = project.join("Cargo.toml");
    let root = support::official_tree(tmp.path(), "onnxruntime-linux-x64-1.22.0", "1.22.0", X86_64);

    // Nothing configured: ort-sys 2.0.0-rc.10 without download-binaries has nothing to link.
    let ran = doctor(tmp.path(), &["--manifest-path", manifest.to_str().unwrap()])
        .env("ONNXRUNTIME_DIR", &root)
        .output()
        .expect(1);
    ran.stdout_has(
        "PROBLEM  ort-sys 2.0.0-rc.10 needs ONNX Runtime 1.22 or newer (C API 22), and its build has none to link",
    )
    .stdout_has("an ONNX Runtime that serves it is here: 1.22.0")
    .stdout_has("  fix    cargo onnxruntime env --for ort-sys --write");

    // The fix, as printed, with a config that has content of its own.
    fs::create_dir_all(project.join(".cargo")).unwrap();
    let original = "# keep me\n[net]\nretry = 5 # flaky network\n";
    fs::write(project.join(".cargo/config.toml"), original).unwrap();
    Run::new(&["env", "--for", "ort-sys", "--write", "--manifest-path", manifest.to_str().unwrap()])
        .env("ONNXRUNTIME_DIR", &root)
        .output()
        .expect(0)
        .stdout_has("[env] ORT_LIB_LOCATION = ")
        .stdout_has("[target.x86_64-unknown-linux-gnu] rustflags rpath = ");
    let text = fs::read_to_string(project.join(".cargo/config.toml")).unwrap();
    assert!(text.starts_with(original), "{text}");
    assert!(text.contains(&format!("ORT_LIB_LOCATION = \"{}\"", root.join("lib").display())), "{text}");
    assert!(text.contains(&format!("\"link-arg=-Wl,-rpath,{}\"", root.join("lib").display())), "{text}");
    assert!(text.contains("\"link-arg=-Wl,--disable-new-dtags\""), "{text}");

    let ran = doctor(tmp.path(), &["--manifest-path", manifest.to_str().unwrap()]).output().expect(0);
    ran.stdout_has(&format!(
        "ok       ort-sys 2.0.0-rc.10 will link ONNX Runtime 1.22.0 from {}",
        root.join("lib").display()
    ))
    .stdout_has("0 problems");

    // The configured location holding a release that is too old is a problem again.
    let old = support::official_tree(&tmp.path().join("old"), "onnxruntime-linux-x64-1.20.0", "1.20.0", X86_64);
    let ran = doctor(tmp.path(), &["--manifest-path", manifest.to_str().unwrap()])
        .env("ORT_LIB_LOCATION", old.join("lib"))
        .output()
        .expect(1);
    ran.stdout_has("does not hold what ort-sys 2.0.0-rc.10 needs").stdout_has("wrong version: 1.20.0");
}

/// A `rustc` that says it is 1.80.0.
fn old_rustc(dir: &Path) -> PathBuf {
    let path = dir.join("rustc");
    fs::write(&path, "#!/bin/sh\necho 'rustc 1.80.0 (051478957 2024-07-21)'\n").unwrap();
    let mut perms = fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    fs::set_permissions(&path, perms).unwrap();
    path
}

#[test]
fn the_toolchain_against_edition_rust_version_and_locked_crates() {
    let tmp = support::tempdir();
    let project = super::copy_fixture("ort-rc10", tmp.path());
    // Sources cargo would have unpacked: ort-sys 2.0.0-rc.10 declares rust-version 1.81 (as published).
    let src = tmp.path().join("cargo-home/registry/src/index.example-0000/ort-sys-2.0.0-rc.10");
    fs::create_dir_all(&src).unwrap();
    fs::write(
        src.join("Cargo.toml"),
        "[package]\nname = \"ort-sys\"\nversion = \"2.0.0-rc.10\"\nrust-version = \"1.81\"\n",
    )
    .unwrap();
    let ran = doctor(tmp.path(), &["--manifest-path", project.join("Cargo.toml").to_str().unwrap()])
        .env("RUSTC", old_rustc(tmp.path()))
        .output()
        .expect(1);
    ran.stdout_has("ort-app: rust-version 1.85 is newer than rustc 1.80.0")
        .stdout_has("1 locked crate needs a newer rustc than rustc 1.80.0")
        .stdout_has("ort-sys 2.0.0-rc.10 needs rustc 1.81")
        .stdout_has("rustup update stable")
        .stdout_has("CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo update")
        .stdout_has("rust-version unknown for 3 locked crates");

    // The real rustc meets all of them.
    let ran = doctor(tmp.path(), &["--manifest-path", project.join("Cargo.toml").to_str().unwrap()]).output();
    ran.stdout_has("meets the rust-version of the 1 locked crate whose sources are here");
    assert!(!ran.stdout.contains("newer than rustc"), "{}", ran.stdout);
}

#[test]
fn a_cross_target_needs_a_configured_installed_linker() {
    let tmp = support::tempdir();
    let project = super::copy_fixture("ort-rc10", tmp.path());
    let manifest = project.join("Cargo.toml");
    let target = "aarch64-unknown-linux-gnu";
    let ran =
        doctor(tmp.path(), &["--manifest-path", manifest.to_str().unwrap(), "--target", target]).output().expect(1);
    ran.stdout_has("PROBLEM  no linker is configured for aarch64-unknown-linux-gnu")
        .stdout_has("linker = \"aarch64-linux-gnu-gcc\"")
        .stdout_has("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER");

    fs::create_dir_all(project.join(".cargo")).unwrap();
    fs::write(project.join(".cargo/config.toml"), format!("[target.{target}]\nlinker = \"no-such-gcc-for-tests\"\n"))
        .unwrap();
    let ran =
        doctor(tmp.path(), &["--manifest-path", manifest.to_str().unwrap(), "--target", target]).output().expect(1);
    ran.stdout_has("the linker for aarch64-unknown-linux-gnu is not installed: no-such-gcc-for-tests")
        .stdout_has("sudo apt-get install gcc-aarch64-linux-gnu");

    support::ensure_cross_toolchain();
    let ran = doctor(tmp.path(), &["--manifest-path", manifest.to_str().unwrap(), "--target", target])
        .env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER", "aarch64-linux-gnu-gcc")
        .output();
    ran.stdout_has("ok       linker for aarch64-unknown-linux-gnu: aarch64-linux-gnu-gcc (CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER)");
}

#[test]
fn a_binary_whose_library_resolves_to_another_release() {
    let tmp = support::tempdir();
    let linked = support::official_tree(&tmp.path().join("a"), "onnxruntime-linux-x64-1.22.0", "1.22.0", X86_64);
    let other = support::official_tree(&tmp.path().join("b"), "onnxruntime-linux-x64-1.23.2", "1.23.2", X86_64);
    // Linked against 1.22.0, but its RUNPATH leads to 1.23.2.
    let exe = support::version_printer(tmp.path(), &linked.join("lib"), Some(&other.join("lib")));

    let ran = doctor(tmp.path(), &["--binary", exe.to_str().unwrap()]).dir(tmp.path()).output().expect(1);
    let resolved = other.join("lib/libonnxruntime.so.1.23.2");
    ran.stdout_has("will not start: version `VERS_1.22.0' not found (required by it) in ")
        .stdout_has(resolved.to_str().unwrap())
        .stdout_has("via DT_RUNPATH")
        .stdout_has("defines VERS_1.23.2")
        .stdout_has("cargo onnxruntime env --for shell --version 1.22.0");
    // The loader agrees.
    let run = Command::new(&exe).env_remove("LD_LIBRARY_PATH").output().unwrap();
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("version `VERS_1.22.0' not found"), "{stderr}");

    // LD_LIBRARY_PATH comes before DT_RUNPATH: pointing it at the linked release fixes the program.
    let ran = doctor(tmp.path(), &["--binary", exe.to_str().unwrap()])
        .dir(tmp.path())
        .env("LD_LIBRARY_PATH", linked.join("lib"))
        .output()
        .expect(0);
    ran.stdout_has("loads libonnxruntime.so.1 from ")
        .stdout_has("(VERS_1.22.0; needs VERS_1.22.0)")
        .stdout_has("via LD_LIBRARY_PATH");
    let run = Command::new(&exe).env("LD_LIBRARY_PATH", linked.join("lib")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "ONNX Runtime 1.22.0\n");

    // Nowhere to be found.
    let lost = support::version_printer(&tmp.path().join("a"), &linked.join("lib"), Some(&tmp.path().join("nowhere")));
    let ran = doctor(tmp.path(), &["--binary", lost.to_str().unwrap()]).dir(tmp.path()).output().expect(1);
    ran.stdout_has("will not start: libonnxruntime.so.1 not found");
}

#[test]
fn malformed_project_files_are_findings_not_crashes() {
    let tmp = support::tempdir();
    let project = tmp.path().join("broken");
    fs::create_dir_all(&project).unwrap();
    fs::write(project.join("Cargo.toml"), "[package\nname = ").unwrap();
    fs::write(project.join("Cargo.lock"), "[[package]]\nname = 7\n").unwrap();
    let manifest = project.join("Cargo.toml");
    let ran = doctor(tmp.path(), &["--manifest-path", manifest.to_str().unwrap()]).output().expect(1);
    ran.stdout_has("PROBLEM  Cargo.lock cannot be read").stdout_has("PROBLEM  a Cargo.toml cannot be read");

    // env --write refuses a config it cannot parse, and leaves it as it was.
    fs::create_dir_all(project.join(".cargo")).unwrap();
    fs::write(project.join(".cargo/config.toml"), "[env\n").unwrap();
    let root = support::official_tree(tmp.path(), "onnxruntime-linux-x64-1.22.0", "1.22.0", X86_64);
    Run::new(&["env", "--for", "cargo-config", "--write", "--manifest-path", manifest.to_str().unwrap()])
        .env("ONNXRUNTIME_DIR", &root)
        .output()
        .expect(1)
        .stderr_has("is not valid TOML");
    assert_eq!(fs::read_to_string(project.join(".cargo/config.toml")).unwrap(), "[env\n");

    doctor(tmp.path(), &["--manifest-path", tmp.path().join("nope/Cargo.toml").to_str().unwrap()])
        .output()
        .expect(1)
        .stderr_has("no such file");
    doctor(tmp.path(), &["--binary", manifest.to_str().unwrap()])
        .dir(tmp.path())
        .output()
        .expect(1)
        .stdout_has("cannot be read as an executable");
}

/// `doctor --binary` with dyld's variables unset whatever the machine has (empty counts as unset).
fn doctor_binary(tmp: &Path, exe: &Path) -> Run {
    doctor(tmp, &["--binary", exe.to_str().unwrap()])
        .dir(tmp)
        .env("DYLD_LIBRARY_PATH", "")
        .env("DYLD_FALLBACK_LIBRARY_PATH", "")
}

/// A stand-in `libonnxruntime` dylib for `arch` in `dir`, named and versioned after `release`, with
/// `install_name`.
fn dylib(dir: &Path, arch: &str, release: &str, install_name: &str) -> PathBuf {
    let dylib = Dylib { arch, install_name, current_version: release, rpaths: &[] };
    llvm::macho_dylib(dir, &format!("libonnxruntime.{release}.dylib"), &dylib)
}

/// `tmp/app/bin/app` for `arch`, linked against `library` (which is not left anywhere the program
/// looks), with the rpaths `@executable_path/../lib` and `tmp/second/lib`.
fn macho_app(tmp: &Path, arch: &str, library: &Path) -> PathBuf {
    let second = tmp.join("second/lib");
    llvm::macho_executable(
        &tmp.join("app/bin"),
        "app",
        arch,
        &[library],
        &["@executable_path/../lib", second.to_str().unwrap()],
    )
}

/// [`macho_app`] linked against an x86_64 1.22.0 dylib with `install_name`, and that dylib copied as
/// `libonnxruntime.1.22.0.dylib` into `tmp/app/lib` (its first rpath). Returns the program and that dir.
fn app_beside_its_release(tmp: &Path, install_name: &str) -> (PathBuf, PathBuf) {
    let linked = dylib(&tmp.join("build"), "x86_64", "1.22.0", install_name);
    let exe = macho_app(tmp, "x86_64", &linked);
    let lib = tmp.join("app/lib");
    fs::create_dir_all(&lib).unwrap();
    fs::copy(&linked, lib.join("libonnxruntime.1.22.0.dylib")).unwrap();
    (exe, lib)
}

const RELEASE_NAME: &str = "@rpath/libonnxruntime.1.22.0.dylib";

#[test]
fn a_mach_o_program_finds_its_dylib_through_lc_rpath_or_dyld_library_path_first() {
    let tmp = support::tempdir();
    let (exe, lib) = app_beside_its_release(tmp.path(), RELEASE_NAME);

    let ran = doctor_binary(tmp.path(), &exe).output().expect(0);
    ran.stdout_has(&format!(
        "ok       {} loads {RELEASE_NAME} from {} (current version 1.22.0; linked against 1.22.0)\n  why    found via LC_RPATH @executable_path/../lib\n",
        exe.display(),
        lib.join("libonnxruntime.1.22.0.dylib").display()
    ))
    .stdout_has("0 problems, 0 warnings");

    // DYLD_LIBRARY_PATH comes before the rpaths.
    let preferred = tmp.path().join("preferred");
    fs::create_dir_all(&preferred).unwrap();
    fs::copy(lib.join("libonnxruntime.1.22.0.dylib"), preferred.join("libonnxruntime.1.22.0.dylib")).unwrap();
    let ran = doctor_binary(tmp.path(), &exe).env("DYLD_LIBRARY_PATH", &preferred).output().expect(0);
    ran.stdout_has(&format!(
        "from {} (current version 1.22.0",
        preferred.join("libonnxruntime.1.22.0.dylib").display()
    ))
    .stdout_has("found via DYLD_LIBRARY_PATH\n");

    // An older release under that name loads (macOS builds are not symbol-versioned) but may not serve
    // the C API the program asks for.
    let older = dylib(&tmp.path().join("older"), "x86_64", "1.21.0", RELEASE_NAME);
    fs::rename(&older, tmp.path().join("older/libonnxruntime.1.22.0.dylib")).unwrap();
    let ran = doctor_binary(tmp.path(), &exe).env("DYLD_LIBRARY_PATH", tmp.path().join("older")).output().expect(0);
    ran.stdout_has("WARNING  ")
        .stdout_has(": ONNX Runtime 1.21.0, older than the 1.22.0 it was linked against")
        .stdout_has("\"The requested API version [22] is not available\"");
}

#[test]
fn a_dylib_without_the_programs_arch_is_skipped_for_the_next_rpath() {
    let tmp = support::tempdir();
    let linked = dylib(&tmp.path().join("build"), "x86_64", "1.22.0", RELEASE_NAME);
    let exe = macho_app(tmp.path(), "x86_64", &linked);
    let first = tmp.path().join("app/lib");
    let second = tmp.path().join("second/lib");
    dylib(&first, "arm64", "1.22.0", RELEASE_NAME);
    fs::create_dir_all(&second).unwrap();
    fs::copy(&linked, second.join("libonnxruntime.1.22.0.dylib")).unwrap();

    let ran = doctor_binary(tmp.path(), &exe).output().expect(0);
    ran.stdout_has(&format!("from {} (current version 1.22.0", second.join("libonnxruntime.1.22.0.dylib").display()))
        .stdout_has(&format!("found via LC_RPATH {}\n", second.display()))
        .stdout_has(&format!(
            "{} (LC_RPATH @executable_path/../lib): skipped, it is Mach-O 64-bit arm64 (no x86_64 slice)",
            tmp.path().join("app/bin/../lib/libonnxruntime.1.22.0.dylib").display()
        ));

    // A universal dylib serves the program through its x86_64 slice.
    let arm = first.join("libonnxruntime.1.22.0.dylib");
    let universal = llvm::lipo(&tmp.path().join("universal.dylib"), &[&linked, &arm]);
    fs::rename(universal, &arm).unwrap();
    doctor_binary(tmp.path(), &exe).output().expect(0).stdout_has("found via LC_RPATH @executable_path/../lib\n");
}

#[test]
fn a_universal_program_is_checked_slice_by_slice() {
    let tmp = support::tempdir();
    let arm = dylib(&tmp.path().join("build"), "arm64", "1.22.0", RELEASE_NAME);
    let x86 = dylib(&tmp.path().join("build-x86"), "x86_64", "1.22.0", RELEASE_NAME);
    let rpaths = ["@executable_path/../lib"];
    let arm_exe = llvm::macho_executable(&tmp.path().join("build"), "app", "arm64", &[&arm], &rpaths);
    let x86_exe = llvm::macho_executable(&tmp.path().join("build-x86"), "app", "x86_64", &[&x86], &rpaths);
    let exe = llvm::lipo(&tmp.path().join("app/bin/universal"), &[&x86_exe, &arm_exe]);
    // Only the arm64 release is where the rpath leads.
    fs::create_dir_all(tmp.path().join("app/lib")).unwrap();
    fs::copy(&arm, tmp.path().join("app/lib/libonnxruntime.1.22.0.dylib")).unwrap();

    let ran = doctor_binary(tmp.path(), &exe).output().expect(1);
    ran.stdout_has(&format!(
        "PROBLEM  {} (x86_64 slice) will not start: Library not loaded: {RELEASE_NAME}",
        exe.display()
    ))
    .stdout_has("skipped, it is Mach-O 64-bit arm64 (no x86_64 slice)")
    .stdout_has(&format!("ok       {} (arm64 slice) loads {RELEASE_NAME} from ", exe.display()))
    .stdout_has("1 problem, 0 warnings");
}

#[test]
fn a_mach_o_program_whose_dylib_is_nowhere_is_library_not_loaded() {
    let tmp = support::tempdir();
    let linked = dylib(&tmp.path().join("build"), "arm64", "1.22.0", RELEASE_NAME);
    let exe = macho_app(tmp.path(), "arm64", &linked);
    let ran = doctor_binary(tmp.path(), &exe).output().expect(1);
    let tried =
        |dir: &Path, via: &str| format!("{} ({via}): no such file", dir.join("libonnxruntime.1.22.0.dylib").display());
    ran.stdout_has(&format!("PROBLEM  {} will not start: Library not loaded: {RELEASE_NAME}\n", exe.display()))
        .stdout_has("none has an arm64 libonnxruntime.1.22.0.dylib")
        .stdout_has("the program was linked against ONNX Runtime 1.22.0")
        .stdout_has(&tried(&tmp.path().join("app/bin/../lib"), "LC_RPATH @executable_path/../lib"))
        .stdout_has(&tried(
            &tmp.path().join("second/lib"),
            &format!("LC_RPATH {}", tmp.path().join("second/lib").display()),
        ))
        .stdout_has(&tried(Path::new("/usr/local/lib"), "dyld's default fallback directory"))
        .stdout_has(&tried(Path::new("/usr/lib"), "dyld's default fallback directory"))
        .stdout_has("cargo onnxruntime env --for shell --target aarch64-apple-darwin --version 1.22.0")
        .stdout_has("Config::copy_to_target_dir(true)")
        .stdout_has("1 problem, 0 warnings");

    // DYLD_FALLBACK_LIBRARY_PATH replaces the default fallback directories.
    let fallback = tmp.path().join("fallback");
    let ran = doctor_binary(tmp.path(), &exe).env("DYLD_FALLBACK_LIBRARY_PATH", &fallback).output().expect(1);
    ran.stdout_has(&tried(&fallback, "DYLD_FALLBACK_LIBRARY_PATH"));
    assert!(!ran.stdout.contains("/usr/local/lib"), "{}", ran.stdout);
}

#[test]
fn the_official_install_name_needs_a_file_the_archive_lacks() {
    // ORT's own dylibs are named `libonnxruntime.<version>.dylib` and say `@rpath/libonnxruntime.1.dylib`.
    let tmp = support::tempdir();
    let (exe, lib) = app_beside_its_release(tmp.path(), ORT_INSTALL_NAME);

    let ran = doctor_binary(tmp.path(), &exe).output().expect(1);
    ran.stdout_has(&format!("will not start: Library not loaded: {ORT_INSTALL_NAME}"))
        .stdout_has("the program was linked against ONNX Runtime 1.22.0")
        .stdout_has(&format!("{} has libonnxruntime.1.22.0.dylib but no libonnxruntime.1.dylib", lib.display()))
        .stdout_has(&format!("ln -s libonnxruntime.1.22.0.dylib {}", lib.join("libonnxruntime.1.dylib").display()));

    support::symlink("libonnxruntime.1.22.0.dylib", &lib.join("libonnxruntime.1.dylib"));
    doctor_binary(tmp.path(), &exe).output().expect(0).stdout_has(&format!(
        "from {} (current version 1.22.0; linked against 1.22.0)",
        lib.join("libonnxruntime.1.22.0.dylib").display()
    ));
}

/// `tmp/app/app.exe` for `machine`, importing `onnxruntime.dll` through the import library of a
/// stand-in built in `tmp/build` (so no DLL is beside it yet).
fn windows_app(tmp: &Path, machine: &PeMachine) -> (PathBuf, PathBuf) {
    let (dll, lib) = llvm::pe_standin(&tmp.join("build"), machine);
    (llvm::pe_executable(&tmp.join("app"), "app.exe", machine, Some(&lib)), dll)
}

#[test]
fn a_windows_program_without_its_dll_beside_it_gets_the_system32_copy() {
    let tmp = support::tempdir();
    let (exe, dll) = windows_app(tmp.path(), &PE_X64);
    let ran = doctor_binary(tmp.path(), &exe).output().expect(1);
    ran.stdout_has(&format!(
        "PROBLEM  {} will load the wrong onnxruntime.dll: none is beside it, so Windows' older System32 copy comes first",
        exe.display()
    ))
    .stdout_has("Windows 10 1809 and later ship Windows ML's own, older onnxruntime.dll in System32")
    .stdout_has("\"The requested API version [N] is not available\"")
    .stdout_has(&format!("{} (the executable's directory): no onnxruntime.dll", tmp.path().join("app").display()))
    .stdout_has(r"C:\Windows\System32 (the system directory): not on this machine")
    .stdout_has(&format!("into {}", tmp.path().join("app").display()))
    .stdout_has("onnxruntime_providers_shared.dll")
    .stdout_has("Config::copy_to_target_dir");

    // One in the current directory comes after System32's: still the wrong one.
    let ran = doctor_binary(tmp.path(), &exe).dir(&tmp.path().join("build")).output().expect(1);
    ran.stdout_has(&format!(
        "{} (the current directory): has onnxruntime.dll (PE32+ x86-64)",
        tmp.path().join("build").display()
    ));

    // Beside the executable (Windows matches names in any case), it is the one loaded.
    let beside = tmp.path().join("app/OnnxRuntime.dll");
    fs::copy(&dll, &beside).unwrap();
    doctor_binary(tmp.path(), &exe).output().expect(0).stdout_has(&format!(
        "ok       {} loads onnxruntime.dll from {} (PE32+ x86-64, beside the executable)",
        exe.display(),
        beside.display()
    ));
}

#[test]
fn an_arm64_dll_beside_an_x64_program_stops_it() {
    let tmp = support::tempdir();
    let (exe, _) = windows_app(tmp.path(), &PE_X64);
    let (arm64, _) = llvm::pe_standin(&tmp.path().join("arm64"), &PE_ARM64);
    fs::copy(&arm64, tmp.path().join("app/onnxruntime.dll")).unwrap();
    let ran = doctor_binary(tmp.path(), &exe).output().expect(1);
    ran.stdout_has(&format!(
        "PROBLEM  {} will not start: {} is PE32+ arm64, the program is PE32+ x86-64",
        exe.display(),
        tmp.path().join("app/onnxruntime.dll").display()
    ))
    .stdout_has("(0xc000007b)")
    .stdout_has("onnxruntime-win-x64-<version>.zip");
}

#[test]
fn a_windows_program_importing_no_onnxruntime_dll_gets_the_load_dynamic_note() {
    let tmp = support::tempdir();
    let exe = llvm::pe_executable(tmp.path(), "plain.exe", &PE_X64, None);
    let ran = doctor_binary(tmp.path(), &exe).output().expect(0);
    ran.stdout_has(&format!("WARNING  {} does not import onnxruntime.dll", exe.display()))
        .stdout_has("ort's load-dynamic")
        .stdout_has("ORT_DYLIB_PATH")
        .stdout_has("0 problems, 1 warning");
}

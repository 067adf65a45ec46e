//! The pkg-config source answers "not found" without running pkg-config when its search path holds no
//! `libonnxruntime.pc`, and runs it as before when one is there. Every run of pkg-config is seen through
//! `PKG_CONFIG` naming a compiled wrapper that logs its arguments and runs the real program (a script
//! would not do: scripts may set the search path themselves, so they are always run). The `pkg-config`
//! crate reads the process environment, so this file is its own test binary with a single test.
// Probes return the crate's full error report; its size does not matter in tests.
#![allow(clippy::result_large_err)]

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use onnxruntime_provision::{Config, Error, Origin, SourceKind, Verdict, Version};
use support::process_env::{set, unset};
use support::{AARCH64, X86_64};

fn probe() -> Result<onnxruntime_provision::Library, Error> {
    Config::new().sources([SourceKind::PkgConfig]).cargo_metadata(false).probe()
}

fn real_pkg_config() -> PathBuf {
    let found = Command::new("sh").args(["-c", "command -v pkg-config"]).output().unwrap();
    assert!(found.status.success(), "pkg-config is not installed: apt-get install pkg-config");
    fs::canonicalize(String::from_utf8(found.stdout).unwrap().trim_end()).unwrap()
}

/// `dir/pkg-config`: appends its arguments as a line to `log`, then runs `real` under the same name.
fn logging_wrapper(dir: &Path, log: &Path, real: &Path) -> PathBuf {
    let source = dir.join("wrapper.c");
    fs::write(
        &source,
        format!(
            "#include <stdio.h>\n#include <unistd.h>\n\
             int main(int argc, char **argv) {{\n\
               FILE *log = fopen({log:?}, \"a\");\n\
               if (!log) return 126;\n\
               for (int i = 1; i < argc; i++) fprintf(log, i > 1 ? \" %s\" : \"%s\", argv[i]);\n\
               fputc('\\n', log);\n\
               fclose(log);\n\
               execv({real:?}, argv);\n\
               return 127;\n\
             }}\n"
        ),
    )
    .unwrap();
    let program = dir.join("pkg-config");
    let status = support::compiler(X86_64).arg(&source).arg("-o").arg(&program).status().unwrap();
    assert!(status.success(), "compiling the wrapper failed");
    program
}

/// Waits until a program changed just now has settled: only then is what it says remembered (the
/// crate's memos keep nothing read from a file changed in the last 2 s).
fn settle() {
    std::thread::sleep(Duration::from_millis(2100));
}

/// The runs logged since the last call.
fn runs(log: &Path) -> Vec<String> {
    let text = fs::read_to_string(log).unwrap_or_default();
    let _ = fs::remove_file(log);
    text.lines().map(str::to_string).collect()
}

/// The official archives' `.pc`: its paths do not exist, so the `lib/` beside the `.pc` is used, found
/// through the `.pc`'s dir (ORT issues #22267, #24003).
fn official_pc(version: &str) -> String {
    format!(
        "prefix=/nonexistent/onnxruntime-build/install\nexec_prefix=${{prefix}}\nlibdir=${{prefix}}/lib64\n\
         includedir=${{prefix}}/include/onnxruntime\n\nName: onnxruntime\nDescription: ONNX runtime\n\
         Version: {version}\nLibs: -L${{libdir}} -lonnxruntime\nCflags: -I${{includedir}}\n"
    )
}

fn first_verdict(err: &Error) -> &Verdict {
    let Error::NotFound(report) = err else { panic!("expected NotFound, got {err}") };
    &report.attempts[0].verdict
}

#[test]
fn pkg_config_runs_only_when_a_pc_file_could_be_found() {
    let tmp = support::tempdir();
    let (out, pc_dir, wrap) = (tmp.path().join("out"), tmp.path().join("pc"), tmp.path().join("wrap"));
    for dir in [&out, &pc_dir, &wrap] {
        fs::create_dir_all(dir).unwrap();
    }
    let log = tmp.path().join("runs.log");
    let wrapper = logging_wrapper(&wrap, &log, &real_pkg_config());
    for name in ["PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR", "PKG_CONFIG_ALLOW_CROSS"] {
        unset(name);
    }
    set("TARGET", X86_64);
    set("HOST", X86_64);
    set("OUT_DIR", &out);
    set("PKG_CONFIG", &wrapper);
    set("PKG_CONFIG_PATH", &pc_dir);
    settle();

    // 1. No .pc anywhere, fresh OUT_DIR: one run, for the default path; not found, saying where it looked.
    let err = probe().unwrap_err();
    let Verdict::NotFound { detail } = first_verdict(&err) else { panic!("expected NotFound: {err}") };
    assert!(detail.contains(&pc_dir.display().to_string()) && detail.contains("PKG_CONFIG_PATH"), "{detail}");
    assert_eq!(runs(&log), ["--variable pc_path pkg-config"]);

    // 2. The next probe runs nothing.
    let again = probe().unwrap_err();
    assert_eq!(first_verdict(&again), first_verdict(&err), "the same verdict, word for word");
    assert_eq!(runs(&log), Vec::<String>::new());

    // 3. A .pc in PKG_CONFIG_PATH: pkg-config answers (its own two runs); where the .pc is (for the
    // correction) was known without asking.
    let root = support::official_tree(tmp.path(), "onnxruntime-linux-x64-1.22.0", "1.22.0", X86_64);
    let installed_pc = root.join("lib/pkgconfig");
    fs::create_dir_all(&installed_pc).unwrap();
    fs::write(installed_pc.join("libonnxruntime.pc"), official_pc("1.22.0")).unwrap();
    set("PKG_CONFIG_PATH", &installed_pc);
    let lib = probe().unwrap();
    assert_eq!(lib.version, Version::new(1, 22, 0));
    assert_eq!(
        lib.origin,
        Origin::PkgConfig { package: "libonnxruntime".into(), lib_dir: root.join("lib"), corrected: true }
    );
    assert_eq!(runs(&log), ["--libs --cflags libonnxruntime", "--modversion libonnxruntime"]);

    // 4. The same .pc through a linked dir: its pcfiledir is pkg-config's to spell, so it is asked.
    let linked = tmp.path().join("linked");
    std::os::unix::fs::symlink(&root, &linked).unwrap();
    set("PKG_CONFIG_PATH", linked.join("lib/pkgconfig"));
    let lib = probe().unwrap();
    assert_eq!(
        lib.origin,
        Origin::PkgConfig { package: "libonnxruntime".into(), lib_dir: linked.join("lib"), corrected: true }
    );
    assert_eq!(
        runs(&log),
        ["--libs --cflags libonnxruntime", "--modversion libonnxruntime", "--variable=pcfiledir libonnxruntime"]
    );

    // 5. A changed program (new modification time), once settled, is asked for its default path again, once.
    set("PKG_CONFIG_PATH", &pc_dir);
    fs::File::options()
        .write(true)
        .open(&wrapper)
        .unwrap()
        .set_modified(SystemTime::now() + Duration::from_secs(10))
        .unwrap();
    settle();
    assert!(matches!(first_verdict(&probe().unwrap_err()), Verdict::NotFound { .. }));
    assert_eq!(runs(&log), ["--variable pc_path pkg-config"]);
    probe().unwrap_err();
    assert_eq!(runs(&log), Vec::<String>::new());

    // 6. A corrupt memo is replaced.
    let memo = out.join("onnxruntime-provision-pkg-config-path");
    assert!(memo.is_file(), "the memo is in OUT_DIR");
    fs::write(&memo, "half a memo").unwrap();
    probe().unwrap_err();
    assert_eq!(runs(&log), ["--variable pc_path pkg-config"]);
    probe().unwrap_err();
    assert_eq!(runs(&log), Vec::<String>::new());

    // 7. Cross-compiling without PKG_CONFIG_ALLOW_CROSS (nor PKG_CONFIG): the crate's refusal, as before.
    unset("PKG_CONFIG");
    set("TARGET", AARCH64);
    let err = probe().unwrap_err();
    assert!(
        matches!(first_verdict(&err), Verdict::Skipped { reason } if reason.contains("PKG_CONFIG_SYSROOT_DIR")),
        "{err}"
    );
    // …and with PKG_CONFIG set it is taken as set up for the target: searched, and not found.
    set("PKG_CONFIG", &wrapper);
    assert!(matches!(first_verdict(&probe().unwrap_err()), Verdict::NotFound { .. }));
    assert_eq!(runs(&log), Vec::<String>::new());
}

//! The pkg-config source through the real `pkg-config` program. The `pkg-config` crate reads its
//! variables from the process environment, so this file is its own test binary with a single test
//! that sets them, one scenario after another (no other test shares the process).
// Probes return the crate's full error report; its size does not matter in tests.
#![allow(clippy::result_large_err)]

mod support;

use std::fs;
use std::path::Path;

use onnxruntime_provision::{Config, Error, Origin, SourceKind, Verdict, Version};
use support::process_env::{set, unset};
use support::{AARCH64, X86_64};

/// The `.pc` file the official Linux archives ship: a hard-coded prefix, `lib64` and
/// `include/onnxruntime`, none of which exist beside it (ORT issues #22267, #24003, …).
fn official_pc(version: &str) -> String {
    format!(
        "prefix=/nonexistent/onnxruntime-build/install\nexec_prefix=${{prefix}}\nlibdir=${{prefix}}/lib64\n\
         includedir=${{prefix}}/include/onnxruntime\n\nName: onnxruntime\nDescription: ONNX runtime\n\
         Version: {version}\nLibs: -L${{libdir}} -lonnxruntime\nCflags: -I${{includedir}}\n"
    )
}

fn correct_pc(root: &Path, version: &str) -> String {
    format!(
        "prefix={}\nlibdir=${{prefix}}/lib\nincludedir=${{prefix}}/include\n\nName: onnxruntime\n\
         Description: ONNX runtime\nVersion: {version}\nLibs: -L${{libdir}} -lonnxruntime\nCflags: -I${{includedir}}\n",
        root.display()
    )
}

fn probe() -> Result<onnxruntime_provision::Library, Error> {
    Config::new().sources([SourceKind::PkgConfig]).cargo_metadata(false).probe()
}

#[test]
fn pkg_config_source() {
    assert!(support::which("pkg-config"), "pkg-config is not installed: apt-get install pkg-config");
    let tmp = support::tempdir();
    let out = tmp.path().join("out");
    fs::create_dir_all(&out).unwrap();
    for name in
        ["PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR", "PKG_CONFIG", "PKG_CONFIG_ALLOW_CROSS"]
    {
        unset(name);
    }
    set("TARGET", X86_64);
    set("HOST", X86_64);
    set("OUT_DIR", &out);

    // 1. The official archive's broken .pc: corrected to the real lib/ and include/ beside it.
    let root = support::official_tree(tmp.path(), "onnxruntime-linux-x64-1.22.0", "1.22.0", X86_64);
    let pc_dir = root.join("lib/pkgconfig");
    fs::create_dir_all(&pc_dir).unwrap();
    fs::write(pc_dir.join("libonnxruntime.pc"), official_pc("1.22.0")).unwrap();
    set("PKG_CONFIG_PATH", &pc_dir);
    let lib = probe().unwrap();
    assert_eq!(lib.version, Version::new(1, 22, 0));
    assert_eq!(
        lib.origin,
        Origin::PkgConfig { package: "libonnxruntime".into(), lib_dir: root.join("lib"), corrected: true }
    );
    assert!(lib.include_dir.as_ref().unwrap().join("onnxruntime_c_api.h").is_file());
    assert!(lib.cargo_directives().contains(&"cargo:rerun-if-env-changed=PKG_CONFIG_PATH".to_string()));

    // 1b. The official .pc's prefix as it really is (/usr/local): its lib64 may exist, holding other
    // libraries (Fedora, openSUSE). Existing is not enough; the real lib/ beside the .pc is used.
    let fake_prefix = tmp.path().join("usr-local");
    fs::create_dir_all(fake_prefix.join("lib64")).unwrap();
    fs::write(fake_prefix.join("lib64/libz.so.1"), b"").unwrap();
    fs::create_dir_all(fake_prefix.join("include/onnxruntime")).unwrap();
    let realistic =
        official_pc("1.22.0").replace("/nonexistent/onnxruntime-build/install", fake_prefix.to_str().unwrap());
    fs::write(pc_dir.join("libonnxruntime.pc"), realistic).unwrap();
    let lib = probe().unwrap();
    assert_eq!(
        lib.origin,
        Origin::PkgConfig { package: "libonnxruntime".into(), lib_dir: root.join("lib"), corrected: true }
    );
    assert_eq!(lib.root.as_deref(), Some(root.as_path()));
    assert!(
        lib.include_dir.as_ref().unwrap().join("onnxruntime_c_api.h").is_file(),
        "the empty include/onnxruntime is passed over"
    );

    // 2. A correct .pc is used as written.
    fs::write(pc_dir.join("libonnxruntime.pc"), correct_pc(&root, "1.22.0")).unwrap();
    let lib = probe().unwrap();
    assert_eq!(
        lib.origin,
        Origin::PkgConfig { package: "libonnxruntime".into(), lib_dir: root.join("lib"), corrected: false }
    );

    // 3. The library itself decides the version, whatever the .pc claims.
    fs::write(pc_dir.join("libonnxruntime.pc"), correct_pc(&root, "1.30.0")).unwrap();
    assert_eq!(probe().unwrap().version, Version::new(1, 22, 0));

    // 4. Not found: the report says so and names the package.
    let empty = tmp.path().join("empty-pc");
    fs::create_dir_all(&empty).unwrap();
    set("PKG_CONFIG_PATH", &empty);
    let err = probe().unwrap_err();
    let Error::NotFound(report) = &err else { panic!("expected NotFound, got {err}") };
    assert!(matches!(report.attempts[0].verdict, Verdict::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("libonnxruntime"), "{err}");

    // 5. pkg-config missing: skipped with the reason.
    set("PKG_CONFIG_PATH", &pc_dir);
    set("PKG_CONFIG", tmp.path().join("no-such-pkg-config"));
    let err = probe().unwrap_err();
    let Error::NotFound(report) = &err else { panic!("expected NotFound, got {err}") };
    assert!(
        matches!(&report.attempts[0].verdict, Verdict::Skipped { reason } if reason.contains("could not run")),
        "{err}"
    );
    unset("PKG_CONFIG");

    // 6. Cross-compiling without a sysroot: pkg-config refuses to answer for the host, and says how.
    set("TARGET", AARCH64);
    let err = probe().unwrap_err();
    let Error::NotFound(report) = &err else { panic!("expected NotFound, got {err}") };
    assert!(
        matches!(&report.attempts[0].verdict, Verdict::Skipped { reason } if reason.contains("PKG_CONFIG_SYSROOT_DIR")),
        "{err}"
    );

    // 7. …and with cross pkg-config allowed, a host library found through it is refused for its arch.
    set("PKG_CONFIG_ALLOW_CROSS", "1");
    let err = probe().unwrap_err();
    let Error::NotFound(report) = &err else { panic!("expected NotFound, got {err}") };
    assert!(matches!(&report.attempts[0].verdict, Verdict::WrongArch { .. }), "{err}");
}

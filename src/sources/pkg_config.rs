//! The `pkg-config` source: `libonnxruntime.pc`, through the `pkg-config` crate and its
//! cross-compilation rules (`PKG_CONFIG_SYSROOT_DIR`, `PKG_CONFIG_ALLOW_CROSS`, `PKG_CONFIG_PATH_<target>`).
//!
//! The `.pc` shipped in the official Linux archives is broken: `libdir=${prefix}/lib64` and
//! `includedir=${prefix}/include/onnxruntime` under a hard-coded prefix, while the archive has `lib/`
//! and `include/` (ORT issues #22267, #23483, #24003, #25279, #26186). So the paths are checked, and
//! when they do not exist the real `lib/` and `include/` beside the `.pc` file are used.
//!
//! The `pkg-config` crate reads its variables from the process environment; this source looks them up
//! through our accessor with the crate's own rules, so cargo reruns the build script when they change
//! and the second question put to pkg-config (where the `.pc` file is) sees the same settings.
//!
//! pkg-config is not run when the search path holds no `libonnxruntime.pc` ([`search`]): the usual
//! case, which would otherwise cost a process on every probe.

pub(crate) mod search;

use std::path::{Path, PathBuf};

use self::search::Search;
use crate::env::Vars;
use crate::error::Verdict;
use crate::sources::{Candidate, Origin, SourceKind};
use crate::version::Version;

pub(crate) const PACKAGE: &str = "libonnxruntime";

/// The variables the pkg-config crate looks up per target (pkg-config 0.3.34, `targeted_env_var`).
const TARGETED_VARS: [&str; 5] =
    ["PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR", "PKG_CONFIG_ALLOW_CROSS", "PKG_CONFIG"];
/// And the ones it reads as they are, for this package or all of them.
const PLAIN_VARS: [&str; 6] = [
    "LIBONNXRUNTIME_NO_PKG_CONFIG",
    "LIBONNXRUNTIME_STATIC",
    "LIBONNXRUNTIME_DYNAMIC",
    "PKG_CONFIG_ALL_STATIC",
    "PKG_CONFIG_ALL_DYNAMIC",
    "SYSROOT",
];

/// The pkg-config crate's lookup of `name`: `NAME_<target>`, `NAME_<target_underscored>`, then
/// `TARGET_NAME` when cross-compiling or `HOST_NAME` when not, then `NAME`.
fn targeted(vars: &Vars<'_>, name: &str, cross: bool) -> Option<crate::env::Var> {
    let specific = vars.get_suffixed(name);
    let kind = vars.plain(&format!("{}_{name}", if cross { "TARGET" } else { "HOST" }));
    let plain = vars.plain(name);
    specific.or(kind).or(plain)
}

pub(crate) fn candidate(vars: &Vars<'_>, cross: bool) -> Result<Candidate, Verdict> {
    for name in TARGETED_VARS {
        targeted(vars, name, cross);
    }
    for name in PLAIN_VARS {
        vars.plain(name);
    }
    let search = search::search(vars, PACKAGE);
    if let Search::Absent { dirs } = &search {
        return Err(Verdict::NotFound { detail: search::absent_detail(PACKAGE, dirs) });
    }
    let library = pkg_config::Config::new()
        .cargo_metadata(false)
        .env_metadata(false)
        .print_system_libs(false)
        .print_system_cflags(false)
        .probe(PACKAGE)
        .map_err(verdict_of)?;
    let pc_dir = match search {
        Search::Present { pc_dir: Some(dir) } => Some(dir),
        _ => pc_file_dir(vars, cross),
    };
    let beside_lib = pc_dir.as_deref().and_then(Path::parent).filter(|d| d.file_name().is_some_and(|n| n == "lib"));
    // pkg-config answered, but with no usable place: unusable (not "not found": ort-sys and others
    // that ask pkg-config first would still get this answer).
    let (lib_dir, corrected) = pick(&library.link_paths, beside_lib, holds_library).ok_or_else(|| Verdict::Unusable {
        detail: format!(
            "{PACKAGE}.pc names library dirs {:?}, and neither they nor the lib/ beside the .pc hold libonnxruntime",
            library.link_paths
        ),
    })?;
    let beside_include = beside_lib.and_then(Path::parent).map(|p| p.join("include"));
    let include_dir = pick(&library.include_paths, beside_include.as_deref(), holds_header).map(|(dir, _)| dir);
    Ok(Candidate {
        source: SourceKind::PkgConfig,
        origin: Origin::PkgConfig { package: PACKAGE.into(), lib_dir: lib_dir.clone(), corrected },
        root: super::env::root_of(&lib_dir),
        lib_dir,
        include_dir,
        claimed_version: Version::parse(&library.version),
        named_by: None,
    })
}

/// The first directory pkg-config named that `fits`; failing that, `beside` (the real `lib/` or
/// `include/` next to `lib/pkgconfig/`) when it fits. The flag says whether the correction was needed.
/// A named directory that merely exists is not enough: the official `.pc` says `/usr/local/lib64`,
/// which exists on Fedora and openSUSE and holds some other library.
fn pick(named: &[PathBuf], beside: Option<&Path>, fits: fn(&Path) -> bool) -> Option<(PathBuf, bool)> {
    if let Some(dir) = named.iter().find(|p| fits(p)) {
        return Some((dir.clone(), false));
    }
    beside.filter(|dir| fits(dir)).map(|dir| (dir.to_path_buf(), true))
}

fn holds_library(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy().to_ascii_lowercase();
            name.starts_with("libonnxruntime.") || name == "onnxruntime.dll" || name == "onnxruntime.lib"
        })
    })
}

fn holds_header(dir: &Path) -> bool {
    dir.join("onnxruntime_c_api.h").is_file()
}

/// `pkg-config --variable=pcfiledir libonnxruntime`: where the `.pc` file is. Run here rather than
/// through `pkg_config::get_variable`, which prints `cargo:rerun-if-env-changed` lines on stdout
/// whatever the caller asked (pkg-config 0.3.34), and stdout belongs to the caller's directives. Like
/// the crate, a target-specific `PKG_CONFIG_PATH_<target>` (…) is handed to the program under its
/// plain name; `PKG_CONFIG` names the program, `pkgconf` is tried when `pkg-config` is missing.
fn pc_file_dir(vars: &Vars<'_>, cross: bool) -> Option<PathBuf> {
    let configured = targeted(vars, "PKG_CONFIG", cross).map(|v| v.value);
    let programs: Vec<std::ffi::OsString> = match configured {
        Some(program) => vec![program],
        None => vec!["pkg-config".into(), "pkgconf".into()],
    };
    for program in programs {
        let mut command = std::process::Command::new(&program);
        command.args(["--variable=pcfiledir", PACKAGE]);
        for name in ["PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR"] {
            if let Some(var) = targeted(vars, name, cross) {
                command.env(name, var.value);
            }
        }
        match command.output() {
            Ok(output) if output.status.success() => {
                let text = String::from_utf8(output.stdout).ok()?;
                let dir = text.trim_end_matches(['\n', '\r']);
                return (!dir.is_empty()).then(|| PathBuf::from(dir));
            }
            Ok(_) => return None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(_) => return None,
        }
    }
    None
}

fn verdict_of(error: pkg_config::Error) -> Verdict {
    match error {
        pkg_config::Error::CrossCompilation => Verdict::Skipped {
            reason: "pkg-config is not set up for cross-compiling; set PKG_CONFIG_SYSROOT_DIR (or \
                     PKG_CONFIG_PATH_<target> with PKG_CONFIG_ALLOW_CROSS=1) to use the target's .pc files"
                .into(),
        },
        pkg_config::Error::EnvNoPkgConfig(name) => {
            Verdict::Skipped { reason: format!("{name} is set, which turns pkg-config off") }
        }
        pkg_config::Error::Command { command, cause } => {
            Verdict::Skipped { reason: format!("could not run `{command}`: {cause} (is pkg-config installed?)") }
        }
        // pkg-config's own first line says why ("Package libonnxruntime was not found in the
        // pkg-config search path."), rather than the crate's "exited with status code 1".
        other => {
            let text = match &other {
                pkg_config::Error::ProbeFailure { output, .. } if !output.stderr.trim_ascii().is_empty() => {
                    String::from_utf8_lossy(&output.stderr).into_owned()
                }
                _ => other.to_string(),
            };
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("not found").trim();
            Verdict::NotFound { detail: format!("{PACKAGE}.pc: {first}") }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_dirs_must_hold_the_library_not_merely_exist() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = tmp.path().join("onnxruntime/lib");
        std::fs::create_dir_all(lib.join("pkgconfig")).unwrap();
        std::fs::write(lib.join("libonnxruntime.so.1.22.0"), b"").unwrap();
        // Like /usr/local/lib64 on Fedora: it exists, with other libraries in it.
        let lib64 = tmp.path().join("usr-local/lib64");
        std::fs::create_dir_all(&lib64).unwrap();
        std::fs::write(lib64.join("libz.so.1"), b"").unwrap();
        let named = [lib64.clone(), PathBuf::from("/nonexistent/prefix/lib64")];
        assert_eq!(pick(&named, Some(&lib), holds_library), Some((lib.clone(), true)));
        assert_eq!(pick(std::slice::from_ref(&lib), None, holds_library), Some((lib.clone(), false)));
        assert_eq!(pick(&named, Some(&lib64), holds_library), None);
    }
}

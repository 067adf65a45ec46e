//! The `pkg-config` source: `libonnxruntime.pc`, through the `pkg-config` crate and its
//! cross-compilation rules (`PKG_CONFIG_SYSROOT_DIR`, `PKG_CONFIG_ALLOW_CROSS`, `PKG_CONFIG_PATH_<target>`).
//!
//! The `.pc` shipped in the official Linux archives is broken: `libdir=${prefix}/lib64` and
//! `includedir=${prefix}/include/onnxruntime` under a hard-coded prefix, while the archive has `lib/`
//! and `include/` (ORT issues #22267, #23483, #24003, #25279, #26186). So the paths are checked, and
//! when they do not exist the real `lib/` and `include/` beside the `.pc` file are used.
//!
//! The `pkg-config` crate reads its variables from the process environment; this source lists them
//! through our accessor only so that cargo reruns the build script when they change.

use std::path::{Path, PathBuf};

use crate::env::Vars;
use crate::error::Verdict;
use crate::sources::{Candidate, Origin, SourceKind};
use crate::version::Version;

pub(crate) const PACKAGE: &str = "libonnxruntime";

/// The variables the pkg-config crate consults (each also with target suffixes).
const PKG_CONFIG_VARS: [&str; 5] =
    ["PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR", "PKG_CONFIG_ALLOW_CROSS", "PKG_CONFIG"];

pub(crate) fn candidate(vars: &Vars<'_>) -> Result<Candidate, Verdict> {
    for name in PKG_CONFIG_VARS {
        vars.get(name);
        vars.plain(&format!("TARGET_{name}"));
    }
    let library = pkg_config::Config::new()
        .cargo_metadata(false)
        .env_metadata(false)
        .print_system_libs(false)
        .print_system_cflags(false)
        .probe(PACKAGE)
        .map_err(verdict_of)?;
    let pc_dir = pc_file_dir(vars);
    let (lib_dir, corrected) = pick_dir(&library.link_paths, pc_dir.as_deref().and_then(Path::parent), "lib")
        .ok_or_else(|| Verdict::Unusable {
            detail: format!("{PACKAGE}.pc names library dirs {:?}, and none of them exists", library.link_paths),
        })?;
    let beside_include = pc_dir.as_deref().and_then(Path::parent).and_then(Path::parent).map(|p| p.join("include"));
    let include_dir =
        library.include_paths.iter().find(|p| p.is_dir()).cloned().or_else(|| beside_include.filter(|p| p.is_dir()));
    Ok(Candidate {
        source: SourceKind::PkgConfig,
        origin: Origin::PkgConfig { package: PACKAGE.into(), lib_dir: lib_dir.clone(), corrected },
        root: lib_dir.parent().map(Path::to_path_buf),
        lib_dir,
        include_dir,
        claimed_version: Version::parse(&library.version),
        named_by: None,
    })
}

/// The first existing directory pkg-config named; failing that, `<beside>` (the real `lib/` next to
/// `lib/pkgconfig/`). The flag says whether the correction was needed.
fn pick_dir(named: &[PathBuf], beside: Option<&Path>, what: &str) -> Option<(PathBuf, bool)> {
    if let Some(dir) = named.iter().find(|p| p.is_dir()) {
        return Some((dir.clone(), false));
    }
    let beside = beside?;
    let fits = beside.file_name().is_some_and(|n| n == what) && beside.is_dir();
    fits.then(|| (beside.to_path_buf(), true))
}

/// `pkg-config --variable=pcfiledir libonnxruntime`: where the `.pc` file is. Run here rather than
/// through `pkg_config::get_variable`, which prints `cargo:rerun-if-env-changed` lines on stdout
/// whatever the caller asked (pkg-config 0.3.34), and stdout belongs to the caller's directives. Like
/// the crate, a target-specific `PKG_CONFIG_PATH_<target>` (…) is handed to the program under its
/// plain name; `PKG_CONFIG` names the program, `pkgconf` is tried when `pkg-config` is missing.
fn pc_file_dir(vars: &Vars<'_>) -> Option<PathBuf> {
    let configured = vars.get("PKG_CONFIG").map(|v| v.value);
    let programs: Vec<std::ffi::OsString> = match configured {
        Some(program) => vec![program],
        None => vec!["pkg-config".into(), "pkgconf".into()],
    };
    for program in programs {
        let mut command = std::process::Command::new(&program);
        command.args(["--variable=pcfiledir", PACKAGE]);
        for name in ["PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR"] {
            if let Some(var) = vars.get(name) {
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
        other => {
            let text = other.to_string();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("not found").trim();
            Verdict::NotFound { detail: format!("{PACKAGE}.pc: {first}") }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_official_pc_paths_fall_back_to_the_real_lib_dir() {
        let root = std::env::temp_dir().join(format!("ort-pc-{}", std::process::id()));
        let lib = root.join("lib");
        std::fs::create_dir_all(lib.join("pkgconfig")).unwrap();
        let named = [PathBuf::from("/nonexistent/prefix/lib64")];
        assert_eq!(pick_dir(&named, Some(&lib), "lib"), Some((lib.clone(), true)));
        assert_eq!(pick_dir(std::slice::from_ref(&lib), None, "lib"), Some((lib.clone(), false)));
        assert_eq!(pick_dir(&named, Some(&root), "lib"), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}

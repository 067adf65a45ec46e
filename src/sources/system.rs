//! The `system` source: well-known directories for the *target*. When cross-compiling, host
//! directories are still listed (a library there is refused for its architecture, which the report
//! shows), and the target's multiarch and cross-sysroot directories come first.

use std::path::{Path, PathBuf};

use crate::sources::{Candidate, Origin, SourceKind};
use crate::target::{Os, Target};

/// The directories searched for `target`, most specific first.
pub(crate) fn default_dirs(target: &Target) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    match target.os() {
        Os::Linux => {
            if let Some(multiarch) = target.multiarch() {
                if target.is_cross() {
                    // Debian's cross sysroot (`libc6-dev-arm64-cross` and friends).
                    dirs.push(format!("/usr/{multiarch}/lib").into());
                }
                dirs.push(format!("/usr/local/lib/{multiarch}").into());
            }
            dirs.push("/usr/local/lib".into());
            dirs.push("/usr/local/lib64".into());
            if let Some(multiarch) = target.multiarch() {
                dirs.push(format!("/usr/lib/{multiarch}").into());
            }
            dirs.push("/usr/lib64".into());
            dirs.push("/usr/lib".into());
        }
        Os::MacOs => {
            // Homebrew: /opt/homebrew on Apple silicon, /usr/local on Intel.
            dirs.push("/opt/homebrew/opt/onnxruntime/lib".into());
            dirs.push("/usr/local/opt/onnxruntime/lib".into());
            dirs.push("/opt/homebrew/lib".into());
            dirs.push("/usr/local/lib".into());
        }
        // Windows has no well-known install directory, and `System32\onnxruntime.dll` is Windows ML's
        // older copy (Windows 10 1809 and later): it must never be picked.
        Os::Windows | Os::Other(_) => {}
    }
    dirs
}

/// A candidate for each directory that exists, and the directories that do not. The include directory
/// is looked for only once a library is found ([`include_beside`]): most of these hold none.
pub(crate) fn candidates(dirs: &[PathBuf]) -> (Vec<Candidate>, Vec<&PathBuf>) {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for dir in dirs {
        let Some(real) = crate::inspect::file_id(dir) else {
            missing.push(dir);
            continue;
        };
        // `/usr/lib64` is often a link to `/usr/lib`: one candidate per real directory.
        if seen.contains(&real) {
            continue;
        }
        seen.push(real);
        out.push(Candidate {
            source: SourceKind::System,
            origin: Origin::System { dir: dir.clone() },
            root: None,
            include_dir: None,
            lib_dir: dir.clone(),
            claimed_version: None,
            named_by: None,
        });
    }
    (out, missing)
}

/// The `include/` (or `include/onnxruntime/`) beside a system library directory, when it holds the C API
/// header.
pub(crate) fn include_beside(lib_dir: &Path) -> Option<PathBuf> {
    let include = lib_dir.parent()?.join("include");
    [include.join("onnxruntime"), include].into_iter().find(|dir| dir.join("onnxruntime_c_api.h").is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_targets_search_their_own_directories_first() {
        let t = Target::with_host("aarch64-unknown-linux-gnu", "x86_64-unknown-linux-gnu").unwrap();
        let dirs = default_dirs(&t);
        assert_eq!(dirs[0], PathBuf::from("/usr/aarch64-linux-gnu/lib"));
        assert!(dirs.contains(&PathBuf::from("/usr/lib/aarch64-linux-gnu")));
        assert!(!dirs.iter().any(|d| d.to_string_lossy().contains("x86_64")));

        let win = Target::with_host("x86_64-pc-windows-msvc", "x86_64-pc-windows-msvc").unwrap();
        assert!(default_dirs(&win).is_empty());
        let mac = Target::with_host("aarch64-apple-darwin", "aarch64-apple-darwin").unwrap();
        assert_eq!(default_dirs(&mac)[0], PathBuf::from("/opt/homebrew/opt/onnxruntime/lib"));
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_reached_twice_is_one_candidate_and_a_missing_one_none() {
        let tmp = crate::test_support::tempdir();
        let (lib, lib64, missing) = (tmp.path().join("lib"), tmp.path().join("lib64"), tmp.path().join("nope"));
        std::fs::create_dir(&lib).unwrap();
        std::os::unix::fs::symlink(&lib, &lib64).unwrap();
        let other = tmp.path().join("other");
        std::fs::create_dir(&other).unwrap();
        let dirs = [lib64.clone(), missing.clone(), lib, other.clone()];
        let (found, absent) = candidates(&dirs);
        let found: Vec<PathBuf> = found.into_iter().map(|c| c.lib_dir).collect();
        assert_eq!(found, vec![lib64, other]);
        assert_eq!(absent, vec![&missing]);
    }
}

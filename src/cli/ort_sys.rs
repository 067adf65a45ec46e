//! What each `ort-sys` release reads from the environment, and which ONNX Runtime C API it needs.
//!
//! Read from the published build scripts of ort-sys 2.0.0-rc.2, rc.4, rc.9, rc.10 (`build.rs`) and
//! rc.15 (`build/main.rs`, `vars.rs`, `dynamic_link.rs`, `pkg_config.rs`), and their `src/lib.rs` /
//! `src/version.rs` for `ORT_API_VERSION`:
//!
//! | release | variables read (besides `ORT_LIB_PROFILE`, `ORT_CXX_STDLIB`) | location | C API |
//! |---|---|---|---|
//! | rc.2  | `ORT_LIB_LOCATION` | install root; `lib/` appended when present | 17 |
//! | rc.4  | `ORT_LIB_LOCATION`; pkg-config `libonnxruntime` tried first | same | 18 |
//! | rc.9  | + `ORT_PREFER_DYNAMIC_LINK` (skip the static-build search) | same | 20 |
//! | rc.10 | + `ORT_SKIP_DOWNLOAD` | same | 22 |
//! | rc.15 | `ORT_LIB_PATH`/`ORT_LIB_LOCATION` used as the link directory itself; without `ORT_PREFER_DYNAMIC_LINK=1` it attempts a static link and fails on a shared-library install; pkg-config only with its `pkg-config` feature | lib dir | 17, +1 per `api-N` feature |
//!
//! None of them reads `ORT_STRATEGY` (that was the `ort` 1.x build script). A release not read is
//! given the rules of the next read release above it: a variable an older script does not read is
//! harmless, and the newer C API level errs on the safe side. pkg-config honours
//! `LIBONNXRUNTIME_NO_PKG_CONFIG` (pkg-config-rs `<NAME>_NO_PKG_CONFIG`), which keeps a stray
//! `libonnxruntime.pc` from winning over `ORT_LIB_LOCATION`.
//!
//! None of them emits an rpath: a program linked through ort-sys must find the library at run time
//! by itself (see `env`).

use std::path::{Path, PathBuf};

use crate::semver::CrateVersion;

/// Where `ORT_LIB_LOCATION` must point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// The install root; the build script appends `lib/` when that exists (the lib dir works too).
    Root,
    /// The directory holding the library, taken as is.
    LibDir,
}

/// The rules of one read release, applied to a range of releases.
#[derive(Debug)]
pub struct Rules {
    /// The release whose build script was read.
    pub read: &'static str,
    /// The oldest `2.0.0-rc.N` these rules are applied to.
    pub from_rc: u64,
    pub location: Location,
    /// Reads `ORT_PREFER_DYNAMIC_LINK`.
    pub prefer_dynamic: bool,
    /// Tries `pkg-config libonnxruntime` before `ORT_LIB_LOCATION` (always, or with its feature).
    pub pkg_config_first: bool,
    /// The `OrtGetApiBase()->GetApi(n)` level its bindings ask for (the minimum, for rc.15).
    pub api: u64,
    /// The API level can be raised by `api-N` features (rc.15).
    pub api_features: bool,
}

/// Newest first; the first whose `from_rc` is at most the release applies.
const TABLE: [Rules; 5] = [
    Rules {
        read: "2.0.0-rc.15",
        from_rc: 15,
        location: Location::LibDir,
        prefer_dynamic: true,
        pkg_config_first: true,
        api: 17,
        api_features: true,
    },
    Rules {
        read: "2.0.0-rc.10",
        from_rc: 10,
        location: Location::LibDir,
        prefer_dynamic: true,
        pkg_config_first: true,
        api: 22,
        api_features: false,
    },
    Rules {
        read: "2.0.0-rc.9",
        from_rc: 5,
        location: Location::Root,
        prefer_dynamic: true,
        pkg_config_first: true,
        api: 20,
        api_features: false,
    },
    Rules {
        read: "2.0.0-rc.4",
        from_rc: 3,
        location: Location::Root,
        prefer_dynamic: false,
        pkg_config_first: true,
        api: 18,
        api_features: false,
    },
    Rules {
        read: "2.0.0-rc.2",
        from_rc: 0,
        location: Location::Root,
        prefer_dynamic: false,
        pkg_config_first: false,
        api: 17,
        api_features: false,
    },
];

/// The rules for a locked ort-sys release, and whether that exact release was read.
pub fn rules_for(version: &CrateVersion) -> (&'static Rules, bool) {
    let [newest, .., oldest] = &TABLE;
    let release_2 = CrateVersion { major: 2, minor: 0, patch: 0, pre: String::new() };
    let rules = if *version >= release_2 {
        // 2.0.0 and later: the newest rules known.
        newest
    } else if let (2, 0, 0, Some(n)) = (version.major, version.minor, version.patch, version.rc()) {
        TABLE.iter().find(|r| r.from_rc <= n).unwrap_or(oldest)
    } else {
        // Alphas and anything older: the oldest rules read.
        oldest
    };
    (rules, version.to_string() == rules.read)
}

/// One variable for ort-sys's build script (or run time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub name: String,
    pub value: String,
    /// Why it is set, for the printed comment.
    pub why: String,
}

/// The variables that make `ort-sys` (of `rules`) link the library in `lib_dir`. `root` is an install
/// root whose `lib/` the caller checked to be that directory (its build script appends `lib/`); without
/// one, `lib_dir` itself serves every release. `pkg_config_answers`: `pkg-config libonnxruntime`
/// currently finds something, which these ort-sys releases would prefer over `ORT_LIB_LOCATION`.
pub fn build_settings(rules: &Rules, root: Option<&Path>, lib_dir: &Path, pkg_config_answers: bool) -> Vec<Setting> {
    let location: PathBuf = match (rules.location, root) {
        (Location::Root, Some(root)) => root.to_path_buf(),
        _ => lib_dir.to_path_buf(),
    };
    let mut settings = vec![Setting {
        name: "ORT_LIB_LOCATION".into(),
        value: location.display().to_string(),
        why: match rules.location {
            Location::Root => "the install root; its build script links from lib/ inside it".into(),
            Location::LibDir => "the directory holding libonnxruntime, which it links from".into(),
        },
    }];
    if rules.prefer_dynamic {
        settings.push(Setting {
            name: "ORT_PREFER_DYNAMIC_LINK".into(),
            value: "1".into(),
            why: "link the shared library instead of searching for a static build".into(),
        });
    }
    if rules.pkg_config_first && pkg_config_answers {
        settings.push(Setting {
            name: "LIBONNXRUNTIME_NO_PKG_CONFIG".into(),
            value: "1".into(),
            why: "pkg-config finds a libonnxruntime.pc here, which ort-sys would use before ORT_LIB_LOCATION".into(),
        });
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(v: &str) -> (&'static str, bool) {
        let (rules, exact) = rules_for(&CrateVersion::parse(v).unwrap());
        (rules.read, exact)
    }

    #[test]
    fn releases_map_to_the_scripts_read() {
        assert_eq!(rules("2.0.0-rc.2"), ("2.0.0-rc.2", true));
        assert_eq!(rules("2.0.0-rc.0"), ("2.0.0-rc.2", false));
        assert_eq!(rules("2.0.0-rc.3"), ("2.0.0-rc.4", false));
        assert_eq!(rules("2.0.0-rc.4"), ("2.0.0-rc.4", true));
        assert_eq!(rules("2.0.0-rc.6"), ("2.0.0-rc.9", false));
        assert_eq!(rules("2.0.0-rc.10"), ("2.0.0-rc.10", true));
        assert_eq!(rules("2.0.0-rc.12"), ("2.0.0-rc.10", false));
        assert_eq!(rules("2.0.0-rc.15"), ("2.0.0-rc.15", true));
        assert_eq!(rules("2.0.0"), ("2.0.0-rc.15", false));
        assert_eq!(rules("2.1.3"), ("2.0.0-rc.15", false));
        assert_eq!(rules("2.0.0-alpha.4"), ("2.0.0-rc.2", false));
    }

    #[test]
    fn location_follows_the_release() {
        let root = Path::new("/c/onnxruntime-linux-x64-1.22.0");
        let lib = root.join("lib");
        let old = build_settings(rules_for(&CrateVersion::parse("2.0.0-rc.2").unwrap()).0, Some(root), &lib, false);
        assert_eq!(
            old.iter().map(|s| (s.name.as_str(), s.value.as_str())).collect::<Vec<_>>(),
            [("ORT_LIB_LOCATION", "/c/onnxruntime-linux-x64-1.22.0")]
        );
        let new = build_settings(rules_for(&CrateVersion::parse("2.0.0-rc.15").unwrap()).0, Some(root), &lib, true);
        assert_eq!(
            new.iter().map(|s| (s.name.as_str(), s.value.as_str())).collect::<Vec<_>>(),
            [
                ("ORT_LIB_LOCATION", "/c/onnxruntime-linux-x64-1.22.0/lib"),
                ("ORT_PREFER_DYNAMIC_LINK", "1"),
                ("LIBONNXRUNTIME_NO_PKG_CONFIG", "1")
            ]
        );
        // Without an install root (a system directory), the lib dir works for every release.
        let system = build_settings(
            rules_for(&CrateVersion::parse("2.0.0-rc.2").unwrap()).0,
            None,
            Path::new("/usr/lib"),
            false,
        );
        assert_eq!(system[0].value, "/usr/lib");
    }
}

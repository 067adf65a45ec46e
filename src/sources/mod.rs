//! The places an ONNX Runtime can come from, tried in the order of `ONNXRUNTIME_SOURCES`
//! (default `env,pkg-config,system,download`). Each source yields candidates with their provenance;
//! the inspect stage judges them.

pub(crate) mod download;
pub(crate) mod env;
pub(crate) mod pkg_config;
pub(crate) mod system;

use std::fmt;
use std::path::PathBuf;

use crate::error::Error;

/// One kind of source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceKind {
    /// `ONNXRUNTIME_DIR`, `ONNXRUNTIME_LIB_DIR`, `ONNXRUNTIME_INCLUDE_DIR`.
    Env,
    /// `pkg-config libonnxruntime`, with the official archives' broken `.pc` paths corrected.
    PkgConfig,
    /// Well-known directories: `/usr/local/lib`, `/usr/lib`, the target's multiarch dir, Homebrew.
    System,
    /// The official, SHA-256-pinned release archive, through the shared cache.
    Download,
}

impl SourceKind {
    pub const DEFAULT_ORDER: [SourceKind; 4] =
        [SourceKind::Env, SourceKind::PkgConfig, SourceKind::System, SourceKind::Download];

    pub fn as_str(&self) -> &'static str {
        match self {
            SourceKind::Env => "env",
            SourceKind::PkgConfig => "pkg-config",
            SourceKind::System => "system",
            SourceKind::Download => "download",
        }
    }

    pub fn parse(text: &str) -> Option<SourceKind> {
        let text = text.trim().to_ascii_lowercase();
        Self::DEFAULT_ORDER
            .into_iter()
            .find(|s| s.as_str() == text || (text == "pkgconfig" && *s == SourceKind::PkgConfig))
    }

    /// Parses a list such as `env,system` (the value of `ONNXRUNTIME_SOURCES`).
    pub fn parse_list(setting: &str, text: &str) -> Result<Vec<SourceKind>, Error> {
        let fail = |reason: String| Error::InvalidSetting {
            setting: setting.to_string(),
            value: text.to_string(),
            reason,
            fix: format!("set {setting} to a comma-separated list of env, pkg-config, system, download"),
        };
        let mut list = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let kind = SourceKind::parse(part).ok_or_else(|| fail(format!("`{part}` is not a source")))?;
            if list.contains(&kind) {
                return Err(fail(format!("`{part}` is listed twice")));
            }
            list.push(kind);
        }
        if list.is_empty() {
            return Err(fail("it names no source".into()));
        }
        Ok(list)
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a library came from, kept in the [`Library`](crate::Library) for users and error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// A variable named the install (`ONNXRUNTIME_DIR` or `ONNXRUNTIME_LIB_DIR`, possibly target-suffixed).
    Variable { name: String, path: PathBuf },
    /// pkg-config's answer; `corrected` when its `libdir`/`includedir` did not exist and the real
    /// `lib/`/`include/` beside them were used (the official archives' `.pc` points at `lib64`).
    PkgConfig { package: String, lib_dir: PathBuf, corrected: bool },
    /// A well-known system directory.
    System { dir: PathBuf },
    /// The official archive, checked against its pinned SHA-256, from the shared cache.
    Download { url: String, sha256: String, cache_entry: PathBuf, fetched_now: bool },
    /// Nothing was searched (`DOCS_RS` is set).
    Skipped { reason: String },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Variable { name, path } => write!(f, "{name}={}", path.display()),
            Origin::PkgConfig { package, lib_dir, corrected } => {
                write!(f, "pkg-config {package} ({}", lib_dir.display())?;
                if *corrected {
                    f.write_str(", corrected from the .pc file's libdir")?;
                }
                f.write_str(")")
            }
            Origin::System { dir } => write!(f, "system directory {}", dir.display()),
            Origin::Download { url, sha256, fetched_now, .. } => {
                let url = crate::error::redact_passwords(url);
                write!(f, "{url} (sha256 {sha256}{})", if *fetched_now { ", downloaded now" } else { ", cached" })
            }
            Origin::Skipped { reason } => write!(f, "nothing ({reason})"),
        }
    }
}

/// A place that may hold ONNX Runtime, before inspection.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    pub source: SourceKind,
    pub origin: Origin,
    /// The install root when there is one (holds `VERSION_NUMBER` in official archives).
    pub root: Option<PathBuf>,
    pub lib_dir: PathBuf,
    pub include_dir: Option<PathBuf>,
    /// A version claimed by metadata (a `.pc` file, a manifest), checked against the library itself.
    pub claimed_version: Option<crate::version::Version>,
    /// The variable that named this candidate: if it is refused, the probe stops with an error that
    /// names the variable instead of trying the next source.
    pub named_by: Option<String>,
}

impl Candidate {
    /// The include directory to use: the one named, else for a system directory the `include/` beside
    /// it, looked for now rather than for each directory listed.
    pub fn headers_dir(&self) -> Option<PathBuf> {
        match (&self.include_dir, self.source) {
            (Some(dir), _) => Some(dir.clone()),
            (None, SourceKind::System) => system::include_beside(&self.lib_dir),
            (None, _) => None,
        }
    }

    /// How the candidate is described in reports: the directory searched.
    pub fn location(&self) -> String {
        match &self.named_by {
            Some(name) => format!("{name}: {}", self.lib_dir.display()),
            None => self.lib_dir.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_source_lists() {
        assert_eq!(
            SourceKind::parse_list("ONNXRUNTIME_SOURCES", "env, pkg-config,SYSTEM,download").unwrap(),
            SourceKind::DEFAULT_ORDER
        );
        assert_eq!(
            SourceKind::parse_list("ONNXRUNTIME_SOURCES", "download,env").unwrap(),
            [SourceKind::Download, SourceKind::Env]
        );
        for bad in ["", " , ", "env,ftp", "env,env"] {
            let err = SourceKind::parse_list("ONNXRUNTIME_SOURCES", bad).unwrap_err().to_string();
            assert!(err.contains("ONNXRUNTIME_SOURCES"), "{err}");
        }
    }
}

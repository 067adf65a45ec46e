//! What a probe chose.

use std::path::PathBuf;

use crate::request::{LinkKind, Variant};
use crate::sources::Origin;
use crate::version::Version;

/// The ONNX Runtime a probe chose, where it came from, and how it is linked.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Library {
    /// The release (from the library's own version node where it has one).
    pub version: Version,
    /// The target triple it was chosen for.
    pub target: String,
    /// The install root, when there is one.
    pub root: Option<PathBuf>,
    /// The directory linked from: `$OUT_DIR/onnxruntime/lib` in a build script, else where it was found.
    pub lib_dir: PathBuf,
    /// The C/C++ headers, when present (the PyPI wheels, for one, carry none).
    pub include_dir: Option<PathBuf>,
    pub link: LinkKind,
    pub variant: Variant,
    /// Which source, which variable, `.pc`, directory or URL and hash.
    pub origin: Origin,
    /// The real library file (symlinks resolved).
    pub library_file: PathBuf,
    /// The files a program needs at run time, as staged (or found).
    pub runtime_files: Vec<PathBuf>,
    pub(crate) directives: Vec<String>,
}

impl Library {
    /// The C API level the release serves (`ORT_API_VERSION`, the minor number).
    pub fn api_version(&self) -> u64 {
        self.version.api_version()
    }

    /// The `cargo:` lines the probe printed (or would have, with `cargo_metadata(false)`).
    pub fn cargo_directives(&self) -> &[String] {
        &self.directives
    }

    /// True when nothing was searched because `DOCS_RS` is set.
    pub fn is_skipped(&self) -> bool {
        matches!(self.origin, Origin::Skipped { .. })
    }

    pub(crate) fn skipped(target: String, reason: &str) -> Library {
        Library {
            version: Version::new(0, 0, 0),
            target,
            root: None,
            lib_dir: PathBuf::new(),
            include_dir: None,
            link: LinkKind::Dynamic,
            variant: Variant::Cpu,
            origin: Origin::Skipped { reason: reason.to_string() },
            library_file: PathBuf::new(),
            runtime_files: Vec::new(),
            directives: Vec::new(),
        }
    }
}

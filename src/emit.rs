//! The cargo directives: single-colon `cargo:` lines, which every cargo version reads.
//!
//! They are built as text first ([`crate::Library::cargo_directives`] returns them), then printed when
//! `cargo_metadata` is on. Nothing else is printed on stdout.

use std::path::Path;

use crate::error::Error;
use crate::target::{Os, Target};

/// What the link lines are made from.
pub(crate) struct LinkPlan<'a> {
    pub target: &'a Target,
    pub linkage: Linkage<'a>,
    /// The directory linked from (the staged one in a build script).
    pub lib_dir: &'a Path,
    /// The rpath entry for this package's binaries: the staged directory, `$ORIGIN` /
    /// `@loader_path` when the run-time files are copied next to the executables, or none.
    pub rpath: Option<String>,
    /// Files used from outside `OUT_DIR` and the cache, whose change should rerun the build script.
    pub watch: Vec<&'a Path>,
    /// The absolute path a `dlopen` user should load.
    pub load_path: Option<&'a Path>,
    /// `CARGO_MANIFEST_LINKS` is set: export metadata to dependents as `DEP_<LINKS>_<KEY>`.
    pub metadata: Option<Metadata<'a>>,
}

/// How the library is linked.
pub(crate) enum Linkage<'a> {
    /// `-lonnxruntime` against the shared library.
    Dynamic,
    /// Every archive of a static build, then the C++ runtime and the system libraries ORT uses.
    Static { libs: &'a [String], cxx_stdlib: Option<&'a str>, system_libs: &'a [&'a str] },
}

pub(crate) struct Metadata<'a> {
    pub root: Option<&'a Path>,
    pub include: Option<&'a Path>,
    pub version: String,
    pub api_version: u64,
}

/// The variable name (a `rustc-env`) through which `dlopen` users find the library at compile time.
pub const LIB_PATH_ENV: &str = "ONNXRUNTIME_LIB_PATH";

pub(crate) fn link_lines(plan: &LinkPlan<'_>) -> Result<Vec<String>, Error> {
    let dir = utf8(plan.lib_dir, "the library directory")?;
    let mut lines = vec![format!("cargo:rustc-link-search=native={dir}")];
    match &plan.linkage {
        Linkage::Dynamic => {
            lines.push("cargo:rustc-link-lib=dylib=onnxruntime".into());
            if let Some(entry) = &plan.rpath {
                lines.extend(rpath_lines(plan.target, entry));
            }
        }
        Linkage::Static { libs, cxx_stdlib, system_libs } => {
            // Bundled into the rlib (cargo's default for `static=`), the archives reach dependents'
            // links as one archive, where their order no longer matters.
            lines.extend(libs.iter().map(|lib| format!("cargo:rustc-link-lib=static={lib}")));
            lines.extend(
                cxx_stdlib.iter().chain(system_libs.iter()).map(|lib| format!("cargo:rustc-link-lib=dylib={lib}")),
            );
        }
    }
    for file in &plan.watch {
        // cargo reads its directives as UTF-8; a path it cannot read is simply not watched.
        if let Some(path) = file.to_str() {
            lines.push(format!("cargo:rerun-if-changed={path}"));
        }
    }
    if let Some(path) = plan.load_path {
        lines.push(format!("cargo:rustc-env={LIB_PATH_ENV}={}", utf8(path, "the library path")?));
    }
    if let Some(meta) = &plan.metadata {
        if let Some(root) = meta.root.and_then(Path::to_str) {
            lines.push(format!("cargo:root={root}"));
        }
        lines.push(format!("cargo:lib_dir={dir}"));
        if let Some(entry) = &plan.rpath {
            lines.push(format!("cargo:rpath={entry}"));
        }
        if let Some(include) = meta.include.and_then(Path::to_str) {
            lines.push(format!("cargo:include={include}"));
        }
        lines.push(format!("cargo:version={}", meta.version));
        lines.push(format!("cargo:api_version={}", meta.api_version));
    }
    Ok(lines)
}

/// The rpath lines for one entry, for targets whose loader reads an rpath.
///
/// On Linux the entry goes in `DT_RPATH` (`--disable-new-dtags`), not `DT_RUNPATH`: the loader
/// consults `DT_RPATH` before `LD_LIBRARY_PATH`, so a binary keeps loading the release it was linked
/// against even when another release comes first on the library path. With ORT's per-release symbol
/// versions (`VERS_1.X.Y`), any other release would fail to load anyway.
pub(crate) fn rpath_lines(target: &Target, entry: &str) -> Vec<String> {
    let mut args: Vec<String> = match target.os() {
        Os::Linux => vec!["-Wl,--disable-new-dtags".into()],
        Os::MacOs => Vec::new(),
        _ => return Vec::new(),
    };
    if entry.contains(',') {
        // `-Wl,` splits on commas, so such a directory goes through `-Xlinker` word by word.
        args.extend(["-Xlinker", "-rpath", "-Xlinker", entry].map(String::from));
    } else {
        args.push(format!("-Wl,-rpath,{entry}"));
    }
    args.into_iter().map(|arg| format!("cargo:rustc-link-arg={arg}")).collect()
}

pub(crate) fn rerun_env_lines(names: &[String]) -> Vec<String> {
    names.iter().map(|name| format!("cargo:rerun-if-env-changed={name}")).collect()
}

fn utf8<'p>(path: &'p Path, what: &str) -> Result<&'p str, Error> {
    path.to_str().ok_or_else(|| Error::InvalidSetting {
        setting: "OUT_DIR".into(),
        value: path.to_string_lossy().into_owned(),
        reason: format!("{what} is not valid UTF-8, and cargo reads build-script directives as UTF-8"),
        fix: "build from a directory whose path is valid UTF-8 (or set CARGO_TARGET_DIR to one)".into(),
    })
}

/// Prints the lines for cargo, in one write: stdout is line-buffered, and a write per line is most
/// of what printing costs a warm probe's process.
pub(crate) fn print(lines: &[String]) {
    use std::io::Write;
    let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    // A closed stdout is not this crate's problem to report; cargo will notice.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

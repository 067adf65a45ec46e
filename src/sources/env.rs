//! The `env` source: `ONNXRUNTIME_DIR` (an install root with `lib/` or `lib64/` and `include/`) and
//! `ONNXRUNTIME_LIB_DIR` (the library directory itself). A set variable is a promise from the user:
//! if the place it names is wrong, the probe stops with an error naming the variable.

use std::path::{Path, PathBuf};

use crate::env::{Var, Vars};
use crate::error::Verdict;
use crate::sources::{Candidate, Origin, SourceKind};

/// The candidate the variables name, if any. `Err` carries the variable and the verdict on it.
pub(crate) fn candidate(vars: &Vars<'_>) -> Result<Option<Candidate>, (Var, Verdict)> {
    let dir = vars.get("ONNXRUNTIME_DIR");
    let lib_dir = vars.get("ONNXRUNTIME_LIB_DIR");
    if let Some(var) = &dir {
        check_dir(var)?;
    }
    if let Some(var) = &lib_dir {
        check_dir(var)?;
        let path = var.path();
        let root = match &dir {
            Some(dir) => Some(dir.path()),
            None => root_of(&path),
        };
        // Without an install root, the headers may still sit beside the library directory.
        let include_dir = match &root {
            Some(root) => root.join("include"),
            None => path.parent().map(|p| p.join("include")).unwrap_or_else(|| path.join("include")),
        };
        return Ok(Some(Candidate {
            source: SourceKind::Env,
            origin: Origin::Variable { name: var.name.clone(), path: path.clone() },
            include_dir: Some(include_dir),
            root,
            lib_dir: path,
            claimed_version: None,
            named_by: Some(var.name.clone()),
        }));
    }
    let Some(var) = dir else { return Ok(None) };
    let root = var.path();
    let lib_dir = library_dir_of(&root).ok_or_else(|| {
        (var.clone(), Verdict::NotFound { detail: format!("{} has neither lib/ nor lib64/", root.display()) })
    })?;
    Ok(Some(Candidate {
        source: SourceKind::Env,
        origin: Origin::Variable { name: var.name.clone(), path: root.clone() },
        include_dir: Some(root.join("include")),
        root: Some(root),
        lib_dir,
        claimed_version: None,
        named_by: Some(var.name.clone()),
    }))
}

/// The install root above a library directory: its parent, when that parent's `lib/` (or `lib64/`) is
/// this very directory. `/usr/lib/x86_64-linux-gnu` or a CMake build directory has no such root.
pub(crate) fn root_of(lib_dir: &Path) -> Option<PathBuf> {
    let parent = lib_dir.parent()?;
    let same = |a: &Path, b: &Path| std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok();
    library_dir_of(parent).filter(|dir| same(dir, lib_dir)).map(|_| parent.to_path_buf())
}

/// `lib/` when it holds an ONNX Runtime library (or `lib64/` does not exist), else `lib64/`.
pub(crate) fn library_dir_of(root: &Path) -> Option<PathBuf> {
    let lib = root.join("lib");
    let lib64 = root.join("lib64");
    let has_ort = |dir: &Path| {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries.filter_map(Result::ok).any(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy().to_ascii_lowercase();
                    name.starts_with("libonnxruntime") || name.starts_with("onnxruntime.")
                })
            })
            .unwrap_or(false)
    };
    match (lib.is_dir(), lib64.is_dir()) {
        (true, true) if !has_ort(&lib) && has_ort(&lib64) => Some(lib64),
        (true, _) => Some(lib),
        (false, true) => Some(lib64),
        (false, false) => None,
    }
}

fn check_dir(var: &Var) -> Result<(), (Var, Verdict)> {
    let path = var.path();
    let refuse = |detail: String| Err((var.clone(), Verdict::NotFound { detail }));
    if !path.is_absolute() {
        // Build scripts run in the package directory, not where `cargo` was started, so a relative
        // path would silently mean different places in a workspace.
        return refuse(format!(
            "{} is a relative path; use an absolute one (build scripts run in each package's own directory)",
            path.display()
        ));
    }
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => refuse(format!("{} is not a directory", path.display())),
        Err(_) => refuse(format!("{} does not exist", path.display())),
    }
}

/// `ONNXRUNTIME_INCLUDE_DIR`, which overrides the include directory of whatever is chosen.
pub(crate) fn include_override(vars: &Vars<'_>) -> Result<Option<PathBuf>, (Var, Verdict)> {
    let Some(var) = vars.get("ONNXRUNTIME_INCLUDE_DIR") else { return Ok(None) };
    check_dir(&var)?;
    Ok(Some(var.path()))
}

//! Staging run-time files into `$OUT_DIR/onnxruntime/lib`.
//!
//! The library is linked from there, and the binaries get an rpath to it. Because the directory is
//! inside `target/`, `cargo run` and `cargo test` also put it on the loader path. Each name the linker
//! or loader asks for (link name, SONAME or install name, versioned names, providers) is a symlink to
//! the real file; on Windows hosts, where symlinks need privileges, files are copied.
//!
//! The directory is rebuilt beside its final name and renamed into place, so a rerun never leaves
//! a half-staged directory behind.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::inspect::Inspected;

/// Where staged files ended up.
#[derive(Clone, Debug)]
pub(crate) struct Staged {
    pub lib_dir: PathBuf,
    pub include_dir: Option<PathBuf>,
    /// The staged path of every run-time file.
    pub files: Vec<PathBuf>,
    /// The staged path a `dlopen` user should load (the SONAME / install name when known).
    pub library: PathBuf,
}

pub(crate) fn stage(inspected: &Inspected, out_dir: &Path) -> Result<Staged, Error> {
    let base = out_dir.join("onnxruntime");
    let temp = out_dir.join(format!(".onnxruntime-staging-{}", std::process::id()));
    let io_err = |action: &str, path: &Path| {
        let action = action.to_string();
        let path = path.to_path_buf();
        move |source: io::Error| Error::Io { action, path, source }
    };
    remove_if_present(&temp).map_err(io_err("clear the staging directory", &temp))?;
    let temp_lib = temp.join("lib");
    fs::create_dir_all(&temp_lib).map_err(io_err("create", &temp_lib))?;

    let result = (|| {
        for file in &inspected.runtime_files {
            let link = temp_lib.join(&file.name);
            place(&file.path, &link).map_err(io_err("stage", &link))?;
        }
        let mut include_dir = inspected.include_dir.clone();
        #[cfg(unix)]
        if let Some(include) = &inspected.include_dir {
            // A link keeps the include path UTF-8 (cargo metadata must be) whatever the source path is.
            let link = temp.join("include");
            std::os::unix::fs::symlink(include, &link).map_err(io_err("stage", &link))?;
            include_dir = Some(base.join("include"));
        }
        remove_if_present(&base).map_err(io_err("replace the staged directory", &base))?;
        fs::rename(&temp, &base).map_err(io_err("publish the staged directory", &base))?;
        Ok(include_dir)
    })();
    let include_dir = match result {
        Ok(dir) => dir,
        Err(e) => {
            let _ = fs::remove_dir_all(&temp);
            return Err(e);
        }
    };

    let lib_dir = base.join("lib");
    let files: Vec<PathBuf> = inspected.runtime_files.iter().map(|f| lib_dir.join(&f.name)).collect();
    let load_name = inspected
        .binary
        .soname
        .as_deref()
        .and_then(|s| s.rsplit('/').next())
        .filter(|n| files.iter().any(|f| f.file_name().is_some_and(|fname| fname == *n)))
        .map(PathBuf::from)
        .or_else(|| inspected.library.file_name().map(PathBuf::from))
        .unwrap_or_default();
    Ok(Staged { library: lib_dir.join(load_name), lib_dir, include_dir, files })
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// A symlink to `real` at `link` (a copy on Windows hosts).
#[cfg(unix)]
fn place(real: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(real, link)
}

#[cfg(not(unix))]
fn place(real: &Path, link: &Path) -> io::Result<()> {
    fs::copy(real, link).map(drop)
}

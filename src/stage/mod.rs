//! Staging run-time files into `$OUT_DIR/onnxruntime/lib`.
//!
//! The library is linked from there, and the binaries get an rpath to it. Because the directory is
//! inside `target/`, `cargo run` and `cargo test` also put it on the loader path. Each name the linker
//! or loader asks for (link name, SONAME or install name, versioned names, providers) is a symlink to
//! the real file; on Windows hosts, where symlinks need privileges, files are copied.
//!
//! The directory is rebuilt beside its final name and renamed into place, so a rerun never leaves
//! a half-staged directory behind. `cargo onnxruntime env`, which has no `OUT_DIR`, stages the same
//! way under the cache when a library's own directory lacks a name (`handoff`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::env::Env;
use crate::error::Error;
use crate::inspect::{Inspected, Memo};

mod final_dir;
#[cfg(feature = "cli")]
pub(crate) mod handoff;

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

/// Stages `inspected` into `out_dir/onnxruntime`, unless it is there already as it would be staged;
/// `memo` remembers how the staged directories were found, for the next run (see [`already_staged`]).
pub(crate) fn stage(inspected: &Inspected, out_dir: &Path, memo: &Memo) -> Result<Staged, Error> {
    let base = out_dir.join("onnxruntime");
    let include_dir = if already_staged(inspected, &base, memo) {
        inspected.include_dir.as_ref().map(|_| base.join("include"))
    } else {
        let temp = out_dir.join(format!(".onnxruntime-staging-{}", std::process::id()));
        restage(inspected, &base, &temp)?
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

/// Builds the staged directory beside `base`, then renames it into place.
fn restage(inspected: &Inspected, base: &Path, temp: &Path) -> Result<Option<PathBuf>, Error> {
    remove_if_present(temp).map_err(io_err("clear the staging directory", temp))?;
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
        remove_if_present(base).map_err(io_err("replace the staged directory", base))?;
        fs::rename(temp, base).map_err(io_err("publish the staged directory", base))?;
        Ok(include_dir)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(temp);
    }
    result
}

/// Whether `base` already holds exactly the links [`restage`] would make (a build-script rerun with
/// the same library), so it is left alone: removing and re-creating them costs a warm probe more
/// than everything else it does. What the two directories hold comes from the inspection memo while
/// neither has changed since it was read (a link is replaced, never repointed, so replacing one
/// changes its directory's times). Windows hosts stage copies, which are always redone.
#[cfg(unix)]
fn already_staged(inspected: &Inspected, base: &Path, memo: &Memo) -> bool {
    let text = |path: &Path| path.to_str().map(str::to_string);
    let mut top = vec![("lib".to_string(), None)];
    if let Some(include) = &inspected.include_dir {
        let Some(include) = text(include) else { return false };
        top.push(("include".to_string(), Some(include)));
    }
    let mut lib = Vec::new();
    for file in &inspected.runtime_files {
        let (Some(name), Some(path)) = (file.name.to_str(), text(&file.path)) else { return false };
        lib.push((name.to_string(), Some(path)));
    }
    top.sort();
    lib.sort();
    memo.links(base).is_some_and(|found| found == top)
        && memo.links(&base.join("lib")).is_some_and(|found| found == lib)
}

#[cfg(not(unix))]
fn already_staged(_inspected: &Inspected, _base: &Path, _memo: &Memo) -> bool {
    false
}

/// Turns an I/O failure while doing `action` to `path` into the crate's error.
fn io_err(action: &str, path: &Path) -> impl FnOnce(io::Error) -> Error {
    let (action, path) = (action.to_string(), path.to_path_buf());
    move |source| Error::Io { action, path, source }
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

/// Copies the run-time files next to the executables of the build running this build script —
/// `target/<profile>/`, `deps/` (tests, benches) and `examples/`, and with a separate build dir the
/// final `<profile>/` and `examples/` of the target directory too — for relocatable deployment with a
/// `$ORIGIN` / `@loader_path` rpath, and for Windows, whose loader looks beside the executable. Each real
/// file is written once per directory (hard-linked where possible); the other names are relative
/// symlinks to it (copies on Windows hosts). Import libraries stay behind: they are for linking only.
pub(crate) fn copy_next_to_executables(
    inspected: &Inspected,
    out_dir: &Path,
    env: &Env,
) -> Result<Vec<PathBuf>, Error> {
    let profile = profile_dir(out_dir).ok_or_else(|| Error::Io {
        action: "find target/<profile> (three levels above OUT_DIR) for".into(),
        path: out_dir.to_path_buf(),
        source: io::Error::from(io::ErrorKind::NotFound),
    })?;
    let mut dirs = vec![profile.clone(), profile.join("deps"), profile.join("examples")];
    if let Some(final_profile) = final_dir::final_profile_dir(&profile, out_dir, env) {
        let examples = final_profile.join("examples");
        dirs.extend([final_profile, examples]);
    }
    let runtime: Vec<&crate::inspect::RuntimeFile> = inspected
        .runtime_files
        .iter()
        .filter(|f| !f.name.to_string_lossy().to_ascii_lowercase().ends_with(".lib"))
        .collect();
    let mut placed = Vec::new();
    let mut first_copies: Vec<(PathBuf, PathBuf)> = Vec::new(); // (real source, its copy in `profile`)
    for dir in dirs {
        fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
        for file in &runtime {
            let real_name = file.path.file_name().map(PathBuf::from).unwrap_or_else(|| PathBuf::from(&file.name));
            let real_dest = dir.join(&real_name);
            let earlier = first_copies.iter().find(|(src, _)| src == &file.path).map(|(_, copy)| copy.clone());
            if !placed.contains(&real_dest) {
                replace_with_copy(earlier.as_deref().unwrap_or(&file.path), &real_dest)
                    .map_err(io_err("copy the library to", &real_dest))?;
                if earlier.is_none() {
                    first_copies.push((file.path.clone(), real_dest.clone()));
                }
                placed.push(real_dest.clone());
            }
            if Path::new(&file.name) != real_name {
                let alias = dir.join(&file.name);
                replace_with_alias(&real_name, &real_dest, &alias).map_err(io_err("link", &alias))?;
                placed.push(alias);
            }
        }
    }
    Ok(placed)
}

/// `target/<profile>` (or `target/<triple>/<profile>`): `OUT_DIR` is `<profile>/build/<pkg>-<hash>/out`.
fn profile_dir(out_dir: &Path) -> Option<PathBuf> {
    let profile = out_dir.parent()?.parent()?.parent()?;
    profile.join("build").is_dir().then(|| profile.to_path_buf())
}

/// Puts a copy of `src` at `dest` under a temporary name first, so a reader never sees half a file
/// and a previous (possibly other-release) file is replaced in one step.
fn replace_with_copy(src: &Path, dest: &Path) -> io::Result<()> {
    let temp = dest.with_file_name(format!(
        ".{}.{}.tmp",
        dest.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let _ = fs::remove_file(&temp);
    // A real copy, never a hard link: the source may be the shared cache, which a tool rewriting the
    // copy in place (patchelf, a careless `cp`) must not change for every other project.
    fs::copy(src, &temp)?;
    fs::rename(&temp, dest).inspect_err(|_| {
        let _ = fs::remove_file(&temp);
    })
}

/// `alias` → `real_name` (relative, so the directory can move), replacing whatever `alias` was.
#[cfg(unix)]
fn replace_with_alias(real_name: &Path, _real: &Path, alias: &Path) -> io::Result<()> {
    let temp = alias.with_file_name(format!(
        ".{}.{}.tmp",
        alias.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let _ = fs::remove_file(&temp);
    std::os::unix::fs::symlink(real_name, &temp)?;
    fs::rename(&temp, alias)
}

#[cfg(not(unix))]
fn replace_with_alias(_real_name: &Path, real: &Path, alias: &Path) -> io::Result<()> {
    replace_with_copy(real, alias)
}

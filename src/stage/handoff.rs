//! The directory `cargo onnxruntime env` hands to other tools (ort-sys's `ORT_LIB_LOCATION`, an rpath,
//! the loader path variable). The CLI is no build script, so nothing is staged into `OUT_DIR` and the
//! probe's library directory is the source one. That is only usable when it holds every name the linker
//! and loader ask for: macOS archives never contain `libonnxruntime.1.dylib`, the install name their
//! dylib records (a program linked through them stops with "Library not loaded"), and Linux 1.16.0
//! lacked `libonnxruntime.so.1`. Such a library is staged under `<cache>/handoff/<target>/<key>/`:
//! beside the download cache, so `cargo clean` keeps it; keyed by source directory and release, so
//! each install gets its own and a rerun finds the same directory.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use super::io_err;
use crate::config::Config;
use crate::env::Vars;
use crate::error::{DownloadError, Error};
use crate::inspect::{self, Inspected, Memo, RuntimeFile};
use crate::library::Library;
use crate::request::{LinkKind, Request};
use crate::sources::{Candidate, Origin, SourceKind};
use crate::target::{Os, Target};
use crate::version::{Version, VersionReq};

/// `library` as it should be handed off, and, when it was staged for that, why (one line for stderr).
pub(crate) fn hand_off(config: &Config, library: Library) -> Result<(Library, Option<String>), Error> {
    // A static build leaves nothing to load at run time and links by full path.
    if library.is_skipped() || library.link == LinkKind::Static {
        return Ok((library, None));
    }
    let target = Target::new(&library.target)?;
    let inspected = reinspect(&library, &target)?;
    // A name counts only when it leads to the file the probe chose: a leftover link to another
    // release would hand the loader that release.
    let real = |path: &Path| fs::canonicalize(path).ok();
    let (mut absent, mut elsewhere): (Vec<&RuntimeFile>, Vec<&RuntimeFile>) = (Vec::new(), Vec::new());
    for file in &inspected.runtime_files {
        match real(&library.lib_dir.join(&file.name)) {
            None => absent.push(file),
            Some(found) if Some(&found) != real(&file.path).as_ref() => elsewhere.push(file),
            Some(_) => {}
        }
    }
    if absent.is_empty() && elsewhere.is_empty() {
        return Ok((library, None));
    }
    let vars = Vars::new(&config.env, target.triple());
    let cache = crate::sources::download::cache_root(config, &vars).map_err(cache_error)?;
    let dir = cache.join("handoff").join(target.triple()).join(key(&library.lib_dir, &library.version));
    fs::create_dir_all(&dir).map_err(io_err("create the hand-off directory", &dir))?;
    // Two runs at once would otherwise both restage, and one's rename would meet the other's directory.
    // A filesystem without locks is not refused (the cache does the same): runs there rarely overlap.
    let lock_path = dir.join(".lock");
    let lock = File::create(&lock_path).map_err(io_err("create the lock file", &lock_path))?;
    match lock.lock() {
        Err(e) if e.kind() != io::ErrorKind::Unsupported => return Err(io_err("lock", &lock_path)(e)),
        _ => {}
    }
    // No memo: the CLI is no build script, and a hand-off is staged rarely.
    let staged = super::stage(&inspected, &dir, &Memo::new(None))?;
    drop(lock);

    let names = |files: &[&RuntimeFile]| -> (String, bool) {
        let names: Vec<String> = files.iter().map(|file| describe(file, &inspected, &target)).collect();
        (names.join(" and "), names.len() == 1)
    };
    let mut reasons = Vec::new();
    if !absent.is_empty() {
        let (names, one) = names(&absent);
        reasons.push(format!("{names} {} not in {}", if one { "is" } else { "are" }, library.lib_dir.display()));
    }
    if !elsewhere.is_empty() {
        let (names, one) = names(&elsewhere);
        let chosen = inspected.library.display();
        let (verb, lead) = if one { ("is", "leads") } else { ("are", "lead") };
        reasons
            .push(format!("{names} {verb} in {} but {lead} to another file than {chosen}", library.lib_dir.display()));
    }
    let pronoun = if absent.len() + elsewhere.len() == 1 { "it" } else { "them" };
    let note = format!("{}; handing off {}, which links {pronoun}", reasons.join("; "), staged.lib_dir.display());
    let handed = Library {
        root: staged.lib_dir.parent().map(Path::to_path_buf),
        lib_dir: staged.lib_dir,
        include_dir: staged.include_dir,
        runtime_files: staged.files,
        ..library
    };
    Ok((handed, Some(note)))
}

/// The probe's judgement again, for the file names it would stage (a [`Library`] keeps only paths).
fn reinspect(library: &Library, target: &Target) -> Result<Inspected, Error> {
    let candidate = Candidate {
        source: source_of(&library.origin),
        origin: library.origin.clone(),
        root: library.root.clone(),
        lib_dir: library.lib_dir.clone(),
        include_dir: library.include_dir.clone(),
        claimed_version: Some(library.version),
        named_by: None,
    };
    let request = Request { version: VersionReq::any(), variant: library.variant, link: library.link, offline: None };
    inspect::inspect(&candidate, target, &request, &Memo::new(None)).map_err(|verdict| Error::Io {
        action: "read again, to hand it off,".into(),
        path: library.lib_dir.clone(),
        source: io::Error::other(verdict.to_string()),
    })
}

fn source_of(origin: &Origin) -> SourceKind {
    match origin {
        Origin::Variable { .. } | Origin::Skipped { .. } => SourceKind::Env,
        Origin::PkgConfig { .. } => SourceKind::PkgConfig,
        Origin::System { .. } => SourceKind::System,
        Origin::Download { .. } => SourceKind::Download,
    }
}

/// 16 hex digits of SHA-256 over the source directory and the release: stable across runs and
/// releases of this crate (an rpath written into a project's config keeps naming it).
fn key(lib_dir: &Path, version: &Version) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(lib_dir.as_os_str().as_encoded_bytes());
    context.update(&[0]);
    context.update(version.to_string().as_bytes());
    context.finish().as_ref().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// `libonnxruntime.1.dylib, the install name the loader asks for,` (the note reads on after it).
fn describe(file: &RuntimeFile, inspected: &Inspected, target: &Target) -> String {
    let name = file.name.to_string_lossy();
    let soname = inspected.binary.soname.as_deref().map(|s| s.rsplit('/').next().unwrap_or(s));
    let role = if soname == Some(&*name) {
        match target.os() {
            Os::MacOs => "the install name the loader asks for",
            _ => "the SONAME the loader asks for",
        }
    } else if name.starts_with("libonnxruntime.") && !name.contains(|c: char| c.is_ascii_digit()) {
        "the name -lonnxruntime links"
    } else {
        "a name the library goes by"
    };
    format!("{name}, {role},")
}

fn cache_error(error: DownloadError) -> Error {
    match error {
        DownloadError::Cache { action, path, source } => Error::Io { action, path, source },
        other => Error::Io {
            action: "find the cache directory for".into(),
            path: PathBuf::from("the hand-off"),
            source: io::Error::other(other.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_stable_and_tells_sources_and_releases_apart() {
        // A written rpath names this directory: a new release of this crate must find the same one.
        let lib = Path::new("/cache/abc/content/onnxruntime-osx-arm64-1.22.0/lib");
        assert_eq!(key(lib, &Version::new(1, 22, 0)), "c6f6dde89136aa1b");
        assert_ne!(key(lib, &Version::new(1, 22, 0)), key(lib, &Version::new(1, 22, 1)));
        assert_ne!(key(lib, &Version::new(1, 22, 0)), key(Path::new("/other/lib"), &Version::new(1, 22, 0)));
    }
}

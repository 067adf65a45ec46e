//! Judging a user-supplied static build: one `libonnxruntime.a`, or an ORT CMake build tree whose
//! `libonnxruntime_*.a` and dependency archives (`_deps/*-build/...`) are discovered, not listed by
//! hand — the set changes with every release.

use std::fs;
use std::path::{Path, PathBuf};

use super::binary::{self, Format};
use super::{Inspected, Naming, RuntimeFile, check_arch, install_version};
use crate::error::Verdict;
use crate::request::Request;
use crate::sources::Candidate;
use crate::target::{Os, Target};

/// How deep and how wide the build-tree walk goes (ORT's deepest archives, abseil's, sit ~6 levels down).
const MAX_DEPTH: usize = 8;
const MAX_VISITED: usize = 20_000;

pub(super) fn inspect(candidate: &Candidate, target: &Target, request: &Request) -> Result<Inspected, Verdict> {
    if matches!(target.os(), Os::Windows | Os::Other(_)) {
        return Err(Verdict::Skipped {
            reason: format!("static linking is supported for Linux and macOS targets, not {}", target.os()),
        });
    }
    let dir = &candidate.lib_dir;
    let archives = discover(dir)?;
    let naming =
        Naming { link_name: "libonnxruntime.a", is_main: |_| false, is_provider: |_| false, format: Format::Archive };
    for archive in &archives {
        let info =
            binary::read(archive).map_err(|e| Verdict::Unusable { detail: format!("{}: {e}", archive.display()) })?;
        // Archives of ELF objects must be ELF-for-the-target inside; the container says nothing.
        check_arch(archive, &info, &naming, target)?;
    }
    let (version, evidence) = install_version(candidate, vec![])
        .map_err(|looked_at| Verdict::UnknownVersion { required: request.version.clone(), looked_at })?;
    if !request.version.matches(&version) {
        return Err(Verdict::WrongVersion { found: version, required: request.version.clone(), evidence });
    }
    let mut runtime_files = Vec::new();
    let mut static_libs = Vec::new();
    for archive in &archives {
        let name = archive.file_name().unwrap_or_default().to_os_string();
        if runtime_files.iter().any(|f: &RuntimeFile| f.name == name) {
            return Err(Verdict::Unusable {
                detail: format!("two archives are named {} ({})", name.to_string_lossy(), archive.display()),
            });
        }
        static_libs.push(link_name(archive).unwrap_or_default());
        runtime_files.push(RuntimeFile { name, path: archive.clone() });
    }
    Ok(Inspected {
        candidate: candidate.clone(),
        version,
        evidence,
        library: archives[0].clone(),
        binary: binary::read(&archives[0]).map_err(|e| Verdict::Unusable { detail: e.to_string() })?,
        runtime_files,
        include_dir: candidate.headers_dir().filter(|d| d.is_dir()),
        static_libs,
    })
}

/// `libonnxruntime_session.a` → `onnxruntime_session`.
fn link_name(archive: &Path) -> Option<String> {
    let name = archive.file_name()?.to_str()?;
    Some(name.strip_prefix("lib")?.strip_suffix(".a")?.to_string())
}

/// The archives to link, ORT's own first. Test-only libraries of a build tree are left out.
fn discover(dir: &Path) -> Result<Vec<PathBuf>, Verdict> {
    let single = dir.join("libonnxruntime.a");
    if single.is_file() {
        return Ok(vec![single]);
    }
    let mut found = Vec::new();
    let mut visited = 0;
    walk(dir, 0, &mut visited, &mut found);
    let is_ort = |p: &PathBuf| link_name(p).is_some_and(|n| n.starts_with("onnxruntime"));
    if !found.iter().any(is_ort) {
        return Err(Verdict::NotFound {
            detail: format!("no libonnxruntime.a or libonnxruntime_*.a under {}", dir.display()),
        });
    }
    found.sort_by_key(|p| (!is_ort(p), p.clone()));
    Ok(found)
}

fn walk(dir: &Path, depth: usize, visited: &mut usize, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        *visited += 1;
        if *visited > MAX_VISITED {
            return;
        }
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() && depth < MAX_DEPTH {
            walk(&path, depth + 1, visited, found);
        } else if kind.is_file() && link_name(&path).is_some_and(|n| !is_test_only(&n)) {
            found.push(path);
        }
    }
}

/// Archives a build tree has for its own tests (googletest, google benchmark, ORT's test utilities).
fn is_test_only(name: &str) -> bool {
    ["gtest", "gmock", "benchmark", "test"].iter().any(|word| name.contains(word))
}

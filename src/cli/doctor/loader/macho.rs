//! Which `libonnxruntime` dylib a Mach-O executable will load, found the way dyld searches (dyld(1)):
//! each `DYLD_LIBRARY_PATH` directory with the install name's file name; then the install name itself
//! (`@rpath/…` under each `LC_RPATH` in order, `@executable_path` and `@loader_path` being the
//! executable's directory; an absolute path as is); then each `DYLD_FALLBACK_LIBRARY_PATH` directory
//! (`/usr/local/lib:/usr/lib` when unset) with the file name. A file without the executable's
//! architecture is skipped, as dyld skips it; a universal file serves if one slice matches.
//!
//! macOS builds of ONNX Runtime are not symbol-versioned, so dyld loads any release under the install
//! name: the release is told from the versions instead. The executable records the current version of
//! the dylib it was linked against; the dylib found says its own. ORT's install name is
//! `@rpath/libonnxruntime.1.dylib`, a file the release archives lack (they hold
//! `libonnxruntime.<version>.dylib`), so a directory with only the latter is named as a near miss.

use std::path::{Path, PathBuf};

use onnxruntime_provision::Arch;
use onnxruntime_provision::internal::cli::{self as internal, BinaryInfo, Format};

use super::super::Finding;
use crate::host_env;

/// dyld's fallback directories when `DYLD_FALLBACK_LIBRARY_PATH` is unset.
const DEFAULT_FALLBACK: [&str; 2] = ["/usr/local/lib", "/usr/lib"];

pub(super) fn check(binary: &Path, info: &BinaryInfo) -> Vec<Finding> {
    let wanted: Vec<&String> = info.needed.iter().filter(|n| file_name(n).starts_with("libonnxruntime")).collect();
    if wanted.is_empty() {
        return vec![super::links_nothing(binary)];
    }
    let origin = super::origin(binary);
    let mut findings = Vec::new();
    for name in wanted {
        let places = search_order(name, info, &origin);
        // Each slice of a universal executable is loaded on its own, and may find another file.
        for arch in &info.archs {
            let program = if info.archs.len() > 1 {
                format!("{} ({} slice)", binary.display(), arch_word(arch))
            } else {
                binary.display().to_string()
            };
            findings.push(resolve(&program, info, name, arch, &places));
        }
    }
    findings
}

/// A path dyld tries, and what put it there.
struct Place {
    path: PathBuf,
    via: String,
}

/// The last component of an install name: what the `DYLD_*` directories are searched for.
fn file_name(install_name: &str) -> &str {
    install_name.rsplit('/').next().unwrap_or(install_name)
}

/// The paths dyld tries for `name`, in order, each once.
fn search_order(name: &str, info: &BinaryInfo, origin: &Path) -> Vec<Place> {
    let leaf = file_name(name);
    let mut places: Vec<Place> = path_list("DYLD_LIBRARY_PATH")
        .into_iter()
        .map(|dir| Place { path: dir.join(leaf), via: "DYLD_LIBRARY_PATH".into() })
        .collect();
    places.extend(install_name_paths(name, info, origin));
    let fallback = path_list("DYLD_FALLBACK_LIBRARY_PATH");
    if fallback.is_empty() {
        places.extend(
            DEFAULT_FALLBACK
                .iter()
                .map(|dir| Place { path: Path::new(dir).join(leaf), via: "dyld's default fallback directory".into() }),
        );
    } else {
        places.extend(
            fallback.into_iter().map(|dir| Place { path: dir.join(leaf), via: "DYLD_FALLBACK_LIBRARY_PATH".into() }),
        );
    }
    let mut seen: Vec<PathBuf> = Vec::new();
    places.retain(|place| {
        let new = !seen.contains(&place.path);
        seen.push(place.path.clone());
        new
    });
    places
}

fn path_list(variable: &str) -> Vec<PathBuf> {
    host_env::var_os(variable)
        .map(|paths| std::env::split_paths(&paths).filter(|p| !p.as_os_str().is_empty()).collect())
        .unwrap_or_default()
}

/// Where the install name itself leads: `@rpath/` under each `LC_RPATH`, the `@executable_path/` and
/// `@loader_path/` prefixes (the executable's directory, for the executable), or the path as written.
fn install_name_paths(name: &str, info: &BinaryInfo, origin: &Path) -> Vec<Place> {
    if let Some(rest) = name.strip_prefix("@rpath/") {
        return info
            .run_paths
            .iter()
            .map(|rpath| Place { path: expand(rpath, origin).join(rest), via: format!("LC_RPATH {rpath}") })
            .collect();
    }
    for prefix in ["@executable_path", "@loader_path"] {
        if let Some(rest) = name.strip_prefix(prefix).and_then(|r| r.strip_prefix('/')) {
            return vec![Place { path: origin.join(rest), via: prefix.into() }];
        }
    }
    vec![Place { path: PathBuf::from(name), via: "the install name".into() }]
}

/// An `LC_RPATH` entry with a leading `@loader_path` or `@executable_path` made the executable's directory.
fn expand(rpath: &str, origin: &Path) -> PathBuf {
    for prefix in ["@loader_path", "@executable_path"] {
        match rpath.strip_prefix(prefix) {
            Some("") => return origin.to_path_buf(),
            Some(rest) if rest.starts_with('/') => return origin.join(rest.trim_start_matches('/')),
            _ => {}
        }
    }
    PathBuf::from(rpath)
}

fn resolve(program: &str, info: &BinaryInfo, name: &str, arch: &Arch, places: &[Place]) -> Finding {
    let leaf = file_name(name);
    let linked =
        info.version_needs.iter().find(|n| n.file == name).and_then(|n| n.current_version).filter(|v| *v != (0, 0, 0));
    let mut tried: Vec<String> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut found: Option<(&Place, BinaryInfo)> = None;
    for place in places {
        let at = format!("{} ({})", place.path.display(), place.via);
        if !place.path.exists() {
            tried.push(format!("{at}: no such file"));
            continue;
        }
        let outcome = match internal::read_binary(&place.path) {
            Ok(lib) if lib.format == Format::MachO && lib.archs.contains(arch) => {
                found = Some((place, lib));
                break;
            }
            Ok(lib) => format!("{at}: skipped, it is {} (no {} slice)", lib.description, arch_word(arch)),
            Err(e) => format!("{at}: skipped: {e}"),
        };
        tried.push(outcome.clone());
        skipped.push(outcome);
    }
    let Some((place, lib)) = found else {
        return not_loaded(program, name, arch, linked, places, &tried);
    };
    let real = std::fs::canonicalize(&place.path).unwrap_or_else(|_| place.path.clone());
    let mut why = format!("found via {}", place.via);
    for line in &skipped {
        why.push_str(&format!("\n{line}"));
    }
    let have = lib.dylib_version.filter(|v| *v != (0, 0, 0));
    if let (Some(have), Some(want)) = (have, linked)
        && have < want
    {
        why.push_str(&format!(
            "\nmacOS builds of ONNX Runtime are not symbol-versioned, so dyld loads it; a program asking for C API {} \
             then gets \"The requested API version [{}] is not available\"",
            want.1, want.1
        ));
        return Finding::warning(
            format!(
                "{program} loads {name} from {}: ONNX Runtime {}, older than the {} it was linked against",
                real.display(),
                version_text(have),
                version_text(want)
            ),
            why,
            run_time_fix(Some(want), leaf, arch, None),
        );
    }
    Finding::ok(
        format!(
            "{program} loads {name} from {} (current version {}; linked against {})",
            real.display(),
            have.map_or("unknown".into(), version_text),
            linked.map_or("an unknown version".into(), version_text)
        ),
        why,
    )
}

/// dyld's "Library not loaded", with every path tried and any near miss.
fn not_loaded(
    program: &str,
    name: &str,
    arch: &Arch,
    linked: Option<(u32, u32, u32)>,
    places: &[Place],
    tried: &[String],
) -> Finding {
    let leaf = file_name(name);
    let named = release_in_name(leaf);
    let release = named.or(linked);
    let mut why = format!(
        "dyld tries DYLD_LIBRARY_PATH, then the install name, then the fallback directories; none has an {} {leaf}",
        arch_word(arch)
    );
    if name.starts_with("@rpath/") && places.iter().all(|p| !p.via.starts_with("LC_RPATH")) {
        why.push_str("\nthe executable has no LC_RPATH, so an @rpath/ install name leads nowhere by itself");
    }
    match (linked, named) {
        (Some(linked), _) => {
            why.push_str(&format!("\nthe program was linked against ONNX Runtime {}", version_text(linked)))
        }
        (None, Some(named)) => why.push_str(&format!("\nthe install name names ONNX Runtime {}", version_text(named))),
        (None, None) => {}
    }
    why.push_str("\ntried:");
    for line in tried {
        why.push_str(&format!("\n  {line}"));
    }
    let near = near_miss(leaf, release, places);
    if let Some((dir, file)) = &near {
        why.push_str(&format!(
            "\n{} has {file} but no {leaf}: ONNX Runtime's archives ship only libonnxruntime.<version>.dylib, while its install name asks for {leaf}",
            dir.display()
        ));
    }
    why.push_str("\nDYLD_* variables do not reach a program started by a protected system program such as /bin/sh: macOS removes them");
    Finding::problem(
        format!("{program} will not start: Library not loaded: {name}"),
        why,
        run_time_fix(release, leaf, arch, near.as_ref()),
    )
}

/// A directory searched that holds some release's `libonnxruntime.<version>.dylib` but not `leaf`:
/// the one with the wanted release if any, else the first.
fn near_miss(leaf: &str, release: Option<(u32, u32, u32)>, places: &[Place]) -> Option<(PathBuf, String)> {
    let wanted = release.map(|r| format!("libonnxruntime.{}.dylib", version_text(r)));
    let mut misses: Vec<(PathBuf, String)> = Vec::new();
    for dir in places.iter().filter_map(|p| p.path.parent()) {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        // Shown and used in an `ln -s` command: without the `..` an rpath may have put there.
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n != leaf && release_in_name(n).is_some())
            .collect();
        names.sort();
        if let Some(file) = names.iter().find(|n| Some(*n) == wanted.as_ref()) {
            return Some((dir, file.clone()));
        }
        misses.extend(names.into_iter().take(1).map(|file| (dir.clone(), file)));
    }
    misses.into_iter().next()
}

/// Point the loader at the linked release, or rebuild so the program finds it by itself.
fn run_time_fix(
    release: Option<(u32, u32, u32)>,
    leaf: &str,
    arch: &Arch,
    near: Option<&(PathBuf, String)>,
) -> Vec<String> {
    let mut fix = Vec::new();
    // A cache entry never changes after it is published: no link is added inside one.
    if let Some((dir, file)) = near.filter(|(dir, _)| !in_cache_entry(dir)) {
        fix.push(format!("ln -s {file} {}   (the install name's file, beside the release)", dir.join(leaf).display()));
    }
    let triple = match arch {
        Arch::X86_64 => Some("x86_64-apple-darwin"),
        Arch::Aarch64 => Some("aarch64-apple-darwin"),
        _ => None,
    };
    let or = if fix.is_empty() { "" } else { "or " };
    // The shell hand-off serves a directory that holds every name the loader asks for (it stages one
    // when the release's own lacks the install name's file).
    match (release.map(version_text), triple) {
        (Some(release), Some(triple)) => fix.push(format!(
            "{or}eval \"$(cargo onnxruntime env --for shell --target {triple} --version {release})\"   (puts a directory with ONNX Runtime {release}'s {leaf} first on DYLD_LIBRARY_PATH)"
        )),
        (Some(release), None) => fix.push(format!(
            "{or}export DYLD_LIBRARY_PATH=<the directory of ONNX Runtime {release}'s {} {leaf}>",
            arch_word(arch)
        )),
        (None, _) => fix.push(format!(
            "{or}export DYLD_LIBRARY_PATH=<the directory of the {} {leaf} the program was linked against>",
            arch_word(arch)
        )),
    }
    fix.push(
        "or rebuild with onnxruntime-provision: its build script stages the dylib under its install name and gives the program an LC_RPATH to it; Config::copy_to_target_dir(true) copies it beside the executable with an @loader_path rpath, so the output moves as a whole"
            .into(),
    );
    fix
}

/// Whether `dir` lies in a download cache entry (`<entry>/content/<top>/lib`, `<entry>/marker`).
fn in_cache_entry(dir: &Path) -> bool {
    dir.ancestors().any(|a| a.file_name().is_some_and(|n| n == "content") && a.with_file_name("marker").is_file())
}

/// `libonnxruntime.1.22.0.dylib` → 1.22.0; `None` for names without a full release.
fn release_in_name(file_name: &str) -> Option<(u32, u32, u32)> {
    let middle = file_name.strip_prefix("libonnxruntime.")?.strip_suffix(".dylib")?;
    let mut parts = middle.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next()??, parts.next()??, parts.next()??, parts.next()) {
        (a, b, c, None) => Some((a, b, c)),
        _ => None,
    }
}

fn version_text((major, minor, patch): (u32, u32, u32)) -> String {
    format!("{major}.{minor}.{patch}")
}

/// An architecture as macOS's tools name it (`lipo`, dyld's messages).
fn arch_word(arch: &Arch) -> String {
    match arch {
        Arch::X86_64 => "x86_64".into(),
        Arch::Aarch64 => "arm64".into(),
        other => other.to_string(),
    }
}

//! Which `libonnxruntime` an ELF executable will load, found the way glibc's loader searches
//! (ld.so(8)): a name with a slash as is; `DT_RPATH` (when there is no `DT_RUNPATH`); `LD_LIBRARY_PATH`;
//! `DT_RUNPATH`; the directories of `/etc/ld.so.conf` (what `ld.so.cache` is built from); then the
//! default directories. `$ORIGIN` is the executable's directory. A file of another architecture is
//! skipped, as the loader skips it. The file found must define every version node the executable
//! needs from it (`VERS_1.22.0`), or the program stops with "version `VERS_1.22.0' not found".

use std::path::{Path, PathBuf};

use onnxruntime_provision::internal::cli::{self as internal, BinaryInfo, Format};

use super::super::Finding;
use crate::host_env;

/// Nested `include` lines followed in ld.so.conf at most this deep.
const MAX_INCLUDE_DEPTH: usize = 4;

pub(super) fn check(binary: &Path, info: &BinaryInfo) -> Vec<Finding> {
    let wanted: Vec<&String> = info.needed.iter().filter(|n| n.starts_with("libonnxruntime.so")).collect();
    if wanted.is_empty() {
        return vec![super::links_nothing(binary)];
    }
    wanted.into_iter().map(|name| resolve(binary, info, name)).collect()
}

/// One place searched, and what was there.
struct Look {
    dir: PathBuf,
    via: &'static str,
    outcome: String,
}

fn resolve(binary: &Path, info: &BinaryInfo, name: &str) -> Finding {
    let origin = super::origin(binary);
    let needs: Vec<String> =
        info.version_needs.iter().filter(|n| n.file == name).flat_map(|n| n.versions.iter().cloned()).collect();
    let mut looks: Vec<Look> = Vec::new();
    let mut found: Option<(PathBuf, BinaryInfo, &'static str)> = None;
    for (dir, via) in search_dirs(info, &origin) {
        let path = dir.join(name);
        if !path.exists() {
            continue;
        }
        match internal::read_binary(&path) {
            Ok(lib) if lib.format == Format::Elf && lib.archs == info.archs => {
                found = Some((path, lib, via));
                break;
            }
            Ok(lib) => {
                looks.push(Look { dir, via, outcome: format!("skipped: {} is {}", path.display(), lib.description) })
            }
            Err(e) => looks.push(Look { dir, via, outcome: format!("skipped: {}: {e}", path.display()) }),
        }
    }
    let searched: Vec<String> =
        looks.iter().map(|l| format!("{} ({}): {}", l.dir.display(), l.via, l.outcome)).collect();
    let needs_text = if needs.is_empty() { "no version node".to_string() } else { needs.join(", ") };
    let Some((path, lib, via)) = found else {
        let mut why = format!(
            "searched DT_RPATH/DT_RUNPATH {:?}, LD_LIBRARY_PATH, /etc/ld.so.conf and the default directories; none has {name}",
            info.run_paths
        );
        for line in &searched {
            why.push_str(&format!("\n{line}"));
        }
        return Finding::problem(
            format!("{} will not start: {name} not found", binary.display()),
            why,
            run_time_fix(&needs),
        );
    };
    let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    let release = lib
        .version_definitions
        .iter()
        .find(|d| d.starts_with("VERS_"))
        .cloned()
        .unwrap_or_else(|| "no VERS_ node".into());
    let missing: Vec<&String> = needs.iter().filter(|v| !lib.version_definitions.contains(v)).collect();
    if missing.is_empty() {
        return Finding::ok(
            format!("{} loads {name} from {} ({release}; needs {needs_text})", binary.display(), real.display()),
            format!("found via {via}"),
        );
    }
    let missing_text: Vec<String> = missing.iter().map(|v| format!("version `{v}' not found")).collect();
    Finding::problem(
        format!(
            "{} will not start: {} (required by it) in {}",
            binary.display(),
            missing_text.join(", "),
            real.display()
        ),
        format!(
            "the loader resolves {name} to {} (via {via}), which defines {}, but the executable was linked against {needs_text}\nLinux ONNX Runtime builds are symbol-versioned per release: a program runs only with the release it was linked against",
            path.display(),
            if lib.version_definitions.is_empty() {
                "no version node".to_string()
            } else {
                lib.version_definitions.join(", ")
            }
        ),
        run_time_fix(&needs),
    )
}

/// Put the linked release first on the loader path, or rebuild against the one found.
fn run_time_fix(needs: &[String]) -> Vec<String> {
    match needs.iter().find_map(|v| v.strip_prefix("VERS_")) {
        Some(release) => vec![
            format!(
                "eval \"$(cargo onnxruntime env --for shell --version {release})\"   (puts ONNX Runtime {release} first on LD_LIBRARY_PATH)"
            ),
            "or rebuild the program against the release the loader finds (its build.rs / ONNXRUNTIME_VERSION)".into(),
        ],
        None => {
            vec!["set LD_LIBRARY_PATH to the directory of the libonnxruntime the program was linked against".into()]
        }
    }
}

/// The directories the loader tries, in order, with what put each there.
fn search_dirs(info: &BinaryInfo, origin: &Path) -> Vec<(PathBuf, &'static str)> {
    let expand = |entry: &str| -> PathBuf {
        let origin = origin.display().to_string();
        let lib = if info.description.contains("64-bit") { "lib64" } else { "lib" };
        PathBuf::from(
            entry.replace("${ORIGIN}", &origin).replace("$ORIGIN", &origin).replace("${LIB}", lib).replace("$LIB", lib),
        )
    };
    let mut dirs: Vec<(PathBuf, &'static str)> = Vec::new();
    if info.run_paths_are_rpath {
        dirs.extend(info.run_paths.iter().map(|p| (expand(p), "DT_RPATH")));
    }
    if let Some(paths) = host_env::var_os("LD_LIBRARY_PATH") {
        dirs.extend(
            std::env::split_paths(&paths).filter(|p| !p.as_os_str().is_empty()).map(|p| (p, "LD_LIBRARY_PATH")),
        );
    }
    if !info.run_paths_are_rpath {
        dirs.extend(info.run_paths.iter().map(|p| (expand(p), "DT_RUNPATH")));
    }
    let mut conf = Vec::new();
    read_ld_so_conf(Path::new("/etc/ld.so.conf"), 0, &mut conf);
    dirs.extend(conf.into_iter().map(|d| (d, "/etc/ld.so.conf")));
    let defaults: &[&str] = if info.description.contains("64-bit") {
        &["/lib64", "/usr/lib64", "/lib", "/usr/lib"]
    } else {
        &["/lib", "/usr/lib"]
    };
    dirs.extend(defaults.iter().map(|d| (PathBuf::from(d), "default directory")));
    dirs
}

fn read_ld_so_conf(path: &Path, depth: usize, dirs: &mut Vec<PathBuf>) {
    let Ok(text) = std::fs::read_to_string(path) else { return };
    for line in text.lines().map(|l| l.split('#').next().unwrap_or("").trim()).filter(|l| !l.is_empty()) {
        if let Some(pattern) = line.strip_prefix("include").map(str::trim) {
            if depth < MAX_INCLUDE_DEPTH {
                for file in glob_files(pattern, path) {
                    read_ld_so_conf(&file, depth + 1, dirs);
                }
            }
        } else if line.starts_with('/') {
            dirs.push(PathBuf::from(line));
        }
    }
}

/// `include /etc/ld.so.conf.d/*.conf`: the files matching a `*` in the last component, sorted.
fn glob_files(pattern: &str, from: &Path) -> Vec<PathBuf> {
    let pattern = if pattern.starts_with('/') {
        PathBuf::from(pattern)
    } else {
        from.parent().unwrap_or(Path::new("/")).join(pattern)
    };
    let (Some(dir), Some(name)) = (pattern.parent(), pattern.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    let (prefix, suffix) = name.split_once('*').unwrap_or((name, ""));
    let exact = !name.contains('*');
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    if exact {
                        n == name
                    } else {
                        n.starts_with(prefix) && n.ends_with(suffix) && n.len() >= prefix.len() + suffix.len()
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

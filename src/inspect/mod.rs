//! Judging a candidate: is the library there, is it built for the target, and which release is it?
//!
//! The release comes from the strongest evidence present, in this order: the ELF version node the
//! library exports (`VERS_1.22.0`, what the loader checks), the Mach-O dylib version, the versioned
//! file name, `VERSION_NUMBER` in the install root, a version claimed by pkg-config, and last the
//! header's `ORT_API_VERSION` (which gives the minor number only).

pub(crate) mod binary;
mod memo;
mod static_lib;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::Verdict;
use crate::request::{LinkKind, Request};
use crate::sources::Candidate;
use crate::target::{Os, Target};
use crate::version::Version;

use binary::{BinaryInfo, Format};
pub(crate) use memo::Memo;

/// A candidate that passed inspection, with the files the later stages need.
#[derive(Clone, Debug)]
pub(crate) struct Inspected {
    pub candidate: Candidate,
    pub version: Version,
    /// Where the version came from, in words.
    pub evidence: String,
    /// The library file itself (symlinks resolved).
    pub library: PathBuf,
    /// What the library's headers say, as a probe keeps it ([`BinaryInfo::for_probe`]).
    pub binary: BinaryInfo,
    /// File names the loader and linker will ask for, each with the real file behind it: the link
    /// name (`libonnxruntime.so`), the SONAME or install name, versioned names, provider libraries.
    pub runtime_files: Vec<RuntimeFile>,
    pub include_dir: Option<PathBuf>,
    /// For a static link: the archives' link names (`onnxruntime_session` for
    /// `libonnxruntime_session.a`), in link order; their files are in `runtime_files`.
    pub static_libs: Vec<String>,
}

/// One file name to expose at run time (or link time), and the real file behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RuntimeFile {
    pub name: OsString,
    pub path: PathBuf,
}

/// File-name conventions of one OS family.
pub(crate) struct Naming {
    /// The name the linker looks for with `-lonnxruntime` (Windows: the import library).
    link_name: &'static str,
    /// Is this file name the main library (any of its versioned names)?
    is_main: fn(&str) -> bool,
    /// Is this a provider library shipped beside the main one?
    is_provider: fn(&str) -> bool,
    /// The format the library must have.
    pub format: Format,
}

fn naming(os: &Os) -> Option<Naming> {
    match os {
        Os::Linux => Some(Naming {
            link_name: "libonnxruntime.so",
            is_main: |n| n == "libonnxruntime.so" || n.starts_with("libonnxruntime.so."),
            is_provider: |n| n.starts_with("libonnxruntime_providers_") && n.contains(".so"),
            format: Format::Elf,
        }),
        Os::MacOs => Some(Naming {
            link_name: "libonnxruntime.dylib",
            is_main: |n| {
                n == "libonnxruntime.dylib"
                    || (n.starts_with("libonnxruntime.") && n.ends_with(".dylib") && !n.contains("_providers"))
            },
            is_provider: |n| n.starts_with("libonnxruntime_providers_") && n.ends_with(".dylib"),
            format: Format::MachO,
        }),
        Os::Windows => Some(Naming {
            link_name: "onnxruntime.lib",
            is_main: |n| n.eq_ignore_ascii_case("onnxruntime.dll"),
            is_provider: |n| {
                let n = n.to_ascii_lowercase();
                n.starts_with("onnxruntime_providers_") && n.ends_with(".dll")
            },
            format: Format::Pe,
        }),
        Os::Other(_) => None,
    }
}

/// Judges one candidate for the target and request.
pub(crate) fn inspect(
    candidate: &Candidate,
    target: &Target,
    request: &Request,
    memo: &Memo,
) -> Result<Inspected, Verdict> {
    if request.link == LinkKind::Static {
        return static_lib::inspect(candidate, target, request);
    }
    let Some(naming) = naming(target.os()) else {
        return Err(Verdict::Skipped { reason: format!("no ONNX Runtime file naming is known for {}", target.os()) });
    };
    let dir = &candidate.lib_dir;
    let entries = memo.list_dir(dir)?;
    let main_names: Vec<&String> = entries.iter().filter(|n| (naming.is_main)(n)).collect();
    if main_names.is_empty() {
        return Err(Verdict::NotFound {
            detail: format!("no {} in {}{}", main_pattern(target.os()), dir.display(), found_words(&entries)),
        });
    }
    let main_name = pick_main(&main_names, naming.link_name);
    let real_files = RealFiles::new(dir);
    let library = real_files.of(main_name).map_err(|e| Verdict::Unusable {
        detail: format!("{} cannot be resolved: {e}", dir.join(main_name).display()),
    })?;
    let binary =
        memo.binary(&library).map_err(|e| Verdict::Unusable { detail: format!("{}: {e}", library.display()) })?;
    check_arch(&library, &binary, &naming, target)?;

    let (version, evidence) = find_version(candidate, &library, &binary)
        .map_err(|looked_at| Verdict::UnknownVersion { required: request.version.clone(), looked_at })?;
    if !request.version.matches(&version) {
        return Err(Verdict::WrongVersion { found: version, required: request.version.clone(), evidence });
    }

    let mut runtime_files = Vec::new();
    let mut add = |name: &str, path: &Path| {
        if !runtime_files.iter().any(|f: &RuntimeFile| f.name == name) {
            runtime_files.push(RuntimeFile { name: name.into(), path: path.to_path_buf() });
        }
    };
    match target.os() {
        Os::Windows => {
            let import = entries.iter().find(|n| n.eq_ignore_ascii_case("onnxruntime.lib")).ok_or_else(|| {
                Verdict::Unusable {
                    detail: format!("{} has onnxruntime.dll but not its import library onnxruntime.lib", dir.display()),
                }
            })?;
            let import = dir.join(import);
            // An import library of another architecture links no better than a DLL of one.
            match binary::read(&import) {
                Ok(info) if info.archs.contains(target.arch()) => {}
                Ok(info) => {
                    let found = format!("an import library for {}", arch_list(&info));
                    let expected = format!("PE {}", target.arch());
                    return Err(Verdict::WrongArch { file: import, found, expected });
                }
                Err(e) => return Err(Verdict::Unusable { detail: format!("{}: {e}", import.display()) }),
            }
            add("onnxruntime.lib", &import);
            add("onnxruntime.dll", &library);
        }
        _ => {
            // Another release's versioned file left in the same directory keeps its own name out. A
            // name that resolves to the library's own path is it; any other is compared by identity
            // (a hard link is the same file under another path).
            let chosen = std::cell::OnceCell::new();
            let is_library = |name: &str| {
                real_files.of(name).is_ok_and(|real| real == library) || {
                    let chosen = chosen.get_or_init(|| file_id(&library));
                    chosen.is_some() && file_id(&dir.join(name)) == *chosen
                }
            };
            for name in main_names.iter().filter(|name| is_library(name)) {
                add(name, &library);
            }
            add(naming.link_name, &library);
            // The loader asks for the SONAME / install name, which the directory may lack (1.16.0 had
            // no `.so.1`; macOS archives never contain `libonnxruntime.1.dylib`).
            if let Some(soname) = &binary.soname {
                let file_name = soname.rsplit('/').next().unwrap_or(soname);
                if !file_name.is_empty() {
                    add(file_name, &library);
                }
            }
        }
    }
    for name in entries.iter().filter(|n| (naming.is_provider)(n)) {
        // A dangling provider link is skipped rather than staged broken.
        if let Ok(real) = real_files.of(name) {
            add(name, &real);
        }
    }

    let include_dir = candidate.headers_dir().filter(|d| d.is_dir());
    Ok(Inspected {
        candidate: candidate.clone(),
        version,
        evidence,
        library,
        binary,
        runtime_files,
        include_dir,
        static_libs: Vec::new(),
    })
}

/// The names of one directory resolved to canonical paths, as `fs::canonicalize` gives them, for
/// fewer calls: that reads every component of the path for each name (two dozen calls for a library
/// deep in a cache, on every run). Here links to another name in the same directory (how releases
/// chain `libonnxruntime.so` → `.so.1` → `.so.1.22.0`) are followed one `readlink` each, and the
/// directory itself is resolved once for all its names. The path is canonical, not merely one that
/// leads to the file: a link staged to it keeps leading to the file that was checked when a link on
/// the way (`/opt/ort-current`) is later pointed elsewhere.
struct RealFiles<'a> {
    dir: &'a Path,
    real_dir: std::cell::OnceCell<Option<PathBuf>>,
    /// Names already followed to their file: a release's names chain into each other
    /// (`libonnxruntime.so` → `.so.1` → `.so.1.22.0`), so following the first settles them all.
    known: std::cell::RefCell<Vec<(OsString, PathBuf)>>,
}

impl<'a> RealFiles<'a> {
    fn new(dir: &'a Path) -> Self {
        RealFiles { dir, real_dir: std::cell::OnceCell::new(), known: std::cell::RefCell::new(Vec::new()) }
    }

    fn of(&self, name: &str) -> std::io::Result<PathBuf> {
        if let Some((_, real)) = self.known.borrow().iter().find(|(known, _)| known == name) {
            return Ok(real.clone());
        }
        let mut chain = vec![OsString::from(name)];
        if cfg!(unix) {
            // The kernel's own limit on links in one lookup (MAXSYMLINKS); beyond it canonicalize
            // reports ELOOP.
            for _ in 0..40 {
                let leaf = chain.last().map(Path::new).unwrap_or(Path::new(name));
                let target = match fs::read_link(self.dir.join(leaf)) {
                    Ok(target) => target,
                    // Not a link: this is the file (a missing one fails here too, with its own error).
                    Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                        match self.real_dir.get_or_init(|| fs::canonicalize(self.dir).ok()) {
                            Some(real_dir) => {
                                let real = real_dir.join(leaf);
                                self.known.borrow_mut().extend(chain.into_iter().map(|n| (n, real.clone())));
                                return Ok(real);
                            }
                            None => break,
                        }
                    }
                    Err(e) => return Err(e),
                };
                let mut parts = target.components();
                match (parts.next(), parts.next()) {
                    (Some(std::path::Component::Normal(sibling)), None) => chain.push(sibling.to_os_string()),
                    _ => break,
                }
            }
        }
        fs::canonicalize(self.dir.join(name))
    }
}

/// What tells one file or directory from another (links followed): device and inode on Unix, else
/// the real path.
#[cfg(unix)]
pub(crate) fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).ok().map(|meta| (meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
pub(crate) fn file_id(path: &Path) -> Option<PathBuf> {
    fs::canonicalize(path).ok()
}

fn main_pattern(os: &Os) -> &'static str {
    match os {
        Os::MacOs => "libonnxruntime*.dylib",
        Os::Windows => "onnxruntime.dll",
        _ => "libonnxruntime.so*",
    }
}

fn found_words(entries: &[String]) -> String {
    let interesting: Vec<&str> = entries.iter().map(String::as_str).take(6).collect();
    if interesting.is_empty() { String::new() } else { format!(" (found: {})", interesting.join(", ")) }
}

/// The names in a directory that start `onnx` or `libonnx` in any case: every name looked for here
/// does, and a system directory holds a thousand other libraries, which made a miss there cost
/// milliseconds (non-UTF-8 names cannot be ORT's and are skipped).
fn list_dir(dir: &Path) -> Result<Vec<String>, Verdict> {
    let read = fs::read_dir(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Verdict::NotFound { detail: format!("{} does not exist", dir.display()) },
        std::io::ErrorKind::NotADirectory => {
            Verdict::NotFound { detail: format!("{} is not a directory", dir.display()) }
        }
        _ => Verdict::Unusable { detail: format!("cannot list {}: {e}", dir.display()) },
    })?;
    let mut names: Vec<String> = read
        .filter_map(|entry| {
            let name = entry.ok()?.file_name();
            if could_be_ort(name.as_encoded_bytes()) { name.into_string().ok() } else { None }
        })
        .collect();
    names.sort();
    Ok(names)
}

/// Two short comparisons per name: this runs for every file of `/usr/lib/<multiarch>`, unoptimised.
fn could_be_ort(name: &[u8]) -> bool {
    let rest = match name.split_at_checked(3) {
        Some((lib, rest)) if lib.eq_ignore_ascii_case(b"lib") => rest,
        _ => name,
    };
    rest.get(..4).is_some_and(|start| start.eq_ignore_ascii_case(b"onnx"))
}

/// The link name when present (what `-lonnxruntime` would use), else the most specific versioned name.
fn pick_main<'a>(names: &[&'a String], link_name: &'a str) -> &'a str {
    if let Some(link) = names.iter().find(|n| n.as_str() == link_name) {
        return link;
    }
    names.iter().max_by_key(|n| (n.len(), n.as_str())).map(|n| n.as_str()).unwrap_or(link_name)
}

pub(crate) fn check_arch(library: &Path, binary: &BinaryInfo, naming: &Naming, target: &Target) -> Result<(), Verdict> {
    let expected = format!("{} {}", format_name(naming.format), target.arch());
    let wrong = || Verdict::WrongArch {
        file: library.to_path_buf(),
        found: binary.description.clone(),
        expected: expected.clone(),
    };
    if binary.format != naming.format {
        return Err(wrong());
    }
    if !binary.archs.iter().any(|a| a == target.arch()) {
        return Err(wrong());
    }
    Ok(())
}

fn arch_list(info: &BinaryInfo) -> String {
    let names: Vec<String> = info.archs.iter().map(ToString::to_string).collect();
    if names.is_empty() { "an unknown architecture".into() } else { names.join(", ") }
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Elf => "ELF",
        Format::MachO => "Mach-O",
        Format::Pe => "PE",
        Format::Archive => "ar archive",
    }
}

/// The release, from the strongest evidence present.
fn find_version(candidate: &Candidate, library: &Path, binary: &BinaryInfo) -> Result<(Version, String), String> {
    if let Some(v) = binary.version_definitions.iter().find_map(|d| d.strip_prefix("VERS_").and_then(Version::parse)) {
        return Ok((v, format!("the ELF version node VERS_{v} of {}", library.display())));
    }
    if let Some((major, minor, patch)) = binary.dylib_version
        && major >= 1
    {
        let v = Version::new(major.into(), minor.into(), patch.into());
        return Ok((v, format!("the dylib version of {}", library.display())));
    }
    let file_name = library.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if let Some(v) = version_from_file_name(file_name) {
        return Ok((v, format!("the file name {file_name}")));
    }
    install_version(candidate, vec!["the library's version node", "its file name"])
}

/// The release from what surrounds a library: `VERSION_NUMBER`, a `.pc`'s claim, the C API header.
/// `Err` lists what was looked at.
pub(crate) fn install_version(candidate: &Candidate, mut looked_at: Vec<&str>) -> Result<(Version, String), String> {
    for dir in candidate.root.iter().chain([&candidate.lib_dir]) {
        let path = dir.join("VERSION_NUMBER");
        if let Some(v) = fs::read_to_string(&path).ok().and_then(|text| Version::parse(&text)) {
            return Ok((v, path.display().to_string()));
        }
    }
    looked_at.push("VERSION_NUMBER");
    if let Some(v) = candidate.claimed_version {
        return Ok((v, "the pkg-config file".to_string()));
    }
    if let Some(dir) = candidate.headers_dir() {
        for header in [dir.join("onnxruntime_c_api.h"), dir.join("onnxruntime").join("onnxruntime_c_api.h")] {
            if let Some(minor) = api_version_from_header(&header) {
                return Ok((
                    Version::new(1, minor, 0),
                    format!("ORT_API_VERSION {minor} in {} (patch unknown)", header.display()),
                ));
            }
        }
        looked_at.push("onnxruntime_c_api.h");
    }
    Err(looked_at.join(", "))
}

/// `libonnxruntime.so.1.22.0` → 1.22.0; `libonnxruntime.1.22.0.dylib` → 1.22.0.
pub(crate) fn version_from_file_name(name: &str) -> Option<Version> {
    let rest = name.strip_prefix("libonnxruntime.")?;
    let rest = rest.strip_prefix("so.").or_else(|| rest.strip_suffix(".dylib"))?;
    Version::parse(rest)
}

/// `#define ORT_API_VERSION 22` → 22.
fn api_version_from_header(path: &Path) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("#define")?.trim().strip_prefix("ORT_API_VERSION")?;
        rest.trim().parse().ok()
    })
}

/// For reports: what a target's library is called.
pub(crate) fn library_words(target: &Target) -> &'static str {
    main_pattern(target.os())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory like `/usr/lib/<multiarch>`: the listing keeps the ORT names (any case, with or
    /// without `lib`) and the near misses an error should show, and nothing else.
    #[test]
    fn a_listing_keeps_only_names_that_could_be_ort() {
        let tmp = tempfile::tempdir().unwrap();
        let ort = ["libonnxruntime.so.1.22.0", "LIBONNXRUNTIME.SO", "onnxruntime.dll", "OnnxRuntime.lib", "libonnx.so"];
        let others = ["libz.so.1", "libc.so.6", "lib", "onn", "libonn", "mylibonnxruntime.so", "x-onnxruntime.dll"];
        for name in ort.iter().chain(&others) {
            fs::write(tmp.path().join(name), b"").unwrap();
        }
        for n in 0..200 {
            fs::write(tmp.path().join(format!("libother{n}.so")), b"").unwrap();
        }
        let mut expected: Vec<String> = ort.iter().map(|n| n.to_string()).collect();
        expected.sort();
        assert_eq!(list_dir(tmp.path()).unwrap(), expected);
        assert!(matches!(list_dir(&tmp.path().join("absent")), Err(Verdict::NotFound { .. })));
    }

    #[cfg(unix)]
    #[test]
    fn names_resolve_as_canonicalize_resolves_them() {
        use std::os::unix::fs::symlink;
        let tmp = tempfile::tempdir().unwrap();
        let real_dir = tmp.path().join("onnxruntime-1.22.0/lib");
        fs::create_dir_all(&real_dir).unwrap();
        fs::write(real_dir.join("libonnxruntime.so.1.22.0"), b"elf").unwrap();
        symlink("libonnxruntime.so.1.22.0", real_dir.join("libonnxruntime.so.1")).unwrap();
        symlink("libonnxruntime.so.1", real_dir.join("libonnxruntime.so")).unwrap();
        // A link out of the directory, a dangling one, and a loop.
        let elsewhere = tmp.path().join("other");
        fs::create_dir(&elsewhere).unwrap();
        fs::write(elsewhere.join("libonnxruntime.so.1.23.0"), b"elf").unwrap();
        symlink("../../other/libonnxruntime.so.1.23.0", real_dir.join("libonnxruntime.so.2")).unwrap();
        symlink("libonnxruntime.so.9.9.9", real_dir.join("libonnxruntime_providers_cuda.so")).unwrap();
        symlink("loop.b", real_dir.join("loop.a")).unwrap();
        symlink("loop.a", real_dir.join("loop.b")).unwrap();
        // The directory as a build names it: through a link (`/opt/ort-current`), and relative.
        let current = tmp.path().join("ort-current");
        symlink("onnxruntime-1.22.0", &current).unwrap();
        let through_link = current.join("lib");
        let relative = pathdiff(&real_dir);

        let names = [
            "libonnxruntime.so",
            "libonnxruntime.so.1",
            "libonnxruntime.so.1.22.0",
            "libonnxruntime.so.2",
            "libonnxruntime_providers_cuda.so",
            "absent.so",
            "loop.a",
        ];
        for dir in [&real_dir, &through_link, &relative] {
            // Each name twice, in both orders: later answers come from the names already followed.
            let real_files = RealFiles::new(dir);
            for name in names.into_iter().chain(names.into_iter().rev()) {
                let (ours, os) = (real_files.of(name), fs::canonicalize(dir.join(name)));
                match (&ours, &os) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "{} {name}", dir.display()),
                    (Err(a), Err(b)) => assert_eq!(a.raw_os_error(), b.raw_os_error(), "{} {name}", dir.display()),
                    _ => panic!("{} {name}: {ours:?} but canonicalize gives {os:?}", dir.display()),
                }
            }
        }
        let chain = RealFiles::new(&through_link).of("libonnxruntime.so").unwrap();
        assert_eq!(chain, fs::canonicalize(&real_dir).unwrap().join("libonnxruntime.so.1.22.0"));
    }

    /// `dir` relative to the current directory, as `../..` steps and names.
    #[cfg(unix)]
    fn pathdiff(dir: &Path) -> PathBuf {
        let cwd = fs::canonicalize(std::env::current_dir().unwrap()).unwrap();
        let dir = fs::canonicalize(dir).unwrap();
        let ups = cwd.components().count() - 1;
        let mut relative: PathBuf = std::iter::repeat_n("..", ups).collect();
        relative.extend(dir.components().skip(1));
        relative
    }

    #[test]
    fn versions_from_file_names() {
        assert_eq!(version_from_file_name("libonnxruntime.so.1.22.0"), Some(Version::new(1, 22, 0)));
        assert_eq!(version_from_file_name("libonnxruntime.1.30.0.dylib"), Some(Version::new(1, 30, 0)));
        assert_eq!(version_from_file_name("libonnxruntime.so.1"), None);
        assert_eq!(version_from_file_name("libonnxruntime.so"), None);
        assert_eq!(version_from_file_name("libonnxruntime.dylib"), None);
    }
}

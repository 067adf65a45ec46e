//! Checks the shipped manifests (`manifests/<version>.txt`) and, with the `download` feature, compiles
//! them in as static data (`$OUT_DIR/manifests.rs`).
//!
//! A broken line fails this crate's own build, naming `file:line` and the rule: the files ship inside
//! the package, so this can only fire for the crate's maintainers, never in a user's build. The rules
//! are those of `src/manifest/parse.rs`, the same file the library uses for `ONNXRUNTIME_MANIFEST`.

#[path = "src/manifest/parse.rs"]
mod parse;

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=manifests");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/manifest/parse.rs");
    // The machine this crate is compiled for is the host of every build script that calls it.
    if let Some(target) = cargo_var("TARGET") {
        println!("cargo:rustc-env=ONNXRUNTIME_PROVISION_HOST={}", target.to_string_lossy());
    }

    let root = cargo_var("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    let files = match read_manifests(&root.join("manifests")) {
        Ok(files) => files,
        Err(problems) => panic!("\nmanifests/ breaks {} rule(s):\n{}\n", problems.len(), problems.join("\n")),
    };
    if cargo_var("CARGO_FEATURE_DOWNLOAD").is_some() {
        let out_dir = PathBuf::from(cargo_var("OUT_DIR").unwrap_or_default());
        let out = out_dir.join("manifests.rs");
        if let Err(e) = fs::write(&out, rust_data(&files)) {
            panic!("cannot write {}: {e}", out.display());
        }
    }
}

/// Build scripts get their inputs from cargo's variables. The crate's `env::Env` is not part of the
/// build script; these names are cargo's own, not settings a user could change.
#[allow(clippy::disallowed_methods)]
fn cargo_var(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// `(file name, text)` of every `*.txt`, sorted by release; or every problem, as `file:line: ...`.
fn read_manifests(dir: &Path) -> Result<Vec<(String, String)>, Vec<String>> {
    let entries = fs::read_dir(dir).map_err(|e| vec![format!("{}: cannot list: {e}", dir.display())])?;
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for entry in entries {
        let path = match entry {
            Ok(entry) => entry.path(),
            Err(e) => {
                problems.push(format!("{}: cannot list: {e}", dir.display()));
                continue;
            }
        };
        if path.extension().is_none_or(|ext| ext != "txt") {
            continue;
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match fs::read_to_string(&path) {
            Ok(text) => files.push((name, text)),
            Err(e) => problems.push(format!("manifests/{name}: cannot read: {e}")),
        }
    }
    files.sort_by_key(|(name, _)| release_order(name));
    for (name, text) in &files {
        if let Err(errors) = parse::parse_release_file(name, text) {
            problems.extend(errors.iter().map(|e| match e.line {
                0 => format!("manifests/{name}: {e}"),
                line => format!("manifests/{name}:{line}: {e}"),
            }));
        }
    }
    if files.is_empty() && problems.is_empty() {
        problems.push(format!("{}: no manifest files", dir.display()));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(files)
}

/// `1.9.0.txt` before `1.16.0.txt`; names that are not releases sort first (and are refused).
fn release_order(name: &str) -> (Vec<u64>, String) {
    let stem = name.strip_suffix(".txt").unwrap_or(name);
    (stem.split('.').map(|part| part.parse().unwrap_or(0)).collect(), name.to_string())
}

/// The validated records as Rust items for `src/manifest/mod.rs`: `TEXT`, every string of the records
/// once, and `RECORDS`, each record with its strings as byte ranges of `TEXT` and its platform and
/// variant as indices into `parse::PLATFORMS` and `parse::VARIANTS`. A table of `&str` would hold a
/// thousand pointers for the loader to relocate at the start of every build script that links the
/// crate, whether it probes or not (issue 7); this one holds none. No parsing, and no failure path, in
/// a user's build.
fn rust_data(files: &[(String, String)]) -> String {
    let mut text = String::new();
    let mut spans: Vec<(String, (usize, usize))> = Vec::new();
    let mut span = |s: &str| -> (usize, usize) {
        if let Some((_, at)) = spans.iter().find(|(known, _)| known == s) {
            return *at;
        }
        let at = (text.len(), text.len() + s.len());
        text.push_str(s);
        spans.push((s.to_string(), at));
        at
    };
    let index = |list: &[&str], word: &str| list.iter().position(|w| *w == word).unwrap_or(usize::MAX);
    let mut records = String::new();
    let mut count = 0;
    for (name, body) in files {
        for r in parse::parse(body).unwrap_or_default() {
            let [major, minor, patch] = r.version;
            let (file, asset, sha256, source) = (span(name), span(r.asset), span(r.sha256), span(r.source));
            let _ = writeln!(
                records,
                "    Packed {{ file: {file:?}, line: {}, version: [{major}, {minor}, {patch}], platform: {}, variant: {}, \
                 asset: {asset:?}, sha256: {sha256:?}, size: {:?}, source: {source:?} }},",
                r.line,
                index(&parse::PLATFORMS, r.platform),
                index(&parse::VARIANTS, r.variant),
                r.size,
            );
            count += 1;
        }
    }
    format!(
        "// Generated by build.rs from manifests/*.txt after validation.\n\
         const TEXT: &str = {text:?};\n\
         static RECORDS: [Packed; {count}] = [\n{records}];\n"
    )
}

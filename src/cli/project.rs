//! A project as the CLI sees it without running cargo: its Cargo.toml(s), its Cargo.lock, and the
//! `.cargo/config.toml` files cargo would read (the project's directory and its ancestors, then
//! `$CARGO_HOME/config.toml`; the nearest file wins, as in cargo).

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item};

use crate::host_env;
use crate::lockfile::Lock;
use crate::settings;

/// The manifest named by `--manifest-path`, else the nearest `Cargo.toml` from `start` upwards.
pub fn find_manifest(given: Option<&Path>, start: &Path) -> Result<PathBuf, String> {
    if let Some(path) = given {
        let path = settings::absolute(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("--manifest-path {}: no such file", path.display()))
        };
    }
    start
        .ancestors()
        .map(|d| d.join("Cargo.toml"))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("no Cargo.toml in {} or any parent directory; pass --manifest-path", start.display()))
}

/// The lock file cargo uses for `manifest`: in its directory, or in the nearest ancestor that has one
/// (the workspace root).
pub fn find_lock(manifest: &Path) -> Option<PathBuf> {
    manifest.parent()?.ancestors().map(|d| d.join("Cargo.lock")).find(|p| p.is_file())
}

pub fn read_lock(manifest: &Path) -> Result<Option<Lock>, String> {
    find_lock(manifest).map(|path| Lock::read(&path)).transpose()
}

/// A parsed TOML file, kept with its path for messages.
pub struct TomlFile {
    pub path: PathBuf,
    pub doc: DocumentMut,
}

pub fn read_toml(path: &Path) -> Result<TomlFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let doc = text.parse::<DocumentMut>().map_err(|e| {
        let first = e.to_string().lines().find(|l| !l.trim().is_empty()).unwrap_or_default().to_string();
        format!("{} is not valid TOML: {first}", path.display())
    })?;
    Ok(TomlFile { path: path.to_path_buf(), doc })
}

/// The item at a dotted path of keys (`["build", "target"]`).
pub fn lookup<'a>(doc: &'a DocumentMut, keys: &[&str]) -> Option<&'a Item> {
    let mut item = doc.as_item();
    for key in keys {
        item = item.get(key)?;
    }
    Some(item)
}

/// The cargo configuration files that apply in `dir`, nearest first. Unreadable or malformed ones are
/// returned as errors so a command can say so instead of silently ignoring them.
pub fn cargo_configs(dir: &Path) -> Vec<Result<TomlFile, String>> {
    let mut paths: Vec<PathBuf> = Vec::new();
    for ancestor in dir.ancestors() {
        for name in ["config.toml", "config"] {
            let path = ancestor.join(".cargo").join(name);
            if path.is_file() {
                paths.push(path);
                break;
            }
        }
    }
    if let Some(home) = host_env::cargo_home() {
        for name in ["config.toml", "config"] {
            let path = home.join(name);
            if path.is_file() && !paths.contains(&path) {
                paths.push(path);
                break;
            }
        }
    }
    paths.iter().map(|p| read_toml(p)).collect()
}

/// The first string at `keys` among the config files (nearest wins), with the file it came from.
pub fn config_string(configs: &[Result<TomlFile, String>], keys: &[&str]) -> Option<(String, PathBuf)> {
    configs.iter().flatten().find_map(|file| {
        let item = lookup(&file.doc, keys)?;
        let text = item.as_str().map(String::from).or_else(|| {
            // `build.target` may be a list of targets; the first is the default one.
            item.as_array().and_then(|a| a.iter().next()).and_then(|v| v.as_str()).map(String::from)
        })?;
        Some((text, file.path.clone()))
    })
}

/// What cargo builds for in `dir` without `--target`: `CARGO_BUILD_TARGET`, `build.target`, else the host.
pub fn default_target(dir: &Path) -> String {
    if let Some(target) = host_env::var("CARGO_BUILD_TARGET") {
        return target;
    }
    config_string(&cargo_configs(dir), &["build", "target"])
        .map(|(t, _)| t)
        .filter(|t| !t.ends_with(".json"))
        .unwrap_or_else(settings::host_triple)
}

/// A package manifest's facts the doctor checks.
#[derive(Clone, Debug, Default)]
pub struct PackageFacts {
    pub manifest: PathBuf,
    pub name: Option<String>,
    pub edition: Option<String>,
    pub rust_version: Option<String>,
    /// Direct dependencies (all dependency tables, target-specific ones included).
    pub dependencies: Vec<Dependency>,
}

/// One dependency as a manifest declares it.
#[derive(Clone, Debug, Default)]
pub struct Dependency {
    /// The package's name (`package = "…"` when renamed).
    pub name: String,
    /// The version requirement as written (`*` when none).
    pub requirement: String,
    pub features: Vec<String>,
}

/// The packages of the project: the manifest itself when it has `[package]`, and the workspace members
/// it lists (plain paths and `dir/*` globs). `workspace = true` fields are filled from
/// `[workspace.package]` of the workspace root.
pub fn packages(manifest: &Path) -> Result<Vec<PackageFacts>, String> {
    let root = read_toml(manifest)?;
    let inherited = lookup(&root.doc, &["workspace", "package"]);
    let mut facts = Vec::new();
    if root.doc.get("package").is_some() {
        facts.push(package_facts(&root, inherited));
    }
    let base = manifest.parent().unwrap_or(Path::new("."));
    let members = lookup(&root.doc, &["workspace", "members"]).and_then(Item::as_array);
    for member in members.iter().flat_map(|a| a.iter()).filter_map(|v| v.as_str()) {
        for dir in expand_member(base, member) {
            let path = dir.join("Cargo.toml");
            if path == manifest || !path.is_file() {
                continue;
            }
            let file = read_toml(&path)?;
            if file.doc.get("package").is_some() {
                facts.push(package_facts(&file, inherited));
            }
        }
    }
    Ok(facts)
}

fn expand_member(base: &Path, member: &str) -> Vec<PathBuf> {
    match member.strip_suffix("/*") {
        Some(parent) => {
            let mut dirs: Vec<PathBuf> = std::fs::read_dir(base.join(parent))
                .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
                .unwrap_or_default();
            dirs.sort();
            dirs
        }
        None => vec![base.join(member)],
    }
}

fn package_facts(file: &TomlFile, inherited: Option<&Item>) -> PackageFacts {
    let field = |key: &str| -> Option<String> {
        let item = lookup(&file.doc, &["package", key])?;
        if let Some(text) = item.as_str() {
            return Some(text.to_string());
        }
        // `edition.workspace = true`
        if item.get("workspace").and_then(Item::as_bool) == Some(true) {
            return inherited?.get(key)?.as_str().map(String::from);
        }
        None
    };
    let dependencies = dependencies(&file.doc);
    PackageFacts {
        manifest: file.path.clone(),
        name: field("name"),
        edition: field("edition"),
        rust_version: field("rust-version"),
        dependencies,
    }
}

/// Every dependency a manifest declares: `[dependencies]`, `[build-dependencies]`, `[dev-dependencies]`
/// and their `[target.<cfg>.…]` forms.
pub fn dependencies(doc: &DocumentMut) -> Vec<Dependency> {
    const KINDS: [&str; 3] = ["dependencies", "build-dependencies", "dev-dependencies"];
    let mut tables: Vec<&Item> = KINDS.iter().filter_map(|k| doc.get(k)).collect();
    if let Some(targets) = doc.get("target").and_then(Item::as_table_like) {
        for (_, target) in targets.iter() {
            tables.extend(KINDS.iter().filter_map(|k| target.get(k)));
        }
    }
    let mut found = Vec::new();
    for table in tables.into_iter().filter_map(Item::as_table_like) {
        for (key, spec) in table.iter() {
            let requirement = spec.as_str().or_else(|| spec.get("version").and_then(Item::as_str)).unwrap_or("*");
            let features = spec
                .get("features")
                .and_then(Item::as_array)
                .map(|list| list.iter().filter_map(|f| f.as_str().map(String::from)).collect())
                .unwrap_or_default();
            found.push(Dependency {
                name: spec.get("package").and_then(Item::as_str).unwrap_or(key).to_string(),
                requirement: requirement.to_string(),
                features,
            });
        }
    }
    found
}

/// The unpacked sources of a registry package in `$CARGO_HOME/registry/src/*/<name>-<version>/`, if
/// cargo has downloaded it on this machine.
pub fn registry_source(name: &str, version: &str) -> Option<PathBuf> {
    let src = host_env::cargo_home()?.join("registry").join("src");
    let mut indexes: Vec<PathBuf> = std::fs::read_dir(src).ok()?.flatten().map(|e| e.path()).collect();
    indexes.sort();
    indexes.into_iter().map(|i| i.join(format!("{name}-{version}"))).find(|d| d.join("Cargo.toml").is_file())
}

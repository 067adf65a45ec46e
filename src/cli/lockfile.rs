//! Reading Cargo.lock (versions 1 to 4) without cargo and without network: the packages, their
//! versions and sources, and which package each dependency entry names.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item};

use crate::semver::CrateVersion;

#[derive(Clone, Debug)]
pub struct Package {
    pub name: String,
    pub version: CrateVersion,
    /// `registry+https://…`, `git+…`; `None` for path and workspace packages.
    pub source: Option<String>,
    /// The entries of `dependencies`: a name, and a version when the lock needed one to disambiguate.
    pub dependencies: Vec<(String, Option<CrateVersion>)>,
}

impl Package {
    pub fn is_from_registry(&self) -> bool {
        self.source.as_deref().is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
    }

    /// `name version`, for messages.
    pub fn id(&self) -> String {
        format!("{} {}", self.name, self.version)
    }
}

#[derive(Clone, Debug)]
pub struct Lock {
    pub path: PathBuf,
    pub packages: Vec<Package>,
}

impl Lock {
    /// Reads and parses a lock file; the error says which file and what is wrong with it.
    pub fn read(path: &Path) -> Result<Lock, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Lock::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Lock, String> {
        let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            format!("{} is not valid TOML: {}", path.display(), first_line(&e.to_string()))
        })?;
        let tables = doc
            .get("package")
            .and_then(Item::as_array_of_tables)
            .ok_or_else(|| format!("{} has no [[package]] entries: is it a Cargo.lock?", path.display()))?;
        let mut packages = Vec::new();
        for (index, table) in tables.iter().enumerate() {
            let text_of = |key: &str| table.get(key).and_then(Item::as_str);
            let bad = |what: &str| format!("{}: [[package]] number {} {what}", path.display(), index + 1);
            let name = text_of("name").ok_or_else(|| bad("has no name"))?.to_string();
            let version = text_of("version")
                .and_then(CrateVersion::parse)
                .ok_or_else(|| bad(&format!("({name}) has no readable version")))?;
            let dependencies = table
                .get("dependencies")
                .and_then(Item::as_array)
                .map(|list| list.iter().filter_map(|v| v.as_str()).filter_map(dependency_entry).collect())
                .unwrap_or_default();
            packages.push(Package { name, version, source: text_of("source").map(String::from), dependencies });
        }
        Ok(Lock { path: path.to_path_buf(), packages })
    }

    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Package> + 'a {
        self.packages.iter().filter(move |p| p.name == name)
    }

    /// The package a dependency entry of `package` names.
    pub fn dependency(&self, package: &Package, name: &str) -> Option<&Package> {
        let (_, version) = package.dependencies.iter().find(|(n, _)| n == name)?;
        self.packages.iter().find(|p| p.name == name && version.as_ref().is_none_or(|v| *v == p.version))
    }

    /// The packages that depend on `package`.
    pub fn dependents(&self, package: &Package) -> Vec<&Package> {
        self.packages
            .iter()
            .filter(|p| self.dependency(p, &package.name).is_some_and(|d| d.version == package.version))
            .collect()
    }
}

/// `name`, `name version` or `name version (source)`.
fn dependency_entry(text: &str) -> Option<(String, Option<CrateVersion>)> {
    let mut words = text.split_whitespace();
    let name = words.next()?.to_string();
    let version = words.next().and_then(CrateVersion::parse);
    Some((name, version))
}

fn first_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["ort", "base64 0.22.1"]

[[package]]
name = "ort"
version = "2.0.0-rc.2"
source = "registry+https://example.invalid/index"
dependencies = ["ort-sys"]

[[package]]
name = "ort-sys"
version = "2.0.0-rc.15"
source = "registry+https://example.invalid/index"

[[package]]
name = "base64"
version = "0.22.1"
source = "registry+https://example.invalid/index"

[[package]]
name = "base64"
version = "0.21.7"
source = "registry+https://example.invalid/index"
"#;

    #[test]
    fn packages_dependencies_and_dependents() {
        let lock = Lock::parse(Path::new("Cargo.lock"), LOCK).unwrap();
        assert_eq!(lock.packages.len(), 5);
        let app = lock.named("app").next().unwrap();
        assert!(!app.is_from_registry());
        let ort = lock.named("ort").next().unwrap();
        assert_eq!(lock.dependency(ort, "ort-sys").unwrap().version.to_string(), "2.0.0-rc.15");
        assert_eq!(lock.dependency(app, "base64").unwrap().version.to_string(), "0.22.1");
        let sys = lock.named("ort-sys").next().unwrap();
        assert_eq!(lock.dependents(sys).iter().map(|p| p.id()).collect::<Vec<_>>(), ["ort 2.0.0-rc.2"]);
    }

    #[test]
    fn malformed_locks_are_errors_not_panics() {
        for text in [
            "not toml [",
            "version = 4",
            "[[package]]\nversion = \"1.0.0\"",
            "[[package]]\nname = \"x\"\nversion = \"one\"",
        ] {
            assert!(Lock::parse(Path::new("Cargo.lock"), text).is_err(), "{text}");
        }
    }
}

//! Merging settings into a project's `.cargo/config.toml` with `toml_edit`, so everything already there
//! — other keys, comments, layout, inline tables — stays as it was. Only the keys named are set (a new
//! `[target.<triple>] rustflags` list also repeats `[build] rustflags`, which it would otherwise shadow).

use std::path::{Path, PathBuf};

use toml_edit::{Array, DocumentMut, Item, Table, Value};

#[derive(Debug)]
pub struct ConfigFile {
    pub path: PathBuf,
    doc: DocumentMut,
    existed: bool,
}

/// What a merge did to one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Added,
    Updated { old: String },
    Unchanged,
}

impl ConfigFile {
    /// The file cargo reads in `<project>/.cargo` ([`cargo_reads`]: the legacy `config` when it
    /// exists, even beside a `config.toml`, which cargo then ignores with a warning), else a new, empty
    /// `config.toml`.
    pub fn open(project_dir: &Path) -> Result<ConfigFile, String> {
        let dir = project_dir.join(".cargo");
        let path = cargo_reads(&dir).unwrap_or_else(|| dir.join("config.toml"));
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let doc = text.parse::<DocumentMut>().map_err(|e| {
                    let first = e.to_string().lines().find(|l| !l.trim().is_empty()).unwrap_or_default().to_string();
                    format!("{} is not valid TOML ({first}); fix it first, nothing was written", path.display())
                })?;
                Ok(ConfigFile { path, doc, existed: true })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(ConfigFile { path, doc: DocumentMut::new(), existed: false })
            }
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    pub fn existed(&self) -> bool {
        self.existed
    }

    /// Sets `[env] name = "value"`. A variable written as `{ value = "…", force = true }` keeps its
    /// other keys. `note` becomes a comment above a newly added key.
    pub fn set_env(&mut self, name: &str, value: &str, note: &str) -> Result<Change, String> {
        let path = self.path.clone();
        let env = self.doc.entry("env").or_insert_with(|| Item::Table(Table::new()));
        let env = env
            .as_table_like_mut()
            .ok_or_else(|| format!("{}: `env` is not a table; fix it first, nothing was written", path.display()))?;
        let change = match env.get_mut(name) {
            Some(item) => {
                if let Some(detail) = item.as_table_like_mut() {
                    let old = detail.get("value").and_then(Item::as_str).unwrap_or_default().to_string();
                    if old == value {
                        return Ok(Change::Unchanged);
                    }
                    detail.insert("value", toml_edit::value(value));
                    Change::Updated { old }
                } else {
                    let old = item.as_str().map(String::from).unwrap_or_else(|| item.to_string().trim().to_string());
                    if old == value {
                        return Ok(Change::Unchanged);
                    }
                    let decor = item.as_value().map(|v| v.decor().clone());
                    let mut new = Value::from(value);
                    if let Some(decor) = decor {
                        *new.decor_mut() = decor;
                    }
                    *item = Item::Value(new);
                    Change::Updated { old }
                }
            }
            None => {
                env.insert(name, toml_edit::value(value));
                if !note.is_empty()
                    && let Some(mut key) = env.key_mut(name)
                {
                    key.leaf_decor_mut().set_prefix(format!("# {note}\n"));
                }
                Change::Added
            }
        };
        Ok(change)
    }

    /// Removes `[env] name`, returning the value it had (`None` when it was not there).
    pub fn remove_env(&mut self, name: &str) -> Result<Option<String>, String> {
        let Some(env) = self.doc.get_mut("env") else { return Ok(None) };
        let env = env.as_table_like_mut().ok_or_else(|| {
            format!("{}: `env` is not a table; fix it first, nothing was written", self.path.display())
        })?;
        let Some(item) = env.remove(name) else { return Ok(None) };
        // `NAME = { value = "…", force = true }` or `NAME = "…"`.
        let value = item.as_table_like().and_then(|t| t.get("value")).unwrap_or(&item);
        Ok(Some(value.as_str().map(String::from).unwrap_or_else(|| value.to_string().trim().to_string())))
    }

    /// Makes `[target.<triple>] rustflags` carry `link_args` (each as `-C link-arg=…`: the rpath to
    /// `dir` the library's own build-script route emits), replacing any rpath there that points at
    /// another directory holding an ONNX Runtime library (two of them on the search path would load
    /// whichever comes first). A rustflags string is turned into a list.
    ///
    /// cargo uses `target.<triple>.rustflags` *instead of* `build.rustflags`, so a list this call
    /// creates would silently drop the latter: when the table had no rustflags (or only this rpath),
    /// `build_flags` (see [`ConfigFile::build_rustflags`]) go first. The flag returned says they did.
    pub fn set_rpath(
        &mut self,
        triple: &str,
        dir: &Path,
        link_args: &[String],
        build_flags: &[String],
    ) -> Result<(Change, bool), String> {
        let path = self.path.clone();
        let not_table =
            |what: &str| format!("{}: `{what}` is not a table; fix it first, nothing was written", path.display());
        let targets = self.doc.entry("target").or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        let targets = targets.as_table_like_mut().ok_or_else(|| not_table("target"))?;
        let target = targets.entry(triple).or_insert_with(|| Item::Table(Table::new()));
        let target = target.as_table_like_mut().ok_or_else(|| not_table(&format!("target.{triple}")))?;
        let old: Vec<String> = match target.get("rustflags") {
            None => Vec::new(),
            Some(item) => match (item.as_str(), item.as_array()) {
                (Some(text), _) => text.split_whitespace().map(String::from).collect(),
                (_, Some(list)) => list.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
                _ => {
                    return Err(format!(
                        "{}: target.{triple}.rustflags is neither a string nor a list",
                        path.display()
                    ));
                }
            },
        };
        let mut flags = without_ort_rpaths(&old, dir);
        let keep_build_flags = !build_flags.is_empty() && without_link_args(&flags, link_args).is_empty();
        if keep_build_flags {
            flags.splice(0..0, build_flags.iter().cloned());
        }
        for arg in link_args {
            let flag = format!("link-arg={arg}");
            if !flags.windows(2).any(|w| matches!(w, [c, f] if c == "-C" && *f == flag)) {
                flags.push("-C".into());
                flags.push(flag);
            }
        }
        if flags == old {
            return Ok((Change::Unchanged, false));
        }
        let mut array = Array::new();
        for f in &flags {
            array.push(f.as_str());
        }
        let change = if old.is_empty() { Change::Added } else { Change::Updated { old: old.join(" ") } };
        target.insert("rustflags", Item::Value(Value::Array(array)));
        Ok((change, keep_build_flags))
    }

    /// `build.rustflags` as cargo assembles them for a build run in `project_dir`: from
    /// `$CARGO_HOME/config.toml`, then each `.cargo/config.toml` from the filesystem root down to the
    /// project (this file as it is in memory), deeper files winning. As in cargo, lists are joined and
    /// a string (split at whitespace) replaces what came before. Empty when a file other than this one
    /// already sets `target.<triple>.rustflags`: cargo ignores `build.rustflags` for it already.
    /// (`target.'cfg(…)'.rustflags` are not evaluated.) Unreadable or invalid files are passed over:
    /// cargo reports those itself.
    pub fn build_rustflags(&self, project_dir: &Path, cargo_home: Option<&Path>, triple: &str) -> BuildFlags {
        let own_dir = self.path.parent();
        let mut dirs: Vec<PathBuf> = project_dir.ancestors().map(|d| d.join(".cargo")).collect();
        if let Some(home) = cargo_home
            && !dirs.iter().any(|d| d == home)
        {
            dirs.push(home.to_path_buf());
        }
        let mut found = BuildFlags::default();
        // Lowest precedence first.
        for dir in dirs.iter().rev() {
            let read;
            let (path, doc) = if Some(dir.as_path()) == own_dir {
                (self.path.clone(), &self.doc)
            } else {
                let Some(path) = cargo_reads(dir) else { continue };
                let Some(doc) = std::fs::read_to_string(&path).ok().and_then(|t| t.parse::<DocumentMut>().ok()) else {
                    continue;
                };
                if doc.get("target").and_then(|t| t.get(triple)).and_then(|t| t.get("rustflags")).is_some() {
                    return BuildFlags::default();
                }
                read = doc;
                (path, &read)
            };
            let Some(item) = doc.get("build").and_then(|b| b.get("rustflags")) else { continue };
            match (item.as_str(), item.as_array()) {
                (Some(text), _) => found.flags = text.split_whitespace().map(String::from).collect(),
                (_, Some(list)) => found.flags.extend(list.iter().filter_map(|v| v.as_str().map(String::from))),
                _ => continue,
            }
            found.from.push(path);
        }
        found
    }

    pub fn text(&self) -> String {
        let mut text = self.doc.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }

    /// Writes the file through a temporary name beside it, so a crash never leaves half a config.
    pub fn save(&self) -> Result<(), String> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let temp = dir.join(format!(".config.toml.{}.tmp", std::process::id()));
        std::fs::write(&temp, self.text()).map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
        std::fs::rename(&temp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            format!("cannot replace {}: {e}", self.path.display())
        })
    }
}

/// The `build.rustflags` a target table must repeat to keep them, and the files they came from.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BuildFlags {
    pub flags: Vec<String>,
    pub from: Vec<PathBuf>,
}

/// The config file cargo reads in a `.cargo` directory: the legacy `config` wins when both exist.
fn cargo_reads(dir: &Path) -> Option<PathBuf> {
    [dir.join("config"), dir.join("config.toml")].into_iter().find(|p| p.is_file())
}

/// `flags` without the `-C link-arg=<arg>` pairs (or `-Clink-arg=…` words) of `link_args`.
fn without_link_args(flags: &[String], link_args: &[String]) -> Vec<String> {
    let ours = |word: &str| word.strip_prefix("link-arg=").is_some_and(|arg| link_args.iter().any(|a| a == arg));
    let mut kept = Vec::new();
    let mut words = flags.iter().peekable();
    while let Some(word) = words.next() {
        if word == "-C" && words.peek().is_some_and(|next| ours(next)) {
            words.next();
        } else if !word.strip_prefix("-C").is_some_and(ours) {
            kept.push(word.clone());
        }
    }
    kept
}

/// `flags` without `-C link-arg=-Wl,-rpath,<d>` pairs (or `-Clink-arg=…` words) whose directory is not
/// `keep` but holds a `libonnxruntime*` file.
fn without_ort_rpaths(flags: &[String], keep: &Path) -> Vec<String> {
    let ort_rpath = |word: &str| {
        let Some(dir) = word.strip_prefix("link-arg=-Wl,-rpath,") else { return false };
        Path::new(dir) != keep && holds_onnxruntime(Path::new(dir))
    };
    let mut kept = Vec::new();
    let mut words = flags.iter().peekable();
    while let Some(word) = words.next() {
        if word == "-C" && words.peek().is_some_and(|next| ort_rpath(next)) {
            words.next();
            continue;
        }
        if word.strip_prefix("-C").is_some_and(ort_rpath) {
            continue;
        }
        kept.push(word.clone());
    }
    kept
}

fn holds_onnxruntime(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libonnxruntime")))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_env_and_rustflags_keeping_everything_else() {
        let dir = tempfile::tempdir().unwrap();
        let cargo = dir.path().join(".cargo");
        std::fs::create_dir_all(&cargo).unwrap();
        let original = "# team settings\n[build]\njobs = 2 # keep\n\n[env]\nFOO = \"bar\" # ours\nORT_LIB_LOCATION = { value = \"/old\", force = true }\n\n[target.x86_64-unknown-linux-gnu]\nrustflags = \"-C target-cpu=native\"\n";
        std::fs::write(cargo.join("config.toml"), original).unwrap();
        let mut file = ConfigFile::open(dir.path()).unwrap();
        assert_eq!(file.set_env("ORT_LIB_LOCATION", "/new/lib", "n").unwrap(), Change::Updated { old: "/old".into() });
        assert_eq!(file.set_env("ORT_PREFER_DYNAMIC_LINK", "1", "link the shared library").unwrap(), Change::Added);
        assert_eq!(file.set_env("FOO", "bar", "").unwrap(), Change::Unchanged);
        let args = ["-Wl,--disable-new-dtags".to_string(), "-Wl,-rpath,/new/lib".to_string()];
        file.set_rpath("x86_64-unknown-linux-gnu", Path::new("/new/lib"), &args, &[]).unwrap();
        assert_eq!(
            file.set_rpath("x86_64-unknown-linux-gnu", Path::new("/new/lib"), &args, &[]).unwrap(),
            (Change::Unchanged, false)
        );
        file.save().unwrap();
        let text = std::fs::read_to_string(cargo.join("config.toml")).unwrap();
        for kept in ["# team settings", "jobs = 2 # keep", "FOO = \"bar\" # ours", "force = true", "target-cpu=native"]
        {
            assert!(text.contains(kept), "{kept} lost:\n{text}");
        }
        assert!(text.contains("value = \"/new/lib\""), "{text}");
        assert!(text.contains("# link the shared library\nORT_PREFER_DYNAMIC_LINK = \"1\""), "{text}");
        assert!(text.contains("\"link-arg=-Wl,-rpath,/new/lib\""), "{text}");
    }

    /// With both `.cargo/config` and `.cargo/config.toml`, cargo reads only the first (and warns); the
    /// setting must land there. Checked against cargo itself: a program built by it sees the variable.
    #[test]
    fn with_both_config_files_the_one_cargo_reads_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let cargo_dir = dir.path().join(".cargo");
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::create_dir_all(&cargo_dir).unwrap();
        std::fs::write(cargo_dir.join("config"), "[env]\nWHICH_FILE = \"legacy\"\n").unwrap();
        std::fs::write(cargo_dir.join("config.toml"), "[env]\nWHICH_FILE = \"toml\"\n").unwrap();
        let mut file = ConfigFile::open(dir.path()).unwrap();
        assert_eq!(file.path, cargo_dir.join("config"));
        file.set_env("ORT_LIB_LOCATION", "/written/lib", "").unwrap();
        file.save().unwrap();

        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"which-config\"\nversion = \"0.0.0\"\nedition = \"2021\"\n[workspace]\n",
        )
        .unwrap();
        let main = r#"fn main() { print!("{} {}", env!("WHICH_FILE"), env!("ORT_LIB_LOCATION")); }"#;
        std::fs::write(dir.path().join("src/main.rs"), main).unwrap();
        let output = std::process::Command::new(env!("CARGO"))
            .args(["run", "--quiet", "--offline"])
            .current_dir(dir.path())
            .env("CARGO_TARGET_DIR", dir.path().join("target"))
            .env_remove("RUSTFLAGS")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert_eq!(String::from_utf8_lossy(&output.stdout), "legacy /written/lib", "{stderr}");
    }

    #[test]
    fn build_rustflags_are_assembled_as_cargo_does_and_kept_first() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let workspace = tmp.path().join("ws");
        let project = workspace.join("app");
        for dir in [&home, &workspace.join(".cargo"), &project.join(".cargo")] {
            std::fs::create_dir_all(dir).unwrap();
        }
        let triple = "x86_64-unknown-linux-gnu";
        std::fs::write(home.join("config.toml"), "[build]\nrustflags = [\"--cfg\", \"home\"]\n").unwrap();
        std::fs::write(workspace.join(".cargo/config.toml"), "[build]\nrustflags = [\"--cfg\", \"ws\"]\n").unwrap();
        let original = "# ours\n[build]\nrustflags = [\"-C\", \"target-cpu=native\"] # fast\n";
        std::fs::write(project.join(".cargo/config.toml"), original).unwrap();
        let file = ConfigFile::open(&project).unwrap();
        // Lists join, the home directory's first and the project's last.
        let flags = file.build_rustflags(&project, Some(&home), triple);
        assert_eq!(flags.flags, ["--cfg", "home", "--cfg", "ws", "-C", "target-cpu=native"]);
        assert_eq!(flags.from.len(), 3);
        // A string replaces what a less specific file's string said (cargo refuses a string mixed with a list).
        std::fs::write(home.join("config.toml"), "[build]\nrustflags = \"--cfg home\"\n").unwrap();
        std::fs::write(workspace.join(".cargo/config.toml"), "[build]\nrustflags = \"--cfg a  --cfg b\"\n").unwrap();
        let no_flags = tmp.path().join("ws/other");
        let other = ConfigFile::open(&no_flags).unwrap();
        assert_eq!(other.build_rustflags(&no_flags, Some(&home), triple).flags, ["--cfg", "a", "--cfg", "b"]);
        // A target table elsewhere already overrides build.rustflags: nothing to keep.
        std::fs::write(home.join("config.toml"), format!("[target.{triple}]\nrustflags = [\"-g\"]\n")).unwrap();
        assert_eq!(file.build_rustflags(&project, Some(&home), triple), BuildFlags::default());

        // Kept in front of the rpath when the table is new, once.
        let mut file = ConfigFile::open(&project).unwrap();
        let build = ["-C".to_string(), "target-cpu=native".to_string()];
        let args = ["-Wl,-rpath,/new/lib".to_string()];
        let (change, kept) = file.set_rpath(triple, Path::new("/new/lib"), &args, &build).unwrap();
        assert_eq!((change, kept), (Change::Added, true));
        assert_eq!(file.set_rpath(triple, Path::new("/new/lib"), &args, &build).unwrap(), (Change::Unchanged, false));
        let text = file.text();
        assert!(text.starts_with(original), "{text}");
        assert!(text.contains(&format!("[target.{triple}]\nrustflags = [\"-C\", \"target-cpu=native\", \"-C\", \"link-arg=-Wl,-rpath,/new/lib\"]")), "{text}");

        // A table holding only the rpath this tool wrote (before it kept build flags) gets them too;
        // one with flags of the user's own does not: cargo was not using build.rustflags for it.
        for (table, expected) in
            [("[\"-C\", \"link-arg=-Wl,-rpath,/new/lib\"]", true), ("[\"-C\", \"opt-level=1\"]", false)]
        {
            std::fs::write(
                project.join(".cargo/config.toml"),
                format!("{original}[target.{triple}]\nrustflags = {table}\n"),
            )
            .unwrap();
            let mut file = ConfigFile::open(&project).unwrap();
            assert_eq!(file.set_rpath(triple, Path::new("/new/lib"), &args, &build).unwrap().1, expected, "{table}");
        }
    }

    #[test]
    fn a_malformed_config_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".cargo")).unwrap();
        std::fs::write(dir.path().join(".cargo/config.toml"), "[env\nX=1").unwrap();
        assert!(ConfigFile::open(dir.path()).unwrap_err().contains("not valid TOML"));
        std::fs::write(dir.path().join(".cargo/config.toml"), "env = 3\n").unwrap();
        let mut file = ConfigFile::open(dir.path()).unwrap();
        assert!(file.set_env("A", "b", "").unwrap_err().contains("not a table"));
    }
}

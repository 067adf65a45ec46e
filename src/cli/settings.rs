//! The library's `Config` for one command: the user's environment, with the variables a command-line
//! flag sets replaced. In a build, a variable wins over `build.rs` because the person running the build
//! knows their machine; on the command line, the flag just typed is that person speaking, so it wins
//! over the variable — including its target-suffixed spellings, which would otherwise still apply.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use onnxruntime_provision::{Config, Env};

use crate::args::{Parsed, UsageError};
use crate::host_env;

/// Names of the library's variables a command line may set.
pub const VERSION: &str = "ONNXRUNTIME_VERSION";
pub const VARIANT: &str = "ONNXRUNTIME_VARIANT";
pub const CACHE_DIR: &str = "ONNXRUNTIME_CACHE_DIR";
pub const SOURCES: &str = "ONNXRUNTIME_SOURCES";

/// What cargo sets for a build script run, which the library reads as "this is a build".
const BUILD_SCRIPT_VARS: [&str; 5] = ["OUT_DIR", "TARGET", "HOST", "CARGO_MANIFEST_LINKS", "DOCS_RS"];

/// Variables to set for one command, each replacing the user's value and its target-suffixed forms.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    vars: Vec<(&'static str, OsString)>,
}

impl Overrides {
    /// `--version`, `--variant`, `--cache-dir` when given.
    pub fn from_args(args: &Parsed) -> Result<Overrides, UsageError> {
        let mut overrides = Overrides::default();
        if let Some(version) = args.text("--version")? {
            overrides.set(VERSION, version);
        }
        if let Some(variant) = args.text("--variant")? {
            if onnxruntime_provision::Variant::parse(variant).is_none() {
                return Err(UsageError(format!("`--variant {variant}`: use one of cpu, cuda11, cuda12, cuda13")));
            }
            overrides.set(VARIANT, variant);
        }
        if let Some(dir) = args.path("--cache-dir") {
            overrides.set(CACHE_DIR, absolute(&dir));
        }
        Ok(overrides)
    }

    pub fn set(&mut self, name: &'static str, value: impl Into<OsString>) -> &mut Overrides {
        self.vars.retain(|(n, _)| *n != name);
        self.vars.push((name, value.into()));
        self
    }

    pub fn get(&self, name: &str) -> Option<&OsString> {
        self.vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The process environment with these variables replaced, and without the variables cargo sets
    /// for build scripts: the CLI is not one, and with `OUT_DIR` (set when it runs under `cargo test`)
    /// the library would stage into someone else's build directory.
    pub fn env(&self) -> Env {
        let replaced = |key: &OsString| {
            let key = key.to_string_lossy();
            BUILD_SCRIPT_VARS.contains(&&*key)
                || key.starts_with("CARGO_CFG_")
                || self.vars.iter().any(|(name, _)| key == *name || key.starts_with(&format!("{name}_")))
        };
        let mut vars: Vec<(OsString, OsString)> = host_env::all().into_iter().filter(|(k, _)| !replaced(k)).collect();
        vars.extend(self.vars.iter().map(|(n, v)| (OsString::from(n), v.clone())));
        Env::from_vars(vars)
    }

    /// A config for `target` that prints nothing (the CLI is not a build script).
    pub fn config(&self, target: &str) -> Config {
        let mut config = Config::new();
        config.env(self.env()).target(target).cargo_metadata(false);
        config
    }
}

/// `path` made absolute against the current directory (the library wants absolute cache paths).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A `file://` URL for a local directory, percent-escaping what a URL cannot hold as is.
pub fn file_url(dir: &Path) -> String {
    let path = absolute(dir);
    let text = path.to_string_lossy().replace('\\', "/");
    let mut url = String::from("file://");
    if !text.starts_with('/') {
        url.push('/');
    }
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b':' => {
                url.push(char::from(byte))
            }
            _ => url.push_str(&format!("%{byte:02X}")),
        }
    }
    url
}

/// The machine this binary runs on, as a target triple: what cargo builds for without `--target`.
pub fn host_triple() -> String {
    env!("ONNXRUNTIME_PROVISION_HOST").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_escape_spaces_and_keep_slashes() {
        assert_eq!(file_url(Path::new("/srv/ort mirror")), "file:///srv/ort%20mirror");
        assert_eq!(file_url(Path::new("/a/b-c_d.e~f")), "file:///a/b-c_d.e~f");
    }
}

//! The one way this crate reads environment variables.
//!
//! Our own variables are looked up per target, as `cc` and `pkg-config` do: `NAME_<target>`, then
//! `NAME_<target with - and . as _>`, then `NAME`. Every name looked up is remembered so the probe can
//! print `cargo:rerun-if-env-changed` for it. An empty value counts as unset. Tests replace the process
//! environment with a map ([`Env::from_vars`]) and never touch the real one.

use std::cell::{Ref, RefCell};
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::Error;

/// Where variables come from: the process environment, or a fixed map (for tests and tools).
#[derive(Clone, Debug, Default)]
pub struct Env {
    map: Option<Arc<BTreeMap<OsString, OsString>>>,
}

impl Env {
    /// The real process environment (the default).
    pub fn process() -> Env {
        Env { map: None }
    }

    /// A fixed set of variables; nothing else is visible. Use it in tests instead of mutating the
    /// process environment.
    pub fn from_vars<I, K, V>(vars: I) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        Env { map: Some(Arc::new(vars.into_iter().map(|(k, v)| (k.into(), v.into())).collect())) }
    }

    /// This environment with `name` set to `value` (a map environment stays a map).
    pub fn with(&self, name: impl Into<OsString>, value: impl Into<OsString>) -> Env {
        let mut map: BTreeMap<OsString, OsString> = match &self.map {
            Some(map) => (**map).clone(),
            None => std::env::vars_os().collect(),
        };
        map.insert(name.into(), value.into());
        Env { map: Some(Arc::new(map)) }
    }

    fn raw(&self, name: &str) -> Option<OsString> {
        self.raw_even_empty(name).filter(|v| !v.is_empty())
    }

    fn raw_even_empty(&self, name: &str) -> Option<OsString> {
        match &self.map {
            Some(map) => map.get(OsStr::new(name)).cloned(),
            // The single place that reads the process environment.
            #[allow(clippy::disallowed_methods)]
            None => std::env::var_os(name),
        }
    }

    /// A variable cargo sets for build scripts (`TARGET`, `OUT_DIR`, `CARGO_CFG_*`, …). These are not
    /// the user's settings, so no `rerun-if-env-changed` is printed for them. Non-UTF-8 counts as unset.
    pub(crate) fn cargo_var(&self, name: &str) -> Option<String> {
        self.raw(name).and_then(|v| v.into_string().ok())
    }

    /// Like [`Env::cargo_var`], for paths (which may not be UTF-8).
    pub(crate) fn cargo_path(&self, name: &str) -> Option<PathBuf> {
        self.raw(name).map(PathBuf::from)
    }
}

/// A variable that was found: the exact name that matched (which may carry a target suffix) and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Var {
    pub name: String,
    pub value: OsString,
}

impl Var {
    pub fn path(&self) -> PathBuf {
        PathBuf::from(&self.value)
    }

    pub fn text(&self) -> Result<&str, Error> {
        self.value.to_str().ok_or_else(|| Error::InvalidSetting {
            setting: self.name.clone(),
            value: self.value.to_string_lossy().into_owned(),
            reason: "the value is not valid UTF-8".into(),
            fix: format!("set {} to a UTF-8 value", self.name),
        })
    }
}

/// The lookups of one probe: the environment, the target suffixes, and every name asked for.
pub(crate) struct Vars<'e> {
    env: &'e Env,
    suffixes: [String; 2],
    seen: RefCell<Vec<String>>,
}

impl<'e> Vars<'e> {
    pub fn new(env: &'e Env, target_triple: &str) -> Vars<'e> {
        Vars {
            env,
            suffixes: [target_triple.to_string(), crate::target::underscored(target_triple)],
            seen: RefCell::new(Vec::new()),
        }
    }

    pub fn env(&self) -> &'e Env {
        self.env
    }

    fn remember(&self, name: &str) {
        if !self.has_seen(name) {
            self.seen.borrow_mut().push(name.to_owned());
        }
    }

    /// [`Vars::remember`] for a name already in a `String` of its own.
    fn remember_owned(&self, name: String) {
        if !self.has_seen(&name) {
            self.seen.borrow_mut().push(name);
        }
    }

    fn has_seen(&self, name: &str) -> bool {
        // Nearly every name is new, and its length alone tells it from the others: a cheap check per
        // name, since this runs for every variable of every probe, unoptimised (issue 7).
        self.seen.borrow().iter().any(|n| n.len() == name.len() && n == name)
    }

    /// One of our variables: `NAME_<target>`, `NAME_<target_underscored>`, then `NAME`.
    pub fn get(&self, name: &str) -> Option<Var> {
        let specific = self.get_suffixed(name);
        let plain = self.plain(name);
        specific.or(plain)
    }

    /// Only the target-specific spellings: `NAME_<target>`, then `NAME_<target_underscored>`.
    pub fn get_suffixed(&self, name: &str) -> Option<Var> {
        let [dashed, underscored] = &self.suffixes;
        // A triple without dashes has one spelling.
        let suffixes = if dashed == underscored { &self.suffixes[..1] } else { &self.suffixes[..] };
        let mut found = None;
        for suffix in suffixes {
            let mut candidate = String::with_capacity(name.len() + 1 + suffix.len());
            candidate.push_str(name);
            candidate.push('_');
            candidate.push_str(suffix);
            if found.is_none()
                && let Some(value) = self.env.raw(&candidate)
            {
                found = Some(Var { name: candidate.clone(), value });
            }
            self.remember_owned(candidate);
        }
        found
    }

    /// A variable other tools define (`HTTPS_PROXY`, `SSL_CERT_FILE`, `PKG_CONFIG_PATH`, …): exactly
    /// that name, no target suffix.
    pub fn plain(&self, name: &str) -> Option<Var> {
        self.remember(name);
        self.env.raw(name).map(|value| Var { name: name.to_string(), value })
    }

    /// Like [`Vars::plain`], but a variable set to the empty string is set: for mirroring tools that
    /// only test presence (the `pkg-config` crate does, and so do pkg-config and pkgconf).
    pub fn plain_even_empty(&self, name: &str) -> Option<OsString> {
        self.remember(name);
        self.env.raw_even_empty(name)
    }

    /// A yes/no variable. `1`, `true`, `yes`, `on` are yes; `0`, `false`, `no`, `off` are no;
    /// anything else is an error rather than a guess.
    pub fn flag(&self, var: Option<Var>) -> Result<Option<bool>, Error> {
        let Some(var) = var else { return Ok(None) };
        let text = var.text()?.trim().to_ascii_lowercase();
        match text.as_str() {
            "1" | "true" | "yes" | "on" => Ok(Some(true)),
            "0" | "false" | "no" | "off" => Ok(Some(false)),
            _ => Err(Error::InvalidSetting {
                setting: var.name.clone(),
                value: var.value.to_string_lossy().into_owned(),
                reason: "it is neither yes nor no".into(),
                fix: format!("set {}=1 to turn it on, or unset it", var.name),
            }),
        }
    }

    /// Every name looked up so far, in first-asked order (borrowed: a warm probe has some forty).
    pub fn seen(&self) -> Ref<'_, [String]> {
        Ref::map(self.seen.borrow(), Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_specific_names_win_and_every_name_is_remembered() {
        let env = Env::from_vars([
            ("ONNXRUNTIME_DIR", "/plain"),
            ("ONNXRUNTIME_DIR_aarch64_unknown_linux_gnu", "/underscored"),
        ]);
        let vars = Vars::new(&env, "aarch64-unknown-linux-gnu");
        let found = vars.get("ONNXRUNTIME_DIR").unwrap();
        assert_eq!(found.name, "ONNXRUNTIME_DIR_aarch64_unknown_linux_gnu");
        assert_eq!(found.path(), PathBuf::from("/underscored"));
        assert_eq!(
            *vars.seen(),
            [
                "ONNXRUNTIME_DIR_aarch64-unknown-linux-gnu",
                "ONNXRUNTIME_DIR_aarch64_unknown_linux_gnu",
                "ONNXRUNTIME_DIR"
            ]
        );

        let env = env.with("ONNXRUNTIME_DIR_aarch64-unknown-linux-gnu", "/dashed");
        let vars = Vars::new(&env, "aarch64-unknown-linux-gnu");
        assert_eq!(vars.get("ONNXRUNTIME_DIR").unwrap().path(), PathBuf::from("/dashed"));

        let vars = Vars::new(&env, "x86_64-unknown-linux-gnu");
        assert_eq!(vars.get("ONNXRUNTIME_DIR").unwrap().path(), PathBuf::from("/plain"));
    }

    #[test]
    fn empty_means_unset() {
        let env = Env::from_vars([("ONNXRUNTIME_DIR_x86_64-unknown-linux-gnu", ""), ("ONNXRUNTIME_DIR", "/x")]);
        let vars = Vars::new(&env, "x86_64-unknown-linux-gnu");
        assert_eq!(vars.get("ONNXRUNTIME_DIR").unwrap().name, "ONNXRUNTIME_DIR");
        assert_eq!(vars.plain("HTTPS_PROXY"), None);
        assert!(vars.seen().contains(&"HTTPS_PROXY".to_string()));
    }

    #[test]
    fn flags_accept_common_spellings_and_refuse_others() {
        let env = Env::from_vars([("A", "1"), ("B", "off"), ("C", "maybe"), ("D", "TRUE")]);
        let vars = Vars::new(&env, "x86_64-unknown-linux-gnu");
        assert_eq!(vars.flag(vars.plain("A")).unwrap(), Some(true));
        assert_eq!(vars.flag(vars.plain("B")).unwrap(), Some(false));
        assert_eq!(vars.flag(vars.plain("D")).unwrap(), Some(true));
        assert_eq!(vars.flag(vars.plain("UNSET")).unwrap(), None);
        let err = vars.flag(vars.plain("C")).unwrap_err().to_string();
        assert!(err.contains("C") && err.contains("maybe"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_values_are_kept_for_paths_and_refused_for_text() {
        use std::os::unix::ffi::OsStringExt;
        let raw = OsString::from_vec(b"/opt/ort-\xff".to_vec());
        let env = Env::from_vars([(OsString::from("ONNXRUNTIME_DIR"), raw.clone())]);
        let vars = Vars::new(&env, "x86_64-unknown-linux-gnu");
        let var = vars.get("ONNXRUNTIME_DIR").unwrap();
        assert_eq!(var.path(), PathBuf::from(raw));
        assert!(var.text().is_err());
    }
}

//! A small command-line parser over `std::env::args_os`: `--name value`, `--name=value`, flags,
//! repeated options and positionals, `--` to end options. Hand-written to keep the CLI's compile
//! time small; every mistake is a [`UsageError`] naming the option, never a panic.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::PathBuf;

/// One option a command accepts.
#[derive(Clone, Copy, Debug)]
pub struct Opt {
    /// With the dashes: `--target`.
    pub name: &'static str,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Flag,
    Value,
    Repeated,
}

impl Opt {
    /// `--write`: present or not.
    pub const fn flag(name: &'static str) -> Opt {
        Opt { name, kind: Kind::Flag }
    }

    /// `--version REQ`: at most once.
    pub const fn value(name: &'static str) -> Opt {
        Opt { name, kind: Kind::Value }
    }

    /// `--target T`: any number of times.
    pub const fn repeated(name: &'static str) -> Opt {
        Opt { name, kind: Kind::Repeated }
    }
}

/// A command line that cannot be understood; printed with the command's usage, exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The parsed options and positionals of one command.
#[derive(Debug, Default)]
pub struct Parsed {
    values: Vec<(&'static str, OsString)>,
    flags: Vec<&'static str>,
    pub positionals: Vec<OsString>,
    /// `-h` or `--help` was given.
    pub help: bool,
}

/// Parses `args` (the words after the command name) against `options`.
pub fn parse(args: &[OsString], options: &[Opt]) -> Result<Parsed, UsageError> {
    let mut parsed = Parsed::default();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let Some(text) = word.to_str() else {
            // Non-UTF-8 words can only be values; an option name is always ASCII.
            parsed.positionals.push(word.clone());
            continue;
        };
        if text == "--" {
            parsed.positionals.extend(words.cloned());
            break;
        }
        if text == "-h" || text == "--help" {
            parsed.help = true;
            continue;
        }
        if !text.starts_with('-') || text == "-" {
            parsed.positionals.push(word.clone());
            continue;
        }
        let (name, inline) = match text.split_once('=') {
            Some((name, value)) => (name, Some(OsString::from(value))),
            None => (text, None),
        };
        let opt = options.iter().find(|o| o.name == name).ok_or_else(|| {
            let known: Vec<&str> = options.iter().map(|o| o.name).collect();
            UsageError(if known.is_empty() {
                format!("unknown option `{name}`: this command takes no options")
            } else {
                format!("unknown option `{name}`; this command knows {}", known.join(", "))
            })
        })?;
        match opt.kind {
            Kind::Flag => {
                if inline.is_some() {
                    return Err(UsageError(format!("`{name}` takes no value")));
                }
                if !parsed.flags.contains(&opt.name) {
                    parsed.flags.push(opt.name);
                }
            }
            Kind::Value | Kind::Repeated => {
                let value = match inline {
                    Some(value) => value,
                    None => words.next().cloned().ok_or_else(|| UsageError(format!("`{name}` needs a value")))?,
                };
                if value.is_empty() {
                    return Err(UsageError(format!("`{name}` needs a non-empty value")));
                }
                if opt.kind == Kind::Value && parsed.values.iter().any(|(n, _)| *n == opt.name) {
                    return Err(UsageError(format!("`{name}` is given twice")));
                }
                parsed.values.push((opt.name, value));
            }
        }
    }
    Ok(parsed)
}

impl Parsed {
    pub fn flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }

    /// The value of a single-valued option.
    pub fn os(&self, name: &str) -> Option<&OsStr> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_os_str())
    }

    /// Every value of a repeated option, in order.
    pub fn all(&self, name: &str) -> Vec<&OsStr> {
        self.values.iter().filter(|(n, _)| *n == name).map(|(_, v)| v.as_os_str()).collect()
    }

    /// The value as text (version requirements, triples, variant names must be UTF-8).
    pub fn text(&self, name: &str) -> Result<Option<&str>, UsageError> {
        match self.os(name) {
            None => Ok(None),
            Some(value) => value.to_str().map(Some).ok_or_else(|| not_utf8(name)),
        }
    }

    /// Every value of a repeated option as text.
    pub fn texts(&self, name: &str) -> Result<Vec<&str>, UsageError> {
        self.all(name).into_iter().map(|v| v.to_str().ok_or_else(|| not_utf8(name))).collect()
    }

    pub fn path(&self, name: &str) -> Option<PathBuf> {
        self.os(name).map(PathBuf::from)
    }

    /// Refuses positionals for a command that takes none.
    pub fn no_positionals(&self) -> Result<(), UsageError> {
        match self.positionals.first() {
            None => Ok(()),
            Some(word) => Err(UsageError(format!("unexpected argument `{}`", word.to_string_lossy()))),
        }
    }
}

fn not_utf8(name: &str) -> UsageError {
    UsageError(format!("the value of `{name}` is not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTS: [Opt; 3] = [Opt::flag("--write"), Opt::value("--version"), Opt::repeated("--target")];

    fn words(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn values_flags_repeats_and_positionals() {
        let p = parse(&words(&["a", "--version=1.22", "--target", "x", "--write", "--target=y", "--", "--z"]), &OPTS)
            .unwrap();
        assert_eq!(p.text("--version").unwrap(), Some("1.22"));
        assert_eq!(p.texts("--target").unwrap(), ["x", "y"]);
        assert!(p.flag("--write"));
        assert_eq!(p.positionals, words(&["a", "--z"]));
        assert!(!p.help);
        assert!(parse(&words(&["--help"]), &OPTS).unwrap().help);
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for bad in
            [&["--version"][..], &["--version", "1", "--version", "2"], &["--nope"], &["--write=1"], &["--target="]]
        {
            assert!(parse(&words(bad), &OPTS).is_err(), "{bad:?}");
        }
        let err = parse(&words(&["--nope"]), &OPTS).unwrap_err().to_string();
        assert!(err.contains("--nope") && err.contains("--target"), "{err}");
    }
}

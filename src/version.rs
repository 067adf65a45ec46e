//! ORT release numbers and the requirements a build puts on them.
//!
//! ORT releases are plain `MAJOR.MINOR.PATCH`; the C API version (`ORT_API_VERSION`) equals the minor
//! number. Requirements follow cargo's spelling with one deliberate difference: a full `1.22.0` means
//! exactly that release, because Linux builds are symbol-versioned per release (`VERS_1.22.0`) and a
//! binary linked against one release does not load with another.

use std::fmt;
use std::str::FromStr;

/// An ORT release number such as `1.22.0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    pub const fn new(major: u64, minor: u64, patch: u64) -> Self {
        Version { major, minor, patch }
    }

    /// The C API level this release serves (`ORT_API_VERSION`), which equals its minor number.
    pub fn api_version(&self) -> u64 {
        self.minor
    }

    /// Parses `1.22.0`; also accepts a leading `v` (tags) and ignores surrounding whitespace.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let mut parts = text.split('.');
        let major = parse_number(parts.next()?)?;
        let minor = parse_number(parts.next()?)?;
        let patch = parse_number(parts.next()?)?;
        if parts.next().is_some() {
            return None;
        }
        Some(Version::new(major, minor, patch))
    }
}

fn parse_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 9 {
        return None;
    }
    text.parse().ok()
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for Version {
    type Err = VersionReqError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s).ok_or_else(|| VersionReqError {
            input: s.to_string(),
            reason: "expected a release number such as 1.22.0".into(),
        })
    }
}

/// What a version may be: any release, or releases matching all of a list of comparators.
///
/// Accepted spellings: `*`, `1.22` (any 1.22.x), `1` (any 1.x), `1.22.0` or `=1.22.0` (exactly),
/// `^1.22`, `~1.22.1`, `>=1.20`, `<2`, `>1.19.2`, `<=1.23`, and comma-separated combinations such
/// as `>=1.20, <2`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionReq {
    text: String,
    comparators: Vec<Comparator>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Comparator {
    op: Op,
    major: u64,
    minor: Option<u64>,
    patch: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// `1.22`, `1.22.0`, `=1.22`: every release the written parts allow.
    Exact,
    Greater,
    GreaterEq,
    Less,
    LessEq,
    /// `^1.22`: compatible releases (`>=1.22.0, <2.0.0`).
    Caret,
    /// `~1.22.1`: patch updates (`>=1.22.1, <1.23.0`).
    Tilde,
}

/// A version requirement that could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionReqError {
    pub input: String,
    pub reason: String,
}

impl fmt::Display for VersionReqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a version requirement: {}. Examples: `1.22` (any 1.22.x), `1.22.0` (exactly), `>=1.20, <2`",
            self.input, self.reason
        )
    }
}

impl std::error::Error for VersionReqError {}

impl VersionReq {
    /// Matches every release.
    pub fn any() -> Self {
        VersionReq { text: "*".into(), comparators: Vec::new() }
    }

    pub fn parse(text: &str) -> Result<Self, VersionReqError> {
        let fail = |reason: &str| VersionReqError { input: text.to_string(), reason: reason.to_string() };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(fail("it is empty"));
        }
        if trimmed == "*" {
            return Ok(VersionReq::any());
        }
        let mut comparators = Vec::new();
        for part in trimmed.split(',') {
            let part = part.trim();
            if part.is_empty() {
                return Err(fail("a comma leaves an empty comparator"));
            }
            comparators.push(Comparator::parse(part).map_err(|reason| fail(&reason))?);
        }
        Ok(VersionReq { text: trimmed.to_string(), comparators })
    }

    pub fn matches(&self, version: &Version) -> bool {
        self.comparators.iter().all(|c| c.matches(version))
    }

    /// True when the requirement names one release exactly (`1.22.0`, `=1.22.0`).
    pub fn exact(&self) -> Option<Version> {
        match self.comparators.as_slice() {
            [Comparator { op: Op::Exact, major, minor: Some(minor), patch: Some(patch) }] => {
                Some(Version::new(*major, *minor, *patch))
            }
            _ => None,
        }
    }

    /// The requirement as written (normalised whitespace at the ends).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Default for VersionReq {
    fn default() -> Self {
        VersionReq::any()
    }
}

impl fmt::Display for VersionReq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for VersionReq {
    type Err = VersionReqError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VersionReq::parse(s)
    }
}

impl Comparator {
    fn parse(text: &str) -> Result<Comparator, String> {
        let (op, rest) = [
            (">=", Op::GreaterEq),
            ("<=", Op::LessEq),
            (">", Op::Greater),
            ("<", Op::Less),
            ("=", Op::Exact),
            ("^", Op::Caret),
            ("~", Op::Tilde),
        ]
        .iter()
        .find_map(|(prefix, op)| text.strip_prefix(prefix).map(|rest| (*op, rest)))
        .unwrap_or((Op::Exact, text));
        let rest = rest.trim();
        let rest = rest.strip_prefix('v').unwrap_or(rest);
        let mut parts = rest.split('.');
        let mut next = |name: &str| -> Result<Option<u64>, String> {
            match parts.next() {
                None => Ok(None),
                Some("*") | Some("x") | Some("X") => Ok(None),
                Some(p) => parse_number(p)
                    .map(Some)
                    .ok_or_else(|| format!("`{p}` is not a number (the {name} part of `{text}`)")),
            }
        };
        let major = next("major")?.ok_or_else(|| format!("`{text}` has no major number"))?;
        let minor = next("minor")?;
        let patch = next("patch")?;
        if parts.next().is_some() {
            return Err(format!("`{text}` has more than three parts (ORT releases are MAJOR.MINOR.PATCH)"));
        }
        if minor.is_none() && patch.is_some() {
            return Err(format!("`{text}` has a patch number without a minor number"));
        }
        Ok(Comparator { op, major, minor, patch })
    }

    /// The lowest release the written parts allow (`1.22` → 1.22.0).
    fn floor(&self) -> Version {
        Version::new(self.major, self.minor.unwrap_or(0), self.patch.unwrap_or(0))
    }

    /// The release just past what the written parts allow (`1.22` → 1.23.0, `1` → 2.0.0).
    fn ceiling(&self) -> Version {
        match (self.minor, self.patch) {
            (None, _) => Version::new(self.major + 1, 0, 0),
            (Some(minor), None) => Version::new(self.major, minor + 1, 0),
            (Some(minor), Some(patch)) => Version::new(self.major, minor, patch + 1),
        }
    }

    fn matches(&self, v: &Version) -> bool {
        let floor = self.floor();
        match self.op {
            Op::Exact => *v >= floor && *v < self.ceiling(),
            Op::GreaterEq => *v >= floor,
            // `>1.22` means past every 1.22.x.
            Op::Greater => *v >= self.ceiling(),
            Op::Less => *v < floor,
            Op::LessEq => *v < self.ceiling(),
            Op::Caret => {
                let ceiling = if self.major > 0 {
                    Version::new(self.major + 1, 0, 0)
                } else {
                    match self.minor {
                        Some(m) if m > 0 => Version::new(0, m + 1, 0),
                        _ => self.ceiling(),
                    }
                };
                *v >= floor && *v < ceiling
            }
            Op::Tilde => {
                let ceiling = match self.minor {
                    Some(m) => Version::new(self.major, m + 1, 0),
                    None => Version::new(self.major + 1, 0, 0),
                };
                *v >= floor && *v < ceiling
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn req(s: &str) -> VersionReq {
        VersionReq::parse(s).unwrap()
    }

    #[test]
    fn parses_release_numbers() {
        assert_eq!(v("1.22.0"), Version::new(1, 22, 0));
        assert_eq!(v("v1.30.0\n"), Version::new(1, 30, 0));
        assert_eq!(Version::parse("1.22"), None);
        assert_eq!(Version::parse("1.22.0.1"), None);
        assert_eq!(Version::parse("1.-2.0"), None);
        assert_eq!(Version::parse("1.22.0-rc1"), None);
        assert_eq!(v("1.22.0").api_version(), 22);
    }

    #[test]
    fn minor_requirement_means_any_patch() {
        let r = req("1.22");
        assert!(r.matches(&v("1.22.0")));
        assert!(r.matches(&v("1.22.9")));
        assert!(!r.matches(&v("1.23.0")));
        assert!(!r.matches(&v("1.21.9")));
        assert_eq!(r.exact(), None);
    }

    #[test]
    fn full_version_means_exactly_that_release() {
        for text in ["1.22.0", "=1.22.0", " = 1.22.0 "] {
            let r = req(text);
            assert!(r.matches(&v("1.22.0")), "{text}");
            assert!(!r.matches(&v("1.22.1")), "{text}");
            assert_eq!(r.exact(), Some(v("1.22.0")));
        }
    }

    #[test]
    fn ranges_and_operators() {
        let r = req(">=1.20, <2");
        assert!(r.matches(&v("1.20.0")));
        assert!(r.matches(&v("1.30.0")));
        assert!(!r.matches(&v("1.19.2")));
        assert!(!r.matches(&v("2.0.0")));
        assert!(req(">1.22").matches(&v("1.23.0")));
        assert!(!req(">1.22").matches(&v("1.22.5")));
        assert!(req("<=1.22").matches(&v("1.22.5")));
        assert!(!req("<=1.22").matches(&v("1.23.0")));
        assert!(req("^1.22").matches(&v("1.30.0")));
        assert!(!req("^1.22").matches(&v("1.21.0")));
        assert!(req("~1.22.1").matches(&v("1.22.4")));
        assert!(!req("~1.22.1").matches(&v("1.23.0")));
        assert!(req("1.x").matches(&v("1.5.0")));
        assert!(req("*").matches(&v("0.1.0")));
    }

    #[test]
    fn parse_errors_say_why() {
        for bad in ["", "one.two", "1.22.0.1", ">=", "1.22,", "1.x.3", ">=1.2a"] {
            let err = VersionReq::parse(bad).unwrap_err();
            assert_eq!(err.input, bad);
            assert!(!err.reason.is_empty());
            assert!(err.to_string().contains("Examples"), "{err}");
        }
    }
}

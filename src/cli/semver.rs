//! Crate versions as Cargo.lock writes them (`2.0.0-rc.15`, `25.0.3`), ordered by semver's rules,
//! and the minimum of a dependency requirement. (ORT's own release numbers are the library's
//! `Version`; crate versions have pre-releases, which matter here: `ort` lived on `2.0.0-rc.N` for years.)

use std::cmp::Ordering;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrateVersion {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    /// The pre-release part without the dash (`rc.15`), empty for a release.
    pub pre: String,
}

impl CrateVersion {
    /// Parses `1.2.3`, `1.2.3-rc.4`, `1.2.3+build` (build metadata is ignored).
    pub fn parse(text: &str) -> Option<CrateVersion> {
        let text = text.trim();
        let text = text.split_once('+').map_or(text, |(v, _)| v);
        let (numbers, pre) = text.split_once('-').unwrap_or((text, ""));
        let mut parts = numbers.split('.').map(|p| p.parse::<u64>().ok());
        let version =
            CrateVersion { major: parts.next()??, minor: parts.next()??, patch: parts.next()??, pre: pre.to_string() };
        if parts.next().is_some() || (text.contains('-') && pre.is_empty()) {
            return None;
        }
        Some(version)
    }

    /// `N` for a `-rc.N` pre-release.
    pub fn rc(&self) -> Option<u64> {
        self.pre.strip_prefix("rc.")?.parse().ok()
    }

    /// The release line that breaking changes are counted on: the major number, or `0.minor` below 1.0.
    pub fn line(&self) -> String {
        if self.major == 0 { format!("0.{}", self.minor) } else { self.major.to_string() }
    }
}

impl fmt::Display for CrateVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        Ok(())
    }
}

impl Ord for CrateVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch)).then_with(|| {
            match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                // A release sorts after its pre-releases.
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_pre(&self.pre, &other.pre),
            }
        })
    }
}

impl PartialOrd for CrateVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Semver precedence of pre-release identifiers: numeric ones compare as numbers and sort before
/// alphanumeric ones; a shorter list that is a prefix of a longer one sorts first.
fn compare_pre(a: &str, b: &str) -> Ordering {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// The first comparator of a requirement such as `^2.0.0-rc.2`, `=2.0.0-rc.10`, `2.0.0-rc.2`, `>=1.2`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub text: String,
    /// `^`, `=`, `~`, `>=`, … (`^` when none is written, as cargo reads it).
    pub op: String,
    /// The version written, with missing parts as 0.
    pub version: CrateVersion,
}

impl Requirement {
    pub fn parse(text: &str) -> Option<Requirement> {
        let first = text.split(',').next()?.trim();
        let split = first.find(|c: char| c.is_ascii_digit())?;
        let (op, rest) = first.split_at(split);
        let op = match op.trim() {
            "" => "^",
            other => other,
        };
        let mut numbers = rest.trim().to_string();
        // `2.0` → `2.0.0`, keeping a pre-release part where one is written.
        let (core, pre) = numbers
            .split_once('-')
            .map(|(c, p)| (c.to_string(), format!("-{p}")))
            .unwrap_or((numbers.clone(), String::new()));
        let dots = core.matches('.').count();
        if dots < 2 {
            numbers = format!("{core}{}{pre}", ".0".repeat(2 - dots));
        }
        Some(Requirement { text: text.trim().to_string(), op: op.to_string(), version: CrateVersion::parse(&numbers)? })
    }

    /// Pins exactly one version (`=x.y.z`).
    pub fn is_exact(&self) -> bool {
        self.op == "="
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> CrateVersion {
        CrateVersion::parse(text).unwrap()
    }

    #[test]
    fn pre_releases_order_numerically_and_before_the_release() {
        assert!(v("2.0.0-rc.2") < v("2.0.0-rc.10"));
        assert!(v("2.0.0-rc.15") < v("2.0.0"));
        assert!(v("2.0.0-alpha.4") < v("2.0.0-rc.0"));
        assert!(v("1.16.3") < v("2.0.0-rc.0"));
        assert_eq!(v("2.0.0-rc.15").rc(), Some(15));
        assert_eq!(v("25.0.3").line(), "25");
        assert_eq!(v("0.13.2").line(), "0.13");
        assert_eq!(CrateVersion::parse("1.2"), None);
        assert_eq!(CrateVersion::parse("1.2.3-"), None);
        assert_eq!(v("1.2.3+meta"), v("1.2.3"));
    }

    #[test]
    fn requirements() {
        let r = Requirement::parse("^2.0.0-rc.2").unwrap();
        assert_eq!((r.op.as_str(), r.version.rc()), ("^", Some(2)));
        assert_eq!(Requirement::parse("2.0.0-rc.2").unwrap().op, "^");
        assert!(Requirement::parse("=2.0.0-rc.10").unwrap().is_exact());
        assert_eq!(Requirement::parse(">=1.2, <2").unwrap().version, v("1.2.0"));
        assert_eq!(Requirement::parse("25").unwrap().version, v("25.0.0"));
        assert_eq!(Requirement::parse("*"), None);
    }
}

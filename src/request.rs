//! What a build asks for: a version requirement, a variant, and a link kind.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;
use crate::version::VersionReq;

/// Which ORT build: the CPU one, or a GPU one for a CUDA major version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum Variant {
    #[default]
    Cpu,
    Cuda11,
    Cuda12,
    Cuda13,
}

impl Variant {
    pub const ALL: [Variant; 4] = [Variant::Cpu, Variant::Cuda11, Variant::Cuda12, Variant::Cuda13];

    pub fn as_str(&self) -> &'static str {
        match self {
            Variant::Cpu => "cpu",
            Variant::Cuda11 => "cuda11",
            Variant::Cuda12 => "cuda12",
            Variant::Cuda13 => "cuda13",
        }
    }

    pub fn parse(text: &str) -> Option<Variant> {
        // The exact spellings first, as a plain match: every probe reads every shipped manifest line's
        // variant, unoptimised.
        match text {
            "cpu" => Some(Variant::Cpu),
            "cuda11" => Some(Variant::Cuda11),
            "cuda12" => Some(Variant::Cuda12),
            "cuda13" => Some(Variant::Cuda13),
            _ => {
                let text = text.trim();
                Variant::ALL.into_iter().find(|v| v.as_str().eq_ignore_ascii_case(text))
            }
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Variant {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Variant::parse(s).ok_or_else(|| Error::InvalidSetting {
            setting: "variant".into(),
            value: s.into(),
            reason: "unknown variant".into(),
            fix: "use one of cpu, cuda11, cuda12, cuda13".into(),
        })
    }
}

/// How the library is linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum LinkKind {
    /// A shared library (`.so`, `.dylib`, `.dll` through its import library). The official archives
    /// only ship these.
    #[default]
    Dynamic,
    /// A user-supplied static build (`libonnxruntime.a` or a build tree of `libonnxruntime_*.a`).
    Static,
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkKind::Dynamic => "dynamic",
            LinkKind::Static => "static",
        })
    }
}

/// Everything a candidate is judged against, after builder settings and variables are combined.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    pub version: VersionReq,
    pub variant: Variant,
    pub link: LinkKind,
    /// The switch that keeps this probe off the network (`ONNXRUNTIME_OFFLINE=1`, …), if any.
    pub offline: Option<String>,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let version = match self.version.as_str() {
            "*" => "any version".to_string(),
            v => v.to_string(),
        };
        write!(f, "ONNX Runtime {version} ({}, {} link)", self.variant, self.link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_read_in_any_case_with_spaces_around() {
        for variant in Variant::ALL {
            let name = variant.as_str();
            assert_eq!(Variant::parse(name), Some(variant));
            assert_eq!(Variant::parse(&format!(" {} ", name.to_ascii_uppercase())), Some(variant));
            assert_eq!(name.parse::<Variant>().ok(), Some(variant));
        }
        for wrong in ["", "gpu", "cuda", "cuda14", "cpu cuda12"] {
            assert_eq!(Variant::parse(wrong), None, "{wrong:?}");
            let err = wrong.parse::<Variant>().unwrap_err().to_string();
            assert!(err.contains("use one of cpu, cuda11, cuda12, cuda13"), "{err}");
        }
    }
}

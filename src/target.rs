//! The target a build is for: cargo's `TARGET`, parsed with `target-lexicon`.
//!
//! Build scripts run on the host but link for the target; everything this crate picks (archive,
//! library file names, the architecture a library must have) follows the target.

use std::fmt;
use std::str::FromStr;

use target_lexicon::{Architecture, BinaryFormat, Environment, OperatingSystem, Triple};

use crate::env::Env;
use crate::error::Error;

/// The CPU family a library must be built for. Only the families ORT ships for are named.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Arch {
    X86_64,
    Aarch64,
    X86,
    Arm,
    Other(String),
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
            Arch::X86 => "x86",
            Arch::Arm => "arm",
            Arch::Other(name) => name,
        })
    }
}

/// The operating-system family, which decides file names and how run-time files are found.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Os {
    Linux,
    MacOs,
    Windows,
    Other(String),
}

impl fmt::Display for Os {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Os::Linux => "linux",
            Os::MacOs => "macos",
            Os::Windows => "windows",
            Os::Other(name) => name,
        })
    }
}

/// A target triple with the facts this crate needs about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    triple: String,
    host: String,
    arch: Arch,
    os: Os,
    /// The ABI part: `gnu`, `musl`, `msvc`, `android`, … (empty when the triple has none).
    abi: String,
}

impl Target {
    /// A target named explicitly, built on this machine (the host this crate was compiled for).
    pub fn new(triple: &str) -> Result<Target, Error> {
        Target::with_host(triple, target_lexicon::HOST.to_string().as_str())
    }

    /// A target built on an explicit host (both as cargo spells them).
    pub fn with_host(triple: &str, host: &str) -> Result<Target, Error> {
        let parsed = Triple::from_str(triple).map_err(|e| Error::InvalidSetting {
            setting: "target".into(),
            value: triple.into(),
            reason: format!("target-lexicon cannot parse it ({e})"),
            fix: "pass a target triple such as x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu".into(),
        })?;
        Ok(Target {
            triple: triple.to_string(),
            host: host.to_string(),
            arch: arch_of(&parsed),
            os: os_of(&parsed),
            abi: abi_of(&parsed),
        })
    }

    /// The target of the running build script: `TARGET` and `HOST` as cargo sets them. A custom target
    /// that `target-lexicon` does not know falls back to `CARGO_CFG_TARGET_ARCH`/`_OS`/`_ENV`.
    pub(crate) fn from_cargo(env: &Env) -> Result<Target, Error> {
        let host = env.cargo_var("HOST").unwrap_or_else(|| target_lexicon::HOST.to_string());
        let Some(triple) = env.cargo_var("TARGET") else {
            return Target::with_host(&host, &host);
        };
        match Target::with_host(&triple, &host) {
            Ok(target) => Ok(target),
            Err(err) => {
                let (Some(arch), Some(os)) =
                    (env.cargo_var("CARGO_CFG_TARGET_ARCH"), env.cargo_var("CARGO_CFG_TARGET_OS"))
                else {
                    return Err(err);
                };
                Ok(Target {
                    arch: arch_from_cfg(&arch),
                    os: os_from_cfg(&os),
                    abi: env.cargo_var("CARGO_CFG_TARGET_ENV").unwrap_or_default(),
                    triple,
                    host,
                })
            }
        }
    }

    pub fn triple(&self) -> &str {
        &self.triple
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn arch(&self) -> &Arch {
        &self.arch
    }

    pub fn os(&self) -> &Os {
        &self.os
    }

    /// The ABI part of the triple (`gnu`, `musl`, `msvc`, …).
    pub fn abi(&self) -> &str {
        &self.abi
    }

    /// Cross-compiling: the target is not the machine the build runs on.
    pub fn is_cross(&self) -> bool {
        self.triple != self.host
    }

    /// Debian's multiarch directory name for this target (`/usr/lib/<name>`), where one exists.
    pub(crate) fn multiarch(&self) -> Option<&'static str> {
        if self.os != Os::Linux {
            return None;
        }
        match (&self.arch, self.abi.as_str()) {
            (Arch::X86_64, "gnu") => Some("x86_64-linux-gnu"),
            (Arch::Aarch64, "gnu") => Some("aarch64-linux-gnu"),
            (Arch::X86, "gnu") => Some("i386-linux-gnu"),
            (Arch::Arm, "gnueabihf") => Some("arm-linux-gnueabihf"),
            (Arch::Arm, "gnueabi") => Some("arm-linux-gnueabi"),
            _ => None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.triple)
    }
}

/// `aarch64-unknown-linux-gnu` → `aarch64_unknown_linux_gnu`, the spelling used in variable names.
pub(crate) fn underscored(triple: &str) -> String {
    triple.replace(['-', '.'], "_")
}

fn arch_of(triple: &Triple) -> Arch {
    match triple.architecture {
        Architecture::X86_64 | Architecture::X86_64h => Arch::X86_64,
        Architecture::Aarch64(_) => Arch::Aarch64,
        Architecture::X86_32(_) => Arch::X86,
        Architecture::Arm(_) => Arch::Arm,
        other => Arch::Other(other.to_string()),
    }
}

fn os_of(triple: &Triple) -> Os {
    match triple.operating_system {
        OperatingSystem::Linux => Os::Linux,
        OperatingSystem::Darwin(_) | OperatingSystem::MacOSX(_) => Os::MacOs,
        OperatingSystem::Windows => Os::Windows,
        _ if triple.binary_format == BinaryFormat::Macho && triple.operating_system.to_string() == "darwin" => {
            Os::MacOs
        }
        other => Os::Other(other.to_string()),
    }
}

fn abi_of(triple: &Triple) -> String {
    match triple.environment {
        Environment::Unknown => String::new(),
        other => other.to_string(),
    }
}

fn arch_from_cfg(arch: &str) -> Arch {
    match arch {
        "x86_64" => Arch::X86_64,
        "aarch64" => Arch::Aarch64,
        "x86" => Arch::X86,
        "arm" => Arch::Arm,
        other => Arch::Other(other.to_string()),
    }
}

fn os_from_cfg(os: &str) -> Os {
    match os {
        "linux" => Os::Linux,
        "macos" => Os::MacOs,
        "windows" => Os::Windows,
        other => Os::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_targets_ort_ships_for() {
        let cases = [
            ("x86_64-unknown-linux-gnu", Arch::X86_64, Os::Linux, "gnu"),
            ("aarch64-unknown-linux-gnu", Arch::Aarch64, Os::Linux, "gnu"),
            ("aarch64-apple-darwin", Arch::Aarch64, Os::MacOs, ""),
            ("x86_64-apple-darwin", Arch::X86_64, Os::MacOs, ""),
            ("x86_64-pc-windows-msvc", Arch::X86_64, Os::Windows, "msvc"),
            ("aarch64-pc-windows-msvc", Arch::Aarch64, Os::Windows, "msvc"),
            ("i686-pc-windows-msvc", Arch::X86, Os::Windows, "msvc"),
            ("x86_64-unknown-linux-musl", Arch::X86_64, Os::Linux, "musl"),
            ("armv7-unknown-linux-gnueabihf", Arch::Arm, Os::Linux, "gnueabihf"),
        ];
        for (triple, arch, os, abi) in cases {
            let t = Target::with_host(triple, "x86_64-unknown-linux-gnu").unwrap();
            assert_eq!((t.arch(), t.os(), t.abi()), (&arch, &os, abi), "{triple}");
        }
    }

    #[test]
    fn cross_is_target_not_host() {
        let native = Target::with_host("x86_64-unknown-linux-gnu", "x86_64-unknown-linux-gnu").unwrap();
        assert!(!native.is_cross());
        let cross = Target::with_host("aarch64-unknown-linux-gnu", "x86_64-unknown-linux-gnu").unwrap();
        assert!(cross.is_cross());
        assert_eq!(cross.multiarch(), Some("aarch64-linux-gnu"));
        assert_eq!(underscored(cross.triple()), "aarch64_unknown_linux_gnu");
    }

    #[test]
    fn reads_cargo_variables_and_falls_back_to_cfg_for_custom_targets() {
        let env = Env::from_vars([("TARGET", "aarch64-unknown-linux-gnu"), ("HOST", "x86_64-unknown-linux-gnu")]);
        let t = Target::from_cargo(&env).unwrap();
        assert_eq!(t.triple(), "aarch64-unknown-linux-gnu");
        assert!(t.is_cross());

        let env = Env::from_vars([
            ("TARGET", "my-custom-board"),
            ("HOST", "x86_64-unknown-linux-gnu"),
            ("CARGO_CFG_TARGET_ARCH", "aarch64"),
            ("CARGO_CFG_TARGET_OS", "linux"),
            ("CARGO_CFG_TARGET_ENV", "gnu"),
        ]);
        let t = Target::from_cargo(&env).unwrap();
        assert_eq!((t.arch(), t.os(), t.abi()), (&Arch::Aarch64, &Os::Linux, "gnu"));

        let env = Env::from_vars([("TARGET", "not a triple"), ("HOST", "x86_64-unknown-linux-gnu")]);
        let err = Target::from_cargo(&env).unwrap_err();
        assert!(err.to_string().contains("not a triple"), "{err}");
    }
}

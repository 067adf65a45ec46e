//! The target a build is for: cargo's `TARGET`, read here.
//!
//! Build scripts run on the host but link for the target; everything this crate picks (archive,
//! library file names, the architecture a library must have) follows the target. Only three facts of a
//! triple matter (CPU family, OS family, ABI), so the triple is read here rather than with
//! `target-lexicon`, whose own build script and tables cost every user's clean build about half a
//! second of CPU (issue 7); custom targets fall back to cargo's `CARGO_CFG_TARGET_*`, rustc's own answer.

use std::fmt;

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
        Target::with_host(triple, HOST)
    }

    /// A target built on an explicit host (both as cargo spells them).
    pub fn with_host(triple: &str, host: &str) -> Result<Target, Error> {
        let parts = Parts::of(triple).ok_or_else(|| Error::InvalidSetting {
            setting: "target".into(),
            value: triple.into(),
            reason: "a target triple is two to four `-`-separated words of letters, digits, `_` and `.` \
                     (architecture, then vendor, operating system and ABI)"
                .into(),
            fix: "pass a target triple such as x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu".into(),
        })?;
        Ok(Target {
            triple: triple.to_string(),
            host: host.to_string(),
            arch: arch_of(parts.arch),
            os: os_of(parts.os),
            abi: parts.abi.to_string(),
        })
    }

    /// The target of the running build script: `TARGET` and `HOST` as cargo sets them. A custom target
    /// whose triple says nothing this crate knows falls back to `CARGO_CFG_TARGET_ARCH`/`_OS`/`_ENV`.
    pub(crate) fn from_cargo(env: &Env) -> Result<Target, Error> {
        let host = env.cargo_var("HOST").unwrap_or_else(|| HOST.to_string());
        let Some(triple) = env.cargo_var("TARGET") else {
            return Target::with_host(&host, &host);
        };
        match Target::with_host(&triple, &host) {
            Ok(target) if !matches!((&target.arch, &target.os), (Arch::Other(_), _) | (_, Os::Other(_))) => Ok(target),
            parsed => {
                let (Some(arch), Some(os)) =
                    (env.cargo_var("CARGO_CFG_TARGET_ARCH"), env.cargo_var("CARGO_CFG_TARGET_OS"))
                else {
                    return parsed;
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
    // A plain loop: `replace` with a pattern of two chars costs 17k instructions unoptimised, and a
    // build script runs unoptimised (issue 7).
    let mut out = String::with_capacity(triple.len());
    for c in triple.chars() {
        out.push(if c == '-' || c == '.' { '_' } else { c });
    }
    out
}

/// The triple of the machine this crate was compiled for (from its `build.rs`): the host of a build
/// script, and of the `cargo onnxruntime` binary.
pub(crate) const HOST: &str = env!("ONNXRUNTIME_PROVISION_HOST");

/// A triple's words: `arch-vendor-os-abi`, `arch-vendor-os`, `arch-os-abi` (`aarch64-linux-android`)
/// or `arch-os`. A three-word triple names a vendor second when its last word is an OS (`apple-darwin`,
/// `unknown-linux`), and an ABI last otherwise.
struct Parts<'t> {
    arch: &'t str,
    os: &'t str,
    abi: &'t str,
}

impl<'t> Parts<'t> {
    fn of(triple: &'t str) -> Option<Parts<'t>> {
        let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
        let words: Vec<&str> = triple.split('-').collect();
        if !words.iter().all(|w| word(w)) {
            return None;
        }
        let (arch, os, abi) = match words[..] {
            [arch, os] => (arch, os, ""),
            [arch, second, third] if is_os(third) || !is_os(second) => (arch, third, ""),
            [arch, os, abi] => (arch, os, abi),
            [arch, _vendor, os, abi] => (arch, os, abi),
            _ => return None,
        };
        Some(Parts { arch, os, abi })
    }
}

/// The operating-system words rustc's targets use in the OS position. `android` is an ABI here:
/// `aarch64-linux-android` is Linux with the Android ABI, as the static-linking rules expect.
fn is_os(word: &str) -> bool {
    const OSES: [&str; 22] = [
        "linux",
        "darwin",
        "macos",
        "windows",
        "ios",
        "tvos",
        "watchos",
        "visionos",
        "freebsd",
        "netbsd",
        "openbsd",
        "dragonfly",
        "illumos",
        "solaris",
        "fuchsia",
        "redox",
        "haiku",
        "wasi",
        "emscripten",
        "none",
        "uefi",
        "cuda",
    ];
    OSES.contains(&word) || word.starts_with("macosx") || word.starts_with("wasip")
}

fn arch_of(word: &str) -> Arch {
    match word {
        "x86_64" | "x86_64h" => Arch::X86_64,
        // Its own ABI (rustc's `target_arch = "arm64ec"`): plain ARM64 DLLs do not load into it.
        "arm64ec" => Arch::Other(word.to_string()),
        w if w.starts_with("aarch64") || w.starts_with("arm64") => Arch::Aarch64,
        "i386" | "i486" | "i586" | "i686" => Arch::X86,
        w if w.starts_with("arm") || w.starts_with("thumb") => Arch::Arm,
        other => Arch::Other(other.to_string()),
    }
}

fn os_of(word: &str) -> Os {
    match word {
        "linux" => Os::Linux,
        "darwin" | "macos" => Os::MacOs,
        w if w.starts_with("macosx") => Os::MacOs,
        "windows" => Os::Windows,
        other => Os::Other(other.to_string()),
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

    /// Every target rustc knows, read by us and described by rustc itself (`--print cfg`): the CPU
    /// and OS families must agree wherever we name one, and a glibc/musl Linux ABI must start with
    /// rustc's `target_env`. Android is Linux with the `android` ABI here (rustc says `target_os =
    /// "android"`).
    #[test]
    fn agrees_with_rustc_on_every_target_it_knows() {
        let rustc = |args: &[&str]| {
            let out = std::process::Command::new("rustc").args(args).output().expect("rustc runs");
            assert!(out.status.success(), "rustc {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).expect("UTF-8")
        };
        let list = rustc(&["--print", "target-list"]);
        let triples: Vec<&str> = list.lines().filter(|l| !l.is_empty()).collect();
        assert!(triples.len() > 200, "rustc lists {} targets", triples.len());
        let disagreements: Vec<String> = std::thread::scope(|scope| {
            let workers: Vec<_> = triples
                .chunks(triples.len().div_ceil(4))
                .map(|chunk| {
                    scope.spawn(move || {
                        let mut wrong = Vec::new();
                        for triple in chunk {
                            let cfg = rustc(&["--print", "cfg", "--target", triple]);
                            let value = |key: &str| {
                                cfg.lines()
                                    .find_map(|l| l.strip_prefix(key)?.strip_prefix("=\"")?.strip_suffix('"'))
                                    .unwrap_or_default()
                                    .to_string()
                            };
                            let ours = match Target::with_host(triple, "x86_64-unknown-linux-gnu") {
                                Ok(t) => t,
                                Err(e) => {
                                    wrong.push(format!("{triple}: {e}"));
                                    continue;
                                }
                            };
                            let os = match value("target_os").as_str() {
                                "android" => "linux".to_string(),
                                other => other.to_string(),
                            };
                            let arch_agrees = match ours.arch() {
                                Arch::Other(_) => {
                                    !["x86_64", "aarch64", "x86", "arm"].contains(&value("target_arch").as_str())
                                }
                                known => known.to_string() == value("target_arch"),
                            };
                            let os_agrees = match ours.os() {
                                Os::Other(_) => !["linux", "macos", "windows"].contains(&os.as_str()),
                                known => known.to_string() == os,
                            };
                            let env = value("target_env");
                            let abi_agrees = !(*ours.os() == Os::Linux && ["gnu", "musl"].contains(&env.as_str()))
                                || ours.abi().starts_with(&env);
                            if !(arch_agrees && os_agrees && abi_agrees) {
                                wrong.push(format!(
                                    "{triple}: ours {}/{}/{}, rustc {}/{os}/{env}",
                                    ours.arch(),
                                    ours.os(),
                                    ours.abi(),
                                    value("target_arch")
                                ));
                            }
                        }
                        wrong
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().expect("worker")).collect()
        });
        assert!(disagreements.is_empty(), "{} disagreements:\n{}", disagreements.len(), disagreements.join("\n"));
    }

    #[test]
    fn refuses_what_is_not_a_triple() {
        for text in [
            "",
            "x86_64",
            "x86_64--linux",
            "x86_64-unknown-linux-gnu-extra",
            "not a triple",
            "x86_64-unknown-linux-gnu\n",
        ] {
            let err = Target::with_host(text, "x86_64-unknown-linux-gnu").unwrap_err();
            let message = err.to_string();
            assert!(message.contains("x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu"), "{text:?}: {message}");
        }
        assert_eq!(Target::new("aarch64-apple-darwin").unwrap().host(), HOST);
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

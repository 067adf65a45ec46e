//! Which ORT archive platform serves a Rust target, and how an archive is packed.
//!
//! Microsoft publishes archives for glibc Linux, macOS and MSVC Windows only (reference: the release
//! assets of microsoft/onnxruntime). Everything else — musl, 32-bit ARM, Android, iOS, wasm,
//! windows-gnu — gets an error naming the targets that do work, rather than an archive that would
//! not link.

use crate::error::DownloadError;
use crate::target::{Arch, Os, Target};

/// The supported targets and their ORT platforms, best first. macOS also takes the universal2
/// archive (a fat binary holding both architectures), used only when the thin one is missing for a
/// release. `osx-x86_64` last shipped in 1.23.2 and `win-x86` was last seen in 1.22.x; the manifests
/// know which releases have which, so no cut-off is written here.
pub(crate) const SUPPORTED: [(&str, &[&str]); 7] = [
    ("x86_64-unknown-linux-gnu", &["linux-x64"]),
    ("aarch64-unknown-linux-gnu", &["linux-aarch64"]),
    ("aarch64-apple-darwin", &["osx-arm64", "osx-universal2"]),
    ("x86_64-apple-darwin", &["osx-x86_64", "osx-universal2"]),
    ("x86_64-pc-windows-msvc", &["win-x64"]),
    ("aarch64-pc-windows-msvc", &["win-arm64"]),
    ("i686-pc-windows-msvc", &["win-x86"]),
];

/// The ORT platforms whose archives run on `target`, best first.
///
/// Decided from the parsed architecture, OS and ABI rather than the spelling of the triple, so a
/// custom target file for, say, an x86_64 glibc Linux board gets the same archive.
pub(crate) fn platforms(target: &Target) -> Result<&'static [&'static str], DownloadError> {
    let triple = match (target.arch(), target.os(), target.abi()) {
        (Arch::X86_64, Os::Linux, "gnu") => "x86_64-unknown-linux-gnu",
        (Arch::Aarch64, Os::Linux, "gnu") => "aarch64-unknown-linux-gnu",
        (Arch::Aarch64, Os::MacOs, "") => "aarch64-apple-darwin",
        (Arch::X86_64, Os::MacOs, "") => "x86_64-apple-darwin",
        (Arch::X86_64, Os::Windows, "msvc") => "x86_64-pc-windows-msvc",
        (Arch::Aarch64, Os::Windows, "msvc") => "aarch64-pc-windows-msvc",
        (Arch::X86, Os::Windows, "msvc") => "i686-pc-windows-msvc",
        _ => return Err(unsupported(target)),
    };
    SUPPORTED.iter().find(|(t, _)| *t == triple).map(|(_, platforms)| *platforms).ok_or_else(|| unsupported(target))
}

fn unsupported(target: &Target) -> DownloadError {
    DownloadError::UnsupportedTarget {
        target: target.triple().to_string(),
        supported: SUPPORTED.iter().map(|(triple, _)| triple.to_string()).collect(),
    }
}

/// How an archive is packed, told by its name (the manifest parser allows only these two endings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ArchiveKind {
    /// `.tgz`: Linux and macOS archives.
    TarGz,
    /// `.zip`: Windows archives.
    Zip,
}

impl ArchiveKind {
    pub(crate) fn of(asset: &str) -> Option<ArchiveKind> {
        if asset.ends_with(".tgz") {
            Some(ArchiveKind::TarGz)
        } else if asset.ends_with(".zip") {
            Some(ArchiveKind::Zip)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(triple: &str) -> Target {
        Target::with_host(triple, "x86_64-unknown-linux-gnu").unwrap()
    }

    #[test]
    fn each_supported_target_gets_its_platforms() {
        for (triple, expected) in SUPPORTED {
            assert_eq!(platforms(&target(triple)).unwrap(), expected, "{triple}");
        }
        assert_eq!(platforms(&target("aarch64-apple-darwin")).unwrap(), ["osx-arm64", "osx-universal2"]);
        assert_eq!(platforms(&target("i686-pc-windows-msvc")).unwrap(), ["win-x86"]);
    }

    #[test]
    fn other_targets_are_refused_with_the_list_that_works() {
        for triple in [
            "x86_64-unknown-linux-musl",
            "aarch64-unknown-linux-musl",
            "armv7-unknown-linux-gnueabihf",
            "aarch64-linux-android",
            "aarch64-apple-ios",
            "wasm32-unknown-unknown",
            "x86_64-pc-windows-gnu",
            "i686-unknown-linux-gnu",
            "x86_64-unknown-freebsd",
            "riscv64gc-unknown-linux-gnu",
        ] {
            let err = platforms(&target(triple)).unwrap_err();
            let DownloadError::UnsupportedTarget { target, supported } = &err else { panic!("{triple}: {err}") };
            assert_eq!(target, triple);
            assert_eq!(supported.len(), SUPPORTED.len());
            let text = err.to_string();
            assert!(text.contains(triple) && text.contains("aarch64-unknown-linux-gnu"), "{text}");
        }
    }

    #[test]
    fn archive_kind_from_the_name() {
        assert_eq!(ArchiveKind::of("onnxruntime-linux-x64-1.22.0.tgz"), Some(ArchiveKind::TarGz));
        assert_eq!(ArchiveKind::of("onnxruntime-win-x64-1.22.0.zip"), Some(ArchiveKind::Zip));
        assert_eq!(ArchiveKind::of("onnxruntime-linux-x64-1.22.0.tar.gz"), None);
    }
}

//! Telling release, platform and variant from an official archive's file name, for maintainers who
//! add a release (`cargo onnxruntime manifest add`). Official names are
//! `onnxruntime-<platform>[-<gpu suffix>]-<version>.<tgz|zip>` (reference/ort-facts.md); the GPU
//! suffix changed meaning over the releases, so the variant depends on the version:
//! plain `-gpu` was CUDA 11 through 1.19.0 and CUDA 12 from 1.19.2 on (ORT issue #21965), 1.17.x also
//! shipped `-cuda12`, later releases `-gpu_cuda12` and `-gpu_cuda13`.
#![cfg_attr(not(feature = "cli"), allow(dead_code, reason = "only the CLI reads archive names"))]

use crate::request::Variant;
use crate::version::Version;

use super::parse::PLATFORMS;
use super::platform::ArchiveKind;

/// What an official archive name says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AssetName {
    pub version: Version,
    pub platform: &'static str,
    pub variant: Variant,
    pub archive: ArchiveKind,
}

/// The last release whose plain `-gpu` archives were built for CUDA 11.
const LAST_CUDA11_GPU: Version = Version::new(1, 19, 0);

/// Reads an official archive name; `None` when it does not follow the official pattern.
pub(crate) fn recognise(asset: &str) -> Option<AssetName> {
    let archive = ArchiveKind::of(asset)?;
    let rest = asset.strip_prefix("onnxruntime-")?;
    let stem = rest.strip_suffix(".tgz").or_else(|| rest.strip_suffix(".zip"))?;
    let (middle, version_text) = stem.rsplit_once('-')?;
    let version = Version::parse(version_text).filter(|_| !version_text.starts_with('v'))?;
    // Longest first, so no platform is mistaken for the prefix of a longer one.
    let mut platforms = PLATFORMS;
    platforms.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let (platform, suffix) = platforms.iter().find_map(|p| {
        let rest = middle.strip_prefix(p)?;
        match rest {
            "" => Some((*p, "")),
            _ => rest.strip_prefix('-').map(|suffix| (*p, suffix)),
        }
    })?;
    let variant = match suffix {
        "" => Variant::Cpu,
        "gpu" if version <= LAST_CUDA11_GPU => Variant::Cuda11,
        "gpu" | "cuda12" | "gpu_cuda12" => Variant::Cuda12,
        "gpu_cuda13" => Variant::Cuda13,
        _ => return None,
    };
    Some(AssetName { version, platform, variant, archive })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    fn read(asset: &str) -> Option<(String, &'static str, Variant)> {
        recognise(asset).map(|a| (a.version.to_string(), a.platform, a.variant))
    }

    #[test]
    fn every_shipped_archive_name_says_its_own_line() {
        let manifest = Manifest::embedded();
        let mut count = 0;
        for a in manifest.artifacts() {
            let name = recognise(&a.asset).unwrap_or_else(|| panic!("{} is not recognised", a.asset));
            assert_eq!(
                (name.version, name.platform, name.variant, name.archive),
                (a.version, a.platform.as_ref(), a.variant, a.archive),
                "{}",
                a.asset
            );
            count += 1;
        }
        assert_eq!(count, 169);
    }

    #[test]
    fn gpu_suffixes_by_release() {
        assert_eq!(read("onnxruntime-linux-x64-gpu-1.19.0.tgz"), Some(("1.19.0".into(), "linux-x64", Variant::Cuda11)));
        assert_eq!(read("onnxruntime-linux-x64-gpu-1.19.2.tgz"), Some(("1.19.2".into(), "linux-x64", Variant::Cuda12)));
        assert_eq!(read("onnxruntime-win-x64-cuda12-1.17.1.zip"), Some(("1.17.1".into(), "win-x64", Variant::Cuda12)));
        assert_eq!(
            read("onnxruntime-linux-x64-gpu_cuda13-1.30.0.tgz"),
            Some(("1.30.0".into(), "linux-x64", Variant::Cuda13))
        );
        assert_eq!(
            read("onnxruntime-osx-universal2-1.23.2.tgz"),
            Some(("1.23.2".into(), "osx-universal2", Variant::Cpu))
        );
    }

    #[test]
    fn other_names_are_not_guessed() {
        for name in [
            "onnxruntime-linux-aarch64.zip",
            "onnxruntime-linux-armv7-1.22.0.tgz",
            "onnxruntime-linux-x64-rocm-1.22.0.tgz",
            "onnxruntime-linux-x64-1.22.tgz",
            "onnxruntime-linux-x64-1.22.0.tar.gz",
            "ort-linux-x64-1.22.0.tgz",
            "onnxruntime-linux-x64-v1.22.0.tgz",
            "onnxruntime-linux-x64gpu-1.22.0.tgz",
        ] {
            assert_eq!(read(name), None, "{name}");
        }
    }
}

//! Release manifests: which official archive exists for version × platform × variant, and its SHA-256.
//!
//! The shipped files (`manifests/<version>.txt`) are checked by the crate's `build.rs` with the rules
//! in [`parse`] and compiled in as static data, so a malformed hash fails this crate's own build and
//! a user's build never parses them. Files named by `ONNXRUNTIME_MANIFEST` (or `Config::manifest`)
//! are parsed with the same rules at run time and give line-numbered errors.
//!
//! An added file's line REPLACES a shipped line with the same release, platform and variant: a
//! private manifest may describe its own repackaging of a release (other hash, other asset name,
//! served from `ONNXRUNTIME_MIRROR`). When two added files list the same key, the later one wins; a
//! key listed twice within one file is an error.

pub(crate) mod naming;
pub(crate) mod parse;
mod platform;

use std::borrow::Cow;
use std::env;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::env::Var;
use crate::error::DownloadError;
use crate::request::Variant;
use crate::target::Target;
use crate::version::{Version, VersionReq};

pub(crate) use platform::ArchiveKind;

/// Where official archives are served from: `<base>/v<version>/<asset>`.
pub(crate) const OFFICIAL_BASE: &str = "https://github.com/microsoft/onnxruntime/releases/download";

// The shipped manifests, written by `build.rs` after validation: `TEXT` and `RECORDS` of [`Packed`].
include!(concat!(env!("OUT_DIR"), "/manifests.rs"));

/// A byte range of the shipped records' `TEXT`.
type Span = (u32, u32);

/// One shipped record with no pointer in it (see `rust_data` in `build.rs`): its strings are byte
/// ranges of `TEXT`, its platform and variant indices into [`parse::PLATFORMS`] and [`parse::VARIANTS`].
struct Packed {
    /// The manifest file (`1.22.0.txt`).
    file: Span,
    line: usize,
    version: [u64; 3],
    platform: u8,
    variant: u8,
    asset: Span,
    sha256: Span,
    size: Option<u64>,
    source: Span,
}

impl Packed {
    fn platform(&self) -> &'static str {
        parse::PLATFORMS[usize::from(self.platform)]
    }

    /// The file name and the record, as `parse` read them from the file.
    fn unpack(&self) -> (&'static str, parse::Record<'static>) {
        let text = |(start, end): Span| &TEXT[start as usize..end as usize];
        let record = parse::Record {
            line: self.line,
            version: self.version,
            platform: self.platform(),
            variant: parse::VARIANTS[usize::from(self.variant)],
            asset: text(self.asset),
            sha256: text(self.sha256),
            size: self.size,
            source: text(self.source),
        };
        (text(self.file), record)
    }
}

/// One archive: what it is, its pinned hash, and where that hash comes from. The text of a shipped
/// artifact is borrowed from the compiled-in data, so listing all of them allocates nothing: every
/// probe of the download source does it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Artifact {
    pub version: Version,
    /// ORT's platform name (`linux-x64`, `osx-arm64`, …).
    pub platform: Cow<'static, str>,
    pub variant: Variant,
    /// The file name of the archive, as published.
    pub asset: Cow<'static, str>,
    /// 64 lowercase hex digits.
    pub sha256: Cow<'static, str>,
    /// The archive's size in bytes, where a source gives it.
    pub size: Option<u64>,
    /// Where the hash comes from: the manifest line's source column.
    pub provenance: Cow<'static, str>,
    /// The manifest line that lists this artifact.
    pub listed_in: ListedIn,
    pub archive: ArchiveKind,
}

/// Where an artifact's line is: a shipped file, or a file added at run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ListedIn {
    Shipped { file: &'static str, line: usize },
    Added { path: PathBuf, line: usize },
}

impl fmt::Display for ListedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListedIn::Shipped { file, line } => write!(f, "manifests/{file}:{line} (shipped with this crate)"),
            ListedIn::Added { path, line } => write!(f, "{}:{line}", path.display()),
        }
    }
}

impl Artifact {
    fn shipped(file: &'static str, record: &parse::Record<'static>) -> Option<Artifact> {
        let text = |s: &'static str| Cow::Borrowed(s);
        Artifact::from_record(record, text, ListedIn::Shipped { file, line: record.line })
    }

    fn added(path: &Path, record: &parse::Record<'_>) -> Option<Artifact> {
        let text = |s: &str| Cow::Owned(s.to_string());
        Artifact::from_record(record, text, ListedIn::Added { path: path.to_path_buf(), line: record.line })
    }

    fn from_record<'r>(
        record: &parse::Record<'r>,
        text: impl Fn(&'r str) -> Cow<'static, str>,
        listed_in: ListedIn,
    ) -> Option<Artifact> {
        let [major, minor, patch] = record.version;
        Some(Artifact {
            version: Version::new(major, minor, patch),
            platform: text(record.platform),
            variant: Variant::parse(record.variant)?,
            asset: text(record.asset),
            sha256: text(record.sha256),
            size: record.size,
            provenance: text(record.source),
            listed_in,
            archive: ArchiveKind::of(record.asset)?,
        })
    }

    fn same_key(&self, other: &Artifact) -> bool {
        self.version == other.version && self.platform == other.platform && self.variant == other.variant
    }
}

/// Every known artifact: the shipped ones, with added files laid over them.
#[derive(Clone, Debug)]
pub(crate) struct Manifest {
    artifacts: Vec<Artifact>,
}

impl Manifest {
    /// The manifests shipped with this crate.
    #[cfg(test)]
    pub(crate) fn embedded() -> Manifest {
        Manifest::shipped(|_| true)
    }

    /// The shipped archives for `target`'s platforms: all that [`Manifest::choose`] and its errors can
    /// name for that target (a few dozen of the 169 records, which a warm probe would otherwise turn
    /// into artifacts on every run).
    pub(crate) fn embedded_for(target: &Target) -> Result<Manifest, DownloadError> {
        let platforms = platform::platforms(target)?;
        Ok(Manifest::shipped(|platform| platforms.contains(&platform)))
    }

    /// What `Manifest::embedded_for(target)?.choose(…)` gives, making an artifact of the chosen record
    /// alone: the choice runs over the packed records (every warm probe of the download source makes
    /// it, unoptimised; issue 7). When nothing matches, the target's share is made after all, for the
    /// error that lists what there is.
    pub(crate) fn choose_shipped(
        target: &Target,
        variant: Variant,
        req: &VersionReq,
    ) -> Result<Artifact, DownloadError> {
        let platforms = platform::platforms(target)?;
        let from_share = || Manifest::embedded_for(target)?.choose(target, variant, req).cloned();
        // Indices compared, not names: the variant's in `VARIANTS`, and each platform's rank by its
        // index in `PLATFORMS`.
        let Some(variant_index) = parse::VARIANTS.iter().position(|v| Variant::parse(v) == Some(variant)) else {
            return from_share();
        };
        let mut rank_of = [None; parse::PLATFORMS.len()];
        for (rank, name) in platforms.iter().enumerate() {
            if let Some(index) = parse::PLATFORMS.iter().position(|p| p == name) {
                rank_of[index].get_or_insert(rank);
            }
        }
        let mut best: Option<(&Packed, Version, usize)> = None;
        for packed in &RECORDS {
            if usize::from(packed.variant) != variant_index {
                continue;
            }
            let Some(rank) = rank_of[usize::from(packed.platform)] else { continue };
            let [major, minor, patch] = packed.version;
            let version = Version::new(major, minor, patch);
            if !req.matches(&version) {
                continue;
            }
            // As `choose`: newest release first, then the better platform (lower rank); of equals,
            // the later record.
            let better = match &best {
                Some((_, v, r)) => version.cmp(v).then(r.cmp(&rank)).is_ge(),
                None => true,
            };
            if better {
                best = Some((packed, version, rank));
            }
        }
        let chosen = best.and_then(|(packed, _, _)| {
            let (file, record) = packed.unpack();
            Artifact::shipped(file, &record)
        });
        match chosen {
            Some(artifact) => Ok(artifact),
            None => from_share(),
        }
    }

    /// The shipped records of the platforms `wanted` takes.
    fn shipped(wanted: impl Fn(&'static str) -> bool) -> Manifest {
        // `build.rs` checked every record with the same parser, so none is dropped here.
        let artifacts = RECORDS
            .iter()
            .filter(|packed| wanted(packed.platform()))
            .filter_map(|packed| {
                let (file, record) = packed.unpack();
                Artifact::shipped(file, &record)
            })
            .collect();
        Manifest { artifacts }
    }

    /// Adds a manifest file in the shipped format. Its lines replace known ones with the same release,
    /// platform and variant. Nothing is added when any line is wrong.
    pub(crate) fn add_file(&mut self, path: &Path) -> Result<(), DownloadError> {
        let error = |line: usize, reason: String| DownloadError::Manifest { path: path.to_path_buf(), line, reason };
        let bytes = std::fs::read(path).map_err(|e| error(0, format!("cannot read it: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = e.as_bytes().iter().take(e.utf8_error().valid_up_to());
            let line = valid.filter(|&&b| b == b'\n').count() + 1;
            error(line, "not UTF-8 text".into())
        })?;
        let records = parse::parse(&text).map_err(|errors| match errors.into_iter().next() {
            Some(first) => error(first.line, first.to_string()),
            None => error(0, "could not be read as a manifest".into()),
        })?;
        let mut added = Vec::with_capacity(records.len());
        for record in &records {
            let artifact = Artifact::added(path, record)
                .ok_or_else(|| error(record.line, "variant or archive kind not known to this build".into()))?;
            added.push(artifact);
        }
        for artifact in added {
            match self.artifacts.iter_mut().find(|known| known.same_key(&artifact)) {
                Some(known) => *known = artifact,
                None => self.artifacts.push(artifact),
            }
        }
        Ok(())
    }

    /// Adds every file a path-list variable names (`ONNXRUNTIME_MANIFEST`: separated like `PATH`,
    /// `:` on Unix and `;` on Windows), in order, so a later file wins over an earlier one.
    pub(crate) fn add_files_from(&mut self, var: &Var) -> Result<(), DownloadError> {
        for path in env::split_paths(&var.value) {
            if path.as_os_str().is_empty() {
                continue;
            }
            let problem = match path.metadata() {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Some("does not exist"),
                Ok(meta) if meta.is_dir() => Some("is a directory, not a manifest file"),
                _ => None,
            };
            if let Some(problem) = problem {
                let reason = format!("{} names this file, but it {problem}", var.name);
                return Err(DownloadError::Manifest { path, line: 0, reason });
            }
            self.add_file(&path)?;
        }
        Ok(())
    }

    /// The newest release satisfying `req` with an archive of `variant` for `target`. When a release
    /// has archives for several of the target's platforms, the first platform wins (osx-arm64 over
    /// osx-universal2). A variant a release lacks is `NoArtifact`, never a CPU archive instead.
    pub(crate) fn choose(
        &self,
        target: &Target,
        variant: Variant,
        req: &VersionReq,
    ) -> Result<&Artifact, DownloadError> {
        let platforms = platform::platforms(target)?;
        let rank = |a: &Artifact| platforms.iter().position(|p| *p == a.platform.as_ref());
        self.artifacts
            .iter()
            .filter(|a| a.variant == variant && req.matches(&a.version))
            .filter_map(|a| rank(a).map(|r| (a, r)))
            // Newest release first, then the better platform (lower rank).
            .max_by(|(a, ra), (b, rb)| a.version.cmp(&b.version).then(rb.cmp(ra)))
            .map(|(a, _)| a)
            .ok_or_else(|| DownloadError::NoArtifact {
                required: req.clone(),
                platform: platforms.join(" or "),
                variant: variant.to_string(),
                available: self.available(platforms),
            })
    }

    /// `1.23.2 (cpu, cuda12)` for each release with an archive for one of `platforms`, newest first.
    fn available(&self, platforms: &[&str]) -> Vec<String> {
        let mut releases: Vec<(Version, Vec<Variant>)> = Vec::new();
        for a in self.artifacts.iter().filter(|a| platforms.contains(&a.platform.as_ref())) {
            match releases.iter_mut().find(|(v, _)| *v == a.version) {
                Some((_, variants)) if !variants.contains(&a.variant) => variants.push(a.variant),
                Some(_) => {}
                None => releases.push((a.version, vec![a.variant])),
            }
        }
        releases.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
        releases
            .into_iter()
            .map(|(version, mut variants)| {
                variants.sort();
                let names: Vec<&str> = variants.iter().map(Variant::as_str).collect();
                format!("{version} ({})", names.join(", "))
            })
            .collect()
    }

    /// Every artifact: shipped ones in release order, then added ones in the order they were read.
    #[cfg(test)]
    pub(crate) fn artifacts(&self) -> impl Iterator<Item = &Artifact> {
        self.artifacts.iter()
    }
}

/// The download URL of `artifact` under `base` (the official base, or a mirror): `<base>/v<version>/<asset>`.
/// Asset names are limited to characters that need no escaping (see `parse`).
pub(crate) fn url(base: &str, artifact: &Artifact) -> String {
    format!("{}/v{}/{}", base.trim_end_matches('/'), artifact.version, artifact.asset)
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::fs;

    use super::*;

    fn target(triple: &str) -> Target {
        Target::with_host(triple, "x86_64-unknown-linux-gnu").unwrap()
    }

    fn req(text: &str) -> VersionReq {
        VersionReq::parse(text).unwrap()
    }

    fn pick(manifest: &Manifest, triple: &str, variant: Variant, requirement: &str) -> Result<String, DownloadError> {
        manifest.choose(&target(triple), variant, &req(requirement)).map(|a| a.asset.to_string())
    }

    fn asset(manifest: &Manifest, triple: &str, variant: Variant, requirement: &str) -> String {
        pick(manifest, triple, variant, requirement)
            .unwrap_or_else(|e| panic!("{triple} {variant} `{requirement}`: {e}"))
    }

    /// The releases a `NoArtifact` error lists.
    fn no_artifact(manifest: &Manifest, triple: &str, variant: Variant, requirement: &str) -> Vec<String> {
        match pick(manifest, triple, variant, requirement) {
            Err(DownloadError::NoArtifact { available, .. }) => available,
            other => panic!("{triple} {variant} `{requirement}`: expected NoArtifact, got {other:?}"),
        }
    }

    #[test]
    fn shipped_data_has_the_known_hashes_and_provenance() {
        let manifest = Manifest::embedded();
        let a = manifest
            .artifacts()
            .find(|a| a.version == Version::new(1, 22, 0) && a.platform == "linux-x64" && a.variant == Variant::Cpu)
            .expect("1.22.0 linux-x64 cpu is shipped");
        assert_eq!(a.asset, "onnxruntime-linux-x64-1.22.0.tgz");
        assert_eq!(a.sha256, "8344d55f93d5bc5021ce342db50f62079daf39aaafb5d311a451846228be49b3");
        assert_eq!(a.provenance, "multi A-rb A-php XM PAC");
        assert_eq!(a.size, None);
        assert_eq!(a.archive, ArchiveKind::TarGz);
        assert!(matches!(a.listed_in, ListedIn::Shipped { file: "1.22.0.txt", .. }), "{:?}", a.listed_in);
        assert!(a.listed_in.to_string().starts_with("manifests/1.22.0.txt:"), "{}", a.listed_in);

        // Sizes come along where the checksum table gave one.
        let a = manifest.artifacts().find(|a| a.asset == "onnxruntime-linux-x64-1.23.2.tgz").unwrap();
        assert_eq!((a.size, a.provenance.as_ref()), (Some(8_309_231), "index 9 unnamed files"));
        let a = manifest.artifacts().find(|a| a.asset == "onnxruntime-win-x64-1.30.0.zip").unwrap();
        assert_eq!(a.archive, ArchiveKind::Zip);
    }

    /// The packed table gives back exactly what parsing each shipped file gives, file by file, in the
    /// files' release order.
    #[test]
    fn the_packed_records_are_the_shipped_files_records() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".txt"))
            .collect();
        let release =
            |n: &String| -> Vec<u64> { n.trim_end_matches(".txt").split('.').map(|p| p.parse().unwrap()).collect() };
        names.sort_by_key(release);
        let texts: Vec<String> = names.iter().map(|n| std::fs::read_to_string(dir.join(n)).unwrap()).collect();
        let expected: Vec<(&str, parse::Record<'_>)> = names
            .iter()
            .zip(&texts)
            .flat_map(|(name, text)| {
                parse::parse_release_file(name, text).unwrap().into_iter().map(move |r| (name.as_str(), r))
            })
            .collect();
        let unpacked: Vec<(&str, parse::Record<'_>)> = RECORDS.iter().map(Packed::unpack).collect();
        assert_eq!(unpacked.len(), 169);
        assert_eq!(unpacked, expected);
    }

    /// Counted by hand in reference/ort-release-checksums.tsv (169 rows) when the files were made.
    #[test]
    fn shipped_releases_have_the_counted_archives() {
        let expected: [(&str, usize); 28] = [
            ("1.16.0", 7),
            ("1.16.1", 9),
            ("1.16.2", 9),
            ("1.16.3", 9),
            ("1.17.0", 11),
            ("1.17.1", 12),
            ("1.17.3", 5),
            ("1.18.0", 10),
            ("1.18.1", 8),
            ("1.19.0", 5),
            ("1.19.2", 9),
            ("1.20.0", 5),
            ("1.20.1", 2),
            ("1.21.0", 5),
            ("1.22.0", 9),
            ("1.22.1", 4),
            ("1.23.0", 5),
            ("1.23.2", 8),
            ("1.24.2", 4),
            ("1.24.3", 4),
            ("1.24.4", 2),
            ("1.25.0", 4),
            ("1.26.0", 4),
            ("1.27.0", 5),
            ("1.28.0", 5),
            ("1.28.2", 1),
            ("1.29.0", 4),
            ("1.30.0", 4),
        ];
        let manifest = Manifest::embedded();
        let mut counted: Vec<(String, usize)> = Vec::new();
        for a in manifest.artifacts() {
            let version = a.version.to_string();
            match counted.iter_mut().find(|(v, _)| *v == version) {
                Some((_, n)) => *n += 1,
                None => counted.push((version, 1)),
            }
        }
        let counted: Vec<(&str, usize)> = counted.iter().map(|(v, n)| (v.as_str(), *n)).collect();
        assert_eq!(counted, expected);
        assert_eq!(manifest.artifacts().count(), 169);
    }

    /// Official names are `onnxruntime-<platform>[-<gpu suffix>]-<version>.<tgz|zip>`; the suffix
    /// tells the variant, with plain `-gpu` meaning CUDA 11 through 1.19.0 and CUDA 12 after.
    #[test]
    fn shipped_asset_names_agree_with_platform_and_variant() {
        for a in Manifest::embedded().artifacts() {
            let suffixes: &[&str] = match a.variant {
                Variant::Cpu => &[""],
                Variant::Cuda11 => &["-gpu"],
                Variant::Cuda12 => &["-gpu", "-cuda12", "-gpu_cuda12"],
                Variant::Cuda13 => &["-gpu_cuda13"],
            };
            let ext = if a.platform.starts_with("win-") { "zip" } else { "tgz" };
            let names: Vec<String> = suffixes
                .iter()
                .map(|suffix| format!("onnxruntime-{}{suffix}-{}.{ext}", a.platform, a.version))
                .collect();
            assert!(
                names.iter().any(|n| *n == a.asset),
                "{} ({} {}) is none of {names:?}",
                a.asset,
                a.platform,
                a.variant
            );
            if a.asset.contains("-gpu-") {
                let cuda11 = a.version <= Version::new(1, 19, 0);
                assert_eq!(a.variant == Variant::Cuda11, cuda11, "{}", a.asset);
            }
        }
    }

    #[test]
    fn the_parser_knows_exactly_the_crate_s_variants_and_platforms() {
        let variants: Vec<&str> = Variant::ALL.iter().map(Variant::as_str).collect();
        assert_eq!(parse::VARIANTS.as_slice(), variants.as_slice());
        let mut mapped: Vec<&str> = platform::SUPPORTED.iter().flat_map(|(_, p)| p.iter().copied()).collect();
        mapped.sort();
        mapped.dedup();
        let mut known = parse::PLATFORMS.to_vec();
        known.sort();
        assert_eq!(mapped, known);
    }

    /// A probe reads only its target's shipped records, and chooses over the packed records when no
    /// file is added; every choice and every "no archive" error must come out as from the whole
    /// manifest.
    #[test]
    fn a_targets_share_of_the_manifest_chooses_as_the_whole_does() {
        let whole = Manifest::embedded();
        let requirements = ["*", "=1.16.0", "1.17", "~1.22.0", ">=1.20, <1.24", "=1.20.1", "2"];
        for (triple, _) in platform::SUPPORTED {
            let target = target(triple);
            let share = Manifest::embedded_for(&target).unwrap();
            assert!(share.artifacts().count() < whole.artifacts().count(), "{triple}");
            for variant in [Variant::Cpu, Variant::Cuda11, Variant::Cuda12, Variant::Cuda13] {
                for requirement in requirements {
                    let (a, b) =
                        (pick(&whole, triple, variant, requirement), pick(&share, triple, variant, requirement));
                    assert_eq!(
                        format!("{a:?}"),
                        format!("{b:?}"),
                        "{triple} {variant} `{requirement}`: whole manifest vs the target's share"
                    );
                    let from_whole = whole.choose(&target, variant, &req(requirement)).cloned();
                    let from_records = Manifest::choose_shipped(&target, variant, &req(requirement));
                    assert_eq!(
                        format!("{from_whole:?}"),
                        format!("{from_records:?}"),
                        "{triple} {variant} `{requirement}`: whole manifest vs the packed records"
                    );
                }
            }
        }
        let unsupported = Target::with_host("riscv64gc-unknown-linux-gnu", "x86_64-unknown-linux-gnu").unwrap();
        assert!(matches!(Manifest::embedded_for(&unsupported), Err(DownloadError::UnsupportedTarget { .. })));
    }

    #[test]
    fn chooses_the_newest_matching_release_for_each_target() {
        let m = Manifest::embedded();
        let cpu = Variant::Cpu;
        // (target, [`1.22`, `>=1.20, <2`, `1.23.2`, `*`])
        let cases = [
            (
                "x86_64-unknown-linux-gnu",
                [
                    "onnxruntime-linux-x64-1.22.0.tgz",
                    "onnxruntime-linux-x64-1.30.0.tgz",
                    "onnxruntime-linux-x64-1.23.2.tgz",
                    "onnxruntime-linux-x64-1.30.0.tgz",
                ],
            ),
            (
                "aarch64-unknown-linux-gnu",
                [
                    "onnxruntime-linux-aarch64-1.22.0.tgz",
                    "onnxruntime-linux-aarch64-1.30.0.tgz",
                    "onnxruntime-linux-aarch64-1.23.2.tgz",
                    "onnxruntime-linux-aarch64-1.30.0.tgz",
                ],
            ),
            (
                // 1.30.0 lists no macOS archive; osx-arm64 wins over osx-universal2 in 1.23.2.
                "aarch64-apple-darwin",
                [
                    "onnxruntime-osx-arm64-1.22.0.tgz",
                    "onnxruntime-osx-arm64-1.29.0.tgz",
                    "onnxruntime-osx-arm64-1.23.2.tgz",
                    "onnxruntime-osx-arm64-1.29.0.tgz",
                ],
            ),
            (
                // osx-x86_64 ends with 1.23.2 (and wins over osx-universal2 there).
                "x86_64-apple-darwin",
                [
                    "onnxruntime-osx-x86_64-1.22.0.tgz",
                    "onnxruntime-osx-x86_64-1.23.2.tgz",
                    "onnxruntime-osx-x86_64-1.23.2.tgz",
                    "onnxruntime-osx-x86_64-1.23.2.tgz",
                ],
            ),
            (
                // 1.22.1 shipped Windows archives only.
                "x86_64-pc-windows-msvc",
                [
                    "onnxruntime-win-x64-1.22.1.zip",
                    "onnxruntime-win-x64-1.30.0.zip",
                    "onnxruntime-win-x64-1.23.2.zip",
                    "onnxruntime-win-x64-1.30.0.zip",
                ],
            ),
            (
                "aarch64-pc-windows-msvc",
                [
                    "onnxruntime-win-arm64-1.22.1.zip",
                    "onnxruntime-win-arm64-1.23.2.zip",
                    "onnxruntime-win-arm64-1.23.2.zip",
                    "onnxruntime-win-arm64-1.23.2.zip",
                ],
            ),
        ];
        for (triple, expected) in cases {
            for (requirement, want) in ["1.22", ">=1.20, <2", "1.23.2", "*"].into_iter().zip(expected) {
                assert_eq!(asset(&m, triple, cpu, requirement), want, "{triple} `{requirement}`");
            }
        }
        // win-x86 was last seen in 1.22.x.
        let triple = "i686-pc-windows-msvc";
        assert_eq!(asset(&m, triple, cpu, "1.22"), "onnxruntime-win-x86-1.22.1.zip");
        assert_eq!(asset(&m, triple, cpu, ">=1.20, <2"), "onnxruntime-win-x86-1.22.1.zip");
        assert_eq!(asset(&m, triple, cpu, "*"), "onnxruntime-win-x86-1.22.1.zip");
        assert_eq!(asset(&m, triple, cpu, "1.16.0"), "onnxruntime-win-x86-1.16.0.zip");
        let available = no_artifact(&m, triple, cpu, "1.23.2");
        assert_eq!(available.first().map(String::as_str), Some("1.22.1 (cpu)"));
        assert!(no_artifact(&m, triple, cpu, ">=1.23").contains(&"1.19.2 (cpu)".to_string()));
    }

    #[test]
    fn no_artifact_lists_what_exists_for_the_target() {
        let m = Manifest::embedded();
        let err = m.choose(&target("x86_64-apple-darwin"), Variant::Cpu, &req(">=1.24")).unwrap_err();
        let DownloadError::NoArtifact { platform, variant, available, .. } = &err else { panic!("{err}") };
        assert_eq!((platform.as_str(), variant.as_str()), ("osx-x86_64 or osx-universal2", "cpu"));
        assert_eq!(available.first().map(String::as_str), Some("1.23.2 (cpu)"));
        assert_eq!(available.last().map(String::as_str), Some("1.16.0 (cpu)"));
        let text = err.to_string();
        assert!(text.contains("`>=1.24`") && text.contains("1.23.2 (cpu), 1.23.0 (cpu)"), "{text}");

        let available = no_artifact(&m, "x86_64-pc-windows-msvc", Variant::Cuda13, "*");
        assert_eq!(available[0], "1.30.0 (cpu)");
        assert!(available.contains(&"1.27.0 (cpu, cuda12)".to_string()), "{available:?}");
        assert!(available.contains(&"1.23.2 (cpu, cuda12)".to_string()), "{available:?}");
        assert!(available.contains(&"1.17.0 (cpu, cuda11, cuda12)".to_string()), "{available:?}");
    }

    #[test]
    fn gpu_variants_follow_the_archive_renames() {
        let m = Manifest::embedded();
        let linux = "x86_64-unknown-linux-gnu";
        let windows = "x86_64-pc-windows-msvc";
        assert_eq!(asset(&m, linux, Variant::Cuda12, "1.22.0"), "onnxruntime-linux-x64-gpu-1.22.0.tgz");
        assert_eq!(asset(&m, linux, Variant::Cuda12, "1.17.1"), "onnxruntime-linux-x64-cuda12-1.17.1.tgz");
        assert_eq!(asset(&m, linux, Variant::Cuda11, "1.17.1"), "onnxruntime-linux-x64-gpu-1.17.1.tgz");
        assert_eq!(asset(&m, linux, Variant::Cuda13, "1.30.0"), "onnxruntime-linux-x64-gpu_cuda13-1.30.0.tgz");
        assert_eq!(asset(&m, linux, Variant::Cuda13, "*"), "onnxruntime-linux-x64-gpu_cuda13-1.30.0.tgz");
        assert_eq!(asset(&m, linux, Variant::Cuda12, "*"), "onnxruntime-linux-x64-gpu_cuda12-1.28.0.tgz");
        assert_eq!(asset(&m, linux, Variant::Cuda12, "1.19"), "onnxruntime-linux-x64-gpu-1.19.2.tgz");
        assert_eq!(asset(&m, linux, Variant::Cuda11, "*"), "onnxruntime-linux-x64-gpu-1.18.1.tgz");
        assert_eq!(asset(&m, windows, Variant::Cuda12, "1.24"), "onnxruntime-win-x64-gpu-1.24.4.zip");
        assert_eq!(asset(&m, windows, Variant::Cuda12, "*"), "onnxruntime-win-x64-gpu_cuda12-1.27.0.zip");
        assert_eq!(asset(&m, windows, Variant::Cuda11, "1.17"), "onnxruntime-win-x64-gpu-1.17.1.zip");

        // A release without the variant is NoArtifact, never its CPU archive.
        let available = no_artifact(&m, linux, Variant::Cuda12, "1.30.0");
        assert_eq!(available[0], "1.30.0 (cpu, cuda13)");
        no_artifact(&m, linux, Variant::Cuda12, "1.21");
        no_artifact(&m, linux, Variant::Cuda11, "1.22.0");
        no_artifact(&m, "aarch64-unknown-linux-gnu", Variant::Cuda12, "*");
        no_artifact(&m, "aarch64-apple-darwin", Variant::Cuda12, "*");
    }

    #[test]
    fn unsupported_targets_are_named_before_any_lookup() {
        let m = Manifest::embedded();
        for triple in ["x86_64-unknown-linux-musl", "armv7-unknown-linux-gnueabihf", "x86_64-pc-windows-gnu"] {
            match pick(&m, triple, Variant::Cpu, "*") {
                Err(DownloadError::UnsupportedTarget { target, supported }) => {
                    assert_eq!(target, triple);
                    assert!(supported.contains(&"x86_64-unknown-linux-gnu".to_string()));
                }
                other => panic!("{triple}: {other:?}"),
            }
        }
    }

    const PRIVATE_HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn an_added_manifest_replaces_shipped_lines_and_adds_releases() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.txt");
        fs::write(
            &path,
            format!(
                "# our own builds\n\
                 1.22.0 linux-x64 cpu ort-linux-x64-1.22.0+corp.tgz {PRIVATE_HASH} 1234 built by CI job 77\n\
                 1.31.0 osx-universal2 cpu onnxruntime-osx-universal2-1.31.0.tgz {PRIVATE_HASH} - hashed locally\n"
            ),
        )
        .unwrap();
        let mut m = Manifest::embedded();
        let before = m.artifacts().count();
        m.add_file(&path).unwrap();
        assert_eq!(m.artifacts().count(), before + 1, "one replaced, one added");

        let a = m.choose(&target("x86_64-unknown-linux-gnu"), Variant::Cpu, &req("1.22.0")).unwrap();
        assert_eq!(
            (a.asset.as_ref(), a.sha256.as_ref(), a.size),
            ("ort-linux-x64-1.22.0+corp.tgz", PRIVATE_HASH, Some(1234))
        );
        assert_eq!(a.provenance, "built by CI job 77");
        assert_eq!(a.listed_in, ListedIn::Added { path: path.clone(), line: 2 });
        assert_eq!(a.listed_in.to_string(), format!("{}:2", path.display()));
        // Only that key changed.
        let arm = m.choose(&target("aarch64-unknown-linux-gnu"), Variant::Cpu, &req("1.22.0")).unwrap();
        assert_eq!(arm.sha256, "bb76395092d150b52c7092dc6b8f2fe4d80f0f3bf0416d2f269193e347e24702");

        // universal2 serves an Intel Mac when it is the only archive of a release.
        let a = m.choose(&target("x86_64-apple-darwin"), Variant::Cpu, &req("*")).unwrap();
        assert_eq!(a.asset, "onnxruntime-osx-universal2-1.31.0.tgz");
        // ...and an Apple Silicon one, since 1.31.0 is newer than any osx-arm64 archive.
        let a = m.choose(&target("aarch64-apple-darwin"), Variant::Cpu, &req("*")).unwrap();
        assert_eq!(a.platform, "osx-universal2");
        let a = m.choose(&target("aarch64-apple-darwin"), Variant::Cpu, &req("1.29")).unwrap();
        assert_eq!(a.platform, "osx-arm64");
    }

    #[test]
    fn a_malformed_added_manifest_names_its_line_and_adds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.txt");
        let upper = PRIVATE_HASH.to_ascii_uppercase();
        fs::write(
            &path,
            format!(
                "1.31.0 linux-x64 cpu onnxruntime-linux-x64-1.31.0.tgz {PRIVATE_HASH} - ok\n\
                 # comment\n\
                 1.31.0 linux-aarch64 cpu onnxruntime-linux-aarch64-1.31.0.tgz {upper} - shouting\n"
            ),
        )
        .unwrap();
        let mut m = Manifest::embedded();
        let err = m.add_file(&path).unwrap_err();
        let DownloadError::Manifest { path: p, line, reason } = &err else { panic!("{err}") };
        assert_eq!((p, *line), (&path, 3));
        assert!(reason.contains("uppercase"), "{reason}");
        assert!(err.to_string().starts_with(&format!("manifest {}:3: ", path.display())), "{err}");
        assert_eq!(m.artifacts().count(), 169, "the good line before it was not added either");

        let dup = dir.path().join("dup.txt");
        let line = format!("1.31.0 linux-x64 cpu a-1.31.0.tgz {PRIVATE_HASH} - x\n");
        fs::write(&dup, format!("{line}{}", line.replace("a-1.31.0", "b-1.31.0"))).unwrap();
        match m.add_file(&dup) {
            Err(DownloadError::Manifest { line: 2, reason, .. }) => {
                assert!(reason.contains("duplicate-key"), "{reason}")
            }
            other => panic!("{other:?}"),
        }

        let latin1 = dir.path().join("latin1.txt");
        fs::write(&latin1, b"# ok\n# caf\xe9\n".as_slice()).unwrap();
        match m.add_file(&latin1) {
            Err(DownloadError::Manifest { line: 2, reason, .. }) => assert!(reason.contains("UTF-8"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_variable_adds_each_listed_file_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("first.txt");
        let second = dir.path().join("second.txt");
        let line = |hash: char, source: &str| {
            format!(
                "1.31.0 linux-x64 cpu onnxruntime-linux-x64-1.31.0.tgz {} - {source}\n",
                hash.to_string().repeat(64)
            )
        };
        fs::write(&first, line('a', "first")).unwrap();
        fs::write(&second, line('b', "second")).unwrap();
        let value = env::join_paths([&first, &second]).unwrap();
        let var = Var { name: "ONNXRUNTIME_MANIFEST".into(), value };
        let mut m = Manifest::embedded();
        m.add_files_from(&var).unwrap();
        let a = m.choose(&target("x86_64-unknown-linux-gnu"), Variant::Cpu, &req("1.31")).unwrap();
        assert_eq!(a.provenance, "second", "the later file wins");

        let missing = dir.path().join("missing.txt");
        let var = Var {
            name: "ONNXRUNTIME_MANIFEST_x86_64_unknown_linux_gnu".into(),
            value: env::join_paths([&first, &missing]).unwrap(),
        };
        let err = Manifest::embedded().add_files_from(&var).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("ONNXRUNTIME_MANIFEST_x86_64_unknown_linux_gnu names this file"), "{text}");
        assert!(text.contains(&missing.display().to_string()) && !text.contains(".txt:0"), "{text}");

        let var = Var { name: "ONNXRUNTIME_MANIFEST".into(), value: OsString::from(dir.path()) };
        let err = Manifest::embedded().add_files_from(&var).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
    }

    #[test]
    fn urls_join_base_release_and_asset() {
        let m = Manifest::embedded();
        let a = m.choose(&target("x86_64-unknown-linux-gnu"), Variant::Cpu, &req("1.22.0")).unwrap();
        assert_eq!(
            url(OFFICIAL_BASE, a),
            "https://github.com/microsoft/onnxruntime/releases/download/v1.22.0/onnxruntime-linux-x64-1.22.0.tgz"
        );
        assert_eq!(url("file:///srv/mirror/", a), "file:///srv/mirror/v1.22.0/onnxruntime-linux-x64-1.22.0.tgz");
        assert_eq!(
            url("http://127.0.0.1:8080/ort", a),
            "http://127.0.0.1:8080/ort/v1.22.0/onnxruntime-linux-x64-1.22.0.tgz"
        );
    }
}

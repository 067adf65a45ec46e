//! The `download` source: manifest lookup → cache hit, or (unless offline) lock → fetch → verify →
//! extract → publish. The result is a candidate like any other, judged by the same inspection.
//!
//! A `.tgz` is unpacked while it streams in (download and hashing on one thread, decompression and
//! writing on another), into a private staging directory; only after the SHA-256 of the whole stream
//! matches the manifest is the tree published into the cache. A `.zip` needs its central directory, so it is saved first.

use crate::config::Config;
use crate::env::Vars;
use crate::error::{Attempt, DownloadError, Verdict};
use crate::request::Request;
use crate::sources::{Candidate, SourceKind};
use crate::target::Target;

/// Told about a download as it goes (the CLI draws a progress bar with it).
#[cfg(feature = "download")]
pub(crate) use crate::fetch::Progress;

/// Without the download feature nothing is ever downloaded, so nothing reports progress.
#[cfg(not(feature = "download"))]
pub(crate) trait Progress {}

/// Why the download source gave no candidate: the attempt for the report, and the error when the
/// failure needs the user's attention (rather than being a plain "skipped").
pub(crate) struct Outcome {
    pub attempt: Attempt,
    pub error: Option<DownloadError>,
}

impl Outcome {
    #[cfg(not(feature = "download"))]
    fn skipped(location: &str, reason: String) -> Outcome {
        Outcome {
            attempt: Attempt {
                source: SourceKind::Download,
                location: location.to_string(),
                verdict: Verdict::Skipped { reason },
            },
            error: None,
        }
    }

    #[cfg(feature = "download")]
    fn failed(location: &str, error: DownloadError) -> Outcome {
        Outcome {
            attempt: Attempt {
                source: SourceKind::Download,
                location: crate::error::redact_passwords(location),
                verdict: Verdict::Failed { detail: crate::error::redact_passwords(&error.to_string()) },
            },
            error: Some(error),
        }
    }
}

#[cfg(not(feature = "download"))]
pub(crate) fn candidate(
    _config: &Config,
    _target: &Target,
    _request: &Request,
    _vars: &Vars<'_>,
    _progress: Option<&dyn Progress>,
) -> Result<Candidate, Outcome> {
    Err(Outcome::skipped("official release archives", "the `download` feature of onnxruntime-provision is off".into()))
}

#[cfg(feature = "download")]
pub(crate) fn candidate(
    config: &Config,
    target: &Target,
    request: &Request,
    vars: &Vars<'_>,
    progress: Option<&dyn Progress>,
) -> Result<Candidate, Outcome> {
    let plan = Plan::new(config, target, request, vars).map_err(|e| Outcome::failed("official release archives", e))?;
    let location = plan.url.clone();
    plan.provide(config, vars, progress).map_err(|e| Outcome::failed(&location, e))
}

/// The cached archive as a candidate, without downloading (for surveys): when it is not cached,
/// the attempt says what a build would download.
#[cfg(feature = "download")]
pub(crate) fn cached(
    config: &Config,
    target: &Target,
    request: &Request,
    vars: &Vars<'_>,
) -> Result<Candidate, Outcome> {
    let plan = Plan::new(config, target, request, vars).map_err(|e| Outcome::failed("official release archives", e))?;
    match plan.cache.lookup(&plan.artifact.sha256) {
        Some(entry) => Ok(plan.candidate(entry, false)),
        None if plan.offline.is_some() => Err(Outcome::failed(&plan.url, plan.offline_error())),
        None => Err(Outcome {
            attempt: Attempt {
                source: SourceKind::Download,
                location: crate::error::redact_passwords(&plan.url),
                verdict: Verdict::WouldDownload { url: plan.url.clone(), sha256: plan.artifact.sha256.to_string() },
            },
            error: None,
        }),
    }
}

#[cfg(not(feature = "download"))]
pub(crate) fn cached(
    config: &Config,
    target: &Target,
    request: &Request,
    vars: &Vars<'_>,
) -> Result<Candidate, Outcome> {
    candidate(config, target, request, vars, None)
}

#[cfg(feature = "cli")]
pub use provide::MirrorCopy;
#[cfg(feature = "download")]
pub(crate) use provide::Plan;
#[cfg(feature = "cli")]
pub(crate) use provide::cache_root;

#[cfg(feature = "download")]
mod provide {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::cache::{Cache, CacheEntry};
    use crate::extract::{self, ArchiveError, Limits};
    use crate::fetch::{self, FetchError, HttpSettings};
    use crate::manifest::{self, ArchiveKind, Artifact, Manifest};
    use crate::sources::Origin;

    /// What the download source will do: which artifact, from where, into which cache.
    pub(crate) struct Plan {
        pub artifact: Artifact,
        pub url: String,
        pub cache: Cache,
        /// The variable (or setting) that made this run offline, if any.
        pub offline: Option<String>,
    }

    impl Plan {
        pub(crate) fn new(
            config: &Config,
            target: &Target,
            request: &Request,
            vars: &Vars<'_>,
        ) -> Result<Plan, DownloadError> {
            let added = vars.get("ONNXRUNTIME_MANIFEST");
            let artifact = if config.manifests.is_empty() && added.is_none() {
                Manifest::choose_shipped(target, request.variant, &request.version)?
            } else {
                let mut manifest = Manifest::embedded_for(target)?;
                for path in &config.manifests {
                    manifest.add_file(path)?;
                }
                if let Some(var) = &added {
                    manifest.add_files_from(var)?;
                }
                manifest.choose(target, request.variant, &request.version)?.clone()
            };
            let base = mirror(config, vars)?;
            let url = manifest::url(&base, &artifact);
            let cache = Cache::new(cache_root(config, vars)?);
            Ok(Plan { artifact, url, cache, offline: request.offline.clone() })
        }

        /// The cache entry, fetching it first when needed and allowed.
        pub(crate) fn provide(
            &self,
            config: &Config,
            vars: &Vars<'_>,
            progress: Option<&dyn Progress>,
        ) -> Result<Candidate, DownloadError> {
            let sha = &self.artifact.sha256;
            if let Some(entry) = self.cache.lookup(sha) {
                return Ok(self.candidate(entry, false));
            }
            if self.offline.is_some() {
                return Err(self.offline_error());
            }
            let settings = HttpSettings::from_vars(vars, config.http_timeout)?;
            let lock = self.cache.lock(sha, &self.artifact.asset)?;
            // Another build may have published it while we waited for the lock.
            if let Some(entry) = self.cache.lookup(sha) {
                return Ok(self.candidate(entry, false));
            }
            // Leftovers are a dead process's only when we hold the lock; without locks they may be
            // another build's work in progress.
            if lock.is_held() {
                self.cache.clear_leftovers(sha);
            }
            let entry = self.fetch_into_cache(&settings, progress)?;
            Ok(self.candidate(entry, true))
        }

        /// Downloads, verifies, unpacks and publishes the artifact.
        pub(crate) fn fetch_into_cache(
            &self,
            settings: &HttpSettings,
            progress: Option<&dyn fetch::Progress>,
        ) -> Result<CacheEntry, DownloadError> {
            let artifact = &self.artifact;
            let staging = self.cache.staging(&artifact.sha256)?;
            let content = staging.content();
            let limits = Limits::default();
            // The manifest's size when it has one; otherwise no archive may exceed what unpacking allows.
            let mut settings = settings.clone();
            settings.max_body_bytes = Some(artifact.size.unwrap_or(limits.max_total_bytes));
            let settings = &settings;
            let fetched = match artifact.archive {
                ArchiveKind::TarGz => fetch::fetch(&self.url, settings, progress, |body| {
                    staging.reset_content().map_err(|source| ArchiveError::Io {
                        action: "empty",
                        path: content.clone(),
                        source,
                    })?;
                    // Unpacked on a second thread while this one downloads and hashes.
                    match extract::overlapped(body, |mut input| {
                        extract::unpack_tar_gz(&mut input, &content, &limits).map(drop)
                    }) {
                        Ok(()) => Ok(None),
                        // Reading the body or writing the disk failed: the fetch retries or gives up.
                        Err(e @ (ArchiveError::Read(_) | ArchiveError::Io { .. })) => Err(e),
                        // The content is judged only once the bytes are known to be the pinned ones, so
                        // the body is read to its end and hashed first: a login page or a cut download
                        // is a checksum mismatch ("checksum first", TEST-MATRIX.md), not a bad archive.
                        Err(content_fault) => Ok(Some(content_fault)),
                    }
                }),
                ArchiveKind::Zip => {
                    let saved = staging.dir().join("archive.zip");
                    fetch::fetch(&self.url, settings, progress, |body| save(body, &saved).map(|_| None))
                }
            };
            let fetched = self.verified(fetched)?;
            if let Some(content_fault) = fetched.value {
                return Err(self.archive_failure(content_fault));
            }
            if artifact.archive == ArchiveKind::Zip {
                let saved = staging.dir().join("archive.zip");
                extract::unpack_zip(&saved, &content, &limits).map_err(|e| self.archive_failure(e))?;
                let _ = std::fs::remove_file(&saved);
            }
            let root = extract::find_root(&content)
                .map_err(|found| DownloadError::Layout { asset: artifact.asset.to_string(), found })?;
            self.cache.publish(staging, &artifact.sha256, &artifact.asset, &root)
        }

        pub(crate) fn offline_error(&self) -> DownloadError {
            DownloadError::Offline {
                asset: self.artifact.asset.to_string(),
                version: self.artifact.version,
                cache_dir: self.cache.root().to_path_buf(),
                switch: self.offline.clone().unwrap_or_default(),
            }
        }

        /// Puts the verified archive at `<dir>/v<version>/<asset>`, the layout a mirror serves
        /// (`cargo onnxruntime fetch --mirror-dir`). A file already there with the pinned hash is kept
        /// without any download; anything else there is replaced. The bytes go to a private name
        /// beside it and are renamed into place only after their SHA-256 matched.
        #[cfg(feature = "cli")]
        pub(crate) fn copy_to_mirror(
            &self,
            dir: &Path,
            config: &Config,
            vars: &Vars<'_>,
            progress: Option<&dyn Progress>,
        ) -> Result<MirrorCopy, DownloadError> {
            let artifact = &self.artifact;
            let folder = dir.join(format!("v{}", artifact.version));
            let dest = folder.join(artifact.asset.as_ref());
            let copy = |bytes, fetched_now| MirrorCopy {
                path: dest.clone(),
                url: self.url.clone(),
                sha256: artifact.sha256.to_string(),
                bytes,
                fetched_now,
            };
            if let Ok((sha256, bytes)) = fetch::sha256_of_file(&dest)
                && sha256 == artifact.sha256
            {
                return Ok(copy(bytes, false));
            }
            if self.offline.is_some() {
                return Err(self.offline_error());
            }
            let settings = HttpSettings::from_vars(vars, config.http_timeout)?;
            std::fs::create_dir_all(&folder).map_err(|source| DownloadError::Cache {
                action: "create the mirror folder".into(),
                path: folder.clone(),
                source,
            })?;
            let partial = folder.join(format!(".{}.partial-{}", artifact.asset, std::process::id()));
            let result = (|| {
                let fetched =
                    self.verified(fetch::fetch(&self.url, &settings, progress, |body| save(body, &partial)))?;
                std::fs::rename(&partial, &dest).map_err(|source| DownloadError::Cache {
                    action: "move the verified archive into the mirror folder as".into(),
                    path: dest.clone(),
                    source,
                })?;
                Ok(fetched.bytes)
            })();
            match result {
                Ok(bytes) => Ok(copy(bytes, true)),
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    Err(e)
                }
            }
        }

        /// A fetch's outcome, with its bytes checked against the pinned SHA-256.
        fn verified<T>(
            &self,
            fetched: Result<fetch::Fetched<T>, FetchError<ArchiveError>>,
        ) -> Result<fetch::Fetched<T>, DownloadError> {
            let fetched = fetched.map_err(|e| match e {
                FetchError::Download(e) => e,
                FetchError::Consumer(e) => self.archive_failure(e),
            })?;
            if fetched.sha256 != self.artifact.sha256 {
                return Err(DownloadError::ChecksumMismatch {
                    url: self.url.clone(),
                    expected: self.artifact.sha256.to_string(),
                    actual: fetched.sha256,
                    bytes: fetched.bytes,
                    content_type: fetched.content_type,
                });
            }
            Ok(fetched)
        }

        /// Local write failures (a full disk) are cache errors; everything else is the archive's fault.
        fn archive_failure(&self, error: ArchiveError) -> DownloadError {
            match error {
                ArchiveError::Io { action, path, source } => {
                    DownloadError::Cache { action: action.to_string(), path, source }
                }
                other => DownloadError::Archive { asset: self.artifact.asset.to_string(), problem: other.to_string() },
            }
        }

        pub(crate) fn candidate(&self, entry: CacheEntry, fetched_now: bool) -> Candidate {
            Candidate {
                source: SourceKind::Download,
                origin: Origin::Download {
                    url: self.url.clone(),
                    sha256: self.artifact.sha256.to_string(),
                    cache_entry: entry.dir.clone(),
                    fetched_now,
                },
                lib_dir: crate::sources::env::library_dir_of(&entry.root).unwrap_or_else(|| entry.root.join("lib")),
                include_dir: Some(entry.root.join("include")),
                root: Some(entry.root),
                claimed_version: Some(self.artifact.version),
                named_by: None,
            }
        }
    }

    /// An archive placed in a mirror folder.
    #[cfg(feature = "cli")]
    #[derive(Clone, Debug)]
    pub struct MirrorCopy {
        /// `<mirror>/v<version>/<asset>`.
        pub path: PathBuf,
        /// Where it was (or would have been) downloaded from.
        pub url: String,
        pub sha256: String,
        pub bytes: u64,
        /// False when a verified copy was already there.
        pub fetched_now: bool,
    }

    /// Saves a body to `path` (a transport read failure is told apart by the fetch layer itself).
    fn save(body: &mut dyn std::io::Read, path: &Path) -> Result<u64, ArchiveError> {
        let io = |source| ArchiveError::Io { action: "write", path: path.to_path_buf(), source };
        let mut file = std::fs::File::create(path).map_err(io)?;
        std::io::copy(body, &mut file).map_err(io)
    }

    /// `ONNXRUNTIME_MIRROR`, the builder's mirror, or GitHub's release downloads.
    fn mirror(config: &Config, vars: &Vars<'_>) -> Result<String, DownloadError> {
        let (setting, value) = match vars.get("ONNXRUNTIME_MIRROR") {
            Some(var) => {
                let text = var.text().map_err(|_| DownloadError::Mirror {
                    setting: var.name.clone(),
                    value: var.value.to_string_lossy().into_owned(),
                    reason: "not valid UTF-8".into(),
                })?;
                (var.name.clone(), text.to_string())
            }
            None => match &config.mirror {
                Some(m) => ("Config::mirror".to_string(), m.clone()),
                None => return Ok(manifest::OFFICIAL_BASE.to_string()),
            },
        };
        let lower = value.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("file://")) {
            return Err(DownloadError::Mirror {
                setting,
                value,
                reason: "it must start with https://, http:// or file://".into(),
            });
        }
        Ok(value)
    }

    /// `ONNXRUNTIME_CACHE_DIR`, else [`Config::cache_dir`], else the OS default.
    pub(crate) fn cache_root(config: &Config, vars: &Vars<'_>) -> Result<PathBuf, DownloadError> {
        let root = match vars.get("ONNXRUNTIME_CACHE_DIR") {
            Some(var) => {
                let path = var.path();
                if !path.is_absolute() {
                    return Err(DownloadError::Cache {
                        action: format!("use {} as the cache (it must be an absolute path)", var.name),
                        path,
                        source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
                    });
                }
                path
            }
            None => match &config.cache_dir {
                Some(dir) => dir.clone(),
                None => crate::cache::default_root(vars).ok_or_else(|| DownloadError::Cache {
                    action: "find a cache directory (set ONNXRUNTIME_CACHE_DIR)".into(),
                    path: PathBuf::new(),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                })?,
            },
        };
        Ok(root)
    }
}

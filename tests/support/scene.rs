//! One end-to-end scenario of the download source: a temp dir with a cache, an OUT_DIR, a test
//! manifest and the variables a build script would see, probed through the public API.
// Probes return the crate's full error report; its size does not matter in tests.
#![allow(clippy::result_large_err)]

use std::ffi::OsString;
use std::fs;
use std::path::PathBuf;

use onnxruntime_provision::{Config, DownloadError, Env, Error, Library, Origin};

use super::X86_64;
use super::archive::{self, Archive};
use super::server::{Reply, Server};

/// One scenario: a temp dir with a cache, an OUT_DIR, a manifest and (optionally) a mirror folder.
pub struct Scene {
    pub tmp: tempfile::TempDir,
    pub vars: Vec<(OsString, OsString)>,
}

impl Scene {
    pub fn new(target: &str) -> Scene {
        let tmp = super::tempdir();
        let out = tmp.path().join("out");
        fs::create_dir_all(&out).unwrap();
        let vars = vec![
            ("TARGET".into(), target.into()),
            ("HOST".into(), X86_64.into()),
            ("OUT_DIR".into(), out.into_os_string()),
            ("ONNXRUNTIME_CACHE_DIR".into(), tmp.path().join("cache").into_os_string()),
            ("ONNXRUNTIME_SOURCES".into(), "download".into()),
            ("ONNXRUNTIME_HTTP_TIMEOUT".into(), "5".into()),
        ];
        Scene { tmp, vars }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    pub fn set(&mut self, name: &str, value: impl Into<OsString>) -> &mut Scene {
        self.vars.retain(|(n, _)| n != name);
        self.vars.push((name.into(), value.into()));
        self
    }

    /// A release archive of a stand-in for `version`/`target` as `asset` (`.tgz` or `.zip`).
    pub fn archive(&self, version: &str, target: &str, asset: &str) -> Archive {
        let top = asset.trim_end_matches(".tgz").trim_end_matches(".zip");
        let tree = self.path(&format!("trees/{asset}"));
        let root = super::official_tree(&tree, top, version, target);
        if asset.ends_with(".zip") { archive::zip(&root, top, asset) } else { archive::tgz(&root, top, asset) }
    }

    /// Writes a manifest with `lines` and points ONNXRUNTIME_MANIFEST at it.
    pub fn manifest(&mut self, lines: &[String]) -> &mut Scene {
        let path = self.path("test-manifest.txt");
        fs::write(&path, lines.concat()).unwrap();
        self.set("ONNXRUNTIME_MANIFEST", path)
    }

    /// The usual start of a download scenario: `server` serves `archive` (release `version` for
    /// `platform`, CPU variant), the manifest pins it and ONNXRUNTIME_MIRROR points at the server.
    pub fn serve(&mut self, server: &Server, archive: &Archive, version: &str, platform: &str) -> &mut Scene {
        server.route(&archive.url_path(version), Reply::ok(archive.bytes.clone()));
        self.manifest(&[archive.manifest_line(version, platform, "cpu")]).set("ONNXRUNTIME_MIRROR", server.url(""))
    }

    pub fn probe(&self) -> Result<Library, Error> {
        Config::new().env(Env::from_vars(self.vars.clone())).cargo_metadata(false).version("1.22").probe()
    }

    pub fn cache(&self) -> PathBuf {
        self.path("cache")
    }

    /// Published entries (hash-named dirs) in the cache.
    pub fn entries(&self) -> Vec<String> {
        let Ok(dir) = fs::read_dir(self.cache()) else { return Vec::new() };
        let mut names: Vec<String> =
            dir.map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| !n.starts_with('.')).collect();
        names.sort();
        names
    }

    /// Leftover temporary files or directories in the cache.
    pub fn temps(&self) -> Vec<PathBuf> {
        match fs::read_dir(self.cache().join(".tmp")) {
            Ok(dir) => dir.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

pub fn download_error(err: &Error) -> &DownloadError {
    match err {
        Error::Download { error, .. } => error,
        other => panic!("expected a download error, got:\n{other}"),
    }
}

pub fn fetched_now(lib: &Library) -> bool {
    match &lib.origin {
        Origin::Download { fetched_now, .. } => *fetched_now,
        other => panic!("expected a download origin, got {other:?}"),
    }
}

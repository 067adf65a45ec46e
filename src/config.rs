//! The builder: what to look for and how. The flow itself is in `probe`.

use std::path::PathBuf;
use std::time::Duration;

use crate::emit;
use crate::env::{Env, Vars};
use crate::error::Error;
#[cfg(feature = "cli")]
use crate::error::{Attempt, DownloadError, Report, Verdict};
use crate::library::Library;
use crate::probe::{Probe, Survey};
use crate::request::Variant;
use crate::sources::SourceKind;
use crate::sources::download::Progress;
#[cfg(feature = "cli")]
use crate::sources::download::{MirrorCopy, Plan};
use crate::target::Target;

/// How to find ONNX Runtime. Settings made here are defaults: the matching `ONNXRUNTIME_*` variable,
/// when set, wins, because the person running the build knows their machine.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) version: Option<String>,
    pub(crate) variant: Option<Variant>,
    pub(crate) sources: Option<Vec<SourceKind>>,
    pub(crate) static_link: Option<bool>,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) mirror: Option<String>,
    pub(crate) manifests: Vec<PathBuf>,
    pub(crate) rpath: bool,
    pub(crate) copy_to_target_dir: bool,
    pub(crate) cargo_metadata: bool,
    pub(crate) env: Env,
    pub(crate) target: Option<String>,
    pub(crate) system_dirs: Option<Vec<PathBuf>>,
    pub(crate) offline: Option<bool>,
    pub(crate) http_timeout: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// Any version, CPU variant, dynamic link, the default sources, rpath on, directives printed.
    pub fn new() -> Config {
        Config {
            version: None,
            variant: None,
            sources: None,
            static_link: None,
            cache_dir: None,
            mirror: None,
            manifests: Vec::new(),
            rpath: true,
            copy_to_target_dir: false,
            cargo_metadata: true,
            env: Env::process(),
            target: None,
            system_dirs: None,
            offline: None,
            http_timeout: None,
        }
    }

    /// The version requirement: `"1.22"` (any 1.22.x), `"1.22.0"` (exactly), `">=1.20, <2"`.
    /// `ONNXRUNTIME_VERSION` overrides it. A malformed requirement is reported by [`Config::probe`].
    pub fn version(&mut self, requirement: &str) -> &mut Config {
        self.version = Some(requirement.to_string());
        self
    }

    /// CPU (the default) or a CUDA build. `ONNXRUNTIME_VARIANT` overrides it.
    pub fn variant(&mut self, variant: Variant) -> &mut Config {
        self.variant = Some(variant);
        self
    }

    /// Which sources to try, in order. `ONNXRUNTIME_SOURCES` overrides it.
    pub fn sources<I: IntoIterator<Item = SourceKind>>(&mut self, sources: I) -> &mut Config {
        self.sources = Some(sources.into_iter().collect());
        self
    }

    /// Link a user-supplied static build instead of the shared library. `ONNXRUNTIME_STATIC` overrides it.
    pub fn static_link(&mut self, yes: bool) -> &mut Config {
        self.static_link = Some(yes);
        self
    }

    /// The shared download cache. `ONNXRUNTIME_CACHE_DIR` overrides it; the default is the OS cache
    /// directory plus `onnxruntime-provision`.
    pub fn cache_dir<P: Into<PathBuf>>(&mut self, dir: P) -> &mut Config {
        self.cache_dir = Some(dir.into());
        self
    }

    /// A base URL replacing `https://github.com/microsoft/onnxruntime/releases/download`: it must hold
    /// `v<version>/<asset>`. `https://`, `http://` and `file://` work. `ONNXRUNTIME_MIRROR` overrides it.
    pub fn mirror(&mut self, base_url: &str) -> &mut Config {
        self.mirror = Some(base_url.to_string());
        self
    }

    /// An extra manifest file (same format as the crate's `manifests/`), for private builds or releases
    /// newer than this crate. May be called several times; `ONNXRUNTIME_MANIFEST` adds more.
    pub fn manifest<P: Into<PathBuf>>(&mut self, path: P) -> &mut Config {
        self.manifests.push(path.into());
        self
    }

    /// Emit an rpath to the staged library directory for this package's binaries (default: on).
    pub fn rpath(&mut self, yes: bool) -> &mut Config {
        self.rpath = yes;
        self
    }

    /// Also copy the run-time files next to the executables in `target/<profile>/` and use a relative
    /// (`$ORIGIN` / `@loader_path`) rpath, so the build output can be moved as a whole (default: off;
    /// always done for Windows targets, which have no rpath).
    ///
    /// The profile directory is found three levels above `OUT_DIR`. When cargo's `build.build-dir`
    /// keeps intermediate files (and `OUT_DIR`) apart from the target directory, `cargo metadata` is
    /// asked once where the final binaries go, and the files are copied there too; a build dir given
    /// with `--config` on cargo's command line is not passed on to build scripts and is not seen.
    pub fn copy_to_target_dir(&mut self, yes: bool) -> &mut Config {
        self.copy_to_target_dir = yes;
        self
    }

    /// Print the `cargo:` directives (default: on). They are returned by
    /// [`Library::cargo_directives`] either way.
    pub fn cargo_metadata(&mut self, yes: bool) -> &mut Config {
        self.cargo_metadata = yes;
        self
    }

    /// Read variables from `env` instead of the process environment (for tests and tools).
    pub fn env(&mut self, env: Env) -> &mut Config {
        self.env = env;
        self
    }

    /// Probe for an explicit target instead of cargo's `TARGET` (for tools and tests). The host is
    /// cargo's `HOST`, or this machine.
    pub fn target(&mut self, triple: &str) -> &mut Config {
        self.target = Some(triple.to_string());
        self
    }

    /// Replace the well-known directories the `system` source searches (for sysroots and tests).
    pub fn system_dirs<I, P>(&mut self, dirs: I) -> &mut Config
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        self.system_dirs = Some(dirs.into_iter().map(Into::into).collect());
        self
    }

    /// Never touch the network (cache and local sources only). `ONNXRUNTIME_OFFLINE` and
    /// `CARGO_NET_OFFLINE` also turn this on.
    pub fn offline(&mut self, yes: bool) -> &mut Config {
        self.offline = Some(yes);
        self
    }

    /// The connect and per-read timeout of downloads (default 30 s); a transfer slower than 1 KiB per
    /// timeout period is also stopped. `ONNXRUNTIME_HTTP_TIMEOUT` (seconds) overrides it.
    pub fn http_timeout(&mut self, timeout: Duration) -> &mut Config {
        self.http_timeout = Some(timeout);
        self
    }

    /// Finds ONNX Runtime for the target, stages it, and (unless turned off) prints the directives that
    /// link it and make it loadable at run time.
    pub fn probe(&self) -> Result<Library, Error> {
        self.probe_with(None)
    }

    /// [`Config::probe`], telling `progress` about downloads as they go.
    pub(crate) fn probe_with(&self, progress: Option<&dyn Progress>) -> Result<Library, Error> {
        if self.env.cargo_var("DOCS_RS").is_some() {
            // docs.rs builds have no network and need no library: succeed, emit nothing.
            let target = self.target.clone().or_else(|| self.env.cargo_var("TARGET")).unwrap_or_default();
            return Ok(Library::skipped(target, "DOCS_RS is set"));
        }
        let target = self.resolve_target()?;
        let vars = Vars::new(&self.env, target.triple());
        let result = Probe { config: self, target: &target, vars: &vars, progress, memo: self.memo() }.run();
        // The variables' lines first, then the library's; printed, then handed back (not copied).
        let mut directives = emit::rerun_env_lines(&vars.seen());
        let result = result.map(|mut library| {
            directives.append(&mut library.directives);
            library
        });
        if self.cargo_metadata {
            emit::print(&directives);
        }
        result.map(|library| Library { directives, ..library })
    }

    /// Looks at every candidate of every source and says what a build would pick, without downloading,
    /// staging or printing anything (what `cargo onnxruntime which` shows).
    pub fn survey(&self) -> Result<Survey, Error> {
        let target = self.resolve_target()?;
        let vars = Vars::new(&self.env, target.triple());
        Probe { config: self, target: &target, vars: &vars, progress: None, memo: self.memo() }.survey()
    }

    /// Puts the archive the download source would fetch into a mirror folder as
    /// `<dir>/v<version>/<asset>`, verified against its pinned SHA-256.
    #[cfg(feature = "cli")]
    pub(crate) fn mirror_with(
        &self,
        dir: &std::path::Path,
        progress: Option<&dyn Progress>,
    ) -> Result<MirrorCopy, Error> {
        let target = self.resolve_target()?;
        let vars = Vars::new(&self.env, target.triple());
        let request = Probe { config: self, target: &target, vars: &vars, progress, memo: self.memo() }.request()?;
        let fail = |error: DownloadError, location: &str| {
            let attempt = Attempt {
                source: SourceKind::Download,
                location: location.to_string(),
                verdict: Verdict::Failed { detail: error.to_string() },
            };
            let report = Report {
                target: target.triple().to_string(),
                host: target.host().to_string(),
                request: request.to_string(),
                sources: vec![SourceKind::Download],
                attempts: vec![attempt],
                variables: Vec::new(),
            };
            Error::Download { error, report: Box::new(report) }
        };
        let plan = Plan::new(self, &target, &request, &vars).map_err(|e| fail(e, "official release archives"))?;
        plan.copy_to_mirror(dir, self, &vars, progress).map_err(|e| fail(e, &plan.url))
    }

    /// In a build script, what its earlier runs read from libraries and directories (kept in `OUT_DIR`).
    fn memo(&self) -> crate::inspect::Memo {
        crate::inspect::Memo::new(self.env.cargo_path("OUT_DIR"))
    }

    fn resolve_target(&self) -> Result<Target, Error> {
        match &self.target {
            Some(triple) => {
                let host = self.env.cargo_var("HOST").unwrap_or_else(|| crate::target::HOST.to_string());
                Target::with_host(triple, &host)
            }
            None => Target::from_cargo(&self.env),
        }
    }
}

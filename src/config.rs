//! The builder and the probe flow: target → request → sources in order → inspect → stage → emit.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::emit::{self, LinkPlan, Metadata};
use crate::env::{Env, Vars};
use crate::error::{Attempt, DownloadError, Error, Report, Verdict};
use crate::inspect::{self, Inspected};
use crate::library::Library;
use crate::request::{LinkKind, Request, Variant};
use crate::sources::{self, Candidate, Origin, SourceKind};
use crate::stage;
use crate::target::Target;
use crate::version::VersionReq;

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
    /// (`$ORIGIN` / `@loader_path`) rpath, so the build output can be moved as a whole (default: off).
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
        if self.env.cargo_var("DOCS_RS").is_some() {
            // docs.rs builds have no network and need no library: succeed, emit nothing.
            return Ok(Library::skipped(self.target.clone().unwrap_or_default(), "DOCS_RS is set"));
        }
        let target = match &self.target {
            Some(triple) => {
                let host = self.env.cargo_var("HOST").unwrap_or_else(|| target_lexicon::HOST.to_string());
                Target::with_host(triple, &host)?
            }
            None => Target::from_cargo(&self.env)?,
        };
        let vars = Vars::new(&self.env, target.triple());
        let result = Probe { config: self, target: &target, vars: &vars }.run();
        let mut directives = emit::rerun_env_lines(&vars.seen());
        let result = result.map(|mut library| {
            directives.append(&mut library.directives);
            library.directives = directives.clone();
            library
        });
        if self.cargo_metadata {
            emit::print(&directives);
        }
        result
    }
}

/// One run of the flow.
struct Probe<'a> {
    config: &'a Config,
    target: &'a Target,
    vars: &'a Vars<'a>,
}

impl Probe<'_> {
    fn run(&self) -> Result<Library, Error> {
        let request = self.request()?;
        let sources = match self.vars.get("ONNXRUNTIME_SOURCES") {
            Some(var) => SourceKind::parse_list(&var.name, var.text()?)?,
            None => self.config.sources.clone().unwrap_or_else(|| SourceKind::DEFAULT_ORDER.to_vec()),
        };
        let mut report = Report {
            target: self.target.triple().to_string(),
            host: self.target.host().to_string(),
            request: request.to_string(),
            sources: sources.clone(),
            ..Report::default()
        };
        let include_override = sources::env::include_override(self.vars)
            .map_err(|(var, verdict)| self.bad_variable(var, verdict, &report))?;
        let mut download_failure: Option<DownloadError> = None;

        for source in &sources {
            let found = match source {
                SourceKind::Env => self.probe_env(&request, &mut report)?,
                SourceKind::PkgConfig => match sources::pkg_config::candidate(self.vars) {
                    Ok(candidate) => self.judge(candidate, &request, &mut report),
                    Err(verdict) => {
                        report.attempts.push(Attempt {
                            source: SourceKind::PkgConfig,
                            location: format!("pkg-config {}", sources::pkg_config::PACKAGE),
                            verdict,
                        });
                        None
                    }
                },
                SourceKind::System => self.probe_system(&request, &mut report),
                SourceKind::Download => {
                    match sources::download::candidate(self.config, self.target, &request, self.vars) {
                        // A downloaded library refused by inspection (a mirror serving another
                        // platform's archive, say) is reported like any other candidate.
                        Ok(candidate) => self.judge(candidate, &request, &mut report),
                        Err(outcome) => {
                            report.attempts.push(outcome.attempt);
                            if let Some(error) = outcome.error {
                                download_failure.get_or_insert(error);
                            }
                            None
                        }
                    }
                }
            };
            if let Some(mut inspected) = found {
                if let Some(include) = &include_override {
                    inspected.include_dir = Some(include.clone());
                }
                return self.finish(inspected, &request);
            }
        }
        report.variables = self.variables_in_effect();
        match download_failure {
            Some(error) => Err(Error::Download { error, report: Box::new(report) }),
            None => Err(Error::NotFound(Box::new(report))),
        }
    }

    fn request(&self) -> Result<Request, Error> {
        let (setting, text) = match self.vars.get("ONNXRUNTIME_VERSION") {
            Some(var) => (var.name.clone(), Some(var.text()?.to_string())),
            None => ("version".to_string(), self.config.version.clone()),
        };
        let version = match text {
            Some(text) => VersionReq::parse(&text).map_err(|e| Error::InvalidSetting {
                setting,
                value: text.clone(),
                reason: e.reason.clone(),
                fix: "write a requirement such as `1.22` (any 1.22.x), `1.22.0` (exactly) or `>=1.20, <2`".into(),
            })?,
            None => VersionReq::any(),
        };
        let variant = match self.vars.get("ONNXRUNTIME_VARIANT") {
            Some(var) => Variant::parse(var.text()?).ok_or_else(|| Error::InvalidSetting {
                setting: var.name.clone(),
                value: var.value.to_string_lossy().into_owned(),
                reason: "unknown variant".into(),
                fix: "use one of cpu, cuda11, cuda12, cuda13".into(),
            })?,
            None => self.config.variant.unwrap_or_default(),
        };
        let static_link = self.vars.flag(self.vars.get("ONNXRUNTIME_STATIC"))?.or(self.config.static_link);
        let link = if static_link == Some(true) { LinkKind::Static } else { LinkKind::Dynamic };
        Ok(Request { version, variant, link, offline: self.offline()? })
    }

    /// Which switch, if any, keeps this probe off the network.
    fn offline(&self) -> Result<Option<String>, Error> {
        for var in [self.vars.get("ONNXRUNTIME_OFFLINE"), self.vars.plain("CARGO_NET_OFFLINE")].into_iter().flatten() {
            if self.vars.flag(Some(var.clone()))? == Some(true) {
                return Ok(Some(format!("{}={}", var.name, var.value.to_string_lossy())));
            }
        }
        Ok(self.config.offline.filter(|o| *o).map(|_| "Config::offline(true)".to_string()))
    }

    fn probe_env(&self, request: &Request, report: &mut Report) -> Result<Option<Inspected>, Error> {
        match sources::env::candidate(self.vars) {
            Ok(None) => {
                report.attempts.push(Attempt {
                    source: SourceKind::Env,
                    location: "ONNXRUNTIME_DIR, ONNXRUNTIME_LIB_DIR".into(),
                    verdict: Verdict::Skipped { reason: "not set".into() },
                });
                Ok(None)
            }
            Ok(Some(candidate)) => match inspect::inspect(&candidate, self.target, request) {
                Ok(inspected) => {
                    report.attempts.push(accepted(&candidate, &inspected));
                    Ok(Some(inspected))
                }
                Err(verdict) => {
                    let name = candidate.named_by.clone().unwrap_or_default();
                    let value = match &candidate.origin {
                        Origin::Variable { path, .. } => path.clone(),
                        _ => candidate.lib_dir.clone(),
                    };
                    report.attempts.push(Attempt {
                        source: SourceKind::Env,
                        location: candidate.location(),
                        verdict: verdict.clone(),
                    });
                    report.variables = self.variables_in_effect();
                    Err(Error::BadVariable { variable: name, value, verdict, report: Box::new(report.clone()) })
                }
            },
            Err((var, verdict)) => Err(self.bad_variable(var, verdict, report)),
        }
    }

    fn probe_system(&self, request: &Request, report: &mut Report) -> Option<Inspected> {
        let dirs = match &self.config.system_dirs {
            Some(dirs) => dirs.clone(),
            None => sources::system::default_dirs(self.target),
        };
        if dirs.is_empty() {
            report.attempts.push(Attempt {
                source: SourceKind::System,
                location: "(no directories)".into(),
                verdict: Verdict::Skipped {
                    reason: format!("no well-known ONNX Runtime directories on {}", self.target.os()),
                },
            });
            return None;
        }
        let mut empty: Vec<String> = Vec::new();
        for candidate in sources::system::candidates(&dirs) {
            match inspect::inspect(&candidate, self.target, request) {
                Ok(inspected) => {
                    report.attempts.push(accepted(&candidate, &inspected));
                    return Some(inspected);
                }
                Err(Verdict::NotFound { .. }) => empty.push(candidate.lib_dir.display().to_string()),
                Err(verdict) => report.attempts.push(Attempt {
                    source: SourceKind::System,
                    location: candidate.location(),
                    verdict,
                }),
            }
        }
        let missing: Vec<String> =
            dirs.iter().map(|d| d.display().to_string()).filter(|d| !empty.contains(d)).collect();
        let mut detail = format!("no {} in {}", inspect::library_words(self.target), empty.join(", "));
        if empty.is_empty() {
            detail = "none of the directories exists".into();
        }
        if !missing.is_empty() && !empty.is_empty() {
            detail.push_str(&format!(" ({} do not exist)", missing.len()));
        }
        report.attempts.push(Attempt {
            source: SourceKind::System,
            location: dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "),
            verdict: Verdict::NotFound { detail },
        });
        None
    }

    /// Inspects a non-env candidate; a refusal is recorded and the search goes on.
    fn judge(&self, candidate: Candidate, request: &Request, report: &mut Report) -> Option<Inspected> {
        match inspect::inspect(&candidate, self.target, request) {
            Ok(inspected) => {
                report.attempts.push(accepted(&candidate, &inspected));
                Some(inspected)
            }
            Err(verdict) => {
                report.attempts.push(Attempt { source: candidate.source, location: candidate.location(), verdict });
                None
            }
        }
    }

    fn bad_variable(&self, var: crate::env::Var, verdict: Verdict, report: &Report) -> Error {
        let mut report = report.clone();
        report.variables = self.variables_in_effect();
        Error::BadVariable { value: var.path(), variable: var.name, verdict, report: Box::new(report) }
    }

    /// Every variable looked up so far that has a value, for the report.
    fn variables_in_effect(&self) -> Vec<(String, String)> {
        let env = self.vars.env();
        self.vars
            .seen()
            .into_iter()
            .filter_map(|name| {
                let value = Vars::new(env, self.target.triple()).plain(&name)?;
                Some((name, value.value.to_string_lossy().into_owned()))
            })
            .collect()
    }

    /// Stage the chosen library and build the directives.
    fn finish(&self, inspected: Inspected, request: &Request) -> Result<Library, Error> {
        let out_dir = self.config.env.cargo_path("OUT_DIR");
        let staged = match &out_dir {
            Some(out_dir) => Some(stage::stage(&inspected, out_dir)?),
            None => None,
        };
        let (lib_dir, include_dir, runtime_files, load_path) = match &staged {
            Some(s) => (s.lib_dir.clone(), s.include_dir.clone(), s.files.clone(), s.library.clone()),
            None => (
                inspected.candidate.lib_dir.clone(),
                inspected.include_dir.clone(),
                inspected.runtime_files.iter().map(|f| f.path.clone()).collect(),
                inspected.library.clone(),
            ),
        };
        let in_cache = matches!(inspected.candidate.origin, Origin::Download { .. });
        let watch: Vec<&Path> = if in_cache { Vec::new() } else { vec![inspected.library.as_path()] };
        let links = self.config.env.cargo_var("CARGO_MANIFEST_LINKS");
        let root = inspected.candidate.root.clone();
        let plan = LinkPlan {
            target: self.target,
            link: request.link,
            lib_dir: &lib_dir,
            rpath: self.config.rpath,
            watch,
            load_path: Some(&load_path),
            metadata: links.map(|_| Metadata {
                root: root.as_deref(),
                include: include_dir.as_deref(),
                version: inspected.version.to_string(),
                api_version: inspected.version.api_version(),
            }),
        };
        let directives = emit::link_lines(&plan)?;
        Ok(Library {
            version: inspected.version,
            target: self.target.triple().to_string(),
            root,
            lib_dir,
            include_dir,
            link: request.link,
            variant: request.variant,
            origin: inspected.candidate.origin.clone(),
            library_file: inspected.library.clone(),
            runtime_files,
            directives,
        })
    }
}

fn accepted(candidate: &Candidate, inspected: &Inspected) -> Attempt {
    Attempt {
        source: candidate.source,
        location: candidate.location(),
        verdict: Verdict::Accepted { version: inspected.version, evidence: inspected.evidence.clone() },
    }
}

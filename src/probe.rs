//! The flow of one probe: request → sources in order → inspect each candidate → the first acceptable
//! one → stage → emit. A survey walks the same sources but looks at every candidate and downloads,
//! stages and emits nothing (`cargo onnxruntime which`).

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::emit::{self, LinkPlan, Linkage, Metadata};
use crate::env::{Var, Vars};
use crate::error::{Attempt, DownloadError, Error, Report, Verdict};
use crate::inspect::{self, Inspected};
use crate::library::Library;
use crate::request::{LinkKind, Request, Variant};
use crate::sources::download::Progress;
use crate::sources::{self, Candidate, Origin, SourceKind};
use crate::stage;
use crate::target::{Os, Target};
use crate::version::VersionReq;

/// What a survey saw: every candidate of every source with its verdict, and what a build would do.
#[derive(Debug)]
#[non_exhaustive]
pub struct Survey {
    pub report: Report,
    /// The attempt (index into `report.attempts`) a build would use: an accepted candidate, or the
    /// archive it would download.
    pub chosen: Option<usize>,
    /// The error a build would stop with before choosing (a variable naming a bad location).
    pub error: Option<Error>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Stop at the first acceptable candidate; download when needed.
    Probe,
    /// Every candidate; never download.
    Survey,
}

pub(crate) struct Probe<'a> {
    pub config: &'a Config,
    pub target: &'a Target,
    pub vars: &'a Vars<'a>,
    /// Told about downloads as they go (the CLI's progress bar); builds pass none.
    pub progress: Option<&'a dyn Progress>,
    /// What earlier runs of this build script read from libraries and directories.
    pub memo: inspect::Memo,
}

/// The attempts so far, and the first acceptable candidate among them.
#[derive(Default)]
struct Findings {
    attempts: Vec<Attempt>,
    chosen: Option<(Inspected, usize)>,
    download_failure: Option<DownloadError>,
    /// A variable-named location that was refused (survey mode records it instead of stopping).
    bad_variable: Option<Error>,
    /// `ONNXRUNTIME_INCLUDE_DIR`, which replaces every candidate's include directory.
    include_override: Option<PathBuf>,
}

impl Findings {
    /// A candidate as it is judged: with the include directory the user named, if any.
    fn adjust(&self, mut candidate: Candidate) -> Candidate {
        if let Some(dir) = &self.include_override {
            candidate.include_dir = Some(dir.clone());
        }
        candidate
    }

    fn record(&mut self, attempt: Attempt, inspected: Option<Inspected>) {
        if let (None, Some(inspected)) = (&self.chosen, inspected) {
            self.chosen = Some((inspected, self.attempts.len()));
        }
        self.attempts.push(attempt);
    }
}

impl Probe<'_> {
    pub fn run(&self) -> Result<Library, Error> {
        let (request, findings, report) = self.search(Mode::Probe)?;
        match findings.chosen {
            Some((inspected, _)) => self.finish(inspected, &request),
            None => Err(self.failure(report, findings.download_failure)),
        }
    }

    pub fn survey(&self) -> Result<Survey, Error> {
        let (_, findings, mut report) = self.search(Mode::Survey)?;
        report.variables = self.variables_in_effect();
        // What a build would use: the first candidate, in source order, that is accepted or would be
        // downloaded (a build downloads rather than go on to a later source).
        let chosen = report
            .attempts
            .iter()
            .position(|a| a.verdict.is_accepted() || matches!(a.verdict, Verdict::WouldDownload { .. }));
        Ok(Survey { report, chosen, error: findings.bad_variable })
    }

    /// The variables in effect are listed only here and in a survey: a probe that succeeds has no
    /// use for them.
    fn failure(&self, mut report: Report, download_failure: Option<DownloadError>) -> Error {
        report.variables = self.variables_in_effect();
        match download_failure {
            Some(error) => Error::Download { error, report: Box::new(report) },
            None => Error::NotFound(Box::new(report)),
        }
    }

    fn search(&self, mode: Mode) -> Result<(Request, Findings, Report), Error> {
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
        let include_override = match sources::env::include_override(self.vars) {
            Ok(dir) => dir,
            Err((var, verdict)) => return Err(self.bad_variable(var, verdict, report)),
        };
        let mut findings = Findings { include_override, ..Findings::default() };
        for source in &sources {
            match source {
                SourceKind::Env => self.search_env(&request, &mut findings, &report, mode)?,
                SourceKind::PkgConfig => match sources::pkg_config::candidate(self.vars, self.target.is_cross()) {
                    Ok(candidate) => self.judge(candidate, &request, &mut findings),
                    Err(verdict) => findings.record(
                        Attempt {
                            source: SourceKind::PkgConfig,
                            location: format!("pkg-config {}", sources::pkg_config::PACKAGE),
                            verdict,
                        },
                        None,
                    ),
                },
                SourceKind::System => self.search_system(&request, &mut findings, mode),
                SourceKind::Download => {
                    let result = match mode {
                        Mode::Probe => {
                            sources::download::candidate(self.config, self.target, &request, self.vars, self.progress)
                        }
                        Mode::Survey => sources::download::cached(self.config, self.target, &request, self.vars),
                    };
                    match result {
                        // A downloaded library refused by inspection (a mirror serving another
                        // platform's archive, say) is reported like any other candidate.
                        Ok(candidate) => self.judge(candidate, &request, &mut findings),
                        Err(outcome) => {
                            findings.record(outcome.attempt, None);
                            if let Some(error) = outcome.error {
                                findings.download_failure.get_or_insert(error);
                            }
                        }
                    }
                }
            }
            if mode == Mode::Probe && findings.chosen.is_some() {
                break;
            }
        }
        report.attempts = std::mem::take(&mut findings.attempts);
        Ok((request, findings, report))
    }

    /// The builder's settings with the variables laid over them.
    pub(crate) fn request(&self) -> Result<Request, Error> {
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
    /// `ONNXRUNTIME_OFFLINE` decides when set (either way), as every variable beats `build.rs`;
    /// `CARGO_NET_OFFLINE=true` or `Config::offline(true)` otherwise.
    fn offline(&self) -> Result<Option<String>, Error> {
        let shown = |var: &crate::env::Var| format!("{}={}", var.name, var.value.to_string_lossy());
        if let Some(var) = self.vars.get("ONNXRUNTIME_OFFLINE")
            && let Some(on) = self.vars.flag(Some(var.clone()))?
        {
            return Ok(on.then(|| shown(&var)));
        }
        if let Some(var) = self.vars.plain("CARGO_NET_OFFLINE")
            && self.vars.flag(Some(var.clone()))? == Some(true)
        {
            return Ok(Some(shown(&var)));
        }
        Ok(self.config.offline.filter(|o| *o).map(|_| "Config::offline(true)".to_string()))
    }

    /// The C++ runtime a static ORT needs, as the `cc` crate picks it for the target;
    /// `ONNXRUNTIME_CXX_STDLIB` overrides it (`none` for no library).
    fn cxx_stdlib(&self) -> Result<Option<String>, Error> {
        if let Some(var) = self.vars.get("ONNXRUNTIME_CXX_STDLIB") {
            let name = var.text()?.trim();
            return Ok((!name.eq_ignore_ascii_case("none")).then(|| name.to_string()));
        }
        Ok(match (self.target.os(), self.target.abi()) {
            (Os::Windows, _) => None,
            (Os::MacOs, _) => Some("c++".into()),
            (Os::Linux, "android") => Some("c++_shared".into()),
            (Os::Other(os), _) if os.contains("bsd") => Some("c++".into()),
            _ => Some("stdc++".into()),
        })
    }

    /// The `env` source. A refused location stops a probe with an error naming the variable; a
    /// survey records it and goes on.
    fn search_env(&self, request: &Request, findings: &mut Findings, report: &Report, mode: Mode) -> Result<(), Error> {
        let refused = match sources::env::candidate(self.vars) {
            Ok(None) => {
                let verdict = Verdict::Skipped { reason: "not set".into() };
                let location = "ONNXRUNTIME_DIR, ONNXRUNTIME_LIB_DIR".to_string();
                findings.record(Attempt { source: SourceKind::Env, location, verdict }, None);
                return Ok(());
            }
            Ok(Some(candidate)) => {
                match inspect::inspect(&findings.adjust(candidate.clone()), self.target, request, &self.memo) {
                    Ok(inspected) => {
                        findings.record(accepted(&candidate, &inspected), Some(inspected));
                        return Ok(());
                    }
                    Err(verdict) => {
                        let name = candidate.named_by.clone().unwrap_or_default();
                        let value = match &candidate.origin {
                            Origin::Variable { path, .. } => path.clone(),
                            _ => candidate.lib_dir.clone(),
                        };
                        findings.record(
                            Attempt {
                                source: SourceKind::Env,
                                location: candidate.location(),
                                verdict: verdict.clone(),
                            },
                            None,
                        );
                        (Var { name, value: value.into_os_string() }, verdict)
                    }
                }
            }
            Err((var, verdict)) => {
                let location = format!("{}: {}", var.name, var.path().display());
                findings.record(Attempt { source: SourceKind::Env, location, verdict: verdict.clone() }, None);
                (var, verdict)
            }
        };
        let mut report = report.clone();
        report.attempts = findings.attempts.clone();
        let error = self.bad_variable(refused.0, refused.1, report);
        match mode {
            Mode::Probe => Err(error),
            Mode::Survey => {
                findings.bad_variable.get_or_insert(error);
                Ok(())
            }
        }
    }

    /// The `system` source: each directory that has a library is a candidate; the ones without are
    /// summed up in one attempt.
    fn search_system(&self, request: &Request, findings: &mut Findings, mode: Mode) {
        let dirs = match &self.config.system_dirs {
            Some(dirs) => dirs.clone(),
            None => sources::system::default_dirs(self.target),
        };
        if dirs.is_empty() {
            let reason = format!("no well-known ONNX Runtime directories on {}", self.target.os());
            let attempt = Attempt {
                source: SourceKind::System,
                location: "(no directories)".into(),
                verdict: Verdict::Skipped { reason },
            };
            findings.record(attempt, None);
            return;
        }
        let mut empty: Vec<String> = Vec::new();
        let (candidates, missing) = sources::system::candidates(&dirs);
        for candidate in candidates {
            let candidate = findings.adjust(candidate);
            match inspect::inspect(&candidate, self.target, request, &self.memo) {
                Ok(inspected) => {
                    findings.record(accepted(&candidate, &inspected), Some(inspected));
                    if mode == Mode::Probe {
                        return;
                    }
                }
                Err(Verdict::NotFound { .. }) => empty.push(candidate.lib_dir.display().to_string()),
                Err(verdict) => findings
                    .record(Attempt { source: SourceKind::System, location: candidate.location(), verdict }, None),
            }
        }
        // Directories with a verdict of their own (refused, accepted) are not summed up here.
        let missing: Vec<String> = missing.iter().map(|d| d.display().to_string()).collect();
        let library = inspect::library_words(self.target);
        let detail = match (empty.is_empty(), missing.is_empty()) {
            (true, true) => return,
            (false, true) => format!("no {library} in {}", empty.join(", ")),
            (false, false) => format!("no {library} in {}; not present: {}", empty.join(", "), missing.join(", ")),
            (true, false) => format!("not present: {}", missing.join(", ")),
        };
        let location = dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ");
        findings.record(Attempt { source: SourceKind::System, location, verdict: Verdict::NotFound { detail } }, None);
    }

    /// Inspects a candidate of a non-env source; a refusal is recorded and the search goes on.
    fn judge(&self, candidate: Candidate, request: &Request, findings: &mut Findings) {
        let candidate = findings.adjust(candidate);
        match inspect::inspect(&candidate, self.target, request, &self.memo) {
            Ok(inspected) => findings.record(accepted(&candidate, &inspected), Some(inspected)),
            Err(verdict) => {
                findings.record(Attempt { source: candidate.source, location: candidate.location(), verdict }, None)
            }
        }
    }

    fn bad_variable(&self, var: Var, verdict: Verdict, mut report: Report) -> Error {
        report.variables = self.variables_in_effect();
        Error::BadVariable { value: var.path(), variable: var.name, verdict, report: Box::new(report) }
    }

    /// Every variable looked up so far that has a value, for the report.
    fn variables_in_effect(&self) -> Vec<(String, String)> {
        let lookup = Vars::new(self.vars.env(), self.target.triple());
        self.vars
            .seen()
            .iter()
            .filter_map(|name| {
                let value = lookup.plain(name)?;
                Some((name.clone(), crate::error::redact_passwords(&value.value.to_string_lossy())))
            })
            .collect()
    }

    /// Stages the chosen library and builds the directives.
    fn finish(&self, inspected: Inspected, request: &Request) -> Result<Library, Error> {
        let dynamic = request.link == LinkKind::Dynamic;
        let out_dir = self.config.env.cargo_path("OUT_DIR");
        let staged = match &out_dir {
            Some(out_dir) => Some(stage::stage(&inspected, out_dir, &self.memo)?),
            None => None,
        };
        // Windows has no rpath: its loader looks beside the executable, so the DLLs always go there.
        let copy = dynamic && out_dir.is_some() && (self.config.copy_to_target_dir || *self.target.os() == Os::Windows);
        let copied = match (&out_dir, copy) {
            (Some(out_dir), true) => stage::copy_next_to_executables(&inspected, out_dir, &self.config.env)?,
            _ => Vec::new(),
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
        // Cache entries are immutable and content-addressed; anything else may be replaced in place.
        // A cache entry never changes, but it can be deleted (the staged links lead into it): its marker
        // going away reruns the build script. Anything else may be replaced in place: watch the library.
        let marker = match &inspected.candidate.origin {
            Origin::Download { cache_entry, .. } => Some(cache_entry.join("marker")),
            _ => None,
        };
        let watch: Vec<&Path> = vec![marker.as_deref().unwrap_or(inspected.library.as_path())];
        let links = self.config.env.cargo_var("CARGO_MANIFEST_LINKS");
        let root = inspected.candidate.root.clone();
        let rpath = match (self.config.rpath && dynamic, copy, self.target.os()) {
            (false, _, _) => None,
            (true, true, Os::MacOs) => Some("@loader_path".to_string()),
            (true, true, _) => Some("$ORIGIN".to_string()),
            (true, false, _) => lib_dir.to_str().map(str::to_string),
        };
        let cxx_stdlib = if dynamic { None } else { self.cxx_stdlib()? };
        let system_libs: &[&str] = if *self.target.os() == Os::Linux { &["pthread", "dl", "m"] } else { &[] };
        let linkage = match request.link {
            LinkKind::Dynamic => Linkage::Dynamic,
            LinkKind::Static => {
                Linkage::Static { libs: &inspected.static_libs, cxx_stdlib: cxx_stdlib.as_deref(), system_libs }
            }
        };
        let plan = LinkPlan {
            target: self.target,
            linkage,
            lib_dir: &lib_dir,
            rpath,
            watch,
            load_path: dynamic.then_some(load_path.as_path()),
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
            // A static build leaves nothing to load at run time.
            runtime_files: if dynamic { runtime_files.into_iter().chain(copied).collect() } else { Vec::new() },
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

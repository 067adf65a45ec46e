//! The native side of `ort-sys`: which ONNX Runtime C API the locked release needs, where its build
//! script will get the library from (`ORT_LIB_LOCATION` from the shell or `[env]`, its own download,
//! or nowhere), and whether an ONNX Runtime that serves that API is configured or findable for the
//! target — judged by the library's own survey, as a build of this crate would judge it.

use std::path::{Path, PathBuf};

use onnxruntime_provision::{Survey, Verdict};

use super::{Finding, Project};
use crate::host_env;
use crate::lockfile::{Lock, Package};
use crate::ort_sys::{self, Location, Rules};
use crate::project::{self, TomlFile};
use crate::settings::{self, Overrides};

/// The variable as ort-sys will see it: from the shell, else from a cargo config's `[env]`.
struct Configured {
    value: String,
    from: String,
}

pub fn check(project: &Project, lock: &Lock) -> Vec<Finding> {
    let configs: Vec<TomlFile> = project::cargo_configs(&project.dir).into_iter().flatten().collect();
    let mut findings = Vec::new();
    for sys in lock.named("ort-sys") {
        findings.extend(check_one(project, lock, sys, &configs));
    }
    findings
}

fn check_one(project: &Project, lock: &Lock, sys: &Package, configs: &[TomlFile]) -> Vec<Finding> {
    let (rules, _) = ort_sys::rules_for(&sys.version);
    let api = api_level(project, rules);
    let requirement = format!(">=1.{api}");
    let needs = format!("ort-sys {} needs ONNX Runtime 1.{api} or newer (C API {api})", sys.version);
    let names: &[&str] =
        if rules.read == "2.0.0-rc.15" { &["ORT_LIB_PATH", "ORT_LIB_LOCATION"] } else { &["ORT_LIB_LOCATION"] };
    let location = names.iter().find_map(|name| configured(name, configs).map(|c| (*name, c)));
    let handoff = format!("cargo onnxruntime env --for ort-sys --write{}", target_flag(project));

    if let Some((name, configured)) = location {
        return vec![check_location(project, sys, rules, &requirement, &needs, name, &configured, configs, &handoff)];
    }

    let ort = lock.dependents(sys).into_iter().find(|p| p.name == "ort");
    let load_dynamic = ort.is_some_and(|o| o.dependencies.iter().any(|(n, _)| n == "libloading"));
    let downloads = sys.dependencies.iter().any(|(n, _)| n == "ureq");
    let available = availability(project, &requirement);
    let mut fix = vec![handoff.clone()];
    if let Some(note) = &available.1 {
        fix.push(format!("({note})"));
    }

    if load_dynamic {
        return vec![Finding::warning(
            format!("{needs}; ort loads it at run time (its load-dynamic feature)"),
            format!(
                "nothing is linked at build time; the program finds the library through ORT_DYLIB_PATH or the loader path when it starts\n{}",
                available.0
            ),
            vec![format!(
                "eval \"$(cargo onnxruntime env --for shell --version '{requirement}'{})\"   (sets ORT_DYLIB_PATH)",
                target_flag(project)
            )],
        )];
    }
    if downloads && rules.read == "2.0.0-rc.15" && !ureq_has_tls(lock, sys) {
        return vec![Finding::problem(
            format!("ort-sys {}'s build script will stop: \"a TLS feature must be configured\"", sys.version),
            format!(
                "its download-binaries feature is on (ureq is locked for it) but no TLS feature is (ureq is locked without rustls or native-tls): ort-sys {} refuses to compile its build script then, whatever ORT_LIB_LOCATION says\n{needs}; {}",
                sys.version, available.0
            ),
            vec![
                "pin ort/ort-sys to the release your dependents were written for (see the ort finding above), or"
                    .into(),
                "enable a TLS feature on ort: ort = { version = \"…\", features = [\"tls-rustls\"] }, then".into(),
                handoff,
            ],
        )];
    }
    if downloads {
        return vec![Finding::warning(
            format!("{needs}; with ORT_LIB_LOCATION unset it downloads its own build at build time"),
            format!(
                "download-binaries is on (ureq is locked for it): the build fetches a third-party build from ort's CDN, which fails offline, behind some proxies, or where that CDN is blocked\n{}",
                available.0
            ),
            fix,
        )];
    }
    vec![Finding::problem(
        format!("{needs}, and its build has none to link"),
        format!(
            "ORT_LIB_LOCATION is not set (neither in this shell nor in .cargo/config.toml [env]) and its download-binaries feature is off, so linking fails\n{}",
            available.0
        ),
        fix,
    )]
}

/// The C API level: the release's, raised by `api-N` features the project turns on (rc.15 and later).
fn api_level(project: &Project, rules: &Rules) -> u64 {
    if !rules.api_features {
        return rules.api;
    }
    project
        .packages
        .iter()
        .flat_map(|p| &p.dependencies)
        .filter(|d| d.name == "ort" || d.name == "ort-sys")
        .flat_map(|d| &d.features)
        .filter_map(|f| f.strip_prefix("api-").and_then(|n| n.parse::<u64>().ok()))
        .fold(rules.api, u64::max)
}

fn target_flag(project: &Project) -> String {
    if project.target == project.host { String::new() } else { format!(" --target {}", project.target) }
}

/// `name` from the shell, else the nearest cargo config's `[env]` (`"v"` or `{ value = "v", relative = true }`).
fn configured(name: &str, configs: &[TomlFile]) -> Option<Configured> {
    if let Some(value) = host_env::var(name) {
        return Some(Configured { value, from: "this shell".into() });
    }
    configs.iter().find_map(|file| {
        let item = project::lookup(&file.doc, &["env", name])?;
        let (value, relative) = match item.as_str() {
            Some(v) => (v.to_string(), false),
            None => {
                (item.get("value")?.as_str()?.to_string(), item.get("relative").and_then(|r| r.as_bool()) == Some(true))
            }
        };
        // `relative = true`: relative to the directory holding `.cargo/`.
        let value = match file.path.parent().and_then(Path::parent) {
            Some(base) if relative => base.join(value).display().to_string(),
            _ => value,
        };
        Some(Configured { value, from: format!("[env] of {}", file.path.display()) })
    })
}

#[allow(clippy::too_many_arguments)]
fn check_location(
    project: &Project,
    sys: &Package,
    rules: &Rules,
    requirement: &str,
    needs: &str,
    name: &str,
    location: &Configured,
    configs: &[TomlFile],
    handoff: &str,
) -> Finding {
    let given = PathBuf::from(&location.value);
    let lib_dir = match rules.location {
        Location::Root if given.join("lib").is_dir() => given.join("lib"),
        _ => given.clone(),
    };
    let mut overrides = Overrides::default();
    overrides
        .set(settings::SOURCES, "env")
        .set("ONNXRUNTIME_DIR", "")
        .set("ONNXRUNTIME_LIB_DIR", lib_dir.clone())
        .set(settings::VERSION, requirement);
    let verdict = overrides
        .config(&project.target)
        .survey()
        .ok()
        .and_then(|s| s.report.attempts.into_iter().next())
        .map(|a| a.verdict);
    let set_by = format!("{name}={} ({})", location.value, location.from);
    match verdict {
        Some(Verdict::Accepted { version, .. }) => {
            let prefer = configured("ORT_PREFER_DYNAMIC_LINK", configs).map(|c| c.value);
            let static_lib = lib_dir.join("libonnxruntime.a").is_file() || lib_dir.join("onnxruntime.lib").is_file();
            if rules.read == "2.0.0-rc.15" && !static_lib && !matches!(prefer.as_deref(), Some("1") | Some("true")) {
                return Finding::problem(
                    format!("ort-sys {} will try a static link from {} and fail", sys.version, lib_dir.display()),
                    format!(
                        "{set_by} holds the shared ONNX Runtime {version}, but without ORT_PREFER_DYNAMIC_LINK=1 this ort-sys release looks for a static build there"
                    ),
                    vec![handoff.to_string()],
                );
            }
            Finding::ok(
                format!("ort-sys {} will link ONNX Runtime {version} from {}", sys.version, lib_dir.display()),
                format!("{needs}; {set_by}"),
            )
        }
        Some(verdict) => Finding::problem(
            format!("{set_by} does not hold what ort-sys {} needs", sys.version),
            format!("{needs}; {}: {verdict}", lib_dir.display()),
            vec![handoff.to_string()],
        ),
        None => Finding::warning(
            format!("{set_by} could not be checked for target {}", project.target),
            needs.to_string(),
            vec![handoff.to_string()],
        ),
    }
}

/// What a build of this crate would find for the requirement: a sentence for `why`, and a note for the fix.
fn availability(project: &Project, requirement: &str) -> (String, Option<String>) {
    let mut overrides = Overrides::default();
    overrides.set(settings::VERSION, requirement);
    match overrides.config(&project.target).survey() {
        Ok(survey) => describe(&survey, requirement),
        Err(error) => {
            (format!("no ONNX Runtime `{requirement}` could be looked for: {}", first_line(&error.to_string())), None)
        }
    }
}

fn describe(survey: &Survey, requirement: &str) -> (String, Option<String>) {
    let chosen = survey.chosen.and_then(|i| survey.report.attempts.get(i));
    match chosen.map(|a| (&a.verdict, a)) {
        Some((Verdict::Accepted { version, .. }, attempt)) => (
            format!("an ONNX Runtime that serves it is here: {version} at {} ({})", attempt.location, attempt.source),
            Some(format!("hands off ONNX Runtime {version} from {}", attempt.location)),
        ),
        Some((Verdict::WouldDownload { url, .. }, _)) => (
            format!("none is installed or cached for `{requirement}`; the checked download would fetch {url}"),
            Some("downloads and checks it first; offline, run `cargo onnxruntime fetch` where there is network".into()),
        ),
        _ => (
            format!(
                "no ONNX Runtime `{requirement}` is installed, cached or downloadable for {} (see `cargo onnxruntime which --version '{requirement}'`)",
                survey.report.target
            ),
            None,
        ),
    }
}

/// ureq (as locked for ort-sys) with a TLS backend among its dependencies.
fn ureq_has_tls(lock: &Lock, sys: &Package) -> bool {
    let Some(ureq) = lock.dependency(sys, "ureq") else { return false };
    ureq.dependencies.iter().any(|(n, _)| n == "rustls" || n == "native-tls")
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

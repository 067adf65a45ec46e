//! Locked crate versions that do not belong together: `ort` with another `ort-sys`, `ort` drifted past
//! what a dependent was written for, and `wasmtime-*` crates on different release lines.

use std::collections::BTreeMap;

use super::{Finding, Project};
use crate::lockfile::{Lock, Package};
use crate::project;
use crate::semver::{CrateVersion, Requirement};

/// The `ort` requirement of published crates, as the crates.io index lists it (read with cargo when
/// this table was written; used when the dependent's sources are not on this machine).
/// `(crate, first major, last major, requirement)`.
const KNOWN_ORT_REQUIREMENTS: [(&str, u64, u64, &str); 3] = [
    ("wasmtime-wasi-nn", 20, 22, "^2.0.0-rc.0"),
    ("wasmtime-wasi-nn", 23, 41, "^2.0.0-rc.2"),
    ("wasmtime-wasi-nn", 42, 50, "^2.0.0-rc.10"),
];

/// `ort` 2.0.0-rc.10 reworked the API (wasmtime-wasi-nn moved its requirement from rc.2 to rc.10 in
/// release 42 to follow it), so code written for an earlier pre-release does not compile against it.
const API_BREAK_RC: u64 = 10;

pub fn check(project: &Project, lock: &Lock) -> Vec<Finding> {
    let mut findings = Vec::new();
    let several_ort = lock.named("ort").count() > 1;
    let several_sys = lock.named("ort-sys").count() > 1;
    for ort in lock.named("ort") {
        let spec = |name: &str, several: bool, version: &CrateVersion| {
            if several { format!("{name}@{version}") } else { name.to_string() }
        };
        let sys = lock.dependency(ort, "ort-sys");
        if let Some(sys) = sys
            && sys.version != ort.version
        {
            let why = if ort.version.rc().is_some_and(|n| n < API_BREAK_RC) {
                format!(
                    "each ort release is written against the ort-sys of the same version; ort {} asks for ort-sys with a caret requirement, which accepts every later pre-release",
                    ort.version
                )
            } else {
                "from 2.0.0-rc.10 on, ort and ort-sys pin each other with `=`: this lock was edited by hand or by a tool".into()
            };
            findings.push(Finding::problem(
                format!("ort {} is built with ort-sys {}", ort.version, sys.version),
                why,
                vec![format!(
                    "cargo update -p {} --precise {}",
                    spec("ort-sys", several_sys, &sys.version),
                    ort.version
                )],
            ));
        }
        findings.extend(drift(project, lock, ort, sys, (several_ort, several_sys)));
    }
    findings.extend(wasmtime_lines(project, lock));
    findings
}

/// A dependent written for an older `ort` pre-release than the one locked.
fn drift(
    project: &Project,
    lock: &Lock,
    ort: &Package,
    sys: Option<&Package>,
    (several_ort, several_sys): (bool, bool),
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Some(locked_rc) = ort.version.rc() else { return findings };
    for dependent in lock.dependents(ort) {
        let Some((requirement, known_from)) = ort_requirement(project, dependent) else { continue };
        let wanted = &requirement.version;
        let Some(wanted_rc) = wanted.rc() else { continue };
        if requirement.is_exact() || wanted_rc >= locked_rc || wanted.major != ort.version.major {
            continue;
        }
        let ort_spec = if several_ort { format!("ort@{}", ort.version) } else { "ort".into() };
        let mut fix = vec![format!("cargo update -p {ort_spec} --precise {wanted}")];
        if let Some(sys) = sys.filter(|s| s.version != *wanted) {
            let sys_spec = if several_sys { format!("ort-sys@{}", sys.version) } else { "ort-sys".into() };
            fix.push(format!("cargo update -p {sys_spec} --precise {wanted}"));
        }
        let (rules, _) = crate::ort_sys::rules_for(wanted);
        fix.push(format!(
            "cargo onnxruntime env --for ort-sys --write   (then: ort-sys {wanted} links a checked ONNX Runtime 1.{}+ instead of downloading its own)",
            rules.api
        ));
        let what = format!(
            "ort {} is not the release {} was written for (it asks for ort `{}`)",
            ort.version,
            dependent.id(),
            requirement.text
        );
        let mut why = format!(
            "a caret requirement on a pre-release accepts every later pre-release, so a fresh resolve picked ort {}; the requirement is {known_from}",
            ort.version
        );
        if wanted_rc < API_BREAK_RC && locked_rc >= API_BREAK_RC {
            why.push_str(&format!(
                "\nort's API changed in 2.0.0-rc.{API_BREAK_RC}, so {} does not compile against ort {}",
                dependent.name, ort.version
            ));
            if sys.is_some_and(|s| s.version.rc().is_some_and(|n| n >= 15)) {
                why.push_str(&format!(
                    " — and ort-sys {} stops earlier, in its build script (\"a TLS feature must be configured\")",
                    sys.map(|s| s.version.to_string()).unwrap_or_default()
                ));
            }
            why.push_str(&format!("\npin both crates back to {wanted} (the second command is needed: ort {wanted} accepts a later ort-sys too)"));
            findings.push(Finding::problem(what, why, fix));
        } else {
            why.push_str("\nif ort fails to compile, pin it back to the release the dependent was written for");
            findings.push(Finding::warning(what, why, fix));
        }
    }
    findings
}

/// What `dependent` requires of `ort`, and where that was learned.
fn ort_requirement(project: &Project, dependent: &Package) -> Option<(Requirement, String)> {
    let own = project
        .packages
        .iter()
        .find(|p| p.name.as_deref() == Some(dependent.name.as_str()) && !dependent.is_from_registry());
    if let Some(own) = own {
        let dep = own.dependencies.iter().find(|d| d.name == "ort")?;
        return Some((Requirement::parse(&dep.requirement)?, format!("from {}", own.manifest.display())));
    }
    if dependent.is_from_registry()
        && let Some(dir) = project::registry_source(&dependent.name, &dependent.version.to_string())
        && let Ok(file) = project::read_toml(&dir.join("Cargo.toml"))
        && let Some(dep) = project::dependencies(&file.doc).into_iter().find(|d| d.name == "ort")
    {
        return Some((Requirement::parse(&dep.requirement)?, format!("from {}", file.path.display())));
    }
    let (_, _, _, text) = KNOWN_ORT_REQUIREMENTS.iter().find(|(name, first, last, _)| {
        *name == dependent.name && (*first..=*last).contains(&dependent.version.major)
    })?;
    Some((Requirement::parse(text)?, format!("`{text}` as the crates.io index lists it for {}", dependent.id())))
}

/// wasmtime's crates are released together under one version; mixing release lines means two
/// copies of wasmtime's types that cannot be passed between them.
fn wasmtime_lines(project: &Project, lock: &Lock) -> Vec<Finding> {
    let family: Vec<&Package> = lock
        .packages
        .iter()
        .filter(|p| p.is_from_registry() && (p.name == "wasmtime" || p.name.starts_with("wasmtime-")))
        .collect();
    if family.is_empty() {
        return Vec::new();
    }
    let mut lines: BTreeMap<String, Vec<&Package>> = BTreeMap::new();
    for package in &family {
        lines.entry(package.version.line()).or_default().push(package);
    }
    let named = ["wasmtime", "wasmtime-wasi", "wasmtime-wasi-nn"];
    if lines.len() == 1 {
        let (line, members) = lines.iter().next().map(|(l, m)| (l.clone(), m.len())).unwrap_or_default();
        let present: Vec<&str> = named.iter().copied().filter(|n| family.iter().any(|p| p.name == *n)).collect();
        return vec![Finding::ok(
            format!(
                "{} and {} other wasmtime-* crates are all on release line {line}",
                present.join(", "),
                members.saturating_sub(present.len())
            ),
            "",
        )];
    }
    // The line to converge on: wasmtime's own (its newest, if several).
    let target_line = lock
        .named("wasmtime")
        .map(|p| p.version.clone())
        .max()
        .map(|v| v.line())
        .unwrap_or_else(|| lines.keys().last().cloned().unwrap_or_default());
    let summary: Vec<String> = lines
        .iter()
        .map(|(line, members)| {
            let mut names: Vec<String> =
                members.iter().filter(|p| named.contains(&p.name.as_str())).map(|p| p.id()).collect();
            let others = members.len() - names.len();
            if others > 0 {
                names.push(format!("{others} other wasmtime-* crate{}", if others == 1 { "" } else { "s" }));
            }
            format!("line {line}: {}", names.join(", "))
        })
        .collect();
    let mut fix = Vec::new();
    for package in &project.packages {
        for dep in package.dependencies.iter().filter(|d| d.name == "wasmtime" || d.name.starts_with("wasmtime-")) {
            let line = Requirement::parse(&dep.requirement).map(|r| r.version.line());
            if line.as_deref() != Some(target_line.as_str()) {
                fix.push(format!(
                    "in {}: {} = \"{target_line}\"  (was \"{}\")",
                    package.manifest.display(),
                    dep.name,
                    dep.requirement
                ));
            }
        }
    }
    fix.push(format!(
        "cargo update -p wasmtime   (after the edits; every wasmtime-* crate then resolves to line {target_line})"
    ));
    vec![Finding::problem(
        format!("wasmtime crates on {} release lines", lines.len()),
        format!(
            "wasmtime, wasmtime-wasi, wasmtime-wasi-nn and the other wasmtime-* crates are released together; each expects the wasmtime of its own release line, and two lines put two incompatible copies of wasmtime into one build\n{}",
            summary.join("\n")
        ),
        fix,
    )]
}

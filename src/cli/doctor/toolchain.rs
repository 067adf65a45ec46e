//! The toolchain: `rustc -V` (run in the project, so a `rust-toolchain` file applies) against the
//! packages' `edition` and `rust-version` and the locked crates' `rust-version` (read from their
//! sources in `$CARGO_HOME/registry/src` when cargo has downloaded them — never from the network);
//! for a cross target, the target's standard library and a linker that is configured and installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Finding, Project};
use crate::host_env;
use crate::project::{self, TomlFile};
use crate::semver::{CrateVersion, Requirement};

/// The first rustc of each edition.
const EDITIONS: [(&str, &str); 4] = [("2015", "1.0.0"), ("2018", "1.31.0"), ("2021", "1.56.0"), ("2024", "1.85.0")];
/// How many too-new crates are named before the rest are counted.
const SHOWN: usize = 8;

pub fn check(project: &Project) -> Vec<Finding> {
    let mut findings = Vec::new();
    let rustc = rustc_program();
    let rustc_version = match run(&rustc, &["-V"], &project.dir) {
        Ok(text) => text,
        Err(message) => {
            findings.push(Finding::problem(
                format!("{} cannot be run", rustc.display()),
                message,
                vec!["install Rust with rustup (https://rustup.rs), or set RUSTC to the compiler".into()],
            ));
            return findings;
        }
    };
    let Some(version) = rustc_version.split_whitespace().nth(1).and_then(CrateVersion::parse) else {
        findings.push(Finding::warning(
            format!("cannot read the rustc version from `{}`", rustc_version.trim()),
            "",
            Vec::new(),
        ));
        return findings;
    };
    let have = (version.major, version.minor, version.patch);
    let short = rustc_version.trim().to_string();
    findings.extend(project_requirements(project, have, &short));
    if let Some(lock) = &project.lock {
        findings.extend(locked_requirements(lock, have, &short));
    }
    if project.target != project.host {
        findings.extend(target_std(&rustc, project));
        findings.extend(linker(project));
    }
    findings
}

fn rustc_program() -> PathBuf {
    host_env::var_os("RUSTC").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("rustc"))
}

fn run(program: &Path, args: &[&str], dir: &Path) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("running `{} {}` failed: {e}", program.display(), args.join(" ")))?;
    if !output.status.success() {
        return Err(format!(
            "`{} {}` failed: {}",
            program.display(),
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn numbers(text: &str) -> Option<(u64, u64, u64)> {
    let v = Requirement::parse(text)?.version;
    Some((v.major, v.minor, v.patch))
}

fn dotted((a, b, c): (u64, u64, u64)) -> String {
    format!("{a}.{b}.{c}")
}

fn project_requirements(project: &Project, have: (u64, u64, u64), rustc: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut fine = Vec::new();
    for package in &project.packages {
        let name = package.name.clone().unwrap_or_else(|| package.manifest.display().to_string());
        let edition = package.edition.as_deref().unwrap_or("2015");
        match EDITIONS.iter().find(|(e, _)| *e == edition) {
            None => findings.push(Finding::problem(
                format!("{name}: edition \"{edition}\" is not one this doctor knows"),
                format!("{} sets it; rustc knows 2015, 2018, 2021 and 2024", package.manifest.display()),
                vec![format!("set edition = \"2021\" or \"2024\" in {}", package.manifest.display())],
            )),
            Some((_, first)) => {
                let first = numbers(first).unwrap_or_default();
                if have < first {
                    findings.push(Finding::problem(
                        format!("{name}: edition {edition} needs rustc {} or newer; this is {rustc}", dotted(first)),
                        format!("{} sets edition = \"{edition}\"", package.manifest.display()),
                        vec!["rustup update stable".into()],
                    ));
                } else {
                    fine.push(format!("{name} (edition {edition})"));
                }
            }
        }
        if let Some(rv) = &package.rust_version {
            match numbers(rv) {
                Some(need) if have < need => findings.push(Finding::problem(
                    format!("{name}: rust-version {rv} is newer than {rustc}"),
                    format!(
                        "{} sets rust-version = \"{rv}\"; cargo refuses to build it with an older rustc",
                        package.manifest.display()
                    ),
                    vec![format!("rustup update stable   (or: rustup toolchain install {rv})")],
                )),
                Some(_) => {}
                None => findings.push(Finding::warning(
                    format!("{name}: rust-version \"{rv}\" cannot be read"),
                    "",
                    Vec::new(),
                )),
            }
        }
    }
    if findings.is_empty() && !fine.is_empty() {
        findings.push(Finding::ok(format!("{rustc} builds {}", fine.join(", ")), ""));
    }
    findings
}

fn locked_requirements(lock: &crate::lockfile::Lock, have: (u64, u64, u64), rustc: &str) -> Vec<Finding> {
    let mut too_new = Vec::new();
    let mut known = 0;
    let mut unknown = 0;
    for package in lock.packages.iter().filter(|p| p.is_from_registry()) {
        let version = package.version.to_string();
        let rust_version = project::registry_source(&package.name, &version)
            .and_then(|dir| project::read_toml(&dir.join("Cargo.toml")).ok())
            .and_then(|file: TomlFile| {
                project::lookup(&file.doc, &["package", "rust-version"]).and_then(|i| i.as_str()).map(String::from)
            });
        match rust_version.as_deref().and_then(|rv| numbers(rv).map(|n| (rv.to_string(), n))) {
            Some((rv, need)) => {
                known += 1;
                if have < need {
                    too_new.push((package.id(), rv));
                }
            }
            None => unknown += 1,
        }
    }
    let mut findings = Vec::new();
    if !too_new.is_empty() {
        let mut list: Vec<String> =
            too_new.iter().take(SHOWN).map(|(id, rv)| format!("{id} needs rustc {rv}")).collect();
        if too_new.len() > SHOWN {
            list.push(format!("and {} more", too_new.len() - SHOWN));
        }
        let newest = too_new
            .iter()
            .filter_map(|(_, rv)| numbers(rv).map(|n| (n, rv.clone())))
            .max()
            .map(|(_, rv)| rv)
            .unwrap_or_default();
        findings.push(Finding::problem(
            format!(
                "{} locked crate{} a newer rustc than {rustc}",
                too_new.len(),
                if too_new.len() == 1 { " needs" } else { "s need" }
            ),
            format!("their Cargo.toml sets rust-version:\n{}", list.join("\n")),
            vec![
                format!("rustup update stable   (rustc {newest} or newer)"),
                "or keep this rustc and let cargo pick releases it can build: set package.rust-version, then".into(),
                "CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo update".into(),
            ],
        ));
    } else if known > 0 {
        findings.push(Finding::ok(
            format!(
                "{rustc} meets the rust-version of the {known} locked crate{} whose sources are here",
                if known == 1 { "" } else { "s" }
            ),
            "",
        ));
    }
    if unknown > 0 {
        findings.push(Finding::ok(
            format!("rust-version unknown for {unknown} locked crate{}", if unknown == 1 { "" } else { "s" }),
            "their sources are not in $CARGO_HOME/registry/src (the doctor never uses the network); `cargo fetch` downloads them",
        ));
    }
    findings
}

fn target_std(rustc: &Path, project: &Project) -> Vec<Finding> {
    let Ok(sysroot) = run(rustc, &["--print", "sysroot"], &project.dir) else { return Vec::new() };
    let dir = PathBuf::from(sysroot.trim()).join("lib").join("rustlib").join(&project.target).join("lib");
    if dir.is_dir() {
        return vec![Finding::ok(format!("the standard library for {} is installed", project.target), "")];
    }
    vec![Finding::problem(
        format!("the standard library for {} is not installed", project.target),
        format!("{} does not exist", dir.display()),
        vec![format!("rustup target add {}", project.target)],
    )]
}

/// The GNU cross-compiler prefix Debian and Ubuntu use for a Linux target.
fn gnu_prefix(target: &str) -> Option<&'static str> {
    Some(match target {
        "aarch64-unknown-linux-gnu" => "aarch64-linux-gnu",
        "x86_64-unknown-linux-gnu" => "x86_64-linux-gnu",
        "i686-unknown-linux-gnu" => "i686-linux-gnu",
        "armv7-unknown-linux-gnueabihf" => "arm-linux-gnueabihf",
        "arm-unknown-linux-gnueabihf" => "arm-linux-gnueabihf",
        "riscv64gc-unknown-linux-gnu" => "riscv64-linux-gnu",
        "powerpc64le-unknown-linux-gnu" => "powerpc64le-linux-gnu",
        "s390x-unknown-linux-gnu" => "s390x-linux-gnu",
        _ => return None,
    })
}

fn linker(project: &Project) -> Vec<Finding> {
    let target = &project.target;
    let variable = format!("CARGO_TARGET_{}_LINKER", target.to_ascii_uppercase().replace(['-', '.'], "_"));
    let configs = project::cargo_configs(&project.dir);
    let configured = host_env::var(&variable).map(|l| (l, variable.clone())).or_else(|| {
        project::config_string(&configs, &["target", target, "linker"])
            .map(|(l, f)| (l, format!("target.{target}.linker in {}", f.display())))
    });
    let install = gnu_prefix(target).map(|p| format!("sudo apt-get install gcc-{}", p.replace("_", "-")));
    match configured {
        Some((linker, from)) => match find_program(&linker) {
            Some(path) => {
                vec![Finding::ok(format!("linker for {target}: {linker} ({from}) at {}", path.display()), "")]
            }
            None => vec![Finding::problem(
                format!("the linker for {target} is not installed: {linker}"),
                format!("{from} names it, but it is neither a file nor on PATH"),
                install.into_iter().collect(),
            )],
        },
        None => {
            let mut fix = Vec::new();
            let suggested = gnu_prefix(target).map(|p| format!("{p}-gcc"));
            if let Some(gcc) = &suggested {
                if find_program(gcc).is_none()
                    && let Some(install) = install
                {
                    fix.push(install);
                }
                fix.push(format!(
                    "add to {}:\n[target.{target}]\nlinker = \"{gcc}\"",
                    project.dir.join(".cargo").join("config.toml").display()
                ));
                fix.push(format!("or: export {variable}={gcc}"));
            } else {
                fix.push(format!(
                    "install a linker for {target} and name it in [target.{target}] linker = \"…\" (.cargo/config.toml)"
                ));
            }
            vec![Finding::problem(
                format!("no linker is configured for {target}"),
                format!(
                    "cargo then links with the host's `cc`, which produces {} binaries; neither {variable} nor target.{target}.linker is set",
                    project.host
                ),
                fix,
            )]
        }
    }
}

/// A program by path, or by name on PATH.
fn find_program(program: &str) -> Option<PathBuf> {
    let path = Path::new(program);
    if path.components().count() > 1 {
        return path.is_file().then(|| path.to_path_buf());
    }
    let dirs = host_env::var_os("PATH")?;
    std::env::split_paths(&dirs).map(|d| d.join(program)).find(|p| p.is_file())
}

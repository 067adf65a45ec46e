//! `cargo onnxruntime which`: the library's own survey (`Config::survey`), printed — every candidate of
//! every source, the verdict on each, and what a build would pick. Nothing is downloaded or staged.

use std::ffi::OsString;
use std::process::ExitCode;

use onnxruntime_provision::{Attempt, Error, SourceKind, Survey, Verdict};

use crate::Failure;
use crate::args::Opt;
use crate::project;
use crate::settings::Overrides;

pub const USAGE: &str = "\
Usage: cargo onnxruntime which [--target T] [--version REQ] [--variant V]

Shows every ONNX Runtime candidate of every source (ONNXRUNTIME_SOURCES order), the verdict on each
(accepted, wrong architecture, wrong version, not found, ...), and what a build for the target would
pick. Reads the same variables a build does; downloads nothing.
Exit status 0 when a build would find (or download) one, 1 when it would fail.

Options:
  --target T      target triple (default: build.target from .cargo/config.toml, else this machine)
  --version REQ   release requirement, as in build.rs (default: ONNXRUNTIME_VERSION, else any)
  --variant V     cpu, cuda11, cuda12, cuda13";

const OPTIONS: [Opt; 3] = [Opt::value("--target"), Opt::value("--version"), Opt::value("--variant")];

pub fn run(words: &[OsString]) -> Result<ExitCode, Failure> {
    let usage = Failure::usage(USAGE);
    let Some(args) = crate::command_args(words, &OPTIONS, USAGE)? else { return Ok(ExitCode::SUCCESS) };
    let target = match args.text("--target").map_err(&usage)? {
        Some(t) => t.to_string(),
        None => project::default_target(&std::env::current_dir().unwrap_or_default()),
    };
    let overrides = Overrides::from_args(&args).map_err(&usage)?;
    let survey = overrides.config(&target).survey()?;
    let mut fetch = format!("cargo onnxruntime fetch --target {target}");
    if let Some(version) = args.text("--version").map_err(&usage)? {
        fetch.push_str(&format!(" --version '{version}'"));
    }
    if let Some(variant) = args.text("--variant").map_err(&usage)? {
        fetch.push_str(&format!(" --variant {variant}"));
    }
    print!("{}", render(&survey, &fetch));
    let found = survey.error.is_none() && survey.chosen.is_some();
    Ok(if found { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The survey as text: header, one block per attempt, the pick.
pub fn render(survey: &Survey, fetch_command: &str) -> String {
    let report = &survey.report;
    // A build that stops on a bad variable picks nothing.
    let chosen = if survey.error.is_some() { None } else { survey.chosen };
    let mut out = format!("{} for {}", report.request, report.target);
    if !report.host.is_empty() && report.host != report.target {
        out.push_str(&format!(" (cross-compiling on {})", report.host));
    }
    let order: Vec<&str> = report.sources.iter().map(|s| s.as_str()).collect();
    out.push_str(&format!("\nsources, in order: {}\n\n", order.join(", ")));
    for (index, attempt) in report.attempts.iter().enumerate() {
        let mark = mark(attempt, chosen == Some(index), stops_the_build(survey, attempt));
        out.push_str(&format!(
            "{mark:<9} {:<10}  {}\n{:22}{}\n",
            attempt.source.as_str(),
            attempt.location,
            "",
            attempt.verdict
        ));
    }
    if !report.variables.is_empty() {
        out.push_str("\nvariables in effect:\n");
        for (name, value) in &report.variables {
            out.push_str(&format!("  {name}={value}\n"));
        }
    }
    out.push('\n');
    match (&survey.error, chosen.and_then(|i| report.attempts.get(i))) {
        (Some(error), _) => {
            out.push_str("a build would stop with this error:\n");
            out.push_str(&error.to_string());
        }
        (None, Some(attempt)) => match &attempt.verdict {
            Verdict::Accepted { version, .. } => out.push_str(&format!(
                "a build would use ONNX Runtime {version} from {} ({})\n",
                attempt.location,
                attempt.source.as_str()
            )),
            Verdict::WouldDownload { url, .. } => {
                out.push_str(&format!("a build would download {url}\n(`{fetch_command}` does it now)\n"))
            }
            other => out.push_str(&format!("a build would use {} ({other})\n", attempt.location)),
        },
        (None, None) => out.push_str("a build would fail: no candidate is acceptable (see the verdicts above)\n"),
    }
    out
}

/// Whether a build would stop at this attempt: the survey's error is a variable naming a bad location
/// (`Error::BadVariable`), and the env source, the only one that reads those variables, recorded this
/// attempt on it. The attempt's text is not looked at: any source's location may read like a variable.
fn stops_the_build(survey: &Survey, attempt: &Attempt) -> bool {
    attempt.source == SourceKind::Env
        && matches!(survey.error, Some(Error::BadVariable { .. }))
        && !matches!(attempt.verdict, Verdict::Accepted { .. } | Verdict::Skipped { .. })
}

fn mark(attempt: &Attempt, chosen: bool, stops_the_build: bool) -> &'static str {
    match &attempt.verdict {
        _ if chosen => "[picked]",
        Verdict::Accepted { .. } => "[ok]",
        // A variable naming an empty place is a refusal: a build stops on it.
        Verdict::NotFound { .. } if stops_the_build => "[refused]",
        Verdict::Skipped { .. } | Verdict::NotFound { .. } => "[-]",
        Verdict::WouldDownload { .. } => "[fetch]",
        _ => "[refused]",
    }
}

//! Which `onnxruntime.dll` a PE executable will load, found the way Windows searches for a desktop
//! program's DLLs with SafeDllSearchMode on (the default): the executable's directory, the system
//! directory (`System32`), the 16-bit system directory, the Windows directory, the current directory,
//! then `PATH`. (`onnxruntime.dll` is no KnownDLL and comes with no side-by-side manifest, so nothing
//! is searched before these.)
//!
//! The pitfall: Windows 10 1809 and later ship Windows ML's own, older `System32\onnxruntime.dll`
//! (ONNX Runtime's "Get started with Windows" page dates the inbox copy to 1809; microsoft/winml-cli#689
//! and microsoft/onnxruntime#4615 show it in System32). A program whose own copy is not beside it
//! gets that one, and ORT stops with "The requested API version \[N\] is not available". Only the
//! executable's directory comes before System32, so the copy there is the one that counts.

use std::path::{Path, PathBuf};

use onnxruntime_provision::Arch;
use onnxruntime_provision::internal::cli::{self as internal, BinaryInfo, Format};

use super::super::Finding;
use crate::host_env;

const DLL: &str = "onnxruntime.dll";

pub(super) fn check(binary: &Path, info: &BinaryInfo) -> Vec<Finding> {
    if !info.needed.iter().any(|n| n.eq_ignore_ascii_case(DLL)) {
        return vec![Finding::warning(
            format!("{} does not import onnxruntime.dll", binary.display()),
            "a program that loads it at run time (ort's load-dynamic) finds it through ORT_DYLIB_PATH; a bare \
             onnxruntime.dll goes through the DLL search order, where Windows' own older System32 copy comes before \
             the current directory and PATH",
            vec!["set ORT_DYLIB_PATH to the full path of the onnxruntime.dll the program was built for".into()],
        )];
    }
    let dir = super::origin(binary);
    let Some(arch) = info.archs.first() else { return Vec::new() };
    let finding = match find_in(&dir) {
        Some(path) => beside(binary, info, arch, &path),
        None => not_beside(binary, arch, &dir),
    };
    vec![finding]
}

/// The DLL in the executable's directory: it is the one loaded, so its architecture decides.
fn beside(binary: &Path, info: &BinaryInfo, arch: &Arch, path: &Path) -> Finding {
    let wrong = |what: String, why: String| Finding::problem(what, why, copy_fix(arch, path.parent()));
    match internal::read_binary(path) {
        Ok(lib) if lib.format == Format::Pe && lib.archs.contains(arch) => Finding::ok(
            format!("{} loads onnxruntime.dll from {} ({}, beside the executable)", binary.display(), path.display(), lib.description),
            "the executable's directory is the first place Windows searches, so this copy comes before the older one Windows 10 1809 and later ship in System32",
        ),
        Ok(lib) => wrong(
            format!("{} will not start: {} is {}, the program is {}", binary.display(), path.display(), lib.description, info.description),
            "the DLL beside the executable is the first one Windows finds; one of another architecture stops the program with \"The application was unable to start correctly (0xc000007b)\"".into(),
        ),
        Err(e) => wrong(
            format!("{} will not start: {} cannot be read as a DLL", binary.display(), path.display()),
            format!("{e}\nthe DLL beside the executable is the first one Windows finds"),
        ),
    }
}

fn not_beside(binary: &Path, arch: &Arch, dir: &Path) -> Finding {
    let mut why = String::from(
        "Windows searches the executable's directory, the system directory, the 16-bit system directory, the Windows \
         directory, the current directory, then PATH (SafeDllSearchMode)\n\
         Windows 10 1809 and later ship Windows ML's own, older onnxruntime.dll in System32: it comes before the \
         current directory and PATH, and ORT then stops with \"The requested API version [N] is not available\" \
         (N: the C API the program asks for)\nsearched:",
    );
    why.push_str(&format!("\n  {} (the executable's directory): no onnxruntime.dll", dir.display()));
    for line in system_lines() {
        why.push_str(&format!("\n  {line}"));
    }
    match std::env::current_dir() {
        Ok(cwd) => why.push_str(&format!("\n  {} (the current directory): {}", cwd.display(), holds(&cwd))),
        Err(e) => why.push_str(&format!("\n  the current directory: unknown ({e})")),
    }
    let on_path: Vec<String> = host_env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).filter(|p| !p.as_os_str().is_empty()).collect::<Vec<_>>())
        .unwrap_or_default()
        .iter()
        .filter(|d| find_in(d).is_some())
        .map(|d| format!("\n  {} (PATH): {}", d.display(), holds(d)))
        .collect();
    if on_path.is_empty() {
        why.push_str("\n  PATH: no directory has onnxruntime.dll");
    }
    for line in on_path {
        why.push_str(&line);
    }
    Finding::problem(
        format!(
            "{} will load the wrong onnxruntime.dll: none is beside it, so Windows' older System32 copy comes first",
            binary.display()
        ),
        why,
        copy_fix(arch, Some(dir)),
    )
}

/// The system, 16-bit system and Windows directories: looked at on Windows, named as absent elsewhere.
fn system_lines() -> Vec<String> {
    let root = if cfg!(windows) { host_env::var_os("SystemRoot").map(PathBuf::from) } else { None };
    let dirs = [
        ("System32", "the system directory"),
        ("System", "the 16-bit system directory"),
        ("", "the Windows directory"),
    ];
    dirs.iter()
        .map(|(sub, what)| match &root {
            Some(root) => {
                let dir = if sub.is_empty() { root.clone() } else { root.join(sub) };
                format!("{} ({what}): {}", dir.display(), holds(&dir))
            }
            None => {
                let shown = if sub.is_empty() { r"C:\Windows".to_string() } else { format!(r"C:\Windows\{sub}") };
                let note = if *sub == "System32" {
                    "; on Windows 10 1809 and later it holds Windows ML's onnxruntime.dll"
                } else {
                    ""
                };
                format!("{shown} ({what}): not on this machine (a {} host){note}", std::env::consts::OS)
            }
        })
        .collect()
}

/// What `dir` has under the DLL's name, in words.
fn holds(dir: &Path) -> String {
    match find_in(dir) {
        None => "no onnxruntime.dll".into(),
        Some(path) => match internal::read_binary(&path) {
            Ok(lib) => format!("has onnxruntime.dll ({})", lib.description),
            Err(e) => format!("has onnxruntime.dll, unreadable: {e}"),
        },
    }
}

/// `dir`'s `onnxruntime.dll` in any letter case, as Windows file systems match names.
fn find_in(dir: &Path) -> Option<PathBuf> {
    let exact = dir.join(DLL);
    if exact.is_file() {
        return Some(exact);
    }
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_str().is_some_and(|n| n.eq_ignore_ascii_case(DLL)))
        .map(|e| e.path())
        .filter(|p| p.is_file())
}

/// Put the release's DLLs beside the executable, as this crate's build script does for Windows targets.
fn copy_fix(arch: &Arch, dir: Option<&Path>) -> Vec<String> {
    let platform = match arch {
        Arch::X86_64 => "win-x64",
        Arch::Aarch64 => "win-arm64",
        Arch::X86 => "win-x86",
        _ => "win-<arch>",
    };
    let dir = dir.map_or_else(|| "the executable's directory".to_string(), |d| d.display().to_string());
    vec![
        format!(
            "copy onnxruntime.dll and onnxruntime_providers_shared.dll of the release the program was built with (lib\\ of onnxruntime-{platform}-<version>.zip) into {dir}"
        ),
        "onnxruntime-provision's build script does this for Windows targets (Config::copy_to_target_dir is always on there): the DLLs are copied next to the executables in target/<profile>/ (deps/, examples/); ship them beside the .exe"
            .into(),
    ]
}

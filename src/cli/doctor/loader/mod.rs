//! Which `libonnxruntime` a built executable will load at run time, found the way its platform's
//! loader searches: glibc's `ld.so` for ELF (`elf`), dyld for Mach-O (`macho`), the Windows DLL search
//! order for PE (`pe`). The executable is read, never run, so an executable built for another
//! platform is checked as well as one for this machine.

mod elf;
mod macho;
mod pe;

use std::path::{Path, PathBuf};

use onnxruntime_provision::internal::cli::{self as internal, Format};

use super::Finding;

pub fn check(binary: &Path) -> Vec<Finding> {
    let info = match internal::read_binary(binary) {
        Ok(info) => info,
        Err(error) => {
            return vec![Finding::problem(
                format!("{} cannot be read as an executable", binary.display()),
                error.to_string(),
                Vec::new(),
            )];
        }
    };
    match info.format {
        Format::Elf => elf::check(binary, &info),
        Format::MachO => macho::check(binary, &info),
        Format::Pe => pe::check(binary, &info),
        Format::Archive => vec![Finding::warning(
            format!("{} is {}, not an executable", binary.display(), info.description),
            "a static or import library is linked into a program, never loaded by itself: check the program built from it",
            Vec::new(),
        )],
    }
}

/// The finding for a program that records no ORT library (ELF, Mach-O).
fn links_nothing(binary: &Path) -> Finding {
    Finding::ok(
        format!("{} does not link libonnxruntime", binary.display()),
        "a program that loads it with dlopen (ort's load-dynamic) finds it through ORT_DYLIB_PATH at run time",
    )
}

/// The executable's directory (`$ORIGIN`, `@executable_path`), symbolic links resolved as the
/// loaders resolve them.
fn origin(binary: &Path) -> PathBuf {
    std::fs::canonicalize(binary).ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_default()
}

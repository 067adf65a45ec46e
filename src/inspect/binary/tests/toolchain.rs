//! Building real binaries of every format with LLVM: `llvm-mc` assembles for any target, `ld.lld`,
//! `ld64.lld` and `lld-link` link ELF, Mach-O and PE without any SDK, `llvm-lipo` makes universal
//! files. Debian ships them in `/usr/lib/llvm-<N>/bin` (packages `llvm` and `lld`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use crate::test_support::llvm::{assemble, run};
pub use crate::test_support::llvm_tool;

/// An ELF target of `ld.lld`: the assembler triple and how to spell a pointer-sized datum.
pub struct ElfTarget {
    pub triple: &'static str,
    pub pointer: &'static str,
}

pub const I386: ElfTarget = ElfTarget { triple: "i386-linux-gnu", pointer: ".long" };
pub const ARMV7: ElfTarget = ElfTarget { triple: "armv7-linux-gnueabihf", pointer: ".long" };
pub const PPC32: ElfTarget = ElfTarget { triple: "powerpc-linux-gnu", pointer: ".long" };
pub const PPC64: ElfTarget = ElfTarget { triple: "powerpc64-linux-gnu", pointer: ".quad" };

/// A stand-in `libonnxruntime.so.<version>` for `target` (SONAME `libonnxruntime.so.1`, version node
/// `VERS_<version>`), linked by `ld.lld`. Its exported function has no code: only the symbol matters.
pub fn elf_standin(dir: &Path, target: &ElfTarget, version: &str) -> PathBuf {
    let object = assemble(
        dir,
        "standin.o",
        target.triple,
        ".text\n.globl OrtGetApiBase\n.type OrtGetApiBase,%function\nOrtGetApiBase:\n.long 0\n",
    );
    let map = dir.join("standin.map");
    fs::write(&map, format!("VERS_{version} {{\n  global: OrtGetApiBase;\n  local: *;\n}};\n")).unwrap();
    let out = dir.join(format!("libonnxruntime.so.{version}"));
    run(Command::new(llvm_tool("ld.lld"))
        .arg("-shared")
        .arg(format!("--version-script={}", map.display()))
        .arg("-soname")
        .arg("libonnxruntime.so.1")
        .arg("-o")
        .arg(&out)
        .arg(&object));
    out
}

/// An executable for `target` that refers to `OrtGetApiBase` of `library`, with `rpath` recorded.
pub fn elf_consumer(dir: &Path, target: &ElfTarget, library: &Path, rpath: &str, new_dtags: bool) -> PathBuf {
    let object = assemble(
        dir,
        "consumer.o",
        target.triple,
        &format!(".text\n.globl _start\n_start:\n.long 0\n.data\n{} OrtGetApiBase\n", target.pointer),
    );
    let out = dir.join(if new_dtags { "consumer" } else { "consumer-rpath" });
    run(Command::new(llvm_tool("ld.lld"))
        .arg(if new_dtags { "--enable-new-dtags" } else { "--disable-new-dtags" })
        .arg("-rpath")
        .arg(rpath)
        .arg("-o")
        .arg(&out)
        .arg(&object)
        .arg(library));
    out
}

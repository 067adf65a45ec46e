//! Building real binaries of every format with LLVM: `llvm-mc` assembles for any target, `ld.lld`,
//! `ld64.lld` and `lld-link` link ELF, Mach-O and PE without any SDK, `llvm-lipo` makes universal
//! files. Debian ships them in `/usr/lib/llvm-<N>/bin` (packages `llvm` and `lld`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// One apt-get at a time within this test process (other processes are held off by a file lock).
static INSTALL: Mutex<()> = Mutex::new(());

/// The path of an LLVM tool, installing `llvm` and `lld` with apt-get when it is missing and we are
/// root (as in CI); otherwise the test fails saying what to install.
pub fn llvm_tool(name: &str) -> PathBuf {
    if let Some(path) = find_llvm_tool(name) {
        return path;
    }
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let lock = fs::File::create(std::env::temp_dir().join("onnxruntime-provision-apt.lock")).unwrap();
    lock.lock().unwrap();
    if let Some(path) = find_llvm_tool(name) {
        return path;
    }
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    assert!(root, "{name} is missing: install it with `apt-get install llvm lld` (the tests do it themselves as root)");
    for args in [&["update", "-qq"][..], &["install", "-y", "-qq", "llvm", "lld"]] {
        let status =
            Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive").status().expect("apt-get runs");
        assert!(status.success(), "apt-get {args:?} failed");
    }
    find_llvm_tool(name).unwrap_or_else(|| panic!("apt-get installed llvm and lld, but {name} is still missing"))
}

/// The newest `/usr/lib/llvm-<N>/bin/<name>`.
fn find_llvm_tool(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.strip_prefix("llvm-")?.parse().ok()?;
            Some((version, e.path().join("bin").join(name)))
        })
        .filter(|(_, path)| path.is_file())
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, path)| path)
}

/// Runs a command and fails the test with its output if it fails.
pub fn run(cmd: &mut Command) {
    let output = cmd.output().unwrap_or_else(|e| panic!("{cmd:?} did not start: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Assembles `source` for `triple` into an object file `dir/<name>`.
pub fn assemble(dir: &Path, name: &str, triple: &str, source: &str) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let src = dir.join(format!("{name}.s"));
    fs::write(&src, source).unwrap();
    let out = dir.join(name);
    run(Command::new(llvm_tool("llvm-mc"))
        .arg(format!("-triple={triple}"))
        .arg("-filetype=obj")
        .arg(&src)
        .arg("-o")
        .arg(&out));
    out
}

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

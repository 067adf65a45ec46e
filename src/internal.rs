//! Not part of the public API: entry points for this crate's own binary (`cargo onnxruntime`), its
//! fuzz targets and benchmarks. Anything here may change in any release.

/// Fuzz entry points: each takes arbitrary bytes and must never panic.
pub mod fuzz {
    /// The library-header inspector (ELF, Mach-O, PE, ar).
    pub fn binary_header(bytes: &[u8]) {
        let _ = crate::inspect::binary::parse(bytes);
    }

    /// The manifest parser (the shipped files' and `ONNXRUNTIME_MANIFEST`'s format).
    #[cfg(feature = "download")]
    pub fn manifest(bytes: &[u8]) {
        if let Ok(text) = std::str::from_utf8(bytes) {
            let _ = crate::manifest::parse::parse(text);
        }
    }

    /// The HTTP/1.1 response parser: status line, headers, framing and body (chunked or not).
    #[cfg(feature = "download")]
    pub fn http_response(bytes: &[u8]) {
        crate::fetch::parse_response(bytes);
    }

    /// The `.tgz` extractor, into a fresh directory under `scratch` (removed afterwards).
    #[cfg(feature = "download")]
    pub fn tar_gz(bytes: &[u8], scratch: &std::path::Path) {
        unpack(scratch, |dest, limits| crate::extract::unpack_tar_gz(&mut { bytes }, dest, limits).map(drop));
    }

    /// The tar reader alone, on an uncompressed stream: every header, every entry's data. (Through
    /// [`tar_gz`], the fuzzer's changes mostly break the deflate stream before the tar reader sees them.)
    #[cfg(feature = "download")]
    pub fn tar(bytes: &[u8]) {
        let _ = crate::extract::read_tar(bytes);
    }

    /// The `.zip` extractor: the bytes are written to a file under `scratch` first.
    #[cfg(feature = "download")]
    pub fn zip(bytes: &[u8], scratch: &std::path::Path) {
        let file = scratch.join(format!("fuzz-{}.zip", std::process::id()));
        if std::fs::write(&file, bytes).is_ok() {
            unpack(scratch, |dest, limits| crate::extract::unpack_zip(&file, dest, limits).map(drop));
        }
        let _ = std::fs::remove_file(&file);
    }

    #[cfg(feature = "download")]
    fn unpack(
        scratch: &std::path::Path,
        run: impl FnOnce(&std::path::Path, &crate::extract::Limits) -> Result<(), crate::extract::ArchiveError>,
    ) {
        let dest = scratch.join(format!("fuzz-out-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dest);
        if std::fs::create_dir_all(&dest).is_ok() {
            // Small caps keep each run fast; the rules under test do not depend on the sizes.
            let limits =
                crate::extract::Limits { max_total_bytes: 8 << 20, max_entries: 1000, max_entry_bytes: 8 << 20 };
            let _ = run(&dest, &limits);
        }
        let _ = std::fs::remove_dir_all(&dest);
    }
}

/// What the `cargo onnxruntime` binary needs beyond the public API: the probe with a progress hook
/// for downloads, the mirror-folder copy, the binary-header reader, and the manifest rules. The CLI
/// is the only intended user.
#[cfg(feature = "cli")]
pub mod cli {
    use std::path::Path;

    use crate::{Config, Error, Library};

    pub use crate::fetch::Progress;
    pub use crate::inspect::binary::{BinaryError, BinaryInfo, Format, VersionNeed, read as read_binary};
    pub use crate::manifest::parse::{LineError, PLATFORMS, Record, parse, parse_release_file};
    pub use crate::sources::download::MirrorCopy;

    /// [`Config::probe`], telling `progress` about any download as it goes.
    pub fn provision(config: &Config, progress: Option<&dyn Progress>) -> Result<Library, Error> {
        config.probe_with(progress)
    }

    /// `library` (from [`provision`] with `config`) as `cargo onnxruntime env` hands it to other tools:
    /// as it is when its directory holds every name the linker and loader ask for, else staged under
    /// `<cache>/handoff/<target>/<key>/onnxruntime/` (macOS archives lack the install name
    /// `libonnxruntime.1.dylib`), with a line saying why.
    pub fn hand_off(config: &Config, library: Library) -> Result<(Library, Option<String>), Error> {
        crate::stage::handoff::hand_off(config, library)
    }

    /// Puts the archive `config` would download into `dir/v<version>/<asset>`, verified against its
    /// pinned SHA-256, without unpacking it: a folder another machine can serve, or use through
    /// `ONNXRUNTIME_MIRROR=file://…`.
    pub fn mirror(config: &Config, dir: &Path, progress: Option<&dyn Progress>) -> Result<MirrorCopy, Error> {
        config.mirror_with(dir, progress)
    }

    /// The linker arguments that give a binary for `target` an rpath to `dir`: what the build-script
    /// route emits as `rustc-link-arg` (on Linux in `DT_RPATH`, which outranks `LD_LIBRARY_PATH`).
    pub fn rpath_link_args(target: &crate::Target, dir: &str) -> Vec<String> {
        crate::emit::rpath_lines(target, dir)
            .into_iter()
            .filter_map(|line| line.strip_prefix("cargo:rustc-link-arg=").map(String::from))
            .collect()
    }

    /// The library directory the `env` source takes for `ONNXRUNTIME_DIR=<root>` (`lib/`, or `lib64/`
    /// when only it holds the library); `None` when the root has neither.
    pub fn library_dir_of(root: &Path) -> Option<std::path::PathBuf> {
        crate::sources::env::library_dir_of(root)
    }

    /// The SHA-256 (lowercase hex) and size of a file.
    pub fn sha256_of_file(path: &Path) -> std::io::Result<(String, u64)> {
        crate::fetch::sha256_of_file(path)
    }

    /// What an official archive's file name says: release, ORT platform and variant.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct ArchiveName {
        pub version: crate::Version,
        pub platform: &'static str,
        pub variant: crate::Variant,
    }

    /// Reads `onnxruntime-<platform>[-<gpu suffix>]-<version>.<tgz|zip>`; `None` for other names.
    pub fn recognise_archive_name(asset: &str) -> Option<ArchiveName> {
        let name = crate::manifest::naming::recognise(asset)?;
        Some(ArchiveName { version: name.version, platform: name.platform, variant: name.variant })
    }
}

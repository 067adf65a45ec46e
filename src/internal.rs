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

    /// The `.tgz` extractor, into a fresh directory under `scratch` (removed afterwards).
    #[cfg(feature = "download")]
    pub fn tar_gz(bytes: &[u8], scratch: &std::path::Path) {
        unpack(scratch, |dest, limits| crate::extract::unpack_tar_gz(bytes, dest, limits).map(drop));
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

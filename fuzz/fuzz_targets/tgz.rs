//! The `.tgz` extractor under its allowlist, unpacking into a scratch directory: no panic, nothing
//! written outside it.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

fn scratch() -> &'static PathBuf {
    static SCRATCH: OnceLock<PathBuf> = OnceLock::new();
    SCRATCH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ort-fuzz-tgz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir
    })
}

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| onnxruntime_provision::internal::fuzz::tar_gz(bytes, scratch()));

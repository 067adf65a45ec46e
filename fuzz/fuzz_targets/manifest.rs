//! The manifest parser (shipped files and `ONNXRUNTIME_MANIFEST`): any text, no panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| onnxruntime_provision::internal::fuzz::manifest(bytes));

//! The tar reader alone, on uncompressed tar streams: every header and all data read, no panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| onnxruntime_provision::internal::fuzz::tar(bytes));

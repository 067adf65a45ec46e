//! The library-header inspector (ELF, Mach-O, PE, ar): any bytes, no panic, bounded reads.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| onnxruntime_provision::internal::fuzz::binary_header(bytes));

//! The HTTP/1.1 response parser (status line, headers, chunked/length/close framing): any bytes a
//! server sends, no panic, bounded memory.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| onnxruntime_provision::internal::fuzz::http_response(bytes));

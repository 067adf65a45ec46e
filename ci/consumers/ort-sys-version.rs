//! Prints the ONNX Runtime release through ort-sys's `OrtGetApiBase`, and checks that the library serves
//! the C API level this ort-sys release was generated for. Built by ci/ort-sys-handoff.sh after
//! `cargo onnxruntime env --for ort-sys` handed ort-sys the provisioned library; run directly.

use std::ffi::CStr;

fn main() {
    // SAFETY: `OrtGetApiBase` takes nothing and returns a pointer to a static table, or null only in a
    // broken build; both fields are plain function pointers that ORT never changes (ABI-stable).
    let base = unsafe { ort_sys::OrtGetApiBase() };
    if base.is_null() {
        eprintln!("OrtGetApiBase returned null");
        std::process::exit(1);
    }
    // SAFETY: a non-null base points at a valid `OrtApiBase`; the string is static and NUL-terminated.
    let version = unsafe { CStr::from_ptr(((*base).GetVersionString)()) };
    println!("ONNX Runtime {}", version.to_string_lossy());
    // SAFETY: as above; `GetApi` returns null for an API level the library does not serve.
    let api = unsafe { ((*base).GetApi)(ort_sys::ORT_API_VERSION) };
    println!("GetApi({}): {}", ort_sys::ORT_API_VERSION, if api.is_null() { "not served" } else { "served" });
    if api.is_null() {
        std::process::exit(1);
    }
}

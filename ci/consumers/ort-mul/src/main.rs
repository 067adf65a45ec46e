//! A real consumer of the provisioned ONNX Runtime: the `ort` crate (linking disabled in `ort-sys`, so
//! this package's build.rs supplies the link lines through onnxruntime-provision) runs the `mul_1.onnx`
//! model shipped in the onnxruntime wheel, Y = X * X elementwise, and checks the result exactly.
//!
//! Usage: `ort-mul path/to/mul_1.onnx`. Prints the library version and the result; exits non-zero on
//! any mismatch.

use std::ffi::CStr;
use std::process::ExitCode;

use ort::session::Session;
use ort::value::Tensor;

const X: [f32; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
const EXPECTED_Y: [f32; 6] = [1.0, 4.0, 9.0, 16.0, 25.0, 36.0];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ort-mul: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let model = std::env::args_os().nth(1).ok_or("usage: ort-mul MODEL.onnx")?;
    println!("ONNX Runtime version: {}", library_version()?);

    let env = ort::init().with_name("ort-mul").build().map_err(|e| format!("creating the environment: {e}"))?;
    let mut session = Session::builder(&env)
        .and_then(|mut builder| builder.commit_from_file(&model))
        .map_err(|e| format!("loading {}: {e}", model.to_string_lossy()))?;
    let x = Tensor::from_array(([3usize, 2], X.to_vec())).map_err(|e| format!("creating X: {e}"))?;
    let outputs = session.run(ort::inputs!["X" => x]).map_err(|e| format!("running the model: {e}"))?;
    let (shape, y) = outputs["Y"].try_extract_tensor::<f32>().map_err(|e| format!("reading Y: {e}"))?;
    println!("Y shape {:?} = {y:?}", shape.to_vec());
    if shape.to_vec() != [3, 2] || y != EXPECTED_Y {
        return Err(format!("expected Y of shape [3, 2] = {EXPECTED_Y:?}"));
    }
    println!("mul_1.onnx: Y == X * X, as expected");
    Ok(())
}

/// The version the loaded library reports, straight from the C API (`OrtGetApiBase()->GetVersionString()`).
fn library_version() -> Result<String, String> {
    // SAFETY: OrtGetApiBase takes no arguments and returns a pointer to a static struct (or NULL, checked);
    // GetVersionString returns a static NUL-terminated string.
    unsafe {
        let base = ort_sys::OrtGetApiBase();
        if base.is_null() {
            return Err("OrtGetApiBase() returned NULL".into());
        }
        let text = ((*base).GetVersionString)();
        if text.is_null() {
            return Err("GetVersionString() returned NULL".into());
        }
        Ok(CStr::from_ptr(text).to_string_lossy().into_owned())
    }
}

//! For crates that depend on an ORT `-sys` crate. `cargo:rustc-link-arg` only reaches the binaries of
//! the package whose build script printed it, so the rpath that makes a `-sys` crate's own tests run
//! does not reach the binaries of crates that depend on it. The `-sys` crate (with `links =
//! "onnxruntime"`) exports its choice as `DEP_ONNXRUNTIME_*` metadata; a dependent binary's build
//! script turns that back into an rpath with one call:
//!
//! ```no_run
//! // build.rs of a binary crate that depends on `onnxruntime-sys` (links = "onnxruntime")
//! fn main() {
//!     onnxruntime_provision::dependent_rpath("onnxruntime").unwrap();
//! }
//! ```

use crate::emit;
use crate::env::{Env, Vars};
use crate::error::Error;
use crate::target::Target;

/// Prints the rpath that the `-sys` crate with `links = "<links>"` chose (from `DEP_<LINKS>_RPATH`, else
/// `DEP_<LINKS>_LIB_DIR`), so this crate's binaries load the same ONNX Runtime. Returns the lines.
pub fn dependent_rpath(links: &str) -> Result<Vec<String>, Error> {
    let lines = dependent_rpath_lines(&Env::process(), links)?;
    emit::print(&lines);
    Ok(lines)
}

/// [`dependent_rpath`] without printing, with an explicit environment (for tests and tools).
pub fn dependent_rpath_lines(env: &Env, links: &str) -> Result<Vec<String>, Error> {
    let target = Target::from_cargo(env)?;
    let vars = Vars::new(env, target.triple());
    let prefix = format!("DEP_{}", links.to_ascii_uppercase().replace('-', "_"));
    let found = vars.plain(&format!("{prefix}_RPATH")).or_else(|| vars.plain(&format!("{prefix}_LIB_DIR")));
    let Some(var) = found else {
        return Err(Error::InvalidSetting {
            setting: format!("{prefix}_RPATH"),
            value: String::new(),
            reason: format!(
                "it is not set: no dependency with `links = \"{links}\"` exported where its ONNX Runtime is"
            ),
            fix: format!(
                "depend on the -sys crate whose Cargo.toml says `links = \"{links}\"` and whose build.rs calls \
                 onnxruntime_provision::Config::probe(), or pass its `links` value here"
            ),
        });
    };
    let entry = var.text()?.to_string();
    let mut lines = emit::rerun_env_lines(&vars.seen());
    lines.extend(emit::rpath_lines(&target, &entry));
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_the_dependency_metadata_into_an_rpath() {
        let env = Env::from_vars([
            ("TARGET", "x86_64-unknown-linux-gnu"),
            ("HOST", "x86_64-unknown-linux-gnu"),
            ("DEP_ONNXRUNTIME_LIB_DIR", "/t/debug/build/x/out/onnxruntime/lib"),
        ]);
        let lines = dependent_rpath_lines(&env, "onnxruntime").unwrap();
        assert_eq!(
            lines,
            [
                "cargo:rerun-if-env-changed=DEP_ONNXRUNTIME_RPATH",
                "cargo:rerun-if-env-changed=DEP_ONNXRUNTIME_LIB_DIR",
                "cargo:rustc-link-arg=-Wl,--disable-new-dtags",
                "cargo:rustc-link-arg=-Wl,-rpath,/t/debug/build/x/out/onnxruntime/lib",
            ]
        );
        // A relocatable -sys crate says `$ORIGIN`, which wins over the directory.
        let env = env.with("DEP_ONNXRUNTIME_RPATH", "$ORIGIN");
        assert!(
            dependent_rpath_lines(&env, "onnxruntime")
                .unwrap()
                .contains(&"cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN".to_string())
        );
        // Windows has no rpath: nothing to add.
        let env = env.with("TARGET", "x86_64-pc-windows-msvc");
        assert!(dependent_rpath_lines(&env, "onnxruntime").unwrap().iter().all(|l| l.starts_with("cargo:rerun")));
    }

    #[test]
    fn missing_metadata_says_what_to_depend_on() {
        let env = Env::from_vars([("TARGET", "x86_64-unknown-linux-gnu")]);
        let err = dependent_rpath_lines(&env, "onnxruntime-sys").unwrap_err().to_string();
        assert!(err.contains("DEP_ONNXRUNTIME_SYS_RPATH") && err.contains("links = \"onnxruntime-sys\""), "{err}");
    }
}

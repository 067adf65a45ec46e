//! The limit of any build-script process: a build script with no dependencies that prints one
//! directive. Built at the opt-level a build script gets, like `probe-script`; what a build script
//! costs above it is its dependencies' code being loaded, and its own work.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
}

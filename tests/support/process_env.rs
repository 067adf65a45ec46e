//! Changing the process environment, for the test binaries that run a single test on one thread
//! (`tests/pkg_config.rs`, `tests/pkg_config_search.rs`): the `pkg-config` crate reads the process
//! environment, so those tests cannot use an injected one as the library's own tests do.

pub fn set(name: &str, value: impl AsRef<std::ffi::OsStr>) {
    // SAFETY: the binaries that call this run a single test on a single thread, before anything else
    // reads the environment.
    unsafe { std::env::set_var(name, value) }
}

pub fn unset(name: &str) {
    // SAFETY: as above.
    unsafe { std::env::remove_var(name) }
}

/work/main/ci/bench/target/o3/deps/rustls_native_certs-9549ff3f623aa756.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rustls-native-certs-0.8.5/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rustls-native-certs-0.8.5/src/unix.rs

/work/main/ci/bench/target/o3/deps/librustls_native_certs-9549ff3f623aa756.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rustls-native-certs-0.8.5/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rustls-native-certs-0.8.5/src/unix.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rustls-native-certs-0.8.5/src/lib.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rustls-native-certs-0.8.5/src/unix.rs:

/work/main/ci/bench/target/o3/deps/webpki_roots-c45459c7ad5bb895.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/webpki-roots-1.0.10/src/lib.rs

/work/main/ci/bench/target/o3/deps/libwebpki_roots-c45459c7ad5bb895.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/webpki-roots-1.0.10/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/webpki-roots-1.0.10/src/lib.rs:

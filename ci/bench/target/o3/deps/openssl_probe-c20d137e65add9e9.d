/work/main/ci/bench/target/o3/deps/openssl_probe-c20d137e65add9e9.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/openssl-probe-0.2.2/src/lib.rs

/work/main/ci/bench/target/o3/deps/libopenssl_probe-c20d137e65add9e9.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/openssl-probe-0.2.2/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/openssl-probe-0.2.2/src/lib.rs:

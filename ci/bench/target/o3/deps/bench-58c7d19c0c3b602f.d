/work/main/ci/bench/target/o3/deps/bench-58c7d19c0c3b602f.d: /work/main/clippy.toml src/main.rs src/measure.rs src/server.rs Cargo.toml

/work/main/ci/bench/target/o3/deps/libbench-58c7d19c0c3b602f.rmeta: /work/main/clippy.toml src/main.rs src/measure.rs src/server.rs Cargo.toml

/work/main/clippy.toml:
src/main.rs:
src/measure.rs:
src/server.rs:
Cargo.toml:

# env-dep:CLIPPY_ARGS=
# env-dep:CLIPPY_CONF_DIR

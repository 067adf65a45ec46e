/work/main/ci/bench/target/o3/deps/probe_script-fec2f58c30ff7210.d: /work/main/clippy.toml src/bin/probe_script.rs Cargo.toml

/work/main/ci/bench/target/o3/deps/libprobe_script-fec2f58c30ff7210.rmeta: /work/main/clippy.toml src/bin/probe_script.rs Cargo.toml

/work/main/clippy.toml:
src/bin/probe_script.rs:
Cargo.toml:

# env-dep:CLIPPY_ARGS=
# env-dep:CLIPPY_CONF_DIR

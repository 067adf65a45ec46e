//! `manifest add`: hashing archives into a manifest in the crate's format, which the library then
//! accepts (a release newer than the shipped manifests becomes downloadable), and refusing to change a
//! pinned hash without `--force`.

use std::fs;

use onnxruntime_provision::{Config, Env, Origin, SourceKind, Variant, Version};

use super::support::server::{Reply, Server};
use super::support::{self, X86_64};
use super::{Run, build_archive};

const SOURCE: &str = "built by the cli tests";

#[test]
fn writes_the_expected_lines_and_the_library_uses_them() {
    let tmp = support::tempdir();
    let dir = tmp.path().join("archives");
    let cpu = build_archive(&dir, "1.31.0", X86_64, "onnxruntime-linux-x64-1.31.0.tgz");
    let gpu = build_archive(&dir, "1.31.0", X86_64, "onnxruntime-linux-x64-gpu_cuda13-1.31.0.tgz");
    let win = build_archive(&dir, "1.31.0", X86_64, "onnxruntime-win-x64-1.31.0.zip");
    for archive in [&cpu, &gpu, &win] {
        fs::write(dir.join(&archive.asset), &archive.bytes).unwrap();
    }
    let manifests = tmp.path().join("manifests");
    fs::create_dir_all(&manifests).unwrap();
    let path = |a: &support::archive::Archive| dir.join(&a.asset).to_str().unwrap().to_string();
    let ran = Run::new(&["manifest", "add", "1.31.0", &path(&cpu), &path(&gpu), &path(&win), "--source", SOURCE])
        .dir(tmp.path())
        .output()
        .expect(0);
    ran.stdout_has("wrote manifests/1.31.0.txt")
        .stdout_has("1.31.0 linux-x64 cuda13: onnxruntime-linux-x64-gpu_cuda13-1.31.0.tgz");

    let text = fs::read_to_string(manifests.join("1.31.0.txt")).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    let width = gpu.asset.len();
    let expected: Vec<String> = [(&cpu, "linux-x64", "cpu"), (&gpu, "linux-x64", "cuda13"), (&win, "win-x64", "cpu")]
        .iter()
        .map(|(a, platform, variant)| {
            format!("1.31.0 {platform:<14} {variant:<6} {:<width$} {} {} {SOURCE}", a.asset, a.sha256, a.bytes.len())
        })
        .collect();
    assert_eq!(lines, expected, "{text}");
    assert!(text.starts_with("# ONNX Runtime 1.31.0"), "{text}");

    // The library takes the file as a private manifest: 1.31.0 (not shipped) becomes downloadable.
    let server = Server::http();
    server.route(&cpu.url_path("1.31.0"), Reply::ok(cpu.bytes.clone()));
    let out = tmp.path().join("out");
    fs::create_dir_all(&out).unwrap();
    let env = Env::from_vars([("TARGET", X86_64), ("HOST", X86_64)])
        .with("OUT_DIR", &out)
        .with("ONNXRUNTIME_MANIFEST", manifests.join("1.31.0.txt"))
        .with("ONNXRUNTIME_MIRROR", server.url(""))
        .with("ONNXRUNTIME_CACHE_DIR", tmp.path().join("cache"));
    let library = Config::new()
        .env(env.clone())
        .sources([SourceKind::Download])
        .version("1.31")
        .cargo_metadata(false)
        .probe()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(library.version, Version::new(1, 31, 0));
    assert!(matches!(&library.origin, Origin::Download { sha256, .. } if *sha256 == cpu.sha256));
    // And its variant naming: the cuda13 line is what a CUDA 13 build asks for.
    let survey = Config::new()
        .env(env)
        .sources([SourceKind::Download])
        .version("1.31")
        .variant(Variant::Cuda13)
        .survey()
        .unwrap();
    let chosen = &survey.report.attempts[survey.chosen.unwrap()];
    assert!(chosen.location.ends_with("onnxruntime-linux-x64-gpu_cuda13-1.31.0.tgz"), "{chosen:?}");
}

#[test]
fn a_changed_hash_is_refused_unless_forced_and_reruns_are_idempotent() {
    let tmp = support::tempdir();
    let first = build_archive(&tmp.path().join("one"), "1.31.0", X86_64, "onnxruntime-linux-x64-1.31.0.tgz");
    let second = build_archive(&tmp.path().join("two"), "1.31.1", X86_64, "onnxruntime-linux-x64-1.31.0.tgz");
    assert_ne!(first.sha256, second.sha256);
    let a = tmp.path().join("a").join(&first.asset);
    let b = tmp.path().join("b").join(&second.asset);
    for (path, archive) in [(&a, &first), (&b, &second)] {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, &archive.bytes).unwrap();
    }
    let output = tmp.path().join("private.txt");
    let add = |archive: &std::path::Path, extra: &[&str]| {
        let out = output.to_str().unwrap();
        Run::new(
            &[&["manifest", "add", "1.31.0", archive.to_str().unwrap(), "--source", SOURCE, "--output", out], extra]
                .concat(),
        )
        .output()
    };
    add(&a, &[]).expect(0);
    let written = fs::read_to_string(&output).unwrap();
    add(&a, &[]).expect(0).stdout_has("already listed with this hash");
    assert_eq!(fs::read_to_string(&output).unwrap(), written);

    let ran = add(&b, &[]).expect(1);
    ran.stderr_has("refusing to change a pinned hash").stderr_has(&first.sha256).stderr_has(&second.sha256);
    assert_eq!(fs::read_to_string(&output).unwrap(), written, "nothing written");

    add(&b, &["--force"]).expect(0).stdout_has("(--force)");
    let forced = fs::read_to_string(&output).unwrap();
    assert!(forced.contains(&second.sha256) && !forced.contains(&first.sha256), "{forced}");
    assert_eq!(forced.lines().count(), written.lines().count());
}

#[test]
fn names_and_versions_that_do_not_fit_are_refused() {
    let tmp = support::tempdir();
    let odd = tmp.path().join("ort-linux-x64-1.31.0.tgz");
    fs::write(&odd, b"not checked").unwrap();
    let output = tmp.path().join("m.txt");
    let out = output.to_str().unwrap();
    Run::new(&["manifest", "add", "1.31.0", odd.to_str().unwrap(), "--source", SOURCE, "--output", out])
        .output()
        .expect(1)
        .stderr_has("not an official archive name");
    let other = tmp.path().join("onnxruntime-linux-x64-1.30.0.tgz");
    fs::write(&other, b"x").unwrap();
    Run::new(&["manifest", "add", "1.31.0", other.to_str().unwrap(), "--source", SOURCE, "--output", out])
        .output()
        .expect(1)
        .stderr_has("is release 1.30.0, not 1.31.0");
    Run::new(&["manifest", "add", "1.31.0", other.to_str().unwrap(), "--output", out])
        .output()
        .expect(2)
        .stderr_has("--source is required");
    Run::new(&["manifest", "add", "1.31", other.to_str().unwrap(), "--source", SOURCE])
        .output()
        .expect(2)
        .stderr_has("not a release such as 1.22.0");
    Run::new(&["manifest", "add", "1.31.0", other.to_str().unwrap(), "--source", SOURCE])
        .dir(tmp.path())
        .output()
        .expect(1)
        .stderr_has("no manifests/ folder");
    assert!(!output.exists());
}

//! "Malformed manifest → the crate's build fails for shipped manifests" (TEST-MATRIX.md, Integrity):
//! the crate's own `build.rs` is compiled with rustc and run the way cargo runs it, on a copy of
//! `manifests/` with one line broken (bad hex, wrong length, duplicate key). The runtime side
//! (`ONNXRUNTIME_MANIFEST` errors with line numbers) is tested in src/manifest/mod.rs.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const GOOD_LINE: &str = "1.22.0 linux-x64      cpu    onnxruntime-linux-x64-1.22.0.tgz     8344d55f93d5bc5021ce342db50f62079daf39aaafb5d311a451846228be49b3";

/// Runs the compiled build script on a package root holding `manifests/`.
fn run(script: &Path, root: &Path) -> Output {
    let out_dir = root.join("out");
    fs::create_dir_all(&out_dir).unwrap();
    Command::new(script)
        .env("CARGO_MANIFEST_DIR", root)
        .env("OUT_DIR", &out_dir)
        .env("CARGO_FEATURE_DOWNLOAD", "1")
        .output()
        .expect("the build script runs")
}

#[test]
fn a_malformed_shipped_manifest_fails_the_crate_build_naming_file_line_and_rule() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("build-script");
    let compiled = Command::new("rustc")
        .args(["--edition", "2024", "--crate-name", "build_script_build", "-o"])
        .arg(&script)
        .arg(repo.join("build.rs"))
        .output()
        .expect("rustc runs");
    assert!(compiled.status.success(), "build.rs does not compile:\n{}", String::from_utf8_lossy(&compiled.stderr));

    let shipped = fs::read_to_string(repo.join("manifests/1.22.0.txt")).unwrap();
    assert!(shipped.contains(GOOD_LINE), "the test's reference line is gone from manifests/1.22.0.txt");
    let line_no = shipped.lines().position(|l| l.starts_with(GOOD_LINE)).unwrap() + 1;
    let hash = "8344d55f93d5bc5021ce342db50f62079daf39aaafb5d311a451846228be49b3";
    let cases = [
        ("bad hex", shipped.replace(hash, &hash.replace('8', "g")), "hex"),
        ("wrong length", shipped.replace(hash, &hash[..60]), "64"),
        ("duplicate key", shipped.replacen(GOOD_LINE, &format!("{GOOD_LINE} - x\n{GOOD_LINE}"), 1), "duplicate-key"),
    ];
    for (what, text, rule) in cases {
        let root = dir.path().join(what.replace(' ', "-"));
        fs::create_dir_all(root.join("manifests")).unwrap();
        for entry in fs::read_dir(repo.join("manifests")).unwrap() {
            let path = entry.unwrap().path();
            fs::copy(&path, root.join("manifests").join(path.file_name().unwrap())).unwrap();
        }
        fs::write(root.join("manifests/1.22.0.txt"), &text).unwrap();
        let output = run(&script, &root);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{what}: the build script accepted it");
        let at = if what == "duplicate key" { line_no + 1 } else { line_no };
        assert!(stderr.contains(&format!("manifests/1.22.0.txt:{at}")), "{what}: no file:line in\n{stderr}");
        assert!(stderr.to_lowercase().contains(rule), "{what}: the rule ({rule}) is not named in\n{stderr}");
    }

    // The shipped files as they are: the script succeeds and writes the data.
    let root = dir.path().join("shipped");
    fs::create_dir_all(root.join("manifests")).unwrap();
    for entry in fs::read_dir(repo.join("manifests")).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, root.join("manifests").join(path.file_name().unwrap())).unwrap();
    }
    let output = run(&script, &root);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(fs::read_to_string(root.join("out/manifests.rs")).unwrap().contains(hash));
}

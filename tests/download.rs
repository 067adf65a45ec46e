//! The download source end to end: archives in the official layout holding a real stand-in library,
//! served from loopback through `ONNXRUNTIME_MIRROR`, described by a test manifest, fetched into a
//! fresh cache, verified, unpacked, inspected, staged and linked.
// Probes return the crate's full error report; its size does not matter in tests.
#![allow(clippy::result_large_err)]

mod support;

use std::fs;

use onnxruntime_provision::{Config, DownloadError, Env, Library, Origin, SourceKind, Verdict, Version};
use support::archive;
use support::scene::{Scene, download_error, fetched_now};
use support::server::{Reply, Server, TestPki};
use support::{AARCH64, X86_64};

const TGZ: &str = "onnxruntime-linux-x64-1.22.0.tgz";

#[test]
fn downloads_verifies_unpacks_stages_and_then_hits_the_cache() {
    let server = Server::http();
    let mut scene = Scene::new(X86_64);
    let archive = scene.archive("1.22.0", X86_64, TGZ);
    scene.serve(&server, &archive, "1.22.0", "linux-x64");

    let lib = scene.probe().unwrap();
    assert_eq!(lib.version, Version::new(1, 22, 0));
    assert!(fetched_now(&lib));
    let Origin::Download { url, sha256, cache_entry, .. } = &lib.origin else { unreachable!() };
    assert_eq!(url, &server.url(&archive.url_path("1.22.0")));
    assert_eq!(sha256, &archive.sha256);
    assert_eq!(cache_entry, &scene.cache().join(&archive.sha256));
    // Linked from the staged dir, whose links lead into the cache entry.
    assert_eq!(lib.lib_dir, scene.path("out/onnxruntime/lib"));
    assert!(lib.library_file.starts_with(fs::canonicalize(cache_entry).unwrap()));
    assert!(lib.cargo_directives().contains(&"cargo:rustc-link-lib=dylib=onnxruntime".to_string()));
    // Cache entries never change, but can be deleted: the marker is watched, so removing the entry
    // reruns the build script instead of leaving dangling staged links.
    let watched: Vec<&String> =
        lib.cargo_directives().iter().filter(|l| l.starts_with("cargo:rerun-if-changed=")).collect();
    assert_eq!(watched, [&format!("cargo:rerun-if-changed={}", cache_entry.join("marker").display())]);
    assert!(cache_entry.join("marker").is_file());
    assert_eq!(scene.entries(), std::slice::from_ref(&archive.sha256));
    assert!(scene.temps().is_empty());

    // Warm: a fresh OUT_DIR, the same cache, no request at all.
    scene.set("OUT_DIR", scene.path("out2"));
    fs::create_dir_all(scene.path("out2")).unwrap();
    let lib = scene.probe().unwrap();
    assert!(!fetched_now(&lib));
    assert_eq!(server.hits(&archive.url_path("1.22.0")), 1);
}

#[test]
fn zip_archives_work_too() {
    let server = Server::http();
    let mut scene = Scene::new(X86_64);
    let archive = scene.archive("1.22.0", X86_64, "onnxruntime-linux-x64-1.22.0.zip");
    scene.serve(&server, &archive, "1.22.0", "linux-x64");
    let lib = scene.probe().unwrap();
    assert_eq!(lib.version, Version::new(1, 22, 0));
    assert!(lib.lib_dir.join("libonnxruntime.so.1").exists());
    assert!(scene.temps().is_empty());
}

#[test]
fn file_mirrors_are_read_from_disk() {
    let mut scene = Scene::new(X86_64);
    let archive = scene.archive("1.22.0", X86_64, TGZ);
    let mirror = scene.path("mirror dir");
    archive.put_in_mirror(&mirror, "1.22.0");
    let url = format!("file://{}", mirror.display().to_string().replace(' ', "%20"));
    scene.manifest(&[archive.manifest_line("1.22.0", "linux-x64", "cpu")]).set("ONNXRUNTIME_MIRROR", url);
    let lib = scene.probe().unwrap();
    assert!(fetched_now(&lib));
    assert_eq!(scene.entries(), std::slice::from_ref(&archive.sha256));
}

#[test]
fn a_checksum_mismatch_keeps_nothing() {
    let server = Server::http();
    let mut scene = Scene::new(X86_64);
    let archive = scene.archive("1.22.0", X86_64, TGZ);
    let tampered = scene.archive("1.22.0", X86_64, TGZ.replace(".tgz", "-other.tgz").as_str());
    // The mirror serves different bytes under the expected name. (Without a size in the manifest, so
    // the hash decides whatever the length; a_body_larger_than_the_manifest_says… covers the size.)
    server.route(&archive.url_path("1.22.0"), Reply::ok(tampered.bytes.clone()));
    let line = format!("1.22.0 linux-x64 cpu {TGZ} {} - built by the tests\n", archive.sha256);
    scene.manifest(&[line]).set("ONNXRUNTIME_MIRROR", server.url(""));
    let err = scene.probe().unwrap_err();
    match download_error(&err) {
        DownloadError::ChecksumMismatch { url, expected, actual, .. } => {
            assert_eq!(url, &server.url(&archive.url_path("1.22.0")));
            assert_eq!(expected, &archive.sha256);
            assert_eq!(actual, &tampered.sha256);
        }
        other => panic!("expected ChecksumMismatch, got {other}"),
    }
    let text = err.to_string();
    assert!(text.contains(&archive.sha256) && text.contains(&tampered.sha256), "{text}");
    assert!(scene.entries().is_empty(), "nothing promoted");
    assert!(scene.temps().is_empty(), "temps removed: {:?}", scene.temps());
}

#[test]
fn not_found_is_final_and_says_how_out() {
    let server = Server::http();
    let mut scene = Scene::new(X86_64);
    let archive = scene.archive("1.22.0", X86_64, TGZ);
    server.route(&archive.url_path("1.22.0"), Reply::status(404));
    scene.manifest(&[archive.manifest_line("1.22.0", "linux-x64", "cpu")]).set("ONNXRUNTIME_MIRROR", server.url(""));
    let err = scene.probe().unwrap_err();
    assert!(matches!(download_error(&err), DownloadError::Http { status: 404, attempts: 1, .. }), "{err}");
    assert_eq!(server.hits(&archive.url_path("1.22.0")), 1, "no retry on 404");
    let text = err.to_string();
    for words in
        [archive.url_path("1.22.0").as_str(), "1.22", "ONNXRUNTIME_MIRROR", "ONNXRUNTIME_OFFLINE", "ONNXRUNTIME_DIR"]
    {
        assert!(text.contains(words), "missing {words:?} in:\n{text}");
    }
    assert!(scene.temps().is_empty());
}

#[test]
fn a_server_error_is_retried_then_succeeds() {
    let server = Server::http();
    let mut scene = Scene::new(X86_64);
    let archive = scene.archive("1.22.0", X86_64, TGZ);
    server.sequence(&archive.url_path("1.22.0"), vec![Reply::status(500), Reply::ok(archive.bytes.clone())]);
    scene.manifest(&[archive.manifest_line("1.22.0", "linux-x64", "cpu")]).set("ONNXRUNTIME_MIRROR", server.url(""));
    let lib = scene.probe().unwrap();
    assert!(fetched_now(&lib));
    assert_eq!(server.hits(&archive.url_path("1.22.0")), 2);
}

#[test]
fn offline_uses_the_cache_or_says_how_to_prefetch() {
    let server = Server::http();
    let mut scene = Scene::new(X86_64);
    let archive = scene.archive("1.22.0", X86_64, TGZ);
    scene.serve(&server, &archive, "1.22.0", "linux-x64");

    for (name, value) in [("ONNXRUNTIME_OFFLINE", "1"), ("CARGO_NET_OFFLINE", "true")] {
        let mut offline = Scene { tmp: support::tempdir(), vars: scene.vars.clone() };
        offline.set("ONNXRUNTIME_CACHE_DIR", offline.path("cache")).set(name, value);
        let err = offline.probe().unwrap_err();
        assert!(matches!(download_error(&err), DownloadError::Offline { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains(name) && text.contains("cargo onnxruntime fetch"), "{text}");
    }
    assert_eq!(server.requests().len(), 0, "offline never touches the network");

    scene.probe().unwrap();
    scene.set("ONNXRUNTIME_OFFLINE", "1");
    let lib = scene.probe().unwrap();
    assert!(!fetched_now(&lib));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn concurrent_probes_download_once() {
    let server = Server::http();
    let mut scene = Scene::new(X86_64);
    let archive = scene.archive("1.22.0", X86_64, TGZ);
    // Slow the body down so the second probe certainly arrives while the first is downloading.
    server.route(
        &archive.url_path("1.22.0"),
        Reply::Trickle { body: archive.bytes.clone(), interval: std::time::Duration::from_millis(0) },
    );
    scene.manifest(&[archive.manifest_line("1.22.0", "linux-x64", "cpu")]).set("ONNXRUNTIME_MIRROR", server.url(""));
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let mut vars = scene.vars.clone();
            let out = scene.path(&format!("out-{i}"));
            fs::create_dir_all(&out).unwrap();
            vars.retain(|(n, _)| n != "OUT_DIR");
            vars.push(("OUT_DIR".into(), out.into_os_string()));
            std::thread::spawn(move || {
                Config::new().env(Env::from_vars(vars)).cargo_metadata(false).version("1.22").probe()
            })
        })
        .collect();
    let libs: Vec<Library> = handles.into_iter().map(|h| h.join().unwrap().unwrap()).collect();
    assert_eq!(server.hits(&archive.url_path("1.22.0")), 1);
    assert_eq!(libs.iter().filter(|l| fetched_now(l)).count(), 1);
    assert_eq!(libs[0].library_file, libs[1].library_file);
}

#[test]
fn https_mirrors_need_the_ca_and_accept_it_from_the_bundle_variable() {
    let pki = TestPki::new();
    let server = Server::https(pki.server_config(support::server::Leaf::Good));
    let mut scene = Scene::new(X86_64);
    let archive = scene.archive("1.22.0", X86_64, TGZ);
    scene.serve(&server, &archive, "1.22.0", "linux-x64");

    let err = scene.probe().unwrap_err();
    assert!(matches!(download_error(&err), DownloadError::Tls { .. }), "{err}");
    assert!(err.to_string().contains("ONNXRUNTIME_CA_BUNDLE"), "{err}");
    assert!(scene.entries().is_empty() && scene.temps().is_empty());

    let ca = pki.write_ca(scene.tmp.path());
    scene.set("ONNXRUNTIME_CA_BUNDLE", ca);
    let lib = scene.probe().unwrap();
    assert!(fetched_now(&lib));
}

#[test]
fn no_manifest_entry_lists_what_exists_without_a_request() {
    let server = Server::http();
    let mut scene = Scene::new(X86_64);
    scene.set("ONNXRUNTIME_MIRROR", server.url("")).set("ONNXRUNTIME_VERSION", "1.99");
    let err = scene.probe().unwrap_err();
    match download_error(&err) {
        DownloadError::NoArtifact { platform, available, .. } => {
            assert_eq!(platform, "linux-x64");
            assert!(available.iter().any(|v| v.contains("1.22.0")), "{available:?}");
        }
        other => panic!("expected NoArtifact, got {other}"),
    }
    // A variant that a release lacks is an error, never a silent CPU fallback.
    scene.set("ONNXRUNTIME_VERSION", "1.19.0").set("ONNXRUNTIME_VARIANT", "cuda12");
    let err = scene.probe().unwrap_err();
    assert!(matches!(download_error(&err), DownloadError::NoArtifact { .. }), "{err}");
    assert_eq!(server.requests().len(), 0);
}

#[test]
fn unsupported_targets_name_the_alternatives() {
    let mut scene = Scene::new("x86_64-unknown-linux-musl");
    scene.set("ONNXRUNTIME_MIRROR", "http://127.0.0.1:9");
    let err = scene.probe().unwrap_err();
    assert!(matches!(download_error(&err), DownloadError::UnsupportedTarget { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("ONNXRUNTIME_DIR") && text.contains("ONNXRUNTIME_MANIFEST"), "{text}");
}

#[test]
fn a_damaged_cache_entry_is_fetched_again() {
    let server = Server::http();
    let mut scene = Scene::new(X86_64);
    let archive = scene.archive("1.22.0", X86_64, TGZ);
    scene.serve(&server, &archive, "1.22.0", "linux-x64");
    let lib = scene.probe().unwrap();
    fs::remove_file(&lib.library_file).unwrap();

    // Offline, the damage is reported rather than used.
    let mut offline = Scene { tmp: support::tempdir(), vars: scene.vars.clone() };
    offline.set("ONNXRUNTIME_OFFLINE", "1");
    assert!(matches!(download_error(&offline.probe().unwrap_err()), DownloadError::Offline { .. }));

    let lib = scene.probe().unwrap();
    assert!(fetched_now(&lib));
    assert!(lib.library_file.is_file());
    assert_eq!(server.hits(&archive.url_path("1.22.0")), 2);
    assert!(scene.temps().is_empty());
}

#[test]
fn cross_compiling_downloads_the_target_archive_and_refuses_a_wrong_one() {
    let server = Server::http();
    let mut scene = Scene::new(AARCH64);
    let arm = scene.archive("1.22.0", AARCH64, "onnxruntime-linux-aarch64-1.22.0.tgz");
    let x64 = scene.archive("1.22.0", X86_64, TGZ);
    server.route(&arm.url_path("1.22.0"), Reply::ok(arm.bytes.clone()));
    server.route(&x64.url_path("1.22.0"), Reply::ok(x64.bytes.clone()));
    scene
        .manifest(&[
            arm.manifest_line("1.22.0", "linux-aarch64", "cpu"),
            x64.manifest_line("1.22.0", "linux-x64", "cpu"),
        ])
        .set("ONNXRUNTIME_MIRROR", server.url(""));
    let lib = scene.probe().unwrap();
    assert_eq!(lib.target, AARCH64);
    assert_eq!(server.hits(&arm.url_path("1.22.0")), 1);
    assert_eq!(server.hits(&x64.url_path("1.22.0")), 0, "the host's archive is never fetched");

    // A manifest that (wrongly) lists the x86_64 archive for aarch64: inspection refuses it.
    let mut wrong = Scene::new(AARCH64);
    wrong.manifest(&[x64.manifest_line("1.22.0", "linux-aarch64", "cpu")]).set("ONNXRUNTIME_MIRROR", server.url(""));
    let err = wrong.probe().unwrap_err();
    let report = err.report().unwrap();
    assert!(matches!(report.attempts.last().unwrap().verdict, Verdict::WrongArch { .. }), "{err}");
}

#[test]
fn docs_rs_never_touches_the_network() {
    let server = Server::http();
    let mut scene = Scene::new(X86_64);
    scene.set("ONNXRUNTIME_MIRROR", server.url("")).set("DOCS_RS", "1");
    let lib = scene.probe().unwrap();
    assert!(lib.is_skipped());
    assert_eq!(server.requests().len(), 0);
    assert!(scene.entries().is_empty());
}

#[test]
fn the_report_names_the_download_source_when_sources_are_mixed() {
    let mut scene = Scene::new(X86_64);
    scene.set("ONNXRUNTIME_SOURCES", "env,download").set("ONNXRUNTIME_OFFLINE", "1");
    let err = scene.probe().unwrap_err();
    let report = err.report().unwrap();
    let kinds: Vec<SourceKind> = report.attempts.iter().map(|a| a.source).collect();
    assert_eq!(kinds, [SourceKind::Env, SourceKind::Download]);
    assert!(matches!(report.attempts[0].verdict, Verdict::Skipped { .. }));
    assert!(matches!(report.attempts[1].verdict, Verdict::Failed { .. }));
}

#[test]
fn a_gpu_variant_fetches_its_own_archive_and_stages_its_provider_libraries() {
    let server = Server::http();
    let mut scene = Scene::new(X86_64);
    let cpu = scene.archive("1.22.0", X86_64, TGZ);
    // A GPU archive: the same layout plus the CUDA provider library.
    let gpu_asset = "onnxruntime-linux-x64-gpu-1.22.0.tgz";
    let top = "onnxruntime-linux-x64-gpu-1.22.0";
    let root = support::official_tree(&scene.path("gpu-tree"), top, "1.22.0", X86_64);
    support::build_shared(&root.join("lib"), "libonnxruntime_providers_cuda.so", None, "1.22.0", X86_64);
    let gpu = archive::tgz(&root, top, gpu_asset);
    for a in [&cpu, &gpu] {
        server.route(&a.url_path("1.22.0"), Reply::ok(a.bytes.clone()));
    }
    scene
        .manifest(&[
            cpu.manifest_line("1.22.0", "linux-x64", "cpu"),
            gpu.manifest_line("1.22.0", "linux-x64", "cuda12"),
        ])
        .set("ONNXRUNTIME_MIRROR", server.url(""))
        .set("ONNXRUNTIME_VARIANT", "cuda12");
    let lib = scene.probe().unwrap();
    assert_eq!(server.hits(&gpu.url_path("1.22.0")), 1);
    assert_eq!(server.hits(&cpu.url_path("1.22.0")), 0);
    assert!(lib.lib_dir.join("libonnxruntime_providers_cuda.so").exists());
    assert!(lib.lib_dir.join("libonnxruntime_providers_shared.so").exists());
    assert_eq!(lib.variant, onnxruntime_provision::Variant::Cuda12);

    // cuda13 is not listed for 1.22.0: an error listing what exists, never the CPU build instead.
    scene.set("ONNXRUNTIME_VARIANT", "cuda13");
    let err = scene.probe().unwrap_err();
    assert!(matches!(download_error(&err), DownloadError::NoArtifact { .. }), "{err}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_body_larger_than_the_manifest_says_is_stopped_and_nothing_kept() {
    let server = Server::http();
    let mut scene = Scene::new(X86_64);
    let archive = scene.archive("1.22.0", X86_64, TGZ);
    server.route(&archive.url_path("1.22.0"), Reply::ok(archive.bytes.clone()));
    let short = archive.bytes.len() - 1;
    let line = format!("1.22.0 linux-x64 cpu {TGZ} {} {short} a size one byte short\n", archive.sha256);
    scene.manifest(&[line]).set("ONNXRUNTIME_MIRROR", server.url(""));
    let err = scene.probe().unwrap_err();
    assert!(matches!(download_error(&err), DownloadError::TooLarge { limit, .. } if *limit == short as u64), "{err}");
    assert!(err.to_string().contains("not the pinned file"), "{err}");
    assert_eq!(server.hits(&archive.url_path("1.22.0")), 1);
    assert!(scene.entries().is_empty() && scene.temps().is_empty());
}

#[test]
fn a_survey_picks_what_a_build_would_use_in_source_order() {
    let server = Server::http();
    let mut scene = Scene::new(X86_64);
    let archive = scene.archive("1.22.0", X86_64, TGZ);
    server.route(&archive.url_path("1.22.0"), Reply::ok(archive.bytes.clone()));
    let system = support::official_tree(&scene.path("system"), "ort", "1.22.0", X86_64);
    scene.manifest(&[archive.manifest_line("1.22.0", "linux-x64", "cpu")]).set("ONNXRUNTIME_MIRROR", server.url(""));
    let survey = |order: &str| {
        Config::new()
            .env(Env::from_vars(scene.vars.clone()).with("ONNXRUNTIME_SOURCES", order))
            .system_dirs([system.join("lib")])
            .version("1.22")
            .survey()
            .unwrap()
    };
    // Download first and not cached: a build would download, not use the system library after it.
    let s = survey("download,system");
    let chosen = &s.report.attempts[s.chosen.unwrap()];
    assert_eq!(chosen.source, SourceKind::Download);
    assert!(matches!(chosen.verdict, Verdict::WouldDownload { .. }));
    assert!(s.report.attempts.iter().any(|a| a.verdict.is_accepted()), "the system library is still shown");
    let s = survey("system,download");
    assert_eq!(s.report.attempts[s.chosen.unwrap()].source, SourceKind::System);
    assert_eq!(server.requests().len(), 0, "a survey downloads nothing");
}

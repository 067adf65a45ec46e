//! "Disk full while downloading or extracting" (TEST-MATRIX.md): the cache is a 2 MiB tmpfs and the
//! release does not fit. Mounting needs root, as CI runs; elsewhere the test fails saying so (a skipped
//! row would read as a covered one).
#![allow(clippy::result_large_err)]

mod support;

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use onnxruntime_provision::DownloadError;
use support::X86_64;
use support::archive;
use support::scene::{Scene, download_error};
use support::server::{Reply, Server};

const TOP: &str = "onnxruntime-linux-x64-1.22.0";

/// A tmpfs mounted for the test's lifetime.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        let uid = Command::new("id").arg("-u").output().expect("id runs");
        assert_eq!(
            String::from_utf8_lossy(&uid.stdout).trim(),
            "0",
            "this test mounts a small tmpfs as the cache and needs root: run it as root (CI does), e.g. `sudo -E cargo test --test disk_full`"
        );
        fs::create_dir_all(at).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755"), "tmpfs"])
            .arg(at)
            .status()
            .expect("mount runs");
        assert!(status.success(), "mount -t tmpfs failed (a container without CAP_SYS_ADMIN?)");
        Tmpfs(at.to_path_buf())
    }

    /// Bytes in use, from statvfs through `df`.
    fn used_kib(&self) -> u64 {
        let out = Command::new("df").arg("--output=used").arg("-k").arg(&self.0).output().expect("df runs");
        String::from_utf8_lossy(&out.stdout).lines().nth(1).and_then(|l| l.trim().parse().ok()).expect("df output")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Bytes deflate cannot shrink.
fn incompressible(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A file added to the release tree: its path under the root, and its bytes.
type Extra = (&'static str, Vec<u8>);

/// Every file and directory under `dir`.
fn all_paths(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                dirs.push(path.clone());
            }
            out.push(path);
        }
    }
    out
}

#[test]
fn a_full_disk_is_a_cache_error_naming_the_path_and_leaves_no_temps_and_no_marker() {
    // (what fills the disk, archive format, files added to the release tree)
    let cases: [(&str, &str, Vec<Extra>); 3] = [
        ("unpacking a .tgz as it streams in", "tgz", vec![("share/padding.bin", incompressible(3 << 20))]),
        ("saving a .zip before unpacking it", "zip", vec![("share/padding.bin", incompressible(3 << 20))]),
        (
            "unpacking a .zip that fit on the disk",
            "zip",
            vec![("share/noise.bin", incompressible(600 << 10)), ("share/zeros.bin", vec![0; 3 << 20])],
        ),
    ];
    for (what, kind, extra) in cases {
        let server = Server::http();
        let mut scene = Scene::new(X86_64);
        let asset = format!("{TOP}.{kind}");
        let tree = scene.path("tree");
        let root = support::official_tree(&tree, TOP, "1.22.0", X86_64);
        for (name, bytes) in &extra {
            let path = root.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, bytes).unwrap();
        }
        let archive = if kind == "tgz" { archive::tgz(&root, TOP, &asset) } else { archive::zip(&root, TOP, &asset) };
        server.route(&archive.url_path("1.22.0"), Reply::ok(archive.bytes.clone()));
        scene
            .manifest(&[archive.manifest_line("1.22.0", "linux-x64", "cpu")])
            .set("ONNXRUNTIME_MIRROR", server.url(""));
        let disk = Tmpfs::mount(&scene.cache(), "2m");
        if what.contains("fit") {
            assert!(archive.bytes.len() < 1 << 20, "{what}: the archive is {} bytes", archive.bytes.len());
        }

        let err = scene.probe().expect_err("the release cannot fit");
        match download_error(&err) {
            DownloadError::Cache { path, source, .. } => {
                assert!(path.starts_with(scene.cache()), "{what}: {}", path.display());
                assert_eq!(source.kind(), ErrorKind::StorageFull, "{what}: {source}");
                assert!(err.to_string().contains(&path.display().to_string()), "{what}: {err}");
                assert!(err.to_string().contains("free space"), "{what}: {err}");
            }
            other => panic!("{what}: expected a cache error, got {other}"),
        }
        assert!(scene.entries().is_empty(), "{what}: published {:?}", scene.entries());
        assert!(scene.temps().is_empty(), "{what}: temps left {:?}", scene.temps());
        let markers: Vec<_> = all_paths(&scene.cache()).into_iter().filter(|p| p.ends_with("marker")).collect();
        assert!(markers.is_empty(), "{what}: {markers:?}");
        // Only the lock file and empty folders remain.
        assert!(disk.used_kib() < 64, "{what}: {} KiB still used", disk.used_kib());
        drop(disk);
        assert_eq!(server.requests().len(), 1, "{what}: a full disk is not worth a retry");
    }
}

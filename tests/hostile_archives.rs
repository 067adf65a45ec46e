//! Every "Archive contents" row of TEST-MATRIX.md end to end: the hostile archive is served from
//! loopback under a manifest that pins its own SHA-256, so it passes the checksum and reaches the
//! extractor through the probe. Each refusal checks the error kind, that nothing outside the cache's
//! private staging area changed (a sentinel file and its mode, an `outside/` folder that escaping
//! links aim at, the scene's listing), that no cache entry was published, and that `<cache>/.tmp` is
//! empty afterwards. The extractor-level tests (src/extract/tests.rs) cover each rule in more forms.
#![allow(clippy::result_large_err)]

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use onnxruntime_provision::{DownloadError, Error, Library};
use support::X86_64;
use support::archive::{Archive, sha256_hex};
use support::hostile::*;
use support::scene::{Scene, download_error};
use support::server::{Reply, Server};

const TOP: &str = "onnxruntime-linux-x64-1.22.0";
const TGZ: &str = "onnxruntime-linux-x64-1.22.0.tgz";
const ZIP: &str = "onnxruntime-linux-x64-1.22.0.zip";
const SENTINEL: &[u8] = b"must not change\n";

/// One archive served by one loopback server, probed in a fresh scene with a sentinel beside the cache.
struct Case {
    scene: Scene,
    _server: Server,
    /// Every path under the scene except the cache, with its mode, before the probe.
    before: Vec<(PathBuf, u32)>,
}

impl Case {
    fn new(asset: &str, bytes: Vec<u8>) -> Case {
        Case::with(asset, |_| bytes)
    }

    /// An archive made knowing the absolute path of the `outside/` folder beside the cache.
    fn with(asset: &str, make: impl FnOnce(&Path) -> Vec<u8>) -> Case {
        let server = Server::http();
        let mut scene = Scene::new(X86_64);
        let bytes = make(&scene.path("outside"));
        let archive = Archive { asset: asset.to_string(), sha256: sha256_hex(&bytes), bytes };
        server.route(&archive.url_path("1.22.0"), Reply::ok(archive.bytes.clone()));
        scene
            .manifest(&[archive.manifest_line("1.22.0", "linux-x64", "cpu")])
            .set("ONNXRUNTIME_MIRROR", server.url(""));
        let sentinel = scene.path("sentinel");
        fs::write(&sentinel, SENTINEL).unwrap();
        fs::set_permissions(&sentinel, fs::Permissions::from_mode(0o640)).unwrap();
        fs::create_dir(scene.path("outside")).unwrap();
        let before = listing(scene.tmp.path());
        Case { scene, _server: server, before }
    }

    fn outside(&self) -> PathBuf {
        self.scene.path("outside")
    }

    fn probe(&self) -> Result<Library, Error> {
        self.scene.probe()
    }

    /// The probe refuses the archive; `what` must appear in the error. Returns the download error's text.
    fn refused(&self, what: &str) -> String {
        let err = self.probe().expect_err("the archive must be refused");
        let text = match download_error(&err) {
            e @ (DownloadError::Archive { .. } | DownloadError::Layout { .. }) => e.to_string(),
            other => panic!("expected an archive or layout error, got {other}"),
        };
        assert!(text.contains(what), "{what:?} missing from: {text}");
        self.assert_nothing_kept();
        text
    }

    fn assert_nothing_kept(&self) {
        assert_eq!(fs::read(self.scene.path("sentinel")).unwrap(), SENTINEL, "sentinel content changed");
        assert_eq!(listing(self.scene.tmp.path()), self.before, "something outside the cache changed");
        assert_eq!(fs::read_dir(self.outside()).unwrap().count(), 0, "something was written outside");
        assert!(self.scene.entries().is_empty(), "a cache entry was published: {:?}", self.scene.entries());
        assert!(self.scene.temps().is_empty(), "temps left: {:?}", self.scene.temps());
    }
}

/// Paths and modes under `dir`, the cache excluded, without following links.
fn listing(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path == dir.join("cache") {
                continue;
            }
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                dirs.push(path.clone());
            }
            out.push((path, meta.permissions().mode() & 0o7777));
        }
    }
    out.sort();
    out
}

fn tgz_case(entries: &[TarEntry]) -> Case {
    Case::new(TGZ, tgz(entries))
}

fn zip_case(entries: &[ZipEntry]) -> Case {
    Case::new(ZIP, zip_bytes(entries))
}

fn ok_file() -> (TarEntry, ZipEntry) {
    (tar_file(&format!("{TOP}/ok"), b"ok"), zip_file(&format!("{TOP}/ok"), b"ok"))
}

#[test]
fn unsafe_entry_names_are_refused() {
    let names: [&[u8]; 6] = [b"../x", b"a/../../x", b"/x", b"C:\\x", b"..\\..\\x", b"top/a\0b"];
    for name in names {
        let (tar_ok, zip_ok) = ok_file();
        let mut entry = tar_file("placeholder", b"data");
        if name.contains(&0) {
            // A ustar name ends at NUL; PAX carries a name with NUL in it whole.
            entry.pax = vec![("path", name.to_vec())];
        } else {
            entry.name = name.to_vec();
        }
        tgz_case(&[tar_ok, entry]).refused("entry `");
        zip_case(&[zip_ok, ZipEntry { name: name.to_vec(), ..zip_file("", b"data") }]).refused("entry `");
    }
}

#[test]
fn escaping_symlinks_are_refused_and_nothing_is_written_through_them() {
    // The archive unpacks into <cache>/.tmp/<staging>/content/: five levels above `evil` is the scene.
    let targets: [&dyn Fn(&Path) -> String; 2] =
        [&|outside| outside.to_str().unwrap().to_string(), &|_| "../../../../../outside".to_string()];
    let link = format!("{TOP}/evil");
    for target in targets {
        for (tar_through, zip_through) in [
            (tar_file(&format!("{link}/pwned"), b"pwned"), zip_file(&format!("{link}/pwned"), b"pwned")),
            (tar_dir(&format!("{link}/dir/")), zip_dir(&format!("{link}/dir/"))),
        ] {
            Case::with(TGZ, |outside| {
                tgz(&[tar_dir(&format!("{TOP}/")), tar_link(&link, &target(outside)), tar_through.clone()])
            })
            .refused("symlink `");
            Case::with(ZIP, |outside| {
                zip_bytes(&[zip_dir(&format!("{TOP}/")), zip_link(&link, &target(outside)), zip_through.clone()])
            })
            .refused("symlink `");
        }
    }
}

#[test]
fn hardlinks_devices_and_fifos_are_refused() {
    for (kind, name) in [(b'1', "hardlink"), (b'3', "character device"), (b'4', "block device"), (b'6', "fifo")] {
        let (tar_ok, _) = ok_file();
        let entry = TarEntry { link: format!("{TOP}/ok").into_bytes(), ..tar_special(&format!("{TOP}/b"), kind) };
        let text = tgz_case(&[tar_ok, entry]).refused("only files, directories and symlinks are allowed");
        assert!(text.to_lowercase().contains(name), "{name}: {text}");
    }
    for mode in [0o020644, 0o060644, 0o010644] {
        let (_, zip_ok) = ok_file();
        zip_case(&[zip_ok, zip_mode(&format!("{TOP}/b"), mode)])
            .refused("only files, directories and symlinks are allowed");
    }
}

#[test]
fn the_same_path_twice_is_refused() {
    let twice = format!("{TOP}/lib/x");
    tgz_case(&[tar_file(&twice, b"1"), tar_file(&twice, b"2")]).refused("appears twice");
    tgz_case(&[tar_file(&twice, b"1"), tar_file(&format!("{TOP}/lib/./x"), b"2")]).refused("appears twice");
    zip_case(&[zip_file(&twice, b"1"), zip_file(&format!("{TOP}//lib/x"), b"2")]).refused("appears twice");
    // The zip crate keeps one of two identical names; the refusal then cannot name the entry.
    zip_case(&[zip_file(&twice, b"1"), zip_file(&twice, b"2")]).refused("twice");
}

/// The official tree with hostile modes: a setuid library, a world-writable file, an unreadable header,
/// a sticky world-writable folder.
fn hostile_modes(mut entries: Vec<TarEntry>) -> Vec<TarEntry> {
    for entry in &mut entries {
        let name = String::from_utf8(entry.name.clone()).unwrap();
        entry.mode = match name.as_str() {
            n if n.ends_with("libonnxruntime.so.1.22.0") => 0o4755,
            n if n.ends_with("VERSION_NUMBER") => 0o777,
            n if n.ends_with(".h") => 0o000,
            n if n.ends_with("include/") => 0o7777,
            _ => entry.mode,
        };
    }
    entries
}

#[test]
fn setuid_and_odd_modes_end_up_at_most_0755_and_the_probe_succeeds() {
    let trees = support::tempdir();
    let root = support::official_tree(trees.path(), TOP, "1.22.0", X86_64);
    let tar = hostile_modes(tar_entries_of(&root, TOP));
    let zip: Vec<ZipEntry> = zip_entries_of(&root, TOP)
        .into_iter()
        .zip(&tar)
        .map(|(z, t)| match z.mode {
            Some(m) if m & 0o170000 == 0o100000 || m & 0o170000 == 0o040000 => {
                ZipEntry { mode: Some((m & 0o170000) | t.mode), ..z }
            }
            _ => z,
        })
        .collect();
    for case in [tgz_case(&tar), zip_case(&zip)] {
        let lib = case.probe().unwrap_or_else(|e| panic!("{e}"));
        let entry = case.scene.cache().join(case.scene.entries().first().expect("published"));
        let mut checked = 0;
        let mut dirs = vec![entry.clone()];
        while let Some(dir) = dirs.pop() {
            for item in fs::read_dir(&dir).unwrap() {
                let path = item.unwrap().path();
                let meta = fs::symlink_metadata(&path).unwrap();
                if meta.file_type().is_symlink() {
                    continue;
                }
                let mode = meta.permissions().mode() & 0o7777;
                assert_eq!(mode & !0o755, 0, "{} has mode {mode:o}", path.display());
                if meta.is_dir() {
                    dirs.push(path);
                } else {
                    // Readable by its owner, whatever the archive said.
                    fs::read(&path).unwrap();
                }
                checked += 1;
            }
        }
        assert!(checked >= 8, "walked only {checked} paths");
        assert!(lib.library_file.is_file());
        assert!(case.scene.temps().is_empty());
        assert_eq!(fs::read(case.scene.path("sentinel")).unwrap(), SENTINEL);
    }
}

/// A gzip stream of `header` then `zero_mib` MiB of zeros then `tail`, built from one compressed MiB
/// repeated: each piece ends with a full flush (byte-aligned, no back-references across pieces), so
/// the stream is valid without compressing gigabytes in a test.
fn gzip_of_zeros(header: &[u8], zero_mib: u64, tail: &[u8]) -> Vec<u8> {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    let piece = |data: &[u8], flush: FlushCompress| {
        let mut compress = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(data.len() + 1024);
        compress.compress_vec(data, &mut out, flush).unwrap();
        assert_eq!(compress.total_in(), data.len() as u64);
        out
    };
    let zeros = vec![0u8; 1 << 20];
    let zero_piece = piece(&zeros, FlushCompress::Full);
    let mut crc = Crc::new();
    crc.update(header);
    let mut zero_crc = Crc::new();
    zero_crc.update(&zeros);
    for _ in 0..zero_mib {
        crc.combine(&zero_crc);
    }
    crc.update(tail);
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    out.extend(piece(header, FlushCompress::Full));
    for _ in 0..zero_mib {
        out.extend(&zero_piece);
    }
    out.extend(piece(tail, FlushCompress::Finish));
    let total = header.len() as u64 + (zero_mib << 20) + tail.len() as u64;
    out.extend(crc.sum().to_le_bytes());
    out.extend((total as u32).to_le_bytes());
    out
}

#[test]
fn a_gzip_bomb_past_the_per_file_cap_is_refused_before_writing() {
    // 5 GiB of zeros, about 5 MB compressed: past the default 4 GiB per-file cap (the total cap of
    // 8 GiB is checked with small limits at the extractor level; writing 8 GiB here would not be).
    let size = 5u64 << 30;
    let header = tar_header(format!("{TOP}/lib/zeros").as_bytes(), b'0', size, 0o644, b"");
    let bytes = gzip_of_zeros(&header, 5 << 10, &[0; 1024]);
    assert!(bytes.len() < 8 << 20, "compressed to {} bytes", bytes.len());
    let case = Case::new(TGZ, bytes);
    case.refused("past the per-file limit");
}

#[test]
fn a_zip_entry_inflating_past_its_declared_size_is_stopped() {
    let liar = ZipEntry { declared: Some(1024), ..zip_file(&format!("{TOP}/lib/liar"), &vec![0; 16 << 20]) };
    zip_case(&[liar]).refused("declared size of 1024");
}

#[test]
fn truncated_and_corrupt_archives_are_refused() {
    let entries = vec![tar_file(&format!("{TOP}/a"), &[b'a'; 700]), tar_file(&format!("{TOP}/b"), &[b'b'; 100])];
    let body = tar_body(&entries);
    // Cut at a 512-byte boundary (no end marker): the tar reader alone would call this complete.
    Case::new(TGZ, gzip(&body[..512 * 3])).refused("corrupt or truncated");
    Case::new(TGZ, gzip(&body[..512 + 300])).refused("corrupt or truncated");
    let whole = tgz(&entries);
    let mut garbage = whole.clone();
    garbage.extend(b"trailing garbage");
    Case::new(TGZ, garbage).refused("corrupt or truncated");
    let mut flipped =
        tgz(&[tar_file(&format!("{TOP}/a"), &(0..20_000u32).flat_map(u32::to_le_bytes).collect::<Vec<_>>())]);
    let middle = flipped.len() / 2;
    flipped[middle..middle + 4].iter_mut().for_each(|b| *b ^= 0x55);
    Case::new(TGZ, flipped).refused("corrupt or truncated");

    let zip = zip_bytes(&[zip_file(&format!("{TOP}/a"), &[b'a'; 700]), zip_file(&format!("{TOP}/b"), b"b")]);
    Case::new(ZIP, zip[..zip.len() - 30].to_vec()).refused("corrupt or truncated");
    let mut trailing = zip.clone();
    trailing.extend(b"trailing garbage");
    Case::new(ZIP, trailing).refused("corrupt or truncated");
    let data: Vec<u8> = (0..20_000u32).flat_map(u32::to_le_bytes).collect();
    let mut bad = deflate(&data);
    let middle = bad.len() / 2;
    bad[middle..middle + 4].iter_mut().for_each(|b| *b ^= 0x55);
    // Flipped deflate bits either break the stream or inflate past the declared size, depending on
    // where the inflater first notices; both refuse the archive.
    let text = zip_case(&[ZipEntry { compressed: Some(bad), ..zip_file(&format!("{TOP}/a"), &data) }]).refused("");
    assert!(text.contains("corrupt or truncated") || text.contains("past its declared size"), "{text}");
}

#[test]
fn an_archive_without_the_expected_layout_is_refused_listing_what_it_found() {
    let text = tgz_case(&[tar_file("a/lib/x", b"x"), tar_file("b/README", b"r")]).refused("layout not recognised");
    assert!(text.contains("a/") && text.contains("b/"), "{text}");
    let text = zip_case(&[zip_file(&format!("{TOP}/README.md"), b"r"), zip_file(&format!("{TOP}/include/x.h"), b"")])
        .refused("layout not recognised");
    assert!(text.contains(&format!("{TOP}/README.md")), "{text}");
}

#[test]
fn a_pax_size_disagreeing_with_the_header_is_refused() {
    // RUSTSEC-2026-0068: two readers would split the stream differently.
    let entry = TarEntry {
        pax: vec![("size", b"100".to_vec())],
        header_size: Some(700),
        ..tar_file(&format!("{TOP}/a"), &[b'a'; 700])
    };
    tgz_case(&[entry, tar_file(&format!("{TOP}/b"), b"b")]).refused("PAX size");
}

#[test]
fn the_official_symlink_chain_is_kept_and_works() {
    let trees = support::tempdir();
    let root = support::official_tree(trees.path(), TOP, "1.22.0", X86_64);
    for case in [tgz_case(&tar_entries_of(&root, TOP)), zip_case(&zip_entries_of(&root, TOP))] {
        let lib = case.probe().unwrap_or_else(|e| panic!("{e}"));
        let lib_dir = case.scene.cache().join(&case.scene.entries()[0]).join("content").join(TOP).join("lib");
        assert_eq!(fs::read_link(lib_dir.join("libonnxruntime.so")).unwrap(), Path::new("libonnxruntime.so.1"));
        assert_eq!(fs::read_link(lib_dir.join("libonnxruntime.so.1")).unwrap(), Path::new("libonnxruntime.so.1.22.0"));
        assert_eq!(
            fs::read(lib_dir.join("libonnxruntime.so")).unwrap(),
            fs::read(root.join("lib/libonnxruntime.so.1.22.0")).unwrap()
        );
        assert!(lib.library_file.is_file());
    }
}

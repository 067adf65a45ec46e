//! Every row of TEST-MATRIX.md "Archive contents", for `.tgz` and `.zip`, on archives built here byte by
//! byte (tar headers written raw, because `tar::Header::set_path` refuses the hostile names we need).
//! Each refusal checks the error's kind and that nothing beside `dest` changed.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::*;
use crate::test_support::hostile::*;

// ---------------------------------------------------------------------------------------------------
// The place archives are unpacked into, with things beside it that must not change

const SENTINEL: &[u8] = b"must not change\n";

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    dest: PathBuf,
    sentinel: PathBuf,
    /// An empty directory beside `dest`, the target of escaping links.
    outside: PathBuf,
    /// Where zip files are written, away from `root`.
    archives: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let (dest, sentinel, outside) = (root.join("dest"), root.join("sentinel"), root.join("outside"));
        fs::create_dir(&dest).unwrap();
        fs::create_dir(&outside).unwrap();
        fs::write(&sentinel, SENTINEL).unwrap();
        fs::set_permissions(&sentinel, fs::Permissions::from_mode(0o640)).unwrap();
        Fixture { _dir: dir, root, dest, sentinel, outside, archives: tempfile::tempdir().unwrap() }
    }

    fn tgz(&self, bytes: &[u8]) -> Result<Unpacked, ArchiveError> {
        self.tgz_with(bytes, &Limits::default())
    }

    fn tgz_with(&self, bytes: &[u8], limits: &Limits) -> Result<Unpacked, ArchiveError> {
        unpack_tar_gz(&mut { bytes }, &self.dest, limits)
    }

    fn zip(&self, bytes: &[u8]) -> Result<Unpacked, ArchiveError> {
        self.zip_with(bytes, &Limits::default())
    }

    fn zip_with(&self, bytes: &[u8], limits: &Limits) -> Result<Unpacked, ArchiveError> {
        let path = self.archives.path().join("archive.zip");
        fs::write(&path, bytes).unwrap();
        unpack_zip(&path, &self.dest, limits)
    }

    /// Nothing beside `dest` was created or changed.
    fn assert_untouched(&self) {
        assert_eq!(fs::read(&self.sentinel).unwrap(), SENTINEL, "sentinel content changed");
        let mode = fs::symlink_metadata(&self.sentinel).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o640, "sentinel mode changed");
        let mut beside: Vec<_> = fs::read_dir(&self.root).unwrap().map(|e| e.unwrap().file_name()).collect();
        beside.sort();
        assert_eq!(beside, ["dest", "outside", "sentinel"], "something was created beside dest");
        assert_eq!(fs::read_dir(&self.outside).unwrap().count(), 0, "something was written outside dest");
    }

    fn mode(&self, path: &str) -> u32 {
        fs::symlink_metadata(self.dest.join(path)).unwrap().permissions().mode() & 0o7777
    }
}

fn small_limits() -> Limits {
    Limits { max_total_bytes: 8 << 20, max_entries: 1000, max_entry_bytes: 8 << 20 }
}

/// Runs one archive through both formats' refusal checks.
fn refused(fixture: &Fixture, result: Result<Unpacked, ArchiveError>) -> ArchiveError {
    let err = result.expect_err("the archive must be refused");
    fixture.assert_untouched();
    assert!(!err.to_string().is_empty());
    err
}

// ---------------------------------------------------------------------------------------------------
// Happy path: the layout of an official Linux archive

const LIB: &[u8] = b"\x7fELF stand-in for libonnxruntime.so.1.22.0";

fn official_tar() -> Vec<TarEntry> {
    let top = "onnxruntime-linux-x64-1.22.0";
    vec![
        tar_dir(&format!("{top}/")),
        tar_dir(&format!("{top}/lib/")),
        TarEntry { mode: 0o755, ..tar_file(&format!("{top}/lib/libonnxruntime.so.1.22.0"), LIB) },
        tar_link(&format!("{top}/lib/libonnxruntime.so.1"), "libonnxruntime.so.1.22.0"),
        tar_link(&format!("{top}/lib/libonnxruntime.so"), "libonnxruntime.so.1"),
        tar_file(&format!("{top}/include/x.h"), b"#pragma once\n"),
        tar_file(&format!("{top}/VERSION_NUMBER"), b"1.22.0\n"),
    ]
}

fn official_zip() -> Vec<ZipEntry> {
    let top = "onnxruntime-linux-x64-1.22.0";
    vec![
        zip_dir(&format!("{top}/")),
        zip_dir(&format!("{top}/lib/")),
        ZipEntry { mode: Some(0o100755), ..zip_file(&format!("{top}/lib/libonnxruntime.so.1.22.0"), LIB) },
        zip_link(&format!("{top}/lib/libonnxruntime.so.1"), "libonnxruntime.so.1.22.0"),
        zip_link(&format!("{top}/lib/libonnxruntime.so"), "libonnxruntime.so.1"),
        zip_file(&format!("{top}/include/x.h"), b"#pragma once\n"),
        zip_file(&format!("{top}/VERSION_NUMBER"), b"1.22.0\n"),
    ]
}

fn assert_official_layout(fixture: &Fixture, unpacked: Unpacked) {
    let top = fixture.dest.join("onnxruntime-linux-x64-1.22.0");
    // 3 files; top, lib (listed) and include (implied); the two links.
    let bytes = (LIB.len() + "#pragma once\n".len() + "1.22.0\n".len()) as u64;
    assert_eq!(unpacked, Unpacked { files: 3, dirs: 3, symlinks: 2, bytes });
    assert_eq!(fs::read(top.join("lib/libonnxruntime.so")).unwrap(), LIB, "read through the whole chain");
    assert_eq!(fs::read_link(top.join("lib/libonnxruntime.so")).unwrap(), Path::new("libonnxruntime.so.1"));
    assert_eq!(fs::read_link(top.join("lib/libonnxruntime.so.1")).unwrap(), Path::new("libonnxruntime.so.1.22.0"));
    assert_eq!(fs::read(top.join("VERSION_NUMBER")).unwrap(), b"1.22.0\n");
    assert_eq!(fixture.mode("onnxruntime-linux-x64-1.22.0/lib/libonnxruntime.so.1.22.0"), 0o755);
    assert_eq!(fixture.mode("onnxruntime-linux-x64-1.22.0/include/x.h"), 0o644);
    assert_eq!(fixture.mode("onnxruntime-linux-x64-1.22.0/include"), 0o755);
    assert_eq!(find_root(&fixture.dest).unwrap(), top);
    fixture.assert_untouched();
}

#[test]
fn official_layout_tgz_unpacks_with_its_symlink_chain() {
    let fixture = Fixture::new();
    let unpacked = fixture.tgz(&tgz(&official_tar())).unwrap();
    assert_official_layout(&fixture, unpacked);
}

#[test]
fn official_layout_zip_unpacks_with_its_symlink_chain() {
    let fixture = Fixture::new();
    let unpacked = fixture.zip(&zip_bytes(&official_zip())).unwrap();
    assert_official_layout(&fixture, unpacked);
}

#[test]
fn symlink_chain_may_run_through_other_folders_inside_the_root() {
    for (dir_link, file_link) in [("top/lib64", "lib"), ("top/a/so", "../lib/libx.so")] {
        let fixture = Fixture::new();
        let entries = [tar_file("top/lib/libx.so", b"x"), tar_link(dir_link, file_link)];
        fixture.tgz(&tgz(&entries)).unwrap();
        assert_eq!(fs::read_link(fixture.dest.join(dir_link)).unwrap(), Path::new(file_link));
        fixture.assert_untouched();
    }
}

// ---------------------------------------------------------------------------------------------------
// Names

/// Every hostile name of the matrix, and the Windows forms around them.
const UNSAFE_NAMES: &[&[u8]] = &[
    b"../x",
    b"a/../../x",
    b"a/../b",
    b"/x",
    b"C:\\x",
    b"C:x",
    b"..\\..\\x",
    b"a\\b",
    b"a/b\0c",
    b"a/b\nc",
    b"",
    b"top/con.txt",
    b"top/a:stream",
    b"top/dot.",
    b"\xff\xfe",
];

#[test]
fn unsafe_names_refuse_the_tgz() {
    for name in UNSAFE_NAMES {
        for kind in [b'0', b'5', b'2'] {
            let fixture = Fixture::new();
            // A safe file first, so refusing happens with part of the tree written.
            let mut entry = TarEntry { kind, link: b"t".to_vec(), ..tar_file("x", b"data") };
            if name.contains(&0) {
                // A ustar name ends at NUL; PAX carries names with NUL in them whole.
                entry.pax = vec![("path", name.to_vec())];
            } else {
                entry.name = name.to_vec();
            }
            let err = refused(&fixture, fixture.tgz(&tgz(&[tar_file("top/ok", b"ok"), entry])));
            assert!(matches!(err, ArchiveError::UnsafePath { .. }), "{name:?} type {kind}: {err}");
        }
    }
}

#[test]
fn unsafe_names_refuse_the_zip() {
    for name in UNSAFE_NAMES {
        for entry in [zip_file("", b"data"), zip_dir(""), zip_link("", "t")] {
            let fixture = Fixture::new();
            let entry = ZipEntry { name: name.to_vec(), ..entry };
            let err = refused(&fixture, fixture.zip(&zip_bytes(&[zip_file("top/ok", b"ok"), entry])));
            assert!(matches!(err, ArchiveError::UnsafePath { .. }), "{name:?}: {err}");
        }
    }
}

#[test]
fn checked_path_normalises_and_refuses() {
    assert_eq!(checked_path(b"a/./b//c/").unwrap(), ["a", "b", "c"]);
    assert_eq!(checked_path(b"./").unwrap(), Vec::<&str>::new());
    assert_eq!(checked_path(b"lib/libonnxruntime.so.1.22.0").unwrap(), ["lib", "libonnxruntime.so.1.22.0"]);
    for name in UNSAFE_NAMES {
        assert!(checked_path(name).is_err(), "{name:?}");
    }
    for fine in ["COM10", "console.h", "nul_provider.h", "..foo", "a..b"] {
        assert!(checked_path(fine.as_bytes()).is_ok(), "{fine}");
    }
}

/// A GNU long-name entry: names the entry after it.
fn tar_long_name(name: &str) -> TarEntry {
    let mut data = name.as_bytes().to_vec();
    data.push(0);
    TarEntry { data, ..tar_special("././@LongLink", b'L') }
}

#[test]
fn long_names_from_gnu_and_pax_headers_are_used_and_checked() {
    let long = format!("top/include/{}.h", "n".repeat(120));
    let fixture = Fixture::new();
    let entries = [
        tar_long_name(&long),
        tar_file("ignored-short-name", b"gnu"),
        TarEntry { pax: vec![("path", format!("{long}pp").into_bytes())], ..tar_file("ignored", b"pax") },
        TarEntry { pax: vec![("linkpath", long.clone().into_bytes())], ..tar_link("top/l", "ignored") },
    ];
    fixture.tgz(&tgz(&entries)).unwrap();
    assert_eq!(fs::read(fixture.dest.join(&long)).unwrap(), b"gnu");
    assert_eq!(fs::read(fixture.dest.join(format!("{long}pp"))).unwrap(), b"pax");
    assert_eq!(fs::read_link(fixture.dest.join("top/l")).unwrap(), Path::new(&long));

    for entries in [
        vec![tar_long_name(&format!("top/../../{long}")), tar_file("x", b"x")],
        vec![TarEntry { pax: vec![("path", b"/etc/x".to_vec())], ..tar_file("x", b"x") }],
    ] {
        let fixture = Fixture::new();
        let err = refused(&fixture, fixture.tgz(&tgz(&entries)));
        assert!(matches!(err, ArchiveError::UnsafePath { .. }), "{err}");
    }
    let fixture = Fixture::new();
    let entry = TarEntry { pax: vec![("linkpath", b"../../outside".to_vec())], ..tar_link("top/l", "fine") };
    let err = refused(&fixture, fixture.tgz(&tgz(&[entry])));
    assert!(matches!(err, ArchiveError::EscapingLink { .. }), "{err}");
}

#[test]
fn root_directory_entry_is_accepted() {
    // `tar czf x.tgz .` starts with `./`.
    let fixture = Fixture::new();
    let unpacked = fixture.tgz(&tgz(&[tar_dir("./"), tar_file("./lib/x", b"x")])).unwrap();
    assert_eq!(unpacked.files, 1);
    assert_eq!(find_root(&fixture.dest).unwrap(), fixture.dest);
}

// ---------------------------------------------------------------------------------------------------
// Symlinks

/// Links that leave the root, each followed by a file written through it.
fn escaping_links(fixture: &Fixture) -> Vec<(String, String)> {
    let outside = fixture.outside.to_str().unwrap().to_string();
    vec![
        ("top/evil".into(), outside.clone()),
        ("top/evil".into(), format!("{outside}/")),
        ("top/evil".into(), "../../outside".into()),
        ("evil".into(), "../outside".into()),
        ("top/evil".into(), "./../.././outside".into()),
        ("top/evil".into(), "..\\..\\outside".into()),
        ("top/evil".into(), "C:/outside".into()),
        ("top/evil".into(), String::new()),
        // `l -> ..` is the root; `..` after it would be the root's parent.
        ("top/evil".into(), "l/../outside".into()),
    ]
}

#[test]
fn escaping_symlinks_refuse_the_tgz_and_nothing_is_written_through_them() {
    for i in 0..escaping_links(&Fixture::new()).len() {
        let fixture = Fixture::new();
        let (link, target) = escaping_links(&fixture).swap_remove(i);
        let entries = [
            tar_link("top/l", ".."),
            tar_link(&link, &target),
            tar_file(&format!("{link}/pwned"), b"pwned"),
            tar_dir(&format!("{link}/dir/")),
        ];
        let err = refused(&fixture, fixture.tgz(&tgz(&entries)));
        assert!(matches!(err, ArchiveError::EscapingLink { .. }), "{link} -> {target}: {err}");
    }
}

#[test]
fn escaping_symlinks_refuse_the_zip_and_nothing_is_written_through_them() {
    for i in 0..escaping_links(&Fixture::new()).len() {
        let fixture = Fixture::new();
        let (link, target) = escaping_links(&fixture).swap_remove(i);
        let entries = [zip_link("top/l", ".."), zip_link(&link, &target), zip_file(&format!("{link}/pwned"), b"pwned")];
        let err = refused(&fixture, fixture.zip(&zip_bytes(&entries)));
        assert!(matches!(err, ArchiveError::EscapingLink { .. }), "{link} -> {target}: {err}");
    }
}

#[test]
fn entries_under_an_inside_symlink_are_refused_in_either_order() {
    let cases: [(&[TarEntry], &[ZipEntry]); 4] = [
        (
            &[tar_dir("top/sub/"), tar_link("top/l", "sub"), tar_file("top/l/f", b"f")],
            &[zip_dir("top/sub/"), zip_link("top/l", "sub"), zip_file("top/l/f", b"f")],
        ),
        (&[tar_link("top/l", "sub"), tar_dir("top/l/d/")], &[zip_link("top/l", "sub"), zip_dir("top/l/d/")]),
        (
            &[tar_file("top/d/f", b"f"), tar_link("top/d", "sub")],
            &[zip_file("top/d/f", b"f"), zip_link("top/d", "sub")],
        ),
        (&[tar_link("top/l", "sub"), tar_link("top/l/m", "x")], &[zip_link("top/l", "sub"), zip_link("top/l/m", "x")]),
    ];
    for (tar_entries, zip_entries) in cases {
        let fixture = Fixture::new();
        let err = refused(&fixture, fixture.tgz(&tgz(tar_entries)));
        assert!(matches!(err, ArchiveError::ThroughLink { .. }), "{err}");
        let fixture = Fixture::new();
        let err = refused(&fixture, fixture.zip(&zip_bytes(zip_entries)));
        assert!(matches!(err, ArchiveError::ThroughLink { .. }), "{err}");
    }
}

#[test]
fn check_link_target_is_lexical_from_the_links_directory() {
    assert!(check_link_target(&["top", "lib", "so"], b"../../x").is_ok());
    assert!(check_link_target(&["top", "lib", "so"], b"../../../x").is_err());
    assert!(check_link_target(&["so"], b"..").is_err());
    assert!(check_link_target(&["top", "so"], b"..").is_ok());
    assert!(check_link_target(&["top", "so"], b"a/../b").is_err());
    assert!(check_link_target(&["top", "so"], b"/top/x").is_err());
}

#[test]
fn resolve_follows_a_chain_to_its_file() {
    let fixture = Fixture::new();
    let limits = Limits::default();
    let mut tree = Tree::new(&fixture.dest, &limits);
    tree.add_file(b"top/lib/libx.so.1.2", 0o644, 1, &mut &b"x"[..], &mut |e| panic!("{e}")).unwrap();
    tree.add_symlink(b"top/lib/libx.so", b"libx.so.1").unwrap();
    tree.add_symlink(b"top/lib/libx.so.1", b"../lib/libx.so.1.2").unwrap();
    tree.add_symlink(b"top/loop", b"loop").unwrap();
    tree.add_symlink(b"top/dir", b"lib").unwrap();
    assert_eq!(tree.resolve("top/lib/libx.so", "libx.so.1").as_deref(), Some("top/lib/libx.so.1.2"));
    assert_eq!(tree.resolve("top/loop", "loop"), None);
    assert_eq!(tree.resolve("top/dir", "lib"), None);
    assert_eq!(tree.resolve("top/x", "missing"), None);
}

// ---------------------------------------------------------------------------------------------------
// Entry types

#[test]
fn hardlinks_devices_fifos_and_sparse_files_refuse_the_tgz() {
    for kind in [b'1', b'3', b'4', b'6', b'7', b'S', b'V', b'Z'] {
        let fixture = Fixture::new();
        let entry = TarEntry { link: b"top/a".to_vec(), ..tar_special("top/b", kind) };
        let err = refused(&fixture, fixture.tgz(&tgz(&[tar_file("top/a", b"a"), entry])));
        assert!(matches!(err, ArchiveError::ForbiddenType { .. }), "type {}: {err}", kind as char);
    }
}

#[test]
fn devices_fifos_and_sockets_refuse_the_zip() {
    for mode in [0o020644, 0o060644, 0o010644, 0o140644, 0o170644] {
        let fixture = Fixture::new();
        let err = refused(&fixture, fixture.zip(&zip_bytes(&[zip_file("top/a", b"a"), zip_mode("top/b", mode)])));
        assert!(matches!(err, ArchiveError::ForbiddenType { .. }), "mode {mode:o}: {err}");
    }
}

#[test]
fn pax_global_header_is_ignored() {
    let fixture = Fixture::new();
    let global =
        TarEntry { data: pax_records(&[("comment", b"abc".to_vec())]), ..tar_special("pax_global_header", b'g') };
    let unpacked = fixture.tgz(&tgz(&[global, tar_file("top/lib/x", b"x")])).unwrap();
    assert_eq!(unpacked.files, 1);
}

// ---------------------------------------------------------------------------------------------------
// Duplicates

#[test]
fn the_same_path_twice_refuses_the_tgz() {
    let cases: [&[TarEntry]; 8] = [
        &[tar_file("a/b", b"1"), tar_file("a/b", b"2")],
        &[tar_file("a/b", b"1"), tar_file("a/./b", b"2")],
        &[tar_file("a/b", b"1"), tar_file("a//b", b"2")],
        &[tar_file("a/b", b"1"), tar_dir("a/b/")],
        &[tar_dir("a/b/"), tar_file("a/b", b"1")],
        &[tar_dir("a/"), tar_dir("./a")],
        &[tar_link("a/l", "b"), tar_file("a/l", b"1")],
        &[tar_file("a", b"1"), tar_file("a/b", b"2")],
    ];
    for entries in cases {
        let fixture = Fixture::new();
        let err = refused(&fixture, fixture.tgz(&tgz(entries)));
        assert!(matches!(err, ArchiveError::Duplicate { .. }), "{err}");
    }
}

#[test]
fn the_same_path_twice_refuses_the_zip() {
    let cases: [&[ZipEntry]; 6] = [
        &[zip_file("a/b", b"1"), zip_file("a/b", b"2")],
        &[zip_file("a/b", b"1"), zip_file("a/./b", b"2")],
        &[zip_file("a/b", b"1"), zip_file("a//b", b"2")],
        &[zip_file("a/b", b"1"), zip_dir("a/b/")],
        &[zip_dir("a/"), zip_dir("a/")],
        &[zip_link("a/l", "b"), zip_file("a/l", b"1")],
    ];
    for entries in cases {
        let fixture = Fixture::new();
        let err = refused(&fixture, fixture.zip(&zip_bytes(entries)));
        assert!(matches!(err, ArchiveError::Duplicate { .. }), "{err}");
    }
}

#[test]
fn an_implied_directory_may_be_listed_once_later() {
    let fixture = Fixture::new();
    let unpacked = fixture.tgz(&tgz(&[tar_file("top/lib/x", b"x"), tar_dir("top/lib/"), tar_dir("top/")])).unwrap();
    assert_eq!((unpacked.files, unpacked.dirs), (1, 2));
}

// ---------------------------------------------------------------------------------------------------
// Modes

/// (archive mode, expected mode) for files and directories.
const FILE_MODES: &[(u32, u32)] = &[
    (0o4755, 0o755),
    (0o2755, 0o755),
    (0o6777, 0o755),
    (0o777, 0o755),
    (0o000, 0o644),
    (0o600, 0o644),
    (0o1744, 0o755),
    (0o7644, 0o644),
];
const DIR_MODES: &[u32] = &[0o7777, 0o000, 0o500, 0o1777];

#[test]
fn modes_are_normalised_in_the_tgz() {
    let fixture = Fixture::new();
    let mut entries = Vec::new();
    for (i, &(mode, _)) in FILE_MODES.iter().enumerate() {
        entries.push(TarEntry { mode, ..tar_file(&format!("top/f{i}"), b"data") });
    }
    for (i, &mode) in DIR_MODES.iter().enumerate() {
        entries.push(TarEntry { mode, ..tar_dir(&format!("top/d{i}/")) });
        entries.push(TarEntry { mode: 0, ..tar_file(&format!("top/d{i}/inner"), b"data") });
    }
    fixture.tgz(&tgz(&entries)).unwrap();
    assert_modes(&fixture);
}

#[test]
fn modes_are_normalised_in_the_zip() {
    let fixture = Fixture::new();
    let mut entries = Vec::new();
    for (i, &(mode, _)) in FILE_MODES.iter().enumerate() {
        entries.push(ZipEntry { mode: Some(0o100000 | mode), ..zip_file(&format!("top/f{i}"), b"data") });
    }
    for (i, &mode) in DIR_MODES.iter().enumerate() {
        entries.push(ZipEntry { mode: Some(0o040000 | mode), ..zip_dir(&format!("top/d{i}/")) });
        entries.push(ZipEntry { mode: Some(0o100000), ..zip_file(&format!("top/d{i}/inner"), b"data") });
    }
    // A DOS entry carries no Unix mode at all.
    entries.push(ZipEntry { mode: None, ..zip_file("top/dos", b"data") });
    fixture.zip(&zip_bytes(&entries)).unwrap();
    assert_modes(&fixture);
    assert_eq!(fixture.mode("top/dos"), 0o644);
}

fn assert_modes(fixture: &Fixture) {
    for (i, &(mode, expected)) in FILE_MODES.iter().enumerate() {
        assert_eq!(fixture.mode(&format!("top/f{i}")), expected, "file with mode {mode:o}");
    }
    for (i, mode) in DIR_MODES.iter().enumerate() {
        assert_eq!(fixture.mode(&format!("top/d{i}")), 0o755, "dir with mode {mode:o}");
        assert_eq!(fs::read(fixture.dest.join(format!("top/d{i}/inner"))).unwrap(), b"data");
    }
    fixture.assert_untouched();
}

// ---------------------------------------------------------------------------------------------------
// Sizes

const BOMB: usize = 64 << 20;

#[test]
fn gzip_bomb_in_one_entry_is_refused_at_the_cap() {
    let fixture = Fixture::new();
    let archive = tgz(&[tar_file("top/zeros", &vec![0; BOMB])]);
    assert!(archive.len() < 1 << 20, "64 MiB of zeros compress to under 1 MiB");
    let err = refused(&fixture, fixture.tgz_with(&archive, &small_limits()));
    assert!(matches!(err, ArchiveError::TooLarge { .. }), "{err}");
    assert!(!fixture.dest.join("top/zeros").exists(), "refused before writing");
}

#[test]
fn gzip_bomb_spread_over_entries_stops_at_the_total_cap() {
    let fixture = Fixture::new();
    let entries: Vec<_> = (0..64).map(|i| tar_file(&format!("top/z{i}"), &vec![0; 1 << 20])).collect();
    let err = refused(&fixture, fixture.tgz_with(&tgz(&entries), &small_limits()));
    assert!(matches!(err, ArchiveError::TooLarge { .. }), "{err}");
    let written = fs::read_dir(fixture.dest.join("top")).unwrap().count();
    assert_eq!(written, 8, "stopped at 8 MiB");
}

#[test]
fn gzip_bomb_in_a_pax_header_is_refused() {
    // The tar reader refuses PAX data past its 64 KiB limit without reading it.
    let fixture = Fixture::new();
    let entry = TarEntry { pax: vec![("comment", vec![b'a'; BOMB])], ..tar_file("top/x", b"x") };
    let err = refused(&fixture, fixture.tgz_with(&tgz(&[entry]), &small_limits()));
    assert!(matches!(err, ArchiveError::TooLarge { .. }), "{err}");
}

#[test]
fn zip_bomb_is_refused_at_the_cap() {
    let fixture = Fixture::new();
    let archive = zip_bytes(&[zip_file("top/zeros", &vec![0; BOMB])]);
    assert!(archive.len() < 1 << 20);
    let err = refused(&fixture, fixture.zip_with(&archive, &small_limits()));
    assert!(matches!(err, ArchiveError::TooLarge { .. }), "{err}");
}

#[test]
fn zip_entry_inflating_past_its_declared_size_is_stopped() {
    for method in [8, 0] {
        let fixture = Fixture::new();
        let entry = ZipEntry { method, declared: Some(1024), ..zip_file("top/liar", &vec![0; BOMB]) };
        let err = refused(&fixture, fixture.zip(&zip_bytes(&[entry])));
        match &err {
            ArchiveError::TooLarge { what, .. } => assert!(what.contains("declared size of 1024"), "{err}"),
            _ => panic!("method {method}: {err}"),
        }
        assert!(fs::metadata(fixture.dest.join("top/liar")).unwrap().len() <= 1024);
    }
}

#[test]
fn default_limits_are_the_documented_caps() {
    let limits = Limits::default();
    assert_eq!(limits.max_total_bytes, 8 * 1024 * 1024 * 1024);
    assert_eq!(limits.max_entries, 100_000);
    assert_eq!(limits.max_entry_bytes, 4 * 1024 * 1024 * 1024);
    // A header declaring 5 GiB is refused by the default per-file cap before any data is read (there is none).
    let fixture = Fixture::new();
    let mut stream = tar_header(b"top/huge", b'0', 5 << 30, 0o644, b"").to_vec();
    stream.extend([0; 1024]);
    let err = refused(&fixture, fixture.tgz(&gzip(&stream)));
    match &err {
        ArchiveError::TooLarge { what, .. } => assert!(what.contains(&(4u64 << 30).to_string()), "{err}"),
        _ => panic!("{err}"),
    }
}

#[test]
fn too_many_entries_are_refused() {
    let limits = Limits { max_entries: 10, ..small_limits() };
    let fixture = Fixture::new();
    let entries: Vec<_> = (0..11).map(|i| tar_file(&format!("top/f{i}"), b"x")).collect();
    let err = refused(&fixture, fixture.tgz_with(&tgz(&entries), &limits));
    assert!(matches!(err, ArchiveError::TooLarge { .. }), "{err}");
    let fixture = Fixture::new();
    let entries: Vec<_> = (0..11).map(|i| zip_file(&format!("top/f{i}"), b"x")).collect();
    let err = refused(&fixture, fixture.zip_with(&zip_bytes(&entries), &limits));
    assert!(matches!(err, ArchiveError::TooLarge { .. }), "{err}");
    // Exactly at the cap is fine.
    let fixture = Fixture::new();
    let entries: Vec<_> = (0..10).map(|i| tar_file(&format!("f{i}"), b"x")).collect();
    assert_eq!(fixture.tgz_with(&tgz(&entries), &limits).unwrap().files, 10);
}

// ---------------------------------------------------------------------------------------------------
// Truncated and corrupt archives

fn two_files() -> Vec<TarEntry> {
    vec![tar_file("top/a", &[b'a'; 700]), tar_file("top/b", &[b'b'; 100])]
}

fn assert_corrupt(fixture: &Fixture, result: Result<Unpacked, ArchiveError>, what: &str) {
    let err = refused(fixture, result);
    assert!(matches!(err, ArchiveError::Corrupt { .. }), "{what}: {err}");
}

#[test]
fn tar_cut_at_a_block_boundary_is_refused() {
    let body = tar_body(&two_files());
    assert_eq!(body.len(), 512 * 5);
    // After each complete entry, with no end marker, or with one of its two zero blocks.
    for (cut, zeros) in [(512 * 3, 0), (512 * 5, 0), (512 * 5, 512)] {
        let fixture = Fixture::new();
        let mut stream = body[..cut].to_vec();
        stream.extend(vec![0; zeros]);
        assert_corrupt(&fixture, fixture.tgz(&gzip(&stream)), &format!("cut at {cut} + {zeros} zeros"));
    }
    // The same stream with both zero blocks is whole.
    let fixture = Fixture::new();
    let mut stream = body.clone();
    stream.extend([0; 1024]);
    assert_eq!(fixture.tgz(&gzip(&stream)).unwrap().files, 2);
}

#[test]
fn tar_cut_mid_entry_is_refused() {
    for cut in [512 + 300, 512 * 4 + 50, 100] {
        let fixture = Fixture::new();
        let body = tar_body(&two_files());
        assert_corrupt(&fixture, fixture.tgz(&gzip(&body[..cut])), &format!("cut at {cut}"));
    }
}

#[test]
fn gzip_header_fields_are_skipped_and_the_trailer_length_is_checked() {
    let inside = tar_bytes(&two_files());
    let mut encoder = flate2::GzBuilder::new()
        .filename("onnxruntime.tar")
        .comment("a comment")
        .extra(vec![1, 2, 3])
        .write(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&inside).unwrap();
    let archive = encoder.finish().unwrap();
    let fixture = Fixture::new();
    assert_eq!(fixture.tgz(&archive).unwrap().files, 2);

    // The CRC is left to the download's SHA-256 (see gzip.rs); the length is checked.
    let n = archive.len();
    let mut wrong_crc = archive.clone();
    wrong_crc[n - 8] ^= 1;
    assert_eq!(Fixture::new().tgz(&wrong_crc).unwrap().files, 2);
    let mut wrong_length = archive;
    wrong_length[n - 4] ^= 1;
    let fixture = Fixture::new();
    assert_corrupt(&fixture, fixture.tgz(&wrong_length), "trailer length");
}

#[test]
fn gzip_stream_cut_short_is_refused() {
    let archive = tgz(&two_files());
    for cut in [archive.len() - 1, archive.len() - 8, archive.len() / 2, 12] {
        let fixture = Fixture::new();
        assert_corrupt(&fixture, fixture.tgz(&archive[..cut]), &format!("gzip cut at {cut}"));
    }
}

#[test]
fn data_after_the_archive_is_refused() {
    let archive = tgz(&two_files());
    let mut garbage = archive.clone();
    garbage.extend(b"trailing garbage");
    let mut second_member = archive.clone();
    second_member.extend(gzip(b"more"));
    let mut inside = tar_bytes(&two_files());
    inside.extend(b"junk after the end marker");
    for (what, bytes) in [("garbage", garbage), ("a second gzip member", second_member), ("junk", gzip(&inside))] {
        let fixture = Fixture::new();
        assert_corrupt(&fixture, fixture.tgz(&bytes), what);
    }
}

#[test]
fn corrupt_deflate_in_the_tgz_is_refused() {
    let archive = tgz(&[tar_file("top/a", &(0..20_000u32).flat_map(|i| i.to_le_bytes()).collect::<Vec<_>>())]);
    for at in [archive.len() / 3, archive.len() / 2, archive.len() - 6] {
        let fixture = Fixture::new();
        let mut bytes = archive.clone();
        for b in &mut bytes[at..at + 4] {
            *b ^= 0x55;
        }
        assert_corrupt(&fixture, fixture.tgz(&bytes), &format!("flipped at {at}"));
    }
}

#[test]
fn tar_header_with_a_bad_checksum_is_refused() {
    let mut stream = tar_bytes(&two_files());
    stream[0] ^= 1;
    let fixture = Fixture::new();
    assert_corrupt(&fixture, fixture.tgz(&gzip(&stream)), "bad header checksum");
}

#[test]
fn pax_size_disagreeing_with_the_header_is_refused() {
    // PAX says 100 bytes, the ustar header 700: readers would split the stream differently (RUSTSEC-2026-0068).
    for (pax, header) in [(100, 700), (700, 100)] {
        let fixture = Fixture::new();
        let entry = TarEntry {
            pax: vec![("size", pax.to_string().into_bytes())],
            header_size: Some(header),
            ..tar_file("top/a", &[b'a'; 700])
        };
        let err = refused(&fixture, fixture.tgz(&tgz(&[entry, tar_file("top/b", b"b")])));
        match &err {
            ArchiveError::Corrupt { problem, .. } => assert!(problem.contains("PAX size"), "{err}"),
            _ => panic!("{err}"),
        }
    }
    // An agreeing PAX size is fine.
    let fixture = Fixture::new();
    let entry = TarEntry { pax: vec![("size", b"700".to_vec())], ..tar_file("top/a", &[b'a'; 700]) };
    assert_eq!(fixture.tgz(&tgz(&[entry])).unwrap().bytes, 700);
}

#[test]
fn truncated_zip_is_refused() {
    let archive = zip_bytes(&official_zip());
    for cut in [archive.len() - 1, archive.len() - 30, archive.len() / 2, 10, 0] {
        let fixture = Fixture::new();
        assert_corrupt(&fixture, fixture.zip(&archive[..cut]), &format!("zip cut at {cut}"));
    }
}

#[test]
fn zip_with_data_around_it_is_refused() {
    let archive = zip_bytes(&official_zip());
    let mut trailing = archive.clone();
    trailing.extend(b"trailing garbage");
    let mut leading = b"prefix".to_vec();
    leading.extend(&archive);
    for (what, bytes) in [("trailing", trailing), ("leading", leading)] {
        let fixture = Fixture::new();
        assert_corrupt(&fixture, fixture.zip(&bytes), what);
    }
}

#[test]
fn corrupt_zip_entries_are_refused() {
    let data: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let mut flipped = deflate(&data);
    let middle = flipped.len() / 2;
    for b in &mut flipped[middle..middle + 4] {
        *b ^= 0x55;
    }
    let mut short = deflate(&data);
    short.truncate(short.len() / 2);
    let mut longer = deflate(&data);
    longer.extend(b"junk");
    // Block type 3 is reserved: every inflater stops at the first block.
    let mut bad_block = deflate(&data);
    bad_block[0] |= 0b110;
    // Flipped bits mid-stream may still inflate: to too many bytes, or to the wrong ones.
    let fixture = Fixture::new();
    let err = refused(
        &fixture,
        fixture.zip(&zip_bytes(&[ZipEntry { compressed: Some(flipped), ..zip_file("top/a", &data) }])),
    );
    assert!(matches!(err, ArchiveError::Corrupt { .. } | ArchiveError::TooLarge { .. }), "flipped bits: {err}");
    let cases = [
        ("reserved block type", ZipEntry { compressed: Some(bad_block), ..zip_file("top/a", &data) }),
        ("cut deflate", ZipEntry { compressed: Some(short), ..zip_file("top/a", &data) }),
        ("junk after deflate", ZipEntry { compressed: Some(longer), ..zip_file("top/a", &data) }),
        ("wrong CRC", ZipEntry { crc: Some(0xdead_beef), ..zip_file("top/a", &data) }),
        ("stored, shorter than declared", ZipEntry { method: 0, declared: Some(100), ..zip_file("top/a", b"ab") }),
        ("link with a wrong CRC", ZipEntry { crc: Some(1), ..zip_link("top/l", "a") }),
        ("directory with data", ZipEntry { mode: Some(0o040755), ..zip_file("top/d/", b"data") }),
    ];
    for (what, entry) in cases {
        let fixture = Fixture::new();
        assert_corrupt(&fixture, fixture.zip(&zip_bytes(&[entry])), what);
    }
}

#[test]
fn zip_whose_local_headers_disagree_with_its_directory_is_refused() {
    let fixture = Fixture::new();
    let entry = ZipEntry { local_name: Some(b"../evil".to_vec()), ..zip_file("top/ok", b"x") };
    assert_corrupt(&fixture, fixture.zip(&zip_bytes(&[zip_file("top/a", b"a"), entry])), "local name differs");
}

/// The end record's fields: (entries, directory size, directory offset) at the end of `zip`.
fn end_record(zip: &[u8]) -> (usize, usize, usize) {
    let end = &zip[zip.len() - 22..];
    let field = |at: usize| u32::from_le_bytes(end[at..at + 4].try_into().unwrap()) as usize;
    (usize::from(u16::from_le_bytes([end[10], end[11]])), field(12), field(16))
}

#[test]
fn zips_from_another_writer_with_zip64_fields_and_data_descriptors_unpack() {
    use zip::write::SimpleFileOptions;
    let data: Vec<u8> = (0..50_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
    let deflated = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    // ZIP64 extra fields on every entry (as a writer that cannot know sizes up front may write them).
    let mut seekable = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    // Sizes after the data, in data descriptors (what a writer to a pipe does).
    let mut streamed = zip::ZipWriter::new_stream(Vec::new());
    for (i, options) in [deflated, deflated.large_file(true), SimpleFileOptions::default()].into_iter().enumerate() {
        seekable.start_file(format!("top/lib/f{i}"), options.large_file(true)).unwrap();
        seekable.write_all(&data).unwrap();
        streamed.start_file(format!("top/lib/f{i}"), options).unwrap();
        streamed.write_all(&data).unwrap();
    }
    let seekable = seekable.finish().unwrap().into_inner();
    let streamed = streamed.finish().unwrap().into_inner();
    assert!(seekable.windows(8).any(|w| w == [0xff; 8]), "the writer was asked for ZIP64 sizes");
    assert!(streamed.windows(4).any(|w| w == b"PK\x07\x08"), "the writer was asked for data descriptors");
    for archive in [seekable.clone(), streamed, with_zip64_end_records(&seekable)] {
        let fixture = Fixture::new();
        let unpacked = fixture.zip(&archive).unwrap();
        assert_eq!(unpacked.files, 3);
        for i in 0..3 {
            assert_eq!(fs::read(fixture.dest.join(format!("top/lib/f{i}"))).unwrap(), data);
        }
    }
}

/// The same zip with its end record in ZIP64 form: the ZIP64 end record and its locator, then a plain
/// end record whose fields all say "see ZIP64".
fn with_zip64_end_records(zip: &[u8]) -> Vec<u8> {
    let (entries, size, offset) = end_record(zip);
    let mut out = zip[..offset + size].to_vec();
    let record_at = out.len() as u64;
    out.extend(b"PK\x06\x06");
    out.extend(44u64.to_le_bytes());
    out.extend([45, 0, 45, 0]);
    out.extend([0; 8]); // this disk, the directory's disk
    out.extend((entries as u64).to_le_bytes());
    out.extend((entries as u64).to_le_bytes());
    out.extend((size as u64).to_le_bytes());
    out.extend((offset as u64).to_le_bytes());
    out.extend(b"PK\x06\x07");
    out.extend(0u32.to_le_bytes());
    out.extend(record_at.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    out.extend(b"PK\x05\x06");
    out.extend([0; 4]);
    out.extend([0xff; 4]);
    out.extend([0xff; 8]);
    out.extend(0u16.to_le_bytes());
    out
}

#[test]
fn zip_bytes_outside_every_entry_or_in_two_of_them_are_refused() {
    let archive = zip_bytes(&[zip_file("top/a", b"first"), zip_file("top/b", b"second")]);
    let (entries, size, offset) = end_record(&archive);
    let end = archive.len() - 22;

    // Bytes between the last entry and the central directory, with the offsets moved to match.
    let mut gap = archive[..offset].to_vec();
    gap.extend(b"hidden");
    gap.extend(&archive[offset..end]);
    gap.extend(&archive[end..end + 16]);
    gap.extend(((offset + 6) as u32).to_le_bytes());
    gap.extend(&archive[end + 20..]);

    // A second central record for the first entry's bytes, under another name of the same length.
    let first = archive[offset..offset + 46 + 5].to_vec();
    let mut twin = first.clone();
    twin[46..46 + 5].copy_from_slice(b"top/c");
    let mut overlap = archive[..offset + size].to_vec();
    overlap.extend(&twin);
    overlap.extend(&archive[end..end + 8]);
    overlap.extend(((entries + 1) as u16).to_le_bytes());
    overlap.extend(((entries + 1) as u16).to_le_bytes());
    overlap.extend(((size + twin.len()) as u32).to_le_bytes());
    overlap.extend((offset as u32).to_le_bytes());
    overlap.extend(0u16.to_le_bytes());

    for (what, bytes) in [("gap", gap), ("overlap", overlap)] {
        let fixture = Fixture::new();
        assert_corrupt(&fixture, fixture.zip(&bytes), what);
    }
}

#[test]
fn encrypted_and_unsupported_zip_entries_are_refused_clearly() {
    let cases = [
        ("encrypted", ZipEntry { flags: 1, ..zip_file("top/a", b"a") }),
        ("bzip2", ZipEntry { method: 12, compressed: Some(b"BZh".to_vec()), ..zip_file("top/a", b"a") }),
        ("lzma", ZipEntry { method: 14, compressed: Some(b"xx".to_vec()), ..zip_file("top/a", b"a") }),
    ];
    for (what, entry) in cases {
        let fixture = Fixture::new();
        let err = refused(&fixture, fixture.zip(&zip_bytes(&[entry])));
        assert!(matches!(err, ArchiveError::Unsupported { .. }), "{what}: {err}");
    }
}

// ---------------------------------------------------------------------------------------------------
// The input reader and the local disk

/// Serves `data` up to `fail_at`, then fails with `error`; `Interrupted` now and then.
struct FlakyReader {
    data: Vec<u8>,
    at: usize,
    fail_at: usize,
    error: Option<io::Error>,
    reads: usize,
}

impl FlakyReader {
    fn new(data: Vec<u8>, fail_at: usize, error: Option<io::Error>) -> Self {
        FlakyReader { data, at: 0, fail_at, error, reads: 0 }
    }
}

impl Read for FlakyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if self.reads.is_multiple_of(3) {
            return Err(io::ErrorKind::Interrupted.into());
        }
        if self.at >= self.fail_at {
            return match self.error.take() {
                Some(e) => Err(e),
                None if self.at == self.data.len() => Ok(0),
                None => Err(io::Error::other("read again after the error")),
            };
        }
        let n = buf.len().min(self.fail_at - self.at).min(1000);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn a_failing_reader_surfaces_its_own_error_unchanged() {
    let archive = tgz(&official_tar());
    for fail_at in [0, 10, archive.len() / 2, archive.len() - 1] {
        let fixture = Fixture::new();
        let error = io::Error::new(io::ErrorKind::ConnectionReset, "peer reset the body");
        let reader = FlakyReader::new(archive.clone(), fail_at, Some(error));
        let err = refused(&fixture, unpack_tar_gz(&mut { reader }, &fixture.dest, &Limits::default()));
        match err {
            ArchiveError::Read(e) => {
                assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
                assert_eq!(e.to_string(), "peer reset the body");
            }
            other => panic!("fail at {fail_at}: {other}"),
        }
    }
}

#[test]
fn an_interrupted_reader_is_retried() {
    let archive = tgz(&official_tar());
    let fixture = Fixture::new();
    let reader = FlakyReader::new(archive.clone(), archive.len(), None);
    let unpacked = unpack_tar_gz(&mut { reader }, &fixture.dest, &Limits::default()).unwrap();
    assert_official_layout(&fixture, unpacked);
}

/// A disk that is full.
struct FullDisk;

impl Write for FullDisk {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::from(io::ErrorKind::StorageFull))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn disk_full_is_an_io_error_naming_the_path() {
    let fixture = Fixture::new();
    let limits = Limits::default();
    let mut tree = Tree::new(&fixture.dest, &limits);
    let path = fixture.dest.join("top/x");
    let err =
        tree.write_contents("top/x", &path, 5, &mut &b"hello"[..], &mut FullDisk, &mut |e| panic!("{e}")).unwrap_err();
    assert!(err.is_io(), "{err}");
    match &err {
        ArchiveError::Io { path: p, source, .. } => {
            assert_eq!(p, &path);
            assert_eq!(source.kind(), io::ErrorKind::StorageFull);
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
}

#[test]
fn a_dest_that_cannot_be_written_is_an_io_error() {
    let fixture = Fixture::new();
    let missing = fixture.dest.join("missing");
    let err = unpack_tar_gz(&mut &tgz(&official_tar())[..], &missing, &Limits::default()).unwrap_err();
    assert!(err.is_io() && err.to_string().contains("missing"), "{err}");
    let path = fixture.archives.path().join("a.zip");
    fs::write(&path, zip_bytes(&official_zip())).unwrap();
    let err = unpack_zip(&path, &missing, &Limits::default()).unwrap_err();
    assert!(err.is_io(), "{err}");
    let err = unpack_zip(&fixture.archives.path().join("absent.zip"), &fixture.dest, &Limits::default()).unwrap_err();
    assert!(err.is_io(), "{err}");
    fixture.assert_untouched();
}

#[test]
fn content_errors_are_not_io_errors() {
    let fixture = Fixture::new();
    let err = fixture.tgz(&tgz(&[tar_file("../x", b"x")])).unwrap_err();
    assert!(!err.is_io());
}

// ---------------------------------------------------------------------------------------------------
// Finding the root

#[test]
fn find_root_takes_the_single_top_folder_whatever_its_name() {
    // One 1.26.0 cuda13 archive unpacks to a folder named unlike the archive (ort-facts.md).
    let fixture = Fixture::new();
    let top = "onnxruntime-linux-x64-gpu-1.26.0";
    let entries =
        [tar_file(&format!("{top}/lib/libonnxruntime.so.1.26.0"), LIB), tar_file(&format!("{top}/README.md"), b"r")];
    fixture.tgz(&tgz(&entries)).unwrap();
    assert_eq!(find_root(&fixture.dest).unwrap(), fixture.dest.join(top));
}

#[test]
fn find_root_takes_dest_when_it_holds_lib() {
    let fixture = Fixture::new();
    fixture.zip(&zip_bytes(&[zip_file("lib/onnxruntime.dll", b"MZ"), zip_file("include/x.h", b"")])).unwrap();
    assert_eq!(find_root(&fixture.dest).unwrap(), fixture.dest);
}

#[test]
fn find_root_lists_what_it_found() {
    let fixture = Fixture::new();
    fixture.tgz(&tgz(&[tar_file("a/lib/x", b"x"), tar_file("b/README", b"r"), tar_file("NOTES", b"n")])).unwrap();
    assert_eq!(find_root(&fixture.dest).unwrap_err(), ["NOTES", "a/", "b/"]);

    let fixture = Fixture::new();
    fixture.tgz(&tgz(&[tar_file("top/README.md", b"r"), tar_file("top/include/x.h", b"")])).unwrap();
    assert_eq!(find_root(&fixture.dest).unwrap_err(), ["top/README.md", "top/include/"]);

    // A top-level `lib` that is a symlink is not taken for a folder.
    let fixture = Fixture::new();
    fixture.tgz(&tgz(&[tar_file("real/x", b"x"), tar_link("lib", "real")])).unwrap();
    assert_eq!(find_root(&fixture.dest).unwrap_err(), ["lib", "real/"]);

    let fixture = Fixture::new();
    assert_eq!(find_root(&fixture.dest).unwrap_err(), Vec::<String>::new());
    fixture.tgz(&tgz(&[tar_dir("top/")])).unwrap();
    assert_eq!(find_root(&fixture.dest).unwrap_err(), ["top/ (empty)"]);

    let fixture = Fixture::new();
    let many: Vec<_> = (0..25).map(|i| tar_file(&format!("f{i:02}"), b"")).collect();
    fixture.tgz(&tgz(&many)).unwrap();
    let listed = find_root(&fixture.dest).unwrap_err();
    assert_eq!(listed.len(), 21);
    assert_eq!(listed[0], "f00");
    assert_eq!(listed[20], "... and 5 more");
}

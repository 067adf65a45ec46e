//! The tar reader against two independent writers (GNU tar in each of its formats, the `tar` crate) and
//! their own listings, and against hostile headers built byte by byte.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use super::*;
use crate::test_support::hostile::{pad_to_block, pax_records, tar_header};

// ---------------------------------------------------------------------------------------------------
// Reading a whole archive

/// Every entry with its data, and how the archive ended.
type Listing = (Vec<(Header, Vec<u8>)>, Option<End>);

fn list(bytes: &[u8]) -> Result<Listing, TarError> {
    let mut reader = TarReader::new(bytes);
    let mut entries = Vec::new();
    while let Some(header) = reader.next_header()? {
        let mut data = Vec::new();
        reader.data().read_to_end(&mut data).map_err(|source| TarError::Read { entry: None, source })?;
        assert_eq!(data.len() as u64, header.size, "the data reader yields exactly the size");
        entries.push((header, data));
    }
    Ok((entries, reader.end()))
}

fn entries(bytes: &[u8]) -> Vec<(Header, Vec<u8>)> {
    let (entries, end) = list(bytes).unwrap();
    assert_eq!(end, Some(End::Marker));
    entries
}

fn malformed_problem(result: Result<impl std::fmt::Debug, TarError>) -> String {
    match result {
        Err(TarError::Malformed { problem, .. }) => problem,
        other => panic!("expected a malformed archive, got {other:?}"),
    }
}

/// One entry as both listings see it: (typeflag, mode, size, path, link target).
type Row = (u8, u32, u64, Vec<u8>, Vec<u8>);

fn row(header: &Header) -> Row {
    let typeflag = match header.kind {
        Kind::File => b'0',
        Kind::HardLink => b'1',
        Kind::Symlink => b'2',
        Kind::Dir => b'5',
        Kind::Other(t) => t,
    };
    let link = if matches!(header.kind, Kind::Symlink | Kind::HardLink) { header.link_target.clone() } else { vec![] };
    (typeflag, header.mode, header.size, header.path.clone(), link)
}

/// The `tar` crate's listing of the same bytes.
fn tar_crate_rows(bytes: &[u8]) -> Vec<(Row, Vec<u8>)> {
    let mut archive = tar::Archive::new(bytes);
    let mut rows = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let kind = entry.header().entry_type();
        let link = if kind.is_symlink() || kind.is_hard_link() {
            entry.link_name_bytes().unwrap_or_default().into_owned()
        } else {
            vec![]
        };
        let row = (kind.as_byte(), entry.header().mode().unwrap(), entry.size(), entry.path_bytes().into_owned(), link);
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        rows.push((row, data));
    }
    rows
}

fn assert_same_as_tar_crate(bytes: &[u8]) -> Vec<(Header, Vec<u8>)> {
    let ours = entries(bytes);
    let ours_rows: Vec<_> = ours.iter().map(|(h, d)| (row(h), d.clone())).collect();
    assert_eq!(ours_rows, tar_crate_rows(bytes));
    ours
}

// ---------------------------------------------------------------------------------------------------
// Archives written by the `tar` crate

fn crate_archive(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    build(&mut builder);
    builder.into_inner().unwrap()
}

fn crate_header(new: fn() -> tar::Header, kind: tar::EntryType, mode: u32) -> tar::Header {
    let mut header = new();
    header.set_entry_type(kind);
    header.set_size(0);
    header.set_mode(mode);
    header.set_mtime(1_700_000_000);
    header
}

fn long_path() -> String {
    format!("top/{}/{}.so", "d".repeat(120), "f".repeat(150))
}

#[test]
fn gnu_headers_with_long_names_and_long_links_from_the_tar_crate() {
    let data: Vec<u8> = (0..1300u32).map(|i| (i % 251) as u8).collect();
    let bytes = crate_archive(|b| {
        let mut file = crate_header(tar::Header::new_gnu, tar::EntryType::Regular, 0o755);
        file.set_size(data.len() as u64);
        b.append_data(&mut file, long_path(), &data[..]).unwrap();
        let mut link = crate_header(tar::Header::new_gnu, tar::EntryType::Symlink, 0o777);
        b.append_link(&mut link, "top/l", format!("../{}", long_path())).unwrap();
        let mut hard = crate_header(tar::Header::new_gnu, tar::EntryType::Link, 0o644);
        b.append_link(&mut hard, format!("{}.hard", long_path()), long_path()).unwrap();
        let mut dir = crate_header(tar::Header::new_gnu, tar::EntryType::Directory, 0o755);
        b.append_data(&mut dir, "top/dir/", io::empty()).unwrap();
    });
    assert!(bytes.windows(13).any(|w| w == b"././@LongLink"), "the writer used GNU long names");
    let listed = assert_same_as_tar_crate(&bytes);
    assert_eq!(listed[0].0.path, long_path().as_bytes());
    assert_eq!((listed[0].0.kind, listed[0].0.mode), (Kind::File, 0o755));
    assert_eq!(listed[0].1, data);
    assert_eq!(
        (listed[1].0.kind, &listed[1].0.link_target),
        (Kind::Symlink, &format!("../{}", long_path()).into_bytes())
    );
    assert_eq!(listed[2].0.kind, Kind::HardLink);
    assert_eq!(listed[3].0.kind, Kind::Dir);
}

#[test]
fn ustar_prefix_and_pax_records_from_the_tar_crate() {
    // 60 + 60 + 60 characters: fits ustar only split into prefix and name.
    let split = format!("top/{}/{}/{}", "p".repeat(60), "q".repeat(60), "r".repeat(60));
    let pax_path = format!("top/{}/with\nnewline", "x".repeat(200));
    let bytes = crate_archive(|b| {
        let mut file = crate_header(tar::Header::new_ustar, tar::EntryType::Regular, 0o644);
        file.set_path(&split).unwrap();
        file.set_size(3);
        file.set_cksum();
        b.append(&file, &b"abc"[..]).unwrap();
        // A PAX path (with a newline, which only the record length delimits) and an agreeing size.
        b.append_pax_extensions([("path", pax_path.as_bytes()), ("size", b"5".as_slice()), ("mtime", &b"1.5"[..])])
            .unwrap();
        let mut named = crate_header(tar::Header::new_ustar, tar::EntryType::Regular, 0o600);
        named.set_path("short").unwrap();
        named.set_size(5);
        named.set_cksum();
        b.append(&named, &b"hello"[..]).unwrap();
    });
    assert_eq!(&bytes[345..345 + 4], b"top/", "the writer split the name into prefix and name");
    let listed = entries(&bytes);
    assert_eq!(listed[0].0.path, split.as_bytes());
    assert_eq!(listed[0].1, b"abc");
    assert_eq!(listed[1].0.path, pax_path.as_bytes());
    assert_eq!((listed[1].0.size, listed[1].0.header_size, &listed[1].1[..]), (5, 5, &b"hello"[..]));
    // The tar crate agrees except on the newline: it splits PAX records at newlines, not by length,
    // so it drops the record and falls back to the header's name.
    let theirs = tar_crate_rows(&bytes);
    assert_eq!((row(&listed[0].0), listed[0].1.clone()), theirs[0]);
    assert_eq!(theirs.len(), 2);
    assert_eq!(theirs[1].0.3, b"short");
}

// ---------------------------------------------------------------------------------------------------
// Archives written by GNU tar, compared with `tar -tvf`

fn gnu_tar() -> Command {
    let version = Command::new("tar").arg("--version").output();
    match version {
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains("GNU tar") => Command::new("tar"),
        _ => panic!("these tests need GNU tar: install it (apt-get install tar)"),
    }
}

/// A tree with every kind of entry an archive may hold, under `top/`; with `long`, also a path past
/// ustar's 255 bytes and a link target past its 100.
fn sample_tree(root: &Path, long: bool) {
    let top = root.join("top");
    fs::create_dir_all(top.join("lib")).unwrap();
    fs::create_dir_all(top.join("include")).unwrap();
    let lib: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 253) as u8).collect();
    fs::write(top.join("lib/libx.so.1.2.3"), &lib).unwrap();
    fs::set_permissions(top.join("lib/libx.so.1.2.3"), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("libx.so.1.2.3", top.join("lib/libx.so.1")).unwrap();
    fs::write(top.join("include/empty.h"), b"").unwrap();
    fs::write(top.join("setuid"), b"s").unwrap();
    fs::set_permissions(top.join("setuid"), fs::Permissions::from_mode(0o4755)).unwrap();
    fs::write(top.join("a"), b"twice").unwrap();
    fs::hard_link(top.join("a"), top.join("b")).unwrap();
    let fifo = std::ffi::CString::new(top.join("fifo").to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    #[allow(unsafe_code)]
    let made = unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) };
    assert_eq!(made, 0, "mkfifo");
    let split = top.join("p".repeat(60)).join("q".repeat(60));
    fs::create_dir_all(&split).unwrap();
    fs::write(split.join("r".repeat(60)), b"split").unwrap();
    if long {
        let deep = top.join("d".repeat(120));
        fs::create_dir_all(&deep).unwrap();
        fs::write(deep.join("f".repeat(150)), b"long").unwrap();
        let target = format!("{}/{}", "d".repeat(120), "f".repeat(150));
        std::os::unix::fs::symlink(target, top.join("longlink")).unwrap();
    }
}

/// `tar -tvf`'s line for a header: mode string, size, name and target (no owner or date).
fn tv_line(header: &Header) -> String {
    let kind = match header.kind {
        Kind::File => '-',
        Kind::Dir => 'd',
        Kind::Symlink => 'l',
        Kind::HardLink => 'h',
        Kind::Other(b'6') => 'p',
        Kind::Other(_) => '?',
    };
    let m = header.mode;
    let bit = |mask: u32, c: char| if m & mask != 0 { c } else { '-' };
    let special = |exec: u32, special: u32, on: char| match (m & exec != 0, m & special != 0) {
        (true, true) => on,
        (false, true) => on.to_ascii_uppercase(),
        (x, false) => {
            if x {
                'x'
            } else {
                '-'
            }
        }
    };
    let perms: String = [
        bit(0o400, 'r'),
        bit(0o200, 'w'),
        special(0o100, 0o4000, 's'),
        bit(0o040, 'r'),
        bit(0o020, 'w'),
        special(0o010, 0o2000, 's'),
        bit(0o004, 'r'),
        bit(0o002, 'w'),
        special(0o001, 0o1000, 't'),
    ]
    .into_iter()
    .collect();
    let name = String::from_utf8(header.path.clone()).unwrap();
    let target = String::from_utf8(header.link_target.clone()).unwrap();
    match header.kind {
        Kind::Symlink => format!("{kind}{perms} {} {name} -> {target}", header.size),
        Kind::HardLink => format!("{kind}{perms} {} {name} link to {target}", header.size),
        _ => format!("{kind}{perms} {} {name}", header.size),
    }
}

/// `tar -tvf`'s listing with the owner and date columns dropped.
fn gnu_listing(archive: &Path) -> Vec<String> {
    let out = gnu_tar().args(["--numeric-owner", "--quoting-style=literal", "-tvf"]).arg(archive).output().unwrap();
    assert!(out.status.success(), "tar -tvf: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // mode, owner, size, date, time, name...
            format!("{} {} {}", fields[0], fields[2], fields[5..].join(" "))
        })
        .collect()
}

#[test]
fn gnu_tar_archives_in_every_format_list_as_tar_tvf_lists_them() {
    for format in ["ustar", "gnu", "pax", "v7"] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let long = matches!(format, "gnu" | "pax");
        sample_tree(&root, long);
        let archive = dir.path().join(format!("{format}.tar"));
        let mut command = gnu_tar();
        command.arg(format!("--format={format}"));
        if format == "v7" {
            // v7 has no FIFOs and no names past 99 bytes.
            command.args(["--exclude=top/fifo", "--exclude=top/ppp*"]);
        }
        let out = command.arg("-cf").arg(&archive).arg("-C").arg(&root).arg("top").output().unwrap();
        assert!(out.status.success(), "tar --format={format}: {}", String::from_utf8_lossy(&out.stderr));
        let bytes = fs::read(&archive).unwrap();

        let listed = entries(&bytes);
        let ours: Vec<String> = listed.iter().map(|(h, _)| tv_line(h)).collect();
        assert_eq!(ours, gnu_listing(&archive), "format {format}");
        let expected_len = if format == "v7" { 9 } else { 13 + if long { 3 } else { 0 } };
        assert_eq!(listed.len(), expected_len, "format {format}: {ours:#?}");
        // Every file's data is the file's.
        for (header, data) in &listed {
            if header.kind == Kind::File {
                let path = root.join(String::from_utf8(header.path.clone()).unwrap());
                assert_eq!(data, &fs::read(&path).unwrap(), "{}", path.display());
            }
        }
        if format != "v7" {
            assert!(listed.iter().any(|(h, _)| h.kind == Kind::Other(b'6')), "format {format}: a FIFO");
            assert!(listed.iter().any(|(h, _)| h.kind == Kind::HardLink), "format {format}: a hard link");
        }
        if long {
            let long_name = format!("top/{}/{}", "d".repeat(120), "f".repeat(150));
            assert!(listed.iter().any(|(h, _)| h.path == long_name.as_bytes()), "format {format}");
            let link = listed.iter().find(|(h, _)| h.path == b"top/longlink").unwrap();
            assert_eq!(link.0.link_target.len(), 271, "format {format}");
        }
        // The tar crate reads the same (it has no prefix-free ustar quirks here).
        assert_same_as_tar_crate(&bytes);
    }
}

// ---------------------------------------------------------------------------------------------------
// Numbers and checksums

#[test]
fn numeric_fields_in_the_forms_writers_use() {
    for (field, value) in [
        (&b"0000644\0"[..], 0o644),
        (b"    644 ", 0o644),
        (b"644\0\0\0\0\0", 0o644),
        (b"\0  644\0 ", 0o644),
        // No terminator: 12 octal digits in a size field.
        (b"777777777777", 0o777_777_777_777),
        (b"\x80\0\0\0\0\0\0\x02\x40\0\0\0", 9 << 30),
        (b"\x80\xff\xff\xff\xff\xff\xff\xff", (1 << 56) - 1),
        // All NULs: zero, as GNU tar reads it (some writers leave fields they do not use empty).
        (b"\0\0\0\0\0\0\0\0", 0),
    ] {
        assert_eq!(parse_number(field), Ok(value), "{field:?}");
    }
    for (field, problem) in [
        (&b"        "[..], "not a number"),
        (b"\0  \0\0\0\0\0", "not a number"),
        (b"0000648\0", "not a number"),
        (b"64 4\0\0\0\0", "not a number"),
        (b"-1\0\0\0\0\0\0", "not a number"),
        (b"\x81\0\0\0\0\0\0\x01", "not a number"),
        (b"\xff\xff\xff\xff\xff\xff\xff\xff", "negative"),
        (b"\x80\0\0\x01\0\0\0\0\0\0\0\0", "64 bits"),
        (b"777777777777777777777777777777", "64 bits"),
    ] {
        let err = parse_number(field).unwrap_err();
        assert!(err.contains(problem), "{field:?}: {err}");
    }
}

/// A ustar header for a file of `size` bytes, with its checksum.
fn file_header(name: &str, size: u64) -> [u8; BLOCK] {
    tar_header(name.as_bytes(), b'0', size, 0o644, b"")
}

/// Writes `value` into `field` and recomputes the (unsigned) checksum.
fn set(header: &mut [u8; BLOCK], (at, len): (usize, usize), value: &[u8]) {
    header[at..at + len].fill(0);
    header[at..at + value.len()].copy_from_slice(value);
    reseal(header);
}

fn reseal(header: &mut [u8; BLOCK]) {
    header[148..156].fill(b' ');
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

/// `blocks` (headers and data), padded, then the end-of-archive marker.
fn archive(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(part);
        pad_to_block(&mut out);
    }
    out.extend([0; 2 * BLOCK]);
    out
}

#[test]
fn checksums_are_verified_as_unsigned_or_signed_sums() {
    let mut header = file_header("top/caf\u{e9}", 2);
    assert!(entries(&archive(&[&header, b"ok"])).len() == 1);
    // The same header with a signed sum (bytes past 0x7f count negative), as old Unix tars wrote it.
    let signed: i64 =
        header.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { i64::from(b as i8) }).sum();
    header[148..156].copy_from_slice(format!("{signed:06o}\0 ").as_bytes());
    assert_eq!(entries(&archive(&[&header, b"ok"]))[0].0.path, "top/caf\u{e9}".as_bytes());

    let mut bad = file_header("top/a", 2);
    bad[0] ^= 1;
    let problem = malformed_problem(list(&archive(&[&bad, b"ok"])));
    assert!(problem.contains("bad checksum") && problem.contains("at byte 0"), "{problem}");
    let mut garbled = file_header("top/a", 2);
    garbled[148..156].copy_from_slice(b"garbage!");
    assert!(malformed_problem(list(&archive(&[&garbled, b"ok"]))).contains("checksum field"));
}

#[test]
fn a_base_256_size_is_read_and_sizes_that_overflow_are_refused() {
    let mut header = file_header("top/a", 0);
    set(&mut header, SIZE, b"\x80\0\0\0\0\0\0\0\0\0\x05\x14");
    let data = vec![7u8; 1300];
    let listed = entries(&archive(&[&header, &data]));
    assert_eq!((listed[0].0.size, listed[0].1.len()), (1300, 1300));

    // Past 8 GiB: the header is read; the data is not there.
    set(&mut header, SIZE, b"\x80\0\0\0\0\0\0\x02\x40\0\0\0");
    let bytes = archive(&[&header, b"short"]);
    let mut reader = TarReader::new(&bytes[..]);
    assert_eq!(reader.next_header().unwrap().unwrap().size, 9 << 30);
    let err = io::copy(&mut reader.data(), &mut io::sink()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);

    for (size, problem) in [
        (&b"\x80\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"[..], "64 bits"),
        (b"\x80\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff", "overflows"),
        (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "negative"),
        (b"99999999999\0", "not a number"),
    ] {
        set(&mut header, SIZE, size);
        let problem_seen = malformed_problem(list(&archive(&[&header])));
        assert!(problem_seen.contains(problem), "{size:?}: {problem_seen}");
    }
}

// ---------------------------------------------------------------------------------------------------
// Extended headers

fn extended(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut out = tar_header(b"././@LongLink", kind, data.len() as u64, 0o644, b"").to_vec();
    out.extend_from_slice(data);
    pad_to_block(&mut out);
    out
}

fn pax(records: &[(&str, &[u8])]) -> Vec<u8> {
    let records: Vec<(&str, Vec<u8>)> = records.iter().map(|(k, v)| (*k, v.to_vec())).collect();
    extended(b'x', &pax_records(&records))
}

#[test]
fn names_with_nul_or_newline_are_given_whole_never_cut() {
    let header = file_header("ignored", 1);
    let listed = entries(&archive(&[&pax(&[("path", b"top/a\0b\nc")]), &header, b"x"]));
    assert_eq!(listed[0].0.path, b"top/a\0b\nc");
    // A GNU long name ends in NULs, which are dropped; one inside stays.
    let listed = entries(&archive(&[&extended(b'L', b"top/a\0b\0\0"), &header, b"x"]));
    assert_eq!(listed[0].0.path, b"top/a\0b");
    let link = tar_header(b"top/l", b'2', 0, 0o777, b"short");
    let listed = entries(&archive(&[&extended(b'K', b"long/target\0"), &link]));
    assert_eq!((listed[0].0.kind, &listed[0].0.link_target[..]), (Kind::Symlink, &b"long/target"[..]));
}

#[test]
fn pax_size_is_followed_and_reported_beside_the_header_size() {
    // PAX says 3, the header 700: the data is 3 bytes, and the next header comes after them.
    let header = file_header("top/a", 700);
    let next = file_header("top/b", 1);
    let listed = entries(&archive(&[&pax(&[("size", b"3")]), &header, b"abc", &next, b"b"]));
    assert_eq!((listed[0].0.size, listed[0].0.header_size, &listed[0].1[..]), (3, 700, &b"abc"[..]));
    assert_eq!(listed[1].0.path, b"top/b");
}

#[test]
fn malformed_extended_headers_are_refused() {
    let file = file_header("top/a", 1);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("PAX size past 64 bits", pax(&[("size", b"99999999999999999999999")]), "64-bit decimal"),
        ("PAX size not a number", pax(&[("size", b"12a")]), "64-bit decimal"),
        ("empty PAX size", pax(&[("size", b"")]), "64-bit decimal"),
        ("two PAX sizes", pax(&[("size", b"1"), ("size", b"1")]), "two `size` records"),
        ("empty PAX path", pax(&[("path", b"")]), "empty `path`"),
        ("PAX record length too long", extended(b'x', b"99 path=x\n"), "bytes where"),
        ("PAX record length not a number", extended(b'x', b"1x path=x\n"), "not a number"),
        ("PAX record without a length", extended(b'x', b"path=x\n"), "without a length"),
        ("PAX record without newline", extended(b'x', b"9 path=xy"), "newline"),
        ("PAX record without =", extended(b'x', b"9 pathxy\n"), "without `=`"),
        ("PAX record of length 0", extended(b'x', b"0 \n"), "bytes where"),
        ("two PAX headers", [pax(&[("mtime", b"1")]), pax(&[("mtime", b"2")])].concat(), "two PAX"),
        ("two long names", [extended(b'L', b"a\0"), extended(b'L', b"b\0")].concat(), "two GNU long name"),
        ("two long links", [extended(b'K', b"a\0"), extended(b'K', b"b\0")].concat(), "two GNU long link"),
        ("long name and PAX path", [extended(b'L', b"a\0"), pax(&[("path", b"b")])].concat(), "named twice"),
        ("long link and PAX linkpath", [extended(b'K', b"a\0"), pax(&[("linkpath", b"b")])].concat(), "two link"),
        ("global size", extended(b'g', &pax_records(&[("size", b"1".to_vec())])), "readers apply differently"),
        ("global path", extended(b'g', &pax_records(&[("path", b"x".to_vec())])), "readers apply differently"),
    ];
    for (what, headers, problem) in cases {
        let seen = malformed_problem(list(&archive(&[&headers, &file, b"a"])));
        assert!(seen.contains(problem), "{what}: {seen}");
    }
}

#[test]
fn extended_headers_must_be_followed_by_their_entry() {
    for headers in [extended(b'L', b"top/long\0"), extended(b'K', b"t\0"), pax(&[("path", b"top/p")])] {
        // Then the end-of-archive marker, or the end of the input.
        let seen = malformed_problem(list(&archive(&[&headers])));
        assert!(seen.contains("followed by a zero block"), "{seen}");
        let seen = malformed_problem(list(&headers));
        assert!(seen.contains("before the entry they describe"), "{seen}");
    }
}

#[test]
fn extended_headers_past_the_limit_are_refused_before_they_are_read() {
    for kind in [b'L', b'K', b'x', b'g'] {
        // The header claims 64 KiB + 1 bytes; none follow, and none are read.
        let header = tar_header(b"././@LongLink", kind, MAX_EXTENDED + 1, 0o644, b"");
        match list(&header) {
            Err(TarError::TooLong { what, .. }) => assert!(what.contains("65536"), "{what}"),
            other => panic!("type {}: {other:?}", kind as char),
        }
    }
    // At the limit is fine.
    let name = [vec![b'n'; MAX_EXTENDED as usize - 1], vec![0]].concat();
    let listed = entries(&archive(&[&extended(b'L', &name), &file_header("x", 0)]));
    assert_eq!(listed[0].0.path.len(), MAX_EXTENDED as usize - 1);
}

#[test]
fn a_global_header_is_parsed_and_ignored_and_sparse_files_are_named_as_such() {
    let global = extended(b'g', &pax_records(&[("comment", b"0123abcd".to_vec())]));
    let listed = entries(&archive(&[&global, &file_header("top/a", 1), b"a"]));
    assert_eq!(listed.len(), 1);
    let malformed_global = extended(b'g', b"5 x\n");
    assert!(list(&archive(&[&malformed_global, &file_header("top/a", 1), b"a"])).is_err());

    let sparse_pax = pax(&[("GNU.sparse.major", b"1"), ("GNU.sparse.minor", b"0")]);
    let listed = entries(&archive(&[&sparse_pax, &file_header("top/GNUSparseFile.0/a", 1), b"a"]));
    assert_eq!(listed[0].0.kind, Kind::Other(b'S'));
    for (typeflag, kind) in [(0, Kind::File), (b'7', Kind::Other(b'7')), (b'Q', Kind::Other(b'Q'))] {
        let header = tar_header(b"top/t", typeflag, 0, 0o644, b"");
        assert_eq!(entries(&archive(&[&header]))[0].0.kind, kind, "typeflag {typeflag}");
    }
}

// ---------------------------------------------------------------------------------------------------
// Where the archive ends

#[test]
fn the_archive_ends_at_two_zero_blocks_or_at_the_input_end_after_one() {
    let file = file_header("top/a", 1);
    let body = [&file[..], b"a", &[0; BLOCK - 1]].concat();
    let (_, end) = list(&[&body[..], &[0; 2 * BLOCK]].concat()).unwrap();
    assert_eq!(end, Some(End::Marker));
    let (listed, end) = list(&[&body[..], &[0; BLOCK]].concat()).unwrap();
    assert_eq!((listed.len(), end), (1, Some(End::LoneZeroBlock)));
    // After the marker, the reader reads nothing more: what follows is the caller's to judge.
    let mut with_more = [&body[..], &[0; 2 * BLOCK], b"more"].concat();
    let mut reader = TarReader::new(&with_more[..]);
    while reader.next_header().unwrap().is_some() {}
    let mut rest = Vec::new();
    reader.into_inner().read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"more");

    // No marker at all, part of one, a non-zero block after a zero block.
    assert!(malformed_problem(list(&body)).contains("without its end-of-archive marker"));
    assert!(malformed_problem(list(&[&body[..], &[0; 700]].concat())).contains("ends inside the header"));
    with_more = [&body[..], &[0; BLOCK], &file[..], b"a"].concat();
    assert!(malformed_problem(list(&with_more)).contains("non-zero block"));
}

#[test]
fn truncated_headers_and_data_are_refused() {
    let file = file_header("top/a", 1000);
    let data = vec![b'a'; 1000];
    let whole = archive(&[&file, &data]);
    // Inside the header.
    assert!(malformed_problem(list(&whole[..300])).contains("inside the header at byte 0"));
    // Inside the data: the data reader fails; skipping it instead fails too.
    let mut reader = TarReader::new(&whole[..BLOCK + 300]);
    reader.next_header().unwrap().unwrap();
    let err = io::copy(&mut reader.data(), &mut io::sink()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    let mut reader = TarReader::new(&whole[..BLOCK + 300]);
    reader.next_header().unwrap().unwrap();
    match reader.next_header() {
        Err(TarError::Malformed { entry: Some(entry), problem }) => {
            assert_eq!(entry, "top/a");
            assert!(problem.contains("ends inside it"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
    // Inside the padding.
    assert!(list(&whole[..BLOCK + 1010]).is_err());
}

#[test]
fn the_inputs_own_errors_come_back_unchanged() {
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
            }
            self.0 -= 1;
            buf[0] = 0;
            Ok(1)
        }
    }
    match TarReader::new(Failing(100)).next_header() {
        Err(TarError::Read { source, .. }) => assert_eq!(source.kind(), io::ErrorKind::ConnectionReset),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------------
// Through the extractor

#[test]
fn gnu_tar_tgz_archives_unpack_through_the_extractor() {
    for format in ["ustar", "gnu", "pax"] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let long = format != "ustar";
        sample_tree(&root, long);
        // What the allowlist refuses: tested in extract::tests.
        fs::remove_file(root.join("top/fifo")).unwrap();
        fs::remove_file(root.join("top/b")).unwrap();
        let archive = dir.path().join("a.tgz");
        let out = gnu_tar()
            .arg(format!("--format={format}"))
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(&root)
            .arg("top")
            .output()
            .unwrap();
        assert!(out.status.success(), "tar --format={format}: {}", String::from_utf8_lossy(&out.stderr));
        let dest = dir.path().join("dest");
        fs::create_dir(&dest).unwrap();
        let unpacked = super::super::unpack_tar_gz(&mut fs::File::open(&archive).unwrap(), &dest, &Default::default())
            .unwrap_or_else(|e| panic!("format {format}: {e}"));
        assert_eq!((unpacked.files, unpacked.symlinks), (if long { 6 } else { 5 }, if long { 2 } else { 1 }));
        let lib = dest.join("top/lib/libx.so.1.2.3");
        assert_eq!(fs::read(&lib).unwrap(), fs::read(root.join("top/lib/libx.so.1.2.3")).unwrap());
        assert_eq!(fs::read(dest.join("top/lib/libx.so.1")).unwrap(), fs::read(&lib).unwrap(), "through the link");
        assert_eq!(fs::metadata(&lib).unwrap().permissions().mode() & 0o7777, 0o755);
        assert_eq!(fs::metadata(dest.join("top/setuid")).unwrap().permissions().mode() & 0o7777, 0o755, "no setuid");
        let split = format!("top/{}/{}/{}", "p".repeat(60), "q".repeat(60), "r".repeat(60));
        assert_eq!(fs::read(dest.join(split)).unwrap(), b"split");
        if long {
            let long_name = format!("top/{}/{}", "d".repeat(120), "f".repeat(150));
            assert_eq!(fs::read(dest.join(long_name)).unwrap(), b"long");
            assert_eq!(fs::read(dest.join("top/longlink")).unwrap(), b"long");
        }
    }
}

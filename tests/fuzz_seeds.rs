//! Seed corpora for the fuzz targets in `fuzz/`, made by the test generators: the shipped manifests
//! (and malformed variants), real stand-in libraries (x86_64 and aarch64 `.so`, a static `.a`), the
//! headers of the real ORT libraries in `.test-assets/` (their first 256 KiB: headers, load commands
//! and section tables; whole files of 25–45 MB would slow each run a thousandfold), and valid and
//! hostile `.tgz` / `.zip` archives, tar streams (GNU long names, PAX headers, base-256 sizes), and
//! HTTP responses (well-formed and hostile).
//!
//! `cargo test` runs every seed through the fuzz entry points once (a smoke test that they never
//! panic); `ci/fuzz.sh` writes them out with `cargo test --test fuzz_seeds -- --out DIR`, giving
//! `DIR/<target>/<seed>`. Nothing large is committed.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use onnxruntime_provision::internal::fuzz;
use support::hostile::*;
use support::{AARCH64, X86_64, archive};

const TOP: &str = "onnxruntime-linux-x64-1.22.0";
const ASSET_PREFIX: usize = 256 << 10;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scratch = support::tempdir();
    let out = match args.iter().position(|a| a == "--out") {
        Some(i) => PathBuf::from(args.get(i + 1).expect("--out needs a directory")),
        None => scratch.path().join("corpus"),
    };
    let seeds = seeds(scratch.path());
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for (target, name, bytes) in &seeds {
        let dir = out.join(target);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(name), bytes).unwrap();
        *counts.entry(target).or_default() += 1;
        // Each seed through its entry point, as the fuzzer will run it first.
        let work = scratch.path().join("work");
        fs::create_dir_all(&work).unwrap();
        match *target {
            "manifest" => fuzz::manifest(bytes),
            "binary_header" => fuzz::binary_header(bytes),
            "tgz" => fuzz::tar_gz(bytes, &work),
            "tar" => fuzz::tar(bytes),
            "zip" => fuzz::zip(bytes, &work),
            "http_response" => fuzz::http_response(bytes),
            other => unreachable!("{other}"),
        }
        assert_eq!(fs::read_dir(&work).unwrap().count(), 0, "{target}/{name} left files in the scratch directory");
    }
    for target in ["manifest", "binary_header", "tgz", "tar", "zip", "http_response"] {
        assert!(counts.get(target).copied().unwrap_or(0) >= 3, "too few seeds for {target}: {counts:?}");
    }
    println!("fuzz seeds in {}: {counts:?}", out.display());
    println!("fuzz_seeds: 1 passed, 0 failed");
}

/// (target, file name, bytes) for every seed.
fn seeds(scratch: &Path) -> Vec<(&'static str, String, Vec<u8>)> {
    let mut seeds = Vec::new();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));

    // Manifests: the shipped ones, and the malformed forms the parser must refuse.
    let mut shipped: Vec<PathBuf> = fs::read_dir(repo.join("manifests")).unwrap().map(|e| e.unwrap().path()).collect();
    shipped.sort();
    let first_line = fs::read_to_string(&shipped[0])
        .unwrap()
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .unwrap()
        .to_string();
    for path in &shipped {
        seeds.push(("manifest", file_name(path), fs::read(path).unwrap()));
    }
    let words: Vec<&str> = first_line.split_whitespace().collect();
    let with = |i: usize, value: &str| {
        let mut w = words.clone();
        w[i] = value;
        w.join(" ")
    };
    for (name, text) in [
        ("bad-hex", with(4, &"g".repeat(64))),
        ("short-hash", with(4, "abcd")),
        ("bad-size", with(5, "12x")),
        ("duplicate", format!("{first_line}\n{first_line}\n")),
        ("comments", format!("# comment\n\n{first_line} # trailing\n")),
    ] {
        seeds.push(("manifest", format!("{name}.txt"), text.into_bytes()));
    }

    // Library headers: real stand-ins, a static library, and the real ORT files' headers.
    let libs = scratch.join("libs");
    for target in [X86_64, AARCH64] {
        let lib = support::build_standin(&libs.join(target), "1.22.0", target);
        seeds.push(("binary_header", format!("standin-{target}.so"), fs::read(lib).unwrap()));
    }
    seeds.push(("binary_header", "standin.a".into(), static_library(&libs)));
    let assets = repo.join(".test-assets");
    let real = find_files(&assets);
    assert!(
        real.len() >= 5,
        "the real ORT libraries are missing from {}: run `bash ci/test-assets.sh`",
        assets.display()
    );
    for path in real {
        let bytes = fs::read(&path).unwrap();
        let name = path.strip_prefix(&assets).unwrap().to_string_lossy().replace('/', "_");
        seeds.push(("binary_header", format!("{name}.head"), bytes[..bytes.len().min(ASSET_PREFIX)].to_vec()));
    }

    // Archives: the official layout with its symlink chain, and hostile ones of every kind.
    let tree = support::official_tree(&scratch.join("tree"), TOP, "1.22.0", X86_64);
    seeds.push(("tgz", "official.tgz".into(), archive::tgz(&tree, TOP, "x.tgz").bytes));
    seeds.push(("zip", "official.zip".into(), archive::zip(&tree, TOP, "x.zip").bytes));
    let small = [
        tar_dir(&format!("{TOP}/")),
        tar_file(&format!("{TOP}/lib/libonnxruntime.so.1.22.0"), b"\x7fELF"),
        tar_link(&format!("{TOP}/lib/libonnxruntime.so.1"), "libonnxruntime.so.1.22.0"),
        tar_file(&format!("{TOP}/VERSION_NUMBER"), b"1.22.0\n"),
    ];
    seeds.push(("tgz", "small.tgz".into(), tgz(&small)));
    let escape = [tar_link(&format!("{TOP}/evil"), "../../x"), tar_file(&format!("{TOP}/evil/f"), b"f")];
    seeds.push(("tgz", "escape.tgz".into(), tgz(&escape)));
    seeds.push(("tgz", "dotdot.tgz".into(), tgz(&[tar_file("../x", b"x")])));
    let pax = TarEntry { pax: vec![("size", b"3".to_vec())], header_size: Some(9), ..tar_file("top/a", b"aaaaaaaaa") };
    seeds.push(("tgz", "pax-size.tgz".into(), tgz(std::slice::from_ref(&pax))));
    seeds.push((
        "tgz",
        "hardlink.tgz".into(),
        tgz(&[tar_file("t/a", b"a"), TarEntry { link: b"t/a".to_vec(), ..tar_special("t/b", b'1') }]),
    ));
    // Tar streams for the tar reader alone: the same entries, and every extended header it reads.
    seeds.push(("tar", "small.tar".into(), tar_bytes(&small)));
    seeds.push(("tar", "pax-size.tar".into(), tar_bytes(&[pax])));
    let long = format!("{TOP}/include/{}.h", "n".repeat(150));
    let gnu_long = TarEntry { data: format!("{long}\0").into_bytes(), ..tar_special("././@LongLink", b'L') };
    let extended = [
        gnu_long,
        tar_file("ignored", b"gnu long name"),
        TarEntry { pax: vec![("path", long.clone().into_bytes()), ("mtime", b"1.5".to_vec())], ..tar_file("x", b"p") },
        TarEntry { pax: vec![("linkpath", long.into_bytes())], ..tar_link(&format!("{TOP}/l"), "ignored") },
        TarEntry { data: pax_records(&[("comment", b"0123abcd".to_vec())]), ..tar_special("g", b'g') },
        tar_special(&format!("{TOP}/fifo"), b'6'),
    ];
    seeds.push(("tar", "extended.tar".into(), tar_bytes(&extended)));
    let mut base256 = tar_header(b"top/big", b'0', 0, 0o644, b"");
    base256[124..136].copy_from_slice(b"\x80\0\0\0\0\0\0\0\0\0\x02\0");
    base256[148..156].fill(b' ');
    let sum: u32 = base256.iter().map(|&b| u32::from(b)).sum();
    base256[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut stream = base256.to_vec();
    stream.extend([b'z'; 512]);
    stream.extend([0; 1024]);
    seeds.push(("tar", "base256.tar".into(), stream));
    seeds.push(("zip", "small.zip".into(), zip_bytes(&[zip_dir("t/"), zip_file("t/a", b"a"), zip_link("t/l", "a")])));
    seeds.push(("zip", "escape.zip".into(), zip_bytes(&[zip_link("t/l", "../.."), zip_file("t/l/x", b"x")])));
    seeds.push(("zip", "duplicate.zip".into(), zip_bytes(&[zip_file("t/a", b"1"), zip_file("t/a", b"2")])));
    seeds.push(("zip", "liar.zip".into(), zip_bytes(&[ZipEntry { declared: Some(4), ..zip_file("t/a", &[0; 4096]) }])));
    for (name, response) in HTTP_RESPONSES {
        seeds.push(("http_response", format!("{name}.http"), response.to_vec()));
    }
    seeds
}

/// Responses as servers send them, and as hostile ones might.
const HTTP_RESPONSES: &[(&str, &[u8])] = &[
    ("length", b"HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: 5\r\n\r\nhello"),
    ("close", b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nto the end"),
    ("chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n"),
    ("interim", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n"),
    ("lf-only", b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok"),
    ("overflow", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nx\r\n"),
    ("two-framings", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc"),
    ("folded", b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"),
];

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn find_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(find_files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// `libonnxruntime.a` of one stand-in object, made with `ar` (binutils; `ci/setup.sh` installs it).
fn static_library(dir: &Path) -> Vec<u8> {
    fs::create_dir_all(dir).unwrap();
    let (src, obj, lib) = (dir.join("standin.c"), dir.join("standin.o"), dir.join("libonnxruntime.a"));
    fs::write(&src, support::STANDIN_C).unwrap();
    let status = support::compiler(X86_64)
        .args(["-c", "-fPIC", "-DORT_STANDIN_VERSION=\"1.22.0\"", "-o"])
        .arg(&obj)
        .arg(&src)
        .status()
        .unwrap();
    assert!(status.success(), "compiling the stand-in object failed");
    let status =
        Command::new("ar").arg("rcs").arg(&lib).arg(&obj).status().expect("`ar` is needed: apt-get install binutils");
    assert!(status.success(), "ar failed");
    fs::read(lib).unwrap()
}

//! Hostile input: every short prefix of real files, deterministic byte mutations of real files at
//! the places the parser reads, and headers with absurd counts, sizes and offsets. No input may make
//! the parser panic or read more than its budget; the result is an error or a consistent answer.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use super::support::{self, X86_64};
use super::toolchain::{self, PPC32};
use super::{Counting, Patched, archive, asset, elf, macho, open, pe, put};
use crate::inspect::binary::input::MAX_TOTAL_READ;
use crate::inspect::binary::{BinaryError, BinaryInfo, Format, ReadAt, parse, parse_source, read};

/// Parses `source`, turning a panic into a test failure that names the input, and checks the budget.
fn parse_guarded(label: &str, source: &dyn ReadAt) -> Result<BinaryInfo, BinaryError> {
    let counting = Counting::new(source);
    let result = catch_unwind(AssertUnwindSafe(|| parse_source(&counting)))
        .unwrap_or_else(|_| panic!("the parser panicked on {label}"));
    let bytes = counting.bytes.get();
    assert!(bytes <= MAX_TOTAL_READ, "{label}: read {bytes} bytes, past the budget of {MAX_TOTAL_READ}");
    result
}

/// A small deterministic generator (xorshift64*), so a failure names a reproducible case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Real files of every kind the parser knows, built here; the big npm assets are added by the caller.
fn corpus(dir: &std::path::Path) -> Vec<PathBuf> {
    let elf_dir = dir.join("elf");
    let exe = elf::link_consumer(&elf_dir, X86_64, &["-Wl,-rpath,/opt/ort/lib"]);
    let ppc = toolchain::elf_standin(&dir.join("ppc"), &PPC32, "1.22.0");
    let (dll, lib) = pe::standin(&dir.join("pe"), &pe::X64);
    let fat = macho::universal(&dir.join("macho"));
    let static_lib = archive::archive(&dir.join("ar"), &[archive::object(&dir.join("ar"), X86_64)]);
    vec![elf_dir.join("libonnxruntime.so.1.22.0"), exe, ppc, dll, lib, fat, static_lib]
}

/// The real assets used for mutation (the big ones are read through an overlay, never copied).
fn assets() -> Vec<PathBuf> {
    ["linux/x64/libonnxruntime.so.1", "darwin/arm64/libonnxruntime.1.30.0.dylib", "win32/x64/onnxruntime.dll"]
        .iter()
        .map(|r| asset(r))
        .collect()
}

#[test]
fn every_prefix_up_to_256_bytes_is_refused_or_an_empty_archive() {
    let dir = support::tempdir();
    for path in corpus(dir.path()).into_iter().chain(assets()) {
        let file = open(&path);
        for len in 0..=256u64.min(file.len()) {
            let mut prefix = Patched::new(&file);
            prefix.len = len;
            let label = format!("the first {len} bytes of {}", path.display());
            match parse_guarded(&label, &prefix) {
                Err(_) => {}
                // An archive cut right after a member is a valid archive with fewer members.
                Ok(info) if info.format == Format::Archive && info.archs.is_empty() => {}
                Ok(info) => panic!("{label}: accepted as {info:?}"),
            }
        }
    }
}

#[test]
fn mutating_real_files_where_the_parser_reads_never_panics() {
    let dir = support::tempdir();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut outcomes = (0, 0);
    for path in corpus(dir.path()).into_iter().chain(assets()) {
        let file = open(&path);
        // The ranges a clean parse reads are where a mutation changes what the parser does.
        let clean = Counting::new(&file as &dyn ReadAt);
        parse_source(&clean).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let ranges = clean.ranges.into_inner();
        for case in 0..1500 {
            let mut mutated = Patched::new(&file);
            for _ in 0..=rng.below(3) {
                let (offset, len) = ranges[rng.below(ranges.len() as u64) as usize];
                if len == 0 {
                    continue;
                }
                let at = offset + rng.below(len as u64);
                let mut original = [0u8];
                file.read_exact_at(at, &mut original).unwrap();
                let byte = match rng.below(6) {
                    0 => 0,
                    1 => 0xff,
                    2 => 0x80,
                    3 => 0x7f,
                    4 => original[0] ^ (1 << rng.below(8)),
                    _ => rng.next() as u8,
                };
                mutated.patches.push((at, byte));
            }
            let label = format!("{} with case {case} {:?}", path.display(), mutated.patches);
            match parse_guarded(&label, &mutated) {
                Ok(_) => outcomes.0 += 1,
                Err(_) => outcomes.1 += 1,
            }
        }
    }
    eprintln!("mutations: {} parsed, {} refused", outcomes.0, outcomes.1);
    assert!(outcomes.1 > 0 && outcomes.0 > 0, "mutations should both break and spare files: {outcomes:?}");
}

/// The file offset of the dynamic table of a little-endian ELF64 file, from its program headers.
fn dynamic_offset(bytes: &[u8]) -> usize {
    let phoff = super::get_u64(bytes, 32, false) as usize;
    let phnum = u16::from_le_bytes([bytes[56], bytes[57]]) as usize;
    (0..phnum)
        .map(|i| phoff + i * 56)
        .find(|&ph| u32::from_le_bytes(bytes[ph..ph + 4].try_into().unwrap()) == 2)
        .map(|ph| super::get_u64(bytes, ph + 8, false) as usize)
        .expect("a PT_DYNAMIC header")
}

#[test]
fn elf_with_absurd_counts_and_offsets() {
    let dir = support::tempdir();
    let lib = support::build_standin(dir.path(), "1.22.0", X86_64);
    let clean = fs::read(&lib).unwrap();
    let patched = |edits: &[(usize, &[u8])]| {
        let mut bytes = clean.clone();
        for (at, value) in edits {
            put(&mut bytes, *at, value);
        }
        bytes
    };
    let shoff = super::get_u64(&clean, 40, false) as usize;
    let dynamic = dynamic_offset(&clean);

    // Program headers past any file, and a count at the cap.
    for edits in [
        vec![(32, &(u64::MAX - 8).to_le_bytes()[..])],
        vec![(56, &0xfffeu16.to_le_bytes()[..])],
        // PN_XNUM: the count comes from section 0, which claims four billion.
        vec![(56, &0xffffu16.to_le_bytes()[..]), (shoff + 44, &u32::MAX.to_le_bytes()[..])],
        vec![(54, &8u16.to_le_bytes()[..])],
        // The first DT_NEEDED (or whatever comes first) names a string far outside the table.
        vec![(dynamic + 8, &(1u64 << 60).to_le_bytes()[..])],
        // Unknown class and byte order.
        vec![(4, &[9u8][..])],
        vec![(5, &[0u8][..])],
    ] {
        let bytes = patched(&edits);
        let label = format!("the stand-in with {edits:?}");
        assert!(parse_guarded(&label, &&bytes[..]).is_err(), "{label} was accepted");
    }

    // Section headers that cannot be believed are set aside; the program headers give the answer.
    for edits in [
        // e_shnum 0: the count comes from section 0's sh_size, here 2^40.
        vec![(60, &0u16.to_le_bytes()[..]), (shoff + 32, &(1u64 << 40).to_le_bytes()[..])],
        vec![(40, &u64::MAX.to_le_bytes()[..])],
        vec![(58, &1u16.to_le_bytes()[..])],
    ] {
        let bytes = patched(&edits);
        let info = parse_guarded(&format!("the stand-in with {edits:?}"), &&bytes[..]).unwrap();
        assert_eq!(info.soname.as_deref(), Some("libonnxruntime.so.1"));
        assert_eq!(info.version_definitions, vec!["VERS_1.22.0".to_string()]);
    }
}

#[test]
fn mach_o_with_absurd_counts() {
    let header = |ncmds: u32, sizeofcmds: u32| {
        let mut file = Vec::new();
        for field in [0xfeed_facfu32, 0x0100_000c, 0, 6, ncmds, sizeofcmds, 0, 0] {
            file.extend_from_slice(&field.to_le_bytes());
        }
        file
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("four billion commands in four billion bytes", header(u32::MAX, u32::MAX)),
        (
            "more commands than bytes",
            [header(1000, 16), vec![0x19, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]].concat(),
        ),
        ("a command of size zero", [header(2, 16), vec![1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]].concat()),
        ("a name offset outside its command", {
            let mut file = header(1, 24);
            for field in [0xdu32, 24, 4000, 0, 0, 0] {
                file.extend_from_slice(&field.to_le_bytes());
            }
            file
        }),
        ("a segment past the end", {
            let mut file = header(1, 72);
            file.extend_from_slice(&0x19u32.to_le_bytes());
            file.extend_from_slice(&72u32.to_le_bytes());
            file.extend_from_slice(&[0; 32]);
            file.extend_from_slice(&0u64.to_le_bytes());
            file.extend_from_slice(&(1u64 << 40).to_le_bytes());
            file.extend_from_slice(&[0; 16]);
            file
        }),
        (
            "a fat header claiming 2^31 architectures",
            [&0xcafe_babeu32.to_be_bytes()[..], &(1u32 << 31).to_be_bytes(), &[0; 64]].concat(),
        ),
        ("a fat slice past the end", {
            let mut file = [&0xcafe_babfu32.to_be_bytes()[..], &1u32.to_be_bytes()].concat();
            file.extend_from_slice(&0x0100_000cu32.to_be_bytes());
            file.extend_from_slice(&0u32.to_be_bytes());
            file.extend_from_slice(&(u64::MAX - 4).to_be_bytes());
            file.extend_from_slice(&100u64.to_be_bytes());
            file.extend_from_slice(&[0; 8]);
            file
        }),
    ];
    for (label, bytes) in cases {
        let counting = Counting::new(&bytes[..]);
        assert!(parse_guarded(label, &&bytes[..]).is_err(), "{label} was accepted");
        let _ = parse_source(&counting);
        assert!(counting.bytes.get() <= 1024, "{label}: read {} bytes", counting.bytes.get());
    }
}

#[test]
fn a_java_class_file_is_not_taken_for_a_fat_binary() {
    let class = [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52, 0, 10];
    let err = parse(&class).unwrap_err();
    assert!(err.to_string().contains("Java class"), "{err}");
}

#[test]
fn pe_with_absurd_offsets() {
    let dir = support::tempdir();
    let (dll, _) = pe::standin(dir.path(), &pe::X64);
    let clean = fs::read(&dll).unwrap();
    let pe_at = u32::from_le_bytes(clean[0x3c..0x40].try_into().unwrap()) as usize;
    let edit = |at: usize, value: &[u8]| {
        let mut bytes = clean.clone();
        put(&mut bytes, at, value);
        bytes
    };
    for (label, bytes) in [
        ("e_lfanew past the end", edit(0x3c, &0xffff_fff0u32.to_le_bytes())),
        ("no PE signature", edit(pe_at, b"PX\0\0")),
        ("65535 sections", edit(pe_at + 6, &0xffffu16.to_le_bytes())),
        ("an unknown optional header magic", edit(pe_at + 24, &0x999u16.to_le_bytes())),
    ] {
        assert!(parse_guarded(label, &&bytes[..]).is_err(), "{label} was accepted");
    }
    // A bogus import directory costs the import names only: the machine is what decides.
    let import_rva = pe_at + 24 + 112 + 8;
    let bytes = edit(import_rva, &0xffff_ff00u32.to_le_bytes());
    let info = parse_guarded("an import directory outside every section", &&bytes[..]).unwrap();
    assert!(info.needed.is_empty());
    assert_eq!(info.description, "PE32+ x86-64");
}

fn ar_member(name: &str, size: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{size:<10}`\n", 0, 0, 0, 644).into_bytes();
    assert_eq!(header.len(), 60);
    header.extend_from_slice(data);
    if data.len() % 2 == 1 {
        header.push(b'\n');
    }
    header
}

#[test]
fn ar_with_bogus_sizes_and_endless_indexes() {
    let elf_head = {
        let dir = support::tempdir();
        let lib = support::build_standin(dir.path(), "1.22.0", X86_64);
        fs::read(lib).unwrap()[..64].to_vec()
    };
    for (label, member) in [
        ("a size that is not a number", ar_member("a.o/", "abc", &elf_head)),
        ("a negative size", ar_member("a.o/", "-5", &elf_head)),
        ("a size past the end", ar_member("a.o/", "9999999999", &elf_head)),
        ("a BSD name longer than the member", ar_member("#1/99999", "64", &elf_head)),
        (
            "a missing end marker",
            ar_member("a.o/", "64", &elf_head)
                .into_iter()
                .enumerate()
                .map(|(i, b)| if i == 58 { b'x' } else { b })
                .collect(),
        ),
    ] {
        let bytes = [b"!<arch>\n".to_vec(), member].concat();
        assert!(parse_guarded(label, &&bytes[..]).is_err(), "{label} was accepted");
    }

    // Twenty thousand empty symbol tables, then an object: the walk gives up long before the end.
    let mut bytes = b"!<arch>\n".to_vec();
    for _ in 0..20_000 {
        bytes.extend(ar_member("/", "0", &[]));
    }
    bytes.extend(ar_member("a.o/", "64", &elf_head));
    let counting = Counting::new(&bytes[..]);
    let info = parse_source(&counting).unwrap();
    assert!(info.archs.is_empty());
    assert!(counting.bytes.get() < 128 * 1024, "read {} bytes", counting.bytes.get());

    // The same object after one symbol table is found.
    let bytes = [b"!<arch>\n".to_vec(), ar_member("/", "4", &[0; 4]), ar_member("a.o/", "64", &elf_head)].concat();
    assert_eq!(parse(&bytes).unwrap().description, "ar archive of ELF objects (x86-64)");
}

#[test]
fn files_that_are_not_binaries_say_what_they_are() {
    let cases: [(&[u8], &str); 5] = [
        (b"", "the file is empty"),
        (b"<!DOCTYPE html>\n<html><head><title>Sign in</title>", "HTML page"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a", "Git LFS pointer"),
        (&[0xde, 0xad, 0xbe, 0xef, 0x00, 0x01], "it starts with bytes de ad be ef 00 01"),
        (b"not a library\n", "it starts with \"not a library\\n\""),
    ];
    for (bytes, expected) in cases {
        match parse(bytes) {
            Err(BinaryError::NotABinary(what)) => assert!(what.contains(expected), "{what:?} lacks {expected:?}"),
            other => panic!("{bytes:?}: {other:?}"),
        }
    }
    // A real linker script where a library was expected: glibc's own libc.so.
    let script = std::path::Path::new("/usr/lib/x86_64-linux-gnu/libc.so");
    assert!(script.is_file(), "{} is missing: apt-get install libc6-dev", script.display());
    let err = read(script).unwrap_err();
    assert!(err.to_string().contains("linker script"), "{err}");
    assert!(err.to_string().contains("GNU ld script"), "{err}");
}

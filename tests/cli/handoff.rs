//! `env` hands off a directory holding every name the linker and loader ask for. A macOS archive (here
//! built with LLVM in the official layout and served from a loopback mirror) lacks
//! `libonnxruntime.1.dylib`, its dylib's install name; a Linux install may lack its SONAME file. Both
//! are staged under `<cache>/handoff/`, and programs linked through the hand-off really find their
//! library: `doctor --binary` resolves a Mach-O one as dyld would, a Linux one runs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::support::archive::{self, Archive};
use super::support::llvm::{self, ORT_INSTALL_NAME};
use super::support::server::{Reply, Server};
use super::support::{self, X86_64};
use super::{Ran, Run, sourced};

const MAC: &str = "aarch64-apple-darwin";

/// The official macOS arm64 1.22.0 archive's layout, served with a private manifest line.
struct MacRelease {
    tmp: tempfile::TempDir,
    server: Server,
    manifest: PathBuf,
    archive: Archive,
}

impl MacRelease {
    fn serve() -> MacRelease {
        let tmp = support::tempdir();
        let root = llvm::macos_official_tree(&tmp.path().join("tree"), "1.22.0", "arm64");
        let top = root.file_name().unwrap().to_str().unwrap().to_string();
        let archive = archive::tgz(&root, &top, &format!("{top}.tgz"));
        let server = Server::http();
        server.route(&archive.url_path("1.22.0"), Reply::ok(archive.bytes.clone()));
        let manifest = tmp.path().join("manifest.txt");
        fs::write(&manifest, archive.manifest_line("1.22.0", "osx-arm64", "cpu")).unwrap();
        MacRelease { tmp, server, manifest, archive }
    }

    fn cache(&self) -> PathBuf {
        self.tmp.path().join("cache")
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::new(args)
            .env("ONNXRUNTIME_MIRROR", self.server.url(""))
            .env("ONNXRUNTIME_MANIFEST", &self.manifest)
            .env("ONNXRUNTIME_CACHE_DIR", self.cache())
    }

    /// The unpacked archive's `lib/` in the cache (the directory the probe found).
    fn cached_lib(&self) -> PathBuf {
        let entry = self.cache().join(&self.archive.sha256);
        entry.join("content/onnxruntime-osx-arm64-1.22.0/lib")
    }
}

/// What `export` lines set once `sh` evaluates them: the value of each of `names`.
fn evaluated(tmp: &Path, lines: &str, names: &[&str]) -> Vec<String> {
    let vars = sourced(tmp, lines);
    let value = |name: &&str| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    names.iter().map(|name| value(name).unwrap_or_else(|| panic!("{name} is not set by:\n{lines}"))).collect()
}

/// `doctor --binary exe` with dyld's variables unset, whatever the machine has.
fn doctor_binary(tmp: &Path, cache: &Path, exe: &Path) -> Ran {
    let home = tmp.join("cargo-home");
    fs::create_dir_all(&home).unwrap();
    Run::new(&["doctor", "--binary", exe.to_str().unwrap()])
        .dir(tmp)
        .env("CARGO_HOME", &home)
        .env("RUSTC", super::real_rustc())
        .env("ONNXRUNTIME_CACHE_DIR", cache)
        .env("DYLD_LIBRARY_PATH", "")
        .env("DYLD_FALLBACK_LIBRARY_PATH", "")
        .output()
}

#[test]
fn a_macos_archive_is_handed_off_from_a_staged_dir_with_its_install_name() {
    let release = MacRelease::serve();
    let tmp = release.tmp.path();
    let shell = ["env", "--for", "shell", "--target", MAC, "--version", "1.22.0"];
    let ran = release.run(&shell).output().expect(0);
    println!("--- stdout\n{}--- stderr\n{}", ran.stdout, ran.stderr);
    let source = release.cached_lib();
    let vars = evaluated(tmp, &ran.stdout, &["DYLD_LIBRARY_PATH", "ONNXRUNTIME_DIR_aarch64_apple_darwin"]);
    let staged = PathBuf::from(&vars[0]);
    assert_eq!(staged.parent().map(Path::to_path_buf), Some(PathBuf::from(&vars[1])), "{}", ran.stdout);
    assert!(
        staged.starts_with(release.cache().join("handoff").join(MAC)) && staged.ends_with("onnxruntime/lib"),
        "{}",
        ran.stdout
    );
    let real = source.join("libonnxruntime.1.22.0.dylib");
    for name in ["libonnxruntime.1.dylib", "libonnxruntime.dylib", "libonnxruntime.1.22.0.dylib"] {
        assert_eq!(fs::canonicalize(staged.join(name)).unwrap(), real, "{name}");
    }
    assert!(fs::read_link(staged.parent().unwrap().join("include")).unwrap().join("onnxruntime_c_api.h").is_file());
    ran.stderr_has(&format!(
        "note: libonnxruntime.1.dylib, the install name the loader asks for, is not in {}; handing off {}, which \
         links it\n",
        source.display(),
        staged.display()
    ));
    assert_eq!(ran.stderr.matches("note: ").count(), 1, "{}", ran.stderr);

    // Again (the archive now cached, which the header line says): the same directory, left as it is.
    let exports = |stdout: &str| stdout.lines().skip(1).map(String::from).collect::<Vec<_>>();
    let inode = |path: &Path| std::os::unix::fs::MetadataExt::ino(&fs::symlink_metadata(path).unwrap());
    let before = inode(&staged.join("libonnxruntime.1.dylib"));
    let again = release.run(&shell).output().expect(0);
    assert_eq!(exports(&again.stdout), exports(&ran.stdout));
    assert_eq!(inode(&staged.join("libonnxruntime.1.dylib")), before, "restaged although nothing changed");

    // Runs at once, each finding the hand-off directory missing, all succeed and agree.
    fs::remove_dir_all(release.cache().join("handoff")).unwrap();
    let runs: Vec<_> = (0..4).map(|_| release.run(&shell)).collect();
    let handles: Vec<_> = runs.into_iter().map(|run| std::thread::spawn(move || run.output())).collect();
    for handle in handles {
        assert_eq!(exports(&handle.join().unwrap().expect(0).stdout), exports(&ran.stdout));
    }
    assert_eq!(fs::canonicalize(staged.join("libonnxruntime.1.dylib")).unwrap(), real);

    // What keeps them apart: each stages holding `<key>/.lock`, so a run waits while another holds it.
    let key_dir = staged.parent().unwrap().parent().unwrap();
    fs::remove_dir_all(key_dir).unwrap();
    fs::create_dir_all(key_dir).unwrap();
    let held = fs::File::create(key_dir.join(".lock")).unwrap();
    held.lock().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    let run = release.run(&shell);
    std::thread::spawn(move || sender.send(run.output()).unwrap());
    let waited = receiver.recv_timeout(Duration::from_millis(800));
    assert!(waited.is_err(), "the run did not wait for the lock");
    assert!(!staged.exists(), "staged while another run held the lock");
    held.unlock().unwrap();
    let ran_after = receiver.recv_timeout(Duration::from_secs(60)).unwrap().expect(0);
    assert_eq!(exports(&ran_after.stdout), exports(&ran.stdout));
    assert_eq!(release.server.hits(&release.archive.url_path("1.22.0")), 1, "downloaded once");
}

#[test]
fn a_program_linked_through_the_macos_hand_off_loads_and_one_linked_against_the_archive_does_not() {
    let release = MacRelease::serve();
    let tmp = release.tmp.path();
    let project = super::copy_fixture("wasmtime25", tmp); // ort-sys 2.0.0-rc.15: ORT_LIB_LOCATION is the lib dir
    let manifest = project.join("Cargo.toml");
    let manifest = manifest.to_str().unwrap();
    let args =
        ["env", "--for", "ort-sys", "--write", "--target", MAC, "--version", "1.22.0", "--manifest-path", manifest];
    let ran = release.run(&args).output().expect(0);
    println!("--- stdout\n{}--- stderr\n{}", ran.stdout, ran.stderr);
    ran.stderr_has("note: libonnxruntime.1.dylib, the install name the loader asks for, is not in ");
    let text = fs::read_to_string(project.join(".cargo/config.toml")).unwrap();
    let doc: toml_edit::DocumentMut = text.parse().unwrap();
    let staged = PathBuf::from(doc["env"]["ORT_LIB_LOCATION"].as_str().unwrap());
    assert!(staged.starts_with(release.cache().join("handoff").join(MAC)), "{text}");
    let flags: Vec<&str> =
        doc["target"][MAC]["rustflags"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let rpath = format!("link-arg=-Wl,-rpath,{}", staged.display());
    assert!(flags.windows(2).any(|pair| pair == ["-C", rpath.as_str()]), "{text}");

    // What ort-sys then does: `-L <ORT_LIB_LOCATION> -lonnxruntime`, plus the written rpath.
    let dir = staged.to_str().unwrap();
    let exe = llvm::macho_executable_linking(&tmp.join("app"), "app", "arm64", &staged, &[dir]);
    let ran = doctor_binary(tmp, &release.cache(), &exe).expect(0);
    println!("--- doctor (hand-off)\n{}", ran.stdout);
    ran.stdout_has(&format!("ok       {} loads {ORT_INSTALL_NAME} from ", exe.display()))
        .stdout_has(&format!("found via LC_RPATH {dir}\n"))
        .stdout_has("0 problems");

    // The same program linked against the archive's own lib/ (the hand-off before this fix).
    let source = release.cached_lib();
    let src = source.to_str().unwrap();
    let bare = llvm::macho_executable_linking(&tmp.join("bare"), "app", "arm64", &source, &[src]);
    let ran = doctor_binary(tmp, &release.cache(), &bare).expect(1);
    println!("--- doctor (archive's lib/)\n{}", ran.stdout);
    ran.stdout_has(&format!("PROBLEM  {} will not start: Library not loaded: {ORT_INSTALL_NAME}", bare.display()))
        .stdout_has(&format!("{src} has libonnxruntime.1.22.0.dylib but no libonnxruntime.1.dylib"))
        // The fix is the hand-off, never a link added inside the cache entry (which must not change).
        .stdout_has("eval \"$(cargo onnxruntime env --for shell --target aarch64-apple-darwin --version 1.22.0)\"");
    assert!(!ran.stdout.contains("ln -s"), "{}", ran.stdout);
}

#[test]
fn a_linux_install_without_its_soname_file_is_staged_and_a_linked_program_runs() {
    let tmp = support::tempdir();
    let (root, lib) = install_1_16(tmp.path());
    let cache = tmp.path().join("cache");

    let ran = shell_hand_off(&root, &cache);
    ran.stderr_has(&format!(
        "note: libonnxruntime.so.1, the SONAME the loader asks for, is not in {}; handing off ",
        lib.display()
    ));
    let vars = evaluated(tmp.path(), &ran.stdout, &["LD_LIBRARY_PATH"]);
    let staged = PathBuf::from(&vars[0]);
    assert!(staged.starts_with(cache.join("handoff").join(X86_64)), "{}", ran.stdout);
    assert_eq!(fs::canonicalize(staged.join("libonnxruntime.so.1")).unwrap(), lib.join("libonnxruntime.so.1.16.0"));

    // A program linked there records libonnxruntime.so.1, which the handed-off directory has.
    let program = support::version_printer(tmp.path(), &staged, None);
    let with = |dir: &Path| Command::new(&program).env("LD_LIBRARY_PATH", dir).output().unwrap();
    let output = with(&staged);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "ONNX Runtime 1.16.0\n", "{output:?}");
    // The install's own lib/ is what was handed off before: the loader cannot find the program's library.
    let output = with(&lib);
    assert!(!output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("libonnxruntime.so.1"), "{output:?}");
}

#[test]
fn a_soname_link_left_pointing_at_another_release_is_not_handed_off() {
    // libonnxruntime.so leads to 1.16.0, but libonnxruntime.so.1 (what the loader asks for) still leads
    // to an older release left in the same directory.
    let tmp = support::tempdir();
    let (root, lib) = install_1_16(tmp.path());
    support::build_standin(&lib, "1.15.1", X86_64);
    support::symlink("libonnxruntime.so.1.15.1", &lib.join("libonnxruntime.so.1"));
    let cache = tmp.path().join("cache");

    let ran = shell_hand_off(&root, &cache);
    ran.stderr_has(&format!(
        "note: libonnxruntime.so.1, the SONAME the loader asks for, is in {} but leads to another file than {}; handing off ",
        lib.display(),
        lib.join("libonnxruntime.so.1.16.0").display()
    ));
    let staged = PathBuf::from(&evaluated(tmp.path(), &ran.stdout, &["LD_LIBRARY_PATH"])[0]);
    assert!(staged.starts_with(cache.join("handoff").join(X86_64)), "{}", ran.stdout);
    assert_eq!(fs::canonicalize(staged.join("libonnxruntime.so.1")).unwrap(), lib.join("libonnxruntime.so.1.16.0"));
    // The older release's own file name is not passed off as a name of the chosen one.
    assert!(fs::symlink_metadata(staged.join("libonnxruntime.so.1.15.1")).is_err());
}

/// An install laid out as 1.16.0's archive was: `libonnxruntime.so -> libonnxruntime.so.1.16.0`, and no
/// `libonnxruntime.so.1`. Returns its root and `lib/`.
fn install_1_16(parent: &Path) -> (PathBuf, PathBuf) {
    let root = parent.join("onnxruntime-linux-x64-1.16.0");
    let lib = root.join("lib");
    support::build_standin(&lib, "1.16.0", X86_64);
    support::symlink("libonnxruntime.so.1.16.0", &lib.join("libonnxruntime.so"));
    fs::create_dir_all(root.join("include")).unwrap();
    fs::write(root.join("include/onnxruntime_c_api.h"), "#define ORT_API_VERSION 16\n").unwrap();
    fs::write(root.join("VERSION_NUMBER"), "1.16.0\n").unwrap();
    (root, lib)
}

/// `env --for shell` told the install by `ONNXRUNTIME_DIR`, with its cache (and so its hand-off
/// directory) at `cache`.
fn shell_hand_off(root: &Path, cache: &Path) -> Ran {
    let ran = Run::new(&["env", "--for", "shell"])
        .env("ONNXRUNTIME_DIR", root)
        .env("ONNXRUNTIME_CACHE_DIR", cache)
        .output()
        .expect(0);
    println!("--- stdout\n{}--- stderr\n{}", ran.stdout, ran.stderr);
    ran
}

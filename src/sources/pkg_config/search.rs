//! Where pkg-config would look for a package's `.pc`, so that the common answer, "it is nowhere", costs
//! no process: running pkg-config took 3.5–5 ms of a 6 ms warm probe (issue 7).
//!
//! The answer is "absent" only when pkg-config certainly would not find the package; whenever it could,
//! or the setup is one not modelled here, pkg-config is asked as before. What is modelled, for the
//! program the `pkg-config` crate would run with the variables it would pass (its rules, mirrored below):
//! - the search path: the dirs of `PKG_CONFIG_PATH`, then those of `PKG_CONFIG_LIBDIR` when it is set
//!   (even empty), else the compiled-in default, which only the program knows
//!   (`--variable pc_path pkg-config`, answered by freedesktop pkg-config and pkgconf alike); the
//!   default is remembered in `$OUT_DIR`, keyed by the program's identity, as it costs a process;
//! - in each dir, `<name>-uninstalled.pc` and `<name>.pc` (both look for the first unless
//!   `PKG_CONFIG_DISABLE_UNINSTALLED` is set; checking it anyway can only send more cases to pkg-config).
//!
//! What else makes pkg-config or pkgconf find a package, and how it is handled:
//! - pkgconf personalities (`<triple>-pkg-config` linked to pkgconf, `--personality`) replace the
//!   default path, and `--variable pc_path` does not show it (pkgconf 1.8 prints the compiled-in path
//!   whatever the personality): only programs named `pkg-config` or `pkgconf` are modelled, since
//!   pkgconf picks a personality from any name holding `-pkg`.
//! - Wrappers: Nix's `pkg-config` sets `PKG_CONFIG_PATH` from `PKG_CONFIG_PATH_FOR_TARGET`, Debian's
//!   old cross wrapper sets `PKG_CONFIG_LIBDIR`, others pass `--with-path`. The program must be a
//!   native executable (ELF or Mach-O), not a script. (A compiled wrapper that changes the search path
//!   would go unseen; none is known to be shipped.)
//! - `PKG_CONFIG_SYSROOT_DIR` does not change the search path (it prefixes paths in the answers).
//! - No other variable adds search dirs (pkg-config(1)'s ENVIRONMENT list, and the names pkgconf 1.8 reads).
//! - Windows: pkg-config also reads search dirs from the registry, and both programs derive the default
//!   from their own location; not modelled, pkg-config is always asked there.
//! - Outside a build script (no `TARGET`, `HOST` or `OUT_DIR`) the crate looks variables up otherwise;
//!   pkg-config is asked.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::env::Vars;

/// What the search path says about a package.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Search {
    /// A setup this module does not model: ask pkg-config.
    Unmodelled,
    /// No `.pc` for the package in any of these dirs (in search order): pkg-config would not find it.
    Absent { dirs: Vec<PathBuf> },
    /// A `.pc` is there: pkg-config answers. `pc_dir` is the dir pkg-config would name as the
    /// package's `pcfiledir`, when that is certain.
    Present { pc_dir: Option<PathBuf> },
}

/// The memo of the program's default path, in `$OUT_DIR` (which cargo keeps between reruns of a build
/// script): `<program identity>\n<pc_path>\n`.
const MEMO: &str = "onnxruntime-provision-pkg-config-path";

/// Where pkg-config would look for `package`, when that can be known.
pub(crate) fn search(vars: &Vars<'_>, package: &str) -> Search {
    if !cfg!(unix) {
        return Search::Unmodelled;
    }
    let Some(lookup) = CrateLookup::new(vars) else { return Search::Unmodelled };
    // The crate answers these without running pkg-config; leave the verdict to it.
    if lookup.var(&format!("{}_NO_PKG_CONFIG", envify(package))).is_some() || !lookup.target_supported() {
        return Search::Unmodelled;
    }
    let Some((program, meta)) = program(vars, &lookup) else { return Search::Unmodelled };
    let mut dirs = lookup.targeted("PKG_CONFIG_PATH").map(|v| split(&v)).unwrap_or_default();
    let libdir = lookup.targeted("PKG_CONFIG_LIBDIR");
    // The memo is written only for a native program, and names it by identity: found there, the
    // program needs no second look.
    let remembered = if libdir.is_none() { remembered_path(vars, &program, &meta) } else { None };
    if remembered.is_none() && !is_native_executable(&program) {
        return Search::Unmodelled;
    }
    match libdir {
        Some(libdir) => dirs.extend(split(&libdir)),
        None => match remembered.or_else(|| default_path(vars, &program, &meta)) {
            Some(default) => dirs.extend(split(OsStr::new(&default))),
            None => return Search::Unmodelled,
        },
    }
    let names = [format!("{package}-uninstalled.pc"), format!("{package}.pc")];
    let hits: Vec<(&PathBuf, PathBuf)> = dirs
        .iter()
        .flat_map(|dir| names.iter().map(move |name| (dir, dir.join(name))))
        // Anything by that name, even a dangling link: pkg-config may make more of it than we would.
        .filter(|(_, file)| fs::symlink_metadata(file).is_ok())
        .collect();
    match hits.as_slice() {
        [] => Search::Absent { dirs },
        [(dir, file)] if pc_dir_is_certain(&lookup, dir, file) => Search::Present { pc_dir: Some(dir.to_path_buf()) },
        _ => Search::Present { pc_dir: None },
    }
}

/// The verdict's text when the package is absent: what was searched, and the variable to set.
pub(crate) fn absent_detail(package: &str, dirs: &[PathBuf]) -> String {
    let searched = if dirs.is_empty() {
        "which is empty".to_string()
    } else {
        dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
    };
    format!(
        "{package}.pc: package {package} was not found in the pkg-config search path ({searched}); \
         add the directory containing {package}.pc to PKG_CONFIG_PATH"
    )
}

/// With a single `.pc` in the search path, both programs name its dir as `pcfiledir`, spelled as in the
/// search path. Only claimed when that spelling cannot differ from the program's (an absolute dir with
/// no links, `.` or `..`; pkgconf collapses `//`, which compares equal anyway), no sysroot (newer pkgconf
/// prefixes variables with it), a plain readable file (not a link, whose target's dir a program might
/// name) that does not define `pcfiledir` itself.
fn pc_dir_is_certain(lookup: &CrateLookup<'_, '_>, dir: &Path, file: &Path) -> bool {
    lookup.targeted("PKG_CONFIG_SYSROOT_DIR").is_none()
        && dir.is_absolute()
        && fs::canonicalize(dir).is_ok_and(|real| real == dir)
        && fs::symlink_metadata(file).is_ok_and(|m| m.file_type().is_file())
        && fs::read_to_string(file).is_ok_and(|text| !text.lines().any(|l| l.trim_start().starts_with("pcfiledir")))
}

/// The `pkg-config` crate's view of the environment (pkg-config 0.3.34, `targeted_env_var`, `env_var_os`):
/// a variable set to the empty string is set, and per-target names are tried only in a build script.
struct CrateLookup<'v, 'e> {
    vars: &'v Vars<'e>,
    target: String,
    host: String,
}

impl<'v, 'e> CrateLookup<'v, 'e> {
    fn new(vars: &'v Vars<'e>) -> Option<Self> {
        let env = vars.env();
        Some(CrateLookup { vars, target: env.cargo_var("TARGET")?, host: env.cargo_var("HOST")? })
    }

    fn var(&self, name: &str) -> Option<OsString> {
        self.vars.plain_even_empty(name)
    }

    /// `NAME_<target>`, `NAME_<target_underscored>`, `HOST_NAME` or `TARGET_NAME`, then `NAME`.
    fn targeted(&self, base: &str) -> Option<OsString> {
        let kind = if self.host == self.target { "HOST" } else { "TARGET" };
        let underscored = self.target.replace('-', "_");
        [format!("{base}_{}", self.target), format!("{base}_{underscored}"), format!("{kind}_{base}"), base.into()]
            .iter()
            .find_map(|name| self.var(name))
    }

    /// The crate's `target_supported`: when cross-compiling, pkg-config runs only if allowed or set up.
    fn target_supported(&self) -> bool {
        if self.host == self.target {
            return true;
        }
        match self.targeted("PKG_CONFIG_ALLOW_CROSS") {
            Some(value) => value != "0",
            None => self.targeted("PKG_CONFIG").is_some() || self.targeted("PKG_CONFIG_SYSROOT_DIR").is_some(),
        }
    }
}

/// The crate's `envify`: `libonnxruntime` → `LIBONNXRUNTIME`.
fn envify(package: &str) -> String {
    package.chars().map(|c| if c == '-' { '_' } else { c.to_ascii_uppercase() }).collect()
}

/// The program the crate would run, when it is named as one modelled here, with what `stat` says of it:
/// `PKG_CONFIG`, else `pkg-config`, else (the crate's fallback when `pkg-config` cannot be started)
/// `pkgconf`. Whether it is a native executable is for the caller to check (see [`search`]).
fn program(vars: &Vars<'_>, lookup: &CrateLookup<'_, '_>) -> Option<(PathBuf, fs::Metadata)> {
    // `PATH` is not a setting of ours (no rerun-if-env-changed for it); the memo key covers a change of program.
    let path = vars.env().cargo_path("PATH");
    let path = path.as_deref().map(Path::as_os_str);
    let found = match lookup.targeted("PKG_CONFIG") {
        Some(program) => resolve(&program, path)?,
        None => resolve(OsStr::new("pkg-config"), path).or_else(|| resolve(OsStr::new("pkgconf"), path))?,
    };
    let named = found.0.file_name().is_some_and(|n| n == "pkg-config" || n == "pkgconf");
    named.then_some(found)
}

/// `program` as `Command` finds it: a name with a `/` as it is (from the current dir when relative),
/// otherwise the first `PATH` entry holding an executable file of that name (an empty entry is the
/// current dir, as for `execvp`). Made absolute, without resolving links: the name is what pkgconf sees.
fn resolve(program: &OsStr, path: Option<&OsStr>) -> Option<(PathBuf, fs::Metadata)> {
    if program.is_empty() {
        return None;
    }
    let (found, meta) = if program.to_string_lossy().contains('/') {
        let found = PathBuf::from(program);
        let meta = executable(&found)?;
        (found, meta)
    } else {
        std::env::split_paths(path?).map(|dir| dir.join(program)).find_map(|p| executable(&p).map(|meta| (p, meta)))?
    };
    Some((std::path::absolute(found).ok()?, meta))
}

/// What `stat` says of an executable file at `path` (links followed); `None` for anything else.
fn executable(path: &Path) -> Option<fs::Metadata> {
    let meta = fs::metadata(path).ok()?;
    #[cfg(unix)]
    let runnable = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0;
    #[cfg(not(unix))]
    let runnable = true;
    (meta.is_file() && runnable).then_some(meta)
}

/// ELF or Mach-O (thin or universal): a program, not a script that may set up the search path itself.
fn is_native_executable(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let read = fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic));
    read.is_ok()
        && matches!(
            magic,
            [0x7f, b'E', b'L', b'F']
                | [0xfe, 0xed, 0xfa, 0xce | 0xcf]
                | [0xce | 0xcf, 0xfa, 0xed, 0xfe]
                | [0xca, 0xfe, 0xba, 0xbe]
        )
}

/// A search-path variable's dirs. An empty value names none (both programs); an empty entry in a list
/// is the current dir for pkg-config 0.29 (its file name alone is opened), so it is checked as `.`.
fn split(value: &OsStr) -> Vec<PathBuf> {
    if value.is_empty() {
        return Vec::new();
    }
    std::env::split_paths(value).map(|dir| if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir }).collect()
}

/// The program's compiled-in search path as the memo has it for this very program (`meta` is what
/// `stat` says of it). Only in a build script: elsewhere there is no `OUT_DIR` to keep it in, and
/// pkg-config is asked the real question instead.
fn remembered_path(vars: &Vars<'_>, program: &Path, meta: &fs::Metadata) -> Option<String> {
    let out_dir = vars.env().cargo_path("OUT_DIR")?;
    read_memo(&out_dir, &identity(program, meta)?)
}

/// The program's compiled-in search path, asked of the program, and remembered once the program has
/// settled, as for every memo (see [`crate::memo::identity`]). Only in a build script, as above.
fn default_path(vars: &Vars<'_>, program: &Path, meta: &fs::Metadata) -> Option<String> {
    let out_dir = vars.env().cargo_path("OUT_DIR")?;
    let key = identity(program, meta);
    let pc_path = ask_pc_path(program)?;
    let settled = fs::metadata(program).is_ok_and(|meta| crate::memo::settled(&meta));
    if let Some(key) = &key
        && settled
    {
        crate::memo::write(&out_dir, MEMO, &format!("{key}\n{pc_path}\n"));
    }
    Some(pc_path)
}

/// The program's identity: where it is, and the device, inode, size and times of what it points to
/// ([`crate::memo::identity`]), so that a reinstall, an upgrade or a relinked `pkg-config` is a
/// different program.
fn identity(program: &Path, meta: &fs::Metadata) -> Option<String> {
    Some(format!("v2 {} {}", crate::memo::identity(meta)?, program.to_str()?))
}

fn read_memo(out_dir: &Path, key: &str) -> Option<String> {
    let text = crate::memo::read(out_dir, MEMO)?;
    let (first, rest) = text.split_once('\n')?;
    let pc_path = rest.strip_suffix('\n')?;
    (first == key && !pc_path.is_empty() && !pc_path.contains('\n')).then(|| pc_path.to_string())
}

/// `<program> --variable pc_path pkg-config`: the default search path, from the program's virtual
/// `pkg-config` package. Asked without the search-path variables, so the answer depends on the program alone.
fn ask_pc_path(program: &Path) -> Option<String> {
    let output = Command::new(program)
        .args(["--variable", "pc_path", "pkg-config"])
        .env_remove("PKG_CONFIG_PATH")
        .env_remove("PKG_CONFIG_LIBDIR")
        .env_remove("PKG_CONFIG_SYSROOT_DIR")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let pc_path = text.trim_end_matches(['\n', '\r']);
    (output.status.success() && !pc_path.is_empty() && !pc_path.contains('\n')).then(|| pc_path.to_string())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::env::Env;
    use std::time::{Duration, SystemTime};

    const HOST: &str = "x86_64-unknown-linux-gnu";
    const PACKAGE: &str = super::super::PACKAGE;

    fn identity_of(program: &Path) -> Option<String> {
        identity(program, &fs::metadata(program).ok()?)
    }

    fn resolved(program: &OsStr, path: Option<&OsStr>) -> Option<PathBuf> {
        resolve(program, path).map(|(found, _)| found)
    }

    /// A temp dir with a copy of the real pkg-config (so its identity can change) on `PATH`, and an `OUT_DIR`.
    struct Scene {
        tmp: tempfile::TempDir,
    }

    /// Waits until a file changed just now has settled, so that what is read from it may be remembered
    /// ([`crate::memo::SETTLE_SECS`]).
    fn settle() {
        std::thread::sleep(Duration::from_millis(2100));
    }

    /// A copy of a program that can be run at once. While this file is open for writing, another test
    /// thread may fork, and its child holds the descriptor until it execs; running the copy meanwhile
    /// fails with ETXTBSY. Once one run succeeds nobody holds it, and no later fork can inherit it.
    fn copy_program(from: &Path, to: &Path) {
        fs::copy(from, to).unwrap();
        for _ in 0..500 {
            match Command::new(to).arg("--version").output() {
                Err(e) if e.raw_os_error() == Some(26) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => panic!("{} does not run: {e}", to.display()),
                Ok(_) => return,
            }
        }
        panic!("{} stayed busy (ETXTBSY) for 5 s", to.display());
    }

    impl Scene {
        fn new() -> Scene {
            let found = Command::new("sh").args(["-c", "command -v pkg-config"]).output().unwrap();
            let real = String::from_utf8(found.stdout).unwrap();
            assert!(found.status.success(), "pkg-config is not installed: apt-get install pkg-config");
            let tmp = tempfile::tempdir().unwrap();
            for dir in ["bin", "out", "pc"] {
                fs::create_dir(tmp.path().join(dir)).unwrap();
            }
            copy_program(&fs::canonicalize(real.trim_end()).unwrap(), &tmp.path().join("bin/pkg-config"));
            settle();
            Scene { tmp }
        }

        fn path(&self, rel: &str) -> PathBuf {
            self.tmp.path().join(rel)
        }

        fn program(&self) -> PathBuf {
            self.path("bin/pkg-config")
        }

        /// A build script's environment plus `extra`.
        fn env(&self, extra: &[(&str, &OsStr)]) -> Env {
            let mut map: std::collections::BTreeMap<&str, OsString> = [
                ("TARGET", HOST.into()),
                ("HOST", HOST.into()),
                ("OUT_DIR", self.path("out").into_os_string()),
                ("PATH", self.path("bin").into_os_string()),
            ]
            .into_iter()
            .collect();
            map.extend(extra.iter().map(|(k, v)| (*k, v.to_os_string())));
            Env::from_vars(map)
        }

        fn search(&self, extra: &[(&str, &OsStr)]) -> Search {
            self.search_for(PACKAGE, extra)
        }

        fn search_for(&self, package: &str, extra: &[(&str, &OsStr)]) -> Search {
            let env = self.env(extra);
            search(&Vars::new(&env, HOST), package)
        }

        /// The real program, asked with the same search-path variables.
        fn real(&self, args: &[&str], extra: &[(&str, &OsStr)]) -> Option<String> {
            let mut command = Command::new(self.program());
            command.args(args);
            for name in
                ["PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR", "PKG_CONFIG_DISABLE_UNINSTALLED"]
            {
                command.env_remove(name);
            }
            command.envs(extra.iter().copied());
            let output = command.output().unwrap();
            output.status.success().then(|| String::from_utf8(output.stdout).unwrap().trim_end().to_string())
        }

        fn default_dirs(&self) -> Vec<PathBuf> {
            split(OsStr::new(&self.real(&["--variable", "pc_path", "pkg-config"], &[]).unwrap()))
        }

        /// The memo's text below the line naming its writer ([`crate::memo::read`]).
        fn memo(&self) -> String {
            crate::memo::read(&self.path("out"), MEMO).unwrap()
        }

        fn set_memo_default(&self, default: &Path) {
            let key = identity_of(&self.program()).unwrap();
            crate::memo::write(&self.path("out"), MEMO, &format!("{key}\n{}\n", default.display()));
        }
    }

    fn pc(version: &str) -> String {
        format!("Name: onnxruntime\nDescription: ONNX runtime\nVersion: {version}\nLibs: -L/nowhere -lonnxruntime\n")
    }

    fn absent_dirs(search: Search) -> Vec<PathBuf> {
        match search {
            Search::Absent { dirs } => dirs,
            other => panic!("expected Absent, got {other:?}"),
        }
    }

    #[test]
    fn absent_without_asking_once_the_default_path_is_remembered() {
        let scene = Scene::new();
        let pc_dir = scene.path("pc");
        let extra = [("PKG_CONFIG_PATH", pc_dir.as_os_str())];
        assert_eq!(scene.real(&["--exists", PACKAGE], &extra), None, "the real pkg-config agrees it is absent");

        // First run: the program is asked for its default path, which is remembered under its identity.
        let dirs = absent_dirs(scene.search(&extra));
        let mut expected = vec![pc_dir.clone()];
        expected.extend(scene.default_dirs());
        assert_eq!(dirs, expected, "PKG_CONFIG_PATH first, then the program's compiled-in default");
        let memo = scene.memo();
        assert_eq!(memo.lines().next(), identity_of(&scene.program()).as_deref());
        assert!(memo.contains(&scene.default_dirs()[0].display().to_string()), "{memo}");

        // Second run: the memo is used, not the program (a memo naming another default path shows it).
        let fake_default = scene.path("default");
        fs::create_dir(&fake_default).unwrap();
        scene.set_memo_default(&fake_default);
        assert_eq!(absent_dirs(scene.search(&extra)), [pc_dir.clone(), fake_default.clone()]);

        // The verdict says what was searched and what to set.
        let env = scene.env(&extra);
        let Err(crate::error::Verdict::NotFound { detail }) =
            crate::sources::pkg_config::candidate(&Vars::new(&env, HOST), false)
        else {
            panic!("expected NotFound")
        };
        assert!(detail.contains(&pc_dir.display().to_string()) && detail.contains("PKG_CONFIG_PATH"), "{detail}");
        assert!(detail.contains(&fake_default.display().to_string()), "{detail}");

        // A .pc in the remembered default path, or in PKG_CONFIG_PATH, is for pkg-config to answer.
        fs::write(fake_default.join("libonnxruntime.pc"), pc("1.22.0")).unwrap();
        assert_eq!(scene.search(&extra), Search::Present { pc_dir: Some(fake_default.clone()) });
        fs::remove_file(fake_default.join("libonnxruntime.pc")).unwrap();
        fs::write(pc_dir.join("libonnxruntime.pc"), pc("1.22.0")).unwrap();
        assert_eq!(scene.search(&extra), Search::Present { pc_dir: Some(pc_dir.clone()) });
        let real_dir = scene.real(&["--variable=pcfiledir", PACKAGE], &extra).unwrap();
        assert_eq!(PathBuf::from(real_dir), pc_dir, "the pcfiledir pkg-config itself gives");
    }

    #[test]
    fn a_changed_program_a_corrupt_memo_or_no_memo_means_asking_again() {
        let scene = Scene::new();
        let real_dirs = scene.default_dirs();
        let memo_file = scene.path("out").join(MEMO);
        assert_eq!(absent_dirs(scene.search(&[])), real_dirs);
        let good = scene.memo();

        fs::write(&memo_file, b"\xff garbage without a newline").unwrap();
        assert_eq!(absent_dirs(scene.search(&[])), real_dirs);
        assert_eq!(scene.memo(), good, "a corrupt memo is rewritten");

        // A new modification time is a new program: the memo (naming a fake default) is not used. What
        // the program says is not remembered while it has just changed (a second change in the same
        // clock tick could leave its identity as it was), and is once it has settled.
        let fake_default = scene.path("default");
        scene.set_memo_default(&fake_default);
        let fake = scene.memo();
        let later = SystemTime::now() + Duration::from_secs(10);
        fs::File::options().write(true).open(scene.program()).unwrap().set_modified(later).unwrap();
        assert_eq!(absent_dirs(scene.search(&[])), real_dirs);
        assert_eq!(scene.memo(), fake, "what a program changed a moment ago said was remembered");
        settle();
        assert_eq!(absent_dirs(scene.search(&[])), real_dirs);
        assert_eq!(scene.memo().lines().next(), identity_of(&scene.program()).as_deref());
        assert_ne!(scene.memo(), good);

        // So is another program named by PKG_CONFIG.
        scene.set_memo_default(&fake_default);
        fs::create_dir(scene.path("bin2")).unwrap();
        let other = scene.path("bin2/pkgconf");
        copy_program(&scene.program(), &other);
        settle();
        assert_eq!(absent_dirs(scene.search(&[("PKG_CONFIG", other.as_os_str())])), real_dirs);
        assert_eq!(scene.memo().lines().next(), identity_of(&other).as_deref());

        // An OUT_DIR that cannot be written (under a file; root ignores permissions) still works.
        fs::write(scene.path("file"), b"").unwrap();
        let unwritable = scene.path("file/out");
        assert_eq!(absent_dirs(scene.search(&[("OUT_DIR", unwritable.as_os_str())])), real_dirs);
    }

    #[test]
    fn pkg_config_libdir_replaces_the_default_path_as_for_pkg_config() {
        let scene = Scene::new();
        // A package really in the default path, which the real pkg-config finds.
        let package = scene
            .default_dirs()
            .iter()
            .flat_map(|dir| fs::read_dir(dir).into_iter().flatten().flatten())
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".pc").map(str::to_string))
            .find(|name| !name.ends_with("-uninstalled") && scene.real(&["--exists", name], &[]).is_some())
            .expect("no usable .pc in pkg-config's default path; install one (apt-get install zlib1g-dev)");
        assert!(matches!(scene.search_for(&package, &[]), Search::Present { .. }));

        let libdir = scene.path("pc");
        let extra = [("PKG_CONFIG_LIBDIR", libdir.as_os_str())];
        assert_eq!(scene.real(&["--exists", &package], &extra), None, "real pkg-config no longer finds {package}");
        assert_eq!(absent_dirs(scene.search_for(&package, &extra)), std::slice::from_ref(&libdir));

        // Set but empty: no dirs at all, for pkg-config as here.
        let extra = [("PKG_CONFIG_LIBDIR", OsStr::new(""))];
        assert_eq!(scene.real(&["--exists", &package], &extra), None);
        assert_eq!(absent_dirs(scene.search_for(&package, &extra)), Vec::<PathBuf>::new());

        // A .pc in LIBDIR is found by both.
        fs::write(libdir.join("libonnxruntime.pc"), pc("1.22.0")).unwrap();
        let extra = [("PKG_CONFIG_LIBDIR", libdir.as_os_str())];
        assert!(scene.real(&["--exists", PACKAGE], &extra).is_some());
        assert_eq!(scene.search(&extra), Search::Present { pc_dir: Some(libdir) });
    }

    #[test]
    fn uninstalled_and_relative_entries_are_found_as_by_pkg_config() {
        let scene = Scene::new();
        let pc_dir = scene.path("pc");
        fs::write(pc_dir.join("libonnxruntime-uninstalled.pc"), pc("1.22.0")).unwrap();
        let extra = [("PKG_CONFIG_PATH", pc_dir.as_os_str())];
        assert!(scene.real(&["--exists", PACKAGE], &extra).is_some());
        assert_eq!(PathBuf::from(scene.real(&["--variable=pcfiledir", PACKAGE], &extra).unwrap()), pc_dir);
        assert_eq!(scene.search(&extra), Search::Present { pc_dir: Some(pc_dir.clone()) });

        // A relative entry is looked up from the current dir, as pkg-config does; its pcfiledir is left
        // to pkg-config (spelled relative).
        let cwd = std::env::current_dir().unwrap();
        let up: PathBuf = cwd.components().skip(1).map(|_| "..").collect();
        let relative = up.join(pc_dir.strip_prefix("/").unwrap());
        let extra = [("PKG_CONFIG_PATH", relative.as_os_str())];
        assert!(scene.real(&["--exists", PACKAGE], &extra).is_some());
        assert_eq!(scene.search(&extra), Search::Present { pc_dir: None });
        // Two candidates: which one pkg-config takes is its business.
        fs::write(pc_dir.join("libonnxruntime.pc"), pc("1.22.0")).unwrap();
        assert_eq!(scene.search(&[("PKG_CONFIG_PATH", pc_dir.as_os_str())]), Search::Present { pc_dir: None });
    }

    #[test]
    fn setups_not_modelled_are_left_to_pkg_config() {
        let scene = Scene::new();
        assert!(matches!(scene.search(&[]), Search::Absent { .. }));
        let aarch64 = OsStr::new("aarch64-unknown-linux-gnu");
        // Cross-compiling without PKG_CONFIG_ALLOW_CROSS: the crate refuses (Skipped), so it must answer.
        assert_eq!(scene.search(&[("TARGET", aarch64)]), Search::Unmodelled);
        assert_eq!(
            scene.search(&[("TARGET", aarch64), ("PKG_CONFIG_ALLOW_CROSS", OsStr::new("0"))]),
            Search::Unmodelled
        );
        assert!(matches!(
            scene.search(&[("TARGET", aarch64), ("PKG_CONFIG_ALLOW_CROSS", OsStr::new("1"))]),
            Search::Absent { .. }
        ));
        assert!(matches!(
            scene
                .search(&[("TARGET", aarch64), ("PKG_CONFIG_SYSROOT_DIR_aarch64-unknown-linux-gnu", OsStr::new("/s"))]),
            Search::Absent { .. }
        ));
        // Set even to nothing, LIBONNXRUNTIME_NO_PKG_CONFIG turns the crate off (it tests presence).
        assert_eq!(scene.search(&[("LIBONNXRUNTIME_NO_PKG_CONFIG", OsStr::new(""))]), Search::Unmodelled);
        // Not a build script.
        for name in ["TARGET", "HOST", "OUT_DIR", "PATH"] {
            let mut env: Vec<(String, std::ffi::OsString)> = Vec::new();
            for (k, v) in [
                ("TARGET", HOST.into()),
                ("HOST", HOST.into()),
                ("OUT_DIR", scene.path("out")),
                ("PATH", scene.path("bin")),
            ] {
                if k != name {
                    env.push((k.to_string(), v.into_os_string()));
                }
            }
            let env = Env::from_vars(env);
            assert_eq!(search(&Vars::new(&env, HOST), PACKAGE), Search::Unmodelled, "without {name}");
        }
        // A wrapper script may set the search path itself.
        let script = scene.path("bin/wrapper/pkg-config");
        fs::create_dir(scene.path("bin/wrapper")).unwrap();
        fs::write(&script, format!("#!/bin/sh\nexec {} \"$@\"\n", scene.program().display())).unwrap();
        fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        assert_eq!(scene.search(&[("PKG_CONFIG", script.as_os_str())]), Search::Unmodelled);
        // A pkgconf personality (picked from a name holding `-pkg`) has its own default path.
        let personality = scene.path("bin/x86_64-linux-gnu-pkg-config");
        copy_program(&scene.program(), &personality);
        assert_eq!(scene.search(&[("PKG_CONFIG", personality.as_os_str())]), Search::Unmodelled);
        // No such program: the crate reports it.
        assert_eq!(scene.search(&[("PKG_CONFIG", scene.path("bin/nothing").as_os_str())]), Search::Unmodelled);
    }

    /// A program found in the memo is not looked at again (the memo is only written for a native
    /// one); the same path rewritten as a script is another identity, so it is looked at, and refused.
    #[test]
    fn a_remembered_program_rewritten_as_a_script_is_not_modelled() {
        let scene = Scene::new();
        let remembered = scene.path("default");
        fs::create_dir(&remembered).unwrap();
        scene.set_memo_default(&remembered);
        let Search::Absent { dirs } = scene.search(&[]) else { panic!("the remembered path is searched") };
        assert_eq!(dirs, [remembered]);
        let real = fs::canonicalize(scene.program()).unwrap();
        let copy = scene.path("real-pkg-config");
        fs::rename(&real, &copy).unwrap();
        fs::write(scene.program(), format!("#!/bin/sh\nexec {} \"$@\"\n", copy.display())).unwrap();
        fs::set_permissions(scene.program(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        assert_eq!(scene.search(&[]), Search::Unmodelled);
    }

    #[test]
    fn programs_are_found_as_command_finds_them() {
        let scene = Scene::new();
        let bin = scene.path("bin");
        fs::create_dir(scene.path("empty")).unwrap();
        fs::write(scene.path("empty/pkg-config"), b"not executable").unwrap();
        let path = std::env::join_paths([scene.path("empty"), bin.clone()]).unwrap();
        assert_eq!(resolved(OsStr::new("pkg-config"), Some(&path)), Some(scene.program()));
        assert_eq!(resolved(OsStr::new("pkgconf"), Some(&path)), None);
        assert_eq!(resolved(scene.program().as_os_str(), None), Some(scene.program()));
        assert_eq!(resolved(OsStr::new(""), Some(&path)), None);
        assert_eq!(split(OsStr::new("/a::b")), [PathBuf::from("/a"), PathBuf::from("."), PathBuf::from("b")]);
    }
}

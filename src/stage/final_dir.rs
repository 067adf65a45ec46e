//! Where cargo puts the final binaries when `build.build-dir` (stable since cargo 1.91) keeps the
//! intermediate files, `OUT_DIR` among them, apart from the target directory: files copied beside the
//! executables must reach both. Cargo tells build scripts neither directory, so `cargo metadata` is
//! asked once (its `target_directory` and `build_directory`) and the answer kept in `OUT_DIR`, keyed by
//! the variables that move either directory. It is asked only when files are copied beside
//! executables (Windows targets, `Config::copy_to_target_dir`); any trouble asking means the copies go
//! where they went before cargo had a build dir: beside `OUT_DIR`'s profile directory alone.
//!
//! A build dir set with `--config` on cargo's command line is not passed on to processes cargo starts,
//! so it is not seen; one set in a `.cargo/config.toml` or the environment is. A directory moved by
//! editing a config file (rather than a variable) is seen once the build script runs in a fresh
//! `OUT_DIR`, e.g. after `cargo clean -p <package>`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::env::Env;

const MEMO: &str = "onnxruntime-provision-final-dir";
/// `cargo metadata --no-deps` takes a tenth of a second; this only bounds a cargo that hangs.
const CARGO_TIMEOUT: Duration = Duration::from_secs(30);
/// The variables that move the target or build directory, or change which cargo answers.
const KEY_VARS: [&str; 5] =
    ["CARGO", "CARGO_HOME", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "CARGO_BUILD_BUILD_DIR"];

/// The profile directory the final binaries go to, when it is not `build_profile` (the one three levels
/// above `OUT_DIR`).
pub(super) fn final_profile_dir(build_profile: &Path, out_dir: &Path, env: &Env) -> Option<PathBuf> {
    let (target_dir, build_dir) = directories(out_dir, env)?;
    if target_dir == build_dir {
        return None;
    }
    // `debug`, or `<triple>/debug` when cargo was given `--target`.
    let relative = build_profile.strip_prefix(&build_dir).ok()?;
    Some(target_dir.join(relative)).filter(|dir| dir != build_profile)
}

/// `(target_directory, build_directory)`, from the memo when it was written under the same variables.
/// No answer is remembered too: a cargo older than 1.91 names no build directory, and is asked once.
fn directories(out_dir: &Path, env: &Env) -> Option<(PathBuf, PathBuf)> {
    let key = memo_key(env);
    if let Some(remembered) = crate::memo::read(out_dir, MEMO).and_then(|text| read_memo(&text, &key)) {
        return remembered;
    }
    let answer = ask_cargo(env);
    let body = match &answer {
        Some((target, build)) => match (target.to_str(), build.to_str()) {
            (Some(t), Some(b)) if !t.contains('\n') && !b.contains('\n') => format!("{t}\n{b}\n"),
            _ => return answer,
        },
        None => "unknown\n".to_string(),
    };
    crate::memo::write(out_dir, MEMO, &format!("{key}\n{body}"));
    answer
}

fn memo_key(env: &Env) -> String {
    let values: Vec<String> = KEY_VARS.iter().map(|name| format!("{name}={:?}", env.cargo_path(name))).collect();
    format!("v1 {}", values.join(" "))
}

/// `Some(answer)` when `text` was written under `key` (the answer itself may be "unknown").
fn read_memo(text: &str, key: &str) -> Option<Option<(PathBuf, PathBuf)>> {
    let mut lines = text.lines();
    if lines.next()? != key {
        return None;
    }
    match (lines.next()?, lines.next()) {
        ("unknown", None) => Some(None),
        (target, Some(build)) if !target.is_empty() && !build.is_empty() => {
            Some(Some((PathBuf::from(target), PathBuf::from(build))))
        }
        _ => None,
    }
}

/// `cargo metadata --format-version 1 --no-deps --offline` for this package, within [`CARGO_TIMEOUT`].
fn ask_cargo(env: &Env) -> Option<(PathBuf, PathBuf)> {
    let cargo = env.cargo_path("CARGO")?;
    let manifest = env
        .cargo_path("CARGO_MANIFEST_PATH")
        .or_else(|| env.cargo_path("CARGO_MANIFEST_DIR").map(|dir| dir.join("Cargo.toml")))?;
    let mut child = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--manifest-path"])
        .arg(manifest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    // Read on another thread, so a full pipe never stalls the child while this one waits for it.
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).ok().map(|_| text)
    });
    let deadline = Instant::now() + CARGO_TIMEOUT;
    let succeeded = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break false;
            }
        }
    };
    let text = reader.join().ok().flatten().filter(|_| succeeded)?;
    let target = json::top_level_string(&text, "target_directory")?;
    let build = json::top_level_string(&text, "build_directory")?;
    Some((PathBuf::from(target), PathBuf::from(build)))
}

/// Just enough JSON to take a string member out of `cargo metadata`'s top-level object, skipping every
/// other member whole (a package's `metadata` table may hold keys of any name, at any depth).
mod json {
    /// Nesting deeper than this is refused rather than followed (cargo's output is a few levels deep).
    const MAX_DEPTH: usize = 128;

    /// The value of `key` in the top-level object of `text`, when it is a string.
    pub(super) fn top_level_string(text: &str, key: &str) -> Option<String> {
        let mut p = Parser { bytes: text.as_bytes(), at: 0 };
        p.skip_space();
        p.expect(b'{')?;
        p.skip_space();
        if p.peek()? == b'}' {
            return None;
        }
        loop {
            p.skip_space();
            let name = p.string()?;
            p.skip_space();
            p.expect(b':')?;
            p.skip_space();
            if name == key {
                return if p.peek()? == b'"' { p.string() } else { None };
            }
            p.skip_value(0)?;
            p.skip_space();
            if p.next()? != b',' {
                return None;
            }
        }
    }

    struct Parser<'a> {
        bytes: &'a [u8],
        at: usize,
    }

    impl Parser<'_> {
        fn peek(&self) -> Option<u8> {
            self.bytes.get(self.at).copied()
        }

        fn next(&mut self) -> Option<u8> {
            let byte = self.peek()?;
            self.at += 1;
            Some(byte)
        }

        fn expect(&mut self, byte: u8) -> Option<()> {
            (self.next()? == byte).then_some(())
        }

        fn skip_space(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.at += 1;
            }
        }

        /// A string, its escapes decoded (RFC 8259 §7).
        fn string(&mut self) -> Option<String> {
            self.expect(b'"')?;
            let mut bytes = Vec::new();
            loop {
                match self.next()? {
                    b'"' => return String::from_utf8(bytes).ok(),
                    b'\\' => {
                        let decoded = match self.next()? {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'/' => '/',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            b'u' => self.unicode_escape()?,
                            _ => return None,
                        };
                        bytes.extend_from_slice(decoded.encode_utf8(&mut [0; 4]).as_bytes());
                    }
                    control if control < 0x20 => return None,
                    byte => bytes.push(byte),
                }
            }
        }

        /// After `\u`: four hex digits, and a second `\uXXXX` when the first is a high surrogate.
        fn unicode_escape(&mut self) -> Option<char> {
            let high = self.hex4()?;
            if !(0xD800..0xDC00).contains(&high) {
                return char::from_u32(high); // a lone low surrogate is no char: refused
            }
            self.expect(b'\\')?;
            self.expect(b'u')?;
            let low = self.hex4()?;
            if !(0xDC00..0xE000).contains(&low) {
                return None;
            }
            char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        }

        fn hex4(&mut self) -> Option<u32> {
            let digits = self.bytes.get(self.at..self.at.checked_add(4)?)?;
            self.at += 4;
            digits.iter().try_fold(0, |value, &digit| Some(value * 16 + char::from(digit).to_digit(16)?))
        }

        /// Any value, unread: a string, an object or array (recursively), or a number or literal.
        fn skip_value(&mut self, depth: usize) -> Option<()> {
            if depth > MAX_DEPTH {
                return None;
            }
            match self.peek()? {
                b'"' => self.string().map(drop),
                open @ (b'{' | b'[') => {
                    self.at += 1;
                    let close = if open == b'{' { b'}' } else { b']' };
                    self.skip_space();
                    if self.peek()? == close {
                        self.at += 1;
                        return Some(());
                    }
                    loop {
                        self.skip_space();
                        if open == b'{' {
                            self.string()?;
                            self.skip_space();
                            self.expect(b':')?;
                            self.skip_space();
                        }
                        self.skip_value(depth + 1)?;
                        self.skip_space();
                        match self.next()? {
                            b',' => {}
                            byte if byte == close => return Some(()),
                            _ => return None,
                        }
                    }
                }
                _ => {
                    let start = self.at;
                    while matches!(self.peek(), Some(b'-' | b'+' | b'.' | b'0'..=b'9' | b'a'..=b'z' | b'E')) {
                        self.at += 1;
                    }
                    (self.at > start).then_some(())
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::top_level_string;

        #[test]
        fn the_top_level_member_is_found_past_nested_ones_of_the_same_name() {
            let text = r#"{"packages":[{"name":"a","metadata":{"target_directory":"/not/this","n":[1,-2.5e3,true,null,{}],
                "s":"q\"uote\\"}}],"workspace_members":[],"target_directory":"/work/target",
                "build_directory" : "/work/build","version":1}"#;
            assert_eq!(top_level_string(text, "target_directory").as_deref(), Some("/work/target"));
            assert_eq!(top_level_string(text, "build_directory").as_deref(), Some("/work/build"));
            assert_eq!(top_level_string(text, "workspace_root"), None);
            assert_eq!(top_level_string(text, "version"), None, "not a string");
        }

        #[test]
        fn escapes_are_decoded() {
            let text = r#"{"target_directory":"C:\\Users\\Zo\u00eb\\\ud83d\ude00\/t\n"}"#;
            assert_eq!(top_level_string(text, "target_directory").as_deref(), Some("C:\\Users\\Zoë\\😀/t\n"));
        }

        #[test]
        fn broken_json_gives_nothing() {
            for text in [
                "",
                "[]",
                "{",
                r#"{"target_directory":"/t"#,
                r#"{"a":1 "target_directory":"/t"}"#,
                r#"{"a":[1,2,"target_directory":"/t"}"#,
                r#"{"target_directory":"\ud800x"}"#,
                r#"{"target_directory":"\udc00"}"#,
                r#"{"target_directory":"\u00g0"}"#,
                r#"{"target_directory":"\q"}"#,
                "{\"target_directory\":\"tab\tin\"}",
            ] {
                assert_eq!(top_level_string(text, "target_directory"), None, "{text:?}");
            }
            let deep = format!("{{\"a\":{}{},\"target_directory\":\"/t\"}}", "[".repeat(200), "]".repeat(200));
            assert_eq!(top_level_string(&deep, "target_directory"), None, "nesting past the cap");
            let fine = format!("{{\"a\":{}{},\"target_directory\":\"/t\"}}", "[".repeat(100), "]".repeat(100));
            assert_eq!(top_level_string(&fine, "target_directory").as_deref(), Some("/t"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memo_is_used_only_under_the_same_variables() {
        let key = memo_key(&Env::from_vars([("CARGO_TARGET_DIR", "/t")]));
        let text = format!("{key}\n/t\n/b\n");
        assert_eq!(read_memo(&text, &key), Some(Some((PathBuf::from("/t"), PathBuf::from("/b")))));
        assert_eq!(read_memo(&format!("{key}\nunknown\n"), &key), Some(None));
        let other = memo_key(&Env::from_vars([("CARGO_TARGET_DIR", "/elsewhere")]));
        assert_ne!(key, other);
        assert_eq!(read_memo(&text, &other), None);
        assert_eq!(read_memo(&format!("{key}\n/t\n"), &key), None, "cut short");
    }
}

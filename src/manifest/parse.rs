//! The manifest line format, checked strictly. std only and no `crate::` paths: the crate's own
//! `build.rs` includes this file (`#[path]`) to refuse a bad shipped manifest with the very rules the
//! library applies to `ONNXRUNTIME_MANIFEST` files.
//!
//! One artifact per line, whitespace-separated: `version platform variant asset sha256 size source`.
//! `size` is bytes or `-`; `source` is the rest of the line and must say where the hash comes from.
//! A line whose first non-blank character is `#` is a comment; a `#` later on a line is text, so a
//! source may cite "ORT issue #21965".

use std::collections::BTreeMap;
use std::fmt;

/// ORT's platform names for the archives this crate can pick (see `platform.rs`). A platform no
/// target maps to could never be chosen, so a line naming one is a mistake, not an extension.
pub const PLATFORMS: [&str; 8] =
    ["linux-x64", "linux-aarch64", "osx-arm64", "osx-universal2", "osx-x86_64", "win-x64", "win-arm64", "win-x86"];

/// The variants, spelled as `ONNXRUNTIME_VARIANT` spells them.
pub const VARIANTS: [&str; 4] = ["cpu", "cuda11", "cuda12", "cuda13"];

/// The archive formats the extractor understands.
pub const EXTENSIONS: [&str; 2] = [".tgz", ".zip"];

const COLUMNS: &str = "version platform variant asset sha256 size source";

/// One valid line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// 1-based line number in its text.
    pub line: usize,
    /// `[major, minor, patch]`.
    pub version: [u64; 3],
    pub platform: &'a str,
    pub variant: &'a str,
    pub asset: &'a str,
    /// 64 lowercase hex digits.
    pub sha256: &'a str,
    pub size: Option<u64>,
    /// Where the hash comes from (never empty).
    pub source: &'a str,
}

impl Record<'_> {
    /// What must be unique: one archive per release × platform × variant.
    pub fn key(&self) -> ([u64; 3], &str, &str) {
        (self.version, self.platform, self.variant)
    }
}

/// Which rule a line broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    MissingColumns,
    MissingSource,
    BadVersion,
    UnknownPlatform,
    UnknownVariant,
    BadAssetName,
    BadExtension,
    AssetWithoutVersion,
    HashLength,
    UppercaseHex,
    BadHex,
    BadSize,
    DuplicateKey,
    DuplicateAsset,
    /// Shipped files only: `manifests/<version>.txt` must list that release and nothing else.
    FileName,
    VersionNotFileName,
    EmptyFile,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::MissingColumns => "missing-columns",
            Rule::MissingSource => "missing-source",
            Rule::BadVersion => "bad-version",
            Rule::UnknownPlatform => "unknown-platform",
            Rule::UnknownVariant => "unknown-variant",
            Rule::BadAssetName => "bad-asset-name",
            Rule::BadExtension => "bad-extension",
            Rule::AssetWithoutVersion => "asset-without-version",
            Rule::HashLength => "hash-length",
            Rule::UppercaseHex => "uppercase-hex",
            Rule::BadHex => "bad-hex",
            Rule::BadSize => "bad-size",
            Rule::DuplicateKey => "duplicate-key",
            Rule::DuplicateAsset => "duplicate-asset",
            Rule::FileName => "file-name",
            Rule::VersionNotFileName => "version-not-file-name",
            Rule::EmptyFile => "empty-file",
        }
    }
}

/// A broken rule on a line (line 0: the text as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub rule: Rule,
    pub detail: String,
}

impl fmt::Display for LineError {
    /// The detail and the rule's name; the caller puts `path:line` in front.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [rule {}]", self.detail, self.rule.name())
    }
}

/// Parses a whole text. Every broken line is reported (not only the first), each once, in line order;
/// duplicates are checked among the lines that are otherwise valid.
pub fn parse(text: &str) -> Result<Vec<Record<'_>>, Vec<LineError>> {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        match parse_line(line, content) {
            Ok(record) => records.push(record),
            Err((rule, detail)) => errors.push(LineError { line, rule, detail }),
        }
    }
    errors.extend(duplicates(&records));
    errors.sort_by_key(|e| e.line);
    if errors.is_empty() { Ok(records) } else { Err(errors) }
}

/// A shipped release file: `file_name` is `<version>.txt`, and every line lists that release. Used by
/// the crate's `build.rs`; the library only meets user files, which may mix releases.
#[allow(dead_code)]
pub fn parse_release_file<'a>(file_name: &str, text: &'a str) -> Result<Vec<Record<'a>>, Vec<LineError>> {
    let Some(file_version) = file_name.strip_suffix(".txt").and_then(|stem| version(stem).ok()) else {
        return Err(vec![LineError {
            line: 0,
            rule: Rule::FileName,
            detail: format!("`{file_name}` is not named <version>.txt (e.g. 1.22.0.txt)"),
        }]);
    };
    let records = parse(text)?;
    let mut errors: Vec<LineError> = records
        .iter()
        .filter(|r| r.version != file_version)
        .map(|r| LineError {
            line: r.line,
            rule: Rule::VersionNotFileName,
            detail: format!("release {} in a file named {file_name}: each file lists one release", dotted(r.version)),
        })
        .collect();
    if records.is_empty() {
        errors.push(LineError { line: 0, rule: Rule::EmptyFile, detail: "no artifact lines".into() });
    }
    if errors.is_empty() { Ok(records) } else { Err(errors) }
}

/// `[1, 22, 0]` → `1.22.0`.
pub fn dotted(version: [u64; 3]) -> String {
    format!("{}.{}.{}", version[0], version[1], version[2])
}

type Problem = (Rule, String);

fn parse_line(line: usize, content: &str) -> Result<Record<'_>, Problem> {
    let mut columns = [""; 6];
    let mut rest = content;
    for (found, column) in columns.iter_mut().enumerate() {
        if rest.is_empty() {
            return Err((
                Rule::MissingColumns,
                format!("{found} column{} where 7 are needed: {COLUMNS}", if found == 1 { "" } else { "s" }),
            ));
        }
        let (word, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        *column = word;
        rest = tail.trim_start();
    }
    let [version_text, platform, variant, asset, sha256, size_text] = columns;
    let source = rest.trim_end();
    if source.is_empty() {
        return Err((
            Rule::MissingSource,
            "the source column is empty: say where the hash comes from (a URL, a repository, `hashed locally`)".into(),
        ));
    }
    let version = version(version_text).map_err(|detail| (Rule::BadVersion, detail))?;
    if !PLATFORMS.contains(&platform) {
        return Err((Rule::UnknownPlatform, format!("unknown platform `{platform}`; known: {}", PLATFORMS.join(", "))));
    }
    if !VARIANTS.contains(&variant) {
        return Err((Rule::UnknownVariant, format!("unknown variant `{variant}`; known: {}", VARIANTS.join(", "))));
    }
    check_asset(asset, version_text)?;
    check_sha256(sha256)?;
    let size = size(size_text)?;
    Ok(Record { line, version, platform, variant, asset, sha256, size, source })
}

/// `MAJOR.MINOR.PATCH`, plain decimal numbers, no leading zeros, no `v`, no pre-release tag: the
/// spelling of ORT's release tags without the `v`, so there is one way to write each release.
fn version(text: &str) -> Result<[u64; 3], String> {
    let bad = || format!("`{text}` is not a release number MAJOR.MINOR.PATCH such as 1.22.0");
    let mut parts = [0u64; 3];
    let mut pieces = text.split('.');
    for part in parts.iter_mut() {
        let piece = pieces.next().ok_or_else(bad)?;
        let digits_only = !piece.is_empty() && piece.bytes().all(|b| b.is_ascii_digit());
        if !digits_only || piece.len() > 9 || (piece.len() > 1 && piece.starts_with('0')) {
            return Err(bad());
        }
        *part = piece.parse().map_err(|_| bad())?;
    }
    if pieces.next().is_some() {
        return Err(bad());
    }
    Ok(parts)
}

/// The asset is a bare file name that goes into a URL and a cache path unescaped, so it is limited
/// to characters that need no escaping and cannot name another directory.
fn check_asset(asset: &str, version: &str) -> Result<(), Problem> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+');
    if asset.starts_with('.') || !asset.chars().all(allowed) {
        return Err((
            Rule::BadAssetName,
            format!("asset `{asset}` must be a file name of letters, digits and . _ - + (not starting with .)"),
        ));
    }
    if !EXTENSIONS.iter().any(|ext| asset.len() > ext.len() && asset.ends_with(ext)) {
        return Err((Rule::BadExtension, format!("asset `{asset}` must end in .tgz or .zip")));
    }
    // The version must appear as a whole number group, so 1.2.0 is not found inside 11.2.0.
    let has_version =
        asset.split(|c: char| !(c.is_ascii_digit() || c == '.')).any(|group| group.trim_matches('.') == version);
    if !has_version {
        return Err((Rule::AssetWithoutVersion, format!("asset `{asset}` does not contain its release {version}")));
    }
    Ok(())
}

/// Exactly 64 lowercase hex digits. Uppercase is refused rather than folded: the hash names the
/// cache folder (`<cache>/<sha256>/`) and is compared as text, so one spelling keeps one entry per
/// archive, and every tool that prints SHA-256 (`sha256sum`, GitHub digests) prints lowercase.
fn check_sha256(sha256: &str) -> Result<(), Problem> {
    let count = sha256.chars().count();
    if count != 64 {
        return Err((Rule::HashLength, format!("sha256 has {count} characters; a SHA-256 is 64 hex digits")));
    }
    if let Some((at, c)) = sha256.chars().enumerate().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err((Rule::BadHex, format!("sha256 has `{c}` at position {}, which is not a hex digit", at + 1)));
    }
    if sha256.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err((
            Rule::UppercaseHex,
            "sha256 has uppercase hex digits; write it in lowercase (it names the cache folder)".into(),
        ));
    }
    Ok(())
}

/// Bytes as a plain decimal number above zero, or `-` when unknown.
fn size(text: &str) -> Result<Option<u64>, Problem> {
    if text == "-" {
        return Ok(None);
    }
    let bad = || (Rule::BadSize, format!("size `{text}` must be a number of bytes above zero, or -"));
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match text.parse::<u64>() {
        Ok(0) | Err(_) => Err(bad()),
        Ok(n) => Ok(Some(n)),
    }
}

fn duplicates(records: &[Record<'_>]) -> Vec<LineError> {
    let mut errors = Vec::new();
    // Ordered maps: a hashed one would seed itself from the OS on every build-script run.
    let mut keys = BTreeMap::new();
    let mut assets = BTreeMap::new();
    for record in records {
        let (rule, detail) = if let Some(first) = keys.get(&record.key()) {
            let (version, platform, variant) = (dotted(record.version), record.platform, record.variant);
            let detail = format!(
                "{version} {platform} {variant} is already listed on line {first}: one archive per release, platform and variant"
            );
            (Rule::DuplicateKey, detail)
        } else if let Some(first) = assets.get(record.asset) {
            let detail = format!("asset {} is already listed on line {first}: one archive is one build", record.asset);
            (Rule::DuplicateAsset, detail)
        } else {
            keys.insert(record.key(), record.line);
            assets.insert(record.asset, record.line);
            continue;
        };
        errors.push(LineError { line: record.line, rule, detail });
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "8344d55f93d5bc5021ce342db50f62079daf39aaafb5d311a451846228be49b3";

    fn line(version: &str, platform: &str, variant: &str, asset: &str, sha: &str, size: &str, source: &str) -> String {
        format!("{version} {platform} {variant} {asset} {sha} {size} {source}")
    }

    fn good() -> String {
        line("1.22.0", "linux-x64", "cpu", "onnxruntime-linux-x64-1.22.0.tgz", HASH, "-", "A-rb A-php")
    }

    /// The single error a text with one bad line (on `line`) gives.
    fn only_error(text: &str) -> LineError {
        let errors = parse(text).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.into_iter().next().unwrap()
    }

    #[test]
    fn reads_columns_comments_and_source_text() {
        let text = format!(
            "# a comment\n\n   # indented comment\n{}\n1.17.1 win-x64 cuda12 onnxruntime-win-x64-cuda12-1.17.1.zip {HASH} 123 named XM (issue #19137)  \r\n",
            good()
        );
        let records = parse(&text).unwrap();
        assert_eq!(records.len(), 2);
        let r = records[0];
        assert_eq!((r.line, r.version, r.platform, r.variant), (4, [1, 22, 0], "linux-x64", "cpu"));
        assert_eq!(
            (r.asset, r.sha256, r.size, r.source),
            ("onnxruntime-linux-x64-1.22.0.tgz", HASH, None, "A-rb A-php")
        );
        let r = records[1];
        assert_eq!((r.line, r.variant, r.size), (5, "cuda12", Some(123)));
        assert_eq!(r.source, "named XM (issue #19137)", "a # inside the source is text");
    }

    #[test]
    fn hash_rules_name_the_line() {
        let short = good().replace(HASH, &HASH[..63]);
        let e = only_error(&format!("# header\n{short}\n"));
        assert_eq!((e.line, e.rule), (2, Rule::HashLength));
        assert!(e.detail.contains("63 characters"), "{e}");

        let long = good().replace(HASH, &format!("{HASH}0"));
        assert_eq!(only_error(&long).rule, Rule::HashLength);

        let bad_hex = good().replace(HASH, &HASH.replacen('8', "g", 1));
        let e = only_error(&format!("\n\n{bad_hex}"));
        assert_eq!((e.line, e.rule), (3, Rule::BadHex));
        assert!(e.detail.contains("`g` at position 1"), "{e}");

        let upper = good().replace(HASH, &HASH.to_ascii_uppercase());
        let e = only_error(&format!("{}\n{upper}", good().replace("linux-x64 cpu", "linux-x64 cuda12")));
        assert_eq!((e.line, e.rule), (2, Rule::UppercaseHex));
        assert!(e.to_string().contains("[rule uppercase-hex]"), "{e}");
    }

    #[test]
    fn names_versions_platforms_variants_and_sizes() {
        for bad in ["1.22", "v1.22.0", "1.22.0.1", "1.022.0", "1.22.0-rc1", "1.x.0", "1..0"] {
            let text = good().replacen("1.22.0", bad, 1);
            let e = only_error(&text);
            assert_eq!((e.line, e.rule), (1, Rule::BadVersion), "{bad}");
            assert!(e.detail.contains(bad), "{e}");
        }
        let e = only_error(&good().replace(" linux-x64 ", " linux-armv7 "));
        assert_eq!(e.rule, Rule::UnknownPlatform);
        assert!(e.detail.contains("linux-armv7") && e.detail.contains("osx-universal2"), "{e}");
        assert_eq!(only_error(&good().replace(" linux-x64 ", " Linux-x64 ")).rule, Rule::UnknownPlatform);
        let e = only_error(&good().replace(" cpu ", " rocm "));
        assert_eq!(e.rule, Rule::UnknownVariant);
        assert!(e.detail.contains("rocm") && e.detail.contains("cuda13"), "{e}");
        for bad in ["0", "12kB", "-1", "+5", "99999999999999999999999"] {
            let text = good().replace(&format!("{HASH} - "), &format!("{HASH} {bad} "));
            assert_eq!(only_error(&text).rule, Rule::BadSize, "{bad}");
        }
    }

    #[test]
    fn asset_rules() {
        let cases = [
            ("onnxruntime-linux-x64-1.22.0.tar.xz", Rule::BadExtension),
            ("onnxruntime-linux-x64-1.22.0.TGZ", Rule::BadExtension),
            ("onnxruntime-linux-x64-1.23.0.tgz", Rule::AssetWithoutVersion),
            ("onnxruntime-linux-x64-11.22.0.tgz", Rule::AssetWithoutVersion),
            ("../onnxruntime-linux-x64-1.22.0.tgz", Rule::BadAssetName),
            ("dir/onnxruntime-1.22.0.tgz", Rule::BadAssetName),
            ("onnx%20runtime-1.22.0.tgz", Rule::BadAssetName),
            (".hidden-1.22.0.tgz", Rule::BadAssetName),
        ];
        for (asset, rule) in cases {
            let text = good().replace("onnxruntime-linux-x64-1.22.0.tgz", asset);
            assert_eq!(only_error(&text).rule, rule, "{asset}");
        }
        // A private repackage may name its archive freely, as long as the release is in it.
        let text = good().replace("onnxruntime-linux-x64-1.22.0.tgz", "ort_1.22.0+mycorp.zip");
        assert!(parse(&text).is_ok());
    }

    #[test]
    fn missing_columns_and_source() {
        let e = only_error(&format!("1.22.0 linux-x64 cpu onnxruntime-linux-x64-1.22.0.tgz {HASH}"));
        assert_eq!(e.rule, Rule::MissingColumns);
        assert!(e.detail.starts_with("5 columns"), "{e}");
        let e = only_error(&format!("1.22.0 linux-x64 cpu onnxruntime-linux-x64-1.22.0.tgz {HASH} -   "));
        assert_eq!(e.rule, Rule::MissingSource);
        assert_eq!(only_error("1.22.0").detail.split(' ').next(), Some("1"));
    }

    #[test]
    fn duplicates_within_one_text() {
        let again = good().replace("A-rb A-php", "another source");
        let errors = parse(&format!("{}\n# c\n{again}\n", good())).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].rule), (3, Rule::DuplicateKey));
        assert!(errors[0].detail.contains("line 1"), "{}", errors[0]);

        // Same archive under another variant: one file cannot be two builds.
        let other_variant = good().replace(" cpu ", " cuda12 ");
        let e = only_error(&format!("{}\n{other_variant}", good()));
        assert_eq!((e.line, e.rule), (2, Rule::DuplicateAsset));

        // Different keys for one platform are fine (1.17.0 had both -gpu (CUDA 11) and -cuda12).
        let text = format!(
            "1.17.0 linux-x64 cuda11 onnxruntime-linux-x64-gpu-1.17.0.tgz {HASH} - s\n\
             1.17.0 linux-x64 cuda12 onnxruntime-linux-x64-cuda12-1.17.0.tgz {HASH} - s\n"
        );
        assert_eq!(parse(&text).unwrap().len(), 2);
    }

    #[test]
    fn every_bad_line_is_reported_in_order() {
        let text = format!("{}\n1.22\n{}\n{}\n", good(), good(), good().replace(" cpu ", " gpu "));
        let errors = parse(&text).unwrap_err();
        let found: Vec<(usize, Rule)> = errors.iter().map(|e| (e.line, e.rule)).collect();
        assert_eq!(found, [(2, Rule::MissingColumns), (3, Rule::DuplicateKey), (4, Rule::UnknownVariant)]);
    }

    #[test]
    fn release_files_list_their_own_release() {
        assert_eq!(parse_release_file("1.22.0.txt", &good()).unwrap().len(), 1);

        let other = good().replace("1.22.0", "1.22.1");
        let errors = parse_release_file("1.22.0.txt", &format!("{}\n{other}\n", good())).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].rule), (2, Rule::VersionNotFileName));
        assert!(errors[0].detail.contains("1.22.1") && errors[0].detail.contains("1.22.0.txt"));

        for name in ["1.22.txt", "1.22.0.text", "latest.txt", "v1.22.0.txt"] {
            let errors = parse_release_file(name, &good()).unwrap_err();
            assert_eq!((errors[0].line, errors[0].rule), (0, Rule::FileName), "{name}");
        }
        let errors = parse_release_file("1.22.0.txt", "# nothing yet\n").unwrap_err();
        assert_eq!(errors[0].rule, Rule::EmptyFile);
        // Line errors come through unchanged.
        let errors = parse_release_file("1.22.0.txt", &good().replace(HASH, &HASH[1..])).unwrap_err();
        assert_eq!((errors[0].line, errors[0].rule), (1, Rule::HashLength));
    }
}

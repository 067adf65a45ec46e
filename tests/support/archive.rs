//! Release archives in the official layout, built from a directory tree made by `official_tree`, and
//! the manifest lines and mirror folders that serve them.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A built archive: its file name, bytes and SHA-256.
pub struct Archive {
    pub asset: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

impl Archive {
    /// A manifest line for this archive.
    pub fn manifest_line(&self, version: &str, platform: &str, variant: &str) -> String {
        format!(
            "{version} {platform} {variant} {} {} {} built by the tests\n",
            self.asset,
            self.sha256,
            self.bytes.len()
        )
    }

    /// Writes `<mirror>/v<version>/<asset>` (the layout a mirror serves) and returns the file's path.
    pub fn put_in_mirror(&self, mirror: &Path, version: &str) -> PathBuf {
        let dir = mirror.join(format!("v{version}"));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(&self.asset);
        fs::write(&path, &self.bytes).unwrap();
        path
    }

    /// The URL path a mirror serves this archive under.
    pub fn url_path(&self, version: &str) -> String {
        format!("/v{version}/{}", self.asset)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A `.tgz` of `root` (symlinks kept as symlinks), whose single top folder is named `top`.
pub fn tgz(root: &Path, top: &str, asset: &str) -> Archive {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    builder.follow_symlinks(false);
    // Linkers leave holes in files; the official archives have no sparse entries (and we refuse them).
    builder.sparse(false);
    builder.mode(tar::HeaderMode::Deterministic);
    builder.append_dir_all(top, root).unwrap();
    let bytes = builder.into_inner().unwrap().finish().unwrap();
    Archive { asset: asset.to_string(), sha256: sha256_hex(&bytes), bytes }
}

/// A `.zip` of `root` (symlinks stored as zip symlinks), under the top folder `top`.
pub fn zip(root: &Path, top: &str, asset: &str) -> Archive {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    add_to_zip(&mut writer, root, top, options);
    let bytes = writer.finish().unwrap().into_inner();
    Archive { asset: asset.to_string(), sha256: sha256_hex(&bytes), bytes }
}

fn add_to_zip(
    writer: &mut zip::ZipWriter<std::io::Cursor<Vec<u8>>>,
    dir: &Path,
    prefix: &str,
    options: zip::write::SimpleFileOptions,
) {
    writer.add_directory(format!("{prefix}/"), options).unwrap();
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = format!("{prefix}/{}", entry.file_name().to_str().unwrap());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            let target = fs::read_link(entry.path()).unwrap();
            writer.add_symlink(name, target.to_str().unwrap(), options).unwrap();
        } else if kind.is_dir() {
            add_to_zip(writer, &entry.path(), &name, options);
        } else {
            writer.start_file(name, options.unix_permissions(0o755)).unwrap();
            writer.write_all(&fs::read(entry.path()).unwrap()).unwrap();
        }
    }
}

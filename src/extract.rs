//! Unpacking release archives (`.tgz`, `.zip`) under an allowlist: regular files, directories, and
//! symlinks whose target stays inside the archive. Anything else refuses the whole archive.

//! Trusted roots: the OS store — or, where there is none, Mozilla's roots (`webpki-roots`) — plus the
//! certificates of `SSL_CERT_FILE`, `SSL_CERT_DIR` and `ONNXRUNTIME_CA_BUNDLE` as read through `Vars`:
//! added, never replacing, so a TLS-inspecting proxy's CA can be trusted without losing the public roots. There is deliberately no switch that turns
//! verification off.
//!
//! rustls-native-certs 0.8's `load_native_certs` reads the *process's* `SSL_CERT_FILE`/`SSL_CERT_DIR`
//! *instead of* the OS store, so a variable naming just a corporate CA would drop every public root.
//! On Linux and the BSDs the store is therefore read from its well-known files directly; macOS and
//! Windows have no such files, and there the Mozilla roots stand in while either variable is set.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{CertificateError, ClientConfig, RootCertStore};

use crate::env::Var;
use crate::error::DownloadError;

/// The certificates of one PEM file, read when the settings are made so a bad file is reported at once.
#[derive(Clone, Debug)]
pub(crate) struct RootFile {
    pub variable: String,
    pub path: PathBuf,
    pub certs: Vec<CertificateDer<'static>>,
}

impl RootFile {
    pub(crate) fn read(var: &Var) -> Result<RootFile, DownloadError> {
        let path = var.path();
        let refuse = |reason: String| DownloadError::Setting {
            variable: var.name.clone(),
            value: path.display().to_string(),
            reason,
        };
        let pem = std::fs::read(&path).map_err(|e| refuse(format!("the file cannot be read: {e}")))?;
        // Only CERTIFICATE sections are read: keys and other sections are not roots.
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| refuse(format!("the file is not valid PEM: {e}")))?;
        if certs.is_empty() {
            return Err(refuse("the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
        }
        Ok(RootFile { variable: var.name.clone(), path, certs })
    }

    /// `SSL_CERT_DIR`: each directory of the list (`:`-separated, `;` on Windows) as OpenSSL reads
    /// it, every PEM certificate in its files (not recursively).
    pub(crate) fn read_dirs(var: &Var) -> Result<Vec<RootFile>, DownloadError> {
        let mut files = Vec::new();
        for dir in std::env::split_paths(&var.value).filter(|p| !p.as_os_str().is_empty()) {
            let refuse = |reason: String| DownloadError::Setting {
                variable: var.name.clone(),
                value: dir.display().to_string(),
                reason,
            };
            if let Err(e) = std::fs::read_dir(&dir) {
                return Err(refuse(format!("the directory cannot be read: {e}")));
            }
            // An unreadable or malformed file in it is skipped, as OpenSSL does.
            let found = rustls_native_certs::load_certs_from_paths(None, Some(&dir));
            if found.certs.is_empty() {
                return Err(refuse("the directory holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
            }
            files.push(RootFile { variable: var.name.clone(), path: dir, certs: found.certs });
        }
        Ok(files)
    }
}

/// The client configuration of every TLS connection of a session: our roots, ring's algorithms (named
/// explicitly, so another crate enabling a second provider cannot make the choice ambiguous).
pub(super) fn client_config(extra: &[RootFile]) -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(root_store(os_store(), extra))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// `store` (Mozilla's roots when it is empty), then each extra file's certificates. A certificate
/// rustls cannot take as an anchor is skipped, as every TLS client does with a system bundle.
pub(crate) fn root_store(store: &[CertificateDer<'static>], extra: &[RootFile]) -> RootCertStore {
    let mut roots = if store.is_empty() {
        RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }
    } else {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(store.iter().cloned());
        roots
    };
    roots.add_parsable_certificates(extra.iter().flat_map(|file| file.certs.iter().cloned()));
    roots
}

/// The OS store, read once per process: it takes tens of milliseconds and does not change mid-build.
pub(super) fn os_store() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(load_os_store)
}

/// The bundle files and directories of the distributions (the places openssl-probe 0.2, which
/// rustls-native-certs 0.8 uses, looks), read without consulting any variable.
#[cfg(all(unix, not(target_os = "macos")))]
pub(crate) fn load_os_store() -> Vec<rustls::pki_types::CertificateDer<'static>> {
    const BUNDLES: [&str; 9] = [
        "/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Arch, Gentoo
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // Fedora, RHEL 7 and later
        "/etc/pki/tls/certs/ca-bundle.crt",                  // RHEL 6
        "/etc/ssl/ca-bundle.pem",                            // openSUSE
        "/etc/pki/tls/cacert.pem",                           // OpenELEC
        "/etc/ssl/cert.pem",                                 // Alpine, OpenBSD
        "/usr/local/etc/ssl/cert.pem",                       // FreeBSD
        "/usr/local/share/certs/ca-root-nss.crt",            // DragonFly
        "/etc/openssl/certs/ca-certificates.crt",            // NetBSD
    ];
    const DIRS: [&str; 2] = ["/etc/ssl/certs", "/etc/pki/tls/certs"];
    let bundle = BUNDLES.iter().map(std::path::Path::new).find(|p| p.is_file());
    let mut dirs = DIRS.iter().map(std::path::Path::new).filter(|p| p.is_dir());
    // The bundle is read with the first directory, which often holds it and links to its certificates:
    // each file is read once. Unreadable entries are skipped, as every TLS client does.
    let mut certs = rustls_native_certs::load_certs_from_paths(bundle, dirs.next()).certs;
    for dir in dirs {
        certs.extend(rustls_native_certs::load_certs_from_paths(None, Some(dir)).certs);
    }
    certs.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
    certs.dedup();
    certs
}

/// The keychain (macOS) or the system store (Windows), through rustls-native-certs — unless the
/// process has `SSL_CERT_FILE` or `SSL_CERT_DIR`, which it would read instead: those files are added
/// through `Vars` anyway, so the Mozilla roots stand in for the store then.
#[cfg(not(all(unix, not(target_os = "macos"))))]
pub(crate) fn load_os_store() -> Vec<rustls::pki_types::CertificateDer<'static>> {
    // Only a presence test, for what rustls-native-certs will do; the values are read through `Vars`.
    let process = crate::env::Env::process();
    if process.cargo_path("SSL_CERT_FILE").is_some() || process.cargo_path("SSL_CERT_DIR").is_some() {
        return Vec::new();
    }
    rustls_native_certs::load_native_certs().certs
}

/// A TLS failure in words; the certificate problems users meet get a plain explanation.
pub(super) fn describe(error: &rustls::Error) -> String {
    let rustls::Error::InvalidCertificate(problem) = error else {
        return error.to_string();
    };
    match problem {
        CertificateError::UnknownIssuer => "unknown issuer: the server's certificate is signed by a CA this \
             machine does not trust (a TLS-inspecting proxy?); add that CA's PEM with ONNXRUNTIME_CA_BUNDLE \
             or SSL_CERT_FILE"
            .into(),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            format!("the server's certificate has expired ({error})")
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            format!("the server's certificate is not valid yet; check this machine's clock ({error})")
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("the server's certificate is for another host name ({error})")
        }
        _ => error.to_string(),
    }
}

//! Trusted roots: the OS store — or, where there is none, Mozilla's roots (`webpki-roots`, which ureq's
//! `rustls` feature builds anyway) — plus the certificates of `SSL_CERT_FILE`, `SSL_CERT_DIR` and
//! `ONNXRUNTIME_CA_BUNDLE` as read through `Vars`: added, never replacing, so a TLS-inspecting proxy's
//! CA can be trusted without losing the public roots. There is deliberately no switch that turns
//! verification off.
//!
//! rustls-native-certs 0.8's `load_native_certs` reads the *process's* `SSL_CERT_FILE`/`SSL_CERT_DIR`
//! *instead of* the OS store, so a variable naming just a corporate CA would drop every public root.
//! On Linux and the BSDs the store is therefore read from its well-known files directly; macOS and
//! Windows have no such files, and there the Mozilla roots stand in while either variable is set.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rustls::CertificateError;
use ureq::tls::{Certificate, PemItem, RootCerts};

use crate::env::Var;
use crate::error::DownloadError;

/// The certificates of one PEM file, read when the settings are made so a bad file is reported at once.
#[derive(Clone, Debug)]
pub(crate) struct RootFile {
    pub variable: String,
    pub path: PathBuf,
    pub certs: Vec<Certificate<'static>>,
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
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(PemItem::Certificate(cert)) => certs.push(cert),
                Ok(_) => {} // keys and other sections are not roots
                Err(e) => return Err(refuse(format!("the file is not valid PEM: {e}"))),
            }
        }
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
            let certs = found.certs.iter().map(|der| Certificate::from_der(der.as_ref()).to_owned()).collect();
            files.push(RootFile { variable: var.name.clone(), path: dir, certs });
        }
        Ok(files)
    }
}

/// The roots to verify servers with.
pub(super) fn root_certs(extra: &[RootFile]) -> RootCerts {
    let store = os_store();
    if store.is_empty() && extra.is_empty() {
        // ureq's own copy of the Mozilla roots: the same list `roots` would build.
        return RootCerts::WebPki;
    }
    RootCerts::Specific(Arc::new(roots(store, extra)))
}

/// The OS store (Mozilla's roots when it is empty), then each extra file's certificates.
pub(crate) fn roots(store: &[Certificate<'static>], extra: &[RootFile]) -> Vec<Certificate<'static>> {
    let base = if store.is_empty() { mozilla_roots() } else { store };
    base.iter().cloned().chain(extra.iter().flat_map(|file| file.certs.iter().cloned())).collect()
}

/// The OS store, read once per process: it takes tens of milliseconds and does not change mid-build.
pub(super) fn os_store() -> &'static [Certificate<'static>] {
    static ROOTS: OnceLock<Vec<Certificate<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| load_os_store().iter().map(|der| Certificate::from_der(der.as_ref()).to_owned()).collect())
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

/// `webpki_roots::TLS_SERVER_ROOTS` as certificates, which is all ureq takes beside its own
/// all-or-nothing `RootCerts::WebPki`.
fn mozilla_roots() -> &'static [Certificate<'static>] {
    static ROOTS: OnceLock<Vec<Certificate<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .map(|anchor| Certificate::from_der(&anchor_certificate(anchor)).to_owned())
            .collect()
    })
}

/// A certificate carrying a trust anchor's subject, key and name constraints: rustls takes exactly
/// those from a root certificate (webpki's `anchor_from_trusted_cert`), and checks neither a root's
/// signature nor its validity, so both are placeholders.
fn anchor_certificate(anchor: &rustls::pki_types::TrustAnchor<'_>) -> Vec<u8> {
    const SEQUENCE: u8 = 0x30;
    // sha256WithRSAEncryption (1.2.840.113549.1.1.11), NULL parameters.
    let algorithm = der(SEQUENCE, &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00]);
    let name = der(SEQUENCE, anchor.subject.as_ref());
    let validity = der(SEQUENCE, &[der(0x17, b"000101000000Z"), der(0x17, b"491231235959Z")].concat());
    let mut tbs = [
        der(0xa0, &der(0x02, &[2])), // version 3
        der(0x02, &[1]),             // serial number
        algorithm.clone(),
        name.clone(), // issuer: itself
        validity,
        name,
        der(SEQUENCE, anchor.subject_public_key_info.as_ref()),
    ]
    .concat();
    if let Some(constraints) = &anchor.name_constraints {
        // id-ce-nameConstraints (2.5.29.30), critical.
        let extension =
            [der(0x06, &[0x55, 0x1d, 0x1e]), der(0x01, &[0xff]), der(0x04, &der(SEQUENCE, constraints.as_ref()))]
                .concat();
        tbs.extend(der(0xa3, &der(SEQUENCE, &der(SEQUENCE, &extension))));
    }
    // The signature: an empty BIT STRING.
    der(SEQUENCE, &[der(SEQUENCE, &tbs), algorithm, der(0x03, &[0])].concat())
}

/// One DER element: tag, definite length, content.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match u8::try_from(content.len()) {
        Ok(short) if short < 0x80 => out.push(short),
        _ => {
            let length = content.len().to_be_bytes();
            let significant: Vec<u8> = length.iter().copied().skip_while(|b| *b == 0).collect();
            out.push(0x80 | significant.len() as u8);
            out.extend(significant);
        }
    }
    out.extend_from_slice(content);
    out
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

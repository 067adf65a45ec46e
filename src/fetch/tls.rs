//! Trusted roots: the OS store (rustls-native-certs) plus the PEM files named by `SSL_CERT_FILE` and
//! `ONNXRUNTIME_CA_BUNDLE` — added, never replacing, so a TLS-inspecting proxy's CA can be trusted
//! without losing the public roots. There is deliberately no switch that turns verification off.

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
}

/// The roots to verify servers with.
pub(super) fn root_certs(extra: &[RootFile]) -> RootCerts {
    let native = native_roots();
    if native.is_empty() && extra.is_empty() {
        // No OS store at all (a bare container): Mozilla's roots, built into ureq, beat failing every
        // handshake.
        return RootCerts::WebPki;
    }
    let extra = extra.iter().flat_map(|file| file.certs.iter().cloned());
    RootCerts::Specific(Arc::new(native.iter().cloned().chain(extra).collect()))
}

/// The OS store, read once per process: it takes tens of milliseconds and does not change mid-build.
fn native_roots() -> &'static [Certificate<'static>] {
    static ROOTS: OnceLock<Vec<Certificate<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        // Unreadable entries are skipped, as every TLS client does; only an empty store matters.
        let found = rustls_native_certs::load_native_certs();
        found.certs.iter().map(|der| Certificate::from_der(der.as_ref()).to_owned()).collect()
    })
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

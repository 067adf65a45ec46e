//! The `download` source: manifest lookup → cache hit, or (unless offline) fetch → verify → extract →
//! publish. The result is a candidate like any other, judged by the same inspection.

use crate::config::Config;
use crate::env::Vars;
use crate::error::{Attempt, DownloadError, Verdict};
use crate::request::Request;
use crate::sources::{Candidate, SourceKind};
use crate::target::Target;

/// Why the download source gave no candidate: the attempt for the report, and the error when the
/// failure needs the user's attention (rather than being a plain "skipped").
pub(crate) struct Outcome {
    pub attempt: Attempt,
    pub error: Option<DownloadError>,
}

pub(crate) fn candidate(
    _config: &Config,
    _target: &Target,
    _request: &Request,
    _vars: &Vars<'_>,
) -> Result<Candidate, Outcome> {
    Err(Outcome {
        attempt: Attempt {
            source: SourceKind::Download,
            location: "official release archives".into(),
            verdict: Verdict::Skipped { reason: "not implemented yet".into() },
        },
        error: None,
    })
}

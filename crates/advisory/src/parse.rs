//! One entry point for every format: detect by content, then parse.

use crate::csaf::{self, CsafDocument};
use crate::detect::{Format, detect};
use crate::kev::{self, KevCatalog};
use crate::model::{EpssRun, ParseError, Parsed};
use crate::nvd::{self, NvdPage};
use crate::{cve5, epss, osv};

/// File-level facts a parser reports besides its records.
#[derive(Debug, Clone, PartialEq)]
pub enum FileMeta {
    Nvd(NvdPage),
    Cve5,
    Kev(KevCatalog),
    /// A single CSAF document.
    Csaf(Box<CsafDocument>),
    /// CSAF documents, one per line: how many were read.
    CsafLines(usize),
    Osv,
    Epss(EpssRun),
}

/// Detect the format of `bytes` (already decompressed) and parse it, handing
/// each record, score or rejection to `sink`.
pub fn parse_any(
    bytes: &[u8],
    sink: &mut dyn FnMut(Parsed),
) -> Result<(Format, FileMeta), ParseError> {
    let format = detect(bytes).ok_or(ParseError::UnknownFormat)?;
    let meta = match format {
        Format::Nvd => FileMeta::Nvd(nvd::parse(bytes, sink)?),
        Format::Cve5 => {
            cve5::parse(bytes, sink)?;
            FileMeta::Cve5
        }
        Format::Cve5Lines => {
            cve5::parse_lines(bytes, sink)?;
            FileMeta::Cve5
        }
        Format::Kev => FileMeta::Kev(kev::parse(bytes, sink)?),
        Format::Csaf => FileMeta::Csaf(Box::new(csaf::parse(bytes, sink)?)),
        Format::CsafLines => FileMeta::CsafLines(csaf::parse_lines(bytes, sink)?),
        Format::Osv => {
            osv::parse(bytes, sink)?;
            FileMeta::Osv
        }
        Format::OsvLines => {
            osv::parse_lines(bytes, sink)?;
            FileMeta::Osv
        }
        Format::Epss => FileMeta::Epss(epss::parse(bytes, sink)?),
    };
    Ok((format, meta))
}

//! CSAF 2.0 documents (OASIS Common Security Advisory Framework): security
//! advisories, VEX documents and any other profile that carries
//! `vulnerabilities`.
//!
//! Each entry of `vulnerabilities[]` becomes one [`SourceRecord`] carrying the
//! document's metadata (publisher, dates, TLP). Product ids in
//! `product_status` are resolved through the product tree (branches,
//! `full_product_names`, `relationships`) into [`CsafProductStatus`]
//! statements, one per product and status, so the matcher sees vendor,
//! product, version (or version range, kept verbatim), CPE and purls.
//!
//! Choices worth knowing:
//! - `record_id` is `<tracking id>#<cve>`, or `<tracking id>#<index>` (0-based
//!   position in `vulnerabilities[]`) when the entry has no `cve`.
//! - Every tracking status (`draft`, `interim`, `final`) yields
//!   [`RecordState::Published`]; a draft is flagged in
//!   [`CsafDocument::warnings`]. CSAF 2.0 has no withdrawn status.
//! - The description is the vulnerability's `description` notes, else its
//!   `summary` notes, else its `general` notes (where Red Hat puts it), else
//!   the document's `summary` notes; several notes are joined by blank lines.
//! - A relationship's product ("X installed on Y") takes its name from the
//!   relationship and vendor, product, version, CPE and purls from the
//!   component (`product_reference`); the platform it relates to has no
//!   place in [`CsafProductStatus`].
//! - `threats` (impact statements, exploit status) and `flags` (VEX
//!   justifications) are not carried: the model has no place for them.
//! - A malformed vulnerability entry is rejected on its own; a malformed
//!   `document` or `product_tree` fails the whole document, because every
//!   record depends on them.
//! - Things a reader should know but that do not reject anything (unknown
//!   product ids, unscorable CVSS vectors, duplicate product definitions) are
//!   listed in [`CsafDocument::warnings`].

use crate::cvss;
use crate::model::{
    Affected, CsafProductStatus, CsafStatus, CvssScore, ParseError, Parsed, RecordState, Reference,
    Rejection, Remediation, SourceKind, SourceRecord, Tlp, is_cve_id, normalise_cwe,
};
use crate::time::parse_timestamp;
use chrono::{DateTime, Utc};
use serde::de::{IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// `document.tracking.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackingStatus {
    Draft,
    Interim,
    Final,
}

impl TrackingStatus {
    fn parse(s: &str) -> Option<TrackingStatus> {
        match s.trim().to_ascii_lowercase().as_str() {
            "draft" => Some(TrackingStatus::Draft),
            "interim" => Some(TrackingStatus::Interim),
            "final" => Some(TrackingStatus::Final),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TrackingStatus::Draft => "draft",
            TrackingStatus::Interim => "interim",
            TrackingStatus::Final => "final",
        }
    }
}

/// Document-level metadata of one CSAF document, returned alongside the
/// records it yielded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsafDocument {
    /// `document.tracking.id`, e.g. `ICSA-23-194-02` or `RHSA-2022:0011`.
    pub tracking_id: String,
    pub title: Option<String>,
    /// `document.category`: `csaf_security_advisory`, `csaf_vex`,
    /// `csaf_informational_advisory`, `csaf_base` or a publisher's own.
    pub category: String,
    pub csaf_version: String,
    pub lang: Option<String>,
    pub publisher_name: Option<String>,
    pub publisher_namespace: Option<String>,
    /// `vendor`, `coordinator`, `discoverer`, `translator`, `user`, `other`.
    pub publisher_category: Option<String>,
    /// `None` when absent or not one of the three CSAF values.
    pub status: Option<TrackingStatus>,
    pub initial_release_date: Option<DateTime<Utc>>,
    pub current_release_date: Option<DateTime<Utc>>,
    /// `document.tracking.version`.
    pub version: Option<String>,
    /// `document.distribution.tlp.label` (`WHITE` read as [`Tlp::Clear`]).
    pub tlp: Option<Tlp>,
    /// `document.aggregate_severity.text`, e.g. `Important`.
    pub aggregate_severity: Option<String>,
    /// Entries in `vulnerabilities[]`.
    pub vulnerabilities: usize,
    /// Records emitted (one per vulnerability that could be read).
    pub records: usize,
    /// Vulnerabilities rejected.
    pub rejected: usize,
    /// Facts worth a reader's attention that rejected nothing (at most 100).
    pub warnings: Vec<String>,
}

/// Parse one CSAF document held in `json`, sending one [`Parsed::Record`] per
/// vulnerability (or [`Parsed::Rejected`] with its 0-based index) to `sink`.
/// An error means the document as a whole cannot be read.
pub fn parse_document(json: &str, sink: &mut dyn FnMut(Parsed)) -> Result<CsafDocument, String> {
    read_document(json, None, sink).map_err(|e| e.to_string())
}

/// Parse a file holding one CSAF document.
pub fn parse(bytes: &[u8], sink: &mut dyn FnMut(Parsed)) -> Result<CsafDocument, ParseError> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ParseError::Json(format!("the file is not UTF-8 text: {e}")))?;
    read_document(text, None, sink).map_err(DocError::into_parse_error)
}

/// Parse JSON Lines holding one CSAF document per line, returning how many
/// documents were read. A line that cannot be read becomes
/// [`Parsed::Rejected`] with its 1-based line number (as do rejected
/// vulnerabilities within a line). If the first non-blank line is not JSON,
/// or is JSON but no CSAF document at all, the file is not CSAF JSON Lines and
/// the whole parse fails.
pub fn parse_lines(bytes: &[u8], sink: &mut dyn FnMut(Parsed)) -> Result<usize, ParseError> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut documents = 0;
    let mut first = true;
    for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = n + 1;
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let is_first = std::mem::replace(&mut first, false);
        let text = match std::str::from_utf8(line) {
            Ok(t) => t,
            Err(e) if is_first => {
                return Err(ParseError::Json(format!(
                    "line {line_no} is not UTF-8 text: {e}"
                )));
            }
            Err(e) => {
                sink(Parsed::Rejected(Rejection {
                    position: line_no,
                    record_id: None,
                    reason: format!("the line is not UTF-8 text: {e}"),
                }));
                continue;
            }
        };
        match read_document(text, Some(line_no), sink) {
            Ok(_) => documents += 1,
            Err(DocError::Json(e)) if is_first => {
                return Err(ParseError::Json(format!(
                    "line {line_no}: {e} (CSAF JSON Lines hold one complete document per line)"
                )));
            }
            Err(DocError::NotCsaf(reason)) if is_first => {
                return Err(ParseError::WrongShape {
                    expected: EXPECTED,
                    reason: format!("line {line_no}: {reason}"),
                });
            }
            Err(e) => sink(Parsed::Rejected(Rejection {
                position: line_no,
                record_id: tracking_id_of(text),
                reason: e.to_string(),
            })),
        }
    }
    Ok(documents)
}

const BOM: &[u8] = b"\xEF\xBB\xBF";
const EXPECTED: &str = "CSAF 2.0";
const MAX_WARNINGS: usize = 100;

/// Why a document could not be read.
#[derive(Debug)]
enum DocError {
    /// Not JSON at all.
    Json(String),
    /// JSON, but no CSAF document (a ROLIE feed, provider metadata…).
    NotCsaf(String),
    /// A CSAF document with a part every record needs missing or malformed.
    Shape(String),
}

impl DocError {
    fn into_parse_error(self) -> ParseError {
        match self {
            DocError::Json(e) => ParseError::Json(e),
            DocError::NotCsaf(reason) | DocError::Shape(reason) => ParseError::WrongShape {
                expected: EXPECTED,
                reason,
            },
        }
    }
}

impl fmt::Display for DocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocError::Json(e) => write!(f, "not valid JSON: {e}"),
            DocError::NotCsaf(e) => write!(f, "not a CSAF document: {e}"),
            DocError::Shape(e) => write!(f, "{e}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Input shapes. Only what we use; unknown fields are ignored.

/// A JSON string, borrowed from the input unless it had escapes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Text<'a>(Cow<'a, str>);

impl Text<'_> {
    fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// The trimmed text of an optional string, if not empty.
fn text<'s>(t: &'s Option<Text<'_>>) -> Option<&'s str> {
    t.as_ref()
        .map(|t| t.as_str().trim())
        .filter(|s| !s.is_empty())
}

fn texts<'s>(list: &'s Option<Vec<Text<'_>>>) -> impl Iterator<Item = &'s str> {
    list.iter()
        .flatten()
        .map(|t| t.as_str().trim())
        .filter(|s| !s.is_empty())
}

#[derive(Deserialize)]
struct Top<'a> {
    #[serde(borrow)]
    document: Option<DocumentIn<'a>>,
    #[serde(borrow)]
    product_tree: Option<ProductTreeIn<'a>>,
    #[serde(borrow)]
    vulnerabilities: Option<Vec<&'a RawValue>>,
    // Keys of the other documents a CSAF provider publishes, to say what a
    // non-CSAF file is.
    feed: Option<IgnoredAny>,
    service: Option<IgnoredAny>,
    categories: Option<IgnoredAny>,
    aggregator: Option<IgnoredAny>,
    canonical_url: Option<IgnoredAny>,
    metadata_version: Option<IgnoredAny>,
    tests: Option<IgnoredAny>,
    #[serde(rename = "$schema")]
    schema: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct DocumentIn<'a> {
    #[serde(borrow)]
    category: Option<Text<'a>>,
    #[serde(borrow)]
    csaf_version: Option<Text<'a>>,
    #[serde(borrow)]
    title: Option<Text<'a>>,
    #[serde(borrow)]
    lang: Option<Text<'a>>,
    #[serde(borrow)]
    publisher: Option<PublisherIn<'a>>,
    #[serde(borrow)]
    tracking: Option<TrackingIn<'a>>,
    #[serde(borrow)]
    distribution: Option<DistributionIn<'a>>,
    #[serde(borrow)]
    aggregate_severity: Option<AggregateSeverityIn<'a>>,
    #[serde(borrow)]
    notes: Option<Vec<NoteIn<'a>>>,
    #[serde(borrow)]
    references: Option<Vec<ReferenceIn<'a>>>,
}

#[derive(Deserialize)]
struct PublisherIn<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    namespace: Option<Text<'a>>,
    #[serde(borrow)]
    category: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct TrackingIn<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    status: Option<Text<'a>>,
    #[serde(borrow)]
    version: Option<Text<'a>>,
    #[serde(borrow)]
    initial_release_date: Option<Text<'a>>,
    #[serde(borrow)]
    current_release_date: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct DistributionIn<'a> {
    #[serde(borrow)]
    tlp: Option<TlpIn<'a>>,
}

#[derive(Deserialize)]
struct TlpIn<'a> {
    #[serde(borrow)]
    label: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct AggregateSeverityIn<'a> {
    #[serde(borrow)]
    text: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct NoteIn<'a> {
    #[serde(borrow)]
    category: Option<Text<'a>>,
    #[serde(borrow)]
    text: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct ReferenceIn<'a> {
    #[serde(borrow)]
    url: Option<Text<'a>>,
    #[serde(borrow)]
    category: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct ProductTreeIn<'a> {
    #[serde(borrow)]
    branches: Option<Vec<BranchIn<'a>>>,
    #[serde(borrow)]
    full_product_names: Option<Vec<FullProductNameIn<'a>>>,
    #[serde(borrow)]
    relationships: Option<Vec<RelationshipIn<'a>>>,
    #[serde(borrow)]
    product_groups: Option<Vec<ProductGroupIn<'a>>>,
}

#[derive(Deserialize)]
struct BranchIn<'a> {
    #[serde(borrow)]
    category: Option<Text<'a>>,
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    branches: Option<Vec<BranchIn<'a>>>,
    #[serde(borrow)]
    product: Option<FullProductNameIn<'a>>,
}

#[derive(Deserialize)]
struct FullProductNameIn<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    product_id: Option<Text<'a>>,
    #[serde(borrow)]
    product_identification_helper: Option<HelperIn<'a>>,
}

/// `product_identification_helper`: we keep `cpe` and `purl` (and CSAF 2.1's
/// `purls`); hashes, SBOM URLs, SKUs, model and serial numbers are skipped.
#[derive(Deserialize)]
struct HelperIn<'a> {
    #[serde(borrow)]
    cpe: Option<Text<'a>>,
    #[serde(borrow)]
    purl: Option<Text<'a>>,
    #[serde(borrow)]
    purls: Option<Vec<Text<'a>>>,
}

#[derive(Deserialize)]
struct RelationshipIn<'a> {
    #[serde(borrow)]
    product_reference: Option<Text<'a>>,
    #[serde(borrow)]
    relates_to_product_reference: Option<Text<'a>>,
    #[serde(borrow)]
    full_product_name: Option<FullProductNameIn<'a>>,
}

#[derive(Deserialize)]
struct ProductGroupIn<'a> {
    #[serde(borrow)]
    group_id: Option<Text<'a>>,
    #[serde(borrow)]
    product_ids: Option<Vec<Text<'a>>>,
}

#[derive(Deserialize)]
struct VulnerabilityIn<'a> {
    #[serde(borrow)]
    cve: Option<Text<'a>>,
    #[serde(borrow)]
    ids: Option<Vec<VulnIdIn<'a>>>,
    #[serde(borrow)]
    title: Option<Text<'a>>,
    #[serde(borrow)]
    notes: Option<Vec<NoteIn<'a>>>,
    #[serde(borrow)]
    release_date: Option<Text<'a>>,
    #[serde(borrow)]
    cwe: Option<CweIn<'a>>,
    /// CSAF 2.1.
    #[serde(borrow)]
    cwes: Option<Vec<CweIn<'a>>>,
    #[serde(borrow)]
    references: Option<Vec<ReferenceIn<'a>>>,
    #[serde(borrow)]
    product_status: Option<ProductStatusIn<'a>>,
    #[serde(borrow)]
    scores: Option<Vec<ScoreIn<'a>>>,
    /// CSAF 2.1.
    #[serde(borrow)]
    metrics: Option<Vec<MetricIn<'a>>>,
    #[serde(borrow)]
    remediations: Option<Vec<RemediationIn<'a>>>,
}

#[derive(Deserialize)]
struct VulnIdIn<'a> {
    #[serde(borrow)]
    text: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct CweIn<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct ProductStatusIn<'a> {
    #[serde(borrow)]
    first_affected: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    first_fixed: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    fixed: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    known_affected: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    known_not_affected: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    last_affected: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    recommended: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    under_investigation: Option<Vec<Text<'a>>>,
}

impl<'a> ProductStatusIn<'a> {
    fn lists(&self) -> [(CsafStatus, &'static str, &Option<Vec<Text<'a>>>); 8] {
        [
            (
                CsafStatus::FirstAffected,
                "first_affected",
                &self.first_affected,
            ),
            (CsafStatus::FirstFixed, "first_fixed", &self.first_fixed),
            (CsafStatus::Fixed, "fixed", &self.fixed),
            (
                CsafStatus::KnownAffected,
                "known_affected",
                &self.known_affected,
            ),
            (
                CsafStatus::KnownNotAffected,
                "known_not_affected",
                &self.known_not_affected,
            ),
            (
                CsafStatus::LastAffected,
                "last_affected",
                &self.last_affected,
            ),
            (CsafStatus::Recommended, "recommended", &self.recommended),
            (
                CsafStatus::UnderInvestigation,
                "under_investigation",
                &self.under_investigation,
            ),
        ]
    }
}

#[derive(Deserialize)]
struct ScoreIn<'a> {
    #[serde(borrow)]
    cvss_v2: Option<CvssIn<'a>>,
    #[serde(borrow)]
    cvss_v3: Option<CvssIn<'a>>,
    /// CSAF 2.1.
    #[serde(borrow)]
    cvss_v4: Option<CvssIn<'a>>,
}

/// CSAF 2.1 `metrics[]`: the scores moved under `content`.
#[derive(Deserialize)]
struct MetricIn<'a> {
    #[serde(borrow)]
    content: Option<ScoreIn<'a>>,
}

#[derive(Deserialize)]
struct CvssIn<'a> {
    #[serde(borrow, rename = "vectorString")]
    vector_string: Option<Text<'a>>,
    #[serde(rename = "baseScore")]
    base_score: Option<f64>,
}

#[derive(Deserialize)]
struct RemediationIn<'a> {
    #[serde(borrow)]
    category: Option<Text<'a>>,
    #[serde(borrow)]
    details: Option<Text<'a>>,
    #[serde(borrow)]
    url: Option<Text<'a>>,
    #[serde(borrow)]
    product_ids: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    group_ids: Option<Vec<Text<'a>>>,
}

// ---------------------------------------------------------------------------
// The document.

/// Capped list of warnings.
#[derive(Default)]
struct Warnings {
    list: Vec<String>,
    dropped: usize,
}

impl Warnings {
    fn add(&mut self, message: impl FnOnce() -> String) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(message());
        } else {
            self.dropped += 1;
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.list
                .push(format!("… and {} further warnings", self.dropped));
        }
        self.list
    }
}

/// What every record of a document shares.
struct Header<'d> {
    tracking_id: &'d str,
    title: Option<&'d str>,
    publisher: Option<&'d str>,
    assessor: &'d str,
    tlp: Option<Tlp>,
    published: Option<DateTime<Utc>>,
    modified: Option<DateTime<Utc>>,
    summary: Option<String>,
    references: Vec<Reference>,
}

fn read_document(
    json: &str,
    line: Option<usize>,
    sink: &mut dyn FnMut(Parsed),
) -> Result<CsafDocument, DocError> {
    let top = read_top(json)?;
    let Some(doc) = top.document.as_ref() else {
        return Err(DocError::NotCsaf(what_else(&top)));
    };
    let csaf_version = text(&doc.csaf_version).ok_or_else(|| {
        DocError::Shape("document.csaf_version is missing; is this a CSAF document?".into())
    })?;
    if !csaf_version.starts_with("2.") {
        return Err(DocError::Shape(format!(
            "document.csaf_version is '{csaf_version}'; only CSAF 2.x is supported"
        )));
    }
    let category = text(&doc.category)
        .ok_or_else(|| DocError::Shape("document.category is missing".into()))?;
    let tracking = doc.tracking.as_ref();
    let tracking_id = tracking
        .and_then(|t| text(&t.id))
        .ok_or_else(|| DocError::Shape("document.tracking.id is missing".into()))?;

    let mut warnings = Warnings::default();
    let status_text = tracking.and_then(|t| text(&t.status));
    let status = status_text.and_then(TrackingStatus::parse);
    match (status_text, status) {
        (_, Some(TrackingStatus::Draft)) => warnings.add(|| {
            "document.tracking.status is 'draft'; its records are emitted as published".into()
        }),
        (Some(s), None) => warnings
            .add(|| format!("document.tracking.status '{s}' is not draft, interim or final")),
        (None, _) => warnings.add(|| "document.tracking.status is missing".into()),
        _ => {}
    }
    let mut date = |field: &str, value: Option<&str>| {
        let value = value?;
        let parsed = parse_timestamp(value);
        if parsed.is_none() {
            warnings.add(|| format!("document.tracking.{field} '{value}' is not a timestamp"));
        }
        parsed
    };
    let initial = date(
        "initial_release_date",
        tracking.and_then(|t| text(&t.initial_release_date)),
    );
    let current = date(
        "current_release_date",
        tracking.and_then(|t| text(&t.current_release_date)),
    );
    let tlp_text = doc
        .distribution
        .as_ref()
        .and_then(|d| d.tlp.as_ref())
        .and_then(|t| text(&t.label));
    let tlp = tlp_text.and_then(tlp_label);
    if let (Some(label), None) = (tlp_text, tlp) {
        warnings.add(|| format!("document.distribution.tlp.label '{label}' is not a TLP label"));
    }
    let publisher = doc.publisher.as_ref();
    let publisher_name = publisher.and_then(|p| text(&p.name));
    let publisher_namespace = publisher.and_then(|p| text(&p.namespace));

    let header = Header {
        tracking_id,
        title: text(&doc.title),
        publisher: publisher_name,
        assessor: publisher_name
            .or(publisher_namespace)
            .unwrap_or(tracking_id),
        tlp,
        published: initial,
        modified: current,
        summary: joined_notes(&doc.notes, "summary")
            .or_else(|| joined_notes(&doc.notes, "description")),
        references: doc
            .references
            .iter()
            .flatten()
            .filter_map(reference)
            .collect(),
    };
    let index = ProductIndex::build(top.product_tree.as_ref(), &mut warnings);

    let vulnerabilities = top.vulnerabilities.as_deref().unwrap_or_default();
    let mut used_ids = HashSet::new();
    let (mut records, mut rejected) = (0, 0);
    for (i, raw) in vulnerabilities.iter().enumerate() {
        match serde_json::from_str::<VulnerabilityIn>(raw.get()) {
            Ok(v) => {
                let record = build_record(&header, &index, &v, i, &mut used_ids, &mut warnings);
                records += 1;
                sink(Parsed::Record(Box::new(record)));
            }
            Err(e) => {
                rejected += 1;
                let detail = diagnose_vulnerability(raw.get()).unwrap_or_else(|| format!(": {e}"));
                sink(Parsed::Rejected(Rejection {
                    position: line.unwrap_or(i),
                    record_id: Some(rejected_record_id(tracking_id, raw.get(), i)),
                    reason: format!("vulnerabilities[{i}]{detail}"),
                }));
            }
        }
    }

    Ok(CsafDocument {
        tracking_id: tracking_id.to_string(),
        title: header.title.map(str::to_string),
        category: category.to_string(),
        csaf_version: csaf_version.to_string(),
        lang: text(&doc.lang).map(str::to_string),
        publisher_name: publisher_name.map(str::to_string),
        publisher_namespace: publisher_namespace.map(str::to_string),
        publisher_category: publisher
            .and_then(|p| text(&p.category))
            .map(str::to_string),
        status,
        initial_release_date: initial,
        current_release_date: current,
        version: tracking.and_then(|t| text(&t.version)).map(str::to_string),
        tlp,
        aggregate_severity: doc
            .aggregate_severity
            .as_ref()
            .and_then(|a| text(&a.text))
            .map(str::to_string),
        vulnerabilities: vulnerabilities.len(),
        records,
        rejected,
        warnings: warnings.finish(),
    })
}

/// Deserialize the top level, turning a failure into a precise reason.
fn read_top(json: &str) -> Result<Top<'_>, DocError> {
    let json = json.strip_prefix('\u{feff}').unwrap_or(json);
    let start = json.trim_start().as_bytes().first().copied();
    if start != Some(b'{') {
        if let Err(e) = serde_json::from_str::<IgnoredAny>(json) {
            return Err(DocError::Json(e.to_string()));
        }
        let kind = match start {
            Some(b'[') => "an array",
            Some(b'"') => "a string",
            Some(b't' | b'f') => "a boolean",
            Some(b'n') => "null",
            _ => "a number",
        };
        return Err(DocError::NotCsaf(format!(
            "the top level is {kind}, not an object with a `document` member"
        )));
    }
    match serde_json::from_str::<Top>(json) {
        Ok(top) => Ok(top),
        Err(e) if e.is_data() => Err(diagnose_top(json, &e)),
        Err(e) => Err(DocError::Json(e.to_string())),
    }
}

/// Name what a JSON object without `document` is.
fn what_else(top: &Top) -> String {
    let is = |what: &str| format!("this looks like {what}, not a CSAF document");
    if top.feed.is_some() {
        is("a ROLIE feed (top-level `feed`)")
    } else if top.service.is_some() {
        is("a ROLIE service document (top-level `service`)")
    } else if top.categories.is_some() {
        is("a ROLIE category document (top-level `categories`)")
    } else if top.aggregator.is_some() {
        is("a CSAF aggregator document (aggregator.json)")
    } else if top.canonical_url.is_some() && top.metadata_version.is_some() {
        is("CSAF provider metadata (provider-metadata.json)")
    } else if top.tests.is_some() {
        is("a CSAF test-case index")
    } else if top.schema.is_some() {
        is("a JSON document with a `$schema` but no `document` object")
    } else {
        "there is no top-level `document` object".into()
    }
}

fn tlp_label(label: &str) -> Option<Tlp> {
    match label.trim().to_ascii_uppercase().as_str() {
        "WHITE" | "CLEAR" | "TLP:WHITE" | "TLP:CLEAR" => Some(Tlp::Clear),
        "GREEN" | "TLP:GREEN" => Some(Tlp::Green),
        "AMBER" | "TLP:AMBER" => Some(Tlp::Amber),
        "AMBER+STRICT" | "TLP:AMBER+STRICT" => Some(Tlp::AmberStrict),
        "RED" | "TLP:RED" => Some(Tlp::Red),
        _ => None,
    }
}

/// The texts of all notes of `category`, joined by blank lines.
fn joined_notes(notes: &Option<Vec<NoteIn>>, category: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for note in notes.iter().flatten() {
        if !text(&note.category).is_some_and(|c| c.eq_ignore_ascii_case(category)) {
            continue;
        }
        if let Some(t) = text(&note.text) {
            match out.as_mut() {
                Some(s) => {
                    s.push_str("\n\n");
                    s.push_str(t);
                }
                None => out = Some(t.to_string()),
            }
        }
    }
    out
}

fn reference(r: &ReferenceIn) -> Option<Reference> {
    Some(Reference {
        url: text(&r.url)?.to_string(),
        tags: text(&r.category)
            .map(|c| vec![c.to_string()])
            .unwrap_or_default(),
    })
}

// ---------------------------------------------------------------------------
// The product tree.

/// A product as the tree describes it.
#[derive(Clone)]
struct ProductInfo<'t> {
    name: &'t str,
    vendor: Option<&'t str>,
    product: Option<&'t str>,
    version: Option<&'t str>,
    cpe: Option<&'t str>,
    purls: Vec<&'t str>,
}

/// The branch categories above a product.
#[derive(Clone, Copy, Default)]
struct BranchPath<'t> {
    vendor: Option<&'t str>,
    product_name: Option<&'t str>,
    family: Option<&'t str>,
    version: Option<&'t str>,
}

#[derive(Default)]
struct ProductIndex<'t> {
    products: HashMap<&'t str, ProductInfo<'t>>,
    groups: HashMap<&'t str, Vec<&'t str>>,
}

impl<'t> ProductIndex<'t> {
    fn build(tree: Option<&'t ProductTreeIn<'_>>, warnings: &mut Warnings) -> ProductIndex<'t> {
        let mut index = ProductIndex::default();
        let Some(tree) = tree else {
            return index;
        };
        if let Some(branches) = &tree.branches {
            index.walk(branches, BranchPath::default(), warnings);
        }
        for product in tree.full_product_names.iter().flatten() {
            index.insert_full(product, BranchPath::default(), warnings);
        }
        if let Some(relationships) = &tree.relationships {
            index.relate(relationships, warnings);
        }
        for group in tree.product_groups.iter().flatten() {
            if let Some(id) = text(&group.group_id) {
                index
                    .groups
                    .entry(id)
                    .or_default()
                    .extend(texts(&group.product_ids));
            }
        }
        index
    }

    fn walk(&mut self, branches: &'t [BranchIn<'_>], path: BranchPath<'t>, w: &mut Warnings) {
        for branch in branches {
            let mut path = path;
            if let Some(name) = text(&branch.name) {
                match branch.category.as_ref().map(Text::as_str) {
                    Some("vendor") => path.vendor = Some(name),
                    Some("product_name") => path.product_name = Some(name),
                    Some("product_family") => path.family = Some(name),
                    Some("product_version" | "product_version_range") => path.version = Some(name),
                    _ => {}
                }
            }
            if let Some(product) = &branch.product {
                self.insert_full(product, path, w);
            }
            if let Some(children) = &branch.branches {
                self.walk(children, path, w);
            }
        }
    }

    fn insert_full(
        &mut self,
        product: &'t FullProductNameIn<'_>,
        path: BranchPath<'t>,
        w: &mut Warnings,
    ) {
        let Some(id) = text(&product.product_id) else {
            w.add(|| "product_tree: a product has no product_id; skipped".into());
            return;
        };
        let (cpe, purls) = helpers(product.product_identification_helper.as_ref());
        let info = ProductInfo {
            name: text(&product.name).unwrap_or(id),
            vendor: path.vendor,
            product: path.product_name.or(path.family),
            version: path.version,
            cpe,
            purls,
        };
        self.insert(id, info, w);
    }

    fn insert(&mut self, id: &'t str, info: ProductInfo<'t>, w: &mut Warnings) {
        if self.products.contains_key(id) {
            w.add(|| {
                format!(
                    "product_tree: product id '{id}' is defined more than once; \
                     the first definition is kept"
                )
            });
        } else {
            self.products.insert(id, info);
        }
    }

    /// Relationships define products composed of two others; one may refer
    /// to a product another relationship defines, so resolve in passes.
    fn relate(&mut self, relationships: &'t [RelationshipIn<'_>], w: &mut Warnings) {
        let defined_here: HashSet<&str> = relationships
            .iter()
            .filter_map(|r| r.full_product_name.as_ref())
            .filter_map(|f| text(&f.product_id))
            .collect();
        let mut pending: Vec<&RelationshipIn> = relationships.iter().collect();
        loop {
            let before = pending.len();
            pending.retain(|r| {
                let waiting = text(&r.product_reference).is_some_and(|component| {
                    !self.products.contains_key(component) && defined_here.contains(component)
                });
                if !waiting {
                    self.insert_relationship(r, w);
                }
                waiting
            });
            if pending.is_empty() || pending.len() == before {
                break;
            }
        }
        for r in pending {
            self.insert_relationship(r, w);
        }
        for r in relationships {
            if let Some(platform) = text(&r.relates_to_product_reference)
                && !self.products.contains_key(platform)
            {
                w.add(|| {
                    format!(
                        "product_tree: a relationship relates to '{platform}', \
                         which is not in the product tree"
                    )
                });
            }
        }
    }

    fn insert_relationship(&mut self, r: &'t RelationshipIn<'_>, w: &mut Warnings) {
        let full = r.full_product_name.as_ref();
        let Some(id) = full.and_then(|f| text(&f.product_id)) else {
            w.add(|| {
                "product_tree: a relationship has no full_product_name.product_id; skipped".into()
            });
            return;
        };
        let component_id = text(&r.product_reference);
        let component = component_id.and_then(|c| self.products.get(c)).cloned();
        if component.is_none() {
            w.add(|| match component_id {
                Some(c) => format!(
                    "product_tree: relationship '{id}' refers to product_reference '{c}', \
                     which is not in the tree"
                ),
                None => format!("product_tree: relationship '{id}' has no product_reference"),
            });
        }
        let (own_cpe, own_purls) =
            helpers(full.and_then(|f| f.product_identification_helper.as_ref()));
        let name = full.and_then(|f| text(&f.name)).unwrap_or(id);
        let info = match component {
            Some(c) => ProductInfo {
                name,
                cpe: own_cpe.or(c.cpe),
                purls: if own_purls.is_empty() {
                    c.purls
                } else {
                    own_purls
                },
                ..c
            },
            None => ProductInfo {
                name,
                vendor: None,
                product: None,
                version: None,
                cpe: own_cpe,
                purls: own_purls,
            },
        };
        self.insert(id, info, w);
    }

    fn status(&self, id: &str, status: CsafStatus) -> (CsafProductStatus, bool) {
        match self.products.get(id) {
            Some(p) => (
                CsafProductStatus {
                    product_id: id.to_string(),
                    name: p.name.to_string(),
                    vendor: p.vendor.map(str::to_string),
                    product: p.product.map(str::to_string),
                    version: p.version.map(str::to_string),
                    cpe: p.cpe.map(str::to_string),
                    purls: p.purls.iter().map(|s| s.to_string()).collect(),
                    status,
                },
                true,
            ),
            None => (
                CsafProductStatus {
                    product_id: id.to_string(),
                    name: id.to_string(),
                    vendor: None,
                    product: None,
                    version: None,
                    cpe: None,
                    purls: Vec::new(),
                    status,
                },
                false,
            ),
        }
    }
}

/// CPE and purls from a `product_identification_helper`.
fn helpers<'t>(helper: Option<&'t HelperIn<'_>>) -> (Option<&'t str>, Vec<&'t str>) {
    let Some(h) = helper else {
        return (None, Vec::new());
    };
    let mut purls: Vec<&str> = Vec::new();
    for p in text(&h.purl).into_iter().chain(texts(&h.purls)) {
        if !purls.contains(&p) {
            purls.push(p);
        }
    }
    (text(&h.cpe), purls)
}

// ---------------------------------------------------------------------------
// One vulnerability.

fn build_record(
    h: &Header,
    index: &ProductIndex,
    v: &VulnerabilityIn,
    i: usize,
    used_ids: &mut HashSet<String>,
    w: &mut Warnings,
) -> SourceRecord {
    let tid = h.tracking_id;
    let cve = text(&v.cve);
    let ids: Vec<&str> = v
        .ids
        .iter()
        .flatten()
        .filter_map(|id| text(&id.text))
        .collect();
    let own_id = format!("{tid}#{i}");
    let mut record_id = match cve {
        Some(c) => format!("{tid}#{c}"),
        None => own_id.clone(),
    };
    if used_ids.contains(&record_id) {
        w.add(|| {
            format!(
                "vulnerabilities[{i}]: '{record_id}' is used by an earlier vulnerability; \
                 this one is '{record_id}#{i}'"
            )
        });
        record_id = format!("{record_id}#{i}");
    }
    used_ids.insert(record_id.clone());
    let vuln_id = cve
        .filter(|c| is_cve_id(c))
        .or_else(|| ids.iter().copied().find(|t| is_cve_id(t)))
        .map(str::to_string)
        .unwrap_or(own_id);

    let mut aliases: Vec<String> = Vec::new();
    for alias in ids.iter().copied().chain(cve).chain([tid]) {
        if alias != vuln_id && !aliases.iter().any(|a| a == alias) {
            aliases.push(alias.to_string());
        }
    }

    let description = joined_notes(&v.notes, "description")
        .or_else(|| joined_notes(&v.notes, "summary"))
        .or_else(|| joined_notes(&v.notes, "general"))
        .or_else(|| h.summary.clone());

    let mut cwes: Vec<String> = Vec::new();
    for cwe in v.cwe.iter().chain(v.cwes.iter().flatten()) {
        if let Some(c) = text(&cwe.id).and_then(normalise_cwe)
            && !cwes.contains(&c)
        {
            cwes.push(c);
        }
    }

    let mut references: Vec<Reference> = Vec::new();
    let vuln_refs = v.references.iter().flatten().filter_map(reference);
    for r in vuln_refs.chain(h.references.iter().cloned()) {
        if !references.iter().any(|known| known.url == r.url) {
            references.push(r);
        }
    }

    let mut cvss: Vec<CvssScore> = Vec::new();
    let mut vectors: HashSet<&str> = HashSet::new();
    let scores = v.scores.iter().flatten().chain(
        v.metrics
            .iter()
            .flatten()
            .filter_map(|m| m.content.as_ref()),
    );
    for score in scores {
        for metric in [&score.cvss_v2, &score.cvss_v3, &score.cvss_v4]
            .into_iter()
            .flatten()
        {
            let Some(vector) = text(&metric.vector_string) else {
                continue;
            };
            if !vectors.insert(vector) {
                continue;
            }
            match cvss::assess(vector, h.assessor, None, metric.base_score) {
                Ok(s) => cvss.push(s),
                Err(e) => {
                    w.add(|| format!("vulnerabilities[{i}] ({record_id}): score skipped: {e}"))
                }
            }
        }
    }

    let mut affected: Vec<Affected> = Vec::new();
    if let Some(ps) = &v.product_status {
        for (status, field, list) in ps.lists() {
            let mut seen: HashSet<&str> = HashSet::new();
            for id in texts(list) {
                if !seen.insert(id) {
                    continue;
                }
                let (entry, known) = index.status(id, status);
                if !known {
                    w.add(|| {
                        format!(
                            "vulnerabilities[{i}].product_status.{field}: product id '{id}' \
                             is not in the product tree; kept with its id as name"
                        )
                    });
                }
                affected.push(Affected::Csaf(entry));
            }
        }
    }

    let remediations = v
        .remediations
        .iter()
        .flatten()
        .map(|r| {
            let mut product_ids: Vec<String> = Vec::new();
            let mut add = |id: &str| {
                if !product_ids.iter().any(|p| p == id) {
                    product_ids.push(id.to_string());
                }
            };
            texts(&r.product_ids).for_each(&mut add);
            for group in texts(&r.group_ids) {
                match index.groups.get(group) {
                    Some(members) => members.iter().copied().for_each(&mut add),
                    None => w.add(|| {
                        format!(
                            "vulnerabilities[{i}].remediations: group id '{group}' \
                             is not in product_tree.product_groups"
                        )
                    }),
                }
            }
            Remediation {
                category: text(&r.category).unwrap_or_default().to_string(),
                details: text(&r.details).unwrap_or_default().to_string(),
                url: text(&r.url).map(str::to_string),
                product_ids,
            }
        })
        .collect();

    let published = h
        .published
        .or_else(|| text(&v.release_date).and_then(parse_timestamp));

    SourceRecord {
        source: SourceKind::Csaf,
        record_id,
        vuln_id,
        aliases,
        state: RecordState::Published,
        title: text(&v.title).or(h.title).map(str::to_string),
        description,
        published,
        modified: h.modified,
        publisher: h.publisher.map(str::to_string),
        cvss,
        cwes,
        references,
        affected,
        remediations,
        kev: None,
        tlp: h.tlp,
    }
}

/// `<tracking id>#<cve>` of a vulnerability that could not be read, if its
/// `cve` can be, else `<tracking id>#<index>`.
fn rejected_record_id(tracking_id: &str, raw: &str, i: usize) -> String {
    #[derive(Deserialize)]
    struct JustCve<'a> {
        #[serde(borrow)]
        cve: Option<Text<'a>>,
    }
    match serde_json::from_str::<JustCve>(raw)
        .ok()
        .and_then(|v| text(&v.cve).map(str::to_string))
    {
        Some(cve) => format!("{tracking_id}#{cve}"),
        None => format!("{tracking_id}#{i}"),
    }
}

/// The tracking id of a line that could not be read as a document, if any.
fn tracking_id_of(json: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Outer<'a> {
        #[serde(borrow)]
        document: Option<Inner<'a>>,
    }
    #[derive(Deserialize)]
    struct Inner<'a> {
        #[serde(borrow)]
        tracking: Option<Tracking<'a>>,
    }
    #[derive(Deserialize)]
    struct Tracking<'a> {
        #[serde(borrow)]
        id: Option<Text<'a>>,
    }
    let outer: Outer = serde_json::from_str(json).ok()?;
    text(&outer.document?.tracking?.id).map(str::to_string)
}

// ---------------------------------------------------------------------------
// Saying precisely which field is wrong (only on the failure path).

/// `: <error>` if `raw` does not deserialize as `T`.
fn check<'x, T: Deserialize<'x>>(raw: &'x str) -> Option<String> {
    serde_json::from_str::<T>(raw)
        .err()
        .map(|e| format!(": {e}"))
}

/// `[i]: <error>` for the first element of the array `raw` that does not
/// deserialize as `T`.
fn check_items<'x, T: Deserialize<'x>>(raw: &'x str) -> Option<String> {
    match serde_json::from_str::<Option<Vec<&'x RawValue>>>(raw) {
        Err(e) => Some(format!(": {e}")),
        Ok(items) => items
            .into_iter()
            .flatten()
            .enumerate()
            .find_map(|(i, item)| {
                serde_json::from_str::<T>(item.get())
                    .err()
                    .map(|e| format!("[{i}]: {e}"))
            }),
    }
}

/// `.<field><error>` for the first member of the object `raw` that `check`
/// finds wrong.
fn check_fields<'x>(
    raw: &'x str,
    check: impl Fn(&str, &'x str) -> Option<String>,
) -> Option<String> {
    let members: BTreeMap<Text<'x>, &'x RawValue> = match serde_json::from_str(raw) {
        Ok(m) => m,
        Err(e) => return Some(format!(": {e}")),
    };
    members.iter().find_map(|(name, value)| {
        check(name.as_str(), value.get()).map(|e| format!(".{}{e}", name.as_str()))
    })
}

/// Like [`check_fields`] for a member that may be `null`.
fn check_optional_fields<'x>(
    raw: &'x str,
    check: impl Fn(&str, &'x str) -> Option<String>,
) -> Option<String> {
    if raw.trim() == "null" {
        None
    } else {
        check_fields(raw, check)
    }
}

fn diagnose_top(json: &str, original: &serde_json::Error) -> DocError {
    #[derive(Deserialize)]
    struct RawTop<'a> {
        #[serde(borrow)]
        document: Option<&'a RawValue>,
        #[serde(borrow)]
        product_tree: Option<&'a RawValue>,
        #[serde(borrow)]
        vulnerabilities: Option<&'a RawValue>,
    }
    let top: RawTop = match serde_json::from_str(json) {
        Ok(t) => t,
        Err(e) if e.is_data() => return DocError::Shape(e.to_string()),
        Err(e) => return DocError::Json(e.to_string()),
    };
    let found = top
        .document
        .and_then(|d| diagnose_document(d.get()).map(|e| format!("document{e}")))
        .or_else(|| {
            top.product_tree
                .and_then(|t| diagnose_product_tree(t.get()).map(|e| format!("product_tree{e}")))
        })
        .or_else(|| {
            top.vulnerabilities.and_then(|v| {
                check::<Option<Vec<&RawValue>>>(v.get()).map(|e| format!("vulnerabilities{e}"))
            })
        });
    DocError::Shape(found.unwrap_or_else(|| original.to_string()))
}

fn diagnose_document(raw: &str) -> Option<String> {
    check_optional_fields(raw, |name, v| match name {
        "category" | "csaf_version" | "title" | "lang" => check::<Option<Text>>(v),
        "publisher" => check::<Option<PublisherIn>>(v),
        "tracking" => check_optional_fields(v, |name, v| match name {
            "id" | "status" | "version" | "initial_release_date" | "current_release_date" => {
                check::<Option<Text>>(v)
            }
            _ => None,
        }),
        "distribution" => check::<Option<DistributionIn>>(v),
        "aggregate_severity" => check::<Option<AggregateSeverityIn>>(v),
        "notes" => check_items::<NoteIn>(v),
        "references" => check_items::<ReferenceIn>(v),
        _ => None,
    })
}

fn diagnose_product_tree(raw: &str) -> Option<String> {
    check_optional_fields(raw, |name, v| match name {
        "branches" => check_items::<BranchIn>(v),
        "full_product_names" => check_items::<FullProductNameIn>(v),
        "relationships" => check_items::<RelationshipIn>(v),
        "product_groups" => check_items::<ProductGroupIn>(v),
        _ => None,
    })
}

fn diagnose_vulnerability(raw: &str) -> Option<String> {
    check_fields(raw, |name, v| match name {
        "cve" | "title" | "release_date" => check::<Option<Text>>(v),
        "ids" => check_items::<VulnIdIn>(v),
        "notes" => check_items::<NoteIn>(v),
        "cwe" => check::<Option<CweIn>>(v),
        "cwes" => check_items::<CweIn>(v),
        "references" => check_items::<ReferenceIn>(v),
        "product_status" => check_optional_fields(v, |_, list| check_items::<Text>(list)),
        "scores" => check_items::<ScoreIn>(v),
        "metrics" => check_items::<MetricIn>(v),
        "remediations" => check_items::<RemediationIn>(v),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CvssVersion, Severity};

    const ICS_VERS: &str =
        include_str!("../tests/fixtures/csaf/cisa_icsa_23_194_02_vers_range_interim.json");
    const ICS_FREE_TEXT: &str =
        include_str!("../tests/fixtures/csaf/cisa_icsma_18_240_01_free_text_range.json");
    const CISA_VEX: &str =
        include_str!("../tests/fixtures/csaf/cisa_va_24_201_01_vex_relationship_fixed.json");
    const REDHAT: &str =
        include_str!("../tests/fixtures/csaf/redhat_rhsa_2022_0011_relationships_cpe.json");
    const OASIS_VEX: &str =
        include_str!("../tests/fixtures/csaf/oasis_vex_uc08_fixed_not_affected_recommended.json");
    const LINES: &str =
        include_str!("../tests/fixtures/csaf/cisa_lines_va_24_254_01_and_va_24_262_01.jsonl");
    const ROLIE: &str = include_str!("../tests/fixtures/csaf/oasis_rolie_feed_not_csaf.json");
    const PROVIDER: &str =
        include_str!("../tests/fixtures/csaf/oasis_provider_metadata_not_csaf.json");

    struct Out {
        doc: CsafDocument,
        records: Vec<SourceRecord>,
        rejected: Vec<Rejection>,
    }

    fn run(json: &str) -> Out {
        let (mut records, mut rejected) = (Vec::new(), Vec::new());
        let doc = parse(json.as_bytes(), &mut |p| match p {
            Parsed::Record(r) => records.push(*r),
            Parsed::Rejected(r) => rejected.push(r),
            Parsed::Epss(_) => {}
            Parsed::Warning(w) => panic!("unexpected warning: {w}"),
        })
        .unwrap();
        Out {
            doc,
            records,
            rejected,
        }
    }

    fn statuses(r: &SourceRecord) -> Vec<&CsafProductStatus> {
        r.affected
            .iter()
            .map(|a| match a {
                Affected::Csaf(s) => s,
                other => panic!("not a CSAF statement: {other:?}"),
            })
            .collect()
    }

    fn find<'r>(r: &'r SourceRecord, id: &str, status: CsafStatus) -> &'r CsafProductStatus {
        statuses(r)
            .into_iter()
            .find(|s| s.product_id == id && s.status == status)
            .unwrap_or_else(|| panic!("{id} {status:?} not in {}", r.record_id))
    }

    #[test]
    fn cisa_ics_advisory_with_vers_range() {
        let out = run(ICS_VERS);
        let d = &out.doc;
        assert_eq!(d.tracking_id, "ICSA-23-194-02");
        assert_eq!(d.category, "csaf_security_advisory");
        assert_eq!(d.csaf_version, "2.0");
        assert_eq!(d.status, Some(TrackingStatus::Interim));
        assert_eq!(d.tlp, Some(Tlp::Clear));
        assert_eq!(d.publisher_name.as_deref(), Some("CISA"));
        assert_eq!(d.version.as_deref(), Some("1"));
        assert_eq!(
            d.initial_release_date.map(|t| t.to_rfc3339()).as_deref(),
            Some("2023-07-11T00:00:00+00:00")
        );
        assert_eq!((d.vulnerabilities, d.records, d.rejected), (1, 1, 0));
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        assert!(out.rejected.is_empty());

        let r = &out.records[0];
        assert_eq!(r.source, SourceKind::Csaf);
        assert_eq!(r.record_id, "ICSA-23-194-02#CVE-2022-31810");
        assert_eq!(r.vuln_id, "CVE-2022-31810");
        assert_eq!(r.aliases, vec!["ICSA-23-194-02"]);
        assert_eq!(r.state, RecordState::Published);
        assert_eq!(r.title.as_deref(), Some("CVE-2022-31810"));
        assert!(
            r.description
                .as_deref()
                .unwrap()
                .starts_with("Affected server applications improperly check")
        );
        assert_eq!(r.publisher.as_deref(), Some("CISA"));
        assert_eq!(r.tlp, Some(Tlp::Clear));
        assert_eq!(r.cwes, vec!["CWE-20"]);
        assert_eq!(r.cvss.len(), 1);
        assert_eq!(r.cvss[0].version, CvssVersion::V31);
        assert_eq!(r.cvss[0].base_score, 7.5);
        assert_eq!(r.cvss[0].severity, Severity::High);
        assert_eq!(r.cvss[0].assessor, "CISA");
        assert_eq!(r.cvss[0].stated_score, None);
        let s = find(r, "1", CsafStatus::KnownAffected);
        assert_eq!(s.name, "SiPass integrated");
        assert_eq!(s.vendor.as_deref(), Some("Siemens"));
        assert_eq!(s.product.as_deref(), Some("SiPass integrated"));
        assert_eq!(s.version.as_deref(), Some("vers:all/<V2.90.3.8"));
        assert_eq!(r.affected.len(), 1);
        assert_eq!(r.remediations.len(), 1);
        assert_eq!(r.remediations[0].category, "vendor_fix");
        assert_eq!(r.remediations[0].product_ids, vec!["1"]);
        assert_eq!(
            r.remediations[0].url.as_deref(),
            Some("https://support.industry.siemens.com/cs/ww/en/view/109814044/")
        );
        // The document's references follow the vulnerability's, tagged by category.
        assert!(r.references.iter().any(|x| x.tags == vec!["self"]));
    }

    #[test]
    fn cisa_free_text_version_range_kept_verbatim() {
        let out = run(ICS_FREE_TEXT);
        let r = &out.records[0];
        assert_eq!(r.record_id, "ICSMA-18-240-01#CVE-2014-9222");
        let s = find(r, "CSAFPID-0001", CsafStatus::KnownAffected);
        assert_eq!(s.version.as_deref(), Some(">= 4.01 | <= 4.34"));
        assert_eq!(s.vendor.as_deref(), Some("Qualcomm Life"));
        assert_eq!(
            s.product.as_deref(),
            Some("Allegro RomPager embedded web server")
        );
        assert_eq!(r.cvss[0].version, CvssVersion::V30);
        assert_eq!(r.cvss[0].base_score, 9.8);
        assert_eq!(r.cvss[0].severity, Severity::Critical);
        assert_eq!(r.cwes, vec!["CWE-668"]);
        // A reference without a category carries no tags.
        assert!(r.references.iter().any(|x| {
            x.url
                .starts_with("https://www.first.org/cvss/calculator/3.0#")
                && x.tags.is_empty()
        }));
    }

    #[test]
    fn cisa_vex_with_fixed_versions_and_a_relationship() {
        let out = run(CISA_VEX);
        let d = &out.doc;
        assert_eq!(d.category, "csaf_vex");
        assert_eq!(d.publisher_category.as_deref(), Some("coordinator"));
        assert_eq!(d.lang.as_deref(), Some("en-US"));
        assert_eq!((d.vulnerabilities, d.records), (3, 3));
        let ids: Vec<&str> = out.records.iter().map(|r| r.record_id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "VA-24-201-01#CVE-2023-45195",
                "VA-24-201-01#CVE-2023-45196",
                "VA-24-201-01#CVE-2023-45197"
            ]
        );
        let r = &out.records[0];
        assert_eq!(r.title.as_deref(), Some("Adminer and AdminerEvo SSRF"));
        // The description is the vulnerability's summary note, not its SSVC details note.
        assert!(
            r.description
                .as_deref()
                .unwrap()
                .starts_with("Adminer and AdminerEvo are vulnerable to SSRF")
        );
        let fixed = find(r, "CSAFPID-0009", CsafStatus::Fixed);
        assert_eq!(fixed.name, "AdminerEvo 4.8.4");
        assert_eq!(fixed.vendor.as_deref(), Some("AdminerEvo"));
        assert_eq!(fixed.product.as_deref(), Some("AdminerEvo"));
        assert_eq!(fixed.version.as_deref(), Some("4.8.4"));
        let all = find(r, "CSAFPID-0006", CsafStatus::KnownAffected);
        assert_eq!(all.version.as_deref(), Some("all versions"));
        assert_eq!(all.vendor.as_deref(), Some("Adminer"));
        assert_eq!(r.affected.len(), 4);
        assert_eq!(r.remediations[0].category, "none_available");
        assert_eq!(
            r.remediations[1].product_ids,
            vec!["CSAFPID-0077", "CSAFPID-0007"]
        );
        // The document is published before the vulnerability's release_date counts.
        assert_eq!(
            r.published.map(|t| t.to_rfc3339()).as_deref(),
            Some("2024-07-19T16:00:00+00:00")
        );
        assert_eq!(
            r.modified.map(|t| t.to_rfc3339()).as_deref(),
            Some("2024-09-18T16:00:00+00:00")
        );
        // A vector with temporal metrics still scores its base.
        let third = &out.records[2];
        assert_eq!(third.cvss[0].base_score, 9.0);
        assert_eq!(third.cvss[0].severity, Severity::Critical);
        assert_eq!(third.cwes, vec!["CWE-434"]);
        assert_eq!(
            find(third, "CSAFPID-0007", CsafStatus::Fixed)
                .version
                .as_deref(),
            Some("4.8.3")
        );

        // The relationship's product takes its name from the relationship and
        // the rest from the component (product_reference).
        let top: Top = serde_json::from_str(CISA_VEX).unwrap();
        let mut w = Warnings::default();
        let index = ProductIndex::build(top.product_tree.as_ref(), &mut w);
        let (composed, known) = index.status("CSAFPID-0005", CsafStatus::KnownAffected);
        assert!(known);
        assert_eq!(composed.name, "Adminer contained in AdminerEvo");
        assert_eq!(composed.vendor.as_deref(), Some("Adminer"));
        assert_eq!(composed.product.as_deref(), Some("Adminer"));
        // A product_family branch names the product when no product_name does.
        let (family, _) = index.status("CSAFPID-0004", CsafStatus::Fixed);
        assert_eq!(family.product.as_deref(), Some("AdminerEvo"));
        assert!(w.list.is_empty(), "{:?}", w.list);
    }

    #[test]
    fn redhat_relationships_and_cpe_helpers() {
        let out = run(REDHAT);
        let d = &out.doc;
        assert_eq!(d.tracking_id, "RHSA-2022:0011");
        assert_eq!(d.aggregate_severity.as_deref(), Some("Important"));
        assert_eq!(
            d.publisher_name.as_deref(),
            Some("Red Hat Product Security")
        );
        assert_eq!(d.publisher_category.as_deref(), Some("vendor"));
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        let r = &out.records[0];
        assert_eq!(r.record_id, "RHSA-2022:0011#CVE-2020-10188");
        assert_eq!(
            r.aliases,
            vec![
                "https://bugzilla.redhat.com/show_bug.cgi?id=1811673",
                "RHSA-2022:0011"
            ]
        );
        // Red Hat puts the vulnerability description in a "general" note.
        assert_eq!(
            r.description.as_deref(),
            Some(
                "telnet-server: no bounds checks in nextitem() function allows to remotely execute arbitrary code"
            )
        );
        assert_eq!(r.cwes, vec!["CWE-119"]);
        assert!(r.cvss.is_empty());
        assert_eq!(r.affected.len(), 15);
        assert!(statuses(r).iter().all(|s| s.status == CsafStatus::Fixed));
        let s = find(
            r,
            "7Server-7.6.AUS:telnet-1:0.17-65.el7_6.src",
            CsafStatus::Fixed,
        );
        assert_eq!(
            s.name,
            "telnet-1:0.17-65.el7_6.src as a component of Red Hat Enterprise Linux Server AUS (v. 7.6)"
        );
        assert_eq!(s.vendor.as_deref(), Some("Red Hat"));
        assert_eq!(s.version.as_deref(), Some("telnet-1:0.17-65.el7_6.src"));
        assert_eq!(s.cpe, None); // the component carries no CPE; the platform does
        assert_eq!(r.remediations[0].product_ids.len(), 15);
        let urls: Vec<&str> = r.references.iter().map(|x| x.url.as_str()).collect();
        assert_eq!(urls.len(), 5);
        assert_eq!(
            urls[0],
            "https://access.redhat.com/security/cve/CVE-2020-10188"
        );
        assert!(urls.contains(&"https://access.redhat.com/errata/RHSA-2022:0011"));

        let top: Top = serde_json::from_str(REDHAT).unwrap();
        let mut w = Warnings::default();
        let index = ProductIndex::build(top.product_tree.as_ref(), &mut w);
        let (platform, _) = index.status("7Server-7.6.AUS", CsafStatus::Fixed);
        assert_eq!(
            platform.cpe.as_deref(),
            Some("cpe:/o:redhat:rhel_aus:7.6::server")
        );
        assert_eq!(platform.vendor.as_deref(), Some("Red Hat"));
        assert_eq!(
            platform.product.as_deref(),
            Some("Red Hat Enterprise Linux Server AUS (v. 7.6)")
        );
    }

    #[test]
    fn oasis_vex_statuses() {
        let out = run(OASIS_VEX);
        assert_eq!(out.doc.tlp, None);
        assert_eq!(out.records.len(), 2);
        let r = &out.records[0];
        assert_eq!(r.record_id, "2022-EVD-UC-08-001#CVE-2021-44228");
        let count = |st: CsafStatus| statuses(r).iter().filter(|s| s.status == st).count();
        assert_eq!(count(CsafStatus::Fixed), 2);
        assert_eq!(count(CsafStatus::KnownAffected), 4);
        assert_eq!(count(CsafStatus::KnownNotAffected), 5);
        assert_eq!(count(CsafStatus::Recommended), 1);
        // One product may carry two statuses.
        find(r, "CSAFPID-0011", CsafStatus::Fixed);
        let rec = find(r, "CSAFPID-0011", CsafStatus::Recommended);
        assert_eq!(rec.version.as_deref(), Some("5.2"));
        assert_eq!(rec.product.as_deref(), Some("JKL"));
        let range = find(r, "CSAFPID-0004", CsafStatus::KnownAffected);
        assert_eq!(range.version.as_deref(), Some("vers:generic/>=2.9|<=4.1"));
        assert!(
            find(r, "CSAFPID-0009", CsafStatus::KnownNotAffected)
                .status
                .clears()
        );
        assert_eq!(r.description.as_deref().map(|d| d.is_empty()), Some(false));
        // Two distinct vectors (one with environmental metrics), same base score.
        assert_eq!(r.cvss.len(), 2);
        assert!(r.cvss.iter().all(|c| c.base_score == 10.0));
        assert!(r.cvss[1].vector.ends_with("/MC:N/MI:N/MA:N"));
        assert_eq!(r.cvss[0].assessor, "Example Company ProductCERT");
    }

    #[test]
    fn json_lines() {
        let mut records = Vec::new();
        let mut rejected = Vec::new();
        let mut sink = |p: Parsed| match p {
            Parsed::Record(r) => records.push(*r),
            Parsed::Rejected(r) => rejected.push(r),
            Parsed::Epss(_) => {}
            Parsed::Warning(w) => panic!("unexpected warning: {w}"),
        };
        assert_eq!(parse_lines(LINES.as_bytes(), &mut sink).unwrap(), 2);
        assert!(rejected.is_empty());
        assert_eq!(records.len(), 4);
        assert_eq!(records[0].record_id, "VA-24-254-01#CVE-2024-45075");
        assert_eq!(records[3].record_id, "VA-24-262-01#CVE-2024-43201");
        let last = statuses(&records[3]);
        assert_eq!(last.len(), 2);
        assert!(last.iter().any(|s| s.status == CsafStatus::KnownAffected));
        assert!(last.iter().any(|s| s.status == CsafStatus::Fixed));

        // A bad line in the middle is rejected with its line number; a non-CSAF
        // line later on too; the rest proceeds.
        let mut lines: Vec<&str> = LINES.lines().collect();
        lines.insert(1, "{\"document\": {\"csaf_version\": \"2.0\"");
        lines.insert(2, "");
        lines.push(r#"{"feed": {}}"#);
        let text = lines.join("\n");
        let (mut n, mut bad) = (0, Vec::new());
        let docs = parse_lines(text.as_bytes(), &mut |p| match p {
            Parsed::Record(_) => n += 1,
            Parsed::Rejected(r) => bad.push(r),
            Parsed::Epss(_) => {}
            Parsed::Warning(w) => panic!("unexpected warning: {w}"),
        })
        .unwrap();
        assert_eq!((docs, n), (2, 4));
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].position, 2);
        assert!(
            bad[0].reason.contains("not valid JSON"),
            "{}",
            bad[0].reason
        );
        assert_eq!(bad[1].position, 5);
        assert!(bad[1].reason.contains("ROLIE feed"), "{}", bad[1].reason);

        // A pretty-printed document is not JSON Lines.
        assert!(matches!(
            parse_lines(CISA_VEX.as_bytes(), &mut |_| {}),
            Err(ParseError::Json(_))
        ));
        // Nor is a ROLIE feed.
        assert!(matches!(
            parse_lines(br#"{"feed": {}}"#, &mut |_| {}),
            Err(ParseError::WrongShape { .. })
        ));
        assert_eq!(parse_lines(b"\n\n", &mut |_| {}), Ok(0));
    }

    #[test]
    fn other_csaf_provider_documents_are_refused_by_name() {
        let err = |json: &str| match parse(json.as_bytes(), &mut |_| {}) {
            Err(ParseError::WrongShape { reason, .. }) => reason,
            other => panic!("expected WrongShape, got {other:?}"),
        };
        assert!(err(ROLIE).contains("ROLIE feed"));
        assert!(err(PROVIDER).contains("provider metadata"));
        assert!(err("[1, 2]").contains("an array"));
        assert!(
            err(r#"{"document": {"category": "csaf_base", "tracking": {"id": "X"}}}"#)
                .contains("csaf_version")
        );
        let old = r#"{"document": {"category": "csaf_base", "csaf_version": "1.2", "tracking": {"id": "X"}}}"#;
        assert!(err(old).contains("only CSAF 2.x"));
        assert!(
            err(r#"{"document": {"category": "csaf_base", "csaf_version": "2.0"}}"#)
                .contains("document.tracking.id is missing")
        );
        assert!(matches!(parse(b"", &mut |_| {}), Err(ParseError::Json(_))));
        assert!(matches!(
            parse(b"{\"document\":", &mut |_| {}),
            Err(ParseError::Json(_))
        ));
        assert!(matches!(
            parse(b"\xff\xfe", &mut |_| {}),
            Err(ParseError::Json(_))
        ));
        // A wrongly typed document field names the field.
        let title_number = CISA_VEX.replacen(
            "\"title\": \"Adminer and AdminerEvo Multiple Vulnerabilities\"",
            "\"title\": 42",
            1,
        );
        let reason = err(&title_number);
        assert!(
            reason.starts_with("document.title: invalid type: integer `42`"),
            "{reason}"
        );
        let bad_branch = CISA_VEX.replacen("\"name\": \"4.8.2\"", "\"name\": [\"4.8.2\"]", 1);
        let reason = err(&bad_branch);
        assert!(
            reason.starts_with("product_tree.branches[1]: invalid type: sequence"),
            "{reason}"
        );
        // parse_document reports the same as text.
        let msg = parse_document(ROLIE, &mut |_| {}).unwrap_err();
        assert!(msg.contains("not a CSAF document"), "{msg}");
    }

    #[test]
    fn tlp_labels() {
        for (label, tlp) in [
            ("AMBER", Tlp::Amber),
            ("GREEN", Tlp::Green),
            ("RED", Tlp::Red),
            ("CLEAR", Tlp::Clear),
            ("AMBER+STRICT", Tlp::AmberStrict),
        ] {
            // No real CSAF document in the corpus has a TLP other than WHITE.
            let json = CISA_VEX.replacen(
                "\"label\": \"WHITE\"",
                &format!("\"label\": \"{label}\""),
                1,
            );
            let out = run(&json);
            assert_eq!(out.doc.tlp, Some(tlp));
            assert!(out.records.iter().all(|r| r.tlp == Some(tlp)));
        }
        let out = run(&CISA_VEX.replacen("\"label\": \"WHITE\"", "\"label\": \"PURPLE\"", 1));
        assert_eq!(out.doc.tlp, None);
        assert!(out.doc.warnings.iter().any(|w| w.contains("PURPLE")));
    }

    #[test]
    fn a_bad_vulnerability_is_rejected_alone() {
        let json = CISA_VEX.replacen("\"baseScore\": 9,", "\"baseScore\": \"9\",", 1);
        let out = run(&json);
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.rejected.len(), 1);
        let r = &out.rejected[0];
        assert_eq!(r.position, 2);
        assert_eq!(r.record_id.as_deref(), Some("VA-24-201-01#CVE-2023-45197"));
        assert!(
            r.reason
                .starts_with("vulnerabilities[2].scores[0]: invalid type: string \"9\""),
            "{}",
            r.reason
        );
        assert_eq!((out.doc.records, out.doc.rejected), (2, 1));

        // Within JSON Lines, the position is the line number.
        let line =
            serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&json).unwrap())
                .unwrap();
        let text = format!("{}\n{line}\n", LINES.lines().next().unwrap());
        let mut bad = Vec::new();
        parse_lines(text.as_bytes(), &mut |p| {
            if let Parsed::Rejected(r) = p {
                bad.push(r)
            }
        })
        .unwrap();
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].position, 2);
    }

    #[test]
    fn unknown_product_ids_draft_status_and_missing_cve() {
        let json = OASIS_VEX
            .replacen(
                "\"recommended\": [\n          \"CSAFPID-0011\"",
                "\"recommended\": [\n          \"CSAFPID-9999\"",
                1,
            )
            .replacen("\"status\": \"final\"", "\"status\": \"draft\"", 1)
            .replacen("\"cve\": \"CVE-2021-45105\",", "", 1);
        assert_ne!(json, OASIS_VEX);
        let out = run(&json);
        assert_eq!(out.doc.status, Some(TrackingStatus::Draft));
        assert!(out.doc.warnings.iter().any(|w| w.contains("draft")));
        assert!(out.doc.warnings.iter().any(|w| w.contains("CSAFPID-9999")));
        let r = &out.records[0];
        assert_eq!(r.state, RecordState::Published);
        let unknown = find(r, "CSAFPID-9999", CsafStatus::Recommended);
        assert_eq!(unknown.name, "CSAFPID-9999");
        assert_eq!(unknown.vendor, None);
        let no_cve = &out.records[1];
        assert_eq!(no_cve.record_id, "2022-EVD-UC-08-001#1");
        assert_eq!(no_cve.vuln_id, "2022-EVD-UC-08-001#1");
        assert_eq!(no_cve.aliases, vec!["2022-EVD-UC-08-001"]);
        assert_eq!(
            no_cve.title.as_deref(),
            Some("Example VEX Document Use Case 8")
        );
    }
}

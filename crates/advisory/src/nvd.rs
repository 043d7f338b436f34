//! NVD CVE API 2.0: paged API responses and the yearly / `modified` /
//! `recent` feed files, which share one shape:
//!
//! ```text
//! { "resultsPerPage", "startIndex", "totalResults", "format": "NVD_CVE",
//!   "version": "2.0", "timestamp", "vulnerabilities": [ { "cve": {…} }, … ] }
//! ```
//!
//! Each `cve` becomes one [`SourceRecord`] (source [`SourceKind::Nvd`]); its
//! `configurations` are kept as [`Affected::Nvd`] trees, losslessly, for the
//! matcher to evaluate with NVD's AND/OR/negate semantics.
//!
//! The document is read in two steps: the page with each vulnerability as raw
//! JSON, then every vulnerability on its own, so one malformed entry becomes a
//! [`Rejection`] naming the JSON path at fault while the rest of the page
//! proceeds. KEV fields NVD copies in (`cisaExploitAdd`…) are ignored: KEV is
//! read from its own source.
//!
//! A few helpers here are shared with [`crate::cve5`]: CVE JSON 5.1.1's
//! `cpeApplicability` is NVD's configuration format, and both parsers report
//! malformed records the same way.

use crate::cvss;
use crate::model::{
    Affected, BoolOp, CpeMatch, CvssScore, NvdConfiguration, NvdNode, ParseError, Parsed,
    RecordState, Reference, Rejection, SourceKind, SourceRecord, normalise_cwe,
};
use crate::time::parse_timestamp;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// The paging header of an NVD response (or feed file), for the API pager:
/// the next page starts at `start_index + results_per_page` while that is
/// below `total_results`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NvdPage {
    pub results_per_page: usize,
    pub start_index: usize,
    pub total_results: usize,
    /// When NVD produced the response (UTC).
    pub timestamp: Option<DateTime<Utc>>,
}

const EXPECTED: &str = "NVD CVE API 2.0";

/// Parse an NVD CVE API 2.0 response or feed file. Every vulnerability is
/// handed to `sink` as a [`Parsed::Record`], or as a [`Parsed::Rejected`]
/// (position = index in `vulnerabilities`) when it is malformed. A document
/// that is not JSON, or not an NVD page, is a [`ParseError`] and nothing is
/// handed to `sink`.
pub fn parse(bytes: &[u8], sink: &mut dyn FnMut(Parsed)) -> Result<NvdPage, ParseError> {
    let bytes = strip_bom(bytes);
    let doc: PageDoc<'_> =
        serde_json::from_slice(bytes).map_err(|e| file_error(EXPECTED, bytes, &e))?;
    let wrong = |reason: String| ParseError::WrongShape {
        expected: EXPECTED,
        reason,
    };
    if let Some(format) = &doc.format
        && format.0 != "NVD_CVE"
    {
        return Err(wrong(format!("format is '{}', not 'NVD_CVE'", format.0)));
    }
    if let Some(version) = &doc.version
        && !version.0.starts_with("2.")
    {
        return Err(wrong(format!("version is '{}', not 2.x", version.0)));
    }
    let Some(vulnerabilities) = doc.vulnerabilities else {
        return Err(wrong("there is no `vulnerabilities` array".into()));
    };
    let Some(results_per_page) = doc.results_per_page else {
        return Err(wrong("`resultsPerPage` is missing".into()));
    };
    let Some(start_index) = doc.start_index else {
        return Err(wrong("`startIndex` is missing".into()));
    };
    let Some(total_results) = doc.total_results else {
        return Err(wrong("`totalResults` is missing".into()));
    };
    let timestamp = match &doc.timestamp {
        None => None,
        Some(t) => Some(
            parse_timestamp(&t.0)
                .ok_or_else(|| wrong(format!("timestamp '{}' is not a timestamp", t.0)))?,
        ),
    };
    for (position, raw) in vulnerabilities.into_iter().enumerate() {
        match parse_vulnerability(raw.get()) {
            Ok(record) => sink(Parsed::Record(Box::new(record))),
            Err(e) => sink(Parsed::Rejected(Rejection {
                position,
                record_id: e.record_id,
                reason: e.reason,
            })),
        }
    }
    Ok(NvdPage {
        results_per_page,
        start_index,
        total_results,
        timestamp,
    })
}

/// One `vulnerabilities[]` element (`{"cve": {…}}`) to a record.
fn parse_vulnerability(json: &str) -> Result<SourceRecord, RecordError> {
    let doc: VulnerabilityDoc<'_> = serde_json::from_str(json).map_err(|e| RecordError {
        record_id: peek_id(json),
        reason: describe_json_error(json, &e),
    })?;
    let cve = doc.cve;
    let id = cve.id.trim().to_string();
    let fail = |reason: String| RecordError {
        record_id: (!id.is_empty()).then(|| id.clone()),
        reason,
    };
    if !crate::model::is_cve_id(&id) {
        return Err(fail(format!("cve.id '{id}' is not a CVE id")));
    }
    let published = timestamp_field(cve.published.as_ref(), "cve.published").map_err(&fail)?;
    let modified =
        timestamp_field(cve.last_modified.as_ref(), "cve.lastModified").map_err(&fail)?;
    let description = english(&cve.descriptions).map(str::to_string);
    let state = match cve.vuln_status.as_ref().map(|s| s.0.trim()) {
        Some(s) if s.eq_ignore_ascii_case("Rejected") => RecordState::Rejected {
            reason: description.as_deref().and_then(rejection_reason),
        },
        _ => RecordState::Published,
    };
    let publisher = cve
        .source_identifier
        .as_ref()
        .map(|s| s.0.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string);

    let mut cvss_scores = Vec::new();
    if let Some(metrics) = &cve.metrics {
        let fallback = publisher.as_deref().unwrap_or("NVD");
        for metric in metrics
            .v2
            .iter()
            .chain(&metrics.v30)
            .chain(&metrics.v31)
            .chain(&metrics.v40)
        {
            let assessor = metric.source.as_ref().map_or(fallback, |s| s.0.as_ref());
            let kind = metric.kind.as_ref().map(|k| k.0.as_ref());
            if let Some(score) = assess(&metric.cvss_data, assessor, kind) {
                cvss_scores.push(score);
            }
        }
    }

    let mut cwes = Vec::new();
    for weakness in &cve.weaknesses {
        for d in &weakness.description {
            push_cwe(&mut cwes, &d.value.0);
        }
    }

    let mut references = Vec::with_capacity(cve.references.len());
    for r in cve.references {
        push_reference(&mut references, r);
    }

    let affected = cve
        .configurations
        .into_iter()
        .map(|c| Affected::Nvd(c.into_model()))
        .collect();

    Ok(SourceRecord {
        source: SourceKind::Nvd,
        record_id: id.clone(),
        vuln_id: id,
        aliases: Vec::new(),
        state,
        title: None,
        description,
        published,
        modified,
        publisher,
        cvss: cvss_scores,
        cwes,
        references,
        affected,
        remediations: Vec::new(),
        kev: None,
        tlp: None,
    })
}

/// NVD writes a rejected CVE's reason into its description, e.g.
/// `Rejected reason: ** REJECT ** DO NOT USE THIS CANDIDATE NUMBER. …`;
/// the reason is the text after those markers.
fn rejection_reason(description: &str) -> Option<String> {
    let mut s = description.trim();
    loop {
        let before = s;
        for marker in [
            "Rejected reason:",
            "** REJECT **",
            "** REJECT**",
            "**REJECT**",
        ] {
            if let Some(rest) = s.strip_prefix(marker) {
                s = rest.trim_start();
            }
        }
        if s.len() == before.len() {
            break;
        }
    }
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn peek_id(json: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Peek<'a> {
        #[serde(borrow)]
        cve: Option<PeekCve<'a>>,
    }
    #[derive(Deserialize)]
    struct PeekCve<'a> {
        #[serde(borrow)]
        id: Option<Text<'a>>,
    }
    serde_json::from_str::<Peek<'_>>(json)
        .ok()
        .and_then(|p| p.cve)
        .and_then(|c| c.id)
        .map(|id| id.0.trim().to_string())
        .filter(|id| !id.is_empty())
}

// ---------------------------------------------------------------------------
// Wire types: only the fields we use; everything else is skipped unread.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "an NVD CVE API 2.0 response object")]
struct PageDoc<'a> {
    results_per_page: Option<usize>,
    start_index: Option<usize>,
    total_results: Option<usize>,
    #[serde(borrow)]
    format: Option<Text<'a>>,
    #[serde(borrow)]
    version: Option<Text<'a>>,
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    #[serde(borrow)]
    vulnerabilities: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
#[serde(expecting = "an object with a `cve` member")]
struct VulnerabilityDoc<'a> {
    #[serde(borrow)]
    cve: Cve<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a CVE object")]
struct Cve<'a> {
    id: String,
    #[serde(borrow)]
    source_identifier: Option<Text<'a>>,
    #[serde(borrow)]
    published: Option<Text<'a>>,
    #[serde(borrow)]
    last_modified: Option<Text<'a>>,
    #[serde(borrow)]
    vuln_status: Option<Text<'a>>,
    #[serde(borrow, default)]
    descriptions: Vec<LangText<'a>>,
    #[serde(borrow, default)]
    metrics: Option<Metrics<'a>>,
    #[serde(borrow, default)]
    weaknesses: Vec<Weakness<'a>>,
    #[serde(default)]
    configurations: Vec<WireConfiguration>,
    #[serde(default)]
    references: Vec<WireReference>,
}

#[derive(Deserialize)]
#[serde(expecting = "an object of CVSS metric lists")]
struct Metrics<'a> {
    #[serde(borrow, default, rename = "cvssMetricV2")]
    v2: Vec<Metric<'a>>,
    #[serde(borrow, default, rename = "cvssMetricV30")]
    v30: Vec<Metric<'a>>,
    #[serde(borrow, default, rename = "cvssMetricV31")]
    v31: Vec<Metric<'a>>,
    #[serde(borrow, default, rename = "cvssMetricV40")]
    v40: Vec<Metric<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a CVSS metric object")]
struct Metric<'a> {
    #[serde(borrow)]
    source: Option<Text<'a>>,
    #[serde(borrow, rename = "type")]
    kind: Option<Text<'a>>,
    #[serde(borrow)]
    cvss_data: CvssData<'a>,
}

#[derive(Deserialize)]
#[serde(expecting = "a weakness object")]
struct Weakness<'a> {
    #[serde(borrow, default)]
    description: Vec<LangText<'a>>,
}

// ---------------------------------------------------------------------------
// Shared with `cve5`.

/// A JSON string, borrowed from the input unless it contains escapes.
/// (Unlike `Cow<str>`, this borrows also inside `Option` and `Vec`.)
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Visitor(PhantomData))
    }
}

/// `{"lang": "en", "value": "…"}`.
#[derive(Deserialize)]
#[serde(expecting = "a {lang, value} object")]
pub(crate) struct LangText<'a> {
    #[serde(borrow)]
    pub(crate) lang: Text<'a>,
    #[serde(borrow)]
    pub(crate) value: Text<'a>,
}

/// The English value: `lang` "en" first, else the first `lang` starting "en"
/// (`en-US`).
pub(crate) fn english<'s>(texts: &'s [LangText<'_>]) -> Option<&'s str> {
    texts
        .iter()
        .find(|t| t.lang.0.trim().eq_ignore_ascii_case("en"))
        .or_else(|| {
            texts.iter().find(|t| {
                t.lang
                    .0
                    .trim()
                    .get(..2)
                    .is_some_and(|p| p.eq_ignore_ascii_case("en"))
            })
        })
        .map(|t| t.value.0.as_ref())
}

/// A CVSS block: NVD's `cvssData`, CVE 5's `cvssV3_1` and friends.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a CVSS object with a vectorString")]
pub(crate) struct CvssData<'a> {
    #[serde(borrow)]
    pub(crate) vector_string: Text<'a>,
    pub(crate) base_score: Option<f64>,
}

/// Score a CVSS block; a vector the scorer rejects is skipped (the record stays).
pub(crate) fn assess(data: &CvssData<'_>, assessor: &str, kind: Option<&str>) -> Option<CvssScore> {
    cvss::assess(&data.vector_string.0, assessor, kind, data.base_score).ok()
}

/// Add a CWE, normalised, unless already present.
pub(crate) fn push_cwe(cwes: &mut Vec<String>, raw: &str) {
    if let Some(cwe) = normalise_cwe(raw)
        && !cwes.contains(&cwe)
    {
        cwes.push(cwe);
    }
}

#[derive(Deserialize)]
#[serde(expecting = "a reference object with a url")]
pub(crate) struct WireReference {
    url: String,
    #[serde(default)]
    tags: Vec<String>,
}

/// Add a reference; a URL seen before gets the new tags merged into it.
pub(crate) fn push_reference(references: &mut Vec<Reference>, r: WireReference) {
    let url = r.url.trim();
    if url.is_empty() {
        return;
    }
    if let Some(existing) = references.iter_mut().find(|e| e.url == url) {
        for tag in r.tags {
            if !existing.tags.contains(&tag) {
                existing.tags.push(tag);
            }
        }
        return;
    }
    let mut tags: Vec<String> = Vec::with_capacity(r.tags.len());
    for tag in r.tags {
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let url = if url.len() == r.url.len() {
        r.url
    } else {
        url.to_string()
    };
    references.push(Reference { url, tags });
}

/// An NVD configuration (also CVE 5's `cpeApplicability`).
#[derive(Deserialize)]
#[serde(expecting = "a configuration object with nodes")]
pub(crate) struct WireConfiguration {
    operator: Option<BoolOp>,
    negate: Option<bool>,
    nodes: Vec<WireNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a node object with operator and cpeMatch")]
struct WireNode {
    operator: BoolOp,
    negate: Option<bool>,
    cpe_match: Vec<WireCpeMatch>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a cpeMatch object")]
struct WireCpeMatch {
    vulnerable: bool,
    criteria: String,
    match_criteria_id: Option<String>,
    version_start_including: Option<String>,
    version_start_excluding: Option<String>,
    version_end_including: Option<String>,
    version_end_excluding: Option<String>,
}

impl WireConfiguration {
    pub(crate) fn into_model(self) -> NvdConfiguration {
        NvdConfiguration {
            operator: self.operator,
            negate: self.negate.unwrap_or(false),
            nodes: self
                .nodes
                .into_iter()
                .map(|n| NvdNode {
                    operator: n.operator,
                    negate: n.negate.unwrap_or(false),
                    cpe_match: n
                        .cpe_match
                        .into_iter()
                        .map(|m| CpeMatch {
                            vulnerable: m.vulnerable,
                            criteria: m.criteria,
                            match_criteria_id: m.match_criteria_id,
                            version_start_including: m.version_start_including,
                            version_start_excluding: m.version_start_excluding,
                            version_end_including: m.version_end_including,
                            version_end_excluding: m.version_end_excluding,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Why one record was refused.
pub(crate) struct RecordError {
    pub(crate) record_id: Option<String>,
    pub(crate) reason: String,
}

/// Parse an optional timestamp field; present but unreadable is an error
/// naming the field.
pub(crate) fn timestamp_field(
    value: Option<&Text<'_>>,
    field: &str,
) -> Result<Option<DateTime<Utc>>, String> {
    match value {
        None => Ok(None),
        Some(t) => parse_timestamp(&t.0)
            .map(Some)
            .ok_or_else(|| format!("{field}: '{}' is not a timestamp", t.0)),
    }
}

pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// A whole-document failure: bad JSON syntax, or JSON of the wrong shape.
pub(crate) fn file_error(
    expected: &'static str,
    bytes: &[u8],
    e: &serde_json::Error,
) -> ParseError {
    match e.classify() {
        serde_json::error::Category::Data => ParseError::WrongShape {
            expected,
            reason: match std::str::from_utf8(bytes) {
                Ok(text) => describe_json_error(text, e),
                Err(_) => e.to_string(),
            },
        },
        _ => ParseError::Json(e.to_string()),
    }
}

/// A serde error as `path.to[3].field: message`, the path found by scanning
/// `json` up to the position serde reports.
pub(crate) fn describe_json_error(json: &str, e: &serde_json::Error) -> String {
    let full = e.to_string();
    let message = match full.rfind(" at line ") {
        Some(i) => &full[..i],
        None => full.as_str(),
    };
    let offset = byte_offset(json, e.line(), e.column());
    let missing_field = message.starts_with("missing field");
    let path = json_path_at(json.as_bytes(), offset, missing_field);
    if path.is_empty() {
        message.to_string()
    } else {
        format!("{path}: {message}")
    }
}

/// The byte offset just before the character serde's 1-based line/column
/// points at.
fn byte_offset(json: &str, line: usize, column: usize) -> usize {
    if line == 0 {
        return 0;
    }
    let mut start = 0;
    if line > 1 {
        match json
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .nth(line - 2)
        {
            Some((i, _)) => start = i + 1,
            None => return json.len(),
        }
    }
    start
        .saturating_add(column.saturating_sub(1))
        .min(json.len())
}

enum Frame {
    Object(Option<String>),
    Array(usize),
}

/// The JSON path (`cve.configurations[0].nodes[1]`) of the value being read
/// at byte `end`. With `object_itself`, the innermost object is named rather
/// than its last key (for "missing field" errors, reported at its end).
fn json_path_at(json: &[u8], end: usize, object_itself: bool) -> String {
    let end = end.min(json.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut expecting_key = false;
    let mut i = 0;
    while i < end {
        let Some(&b) = json.get(i) else { break };
        match b {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                let mut closed = false;
                while j < end {
                    match json.get(j) {
                        Some(b'\\') => j += 2,
                        Some(b'"') => {
                            closed = true;
                            break;
                        }
                        _ => j += 1,
                    }
                }
                if expecting_key && let Some(Frame::Object(key)) = stack.last_mut() {
                    let bytes = json.get(start..j.min(end)).unwrap_or_default();
                    *key = Some(String::from_utf8_lossy(bytes).into_owned());
                    expecting_key = false;
                }
                if !closed {
                    break;
                }
                i = j + 1;
                continue;
            }
            b'{' => {
                stack.push(Frame::Object(None));
                expecting_key = true;
            }
            b'[' => {
                stack.push(Frame::Array(0));
                expecting_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                expecting_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array(n)) => *n += 1,
                Some(Frame::Object(key)) => {
                    *key = None;
                    expecting_key = true;
                }
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    if object_itself && let Some(Frame::Object(key)) = stack.last_mut() {
        *key = None;
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object(Some(key)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object(None) => {}
            Frame::Array(n) => {
                path.push('[');
                path.push_str(&n.to_string());
                path.push(']');
            }
        }
    }
    path
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::model::{CvssVersion, Severity};

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/nvd/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn parse_all(bytes: &[u8]) -> (NvdPage, Vec<SourceRecord>, Vec<Rejection>) {
        let mut records = Vec::new();
        let mut rejections = Vec::new();
        let page = parse(bytes, &mut |p| match p {
            Parsed::Record(r) => records.push(*r),
            Parsed::Rejected(r) => rejections.push(r),
            Parsed::Epss(_) => panic!("NVD yields no EPSS"),
            Parsed::Warning(w) => panic!("unexpected warning: {w}"),
        })
        .unwrap();
        (page, records, rejections)
    }

    fn configurations(r: &SourceRecord) -> Vec<&NvdConfiguration> {
        r.affected
            .iter()
            .map(|a| match a {
                Affected::Nvd(c) => c,
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn firmware_on_hardware_and_a_rejected_cve_from_the_2026_feed() {
        let (page, records, rejections) = parse_all(&fixture(
            "nvd_feed_2026_firmware_on_hardware_and_rejected.json",
        ));
        assert!(rejections.is_empty(), "{rejections:?}");
        assert_eq!(
            (page.results_per_page, page.start_index, page.total_results),
            (2, 0, 2)
        );
        assert_eq!(
            page.timestamp.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-03-14T03:00:00.625897600+00:00")
        );
        assert_eq!(records.len(), 2);

        let r = &records[0];
        assert_eq!(r.source, SourceKind::Nvd);
        assert_eq!(
            (r.record_id.as_str(), r.vuln_id.as_str()),
            ("CVE-2026-0406", "CVE-2026-0406")
        );
        assert_eq!(r.state, RecordState::Published);
        assert_eq!(
            r.publisher.as_deref(),
            Some("a2826606-91e7-4eb6-899e-8484bd4575d5")
        );
        assert!(
            r.description.as_deref().unwrap().starts_with(
                "An insufficient input validation vulnerability in the NETGEAR XR1000v2"
            )
        );
        assert_eq!(
            r.published.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-01-13T16:16:10.690+00:00")
        );
        assert_eq!(
            r.modified.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-02-20T19:42:29.023+00:00")
        );
        // cvssMetricV40 (CNA, Secondary) and cvssMetricV31 (NVD, Primary).
        assert_eq!(r.cvss.len(), 2);
        let v31 = r
            .cvss
            .iter()
            .find(|s| s.version == CvssVersion::V31)
            .unwrap();
        assert_eq!(v31.base_score, 8.0);
        assert_eq!(v31.severity, Severity::High);
        assert_eq!(v31.assessor, "nvd@nist.gov");
        assert_eq!(v31.kind.as_deref(), Some("Primary"));
        assert_eq!(v31.stated_score, None);
        let v40 = r
            .cvss
            .iter()
            .find(|s| s.version == CvssVersion::V40)
            .unwrap();
        assert!(v40.vector.starts_with("CVSS:4.0/AV:A/AC:L/AT:N/PR:L/"));
        assert_eq!(v40.kind.as_deref(), Some("Secondary"));
        assert_eq!(v40.assessor, "a2826606-91e7-4eb6-899e-8484bd4575d5");
        assert_eq!(r.cwes, vec!["CWE-20"]);
        assert_eq!(r.references.len(), 2);
        assert_eq!(r.references[0].tags, vec!["Patch", "Vendor Advisory"]);

        // Firmware below 1.1.2.34 AND running on the (non-vulnerable) XR1000v2.
        let configs = configurations(r);
        assert_eq!(configs.len(), 1);
        let c = configs[0];
        assert_eq!(c.operator, Some(BoolOp::And));
        assert!(!c.negate);
        assert_eq!(c.nodes.len(), 2);
        assert_eq!(c.nodes[0].operator, BoolOp::Or);
        let firmware = &c.nodes[0].cpe_match[0];
        assert!(firmware.vulnerable);
        assert_eq!(
            firmware.criteria,
            "cpe:2.3:o:netgear:xr1000v2_firmware:*:*:*:*:*:*:*:*"
        );
        assert_eq!(firmware.version_end_excluding.as_deref(), Some("1.1.2.34"));
        assert_eq!(firmware.version_start_including, None);
        assert_eq!(
            firmware.match_criteria_id.as_deref(),
            Some("0C8DFFA6-7390-48F5-B3DD-6547B359F107")
        );
        let hardware = &c.nodes[1].cpe_match[0];
        assert!(!hardware.vulnerable);
        assert_eq!(
            hardware.criteria,
            "cpe:2.3:h:netgear:xr1000v2:-:*:*:*:*:*:*:*"
        );

        let rejected = &records[1];
        assert_eq!(rejected.record_id, "CVE-2026-3076");
        assert_eq!(
            rejected.state,
            RecordState::Rejected {
                reason: Some(
                    "DO NOT USE THIS CANDIDATE NUMBER. ConsultIDs: CVE-2026-2363. Reason: This candidate is a reservation duplicate of CVE-2026-2363. Notes: All CVE users should reference CVE-2026-2363 instead of this candidate. All references and descriptions in this candidate have been removed to prevent accidental usage."
                        .into()
                )
            }
        );
        assert!(
            rejected
                .description
                .as_deref()
                .unwrap()
                .starts_with("Rejected reason: ** REJECT **")
        );
        assert!(rejected.cvss.is_empty() && rejected.affected.is_empty());
    }

    #[test]
    fn and_node_operator_and_cvss_v2_v30_from_the_2015_feed() {
        let (_, records, rejections) =
            parse_all(&fixture("nvd_feed_2015_and_node_and_cvss_v2_v30.json"));
        assert!(rejections.is_empty(), "{rejections:?}");
        assert_eq!(records.len(), 2);

        let gdk = &records[0];
        assert_eq!(gdk.record_id, "CVE-2015-8875");
        let configs = configurations(gdk);
        assert_eq!(configs.len(), 2);
        assert_eq!(configs[0].operator, None);
        assert_eq!(
            configs[0].nodes[0].cpe_match[0]
                .version_end_including
                .as_deref(),
            Some("2.33")
        );
        // A node (not a configuration) with operator AND.
        assert_eq!(configs[1].operator, None);
        assert_eq!(configs[1].nodes[0].operator, BoolOp::And);
        assert_eq!(
            configs[1].nodes[0].cpe_match[0].criteria,
            "cpe:2.3:o:debian:debian_linux:8.0:*:*:*:*:*:*:*"
        );

        let huawei = &records[1];
        assert_eq!(huawei.record_id, "CVE-2015-2246");
        let versions: Vec<_> = huawei.cvss.iter().map(|s| s.version).collect();
        assert_eq!(versions, vec![CvssVersion::V2, CvssVersion::V30]);
        let (v2, v30) = (&huawei.cvss[0], &huawei.cvss[1]);
        assert_eq!(v2.vector, "AV:N/AC:M/Au:N/C:P/I:N/A:N");
        assert_eq!((v2.base_score, v2.severity), (4.3, Severity::Medium));
        assert_eq!((v30.base_score, v30.severity), (3.3, Severity::Low));
        assert_eq!(huawei.cwes, vec!["CWE-200"]);
        let c = configurations(huawei);
        assert_eq!(c[0].operator, Some(BoolOp::And));
        assert_eq!(
            c[0].nodes[0].cpe_match[0].version_end_including.as_deref(),
            Some("v100r001c00b136")
        );
        assert!(!c[0].nodes[1].cpe_match[0].vulnerable);
    }

    #[test]
    fn api_response_esp32_firmware_on_hardware_with_both_bounds() {
        let (page, records, rejections) =
            parse_all(&fixture("nvd_api_esp32_firmware_on_hardware_bounds.json"));
        assert!(rejections.is_empty());
        assert_eq!((page.results_per_page, page.total_results), (1, 1));
        let r = &records[0];
        assert_eq!(r.record_id, "CVE-2020-13595");
        let c = configurations(r)[0];
        assert_eq!(c.operator, Some(BoolOp::And));
        let idf = &c.nodes[0].cpe_match[0];
        assert_eq!(idf.criteria, "cpe:2.3:a:espressif:esp-idf:*:*:*:*:*:*:*:*");
        assert_eq!(idf.version_start_including.as_deref(), Some("4.0.0"));
        assert_eq!(idf.version_end_including.as_deref(), Some("4.2"));
        assert_eq!(
            c.nodes[1].cpe_match[0].criteria,
            "cpe:2.3:h:espressif:esp32:-:*:*:*:*:*:*:*"
        );
        assert!(!c.nodes[1].cpe_match[0].vulnerable);
        let versions: Vec<_> = r.cvss.iter().map(|s| s.version).collect();
        assert_eq!(versions, vec![CvssVersion::V2, CvssVersion::V31]);
    }

    #[test]
    fn api_response_xz_backdoor_ignores_the_ssvc_metric() {
        let (_, records, rejections) =
            parse_all(&fixture("nvd_api_xz_backdoor_with_ssvc_metric.json"));
        assert!(rejections.is_empty());
        let r = &records[0];
        assert_eq!(r.record_id, "CVE-2024-3094");
        assert_eq!(r.publisher.as_deref(), Some("secalert@redhat.com"));
        assert!(
            r.description
                .as_deref()
                .unwrap()
                .starts_with("Malicious code was discovered in the upstream tarballs of xz")
        );
        // Two CVSS 3.1 assessments (Red Hat, NVD); the ssvcV203 entry is not CVSS.
        let scores: Vec<_> = r
            .cvss
            .iter()
            .map(|s| (s.assessor.as_str(), s.kind.as_deref(), s.base_score))
            .collect();
        assert_eq!(
            scores,
            vec![
                ("secalert@redhat.com", Some("Secondary"), 10.0),
                ("nvd@nist.gov", Some("Primary"), 10.0)
            ]
        );
        let criteria: Vec<_> = configurations(r)[0].nodes[0]
            .cpe_match
            .iter()
            .map(|m| m.criteria.as_str())
            .collect();
        assert_eq!(
            criteria,
            vec![
                "cpe:2.3:a:tukaani:xz:5.6.0:*:*:*:*:*:*:*",
                "cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*"
            ]
        );
        // URLs are unique; tags kept.
        let mut urls: Vec<_> = r.references.iter().map(|r| &r.url).collect();
        let n = urls.len();
        urls.sort();
        urls.dedup();
        assert_eq!(urls.len(), n);
    }

    #[test]
    fn a_malformed_entry_is_rejected_with_its_path_and_the_rest_proceed() {
        let text = String::from_utf8(fixture(
            "nvd_feed_2026_firmware_on_hardware_and_rejected.json",
        ))
        .unwrap();
        // Break the first record's second cpeMatch: an operator NVD does not have.
        let broken = text.replacen("\"operator\" : \"OR\"", "\"operator\" : \"XOR\"", 2);
        let broken = broken.replacen("\"operator\" : \"XOR\"", "\"operator\" : \"OR\"", 1);
        let (_, records, rejections) = parse_all(broken.as_bytes());
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].record_id, "CVE-2026-3076");
        assert_eq!(rejections.len(), 1);
        let r = &rejections[0];
        assert_eq!(r.position, 0);
        assert_eq!(r.record_id.as_deref(), Some("CVE-2026-0406"));
        assert!(
            r.reason
                .starts_with("cve.configurations[0].nodes[1].operator: unknown variant `XOR`"),
            "{}",
            r.reason
        );

        // A missing field names the object that lacks it.
        let broken = text.replacen("\"criteria\" : ", "\"criterion\" : ", 1);
        let (_, records, rejections) = parse_all(broken.as_bytes());
        assert_eq!(records.len(), 1);
        assert_eq!(
            rejections[0].reason,
            "cve.configurations[0].nodes[0].cpeMatch[0]: missing field `criteria`"
        );

        // A bad timestamp.
        let broken = text.replacen("2026-01-13T16:16:10.690", "yesterday", 1);
        let (_, _, rejections) = parse_all(broken.as_bytes());
        assert_eq!(
            rejections[0].reason,
            "cve.published: 'yesterday' is not a timestamp"
        );
    }

    #[test]
    fn whole_file_problems_are_parse_errors() {
        let mut sink = |_: Parsed| panic!("nothing should be yielded");
        assert!(matches!(
            parse(b"not json", &mut sink),
            Err(ParseError::Json(_))
        ));
        assert!(matches!(
            parse(b"[]", &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        assert!(matches!(
            parse(br#"{"catalogVersion":"1","vulnerabilities":[]}"#, &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        assert!(matches!(
            parse(br#"{"resultsPerPage":1,"startIndex":0,"totalResults":1,"format":"OSV","vulnerabilities":[]}"#, &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        let empty = parse(
            b"\xEF\xBB\xBF{\"resultsPerPage\":0,\"startIndex\":0,\"totalResults\":0,\"vulnerabilities\":[]}",
            &mut sink,
        );
        assert_eq!(
            empty,
            Ok(NvdPage {
                results_per_page: 0,
                start_index: 0,
                total_results: 0,
                timestamp: None
            })
        );
    }

    #[test]
    fn rejection_reasons_lose_nvd_markers() {
        assert_eq!(
            rejection_reason("Rejected reason: Not used").as_deref(),
            Some("Not used")
        );
        assert_eq!(
            rejection_reason("** REJECT **  DO NOT USE THIS CANDIDATE NUMBER.").as_deref(),
            Some("DO NOT USE THIS CANDIDATE NUMBER.")
        );
        assert_eq!(rejection_reason("Rejected reason: "), None);
    }

    #[test]
    fn json_paths_for_errors() {
        let json = r#"{"a":[{"b":1},{"c":{"d":"x"}}]}"#;
        let at = json.find("\"x\"").unwrap() + 1;
        assert_eq!(json_path_at(json.as_bytes(), at, false), "a[1].c.d");
        let at = json.find("}}").unwrap();
        assert_eq!(json_path_at(json.as_bytes(), at, true), "a[1].c");
        assert_eq!(json_path_at(b"", 10, false), "");
    }
}

//! The normalised advisory model.
//!
//! A **[`SourceRecord`]** is what one source says about one vulnerability:
//! NVD's entry for a CVE, a CNA's CVE 5 record, one KEV catalogue entry, one
//! OSV entry, or one vulnerability of a CSAF document (with the document's
//! metadata). Records are keyed by `(source, record_id)` for idempotent
//! storage. Records about the same vulnerability share a `vuln_id` (the CVE id
//! when there is one) and link further through `aliases`; the store groups
//! them into one advisory per vulnerability.
//!
//! Affected-product statements keep each format's own semantics
//! ([`Affected`]); the matcher interprets them. EPSS scores are not records
//! but enrichment ([`EpssScore`]).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kinds of source openwarp reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// NVD CVE API 2.0 (API responses and yearly feed files).
    Nvd,
    /// CVE JSON 5.x records (cvelistV5, Vulnrichment).
    Cve5,
    /// CISA Known Exploited Vulnerabilities catalogue.
    Kev,
    /// CSAF 2.0 documents (security_advisory and csaf_vex profiles).
    Csaf,
    /// OSV records (GitHub advisory database, Go, Bitnami…).
    Osv,
    /// FIRST EPSS daily scores.
    Epss,
}

impl SourceKind {
    pub const ALL: [SourceKind; 6] = [
        SourceKind::Nvd,
        SourceKind::Cve5,
        SourceKind::Kev,
        SourceKind::Csaf,
        SourceKind::Osv,
        SourceKind::Epss,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Nvd => "nvd",
            SourceKind::Cve5 => "cve5",
            SourceKind::Kev => "kev",
            SourceKind::Csaf => "csaf",
            SourceKind::Osv => "osv",
            SourceKind::Epss => "epss",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SourceKind::Nvd => "NVD",
            SourceKind::Cve5 => "CVE record",
            SourceKind::Kev => "CISA KEV",
            SourceKind::Csaf => "CSAF advisory",
            SourceKind::Osv => "OSV",
            SourceKind::Epss => "EPSS",
        }
    }

    pub fn parse(s: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Whether a record stands, or has been taken back by its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RecordState {
    Published,
    /// CVE REJECTED / NVD "Rejected": kept, never deleted, with the reason given.
    Rejected {
        reason: Option<String>,
    },
    /// OSV `withdrawn`, or a CSAF document whose status is no longer current.
    Withdrawn {
        at: Option<DateTime<Utc>>,
    },
}

/// A CVSS version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CvssVersion {
    #[serde(rename = "2.0")]
    V2,
    #[serde(rename = "3.0")]
    V30,
    #[serde(rename = "3.1")]
    V31,
    #[serde(rename = "4.0")]
    V40,
}

impl CvssVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            CvssVersion::V2 => "2.0",
            CvssVersion::V30 => "3.0",
            CvssVersion::V31 => "3.1",
            CvssVersion::V40 => "4.0",
        }
    }
}

/// Qualitative severity (CVSS v3/v4 bands; v2 mapped onto them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// The CVSS v3/v4 band of a base score.
    pub fn from_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Some(Severity::None),
            "low" => Some(Severity::Low),
            "medium" | "moderate" => Some(Severity::Medium),
            "high" | "important" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// One CVSS assessment: the vector as published, the base score computed from
/// it, and who made the assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvssScore {
    pub version: CvssVersion,
    /// The vector string exactly as published.
    pub vector: String,
    /// Base score computed from the vector (see [`crate::cvss`]).
    pub base_score: f64,
    pub severity: Severity,
    /// The score the source stated, when it differs from the computed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_score: Option<f64>,
    /// Who assessed it: an NVD source identifier (`nvd@nist.gov`), a CNA or
    /// ADP short name, a CSAF publisher.
    pub assessor: String,
    /// NVD's `Primary` / `Secondary`, where given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A link with the source's tags (e.g. `Patch`, `Vendor Advisory`, `FIX`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// What a source says about which products are (or are not) affected.
/// Each variant keeps its format's semantics for the matcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Affected {
    /// One NVD `configurations[]` entry, kept losslessly.
    Nvd(NvdConfiguration),
    /// One CVE 5 `affected[]` entry (from the CNA or an ADP container).
    Cve5(Cve5Affected),
    /// One OSV `affected[]` entry.
    Osv(OsvAffected),
    /// One CSAF product with its status for this vulnerability.
    Csaf(CsafProductStatus),
    /// A KEV catalogue entry names a vendor and product, without versions.
    Kev { vendor: String, product: String },
}

/// Boolean operator of an NVD configuration or node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum BoolOp {
    And,
    Or,
}

/// An NVD configuration: nodes combined by `operator` (OR when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NvdConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<BoolOp>,
    #[serde(default)]
    pub negate: bool,
    pub nodes: Vec<NvdNode>,
}

/// An NVD node: CPE matches combined by `operator`, optionally negated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NvdNode {
    pub operator: BoolOp,
    #[serde(default)]
    pub negate: bool,
    pub cpe_match: Vec<CpeMatch>,
}

/// An NVD `cpeMatch`: a CPE 2.3 pattern with optional version bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpeMatch {
    pub vulnerable: bool,
    /// CPE 2.3 formatted string, e.g. `cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*`.
    pub criteria: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_criteria_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_start_including: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_start_excluding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_end_including: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_end_excluding: Option<String>,
}

/// CVE 5 affected/unaffected status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    Affected,
    Unaffected,
    Unknown,
}

/// One CVE 5 `affected[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cve5Affected {
    /// `cna` or the ADP's short name (e.g. `CISA-ADP`).
    pub container: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// Status of versions not covered by `versions` (CVE 5 `defaultStatus`; `unknown` when absent).
    pub default_status: VersionStatus,
    pub versions: Vec<Cve5Version>,
}

/// One CVE 5 version entry: a single version, or a range when `less_than` /
/// `less_than_or_equal` is set (from `version` up to the bound), with `changes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cve5Version {
    pub version: String,
    pub status: VersionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub less_than: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub less_than_or_equal: Option<String>,
    /// Status changes within the range: (`at` version, new status).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<(String, VersionStatus)>,
}

/// One OSV `affected[]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsvAffected {
    pub ecosystem: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<OsvRange>,
    /// Explicitly listed affected versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// CPE 2.3 names given by the database (e.g. Bitnami's `database_specific.cpes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpes: Vec<String>,
    /// Severity given for this package only, where present.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<CvssScore>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OsvRangeKind {
    Semver,
    Ecosystem,
    Git,
}

/// An OSV range: ordered events over one version scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvRange {
    pub kind: OsvRangeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    pub events: Vec<OsvEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OsvEvent {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

/// CSAF product status categories (CSAF 2.0 §3.2.3.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsafStatus {
    FirstAffected,
    FirstFixed,
    Fixed,
    KnownAffected,
    KnownNotAffected,
    LastAffected,
    Recommended,
    UnderInvestigation,
}

impl CsafStatus {
    /// Whether the status says the product is affected (vs fixed / not affected / unknown).
    pub fn is_affected(self) -> bool {
        matches!(
            self,
            CsafStatus::FirstAffected | CsafStatus::KnownAffected | CsafStatus::LastAffected
        )
    }

    /// Whether the status clears the product (VEX: no alert for it).
    pub fn clears(self) -> bool {
        matches!(
            self,
            CsafStatus::Fixed | CsafStatus::FirstFixed | CsafStatus::KnownNotAffected
        )
    }
}

/// A CSAF product resolved from the product tree, with its status for one vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsafProductStatus {
    pub product_id: String,
    /// The full product name from the tree.
    pub name: String,
    /// Vendor, product name and version from the branches leading to it, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Product identification helpers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpe: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purls: Vec<String>,
    pub status: CsafStatus,
}

/// A remediation a source offers (CSAF `remediations`; fixes noted elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    /// CSAF category: `vendor_fix`, `mitigation`, `workaround`, `none_available`, `no_fix_planned`.
    pub category: String,
    pub details: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub product_ids: Vec<String>,
}

/// The KEV catalogue's facts about an exploited vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevEntry {
    pub cve_id: String,
    pub vendor_project: String,
    pub product: String,
    pub vulnerability_name: String,
    pub date_added: NaiveDate,
    pub short_description: String,
    pub required_action: String,
    pub due_date: Option<NaiveDate>,
    /// `Known` or `Unknown` as CISA states it.
    pub known_ransomware_campaign_use: String,
    pub notes: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwes: Vec<String>,
}

/// Traffic Light Protocol label of a source document (CSAF carries TLP 1.0
/// names; `WHITE` is read as `CLEAR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

/// What one source says about one vulnerability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRecord {
    pub source: SourceKind,
    /// Unique within the source: the CVE id for NVD, CVE 5 and KEV; the OSV id;
    /// `<CSAF tracking id>#<CVE or vulnerability index>` for CSAF.
    pub record_id: String,
    /// The vulnerability this record is about: its CVE id where one is known,
    /// otherwise the record's own id.
    pub vuln_id: String,
    /// Other identifiers of the same vulnerability (GHSA, GO, BIT, vendor ids, CVE).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub state: RecordState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// English description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<DateTime<Utc>>,
    /// Who published the record (NVD source identifier, CNA, CSAF publisher, OSV database).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cvss: Vec<CvssScore>,
    /// CWE ids, `CWE-79` style.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<Affected>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remediations: Vec<Remediation>,
    /// Present on KEV records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kev: Option<KevEntry>,
    /// TLP of the source document, where it has one (CSAF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlp: Option<Tlp>,
}

impl SourceRecord {
    /// The highest computed CVSS base score this record gives, if any.
    pub fn max_cvss(&self) -> Option<&CvssScore> {
        self.cvss
            .iter()
            .max_by(|a, b| a.base_score.total_cmp(&b.base_score))
    }
}

/// A FIRST EPSS score for one CVE on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpssScore {
    pub cve_id: String,
    /// Probability of exploitation activity in the next 30 days, 0–1.
    pub score: f64,
    /// Percentile among all scored CVEs, 0–1.
    pub percentile: f64,
}

/// The header of an EPSS file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpssRun {
    pub model_version: Option<String>,
    pub score_date: Option<DateTime<Utc>>,
}

/// A record the parser refused, with why; the rest of the file proceeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Position of the record in the file (0-based index in the array, or line number for JSON Lines and CSV).
    pub position: usize,
    /// The record's id when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.record_id {
            Some(id) => write!(f, "record {} ({id}): {}", self.position, self.reason),
            None => write!(f, "record {}: {}", self.position, self.reason),
        }
    }
}

/// A whole file that cannot be read at all (as opposed to one bad record).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("not a {expected} document: {reason}")]
    WrongShape {
        expected: &'static str,
        reason: String,
    },
    #[error(
        "unrecognised format; supported: NVD CVE API 2.0 JSON, CVE JSON 5, CISA KEV JSON, CSAF 2.0 JSON, OSV JSON, EPSS CSV (each optionally as JSON Lines where applicable)"
    )]
    UnknownFormat,
}

/// One item a parser yields.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Record(Box<SourceRecord>),
    Epss(EpssScore),
    /// A record refused; nothing of it is stored.
    Rejected(Rejection),
    /// Part of the record just yielded was skipped (e.g. an unreadable range);
    /// the rest of the record was kept.
    Warning(Rejection),
}

/// Normalise a CWE identifier: `CWE-79`, `79`, `NVD-CWE-Other` stay meaningful;
/// anything else is kept trimmed.
pub fn normalise_cwe(raw: &str) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(n) = s.strip_prefix("CWE-").or_else(|| s.strip_prefix("cwe-"))
        && !n.is_empty()
        && n.chars().all(|c| c.is_ascii_digit())
    {
        return Some(format!("CWE-{n}"));
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        return Some(format!("CWE-{s}"));
    }
    Some(s.to_string())
}

/// Whether `s` looks like a CVE id (`CVE-YYYY-NNNN…`).
pub fn is_cve_id(s: &str) -> bool {
    let mut parts = s.splitn(3, '-');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some("CVE"), Some(year), Some(num))
            if year.len() == 4 && year.chars().all(|c| c.is_ascii_digit())
                && num.len() >= 4 && num.chars().all(|c| c.is_ascii_digit())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_bands() {
        assert_eq!(Severity::from_score(9.8), Severity::Critical);
        assert_eq!(Severity::from_score(7.0), Severity::High);
        assert_eq!(Severity::from_score(6.9), Severity::Medium);
        assert_eq!(Severity::from_score(0.1), Severity::Low);
        assert_eq!(Severity::from_score(0.0), Severity::None);
        assert_eq!(Severity::parse("MODERATE"), Some(Severity::Medium));
    }

    #[test]
    fn cve_ids_and_cwes() {
        assert!(is_cve_id("CVE-2021-44228"));
        assert!(is_cve_id("CVE-1999-0001"));
        assert!(!is_cve_id("GHSA-jfh8-c2jp-5v3q"));
        assert!(!is_cve_id("CVE-21-44228"));
        assert_eq!(normalise_cwe("CWE-79").as_deref(), Some("CWE-79"));
        assert_eq!(normalise_cwe("79").as_deref(), Some("CWE-79"));
        assert_eq!(
            normalise_cwe("NVD-CWE-noinfo").as_deref(),
            Some("NVD-CWE-noinfo")
        );
        assert_eq!(normalise_cwe(" "), None);
    }

    #[test]
    fn records_round_trip_through_json() {
        let r = SourceRecord {
            source: SourceKind::Osv,
            record_id: "GO-2020-0001".into(),
            vuln_id: "CVE-2020-36567".into(),
            aliases: vec!["GHSA-6vm3-jj99-7229".into()],
            state: RecordState::Published,
            title: Some("Arbitrary log line injection".into()),
            description: None,
            published: None,
            modified: None,
            publisher: Some("Go".into()),
            cvss: vec![],
            cwes: vec![],
            references: vec![],
            affected: vec![Affected::Osv(OsvAffected {
                ecosystem: "Go".into(),
                name: "github.com/gin-gonic/gin".into(),
                purl: None,
                ranges: vec![OsvRange {
                    kind: OsvRangeKind::Semver,
                    repo: None,
                    events: vec![
                        OsvEvent::Introduced("0".into()),
                        OsvEvent::Fixed("1.6.0".into()),
                    ],
                }],
                versions: vec![],
                cpes: vec![],
                severity: vec![],
            })],
            remediations: vec![],
            kev: None,
            tlp: None,
        };
        let json = serde_json::to_string(&r).unwrap_or_default();
        assert!(json.contains(r#""kind":"osv""#), "{json}");
        let back: Option<SourceRecord> = serde_json::from_str(&json).ok();
        assert_eq!(back, Some(r));
    }
}

//! CISA's Known Exploited Vulnerabilities catalogue (JSON).
//!
//! The catalogue is one object (`title`, `catalogVersion`, `dateReleased`,
//! `count`, `vulnerabilities[]`). [`parse`] returns the catalogue's header as
//! a [`KevCatalog`] and hands each entry to the sink as a [`SourceRecord`]
//! with its [`KevEntry`]; an entry that cannot be read is rejected with its
//! 0-based position in `vulnerabilities` and the rest proceed.

use crate::model::{
    Affected, KevEntry, ParseError, Parsed, RecordState, Reference, Rejection, SourceKind,
    SourceRecord, is_cve_id, normalise_cwe,
};
use crate::osv::describe_json_error;
use crate::time::{parse_date, parse_timestamp};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// The catalogue's own header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevCatalog {
    pub title: String,
    /// `2025.08.25` style.
    pub catalog_version: String,
    pub date_released: Option<DateTime<Utc>>,
    /// The count the catalogue states (compare with the entries read).
    pub count: Option<u64>,
}

/// Parse a KEV catalogue. Whole-file problems (not JSON, no
/// `vulnerabilities` array) are errors; a bad entry is a [`Rejection`].
pub fn parse(bytes: &[u8], sink: &mut dyn FnMut(Parsed)) -> Result<KevCatalog, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let raw: RawCatalog<'_> = serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            ParseError::Json(e.to_string())
        }
        _ => ParseError::WrongShape {
            expected: "CISA KEV",
            reason: describe_json_error(bytes, &e).1,
        },
    })?;
    let Some(entries) = raw.vulnerabilities else {
        return Err(ParseError::WrongShape {
            expected: "CISA KEV",
            reason: "no `vulnerabilities` array".into(),
        });
    };
    // An entry is as current as the catalogue that carries it: stamping it
    // with the release time lets storage keep the newer of two snapshots.
    let released = raw.date_released.as_deref().and_then(parse_timestamp);
    for (position, entry) in entries.iter().enumerate() {
        sink(match read_entry(entry.get()) {
            Ok(mut record) => {
                record.modified = released;
                Parsed::Record(Box::new(record))
            }
            Err((record_id, reason)) => Parsed::Rejected(Rejection {
                position,
                record_id,
                reason,
            }),
        });
    }
    Ok(KevCatalog {
        title: raw.title.unwrap_or_default(),
        catalog_version: raw.catalog_version.unwrap_or_default(),
        date_released: released,
        count: raw.count,
    })
}

#[derive(Deserialize)]
struct RawCatalog<'a> {
    #[serde(default)]
    title: Option<String>,
    #[serde(rename = "catalogVersion", default)]
    catalog_version: Option<String>,
    #[serde(rename = "dateReleased", default)]
    date_released: Option<String>,
    #[serde(default)]
    count: Option<u64>,
    #[serde(borrow, default)]
    vulnerabilities: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    vendor_project: String,
    product: String,
    vulnerability_name: String,
    date_added: String,
    short_description: String,
    required_action: String,
    #[serde(default)]
    due_date: Option<String>,
    #[serde(default)]
    known_ransomware_campaign_use: Option<String>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    cwes: Vec<String>,
}

#[derive(Deserialize)]
struct IdOnly {
    #[serde(rename = "cveID", default)]
    cve_id: Option<String>,
}

fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

fn read_entry(json: &str) -> Result<SourceRecord, (Option<String>, String)> {
    if !json.starts_with('{') {
        return Err((None, "the entry is not a JSON object".into()));
    }
    let raw: RawEntry = serde_json::from_str(json).map_err(|e| {
        let id = serde_json::from_str::<IdOnly>(json)
            .ok()
            .and_then(|r| r.cve_id);
        (id, describe_json_error(json.as_bytes(), &e).1)
    })?;
    let cve_id = raw.cve_id.trim().to_string();
    if !is_cve_id(&cve_id) {
        return Err((
            Some(cve_id.clone()).filter(|s| !s.is_empty()),
            format!("cveID: {cve_id:?} is not a CVE id"),
        ));
    }
    let fail = |reason: String| (Some(cve_id.clone()), reason);
    let date_added = parse_date(&raw.date_added).ok_or_else(|| {
        fail(format!(
            "dateAdded: {:?} is not a date (YYYY-MM-DD)",
            raw.date_added
        ))
    })?;
    let due_date = match raw.due_date.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) => Some(
            parse_date(d)
                .ok_or_else(|| fail(format!("dueDate: {d:?} is not a date (YYYY-MM-DD)")))?,
        ),
    };
    let mut cwes: Vec<String> = Vec::new();
    for cwe in raw.cwes.iter().filter_map(|c| normalise_cwe(c)) {
        if !cwes.contains(&cwe) {
            cwes.push(cwe);
        }
    }
    let notes = raw.notes.unwrap_or_default();
    let references = note_urls(&notes)
        .into_iter()
        .map(|url| Reference {
            url,
            tags: Vec::new(),
        })
        .collect();
    let entry = KevEntry {
        cve_id: cve_id.clone(),
        vendor_project: raw.vendor_project.clone(),
        product: raw.product.clone(),
        vulnerability_name: raw.vulnerability_name.clone(),
        date_added,
        short_description: raw.short_description.clone(),
        required_action: raw.required_action,
        due_date,
        // CISA: "Unknown" when it lacks confirmation of ransomware use.
        known_ransomware_campaign_use: raw
            .known_ransomware_campaign_use
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "Unknown".into()),
        notes,
        cwes: cwes.clone(),
    };
    Ok(SourceRecord {
        source: SourceKind::Kev,
        record_id: cve_id.clone(),
        vuln_id: cve_id,
        aliases: Vec::new(),
        state: RecordState::Published,
        title: Some(raw.vulnerability_name).filter(|s| !s.trim().is_empty()),
        description: Some(raw.short_description).filter(|s| !s.trim().is_empty()),
        published: midnight(date_added),
        modified: None,
        publisher: Some("CISA".into()),
        cvss: Vec::new(),
        cwes,
        references,
        affected: vec![Affected::Kev {
            vendor: raw.vendor_project,
            product: raw.product,
        }],
        remediations: Vec::new(),
        kev: Some(entry),
        tlp: None,
    })
}

fn midnight(date: NaiveDate) -> Option<DateTime<Utc>> {
    date.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

/// The http(s) URLs in a KEV `notes` field, which lists them separated by
/// whitespace and `;`, sometimes in parentheses or followed by `,` or `.`.
fn note_urls(notes: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in notes.split(|c: char| c.is_whitespace() || c == ';') {
        let token = token.trim_start_matches(['(', '<', '"', '\'']);
        if !(token.starts_with("https://") || token.starts_with("http://")) {
            continue;
        }
        let mut url = token.trim_end_matches([',', '.', '"', '\'', '>']);
        // A closing parenthesis belongs to the URL only if it opened one.
        while url.ends_with(')') && url.matches('(').count() < url.matches(')').count() {
            url = url.get(..url.len() - 1).unwrap_or(url);
            url = url.trim_end_matches([',', '.', '"', '\'']);
        }
        if url.len() > "https://".len() && !out.iter().any(|u| u == url) {
            out.push(url.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    const CATALOGUE: &str = include_str!(
        "../tests/fixtures/kev/kev_catalogue_five_real_entries_notes_urls_ransomware.json"
    );

    fn run(bytes: &[u8]) -> (KevCatalog, Vec<SourceRecord>, Vec<Rejection>) {
        let mut records = Vec::new();
        let mut rejected = Vec::new();
        let catalog = parse(bytes, &mut |p| match p {
            Parsed::Record(r) => records.push(*r),
            Parsed::Rejected(r) => rejected.push(r),
            Parsed::Epss(_) => panic!("EPSS from KEV"),
            Parsed::Warning(w) => panic!("unexpected warning: {w}"),
        })
        .unwrap();
        (catalog, records, rejected)
    }

    #[test]
    fn catalogue_header_and_entries() {
        let (catalog, records, rejected) = run(CATALOGUE.as_bytes());
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(
            catalog.title,
            "CISA Catalog of Known Exploited Vulnerabilities"
        );
        assert_eq!(catalog.catalog_version, "2025.08.25");
        assert_eq!(
            catalog.date_released.map(|t| t.to_rfc3339()).as_deref(),
            Some("2025-08-25T17:04:19.979600+00:00")
        );
        assert_eq!(catalog.count, Some(5));
        assert_eq!(
            records
                .iter()
                .map(|r| r.record_id.as_str())
                .collect::<Vec<_>>(),
            [
                "CVE-2025-48384",
                "CVE-2025-5419",
                "CVE-2014-8361",
                "CVE-2021-34527",
                "CVE-2023-22515"
            ]
        );

        let git = &records[0];
        assert_eq!(git.source, SourceKind::Kev);
        assert_eq!(git.vuln_id, "CVE-2025-48384");
        assert_eq!(
            git.title.as_deref(),
            Some("Git Link Following Vulnerability")
        );
        assert!(
            git.description
                .as_deref()
                .unwrap()
                .contains("Git\u{2019}s inconsistent")
        );
        assert_eq!(
            git.published.map(|t| t.to_rfc3339()).as_deref(),
            Some("2025-08-25T00:00:00+00:00")
        );
        assert_eq!(git.publisher.as_deref(), Some("CISA"));
        assert_eq!(git.cwes, ["CWE-59", "CWE-436"]);
        assert_eq!(
            git.affected,
            [Affected::Kev {
                vendor: "Git".into(),
                product: "Git".into()
            }]
        );
        assert_eq!(git.references.len(), 6);
        assert_eq!(
            git.references[0].url,
            "https://github.com/git/git/security/advisories/GHSA-vwqx-4fm8-6qc9"
        );
        assert_eq!(
            git.references[1].url,
            "https://access.redhat.com/errata/RHSA-2025:13933"
        );
        let kev = git.kev.as_ref().unwrap();
        assert_eq!(kev.date_added.to_string(), "2025-08-25");
        assert_eq!(
            kev.due_date.map(|d| d.to_string()).as_deref(),
            Some("2025-09-15")
        );
        assert_eq!(kev.known_ransomware_campaign_use, "Unknown");
        assert!(kev.required_action.starts_with("Apply mitigations"));
        assert!(kev.notes.starts_with("This vulnerability affects"));

        // A stray quote and comma after the last URL.
        assert_eq!(
            records[1]
                .references
                .iter()
                .map(|r| r.url.as_str())
                .collect::<Vec<_>>(),
            [
                "https://chromereleases.googleblog.com/2025/06/stable-channel-update-for-desktop.html",
                "https://nvd.nist.gov/vuln/detail/CVE-2025-5419"
            ]
        );
        // An archived http:// URL inside an https:// one stays whole.
        assert_eq!(
            records[2].references[0].url,
            "https://web.archive.org/web/20150831100501/http://securityadvisories.dlink.com/security/publication.aspx?name=SAP10055"
        );
        // A URL in parentheses; the due date precedes the date added (ED 21-04).
        let spooler = &records[3];
        assert_eq!(
            spooler.references[0].url,
            "https://www.cisa.gov/news-events/directives/ed-21-04-mitigate-windows-print-spooler-service-vulnerability"
        );
        assert_eq!(spooler.references.len(), 2);
        let kev = spooler.kev.as_ref().unwrap();
        assert_eq!(kev.known_ransomware_campaign_use, "Known");
        assert!(kev.due_date.unwrap() < kev.date_added);
        // No CWEs.
        assert!(records[4].cwes.is_empty());
        assert_eq!(
            records[4]
                .kev
                .as_ref()
                .unwrap()
                .known_ransomware_campaign_use,
            "Known"
        );
    }

    #[test]
    fn bad_entries_are_rejected_precisely() {
        let text = CATALOGUE
            .replacen(
                "\"dateAdded\": \"2025-06-05\"",
                "\"dateAdded\": \"June 5th\"",
                1,
            )
            .replacen("\"product\": \"SDK\",", "", 1)
            .replacen(
                "\"cveID\": \"CVE-2021-34527\"",
                "\"cveID\": \"MS-PRINTNIGHTMARE\"",
                1,
            )
            .replacen("\"dueDate\": \"2023-10-13\"", "\"dueDate\": 20231013", 1);
        let text = text.replacen("\"vulnerabilities\": [", "\"vulnerabilities\": [ [1],", 1);
        let (_, records, rejected) = run(text.as_bytes());
        assert_eq!(records.len(), 1);
        assert_eq!(rejected.len(), 5, "{rejected:?}");
        assert_eq!(
            (rejected[0].position, rejected[0].reason.as_str()),
            (0, "the entry is not a JSON object")
        );
        // Positions below are as in the fixture, before the `[1]` put in front.
        let rejected = &rejected[1..];
        let r = |i: usize| {
            (
                rejected[i].position - 1,
                rejected[i].record_id.as_deref(),
                rejected[i].reason.as_str(),
            )
        };
        assert_eq!(
            r(0),
            (
                1,
                Some("CVE-2025-5419"),
                "dateAdded: \"June 5th\" is not a date (YYYY-MM-DD)"
            )
        );
        assert_eq!(r(1), (2, Some("CVE-2014-8361"), "missing field `product`"));
        assert_eq!(
            r(2),
            (
                3,
                Some("MS-PRINTNIGHTMARE"),
                "cveID: \"MS-PRINTNIGHTMARE\" is not a CVE id"
            )
        );
        assert_eq!(rejected[3].position, 5);
        assert!(
            rejected[3]
                .reason
                .starts_with("dueDate: invalid type: integer `20231013`"),
            "{}",
            rejected[3].reason
        );
    }

    #[test]
    fn whole_file_problems() {
        let mut sink = |_p: Parsed| {};
        assert!(matches!(parse(b"", &mut sink), Err(ParseError::Json(_))));
        assert!(matches!(
            parse(b"{\"title\":", &mut sink),
            Err(ParseError::Json(_))
        ));
        assert!(matches!(
            parse(b"[]", &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        assert!(matches!(
            parse(br#"{"title":"x"}"#, &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        assert!(matches!(
            parse(br#"{"vulnerabilities":{}}"#, &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        let (catalog, records, _) = run(br#"{"vulnerabilities":[]}"#);
        assert_eq!(catalog.count, None);
        assert!(records.is_empty());
    }

    #[test]
    fn urls_in_notes() {
        assert_eq!(
            note_urls(
                "see (https://a.example/x_(y)) and https://b.example/p. ftp://c ; http://d.example/q,"
            ),
            [
                "https://a.example/x_(y)",
                "https://b.example/p",
                "http://d.example/q"
            ]
        );
        assert!(note_urls("").is_empty());
        assert!(note_urls("https://").is_empty());
    }
}

//! CVE JSON 5.x records (5.0, 5.1, 5.2): single record files as in
//! `CVEProject/cvelistV5` and CISA Vulnrichment, and JSON Lines of them.
//!
//! A record becomes one [`SourceRecord`] (source [`SourceKind::Cve5`]) that
//! gathers the CNA container and every ADP container (e.g. CISA-ADP):
//! CVSS from each container's `metrics` (assessor `cna:<assigner>` or the
//! ADP's short name), CWEs from `problemTypes`, references, and every
//! `affected` entry as an [`Affected::Cve5`] labelled with its container.
//! CVE 5.1.1's `cpeApplicability` has NVD's configuration shape and becomes
//! [`Affected::Nvd`].
//!
//! Vendor and product strings are kept as published, `n/a` included: the
//! matcher decides what they mean.

use crate::model::{
    Affected, Cve5Affected, Cve5Version, ParseError, Parsed, RecordState, Rejection, SourceKind,
    SourceRecord, VersionStatus, is_cve_id,
};
use crate::nvd::{
    CvssData, LangText, RecordError, Text, WireConfiguration, WireReference, assess,
    describe_json_error, english, file_error, push_cwe, push_reference, strip_bom, timestamp_field,
};
use serde::Deserialize;

const EXPECTED: &str = "CVE JSON 5";

/// Parse one CVE JSON 5 record. The error is the precise reason it was refused.
pub fn parse_record(json: &str) -> Result<SourceRecord, String> {
    record(json).map_err(|e| e.reason)
}

/// Parse a file holding one CVE JSON 5 record. Bytes that are not JSON, or
/// JSON that is not a CVE record (`dataType` `CVE_RECORD`), are a
/// [`ParseError`]; a CVE record that is malformed is handed to `sink` as a
/// [`Parsed::Rejected`] at position 0.
pub fn parse(bytes: &[u8], sink: &mut dyn FnMut(Parsed)) -> Result<(), ParseError> {
    let bytes = strip_bom(bytes);
    let json = std::str::from_utf8(bytes)
        .map_err(|e| ParseError::Json(format!("the file is not UTF-8: {e}")))?;
    let head: Head<'_> = serde_json::from_str(json).map_err(|e| file_error(EXPECTED, bytes, &e))?;
    match head.data_type.as_ref().map(|t| t.0.as_ref()) {
        Some("CVE_RECORD") => {}
        Some(other) => {
            return Err(ParseError::WrongShape {
                expected: EXPECTED,
                reason: format!("dataType is '{other}', not 'CVE_RECORD'"),
            });
        }
        None => {
            return Err(ParseError::WrongShape {
                expected: EXPECTED,
                reason: "there is no `dataType`".into(),
            });
        }
    }
    sink(match record(json) {
        Ok(r) => Parsed::Record(Box::new(r)),
        Err(e) => Parsed::Rejected(Rejection {
            position: 0,
            record_id: e.record_id,
            reason: e.reason,
        }),
    });
    Ok(())
}

/// Parse CVE JSON 5 records, one per line. Blank lines are skipped; a line
/// that is not a valid record becomes a [`Parsed::Rejected`] whose position
/// is its 1-based line number. The first non-blank line must be a complete
/// JSON value, or the input is not JSON Lines at all ([`ParseError`]).
pub fn parse_lines(bytes: &[u8], sink: &mut dyn FnMut(Parsed)) -> Result<(), ParseError> {
    let bytes = strip_bom(bytes);
    let mut first = true;
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let position = index + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let text = std::str::from_utf8(line);
        if first {
            first = false;
            let complete = text
                .ok()
                .is_some_and(|t| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok());
            if !complete {
                return Err(ParseError::WrongShape {
                    expected: "CVE JSON 5 lines",
                    reason: format!(
                        "line {position} is not a complete JSON value (a single pretty-printed record rather than JSON Lines?)"
                    ),
                });
            }
        }
        let result = match text {
            Ok(json) => record(json),
            Err(e) => Err(RecordError {
                record_id: None,
                reason: format!("the line is not UTF-8: {e}"),
            }),
        };
        sink(match result {
            Ok(r) => Parsed::Record(Box::new(r)),
            Err(e) => Parsed::Rejected(Rejection {
                position,
                record_id: e.record_id,
                reason: e.reason,
            }),
        });
    }
    Ok(())
}

fn record(json: &str) -> Result<SourceRecord, RecordError> {
    let doc: RecordDoc<'_> = serde_json::from_str(json).map_err(|e| RecordError {
        record_id: peek_id(json),
        reason: describe_json_error(json, &e),
    })?;
    let meta = doc.cve_metadata;
    let id = meta.cve_id.trim().to_string();
    let fail = |reason: String| RecordError {
        record_id: (!id.is_empty()).then(|| id.clone()),
        reason,
    };
    match doc.data_type.as_ref().map(|t| t.0.as_ref()) {
        Some("CVE_RECORD") => {}
        Some(other) => return Err(fail(format!("dataType is '{other}', not 'CVE_RECORD'"))),
        None => return Err(fail("dataType is missing".into())),
    }
    match doc.data_version.as_ref().map(|t| t.0.as_ref()) {
        Some(v) if v.starts_with("5.") => {}
        Some(v) => return Err(fail(format!("dataVersion '{v}' is not 5.x"))),
        None => return Err(fail("dataVersion is missing".into())),
    }
    if !is_cve_id(&id) {
        return Err(fail(format!("cveMetadata.cveId '{id}' is not a CVE id")));
    }
    let published = timestamp_field(meta.date_published.as_ref(), "cveMetadata.datePublished")
        .map_err(&fail)?;
    let modified =
        timestamp_field(meta.date_updated.as_ref(), "cveMetadata.dateUpdated").map_err(&fail)?;
    let cna = doc.containers.cna;
    let state = match meta.state.0.as_ref() {
        "PUBLISHED" => RecordState::Published,
        "REJECTED" => RecordState::Rejected {
            reason: english(&cna.rejected_reasons)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        },
        other => {
            return Err(fail(format!(
                "cveMetadata.state '{other}' is neither PUBLISHED nor REJECTED"
            )));
        }
    };
    let publisher = meta
        .assigner_short_name
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());

    let mut out = SourceRecord {
        source: SourceKind::Cve5,
        record_id: id.clone(),
        vuln_id: id,
        aliases: Vec::new(),
        state,
        title: cna
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        description: english(&cna.descriptions).map(str::to_string),
        published,
        modified,
        publisher,
        cvss: Vec::new(),
        cwes: Vec::new(),
        references: Vec::new(),
        affected: Vec::new(),
        remediations: Vec::new(),
        kev: None,
        tlp: None,
    };

    let cna_assessor = format!(
        "cna:{}",
        out.publisher
            .as_deref()
            .or_else(|| cna.provider_short_name())
            .unwrap_or("unknown")
    );
    add_container(&mut out, cna, "cna", &cna_assessor);
    for adp in doc.containers.adp {
        let name = adp.provider_short_name().unwrap_or("adp").to_string();
        add_container(&mut out, adp, &name, &name);
    }
    Ok(out)
}

/// Fold one container's metrics, CWEs, references and affected entries into the record.
fn add_container(out: &mut SourceRecord, c: Container<'_>, container: &str, assessor: &str) {
    for metric in &c.metrics {
        for data in [&metric.v2, &metric.v30, &metric.v31, &metric.v40]
            .into_iter()
            .flatten()
        {
            if let Some(score) = assess(data, assessor, None) {
                out.cvss.push(score);
            }
        }
    }
    for problem in &c.problem_types {
        for d in &problem.descriptions {
            if let Some(cwe) = &d.cwe_id {
                push_cwe(&mut out.cwes, &cwe.0);
            }
        }
    }
    for r in c.references {
        push_reference(&mut out.references, r);
    }
    for a in c.affected {
        // CERT/CC writes `versionType` on the affected entry (outside the
        // schema); it applies to every version that has none of its own.
        let shared_type = a.version_type;
        out.affected.push(Affected::Cve5(Cve5Affected {
            container: container.to_string(),
            vendor: a.vendor,
            product: a.product,
            collection_url: a.collection_url,
            package_name: a.package_name,
            cpes: a.cpes,
            platforms: a.platforms,
            default_status: a.default_status.unwrap_or(VersionStatus::Unknown),
            versions: a
                .versions
                .into_iter()
                .map(|v| Cve5Version {
                    version: v.version,
                    status: v.status,
                    version_type: v.version_type.or_else(|| shared_type.clone()),
                    less_than: v.less_than,
                    less_than_or_equal: v.less_than_or_equal,
                    changes: v.changes.into_iter().map(|c| (c.at, c.status)).collect(),
                })
                .collect(),
        }));
    }
    for config in c.cpe_applicability {
        out.affected.push(Affected::Nvd(config.into_model()));
    }
}

fn peek_id(json: &str) -> Option<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Peek<'a> {
        #[serde(borrow)]
        cve_metadata: Option<PeekMeta<'a>>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct PeekMeta<'a> {
        #[serde(borrow)]
        cve_id: Option<Text<'a>>,
    }
    serde_json::from_str::<Peek<'_>>(json)
        .ok()
        .and_then(|p| p.cve_metadata)
        .and_then(|m| m.cve_id)
        .map(|id| id.0.trim().to_string())
        .filter(|id| !id.is_empty())
}

// ---------------------------------------------------------------------------
// Wire types: only the fields we use; everything else is skipped unread.

/// Just enough to tell a CVE record from other JSON.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a JSON object")]
struct Head<'a> {
    #[serde(borrow)]
    data_type: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a CVE JSON 5 record object")]
struct RecordDoc<'a> {
    #[serde(borrow)]
    data_type: Option<Text<'a>>,
    #[serde(borrow)]
    data_version: Option<Text<'a>>,
    #[serde(borrow)]
    cve_metadata: Metadata<'a>,
    #[serde(borrow)]
    containers: Containers<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a cveMetadata object")]
struct Metadata<'a> {
    cve_id: String,
    #[serde(borrow)]
    state: Text<'a>,
    assigner_short_name: Option<String>,
    #[serde(borrow)]
    date_published: Option<Text<'a>>,
    #[serde(borrow)]
    date_updated: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a containers object")]
struct Containers<'a> {
    #[serde(borrow)]
    cna: Container<'a>,
    #[serde(borrow, default)]
    adp: Vec<Container<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a container object")]
struct Container<'a> {
    provider_metadata: Option<ProviderMetadata>,
    title: Option<String>,
    #[serde(borrow, default)]
    descriptions: Vec<LangText<'a>>,
    #[serde(borrow, default)]
    rejected_reasons: Vec<LangText<'a>>,
    #[serde(borrow, default)]
    metrics: Vec<Metric<'a>>,
    #[serde(borrow, default)]
    problem_types: Vec<ProblemType<'a>>,
    #[serde(default)]
    references: Vec<WireReference>,
    #[serde(default)]
    affected: Vec<WireAffected>,
    #[serde(default)]
    cpe_applicability: Vec<WireConfiguration>,
}

impl Container<'_> {
    fn provider_short_name(&self) -> Option<&str> {
        let p = self.provider_metadata.as_ref()?;
        p.short_name
            .as_deref()
            .or(p.org_id.as_deref())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a providerMetadata object")]
struct ProviderMetadata {
    short_name: Option<String>,
    org_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(expecting = "a metrics entry object")]
struct Metric<'a> {
    #[serde(borrow, rename = "cvssV2_0")]
    v2: Option<CvssData<'a>>,
    #[serde(borrow, rename = "cvssV3_0")]
    v30: Option<CvssData<'a>>,
    #[serde(borrow, rename = "cvssV3_1")]
    v31: Option<CvssData<'a>>,
    #[serde(borrow, rename = "cvssV4_0")]
    v40: Option<CvssData<'a>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a problemTypes entry object")]
struct ProblemType<'a> {
    #[serde(borrow, default)]
    descriptions: Vec<ProblemTypeDescription<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a problemTypes description object")]
struct ProblemTypeDescription<'a> {
    #[serde(borrow)]
    cwe_id: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "an affected entry object")]
struct WireAffected {
    vendor: Option<String>,
    product: Option<String>,
    #[serde(rename = "collectionURL")]
    collection_url: Option<String>,
    package_name: Option<String>,
    #[serde(default)]
    cpes: Vec<String>,
    #[serde(default)]
    platforms: Vec<String>,
    default_status: Option<VersionStatus>,
    /// Not in the schema here, but CERT/CC puts it here (see `add_container`).
    version_type: Option<String>,
    #[serde(default)]
    versions: Vec<WireVersion>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a version object")]
struct WireVersion {
    version: String,
    status: VersionStatus,
    version_type: Option<String>,
    less_than: Option<String>,
    less_than_or_equal: Option<String>,
    #[serde(default)]
    changes: Vec<WireChange>,
}

#[derive(Deserialize)]
#[serde(expecting = "a change object with at and status")]
struct WireChange {
    at: String,
    status: VersionStatus,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::model::{BoolOp, CvssVersion, Severity};

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/cve5/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn record_of(name: &str) -> SourceRecord {
        let mut out = Vec::new();
        parse(&fixture(name), &mut |p| out.push(p)).unwrap();
        match out.pop() {
            Some(Parsed::Record(r)) if out.is_empty() => *r,
            other => panic!("{other:?}"),
        }
    }

    fn cve5_affected(r: &SourceRecord) -> Vec<&Cve5Affected> {
        r.affected
            .iter()
            .filter_map(|a| match a {
                Affected::Cve5(a) => Some(a),
                _ => None,
            })
            .collect()
    }

    fn lines(bytes: &[u8]) -> Vec<Parsed> {
        let mut out = Vec::new();
        parse_lines(bytes, &mut |p| out.push(p)).unwrap();
        out
    }

    #[test]
    fn log4shell_changes_and_the_cisa_adp_score() {
        let r = record_of("cve5_log4shell_changes_and_cisa_adp_cvss.json");
        assert_eq!(r.source, SourceKind::Cve5);
        assert_eq!(
            (r.record_id.as_str(), r.vuln_id.as_str()),
            ("CVE-2021-44228", "CVE-2021-44228")
        );
        assert_eq!(r.state, RecordState::Published);
        assert_eq!(r.publisher.as_deref(), Some("apache"));
        assert_eq!(
            r.title.as_deref(),
            Some(
                "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP and other JNDI related endpoints"
            )
        );
        assert!(
            r.description
                .as_deref()
                .unwrap()
                .starts_with("Apache Log4j2 2.0-beta9 through 2.15.0")
        );
        assert_eq!(
            r.published.map(|t| t.to_rfc3339()).as_deref(),
            Some("2021-12-10T00:00:00+00:00")
        );
        assert_eq!(
            r.modified.map(|t| t.to_rfc3339()).as_deref(),
            Some("2025-02-04T14:25:37.215+00:00")
        );
        assert_eq!(r.cwes, vec!["CWE-502", "CWE-400", "CWE-20"]);
        // The CNA gave only an "other" metric; CISA-ADP gave CVSS 3.1 = 10.0.
        assert_eq!(r.cvss.len(), 1);
        let s = &r.cvss[0];
        assert_eq!(
            (s.version, s.base_score, s.severity),
            (CvssVersion::V31, 10.0, Severity::Critical)
        );
        assert_eq!(s.assessor, "CISA-ADP");
        assert_eq!(s.kind, None);

        let affected = cve5_affected(&r);
        assert_eq!(affected.len(), 1);
        let a = affected[0];
        assert_eq!(a.container, "cna");
        assert_eq!(a.vendor.as_deref(), Some("Apache Software Foundation"));
        assert_eq!(a.product.as_deref(), Some("Apache Log4j2"));
        assert_eq!(a.default_status, VersionStatus::Unknown);
        let v = &a.versions[0];
        assert_eq!(v.version, "2.0-beta9");
        assert_eq!(v.status, VersionStatus::Affected);
        assert_eq!(v.less_than.as_deref(), Some("log4j-core*"));
        assert_eq!(v.version_type.as_deref(), Some("custom"));
        assert_eq!(
            v.changes,
            vec![
                ("2.3.1".to_string(), VersionStatus::Unaffected),
                ("2.4".to_string(), VersionStatus::Affected),
                ("2.12.2".to_string(), VersionStatus::Unaffected),
                ("2.13.0".to_string(), VersionStatus::Affected),
                ("2.15.0".to_string(), VersionStatus::Unaffected),
            ]
        );
        // CNA and "CVE Program Container" references, merged by URL.
        let mut urls: Vec<_> = r.references.iter().map(|r| r.url.as_str()).collect();
        let n = urls.len();
        urls.sort_unstable();
        urls.dedup();
        assert_eq!(urls.len(), n);
        assert!(urls.contains(&"https://logging.apache.org/log4j/2.x/security.html"));
    }

    #[test]
    fn linux_git_ranges_default_status_and_cpe_applicability() {
        let r = record_of("cve5_linux_git_ranges_default_status_cpe_applicability.json");
        assert_eq!(r.record_id, "CVE-2025-21631");
        assert_eq!(r.publisher.as_deref(), Some("Linux"));
        let affected = cve5_affected(&r);
        let git = affected[0];
        assert_eq!(git.default_status, VersionStatus::Unaffected);
        assert_eq!(git.versions.len(), 7);
        assert_eq!(
            git.versions[0].version,
            "63a07379fdb6c72450cb05294461c6016b8b7726"
        );
        assert_eq!(
            git.versions[0].less_than.as_deref(),
            Some("f587c1ac68956c4703857d650d9b1cd7bb2ac4d7")
        );
        assert_eq!(git.versions[0].version_type.as_deref(), Some("git"));
        let semver = affected[1];
        assert_eq!(semver.default_status, VersionStatus::Affected);
        assert_eq!(semver.versions[0].version, "6.12");
        assert_eq!(semver.versions[0].less_than, None);
        assert_eq!(semver.versions[1].status, VersionStatus::Unaffected);
        assert_eq!(semver.versions[1].less_than.as_deref(), Some("6.12"));
        assert_eq!(semver.versions[2].version, "5.15.177");
        assert_eq!(
            semver.versions[2].less_than_or_equal.as_deref(),
            Some("5.15.*")
        );
        // cpeApplicability kept as an NVD-style configuration (no matchCriteriaId).
        let configs: Vec<_> = r
            .affected
            .iter()
            .filter_map(|a| match a {
                Affected::Nvd(c) => Some(c),
                _ => None,
            })
            .collect();
        assert_eq!(configs.len(), 1);
        let node = &configs[0].nodes[0];
        assert_eq!(node.operator, BoolOp::Or);
        assert_eq!(node.cpe_match.len(), 7);
        assert_eq!(
            node.cpe_match[0].criteria,
            "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*"
        );
        assert_eq!(
            node.cpe_match[0].version_start_including.as_deref(),
            Some("5.15.168")
        );
        assert_eq!(
            node.cpe_match[0].version_end_excluding.as_deref(),
            Some("5.15.177")
        );
        assert_eq!(node.cpe_match[0].match_criteria_id, None);
    }

    #[test]
    fn cve_5_2_xz_package_names_and_collection_urls() {
        let r = record_of("cve5_5_2_xz_package_name_collection_url.json");
        assert_eq!(r.record_id, "CVE-2024-3094");
        assert_eq!(r.publisher.as_deref(), Some("redhat"));
        let affected = cve5_affected(&r);
        let upstream = affected[0];
        assert_eq!(upstream.vendor, None);
        assert_eq!(upstream.product, None);
        assert_eq!(upstream.package_name.as_deref(), Some("xz"));
        assert_eq!(
            upstream.collection_url.as_deref(),
            Some("https://github.com/tukaani-project/xz")
        );
        assert_eq!(upstream.default_status, VersionStatus::Unaffected);
        let versions: Vec<_> = upstream
            .versions
            .iter()
            .map(|v| (v.version.as_str(), v.status))
            .collect();
        assert_eq!(
            versions,
            vec![
                ("5.6.0", VersionStatus::Affected),
                ("5.6.1", VersionStatus::Affected)
            ]
        );
        let rhel10 = affected[1];
        assert_eq!(rhel10.vendor.as_deref(), Some("Red Hat"));
        assert_eq!(rhel10.cpes, vec!["cpe:/o:redhat:enterprise_linux:10"]);
        assert!(rhel10.versions.is_empty());
        let s = r.cvss.iter().find(|s| s.assessor == "cna:redhat").unwrap();
        assert_eq!((s.version, s.base_score), (CvssVersion::V31, 10.0));
    }

    #[test]
    fn json_lines_ranges_adp_v4_na_and_rejected() {
        let out = lines(&fixture("cve5_lines_ranges_adp_v4_na_rejected.jsonl"));
        assert_eq!(out.len(), 6);
        let records: Vec<&SourceRecord> = out
            .iter()
            .map(|p| match p {
                Parsed::Record(r) => r.as_ref(),
                other => panic!("{other:?}"),
            })
            .collect();

        // XStore: lessThanOrEqual with a change to unaffected, defaultStatus unaffected.
        let xstore = records[0];
        assert_eq!(xstore.record_id, "CVE-2024-33563");
        assert_eq!(
            xstore.title.as_deref(),
            Some("WordPress XStore theme <= 9.3.8 - Broken Access Control vulnerability")
        );
        let a = cve5_affected(xstore)[0];
        assert_eq!(
            (a.vendor.as_deref(), a.product.as_deref()),
            (Some("8theme"), Some("XStore"))
        );
        assert_eq!(a.default_status, VersionStatus::Unaffected);
        assert_eq!(a.versions[0].version, "n/a");
        assert_eq!(a.versions[0].less_than_or_equal.as_deref(), Some("9.3.8"));
        assert_eq!(
            a.versions[0].changes,
            vec![("9.3.9".to_string(), VersionStatus::Unaffected)]
        );
        assert_eq!(xstore.cvss[0].assessor, "cna:Patchstack");
        assert_eq!(xstore.cvss[0].base_score, 7.6);
        assert_eq!(xstore.cwes, vec!["CWE-862"]);

        // Rocket.Chat: CNA CVSS 3.0 and a CISA-ADP affected block with CPEs and CVSS 3.1.
        let rocket = records[1];
        assert_eq!(rocket.record_id, "CVE-2024-42027");
        let scores: Vec<_> = rocket
            .cvss
            .iter()
            .map(|s| (s.assessor.as_str(), s.version, s.base_score))
            .collect();
        assert_eq!(
            scores,
            vec![
                ("cna:hackerone", CvssVersion::V30, 6.7),
                ("CISA-ADP", CvssVersion::V31, 6.7)
            ]
        );
        assert_eq!(rocket.cwes, vec!["CWE-1391"]);
        let affected = cve5_affected(rocket);
        assert_eq!(affected.len(), 2);
        assert_eq!(affected[0].container, "cna");
        let adp = affected[1];
        assert_eq!(adp.container, "CISA-ADP");
        assert_eq!(
            adp.cpes,
            vec!["cpe:2.3:a:rocketchat:rocket.chat:*:*:*:*:*:*:*:*"]
        );
        assert_eq!(adp.versions[0].version, "0");
        assert_eq!(adp.versions[0].less_than.as_deref(), Some("4.5.1"));
        assert_eq!(adp.versions[0].version_type.as_deref(), Some("semver"));
        assert_eq!(rocket.references.len(), 1);
        assert!(rocket.references[0].tags.is_empty());

        // Siemens: CVSS 3.1 with temporal metrics, and CVSS 4.0.
        let siemens = records[2];
        assert_eq!(siemens.record_id, "CVE-2024-41941");
        let scores: Vec<_> = siemens
            .cvss
            .iter()
            .map(|s| (s.version, s.base_score))
            .collect();
        assert_eq!(
            scores,
            vec![(CvssVersion::V31, 4.3), (CvssVersion::V40, 5.3)]
        );
        assert_eq!(
            cve5_affected(siemens)[0].versions[0].less_than.as_deref(),
            Some("V3.0")
        );

        // MITRE: "n/a" vendor and product kept as strings; no CWE id; no datePublished.
        let na = records[3];
        assert_eq!(na.record_id, "CVE-2024-34899");
        let a = cve5_affected(na)[0];
        assert_eq!(
            (a.vendor.as_deref(), a.product.as_deref()),
            (Some("n/a"), Some("n/a"))
        );
        assert!(na.cwes.is_empty());
        assert_eq!(na.published, None);
        assert!(na.modified.is_some());

        // Rejected records (5.1 and 5.0) keep the reason.
        let dup = records[4];
        assert_eq!(dup.record_id, "CVE-2024-7207");
        assert_eq!(
            dup.state,
            RecordState::Rejected {
                reason: Some("Duplicate of CVE-2024-45806.".into())
            }
        );
        assert!(dup.affected.is_empty() && dup.description.is_none());
        let old = records[5];
        assert_eq!(old.record_id, "CVE-2019-25161");
        assert_eq!(
            old.state,
            RecordState::Rejected {
                reason: Some(
                    "This CVE ID has been rejected or withdrawn by its CVE Numbering Authority."
                        .into()
                )
            }
        );
        assert_eq!(old.publisher.as_deref(), Some("Linux"));
    }

    #[test]
    fn json_lines_positions_blank_lines_and_bad_lines() {
        let text =
            String::from_utf8(fixture("cve5_lines_ranges_adp_v4_na_rejected.jsonl")).unwrap();
        let mut it = text.lines();
        let first = it.next().unwrap();
        let second = it.next().unwrap();
        // A version with an unknown status, on line 4.
        let bad = second.replacen(r#""status":"affected""#, r#""status":"vulnerable""#, 1);
        let input = format!("{first}\r\n\n   \n{bad}\n{{\"truncated\n{second}\n\n");
        let out = lines(input.as_bytes());
        assert_eq!(out.len(), 4);
        assert!(matches!(&out[0], Parsed::Record(r) if r.record_id == "CVE-2024-33563"));
        match &out[1] {
            Parsed::Rejected(r) => {
                assert_eq!(r.position, 4);
                assert_eq!(r.record_id.as_deref(), Some("CVE-2024-42027"));
                assert!(
                    r.reason.starts_with("containers.adp[0].affected[0].versions[0].status: unknown variant `vulnerable`"),
                    "{}",
                    r.reason
                );
            }
            other => panic!("{other:?}"),
        }
        match &out[2] {
            Parsed::Rejected(r) => {
                assert_eq!((r.position, r.record_id.as_deref()), (5, None));
                assert!(r.reason.contains("EOF"), "{}", r.reason);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&out[3], Parsed::Record(r) if r.record_id == "CVE-2024-42027"));

        // A pretty-printed single record is not JSON Lines.
        let single = fixture("cve5_log4shell_changes_and_cisa_adp_cvss.json");
        let mut sink = |_: Parsed| panic!("nothing should be yielded");
        assert!(matches!(
            parse_lines(&single, &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        assert_eq!(parse_lines(b"\n\n", &mut sink), Ok(()));
    }

    #[test]
    fn parse_record_gives_precise_reasons() {
        let text =
            String::from_utf8(fixture("cve5_lines_ranges_adp_v4_na_rejected.jsonl")).unwrap();
        let line = text.lines().next().unwrap();
        assert!(parse_record(line).is_ok());
        let e = parse_record(&line.replacen("\"PUBLISHED\"", "\"RESERVED\"", 1)).unwrap_err();
        assert_eq!(
            e,
            "cveMetadata.state 'RESERVED' is neither PUBLISHED nor REJECTED"
        );
        let e =
            parse_record(&line.replacen("\"dataVersion\":\"5.1\"", "\"dataVersion\":\"4.0\"", 1))
                .unwrap_err();
        assert_eq!(e, "dataVersion '4.0' is not 5.x");
        let e = parse_record(&line.replacen("2024-06-09T12:04:01.820Z", "soon", 1)).unwrap_err();
        assert_eq!(e, "cveMetadata.datePublished: 'soon' is not a timestamp");
        let e =
            parse_record(&line.replacen("\"version\":\"n/a\"", "\"version\":5", 1)).unwrap_err();
        assert!(
            e.starts_with(
                "containers.cna.affected[0].versions[0].version: invalid type: integer `5`"
            ),
            "{e}"
        );
        let e = parse_record(&line.replacen("\"cveId\"", "\"id\"", 1)).unwrap_err();
        assert_eq!(e, "cveMetadata: missing field `cveId`");
        // CERT/CC's versionType on the affected entry reaches its versions.
        let moved = line.replacen(r#","versionType":"custom""#, "", 1).replacen(
            r#""product":"XStore","#,
            r#""product":"XStore","versionType":"sha256sum","#,
            1,
        );
        let r = parse_record(&moved).unwrap();
        match &r.affected[0] {
            Affected::Cve5(a) => {
                assert_eq!(a.versions[0].version_type.as_deref(), Some("sha256sum"))
            }
            other => panic!("{other:?}"),
        }
        // A CVSS vector the scorer rejects drops that metric only.
        let r = parse_record(&line.replacen(
            "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:H",
            "CVSS:3.1/AV:N",
            1,
        ))
        .unwrap();
        assert!(r.cvss.is_empty());
        assert_eq!(r.record_id, "CVE-2024-33563");
    }

    #[test]
    fn whole_file_problems_are_parse_errors() {
        let mut sink = |_: Parsed| panic!("nothing should be yielded");
        assert!(matches!(
            parse(b"{\"dataType\":", &mut sink),
            Err(ParseError::Json(_))
        ));
        assert!(matches!(
            parse(b"[1]", &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        assert!(matches!(
            parse(br#"{"dataType":"CVE_SOMETHING"}"#, &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        assert!(matches!(
            parse(br#"{"id":"GHSA-x"}"#, &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        // A CVE record missing its containers is a rejected record, not a bad file.
        let mut out = Vec::new();
        parse(
            br#"{"dataType":"CVE_RECORD","dataVersion":"5.1","cveMetadata":{"cveId":"CVE-2024-0001","state":"PUBLISHED"}}"#,
            &mut |p| out.push(p),
        )
        .unwrap();
        assert_eq!(
            out,
            vec![Parsed::Rejected(Rejection {
                position: 0,
                record_id: Some("CVE-2024-0001".into()),
                reason: "missing field `containers`".into()
            })]
        );
    }
}

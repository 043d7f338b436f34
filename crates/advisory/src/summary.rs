//! One advisory per vulnerability, summarised from every source's record.
//! Pure: the store calls this whenever a record about a vulnerability changes.

use crate::model::{
    Affected, CvssScore, KevEntry, RecordState, Severity, SourceKind, SourceRecord,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What people see first about a vulnerability, drawn from all its records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvisorySummary {
    pub vuln_id: String,
    pub title: String,
    pub description: Option<String>,
    /// Earliest publication any source gives.
    pub published: Option<DateTime<Utc>>,
    /// Latest modification any source gives.
    pub modified: Option<DateTime<Utc>>,
    /// The highest base score any source assessed.
    pub max_cvss: Option<CvssScore>,
    pub severity: Option<Severity>,
    pub kev: Option<KevEntry>,
    /// Rejected when the CVE's authorities (CVE record or NVD) reject it and
    /// no source still publishes it as live.
    pub rejected: bool,
    pub sources: Vec<SourceKind>,
    /// Every other id of the vulnerability across sources.
    pub aliases: Vec<String>,
    /// `(vendor, product)` pairs named anywhere, lower-cased, for search and filters.
    pub products: Vec<(String, String)>,
}

/// Title preference: a human-written title, then the first sentence of a description.
fn title_of(records: &[&SourceRecord]) -> Option<String> {
    let by = |kind: SourceKind| {
        records
            .iter()
            .filter(|r| r.source == kind)
            .find_map(|r| r.title.clone().filter(|t| !t.trim().is_empty()))
    };
    by(SourceKind::Cve5)
        .or_else(|| by(SourceKind::Csaf))
        .or_else(|| by(SourceKind::Kev))
        .or_else(|| by(SourceKind::Osv))
}

fn description_of(records: &[&SourceRecord]) -> Option<String> {
    let order = [
        SourceKind::Cve5,
        SourceKind::Nvd,
        SourceKind::Osv,
        SourceKind::Csaf,
        SourceKind::Kev,
    ];
    order.iter().find_map(|kind| {
        records
            .iter()
            .filter(|r| r.source == *kind)
            .find_map(|r| r.description.clone().filter(|d| !d.trim().is_empty()))
    })
}

/// The first sentence (or first 120 characters) of a description.
fn first_sentence(text: &str) -> String {
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|&(i, c)| c == '.' && text[i + 1..].starts_with(' '))
        .map_or(text.len(), |(i, _)| i + 1);
    let sentence = &text[..end];
    if sentence.chars().count() <= 120 {
        sentence.to_string()
    } else {
        let cut: String = sentence.chars().take(117).collect();
        format!("{}…", cut.trim_end())
    }
}

/// `vendor:product` from a CPE 2.3 formatted string.
fn cpe_vendor_product(cpe: &str) -> Option<(String, String)> {
    let mut parts = cpe.split(':');
    if parts.next()? != "cpe" || parts.next()? != "2.3" {
        return None;
    }
    let _part = parts.next()?;
    let vendor = parts.next()?;
    let product = parts.next()?;
    if vendor == "*" || product == "*" {
        return None;
    }
    Some((vendor.to_lowercase(), product.to_lowercase()))
}

fn products_of(records: &[&SourceRecord]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut push = |v: &str, p: &str| {
        let pair = (v.trim().to_lowercase(), p.trim().to_lowercase());
        if !pair.0.is_empty() && !pair.1.is_empty() && pair.0 != "n/a" && pair.1 != "n/a" {
            out.push(pair);
        }
    };
    for r in records {
        for a in &r.affected {
            match a {
                Affected::Nvd(cfg) => {
                    for m in cfg.nodes.iter().flat_map(|n| &n.cpe_match) {
                        if m.vulnerable
                            && let Some((v, p)) = cpe_vendor_product(&m.criteria)
                        {
                            push(&v, &p);
                        }
                    }
                }
                Affected::Cve5(c) => {
                    if let (Some(v), Some(p)) = (&c.vendor, &c.product) {
                        push(v, p);
                    }
                }
                Affected::Osv(o) => push(&o.ecosystem, &o.name),
                Affected::Csaf(c) => {
                    if let (Some(v), Some(p)) = (&c.vendor, &c.product) {
                        push(v, p);
                    }
                }
                Affected::Kev { vendor, product } => push(vendor, product),
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Summarise the records of one vulnerability. `records` must be non-empty
/// and share `vuln_id`; returns `None` otherwise.
pub fn summarise(records: &[SourceRecord]) -> Option<AdvisorySummary> {
    let first = records.first()?;
    let vuln_id = first.vuln_id.clone();
    let all: Vec<&SourceRecord> = records.iter().filter(|r| r.vuln_id == vuln_id).collect();
    let live: Vec<&SourceRecord> = all
        .iter()
        .copied()
        .filter(|r| r.state == RecordState::Published)
        .collect();
    // Prefer live records for what we show; fall back to all when none are live.
    let shown = if live.is_empty() { &all } else { &live };
    let description = description_of(shown);
    let title = title_of(shown)
        .or_else(|| description.as_deref().map(first_sentence))
        .unwrap_or_else(|| vuln_id.clone());
    let max_cvss = shown
        .iter()
        .flat_map(|r| r.cvss.iter())
        .max_by(|a, b| {
            a.base_score
                .total_cmp(&b.base_score)
                .then(a.version.cmp(&b.version))
        })
        .cloned();
    let authority_rejects = all.iter().any(|r| {
        matches!(r.source, SourceKind::Cve5 | SourceKind::Nvd)
            && matches!(r.state, RecordState::Rejected { .. })
    });
    let authority_live = all.iter().any(|r| {
        matches!(r.source, SourceKind::Cve5 | SourceKind::Nvd) && r.state == RecordState::Published
    });
    let mut sources: Vec<SourceKind> = all.iter().map(|r| r.source).collect();
    sources.sort();
    sources.dedup();
    let mut aliases: Vec<String> = all
        .iter()
        .flat_map(|r| r.aliases.iter().cloned())
        .filter(|a| *a != vuln_id)
        .collect();
    aliases.sort();
    aliases.dedup();
    Some(AdvisorySummary {
        title,
        description,
        published: shown.iter().filter_map(|r| r.published).min(),
        modified: shown
            .iter()
            .filter_map(|r| r.modified.or(r.published))
            .max(),
        severity: max_cvss.as_ref().map(|c| c.severity),
        max_cvss,
        kev: all.iter().find_map(|r| r.kev.clone()),
        rejected: authority_rejects && !authority_live,
        sources,
        aliases,
        products: products_of(&all),
        vuln_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BoolOp, CpeMatch, CvssVersion, NvdConfiguration, NvdNode};

    fn record(source: SourceKind, id: &str) -> SourceRecord {
        SourceRecord {
            source,
            record_id: id.into(),
            vuln_id: "CVE-2024-3400".into(),
            aliases: vec![],
            state: RecordState::Published,
            title: None,
            description: None,
            published: None,
            modified: None,
            publisher: None,
            cvss: vec![],
            cwes: vec![],
            references: vec![],
            affected: vec![],
            remediations: vec![],
            kev: None,
            tlp: None,
        }
    }

    fn score(s: f64, version: CvssVersion) -> CvssScore {
        CvssScore {
            version,
            vector: String::new(),
            base_score: s,
            severity: Severity::from_score(s),
            stated_score: None,
            assessor: "x".into(),
            kind: None,
        }
    }

    #[test]
    fn combines_sources() {
        let mut nvd = record(SourceKind::Nvd, "CVE-2024-3400");
        nvd.description = Some("A command injection in PAN-OS GlobalProtect lets an attacker run code as root. More text.".into());
        nvd.cvss = vec![score(10.0, CvssVersion::V31)];
        nvd.affected = vec![Affected::Nvd(NvdConfiguration {
            operator: None,
            negate: false,
            nodes: vec![NvdNode {
                operator: BoolOp::Or,
                negate: false,
                cpe_match: vec![CpeMatch {
                    vulnerable: true,
                    criteria: "cpe:2.3:o:paloaltonetworks:pan-os:11.1.0:*:*:*:*:*:*:*".into(),
                    match_criteria_id: None,
                    version_start_including: None,
                    version_start_excluding: None,
                    version_end_including: None,
                    version_end_excluding: None,
                }],
            }],
        })];
        let mut osv = record(SourceKind::Osv, "GHSA-x");
        osv.aliases = vec!["GHSA-x".into()];
        osv.cvss = vec![score(9.8, CvssVersion::V40)];
        let s = summarise(&[nvd, osv]);
        let s = s.as_ref();
        assert_eq!(
            s.map(|s| s.title.as_str()),
            Some("A command injection in PAN-OS GlobalProtect lets an attacker run code as root.")
        );
        assert_eq!(
            s.and_then(|s| s.max_cvss.as_ref()).map(|c| c.base_score),
            Some(10.0)
        );
        assert_eq!(s.and_then(|s| s.severity), Some(Severity::Critical));
        assert_eq!(
            s.map(|s| s.sources.clone()),
            Some(vec![SourceKind::Nvd, SourceKind::Osv])
        );
        assert_eq!(
            s.map(|s| s.aliases.clone()),
            Some(vec!["GHSA-x".to_string()])
        );
        assert_eq!(
            s.map(|s| s.products.clone()),
            Some(vec![("paloaltonetworks".to_string(), "pan-os".to_string())])
        );
        assert_eq!(s.map(|s| s.rejected), Some(false));
    }

    #[test]
    fn rejected_only_when_authorities_reject() {
        let mut cve = record(SourceKind::Cve5, "CVE-2024-3400");
        cve.state = RecordState::Rejected {
            reason: Some("duplicate".into()),
        };
        let osv = record(SourceKind::Osv, "GO-1");
        assert_eq!(
            summarise(&[cve.clone(), osv]).map(|s| s.rejected),
            Some(true)
        );
        let nvd = record(SourceKind::Nvd, "CVE-2024-3400");
        assert_eq!(summarise(&[cve, nvd]).map(|s| s.rejected), Some(false));
        assert!(summarise(&[]).is_none());
    }

    #[test]
    fn long_first_sentences_are_cut() {
        let long = "x".repeat(300);
        let t = first_sentence(&long);
        assert_eq!(t.chars().count(), 118);
        assert!(t.ends_with('…'));
        assert_eq!(first_sentence("One. Two."), "One.");
        assert_eq!(
            first_sentence("Version 1.2.3 is bad"),
            "Version 1.2.3 is bad"
        );
    }
}

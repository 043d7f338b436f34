//! What changed between two versions of a source record, in the terms a
//! council's security officer cares about: a new vulnerability, a score
//! raised, added to KEV, a fix published, rejected or withdrawn.

use crate::model::{Affected, CsafStatus, OsvEvent, RecordState, SourceRecord, VersionStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The first record from this source about the vulnerability.
    New,
    AddedToKev,
    ScoreRaised,
    ScoreLowered,
    FixPublished,
    Rejected,
    Withdrawn,
    /// A rejected or withdrawn record is live again.
    Restored,
    /// Anything else that changed (text, references, affected products…).
    Updated,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::New => "new",
            ChangeKind::AddedToKev => "added_to_kev",
            ChangeKind::ScoreRaised => "score_raised",
            ChangeKind::ScoreLowered => "score_lowered",
            ChangeKind::FixPublished => "fix_published",
            ChangeKind::Rejected => "rejected",
            ChangeKind::Withdrawn => "withdrawn",
            ChangeKind::Restored => "restored",
            ChangeKind::Updated => "updated",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        [
            ChangeKind::New,
            ChangeKind::AddedToKev,
            ChangeKind::ScoreRaised,
            ChangeKind::ScoreLowered,
            ChangeKind::FixPublished,
            ChangeKind::Rejected,
            ChangeKind::Withdrawn,
            ChangeKind::Restored,
            ChangeKind::Updated,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One change, with a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub summary: String,
}

fn change(kind: ChangeKind, summary: impl Into<String>) -> Change {
    Change {
        kind,
        summary: summary.into(),
    }
}

/// Fixed versions and clearing statements a record offers, as readable strings.
fn fixes(r: &SourceRecord) -> Vec<String> {
    let mut out = Vec::new();
    for a in &r.affected {
        match a {
            Affected::Osv(o) => {
                for range in &o.ranges {
                    for e in &range.events {
                        if let OsvEvent::Fixed(v) = e {
                            out.push(format!("{} {v}", o.name));
                        }
                    }
                }
            }
            Affected::Csaf(c) if matches!(c.status, CsafStatus::Fixed | CsafStatus::FirstFixed) => {
                out.push(c.name.clone());
            }
            Affected::Cve5(c) => {
                for v in &c.versions {
                    if v.status == VersionStatus::Unaffected {
                        out.push(format!(
                            "{} {}",
                            c.product.as_deref().unwrap_or("?"),
                            v.version
                        ));
                    }
                    for (at, status) in &v.changes {
                        if *status == VersionStatus::Unaffected {
                            out.push(format!("{} {at}", c.product.as_deref().unwrap_or("?")));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for rem in &r.remediations {
        if rem.category == "vendor_fix" {
            out.push(format!(
                "vendor fix: {}",
                rem.details.chars().take(80).collect::<String>()
            ));
        }
    }
    out.sort();
    out.dedup();
    out
}

fn max_score(r: &SourceRecord) -> Option<f64> {
    r.max_cvss().map(|c| c.base_score)
}

/// The changes from `old` (None: never seen) to `new`. Call only when the
/// stored content differs; an identical record has no changes.
pub fn record_changes(old: Option<&SourceRecord>, new: &SourceRecord) -> Vec<Change> {
    let source = new.source.label();
    let Some(old) = old else {
        let mut out = vec![change(
            ChangeKind::New,
            format!("First published by {source}"),
        )];
        if let Some(kev) = &new.kev {
            let due = kev
                .due_date
                .map(|d| format!("; US federal agencies must act by {d}"))
                .unwrap_or_default();
            out.push(change(
                ChangeKind::AddedToKev,
                format!(
                    "Added to CISA's Known Exploited Vulnerabilities catalogue on {}{due}",
                    kev.date_added
                ),
            ));
        }
        match &new.state {
            RecordState::Rejected { reason } => out.push(change(
                ChangeKind::Rejected,
                format!(
                    "Rejected by {source}{}",
                    reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ),
            )),
            RecordState::Withdrawn { .. } => out.push(change(
                ChangeKind::Withdrawn,
                format!("Withdrawn by {source}"),
            )),
            RecordState::Published => {}
        }
        return out;
    };

    let mut out = Vec::new();
    match (&old.state, &new.state) {
        (RecordState::Published, RecordState::Rejected { reason }) => out.push(change(
            ChangeKind::Rejected,
            format!(
                "Rejected by {source}{}",
                reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
        )),
        (RecordState::Published, RecordState::Withdrawn { .. }) => {
            out.push(change(
                ChangeKind::Withdrawn,
                format!("Withdrawn by {source}"),
            ));
        }
        (RecordState::Rejected { .. } | RecordState::Withdrawn { .. }, RecordState::Published) => {
            out.push(change(
                ChangeKind::Restored,
                format!("Published again by {source}"),
            ));
        }
        _ => {}
    }
    match (max_score(old), max_score(new)) {
        (None, Some(n)) => out.push(change(
            ChangeKind::ScoreRaised,
            format!("{source} scored it {n:.1}"),
        )),
        (Some(o), Some(n)) if n > o => {
            out.push(change(
                ChangeKind::ScoreRaised,
                format!("{source} raised the score from {o:.1} to {n:.1}"),
            ));
        }
        (Some(o), Some(n)) if n < o => {
            out.push(change(
                ChangeKind::ScoreLowered,
                format!("{source} lowered the score from {o:.1} to {n:.1}"),
            ));
        }
        _ => {}
    }
    if old.kev.is_none() && new.kev.is_some() {
        out.push(change(
            ChangeKind::AddedToKev,
            "Added to CISA's Known Exploited Vulnerabilities catalogue",
        ));
    }
    let (before, after) = (fixes(old), fixes(new));
    let added: Vec<&String> = after.iter().filter(|f| !before.contains(f)).collect();
    if !added.is_empty() {
        let listed: Vec<&str> = added.iter().take(3).map(|s| s.as_str()).collect();
        let more = if added.len() > 3 {
            format!(" and {} more", added.len() - 3)
        } else {
            String::new()
        };
        out.push(change(
            ChangeKind::FixPublished,
            format!("Fix published: {}{more}", listed.join(", ")),
        ));
    }
    if out.is_empty() {
        let mut what = Vec::new();
        if old.description != new.description || old.title != new.title {
            what.push("description");
        }
        if old.cvss != new.cvss {
            what.push("CVSS details");
        }
        if old.affected != new.affected {
            what.push("affected products");
        }
        if old.references != new.references {
            what.push("references");
        }
        if old.remediations != new.remediations {
            what.push("remediations");
        }
        if old.kev != new.kev {
            what.push("KEV entry");
        }
        if old.cwes != new.cwes {
            what.push("weaknesses");
        }
        let detail = if what.is_empty() {
            "details".to_string()
        } else {
            what.join(", ")
        };
        out.push(change(
            ChangeKind::Updated,
            format!("{source} updated the {detail}"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        CvssScore, CvssVersion, KevEntry, OsvAffected, OsvRange, OsvRangeKind, Severity, SourceKind,
    };
    use chrono::NaiveDate;

    fn base(source: SourceKind) -> SourceRecord {
        SourceRecord {
            source,
            record_id: "CVE-2024-1".into(),
            vuln_id: "CVE-2024-1".into(),
            aliases: vec![],
            state: RecordState::Published,
            title: None,
            description: Some("old".into()),
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

    fn kinds(c: &[Change]) -> Vec<ChangeKind> {
        c.iter().map(|c| c.kind).collect()
    }

    #[test]
    fn new_records_and_kev() {
        let mut kev = base(SourceKind::Kev);
        kev.kev = Some(KevEntry {
            cve_id: "CVE-2024-1".into(),
            vendor_project: "V".into(),
            product: "P".into(),
            vulnerability_name: "n".into(),
            date_added: NaiveDate::from_ymd_opt(2024, 4, 12).unwrap_or_default(),
            short_description: String::new(),
            required_action: String::new(),
            due_date: NaiveDate::from_ymd_opt(2024, 4, 19),
            known_ransomware_campaign_use: "Unknown".into(),
            notes: String::new(),
            cwes: vec![],
        });
        let c = record_changes(None, &kev);
        assert_eq!(kinds(&c), [ChangeKind::New, ChangeKind::AddedToKev]);
        assert!(c[1].summary.contains("2024-04-12") && c[1].summary.contains("2024-04-19"));
    }

    #[test]
    fn scores_fixes_and_states() {
        let old = base(SourceKind::Osv);
        let mut new = old.clone();
        new.cvss = vec![CvssScore {
            version: CvssVersion::V31,
            vector: String::new(),
            base_score: 9.8,
            severity: Severity::Critical,
            stated_score: None,
            assessor: "x".into(),
            kind: None,
        }];
        new.affected = vec![Affected::Osv(OsvAffected {
            ecosystem: "Go".into(),
            name: "example.com/m".into(),
            purl: None,
            ranges: vec![OsvRange {
                kind: OsvRangeKind::Semver,
                repo: None,
                events: vec![
                    OsvEvent::Introduced("0".into()),
                    OsvEvent::Fixed("1.2.3".into()),
                ],
            }],
            versions: vec![],
            cpes: vec![],
            severity: vec![],
        })];
        let c = record_changes(Some(&old), &new);
        assert_eq!(
            kinds(&c),
            [ChangeKind::ScoreRaised, ChangeKind::FixPublished]
        );
        assert_eq!(c[1].summary, "Fix published: example.com/m 1.2.3");

        let mut rejected = new.clone();
        rejected.state = RecordState::Rejected {
            reason: Some("duplicate of CVE-2024-2".into()),
        };
        let c = record_changes(Some(&new), &rejected);
        assert_eq!(kinds(&c), [ChangeKind::Rejected]);
        assert!(c[0].summary.ends_with("duplicate of CVE-2024-2"));
        assert_eq!(
            kinds(&record_changes(Some(&rejected), &new)),
            [ChangeKind::Restored]
        );

        let mut reworded = old.clone();
        reworded.description = Some("new".into());
        let c = record_changes(Some(&old), &reworded);
        assert_eq!(kinds(&c), [ChangeKind::Updated]);
        assert_eq!(c[0].summary, "OSV updated the description");
    }
}

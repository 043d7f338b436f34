//! A WARP advisory as STIX 2.1: a `report` about one `vulnerability` per CVE
//! it names, each vulnerability carrying the CVE as an external reference
//! (`source_name` `cve`), so another WARP's tools can match it against
//! their members' estates.
//!
//! As for incidents, the caller has decided that the advisory may be
//! exported and at which label; this module only says it in STIX.

use crate::id::derived_id;
use crate::incident::{WarpIdentity, warp_identity_id};
use crate::model::{
    Bundle, Common, ExternalReference, Identity, Report, StixObject, Vulnerability,
};
use crate::timestamp::Timestamp;
use crate::tlp;
use chrono::{DateTime, Utc};
use openwarp_core::TlpLabel;
use std::collections::BTreeMap;

/// What to export of one published WARP advisory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryExport {
    /// A key that never changes for this advisory, e.g. its number.
    pub key: String,
    pub title: String,
    /// What happened and what to do, as members read it.
    pub description: String,
    pub created: DateTime<Utc>,
    /// When anything exported last changed.
    pub modified: DateTime<Utc>,
    pub published: DateTime<Utc>,
    pub tlp: TlpLabel,
    pub warp: WarpIdentity,
    /// CVE ids, e.g. `CVE-2024-21762`; duplicates are exported once.
    pub cves: Vec<String>,
    /// Further reading: (title, `https://` address).
    pub links: Vec<(String, String)>,
}

impl AdvisoryExport {
    fn id(&self, object_type: &str, parts: &[&str]) -> String {
        let mut all = vec![self.warp.key.as_str(), "advisory", self.key.as_str()];
        all.extend_from_slice(parts);
        derived_id(object_type, &all)
    }

    /// The id of the report this export contains.
    pub fn report_id(&self) -> String {
        self.id("report", &[])
    }
}

/// The WARP's identity object, as in every export (TLP:CLEAR).
pub fn warp_identity_object(warp: &WarpIdentity) -> StixObject {
    StixObject::Identity(Identity {
        common: Common {
            object_marking_refs: vec![tlp::marking_definition_id(TlpLabel::Clear).to_owned()],
            ..Common::new(
                warp_identity_id(&warp.key),
                Timestamp(warp.created),
                Timestamp(warp.modified),
            )
        },
        name: warp.name.clone(),
        description: Some("A Warning, Advice and Reporting Point (WARP).".to_owned()),
        roles: Vec::new(),
        identity_class: Some("organization".to_owned()),
        sectors: Vec::new(),
        contact_information: None,
    })
}

/// The bundle for one advisory: the marking definitions it uses, the WARP's
/// identity, one vulnerability per CVE and the report (`report_types`
/// `vulnerability`, or `threat-report` when it names no CVE) referring to them. The report carries the CVEs and the
/// links as external references too. Every object but the markings and the
/// WARP carries the advisory's TLP marking and the WARP as author. Built
/// from the same input, the bundle is the same, ids included.
pub fn advisory_bundle(input: &AdvisoryExport) -> Bundle {
    let created = Timestamp(input.created);
    let modified = Timestamp(input.modified);
    let marking = tlp::marking_definition_id(input.tlp).to_owned();
    let warp_id = warp_identity_id(&input.warp.key);
    let common = |id: String| Common {
        created_by_ref: Some(warp_id.clone()),
        object_marking_refs: vec![marking.clone()],
        ..Common::new(id, created, modified)
    };

    let mut objects = Vec::new();
    if input.tlp != TlpLabel::Clear {
        objects.push(StixObject::MarkingDefinition(tlp::marking_definition(
            TlpLabel::Clear,
        )));
    }
    objects.push(StixObject::MarkingDefinition(tlp::marking_definition(
        input.tlp,
    )));
    objects.push(warp_identity_object(&input.warp));

    let mut cves = BTreeMap::new();
    for cve in &input.cves {
        let cve = cve.trim().to_ascii_uppercase();
        if !cve.is_empty() {
            cves.entry(cve.clone())
                .or_insert_with(|| input.id("vulnerability", &[&cve]));
        }
    }
    for (cve, id) in &cves {
        objects.push(StixObject::Vulnerability(Vulnerability {
            common: Common {
                external_references: vec![ExternalReference::cve(cve)],
                ..common(id.clone())
            },
            name: cve.clone(),
            description: None,
        }));
    }

    let mut references: Vec<ExternalReference> =
        cves.keys().map(|c| ExternalReference::cve(c)).collect();
    for (title, url) in &input.links {
        references.push(ExternalReference {
            source_name: title.clone(),
            description: None,
            url: Some(url.clone()),
            external_id: None,
            hashes: BTreeMap::new(),
        });
    }
    // A report must refer to at least one object: with no CVE, the WARP.
    let object_refs = if cves.is_empty() {
        vec![warp_id.clone()]
    } else {
        cves.values().cloned().collect()
    };
    objects.push(StixObject::Report(Report {
        common: Common {
            external_references: references,
            ..common(input.report_id())
        },
        name: input.title.clone(),
        description: Some(input.description.clone()).filter(|d| !d.trim().is_empty()),
        // About named vulnerabilities, or a warning of another kind
        // (phishing, a campaign) with none.
        report_types: vec![if cves.is_empty() {
            "threat-report".to_owned()
        } else {
            "vulnerability".to_owned()
        }],
        published: Timestamp(input.published),
        object_refs,
    }));

    Bundle {
        id: input.id("bundle", &[]),
        objects,
    }
}

/// The CVE ids an object names in its external references (`source_name`
/// `cve`), upper-cased, for matching what a partner sends against our
/// members' exposures.
pub fn cve_ids(object: &StixObject) -> Vec<String> {
    let mut out: Vec<String> = object
        .common()
        .map(|c| {
            c.external_references
                .iter()
                .filter(|r| r.source_name.eq_ignore_ascii_case("cve"))
                .filter_map(|r| r.external_id.as_deref())
                .map(|id| id.trim().to_ascii_uppercase())
                .filter(|id| id.starts_with("CVE-"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn export(tlp: TlpLabel, cves: &[&str]) -> AdvisoryExport {
        AdvisoryExport {
            key: "12".into(),
            title: "FortiOS SSL-VPN flaw exploited".into(),
            description: "Upgrade FortiOS.".into(),
            created: Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
            modified: Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap(),
            published: Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap(),
            tlp,
            warp: WarpIdentity {
                key: "warp.example".into(),
                name: "SEGWARP".into(),
                created: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
                modified: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            },
            cves: cves.iter().map(|c| c.to_string()).collect(),
            links: vec![(
                "Vendor advisory".into(),
                "https://fortiguard.example/psirt".into(),
            )],
        }
    }

    #[test]
    fn one_vulnerability_per_cve_referred_to_by_the_report() {
        let b = advisory_bundle(&export(
            TlpLabel::Green,
            &["CVE-2024-21762", "cve-2024-21762", "CVE-2024-3400"],
        ));
        let vulns: Vec<_> = b
            .objects
            .iter()
            .filter(|o| o.object_type() == "vulnerability")
            .collect();
        assert_eq!(vulns.len(), 2);
        assert_eq!(cve_ids(vulns[0]), ["CVE-2024-21762"]);
        let report = b
            .objects
            .iter()
            .find_map(|o| match o {
                StixObject::Report(r) => Some(r),
                _ => None,
            })
            .unwrap();
        assert_eq!(report.object_refs.len(), 2);
        for v in &vulns {
            assert!(report.object_refs.contains(&v.id().unwrap().to_owned()));
        }
        assert_eq!(
            cve_ids(&StixObject::Report(report.clone())),
            ["CVE-2024-21762", "CVE-2024-3400"]
        );
    }

    #[test]
    fn the_same_advisory_gives_the_same_ids_and_no_cve_still_refers_to_something() {
        assert_eq!(
            advisory_bundle(&export(TlpLabel::Clear, &["CVE-2024-3400"])),
            advisory_bundle(&export(TlpLabel::Clear, &["CVE-2024-3400"]))
        );
        let b = advisory_bundle(&export(TlpLabel::Clear, &[]));
        let report = b.objects.iter().find(|o| o.object_type() == "report");
        let StixObject::Report(r) = report.unwrap() else {
            unreachable!()
        };
        assert_eq!(r.object_refs, [warp_identity_id("warp.example")]);
        // CLEAR needs only its own marking definition.
        assert_eq!(
            b.objects
                .iter()
                .filter(|o| o.object_type() == "marking-definition")
                .count(),
            1
        );
    }
}

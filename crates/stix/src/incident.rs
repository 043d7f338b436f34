//! An incident report as a STIX 2.1 bundle.
//!
//! What goes in is already decided: the caller has applied the sharing rules
//! and chosen the edition (the full report, or the version the reporter
//! authorised for sharing), the attribution (the council's name or an
//! anonymous description) and the indicators. This module only says it in
//! STIX.

use crate::id::derived_id;
use crate::model::{Bundle, Common, Identity, Incident, Indicator, Note, Relationship, StixObject};
use crate::pattern::IndicatorKind;
use crate::timestamp::Timestamp;
use crate::tlp;
use chrono::{DateTime, Utc};
use openwarp_core::TlpLabel;
use std::collections::BTreeSet;

/// Which version of an incident is exported. The two get different STIX ids:
/// STIX reads the same id with a later `modified` as a new version of the same
/// object, and a sanitised report is not a revision of the full one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Edition {
    /// Everything the reporting organisation and the WARP's operators see.
    Full,
    /// The version the reporter authorised for sharing with other members.
    Sanitised,
}

impl Edition {
    pub fn as_str(self) -> &'static str {
        match self {
            Edition::Full => "full",
            Edition::Sanitised => "sanitised",
        }
    }
}

/// The WARP exporting the incident: `created_by_ref` of everything it writes.
///
/// Its identity object keeps one id across all exports (derived from `key`),
/// so it is a single object with versions: bump `modified` when the name
/// changes. It is marked TLP:CLEAR whatever the incident's label, because a
/// WARP's name is public and the same object travels in every bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarpIdentity {
    /// A stable key for this WARP that never changes, e.g. its domain name.
    pub key: String,
    pub name: String,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// What to export of one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentExport {
    /// Our incident's public id, e.g. `INC-7Q2XK`. With the WARP's key and the
    /// edition it names every object of the export.
    pub key: String,
    pub edition: Edition,
    pub name: String,
    /// Already sanitised where the edition requires it; empty for none.
    pub description: String,
    pub created: DateTime<Utc>,
    /// When anything exported last changed (including the TLP label).
    pub modified: DateTime<Utc>,
    pub tlp: TlpLabel,
    pub warp: WarpIdentity,
    /// The reporter as recipients may see it: the council's name, or an
    /// anonymous description such as "a district council in the South East".
    /// Its identity object is this incident's own, so anonymous reports by one
    /// council cannot be linked through it.
    pub reporter: String,
    /// Duplicates (same kind and value) are exported once.
    pub indicators: Vec<(IndicatorKind, String)>,
    /// Lessons learnt, exported as a note on the incident.
    pub lessons_learnt: Option<String>,
    /// The incident's category (`ransomware`, `supplier-compromise`, …) as a
    /// label on the incident.
    pub category: Option<String>,
}

impl IncidentExport {
    /// The id of an object of this export: `parts` name it within the export.
    fn id(&self, object_type: &str, parts: &[&str]) -> String {
        let mut all = vec![
            self.warp.key.as_str(),
            self.key.as_str(),
            self.edition.as_str(),
        ];
        all.extend_from_slice(parts);
        derived_id(object_type, &all)
    }

    /// The id of the incident object this export contains.
    pub fn incident_id(&self) -> String {
        self.id("incident", &[])
    }
}

/// The id of the WARP's identity object, the same in every export.
pub fn warp_identity_id(warp_key: &str) -> String {
    derived_id("identity", &["warp", warp_key])
}

/// The sector every reporter belongs to (STIX `industry-sector-ov`).
const REPORTER_SECTOR: &str = "government-local";

/// The STIX bundle for one incident: its TLP 2.0 marking definition (and
/// TLP:CLEAR's, for the WARP), the WARP and the reporter as identities, the
/// incident (`related-to` the reporter: STIX 2.1 defines no relationship from
/// an incident to its victim), one indicator per distinct indicator (each
/// `indicates` the incident) and the lessons learnt as a note on the incident.
///
/// Every object but the marking definitions and the WARP's identity carries
/// the incident's TLP marking and the WARP as `created_by_ref`. Built from the
/// same input, the bundle is the same, ids included.
pub fn incident_bundle(input: &IncidentExport) -> Bundle {
    let created = Timestamp(input.created);
    let modified = Timestamp(input.modified);
    let marking = tlp::marking_definition_id(input.tlp).to_owned();
    let warp_id = warp_identity_id(&input.warp.key);
    let incident_id = input.incident_id();

    let common = |id: String| Common {
        created_by_ref: Some(warp_id.clone()),
        object_marking_refs: vec![marking.clone()],
        ..Common::new(id, created, modified)
    };
    let relationship =
        |relationship_type: &str, source: &str, target: &str, description: Option<&str>| {
            StixObject::Relationship(Relationship {
                common: common(input.id("relationship", &[source, relationship_type, target])),
                relationship_type: relationship_type.to_owned(),
                description: description.map(str::to_owned),
                source_ref: source.to_owned(),
                target_ref: target.to_owned(),
                start_time: None,
                stop_time: None,
            })
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

    objects.push(StixObject::Identity(Identity {
        common: Common {
            object_marking_refs: vec![tlp::marking_definition_id(TlpLabel::Clear).to_owned()],
            ..Common::new(
                warp_id.clone(),
                Timestamp(input.warp.created),
                Timestamp(input.warp.modified),
            )
        },
        name: input.warp.name.clone(),
        description: Some("A Warning, Advice and Reporting Point (WARP).".to_owned()),
        roles: Vec::new(),
        identity_class: Some("organization".to_owned()),
        sectors: Vec::new(),
        contact_information: None,
    }));

    let reporter_id = input.id("identity", &["reporter"]);
    objects.push(StixObject::Identity(Identity {
        common: common(reporter_id.clone()),
        name: input.reporter.clone(),
        description: None,
        roles: Vec::new(),
        identity_class: Some("organization".to_owned()),
        sectors: vec![REPORTER_SECTOR.to_owned()],
        contact_information: None,
    }));

    objects.push(StixObject::Incident(Incident {
        common: Common {
            labels: input
                .category
                .iter()
                .filter(|c| !c.trim().is_empty())
                .cloned()
                .collect(),
            ..common(incident_id.clone())
        },
        name: input.name.clone(),
        description: Some(input.description.clone()).filter(|d| !d.trim().is_empty()),
        kill_chain_phases: Vec::new(),
    }));
    objects.push(relationship(
        "related-to",
        &incident_id,
        &reporter_id,
        Some("Reported by"),
    ));

    let mut seen = BTreeSet::new();
    for (kind, value) in &input.indicators {
        if !seen.insert((*kind, value.as_str())) {
            continue;
        }
        let indicator_id = input.id("indicator", &[kind.as_str(), value]);
        objects.push(StixObject::Indicator(Indicator {
            common: common(indicator_id.clone()),
            name: Some(format!("{} {value}", kind.describe())),
            description: None,
            indicator_types: vec!["malicious-activity".to_owned()],
            pattern: kind.pattern(value),
            pattern_type: "stix".to_owned(),
            pattern_version: Some("2.1".to_owned()),
            valid_from: created,
            valid_until: None,
            kill_chain_phases: Vec::new(),
        }));
        objects.push(relationship("indicates", &indicator_id, &incident_id, None));
    }

    if let Some(lessons) = input
        .lessons_learnt
        .as_deref()
        .filter(|l| !l.trim().is_empty())
    {
        objects.push(StixObject::Note(Note {
            common: common(input.id("note", &["lessons-learnt"])),
            summary: Some("Lessons learnt".to_owned()),
            content: lessons.to_owned(),
            authors: Vec::new(),
            object_refs: vec![incident_id.clone()],
        }));
    }

    Bundle {
        id: input.id("bundle", &[]),
        objects,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn export(tlp: TlpLabel) -> IncidentExport {
        IncidentExport {
            key: "INC-7Q2XK".to_owned(),
            edition: Edition::Full,
            name: "Supplier compromise: hosted payroll".to_owned(),
            description: "Payroll provider's remote access was abused.".to_owned(),
            created: Utc.with_ymd_and_hms(2024, 3, 1, 9, 30, 0).unwrap(),
            modified: Utc.with_ymd_and_hms(2024, 3, 2, 14, 0, 0).unwrap(),
            tlp,
            warp: WarpIdentity {
                key: "warp.example.gov.uk".to_owned(),
                name: "South East WARP".to_owned(),
                created: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
                modified: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
            },
            reporter: "a district council in the South East".to_owned(),
            indicators: vec![
                (IndicatorKind::Ipv4, "203.0.113.7".to_owned()),
                (IndicatorKind::Url, "https://evil.example/it's".to_owned()),
                (IndicatorKind::Ipv4, "203.0.113.7".to_owned()),
            ],
            lessons_learnt: Some("Keep supplier access behind MFA.".to_owned()),
            category: Some("supplier-compromise".to_owned()),
        }
    }

    fn ids(b: &Bundle) -> Vec<String> {
        b.objects
            .iter()
            .filter_map(|o| o.id().map(str::to_owned))
            .collect()
    }

    #[test]
    fn the_same_incident_gives_the_same_ids() {
        let a = incident_bundle(&export(TlpLabel::Amber));
        let b = incident_bundle(&export(TlpLabel::Amber));
        assert_eq!(a, b);
        assert_eq!(a.id, b.id);
    }

    #[test]
    fn another_incident_warp_or_edition_gives_other_ids() {
        let base = ids(&incident_bundle(&export(TlpLabel::Amber)));
        let mut other = export(TlpLabel::Amber);
        other.key = "INC-9ZZZZ".to_owned();
        let mut sanitised = export(TlpLabel::Amber);
        sanitised.edition = Edition::Sanitised;
        let mut elsewhere = export(TlpLabel::Amber);
        elsewhere.warp.key = "other-warp.example".to_owned();
        for changed in [other, sanitised, elsewhere] {
            let changed = ids(&incident_bundle(&changed));
            let shared: Vec<_> = changed
                .iter()
                .filter(|id| base.contains(id))
                .filter(|id| !id.starts_with("marking-definition--"))
                .filter(|id| **id != warp_identity_id("warp.example.gov.uk"))
                .collect();
            assert!(shared.is_empty(), "{shared:?}");
        }
    }

    #[test]
    fn ids_are_unique_within_a_bundle_and_duplicates_are_exported_once() {
        let b = incident_bundle(&export(TlpLabel::Green));
        let all = ids(&b);
        let mut unique = all.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
        let indicators = b
            .objects
            .iter()
            .filter(|o| o.object_type() == "indicator")
            .count();
        assert_eq!(indicators, 2);
    }

    #[test]
    fn every_object_carries_the_incidents_marking_but_the_warp_is_clear() {
        for tlp in TlpLabel::ALL {
            let b = incident_bundle(&export(tlp));
            let warp = warp_identity_id("warp.example.gov.uk");
            let marking = tlp::marking_definition_id(tlp);
            assert!(b.objects.iter().any(|o| o.id() == Some(marking)));
            for o in &b.objects {
                let Some(common) = o.common() else { continue };
                if common.id == warp {
                    assert_eq!(
                        common.object_marking_refs,
                        [tlp::marking_definition_id(TlpLabel::Clear)]
                    );
                    assert_eq!(common.created_by_ref, None);
                } else {
                    assert_eq!(common.object_marking_refs, [marking], "{}", common.id);
                    assert_eq!(common.created_by_ref.as_deref(), Some(warp.as_str()));
                }
            }
            // Exactly the markings referenced are defined, each once.
            let markings: Vec<_> = b
                .objects
                .iter()
                .filter(|o| o.object_type() == "marking-definition")
                .collect();
            assert_eq!(markings.len(), if tlp == TlpLabel::Clear { 1 } else { 2 });
        }
    }

    #[test]
    fn indicators_indicate_the_incident_and_the_note_refers_to_it() {
        let input = export(TlpLabel::Red);
        let b = incident_bundle(&input);
        let incident = input.incident_id();
        let indicators: Vec<_> = b
            .objects
            .iter()
            .filter_map(|o| match o {
                StixObject::Indicator(i) => Some(i),
                _ => None,
            })
            .collect();
        assert_eq!(
            indicators[1].pattern,
            r"[url:value = 'https://evil.example/it\'s']"
        );
        for i in &indicators {
            assert!(b.objects.iter().any(|o| matches!(o, StixObject::Relationship(r)
                if r.relationship_type == "indicates" && r.source_ref == i.common.id && r.target_ref == incident)));
        }
        let note = b.objects.iter().find_map(|o| match o {
            StixObject::Note(n) => Some(n),
            _ => None,
        });
        assert_eq!(
            note.map(|n| n.object_refs.clone()),
            Some(vec![incident.clone()])
        );
        let StixObject::Incident(i) = &b
            .objects
            .iter()
            .find(|o| o.object_type() == "incident")
            .unwrap()
        else {
            unreachable!()
        };
        assert_eq!(i.common.labels, ["supplier-compromise"]);
    }

    #[test]
    fn empty_optional_text_is_left_out() {
        let mut input = export(TlpLabel::Green);
        input.lessons_learnt = Some("  ".to_owned());
        input.category = None;
        input.description = String::new();
        let b = incident_bundle(&input);
        assert!(!b.objects.iter().any(|o| o.object_type() == "note"));
        let json = crate::to_json(&b);
        assert!(!json.contains("\"description\": \"\""), "{json}");
        assert!(!json.contains("\"labels\""), "{json}");
    }

    #[test]
    fn the_bundle_round_trips_through_json() {
        let b = incident_bundle(&export(TlpLabel::AmberStrict));
        let json = crate::to_json(&b);
        assert_eq!(serde_json::from_str::<Bundle>(&json).unwrap(), b);
    }
}

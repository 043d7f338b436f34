//! Our bundles against the official OASIS STIX 2.1 JSON schemas, and the
//! OASIS worked examples through our reader.
//!
//! The schemas and examples live in the shared data folder beside the
//! repository (`../shared/data/stix`). Without it the tests skip with a
//! message, except under `CI=true`, where a missing folder is a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: failing loudly is the point

use chrono::{TimeZone, Utc};
use openwarp_core::TlpLabel;
use openwarp_stix::testing::{Schemas, errors, json_files, read_json, stix_data};
use openwarp_stix::{
    Bundle, Common, Edition, ExternalReference, IncidentExport, IndicatorKind, Report, StixObject,
    Timestamp, Vulnerability, WarpIdentity, derived_id, incident_bundle, read_bundle, tlp, to_json,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Checks a bundle against bundle.json and each object against its own
/// schema, and that it reads back unchanged.
fn assert_valid(schemas: &Schemas, what: &str, bundle: &Bundle) {
    let json = to_json(bundle);
    let value: Value = serde_json::from_str(&json).unwrap();
    let errs = schemas.check_bundle(&value);
    assert!(errs.is_empty(), "{what}: {errs:#?}\n{json}");
    assert_eq!(
        &serde_json::from_str::<Bundle>(&json).unwrap(),
        bundle,
        "{what}: round trip"
    );
}

fn every_kind_of_indicator() -> Vec<(IndicatorKind, String)> {
    let values = [
        (IndicatorKind::Ipv4, "203.0.113.7"),
        (IndicatorKind::Ipv6, "2001:db8::7"),
        (IndicatorKind::Domain, "payroll-login.example"),
        (
            IndicatorKind::Url,
            r"https://payroll-login.example/it's\here?x='1'",
        ),
        (IndicatorKind::Email, "o'brien@payroll-login.example"),
        (IndicatorKind::Md5, "d41d8cd98f00b204e9800998ecf8427e"),
        (
            IndicatorKind::Sha1,
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
        (
            IndicatorKind::Sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
    ];
    assert_eq!(values.len(), IndicatorKind::ALL.len());
    values.into_iter().map(|(k, v)| (k, v.to_owned())).collect()
}

fn export(tlp: TlpLabel, lessons: bool) -> IncidentExport {
    IncidentExport {
        key: "INC-7Q2XK".to_owned(),
        edition: Edition::Sanitised,
        name: "Supplier compromise: hosted payroll service".to_owned(),
        description:
            "Remote access at a shared payroll supplier was abused;\nthree councils affected."
                .to_owned(),
        created: Utc.with_ymd_and_hms(2024, 3, 1, 9, 30, 0).unwrap(),
        modified: Utc.timestamp_millis_opt(1_709_391_600_123).unwrap(),
        tlp,
        warp: WarpIdentity {
            key: "warp.example.gov.uk".to_owned(),
            name: "South East WARP".to_owned(),
            created: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
            modified: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
        },
        reporter: "a district council in the South East".to_owned(),
        indicators: every_kind_of_indicator(),
        lessons_learnt: lessons.then(|| "Put supplier remote access behind MFA.".to_owned()),
        category: Some("supplier-compromise".to_owned()),
    }
}

#[test]
fn incident_bundles_validate_against_the_stix_2_1_schemas() {
    let Some(stix) = stix_data() else { return };
    let schemas = Schemas::load(&stix);
    for tlp in TlpLabel::ALL {
        for lessons in [false, true] {
            let bundle = incident_bundle(&export(tlp, lessons));
            let types: Vec<_> = bundle.objects.iter().map(StixObject::object_type).collect();
            assert_eq!(types.contains(&"note"), lessons);
            assert_eq!(types.iter().filter(|t| **t == "indicator").count(), 8);
            assert_valid(&schemas, &format!("{tlp} lessons={lessons}"), &bundle);
        }
    }
}

#[test]
fn advisory_objects_validate_against_the_stix_2_1_schemas() {
    let Some(stix) = stix_data() else { return };
    let schemas = Schemas::load(&stix);
    let t = Timestamp(Utc.with_ymd_and_hms(2024, 4, 12, 8, 0, 0).unwrap());
    let warp = openwarp_stix::warp_identity_id("warp.example.gov.uk");
    let marked = |id: String| Common {
        created_by_ref: Some(warp.clone()),
        object_marking_refs: vec![tlp::marking_definition_id(TlpLabel::Green).to_owned()],
        ..Common::new(id, t, t)
    };
    let vulnerability_id = derived_id("vulnerability", &["CVE-2024-3400"]);
    let bundle = Bundle {
        id: derived_id("bundle", &["advisory", "WA-2024-001"]),
        objects: vec![
            StixObject::MarkingDefinition(tlp::marking_definition(TlpLabel::Green)),
            StixObject::Vulnerability(Vulnerability {
                common: Common {
                    external_references: vec![ExternalReference::cve("CVE-2024-3400")],
                    ..marked(vulnerability_id.clone())
                },
                name: "CVE-2024-3400".to_owned(),
                description: Some("Command injection in PAN-OS GlobalProtect.".to_owned()),
            }),
            StixObject::Report(Report {
                common: marked(derived_id("report", &["advisory", "WA-2024-001"])),
                name: "WARP advisory WA-2024-001: PAN-OS GlobalProtect".to_owned(),
                description: None,
                report_types: vec!["vulnerability".to_owned()],
                published: t,
                object_refs: vec![vulnerability_id],
            }),
        ],
    };
    assert_valid(&schemas, "advisory", &bundle);
}

// Federation (issue 9)
#[test]
fn warp_advisory_bundles_validate_against_the_stix_2_1_schemas() {
    let Some(stix) = stix_data() else { return };
    let schemas = Schemas::load(&stix);
    for tlp in [TlpLabel::Clear, TlpLabel::Green, TlpLabel::Amber] {
        for cves in [
            vec![],
            vec!["CVE-2024-21762".to_owned(), "CVE-2024-3400".to_owned()],
        ] {
            let bundle = openwarp_stix::advisory_bundle(&openwarp_stix::AdvisoryExport {
                key: "7".to_owned(),
                title: "FortiOS SSL-VPN flaw exploited in UK councils".to_owned(),
                description: "Upgrade FortiOS to 7.4.3 today.".to_owned(),
                created: Utc.with_ymd_and_hms(2024, 3, 1, 9, 30, 0).unwrap(),
                modified: Utc.timestamp_millis_opt(1_709_391_600_123).unwrap(),
                published: Utc.timestamp_millis_opt(1_709_391_600_123).unwrap(),
                tlp,
                warp: export(tlp, false).warp,
                cves: cves.clone(),
                links: vec![(
                    "Fortinet PSIRT".to_owned(),
                    "https://www.fortiguard.com/psirt/FG-IR-24-015".to_owned(),
                )],
            });
            assert_valid(&schemas, &format!("advisory {tlp} {cves:?}"), &bundle);
        }
    }
}
// End of federation (issue 9)

#[test]
fn the_validator_is_not_vacuous() {
    let Some(stix) = stix_data() else { return };
    let schemas = Schemas::load(&stix);
    let good: Value =
        serde_json::from_str(&to_json(&incident_bundle(&export(TlpLabel::Amber, true)))).unwrap();
    let incident_index = good["objects"]
        .as_array()
        .unwrap()
        .iter()
        .position(|o| o["type"] == "incident")
        .unwrap();
    let indicator = good["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["type"] == "indicator")
        .unwrap();
    let indicator_schema = schemas.validator("sdos/indicator.json");
    assert!(errors(&indicator_schema, indicator).is_empty());

    // A timestamp without milliseconds, an id that is not type--UUID, a
    // missing pattern: each is refused.
    let mut no_millis = indicator.clone();
    no_millis["created"] = json!("2024-03-01T09:30:00Z");
    assert!(!errors(&indicator_schema, &no_millis).is_empty());
    let mut no_pattern = indicator.clone();
    no_pattern.as_object_mut().unwrap().remove("pattern");
    assert!(!errors(&indicator_schema, &no_pattern).is_empty());
    let mut bad_id = good.clone();
    bad_id["objects"][incident_index]["id"] = json!("incident--INC-7Q2XK");
    assert!(
        !errors(
            &schemas.validator("sdos/incident.json"),
            &bad_id["objects"][incident_index]
        )
        .is_empty()
    );
    assert!(!errors(&schemas.patched_bundle_validator(), &bad_id).is_empty());
    let mut bad_indicator = good.clone();
    let indicator_index = good["objects"]
        .as_array()
        .unwrap()
        .iter()
        .position(|o| o["type"] == "indicator")
        .unwrap();
    bad_indicator["objects"][indicator_index]["valid_from"] = json!("yesterday");
    assert!(!errors(&schemas.patched_bundle_validator(), &bad_indicator).is_empty());
    // A TLP 2.0 marking with a TLP 1.0 definition_type matches neither form.
    let mut marking = serde_json::to_value(StixObject::MarkingDefinition(tlp::marking_definition(
        TlpLabel::Red,
    )))
    .unwrap();
    assert!(
        errors(
            &schemas.validator("common/marking-definition.json"),
            &marking
        )
        .is_empty()
    );
    marking["definition_type"] = json!("tlp");
    assert!(
        !errors(
            &schemas.validator("common/marking-definition.json"),
            &marking
        )
        .is_empty()
    );
}

#[test]
fn the_oasis_examples_read_with_our_types() {
    let Some(stix) = stix_data() else { return };
    let dir = stix.join("oasis-cti-documentation-examples");
    let mut files = json_files(&dir);
    assert!(files.len() >= 10, "{} examples", files.len());
    // The schema repository's example bundles too (one of its files there is
    // a lone campaign, not a bundle).
    files.extend(
        json_files(&stix.join("oasis-cti-stix2-json-schemas/examples"))
            .into_iter()
            .filter(|p| read_json(p)["type"] == "bundle"),
    );
    let mut typed = BTreeMap::<String, usize>::new();
    let mut other = BTreeMap::<String, usize>::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let bundle =
            serde_json::from_str::<Bundle>(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let read = read_bundle(&text).unwrap();
        assert!(read.rejected.is_empty(), "{name}: {:#?}", read.rejected);
        assert_eq!(read.bundle, bundle);
        let original: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            original["objects"].as_array().unwrap().len(),
            bundle.objects.len(),
            "{name}"
        );
        for o in &bundle.objects {
            let counts = if matches!(o, StixObject::Other(_)) {
                &mut other
            } else {
                &mut typed
            };
            *counts.entry(o.object_type().to_owned()).or_default() += 1;
        }
        // Written back, the bundle says what it said: every property, known
        // or not, and every object type.
        let rewritten = serde_json::to_value(&bundle).unwrap();
        assert_eq!(
            normalise_times(rewritten),
            normalise_times(original),
            "{name}"
        );
    }
    eprintln!("typed: {typed:?}\nkept verbatim: {other:?}");
    for t in [
        "identity",
        "indicator",
        "relationship",
        "report",
        "marking-definition",
    ] {
        assert!(typed.contains_key(t), "no {t} among {typed:?}");
    }
    assert!(
        other.contains_key("threat-actor") && other.contains_key("malware"),
        "{other:?}"
    );

    // The TLP 1.0 markings of the marking example are recognised for what they say.
    let text = std::fs::read_to_string(dir.join("using-marking-definitions.json")).unwrap();
    let bundle: Bundle = serde_json::from_str(&text).unwrap();
    let labels: Vec<_> = bundle
        .objects
        .iter()
        .filter_map(|o| o.common())
        .flat_map(|c| c.object_marking_refs.iter())
        .filter_map(|id| tlp::label_for_marking_id(id))
        .collect();
    assert!(
        !labels.is_empty(),
        "no TLP markings recognised in using-marking-definitions.json"
    );
}

/// Timestamps as instants, so `…48Z` and `…48.000Z` compare equal: we write
/// the millisecond STIX asks for even where a producer left it out.
fn normalise_times(v: Value) -> Value {
    match v {
        Value::String(s) => match chrono::DateTime::parse_from_rfc3339(&s) {
            Ok(t) => Value::String(Timestamp(t.with_timezone(&Utc)).to_stix_string()),
            Err(_) => Value::String(s),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(normalise_times).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, normalise_times(v)))
                .collect(),
        ),
        other => other,
    }
}

//! Serde types for the STIX 2.1 subset openwarp writes and reads.
//!
//! Known object types are typed; any other type (`threat-actor`, `malware`,
//! `x-mitre-tactic`, …) is kept verbatim as [`StixObject::Other`], and
//! properties we do not model are kept in each object's `custom` map, so a
//! bundle read from elsewhere is written back without loss.

use crate::timestamp::Timestamp;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The STIX version every object we write declares.
pub const SPEC_VERSION: &str = "2.1";

/// A STIX bundle: a container for objects sent together (STIX 2.1 §8).
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// `bundle--<UUID>`.
    pub id: String,
    pub objects: Vec<StixObject>,
}

/// One object in a bundle.
#[derive(Debug, Clone, PartialEq)]
pub enum StixObject {
    Identity(Identity),
    Incident(Incident),
    Indicator(Indicator),
    Relationship(Relationship),
    Report(Report),
    Vulnerability(Vulnerability),
    Note(Note),
    MarkingDefinition(MarkingDefinition),
    /// Any other object type, kept as it came (its `type` property included).
    Other(Value),
}

/// Properties every STIX domain and relationship object has (STIX 2.1 §3.2).
///
/// `type` is not here: it belongs to the object's variant in [`StixObject`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Common {
    pub spec_version: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_ref: Option<String>,
    pub created: Timestamp,
    pub modified: Timestamp,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_references: Vec<ExternalReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub object_marking_refs: Vec<String>,
    /// Extensions by extension-definition id (or `…-ext` name), as given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<String, Value>,
    /// Every other property (`confidence`, `lang`, `granular_markings`,
    /// `x_…` custom properties), kept verbatim. Read objects through
    /// [`StixObject`] or [`Bundle`], which take `type` out first; read alone,
    /// an object would keep its `type` here and write it twice.
    #[serde(flatten)]
    pub custom: BTreeMap<String, Value>,
}

impl Common {
    /// STIX 2.1 common properties with nothing optional set.
    pub fn new(id: String, created: Timestamp, modified: Timestamp) -> Self {
        Common {
            spec_version: SPEC_VERSION.to_owned(),
            id,
            created_by_ref: None,
            created,
            modified,
            labels: Vec::new(),
            external_references: Vec::new(),
            object_marking_refs: Vec::new(),
            extensions: BTreeMap::new(),
            custom: BTreeMap::new(),
        }
    }
}

/// A pointer to information outside STIX (STIX 2.1 §2.5), e.g. a CVE record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalReference {
    pub source_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hashes: BTreeMap<String, String>,
}

impl ExternalReference {
    /// The reference STIX prescribes for a CVE: `source_name` `cve` and the
    /// CVE id as `external_id`.
    pub fn cve(cve_id: &str) -> Self {
        ExternalReference {
            source_name: "cve".to_owned(),
            description: None,
            url: None,
            external_id: Some(cve_id.to_owned()),
            hashes: BTreeMap::new(),
        }
    }
}

/// A phase of a kill chain (STIX 2.1 §2.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillChainPhase {
    pub kill_chain_name: String,
    pub phase_name: String,
}

/// An individual, organisation or group (STIX 2.1 §4.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    #[serde(flatten)]
    pub common: Common,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// From `identity-class-ov`: `individual`, `group`, `system`,
    /// `organization`, `class`, `unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_class: Option<String>,
    /// From `industry-sector-ov`, e.g. `government-local`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sectors: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_information: Option<String>,
}

/// A security incident (STIX 2.1 §4.6). STIX 2.1 defines only a stub; we keep
/// to its core properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    #[serde(flatten)]
    pub common: Common,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kill_chain_phases: Vec<KillChainPhase>,
}

/// A pattern that detects suspicious or malicious activity (STIX 2.1 §4.7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    #[serde(flatten)]
    pub common: Common,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// From `indicator-type-ov`, e.g. `malicious-activity`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicator_types: Vec<String>,
    pub pattern: String,
    /// `stix` for the patterns we write.
    pub pattern_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern_version: Option<String>,
    pub valid_from: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kill_chain_phases: Vec<KillChainPhase>,
}

/// A link between two objects (STIX 2.1 §5.1), e.g. an indicator that
/// `indicates` an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relationship {
    #[serde(flatten)]
    pub common: Common,
    pub relationship_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub source_ref: String,
    pub target_ref: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_time: Option<Timestamp>,
}

/// A published collection of intelligence about some objects (STIX 2.1
/// §4.14), e.g. a WARP advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    #[serde(flatten)]
    pub common: Common,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// From `report-type-ov`, e.g. `vulnerability`, `threat-report`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub report_types: Vec<String>,
    pub published: Timestamp,
    pub object_refs: Vec<String>,
}

/// A software flaw (STIX 2.1 §4.19); a CVE goes in `external_references`
/// (see [`ExternalReference::cve`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vulnerability {
    #[serde(flatten)]
    pub common: Common,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Commentary on other objects (STIX 2.1 §4.11), e.g. lessons learnt from an
/// incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    #[serde(flatten)]
    pub common: Common,
    /// STIX's `abstract`: a brief summary.
    #[serde(rename = "abstract", default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub content: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    pub object_refs: Vec<String>,
}

/// A data marking (STIX 2.1 §7.2), such as a TLP label. It has no
/// `modified`: a marking definition never changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkingDefinition {
    pub spec_version: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_ref: Option<String>,
    pub created: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `statement` or (TLP 1.0 only) `tlp`; absent when the marking is
    /// defined by an extension, as TLP 2.0 markings are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_references: Vec<ExternalReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub object_marking_refs: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<String, Value>,
    /// Every other property, kept verbatim.
    #[serde(flatten)]
    pub custom: BTreeMap<String, Value>,
}

impl StixObject {
    /// The object's `type`: `incident`, `marking-definition`, …
    pub fn object_type(&self) -> &str {
        match self {
            StixObject::Identity(_) => "identity",
            StixObject::Incident(_) => "incident",
            StixObject::Indicator(_) => "indicator",
            StixObject::Relationship(_) => "relationship",
            StixObject::Report(_) => "report",
            StixObject::Vulnerability(_) => "vulnerability",
            StixObject::Note(_) => "note",
            StixObject::MarkingDefinition(_) => "marking-definition",
            StixObject::Other(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// The object's `id`, if it has one (every well-formed object does).
    pub fn id(&self) -> Option<&str> {
        match self {
            StixObject::Identity(o) => Some(&o.common.id),
            StixObject::Incident(o) => Some(&o.common.id),
            StixObject::Indicator(o) => Some(&o.common.id),
            StixObject::Relationship(o) => Some(&o.common.id),
            StixObject::Report(o) => Some(&o.common.id),
            StixObject::Vulnerability(o) => Some(&o.common.id),
            StixObject::Note(o) => Some(&o.common.id),
            StixObject::MarkingDefinition(o) => Some(&o.id),
            StixObject::Other(v) => v.get("id").and_then(Value::as_str),
        }
    }

    /// The common properties of a typed domain or relationship object.
    pub fn common(&self) -> Option<&Common> {
        match self {
            StixObject::Identity(o) => Some(&o.common),
            StixObject::Incident(o) => Some(&o.common),
            StixObject::Indicator(o) => Some(&o.common),
            StixObject::Relationship(o) => Some(&o.common),
            StixObject::Report(o) => Some(&o.common),
            StixObject::Vulnerability(o) => Some(&o.common),
            StixObject::Note(o) => Some(&o.common),
            StixObject::MarkingDefinition(_) | StixObject::Other(_) => None,
        }
    }

    /// Reads one object from its JSON. An unknown `type` gives
    /// [`StixObject::Other`]; a known type that does not fit its shape (a
    /// missing required property, a bad timestamp) is an error naming the
    /// object.
    pub fn from_value(value: Value) -> Result<StixObject, String> {
        let Value::Object(mut map) = value else {
            return Err("a STIX object must be a JSON object".to_owned());
        };
        let Some(object_type) = map.get("type").and_then(Value::as_str).map(str::to_owned) else {
            return Err(format!("object {} has no type", describe_id(&map)));
        };
        let known = matches!(
            object_type.as_str(),
            "identity"
                | "incident"
                | "indicator"
                | "relationship"
                | "report"
                | "vulnerability"
                | "note"
                | "marking-definition"
        );
        if !known {
            return Ok(StixObject::Other(Value::Object(map)));
        }
        let name = describe_id(&map);
        // The variant carries the type; left in, it would land in `custom`.
        map.remove("type");
        let value = Value::Object(map);
        let parsed = match object_type.as_str() {
            "identity" => serde_json::from_value(value).map(StixObject::Identity),
            "incident" => serde_json::from_value(value).map(StixObject::Incident),
            "indicator" => serde_json::from_value(value).map(StixObject::Indicator),
            "relationship" => serde_json::from_value(value).map(StixObject::Relationship),
            "report" => serde_json::from_value(value).map(StixObject::Report),
            "vulnerability" => serde_json::from_value(value).map(StixObject::Vulnerability),
            "note" => serde_json::from_value(value).map(StixObject::Note),
            _ => serde_json::from_value(value).map(StixObject::MarkingDefinition),
        };
        parsed.map_err(|e| format!("{object_type} {name}: {e}"))
    }
}

fn describe_id(map: &Map<String, Value>) -> String {
    match map.get("id").and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => "(no id)".to_owned(),
    }
}

/// Writes a typed object with its `type` first.
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    object_type: &'a str,
    #[serde(flatten)]
    object: &'a T,
}

impl Serialize for StixObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let object_type = self.object_type();
        match self {
            StixObject::Identity(o) => Tagged {
                object_type,
                object: o,
            }
            .serialize(s),
            StixObject::Incident(o) => Tagged {
                object_type,
                object: o,
            }
            .serialize(s),
            StixObject::Indicator(o) => Tagged {
                object_type,
                object: o,
            }
            .serialize(s),
            StixObject::Relationship(o) => Tagged {
                object_type,
                object: o,
            }
            .serialize(s),
            StixObject::Report(o) => Tagged {
                object_type,
                object: o,
            }
            .serialize(s),
            StixObject::Vulnerability(o) => Tagged {
                object_type,
                object: o,
            }
            .serialize(s),
            StixObject::Note(o) => Tagged {
                object_type,
                object: o,
            }
            .serialize(s),
            StixObject::MarkingDefinition(o) => Tagged {
                object_type,
                object: o,
            }
            .serialize(s),
            StixObject::Other(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for StixObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        StixObject::from_value(Value::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// The literal `bundle`, the only `type` a bundle may have.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum BundleType {
    #[serde(rename = "bundle")]
    Bundle,
}

#[derive(Serialize)]
struct BundleOut<'a> {
    #[serde(rename = "type")]
    bundle_type: BundleType,
    id: &'a str,
    #[serde(skip_serializing_if = "<[StixObject]>::is_empty")]
    objects: &'a [StixObject],
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub(crate) struct BundleIn<T> {
    #[serde(rename = "type")]
    _bundle_type: BundleType,
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) objects: Vec<T>,
}

impl Serialize for Bundle {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        BundleOut {
            bundle_type: BundleType::Bundle,
            id: &self.id,
            objects: &self.objects,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Bundle {
    /// Strict about the objects we model (one that does not fit its type
    /// fails the bundle, naming it; [`crate::read_bundle`] skips it instead),
    /// tolerant of every other type and of properties we do not model.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let b = BundleIn::<StixObject>::deserialize(d)?;
        Ok(Bundle {
            id: b.id,
            objects: b.objects,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_types_and_properties_survive_a_round_trip() {
        let input = json!({
            "type": "bundle",
            "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
            "objects": [
                {"type": "threat-actor", "spec_version": "2.1",
                 "id": "threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                 "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
                 "name": "Evil Org"},
                {"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                 "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
                 "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
                 "valid_from": "2016-04-06T20:03:48Z", "confidence": 80,
                 "x_acme_score": {"a": [1, 2]}}
            ]
        });
        let bundle: Bundle = serde_json::from_value(input.clone()).unwrap();
        assert!(matches!(bundle.objects[0], StixObject::Other(_)));
        let StixObject::Indicator(ind) = &bundle.objects[1] else {
            panic!("not an indicator")
        };
        assert_eq!(ind.common.custom["confidence"], json!(80));
        assert!(!ind.common.custom.contains_key("type"));
        let mut out = serde_json::to_value(&bundle).unwrap();
        // The only change: valid_from gains its milliseconds.
        out["objects"][1]["valid_from"] = json!("2016-04-06T20:03:48Z");
        assert_eq!(out, input);
    }

    #[test]
    fn a_known_type_that_does_not_fit_names_the_object() {
        let input = r#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
            "objects":[{"type":"indicator","spec_version":"2.1",
            "id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z"}]}"#;
        let e = serde_json::from_str::<Bundle>(input)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
            "{e}"
        );
        assert!(e.contains("pattern"), "{e}");
    }

    #[test]
    fn only_a_bundle_is_a_bundle() {
        let e = serde_json::from_str::<Bundle>(r#"{"type":"report","id":"x"}"#).unwrap_err();
        assert!(e.to_string().contains("bundle"), "{e}");
    }

    #[test]
    fn type_comes_first_when_written() {
        let o = StixObject::Vulnerability(Vulnerability {
            common: Common {
                external_references: vec![ExternalReference::cve("CVE-2024-3400")],
                ..Common::new(
                    "vulnerability--0d5c1c7d-4e8b-5b5e-9c8e-1a1b2c3d4e5f".to_owned(),
                    Timestamp(chrono::DateTime::UNIX_EPOCH),
                    Timestamp(chrono::DateTime::UNIX_EPOCH),
                )
            },
            name: "CVE-2024-3400".to_owned(),
            description: None,
        });
        let s = serde_json::to_string(&o).unwrap();
        assert!(
            s.starts_with(r#"{"type":"vulnerability","spec_version":"2.1""#),
            "{s}"
        );
        assert!(
            s.contains(
                r#""external_references":[{"source_name":"cve","external_id":"CVE-2024-3400"}]"#
            ),
            "{s}"
        );
    }
}

//! TAXII 2.1 resources (OASIS TAXII Version 2.1, §4–§5): the JSON a TAXII
//! server answers with and a client reads, shared by openwarp's server and
//! its poller so the two cannot disagree. Pure serde types and two helpers
//! that read an object's version and TLP label; no HTTP here.

use crate::model::StixObject;
use crate::timestamp::Timestamp;
use crate::tlp::label_for_marking_id;
use openwarp_core::TlpLabel;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The media type of every TAXII 2.1 resource (§1.6.8.1).
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// The media type of the STIX content a collection holds.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";
/// Headers on object, manifest and version lists (§3.4.2).
pub const DATE_ADDED_FIRST: &str = "X-TAXII-Date-Added-First";
pub const DATE_ADDED_LAST: &str = "X-TAXII-Date-Added-Last";

/// `GET /taxii2/` (§4.1.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discovery {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_roots: Vec<String>,
}

/// `GET {api-root}/` (§4.2.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiRoot {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub versions: Vec<String>,
    pub max_content_length: u64,
}

/// One collection (§5.2.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionResource {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    pub can_read: bool,
    pub can_write: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media_types: Vec<String>,
}

/// `GET {api-root}/collections/` (§5.1.1): absent when there are none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collections {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collections: Vec<CollectionResource>,
}

/// An envelope of objects (§3.7): a page, with `next` while `more`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Envelope {
    #[serde(default)]
    pub more: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Kept as JSON: one object that does not fit must not sink the page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<Value>,
}

/// One manifest entry (§5.3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestRecord {
    pub id: String,
    pub date_added: Timestamp,
    pub version: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

/// `GET …/manifest/` (§5.3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Manifest {
    #[serde(default)]
    pub more: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ManifestRecord>,
}

/// `GET …/objects/{id}/versions/` (§5.8.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Versions {
    #[serde(default)]
    pub more: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<Timestamp>,
}

/// A TAXII error message (§3.6.1). `http_status` is a string in the spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorMessage {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<String>,
}

/// An object's version: its `modified`, or `created` for objects that are
/// never modified (marking definitions). `None` for a malformed object.
pub fn object_version(object: &StixObject) -> Option<Timestamp> {
    match object {
        StixObject::MarkingDefinition(m) => Some(m.created),
        StixObject::Other(v) => ["modified", "created"].iter().find_map(|k| {
            v.get(*k)
                .and_then(|t| serde_json::from_value::<Timestamp>(t.clone()).ok())
        }),
        other => other.common().map(|c| c.modified),
    }
}

/// The TLP label an object carries through `object_marking_refs` (TLP 2.0
/// or TLP 1.0 ids), the most restrictive if several; `None` when unmarked.
/// A marking definition itself is public.
pub fn object_tlp(object: &StixObject) -> Option<TlpLabel> {
    let refs: Vec<String> = match object {
        StixObject::MarkingDefinition(_) => return Some(TlpLabel::Clear),
        StixObject::Other(v) => v
            .get("object_marking_refs")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        other => other
            .common()
            .map(|c| c.object_marking_refs.clone())
            .unwrap_or_default(),
    };
    refs.iter().filter_map(|r| label_for_marking_id(r)).max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_medallion_test_data_reads_as_taxii_resources() {
        // The shape of oasis-open/cti-taxii-server's default_data.json.
        let discovery: Discovery = serde_json::from_value(json!({
            "title": "Some TAXII Server",
            "default": "http://localhost:5000/trustgroup1/",
            "api_roots": ["http://localhost:5000/api1/"]
        }))
        .unwrap();
        assert_eq!(discovery.api_roots.len(), 1);
        let manifest: Manifest = serde_json::from_value(json!({"more": false, "objects": [{
            "id": "indicator--cd981c25-8042-4166-8945-51178443bdac",
            "date_added": "2016-11-01T03:04:05.000000Z",
            "version": "2014-05-08T09:00:00.000Z",
            "media_type": "application/stix+json;version=2.1"
        }]}))
        .unwrap();
        assert_eq!(manifest.objects.len(), 1);
        let empty: Envelope = serde_json::from_value(json!({})).unwrap();
        assert!(!empty.more && empty.objects.is_empty());
    }

    #[test]
    fn the_label_is_the_strictest_marking_and_the_version_is_modified() {
        let o = StixObject::from_value(json!({
            "type": "x-acme", "id": "x-acme--1", "created": "2020-01-01T00:00:00.000Z",
            "modified": "2021-01-01T00:00:00.000Z",
            "object_marking_refs": [
                crate::tlp::marking_definition_id(TlpLabel::Green),
                crate::tlp::TLP_1_AMBER_ID
            ]
        }))
        .unwrap();
        assert_eq!(object_tlp(&o), Some(TlpLabel::AmberStrict));
        assert_eq!(
            object_version(&o).unwrap().to_stix_string(),
            "2021-01-01T00:00:00.000Z"
        );
        let m = StixObject::MarkingDefinition(crate::tlp::marking_definition(TlpLabel::Red));
        assert_eq!(object_tlp(&m), Some(TlpLabel::Clear));
    }
}

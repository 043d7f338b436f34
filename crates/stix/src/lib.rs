//! The STIX 2.1 that openwarp writes and reads.
//!
//! # Why
//!
//! A WARP passes on what its members report: an incident, the indicators seen
//! in it, the lessons learnt; later, its advisories, and all of it to other
//! WARPs. STIX 2.1 is the format threat-sharing platforms (MISP, OpenCTI,
//! TAXII servers) read, and TLP 2.0 markings travel with every object so a
//! recipient's tools know how far each may go. No mature STIX 2.1 crate
//! exists for Rust, so this crate holds serde types for the subset we need.
//!
//! Like `openwarp-core`, it is pure: no I/O, no clock (callers pass every
//! time), no randomness. Ids are UUIDv5, derived from our own stable keys
//! ([`derived_id`]), so exporting the same incident twice gives the same ids.
//!
//! # The subset
//!
//! - [`Bundle`] and, in it, typed [`StixObject`]s: [`Identity`], [`Incident`]
//!   (STIX 2.1's stub: name, description, kill chain phases; no extension),
//!   [`Indicator`] (STIX patterns built by [`IndicatorKind::pattern`], with
//!   quotes and backslashes escaped), [`Relationship`], [`Report`] and
//!   [`Vulnerability`] (for WARP advisories), [`Note`] (lessons learnt) and
//!   [`MarkingDefinition`].
//! - Reading is tolerant: any other object type is kept verbatim as
//!   [`StixObject::Other`], properties we do not model are kept in `custom`,
//!   and [`read_bundle`] sets aside a malformed object instead of failing the
//!   bundle. Reading targets STIX 2.1; STIX 2.0 objects (no `spec_version`)
//!   are not read as typed objects.
//! - Writing: [`incident_bundle`] turns an [`IncidentExport`] into a bundle;
//!   [`to_json`] writes it.
//!
//! # TLP 2.0 markings
//!
//! STIX 2.1 predefines TLP 1.0 markings only. TLP 2.0 markings are the five
//! fixed marking-definition objects the OASIS CTI TC publishes with the
//! extension `extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`
//! (`oasis-open/cti-stix-common-objects`,
//! `extension-definition-specifications/tlp-2.0/`). [`tlp`] holds their ids
//! and reproduces the objects verbatim; see its documentation for where each
//! id was checked. Every bundle we write contains the marking definitions its
//! objects refer to.

// Federation (issue 9)
mod advisory;
pub mod taxii;
// End of federation (issue 9)
mod id;
mod incident;
mod model;
mod pattern;
#[cfg(feature = "testing")]
pub mod testing;
mod timestamp;
pub mod tlp;

// Federation (issue 9)
pub use advisory::{AdvisoryExport, advisory_bundle, cve_ids, warp_identity_object};
// End of federation (issue 9)
pub use id::{OPENWARP_NAMESPACE, derived_id};
pub use incident::{Edition, IncidentExport, WarpIdentity, incident_bundle, warp_identity_id};
pub use model::{
    Bundle, Common, ExternalReference, Identity, Incident, Indicator, KillChainPhase,
    MarkingDefinition, Note, Relationship, Report, SPEC_VERSION, StixObject, Vulnerability,
};
pub use pattern::{IndicatorKind, escape_string_literal};
pub use timestamp::Timestamp;

use serde_json::Value;

/// What can stop a bundle from being read at all.
#[derive(Debug, thiserror::Error)]
pub enum StixError {
    #[error("not a STIX bundle: {0}")]
    NotABundle(#[from] serde_json::Error),
}

/// An object [`read_bundle`] set aside, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// Its position in the bundle's `objects`.
    pub index: usize,
    pub id: Option<String>,
    pub object_type: Option<String>,
    pub reason: String,
    /// The object as it came.
    pub raw: Value,
}

/// A bundle read by [`read_bundle`]: the objects that could be read, and
/// those that could not.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadBundle {
    pub bundle: Bundle,
    pub rejected: Vec<Rejected>,
}

/// Reads a bundle from another producer. Each object is read on its own, so
/// one that does not fit its type (a missing `pattern`, a bad timestamp) is
/// set aside in [`ReadBundle::rejected`] and the rest proceed. Only a document
/// that is not a bundle at all is an error.
pub fn read_bundle(json: &str) -> Result<ReadBundle, StixError> {
    let raw: model::BundleIn<Value> = serde_json::from_str(json)?;
    let mut objects = Vec::with_capacity(raw.objects.len());
    let mut rejected = Vec::new();
    for (index, value) in raw.objects.into_iter().enumerate() {
        match StixObject::from_value(value.clone()) {
            Ok(object) => objects.push(object),
            Err(reason) => rejected.push(Rejected {
                index,
                id: value.get("id").and_then(Value::as_str).map(str::to_owned),
                object_type: value.get("type").and_then(Value::as_str).map(str::to_owned),
                reason,
                raw: value,
            }),
        }
    }
    Ok(ReadBundle {
        bundle: Bundle {
            id: raw.id,
            objects,
        },
        rejected,
    })
}

/// The bundle as pretty-printed JSON. It reads back with
/// `serde_json::from_str::<Bundle>` to an equal bundle.
pub fn to_json(bundle: &Bundle) -> String {
    // Writing cannot fail: every map has string keys and every value is plain
    // JSON, and the output is a String, not an I/O stream.
    serde_json::to_string_pretty(bundle).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bad_object_does_not_sink_the_bundle() {
        let json = r#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
            {"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
             "created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z"},
            {"type":"x-acme-widget","id":"x-acme-widget--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"},
            {"type":"note","spec_version":"2.1","id":"note--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
             "created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z",
             "content":"x","object_refs":["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]}
        ]}"#;
        let read = read_bundle(json).unwrap();
        assert_eq!(read.bundle.objects.len(), 2);
        assert_eq!(read.rejected.len(), 1);
        let r = &read.rejected[0];
        assert_eq!(r.index, 0);
        assert_eq!(r.object_type.as_deref(), Some("indicator"));
        assert!(r.reason.contains("pattern"), "{}", r.reason);
        assert!(serde_json::from_str::<Bundle>(json).is_err());
    }

    #[test]
    fn a_document_that_is_not_a_bundle_is_an_error() {
        assert!(read_bundle(r#"{"type":"indicator","id":"x"}"#).is_err());
        assert!(read_bundle("[").is_err());
    }
}

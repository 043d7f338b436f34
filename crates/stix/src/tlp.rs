//! TLP 2.0 as STIX marking definitions.
//!
//! STIX 2.1 itself predefines only the four TLP 1.0 markings (WHITE, GREEN,
//! AMBER, RED; §7.2.1.4). TLP 2.0 (CLEAR, GREEN, AMBER, AMBER+STRICT, RED) is
//! expressed through an extension published by the OASIS CTI TC in
//! `oasis-open/cti-stix-common-objects`,
//! `extension-definition-specifications/tlp-2.0/`: five fixed
//! marking-definition objects, each carrying the property extension
//! [`TLP_2_EXTENSION_ID`] with a `tlp_2_0` value, all created
//! `2022-10-01T00:00:00.000Z` and with no `created_by_ref`.
//!
//! The ids below were checked against that directory: the extension's JSON
//! schema (`extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d.json`
//! and `marking-definition.json`, which pin each id, name and `tlp_2_0`
//! value) and the example objects `examples/tlp-clear.json`,
//! `tlp-amber.json`, `tlp-amber+strict.json` and `using-tlp2.0-green.json`.
//! These objects are published as they are: a producer must copy them, never
//! mint its own ids or add properties (doing so would make a conflicting
//! version of the same object).

use crate::model::MarkingDefinition;
use crate::timestamp::Timestamp;
use chrono::DateTime;
use openwarp_core::TlpLabel;
use serde_json::json;
use std::collections::BTreeMap;

/// The extension definition every TLP 2.0 marking declares itself through.
pub const TLP_2_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// `created` of every TLP 2.0 marking definition: 2022-10-01T00:00:00.000Z.
pub fn tlp_2_created() -> Timestamp {
    Timestamp(DateTime::from_timestamp(1_664_582_400, 0).unwrap_or(DateTime::UNIX_EPOCH))
}

/// The fixed id of the TLP 2.0 marking definition for `label`.
pub fn marking_definition_id(label: TlpLabel) -> &'static str {
    match label {
        TlpLabel::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        TlpLabel::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        TlpLabel::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        TlpLabel::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        TlpLabel::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The extension's `tlp_2_0` value: `clear`, `green`, `amber`,
/// `amber+strict`, `red`.
pub fn tlp_2_value(label: TlpLabel) -> &'static str {
    match label {
        TlpLabel::Clear => "clear",
        TlpLabel::Green => "green",
        TlpLabel::Amber => "amber",
        TlpLabel::AmberStrict => "amber+strict",
        TlpLabel::Red => "red",
    }
}

/// The TLP 2.0 marking definition for `label`, exactly as OASIS publishes it.
pub fn marking_definition(label: TlpLabel) -> MarkingDefinition {
    let mut extensions = BTreeMap::new();
    extensions.insert(
        TLP_2_EXTENSION_ID.to_owned(),
        json!({"extension_type": "property-extension", "tlp_2_0": tlp_2_value(label)}),
    );
    MarkingDefinition {
        spec_version: crate::model::SPEC_VERSION.to_owned(),
        id: marking_definition_id(label).to_owned(),
        created_by_ref: None,
        created: tlp_2_created(),
        name: Some(label.label().to_owned()),
        definition_type: None,
        definition: None,
        external_references: Vec::new(),
        object_marking_refs: Vec::new(),
        extensions,
        custom: BTreeMap::new(),
    }
}

/// The TLP 1.0 marking-definition ids STIX 2.1 predefines (§7.2.1.4), which
/// older producers still send.
pub const TLP_1_WHITE_ID: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
pub const TLP_1_GREEN_ID: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
pub const TLP_1_AMBER_ID: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
pub const TLP_1_RED_ID: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";

/// The TLP label a marking-definition id stands for, for reading markings on
/// objects from elsewhere: the five TLP 2.0 ids and the four TLP 1.0 ones.
///
/// TLP 1.0 AMBER becomes AMBER+STRICT: TLP 1.0 AMBER limited sharing to the
/// recipient's organisation, which is what AMBER+STRICT says in TLP 2.0 (plain
/// AMBER now also allows the organisation's clients).
pub fn label_for_marking_id(id: &str) -> Option<TlpLabel> {
    if let Some(label) = TlpLabel::ALL
        .into_iter()
        .find(|l| marking_definition_id(*l) == id)
    {
        return Some(label);
    }
    match id {
        TLP_1_WHITE_ID => Some(TlpLabel::Clear),
        TLP_1_GREEN_ID => Some(TlpLabel::Green),
        TLP_1_AMBER_ID => Some(TlpLabel::AmberStrict),
        TLP_1_RED_ID => Some(TlpLabel::Red),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StixObject;

    #[test]
    fn each_label_has_its_own_published_id() {
        // As pinned by the extension's schema,
        // extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d.json.
        let published = [
            (
                TlpLabel::Clear,
                "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            ),
            (
                TlpLabel::Green,
                "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
            ),
            (
                TlpLabel::Amber,
                "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            ),
            (
                TlpLabel::AmberStrict,
                "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            ),
            (
                TlpLabel::Red,
                "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
            ),
        ];
        for (label, id) in published {
            assert_eq!(marking_definition_id(label), id);
            assert_eq!(label_for_marking_id(id), Some(label));
        }
        assert_eq!(label_for_marking_id(TLP_1_WHITE_ID), Some(TlpLabel::Clear));
        assert_eq!(label_for_marking_id(TLP_1_GREEN_ID), Some(TlpLabel::Green));
        assert_eq!(
            label_for_marking_id(TLP_1_AMBER_ID),
            Some(TlpLabel::AmberStrict)
        );
        assert_eq!(label_for_marking_id(TLP_1_RED_ID), Some(TlpLabel::Red));
        assert_eq!(
            label_for_marking_id("marking-definition--00000000-0000-4000-8000-000000000000"),
            None
        );
    }

    #[test]
    fn the_amber_strict_object_is_the_one_oasis_publishes() {
        // extension-definition-specifications/tlp-2.0/examples/tlp-amber+strict.json
        let published = serde_json::json!({
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            "created": "2022-10-01T00:00:00.000Z",
            "name": "TLP:AMBER+STRICT",
            "extensions": {
                "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                    "extension_type": "property-extension",
                    "tlp_2_0": "amber+strict"
                }
            }
        });
        let ours = StixObject::MarkingDefinition(marking_definition(TlpLabel::AmberStrict));
        assert_eq!(serde_json::to_value(&ours).unwrap(), published);
        assert_eq!(StixObject::from_value(published).unwrap(), ours);
    }

    #[test]
    fn every_marking_names_its_label_the_tlp_2_way() {
        for l in TlpLabel::ALL {
            let m = marking_definition(l);
            assert_eq!(m.name.as_deref(), Some(l.label()));
            assert_eq!(m.created.to_stix_string(), "2022-10-01T00:00:00.000Z");
            assert_eq!(m.extensions[TLP_2_EXTENSION_ID]["tlp_2_0"], tlp_2_value(l));
        }
    }
}

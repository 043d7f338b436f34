//! CycloneDX JSON SBOM import: the components of a software bill of
//! materials become inventory items, each validated like one typed into the
//! form.
//!
//! - Spec versions 1.2 to 1.6 are read (JSON only: CycloneDX XML and SPDX
//!   are refused with a message that says what to export instead).
//! - Components are walked depth first, nested `components` included. The
//!   component in `metadata.component` is what the SBOM describes, not part
//!   of it: it is kept as [`SbomImport::subject`] for display only.
//! - A component that cannot become an item (a malformed purl or CPE, no
//!   name at all, a cryptographic asset or data set) is listed in
//!   [`SbomImport::skipped`] with the reason; it does not fail the file.
//! - Duplicates (the same package listed under several parents) are kept
//!   once, the first time they appear.
//!
//! Reading is lenient about shape: unknown fields are ignored, every field is
//! optional, and a field of the wrong JSON type is treated as absent.

use crate::inventory::ItemFields;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::HashSet;

/// The CycloneDX spec versions whose JSON form we read.
pub const SPEC_VERSIONS: [&str; 5] = ["1.2", "1.3", "1.4", "1.5", "1.6"];

/// What an SBOM file yielded.
#[derive(Debug, Clone, PartialEq)]
pub struct SbomImport {
    /// What the SBOM describes (`metadata.component`), as "name version".
    pub subject: Option<String>,
    /// The document's `specVersion`, when it gives one.
    pub spec_version: Option<String>,
    /// Validated, deduplicated items, in the order the components appear.
    pub items: Vec<ItemFields>,
    /// Components that did not become items, and why.
    pub skipped: Vec<SkippedComponent>,
}

/// A component left out of the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedComponent {
    /// The component's `bom-ref`, or where it sits in the file
    /// (`components[4].components[0]`) when it has none.
    pub reference: String,
    /// The component's name, when it has one.
    pub name: Option<String>,
    /// Why it was left out, for the person importing.
    pub reason: String,
}

/// Why a file could not be read as a CycloneDX JSON SBOM at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SbomError {
    #[error("the file is empty; export the SBOM as CycloneDX JSON and upload that")]
    Empty,
    #[error("CycloneDX XML is not supported; export the SBOM as JSON")]
    Xml,
    #[error("the file is UTF-16 text; save or export the SBOM as UTF-8 JSON")]
    Utf16,
    #[error("not valid JSON: {message}; export the SBOM as CycloneDX JSON")]
    NotJson {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "this is an SPDX document; only CycloneDX JSON SBOMs can be imported, so export the SBOM as CycloneDX JSON"
    )]
    Spdx,
    #[error("not a CycloneDX SBOM: {0}")]
    NotCycloneDx(String),
    #[error(
        "CycloneDX spec version {0} is not supported; export the SBOM as CycloneDX JSON 1.2 to 1.6"
    )]
    UnsupportedVersion(String),
}

/// Read a CycloneDX JSON SBOM. Never panics, whatever the bytes.
pub fn read_cyclonedx(bytes: &[u8]) -> Result<SbomImport, SbomError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(SbomError::Utf16);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Err(SbomError::Empty);
    };
    let rest = bytes.get(start..).unwrap_or_default();
    if rest.starts_with(b"<") {
        return Err(SbomError::Xml);
    }
    if rest.starts_with(b"SPDXVersion:") {
        return Err(SbomError::Spdx);
    }
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| SbomError::NotJson {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let Value::Object(top) = &doc else {
        return Err(SbomError::NotCycloneDx(format!(
            "the top level of the file is {}, not a CycloneDX document (an object with \"bomFormat\": \"CycloneDX\")",
            json_kind(&doc)
        )));
    };
    if top.contains_key("spdxVersion") || top.contains_key("SPDXID") {
        return Err(SbomError::Spdx);
    }
    match top.get("bomFormat") {
        Some(Value::String(f)) if f.trim().eq_ignore_ascii_case("CycloneDX") => {}
        Some(other) => {
            return Err(SbomError::NotCycloneDx(format!(
                "its \"bomFormat\" is {other}, not \"CycloneDX\""
            )));
        }
        None => {
            return Err(SbomError::NotCycloneDx(
                "it has no \"bomFormat\": \"CycloneDX\" field".into(),
            ));
        }
    }
    let spec_version = match top.get("specVersion") {
        None | Some(Value::Null) => None,
        Some(Value::String(v)) if SPEC_VERSIONS.contains(&v.trim()) => Some(v.trim().to_string()),
        Some(Value::String(v)) => return Err(SbomError::UnsupportedVersion(format!("{v:?}"))),
        Some(other) => return Err(SbomError::UnsupportedVersion(other.to_string())),
    };
    let subject = top
        .get("metadata")
        .and_then(|m| m.get("component"))
        .filter(|c| c.is_object())
        .and_then(|c| Component::deserialize(c).ok())
        .and_then(|c| c.subject());

    let mut walk = Walk::default();
    match top.get("components") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => walk.list(list, "components"),
        Some(other) => {
            return Err(SbomError::NotCycloneDx(format!(
                "its \"components\" is {}, not a list",
                json_kind(other)
            )));
        }
    }
    Ok(SbomImport {
        subject,
        spec_version,
        items: walk.items,
        skipped: walk.skipped,
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a true/false value",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The fields of a CycloneDX component we use. Everything is optional and a
/// value of the wrong type counts as absent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Component {
    #[serde(rename = "type", deserialize_with = "text")]
    kind: Option<String>,
    #[serde(rename = "bom-ref", deserialize_with = "text")]
    bom_ref: Option<String>,
    #[serde(deserialize_with = "text")]
    group: Option<String>,
    #[serde(deserialize_with = "text")]
    name: Option<String>,
    #[serde(deserialize_with = "text")]
    version: Option<String>,
    #[serde(deserialize_with = "text")]
    cpe: Option<String>,
    #[serde(deserialize_with = "text")]
    purl: Option<String>,
    #[serde(deserialize_with = "text")]
    publisher: Option<String>,
    /// An organizational entity; we keep its name.
    #[serde(deserialize_with = "entity_name")]
    supplier: Option<String>,
    /// CycloneDX 1.6: an organizational entity; we keep its name.
    #[serde(deserialize_with = "entity_name")]
    manufacturer: Option<String>,
}

/// A string (or a number, as some tools write versions), trimmed; anything
/// else or blank is absent.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => nonblank(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// The `name` of an organizational entity (a bare string is taken too).
fn entity_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(m) => match m.get("name") {
            Some(Value::String(s)) => nonblank(s.clone()),
            _ => None,
        },
        Value::String(s) => nonblank(s),
        _ => None,
    })
}

fn nonblank(s: String) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else if t.len() == s.len() {
        Some(s)
    } else {
        Some(t.to_string())
    }
}

impl Component {
    /// "org.apache.logging.log4j:log4j-core" for Maven (as Java people write
    /// coordinates), "group/name" otherwise ("@babel/core",
    /// "laravel/framework"); the bare name without a group.
    fn display_name(&self) -> Option<String> {
        let name = self.name.as_deref()?;
        Some(match self.group.as_deref() {
            // Some tools put the group in the name too.
            Some(group)
                if !(name.starts_with(group)
                    && matches!(name.get(group.len()..group.len() + 1), Some("/" | ":"))) =>
            {
                let maven = self
                    .purl
                    .as_deref()
                    .and_then(|p| p.get(..10))
                    .is_some_and(|p| p.eq_ignore_ascii_case("pkg:maven/"));
                let sep = if maven { ':' } else { '/' };
                format!("{group}{sep}{name}")
            }
            _ => name.to_string(),
        })
    }

    fn subject(&self) -> Option<String> {
        let name = self.display_name().or_else(|| self.purl.clone())?;
        Some(match &self.version {
            Some(v) if !name.contains(v.as_str()) => format!("{name} {v}"),
            _ => name,
        })
    }

    fn fields(&self) -> ItemFields {
        ItemFields {
            name: self.display_name().unwrap_or_default(),
            vendor: self
                .supplier
                .clone()
                .or_else(|| self.manufacturer.clone())
                .or_else(|| self.publisher.clone())
                .or_else(|| self.group.clone()),
            product: self.name.clone(),
            version: self.version.clone(),
            cpe: self.cpe.clone(),
            purl: self.purl.clone(),
            ..ItemFields::default()
        }
    }
}

/// Component types that are not software or hardware an advisory can name.
const NOT_INVENTORY: [&str; 2] = ["data", "cryptographic-asset"];

#[derive(Default)]
struct Walk {
    items: Vec<ItemFields>,
    skipped: Vec<SkippedComponent>,
    seen: Seen,
}

impl Walk {
    fn list(&mut self, list: &[Value], path: &str) {
        for (i, value) in list.iter().enumerate() {
            let here = format!("{path}[{i}]");
            let (reference, name) = self.component(value, &here);
            match value.get("components") {
                None | Some(Value::Null) => {}
                Some(Value::Array(children)) => {
                    self.list(children, &format!("{here}.components"));
                }
                Some(other) => self.skipped.push(SkippedComponent {
                    reference,
                    name,
                    reason: format!(
                        "its nested \"components\" is {}, not a list, so they were not read",
                        json_kind(other)
                    ),
                }),
            }
        }
    }

    /// Add one component (not its children); returns how to refer to it
    /// and its name.
    fn component(&mut self, value: &Value, here: &str) -> (String, Option<String>) {
        let component = match value {
            Value::Object(_) => Component::deserialize(value).ok(),
            _ => None,
        };
        let Some(c) = component else {
            self.skip(here.to_string(), None, "is not a component (a JSON object)");
            return (here.to_string(), None);
        };
        let reference = c.bom_ref.clone().unwrap_or_else(|| here.to_string());
        let name = c.display_name();
        if let Some(kind) = c.kind.as_deref().filter(|k| NOT_INVENTORY.contains(k)) {
            let reason =
                format!("a {kind} component is not software or hardware that advisories name");
            self.skip(reference.clone(), name.clone(), reason);
            return (reference, name);
        }
        if c.name.is_none() && c.purl.is_none() && c.cpe.is_none() {
            self.skip(reference.clone(), None, "has no name, package URL or CPE");
            return (reference, name);
        }
        match c.fields().validate() {
            Ok(item) => {
                if self.seen.is_new(&item) {
                    self.items.push(item);
                }
            }
            Err(problem) => self.skip(reference.clone(), name.clone(), problem.to_string()),
        }
        (reference, name)
    }

    fn skip(&mut self, reference: String, name: Option<String>, reason: impl Into<String>) {
        self.skipped.push(SkippedComponent {
            reference,
            name,
            reason: reason.into(),
        });
    }
}

/// What has been imported so far, for deduplication: an item with a purl or
/// CPE repeats an earlier one with the same purl or CPE; an item with
/// neither repeats any earlier one with the same vendor, product and version.
#[derive(Default)]
struct Seen {
    purls: HashSet<String>,
    cpes: HashSet<String>,
    plain: HashSet<(String, String, String)>,
}

impl Seen {
    fn is_new(&mut self, item: &ItemFields) -> bool {
        let lower = |v: &Option<String>| v.as_deref().unwrap_or_default().to_lowercase();
        let plain = (
            lower(&item.vendor),
            lower(&item.product),
            lower(&item.version),
        );
        let repeat = if item.purl.is_none() && item.cpe.is_none() {
            self.plain.contains(&plain)
        } else {
            item.purl.as_ref().is_some_and(|p| self.purls.contains(p))
                || item.cpe.as_ref().is_some_and(|c| self.cpes.contains(c))
        };
        if repeat {
            return false;
        }
        if let Some(p) = &item.purl {
            self.purls.insert(p.clone());
        }
        if let Some(c) = &item.cpe {
            self.cpes.insert(c.clone());
        }
        self.plain.insert(plain);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTON_BRIDGE: &[u8] =
        include_bytes!("../tests/fixtures/sbom/proton-bridge-1.8.0-go.cdx-1.2.json");
    const JUICE_SHOP_NESTED: &[u8] =
        include_bytes!("../tests/fixtures/sbom/juice-shop-14.1.1-npm-nested-excerpt.cdx-1.4.json");
    const HBOM: &[u8] =
        include_bytes!("../tests/fixtures/sbom/pcie-sata-adapter-board-hbom.cdx-1.4.json");
    const CBOM: &[u8] =
        include_bytes!("../tests/fixtures/sbom/cbom-example-with-dependencies.cdx-1.6.json");

    fn item<'a>(import: &'a SbomImport, purl: &str) -> &'a ItemFields {
        import
            .items
            .iter()
            .find(|i| i.purl.as_deref() == Some(purl))
            .unwrap_or_else(|| panic!("no item with purl {purl}"))
    }

    #[test]
    fn go_modules_from_proton_bridge() {
        let import = read_cyclonedx(PROTON_BRIDGE).expect("reads");
        assert_eq!(import.spec_version.as_deref(), Some("1.2"));
        assert_eq!(
            import.subject.as_deref(),
            Some("github.com/ProtonMail/proton-bridge v1.8.0")
        );
        assert_eq!(import.items.len(), 201);
        assert!(import.skipped.is_empty(), "{:?}", import.skipped);

        let logrus = item(&import, "pkg:golang/github.com/sirupsen/logrus@v1.7.0");
        assert_eq!(logrus.name, "github.com/sirupsen/logrus");
        assert_eq!(logrus.version.as_deref(), Some("v1.7.0"));
        assert_eq!(logrus.vendor.as_deref(), Some("github.com/sirupsen"));
        assert_eq!(
            logrus.product.as_deref(),
            Some("github.com/sirupsen/logrus")
        );
        assert_eq!(
            logrus.package().expect("purl").key(),
            "pkg:golang/github.com/sirupsen/logrus"
        );
        assert!(logrus.cpe.is_none());
        assert!(!logrus.internet_facing && !logrus.business_critical);
        assert!(logrus.owner.is_none() && logrus.notes.is_none());

        let yaml = item(
            &import,
            "pkg:golang/gopkg.in/yaml.v3@v3.0.0-20200313102051-9f266ea9e77c",
        );
        assert_eq!(
            yaml.version.as_deref(),
            Some("v3.0.0-20200313102051-9f266ea9e77c")
        );
        assert_eq!(
            yaml.package().expect("purl").key(),
            "pkg:golang/gopkg.in/yaml.v3"
        );
        // The bridge itself is the subject, not an item.
        assert!(
            !import
                .items
                .iter()
                .any(|i| i.name == "github.com/ProtonMail/proton-bridge")
        );
    }

    #[test]
    fn nested_components_are_walked_and_duplicates_kept_once() {
        let import = read_cyclonedx(JUICE_SHOP_NESTED).expect("reads");
        assert_eq!(import.spec_version.as_deref(), Some("1.4"));
        assert_eq!(import.subject.as_deref(), Some("juice-shop 14.1.1"));
        // 8 top-level components, 12 nested (one two levels deep); debug 4.3.4
        // and ms 2.1.2 appear under both agent-base and http-proxy-agent.
        assert!(import.skipped.is_empty(), "{:?}", import.skipped);
        assert_eq!(import.items.len(), 18);
        let names: Vec<String> = import.items.iter().map(|i| i.label()).collect();
        assert_eq!(
            names,
            [
                "@npmcli/move-file 1.1.2",
                "mkdirp 1.0.4",
                "agent-base 6.0.2",
                "debug 4.3.4",
                "ms 2.1.2",
                "decompress 4.2.1",
                "make-dir 1.3.0",
                "pify 3.0.0",
                "pify 2.3.0",
                "express 4.18.2",
                "body-parser 1.20.1",
                "cookie 0.5.0",
                "raw-body 2.5.1",
                "safe-buffer 5.2.1",
                "http-proxy-agent 5.0.0",
                "@types/debug 4.1.7",
                "debug 2.6.9",
                "ms 2.0.0",
            ]
        );
        // Two levels down: decompress → make-dir → pify 3.0.0.
        let pify = item(&import, "pkg:npm/pify@3.0.0");
        assert_eq!(pify.package().expect("purl").key(), "pkg:npm/pify");
        // A scoped package: the group is the vendor and part of the name.
        let move_file = item(&import, "pkg:npm/%40npmcli/move-file@1.1.2");
        assert_eq!(move_file.vendor.as_deref(), Some("@npmcli"));
        assert_eq!(move_file.product.as_deref(), Some("move-file"));
        assert_eq!(
            move_file.package().expect("purl").key(),
            "pkg:npm/@npmcli/move-file"
        );
    }

    #[test]
    fn hardware_suppliers_become_vendors() {
        let import = read_cyclonedx(HBOM).expect("reads");
        assert_eq!(import.spec_version.as_deref(), Some("1.4"));
        assert_eq!(
            import.subject.as_deref(),
            Some("uk.ac.cam.cl/pcie-sata-adaptor-board rev-1")
        );
        assert_eq!(import.items.len(), 6);
        let first = &import.items[0];
        assert_eq!(first.vendor.as_deref(), Some("Samtec"));
        assert_eq!(first.product.as_deref(), Some("PCIE-098-02-F-D-EMS2"));
        assert_eq!(first.version.as_deref(), Some("2.9.10"));
        assert_eq!(first.name, "PCIE-098-02-F-D-EMS2");
        let vendors: Vec<&str> = import
            .items
            .iter()
            .filter_map(|i| i.vendor.as_deref())
            .collect();
        assert_eq!(
            vendors,
            [
                "Samtec",
                "Molex",
                "3M",
                "Multicomp",
                "TE Connectivity",
                "Multicomp"
            ]
        );
    }

    #[test]
    fn cryptographic_assets_are_skipped_with_a_reason() {
        let import = read_cyclonedx(CBOM).expect("reads");
        assert_eq!(import.spec_version.as_deref(), Some("1.6"));
        assert_eq!(import.subject.as_deref(), Some("Acme Application 1.0"));
        let labels: Vec<String> = import.items.iter().map(|i| i.label()).collect();
        assert_eq!(labels, ["Crypto library 1.0.0", "Some library 1.0.0"]);
        assert_eq!(
            import.skipped,
            [SkippedComponent {
                reference: "aes128gcm".into(),
                name: Some("AES".into()),
                reason: "a cryptographic-asset component is not software or hardware that advisories name".into(),
            }]
        );
    }

    #[test]
    fn bad_components_are_skipped_not_fatal() {
        let doc = br#"{
          "bomFormat": "CycloneDX",
          "specVersion": "1.5",
          "components": [
            {"type": "library", "bom-ref": "bad-purl", "name": "log4j-core",
             "purl": "maven/org.apache.logging.log4j/log4j-core@2.14.1"},
            {"type": "library", "name": "bad-cpe", "cpe": "cpe:2.3:a:*:*:*"},
            {"type": "library", "description": "nothing to go on"},
            "not an object",
            {"type": "library", "group": "org.apache.logging.log4j", "name": "log4j-core",
             "version": "2.14.1", "cpe": "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*",
             "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
             "components": {"oops": true}},
            {"type": "library", "name": "log4j again", "version": "2.14.1",
             "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
            {"type": "application", "name": "Exchange Server", "version": 2019,
             "publisher": "Microsoft", "supplier": "Microsoft Corporation",
             "purl": {"not": "a string"}}
          ]
        }"#;
        let import = read_cyclonedx(doc).expect("reads");
        assert_eq!(import.subject, None);
        assert_eq!(import.spec_version.as_deref(), Some("1.5"));
        let refs: Vec<(&str, Option<&str>)> = import
            .skipped
            .iter()
            .map(|s| (s.reference.as_str(), s.name.as_deref()))
            .collect();
        assert_eq!(
            refs,
            [
                ("bad-purl", Some("log4j-core")),
                ("components[1]", Some("bad-cpe")),
                ("components[2]", None),
                ("components[3]", None),
                ("components[4]", Some("org.apache.logging.log4j:log4j-core")),
            ]
        );
        assert!(
            import.skipped[0]
                .reason
                .starts_with("purl: not a valid package URL"),
            "{}",
            import.skipped[0].reason
        );
        assert!(import.skipped[1].reason.starts_with("cpe: "));
        assert_eq!(import.skipped[2].reason, "has no name, package URL or CPE");
        assert!(import.skipped[4].reason.contains("not a list"));

        assert_eq!(import.items.len(), 2);
        let log4j = &import.items[0];
        assert_eq!(log4j.name, "org.apache.logging.log4j:log4j-core");
        assert_eq!(log4j.vendor.as_deref(), Some("org.apache.logging.log4j"));
        assert_eq!(
            log4j.cpe.as_deref(),
            Some("cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*")
        );
        // A number where a string belongs is read; a string where an object
        // belongs is read as the name; an object where a string belongs is
        // ignored.
        let exchange = &import.items[1];
        assert_eq!(exchange.version.as_deref(), Some("2019"));
        assert_eq!(exchange.vendor.as_deref(), Some("Microsoft Corporation"));
        assert_eq!(exchange.purl, None);
        assert_eq!(exchange.name, "Exchange Server");
    }

    #[test]
    fn plain_duplicates_are_kept_once_but_different_packages_are_not_merged() {
        let doc = br#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
            {"name": "foo", "version": "1", "purl": "pkg:npm/foo@1"},
            {"name": "foo", "version": "1", "purl": "pkg:pypi/foo@1"},
            {"name": "Widget", "version": "2", "supplier": {"name": "Acme"}},
            {"name": "widget", "version": "2", "supplier": {"name": "ACME"}},
            {"name": "Widget", "version": "3", "supplier": {"name": "Acme"}}
        ]}"#;
        let import = read_cyclonedx(doc).expect("reads");
        let labels: Vec<String> = import.items.iter().map(|i| i.label()).collect();
        assert_eq!(labels, ["foo 1", "foo 1", "Widget 2", "Widget 3"]);
    }

    #[test]
    fn other_documents_are_refused_with_a_clear_message() {
        let xml = br#"<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.4"/>"#;
        let e = read_cyclonedx(xml).expect_err("xml");
        assert_eq!(e, SbomError::Xml);
        assert_eq!(
            e.to_string(),
            "CycloneDX XML is not supported; export the SBOM as JSON"
        );
        // With a byte-order mark and leading blank lines too.
        assert_eq!(
            read_cyclonedx(b"\xEF\xBB\xBF\n  <bom/>"),
            Err(SbomError::Xml)
        );

        let e = read_cyclonedx(br#"{"name": "my app", "dependencies": {}}"#).expect_err("npm");
        assert_eq!(
            e.to_string(),
            "not a CycloneDX SBOM: it has no \"bomFormat\": \"CycloneDX\" field"
        );
        let e = read_cyclonedx(br#"{"bomFormat": "SWID"}"#).expect_err("other");
        assert_eq!(
            e.to_string(),
            "not a CycloneDX SBOM: its \"bomFormat\" is \"SWID\", not \"CycloneDX\""
        );
        let e = read_cyclonedx(br#"[{"bomFormat": "CycloneDX"}]"#).expect_err("list");
        assert_eq!(
            e.to_string(),
            "not a CycloneDX SBOM: the top level of the file is a list, not a CycloneDX document (an object with \"bomFormat\": \"CycloneDX\")"
        );
        let e =
            read_cyclonedx(br#"{"spdxVersion": "SPDX-2.3", "packages": []}"#).expect_err("spdx");
        assert_eq!(e, SbomError::Spdx);
        assert_eq!(
            read_cyclonedx(b"SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\n"),
            Err(SbomError::Spdx)
        );
        let e = read_cyclonedx(br#"{"bomFormat": "CycloneDX", "specVersion": "1.1"}"#)
            .expect_err("old");
        assert_eq!(
            e.to_string(),
            "CycloneDX spec version \"1.1\" is not supported; export the SBOM as CycloneDX JSON 1.2 to 1.6"
        );
        let e = read_cyclonedx(br#"{"bomFormat": "CycloneDX", "components": {}}"#)
            .expect_err("components object");
        assert_eq!(
            e.to_string(),
            "not a CycloneDX SBOM: its \"components\" is an object, not a list"
        );

        let e = read_cyclonedx(br#"{"bomFormat": "CycloneDX", "components": [}"#)
            .expect_err("bad json");
        match &e {
            SbomError::NotJson { line, column, .. } => assert_eq!((*line, *column), (1, 43)),
            other => panic!("expected NotJson, got {other:?}"),
        }
        assert_eq!(
            e.to_string(),
            "not valid JSON: expected value at line 1 column 43; export the SBOM as CycloneDX JSON"
        );
        assert_eq!(read_cyclonedx(b""), Err(SbomError::Empty));
        assert_eq!(read_cyclonedx(b" \r\n\t"), Err(SbomError::Empty));
        assert_eq!(read_cyclonedx(b"\xFF\xFE{\0"), Err(SbomError::Utf16));
        assert!(matches!(
            read_cyclonedx(b"{\"bomFormat\": \"Cyclone\xFFDX\"}"),
            Err(SbomError::NotJson { .. })
        ));
    }

    #[test]
    fn a_minimal_document_without_version_or_components_is_empty() {
        let import = read_cyclonedx(br#"{"bomFormat": "CycloneDX"}"#).expect("reads");
        assert_eq!(
            import,
            SbomImport {
                subject: None,
                spec_version: None,
                items: vec![],
                skipped: vec![],
            }
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let mut doc = String::from(r#"{"bomFormat": "CycloneDX", "components": ["#);
        for _ in 0..10_000 {
            doc.push_str(r#"{"name": "x", "components": ["#);
        }
        let e = read_cyclonedx(doc.as_bytes()).expect_err("too deep");
        assert!(matches!(e, SbomError::NotJson { .. }), "{e:?}");
    }

    #[test]
    fn truncated_and_mangled_bytes_never_panic() {
        for fixture in [JUICE_SHOP_NESTED, HBOM, CBOM] {
            for len in (0..fixture.len()).step_by(7) {
                let _ = read_cyclonedx(&fixture[..len]);
            }
        }
        // Every length of the small one, and bytes flipped here and there.
        for len in 0..=CBOM.len() {
            assert!(read_cyclonedx(&CBOM[..len]).is_err() || len + 2 >= CBOM.len());
        }
        let mut mangled = JUICE_SHOP_NESTED.to_vec();
        for (n, i) in (0..mangled.len()).step_by(331).enumerate() {
            mangled[i] = [b'"', b'{', b'[', 0xFF, b'\\', b'0', b'}'][n % 7];
            let _ = read_cyclonedx(&mangled);
        }
        const ALPHABET: &[u8] = b"{}[]\",:CycloneDXbomFormatcomponents \\u0\xFF";
        let mut state = 0x2545_f491_u32;
        for _ in 0..200 {
            let bytes: Vec<u8> = (0..(state % 300))
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    ALPHABET[state as usize % ALPHABET.len()]
                })
                .collect();
            let _ = read_cyclonedx(&bytes);
        }
    }
}

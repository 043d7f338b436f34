//! What a member runs: inventory items as the matcher sees them, and the
//! validation every way of adding one (form, API, CSV, SBOM) goes through.

use crate::purl::Purl;
use openwarp_advisory::cpe::Wfn;
use serde::{Deserialize, Serialize};

/// Longest free-text field we keep (names, owners); notes may be longer.
pub const MAX_FIELD: usize = 200;
pub const MAX_NOTES: usize = 4000;

/// An inventory item as the matcher sees it. `id` is the store's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryItem {
    pub id: i64,
    pub org_id: i64,
    #[serde(flatten)]
    pub fields: ItemFields,
}

/// The fields a member gives for one item, validated and normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemFields {
    /// What people call it ("Payroll server", "Exchange 2019"); defaults to vendor + product.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// CPE 2.3 formatted string (a URI binding given is converted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpe: Option<String>,
    /// Package URL, canonical form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    #[serde(default)]
    pub internet_facing: bool,
    #[serde(default)]
    pub business_critical: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Which field of an item is wrong, and why, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ItemProblem {
    pub field: &'static str,
    pub message: String,
}

fn problem(field: &'static str, message: impl Into<String>) -> ItemProblem {
    ItemProblem {
        field,
        message: message.into(),
    }
}

fn clean(
    field: &'static str,
    v: Option<String>,
    max: usize,
) -> Result<Option<String>, ItemProblem> {
    let Some(v) = v else { return Ok(None) };
    let v = v.trim().to_string();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > max {
        return Err(problem(field, format!("is longer than {max} characters")));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(problem(field, "contains control characters"));
    }
    Ok(Some(v))
}

/// A version as typed, as a CPE attribute value. CPE values hold no spaces:
/// `8.5.1 build 3` → `8.5.1_build_3`. Shared by validation, the matcher and
/// the resolver so an item's CPE and its suggestions agree.
pub fn cpe_version(
    version: &str,
) -> Result<openwarp_advisory::cpe::AttrValue, openwarp_advisory::cpe::ValueProblem> {
    openwarp_advisory::cpe::AttrValue::literal(
        &version.split_whitespace().collect::<Vec<_>>().join("_"),
    )
}

impl ItemFields {
    /// Check and normalise: the CPE is parsed (formatted string or URI
    /// binding) and stored as a formatted string; vendor, product and version
    /// are filled from the CPE or purl when not given; a version given
    /// separately wins over one inside the CPE or purl, and is written into
    /// them so the three never disagree. At least one way of identifying the
    /// product is required.
    pub fn validate(self) -> Result<ItemFields, ItemProblem> {
        let mut out = ItemFields {
            name: clean("name", Some(self.name), MAX_FIELD)?.unwrap_or_default(),
            vendor: clean("vendor", self.vendor, MAX_FIELD)?,
            product: clean("product", self.product, MAX_FIELD)?,
            version: clean("version", self.version, MAX_FIELD)?,
            cpe: clean("cpe", self.cpe, 1000)?,
            purl: clean("purl", self.purl, 1000)?,
            internet_facing: self.internet_facing,
            business_critical: self.business_critical,
            owner: clean("owner", self.owner, MAX_FIELD)?,
            notes: clean("notes", self.notes, MAX_NOTES)?,
        };
        // A version inside the purl counts as given, so the CPE gets it too
        // (and validating twice gives the same item).
        if out.version.is_none()
            && let Some(p) = out.purl.as_deref().and_then(|p| Purl::parse(p).ok())
        {
            out.version = p.version().map(str::to_string);
        }
        if let Some(raw) = out.cpe.take() {
            let wfn = Wfn::parse(&raw).map_err(|e| problem("cpe", e.to_string()))?;
            let (vendor, product) = (wfn.vendor().unquoted(), wfn.product().unquoted());
            if vendor.is_none() || product.is_none() {
                return Err(problem(
                    "cpe",
                    "must name a vendor and a product (not * or -), so it can be matched",
                ));
            }
            let version_in_cpe = wfn.version().unquoted();
            let wfn = match (&out.version, &version_in_cpe) {
                (Some(v), _) => wfn
                    .with_version(cpe_version(v).map_err(|e| problem("version", e.to_string()))?)
                    .map_err(|e| problem("cpe", e.to_string()))?,
                (None, Some(v)) => {
                    out.version = Some(v.clone());
                    wfn
                }
                (None, None) => wfn,
            };
            out.vendor = out.vendor.or(vendor);
            out.product = out.product.or(product);
            out.cpe = Some(wfn.to_string());
        }
        if let Some(raw) = out.purl.take() {
            let purl = Purl::parse(&raw).map_err(|e| problem("purl", e.to_string()))?;
            let purl = match (&out.version, purl.version()) {
                (Some(v), _) => purl.with_version(Some(v.clone())),
                (None, Some(v)) => {
                    out.version = Some(v.to_string());
                    purl
                }
                (None, None) => purl,
            };
            if out.vendor.is_none() {
                out.vendor = purl.namespace().map(str::to_string);
            }
            out.product = out.product.or_else(|| Some(purl.name().to_string()));
            out.purl = Some(purl.to_string());
        }
        if out.product.is_none() && out.cpe.is_none() && out.purl.is_none() {
            return Err(problem(
                "product",
                "give a product name, a CPE 2.3 name or a package URL",
            ));
        }
        if out.name.is_empty() {
            out.name = [out.vendor.as_deref(), out.product.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
        }
        Ok(out)
    }

    /// The item's CPE name, with its version, ready for matching.
    pub fn wfn(&self) -> Option<Wfn> {
        self.cpe.as_deref().and_then(|c| Wfn::parse(c).ok())
    }

    /// The item's package URL, ready for matching.
    pub fn package(&self) -> Option<Purl> {
        self.purl.as_deref().and_then(|p| Purl::parse(p).ok())
    }

    /// "Apache Log4j 2.14.1" — how the item is named in sentences.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) if !self.name.contains(v.as_str()) => format!("{} {v}", self.name),
            _ => self.name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> ItemFields {
        ItemFields::default()
    }

    #[test]
    fn cpe_fills_vendor_product_and_version() {
        let f = ItemFields {
            cpe: Some("cpe:/a:apache:log4j:2.14.1".into()),
            ..fields()
        }
        .validate()
        .expect("valid");
        assert_eq!(
            f.cpe.as_deref(),
            Some("cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*")
        );
        assert_eq!(f.vendor.as_deref(), Some("apache"));
        assert_eq!(f.product.as_deref(), Some("log4j"));
        assert_eq!(f.version.as_deref(), Some("2.14.1"));
        assert_eq!(f.name, "apache log4j");
        assert_eq!(f.label(), "apache log4j 2.14.1");
    }

    #[test]
    fn a_separate_version_is_written_into_the_cpe_and_purl() {
        let f = ItemFields {
            cpe: Some("cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*".into()),
            purl: Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.0".into()),
            version: Some("2.14.1".into()),
            ..fields()
        }
        .validate()
        .expect("valid");
        assert_eq!(
            f.cpe.as_deref(),
            Some("cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*")
        );
        assert_eq!(
            f.purl.as_deref(),
            Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
        );
    }

    #[test]
    fn validation_is_idempotent_when_the_purl_carries_the_version() {
        let once = ItemFields {
            cpe: Some("cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*".into()),
            purl: Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into()),
            ..fields()
        }
        .validate()
        .expect("valid");
        assert_eq!(
            once.cpe.as_deref(),
            Some("cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*")
        );
        assert_eq!(once.clone().validate(), Ok(once));
    }

    #[test]
    fn bad_items_name_the_field() {
        let e = ItemFields {
            cpe: Some("cpe:2.3:a:*:*:*:*:*:*:*:*:*:*".into()),
            ..fields()
        }
        .validate()
        .expect_err("no vendor");
        assert_eq!(e.field, "cpe");
        let e = ItemFields {
            cpe: Some("not a cpe".into()),
            ..fields()
        }
        .validate()
        .expect_err("not a cpe");
        assert_eq!(e.field, "cpe");
        let e = ItemFields {
            purl: Some("maven/foo".into()),
            ..fields()
        }
        .validate()
        .expect_err("not a purl");
        assert_eq!(e.field, "purl");
        let e = fields().validate().expect_err("nothing to match");
        assert_eq!(e.field, "product");
        let e = ItemFields {
            product: Some("x".into()),
            owner: Some("a".repeat(MAX_FIELD + 1)),
            ..fields()
        }
        .validate()
        .expect_err("too long");
        assert_eq!(e.field, "owner");
    }

    #[test]
    fn plain_text_items_are_kept_as_given() {
        let f = ItemFields {
            vendor: Some(" Microsoft ".into()),
            product: Some("Exchange Server".into()),
            version: Some("2019 CU12".into()),
            internet_facing: true,
            ..fields()
        }
        .validate()
        .expect("valid");
        assert_eq!(f.name, "Microsoft Exchange Server");
        assert!(f.cpe.is_none());
        assert!(f.internet_facing);
    }
}

//! Index keys: the few strings under which a statement or an item is filed,
//! so that a changed advisory reaches only the items it could affect, and a
//! changed item only the advisories that could affect it. A key never decides
//! a match — the [`crate::matcher`] does — it only narrows the search, so
//! keys must over-approximate: every statement that could match an item
//! shares at least one key with it.
//!
//! - `cpe:<vendor>:<product>` — a CPE name's vendor and product;
//! - `name:<vendor>:<product>` — vendor and product as text (CVE 5, CSAF, and
//!   every item that has a vendor and a product);
//! - `pkg:<type>/<namespace>/<name>` — a package (see [`crate::purl`]).
//!
//! Vendor and product are normalised the same way everywhere ([`norm`]), so
//! the text "Fortinet" / "FortiOS" meets the CPE name `fortinet:fortios`.

use crate::inventory::ItemFields;
use crate::purl::{Purl, collection_package_key, osv_package_key};
use openwarp_advisory::cpe::Wfn;
use openwarp_advisory::model::{Affected, RecordState, SourceRecord};
use std::collections::BTreeSet;

/// Lower case, with every run of spaces and `_` made one `_`, and CPE
/// quoting removed: `Exchange Server` → `exchange_server`, `PAN-OS` →
/// `pan-os`. Hyphens stay: CPE names keep them (`pan-os`, `esp-idf`), and a
/// key must turn back into the CPE name the resolver suggests.
pub fn norm(text: &str) -> String {
    NormChars::new(text).collect()
}

/// Whether `raw` normalises to `normed` (as [`norm`] would give it), without
/// allocating: the matcher asks this for every statement of every candidate pair.
pub fn norm_eq(raw: &str, normed: &str) -> bool {
    NormChars::new(raw).eq(normed.chars())
}

/// The characters of [`norm`], lazily.
struct NormChars<'a> {
    chars: std::str::Chars<'a>,
    /// Lower-case expansion of the current character still to emit.
    pending: Option<std::char::ToLowercase>,
    started: bool,
    gap: bool,
}

impl<'a> NormChars<'a> {
    fn new(text: &'a str) -> NormChars<'a> {
        NormChars {
            chars: text.trim().chars(),
            pending: None,
            started: false,
            gap: false,
        }
    }
}

impl Iterator for NormChars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        if let Some(p) = &mut self.pending {
            if let Some(c) = p.next() {
                return Some(c);
            }
            self.pending = None;
        }
        loop {
            let c = self.chars.next()?;
            if c == '\\' {
                continue;
            }
            if c.is_whitespace() || c == '_' {
                self.gap = self.started;
                continue;
            }
            let mut lower = c.to_lowercase();
            if self.gap {
                self.gap = false;
                self.pending = Some(lower);
                return Some('_');
            }
            self.started = true;
            let first = lower.next();
            self.pending = Some(lower);
            return first;
        }
    }
}

fn pair_key(prefix: &str, vendor: &str, product: &str) -> Option<String> {
    let (v, p) = (norm(vendor), norm(product));
    if v.is_empty() || p.is_empty() || v == "n/a" || p == "n/a" {
        return None;
    }
    Some(format!("{prefix}:{v}:{p}"))
}

/// `cpe:` key of a CPE name, when its vendor and product are plain values.
pub fn cpe_key(wfn: &Wfn) -> Option<String> {
    let (v, p) = wfn.vendor_product_key()?;
    pair_key("cpe", &v, &p)
}

/// `cpe:` key of a CPE name given as a string (formatted or URI binding).
pub fn cpe_key_of(cpe: &str) -> Option<String> {
    // Plain formatted strings (no quoting, no wildcards in vendor and
    // product) need no parse: the common case, and keys are computed for
    // every criteria of every stored advisory.
    let mut parts = cpe.split(':');
    if !cpe.contains('\\')
        && let (Some("cpe"), Some("2.3"), Some(part), Some(v), Some(p), Some(_)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        && matches!(part, "a" | "o" | "h" | "*" | "-")
        && ![v, p]
            .iter()
            .any(|x| x.is_empty() || *x == "-" || x.contains(['*', '?']))
    {
        return pair_key("cpe", v, p);
    }
    Wfn::parse(cpe).ok().as_ref().and_then(cpe_key)
}

/// Whether a CPE name (formatted string or URI) names this normalised vendor
/// and product. Plain formatted strings are compared in place; anything
/// else is parsed.
pub fn cpe_names(cpe: &str, vendor: &str, product: &str) -> bool {
    let mut parts = cpe.split(':');
    if !cpe.contains('\\')
        && let (Some("cpe"), Some("2.3"), Some(_), Some(v), Some(p)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        && !v.contains(['*', '?'])
        && !p.contains(['*', '?'])
    {
        return norm_eq(v, vendor) && norm_eq(p, product);
    }
    cpe_key_of(cpe).is_some_and(|k| k == format!("cpe:{vendor}:{product}"))
}

/// `name:` key of a vendor and product given as text.
pub fn name_key(vendor: &str, product: &str) -> Option<String> {
    pair_key("name", vendor, product)
}

/// The keys of one statement. KEV entries name products too loosely to
/// match on (they enrich, not match), so they have none.
pub fn statement_keys(a: &Affected) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    match a {
        Affected::Nvd(config) => {
            // Only vulnerable criteria can make an item exposed; platform
            // criteria are checked against the rest of the member's estate.
            for m in config.nodes.iter().flat_map(|n| &n.cpe_match) {
                if m.vulnerable {
                    keys.extend(cpe_key_of(&m.criteria));
                }
            }
        }
        Affected::Cve5(c) => {
            keys.extend(c.cpes.iter().filter_map(|x| cpe_key_of(x)));
            if let (Some(v), Some(p)) = (&c.vendor, &c.product) {
                keys.extend(name_key(v, p));
            }
            if let (Some(url), Some(name)) = (&c.collection_url, &c.package_name) {
                keys.extend(collection_package_key(url, name));
            }
        }
        Affected::Osv(o) => {
            keys.extend(osv_package_key(&o.ecosystem, &o.name));
            keys.extend(
                o.purl
                    .as_deref()
                    .and_then(|p| Purl::parse(p).ok())
                    .map(|p| p.key()),
            );
            keys.extend(o.cpes.iter().filter_map(|x| cpe_key_of(x)));
        }
        Affected::Csaf(p) => {
            keys.extend(p.cpe.as_deref().and_then(cpe_key_of));
            keys.extend(
                p.purls
                    .iter()
                    .filter_map(|x| Purl::parse(x).ok())
                    .map(|x| x.key()),
            );
            if let (Some(v), Some(prod)) = (&p.vendor, &p.product) {
                keys.extend(name_key(v, prod));
            }
        }
        Affected::Kev { .. } => {}
    }
    keys
}

/// Whether a record's statements count: rejected and withdrawn records say nothing.
pub fn is_live(r: &SourceRecord) -> bool {
    matches!(r.state, RecordState::Published)
}

/// The records of one vulnerability as the matcher reads them: live records
/// that make statements (or carry KEV facts), without prose, references or
/// scores. What the store keeps for matching.
pub fn statements_only(records: &[SourceRecord]) -> Vec<SourceRecord> {
    records
        .iter()
        .filter(|r| is_live(r) && (!r.affected.is_empty() || r.kev.is_some()))
        .map(|r| SourceRecord {
            description: None,
            title: None,
            references: Vec::new(),
            cvss: Vec::new(),
            cwes: Vec::new(),
            ..r.clone()
        })
        .collect()
}

/// Every key of every live record of an advisory.
pub fn advisory_keys(records: &[SourceRecord]) -> BTreeSet<String> {
    records
        .iter()
        .filter(|r| is_live(r))
        .flat_map(|r| r.affected.iter().flat_map(statement_keys))
        .collect()
}

/// The keys of an item. A CPE gives its `cpe:` and `name:` keys; plain
/// vendor/product text gives the same pair as both (so "Apache" / "Tomcat"
/// meets `cpe:apache:tomcat` without a confirmed CPE); a purl gives its
/// package key.
pub fn item_keys(item: &ItemFields) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    if let Some(wfn) = item.wfn() {
        if let Some(k) = cpe_key(&wfn) {
            keys.insert(k.replacen("cpe:", "name:", 1));
            keys.insert(k);
        }
    } else if let (Some(v), Some(p)) = (&item.vendor, &item.product)
        && item.purl.is_none()
    {
        keys.extend(pair_key("cpe", v, p));
        keys.extend(name_key(v, p));
    }
    if let Some(p) = item.package() {
        keys.insert(p.key());
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use openwarp_advisory::model::{BoolOp, CpeMatch, NvdConfiguration, NvdNode};

    proptest::proptest! {
        #[test]
        fn norm_eq_agrees_with_norm(a in "[ a-zA-Z_\\-\\\\.0-9ÄÉß]{0,12}", b in "[ a-zA-Z_\\-.0-9]{0,12}") {
            proptest::prop_assert!(norm_eq(&a, &norm(&a)));
            proptest::prop_assert_eq!(norm_eq(&a, &norm(&b)), norm(&a) == norm(&b));
        }
    }

    #[test]
    fn the_plain_path_agrees_with_parsing() {
        for c in [
            "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*",
            "cpe:2.3:o:paloaltonetworks:pan-os:10.2.9:*:*:*:*:*:*:*",
            "cpe:2.3:a:microsoft:.net_framework:4.8:*:*:*:*:*:*:*",
            "cpe:2.3:a:Apache:Tomcat:9.0:*:*:*:*:*:*:*",
            "cpe:2.3:a:gnome:gdk-pixbuf:*:*:*:*:*:*:*:*",
            "cpe:2.3:a:vendor\\:x:prod:1:*:*:*:*:*:*:*",
            "cpe:2.3:a:*:prod:1:*:*:*:*:*:*:*",
            "cpe:2.3:a:-:prod:1:*:*:*:*:*:*:*",
            "cpe:/a:apache:log4j:2.14.1",
        ] {
            let parsed = Wfn::parse(c).ok().as_ref().and_then(cpe_key);
            assert_eq!(cpe_key_of(c), parsed, "{c}");
        }
    }

    /// A corpus key turns back into the CPE name it came from, so a CPE the
    /// resolver suggests from it meets the NVD criteria (hyphens kept).
    #[test]
    fn keys_round_trip_to_cpe_names() {
        let criteria = "cpe:2.3:o:paloaltonetworks:pan-os:*:*:*:*:*:*:*:*";
        let key = cpe_key_of(criteria).expect("key");
        assert_eq!(key, "cpe:paloaltonetworks:pan-os");
        let (vendor, product) = key
            .strip_prefix("cpe:")
            .and_then(|k| k.split_once(':'))
            .expect("vendor and product");
        let suggested = crate::resolver::suggest(
            &crate::resolver::Query {
                vendor: None,
                product: "PAN-OS",
                version: Some("10.2.9"),
            },
            &[crate::resolver::Candidate {
                part: None,
                vendor: vendor.into(),
                product: product.into(),
                advisories: 1,
            }],
            1,
        );
        let cpe = &suggested.first().expect("a suggestion").cpe;
        let item = Wfn::parse(cpe).expect("valid CPE");
        let m = openwarp_advisory::model::CpeMatch {
            vulnerable: true,
            criteria: criteria.into(),
            match_criteria_id: None,
            version_start_including: Some("10.2.0".into()),
            version_start_excluding: None,
            version_end_including: None,
            version_end_excluding: Some("10.2.9-h1".into()),
        };
        assert!(
            openwarp_advisory::applicability::cpe_match_matches(&m, &item),
            "{cpe}"
        );
    }

    #[test]
    fn normalisation_meets_cpe_names() {
        assert_eq!(norm(" Exchange  Server "), "exchange_server");
        assert_eq!(norm("PAN-OS"), "pan-os");
        assert_eq!(norm("internet\\_explorer"), "internet_explorer");
        assert_eq!(norm("__x__"), "x");
        assert_eq!(norm(""), "");
    }

    fn cm(criteria: &str, vulnerable: bool) -> CpeMatch {
        CpeMatch {
            vulnerable,
            criteria: criteria.into(),
            match_criteria_id: None,
            version_start_including: None,
            version_start_excluding: None,
            version_end_including: None,
            version_end_excluding: None,
        }
    }

    #[test]
    fn nvd_keys_are_the_vulnerable_criteria_only() {
        let config = Affected::Nvd(NvdConfiguration {
            operator: Some(BoolOp::And),
            negate: false,
            nodes: vec![
                NvdNode {
                    operator: BoolOp::Or,
                    negate: false,
                    cpe_match: vec![cm("cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*", true)],
                },
                NvdNode {
                    operator: BoolOp::Or,
                    negate: false,
                    cpe_match: vec![cm("cpe:2.3:h:fortinet:fortigate:-:*:*:*:*:*:*:*", false)],
                },
            ],
        });
        let keys: Vec<String> = statement_keys(&config).into_iter().collect();
        assert_eq!(keys, vec!["cpe:fortinet:fortios"]);
    }

    #[test]
    fn text_items_meet_cpe_and_name_keys() {
        let item = ItemFields {
            vendor: Some("Fortinet".into()),
            product: Some("FortiOS".into()),
            ..ItemFields::default()
        };
        let keys: Vec<String> = item_keys(&item).into_iter().collect();
        assert_eq!(keys, vec!["cpe:fortinet:fortios", "name:fortinet:fortios"]);
        let item = ItemFields {
            cpe: Some("cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*".into()),
            purl: Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into()),
            ..ItemFields::default()
        };
        let keys: Vec<String> = item_keys(&item).into_iter().collect();
        assert_eq!(
            keys,
            vec![
                "cpe:apache:log4j",
                "name:apache:log4j",
                "pkg:maven/org.apache.logging.log4j/log4j-core"
            ]
        );
    }
}

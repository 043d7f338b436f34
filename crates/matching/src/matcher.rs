//! Does an advisory affect an inventory item, and why?
//!
//! Each source's statements keep their own semantics:
//!
//! - **NVD** configurations through [`openwarp_advisory::applicability`]
//!   (AND/OR nodes, negation, the `vulnerable` flag, the four version bounds;
//!   platform criteria met by the rest of the member's estate).
//! - **CVE 5** `affected` entries through [`openwarp_advisory::ranges::cve5_status`]
//!   (ranges, `changes`, `defaultStatus`), identified by CPE, vendor and
//!   product, or registry package.
//! - **OSV** entries through [`openwarp_advisory::ranges::osv_verdict`]
//!   (SEMVER/ECOSYSTEM ranges and version lists; GIT ranges cannot decide a
//!   version and are left out).
//! - **CSAF** product statuses: affected statuses expose; `known_not_affected`,
//!   `fixed` and `first_fixed` for the member's exact version *clear* the item
//!   (VEX) — unless the same documents also call that version affected.
//!
//! An item whose version is not recorded cannot be placed in a range: when a
//! statement names its product, the finding is [`Verdict::VersionUnknown`],
//! never silence. Rejected and withdrawn records say nothing.

use crate::inventory::InventoryItem;
use crate::keys::{
    cpe_key, cpe_names, is_live, item_keys, name_key, norm, norm_eq, statement_keys,
};
use crate::purl::{Purl, collection_package_key, osv_package_key};
use openwarp_advisory::applicability::{
    CompiledConfig, Estate, applies, applies_compiled, describe,
};
use openwarp_advisory::cpe::{AttrValue, Wfn, is_match};
use openwarp_advisory::model::{
    Affected, CpeMatch, CsafProductStatus, CsafStatus, Cve5Affected, Cve5Version, NvdConfiguration,
    OsvAffected, OsvEvent, OsvRangeKind, SourceKind, SourceRecord, VersionStatus,
};
use openwarp_advisory::ranges::{OsvVerdict, cve5_status, osv_verdict};
use openwarp_advisory::version::Version;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One statement from one source that bears on one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub source: SourceKind,
    pub record_id: String,
    /// What the source says, as published (criteria and bounds, ranges, status).
    pub statement: String,
    /// Why it bears on this item, in words.
    pub why: String,
}

/// The outcome for one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The item's version is within what a source calls affected.
    Affected,
    /// A source names the product, but the item has no version to check.
    VersionUnknown,
    /// A vendor's VEX statement clears the item's version.
    NotAffected,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Affected => "affected",
            Verdict::VersionUnknown => "version_unknown",
            Verdict::NotAffected => "not_affected",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        [
            Verdict::Affected,
            Verdict::VersionUnknown,
            Verdict::NotAffected,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// What the advisory means for the item, with every statement that says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub verdict: Verdict,
    /// Statements that call the item (possibly) affected.
    pub evidence: Vec<Evidence>,
    /// VEX statements that clear the item's version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cleared_by: Vec<Evidence>,
    /// What fixes it, from the sources: a vendor fix, or the first fixed version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
}

/// An item read once for matching: its CPE name (a plain-text item gets one
/// built from its vendor and product), package and version.
#[derive(Debug, Clone)]
pub struct PreparedItem<'a> {
    pub item: &'a InventoryItem,
    wfn: Option<Wfn>,
    cpe_key: Option<String>,
    package_key: Option<String>,
    version: Option<Version>,
    /// Normalised vendor and product (from the CPE, else the text), for
    /// allocation-free comparisons.
    pair: Option<(String, String)>,
    /// The item's index keys.
    keys: BTreeSet<String>,
}

fn text_wfn(vendor: &str, product: &str, version: Option<&str>) -> Option<Wfn> {
    let value = |s: &str| AttrValue::literal(&norm(s)).ok();
    let version = match version {
        Some(v) => crate::inventory::cpe_version(v).ok()?,
        None => AttrValue::Any,
    };
    let mut attrs: [AttrValue; 11] = std::array::from_fn(|_| AttrValue::Any);
    attrs[1] = value(vendor)?;
    attrs[2] = value(product)?;
    attrs[3] = version;
    Wfn::new(attrs).ok()
}

impl<'a> PreparedItem<'a> {
    pub fn new(item: &'a InventoryItem) -> PreparedItem<'a> {
        let f = &item.fields;
        let version = f.version.as_deref().and_then(Version::parse_known);
        let wfn = f.wfn().or_else(|| match (&f.vendor, &f.product, &f.purl) {
            (Some(v), Some(p), None) => text_wfn(v, p, f.version.as_deref()),
            _ => None,
        });
        let cpe_key = wfn.as_ref().and_then(cpe_key);
        let name_key = match (&f.vendor, &f.product, &cpe_key) {
            (_, _, Some(k)) => Some(k.replacen("cpe:", "name:", 1)),
            (Some(v), Some(p), None) => name_key(v, p),
            _ => None,
        };
        let pair = name_key.as_deref().and_then(|k| {
            let rest = k.strip_prefix("name:")?;
            let (v, p) = rest.split_once(':')?;
            Some((v.to_string(), p.to_string()))
        });
        PreparedItem {
            item,
            keys: item_keys(f),
            pair,
            package_key: f.package().map(|p| p.key()),
            wfn,
            cpe_key,
            version,
        }
    }

    /// The item's CPE name, for other items' platform checks.
    pub fn wfn(&self) -> Option<&Wfn> {
        self.wfn.as_ref()
    }
}

/// Collects what the statements of one advisory say about one item.
struct Collector {
    affected: Vec<Evidence>,
    unknown: Vec<Evidence>,
    cleared: Vec<Evidence>,
    /// CSAF statements calling this exact version affected (they veto a clearance).
    csaf_affected_exact: bool,
    fixes: Vec<String>,
    fixed_versions: Vec<Version>,
}

fn ev(r: &SourceRecord, statement: String, why: String) -> Evidence {
    Evidence {
        source: r.source,
        record_id: r.record_id.clone(),
        statement,
        why,
    }
}

/// Everything the advisory's records say about `item`; `estate` is the CPE
/// names of the member's whole inventory (for platform criteria). `None`
/// when no statement bears on the item, or only VEX clearances do.
pub fn assess(records: &[SourceRecord], item: &PreparedItem, estate: &Estate) -> Option<Finding> {
    assess_compiled(&Compiled::new(records), item, estate)
}

/// An advisory's live statements, each with its index keys, read once so
/// that many items can be assessed against it cheaply: a statement is only
/// looked at for items sharing one of its keys (keys decide identity exactly
/// as the per-source rules do; see [`crate::keys`]).
#[derive(Debug)]
pub struct Compiled<'r> {
    statements: Vec<Statement<'r>>,
}

#[derive(Debug)]
struct Statement<'r> {
    record: &'r SourceRecord,
    affected: &'r Affected,
    keys: BTreeSet<String>,
    /// NVD configurations, with criteria parsed once.
    nvd: Option<CompiledConfig<'r>>,
}

impl<'r> Compiled<'r> {
    pub fn new(records: &'r [SourceRecord]) -> Compiled<'r> {
        let statements = records
            .iter()
            .filter(|r| is_live(r))
            .flat_map(|r| {
                r.affected
                    .iter()
                    .filter(|a| !matches!(a, Affected::Kev { .. }))
                    .map(move |a| Statement {
                        record: r,
                        affected: a,
                        keys: statement_keys(a),
                        nvd: match a {
                            Affected::Nvd(config) => Some(CompiledConfig::new(config)),
                            _ => None,
                        },
                    })
            })
            .collect();
        Compiled { statements }
    }

    /// Every index key of the advisory's live statements.
    pub fn keys(&self) -> BTreeSet<&str> {
        self.statements
            .iter()
            .flat_map(|s| s.keys.iter().map(String::as_str))
            .collect()
    }
}

/// [`assess`] over a compiled advisory.
pub fn assess_compiled(
    advisory: &Compiled,
    item: &PreparedItem,
    estate: &Estate,
) -> Option<Finding> {
    let mut c = Collector {
        affected: Vec::new(),
        unknown: Vec::new(),
        cleared: Vec::new(),
        csaf_affected_exact: false,
        fixes: Vec::new(),
        fixed_versions: Vec::new(),
    };
    for st in &advisory.statements {
        if st.keys.is_disjoint(&item.keys) {
            continue;
        }
        let r = st.record;
        match st.affected {
            Affected::Nvd(config) => {
                if let Some(cc) = &st.nvd {
                    nvd(&mut c, r, config, cc, item, estate);
                }
            }
            Affected::Cve5(entry) => cve5(&mut c, r, entry, item),
            Affected::Osv(entry) => osv(&mut c, r, entry, item),
            Affected::Csaf(product) => csaf(&mut c, r, product, item),
            Affected::Kev { .. } => {}
        }
    }
    let verdict = if !c.cleared.is_empty() && !c.csaf_affected_exact {
        if c.affected.is_empty() && c.unknown.is_empty() {
            return None;
        }
        Verdict::NotAffected
    } else if !c.affected.is_empty() {
        Verdict::Affected
    } else if !c.unknown.is_empty() {
        Verdict::VersionUnknown
    } else {
        return None;
    };
    c.fixed_versions.sort();
    c.fixed_versions.dedup();
    let remedy = c.fixes.first().cloned().or_else(|| {
        // The lowest fixed version above the item's (or the lowest of all).
        let above = c
            .fixed_versions
            .iter()
            .find(|f| item.version.as_ref().is_none_or(|v| *f > v));
        above.map(|f| format!("update to version {} or later", f.as_str()))
    });
    let mut evidence = c.affected;
    evidence.extend(c.unknown);
    Some(Finding {
        verdict,
        evidence,
        cleared_by: c.cleared,
        remedy,
    })
}

/// The same configuration with every version constraint removed, to ask
/// "is this product named at all?" for items with no version.
fn without_versions(config: &NvdConfiguration) -> NvdConfiguration {
    let mut out = config.clone();
    for m in out.nodes.iter_mut().flat_map(|n| n.cpe_match.iter_mut()) {
        if let Ok(w) = Wfn::parse(&m.criteria).and_then(|w| w.with_version(AttrValue::Any)) {
            m.criteria = w.to_string();
        }
        *m = CpeMatch {
            version_start_including: None,
            version_start_excluding: None,
            version_end_including: None,
            version_end_excluding: None,
            ..m.clone()
        };
    }
    out
}

fn nvd(
    c: &mut Collector,
    r: &SourceRecord,
    config: &NvdConfiguration,
    cc: &CompiledConfig,
    item: &PreparedItem,
    estate: &Estate,
) {
    let Some(wfn) = &item.wfn else { return };
    if item.version.is_some() {
        if let Some(e) = applies_compiled(cc, wfn, estate) {
            let mut statement = e.vulnerable;
            if !e.platforms.is_empty() {
                statement.push_str(&format!(" when running on {}", e.platforms.join(", ")));
            }
            c.fixed_versions
                .extend(e.fixed_in.as_deref().map(Version::parse));
            let why = format!(
                "version {} is in the vulnerable range",
                item.version.as_ref().map_or("", |v| v.as_str())
            );
            c.affected.push(ev(r, statement, why));
        }
    } else if let Some(e) = applies(&without_versions(config), wfn, estate) {
        // Describe the original criteria (with bounds) that named the product.
        let statement = config
            .nodes
            .iter()
            .flat_map(|n| &n.cpe_match)
            .find(|m| m.vulnerable && crate::keys::cpe_key_of(&m.criteria) == item.cpe_key)
            .map_or(e.vulnerable, describe);
        c.unknown.push(ev(
            r,
            statement,
            "names this product; your inventory has no version to check".into(),
        ));
    }
}

/// Whether a CVE 5 entry is about the item's product.
fn cve5_names(entry: &Cve5Affected, item: &PreparedItem) -> bool {
    if let Some((v, p)) = &item.pair {
        if item.cpe_key.is_some() && entry.cpes.iter().any(|x| cpe_names(x, v, p)) {
            return true;
        }
        if let (Some(ev), Some(ep)) = (&entry.vendor, &entry.product)
            && norm_eq(ev, v)
            && norm_eq(ep, p)
        {
            return true;
        }
    }
    item.package_key.is_some()
        && match (&entry.collection_url, &entry.package_name) {
            (Some(u), Some(n)) => collection_package_key(u, n) == item.package_key,
            _ => false,
        }
}

fn describe_cve5_version(e: &Cve5Version) -> String {
    let status = match e.status {
        VersionStatus::Affected => "affected",
        VersionStatus::Unaffected => "unaffected",
        VersionStatus::Unknown => "status unknown",
    };
    match (&e.less_than, &e.less_than_or_equal) {
        (Some(lt), _) => format!("{status} from {} before {lt}", e.version),
        (_, Some(le)) => format!("{status} from {} up to {le}", e.version),
        _ => format!("{status}: {}", e.version),
    }
}

fn cve5_product(entry: &Cve5Affected) -> String {
    match (&entry.vendor, &entry.product, &entry.package_name) {
        (Some(v), Some(p), _) => format!("{v} {p}"),
        (None, Some(p), _) => p.clone(),
        (_, None, Some(n)) => n.clone(),
        _ => "the product".into(),
    }
}

fn cve5(c: &mut Collector, r: &SourceRecord, entry: &Cve5Affected, item: &PreparedItem) {
    if !cve5_names(entry, item) {
        return;
    }
    // Decide first; words are only built for statements that count.
    let why = match &item.version {
        Some(v) if cve5_status(entry, v) == VersionStatus::Affected => {
            Some(format!("version {} is affected", v.as_str()))
        }
        Some(_) => return,
        None => {
            let any_affected = entry.default_status == VersionStatus::Affected
                || entry
                    .versions
                    .iter()
                    .any(|e| e.status == VersionStatus::Affected);
            if !any_affected {
                return;
            }
            None
        }
    };
    // The first version at which an affected range ends is the fix.
    for e in &entry.versions {
        if e.status == VersionStatus::Affected
            && let Some(lt) = &e.less_than
            && Version::parse_known(lt).is_some()
            && !lt.contains('*')
        {
            c.fixed_versions.push(Version::parse(lt));
        }
        for (at, status) in &e.changes {
            if *status == VersionStatus::Unaffected {
                c.fixed_versions.push(Version::parse(at));
            }
        }
    }
    let who = if entry.container == "cna" {
        "the CVE record".to_string()
    } else {
        format!("the CVE record ({})", entry.container)
    };
    const SHOWN: usize = 8;
    let mut ranges: Vec<String> = entry
        .versions
        .iter()
        .take(SHOWN)
        .map(describe_cve5_version)
        .collect();
    if entry.versions.len() > SHOWN {
        ranges.push(format!("and {} more", entry.versions.len() - SHOWN));
    }
    let mut statement = format!("{who} lists {}", cve5_product(entry));
    if !ranges.is_empty() {
        statement.push_str(&format!(": {}", ranges.join("; ")));
    }
    match why {
        Some(why) => c.affected.push(ev(r, statement, why)),
        None => c.unknown.push(ev(
            r,
            statement,
            "names this product; your inventory has no version to check".into(),
        )),
    }
}

fn osv(c: &mut Collector, r: &SourceRecord, entry: &OsvAffected, item: &PreparedItem) {
    let by_package = item.package_key.is_some()
        && (osv_package_key(&entry.ecosystem, &entry.name) == item.package_key
            || entry
                .purl
                .as_deref()
                .and_then(|p| Purl::parse(p).ok())
                .map(|p| p.key())
                == item.package_key);
    let by_cpe = item.cpe_key.is_some()
        && item
            .pair
            .as_ref()
            .is_some_and(|(v, p)| entry.cpes.iter().any(|x| cpe_names(x, v, p)));
    if !by_package && !by_cpe {
        return;
    }
    let decidable =
        !entry.versions.is_empty() || entry.ranges.iter().any(|r| r.kind != OsvRangeKind::Git);
    let why = match &item.version {
        Some(v) => match osv_verdict(entry, v) {
            OsvVerdict::Affected => Some(format!("version {} is affected", v.as_str())),
            OsvVerdict::NotAffected | OsvVerdict::Undecidable(_) => return,
        },
        None if decidable => None,
        None => return,
    };
    let mut parts = Vec::new();
    for range in &entry.ranges {
        if range.kind == OsvRangeKind::Git {
            continue;
        }
        let events: Vec<String> = range
            .events
            .iter()
            .map(|e| match e {
                OsvEvent::Introduced(v) => format!("introduced {v}"),
                OsvEvent::Fixed(v) => {
                    c.fixed_versions.push(Version::parse(v));
                    format!("fixed {v}")
                }
                OsvEvent::LastAffected(v) => format!("last affected {v}"),
                OsvEvent::Limit(v) => format!("limit {v}"),
            })
            .collect();
        parts.push(events.join(", "));
    }
    if !entry.versions.is_empty() {
        parts.push(format!("{} listed versions", entry.versions.len()));
    }
    let statement = format!(
        "{} package {}: {}",
        entry.ecosystem,
        entry.name,
        parts.join("; ")
    );
    match why {
        Some(why) => c.affected.push(ev(r, statement, why)),
        None => c.unknown.push(ev(
            r,
            statement,
            "names this package; your inventory has no version to check".into(),
        )),
    }
}

/// A range end: the version, and whether it is included.
type Bound = (Version, bool);

/// Whether a CSAF version string covers `v`: an exact version, a `vers:`
/// range (`vers:generic/>=1.0|<2.0`), or free text of comparators
/// (`>= 4.01 | <= 4.34`, `<V3.0`, `all versions`). `None` when unreadable.
pub fn csaf_version_covers(spec: &str, v: &Version) -> Option<bool> {
    let spec = spec.trim();
    let lower = spec.to_lowercase();
    if matches!(lower.as_str(), "*" | "all" | "all versions" | "vers:all/*") {
        return Some(true);
    }
    let body = match lower.strip_prefix("vers:") {
        Some(rest) => rest.split_once('/').map_or(rest, |(_, c)| c),
        None => spec,
    };
    let mut lows: Vec<Bound> = Vec::new();
    let mut ranges: Vec<(Option<Bound>, Option<Bound>)> = Vec::new();
    let mut comparators = 0;
    for part in body.split('|').map(str::trim).filter(|p| !p.is_empty()) {
        let (op, rest) = ["<=", ">=", "!=", "<", ">", "="]
            .iter()
            .find_map(|op| part.strip_prefix(op).map(|r| (*op, r.trim())))
            .unwrap_or(("", part));
        if rest == "*" {
            return Some(true);
        }
        if !rest.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        let bound = Version::parse_known(rest)?;
        match op {
            "" | "=" => {
                if comparators == 0 && body.split('|').count() == 1 {
                    return Some(bound == *v);
                }
                if bound == *v {
                    return Some(true);
                }
            }
            "!=" => {
                if bound == *v {
                    return Some(false);
                }
            }
            ">=" | ">" => {
                comparators += 1;
                lows.push((bound, op == ">="));
            }
            _ => {
                comparators += 1;
                let high = Some((bound, op == "<="));
                ranges.push((lows.pop(), high));
            }
        }
    }
    ranges.extend(lows.into_iter().map(|l| (Some(l), None)));
    if comparators == 0 {
        return Some(false);
    }
    Some(ranges.iter().any(|(low, high)| {
        low.as_ref()
            .is_none_or(|(b, incl)| if *incl { v >= b } else { v > b })
            && high
                .as_ref()
                .is_none_or(|(b, incl)| if *incl { v <= b } else { v < b })
    }))
}

/// Whether a CSAF product is the item, and whether it covers the item's
/// version: `Some(true)` yes, `Some(false)` another version, `None` cannot tell.
fn csaf_covers(p: &CsafProductStatus, item: &PreparedItem) -> Option<Option<bool>> {
    let v = item.version.as_ref();
    if let (Some(cpe), Some(item_key)) = (p.cpe.as_deref(), &item.cpe_key)
        && let Ok(pw) = Wfn::parse(cpe)
        && cpe_key(&pw).as_ref() == Some(item_key)
    {
        let open = matches!(pw.version(), AttrValue::Any) || pw.version().has_wildcards();
        return Some(match (open, v, &item.wfn) {
            (true, _, _) => Some(true),
            (false, None, _) => None,
            (false, Some(_), Some(w)) => Some(is_match(&pw, w)),
            (false, Some(_), None) => None,
        });
    }
    if let Some(item_key) = &item.package_key {
        for raw in &p.purls {
            if let Ok(purl) = Purl::parse(raw)
                && purl.key() == *item_key
            {
                return Some(match (purl.version(), v) {
                    (None, _) => Some(true),
                    (Some(_), None) => None,
                    (Some(pv), Some(v)) => csaf_version_covers(pv, v),
                });
            }
        }
    }
    if let (Some(vendor), Some(product), Some((iv, ip))) = (&p.vendor, &p.product, &item.pair)
        && norm_eq(vendor, iv)
        && norm_eq(product, ip)
    {
        return Some(match (&p.version, v) {
            (None, _) => Some(true),
            (Some(_), None) => None,
            (Some(spec), Some(v)) => csaf_version_covers(spec, v),
        });
    }
    None
}

/// A version written as one version, not a range or words.
fn plain_version(s: &str) -> Option<Version> {
    let s = s.trim();
    if s.contains(['<', '>', '|', '=', '*', ' ', ',']) || s.starts_with("vers:") {
        return None;
    }
    Version::parse_known(s)
}

fn csaf_status_words(s: CsafStatus) -> &'static str {
    match s {
        CsafStatus::FirstAffected => "first affected",
        CsafStatus::FirstFixed => "first fixed",
        CsafStatus::Fixed => "fixed",
        CsafStatus::KnownAffected => "known affected",
        CsafStatus::KnownNotAffected => "known not affected",
        CsafStatus::LastAffected => "last affected",
        CsafStatus::Recommended => "recommended",
        CsafStatus::UnderInvestigation => "under investigation",
    }
}

fn csaf(c: &mut Collector, r: &SourceRecord, p: &CsafProductStatus, item: &PreparedItem) {
    let Some(covers) = csaf_covers(p, item) else {
        return;
    };
    let publisher = r.publisher.as_deref().unwrap_or("the vendor");
    let document = r.record_id.split('#').next().unwrap_or(&r.record_id);
    let statement = format!(
        "{publisher} ({document}) marks {} as {}",
        p.name,
        csaf_status_words(p.status)
    );
    if p.status.is_affected() {
        // A vendor fix offered for this product is the remedy.
        for rem in &r.remediations {
            if rem.category == "vendor_fix"
                && rem.product_ids.contains(&p.product_id)
                && !rem.details.trim().is_empty()
            {
                c.fixes.push(rem.details.trim().to_string());
            }
        }
        match covers {
            Some(true) => {
                if item.version.is_some() {
                    c.csaf_affected_exact = true;
                    let why = format!(
                        "version {} is covered",
                        item.version.as_ref().map_or("", |v| v.as_str())
                    );
                    c.affected.push(ev(r, statement, why));
                } else {
                    c.unknown.push(ev(
                        r,
                        statement,
                        "names this product; your inventory has no version to check".into(),
                    ));
                }
            }
            None => c.unknown.push(ev(
                r,
                statement,
                "names this product; the version cannot be compared".into(),
            )),
            Some(false) => {}
        }
    } else if p.status.clears() && covers == Some(true) && item.version.is_some() {
        if let Some(v) = p.version.as_deref().and_then(plain_version)
            && matches!(p.status, CsafStatus::Fixed | CsafStatus::FirstFixed)
        {
            c.fixed_versions.push(v);
        }
        let why = format!(
            "version {} is cleared by the vendor",
            item.version.as_ref().map_or("", |v| v.as_str())
        );
        c.cleared.push(ev(r, statement, why));
    } else if matches!(p.status, CsafStatus::Fixed | CsafStatus::FirstFixed)
        && let Some(v) = p.version.as_deref().and_then(plain_version)
    {
        c.fixed_versions.push(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::ItemFields;
    use openwarp_advisory::model::{BoolOp, NvdNode, Parsed};

    fn records(bytes: &[u8]) -> Vec<SourceRecord> {
        let mut out = Vec::new();
        openwarp_advisory::parse::parse_any(bytes, &mut |p| {
            if let Parsed::Record(r) = p {
                out.push(*r);
            }
        })
        .expect("fixture parses");
        out
    }

    fn about(records: &[SourceRecord], vuln: &str) -> Vec<SourceRecord> {
        records
            .iter()
            .filter(|r| r.vuln_id == vuln)
            .cloned()
            .collect()
    }

    fn item(id: i64, fields: ItemFields) -> InventoryItem {
        InventoryItem {
            id,
            org_id: 1,
            fields: fields.validate().expect("valid item"),
        }
    }

    fn cpe(id: i64, cpe: &str) -> InventoryItem {
        item(
            id,
            ItemFields {
                cpe: Some(cpe.into()),
                ..ItemFields::default()
            },
        )
    }

    fn text(id: i64, vendor: &str, product: &str, version: Option<&str>) -> InventoryItem {
        item(
            id,
            ItemFields {
                vendor: Some(vendor.into()),
                product: Some(product.into()),
                version: version.map(str::to_string),
                ..ItemFields::default()
            },
        )
    }

    fn purl(id: i64, purl: &str) -> InventoryItem {
        item(
            id,
            ItemFields {
                purl: Some(purl.into()),
                ..ItemFields::default()
            },
        )
    }

    /// Assess each item of an estate against the records.
    fn run(records: &[SourceRecord], estate: &[InventoryItem], which: usize) -> Option<Finding> {
        let prepared: Vec<PreparedItem> = estate.iter().map(PreparedItem::new).collect();
        let names: Vec<Wfn> = prepared.iter().filter_map(|p| p.wfn().cloned()).collect();
        assess(records, &prepared[which], &Estate::new(names))
    }

    const ESP32: &[u8] = include_bytes!(
        "../../advisory/tests/fixtures/nvd/nvd_api_esp32_firmware_on_hardware_bounds.json"
    );
    const LOG4SHELL: &[u8] = include_bytes!(
        "../../advisory/tests/fixtures/cve5/cve5_log4shell_changes_and_cisa_adp_cvss.json"
    );
    const GO_STDLIB: &[u8] =
        include_bytes!("../../advisory/tests/fixtures/osv/go_stdlib_and_x_net_reopened_range.json");
    const BITNAMI_TOMCAT: &[u8] =
        include_bytes!("../../advisory/tests/fixtures/osv/bitnami_tomcat_cpes_cvss3.json");
    const GO_GIT: &[u8] =
        include_bytes!("../../advisory/tests/fixtures/osv/go_withdrawn_kubernetes_proxy.jsonl");
    const OASIS_VEX: &[u8] = include_bytes!(
        "../../advisory/tests/fixtures/csaf/oasis_vex_uc08_fixed_not_affected_recommended.json"
    );
    const CISA_VEX: &[u8] = include_bytes!(
        "../../advisory/tests/fixtures/csaf/cisa_va_24_201_01_vex_relationship_fixed.json"
    );
    const NVD_REJECTED: &[u8] = include_bytes!(
        "../../advisory/tests/fixtures/nvd/nvd_feed_2026_firmware_on_hardware_and_rejected.json"
    );

    #[test]
    fn nvd_firmware_on_hardware_with_bounds() {
        let r = records(ESP32);
        let idf = |v: &str| cpe(1, &format!("cpe:2.3:a:espressif:esp-idf:{v}:*:*:*:*:*:*:*"));
        let board = cpe(2, "cpe:2.3:h:espressif:esp32:-:*:*:*:*:*:*:*");
        let f = run(&r, &[idf("4.1"), board.clone()], 0).expect("exposed");
        assert_eq!(f.verdict, Verdict::Affected);
        assert_eq!(f.evidence[0].source, SourceKind::Nvd);
        assert!(
            f.evidence[0]
                .statement
                .contains("when running on cpe:2.3:h:espressif:esp32")
        );
        assert_eq!(f.evidence[0].why, "version 4.1 is in the vulnerable range");
        // A version outside the bounds.
        assert_eq!(run(&r, &[idf("4.3"), board.clone()], 0), None);
        // The AND is half satisfied without the hardware.
        assert_eq!(run(&r, &[idf("4.1")], 0), None);
        // The hardware alone is never the exposed item (its match is not vulnerable).
        assert_eq!(run(&r, &[idf("4.1"), board.clone()], 1), None);
        // No version recorded: named, but cannot be placed in the range.
        let unversioned = cpe(1, "cpe:2.3:a:espressif:esp-idf:*:*:*:*:*:*:*:*");
        let f = run(&r, &[unversioned, board], 0).expect("named");
        assert_eq!(f.verdict, Verdict::VersionUnknown);
        assert!(f.evidence[0].statement.contains("from 4.0.0 up to 4.2"));
    }

    /// Plain-text items (no part given) meet NVD criteria of any part.
    #[test]
    fn nvd_matches_plain_text_items() {
        let r = records(ESP32);
        let idf = text(1, "Espressif", "esp-idf", Some("4.1"));
        let board = text(2, "espressif", "esp32", None);
        let f = run(&r, &[idf, board], 0).expect("exposed");
        assert_eq!(f.verdict, Verdict::Affected);
        let outside = text(1, "Espressif", "esp-idf", Some("4.3"));
        assert_eq!(
            run(&r, &[outside, text(2, "espressif", "esp32", None)], 0),
            None
        );
    }

    #[test]
    fn nvd_negated_node_excludes_a_version() {
        // "Every version of the product, except when the platform is present."
        let m = |criteria: &str, vulnerable: bool| CpeMatch {
            vulnerable,
            criteria: criteria.into(),
            match_criteria_id: None,
            version_start_including: None,
            version_start_excluding: None,
            version_end_including: None,
            version_end_excluding: Some("2.0".into()),
        };
        let r = SourceRecord {
            affected: vec![Affected::Nvd(NvdConfiguration {
                operator: Some(BoolOp::And),
                negate: false,
                nodes: vec![
                    NvdNode {
                        operator: BoolOp::Or,
                        negate: false,
                        cpe_match: vec![m("cpe:2.3:a:acme:portal:*:*:*:*:*:*:*:*", true)],
                    },
                    NvdNode {
                        operator: BoolOp::Or,
                        negate: true,
                        cpe_match: vec![m("cpe:2.3:o:acme:hardened_os:*:*:*:*:*:*:*:*", false)],
                    },
                ],
            })],
            ..records(ESP32).remove(0)
        };
        let portal = cpe(1, "cpe:2.3:a:acme:portal:1.5:*:*:*:*:*:*:*");
        let os = cpe(2, "cpe:2.3:o:acme:hardened_os:1.0:*:*:*:*:*:*:*");
        let records = [r];
        assert_eq!(
            run(&records, std::slice::from_ref(&portal), 0).map(|f| f.verdict),
            Some(Verdict::Affected)
        );
        assert_eq!(run(&records, &[portal, os], 0), None);
    }

    #[test]
    fn cve5_changes_decide_each_version_and_give_the_fix() {
        let r = records(LOG4SHELL);
        let log4j = |v: &str| text(1, "Apache Software Foundation", "Apache Log4j2", Some(v));
        let f = run(&r, &[log4j("2.14.1")], 0).expect("affected");
        assert_eq!(f.verdict, Verdict::Affected);
        assert_eq!(f.evidence[0].source, SourceKind::Cve5);
        assert!(
            f.evidence[0]
                .statement
                .starts_with("the CVE record lists Apache Software Foundation Apache Log4j2")
        );
        assert_eq!(
            f.remedy.as_deref(),
            Some("update to version 2.15.0 or later")
        );
        for unaffected in ["2.12.2", "2.3.1", "2.15.0", "2.17.1", "2.0-beta8"] {
            assert_eq!(run(&r, &[log4j(unaffected)], 0), None, "{unaffected}");
        }
        assert_eq!(
            run(&r, &[log4j("2.4")], 0).map(|f| f.verdict),
            Some(Verdict::Affected)
        );
        let unversioned = text(1, "Apache Software Foundation", "Apache Log4j2", None);
        assert_eq!(
            run(&r, &[unversioned], 0).map(|f| f.verdict),
            Some(Verdict::VersionUnknown)
        );
        // Another vendor's product of the same name is not this one.
        assert_eq!(
            run(&r, &[text(1, "Other", "Apache Log4j2", Some("2.14.1"))], 0),
            None
        );
    }

    #[test]
    fn osv_reopened_ranges_over_purls() {
        let r = about(&records(GO_STDLIB), "CVE-2022-27664");
        let stdlib = |v: &str| purl(1, &format!("pkg:golang/stdlib@{v}"));
        assert_eq!(
            run(&r, &[stdlib("1.18.5")], 0).map(|f| f.verdict),
            Some(Verdict::Affected)
        );
        assert_eq!(run(&r, &[stdlib("1.18.6")], 0), None);
        assert_eq!(
            run(&r, &[stdlib("1.19.0")], 0).map(|f| f.verdict),
            Some(Verdict::Affected)
        );
        assert_eq!(run(&r, &[stdlib("1.19.1")], 0), None);
        let f = run(&r, &[stdlib("1.19.0")], 0).expect("affected");
        assert_eq!(
            f.remedy.as_deref(),
            Some("update to version 1.19.1 or later")
        );
        let xnet = purl(
            1,
            "pkg:golang/golang.org/x/net@v0.0.0-20220826154423-83b083e8dc8b",
        );
        assert_eq!(
            run(&r, &[xnet], 0).map(|f| f.verdict),
            Some(Verdict::Affected)
        );
    }

    #[test]
    fn osv_cpes_meet_cpe_items_and_git_only_ranges_decide_nothing() {
        let r = records(BITNAMI_TOMCAT);
        let tomcat = |v: &str| cpe(1, &format!("cpe:2.3:a:apache:tomcat:{v}:*:*:*:*:*:*:*"));
        assert_eq!(
            run(&r, &[tomcat("9.0.39")], 0).map(|f| f.verdict),
            Some(Verdict::Affected)
        );
        assert_eq!(run(&r, &[tomcat("9.0.40")], 0), None);
        assert_eq!(run(&r, &[tomcat("8.0.1")], 0), None);
        for record in records(GO_GIT) {
            let Some(Affected::Osv(a)) = record.affected.first() else {
                continue;
            };
            let item = purl(1, &format!("pkg:golang/{}@v1.0.0", a.name));
            let only_git = a.ranges.iter().all(|x| x.kind == OsvRangeKind::Git);
            if only_git && a.versions.is_empty() {
                assert_eq!(run(std::slice::from_ref(&record), &[item], 0), None);
            }
        }
    }

    #[test]
    fn csaf_vex_clears_the_versions_it_names() {
        let r = records(OASIS_VEX);
        let vuln = r[0].vuln_id.clone();
        let vendor = match r[0].affected.iter().find_map(|a| match a {
            Affected::Csaf(p) => p.vendor.clone(),
            _ => None,
        }) {
            Some(v) => v,
            None => panic!("the example names its vendor"),
        };
        // A broad statement from elsewhere: every version of ABC is affected.
        let broad = SourceRecord {
            source: SourceKind::Cve5,
            record_id: vuln.clone(),
            vuln_id: vuln.clone(),
            affected: vec![Affected::Cve5(Cve5Affected {
                container: "cna".into(),
                vendor: Some(vendor.clone()),
                product: Some("ABC".into()),
                collection_url: None,
                package_name: None,
                cpes: vec![],
                platforms: vec![],
                default_status: VersionStatus::Affected,
                versions: vec![],
            })],
            remediations: vec![],
            ..r[0].clone()
        };
        let mut all = r.clone();
        all.push(broad);
        let abc = |v: &str| text(1, &vendor, "ABC", Some(v));
        // 4.2 is known_not_affected: the vendor's VEX clears the broad statement.
        let f = run(&all, &[abc("4.2")], 0).expect("a finding");
        assert_eq!(f.verdict, Verdict::NotAffected);
        assert!(
            f.cleared_by[0].statement.contains("known not affected"),
            "{:?}",
            f.cleared_by
        );
        // 2.4 is known_affected: stays exposed.
        assert_eq!(
            run(&all, &[abc("2.4")], 0).map(|f| f.verdict),
            Some(Verdict::Affected)
        );
        // 3.0 lies in the vers range >=2.9|<=4.1, known_affected.
        let f = run(&r, &[abc("3.0")], 0).expect("in range");
        assert!(
            f.evidence[0].statement.contains(">=2.9|<=4.1"),
            "{:?}",
            f.evidence
        );
        // 2.5 is not affected and nothing else says otherwise: no finding at all.
        assert_eq!(run(&r, &[abc("2.5")], 0), None);
        // Without the VEX the broad statement alone exposes 2.5.
        let broad_only = &all[all.len() - 1..];
        assert_eq!(
            run(broad_only, &[abc("2.5")], 0).map(|f| f.verdict),
            Some(Verdict::Affected)
        );
    }

    #[test]
    fn csaf_fixed_version_and_all_versions() {
        let r = about(&records(CISA_VEX), "CVE-2023-45195");
        let evo = |v: &str| text(1, "AdminerEvo", "AdminerEvo", Some(v));
        let f = run(&r, &[evo("4.8.3")], 0).expect("affected");
        assert_eq!(f.verdict, Verdict::Affected);
        assert_eq!(run(&r, &[evo("4.8.4")], 0), None);
        let adminer = text(1, "Adminer", "Adminer", Some("4.7.0"));
        assert_eq!(
            run(&r, &[adminer], 0).map(|f| f.verdict),
            Some(Verdict::Affected)
        );
    }

    #[test]
    fn rejected_records_say_nothing() {
        let r = about(&records(NVD_REJECTED), "CVE-2026-3076");
        assert!(!r.is_empty());
        let anything = text(1, "netgear", "xr1000v2_firmware", Some("1.0"));
        assert_eq!(run(&r, &[anything], 0), None);
    }

    #[test]
    fn csaf_version_specs() {
        let v = Version::parse;
        assert_eq!(
            csaf_version_covers("vers:generic/>=2.9|<=4.1", &v("3.0")),
            Some(true)
        );
        assert_eq!(
            csaf_version_covers("vers:generic/>=2.9|<=4.1", &v("4.2")),
            Some(false)
        );
        assert_eq!(
            csaf_version_covers(">= 4.01 | <= 4.34", &v("4.20")),
            Some(true)
        );
        assert_eq!(csaf_version_covers("<V3.0", &v("V2.4")), Some(true));
        assert_eq!(csaf_version_covers("<V3.0", &v("V3.0")), Some(false));
        assert_eq!(csaf_version_covers("all versions", &v("1")), Some(true));
        assert_eq!(csaf_version_covers("vers:all/*", &v("1")), Some(true));
        assert_eq!(csaf_version_covers("4.8.3", &v("4.8.3")), Some(true));
        assert_eq!(csaf_version_covers("4.8.3", &v("4.8.4")), Some(false));
        assert_eq!(
            csaf_version_covers("vers:npm/1.0.0|2.0.0", &v("2.0.0")),
            Some(true)
        );
        assert_eq!(
            csaf_version_covers("vers:npm/>=1.0.0|!=1.5.0", &v("1.5.0")),
            Some(false)
        );
        assert_eq!(
            csaf_version_covers("vers:npm/>=1.0.0|!=1.5.0", &v("1.6.0")),
            Some(true)
        );
        assert_eq!(csaf_version_covers("see vendor notes", &v("1.0")), None);
    }
}

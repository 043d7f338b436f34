//! Does an NVD configuration apply to what a member runs? The NVD's
//! applicability semantics over CPE names and version bounds:
//!
//! - A `cpeMatch` matches a CPE name when the criteria is a CPE superset of it
//!   (NIST IR 7696) and, when the criteria's version is ANY, the name's
//!   version lies within every bound given (`versionStart/End
//!   Including/Excluding`, compared with [`crate::version`]).
//! - A node is satisfied when any (`OR`) or every (`AND`) of its matches is;
//!   `negate` inverts it.
//! - A configuration is satisfied when any (`OR`, the default) or every
//!   (`AND`) node is; `negate` inverts it.
//! - It *applies to an item* when, in addition, one of the `vulnerable`
//!   matches that took part matched that item itself. Non-vulnerable matches
//!   (the "running on" platform, e.g. the hardware under a firmware) may be
//!   satisfied by any other item of the same estate.
//!
//! The result carries the evidence: which criteria matched which name, so a
//! member can always see why they were told.

use crate::cpe::{AttrValue, Attribute, Wfn, is_match, is_match_skipping};
use crate::model::{BoolOp, CpeMatch, NvdConfiguration, NvdNode};
use crate::version::{Range, Version, is_placeholder};
use std::cell::OnceCell;
use std::collections::HashMap;

/// Why a configuration applies to an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvdEvidence {
    /// The vulnerable criteria that matched the item, with its bounds in words.
    pub vulnerable: String,
    /// Platform criteria satisfied by other items of the estate (e.g. hardware).
    pub platforms: Vec<String>,
    /// The first version past the vulnerable range (`versionEndExcluding`), when given.
    pub fixed_in: Option<String>,
    /// The last affected version (`versionEndIncluding`), when given.
    pub last_affected: Option<String>,
}

/// The criteria and its bounds as people read them.
pub fn describe(m: &CpeMatch) -> String {
    let mut out = m.criteria.clone();
    let bounds = [
        ("from", &m.version_start_including),
        ("after", &m.version_start_excluding),
        ("up to", &m.version_end_including),
        ("before", &m.version_end_excluding),
    ];
    for (word, v) in bounds {
        if let Some(v) = v {
            out.push_str(&format!(" {word} {v}"));
        }
    }
    out
}

/// A CPE name with its plain vendor and product, read once, so most
/// criteria can be ruled out by two string comparisons instead of a parse.
struct Named<'a> {
    wfn: &'a Wfn,
    /// Another item of the estate, not the one being assessed.
    other: bool,
    key: Option<(String, String)>,
    version: Option<String>,
    parsed: Option<Version>,
}

impl<'a> Named<'a> {
    fn new(wfn: &'a Wfn) -> Named<'a> {
        let version = wfn.version().unquoted();
        Named {
            wfn,
            other: false,
            key: wfn.vendor_product_key(),
            parsed: version.as_deref().and_then(Version::parse_known),
            version,
        }
    }
}

/// The CPE names of a member's whole estate, read once and indexed by
/// vendor and product, so platform criteria look only at the items that
/// could match them.
#[derive(Debug, Clone, Default)]
pub struct Estate {
    wfns: Vec<Wfn>,
    by_key: HashMap<(String, String), Vec<usize>>,
}

impl Estate {
    pub fn new(names: Vec<Wfn>) -> Estate {
        let mut by_key: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, w) in names.iter().enumerate() {
            if let Some(k) = w.vendor_product_key() {
                by_key.entry(k).or_default().push(i);
            }
        }
        Estate {
            wfns: names,
            by_key,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.wfns.is_empty()
    }

    /// The names a criteria could match: those with its vendor and product
    /// when both are plain, otherwise all.
    fn candidates<'e>(&'e self, criteria: &str) -> Box<dyn Iterator<Item = &'e Wfn> + 'e> {
        match plain_vendor_product(criteria) {
            Some((v, p)) => Box::new(
                self.by_key
                    .get(&(v.to_lowercase(), p.to_lowercase()))
                    .into_iter()
                    .flatten()
                    .filter_map(|&i| self.wfns.get(i)),
            ),
            None => Box::new(self.wfns.iter()),
        }
    }
}

/// Vendor and product of a formatted-string criteria when both are plain
/// (no quoting, no wildcards).
fn plain_vendor_product(criteria: &str) -> Option<(&str, &str)> {
    if criteria.contains('\\') {
        return None;
    }
    let mut parts = criteria.split(':');
    let (Some("cpe"), Some("2.3"), Some(_), Some(v), Some(p)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let plain = |s: &str| !s.is_empty() && !s.contains(['*', '?']);
    (plain(v) && plain(p)).then_some((v, p))
}

impl Named<'_> {
    fn other(mut self) -> Self {
        self.other = true;
        self
    }
}

fn range_of(m: &CpeMatch) -> Range<'_> {
    Range {
        start_including: m.version_start_including.as_deref(),
        start_excluding: m.version_start_excluding.as_deref(),
        end_including: m.version_end_including.as_deref(),
        end_excluding: m.version_end_excluding.as_deref(),
    }
}

fn is_ranged(m: &CpeMatch) -> bool {
    [
        &m.version_start_including,
        &m.version_start_excluding,
        &m.version_end_including,
        &m.version_end_excluding,
    ]
    .iter()
    .any(|b| b.as_deref().is_some_and(|b| !is_placeholder(b)))
}

/// Whether a criteria certainly does not match `name`, judged from the
/// formatted string's plain components alone (no quoting, no wildcards):
/// another vendor or product, or — with no range bounds — another exact
/// version. Undecided cases answer `false` and get the full comparison.
fn certainly_not(m: &CpeMatch, name: &Named) -> bool {
    let Some((vendor, product)) = &name.key else {
        return false;
    };
    if m.criteria.contains('\\') {
        return false;
    }
    let mut parts = m.criteria.split(':');
    let (Some("cpe"), Some("2.3"), Some(_), Some(v), Some(p), Some(ver)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let plain = |s: &str| !s.contains(['*', '?']);
    if plain(v) && plain(p) && !(v.eq_ignore_ascii_case(vendor) && p.eq_ignore_ascii_case(product))
    {
        return true;
    }
    let unbounded = m.version_start_including.is_none()
        && m.version_start_excluding.is_none()
        && m.version_end_including.is_none()
        && m.version_end_excluding.is_none();
    match &name.version {
        Some(have) if unbounded && plain(ver) && ver != "-" => !ver.eq_ignore_ascii_case(have),
        _ => false,
    }
}

/// Whether one `cpeMatch` matches one CPE name.
pub fn cpe_match_matches(m: &CpeMatch, name: &Wfn) -> bool {
    match Wfn::parse(&m.criteria) {
        Ok(criteria) => match_parsed(m, &criteria, name, false),
        Err(_) => false,
    }
}

/// [`cpe_match_matches`] with the criteria already parsed.
fn match_parsed(m: &CpeMatch, criteria: &Wfn, name: &Wfn, unknown_version_counts: bool) -> bool {
    // A name whose part is ANY (an inventory item given as plain text, or a
    // CPE without a part) is taken to be whichever part the criteria names.
    let part_open = matches!(name.part(), AttrValue::Any);
    // Another item of the estate with no version (ANY) is one whose version
    // is not known: as a platform or companion it counts as present. (The
    // item under assessment never gets this: an unknown version cannot be
    // placed in a range; the matcher reports it as "version unknown".)
    if unknown_version_counts && matches!(name.version(), AttrValue::Any) {
        let skip: &[Attribute] = if part_open {
            &[Attribute::Part, Attribute::Version]
        } else {
            &[Attribute::Version]
        };
        return is_match_skipping(criteria, name, skip);
    }
    if !is_ranged(m) {
        return if part_open {
            is_match_skipping(criteria, name, &[Attribute::Part])
        } else {
            is_match(criteria, name)
        };
    }
    // Bounds apply to the name's version: compare everything else by CPE
    // rules, then the version by range.
    let Some(version) = name
        .version()
        .unquoted()
        .and_then(|v| Version::parse_known(&v))
    else {
        return false;
    };
    let skip: &[Attribute] = if part_open {
        &[Attribute::Part, Attribute::Version]
    } else {
        &[Attribute::Version]
    };
    is_match_skipping(criteria, name, skip) && range_of(m).contains(&version)
}

/// An NVD configuration with each criteria parsed at most once, however
/// many items it is checked against.
#[derive(Debug)]
pub struct CompiledConfig<'c> {
    config: &'c NvdConfiguration,
    /// Per node, per match: the parsed criteria (`None` when unreadable).
    parsed: Vec<Vec<OnceCell<Option<Wfn>>>>,
}

impl<'c> CompiledConfig<'c> {
    pub fn new(config: &'c NvdConfiguration) -> CompiledConfig<'c> {
        CompiledConfig {
            config,
            parsed: config
                .nodes
                .iter()
                .map(|n| n.cpe_match.iter().map(|_| OnceCell::new()).collect())
                .collect(),
        }
    }

    fn criteria(&self, node: usize, at: usize) -> Option<&Wfn> {
        let cell = self.parsed.get(node)?.get(at)?;
        let m = self.config.nodes.get(node)?.cpe_match.get(at)?;
        cell.get_or_init(|| Wfn::parse(&m.criteria).ok()).as_ref()
    }

    /// Whether match `at` of node `node` matches `name`.
    fn matches(&self, node: usize, at: usize, m: &CpeMatch, name: &Named) -> bool {
        if certainly_not(m, name) {
            return false;
        }
        // Bounds first: comparing versions is cheaper than parsing the criteria.
        if is_ranged(m) && !(name.other && name.version.is_none()) {
            match &name.parsed {
                Some(v) if range_of(m).contains(v) => {}
                _ => return false,
            }
        }
        self.criteria(node, at)
            .is_some_and(|c| match_parsed(m, c, name.wfn, name.other))
    }
}

/// A node's truth over the estate, and the vulnerable matches of `item`
/// that made it true (empty when negated or satisfied by platforms only).
fn eval_node<'n>(
    cc: &CompiledConfig<'n>,
    index: usize,
    node: &'n NvdNode,
    item: &Named,
    estate: &Estate,
) -> (bool, Vec<&'n CpeMatch>, Vec<String>) {
    let mut hits_item = Vec::new();
    let mut platforms = Vec::new();
    let results: Vec<bool> = node
        .cpe_match
        .iter()
        .enumerate()
        .map(|(at, m)| {
            if m.vulnerable && cc.matches(index, at, m, item) {
                hits_item.push(m);
                true
            } else if estate
                .candidates(&m.criteria)
                .any(|n| cc.matches(index, at, m, &Named::new(n).other()))
            {
                if !m.vulnerable {
                    platforms.push(describe(m));
                }
                true
            } else {
                false
            }
        })
        .collect();
    let raw = match node.operator {
        BoolOp::Or => results.iter().any(|&r| r),
        BoolOp::And => !results.is_empty() && results.iter().all(|&r| r),
    };
    if node.negate {
        (!raw, Vec::new(), Vec::new())
    } else {
        (raw, hits_item, platforms)
    }
}

/// Whether `config` applies to `item`, given everything else in the estate
/// (`estate` may include `item`). `None` when it does not.
pub fn applies(config: &NvdConfiguration, item: &Wfn, estate: &Estate) -> Option<NvdEvidence> {
    applies_compiled(&CompiledConfig::new(config), item, estate)
}

/// [`applies`] over a compiled configuration (for checking many items).
pub fn applies_compiled(cc: &CompiledConfig, item: &Wfn, estate: &Estate) -> Option<NvdEvidence> {
    let config = cc.config;
    let item = Named::new(item);
    // Without AND or negation anywhere, one vulnerable match of the item
    // satisfies the configuration and the rest of the estate cannot matter.
    let simple = config.operator != Some(BoolOp::And)
        && !config.negate
        && config
            .nodes
            .iter()
            .all(|n| n.operator == BoolOp::Or && !n.negate);
    // Either way the item must itself be named by a vulnerable criteria; most
    // candidate pairs fail here, before the estate is looked at.
    let hit = config
        .nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| {
            n.cpe_match
                .iter()
                .enumerate()
                .map(move |(at, m)| (i, at, m))
        })
        .find(|&(i, at, m)| m.vulnerable && cc.matches(i, at, m, &item))
        .map(|(_, _, m)| m)?;
    if simple {
        return Some(NvdEvidence {
            vulnerable: describe(hit),
            platforms: Vec::new(),
            fixed_in: hit.version_end_excluding.clone(),
            last_affected: hit.version_end_including.clone(),
        });
    }
    let nodes: Vec<_> = config
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| eval_node(cc, i, n, &item, estate))
        .collect();
    let satisfied = match config.operator {
        Some(BoolOp::And) => !nodes.is_empty() && nodes.iter().all(|(ok, ..)| *ok),
        _ => nodes.iter().any(|(ok, ..)| *ok),
    };
    let satisfied = satisfied != config.negate;
    if !satisfied {
        return None;
    }
    // The item must itself be named vulnerable by a node that counted.
    let hit = nodes
        .iter()
        .filter(|(ok, ..)| *ok)
        .find_map(|(_, hits, _)| hits.first().copied())?;
    let platforms = nodes
        .iter()
        .filter(|(ok, ..)| *ok)
        .flat_map(|(_, _, p)| p.iter().cloned())
        .collect();
    Some(NvdEvidence {
        vulnerable: describe(hit),
        platforms,
        fixed_in: hit.version_end_excluding.clone(),
        last_affected: hit.version_end_including.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Affected, Parsed, SourceRecord};

    fn record(json: &str) -> SourceRecord {
        let mut out = None;
        let _ = crate::nvd::parse(json.as_bytes(), &mut |p| {
            if let Parsed::Record(r) = p
                && out.is_none()
            {
                out = Some(*r);
            }
        });
        out.expect("a record")
    }

    fn configs(r: &SourceRecord) -> Vec<&NvdConfiguration> {
        r.affected
            .iter()
            .filter_map(|a| match a {
                Affected::Nvd(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    fn cpe(s: &str) -> Wfn {
        Wfn::parse(s).expect("valid CPE")
    }

    const ESP32: &str =
        include_str!("../tests/fixtures/nvd/nvd_api_esp32_firmware_on_hardware_bounds.json");

    /// The string shortcuts never disagree with the full comparison.
    #[test]
    fn shortcuts_agree_with_full_matching() {
        let criteria = [
            "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*",
            "cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*",
            "cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*",
            "cpe:2.3:a:apache:log4j:-:*:*:*:*:*:*:*",
            "cpe:2.3:a:apache:log*:*:*:*:*:*:*:*:*",
            "cpe:2.3:a:apache:http_server:2.4.58:*:*:*:*:*:*:*",
            "cpe:2.3:a:apache:log4j:2.14.?:*:*:*:*:*:*:*",
            "cpe:2.3:a:microsoft:.net_framework:4.8:*:*:*:*:*:*:*",
            "cpe:2.3:a:Apache:Log4j:2.14.1:*:*:*:*:*:*:*",
        ];
        let names = [
            "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*",
            "cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*",
            "cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*",
            "cpe:2.3:a:apache:http_server:2.4.58:*:*:*:*:*:*:*",
            "cpe:2.3:a:microsoft:.net_framework:4.8:*:*:*:*:*:*:*",
            "cpe:2.3:o:apache:log4j:2.14.1:*:*:*:*:*:*:*",
        ];
        for c in criteria {
            for bounded in [false, true] {
                let m = crate::model::CpeMatch {
                    vulnerable: true,
                    criteria: c.into(),
                    match_criteria_id: None,
                    version_start_including: bounded.then(|| "2.0".to_string()),
                    version_start_excluding: None,
                    version_end_including: None,
                    version_end_excluding: bounded.then(|| "2.15.0".to_string()),
                };
                for n in names {
                    let w = cpe(n);
                    let config = NvdConfiguration {
                        operator: None,
                        negate: false,
                        nodes: vec![NvdNode {
                            operator: BoolOp::Or,
                            negate: false,
                            cpe_match: vec![m.clone()],
                        }],
                    };
                    assert_eq!(
                        CompiledConfig::new(&config).matches(0, 0, &m, &Named::new(&w)),
                        cpe_match_matches(&m, &w),
                        "{c} (bounded: {bounded}) vs {n}"
                    );
                }
            }
        }
    }

    #[test]
    fn firmware_on_hardware_needs_both_and_respects_bounds() {
        let r = record(ESP32);
        let config = configs(&r)[0];
        let idf = cpe("cpe:2.3:a:espressif:esp-idf:4.1:*:*:*:*:*:*:*");
        let board = cpe("cpe:2.3:h:espressif:esp32:-:*:*:*:*:*:*:*");
        // Both present: applies to the software, with the board as platform.
        let ev =
            applies(config, &idf, &Estate::new(vec![idf.clone(), board.clone()])).expect("applies");
        assert_eq!(
            ev.vulnerable,
            "cpe:2.3:a:espressif:esp-idf:*:*:*:*:*:*:*:* from 4.0.0 up to 4.2"
        );
        assert_eq!(ev.platforms, ["cpe:2.3:h:espressif:esp32:-:*:*:*:*:*:*:*"]);
        // AND half-satisfied: the software without the board.
        assert_eq!(applies(config, &idf, &Estate::new(vec![idf.clone()])), None);
        // Never "applies" to the platform itself, which is not vulnerable.
        assert_eq!(
            applies(
                config,
                &board,
                &Estate::new(vec![idf.clone(), board.clone()])
            ),
            None
        );
        // Versions outside the bounds.
        for v in ["3.3.4", "4.2.1", "5.0"] {
            let other = cpe(&format!("cpe:2.3:a:espressif:esp-idf:{v}:*:*:*:*:*:*:*"));
            assert_eq!(
                applies(
                    config,
                    &other,
                    &Estate::new(vec![other.clone(), board.clone()])
                ),
                None,
                "{v}"
            );
        }
        // Bounds are inclusive at both ends.
        for v in ["4.0.0", "4.2", "4.2.0"] {
            let edge = cpe(&format!("cpe:2.3:a:espressif:esp-idf:{v}:*:*:*:*:*:*:*"));
            assert!(
                applies(
                    config,
                    &edge,
                    &Estate::new(vec![edge.clone(), board.clone()])
                )
                .is_some(),
                "{v}"
            );
        }
        // An unknown version cannot be placed in a range.
        let unknown = cpe("cpe:2.3:a:espressif:esp-idf:*:*:*:*:*:*:*:*");
        assert_eq!(
            applies(config, &unknown, &Estate::new(vec![unknown.clone(), board])),
            None
        );
    }

    fn node(operator: BoolOp, negate: bool, matches: Vec<CpeMatch>) -> NvdNode {
        NvdNode {
            operator,
            negate,
            cpe_match: matches,
        }
    }

    fn m(criteria: &str, vulnerable: bool) -> CpeMatch {
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
    fn negated_nodes_exclude_platforms() {
        // Vulnerable on any OS except the one the negated node names.
        let config = NvdConfiguration {
            operator: Some(BoolOp::And),
            negate: false,
            nodes: vec![
                node(
                    BoolOp::Or,
                    false,
                    vec![m("cpe:2.3:a:acme:agent:2.0:*:*:*:*:*:*:*", true)],
                ),
                node(
                    BoolOp::Or,
                    true,
                    vec![m("cpe:2.3:o:acme:hardened_os:*:*:*:*:*:*:*:*", false)],
                ),
            ],
        };
        let agent = cpe("cpe:2.3:a:acme:agent:2.0:*:*:*:*:*:*:*");
        let linux = cpe("cpe:2.3:o:linux:linux_kernel:6.1:*:*:*:*:*:*:*");
        let hardened = cpe("cpe:2.3:o:acme:hardened_os:3:*:*:*:*:*:*:*");
        assert!(applies(&config, &agent, &Estate::new(vec![agent.clone(), linux])).is_some());
        assert_eq!(
            applies(&config, &agent, &Estate::new(vec![agent.clone(), hardened])),
            None
        );
    }

    #[test]
    fn exact_versions_and_or_nodes() {
        let config = NvdConfiguration {
            operator: None,
            negate: false,
            nodes: vec![node(
                BoolOp::Or,
                false,
                vec![
                    m(
                        "cpe:2.3:o:paloaltonetworks:pan-os:11.1.0:-:*:*:*:*:*:*",
                        true,
                    ),
                    m(
                        "cpe:2.3:o:paloaltonetworks:pan-os:11.1.0:h1:*:*:*:*:*:*",
                        true,
                    ),
                ],
            )],
        };
        let h1 = cpe("cpe:2.3:o:paloaltonetworks:pan-os:11.1.0:h1:*:*:*:*:*:*");
        let h3 = cpe("cpe:2.3:o:paloaltonetworks:pan-os:11.1.0:h3:*:*:*:*:*:*");
        assert!(applies(&config, &h1, &Estate::new(vec![h1.clone()])).is_some());
        assert_eq!(applies(&config, &h3, &Estate::new(vec![h3.clone()])), None);
        // An AND node over two vulnerable names needs both.
        let both = NvdConfiguration {
            operator: None,
            negate: false,
            nodes: vec![node(
                BoolOp::And,
                false,
                vec![
                    m("cpe:2.3:a:x:client:1:*:*:*:*:*:*:*", true),
                    m("cpe:2.3:a:x:server:1:*:*:*:*:*:*:*", true),
                ],
            )],
        };
        let client = cpe("cpe:2.3:a:x:client:1:*:*:*:*:*:*:*");
        let server = cpe("cpe:2.3:a:x:server:1:*:*:*:*:*:*:*");
        assert_eq!(
            applies(&both, &client, &Estate::new(vec![client.clone()])),
            None
        );
        assert!(applies(&both, &client, &Estate::new(vec![client.clone(), server])).is_some());
    }
}

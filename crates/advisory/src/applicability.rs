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

use crate::cpe::{AttrValue, Wfn, is_match};
use crate::model::{BoolOp, CpeMatch, NvdConfiguration, NvdNode};
use crate::version::{Range, Version};

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

/// Whether one `cpeMatch` matches one CPE name.
pub fn cpe_match_matches(m: &CpeMatch, name: &Wfn) -> bool {
    let Ok(criteria) = Wfn::parse(&m.criteria) else {
        return false;
    };
    let ranged = [
        &m.version_start_including,
        &m.version_start_excluding,
        &m.version_end_including,
        &m.version_end_excluding,
    ]
    .iter()
    .any(|b| b.as_deref().and_then(Version::parse_known).is_some());
    if !ranged {
        return is_match(&criteria, name);
    }
    // Bounds apply to the name's version: compare everything else by CPE
    // rules with the version left open, then the version by range.
    let Some(version) = name
        .version()
        .unquoted()
        .and_then(|v| Version::parse_known(&v))
    else {
        return false;
    };
    let (Ok(open_criteria), Ok(open_name)) = (
        criteria.with_version(AttrValue::Any),
        name.clone().with_version(AttrValue::Any),
    ) else {
        return false;
    };
    is_match(&open_criteria, &open_name)
        && Range {
            start_including: m.version_start_including.as_deref(),
            start_excluding: m.version_start_excluding.as_deref(),
            end_including: m.version_end_including.as_deref(),
            end_excluding: m.version_end_excluding.as_deref(),
        }
        .contains(&version)
}

/// A node's truth over the estate, and the vulnerable matches of `item`
/// that made it true (empty when negated or satisfied by platforms only).
fn eval_node<'n>(
    node: &'n NvdNode,
    item: &Wfn,
    estate: &[Wfn],
) -> (bool, Vec<&'n CpeMatch>, Vec<String>) {
    let mut hits_item = Vec::new();
    let mut platforms = Vec::new();
    let results: Vec<bool> = node
        .cpe_match
        .iter()
        .map(|m| {
            if m.vulnerable && cpe_match_matches(m, item) {
                hits_item.push(m);
                true
            } else if estate.iter().any(|n| cpe_match_matches(m, n)) {
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
pub fn applies(config: &NvdConfiguration, item: &Wfn, estate: &[Wfn]) -> Option<NvdEvidence> {
    let nodes: Vec<_> = config
        .nodes
        .iter()
        .map(|n| eval_node(n, item, estate))
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

    #[test]
    fn firmware_on_hardware_needs_both_and_respects_bounds() {
        let r = record(ESP32);
        let config = configs(&r)[0];
        let idf = cpe("cpe:2.3:a:espressif:esp-idf:4.1:*:*:*:*:*:*:*");
        let board = cpe("cpe:2.3:h:espressif:esp32:-:*:*:*:*:*:*:*");
        // Both present: applies to the software, with the board as platform.
        let ev = applies(config, &idf, &[idf.clone(), board.clone()]).expect("applies");
        assert_eq!(
            ev.vulnerable,
            "cpe:2.3:a:espressif:esp-idf:*:*:*:*:*:*:*:* from 4.0.0 up to 4.2"
        );
        assert_eq!(ev.platforms, ["cpe:2.3:h:espressif:esp32:-:*:*:*:*:*:*:*"]);
        // AND half-satisfied: the software without the board.
        assert_eq!(applies(config, &idf, std::slice::from_ref(&idf)), None);
        // Never "applies" to the platform itself, which is not vulnerable.
        assert_eq!(applies(config, &board, &[idf.clone(), board.clone()]), None);
        // Versions outside the bounds.
        for v in ["3.3.4", "4.2.1", "5.0"] {
            let other = cpe(&format!("cpe:2.3:a:espressif:esp-idf:{v}:*:*:*:*:*:*:*"));
            assert_eq!(
                applies(config, &other, &[other.clone(), board.clone()]),
                None,
                "{v}"
            );
        }
        // Bounds are inclusive at both ends.
        for v in ["4.0.0", "4.2", "4.2.0"] {
            let edge = cpe(&format!("cpe:2.3:a:espressif:esp-idf:{v}:*:*:*:*:*:*:*"));
            assert!(
                applies(config, &edge, &[edge.clone(), board.clone()]).is_some(),
                "{v}"
            );
        }
        // An unknown version cannot be placed in a range.
        let unknown = cpe("cpe:2.3:a:espressif:esp-idf:*:*:*:*:*:*:*:*");
        assert_eq!(applies(config, &unknown, &[unknown.clone(), board]), None);
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
        assert!(applies(&config, &agent, &[agent.clone(), linux]).is_some());
        assert_eq!(applies(&config, &agent, &[agent.clone(), hardened]), None);
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
        assert!(applies(&config, &h1, std::slice::from_ref(&h1)).is_some());
        assert_eq!(applies(&config, &h3, std::slice::from_ref(&h3)), None);
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
        assert_eq!(applies(&both, &client, std::slice::from_ref(&client)), None);
        assert!(applies(&both, &client, &[client.clone(), server]).is_some());
    }
}

//! Version-range semantics of CVE 5 `affected` entries and OSV ranges: is a
//! given version affected, according to this statement?

use crate::model::{Cve5Affected, Cve5Version, OsvAffected, OsvEvent, OsvRangeKind, VersionStatus};
use crate::version::Version;

/// A bound written as a wildcard (`*`, or a pattern like `log4j-core*`) is open.
fn open_bound(raw: &str) -> bool {
    raw.contains('*') || Version::parse_known(raw).is_none()
}

/// The status one CVE 5 version entry gives `v`, if the entry covers it.
fn entry_status(e: &Cve5Version, v: &Version) -> Option<VersionStatus> {
    let start = Version::parse_known(&e.version);
    let is_range = e.less_than.is_some() || e.less_than_or_equal.is_some();
    if !is_range {
        return (start.as_ref() == Some(v)).then_some(e.status);
    }
    if let Some(s) = &start
        && v < s
    {
        return None;
    }
    let below_end = match (&e.less_than, &e.less_than_or_equal) {
        (Some(lt), _) if !open_bound(lt) => *v < Version::parse(lt),
        (_, Some(le)) if !open_bound(le) => *v <= Version::parse(le),
        _ => true,
    };
    if !below_end {
        return None;
    }
    // `changes` switch the status from their `at` version onwards, in version order.
    let mut changes: Vec<(Version, VersionStatus)> = e
        .changes
        .iter()
        .map(|(at, status)| (Version::parse(at), *status))
        .collect();
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    let status = changes
        .iter()
        .rfind(|(at, _)| v >= at)
        .map_or(e.status, |(_, s)| *s);
    Some(status)
}

/// The status of version `v` under one CVE 5 `affected` entry: any covering
/// entry that says affected wins, then unaffected, then the entry's
/// `defaultStatus` for versions no entry covers.
pub fn cve5_status(a: &Cve5Affected, v: &Version) -> VersionStatus {
    let statuses: Vec<VersionStatus> = a
        .versions
        .iter()
        .filter_map(|e| entry_status(e, v))
        .collect();
    if statuses.contains(&VersionStatus::Affected) {
        VersionStatus::Affected
    } else if statuses.contains(&VersionStatus::Unaffected) {
        VersionStatus::Unaffected
    } else if statuses.contains(&VersionStatus::Unknown) {
        VersionStatus::Unknown
    } else {
        a.default_status
    }
}

/// What an OSV `affected` entry says about one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OsvVerdict {
    Affected,
    NotAffected,
    /// The entry cannot be evaluated for a version number, and why.
    Undecidable(&'static str),
}

/// OSV semantics: listed `versions` are affected; otherwise each SEMVER or
/// ECOSYSTEM range is walked in version order (`introduced` opens, `fixed`
/// closes at that version, `last_affected` closes after it). GIT ranges name
/// commits, not versions, so they cannot decide.
pub fn osv_verdict(a: &OsvAffected, v: &Version) -> OsvVerdict {
    if a.versions.iter().any(|x| Version::parse(x) == *v) {
        return OsvVerdict::Affected;
    }
    let mut decidable = false;
    for range in &a.ranges {
        if range.kind == OsvRangeKind::Git {
            continue;
        }
        decidable = true;
        let mut events: Vec<(Version, &OsvEvent)> = range
            .events
            .iter()
            .filter_map(|e| match e {
                OsvEvent::Introduced(x) | OsvEvent::Fixed(x) | OsvEvent::LastAffected(x) => {
                    Some((Version::parse(x), e))
                }
                OsvEvent::Limit(_) => None,
            })
            .collect();
        events.sort_by(|x, y| x.0.cmp(&y.0));
        let mut affected = false;
        for (at, event) in &events {
            match event {
                OsvEvent::Introduced(_) if v >= at => affected = true,
                OsvEvent::Fixed(_) if v >= at => affected = false,
                OsvEvent::LastAffected(_) if v > at => affected = false,
                _ => {}
            }
        }
        if affected {
            return OsvVerdict::Affected;
        }
    }
    if decidable || !a.versions.is_empty() {
        OsvVerdict::NotAffected
    } else {
        OsvVerdict::Undecidable("only GIT ranges, which name commits rather than versions")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Affected, OsvRange, Parsed};

    fn first_affected(json: &str, lines: bool) -> Vec<Affected> {
        let mut out = Vec::new();
        let mut sink = |p: Parsed| {
            if let Parsed::Record(r) = p
                && out.is_empty()
            {
                out = r.affected;
            }
        };
        if lines {
            let _ = crate::osv::parse_lines(json.as_bytes(), &mut sink);
        } else {
            let _ = crate::cve5::parse(json.as_bytes(), &mut sink);
        }
        out
    }

    #[test]
    fn log4shell_status_changes_across_branches() {
        let affected = first_affected(
            include_str!("../tests/fixtures/cve5/cve5_log4shell_changes_and_cisa_adp_cvss.json"),
            false,
        );
        let Some(Affected::Cve5(cna)) = affected.first() else {
            panic!("CNA affected entry")
        };
        let status = |v: &str| cve5_status(cna, &Version::parse(v));
        assert_eq!(status("2.14.1"), VersionStatus::Affected);
        assert_eq!(status("2.0-beta9"), VersionStatus::Affected);
        assert_eq!(status("2.15.0"), VersionStatus::Unaffected);
        assert_eq!(status("2.17.1"), VersionStatus::Unaffected);
        assert_eq!(status("2.12.2"), VersionStatus::Unaffected);
        assert_eq!(status("2.12.1"), VersionStatus::Affected);
        assert_eq!(status("2.3.2"), VersionStatus::Unaffected);
        // Below the range: the entry's default (unknown: none given).
        assert_eq!(status("1.2.17"), VersionStatus::Unknown);
    }

    #[test]
    fn cve5_single_versions_ranges_and_default() {
        let a = Cve5Affected {
            container: "cna".into(),
            vendor: Some("x".into()),
            product: Some("y".into()),
            collection_url: None,
            package_name: None,
            cpes: vec![],
            platforms: vec![],
            default_status: VersionStatus::Unaffected,
            versions: vec![
                Cve5Version {
                    version: "1.4.2".into(),
                    status: VersionStatus::Affected,
                    version_type: None,
                    less_than: None,
                    less_than_or_equal: None,
                    changes: vec![],
                },
                Cve5Version {
                    version: "2.0".into(),
                    status: VersionStatus::Affected,
                    version_type: Some("semver".into()),
                    less_than: None,
                    less_than_or_equal: Some("2.3".into()),
                    changes: vec![],
                },
            ],
        };
        let s = |v: &str| cve5_status(&a, &Version::parse(v));
        assert_eq!(s("1.4.2"), VersionStatus::Affected);
        assert_eq!(s("1.4.3"), VersionStatus::Unaffected);
        assert_eq!(s("2.3"), VersionStatus::Affected);
        assert_eq!(s("2.3.1"), VersionStatus::Unaffected);
        assert_eq!(s("1.9"), VersionStatus::Unaffected);
    }

    #[test]
    fn osv_branches_fixed_and_git() {
        let affected = first_affected(
            include_str!("../tests/fixtures/osv/go_cilium_three_fixed_branches.jsonl"),
            true,
        );
        let Some(Affected::Osv(a)) = affected.first() else {
            panic!("OSV affected entry")
        };
        let fixed: Vec<String> = a
            .ranges
            .iter()
            .flat_map(|r| &r.events)
            .filter_map(|e| match e {
                OsvEvent::Fixed(v) => Some(v.clone()),
                _ => None,
            })
            .collect();
        assert!(!fixed.is_empty());
        for f in &fixed {
            assert_eq!(
                osv_verdict(a, &Version::parse(f)),
                OsvVerdict::NotAffected,
                "fixed in {f}"
            );
        }
        let synthetic = OsvAffected {
            ecosystem: "Go".into(),
            name: "example.com/m".into(),
            purl: None,
            ranges: vec![OsvRange {
                kind: OsvRangeKind::Semver,
                repo: None,
                events: vec![
                    OsvEvent::Introduced("0".into()),
                    OsvEvent::Fixed("1.2.0".into()),
                    OsvEvent::Introduced("1.3.0".into()),
                    OsvEvent::LastAffected("1.3.5".into()),
                ],
            }],
            versions: vec![],
            cpes: vec![],
            severity: vec![],
        };
        let verdict = |v: &str| osv_verdict(&synthetic, &Version::parse(v));
        assert_eq!(verdict("1.1.9"), OsvVerdict::Affected);
        assert_eq!(verdict("1.2.0"), OsvVerdict::NotAffected);
        assert_eq!(verdict("1.3.0"), OsvVerdict::Affected);
        assert_eq!(verdict("1.3.5"), OsvVerdict::Affected);
        assert_eq!(verdict("1.3.6"), OsvVerdict::NotAffected);
        let git = OsvAffected {
            ranges: vec![OsvRange {
                kind: OsvRangeKind::Git,
                repo: Some("https://x".into()),
                events: vec![OsvEvent::Introduced("0".into())],
            }],
            ..synthetic
        };
        assert!(matches!(
            osv_verdict(&git, &Version::parse("1.0")),
            OsvVerdict::Undecidable(_)
        ));
    }
}

//! The one line a busy person reads: what, which of your systems, how bad,
//! what to do, and by when.
//!
//! > Apache Log4j2 JNDI features do not protect against attacker controlled
//! > LDAP (CVE-2021-44228) affects your Payroll server (log4j 2.14.1, owner
//! > ICT Ops): critical (CVSS 10.0), being exploited. Update to version
//! > 2.15.0 or later by 3 Dec 2021.

use crate::matcher::{Finding, Verdict};
use crate::priority::{Priority, Ranking};
use chrono::{Days, NaiveDate};
use openwarp_advisory::model::Severity;

/// What the line is made from.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub vuln_id: &'a str,
    pub title: &'a str,
    /// The item as people name it ("Payroll server (log4j 2.14.1)").
    pub item: &'a str,
    pub owner: Option<&'a str>,
    pub severity: Option<Severity>,
    pub cvss: Option<f64>,
    pub exploited: bool,
    /// KEV's required action, when listed.
    pub required_action: Option<&'a str>,
    /// When the member was first told (the clock for response times).
    pub first_seen: NaiveDate,
    /// CISA's KEV due date, when listed.
    pub kev_due: Option<NaiveDate>,
}

/// When an exposure at `priority` should be fixed, counted from `first_seen`.
pub fn fix_by(first_seen: NaiveDate, priority: Priority) -> NaiveDate {
    let days = u64::try_from(priority.response_days()).unwrap_or(0);
    first_seen
        .checked_add_days(Days::new(days))
        .unwrap_or(first_seen)
}

/// When to fix it by: the priority's response time from `first_seen`, or
/// CISA's KEV deadline when that is still ahead and sooner.
pub fn deadline(
    first_seen: NaiveDate,
    priority: Priority,
    kev_due: Option<NaiveDate>,
) -> NaiveDate {
    let ours = fix_by(first_seen, priority);
    match kev_due {
        Some(due) if due >= first_seen && due < ours => due,
        _ => ours,
    }
}

/// A date as people write it in the UK: "3 Dec 2021".
pub fn day(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

fn shorten(text: &str, max: usize) -> String {
    let text = text.trim().trim_end_matches('.');
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    // Cut at a word boundary when one is near.
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => cut[..i].to_string(),
        _ => cut,
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn how_bad(f: &Facts) -> String {
    let sev = f.severity.or_else(|| f.cvss.map(Severity::from_score));
    let mut out = match (sev, f.cvss) {
        (Some(s), Some(score)) => format!("{} (CVSS {score:.1})", s.as_str()),
        (Some(s), None) => s.as_str().to_string(),
        (None, _) => "severity not yet published".to_string(),
    };
    if f.exploited {
        out.push_str(", being exploited");
    }
    out
}

/// The one-line, plain-English summary of an exposure.
pub fn line(f: &Facts, finding: &Finding, ranking: &Ranking) -> String {
    let title = if f.title.trim().is_empty() || f.title.trim() == f.vuln_id {
        f.vuln_id.to_string()
    } else {
        format!("{} ({})", shorten(f.title, 90), f.vuln_id)
    };
    let mut which = f.item.to_string();
    if let Some(owner) = f.owner.filter(|o| !o.trim().is_empty()) {
        which = format!("{which}, owner {}", owner.trim());
    }
    if finding.verdict == Verdict::NotAffected {
        return format!(
            "{title} names your {which}, but the vendor says your version is not affected: no action needed."
        );
    }
    let verb = match finding.verdict {
        Verdict::VersionUnknown => "may affect",
        _ => "affects",
    };
    let action = finding
        .remedy
        .as_deref()
        .or(f.required_action)
        .map(|a| shorten(a, 140))
        .unwrap_or_else(|| "apply the vendor's fix or mitigation".to_string());
    let action = if finding.verdict == Verdict::VersionUnknown {
        let mut chars = action.chars();
        let action: String = match chars.next() {
            Some(first) => first.to_lowercase().chain(chars).collect(),
            None => action,
        };
        format!("Check which version you run; if affected, {action}")
    } else {
        capitalised(&action)
    };
    // CISA's deadline wins when it is still ahead and sooner than ours.
    let due = deadline(f.first_seen, ranking.priority, f.kev_due);
    let by = if due == fix_by(f.first_seen, ranking.priority) {
        day(due)
    } else {
        format!("{} (CISA's deadline)", day(due))
    };
    format!(
        "{title} {verb} your {which}: {}. {action} by {by}.",
        how_bad(f)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::Evidence;
    use openwarp_advisory::model::SourceKind;

    fn finding(verdict: Verdict, remedy: Option<&str>) -> Finding {
        Finding {
            verdict,
            evidence: vec![Evidence {
                source: SourceKind::Nvd,
                record_id: "CVE-2021-44228".into(),
                statement: "cpe".into(),
                why: "in range".into(),
            }],
            cleared_by: vec![],
            remedy: remedy.map(str::to_string),
        }
    }

    fn facts() -> Facts<'static> {
        Facts {
            vuln_id: "CVE-2021-44228",
            title: "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP and other JNDI related endpoints",
            item: "Payroll server (log4j 2.14.1)",
            owner: Some("ICT Ops"),
            severity: Some(Severity::Critical),
            cvss: Some(10.0),
            exploited: true,
            required_action: Some("Apply updates per vendor instructions."),
            first_seen: NaiveDate::from_ymd_opt(2021, 12, 1).unwrap_or_default(),
            kev_due: NaiveDate::from_ymd_opt(2021, 12, 24),
        }
    }

    fn p1() -> Ranking {
        Ranking {
            priority: Priority::P1,
            reasons: vec![],
        }
    }

    #[test]
    fn the_line_says_what_which_how_bad_what_and_when() {
        let l = line(
            &facts(),
            &finding(Verdict::Affected, Some("update to version 2.15.0 or later")),
            &p1(),
        );
        assert_eq!(
            l,
            "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP and other… (CVE-2021-44228) \
             affects your Payroll server (log4j 2.14.1), owner ICT Ops: critical (CVSS 10.0), being exploited. \
             Update to version 2.15.0 or later by 3 Dec 2021."
        );
    }

    #[test]
    fn kev_action_when_no_fixed_version_and_unknown_versions_ask_to_check() {
        let l = line(&facts(), &finding(Verdict::VersionUnknown, None), &p1());
        assert!(l.contains(" may affect your "), "{l}");
        assert!(
            l.ends_with("Check which version you run; if affected, apply updates per vendor instructions by 3 Dec 2021."),
            "{l}"
        );
        let quiet = Facts {
            exploited: false,
            kev_due: None,
            required_action: None,
            severity: None,
            cvss: None,
            owner: None,
            title: "",
            ..facts()
        };
        let l = line(
            &quiet,
            &finding(Verdict::Affected, None),
            &Ranking {
                priority: Priority::P4,
                reasons: vec![],
            },
        );
        assert_eq!(
            l,
            "CVE-2021-44228 affects your Payroll server (log4j 2.14.1): severity not yet published. \
             Apply the vendor's fix or mitigation by 1 Mar 2022."
        );
    }

    #[test]
    fn a_sooner_cisa_deadline_still_ahead_is_the_date_given() {
        let fresh = Facts {
            kev_due: NaiveDate::from_ymd_opt(2021, 12, 10),
            ..facts()
        };
        let p2 = Ranking {
            priority: Priority::P2,
            reasons: vec![],
        };
        let l = line(&fresh, &finding(Verdict::Affected, None), &p2);
        assert!(l.ends_with("by 10 Dec 2021 (CISA's deadline)."), "{l}");
        // A deadline already past when the member was told is not repeated.
        let old = Facts {
            kev_due: NaiveDate::from_ymd_opt(2021, 11, 1),
            ..facts()
        };
        let l = line(&old, &finding(Verdict::Affected, None), &p2);
        assert!(l.ends_with("by 15 Dec 2021."), "{l}");
    }

    #[test]
    fn vex_cleared_lines_say_no_action() {
        let l = line(&facts(), &finding(Verdict::NotAffected, None), &p1());
        assert!(
            l.ends_with("but the vendor says your version is not affected: no action needed."),
            "{l}"
        );
    }
}

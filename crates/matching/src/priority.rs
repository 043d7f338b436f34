//! How urgent an exposure is: P1–P4, and the reasons in words.
//!
//! The rule, in one place (and shown to members as [`RULE`]):
//!
//! - **P1** — fix today: it is being exploited (CISA KEV) *and* the affected
//!   system is internet-facing or business-critical, or the exploitation is
//!   by ransomware gangs; or it is critical, internet-facing and likely to be
//!   exploited soon (EPSS at or above the 90th percentile).
//! - **P2** — fix within 14 days: exploited anywhere else; critical; high
//!   and on an internet-facing or business-critical system; or very likely
//!   to be exploited soon (EPSS at or above the 95th percentile).
//! - **P3** — fix within 30 days: high; medium on an internet-facing or
//!   business-critical system; or EPSS at or above the 80th percentile.
//! - **P4** — fix in the normal patch cycle: everything else.
//!
//! The response times follow the Cyber Essentials expectation that critical
//! and high-risk updates are applied within 14 days.

use crate::matcher::Verdict;
use openwarp_advisory::model::Severity;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The rule as members read it.
pub const RULE: &str = "P1: exploited and internet-facing, business-critical or used by ransomware; \
or critical, internet-facing and likely to be exploited soon. \
P2: exploited; critical; high on an internet-facing or business-critical system; or very likely to be exploited soon. \
P3: high; medium on an internet-facing or business-critical system; or likely to be exploited. \
P4: everything else.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
            Priority::P4 => "P4",
        }
    }

    pub fn rank(self) -> i32 {
        match self {
            Priority::P1 => 1,
            Priority::P2 => 2,
            Priority::P3 => 3,
            Priority::P4 => 4,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Priority> {
        Priority::ALL
            .into_iter()
            .find(|p| i64::from(p.rank()) == rank)
    }

    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Days to fix from when the member was first told.
    pub fn response_days(self) -> i64 {
        match self {
            Priority::P1 => 2,
            Priority::P2 => 14,
            Priority::P3 => 30,
            Priority::P4 => 90,
        }
    }

    /// "fix today", as the member reads it.
    pub fn meaning(self) -> &'static str {
        match self {
            Priority::P1 => "fix now",
            Priority::P2 => "fix within 14 days",
            Priority::P3 => "fix within 30 days",
            Priority::P4 => "fix in the normal patch cycle",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the rule looks at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    pub cvss: Option<f64>,
    pub severity: Option<Severity>,
    /// Listed in CISA's Known Exploited Vulnerabilities catalogue.
    pub exploited: bool,
    /// KEV says it is known to be used in ransomware campaigns.
    pub ransomware: bool,
    /// EPSS percentile, 0–1.
    pub epss_percentile: Option<f64>,
    pub internet_facing: bool,
    pub business_critical: bool,
}

/// A priority with the reasons that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ranking {
    pub priority: Priority,
    /// Each reason as a phrase ("it is being exploited").
    pub reasons: Vec<String>,
}

impl Ranking {
    /// "P1 because it is being exploited and the affected system is internet-facing".
    pub fn sentence(&self) -> String {
        let mut out = self.priority.as_str().to_string();
        if !self.reasons.is_empty() {
            out.push_str(" because ");
            out.push_str(&join_words(&self.reasons));
        }
        out
    }
}

/// "a", "a and b", "a, b and c".
pub fn join_words(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn severity_words(s: &Signals, sev: Severity) -> String {
    let name = sev.as_str();
    match s.cvss {
        Some(score) => format!("its severity is {name} (CVSS {score:.1})"),
        None => format!("its severity is {name}"),
    }
}

fn epss_words(p: f64) -> String {
    let pct = (p * 100.0).floor().clamp(0.0, 100.0);
    format!("it is likely to be exploited soon (EPSS {pct:.0}th percentile)")
}

/// Apply the rule.
pub fn rank(s: &Signals, verdict: Verdict) -> Ranking {
    let sev = s.severity.or_else(|| s.cvss.map(Severity::from_score));
    let critical = sev == Some(Severity::Critical);
    let high = sev == Some(Severity::High);
    let medium = sev == Some(Severity::Medium);
    let epss = s.epss_percentile.unwrap_or(0.0);
    let exploited = "it is being exploited (CISA KEV)".to_string();
    let ransomware = "it is used in ransomware campaigns".to_string();
    let facing = "the affected system is internet-facing".to_string();
    let critical_system = "the affected system is business-critical".to_string();
    let exposure = || match (s.internet_facing, s.business_critical) {
        (true, true) => {
            vec!["the affected system is internet-facing and business-critical".to_string()]
        }
        (true, false) => vec![facing.clone()],
        (false, true) => vec![critical_system.clone()],
        (false, false) => Vec::new(),
    };

    let (priority, mut reasons) =
        if s.exploited && (s.internet_facing || s.business_critical || s.ransomware) {
            let mut r = vec![exploited];
            if s.ransomware {
                r.push(ransomware);
            }
            r.extend(exposure());
            (Priority::P1, r)
        } else if critical && s.internet_facing && epss >= 0.90 {
            (
                Priority::P1,
                vec![
                    severity_words(s, Severity::Critical),
                    facing,
                    epss_words(epss),
                ],
            )
        } else if s.exploited {
            (Priority::P2, vec![exploited])
        } else if critical {
            let mut r = vec![severity_words(s, Severity::Critical)];
            r.extend(exposure());
            (Priority::P2, r)
        } else if high && (s.internet_facing || s.business_critical) {
            let mut r = vec![severity_words(s, Severity::High)];
            r.extend(exposure());
            (Priority::P2, r)
        } else if epss >= 0.95 {
            (Priority::P2, vec![epss_words(epss)])
        } else if high {
            (Priority::P3, vec![severity_words(s, Severity::High)])
        } else if medium && (s.internet_facing || s.business_critical) {
            let mut r = vec![severity_words(s, Severity::Medium)];
            r.extend(exposure());
            (Priority::P3, r)
        } else if epss >= 0.80 {
            (Priority::P3, vec![epss_words(epss)])
        } else {
            let mut r = vec![match sev {
                Some(sev) => severity_words(s, sev),
                None => "no severity has been published yet".to_string(),
            }];
            r.push("it is not known to be exploited".to_string());
            (Priority::P4, r)
        };
    match verdict {
        Verdict::Affected => {}
        Verdict::VersionUnknown => {
            reasons.push("your inventory has no version to rule it out".to_string())
        }
        Verdict::NotAffected => {
            return Ranking {
                priority: Priority::P4,
                reasons: vec!["the vendor says your version is not affected".to_string()],
            };
        }
    }
    Ranking { priority, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals() -> Signals {
        Signals::default()
    }

    #[test]
    fn exploited_and_internet_facing_is_p1_in_words() {
        let s = Signals {
            cvss: Some(10.0),
            exploited: true,
            internet_facing: true,
            ..signals()
        };
        let r = rank(&s, Verdict::Affected);
        assert_eq!(r.priority, Priority::P1);
        assert_eq!(
            r.sentence(),
            "P1 because it is being exploited (CISA KEV) and the affected system is internet-facing"
        );
    }

    #[test]
    fn the_rule_ladder() {
        let p = |s: Signals| rank(&s, Verdict::Affected).priority;
        assert_eq!(
            p(Signals {
                exploited: true,
                ransomware: true,
                ..signals()
            }),
            Priority::P1
        );
        assert_eq!(
            p(Signals {
                exploited: true,
                ..signals()
            }),
            Priority::P2
        );
        assert_eq!(
            p(Signals {
                cvss: Some(9.8),
                internet_facing: true,
                epss_percentile: Some(0.95),
                ..signals()
            }),
            Priority::P1
        );
        assert_eq!(
            p(Signals {
                cvss: Some(9.8),
                internet_facing: true,
                ..signals()
            }),
            Priority::P2
        );
        assert_eq!(
            p(Signals {
                cvss: Some(9.8),
                ..signals()
            }),
            Priority::P2
        );
        assert_eq!(
            p(Signals {
                cvss: Some(7.5),
                business_critical: true,
                ..signals()
            }),
            Priority::P2
        );
        assert_eq!(
            p(Signals {
                cvss: Some(7.5),
                ..signals()
            }),
            Priority::P3
        );
        assert_eq!(
            p(Signals {
                cvss: Some(5.0),
                internet_facing: true,
                ..signals()
            }),
            Priority::P3
        );
        assert_eq!(
            p(Signals {
                cvss: Some(5.0),
                epss_percentile: Some(0.96),
                ..signals()
            }),
            Priority::P2
        );
        assert_eq!(
            p(Signals {
                cvss: Some(5.0),
                epss_percentile: Some(0.85),
                ..signals()
            }),
            Priority::P3
        );
        assert_eq!(
            p(Signals {
                cvss: Some(5.0),
                ..signals()
            }),
            Priority::P4
        );
        assert_eq!(p(signals()), Priority::P4);
    }

    #[test]
    fn stated_severity_counts_when_no_score() {
        let s = Signals {
            severity: Some(Severity::Critical),
            ..signals()
        };
        let r = rank(&s, Verdict::Affected);
        assert_eq!(r.priority, Priority::P2);
        assert_eq!(r.sentence(), "P2 because its severity is critical");
    }

    #[test]
    fn unknown_versions_say_so_and_vex_clears() {
        let s = Signals {
            cvss: Some(7.5),
            ..signals()
        };
        let r = rank(&s, Verdict::VersionUnknown);
        assert_eq!(r.priority, Priority::P3);
        assert_eq!(
            r.sentence(),
            "P3 because its severity is high (CVSS 7.5) and your inventory has no version to rule it out"
        );
        let s = Signals {
            exploited: true,
            internet_facing: true,
            ..signals()
        };
        assert_eq!(rank(&s, Verdict::NotAffected).priority, Priority::P4);
    }

    #[test]
    fn priorities_round_trip() {
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Some(p));
            assert_eq!(Priority::from_rank(i64::from(p.rank())), Some(p));
        }
        assert!(Priority::P1 < Priority::P4);
    }
}

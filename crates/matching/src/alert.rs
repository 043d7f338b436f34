//! Who is told what, when: the rules behind alerts, written once.
//!
//! - [`AlertState`] is what a member was last told about an exposure;
//!   [`changes`] says which differences deserve a follow-up ("score raised",
//!   "added to CISA KEV", "fix published", "priority raised"). Cosmetic edits —
//!   a reworded description, a lower score — change nothing a member must act
//!   on, so they send nothing.
//! - [`Preferences`] are a named user's subscription, inheriting their
//!   organisation's defaults; [`route`] decides whether one alert goes to
//!   them now, in their digest, or not at all.
//! - [`retry_delay`] is the exponential backoff of failed deliveries and
//!   [`MAX_ATTEMPTS`] when a delivery is given up (dead-lettered).
//! - [`digest_period`] names the digest window a moment falls in, so every
//!   instance agrees which digest is due.

use crate::priority::Priority;
use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a member was told about one exposure, kept to compare the next
/// version of it with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlertState {
    pub priority: Priority,
    /// Listed in CISA's Known Exploited Vulnerabilities catalogue.
    pub exploited: bool,
    /// A fix (vendor fix or fixed version) is published.
    pub fix_available: bool,
    /// The CVSS base score, if any.
    pub cvss: Option<f64>,
}

impl AlertState {
    /// The most a member has been told across `self` and `other`: the more
    /// urgent priority, exploited if either was, a fix if either had one,
    /// the higher score. Stored after each change so that a value
    /// that flaps (an EPSS percentile around a threshold, say) alerts only
    /// the first time it crosses, not every time it comes back.
    pub fn merge(&self, other: &AlertState) -> AlertState {
        AlertState {
            priority: self.priority.min(other.priority),
            exploited: self.exploited || other.exploited,
            fix_available: self.fix_available || other.fix_available,
            cvss: match (self.cvss, other.cvss) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

/// A change worth a follow-up alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum AlertChange {
    PriorityRaised { from: Priority, to: Priority },
    AddedToKev,
    FixPublished,
    ScoreRaised { from: Option<f64>, to: f64 },
}

impl fmt::Display for AlertChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AlertChange::PriorityRaised { from, to } => {
                write!(f, "Priority raised from {from} to {to}")
            }
            AlertChange::AddedToKev => f.write_str(
                "Added to CISA's Known Exploited Vulnerabilities catalogue: it is being exploited",
            ),
            AlertChange::FixPublished => f.write_str("A fix has been published"),
            AlertChange::ScoreRaised { from: Some(a), to } => {
                write!(f, "CVSS score raised from {a:.1} to {to:.1}")
            }
            AlertChange::ScoreRaised { from: None, to } => write!(f, "Scored CVSS {to:.1}"),
        }
    }
}

/// Scores closer than this are the same score (rounding in feeds).
const SCORE_EPSILON: f64 = 0.05;

/// The changes from `old` to `new` that a member must hear about, most
/// important first. Empty when nothing that matters changed — including when
/// things got better in ways that need no action (a lower score or priority).
pub fn changes(old: &AlertState, new: &AlertState) -> Vec<AlertChange> {
    let mut out = Vec::new();
    if new.exploited && !old.exploited {
        out.push(AlertChange::AddedToKev);
    }
    if new.priority < old.priority {
        out.push(AlertChange::PriorityRaised {
            from: old.priority,
            to: new.priority,
        });
    }
    if new.fix_available && !old.fix_available {
        out.push(AlertChange::FixPublished);
    }
    if let Some(to) = new.cvss
        && old.cvss.is_none_or(|from| to > from + SCORE_EPSILON)
    {
        out.push(AlertChange::ScoreRaised { from: old.cvss, to });
    }
    out
}

/// How often a user's digest comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestFrequency {
    Daily,
    Weekly,
    Off,
}

impl DigestFrequency {
    pub const ALL: [DigestFrequency; 3] = [
        DigestFrequency::Daily,
        DigestFrequency::Weekly,
        DigestFrequency::Off,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DigestFrequency::Daily => "daily",
            DigestFrequency::Weekly => "weekly",
            DigestFrequency::Off => "off",
        }
    }
    pub fn parse(s: &str) -> Option<DigestFrequency> {
        DigestFrequency::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// An organisation's defaults for its users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgDefaults {
    /// Immediate alerts at or above this priority; `None` sends none.
    pub immediate_min: Option<Priority>,
    pub digest: DigestFrequency,
}

impl Default for OrgDefaults {
    /// P1 at once; everything else in a daily digest.
    fn default() -> Self {
        OrgDefaults {
            immediate_min: Some(Priority::P1),
            digest: DigestFrequency::Daily,
        }
    }
}

/// A user's own choices; `None` fields follow the organisation's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserChoices {
    /// `Some(None)`: no immediate alerts at all.
    pub immediate_min: Option<Option<Priority>>,
    pub digest: Option<DigestFrequency>,
    /// Only alerts about these vendors or products (words, any case); empty = all.
    pub filters: Vec<String>,
    pub paused: bool,
    /// Unsubscribed by the one-click link: no e-mail at all until they opt back in.
    pub unsubscribed: bool,
}

/// What one user receives, all defaults applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preferences {
    pub immediate_min: Option<Priority>,
    pub digest: DigestFrequency,
    pub filters: Vec<String>,
    /// Paused or unsubscribed: nothing is sent.
    pub silenced: bool,
}

impl Preferences {
    pub fn effective(defaults: &OrgDefaults, own: &UserChoices) -> Preferences {
        Preferences {
            immediate_min: own.immediate_min.unwrap_or(defaults.immediate_min),
            digest: own.digest.unwrap_or(defaults.digest),
            filters: own
                .filters
                .iter()
                .map(|f| f.trim().to_lowercase())
                .filter(|f| !f.is_empty())
                .collect(),
            silenced: own.paused || own.unsubscribed,
        }
    }

    /// Whether an alert about these products passes the user's filters.
    /// `subjects` are the affected items' names, vendors and products.
    pub fn wants_subject<'a>(&self, subjects: impl IntoIterator<Item = &'a str>) -> bool {
        if self.filters.is_empty() {
            return true;
        }
        let subjects: Vec<String> = subjects.into_iter().map(str::to_lowercase).collect();
        self.filters
            .iter()
            .any(|f| subjects.iter().any(|s| s.contains(f.as_str())))
    }
}

/// Where one alert goes for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Route {
    /// Sent now, by itself.
    Immediate,
    /// Listed in the user's next digest.
    Digest,
    /// Not sent (silenced, filtered out, or digests off).
    Nothing,
}

/// Whether an alert of `priority` about `subjects` goes to a user now, in
/// their digest, or not at all. WARP advisories pass `None` for subjects:
/// the WARP chose their audience, so product filters do not apply.
pub fn route(
    prefs: &Preferences,
    priority: Priority,
    subjects: Option<&mut dyn Iterator<Item = &str>>,
) -> Route {
    if prefs.silenced {
        return Route::Nothing;
    }
    if let Some(s) = subjects
        && !prefs.wants_subject(s)
    {
        return Route::Nothing;
    }
    match prefs.immediate_min {
        Some(min) if priority <= min => Route::Immediate,
        _ if prefs.digest == DigestFrequency::Off => Route::Nothing,
        _ => Route::Digest,
    }
}

/// Give up on a delivery after this many failed attempts (about a day of
/// retries with [`retry_delay`]).
pub const MAX_ATTEMPTS: u32 = 10;

/// The first retry waits this long; each later one twice as long as the last.
pub const RETRY_BASE: Duration = Duration::seconds(30);

/// How long to wait before attempt `attempts + 1`, after `attempts` failures:
/// `base`, 2 × `base`, 4 × `base`, … capped at 4 hours. With [`RETRY_BASE`]:
/// 30 s, 1 min, 2 min, … (tests pass a shorter base).
pub fn retry_delay(attempts: u32, base: Duration) -> Duration {
    let factor = 1_i32 << attempts.saturating_sub(1).min(20);
    let cap = Duration::hours(4);
    base.checked_mul(factor).map_or(cap, |d| d.min(cap))
}

/// When digests go out: 07:00 UTC (08:00 in British Summer Time), before
/// the working day starts.
pub const DIGEST_HOUR_UTC: u32 = 7;

/// A digest window: alerts created in `[start, end)` go in the digest sent
/// at `end`. `key` names the window (e.g. `daily:2026-11-23`,
/// `weekly:2026-W48`) so every instance agrees on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestPeriod {
    pub key: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The latest digest window that has closed at or before `now`, for this
/// frequency (`None` when digests are off). Weekly digests close on Mondays.
pub fn digest_period(frequency: DigestFrequency, now: DateTime<Utc>) -> Option<DigestPeriod> {
    let at = NaiveTime::from_hms_opt(DIGEST_HOUR_UTC, 0, 0)?;
    let today = Utc.from_utc_datetime(&now.date_naive().and_time(at));
    let last_daily = if today <= now {
        today
    } else {
        today - Duration::days(1)
    };
    match frequency {
        DigestFrequency::Off => None,
        DigestFrequency::Daily => Some(DigestPeriod {
            key: format!("daily:{}", last_daily.format("%Y-%m-%d")),
            start: last_daily - Duration::days(1),
            end: last_daily,
        }),
        DigestFrequency::Weekly => {
            let back = i64::from(last_daily.weekday().num_days_from_monday());
            let end = last_daily - Duration::days(back);
            let week = end.iso_week();
            Some(DigestPeriod {
                key: format!("weekly:{}-W{:02}", week.year(), week.week()),
                start: end - Duration::days(7),
                end,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(p: Priority, kev: bool, fix: bool, cvss: Option<f64>) -> AlertState {
        AlertState {
            priority: p,
            exploited: kev,
            fix_available: fix,
            cvss,
        }
    }

    #[test]
    fn unchanged_or_better_sends_nothing() {
        let s = state(Priority::P2, true, true, Some(9.8));
        assert!(changes(&s, &s).is_empty());
        // Lower score, lower priority: good news, no action needed.
        let better = state(Priority::P3, true, true, Some(7.5));
        assert!(changes(&s, &better).is_empty());
        // Rounding noise in a feed is not a change.
        let noise = state(Priority::P2, true, true, Some(9.82));
        assert!(changes(&s, &noise).is_empty());
    }

    #[test]
    fn each_meaningful_change_is_named() {
        let old = state(Priority::P3, false, false, Some(7.5));
        let new = state(Priority::P1, true, true, Some(9.8));
        let c = changes(&old, &new);
        assert_eq!(
            c,
            vec![
                AlertChange::AddedToKev,
                AlertChange::PriorityRaised {
                    from: Priority::P3,
                    to: Priority::P1
                },
                AlertChange::FixPublished,
                AlertChange::ScoreRaised {
                    from: Some(7.5),
                    to: 9.8
                },
            ]
        );
        assert_eq!(c[3].to_string(), "CVSS score raised from 7.5 to 9.8");
        assert_eq!(c[1].to_string(), "Priority raised from P3 to P1");
        let first_score = changes(
            &state(Priority::P4, false, false, None),
            &state(Priority::P4, false, false, Some(5.0)),
        );
        assert_eq!(first_score[0].to_string(), "Scored CVSS 5.0");
    }

    #[test]
    fn flapping_alerts_once() {
        let told = state(Priority::P3, false, false, Some(7.5));
        let up = state(Priority::P2, false, false, Some(7.5));
        assert_eq!(changes(&told, &up).len(), 1);
        let told = told.merge(&up);
        let down = state(Priority::P3, false, false, Some(7.5));
        assert!(changes(&told, &down).is_empty());
        let told = told.merge(&down);
        assert_eq!(told.priority, Priority::P2, "the most urgent told is kept");
        assert!(changes(&told, &up).is_empty(), "back up: not news again");
        let m = state(Priority::P4, true, false, None).merge(&state(
            Priority::P4,
            false,
            true,
            Some(5.0),
        ));
        assert_eq!(m, state(Priority::P4, true, true, Some(5.0)));
    }

    fn prefs(min: Option<Priority>, digest: DigestFrequency, filters: &[&str]) -> Preferences {
        Preferences::effective(
            &OrgDefaults {
                immediate_min: min,
                digest,
            },
            &UserChoices {
                filters: filters.iter().map(|s| s.to_string()).collect(),
                ..UserChoices::default()
            },
        )
    }

    #[test]
    fn routes_by_priority_threshold_and_digest() {
        let p = prefs(Some(Priority::P2), DigestFrequency::Daily, &[]);
        assert_eq!(route(&p, Priority::P1, None), Route::Immediate);
        assert_eq!(route(&p, Priority::P2, None), Route::Immediate);
        assert_eq!(route(&p, Priority::P3, None), Route::Digest);
        let off = prefs(Some(Priority::P1), DigestFrequency::Off, &[]);
        assert_eq!(route(&off, Priority::P4, None), Route::Nothing);
        let none = prefs(None, DigestFrequency::Weekly, &[]);
        assert_eq!(route(&none, Priority::P1, None), Route::Digest);
    }

    #[test]
    fn filters_match_words_in_any_subject_and_skip_warp_advisories() {
        let p = prefs(
            Some(Priority::P1),
            DigestFrequency::Daily,
            &["Fortinet", " "],
        );
        assert_eq!(p.filters, vec!["fortinet".to_string()]);
        let mut hit = ["FortiGate 7.2", "fortinet", "fortios"].into_iter();
        assert_eq!(route(&p, Priority::P1, Some(&mut hit)), Route::Immediate);
        let mut miss = ["Exchange Server", "microsoft"].into_iter();
        assert_eq!(route(&p, Priority::P1, Some(&mut miss)), Route::Nothing);
        assert_eq!(route(&p, Priority::P1, None), Route::Immediate);
    }

    #[test]
    fn user_choices_override_and_silence() {
        let d = OrgDefaults::default();
        let own = UserChoices {
            immediate_min: Some(None),
            digest: Some(DigestFrequency::Weekly),
            ..UserChoices::default()
        };
        let p = Preferences::effective(&d, &own);
        assert_eq!(p.immediate_min, None);
        assert_eq!(p.digest, DigestFrequency::Weekly);
        let paused = Preferences::effective(
            &d,
            &UserChoices {
                paused: true,
                ..UserChoices::default()
            },
        );
        assert_eq!(route(&paused, Priority::P1, None), Route::Nothing);
        let gone = Preferences::effective(
            &d,
            &UserChoices {
                unsubscribed: true,
                ..UserChoices::default()
            },
        );
        assert_eq!(route(&gone, Priority::P1, None), Route::Nothing);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(retry_delay(1, RETRY_BASE), Duration::seconds(30));
        assert_eq!(retry_delay(2, RETRY_BASE), Duration::seconds(60));
        assert_eq!(retry_delay(3, RETRY_BASE), Duration::seconds(120));
        assert_eq!(retry_delay(40, RETRY_BASE), Duration::hours(4));
        assert_eq!(retry_delay(0, RETRY_BASE), Duration::seconds(30));
        assert_eq!(
            retry_delay(3, Duration::milliseconds(200)),
            Duration::milliseconds(800)
        );
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn digest_windows_close_at_seven_and_on_mondays() {
        // Monday 23 November 2026.
        let p = digest_period(DigestFrequency::Daily, at("2026-11-23T06:59:00Z"));
        assert_eq!(
            p.map(|p| (p.key, p.start, p.end)),
            Some((
                "daily:2026-11-22".to_string(),
                at("2026-11-21T07:00:00Z"),
                at("2026-11-22T07:00:00Z")
            ))
        );
        let p = digest_period(DigestFrequency::Daily, at("2026-11-23T07:00:00Z"));
        assert_eq!(p.map(|p| p.key), Some("daily:2026-11-23".to_string()));
        let w = digest_period(DigestFrequency::Weekly, at("2026-11-26T12:00:00Z"));
        assert_eq!(
            w.map(|p| (p.key, p.start, p.end)),
            Some((
                "weekly:2026-W48".to_string(),
                at("2026-11-16T07:00:00Z"),
                at("2026-11-23T07:00:00Z")
            ))
        );
        // Monday before seven: last week's window.
        let w = digest_period(DigestFrequency::Weekly, at("2026-11-23T06:00:00Z"));
        assert_eq!(w.map(|p| p.key), Some("weekly:2026-W47".to_string()));
        assert_eq!(
            digest_period(DigestFrequency::Off, at("2026-11-23T06:00:00Z")),
            None
        );
    }
}

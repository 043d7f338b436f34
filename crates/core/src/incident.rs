//! Confidential incident reporting: what a member reports, and — written
//! once, here — who may see which version of it.
//!
//! A WARP is a confidential reporting point: "no information will leave the
//! room unless authorised by the speaker". So by default an incident is seen
//! only by the reporting organisation and the WARP's operators. Others see
//! it only as a **sanitised version** the reporter authorised (an operator
//! may draft one, but it is shared only when the reporting organisation
//! approves), attributed anonymously ("a district council in the South
//! East") unless the reporter allows the name, and passed on only as its TLP
//! 2.0 label allows:
//!
//! | label of the shared version | which other members may read it |
//! |---|---|
//! | CLEAR, GREEN | every member |
//! | AMBER, AMBER+STRICT | the recipient organisations named when sharing (those who need to know) |
//! | RED | the named recipient people only |
//!
//! The full report follows its own label inside the reporting organisation:
//! at TLP:RED only the reporter and the organisation's member lead read it.
//!
//! Also here: validation of a report (indicators are checked one by one:
//! IPv4/IPv6 address, domain, URL, e-mail address, MD5/SHA-1/SHA-256 hash),
//! the ICO's 72-hour clock for personal-data breaches, and the escalation
//! targets.

use crate::access::Actor;
use crate::account::{Email, Role};
use crate::ids::{OrgId, UserId};
use crate::membership::CouncilType;
use crate::tlp::TlpLabel;
use crate::validation::ValidationErrors;
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

macro_rules! closed_set {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $s:literal, $label:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Stable machine name (storage, forms, API).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
            /// Words for people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                let t = s.trim();
                $name::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(t))
            }
        }
    };
}

closed_set!(
    /// What kind of incident.
    IncidentCategory {
        Ransomware => "ransomware", "Ransomware",
        PhishingBec => "phishing_bec", "Phishing or business e-mail compromise",
        Ddos => "ddos", "Denial of service (DDoS)",
        DataBreach => "data_breach", "Data breach",
        AccountCompromise => "account_compromise", "Account compromise",
        Malware => "malware", "Malware",
        SupplierCompromise => "supplier_compromise", "Supplier compromise",
        Other => "other", "Other",
    }
);

closed_set!(
    /// Where the incident stands.
    IncidentStatus {
        Open => "open", "Open: being handled",
        Contained => "contained", "Contained",
        Resolved => "resolved", "Resolved: services restored",
        Closed => "closed", "Closed",
    }
);

closed_set!(
    /// Who an incident was referred to.
    EscalationTarget {
        Ncsc => "ncsc", "NCSC (National Cyber Security Centre)",
        Rocu => "rocu", "Regional Organised Crime Unit",
        ActionFraud => "action_fraud", "Action Fraud",
        Ico => "ico", "ICO (Information Commissioner's Office)",
        Supplier => "supplier", "The supplier",
        Police => "police", "Police",
        Other => "other", "Other",
    }
);

closed_set!(
    /// What an indicator of compromise is.
    IndicatorKind {
        Ipv4 => "ipv4", "IPv4 address",
        Ipv6 => "ipv6", "IPv6 address",
        Domain => "domain", "Domain name",
        Url => "url", "URL",
        Email => "email", "E-mail address",
        Md5 => "md5", "MD5 hash",
        Sha1 => "sha1", "SHA-1 hash",
        Sha256 => "sha256", "SHA-256 hash",
    }
);

/// An indicator of compromise, checked and normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Indicator {
    pub kind: IndicatorKind,
    pub value: String,
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A DNS name with at least two labels of letters, digits and hyphens and a
/// top-level label of letters; lower-cased.
fn domain(s: &str) -> Option<String> {
    let d = s.trim().trim_end_matches('.').to_ascii_lowercase();
    if d.len() > 253 || !d.contains('.') {
        return None;
    }
    let labels: Vec<&str> = d.split('.').collect();
    let ok = labels.iter().all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    // Top-level domains are letters (at least two), or IDNA `xn--…`.
    let tld_ok = labels.last().is_some_and(|t| {
        (t.len() >= 2 && t.bytes().all(|b| b.is_ascii_alphabetic())) || t.starts_with("xn--")
    });
    (ok && tld_ok).then_some(d)
}

/// An http(s) or ftp URL with a valid host (name or address); kept as given
/// but for the scheme and host, lower-cased.
fn url(s: &str) -> Option<String> {
    let t = s.trim();
    let (scheme, rest) = t.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "ftp") {
        return None;
    }
    if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        let (addr, _) = v6.split_once(']')?;
        addr.parse::<std::net::Ipv6Addr>().ok()?;
        host_port.to_ascii_lowercase()
    } else {
        let (h, port) = host_port.split_once(':').unwrap_or((host_port, ""));
        if !port.is_empty() && port.parse::<u16>().is_err() {
            return None;
        }
        let h = if h.parse::<std::net::Ipv4Addr>().is_ok() {
            h.to_string()
        } else {
            domain(h)?
        };
        if port.is_empty() {
            h
        } else {
            format!("{h}:{port}")
        }
    };
    Some(format!("{scheme}://{host}{path}"))
}

impl Indicator {
    /// Recognise and normalise one indicator; the error says what it is not.
    pub fn parse(raw: &str) -> Result<Indicator, String> {
        let t = raw.trim();
        if t.is_empty() {
            return Err("is empty".into());
        }
        if t.len() > 2048 {
            return Err("is longer than 2,048 characters".into());
        }
        let make = |kind, value: String| Ok(Indicator { kind, value });
        if let Ok(ip) = t.parse::<IpAddr>() {
            return match ip {
                IpAddr::V4(a) => make(IndicatorKind::Ipv4, a.to_string()),
                IpAddr::V6(a) => make(IndicatorKind::Ipv6, a.to_string()),
            };
        }
        if t.contains("://") {
            return url(t)
                .map(|u| Indicator {
                    kind: IndicatorKind::Url,
                    value: u,
                })
                .ok_or_else(|| format!("'{t}' is not a valid http(s) or ftp URL"));
        }
        if t.contains('@') {
            return Email::parse(t)
                .map(|e| Indicator {
                    kind: IndicatorKind::Email,
                    value: e.as_str().to_string(),
                })
                .map_err(|e| format!("'{t}' is not a valid e-mail address: {e}"));
        }
        if is_hex(t) {
            let v = t.to_ascii_lowercase();
            return match t.len() {
                32 => make(IndicatorKind::Md5, v),
                40 => make(IndicatorKind::Sha1, v),
                64 => make(IndicatorKind::Sha256, v),
                n => Err(format!(
                    "'{t}' looks like a hash but has {n} hex digits (MD5 has 32, SHA-1 40, SHA-256 64)"
                )),
            };
        }
        domain(t)
            .map(|d| Indicator {
                kind: IndicatorKind::Domain,
                value: d,
            })
            .ok_or_else(|| {
                format!(
                    "'{t}' is not an IP address, domain, URL, e-mail address or MD5/SHA-1/SHA-256 hash"
                )
            })
    }
}

/// A report as a person or client gave it, all text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct IncidentInput {
    pub title: String,
    /// What happened.
    pub summary: String,
    pub category: String,
    /// When it started (`YYYY-MM-DDTHH:MM`, UTC; optional).
    pub started_at: String,
    /// When it was detected: the council became aware (`YYYY-MM-DDTHH:MM`, UTC).
    pub detected_at: String,
    pub affected_services: String,
    /// The supplier or shared service involved, if any.
    pub supplier: String,
    pub personal_data: bool,
    pub status: String,
    /// One indicator per line (or per element).
    pub indicators: Vec<String>,
    /// A TLP label in any form [`TlpLabel::parse`] reads.
    pub tlp: String,
}

/// A valid report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentDraft {
    pub title: String,
    pub summary: String,
    pub category: IncidentCategory,
    pub started_at: Option<DateTime<Utc>>,
    pub detected_at: DateTime<Utc>,
    pub affected_services: String,
    pub supplier: Option<String>,
    pub personal_data: bool,
    pub status: IncidentStatus,
    pub indicators: Vec<Indicator>,
    pub tlp: TlpLabel,
}

/// The longest summary accepted (about 3,000 words).
pub const MAX_SUMMARY: usize = 20_000;
/// The most indicators one report may list.
pub const MAX_INDICATORS: usize = 500;

/// Read a date and time as forms send it (`2026-11-23T09:30`, seconds and a
/// `Z` optional), or RFC 3339 with an offset. Times without an offset are UTC.
pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    let t = raw.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    let t = t.trim_end_matches('Z');
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .map(|n| Utc.from_utc_datetime(&n))
}

fn text(
    errors: &mut ValidationErrors,
    field: &'static str,
    raw: &str,
    max: usize,
    required: bool,
) -> String {
    let t = raw.trim();
    if required && t.is_empty() {
        errors.add(field, "is required");
    } else if t.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
    } else if t
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errors.add(field, "must not contain control characters");
    }
    t.to_string()
}

impl IncidentInput {
    /// Check every field against `now` (nothing may happen in the future);
    /// the errors name each bad field, and each bad indicator by its line.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<IncidentDraft, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let title = text(&mut e, "title", &self.title, 200, true);
        let summary = text(&mut e, "summary", &self.summary, MAX_SUMMARY, true);
        let affected_services = text(
            &mut e,
            "affected_services",
            &self.affected_services,
            2000,
            false,
        );
        let supplier = text(&mut e, "supplier", &self.supplier, 200, false);
        let category = IncidentCategory::parse(&self.category);
        if category.is_none() {
            e.add("category", "choose one of the categories");
        }
        let status = if self.status.trim().is_empty() {
            Some(IncidentStatus::Open)
        } else {
            IncidentStatus::parse(&self.status)
        };
        if status.is_none() {
            e.add("status", "choose open, contained, resolved or closed");
        }
        let tlp = TlpLabel::parse(&self.tlp);
        if tlp.is_none() {
            e.add(
                "tlp",
                "choose a TLP label: CLEAR, GREEN, AMBER, AMBER+STRICT or RED",
            );
        }
        let soon = now + Duration::minutes(5);
        let detected_at = match parse_time(&self.detected_at) {
            Some(d) if d > soon => {
                e.add("detected_at", "must not be in the future");
                None
            }
            Some(d) => Some(d),
            None if self.detected_at.trim().is_empty() => {
                e.add(
                    "detected_at",
                    "is required: when your council became aware of it",
                );
                None
            }
            None => {
                e.add(
                    "detected_at",
                    "must be a date and time like 2026-11-23T09:30",
                );
                None
            }
        };
        let started_at = match self.started_at.trim() {
            "" => None,
            raw => match parse_time(raw) {
                Some(s) if s > soon => {
                    e.add("started_at", "must not be in the future");
                    None
                }
                Some(s) if detected_at.is_some_and(|d| s > d) => {
                    e.add("started_at", "must not be after it was detected");
                    None
                }
                Some(s) => Some(s),
                None => {
                    e.add(
                        "started_at",
                        "must be a date and time like 2026-11-23T09:30",
                    );
                    None
                }
            },
        };
        let lines: Vec<&str> = self
            .indicators
            .iter()
            .flat_map(|l| l.lines())
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let mut indicators = Vec::new();
        if lines.len() > MAX_INDICATORS {
            e.add(
                "indicators",
                format!("at most {MAX_INDICATORS} indicators per report"),
            );
        } else {
            for (n, line) in lines.iter().enumerate() {
                match Indicator::parse(line) {
                    Ok(i) if indicators.contains(&i) => {}
                    Ok(i) => indicators.push(i),
                    Err(why) => e.add("indicators", format!("line {}: {why}", n + 1)),
                }
            }
        }
        match (category, status, tlp, detected_at) {
            (Some(category), Some(status), Some(tlp), Some(detected_at)) if e.is_empty() => {
                Ok(IncidentDraft {
                    title,
                    summary,
                    category,
                    started_at,
                    detected_at,
                    affected_services,
                    supplier: (!supplier.is_empty()).then_some(supplier),
                    personal_data: self.personal_data,
                    status,
                    indicators,
                    tlp,
                })
            }
            _ => Err(e),
        }
    }
}

/// How the author of a shared version is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribution {
    /// "a district council in the South East" (the default).
    Anonymous,
    /// The council's name, when the reporter allows it.
    Named,
}

/// How the reporting organisation is named to others.
pub fn attribution_text(
    attribution: Attribution,
    org_name: &str,
    council_type: CouncilType,
    region: &str,
) -> String {
    match attribution {
        Attribution::Named => org_name.to_string(),
        Attribution::Anonymous => {
            let kind = match council_type {
                CouncilType::DistrictBorough => "a district or borough council",
                CouncilType::Unitary => "a unitary council",
                CouncilType::County => "a county council",
                CouncilType::OtherPublicSector => "a public-sector member",
            };
            if region.trim().is_empty() {
                format!("{kind} in the WARP")
            } else {
                format!("{kind} in {}", region.trim())
            }
        }
    }
}

/// A sanitised version as the reporter (or an operator) gave it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SanitisedInput {
    pub title: String,
    pub summary: String,
    pub tlp: String,
    /// `anonymous` (default) or `named`.
    pub attribution: String,
    /// Share the indicators too (they are facts, not attribution).
    pub share_indicators: bool,
    /// For AMBER / AMBER+STRICT: the organisations that need to know.
    pub recipient_orgs: Vec<i64>,
    /// For RED: the people it is for.
    pub recipient_users: Vec<i64>,
}

/// A valid sanitised version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SanitisedDraft {
    pub title: String,
    pub summary: String,
    pub tlp: TlpLabel,
    pub attribution: Attribution,
    pub share_indicators: bool,
    pub recipient_orgs: Vec<OrgId>,
    pub recipient_users: Vec<UserId>,
}

impl SanitisedInput {
    /// Check every field; recipients are required where the label limits
    /// sharing to them (AMBER and AMBER+STRICT: organisations; RED: people),
    /// and ignored where it does not.
    pub fn validate(&self) -> Result<SanitisedDraft, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let title = text(&mut e, "title", &self.title, 200, true);
        let summary = text(&mut e, "summary", &self.summary, MAX_SUMMARY, true);
        let tlp = TlpLabel::parse(&self.tlp);
        if tlp.is_none() {
            e.add(
                "tlp",
                "choose a TLP label: CLEAR, GREEN, AMBER, AMBER+STRICT or RED",
            );
        }
        let attribution = match self.attribution.trim() {
            "" | "anonymous" => Some(Attribution::Anonymous),
            "named" => Some(Attribution::Named),
            _ => {
                e.add("attribution", "choose anonymous or named");
                None
            }
        };
        let mut orgs: Vec<OrgId> = self.recipient_orgs.iter().map(|o| OrgId(*o)).collect();
        orgs.sort_unstable_by_key(|o| o.0);
        orgs.dedup();
        let mut users: Vec<UserId> = self.recipient_users.iter().map(|u| UserId(*u)).collect();
        users.sort_unstable_by_key(|u| u.0);
        users.dedup();
        match tlp {
            Some(TlpLabel::Amber | TlpLabel::AmberStrict) => {
                users.clear();
                if orgs.is_empty() {
                    e.add(
                        "recipient_orgs",
                        "choose the organisations that need to know (AMBER shares with them only)",
                    );
                }
            }
            Some(TlpLabel::Red) => {
                orgs.clear();
                if users.is_empty() {
                    e.add(
                        "recipient_users",
                        "choose the people it is for (RED shares with them only)",
                    );
                }
            }
            _ => {
                orgs.clear();
                users.clear();
            }
        }
        match (tlp, attribution) {
            (Some(tlp), Some(attribution)) if e.is_empty() => Ok(SanitisedDraft {
                title,
                summary,
                tlp,
                attribution,
                share_indicators: self.share_indicators,
                recipient_orgs: orgs,
                recipient_users: users,
            }),
            _ => Err(e),
        }
    }
}

/// Whether `actor` may read an incident's lessons learnt: whoever may read
/// the incident, and every member once the reporting organisation shares
/// them.
pub fn may_read_lessons(actor: &Actor, f: &IncidentFacts, lessons_shared: bool) -> bool {
    view_for(actor, f).is_some() || (lessons_shared && actor.org_id.is_some())
}

/// Where the sanitised version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharingState {
    /// Nothing may leave the room.
    Private,
    /// A sanitised version was drafted by an operator and waits for the
    /// reporting organisation's approval; not shared yet.
    Proposed,
    /// The reporting organisation authorised the sanitised version.
    Shared,
}

impl SharingState {
    pub fn as_str(self) -> &'static str {
        match self {
            SharingState::Private => "private",
            SharingState::Proposed => "proposed",
            SharingState::Shared => "shared",
        }
    }
    pub fn parse(s: &str) -> Option<SharingState> {
        [
            SharingState::Private,
            SharingState::Proposed,
            SharingState::Shared,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// What the visibility rules need to know about one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    /// The reporting organisation.
    pub org_id: OrgId,
    pub reporter: Option<UserId>,
    /// The label of the full report.
    pub tlp: TlpLabel,
    pub sharing: SharingState,
    /// The label of the sanitised version.
    pub shared_tlp: TlpLabel,
    /// For AMBER and AMBER+STRICT: the organisations that need to know.
    pub recipient_orgs: Vec<OrgId>,
    /// For RED: the people it is shared with.
    pub recipient_users: Vec<UserId>,
}

/// Which version of an incident someone may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentView {
    /// Everything the reporter wrote.
    Full,
    /// Only the authorised sanitised version, attributed as allowed.
    Sanitised,
}

fn in_reporting_org(actor: &Actor, f: &IncidentFacts) -> bool {
    actor.org_id == Some(f.org_id) && actor.role != Role::Operator
}

/// Inside the reporting organisation, whether this person may read the full
/// report: everyone, except at TLP:RED (the reporter and the member lead).
fn reads_full_in_org(actor: &Actor, f: &IncidentFacts) -> bool {
    in_reporting_org(actor, f)
        && (f.tlp != TlpLabel::Red
            || Some(actor.user_id) == f.reporter
            || actor.role == Role::MemberLead)
}

/// The version `actor` may read, or `None` (then the incident does not exist
/// for them: answer 404).
pub fn view_for(actor: &Actor, f: &IncidentFacts) -> Option<IncidentView> {
    if actor.is_operator() || reads_full_in_org(actor, f) {
        return Some(IncidentView::Full);
    }
    if in_reporting_org(actor, f) || f.sharing != SharingState::Shared {
        return None;
    }
    let allowed = match f.shared_tlp {
        TlpLabel::Clear | TlpLabel::Green => true,
        TlpLabel::Amber | TlpLabel::AmberStrict => {
            actor.org_id.is_some_and(|o| f.recipient_orgs.contains(&o))
        }
        TlpLabel::Red => f.recipient_users.contains(&actor.user_id),
    };
    allowed.then_some(IncidentView::Sanitised)
}

/// Reporting an incident: members only (operators take reports, they do not
/// file them for a council).
pub fn can_report(actor: &Actor) -> bool {
    actor.org_id.is_some() && !actor.is_operator()
}

/// Changing the report, its status, the ICO record and the escalation log:
/// those in the reporting organisation who may read it in full.
pub fn can_update(actor: &Actor, f: &IncidentFacts) -> bool {
    reads_full_in_org(actor, f)
}

/// Logging a referral or timeline entry: the reporting organisation, or an
/// operator (the WARP often makes the referral).
pub fn can_log(actor: &Actor, f: &IncidentFacts) -> bool {
    actor.is_operator() || can_update(actor, f)
}

/// Drafting a sanitised version: the reporting organisation, or an operator
/// (whose draft then waits for the organisation's approval).
pub fn can_draft_sanitised(actor: &Actor, f: &IncidentFacts) -> bool {
    actor.is_operator() || can_update(actor, f)
}

/// Authorising sharing (or withdrawing it): only the reporting
/// organisation — the reporter or its member lead. Never an operator.
pub fn can_authorise_sharing(actor: &Actor, f: &IncidentFacts) -> bool {
    in_reporting_org(actor, f)
        && (Some(actor.user_id) == f.reporter || actor.role == Role::MemberLead)
        && reads_full_in_org(actor, f)
}

/// Reading who read and changed the incident: operators and the reporting
/// organisation's member lead.
pub fn can_read_audit(actor: &Actor, f: &IncidentFacts) -> bool {
    actor.is_operator() || (in_reporting_org(actor, f) && actor.role == Role::MemberLead)
}

/// The ICO must be told of a personal-data breach within 72 hours of the
/// organisation becoming aware of it (UK GDPR article 33).
pub const ICO_HOURS: i64 = 72;
/// Warn when less than this is left.
pub const ICO_WARN_HOURS: i64 = 24;

/// Where the ICO notification stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum IcoClock {
    /// No personal data involved.
    NotRequired,
    /// Still time; `warn` when less than a day is left.
    Running {
        deadline: DateTime<Utc>,
        hours_left: i64,
        warn: bool,
    },
    Overdue {
        deadline: DateTime<Utc>,
        hours_over: i64,
    },
    Notified {
        deadline: DateTime<Utc>,
        at: DateTime<Utc>,
        on_time: bool,
    },
}

/// The ICO clock for a report, at `now`.
pub fn ico_clock(
    personal_data: bool,
    aware_at: DateTime<Utc>,
    notified_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> IcoClock {
    if !personal_data {
        return IcoClock::NotRequired;
    }
    let deadline = aware_at + Duration::hours(ICO_HOURS);
    if let Some(at) = notified_at {
        return IcoClock::Notified {
            deadline,
            at,
            on_time: at <= deadline,
        };
    }
    if now > deadline {
        IcoClock::Overdue {
            deadline,
            hours_over: (now - deadline).num_hours(),
        }
    } else {
        let hours_left = (deadline - now).num_hours();
        IcoClock::Running {
            deadline,
            hours_left,
            warn: hours_left < ICO_WARN_HOURS,
        }
    }
}

/// The words of a shared-supplier early warning: what happened and to whom,
/// without naming the reporter unless they allowed it.
pub fn supplier_warning(
    supplier: &str,
    category: IncidentCategory,
    reported_by: &str,
) -> (String, String) {
    let title = format!(
        "Supplier warning: {} incident involving {supplier}",
        category.label().to_lowercase()
    );
    let summary = format!(
        "{} has reported a {} incident involving {supplier}, which your organisation lists as a supplier. \
         Check your connections to {supplier} and watch for unusual activity; the WARP will share more \
         as the reporter allows.",
        capitalise(reported_by),
        category.label().to_lowercase()
    );
    (title, summary)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

// ------------------------------------------------------- evidence files

/// Longest attachment file name kept, in characters.
pub const MAX_ATTACHMENT_NAME: usize = 200;

/// Adding or removing evidence files (a phishing e-mail, screenshots, logs):
/// the reporting organisation, as for changing the report. The files are
/// part of the full report, so whoever reads that (operators too) reads
/// them; operators do not add to or remove a council's evidence.
pub fn can_attach(actor: &Actor, f: &IncidentFacts) -> bool {
    can_update(actor, f)
}

/// Check the name an uploaded file came with: a plain file name (no folder
/// parts, no control characters), at most [`MAX_ATTACHMENT_NAME`]
/// characters. Returns the trimmed name, or why it cannot be used.
pub fn attachment_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("the file needs a name".into());
    }
    if name.contains(['/', '\\']) {
        return Err(format!(
            "'{}' has folder parts; send the file name alone, without / or \\",
            name.chars().take(60).collect::<String>().escape_default()
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("the file name must not contain control characters".into());
    }
    if name == "." || name == ".." {
        return Err(format!("'{name}' is not a file name"));
    }
    if name.chars().count() > MAX_ATTACHMENT_NAME {
        return Err(format!(
            "the file name must be at most {MAX_ATTACHMENT_NAME} characters"
        ));
    }
    Ok(name.to_string())
}

/// The media type to keep for an upload: the declared one when it looks
/// like a media type (`type/subtype`, parameters dropped, lower case),
/// otherwise `application/octet-stream`.
pub fn attachment_content_type(declared: Option<&str>) -> String {
    let essence = declared
        .and_then(|d| d.split(';').next())
        .map(|d| d.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let token = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    match essence.split_once('/') {
        Some((t, sub)) if essence.len() <= 100 && token(t) && token(sub) => essence,
        _ => "application/octet-stream".into(),
    }
}

/// The media type a download is served as: the declared type only when a
/// browser cannot run it (raster images, plain text, PDF); anything else —
/// HTML, SVG, an e-mail, a script — as `application/octet-stream`.
pub fn served_content_type(stored: &str) -> &'static str {
    match stored {
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        "image/gif" => "image/gif",
        "image/webp" => "image/webp",
        "text/plain" => "text/plain; charset=utf-8",
        "application/pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// A size as people read it: `812 bytes`, `12.3 KB`, `4.0 MB`.
pub fn size_text(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes == 1 {
        "1 byte".into()
    } else if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        parse_time(s).unwrap_or_default()
    }

    #[test]
    fn indicators_are_recognised_and_normalised() {
        let ok = |raw: &str, kind: IndicatorKind, value: &str| {
            assert_eq!(
                Indicator::parse(raw),
                Ok(Indicator {
                    kind,
                    value: value.into()
                }),
                "{raw}"
            );
        };
        ok(" 203.0.113.7 ", IndicatorKind::Ipv4, "203.0.113.7");
        ok("2001:DB8::1", IndicatorKind::Ipv6, "2001:db8::1");
        ok(
            "Evil-Payroll.example.COM.",
            IndicatorKind::Domain,
            "evil-payroll.example.com",
        );
        ok(
            "HTTPS://Login.Example.com:8443/owa/?x=1",
            IndicatorKind::Url,
            "https://login.example.com:8443/owa/?x=1",
        );
        ok(
            "http://[2001:db8::2]/x",
            IndicatorKind::Url,
            "http://[2001:db8::2]/x",
        );
        ok(
            "Payroll@Evil.example",
            IndicatorKind::Email,
            "payroll@evil.example",
        );
        ok(
            "D41D8CD98F00B204E9800998ECF8427E",
            IndicatorKind::Md5,
            "d41d8cd98f00b204e9800998ecf8427e",
        );
        ok(
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            IndicatorKind::Sha1,
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        );
        ok(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            IndicatorKind::Sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        );
        for bad in [
            "",
            "localhost",
            "999.1.1.1x",
            "javascript://alert(1)",
            "http://exa mple.com",
            "http://-bad-.example",
            "abc123",
            "not an indicator",
            "a@",
            "1.2.3",
        ] {
            assert!(Indicator::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(
            Indicator::parse("abcdef0123")
                .unwrap_err()
                .contains("10 hex digits")
        );
    }

    fn input() -> IncidentInput {
        IncidentInput {
            title: "Ransomware via managed service provider".into(),
            summary: "Encrypted file servers after the provider's remote tool was abused.".into(),
            category: "supplier_compromise".into(),
            started_at: "2026-11-20T22:15".into(),
            detected_at: "2026-11-21T07:40".into(),
            affected_services: "Revenues and benefits".into(),
            supplier: "Mid Kent ICT".into(),
            personal_data: true,
            status: "".into(),
            indicators: vec!["203.0.113.7\n\nevil.example\n203.0.113.7".into()],
            tlp: "TLP:AMBER".into(),
        }
    }

    #[test]
    fn a_good_report_validates_with_defaults_and_deduplicated_indicators() {
        let d = input().validate(at("2026-11-23T10:00")).expect("valid");
        assert_eq!(d.category, IncidentCategory::SupplierCompromise);
        assert_eq!(d.status, IncidentStatus::Open);
        assert_eq!(d.tlp, TlpLabel::Amber);
        assert_eq!(d.detected_at, at("2026-11-21T07:40"));
        assert_eq!(d.supplier.as_deref(), Some("Mid Kent ICT"));
        assert_eq!(d.indicators.len(), 2);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = IncidentInput {
            title: " ".into(),
            summary: "x".repeat(MAX_SUMMARY + 1),
            category: "alien invasion".into(),
            started_at: "2026-11-22T09:00".into(),
            detected_at: "2026-11-21T07:40".into(),
            status: "exploded".into(),
            indicators: vec!["203.0.113.7".into(), "what is this".into()],
            tlp: "purple".into(),
            ..input()
        };
        let e = bad.validate(at("2026-11-23T10:00")).expect_err("invalid");
        for field in [
            "title",
            "summary",
            "category",
            "started_at",
            "status",
            "tlp",
        ] {
            assert!(e.for_field(field).is_some(), "{field}: {e:?}");
        }
        assert!(
            e.for_field("indicators")
                .is_some_and(|m| m.starts_with("line 2: 'what is this'")),
            "{e:?}"
        );
        let future = IncidentInput {
            detected_at: "2026-12-01T00:00".into(),
            ..input()
        };
        let e = future.validate(at("2026-11-23T10:00")).expect_err("future");
        assert_eq!(
            e.for_field("detected_at"),
            Some("must not be in the future")
        );
        let missing = IncidentInput {
            detected_at: "".into(),
            ..input()
        };
        assert!(missing.validate(at("2026-11-23T10:00")).is_err());
    }

    const KENT: OrgId = OrgId(1);
    const MEDWAY: OrgId = OrgId(2);
    const DOVER: OrgId = OrgId(3);
    const REPORTER: UserId = UserId(10);

    fn actor(user: i64, role: Role, org: Option<OrgId>) -> Actor {
        Actor {
            user_id: UserId(user),
            role,
            org_id: org,
        }
    }

    fn facts(tlp: TlpLabel, sharing: SharingState, shared_tlp: TlpLabel) -> IncidentFacts {
        IncidentFacts {
            org_id: KENT,
            reporter: Some(REPORTER),
            tlp,
            sharing,
            shared_tlp,
            recipient_orgs: vec![MEDWAY],
            recipient_users: vec![UserId(30)],
        }
    }

    /// Every role × organisation × label × sharing state.
    #[test]
    fn visibility_matrix() {
        let reporter = actor(10, Role::MemberUser, Some(KENT));
        let colleague = actor(11, Role::MemberUser, Some(KENT));
        let kent_lead = actor(12, Role::MemberLead, Some(KENT));
        let operator = actor(1, Role::Operator, None);
        let medway_user = actor(20, Role::MemberUser, Some(MEDWAY));
        let medway_named = actor(30, Role::MemberUser, Some(MEDWAY));
        let dover_lead = actor(40, Role::MemberLead, Some(DOVER));
        use IncidentView::{Full, Sanitised};
        for tlp in TlpLabel::ALL {
            for sharing in [
                SharingState::Private,
                SharingState::Proposed,
                SharingState::Shared,
            ] {
                for shared_tlp in TlpLabel::ALL {
                    let f = facts(tlp, sharing, shared_tlp);
                    let case = format!("{tlp:?} {sharing:?} shared as {shared_tlp:?}");
                    // Operators and the reporter always read it all.
                    assert_eq!(view_for(&operator, &f), Some(Full), "{case}");
                    assert_eq!(view_for(&reporter, &f), Some(Full), "{case}");
                    assert_eq!(view_for(&kent_lead, &f), Some(Full), "{case}");
                    // A colleague reads it all unless it is RED; never the sanitised one.
                    let c = view_for(&colleague, &f);
                    assert_eq!(c, (tlp != TlpLabel::Red).then_some(Full), "{case}");
                    // Other members: only a shared version, as its label allows.
                    let shared = sharing == SharingState::Shared;
                    let everyone = matches!(shared_tlp, TlpLabel::Clear | TlpLabel::Green);
                    let amber = matches!(shared_tlp, TlpLabel::Amber | TlpLabel::AmberStrict);
                    let red = shared_tlp == TlpLabel::Red;
                    assert_eq!(
                        view_for(&medway_user, &f),
                        (shared && (everyone || amber)).then_some(Sanitised),
                        "{case}"
                    );
                    assert_eq!(
                        view_for(&medway_named, &f),
                        (shared && (everyone || amber || red)).then_some(Sanitised),
                        "{case}"
                    );
                    assert_eq!(
                        view_for(&dover_lead, &f),
                        (shared && everyone).then_some(Sanitised),
                        "{case}"
                    );
                    // Nobody outside ever gets the full report.
                    for outsider in [&medway_user, &medway_named, &dover_lead] {
                        assert_ne!(view_for(outsider, &f), Some(Full), "{case}");
                        assert!(!can_update(outsider, &f) && !can_log(outsider, &f));
                        assert!(!can_authorise_sharing(outsider, &f));
                        assert!(!can_read_audit(outsider, &f));
                        assert!(!can_draft_sanitised(outsider, &f));
                    }
                    // Only the reporting organisation authorises sharing.
                    assert!(!can_authorise_sharing(&operator, &f));
                    assert!(can_authorise_sharing(&reporter, &f));
                    assert!(can_authorise_sharing(&kent_lead, &f));
                    assert!(!can_authorise_sharing(&colleague, &f));
                    assert!(can_draft_sanitised(&operator, &f) && can_log(&operator, &f));
                    assert!(
                        !can_update(&operator, &f),
                        "operators log, they do not rewrite"
                    );
                    assert!(can_read_audit(&operator, &f) && can_read_audit(&kent_lead, &f));
                    assert!(!can_read_audit(&reporter, &f) && !can_read_audit(&colleague, &f));
                }
            }
        }
        assert!(can_report(&reporter) && !can_report(&operator));
    }

    #[test]
    fn anonymous_attribution_names_the_kind_and_region_only() {
        assert_eq!(
            attribution_text(
                Attribution::Anonymous,
                "Dover District Council",
                CouncilType::DistrictBorough,
                "the South East"
            ),
            "a district or borough council in the South East"
        );
        assert_eq!(
            attribution_text(
                Attribution::Anonymous,
                "Kent County Council",
                CouncilType::County,
                ""
            ),
            "a county council in the WARP"
        );
        assert_eq!(
            attribution_text(
                Attribution::Named,
                "Kent County Council",
                CouncilType::County,
                "x"
            ),
            "Kent County Council"
        );
    }

    #[test]
    fn the_ico_clock_runs_for_72_hours_from_awareness() {
        let aware = at("2026-11-21T07:40");
        assert_eq!(ico_clock(false, aware, None, aware), IcoClock::NotRequired);
        let deadline = at("2026-11-24T07:40");
        assert_eq!(
            ico_clock(true, aware, None, at("2026-11-22T07:40")),
            IcoClock::Running {
                deadline,
                hours_left: 48,
                warn: false
            }
        );
        assert!(matches!(
            ico_clock(true, aware, None, at("2026-11-23T10:00")),
            IcoClock::Running {
                warn: true,
                hours_left: 21,
                ..
            }
        ));
        assert_eq!(
            ico_clock(true, aware, None, at("2026-11-24T10:40")),
            IcoClock::Overdue {
                deadline,
                hours_over: 3
            }
        );
        assert_eq!(
            ico_clock(
                true,
                aware,
                Some(at("2026-11-23T12:00")),
                at("2026-11-30T00:00")
            ),
            IcoClock::Notified {
                deadline,
                at: at("2026-11-23T12:00"),
                on_time: true
            }
        );
    }

    #[test]
    fn a_supplier_warning_does_not_name_an_anonymous_reporter() {
        let (title, summary) = supplier_warning(
            "Mid Kent ICT",
            IncidentCategory::Ransomware,
            "a district or borough council in the South East",
        );
        assert_eq!(
            title,
            "Supplier warning: ransomware incident involving Mid Kent ICT"
        );
        assert!(
            summary.starts_with("A district or borough council in the South East has reported")
        );
        assert!(!summary.contains("Dover"));
    }

    #[test]
    fn a_sanitised_version_needs_recipients_where_its_label_limits_it() {
        let base = SanitisedInput {
            title: "Ransomware through a shared IT provider".into(),
            summary: "A member's file servers were encrypted via the provider's remote tool."
                .into(),
            tlp: "amber".into(),
            ..SanitisedInput::default()
        };
        let e = base.validate().expect_err("no recipients");
        assert!(e.for_field("recipient_orgs").is_some());
        let ok = SanitisedInput {
            recipient_orgs: vec![3, 2, 3],
            recipient_users: vec![9],
            ..base.clone()
        }
        .validate()
        .expect("valid");
        assert_eq!(ok.recipient_orgs, vec![OrgId(2), OrgId(3)]);
        assert!(
            ok.recipient_users.is_empty(),
            "AMBER names organisations, not people"
        );
        assert_eq!(
            ok.attribution,
            Attribution::Anonymous,
            "anonymous by default"
        );
        let red = SanitisedInput {
            tlp: "red".into(),
            ..base.clone()
        };
        assert!(
            red.validate()
                .expect_err("nobody")
                .for_field("recipient_users")
                .is_some()
        );
        let green = SanitisedInput {
            tlp: "green".into(),
            recipient_orgs: vec![2],
            attribution: "named".into(),
            ..base
        }
        .validate()
        .expect("valid");
        assert!(green.recipient_orgs.is_empty(), "GREEN is for every member");
        assert_eq!(green.attribution, Attribution::Named);
    }

    #[test]
    fn shared_lessons_reach_every_member() {
        let f = facts(TlpLabel::Amber, SharingState::Private, TlpLabel::Amber);
        let dover = actor(40, Role::MemberUser, Some(DOVER));
        assert!(!may_read_lessons(&dover, &f, false));
        assert!(may_read_lessons(&dover, &f, true));
        assert!(may_read_lessons(
            &actor(10, Role::MemberUser, Some(KENT)),
            &f,
            false
        ));
    }

    #[test]
    fn closed_sets_round_trip() {
        for c in IncidentCategory::ALL {
            assert_eq!(IncidentCategory::parse(c.as_str()), Some(*c));
        }
        for s in IncidentStatus::ALL {
            assert_eq!(IncidentStatus::parse(s.as_str()), Some(*s));
        }
        for t in EscalationTarget::ALL {
            assert_eq!(EscalationTarget::parse(t.as_str()), Some(*t));
        }
        assert_eq!(SharingState::parse("shared"), Some(SharingState::Shared));
    }

    #[test]
    fn only_the_reporting_organisation_adds_evidence_and_operators_read_it() {
        let operator = actor(1, Role::Operator, None);
        let reporter = actor(10, Role::MemberUser, Some(KENT));
        let colleague = actor(11, Role::MemberUser, Some(KENT));
        let lead = actor(12, Role::MemberLead, Some(KENT));
        let outsider = actor(40, Role::MemberLead, Some(DOVER));
        for tlp in TlpLabel::ALL {
            for sharing in [
                SharingState::Private,
                SharingState::Proposed,
                SharingState::Shared,
            ] {
                let f = facts(tlp, sharing, TlpLabel::Clear);
                let case = format!("{tlp:?} {sharing:?}");
                assert!(can_attach(&reporter, &f) && can_attach(&lead, &f), "{case}");
                assert_eq!(can_attach(&colleague, &f), tlp != TlpLabel::Red, "{case}");
                assert!(!can_attach(&operator, &f), "{case}");
                assert_eq!(view_for(&operator, &f), Some(IncidentView::Full));
                assert!(!can_attach(&outsider, &f), "{case}");
                for who in [&operator, &reporter, &colleague, &lead, &outsider] {
                    // Attaching needs the full report.
                    if can_attach(who, &f) {
                        assert_eq!(view_for(who, &f), Some(IncidentView::Full), "{case}");
                    }
                }
            }
        }
    }

    #[test]
    fn attachment_names_are_plain_file_names() {
        assert_eq!(
            attachment_name("  Invoice overdue.eml "),
            Ok("Invoice overdue.eml".into())
        );
        assert_eq!(
            attachment_name("Capture d’écran 2026-11-23.png"),
            Ok("Capture d’écran 2026-11-23.png".into())
        );
        for bad in [
            "",
            "   ",
            "../../etc/passwd",
            "C:\\Users\\it\\phish.eml",
            "logs/auth.log",
            "a\u{0}b.txt",
            "line\nbreak.txt",
            "..",
            ".",
        ] {
            assert!(attachment_name(bad).is_err(), "{bad:?}");
        }
        assert!(
            attachment_name("/etc/passwd")
                .expect_err("folder")
                .contains("folder parts")
        );
        assert!(attachment_name(&"a".repeat(MAX_ATTACHMENT_NAME)).is_ok());
        assert!(attachment_name(&"a".repeat(MAX_ATTACHMENT_NAME + 1)).is_err());
    }

    #[test]
    fn downloads_are_served_as_a_type_the_browser_cannot_run() {
        assert_eq!(attachment_content_type(Some("Image/PNG")), "image/png");
        assert_eq!(
            attachment_content_type(Some("text/plain; charset=latin1")),
            "text/plain"
        );
        assert_eq!(
            attachment_content_type(Some("message/rfc822")),
            "message/rfc822"
        );
        for junk in [None, Some(""), Some("nonsense"), Some("text/html\r\nX: y")] {
            assert_eq!(attachment_content_type(junk), "application/octet-stream");
        }
        for (stored, served) in [
            ("image/png", "image/png"),
            ("image/jpeg", "image/jpeg"),
            ("text/plain", "text/plain; charset=utf-8"),
            ("application/pdf", "application/pdf"),
            ("text/html", "application/octet-stream"),
            ("image/svg+xml", "application/octet-stream"),
            ("message/rfc822", "application/octet-stream"),
            ("application/javascript", "application/octet-stream"),
            ("application/xhtml+xml", "application/octet-stream"),
        ] {
            assert_eq!(served_content_type(stored), served, "{stored}");
        }
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size_text(0), "0 bytes");
        assert_eq!(size_text(1), "1 byte");
        assert_eq!(size_text(812), "812 bytes");
        assert_eq!(size_text(12_595), "12.3 KB");
        assert_eq!(size_text(10 * 1024 * 1024), "10.0 MB");
    }
}

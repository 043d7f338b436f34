//! Members' meetings: what a meeting is, its agenda, who may answer an RSVP
//! and when, and who may read what.
//!
//! SEGWARP meets three times a year, usually in London. Operators schedule
//! meetings, publish the agenda (with guest presenters from government and
//! industry), record attendance, write the minutes and the outline of
//! discussions. Member users answer yes, no or maybe for themselves (a member
//! lead may also answer for the organisation's users).
//!
//! # Visibility
//! - Meetings, agendas and RSVPs: signed-in members and operators.
//! - Minutes: signed-in members and operators only, carried with a TLP label
//!   (TLP:AMBER unless the operator chooses otherwise; never TLP:RED, which
//!   would name individual recipients).
//! - The outline of discussions: public, a shareable list of topics, like
//!   the outline SEGWARP publishes.

use crate::access::{Actor, Denied};
use crate::account::Role;
use crate::ids::{OrgId, UserId};
use crate::incident::parse_time;
use crate::tlp::TlpLabel;
use crate::validation::{ValidationErrors, text};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The longest meeting title.
pub const MAX_TITLE: usize = 200;
/// The longest description.
pub const MAX_DESCRIPTION: usize = 5_000;
/// The longest venue.
pub const MAX_VENUE: usize = 300;
/// The longest online link.
pub const MAX_URL: usize = 500;
/// The longest minutes (about 15,000 words).
pub const MAX_MINUTES: usize = 100_000;
/// The most topics in an outline.
pub const MAX_TOPICS: usize = 40;
/// The longest topic.
pub const MAX_TOPIC: usize = 200;
/// The longest a meeting may last.
pub const MAX_LENGTH_HOURS: i64 = 72;
/// Reminders go out this long before a meeting starts.
pub const REMINDER_HOURS: i64 = 24;

/// A meeting as a form or API client gave it, all text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MeetingInput {
    pub title: String,
    pub starts_at: String,
    pub ends_at: String,
    #[serde(default)]
    pub venue: String,
    #[serde(default)]
    pub online_url: String,
    /// Empty for no limit.
    #[serde(default)]
    pub capacity: String,
    #[serde(default)]
    pub description: String,
}

/// A valid meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeetingDraft {
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue: Option<String>,
    pub online_url: Option<String>,
    /// How many may answer yes; `None` for no limit.
    pub capacity: Option<u32>,
    pub description: String,
}

fn optional(
    e: &mut ValidationErrors,
    field: &'static str,
    raw: &str,
    max: usize,
) -> Option<String> {
    let t = text(e, field, raw, 0, max);
    (!t.is_empty()).then_some(t)
}

/// Free text that may span lines (descriptions, minutes).
pub fn multiline(
    e: &mut ValidationErrors,
    field: &'static str,
    raw: &str,
    max: usize,
    required: bool,
) -> String {
    let t = raw.replace("\r\n", "\n").replace('\r', "\n");
    let t = t.trim();
    let len = t.chars().count();
    if required && len == 0 {
        e.add(field, "is required");
    } else if len > max {
        e.add(field, format!("must be at most {max} characters"));
    } else if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        e.add(field, "must not contain control characters");
    }
    t.to_string()
}

/// An `https://` link with a host and no spaces.
fn https_url(raw: &str) -> bool {
    let Some(rest) = raw.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty() && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl MeetingInput {
    /// Check every field; the errors name each one at fault.
    pub fn validate(&self) -> Result<MeetingDraft, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let title = text(&mut e, "title", &self.title, 1, MAX_TITLE);
        let starts_at = parse_time(&self.starts_at);
        if starts_at.is_none() {
            e.add(
                "starts_at",
                "give the start as a date and time in UTC, e.g. 2026-11-18T10:00",
            );
        }
        let ends_at = parse_time(&self.ends_at);
        if ends_at.is_none() {
            e.add(
                "ends_at",
                "give the end as a date and time in UTC, e.g. 2026-11-18T16:00",
            );
        }
        if let (Some(s), Some(t)) = (starts_at, ends_at) {
            if t <= s {
                e.add("ends_at", "must be after the start");
            } else if t - s > Duration::hours(MAX_LENGTH_HOURS) {
                e.add(
                    "ends_at",
                    format!("a meeting may last at most {MAX_LENGTH_HOURS} hours"),
                );
            }
        }
        let venue = optional(&mut e, "venue", &self.venue, MAX_VENUE);
        let online_url = optional(&mut e, "online_url", &self.online_url, MAX_URL);
        if let Some(u) = &online_url
            && !https_url(u)
        {
            e.add("online_url", "must be an https:// link");
        }
        if venue.is_none() && online_url.is_none() && e.for_field("online_url").is_none() {
            e.add("venue", "give a venue, an online link, or both");
        }
        let capacity = match self.capacity.trim() {
            "" => None,
            c => match c.parse::<u32>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    e.add(
                        "capacity",
                        "must be a whole number of places, at least 1 (or empty for no limit)",
                    );
                    None
                }
            },
        };
        let description = multiline(
            &mut e,
            "description",
            &self.description,
            MAX_DESCRIPTION,
            false,
        );
        match (starts_at, ends_at) {
            (Some(starts_at), Some(ends_at)) if e.is_empty() => Ok(MeetingDraft {
                title,
                starts_at,
                ends_at,
                venue,
                online_url,
                capacity,
                description,
            }),
            _ => Err(e),
        }
    }
}

/// Where a presenter comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenterKind {
    /// A member or the WARP's own team.
    Member,
    /// A guest from government (NCSC, DLUHC, the ICO …).
    Government,
    /// A guest from industry (a supplier, a security firm).
    Industry,
}

impl PresenterKind {
    pub const ALL: [PresenterKind; 3] = [
        PresenterKind::Member,
        PresenterKind::Government,
        PresenterKind::Industry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PresenterKind::Member => "member",
            PresenterKind::Government => "government",
            PresenterKind::Industry => "industry",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PresenterKind::Member => "Member or WARP",
            PresenterKind::Government => "Guest from government",
            PresenterKind::Industry => "Guest from industry",
        }
    }

    pub fn parse(s: &str) -> Option<PresenterKind> {
        let s = s.trim();
        if s.is_empty() {
            return Some(PresenterKind::Member);
        }
        PresenterKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One agenda item as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AgendaItemInput {
    pub title: String,
    #[serde(default)]
    pub speaker: String,
    #[serde(default)]
    pub organisation: String,
    /// `member`, `government` or `industry` (empty: member).
    #[serde(default)]
    pub presenter: String,
    /// Its place in the agenda, from 1; empty for "at the end".
    #[serde(default)]
    pub position: String,
}

/// A valid agenda item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaItemDraft {
    pub title: String,
    pub speaker: Option<String>,
    pub organisation: Option<String>,
    pub presenter: PresenterKind,
    /// `None`: after the last item.
    pub position: Option<u32>,
}

impl AgendaItemInput {
    pub fn validate(&self) -> Result<AgendaItemDraft, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let title = text(&mut e, "title", &self.title, 1, MAX_TITLE);
        let speaker = optional(&mut e, "speaker", &self.speaker, MAX_TITLE);
        let organisation = optional(&mut e, "organisation", &self.organisation, MAX_TITLE);
        let presenter = PresenterKind::parse(&self.presenter).unwrap_or_else(|| {
            e.add("presenter", "choose member, government or industry");
            PresenterKind::Member
        });
        if presenter != PresenterKind::Member && organisation.is_none() {
            e.add("organisation", "name the guest presenter's organisation");
        }
        let position = match self.position.trim() {
            "" => None,
            p => match p.parse::<u32>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    e.add("position", "must be a whole number from 1");
                    None
                }
            },
        };
        e.into_result(AgendaItemDraft {
            title,
            speaker,
            organisation,
            presenter,
            position,
        })
    }
}

/// Minutes as given: the text and the TLP label (empty: TLP:AMBER).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MinutesInput {
    pub text: String,
    #[serde(default)]
    pub tlp: String,
}

/// Valid minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinutesDraft {
    pub text: String,
    pub tlp: TlpLabel,
}

/// The label minutes carry unless the operator chooses another.
pub const DEFAULT_MINUTES_TLP: TlpLabel = TlpLabel::Amber;

impl MinutesInput {
    pub fn validate(&self) -> Result<MinutesDraft, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let text = multiline(&mut e, "text", &self.text, MAX_MINUTES, true);
        let tlp = if self.tlp.trim().is_empty() {
            DEFAULT_MINUTES_TLP
        } else {
            match TlpLabel::parse(&self.tlp) {
                Some(TlpLabel::Red) => {
                    e.add(
                        "tlp",
                        "minutes go to every member, so TLP:RED (named people only) cannot apply; \
                         use TLP:AMBER+STRICT or leave the item out",
                    );
                    TlpLabel::Red
                }
                Some(t) => t,
                None => {
                    e.add(
                        "tlp",
                        "choose TLP:CLEAR, TLP:GREEN, TLP:AMBER or TLP:AMBER+STRICT",
                    );
                    DEFAULT_MINUTES_TLP
                }
            }
        };
        e.into_result(MinutesDraft { text, tlp })
    }
}

/// The outline of discussions from text, one topic per line (blank lines
/// and leading "- " or "* " bullets ignored, duplicates dropped).
pub fn parse_outline(raw: &str) -> Result<Vec<String>, ValidationErrors> {
    let mut e = ValidationErrors::new();
    let mut topics: Vec<String> = Vec::new();
    for line in raw.lines() {
        let t = line.trim().trim_start_matches(['-', '*', '•']).trim();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > MAX_TOPIC {
            e.add(
                "topics",
                format!("each topic must be at most {MAX_TOPIC} characters"),
            );
            break;
        }
        if t.chars().any(char::is_control) {
            e.add("topics", "must not contain control characters");
            break;
        }
        if !topics.iter().any(|x| x.eq_ignore_ascii_case(t)) {
            topics.push(t.to_string());
        }
    }
    if e.is_empty() && topics.len() > MAX_TOPICS {
        e.add("topics", format!("list at most {MAX_TOPICS} topics"));
    }
    e.into_result(topics)
}

/// An answer to an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RsvpAnswer {
    Yes,
    No,
    Maybe,
}

impl RsvpAnswer {
    pub const ALL: [RsvpAnswer; 3] = [RsvpAnswer::Yes, RsvpAnswer::Maybe, RsvpAnswer::No];

    pub fn as_str(self) -> &'static str {
        match self {
            RsvpAnswer::Yes => "yes",
            RsvpAnswer::No => "no",
            RsvpAnswer::Maybe => "maybe",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RsvpAnswer::Yes => "Yes, I will come",
            RsvpAnswer::No => "No",
            RsvpAnswer::Maybe => "Maybe",
        }
    }

    pub fn parse(s: &str) -> Option<RsvpAnswer> {
        let s = s.trim().to_ascii_lowercase();
        RsvpAnswer::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Why an RSVP was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RsvpRefused {
    #[error("the meeting has started, so answers are closed")]
    Started,
    #[error(
        "the meeting is full: all {capacity} places are taken. Answer \"maybe\" and the WARP will tell you if a place comes free"
    )]
    Full { capacity: u32 },
}

/// Whether `answer` may be recorded now. `yes_taken` counts the "yes"
/// answers of *other* people (a person changing their own answer never
/// competes with themselves). The store calls this inside the transaction
/// that writes the answer, with the meeting row locked.
pub fn check_rsvp(
    now: DateTime<Utc>,
    starts_at: DateTime<Utc>,
    capacity: Option<u32>,
    yes_taken: u64,
    answer: RsvpAnswer,
) -> Result<(), RsvpRefused> {
    if now >= starts_at {
        return Err(RsvpRefused::Started);
    }
    if answer == RsvpAnswer::Yes
        && let Some(capacity) = capacity
        && yes_taken >= u64::from(capacity)
    {
        return Err(RsvpRefused::Full { capacity });
    }
    Ok(())
}

/// Scheduling, editing, the agenda, minutes, outline and attendance.
pub fn can_manage(actor: &Actor) -> Result<(), Denied> {
    actor.require_operator()
}

/// Meetings and their agenda, RSVP counts and minutes: every signed-in
/// user (members and operators). Minutes are never shown signed out.
pub fn can_view(_actor: &Actor) -> Result<(), Denied> {
    Ok(())
}

/// Answering for `user` of organisation `org` (`None`: an operator). Members
/// answer for themselves; a member lead also for their organisation's users.
/// Operators run the meeting and record attendance instead.
pub fn can_rsvp_for(actor: &Actor, user: UserId, org: Option<OrgId>) -> Result<(), Denied> {
    match actor.role {
        Role::Operator => Err(Denied::MembersOnly),
        _ if actor.user_id == user => Ok(()),
        Role::MemberLead if org.is_some() && actor.org_id == org => Ok(()),
        Role::MemberLead => Err(Denied::OtherOrganisation),
        Role::MemberUser => Err(Denied::LeadsOnly),
    }
}

/// Whether a reminder is due: the meeting starts within [`REMINDER_HOURS`].
pub fn reminder_due(now: DateTime<Utc>, starts_at: DateTime<Utc>) -> bool {
    now < starts_at && starts_at - now <= Duration::hours(REMINDER_HOURS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).single().unwrap()
    }

    fn input() -> MeetingInput {
        MeetingInput {
            title: "SEGWARP November meeting".into(),
            starts_at: "2026-11-18T10:00".into(),
            ends_at: "2026-11-18T15:30Z".into(),
            venue: "London".into(),
            online_url: String::new(),
            capacity: "30".into(),
            description: "Lunch provided.\r\nBring ID.".into(),
        }
    }

    #[test]
    fn a_good_meeting_validates() {
        let d = input().validate().unwrap();
        assert_eq!(d.starts_at, at(18, 10));
        assert_eq!(d.capacity, Some(30));
        assert_eq!(d.venue.as_deref(), Some("London"));
        assert_eq!(d.online_url, None);
        assert_eq!(d.description, "Lunch provided.\nBring ID.");
        let online = MeetingInput {
            venue: String::new(),
            online_url: "https://meet.example.gov.uk/segwarp".into(),
            capacity: String::new(),
            ..input()
        };
        let d = online.validate().unwrap();
        assert_eq!(d.capacity, None);
        assert_eq!(d.venue, None);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = MeetingInput {
            title: " ".into(),
            starts_at: "next tuesday".into(),
            ends_at: "2026-11-18T09:00".into(),
            venue: String::new(),
            online_url: "http://meet.example.com".into(),
            capacity: "0".into(),
            description: String::new(),
        };
        let e = bad.validate().unwrap_err();
        for f in ["title", "starts_at", "online_url", "capacity"] {
            assert!(e.for_field(f).is_some(), "{f}: {e}");
        }
        let e = MeetingInput {
            ends_at: "2026-11-18T09:00".into(),
            venue: String::new(),
            ..input()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.for_field("ends_at"), Some("must be after the start"));
        assert_eq!(
            e.for_field("venue"),
            Some("give a venue, an online link, or both")
        );
        let e = MeetingInput {
            ends_at: "2026-11-25T09:00".into(),
            capacity: "-3".into(),
            ..input()
        }
        .validate()
        .unwrap_err();
        assert!(e.for_field("ends_at").unwrap().contains("72 hours"));
        assert!(e.for_field("capacity").is_some());
        for url in ["https://", "https://a b", "javascript:alert(1)", "ftp://x"] {
            let e = MeetingInput {
                online_url: url.into(),
                ..input()
            }
            .validate()
            .unwrap_err();
            assert_eq!(
                e.for_field("online_url"),
                Some("must be an https:// link"),
                "{url}"
            );
        }
    }

    #[test]
    fn agenda_items_need_a_title_and_guests_an_organisation() {
        let ok = AgendaItemInput {
            title: "Cloud security".into(),
            speaker: "A. Analyst".into(),
            organisation: "NCSC".into(),
            presenter: "government".into(),
            position: "2".into(),
        }
        .validate()
        .unwrap();
        assert_eq!(ok.presenter, PresenterKind::Government);
        assert_eq!(ok.position, Some(2));
        let plain = AgendaItemInput {
            title: "Welcome".into(),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(plain.presenter, PresenterKind::Member);
        assert_eq!((plain.speaker, plain.position), (None, None));
        let e = AgendaItemInput {
            title: String::new(),
            presenter: "industry".into(),
            position: "0".into(),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        for f in ["title", "organisation", "position"] {
            assert!(e.for_field(f).is_some(), "{f}");
        }
        let e = AgendaItemInput {
            title: "x".into(),
            presenter: "alien".into(),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.for_field("presenter").is_some());
    }

    #[test]
    fn minutes_default_to_amber_and_never_red() {
        let m = MinutesInput {
            text: "Discussed PSN.".into(),
            tlp: String::new(),
        }
        .validate()
        .unwrap();
        assert_eq!(m.tlp, TlpLabel::Amber);
        let m = MinutesInput {
            text: "x".into(),
            tlp: "TLP:GREEN".into(),
        }
        .validate()
        .unwrap();
        assert_eq!(m.tlp, TlpLabel::Green);
        let e = MinutesInput {
            text: "x".into(),
            tlp: "TLP:RED".into(),
        }
        .validate()
        .unwrap_err();
        assert!(e.for_field("tlp").unwrap().contains("TLP:RED"));
        let e = MinutesInput {
            text: " ".into(),
            tlp: "purple".into(),
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.0.len(), 2);
    }

    #[test]
    fn outlines_are_one_topic_per_line() {
        let t = parse_outline(
            "- PSN compliance\n\n* Cloud security\nCyber Essentials\npsn COMPLIANCE\n",
        )
        .unwrap();
        assert_eq!(t, ["PSN compliance", "Cloud security", "Cyber Essentials"]);
        assert_eq!(parse_outline("").unwrap(), Vec::<String>::new());
        assert!(parse_outline(&"x".repeat(MAX_TOPIC + 1)).is_err());
        let many: String = (0..=MAX_TOPICS).map(|i| format!("topic {i}\n")).collect();
        assert!(parse_outline(&many).is_err());
    }

    #[test]
    fn rsvp_rules() {
        let start = at(18, 10);
        let before = at(17, 9);
        assert_eq!(
            check_rsvp(before, start, Some(2), 1, RsvpAnswer::Yes),
            Ok(())
        );
        assert_eq!(
            check_rsvp(before, start, Some(2), 2, RsvpAnswer::Yes),
            Err(RsvpRefused::Full { capacity: 2 })
        );
        // A full meeting still takes "no" and "maybe", and has no limit without a capacity.
        assert_eq!(
            check_rsvp(before, start, Some(2), 2, RsvpAnswer::Maybe),
            Ok(())
        );
        assert_eq!(
            check_rsvp(before, start, Some(2), 9, RsvpAnswer::No),
            Ok(())
        );
        assert_eq!(
            check_rsvp(before, start, None, 500, RsvpAnswer::Yes),
            Ok(())
        );
        for answer in RsvpAnswer::ALL {
            assert_eq!(
                check_rsvp(start, start, None, 0, answer),
                Err(RsvpRefused::Started)
            );
        }
        let msg = RsvpRefused::Full { capacity: 2 }.to_string();
        assert!(msg.contains("full") && msg.contains('2'), "{msg}");
        assert_eq!(RsvpAnswer::parse(" YES "), Some(RsvpAnswer::Yes));
        assert_eq!(RsvpAnswer::parse("perhaps"), None);
    }

    #[test]
    fn who_may_do_what() {
        let op = Actor {
            user_id: UserId(1),
            role: Role::Operator,
            org_id: None,
        };
        let lead = Actor {
            user_id: UserId(2),
            role: Role::MemberLead,
            org_id: Some(OrgId(10)),
        };
        let user = Actor {
            user_id: UserId(3),
            role: Role::MemberUser,
            org_id: Some(OrgId(10)),
        };
        let other = Actor {
            user_id: UserId(4),
            role: Role::MemberLead,
            org_id: Some(OrgId(11)),
        };
        assert!(can_manage(&op).is_ok());
        for a in [&lead, &user, &other] {
            assert_eq!(can_manage(a), Err(Denied::OperatorsOnly));
            assert!(can_view(a).is_ok());
        }
        assert!(can_view(&op).is_ok());
        // Members answer for themselves …
        assert!(can_rsvp_for(&user, UserId(3), Some(OrgId(10))).is_ok());
        assert!(can_rsvp_for(&lead, UserId(2), Some(OrgId(10))).is_ok());
        // … a lead for their own organisation's users, nobody else for anyone else.
        assert!(can_rsvp_for(&lead, UserId(3), Some(OrgId(10))).is_ok());
        assert_eq!(
            can_rsvp_for(&user, UserId(2), Some(OrgId(10))),
            Err(Denied::LeadsOnly)
        );
        assert_eq!(
            can_rsvp_for(&other, UserId(3), Some(OrgId(10))),
            Err(Denied::OtherOrganisation)
        );
        assert_eq!(
            can_rsvp_for(&lead, UserId(1), None),
            Err(Denied::OtherOrganisation)
        );
        assert_eq!(can_rsvp_for(&op, UserId(1), None), Err(Denied::MembersOnly));
    }

    #[test]
    fn reminders_fall_in_the_last_day() {
        let start = at(18, 10);
        assert!(!reminder_due(at(17, 9), start));
        assert!(reminder_due(at(17, 10), start));
        assert!(reminder_due(at(18, 9), start));
        assert!(!reminder_due(at(18, 10), start));
    }
}

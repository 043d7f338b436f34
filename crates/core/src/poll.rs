//! Group questions and polls: "which councils use X for Y?" asked of the
//! whole group, or a vote among a few options.
//!
//! The rules, in one place:
//!
//! - **Kinds.** A *question* takes free-text answers; a *poll* is single or
//!   multiple choice among 2–[`MAX_OPTIONS`] options. Either may have a
//!   closing time and may be *anonymous*.
//! - **Who.** Every signed-in user — member leads, member users and
//!   operators — may ask, answer and see results ([`may_take_part`]): the
//!   group is the members, and results are visible to members at any time
//!   (the words), not only after voting. Only the asker or an
//!   operator closes one early ([`may_close`]).
//! - **When.** Answers are taken only while open: before the closing time
//!   and before anyone closed it ([`PollFacts::is_open`]).
//! - **One ballot per person.** A multiple-choice vote is one ballot with
//!   several options. A named ballot may be changed while the poll is open
//!   (it is stored against the person, so it can be found and replaced). An
//!   anonymous ballot can never be changed: it is not stored against the
//!   person, so there is nothing to find — a second one is refused
//!   ([`ballot_mode`]).
//! - **Anonymous means not stored against the person**, not merely hidden:
//!   the store keeps the ballot in a table with no user column and a
//!   separate "has voted" marker (see `openwarp_store`'s `polls` module).
//!
//! Everything here is pure: the store and the web layer call it.

use crate::access::Actor;
use crate::ids::UserId;
use crate::validation::ValidationErrors;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest question, in characters.
pub const MAX_QUESTION: usize = 300;
/// The longest background text, in characters.
pub const MAX_DETAILS: usize = 5000;
/// The longest option, in characters.
pub const MAX_OPTION: usize = 200;
/// The longest free-text answer, in characters.
pub const MAX_ANSWER: usize = 5000;
/// At least this many options in a poll.
pub const MIN_OPTIONS: usize = 2;
/// At most this many options in a poll.
pub const MAX_OPTIONS: usize = 20;

/// What kind of thing is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollKind {
    /// A group question: free-text answers.
    Question,
    /// A poll where each person picks one option.
    Single,
    /// A poll where each person picks one or more options.
    Multiple,
}

impl PollKind {
    pub const ALL: [PollKind; 3] = [PollKind::Question, PollKind::Single, PollKind::Multiple];

    /// The stored form: `question`, `single`, `multiple`.
    pub fn as_str(self) -> &'static str {
        match self {
            PollKind::Question => "question",
            PollKind::Single => "single",
            PollKind::Multiple => "multiple",
        }
    }

    /// In words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            PollKind::Question => "Question to the group",
            PollKind::Single => "Poll (one choice)",
            PollKind::Multiple => "Poll (several choices)",
        }
    }

    pub fn parse(s: &str) -> Option<PollKind> {
        PollKind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    pub fn is_poll(self) -> bool {
        self != PollKind::Question
    }
}

impl fmt::Display for PollKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A question or poll as a person typed it, from any front end.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PollInput {
    /// `question`, `single` or `multiple`.
    pub kind: String,
    pub question: String,
    #[serde(default)]
    pub details: String,
    /// The options of a poll (blank lines are ignored); none for a question.
    #[serde(default)]
    pub options: Vec<String>,
    /// Empty for none; a date (`2026-12-01`, closing at the end of that day,
    /// UTC), a form's date and time (`2026-12-01T17:00`) or RFC 3339.
    #[serde(default)]
    pub closes_at: String,
    #[serde(default)]
    pub anonymous: bool,
}

/// A valid question or poll, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollDraft {
    pub kind: PollKind,
    pub question: String,
    pub details: String,
    /// Empty for a question.
    pub options: Vec<String>,
    pub closes_at: Option<DateTime<Utc>>,
    pub anonymous: bool,
}

/// Read a closing time. A bare date closes at the end of that day (UTC).
pub fn parse_closing(raw: &str) -> Result<Option<DateTime<Utc>>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d
            .succ_opt()
            .and_then(|n| n.and_hms_opt(0, 0, 0))
            .map(|n| Some(n.and_utc()))
            .ok_or_else(|| format!("'{t}' is not a date we can use"));
    }
    crate::incident::parse_time(t).map(Some).ok_or_else(|| {
        format!("'{t}' is not a date (2026-12-01) or date and time (2026-12-01T17:00)")
    })
}

impl PollInput {
    /// Check every field against the rules; errors name each field at fault.
    /// A closing time must be in the future (after `now`) and within a year.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<PollDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let kind = PollKind::parse(&self.kind);
        if kind.is_none() {
            errors.add(
                "kind",
                "must be question, single (one choice) or multiple (several choices)",
            );
        }
        let question =
            crate::validation::text(&mut errors, "question", &self.question, 1, MAX_QUESTION);
        let details = self.details.trim().to_string();
        if details.chars().count() > MAX_DETAILS {
            errors.add(
                "details",
                format!("must be at most {MAX_DETAILS} characters"),
            );
        } else if details
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            errors.add("details", "must not contain control characters");
        }
        let options: Vec<String> = self
            .options
            .iter()
            .flat_map(|o| o.lines())
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_string)
            .collect();
        match kind {
            Some(PollKind::Question) if !options.is_empty() => {
                errors.add(
                    "options",
                    "a question takes free-text answers: leave the options empty, or run a poll",
                );
            }
            Some(PollKind::Single | PollKind::Multiple) => {
                if options.len() < MIN_OPTIONS {
                    errors.add(
                        "options",
                        format!("a poll needs at least {MIN_OPTIONS} options, one a line"),
                    );
                } else if options.len() > MAX_OPTIONS {
                    errors.add(
                        "options",
                        format!("a poll may have at most {MAX_OPTIONS} options"),
                    );
                } else if let Some(o) = options.iter().find(|o| o.chars().count() > MAX_OPTION) {
                    errors.add(
                        "options",
                        format!(
                            "'{}…' is longer than {MAX_OPTION} characters",
                            o.chars().take(40).collect::<String>()
                        ),
                    );
                } else if options.iter().any(|o| o.chars().any(char::is_control)) {
                    errors.add("options", "must not contain control characters");
                } else if let Some(o) = options.iter().enumerate().find_map(|(i, o)| {
                    options[..i]
                        .iter()
                        .any(|p| p.to_lowercase() == o.to_lowercase())
                        .then_some(o)
                }) {
                    errors.add("options", format!("'{o}' is listed twice"));
                }
            }
            _ => {}
        }
        let closes_at = match parse_closing(&self.closes_at) {
            Ok(Some(t)) if t <= now => {
                errors.add("closes_at", "must be in the future");
                None
            }
            Ok(Some(t)) if t > now + Duration::days(366) => {
                errors.add("closes_at", "must be within a year");
                None
            }
            Ok(t) => t,
            Err(m) => {
                errors.add("closes_at", m);
                None
            }
        };
        match kind {
            Some(kind) => errors.into_result(PollDraft {
                kind,
                question,
                details,
                options,
                closes_at,
                anonymous: self.anonymous,
            }),
            None => Err(errors),
        }
    }
}

/// What the rules need to know about a stored question or poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollFacts {
    pub kind: PollKind,
    pub option_count: usize,
    pub anonymous: bool,
    /// `None` once the asker's account is gone.
    pub asked_by: Option<UserId>,
    pub closes_at: Option<DateTime<Utc>>,
    /// When someone closed it early.
    pub closed_at: Option<DateTime<Utc>>,
}

impl PollFacts {
    /// Whether answers are taken at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.closed_at.is_none() && self.closes_at.is_none_or(|c| now < c)
    }
}

/// Asking, answering and seeing results: every signed-in user of the WARP
/// (members of every role, and operators). Kept as a function so a future
/// role (e.g. read-only guests) is decided here.
pub fn may_take_part(_actor: &Actor) -> Result<(), PollRefusal> {
    Ok(())
}

/// Closing early: the asker or an operator.
pub fn may_close(actor: &Actor, facts: &PollFacts) -> Result<(), PollRefusal> {
    if actor.is_operator() || facts.asked_by == Some(actor.user_id) {
        Ok(())
    } else {
        Err(PollRefusal::NotAsker)
    }
}

/// Why an answer, vote or close is refused. Each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PollRefusal {
    #[error("this poll is closed: no more answers are taken")]
    Closed,
    #[error("you have already answered this anonymous poll; anonymous answers cannot be changed")]
    AlreadyAnsweredAnonymously,
    #[error("only the person who asked, or an operator, may close it")]
    NotAsker,
    #[error("choose at least one option")]
    NoChoice,
    #[error("this poll takes one choice only")]
    OneChoiceOnly,
    #[error("option {0} is not one of this poll's options")]
    UnknownOption(usize),
    #[error("option {0} is chosen twice")]
    RepeatedOption(usize),
    #[error("an answer is required")]
    EmptyAnswer,
    #[error("the answer must be at most {MAX_ANSWER} characters")]
    AnswerTooLong,
    #[error("this is a question: answer in words, not by choosing options")]
    NotAPoll,
    #[error("this is a poll: choose among its options")]
    NotAQuestion,
}

impl PollRefusal {
    /// Refusals about the state of the poll or the person (closed, already
    /// answered, not theirs), as against a malformed ballot.
    pub fn is_state(&self) -> bool {
        matches!(
            self,
            PollRefusal::Closed | PollRefusal::AlreadyAnsweredAnonymously | PollRefusal::NotAsker
        )
    }
}

/// A ballot as sent: the indexes of chosen options (counting from 0) or an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BallotInput {
    Choices(Vec<usize>),
    Answer(String),
}

/// A valid ballot for one poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ballot {
    /// Option indexes, sorted, each once.
    Choices(Vec<usize>),
    /// A trimmed free-text answer.
    Answer(String),
}

/// Check a ballot against its poll (not its timing: see [`ballot_mode`]).
pub fn validate_ballot(facts: &PollFacts, input: BallotInput) -> Result<Ballot, PollRefusal> {
    match (facts.kind, input) {
        (PollKind::Question, BallotInput::Choices(_)) => Err(PollRefusal::NotAPoll),
        (PollKind::Question, BallotInput::Answer(a)) => {
            let a = a.trim();
            if a.is_empty() {
                Err(PollRefusal::EmptyAnswer)
            } else if a.chars().count() > MAX_ANSWER {
                Err(PollRefusal::AnswerTooLong)
            } else {
                Ok(Ballot::Answer(a.to_string()))
            }
        }
        (_, BallotInput::Answer(_)) => Err(PollRefusal::NotAQuestion),
        (kind, BallotInput::Choices(mut c)) => {
            if let Some(bad) = c.iter().find(|i| **i >= facts.option_count) {
                return Err(PollRefusal::UnknownOption(bad + 1));
            }
            c.sort_unstable();
            if let Some(w) = c.windows(2).find(|w| w[0] == w[1]) {
                return Err(PollRefusal::RepeatedOption(w[0] + 1));
            }
            match c.len() {
                0 => Err(PollRefusal::NoChoice),
                n if n > 1 && kind == PollKind::Single => Err(PollRefusal::OneChoiceOnly),
                _ => Ok(Ballot::Choices(c)),
            }
        }
    }
}

/// Whether a ballot is a first one or replaces the person's earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BallotMode {
    First,
    Replace,
}

/// May a person with (or without) a ballot already cast vote at `now`?
pub fn ballot_mode(
    facts: &PollFacts,
    already_voted: bool,
    now: DateTime<Utc>,
) -> Result<BallotMode, PollRefusal> {
    if !facts.is_open(now) {
        Err(PollRefusal::Closed)
    } else if !already_voted {
        Ok(BallotMode::First)
    } else if facts.anonymous {
        Err(PollRefusal::AlreadyAnsweredAnonymously)
    } else {
        Ok(BallotMode::Replace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Role;
    use crate::ids::OrgId;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn poll(kind: &str, options: &[&str]) -> PollInput {
        PollInput {
            kind: kind.into(),
            question: "Which e-mail filtering service do you use?".into(),
            details: String::new(),
            options: options.iter().map(|s| s.to_string()).collect(),
            closes_at: String::new(),
            anonymous: false,
        }
    }

    fn facts(kind: PollKind, anonymous: bool) -> PollFacts {
        PollFacts {
            kind,
            option_count: 3,
            anonymous,
            asked_by: Some(UserId(7)),
            closes_at: Some(now() + Duration::days(1)),
            closed_at: None,
        }
    }

    fn actor(role: Role, id: i64) -> Actor {
        Actor {
            user_id: UserId(id),
            role,
            org_id: (role != Role::Operator).then_some(OrgId(1)),
        }
    }

    #[test]
    fn kinds_round_trip() {
        for k in PollKind::ALL {
            assert_eq!(PollKind::parse(k.as_str()), Some(k));
            assert!(!k.to_string().is_empty());
        }
        assert_eq!(PollKind::parse("ranked"), None);
        assert!(!PollKind::Question.is_poll());
        assert!(PollKind::Single.is_poll() && PollKind::Multiple.is_poll());
    }

    #[test]
    fn valid_poll_and_question() {
        let d = poll(
            "single",
            &["Mimecast", " Microsoft Defender ", "", "Proofpoint"],
        )
        .validate(now())
        .unwrap();
        assert_eq!(d.kind, PollKind::Single);
        assert_eq!(d.options, ["Mimecast", "Microsoft Defender", "Proofpoint"]);
        assert_eq!(d.closes_at, None);
        let d = poll("multiple", &["A\nB\n\nC"]).validate(now()).unwrap();
        assert_eq!(d.options, ["A", "B", "C"], "a textarea's lines are options");
        let mut q = poll("question", &[]);
        q.anonymous = true;
        let d = q.validate(now()).unwrap();
        assert_eq!(d.kind, PollKind::Question);
        assert!(d.anonymous && d.options.is_empty());
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = PollInput {
            kind: "ranked".into(),
            question: " ".into(),
            details: "x".repeat(MAX_DETAILS + 1),
            options: vec![],
            closes_at: "soon".into(),
            anonymous: false,
        };
        let e = bad.validate(now()).unwrap_err();
        for f in ["kind", "question", "details", "closes_at"] {
            assert!(e.for_field(f).is_some(), "{f} not named: {e}");
        }
    }

    #[test]
    fn option_rules() {
        let msg = |p: PollInput| {
            p.validate(now())
                .unwrap_err()
                .for_field("options")
                .map(str::to_string)
        };
        assert!(
            msg(poll("single", &["only one"]))
                .unwrap()
                .contains("at least 2")
        );
        let many: Vec<String> = (0..=MAX_OPTIONS).map(|i| format!("o{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(msg(poll("multiple", &many)).unwrap().contains("at most 20"));
        let twenty = &many[..MAX_OPTIONS];
        assert_eq!(
            poll("multiple", twenty)
                .validate(now())
                .unwrap()
                .options
                .len(),
            20
        );
        let long = "x".repeat(MAX_OPTION + 1);
        assert!(
            msg(poll("single", &["a", &long]))
                .unwrap()
                .contains("longer")
        );
        assert!(
            msg(poll("single", &["Mimecast", "mimecast"]))
                .unwrap()
                .contains("twice")
        );
        assert!(
            msg(poll("single", &["a", "b\u{7}"]))
                .unwrap()
                .contains("control")
        );
        assert!(
            msg(poll("question", &["a", "b"]))
                .unwrap()
                .contains("free-text")
        );
    }

    #[test]
    fn question_and_details_bounds() {
        let mut p = poll("single", &["a", "b"]);
        p.question = "q".repeat(MAX_QUESTION + 1);
        assert!(
            p.validate(now())
                .unwrap_err()
                .for_field("question")
                .is_some()
        );
        p.question = "ok".into();
        p.details = "line one\nline two\ttab".into();
        assert!(p.validate(now()).is_ok());
        p.details = "bell\u{7}".into();
        assert!(
            p.validate(now())
                .unwrap_err()
                .for_field("details")
                .is_some()
        );
    }

    #[test]
    fn closing_times() {
        assert_eq!(parse_closing(""), Ok(None));
        assert_eq!(
            parse_closing("2026-12-01"),
            Ok(Some(Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0).unwrap())),
            "a date closes at the end of that day"
        );
        assert_eq!(
            parse_closing("2026-12-01T17:00"),
            Ok(Some(Utc.with_ymd_and_hms(2026, 12, 1, 17, 0, 0).unwrap()))
        );
        assert!(parse_closing("next week").is_err());
        let mut p = poll("single", &["a", "b"]);
        p.closes_at = "2026-11-23T11:00".into();
        assert_eq!(
            p.validate(now()).unwrap_err().for_field("closes_at"),
            Some("must be in the future")
        );
        p.closes_at = "2028-01-01".into();
        assert_eq!(
            p.validate(now()).unwrap_err().for_field("closes_at"),
            Some("must be within a year")
        );
        p.closes_at = "2026-11-23".into();
        assert_eq!(
            p.validate(now()).unwrap().closes_at,
            Some(Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap()),
            "today's date closes tonight"
        );
    }

    #[test]
    fn open_until_closing_or_closed_early() {
        let f = facts(PollKind::Single, false);
        assert!(f.is_open(now()));
        assert!(
            !f.is_open(now() + Duration::days(1)),
            "closed at the closing time"
        );
        let early = PollFacts {
            closed_at: Some(now()),
            ..f
        };
        assert!(!early.is_open(now()));
        let forever = PollFacts {
            closes_at: None,
            ..f
        };
        assert!(forever.is_open(now() + Duration::days(3000)));
    }

    #[test]
    fn everyone_takes_part_only_asker_or_operator_closes() {
        let f = facts(PollKind::Single, false);
        for role in Role::ALL {
            assert_eq!(may_take_part(&actor(role, 1)), Ok(()));
        }
        assert_eq!(may_close(&actor(Role::MemberUser, 7), &f), Ok(()));
        assert_eq!(may_close(&actor(Role::Operator, 1), &f), Ok(()));
        assert_eq!(
            may_close(&actor(Role::MemberLead, 8), &f),
            Err(PollRefusal::NotAsker)
        );
        assert_eq!(
            may_close(&actor(Role::MemberUser, 8), &f),
            Err(PollRefusal::NotAsker)
        );
        let orphan = PollFacts {
            asked_by: None,
            ..f
        };
        assert_eq!(
            may_close(&actor(Role::MemberUser, 7), &orphan),
            Err(PollRefusal::NotAsker)
        );
        assert_eq!(may_close(&actor(Role::Operator, 1), &orphan), Ok(()));
    }

    #[test]
    fn ballots_are_checked_against_the_poll() {
        let single = facts(PollKind::Single, false);
        let multiple = facts(PollKind::Multiple, false);
        let question = facts(PollKind::Question, false);
        use BallotInput::*;
        assert_eq!(
            validate_ballot(&single, Choices(vec![2])),
            Ok(Ballot::Choices(vec![2]))
        );
        assert_eq!(
            validate_ballot(&single, Choices(vec![0, 1])),
            Err(PollRefusal::OneChoiceOnly)
        );
        assert_eq!(
            validate_ballot(&multiple, Choices(vec![2, 0])),
            Ok(Ballot::Choices(vec![0, 2])),
            "one ballot, several options, sorted"
        );
        assert_eq!(
            validate_ballot(&multiple, Choices(vec![1, 1])),
            Err(PollRefusal::RepeatedOption(2))
        );
        assert_eq!(
            validate_ballot(&multiple, Choices(vec![0, 3])),
            Err(PollRefusal::UnknownOption(4)),
            "votes beyond the option list are refused"
        );
        assert_eq!(
            validate_ballot(&single, Choices(vec![])),
            Err(PollRefusal::NoChoice)
        );
        assert_eq!(
            validate_ballot(&single, Answer("x".into())),
            Err(PollRefusal::NotAQuestion)
        );
        assert_eq!(
            validate_ballot(&question, Answer("  Kent uses Mimecast ".into())),
            Ok(Ballot::Answer("Kent uses Mimecast".into()))
        );
        assert_eq!(
            validate_ballot(&question, Answer(" ".into())),
            Err(PollRefusal::EmptyAnswer)
        );
        assert_eq!(
            validate_ballot(&question, Answer("x".repeat(MAX_ANSWER + 1))),
            Err(PollRefusal::AnswerTooLong)
        );
        assert_eq!(
            validate_ballot(&question, Choices(vec![0])),
            Err(PollRefusal::NotAPoll)
        );
    }

    #[test]
    fn one_ballot_per_person_and_only_while_open() {
        let later = now() + Duration::days(2);
        for anonymous in [false, true] {
            let f = facts(PollKind::Multiple, anonymous);
            assert_eq!(ballot_mode(&f, false, now()), Ok(BallotMode::First));
            assert_eq!(ballot_mode(&f, false, later), Err(PollRefusal::Closed));
            assert_eq!(ballot_mode(&f, true, later), Err(PollRefusal::Closed));
        }
        assert_eq!(
            ballot_mode(&facts(PollKind::Single, false), true, now()),
            Ok(BallotMode::Replace),
            "a named vote may be changed while open"
        );
        assert_eq!(
            ballot_mode(&facts(PollKind::Single, true), true, now()),
            Err(PollRefusal::AlreadyAnsweredAnonymously),
            "an anonymous vote never"
        );
        assert!(PollRefusal::Closed.is_state());
        assert!(!PollRefusal::UnknownOption(3).is_state());
    }
}

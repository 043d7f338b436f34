//! Group questions and polls (the rules are [`openwarp_core::poll`]'s).
//!
//! # Anonymous means not stored against the person
//! A named poll keeps each ballot in `poll_ballots` against its user (so it
//! can be shown with the person's name, and changed while the poll is
//! open). An anonymous poll keeps its ballots in `poll_anonymous_ballots`,
//! which has **no user column**, and records *that* someone answered in a
//! separate marker, `poll_voters (poll_id, user_id)`, written in the same
//! transaction. Nothing links the two:
//!
//! - the ballot's key is a random 256-bit token, not a sequence number that
//!   could be lined up with the order the markers were written;
//! - neither the ballot nor the marker carries a time, so no two timestamps
//!   match one to one;
//! - on SQLite both tables are `WITHOUT ROWID`, so they are stored (and read
//!   back) in key order — the ballot's random key and the voter's user id —
//!   not in the order of voting; answers to an anonymous question are listed
//!   in ballot-key order, i.e. shuffled;
//! - the audit log records that a user voted in a poll, never what.
//!
//! What this does not hide: PostgreSQL writes new rows roughly in order at
//! the end of a table's heap, so someone with the database's files (not the
//! application, which never reads physical positions) could line up the
//! physical order of ballots and markers written in a quiet period; and a
//! poll with one voter has one ballot. Both are inherent to counting votes
//! at all and are beyond what the web application or an operator can see.
//!
//! # One ballot per person
//! The marker's primary key refuses a second one, even from two requests at
//! once (the second insert waits for the first transaction and then finds
//! the row). A named ballot found this way is replaced while the poll is
//! open; an anonymous one never ([`openwarp_core::poll::ballot_mode`]).
//!
//! # Notification
//! Creating a question or poll queues, in the same transaction, an alert
//! (`poll:{id}`, TLP:AMBER as member content is members-only) with an
//! immediate e-mail to each user who opted in (`poll_notify`), other than
//! the asker, through the alerts outbox.

use crate::alerts::{AlertContent, AlertKind, AlertTx, NewAlert, alerts_for_users};
use crate::{Result, Store, StoreError, corrupt, crypto, on_pool};
use chrono::{DateTime, Utc};
use openwarp_core::poll::{
    Ballot, BallotInput, BallotMode, PollDraft, PollFacts, PollKind, PollRefusal, ballot_mode,
    validate_ballot,
};
use openwarp_core::{TlpLabel, UserId};
use openwarp_matching::priority::Priority;
use serde::Serialize;

/// A question or poll as stored, with how many have answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Poll {
    pub id: i64,
    pub kind: PollKind,
    pub question: String,
    pub details: String,
    /// Empty for a question.
    pub options: Vec<String>,
    pub anonymous: bool,
    /// `None` once the asker's account is gone.
    pub asked_by: Option<UserId>,
    pub asker_name: Option<String>,
    /// The asker's organisation; `None` for an operator.
    pub asker_org: Option<String>,
    pub created_at: DateTime<Utc>,
    pub closes_at: Option<DateTime<Utc>>,
    /// When it was closed early.
    pub closed_at: Option<DateTime<Utc>>,
    /// How many people have answered.
    pub responses: i64,
    /// Whether the user it was read for has answered.
    pub you_answered: bool,
}

impl Poll {
    /// What the rules in [`openwarp_core::poll`] need.
    pub fn facts(&self) -> PollFacts {
        PollFacts {
            kind: self.kind,
            option_count: self.options.len(),
            anonymous: self.anonymous,
            asked_by: self.asked_by,
            closes_at: self.closes_at,
            closed_at: self.closed_at,
        }
    }

    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.facts().is_open(now)
    }
}

/// One answer to a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollAnswer {
    /// The answerer; `None` for an anonymous question.
    pub name: Option<String>,
    pub org_name: Option<String>,
    pub answer: String,
}

/// A question or poll with its results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PollResults {
    pub poll: Poll,
    /// Votes per option, in the options' order (a multiple-choice ballot
    /// counts once for each option it chose). Empty for a question.
    pub counts: Vec<i64>,
    /// Answers to a question (named: oldest first; anonymous: in no
    /// meaningful order).
    pub answers: Vec<PollAnswer>,
    /// The reader's own ballot, for a named poll only (an anonymous one
    /// cannot be found).
    pub your_ballot: Option<Ballot>,
}

/// Why a ballot or close was not stored.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The rules refused it; nothing was written.
    #[error("{0}")]
    Refused(PollRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PollError {
    fn from(e: sqlx::Error) -> PollError {
        PollError::Store(e.into())
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    kind: String,
    question: String,
    details: String,
    options: String,
    anonymous: bool,
    asked_by: Option<i64>,
    asker_name: Option<String>,
    asker_org: Option<String>,
    created_at: DateTime<Utc>,
    closes_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    responses: i64,
    yours: i64,
}

impl TryFrom<Row> for Poll {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Poll> {
        Ok(Poll {
            id: r.id,
            kind: PollKind::parse(&r.kind)
                .ok_or_else(|| corrupt(format!("poll kind {}", r.kind)))?,
            question: r.question,
            details: r.details,
            options: serde_json::from_str(&r.options).map_err(corrupt)?,
            anonymous: r.anonymous,
            asked_by: r.asked_by.map(UserId),
            asker_name: r.asker_name,
            asker_org: r.asker_org,
            created_at: r.created_at,
            closes_at: r.closes_at,
            closed_at: r.closed_at,
            responses: r.responses,
            you_answered: r.yours > 0,
        })
    }
}

/// `$1` is the reader's user id.
macro_rules! poll_select {
    () => {
        "SELECT p.id, p.kind, p.question, p.details, p.options, p.anonymous, p.asked_by, \
     u.display_name AS asker_name, o.name AS asker_org, p.created_at, p.closes_at, p.closed_at, \
     (SELECT COUNT(*) FROM poll_voters v WHERE v.poll_id = p.id) AS responses, \
     (SELECT COUNT(*) FROM poll_voters v WHERE v.poll_id = p.id AND v.user_id = $1) AS yours \
     FROM polls p LEFT JOIN users u ON u.id = p.asked_by LEFT JOIN organisations o ON o.id = u.org_id"
    };
}

/// Name, organisation, choices, answer and user of one ballot (the first two
/// and the last `NULL` for an anonymous one).
type BallotRow = (
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<i64>,
);

fn choices_from_db(raw: &str) -> Result<Vec<usize>> {
    serde_json::from_str(raw).map_err(corrupt)
}

impl Store {
    /// Store a valid question or poll asked by `by`, and in the same
    /// transaction queue an e-mail about it to every user who opted in
    /// (except `by`). Returns the poll and the e-mails queued.
    pub async fn create_poll(
        &self,
        draft: &PollDraft,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<(Poll, u64)> {
        let options = serde_json::to_string(&draft.options).map_err(corrupt)?;
        let opted_in: Vec<(i64, i64)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT u.id, u.org_id FROM poll_notify n JOIN users u ON u.id = n.user_id \
                 JOIN organisations o ON o.id = u.org_id \
                 WHERE u.disabled = FALSE AND o.status IN ('pending', 'active', 'lapsed') AND u.id <> $1",
            )
            .bind(by.0)
            .fetch_all(p)
            .await
        })?;
        let (id, queued) = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO polls (kind, question, details, options, anonymous, asked_by, created_at, closes_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(draft.kind.as_str())
            .bind(&draft.question)
            .bind(&draft.details)
            .bind(&options)
            .bind(draft.anonymous)
            .bind(by.0)
            .bind(now)
            .bind(draft.closes_at)
            .fetch_one(&mut *tx)
            .await?;
            let (alerts, audience) = alerts_for_users(&new_poll_alert(id, draft), &opted_in);
            let (_, queued) = tx.queue_alerts(&alerts, &audience, now).await?;
            tx.commit().await?;
            Ok::<_, StoreError>((id, queued))
        })?;
        Ok((self.poll(id, by).await?, queued))
    }

    /// One question or poll, read for `reader` (who may or may not have answered).
    pub async fn poll(&self, id: i64, reader: UserId) -> Result<Poll> {
        let row: Option<Row> = on_pool!(self, |p| {
            sqlx::query_as::<_, Row>(concat!(poll_select!(), " WHERE p.id = $2"))
                .bind(reader.0)
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        row.ok_or(StoreError::NotFound("question or poll"))?
            .try_into()
    }

    /// Every question and poll, newest first (at most `limit`), read for `reader`.
    pub async fn polls(&self, reader: UserId, limit: i64) -> Result<Vec<Poll>> {
        let rows: Vec<Row> = on_pool!(self, |p| {
            sqlx::query_as::<_, Row>(concat!(
                poll_select!(),
                " ORDER BY p.created_at DESC, p.id DESC LIMIT $2"
            ))
            .bind(reader.0)
            .bind(limit)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter().map(Poll::try_from).collect()
    }

    /// A question or poll with its results, read for `reader`.
    pub async fn poll_results(&self, id: i64, reader: UserId) -> Result<PollResults> {
        let poll = self.poll(id, reader).await?;
        let rows: Vec<BallotRow> = if poll.anonymous {
            on_pool!(self, |p| {
                sqlx::query_as(
                        "SELECT CAST(NULL AS TEXT) AS name, CAST(NULL AS TEXT) AS org_name, choices, answer, \
                         CAST(NULL AS BIGINT) AS user_id \
                         FROM poll_anonymous_ballots WHERE poll_id = $1 ORDER BY ballot_id",
                    )
                    .bind(id)
                    .fetch_all(p)
                    .await
            })?
        } else {
            on_pool!(self, |p| {
                sqlx::query_as(
                        "SELECT u.display_name AS name, o.name AS org_name, b.choices, b.answer, b.user_id \
                         FROM poll_ballots b JOIN users u ON u.id = b.user_id \
                         LEFT JOIN organisations o ON o.id = u.org_id \
                         WHERE b.poll_id = $1 ORDER BY b.cast_at, b.user_id",
                    )
                    .bind(id)
                    .fetch_all(p)
                    .await
            })?
        };
        let mut counts = vec![0i64; poll.options.len()];
        let mut answers = Vec::new();
        let mut your_ballot = None;
        for (name, org_name, choices, answer, user) in rows {
            let choices = choices_from_db(&choices)?;
            for c in &choices {
                if let Some(n) = counts.get_mut(*c) {
                    *n += 1;
                }
            }
            let mine = user == Some(reader.0);
            match answer {
                Some(answer) => {
                    if mine {
                        your_ballot = Some(Ballot::Answer(answer.clone()));
                    }
                    answers.push(PollAnswer {
                        name,
                        org_name,
                        answer,
                    });
                }
                None if mine => your_ballot = Some(Ballot::Choices(choices)),
                None => {}
            }
        }
        Ok(PollResults {
            poll,
            counts,
            answers,
            your_ballot,
        })
    }

    /// Cast `voter`'s ballot. Checked against the poll (422-style refusals
    /// such as options not in the poll), then, in one transaction, its
    /// state: closed, or already answered (an anonymous ballot is never
    /// replaced; a named one is). A refusal writes nothing.
    pub async fn cast_ballot(
        &self,
        id: i64,
        voter: UserId,
        input: BallotInput,
        now: DateTime<Utc>,
    ) -> std::result::Result<BallotMode, PollError> {
        let poll = self.poll(id, voter).await?;
        let facts = poll.facts();
        let ballot = validate_ballot(&facts, input).map_err(PollError::Refused)?;
        // Refuse early what is already known; the transaction re-checks.
        ballot_mode(&facts, poll.you_answered, now).map_err(PollError::Refused)?;
        let (choices, answer) = match &ballot {
            Ballot::Choices(c) => (serde_json::to_string(c).map_err(corrupt)?, None),
            Ballot::Answer(a) => ("[]".to_string(), Some(a.clone())),
        };
        let outcome: std::result::Result<BallotMode, PollRefusal> = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            // The marker, only while the poll is open; its key refuses a second.
            let fresh = sqlx::query(
                "INSERT INTO poll_voters (poll_id, user_id) SELECT $1, $2 WHERE EXISTS \
                 (SELECT 1 FROM polls WHERE id = $1 AND closed_at IS NULL \
                 AND (closes_at IS NULL OR closes_at > $3)) ON CONFLICT (poll_id, user_id) DO NOTHING",
            )
            .bind(id)
            .bind(voter.0)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            let mode = if fresh {
                Ok(BallotMode::First)
            } else {
                let (state,): (Option<DateTime<Utc>>,) =
                    sqlx::query_as("SELECT closed_at FROM polls WHERE id = $1")
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await?;
                let facts = PollFacts {
                    closed_at: state,
                    ..facts
                };
                let voted: Option<(i64,)> = sqlx::query_as(
                    "SELECT poll_id FROM poll_voters WHERE poll_id = $1 AND user_id = $2",
                )
                .bind(id)
                .bind(voter.0)
                .fetch_optional(&mut *tx)
                .await?;
                ballot_mode(&facts, voted.is_some(), now)
            };
            match mode {
                Ok(mode) => {
                    if poll.anonymous {
                        sqlx::query(
                            "INSERT INTO poll_anonymous_ballots (ballot_id, poll_id, choices, answer) \
                             VALUES ($1, $2, $3, $4)",
                        )
                        .bind(crypto::new_token())
                        .bind(id)
                        .bind(&choices)
                        .bind(&answer)
                        .execute(&mut *tx)
                        .await?;
                    } else {
                        sqlx::query(
                            "INSERT INTO poll_ballots (poll_id, user_id, choices, answer, cast_at) \
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (poll_id, user_id) DO UPDATE \
                             SET choices = excluded.choices, answer = excluded.answer, cast_at = excluded.cast_at",
                        )
                        .bind(id)
                        .bind(voter.0)
                        .bind(&choices)
                        .bind(&answer)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok::<_, PollError>(Ok(mode))
                }
                Err(refusal) => Ok(Err(refusal)),
            }
        })?;
        outcome.map_err(PollError::Refused)
    }

    /// Close a question or poll early (the caller has checked
    /// [`openwarp_core::poll::may_close`]). Refused if it is already closed.
    pub async fn close_poll(
        &self,
        id: i64,
        by: UserId,
        now: DateTime<Utc>,
    ) -> std::result::Result<Poll, PollError> {
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE polls SET closed_at = $1, closed_by = $2 WHERE id = $3 AND closed_at IS NULL \
                 AND (closes_at IS NULL OR closes_at > $1)",
            )
            .bind(now)
            .bind(by.0)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        let poll = self.poll(id, by).await?;
        if done == 0 {
            return Err(PollError::Refused(PollRefusal::Closed));
        }
        Ok(poll)
    }

    /// Whether `user` asked to be told about new questions and polls.
    pub async fn poll_notify(&self, user: UserId) -> Result<bool> {
        let row: Option<(i64,)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT user_id FROM poll_notify WHERE user_id = $1")
                .bind(user.0)
                .fetch_optional(p)
                .await
        })?;
        Ok(row.is_some())
    }

    /// Opt `user` in to (or out of) e-mails about new questions and polls.
    pub async fn set_poll_notify(&self, user: UserId, on: bool, now: DateTime<Utc>) -> Result<()> {
        on_pool!(self, |p| {
            if on {
                sqlx::query(
                    "INSERT INTO poll_notify (user_id, since) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING",
                )
                .bind(user.0)
                .bind(now)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
            } else {
                sqlx::query("DELETE FROM poll_notify WHERE user_id = $1")
                    .bind(user.0)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
            }
        })?;
        Ok(())
    }
}

/// The alert about a new question or poll (one copy per organisation).
fn new_poll_alert(id: i64, draft: &PollDraft) -> NewAlert {
    let what = if draft.kind.is_poll() {
        "New poll"
    } else {
        "New question to the group"
    };
    let mut summary = draft.question.clone();
    if draft.kind.is_poll() {
        summary.push_str(" Options: ");
        summary.push_str(&draft.options.join("; "));
        summary.push('.');
    }
    if let Some(c) = draft.closes_at {
        summary.push_str(&format!(" Closes {} UTC.", c.format("%H:%M on %-d %B %Y")));
    }
    if draft.anonymous {
        summary.push_str(" Answers are anonymous.");
    }
    NewAlert {
        org_id: 0,
        kind: AlertKind::Warp,
        vuln_id: None,
        warp_advisory_id: None,
        priority: Priority::P4,
        tlp: TlpLabel::Amber,
        title: format!("{what}: {}", draft.question),
        content: AlertContent {
            summary,
            reason: "You asked to be told about new questions and polls in the group".into(),
            changes: Vec::new(),
            items: Vec::new(),
            action: Some("Answer it in openwarp if you can help.".into()),
            due: None,
            sources: Vec::new(),
            path: format!("/polls/{id}"),
        },
        dedup_key: format!("poll:{id}"),
    }
}

//! Members' meetings (the rules are [`openwarp_core::meeting`]'s): meetings,
//! agenda items, RSVPs, attendance, minutes with their TLP label, and the
//! public outline of discussions.
//!
//! # Contract
//! - An RSVP is one row per meeting and user. [`Store::rsvp`] first updates
//!   the meeting row (taking its write lock on both backends), then counts
//!   the other "yes" answers and applies [`check_rsvp`] in the **same
//!   transaction**, so two people racing for the last place cannot both get
//!   it. A refusal writes nothing and answers [`StoreError::Conflict`] with
//!   the reason in words.
//! - [`Meeting`] never carries the minutes: they are read on their own
//!   ([`Store::meeting_minutes`]), so a public page built from a meeting
//!   cannot leak them.
//! - [`Store::queue_meeting_reminders`] raises, a day before a meeting, one
//!   reminder per user who answered yes, to that user alone
//!   ([`Store::raise_alert_for_users`]); the dedup key
//!   `meeting-reminder:{meeting}:user:{user}` makes a second run a no-op.

use crate::alerts::{AlertContent, AlertKind, NewAlert};
use crate::{Result, Store, StoreError, corrupt, on_pool};
use chrono::{DateTime, Duration, Utc};
use openwarp_core::meeting::{
    AgendaItemDraft, MeetingDraft, MinutesDraft, PresenterKind, REMINDER_HOURS, RsvpAnswer,
    check_rsvp,
};
use openwarp_core::{OrgId, TlpLabel, UserId};
use openwarp_matching::priority::Priority;
use serde::Serialize;

/// A meeting as stored, without its minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Meeting {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue: Option<String>,
    pub online_url: Option<String>,
    pub capacity: Option<u32>,
    /// "Yes" answers so far.
    pub going: i64,
    /// Whether minutes have been written (read them with [`Store::meeting_minutes`]).
    pub has_minutes: bool,
    /// The public outline of discussions.
    pub topics: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Meeting {
    /// Places left, if the meeting has a capacity.
    pub fn places_left(&self) -> Option<i64> {
        self.capacity.map(|c| (i64::from(c) - self.going).max(0))
    }
}

/// One agenda item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgendaItem {
    pub id: i64,
    pub position: i64,
    pub title: String,
    pub speaker: Option<String>,
    pub organisation: Option<String>,
    pub presenter: PresenterKind,
}

/// A meeting's minutes (members only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Minutes {
    pub text: String,
    pub tlp: TlpLabel,
    pub updated_at: DateTime<Utc>,
}

/// One person's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rsvp {
    pub user_id: UserId,
    pub display_name: String,
    pub org_id: Option<OrgId>,
    pub org_name: Option<String>,
    pub answer: RsvpAnswer,
    pub answered_at: DateTime<Utc>,
}

/// Someone recorded as having attended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Attendee {
    pub user_id: i64,
    pub display_name: String,
    pub org_name: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    title: String,
    description: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    venue: Option<String>,
    online_url: Option<String>,
    capacity: Option<i64>,
    going: i64,
    has_minutes: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Row {
    fn into_meeting(self, topics: Vec<String>) -> Result<Meeting> {
        let capacity = match self.capacity {
            Some(c) => Some(u32::try_from(c).map_err(|_| corrupt(format!("capacity {c}")))?),
            None => None,
        };
        Ok(Meeting {
            id: self.id,
            title: self.title,
            description: self.description,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            venue: self.venue,
            online_url: self.online_url,
            capacity,
            going: self.going,
            has_minutes: self.has_minutes,
            topics,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const SELECT: &str = "SELECT m.id, m.title, m.description, m.starts_at, m.ends_at, m.venue, \
     m.online_url, m.capacity, \
     (SELECT COUNT(*) FROM meeting_rsvps r WHERE r.meeting_id = m.id AND r.answer = 'yes') AS going, \
     (m.minutes IS NOT NULL) AS has_minutes, m.created_at, m.updated_at FROM meetings m";

fn capacity_db(d: &MeetingDraft) -> Option<i64> {
    d.capacity.map(i64::from)
}

impl Store {
    /// Schedule a meeting.
    pub async fn create_meeting(
        &self,
        d: &MeetingDraft,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<Meeting> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
                "INSERT INTO meetings (title, description, starts_at, ends_at, venue, online_url, \
                 capacity, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
            )
            .bind(&d.title)
            .bind(&d.description)
            .bind(d.starts_at)
            .bind(d.ends_at)
            .bind(&d.venue)
            .bind(&d.online_url)
            .bind(capacity_db(d))
            .bind(by.0)
            .bind(now)
            .fetch_one(p)
            .await
        })?;
        self.meeting(id).await
    }

    /// Change a meeting's details. Lowering the capacity below the "yes"
    /// answers already given keeps those answers (nobody is turned away
    /// after being told they have a place); new ones are refused.
    pub async fn update_meeting(
        &self,
        id: i64,
        d: &MeetingDraft,
        now: DateTime<Utc>,
    ) -> Result<Meeting> {
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE meetings SET title = $1, description = $2, starts_at = $3, ends_at = $4, \
                 venue = $5, online_url = $6, capacity = $7, updated_at = $8 WHERE id = $9",
            )
            .bind(&d.title)
            .bind(&d.description)
            .bind(d.starts_at)
            .bind(d.ends_at)
            .bind(&d.venue)
            .bind(&d.online_url)
            .bind(capacity_db(d))
            .bind(now)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::NotFound("meeting"));
        }
        self.meeting(id).await
    }

    /// One meeting with its outline.
    pub async fn meeting(&self, id: i64) -> Result<Meeting> {
        let row: Option<Row> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(SELECT);
            qb.push(" WHERE m.id = ").push_bind(id);
            qb.build_query_as().fetch_optional(p).await
        })?;
        let row = row.ok_or(StoreError::NotFound("meeting"))?;
        let topics = self.meeting_topics(id).await?;
        row.into_meeting(topics)
    }

    /// Meetings not yet ended (soonest first) or, with `past`, those that
    /// have ended (the archive, newest first), each with its outline.
    pub async fn list_meetings(
        &self,
        past: bool,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Meeting>> {
        let rows: Vec<Row> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(SELECT);
            if past {
                qb.push(" WHERE m.ends_at <= ")
                    .push_bind(now)
                    .push(" ORDER BY m.starts_at DESC, m.id DESC LIMIT ");
            } else {
                qb.push(" WHERE m.ends_at > ")
                    .push_bind(now)
                    .push(" ORDER BY m.starts_at, m.id LIMIT ");
            }
            qb.push_bind(limit);
            qb.build_query_as().fetch_all(p).await
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let topics = self.meeting_topics(r.id).await?;
            out.push(r.into_meeting(topics)?);
        }
        Ok(out)
    }

    async fn meeting_topics(&self, id: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT topic FROM meeting_topics WHERE meeting_id = $1 ORDER BY position",
            )
            .bind(id)
            .fetch_all(p)
            .await
        })?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }

    /// Replace the outline of discussions.
    pub async fn set_meeting_outline(
        &self,
        id: i64,
        topics: &[String],
        now: DateTime<Utc>,
    ) -> Result<Meeting> {
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE meetings SET updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if done == 0 {
                return Err(StoreError::NotFound("meeting"));
            }
            sqlx::query("DELETE FROM meeting_topics WHERE meeting_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for (i, t) in topics.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO meeting_topics (meeting_id, position, topic) VALUES ($1, $2, $3)",
                )
                .bind(id)
                .bind(i64::try_from(i).unwrap_or(i64::MAX))
                .bind(t)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.meeting(id).await
    }

    /// Write (or rewrite) the minutes.
    pub async fn set_meeting_minutes(
        &self,
        id: i64,
        m: &MinutesDraft,
        now: DateTime<Utc>,
    ) -> Result<Minutes> {
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE meetings SET minutes = $1, minutes_tlp = $2, minutes_updated_at = $3, \
                 updated_at = $3 WHERE id = $4",
            )
            .bind(&m.text)
            .bind(m.tlp.as_str())
            .bind(now)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::NotFound("meeting"));
        }
        self.meeting_minutes(id)
            .await?
            .ok_or_else(|| corrupt("minutes just written are missing"))
    }

    /// The minutes, if written. Members and operators only: callers check.
    pub async fn meeting_minutes(&self, id: i64) -> Result<Option<Minutes>> {
        type MinutesRow = (Option<String>, Option<String>, Option<DateTime<Utc>>);
        let row: Option<MinutesRow> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT minutes, minutes_tlp, minutes_updated_at FROM meetings WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        match row.ok_or(StoreError::NotFound("meeting"))? {
            (Some(text), Some(tlp), Some(updated_at)) => Ok(Some(Minutes {
                text,
                tlp: TlpLabel::parse(&tlp).ok_or_else(|| corrupt(format!("tlp {tlp}")))?,
                updated_at,
            })),
            _ => Ok(None),
        }
    }

    /// Add an agenda item at its position (or at the end); later items move down.
    pub async fn add_agenda_item(
        &self,
        meeting: i64,
        d: &AgendaItemDraft,
        now: DateTime<Utc>,
    ) -> Result<AgendaItem> {
        let id: i64 = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE meetings SET updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(meeting)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if done == 0 {
                return Err(StoreError::NotFound("meeting"));
            }
            let (last,): (i64,) = sqlx::query_as(
                "SELECT COALESCE(MAX(position), 0) FROM meeting_agenda_items WHERE meeting_id = $1",
            )
            .bind(meeting)
            .fetch_one(&mut *tx)
            .await?;
            let position = d
                .position
                .map(i64::from)
                .filter(|p| *p <= last)
                .unwrap_or(last + 1);
            sqlx::query(
                "UPDATE meeting_agenda_items SET position = position + 1 \
                 WHERE meeting_id = $1 AND position >= $2",
            )
            .bind(meeting)
            .bind(position)
            .execute(&mut *tx)
            .await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO meeting_agenda_items (meeting_id, position, title, speaker, organisation, \
                 presenter) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(meeting)
            .bind(position)
            .bind(&d.title)
            .bind(&d.speaker)
            .bind(&d.organisation)
            .bind(d.presenter.as_str())
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(id)
        })?;
        self.agenda(meeting)
            .await?
            .into_iter()
            .find(|i| i.id == id)
            .ok_or_else(|| corrupt("agenda item just written is missing"))
    }

    /// Remove an agenda item of this meeting.
    pub async fn delete_agenda_item(&self, meeting: i64, item: i64) -> Result<()> {
        let done = on_pool!(self, |p| {
            sqlx::query("DELETE FROM meeting_agenda_items WHERE id = $1 AND meeting_id = $2")
                .bind(item)
                .bind(meeting)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::NotFound("agenda item"));
        }
        Ok(())
    }

    /// The agenda, in order.
    pub async fn agenda(&self, meeting: i64) -> Result<Vec<AgendaItem>> {
        type ItemRow = (i64, i64, String, Option<String>, Option<String>, String);
        let rows: Vec<ItemRow> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, position, title, speaker, organisation, presenter \
                 FROM meeting_agenda_items WHERE meeting_id = $1 ORDER BY position, id",
            )
            .bind(meeting)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter()
            .map(|(id, position, title, speaker, organisation, presenter)| {
                Ok(AgendaItem {
                    id,
                    position,
                    title,
                    speaker,
                    organisation,
                    presenter: PresenterKind::parse(&presenter)
                        .ok_or_else(|| corrupt(format!("presenter {presenter}")))?,
                })
            })
            .collect()
    }

    /// Record `user`'s answer (given by `by`: themselves or their member
    /// lead). Refused, writing nothing, once the meeting has started or
    /// when a "yes" would exceed the capacity (see the module's contract).
    pub async fn rsvp(
        &self,
        meeting: i64,
        user: UserId,
        answer: RsvpAnswer,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<Meeting> {
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            // Writing the meeting row first serialises answers to one
            // meeting: a row lock on PostgreSQL, the write lock on SQLite.
            let row: Option<(DateTime<Utc>, Option<i64>)> = sqlx::query_as(
                "UPDATE meetings SET rsvp_version = rsvp_version + 1 WHERE id = $1 \
                 RETURNING starts_at, capacity",
            )
            .bind(meeting)
            .fetch_optional(&mut *tx)
            .await?;
            let (starts_at, capacity) = row.ok_or(StoreError::NotFound("meeting"))?;
            let (taken,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM meeting_rsvps WHERE meeting_id = $1 AND answer = 'yes' \
                 AND user_id <> $2",
            )
            .bind(meeting)
            .bind(user.0)
            .fetch_one(&mut *tx)
            .await?;
            let capacity = capacity.map(|c| u32::try_from(c).unwrap_or(u32::MAX));
            check_rsvp(
                now,
                starts_at,
                capacity,
                u64::try_from(taken).unwrap_or(0),
                answer,
            )
            .map_err(|refused| StoreError::Conflict(refused.to_string()))?;
            sqlx::query(
                "INSERT INTO meeting_rsvps (meeting_id, user_id, answer, answered_by, answered_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (meeting_id, user_id) DO UPDATE SET \
                 answer = excluded.answer, answered_by = excluded.answered_by, \
                 answered_at = excluded.answered_at",
            )
            .bind(meeting)
            .bind(user.0)
            .bind(answer.as_str())
            .bind(by.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.meeting(meeting).await
    }

    /// Every answer to a meeting, by organisation and name.
    pub async fn meeting_rsvps(&self, meeting: i64) -> Result<Vec<Rsvp>> {
        type RsvpRow = (
            i64,
            String,
            Option<i64>,
            Option<String>,
            String,
            DateTime<Utc>,
        );
        let rows: Vec<RsvpRow> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT r.user_id, u.display_name, u.org_id, o.name AS org_name, r.answer, r.answered_at \
                 FROM meeting_rsvps r JOIN users u ON u.id = r.user_id \
                 LEFT JOIN organisations o ON o.id = u.org_id \
                 WHERE r.meeting_id = $1 ORDER BY o.name, u.display_name, r.user_id",
            )
            .bind(meeting)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter()
            .map(|(user, display_name, org, org_name, answer, answered_at)| {
                Ok(Rsvp {
                    user_id: UserId(user),
                    display_name,
                    org_id: org.map(OrgId),
                    org_name,
                    answer: RsvpAnswer::parse(&answer)
                        .ok_or_else(|| corrupt(format!("rsvp answer {answer}")))?,
                    answered_at,
                })
            })
            .collect()
    }

    /// One user's answer, if they gave one.
    pub async fn rsvp_of(&self, meeting: i64, user: UserId) -> Result<Option<RsvpAnswer>> {
        let row: Option<(String,)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT answer FROM meeting_rsvps WHERE meeting_id = $1 AND user_id = $2",
            )
            .bind(meeting)
            .bind(user.0)
            .fetch_optional(p)
            .await
        })?;
        row.map(|(a,)| RsvpAnswer::parse(&a).ok_or_else(|| corrupt(format!("rsvp answer {a}"))))
            .transpose()
    }

    /// Record who attended (replacing an earlier record). Users who are not
    /// members' users are refused.
    pub async fn record_attendance(
        &self,
        meeting: i64,
        users: &[UserId],
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Attendee>> {
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE meetings SET updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(meeting)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if done == 0 {
                return Err(StoreError::NotFound("meeting"));
            }
            sqlx::query("DELETE FROM meeting_attendance WHERE meeting_id = $1")
                .bind(meeting)
                .execute(&mut *tx)
                .await?;
            for u in users {
                let known: Option<(i64,)> =
                    sqlx::query_as("SELECT id FROM users WHERE id = $1 AND org_id IS NOT NULL")
                        .bind(u.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                if known.is_none() {
                    return Err(StoreError::NotFound("member user"));
                }
                sqlx::query(
                    "INSERT INTO meeting_attendance (meeting_id, user_id, recorded_by, recorded_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (meeting_id, user_id) DO NOTHING",
                )
                .bind(meeting)
                .bind(u.0)
                .bind(by.0)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.meeting_attendance(meeting).await
    }

    /// Who attended.
    pub async fn meeting_attendance(&self, meeting: i64) -> Result<Vec<Attendee>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT a.user_id, u.display_name, o.name AS org_name FROM meeting_attendance a \
                 JOIN users u ON u.id = a.user_id LEFT JOIN organisations o ON o.id = u.org_id \
                 WHERE a.meeting_id = $1 ORDER BY o.name, u.display_name",
            )
            .bind(meeting)
            .fetch_all(p)
            .await
        })?)
    }

    /// A day before each meeting, remind everyone who answered yes, by
    /// e-mail through the alerts outbox (one alert per user, to that user
    /// only). Safe to call every minute: a reminder is raised once.
    pub async fn queue_meeting_reminders(&self, now: DateTime<Utc>) -> Result<u64> {
        type Due = (
            i64,
            String,
            DateTime<Utc>,
            Option<String>,
            Option<String>,
            i64,
            i64,
        );
        let due: Vec<Due> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT m.id, m.title, m.starts_at, m.venue, m.online_url, r.user_id, u.org_id \
                 FROM meetings m JOIN meeting_rsvps r ON r.meeting_id = m.id AND r.answer = 'yes' \
                 JOIN users u ON u.id = r.user_id \
                 WHERE m.starts_at > $1 AND m.starts_at <= $2 AND u.org_id IS NOT NULL",
            )
            .bind(now)
            .bind(now + Duration::hours(REMINDER_HOURS))
            .fetch_all(p)
            .await
        })?;
        let alerts: Vec<(NewAlert, UserId)> = due
            .into_iter()
            .map(|(id, title, starts_at, venue, online, user, org)| {
                let place = match (venue, online) {
                    (Some(v), Some(u)) => format!("at {v} (or online: {u})"),
                    (Some(v), None) => format!("at {v}"),
                    (None, Some(u)) => format!("online: {u}"),
                    (None, None) => String::new(),
                };
                let alert = NewAlert {
                    org_id: org,
                    kind: AlertKind::Warp,
                    vuln_id: None,
                    warp_advisory_id: None,
                    priority: Priority::P4,
                    tlp: TlpLabel::Amber,
                    title: format!("Reminder: {title} starts tomorrow"),
                    content: AlertContent {
                        summary: format!(
                            "{title} starts at {} UTC {place}. You said you will come.",
                            starts_at.format("%H:%M on %A %-d %B %Y")
                        ),
                        reason: "You answered yes to this meeting".into(),
                        changes: Vec::new(),
                        items: Vec::new(),
                        action: Some(
                            "If you can no longer come, change your answer so someone else may have the place."
                                .into(),
                        ),
                        due: Some(starts_at.date_naive()),
                        sources: Vec::new(),
                        path: format!("/meetings/{id}"),
                    },
                    dedup_key: format!("meeting-reminder:{id}:user:{user}"),
                };
                (alert, UserId(user))
            })
            .collect();
        let mut raised = 0;
        for (alert, user) in &alerts {
            raised += self.raise_alert_for_users(alert, &[*user], now).await?.0;
        }
        Ok(raised)
    }

    /// Users of member organisations, for the attendance form.
    pub async fn member_users_for_attendance(&self) -> Result<Vec<Attendee>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT u.id AS user_id, u.display_name, o.name AS org_name FROM users u \
                 JOIN organisations o ON o.id = u.org_id WHERE u.disabled = FALSE \
                 ORDER BY o.name, u.display_name",
            )
            .fetch_all(p)
            .await
        })?)
    }

    /// The organisation a user belongs to (`None` for operators), for RSVP checks.
    pub async fn user_org(&self, user: UserId) -> Result<Option<OrgId>> {
        let row: Option<(Option<i64>,)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT org_id FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(p)
                .await
        })?;
        Ok(row.ok_or(StoreError::NotFound("user"))?.0.map(OrgId))
    }
}

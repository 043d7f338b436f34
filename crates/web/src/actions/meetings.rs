//! Members' meetings: scheduling, the agenda, RSVPs, attendance, minutes and
//! the outline, shared by pages and API so the rules
//! ([`openwarp_core::meeting`]) and the audit log (`meeting.*`) cannot be
//! skipped; and the iCalendar export (one meeting, and the members' feed,
//! which calendar apps fetch with a signed per-user link instead of a session).

use crate::AppState;
use crate::actions::alerts::LINK_SIGNING;
use crate::audit::record;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike};
use openwarp_core::meeting::{
    self, AgendaItemDraft, MeetingDraft, MinutesDraft, RsvpAnswer, parse_outline,
};
use openwarp_core::{Actor, UserId, ValidationErrors};
use openwarp_store::{AgendaItem, Attendee, Meeting, Minutes, User, crypto, now};
use serde_json::json;

fn audit_detail(m: &Meeting) -> serde_json::Value {
    json!({ "meeting": m.id, "title": m.title, "starts_at": m.starts_at })
}

pub async fn create(
    state: &AppState,
    actor: &User,
    d: &MeetingDraft,
    ip: &str,
) -> Result<Meeting, AppError> {
    meeting::can_manage(&actor.actor())?;
    let m = state.store.create_meeting(d, actor.id, now()).await?;
    record(
        state,
        Some(actor),
        "meeting.create",
        None,
        &m.title,
        audit_detail(&m),
        Some(ip),
    )
    .await;
    Ok(m)
}

pub async fn update(
    state: &AppState,
    actor: &User,
    id: i64,
    d: &MeetingDraft,
    ip: &str,
) -> Result<Meeting, AppError> {
    meeting::can_manage(&actor.actor())?;
    let m = state.store.update_meeting(id, d, now()).await?;
    record(
        state,
        Some(actor),
        "meeting.update",
        None,
        &m.title,
        audit_detail(&m),
        Some(ip),
    )
    .await;
    Ok(m)
}

pub async fn add_agenda_item(
    state: &AppState,
    actor: &User,
    id: i64,
    d: &AgendaItemDraft,
    ip: &str,
) -> Result<AgendaItem, AppError> {
    meeting::can_manage(&actor.actor())?;
    let item = state.store.add_agenda_item(id, d, now()).await?;
    record(
        state,
        Some(actor),
        "meeting.agenda_add",
        None,
        &item.title,
        json!({ "meeting": id, "item": item.id, "position": item.position }),
        Some(ip),
    )
    .await;
    Ok(item)
}

pub async fn delete_agenda_item(
    state: &AppState,
    actor: &User,
    id: i64,
    item: i64,
    ip: &str,
) -> Result<(), AppError> {
    meeting::can_manage(&actor.actor())?;
    state.store.delete_agenda_item(id, item).await?;
    record(
        state,
        Some(actor),
        "meeting.agenda_delete",
        None,
        &format!("meeting {id}"),
        json!({ "meeting": id, "item": item }),
        Some(ip),
    )
    .await;
    Ok(())
}

pub async fn set_minutes(
    state: &AppState,
    actor: &User,
    id: i64,
    d: &MinutesDraft,
    ip: &str,
) -> Result<Minutes, AppError> {
    meeting::can_manage(&actor.actor())?;
    let m = state.store.set_meeting_minutes(id, d, now()).await?;
    record(
        state,
        Some(actor),
        "meeting.minutes",
        None,
        &format!("meeting {id}"),
        json!({ "meeting": id, "tlp": m.tlp.as_str(), "chars": m.text.chars().count() }),
        Some(ip),
    )
    .await;
    Ok(m)
}

pub async fn set_outline(
    state: &AppState,
    actor: &User,
    id: i64,
    topics_text: &str,
    ip: &str,
) -> Result<Meeting, AppError> {
    meeting::can_manage(&actor.actor())?;
    let topics = parse_outline(topics_text)?;
    let m = state.store.set_meeting_outline(id, &topics, now()).await?;
    record(
        state,
        Some(actor),
        "meeting.outline",
        None,
        &m.title,
        json!({ "meeting": id, "topics": m.topics.len() }),
        Some(ip),
    )
    .await;
    Ok(m)
}

/// Answer for `user` (the caller themselves unless given). Refusals: 403
/// (not yours to answer), 404 (no such meeting or user), 409 (full, or the
/// meeting has started), each saying why; nothing is stored.
pub async fn rsvp(
    state: &AppState,
    actor: &User,
    id: i64,
    user: Option<UserId>,
    answer: &str,
    ip: &str,
) -> Result<Meeting, AppError> {
    let answer = RsvpAnswer::parse(answer).ok_or_else(|| {
        let mut e = ValidationErrors::new();
        e.add("answer", "answer yes, no or maybe");
        AppError::Invalid(e)
    })?;
    let target = user.unwrap_or(actor.id);
    let target_org = if target == actor.id {
        actor.org_id
    } else {
        let u = state
            .store
            .get_user(target)
            .await?
            .filter(|u| same_org(&actor.actor(), u))
            .ok_or(AppError::NotFound("user"))?;
        u.org_id
    };
    meeting::can_rsvp_for(&actor.actor(), target, target_org)?;
    let m = state
        .store
        .rsvp(id, target, answer, actor.id, now())
        .await?;
    record(
        state,
        Some(actor),
        "meeting.rsvp",
        target_org,
        &m.title,
        json!({ "meeting": id, "user": target.0, "answer": answer.as_str() }),
        Some(ip),
    )
    .await;
    Ok(m)
}

/// Record who attended (operators), replacing an earlier record.
pub async fn record_attendance(
    state: &AppState,
    actor: &User,
    id: i64,
    users: &[UserId],
    ip: &str,
) -> Result<Vec<Attendee>, AppError> {
    meeting::can_manage(&actor.actor())?;
    let attended = state
        .store
        .record_attendance(id, users, actor.id, now())
        .await?;
    record(
        state,
        Some(actor),
        "meeting.attendance",
        None,
        &format!("meeting {id}"),
        json!({ "meeting": id, "attended": attended.len() }),
        Some(ip),
    )
    .await;
    Ok(attended)
}

/// Members' users see only their own organisation's accounts.
fn same_org(a: &Actor, other: &User) -> bool {
    a.is_operator() || (a.org_id.is_some() && a.org_id == other.org_id)
}

fn feed_message(user: UserId) -> String {
    format!("meetings-feed:{}", user.0)
}

/// The signed address of `user`'s calendar feed, relative to the public URL.
pub async fn feed_path(state: &AppState, user: UserId) -> Result<String, AppError> {
    let secret = state.store.instance_secret(LINK_SIGNING, now()).await?;
    let sig = crypto::sign(&secret, &feed_message(user));
    Ok(format!("/meetings.ics?u={}&s={sig}", user.0))
}

/// The user a signed feed link names, if the signature is right and the
/// account may still sign in (401 otherwise).
pub async fn feed_user(state: &AppState, user: &str, sig: &str) -> Result<User, AppError> {
    let id: i64 = user.trim().parse().map_err(|_| AppError::Unauthorized)?;
    let secret = state.store.instance_secret(LINK_SIGNING, now()).await?;
    if sig.is_empty() || !crypto::verify_signature(&secret, &feed_message(UserId(id)), sig) {
        return Err(AppError::Unauthorized);
    }
    state
        .store
        .get_user(UserId(id))
        .await?
        .filter(|u| !u.disabled)
        .ok_or(AppError::Unauthorized)
}

/// One meeting as an iCalendar event: a stable UID from the meeting id and
/// the public URL's host, times in UTC, the agenda in the description.
fn event(state: &AppState, m: &Meeting, agenda: &[AgendaItem], stamp: DateTime<Utc>) -> Event {
    let host = url::Url::parse(&state.config.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "openwarp".into());
    let mut description = m.description.clone();
    if !agenda.is_empty() {
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str("Agenda:\n");
        for i in agenda {
            description.push_str(&format!("{}. {}", i.position, i.title));
            let who: Vec<&str> = [i.speaker.as_deref(), i.organisation.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            if !who.is_empty() {
                description.push_str(&format!(" ({})", who.join(", ")));
            }
            description.push('\n');
        }
    }
    let location = match (&m.venue, &m.online_url) {
        (Some(v), Some(u)) => format!("{v} / {u}"),
        (Some(v), None) => v.clone(),
        (None, Some(u)) => u.clone(),
        (None, None) => String::new(),
    };
    let mut e = Event::new();
    e.uid(&format!("meeting-{}@{host}", m.id))
        .summary(&m.title)
        .starts(m.starts_at)
        .ends(m.ends_at)
        .timestamp(stamp)
        .url(&format!("{}/meetings/{}", state.config.public_url, m.id))
        .description(description.trim_end());
    if !location.is_empty() {
        e.location(&location);
    }
    e.done()
}

fn calendar(state: &AppState, name: &str) -> Calendar {
    let mut c = Calendar::new();
    c.name(&format!("{} – {name}", state.config.warp_name));
    c
}

/// `.ics` text for one meeting.
pub async fn meeting_ics(state: &AppState, id: i64) -> Result<String, AppError> {
    let m = state.store.meeting(id).await?;
    let agenda = state.store.agenda(id).await?;
    let mut c = calendar(state, &m.title);
    c.push(event(state, &m, &agenda, now()));
    Ok(c.done().to_string())
}

/// `.ics` text for the upcoming meetings.
pub async fn feed_ics(state: &AppState) -> Result<String, AppError> {
    let now = now();
    let mut c = calendar(state, "meetings");
    for m in state.store.list_meetings(false, now, 100).await? {
        let agenda = state.store.agenda(m.id).await?;
        c.push(event(state, &m, &agenda, now));
    }
    Ok(c.done().to_string())
}

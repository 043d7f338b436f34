//! Group questions and polls: asking, answering, closing and the opt-in to
//! e-mails about new ones. Pages and API both come through here, so the
//! rules ([`openwarp_core::poll`]) and the audit log cannot be skipped.
//!
//! Every signed-in user takes part (members of every role and operators);
//! results are visible to all of them at any time. The audit log records
//! *that* someone answered a poll, never what: for an anonymous poll that
//! would undo the anonymity.

use crate::AppState;
use crate::audit::record;
use crate::error::AppError;
use openwarp_core::poll::{
    BallotInput, BallotMode, PollDraft, PollInput, PollRefusal, may_close, may_take_part,
};
use openwarp_store::{Poll, PollError, PollResults, User, now};

impl From<PollRefusal> for AppError {
    fn from(r: PollRefusal) -> Self {
        match r {
            PollRefusal::NotAsker => AppError::Forbidden(r.to_string()),
            PollRefusal::Closed | PollRefusal::AlreadyAnsweredAnonymously => {
                AppError::Conflict(r.to_string())
            }
            other => AppError::Unprocessable(other.to_string()),
        }
    }
}

impl From<PollError> for AppError {
    fn from(e: PollError) -> Self {
        match e {
            PollError::Refused(r) => r.into(),
            PollError::Store(s) => s.into(),
        }
    }
}

/// Validate and store a question or poll; e-mails those who opted in.
pub async fn create(
    state: &AppState,
    user: &User,
    input: &PollInput,
    ip: &str,
) -> Result<Poll, AppError> {
    may_take_part(&user.actor())?;
    let draft: PollDraft = input.validate(now())?;
    let (p, queued) = state.store.create_poll(&draft, user.id, now()).await?;
    record(
        state,
        Some(user),
        "poll.create",
        user.org_id,
        &p.question,
        serde_json::json!({
            "poll": p.id,
            "kind": p.kind.as_str(),
            "anonymous": p.anonymous,
            "emails_queued": queued,
        }),
        Some(ip),
    )
    .await;
    Ok(p)
}

/// Every question and poll, newest first.
pub async fn list(state: &AppState, user: &User) -> Result<Vec<Poll>, AppError> {
    may_take_part(&user.actor())?;
    Ok(state.store.polls(user.id, 500).await?)
}

/// One question or poll with its results.
pub async fn results(state: &AppState, user: &User, id: i64) -> Result<PollResults, AppError> {
    may_take_part(&user.actor())?;
    Ok(state.store.poll_results(id, user.id).await?)
}

/// Cast `user`'s ballot. Options not in the poll: 422; closed or already
/// answered anonymously: 409. Nothing is stored on a refusal.
pub async fn vote(
    state: &AppState,
    user: &User,
    id: i64,
    ballot: BallotInput,
    ip: &str,
) -> Result<BallotMode, AppError> {
    may_take_part(&user.actor())?;
    let mode = state.store.cast_ballot(id, user.id, ballot, now()).await?;
    record(
        state,
        Some(user),
        match mode {
            BallotMode::First => "poll.answer",
            BallotMode::Replace => "poll.answer_change",
        },
        user.org_id,
        &format!("poll {id}"),
        serde_json::json!({ "poll": id }),
        Some(ip),
    )
    .await;
    Ok(mode)
}

/// Close early: the asker or an operator (others 403).
pub async fn close(state: &AppState, user: &User, id: i64, ip: &str) -> Result<Poll, AppError> {
    let p = state.store.poll(id, user.id).await?;
    may_close(&user.actor(), &p.facts())?;
    let p = state.store.close_poll(id, user.id, now()).await?;
    record(
        state,
        Some(user),
        "poll.close",
        user.org_id,
        &p.question,
        serde_json::json!({ "poll": id }),
        Some(ip),
    )
    .await;
    Ok(p)
}

/// Opt in to (or out of) e-mails about new questions and polls.
pub async fn set_notify(state: &AppState, user: &User, on: bool, ip: &str) -> Result<(), AppError> {
    state.store.set_poll_notify(user.id, on, now()).await?;
    record(
        state,
        Some(user),
        "poll.notify",
        user.org_id,
        &user.email,
        serde_json::json!({ "notify": on }),
        Some(ip),
    )
    .await;
    Ok(())
}

//! API handlers for group questions and polls: every signed-in user asks,
//! answers and reads the results; the asker or an operator closes one early.

use super::ApiJson;
use crate::AppState;
use crate::actions::polls as actions;
use crate::auth::{ApiCaller, ClientIp};
use crate::error::{ApiError, ApiErrorBody, AppError};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use openwarp_core::poll::{Ballot, BallotInput, BallotMode, PollInput};
use openwarp_store::{Poll, PollResults, now};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A group question or poll, with its results when read one at a time.
#[derive(Serialize, ToSchema)]
pub struct PollDto {
    pub id: i64,
    /// `question` (free-text answers), `single` or `multiple` (choice).
    pub kind: String,
    pub question: String,
    pub details: String,
    /// A poll's options, in order; a ballot names them by index from 0.
    pub options: Vec<String>,
    /// Answers are not stored against the person who gave them.
    pub anonymous: bool,
    /// Who asked, and their organisation (none for an operator).
    pub asked_by: Option<String>,
    pub asker_org: Option<String>,
    pub created_at: DateTime<Utc>,
    pub closes_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Whether answers are taken now.
    pub open: bool,
    /// How many people have answered.
    pub responses: i64,
    /// Whether the caller has answered.
    pub you_answered: bool,
    /// On a single poll: votes per option, in the options' order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<Vec<i64>>,
    /// On a single question: the answers (`name` and `org` absent when anonymous).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answers: Option<Vec<PollAnswerDto>>,
    /// On a single named poll: the caller's own ballot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub your_ballot: Option<BallotDto>,
}

/// One answer to a question.
#[derive(Serialize, ToSchema)]
pub struct PollAnswerDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    pub answer: String,
}

/// A ballot: `choices` (option indexes from 0; one for a single-choice poll)
/// for a poll, or `answer` for a question.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BallotDto {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<usize>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

fn dto(p: Poll) -> PollDto {
    PollDto {
        open: p.is_open(now()),
        id: p.id,
        kind: p.kind.as_str().into(),
        question: p.question,
        details: p.details,
        options: p.options,
        anonymous: p.anonymous,
        asked_by: p.asker_name,
        asker_org: p.asker_org,
        created_at: p.created_at,
        closes_at: p.closes_at,
        closed_at: p.closed_at,
        responses: p.responses,
        you_answered: p.you_answered,
        counts: None,
        answers: None,
        your_ballot: None,
    }
}

fn results_dto(r: PollResults) -> PollDto {
    let is_poll = r.poll.kind.is_poll();
    let mut out = dto(r.poll);
    if is_poll {
        out.counts = Some(r.counts);
    } else {
        out.answers = Some(
            r.answers
                .into_iter()
                .map(|a| PollAnswerDto {
                    name: a.name,
                    org: a.org_name,
                    answer: a.answer,
                })
                .collect(),
        );
    }
    out.your_ballot = r.your_ballot.map(|b| match b {
        Ballot::Choices(c) => BallotDto {
            choices: Some(c),
            answer: None,
        },
        Ballot::Answer(a) => BallotDto {
            choices: None,
            answer: Some(a),
        },
    });
    out
}

/// A question or poll to put to the group. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PollInputDto {
    /// `question`, `single` or `multiple`.
    pub kind: String,
    pub question: String,
    #[serde(default)]
    pub details: String,
    /// 2–20 options for a poll; none for a question.
    #[serde(default)]
    pub options: Vec<String>,
    /// A date (`2026-12-01`, closing at the end of that day UTC) or RFC 3339 time.
    #[serde(default)]
    pub closes_at: Option<String>,
    #[serde(default)]
    pub anonymous: bool,
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
pub struct PollListQuery {
    /// `open` or `closed`; both when absent.
    pub state: Option<String>,
}

/// Questions and polls, newest first.
#[utoipa::path(get, path = "/api/v1/polls", tag = "polls", params(PollListQuery),
    responses((status = 200, body = [PollDto]), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody)))]
pub async fn list_polls(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Query(q): Query<PollListQuery>,
) -> Result<Json<Vec<PollDto>>, ApiError> {
    let want = match q.state.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("open") => Some(true),
        Some("closed") => Some(false),
        Some(s) => {
            return Err(
                AppError::BadRequest(format!("state: '{s}' is not one of open, closed")).into(),
            );
        }
    };
    let at = now();
    let polls = actions::list(&state, &user).await?;
    Ok(Json(
        polls
            .into_iter()
            .filter(|p| want.is_none_or(|w| p.is_open(at) == w))
            .map(dto)
            .collect(),
    ))
}

/// One question or poll with its results.
#[utoipa::path(get, path = "/api/v1/polls/{id}", tag = "polls",
    params(("id" = i64, Path, description = "Poll id")),
    responses((status = 200, body = PollDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_poll(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<PollDto>, ApiError> {
    Ok(Json(results_dto(
        actions::results(&state, &user, id).await?,
    )))
}

/// Ask the group a question or run a poll; e-mails those who opted in.
#[utoipa::path(post, path = "/api/v1/polls", tag = "polls", request_body = PollInputDto,
    responses((status = 201, body = PollDto), (status = 422, body = ApiErrorBody)))]
pub async fn create_poll(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<PollInputDto>,
) -> Result<(StatusCode, Json<PollDto>), ApiError> {
    let input = PollInput {
        kind: body.kind,
        question: body.question,
        details: body.details,
        options: body.options,
        closes_at: body.closes_at.unwrap_or_default(),
        anonymous: body.anonymous,
    };
    let p = actions::create(&state, &user, &input, &ip).await?;
    Ok((StatusCode::CREATED, Json(dto(p))))
}

/// What casting a ballot did.
#[derive(Serialize, ToSchema)]
pub struct BallotOutcomeDto {
    /// `recorded`, or `changed` (a named ballot replaced while open).
    pub outcome: String,
}

/// Answer a question or vote in a poll. Options not in the poll: 422;
/// closed, or already answered anonymously: 409. Nothing is stored then.
#[utoipa::path(post, path = "/api/v1/polls/{id}/ballot", tag = "polls", request_body = BallotDto,
    params(("id" = i64, Path, description = "Poll id")),
    responses((status = 200, body = BallotOutcomeDto), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn cast_ballot(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<BallotDto>,
) -> Result<Json<BallotOutcomeDto>, ApiError> {
    let ballot = match (body.choices, body.answer) {
        (Some(c), None) => BallotInput::Choices(c),
        (None, Some(a)) => BallotInput::Answer(a),
        _ => {
            return Err(AppError::Unprocessable(
                "send either choices (for a poll) or answer (for a question)".into(),
            )
            .into());
        }
    };
    let mode = actions::vote(&state, &user, id, ballot, &ip).await?;
    Ok(Json(BallotOutcomeDto {
        outcome: match mode {
            BallotMode::First => "recorded",
            BallotMode::Replace => "changed",
        }
        .into(),
    }))
}

/// Close early: the asker or an operator (others 403; already closed 409).
#[utoipa::path(post, path = "/api/v1/polls/{id}/close", tag = "polls",
    params(("id" = i64, Path, description = "Poll id")),
    responses((status = 200, body = PollDto), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody)))]
pub async fn close_poll(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> Result<Json<PollDto>, ApiError> {
    Ok(Json(dto(actions::close(&state, &user, id, &ip).await?)))
}

/// The caller's opt-in to e-mails about new questions and polls.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PollNotifyDto {
    pub notify: bool,
}

/// Whether the caller is e-mailed about new questions and polls.
#[utoipa::path(get, path = "/api/v1/polls/notify", tag = "polls",
    responses((status = 200, body = PollNotifyDto)))]
pub async fn get_poll_notify(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
) -> Result<Json<PollNotifyDto>, ApiError> {
    Ok(Json(PollNotifyDto {
        notify: state
            .store
            .poll_notify(user.id)
            .await
            .map_err(AppError::from)?,
    }))
}

/// Opt in to (or out of) e-mails about new questions and polls (members;
/// operators have no organisation to be e-mailed through).
#[utoipa::path(put, path = "/api/v1/polls/notify", tag = "polls", request_body = PollNotifyDto,
    responses((status = 200, body = PollNotifyDto), (status = 422, body = ApiErrorBody)))]
pub async fn put_poll_notify(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<PollNotifyDto>,
) -> Result<Json<PollNotifyDto>, ApiError> {
    actions::set_notify(&state, &user, body.notify, &ip).await?;
    Ok(Json(body))
}

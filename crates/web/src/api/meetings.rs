//! API handlers for members' meetings: operators schedule them and write
//! the agenda, minutes, outline and attendance; members read them, answer
//! (RSVP) and export them to their calendars.

use super::ApiJson;
use crate::AppState;
use crate::actions::meetings as actions;
use crate::auth::{ApiCaller, ClientIp};
use crate::error::{ApiError, ApiErrorBody};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use openwarp_core::UserId;
use openwarp_core::meeting::{self, AgendaItemInput, MeetingInput, MinutesInput};
use openwarp_store::{AgendaItem, Attendee, Meeting, Minutes, Rsvp, now};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A meeting (without its minutes).
#[derive(Serialize, ToSchema)]
pub struct MeetingDto {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue: Option<String>,
    /// An `https://` link to join online.
    pub online_url: Option<String>,
    /// Places; `null` for no limit.
    pub capacity: Option<u32>,
    /// "Yes" answers so far.
    pub going: i64,
    pub has_minutes: bool,
    /// The public outline of discussions.
    pub topics: Vec<String>,
}

impl From<Meeting> for MeetingDto {
    fn from(m: Meeting) -> Self {
        MeetingDto {
            id: m.id,
            title: m.title,
            description: m.description,
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            venue: m.venue,
            online_url: m.online_url,
            capacity: m.capacity,
            going: m.going,
            has_minutes: m.has_minutes,
            topics: m.topics,
        }
    }
}

/// An agenda item.
#[derive(Serialize, ToSchema)]
pub struct AgendaItemDto {
    pub id: i64,
    pub position: i64,
    pub title: String,
    pub speaker: Option<String>,
    pub organisation: Option<String>,
    /// `member`, `government` or `industry`.
    pub presenter: String,
}

impl From<AgendaItem> for AgendaItemDto {
    fn from(i: AgendaItem) -> Self {
        AgendaItemDto {
            id: i.id,
            position: i.position,
            title: i.title,
            speaker: i.speaker,
            organisation: i.organisation,
            presenter: i.presenter.as_str().into(),
        }
    }
}

/// Minutes, members only, with their TLP label.
#[derive(Serialize, ToSchema)]
pub struct MinutesDto {
    pub text: String,
    /// `clear`, `green`, `amber` or `amber_strict`.
    pub tlp: String,
    /// As TLP 2.0 writes it, e.g. `TLP:AMBER`.
    pub tlp_label: String,
    pub updated_at: DateTime<Utc>,
}

impl From<Minutes> for MinutesDto {
    fn from(m: Minutes) -> Self {
        MinutesDto {
            text: m.text,
            tlp: m.tlp.as_str().into(),
            tlp_label: m.tlp.label().into(),
            updated_at: m.updated_at,
        }
    }
}

/// A meeting with its agenda, minutes and the caller's own answer.
#[derive(Serialize, ToSchema)]
pub struct MeetingDetailDto {
    #[serde(flatten)]
    pub meeting: MeetingDto,
    pub agenda: Vec<AgendaItemDto>,
    pub minutes: Option<MinutesDto>,
    /// `yes`, `no`, `maybe`, or `null` when the caller has not answered.
    pub my_answer: Option<String>,
}

/// One person's answer.
#[derive(Serialize, ToSchema)]
pub struct RsvpDto {
    pub user_id: i64,
    pub display_name: String,
    pub org_name: Option<String>,
    pub answer: String,
    pub answered_at: DateTime<Utc>,
}

impl From<Rsvp> for RsvpDto {
    fn from(r: Rsvp) -> Self {
        RsvpDto {
            user_id: r.user_id.0,
            display_name: r.display_name,
            org_name: r.org_name,
            answer: r.answer.as_str().into(),
            answered_at: r.answered_at,
        }
    }
}

/// Someone recorded as attending.
#[derive(Serialize, ToSchema)]
pub struct AttendeeDto {
    pub user_id: i64,
    pub display_name: String,
    pub org_name: Option<String>,
}

impl From<Attendee> for AttendeeDto {
    fn from(a: Attendee) -> Self {
        AttendeeDto {
            user_id: a.user_id,
            display_name: a.display_name,
            org_name: a.org_name,
        }
    }
}

/// A meeting as a client sends it. Times in RFC 3339 (or without an offset: UTC).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingInputDto {
    pub title: String,
    pub starts_at: String,
    pub ends_at: String,
    #[serde(default)]
    pub venue: Option<String>,
    #[serde(default)]
    pub online_url: Option<String>,
    #[serde(default)]
    pub capacity: Option<u32>,
    #[serde(default)]
    pub description: Option<String>,
}

impl From<MeetingInputDto> for MeetingInput {
    fn from(d: MeetingInputDto) -> Self {
        MeetingInput {
            title: d.title,
            starts_at: d.starts_at,
            ends_at: d.ends_at,
            venue: d.venue.unwrap_or_default(),
            online_url: d.online_url.unwrap_or_default(),
            capacity: d.capacity.map(|c| c.to_string()).unwrap_or_default(),
            description: d.description.unwrap_or_default(),
        }
    }
}

/// An agenda item as a client sends it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaItemInputDto {
    pub title: String,
    #[serde(default)]
    pub speaker: Option<String>,
    #[serde(default)]
    pub organisation: Option<String>,
    /// `member` (default), `government` or `industry`.
    #[serde(default)]
    pub presenter: Option<String>,
    /// From 1; omitted: at the end.
    #[serde(default)]
    pub position: Option<u32>,
}

/// An answer: for the caller, or (member leads) for a user of their organisation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RsvpInputDto {
    /// `yes`, `no` or `maybe`.
    pub answer: String,
    #[serde(default)]
    pub user_id: Option<i64>,
}

/// Minutes as a client sends them.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MinutesInputDto {
    pub text: String,
    /// Default `amber`; `red` is refused (minutes reach every member).
    #[serde(default)]
    pub tlp: Option<String>,
}

/// The outline of discussions: the topics in order.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutlineInputDto {
    pub topics: Vec<String>,
}

/// Who attended: member users' ids.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceInputDto {
    pub user_ids: Vec<i64>,
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
pub struct MeetingListQuery {
    /// `true`: the archive (ended meetings, newest first); otherwise upcoming, soonest first.
    pub past: Option<bool>,
}

/// Upcoming meetings, or the archive.
#[utoipa::path(get, path = "/api/v1/meetings", tag = "meetings", params(MeetingListQuery),
    responses((status = 200, body = [MeetingDto])))]
pub async fn list_meetings(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Query(q): Query<MeetingListQuery>,
) -> Result<Json<Vec<MeetingDto>>, ApiError> {
    meeting::can_view(&user.actor()).map_err(crate::error::AppError::from)?;
    let rows = state
        .store
        .list_meetings(q.past.unwrap_or(false), now(), 500)
        .await
        .map_err(crate::error::AppError::from)?;
    Ok(Json(rows.into_iter().map(MeetingDto::from).collect()))
}

/// Schedule a meeting (operators).
#[utoipa::path(post, path = "/api/v1/meetings", tag = "meetings", request_body = MeetingInputDto,
    responses((status = 201, body = MeetingDto), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_meeting(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<MeetingInputDto>,
) -> Result<(StatusCode, Json<MeetingDto>), ApiError> {
    meeting::can_manage(&user.actor()).map_err(crate::error::AppError::from)?;
    let d = MeetingInput::from(body).validate()?;
    let m = actions::create(&state, &user, &d, &ip).await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

/// One meeting with its agenda, minutes (members and operators) and the caller's answer.
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingDetailDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_meeting(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<MeetingDetailDto>, ApiError> {
    meeting::can_view(&user.actor()).map_err(crate::error::AppError::from)?;
    let m = state
        .store
        .meeting(id)
        .await
        .map_err(crate::error::AppError::from)?;
    let agenda = state
        .store
        .agenda(id)
        .await
        .map_err(crate::error::AppError::from)?;
    let minutes = state
        .store
        .meeting_minutes(id)
        .await
        .map_err(crate::error::AppError::from)?;
    let my_answer = state
        .store
        .rsvp_of(id, user.id)
        .await
        .map_err(crate::error::AppError::from)?;
    Ok(Json(MeetingDetailDto {
        meeting: m.into(),
        agenda: agenda.into_iter().map(AgendaItemDto::from).collect(),
        minutes: minutes.map(MinutesDto::from),
        my_answer: my_answer.map(|a| a.as_str().to_string()),
    }))
}

/// Change a meeting's details (operators).
#[utoipa::path(put, path = "/api/v1/meetings/{id}", tag = "meetings", request_body = MeetingInputDto,
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn update_meeting(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<MeetingInputDto>,
) -> Result<Json<MeetingDto>, ApiError> {
    meeting::can_manage(&user.actor()).map_err(crate::error::AppError::from)?;
    let d = MeetingInput::from(body).validate()?;
    Ok(Json(
        actions::update(&state, &user, id, &d, &ip).await?.into(),
    ))
}

/// Add an agenda item (operators).
#[utoipa::path(post, path = "/api/v1/meetings/{id}/agenda", tag = "meetings", request_body = AgendaItemInputDto,
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 201, body = AgendaItemDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn add_agenda_item(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AgendaItemInputDto>,
) -> Result<(StatusCode, Json<AgendaItemDto>), ApiError> {
    meeting::can_manage(&user.actor()).map_err(crate::error::AppError::from)?;
    let d = AgendaItemInput {
        title: body.title,
        speaker: body.speaker.unwrap_or_default(),
        organisation: body.organisation.unwrap_or_default(),
        presenter: body.presenter.unwrap_or_default(),
        position: body.position.map(|p| p.to_string()).unwrap_or_default(),
    }
    .validate()?;
    let item = actions::add_agenda_item(&state, &user, id, &d, &ip).await?;
    Ok((StatusCode::CREATED, Json(item.into())))
}

/// Remove an agenda item (operators).
#[utoipa::path(delete, path = "/api/v1/meetings/{id}/agenda/{item}", tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id"), ("item" = i64, Path, description = "Agenda item id")),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn delete_agenda_item(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path((id, item)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    actions::delete_agenda_item(&state, &user, id, item, &ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Answer yes, no or maybe. 409 when a "yes" would exceed the capacity or
/// the meeting has started; nothing is stored then.
#[utoipa::path(put, path = "/api/v1/meetings/{id}/rsvp", tag = "meetings", request_body = RsvpInputDto,
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn rsvp(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<RsvpInputDto>,
) -> Result<Json<MeetingDto>, ApiError> {
    let m = actions::rsvp(
        &state,
        &user,
        id,
        body.user_id.map(UserId),
        &body.answer,
        &ip,
    )
    .await?;
    Ok(Json(m.into()))
}

/// Every answer (operators), or those from the caller's organisation (members).
#[utoipa::path(get, path = "/api/v1/meetings/{id}/rsvps", tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 200, body = [RsvpDto]), (status = 404, body = ApiErrorBody)))]
pub async fn list_rsvps(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<RsvpDto>>, ApiError> {
    let actor = user.actor();
    meeting::can_view(&actor).map_err(crate::error::AppError::from)?;
    state
        .store
        .meeting(id)
        .await
        .map_err(crate::error::AppError::from)?;
    let rows = state
        .store
        .meeting_rsvps(id)
        .await
        .map_err(crate::error::AppError::from)?;
    Ok(Json(
        rows.into_iter()
            .filter(|r| actor.is_operator() || (r.org_id.is_some() && r.org_id == actor.org_id))
            .map(RsvpDto::from)
            .collect(),
    ))
}

/// Record who attended, replacing an earlier record (operators).
#[utoipa::path(put, path = "/api/v1/meetings/{id}/attendance", tag = "meetings", request_body = AttendanceInputDto,
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 200, body = [AttendeeDto]), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn put_attendance(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AttendanceInputDto>,
) -> Result<Json<Vec<AttendeeDto>>, ApiError> {
    let users: Vec<UserId> = body.user_ids.into_iter().map(UserId).collect();
    let rows = actions::record_attendance(&state, &user, id, &users, &ip).await?;
    Ok(Json(rows.into_iter().map(AttendeeDto::from).collect()))
}

/// Write the minutes (operators), TLP:AMBER unless another label is given.
#[utoipa::path(put, path = "/api/v1/meetings/{id}/minutes", tag = "meetings", request_body = MinutesInputDto,
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 200, body = MinutesDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn put_minutes(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<MinutesInputDto>,
) -> Result<Json<MinutesDto>, ApiError> {
    meeting::can_manage(&user.actor()).map_err(crate::error::AppError::from)?;
    let d = MinutesInput {
        text: body.text,
        tlp: body.tlp.unwrap_or_default(),
    }
    .validate()?;
    Ok(Json(
        actions::set_minutes(&state, &user, id, &d, &ip)
            .await?
            .into(),
    ))
}

/// Replace the public outline of discussions (operators).
#[utoipa::path(put, path = "/api/v1/meetings/{id}/outline", tag = "meetings", request_body = OutlineInputDto,
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn put_outline(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<OutlineInputDto>,
) -> Result<Json<MeetingDto>, ApiError> {
    let text = body.topics.join("\n");
    Ok(Json(
        actions::set_outline(&state, &user, id, &text, &ip)
            .await?
            .into(),
    ))
}

/// The meeting as iCalendar (`text/calendar`).
#[utoipa::path(get, path = "/api/v1/meetings/{id}/ics", tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id")),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = ApiErrorBody)))]
pub async fn get_ics(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    meeting::can_view(&user.actor()).map_err(crate::error::AppError::from)?;
    let body = actions::meeting_ics(&state, id).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response())
}

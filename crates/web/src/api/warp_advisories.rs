//! API handlers for WARP advisories: operators write, review, publish and
//! withdraw them; members read the published ones meant for them.

use super::ApiJson;
use crate::AppState;
use crate::actions::warp_advisories as actions;
use crate::auth::{ApiCaller, ClientIp};
use crate::error::{ApiError, ApiErrorBody, AppError};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use openwarp_core::warp_advisory::{LinkInput, WarpAdvisoryInput, WarpStatus};
use openwarp_store::{WarpAdvisory, WarpAdvisoryFilter, WarpReach};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A link to a source.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarpLinkDto {
    /// Shown instead of the address; defaults to the host name.
    #[serde(default)]
    pub label: Option<String>,
    /// An `http` or `https` address.
    pub url: String,
}

/// A WARP advisory.
#[derive(Serialize, ToSchema)]
pub struct WarpAdvisoryDto {
    pub id: i64,
    pub title: String,
    pub summary: String,
    /// What members should do.
    pub action: String,
    /// `clear`, `green`, `amber`, `amber_strict` or `red`.
    pub tlp: String,
    /// As TLP 2.0 writes it, e.g. `TLP:AMBER+STRICT`.
    pub tlp_label: String,
    /// `P1`–`P4`.
    pub priority: String,
    /// `all` (every member) or `products` (members whose inventory lists one).
    pub audience: String,
    /// `vendor:product`, CPE 2.3 names or package URLs.
    pub products: Vec<String>,
    pub cves: Vec<String>,
    pub links: Vec<WarpLinkDto>,
    /// `draft`, `in_review`, `published` or `withdrawn`.
    pub status: String,
    /// Operators only: who wrote it and who last reviewed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    /// Operators only: the last request for changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    /// Operators only, on a single advisory: the organisations it reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reached: Option<Vec<WarpReachDto>>,
}

/// An organisation a published advisory reached.
#[derive(Serialize, ToSchema)]
pub struct WarpReachDto {
    pub org_id: i64,
    pub org_name: String,
    pub alert_id: i64,
    pub alerted_at: DateTime<Utc>,
    /// Immediate deliveries queued (e-mails and webhooks), and how many are sent.
    pub deliveries: i64,
    pub sent: i64,
}

impl From<WarpReach> for WarpReachDto {
    fn from(r: WarpReach) -> Self {
        WarpReachDto {
            org_id: r.org_id.0,
            org_name: r.org_name,
            alert_id: r.alert_id,
            alerted_at: r.alerted_at,
            deliveries: r.deliveries,
            sent: r.sent,
        }
    }
}

fn dto(a: WarpAdvisory, operator: bool) -> WarpAdvisoryDto {
    let d = a.draft;
    WarpAdvisoryDto {
        id: a.id,
        title: d.title,
        summary: d.summary,
        action: d.action,
        tlp: d.tlp.as_str().into(),
        tlp_label: d.tlp.label().into(),
        priority: format!("P{}", d.priority),
        audience: d.audience.as_str().into(),
        products: d.products.iter().map(ToString::to_string).collect(),
        cves: d.cves,
        links: d
            .links
            .into_iter()
            .map(|l| WarpLinkDto {
                label: Some(l.label),
                url: l.url,
            })
            .collect(),
        status: a.status.as_str().into(),
        author: operator.then_some(a.author_name).flatten(),
        reviewer: operator.then_some(a.reviewer_name).flatten(),
        review_note: operator.then_some(a.review_note).flatten(),
        created_at: a.created_at,
        updated_at: a.updated_at,
        submitted_at: a.submitted_at,
        published_at: a.published_at,
        reached: None,
    }
}

/// The content of an advisory a client sends. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarpAdvisoryInputDto {
    pub title: String,
    pub summary: String,
    pub action: String,
    /// A TLP label: `clear`, `green`, `amber`, `amber_strict`, `red` (or `TLP:AMBER+STRICT` etc.).
    pub tlp: String,
    /// `P1`–`P4`.
    pub priority: String,
    /// `all` or `products`.
    pub audience: String,
    /// Required when `audience` is `products`.
    #[serde(default)]
    pub products: Vec<String>,
    #[serde(default)]
    pub cves: Vec<String>,
    #[serde(default)]
    pub links: Vec<WarpLinkDto>,
}

impl From<WarpAdvisoryInputDto> for WarpAdvisoryInput {
    fn from(d: WarpAdvisoryInputDto) -> Self {
        WarpAdvisoryInput {
            title: d.title,
            summary: d.summary,
            action: d.action,
            tlp: d.tlp,
            priority: d.priority,
            audience: d.audience,
            products: d.products,
            cves: d.cves,
            links: d
                .links
                .into_iter()
                .map(|l| LinkInput {
                    label: l.label.unwrap_or_default(),
                    url: l.url,
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
pub struct WarpListQuery {
    /// `draft`, `in_review`, `published` or `withdrawn` (members: only
    /// published ones are ever listed).
    pub status: Option<String>,
}

/// WARP advisories, most recently changed first: operators see all (or
/// those in `status`); members the published ones meant for them.
#[utoipa::path(get, path = "/api/v1/warp-advisories", tag = "warp advisories",
    params(WarpListQuery),
    responses((status = 200, body = [WarpAdvisoryDto]), (status = 400, body = ApiErrorBody)))]
pub async fn list_warp_advisories(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Query(q): Query<WarpListQuery>,
) -> Result<Json<Vec<WarpAdvisoryDto>>, ApiError> {
    let status = match q.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(WarpStatus::parse(s).ok_or_else(|| {
            AppError::BadRequest(format!(
                "status: '{s}' is not one of draft, in_review, published, withdrawn"
            ))
        })?),
    };
    let actor = user.actor();
    let filter = WarpAdvisoryFilter {
        status,
        visible_to: if actor.is_operator() {
            None
        } else {
            actor.org_id
        },
        limit: Some(500),
    };
    let rows = state.store.warp_advisories(&filter).await?;
    Ok(Json(
        rows.into_iter()
            .map(|a| dto(a, actor.is_operator()))
            .collect(),
    ))
}

/// One WARP advisory; 404 when it is not meant for the caller.
#[utoipa::path(get, path = "/api/v1/warp-advisories/{id}", tag = "warp advisories",
    params(("id" = i64, Path, description = "WARP advisory id")),
    responses((status = 200, body = WarpAdvisoryDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_warp_advisory(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<WarpAdvisoryDto>, ApiError> {
    let actor = user.actor();
    let a = actions::visible(&state, &actor, id).await?;
    let published = matches!(a.status, WarpStatus::Published | WarpStatus::Withdrawn);
    let mut out = dto(a, actor.is_operator());
    if actor.is_operator() && published {
        let reach = state.store.warp_advisory_reach(id).await?;
        out.reached = Some(reach.into_iter().map(WarpReachDto::from).collect());
    }
    Ok(Json(out))
}

/// Write a new draft (operators).
#[utoipa::path(post, path = "/api/v1/warp-advisories", tag = "warp advisories", request_body = WarpAdvisoryInputDto,
    responses((status = 201, body = WarpAdvisoryDto), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_warp_advisory(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<WarpAdvisoryInputDto>,
) -> Result<(StatusCode, Json<WarpAdvisoryDto>), ApiError> {
    openwarp_core::warp_advisory::can_create(&user.actor()).map_err(AppError::from)?;
    let draft = WarpAdvisoryInput::from(body).validate()?;
    let a = actions::create(&state, &user, &draft, &ip).await?;
    Ok((StatusCode::CREATED, Json(dto(a, true))))
}

/// Replace a draft's content (its author); an advisory in review returns to draft.
#[utoipa::path(put, path = "/api/v1/warp-advisories/{id}", tag = "warp advisories", request_body = WarpAdvisoryInputDto,
    params(("id" = i64, Path, description = "WARP advisory id")),
    responses((status = 200, body = WarpAdvisoryDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn update_warp_advisory(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<WarpAdvisoryInputDto>,
) -> Result<Json<WarpAdvisoryDto>, ApiError> {
    actions::for_change(&state, &user.actor(), id).await?;
    let draft = WarpAdvisoryInput::from(body).validate()?;
    let a = actions::update(&state, &user, id, &draft, &ip).await?;
    Ok(Json(dto(a, true)))
}

/// Submit a draft for review (its author).
#[utoipa::path(post, path = "/api/v1/warp-advisories/{id}/submit", tag = "warp advisories",
    params(("id" = i64, Path, description = "WARP advisory id")),
    responses((status = 200, body = WarpAdvisoryDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody)))]
pub async fn submit_warp_advisory(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> Result<Json<WarpAdvisoryDto>, ApiError> {
    let a = actions::submit(&state, &user, id, &ip).await?;
    Ok(Json(dto(a, true)))
}

/// What the reviewer wants changed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewNoteDto {
    /// Required, at most 2000 characters.
    pub note: String,
}

/// Send an advisory in review back to its author with a note (another operator).
#[utoipa::path(post, path = "/api/v1/warp-advisories/{id}/request-changes", tag = "warp advisories", request_body = ReviewNoteDto,
    params(("id" = i64, Path, description = "WARP advisory id")),
    responses((status = 200, body = WarpAdvisoryDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn request_warp_advisory_changes(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ReviewNoteDto>,
) -> Result<Json<WarpAdvisoryDto>, ApiError> {
    let a = actions::request_changes(&state, &user, id, &body.note, &ip).await?;
    Ok(Json(dto(a, true)))
}

/// What publishing did.
#[derive(Serialize, ToSchema)]
pub struct PublishedDto {
    pub advisory: WarpAdvisoryDto,
    /// Organisations in the audience.
    pub organisations: usize,
    /// Alerts raised (one per organisation).
    pub alerts: u64,
    /// Immediate deliveries queued.
    pub deliveries: u64,
}

/// Publish an advisory in review (an operator other than its author): the
/// alerts to its audience are raised and queued in the same step.
#[utoipa::path(post, path = "/api/v1/warp-advisories/{id}/publish", tag = "warp advisories",
    params(("id" = i64, Path, description = "WARP advisory id")),
    responses((status = 200, body = PublishedDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody)))]
pub async fn publish_warp_advisory(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> Result<Json<PublishedDto>, ApiError> {
    let p = actions::publish(&state, &user, id, &ip).await?;
    Ok(Json(PublishedDto {
        advisory: dto(p.advisory, true),
        organisations: p.orgs,
        alerts: p.alerts,
        deliveries: p.deliveries,
    }))
}

/// Withdraw a published advisory (any operator).
#[utoipa::path(post, path = "/api/v1/warp-advisories/{id}/withdraw", tag = "warp advisories",
    params(("id" = i64, Path, description = "WARP advisory id")),
    responses((status = 200, body = WarpAdvisoryDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody)))]
pub async fn withdraw_warp_advisory(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> Result<Json<WarpAdvisoryDto>, ApiError> {
    let a = actions::withdraw(&state, &user, id, &ip).await?;
    Ok(Json(dto(a, true)))
}

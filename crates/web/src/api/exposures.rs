//! API handlers for a member's exposures, their status, and who is exposed
//! to an advisory.

use super::ApiJson;
use crate::AppState;
use crate::actions::{self, exposures};
use crate::auth::{ApiCaller, ClientIp};
use crate::error::{ApiError, ApiErrorBody, AppError};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use openwarp_core::OrgId;
use openwarp_matching::matcher::Evidence;
use openwarp_store::{Exposure, ExposureEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One statement from one source that bears on the item.
#[derive(Serialize, ToSchema)]
pub struct EvidenceDto {
    /// `nvd`, `cve5`, `kev`, `csaf` or `osv`.
    pub source: String,
    pub record_id: String,
    /// What the source says, as published.
    pub statement: String,
    /// Why it applies to this item, in words.
    pub why: String,
}

impl From<&Evidence> for EvidenceDto {
    fn from(e: &Evidence) -> Self {
        EvidenceDto {
            source: e.source.as_str().into(),
            record_id: e.record_id.clone(),
            statement: e.statement.clone(),
            why: e.why.clone(),
        }
    }
}

/// An advisory that affects an item of a member's inventory.
#[derive(Serialize, ToSchema)]
pub struct ExposureDto {
    pub id: i64,
    pub org_id: i64,
    pub item_id: i64,
    pub item_name: String,
    pub item_version: Option<String>,
    pub item_owner: Option<String>,
    pub vuln_id: String,
    pub title: String,
    /// `P1` (fix now) to `P4` (normal patch cycle).
    pub priority: String,
    /// The priority with its reasons: "P1 because …".
    pub reason: String,
    pub reasons: Vec<String>,
    /// The plain-English line.
    pub line: String,
    /// `affected`, `version_unknown`, `not_affected` (cleared by VEX) or `no_longer_matches`.
    pub verdict: String,
    /// False once cleared or no longer matching.
    pub active: bool,
    /// One of `new`, `assessing`, `action_in_progress`, `mitigated`, `not_affected`, `risk_accepted`.
    pub status: String,
    pub status_by: Option<String>,
    pub status_at: Option<DateTime<Utc>>,
    pub first_seen: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
    pub cvss_score: Option<f64>,
    pub severity: Option<String>,
    pub kev: bool,
    pub epss_percentile: Option<f64>,
    pub evidence: Vec<EvidenceDto>,
    /// VEX statements clearing the item's version.
    pub cleared_by: Vec<EvidenceDto>,
    pub remedy: Option<String>,
}

impl From<&Exposure> for ExposureDto {
    fn from(x: &Exposure) -> Self {
        ExposureDto {
            id: x.id,
            org_id: x.org_id,
            item_id: x.item_id,
            item_name: x.item_name.clone(),
            item_version: x.item_version.clone(),
            item_owner: x.item_owner.clone(),
            vuln_id: x.vuln_id.clone(),
            title: x.title.clone(),
            priority: x.priority.as_str().into(),
            reason: x.reason_sentence(),
            reasons: x.reasons.clone(),
            line: x.line.clone(),
            verdict: x.verdict.clone(),
            active: x.active,
            status: x.status.as_str().into(),
            status_by: x.status_by.clone(),
            status_at: x.status_at,
            first_seen: x.first_seen,
            changed_at: x.changed_at,
            cvss_score: x.cvss_score,
            severity: x.severity.clone(),
            kev: x.kev,
            epss_percentile: x.epss_percentile,
            evidence: x.finding.evidence.iter().map(EvidenceDto::from).collect(),
            cleared_by: x.finding.cleared_by.iter().map(EvidenceDto::from).collect(),
            remedy: x.finding.remedy.clone(),
        }
    }
}

/// One step in an exposure's history.
#[derive(Serialize, ToSchema)]
pub struct ExposureEventDto {
    pub at: DateTime<Utc>,
    /// `found`, `changed`, `cleared` or `status`.
    pub kind: String,
    /// For `status` events, the status set.
    pub status: Option<String>,
    pub detail: String,
    /// Who did it; absent for the matcher.
    pub by: Option<String>,
}

impl From<&ExposureEvent> for ExposureEventDto {
    fn from(e: &ExposureEvent) -> Self {
        ExposureEventDto {
            at: e.at,
            kind: e.kind.clone(),
            status: e.status.clone(),
            detail: e.detail.clone(),
            by: e.by.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ExposureDetailDto {
    pub exposure: ExposureDto,
    /// Newest first.
    pub events: Vec<ExposureEventDto>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    priority: String,
    status: String,
    include_inactive: String,
    limit: String,
    offset: String,
}

/// The most exposures one answer holds, and how many unless `limit` says.
/// The default is the maximum so that clients written before paging still
/// get every exposure they got then.
const MAX_LIMIT: i64 = openwarp_store::MAX_EXPOSURES;

/// A whole number from `min` to `max` in field `name`, or `default` when absent.
fn bounded(name: &str, value: &str, default: i64, min: i64, max: i64) -> Result<i64, String> {
    match value.trim() {
        "" => Ok(default),
        v => v
            .parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| format!("{name}: '{v}' is not a whole number from {min} to {max}")),
    }
}

/// The header carrying how many exposures match the filters in all.
pub const TOTAL_COUNT: &str = "x-total-count";

/// An organisation's exposures, most urgent first, a page at a time.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/exposures", tag = "exposure",
    params(("id" = i64, Path, description = "Organisation id"),
           ("priority" = Option<String>, Query, description = "Only this priority: P1, P2, P3 or P4"),
           ("status" = Option<String>, Query, description = "Only this status, e.g. new"),
           ("include_inactive" = Option<bool>, Query, description = "Include exposures cleared by VEX or no longer matching"),
           ("limit" = Option<i64>, Query, description = "At most this many exposures, 1 to 2000 (default 2000)"),
           ("offset" = Option<i64>, Query, description = "Skip this many first (default 0); with `limit`, pages through the list")),
    responses((status = 200, body = [ExposureDto],
               headers(("X-Total-Count" = i64, description = "How many exposures match the filters in all, whatever `limit` and `offset` say"))),
              (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn list_exposures(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    let org = actions::visible_org(&state, &user.actor(), OrgId(id)).await?;
    let q: ListQuery = raw
        .as_deref()
        .map(serde_urlencoded::from_str)
        .transpose()
        .map_err(|e| AppError::BadRequest(format!("the query could not be read: {e}")))?
        .unwrap_or_default();
    let (filter, mut problems) = exposures::filter(&q.priority, &q.status, &q.include_inactive);
    let limit = bounded("limit", &q.limit, MAX_LIMIT, 1, MAX_LIMIT).unwrap_or_else(|p| {
        problems.push(p);
        MAX_LIMIT
    });
    let offset = bounded("offset", &q.offset, 0, 0, i64::from(i32::MAX)).unwrap_or_else(|p| {
        problems.push(p);
        0
    });
    if !problems.is_empty() {
        return Err(AppError::BadRequest(problems.join("; ")).into());
    }
    let page = state
        .store
        .list_exposures_page(org.id, &filter, limit, offset)
        .await?;
    Ok((
        [(TOTAL_COUNT, page.total.to_string())],
        Json(page.rows.iter().map(ExposureDto::from).collect::<Vec<_>>()),
    ))
}

/// One exposure with its evidence and history.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/exposures/{x}", tag = "exposure",
    params(("id" = i64, Path, description = "Organisation id"), ("x" = i64, Path, description = "Exposure id")),
    responses((status = 200, body = ExposureDetailDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_exposure(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path((id, x)): Path<(i64, i64)>,
) -> Result<Json<ExposureDetailDto>, ApiError> {
    let org = actions::visible_org(&state, &user.actor(), OrgId(id)).await?;
    let (exposure, events) = exposures::exposure(&state, org.id, x).await?;
    Ok(Json(ExposureDetailDto {
        exposure: ExposureDto::from(&exposure),
        events: events.iter().map(ExposureEventDto::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// One of `new`, `assessing`, `action_in_progress`, `mitigated`, `not_affected`, `risk_accepted`.
    pub status: String,
    /// What was done or decided, and why (at most 2000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

/// Record the organisation's decision on an exposure (its own users only).
#[utoipa::path(post, path = "/api/v1/orgs/{id}/exposures/{x}/status", tag = "exposure", request_body = StatusRequest,
    params(("id" = i64, Path, description = "Organisation id"), ("x" = i64, Path, description = "Exposure id")),
    responses((status = 200, body = ExposureDetailDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn set_status(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path((id, x)): Path<(i64, i64)>,
    ApiJson(body): ApiJson<StatusRequest>,
) -> Result<Json<ExposureDetailDto>, ApiError> {
    let org = OrgId(id);
    actions::require_record_editor(&user.actor(), org)?;
    let status = exposures::status(&body.status).map_err(|m| AppError::field("status", m))?;
    let note = exposures::note(body.note.as_deref().unwrap_or_default())
        .map_err(|m| AppError::field("note", m))?;
    exposures::set_status(&state, &user, org, x, status, note.as_deref(), &ip).await?;
    let (exposure, events) = exposures::exposure(&state, org, x).await?;
    Ok(Json(ExposureDetailDto {
        exposure: ExposureDto::from(&exposure),
        events: events.iter().map(ExposureEventDto::from).collect(),
    }))
}

/// A member exposed to an advisory (operators only see these).
#[derive(Serialize, ToSchema)]
pub struct ExposedMemberDto {
    pub org_id: i64,
    pub org_name: String,
    /// How many of its items are affected.
    pub items: i64,
    /// The most urgent priority among them.
    pub top_priority: String,
}

/// Who is exposed to an advisory. Operators get every exposed member;
/// members get only how many members are exposed, and their own exposures.
#[derive(Serialize, ToSchema)]
pub struct AdvisoryExposureDto {
    pub vuln_id: String,
    pub members_exposed: usize,
    /// Operators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<ExposedMemberDto>>,
    /// Members only: their own organisation's exposures to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yours: Option<Vec<ExposureDto>>,
}

/// Which members are exposed to an advisory (found by CVE id or alias).
#[utoipa::path(get, path = "/api/v1/advisories/{id}/exposure", tag = "exposure",
    params(("id" = String, Path, description = "CVE id or alias")),
    responses((status = 200, body = AdvisoryExposureDto), (status = 404, body = ApiErrorBody)))]
pub async fn advisory_exposure(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<AdvisoryExposureDto>, ApiError> {
    let vuln_id = state
        .store
        .resolve_vuln_id(id.trim())
        .await?
        .ok_or(AppError::NotFound("advisory"))?;
    let exposed = state.store.advisory_exposure(&vuln_id).await?;
    let members_exposed = exposed.len();
    let (members, yours) = match user.org_id {
        None => (
            Some(
                exposed
                    .into_iter()
                    .map(|e| ExposedMemberDto {
                        org_id: e.org_id,
                        org_name: e.org_name,
                        items: e.items,
                        top_priority: e.top_priority.as_str().into(),
                    })
                    .collect(),
            ),
            None,
        ),
        Some(org) => (None, Some(own_exposures(&state, org, &vuln_id).await?)),
    };
    Ok(Json(AdvisoryExposureDto {
        vuln_id,
        members_exposed,
        members,
        yours,
    }))
}

async fn own_exposures(
    state: &AppState,
    org: OrgId,
    vuln_id: &str,
) -> Result<Vec<ExposureDto>, AppError> {
    let mine = openwarp_store::ExposureFilter {
        vuln_id: Some(vuln_id.to_string()),
        ..openwarp_store::ExposureFilter::default()
    };
    Ok(state
        .store
        .list_exposures(org, &mine)
        .await?
        .iter()
        .map(ExposureDto::from)
        .collect())
}

//! API handlers for confidential incidents: the same rules as the pages
//! (through `actions::incidents`), the same 404 for an incident the caller
//! may not see and 403 for one they see but may not change this way.
//!
//! The full report and the sanitised version are different types: a
//! sanitised view is built only from the authorised shared version, so no
//! full-report field (reporter, organisation, supplier, affected services,
//! the full text) can reach someone who may read only that.

use super::ApiJson;
use crate::AppState;
use crate::actions::incidents::{
    self as actions, EscalationInput, IcoInput, LessonsInput, ListQuery, Listed, Seen, Warned,
};
use crate::auth::{ApiCaller, ApiUpload, ClientIp};
use crate::error::{ApiError, ApiErrorBody};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use openwarp_core::incident::{
    Attribution, IcoClock, IncidentInput, IncidentView, SanitisedInput, ico_clock,
};
use openwarp_store::{Incident, IncidentAccess, IncidentAttachment, IncidentEvent, now};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An indicator of compromise.
#[derive(Serialize, ToSchema)]
pub struct IndicatorDto {
    /// `ipv4`, `ipv6`, `domain`, `url`, `email`, `md5`, `sha1` or `sha256`.
    pub kind: String,
    pub value: String,
}

fn indicator_dtos(inc: &Incident) -> Vec<IndicatorDto> {
    inc.report
        .indicators
        .iter()
        .map(|i| IndicatorDto {
            kind: i.kind.as_str().into(),
            value: i.value.clone(),
        })
        .collect()
}

/// Where the ICO notification of a personal-data breach stands.
#[derive(Serialize, ToSchema)]
pub struct IcoDto {
    /// `running`, `overdue` or `notified`.
    pub state: String,
    /// 72 hours after the council became aware of it.
    pub deadline: DateTime<Utc>,
    /// While running: whole hours left; `warn` when under 24.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours_left: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warn: Option<bool>,
    /// When overdue: whole hours since the deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours_over: Option<i64>,
    /// Once told: when, how, their reference, and whether in time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_time: Option<bool>,
}

fn ico_dto(inc: &Incident) -> Option<IcoDto> {
    let r = &inc.report;
    let blank = |state: &str, deadline| IcoDto {
        state: state.into(),
        deadline,
        hours_left: None,
        warn: None,
        hours_over: None,
        notified_at: None,
        method: None,
        reference: None,
        on_time: None,
    };
    match ico_clock(r.personal_data, r.detected_at, inc.ico_notified_at, now()) {
        IcoClock::NotRequired => None,
        IcoClock::Running {
            deadline,
            hours_left,
            warn,
        } => Some(IcoDto {
            hours_left: Some(hours_left),
            warn: Some(warn),
            ..blank("running", deadline)
        }),
        IcoClock::Overdue {
            deadline,
            hours_over,
        } => Some(IcoDto {
            hours_over: Some(hours_over),
            ..blank("overdue", deadline)
        }),
        IcoClock::Notified {
            deadline,
            at,
            on_time,
        } => Some(IcoDto {
            notified_at: Some(at),
            method: inc.ico_method.clone(),
            reference: inc.ico_reference.clone(),
            on_time: Some(on_time),
            ..blank("notified", deadline)
        }),
    }
}

/// The sanitised version as the reporting organisation and operators see it.
#[derive(Serialize, ToSchema)]
pub struct SharedVersionDto {
    /// `proposed` (awaiting the reporting organisation's approval) or `shared`.
    pub state: String,
    pub title: String,
    pub summary: String,
    pub tlp: String,
    pub tlp_label: String,
    /// `anonymous` or `named`.
    pub attribution: String,
    /// How others see the reporting organisation named.
    pub attribution_text: String,
    pub share_indicators: bool,
    /// For AMBER and AMBER+STRICT: the organisations that need to know.
    pub recipient_orgs: Vec<i64>,
    /// For RED: the people it is for.
    pub recipient_users: Vec<i64>,
    pub shared_at: Option<DateTime<Utc>>,
}

/// A member warned because it lists the supplier the report names.
#[derive(Serialize, ToSchema)]
pub struct WarnedMemberDto {
    pub org_id: i64,
    pub org_name: String,
    pub warned_at: DateTime<Utc>,
}

/// The full report: for the reporting organisation and the WARP's operators.
#[derive(Serialize, ToSchema)]
pub struct FullIncidentDto {
    /// The incident's random id (`inc-…`).
    pub id: String,
    /// Always `full`.
    pub view: String,
    pub org_id: i64,
    pub org_name: String,
    pub reporter: Option<String>,
    pub title: String,
    pub summary: String,
    pub category: String,
    pub started_at: Option<DateTime<Utc>>,
    /// When the council became aware of it.
    pub detected_at: DateTime<Utc>,
    pub affected_services: String,
    pub supplier: Option<String>,
    pub personal_data: bool,
    /// `open`, `contained`, `resolved` or `closed`.
    pub status: String,
    pub indicators: Vec<IndicatorDto>,
    pub tlp: String,
    pub tlp_label: String,
    /// Present when personal data is involved.
    pub ico: Option<IcoDto>,
    /// `private`, `proposed` or `shared`.
    pub sharing: String,
    pub shared_version: Option<SharedVersionDto>,
    pub lessons: Option<String>,
    pub lessons_shared: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// On one incident naming a supplier: how many other members using it
    /// were warned (never who, except to operators: `warned_members`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members_warned: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warned_members: Option<Vec<WarnedMemberDto>>,
}

/// What other members see: only the version the reporter authorised.
#[derive(Serialize, ToSchema)]
pub struct SanitisedIncidentDto {
    pub id: String,
    /// Always `sanitised`.
    pub view: String,
    pub title: String,
    pub summary: String,
    pub category: String,
    /// The shared version's label.
    pub tlp: String,
    pub tlp_label: String,
    /// "a district or borough council in …", or the council's name when
    /// the reporter allowed it.
    pub attribution: String,
    /// The day the council became aware of it.
    pub detected_on: NaiveDate,
    pub shared_on: Option<NaiveDate>,
    /// Only when the reporter shared them.
    pub indicators: Vec<IndicatorDto>,
    /// Only when the reporter shared them.
    pub lessons: Option<String>,
}

/// One incident, in the version the caller may read.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum IncidentDto {
    Full(Box<FullIncidentDto>),
    Sanitised(Box<SanitisedIncidentDto>),
}

/// Lessons learnt shared with every member.
#[derive(Serialize, ToSchema)]
pub struct SharedLessonsDto {
    /// Present when the caller may also read the sanitised incident.
    pub id: Option<String>,
    pub category: String,
    pub attribution: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub lessons: String,
}

/// What the caller may see, newest first.
#[derive(Serialize, ToSchema)]
pub struct IncidentListDto {
    /// The caller's organisation's incidents in full (operators: every
    /// one), then those shared with them, sanitised.
    pub incidents: Vec<IncidentDto>,
    /// Lessons learnt shared with every member, from incidents the caller
    /// does not read in full.
    pub lessons: Vec<SharedLessonsDto>,
}

fn full_dto(inc: &Incident, region: &str) -> FullIncidentDto {
    let r = &inc.report;
    FullIncidentDto {
        id: inc.public_id.clone(),
        view: "full".into(),
        org_id: inc.org_id.0,
        org_name: inc.org_name.clone(),
        reporter: inc.reporter_name.clone(),
        title: r.title.clone(),
        summary: r.summary.clone(),
        category: r.category.as_str().into(),
        started_at: r.started_at,
        detected_at: r.detected_at,
        affected_services: r.affected_services.clone(),
        supplier: r.supplier.clone(),
        personal_data: r.personal_data,
        status: r.status.as_str().into(),
        indicators: indicator_dtos(inc),
        tlp: r.tlp.as_str().into(),
        tlp_label: r.tlp.label().into(),
        ico: ico_dto(inc),
        sharing: inc.sharing.as_str().into(),
        shared_version: inc.shared.as_ref().map(|s| SharedVersionDto {
            state: inc.sharing.as_str().into(),
            title: s.title.clone(),
            summary: s.summary.clone(),
            tlp: s.tlp.as_str().into(),
            tlp_label: s.tlp.label().into(),
            attribution: match s.attribution {
                Attribution::Anonymous => "anonymous".into(),
                Attribution::Named => "named".into(),
            },
            attribution_text: openwarp_core::incident::attribution_text(
                s.attribution,
                &inc.org_name,
                inc.council_type,
                region,
            ),
            share_indicators: s.share_indicators,
            recipient_orgs: s.recipient_orgs.iter().map(|o| o.0).collect(),
            recipient_users: s.recipient_users.iter().map(|u| u.0).collect(),
            shared_at: s.shared_at,
        }),
        lessons: inc.lessons.clone(),
        lessons_shared: inc.lessons_shared,
        created_at: inc.created_at,
        updated_at: inc.updated_at,
        closed_at: inc.closed_at,
        members_warned: None,
        warned_members: None,
    }
}

/// Built from the shared version only.
fn sanitised_dto(inc: &Incident, region: &str) -> SanitisedIncidentDto {
    let s = inc.shared.as_ref();
    SanitisedIncidentDto {
        id: inc.public_id.clone(),
        view: "sanitised".into(),
        title: s.map(|s| s.title.clone()).unwrap_or_default(),
        summary: s.map(|s| s.summary.clone()).unwrap_or_default(),
        category: inc.report.category.as_str().into(),
        tlp: s.map_or("red", |s| s.tlp.as_str()).into(),
        tlp_label: s.map_or("TLP:RED", |s| s.tlp.label()).into(),
        attribution: inc.attribution(region),
        detected_on: inc.report.detected_at.date_naive(),
        shared_on: s.and_then(|s| s.shared_at).map(|t| t.date_naive()),
        indicators: if s.is_some_and(|s| s.share_indicators) {
            indicator_dtos(inc)
        } else {
            Vec::new()
        },
        lessons: if inc.lessons_shared {
            inc.lessons.clone()
        } else {
            None
        },
    }
}

fn dto(inc: &Incident, view: IncidentView, region: &str) -> IncidentDto {
    match view {
        IncidentView::Full => IncidentDto::Full(Box::new(full_dto(inc, region))),
        IncidentView::Sanitised => IncidentDto::Sanitised(Box::new(sanitised_dto(inc, region))),
    }
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
pub struct IncidentListQuery {
    /// Words that must all appear in the version you may read.
    pub q: String,
    /// Operators: one organisation's incidents (its id).
    pub org: String,
    /// `open`, `contained`, `resolved` or `closed`.
    pub status: String,
    /// `private`, `proposed` or `shared`.
    pub sharing: String,
}

/// Incidents the caller may see, newest first: their organisation's in full
/// (operators: every one), those shared with them as sanitised versions,
/// and lessons learnt shared with every member. `q` searches only the
/// version the caller may read.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents",
    params(IncidentListQuery),
    responses((status = 200, body = IncidentListDto), (status = 400, body = ApiErrorBody)))]
pub async fn list_incidents(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Query(q): Query<IncidentListQuery>,
) -> Result<Json<IncidentListDto>, ApiError> {
    let actor = user.actor();
    let org = if actor.is_operator() {
        q.org.as_str()
    } else {
        ""
    };
    let query = ListQuery::parse(&q.q, org, &q.status, &q.sharing)?;
    let listing = actions::list(&state, &actor, &query).await?;
    let region = actions::region(&state);
    let mut incidents: Vec<IncidentDto> = listing
        .own
        .iter()
        .map(|i| dto(i, IncidentView::Full, region))
        .collect();
    incidents.extend(
        listing
            .shared
            .iter()
            .map(|i| dto(i, IncidentView::Sanitised, region)),
    );
    let lessons = listing
        .lessons
        .iter()
        .map(|i| SharedLessonsDto {
            id: (actions::listed(&actor, i) == Some(Listed::Sanitised))
                .then(|| i.public_id.clone()),
            category: i.report.category.as_str().into(),
            attribution: actions::lessons_attribution(&actor, i, region),
            closed_at: i.closed_at,
            lessons: i.lessons.clone().unwrap_or_default(),
        })
        .collect();
    Ok(Json(IncidentListDto { incidents, lessons }))
}

/// A report as a client sends it. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentInputDto {
    pub title: String,
    /// What happened.
    pub summary: String,
    /// `ransomware`, `phishing_bec`, `ddos`, `data_breach`,
    /// `account_compromise`, `malware`, `supplier_compromise` or `other`.
    pub category: String,
    /// When it started (`2026-11-20T22:15`, UTC, or RFC 3339); optional.
    #[serde(default)]
    pub started_at: String,
    /// When the council became aware of it; not in the future.
    pub detected_at: String,
    #[serde(default)]
    pub affected_services: String,
    /// The supplier or shared service involved: other members listing it
    /// are warned at once, anonymously.
    #[serde(default)]
    pub supplier: String,
    #[serde(default)]
    pub personal_data: bool,
    /// Default `open`.
    #[serde(default)]
    pub status: String,
    /// IP addresses, domains, URLs, e-mail addresses, MD5/SHA-1/SHA-256 hashes.
    #[serde(default)]
    pub indicators: Vec<String>,
    /// `clear`, `green`, `amber`, `amber_strict` or `red` (or `TLP:AMBER+STRICT`…).
    pub tlp: String,
}

impl From<IncidentInputDto> for IncidentInput {
    fn from(d: IncidentInputDto) -> Self {
        IncidentInput {
            title: d.title,
            summary: d.summary,
            category: d.category,
            started_at: d.started_at,
            detected_at: d.detected_at,
            affected_services: d.affected_services,
            supplier: d.supplier,
            personal_data: d.personal_data,
            status: d.status,
            indicators: d.indicators,
            tlp: d.tlp,
        }
    }
}

/// Report an incident (members' users; operators 403). Other members
/// listing the named supplier are warned at once, without naming you.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = IncidentInputDto,
    responses((status = 201, body = FullIncidentDto), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_incident(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<IncidentInputDto>,
) -> Result<(StatusCode, Json<FullIncidentDto>), ApiError> {
    let inc = actions::report(&state, &user, &IncidentInput::from(body), &ip).await?;
    Ok((
        StatusCode::CREATED,
        Json(full_dto(&inc, actions::region(&state))),
    ))
}

async fn with_warnings(
    state: &AppState,
    user: &openwarp_store::User,
    seen: &Seen,
) -> Result<IncidentDto, ApiError> {
    let region = actions::region(state);
    if !seen.full() {
        return Ok(dto(&seen.incident, seen.view, region));
    }
    let mut full = full_dto(&seen.incident, region);
    match actions::warned(state, &user.actor(), seen).await? {
        Warned::Organisations(w) => {
            full.members_warned = Some(w.len());
            full.warned_members = Some(
                w.into_iter()
                    .map(|w| WarnedMemberDto {
                        org_id: w.org_id,
                        org_name: w.org_name,
                        warned_at: w.at,
                    })
                    .collect(),
            );
        }
        Warned::Count(n) => full.members_warned = Some(n),
        Warned::Nothing => {}
    }
    Ok(IncidentDto::Full(Box::new(full)))
}

/// One incident: the full report (the reporting organisation, operators)
/// or the sanitised version shared with the caller; 404 otherwise. Every
/// read is recorded.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents",
    params(("id" = String, Path, description = "Incident id (inc-…)")),
    responses((status = 200, body = IncidentDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_incident(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Json<IncidentDto>, ApiError> {
    let seen = actions::read(&state, &user, &id, &ip).await?;
    Ok(Json(with_warnings(&state, &user, &seen).await?))
}

/// Replace the report (the reporting organisation; operators 403).
#[utoipa::path(put, path = "/api/v1/incidents/{id}", tag = "incidents", request_body = IncidentInputDto,
    params(("id" = String, Path, description = "Incident id (inc-…)")),
    responses((status = 200, body = FullIncidentDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn update_incident(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<IncidentInputDto>,
) -> Result<Json<FullIncidentDto>, ApiError> {
    let inc = actions::update(&state, &user, &id, &IncidentInput::from(body), &ip).await?;
    Ok(Json(full_dto(&inc, actions::region(&state))))
}

/// A referral.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationDto {
    /// `ncsc`, `rocu`, `action_fraud`, `ico`, `supplier`, `police` or `other`.
    pub target: String,
    /// When (UTC); default now; not in the future.
    #[serde(default)]
    pub at: String,
    /// Their reference, ≤ 200 characters.
    #[serde(default)]
    pub reference: String,
    /// ≤ 2000 characters.
    #[serde(default)]
    pub note: String,
}

/// One timeline entry.
#[derive(Serialize, ToSchema)]
pub struct IncidentEventDto {
    pub at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub by: Option<String>,
    /// `reported`, `updated`, `status`, `escalation`, `ico`, `sharing`,
    /// `lessons`, `warning` or `note`.
    pub kind: String,
    pub target: Option<String>,
    pub reference: Option<String>,
    pub detail: String,
}

impl From<IncidentEvent> for IncidentEventDto {
    fn from(e: IncidentEvent) -> Self {
        IncidentEventDto {
            at: e.at,
            recorded_at: e.recorded_at,
            by: e.by,
            kind: e.kind,
            target: e.target,
            reference: e.reference,
            detail: e.detail,
        }
    }
}

/// Log a referral (the reporting organisation, operators); answers the timeline.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/escalations", tag = "incidents", request_body = EscalationDto,
    params(("id" = String, Path, description = "Incident id (inc-…)")),
    responses((status = 201, body = [IncidentEventDto]), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn log_escalation(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EscalationDto>,
) -> Result<(StatusCode, Json<Vec<IncidentEventDto>>), ApiError> {
    let input = EscalationInput {
        target: body.target,
        at: body.at,
        reference: body.reference,
        note: body.note,
    };
    actions::log_escalation(&state, &user, &id, &input, &ip).await?;
    let timeline = state.store.incident_timeline(&id).await?;
    Ok((
        StatusCode::CREATED,
        Json(timeline.into_iter().map(IncidentEventDto::from).collect()),
    ))
}

/// How and when the ICO was told.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IcoNotificationDto {
    /// When (UTC); default now; not in the future.
    #[serde(default)]
    pub at: String,
    /// How, e.g. "online breach report form"; required.
    pub method: String,
    /// The ICO's case reference.
    #[serde(default)]
    pub reference: String,
}

/// Record the ICO notification (the reporting organisation).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/ico", tag = "incidents", request_body = IcoNotificationDto,
    params(("id" = String, Path, description = "Incident id (inc-…)")),
    responses((status = 200, body = FullIncidentDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn record_ico(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<IcoNotificationDto>,
) -> Result<Json<FullIncidentDto>, ApiError> {
    let input = IcoInput {
        at: body.at,
        method: body.method,
        reference: body.reference,
    };
    let inc = actions::record_ico(&state, &user, &id, &input, &ip).await?;
    Ok(Json(full_dto(&inc, actions::region(&state))))
}

/// A sanitised version: what may leave the room.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SanitisedInputDto {
    pub title: String,
    pub summary: String,
    /// The shared version's own label.
    pub tlp: String,
    /// `anonymous` (default) or `named`.
    #[serde(default)]
    pub attribution: String,
    #[serde(default)]
    pub share_indicators: bool,
    /// Required for `amber` and `amber_strict`: organisation ids.
    #[serde(default)]
    pub recipient_orgs: Vec<i64>,
    /// Required for `red`: user ids.
    #[serde(default)]
    pub recipient_users: Vec<i64>,
}

/// Write the sanitised version: the reporter or their member lead shares it
/// at once (`sharing` = `shared`); an operator or colleague proposes it
/// (`proposed`) for their approval.
#[utoipa::path(put, path = "/api/v1/incidents/{id}/sanitised", tag = "incidents", request_body = SanitisedInputDto,
    params(("id" = String, Path, description = "Incident id (inc-…)")),
    responses((status = 200, body = FullIncidentDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn put_sanitised(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SanitisedInputDto>,
) -> Result<Json<FullIncidentDto>, ApiError> {
    let input = SanitisedInput {
        title: body.title,
        summary: body.summary,
        tlp: body.tlp,
        attribution: body.attribution,
        share_indicators: body.share_indicators,
        recipient_orgs: body.recipient_orgs,
        recipient_users: body.recipient_users,
    };
    let inc = actions::set_sanitised(&state, &user, &id, &input, &ip).await?;
    Ok(Json(full_dto(&inc, actions::region(&state))))
}

/// Approve a proposed sanitised version, sharing it (the reporter or their
/// member lead; 409 when nothing is proposed).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/sanitised/approve", tag = "incidents",
    params(("id" = String, Path, description = "Incident id (inc-…)")),
    responses((status = 200, body = FullIncidentDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody)))]
pub async fn approve_sanitised(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Json<FullIncidentDto>, ApiError> {
    let inc = actions::approve(&state, &user, &id, &ip).await?;
    Ok(Json(full_dto(&inc, actions::region(&state))))
}

/// Stop sharing or refuse a proposal (the reporter or their member lead;
/// 409 when nothing is shared or proposed).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/sharing/withdraw", tag = "incidents",
    params(("id" = String, Path, description = "Incident id (inc-…)")),
    responses((status = 200, body = FullIncidentDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody)))]
pub async fn withdraw_sharing(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Json<FullIncidentDto>, ApiError> {
    let inc = actions::withdraw(&state, &user, &id, &ip).await?;
    Ok(Json(full_dto(&inc, actions::region(&state))))
}

/// Lessons learnt.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LessonsDto {
    pub lessons: String,
    /// Share them with every member (the reporter or their member lead decide).
    #[serde(default)]
    pub share: bool,
}

/// Record lessons learnt once the incident is closed (409 before).
#[utoipa::path(put, path = "/api/v1/incidents/{id}/lessons", tag = "incidents", request_body = LessonsDto,
    params(("id" = String, Path, description = "Incident id (inc-…)")),
    responses((status = 200, body = FullIncidentDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn put_lessons(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LessonsDto>,
) -> Result<Json<FullIncidentDto>, ApiError> {
    let input = LessonsInput {
        lessons: body.lessons,
        share: body.share,
    };
    let inc = actions::set_lessons(&state, &user, &id, &input, &ip).await?;
    Ok(Json(full_dto(&inc, actions::region(&state))))
}

/// The timeline, oldest first (those who read the full report; 403 for a
/// sanitised reader).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/timeline", tag = "incidents",
    params(("id" = String, Path, description = "Incident id (inc-…)")),
    responses((status = 200, body = [IncidentEventDto]), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn get_timeline(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Json<Vec<IncidentEventDto>>, ApiError> {
    let t = actions::timeline(&state, &user, &id, &ip).await?;
    Ok(Json(t.into_iter().map(IncidentEventDto::from).collect()))
}

/// One read or change of an incident.
#[derive(Serialize, ToSchema)]
pub struct IncidentAccessDto {
    pub at: DateTime<Utc>,
    /// Who: name and e-mail address.
    pub actor: String,
    /// `read`, `export`, `read_timeline`, `read_audit`, `report`, `update`,
    /// `escalation`, `ico`, `share`, `share_propose`, `share_approve`,
    /// `share_withdraw`, `lessons`, `attachment_list`, `attachment_read`,
    /// `attachment_add`, `attachment_delete`.
    pub action: String,
    /// `full` or `sanitised`.
    pub view: String,
    pub ip: Option<String>,
}

impl From<IncidentAccess> for IncidentAccessDto {
    fn from(a: IncidentAccess) -> Self {
        IncidentAccessDto {
            at: a.at,
            actor: a.actor,
            action: a.action,
            view: a.view,
            ip: a.ip,
        }
    }
}

/// Who read and changed the incident, newest first (operators and the
/// reporting organisation's member lead).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/audit", tag = "incidents",
    params(("id" = String, Path, description = "Incident id (inc-…)")),
    responses((status = 200, body = [IncidentAccessDto]), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn get_audit(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Json<Vec<IncidentAccessDto>>, ApiError> {
    let (_, log) = actions::access_log(&state, &user, &id, &ip).await?;
    Ok(Json(log.into_iter().map(IncidentAccessDto::from).collect()))
}

/// The incident as a STIX 2.1 bundle (`application/stix+json;version=2.1`):
/// identity, incident, indicators, relationships, lessons learnt as a note,
/// TLP 2.0 marking definitions — in the version the caller may read, or
/// `edition=sanitised` for what other members receive.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/stix", tag = "incidents",
    params(("id" = String, Path, description = "Incident id (inc-…)"),
           ("edition" = Option<String>, Query, description = "`full` or `sanitised`; default: the version you may read")),
    responses((status = 200, description = "A STIX 2.1 bundle", content_type = "application/stix+json;version=2.1"),
              (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn get_stix(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<crate::stix_export::ExportQuery>,
) -> Result<axum::response::Response, ApiError> {
    Ok(crate::stix_export::respond(&state, &user, &id, &q, &ip).await?)
}

// ------------------------------------------------------- evidence files

/// An evidence file attached to an incident (part of the full report).
#[derive(Serialize, ToSchema)]
pub struct AttachmentDto {
    /// Attachment id (`att-…`), valid only with its incident's id.
    pub id: String,
    pub file_name: String,
    /// The media type as uploaded. Downloads are served as
    /// `application/octet-stream` unless it is a raster image, `text/plain`
    /// or `application/pdf`.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    /// Who uploaded it (name), if their account still exists.
    pub uploaded_by: Option<String>,
    pub uploaded_at: DateTime<Utc>,
    /// Where to download it (with the same bearer token).
    pub download: String,
}

fn attachment_dto(incident: &str, a: IncidentAttachment) -> AttachmentDto {
    AttachmentDto {
        download: format!("/api/v1/incidents/{incident}/attachments/{}", a.public_id),
        id: a.public_id,
        file_name: a.file_name,
        content_type: a.content_type,
        size: a.size,
        sha256: a.sha256,
        uploaded_by: a.uploader_name,
        uploaded_at: a.uploaded_at,
    }
}

/// The upload form: one file in the field `file`, with its file name.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the request body only
pub struct AttachmentUpload {
    /// The file (at most 10 MB), sent with a `filename` and, ideally, its
    /// `Content-Type`.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The incident's evidence files, oldest first (those who read the full
/// report; 404 for everyone else, as for an incident that does not exist).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/attachments", tag = "incidents",
    params(("id" = String, Path, description = "Incident id (inc-…)")),
    responses((status = 200, body = [AttachmentDto]), (status = 404, body = ApiErrorBody)))]
pub async fn list_attachments(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Json<Vec<AttachmentDto>>, ApiError> {
    let list = actions::attachments(&state, &user, &id, &ip).await?;
    Ok(Json(
        list.into_iter().map(|a| attachment_dto(&id, a)).collect(),
    ))
}

/// Attach an evidence file (the reporting organisation; operators 403):
/// `multipart/form-data` with the file in the field `file`, at most 10 MB.
/// An empty file, a file name with folder parts or control characters, or
/// a missing file name is a 422; too large a 413. Nothing is stored then.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/attachments", tag = "incidents",
    params(("id" = String, Path, description = "Incident id (inc-…)")),
    request_body(content = AttachmentUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 413, body = ApiErrorBody), (status = 415, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn upload_attachment(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    ApiUpload(file): ApiUpload,
) -> Result<(StatusCode, Json<AttachmentDto>), ApiError> {
    crate::limits::check(
        &state,
        crate::limits::UPLOADS,
        &crate::limits::user(user.id),
    )
    .await?;
    let a = actions::add_attachment(&state, &user, &id, file, &ip).await?;
    Ok((StatusCode::CREATED, Json(attachment_dto(&id, a))))
}

/// Download an evidence file: its bytes, as an attachment (`Content-Disposition`
/// with the RFC 5987 file name), `X-Content-Type-Options: nosniff`, a
/// sandboxing `Content-Security-Policy` and `Cache-Control: private, no-store`.
/// Recorded and audited.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/attachments/{aid}", tag = "incidents",
    params(("id" = String, Path, description = "Incident id (inc-…)"),
           ("aid" = String, Path, description = "Attachment id (att-…)")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
              (status = 404, body = ApiErrorBody)))]
pub async fn get_attachment(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path((id, aid)): Path<(String, String)>,
) -> Result<axum::response::Response, ApiError> {
    let file = actions::attachment(&state, &user, &id, &aid, &ip).await?;
    Ok(actions::download(file))
}

/// Delete an evidence file (the reporting organisation; operators 403).
#[utoipa::path(delete, path = "/api/v1/incidents/{id}/attachments/{aid}", tag = "incidents",
    params(("id" = String, Path, description = "Incident id (inc-…)"),
           ("aid" = String, Path, description = "Attachment id (att-…)")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn delete_attachment(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path((id, aid)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    actions::delete_attachment(&state, &user, &id, &aid, &ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

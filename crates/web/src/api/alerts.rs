//! API handlers for alerts: the caller's own subscription, an organisation's
//! defaults and webhooks, the alert history with deliveries, and the
//! operators' delivery list and retries. Same rules as the pages (they share
//! [`crate::actions::alerts`]).

use super::ApiJson;
use crate::AppState;
use crate::actions::{self, alerts};
use crate::auth::{ApiCaller, ClientIp};
use crate::error::{ApiError, ApiErrorBody, AppError};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use openwarp_core::{OrgId, ValidationErrors};
use openwarp_matching::alert::{DigestFrequency, OrgDefaults, Preferences, UserChoices};
use openwarp_matching::priority::Priority;
use openwarp_store::{
    Alert, DeliveryCounts, DeliveryFilter, DeliveryRow, Subscription, User, Webhook,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

fn threshold(p: Option<Priority>) -> String {
    p.map_or(alerts::NONE, Priority::as_str).to_string()
}

/// An organisation's defaults for its named users.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertDefaultsDto {
    /// Immediate alerts at this priority or more urgent: `P1`–`P4`, or `none`.
    pub immediate_min: String,
    /// `daily`, `weekly` or `off`.
    pub digest: String,
}

impl From<&OrgDefaults> for AlertDefaultsDto {
    fn from(d: &OrgDefaults) -> Self {
        AlertDefaultsDto {
            immediate_min: threshold(d.immediate_min),
            digest: d.digest.as_str().into(),
        }
    }
}

/// A user's own choices; `default` follows the organisation's defaults.
#[derive(Serialize, ToSchema)]
pub struct ChoicesDto {
    /// `default`, `none`, or `P1`–`P4`.
    pub immediate_min: String,
    /// `default`, `daily`, `weekly` or `off`.
    pub digest: String,
    /// Only alerts naming one of these vendors or products; empty = all.
    pub filters: Vec<String>,
    pub paused: bool,
    /// Unsubscribed by the one-click link in an e-mail.
    pub unsubscribed: bool,
}

impl From<&UserChoices> for ChoicesDto {
    fn from(c: &UserChoices) -> Self {
        ChoicesDto {
            immediate_min: match c.immediate_min {
                None => alerts::DEFAULT.into(),
                Some(p) => threshold(p),
            },
            digest: c
                .digest
                .map_or(alerts::DEFAULT, DigestFrequency::as_str)
                .into(),
            filters: c.filters.clone(),
            paused: c.paused,
            unsubscribed: c.unsubscribed,
        }
    }
}

/// What the user receives, every default applied.
#[derive(Serialize, ToSchema)]
pub struct EffectiveDto {
    /// `P1`–`P4` or `none`.
    pub immediate_min: String,
    /// `daily`, `weekly` or `off`.
    pub digest: String,
    pub filters: Vec<String>,
    /// Paused or unsubscribed: nothing is sent.
    pub silenced: bool,
}

impl From<&Preferences> for EffectiveDto {
    fn from(p: &Preferences) -> Self {
        EffectiveDto {
            immediate_min: threshold(p.immediate_min),
            digest: p.digest.as_str().into(),
            filters: p.filters.clone(),
            silenced: p.silenced,
        }
    }
}

/// The caller's subscription.
#[derive(Serialize, ToSchema)]
pub struct SubscriptionDto {
    pub user_id: i64,
    /// Where alerts are e-mailed.
    pub email: String,
    pub own: ChoicesDto,
    pub organisation_defaults: AlertDefaultsDto,
    pub effective: EffectiveDto,
}

impl SubscriptionDto {
    fn new(user: &User, s: &Subscription) -> SubscriptionDto {
        SubscriptionDto {
            user_id: s.user_id,
            email: user.email.clone(),
            own: (&s.own).into(),
            organisation_defaults: (&s.defaults).into(),
            effective: (&s.effective).into(),
        }
    }
}

fn default_choice() -> String {
    alerts::DEFAULT.into()
}

/// The caller's own choices, replacing the previous ones.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRequest {
    /// `default` (the organisation's; the default), `none`, or `P1`–`P4`.
    #[serde(default = "default_choice")]
    pub immediate_min: String,
    /// `default` (the default), `daily`, `weekly` or `off`.
    #[serde(default = "default_choice")]
    pub digest: String,
    /// Vendor or product words (at most 50, each at most 100 characters).
    #[serde(default)]
    pub filters: Vec<String>,
    #[serde(default)]
    pub paused: bool,
    /// `false` subscribes again after a one-click unsubscribe, `true`
    /// unsubscribes; omitted keeps the current state.
    #[serde(default)]
    pub unsubscribed: Option<bool>,
}

/// The caller's alert subscription (members' named users).
#[utoipa::path(get, path = "/api/v1/account/alerts", tag = "alerts",
    responses((status = 200, body = SubscriptionDto), (status = 403, body = ApiErrorBody)))]
pub async fn get_subscription(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
) -> Result<Json<SubscriptionDto>, ApiError> {
    alerts::require_member(&user)?;
    let s = state.store.subscription(user.id).await?;
    Ok(Json(SubscriptionDto::new(&user, &s)))
}

/// Replace the caller's own alert choices.
#[utoipa::path(put, path = "/api/v1/account/alerts", tag = "alerts", request_body = SubscriptionRequest,
    responses((status = 200, body = SubscriptionDto), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn put_subscription(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<SubscriptionRequest>,
) -> Result<Json<SubscriptionDto>, ApiError> {
    alerts::require_member(&user)?;
    let mut errors = ValidationErrors::new();
    let immediate_min = alerts::immediate_choice(&body.immediate_min)
        .map_err(|m| errors.add("immediate_min", m))
        .ok();
    let digest = alerts::digest_choice(&body.digest)
        .map_err(|m| errors.add("digest", m))
        .ok();
    let filters = alerts::filters(body.filters.iter().map(String::as_str))
        .map_err(|m| errors.add("filters", m))
        .ok();
    let (Some(immediate_min), Some(digest), Some(filters)) = (immediate_min, digest, filters)
    else {
        return Err(AppError::Invalid(errors).into());
    };
    let unsubscribed = match body.unsubscribed {
        Some(u) => u,
        None => state.store.subscription(user.id).await?.own.unsubscribed,
    };
    let own = UserChoices {
        immediate_min,
        digest,
        filters,
        paused: body.paused,
        unsubscribed,
    };
    let s = alerts::save_subscription(&state, &user, &own, &ip).await?;
    Ok(Json(SubscriptionDto::new(&user, &s)))
}

/// An organisation's alert defaults (operators and that organisation's users).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/alert-defaults", tag = "alerts",
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = AlertDefaultsDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_defaults(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<AlertDefaultsDto>, ApiError> {
    let org = actions::visible_org(&state, &user.actor(), OrgId(id)).await?;
    Ok(Json((&state.store.alert_defaults(org.id).await?).into()))
}

/// Set an organisation's alert defaults (its member lead).
#[utoipa::path(put, path = "/api/v1/orgs/{id}/alert-defaults", tag = "alerts", request_body = AlertDefaultsDto,
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = AlertDefaultsDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn put_defaults(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AlertDefaultsDto>,
) -> Result<Json<AlertDefaultsDto>, ApiError> {
    let org = OrgId(id);
    alerts::require_settings_editor(&user.actor(), org)?;
    let mut errors = ValidationErrors::new();
    let immediate_min = alerts::immediate_default(&body.immediate_min)
        .map_err(|m| errors.add("immediate_min", m))
        .ok();
    let digest = alerts::digest_default(&body.digest)
        .map_err(|m| errors.add("digest", m))
        .ok();
    let (Some(immediate_min), Some(digest)) = (immediate_min, digest) else {
        return Err(AppError::Invalid(errors).into());
    };
    let defaults = OrgDefaults {
        immediate_min,
        digest,
    };
    alerts::set_defaults(&state, &user, org, &defaults, &ip).await?;
    Ok(Json((&state.store.alert_defaults(org).await?).into()))
}

/// A webhook alerts are posted to.
#[derive(Serialize, ToSchema)]
pub struct WebhookDto {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    /// The whole address for the organisation's member lead; others see
    /// only its scheme and host (Teams and Slack addresses hold a secret).
    pub url: String,
    /// `json`, `teams` or `slack`.
    pub format: String,
    /// Alerts at this priority or more urgent are posted: `P1`–`P4`.
    pub min_priority: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl WebhookDto {
    fn new(w: &Webhook, whole_url: bool) -> WebhookDto {
        WebhookDto {
            id: w.id,
            org_id: w.org_id,
            name: w.name.clone(),
            url: if whole_url {
                w.url.clone()
            } else {
                alerts::masked_url(&w.url)
            },
            format: w.format.as_str().into(),
            min_priority: w.min_priority.as_str().into(),
            active: w.active,
            created_at: w.created_at,
        }
    }
}

/// A webhook just added, with its signing secret (shown this once).
#[derive(Serialize, ToSchema)]
pub struct NewWebhookDto {
    pub webhook: WebhookDto,
    /// The HMAC-SHA256 key the receiver checks posts with.
    pub secret: String,
}

fn json_format() -> String {
    "json".into()
}

fn p1() -> String {
    "P1".into()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// At most 80 characters, unique within the organisation.
    pub name: String,
    /// `https://…`; `http://` only for 127.0.0.1 or localhost.
    pub url: String,
    /// `json` (the default), `teams` or `slack`.
    #[serde(default = "json_format")]
    pub format: String,
    /// `P1` (the default) to `P4`.
    #[serde(default = "p1")]
    pub min_priority: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookActiveRequest {
    pub active: bool,
}

/// An organisation's webhooks (operators and that organisation's users).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/webhooks", tag = "alerts",
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = [WebhookDto]), (status = 404, body = ApiErrorBody)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<WebhookDto>>, ApiError> {
    let actor = user.actor();
    let org = actions::visible_org(&state, &actor, OrgId(id)).await?;
    let whole = alerts::require_settings_editor(&actor, org.id).is_ok();
    let hooks = state.store.webhooks(org.id).await?;
    Ok(Json(
        hooks.iter().map(|w| WebhookDto::new(w, whole)).collect(),
    ))
}

/// Add a webhook (the organisation's member lead). The answer holds the
/// signing secret, shown this once.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/webhooks", tag = "alerts", request_body = WebhookRequest,
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 201, body = NewWebhookDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<WebhookRequest>,
) -> Result<(StatusCode, Json<NewWebhookDto>), ApiError> {
    let org = OrgId(id);
    alerts::require_settings_editor(&user.actor(), org)?;
    let hook = alerts::new_webhook(&body.name, &body.url, &body.format, &body.min_priority)?;
    let w = alerts::add_webhook(&state, &user, org, &hook, &ip).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewWebhookDto {
            webhook: WebhookDto::new(&w, true),
            secret: w.secret,
        }),
    ))
}

/// Switch a webhook on or off (the organisation's member lead).
#[utoipa::path(put, path = "/api/v1/orgs/{id}/webhooks/{wid}/active", tag = "alerts", request_body = WebhookActiveRequest,
    params(("id" = i64, Path, description = "Organisation id"), ("wid" = i64, Path, description = "Webhook id")),
    responses((status = 200, body = WebhookDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn set_webhook_active(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path((id, wid)): Path<(i64, i64)>,
    ApiJson(body): ApiJson<WebhookActiveRequest>,
) -> Result<Json<WebhookDto>, ApiError> {
    let w = alerts::set_webhook_active(&state, &user, OrgId(id), wid, body.active, &ip).await?;
    Ok(Json(WebhookDto::new(&w, true)))
}

/// Delete a webhook and its delivery history (the organisation's member lead).
#[utoipa::path(delete, path = "/api/v1/orgs/{id}/webhooks/{wid}", tag = "alerts",
    params(("id" = i64, Path, description = "Organisation id"), ("wid" = i64, Path, description = "Webhook id")),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path((id, wid)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    alerts::delete_webhook(&state, &user, OrgId(id), wid, &ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many of an alert's (or every) deliveries stand where.
#[derive(Serialize, ToSchema)]
pub struct DeliveryCountsDto {
    pub pending: i64,
    pub sent: i64,
    /// Given up (dead letters); operators can retry them.
    pub dead: i64,
}

impl From<DeliveryCounts> for DeliveryCountsDto {
    fn from(c: DeliveryCounts) -> Self {
        DeliveryCountsDto {
            pending: c.pending,
            sent: c.sent,
            dead: c.dead,
        }
    }
}

/// An alert raised for an organisation.
#[derive(Serialize, ToSchema)]
pub struct AlertDto {
    pub id: i64,
    pub org_id: i64,
    /// `new`, `update` (something that matters changed) or `warp` (a WARP advisory).
    pub kind: String,
    pub vuln_id: Option<String>,
    pub warp_advisory_id: Option<i64>,
    /// `P1`–`P4`.
    pub priority: String,
    /// The TLP 2.0 label, e.g. `TLP:AMBER`.
    pub tlp: String,
    pub title: String,
    pub created_at: DateTime<Utc>,
    /// Its own deliveries (digests that list it are not counted).
    pub deliveries: DeliveryCountsDto,
}

impl AlertDto {
    fn new(a: &Alert, counts: DeliveryCounts) -> AlertDto {
        AlertDto {
            id: a.id,
            org_id: a.org_id,
            kind: a.kind.as_str().into(),
            vuln_id: a.vuln_id.clone(),
            warp_advisory_id: a.warp_advisory_id,
            priority: a.priority.as_str().into(),
            tlp: a.tlp.label().into(),
            title: a.title.clone(),
            created_at: a.created_at,
            deliveries: counts.into(),
        }
    }
}

/// One affected system named in an alert.
#[derive(Serialize, ToSchema)]
pub struct AlertItemDto {
    /// The exposure, at `/api/v1/orgs/{org_id}/exposures/{exposure_id}`.
    pub exposure_id: i64,
    pub item: String,
    pub owner: Option<String>,
    pub line: String,
    pub reason: String,
    pub priority: String,
}

#[derive(Serialize, ToSchema)]
pub struct SourceLinkDto {
    pub label: String,
    pub url: String,
}

/// A delivery of an alert or digest to one recipient.
#[derive(Serialize, ToSchema)]
pub struct DeliveryDto {
    pub id: i64,
    /// Unique per alert, channel and recipient (or digest window and user).
    pub idempotency_key: String,
    /// `alert` or `digest`.
    pub kind: String,
    /// `email` or `webhook`.
    pub channel: String,
    pub org_id: i64,
    pub org_name: String,
    pub alert_id: Option<i64>,
    pub alert_title: Option<String>,
    /// E-mail address or webhook name.
    pub recipient: String,
    /// `pending`, `sent` or `dead`.
    pub status: String,
    /// Failed attempts so far.
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<&DeliveryRow> for DeliveryDto {
    fn from(d: &DeliveryRow) -> Self {
        DeliveryDto {
            id: d.id,
            idempotency_key: d.idempotency_key.clone(),
            kind: d.kind.clone(),
            channel: d.channel.clone(),
            org_id: d.org_id,
            org_name: d.org_name.clone(),
            alert_id: d.alert_id,
            alert_title: d.alert_title.clone(),
            recipient: d.recipient.clone(),
            status: d.status.clone(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_error: d.last_error.clone(),
            created_at: d.created_at,
            sent_at: d.sent_at,
        }
    }
}

/// An alert with everything it said and each of its deliveries.
#[derive(Serialize, ToSchema)]
pub struct AlertDetailDto {
    pub alert: AlertDto,
    /// The one line a busy reader needs.
    pub summary: String,
    /// Why this priority, in words.
    pub reason: String,
    /// For follow-ups: what changed since the member was last told.
    pub changes: Vec<String>,
    pub items: Vec<AlertItemDto>,
    /// What to do.
    pub action: Option<String>,
    /// Fix by.
    pub due: Option<NaiveDate>,
    pub sources: Vec<SourceLinkDto>,
    /// The page with the details.
    pub url: String,
    pub deliveries: Vec<DeliveryDto>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AlertsQuery {
    org: String,
    limit: Option<i64>,
}

/// Most alerts one request lists.
const MAX_ALERTS: i64 = 500;

/// Alerts raised for an organisation, newest first: the caller's own;
/// operators name one with `?org=`.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts",
    params(("org" = Option<i64>, Query, description = "Organisation id (operators; members may give their own)"),
           ("limit" = Option<i64>, Query, description = "How many, newest first: 1–500, default 50")),
    responses((status = 200, body = [AlertDto]), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn list_alerts(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Query(q): Query<AlertsQuery>,
) -> Result<Json<Vec<AlertDto>>, ApiError> {
    let org = alerts::org_number(&q.org)
        .map_err(|m| AppError::BadRequest(format!("org: {m}")))?
        .or(user.org_id)
        .ok_or_else(|| AppError::BadRequest("org: choose an organisation with ?org=<id>".into()))?;
    let org = actions::visible_org(&state, &user.actor(), org).await?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_ALERTS).contains(&limit) {
        return Err(AppError::BadRequest(format!("limit: must be from 1 to {MAX_ALERTS}")).into());
    }
    let list = alerts::visible_alerts(&state, &user.actor(), org.id, limit).await?;
    let ids: Vec<i64> = list.iter().map(|a| a.id).collect();
    let counts = state.store.delivery_counts_by_alert(&ids).await?;
    Ok(Json(
        list.iter()
            .map(|a| AlertDto::new(a, counts.get(&a.id).copied().unwrap_or_default()))
            .collect(),
    ))
}

/// One alert: what it said and where each delivery stands.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts",
    params(("id" = i64, Path, description = "Alert id")),
    responses((status = 200, body = AlertDetailDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_alert(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<AlertDetailDto>, ApiError> {
    let a = alerts::visible_alert(&state, &user.actor(), id).await?;
    let deliveries = state
        .store
        .deliveries(&DeliveryFilter {
            alert_id: Some(a.id),
            limit: Some(2000),
            ..DeliveryFilter::default()
        })
        .await?;
    let counts = state
        .store
        .delivery_counts_by_alert(&[a.id])
        .await?
        .get(&a.id)
        .copied()
        .unwrap_or_default();
    let c = &a.content;
    Ok(Json(AlertDetailDto {
        summary: c.summary.clone(),
        reason: c.reason.clone(),
        changes: c.changes.clone(),
        items: c
            .items
            .iter()
            .map(|i| AlertItemDto {
                exposure_id: i.exposure_id,
                item: i.item.clone(),
                owner: i.owner.clone(),
                line: i.line.clone(),
                reason: i.reason.clone(),
                priority: i.priority.as_str().into(),
            })
            .collect(),
        action: c.action.clone(),
        due: c.due,
        sources: c
            .sources
            .iter()
            .map(|s| SourceLinkDto {
                label: s.label.clone(),
                url: s.url.clone(),
            })
            .collect(),
        url: format!("{}{}", state.config.public_url, c.path),
        deliveries: deliveries.iter().map(DeliveryDto::from).collect(),
        alert: AlertDto::new(&a, counts),
    }))
}

/// Every delivery's standing, and the list asked for.
#[derive(Serialize, ToSchema)]
pub struct DeliveriesDto {
    /// Across every organisation.
    pub counts: DeliveryCountsDto,
    /// Newest first.
    pub deliveries: Vec<DeliveryDto>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeliveriesQuery {
    status: String,
    org: String,
    limit: Option<i64>,
}

/// Most deliveries one request lists.
const MAX_DELIVERIES: i64 = 2000;

/// Deliveries (operators), newest first; `?status=dead` for the dead letters.
#[utoipa::path(get, path = "/api/v1/deliveries", tag = "alerts",
    params(("status" = Option<String>, Query, description = "dead, pending, sent or all (the default)"),
           ("org" = Option<i64>, Query, description = "Only this organisation's"),
           ("limit" = Option<i64>, Query, description = "How many: 1–2000, default 200")),
    responses((status = 200, body = DeliveriesDto), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Json<DeliveriesDto>, ApiError> {
    user.actor().require_operator()?;
    let status = alerts::delivery_status(&q.status)
        .map_err(|m| AppError::BadRequest(format!("status: {m}")))?;
    let org = alerts::org_number(&q.org).map_err(|m| AppError::BadRequest(format!("org: {m}")))?;
    let limit = q.limit.unwrap_or(200);
    if !(1..=MAX_DELIVERIES).contains(&limit) {
        return Err(
            AppError::BadRequest(format!("limit: must be from 1 to {MAX_DELIVERIES}")).into(),
        );
    }
    let rows = state
        .store
        .deliveries(&DeliveryFilter {
            status,
            org,
            alert_id: None,
            limit: Some(limit),
        })
        .await?;
    Ok(Json(DeliveriesDto {
        counts: state.store.delivery_counts().await?.into(),
        deliveries: rows.iter().map(DeliveryDto::from).collect(),
    }))
}

/// Put a dead (or pending) delivery back in the queue now (operators).
#[utoipa::path(post, path = "/api/v1/deliveries/{id}/retry", tag = "alerts",
    params(("id" = i64, Path, description = "Delivery id")),
    responses((status = 200, body = DeliveryDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody)))]
pub async fn retry_delivery(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> Result<Json<DeliveryDto>, ApiError> {
    let d = alerts::retry_delivery(&state, &user, id, &ip).await?;
    Ok(Json(DeliveryDto::from(&d)))
}

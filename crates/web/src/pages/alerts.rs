//! Alerts in the browser: "My alerts" (a named user's own subscription), an
//! organisation's alert settings (defaults and webhooks, changed by its member
//! lead), the alert history with each alert's content and deliveries, the
//! operators' delivery view with dead letters and retries, and the one-click
//! unsubscribe page reached from e-mails (no sign-in: the link is signed).

use super::dashboard::NoticeQuery;
use super::exposure::priority_class;
use super::{FormErrors, Layout, date, render, render_with, timestamp};
use crate::AppState;
use crate::actions::{self, alerts};
use crate::auth::{ClientIp, SessionForm, SignedIn};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use openwarp_core::{OrgId, TlpLabel, ValidationErrors};
use openwarp_matching::alert::{DigestFrequency, OrgDefaults, UserChoices};
use openwarp_matching::priority::Priority;
use openwarp_store::{
    Alert, AlertKind, DeliveryCounts, DeliveryFilter, DeliveryRow, DeliveryStatus, Organisation,
    Session, Webhook, WebhookFormat,
};
use serde::Deserialize;

/// Messages shown after a redirect on these pages (fixed texts only).
fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "alerts_saved" => "Your alert settings have been saved.",
        "resubscribed" => "You are subscribed again: alerts will be e-mailed to you.",
        "defaults_saved" => "The organisation's alert defaults have been saved.",
        "webhook_on" => "The webhook has been switched on.",
        "webhook_off" => {
            "The webhook has been switched off. Nothing is posted to it until it is switched on again."
        }
        "webhook_deleted" => "The webhook and its delivery history have been deleted.",
        "delivery_retried" => "The delivery is back in the queue and will be sent shortly.",
        _ => return None,
    })
}

fn layout(
    state: &AppState,
    session: &Session,
    title: impl Into<String>,
    code: Option<&str>,
) -> Layout {
    let mut l = Layout::signed_in(state, session, title, "alerts");
    l.notice = notice(code);
    l
}

/// `TLP:AMBER` with its CSS class and meaning.
pub struct TlpView {
    pub label: &'static str,
    pub class: String,
    pub meaning: &'static str,
}

impl From<TlpLabel> for TlpView {
    fn from(t: TlpLabel) -> Self {
        TlpView {
            label: t.label(),
            class: format!("tlp tlp-{}", t.as_str().replace('_', "-")),
            meaning: t.meaning(),
        }
    }
}

pub fn kind_label(a: &Alert) -> &'static str {
    match a.kind {
        AlertKind::New => "New",
        AlertKind::Update => "Update",
        AlertKind::Warp if a.warp_advisory_id.is_some() => "WARP advisory",
        AlertKind::Warp => "From the WARP",
    }
}

fn status_label(s: &str) -> &'static str {
    match s {
        "pending" => "Pending",
        "sent" => "Sent",
        "dead" => "Failed (dead letter)",
        _ => "Unknown",
    }
}

fn status_class(s: &str) -> &'static str {
    match s {
        "sent" => "tag status-sent",
        "dead" => "tag status-dead",
        _ => "tag grey",
    }
}

fn priority_options() -> Vec<(&'static str, String)> {
    Priority::ALL
        .iter()
        .map(|p| {
            (
                p.as_str(),
                format!("{}: {}", alerts::immediate_text(Some(*p)), p.meaning()),
            )
        })
        .collect()
}

// ---- My alerts -------------------------------------------------------------------------

/// The "My alerts" form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChoicesForm {
    immediate_min: String,
    digest: String,
    filters: String,
    paused: Option<String>,
}

pub struct MySettings {
    pub org_id: i64,
    pub org_name: String,
    pub email: String,
    pub unsubscribed: bool,
    pub paused: bool,
    pub effective_immediate: String,
    pub immediate_source: &'static str,
    pub effective_digest: String,
    pub digest_source: &'static str,
    pub filters: Vec<String>,
    pub immediate_options: Vec<(&'static str, String)>,
    pub immediate_selected: String,
    pub digest_options: Vec<(&'static str, String)>,
    pub digest_selected: String,
    pub filters_text: String,
    pub paused_checked: bool,
}

#[derive(Template)]
#[template(path = "alerts_settings.html")]
struct MySettingsPage {
    layout: Layout,
    settings: Option<MySettings>,
    errors: FormErrors,
    max_filters: usize,
    max_filter_chars: usize,
}

fn choices_labels(field: &str) -> Option<&'static str> {
    match field {
        "immediate_min" => Some("Immediate alerts"),
        "digest" => Some("Digest"),
        "filters" => Some("Vendor and product filters"),
        _ => None,
    }
}

fn source(own: bool) -> &'static str {
    if own {
        "your choice"
    } else {
        "organisation default"
    }
}

async fn my_settings_page(
    state: &AppState,
    session: &Session,
    code: Option<&str>,
    errors: FormErrors,
    form: Option<ChoicesForm>,
) -> Result<MySettingsPage, AppError> {
    let layout = layout(state, session, "My alerts", code);
    let settings = match session.user.org_id {
        None => None,
        Some(org) => {
            let org = state
                .store
                .get_org(org)
                .await?
                .ok_or(AppError::NotFound("organisation"))?;
            let sub = state.store.subscription(session.user.id).await?;
            let (own, d, eff) = (&sub.own, &sub.defaults, &sub.effective);
            let immediate_selected = match own.immediate_min {
                None => alerts::DEFAULT.to_string(),
                Some(None) => alerts::NONE.to_string(),
                Some(Some(p)) => p.as_str().to_string(),
            };
            let digest_selected = own
                .digest
                .map_or(alerts::DEFAULT, DigestFrequency::as_str)
                .to_string();
            let mut immediate_options = vec![(
                alerts::DEFAULT,
                format!(
                    "Use the organisation default (now: {})",
                    alerts::immediate_text(d.immediate_min)
                ),
            )];
            immediate_options.extend(priority_options());
            immediate_options.push((alerts::NONE, alerts::immediate_text(None)));
            let mut digest_options = vec![(
                alerts::DEFAULT,
                format!(
                    "Use the organisation default (now: {})",
                    alerts::digest_text(d.digest)
                ),
            )];
            digest_options.extend(
                DigestFrequency::ALL
                    .iter()
                    .map(|f| (f.as_str(), alerts::digest_text(*f))),
            );
            let mut s = MySettings {
                org_id: org.id.0,
                org_name: org.name,
                email: session.user.email.clone(),
                unsubscribed: own.unsubscribed,
                paused: own.paused,
                effective_immediate: alerts::immediate_text(eff.immediate_min),
                immediate_source: source(own.immediate_min.is_some()),
                effective_digest: alerts::digest_text(eff.digest),
                digest_source: source(own.digest.is_some()),
                filters: own.filters.clone(),
                immediate_options,
                immediate_selected,
                digest_options,
                digest_selected,
                filters_text: own.filters.join("\n"),
                paused_checked: own.paused,
            };
            if let Some(f) = form {
                s.immediate_selected = f.immediate_min;
                s.digest_selected = f.digest;
                s.filters_text = f.filters;
                s.paused_checked = super::ticked(&f.paused);
            }
            Some(s)
        }
    };
    Ok(MySettingsPage {
        layout,
        settings,
        errors,
        max_filters: alerts::MAX_FILTERS,
        max_filter_chars: alerts::MAX_FILTER_CHARS,
    })
}

/// `GET /account/alerts`
pub async fn my_settings(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let page = my_settings_page(
        &state,
        &session,
        q.notice.as_deref(),
        FormErrors::default(),
        None,
    )
    .await?;
    render(&page)
}

/// `POST /account/alerts`
pub async fn save_my_settings(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<ChoicesForm>,
) -> Result<Response, AppError> {
    let user = &session.user;
    alerts::require_member(user)?;
    let mut errors = ValidationErrors::new();
    let immediate = alerts::immediate_choice(&form.immediate_min)
        .map_err(|m| errors.add("immediate_min", m))
        .ok();
    let digest = alerts::digest_choice(&form.digest)
        .map_err(|m| errors.add("digest", m))
        .ok();
    let filters = alerts::filters(alerts::split_filters(&form.filters))
        .map_err(|m| errors.add("filters", m))
        .ok();
    let (Some(immediate_min), Some(digest), Some(filters)) = (immediate, digest, filters) else {
        let page = my_settings_page(
            &state,
            &session,
            None,
            FormErrors::labelled(errors, choices_labels),
            Some(form),
        )
        .await?;
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    // Unsubscribing and subscribing again have their own buttons.
    let unsubscribed = state.store.subscription(user.id).await?.own.unsubscribed;
    let own = UserChoices {
        immediate_min,
        digest,
        filters,
        paused: super::ticked(&form.paused),
        unsubscribed,
    };
    alerts::save_subscription(&state, user, &own, &ip).await?;
    Ok(Redirect::to("/account/alerts?notice=alerts_saved").into_response())
}

/// `POST /account/alerts/resubscribe`
pub async fn resubscribe(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    alerts::resubscribe(&state, &session.user, &ip).await?;
    Ok(Redirect::to("/account/alerts?notice=resubscribed").into_response())
}

// ---- Organisation settings -------------------------------------------------------------

pub struct WebhookView {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub format: &'static str,
    pub min_priority: String,
    pub active: bool,
    pub created: String,
}

impl WebhookView {
    fn new(w: &Webhook, whole_url: bool) -> WebhookView {
        WebhookView {
            id: w.id,
            name: w.name.clone(),
            url: if whole_url {
                w.url.clone()
            } else {
                alerts::masked_url(&w.url)
            },
            format: alerts::format_label(w.format),
            min_priority: alerts::immediate_text(Some(w.min_priority)),
            active: w.active,
            created: timestamp(w.created_at),
        }
    }
}

/// The add-webhook form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WebhookForm {
    name: String,
    url: String,
    format: String,
    min_priority: String,
}

/// The defaults form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DefaultsForm {
    immediate_min: String,
    digest: String,
}

/// The secret of a webhook just added, shown once.
pub struct NewSecret {
    pub name: String,
    pub secret: String,
}

#[derive(Template)]
#[template(path = "alerts_org.html")]
struct OrgSettingsPage {
    layout: Layout,
    org: Organisation,
    can_edit: bool,
    is_own: bool,
    defaults_immediate: String,
    defaults_digest: String,
    immediate_options: Vec<(&'static str, String)>,
    immediate_selected: String,
    digest_options: Vec<(&'static str, String)>,
    digest_selected: String,
    errors: FormErrors,
    hooks: Vec<WebhookView>,
    hook_errors: FormErrors,
    hook_form: WebhookForm,
    formats: Vec<(&'static str, &'static str)>,
    priorities: Vec<(&'static str, String)>,
    new_secret: Option<NewSecret>,
}

fn defaults_labels(field: &str) -> Option<&'static str> {
    match field {
        "immediate_min" => Some("Immediate alerts"),
        "digest" => Some("Digest"),
        _ => None,
    }
}

fn webhook_labels(field: &str) -> Option<&'static str> {
    match field {
        "name" => Some("Name"),
        "url" => Some("Address (URL)"),
        "format" => Some("Format"),
        "min_priority" => Some("Alerts to post"),
        _ => None,
    }
}

#[derive(Default)]
struct OrgPageInput {
    errors: FormErrors,
    defaults: Option<DefaultsForm>,
    hook_errors: FormErrors,
    hook_form: Option<WebhookForm>,
    new_secret: Option<NewSecret>,
}

async fn org_settings_page(
    state: &AppState,
    session: &Session,
    org: OrgId,
    notice_code: Option<&str>,
    input: OrgPageInput,
) -> Result<OrgSettingsPage, AppError> {
    let actor = session.user.actor();
    let org = actions::visible_org(state, &actor, org).await?;
    let can_edit = alerts::require_settings_editor(&actor, org.id).is_ok();
    let d = state.store.alert_defaults(org.id).await?;
    let hooks = state
        .store
        .webhooks(org.id)
        .await?
        .iter()
        .map(|w| WebhookView::new(w, can_edit))
        .collect();
    let mut immediate_options = priority_options();
    immediate_options.push((alerts::NONE, alerts::immediate_text(None)));
    let (immediate_selected, digest_selected) = match input.defaults {
        Some(f) => (f.immediate_min, f.digest),
        None => (
            d.immediate_min
                .map_or(alerts::NONE, Priority::as_str)
                .to_string(),
            d.digest.as_str().to_string(),
        ),
    };
    Ok(OrgSettingsPage {
        layout: layout(
            state,
            session,
            format!("Alert settings of {}", org.name),
            notice_code,
        ),
        is_own: session.user.org_id == Some(org.id),
        org,
        can_edit,
        defaults_immediate: alerts::immediate_text(d.immediate_min),
        defaults_digest: alerts::digest_text(d.digest),
        immediate_options,
        immediate_selected,
        digest_options: DigestFrequency::ALL
            .iter()
            .map(|f| (f.as_str(), alerts::digest_text(*f)))
            .collect(),
        digest_selected,
        errors: input.errors,
        hooks,
        hook_errors: input.hook_errors,
        hook_form: input.hook_form.unwrap_or_else(|| WebhookForm {
            format: WebhookFormat::Json.as_str().into(),
            min_priority: Priority::P1.as_str().into(),
            ..WebhookForm::default()
        }),
        formats: WebhookFormat::ALL
            .iter()
            .map(|f| (f.as_str(), alerts::format_label(*f)))
            .collect(),
        priorities: priority_options(),
        new_secret: input.new_secret,
    })
}

/// `GET /orgs/{id}/alerts`
pub async fn org_settings(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let page = org_settings_page(
        &state,
        &session,
        OrgId(id),
        q.notice.as_deref(),
        OrgPageInput::default(),
    )
    .await?;
    render(&page)
}

/// `POST /orgs/{id}/alerts/defaults`
pub async fn save_org_defaults(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<DefaultsForm>,
) -> Result<Response, AppError> {
    let org = OrgId(id);
    alerts::require_settings_editor(&session.user.actor(), org)?;
    let mut errors = ValidationErrors::new();
    let immediate_min = alerts::immediate_default(&form.immediate_min)
        .map_err(|m| errors.add("immediate_min", m))
        .ok();
    let digest = alerts::digest_default(&form.digest)
        .map_err(|m| errors.add("digest", m))
        .ok();
    let (Some(immediate_min), Some(digest)) = (immediate_min, digest) else {
        let page = org_settings_page(
            &state,
            &session,
            org,
            None,
            OrgPageInput {
                errors: FormErrors::labelled(errors, defaults_labels),
                defaults: Some(form),
                ..OrgPageInput::default()
            },
        )
        .await?;
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let defaults = OrgDefaults {
        immediate_min,
        digest,
    };
    alerts::set_defaults(&state, &session.user, org, &defaults, &ip).await?;
    Ok(Redirect::to(&format!("/orgs/{org}/alerts?notice=defaults_saved")).into_response())
}

/// `POST /orgs/{id}/alerts/webhooks`: answers with the page showing the
/// signing secret once.
pub async fn add_webhook(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<WebhookForm>,
) -> Result<Response, AppError> {
    let org = OrgId(id);
    alerts::require_settings_editor(&session.user.actor(), org)?;
    let invalid = |errors: FormErrors, form: WebhookForm| OrgPageInput {
        hook_errors: errors,
        hook_form: Some(form),
        ..OrgPageInput::default()
    };
    let hook = match alerts::new_webhook(&form.name, &form.url, &form.format, &form.min_priority) {
        Ok(h) => h,
        Err(e) => {
            let input = invalid(FormErrors::labelled(e, webhook_labels), form);
            let page = org_settings_page(&state, &session, org, None, input).await?;
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    match alerts::add_webhook(&state, &session.user, org, &hook, &ip).await {
        Ok(w) => {
            let input = OrgPageInput {
                new_secret: Some(NewSecret {
                    name: w.name,
                    secret: w.secret,
                }),
                ..OrgPageInput::default()
            };
            let page = org_settings_page(&state, &session, org, None, input).await?;
            render_with(StatusCode::CREATED, &page)
        }
        Err(AppError::Conflict(_)) => {
            let errors = FormErrors::labelled(
                {
                    let mut v = ValidationErrors::new();
                    v.add(
                        "name",
                        "a webhook of this name exists already; choose another name",
                    );
                    v
                },
                webhook_labels,
            );
            let page =
                org_settings_page(&state, &session, org, None, invalid(errors, form)).await?;
            render_with(StatusCode::CONFLICT, &page)
        }
        Err(e) => Err(e),
    }
}

async fn switch_webhook(
    state: &AppState,
    session: &Session,
    org: i64,
    wid: i64,
    active: bool,
    ip: &str,
) -> Result<Response, AppError> {
    alerts::set_webhook_active(state, &session.user, OrgId(org), wid, active, ip).await?;
    let code = if active { "webhook_on" } else { "webhook_off" };
    Ok(Redirect::to(&format!("/orgs/{org}/alerts?notice={code}#webhooks")).into_response())
}

/// `POST /orgs/{org}/alerts/webhooks/{wid}/enable`
pub async fn enable_webhook(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((org, wid)): Path<(i64, i64)>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    switch_webhook(&state, &session, org, wid, true, &ip).await
}

/// `POST /orgs/{org}/alerts/webhooks/{wid}/disable`
pub async fn disable_webhook(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((org, wid)): Path<(i64, i64)>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    switch_webhook(&state, &session, org, wid, false, &ip).await
}

/// `POST /orgs/{org}/alerts/webhooks/{wid}/delete`
pub async fn delete_webhook(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((org, wid)): Path<(i64, i64)>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    alerts::delete_webhook(&state, &session.user, OrgId(org), wid, &ip).await?;
    Ok(Redirect::to(&format!(
        "/orgs/{org}/alerts?notice=webhook_deleted#webhooks"
    ))
    .into_response())
}

// ---- History ---------------------------------------------------------------------------

/// How many alerts the history shows.
pub const HISTORY_LIMIT: i64 = 100;

/// One alert as the history table shows it.
pub struct AlertRowView {
    pub id: i64,
    pub priority: &'static str,
    pub priority_class: &'static str,
    pub tlp: TlpView,
    pub kind: &'static str,
    pub title: String,
    pub at: String,
    pub counts: DeliveryCounts,
}

impl AlertRowView {
    fn new(a: &Alert, counts: DeliveryCounts) -> AlertRowView {
        AlertRowView {
            id: a.id,
            priority: a.priority.as_str(),
            priority_class: priority_class(a.priority),
            tlp: a.tlp.into(),
            kind: kind_label(a),
            title: a.title.clone(),
            at: timestamp(a.created_at),
            counts,
        }
    }
}

#[derive(Template)]
#[template(path = "alerts_history.html")]
struct HistoryPage {
    layout: Layout,
    heading: String,
    org: Option<Organisation>,
    is_operator: bool,
    is_own: bool,
    rows: Vec<AlertRowView>,
    limited: bool,
    orgs: Vec<(i64, String)>,
    selected_org: i64,
    totals: Option<DeliveryCounts>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HistoryQuery {
    org: String,
}

async fn history_page(
    state: &AppState,
    session: &Session,
    org: Option<OrgId>,
) -> Result<Response, AppError> {
    let actor = session.user.actor();
    let is_operator = actor.is_operator();
    let org = match org {
        Some(o) => Some(actions::visible_org(state, &actor, o).await?),
        None => None,
    };
    let (rows, limited) = match &org {
        Some(o) => {
            let list = alerts::visible_alerts(state, &actor, o.id, HISTORY_LIMIT).await?;
            let ids: Vec<i64> = list.iter().map(|a| a.id).collect();
            let counts = state.store.delivery_counts_by_alert(&ids).await?;
            let rows = list
                .iter()
                .map(|a| AlertRowView::new(a, counts.get(&a.id).copied().unwrap_or_default()))
                .collect();
            (rows, list.len() as i64 == HISTORY_LIMIT)
        }
        None => (Vec::new(), false),
    };
    let orgs = if is_operator {
        state
            .store
            .list_orgs()
            .await?
            .into_iter()
            .map(|o| (o.id.0, o.name))
            .collect()
    } else {
        Vec::new()
    };
    let totals = if is_operator {
        Some(state.store.delivery_counts().await?)
    } else {
        None
    };
    let is_own = org
        .as_ref()
        .is_some_and(|o| session.user.org_id == Some(o.id));
    let heading = match &org {
        Some(o) if is_own => format!("Alerts sent to {}", o.name),
        Some(o) => format!("Alerts of {}", o.name),
        None => "Alerts".into(),
    };
    render(&HistoryPage {
        layout: layout(state, session, heading.clone(), None),
        heading,
        selected_org: org.as_ref().map_or(0, |o| o.id.0),
        org,
        is_operator,
        is_own,
        rows,
        limited,
        orgs,
        totals,
    })
}

/// `GET /alerts`: a member's own organisation; operators choose one (`?org=`).
pub async fn history_mine(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, AppError> {
    let org = alerts::org_number(&q.org)
        .map_err(|m| AppError::BadRequest(format!("org: {m}")))?
        .or(session.user.org_id);
    history_page(&state, &session, org).await
}

/// `GET /orgs/{id}/alerts/history`
pub async fn history(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    history_page(&state, &session, Some(OrgId(id))).await
}

pub struct ItemView {
    pub exposure_id: i64,
    pub item: String,
    pub owner: String,
    pub line: String,
    pub reason: String,
    pub priority: &'static str,
    pub priority_class: &'static str,
}

pub struct SourceView {
    pub label: String,
    /// Only web addresses become links.
    pub url: Option<String>,
}

/// One delivery as the tables show it.
pub struct DeliveryView {
    pub id: i64,
    /// "E-mail alert", "Webhook alert", "E-mail digest".
    pub what: String,
    pub channel: &'static str,
    pub org_id: i64,
    pub org_name: String,
    pub alert_id: Option<i64>,
    pub alert_title: String,
    pub recipient: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub attempts: i64,
    pub last_error: String,
    pub created: String,
    pub sent: String,
    pub next_attempt: String,
    pub can_retry: bool,
}

impl DeliveryView {
    fn new(d: &DeliveryRow) -> DeliveryView {
        let channel = if d.channel == "webhook" {
            "Webhook"
        } else {
            "E-mail"
        };
        DeliveryView {
            id: d.id,
            what: format!(
                "{channel} {}",
                if d.kind == "digest" {
                    "digest"
                } else {
                    "alert"
                }
            ),
            channel,
            org_id: d.org_id,
            org_name: d.org_name.clone(),
            alert_id: d.alert_id,
            alert_title: d.alert_title.clone().unwrap_or_default(),
            recipient: d.recipient.clone(),
            status: status_label(&d.status),
            status_class: status_class(&d.status),
            attempts: d.attempts,
            last_error: d.last_error.clone().unwrap_or_default(),
            created: timestamp(d.created_at),
            sent: d.sent_at.map(timestamp).unwrap_or_default(),
            next_attempt: if d.status == "pending" {
                timestamp(d.next_attempt_at)
            } else {
                String::new()
            },
            can_retry: d.status == DeliveryStatus::Dead.as_str(),
        }
    }
}

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertPage {
    layout: Layout,
    org: Organisation,
    is_operator: bool,
    title: String,
    vuln_id: Option<String>,
    priority: &'static str,
    priority_class: &'static str,
    meaning: &'static str,
    tlp: TlpView,
    kind: &'static str,
    at: String,
    summary: String,
    reason: String,
    changes: Vec<String>,
    items: Vec<ItemView>,
    action: Option<String>,
    due: Option<String>,
    sources: Vec<SourceView>,
    path: Option<String>,
    deliveries: Vec<DeliveryView>,
}

fn web_link(url: &str) -> Option<String> {
    let u = url.trim();
    (u.starts_with("https://") || u.starts_with("http://")).then(|| u.to_string())
}

/// `GET /alerts/{id}`
pub async fn show(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let actor = session.user.actor();
    let a = alerts::visible_alert(&state, &actor, id).await?;
    let org = actions::visible_org(&state, &actor, OrgId(a.org_id)).await?;
    let deliveries = state
        .store
        .deliveries(&DeliveryFilter {
            alert_id: Some(a.id),
            limit: Some(2000),
            ..DeliveryFilter::default()
        })
        .await?
        .iter()
        .map(DeliveryView::new)
        .collect();
    let c = &a.content;
    let page = AlertPage {
        layout: layout(&state, &session, a.title.clone(), q.notice.as_deref()),
        org,
        is_operator: actor.is_operator(),
        title: a.title.clone(),
        vuln_id: a.vuln_id.clone(),
        priority: a.priority.as_str(),
        priority_class: priority_class(a.priority),
        meaning: a.priority.meaning(),
        tlp: a.tlp.into(),
        kind: kind_label(&a),
        at: timestamp(a.created_at),
        summary: c.summary.clone(),
        reason: c.reason.clone(),
        changes: c.changes.clone(),
        items: c
            .items
            .iter()
            .map(|i| ItemView {
                exposure_id: i.exposure_id,
                item: i.item.clone(),
                owner: i.owner.clone().unwrap_or_default(),
                line: i.line.clone(),
                reason: i.reason.clone(),
                priority: i.priority.as_str(),
                priority_class: priority_class(i.priority),
            })
            .collect(),
        action: c.action.clone(),
        due: c.due.map(date),
        sources: c
            .sources
            .iter()
            .map(|s| SourceView {
                label: s.label.clone(),
                url: web_link(&s.url),
            })
            .collect(),
        path: Some(c.path.clone()).filter(|p| p.starts_with('/') && !p.starts_with("//")),
        deliveries,
    };
    render(&page)
}

// ---- Operators' delivery view ----------------------------------------------------------

pub struct Tab {
    pub value: &'static str,
    pub label: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "deliveries.html")]
struct DeliveriesPage {
    layout: Layout,
    counts: DeliveryCounts,
    tabs: Vec<Tab>,
    status: &'static str,
    heading: &'static str,
    rows: Vec<DeliveryView>,
    orgs: Vec<(i64, String)>,
    selected_org: i64,
    limit: i64,
    limited: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeliveriesQuery {
    status: String,
    org: String,
    notice: Option<String>,
}

/// How many deliveries the operators' list shows.
pub const DELIVERIES_LIMIT: i64 = 200;

/// `GET /deliveries` (operators): counts, and the list by status, dead letters first.
pub async fn deliveries(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Response, AppError> {
    session.user.actor().require_operator()?;
    // Dead letters are what operators act on, so they come first.
    let status = match q.status.trim() {
        "" => Some(DeliveryStatus::Dead),
        s => {
            alerts::delivery_status(s).map_err(|m| AppError::BadRequest(format!("status: {m}")))?
        }
    };
    let org = alerts::org_number(&q.org).map_err(|m| AppError::BadRequest(format!("org: {m}")))?;
    let counts = state.store.delivery_counts().await?;
    let rows: Vec<DeliveryView> = state
        .store
        .deliveries(&DeliveryFilter {
            status,
            org,
            alert_id: None,
            limit: Some(DELIVERIES_LIMIT),
        })
        .await?
        .iter()
        .map(DeliveryView::new)
        .collect();
    let value = status.map_or("all", DeliveryStatus::as_str);
    let tabs = [
        ("dead", format!("Dead letters ({})", counts.dead)),
        ("pending", format!("Pending ({})", counts.pending)),
        ("sent", format!("Sent ({})", counts.sent)),
        ("all", "All".to_string()),
    ]
    .into_iter()
    .map(|(v, label)| Tab {
        value: v,
        label,
        current: v == value,
    })
    .collect();
    let heading = match status {
        Some(DeliveryStatus::Dead) => "Dead letters",
        Some(DeliveryStatus::Pending) => "Pending deliveries",
        Some(DeliveryStatus::Sent) => "Sent deliveries",
        None => "All deliveries",
    };
    let orgs = state
        .store
        .list_orgs()
        .await?
        .into_iter()
        .map(|o| (o.id.0, o.name))
        .collect();
    render(&DeliveriesPage {
        layout: layout(&state, &session, "Deliveries", q.notice.as_deref()),
        counts,
        tabs,
        status: value,
        heading,
        orgs,
        selected_org: org.map_or(0, |o| o.0),
        limit: DELIVERIES_LIMIT,
        limited: rows.len() as i64 == DELIVERIES_LIMIT,
        rows,
    })
}

/// `POST /deliveries/{id}/retry` (operators)
pub async fn retry(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    alerts::retry_delivery(&state, &session.user, id, &ip).await?;
    Ok(Redirect::to("/deliveries?status=dead&notice=delivery_retried").into_response())
}

// ---- One-click unsubscribe -------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UnsubscribeQuery {
    u: String,
    s: String,
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    layout: Layout,
    done: bool,
    already: bool,
    address: String,
    action: String,
}

/// `j…@kent.gov.uk`: enough to recognise one's own address, not to learn
/// someone else's from a forwarded link.
fn masked_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => "…".into(),
    }
}

fn unsubscribe_layout(state: &AppState, title: &str) -> Layout {
    Layout::anonymous(state, title, String::new())
}

/// `GET /unsubscribe?u=&s=`: a page with a button. Reading the link changes
/// nothing, because mail scanners fetch links before people click them.
pub async fn unsubscribe_form(
    State(state): State<AppState>,
    Query(q): Query<UnsubscribeQuery>,
) -> Result<Response, AppError> {
    let user = alerts::unsubscribe_link_user(&state, &q.u, &q.s).await?;
    let already = state.store.subscription(user.id).await?.own.unsubscribed;
    let action = format!(
        "/unsubscribe?{}",
        serde_urlencoded::to_string([("u", q.u.trim()), ("s", q.s.trim())])
            .map_err(|e| AppError::Internal(e.to_string()))?
    );
    render(&UnsubscribePage {
        layout: unsubscribe_layout(&state, "Unsubscribe from alerts"),
        done: false,
        already,
        address: masked_email(&user.email),
        action,
    })
}

/// `POST /unsubscribe?u=&s=`: RFC 8058 one-click unsubscribe. Mail clients
/// post `List-Unsubscribe=One-Click` with no session and no CSRF token; the
/// signature in the address is the authentication, so the body is not read.
pub async fn unsubscribe(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(q): Query<UnsubscribeQuery>,
) -> Result<Response, AppError> {
    let user = alerts::unsubscribe_by_link(&state, &q.u, &q.s, &ip).await?;
    render(&UnsubscribePage {
        layout: unsubscribe_layout(&state, "You have been unsubscribed"),
        done: true,
        already: false,
        address: masked_email(&user.email),
        action: String::new(),
    })
}

/// `GET /account/alerts/digest`: the signed-in member's next digest so far,
/// exactly as its e-mail's HTML part will look (inline styles, as mail
/// clients need: so this one page allows inline styles and nothing else —
/// no scripts, no frames, no forms).
pub async fn digest_preview(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> Result<Response, AppError> {
    let Some(org_id) = session.user.org_id else {
        return Err(AppError::Forbidden(
            "operators receive no digest; members' digests are theirs alone".into(),
        ));
    };
    let now = openwarp_store::now();
    let (payload, list) = state.store.next_digest(session.user.id, now).await?;
    let org = state
        .store
        .get_org(org_id)
        .await?
        .ok_or(AppError::NotFound("organisation"))?;
    let secret = state.store.instance_secret("link_signing", now).await?;
    let public_url = state.config.public_url.trim_end_matches('/');
    let ctx = openwarp_alerts::render::Context {
        public_url,
        warp_name: &state.config.warp_name,
        link_secret: &secret,
    };
    let email = openwarp_alerts::render::digest_email(
        &ctx,
        &org.name,
        session.user.id.0,
        &payload,
        &list,
        &payload.period_key,
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut response = axum::response::Html(email.html).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
             frame-ancestors 'none'; form-action 'none'; base-uri 'none'",
        ),
    );
    Ok(response)
}

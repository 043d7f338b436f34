//! Confidential incidents: the list (your organisation's, those shared with
//! you, shared lessons learnt; operators see all), the report form, the
//! incident page (full or sanitised, with the ICO clock, the timeline and
//! the forms for referrals, the ICO, sharing and lessons, and the evidence
//! files), its audit and a printable page. Every step goes through
//! `actions::incidents`.

use super::alerts::TlpView;
use super::dashboard::NoticeQuery;
use super::session::Empty;
use super::{FormErrors, Layout, render, render_with, ticked, timestamp};
use crate::AppState;
use crate::actions::incidents::{
    self as actions, Allowed, EscalationInput, IcoInput, LessonsInput, ListQuery, Seen, Warned,
};
use crate::auth::{ClientIp, SessionForm, SessionUpload, SignedIn};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use openwarp_core::incident::{
    self, Attribution, EscalationTarget, IcoClock, IncidentCategory, IncidentInput, IncidentStatus,
    SanitisedInput, SharingState, attribution_text,
};
use openwarp_core::{TlpLabel, ValidationErrors};
use openwarp_store::{Incident, IncidentAttachment, IncidentEvent, Session, now};
use serde::Deserialize;

const CURRENT: &str = "incidents";

/// Messages after a redirect; fixed texts only.
fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "reported" => {
            "The incident has been reported. Only your organisation and the WARP's operators can see it."
        }
        "updated" => "The changes have been saved.",
        "escalation" => "The referral has been added to the timeline.",
        "ico" => "The ICO notification has been recorded.",
        "shared" => "The sanitised version is shared with the members its TLP label allows.",
        "proposed" => {
            "The sanitised version has been proposed. Nobody else sees it until the reporter or their member lead approves it."
        }
        "approved" => "The sanitised version has been approved and is now shared.",
        "withdrawn" => {
            "Sharing has been withdrawn: only the reporting organisation and the WARP's operators see the incident."
        }
        "lessons" => "The lessons learnt have been saved.",
        "attached" => {
            "The file has been attached. Only those who read the full report can download it."
        }
        "attachment_deleted" => "The file has been deleted.",
        _ => return None,
    })
}

fn layout(
    state: &AppState,
    session: &Session,
    title: impl Into<String>,
    code: Option<&str>,
) -> Layout {
    let mut l = Layout::signed_in(state, session, title, CURRENT);
    l.notice = notice(code);
    l
}

fn labels(field: &str) -> Option<&'static str> {
    Some(match field {
        "title" => "Title",
        "summary" => "What happened",
        "category" => "Category",
        "started_at" => "When it started",
        "detected_at" => "When your council became aware of it",
        "affected_services" => "Affected services",
        "supplier" => "Supplier or shared service",
        "status" => "Status",
        "indicators" => "Indicators",
        "tlp" => "TLP label",
        "target" => "Referred to",
        "esc_at" => "When it was referred",
        "esc_reference" => "Their reference",
        "esc_note" => "Note",
        "ico_at" => "When the ICO was told",
        "ico_method" => "How the ICO was told",
        "ico_reference" => "ICO case reference",
        "shared_title" => "Shared title",
        "shared_summary" => "Shared summary",
        "shared_tlp" => "TLP label of the shared version",
        "attribution" => "Attribution",
        "recipient_orgs" => "Recipient organisations",
        "recipient_users" => "Recipient people",
        "lessons" => "Lessons learnt",
        "file" => "Evidence file",
        _ => return None,
    })
}

/// Errors of one of the incident page's forms, renamed to that form's
/// field ids (several forms share field names such as `at`).
fn form_errors(v: ValidationErrors, rename: fn(&'static str) -> &'static str) -> FormErrors {
    let mut renamed = ValidationErrors::new();
    for e in v.0 {
        renamed.add(rename(e.field), e.message);
    }
    FormErrors::labelled(renamed, labels)
}

fn escalation_field(f: &'static str) -> &'static str {
    match f {
        "at" => "esc_at",
        "reference" => "esc_reference",
        "note" => "esc_note",
        other => other,
    }
}

fn ico_field(f: &'static str) -> &'static str {
    match f {
        "at" => "ico_at",
        "method" => "ico_method",
        "reference" => "ico_reference",
        other => other,
    }
}

fn shared_field(f: &'static str) -> &'static str {
    match f {
        "title" => "shared_title",
        "summary" => "shared_summary",
        "tlp" => "shared_tlp",
        other => other,
    }
}

fn same(f: &'static str) -> &'static str {
    f
}

/// `2026-11-23T09:30`, as a `datetime-local` input takes it.
fn local(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

/// `23 November 2026`
fn day(t: DateTime<Utc>) -> String {
    t.format("%-d %B %Y").to_string()
}

/// A TLP label to choose, with what it means.
pub struct TlpChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub meaning: &'static str,
}

fn tlp_choices() -> Vec<TlpChoice> {
    TlpLabel::ALL
        .iter()
        .map(|t| TlpChoice {
            value: t.as_str(),
            label: t.label(),
            meaning: t.meaning(),
        })
        .collect()
}

fn sharing_label(s: SharingState) -> &'static str {
    match s {
        SharingState::Private => "Not shared",
        SharingState::Proposed => "Sanitised version awaiting approval",
        SharingState::Shared => "Sanitised version shared",
    }
}

/// Where the ICO notification stands, in words.
pub struct IcoView {
    /// `ico-running`, `ico-warn`, `ico-overdue` or `ico-done`.
    pub class: &'static str,
    /// A few words for lists.
    pub short: String,
    pub text: String,
}

fn ico_view(inc: &Incident, at: DateTime<Utc>) -> Option<IcoView> {
    let r = &inc.report;
    Some(
        match incident::ico_clock(r.personal_data, r.detected_at, inc.ico_notified_at, at) {
            IcoClock::NotRequired => return None,
            IcoClock::Running {
                deadline,
                hours_left,
                warn,
            } => {
                let left = match hours_left {
                    0 => "less than an hour left".to_string(),
                    1 => "1 hour left".to_string(),
                    n => format!("{n} hours left"),
                };
                IcoView {
                    class: if warn { "ico-warn" } else { "ico-running" },
                    short: format!("Tell the ICO: {left}"),
                    text: format!(
                        "Personal data is involved: tell the ICO by {} ({left}), {} hours after the council became aware of it.",
                        timestamp(deadline),
                        incident::ICO_HOURS
                    ),
                }
            }
            IcoClock::Overdue {
                deadline,
                hours_over,
            } => IcoView {
                class: "ico-overdue",
                short: "ICO deadline passed".into(),
                text: format!(
                    "The {}-hour deadline to tell the ICO passed at {} ({hours_over} hours ago). Tell the ICO now and record why it was late.",
                    incident::ICO_HOURS,
                    timestamp(deadline)
                ),
            },
            IcoClock::Notified {
                deadline,
                at,
                on_time,
            } => IcoView {
                class: "ico-done",
                short: "ICO told".into(),
                text: format!(
                    "The ICO was told on {} by {}{}; {} (the deadline was {}).",
                    timestamp(at),
                    inc.ico_method.as_deref().unwrap_or("an unrecorded method"),
                    inc.ico_reference
                        .as_deref()
                        .map(|r| format!(", reference {r}"))
                        .unwrap_or_default(),
                    if on_time { "in time" } else { "late" },
                    timestamp(deadline)
                ),
            },
        },
    )
}

/// One line of the timeline.
pub struct EventView {
    pub at: String,
    pub kind: &'static str,
    pub target: String,
    pub reference: String,
    pub detail: String,
    pub by: String,
}

impl From<&IncidentEvent> for EventView {
    fn from(e: &IncidentEvent) -> Self {
        EventView {
            at: timestamp(e.at),
            kind: match e.kind.as_str() {
                "reported" => "Reported",
                "updated" => "Updated",
                "status" => "Status",
                "escalation" => "Referral",
                "ico" => "ICO",
                "sharing" => "Sharing",
                "lessons" => "Lessons learnt",
                "warning" => "Supplier warning",
                _ => "Note",
            },
            target: e
                .target
                .as_deref()
                .and_then(EscalationTarget::parse)
                .map(|t| t.label().to_string())
                .unwrap_or_default(),
            reference: e.reference.clone().unwrap_or_default(),
            detail: e.detail.clone(),
            by: e.by.clone().unwrap_or_else(|| "openwarp".into()),
        }
    }
}

/// The proposed or shared sanitised version, as the reporting organisation
/// and operators see it.
pub struct SharedVersionView {
    pub proposed: bool,
    pub title: String,
    pub summary: String,
    pub tlp: TlpView,
    pub attribution: String,
    pub share_indicators: bool,
    pub recipient_orgs: Vec<String>,
    pub recipient_users: Vec<String>,
    pub when: String,
}

/// Everything the reporter wrote, for those who read it in full.
pub struct FullView {
    pub title: String,
    pub summary: String,
    pub category: &'static str,
    pub status: &'static str,
    pub closed: bool,
    pub tlp: TlpView,
    pub org_name: String,
    pub reporter: String,
    pub started: String,
    pub detected: String,
    pub reported: String,
    pub affected_services: String,
    pub supplier: String,
    pub personal_data: bool,
    pub indicators: Vec<(&'static str, String)>,
    pub ico: Option<IcoView>,
    pub sharing: &'static str,
    pub proposed: bool,
    pub shared_now: bool,
    pub version: Option<SharedVersionView>,
    /// How others would see the organisation named if it shared anonymously.
    pub anonymous_as: String,
    pub lessons: String,
    pub lessons_shared: bool,
    pub timeline: Vec<EventView>,
}

/// What others see: only the authorised sanitised version.
pub struct SanitisedView {
    pub title: String,
    pub summary: String,
    pub tlp: TlpView,
    pub attribution: String,
    pub category: &'static str,
    pub detected_on: String,
    pub shared_on: String,
    pub indicators: Vec<(&'static str, String)>,
    pub lessons: String,
}

fn indicators(inc: &Incident) -> Vec<(&'static str, String)> {
    inc.report
        .indicators
        .iter()
        .map(|i| (i.kind.label(), i.value.clone()))
        .collect()
}

fn sanitised_view(inc: &Incident, region: &str) -> SanitisedView {
    let s = inc.shared.as_ref();
    SanitisedView {
        title: s.map(|s| s.title.clone()).unwrap_or_default(),
        summary: s.map(|s| s.summary.clone()).unwrap_or_default(),
        tlp: s.map_or(TlpLabel::Red, |s| s.tlp).into(),
        attribution: inc.attribution(region),
        category: inc.report.category.label(),
        detected_on: day(inc.report.detected_at),
        shared_on: s.and_then(|s| s.shared_at).map(day).unwrap_or_default(),
        indicators: if s.is_some_and(|s| s.share_indicators) {
            indicators(inc)
        } else {
            Vec::new()
        },
        lessons: if inc.lessons_shared {
            inc.lessons.clone().unwrap_or_default()
        } else {
            String::new()
        },
    }
}

/// Names of the members that may be chosen as recipients.
struct Choices {
    orgs: Vec<(i64, String)>,
    people: Vec<(i64, String)>,
}

impl Choices {
    async fn load(state: &AppState, inc: &Incident) -> Result<Choices, AppError> {
        let (orgs, people) = actions::recipient_choices(state, inc.org_id).await?;
        Ok(Choices {
            orgs: orgs.into_iter().map(|(o, n)| (o.0, n)).collect(),
            people: people.into_iter().map(|(u, n)| (u.0, n)).collect(),
        })
    }

    fn org_name(&self, id: i64) -> String {
        self.orgs
            .iter()
            .find(|(o, _)| *o == id)
            .map_or_else(|| format!("Organisation {id}"), |(_, n)| n.clone())
    }

    fn person(&self, id: i64) -> String {
        self.people
            .iter()
            .find(|(u, _)| *u == id)
            .map_or_else(|| format!("User {id}"), |(_, n)| n.clone())
    }
}

fn full_view(
    inc: &Incident,
    region: &str,
    timeline: &[IncidentEvent],
    choices: &Choices,
) -> FullView {
    let r = &inc.report;
    let version = inc.shared.as_ref().map(|s| SharedVersionView {
        proposed: inc.sharing == SharingState::Proposed,
        title: s.title.clone(),
        summary: s.summary.clone(),
        tlp: s.tlp.into(),
        attribution: attribution_text(s.attribution, &inc.org_name, inc.council_type, region),
        share_indicators: s.share_indicators,
        recipient_orgs: s
            .recipient_orgs
            .iter()
            .map(|o| choices.org_name(o.0))
            .collect(),
        recipient_users: s
            .recipient_users
            .iter()
            .map(|u| choices.person(u.0))
            .collect(),
        when: s.shared_at.map(timestamp).unwrap_or_default(),
    });
    FullView {
        title: r.title.clone(),
        summary: r.summary.clone(),
        category: r.category.label(),
        status: r.status.label(),
        closed: r.status == IncidentStatus::Closed,
        tlp: r.tlp.into(),
        org_name: inc.org_name.clone(),
        reporter: inc
            .reporter_name
            .clone()
            .unwrap_or_else(|| "(account removed)".into()),
        started: r.started_at.map(timestamp).unwrap_or_default(),
        detected: timestamp(r.detected_at),
        reported: timestamp(inc.created_at),
        affected_services: r.affected_services.clone(),
        supplier: r.supplier.clone().unwrap_or_default(),
        personal_data: r.personal_data,
        indicators: indicators(inc),
        ico: ico_view(inc, now()),
        sharing: sharing_label(inc.sharing),
        proposed: inc.sharing == SharingState::Proposed,
        shared_now: inc.sharing == SharingState::Shared,
        version,
        anonymous_as: attribution_text(
            Attribution::Anonymous,
            &inc.org_name,
            inc.council_type,
            region,
        ),
        lessons: inc.lessons.clone().unwrap_or_default(),
        lessons_shared: inc.lessons_shared,
        timeline: timeline.iter().map(EventView::from).collect(),
    }
}

// ---------------------------------------------------------------- the list

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListParams {
    q: String,
    org: String,
    status: String,
    sharing: String,
    notice: Option<String>,
}

pub struct OwnRow {
    pub id: String,
    pub title: String,
    pub org_name: String,
    pub reported: String,
    pub category: &'static str,
    pub status: &'static str,
    pub tlp: TlpView,
    pub ico: Option<IcoView>,
    pub sharing: &'static str,
}

pub struct SharedRow {
    pub id: String,
    pub title: String,
    pub attribution: String,
    pub category: &'static str,
    pub tlp: TlpView,
    pub shared_on: String,
}

pub struct LessonsRow {
    /// A link when the reader may also open the sanitised version.
    pub id: Option<String>,
    pub category: &'static str,
    pub attribution: String,
    pub closed_on: String,
    pub lessons: String,
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct ListPage {
    layout: Layout,
    is_operator: bool,
    can_report: bool,
    q: String,
    searching: bool,
    own: Vec<OwnRow>,
    shared: Vec<SharedRow>,
    lessons: Vec<LessonsRow>,
    orgs: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    sharings: Vec<(&'static str, &'static str)>,
    f_org: String,
    f_status: String,
    f_sharing: String,
}

/// `/incidents`: your organisation's incidents, those shared with you and
/// shared lessons learnt; operators see every incident, with filters.
pub async fn list(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    let actor = session.user.actor();
    let query = if actor.is_operator() {
        ListQuery::parse(&p.q, &p.org, &p.status, &p.sharing)?
    } else {
        ListQuery::parse(&p.q, "", &p.status, &p.sharing)?
    };
    let listing = actions::list(&state, &actor, &query).await?;
    let region = actions::region(&state);
    let at = now();
    let orgs = if actor.is_operator() {
        state
            .store
            .list_orgs()
            .await?
            .into_iter()
            .map(|o| (o.id.0.to_string(), o.name))
            .collect()
    } else {
        Vec::new()
    };
    let page = ListPage {
        layout: layout(&state, &session, "Incidents", p.notice.as_deref()),
        is_operator: actor.is_operator(),
        can_report: incident::can_report(&actor),
        searching: !query.q.trim().is_empty(),
        q: query.q.clone(),
        own: listing
            .own
            .iter()
            .map(|i| OwnRow {
                id: i.public_id.clone(),
                title: i.report.title.clone(),
                org_name: i.org_name.clone(),
                reported: timestamp(i.created_at),
                category: i.report.category.label(),
                status: i.report.status.label(),
                tlp: i.report.tlp.into(),
                ico: ico_view(i, at),
                sharing: sharing_label(i.sharing),
            })
            .collect(),
        shared: listing
            .shared
            .iter()
            .map(|i| {
                let v = sanitised_view(i, region);
                SharedRow {
                    id: i.public_id.clone(),
                    title: v.title,
                    attribution: v.attribution,
                    category: v.category,
                    tlp: v.tlp,
                    shared_on: v.shared_on,
                }
            })
            .collect(),
        lessons: listing
            .lessons
            .iter()
            .map(|i| LessonsRow {
                id: (actions::listed(&actor, i) == Some(actions::Listed::Sanitised))
                    .then(|| i.public_id.clone()),
                category: i.report.category.label(),
                attribution: actions::lessons_attribution(&actor, i, region),
                closed_on: i.closed_at.map(day).unwrap_or_default(),
                lessons: i.lessons.clone().unwrap_or_default(),
            })
            .collect(),
        orgs,
        statuses: IncidentStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        sharings: [
            SharingState::Private,
            SharingState::Proposed,
            SharingState::Shared,
        ]
        .into_iter()
        .map(|s| (s.as_str(), sharing_label(s)))
        .collect(),
        f_org: p.org,
        f_status: p.status,
        f_sharing: p.sharing,
    };
    render(&page)
}

// ---------------------------------------------------------- report and edit

/// The report form's fields, as the browser sends them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReportForm {
    title: String,
    summary: String,
    category: String,
    started_at: String,
    detected_at: String,
    affected_services: String,
    supplier: String,
    personal_data: Option<String>,
    status: String,
    indicators: String,
    tlp: String,
}

impl ReportForm {
    fn blank() -> ReportForm {
        ReportForm {
            status: IncidentStatus::Open.as_str().into(),
            tlp: TlpLabel::Amber.as_str().into(),
            ..ReportForm::default()
        }
    }

    fn personal(&self) -> bool {
        ticked(&self.personal_data)
    }

    fn input(&self) -> IncidentInput {
        IncidentInput {
            title: self.title.clone(),
            summary: self.summary.clone(),
            category: self.category.clone(),
            started_at: self.started_at.clone(),
            detected_at: self.detected_at.clone(),
            affected_services: self.affected_services.clone(),
            supplier: self.supplier.clone(),
            personal_data: self.personal(),
            status: self.status.clone(),
            indicators: vec![self.indicators.clone()],
            tlp: self.tlp.clone(),
        }
    }
}

impl From<&Incident> for ReportForm {
    fn from(i: &Incident) -> Self {
        let r = &i.report;
        ReportForm {
            title: r.title.clone(),
            summary: r.summary.clone(),
            category: r.category.as_str().into(),
            started_at: r.started_at.map(local).unwrap_or_default(),
            detected_at: local(r.detected_at),
            affected_services: r.affected_services.clone(),
            supplier: r.supplier.clone().unwrap_or_default(),
            personal_data: r.personal_data.then(|| "on".into()),
            status: r.status.as_str().into(),
            indicators: r
                .indicators
                .iter()
                .map(|i| i.value.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            tlp: r.tlp.as_str().into(),
        }
    }
}

#[derive(Template)]
#[template(path = "incident_form.html")]
struct FormPage {
    layout: Layout,
    target: String,
    cancel: String,
    editing: bool,
    errors: FormErrors,
    form: ReportForm,
    categories: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    tlps: Vec<TlpChoice>,
    suppliers: Vec<String>,
}

impl FormPage {
    async fn new(
        state: &AppState,
        session: &Session,
        title: String,
        target: String,
        cancel: String,
        form: ReportForm,
    ) -> Result<FormPage, AppError> {
        let suppliers = match session.user.org_id {
            Some(org) => state
                .store
                .list_suppliers(org)
                .await?
                .into_iter()
                .map(|s| s.draft.name)
                .collect(),
            None => Vec::new(),
        };
        Ok(FormPage {
            layout: layout(state, session, title, None),
            target,
            cancel,
            editing: false,
            errors: FormErrors::default(),
            form,
            categories: IncidentCategory::ALL
                .iter()
                .map(|c| (c.as_str(), c.label()))
                .collect(),
            statuses: IncidentStatus::ALL
                .iter()
                .map(|s| (s.as_str(), s.label()))
                .collect(),
            tlps: tlp_choices(),
            suppliers,
        })
    }

    fn with_problems(mut self, err: AppError, form: ReportForm) -> Result<Response, AppError> {
        match err {
            AppError::Invalid(v) => {
                self.errors = FormErrors::labelled(v, labels);
                self.form = form;
                render_with(StatusCode::UNPROCESSABLE_ENTITY, &self)
            }
            other => Err(other),
        }
    }
}

/// `/incidents/new`
pub async fn new_form(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> Result<Response, AppError> {
    if !incident::can_report(&session.user.actor()) {
        return Err(AppError::Forbidden(actions::REPORT_DENIED.into()));
    }
    let page = FormPage::new(
        &state,
        &session,
        "Report an incident".into(),
        "/incidents".into(),
        "/incidents".into(),
        ReportForm::blank(),
    )
    .await?;
    render(&page)
}

/// `POST /incidents`
pub async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<ReportForm>,
) -> Result<Response, AppError> {
    match actions::report(&state, &session.user, &form.input(), &ip).await {
        Ok(inc) => Ok(
            Redirect::to(&format!("/incidents/{}?notice=reported", inc.public_id)).into_response(),
        ),
        Err(e) => FormPage::new(
            &state,
            &session,
            "Report an incident".into(),
            "/incidents".into(),
            "/incidents".into(),
            ReportForm::blank(),
        )
        .await?
        .with_problems(e, form),
    }
}

async fn edit_page(state: &AppState, session: &Session, id: &str) -> Result<FormPage, AppError> {
    let inc = actions::for_update(state, &session.user, id).await?;
    let mut page = FormPage::new(
        state,
        session,
        format!("Edit: {}", inc.report.title),
        format!("/incidents/{id}/edit"),
        format!("/incidents/{id}"),
        ReportForm::from(&inc),
    )
    .await?;
    page.editing = true;
    Ok(page)
}

/// `/incidents/{id}/edit`
pub async fn edit_form(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    render(&edit_page(&state, &session, &id).await?)
}

/// `POST /incidents/{id}/edit`
pub async fn update(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    SessionForm { session, form }: SessionForm<ReportForm>,
) -> Result<Response, AppError> {
    match actions::update(&state, &session.user, &id, &form.input(), &ip).await {
        Ok(_) => Ok(Redirect::to(&format!("/incidents/{id}?notice=updated")).into_response()),
        Err(e @ AppError::Invalid(_)) => edit_page(&state, &session, &id)
            .await?
            .with_problems(e, form),
        Err(e) => Err(e),
    }
}

// ------------------------------------------------------------ the incident

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EscalationForm {
    target: String,
    at: String,
    reference: String,
    note: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IcoForm {
    at: String,
    method: String,
    reference: String,
}

/// The sanitised version's form, as shown again after a problem.
#[derive(Debug, Default)]
pub struct ShareForm {
    title: String,
    summary: String,
    tlp: String,
    attribution: String,
    share_indicators: bool,
    orgs: Vec<i64>,
    users: Vec<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LessonsForm {
    lessons: String,
    share: Option<String>,
}

/// One evidence file, as the incident page lists it.
pub struct AttachmentRow {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
    pub sha256: String,
}

impl From<&IncidentAttachment> for AttachmentRow {
    fn from(a: &IncidentAttachment) -> Self {
        AttachmentRow {
            id: a.public_id.clone(),
            name: a.file_name.clone(),
            content_type: a.content_type.clone(),
            size: incident::size_text(u64::try_from(a.size).unwrap_or_default()),
            uploaded_by: a
                .uploader_name
                .clone()
                .unwrap_or_else(|| "(account removed)".into()),
            uploaded_at: timestamp(a.uploaded_at),
            sha256: a.sha256.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "incident.html")]
struct DetailPage {
    layout: Layout,
    id: String,
    is_operator: bool,
    full: Option<FullView>,
    sanitised: Option<SanitisedView>,
    can: Allowed,
    /// Operators: which members were warned about the supplier.
    warned_orgs: Vec<(String, String)>,
    /// The reporting organisation: how many.
    warned_count: Option<usize>,
    errors: FormErrors,
    esc: EscalationForm,
    ico: IcoForm,
    share: ShareForm,
    lessons: LessonsForm,
    targets: Vec<(&'static str, &'static str)>,
    tlps: Vec<TlpChoice>,
    org_choices: Vec<(i64, String)>,
    people_choices: Vec<(i64, String)>,
    /// Evidence files (full readers only).
    attachments: Vec<AttachmentRow>,
    max_upload_mb: usize,
}

impl DetailPage {
    fn org_checked(&self, id: &i64) -> bool {
        self.share.orgs.contains(id)
    }

    fn person_selected(&self, id: &i64) -> bool {
        self.share.users.contains(id)
    }
}

async fn detail_page(
    state: &AppState,
    session: &Session,
    seen: Seen,
    code: Option<&str>,
) -> Result<DetailPage, AppError> {
    let actor = session.user.actor();
    let region = actions::region(state);
    let inc = &seen.incident;
    let mut page = DetailPage {
        layout: layout(state, session, String::new(), code),
        id: inc.public_id.clone(),
        is_operator: actor.is_operator(),
        full: None,
        sanitised: None,
        can: Allowed::default(),
        warned_orgs: Vec::new(),
        warned_count: None,
        errors: FormErrors::default(),
        esc: EscalationForm {
            at: local(now()),
            ..EscalationForm::default()
        },
        ico: IcoForm {
            at: local(now()),
            ..IcoForm::default()
        },
        share: ShareForm::default(),
        lessons: LessonsForm::default(),
        targets: EscalationTarget::ALL
            .iter()
            .map(|t| (t.as_str(), t.label()))
            .collect(),
        tlps: tlp_choices(),
        org_choices: Vec::new(),
        people_choices: Vec::new(),
        attachments: Vec::new(),
        max_upload_mb: crate::MAX_UPLOAD_MB,
    };
    if !seen.full() {
        let v = sanitised_view(inc, region);
        page.layout.title = v.title.clone();
        page.sanitised = Some(v);
        return Ok(page);
    }
    let timeline = actions::timeline_of(state, &seen).await?;
    let choices = Choices::load(state, inc).await?;
    let full = full_view(inc, region, &timeline, &choices);
    page.layout.title = full.title.clone();
    page.can = actions::allowed(&actor, inc);
    match actions::warned(state, &actor, &seen).await? {
        Warned::Organisations(w) => {
            page.warned_orgs = w
                .into_iter()
                .map(|w| (w.org_name, timestamp(w.at)))
                .collect();
        }
        Warned::Count(n) => page.warned_count = Some(n),
        Warned::Nothing => {}
    }
    page.share = match &inc.shared {
        Some(s) => ShareForm {
            title: s.title.clone(),
            summary: s.summary.clone(),
            tlp: s.tlp.as_str().into(),
            attribution: match s.attribution {
                Attribution::Anonymous => "anonymous".into(),
                Attribution::Named => "named".into(),
            },
            share_indicators: s.share_indicators,
            orgs: s.recipient_orgs.iter().map(|o| o.0).collect(),
            users: s.recipient_users.iter().map(|u| u.0).collect(),
        },
        None => ShareForm {
            tlp: TlpLabel::Green.as_str().into(),
            attribution: "anonymous".into(),
            ..ShareForm::default()
        },
    };
    page.lessons = LessonsForm {
        lessons: inc.lessons.clone().unwrap_or_default(),
        share: inc.lessons_shared.then(|| "on".into()),
    };
    page.org_choices = choices.orgs;
    page.people_choices = choices.people;
    page.attachments = actions::attachments_of(state, &seen)
        .await?
        .iter()
        .map(AttachmentRow::from)
        .collect();
    page.full = Some(full);
    Ok(page)
}

/// `/incidents/{id}`: the version the reader may see (recorded as a read).
pub async fn show(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let seen = actions::read(&state, &session.user, &id, &ip).await?;
    render(&detail_page(&state, &session, seen, q.notice.as_deref()).await?)
}

/// Show the incident page again with a form's problems (422).
async fn again(
    state: &AppState,
    session: &Session,
    id: &str,
    ip: &str,
    errors: FormErrors,
    fill: impl FnOnce(&mut DetailPage),
) -> Result<Response, AppError> {
    again_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        state,
        session,
        id,
        ip,
        errors,
        fill,
    )
    .await
}

/// Show the incident page again with a form's problems, answering `status`.
async fn again_with(
    status: StatusCode,
    state: &AppState,
    session: &Session,
    id: &str,
    ip: &str,
    errors: FormErrors,
    fill: impl FnOnce(&mut DetailPage),
) -> Result<Response, AppError> {
    let seen = actions::read(state, &session.user, id, ip).await?;
    let mut page = detail_page(state, session, seen, None).await?;
    page.errors = errors;
    fill(&mut page);
    render_with(status, &page)
}

fn to(id: &str, code: &str) -> Response {
    Redirect::to(&format!("/incidents/{id}?notice={code}")).into_response()
}

/// `POST /incidents/{id}/escalations`
pub async fn escalate(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    SessionForm { session, form }: SessionForm<EscalationForm>,
) -> Result<Response, AppError> {
    let input = EscalationInput {
        target: form.target.clone(),
        at: form.at.clone(),
        reference: form.reference.clone(),
        note: form.note.clone(),
    };
    match actions::log_escalation(&state, &session.user, &id, &input, &ip).await {
        Ok(_) => Ok(to(&id, "escalation")),
        Err(AppError::Invalid(v)) => {
            again(
                &state,
                &session,
                &id,
                &ip,
                form_errors(v, escalation_field),
                |p| {
                    p.esc = form;
                },
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// `POST /incidents/{id}/ico`
pub async fn record_ico(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    SessionForm { session, form }: SessionForm<IcoForm>,
) -> Result<Response, AppError> {
    let input = IcoInput {
        at: form.at.clone(),
        method: form.method.clone(),
        reference: form.reference.clone(),
    };
    match actions::record_ico(&state, &session.user, &id, &input, &ip).await {
        Ok(_) => Ok(to(&id, "ico")),
        Err(AppError::Invalid(v)) => {
            again(&state, &session, &id, &ip, form_errors(v, ico_field), |p| {
                p.ico = form;
            })
            .await
        }
        Err(e) => Err(e),
    }
}

/// The sanitised version's form: repeated fields (recipients) need the raw
/// pairs. Unreadable recipient ids are named as errors.
fn share_form(fields: &[(String, String)]) -> (ShareForm, SanitisedInput, ValidationErrors) {
    let one = |name: &str| {
        fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut errors = ValidationErrors::new();
    let mut ids = |name: &'static str| -> Vec<i64> {
        let mut out = Vec::new();
        for (_, v) in fields.iter().filter(|(k, _)| k == name) {
            match v.trim().parse() {
                Ok(id) => out.push(id),
                Err(_) if v.trim().is_empty() => {}
                Err(_) => {
                    errors.add(name, "choose from the list");
                    break;
                }
            }
        }
        out
    };
    let orgs = ids("recipient_orgs");
    let users = ids("recipient_users");
    let form = ShareForm {
        title: one("shared_title"),
        summary: one("shared_summary"),
        tlp: one("shared_tlp"),
        attribution: one("attribution"),
        share_indicators: !one("share_indicators").is_empty(),
        orgs,
        users,
    };
    let input = SanitisedInput {
        title: form.title.clone(),
        summary: form.summary.clone(),
        tlp: form.tlp.clone(),
        attribution: form.attribution.clone(),
        share_indicators: form.share_indicators,
        recipient_orgs: form.orgs.clone(),
        recipient_users: form.users.clone(),
    };
    (form, input, errors)
}

/// `POST /incidents/{id}/sanitised`: share at once (the reporter or their
/// lead) or propose (anyone else allowed to draft).
pub async fn share(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    SessionForm { session, form }: SessionForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (form, input, bad_ids) = share_form(&form);
    let result = if bad_ids.is_empty() {
        actions::set_sanitised(&state, &session.user, &id, &input, &ip).await
    } else {
        // Check access first, so a refusal does not depend on the body.
        let actor = session.user.actor();
        let seen = actions::visible(&state, &actor, &id).await?;
        if !incident::can_draft_sanitised(&actor, &seen.incident.facts()) {
            return Err(AppError::Forbidden(actions::DRAFT_DENIED.into()));
        }
        Err(AppError::Invalid(bad_ids))
    };
    match result {
        Ok(inc) if inc.sharing == SharingState::Shared => Ok(to(&id, "shared")),
        Ok(_) => Ok(to(&id, "proposed")),
        Err(AppError::Invalid(v)) => {
            again(
                &state,
                &session,
                &id,
                &ip,
                form_errors(v, shared_field),
                |p| {
                    p.share = form;
                },
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// `POST /incidents/{id}/sanitised/approve`
pub async fn approve(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    SessionForm { session, .. }: SessionForm<Empty>,
) -> Result<Response, AppError> {
    actions::approve(&state, &session.user, &id, &ip).await?;
    Ok(to(&id, "approved"))
}

/// `POST /incidents/{id}/sharing/withdraw`
pub async fn withdraw(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    SessionForm { session, .. }: SessionForm<Empty>,
) -> Result<Response, AppError> {
    actions::withdraw(&state, &session.user, &id, &ip).await?;
    Ok(to(&id, "withdrawn"))
}

/// `POST /incidents/{id}/lessons`
pub async fn lessons(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    SessionForm { session, form }: SessionForm<LessonsForm>,
) -> Result<Response, AppError> {
    let input = LessonsInput {
        lessons: form.lessons.clone(),
        share: ticked(&form.share),
    };
    match actions::set_lessons(&state, &session.user, &id, &input, &ip).await {
        Ok(_) => Ok(to(&id, "lessons")),
        Err(AppError::Invalid(v)) => {
            again(&state, &session, &id, &ip, form_errors(v, same), |p| {
                p.lessons = form;
            })
            .await
        }
        Err(e) => Err(e),
    }
}

// ------------------------------------------------------- evidence files

/// `POST /incidents/{id}/attachments` (multipart, at most 10 MB): attach an
/// evidence file. A file that cannot be used shows the page again with the
/// reason (422, or 413 when too large); nothing is stored.
pub async fn upload_attachment(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    upload: SessionUpload,
) -> Result<Response, AppError> {
    let session = upload.session;
    match actions::add_attachment(&state, &session.user, &id, upload.file, &ip).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/incidents/{id}?notice=attached#attachments")).into_response(),
        ),
        Err(e @ (AppError::Invalid(_) | AppError::FileTooLarge(_) | AppError::BadRequest(_))) => {
            let status = e.status();
            let errors = match e {
                AppError::Invalid(v) => form_errors(v, same),
                other => {
                    let mut v = ValidationErrors::new();
                    v.add("file", other.to_string());
                    form_errors(v, same)
                }
            };
            again_with(status, &state, &session, &id, &ip, errors, |_| {}).await
        }
        Err(e) => Err(e),
    }
}

/// `GET /incidents/{id}/attachments/{aid}`: download an evidence file
/// (those who read the full report; recorded and audited).
pub async fn download_attachment(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SignedIn(session): SignedIn,
    Path((id, aid)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let file = actions::attachment(&state, &session.user, &id, &aid, &ip).await?;
    Ok(actions::download(file))
}

/// `POST /incidents/{id}/attachments/{aid}/delete`
pub async fn delete_attachment(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((id, aid)): Path<(String, String)>,
    SessionForm { session, .. }: SessionForm<Empty>,
) -> Result<Response, AppError> {
    actions::delete_attachment(&state, &session.user, &id, &aid, &ip).await?;
    Ok(Redirect::to(&format!(
        "/incidents/{id}?notice=attachment_deleted#attachments"
    ))
    .into_response())
}

// ------------------------------------------------------- audit and print

pub struct AccessRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub view: String,
    pub ip: String,
}

#[derive(Template)]
#[template(path = "incident_audit.html")]
struct AuditPage {
    layout: Layout,
    id: String,
    title: String,
    rows: Vec<AccessRow>,
}

/// `/incidents/{id}/audit`: who read and changed it (operators and the
/// reporting organisation's member lead).
pub async fn audit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (seen, log) = actions::access_log(&state, &session.user, &id, &ip).await?;
    let title = seen.incident.report.title.clone();
    render(&AuditPage {
        layout: layout(
            &state,
            &session,
            format!("Who read and changed: {title}"),
            None,
        ),
        id,
        title,
        rows: log
            .into_iter()
            .map(|a| AccessRow {
                at: timestamp(a.at),
                actor: a.actor,
                action: a.action.replace('_', " "),
                view: a.view,
                ip: a.ip.unwrap_or_default(),
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "incident_print.html")]
struct PrintPage {
    warp_name: String,
    title: String,
    id: String,
    full: Option<FullView>,
    sanitised: Option<SanitisedView>,
    tlp: TlpView,
    printed: String,
    printed_by: String,
}

/// `/incidents/{id}/print`: a printable page of the version the reader may
/// see, with the TLP label at its top and bottom (recorded as an export).
pub async fn print(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let seen = actions::export(&state, &session.user, &id, "print", &ip).await?;
    let region = actions::region(&state);
    let inc = &seen.incident;
    let (full, sanitised, title, tlp) = if seen.full() {
        let timeline = actions::timeline_of(&state, &seen).await?;
        let choices = Choices::load(&state, inc).await?;
        let f = full_view(inc, region, &timeline, &choices);
        let (title, tlp) = (f.title.clone(), inc.report.tlp);
        (Some(f), None, title, tlp)
    } else {
        let s = sanitised_view(inc, region);
        let title = s.title.clone();
        let tlp = inc.shared.as_ref().map_or(TlpLabel::Red, |s| s.tlp);
        (None, Some(s), title, tlp)
    };
    render(&PrintPage {
        warp_name: state.config.warp_name.clone(),
        title,
        id,
        full,
        sanitised,
        tlp: tlp.into(),
        printed: timestamp(now()),
        printed_by: session.user.display_name.clone(),
    })
}

/// `GET /incidents/{id}/stix`: the incident as a STIX 2.1 bundle, in the
/// version the reader may see (`?edition=sanitised` for what others get).
pub async fn stix(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<crate::stix_export::ExportQuery>,
) -> Result<Response, AppError> {
    crate::stix_export::respond(&state, &session.user, &id, &q, &ip).await
}

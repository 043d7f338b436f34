//! WARP advisories: operators write them, a second operator reviews and
//! publishes them, and members read the published ones meant for them (also
//! at the top of the advisory list, "From your WARP").

use super::exposure::priority_class;
use super::session::Empty;
use super::{FormErrors, Layout, render, render_with, timestamp};
use crate::AppState;
use crate::actions::warp_advisories::{self as actions, WarpText};
use crate::auth::{ClientIp, SessionForm, SignedIn};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use openwarp_core::TlpLabel;
use openwarp_core::warp_advisory::{self, Audience, Step, WarpStatus};
use openwarp_store::{Session, WarpAdvisory, WarpAdvisoryFilter};
use serde::Deserialize;

const CURRENT: &str = "warp_advisories";

/// Messages after a redirect; fixed texts only.
fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "created" => "The draft has been saved. Submit it for review when it is ready.",
        "updated" => "The changes have been saved.",
        "back_to_draft" => {
            "The changes have been saved. The advisory is a draft again: submit it for review once more."
        }
        "submitted" => {
            "The advisory has been submitted for review. Another operator must publish it."
        }
        "changes_requested" => "The advisory has been sent back to its author with your note.",
        "published" => "The advisory has been published and its alerts queued.",
        "withdrawn" => "The advisory has been withdrawn.",
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

fn warp_labels(field: &str) -> Option<&'static str> {
    Some(match field {
        "title" => "Title",
        "summary" => "Summary",
        "action" => "What members should do",
        "tlp" => "TLP label",
        "priority" => "Priority",
        "audience" => "Audience",
        "products" => "Products",
        "cves" => "CVE ids",
        "links" => "Links",
        "note" => "What to change",
        _ => return None,
    })
}

/// The CSS classes of a TLP label (FIRST's colours, as the alert pages use).
fn tlp_class(t: TlpLabel) -> String {
    format!("tlp tlp-{}", t.as_str().replace('_', "-"))
}

fn status_class(s: WarpStatus) -> &'static str {
    match s {
        WarpStatus::Draft => "grey",
        WarpStatus::InReview => "sev-medium",
        WarpStatus::Published => "warp-published",
        WarpStatus::Withdrawn => "grey",
    }
}

/// A row of an advisory list.
pub struct WarpListItem {
    pub id: i64,
    pub title: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub tlp: &'static str,
    pub priority: &'static str,
    pub priority_class: &'static str,
    pub audience: &'static str,
    /// Published on, or last changed on.
    pub when: String,
    pub author: String,
}

impl From<&WarpAdvisory> for WarpListItem {
    fn from(a: &WarpAdvisory) -> Self {
        let p = a.priority();
        WarpListItem {
            id: a.id,
            title: a.draft.title.clone(),
            status: a.status.label(),
            status_class: status_class(a.status),
            tlp: a.draft.tlp.label(),
            priority: p.as_str(),
            priority_class: priority_class(p),
            audience: a.draft.audience.label(),
            when: timestamp(a.published_at.unwrap_or(a.updated_at)),
            author: a
                .author_name
                .clone()
                .unwrap_or_else(|| "(account removed)".into()),
        }
    }
}

/// The newest published advisories `session`'s user may read, for the top
/// of the advisory list.
pub async fn from_your_warp(
    state: &AppState,
    session: &Session,
) -> Result<Vec<WarpListItem>, AppError> {
    let filter = WarpAdvisoryFilter {
        status: Some(WarpStatus::Published),
        visible_to: session.user.org_id,
        limit: Some(5),
    };
    Ok(state
        .store
        .warp_advisories(&filter)
        .await?
        .iter()
        .map(WarpListItem::from)
        .collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    notice: Option<String>,
}

pub struct Tab {
    pub value: &'static str,
    pub label: &'static str,
    pub count: i64,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "warp_advisories.html")]
struct ListPage {
    layout: Layout,
    is_operator: bool,
    tabs: Vec<Tab>,
    heading: String,
    rows: Vec<WarpListItem>,
}

/// `/warp-advisories`: operators list by status (default: awaiting review
/// first, then everything); members see the published ones meant for them.
pub async fn list(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let actor = session.user.actor();
    let status = match q.status.trim() {
        "" | "all" => None,
        s => Some(WarpStatus::parse(s).ok_or_else(|| {
            AppError::BadRequest(format!(
                "status: '{s}' is not one of draft, in_review, published, withdrawn"
            ))
        })?),
    };
    let (rows, tabs) = if actor.is_operator() {
        let counts = state.store.warp_advisory_counts().await?;
        let mut tabs = vec![Tab {
            value: "all",
            label: "All",
            count: counts.values().sum(),
            current: status.is_none(),
        }];
        tabs.extend(WarpStatus::ALL.into_iter().map(|s| Tab {
            value: s.as_str(),
            label: s.label(),
            count: counts.get(s.as_str()).copied().unwrap_or(0),
            current: status == Some(s),
        }));
        let rows = state
            .store
            .warp_advisories(&WarpAdvisoryFilter {
                status,
                ..WarpAdvisoryFilter::default()
            })
            .await?;
        (rows, tabs)
    } else {
        let rows = state
            .store
            .warp_advisories(&WarpAdvisoryFilter {
                visible_to: actor.org_id,
                ..WarpAdvisoryFilter::default()
            })
            .await?;
        (rows, Vec::new())
    };
    render(&ListPage {
        layout: layout(&state, &session, "WARP advisories", q.notice.as_deref()),
        is_operator: actor.is_operator(),
        heading: match status {
            Some(s) => format!("{} advisories", s.label()),
            None => "All advisories".into(),
        },
        rows: rows.iter().map(WarpListItem::from).collect(),
        tabs,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WarpForm {
    title: String,
    summary: String,
    action: String,
    tlp: String,
    priority: String,
    audience: String,
    products: String,
    cves: String,
    links: String,
}

impl From<WarpForm> for WarpText {
    fn from(f: WarpForm) -> Self {
        WarpText {
            title: f.title,
            summary: f.summary,
            action: f.action,
            tlp: f.tlp,
            priority: f.priority,
            audience: f.audience,
            products: f.products,
            cves: f.cves,
            links: f.links,
        }
    }
}

#[derive(Template)]
#[template(path = "warp_advisory_form.html")]
struct FormPage {
    layout: Layout,
    /// Where the form posts.
    target: String,
    cancel: String,
    /// Editing an advisory in review sends it back to draft.
    in_review: bool,
    errors: FormErrors,
    form: WarpText,
    tlps: Vec<(&'static str, &'static str)>,
    priorities: Vec<(&'static str, &'static str)>,
    audiences: Vec<(&'static str, &'static str)>,
}

impl FormPage {
    fn new(
        state: &AppState,
        session: &Session,
        title: &str,
        target: String,
        cancel: String,
        form: WarpText,
    ) -> FormPage {
        FormPage {
            layout: layout(state, session, title, None),
            target,
            cancel,
            in_review: false,
            errors: FormErrors::default(),
            form,
            tlps: TlpLabel::ALL
                .iter()
                .map(|t| (t.as_str(), t.label()))
                .collect(),
            priorities: vec![
                ("P1", "P1: fix now"),
                ("P2", "P2: fix within 14 days"),
                ("P3", "P3: fix within 30 days"),
                ("P4", "P4: fix in the normal patch cycle"),
            ],
            audiences: Audience::ALL
                .iter()
                .map(|a| (a.as_str(), a.label()))
                .collect(),
        }
    }

    fn with_problems(mut self, err: AppError, form: WarpText) -> Result<Response, AppError> {
        match err {
            AppError::Invalid(v) => {
                self.errors = FormErrors::labelled(v, warp_labels);
                self.form = form;
                render_with(StatusCode::UNPROCESSABLE_ENTITY, &self)
            }
            other => Err(other),
        }
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> Result<Response, AppError> {
    warp_advisory::can_create(&session.user.actor())?;
    render(&FormPage::new(
        &state,
        &session,
        "Write a WARP advisory",
        "/warp-advisories".into(),
        "/warp-advisories".into(),
        WarpText::blank(),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<WarpForm>,
) -> Result<Response, AppError> {
    warp_advisory::can_create(&session.user.actor())?;
    let text = WarpText::from(form);
    let result = match text.validate() {
        Ok(draft) => actions::create(&state, &session.user, &draft, &ip).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(a) => {
            Ok(Redirect::to(&format!("/warp-advisories/{}?notice=created", a.id)).into_response())
        }
        Err(e) => FormPage::new(
            &state,
            &session,
            "Write a WARP advisory",
            "/warp-advisories".into(),
            "/warp-advisories".into(),
            WarpText::blank(),
        )
        .with_problems(e, text),
    }
}

async fn edit_page(
    state: &AppState,
    session: &Session,
    id: i64,
) -> Result<(FormPage, WarpAdvisory), AppError> {
    let actor = session.user.actor();
    let a = actions::for_change(state, &actor, id).await?;
    warp_advisory::next(&actor, a.status, a.author_id, Step::Edit)?;
    let mut page = FormPage::new(
        state,
        session,
        &format!("Edit: {}", a.draft.title),
        format!("/warp-advisories/{id}/edit"),
        format!("/warp-advisories/{id}"),
        WarpText::from(&a.draft),
    );
    page.in_review = a.status == WarpStatus::InReview;
    Ok((page, a))
}

pub async fn edit_form(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render(&edit_page(&state, &session, id).await?.0)
}

pub async fn update(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<WarpForm>,
) -> Result<Response, AppError> {
    let (page, before) = edit_page(&state, &session, id).await?;
    let text = WarpText::from(form);
    let result = match text.validate() {
        Ok(draft) => actions::update(&state, &session.user, id, &draft, &ip).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => {
            let code = if before.status == WarpStatus::InReview {
                "back_to_draft"
            } else {
                "updated"
            };
            Ok(Redirect::to(&format!("/warp-advisories/{id}?notice={code}")).into_response())
        }
        Err(e) => page.with_problems(e, text),
    }
}

/// An advisory ready for the page.
pub struct View {
    pub id: i64,
    pub title: String,
    pub summary: String,
    pub action: String,
    pub tlp: &'static str,
    pub tlp_meaning: &'static str,
    pub tlp_class: String,
    pub priority: &'static str,
    pub priority_class: &'static str,
    pub priority_meaning: &'static str,
    pub audience: &'static str,
    pub products: Vec<String>,
    pub cves: Vec<String>,
    pub links: Vec<(String, String)>,
    pub status: &'static str,
    pub status_class: &'static str,
    pub withdrawn: bool,
    pub author: String,
    pub reviewer: String,
    pub review_note: String,
    pub created: String,
    pub updated: String,
    pub submitted: String,
    pub published: String,
}

impl From<&WarpAdvisory> for View {
    fn from(a: &WarpAdvisory) -> Self {
        let p = a.priority();
        View {
            id: a.id,
            title: a.draft.title.clone(),
            summary: a.draft.summary.clone(),
            action: a.draft.action.clone(),
            tlp: a.draft.tlp.label(),
            tlp_meaning: a.draft.tlp.meaning(),
            tlp_class: tlp_class(a.draft.tlp),
            priority: p.as_str(),
            priority_class: priority_class(p),
            priority_meaning: p.meaning(),
            audience: a.draft.audience.label(),
            products: a.draft.products.iter().map(ToString::to_string).collect(),
            cves: a.draft.cves.clone(),
            links: a
                .draft
                .links
                .iter()
                .map(|l| (l.label.clone(), l.url.clone()))
                .collect(),
            status: a.status.label(),
            status_class: status_class(a.status),
            withdrawn: a.status == WarpStatus::Withdrawn,
            author: a
                .author_name
                .clone()
                .unwrap_or_else(|| "(account removed)".into()),
            reviewer: a.reviewer_name.clone().unwrap_or_default(),
            review_note: a.review_note.clone().unwrap_or_default(),
            created: timestamp(a.created_at),
            updated: timestamp(a.updated_at),
            submitted: a.submitted_at.map(timestamp).unwrap_or_default(),
            published: a.published_at.map(timestamp).unwrap_or_default(),
        }
    }
}

pub struct AudienceRow {
    pub org_id: i64,
    pub name: String,
    pub products: String,
}

pub struct ReachRow {
    pub org_id: i64,
    pub name: String,
    pub alert_id: i64,
    pub alerted: String,
    pub deliveries: i64,
    pub sent: i64,
}

#[derive(Template)]
#[template(path = "warp_advisory.html")]
struct ViewPage {
    layout: Layout,
    a: View,
    is_operator: bool,
    draft: bool,
    in_review: bool,
    can_edit: bool,
    can_submit: bool,
    can_review: bool,
    can_withdraw: bool,
    /// Operators, before publication: who it would reach now.
    audience: Option<Vec<AudienceRow>>,
    /// Operators, after publication: whom it reached.
    reach: Vec<ReachRow>,
    note: String,
    errors: FormErrors,
}

async fn view_page(
    state: &AppState,
    session: &Session,
    id: i64,
    code: Option<&str>,
) -> Result<ViewPage, AppError> {
    let actor = session.user.actor();
    let a = actions::visible(state, &actor, id).await?;
    let steps = warp_advisory::allowed_steps(&actor, a.status, a.author_id);
    let published = matches!(a.status, WarpStatus::Published | WarpStatus::Withdrawn);
    let (audience, reach) = if !actor.is_operator() {
        (None, Vec::new())
    } else if published {
        let reach = state
            .store
            .warp_advisory_reach(id)
            .await?
            .into_iter()
            .map(|r| ReachRow {
                org_id: r.org_id.0,
                name: r.org_name,
                alert_id: r.alert_id,
                alerted: timestamp(r.alerted_at),
                deliveries: r.deliveries,
                sent: r.sent,
            })
            .collect();
        (None, reach)
    } else {
        let rows = state
            .store
            .warp_audience(&a.draft)
            .await?
            .into_iter()
            .map(|o| AudienceRow {
                org_id: o.org_id.0,
                name: o.org_name,
                products: o.products.join(", "),
            })
            .collect();
        (Some(rows), Vec::new())
    };
    Ok(ViewPage {
        layout: layout(state, session, a.draft.title.clone(), code),
        is_operator: actor.is_operator(),
        draft: a.status == WarpStatus::Draft,
        in_review: a.status == WarpStatus::InReview,
        can_edit: steps.contains(&Step::Edit),
        can_submit: steps.contains(&Step::Submit),
        can_review: steps.contains(&Step::Publish),
        can_withdraw: steps.contains(&Step::Withdraw),
        audience,
        reach,
        a: View::from(&a),
        note: String::new(),
        errors: FormErrors::default(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    render(&view_page(&state, &session, id, q.notice.as_deref()).await?)
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<Empty>,
) -> Result<Response, AppError> {
    actions::submit(&state, &session.user, id, &ip).await?;
    Ok(Redirect::to(&format!("/warp-advisories/{id}?notice=submitted")).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoteForm {
    note: String,
}

pub async fn request_changes(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<NoteForm>,
) -> Result<Response, AppError> {
    match actions::request_changes(&state, &session.user, id, &form.note, &ip).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/warp-advisories/{id}?notice=changes_requested"))
                .into_response(),
        ),
        Err(AppError::Invalid(v)) => {
            let mut page = view_page(&state, &session, id, None).await?;
            page.errors = FormErrors::labelled(v, warp_labels);
            page.note = form.note;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

pub async fn publish(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<Empty>,
) -> Result<Response, AppError> {
    actions::publish(&state, &session.user, id, &ip).await?;
    Ok(Redirect::to(&format!("/warp-advisories/{id}?notice=published")).into_response())
}

pub async fn withdraw(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<Empty>,
) -> Result<Response, AppError> {
    actions::withdraw(&state, &session.user, id, &ip).await?;
    Ok(Redirect::to(&format!("/warp-advisories/{id}?notice=withdrawn")).into_response())
}

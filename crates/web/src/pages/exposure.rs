//! "My exposure": a member's exposures, most urgent first, each with the
//! plain-English line and the reason for its priority; one exposure's
//! evidence, remedy and history; and the member's status decisions.
//! Operators see any member's pages, read-only.

use super::{FormErrors, Layout, render, render_with, timestamp};
use crate::AppState;
use crate::actions::{self, exposures};
use crate::auth::{ClientIp, SessionForm, SignedIn};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use openwarp_core::{OrgId, ValidationErrors};
use openwarp_matching::matcher::Evidence;
use openwarp_matching::priority::{Priority, RULE};
use openwarp_matching::status::ExposureStatus;
use openwarp_store::{Exposure, ExposureEvent, Organisation, Session};
use serde::Deserialize;

/// The CSS class of a priority tag (the tag always shows the text too).
pub fn priority_class(p: Priority) -> &'static str {
    match p {
        Priority::P1 => "prio-p1",
        Priority::P2 => "prio-p2",
        Priority::P3 => "prio-p3",
        Priority::P4 => "prio-p4",
    }
}

/// Why an exposure no longer applies, in words.
fn inactive_note(x: &Exposure) -> &'static str {
    match x.verdict.as_str() {
        "not_affected" => "Cleared: the vendor says this version is not affected",
        _ => "No longer matches: the advisory or the item changed",
    }
}

/// One exposure as the tables show it.
pub struct ExposureRow {
    pub id: i64,
    pub org_id: i64,
    pub item_id: i64,
    pub item_name: String,
    pub vuln_id: String,
    pub priority: &'static str,
    pub priority_class: &'static str,
    pub meaning: &'static str,
    pub line: String,
    pub reason: String,
    pub status: &'static str,
    pub first_seen: String,
    pub active: bool,
    pub inactive_note: &'static str,
}

impl ExposureRow {
    pub fn new(x: &Exposure) -> ExposureRow {
        ExposureRow {
            id: x.id,
            org_id: x.org_id,
            item_id: x.item_id,
            item_name: x.item_name.clone(),
            vuln_id: x.vuln_id.clone(),
            priority: x.priority.as_str(),
            priority_class: priority_class(x.priority),
            meaning: x.priority.meaning(),
            line: x.line.clone(),
            reason: x.reason_sentence(),
            status: x.status.label(),
            first_seen: x.first_seen.format("%-d %b %Y").to_string(),
            active: x.active,
            inactive_note: if x.active { "" } else { inactive_note(x) },
        }
    }
}

/// One count in the row of priority cards.
pub struct PriorityCount {
    pub priority: &'static str,
    pub class: &'static str,
    pub meaning: &'static str,
    pub count: i64,
}

/// Open exposure counts, P1 first.
pub fn priority_counts(counts: [i64; 4]) -> Vec<PriorityCount> {
    Priority::ALL
        .into_iter()
        .zip(counts)
        .map(|(p, count)| PriorityCount {
            priority: p.as_str(),
            class: priority_class(p),
            meaning: p.meaning(),
            count,
        })
        .collect()
}

/// `/exposure`: a member's own list; operators choose an organisation.
pub async fn mine(SignedIn(session): SignedIn) -> Redirect {
    match session.user.org_id {
        Some(org) => Redirect::to(&format!("/orgs/{org}/exposure")),
        None => Redirect::to("/orgs"),
    }
}

/// Exposures per page of the list.
pub const PAGE_SIZE: i64 = 50;

/// The filter form, as text, and the page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExposureQuery {
    pub priority: String,
    pub status: String,
    pub include_inactive: String,
    pub page: String,
}

impl ExposureQuery {
    pub fn inactive_on(&self) -> bool {
        matches!(self.include_inactive.trim(), "on" | "true" | "1" | "yes")
    }

    /// 1-based page number; a bad value means page 1, and a problem.
    fn page(&self, problems: &mut Vec<String>) -> i64 {
        super::page_number(&self.page, problems)
    }
}

/// Where the list is in its pages, and the links to the neighbours.
struct Pager {
    page: i64,
    pages: i64,
    first: i64,
    last: i64,
    prev_link: Option<String>,
    next_link: Option<String>,
    /// Asked for a page after the last one: a link to the last.
    past_end: Option<String>,
}

impl Pager {
    fn new(path: &str, raw: Option<&str>, page: i64, shown: i64, total: i64) -> Pager {
        let pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
        let offset = (page - 1) * PAGE_SIZE;
        let past_end = page > pages.max(1);
        let link = |n: i64| super::page_link(path, raw, n);
        Pager {
            page,
            pages,
            first: offset + 1,
            last: offset + shown,
            prev_link: (page > 1 && !past_end).then(|| link(page - 1)),
            next_link: (page < pages).then(|| link(page + 1)),
            past_end: (past_end && pages > 0).then(|| link(pages)),
        }
    }
}

#[derive(Template)]
#[template(path = "exposure.html")]
struct ListPage {
    layout: Layout,
    org: Organisation,
    heading: String,
    counts: Vec<PriorityCount>,
    rows: Vec<ExposureRow>,
    total: i64,
    pager: Pager,
    f: ExposureQuery,
    priorities: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    problems: Vec<String>,
    rule: &'static str,
    filtered: bool,
}

/// "My exposure" for members, "Exposure of …" for operators.
fn heading(session: &Session, org: &Organisation) -> String {
    if session.user.org_id == Some(org.id) {
        "My exposure".into()
    } else {
        format!("Exposure of {}", org.name)
    }
}

fn current(session: &Session) -> &'static str {
    if session.user.org_id.is_some() {
        "exposure"
    } else {
        "orgs"
    }
}

pub async fn list(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let org = actions::visible_org(&state, &session.user.actor(), OrgId(id)).await?;
    let f: ExposureQuery = raw
        .as_deref()
        .map(serde_urlencoded::from_str)
        .transpose()
        .map_err(|e| AppError::BadRequest(format!("the filter could not be read: {e}")))?
        .unwrap_or_default();
    let (filter, mut problems) = exposures::filter(&f.priority, &f.status, &f.include_inactive);
    let page = f.page(&mut problems);
    let found = state
        .store
        .list_exposures_page(org.id, &filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        .await?;
    let path = format!("/orgs/{}/exposure", org.id);
    let pager = Pager::new(
        &path,
        raw.as_deref(),
        page,
        found.rows.len() as i64,
        found.total,
    );
    let rows = found.rows.iter().map(ExposureRow::new).collect();
    let counts = priority_counts(state.store.exposure_counts(org.id).await?);
    let heading = heading(&session, &org);
    let filtered = filter.priority.is_some() || filter.status.is_some() || filter.include_inactive;
    let page = ListPage {
        layout: Layout::signed_in(&state, &session, heading.clone(), current(&session)),
        org,
        heading,
        counts,
        rows,
        total: found.total,
        pager,
        f,
        priorities: std::iter::once(("any", "Any priority"))
            .chain(Priority::ALL.iter().map(|p| (p.as_str(), p.as_str())))
            .collect(),
        statuses: std::iter::once(("any", "Any status"))
            .chain(ExposureStatus::ALL.iter().map(|s| (s.as_str(), s.label())))
            .collect(),
        problems: problems.clone(),
        rule: RULE,
        filtered,
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    render_with(status, &page)
}

pub struct EvidenceView {
    pub source: &'static str,
    pub record_id: String,
    pub statement: String,
    pub why: String,
}

impl From<&Evidence> for EvidenceView {
    fn from(e: &Evidence) -> Self {
        EvidenceView {
            source: e.source.label(),
            record_id: e.record_id.clone(),
            statement: e.statement.clone(),
            why: e.why.clone(),
        }
    }
}

pub struct EventView {
    pub at: String,
    pub who: String,
    pub what: &'static str,
    pub detail: String,
}

impl From<&ExposureEvent> for EventView {
    fn from(e: &ExposureEvent) -> Self {
        EventView {
            at: timestamp(e.at),
            who: e.by.clone().unwrap_or_else(|| "openwarp (matching)".into()),
            what: match e.kind.as_str() {
                "found" => "Found",
                "changed" => "Changed",
                "cleared" => "Cleared",
                "status" => "Status set",
                _ => "Event",
            },
            detail: e.detail.clone(),
        }
    }
}

/// Facts about one exposure for its page.
pub struct DetailView {
    pub row: ExposureRow,
    pub title: String,
    pub item_version: String,
    pub owner: String,
    pub verdict: &'static str,
    pub severity: Option<String>,
    pub cvss: String,
    pub kev: bool,
    pub epss: String,
    pub status_by: String,
    pub status_at: String,
    pub changed: String,
}

/// "update to 2.15.0" → "Update to 2.15.0."
fn as_sentence(s: &str) -> String {
    let s = s.trim();
    let mut chars = s.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

fn verdict_text(v: &str) -> &'static str {
    match v {
        "affected" => "Affected: the version you run is within what a source calls affected",
        "version_unknown" => {
            "Possibly affected: a source names the product, but the item has no version to check"
        }
        "not_affected" => "Not affected: the vendor says this version is not affected (VEX)",
        _ => "No longer matches",
    }
}

#[derive(Template)]
#[template(path = "exposure_detail.html")]
struct DetailPage {
    layout: Layout,
    org: Organisation,
    list_heading: String,
    x: DetailView,
    evidence: Vec<EvidenceView>,
    cleared_by: Vec<EvidenceView>,
    remedy: Option<String>,
    events: Vec<EventView>,
    can_edit: bool,
    errors: FormErrors,
    statuses: Vec<(&'static str, &'static str)>,
    selected: String,
    note: String,
    // Federation (issue 9)
    /// What partner WARPs shared about this vulnerability, as the reader may see.
    partners: Vec<super::federation::PartnerView>,
    // End of federation (issue 9)
}

fn status_labels(field: &str) -> Option<&'static str> {
    match field {
        "exposure_status" => Some("Status"),
        "note" => Some("Note"),
        _ => None,
    }
}

async fn detail_page(
    state: &AppState,
    session: &Session,
    org: OrgId,
    id: i64,
    notice: Option<&str>,
    errors: FormErrors,
    form: Option<StatusForm>,
) -> Result<DetailPage, AppError> {
    let actor = session.user.actor();
    let org = actions::visible_org(state, &actor, org).await?;
    let (x, events) = exposures::exposure(state, org.id, id).await?;
    let (selected, note) = match form {
        Some(f) => (f.exposure_status, f.note),
        None => (x.status.as_str().to_string(), String::new()),
    };
    let list_heading = heading(session, &org);
    // Federation (issue 9)
    let partners = super::federation::about_cve(state, &actor, &x.vuln_id).await?;
    // End of federation (issue 9)
    let view = DetailView {
        row: ExposureRow::new(&x),
        title: x.title.clone(),
        item_version: x.item_version.clone().unwrap_or_default(),
        owner: x.item_owner.clone().unwrap_or_default(),
        verdict: verdict_text(&x.verdict),
        severity: x.severity.clone(),
        cvss: x.cvss_score.map(|s| format!("{s:.1}")).unwrap_or_default(),
        kev: x.kev,
        epss: x
            .epss_percentile
            .map(|p| {
                format!(
                    "higher than {:.1}% of all scored CVEs",
                    (p * 1000.0).floor() / 10.0
                )
            })
            .unwrap_or_default(),
        status_by: x.status_by.clone().unwrap_or_default(),
        status_at: x.status_at.map(timestamp).unwrap_or_default(),
        changed: timestamp(x.changed_at),
    };
    Ok(DetailPage {
        layout: Layout::signed_in(
            state,
            session,
            format!("{} on {}", x.vuln_id, x.item_name),
            current(session),
        )
        .with_notice(notice),
        can_edit: actor.can_edit_member_records(org.id).is_ok(),
        org,
        list_heading,
        evidence: x.finding.evidence.iter().map(EvidenceView::from).collect(),
        cleared_by: x
            .finding
            .cleared_by
            .iter()
            .map(EvidenceView::from)
            .collect(),
        remedy: x.finding.remedy.as_deref().map(as_sentence),
        events: events.iter().map(EventView::from).collect(),
        x: view,
        errors,
        statuses: ExposureStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        selected,
        note,
        // Federation (issue 9)
        partners,
        // End of federation (issue 9)
    })
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path((org, id)): Path<(i64, i64)>,
    axum::extract::Query(q): axum::extract::Query<super::dashboard::NoticeQuery>,
) -> Result<Response, AppError> {
    let page = detail_page(
        &state,
        &session,
        OrgId(org),
        id,
        q.notice.as_deref(),
        FormErrors::default(),
        None,
    )
    .await?;
    render(&page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatusForm {
    exposure_status: String,
    note: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((org, id)): Path<(i64, i64)>,
    SessionForm { session, form }: SessionForm<StatusForm>,
) -> Result<Response, AppError> {
    let org = OrgId(org);
    actions::require_record_editor(&session.user.actor(), org)?;
    let mut errors = ValidationErrors::new();
    let status = exposures::status(&form.exposure_status)
        .map_err(|m| errors.add("exposure_status", m))
        .ok();
    let note = exposures::note(&form.note)
        .map_err(|m| errors.add("note", m))
        .ok();
    if let (Some(status), Some(note)) = (status, note) {
        exposures::set_status(&state, &session.user, org, id, status, note.as_deref(), &ip).await?;
        return Ok(Redirect::to(&format!(
            "/orgs/{org}/exposure/{id}?notice=status_saved#history"
        ))
        .into_response());
    }
    let page = detail_page(
        &state,
        &session,
        org,
        id,
        None,
        FormErrors::labelled(errors, status_labels),
        Some(form),
    )
    .await?;
    render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

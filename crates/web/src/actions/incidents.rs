//! Confidential incidents: reporting, reading, the escalation log, the ICO
//! record, sharing a sanitised version, lessons learnt, evidence files, the
//! audit of who read what, and exports. Pages and API both come through here, so no front
//! end can skip a step.
//!
//! Every operation on one incident goes the same way:
//! 1. load it by its public id and ask [`incident::view_for`] which version
//!    the actor may read — none is a 404, the same answer as for an id that
//!    does not exist, so nobody learns that it does;
//! 2. ask the permission for the operation (`can_update`, …): visible but not
//!    allowed is a 403 saying why;
//! 3. validate the input (only now, so a refusal never depends on the body);
//! 4. call the store;
//! 5. record the read or change in the incident's access log, and sensitive
//!    decisions (reporting, sharing, exporting…) in the audit log.
//!
//! Lists and searches record nothing per incident, but never include one the
//! actor may not see, and a search matches only the text of the version the
//! actor may read: a word found only in the full report never finds an
//! incident someone sees sanitised.

use crate::AppState;
use crate::actions::inventory::{MAX_UPLOAD_BYTES, MAX_UPLOAD_MB};
use crate::audit::record;
use crate::auth::Upload;
use crate::error::AppError;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use openwarp_core::incident::{
    self, EscalationTarget, IncidentInput, IncidentStatus, IncidentView, SanitisedDraft,
    SanitisedInput, SharingState, parse_time,
};
use openwarp_core::{Actor, OrgId, UserId, ValidationErrors};
use openwarp_store::{
    AttachmentFile, Incident, IncidentAccess, IncidentAttachment, IncidentEvent, IncidentFilter,
    NewAttachment, SupplierWarning, User, now,
};
use serde::Deserialize;
use serde_json::json;
use std::fmt::Write as _;

/// Why a visible incident may not be changed this way (403s).
pub const UPDATE_DENIED: &str = "only the reporting organisation changes its report, its status and the ICO record \
     (the WARP's operators log referrals and may propose a sanitised version)";
pub const LOG_DENIED: &str =
    "only the reporting organisation and the WARP's operators log referrals on an incident";
pub const DRAFT_DENIED: &str =
    "only the reporting organisation and the WARP's operators write a sanitised version";
pub const AUTHORISE_DENIED: &str = "only the reporter or their organisation's member lead may authorise sharing, \
     approve a proposed version or withdraw it";
pub const AUDIT_DENIED: &str = "only the WARP's operators and the reporting organisation's member lead see who read \
     and changed an incident";
pub const FULL_ONLY: &str = "the timeline is part of the full report, which only the reporting organisation and \
     the WARP's operators read";
pub const REPORT_DENIED: &str = "incidents are reported by member organisations' users; operators log referrals \
     and propose sanitised versions on members' reports";
pub const ATTACH_DENIED: &str = "only the reporting organisation adds and deletes evidence files (the WARP's \
     operators may read them)";
pub const LESSONS_SHARE_DENIED: &str = "only the reporter or their organisation's member lead may decide whether \
     lessons learnt are shared with every member";

fn not_found() -> AppError {
    AppError::NotFound("incident")
}

fn require(allowed: bool, why: &str) -> Result<(), AppError> {
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden(why.into()))
    }
}

/// The words anonymous attribution uses for where a member is ("a district
/// or borough council in South East England").
pub fn region(state: &AppState) -> &str {
    let r = state.config.warp_region.trim();
    if r.is_empty() { "the region" } else { r }
}

/// How a version is named in the access log and the API.
pub fn view_name(v: IncidentView) -> &'static str {
    match v {
        IncidentView::Full => "full",
        IncidentView::Sanitised => "sanitised",
    }
}

/// An incident and the version its reader may see.
pub struct Seen {
    pub incident: Incident,
    pub view: IncidentView,
}

impl Seen {
    pub fn full(&self) -> bool {
        self.view == IncidentView::Full
    }
}

/// The incident, with the version `actor` may read; 404 when it does not
/// exist *or* `actor` may read no version of it.
pub async fn visible(state: &AppState, actor: &Actor, public_id: &str) -> Result<Seen, AppError> {
    // Public ids are `inc-` and 22 characters; anything else cannot exist.
    if !public_id.starts_with("inc-") || public_id.len() > 64 {
        return Err(not_found());
    }
    let incident = state
        .store
        .incident(public_id)
        .await?
        .ok_or_else(not_found)?;
    let view = incident::view_for(actor, &incident.facts()).ok_or_else(not_found)?;
    Ok(Seen { incident, view })
}

fn actor_text(user: &User) -> String {
    format!("{} <{}>", user.display_name, user.email)
}

/// Record a read. A read that cannot be recorded is not served: the access
/// log is the reporter's assurance of who saw their report.
async fn log_read(
    state: &AppState,
    seen: &Seen,
    user: &User,
    action: &str,
    ip: &str,
) -> Result<(), AppError> {
    state
        .store
        .log_incident_access(
            &seen.incident,
            Some(user.id),
            &actor_text(user),
            action,
            view_name(seen.view),
            Some(ip),
            now(),
        )
        .await?;
    Ok(())
}

/// Record a change (already committed: a failure here is logged loudly but
/// does not turn the change into an error).
async fn log_change(state: &AppState, inc: &Incident, user: &User, action: &str, ip: &str) {
    if let Err(e) = state
        .store
        .log_incident_access(
            inc,
            Some(user.id),
            &actor_text(user),
            action,
            "full",
            Some(ip),
            now(),
        )
        .await
    {
        tracing::error!(error = %e, incident = %inc.public_id, action, "could not write the incident access log");
    }
}

async fn audit(
    state: &AppState,
    user: &User,
    action: &str,
    inc: &Incident,
    detail: serde_json::Value,
    ip: &str,
) {
    record(
        state,
        Some(user),
        action,
        Some(inc.org_id),
        &inc.public_id,
        detail,
        Some(ip),
    )
    .await;
}

/// A change to an incident: in its access log as `action`, and in the audit
/// log as `incident.{action}` with `detail`.
async fn record_change(
    state: &AppState,
    user: &User,
    inc: &Incident,
    action: &str,
    detail: serde_json::Value,
    ip: &str,
) {
    log_change(state, inc, user, action, ip).await;
    audit(state, user, &format!("incident.{action}"), inc, detail, ip).await;
}

/// Read one incident (the detail page, `GET /api/v1/incidents/{id}`).
pub async fn read(
    state: &AppState,
    user: &User,
    public_id: &str,
    ip: &str,
) -> Result<Seen, AppError> {
    let seen = visible(state, &user.actor(), public_id).await?;
    log_read(state, &seen, user, "read", ip).await?;
    audit(
        state,
        user,
        "incident.read",
        &seen.incident,
        json!({ "view": view_name(seen.view) }),
        ip,
    )
    .await;
    Ok(seen)
}

/// Export the version `user` may read (`format`: `print`, `stix`, …):
/// recorded as an `export` read and audited as `incident.export`.
pub async fn export(
    state: &AppState,
    user: &User,
    public_id: &str,
    format: &str,
    ip: &str,
) -> Result<Seen, AppError> {
    let seen = visible(state, &user.actor(), public_id).await?;
    log_read(state, &seen, user, "export", ip).await?;
    audit(
        state,
        user,
        "incident.export",
        &seen.incident,
        json!({ "format": format, "view": view_name(seen.view) }),
        ip,
    )
    .await;
    Ok(seen)
}

/// How someone reading a list may see an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    Full,
    Sanitised,
    /// Only its shared lessons learnt.
    Lessons,
}

/// What a list shows, each incident once, newest first.
#[derive(Default)]
pub struct Listing {
    /// Read in full: the actor's organisation's own (operators: every one).
    pub own: Vec<Incident>,
    /// Shared with the actor as a sanitised version.
    pub shared: Vec<Incident>,
    /// Lessons learnt shared with every member, from incidents the actor
    /// does not read in full.
    pub lessons: Vec<Incident>,
}

/// Narrowing a list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Words that must all appear in the version the actor may read.
    pub q: String,
    /// Operators: one organisation's incidents.
    pub org: Option<OrgId>,
    pub status: Option<IncidentStatus>,
    pub sharing: Option<SharingState>,
}

fn bad_filter(what: &str, value: &str) -> AppError {
    AppError::BadRequest(format!("{what}: '{value}' is not one of the choices"))
}

impl ListQuery {
    /// Read list parameters as pages and the API receive them (an unknown
    /// filter value is a 400 naming it).
    pub fn parse(q: &str, org: &str, status: &str, sharing: &str) -> Result<ListQuery, AppError> {
        Ok(ListQuery {
            q: q.chars().take(200).collect(),
            org: match org.trim() {
                "" => None,
                o => Some(OrgId(o.parse().map_err(|_| bad_filter("organisation", o))?)),
            },
            status: match status.trim() {
                "" => None,
                s => Some(IncidentStatus::parse(s).ok_or_else(|| bad_filter("status", s))?),
            },
            sharing: match sharing.trim() {
                "" => None,
                s => Some(SharingState::parse(s).ok_or_else(|| bad_filter("sharing", s))?),
            },
        })
    }
}

/// The lower-cased words of a search (at most 10, each at most 100 characters).
fn search_words(q: &str) -> Vec<String> {
    q.split_whitespace()
        .take(10)
        .map(|w| w.chars().take(100).collect::<String>().to_lowercase())
        .collect()
}

/// The text of the version `how` shows, which is all a search may look at.
fn searchable(inc: &Incident, how: Listed, region: &str) -> String {
    let mut parts: Vec<String> = vec![inc.report.category.label().to_string()];
    match how {
        Listed::Full => {
            let r = &inc.report;
            parts.extend([
                inc.public_id.clone(),
                r.title.clone(),
                r.summary.clone(),
                r.affected_services.clone(),
                r.supplier.clone().unwrap_or_default(),
                inc.org_name.clone(),
                inc.reporter_name.clone().unwrap_or_default(),
                inc.lessons.clone().unwrap_or_default(),
            ]);
            parts.extend(r.indicators.iter().map(|i| i.value.clone()));
            if let Some(s) = &inc.shared {
                parts.extend([s.title.clone(), s.summary.clone()]);
            }
        }
        Listed::Sanitised => {
            parts.push(inc.public_id.clone());
            parts.push(inc.attribution(region));
            if let Some(s) = &inc.shared {
                parts.extend([s.title.clone(), s.summary.clone()]);
                if s.share_indicators {
                    parts.extend(inc.report.indicators.iter().map(|i| i.value.clone()));
                }
            }
            if inc.lessons_shared {
                parts.push(inc.lessons.clone().unwrap_or_default());
            }
        }
        Listed::Lessons => {
            parts.push(incident::attribution_text(
                incident::Attribution::Anonymous,
                &inc.org_name,
                inc.council_type,
                region,
            ));
            parts.push(inc.lessons.clone().unwrap_or_default());
        }
    }
    parts.join("\n").to_lowercase()
}

/// How `actor` may see `inc` in a list, if at all.
pub fn listed(actor: &Actor, inc: &Incident) -> Option<Listed> {
    let f = inc.facts();
    match incident::view_for(actor, &f) {
        Some(IncidentView::Full) => Some(Listed::Full),
        Some(IncidentView::Sanitised) => Some(Listed::Sanitised),
        None if inc.lessons.is_some()
            && incident::may_read_lessons(actor, &f, inc.lessons_shared) =>
        {
            Some(Listed::Lessons)
        }
        None => None,
    }
}

/// How the reporting organisation is named beside shared lessons learnt:
/// as the shared version names it to those who read that version, and
/// anonymously to everyone else (naming the council in a version meant for
/// some members does not name it to all).
pub fn lessons_attribution(actor: &Actor, inc: &Incident, region: &str) -> String {
    if listed(actor, inc) == Some(Listed::Lessons) {
        incident::attribution_text(
            incident::Attribution::Anonymous,
            &inc.org_name,
            inc.council_type,
            region,
        )
    } else {
        inc.attribution(region)
    }
}

/// The incidents `actor` may see, narrowed by `q`. Records nothing.
pub async fn list(state: &AppState, actor: &Actor, q: &ListQuery) -> Result<Listing, AppError> {
    let filter = if actor.is_operator() {
        IncidentFilter {
            all: true,
            limit: Some(2000),
            ..IncidentFilter::default()
        }
    } else {
        IncidentFilter {
            org: actor.org_id,
            include_shared: true,
            limit: Some(2000),
            ..IncidentFilter::default()
        }
    };
    let words = search_words(&q.q);
    let region = region(state);
    let mut out = Listing::default();
    for inc in state.store.incidents(&filter).await? {
        let Some(how) = listed(actor, &inc) else {
            continue;
        };
        if !words.is_empty() {
            let text = searchable(&inc, how, region);
            if !words.iter().all(|w| text.contains(w.as_str())) {
                continue;
            }
        }
        let narrowed = q.org.is_some_and(|o| o != inc.org_id)
            || q.status.is_some_and(|s| s != inc.report.status)
            || q.sharing.is_some_and(|s| s != inc.sharing);
        if narrowed {
            continue;
        }
        let lessons = inc.lessons_shared && inc.lessons.is_some() && how != Listed::Full;
        match how {
            Listed::Full => out.own.push(inc),
            Listed::Sanitised if lessons => {
                out.lessons.push(inc.clone());
                out.shared.push(inc);
            }
            Listed::Sanitised => out.shared.push(inc),
            Listed::Lessons => out.lessons.push(inc),
        }
    }
    Ok(out)
}

/// Report a new incident (members' users).
pub async fn report(
    state: &AppState,
    user: &User,
    input: &IncidentInput,
    ip: &str,
) -> Result<Incident, AppError> {
    let actor = user.actor();
    require(incident::can_report(&actor), REPORT_DENIED)?;
    let org = actor
        .org_id
        .ok_or_else(|| AppError::Forbidden(REPORT_DENIED.into()))?;
    let draft = input.validate(now())?;
    let inc = state
        .store
        .create_incident(org, user.id, &draft, region(state), now())
        .await?;
    record_change(
        state,
        user,
        &inc,
        "report",
        json!({
            "category": draft.category.as_str(),
            "tlp": draft.tlp.as_str(),
            "personal_data": draft.personal_data,
            "supplier_named": draft.supplier.is_some(),
        }),
        ip,
    )
    .await;
    Ok(inc)
}

/// The incident for a change needing `allowed`, or 404/403.
async fn for_change(
    state: &AppState,
    user: &User,
    public_id: &str,
    allowed: fn(&Actor, &incident::IncidentFacts) -> bool,
    why: &str,
) -> Result<Incident, AppError> {
    let actor = user.actor();
    let seen = visible(state, &actor, public_id).await?;
    require(allowed(&actor, &seen.incident.facts()), why)?;
    Ok(seen.incident)
}

/// Check that `user` may change the report (for showing the edit form).
pub async fn for_update(
    state: &AppState,
    user: &User,
    public_id: &str,
) -> Result<Incident, AppError> {
    for_change(state, user, public_id, incident::can_update, UPDATE_DENIED).await
}

/// Replace the report's facts (the reporting organisation).
pub async fn update(
    state: &AppState,
    user: &User,
    public_id: &str,
    input: &IncidentInput,
    ip: &str,
) -> Result<Incident, AppError> {
    let before = for_update(state, user, public_id).await?;
    let draft = input.validate(now())?;
    let inc = state
        .store
        .update_incident(public_id, &draft, user.id, region(state), now())
        .await?;
    record_change(
        state,
        user,
        &inc,
        "update",
        json!({
            "status": [before.report.status.as_str(), inc.report.status.as_str()],
            "tlp": [before.report.tlp.as_str(), inc.report.tlp.as_str()],
        }),
        ip,
    )
    .await;
    Ok(inc)
}

fn text_field(
    e: &mut ValidationErrors,
    field: &'static str,
    raw: &str,
    max: usize,
    required: bool,
) -> String {
    let t = raw.trim();
    if required && t.is_empty() {
        e.add(field, "is required");
    } else if t.chars().count() > max {
        e.add(field, format!("must be at most {max} characters"));
    } else if t
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        e.add(field, "must not contain control characters");
    }
    t.to_string()
}

/// A time as forms send it (UTC), `now` when left empty, never in the future.
fn when(
    e: &mut ValidationErrors,
    field: &'static str,
    raw: &str,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if raw.trim().is_empty() {
        return Some(now);
    }
    match parse_time(raw) {
        Some(t) if t > now + Duration::minutes(5) => {
            e.add(field, "must not be in the future");
            None
        }
        Some(t) => Some(t),
        None => {
            e.add(field, "must be a date and time like 2026-11-23T09:30 (UTC)");
            None
        }
    }
}

/// A referral as a form or JSON body gave it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct EscalationInput {
    /// One of [`EscalationTarget`]'s names (`ncsc`, `rocu`, …).
    pub target: String,
    /// When it was referred (UTC; empty: now).
    pub at: String,
    /// Their reference (crime number, case id…), optional.
    pub reference: String,
    pub note: String,
}

/// A valid referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub target: EscalationTarget,
    pub at: DateTime<Utc>,
    pub reference: Option<String>,
    pub detail: String,
}

impl EscalationInput {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<Escalation, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let target = EscalationTarget::parse(&self.target);
        if target.is_none() {
            e.add("target", "choose who it was referred to");
        }
        let at = when(&mut e, "at", &self.at, now);
        let reference = text_field(&mut e, "reference", &self.reference, 200, false);
        let note = text_field(&mut e, "note", &self.note, 2000, false);
        match (target, at) {
            (Some(target), Some(at)) if e.is_empty() => Ok(Escalation {
                target,
                at,
                reference: (!reference.is_empty()).then_some(reference),
                detail: if note.is_empty() {
                    format!("Referred to {}", target.label())
                } else {
                    note
                },
            }),
            _ => Err(e),
        }
    }
}

/// Log a referral (the reporting organisation, or an operator).
pub async fn log_escalation(
    state: &AppState,
    user: &User,
    public_id: &str,
    input: &EscalationInput,
    ip: &str,
) -> Result<Incident, AppError> {
    let inc = for_change(state, user, public_id, incident::can_log, LOG_DENIED).await?;
    let esc = input.validate(now())?;
    state
        .store
        .log_incident_event(
            public_id,
            "escalation",
            Some(esc.target),
            esc.reference.as_deref(),
            &esc.detail,
            esc.at,
            user.id,
            now(),
        )
        .await?;
    record_change(
        state,
        user,
        &inc,
        "escalation",
        json!({ "target": esc.target.as_str(), "at": esc.at }),
        ip,
    )
    .await;
    Ok(inc)
}

/// How and when the ICO was told, as a form or JSON body gave it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct IcoInput {
    /// When (UTC; empty: now).
    pub at: String,
    /// How: "online breach report form", "telephone"…
    pub method: String,
    /// The ICO's case reference, optional.
    pub reference: String,
}

/// A valid ICO notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcoNotification {
    pub at: DateTime<Utc>,
    pub method: String,
    pub reference: Option<String>,
}

impl IcoInput {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<IcoNotification, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let at = when(&mut e, "at", &self.at, now);
        let method = text_field(&mut e, "method", &self.method, 200, true);
        let reference = text_field(&mut e, "reference", &self.reference, 200, false);
        match at {
            Some(at) if e.is_empty() => Ok(IcoNotification {
                at,
                method,
                reference: (!reference.is_empty()).then_some(reference),
            }),
            _ => Err(e),
        }
    }
}

/// Record that the ICO was told (the reporting organisation).
pub async fn record_ico(
    state: &AppState,
    user: &User,
    public_id: &str,
    input: &IcoInput,
    ip: &str,
) -> Result<Incident, AppError> {
    for_update(state, user, public_id).await?;
    let n = input.validate(now())?;
    let inc = state
        .store
        .record_ico_notification(
            public_id,
            n.at,
            &n.method,
            n.reference.as_deref(),
            user.id,
            now(),
        )
        .await?;
    record_change(
        state,
        user,
        &inc,
        "ico",
        json!({ "at": n.at, "method": n.method }),
        ip,
    )
    .await;
    Ok(inc)
}

/// Recipients must be organisations and people that exist.
async fn check_recipients(state: &AppState, d: &SanitisedDraft) -> Result<(), AppError> {
    let mut e = ValidationErrors::new();
    for o in &d.recipient_orgs {
        if state.store.get_org(*o).await?.is_none() {
            e.add(
                "recipient_orgs",
                format!("organisation {} does not exist", o.0),
            );
            break;
        }
    }
    for u in &d.recipient_users {
        if state.store.get_user(*u).await?.is_none() {
            e.add("recipient_users", format!("user {} does not exist", u.0));
            break;
        }
    }
    if e.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(e))
    }
}

/// Write the sanitised version. The reporter or their member lead shares it
/// at once; anyone else allowed to draft (an operator, a colleague)
/// proposes it, and it waits for their approval.
pub async fn set_sanitised(
    state: &AppState,
    user: &User,
    public_id: &str,
    input: &SanitisedInput,
    ip: &str,
) -> Result<Incident, AppError> {
    let actor = user.actor();
    let before = for_change(
        state,
        user,
        public_id,
        incident::can_draft_sanitised,
        DRAFT_DENIED,
    )
    .await?;
    let draft = input.validate()?;
    check_recipients(state, &draft).await?;
    let authorised = incident::can_authorise_sharing(&actor, &before.facts());
    let inc = state
        .store
        .set_sanitised_version(public_id, &draft, authorised, user.id, now())
        .await?;
    let action = if authorised { "share" } else { "share_propose" };
    record_change(
        state,
        user,
        &inc,
        action,
        json!({
            "tlp": draft.tlp.as_str(),
            "attribution": match draft.attribution {
                incident::Attribution::Anonymous => "anonymous",
                incident::Attribution::Named => "named",
            },
            "share_indicators": draft.share_indicators,
            "recipient_orgs": draft.recipient_orgs.iter().map(|o| o.0).collect::<Vec<_>>(),
            "recipient_users": draft.recipient_users.iter().map(|u| u.0).collect::<Vec<_>>(),
        }),
        ip,
    )
    .await;
    Ok(inc)
}

/// Approve the proposed sanitised version: it is shared (the reporter or
/// their member lead; 409 when nothing is proposed).
pub async fn approve(
    state: &AppState,
    user: &User,
    public_id: &str,
    ip: &str,
) -> Result<Incident, AppError> {
    for_change(
        state,
        user,
        public_id,
        incident::can_authorise_sharing,
        AUTHORISE_DENIED,
    )
    .await?;
    let inc = state
        .store
        .approve_sanitised_version(public_id, user.id, now())
        .await?;
    let tlp = inc.shared.as_ref().map(|s| s.tlp.as_str());
    record_change(
        state,
        user,
        &inc,
        "share_approve",
        json!({ "tlp": tlp }),
        ip,
    )
    .await;
    Ok(inc)
}

/// Stop sharing, or refuse a proposal (the reporter or their member lead;
/// 409 when nothing is shared or proposed).
pub async fn withdraw(
    state: &AppState,
    user: &User,
    public_id: &str,
    ip: &str,
) -> Result<Incident, AppError> {
    let before = for_change(
        state,
        user,
        public_id,
        incident::can_authorise_sharing,
        AUTHORISE_DENIED,
    )
    .await?;
    let inc = state
        .store
        .withdraw_sharing(public_id, user.id, now())
        .await?;
    record_change(
        state,
        user,
        &inc,
        "share_withdraw",
        json!({ "was": before.sharing.as_str() }),
        ip,
    )
    .await;
    Ok(inc)
}

/// Lessons learnt as a form or JSON body gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct LessonsInput {
    pub lessons: String,
    /// Share them with every member (anonymously, unless the shared
    /// version names the organisation).
    pub share: bool,
}

/// Record lessons learnt once the incident is closed (the reporting
/// organisation; sharing them is for the reporter or the member lead).
pub async fn set_lessons(
    state: &AppState,
    user: &User,
    public_id: &str,
    input: &LessonsInput,
    ip: &str,
) -> Result<Incident, AppError> {
    let before = for_update(state, user, public_id).await?;
    if input.share != before.lessons_shared {
        require(
            incident::can_authorise_sharing(&user.actor(), &before.facts()),
            LESSONS_SHARE_DENIED,
        )?;
    }
    let mut e = ValidationErrors::new();
    let lessons = text_field(
        &mut e,
        "lessons",
        &input.lessons,
        incident::MAX_SUMMARY,
        true,
    );
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let inc = state
        .store
        .set_lessons(public_id, &lessons, input.share, user.id, now())
        .await?;
    record_change(
        state,
        user,
        &inc,
        "lessons",
        json!({ "shared": input.share }),
        ip,
    )
    .await;
    Ok(inc)
}

/// The timeline (full readers only: it names people and references).
pub async fn timeline(
    state: &AppState,
    user: &User,
    public_id: &str,
    ip: &str,
) -> Result<Vec<IncidentEvent>, AppError> {
    let seen = visible(state, &user.actor(), public_id).await?;
    require(seen.full(), FULL_ONLY)?;
    log_read(state, &seen, user, "read_timeline", ip).await?;
    Ok(state.store.incident_timeline(public_id).await?)
}

/// The timeline for a detail page whose read is already recorded.
pub async fn timeline_of(state: &AppState, seen: &Seen) -> Result<Vec<IncidentEvent>, AppError> {
    require(seen.full(), FULL_ONLY)?;
    Ok(state
        .store
        .incident_timeline(&seen.incident.public_id)
        .await?)
}

/// Who read and changed the incident (operators, the reporting
/// organisation's member lead).
pub async fn access_log(
    state: &AppState,
    user: &User,
    public_id: &str,
    ip: &str,
) -> Result<(Seen, Vec<IncidentAccess>), AppError> {
    let actor = user.actor();
    let seen = visible(state, &actor, public_id).await?;
    require(
        incident::can_read_audit(&actor, &seen.incident.facts()),
        AUDIT_DENIED,
    )?;
    log_read(state, &seen, user, "read_audit", ip).await?;
    let log = state.store.incident_access_log(public_id).await?;
    Ok((seen, log))
}

// ------------------------------------------------------- evidence files

/// The incident, for its evidence files. They are part of the full report:
/// someone who reads only the sanitised version gets the same 404 as for an
/// incident that does not exist, so they never learn that files exist.
async fn visible_in_full(
    state: &AppState,
    actor: &Actor,
    public_id: &str,
) -> Result<Seen, AppError> {
    let seen = visible(state, actor, public_id).await?;
    if !seen.full() {
        return Err(not_found());
    }
    Ok(seen)
}

fn attachment_not_found() -> AppError {
    AppError::NotFound("attachment")
}

/// Attachment ids are `att-` and 22 characters; anything else cannot exist.
fn plausible_attachment_id(id: &str) -> bool {
    id.starts_with("att-") && id.len() <= 64
}

/// The evidence files (`GET /api/v1/incidents/{id}/attachments`), recorded
/// as an `attachment_list` read.
pub async fn attachments(
    state: &AppState,
    user: &User,
    public_id: &str,
    ip: &str,
) -> Result<Vec<IncidentAttachment>, AppError> {
    let seen = visible_in_full(state, &user.actor(), public_id).await?;
    log_read(state, &seen, user, "attachment_list", ip).await?;
    Ok(state.store.incident_attachments(public_id).await?)
}

/// The evidence files for a detail page whose read is already recorded
/// (none for a sanitised reader).
pub async fn attachments_of(
    state: &AppState,
    seen: &Seen,
) -> Result<Vec<IncidentAttachment>, AppError> {
    if !seen.full() {
        return Ok(Vec::new());
    }
    Ok(state
        .store
        .incident_attachments(&seen.incident.public_id)
        .await?)
}

/// Attach an evidence file (the reporting organisation). `file` is the
/// upload as the request carried it; its problems (none sent, empty, over
/// the limit) are answered only after the access checks.
pub async fn add_attachment(
    state: &AppState,
    user: &User,
    public_id: &str,
    file: Result<Upload, AppError>,
    ip: &str,
) -> Result<IncidentAttachment, AppError> {
    let actor = user.actor();
    let seen = visible_in_full(state, &actor, public_id).await?;
    require(
        incident::can_attach(&actor, &seen.incident.facts()),
        ATTACH_DENIED,
    )?;
    let file = file?;
    if file.bytes.len() > MAX_UPLOAD_BYTES {
        return Err(AppError::FileTooLarge(MAX_UPLOAD_MB));
    }
    if file.bytes.is_empty() {
        return Err(AppError::field("file", "the file is empty"));
    }
    let name = incident::attachment_name(file.name.as_deref().unwrap_or_default())
        .map_err(|m| AppError::field("file", m))?;
    let content_type = incident::attachment_content_type(file.content_type.as_deref());
    let added = state
        .store
        .add_incident_attachment(
            public_id,
            NewAttachment {
                file_name: &name,
                content_type: &content_type,
                data: &file.bytes,
            },
            user.id,
            now(),
        )
        .await?;
    log_change(state, &seen.incident, user, "attachment_add", ip).await;
    // Never the file name: on a RED report even that may not leave the room.
    audit(
        state,
        user,
        "incident.attachment_add",
        &seen.incident,
        json!({ "attachment": added.public_id, "size": added.size, "content_type": added.content_type }),
        ip,
    )
    .await;
    Ok(added)
}

/// One evidence file with its bytes (whoever reads the full report),
/// recorded as an `attachment_read` and audited: evidence leaving the
/// server is an export.
pub async fn attachment(
    state: &AppState,
    user: &User,
    public_id: &str,
    attachment_id: &str,
    ip: &str,
) -> Result<AttachmentFile, AppError> {
    let seen = visible_in_full(state, &user.actor(), public_id).await?;
    if !plausible_attachment_id(attachment_id) {
        return Err(attachment_not_found());
    }
    let file = state
        .store
        .incident_attachment(public_id, attachment_id)
        .await?
        .ok_or_else(attachment_not_found)?;
    log_read(state, &seen, user, "attachment_read", ip).await?;
    audit(
        state,
        user,
        "incident.attachment_read",
        &seen.incident,
        json!({ "attachment": attachment_id }),
        ip,
    )
    .await;
    Ok(file)
}

/// Delete an evidence file (the reporting organisation).
pub async fn delete_attachment(
    state: &AppState,
    user: &User,
    public_id: &str,
    attachment_id: &str,
    ip: &str,
) -> Result<IncidentAttachment, AppError> {
    let actor = user.actor();
    let seen = visible_in_full(state, &actor, public_id).await?;
    require(
        incident::can_attach(&actor, &seen.incident.facts()),
        ATTACH_DENIED,
    )?;
    if !plausible_attachment_id(attachment_id) {
        return Err(attachment_not_found());
    }
    let gone = state
        .store
        .delete_incident_attachment(public_id, attachment_id, user.id, now())
        .await?;
    log_change(state, &seen.incident, user, "attachment_delete", ip).await;
    audit(
        state,
        user,
        "incident.attachment_delete",
        &seen.incident,
        json!({ "attachment": gone.public_id, "size": gone.size }),
        ip,
    )
    .await;
    Ok(gone)
}

/// `Content-Disposition` for a download named `name`: always `attachment`
/// (never shown inline), with an ASCII fallback and the exact name encoded
/// as RFC 5987 `filename*`.
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .-_()+,".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            let _ = write!(encoded, "%{b:02X}");
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// An evidence file as a download, for pages and API alike: saved, never
/// rendered (`attachment`), served as a type the browser cannot run unless
/// it is a raster image, plain text or PDF, not sniffed, sandboxed if opened
/// anyway, and never cached.
pub fn download(file: AttachmentFile) -> Response {
    let a = &file.attachment;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(incident::served_content_type(&a.content_type)),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&content_disposition(&a.file_name))
            .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    (headers, file.data).into_response()
}

/// Who was warned because they use the supplier the report names.
pub enum Warned {
    /// Operators: the correlation, organisation by organisation.
    Organisations(Vec<SupplierWarning>),
    /// The reporting organisation: how many (never who).
    Count(usize),
    /// Everyone else learns nothing.
    Nothing,
}

pub async fn warned(state: &AppState, actor: &Actor, seen: &Seen) -> Result<Warned, AppError> {
    if !seen.full() || seen.incident.report.supplier.is_none() {
        return Ok(Warned::Nothing);
    }
    let w = state
        .store
        .incident_supplier_warnings(&seen.incident.public_id)
        .await?;
    Ok(if actor.is_operator() {
        Warned::Organisations(w)
    } else {
        Warned::Count(w.len())
    })
}

/// Which permissions `actor` has on a visible incident (to show the right
/// forms; every action checks again).
#[derive(Debug, Clone, Copy, Default)]
pub struct Allowed {
    pub update: bool,
    pub log: bool,
    pub draft: bool,
    pub authorise: bool,
    pub audit: bool,
    pub attach: bool,
}

pub fn allowed(actor: &Actor, inc: &Incident) -> Allowed {
    let f = inc.facts();
    Allowed {
        update: incident::can_update(actor, &f),
        log: incident::can_log(actor, &f),
        draft: incident::can_draft_sanitised(actor, &f),
        authorise: incident::can_authorise_sharing(actor, &f),
        audit: incident::can_read_audit(actor, &f),
        attach: incident::can_attach(actor, &f),
    }
}

/// Members that may be named as recipients of a sanitised version: every
/// other organisation, and the people in them.
pub async fn recipient_choices(
    state: &AppState,
    reporting_org: OrgId,
) -> Result<(Vec<(OrgId, String)>, Vec<(UserId, String)>), AppError> {
    let mut orgs = Vec::new();
    let mut people = Vec::new();
    for o in state.store.list_orgs().await? {
        if o.id == reporting_org || !o.status.allows_sign_in() {
            continue;
        }
        for u in state.store.list_users(Some(o.id)).await? {
            if !u.disabled {
                people.push((u.id, format!("{} ({})", u.display_name, o.name)));
            }
        }
        orgs.push((o.id, o.name));
    }
    Ok((orgs, people))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        parse_time(s).unwrap_or_default()
    }

    #[test]
    fn a_referral_names_each_bad_field() {
        let now = at("2026-11-23T10:00");
        let ok = EscalationInput {
            target: "ncsc".into(),
            at: "2026-11-22T09:15".into(),
            reference: " NCSC-123 ".into(),
            note: "".into(),
        }
        .validate(now)
        .expect("valid");
        assert_eq!(ok.target, EscalationTarget::Ncsc);
        assert_eq!(ok.reference.as_deref(), Some("NCSC-123"));
        assert!(ok.detail.starts_with("Referred to NCSC"));
        let empty_time = EscalationInput {
            target: "rocu".into(),
            ..EscalationInput::default()
        }
        .validate(now)
        .expect("valid");
        assert_eq!(empty_time.at, now, "an empty time means now");
        let e = EscalationInput {
            target: "mi5".into(),
            at: "2026-12-01T00:00".into(),
            reference: "x".repeat(201),
            note: "a\u{7}b".into(),
        }
        .validate(now)
        .expect_err("invalid");
        for f in ["target", "at", "reference", "note"] {
            assert!(e.for_field(f).is_some(), "{f}: {e:?}");
        }
        assert_eq!(e.for_field("at"), Some("must not be in the future"));
    }

    #[test]
    fn an_ico_notification_needs_how() {
        let now = at("2026-11-23T10:00");
        let e = IcoInput {
            at: "yesterday".into(),
            ..IcoInput::default()
        }
        .validate(now)
        .expect_err("invalid");
        assert!(e.for_field("at").is_some() && e.for_field("method").is_some());
        let n = IcoInput {
            at: "2026-11-23T09:00".into(),
            method: "Online breach report form".into(),
            reference: "".into(),
        }
        .validate(now)
        .expect("valid");
        assert_eq!(n.reference, None);
    }

    #[test]
    fn downloads_carry_the_exact_name_encoded_and_a_safe_fallback() {
        assert_eq!(
            content_disposition("phish.eml"),
            "attachment; filename=\"phish.eml\"; filename*=UTF-8''phish.eml"
        );
        assert_eq!(
            content_disposition("Facture d’été \"x\";.pdf"),
            "attachment; filename=\"Facture d__t_ _x__.pdf\"; \
             filename*=UTF-8''Facture%20d%E2%80%99%C3%A9t%C3%A9%20%22x%22%3B.pdf"
        );
    }

    #[test]
    fn search_words_are_lower_case_and_bounded() {
        assert_eq!(search_words("  Mid KENT  ict "), ["mid", "kent", "ict"]);
        assert_eq!(search_words(&"w ".repeat(50)).len(), 10);
    }
}

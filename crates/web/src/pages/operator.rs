//! Operator-only pages: fees and renewals, the operator team, the audit log.

use super::dashboard::NoticeQuery;
use super::{FormErrors, Layout, OrgSummary, UserRowView, render, render_with, timestamp, today};
use crate::AppState;
use crate::actions;
use crate::auth::{ClientIp, SessionForm, SignedIn};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, NaiveTime};
use openwarp_core::{CouncilType, Email, Pence, Role, ValidationErrors};
use openwarp_store::{AuditFilter, ChainCheck, Session, now};
use serde::Deserialize;

pub struct ScheduleRow {
    pub label: &'static str,
    pub member_fee: String,
    pub non_member_fee: String,
    pub count: usize,
    pub income: String,
}

#[derive(Template)]
#[template(path = "fees.html")]
struct FeesPage {
    layout: Layout,
    premium: i64,
    schedule: Vec<ScheduleRow>,
    billable_count: usize,
    total: String,
    renewals: Vec<OrgSummary>,
}

pub async fn fees(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> Result<Response, AppError> {
    session.user.actor().require_operator()?;
    let fees = &state.config.fees;
    let mut orgs = state.store.list_orgs().await?;
    let billable: Vec<_> = orgs.iter().filter(|o| o.status.is_billable()).collect();
    let schedule = CouncilType::ALL
        .iter()
        .map(|&t| {
            let of_type: Vec<_> = billable.iter().filter(|o| o.council_type == t).collect();
            ScheduleRow {
                label: t.label(),
                member_fee: fees.annual_fee(t, true).to_string(),
                non_member_fee: fees.annual_fee(t, false).to_string(),
                count: of_type.len(),
                income: of_type
                    .iter()
                    .map(|o| o.annual_fee(fees))
                    .sum::<Pence>()
                    .to_string(),
            }
        })
        .collect();
    let total: Pence = billable.iter().map(|o| o.annual_fee(fees)).sum();
    let billable_count = billable.len();
    orgs.sort_by_key(|o| o.renewal_date);
    let today = today();
    let renewals = orgs
        .iter()
        .map(|o| OrgSummary::new(&state, o, today, 0))
        .collect();
    render(&FeesPage {
        layout: Layout::signed_in(&state, &session, "Fees and renewals", "fees"),
        premium: fees.non_employers_premium_percent,
        schedule,
        billable_count,
        total: total.to_string(),
        renewals,
    })
}

pub struct AuditView {
    pub seq: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    entries: Vec<AuditView>,
    /// The link to the next (older) page, with the filters kept.
    older: Option<String>,
    q: AuditQuery,
    /// The same filters, for the CSV link.
    filters: String,
    check: Option<ChainCheck>,
}

/// The audit log's filters, as the page's form and the CSV link send them.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct AuditQuery {
    pub before: Option<i64>,
    /// Actions starting with this.
    pub action: String,
    /// Actors containing this.
    pub actor: String,
    /// `YYYY-MM-DD`, inclusive.
    pub from: String,
    /// `YYYY-MM-DD`, inclusive.
    pub until: String,
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, AppError> {
        let day = |field: &str, raw: &str| -> Result<Option<NaiveDate>, AppError> {
            match raw.trim() {
                "" => Ok(None),
                d => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| {
                        AppError::BadRequest(format!("{field}: '{d}' is not a date (YYYY-MM-DD)"))
                    }),
            }
        };
        let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc();
        Ok(AuditFilter {
            action: Some(self.action.trim().chars().take(100).collect()),
            actor: Some(self.actor.trim().chars().take(200).collect()),
            org: None,
            from: day("from", &self.from)?.map(midnight),
            until: day("until", &self.until)?
                .and_then(|d| d.succ_opt())
                .map(midnight),
        })
    }

    /// The filters as a query string (without `before`).
    fn query_string(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("action", &self.action),
            ("actor", &self.actor),
            ("from", &self.from),
            ("until", &self.until),
        ] {
            if !v.trim().is_empty() {
                out.append_pair(k, v.trim());
            }
        }
        out.finish()
    }
}

const AUDIT_PAGE: i64 = 100;

/// Rows in one CSV export at most (the newest, when there are more).
const AUDIT_EXPORT_MAX: usize = 200_000;

pub async fn audit(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    session.user.actor().require_operator()?;
    audit_page(&state, &session, q, None).await
}

/// Walk the chain and say whether it is whole, above the newest entries
/// (`GET /audit/verify`). Audited as `audit.verify`.
pub async fn verify_audit(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    ClientIp(ip): ClientIp,
) -> Result<Response, AppError> {
    session.user.actor().require_operator()?;
    let check = state.store.verify_audit_chain().await?;
    crate::audit::record(
        &state,
        Some(&session.user),
        "audit.verify",
        None,
        "audit_log",
        serde_json::json!({
            "entries": check.entries,
            "broken_at": check.broken.as_ref().map(|b| b.seq),
        }),
        Some(&ip),
    )
    .await;
    audit_page(&state, &session, AuditQuery::default(), Some(check)).await
}

async fn audit_page(
    state: &AppState,
    session: &Session,
    q: AuditQuery,
    check: Option<ChainCheck>,
) -> Result<Response, AppError> {
    let filter = q.filter()?;
    let records = state
        .store
        .audit_log_filtered(&filter, AUDIT_PAGE, q.before)
        .await?;
    let filters = q.query_string();
    let older = (records.len() as i64 == AUDIT_PAGE)
        .then(|| records.last().map(|r| r.id))
        .flatten()
        .map(|before| {
            if filters.is_empty() {
                format!("/audit?before={before}")
            } else {
                format!("/audit?{filters}&before={before}")
            }
        });
    let entries = records
        .into_iter()
        .map(|r| AuditView {
            seq: r.seq.map(|s| s.to_string()).unwrap_or_default(),
            at: r.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            actor: r.actor,
            action: r.action,
            target: r.target,
            detail: if r.detail == "{}" {
                String::new()
            } else {
                r.detail
            },
            ip: r.ip.unwrap_or_default(),
        })
        .collect();
    render(&AuditPage {
        layout: Layout::signed_in(state, session, "Audit log", "audit"),
        entries,
        older,
        q,
        filters,
        check,
    })
}

/// The (filtered) log as CSV, oldest first, with each entry's place in the
/// chain and its hashes so that the national body or an auditor can check
/// the chain themselves (`GET /audit.csv`). Audited as `audit.export`.
pub async fn audit_csv(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    ClientIp(ip): ClientIp,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    session.user.actor().require_operator()?;
    let filter = q.filter()?;
    let mut rows = Vec::new();
    let mut before = None;
    loop {
        let page = state
            .store
            .audit_log_filtered(&filter, 1000, before)
            .await?;
        let done = page.len() < 1000;
        before = page.last().map(|r| r.id);
        rows.extend(page);
        if done || rows.len() >= AUDIT_EXPORT_MAX {
            break;
        }
    }
    rows.truncate(AUDIT_EXPORT_MAX);
    rows.reverse();
    let mut out = csv::Writer::from_writer(vec![0xef, 0xbb, 0xbf]);
    let header = [
        "seq",
        "at",
        "actor",
        "actor_user_id",
        "action",
        "org_id",
        "target",
        "detail",
        "ip",
        "prev_hash",
        "hash",
    ];
    let write_err = |e: csv::Error| AppError::Internal(format!("writing the audit CSV: {e}"));
    out.write_record(header).map_err(write_err)?;
    for r in &rows {
        out.write_record([
            r.seq.map(|s| s.to_string()).unwrap_or_default(),
            r.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            spreadsheet_safe(&r.actor),
            r.actor_user_id.map(|u| u.to_string()).unwrap_or_default(),
            spreadsheet_safe(&r.action),
            r.org_id.map(|o| o.to_string()).unwrap_or_default(),
            spreadsheet_safe(&r.target),
            spreadsheet_safe(&r.detail),
            spreadsheet_safe(r.ip.as_deref().unwrap_or_default()),
            r.prev_hash.clone().unwrap_or_default(),
            r.hash.clone().unwrap_or_default(),
        ])
        .map_err(write_err)?;
    }
    let body = out
        .into_inner()
        .map_err(|e| AppError::Internal(format!("writing the audit CSV: {e}")))?;
    crate::audit::record(
        &state,
        Some(&session.user),
        "audit.export",
        None,
        "audit_log",
        serde_json::json!({ "rows": rows.len(), "filters": q.query_string() }),
        Some(&ip),
    )
    .await;
    let name = format!("openwarp-audit-{}.csv", now().format("%Y-%m-%d"));
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// A cell a spreadsheet will not run as a formula: text starting with `=`,
/// `+`, `-`, `@`, tab or carriage return gets a leading apostrophe (the
/// OWASP advice for CSV injection). The hashes and numbers never need it.
pub fn spreadsheet_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

pub struct PendingView {
    pub email: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "operators.html")]
struct OperatorsPage {
    layout: Layout,
    users: Vec<UserRowView>,
    invitations: Vec<PendingView>,
    errors: FormErrors,
    invite_email: String,
    /// Whether stored secrets are sealed (a secrets key is configured).
    secrets_sealed: bool,
}

async fn operators_page(
    state: &AppState,
    session: &Session,
    notice: Option<&str>,
    errors: FormErrors,
    invite_email: String,
) -> Result<OperatorsPage, AppError> {
    let users = state.store.list_users(None).await?;
    let invitations = state
        .store
        .pending_invitations(None, now())
        .await?
        .into_iter()
        .map(|i| PendingView {
            email: i.email,
            expires: timestamp(i.expires_at),
        })
        .collect();
    Ok(OperatorsPage {
        layout: Layout::signed_in(state, session, "WARP operators", "operators")
            .with_notice(notice),
        users: users
            .iter()
            .map(|u| UserRowView::new(u, &session.user))
            .collect(),
        invitations,
        errors,
        invite_email,
        secrets_sealed: state.store.seals_secrets(),
    })
}

pub async fn operators(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    session.user.actor().require_operator()?;
    render(
        &operators_page(
            &state,
            &session,
            q.notice.as_deref(),
            FormErrors::default(),
            String::new(),
        )
        .await?,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OperatorInviteForm {
    email: String,
}

pub async fn invite_operator(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<OperatorInviteForm>,
) -> Result<Response, AppError> {
    session.user.actor().require_operator()?;
    let mut errors = ValidationErrors::new();
    let result = match Email::parse(&form.email) {
        Ok(email) => {
            actions::invite(&state, &session.user, None, &email, Role::Operator, &ip).await
        }
        Err(e) => {
            errors.add("email", e.to_string());
            Err(AppError::Invalid(errors))
        }
    };
    match result {
        Ok((inv, link)) => super::orgs::link_issued(
            &state,
            &session,
            "Invitation created",
            format!(
                "{} has been invited to join the WARP's operator team.",
                inv.email
            ),
            link,
            inv.email,
            "/operators".into(),
        ),
        Err(e) => {
            let (status, errors) = match e {
                AppError::Invalid(v) => (StatusCode::UNPROCESSABLE_ENTITY, FormErrors::from(v)),
                AppError::Conflict(m) => (StatusCode::CONFLICT, FormErrors::one("email", m)),
                other => return Err(other),
            };
            let page = operators_page(
                &state,
                &session,
                None,
                errors,
                form.email.trim().to_string(),
            )
            .await?;
            render_with(status, &page)
        }
    }
}

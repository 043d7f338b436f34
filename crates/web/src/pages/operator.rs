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
use axum::response::Response;
use openwarp_core::{CouncilType, Email, Pence, Role, ValidationErrors};
use openwarp_store::{Session, now};
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
    older: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AuditQuery {
    before: Option<i64>,
}

const AUDIT_PAGE: i64 = 100;

pub async fn audit(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    session.user.actor().require_operator()?;
    let records = state.store.audit_log(AUDIT_PAGE, q.before).await?;
    let older = (records.len() as i64 == AUDIT_PAGE)
        .then(|| records.last().map(|r| r.id))
        .flatten();
    let entries = records
        .into_iter()
        .map(|r| AuditView {
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
        layout: Layout::signed_in(&state, &session, "Audit log", "audit"),
        entries,
        older,
    })
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

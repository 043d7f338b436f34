//! The landing page after sign-in: an operator's overview of the WARP, or a
//! member's summary of their organisation.

use super::exposure::{ExposureRow, PriorityCount, priority_counts};
use super::{Layout, OrgSummary, date, render, today};
use crate::AppState;
use crate::auth::SignedIn;
use crate::error::AppError;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Redirect, Response};
use openwarp_core::{Pence, RenewalState};
use serde::Deserialize;
use std::collections::HashMap;

pub struct OperatorView {
    pub member_count: usize,
    pub user_count: i64,
    pub annual_income: String,
    pub attention: Vec<OrgSummary>,
    /// Members with open P1 exposures, most P1s first.
    pub urgent: Vec<UrgentMember>,
}

/// A member with open P1 exposures.
pub struct UrgentMember {
    pub org_id: i64,
    pub name: String,
    pub p1: i64,
    pub p2: i64,
}

pub struct MemberView {
    pub org_id: i64,
    pub org_name: String,
    pub status: &'static str,
    pub renewal_date: String,
    pub renewal_note: String,
    pub user_count: i64,
    /// Open exposures per priority, P1 first.
    pub exposure_counts: Vec<PriorityCount>,
    /// The most urgent open exposures.
    pub top: Vec<ExposureRow>,
}

/// How many of the most urgent exposures the dashboard lists.
const TOP_EXPOSURES: usize = 5;

/// One line of the "latest advisory changes" list.
pub struct ChangeLine {
    pub vuln_id: String,
    pub summary: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    operator: Option<OperatorView>,
    member: Option<MemberView>,
    changes: Vec<ChangeLine>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

pub async fn dashboard(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let layout = Layout::signed_in(&state, &session, "Dashboard", "dashboard")
        .with_notice(q.notice.as_deref());
    let today = today();
    let counts: HashMap<_, _> = state.store.user_counts().await?.into_iter().collect();
    let (operator, member) = match session.user.org_id {
        None => {
            let orgs = state.store.list_orgs().await?;
            let billable: Vec<_> = orgs.iter().filter(|o| o.status.is_billable()).collect();
            let income: Pence = billable
                .iter()
                .map(|o| o.annual_fee(&state.config.fees))
                .sum();
            let mut due: Vec<_> = billable
                .iter()
                .filter(|o| RenewalState::of(o.renewal_date, today).needs_attention())
                .collect();
            due.sort_by_key(|o| o.renewal_date);
            let attention = due
                .into_iter()
                .map(|o| OrgSummary::new(&state, o, today, counts.get(&o.id).copied().unwrap_or(0)))
                .collect();
            let mut urgent = Vec::new();
            for o in &orgs {
                let [p1, p2, ..] = state.store.exposure_counts(o.id).await?;
                if p1 > 0 {
                    urgent.push(UrgentMember {
                        org_id: o.id.0,
                        name: o.name.clone(),
                        p1,
                        p2,
                    });
                }
            }
            urgent.sort_by(|a, b| b.p1.cmp(&a.p1).then(b.p2.cmp(&a.p2)));
            let users = state
                .store
                .role_counts()
                .await?
                .iter()
                .map(|(_, n)| n)
                .sum();
            (
                Some(OperatorView {
                    member_count: billable.len(),
                    user_count: users,
                    annual_income: income.to_string(),
                    attention,
                    urgent,
                }),
                None,
            )
        }
        Some(org_id) => {
            let org = state
                .store
                .get_org(org_id)
                .await?
                .ok_or(AppError::NotFound("organisation"))?;
            let renewal = RenewalState::of(org.renewal_date, today);
            let exposure_counts = priority_counts(state.store.exposure_counts(org.id).await?);
            let top = state
                .store
                .top_open_exposures(org.id, TOP_EXPOSURES as i64)
                .await?
                .iter()
                .map(ExposureRow::new)
                .collect();
            (
                None,
                Some(MemberView {
                    org_id: org.id.0,
                    org_name: org.name.clone(),
                    status: org.status.label(),
                    renewal_date: date(org.renewal_date),
                    renewal_note: renewal.describe(),
                    user_count: counts.get(&org.id).copied().unwrap_or(0),
                    exposure_counts,
                    top,
                }),
            )
        }
    };
    let changes = state
        .store
        .recent_changes(10)
        .await?
        .into_iter()
        .map(|c| ChangeLine {
            vuln_id: c.vuln_id,
            summary: c.summary,
            at: super::timestamp(c.at),
        })
        .collect();
    render(&DashboardPage {
        layout,
        operator,
        member,
        changes,
    })
}

/// "My organisation": members go to their own page; operators to the list.
pub async fn my_org(SignedIn(session): SignedIn) -> Redirect {
    match session.user.org_id {
        Some(org) => Redirect::to(&format!("/orgs/{org}")),
        None => Redirect::to("/orgs"),
    }
}

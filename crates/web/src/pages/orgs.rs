//! Organisation pages: the operator's list, adding and editing members, an
//! organisation's own page with its named users, invitations and user admin.

use super::dashboard::NoticeQuery;
use super::{FormErrors, Layout, OrgSummary, UserRowView, render, render_with, timestamp, today};
use crate::AppState;
use crate::actions::{self, IssuedLink};
use crate::auth::{ClientIp, SessionForm, SignedIn};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use openwarp_core::membership::OrganisationInput;
use openwarp_core::{
    CouncilType, Email, Governance, MembershipStatus, OrgId, Role, UserId, ValidationErrors,
};
use openwarp_store::{Session, now};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "orgs.html")]
struct OrgsPage {
    layout: Layout,
    orgs: Vec<OrgSummary>,
}

pub async fn list(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    session.user.actor().require_operator()?;
    let counts: HashMap<_, _> = state.store.user_counts().await?.into_iter().collect();
    let today = today();
    let orgs = state
        .store
        .list_orgs()
        .await?
        .iter()
        .map(|o| OrgSummary::new(&state, o, today, counts.get(&o.id).copied().unwrap_or(0)))
        .collect();
    let layout = Layout::signed_in(&state, &session, "Member organisations", "orgs")
        .with_notice(q.notice.as_deref());
    render(&OrgsPage { layout, orgs })
}

/// The organisation form as HTML posts it (checkbox absent when unticked).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OrgForm {
    name: String,
    council_type: String,
    employers_member: Option<String>,
    status: String,
    renewal_date: String,
    senior_officer_name: String,
    senior_officer_email: String,
    senior_officer_phone: String,
    lead_member_name: String,
    lead_member_email: String,
    lead_member_phone: String,
}

impl OrgForm {
    fn input(self) -> OrganisationInput {
        OrganisationInput {
            name: self.name,
            council_type: self.council_type,
            employers_member: self.employers_member.is_some_and(|v| !v.is_empty()),
            status: self.status,
            renewal_date: self.renewal_date,
            senior_officer_name: self.senior_officer_name,
            senior_officer_email: self.senior_officer_email,
            senior_officer_phone: self.senior_officer_phone,
            lead_member_name: self.lead_member_name,
            lead_member_email: self.lead_member_email,
            lead_member_phone: self.lead_member_phone,
        }
    }
}

#[derive(Template)]
#[template(path = "org_form.html")]
struct OrgFormPage {
    layout: Layout,
    errors: FormErrors,
    form: OrganisationInput,
    action: String,
    submit: &'static str,
    cancel: String,
    /// Operators edit everything; leads only the governance contacts.
    full: bool,
    premium: i64,
    council_types: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
}

impl OrgFormPage {
    fn new(
        state: &AppState,
        session: &Session,
        title: &str,
        form: OrganisationInput,
        errors: FormErrors,
        target: Option<OrgId>,
        full: bool,
    ) -> OrgFormPage {
        OrgFormPage {
            layout: Layout::signed_in(state, session, title, if full { "orgs" } else { "org" }),
            errors,
            form,
            action: target.map_or_else(|| "/orgs".into(), |id| format!("/orgs/{id}/edit")),
            submit: if target.is_some() {
                "Save changes"
            } else {
                "Add organisation"
            },
            cancel: target.map_or_else(|| "/orgs".into(), |id| format!("/orgs/{id}")),
            full,
            premium: state.config.fees.non_employers_premium_percent,
            council_types: CouncilType::ALL
                .iter()
                .map(|t| (t.as_str(), t.label()))
                .collect(),
            statuses: MembershipStatus::ALL
                .iter()
                .map(|s| (s.as_str(), s.label()))
                .collect(),
        }
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> Result<Response, AppError> {
    session.user.actor().can_edit_membership()?;
    let form = OrganisationInput {
        council_type: CouncilType::DistrictBorough.as_str().into(),
        employers_member: true,
        status: MembershipStatus::Active.as_str().into(),
        renewal_date: (today() + chrono::Months::new(12))
            .format("%Y-%m-%d")
            .to_string(),
        ..OrganisationInput::default()
    };
    render(&OrgFormPage::new(
        &state,
        &session,
        "Add a member organisation",
        form,
        FormErrors::default(),
        None,
        true,
    ))
}

/// Re-show a form with its problems: 422 for invalid fields, 409 for a clash.
fn form_problem(
    state: &AppState,
    session: &Session,
    title: &str,
    input: OrganisationInput,
    err: AppError,
    target: Option<OrgId>,
    full: bool,
) -> Result<Response, AppError> {
    let (status, errors) = match err {
        AppError::Invalid(v) => (StatusCode::UNPROCESSABLE_ENTITY, FormErrors::from(v)),
        AppError::Conflict(m) => (StatusCode::CONFLICT, FormErrors::one("name", m)),
        other => return Err(other),
    };
    render_with(
        status,
        &OrgFormPage::new(state, session, title, input, errors, target, full),
    )
}

pub async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<OrgForm>,
) -> Result<Response, AppError> {
    session.user.actor().can_edit_membership()?;
    let input = form.input();
    let title = "Add a member organisation";
    let result = match input.validate() {
        Ok(draft) => actions::create_org(&state, &session.user, &draft, &ip).await,
        Err(v) => Err(AppError::Invalid(v)),
    };
    match result {
        Ok(org) => {
            Ok(Redirect::to(&format!("/orgs/{}?notice=org_created", org.id)).into_response())
        }
        Err(e) => form_problem(&state, &session, title, input, e, None, true),
    }
}

pub struct InvitationView {
    pub id: i64,
    pub email: String,
    pub role: &'static str,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    layout: Layout,
    org: OrgSummary,
    governance: Governance,
    is_operator: bool,
    can_manage: bool,
    /// Everyone in it must sign in with a second factor.
    require_mfa: bool,
    users: Vec<UserRowView>,
    invitations: Vec<InvitationView>,
    errors: FormErrors,
    invite_email: String,
    invite_role: String,
    roles: Vec<(&'static str, &'static str)>,
}

async fn org_page(
    state: &AppState,
    session: &Session,
    id: OrgId,
    notice: Option<&str>,
    errors: FormErrors,
    invite_email: String,
    invite_role: String,
) -> Result<OrgPage, AppError> {
    let actor = session.user.actor();
    // Another member's page does not exist as far as this user can tell.
    actions::require_visible(&actor, id)?;
    let org = state
        .store
        .get_org(id)
        .await?
        .ok_or(AppError::NotFound("organisation"))?;
    let users = state.store.list_users(Some(id)).await?;
    let can_manage = actor.can_manage_users(id).is_ok();
    let invitations = if can_manage {
        state
            .store
            .pending_invitations(Some(id), now())
            .await?
            .into_iter()
            .map(|i| InvitationView {
                id: i.id,
                email: i.email,
                role: i.role.label(),
                expires: timestamp(i.expires_at),
            })
            .collect()
    } else {
        Vec::new()
    };
    let enabled = users.iter().filter(|u| !u.disabled).count() as i64;
    Ok(OrgPage {
        layout: Layout::signed_in(
            state,
            session,
            org.name.clone(),
            if actor.is_operator() { "orgs" } else { "org" },
        )
        .with_notice(notice),
        org: OrgSummary::new(state, &org, today(), enabled),
        governance: org.governance.clone(),
        is_operator: actor.is_operator(),
        can_manage,
        require_mfa: state.store.org_requires_mfa(org.id).await?,
        users: users
            .iter()
            .map(|u| UserRowView::new(u, &session.user))
            .collect(),
        invitations,
        errors,
        invite_email,
        invite_role,
        roles: [Role::MemberUser, Role::MemberLead]
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let default_role = Role::MemberUser.as_str().to_string();
    let page = org_page(
        &state,
        &session,
        OrgId(id),
        q.notice.as_deref(),
        FormErrors::default(),
        String::new(),
        default_role,
    )
    .await?;
    render(&page)
}

pub async fn edit_form(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let id = OrgId(id);
    let actor = session.user.actor();
    actions::require_visible(&actor, id)?;
    actor.can_edit_governance(id)?;
    let org = state
        .store
        .get_org(id)
        .await?
        .ok_or(AppError::NotFound("organisation"))?;
    let full = actor.can_edit_membership().is_ok();
    let title = if full {
        format!("Edit {}", org.name)
    } else {
        format!("Governance contacts for {}", org.name)
    };
    render(&OrgFormPage::new(
        &state,
        &session,
        &title,
        OrganisationInput::from(&org.draft()),
        FormErrors::default(),
        Some(id),
        full,
    ))
}

pub async fn edit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<OrgForm>,
) -> Result<Response, AppError> {
    let id = OrgId(id);
    let actor = session.user.actor();
    actions::require_visible(&actor, id)?;
    actor.can_edit_governance(id)?;
    let full = actor.can_edit_membership().is_ok();
    let input = form.input();
    let result = if full {
        match input.validate() {
            Ok(draft) => actions::update_org(&state, &session.user, id, &draft, &ip).await,
            Err(v) => Err(AppError::Invalid(v)),
        }
    } else {
        match input.validate_governance() {
            Ok(g) => actions::update_governance(&state, &session.user, id, g, &ip).await,
            Err(v) => Err(AppError::Invalid(v)),
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{id}?notice=org_updated")).into_response()),
        Err(e) => form_problem(
            &state,
            &session,
            "Edit organisation",
            input,
            e,
            Some(id),
            full,
        ),
    }
}

#[derive(Template)]
#[template(path = "link_issued.html")]
struct LinkIssuedPage {
    layout: Layout,
    heading: &'static str,
    explanation: String,
    link: String,
    expires: String,
    recipient: String,
    back: String,
}

pub fn link_issued(
    state: &AppState,
    session: &Session,
    heading: &'static str,
    explanation: String,
    link: IssuedLink,
    recipient: String,
    back: String,
) -> Result<Response, AppError> {
    let page = LinkIssuedPage {
        layout: Layout::signed_in(state, session, heading, "orgs"),
        heading,
        explanation,
        link: link.url,
        expires: timestamp(link.expires_at),
        recipient,
        back,
    };
    render_with(StatusCode::CREATED, &page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InviteForm {
    email: String,
    role: String,
}

pub async fn invite(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<InviteForm>,
) -> Result<Response, AppError> {
    let id = OrgId(id);
    let actor = session.user.actor();
    actions::require_visible(&actor, id)?;
    actor.can_manage_users(id)?;
    let mut errors = ValidationErrors::new();
    let email = Email::parse(&form.email)
        .map_err(|e| errors.add("email", e.to_string()))
        .ok();
    let role = match form.role.parse::<Role>() {
        Ok(r @ (Role::MemberLead | Role::MemberUser)) => Some(r),
        _ => {
            errors.add("role", "choose member lead or member user");
            None
        }
    };
    let result = match (email, role) {
        (Some(email), Some(role)) => {
            actions::invite(&state, &session.user, Some(id), &email, role, &ip).await
        }
        _ => Err(AppError::Invalid(errors)),
    };
    match result {
        Ok((inv, link)) => {
            let org = state
                .store
                .get_org(id)
                .await?
                .map(|o| o.name)
                .unwrap_or_default();
            link_issued(
                &state,
                &session,
                "Invitation created",
                format!(
                    "{} has been invited to join {} as {}.",
                    inv.email,
                    org,
                    inv.role.label().to_lowercase()
                ),
                link,
                inv.email,
                format!("/orgs/{id}"),
            )
        }
        Err(e) => {
            let (status, errors) = match e {
                AppError::Invalid(v) => (StatusCode::UNPROCESSABLE_ENTITY, FormErrors::from(v)),
                AppError::Conflict(m) => (StatusCode::CONFLICT, FormErrors::one("email", m)),
                other => return Err(other),
            };
            let page = org_page(
                &state,
                &session,
                id,
                None,
                errors,
                form.email.trim().to_string(),
                form.role,
            )
            .await?;
            render_with(status, &page)
        }
    }
}

pub async fn revoke_invitation(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((org, inv)): Path<(i64, i64)>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    let invitation = state.store.get_invitation(inv).await?;
    if invitation.as_ref().and_then(|i| i.org_id) != Some(OrgId(org))
        || session.user.actor().can_view_org(OrgId(org)).is_err()
    {
        return Err(AppError::NotFound("invitation"));
    }
    actions::revoke_invitation(&state, &session.user, inv, &ip).await?;
    Ok(Redirect::to(&format!("/orgs/{org}?notice=invitation_revoked")).into_response())
}

/// Where to go back to after acting on a user: their organisation or the operator team.
fn user_home(org: Option<OrgId>) -> String {
    org.map_or_else(|| "/operators".into(), |o| format!("/orgs/{o}"))
}

pub async fn disable_user(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    let target = actions::set_user_disabled(&state, &session.user, UserId(id), true, &ip).await?;
    Ok(Redirect::to(&format!(
        "{}?notice=user_disabled",
        user_home(target.org_id)
    ))
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

/// `POST /users/{id}/role`: member lead or member user.
pub async fn set_user_role(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<RoleForm>,
) -> Result<Response, AppError> {
    let target = actions::set_user_role(&state, &session.user, UserId(id), &form.role, &ip).await?;
    Ok(Redirect::to(&format!("{}?notice=role_changed", user_home(target.org_id))).into_response())
}

pub async fn enable_user(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    let target = actions::set_user_disabled(&state, &session.user, UserId(id), false, &ip).await?;
    Ok(Redirect::to(&format!("{}?notice=user_enabled", user_home(target.org_id))).into_response())
}

pub async fn reset_user(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    let (target, link) = actions::issue_reset(&state, &session.user, UserId(id), &ip).await?;
    link_issued(
        &state,
        &session,
        "Password reset link created",
        format!(
            "{} can use this link to set a new password. Their current password keeps working until they do.",
            target.display_name
        ),
        link,
        target.email,
        user_home(target.org_id),
    )
}

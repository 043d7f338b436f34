//! The sensitive actions shared by the HTML pages and the JSON API. Each one
//! checks access with [`openwarp_core::access`], does the work through the
//! store and writes the audit log, so neither front end can forget a step.

pub mod alerts;
// Assessments (issue 8)
pub mod assessments;
// End of assessments (issue 8)
pub mod discussion;
pub mod exposures;
pub mod incidents;
pub mod inventory;
pub mod meetings;
pub mod news;
pub mod polls;
pub mod suppliers;
pub mod warp_advisories;

use crate::AppState;
use crate::audit::record;
use crate::error::AppError;
use chrono::{DateTime, Duration, Utc};
use openwarp_core::{Email, Governance, OrgId, OrganisationDraft, Role, UserId};
use openwarp_store::{Invitation, Organisation, User, now};

/// Another member's organisation does not exist as far as this actor can
/// tell: 404, not 403, so its existence is not revealed.
pub fn require_visible(actor: &openwarp_core::Actor, org: OrgId) -> Result<(), AppError> {
    actor
        .can_view_org(org)
        .map_err(|_| AppError::NotFound("organisation"))
}

/// Changing a member's own records (inventory, suppliers, exposure
/// statuses): other members get 404 as everywhere, operators 403 (they may
/// look, not touch).
pub fn require_record_editor(actor: &openwarp_core::Actor, org: OrgId) -> Result<(), AppError> {
    require_visible(actor, org)?;
    Ok(actor.can_edit_member_records(org)?)
}

/// The organisation, or 404 when it does not exist or `actor` may not see it.
pub async fn visible_org(
    state: &AppState,
    actor: &openwarp_core::Actor,
    org: OrgId,
) -> Result<Organisation, AppError> {
    require_visible(actor, org)?;
    state
        .store
        .get_org(org)
        .await?
        .ok_or(AppError::NotFound("organisation"))
}

/// A link that was just issued (invitation or password reset); the secret is in `url`.
pub struct IssuedLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn create_org(
    state: &AppState,
    actor: &User,
    draft: &OrganisationDraft,
    ip: &str,
) -> Result<Organisation, AppError> {
    actor.actor().can_edit_membership()?;
    let org = state.store.create_org(draft, now()).await?;
    record(
        state,
        Some(actor),
        "org.create",
        Some(org.id),
        &org.name,
        serde_json::json!({ "type": org.council_type.as_str(), "employers_member": org.employers_member }),
        Some(ip),
    )
    .await;
    Ok(org)
}

/// Replace an organisation's membership facts and governance (operators only).
pub async fn update_org(
    state: &AppState,
    actor: &User,
    id: OrgId,
    draft: &OrganisationDraft,
    ip: &str,
) -> Result<Organisation, AppError> {
    actor.actor().can_edit_membership()?;
    let before = state
        .store
        .get_org(id)
        .await?
        .ok_or(AppError::NotFound("organisation"))?;
    let org = state.store.update_org(id, draft, now()).await?;
    record(
        state,
        Some(actor),
        "org.update",
        Some(org.id),
        &org.name,
        serde_json::json!({
            "name": [before.name, org.name.clone()],
            "type": [before.council_type.as_str(), org.council_type.as_str()],
            "employers_member": [before.employers_member, org.employers_member],
            "status": [before.status.as_str(), org.status.as_str()],
            "renewal_date": [before.renewal_date, org.renewal_date],
        }),
        Some(ip),
    )
    .await;
    Ok(org)
}

/// Change only the governance contacts (operators, or the organisation's lead).
pub async fn update_governance(
    state: &AppState,
    actor: &User,
    id: OrgId,
    governance: Governance,
    ip: &str,
) -> Result<Organisation, AppError> {
    actor.actor().can_edit_governance(id)?;
    let org = state
        .store
        .get_org(id)
        .await?
        .ok_or(AppError::NotFound("organisation"))?;
    let mut draft = org.draft();
    draft.governance = governance;
    let org = state.store.update_org(id, &draft, now()).await?;
    record(
        state,
        Some(actor),
        "org.governance_update",
        Some(id),
        &org.name,
        serde_json::json!({}),
        Some(ip),
    )
    .await;
    Ok(org)
}

/// Invite `email` as `role` into `org` (or the operator team when `None`).
pub async fn invite(
    state: &AppState,
    actor: &User,
    org: Option<OrgId>,
    email: &Email,
    role: Role,
    ip: &str,
) -> Result<(Invitation, IssuedLink), AppError> {
    actor.actor().can_invite(org, role)?;
    crate::limits::check(
        state,
        crate::limits::INVITATIONS,
        &crate::limits::user(actor.id),
    )
    .await?;
    if let Some(o) = org {
        state
            .store
            .get_org(o)
            .await?
            .ok_or(AppError::NotFound("organisation"))?;
    }
    let valid_for = Duration::days(state.config.invitation_days);
    let (inv, token) = state
        .store
        .create_invitation(email, role, org, Some(actor.id), now(), valid_for)
        .await?;
    record(
        state,
        Some(actor),
        "invitation.create",
        org,
        email.as_str(),
        serde_json::json!({ "invitation": inv.id, "role": role.as_str() }),
        Some(ip),
    )
    .await;
    let link = IssuedLink {
        url: format!("{}/invite/{token}", state.config.public_url),
        expires_at: inv.expires_at,
    };
    Ok((inv, link))
}

pub async fn revoke_invitation(
    state: &AppState,
    actor: &User,
    id: i64,
    ip: &str,
) -> Result<Invitation, AppError> {
    let inv = state
        .store
        .get_invitation(id)
        .await?
        .ok_or(AppError::NotFound("invitation"))?;
    actor.actor().can_invite(inv.org_id, inv.role)?;
    if !state.store.revoke_invitation(id, now()).await? {
        return Err(AppError::Conflict(
            "that invitation has already been used or withdrawn".into(),
        ));
    }
    record(
        state,
        Some(actor),
        "invitation.revoke",
        inv.org_id,
        &inv.email,
        serde_json::json!({ "invitation": id }),
        Some(ip),
    )
    .await;
    Ok(inv)
}

/// Load a user that `actor` may administer (not themselves; same organisation for leads).
async fn administered_user(state: &AppState, actor: &User, id: UserId) -> Result<User, AppError> {
    let target = state
        .store
        .get_user(id)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    // A lead must not learn whether users of other organisations exist.
    if actor.actor().can_view_org_opt(target.org_id).is_err() {
        return Err(AppError::NotFound("user"));
    }
    actor
        .actor()
        .can_administer_user(target.id, target.role, target.org_id)?;
    Ok(target)
}

/// Give a member another member role; their sessions end (they sign in
/// again with the new privileges). Audited with the old and new role.
pub async fn set_user_role(
    state: &AppState,
    actor: &User,
    id: UserId,
    role: &str,
    ip: &str,
) -> Result<User, AppError> {
    let target = administered_user(state, actor, id).await?;
    let new_role: Role = role
        .parse()
        .map_err(|e: openwarp_core::membership::UnknownValue| {
            AppError::field("role", e.to_string())
        })?;
    actor
        .actor()
        .can_set_role(target.id, target.role, target.org_id, new_role)
        .map_err(|e| match e {
            openwarp_core::Denied::RoleNotGrantable(_) => AppError::field("role", e.to_string()),
            other => other.into(),
        })?;
    if new_role != target.role {
        state.store.set_user_role(target.id, new_role).await?;
        record(
            state,
            Some(actor),
            "user.role_change",
            target.org_id,
            &target.email,
            serde_json::json!({ "user": id.0, "from": target.role.as_str(), "to": new_role.as_str() }),
            Some(ip),
        )
        .await;
    }
    state
        .store
        .get_user(target.id)
        .await?
        .ok_or(AppError::NotFound("user"))
}

pub async fn set_user_disabled(
    state: &AppState,
    actor: &User,
    id: UserId,
    disabled: bool,
    ip: &str,
) -> Result<User, AppError> {
    let target = administered_user(state, actor, id).await?;
    state
        .store
        .set_user_disabled(target.id, disabled, now())
        .await?;
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    record(
        state,
        Some(actor),
        action,
        target.org_id,
        &target.email,
        serde_json::json!({ "user": id.0 }),
        Some(ip),
    )
    .await;
    Ok(target)
}

/// Issue a one-time password-reset link for another user.
pub async fn issue_reset(
    state: &AppState,
    actor: &User,
    id: UserId,
    ip: &str,
) -> Result<(User, IssuedLink), AppError> {
    let target = administered_user(state, actor, id).await?;
    crate::limits::check(
        state,
        crate::limits::RESET_LINKS,
        &crate::limits::user(actor.id),
    )
    .await?;
    if target.disabled {
        return Err(AppError::Conflict(
            "enable the user before resetting their password".into(),
        ));
    }
    let valid_for = Duration::hours(state.config.reset_hours);
    let t = now();
    let token = state
        .store
        .create_password_reset(target.id, Some(actor.id), t, valid_for)
        .await?;
    record(
        state,
        Some(actor),
        "password_reset.issue",
        target.org_id,
        &target.email,
        serde_json::json!({ "user": id.0 }),
        Some(ip),
    )
    .await;
    let link = IssuedLink {
        url: format!("{}/reset/{token}", state.config.public_url),
        expires_at: t + valid_for,
    };
    Ok((target, link))
}

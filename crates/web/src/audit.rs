//! Writing the audit log from handlers. An audit failure is logged loudly but
//! does not undo the action it describes (that has already been committed).

use crate::AppState;
use openwarp_core::OrgId;
use openwarp_store::{AuditEntry, User, now};

/// Record that `actor` (or an anonymous visitor) did `action` to `target`.
pub async fn record(
    state: &AppState,
    actor: Option<&User>,
    action: &str,
    org: Option<OrgId>,
    target: &str,
    detail: serde_json::Value,
    ip: Option<&str>,
) {
    let entry = AuditEntry {
        actor_user_id: actor.map(|u| u.id),
        actor: actor.map_or("anonymous", |u| u.email.as_str()),
        action,
        org_id: org,
        target,
        detail,
        ip,
    };
    if let Err(e) = state.store.audit(entry, now()).await {
        tracing::error!(error = %e, action, target, "could not write the audit log");
    }
}

//! Changing a member's supplier list. Members see only their own list;
//! operators see every list and who shares a supplier.

use super::require_record_editor;
use crate::AppState;
use crate::audit::record;
use crate::error::AppError;
use openwarp_core::{OrgId, SupplierDraft, SupplierKind};
use openwarp_store::{Supplier, User, now};

/// A supplier as a person or client gave it, all text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupplierInput {
    pub name: String,
    /// One of [`SupplierKind::as_str`].
    pub kind: String,
    pub services: String,
    pub contact: String,
    pub notes: String,
}

fn given(s: &str) -> Option<String> {
    Some(s.to_string()).filter(|s| !s.trim().is_empty())
}

impl SupplierInput {
    pub fn validate(&self) -> Result<SupplierDraft, AppError> {
        let kind = self
            .kind
            .parse::<SupplierKind>()
            .map_err(|m| AppError::field("kind", m))?;
        SupplierDraft {
            name: self.name.clone(),
            kind,
            services: given(&self.services),
            contact: given(&self.contact),
            notes: given(&self.notes),
        }
        .validate()
        .map_err(|p| AppError::field(p.field, p.message))
    }
}

impl From<&SupplierDraft> for SupplierInput {
    fn from(d: &SupplierDraft) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        SupplierInput {
            name: d.name.clone(),
            kind: d.kind.as_str().to_string(),
            services: text(&d.services),
            contact: text(&d.contact),
            notes: text(&d.notes),
        }
    }
}

/// One of `org`'s suppliers, or 404.
pub async fn supplier(state: &AppState, org: OrgId, id: i64) -> Result<Supplier, AppError> {
    state
        .store
        .list_suppliers(org)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(AppError::NotFound("supplier"))
}

/// Add a supplier; 409 when the list already has one of that name.
pub async fn add_supplier(
    state: &AppState,
    actor: &User,
    org: OrgId,
    draft: &SupplierDraft,
    ip: &str,
) -> Result<i64, AppError> {
    require_record_editor(&actor.actor(), org)?;
    let id = state.store.add_supplier(org, draft, now()).await?;
    record(
        state,
        Some(actor),
        "supplier.add",
        Some(org),
        &draft.name,
        serde_json::json!({ "supplier": id, "kind": draft.kind.as_str() }),
        Some(ip),
    )
    .await;
    Ok(id)
}

pub async fn update_supplier(
    state: &AppState,
    actor: &User,
    org: OrgId,
    id: i64,
    draft: &SupplierDraft,
    ip: &str,
) -> Result<(), AppError> {
    require_record_editor(&actor.actor(), org)?;
    let before = supplier(state, org, id).await?;
    state.store.update_supplier(org, id, draft, now()).await?;
    record(
        state,
        Some(actor),
        "supplier.update",
        Some(org),
        &draft.name,
        serde_json::json!({
            "supplier": id,
            "name": [before.draft.name, draft.name.clone()],
            "kind": [before.draft.kind.as_str(), draft.kind.as_str()],
        }),
        Some(ip),
    )
    .await;
    Ok(())
}

pub async fn delete_supplier(
    state: &AppState,
    actor: &User,
    org: OrgId,
    id: i64,
    ip: &str,
) -> Result<Supplier, AppError> {
    require_record_editor(&actor.actor(), org)?;
    let gone = supplier(state, org, id).await?;
    state.store.delete_supplier(org, id).await?;
    record(
        state,
        Some(actor),
        "supplier.delete",
        Some(org),
        &gone.draft.name,
        serde_json::json!({ "supplier": id }),
        Some(ip),
    )
    .await;
    Ok(gone)
}

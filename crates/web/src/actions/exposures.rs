//! A member's decisions on their exposures, and reading the filters both
//! front ends accept.

use super::require_record_editor;
use crate::AppState;
use crate::audit::record;
use crate::error::AppError;
use openwarp_core::OrgId;
use openwarp_matching::priority::Priority;
use openwarp_matching::status::ExposureStatus;
use openwarp_store::{Exposure, ExposureEvent, ExposureFilter, User, now};

/// Longest note kept with a status change.
pub const MAX_NOTE: usize = 2000;

/// A status note as typed: trimmed, `None` when blank, refused when too long.
pub fn note(raw: &str) -> Result<Option<String>, String> {
    let n = raw.trim();
    if n.chars().count() > MAX_NOTE {
        return Err(format!("is longer than {MAX_NOTE} characters"));
    }
    Ok(Some(n.to_string()).filter(|n| !n.is_empty()))
}

/// A status as a form or client spells it (`action_in_progress`).
pub fn status(raw: &str) -> Result<ExposureStatus, String> {
    ExposureStatus::parse(raw).ok_or_else(|| {
        format!(
            "'{}' is not a status; use one of: {}",
            raw.trim(),
            ExposureStatus::ALL.map(|s| s.as_str()).join(", ")
        )
    })
}

fn checked(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" | "off" => Some(false),
        "true" | "1" | "yes" | "on" => Some(true),
        _ => None,
    }
}

/// The list filter from text (`priority=P1&status=new&include_inactive=true`),
/// and a message naming each value that could not be used.
pub fn filter(
    priority: &str,
    status_text: &str,
    include_inactive: &str,
) -> (ExposureFilter, Vec<String>) {
    let mut problems = Vec::new();
    let priority = match priority.trim() {
        "" | "any" => None,
        p => Priority::parse(p).or_else(|| {
            problems.push(format!("priority: '{p}' is not one of P1, P2, P3, P4"));
            None
        }),
    };
    let status = match status_text.trim() {
        "" | "any" => None,
        s => status(s)
            .map_err(|m| problems.push(format!("status: {m}")))
            .ok(),
    };
    let include_inactive = checked(include_inactive).unwrap_or_else(|| {
        problems.push(format!(
            "include_inactive: '{}' is not true or false",
            include_inactive.trim()
        ));
        false
    });
    (
        ExposureFilter {
            priority,
            status,
            item_id: None,
            vuln_id: None,
            include_inactive,
        },
        problems,
    )
}

/// One of `org`'s exposures with its history, or 404.
pub async fn exposure(
    state: &AppState,
    org: OrgId,
    id: i64,
) -> Result<(Exposure, Vec<ExposureEvent>), AppError> {
    state
        .store
        .exposure(org, id)
        .await?
        .ok_or(AppError::NotFound("exposure"))
}

/// Record a member's decision on one of their exposures, with an optional note.
pub async fn set_status(
    state: &AppState,
    actor: &User,
    org: OrgId,
    id: i64,
    new_status: ExposureStatus,
    note: Option<&str>,
    ip: &str,
) -> Result<(), AppError> {
    require_record_editor(&actor.actor(), org)?;
    let (before, _) = exposure(state, org, id).await?;
    state
        .store
        .set_exposure_status(org, id, new_status, note, actor.id, now())
        .await?;
    record(
        state,
        Some(actor),
        "exposure.status",
        Some(org),
        &format!("{} on {}", before.vuln_id, before.item_name),
        serde_json::json!({
            "exposure": id,
            "status": [before.status.as_str(), new_status.as_str()],
            "note": note,
        }),
        Some(ip),
    )
    .await;
    Ok(())
}

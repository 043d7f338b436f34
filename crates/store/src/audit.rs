//! The audit log of sensitive actions: who did what, to what, when, from where.
//! Append-only: nothing in openwarp updates or deletes audit rows.

use crate::{Result, Store, on_pool};
use chrono::{DateTime, Utc};
use openwarp_core::{OrgId, UserId};
use serde::Serialize;

/// An entry to append.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub actor_user_id: Option<UserId>,
    /// Who acted, as people read it (an e-mail address, or "cli", "system").
    pub actor: &'a str,
    /// A stable dotted verb, e.g. `org.create`, `user.disable`, `auth.login_failed`.
    pub action: &'a str,
    pub org_id: Option<OrgId>,
    /// What was acted on, e.g. `org:12` or an e-mail address.
    pub target: &'a str,
    /// Extra facts as JSON (never secrets).
    pub detail: serde_json::Value,
    pub ip: Option<&'a str>,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub org_id: Option<i64>,
    pub target: String,
    pub detail: String,
    pub ip: Option<String>,
}

impl Store {
    pub async fn audit(&self, e: AuditEntry<'_>, now: DateTime<Utc>) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO audit_log (at, actor_user_id, actor, action, org_id, target, detail, ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(now)
        .bind(e.actor_user_id.map(|u| u.0))
        .bind(e.actor)
        .bind(e.action)
        .bind(e.org_id.map(|o| o.0))
        .bind(e.target)
        .bind(e.detail.to_string())
        .bind(e.ip)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The newest entries first, `limit` of them, older than `before_id` when given.
    pub async fn audit_log(&self, limit: i64, before_id: Option<i64>) -> Result<Vec<AuditRecord>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, at, actor_user_id, actor, action, org_id, target, detail, ip FROM audit_log \
             WHERE id < $1 ORDER BY id DESC LIMIT $2"
        )
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(p)
        .await
        })?)
    }
}

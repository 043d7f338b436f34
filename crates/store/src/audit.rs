//! The audit log of sensitive actions: who did what, to what, when, from where.
//!
//! # Tamper-evident
//! Append-only: nothing in openwarp updates or deletes audit rows, and the log
//! proves it. Every entry has its place in a chain (`seq`, 1, 2, 3, …), the
//! previous entry's hash and its own: SHA-256 over the previous hash and the
//! entry's fields ([`entry_hash`]). A one-row table, `audit_head`, holds the
//! newest place and hash; appending locks that row, so entries from several
//! app instances still form one chain. [`Store::verify_audit_chain`] walks the
//! chain and names the first entry that was changed, removed or inserted, and
//! notices entries cut off the end (the head is ahead of the last entry).
//!
//! Someone who can write to the database can rebuild the whole chain, of
//! course; the chain makes a quiet edit impossible, and the latest head hash,
//! exported or written down, pins everything before it.

use crate::{Result, Store, StoreError, corrupt, on_pool};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use openwarp_core::{OrgId, UserId};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
    /// Place in the chain.
    pub seq: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// Narrowing the log (every field optional; all given must hold).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Actions starting with this, e.g. `incident.` or `auth.login`.
    pub action: Option<String>,
    /// Actor (e-mail address) containing this, case-insensitively.
    pub actor: Option<String>,
    pub org: Option<OrgId>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
}

/// What walking the chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainCheck {
    /// Entries checked.
    pub entries: i64,
    /// The newest place and hash the head records.
    pub head_seq: i64,
    pub head_hash: String,
    /// The first problem, if any.
    pub broken: Option<ChainBreak>,
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// The place in the chain at fault.
    pub seq: i64,
    pub reason: String,
}

/// Timestamps are hashed to the microsecond, the precision both databases keep.
fn hashed_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(at)
}

/// The hash of the entry at place `seq` that follows `prev`: SHA-256 over
/// the previous hash, a newline and the entry's fields as a JSON array, in
/// lower-case hex. Anyone with the CSV export can recompute it.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    prev: &str,
    seq: i64,
    at: DateTime<Utc>,
    actor_user_id: Option<i64>,
    actor: &str,
    action: &str,
    org_id: Option<i64>,
    target: &str,
    detail: &str,
    ip: Option<&str>,
) -> String {
    let fields = serde_json::json!([
        seq,
        hashed_time(at).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        actor_user_id,
        actor,
        action,
        org_id,
        target,
        detail,
        ip,
    ]);
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(fields.to_string().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl AuditRecord {
    /// This entry's hash recomputed from its fields and `prev`.
    fn recompute(&self, prev: &str, seq: i64) -> String {
        entry_hash(
            prev,
            seq,
            self.at,
            self.actor_user_id,
            &self.actor,
            &self.action,
            self.org_id,
            &self.target,
            &self.detail,
            self.ip.as_deref(),
        )
    }
}

/// `s` with LIKE's wildcards and the escape character escaped (`\`).
fn like_escaped(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

const SELECT: &str = "SELECT id, at, actor_user_id, actor, action, org_id, target, detail, ip, seq, prev_hash, hash \
                      FROM audit_log";

impl Store {
    /// Append an entry to the chain.
    pub async fn audit(&self, e: AuditEntry<'_>, now: DateTime<Utc>) -> Result<()> {
        let at = hashed_time(now);
        let detail = e.detail.to_string();
        let user = e.actor_user_id.map(|u| u.0);
        let org = e.org_id.map(|o| o.0);
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            // The UPDATE comes first: it takes the write lock (SQLite) or
            // the row lock (PostgreSQL) before the previous hash is read.
            let (seq, prev): (i64, String) = sqlx::query_as(
                "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
            )
            .fetch_one(&mut *tx)
            .await?;
            let hash = entry_hash(
                &prev, seq, at, user, e.actor, e.action, org, e.target, &detail, e.ip,
            );
            sqlx::query(
                "INSERT INTO audit_log (at, actor_user_id, actor, action, org_id, target, detail, ip, \
                 seq, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(at)
            .bind(user)
            .bind(e.actor)
            .bind(e.action)
            .bind(org)
            .bind(e.target)
            .bind(&detail)
            .bind(e.ip)
            .bind(seq)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// Chain the entries written before the log was chained (oldest first).
    /// Run by `migrate`; safe when several instances start at once.
    pub(crate) async fn chain_audit_backlog(&self) -> Result<u64> {
        let mut chained = 0;
        loop {
            let rows: Vec<AuditRecord> = on_pool!(self, |p| {
                sqlx::query_as(concat!(
                    "SELECT id, at, actor_user_id, actor, action, org_id, target, detail, ip, seq, prev_hash, hash \
                     FROM audit_log",
                    " WHERE seq IS NULL ORDER BY id LIMIT 500"
                ))
                .fetch_all(p)
                .await
            })?;
            if rows.is_empty() {
                return Ok(chained);
            }
            for r in rows {
                let done = on_pool!(self, |p| {
                    let mut tx = p.begin().await?;
                    let (seq, prev): (i64, String) = sqlx::query_as(
                        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
                    )
                    .fetch_one(&mut *tx)
                    .await?;
                    let hash = r.recompute(&prev, seq);
                    let n = sqlx::query(
                        "UPDATE audit_log SET seq = $1, prev_hash = $2, hash = $3, at = $4 \
                         WHERE id = $5 AND seq IS NULL",
                    )
                    .bind(seq)
                    .bind(&prev)
                    .bind(&hash)
                    .bind(hashed_time(r.at))
                    .bind(r.id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 1 {
                        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                            .bind(&hash)
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                    } else {
                        // Another instance chained it first.
                        tx.rollback().await?;
                    }
                    Ok::<_, StoreError>(n)
                })?;
                chained += done;
            }
        }
    }

    /// The newest entries first, `limit` of them, older than `before_id`
    /// when given.
    pub async fn audit_log(&self, limit: i64, before_id: Option<i64>) -> Result<Vec<AuditRecord>> {
        self.audit_log_filtered(&AuditFilter::default(), limit, before_id)
            .await
    }

    /// The newest entries first, `limit` of them, older than `before_id`
    /// when given, narrowed by `filter`.
    pub async fn audit_log_filtered(
        &self,
        filter: &AuditFilter,
        limit: i64,
        before_id: Option<i64>,
    ) -> Result<Vec<AuditRecord>> {
        Ok(on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(SELECT);
            qb.push(" WHERE id < ");
            qb.push_bind(before_id.unwrap_or(i64::MAX));
            if let Some(a) = filter.action.as_deref().filter(|a| !a.is_empty()) {
                qb.push(r" AND action LIKE ");
                qb.push_bind(format!("{}%", like_escaped(a)));
                qb.push(r" ESCAPE '\'");
            }
            if let Some(a) = filter.actor.as_deref().filter(|a| !a.is_empty()) {
                qb.push(r" AND lower(actor) LIKE ");
                qb.push_bind(format!("%{}%", like_escaped(&a.to_lowercase())));
                qb.push(r" ESCAPE '\'");
            }
            if let Some(o) = filter.org {
                qb.push(" AND org_id = ");
                qb.push_bind(o.0);
            }
            if let Some(t) = filter.from {
                qb.push(" AND at >= ");
                qb.push_bind(t);
            }
            if let Some(t) = filter.until {
                qb.push(" AND at < ");
                qb.push_bind(t);
            }
            qb.push(" ORDER BY id DESC LIMIT ");
            qb.push_bind(limit);
            qb.build_query_as().fetch_all(p).await
        })?)
    }

    /// Walk the whole chain, oldest first, and report the first break.
    pub async fn verify_audit_chain(&self) -> Result<ChainCheck> {
        let (head_seq, head_hash): (i64, String) = on_pool!(self, |p| {
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(p)
                .await
        })?;
        let unchained: (i64,) = on_pool!(self, |p| {
            sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE seq IS NULL")
                .fetch_one(p)
                .await
        })?;
        let mut check = ChainCheck {
            entries: 0,
            head_seq,
            head_hash: head_hash.clone(),
            broken: None,
        };
        let mut last_seq = 0i64;
        let mut last_hash = GENESIS_HASH.to_string();
        'pages: loop {
            let rows: Vec<AuditRecord> = on_pool!(self, |p| {
                sqlx::query_as(concat!(
                    "SELECT id, at, actor_user_id, actor, action, org_id, target, detail, ip, seq, prev_hash, hash \
                     FROM audit_log",
                    " WHERE seq > $1 ORDER BY seq LIMIT 1000"
                ))
                .bind(last_seq)
                .fetch_all(p)
                .await
            })?;
            if rows.is_empty() {
                break;
            }
            for r in rows {
                let seq = r.seq.ok_or_else(|| corrupt("audit entry without seq"))?;
                check.entries += 1;
                let reason = if seq != last_seq + 1 {
                    Some(format!(
                        "entries {} to {} are missing",
                        last_seq + 1,
                        seq - 1
                    ))
                } else if r.prev_hash.as_deref() != Some(last_hash.as_str()) {
                    Some("its previous hash is not the hash of the entry before it".into())
                } else if r.hash.as_deref() != Some(r.recompute(&last_hash, seq).as_str()) {
                    Some("its contents do not match its hash: it was changed".into())
                } else {
                    None
                };
                if let Some(reason) = reason {
                    check.broken = Some(ChainBreak { seq, reason });
                    break 'pages;
                }
                last_seq = seq;
                last_hash = r.hash.unwrap_or_default();
            }
        }
        if check.broken.is_none() {
            if head_seq != last_seq || head_hash != last_hash {
                check.broken = Some(ChainBreak {
                    seq: last_seq + 1,
                    reason: format!(
                        "the head records {head_seq} entries but the log ends at {last_seq}: entries were removed from the end"
                    ),
                });
            } else if unchained.0 > 0 {
                check.broken = Some(ChainBreak {
                    seq: last_seq + 1,
                    reason: format!("{} entries are outside the chain", unchained.0),
                });
            }
        }
        Ok(check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The fields `entry_hash` covers, to vary one at a time.
    #[derive(Clone)]
    struct Fields {
        prev: &'static str,
        seq: i64,
        at: DateTime<Utc>,
        user: Option<i64>,
        actor: &'static str,
        action: &'static str,
        org: Option<i64>,
        target: &'static str,
        detail: &'static str,
        ip: Option<&'static str>,
    }

    fn hash(f: &Fields) -> String {
        entry_hash(
            f.prev, f.seq, f.at, f.user, f.actor, f.action, f.org, f.target, f.detail, f.ip,
        )
    }

    #[test]
    fn the_hash_covers_every_field_and_the_previous_hash() {
        let base = Fields {
            prev: GENESIS_HASH,
            seq: 1,
            at: Utc
                .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
                .single()
                .unwrap_or_default(),
            user: Some(2),
            actor: "a@b",
            action: "x.y",
            org: Some(3),
            target: "t",
            detail: "{}",
            ip: None,
        };
        let h = hash(&base);
        assert_eq!(h.len(), 64);
        let changes: [fn(&mut Fields); 10] = [
            |f| f.prev = "1",
            |f| f.seq = 2,
            |f| f.at += TimeDelta::microseconds(1),
            |f| f.user = None,
            |f| f.actor = "a@c",
            |f| f.action = "x.z",
            |f| f.org = None,
            |f| f.target = "u",
            |f| f.detail = "{\"a\":1}",
            |f| f.ip = Some("::1"),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut f = base.clone();
            change(&mut f);
            assert_ne!(hash(&f), h, "changing field {i} leaves the hash as it was");
        }
        // Nanoseconds below the microsecond are not kept by PostgreSQL, so
        // they are not hashed.
        let mut f = base.clone();
        f.at += TimeDelta::nanoseconds(999);
        assert_eq!(hash(&f), h);
    }
}

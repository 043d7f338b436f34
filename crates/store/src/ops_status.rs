//! What an operator's monitoring asks of the database: queue depths, the
//! matching still owed, each feed's last success, the audit log's length.
//! Read at every scrape of `/metrics`, so each figure is one cheap query.

use crate::{FeedState, Result, Store, on_pool};
use chrono::{DateTime, Utc};

/// One look at the work in the database.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpsSnapshot {
    /// Deliveries by status (`pending`, `sent`, `dead`, `cancelled`…).
    pub deliveries: Vec<(String, i64)>,
    /// Age in seconds of the oldest pending delivery that is due (0 when none).
    pub oldest_due_delivery_seconds: f64,
    /// Advisories whose matching an ingest still owes.
    pub match_pending: i64,
    /// Entries in the audit log's chain.
    pub audit_entries: i64,
    pub feeds: Vec<FeedState>,
}

impl Store {
    /// Read the figures `/metrics` reports, as of `now`.
    pub async fn ops_snapshot(&self, now: DateTime<Utc>) -> Result<OpsSnapshot> {
        let deliveries: Vec<(String, i64)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT status, COUNT(*) FROM deliveries GROUP BY status ORDER BY status",
            )
            .fetch_all(p)
            .await
        })?;
        let oldest: (Option<DateTime<Utc>>,) = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1",
            )
            .bind(now)
            .fetch_one(p)
            .await
        })?;
        let (match_pending,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as("SELECT COUNT(*) FROM match_pending")
                .fetch_one(p)
                .await
        })?;
        let (audit_entries,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as("SELECT seq FROM audit_head WHERE id = 1")
                .fetch_one(p)
                .await
        })?;
        Ok(OpsSnapshot {
            deliveries,
            oldest_due_delivery_seconds: oldest
                .0
                .map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
                .unwrap_or(0.0),
            match_pending,
            audit_entries,
            feeds: self.list_feed_states().await?,
        })
    }
}

//! Live feed sources: per-source polling state, and the lease that lets
//! several app instances on one database share the polling.
//!
//! Contract:
//! - One row per configured source, keyed by the source's name, created by
//!   the first [`Store::try_lease`].
//! - A source is polled only under a lease: [`Store::try_lease`] succeeds for
//!   one holder at a time until the lease expires (`lease_until`), so a crashed
//!   instance cannot block a source for longer than the lease's time to live.
//!   The holder renews it by calling `try_lease` again while it works.
//! - Every write after the lease is conditional on still holding it: a holder
//!   whose lease expired and was taken over gets `Ok(false)` and changes
//!   nothing, so it cannot overwrite the newer holder's state.
//! - The ETag, Last-Modified and checkpoint change only on success (or, for the
//!   checkpoint, after a completed step of a run), so a failed or truncated
//!   download is fetched again in full next time.
//! - Time comes from the caller, as everywhere in the store.

use crate::{Result, Store, corrupt, on_pool};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

/// How a source's last run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedOutcome {
    /// New content was fetched and ingested.
    Updated,
    /// The server said nothing changed (HTTP 304): nothing was downloaded.
    NotModified,
    /// The run failed; see `last_error`.
    Failed,
}

impl FeedOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedOutcome::Updated => "updated",
            FeedOutcome::NotModified => "not_modified",
            FeedOutcome::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<FeedOutcome> {
        match s {
            "updated" => Some(FeedOutcome::Updated),
            "not_modified" => Some(FeedOutcome::NotModified),
            "failed" => Some(FeedOutcome::Failed),
            _ => None,
        }
    }
}

/// What one run of a source stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FeedRunCounts {
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// Older versions of records already stored in a newer version.
    pub stale: u64,
    /// Records refused by the parser (the rest of the document was kept).
    pub rejected: u64,
    pub epss_scores: u64,
}

impl std::ops::AddAssign for FeedRunCounts {
    fn add_assign(&mut self, o: FeedRunCounts) {
        self.new += o.new;
        self.changed += o.changed;
        self.unchanged += o.unchanged;
        self.stale += o.stale;
        self.rejected += o.rejected;
        self.epss_scores += o.epss_scores;
    }
}

/// Everything stored about one feed source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedState {
    pub name: String,
    /// The validator the server sent with the content we last stored, sent
    /// back as `If-None-Match`.
    pub etag: Option<String>,
    /// The `Last-Modified` header of the content we last stored, exactly as
    /// sent, for `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// Where an incremental source got to (for NVD: the `lastModEndDate` of the
    /// last completed window, RFC 3339), so a restart resumes from there.
    pub checkpoint: Option<String>,
    pub lease_holder: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_outcome: Option<FeedOutcome>,
    pub last_error: Option<String>,
    /// Failed runs since the last success: drives the retry backoff.
    pub consecutive_failures: u32,
    /// What the last run stored (a failed run may have stored part of its work).
    pub last_counts: FeedRunCounts,
}

/// What a successful run leaves for the next one. Values are written as
/// given: pass the previous ETag and Last-Modified on a 304 (or the new ones
/// if the 304 carried them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedSuccess {
    pub not_modified: bool,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub checkpoint: Option<String>,
    pub counts: FeedRunCounts,
}

#[derive(sqlx::FromRow)]
struct FeedStateRow {
    name: String,
    etag: Option<String>,
    last_modified: Option<String>,
    checkpoint: Option<String>,
    lease_holder: Option<String>,
    lease_until: Option<DateTime<Utc>>,
    last_attempt_at: Option<DateTime<Utc>>,
    last_success_at: Option<DateTime<Utc>>,
    last_outcome: Option<String>,
    last_error: Option<String>,
    consecutive_failures: i64,
    records_new: i64,
    records_changed: i64,
    records_unchanged: i64,
    records_stale: i64,
    records_rejected: i64,
    epss_scores: i64,
}

/// `SELECT feed_state_columns!() FROM …`: a macro, not a `const`, so the SQL
/// stays a `&'static str` sqlx accepts as is.
macro_rules! feed_state_columns {
    () => {
        "name, etag, last_modified, checkpoint, lease_holder, lease_until, \
         last_attempt_at, last_success_at, last_outcome, last_error, consecutive_failures, \
         records_new, records_changed, records_unchanged, records_stale, records_rejected, \
         epss_scores"
    };
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn db_count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl TryFrom<FeedStateRow> for FeedState {
    type Error = crate::StoreError;

    fn try_from(r: FeedStateRow) -> Result<FeedState> {
        let last_outcome = match r.last_outcome.as_deref() {
            None => None,
            Some(s) => Some(
                FeedOutcome::parse(s)
                    .ok_or_else(|| corrupt(format!("feed {}: outcome '{s}'", r.name)))?,
            ),
        };
        Ok(FeedState {
            etag: r.etag,
            last_modified: r.last_modified,
            checkpoint: r.checkpoint,
            lease_holder: r.lease_holder,
            lease_until: r.lease_until,
            last_attempt_at: r.last_attempt_at,
            last_success_at: r.last_success_at,
            last_outcome,
            last_error: r.last_error,
            consecutive_failures: u32::try_from(r.consecutive_failures).unwrap_or(u32::MAX),
            last_counts: FeedRunCounts {
                new: count(r.records_new),
                changed: count(r.records_changed),
                unchanged: count(r.records_unchanged),
                stale: count(r.records_stale),
                rejected: count(r.records_rejected),
                epss_scores: count(r.epss_scores),
            },
            name: r.name,
        })
    }
}

impl Store {
    /// The stored state of source `name`, or `None` before its first lease.
    pub async fn get_feed_state(&self, name: &str) -> Result<Option<FeedState>> {
        let row: Option<FeedStateRow> = on_pool!(self, |p| sqlx::query_as(concat!(
            "SELECT ",
            feed_state_columns!(),
            " FROM feed_state WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(p)
        .await)?;
        row.map(FeedState::try_from).transpose()
    }

    /// Every source's state, by name (including sources no longer configured).
    pub async fn list_feed_states(&self) -> Result<Vec<FeedState>> {
        let rows: Vec<FeedStateRow> = on_pool!(self, |p| sqlx::query_as(concat!(
            "SELECT ",
            feed_state_columns!(),
            " FROM feed_state ORDER BY name"
        ))
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(FeedState::try_from).collect()
    }

    /// Take, or renew, the lease on source `name` for `holder` until
    /// `now + ttl`. Succeeds when nobody holds it, the lease has expired, or
    /// `holder` already holds it; `false` means another holder is polling it.
    /// One statement, so two instances racing for it cannot both win: the
    /// row is locked by the upsert on PostgreSQL, and SQLite has one writer.
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: TimeDelta,
    ) -> Result<bool> {
        // An absurd ttl saturates rather than overflowing.
        let until = now
            .checked_add_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let done = on_pool!(self, |p| sqlx::query(
            "INSERT INTO feed_state (name, lease_holder, lease_until) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET lease_holder = $2, lease_until = $3 \
             WHERE feed_state.lease_holder IS NULL OR feed_state.lease_until IS NULL \
                OR feed_state.lease_until <= $4 OR feed_state.lease_holder = $2"
        )
        .bind(name)
        .bind(holder)
        .bind(until)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    /// Give up the lease if `holder` still holds it (e.g. on shutdown, or when
    /// a source turned out not to be due), so another instance need not wait
    /// for it to expire.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE feed_state SET lease_holder = NULL, lease_until = NULL \
             WHERE name = $1 AND lease_holder = $2"
        )
        .bind(name)
        .bind(holder)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Record progress part-way through a run (for NVD: a completed window),
    /// keeping the lease. `Ok(false)` when `holder` no longer holds the lease:
    /// nothing was written and the run should stop.
    pub async fn save_feed_checkpoint(
        &self,
        name: &str,
        holder: &str,
        checkpoint: &str,
    ) -> Result<bool> {
        let done = on_pool!(self, |p| sqlx::query(
            "UPDATE feed_state SET checkpoint = $3 \
             WHERE name = $1 AND lease_holder = $2"
        )
        .bind(name)
        .bind(holder)
        .bind(checkpoint)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    /// Record a successful run and release the lease. `Ok(false)` when
    /// `holder` no longer held the lease: nothing was written.
    pub async fn save_feed_success(
        &self,
        name: &str,
        holder: &str,
        success: &FeedSuccess,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let outcome = if success.not_modified {
            FeedOutcome::NotModified
        } else {
            FeedOutcome::Updated
        };
        let c = success.counts;
        let done = on_pool!(self, |p| sqlx::query(
            "UPDATE feed_state SET etag = $3, last_modified = $4, checkpoint = $5, \
                 last_attempt_at = $6, last_success_at = $6, last_outcome = $7, last_error = NULL, \
                 consecutive_failures = 0, records_new = $8, records_changed = $9, \
                 records_unchanged = $10, records_stale = $11, records_rejected = $12, \
                 epss_scores = $13, lease_holder = NULL, lease_until = NULL \
             WHERE name = $1 AND lease_holder = $2"
        )
        .bind(name)
        .bind(holder)
        .bind(success.etag.as_deref())
        .bind(success.last_modified.as_deref())
        .bind(success.checkpoint.as_deref())
        .bind(now)
        .bind(outcome.as_str())
        .bind(db_count(c.new))
        .bind(db_count(c.changed))
        .bind(db_count(c.unchanged))
        .bind(db_count(c.stale))
        .bind(db_count(c.rejected))
        .bind(db_count(c.epss_scores))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    /// Record a failed run and release the lease. The ETag, Last-Modified and
    /// checkpoint are kept, so the next run fetches again from where the last
    /// good one (or completed step) left off. `counts` is what the run stored
    /// before failing. `Ok(false)` when `holder` no longer held the lease.
    pub async fn save_feed_failure(
        &self,
        name: &str,
        holder: &str,
        error: &str,
        counts: FeedRunCounts,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let c = counts;
        let done = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE feed_state SET last_attempt_at = $3, last_outcome = 'failed', last_error = $4, \
                 consecutive_failures = consecutive_failures + 1, records_new = $5, \
                 records_changed = $6, records_unchanged = $7, records_stale = $8, \
                 records_rejected = $9, epss_scores = $10, lease_holder = NULL, lease_until = NULL \
             WHERE name = $1 AND lease_holder = $2"
        )
        .bind(name)
        .bind(holder)
        .bind(now)
        .bind(error)
        .bind(db_count(c.new))
        .bind(db_count(c.changed))
        .bind(db_count(c.unchanged))
        .bind(db_count(c.stale))
        .bind(db_count(c.rejected))
        .bind(db_count(c.epss_scores))
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(done > 0)
    }
}

//! Storage for openwarp, on SQLite (the default: one file, WAL mode, foreign
//! keys on) or PostgreSQL (several app instances, one database), from one code
//! base.
//!
//! # How one code base serves two databases
//! Every query is written once, in the SQL both databases accept (`$1`
//! placeholders, `RETURNING`, `ON CONFLICT`), and the [`on_pool!`] macro
//! expands the same body once per backend so sqlx can type-check it against
//! each. Each backend has its own migrations folder (`migrations/sqlite`,
//! `migrations/postgres`) because DDL differs (identity columns, `TIMESTAMPTZ`).
//!
//! # Contract kept by every method
//! - Time comes from the caller (`now`); the database clock is never used, so
//!   both backends agree and tests can move time.
//! - Secrets (session, invitation, reset and API tokens) are stored only as
//!   SHA-256 hashes; passwords only as argon2id PHC strings.
//! - A failed write changes nothing: multi-step changes run in one transaction.
//! - Uniqueness clashes come back as [`StoreError::Conflict`], never as a raw
//!   database error.

mod advisories;
mod alert_status;
mod alerts;
// Assessments (issue 8)
mod assessments;
// End of assessments (issue 8)
mod audit;
mod auth;
mod backup;
mod cpe_dictionary;
pub mod crypto;
mod discussion;
mod exposures;
mod feeds;
// Federation (issue 9)
mod federation;
// End of federation (issue 9)
mod incident_attachments;
mod incidents;
mod inventory;
mod invitations;
mod meetings;
mod mfa;
mod news;
mod ops_status;
mod orgs;
mod polls;
mod sealing;
mod users;
mod warp_advisories;

#[cfg(feature = "testing")]
pub mod testing;

pub use advisories::{
    AdvisoryDetail, AdvisoryFilter, AdvisoryPage, AdvisoryRow, ChangeRow, IngestCounts,
    KnownRecords, StoredRecord,
};
pub use alerts::{
    Alert, AlertContent, AlertItem, AlertKind, Channel, DELIVERY_LEASE, DeliveryCounts,
    DeliveryFilter, DeliveryJob, DeliveryRow, DeliveryStatus, DigestPayload, NewAlert, NewWebhook,
    Recipient, SourceLink, Subscription, Webhook, WebhookFormat,
};
// Assessments (issue 8)
pub use assessments::{
    AssessedMember, RegionSubmission, StoredFramework, Submission, SubmitError, WorkingCopy,
};
// End of assessments (issue 8)
pub use audit::{
    AuditEntry, AuditFilter, AuditRecord, ChainBreak, ChainCheck, GENESIS_HASH, entry_hash,
};
pub use auth::{ApiToken, LoginFailures, Session, SessionStage, TokenUse};
pub use backup::{DatabaseFacts, RestoreRefused, inspect_sqlite_backup, latest_schema_version};
pub use discussion::{DiscussionError, DiscussionSettings, Post, Thread, ThreadWithPosts, Topic};
pub use exposures::{
    AdvisoryExposure, Exposure, ExposureEvent, ExposureFilter, ExposurePage, MAX_EXPOSURES,
    MatchCounts,
};
pub use feeds::{FeedOutcome, FeedRunCounts, FeedState, FeedSuccess};
// Federation (issue 9)
pub use federation::{
    NewPartnerObject, OutboundObject, PartnerExposureLink, PartnerObject, Peer, PeerPoll, Served,
    TaxiiRow,
};
// End of federation (issue 9)
pub use incident_attachments::{AttachmentFile, IncidentAttachment, NewAttachment};
pub use incidents::{
    Incident, IncidentAccess, IncidentEvent, IncidentFilter, SharedVersion, SupplierWarning,
};
pub use inventory::{AddedItems, ProductName, StoredItem, Supplier, SupplierUser};
pub use invitations::{AcceptError, Invitation, InvitationState};
pub use meetings::{AgendaItem, Attendee, Meeting, Minutes, Rsvp};
pub use mfa::Authenticator;
pub use news::{Link, LinkFilter, NewsItem};
pub use ops_status::OpsSnapshot;
pub use orgs::Organisation;
pub use polls::{Poll, PollAnswer, PollError, PollResults};
pub use sealing::{KEY_BYTES, SEALED_PREFIX, SealingError, SealingKey};
pub use users::{NewUser, User, UserWithSecret};
pub use warp_advisories::{
    AudienceOrg, Published, WarpAdvisory, WarpAdvisoryFilter, WarpReach, product_keys,
};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Debug, Clone)]
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle on the database; cheap to clone (it wraps a connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    /// Whether advisory changes raise alerts (off for bulk loads that should
    /// only record the baseline; see [`Store::without_alerts`]).
    alerting: bool,
    /// The key stored secrets are sealed with, when one is configured.
    sealing: Option<std::sync::Arc<SealingKey>>,
}

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one we understand.
    #[error("database URL '{0}' is not supported: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// A uniqueness rule was broken (duplicate name, e-mail…); nothing was written.
    #[error("{0}")]
    Conflict(String),
    /// The record asked for does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A stored value could not be read back (should never happen; indicates tampering or a bug).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Asked of a backend that cannot do it (e.g. an SQLite backup of PostgreSQL).
    #[error("{0}")]
    Unsupported(String),
    /// A stored secret could not be sealed or opened.
    #[error(transparent)]
    Sealing(#[from] SealingError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Run `$body` with `$pool` bound to the backend's pool; the body is expanded
/// once per backend so the same sqlx code is checked against both.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Turn a unique-constraint violation into a [`StoreError::Conflict`] with `message`.
pub(crate) fn conflict_on_unique(
    message: impl Into<String>,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(message.into())
        }
        _ => StoreError::Database(e),
    }
}

pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

impl Store {
    /// Open a pool for `url`: `sqlite://path/to/file.db` (created if missing) or
    /// `postgres://…`. Does not migrate; call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Store> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts)
                .await?;
            Ok(Store {
                db: Db::Sqlite(pool),
                alerting: true,
                sealing: None,
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Store {
                db: Db::Postgres(pool),
                alerting: true,
                sealing: None,
            })
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }

    /// The same database, but advisory changes only record what members are
    /// exposed to, without raising alerts: for a first bulk load of a feed's
    /// history (`openwarp ingest --baseline`, the demo's seed), which is not
    /// news. Later changes are compared with that baseline.
    pub fn without_alerts(&self) -> Store {
        Store {
            db: self.db.clone(),
            alerting: false,
            sealing: self.sealing.clone(),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Apply any migrations not yet applied. Safe to run from several instances
    /// at once (sqlx takes an advisory lock on PostgreSQL).
    pub async fn migrate(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Db::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        self.chain_audit_backlog().await?;
        Ok(())
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Close the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

/// The current time, truncated to whole microseconds: the precision both
/// backends store, so a value read back equals the value written.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    let t = chrono::Utc::now();
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

/// Hide any password in a database URL before it reaches a log or message.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://warp:s3cret@db.example/warp"),
            "postgres://warp:***@db.example/warp"
        );
        assert_eq!(
            redact_url("postgres://warp@db/warp"),
            "postgres://warp@db/warp"
        );
        assert_eq!(redact_url("sqlite://openwarp.db"), "sqlite://openwarp.db");
    }
}

//! Backups of a SQLite database, taken while openwarp runs, and the checks a
//! restore makes before it replaces anything.
//!
//! A backup is `VACUUM INTO`: SQLite copies the database as one read
//! transaction sees it, so the copy is consistent even while `serve` writes
//! (WAL mode lets readers and the writer go on together), and compact. A
//! restore first inspects the file it is given, read-only: an SQLite database
//! whose integrity check passes, made by openwarp (it has our migrations
//! table), from a version no newer than this one, whose audit chain is
//! whole. Only then does the caller swap it in.
//!
//! PostgreSQL has its own tools for this (`pg_dump`, `pg_restore`); the
//! binary runs them and docs/operations.md explains both.

use crate::audit::ChainCheck;
use crate::{Db, Result, Store, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::path::Path;

/// What a database file holds, as far as a restore needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseFacts {
    /// The newest migration applied.
    pub schema_version: i64,
    /// Organisations, users and advisories stored (to show the operator).
    pub organisations: i64,
    pub users: i64,
    pub advisories: i64,
    /// The audit chain as [`Store::verify_audit_chain`] found it.
    pub audit: ChainCheck,
}

/// The migration that made the audit log a chain.
const AUDIT_CHAIN_MIGRATION: i64 = 17;

/// The newest migration this build knows, per backend.
pub fn latest_schema_version(postgres: bool) -> i64 {
    let migrator = if postgres {
        sqlx::migrate!("./migrations/postgres")
    } else {
        sqlx::migrate!("./migrations/sqlite")
    };
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

impl Store {
    /// Copy the live SQLite database, consistently, into the new file `dest`
    /// (which must not exist). PostgreSQL: refused (use `pg_dump`).
    pub async fn backup_sqlite(&self, dest: &Path) -> Result<()> {
        let Db::Sqlite(pool) = &self.db else {
            return Err(StoreError::Unsupported(
                "this is a PostgreSQL database: back it up with pg_dump (docs/operations.md)"
                    .into(),
            ));
        };
        if dest.exists() {
            return Err(StoreError::Conflict(format!(
                "{} already exists; a backup never overwrites a file",
                dest.display()
            )));
        }
        let dest = dest
            .to_str()
            .ok_or_else(|| StoreError::Unsupported("the backup path is not valid UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(dest)
            .execute(pool)
            .await?;
        Ok(())
    }

    /// SQLite: fold the write-ahead log into the database file and empty
    /// it, so the file alone is the whole database. PostgreSQL: nothing.
    pub async fn checkpoint(&self) -> Result<()> {
        if let Db::Sqlite(pool) = &self.db {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// Facts about this database, for a backup's or restore's report.
    pub async fn facts(&self) -> Result<DatabaseFacts> {
        let count = |table: &'static str| async move {
            let sql = match table {
                "organisations" => "SELECT COUNT(*) FROM organisations",
                "users" => "SELECT COUNT(*) FROM users",
                _ => "SELECT COUNT(*) FROM advisories",
            };
            let (n,): (i64,) = crate::on_pool!(self, |p| sqlx::query_as(sql).fetch_one(p).await)?;
            Ok::<_, StoreError>(n)
        };
        let (schema_version,): (i64,) = crate::on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success = TRUE",
            )
            .fetch_one(p)
            .await
        })?;
        Ok(DatabaseFacts {
            schema_version,
            organisations: count("organisations").await?,
            users: count("users").await?,
            advisories: count("advisories").await?,
            audit: if schema_version >= AUDIT_CHAIN_MIGRATION {
                self.verify_audit_chain().await?
            } else {
                // From before the chain: migrating the restored copy chains it.
                ChainCheck {
                    entries: 0,
                    head_seq: 0,
                    head_hash: String::new(),
                    broken: None,
                }
            },
        })
    }
}

/// Why a file cannot be restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreRefused {
    #[error("{0} does not exist")]
    Missing(String),
    #[error("{path} is not a readable SQLite database: {reason}")]
    NotSqlite { path: String, reason: String },
    #[error("{path} fails SQLite's integrity check: {problems}")]
    Damaged { path: String, problems: String },
    #[error("{0} is an SQLite database but not an openwarp one (it has no migrations table)")]
    NotOpenwarp(String),
    #[error(
        "{path} was made by a newer openwarp (schema {found}, this build knows up to {known}): upgrade openwarp first"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("{path}'s audit log chain is broken at entry {seq}: {reason}")]
    AuditBroken {
        path: String,
        seq: i64,
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Open `path` read-only and check it can be restored; its facts if so.
pub async fn inspect_sqlite_backup(path: &Path) -> Result<DatabaseFacts, RestoreRefused> {
    let shown = path.display().to_string();
    if !path.is_file() {
        return Err(RestoreRefused::Missing(shown));
    }
    let not_sqlite = |e: sqlx::Error| RestoreRefused::NotSqlite {
        path: shown.clone(),
        reason: e.to_string(),
    };
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .map_err(not_sqlite)?;
    let problems: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(&pool)
        .await
        .map_err(not_sqlite)?;
    if problems.iter().any(|(p,)| p != "ok") {
        return Err(RestoreRefused::Damaged {
            path: shown,
            problems: problems
                .into_iter()
                .map(|(p,)| p)
                .take(5)
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .map_err(not_sqlite)?;
    if tables.is_empty() {
        return Err(RestoreRefused::NotOpenwarp(shown));
    }
    let known = latest_schema_version(false);
    let (found,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success = TRUE",
    )
    .fetch_one(&pool)
    .await
    .map_err(not_sqlite)?;
    if found > known {
        return Err(RestoreRefused::TooNew {
            path: shown,
            found,
            known,
        });
    }
    let store = Store {
        db: Db::Sqlite(pool),
        alerting: false,
        sealing: None,
    };
    let facts = store.facts().await?;
    store.close().await;
    if let Some(b) = &facts.audit.broken {
        return Err(RestoreRefused::AuditBroken {
            path: shown,
            seq: b.seq,
            reason: b.reason.clone(),
        });
    }
    Ok(facts)
}

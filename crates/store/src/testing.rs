#![allow(clippy::expect_used, clippy::panic)] // test support: failing loudly is the point
//! Test support: a fresh, migrated database per test, on every backend
//! available. SQLite always (a temporary file); PostgreSQL when
//! `OPENWARP_TEST_POSTGRES_URL` names a server we may create databases on
//! (`cargo xtask ci` starts one). Under `CI=true` a missing PostgreSQL is a
//! failure, not a skip.

use crate::{Backend, Store};
use sqlx::Connection;
use std::sync::atomic::{AtomicU64, Ordering};

/// A valid member organisation to create in a test: `name`, of
/// `council_type` (`county`, `unitary`, `district_borough`…), in the
/// employers' body, renewing on 2027-04-01, with a senior officer named.
pub fn council(name: &str, council_type: &str) -> openwarp_core::OrganisationDraft {
    openwarp_core::membership::OrganisationInput {
        name: name.into(),
        council_type: council_type.into(),
        employers_member: true,
        renewal_date: "2027-04-01".into(),
        senior_officer_name: "Sam Officer".into(),
        senior_officer_email: "sam.officer@example.gov.uk".into(),
        ..openwarp_core::membership::OrganisationInput::default()
    }
    .validate()
    .expect("a valid organisation")
}

/// Environment variable naming a PostgreSQL superuser URL for tests.
pub const POSTGRES_URL_VAR: &str = "OPENWARP_TEST_POSTGRES_URL";

/// A fresh database; the temporary directory lives as long as this value.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A database that already exists (its file or server is the caller's
    /// to clean up), for tests that need [`TestDb::text_rows`] on it.
    pub fn existing(store: Store, url: &str) -> TestDb {
        TestDb {
            store,
            url: url.to_string(),
            _dir: None,
        }
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Every row `select` returns, each column read as text (cast them in
    /// the query), straight from the database: for tests that check what is
    /// stored rather than what the store's API shows (e.g. that no
    /// anonymous ballot names its voter).
    pub async fn text_rows(&self, select: &str) -> Vec<Vec<Option<String>>> {
        use sqlx::Row;
        let sql = sqlx::AssertSqlSafe(select.to_string());
        crate::on_pool!(self.store, |p| {
            sqlx::query(sql)
                .fetch_all(p)
                .await
                .expect("test query")
                .iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| r.try_get::<Option<String>, _>(i).expect("a text column"))
                        .collect()
                })
                .collect()
        })
    }
}

/// Whether we are running under CI, where every backend is mandatory.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A fresh migrated SQLite database in a temporary directory.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("openwarp-test.db").display());
    let store = Store::connect(&url).await.expect("open SQLite");
    store.migrate().await.expect("migrate SQLite");
    TestDb {
        store,
        url,
        _dir: Some(dir),
    }
}

/// The PostgreSQL server URL for tests, if one is configured. Panics under CI
/// when none is, so a broken CI setup cannot pass by skipping.
pub fn postgres_server() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if under_ci() => panic!(
            "{POSTGRES_URL_VAR} is not set but CI=true: PostgreSQL tests must run in CI (use `cargo xtask ci`)"
        ),
        _ => {
            eprintln!(
                "note: {POSTGRES_URL_VAR} not set; skipping PostgreSQL (run `cargo xtask ci` to include it)"
            );
            None
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh, empty PostgreSQL database (not migrated) on the test server, or
/// `None` when no server is configured outside CI.
pub async fn postgres_empty_url() -> Option<String> {
    let server = postgres_server()?;
    let name = format!(
        "openwarp_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_subsec_nanos()
    );
    let mut admin = sqlx::PgConnection::connect(&server)
        .await
        .expect("connect to the PostgreSQL test server");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let _ = admin.close().await;
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}

/// A fresh migrated PostgreSQL database, or `None` outside CI without a server.
pub async fn postgres() -> Option<TestDb> {
    let url = postgres_empty_url().await?;
    let store = Store::connect(&url).await.expect("open PostgreSQL");
    store.migrate().await.expect("migrate PostgreSQL");
    Some(TestDb {
        store,
        url,
        _dir: None,
    })
}

/// One fresh database per available backend, migrated only up to and
/// including `version`: for tests that a later migration works on a
/// database already holding data (they finish with [`Store::migrate`]).
pub async fn all_backends_at(version: i64) -> Vec<TestDb> {
    async fn migrate_to(store: &Store, version: i64) {
        match &store.db {
            crate::Db::Sqlite(p) => {
                sqlx::migrate!("./migrations/sqlite")
                    .run_to(version, p)
                    .await
            }
            crate::Db::Postgres(p) => {
                sqlx::migrate!("./migrations/postgres")
                    .run_to(version, p)
                    .await
            }
        }
        .expect("migrate part of the way");
    }
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("openwarp-test.db").display());
    let store = Store::connect(&url).await.expect("open SQLite");
    migrate_to(&store, version).await;
    let mut dbs = vec![TestDb {
        store,
        url,
        _dir: Some(dir),
    }];
    if let Some(url) = postgres_empty_url().await {
        let store = Store::connect(&url).await.expect("open PostgreSQL");
        migrate_to(&store, version).await;
        dbs.push(TestDb {
            store,
            url,
            _dir: None,
        });
    }
    dbs
}

/// One fresh database per available backend: SQLite, then PostgreSQL.
pub async fn all_backends() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    dbs.extend(postgres().await);
    dbs
}

//! `openwarp backup`, `restore` and `audit verify`, run as the real binary.
//!
//! The SQLite backup is taken while another process keeps writing audit
//! entries: a torn copy would break the copy's audit chain, so the chain
//! check on the backup is the proof of consistency. A restore brings back
//! exactly what was backed up, keeps the database it replaced, and refuses
//! (exit status 2, nothing changed) a file that is not a sound openwarp
//! backup. On PostgreSQL the same round trip goes through pg_dump and
//! pg_restore.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: failing loudly is the point

use chrono::Utc;
use openwarp_store::{AuditEntry, Store};
use std::path::Path;
use std::process::{Command, Output};

fn openwarp(db_url: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_openwarp"))
        .args(args)
        .current_dir(dir)
        .env("OPENWARP_DATABASE_URL", db_url)
        .env("OPENWARP_LOG_FORMAT", "json")
        .output()
        .expect("run openwarp")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn add_org(store: &Store, name: &str) {
    let draft = openwarp_store::testing::council(name, "district_borough");
    store.create_org(&draft, Utc::now()).await.expect("org");
}

async fn org_names(url: &str) -> Vec<String> {
    let store = Store::connect(url).await.expect("open");
    let mut names: Vec<String> = store
        .list_orgs()
        .await
        .expect("orgs")
        .into_iter()
        .map(|o| o.name)
        .collect();
    names.sort();
    store.close().await;
    names
}

async fn audit(store: &Store, n: usize) {
    store
        .audit(
            AuditEntry {
                actor_user_id: None,
                actor: "system",
                action: "test.write",
                org_id: None,
                target: &format!("n:{n}"),
                detail: serde_json::json!({ "n": n }),
                ip: None,
            },
            Utc::now(),
        )
        .await
        .expect("audit");
}

#[tokio::test]
async fn sqlite_backup_while_writing_then_restore_and_refusals() {
    let dir = tempfile::tempdir().expect("dir");
    let live = dir.path().join("live.db");
    let url = format!("sqlite://{}", live.display());
    let store = Store::connect(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    add_org(&store, "Ashford Borough Council").await;
    add_org(&store, "Dover District Council").await;

    for n in 0..20 {
        audit(&store, n).await;
    }
    // Another process keeps writing while the backup is taken.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 20..600 {
                audit(&store, n).await;
            }
        })
    };
    let backup = dir.path().join("b1.db");
    let out = openwarp(&url, dir.path(), &["backup", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("audit chain whole"), "{}", text(&out));
    assert!(text(&out).contains("2 organisations"), "{}", text(&out));
    writer.await.expect("writer");

    // A backup never overwrites.
    let again = openwarp(&url, dir.path(), &["backup", backup.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("already exists"));

    add_org(&store, "Added After Backup").await;
    store.close().await;

    // Refused restores change nothing.
    let junk = dir.path().join("junk.db");
    std::fs::write(
        &junk,
        b"this is not a database, just some text of some length",
    )
    .expect("junk");
    let tampered = dir.path().join("tampered.db");
    std::fs::copy(&backup, &tampered).expect("copy");
    {
        let t = Store::connect(&format!("sqlite://{}", tampered.display()))
            .await
            .expect("open copy");
        t.checkpoint().await.expect("checkpoint");
        t.close().await;
        let conn = rusqlite_free_update(&tampered).await;
        assert_eq!(conn, 1);
    }
    for (source, force, expect) in [
        (&backup, false, "pass --force"),
        (&junk, true, "not a readable SQLite database"),
        (&tampered, true, "audit log chain is broken"),
        (&dir.path().join("absent.db"), true, "does not exist"),
    ] {
        let mut args = vec!["restore", source.to_str().unwrap()];
        if force {
            args.push("--force");
        }
        let out = openwarp(&url, dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains(expect), "{expect}: {}", text(&out));
        assert!(
            org_names(&url)
                .await
                .contains(&"Added After Backup".to_string())
        );
    }

    let out = openwarp(
        &url,
        dir.path(),
        &["restore", backup.to_str().unwrap(), "--force"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        org_names(&url).await,
        ["Ashford Borough Council", "Dover District Council"]
    );
    // The database it replaced is kept, whole.
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("live.db.before-restore-")
                    && !n.ends_with("-wal")
                    && !n.ends_with("-shm")
            })
        })
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(
        org_names(&format!("sqlite://{}", kept[0].display()))
            .await
            .contains(&"Added After Backup".to_string())
    );

    // The restored log's chain is whole; editing it is caught.
    let out = openwarp(&url, dir.path(), &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("The audit chain is whole"));
    assert_eq!(rusqlite_free_update(&live).await, 1);
    let out = openwarp(&url, dir.path(), &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("broken at entry"), "{}", text(&out));
}

/// Change one audit entry behind openwarp's back (as an intruder with the
/// file would); returns the rows changed.
async fn rusqlite_free_update(path: &Path) -> u64 {
    let store = Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("open");
    let db = openwarp_store::testing::TestDb::existing(store.clone(), "");
    let rows = db
        .text_rows(
            "UPDATE audit_log SET detail = '{\"n\":-1}' WHERE seq = 3 RETURNING CAST(seq AS TEXT)",
        )
        .await;
    store.checkpoint().await.expect("checkpoint");
    store.close().await;
    rows.len() as u64
}

#[tokio::test]
async fn postgres_backup_and_restore_through_pg_dump() {
    let Some(db) = openwarp_store::testing::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    add_org(&db.store, "Canterbury City Council").await;
    audit(&db.store, 1).await;
    let dump = dir.path().join("pg.dump");
    let out = openwarp(&db.url, dir.path(), &["backup", dump.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    add_org(&db.store, "Added After Backup").await;
    let refused = openwarp(&db.url, dir.path(), &["restore", dump.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    db.store.close().await;
    let out = openwarp(
        &db.url,
        dir.path(),
        &["restore", dump.to_str().unwrap(), "--force"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("audit chain whole"), "{}", text(&out));
    assert_eq!(org_names(&db.url).await, ["Canterbury City Council"]);
}

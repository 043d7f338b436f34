//! The audit log as a hash chain on every backend: entries appended from
//! many tasks at once form one unbroken chain; changing, removing or
//! cutting entries off the end is found and named; entries written before
//! the chain existed are chained by `migrate`; filters narrow the log.

use super::t0;
use chrono::Duration;
use openwarp_core::OrgId;
use openwarp_store::testing::{TestDb, all_backends};
use openwarp_store::{AuditEntry, AuditFilter, GENESIS_HASH, entry_hash};

async fn append(db: &TestDb, n: i64, actor: &str, action: &str) {
    db.store
        .audit(
            AuditEntry {
                actor_user_id: None,
                actor,
                action,
                org_id: None,
                target: &format!("thing:{n}"),
                detail: serde_json::json!({ "n": n }),
                ip: Some("192.0.2.1"),
            },
            t0() + Duration::seconds(n) + Duration::nanoseconds(123_456_789),
        )
        .await
        .expect("audit");
}

async fn filled(n: i64) -> Vec<TestDb> {
    let dbs = all_backends().await;
    for db in &dbs {
        for i in 1..=n {
            append(db, i, "op@warp.example", "org.update").await;
        }
    }
    dbs
}

#[tokio::test]
async fn entries_from_many_tasks_form_one_unbroken_chain() {
    for db in all_backends().await {
        let store = db.store.clone();
        let mut tasks = Vec::new();
        for t in 0..8i64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..10i64 {
                    store
                        .audit(
                            AuditEntry {
                                actor_user_id: None,
                                actor: "system",
                                action: "test.append",
                                org_id: None,
                                target: &format!("task:{t}:{i}"),
                                detail: serde_json::json!({}),
                                ip: None,
                            },
                            t0() + Duration::milliseconds(t * 100 + i),
                        )
                        .await
                        .expect("audit");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let check = store.verify_audit_chain().await.expect("verify");
        assert_eq!(check.broken, None, "{:?}", db.backend());
        assert_eq!(check.entries, 80);
        assert_eq!(check.head_seq, 80);
        // The first entry follows the genesis hash and anyone can recompute it.
        let all = store.audit_log(100, None).await.expect("log");
        let first = all.last().expect("entries");
        assert_eq!(first.seq, Some(1));
        assert_eq!(first.prev_hash.as_deref(), Some(GENESIS_HASH));
        let again = entry_hash(
            GENESIS_HASH,
            1,
            first.at,
            first.actor_user_id,
            &first.actor,
            &first.action,
            first.org_id,
            &first.target,
            &first.detail,
            first.ip.as_deref(),
        );
        assert_eq!(first.hash.as_deref(), Some(again.as_str()));
    }
}

#[tokio::test]
async fn a_changed_entry_is_named() {
    for db in filled(5).await {
        assert_eq!(
            db.store.verify_audit_chain().await.expect("verify").broken,
            None
        );
        db.text_rows(
            "UPDATE audit_log SET detail = '{\"n\":30}' WHERE seq = 3 RETURNING CAST(id AS TEXT)",
        )
        .await;
        let broken = db
            .store
            .verify_audit_chain()
            .await
            .expect("verify")
            .broken
            .expect("the change is found");
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("changed"), "{}", broken.reason);
    }
}

#[tokio::test]
async fn a_removed_entry_is_named() {
    for db in filled(5).await {
        db.text_rows("DELETE FROM audit_log WHERE seq = 2 RETURNING CAST(id AS TEXT)")
            .await;
        let broken = db
            .store
            .verify_audit_chain()
            .await
            .expect("verify")
            .broken
            .expect("the gap is found");
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("missing"), "{}", broken.reason);
    }
}

#[tokio::test]
async fn entries_cut_off_the_end_are_noticed() {
    for db in filled(5).await {
        db.text_rows("DELETE FROM audit_log WHERE seq >= 4 RETURNING CAST(id AS TEXT)")
            .await;
        let broken = db
            .store
            .verify_audit_chain()
            .await
            .expect("verify")
            .broken
            .expect("the cut is found");
        assert_eq!(broken.seq, 4);
        assert!(
            broken.reason.contains("removed from the end"),
            "{}",
            broken.reason
        );
    }
}

#[tokio::test]
async fn a_rewritten_hash_breaks_the_link_to_the_next_entry() {
    for db in filled(4).await {
        // Someone edits entry 2 and recomputes its hash, but not the rest.
        let row = db
            .text_rows("SELECT prev_hash, CAST(at AS TEXT) FROM audit_log WHERE seq = 2")
            .await;
        assert_eq!(row.len(), 1);
        let log = db.store.audit_log(10, None).await.expect("log");
        let e2 = log.iter().find(|r| r.seq == Some(2)).expect("entry 2");
        let forged = entry_hash(
            e2.prev_hash.as_deref().expect("prev"),
            2,
            e2.at,
            e2.actor_user_id,
            &e2.actor,
            &e2.action,
            e2.org_id,
            "thing:forged",
            &e2.detail,
            e2.ip.as_deref(),
        );
        db.text_rows(&format!(
            "UPDATE audit_log SET target = 'thing:forged', hash = '{forged}' WHERE seq = 2 RETURNING CAST(id AS TEXT)"
        ))
        .await;
        let broken = db
            .store
            .verify_audit_chain()
            .await
            .expect("verify")
            .broken
            .expect("the forgery is found");
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("previous hash"), "{}", broken.reason);
    }
}

#[tokio::test]
async fn entries_from_before_the_chain_are_chained_by_migrate() {
    for db in all_backends().await {
        append(&db, 1, "op@warp.example", "org.update").await;
        // Entries as an older openwarp wrote them: no place in the chain.
        for i in 2..=4 {
            db.text_rows(&format!(
                "INSERT INTO audit_log (at, actor, action, target, detail) \
                 VALUES ('2026-11-2{i} 10:00:00.123456789+00:00', 'cli', 'org.create', 'org:{i}', '{{}}') \
                 RETURNING CAST(id AS TEXT)"
            ))
            .await;
        }
        let before = db.store.verify_audit_chain().await.expect("verify");
        assert!(
            before
                .broken
                .expect("unchained entries")
                .reason
                .contains("outside the chain")
        );
        db.store.migrate().await.expect("migrate again");
        let after = db.store.verify_audit_chain().await.expect("verify");
        assert_eq!(after.broken, None);
        assert_eq!(after.entries, 4);
        // Migrating once more changes nothing.
        db.store.migrate().await.expect("migrate again");
        assert_eq!(db.store.verify_audit_chain().await.expect("verify"), after);
    }
}

#[tokio::test]
async fn filters_narrow_by_action_actor_organisation_and_time() {
    for db in all_backends().await {
        append(&db, 1, "Ann@Kent.gov.uk", "incident.read").await;
        append(&db, 2, "bob@medway.gov.uk", "incident.export").await;
        append(&db, 3, "ann@kent.gov.uk", "auth.login").await;
        append(&db, 4, "100%_sure@x.gov.uk", "auth.login").await;
        db.store
            .audit(
                AuditEntry {
                    actor_user_id: None,
                    actor: "op@warp.example",
                    action: "org.update",
                    org_id: Some(OrgId(42)),
                    target: "org:42",
                    detail: serde_json::json!({}),
                    ip: None,
                },
                t0() + Duration::seconds(5),
            )
            .await
            .expect_err("organisation 42 does not exist");
        let targets = |f: AuditFilter| {
            let store = db.store.clone();
            async move {
                store
                    .audit_log_filtered(&f, 50, None)
                    .await
                    .expect("log")
                    .into_iter()
                    .map(|r| r.target)
                    .collect::<Vec<_>>()
            }
        };
        let incident = targets(AuditFilter {
            action: Some("incident.".into()),
            ..AuditFilter::default()
        })
        .await;
        assert_eq!(incident, ["thing:2", "thing:1"]);
        let ann = targets(AuditFilter {
            actor: Some("ann@kent".into()),
            ..AuditFilter::default()
        })
        .await;
        assert_eq!(ann, ["thing:3", "thing:1"]);
        // LIKE wildcards in a filter are taken literally.
        let percent = targets(AuditFilter {
            actor: Some("%_".into()),
            ..AuditFilter::default()
        })
        .await;
        assert_eq!(percent, ["thing:4"]);
        let window = targets(AuditFilter {
            from: Some(t0() + Duration::seconds(2)),
            until: Some(t0() + Duration::seconds(4)),
            ..AuditFilter::default()
        })
        .await;
        assert_eq!(window, ["thing:3", "thing:2"]);
        // The failed append left the chain whole.
        assert_eq!(
            db.store.verify_audit_chain().await.expect("verify").broken,
            None
        );
    }
}

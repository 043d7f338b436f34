//! The audit log viewer: operators only; filters; the chain check names a
//! tampered entry; the CSV export carries every entry's hashes, is safe to
//! open in a spreadsheet and is itself audited.

use crate::support::apps;
use openwarp_core::Role;
use openwarp_store::{AuditEntry, now};
use reqwest::StatusCode;

#[tokio::test]
async fn operators_filter_check_and_export_the_log_and_nobody_else_can() {
    for app in apps().await {
        let org = app.org("Kent County Council", "county", true).await;
        app.user("ops@warp.example", Role::Operator, None).await;
        app.user("lead@kent.gov.uk", Role::MemberLead, Some(org.id))
            .await;
        for (actor, action, target) in [
            ("ann@kent.gov.uk", "incident.read", "inc-1"),
            ("=cmd|' /C calc'!A0", "auth.login_failed", "+44 1234"),
            ("bob@medway.gov.uk", "incident.export", "inc-2"),
        ] {
            app.store
                .audit(
                    AuditEntry {
                        actor_user_id: None,
                        actor,
                        action,
                        org_id: None,
                        target,
                        detail: serde_json::json!({}),
                        ip: Some("192.0.2.7"),
                    },
                    now(),
                )
                .await
                .expect("audit");
        }

        let lead = app.client().signed_in("lead@kent.gov.uk").await;
        for path in ["/audit", "/audit/verify", "/audit.csv"] {
            assert_eq!(lead.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(
            app.client().get("/audit.csv").await.status,
            StatusCode::SEE_OTHER,
            "signed out: to the sign-in page"
        );

        let ops = app.client().signed_in("ops@warp.example").await;
        let page = ops.get("/audit?action=incident.").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.contains("inc-1") && page.contains("inc-2"));
        assert!(!page.contains("+44 1234"), "filtered out");
        assert!(page.contains("href=\"/audit.csv?action=incident.\""));
        let bad = ops.get("/audit?from=yesterday").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(
            bad.contains("from: &#39;yesterday&#39; is not a date"),
            "{}",
            bad.body
        );

        let whole = ops.get("/audit/verify").await;
        assert!(whole.contains("The chain is whole"), "{}", whole.body);

        let csv = ops.get("/audit.csv").await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(
            csv.headers["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("text/csv")
        );
        let text = csv.body.trim_start_matches('\u{feff}');
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().expect("header").clone();
        assert_eq!(&headers[0], "seq");
        assert_eq!(&headers[10], "hash");
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        let injected = rows
            .iter()
            .find(|r| &r[4] == "auth.login_failed")
            .expect("the entry with a formula");
        assert_eq!(
            &injected[2], "'=cmd|' /C calc'!A0",
            "no formula reaches a spreadsheet"
        );
        assert_eq!(&injected[6], "'+44 1234");
        // Oldest first, each entry's previous hash is the hash before it.
        for pair in rows.windows(2) {
            assert_eq!(pair[1][9], pair[0][10]);
        }
        let log = app.store.audit_log(10, None).await.expect("log");
        assert!(
            log.iter()
                .any(|e| e.action == "audit.export" && e.actor == "ops@warp.example")
        );
        assert!(log.iter().any(|e| e.action == "audit.verify"));

        // Someone edits an entry in the database: the check names it.
        app.db
            .text_rows(
                "UPDATE audit_log SET target = 'inc-9' WHERE target = 'inc-2' RETURNING CAST(seq AS TEXT)",
            )
            .await;
        let broken = ops.get("/audit/verify").await;
        assert!(
            broken.contains("The chain is broken at entry"),
            "{}",
            broken.body
        );
        assert!(broken.contains("it was changed"));
    }
}

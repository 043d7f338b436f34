//! Advisory pages and API over real HTTP, with records stored through the store.

use crate::support::{TestApp, apps};
use chrono::Duration;
use openwarp_advisory::{
    Affected, CvssScore, CvssVersion, OsvAffected, OsvEvent, OsvRange, OsvRangeKind, RecordState,
    Severity, SourceKind, SourceRecord,
};
use openwarp_core::Role;
use openwarp_store::{KnownRecords, now};
use reqwest::StatusCode;
use serde_json::Value;

fn record(source: SourceKind, id: &str, vuln: &str, score: f64) -> SourceRecord {
    SourceRecord {
        source,
        record_id: id.into(),
        vuln_id: vuln.into(),
        aliases: if id == vuln { vec![] } else { vec![id.into()] },
        state: RecordState::Published,
        title: None,
        description: Some(format!(
            "Remote code execution in Example Gateway via {vuln}. More."
        )),
        published: Some(now() - Duration::days(10)),
        modified: Some(now() - Duration::days(2)),
        publisher: Some("example".into()),
        cvss: vec![CvssScore {
            version: CvssVersion::V31,
            vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
            base_score: score,
            severity: Severity::from_score(score),
            stated_score: None,
            assessor: "nvd@nist.gov".into(),
            kind: Some("Primary".into()),
        }],
        cwes: vec!["CWE-78".into()],
        references: vec![],
        affected: vec![Affected::Osv(OsvAffected {
            ecosystem: "Go".into(),
            name: "example.com/gateway".into(),
            purl: None,
            ranges: vec![OsvRange {
                kind: OsvRangeKind::Semver,
                repo: None,
                events: vec![
                    OsvEvent::Introduced("0".into()),
                    OsvEvent::Fixed("1.4.2".into()),
                ],
            }],
            versions: vec![],
            cpes: vec![],
            severity: vec![],
        })],
        remediations: vec![],
        kev: None,
        tlp: None,
    }
}

async fn seed(app: &TestApp) {
    let mut known = KnownRecords::default();
    app.store
        .upsert_records(
            &[
                record(SourceKind::Nvd, "CVE-2024-1111", "CVE-2024-1111", 9.8),
                record(SourceKind::Osv, "GO-2024-0001", "CVE-2024-1111", 9.8),
                record(SourceKind::Nvd, "CVE-2024-2222", "CVE-2024-2222", 5.3),
            ],
            &mut known,
            now(),
        )
        .await
        .expect("seed advisories");
}

#[tokio::test]
async fn members_browse_filter_and_open_advisories() {
    for app in apps().await {
        seed(&app).await;
        let org = app.org("Medway Council", "unitary", true).await;
        app.user("user@medway.gov.uk", Role::MemberUser, Some(org.id))
            .await;
        let c = app.client().signed_in("user@medway.gov.uk").await;

        let list = c.get("/advisories").await;
        assert_eq!(list.status, StatusCode::OK, "{}", app.backend());
        assert!(list.contains("CVE-2024-1111") && list.contains("CVE-2024-2222"));
        assert!(list.contains("2 advisories"));
        let critical = c.get("/advisories?severity=critical").await;
        assert!(critical.contains("CVE-2024-1111") && !critical.contains("CVE-2024-2222"));
        let search = c.get("/advisories?q=gateway+2222").await;
        assert!(search.contains("1 advisories") && search.contains("CVE-2024-2222"));
        let bad = c.get("/advisories?published_from=yesterday&epss=7").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.contains("published_from") && bad.contains("epss"));

        let detail = c.get("/advisories/CVE-2024-1111").await;
        assert_eq!(detail.status, StatusCode::OK);
        assert!(detail.contains("Remote code execution in Example Gateway via CVE-2024-1111."));
        assert!(detail.contains("GO-2024-0001"), "alias shown");
        assert!(detail.contains("SEMVER: introduced 0, fixed 1.4.2"));
        assert!(detail.contains("First published by NVD"), "history shown");
        // An alias leads to the advisory.
        let alias = c.get("/advisories/GO-2024-0001").await;
        assert_eq!(alias.status, StatusCode::SEE_OTHER);
        assert_eq!(alias.location.as_deref(), Some("/advisories/CVE-2024-1111"));
        assert_eq!(
            c.get("/advisories/CVE-1999-0000").await.status,
            StatusCode::NOT_FOUND
        );
        // The dashboard lists the latest changes.
        let dash = c.get("/dashboard").await;
        assert!(
            dash.contains("Latest advisory changes") && dash.contains("First published by NVD")
        );
        // Visitors must sign in.
        assert_eq!(
            app.client().get("/advisories").await.status,
            StatusCode::SEE_OTHER
        );
    }
}

#[tokio::test]
async fn advisory_api() {
    for app in apps().await {
        seed(&app).await;
        let op = app.user("ops@warp.example", Role::Operator, None).await;
        let token = app.token(&op).await;
        let http = app.client().http;
        let get = |path: &str| http.get(app.url(path)).bearer_auth(&token).send();
        let resp = get("/api/v1/advisories?severity=high").await.expect("list");
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["total"], 1);
        assert_eq!(body["items"][0]["id"], "CVE-2024-1111");
        assert_eq!(
            body["items"][0]["sources"],
            serde_json::json!(["nvd", "osv"])
        );
        let resp = get("/api/v1/advisories?severity=extreme")
            .await
            .expect("list");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let resp = get("/api/v1/advisories/GO-2024-0001")
            .await
            .expect("detail");
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["advisory"]["id"], "CVE-2024-1111");
        assert_eq!(body["records"].as_array().map(Vec::len), Some(2));
        assert_eq!(body["records"][0]["record"]["source"], "nvd");
        let resp = http
            .get(app.url("/api/v1/advisories"))
            .send()
            .await
            .expect("anon");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
}

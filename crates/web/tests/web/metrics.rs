//! `/metrics`: OpenMetrics text with request counts and latencies by route
//! pattern, and the database's queue depths; only for the machine itself,
//! or for whoever holds the configured token.

use crate::support::{TestApp, apps};
use openwarp_store::testing::sqlite;
use reqwest::StatusCode;

#[tokio::test]
async fn loopback_scrapes_requests_by_route_and_the_outbox() {
    for app in apps().await {
        let c = app.client();
        assert_eq!(c.get("/login").await.status, StatusCode::OK);
        assert_eq!(c.get("/orgs/12345").await.status, StatusCode::SEE_OTHER);
        let m = c.get("/metrics").await;
        assert_eq!(m.status, StatusCode::OK, "{}", app.backend());
        assert!(
            m.headers["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("application/openmetrics-text")
        );
        let body = &m.body;
        assert!(
            body.contains(
                "openwarp_http_requests_total{method=\"GET\",route=\"/login\",status=\"2xx\"} 1"
            ),
            "{body}"
        );
        // The route pattern, never the id in the address.
        assert!(
            body.contains("route=\"/orgs/{id}\",status=\"3xx\"} 1"),
            "{body}"
        );
        assert!(!body.contains("12345"));
        assert!(body.contains("openwarp_http_request_duration_seconds_bucket{le="));
        assert!(
            body.contains("openwarp_deliveries{status=\"pending\"} 0"),
            "{body}"
        );
        assert!(body.contains("openwarp_match_pending 0"));
        assert!(body.contains("openwarp_audit_entries "));
        // The test apps run without a secrets key: monitoring can see it.
        assert!(body.contains("openwarp_secrets_sealed 0"), "{body}");
        // …and so can the operators.
        app.user("ops@warp.example", openwarp_core::Role::Operator, None)
            .await;
        let ops = app.client().signed_in("ops@warp.example").await;
        let page = ops.get("/operators").await;
        assert!(
            page.contains("Secrets are stored unsealed"),
            "{}",
            page.body
        );
        assert_eq!(body.matches("# EOF").count(), 1);
        assert!(body.trim_end().ends_with("# EOF"));
    }
}

#[tokio::test]
async fn with_a_token_only_its_holder_scrapes() {
    let app = TestApp::start_with(sqlite().await, |c| {
        c.metrics_token = Some("s3cret-metrics-token".into());
    })
    .await;
    let http = &app.client().http;
    let anonymous = http.get(app.url("/metrics")).send().await.expect("get");
    assert_eq!(anonymous.status(), StatusCode::NOT_FOUND);
    let wrong = http
        .get(app.url("/metrics"))
        .bearer_auth("guess")
        .send()
        .await
        .expect("get");
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    let right = http
        .get(app.url("/metrics"))
        .bearer_auth("s3cret-metrics-token")
        .send()
        .await
        .expect("get");
    assert_eq!(right.status(), StatusCode::OK);
}

#[tokio::test]
async fn behind_a_proxy_a_remote_client_is_refused() {
    let app = TestApp::start_with(sqlite().await, |c| c.trust_proxy_headers = true).await;
    let http = &app.client().http;
    let remote = http
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .expect("get");
    assert_eq!(remote.status(), StatusCode::NOT_FOUND);
    let local = http.get(app.url("/metrics")).send().await.expect("get");
    assert_eq!(local.status(), StatusCode::OK);
}

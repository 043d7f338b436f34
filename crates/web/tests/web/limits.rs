//! Abuse limits over HTTP: guessing API tokens or one-time links from one
//! address, creating API tokens and calling the API too often are refused
//! with 429 and a Retry-After; HSTS is sent behind TLS only.

use crate::support::{ANON, TestApp, apps, call, sqlite_app};
use openwarp_core::Role;
use openwarp_store::testing::sqlite;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn guessing_api_tokens_is_limited_per_address() {
    for app in apps().await {
        for i in 0..30 {
            let (status, _) =
                call(&app, Method::GET, "/api/v1/me", &format!("guess-{i}"), None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{i}");
        }
        let resp = app
            .client()
            .http
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .expect("request");
        assert_eq!(
            resp.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            app.backend()
        );
        assert_eq!(resp.headers()["retry-after"], "60");
        let body = resp.text().await.expect("body");
        assert!(
            body.contains("too many API requests without a valid token"),
            "{body}"
        );
        // A valid token still works from here: the limit is on failures.
        let u = app.user("kim@kent.gov.uk", Role::Operator, None).await;
        let token = app.token(&u).await;
        let (status, _) = call(&app, Method::GET, "/api/v1/me", &token, None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = call(&app, Method::GET, "/api/v1/me", ANON, None).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test]
async fn api_calls_are_limited_per_user() {
    let app = sqlite_app().await;
    let u = app.user("ops@warp.example", Role::Operator, None).await;
    let token = app.token(&u).await;
    let other = app.user("ops2@warp.example", Role::Operator, None).await;
    let other_token = app.token(&other).await;
    let mut refused = 0;
    for _ in 0..601 {
        let (status, _) = call(&app, Method::GET, "/api/v1/me", &token, None).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    // All 600 in one minute, unless the minute turned during the run.
    assert!((0..=1).contains(&refused), "{refused}");
    let (status, _) = call(&app, Method::GET, "/api/v1/me", &other_token, None).await;
    assert_eq!(status, StatusCode::OK, "another user is not limited");
}

#[tokio::test]
async fn new_api_tokens_and_one_time_links_are_limited() {
    for app in apps().await {
        app.user("ops@warp.example", Role::Operator, None).await;
        let c = app.client().signed_in("ops@warp.example").await;
        for i in 0..10 {
            let p = c
                .submit(
                    "/account",
                    "/account/tokens",
                    &[("token_name", &format!("t{i}"))],
                )
                .await;
            assert!(p.status.is_success(), "{i}: {} {}", p.status, p.body);
        }
        let p = c
            .submit(
                "/account",
                "/account/tokens",
                &[("token_name", "one too many")],
            )
            .await;
        assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(p.contains("too many new API tokens"));

        let visitor = app.client();
        for _ in 0..30 {
            assert_eq!(
                visitor.get("/invite/not-a-real-token").await.status,
                StatusCode::NOT_FOUND
            );
        }
        let p = visitor.get("/reset/not-a-real-token").await;
        assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test]
async fn hsts_only_behind_tls() {
    let plain = sqlite_app().await;
    let p = plain.client().get("/login").await;
    assert!(!p.headers.contains_key("strict-transport-security"));
    let tls = TestApp::start_with(sqlite().await, |c| c.secure_cookies = true).await;
    let resp = reqwest::Client::new()
        .get(tls.url("/login"))
        .send()
        .await
        .expect("get");
    assert_eq!(
        resp.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
}

#[tokio::test]
async fn guessing_taxii_credentials_is_limited_per_address() {
    let app = sqlite_app().await;
    let http = &app.client().http;
    for i in 0..30 {
        let r = http
            .get(app.url("/taxii2/"))
            .basic_auth("peer", Some(format!("guess-{i}")))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{i}");
    }
    let r = http
        .get(app.url("/taxii2/"))
        .bearer_auth("another guess")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/taxii+json")
    );
}

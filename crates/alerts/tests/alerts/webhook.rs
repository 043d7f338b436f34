//! Webhooks as a receiver on loopback sees them: signed, with the
//! idempotency key; refused (4xx) is dead, unavailable (5xx) is retried.

use crate::support::{PUBLIC_URL, config, cve_and_kev, ingest, kent, t1};
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use openwarp_alerts::deliver_due;
use openwarp_core::OrgId;
use openwarp_matching::priority::Priority;
use openwarp_store::testing;
use openwarp_store::{DeliveryFilter, NewWebhook, Store, Webhook, WebhookFormat};
use sha2::Sha256;
use std::sync::{Arc, Mutex};

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver: `/ok` takes everything, `/gone` answers 400, `/busy` 503.
async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let keep = got.clone();
    let app = Router::new()
        .route(
            "/ok",
            post(move |headers: HeaderMap, body: Bytes| {
                let keep = keep.clone();
                async move {
                    keep.lock().unwrap().push((headers, body));
                    StatusCode::NO_CONTENT
                }
            }),
        )
        .route("/gone", post(|| async { StatusCode::BAD_REQUEST }))
        .route("/busy", post(|| async { StatusCode::SERVICE_UNAVAILABLE }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, got)
}

async fn hook(s: &Store, org: OrgId, name: &str, url: String, format: WebhookFormat) -> Webhook {
    s.add_webhook(
        org,
        &NewWebhook {
            name: name.into(),
            url,
            format,
            min_priority: Priority::P1,
        },
        None,
        t1(),
    )
    .await
    .expect("webhook")
}

#[tokio::test]
async fn webhooks_are_signed_keyed_and_retried_or_refused_as_the_receiver_says() {
    let (base, got) = receiver().await;
    let db = testing::sqlite().await;
    let s = &db.store;
    let kent = kent(s, &["ann@kent.gov.uk"]).await;
    let ok = hook(
        s,
        kent.org,
        "SOC",
        format!("{base}/ok"),
        WebhookFormat::Json,
    )
    .await;
    hook(
        s,
        kent.org,
        "Old",
        format!("{base}/gone"),
        WebhookFormat::Teams,
    )
    .await;
    hook(
        s,
        kent.org,
        "Busy",
        format!("{base}/busy"),
        WebhookFormat::Slack,
    )
    .await;
    ingest(s, &cve_and_kev(), t1()).await;

    // No SMTP here: the e-mail waits unclaimed; the three webhooks are tried.
    let counts = deliver_due(s, &config(None), t1()).await.expect("deliver");
    assert_eq!(
        (
            counts.claimed,
            counts.sent,
            counts.dead,
            counts.retrying,
            counts.held
        ),
        (3, 1, 1, 1, 0),
        "{counts:?}"
    );
    let alert = &s.alerts_for_org(kent.org, 10).await.expect("alerts")[0];
    let received = got.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (headers, body) = &received[0];
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(
        header("idempotency-key"),
        format!("alert:{}:webhook:hook:{}", alert.id, ok.id)
    );
    let timestamp = header("x-openwarp-timestamp");
    assert_eq!(timestamp, t1().timestamp().to_string());
    // Checked as a receiver would, from the shared secret alone.
    let mut mac = Hmac::<Sha256>::new_from_slice(ok.secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(header("x-openwarp-signature"), expected);

    let v: serde_json::Value = serde_json::from_slice(body).expect("JSON body");
    assert_eq!(v["id"], alert.id);
    assert_eq!(v["priority"], "P1");
    assert_eq!(v["tlp"], "TLP:CLEAR");
    assert_eq!(v["kind"], "new");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .starts_with("P1 because it is being exploited"),
        "{v}"
    );
    assert_eq!(
        v["links"]["exposure"],
        format!("{PUBLIC_URL}{}", alert.content.path)
    );

    let rows = s
        .deliveries(&DeliveryFilter::default())
        .await
        .expect("rows");
    let by = |name: &str| rows.iter().find(|d| d.recipient == name).unwrap();
    assert_eq!(by("SOC").status, "sent");
    assert_eq!(
        by("Old").status,
        "dead",
        "400: the receiver will never take it"
    );
    assert!(
        by("Old")
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("400")
    );
    assert_eq!(by("Busy").status, "pending", "503: try again later");
    assert_eq!(by("Busy").attempts, 1);
    assert_eq!(by("ann@kent.gov.uk").status, "pending");
    assert!(
        !by("Busy")
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains(&base),
        "webhook URLs (which often hold tokens) are not stored in errors"
    );
}

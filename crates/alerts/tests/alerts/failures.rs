//! When sending fails: retried with backoff while the mail server is down,
//! delivered exactly once when it is back; dead-lettered at once when the
//! server refuses for good.

use crate::support::{config, cve_and_kev, ingest, kent, ms, parse, t1};
use openwarp_alerts::deliver_due;
use openwarp_alerts::testing::{SmtpServer, free_port};
use openwarp_store::testing;
use openwarp_store::{DeliveryFilter, DeliveryStatus};
use std::collections::BTreeSet;
use std::time::Duration as StdDuration;

#[tokio::test]
async fn smtp_down_is_retried_with_backoff_then_delivered_once() {
    let port = free_port();
    // Prepared but not started: connections to the port are refused.
    let Some(mut smtp) = SmtpServer::stopped(port) else {
        return;
    };
    let db = testing::sqlite().await;
    let s = &db.store;
    kent(
        s,
        &["ann@kent.gov.uk", "bob@kent.gov.uk", "cat@kent.gov.uk"],
    )
    .await;
    ingest(s, &cve_and_kev(), t1()).await;
    let cfg = config(Some(port));

    let first = deliver_due(s, &cfg, t1()).await.expect("deliver");
    assert_eq!(
        (first.claimed, first.retrying, first.sent),
        (3, 3, 0),
        "{first:?}"
    );
    let rows = s
        .deliveries(&DeliveryFilter::default())
        .await
        .expect("rows");
    for d in &rows {
        assert_eq!((d.status.as_str(), d.attempts), ("pending", 1), "{d:?}");
        assert_eq!(
            d.next_attempt_at,
            t1() + ms(200),
            "first retry after the base delay"
        );
        assert!(
            d.last_error
                .as_deref()
                .is_some_and(|e| e.contains("will retry")),
            "{d:?}"
        );
    }
    // Not before it is due…
    let early = deliver_due(s, &cfg, t1() + ms(100)).await.expect("deliver");
    assert_eq!(early.claimed, 0);
    // …then again, still down: the next wait doubles.
    let second = deliver_due(s, &cfg, t1() + ms(250)).await.expect("deliver");
    assert_eq!(second.retrying, 3, "{second:?}");
    for d in s
        .deliveries(&DeliveryFilter::default())
        .await
        .expect("rows")
    {
        assert_eq!(d.attempts, 2);
        assert_eq!(d.next_attempt_at, t1() + ms(250) + ms(400));
    }
    assert!(
        deliver_due(s, &cfg, t1() + ms(600))
            .await
            .expect("deliver")
            .claimed
            == 0
    );

    // The server is back.
    smtp.restart();
    let third = deliver_due(s, &cfg, t1() + ms(700)).await.expect("deliver");
    assert_eq!(third.sent, 3, "{third:?}");
    let after = deliver_due(s, &cfg, t1() + ms(60_000))
        .await
        .expect("deliver");
    assert_eq!(after.claimed, 0, "nothing left to send");
    let raw = smtp.wait_for(3, StdDuration::from_secs(10)).await;
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 3, "exactly once each");
    let ids: BTreeSet<String> = raw.iter().map(|r| parse(r).message_id).collect();
    assert_eq!(ids.len(), 3);
    let c = s.delivery_counts().await.expect("counts");
    assert_eq!((c.pending, c.sent, c.dead), (0, 3, 0));
}

#[tokio::test]
async fn a_refused_recipient_is_dead_lettered_at_once_and_the_others_delivered() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let db = testing::sqlite().await;
    let s = &db.store;
    // The test server answers 550 for addresses starting with "bounce".
    kent(s, &["ann@kent.gov.uk", "bounce@kent.gov.uk"]).await;
    ingest(s, &cve_and_kev(), t1()).await;

    let counts = deliver_due(s, &config(Some(smtp.port())), t1())
        .await
        .expect("deliver");
    assert_eq!(
        (counts.sent, counts.dead, counts.retrying),
        (1, 1, 0),
        "{counts:?}"
    );
    let dead = s
        .deliveries(&DeliveryFilter {
            status: Some(DeliveryStatus::Dead),
            ..DeliveryFilter::default()
        })
        .await
        .expect("dead");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].recipient, "bounce@kent.gov.uk");
    assert_eq!(dead[0].attempts, 1, "no retries for a permanent refusal");
    let error = dead[0].last_error.as_deref().unwrap_or_default();
    assert!(
        error.contains("550"),
        "the server's answer is kept: {error}"
    );
    let raw = smtp.wait_for(1, StdDuration::from_secs(10)).await;
    assert_eq!(raw.len(), 1);
    assert_eq!(parse(&raw[0]).to, "ann@kent.gov.uk");
}

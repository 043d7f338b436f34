//! Several workers on one database share the outbox without sending
//! anything twice: on PostgreSQL through `FOR UPDATE SKIP LOCKED`, on SQLite
//! through its single writer.

use crate::support::{config, cve_and_kev, ingest, kent, parse, t1};
use openwarp_alerts::testing::SmtpServer;
use openwarp_alerts::{AlertsConfig, BatchCounts, Deliverer};
use openwarp_store::Store;
use openwarp_store::testing::all_backends;
use std::collections::BTreeSet;
use std::time::Duration as StdDuration;

/// Deliver until the worker finds nothing due; what it sent.
async fn drain(store: Store, cfg: AlertsConfig) -> usize {
    let worker = Deliverer::new(store, cfg).expect("worker");
    let mut sent = 0;
    loop {
        let BatchCounts {
            claimed, sent: s, ..
        } = worker.deliver_due(t1()).await.expect("deliver");
        sent += s;
        if claimed == 0 {
            return sent;
        }
    }
}

#[tokio::test]
async fn two_workers_on_one_database_send_each_message_once() {
    for db in all_backends().await {
        let Some(smtp) = SmtpServer::start() else {
            return;
        };
        let name = db.backend().name();
        let emails: Vec<String> = (0..30).map(|i| format!("user{i}@kent.gov.uk")).collect();
        let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
        kent(&db.store, &emails).await;
        ingest(&db.store, &cve_and_kev(), t1()).await;

        // A second connection pool, as a second `serve` instance would have.
        let other = Store::connect(&db.url).await.expect("second instance");
        let mut a = config(Some(smtp.port()));
        a.batch_size = 4;
        a.worker_id = "instance-a".into();
        let mut b = a.clone();
        b.worker_id = "instance-b".into();
        let (sent_a, sent_b) = tokio::join!(drain(db.store.clone(), a), drain(other, b));
        eprintln!("{name}: instance a sent {sent_a}, instance b {sent_b}");
        assert_eq!(sent_a + sent_b, 30, "{name}: a {sent_a}, b {sent_b}");

        smtp.wait_for(30, StdDuration::from_secs(20)).await;
        tokio::time::sleep(StdDuration::from_millis(300)).await;
        let raw = smtp.messages();
        assert_eq!(raw.len(), 30, "{name}: {} arrived", raw.len());
        let ids: BTreeSet<String> = raw.iter().map(|r| parse(r).message_id).collect();
        assert_eq!(ids.len(), 30, "{name}: no Message-ID twice");
        let c = db.store.delivery_counts().await.expect("counts");
        assert_eq!((c.pending, c.sent, c.dead), (0, 30, 0), "{name}");
    }
}

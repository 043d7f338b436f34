//! `openwarp serve` killed in the middle of sending alerts, then started
//! again: every alert still arrives, and nothing arrives twice except — at
//! most — the one message that was in flight at the kill.
//!
//! Delivery is at-least-once by design: a message is marked sent in the
//! database only after the mail server accepted it, so a process killed
//! between the two sends that message again after a restart. The re-send
//! carries the same Message-ID (derived from the delivery's idempotency
//! key), so the receiving side can recognise and drop it. With one send in
//! flight at a time (`concurrency = 1`) there is at most one such message.
//!
//! This runs the real binary (SIGKILL is the point), so it lives with the
//! binary, where Cargo builds it for the test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: failing loudly is the point

use chrono::{TimeZone, Utc};
use openwarp_advisory::{Parsed, SourceRecord};
use openwarp_alerts::testing::SmtpServer;
use openwarp_core::{Email, Role};
use openwarp_matching::inventory::ItemFields;
use openwarp_store::{KnownRecords, NewUser, Store};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const USERS: usize = 300;
/// The shortest lease `[alerts]` accepts, so the restart waits little.
const LEASE_SECONDS: u64 = 5;

const LOG4SHELL: &[u8] = include_bytes!(
    "../../advisory/tests/fixtures/cve5/cve5_log4shell_changes_and_cisa_adp_cvss.json"
);
const KEV: &[u8] = include_bytes!("../../store/tests/fixtures/kev_log4shell_entry.json");

fn records() -> Vec<SourceRecord> {
    let mut out = Vec::new();
    for bytes in [LOG4SHELL, KEV] {
        openwarp_advisory::parse::parse_any(bytes, &mut |p| {
            if let Parsed::Record(r) = p
                && r.vuln_id == "CVE-2021-44228"
            {
                out.push(*r);
            }
        })
        .expect("fixture parses");
    }
    out
}

/// A council with `USERS` named users and an internet-facing Log4j; the
/// Log4Shell CVE and KEV records make a P1 alert, queued for every user.
async fn queue_alerts(url: &str) {
    let store = Store::connect(url).await.expect("open");
    store.migrate().await.expect("migrate");
    let t = Utc
        .with_ymd_and_hms(2026, 11, 23, 9, 30, 0)
        .single()
        .unwrap();
    let draft = openwarp_store::testing::council("Kent County Council", "county");
    let org = store.create_org(&draft, t).await.expect("org").id;
    for i in 0..USERS {
        store
            .create_user(
                &NewUser {
                    email: Email::parse(&format!("user{i}@kent.gov.uk")).expect("email"),
                    display_name: format!("User {i}"),
                    role: if i == 0 {
                        Role::MemberLead
                    } else {
                        Role::MemberUser
                    },
                    org_id: Some(org),
                    password_hash: "$argon2id$placeholder".into(),
                },
                t,
            )
            .await
            .expect("user");
    }
    let item = ItemFields {
        name: "Payroll server".into(),
        vendor: Some("Apache Software Foundation".into()),
        product: Some("Apache Log4j2".into()),
        version: Some("2.14.1".into()),
        internet_facing: true,
        ..ItemFields::default()
    }
    .validate()
    .expect("item");
    store
        .add_items(org, &[item], "manual", None, t)
        .await
        .expect("add");
    store
        .upsert_records(&records(), &mut KnownRecords::default(), t)
        .await
        .expect("ingest");
    let c = store.delivery_counts().await.expect("counts");
    assert_eq!(c.pending as usize, USERS, "one delivery queued per user");
    store.close().await;
}

fn serve(dir: &std::path::Path, db_url: &str, smtp_port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_openwarp"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .env("OPENWARP_DATABASE_URL", db_url)
        .env("OPENWARP_PUBLIC_URL", "https://warp.example.gov.uk")
        .env("OPENWARP_WARP__NAME", "SEGWARP")
        .env("OPENWARP_ALERTS__SMTP__HOST", "127.0.0.1")
        .env("OPENWARP_ALERTS__SMTP__PORT", smtp_port.to_string())
        .env("OPENWARP_ALERTS__SMTP__SECURITY", "none")
        .env(
            "OPENWARP_ALERTS__SMTP__FROM_ADDRESS",
            "alerts@warp.example.gov.uk",
        )
        .env("OPENWARP_ALERTS__CONCURRENCY", "1")
        .env("OPENWARP_ALERTS__BATCH_SIZE", "10")
        .env("OPENWARP_ALERTS__POLL_MILLISECONDS", "50")
        .env("OPENWARP_ALERTS__LEASE_SECONDS", LEASE_SECONDS.to_string())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start openwarp serve")
}

/// Message-ID → how many times it arrived.
fn arrivals(smtp: &SmtpServer) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for raw in smtp.messages() {
        let id = mail_parser::MessageParser::default()
            .parse(&raw)
            .and_then(|m| m.message_id().map(str::to_string))
            .expect("a message with a Message-ID");
        *seen.entry(id).or_insert(0) += 1;
    }
    seen
}

#[tokio::test]
async fn killed_mid_delivery_and_restarted_nothing_is_lost_or_duplicated() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let db_url = format!("sqlite://{}", dir.path().join("warp.db").display());
    queue_alerts(&db_url).await;

    // First run: killed (SIGKILL, no chance to clean up) once some, but
    // not all, alerts have gone.
    let mut first = serve(dir.path(), &db_url, smtp.port());
    let deadline = Instant::now() + Duration::from_secs(60);
    while smtp.messages().len() < 20 {
        if let Some(status) = first.try_wait().expect("wait") {
            panic!("openwarp serve exited early ({status}); see its output above");
        }
        assert!(
            Instant::now() < deadline,
            "no alerts sent within 60 s (server log in {})",
            smtp.path().display()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().expect("SIGKILL");
    first.wait().expect("reap");
    let at_kill = smtp.messages().len();
    assert!(
        at_kill < USERS,
        "all {USERS} went before the kill; the test needs more users"
    );

    // Second run: the deliveries the dead process had claimed wait for
    // its lease to expire, then go; everything else goes at once.
    let mut second = serve(dir.path(), &db_url, smtp.port());
    let deadline = Instant::now() + Duration::from_secs(60 + LEASE_SECONDS);
    while arrivals(&smtp).len() < USERS && Instant::now() < deadline {
        if let Some(status) = second.try_wait().expect("wait") {
            panic!("openwarp serve exited early ({status}); see its output above");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Anything late (a duplicate) would arrive now.
    tokio::time::sleep(Duration::from_millis(LEASE_SECONDS * 1000 + 500)).await;

    // Graceful stop: SIGTERM, the in-hand batch finishes, exit 0.
    let pid = second.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let stop_deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = second.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > stop_deadline {
            let _ = second.kill();
            panic!("openwarp serve did not stop within 20 s of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "stopped cleanly: {status}");

    let seen = arrivals(&smtp);
    assert_eq!(
        seen.len(),
        USERS,
        "every user's alert arrived ({at_kill} before the kill)"
    );
    let duplicates: Vec<(&String, &usize)> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        duplicates.len() <= 1 && duplicates.iter().all(|(_, n)| **n == 2),
        "at most the one message in flight at the kill arrives twice: {duplicates:?}"
    );
    let store = Store::connect(&db_url).await.expect("open");
    let c = store.delivery_counts().await.expect("counts");
    assert_eq!((c.pending, c.sent, c.dead), (0, USERS as i64, 0));
    eprintln!(
        "{at_kill} arrived before the kill; {} duplicate(s) after the restart",
        duplicates.len()
    );
}

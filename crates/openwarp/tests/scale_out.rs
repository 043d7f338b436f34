//! Two `openwarp serve` processes on one PostgreSQL database, sharing no
//! memory: the background jobs each runs are done once between them, not
//! once per instance.
//!
//! Both start at the same moment, so each races the other for every job:
//!
//! - **the feed**: a live KEV feed (`[[feeds]]`) that has never been
//!   polled is due on both at once; a small HTTP server here serves the real
//!   Log4Shell KEV entry, slowly, and counts requests. The feed lease in
//!   `feed_state` lets one instance fetch; the other finds the lease held
//!   and, after it, the feed no longer due. One request, not two.
//! - **alerts**: the fetched KEV entry makes the council's Log4j exposure a
//!   P1 follow-up, raised once with one delivery per user.
//! - **the digest**: both alert workers queue the last closed daily digest
//!   window on start; each user's digest is queued once (its idempotency
//!   key), whichever instance got there.
//! - **delivery**: both workers claim deliveries in small batches
//!   (`FOR UPDATE SKIP LOCKED` leases); each e-mail reaches the SMTP server
//!   once. Each instance signs its mail with its own sender name, so the
//!   output shows how the work was shared.
//!
//! Needs a PostgreSQL server (`OPENWARP_TEST_POSTGRES_URL`) and aiosmtpd;
//! skipped without them, except under `CI=true`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: failing loudly is the point

use openwarp_advisory::{Parsed, SourceRecord};
use openwarp_alerts::testing::SmtpServer;
use openwarp_core::{Email, Role, TlpLabel};
use openwarp_matching::alert::{DigestFrequency, digest_period};
use openwarp_matching::inventory::ItemFields;
use openwarp_matching::priority::Priority;
use openwarp_store::{AlertContent, AlertKind, KnownRecords, NewAlert, NewUser, Store};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const USERS: usize = 30;

const LOG4SHELL: &[u8] = include_bytes!(
    "../../advisory/tests/fixtures/cve5/cve5_log4shell_changes_and_cisa_adp_cvss.json"
);
const KEV: &[u8] = include_bytes!("../../store/tests/fixtures/kev_log4shell_entry.json");

/// A council with `USERS` named users and an internet-facing Log4j, exposed
/// (as a baseline, no alert) to Log4Shell from its CVE 5 record, and one P3
/// alert raised in the last closed daily digest window.
async fn set_up(url: &str) {
    let store = Store::connect(url).await.expect("open");
    store.migrate().await.expect("migrate");
    let now = openwarp_store::now();
    let draft = openwarp_store::testing::council("Kent County Council", "county");
    let org = store.create_org(&draft, now).await.expect("org").id;
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
                now,
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
        .add_items(org, &[item], "manual", None, now)
        .await
        .expect("add");
    let mut cve = Vec::<SourceRecord>::new();
    openwarp_advisory::parse::parse_any(LOG4SHELL, &mut |p| {
        if let Parsed::Record(r) = p {
            cve.push(*r);
        }
    })
    .expect("fixture parses");
    store
        .without_alerts()
        .upsert_records(&cve, &mut KnownRecords::default(), now)
        .await
        .expect("baseline");
    let window = digest_period(DigestFrequency::Daily, now).expect("daily window");
    let alert = NewAlert {
        org_id: org.0,
        kind: AlertKind::New,
        vuln_id: Some("CVE-2026-10001".into()),
        warp_advisory_id: None,
        priority: Priority::P3,
        tlp: TlpLabel::Clear,
        title: "CVE-2026-10001: a medium-severity flaw".into(),
        content: AlertContent {
            summary: "A medium-severity flaw affects your Payroll server.".into(),
            reason: "P3 because it is medium severity".into(),
            changes: Vec::new(),
            items: Vec::new(),
            action: Some("Update in the normal patch cycle.".into()),
            due: None,
            sources: Vec::new(),
            path: "/exposure".into(),
        },
        dedup_key: "scale-out:digest".into(),
    };
    store
        .raise_alerts(&[alert], window.end - chrono::Duration::hours(1))
        .await
        .expect("a P3 alert in the closed window");
    let c = store.delivery_counts().await.expect("counts");
    assert_eq!(c.pending, 0, "nothing queued before the instances start");
    store.close().await;
}

/// A feed server: answers every request with the KEV entry after `delay`,
/// and counts the requests.
async fn feed_server(delay: Duration) -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let counted = Arc::clone(&counted);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    KEV.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(KEV).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (port, hits)
}

fn serve(dir: &std::path::Path, db_url: &str, smtp_port: u16, name: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_openwarp"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(dir.join("openwarp.toml"))
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
        .env("OPENWARP_ALERTS__SMTP__FROM_NAME", name)
        .env("OPENWARP_ALERTS__CONCURRENCY", "2")
        .env("OPENWARP_ALERTS__BATCH_SIZE", "4")
        .env("OPENWARP_ALERTS__POLL_MILLISECONDS", "50")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start openwarp serve")
}

/// Stops the children however the test ends.
struct Instances(Vec<Child>);

impl Drop for Instances {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Per message: its Message-ID, its subject and the sender name it came with.
fn received(smtp: &SmtpServer) -> Vec<(String, String, String)> {
    smtp.messages()
        .iter()
        .map(|raw| {
            let m = mail_parser::MessageParser::default()
                .parse(raw)
                .expect("a message");
            let from = m
                .from()
                .and_then(|a| a.first())
                .and_then(|a| a.name())
                .unwrap_or_default()
                .to_string();
            (
                m.message_id().expect("a Message-ID").to_string(),
                m.subject().unwrap_or_default().to_string(),
                from,
            )
        })
        .collect()
}

#[tokio::test]
async fn two_instances_on_one_postgres_run_each_background_job_once() {
    let Some(db_url) = openwarp_store::testing::postgres_empty_url().await else {
        return;
    };
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    set_up(&db_url).await;
    let (feed_port, fetches) = feed_server(Duration::from_millis(1500)).await;
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(
        dir.path().join("openwarp.toml"),
        format!(
            "[[feeds]]\nname = \"cisa-kev\"\nkind = \"file\"\n\
             url = \"http://127.0.0.1:{feed_port}/known_exploited_vulnerabilities.json\"\n\
             interval = \"1h\"\n"
        ),
    )
    .expect("write the configuration");

    let mut instances = Instances(vec![
        serve(dir.path(), &db_url, smtp.port(), "instance A"),
        serve(dir.path(), &db_url, smtp.port(), "instance B"),
    ]);

    // Every user gets the P1 follow-up and the digest: 2 × USERS messages.
    let expected = 2 * USERS;
    let deadline = Instant::now() + Duration::from_secs(45);
    while received(&smtp).len() < expected {
        for child in &mut instances.0 {
            if let Some(status) = child.try_wait().expect("wait") {
                panic!("openwarp serve exited early ({status}); see its output above");
            }
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {expected} messages within 45 s; feed fetched {} time(s)",
            received(&smtp).len(),
            fetches.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Long enough for a second fetch, digest or send to show up if either
    // instance were going to make one (a batch's lease is not involved:
    // nothing fails here).
    tokio::time::sleep(Duration::from_secs(3)).await;

    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "the feed was fetched once between the two instances"
    );
    let messages = received(&smtp);
    let mut per_id: HashMap<&str, usize> = HashMap::new();
    for (id, _, _) in &messages {
        *per_id.entry(id.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = per_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "messages delivered twice: {twice:?}");
    assert_eq!(
        messages.len(),
        expected,
        "one P1 alert and one digest per user"
    );
    let digests = messages
        .iter()
        .filter(|(_, subject, _)| subject.to_lowercase().contains("digest"))
        .count();
    assert_eq!(digests, USERS, "one digest per user");

    let store = Store::connect(&db_url).await.expect("open");
    let c = store.delivery_counts().await.expect("counts");
    assert_eq!((c.pending, c.sent, c.dead), (0, expected as i64, 0));
    let mut by_instance: HashMap<&str, usize> = HashMap::new();
    for (_, _, from) in &messages {
        *by_instance.entry(from.as_str()).or_default() += 1;
    }
    eprintln!("feed fetched once; messages sent per instance: {by_instance:?}");
    store.close().await;
}

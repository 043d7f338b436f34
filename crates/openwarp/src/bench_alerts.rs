//! `openwarp bench-alerts`: how fast alerts fan out.
//!
//! Builds a WARP of `--orgs` councils with `--users` named users between
//! them, each council running the same vulnerable Log4j (a real CVE 5
//! record, loaded as the baseline). Then, timed:
//!
//! 1. **ingest to queued**: CISA's real KEV entry for Log4Shell arrives as an
//!    incremental feed update; one `upsert_records` stores it, re-matches,
//!    raises one P1 follow-up per council and queues one e-mail per user —
//!    all in the ingest's own transactions, so when it returns every
//!    delivery is durable;
//! 2. **queued to delivered** (with `--smtp PORT`, a real SMTP server on
//!    127.0.0.1 that accepts anything, e.g. `python -m aiosmtpd -n -l
//!    127.0.0.1:2525 -c aiosmtpd.handlers.Sink`): the delivery worker renders
//!    every message and hands it to SMTP, as `serve` does;
//! 3. **digests**: five lower-priority alerts per council, then the daily
//!    digests for every user are generated and queued.

use crate::cli::BenchAlertsArgs;
use anyhow::Context;
use chrono::{Duration as Span, TimeZone, Utc};
use openwarp_advisory::{Parsed, SourceRecord};
use openwarp_core::{Email, Role, TlpLabel};
use openwarp_matching::inventory::ItemFields;
use openwarp_matching::priority::Priority;
use openwarp_store::{AlertContent, AlertKind, KnownRecords, NewAlert, NewUser};
use std::time::Instant;

const LOG4SHELL: &[u8] = include_bytes!(
    "../../advisory/tests/fixtures/cve5/cve5_log4shell_changes_and_cisa_adp_cvss.json"
);
/// The Log4Shell entry of the 2025-08-25 KEV catalogue, in its envelope.
const KEV_LOG4SHELL: &[u8] = include_bytes!("../../store/tests/fixtures/kev_log4shell_entry.json");

fn records(bytes: &[u8]) -> anyhow::Result<Vec<SourceRecord>> {
    let mut out = Vec::new();
    openwarp_advisory::parse::parse_any(bytes, &mut |p| {
        if let Parsed::Record(r) = p {
            out.push(*r);
        }
    })
    .map_err(|e| anyhow::anyhow!("compiled-in fixture: {e}"))?;
    Ok(out)
}

pub async fn run(args: &BenchAlertsArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("openwarp-bench-alerts-{}", std::process::id()));
    let url = match &args.database {
        Some(u) => u.clone(),
        None => {
            std::fs::create_dir_all(&dir).context("creating a temporary folder")?;
            format!("sqlite://{}", dir.join("bench.db").display())
        }
    };
    let result = bench(args, &url).await;
    if args.database.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn bench(args: &BenchAlertsArgs, url: &str) -> anyhow::Result<()> {
    let store = crate::serve::open_store(url).await?;
    if !store.list_orgs().await?.is_empty() {
        anyhow::bail!("--database: {url} is not empty; give a new, empty database");
    }
    let orgs = args.orgs.max(1) as usize;
    let users = args.users.max(1) as usize;
    println!(
        "bench-alerts on {}: {orgs} councils, {users} named users",
        store.backend().name()
    );

    // The WARP: councils, users spread evenly, one vulnerable Log4j each.
    let started = Instant::now();
    let item = ItemFields {
        name: "Payroll server".into(),
        vendor: Some("Apache Software Foundation".into()),
        product: Some("Apache Log4j2".into()),
        version: Some("2.14.1".into()),
        internet_facing: true,
        owner: Some("ICT Ops".into()),
        ..ItemFields::default()
    }
    .validate()
    .map_err(|e| anyhow::anyhow!("bench item: {e:?}"))?;
    let t0 = openwarp_store::now();
    let mut org_ids = Vec::with_capacity(orgs);
    for o in 0..orgs {
        let draft = openwarp_core::membership::OrganisationInput {
            name: format!("Bench Council {o:04}"),
            council_type: "district_borough".into(),
            employers_member: true,
            renewal_date: "2027-04-01".into(),
            senior_officer_name: "Bench Officer".into(),
            senior_officer_email: format!("officer{o}@bench.example"),
            ..Default::default()
        }
        .validate()
        .map_err(|e| anyhow::anyhow!("bench organisation: {e:?}"))?;
        let org = store.create_org(&draft, t0).await?;
        store
            .add_items(org.id, std::slice::from_ref(&item), "bench", None, t0)
            .await?;
        org_ids.push(org.id);
    }
    for u in 0..users {
        let org = org_ids[u % orgs];
        store
            .create_user(
                &NewUser {
                    email: Email::parse(&format!("user{u}@council{}.bench.example", org.0))
                        .map_err(|e| anyhow::anyhow!("bench e-mail: {e}"))?,
                    display_name: format!("Bench User {u}"),
                    role: if u < orgs {
                        Role::MemberLead
                    } else {
                        Role::MemberUser
                    },
                    org_id: Some(org),
                    // Nobody signs in: no password hash is computed.
                    password_hash: "$argon2id$bench-no-sign-in".into(),
                },
                t0,
            )
            .await?;
    }
    let mut known = KnownRecords::default();
    store
        .without_alerts()
        .upsert_records(&records(LOG4SHELL)?, &mut known, t0)
        .await?;
    println!(
        "setup: {orgs} councils, {users} users, baseline exposures in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // 1. The KEV update arrives: ingest → match → alerts → deliveries queued.
    let kev: Vec<SourceRecord> = records(KEV_LOG4SHELL)?
        .into_iter()
        .filter(|r| r.vuln_id == "CVE-2021-44228")
        .collect();
    let t1 = openwarp_store::now();
    let started = Instant::now();
    store.upsert_records(&kev, &mut known, t1).await?;
    let queued_in = started.elapsed();
    let counts = store.delivery_counts().await?;
    println!(
        "fan-out: KEV update ingested, {orgs} P1 alerts raised and {} e-mails queued in {:.0} ms \
         (ingest to queued, one incremental feed update)",
        counts.pending,
        queued_in.as_secs_f64() * 1000.0
    );
    if counts.pending < users as i64 {
        anyhow::bail!(
            "expected {users} deliveries queued, found {}: the bench setup is wrong",
            counts.pending
        );
    }

    // 2. Delivered through a real SMTP server on loopback.
    if let Some(port) = args.smtp {
        let mut cfg = openwarp_alerts::AlertsConfig::new("http://127.0.0.1:8080", "Bench WARP");
        cfg.smtp = Some(openwarp_alerts::SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            security: openwarp_alerts::SmtpSecurity::None,
            username: None,
            password: None,
            from_address: "alerts@bench.example".into(),
            from_name: Some("Bench WARP alerts".into()),
            timeout_seconds: 30,
        });
        cfg.batch_size = 200;
        cfg.concurrency = args.concurrency as usize;
        let deliverer = openwarp_alerts::Deliverer::new(store.clone(), cfg)?;
        let started = Instant::now();
        let mut sent = 0;
        loop {
            let c = deliverer.deliver_due(openwarp_store::now()).await?;
            sent += c.sent;
            if c.claimed == 0 {
                break;
            }
            if c.dead > 0 || c.retrying > 0 {
                anyhow::bail!("SMTP on port {port} refused messages: {c:?}");
            }
        }
        let took = started.elapsed().as_secs_f64();
        println!(
            "delivery: {sent} e-mails rendered and accepted by SMTP on 127.0.0.1:{port} in {took:.1} s \
             ({:.0} per second); queued to all delivered {:.1} s after the ingest began",
            sent as f64 / took.max(1e-9),
            took + queued_in.as_secs_f64()
        );
    } else {
        println!("delivery: not measured (give --smtp PORT of an SMTP server on 127.0.0.1)");
    }

    // 3. Digests: five P3/P4 alerts per council in yesterday's window.
    let window_start = Utc.from_utc_datetime(
        &(t1.date_naive())
            .and_hms_opt(openwarp_matching::alert::DIGEST_HOUR_UTC, 0, 0)
            .unwrap_or_default(),
    );
    let raised_at = window_start + Span::hours(1);
    let mut alerts = Vec::with_capacity(orgs * 5);
    for org in &org_ids {
        for n in 0..5 {
            alerts.push(NewAlert {
                org_id: org.0,
                kind: AlertKind::New,
                vuln_id: Some(format!("CVE-2026-{:05}", 10_000 + n)),
                warp_advisory_id: None,
                priority: if n % 2 == 0 {
                    Priority::P3
                } else {
                    Priority::P4
                },
                tlp: TlpLabel::Clear,
                title: format!("CVE-2026-{:05}: a medium-severity flaw", 10_000 + n),
                content: AlertContent {
                    summary: "A medium-severity flaw affects your Payroll server 2.14.1.".into(),
                    reason: "P3 because it is high severity".into(),
                    changes: Vec::new(),
                    items: Vec::new(),
                    action: Some("Update in the normal patch cycle.".into()),
                    due: None,
                    sources: Vec::new(),
                    path: "/exposure".into(),
                },
                dedup_key: format!("bench:{}:{n}", org.0),
            });
        }
    }
    store.raise_alerts(&alerts, raised_at).await?;
    let due = window_start + Span::days(1);
    let started = Instant::now();
    let digests = store.queue_digests(due).await?;
    println!(
        "digests: {digests} daily digests for {orgs} councils generated and queued in {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    store.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_records_are_log4shell() {
        let cve = records(LOG4SHELL).expect("cve5");
        assert_eq!(cve[0].vuln_id, "CVE-2021-44228");
        let kev = records(KEV_LOG4SHELL).expect("kev");
        assert!(
            kev.iter()
                .any(|r| r.vuln_id == "CVE-2021-44228" && r.kev.is_some())
        );
    }

    #[tokio::test]
    async fn a_small_run_queues_one_delivery_per_user_and_one_digest_each() {
        let dir = tempfile::tempdir().expect("tmp");
        let url = format!("sqlite://{}", dir.path().join("b.db").display());
        let args = BenchAlertsArgs {
            orgs: 3,
            users: 7,
            database: Some(url.clone()),
            smtp: None,
            concurrency: 4,
        };
        bench(&args, &url).await.expect("bench");
        let store = crate::serve::open_store(&url).await.expect("open");
        let c = store.delivery_counts().await.expect("counts");
        // 7 immediate P1 e-mails, then 7 digests (each user's council had alerts).
        assert_eq!(c.pending, 14);
    }

    #[tokio::test]
    async fn with_smtp_every_queued_message_is_delivered() {
        let Some(smtp) = openwarp_alerts::testing::SmtpServer::start() else {
            return;
        };
        let dir = tempfile::tempdir().expect("tmp");
        let url = format!("sqlite://{}", dir.path().join("b.db").display());
        let args = BenchAlertsArgs {
            orgs: 2,
            users: 5,
            database: Some(url.clone()),
            smtp: Some(smtp.port()),
            concurrency: 4,
        };
        bench(&args, &url).await.expect("bench");
        let got = smtp.wait_for(5, std::time::Duration::from_secs(20)).await;
        assert_eq!(got.len(), 5);
        let store = crate::serve::open_store(&url).await.expect("open");
        let c = store.delivery_counts().await.expect("counts");
        assert_eq!((c.sent, c.pending), (5, 5), "sent, then the digests queued");
    }
}

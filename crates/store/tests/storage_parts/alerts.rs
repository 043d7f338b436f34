//! Alerts and the delivery outbox, on every backend: alerts raised with the
//! exposure that caused them, once; deliveries per subscriber as their
//! preferences say; leases, retries, dead letters and digests.

use super::{draft, t0, user};
use chrono::{DateTime, Duration, TimeZone, Utc};
use openwarp_advisory::{Parsed, SourceRecord};
use openwarp_core::{OrgId, Role, TlpLabel, UserId};
use openwarp_matching::alert::{DigestFrequency, OrgDefaults, UserChoices};
use openwarp_matching::inventory::ItemFields;
use openwarp_matching::priority::Priority;
use openwarp_store::testing::all_backends;
use openwarp_store::{
    AlertKind, DeliveryFilter, DeliveryStatus, KnownRecords, NewWebhook, Recipient, Store,
    WebhookFormat,
};

fn records(bytes: &[u8]) -> Vec<SourceRecord> {
    let mut out = Vec::new();
    openwarp_advisory::parse::parse_any(bytes, &mut |p| {
        if let Parsed::Record(r) = p {
            out.push(*r);
        }
    })
    .expect("fixture parses");
    out
}

const LOG4SHELL: &[u8] = include_bytes!(
    "../../../advisory/tests/fixtures/cve5/cve5_log4shell_changes_and_cisa_adp_cvss.json"
);
/// The Log4Shell entry of the 2025-08-25 KEV catalogue, in its envelope.
const KEV: &[u8] = include_bytes!("../fixtures/kev_log4shell_entry.json");

fn log4j(version: &str) -> ItemFields {
    ItemFields {
        name: "Payroll server".into(),
        vendor: Some("Apache Software Foundation".into()),
        product: Some("Apache Log4j2".into()),
        version: Some(version.into()),
        internet_facing: true,
        owner: Some("ICT Ops".into()),
        ..ItemFields::default()
    }
    .validate()
    .expect("valid")
}

fn kev_log4shell() -> Vec<SourceRecord> {
    records(KEV)
        .into_iter()
        .filter(|r| r.vuln_id == "CVE-2021-44228")
        .collect()
}

/// Kent with four users: a lead on the organisation's defaults, a user who
/// wants P2 at once, a paused user and a user filtering for Microsoft only.
struct Kent {
    org: OrgId,
    lead: UserId,
    keen: UserId,
    paused: UserId,
    filtered: UserId,
}

async fn kent(s: &Store) -> Kent {
    let org = s
        .create_org(&draft("Kent County Council", "county"), t0())
        .await
        .expect("org")
        .id;
    let lead = user(s, "lead@kent.gov.uk", Role::MemberLead, Some(org))
        .await
        .id;
    let keen = user(s, "keen@kent.gov.uk", Role::MemberUser, Some(org))
        .await
        .id;
    let paused = user(s, "away@kent.gov.uk", Role::MemberUser, Some(org))
        .await
        .id;
    let filtered = user(s, "msft@kent.gov.uk", Role::MemberUser, Some(org))
        .await
        .id;
    s.set_subscription(
        keen,
        &UserChoices {
            immediate_min: Some(Some(Priority::P2)),
            ..UserChoices::default()
        },
        t0(),
    )
    .await
    .expect("keen");
    s.set_subscription(
        paused,
        &UserChoices {
            paused: true,
            ..UserChoices::default()
        },
        t0(),
    )
    .await
    .expect("paused");
    s.set_subscription(
        filtered,
        &UserChoices {
            immediate_min: Some(Some(Priority::P4)),
            filters: vec!["Microsoft".into()],
            ..UserChoices::default()
        },
        t0(),
    )
    .await
    .expect("filtered");
    Kent {
        org,
        lead,
        keen,
        paused,
        filtered,
    }
}

fn user_ids(rows: &[openwarp_store::DeliveryRow], prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = rows
        .iter()
        .filter(|d| d.idempotency_key.starts_with(prefix))
        .map(|d| d.recipient.clone())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn alerts_are_raised_once_and_queued_as_each_user_asked() {
    for db in all_backends().await {
        let s = &db.store;
        let name = db.backend().name();
        let k = kent(s).await;
        let hook = s
            .add_webhook(
                k.org,
                &NewWebhook {
                    name: "SOC channel".into(),
                    url: "https://example.invalid/hook".into(),
                    format: WebhookFormat::Teams,
                    min_priority: Priority::P2,
                },
                Some(k.lead),
                t0(),
            )
            .await
            .expect("hook");
        assert_eq!(hook.secret.len(), 43, "a fresh random secret");
        s.add_items(k.org, &[log4j("2.14.1")], "manual", None, t0())
            .await
            .expect("add");
        assert!(
            s.alerts_for_org(k.org, 10)
                .await
                .expect("alerts")
                .is_empty(),
            "{name}: adding an item is not news"
        );

        // CVE 5 says 2.14.1 is affected: a new P2 alert.
        let mut known = KnownRecords::default();
        let t1 = t0() + Duration::hours(1);
        s.upsert_records(&records(LOG4SHELL), &mut known, t1)
            .await
            .expect("ingest");
        // The item was there first; the advisory is news.
        let alerts = s.alerts_for_org(k.org, 10).await.expect("alerts");
        assert_eq!(alerts.len(), 1, "{name}: {alerts:#?}");
        let a = &alerts[0];
        assert_eq!(
            (a.kind, a.priority, a.tlp),
            (AlertKind::New, Priority::P2, TlpLabel::Clear)
        );
        assert_eq!(a.vuln_id.as_deref(), Some("CVE-2021-44228"));
        assert!(a.title.starts_with("CVE-2021-44228: "), "{}", a.title);
        assert_eq!(a.content.items.len(), 1);
        assert!(
            a.content
                .summary
                .contains("affects your Payroll server 2.14.1"),
            "{}",
            a.content.summary
        );
        assert!(
            a.content.reason.starts_with("P2 because"),
            "{}",
            a.content.reason
        );
        assert!(
            a.content
                .sources
                .iter()
                .any(|l| l.url == "/advisories/CVE-2021-44228")
        );
        assert!(
            a.content
                .sources
                .iter()
                .any(|l| l.url == "https://www.cve.org/CVERecord?id=CVE-2021-44228")
        );
        let d = s
            .deliveries(&DeliveryFilter {
                alert_id: Some(a.id),
                ..DeliveryFilter::default()
            })
            .await
            .expect("deliveries");
        // The lead wants only P1 at once (P2 waits for the digest); keen
        // wants P2; paused gets nothing; the Microsoft filter excludes Log4j;
        // the webhook takes P2 and above.
        assert_eq!(
            user_ids(&d, &format!("alert:{}:email", a.id)),
            vec!["keen@kent.gov.uk".to_string()],
            "{name}"
        );
        assert_eq!(
            user_ids(&d, &format!("alert:{}:webhook", a.id)),
            vec!["SOC channel"]
        );

        // Re-ingesting the same record, even as a fresh ingest, says nothing more.
        s.upsert_records(&records(LOG4SHELL), &mut KnownRecords::default(), t1)
            .await
            .expect("again");
        assert_eq!(s.alerts_for_org(k.org, 10).await.expect("alerts").len(), 1);

        // CISA adds it to KEV: a follow-up, P1 now, saying what changed.
        let t2 = t1 + Duration::hours(1);
        s.upsert_records(&kev_log4shell(), &mut known, t2)
            .await
            .expect("kev");
        let alerts = s.alerts_for_org(k.org, 10).await.expect("alerts");
        assert_eq!(alerts.len(), 2, "{name}");
        let u = &alerts[0];
        assert_eq!((u.kind, u.priority), (AlertKind::Update, Priority::P1));
        assert_eq!(
            u.content.changes[..2],
            [
                "Added to CISA's Known Exploited Vulnerabilities catalogue: it is being exploited"
                    .to_string(),
                "Priority raised from P2 to P1".to_string()
            ],
            "{name}"
        );
        // CISA's deadline for Log4Shell (24 December 2021) is long past, so
        // the date is P1's two days from when the member was first told.
        assert_eq!(
            u.content.due,
            Some(t1.date_naive() + Duration::days(2)),
            "{name}"
        );
        assert_eq!(
            u.content.action.as_deref(),
            Some("Update to version 2.15.0 or later"),
            "the concrete fix before CISA's generic action"
        );
        let d = s
            .deliveries(&DeliveryFilter {
                alert_id: Some(u.id),
                ..DeliveryFilter::default()
            })
            .await
            .expect("deliveries");
        assert_eq!(
            user_ids(&d, &format!("alert:{}:email", u.id)),
            vec![
                "keen@kent.gov.uk".to_string(),
                "lead@kent.gov.uk".to_string()
            ],
            "{name}"
        );
        assert_eq!(d.iter().filter(|x| x.channel == "webhook").count(), 1);
        let _ = (k.paused, k.filtered);

        // The same KEV entry again, and a full re-match: nothing new.
        s.upsert_records(&kev_log4shell(), &mut KnownRecords::default(), t2)
            .await
            .expect("kev again");
        s.rematch_all(t2).await.expect("rematch");
        assert_eq!(s.alerts_for_org(k.org, 10).await.expect("alerts").len(), 2);
        let total = s
            .deliveries(&DeliveryFilter::default())
            .await
            .expect("all")
            .len();
        assert_eq!(total, 1 + 1 + 2 + 1, "{name}");
    }
}

#[tokio::test]
async fn a_baseline_load_records_exposures_without_alerting() {
    for db in all_backends().await {
        let s = &db.store;
        let k = kent(s).await;
        s.add_items(k.org, &[log4j("2.14.1")], "manual", None, t0())
            .await
            .expect("add");
        let mut known = KnownRecords::default();
        let counts = s
            .without_alerts()
            .upsert_records(&records(LOG4SHELL), &mut known, t0())
            .await
            .expect("baseline");
        assert_eq!(counts.new, 1);
        let xs = s
            .list_exposures(k.org, &openwarp_store::ExposureFilter::default())
            .await
            .expect("exposures");
        assert_eq!(xs.len(), 1);
        assert!(
            s.alerts_for_org(k.org, 10)
                .await
                .expect("alerts")
                .is_empty()
        );
        // Later news is compared with the baseline.
        s.upsert_records(&kev_log4shell(), &mut known, t0() + Duration::hours(1))
            .await
            .expect("kev");
        let alerts = s.alerts_for_org(k.org, 10).await.expect("alerts");
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].kind, AlertKind::Update);
    }
}

async fn one_dead_simple_alert(s: &Store, users: usize) -> (OrgId, Vec<UserId>) {
    let org = s
        .create_org(&draft("Medway Council", "unitary"), t0())
        .await
        .expect("org")
        .id;
    let mut ids = Vec::new();
    for i in 0..users {
        ids.push(
            user(
                s,
                &format!("u{i}@medway.gov.uk"),
                Role::MemberUser,
                Some(org),
            )
            .await
            .id,
        );
    }
    let alert = openwarp_store::NewAlert {
        org_id: org.0,
        kind: AlertKind::Warp,
        vuln_id: None,
        warp_advisory_id: None,
        priority: Priority::P1,
        tlp: TlpLabel::Amber,
        title: "Phishing campaign against council payroll".into(),
        content: openwarp_store::AlertContent {
            summary: "A phishing campaign impersonates the payroll provider.".into(),
            reason: "P1 because it is active now".into(),
            changes: Vec::new(),
            items: Vec::new(),
            action: Some("Block the sender domain.".into()),
            due: None,
            sources: Vec::new(),
            path: "/alerts".into(),
        },
        dedup_key: "test:phishing".into(),
    };
    let (raised, queued) = s
        .raise_alerts(std::slice::from_ref(&alert), t0())
        .await
        .expect("raise");
    assert_eq!((raised, queued), (1, users as u64));
    let again = s.raise_alerts(&[alert], t0()).await.expect("raise again");
    assert_eq!(again, (0, 0), "the same dedup key raises nothing");
    (org, ids)
}

#[tokio::test]
async fn the_outbox_leases_retries_dead_letters_and_retries_again() {
    for db in all_backends().await {
        let s = &db.store;
        let name = db.backend().name();
        let (_, users) = one_dead_simple_alert(s, 3).await;
        let lease = Duration::seconds(60);
        let a = s
            .claim_deliveries("worker-a", t0(), lease, 2)
            .await
            .expect("claim");
        assert_eq!(a.len(), 2, "{name}: limited to the batch size");
        let job = &a[0];
        assert!(
            matches!(&job.recipient, Recipient::Email { email, .. } if email.ends_with("@medway.gov.uk"))
        );
        assert_eq!(job.alert.as_ref().map(|a| a.tlp), Some(TlpLabel::Amber));
        assert!(job.idempotency_key.starts_with("alert:"));
        // Another worker gets only what is not leased.
        let b = s
            .claim_deliveries("worker-b", t0(), lease, 10)
            .await
            .expect("claim");
        assert_eq!(b.len(), 1, "{name}");
        assert!(a.iter().all(|x| x.id != b[0].id));
        assert!(
            s.claim_deliveries("worker-c", t0(), lease, 10)
                .await
                .expect("claim")
                .is_empty()
        );

        // One sent, one failed (retry later), one permanently failed.
        s.delivery_sent(a[0].id, t0()).await.expect("sent");
        let retry_at = t0() + Duration::seconds(30);
        let st = s
            .delivery_failed(a[1].id, "421 try again later", Some(retry_at), t0())
            .await
            .expect("failed");
        assert_eq!(st, DeliveryStatus::Pending);
        let st = s
            .delivery_failed(b[0].id, "550 no such user", None, t0())
            .await
            .expect("dead");
        assert_eq!(st, DeliveryStatus::Dead);
        let c = s.delivery_counts().await.expect("counts");
        assert_eq!((c.pending, c.sent, c.dead), (1, 1, 1), "{name}");
        // Not before its time; then it comes back, with its attempt counted.
        assert!(
            s.claim_deliveries("w", t0(), lease, 10)
                .await
                .expect("claim")
                .is_empty()
        );
        let again = s
            .claim_deliveries("w", retry_at, lease, 10)
            .await
            .expect("claim");
        assert_eq!(again.len(), 1);
        assert_eq!((again[0].id, again[0].attempts), (a[1].id, 1));
        // A sent delivery stays sent, even if a stale worker reports failure.
        s.delivery_failed(a[0].id, "late", None, t0())
            .await
            .expect("noop");
        let dead = s
            .deliveries(&DeliveryFilter {
                status: Some(DeliveryStatus::Dead),
                ..DeliveryFilter::default()
            })
            .await
            .expect("dead");
        assert_eq!(dead.len(), 1, "{name}");
        assert_eq!(dead[0].last_error.as_deref(), Some("550 no such user"));
        // An operator retries the dead letter.
        s.retry_delivery(dead[0].id, retry_at).await.expect("retry");
        assert!(
            s.retry_delivery(a[0].id, retry_at).await.is_err(),
            "sent stays sent"
        );
        let back = s
            .claim_deliveries("w2", retry_at + lease + Duration::seconds(1), lease, 10)
            .await
            .expect("claim");
        let mut ids: Vec<i64> = back.iter().map(|j| j.id).collect();
        ids.sort_unstable();
        let mut want = vec![b[0].id, a[1].id];
        want.sort_unstable();
        assert_eq!(ids, want, "{name}: the retried one and the expired lease");
        assert_eq!(users.len(), 3);
    }
}

#[tokio::test]
async fn concurrent_workers_never_claim_the_same_delivery() {
    for db in all_backends().await {
        let s = &db.store;
        let name = db.backend().name();
        one_dead_simple_alert(s, 40).await;
        let lease = Duration::seconds(60);
        let (x, y, z) = tokio::join!(
            s.claim_deliveries("x", t0(), lease, 15),
            s.claim_deliveries("y", t0(), lease, 15),
            s.claim_deliveries("z", t0(), lease, 15),
        );
        let mut ids: Vec<i64> = [x.expect("x"), y.expect("y"), z.expect("z")]
            .into_iter()
            .flatten()
            .map(|j| j.id)
            .collect();
        let claimed = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), claimed, "{name}: no delivery claimed twice");
        assert_eq!(claimed, 40, "{name}: all claimed");
    }
}

#[tokio::test]
async fn an_unsubscribe_or_a_disabled_account_cancels_what_was_queued() {
    for db in all_backends().await {
        let s = &db.store;
        let name = db.backend().name();
        let (_, users) = one_dead_simple_alert(s, 3).await;
        s.unsubscribe(users[0], t0()).await.expect("unsubscribe");
        s.set_user_disabled(users[1], true, t0())
            .await
            .expect("disable");
        let jobs = s
            .claim_deliveries("w", t0(), Duration::seconds(60), 10)
            .await
            .expect("claim");
        assert_eq!(
            jobs.len(),
            1,
            "{name}: only the third user is still sent to"
        );
        let dead = s
            .deliveries(&DeliveryFilter {
                status: Some(DeliveryStatus::Dead),
                ..DeliveryFilter::default()
            })
            .await
            .expect("dead");
        let mut reasons: Vec<String> = dead.iter().filter_map(|d| d.last_error.clone()).collect();
        reasons.sort();
        assert_eq!(
            reasons,
            [
                "cancelled: the recipient unsubscribed",
                "cancelled: the recipient's account is disabled"
            ],
            "{name}"
        );
    }
}

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, h, 0, 0)
        .single()
        .expect("time")
}

#[tokio::test]
async fn digests_list_what_was_not_sent_at_once_one_per_user_and_window() {
    for db in all_backends().await {
        let s = &db.store;
        let name = db.backend().name();
        let k = kent(s).await;
        s.set_alert_defaults(
            k.org,
            &OrgDefaults {
                immediate_min: Some(Priority::P1),
                digest: DigestFrequency::Daily,
            },
            Some(k.lead),
            t0(),
        )
        .await
        .expect("defaults");
        s.add_items(k.org, &[log4j("2.14.1")], "manual", None, t0())
            .await
            .expect("add");
        // 23 November 09:30: a P2 alert (digest for the lead; at once for keen).
        s.upsert_records(&records(LOG4SHELL), &mut KnownRecords::default(), t0())
            .await
            .expect("ingest");
        // Before 07:00 on the 24th the window is still open.
        assert_eq!(s.queue_digests(at(6)).await.expect("digests"), 0, "{name}");
        let n = s.queue_digests(at(7)).await.expect("digests");
        assert_eq!(n, 1, "{name}: only the lead's digest has anything in it");
        assert_eq!(
            s.queue_digests(at(8)).await.expect("again"),
            0,
            "once per window"
        );
        let rows = s
            .deliveries(&DeliveryFilter {
                org: Some(k.org),
                ..DeliveryFilter::default()
            })
            .await
            .expect("deliveries");
        let digest = rows
            .iter()
            .find(|d| d.kind == "digest")
            .expect("a digest delivery");
        assert_eq!(digest.recipient, "lead@kent.gov.uk");
        assert_eq!(
            digest.idempotency_key,
            format!("digest:daily:2026-11-24:user:{}", k.lead.0)
        );
        let job = s.delivery_job(digest.id).await.expect("job");
        let (payload, alerts) = job.digest.expect("digest payload");
        assert_eq!(payload.alert_ids.len(), 1);
        assert_eq!(alerts[0].priority, Priority::P2);
        let _ = (k.keen, k.paused, k.filtered);
    }
}

#[tokio::test]
async fn subscriptions_inherit_defaults_and_unsubscribe_sticks() {
    for db in all_backends().await {
        let s = &db.store;
        let k = kent(s).await;
        let sub = s.subscription(k.lead).await.expect("sub");
        assert_eq!(sub.effective.immediate_min, Some(Priority::P1));
        assert_eq!(sub.effective.digest, DigestFrequency::Daily);
        s.set_alert_defaults(
            k.org,
            &OrgDefaults {
                immediate_min: Some(Priority::P2),
                digest: DigestFrequency::Weekly,
            },
            Some(k.lead),
            t0(),
        )
        .await
        .expect("defaults");
        let sub = s.subscription(k.lead).await.expect("sub");
        assert_eq!(sub.effective.immediate_min, Some(Priority::P2));
        assert_eq!(sub.effective.digest, DigestFrequency::Weekly);
        // Keen's own choice wins over the new default.
        let keen = s.subscription(k.keen).await.expect("keen");
        assert_eq!(keen.effective.immediate_min, Some(Priority::P2));
        assert_eq!(keen.own.immediate_min, Some(Some(Priority::P2)));
        s.unsubscribe(k.filtered, t0()).await.expect("unsubscribe");
        let f = s.subscription(k.filtered).await.expect("sub");
        assert!(f.own.unsubscribed && f.effective.silenced);
        assert_eq!(
            f.own.filters,
            vec!["Microsoft".to_string()],
            "other choices kept"
        );
        let secret = s
            .instance_secret("link_signing", t0())
            .await
            .expect("secret");
        assert_eq!(
            secret,
            s.instance_secret("link_signing", t0())
                .await
                .expect("again")
        );
        assert_eq!(
            s.alert_defaults(k.org).await.expect("d").digest,
            DigestFrequency::Weekly
        );
    }
}

/// Run raw SQL on a test database, as a crash would leave it.
async fn raw(db: &openwarp_store::testing::TestDb, sql: &str) {
    use sqlx::Connection;
    match db.backend() {
        openwarp_store::Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url)
                .await
                .expect("connect");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await
                .expect("raw sql");
        }
        openwarp_store::Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await
                .expect("raw sql");
        }
    }
}

#[tokio::test]
async fn an_ingest_interrupted_before_matching_is_finished_on_start_alerts_and_all() {
    for db in all_backends().await {
        let s = &db.store;
        let name = db.backend().name();
        let k = kent(s).await;
        s.add_items(k.org, &[log4j("2.14.1")], "manual", None, t0())
            .await
            .expect("add");
        // A normal ingest owes nothing once it returns.
        s.upsert_records(&records(LOG4SHELL), &mut KnownRecords::default(), t0())
            .await
            .expect("ingest");
        assert_eq!(
            s.resume_matching(t0()).await.expect("resume").0,
            0,
            "{name}"
        );
        assert_eq!(s.alerts_for_org(k.org, 10).await.expect("alerts").len(), 1);

        // The KEV entry was stored, then the process died before matching
        // committed: the ingest's transaction left it owed, nothing else.
        let t1 = t0() + Duration::hours(1);
        s.without_alerts()
            .upsert_records(&kev_log4shell(), &mut KnownRecords::default(), t1)
            .await
            .expect("kev");
        raw(
            &db,
            "UPDATE exposures SET priority = 2, digest = 'before-the-crash', \
             alert_state = '{\"priority\":\"P2\",\"exploited\":false,\"fix_available\":true,\"cvss\":10.0}'; \
             INSERT INTO match_pending (vuln_id, alerting, queued_at) \
             VALUES ('CVE-2021-44228', TRUE, '2026-11-23T10:30:00Z')",
        )
        .await;
        let (owed, counts) = s.resume_matching(t1).await.expect("resume");
        assert_eq!((owed, counts.alerts), (1, 1), "{name}: {counts:?}");
        let alerts = s.alerts_for_org(k.org, 10).await.expect("alerts");
        assert_eq!(alerts[0].kind, AlertKind::Update, "{name}");
        assert_eq!(alerts[0].priority, Priority::P1);
        assert_eq!(
            s.resume_matching(t1).await.expect("again").0,
            0,
            "paid once"
        );
    }
}

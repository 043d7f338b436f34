//! Alert and digest e-mails as a real SMTP server receives them.

use crate::support::{PUBLIC_URL, config, cve_and_kev, cve_record, ingest, kent, parse, t1};
use chrono::{Duration, TimeZone, Utc};
use openwarp_alerts::deliver_due;
use openwarp_alerts::testing::SmtpServer;
use openwarp_store::testing;
use std::collections::BTreeSet;
use std::time::Duration as StdDuration;

#[tokio::test]
async fn each_user_gets_one_message_per_alert_with_tlp_priority_and_both_parts() {
    for db in testing::all_backends().await {
        let Some(smtp) = SmtpServer::start() else {
            return;
        };
        eprintln!("delivering from {}", db.backend().name());
        one_message_per_user(&db.store, &smtp).await;
    }
}

async fn one_message_per_user(s: &openwarp_store::Store, smtp: &SmtpServer) {
    let kent = kent(
        s,
        &["ann@kent.gov.uk", "bob@kent.gov.uk", "cat@kent.gov.uk"],
    )
    .await;
    ingest(s, &cve_and_kev(), t1()).await;
    let cfg = config(Some(smtp.port()));

    let counts = deliver_due(s, &cfg, t1()).await.expect("deliver");
    assert_eq!((counts.claimed, counts.sent), (3, 3), "{counts:?}");
    let raw = smtp.wait_for(3, StdDuration::from_secs(10)).await;
    assert_eq!(raw.len(), 3, "one message per user");

    let secret = s
        .instance_secret("link_signing", t1())
        .await
        .expect("secret");
    let alert = &s.alerts_for_org(kent.org, 10).await.expect("alerts")[0];
    let mut recipients = BTreeSet::new();
    for m in raw.iter().map(|r| parse(r)) {
        assert!(
            m.subject.starts_with("[TLP:CLEAR] P1: CVE-2021-44228: "),
            "{}",
            m.subject
        );
        assert_eq!(m.from, "alerts@warp.example.gov.uk");
        let (user_id, _) = kent
            .users
            .iter()
            .find(|(_, e)| *e == m.to)
            .unwrap_or_else(|| panic!("unexpected recipient {}", m.to));
        recipients.insert(m.to.clone());
        assert_eq!(
            m.message_id,
            format!(
                "alert.{}.email.user.{}@warp.example.gov.uk",
                alert.id, user_id.0
            )
        );
        // RFC 8058 one-click unsubscribe, signed for this user only.
        let prefix = format!("<{PUBLIC_URL}/unsubscribe?u={}&s=", user_id.0);
        assert!(
            m.list_unsubscribe.starts_with(&prefix),
            "{}",
            m.list_unsubscribe
        );
        let sig = m.list_unsubscribe[prefix.len()..].trim_end_matches('>');
        assert!(openwarp_store::crypto::verify_signature(
            &secret,
            &format!("unsubscribe:{}", user_id.0),
            sig
        ));
        assert_eq!(m.list_unsubscribe_post, "List-Unsubscribe=One-Click");
        for (part, body) in [("text", &m.text), ("html", &m.html)] {
            assert!(body.contains("TLP:CLEAR"), "{part}");
            assert!(
                body.contains("P1 because it is being exploited"),
                "{part}: the reason: {body}"
            );
            assert!(body.contains("Payroll server 2.14.1"), "{part}");
            assert!(
                body.contains(&format!("{PUBLIC_URL}{}", alert.content.path)),
                "{part}: link to the exposure"
            );
            assert!(
                body.contains("https://www.cve.org/CVERecord?id=CVE-2021-44228"),
                "{part}: source"
            );
        }
    }
    assert_eq!(recipients.len(), 3, "three different users");

    // The same records again (a feed re-read, a restart), and the worker
    // again: nothing new is raised or sent.
    ingest(s, &cve_and_kev(), t1() + Duration::hours(1)).await;
    let again = deliver_due(s, &cfg, t1() + Duration::hours(2))
        .await
        .expect("deliver");
    assert_eq!(again.claimed, 0, "{again:?}");
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 3, "nothing more arrived");
    let c = s.delivery_counts().await.expect("counts");
    assert_eq!((c.pending, c.sent, c.dead), (0, 3, 0));
}

#[tokio::test]
async fn without_smtp_e_mails_wait_and_go_once_it_is_configured() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let db = testing::sqlite().await;
    let s = &db.store;
    kent(s, &["ann@kent.gov.uk", "bob@kent.gov.uk"]).await;
    ingest(s, &cve_and_kev(), t1()).await;

    // Without a mail server e-mail is not even claimed: it waits, pending.
    let held = deliver_due(s, &config(None), t1()).await.expect("deliver");
    assert_eq!((held.claimed, held.held, held.dead), (0, 0, 0), "{held:?}");
    let c = s.delivery_counts().await.expect("counts");
    assert_eq!((c.pending, c.dead), (2, 0), "pending, never dead-lettered");

    // Configured: sent at once (nothing was leased while waiting).
    let sent = deliver_due(s, &config(Some(smtp.port())), t1())
        .await
        .expect("deliver");
    assert_eq!(sent.sent, 2, "{sent:?}");
    assert_eq!(smtp.wait_for(2, StdDuration::from_secs(10)).await.len(), 2);
}

#[tokio::test]
async fn a_daily_digest_lists_what_was_not_sent_at_once() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let db = testing::sqlite().await;
    let s = &db.store;
    let kent = kent(s, &["ann@kent.gov.uk", "bob@kent.gov.uk"]).await;
    // A P2: below the default immediate threshold, so it waits for the digest.
    ingest(s, &cve_record(), t1()).await;
    let cfg = config(Some(smtp.port()));
    assert_eq!(
        deliver_due(s, &cfg, t1()).await.expect("deliver").claimed,
        0
    );

    // The day's window closes at 07:00 UTC the next morning.
    let morning = Utc
        .with_ymd_and_hms(2026, 11, 24, 7, 5, 0)
        .single()
        .unwrap();
    assert_eq!(s.queue_digests(morning).await.expect("queue"), 2);
    assert_eq!(s.queue_digests(morning).await.expect("queue"), 0, "once");
    let sent = deliver_due(s, &cfg, morning).await.expect("deliver");
    assert_eq!(sent.sent, 2, "{sent:?}");
    let raw = smtp.wait_for(2, StdDuration::from_secs(10)).await;
    assert_eq!(raw.len(), 2);
    for m in raw.iter().map(|r| parse(r)) {
        assert_eq!(
            m.subject,
            "[TLP:CLEAR] SEGWARP digest for Kent County Council: 1 alert (1 P2)"
        );
        assert!(
            m.message_id.starts_with("digest.daily.2026-11-24.user."),
            "{}",
            m.message_id
        );
        assert!(kent.users.iter().any(|(_, e)| *e == m.to));
        for body in [&m.text, &m.html] {
            assert!(body.contains("TLP:CLEAR"));
            assert!(body.contains("CVE-2021-44228"));
            assert!(body.contains("P2 because"), "{body}");
            assert!(body.contains(&format!("{PUBLIC_URL}/orgs/{}/exposure/", kent.org.0)));
        }
    }
}

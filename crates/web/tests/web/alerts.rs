//! Alerts over real HTTP: My alerts, organisation defaults and webhooks,
//! alert history, operators' dead letters and retries, one-click
//! unsubscribe, and the same rules through the JSON API — each across roles
//! and tenants, on every backend.

use crate::support::call as api;
use crate::support::{Client, TestApp, apps, text_until};
use chrono::Duration;
use openwarp_core::{OrgId, Role, TlpLabel, UserId};
use openwarp_matching::alert::DigestFrequency;
use openwarp_matching::priority::Priority;
use openwarp_store::{
    AlertContent, AlertItem, AlertKind, DeliveryFilter, DeliveryStatus, NewAlert, Organisation,
    SourceLink, User, crypto, now,
};
use reqwest::StatusCode;
use serde_json::json;

/// Two members (A with a lead and a user, B with a lead) and an operator.
struct World {
    a: Organisation,
    b: Organisation,
    lead_a: User,
    user_a: User,
    lead_b: User,
    op: User,
}

async fn world(app: &TestApp) -> World {
    let a = app.org("Medway Council", "unitary", true).await;
    let b = app.org("Kent County Council", "county", true).await;
    World {
        lead_a: app
            .user("lead@medway.gov.uk", Role::MemberLead, Some(a.id))
            .await,
        user_a: app
            .user("user@medway.gov.uk", Role::MemberUser, Some(a.id))
            .await,
        lead_b: app
            .user("lead@kent.gov.uk", Role::MemberLead, Some(b.id))
            .await,
        op: app.user("op@warp.example", Role::Operator, None).await,
        a,
        b,
    }
}

async fn signed_in(app: &TestApp, user: &User) -> Client {
    app.client().signed_in(&user.email).await
}

/// A P1 alert about Log4Shell on the Payroll server of `org`.
fn log4shell(org: &Organisation, key: &str) -> NewAlert {
    NewAlert {
        org_id: org.id.0,
        kind: AlertKind::New,
        vuln_id: Some("CVE-2021-44228".into()),
        warp_advisory_id: None,
        priority: Priority::P1,
        tlp: TlpLabel::Amber,
        title: format!("Log4Shell affects {}", org.name),
        content: AlertContent {
            summary: "Apache Log4j2 on Payroll server is exploited: update to 2.17.1".into(),
            reason: "P1 because it is being exploited and the system is internet-facing".into(),
            changes: vec!["Added to CISA's Known Exploited Vulnerabilities catalogue".into()],
            items: vec![AlertItem {
                exposure_id: 41,
                item: "Payroll server 2.14.1".into(),
                owner: Some("ICT Ops".into()),
                line: "Log4Shell on Payroll server: fix now".into(),
                reason: "P1 because it is being exploited".into(),
                priority: Priority::P1,
            }],
            action: Some("Update Log4j to 2.17.1".into()),
            due: None,
            sources: vec![SourceLink {
                label: "CISA KEV".into(),
                url: "https://www.cisa.gov/known-exploited-vulnerabilities-catalog".into(),
            }],
            path: format!("/orgs/{}/exposure/41", org.id),
        },
        dedup_key: key.into(),
    }
}

/// Raise one alert; its id.
async fn raise(app: &TestApp, alert: NewAlert) -> i64 {
    let org = OrgId(alert.org_id);
    let title = alert.title.clone();
    app.store
        .raise_alerts(&[alert], now())
        .await
        .expect("raise");
    app.store
        .alerts_for_org(org, 50)
        .await
        .expect("alerts")
        .into_iter()
        .find(|a| a.title == title)
        .expect("raised")
        .id
}

/// Fail every due delivery for good, as a mail server refusing them would.
async fn kill_deliveries(app: &TestApp) -> Vec<i64> {
    let t = now();
    let jobs = app
        .store
        .claim_deliveries("test", t, Duration::seconds(60), 100)
        .await
        .expect("claim");
    let mut ids = Vec::new();
    for j in jobs {
        let status = app
            .store
            .delivery_failed(j.id, "550 5.1.1 mailbox unavailable", None, t)
            .await
            .expect("fail");
        assert_eq!(status, DeliveryStatus::Dead);
        ids.push(j.id);
    }
    ids
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.store
        .audit_log(500, None)
        .await
        .expect("audit")
        .into_iter()
        .map(|r| r.action)
        .collect()
}

#[tokio::test]
async fn my_alerts_show_inherited_settings_and_save_choices() {
    for app in apps().await {
        let w = world(&app).await;
        let c = signed_in(&app, &w.user_a).await;
        let page = c.get("/account/alerts").await;
        assert_eq!(page.status, StatusCode::OK, "{}", app.backend());
        assert!(page.contains("P1 only"), "{}", page.body);
        assert!(page.contains("(organisation default)"));
        assert!(page.contains("<legend>Immediate alerts</legend>"));
        assert!(page.contains("<label for=\"filters\">"));

        // Bad input names the field and changes nothing.
        let long = "x".repeat(101);
        let bad = c
            .submit(
                "/account/alerts",
                "/account/alerts",
                &[
                    ("immediate_min", "P2"),
                    ("digest", "weekly"),
                    ("filters", &format!("Fortinet\n{long}")),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.contains("Vendor and product filters:"), "{}", bad.body);
        assert!(bad.contains("longer than 100 characters"));
        let many: Vec<String> = (0..51).map(|i| format!("vendor{i}")).collect();
        let bad = c
            .submit(
                "/account/alerts",
                "/account/alerts",
                &[
                    ("immediate_min", "P2"),
                    ("digest", "weekly"),
                    ("filters", &many.join("\n")),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.contains("at most 50 are allowed"), "{}", bad.body);
        let bad = c
            .submit(
                "/account/alerts",
                "/account/alerts",
                &[("immediate_min", "P7"), ("digest", "monthly")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.contains("Immediate alerts: &#39;P7&#39; is not one of"),
            "{}",
            bad.body
        );
        assert!(bad.contains("Digest: &#39;monthly&#39;"));
        let sub = app.store.subscription(w.user_a.id).await.unwrap();
        assert_eq!(sub.own, Default::default(), "nothing was saved");

        // Without the form's CSRF token: refused.
        let forged = c
            .post(
                "/account/alerts",
                &[("immediate_min", "none"), ("digest", "off")],
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);

        let ok = c
            .submit(
                "/account/alerts",
                "/account/alerts",
                &[
                    ("immediate_min", "P2"),
                    ("digest", "weekly"),
                    ("filters", "Fortinet\n cisco, fortinet"),
                    ("paused", "on"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let sub = app.store.subscription(w.user_a.id).await.unwrap();
        assert_eq!(sub.own.immediate_min, Some(Some(Priority::P2)));
        assert_eq!(sub.own.digest, Some(DigestFrequency::Weekly));
        assert_eq!(sub.own.filters, vec!["Fortinet", "cisco"]);
        assert!(sub.own.paused && sub.effective.silenced);
        let page = c.get("/account/alerts?notice=alerts_saved").await;
        assert!(page.contains("Your alert settings have been saved."));
        assert!(page.contains("P1 and P2"));
        assert!(page.contains("(your choice)"));
        assert!(page.contains("Your alerts are paused"));
        assert!(
            audit_actions(&app)
                .await
                .contains(&"alerts.subscription".into())
        );

        // Back to the organisation's defaults.
        let ok = c
            .submit(
                "/account/alerts",
                "/account/alerts",
                &[("immediate_min", "default"), ("digest", "default")],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        let sub = app.store.subscription(w.user_a.id).await.unwrap();
        assert_eq!(sub.own, Default::default());

        // Operators have no subscription; the page says where to look instead.
        let op = signed_in(&app, &w.op).await;
        let page = op.get("/account/alerts").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.contains("href=\"/deliveries\""));
        let refused = op
            .submit(
                "/account/alerts",
                "/account/alerts",
                &[("immediate_min", "P1"), ("digest", "daily")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn organisation_settings_follow_roles_and_tenants() {
    for app in apps().await {
        let w = world(&app).await;
        let a = w.a.id;
        let settings = format!("/orgs/{a}/alerts");
        let defaults = format!("/orgs/{a}/alerts/defaults");
        let hooks = format!("/orgs/{a}/alerts/webhooks");
        let lead = signed_in(&app, &w.lead_a).await;
        let user = signed_in(&app, &w.user_a).await;
        let op = signed_in(&app, &w.op).await;
        let other = signed_in(&app, &w.lead_b).await;

        // Who sees the page, and who gets the forms.
        let page = lead.get(&settings).await;
        assert_eq!(page.status, StatusCode::OK, "{}", app.backend());
        assert!(page.contains(&format!("action=\"{defaults}")));
        for c in [&user, &op] {
            let page = c.get(&settings).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(!page.contains(&format!("action=\"{defaults}")));
            assert!(page.contains("Only Medway Council's member lead can change"));
        }
        assert_eq!(other.get(&settings).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            other.get(&format!("/orgs/{}/alerts", 999_999)).await.status,
            StatusCode::NOT_FOUND
        );

        // Only the lead changes the defaults.
        let form = [("immediate_min", "P2"), ("digest", "weekly")];
        assert_eq!(
            user.submit(&settings, &defaults, &form).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            op.submit(&settings, &defaults, &form).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            other.submit("/account", &defaults, &form).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            lead.post(&defaults, &form).await.status,
            StatusCode::FORBIDDEN
        );
        let bad = lead
            .submit(
                &settings,
                &defaults,
                &[("immediate_min", "default"), ("digest", "hourly")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.contains("Immediate alerts:"), "{}", bad.body);
        assert!(bad.contains("Digest:"));
        let d = app.store.alert_defaults(a).await.unwrap();
        assert_eq!(
            (d.immediate_min, d.digest),
            (Some(Priority::P1), DigestFrequency::Daily)
        );
        let ok = lead.submit(&settings, &defaults, &form).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let d = app.store.alert_defaults(a).await.unwrap();
        assert_eq!(
            (d.immediate_min, d.digest),
            (Some(Priority::P2), DigestFrequency::Weekly)
        );
        // Users who follow the defaults now see them.
        let mine = user.get("/account/alerts").await;
        assert!(mine.contains("P1 and P2"), "{}", mine.body);
        assert!(mine.contains("Weekly, on Mondays"));

        // Webhooks: validation, the secret shown once, on/off, delete.
        let bad = lead
            .submit(
                &settings,
                &hooks,
                &[
                    ("name", "SOC"),
                    ("url", "http://hooks.example.org/x"),
                    ("format", "teams"),
                    ("min_priority", "P1"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.contains("Address (URL): must start with https://"),
            "{}",
            bad.body
        );
        let hook = [
            ("name", "SOC Teams channel"),
            (
                "url",
                "https://example.webhook.office.com/webhookb2/secret-part",
            ),
            ("format", "teams"),
            ("min_priority", "P2"),
        ];
        for c in [&user, &op] {
            assert_eq!(
                c.submit(&settings, &hooks, &hook).await.status,
                StatusCode::FORBIDDEN
            );
        }
        assert_eq!(
            other.submit("/account", &hooks, &hook).await.status,
            StatusCode::NOT_FOUND
        );
        let added = lead.submit(&settings, &hooks, &hook).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
        let secret = text_until(&added.body, "data-testid=\"webhook-secret\">", '<')
            .expect("the secret is shown");
        let stored = app.store.webhooks(a).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].secret, secret);
        let wid = stored[0].id;
        let again = lead.get(&settings).await;
        assert!(!again.contains(&secret), "the secret is shown once");
        assert!(
            again.contains("secret-part"),
            "the lead sees the whole address"
        );
        let seen = user.get(&settings).await;
        assert!(seen.contains("https://example.webhook.office.com/…"));
        assert!(!seen.contains("secret-part"), "others see the host only");
        let dup = lead.submit(&settings, &hooks, &hook).await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
        assert!(dup.contains("Name: a webhook of this name exists already"));

        let off = format!("/orgs/{a}/alerts/webhooks/{wid}/disable");
        let del = format!("/orgs/{a}/alerts/webhooks/{wid}/delete");
        assert_eq!(
            op.submit(&settings, &off, &[]).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            user.submit(&settings, &off, &[]).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            other.submit("/account", &off, &[]).await.status,
            StatusCode::NOT_FOUND
        );
        // Org B's lead cannot reach A's webhook through B's address either.
        let through_b = format!("/orgs/{}/alerts/webhooks/{wid}/disable", w.b.id);
        assert_eq!(
            other.submit("/account", &through_b, &[]).await.status,
            StatusCode::NOT_FOUND
        );
        assert!(app.store.webhook(wid).await.unwrap().active);
        assert_eq!(
            lead.submit(&settings, &off, &[]).await.status,
            StatusCode::SEE_OTHER
        );
        assert!(!app.store.webhook(wid).await.unwrap().active);
        assert_eq!(
            op.submit(&settings, &del, &[]).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            lead.submit(&settings, &del, &[]).await.status,
            StatusCode::SEE_OTHER
        );
        assert!(app.store.webhooks(a).await.unwrap().is_empty());

        let actions = audit_actions(&app).await;
        for a in [
            "alerts.defaults",
            "webhook.add",
            "webhook.disable",
            "webhook.delete",
        ] {
            assert!(actions.contains(&a.to_string()), "{a} in {actions:?}");
        }
    }
}

#[tokio::test]
async fn alert_history_is_scoped_to_the_member() {
    for app in apps().await {
        let w = world(&app).await;
        let id_a = raise(&app, log4shell(&w.a, "t:a")).await;
        let id_b = raise(&app, log4shell(&w.b, "t:b")).await;
        let user = signed_in(&app, &w.user_a).await;

        let list = user.get("/alerts").await;
        assert_eq!(list.status, StatusCode::OK, "{}", app.backend());
        assert!(list.contains("Log4Shell affects Medway Council"));
        assert!(!list.contains("Kent County Council"));
        assert!(list.contains("TLP:AMBER"));
        assert!(list.contains("2 pending"), "{}", list.body);
        assert!(list.contains(&format!("href=\"/alerts/{id_a}\"")));

        let detail = user.get(&format!("/alerts/{id_a}")).await;
        assert_eq!(detail.status, StatusCode::OK);
        for text in [
            "Apache Log4j2 on Payroll server is exploited",
            "P1 because it is being exploited and the system is internet-facing",
            "Added to CISA&#39;s Known Exploited Vulnerabilities catalogue",
            "Update Log4j to 2.17.1",
            "https://www.cisa.gov/known-exploited-vulnerabilities-catalog",
            "user@medway.gov.uk",
            "lead@medway.gov.uk",
        ] {
            assert!(detail.contains(text), "{text}: {}", detail.body);
        }
        assert!(detail.contains(&format!("href=\"/orgs/{}/exposure/41\"", w.a.id)));

        // Another member's alert, history or filter: not there.
        for path in [
            format!("/alerts/{id_b}"),
            format!("/orgs/{}/alerts/history", w.b.id),
            format!("/alerts?org={}", w.b.id),
            "/alerts/999999".to_string(),
        ] {
            assert_eq!(
                user.get(&path).await.status,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }

        // Operators choose any organisation.
        let op = signed_in(&app, &w.op).await;
        let picker = op.get("/alerts").await;
        assert_eq!(picker.status, StatusCode::OK);
        assert!(picker.contains("Choose an organisation"));
        let b_list = op.get(&format!("/alerts?org={}", w.b.id)).await;
        assert!(b_list.contains("Log4Shell affects Kent County Council"));
        let b_list = op.get(&format!("/orgs/{}/alerts/history", w.b.id)).await;
        assert!(b_list.contains("Log4Shell affects Kent County Council"));
        assert_eq!(
            op.get(&format!("/alerts/{id_b}")).await.status,
            StatusCode::OK
        );
        assert_eq!(
            op.get("/alerts?org=abc").await.status,
            StatusCode::BAD_REQUEST
        );
    }
}

#[tokio::test]
async fn a_red_alert_is_for_its_recipients_only() {
    for app in apps().await {
        let w = world(&app).await;
        // The user pauses alerts, so only the lead is sent the RED one.
        app.store
            .set_subscription(
                w.user_a.id,
                &openwarp_matching::alert::UserChoices {
                    paused: true,
                    ..Default::default()
                },
                now(),
            )
            .await
            .expect("pause");
        let mut red = log4shell(&w.a, "t:red");
        red.tlp = TlpLabel::Red;
        red.title = "Named recipients only".into();
        let id = raise(&app, red).await;
        let amber = raise(&app, log4shell(&w.a, "t:amber")).await;

        let lead = signed_in(&app, &w.lead_a).await;
        assert_eq!(
            lead.get(&format!("/alerts/{id}")).await.status,
            StatusCode::OK
        );
        assert!(lead.get("/alerts").await.contains("Named recipients only"));

        let user = signed_in(&app, &w.user_a).await;
        let list = user.get("/alerts").await;
        assert!(!list.contains("Named recipients only"), "{}", list.body);
        assert!(list.contains(&format!("href=\"/alerts/{amber}\"")));
        assert_eq!(
            user.get(&format!("/alerts/{id}")).await.status,
            StatusCode::NOT_FOUND,
            "{}",
            app.backend()
        );
        let token = app.token(&w.user_a).await;
        let (status, _) = api(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/alerts/{id}"),
            &token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = api(&app, reqwest::Method::GET, "/api/v1/alerts", &token, None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!body.to_string().contains("Named recipients only"));

        // Operators see it.
        let op = signed_in(&app, &w.op).await;
        assert_eq!(
            op.get(&format!("/alerts/{id}")).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn operators_see_and_retry_dead_letters() {
    for app in apps().await {
        let w = world(&app).await;
        let alert = raise(&app, log4shell(&w.a, "t:dead")).await;
        let dead = kill_deliveries(&app).await;
        assert_eq!(dead.len(), 2, "{}", app.backend());
        let id = dead[0];

        let op = signed_in(&app, &w.op).await;
        let page = op.get("/deliveries").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.contains("Dead letters (2)"), "{}", page.body);
        assert!(page.contains("550 5.1.1 mailbox unavailable"));
        assert!(page.contains(&format!("action=\"/deliveries/{id}/retry\"")));
        assert_eq!(
            op.get("/deliveries?status=pending").await.status,
            StatusCode::OK
        );
        assert_eq!(
            op.get("/deliveries?status=lost").await.status,
            StatusCode::BAD_REQUEST
        );
        let detail = op.get(&format!("/alerts/{alert}")).await;
        assert!(detail.contains("Failed (dead letter)"));

        // Members: the operator page is not for them (403, as for other operator pages).
        let lead = signed_in(&app, &w.lead_a).await;
        assert_eq!(lead.get("/deliveries").await.status, StatusCode::FORBIDDEN);
        let retry = format!("/deliveries/{id}/retry");
        assert_eq!(
            lead.submit("/account", &retry, &[]).await.status,
            StatusCode::FORBIDDEN
        );
        // No CSRF token: refused, nothing changed.
        assert_eq!(op.post(&retry, &[]).await.status, StatusCode::FORBIDDEN);
        let row = app.store.delivery(id).await.unwrap().unwrap();
        assert_eq!(row.status, "dead");

        let done = op.submit("/deliveries", &retry, &[]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let row = app.store.delivery(id).await.unwrap().unwrap();
        assert_eq!((row.status.as_str(), row.attempts), ("pending", 0));
        assert!(audit_actions(&app).await.contains(&"delivery.retry".into()));
        let page = op
            .get("/deliveries?status=dead&notice=delivery_retried")
            .await;
        assert!(page.contains("Dead letters (1)"));
        assert!(page.contains("back in the queue"));

        // A sent delivery has nothing to retry.
        let t = now();
        let jobs = app
            .store
            .claim_deliveries("test", t, Duration::seconds(60), 10)
            .await
            .unwrap();
        assert_eq!(jobs.len(), 1);
        app.store.delivery_sent(jobs[0].id, t).await.unwrap();
        let sent = format!("/deliveries/{}/retry", jobs[0].id);
        assert_eq!(
            op.submit("/deliveries", &sent, &[]).await.status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            op.submit("/deliveries", "/deliveries/999999/retry", &[])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
}

fn unsubscribe_path(secret: &str, user: UserId) -> String {
    let sig = crypto::sign(secret, &format!("unsubscribe:{user}"));
    format!("/unsubscribe?u={user}&s={sig}")
}

#[tokio::test]
async fn unsubscribe_links_are_signed_and_one_click() {
    for app in apps().await {
        let w = world(&app).await;
        let secret = app
            .store
            .instance_secret("link_signing", now())
            .await
            .unwrap();
        let path = unsubscribe_path(&secret, w.user_a.id);
        let visitor = app.client();

        // Reading the link (as mail scanners do) changes nothing.
        let page = visitor.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", app.backend());
        assert!(page.contains("u…@medway.gov.uk"), "{}", page.body);
        assert!(page.contains("<button type=\"submit\""));
        assert!(
            !app.store
                .subscription(w.user_a.id)
                .await
                .unwrap()
                .own
                .unsubscribed
        );

        // Tampered links: 400, and nobody is unsubscribed.
        let other_user = path.replace(&format!("u={}", w.user_a.id), &format!("u={}", w.lead_a.id));
        let truncated = &path[..path.len() - 3];
        for bad in [
            other_user.as_str(),
            truncated,
            "/unsubscribe?u=1",
            "/unsubscribe?u=x&s=y",
            "/unsubscribe",
        ] {
            let get = visitor.get(bad).await;
            assert_eq!(get.status, StatusCode::BAD_REQUEST, "GET {bad}");
            assert!(get.contains("this unsubscribe link is not valid"));
            let resp = visitor
                .http
                .post(app.url(bad))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("List-Unsubscribe=One-Click")
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "POST {bad}");
        }
        for u in [&w.user_a, &w.lead_a] {
            assert!(!app.store.subscription(u.id).await.unwrap().own.unsubscribed);
        }

        // RFC 8058: a mail client posts the link with no session and no CSRF token.
        let resp = app
            .client()
            .http
            .post(app.url(&path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("You have been unsubscribed")
        );
        assert!(
            app.store
                .subscription(w.user_a.id)
                .await
                .unwrap()
                .own
                .unsubscribed
        );
        assert!(
            !app.store
                .subscription(w.lead_a.id)
                .await
                .unwrap()
                .own
                .unsubscribed
        );
        assert!(
            audit_actions(&app)
                .await
                .contains(&"alerts.unsubscribe".into())
        );
        assert!(visitor.get(&path).await.contains("already unsubscribed"));

        // Saving other settings keeps the unsubscribe; the button undoes it.
        let c = signed_in(&app, &w.user_a).await;
        let page = c.get("/account/alerts").await;
        assert!(page.contains("You are unsubscribed"));
        let saved = c
            .submit(
                "/account/alerts",
                "/account/alerts",
                &[("immediate_min", "P3"), ("digest", "daily")],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        assert!(
            app.store
                .subscription(w.user_a.id)
                .await
                .unwrap()
                .own
                .unsubscribed
        );
        assert_eq!(
            c.post("/account/alerts/resubscribe", &[]).await.status,
            StatusCode::FORBIDDEN,
            "the button needs the form's token"
        );
        let back = c
            .submit("/account/alerts", "/account/alerts/resubscribe", &[])
            .await;
        assert_eq!(back.status, StatusCode::SEE_OTHER);
        let sub = app.store.subscription(w.user_a.id).await.unwrap();
        assert!(!sub.own.unsubscribed);
        assert_eq!(sub.own.immediate_min, Some(Some(Priority::P3)));
        assert!(
            audit_actions(&app)
                .await
                .contains(&"alerts.resubscribe".into())
        );
    }
}

#[tokio::test]
async fn the_alerts_api_keeps_the_same_rules() {
    for app in apps().await {
        let w = world(&app).await;
        let (a, b) = (w.a.id, w.b.id);
        let lead = app.token(&w.lead_a).await;
        let user = app.token(&w.user_a).await;
        let other = app.token(&w.lead_b).await;
        let op = app.token(&w.op).await;
        use reqwest::Method as M;

        // The caller's subscription.
        let (s, body) = api(&app, M::GET, "/api/v1/account/alerts", &user, None).await;
        assert_eq!(s, StatusCode::OK, "{}: {body}", app.backend());
        assert_eq!(body["own"]["immediate_min"], "default");
        assert_eq!(body["effective"]["immediate_min"], "P1");
        assert_eq!(body["organisation_defaults"]["digest"], "daily");
        let (s, body) = api(
            &app,
            M::PUT,
            "/api/v1/account/alerts",
            &user,
            Some(json!({"immediate_min": "P9", "filters": ["x".repeat(101)]})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, vec!["immediate_min", "filters"], "{body}");
        let (s, body) = api(
            &app,
            M::PUT,
            "/api/v1/account/alerts",
            &user,
            Some(json!({"immediate_min": "P3", "digest": "off", "filters": ["Fortinet"]})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["effective"]["immediate_min"], "P3");
        assert_eq!(body["effective"]["digest"], "off");
        assert_eq!(body["effective"]["filters"], json!(["fortinet"]));
        let (s, _) = api(&app, M::GET, "/api/v1/account/alerts", &op, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Organisation defaults.
        let path = format!("/api/v1/orgs/{a}/alert-defaults");
        let body = json!({"immediate_min": "P2", "digest": "weekly"});
        let (s, _) = api(&app, M::GET, &path, &other, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, got) = api(&app, M::GET, &path, &user, None).await;
        assert_eq!(
            (s, got["immediate_min"].as_str()),
            (StatusCode::OK, Some("P1"))
        );
        for (token, want) in [
            (&user, StatusCode::FORBIDDEN),
            (&op, StatusCode::FORBIDDEN),
            (&other, StatusCode::NOT_FOUND),
        ] {
            let (s, _) = api(&app, M::PUT, &path, token, Some(body.clone())).await;
            assert_eq!(s, want);
        }
        let (s, _) = api(
            &app,
            M::PUT,
            &path,
            &lead,
            Some(json!({"immediate_min": "default", "digest": "weekly"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, got) = api(&app, M::PUT, &path, &lead, Some(body)).await;
        assert_eq!(
            (s, got["digest"].as_str()),
            (StatusCode::OK, Some("weekly"))
        );

        // Webhooks.
        let hooks = format!("/api/v1/orgs/{a}/webhooks");
        let hook = json!({"name": "SIEM", "url": "https://siem.medway.gov.uk/in/tok3n", "min_priority": "P2"});
        for (token, want) in [
            (&user, StatusCode::FORBIDDEN),
            (&op, StatusCode::FORBIDDEN),
            (&other, StatusCode::NOT_FOUND),
        ] {
            let (s, _) = api(&app, M::POST, &hooks, token, Some(hook.clone())).await;
            assert_eq!(s, want);
        }
        let (s, body) = api(
            &app,
            M::POST,
            &hooks,
            &lead,
            Some(json!({"name": "", "url": "http://siem.example/", "format": "xml"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["fields"].as_array().unwrap().len(), 3, "{body}");
        let (s, created) = api(&app, M::POST, &hooks, &lead, Some(hook.clone())).await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        assert_eq!(created["webhook"]["format"], "json");
        let wid = created["webhook"]["id"].as_i64().unwrap();
        let secret = created["secret"].as_str().unwrap();
        assert_eq!(app.store.webhook(wid).await.unwrap().secret, secret);
        let (s, _) = api(&app, M::POST, &hooks, &lead, Some(hook)).await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (_, list) = api(&app, M::GET, &hooks, &user, None).await;
        assert_eq!(list[0]["url"], "https://siem.medway.gov.uk/…");
        assert!(!list.to_string().contains(secret));
        let (_, list) = api(&app, M::GET, &hooks, &lead, None).await;
        assert_eq!(list[0]["url"], "https://siem.medway.gov.uk/in/tok3n");
        let (s, _) = api(&app, M::GET, &hooks, &other, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let active = format!("{hooks}/{wid}/active");
        let (s, off) = api(&app, M::PUT, &active, &lead, Some(json!({"active": false}))).await;
        assert_eq!((s, off["active"].as_bool()), (StatusCode::OK, Some(false)));
        let one = format!("{hooks}/{wid}");
        let (s, _) = api(&app, M::DELETE, &one, &op, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = api(&app, M::DELETE, &one, &other, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = api(
            &app,
            M::DELETE,
            &format!("/api/v1/orgs/{b}/webhooks/{wid}"),
            &other,
            None,
        )
        .await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "B's lead cannot reach A's webhook"
        );
        let (s, _) = api(&app, M::DELETE, &one, &lead, None).await;
        assert_eq!(s, StatusCode::NO_CONTENT);

        // Alerts and deliveries. A's user now asks for P3 and worse at once;
        // the lead follows the new P2 default.
        let id_a = raise(&app, log4shell(&w.a, "api:a")).await;
        let id_b = raise(&app, log4shell(&w.b, "api:b")).await;
        let (s, list) = api(&app, M::GET, "/api/v1/alerts", &user, None).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["id"], id_a);
        assert_eq!(list[0]["tlp"], "TLP:AMBER");
        assert_eq!(
            list[0]["deliveries"]["pending"], 1,
            "only the lead: the user filtered on Fortinet"
        );
        for (path, token, want) in [
            (
                format!("/api/v1/alerts?org={b}"),
                &user,
                StatusCode::NOT_FOUND,
            ),
            (
                format!("/api/v1/alerts/{id_b}"),
                &user,
                StatusCode::NOT_FOUND,
            ),
            ("/api/v1/alerts".to_string(), &op, StatusCode::BAD_REQUEST),
            (format!("/api/v1/alerts?org={b}"), &op, StatusCode::OK),
            (format!("/api/v1/alerts/{id_b}"), &op, StatusCode::OK),
            (
                "/api/v1/alerts?limit=0".to_string(),
                &user,
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/v1/deliveries".to_string(),
                &lead,
                StatusCode::FORBIDDEN,
            ),
            (
                "/api/v1/deliveries?status=lost".to_string(),
                &op,
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let (s, body) = api(&app, M::GET, &path, token, None).await;
            assert_eq!(s, want, "{path}: {body}");
        }
        let (_, detail) = api(&app, M::GET, &format!("/api/v1/alerts/{id_a}"), &user, None).await;
        assert_eq!(detail["items"][0]["exposure_id"], 41);
        assert_eq!(detail["deliveries"][0]["recipient"], "lead@medway.gov.uk");
        assert!(
            detail["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/orgs/{a}/exposure/41"))
        );

        let dead = kill_deliveries(&app).await;
        assert_eq!(dead.len(), 2);
        let (s, list) = api(&app, M::GET, "/api/v1/deliveries?status=dead", &op, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list["counts"]["dead"], 2);
        assert_eq!(
            list["deliveries"][0]["last_error"],
            "550 5.1.1 mailbox unavailable"
        );
        let retry = format!("/api/v1/deliveries/{}/retry", dead[0]);
        let (s, _) = api(&app, M::POST, &retry, &lead, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, row) = api(&app, M::POST, &retry, &op, None).await;
        assert_eq!(
            (s, row["status"].as_str()),
            (StatusCode::OK, Some("pending"))
        );
        let (s, _) = api(&app, M::POST, "/api/v1/deliveries/999999/retry", &op, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let pending = app
            .store
            .deliveries(&DeliveryFilter {
                status: Some(DeliveryStatus::Pending),
                ..DeliveryFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(pending.len(), 1);

        let (_, doc) = api(&app, M::GET, "/api/v1/openapi.json", &op, None).await;
        for p in [
            "/api/v1/account/alerts",
            "/api/v1/orgs/{id}/alert-defaults",
            "/api/v1/orgs/{id}/webhooks/{wid}",
            "/api/v1/deliveries/{id}/retry",
        ] {
            assert!(doc["paths"][p].is_object(), "{p} documented");
        }
    }
}

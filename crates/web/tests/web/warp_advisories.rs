//! WARP advisories over real HTTP: the four-eyes rule, publication that
//! alerts each audience organisation once, visibility by audience, and
//! validation, through both the pages and the API.

use crate::support::call;
use crate::support::{Client, apps};
use openwarp_core::Role;
use openwarp_matching::inventory::ItemFields;
use openwarp_store::{AlertKind, DeliveryFilter, now};
use reqwest::StatusCode;
use serde_json::json;

fn fortios() -> ItemFields {
    ItemFields {
        name: "Remote access VPN".into(),
        vendor: Some("Fortinet".into()),
        product: Some("FortiOS".into()),
        version: Some("7.2.0".into()),
        internet_facing: true,
        ..ItemFields::default()
    }
    .validate()
    .expect("valid item")
}

fn the_form<'a>(audience: &'a str, products: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", "FortiOS SSL-VPN flaw exploited against councils"),
        (
            "summary",
            "Attackers are exploiting CVE-2024-21762.\r\nTwo councils report intrusions.",
        ),
        ("action", "Upgrade FortiOS to 7.4.3, or turn off SSL-VPN."),
        ("tlp", "amber"),
        ("priority", "P1"),
        ("audience", audience),
        ("products", products),
        ("cves", "CVE-2024-21762"),
        (
            "links",
            "Fortinet PSIRT https://www.fortiguard.com/psirt/FG-IR-24-015",
        ),
    ]
}

/// Create an advisory through the form; its id.
async fn write(client: &Client, form: &[(&str, &str)]) -> i64 {
    let page = client
        .submit("/warp-advisories/new", "/warp-advisories", form)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location.expect("redirect");
    location
        .strip_prefix("/warp-advisories/")
        .and_then(|l| l.split('?').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("unexpected redirect {location}"))
}

async fn step(
    client: &Client,
    id: i64,
    action: &str,
    form: &[(&str, &str)],
) -> crate::support::Page {
    client
        .submit(
            &format!("/warp-advisories/{id}"),
            &format!("/warp-advisories/{id}/{action}"),
            form,
        )
        .await
}

#[tokio::test]
async fn the_author_cannot_publish_and_a_second_operator_alerts_every_member_once() {
    for app in apps().await {
        let backend = app.backend();
        let kent = app.org("Kent County Council", "county", false).await;
        let medway = app.org("Medway Council", "unitary", true).await;
        app.user("lead@kent.gov.uk", Role::MemberLead, Some(kent.id))
            .await;
        app.user("it@kent.gov.uk", Role::MemberUser, Some(kent.id))
            .await;
        app.user("it@medway.gov.uk", Role::MemberUser, Some(medway.id))
            .await;
        app.user("author@warp.example", Role::Operator, None).await;
        app.user("reviewer@warp.example", Role::Operator, None)
            .await;
        let author = app.client().signed_in("author@warp.example").await;
        let reviewer = app.client().signed_in("reviewer@warp.example").await;

        let id = write(&author, &the_form("all", "")).await;
        let page = author
            .get(&format!("/warp-advisories/{id}?notice=created"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{backend}");
        assert!(page.contains("TLP:AMBER"));
        assert!(page.contains("The draft has been saved"));
        assert!(page.contains("Submit for review"));
        let listed = author.get("/warp-advisories?status=draft").await;
        assert!(listed.contains("FortiOS SSL-VPN flaw exploited against councils"));

        let page = step(&author, id, "submit", &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);

        // The author may not publish their own advisory: 403, saying why.
        let page = author.get(&format!("/warp-advisories/{id}")).await;
        assert!(!page.contains(">Publish</button>"), "{backend}");
        assert!(page.contains("Awaiting review by another operator"));
        let refused = step(&author, id, "publish", &[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{backend}");
        assert!(
            refused.contains("another operator must review it"),
            "{}",
            refused.body
        );
        assert!(
            app.store
                .alerts_for_org(kent.id, 10)
                .await
                .expect("alerts")
                .is_empty()
        );

        // A second operator sees who it would reach, and publishes.
        let page = reviewer.get(&format!("/warp-advisories/{id}")).await;
        assert!(page.contains("Who it would reach"), "{backend}");
        assert!(page.contains("Kent County Council") && page.contains("Medway Council"));
        let published = step(&reviewer, id, "publish", &[]).await;
        assert_eq!(
            published.status,
            StatusCode::SEE_OTHER,
            "{}",
            published.body
        );
        let page = reviewer.get(&format!("/warp-advisories/{id}")).await;
        assert!(page.contains("Who it reached"), "{backend}");
        assert!(page.contains("Withdraw"));

        // One alert per organisation, with a delivery per subscribed user.
        for (org, users) in [(kent.id, 2), (medway.id, 1)] {
            let alerts = app.store.alerts_for_org(org, 10).await.expect("alerts");
            assert_eq!(alerts.len(), 1, "{backend}");
            assert_eq!(alerts[0].kind, AlertKind::Warp);
            assert_eq!(alerts[0].warp_advisory_id, Some(id));
            let deliveries = app
                .store
                .deliveries(&DeliveryFilter {
                    alert_id: Some(alerts[0].id),
                    ..DeliveryFilter::default()
                })
                .await
                .expect("deliveries");
            assert_eq!(deliveries.len(), users, "{backend}");
        }

        // Publishing again changes nothing.
        let again = step(&reviewer, id, "publish", &[]).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{backend}");
        assert_eq!(
            app.store
                .alerts_for_org(kent.id, 10)
                .await
                .expect("a")
                .len(),
            1
        );

        // Audited.
        let log = app.store.audit_log(50, None).await.expect("audit");
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        for a in [
            "warp_advisory.create",
            "warp_advisory.submit",
            "warp_advisory.publish",
        ] {
            assert!(actions.contains(&a), "{a} in {actions:?}");
        }
        let publish = log
            .iter()
            .find(|e| e.action == "warp_advisory.publish")
            .expect("publish entry");
        assert_eq!(publish.actor, "reviewer@warp.example");

        // Members read it, with its TLP label, and find it in the advisory list.
        let member = app.client().signed_in("it@medway.gov.uk").await;
        let page = member.get(&format!("/warp-advisories/{id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{backend}");
        assert!(page.contains("TLP:AMBER"));
        assert!(!page.contains("Workflow"), "members see no workflow");
        let list = member.get("/advisories").await;
        assert!(list.contains("From your WARP"), "{backend}");
        assert!(list.contains(&format!("/warp-advisories/{id}")));

        // Withdrawn: still readable by members, marked withdrawn; listed no more.
        let page = step(&reviewer, id, "withdraw", &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = member.get(&format!("/warp-advisories/{id}")).await;
        assert!(
            page.contains("This advisory has been withdrawn"),
            "{backend}"
        );
        assert!(!member.get("/advisories").await.contains("From your WARP"));
    }
}

#[tokio::test]
async fn an_audience_limited_advisory_reaches_and_shows_only_its_audience() {
    for app in apps().await {
        let backend = app.backend();
        let kent = app.org("Kent County Council", "county", false).await;
        let surrey = app.org("Surrey County Council", "county", false).await;
        app.store
            .add_items(kent.id, &[fortios()], "manual", None, now())
            .await
            .expect("items");
        let kent_user = app
            .user("it@kent.gov.uk", Role::MemberUser, Some(kent.id))
            .await;
        let surrey_user = app
            .user("it@surrey.gov.uk", Role::MemberUser, Some(surrey.id))
            .await;
        let author = app.user("author@warp.example", Role::Operator, None).await;
        let reviewer = app
            .user("reviewer@warp.example", Role::Operator, None)
            .await;
        let (author, reviewer) = (app.token(&author).await, app.token(&reviewer).await);
        let (kent_token, surrey_token) =
            (app.token(&kent_user).await, app.token(&surrey_user).await);

        let body = json!({
            "title": "FortiOS SSL-VPN flaw exploited",
            "summary": "Attackers are exploiting CVE-2024-21762.",
            "action": "Upgrade FortiOS to 7.4.3.",
            "tlp": "TLP:AMBER+STRICT",
            "priority": "P1",
            "audience": "products",
            "products": ["fortinet:fortios"],
            "cves": ["CVE-2024-21762"],
            "links": [{"url": "https://www.fortiguard.com/psirt/FG-IR-24-015"}]
        });
        let (status, created) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/warp-advisories",
            &author,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {created}");
        assert_eq!(created["status"], "draft");
        assert_eq!(created["tlp_label"], "TLP:AMBER+STRICT");
        assert_eq!(created["links"][0]["label"], "www.fortiguard.com");
        let id = created["id"].as_i64().expect("id");

        // Edits by the author keep it a draft; submission sends it for review.
        let mut edited = body.clone();
        edited["title"] = json!("FortiOS SSL-VPN flaw exploited in the wild");
        let (status, v) = call(
            &app,
            reqwest::Method::PUT,
            &format!("/api/v1/warp-advisories/{id}"),
            &author,
            Some(edited),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let (status, v) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/warp-advisories/{id}/submit"),
            &author,
            None,
        )
        .await;
        assert_eq!(
            (status, v["status"].clone()),
            (StatusCode::OK, json!("in_review"))
        );

        // Members cannot read it before publication.
        let (status, _) = call(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/warp-advisories/{id}"),
            &kent_token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");

        let (status, v) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/warp-advisories/{id}/publish"),
            &author,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        assert!(
            v["message"]
                .as_str()
                .unwrap_or("")
                .contains("another operator"),
            "{v}"
        );
        let (status, v) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/warp-advisories/{id}/publish"),
            &reviewer,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {v}");
        assert_eq!(v["organisations"], 1);
        assert_eq!(v["alerts"], 1);
        assert_eq!(v["deliveries"], 1);
        assert_eq!(v["advisory"]["status"], "published");

        // Kent (whose inventory lists FortiOS) was alerted; Surrey was not.
        let kent_alerts = app.store.alerts_for_org(kent.id, 10).await.expect("kent");
        assert_eq!(kent_alerts.len(), 1, "{backend}");
        assert!(kent_alerts[0].content.reason.contains("fortinet:fortios"));
        assert!(
            app.store
                .alerts_for_org(surrey.id, 10)
                .await
                .expect("s")
                .is_empty()
        );
        let deliveries = app
            .store
            .deliveries(&DeliveryFilter {
                org: Some(kent.id),
                ..DeliveryFilter::default()
            })
            .await
            .expect("deliveries");
        assert_eq!(deliveries.len(), 1);
        assert_eq!(deliveries[0].recipient, "it@kent.gov.uk");

        // Kent reads it (without the operators' fields); Surrey gets 404.
        let (status, v) = call(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/warp-advisories/{id}"),
            &kent_token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            v.get("author").is_none() && v.get("reached").is_none(),
            "{v}"
        );
        let (status, v) = call(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/warp-advisories/{id}"),
            &surrey_token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: {v}");
        let (_, list) = call(
            &app,
            reqwest::Method::GET,
            "/api/v1/warp-advisories",
            &surrey_token,
            None,
        )
        .await;
        assert_eq!(list, json!([]), "{backend}");
        let (_, list) = call(
            &app,
            reqwest::Method::GET,
            "/api/v1/warp-advisories",
            &kent_token,
            None,
        )
        .await;
        assert_eq!(list.as_array().map(Vec::len), Some(1));
        let surrey_page = app
            .client()
            .signed_in("it@surrey.gov.uk")
            .await
            .get(&format!("/warp-advisories/{id}"))
            .await;
        assert_eq!(surrey_page.status, StatusCode::NOT_FOUND, "{backend}");

        // Operators see whom it reached.
        let (_, v) = call(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/warp-advisories/{id}"),
            &reviewer,
            None,
        )
        .await;
        assert_eq!(v["reached"][0]["org_name"], "Kent County Council", "{v}");
        assert_eq!(v["reached"][0]["deliveries"], 1);
        let (status, v) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/warp-advisories/{id}/withdraw"),
            &reviewer,
            None,
        )
        .await;
        assert_eq!(
            (status, v["status"].clone()),
            (StatusCode::OK, json!("withdrawn"))
        );
    }
}

#[tokio::test]
async fn members_cannot_write_or_review_advisories() {
    for app in apps().await {
        let backend = app.backend();
        let kent = app.org("Kent County Council", "county", false).await;
        let lead = app
            .user("lead@kent.gov.uk", Role::MemberLead, Some(kent.id))
            .await;
        let op = app.user("author@warp.example", Role::Operator, None).await;
        let op_token = app.token(&op).await;
        let lead_token = app.token(&lead).await;
        let (status, v) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/warp-advisories",
            &op_token,
            Some(json!({
                "title": "Draft", "summary": "S", "action": "A",
                "tlp": "green", "priority": "P3", "audience": "all"
            })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        let id = v["id"].as_i64().expect("id");

        let member = app.client().signed_in("lead@kent.gov.uk").await;
        assert_eq!(
            member.get("/warp-advisories/new").await.status,
            StatusCode::FORBIDDEN,
            "{backend}"
        );
        let page = member
            .submit("/warp-advisories", "/warp-advisories", &the_form("all", ""))
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{backend}");
        assert!(page.contains("only WARP operators"), "{}", page.body);
        // A draft is not there for members at all.
        assert_eq!(
            member.get(&format!("/warp-advisories/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/warp-advisories",
            &lead_token,
            Some(json!({
                "title": "Mine", "summary": "S", "action": "A",
                "tlp": "green", "priority": "P3", "audience": "all"
            })),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        for action in ["submit", "publish", "withdraw"] {
            let (status, _) = call(
                &app,
                reqwest::Method::POST,
                &format!("/api/v1/warp-advisories/{id}/{action}"),
                &lead_token,
                None,
            )
            .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend} {action}");
        }
        let (_, list) = call(
            &app,
            reqwest::Method::GET,
            "/api/v1/warp-advisories?status=draft",
            &lead_token,
            None,
        )
        .await;
        assert_eq!(list, json!([]));
        let (status, _) = call(
            &app,
            reqwest::Method::GET,
            "/api/v1/warp-advisories?status=live",
            &op_token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(app.store.warp_advisory(id).await.expect("get").is_some());
    }
}

#[tokio::test]
async fn validation_errors_name_each_field() {
    for app in apps().await {
        let backend = app.backend();
        let op = app.user("author@warp.example", Role::Operator, None).await;
        app.user("reviewer@warp.example", Role::Operator, None)
            .await;
        let token = app.token(&op).await;
        let (status, v) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/warp-advisories",
            &token,
            Some(json!({
                "title": " ", "summary": "S", "action": "A",
                "tlp": "purple", "priority": "P7", "audience": "products",
                "products": ["just a name"], "cves": ["CVE-24-1"],
                "links": [{"url": "javascript:alert(1)"}]
            })),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {v}");
        let fields: Vec<&str> = v["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .filter_map(|f| f["field"].as_str())
            .collect();
        assert_eq!(
            fields,
            ["title", "tlp", "priority", "products", "cves", "links"],
            "{v}"
        );
        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/warp-advisories",
            &token,
            Some(json!({"title": "x", "unknown": 1})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        // The form shows each problem beside its field and keeps the input.
        let author = app.client().signed_in("author@warp.example").await;
        let mut form = the_form("products", "");
        form.retain(|(k, _)| *k != "title");
        form.push(("title", ""));
        let page = author
            .submit("/warp-advisories/new", "/warp-advisories", &form)
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(page.contains("There is a problem"));
        assert!(page.contains("Title: is required"), "{}", page.body);
        assert!(page.contains("Products: name at least one product"));
        assert!(page.contains("Upgrade FortiOS to 7.4.3, or turn off SSL-VPN."));
        assert!(
            app.store
                .warp_advisories(&Default::default())
                .await
                .expect("l")
                .is_empty()
        );

        // Asking for changes needs a note.
        let id = write(&author, &the_form("all", "")).await;
        step(&author, id, "submit", &[]).await;
        let reviewer = app.client().signed_in("reviewer@warp.example").await;
        let page = step(&reviewer, id, "request-changes", &[("note", "  ")]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(page.contains("What to change: say what the author should change"));
        let page = step(
            &reviewer,
            id,
            "request-changes",
            &[("note", "Name the fixed version.")],
        )
        .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = author.get(&format!("/warp-advisories/{id}")).await;
        assert!(
            page.contains("Changes requested by User reviewer"),
            "{}",
            page.body
        );
        assert!(page.contains("Name the fixed version."));
        // The author edits it back into shape; an edit in review would return it to draft.
        let page = author
            .submit(
                &format!("/warp-advisories/{id}/edit"),
                &format!("/warp-advisories/{id}/edit"),
                &the_form("all", ""),
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
}

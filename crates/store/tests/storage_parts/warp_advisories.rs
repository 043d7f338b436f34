//! WARP advisories on every backend: the review workflow with its
//! second-operator rule, the audience found through the inventory index,
//! publication that raises one alert per audience organisation (never twice),
//! and what members may list.

use super::{draft, t0, user};
use chrono::Duration;
use openwarp_core::membership::OrganisationInput;
use openwarp_core::warp_advisory::{
    Audience, LinkInput, WarpAdvisoryDraft, WarpAdvisoryInput, WarpStatus,
};
use openwarp_core::{OrgId, Role, TlpLabel, UserId};
use openwarp_matching::inventory::ItemFields;
use openwarp_matching::priority::Priority;
use openwarp_store::testing::all_backends;
use openwarp_store::{AlertKind, DeliveryFilter, Store, StoreError, WarpAdvisoryFilter};

fn advisory(audience: &str, products: &[&str], tlp: &str) -> WarpAdvisoryDraft {
    WarpAdvisoryInput {
        title: "FortiOS SSL-VPN flaw exploited in UK councils".into(),
        summary:
            "Attackers are exploiting a FortiOS SSL-VPN flaw.\nTwo councils report intrusions."
                .into(),
        action: "Upgrade FortiOS to 7.4.3 or disable SSL-VPN today.".into(),
        tlp: tlp.into(),
        priority: "P1".into(),
        audience: audience.into(),
        products: products.iter().map(|p| p.to_string()).collect(),
        cves: vec!["CVE-2024-21762".into()],
        links: vec![LinkInput::from_line(
            "Fortinet PSIRT https://www.fortiguard.com/psirt/FG-IR-24-015",
        )],
    }
    .validate()
    .expect("valid advisory")
}

fn item(vendor: &str, product: &str) -> ItemFields {
    ItemFields {
        name: format!("{vendor} {product}"),
        vendor: Some(vendor.into()),
        product: Some(product.into()),
        version: Some("7.2.0".into()),
        ..ItemFields::default()
    }
    .validate()
    .expect("valid item")
}

fn cpe_item(cpe: &str) -> ItemFields {
    ItemFields {
        cpe: Some(cpe.into()),
        ..ItemFields::default()
    }
    .validate()
    .expect("valid item")
}

async fn org(s: &Store, name: &str) -> OrgId {
    s.create_org(&draft(name, "unitary"), t0())
        .await
        .expect("org")
        .id
}

fn conflict<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str) {
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{what}: {r:?}");
}

#[tokio::test]
async fn the_workflow_needs_a_second_operator_and_never_alerts_twice() {
    for db in all_backends().await {
        let s = &db.store;
        let name = db.backend().name();
        let author = user(s, "author@warp.example", Role::Operator, None)
            .await
            .id;
        let reviewer = user(s, "reviewer@warp.example", Role::Operator, None)
            .await
            .id;
        let kent = org(s, "Kent County Council").await;
        let lead = user(s, "lead@kent.gov.uk", Role::MemberLead, Some(kent))
            .await
            .id;
        let officer = user(s, "it@kent.gov.uk", Role::MemberUser, Some(kent))
            .await
            .id;

        let a = s
            .create_warp_advisory(&advisory("all", &[], "amber"), author, t0())
            .await
            .expect("create");
        assert_eq!(a.status, WarpStatus::Draft, "{name}");
        assert_eq!(a.author_id, Some(author));
        assert_eq!(a.author_name.as_deref(), Some("author"));
        assert_eq!(a.created_at, t0());
        assert_eq!(a.draft.tlp, TlpLabel::Amber);
        assert_eq!(a.priority(), Priority::P1);
        assert_eq!(a.draft.cves, ["CVE-2024-21762"]);
        assert_eq!(a.draft.links[0].label, "Fortinet PSIRT");
        assert_eq!(
            s.warp_advisory(a.id).await.expect("get"),
            Some(a.clone()),
            "{name}: reads back as written"
        );

        // Only the author edits and submits; nobody publishes a draft.
        let t1 = t0() + Duration::minutes(1);
        let mut changed = a.draft.clone();
        changed.title = "FortiOS SSL-VPN flaw exploited".into();
        conflict(
            s.update_warp_advisory(a.id, &changed, reviewer, t1).await,
            "another operator edits",
        );
        conflict(
            s.submit_warp_advisory(a.id, reviewer, t1).await,
            "another submits",
        );
        conflict(
            s.publish_warp_advisory(a.id, reviewer, t1).await,
            "publish a draft",
        );
        let a = s
            .update_warp_advisory(a.id, &changed, author, t1)
            .await
            .expect("author edits");
        assert_eq!(a.draft.title, "FortiOS SSL-VPN flaw exploited");
        assert_eq!(a.updated_at, t1);
        let a = s
            .submit_warp_advisory(a.id, author, t1)
            .await
            .expect("submit");
        assert_eq!(a.status, WarpStatus::InReview);
        assert_eq!(a.submitted_at, Some(t1));

        // The author may not review their own advisory.
        conflict(
            s.publish_warp_advisory(a.id, author, t1).await,
            "author publishes",
        );
        conflict(
            s.request_warp_advisory_changes(a.id, author, "fine by me", t1)
                .await,
            "author reviews",
        );
        assert!(s.alerts_for_org(kent, 10).await.expect("alerts").is_empty());

        // The reviewer asks for changes; the author edits and resubmits.
        let t2 = t1 + Duration::minutes(1);
        let a = s
            .request_warp_advisory_changes(a.id, reviewer, "Name the fixed version.", t2)
            .await
            .expect("changes");
        assert_eq!(a.status, WarpStatus::Draft);
        assert_eq!(a.review_note.as_deref(), Some("Name the fixed version."));
        assert_eq!(a.reviewer_id, Some(reviewer));
        assert_eq!(a.submitted_at, None);
        s.submit_warp_advisory(a.id, author, t2)
            .await
            .expect("submit");
        // Any edit in review returns it to draft.
        let a = s
            .update_warp_advisory(a.id, &changed, author, t2)
            .await
            .expect("edit in review");
        assert_eq!(a.status, WarpStatus::Draft, "{name}");
        assert_eq!(a.submitted_at, None);
        let a = s
            .submit_warp_advisory(a.id, author, t2)
            .await
            .expect("submit");

        // A second operator publishes: one alert for Kent, one delivery per user.
        let t3 = t2 + Duration::minutes(1);
        let p = s
            .publish_warp_advisory(a.id, reviewer, t3)
            .await
            .expect("publish");
        assert_eq!(p.advisory.status, WarpStatus::Published);
        assert_eq!(p.advisory.published_at, Some(t3));
        assert_eq!(p.advisory.reviewer_id, Some(reviewer));
        assert_eq!(p.advisory.reviewer_name.as_deref(), Some("reviewer"));
        assert_eq!((p.orgs, p.alerts, p.deliveries), (1, 1, 2), "{name}");
        let alerts = s.alerts_for_org(kent, 10).await.expect("alerts");
        assert_eq!(alerts.len(), 1);
        let alert = &alerts[0];
        assert_eq!(alert.kind, AlertKind::Warp);
        assert_eq!(alert.warp_advisory_id, Some(a.id));
        assert_eq!(alert.priority, Priority::P1);
        assert_eq!(alert.tlp, TlpLabel::Amber);
        assert_eq!(alert.title, "FortiOS SSL-VPN flaw exploited");
        assert_eq!(alert.content.path, format!("/warp-advisories/{}", a.id));
        assert_eq!(
            alert.content.action.as_deref(),
            Some("Upgrade FortiOS to 7.4.3 or disable SSL-VPN today.")
        );
        assert!(
            alert.content.reason.contains("every member"),
            "{}",
            alert.content.reason
        );
        assert_eq!(alert.content.due, Some(t3.date_naive() + Duration::days(2)));
        let sources: Vec<&str> = alert
            .content
            .sources
            .iter()
            .map(|l| l.url.as_str())
            .collect();
        assert_eq!(
            sources,
            [
                "https://www.fortiguard.com/psirt/FG-IR-24-015",
                "/advisories/CVE-2024-21762"
            ]
        );
        let deliveries = s
            .deliveries(&DeliveryFilter {
                alert_id: Some(alert.id),
                ..DeliveryFilter::default()
            })
            .await
            .expect("deliveries");
        let mut to: Vec<String> = deliveries.iter().map(|d| d.recipient.clone()).collect();
        to.sort();
        assert_eq!(to, ["it@kent.gov.uk", "lead@kent.gov.uk"], "{name}");
        let _ = (lead, officer);

        // Publishing again is refused and alerts nobody.
        let t4 = t3 + Duration::minutes(1);
        conflict(
            s.publish_warp_advisory(a.id, reviewer, t4).await,
            "publish twice",
        );
        conflict(
            s.update_warp_advisory(a.id, &changed, author, t4).await,
            "edit when published",
        );
        assert_eq!(s.alerts_for_org(kent, 10).await.expect("alerts").len(), 1);
        assert_eq!(
            s.deliveries(&DeliveryFilter::default())
                .await
                .expect("all")
                .len(),
            2
        );
        let reach = s.warp_advisory_reach(a.id).await.expect("reach");
        assert_eq!(reach.len(), 1);
        assert_eq!(reach[0].org_name, "Kent County Council");
        assert_eq!((reach[0].deliveries, reach[0].sent), (2, 0));

        // Withdrawn once; then nothing more.
        let w = s.withdraw_warp_advisory(a.id, t4).await.expect("withdraw");
        assert_eq!(w.status, WarpStatus::Withdrawn);
        conflict(s.withdraw_warp_advisory(a.id, t4).await, "withdraw twice");
        conflict(
            s.publish_warp_advisory(a.id, reviewer, t4).await,
            "publish withdrawn",
        );
        // Those it reached are told, the same way, once.
        let alerts = s.alerts_for_org(kent, 10).await.expect("alerts");
        assert_eq!(alerts.len(), 2, "{name}");
        assert!(
            alerts[0].title.starts_with("Withdrawn: "),
            "{}",
            alerts[0].title
        );
        assert_eq!(alerts[0].warp_advisory_id, Some(a.id));
        let notices = s
            .deliveries(&DeliveryFilter {
                alert_id: Some(alerts[0].id),
                ..DeliveryFilter::default()
            })
            .await
            .expect("notices");
        let mut to: Vec<&str> = notices.iter().map(|d| d.recipient.as_str()).collect();
        to.sort_unstable();
        assert_eq!(to, ["it@kent.gov.uk", "lead@kent.gov.uk"], "{name}");
        assert_eq!(s.warp_advisory_reach(a.id).await.expect("reach").len(), 1);

        assert!(matches!(
            s.submit_warp_advisory(9999, author, t4).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(s.warp_advisory(9999).await.expect("get"), None);
        let counts = s.warp_advisory_counts().await.expect("counts");
        assert_eq!(counts.get("withdrawn"), Some(&1));
    }
}

#[tokio::test]
async fn the_product_audience_is_found_through_the_inventory_index() {
    for db in all_backends().await {
        let s = &db.store;
        let name = db.backend().name();
        let author = user(s, "author@warp.example", Role::Operator, None)
            .await
            .id;
        let reviewer = user(s, "reviewer@warp.example", Role::Operator, None)
            .await
            .id;
        // Kent lists FortiOS as text, Medway as a CPE name, Surrey runs
        // something else, and Sussex (suspended) is out of the audience.
        let kent = org(s, "Kent County Council").await;
        let medway = org(s, "Medway Council").await;
        let surrey = org(s, "Surrey County Council").await;
        let sussex = s
            .create_org(
                &OrganisationInput {
                    name: "Sussex Council".into(),
                    council_type: "unitary".into(),
                    status: "suspended".into(),
                    renewal_date: "2027-04-01".into(),
                    ..OrganisationInput::default()
                }
                .validate()
                .expect("draft"),
                t0(),
            )
            .await
            .expect("org")
            .id;
        s.add_items(kent, &[item("Fortinet", "FortiOS")], "manual", None, t0())
            .await
            .expect("kent items");
        s.add_items(
            medway,
            &[cpe_item("cpe:2.3:o:fortinet:fortios:7.2.0:*:*:*:*:*:*:*")],
            "manual",
            None,
            t0(),
        )
        .await
        .expect("medway items");
        s.add_items(
            surrey,
            &[item("Microsoft", "Exchange Server")],
            "manual",
            None,
            t0(),
        )
        .await
        .expect("surrey items");
        s.add_items(sussex, &[item("Fortinet", "FortiOS")], "manual", None, t0())
            .await
            .expect("sussex items");
        let kent_user = user(s, "it@kent.gov.uk", Role::MemberUser, Some(kent))
            .await
            .id;
        user(s, "it@medway.gov.uk", Role::MemberUser, Some(medway)).await;
        user(s, "it@surrey.gov.uk", Role::MemberUser, Some(surrey)).await;

        let d = advisory(
            "products",
            &["cpe:2.3:o:fortinet:fortios", "Ivanti:Connect Secure"],
            "green",
        );
        let audience = s.warp_audience(&d).await.expect("audience");
        let names: Vec<&str> = audience.iter().map(|o| o.org_name.as_str()).collect();
        assert_eq!(names, ["Kent County Council", "Medway Council"], "{name}");
        assert_eq!(
            audience[0].products,
            ["cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*"]
        );

        let a = s
            .create_warp_advisory(&d, author, t0())
            .await
            .expect("create");
        s.submit_warp_advisory(a.id, author, t0())
            .await
            .expect("submit");
        // Before publication no member sees it.
        for o in [kent, medway, surrey] {
            let seen = s
                .warp_advisories(&WarpAdvisoryFilter {
                    visible_to: Some(o),
                    ..WarpAdvisoryFilter::default()
                })
                .await
                .expect("list");
            assert!(seen.is_empty(), "{name}");
        }
        let p = s
            .publish_warp_advisory(a.id, reviewer, t0())
            .await
            .expect("publish");
        assert_eq!((p.orgs, p.alerts, p.deliveries), (2, 2, 2), "{name}");
        assert_eq!(s.alerts_for_org(kent, 10).await.expect("k").len(), 1);
        assert_eq!(s.alerts_for_org(medway, 10).await.expect("m").len(), 1);
        assert!(s.alerts_for_org(surrey, 10).await.expect("s").is_empty());
        assert!(s.alerts_for_org(sussex, 10).await.expect("x").is_empty());
        let kent_alert = &s.alerts_for_org(kent, 10).await.expect("k")[0];
        assert!(
            kent_alert
                .content
                .reason
                .contains("your inventory lists cpe:2.3:o:fortinet:fortios"),
            "{}",
            kent_alert.content.reason
        );
        let kent_deliveries = s
            .deliveries(&DeliveryFilter {
                org: Some(kent),
                ..DeliveryFilter::default()
            })
            .await
            .expect("deliveries");
        assert_eq!(kent_deliveries.len(), 1);
        assert_eq!(kent_deliveries[0].recipient, "it@kent.gov.uk");
        let _ = kent_user;

        // Visible to the audience, not to Surrey.
        assert!(s.warp_advisory_reached(a.id, kent).await.expect("reached"));
        assert!(
            !s.warp_advisory_reached(a.id, surrey)
                .await
                .expect("reached")
        );
        let listed = |o: OrgId| async move {
            s.warp_advisories(&WarpAdvisoryFilter {
                visible_to: Some(o),
                ..WarpAdvisoryFilter::default()
            })
            .await
            .expect("list")
            .len()
        };
        assert_eq!(listed(kent).await, 1, "{name}");
        assert_eq!(listed(medway).await, 1);
        assert_eq!(listed(surrey).await, 0, "{name}: not in the audience");
        let reach: Vec<String> = s
            .warp_advisory_reach(a.id)
            .await
            .expect("reach")
            .into_iter()
            .map(|r| r.org_name)
            .collect();
        assert_eq!(reach, ["Kent County Council", "Medway Council"]);
    }
}

#[tokio::test]
async fn all_members_see_an_advisory_to_all_unless_it_is_red() {
    for db in all_backends().await {
        let s = &db.store;
        let name = db.backend().name();
        let author = user(s, "author@warp.example", Role::Operator, None)
            .await
            .id;
        let reviewer = user(s, "reviewer@warp.example", Role::Operator, None)
            .await
            .id;
        let kent = org(s, "Kent County Council").await;
        let medway = org(s, "Medway Council").await;
        let publish = |d: WarpAdvisoryDraft| async move {
            let a = s
                .create_warp_advisory(&d, author, t0())
                .await
                .expect("create");
            s.submit_warp_advisory(a.id, author, t0())
                .await
                .expect("submit");
            s.publish_warp_advisory(a.id, reviewer, t0())
                .await
                .expect("publish")
        };
        let amber = publish(advisory("all", &[], "amber")).await;
        assert_eq!((amber.orgs, amber.alerts), (2, 2), "{name}");
        let red = publish(advisory("all", &[], "red")).await;
        assert_eq!(red.advisory.draft.audience, Audience::All);
        // A member that joins later reads the amber one, not the red one
        // (TLP:RED is for those it was sent to).
        let surrey = org(s, "Surrey County Council").await;
        let seen = |o: OrgId| async move {
            s.warp_advisories(&WarpAdvisoryFilter {
                visible_to: Some(o),
                ..WarpAdvisoryFilter::default()
            })
            .await
            .expect("list")
            .into_iter()
            .map(|a| a.draft.tlp)
            .collect::<Vec<_>>()
        };
        assert_eq!(seen(kent).await.len(), 2, "{name}");
        assert_eq!(seen(medway).await.len(), 2);
        assert_eq!(seen(surrey).await, [TlpLabel::Amber], "{name}");
        // Operators filter by status; a draft is listed for them only.
        let d = s
            .create_warp_advisory(&advisory("all", &[], "clear"), author, t0())
            .await
            .expect("draft");
        let drafts = s
            .warp_advisories(&WarpAdvisoryFilter {
                status: Some(WarpStatus::Draft),
                ..WarpAdvisoryFilter::default()
            })
            .await
            .expect("drafts");
        assert_eq!(drafts.iter().map(|a| a.id).collect::<Vec<_>>(), [d.id]);
        assert_eq!(seen(kent).await.len(), 2);
        let _: UserId = author;
    }
}

//! Two WARPs on loopback, each with its own database, peering over real
//! HTTP: B polls A's partners collection with the credential A issued it.
//! What A may share reaches B with its provenance and its TLP; what it may
//! not (AMBER+STRICT, an incident without consent, AMBER not released to B)
//! never does; a new client run resumes where the last stopped and stores
//! nothing twice; wrong credentials get a 401 and nothing. B's members see
//! it on "From partner WARPs", linked to their own exposures; operators
//! manage peers on their pages. On SQLite, and on PostgreSQL when available.

use crate::support::{TestApp, call};
use crate::taxii::{Seeded, Taxii, publish_advisory, reader, seed};
use openwarp_core::Role;
use openwarp_core::federation::PeerInput;
use openwarp_store::testing::{postgres, sqlite};
use openwarp_store::{Peer, now};
use reqwest::StatusCode;
use serde_json::json;

/// Two fresh WARPs per available backend.
async fn pairs() -> Vec<(TestApp, TestApp)> {
    let mut out = vec![(
        TestApp::start(sqlite().await).await,
        TestApp::start(sqlite().await).await,
    )];
    if let (Some(a), Some(b)) = (postgres().await, postgres().await) {
        out.push((TestApp::start(a).await, TestApp::start(b).await));
    }
    out
}

/// A's partners collection id, as B would find it.
async fn partners_collection(a: &TestApp, login: &str, token: &str) -> String {
    let t = Taxii {
        app: a,
        http: reqwest::Client::new(),
        token: token.to_owned(),
        login: Some(login.to_owned()),
    };
    let list = t.get("/taxii2/api/collections/").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.json);
    list.json["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["alias"] == "partners")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// On B: A as a peer to poll, with the credential A issued.
async fn peer_on_b(b: &TestApp, a: &TestApp, collection: &str, login: &str, secret: &str) -> Peer {
    let d = PeerInput {
        name: "South East WARP".into(),
        audience: "partner".into(),
        incoming_login: "sewarp".into(),
        api_root_url: a.url("/taxii2/api/"),
        collection_id: collection.into(),
        outgoing_login: login.into(),
        outgoing_secret: secret.into(),
        ..PeerInput::default()
    }
    .validate()
    .expect("valid peer");
    b.store.create_peer(&d, now()).await.expect("peer").0
}

/// One client run on B, as `serve`'s poller would make it.
async fn poll(b: &TestApp, instance: &str) -> usize {
    openwarp_federation::poll_due(&b.store, &openwarp_federation::http_client(), instance).await
}

/// Every (type, name) B holds from partners, all types.
async fn received(b: &TestApp) -> Vec<(String, String, String)> {
    b.store
        .partner_objects(
            &[
                "report",
                "vulnerability",
                "incident",
                "indicator",
                "note",
                "identity",
                "relationship",
            ],
            1000,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.stix_type, o.name, o.peer_name))
        .collect()
}

/// On B, a member exposed to Log4Shell (CVE-2021-44228).
async fn exposed_member_on_b(b: &TestApp) {
    crate::exposure::ingest(
        b,
        &[
            "advisory/tests/fixtures/cve5/cve5_log4shell_changes_and_cisa_adp_cvss.json",
            "store/tests/fixtures/kev_log4shell_entry.json",
        ],
    )
    .await;
    let org = b.org("Dorset Council", "unitary", true).await;
    let lead = b
        .user("lead@dorset.gov.uk", Role::MemberLead, Some(org.id))
        .await;
    let token = b.token(&lead).await;
    let (status, body) = call(
        b,
        reqwest::Method::POST,
        &format!("/api/v1/orgs/{}/inventory", org.id),
        token.as_str(),
        Some(json!({
            "name": "Payroll server",
            "vendor": "Apache Software Foundation",
            "product": "Apache Log4j2",
            "version": "2.14.1",
            "internet_facing": true
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn what_a_shares_reaches_b_with_provenance_once_and_nothing_more() {
    for (a, b) in pairs().await {
        let backend = a.backend();
        let Seeded {
            operator,
            reporter,
            shared_incident,
            ..
        } = seed(&a).await;
        let op2 = a.user("op3@warp.example", Role::Operator, None).await;
        publish_advisory(
            &a,
            "Log4Shell still exploited in council payroll systems",
            "green",
            "CVE-2021-44228",
            operator,
            op2.id,
        )
        .await;
        let (b_on_a, token) = reader(&a, "Wessex WARP", "wessex", "partner", false).await;
        let collection = partners_collection(&a, "wessex", &token).await;
        let a_on_b = peer_on_b(&b, &a, &collection, "wessex", &token).await;
        exposed_member_on_b(&b).await;

        assert_eq!(poll(&b, "instance-1").await, 1, "{backend}");
        let status = b.store.peer(a_on_b.id).await.unwrap().unwrap();
        assert_eq!(status.last_error, None, "{backend}");
        assert!(status.last_success_at.is_some() && status.added_after.is_some());
        assert!(status.last_received > 0);

        // What may leave arrived, with provenance; nothing else did.
        let got = received(&b).await;
        let names: Vec<&str> = got.iter().map(|(_, n, _)| n.as_str()).collect();
        for expected in [
            "FortiOS SSL-VPN flaw exploited",
            "Log4Shell still exploited in council payroll systems",
            "CVE-2021-44228",
            "Payroll phishing wave",
        ] {
            assert!(
                names.contains(&expected),
                "{backend}: {expected} in {names:?}"
            );
        }
        assert!(got.iter().all(|(_, _, peer)| peer == "South East WARP"));
        for never in ["STRICT", "UNCONSENTED", "Ivanti", "(full report)"] {
            assert!(
                !names.iter().any(|n| n.contains(never)),
                "{backend}: {never}: {names:?}"
            );
        }
        let reports = b.store.partner_objects(&["report"], 100).await.unwrap();
        let fortios = reports
            .iter()
            .find(|r| r.name == "FortiOS SSL-VPN flaw exploited")
            .unwrap();
        assert_eq!(fortios.collection, collection);
        assert_eq!(fortios.cves, ["CVE-2024-21762"]);
        assert_eq!(fortios.tlp, openwarp_core::TlpLabel::Green);
        assert!(fortios.received_at <= now());

        // B's member sees it, and the partner advisory on their exposure.
        let member = b.client().signed_in("lead@dorset.gov.uk").await;
        let page = member.get("/partners").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.contains("FortiOS SSL-VPN flaw exploited"),
            "{}",
            page.body
        );
        assert!(page.contains("from <strong>South East WARP</strong>"));
        assert!(page.contains("Payroll phishing wave"));
        assert!(
            page.contains("CVE-2021-44228, which your organisation is exposed to"),
            "{}",
            page.body
        );
        assert!(!page.contains("STRICT"));
        // …and on that exposure's own page.
        let href = crate::support::value_after(&page.body, "names <a href=\"").unwrap();
        let exposure = member.get(&href).await;
        assert_eq!(exposure.status, StatusCode::OK, "{href}");
        assert!(exposure.contains("From partner WARPs"), "{}", exposure.body);
        assert!(exposure.contains("Log4Shell still exploited in council payroll systems"));

        // A restart: a new client run resumes after what it has, so nothing
        // is served again or stored twice.
        let count = b.store.partner_object_count(a_on_b.id).await.unwrap();
        let served = a
            .store
            .served_log(Some(b_on_a.id), 5000)
            .await
            .unwrap()
            .len();
        assert!(served > 0);
        b.store.poll_peer_soon(a_on_b.id).await.unwrap();
        assert_eq!(poll(&b, "instance-2").await, 1);
        assert_eq!(
            b.store.partner_object_count(a_on_b.id).await.unwrap(),
            count
        );
        assert_eq!(
            a.store
                .served_log(Some(b_on_a.id), 5000)
                .await
                .unwrap()
                .len(),
            served,
            "{backend}: resumed from added_after, nothing re-sent"
        );
        assert_eq!(
            b.store
                .peer(a_on_b.id)
                .await
                .unwrap()
                .unwrap()
                .last_received,
            0
        );

        // Something new on A: only it comes over.
        publish_advisory(
            &a,
            "MOVEit Transfer SQL injection",
            "clear",
            "CVE-2023-34362",
            operator,
            op2.id,
        )
        .await;
        b.store.poll_peer_soon(a_on_b.id).await.unwrap();
        assert_eq!(poll(&b, "instance-3").await, 1);
        let after = b.store.partner_object_count(a_on_b.id).await.unwrap();
        assert_eq!(
            after,
            count + 2,
            "{backend}: the new report and its vulnerability"
        );
        let names = received(&b).await;
        assert_eq!(
            names
                .iter()
                .filter(|(_, n, _)| n == "MOVEit Transfer SQL injection")
                .count(),
            1
        );

        // The reporter on A takes back consent: B forgets the incident.
        a.store
            .set_federation_consent(
                &format!("incident:{shared_incident}"),
                false,
                reporter,
                now(),
            )
            .await
            .unwrap();
        b.store.poll_peer_soon(a_on_b.id).await.unwrap();
        assert_eq!(poll(&b, "instance-4").await, 1);
        let names = received(&b).await;
        assert!(
            !names
                .iter()
                .any(|(t, n, _)| t == "incident" || n.contains("payroll-login")),
            "{backend}: {names:?}"
        );
        assert!(
            names
                .iter()
                .any(|(_, n, _)| n == "FortiOS SSL-VPN flaw exploited")
        );

        // Operators' pages on B show the peer's status; A's shows what was sent.
        b.user("op@wessex.example", Role::Operator, None).await;
        let b_ops = b.client().signed_in("op@wessex.example").await;
        let fed = b_ops.get("/federation").await;
        assert_eq!(fed.status, StatusCode::OK);
        assert!(fed.contains("South East WARP"));
        assert!(fed.contains("OK"));
        let a_ops = a.client().signed_in("op1@warp.example").await;
        let sent = a_ops.get(&format!("/federation/peers/{}", b_on_a.id)).await;
        assert_eq!(sent.status, StatusCode::OK);
        assert!(sent.contains("What was sent to Wessex WARP"));
        assert!(sent.contains("report--"));
        assert!(!sent.contains(&token), "the token is never shown again");
    }
}

#[tokio::test]
async fn a_peer_with_wrong_credentials_gets_401_and_nothing() {
    for (a, b) in pairs().await {
        seed(&a).await;
        let (b_on_a, token) = reader(&a, "Wessex WARP", "wessex", "partner", false).await;
        let collection = partners_collection(&a, "wessex", &token).await;
        let wrong = peer_on_b(&b, &a, &collection, "wessex", "not-the-token").await;
        assert_eq!(poll(&b, "instance-1").await, 1);
        let status = b.store.peer(wrong.id).await.unwrap().unwrap();
        let error = status.last_error.expect("the failure is recorded");
        assert!(error.contains("401"), "{error}");
        assert!(error.contains("Authentication required"), "{error}");
        assert_eq!(status.last_success_at, None);
        assert_eq!(status.added_after, None);
        assert_eq!(b.store.partner_object_count(wrong.id).await.unwrap(), 0);
        assert!(a.store.served_log(None, 10).await.unwrap().is_empty());
        // The operators' page says why.
        b.user("op@wessex.example", Role::Operator, None).await;
        let page = b
            .client()
            .signed_in("op@wessex.example")
            .await
            .get("/federation")
            .await;
        assert!(page.contains("401"), "{}", page.body);
        assert_eq!(b_on_a.name, "Wessex WARP");
    }
}

#[tokio::test]
async fn operators_add_peers_and_only_the_reporter_lets_an_incident_leave() {
    let a = TestApp::start(sqlite().await).await;
    let seeded = seed(&a).await;
    let ops = a.client().signed_in("op1@warp.example").await;
    // A member may not manage peers.
    let lead = a.client().signed_in("lead@kent.gov.uk").await;
    assert_eq!(lead.get("/federation").await.status, StatusCode::FORBIDDEN);

    // Adding a peer shows its token once; a bad form names the fields.
    let bad = ops
        .submit(
            "/federation",
            "/federation/peers",
            &[
                ("name", ""),
                ("audience", "everyone"),
                ("api_root_url", "ftp://x"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("What they may read"));
    let added = ops
        .submit(
            "/federation",
            "/federation/peers",
            &[
                ("name", "Wessex WARP"),
                ("audience", "partner"),
                ("need_to_know", "on"),
                ("incoming_login", "wessex"),
                ("api_root_url", "https://wessex.example/taxii2/api"),
                ("collection_id", "abc-123"),
                ("outgoing_secret", "their-secret-value"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let token = crate::support::value_after(
        &added.body,
        "id=\"issued-token\" type=\"text\" readonly value=\"",
    )
    .expect("the token is shown once");
    let peer = a
        .store
        .peers()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == "Wessex WARP")
        .unwrap();
    assert!(
        a.store
            .peer_by_credentials(Some("wessex"), &token)
            .await
            .unwrap()
            .is_some()
    );
    let page = ops.get(&format!("/federation/peers/{}", peer.id)).await;
    assert!(!page.contains(&token) && !page.contains("their-secret-value"));
    // Disable and enable, audited.
    let off = ops
        .submit(
            &format!("/federation/peers/{}", peer.id),
            &format!("/federation/peers/{}/disable", peer.id),
            &[],
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    assert!(
        a.store
            .peer_by_credentials(None, &token)
            .await
            .unwrap()
            .is_none()
    );

    // The consent page: the reporter decides, an operator may only look.
    let path = format!("/incidents/{}/federation", seeded.unconsented_incident);
    let op_view = ops.get(&path).await;
    assert_eq!(op_view.status, StatusCode::OK);
    assert!(op_view.contains("The reporter or their member lead decides"));
    let refused = ops.submit(&path, &path, &[("may_leave", "yes")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let given = lead.submit(&path, &path, &[("may_leave", "yes")]).await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.body);
    let consents = a.store.federation_consents().await.unwrap();
    assert!(consents.contains(&format!("incident:{}", seeded.unconsented_incident)));
    // AMBER+STRICT: the page says it never leaves, and a consent is refused.
    let strict = format!("/incidents/{}/federation", seeded.strict_incident);
    assert!(
        lead.get(&strict)
            .await
            .contains("it never leaves this WARP")
    );
    // Members see the "From partner WARPs" page (empty here).
    let partners = lead.get("/partners").await;
    assert_eq!(partners.status, StatusCode::OK);
    assert!(partners.contains("From partner WARPs"));
}

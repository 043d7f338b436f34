//! The TAXII 2.1 server over real HTTP, on every backend: each endpoint's
//! media type, status codes, paging headers and envelope; credentials per
//! peer (401 with `WWW-Authenticate`, 404 for a collection the peer may not
//! read); TLP at the border (AMBER+STRICT and RED never served, AMBER only to
//! a need-to-know peer it was released to, incidents only with consent);
//! every served bundle valid against the STIX 2.1 schemas; and the audit of
//! what was sent to whom.

use crate::support::{TestApp, apps};
use openwarp_core::federation::PeerInput;
use openwarp_core::incident::{IncidentInput, SanitisedInput};
use openwarp_core::warp_advisory::{LinkInput, WarpAdvisoryInput};
use openwarp_core::{OrgId, Role, TlpLabel, UserId};
use openwarp_store::{Peer, now};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const TAXII: &str = "application/taxii+json;version=2.1";

/// What [`seed`] published, and what it did not.
pub struct Seeded {
    pub green_advisory: i64,
    pub amber_advisory: i64,
    pub strict_advisory: i64,
    pub shared_incident: String,
    pub strict_incident: String,
    pub unconsented_incident: String,
    pub reporter: UserId,
    pub operator: UserId,
}

/// Publish a WARP advisory (written by one operator, published by another).
pub async fn publish_advisory(
    app: &TestApp,
    title: &str,
    tlp: &str,
    cve: &str,
    author: UserId,
    reviewer: UserId,
) -> i64 {
    let draft = WarpAdvisoryInput {
        title: title.into(),
        summary: format!("Attackers are exploiting {cve} against councils."),
        action: "Upgrade today.".into(),
        tlp: tlp.into(),
        priority: "P1".into(),
        audience: "all".into(),
        products: vec![],
        cves: vec![cve.into()],
        links: vec![LinkInput::from_line(
            "Vendor advisory https://vendor.example/psirt/1",
        )],
    }
    .validate()
    .expect("valid advisory");
    let s = &app.store;
    let a = s
        .create_warp_advisory(&draft, author, now())
        .await
        .expect("create");
    s.submit_warp_advisory(a.id, author, now())
        .await
        .expect("submit");
    s.publish_warp_advisory(a.id, reviewer, now())
        .await
        .expect("publish");
    a.id
}

/// Report an incident and share a sanitised version at `tlp`; with
/// `consent`, the reporter also lets it leave the WARP.
pub async fn shared_incident(
    app: &TestApp,
    org: OrgId,
    other: OrgId,
    reporter: UserId,
    title: &str,
    tlp: &str,
    consent: bool,
) -> String {
    let report = IncidentInput {
        title: format!("{title} (full report)"),
        summary: "Payroll staff were phished; two accounts taken over.".into(),
        category: "phishing_bec".into(),
        detected_at: (now() - chrono::Duration::hours(2))
            .format("%Y-%m-%dT%H:%M")
            .to_string(),
        status: "open".into(),
        indicators: vec!["203.0.113.99\npayroll-login.example".into()],
        tlp: "amber".into(),
        ..IncidentInput::default()
    }
    .validate(now())
    .expect("valid report");
    let s = &app.store;
    let inc = s
        .create_incident(org, reporter, &report, "Test Region", now())
        .await
        .expect("report");
    let v = SanitisedInput {
        title: title.into(),
        summary: "A member's payroll staff were phished through a fake login page.".into(),
        tlp: tlp.into(),
        recipient_orgs: vec![other.0],
        share_indicators: true,
        ..SanitisedInput::default()
    }
    .validate()
    .expect("valid sanitised version");
    s.set_sanitised_version(&inc.public_id, &v, true, reporter, now())
        .await
        .expect("share");
    if consent {
        s.set_federation_consent(
            &format!("incident:{}", inc.public_id),
            true,
            reporter,
            now(),
        )
        .await
        .expect("consent");
    }
    inc.public_id
}

/// A WARP with something of each kind to publish (and not to).
pub async fn seed(app: &TestApp) -> Seeded {
    let kent = app.org("Kent County Council", "county", true).await;
    let medway = app.org("Medway Council", "unitary", true).await;
    let lead = app
        .user("lead@kent.gov.uk", Role::MemberLead, Some(kent.id))
        .await;
    let op1 = app.user("op1@warp.example", Role::Operator, None).await;
    let op2 = app.user("op2@warp.example", Role::Operator, None).await;
    let green_advisory = publish_advisory(
        app,
        "FortiOS SSL-VPN flaw exploited",
        "green",
        "CVE-2024-21762",
        op1.id,
        op2.id,
    )
    .await;
    let amber_advisory = publish_advisory(
        app,
        "Ivanti Connect Secure chained flaws",
        "amber",
        "CVE-2024-21887",
        op1.id,
        op2.id,
    )
    .await;
    let strict_advisory = publish_advisory(
        app,
        "STRICT advisory that must stay home",
        "amber+strict",
        "CVE-2024-3400",
        op1.id,
        op2.id,
    )
    .await;
    let shared = shared_incident(
        app,
        kent.id,
        medway.id,
        lead.id,
        "Payroll phishing wave",
        "green",
        true,
    )
    .await;
    let strict = shared_incident(
        app,
        kent.id,
        medway.id,
        lead.id,
        "STRICT incident that must stay home",
        "amber+strict",
        true,
    )
    .await;
    let unconsented = shared_incident(
        app,
        kent.id,
        medway.id,
        lead.id,
        "UNCONSENTED incident shared with members only",
        "green",
        false,
    )
    .await;
    Seeded {
        green_advisory,
        amber_advisory,
        strict_advisory,
        shared_incident: shared,
        strict_incident: strict,
        unconsented_incident: unconsented,
        reporter: lead.id,
        operator: op1.id,
    }
}

/// A peer that reads `app` (login = `login`); its token.
pub async fn reader(
    app: &TestApp,
    name: &str,
    login: &str,
    audience: &str,
    ntk: bool,
) -> (Peer, String) {
    let d = PeerInput {
        name: name.into(),
        audience: audience.into(),
        need_to_know: ntk,
        incoming_login: login.into(),
        ..PeerInput::default()
    }
    .validate()
    .expect("valid peer");
    app.store.create_peer(&d, now()).await.expect("peer")
}

pub struct Taxii<'a> {
    pub app: &'a TestApp,
    pub http: reqwest::Client,
    pub token: String,
    pub login: Option<String>,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Taxii<'_> {
    pub async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, Some(TAXII), None)
            .await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        accept: Option<&str>,
        body: Option<(&str, String)>,
    ) -> Answer {
        let mut req = self.http.request(method, self.app.url(path));
        req = match &self.login {
            Some(login) => req.basic_auth(login, Some(&self.token)),
            None => req.bearer_auth(&self.token),
        };
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        if let Some((ct, b)) = body {
            req = req.header("content-type", ct).body(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        Answer {
            status,
            headers,
            json: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }
}

fn content_type(a: &Answer) -> &str {
    a.headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Each object's `name` (or id), for asserting what was served.
pub fn names(objects: &Value) -> Vec<String> {
    objects
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            o["name"]
                .as_str()
                .unwrap_or_else(|| o["id"].as_str().unwrap_or_default())
                .to_owned()
        })
        .collect()
}

/// The collection with `alias` in the collections list.
async fn collection_id(t: &Taxii<'_>, alias: &str) -> String {
    let list = t.get("/taxii2/api/collections/").await;
    list.json["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["alias"] == alias)
        .unwrap_or_else(|| panic!("no {alias} collection in {}", list.json))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Every object of a collection, following `next`.
pub async fn all_objects(t: &Taxii<'_>, collection: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut path = format!("/taxii2/api/collections/{collection}/objects/?limit={limit}");
        if let Some(n) = &next {
            path.push_str(&format!("&next={n}"));
        }
        let a = t.get(&path).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.json);
        out.extend(a.json["objects"].as_array().cloned().unwrap_or_default());
        if a.json["more"] == json!(true) {
            next = Some(a.json["next"].as_str().expect("next with more").to_owned());
        } else {
            assert!(a.json.get("next").is_none());
            return out;
        }
    }
}

fn check_schemas(objects: &[Value]) {
    use openwarp_stix::testing::{Schemas, stix_data};
    let Some(stix) = stix_data() else { return };
    let schemas = Schemas::load(&stix);
    let bundle = json!({
        "type": "bundle",
        "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": objects,
    });
    let errors = schemas.check_bundle(&bundle);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[tokio::test]
async fn every_endpoint_speaks_taxii_2_1() {
    for app in apps().await {
        let seeded = seed(&app).await;
        let (partner, token) = reader(&app, "North West WARP", "nwwarp", "partner", false).await;
        let t = Taxii {
            app: &app,
            http: reqwest::Client::new(),
            token: token.clone(),
            login: Some("nwwarp".into()),
        };
        // Discovery and the API root.
        let d = t.get("/taxii2/").await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.json);
        assert_eq!(content_type(&d), TAXII);
        assert_eq!(d.json["api_roots"][0], app.url("/taxii2/api/"));
        assert_eq!(d.json["default"], app.url("/taxii2/api/"));
        let root = t.get("/taxii2/api/").await;
        assert_eq!(root.json["versions"], json!([TAXII]));
        assert!(root.json["max_content_length"].as_u64().unwrap() > 0);
        // Collections: both for a partner, read-only, STIX 2.1.
        let list = t.get("/taxii2/api/collections/").await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.json["collections"].as_array().unwrap().len(), 2);
        for c in list.json["collections"].as_array().unwrap() {
            assert_eq!(c["can_read"], true);
            assert_eq!(c["can_write"], false);
            assert_eq!(
                c["media_types"],
                json!(["application/stix+json;version=2.1"])
            );
        }
        let partners = collection_id(&t, "partners").await;
        let public = collection_id(&t, "public").await;
        let one = t.get(&format!("/taxii2/api/collections/{partners}/")).await;
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(one.json["id"], partners.as_str());
        assert_eq!(
            t.get("/taxii2/api/collections/no-such-collection/")
                .await
                .status,
            StatusCode::NOT_FOUND
        );

        // Objects: what may leave, and nothing else.
        let objects = all_objects(&t, &partners, 1000).await;
        let served = names(&json!(objects));
        assert!(
            served.contains(&"FortiOS SSL-VPN flaw exploited".to_owned()),
            "{served:?}"
        );
        assert!(
            served.contains(&"Payroll phishing wave".to_owned()),
            "{served:?}"
        );
        assert!(served.contains(&"CVE-2024-21762".to_owned()), "{served:?}");
        for never in ["STRICT", "UNCONSENTED", "Ivanti", "(full report)"] {
            assert!(
                !served.iter().any(|n| n.contains(never)),
                "{never}: {served:?}"
            );
        }
        let text = serde_json::to_string(&objects).unwrap();
        assert!(
            text.contains("payroll-login.example"),
            "shared indicators leave"
        );
        assert!(
            !text.contains("Kent County Council"),
            "the reporter stays anonymous"
        );
        for o in &objects {
            let label = o["object_marking_refs"][0].as_str().unwrap_or_default();
            assert!(
                o["type"] == "marking-definition"
                    || label == openwarp_stix::tlp::marking_definition_id(TlpLabel::Clear)
                    || label == openwarp_stix::tlp::marking_definition_id(TlpLabel::Green),
                "{o}"
            );
        }
        check_schemas(&objects);

        // Paging: limit and next, with the date-added headers.
        let first = t
            .get(&format!(
                "/taxii2/api/collections/{partners}/objects/?limit=2"
            ))
            .await;
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(content_type(&first), TAXII);
        assert_eq!(first.json["more"], true);
        assert_eq!(first.json["objects"].as_array().unwrap().len(), 2);
        assert!(first.headers.get("x-taxii-date-added-first").is_some());
        let last = first.headers["x-taxii-date-added-last"]
            .to_str()
            .unwrap()
            .to_owned();
        // Objects go out as written: `type` first, as STIX producers do.
        let raw = t
            .http
            .get(app.url(&format!(
                "/taxii2/api/collections/{partners}/objects/?limit=1"
            )))
            .basic_auth("nwwarp", Some(&token))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(raw.starts_with(r#"{"more":true,"next":""#), "{raw}");
        assert!(raw.contains(r#""objects":[{"type":""#), "{raw}");
        let paged = all_objects(&t, &partners, 2).await;
        assert_eq!(
            paged.len(),
            objects.len(),
            "paging loses and repeats nothing"
        );
        // added_after the last one served: nothing new.
        let after = t
            .get(&format!(
                "/taxii2/api/collections/{partners}/objects/?added_after={}",
                objects_last_added(&t, &partners).await
            ))
            .await;
        assert_eq!(after.status, StatusCode::OK);
        assert!(after.json.get("objects").is_none(), "{}", after.json);
        assert_eq!(after.json["more"], false);
        assert!(after.headers.get("x-taxii-date-added-first").is_none());
        let since_first = t
            .get(&format!(
                "/taxii2/api/collections/{partners}/objects/?added_after={last}"
            ))
            .await;
        let n = since_first.json["objects"].as_array().map_or(0, Vec::len);
        assert!(
            n < objects.len(),
            "added_after leaves out what was added by then"
        );
        let since_ever = t
            .get(&format!(
                "/taxii2/api/collections/{partners}/objects/?added_after=2000-01-01T00:00:00Z&limit=1000"
            ))
            .await;
        assert_eq!(
            since_ever.json["objects"].as_array().unwrap().len(),
            objects.len()
        );

        // Filters.
        let reports = t
            .get(&format!(
                "/taxii2/api/collections/{partners}/objects/?match[type]=report,vulnerability"
            ))
            .await;
        let types: Vec<_> = reports.json["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["type"].as_str().unwrap().to_owned())
            .collect();
        assert!(!types.is_empty() && types.iter().all(|t| t == "report" || t == "vulnerability"));
        let report = reports.json["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["type"] == "report")
            .unwrap()
            .clone();
        let report_id = report["id"].as_str().unwrap();
        let by_id = t
            .get(&format!(
                "/taxii2/api/collections/{partners}/objects/?match[id]={report_id}"
            ))
            .await;
        assert_eq!(by_id.json["objects"].as_array().unwrap().len(), 1);
        let at_version = t
            .get(&format!(
                "/taxii2/api/collections/{partners}/objects/?match[id]={report_id}&match[version]={}",
                report["modified"].as_str().unwrap()
            ))
            .await;
        assert_eq!(at_version.json["objects"].as_array().unwrap().len(), 1);
        let not_at = t
            .get(&format!(
                "/taxii2/api/collections/{partners}/objects/?match[id]={report_id}&match[version]=2001-01-01T00:00:00.000Z"
            ))
            .await;
        assert!(not_at.json.get("objects").is_none());
        let bad = t
            .get(&format!(
                "/taxii2/api/collections/{partners}/objects/?limit=none"
            ))
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(bad.json["http_status"], "400");

        // One object, its versions, the manifest.
        let obj = t
            .get(&format!(
                "/taxii2/api/collections/{partners}/objects/{report_id}/"
            ))
            .await;
        assert_eq!(obj.status, StatusCode::OK);
        assert_eq!(obj.json["objects"][0]["id"], report_id);
        assert!(obj.headers.get("x-taxii-date-added-last").is_some());
        let versions = t
            .get(&format!(
                "/taxii2/api/collections/{partners}/objects/{report_id}/versions/"
            ))
            .await;
        assert_eq!(versions.status, StatusCode::OK);
        assert_eq!(versions.json["versions"], json!([report["modified"]]));
        assert!(versions.headers.get("x-taxii-date-added-first").is_some());
        let strict_id = openwarp_stix::derived_id(
            "report",
            &[
                &app.base.replace("http://", ""),
                "advisory",
                &seeded.strict_advisory.to_string(),
            ],
        );
        for path in [
            format!("/taxii2/api/collections/{partners}/objects/{strict_id}/"),
            format!("/taxii2/api/collections/{partners}/objects/{strict_id}/versions/"),
        ] {
            let a = t.get(&path).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {}", a.json);
            assert_eq!(content_type(&a), TAXII);
        }
        let manifest = t
            .get(&format!(
                "/taxii2/api/collections/{partners}/manifest/?limit=3"
            ))
            .await;
        assert_eq!(manifest.status, StatusCode::OK);
        assert_eq!(manifest.json["more"], true);
        assert!(manifest.json["next"].is_string());
        let entry = &manifest.json["objects"][0];
        for field in ["id", "date_added", "version", "media_type"] {
            assert!(entry.get(field).is_some(), "{field}: {entry}");
        }
        assert!(manifest.headers.get("x-taxii-date-added-last").is_some());

        // The public collection: TLP:CLEAR only (markings and the WARP).
        let clear = all_objects(&t, &public, 100).await;
        assert!(
            clear
                .iter()
                .all(|o| o["type"] == "marking-definition" || o["type"] == "identity"),
            "{clear:?}"
        );

        // Media types: 406 for an Accept without TAXII 2.1; 415 then 403 on POST.
        let refused = t
            .send(
                reqwest::Method::GET,
                "/taxii2/",
                Some("application/json"),
                None,
            )
            .await;
        assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
        assert_eq!(content_type(&refused), TAXII);
        let older = t
            .send(
                reqwest::Method::GET,
                "/taxii2/api/",
                Some("application/taxii+json;version=2.0"),
                None,
            )
            .await;
        assert_eq!(older.status, StatusCode::NOT_ACCEPTABLE);
        let any = t
            .send(reqwest::Method::GET, "/taxii2/api/", Some("*/*"), None)
            .await;
        assert_eq!(any.status, StatusCode::OK);
        let objects_path = format!("/taxii2/api/collections/{partners}/objects/");
        let wrong_type = t
            .send(
                reqwest::Method::POST,
                &objects_path,
                Some(TAXII),
                Some(("application/json", "{\"objects\":[]}".into())),
            )
            .await;
        assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let read_only = t
            .send(
                reqwest::Method::POST,
                &objects_path,
                Some(TAXII),
                Some((TAXII, "{\"objects\":[]}".into())),
            )
            .await;
        assert_eq!(read_only.status, StatusCode::FORBIDDEN);
        assert_eq!(read_only.json["http_status"], "403");
        let delete = t
            .send(
                reqwest::Method::DELETE,
                &format!("{objects_path}{report_id}/"),
                Some(TAXII),
                None,
            )
            .await;
        assert_eq!(delete.status, StatusCode::FORBIDDEN);
        let status = t
            .get("/taxii2/api/status/2d086da7-4bdc-4f91-900e-d77486753710/")
            .await;
        assert_eq!(status.status, StatusCode::NOT_FOUND);
        let elsewhere = t.get("/taxii2/api/no-such-thing/").await;
        assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
        assert_eq!(content_type(&elsewhere), TAXII);
        assert_eq!(elsewhere.json["http_status"], "404");

        // Bearer works too; what was served is on record for this peer.
        let bearer = Taxii { login: None, ..t };
        assert_eq!(bearer.get("/taxii2/api/").await.status, StatusCode::OK);
        let log = app.store.served_log(Some(partner.id), 5000).await.unwrap();
        assert!(
            log.iter()
                .any(|s| s.stix_id == report_id && s.collection == "partners")
        );
        assert!(
            log.iter()
                .all(|s| matches!(s.tlp, TlpLabel::Clear | TlpLabel::Green))
        );
        // …and in the hash-chained audit log, one entry per answer that
        // carried objects, naming the peer and each object version.
        let audit = app.store.audit_log(5000, None).await.unwrap();
        let sends: Vec<_> = audit
            .iter()
            .filter(|e| e.action == "federation.send")
            .collect();
        assert!(!sends.is_empty());
        assert!(sends.iter().all(|e| e.actor.starts_with("peer:")));
        assert!(
            sends
                .iter()
                .any(|e| e.target == "taxii:partners" && e.detail.contains(report_id)),
            "{sends:?}"
        );
        let _ = (
            seeded.green_advisory,
            seeded.operator,
            &seeded.shared_incident,
        );
        let _ = (
            &seeded.strict_incident,
            &seeded.unconsented_incident,
            seeded.reporter,
        );
    }
}

async fn objects_last_added(t: &Taxii<'_>, collection: &str) -> String {
    let mut last = String::new();
    let mut next: Option<String> = None;
    loop {
        let mut path = format!("/taxii2/api/collections/{collection}/objects/?limit=1000");
        if let Some(n) = &next {
            path.push_str(&format!("&next={n}"));
        }
        let a = t.get(&path).await;
        if let Some(v) = a.headers.get("x-taxii-date-added-last") {
            last = v.to_str().unwrap().to_owned();
        }
        match a.json["next"].as_str() {
            Some(n) => next = Some(n.to_owned()),
            None => return last,
        }
    }
}

#[tokio::test]
async fn credentials_audience_and_need_to_know_decide_what_a_peer_reads() {
    for app in apps().await {
        let seeded = seed(&app).await;
        let (_, token) = reader(&app, "North West WARP", "nwwarp", "partner", true).await;
        let (_, public_token) = reader(&app, "LGA", "lga", "public", false).await;
        let client = reqwest::Client::new();

        // No credentials, wrong ones, a wrong login: 401 with a challenge and
        // nothing else, on every endpoint.
        for path in ["/taxii2/", "/taxii2/api/", "/taxii2/api/collections/"] {
            for auth in [
                None,
                Some(("nwwarp", "wrong")),
                Some(("lga", token.as_str())),
            ] {
                let mut req = client.get(app.url(path)).header("accept", TAXII);
                if let Some((login, pw)) = auth {
                    req = req.basic_auth(login, Some(pw));
                }
                let resp = req.send().await.unwrap();
                assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path} {auth:?}");
                let challenges: Vec<_> = resp
                    .headers()
                    .get_all("www-authenticate")
                    .iter()
                    .map(|v| v.to_str().unwrap().to_owned())
                    .collect();
                assert!(
                    challenges.iter().any(|c| c.starts_with("Basic")),
                    "{challenges:?}"
                );
                assert_eq!(resp.headers()["content-type"].to_str().unwrap(), TAXII);
                let body: Value = resp.json().await.unwrap();
                assert_eq!(body["http_status"], "401");
                assert!(body.get("objects").is_none());
            }
        }
        let bad_bearer = client
            .get(app.url("/taxii2/api/collections/"))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(bad_bearer.status(), StatusCode::UNAUTHORIZED);

        // A public peer sees only the public collection; the partners one is
        // a 404 as if it did not exist.
        let public = Taxii {
            app: &app,
            http: client.clone(),
            token: public_token,
            login: Some("lga".into()),
        };
        let partner = Taxii {
            app: &app,
            http: client.clone(),
            token,
            login: Some("nwwarp".into()),
        };
        let partners_id = collection_id(&partner, "partners").await;
        let list = public.get("/taxii2/api/collections/").await;
        assert_eq!(list.json["collections"].as_array().unwrap().len(), 1);
        assert_eq!(list.json["collections"][0]["alias"], "public");
        for path in [
            format!("/taxii2/api/collections/{partners_id}/"),
            format!("/taxii2/api/collections/{partners_id}/objects/"),
            format!("/taxii2/api/collections/{partners_id}/manifest/"),
        ] {
            let a = public.get(&path).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(a.json["http_status"], "404");
        }

        // AMBER: not to a need-to-know peer until released to it.
        let served = names(&json!(all_objects(&partner, &partners_id, 100).await));
        assert!(!served.iter().any(|n| n.contains("Ivanti")), "{served:?}");
        let peer_id = app
            .store
            .peers()
            .await
            .unwrap()
            .iter()
            .find(|p| p.name == "North West WARP")
            .unwrap()
            .id;
        app.store
            .set_need_to_know(
                &format!("advisory:{}", seeded.amber_advisory),
                &[peer_id],
                seeded.operator,
                now(),
            )
            .await
            .unwrap();
        let served = all_objects(&partner, &partners_id, 100).await;
        assert!(names(&json!(served)).iter().any(|n| n.contains("Ivanti")));
        check_schemas(&served);

        // Consent withdrawn: the incident is no longer served.
        app.store
            .set_federation_consent(
                &format!("incident:{}", seeded.shared_incident),
                false,
                seeded.reporter,
                now(),
            )
            .await
            .unwrap();
        // The peer that had it is told it is revoked; its content is not
        // served again, and a peer that never had it gets nothing of it.
        let after = all_objects(&partner, &partners_id, 100).await;
        let incident: Vec<&Value> = after
            .iter()
            .filter(|o| o["name"] == "Payroll phishing wave")
            .collect();
        assert_eq!(incident.len(), 1, "{after:?}");
        assert_eq!(incident[0]["revoked"], true);
        assert!(
            after
                .iter()
                .filter(|o| o["type"] == "incident" || o["type"] == "indicator")
                .all(|o| o["revoked"] == true)
        );
        check_schemas(&after);
        let (_, fresh_token) = reader(&app, "Wales WARP", "wales", "partner", false).await;
        let fresh = Taxii {
            app: &app,
            http: client.clone(),
            token: fresh_token,
            login: Some("wales".into()),
        };
        let theirs = all_objects(&fresh, &partners_id, 100).await;
        assert!(
            !theirs
                .iter()
                .any(|o| o["type"] == "incident" || o["revoked"] == true),
            "{theirs:?}"
        );

        // A disabled peer is refused like a stranger.
        app.store
            .set_peer_enabled(peer_id, false, now())
            .await
            .unwrap();
        assert_eq!(
            partner.get("/taxii2/").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

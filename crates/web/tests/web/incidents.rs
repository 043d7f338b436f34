//! Confidential incidents over real HTTP, pages and API: the security matrix
//! (route × role × organisation × TLP of the report and of the shared
//! version × sharing state), guessing ids, reading through search, the
//! report form's validation, and the shared-supplier warning end to end.
//!
//! The full report carries the word "zebra" everywhere (title, summary,
//! affected services, supplier, indicator, the reporting council's name,
//! the reporter's name); the sanitised version carries "OKAPI-PUBLIC" and
//! no "zebra". So any response to someone who may read only the sanitised
//! version (or nothing) must not contain "zebra" at all. The matrix seeds
//! one evidence file per incident whose name and bytes carry "zebra" too:
//! the files are part of the full report.

use crate::support::{Client, TestApp, apps};
use openwarp_core::incident::{IncidentDraft, IncidentInput, SanitisedDraft, SanitisedInput};
use openwarp_core::{Role, SupplierDraft, SupplierKind, TlpLabel};
use openwarp_store::{Incident, IncidentFilter, NewAttachment, Organisation, User, now};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

/// In every field of the full report (case-insensitively).
const FULL: &str = "zebra";
/// In the sanitised version only.
const SHARED: &str = "OKAPI-PUBLIC";

// ------------------------------------------------------------- the world

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Operator,
    /// Zebrashire District Council's member user who reported it.
    Reporter,
    /// Another member user of Zebrashire.
    Colleague,
    /// Zebrashire's member lead.
    Lead,
    /// Medway's member lead (Medway is the AMBER recipient organisation).
    OtherLead,
    /// A Medway member user.
    OtherUser,
    /// Dover's member lead (not a recipient).
    Outsider,
    /// A Dover member user named as the RED recipient.
    Named,
}

/// Those who may authorise sharing come last, so that the refusals are
/// checked before an approval changes anything.
const EVERYONE: [Who; 8] = [
    Who::Operator,
    Who::Colleague,
    Who::OtherLead,
    Who::OtherUser,
    Who::Outsider,
    Who::Named,
    Who::Reporter,
    Who::Lead,
];

struct Person {
    who: Who,
    user: User,
    client: Client,
    csrf: String,
    token: String,
}

struct World {
    app: TestApp,
    zebra: Organisation,
    medway: Organisation,
    dover: Organisation,
    people: Vec<Person>,
    /// The evidence file seeded on each matrix incident, and its case.
    seeded: Mutex<HashMap<String, (String, Case)>>,
}

impl World {
    async fn new(app: TestApp) -> World {
        let zebra = app
            .org("Zebrashire District Council", "district_borough", false)
            .await;
        let medway = app.org("Medway Council", "unitary", true).await;
        let dover = app
            .org("Dover District Council", "district_borough", false)
            .await;
        let accounts = [
            (Who::Operator, "operator@warp.example", Role::Operator, None),
            (
                Who::Reporter,
                "zebra-reporter@zebrashire.gov.uk",
                Role::MemberUser,
                Some(zebra.id),
            ),
            (
                Who::Colleague,
                "zebra-colleague@zebrashire.gov.uk",
                Role::MemberUser,
                Some(zebra.id),
            ),
            (
                Who::Lead,
                "zebra-lead@zebrashire.gov.uk",
                Role::MemberLead,
                Some(zebra.id),
            ),
            (
                Who::OtherLead,
                "lead@medway.gov.uk",
                Role::MemberLead,
                Some(medway.id),
            ),
            (
                Who::OtherUser,
                "it@medway.gov.uk",
                Role::MemberUser,
                Some(medway.id),
            ),
            (
                Who::Outsider,
                "lead@dover.gov.uk",
                Role::MemberLead,
                Some(dover.id),
            ),
            (
                Who::Named,
                "named@dover.gov.uk",
                Role::MemberUser,
                Some(dover.id),
            ),
        ];
        let mut people = Vec::new();
        for (who, email, role, org) in accounts {
            let user = app.user(email, role, org).await;
            let client = app.client().signed_in(email).await;
            let page = client.get("/incidents").await;
            assert_eq!(page.status, StatusCode::OK, "{who:?}: {}", page.body);
            let token = app.token(&user).await;
            people.push(Person {
                who,
                user,
                csrf: page.csrf(),
                client,
                token,
            });
        }
        World {
            app,
            zebra,
            medway,
            dover,
            people,
            seeded: Mutex::default(),
        }
    }

    /// The evidence file seeded on incident `id`, with the incident's case.
    fn seeded(&self, id: &str) -> Option<(String, Case)> {
        self.seeded
            .lock()
            .map(|m| m.get(id).cloned())
            .unwrap_or_default()
    }

    fn person(&self, who: Who) -> &Person {
        self.people
            .iter()
            .find(|p| p.who == who)
            .expect("everyone is there")
    }

    async fn api(
        &self,
        who: Who,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, String) {
        api(&self.app, &self.person(who).token, method, path, body).await
    }
}

async fn api(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, String) {
    let mut req = app
        .client()
        .http
        .request(method, app.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.text().await.expect("body"))
}

/// Send `file` (name, bytes, media type) as the multipart field `file`.
async fn api_upload(
    app: &TestApp,
    token: &str,
    path: &str,
    file: (&str, Vec<u8>, &str),
) -> (StatusCode, String) {
    let (name, bytes, mime) = file;
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str(mime)
        .expect("mime");
    let resp = app
        .client()
        .http
        .post(app.url(path))
        .bearer_auth(token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("request");
    let status = resp.status();
    (status, resp.text().await.expect("body"))
}

/// A GET whose body is kept as bytes, with its headers.
async fn api_bytes(
    app: &TestApp,
    token: &str,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = app
        .client()
        .http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.expect("body").to_vec())
}

/// The evidence file seeded on every matrix incident: its name and bytes
/// carry the full-report marker.
const EVIDENCE_NAME: &str = "zebra-invoice.eml";
const EVIDENCE: &[u8] =
    b"From: payroll@zebra-fraud.example\r\nSubject: ZEBRA-SECRET invoice\r\n\r\nPay now.\r\n";
/// A well-formed attachment id that exists nowhere.
const NO_SUCH_ATTACHMENT: &str = "att-AAAAAAAAAAAAAAAAAAAAAA";

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn minutes_ago(m: i64) -> String {
    (now() - chrono::Duration::minutes(m))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

fn report(title: &str, tlp: TlpLabel) -> IncidentDraft {
    IncidentInput {
        title: title.into(),
        summary: "ZEBRA-SECRET: the revenues servers were encrypted overnight.".into(),
        category: "ransomware".into(),
        started_at: minutes_ago(300),
        detected_at: minutes_ago(120),
        affected_services: "Zebra payroll and council tax".into(),
        supplier: "Zebra Hosting Ltd".into(),
        personal_data: true,
        status: "open".into(),
        indicators: vec!["zebra-c2.example\n203.0.113.9".into()],
        tlp: tlp.as_str().into(),
    }
    .validate(now())
    .expect("valid report")
}

fn sanitised(w: &World, title: &str, tlp: TlpLabel) -> SanitisedDraft {
    SanitisedInput {
        title: title.into(),
        summary: format!(
            "{SHARED}: a council's file servers were encrypted through a remote tool."
        ),
        tlp: tlp.as_str().into(),
        attribution: "anonymous".into(),
        share_indicators: false,
        recipient_orgs: vec![w.medway.id.0],
        recipient_users: vec![w.person(Who::Named).user.id.0],
    }
    .validate()
    .expect("valid sanitised version")
}

// ------------------------------------------------------------ the matrix

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Private,
    /// An operator's draft awaiting approval.
    Proposed,
    Shared,
    /// Shared, then withdrawn.
    Withdrawn,
}

#[derive(Clone, Copy, Debug)]
struct Case {
    /// The full report's label.
    tlp: TlpLabel,
    state: State,
    /// The sanitised version's label (when there is one).
    shared_tlp: TlpLabel,
}

fn cases() -> Vec<Case> {
    use TlpLabel::*;
    let mut v = Vec::new();
    for tlp in [Clear, Amber, AmberStrict, Red] {
        for state in [State::Private, State::Proposed, State::Withdrawn] {
            v.push(Case {
                tlp,
                state,
                shared_tlp: Clear,
            });
        }
        for shared_tlp in [Clear, Green, Amber, AmberStrict, Red] {
            v.push(Case {
                tlp,
                state: State::Shared,
                shared_tlp,
            });
        }
    }
    v
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum View {
    Full,
    Sanitised,
}

/// The rules, written out again independently of `core::incident`.
fn expected_view(who: Who, c: &Case) -> Option<View> {
    use TlpLabel::*;
    match who {
        Who::Operator | Who::Reporter | Who::Lead => Some(View::Full),
        // At TLP:RED only the reporter and the member lead read it.
        Who::Colleague => (c.tlp != Red).then_some(View::Full),
        _ if c.state != State::Shared => None,
        // Medway is the organisation AMBER versions are shared with.
        Who::OtherLead | Who::OtherUser => {
            matches!(c.shared_tlp, Clear | Green | Amber | AmberStrict).then_some(View::Sanitised)
        }
        Who::Outsider => matches!(c.shared_tlp, Clear | Green).then_some(View::Sanitised),
        // The person RED versions are shared with.
        Who::Named => matches!(c.shared_tlp, Clear | Green | Red).then_some(View::Sanitised),
    }
}

fn may_update(who: Who, c: &Case) -> bool {
    matches!(who, Who::Reporter | Who::Lead) || (who == Who::Colleague && c.tlp != TlpLabel::Red)
}

fn may_log(who: Who, c: &Case) -> bool {
    who == Who::Operator || may_update(who, c)
}

fn may_authorise(who: Who) -> bool {
    matches!(who, Who::Reporter | Who::Lead)
}

fn may_audit(who: Who) -> bool {
    matches!(who, Who::Operator | Who::Lead)
}

/// Every incident route. Changes are sent with a body of the right shape
/// but invalid values, so an allowed caller gets 422 and nothing changes;
/// approving and withdrawing go last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    PageShow,
    PagePrint,
    PageStix,
    PageEdit,
    PageEditPost,
    PageAudit,
    PageEscalate,
    PageIco,
    PageShare,
    PageLessons,
    PageApprove,
    PageWithdraw,
    ApiGet,
    ApiStix,
    ApiTimeline,
    ApiAudit,
    ApiPut,
    ApiEscalate,
    ApiIco,
    ApiShare,
    ApiLessons,
    ApiApprove,
    ApiWithdraw,
    /// Evidence files: upload (an empty file), download, delete.
    PageAttach,
    PageDownload,
    PageDetach,
    ApiAttachments,
    ApiAttach,
    ApiDownload,
    ApiDetach,
}

const READS_AND_CHANGES: [Route; 26] = [
    Route::PageShow,
    Route::PagePrint,
    Route::PageStix,
    Route::PageEdit,
    Route::PageEditPost,
    Route::PageAudit,
    Route::PageEscalate,
    Route::PageIco,
    Route::PageShare,
    Route::PageLessons,
    Route::ApiGet,
    Route::ApiStix,
    Route::ApiTimeline,
    Route::ApiAudit,
    Route::ApiPut,
    Route::ApiEscalate,
    Route::ApiIco,
    Route::ApiShare,
    Route::ApiLessons,
    Route::PageAttach,
    Route::PageDownload,
    Route::PageDetach,
    Route::ApiAttachments,
    Route::ApiAttach,
    Route::ApiDownload,
    Route::ApiDetach,
];

fn gate(allowed: bool, ok: &'static [u16]) -> &'static [u16] {
    if allowed { ok } else { &[403] }
}

/// The statuses the rules allow for `who` on `route`.
fn expected(route: Route, who: Who, c: &Case) -> &'static [u16] {
    use Route::*;
    let Some(view) = expected_view(who, c) else {
        return &[404];
    };
    let full = view == View::Full;
    match route {
        PageShow | PagePrint | PageStix | ApiGet | ApiStix => &[200],
        ApiTimeline => gate(full, &[200]),
        PageEdit => gate(full && may_update(who, c), &[200]),
        PageEditPost | ApiPut | PageIco | ApiIco | PageLessons | ApiLessons => {
            gate(full && may_update(who, c), &[422])
        }
        PageEscalate | ApiEscalate | PageShare | ApiShare => gate(full && may_log(who, c), &[422]),
        PageAudit | ApiAudit => gate(full && may_audit(who), &[200]),
        PageApprove | ApiApprove | PageWithdraw | ApiWithdraw => {
            gate(full && may_authorise(who), &[200, 303, 409])
        }
        // Evidence files are part of the full report: a sanitised reader
        // gets the 404 of an incident that does not exist.
        _ if !full => &[404],
        PageDownload | ApiAttachments | ApiDownload => &[200],
        PageAttach | ApiAttach => gate(may_update(who, c), &[422]),
        // Those allowed to delete are sent an id that does not exist.
        PageDetach | ApiDetach => gate(may_update(who, c), &[404]),
    }
}

/// The attachment id `send` uses on incident `id` for `who`: the seeded one,
/// except that those allowed to delete get one that does not exist (so the
/// matrix deletes nothing, and a refused caller is refused the real file).
fn attachment_for(w: &World, who: Who, route: Route, id: &str) -> String {
    match w.seeded(id) {
        Some((_, c))
            if matches!(route, Route::PageDetach | Route::ApiDetach) && may_update(who, &c) =>
        {
            NO_SUCH_ATTACHMENT.into()
        }
        Some((att, _)) => att,
        None => NO_SUCH_ATTACHMENT.into(),
    }
}

async fn send(w: &World, who: Who, route: Route, id: &str) -> (StatusCode, String) {
    use Route::*;
    let p = w.person(who);
    let c = &p.client;
    let csrf = p.csrf.as_str();
    let at = |suffix: &str| format!("/incidents/{id}{suffix}");
    let att = attachment_for(w, who, route, id);
    let empty_file = || ("empty.eml", Vec::new(), "message/rfc822");
    let page = match route {
        PageShow => Some(c.get(&at("")).await),
        PagePrint => Some(c.get(&at("/print")).await),
        PageStix => Some(c.get(&at("/stix")).await),
        PageEdit => Some(c.get(&at("/edit")).await),
        PageAudit => Some(c.get(&at("/audit")).await),
        PageEditPost => Some(c.post(&at("/edit"), &[("title", ""), ("csrf", csrf)]).await),
        PageEscalate => Some(
            c.post(
                &at("/escalations"),
                &[("target", "nowhere"), ("csrf", csrf)],
            )
            .await,
        ),
        PageIco => Some(c.post(&at("/ico"), &[("method", ""), ("csrf", csrf)]).await),
        PageShare => Some(
            c.post(
                &at("/sanitised"),
                &[("shared_tlp", "purple"), ("csrf", csrf)],
            )
            .await,
        ),
        PageLessons => Some(
            c.post(&at("/lessons"), &[("lessons", ""), ("csrf", csrf)])
                .await,
        ),
        PageApprove => Some(c.post(&at("/sanitised/approve"), &[("csrf", csrf)]).await),
        PageWithdraw => Some(c.post(&at("/sharing/withdraw"), &[("csrf", csrf)]).await),
        PageAttach => Some(
            c.post_file(&at("/attachments"), &[("csrf", csrf)], Some(empty_file()))
                .await,
        ),
        PageDownload => Some(c.get(&at(&format!("/attachments/{att}"))).await),
        PageDetach => Some(
            c.post(
                &at(&format!("/attachments/{att}/delete")),
                &[("csrf", csrf)],
            )
            .await,
        ),
        _ => None,
    };
    if let Some(page) = page {
        return (page.status, page.body);
    }
    let path = format!("/api/v1/incidents/{id}");
    if route == ApiAttach {
        return api_upload(
            &w.app,
            &p.token,
            &format!("{path}/attachments"),
            empty_file(),
        )
        .await;
    }
    let (method, path, body) = match route {
        ApiGet => (Method::GET, path, None),
        ApiStix => (Method::GET, format!("{path}/stix"), None),
        ApiTimeline => (Method::GET, format!("{path}/timeline"), None),
        ApiAudit => (Method::GET, format!("{path}/audit"), None),
        ApiPut => (
            Method::PUT,
            path,
            Some(json!({"title": "", "summary": "", "category": "", "detected_at": "", "tlp": ""})),
        ),
        ApiEscalate => (
            Method::POST,
            format!("{path}/escalations"),
            Some(json!({"target": "nowhere"})),
        ),
        ApiIco => (
            Method::POST,
            format!("{path}/ico"),
            Some(json!({"method": ""})),
        ),
        ApiShare => (
            Method::PUT,
            format!("{path}/sanitised"),
            Some(json!({"title": "", "summary": "", "tlp": "purple"})),
        ),
        ApiLessons => (
            Method::PUT,
            format!("{path}/lessons"),
            Some(json!({"lessons": ""})),
        ),
        ApiApprove => (Method::POST, format!("{path}/sanitised/approve"), None),
        ApiAttachments => (Method::GET, format!("{path}/attachments"), None),
        ApiDownload => (Method::GET, format!("{path}/attachments/{att}"), None),
        ApiDetach => (Method::DELETE, format!("{path}/attachments/{att}"), None),
        _ => (Method::POST, format!("{path}/sharing/withdraw"), None),
    };
    w.api(who, method, &path, body).await
}

/// Fields of the full report that a sanitised view must never carry.
const FULL_ONLY_KEYS: [&str; 8] = [
    "reporter",
    "org_id",
    "org_name",
    "supplier",
    "affected_services",
    "started_at",
    "status",
    "shared_version",
];

fn check(case: &str, who: Who, route: Route, c: &Case, status: StatusCode, body: &str) {
    let allowed = expected(route, who, c);
    assert!(
        allowed.contains(&status.as_u16()),
        "{case}: {who:?} {route:?} answered {status}, expected {allowed:?}: {}",
        &body[..body.len().min(400)]
    );
    let reading = matches!(
        route,
        Route::PageShow | Route::PagePrint | Route::PageStix | Route::ApiGet | Route::ApiStix
    );
    let evidence = matches!(
        route,
        Route::PageDownload | Route::ApiDownload | Route::ApiAttachments
    );
    let deleting = matches!(route, Route::PageDetach | Route::ApiDetach);
    // Only someone allowed to delete learns that an attachment id is wrong.
    assert_eq!(
        body.contains("attachment not found") || body.contains("The attachment you asked for"),
        deleting && expected_view(who, c) == Some(View::Full) && may_update(who, c),
        "{case}: {who:?} {route:?} ({status}): {}",
        &body[..body.len().min(400)]
    );
    match expected_view(who, c) {
        Some(View::Full) => {
            if reading || (evidence && route != Route::ApiAttachments) {
                assert!(body.contains("ZEBRA-SECRET"), "{case}: {who:?} {route:?}");
            }
            if route == Route::ApiAttachments {
                assert!(body.contains(EVIDENCE_NAME), "{case}: {body}");
            }
        }
        view => {
            assert!(
                !body.to_lowercase().contains(FULL),
                "{case}: {who:?} {route:?} ({status}) leaked the full report: {body}"
            );
            if view == Some(View::Sanitised) && reading {
                assert!(body.contains(SHARED), "{case}: {who:?} {route:?}: {body}");
            }
            if view == Some(View::Sanitised) && route == Route::ApiGet {
                let v = json(body);
                assert_eq!(v["view"], "sanitised", "{case}");
                for key in FULL_ONLY_KEYS {
                    assert!(v.get(key).is_none(), "{case}: {who:?} got {key}: {body}");
                }
            }
        }
    }
}

/// A fresh incident in the state `c` describes, straight through the store.
async fn incident(w: &World, c: &Case, n: usize) -> Incident {
    let store = &w.app.store;
    let reporter = w.person(Who::Reporter).user.id;
    let inc = store
        .create_incident(
            w.zebra.id,
            reporter,
            &report(&format!("ZEBRA-SECRET incident {n}"), c.tlp),
            "Test Region",
            now(),
        )
        .await
        .expect("create");
    let version = sanitised(w, &format!("{SHARED} incident {n}"), c.shared_tlp);
    let operator = w.person(Who::Operator).user.id;
    match c.state {
        State::Private => inc,
        State::Proposed => store
            .set_sanitised_version(&inc.public_id, &version, false, operator, now())
            .await
            .expect("propose"),
        State::Shared | State::Withdrawn => {
            let inc = store
                .set_sanitised_version(&inc.public_id, &version, true, reporter, now())
                .await
                .expect("share");
            if c.state == State::Withdrawn {
                store
                    .withdraw_sharing(&inc.public_id, reporter, now())
                    .await
                    .expect("withdraw")
            } else {
                inc
            }
        }
    }
}

/// Which incident ids a page or API list shows.
fn listed_ids(body: &str, ids: &[&str]) -> Vec<String> {
    ids.iter()
        .filter(|id| {
            body.contains(&format!("/incidents/{id}\"")) || body.contains(&format!("\"{id}\""))
        })
        .map(|id| id.to_string())
        .collect()
}

#[tokio::test]
async fn security_matrix_every_route_role_label_and_sharing_state() {
    for app in crate::support::apps_without_rate_limits().await {
        let backend = app.backend();
        let w = World::new(app).await;
        let mut made = Vec::new();
        let reporter = w.person(Who::Reporter).user.id;
        for (n, c) in cases().into_iter().enumerate() {
            let a = incident(&w, &c, 2 * n).await;
            let b = incident(&w, &c, 2 * n + 1).await;
            for inc in [&a, &b] {
                let att = w
                    .app
                    .store
                    .add_incident_attachment(
                        &inc.public_id,
                        NewAttachment {
                            file_name: EVIDENCE_NAME,
                            content_type: "message/rfc822",
                            data: EVIDENCE,
                        },
                        reporter,
                        now(),
                    )
                    .await
                    .expect("attach");
                w.seeded
                    .lock()
                    .expect("lock")
                    .insert(inc.public_id.clone(), (att.public_id, c));
            }
            made.push((c, a, b));
        }

        // Lists and searches: never an incident the reader may not see, and
        // a search finds only words in the version they may read.
        let all_ids: Vec<&str> = made
            .iter()
            .flat_map(|(_, a, b)| [a.public_id.as_str(), b.public_id.as_str()])
            .collect();
        for who in EVERYONE {
            let expect = |pred: &dyn Fn(&Case) -> bool| -> Vec<String> {
                let mut v: Vec<String> = made
                    .iter()
                    .filter(|(c, _, _)| pred(c))
                    .flat_map(|(_, a, b)| [a.public_id.clone(), b.public_id.clone()])
                    .collect();
                v.sort();
                v
            };
            let visible = expect(&|c| expected_view(who, c).is_some());
            let full = expect(&|c| expected_view(who, c) == Some(View::Full));
            // Full readers also search the proposed or shared version they see.
            let finds_shared = expect(&|c| match expected_view(who, c) {
                Some(View::Full) => matches!(c.state, State::Proposed | State::Shared),
                Some(View::Sanitised) => true,
                None => false,
            });
            let sorted = |mut v: Vec<String>| {
                v.sort();
                v
            };
            let p = w.person(who);
            for (path, want) in [
                ("/incidents".to_string(), &visible),
                ("/incidents?q=ZEBRA-SECRET".to_string(), &full),
                (format!("/incidents?q={SHARED}"), &finds_shared),
            ] {
                let page = p.client.get(&path).await;
                assert_eq!(page.status, StatusCode::OK, "{backend} {who:?} {path}");
                assert_eq!(
                    &sorted(listed_ids(&page.body, &all_ids)),
                    want,
                    "{backend} {who:?} {path}"
                );
                if full.is_empty() && !path.contains("q=ZEBRA") {
                    assert!(!page.body.to_lowercase().contains(FULL), "{who:?} {path}");
                }
                let api_path = format!("/api/v1{path}");
                let (status, body) = w.api(who, Method::GET, &api_path, None).await;
                assert_eq!(status, StatusCode::OK, "{backend} {who:?} {api_path}");
                assert_eq!(
                    &sorted(listed_ids(&body, &all_ids)),
                    want,
                    "{backend} {who:?} {api_path}"
                );
                for item in json(&body)["incidents"].as_array().expect("list") {
                    if item["view"] == "sanitised" {
                        assert!(!item.to_string().to_lowercase().contains(FULL), "{item}");
                    }
                }
            }
        }

        // Every route, every role, every case.
        for (c, a, b) in &made {
            let case = format!("{backend} {c:?}");
            for who in EVERYONE {
                for route in READS_AND_CHANGES {
                    let (status, body) = send(&w, who, route, &a.public_id).await;
                    check(&case, who, route, c, status, &body);
                }
            }
            for (id, routes) in [
                (&a.public_id, [Route::PageApprove, Route::ApiApprove]),
                (&b.public_id, [Route::PageWithdraw, Route::ApiWithdraw]),
            ] {
                for who in EVERYONE {
                    for route in routes {
                        let (status, body) = send(&w, who, route, id).await;
                        check(&case, who, route, c, status, &body);
                    }
                }
            }
        }

        // Nothing the refused callers sent changed anything: the copies
        // used for withdrawing are private now, and the rest kept their
        // report (no 422 body was ever stored).
        for (c, a, b) in &made {
            let b = w
                .app
                .store
                .incident(&b.public_id)
                .await
                .expect("b")
                .expect("b");
            assert_eq!(b.sharing.as_str(), "private", "{c:?}");
            let a = w
                .app
                .store
                .incident(&a.public_id)
                .await
                .expect("a")
                .expect("a");
            assert!(a.report.title.starts_with("ZEBRA-SECRET incident"), "{c:?}");
            assert_eq!(
                w.app
                    .store
                    .incident_timeline(&a.public_id)
                    .await
                    .expect("t")
                    .iter()
                    .filter(|e| e.kind == "escalation")
                    .count(),
                0
            );
            // No file was added or deleted: each still has its one file.
            for inc in [&a, &b] {
                let files = w
                    .app
                    .store
                    .incident_attachments(&inc.public_id)
                    .await
                    .expect("files");
                assert_eq!(files.len(), 1, "{c:?}");
                assert_eq!(files[0].file_name, EVIDENCE_NAME);
            }
        }
    }
}

// ------------------------------------------------------- guessing ids

fn id_values(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "id" {
                    out.push(x.clone());
                }
                id_values(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| id_values(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn ids_cannot_be_guessed_and_the_row_id_never_leaves() {
    for app in apps().await {
        let backend = app.backend();
        let w = World::new(app).await;
        let shared = Case {
            tlp: TlpLabel::Amber,
            state: State::Shared,
            shared_tlp: TlpLabel::Clear,
        };
        let first = incident(&w, &shared, 1).await;
        let second = incident(&w, &shared, 2).await;
        for inc in [&first, &second] {
            assert!(inc.public_id.starts_with("inc-") && inc.public_id.len() == 26);
            assert!(
                inc.public_id[4..]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{}",
                inc.public_id
            );
        }
        assert_ne!(first.public_id[4..10], second.public_id[4..10]);

        // Sequential numbers, the row id, near misses: 404 to everyone,
        // operators included, on every route.
        let mut flipped = first.public_id.clone().into_bytes();
        flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        let guesses = [
            "1".to_string(),
            first.id.to_string(),
            second.id.to_string(),
            format!("inc-{}", first.id),
            "inc-0000000000000000000001".to_string(),
            flipped,
            first.public_id.to_uppercase(),
            format!("{}x", first.public_id),
            "inc-".to_string() + &"A".repeat(300),
        ];
        for who in [Who::Operator, Who::Reporter, Who::Outsider] {
            for guess in &guesses {
                for route in [
                    Route::PageShow,
                    Route::PagePrint,
                    Route::PageAudit,
                    Route::PageEscalate,
                    Route::ApiGet,
                    Route::ApiTimeline,
                    Route::ApiAudit,
                    Route::ApiApprove,
                    Route::PageDownload,
                    Route::ApiAttachments,
                    Route::ApiDownload,
                    Route::ApiDetach,
                ] {
                    let (status, _) = send(&w, who, route, guess).await;
                    assert_eq!(
                        status,
                        StatusCode::NOT_FOUND,
                        "{backend} {who:?} {route:?} {guess}"
                    );
                }
            }
        }

        // The row id appears nowhere: not as an API id, not in a link.
        for who in [Who::Operator, Who::Reporter, Who::Outsider] {
            let (_, list) = w.api(who, Method::GET, "/api/v1/incidents", None).await;
            let (_, one) = w
                .api(
                    who,
                    Method::GET,
                    &format!("/api/v1/incidents/{}", first.public_id),
                    None,
                )
                .await;
            for body in [&list, &one] {
                let mut ids = Vec::new();
                id_values(&json(body), &mut ids);
                assert!(!ids.is_empty());
                for id in ids {
                    assert!(
                        id.as_str().is_some_and(|s| s.starts_with("inc-")),
                        "{backend} {who:?}: an incident id that is not public: {id}"
                    );
                }
            }
            for path in [
                "/incidents".to_string(),
                format!("/incidents/{}", first.public_id),
                format!("/incidents/{}/print", first.public_id),
            ] {
                let page = w.person(who).client.get(&path).await;
                for row in [first.id, second.id] {
                    assert!(
                        !page.contains(&format!("/incidents/{row}\""))
                            && !page.contains(&format!("/incidents/{row}/")),
                        "{backend} {who:?} {path}"
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------- search

#[tokio::test]
async fn search_reads_only_the_version_you_may_see() {
    for app in apps().await {
        let backend = app.backend();
        let w = World::new(app).await;
        // PANGOLIN is only in the full report, ARMADILLO in the shared version.
        let draft = IncidentInput {
            title: "Phishing wave against payroll".into(),
            summary: "The PANGOLIN mailbox was taken over.".into(),
            category: "phishing_bec".into(),
            detected_at: minutes_ago(60),
            indicators: vec!["armadillo-phish.example".into()],
            tlp: "amber".into(),
            ..IncidentInput::default()
        }
        .validate(now())
        .expect("valid");
        let inc = w
            .app
            .store
            .create_incident(
                w.zebra.id,
                w.person(Who::Reporter).user.id,
                &draft,
                "Test Region",
                now(),
            )
            .await
            .expect("create");
        let id = inc.public_id.clone();
        let finds = |body: &str| body.contains(&id);
        let search = |who: Who, word: &'static str| {
            let w = &w;
            async move {
                let page = w
                    .person(who)
                    .client
                    .get(&format!("/incidents?q={word}"))
                    .await;
                let (_, api) = w
                    .api(
                        who,
                        Method::GET,
                        &format!("/api/v1/incidents?q={word}"),
                        None,
                    )
                    .await;
                (page.body, api)
            }
        };

        // Private: the reporting organisation finds it by any word; nobody else by any.
        let (page, api) = search(Who::Colleague, "pangolin").await;
        assert!(finds(&page) && finds(&api), "{backend}");
        for word in ["PANGOLIN", "ARMADILLO", "payroll", "phishing"] {
            let (page, api) = search(Who::OtherUser, word).await;
            assert!(!finds(&page) && !finds(&api), "{backend} {word}");
        }

        // Shared at GREEN without its indicators.
        let version = SanitisedInput {
            title: "Mailbox takeover at a council".into(),
            summary: "An ARMADILLO-themed lure took over a finance mailbox.".into(),
            tlp: "green".into(),
            ..SanitisedInput::default()
        }
        .validate()
        .expect("valid");
        w.app
            .store
            .set_sanitised_version(&id, &version, true, w.person(Who::Reporter).user.id, now())
            .await
            .expect("share");
        for who in [Who::OtherUser, Who::Outsider, Who::Named] {
            let (page, api) = search(who, "ARMADILLO").await;
            assert!(
                finds(&page) && finds(&api),
                "{backend} {who:?}: the shared word finds it"
            );
            for word in ["PANGOLIN", "payroll", "armadillo-phish"] {
                let (page, api) = search(who, word).await;
                assert!(
                    !finds(&page) && !finds(&api),
                    "{backend} {who:?}: '{word}' is only in the full report"
                );
            }
        }
        // Once the indicators are shared, they are searchable too.
        let with_indicators = SanitisedDraft {
            share_indicators: true,
            ..version
        };
        w.app
            .store
            .set_sanitised_version(
                &id,
                &with_indicators,
                true,
                w.person(Who::Reporter).user.id,
                now(),
            )
            .await
            .expect("share");
        let (page, api) = search(Who::Outsider, "armadillo-phish.example").await;
        assert!(finds(&page) && finds(&api), "{backend}");
        let (_, shown) = send(&w, Who::Outsider, Route::PageShow, &id).await;
        assert!(
            shown.contains("armadillo-phish.example"),
            "{backend}: the shared indicators show"
        );
    }
}

// ------------------------------------------------------- the report form

#[tokio::test]
async fn the_report_form_names_each_problem_and_needs_its_csrf_token() {
    let app = crate::support::sqlite_app().await;
    let w = World::new(app).await;
    let reporter = &w.person(Who::Reporter).client;
    let page = reporter.get("/incidents/new").await;
    assert_eq!(page.status, StatusCode::OK);
    for label in [
        "TLP:AMBER+STRICT",
        "Recipients may share this within their organisation only.",
        "Personal data is involved",
        "datetime-local",
    ] {
        assert!(page.contains(label), "{label}");
    }
    let future = (now() + chrono::Duration::days(2))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let bad = reporter
        .submit(
            "/incidents/new",
            "/incidents",
            &[
                ("title", "Odd traffic"),
                ("summary", "Beaconing from a file server."),
                ("category", "malware"),
                ("detected_at", &future),
                ("indicators", "203.0.113.7\nnot an indicator"),
                ("tlp", "amber"),
                ("status", "open"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(
        bad.contains("When your council became aware of it: must not be in the future"),
        "{}",
        bad.body
    );
    assert!(
        bad.contains("Indicators: line 2: &#39;not an indicator&#39; is not")
            || bad.contains("Indicators: line 2: 'not an indicator' is not"),
        "{}",
        bad.body
    );
    assert!(
        bad.contains("Beaconing from a file server."),
        "the form keeps what was typed"
    );

    // Without the CSRF token: refused, nothing stored.
    let forged = reporter
        .post(
            "/incidents",
            &[
                ("title", "Forged"),
                ("summary", "x"),
                ("category", "malware"),
                ("detected_at", &minutes_ago(5)),
                ("tlp", "amber"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let everything = IncidentFilter {
        all: true,
        ..IncidentFilter::default()
    };
    assert!(
        w.app
            .store
            .incidents(&everything)
            .await
            .expect("list")
            .is_empty()
    );
    // A CSRF token on a change to an incident is checked too.
    let ok = reporter
        .submit(
            "/incidents/new",
            "/incidents",
            &[
                ("title", "Odd traffic"),
                ("summary", "Beaconing from a file server."),
                ("category", "malware"),
                ("detected_at", &minutes_ago(30)),
                ("indicators", "203.0.113.7"),
                ("tlp", "amber"),
                ("status", "open"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let location = ok.location.expect("redirect");
    let id = location
        .strip_prefix("/incidents/")
        .and_then(|l| l.split('?').next())
        .expect("incident page")
        .to_string();
    let forged = reporter
        .post(
            &format!("/incidents/{id}/escalations"),
            &[("target", "ncsc")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let shown = reporter.get(&location).await;
    assert!(shown.contains("The incident has been reported"));
    assert!(shown.contains("TLP:AMBER"));

    // The API names the same fields.
    let (status, body) = w
        .api(
            Who::Reporter,
            Method::POST,
            "/api/v1/incidents",
            Some(json!({
                "title": "x", "summary": "y", "category": "malware", "detected_at": future,
                "indicators": ["203.0.113.7", "nonsense here"], "tlp": "amber"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = json(&body)["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        fields.contains(&"detected_at".to_string()) && fields.contains(&"indicators".to_string()),
        "{body}"
    );
    // Operators take reports; they do not file them.
    let (status, _) = w
        .api(
            Who::Operator,
            Method::POST,
            "/api/v1/incidents",
            Some(json!({"title": "x", "summary": "y", "category": "malware", "detected_at": minutes_ago(5), "tlp": "amber"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

// ----------------------------------------------- shared-supplier warning

#[tokio::test]
async fn a_named_supplier_warns_its_other_users_anonymously_at_once() {
    for app in apps().await {
        let backend = app.backend();
        let w = World::new(app).await;
        // Medway lists the supplier (spelt a little differently); Dover does not.
        w.app
            .store
            .add_supplier(
                w.medway.id,
                &SupplierDraft {
                    name: "Mid Kent ICT".into(),
                    kind: SupplierKind::SharedService,
                    services: None,
                    contact: None,
                    notes: None,
                },
                now(),
            )
            .await
            .expect("supplier");
        w.app
            .store
            .add_supplier(
                w.zebra.id,
                &SupplierDraft {
                    name: "Mid Kent ICT".into(),
                    kind: SupplierKind::SharedService,
                    services: None,
                    contact: None,
                    notes: None,
                },
                now(),
            )
            .await
            .expect("supplier");
        let reporter = &w.person(Who::Reporter).client;
        let form = reporter.get("/incidents/new").await;
        assert!(
            form.contains("<option value=\"Mid Kent ICT\">"),
            "the org's own suppliers are suggested"
        );
        let page = reporter
            .submit(
                "/incidents/new",
                "/incidents",
                &[
                    (
                        "title",
                        "Zebrashire ransomware through the shared ICT service",
                    ),
                    (
                        "summary",
                        "The shared service's remote tool was used to encrypt our servers.",
                    ),
                    ("category", "supplier_compromise"),
                    ("detected_at", &minutes_ago(20)),
                    ("supplier", "Mid Kent ICT Ltd"),
                    ("personal_data", "on"),
                    ("tlp", "amber"),
                    ("status", "open"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let location = page.location.expect("redirect");
        let id = location
            .strip_prefix("/incidents/")
            .and_then(|l| l.split('?').next())
            .expect("incident")
            .to_string();

        // Medway is warned, without the reporter's name; Dover is not.
        let alerts = w
            .app
            .store
            .alerts_for_org(w.medway.id, 10)
            .await
            .expect("alerts");
        assert_eq!(alerts.len(), 1, "{backend}");
        let a = &alerts[0];
        assert!(
            a.title.contains("Supplier warning") && a.title.contains("Mid Kent ICT"),
            "{}",
            a.title
        );
        let words =
            format!("{} {} {}", a.title, a.content.summary, a.content.reason).to_lowercase();
        assert!(
            !words.contains("zebra"),
            "{backend}: the warning names the reporter: {words}"
        );
        assert!(
            words.contains("a district or borough council in test region"),
            "{words}"
        );
        assert!(
            w.app
                .store
                .alerts_for_org(w.dover.id, 10)
                .await
                .expect("alerts")
                .is_empty()
        );
        let shown = w
            .person(Who::OtherUser)
            .client
            .get(&format!("/alerts/{}", a.id))
            .await;
        assert_eq!(shown.status, StatusCode::OK);
        assert!(!shown.body.to_lowercase().contains("zebra"));

        // ...and cannot open the incident.
        for who in [Who::OtherUser, Who::OtherLead] {
            let (status, body) = send(&w, who, Route::PageShow, &id).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
            assert!(!body.to_lowercase().contains("zebra"));
            let (status, _) = send(&w, who, Route::ApiGet, &id).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
        }

        // The reporter learns how many, the operator whom.
        let mine = reporter.get(&location).await;
        assert!(
            mine.contains("1 other member using Mid Kent ICT Ltd was warned (without naming you)"),
            "{}",
            mine.body
        );
        assert!(
            !mine.contains("Members warned because they list"),
            "only operators see whom"
        );
        assert!(mine.contains("ICO notification") && mine.contains("hours left"));
        let op = w.person(Who::Operator).client.get(&location).await;
        assert!(
            op.contains("Medway Council") && op.contains("Members warned because they list"),
            "{}",
            op.body
        );
        let (_, body) = w
            .api(
                Who::Operator,
                Method::GET,
                &format!("/api/v1/incidents/{id}"),
                None,
            )
            .await;
        assert_eq!(
            json(&body)["warned_members"][0]["org_name"],
            "Medway Council"
        );
        let (_, body) = w
            .api(
                Who::Reporter,
                Method::GET,
                &format!("/api/v1/incidents/{id}"),
                None,
            )
            .await;
        let v = json(&body);
        assert_eq!(v["members_warned"], 1);
        assert!(v.get("warned_members").is_none());
    }
}

// -------------------------------------------- sharing, ICO, lessons, audit

#[tokio::test]
async fn an_operator_proposes_the_reporter_shares_and_everything_is_recorded() {
    for app in apps().await {
        let backend = app.backend();
        let w = World::new(app).await;
        let (status, body) = w
            .api(
                Who::Reporter,
                Method::POST,
                "/api/v1/incidents",
                Some(json!({
                    "title": "Zebrashire payroll fraud", "summary": "ZEBRA-SECRET details.",
                    "category": "phishing_bec", "detected_at": minutes_ago(60 * 50),
                    "personal_data": true, "tlp": "amber_strict",
                    "indicators": ["payroll@zebra-fraud.example"]
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let v = json(&body);
        let id = v["id"].as_str().expect("id").to_string();
        assert_eq!(v["ico"]["state"], "running");
        assert_eq!(v["ico"]["warn"], true, "under 24 hours left");
        let page = w
            .person(Who::Reporter)
            .client
            .get(&format!("/incidents/{id}"))
            .await;
        assert!(page.contains("ico-panel ico-warn"), "{}", page.body);

        // An operator proposes an AMBER version for Medway: nobody else sees it yet.
        let op = w.person(Who::Operator);
        let proposed = op
            .client
            .post(
                &format!("/incidents/{id}/sanitised"),
                &[
                    ("shared_title", "Payroll diversion fraud"),
                    (
                        "shared_summary",
                        "A council's payroll was diverted by a spoofed e-mail.",
                    ),
                    ("shared_tlp", "amber"),
                    ("attribution", "anonymous"),
                    ("recipient_orgs", &w.medway.id.0.to_string()),
                    ("recipient_orgs", &w.dover.id.0.to_string()),
                    ("csrf", &op.csrf),
                ],
            )
            .await;
        assert_eq!(proposed.status, StatusCode::SEE_OTHER, "{}", proposed.body);
        assert_eq!(
            proposed.location.as_deref(),
            Some(format!("/incidents/{id}?notice=proposed").as_str())
        );
        let (status, _) = send(&w, Who::OtherUser, Route::ApiGet, &id).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{backend}: proposed is not shared"
        );

        // The reporter approves: Medway and Dover read the sanitised version only.
        let r = w.person(Who::Reporter);
        let page = r.client.get(&format!("/incidents/{id}")).await;
        assert!(page.contains("Approve and share") && page.contains("Refuse the proposal"));
        let approved = r
            .client
            .post(
                &format!("/incidents/{id}/sanitised/approve"),
                &[("csrf", &r.csrf)],
            )
            .await;
        assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
        for who in [Who::OtherUser, Who::Outsider] {
            let (status, body) = send(&w, who, Route::PageShow, &id).await;
            assert_eq!(status, StatusCode::OK, "{backend} {who:?}");
            assert!(
                body.contains("Payroll diversion fraud")
                    && body.contains("a district or borough council in Test Region")
            );
            assert!(!body.to_lowercase().contains("zebra"), "{body}");
        }
        let (status, _) = send(&w, Who::Named, Route::PageShow, &id).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "Dover was chosen too, so its users read it"
        );

        // The reporter names the organisation: the attribution says so.
        let (status, body) = w
            .api(
                Who::Reporter,
                Method::PUT,
                &format!("/api/v1/incidents/{id}/sanitised"),
                Some(json!({"title": "Payroll diversion fraud", "summary": "Spoofed e-mail.", "tlp": "green", "attribution": "named"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(json(&body)["sharing"], "shared");
        let (_, body) = send(&w, Who::Outsider, Route::ApiGet, &id).await;
        assert_eq!(json(&body)["attribution"], "Zebrashire District Council");

        // A colleague's change is only a proposal: sharing stops until approved.
        let (status, body) = w
            .api(
                Who::Colleague,
                Method::PUT,
                &format!("/api/v1/incidents/{id}/sanitised"),
                Some(json!({"title": "Changed", "summary": "Changed.", "tlp": "clear"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(json(&body)["sharing"], "proposed");
        let (status, _) = send(&w, Who::Outsider, Route::ApiGet, &id).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Unknown recipients are named, not a server error.
        let (status, body) = w
            .api(
                Who::Reporter,
                Method::PUT,
                &format!("/api/v1/incidents/{id}/sanitised"),
                Some(json!({"title": "t", "summary": "s", "tlp": "red", "recipient_users": [999999]})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("recipient_users"));

        // Referrals by an operator and the reporter; the ICO record.
        let (status, body) = w
            .api(
                Who::Operator,
                Method::POST,
                &format!("/api/v1/incidents/{id}/escalations"),
                Some(json!({"target": "action_fraud", "reference": "NFRC-0042"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(body.contains("NFRC-0042"));
        let esc = r
            .client
            .post(
                &format!("/incidents/{id}/escalations"),
                &[
                    ("target", "ncsc"),
                    ("at", &minutes_ago(10)),
                    ("reference", "NCSC-77"),
                    ("csrf", &r.csrf),
                ],
            )
            .await;
        assert_eq!(esc.status, StatusCode::SEE_OTHER, "{}", esc.body);
        let ico = r
            .client
            .post(
                &format!("/incidents/{id}/ico"),
                &[
                    ("at", &minutes_ago(5)),
                    ("method", "online breach report form"),
                    ("reference", "ICO-123"),
                    ("csrf", &r.csrf),
                ],
            )
            .await;
        assert_eq!(ico.status, StatusCode::SEE_OTHER, "{}", ico.body);
        let page = r.client.get(&format!("/incidents/{id}")).await;
        assert!(
            page.contains("The ICO was told on")
                && page.contains("by online breach report form, reference ICO-123; in time"),
            "{}",
            page.body
        );
        assert!(page.contains("NCSC-77") && page.contains("Action Fraud"));
        let (status, _) = w
            .api(
                Who::Operator,
                Method::POST,
                &format!("/api/v1/incidents/{id}/ico"),
                Some(json!({"method": "phone"})),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "operators log referrals, not the ICO record"
        );

        // Lessons: only once closed; shared lessons reach every member.
        let (status, _) = w
            .api(
                Who::Reporter,
                Method::PUT,
                &format!("/api/v1/incidents/{id}/lessons"),
                Some(json!({"lessons": "Call back on a known number.", "share": true})),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let withdrawn = w
            .api(
                Who::Lead,
                Method::POST,
                &format!("/api/v1/incidents/{id}/sharing/withdraw"),
                None,
            )
            .await;
        assert_eq!(withdrawn.0, StatusCode::OK);
        let (status, body) = w
            .api(
                Who::Reporter,
                Method::PUT,
                &format!("/api/v1/incidents/{id}"),
                Some(json!({"title": "Zebrashire payroll fraud", "summary": "ZEBRA-SECRET details.", "category": "phishing_bec",
                            "detected_at": minutes_ago(60 * 50), "personal_data": true, "tlp": "amber_strict", "status": "closed"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = w
            .api(
                Who::Colleague,
                Method::PUT,
                &format!("/api/v1/incidents/{id}/lessons"),
                Some(json!({"lessons": "x", "share": true})),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "sharing lessons is the reporter's or lead's decision"
        );
        let (status, _) = w
            .api(Who::Reporter, Method::PUT, &format!("/api/v1/incidents/{id}/lessons"), Some(json!({"lessons": "Call back on a known number before changing bank details.", "share": true})))
            .await;
        assert_eq!(status, StatusCode::OK);
        for who in [Who::Outsider, Who::OtherUser] {
            let list = w.person(who).client.get("/incidents").await;
            assert!(
                list.contains("Call back on a known number"),
                "{backend} {who:?}"
            );
            assert!(!list.body.to_lowercase().contains("zebra"), "{}", list.body);
            assert!(
                !list.contains(&id),
                "lessons only: the incident stays closed to them"
            );
            let (_, body) = w
                .api(who, Method::GET, "/api/v1/incidents?q=known+number", None)
                .await;
            let v = json(&body);
            assert_eq!(v["lessons"].as_array().map(Vec::len), Some(1), "{body}");
            assert!(v["lessons"][0]["id"].is_null());
            assert!(!body.to_lowercase().contains("zebra"));
        }

        // Naming the council in a version for Medway names it to Medway only:
        // Dover reads the lessons anonymously.
        let (status, body) = w
            .api(
                Who::Reporter,
                Method::PUT,
                &format!("/api/v1/incidents/{id}/sanitised"),
                Some(json!({"title": "Payroll diversion fraud", "summary": "Spoofed e-mail.", "tlp": "amber",
                            "attribution": "named", "recipient_orgs": [w.medway.id.0]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, medway) = w
            .api(Who::OtherUser, Method::GET, "/api/v1/incidents", None)
            .await;
        let medway = json(&medway);
        assert_eq!(
            medway["lessons"][0]["attribution"],
            "Zebrashire District Council"
        );
        assert_eq!(medway["lessons"][0]["id"], id.as_str());
        for who in [Who::Outsider, Who::Named] {
            let (_, body) = w.api(who, Method::GET, "/api/v1/incidents", None).await;
            let v = json(&body);
            assert_eq!(
                v["lessons"][0]["attribution"], "a district or borough council in Test Region",
                "{backend} {who:?}"
            );
            assert!(
                !body.to_lowercase().contains("zebra"),
                "{backend} {who:?}: {body}"
            );
            let list = w.person(who).client.get("/incidents?q=zebrashire").await;
            assert!(
                !list.contains("Call back on a known number"),
                "{backend}: found by the name it hides"
            );
        }

        // Every read and change was recorded, for the lead and operators only.
        let (status, body) = w
            .api(
                Who::Lead,
                Method::GET,
                &format!("/api/v1/incidents/{id}/audit"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let log = json(&body);
        let entries: Vec<(String, String, String)> = log
            .as_array()
            .expect("log")
            .iter()
            .map(|e| {
                (
                    e["actor"].as_str().unwrap_or("").to_string(),
                    e["action"].as_str().unwrap_or("").to_string(),
                    e["view"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        for (actor, action, view) in [
            ("lead@dover.gov.uk", "read", "sanitised"),
            ("it@medway.gov.uk", "read", "sanitised"),
            ("operator@warp.example", "share_propose", "full"),
            ("zebra-reporter@zebrashire.gov.uk", "share_approve", "full"),
            ("zebra-reporter@zebrashire.gov.uk", "report", "full"),
            ("zebra-reporter@zebrashire.gov.uk", "ico", "full"),
            ("operator@warp.example", "escalation", "full"),
            ("zebra-lead@zebrashire.gov.uk", "share_withdraw", "full"),
            ("zebra-reporter@zebrashire.gov.uk", "lessons", "full"),
        ] {
            assert!(
                entries
                    .iter()
                    .any(|(a, x, v)| a.contains(actor) && x == action && v == view),
                "{backend}: no {action}/{view} by {actor} in {entries:?}"
            );
        }
        let audit_page = w
            .person(Who::Operator)
            .client
            .get(&format!("/incidents/{id}/audit"))
            .await;
        assert_eq!(audit_page.status, StatusCode::OK);
        assert!(audit_page.contains("lead@dover.gov.uk"));
        let printed = w
            .person(Who::Colleague)
            .client
            .get(&format!("/incidents/{id}/print"))
            .await;
        assert_eq!(printed.status, StatusCode::OK);
        assert!(printed.contains("TLP:AMBER+STRICT") && printed.contains("print-page"));
        let audit = w.app.store.audit_log(200, None).await.expect("audit");
        let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
        for a in [
            "incident.report",
            "incident.share_propose",
            "incident.share_approve",
            "incident.share",
            "incident.share_withdraw",
            "incident.escalation",
            "incident.ico",
            "incident.update",
            "incident.lessons",
            "incident.export",
        ] {
            assert!(
                actions.contains(&a),
                "{backend}: {a} not audited: {actions:?}"
            );
        }
        assert!(
            audit
                .iter()
                .filter(|e| e.action.starts_with("incident."))
                .all(|e| e.target == id),
            "the audit log names incidents by public id, never their titles"
        );
    }
}

// ------------------------------------------------------------ STIX export

async fn stix_get(w: &World, id: &str, who: Who, query: &str) -> crate::support::Page {
    w.person(who)
        .client
        .get(&format!("/incidents/{id}/stix{query}"))
        .await
}

/// The export validates against the official STIX 2.1 schemas in both
/// versions, and carries only the version its reader may see.
#[tokio::test]
async fn stix_exports_validate_and_carry_only_the_version_you_may_read() {
    let Some(stix) = openwarp_stix::testing::stix_data() else {
        return;
    };
    let schemas = openwarp_stix::testing::Schemas::load(&stix);
    for app in apps().await {
        let backend = app.backend();
        let w = World::new(app).await;
        let store = &w.app.store;
        let reporter = w.person(Who::Reporter).user.id;
        let inc = store
            .create_incident(
                w.zebra.id,
                reporter,
                &report("Zebrashire revenues ransomware", TlpLabel::Amber),
                "South East England",
                now(),
            )
            .await
            .expect("report");
        let id = inc.public_id.clone();
        let mut shared = sanitised(&w, "Ransomware at a district council", TlpLabel::Green);
        shared.share_indicators = true;
        store
            .set_sanitised_version(&id, &shared, true, reporter, now())
            .await
            .expect("share");

        // The reporter: the full report, naming the council, TLP:AMBER.
        let full = stix_get(&w, &id, Who::Reporter, "").await;
        assert_eq!(full.status, StatusCode::OK, "{backend}: {}", full.body);
        let bundle = json(&full.body);
        let errors = schemas.check_bundle(&bundle);
        assert!(errors.is_empty(), "{backend}: full export: {errors:#?}");
        assert!(
            full.body.contains("ZEBRA-SECRET") && full.body.contains("Zebrashire District Council")
        );
        assert!(
            full.body
                .contains(openwarp_stix::tlp::marking_definition_id(TlpLabel::Amber))
        );
        // What others get, as the reporter can check it.
        let as_shared = stix_get(&w, &id, Who::Reporter, "?edition=sanitised").await;
        assert_eq!(as_shared.status, StatusCode::OK);
        // Another member: the sanitised version, anonymous, TLP:GREEN,
        // with the indicators the reporter chose to share.
        let other = stix_get(&w, &id, Who::Outsider, "").await;
        assert_eq!(other.status, StatusCode::OK, "{backend}: {}", other.body);
        assert_eq!(
            other.body, as_shared.body,
            "the same bundle for the same version"
        );
        let bundle = json(&other.body);
        let errors = schemas.check_bundle(&bundle);
        assert!(
            errors.is_empty(),
            "{backend}: sanitised export: {errors:#?}"
        );
        assert!(!other.body.contains("ZEBRA-SECRET") && !other.body.contains("Zebrashire"));
        assert!(other.body.contains(SHARED));
        assert!(other.body.contains("a district or borough council in"));
        assert!(other.body.contains("[ipv4-addr:value = '203.0.113.9']"));
        assert!(
            other
                .body
                .contains(openwarp_stix::tlp::marking_definition_id(TlpLabel::Green))
        );
        assert!(
            !other
                .body
                .contains(openwarp_stix::tlp::marking_definition_id(TlpLabel::Amber))
        );
        // Asking for more than one may read is the same as no incident.
        assert_eq!(
            stix_get(&w, &id, Who::Outsider, "?edition=full")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            stix_get(&w, &id, Who::Outsider, "?edition=everything")
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        // The API says the same, with the STIX media type.
        let resp = w
            .app
            .client()
            .http
            .get(w.app.url(&format!("/api/v1/incidents/{id}/stix")))
            .bearer_auth(&w.person(Who::OtherUser).token)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.headers()["content-type"],
            "application/stix+json;version=2.1"
        );
        assert_eq!(resp.text().await.expect("body"), other.body);
        // Exports are recorded.
        let log = store.incident_access_log(&id).await.expect("log");
        assert!(log.iter().filter(|a| a.action == "export").count() >= 4);
    }
}

// -------------------------------------------------------- evidence files

#[tokio::test]
async fn evidence_files_are_uploaded_downloaded_and_deleted_with_a_trace() {
    for app in apps().await {
        let backend = app.backend();
        let w = World::new(app).await;
        // AMBER, shared as CLEAR: Dover's lead reads the sanitised version.
        let c = Case {
            tlp: TlpLabel::Amber,
            state: State::Shared,
            shared_tlp: TlpLabel::Clear,
        };
        let inc = incident(&w, &c, 0).await;
        let other = incident(&w, &c, 1).await;
        let id = inc.public_id.as_str();
        let reporter = w.person(Who::Reporter);
        let api_path = format!("/api/v1/incidents/{id}/attachments");

        // The four API routes are documented.
        let (_, doc) = w
            .api(Who::Reporter, Method::GET, "/api/v1/openapi.json", None)
            .await;
        let doc = json(&doc);
        let paths = &doc["paths"];
        for (path, methods) in [
            ("/api/v1/incidents/{id}/attachments", ["get", "post"]),
            (
                "/api/v1/incidents/{id}/attachments/{aid}",
                ["get", "delete"],
            ),
        ] {
            for m in methods {
                assert!(paths[path][m].is_object(), "OpenAPI lacks {m} {path}");
            }
        }
        assert!(doc["components"]["schemas"]["AttachmentDto"].is_object());

        // Through the page: the phishing e-mail, with a name that needs encoding.
        let eml =
            b"From: payroll@evil.example\r\nSubject: Invoice\r\n\r\nPay \xa3500 now\r\n".to_vec();
        let name = "Invoice overdue \u{2013} été.eml";
        let up = reporter
            .client
            .upload(
                &format!("/incidents/{id}"),
                &format!("/incidents/{id}/attachments"),
                (name, eml.clone(), "message/rfc822"),
            )
            .await;
        assert_eq!(up.status, StatusCode::SEE_OTHER, "{backend}: {}", up.body);
        assert_eq!(
            up.location.as_deref(),
            Some(format!("/incidents/{id}?notice=attached#attachments").as_str())
        );
        let page = reporter.client.get(&format!("/incidents/{id}")).await;
        assert!(
            page.contains("Invoice overdue \u{2013} été.eml"),
            "{}",
            page.body
        );
        assert!(page.contains("zebra-reporter") && page.contains("Evidence files"));

        // Through the API: a screenshot.
        let png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0xff];
        let (status, body) = api_upload(
            &w.app,
            &reporter.token,
            &api_path,
            ("screenshot.png", png.clone(), "image/png"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let shot = json(&body);
        assert_eq!(shot["file_name"], "screenshot.png");
        assert_eq!(shot["size"], 10);
        assert_eq!(shot["content_type"], "image/png");
        assert!(shot["id"].as_str().is_some_and(|i| i.starts_with("att-")));
        let shot_id = shot["id"].as_str().unwrap_or_default().to_string();

        let (status, body) = w.api(Who::Reporter, Method::GET, &api_path, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let list = json(&body);
        let files = list.as_array().expect("a list");
        assert_eq!(files.len(), 2, "{backend}: {body}");
        assert_eq!(files[0]["file_name"], name);
        assert_eq!(files[0]["content_type"], "message/rfc822");
        assert_eq!(files[0]["uploaded_by"], "User zebra-reporter");
        let eml_id = files[0]["id"].as_str().unwrap_or_default().to_string();
        assert_eq!(
            files[0]["download"],
            format!("/api/v1/incidents/{id}/attachments/{eml_id}")
        );

        // Downloads give back the same bytes, as attachments nobody runs.
        for who in [Who::Reporter, Who::Operator, Who::Colleague] {
            let (status, headers, bytes) = api_bytes(
                &w.app,
                &w.person(who).token,
                &format!("{api_path}/{eml_id}"),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{backend} {who:?}");
            assert_eq!(bytes, eml, "{backend} {who:?}");
            let h = |n: &str| {
                headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string()
            };
            assert_eq!(h("content-type"), "application/octet-stream");
            assert_eq!(
                h("content-disposition"),
                "attachment; filename=\"Invoice overdue _ _t_.eml\"; \
                 filename*=UTF-8''Invoice%20overdue%20%E2%80%93%20%C3%A9t%C3%A9.eml"
            );
            assert_eq!(h("x-content-type-options"), "nosniff");
            assert_eq!(h("content-security-policy"), "sandbox; default-src 'none'");
            assert_eq!(h("cache-control"), "private, no-store");
        }
        let (status, headers, bytes) =
            api_bytes(&w.app, &reporter.token, &format!("{api_path}/{shot_id}")).await;
        assert_eq!((status, bytes), (StatusCode::OK, png.clone()));
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("image/png")
        );
        let page = reporter
            .client
            .get(&format!("/incidents/{id}/attachments/{eml_id}"))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let h = |n: &str| page.headers.get(n).and_then(|v| v.to_str().ok());
        assert_eq!(h("cache-control"), Some("private, no-store"));
        assert_eq!(
            h("content-security-policy"),
            Some("sandbox; default-src 'none'")
        );
        assert_eq!(h("x-content-type-options"), Some("nosniff"));
        assert_eq!(h("content-type"), Some("application/octet-stream"));

        // Wrong, guessed and borrowed ids find nothing.
        let mut flipped = eml_id.clone().into_bytes();
        flipped[8] = if flipped[8] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        for path in [
            format!("/api/v1/incidents/{}/attachments/{eml_id}", other.public_id),
            format!("{api_path}/{flipped}"),
            format!("{api_path}/{NO_SUCH_ATTACHMENT}"),
            format!("{api_path}/{}", eml_id.to_uppercase()),
            format!("{api_path}/1"),
            format!("{api_path}/att-{}", "A".repeat(300)),
        ] {
            let (status, body) = w.api(Who::Reporter, Method::GET, &path, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend} {path}: {body}");
            let page = reporter.client.get(&path.replacen("/api/v1", "", 1)).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{backend} {path}");
        }
        assert!(
            !w.api(
                Who::Reporter,
                Method::GET,
                &format!("/api/v1/incidents/{}/attachments", other.public_id),
                None
            )
            .await
            .1
            .contains("att-")
        );

        // A sanitised reader learns nothing, exactly as for no incident at all.
        let outsider = w.person(Who::Outsider);
        let missing = "inc-0000000000000000000000";
        for (real, none) in [
            (
                format!("{api_path}/{eml_id}"),
                format!("/api/v1/incidents/{missing}/attachments/{eml_id}"),
            ),
            (
                api_path.clone(),
                format!("/api/v1/incidents/{missing}/attachments"),
            ),
        ] {
            let seen = w.api(Who::Outsider, Method::GET, &real, None).await;
            let nothing = w.api(Who::Outsider, Method::GET, &none, None).await;
            assert_eq!(seen.0, StatusCode::NOT_FOUND, "{backend} {real}");
            assert_eq!(seen, nothing, "{backend} {real}");
            let seen = outsider.client.get(&real.replacen("/api/v1", "", 1)).await;
            let nothing = outsider.client.get(&none.replacen("/api/v1", "", 1)).await;
            assert_eq!(
                (seen.status, seen.body),
                (nothing.status, nothing.body),
                "{backend} {real}"
            );
        }
        let shown = outsider.client.get(&format!("/incidents/{id}")).await;
        assert_eq!(shown.status, StatusCode::OK);
        assert!(
            !shown.contains("Evidence files")
                && !shown.contains("/attachments")
                && !shown.contains("Invoice"),
            "{}",
            shown.body
        );

        // Operators read but do not add or delete.
        let (status, _) = api_upload(
            &w.app,
            &w.person(Who::Operator).token,
            &api_path,
            ("note.txt", b"x".to_vec(), "text/plain"),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = w
            .api(
                Who::Operator,
                Method::DELETE,
                &format!("{api_path}/{eml_id}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let op_page = w
            .person(Who::Operator)
            .client
            .get(&format!("/incidents/{id}"))
            .await;
        assert!(op_page.contains("Invoice overdue") && !op_page.contains("Attach the file"));

        // Bad files: clear errors, nothing stored.
        let big = vec![b'a'; openwarp_web::MAX_UPLOAD_BYTES + 1];
        for (file, want, says) in [
            (
                ("empty.eml", Vec::new(), "message/rfc822"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "the file is empty",
            ),
            (
                ("../../etc/passwd", b"root".to_vec(), "text/plain"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "folder parts",
            ),
            (
                ("logs\\auth.log", b"x".to_vec(), "text/plain"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "folder parts",
            ),
            (
                ("big.log", big.clone(), "text/plain"),
                StatusCode::PAYLOAD_TOO_LARGE,
                "larger than 10 MB",
            ),
        ] {
            let (status, body) = api_upload(&w.app, &reporter.token, &api_path, file).await;
            assert_eq!(status, want, "{backend}: {body}");
            assert!(body.contains(says), "{backend}: {body}");
        }
        let (status, body) = w
            .api(
                Who::Reporter,
                Method::POST,
                &api_path,
                Some(json!({"file": "x"})),
            )
            .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
        let page = reporter.client.get(&format!("/incidents/{id}")).await;
        let too_big = reporter
            .client
            .post_file(
                &format!("/incidents/{id}/attachments"),
                &[("csrf", &page.csrf())],
                Some(("big.log", big, "text/plain")),
            )
            .await;
        assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(too_big.contains("larger than 10 MB"), "{}", too_big.body);
        let no_csrf = reporter
            .client
            .post_file(
                &format!("/incidents/{id}/attachments"),
                &[],
                Some(("ok.txt", b"x".to_vec(), "text/plain")),
            )
            .await;
        assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
        assert_eq!(
            w.app
                .store
                .incident_attachments(id)
                .await
                .expect("files")
                .len(),
            2,
            "{backend}: nothing stored"
        );

        // Deleting, through the page and the API.
        let gone = reporter
            .client
            .submit(
                &format!("/incidents/{id}"),
                &format!("/incidents/{id}/attachments/{eml_id}/delete"),
                &[],
            )
            .await;
        assert_eq!(gone.status, StatusCode::SEE_OTHER, "{}", gone.body);
        let (status, _) = w
            .api(
                Who::Lead,
                Method::DELETE,
                &format!("{api_path}/{shot_id}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = w
            .api(
                Who::Lead,
                Method::DELETE,
                &format!("{api_path}/{shot_id}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            w.app
                .store
                .incident_attachments(id)
                .await
                .expect("files")
                .is_empty()
        );

        // The timeline, the access log and the audit log keep the trace.
        let (_, body) = w
            .api(
                Who::Reporter,
                Method::GET,
                &format!("/api/v1/incidents/{id}/timeline"),
                None,
            )
            .await;
        for line in [
            format!("Attachment added: {name} (62 bytes)"),
            "Attachment added: screenshot.png (10 bytes)".to_string(),
            format!("Attachment deleted: {name} (62 bytes)"),
            "Attachment deleted: screenshot.png (10 bytes)".to_string(),
        ] {
            assert!(body.contains(&line), "{backend}: {line} in {body}");
        }
        let (_, body) = w
            .api(
                Who::Lead,
                Method::GET,
                &format!("/api/v1/incidents/{id}/audit"),
                None,
            )
            .await;
        let log = json(&body);
        let actions: Vec<(String, String)> = log
            .as_array()
            .expect("log")
            .iter()
            .map(|e| {
                (
                    e["actor"].as_str().unwrap_or_default().to_string(),
                    e["action"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        for (who, action) in [
            ("<zebra-reporter@", "attachment_add"),
            ("<zebra-reporter@", "attachment_list"),
            ("<zebra-reporter@", "attachment_read"),
            ("<operator@", "attachment_read"),
            ("<zebra-reporter@", "attachment_delete"),
            ("<zebra-lead@", "attachment_delete"),
        ] {
            assert!(
                actions.iter().any(|(a, x)| a.contains(who) && x == action),
                "{backend}: {who} {action} in {actions:?}"
            );
        }
        let audit = w.app.store.audit_log(500, None).await.expect("audit");
        let ours: Vec<_> = audit
            .iter()
            .filter(|e| e.action.starts_with("incident.attachment_"))
            .collect();
        for action in [
            "incident.attachment_add",
            "incident.attachment_read",
            "incident.attachment_delete",
        ] {
            assert!(
                ours.iter().any(|e| e.action == action),
                "{backend}: {action}"
            );
        }
        for e in ours {
            let text = format!("{} {} {}", e.target, e.detail, e.action);
            assert!(
                !text.contains("Invoice") && !text.contains("screenshot"),
                "{text}"
            );
        }
    }
}

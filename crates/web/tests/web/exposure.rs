//! Inventories, suppliers and exposures over real HTTP: pages and API,
//! roles and tenants, imports and exports, with real advisory records.

use crate::support::call as api;
use crate::support::{TestApp, apps, sqlite_app, value_after};
use openwarp_advisory::{Parsed, SourceRecord};
use openwarp_core::{OrgId, Role};
use openwarp_store::{ExposureFilter, KnownRecords, Organisation, User, now};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The other crates, whose test fixtures are real records.
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{FIXTURES}/{path}");
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn records(path: &str) -> Vec<SourceRecord> {
    let mut out = Vec::new();
    openwarp_advisory::parse::parse_any(&fixture(path), &mut |p| {
        if let Parsed::Record(r) = p {
            out.push(*r);
        }
    })
    .expect("fixture parses");
    out
}

pub async fn ingest(app: &TestApp, paths: &[&str]) {
    let recs: Vec<SourceRecord> = paths.iter().flat_map(|p| records(p)).collect();
    app.store
        .upsert_records(&recs, &mut KnownRecords::default(), now())
        .await
        .expect("ingest");
}

pub const PROTON_SBOM: &str = "matching/tests/fixtures/sbom/proton-bridge-1.8.0-go.cdx-1.2.json";
pub const GO_OSV: [&str; 4] = [
    "advisory/tests/fixtures/osv/go_cilium_three_fixed_branches.jsonl",
    "advisory/tests/fixtures/osv/go_duplicate_cve_alias.jsonl",
    "advisory/tests/fixtures/osv/go_stdlib_and_x_net_reopened_range.json",
    "advisory/tests/fixtures/osv/go_withdrawn_kubernetes_proxy.jsonl",
];

async fn upload_api(
    app: &TestApp,
    org: i64,
    token: &str,
    bytes: Vec<u8>,
    mime: &str,
) -> (StatusCode, Value) {
    let resp = app
        .client()
        .http
        .post(app.url(&format!("/api/v1/orgs/{org}/inventory/import")))
        .bearer_auth(token)
        .header("content-type", mime)
        .body(bytes)
        .send()
        .await
        .expect("import");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

const LOG4SHELL: [&str; 2] = [
    "advisory/tests/fixtures/cve5/cve5_log4shell_changes_and_cisa_adp_cvss.json",
    "store/tests/fixtures/kev_log4shell_entry.json",
];
const XZ_NVD: &str = "advisory/tests/fixtures/nvd/nvd_api_xz_backdoor_with_ssvc_metric.json";
const CBOM: &str = "matching/tests/fixtures/sbom/cbom-example-with-dependencies.cdx-1.6.json";

/// Log4Shell from its CVE record and CISA's KEV entry (only that entry).
async fn ingest_log4shell(app: &TestApp) {
    let recs: Vec<SourceRecord> = LOG4SHELL
        .iter()
        .flat_map(|p| records(p))
        .filter(|r| r.vuln_id == "CVE-2021-44228")
        .collect();
    app.store
        .upsert_records(&recs, &mut KnownRecords::default(), now())
        .await
        .expect("ingest");
}

/// A member organisation with a user of `role`.
async fn member(app: &TestApp, org: &str, email: &str, role: Role) -> (Organisation, User) {
    let o = app.org(org, "unitary", true).await;
    let u = app.user(email, role, Some(o.id)).await;
    (o, u)
}

/// The Payroll server running Log4j 2.14.1, as the add-item form posts it.
fn payroll_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("name", "Payroll server"),
        ("vendor", "Apache Software Foundation"),
        ("product", "Apache Log4j2"),
        ("version", "2.14.1"),
        ("internet_facing", "on"),
        ("owner", "ICT Ops"),
    ]
}

fn payroll_json(version: &str) -> Value {
    json!({
        "name": "Payroll server",
        "vendor": "Apache Software Foundation",
        "product": "Apache Log4j2",
        "version": version,
        "internet_facing": true,
        "owner": "ICT Ops"
    })
}

/// Add the Payroll server through the API; its id.
async fn add_payroll(app: &TestApp, org: OrgId, token: &str) -> i64 {
    let (status, body) = api(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/orgs/{org}/inventory"),
        token,
        Some(payroll_json("2.14.1")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().expect("id")
}

async fn exposures(app: &TestApp, org: OrgId) -> Vec<openwarp_store::Exposure> {
    app.store
        .list_exposures(org, &ExposureFilter::default())
        .await
        .expect("list")
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String, String)> {
    app.store
        .audit_log(200, None)
        .await
        .expect("audit")
        .into_iter()
        .map(|r| (r.action, r.target, r.detail))
        .collect()
}

#[tokio::test]
async fn a_member_adds_an_item_and_sees_the_exposure_with_its_priority_and_reason() {
    for app in apps().await {
        ingest_log4shell(&app).await;
        let (org, _) = member(
            &app,
            "Medway Council",
            "user@medway.gov.uk",
            Role::MemberUser,
        )
        .await;
        let c = app.client().signed_in("user@medway.gov.uk").await;
        let id = org.id;

        // The inventory is reachable from the navigation and the organisation page.
        let mine = c.get("/inventory").await;
        assert_eq!(
            mine.location.as_deref(),
            Some(format!("/orgs/{id}/inventory").as_str())
        );
        assert!(
            c.get(&format!("/orgs/{id}"))
                .await
                .contains(&format!("href=\"/orgs/{id}/inventory\""))
        );
        let page = c.get(&format!("/orgs/{id}/inventory")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", app.backend());
        assert!(page.contains("Nothing recorded yet") && page.contains("Add item"));

        // Nothing to match on: the form comes back naming the field.
        let bad = c
            .submit(
                &format!("/orgs/{id}/inventory"),
                &format!("/orgs/{id}/inventory"),
                &[("name", "Mystery box"), ("cpe", "cpe:2.3:a:*:*")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.contains("There is a problem")
                && bad.contains("href=\"#cpe\"")
                && bad.contains("CPE 2.3 name:"),
            "{}",
            bad.body
        );
        assert!(
            bad.contains("value=\"Mystery box\""),
            "the form keeps what was typed"
        );

        let added = c
            .submit(
                &format!("/orgs/{id}/inventory"),
                &format!("/orgs/{id}/inventory"),
                &payroll_form(),
            )
            .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
        let item_path = added.location.clone().expect("location");
        assert!(
            item_path.starts_with(&format!("/orgs/{id}/inventory/"))
                && item_path.ends_with("?notice=item_added")
        );
        let item = c.get(&item_path).await;
        assert!(item.contains("The item has been added") && item.contains("CVE-2021-44228"));

        // "My exposure": the line, the priority with its reason, the status.
        let list = c.get("/exposure").await;
        assert_eq!(
            list.location.as_deref(),
            Some(format!("/orgs/{id}/exposure").as_str())
        );
        let list = c.get(&format!("/orgs/{id}/exposure")).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.contains("<h1>My exposure</h1>"));
        assert!(
            list.contains("affects your Payroll server 2.14.1, owner ICT Ops"),
            "{}",
            list.body
        );
        assert!(list.contains("<span class=\"tag prio-p1\">P1</span>"));
        assert!(list.contains("P1 because it is being exploited (CISA KEV)"));
        assert!(list.contains("How priorities are set") && list.contains("P4: everything else."));
        assert!(list.contains("<td>New</td>"));
        let x = &exposures(&app, id).await[0];
        assert!(list.contains(&format!("href=\"/orgs/{id}/exposure/{}\"", x.id)));
        // Filters: by priority, by status, and a bad value named.
        assert!(
            c.get(&format!("/orgs/{id}/exposure?priority=P3"))
                .await
                .contains("No exposures match these filters.")
        );
        assert!(
            c.get(&format!("/orgs/{id}/exposure?priority=P1&status=new"))
                .await
                .contains("affects your Payroll server")
        );
        let bad = c.get(&format!("/orgs/{id}/exposure?priority=P9")).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(
            bad.contains("priority: &#39;P9&#39; is not one of P1, P2, P3, P4"),
            "{}",
            bad.body
        );

        // The inventory counts the open exposure; the detail has evidence and remedy.
        let inv = c.get(&format!("/orgs/{id}/inventory")).await;
        assert!(inv.contains("1<span class=\"visually-hidden\"> open exposures of Payroll server"));
        let detail = c.get(&format!("/orgs/{id}/exposure/{}", x.id)).await;
        assert!(
            detail.contains("<td>CVE record</td><td>CVE-2021-44228</td>")
                && detail.contains("version 2.14.1 is affected"),
            "evidence: {}",
            detail.body
        );
        assert!(
            detail.contains("<p>Update to version 2.15.0 or later.</p>"),
            "remedy"
        );
        assert!(detail.contains("href=\"/advisories/CVE-2021-44228\""));
        assert!(detail.contains("Save status"), "members record decisions");

        // The dashboard: counts per priority and the top line.
        let dash = c.get("/dashboard").await;
        assert!(dash.contains("Your exposure") && dash.contains("affects your Payroll server"));

        // The same item twice is a clash, not a second item.
        let again = c
            .submit(
                &format!("/orgs/{id}/inventory"),
                &format!("/orgs/{id}/inventory"),
                &payroll_form(),
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(again.contains("is already in the inventory"));
        assert_eq!(app.store.list_items(id).await.expect("items").len(), 1);

        // Upgrading clears the exposure; it stays in the history.
        let item_id: i64 = item_path
            .trim_start_matches(&format!("/orgs/{id}/inventory/"))
            .split('?')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let mut upgraded = payroll_form();
        upgraded.retain(|(k, _)| *k != "version");
        upgraded.push(("version", "2.17.1"));
        let saved = c
            .submit(
                &format!("/orgs/{id}/inventory/{item_id}"),
                &format!("/orgs/{id}/inventory/{item_id}"),
                &upgraded,
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        assert!(exposures(&app, id).await.is_empty(), "{}", app.backend());
        let cleared = c
            .get(&format!("/orgs/{id}/exposure?include_inactive=on"))
            .await;
        assert!(cleared.contains("No longer matches"));

        // Removing the item.
        let gone = c
            .submit(
                &format!("/orgs/{id}/inventory/{item_id}"),
                &format!("/orgs/{id}/inventory/{item_id}/delete"),
                &[],
            )
            .await;
        assert_eq!(
            gone.location.as_deref(),
            Some(format!("/orgs/{id}/inventory?notice=item_deleted").as_str())
        );
        assert!(app.store.list_items(id).await.expect("items").is_empty());

        let log = audit_actions(&app).await;
        for action in ["inventory.add", "inventory.update", "inventory.delete"] {
            assert!(
                log.iter()
                    .any(|(a, t, _)| a == action && t.starts_with("Payroll server")),
                "{action} audited: {log:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_csv_with_a_bad_row_imports_nothing_and_names_line_and_column() {
    for app in apps().await {
        let (org, user) = member(
            &app,
            "Dover District Council",
            "lead@dover.gov.uk",
            Role::MemberLead,
        )
        .await;
        let id = org.id;
        let token = app.token(&user).await;
        let c = app.client().signed_in("lead@dover.gov.uk").await;
        let bad = "name,vendor,product,version,cpe\r\nPayroll,Apache,Log4j,2.14.1,\r\nBroken box,,,,not-a-cpe\r\n";

        let page = c
            .upload(
                &format!("/orgs/{id}/inventory"),
                &format!("/orgs/{id}/inventory/import/csv"),
                ("estate.csv", bad.into(), "text/csv"),
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}: {}",
            app.backend(),
            page.body
        );
        assert!(
            page.contains("The CSV file was not imported") && page.contains("line 3, column cpe"),
            "{}",
            page.body
        );
        assert!(
            app.store.list_items(id).await.expect("items").is_empty(),
            "nothing stored"
        );

        let (status, body) = upload_api(&app, id.0, &token, bad.into(), "text/csv").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["message"]
                .as_str()
                .unwrap_or("")
                .contains("line 3, column cpe"),
            "{body}"
        );
        assert_eq!(
            (
                body["fields"][0]["line"].as_u64(),
                body["fields"][0]["field"].as_str()
            ),
            (Some(3), Some("cpe"))
        );
        assert!(
            app.store.list_items(id).await.expect("items").is_empty(),
            "nothing stored"
        );

        // An unknown column is named too.
        let (status, body) = upload_api(
            &app,
            id.0,
            &token,
            "name,colour\nx,red\n".into(),
            "text/csv",
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["fields"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("\"colour\""),
            "{body}"
        );

        // Fixed, the file goes in; again, everything is a duplicate.
        let good = "name,vendor,product,version,internet_facing\r\nPayroll,Apache,Log4j,2.14.1,yes\r\nMail,Microsoft,Exchange Server,2019 CU12,no\r\n";
        let page = c
            .upload(
                &format!("/orgs/{id}/inventory"),
                &format!("/orgs/{id}/inventory/import/csv"),
                ("estate.csv", good.into(), "text/csv"),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.contains("CSV file imported: estate.csv")
                && page.contains("2 items added")
                && page.contains("0 duplicates skipped")
        );
        let (status, body) =
            upload_api(&app, id.0, &token, good.into(), "text/csv; charset=utf-8").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            (body["added"].as_u64(), body["duplicates"].as_u64()),
            (Some(0), Some(2))
        );
        let items = app.store.list_items(id).await.expect("items");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].origin, "csv: estate.csv");

        // An SBOM through the page lists what it skipped, and why.
        let page = c
            .upload(
                &format!("/orgs/{id}/inventory"),
                &format!("/orgs/{id}/inventory/import/sbom"),
                ("cbom.json", fixture(CBOM), "application/json"),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.contains("CycloneDX SBOM imported: cbom.json")
                && page.contains("1 component skipped")
        );
        assert!(page.contains("aes128gcm") && page.contains("a cryptographic-asset component is not software or hardware that advisories name"));

        let log = audit_actions(&app).await;
        let imports: Vec<_> = log
            .iter()
            .filter(|(a, _, _)| a == "inventory.import")
            .collect();
        assert_eq!(imports.len(), 3, "{log:?}");
        assert!(
            imports.iter().any(|(_, t, d)| t == "cbom.json"
                && d.contains("\"added\":2")
                && d.contains("\"skipped\":1")),
            "{imports:?}"
        );
    }
}

#[tokio::test]
async fn an_sbom_imported_through_the_api_matches_exactly_the_affected_go_module() {
    for app in apps().await {
        ingest(&app, &GO_OSV).await;
        let (org, user) = member(
            &app,
            "Ashford Borough Council",
            "user@ashford.gov.uk",
            Role::MemberUser,
        )
        .await;
        let token = app.token(&user).await;
        let (status, body) = upload_api(
            &app,
            org.id.0,
            &token,
            fixture(PROTON_SBOM),
            "application/vnd.cyclonedx+json",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", app.backend());
        assert_eq!(body["format"], "cyclonedx");
        assert_eq!(
            body["subject"],
            "github.com/ProtonMail/proton-bridge v1.8.0"
        );
        assert_eq!(
            body["added"].as_u64(),
            Some(201),
            "every Go module becomes an item"
        );
        assert_eq!(body["skipped"], json!([]));

        // Of the Go records, only GO-2022-0969 names a module the SBOM holds
        // (golang.org/x/net at a 2021 pseudo-version, before the fix); cilium,
        // vscode-go and stdlib are not in it; the kubernetes record is withdrawn.
        let (status, list) = api(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/orgs/{}/exposures?include_inactive=true", org.id),
            &token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let list = list.as_array().expect("list");
        assert_eq!(list.len(), 1, "{list:?}");
        let x = &list[0];
        assert_eq!(x["vuln_id"], "CVE-2022-27664");
        assert_eq!(x["item_name"], "golang.org/x/net");
        assert_eq!(x["item_version"], "v0.0.0-20210405180319-a5a99cb37ef4");
        assert_eq!(x["verdict"], "affected");
        assert_eq!(x["evidence"][0]["source"], "osv");
        assert_eq!(x["evidence"][0]["record_id"], "GO-2022-0969");
        assert_eq!(
            x["remedy"],
            "update to version 0.0.0-20220906165146-f3363e06e74c or later"
        );
        assert!(
            x["line"]
                .as_str()
                .unwrap_or("")
                .contains("affects your golang.org/x/net v0.0.0-20210405180319-a5a99cb37ef4")
        );
        assert_eq!(x["priority"], "P4");
        assert!(x["reason"].as_str().unwrap_or("").starts_with("P4 because"));

        // Filters: P4 only has it, P1 nothing; bad values are named.
        let (_, p1) = api(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/orgs/{}/exposures?priority=P1", org.id),
            &token,
            None,
        )
        .await;
        assert_eq!(p1, json!([]));
        let (status, body) = api(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/orgs/{}/exposures?status=done", org.id),
            &token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["message"]
                .as_str()
                .unwrap_or("")
                .contains("status: 'done' is not a status"),
            "{body}"
        );

        // Importing the same SBOM again adds nothing.
        let (_, again) = upload_api(
            &app,
            org.id.0,
            &token,
            fixture(PROTON_SBOM),
            "application/json",
        )
        .await;
        assert_eq!(
            (again["added"].as_u64(), again["duplicates"].as_u64()),
            (Some(0), Some(201))
        );

        // The item API sees the module.
        let (_, items) = api(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/orgs/{}/inventory", org.id),
            &token,
            None,
        )
        .await;
        let net = items
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["name"] == "golang.org/x/net")
            .expect("x/net");
        assert_eq!(
            net["purl"],
            "pkg:golang/golang.org/x/net@v0.0.0-20210405180319-a5a99cb37ef4"
        );
        assert_eq!(
            net["origin"],
            "cyclonedx: github.com/ProtonMail/proton-bridge v1.8.0"
        );
    }
}

#[tokio::test]
async fn the_csv_export_reads_back_unchanged() {
    for app in apps().await {
        let (a, ua) = member(
            &app,
            "Thanet District Council",
            "user@thanet.gov.uk",
            Role::MemberUser,
        )
        .await;
        let (b, ub) = member(
            &app,
            "Swale Borough Council",
            "user@swale.gov.uk",
            Role::MemberUser,
        )
        .await;
        let (ta, tb) = (app.token(&ua).await, app.token(&ub).await);
        for body in [
            json!({"name": "Système de paie", "vendor": "Société Générale d'Informatique", "product": "Paie", "version": "3.2", "business_critical": true, "owner": "Ressources humaines", "notes": "Runs nightly, \"batch\" mode; see ticket 42\nsecond line"}),
            json!({"name": "=HYPERLINK(\"http://evil.example\")", "product": "Spreadsheet", "version": "1"}),
            json!({"cpe": "cpe:2.3:*:tukaani:xz:5.6.0:*:*:*:*:*:*:*", "internet_facing": true}),
            json!({"purl": "pkg:npm/express@4.18.2"}),
        ] {
            let (status, created) = api(
                &app,
                reqwest::Method::POST,
                &format!("/api/v1/orgs/{}/inventory", a.id),
                &ta,
                Some(body),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{}: {created}", app.backend());
        }
        let c = app.client().signed_in("user@thanet.gov.uk").await;
        let export = c.get(&format!("/orgs/{}/inventory.csv", a.id)).await;
        assert_eq!(export.status, StatusCode::OK);
        assert_eq!(export.headers["content-type"], "text/csv; charset=utf-8");
        let disposition = export.headers["content-disposition"].to_str().unwrap_or("");
        assert!(
            disposition.starts_with("attachment; filename=\"inventory-thanet-district-council-"),
            "{disposition}"
        );
        assert!(
            export.body.starts_with('\u{feff}'),
            "a byte order mark for Excel"
        );
        assert!(export.body.contains("Système de paie") && export.body.contains("'=HYPERLINK"));

        // The API gives the same file; importing it elsewhere gives the same items.
        let resp = app
            .client()
            .http
            .get(app.url(&format!("/api/v1/orgs/{}/inventory.csv", a.id)))
            .bearer_auth(&ta)
            .send()
            .await
            .expect("export");
        assert_eq!(resp.status(), StatusCode::OK);
        let csv = resp.bytes().await.expect("csv").to_vec();
        assert_eq!(csv, export.body.as_bytes());
        let (status, body) = upload_api(&app, b.id.0, &tb, csv, "text/csv").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["added"].as_u64(), Some(4));
        let fields = |org: OrgId| {
            let store = app.store.clone();
            async move {
                store
                    .list_items(org)
                    .await
                    .expect("items")
                    .into_iter()
                    .map(|s| s.item.fields)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(fields(a.id).await, fields(b.id).await);
    }
}

#[tokio::test]
async fn the_resolver_suggests_cpe_names_and_adds_the_chosen_one() {
    for app in apps().await {
        ingest(
            &app,
            &[
                XZ_NVD,
                "advisory/tests/fixtures/osv/bitnami_tomcat_cpes_cvss3.json",
            ],
        )
        .await;
        let (org, user) = member(
            &app,
            "Folkestone and Hythe District Council",
            "user@fhdc.gov.uk",
            Role::MemberUser,
        )
        .await;
        let id = org.id;
        let token = app.token(&user).await;

        let (status, body) = api(
            &app,
            reqwest::Method::GET,
            "/api/v1/resolve?vendor=Tukaani+Project&product=XZ+Utils&version=5.6.0",
            &token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", app.backend());
        assert_eq!(body[0]["vendor"], "tukaani");
        assert_eq!(body[0]["product"], "xz");
        assert_eq!(body[0]["cpe"], "cpe:2.3:*:tukaani:xz:5.6.0:*:*:*:*:*:*:*");
        assert!(!body[0]["why"].as_str().unwrap_or("").is_empty());
        let (status, body) = api(
            &app,
            reqwest::Method::GET,
            "/api/v1/resolve?product=tomcat&version=9.0.80",
            &token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body[0]["cpe"], "cpe:2.3:*:apache:tomcat:9.0.80:*:*:*:*:*:*:*",
            "{body}"
        );
        let (status, body) = api(&app, reqwest::Method::GET, "/api/v1/resolve", &token, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["fields"][0]["field"], "product");

        // On the page: suggestions with reasons and a button each; choosing one adds the item.
        let c = app.client().signed_in("user@fhdc.gov.uk").await;
        let inv = c.get(&format!("/orgs/{id}/inventory")).await;
        assert!(
            inv.contains(&format!("action=\"/orgs/{id}/inventory/resolve\""))
                && inv.contains("Find the CPE name")
        );
        let path = format!(
            "/orgs/{id}/inventory/resolve?vendor=Tukaani+Project&product=XZ+Utils&version=5.6.0"
        );
        let page = c.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.contains("name=\"cpe\" value=\"cpe:2.3:*:tukaani:xz:5.6.0:*:*:*:*:*:*:*\""),
            "{}",
            page.body
        );
        assert!(page.contains("Add as typed, without a CPE name"));
        let csrf = page.csrf();
        let added = c
            .post(
                &format!("/orgs/{id}/inventory"),
                &[
                    ("csrf", csrf.as_str()),
                    ("vendor", "Tukaani Project"),
                    ("product", "XZ Utils"),
                    ("version", "5.6.0"),
                    ("name", "Build server"),
                    ("internet_facing", "on"),
                    ("owner", ""),
                    ("cpe", "cpe:2.3:*:tukaani:xz:5.6.0:*:*:*:*:*:*:*"),
                ],
            )
            .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
        let items = app.store.list_items(id).await.expect("items");
        assert_eq!(
            items[0].item.fields.cpe.as_deref(),
            Some("cpe:2.3:*:tukaani:xz:5.6.0:*:*:*:*:*:*:*")
        );
        assert_eq!(items[0].item.fields.name, "Build server");
        let xs = exposures(&app, id).await;
        assert_eq!(xs.len(), 1, "{}", app.backend());
        assert_eq!(xs[0].vuln_id, "CVE-2024-3094");
        let empty = c
            .get(&format!("/orgs/{id}/inventory/resolve?vendor=&product="))
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.contains("type the product"));
    }
}

#[tokio::test]
async fn status_changes_keep_a_history_of_who_did_what() {
    for app in apps().await {
        ingest_log4shell(&app).await;
        let (org, lead) = member(
            &app,
            "Canterbury City Council",
            "lead@canterbury.gov.uk",
            Role::MemberLead,
        )
        .await;
        let id = org.id;
        let token = app.token(&lead).await;
        add_payroll(&app, id, &token).await;
        let x = exposures(&app, id).await[0].id;
        let c = app.client().signed_in("lead@canterbury.gov.uk").await;
        let detail = format!("/orgs/{id}/exposure/{x}");
        let action = format!("{detail}/status");

        let bad = c
            .submit(
                &detail,
                &action,
                &[("exposure_status", "done"), ("note", "")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.contains("href=\"#exposure_status\"") && bad.contains("is not a status"));

        let saved = c
            .submit(
                &detail,
                &action,
                &[
                    ("exposure_status", "assessing"),
                    ("note", "Checking which payroll nodes run the JNDI lookup"),
                ],
            )
            .await;
        assert_eq!(
            saved.status,
            StatusCode::SEE_OTHER,
            "{}: {}",
            app.backend(),
            saved.body
        );
        assert_eq!(
            saved.location.as_deref(),
            Some(format!("{detail}?notice=status_saved#history").as_str())
        );
        let page = c.get(&format!("{detail}?notice=status_saved")).await;
        assert!(page.contains("The status has been saved."));
        assert!(page.contains("<td>User lead</td><td><strong>Status set</strong>: Assessing: Checking which payroll nodes run the JNDI lookup</td>"), "{}", page.body);
        assert!(page.contains("Assessing, set by User lead"));
        assert!(
            page.contains("<td>openwarp (matching)</td><td><strong>Found</strong>"),
            "the matcher's event too"
        );

        // Through the API, with the events back.
        let (status, body) = api(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/orgs/{id}/exposures/{x}/status"),
            &token,
            Some(json!({"status": "mitigated", "note": "Patched to 2.17.1 on all nodes"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["exposure"]["status"], "mitigated");
        assert_eq!(body["events"][0]["kind"], "status");
        assert_eq!(body["events"][0]["status"], "mitigated");
        assert_eq!(body["events"][0]["by"], "User lead");
        assert_eq!(
            body["events"][0]["detail"],
            "Mitigated: Patched to 2.17.1 on all nodes"
        );
        let (status, body) = api(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/orgs/{id}/exposures/{x}/status"),
            &token,
            Some(json!({"status": "fixed"})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["fields"][0]["field"], "status");
        let (status, body) = api(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/orgs/{id}/exposures/{x}/status"),
            &token,
            Some(json!({"status": "new", "note": "x".repeat(2001)})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["fields"][0]["field"], "note");
        let (_, one) = api(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/orgs/{id}/exposures/{x}"),
            &token,
            None,
        )
        .await;
        assert_eq!(
            one["events"].as_array().map(Vec::len),
            Some(3),
            "found + two decisions: {one}"
        );

        // Mitigated is no longer open: the counts drop.
        assert_eq!(
            app.store.exposure_counts(id).await.expect("counts"),
            [0, 0, 0, 0]
        );
        let log = audit_actions(&app).await;
        let statuses: Vec<_> = log
            .iter()
            .filter(|(a, _, _)| a == "exposure.status")
            .collect();
        assert_eq!(statuses.len(), 2, "{log:?}");
        assert!(
            statuses[0].1 == "CVE-2021-44228 on Payroll server"
                && statuses[0].2.contains("\"mitigated\""),
            "{statuses:?}"
        );
    }
}

#[tokio::test]
async fn other_members_get_404_and_operators_may_only_look() {
    for app in apps().await {
        ingest_log4shell(&app).await;
        let (a, ua) = member(
            &app,
            "Maidstone Borough Council",
            "user@maidstone.gov.uk",
            Role::MemberUser,
        )
        .await;
        let (b, ub) = member(
            &app,
            "Tonbridge and Malling Borough Council",
            "lead@tmbc.gov.uk",
            Role::MemberLead,
        )
        .await;
        let op = app.user("ops@warp.example", Role::Operator, None).await;
        let (ta, tb, top) = (
            app.token(&ua).await,
            app.token(&ub).await,
            app.token(&op).await,
        );
        let item = add_payroll(&app, a.id, &ta).await;
        let x = exposures(&app, a.id).await[0].id;
        let (status, sup) = api(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/orgs/{}/suppliers", a.id),
            &ta,
            Some(json!({"name": "Agilisys", "kind": "it_provider"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{sup}");
        let sid = sup["id"].as_i64().expect("id");
        let a_id = a.id;

        // Another member: every page and route of A is "not found".
        let cb = app.client().signed_in("lead@tmbc.gov.uk").await;
        for path in [
            format!("/orgs/{a_id}/inventory"),
            format!("/orgs/{a_id}/inventory/{item}"),
            format!("/orgs/{a_id}/inventory.csv"),
            format!("/orgs/{a_id}/inventory/resolve?product=log4j"),
            format!("/orgs/{a_id}/exposure"),
            format!("/orgs/{a_id}/exposure/{x}"),
            format!("/orgs/{a_id}/suppliers"),
            format!("/orgs/{a_id}/suppliers/{sid}"),
            format!("/orgs/{}/exposure/{x}", b.id),
            format!("/orgs/{}/inventory/{item}", b.id),
        ] {
            assert_eq!(
                cb.get(&path).await.status,
                StatusCode::NOT_FOUND,
                "{}: GET {path}",
                app.backend()
            );
        }
        let own = format!("/orgs/{}/inventory", b.id);
        for (action, form) in [
            (
                format!("/orgs/{a_id}/exposure/{x}/status"),
                vec![("exposure_status", "risk_accepted"), ("note", "")],
            ),
            (format!("/orgs/{a_id}/inventory"), payroll_form()),
            (format!("/orgs/{a_id}/inventory/{item}"), payroll_form()),
            (format!("/orgs/{a_id}/inventory/{item}/delete"), vec![]),
            (
                format!("/orgs/{a_id}/suppliers"),
                vec![("name", "Capita"), ("kind", "it_provider")],
            ),
            (format!("/orgs/{a_id}/suppliers/{sid}/delete"), vec![]),
        ] {
            let resp = cb.submit(&own, &action, &form).await;
            assert_eq!(resp.status, StatusCode::NOT_FOUND, "POST {action}");
        }
        let up = cb
            .upload(
                &own,
                &format!("/orgs/{a_id}/inventory/import/csv"),
                ("x.csv", b"product\nx\n".to_vec(), "text/csv"),
            )
            .await;
        assert_eq!(up.status, StatusCode::NOT_FOUND);
        use reqwest::Method as M;
        for (method, path, body) in [
            (M::GET, format!("/api/v1/orgs/{a_id}/inventory"), None),
            (
                M::GET,
                format!("/api/v1/orgs/{a_id}/inventory/{item}"),
                None,
            ),
            (M::GET, format!("/api/v1/orgs/{a_id}/inventory.csv"), None),
            (
                M::PUT,
                format!("/api/v1/orgs/{a_id}/inventory/{item}"),
                Some(payroll_json("2.0")),
            ),
            (
                M::DELETE,
                format!("/api/v1/orgs/{a_id}/inventory/{item}"),
                None,
            ),
            (
                M::POST,
                format!("/api/v1/orgs/{a_id}/inventory"),
                Some(payroll_json("2.0")),
            ),
            (M::GET, format!("/api/v1/orgs/{a_id}/exposures"), None),
            (M::GET, format!("/api/v1/orgs/{a_id}/exposures/{x}"), None),
            (
                M::POST,
                format!("/api/v1/orgs/{a_id}/exposures/{x}/status"),
                Some(json!({"status": "risk_accepted"})),
            ),
            (M::GET, format!("/api/v1/orgs/{a_id}/suppliers"), None),
            (
                M::PUT,
                format!("/api/v1/orgs/{a_id}/suppliers/{sid}"),
                Some(json!({"name": "Capita", "kind": "other"})),
            ),
            (
                M::DELETE,
                format!("/api/v1/orgs/{a_id}/suppliers/{sid}"),
                None,
            ),
            (M::GET, format!("/api/v1/orgs/{}/exposures/{x}", b.id), None),
        ] {
            let (status, resp) = api(&app, method.clone(), &path, &tb, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {resp}");
        }
        let (status, _) = upload_api(&app, a_id.0, &tb, b"product\nx\n".to_vec(), "text/csv").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = api(&app, M::GET, "/api/v1/suppliers?name=Agilisys", &tb, None).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "members never see who else uses a supplier"
        );
        // Nothing changed.
        assert_eq!(exposures(&app, a_id).await[0].status.as_str(), "new");
        assert_eq!(app.store.list_items(a_id).await.expect("items").len(), 1);
        assert_eq!(
            app.store.list_suppliers(a_id).await.expect("suppliers")[0]
                .draft
                .name,
            "Agilisys"
        );

        // Operators: every page of A to read, nothing to change.
        let co = app.client().signed_in("ops@warp.example").await;
        for path in [
            format!("/orgs/{a_id}/inventory"),
            format!("/orgs/{a_id}/inventory/{item}"),
            format!("/orgs/{a_id}/exposure"),
            format!("/orgs/{a_id}/exposure/{x}"),
            format!("/orgs/{a_id}/suppliers"),
        ] {
            let page = co.get(&path).await;
            assert_eq!(page.status, StatusCode::OK, "GET {path}");
            assert!(
                !page.contains("Save status")
                    && !page.contains("Add item")
                    && !page.contains("Save changes"),
                "read-only: {path}"
            );
        }
        assert!(
            co.get(&format!("/orgs/{a_id}/exposure"))
                .await
                .contains("Exposure of Maidstone Borough Council")
        );
        for (action, form) in [
            (
                format!("/orgs/{a_id}/exposure/{x}/status"),
                vec![("exposure_status", "risk_accepted"), ("note", "")],
            ),
            (format!("/orgs/{a_id}/inventory"), payroll_form()),
            (format!("/orgs/{a_id}/inventory/{item}"), payroll_form()),
            (format!("/orgs/{a_id}/inventory/{item}/delete"), vec![]),
            (
                format!("/orgs/{a_id}/suppliers"),
                vec![("name", "Capita"), ("kind", "it_provider")],
            ),
            (
                format!("/orgs/{a_id}/suppliers/{sid}"),
                vec![("name", "Capita"), ("kind", "it_provider")],
            ),
        ] {
            let resp = co.submit("/dashboard", &action, &form).await;
            assert_eq!(resp.status, StatusCode::FORBIDDEN, "POST {action}");
            assert!(
                resp.contains("only the member&#39;s own users may change this"),
                "{}",
                resp.body
            );
        }
        assert_eq!(
            co.get(&format!("/orgs/{a_id}/suppliers/{sid}"))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        for (method, path, body) in [
            (
                M::POST,
                format!("/api/v1/orgs/{a_id}/inventory"),
                Some(payroll_json("2.0")),
            ),
            (
                M::PUT,
                format!("/api/v1/orgs/{a_id}/inventory/{item}"),
                Some(payroll_json("2.0")),
            ),
            (
                M::DELETE,
                format!("/api/v1/orgs/{a_id}/inventory/{item}"),
                None,
            ),
            (
                M::POST,
                format!("/api/v1/orgs/{a_id}/exposures/{x}/status"),
                Some(json!({"status": "risk_accepted"})),
            ),
            (
                M::POST,
                format!("/api/v1/orgs/{a_id}/suppliers"),
                Some(json!({"name": "Capita", "kind": "other"})),
            ),
            (
                M::DELETE,
                format!("/api/v1/orgs/{a_id}/suppliers/{sid}"),
                None,
            ),
        ] {
            let (status, resp) = api(&app, method.clone(), &path, &top, body).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {resp}");
        }
        let (status, _) =
            upload_api(&app, a_id.0, &top, b"product\nx\n".to_vec(), "text/csv").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        for path in [
            format!("/api/v1/orgs/{a_id}/inventory"),
            format!("/api/v1/orgs/{a_id}/exposures/{x}"),
            format!("/api/v1/orgs/{a_id}/suppliers"),
        ] {
            let (status, _) = api(&app, M::GET, &path, &top, None).await;
            assert_eq!(status, StatusCode::OK, "operators read {path}");
        }
        assert_eq!(exposures(&app, a_id).await[0].status.as_str(), "new");
        assert_eq!(app.store.list_items(a_id).await.expect("items").len(), 1);
    }
}

#[tokio::test]
async fn forms_without_the_csrf_token_change_nothing() {
    let app = sqlite_app().await;
    ingest_log4shell(&app).await;
    let (org, user) = member(
        &app,
        "Gravesham Borough Council",
        "user@gravesham.gov.uk",
        Role::MemberUser,
    )
    .await;
    let token = app.token(&user).await;
    let item = add_payroll(&app, org.id, &token).await;
    let x = exposures(&app, org.id).await[0].id;
    let id = org.id;
    let c = app.client().signed_in("user@gravesham.gov.uk").await;
    for (action, form) in [
        (
            format!("/orgs/{id}/inventory"),
            vec![("product", "Exchange Server")],
        ),
        (format!("/orgs/{id}/inventory/{item}"), payroll_form()),
        (format!("/orgs/{id}/inventory/{item}/delete"), vec![]),
        (
            format!("/orgs/{id}/suppliers"),
            vec![("name", "Agilisys"), ("kind", "it_provider")],
        ),
        (
            format!("/orgs/{id}/exposure/{x}/status"),
            vec![("exposure_status", "risk_accepted")],
        ),
    ] {
        let missing = c.post(&action, &form).await;
        assert_eq!(
            missing.status,
            StatusCode::FORBIDDEN,
            "POST {action} without a token"
        );
        let mut forged = form.clone();
        forged.push(("csrf", "forged"));
        assert_eq!(
            c.post(&action, &forged).await.status,
            StatusCode::FORBIDDEN,
            "POST {action} with a forged token"
        );
    }
    for kind in ["csv", "sbom"] {
        let action = format!("/orgs/{id}/inventory/import/{kind}");
        let none = c
            .post_file(
                &action,
                &[],
                Some(("a.csv", b"product\nExchange\n".to_vec(), "text/csv")),
            )
            .await;
        assert_eq!(none.status, StatusCode::FORBIDDEN, "{action}");
        let forged = c
            .post_file(
                &action,
                &[("csrf", "forged")],
                Some(("a.csv", b"product\nExchange\n".to_vec(), "text/csv")),
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{action}");
    }
    assert_eq!(app.store.list_items(id).await.expect("items").len(), 1);
    assert!(
        app.store
            .list_suppliers(id)
            .await
            .expect("suppliers")
            .is_empty()
    );
    assert_eq!(exposures(&app, id).await[0].status.as_str(), "new");
}

#[tokio::test]
async fn advisory_pages_name_exposed_members_only_to_operators() {
    for app in apps().await {
        ingest_log4shell(&app).await;
        let (a, ua) = member(
            &app,
            "Sevenoaks District Council",
            "user@sevenoaks.gov.uk",
            Role::MemberUser,
        )
        .await;
        let (b, ub) = member(
            &app,
            "Dartford Borough Council",
            "user@dartford.gov.uk",
            Role::MemberUser,
        )
        .await;
        member(
            &app,
            "Rother District Council",
            "user@rother.gov.uk",
            Role::MemberUser,
        )
        .await;
        let operator = app.user("ops@warp.example", Role::Operator, None).await;
        let op_token = app.token(&operator).await;
        let (ta, tb) = (app.token(&ua).await, app.token(&ub).await);
        add_payroll(&app, a.id, &ta).await;
        add_payroll(&app, b.id, &tb).await;

        let op = app.client().signed_in("ops@warp.example").await;
        let page = op.get("/advisories/CVE-2021-44228").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.contains("2 members exposed"), "{}", app.backend());
        assert!(page.contains(&format!(
            "<a href=\"/orgs/{}/exposure\">Sevenoaks District Council</a>",
            a.id
        )));
        assert!(page.contains(&format!(
            "<a href=\"/orgs/{}/exposure\">Dartford Borough Council</a>",
            b.id
        )));
        let dash = op.get("/dashboard").await;
        assert!(
            dash.contains("Members with open P1 exposures")
                && dash.contains("Sevenoaks District Council")
        );

        let ca = app.client().signed_in("user@sevenoaks.gov.uk").await;
        let page = ca.get("/advisories/CVE-2021-44228").await;
        assert!(page.contains("2 member organisations are exposed to this vulnerability."));
        assert!(
            !page.contains("Dartford"),
            "members never see who else is exposed"
        );
        assert!(
            page.contains("Your organisation is exposed")
                && page.contains(&format!("href=\"/orgs/{}/exposure/", a.id))
        );
        let cc = app.client().signed_in("user@rother.gov.uk").await;
        let page = cc.get("/advisories/CVE-2021-44228").await;
        assert!(
            page.contains("2 member organisations are exposed")
                && page.contains("Nothing in your inventory is affected.")
        );
        assert!(!page.contains("Sevenoaks") && !page.contains("Dartford"));

        let (status, body) = api(
            &app,
            reqwest::Method::GET,
            "/api/v1/advisories/CVE-2021-44228/exposure",
            &op_token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["members_exposed"], 2);
        let names: Vec<&str> = body["members"]
            .as_array()
            .expect("members")
            .iter()
            .filter_map(|m| m["org_name"].as_str())
            .collect();
        assert_eq!(
            names,
            ["Dartford Borough Council", "Sevenoaks District Council"]
        );
        assert_eq!(body["members"][0]["top_priority"], "P1");
        assert!(body.get("yours").is_none());
        let (_, body) = api(
            &app,
            reqwest::Method::GET,
            "/api/v1/advisories/CVE-2021-44228/exposure",
            &ta,
            None,
        )
        .await;
        assert_eq!(body["members_exposed"], 2);
        assert!(body.get("members").is_none(), "{body}");
        assert_eq!(body["yours"].as_array().map(Vec::len), Some(1));
        assert_eq!(body["yours"][0]["org_id"], a.id.0);
        let (status, _) = api(
            &app,
            reqwest::Method::GET,
            "/api/v1/advisories/CVE-1999-0001/exposure",
            &ta,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn suppliers_are_private_to_members_and_shared_lists_are_for_operators() {
    for app in apps().await {
        let (a, _) = member(
            &app,
            "Tunbridge Wells Borough Council",
            "lead@twbc.gov.uk",
            Role::MemberLead,
        )
        .await;
        let (b, ub) = member(
            &app,
            "Wealden District Council",
            "user@wealden.gov.uk",
            Role::MemberUser,
        )
        .await;
        app.user("ops@warp.example", Role::Operator, None).await;
        let id = a.id;
        let c = app.client().signed_in("lead@twbc.gov.uk").await;
        let list = format!("/orgs/{id}/suppliers");
        assert!(
            c.get(&format!("/orgs/{id}"))
                .await
                .contains(&format!("href=\"{list}\""))
        );

        let added = c
            .submit(
                &list,
                &list,
                &[
                    ("name", "Agilisys Ltd"),
                    ("kind", "it_provider"),
                    ("services", "Revenues and benefits, hosted"),
                    ("contact", "0300 000 0000"),
                    ("notes", ""),
                ],
            )
            .await;
        assert_eq!(
            added.status,
            StatusCode::SEE_OTHER,
            "{}: {}",
            app.backend(),
            added.body
        );
        let page = c.get(&format!("{list}?notice=supplier_added")).await;
        assert!(
            page.contains("The supplier has been added.")
                && page.contains("Agilisys Ltd")
                && page.contains("Outsourced IT provider")
        );
        assert!(
            !page.contains("Members listing it"),
            "members do not see who else uses it"
        );

        let dup = c
            .submit(&list, &list, &[("name", "AGILISYS"), ("kind", "hosting")])
            .await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
        assert!(
            dup.contains("is already on your supplier list") && dup.contains("href=\"#name\""),
            "{}",
            dup.body
        );
        let bad = c
            .submit(&list, &list, &[("name", " "), ("kind", "friend")])
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.contains("Kind of supplier: &#39;friend&#39; is not a supplier kind"),
            "{}",
            bad.body
        );

        let sid = app.store.list_suppliers(id).await.expect("list")[0].id;
        let edit = format!("{list}/{sid}");
        let form = c.get(&edit).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.contains("value=\"Agilisys Ltd\""));
        let saved = c
            .submit(
                &edit,
                &edit,
                &[
                    ("name", "Agilisys"),
                    ("kind", "shared_service"),
                    ("services", "Revenues and benefits"),
                ],
            )
            .await;
        assert_eq!(
            saved.location.as_deref(),
            Some(format!("{list}?notice=supplier_updated").as_str())
        );
        assert_eq!(
            app.store.list_suppliers(id).await.expect("list")[0]
                .draft
                .kind
                .as_str(),
            "shared_service"
        );

        // Another member lists the same supplier under another spelling.
        let tb = app.token(&ub).await;
        let (status, body) = api(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/orgs/{}/suppliers", b.id),
            &tb,
            Some(json!({"name": "Agilisys Limited", "kind": "it_provider"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["kind_label"], "Outsourced IT provider");
        let (status, body) = api(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/orgs/{}/suppliers", b.id),
            &tb,
            Some(json!({"name": "agilisys", "kind": "it_provider"})),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let (status, body) = api(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/orgs/{}/suppliers", b.id),
            &tb,
            Some(json!({"name": "Capita", "kind": "friend"})),
        )
        .await;
        assert_eq!(
            (status, body["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("kind"))
        );
        let (_, mine) = api(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/orgs/{}/suppliers", b.id),
            &tb,
            None,
        )
        .await;
        assert_eq!(
            mine.as_array().map(Vec::len),
            Some(1),
            "only their own: {mine}"
        );
        // Members asking for the shared list are sent to their own.
        let cb = app.client().signed_in("user@wealden.gov.uk").await;
        assert_eq!(
            cb.get("/suppliers?name=Agilisys").await.location.as_deref(),
            Some(format!("/orgs/{}/suppliers", b.id).as_str())
        );

        let op = app.client().signed_in("ops@warp.example").await;
        let shared = op.get("/suppliers?name=agilisys").await;
        assert_eq!(shared.status, StatusCode::OK);
        assert!(
            shared.contains("2 members list")
                && shared.contains("Tunbridge Wells Borough Council")
                && shared.contains("Wealden District Council"),
            "{}",
            shared.body
        );
        let theirs = op.get(&list).await;
        assert!(
            theirs.contains("Members listing it") && theirs.contains("/suppliers?name=Agilisys")
        );

        let gone = c.submit(&list, &format!("{edit}/delete"), &[]).await;
        assert_eq!(
            gone.location.as_deref(),
            Some(format!("{list}?notice=supplier_deleted").as_str())
        );
        assert!(app.store.list_suppliers(id).await.expect("list").is_empty());
        let log = audit_actions(&app).await;
        for action in ["supplier.add", "supplier.update", "supplier.delete"] {
            assert!(
                log.iter()
                    .any(|(a, t, _)| a == action && t.starts_with("Agilisys")),
                "{action}: {log:?}"
            );
        }
    }
}

#[tokio::test]
async fn uploads_over_the_limit_or_of_the_wrong_type_are_refused() {
    let app = sqlite_app().await;
    let (org, user) = member(
        &app,
        "Hastings Borough Council",
        "user@hastings.gov.uk",
        Role::MemberUser,
    )
    .await;
    let token = app.token(&user).await;
    let id = org.id;
    let mut big = b"name,product\n".to_vec();
    while big.len() <= openwarp_web::MAX_UPLOAD_BYTES {
        big.extend_from_slice(b"Payroll server,Payroll\n");
    }
    let (status, body) = upload_api(&app, id.0, &token, big.clone(), "text/csv").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("larger than 10 MB"),
        "{body}"
    );
    let (status, body) =
        upload_api(&app, id.0, &token, b"<bom/>".to_vec(), "application/xml").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    let (status, body) =
        upload_api(&app, id.0, &token, b"<bom/>".to_vec(), "application/json").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["fields"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("CycloneDX XML is not supported"),
        "{body}"
    );

    let c = app.client().signed_in("user@hastings.gov.uk").await;
    let page = c
        .upload(
            &format!("/orgs/{id}/inventory"),
            &format!("/orgs/{id}/inventory/import/csv"),
            ("huge.csv", big, "text/csv"),
        )
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        page.contains("The CSV file was not imported") && page.contains("larger than 10 MB"),
        "{}",
        page.body
    );
    let page = c
        .upload(
            &format!("/orgs/{id}/inventory"),
            &format!("/orgs/{id}/inventory/import/sbom"),
            ("", Vec::new(), "application/octet-stream"),
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("choose a file to upload"));
    assert!(app.store.list_items(id).await.expect("items").is_empty());
    // Value reads the CSRF field of the page, proving the upload forms carry one.
    let inv = c.get(&format!("/orgs/{id}/inventory")).await;
    assert!(
        value_after(
            &inv.body,
            "enctype=\"multipart/form-data\">\n  <input type=\"hidden\" name=\"csrf\" value=\""
        )
        .is_some()
    );
}

/// The exposure list shows 50 a page: the rest on the next page, the
/// filters kept in the links, a page past the end answered with a way back;
/// the API pages with `limit` and `offset` and says the total in a header.
#[tokio::test]
async fn the_exposure_list_comes_a_page_at_a_time_with_its_filters() {
    for app in apps().await {
        ingest_log4shell(&app).await;
        let (org, user) = member(
            &app,
            "Gravesham Borough Council",
            "lead@gravesham.gov.uk",
            Role::MemberLead,
        )
        .await;
        let id = org.id;
        let token = app.token(&user).await;
        let mut csv = String::from("name,vendor,product,version\r\n");
        for n in 1..=55 {
            csv.push_str(&format!(
                "Server {n:02},Apache Software Foundation,Apache Log4j2,2.14.1\r\n"
            ));
        }
        let (status, body) = upload_api(&app, id.0, &token, csv.into_bytes(), "text/csv").await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", app.backend());
        assert_eq!(exposures(&app, id).await.len(), 55, "{}", app.backend());

        let c = app.client().signed_in("lead@gravesham.gov.uk").await;
        let servers = |body: &str| -> Vec<String> {
            (1..=55)
                .map(|n| format!("Server {n:02}"))
                .filter(|s| body.contains(&format!("your {s} ")))
                .collect()
        };
        let first = c.get(&format!("/orgs/{id}/exposure?priority=P1")).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert!(
            first.contains("55 exposures, most urgent first: 1–50 shown"),
            "{}",
            first.body
        );
        let next = format!("/orgs/{id}/exposure?priority=P1&#38;page=2");
        assert!(
            first.contains(&format!("<a href=\"{next}\" rel=\"next\">Next page</a>"))
                && first.contains("Page 1 of 2")
                && first.contains("<nav class=\"pager\" aria-label=\"Pages of exposures\">")
                && !first.contains("rel=\"prev\""),
            "{}",
            first.body
        );
        assert_eq!(servers(&first.body).len(), 50);

        let second = c.get(&next.replace("&#38;", "&")).await;
        assert_eq!(second.status, StatusCode::OK);
        assert!(
            second.contains("51–55 shown")
                && second.contains("Page 2 of 2")
                && second.contains(&format!(
                    "<a href=\"/orgs/{id}/exposure?priority=P1&#38;page=1\" rel=\"prev\">Previous page</a>"
                ))
                && !second.contains("rel=\"next\""),
            "{}",
            second.body
        );
        // The filter is still applied on page 2 and its form still shows it.
        assert!(second.contains("<option value=\"P1\" selected>"));
        let mut all = servers(&first.body);
        all.extend(servers(&second.body));
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 55, "every exposure on exactly one page");
        assert_eq!(servers(&second.body).len(), 5);

        // Past the end: a clean answer with the way back; a bad page named.
        let past = c
            .get(&format!("/orgs/{id}/exposure?priority=P1&page=9"))
            .await;
        assert_eq!(past.status, StatusCode::OK);
        assert!(
            past.contains("There is no page 9: the list has 2 pages.")
                && past.contains(&format!(
                    "<a href=\"/orgs/{id}/exposure?priority=P1&#38;page=2\">Go to the last page</a>"
                ))
                && servers(&past.body).is_empty(),
            "{}",
            past.body
        );
        let bad = c.get(&format!("/orgs/{id}/exposure?page=first")).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.contains("page: &#39;first&#39; is not a page number"));
        assert_eq!(servers(&bad.body).len(), 50, "page 1 is shown");
        // A filter that leaves one page: no pager at all.
        let one = c.get(&format!("/orgs/{id}/exposure?priority=P3")).await;
        assert!(one.contains("No exposures match these filters.") && !one.contains("pager"));

        // The API: everything by default, as before paging; then pages.
        let list = |query: &'static str| {
            let http = app.client().http;
            let url = app.url(&format!("/api/v1/orgs/{id}/exposures{query}"));
            let token = token.clone();
            async move {
                let resp = http.get(url).bearer_auth(token).send().await.expect("GET");
                let status = resp.status();
                let total = resp
                    .headers()
                    .get("x-total-count")
                    .and_then(|v| v.to_str().ok())
                    .map(String::from);
                let body: Value = resp.json().await.expect("JSON");
                (status, total, body)
            }
        };
        let (status, total, body) = list("").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (total.as_deref(), body.as_array().map(Vec::len)),
            (Some("55"), Some(55))
        );
        let (_, total, page) = list("?priority=P1&limit=20&offset=40").await;
        assert_eq!(
            (total.as_deref(), page.as_array().map(Vec::len)),
            (Some("55"), Some(15))
        );
        assert_eq!(page[0]["id"], body[40]["id"], "the same order, paged");
        let (_, total, page) = list("?limit=20&offset=100").await;
        assert_eq!(
            (total.as_deref(), page.as_array().map(Vec::len)),
            (Some("55"), Some(0))
        );
        let (status, _, err) = list("?limit=0&offset=-1").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let message = err["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("limit: '0' is not a whole number from 1 to 2000")
                && message.contains("offset: '-1'"),
            "{err}"
        );

        // The OpenAPI document tells clients how to page.
        let (_, doc) = api(
            &app,
            reqwest::Method::GET,
            "/api/v1/openapi.json",
            &token,
            None,
        )
        .await;
        let op = &doc["paths"]["/api/v1/orgs/{id}/exposures"]["get"];
        let params: Vec<&str> = op["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            params.contains(&"limit") && params.contains(&"offset"),
            "{params:?}"
        );
        assert!(op["responses"]["200"]["headers"]["X-Total-Count"].is_object());
    }
}

//! End to end in real headless Chromium (through ChromeDriver): an operator
//! signs in, adds a member organisation and invites its lead; the lead
//! accepts the invitation in a second, separate browser and signs in. And a
//! member uploads an SBOM through the inventory page and finds the exposure.
//! `cargo xtask ci` provides Chromium; under CI=true its absence fails.

use crate::support::{PASSWORD, sqlite_app};
use fantoccini::{Client, ClientBuilder, Locator};
use openwarp_core::Role;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const DRIVER_VAR: &str = "OPENWARP_TEST_CHROMEDRIVER";
const CHROMIUM_VAR: &str = "OPENWARP_TEST_CHROMIUM";

struct Driver {
    child: Child,
    url: String,
    _profiles: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Option<Driver> {
    let under_ci = openwarp_store::testing::under_ci();
    let path = match std::env::var(DRIVER_VAR) {
        Ok(p) if !p.is_empty() => p,
        _ if under_ci => {
            panic!("{DRIVER_VAR} is not set but CI=true: the browser test must run in CI")
        }
        _ => {
            eprintln!(
                "note: {DRIVER_VAR} not set; skipping the browser test (run `cargo xtask ci`)"
            );
            return None;
        }
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(&path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {path}: {e}"));
    Some(Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profiles: tempfile::tempdir().expect("profile dir"),
    })
}

/// A new browser with its own empty profile: a separate "person".
async fn browser(driver: &Driver, name: &str) -> Client {
    let profile = driver._profiles.path().join(name);
    let mut args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    args.push("--window-size=1200,900".into());
    let mut options = serde_json::json!({ "args": args });
    if let Ok(binary) = std::env::var(CHROMIUM_VAR) {
        options["binary"] = serde_json::Value::String(binary);
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    // ChromeDriver needs a moment to listen.
    let mut last = None;
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&driver.url)
            .await
        {
            Ok(c) => return c,
            Err(e) => {
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    panic!("could not start Chromium through ChromeDriver: {last:?}");
}

async fn fill(c: &Client, id: &str, value: &str) {
    let field = c
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("field #{id}: {e}"));
    field.clear().await.expect("clear");
    field.send_keys(value).await.expect("type");
}

async fn submit(c: &Client, form_action: &str) {
    let selector = format!("form[action=\"{form_action}\"] button[type=submit]");
    c.find(Locator::Css(&selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .click()
        .await
        .expect("click");
}

/// Wait (up to 15 s) for the page's `h1` to read `expected`: clicks start
/// navigations that finish on the browser's schedule, not ours.
async fn expect_heading(c: &Client, expected: &str) {
    let mut seen = String::new();
    for _ in 0..150 {
        if let Ok(h1) = c.find(Locator::Css("h1")).await
            && let Ok(text) = h1.text().await
        {
            if text == expected {
                return;
            }
            seen = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = c
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    panic!("expected heading {expected:?} at {url}, last saw {seen:?}");
}

#[tokio::test]
async fn operator_invites_a_lead_who_accepts_and_signs_in() {
    let Some(driver) = driver() else { return };
    let app = sqlite_app().await;
    app.user("ops@warp.example", Role::Operator, None).await;

    let op = browser(&driver, "operator").await;
    op.goto(&app.url("/")).await.expect("open");
    expect_heading(&op, "Sign in to TESTWARP").await;
    fill(&op, "email", "ops@warp.example").await;
    fill(&op, "password", PASSWORD).await;
    submit(&op, "/login").await;
    expect_heading(&op, "Dashboard").await;

    op.find(Locator::LinkText("Add a member organisation"))
        .await
        .expect("link")
        .click()
        .await
        .expect("click");
    fill(&op, "name", "Tunbridge Wells Borough Council").await;
    fill(&op, "senior_officer_name", "Robin Officer").await;
    submit(&op, "/orgs").await;
    expect_heading(&op, "Tunbridge Wells Borough Council").await;
    assert!(
        op.source()
            .await
            .expect("source")
            .contains("The organisation has been added.")
    );

    fill(&op, "email", "lead@tunbridgewells.gov.uk").await;
    op.find(Locator::Css("select#role option[value=member_lead]"))
        .await
        .expect("option")
        .click()
        .await
        .expect("select");
    let org_path = op.current_url().await.expect("url").path().to_string();
    submit(&op, &format!("{org_path}/invitations")).await;
    expect_heading(&op, "Invitation created").await;
    let link = op
        .find(Locator::Css("[data-testid=issued-link]"))
        .await
        .expect("link field")
        .prop("value")
        .await
        .expect("value")
        .expect("a link");

    // The lead, in a browser that shares nothing with the operator's.
    let lead = browser(&driver, "lead").await;
    lead.goto(&link).await.expect("open invitation");
    expect_heading(&lead, "Join TESTWARP").await;
    fill(&lead, "display_name", "Lee Lead").await;
    fill(&lead, "password", PASSWORD).await;
    fill(&lead, "password_confirm", PASSWORD).await;
    let action = url::Url::parse(&link).expect("url").path().to_string();
    submit(&lead, &action).await;
    expect_heading(&lead, "Sign in to TESTWARP").await;
    assert!(
        lead.source()
            .await
            .expect("source")
            .contains("Your account has been created")
    );
    fill(&lead, "email", "lead@tunbridgewells.gov.uk").await;
    fill(&lead, "password", PASSWORD).await;
    submit(&lead, "/login").await;
    expect_heading(&lead, "Dashboard").await;
    lead.find(Locator::LinkText("My organisation"))
        .await
        .expect("nav")
        .click()
        .await
        .expect("click");
    expect_heading(&lead, "Tunbridge Wells Borough Council").await;
    let page = lead.source().await.expect("source");
    assert!(page.contains("Lee Lead") && page.contains("Member lead"));

    // The operator sees the lead on the organisation's page.
    op.goto(&app.url(&org_path)).await.expect("reload");
    assert!(op.source().await.expect("source").contains("Lee Lead"));

    lead.close().await.expect("close lead");
    op.close().await.expect("close operator");
}

/// Wait (up to 15 s) for an element matching `css` to appear.
async fn wait_for(c: &Client, css: &str) {
    for _ in 0..150 {
        if c.find(Locator::Css(css)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = c
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    panic!("no {css} appeared at {url}");
}

#[tokio::test]
async fn a_member_uploads_an_sbom_and_finds_the_exposure() {
    let Some(driver) = driver() else { return };
    let app = sqlite_app().await;
    crate::exposure::ingest(&app, &crate::exposure::GO_OSV).await;
    let org = app.org("Medway Council", "unitary", true).await;
    app.user("user@medway.gov.uk", Role::MemberUser, Some(org.id))
        .await;
    let sbom = std::fs::canonicalize(format!(
        "{}/{}",
        crate::exposure::FIXTURES,
        crate::exposure::PROTON_SBOM
    ))
    .expect("the SBOM fixture");

    let b = browser(&driver, "member").await;
    b.goto(&app.url("/login")).await.expect("open");
    fill(&b, "email", "user@medway.gov.uk").await;
    fill(&b, "password", PASSWORD).await;
    submit(&b, "/login").await;
    expect_heading(&b, "Dashboard").await;
    b.find(Locator::LinkText("Inventory"))
        .await
        .expect("nav")
        .click()
        .await
        .expect("click");
    expect_heading(&b, "Inventory").await;

    b.find(Locator::Id("sbom_file"))
        .await
        .expect("file input")
        .send_keys(&sbom.display().to_string())
        .await
        .expect("choose the file");
    submit(&b, &format!("/orgs/{}/inventory/import/sbom", org.id)).await;
    wait_for(&b, "[data-testid=import-result]").await;
    let page = b.source().await.expect("source");
    assert!(
        page.contains("CycloneDX SBOM imported: proton-bridge-1.8.0-go.cdx-1.2.json")
            && page.contains("201 items added"),
        "{page}"
    );

    b.find(Locator::LinkText("My exposure"))
        .await
        .expect("nav")
        .click()
        .await
        .expect("click");
    expect_heading(&b, "My exposure").await;
    let row = b
        .find(Locator::Css("table.exposures tbody tr"))
        .await
        .expect("an exposure")
        .text()
        .await
        .expect("text");
    assert!(
        row.contains(
            "Denial of service in net/http and golang.org/x/net/http2 (CVE-2022-27664) affects your golang.org/x/net v0.0.0-20210405180319-a5a99cb37ef4"
        ),
        "{row}"
    );
    assert!(row.contains("P4") && row.contains("New"), "{row}");
    b.close().await.expect("close");
}

/// The digest's HTML, as its e-mail will show it, in a real browser: a
/// member opens "see your next digest so far" from My alerts. Inline styles
/// apply (the page's own CSP allows them and nothing else), the TLP banner
/// opens and closes the message, alerts are grouped most urgent first, and a
/// hostile title is shown as text, not run.
#[tokio::test]
async fn a_member_reads_their_digest_as_the_email_will_look() {
    use openwarp_core::TlpLabel;
    use openwarp_matching::priority::Priority;
    use openwarp_store::{AlertContent, AlertKind, NewAlert};
    let Some(driver) = driver() else { return };
    let app = sqlite_app().await;
    let org = app.org("Medway Council", "unitary", true).await;
    app.user("user@medway.gov.uk", Role::MemberUser, Some(org.id))
        .await;
    let alert = |n: usize, priority: Priority, title: &str| NewAlert {
        org_id: org.id.0,
        kind: AlertKind::New,
        vuln_id: Some(format!("CVE-2026-{:04}", 1000 + n)),
        warp_advisory_id: None,
        priority,
        tlp: if n == 2 {
            TlpLabel::Amber
        } else {
            TlpLabel::Clear
        },
        title: title.to_string(),
        content: AlertContent {
            summary: format!("Summary line {n} for the digest."),
            reason: format!("{} because test {n}", priority.as_str()),
            changes: Vec::new(),
            items: Vec::new(),
            action: None,
            due: None,
            sources: Vec::new(),
            path: format!("/orgs/{}/exposure/{}", org.id, 40 + n),
        },
        dedup_key: format!("browser:digest:{n}"),
    };
    app.store
        .raise_alerts(
            &[
                alert(1, Priority::P4, "CVE-2026-1001: a low one"),
                alert(
                    2,
                    Priority::P2,
                    "CVE-2026-1002: <script>document.title='owned'</script>",
                ),
                alert(3, Priority::P3, "CVE-2026-1003: a medium one"),
            ],
            openwarp_store::now(),
        )
        .await
        .expect("raise");

    let b = browser(&driver, "digest").await;
    b.goto(&app.url("/login")).await.expect("open");
    fill(&b, "email", "user@medway.gov.uk").await;
    fill(&b, "password", PASSWORD).await;
    submit(&b, "/login").await;
    expect_heading(&b, "Dashboard").await;
    b.goto(&app.url("/account/alerts")).await.expect("open");
    b.find(Locator::LinkText("see your next digest so far"))
        .await
        .expect("the preview link")
        .click()
        .await
        .expect("click");
    expect_heading(&b, "TESTWARP digest for Medway Council").await;

    // Most restrictive TLP of its alerts, in the title and both banners.
    let title = b.title().await.expect("title");
    assert!(title.starts_with("TLP:AMBER"), "{title}");
    let banners = b
        .find_all(Locator::XPath(
            "//td[contains(@style,'background-color:#000000')]/span[normalize-space(.)='TLP:AMBER']",
        ))
        .await
        .expect("banners");
    assert_eq!(banners.len(), 2, "the banner opens and closes the message");
    // Inline styles apply: the banner's colours and the heading's size.
    let styles = b
        .execute(
            "const s = document.evaluate(\"//span[normalize-space(.)='TLP:AMBER']\", document, null, 9, null).singleNodeValue; \
             return [getComputedStyle(s).color, getComputedStyle(s.parentElement).backgroundColor, \
                     getComputedStyle(document.querySelector('h1')).fontSize];",
            vec![],
        )
        .await
        .expect("styles");
    assert_eq!(
        styles,
        serde_json::json!(["rgb(255, 192, 0)", "rgb(0, 0, 0)", "22px"]),
        "TLP 2.0 amber on black, and the e-mail's own heading size"
    );
    // Grouped most urgent first, each line linking to its exposure page.
    let groups: Vec<String> = {
        let mut v = Vec::new();
        for h in b.find_all(Locator::Css("h2")).await.expect("groups") {
            v.push(h.text().await.expect("text"));
        }
        v
    };
    assert_eq!(groups.len(), 3, "{groups:?}");
    assert!(
        groups[0].starts_with("P2") && groups[1].starts_with("P3") && groups[2].starts_with("P4"),
        "{groups:?}"
    );
    let first = b.find(Locator::Css("h2 + table a")).await.expect("a line");
    let href = first.attr("href").await.expect("href").unwrap_or_default();
    assert_eq!(href, app.url(&format!("/orgs/{}/exposure/42", org.id)));
    // The hostile title is text: shown, not run.
    assert!(
        first
            .text()
            .await
            .expect("text")
            .contains("<script>document.title='owned'</script>")
    );
    assert!(!b.title().await.expect("title").contains("owned"));
    b.close().await.expect("close");
}

/// Issue 6's walk-through in a real browser: a member reports a supplier
/// compromise at TLP:AMBER with personal data involved and sees the ICO
/// deadline; another member using the same supplier is warned without being
/// told who reported it, and cannot see the report; the reporter authorises
/// a sanitised version, and the other member then reads only that.
#[tokio::test]
async fn a_supplier_compromise_is_reported_warned_about_and_shared_sanitised() {
    use openwarp_core::{SupplierDraft, SupplierKind};
    let Some(driver) = driver() else { return };
    let app = sqlite_app().await;
    let maidstone = app
        .org("Maidstone Borough Council", "district_borough", true)
        .await;
    let sevenoaks = app
        .org("Sevenoaks District Council", "district_borough", true)
        .await;
    app.user("it@maidstone.gov.uk", Role::MemberUser, Some(maidstone.id))
        .await;
    app.user("it@sevenoaks.gov.uk", Role::MemberUser, Some(sevenoaks.id))
        .await;
    for org in [maidstone.id, sevenoaks.id] {
        app.store
            .add_supplier(
                org,
                &SupplierDraft {
                    name: "Mid Kent ICT".into(),
                    kind: SupplierKind::SharedService,
                    services: None,
                    contact: None,
                    notes: None,
                },
                openwarp_store::now(),
            )
            .await
            .expect("supplier");
    }
    let sign_in = |name: &'static str, email: &'static str| {
        let driver = &driver;
        let app = &app;
        async move {
            let b = browser(driver, name).await;
            b.goto(&app.url("/login")).await.expect("open");
            fill(&b, "email", email).await;
            fill(&b, "password", PASSWORD).await;
            submit(&b, "/login").await;
            expect_heading(&b, "Dashboard").await;
            b
        }
    };

    // Maidstone reports.
    let r = sign_in("reporter", "it@maidstone.gov.uk").await;
    r.goto(&app.url("/incidents/new")).await.expect("open");
    fill(&r, "title", "Ransomware through the shared ICT service").await;
    fill(
        &r,
        "summary",
        "MAIDSTONE-ONLY: our file servers hosted by the shared service were encrypted.",
    )
    .await;
    r.find(Locator::Id("category"))
        .await
        .expect("category")
        .select_by_value("supplier_compromise")
        .await
        .expect("choose");
    let detected = (openwarp_store::now() - chrono::Duration::hours(3))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    r.execute(
        "document.getElementById('detected_at').value = arguments[0];",
        vec![serde_json::json!(detected)],
    )
    .await
    .expect("set the time");
    fill(&r, "supplier", "Mid Kent ICT").await;
    r.find(Locator::Id("personal_data"))
        .await
        .expect("checkbox")
        .click()
        .await
        .expect("tick");
    r.find(Locator::Id("tlp-amber"))
        .await
        .expect("radio")
        .click()
        .await
        .expect("choose");
    submit(&r, "/incidents").await;
    expect_heading(&r, "Ransomware through the shared ICT service").await;
    let ico = r
        .find(Locator::Css(".ico-panel"))
        .await
        .expect("the ICO panel")
        .text()
        .await
        .expect("text");
    assert!(ico.contains("ICO"), "{ico}");
    let url = r.current_url().await.expect("url");
    let id = url
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(id.starts_with("inc-"), "{url}");

    // Sevenoaks is warned, anonymously, and cannot open the report.
    let o = sign_in("other", "it@sevenoaks.gov.uk").await;
    o.goto(&app.url("/alerts")).await.expect("open");
    let alerts = o.source().await.expect("source");
    assert!(
        alerts.contains("Supplier warning: supplier compromise incident involving Mid Kent ICT"),
        "{alerts}"
    );
    assert!(!alerts.contains("Maidstone"), "the reporter is not named");
    o.goto(&app.url(&format!("/incidents/{id}")))
        .await
        .expect("open");
    let page = o.source().await.expect("source");
    assert!(!page.contains("MAIDSTONE-ONLY") && !page.contains("Ransomware through"));

    // Maidstone shares a sanitised version with every member.
    r.goto(&app.url(&format!("/incidents/{id}")))
        .await
        .expect("open");
    fill(
        &r,
        "shared_title",
        "Ransomware through a shared ICT service",
    )
    .await;
    fill(
        &r,
        "shared_summary",
        "SHARED-PART: a council's servers at a shared ICT service were encrypted.",
    )
    .await;
    r.find(Locator::Id("shared_tlp-green"))
        .await
        .expect("radio")
        .click()
        .await
        .expect("choose");
    submit(&r, &format!("/incidents/{id}/sanitised")).await;
    expect_heading(&r, "Ransomware through the shared ICT service").await;

    // Sevenoaks now reads the sanitised version, and only that.
    o.goto(&app.url("/incidents")).await.expect("open");
    let listed = o
        .find(Locator::Css(&format!("a[href=\"/incidents/{id}\"]")))
        .await
        .expect("the shared incident is listed");
    assert_eq!(
        listed.text().await.expect("text"),
        "Ransomware through a shared ICT service"
    );
    listed.click().await.expect("open it");
    expect_heading(&o, "Ransomware through a shared ICT service").await;
    let page = o.source().await.expect("source");
    assert!(page.contains("SHARED-PART"), "{page}");
    assert!(page.contains("TLP:GREEN"));
    assert!(page.contains("a district or borough council"));
    assert!(!page.contains("MAIDSTONE-ONLY") && !page.contains("Maidstone"));
    r.close().await.expect("close");
    o.close().await.expect("close");
}

/// Issue 7's walk-through, polls: a member runs an anonymous poll, another
/// answers it in their own browser, sees the result and cannot answer twice;
/// and no stored vote row links to the person who voted.
#[tokio::test]
async fn a_member_answers_a_poll_anonymously() {
    let Some(driver) = driver() else { return };
    let app = sqlite_app().await;
    let kent = app.org("Kent County Council", "county", true).await;
    let medway = app.org("Medway Council", "unitary", true).await;
    app.user("kim@kent.gov.uk", Role::MemberUser, Some(kent.id))
        .await;
    let max = app
        .user("max@medway.gov.uk", Role::MemberUser, Some(medway.id))
        .await;

    let asker = browser(&driver, "asker").await;
    asker.goto(&app.url("/login")).await.expect("open");
    fill(&asker, "email", "kim@kent.gov.uk").await;
    fill(&asker, "password", PASSWORD).await;
    submit(&asker, "/login").await;
    expect_heading(&asker, "Dashboard").await;
    asker
        .find(Locator::LinkText("Polls"))
        .await
        .expect("nav")
        .click()
        .await
        .expect("click");
    expect_heading(&asker, "Questions and polls").await;
    fill(
        &asker,
        "poll-question",
        "Which e-mail filtering service do you use?",
    )
    .await;
    fill(
        &asker,
        "poll-options",
        "Mimecast\nMicrosoft Defender\nProofpoint",
    )
    .await;
    for id in ["poll-kind-single", "poll-anonymous"] {
        asker
            .find(Locator::Id(id))
            .await
            .expect(id)
            .click()
            .await
            .expect("click");
    }
    asker
        .find(Locator::Css(
            "section[aria-labelledby=poll-title] button[type=submit]",
        ))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    expect_heading(&asker, "Which e-mail filtering service do you use?").await;
    let poll_path = asker.current_url().await.expect("url").path().to_string();

    // Another member, in a browser that shares nothing with the asker's.
    let voter = browser(&driver, "voter").await;
    voter.goto(&app.url("/login")).await.expect("open");
    fill(&voter, "email", "max@medway.gov.uk").await;
    fill(&voter, "password", PASSWORD).await;
    submit(&voter, "/login").await;
    expect_heading(&voter, "Dashboard").await;
    voter.goto(&app.url(&poll_path)).await.expect("open poll");
    expect_heading(&voter, "Which e-mail filtering service do you use?").await;
    assert!(
        voter
            .source()
            .await
            .expect("source")
            .contains("Answers are anonymous")
    );
    voter
        .find(Locator::Id("choice_1"))
        .await
        .expect("option")
        .click()
        .await
        .expect("choose");
    submit(&voter, &format!("{poll_path}/ballot")).await;
    wait_for(&voter, "p.answered").await;
    let page = voter.source().await.expect("source");
    assert!(page.contains("your answer has been recorded"), "{page}");
    assert!(page.contains("1 person has answered"));
    assert!(
        !page.contains("Send my answer"),
        "an anonymous answer cannot be changed or repeated"
    );

    // The asker sees the result, and nobody's name against it.
    asker.goto(&app.url(&poll_path)).await.expect("reload");
    let page = asker.source().await.expect("source");
    assert!(page.contains("1 person has answered"));
    assert!(!page.contains("max@medway") && !page.contains("User max"));

    // What is stored: the ballot without a user, the marker without the ballot.
    let columns = app
        .db
        .text_rows("SELECT name FROM pragma_table_info('poll_anonymous_ballots')")
        .await;
    let columns: Vec<String> = columns.into_iter().flatten().flatten().collect();
    assert!(columns.iter().all(|c| !c.contains("user")), "{columns:?}");
    let rows = app
        .db
        .text_rows(
            "SELECT ballot_id, CAST(poll_id AS TEXT), choices, answer FROM poll_anonymous_ballots",
        )
        .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][2].as_deref(), Some("[1]"));
    assert_ne!(rows[0][0].as_deref(), Some(max.id.0.to_string().as_str()));
    let named = app
        .db
        .text_rows("SELECT CAST(user_id AS TEXT) FROM poll_ballots")
        .await;
    assert!(named.is_empty(), "nothing in the named ballots");
    let markers = app
        .db
        .text_rows("SELECT CAST(user_id AS TEXT) FROM poll_voters")
        .await;
    assert_eq!(
        markers,
        [[Some(max.id.0.to_string())]],
        "only that he voted"
    );

    voter.close().await.expect("close voter");
    asker.close().await.expect("close asker");
}

/// Issue 7's walk-through, meetings: an operator has scheduled a meeting
/// with one place left; a member finds it from the menu, reads the agenda
/// and answers yes; a second member, in their own browser, is told clearly
/// that it is full, and nothing is stored for them.
#[tokio::test]
async fn a_member_rsvps_to_a_meeting_and_the_next_is_told_it_is_full() {
    use openwarp_core::meeting::{AgendaItemInput, MeetingInput, RsvpAnswer};
    let Some(driver) = driver() else { return };
    let app = sqlite_app().await;
    let kent = app.org("Kent County Council", "county", true).await;
    let medway = app.org("Medway Council", "unitary", true).await;
    let op = app.user("op@warp.example", Role::Operator, None).await;
    let kim = app
        .user("kim@kent.gov.uk", Role::MemberUser, Some(kent.id))
        .await;
    let max = app
        .user("max@medway.gov.uk", Role::MemberUser, Some(medway.id))
        .await;
    let start = openwarp_store::now() + chrono::Duration::days(30);
    let draft = MeetingInput {
        title: "SEGWARP November meeting".into(),
        starts_at: start.to_rfc3339(),
        ends_at: (start + chrono::Duration::hours(5)).to_rfc3339(),
        venue: "Local Government House, London".into(),
        capacity: "1".into(),
        ..MeetingInput::default()
    }
    .validate()
    .expect("valid meeting");
    let m = app
        .store
        .create_meeting(&draft, op.id, openwarp_store::now())
        .await
        .expect("meeting");
    let item = AgendaItemInput {
        title: "Threat briefing for local government".into(),
        organisation: "NCSC".into(),
        presenter: "government".into(),
        ..AgendaItemInput::default()
    }
    .validate()
    .expect("valid item");
    app.store
        .add_agenda_item(m.id, &item, openwarp_store::now())
        .await
        .expect("agenda");

    let first = browser(&driver, "first").await;
    first.goto(&app.url("/login")).await.expect("open");
    fill(&first, "email", "kim@kent.gov.uk").await;
    fill(&first, "password", PASSWORD).await;
    submit(&first, "/login").await;
    expect_heading(&first, "Dashboard").await;
    first
        .find(Locator::LinkText("Meetings"))
        .await
        .expect("nav")
        .click()
        .await
        .expect("click");
    expect_heading(&first, "Meetings").await;
    first
        .find(Locator::LinkText("SEGWARP November meeting"))
        .await
        .expect("meeting link")
        .click()
        .await
        .expect("click");
    expect_heading(&first, "SEGWARP November meeting").await;
    let page = first.source().await.expect("source");
    assert!(page.contains("Threat briefing for local government") && page.contains("NCSC"));
    assert!(page.contains("0 of 1 places"), "{page}");
    first
        .find(Locator::Id("answer-yes"))
        .await
        .expect("yes")
        .click()
        .await
        .expect("choose");
    submit(&first, &format!("/meetings/{}/rsvp", m.id)).await;
    wait_for(&first, "#my-answer").await;
    let page = first.source().await.expect("source");
    assert!(page.contains("Your answer has been saved."), "{page}");
    assert!(page.contains("1 of 1 places"));
    assert_eq!(
        app.store.rsvp_of(m.id, kim.id).await.expect("rsvp"),
        Some(RsvpAnswer::Yes)
    );

    let second = browser(&driver, "second").await;
    second.goto(&app.url("/login")).await.expect("open");
    fill(&second, "email", "max@medway.gov.uk").await;
    fill(&second, "password", PASSWORD).await;
    submit(&second, "/login").await;
    expect_heading(&second, "Dashboard").await;
    second
        .goto(&app.url(&format!("/meetings/{}", m.id)))
        .await
        .expect("open meeting");
    expect_heading(&second, "SEGWARP November meeting").await;
    assert!(
        second
            .source()
            .await
            .expect("source")
            .contains("The meeting is full")
    );
    second
        .find(Locator::Id("answer-yes"))
        .await
        .expect("yes")
        .click()
        .await
        .expect("choose");
    submit(&second, &format!("/meetings/{}/rsvp", m.id)).await;
    wait_for(&second, ".error-summary").await;
    let page = second.source().await.expect("source");
    assert!(
        page.contains("the meeting is full: all 1 places are taken"),
        "{page}"
    );
    assert_eq!(app.store.rsvp_of(m.id, max.id).await.expect("rsvp"), None);
    first.close().await.expect("close");
    second.close().await.expect("close");
}

/// Issue 7's walk-through, discussion: a member finds a thread from the
/// menu, replies in Markdown, and the reply appears rendered (bold as
/// `<strong>`), while a script in it is shown as text, never run.
#[tokio::test]
async fn a_member_replies_to_a_thread_and_sees_it_rendered() {
    use openwarp_core::discussion::{validate_thread, validate_topic};
    let Some(driver) = driver() else { return };
    let app = sqlite_app().await;
    let kent = app.org("Kent County Council", "county", true).await;
    let op = app.user("op@warp.example", Role::Operator, None).await;
    let kim = app
        .user("kim@kent.gov.uk", Role::MemberUser, Some(kent.id))
        .await;
    let topic = app
        .store
        .create_topic(
            &validate_topic("PSN", "").expect("valid"),
            op.id,
            openwarp_store::now(),
        )
        .await
        .expect("topic");
    app.store
        .create_thread(
            topic.id,
            &validate_thread("PSN renewal", "Has anyone renewed this year?").expect("valid"),
            op.id,
            openwarp_store::now(),
        )
        .await
        .expect("thread");

    let c = browser(&driver, "discussion").await;
    c.goto(&app.url("/login")).await.expect("open");
    fill(&c, "email", &kim.email).await;
    fill(&c, "password", PASSWORD).await;
    submit(&c, "/login").await;
    expect_heading(&c, "Dashboard").await;
    c.find(Locator::LinkText("Discussion"))
        .await
        .expect("nav")
        .click()
        .await
        .expect("click");
    expect_heading(&c, "Discussion").await;
    c.find(Locator::LinkText("PSN"))
        .await
        .expect("topic")
        .click()
        .await
        .expect("click");
    expect_heading(&c, "PSN").await;
    c.find(Locator::LinkText("PSN renewal"))
        .await
        .expect("thread")
        .click()
        .await
        .expect("click");
    expect_heading(&c, "PSN renewal").await;
    let path = c.current_url().await.expect("url").path().to_string();
    fill(
        &c,
        "body",
        "We renewed in **May** <script>document.title='pwned'</script>",
    )
    .await;
    submit(&c, &format!("{path}/reply")).await;
    wait_for(&c, ".post-body strong").await;
    let bold = c
        .find(Locator::Css(".post-body strong"))
        .await
        .expect("bold")
        .text()
        .await
        .expect("text");
    assert_eq!(bold, "May");
    let page = c.source().await.expect("source");
    assert!(page.contains("Your reply has been posted"), "{page}");
    assert!(page.contains("&lt;script&gt;"), "shown as text: {page}");
    assert_ne!(c.title().await.expect("title"), "pwned");
    c.close().await.expect("close");
}

// Assessments (issue 8)
/// Issue 8's walk-through: four other councils have submitted; Kent's lead
/// finds the self-assessment from the menu, answers the last section,
/// submits, and reads the results with the chart and the regional benchmark
/// (five organisations now) and the printable report; an operator, in
/// another browser, sees the members most in need of support.
#[tokio::test]
async fn a_lead_completes_and_submits_an_assessment_and_the_operator_sees_who_needs_support() {
    use openwarp_core::assessment::framework::{SHIPPED_FILE, SHIPPED_SOURCE};
    use openwarp_core::assessment::{Answer, Answers, Framework, Grade};
    let Some(driver) = driver() else { return };
    let app = sqlite_app().await;
    let f = Framework::shipped().expect("framework");
    let graded = |g: Grade, skip: &str| -> Answers {
        f.questions()
            .filter(|p| p.principle.id != skip)
            .map(|p| {
                (
                    p.question.id.clone(),
                    Answer {
                        grade: Some(g),
                        evidence: String::new(),
                    },
                )
            })
            .collect()
    };
    let now = openwarp_store::now();
    for (name, domain, grade) in [
        ("Ashford Borough Council", "ashford.gov.uk", Grade::Achieved),
        ("Dover District Council", "dover.gov.uk", Grade::NotAchieved),
        ("Medway Council", "medway.gov.uk", Grade::PartiallyAchieved),
        ("Surrey County Council", "surreycc.gov.uk", Grade::Achieved),
    ] {
        let org = app.org(name, "district_borough", true).await;
        let lead = app
            .user(&format!("lead@{domain}"), Role::MemberLead, Some(org.id))
            .await;
        app.store
            .save_assessment_answers(org.id, &f.id, &graded(grade, ""), lead.id, now)
            .await
            .expect("answers");
        app.store
            .submit_assessment(org.id, &f, SHIPPED_FILE, SHIPPED_SOURCE, lead.id, now)
            .await
            .expect("submit");
    }
    app.org("Swale Borough Council", "district_borough", true)
        .await;
    let kent = app.org("Kent County Council", "county", true).await;
    let kate = app
        .user("lead@kent.gov.uk", Role::MemberLead, Some(kent.id))
        .await;
    // Earlier sittings did everything but D2.
    app.store
        .save_assessment_answers(
            kent.id,
            &f.id,
            &graded(Grade::PartiallyAchieved, "D2"),
            kate.id,
            now,
        )
        .await
        .expect("earlier sittings");
    app.user("op@warp.example", Role::Operator, None).await;

    let c = browser(&driver, "lead").await;
    c.goto(&app.url("/login")).await.expect("open");
    fill(&c, "email", "lead@kent.gov.uk").await;
    fill(&c, "password", PASSWORD).await;
    submit(&c, "/login").await;
    expect_heading(&c, "Dashboard").await;
    for link in ["Self-assessment", "Your assessment"] {
        c.find(Locator::LinkText(link))
            .await
            .unwrap_or_else(|e| panic!("{link}: {e}"))
            .click()
            .await
            .expect("click");
    }
    expect_heading(&c, &f.title).await;
    assert!(c.source().await.expect("source").contains("37 of 39"));
    c.find(Locator::LinkText("D2 Lessons learned"))
        .await
        .expect("section link")
        .click()
        .await
        .expect("click");
    expect_heading(&c, "D2 Lessons learned").await;
    for id in ["grade_D2.a.1_achieved", "grade_D2.b.1_partially_achieved"] {
        c.find(Locator::Css(&format!("input[id=\"{id}\"]")))
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"))
            .click()
            .await
            .expect("choose");
    }
    c.find(Locator::Css("textarea[id=\"evidence_D2.a.1\"]"))
        .await
        .expect("notes")
        .send_keys("Post-incident reviews minuted at the information governance board")
        .await
        .expect("type");
    c.find(Locator::Css("button[name=then][value=next]"))
        .await
        .expect("save and finish")
        .click()
        .await
        .expect("click");
    expect_heading(&c, &f.title).await;
    let page = c.source().await.expect("source");
    assert!(page.contains("Your answers have been saved."), "{page}");
    assert!(page.contains("39 of 39"), "{page}");
    submit(
        &c,
        &format!("/orgs/{}/assessments/{}/submit", kent.id.0, f.id),
    )
    .await;
    expect_heading(&c, "Self-assessment results").await;
    wait_for(&c, "svg.chart line.median").await;
    let page = c.source().await.expect("source");
    assert!(
        page.contains("The assessment has been submitted."),
        "{page}"
    );
    assert!(
        page.contains("from the latest submissions of 5 organisations"),
        "{page}"
    );
    assert!(page.contains("<title id=\"principles-chart-title\">"));
    assert!(page.contains("Risks and next steps"));
    assert!(
        !page.contains("Ashford") && !page.contains("Dover"),
        "no other member named"
    );
    c.find(Locator::LinkText("Printable report"))
        .await
        .expect("print link")
        .click()
        .await
        .expect("click");
    expect_heading(&c, "Kent County Council: cyber security self-assessment").await;
    assert!(
        c.source()
            .await
            .expect("source")
            .contains("Post-incident reviews minuted")
    );

    let op = browser(&driver, "operator").await;
    op.goto(&app.url("/login")).await.expect("open");
    fill(&op, "email", "op@warp.example").await;
    fill(&op, "password", PASSWORD).await;
    submit(&op, "/login").await;
    expect_heading(&op, "Dashboard").await;
    for link in ["Self-assessment", "Regional view and support"] {
        op.find(Locator::LinkText(link))
            .await
            .unwrap_or_else(|e| panic!("{link}: {e}"))
            .click()
            .await
            .expect("click");
    }
    expect_heading(&op, &format!("Regional view: {}", f.title)).await;
    let ranking = op
        .find(Locator::Css("ol.support-ranking"))
        .await
        .expect("ranking")
        .text()
        .await
        .expect("text");
    let dover = ranking
        .find("Dover District Council")
        .expect("Dover ranked");
    let swale = ranking.find("Swale Borough Council").expect("Swale ranked");
    let ashford = ranking
        .find("Ashford Borough Council")
        .expect("Ashford ranked");
    assert!(dover < swale && swale < ashford, "{ranking}");
    assert!(
        ranking.contains("Has never submitted a self-assessment"),
        "{ranking}"
    );
    let page = op.source().await.expect("source");
    assert!(page.contains("Heat map of outcomes"));
    assert!(
        !page.contains("Post-incident reviews minuted"),
        "evidence notes stay with the member"
    );
    op.close().await.expect("close operator");
    c.close().await.expect("close lead");
}
// End of assessments (issue 8)

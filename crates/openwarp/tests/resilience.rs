//! Killed with SIGKILL (no chance to clean up) in the middle of work, then
//! run again: nothing is lost, half-written or duplicated.
//!
//! - **Ingest**: `openwarp ingest` of a year of the NVD feed, killed once some
//!   batches are stored, then run again, ends with exactly the advisories,
//!   records, changes and exposures of one uninterrupted run into a fresh
//!   database, and no matching owed.
//! - **Assessment saves**: `openwarp serve` killed while a member's answers
//!   are being saved and submitted over the API: every question holds the
//!   answer of one whole save (never half of one and half of another), one
//!   row per question, and every submission is complete.
//!
//! (Delivery is covered by `alerts_crash.rs`.) These run the real binary, so
//! they live with it. The NVD year comes from `../shared/data`: required
//! under CI, skipped with a message elsewhere when absent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: failing loudly is the point

use chrono::Utc;
use openwarp_core::{Email, OrgId, Role};
use openwarp_matching::inventory::ItemFields;
use openwarp_store::testing::TestDb;
use openwarp_store::{NewUser, Store};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn nvd_year() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/nvd/nvdcve-2.0-2004.json.gz");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is required under CI",
        path.display()
    );
    eprintln!("skipping: {} is absent", path.display());
    None
}

async fn council(store: &Store) -> OrgId {
    let draft = openwarp_store::testing::council("Kent County Council", "county");
    store.create_org(&draft, Utc::now()).await.expect("org").id
}

/// A council running products the 2004 advisories name, so ingest matches.
async fn estate(url: &str) {
    let store = Store::connect(url).await.expect("open");
    store.migrate().await.expect("migrate");
    let org = council(&store).await;
    let items: Vec<ItemFields> = [
        ("Desktops", "Microsoft", "Windows XP", "-"),
        ("Web server", "Apache", "HTTP Server", "2.0.48"),
        ("TLS library", "OpenSSL", "OpenSSL", "0.9.7c"),
        ("Mail", "Sendmail", "Sendmail", "8.12.9"),
        ("PHP", "PHP", "PHP", "4.3.4"),
    ]
    .into_iter()
    .map(|(name, vendor, product, version)| {
        ItemFields {
            name: name.into(),
            vendor: Some(vendor.into()),
            product: Some(product.into()),
            version: Some(version.into()),
            ..ItemFields::default()
        }
        .validate()
        .expect("item")
    })
    .collect();
    store
        .add_items(org, &items, "manual", None, Utc::now())
        .await
        .expect("items");
    store.close().await;
}

fn ingest(db_url: &str, dir: &Path, file: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_openwarp"));
    c.args(["ingest", "--quiet", "--batch-size", "25"])
        .arg(file)
        .current_dir(dir)
        .env("OPENWARP_DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    c
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    db.text_rows(sql).await[0][0]
        .as_deref()
        .expect("a count")
        .parse()
        .expect("a number")
}

/// What an ingest leaves, as numbers to compare.
async fn outcome(url: &str) -> Vec<(String, i64)> {
    let store = Store::connect(url).await.expect("open");
    let db = TestDb::existing(store.clone(), url);
    let mut out = Vec::new();
    for (name, sql) in [
        (
            "advisories",
            "SELECT CAST(COUNT(*) AS TEXT) FROM advisories",
        ),
        (
            "source records",
            "SELECT CAST(COUNT(*) AS TEXT) FROM source_records",
        ),
        (
            "advisory changes",
            "SELECT CAST(COUNT(*) AS TEXT) FROM advisory_changes",
        ),
        ("exposures", "SELECT CAST(COUNT(*) AS TEXT) FROM exposures"),
        (
            "matching owed",
            "SELECT CAST(COUNT(*) AS TEXT) FROM match_pending",
        ),
        (
            "duplicate records",
            "SELECT CAST(COUNT(*) AS TEXT) FROM (SELECT source, record_id FROM source_records \
             GROUP BY source, record_id HAVING COUNT(*) > 1) d",
        ),
    ] {
        out.push((name.to_string(), count(&db, sql).await));
    }
    store.close().await;
    out
}

#[tokio::test]
async fn ingest_killed_mid_file_then_rerun_equals_one_clean_run() {
    let Some(file) = nvd_year() else { return };
    let dir = tempfile::tempdir().expect("dir");

    let clean = format!("sqlite://{}", dir.path().join("clean.db").display());
    estate(&clean).await;
    let status = ingest(&clean, dir.path(), &file).status().expect("ingest");
    assert!(status.success());
    let expected = outcome(&clean).await;
    assert!(expected[0].1 > 1000, "{expected:?}");
    assert!(
        expected[3].1 > 0,
        "the estate should be exposed to something: {expected:?}"
    );

    let url = format!("sqlite://{}", dir.path().join("killed.db").display());
    estate(&url).await;
    let mut child: Child = ingest(&url, dir.path(), &file).spawn().expect("ingest");
    let watcher = Store::connect(&url).await.expect("open");
    let watch = TestDb::existing(watcher.clone(), &url);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut at_kill = 0;
    while Instant::now() < deadline {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        at_kill = count(&watch, "SELECT CAST(COUNT(*) AS TEXT) FROM source_records").await;
        if at_kill >= 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    watcher.close().await;
    assert!(
        at_kill > 0 && at_kill < expected[1].1,
        "the kill should land mid-file ({at_kill} of {} records stored)",
        expected[1].1
    );

    let status = ingest(&url, dir.path(), &file)
        .status()
        .expect("ingest again");
    assert!(status.success());
    assert_eq!(outcome(&url).await, expected);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn serve(db_url: &str, dir: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_openwarp"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .env("OPENWARP_DATABASE_URL", db_url)
        .env("OPENWARP_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("serve")
}

async fn ready(http: &reqwest::Client, port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && r.status().is_success()
        {
            return;
        }
        assert!(child.try_wait().expect("wait").is_none(), "serve exited");
        assert!(Instant::now() < deadline, "serve not ready in 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn serve_killed_while_answers_are_saved_keeps_whole_saves_only() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("warp.db").display());
    let store = Store::connect(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    let org = council(&store).await;
    let lead = store
        .create_user(
            &NewUser {
                email: Email::parse("lead@kent.gov.uk").expect("email"),
                display_name: "Lee Lead".into(),
                role: Role::MemberLead,
                org_id: Some(org),
                password_hash: "$argon2id$placeholder".into(),
            },
            Utc::now(),
        )
        .await
        .expect("lead");
    let (_, token) = store
        .create_api_token(lead.id, "resilience", Utc::now())
        .await
        .expect("token");
    store.close().await;

    let port = free_port();
    let mut child = serve(&url, dir.path(), port);
    let http = reqwest::Client::new();
    ready(&http, port, &mut child).await;
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let fw: serde_json::Value = serde_json::from_str(
        &http
            .get(format!("{base}/assessment-frameworks/council-caf"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("framework")
            .text()
            .await
            .expect("body"),
    )
    .expect("json");
    let mut questions = Vec::new();
    collect_questions(&fw, &mut questions);
    assert!(questions.len() > 30, "{} questions", questions.len());

    // Save every answer again and again, each round with its own grade and
    // note, and submit now and then; kill the server part-way.
    let killer = {
        let pid = child.id();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        })
    };
    let grades = ["not_achieved", "partially_achieved", "achieved"];
    let mut saved_rounds = 0;
    let mut submitted = 0;
    for round in 1..100_000 {
        let answers: Vec<serde_json::Value> = questions
            .iter()
            .map(|q| {
                serde_json::json!({
                    "question": q,
                    "grade": grades[round % 3],
                    "evidence": format!("round {round}"),
                })
            })
            .collect();
        let put = http
            .put(format!(
                "{base}/orgs/{}/assessments/council-caf/answers",
                org.0
            ))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(serde_json::json!({ "answers": answers }).to_string())
            .send()
            .await;
        match put {
            Ok(r) if r.status().is_success() => saved_rounds = round,
            Ok(r) => panic!("save refused: {}", r.status()),
            Err(_) => break, // the server is gone
        }
        if round % 5 == 0 {
            match http
                .post(format!(
                    "{base}/orgs/{}/assessments/council-caf/submissions",
                    org.0
                ))
                .bearer_auth(&token)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => submitted += 1,
                Ok(r) => panic!("submit refused: {}", r.status()),
                Err(_) => break,
            }
        }
    }
    killer.await.expect("killer");
    child.wait().expect("reap");
    assert!(
        saved_rounds >= 2,
        "the kill came too soon: {saved_rounds} rounds"
    );

    // Restart: it starts, and the data is whole.
    let mut again = serve(&url, dir.path(), port);
    ready(&http, port, &mut again).await;
    let store = Store::connect(&url).await.expect("open");
    let db = TestDb::existing(store.clone(), &url);
    let rows = db
        .text_rows(
            "SELECT question_id, grade, evidence FROM assessment_answers WHERE framework_id = 'council-caf'",
        )
        .await;
    assert_eq!(rows.len(), questions.len(), "one row per question");
    let notes: std::collections::BTreeSet<String> =
        rows.iter().map(|r| r[2].clone().expect("note")).collect();
    assert_eq!(notes.len(), 1, "answers from more than one save: {notes:?}");
    let round: usize = notes
        .iter()
        .next()
        .and_then(|n| n.strip_prefix("round "))
        .and_then(|n| n.parse().ok())
        .expect("a round");
    // The last save answered was stored; one more may have been in flight.
    assert!(
        round == saved_rounds || round == saved_rounds + 1,
        "{round} vs {saved_rounds}"
    );
    assert!(
        rows.iter()
            .all(|r| r[1].as_deref() == Some(grades[round % 3]))
    );
    // Every submission is whole, and none was made twice.
    let subs = db
        .text_rows("SELECT answers FROM assessment_submissions")
        .await;
    assert!(subs.len() >= submitted && subs.len() <= submitted + 1);
    for s in subs {
        let answers: serde_json::Value =
            serde_json::from_str(s[0].as_deref().expect("json")).expect("snapshot json");
        let n = answers.as_object().map_or(0, |m| m.len());
        assert_eq!(n, questions.len(), "a submission with {n} answers");
    }
    let ok = db.text_rows("PRAGMA integrity_check").await;
    assert_eq!(ok[0][0].as_deref(), Some("ok"));
    store.close().await;
    let _ = again.kill();
    let _ = again.wait();
}

/// Every question id in the framework document.
fn collect_questions(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if let (Some(id), Some(_)) = (m.get("id").and_then(|i| i.as_str()), m.get("next_step"))
            {
                out.push(id.to_string());
            }
            for x in m.values() {
                collect_questions(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_questions(x, out)),
        _ => {}
    }
}

//! The cyber-security self-assessment over real HTTP, pages and API, on
//! every backend: answers saved over several sittings (CSRF-checked, bad
//! input a 422 naming the field), the lead alone submits, results with SVG
//! charts and a printable report, the regional benchmark only from five
//! organisations (k-anonymity), a member never reads another member's
//! answers through any page, API route or export, operators see coverage,
//! the heat map and the support ranking and export CSV (audited), and a
//! second framework is taken without code changes.

use crate::support::{ANON, Client, TestApp, apps, call};
use openwarp_core::Role;
use openwarp_core::assessment::Framework;
use openwarp_store::{Organisation, User, now};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const FW: &str = "council-caf";

fn question_ids() -> Vec<String> {
    Framework::shipped()
        .expect("shipped")
        .questions()
        .map(|p| p.question.id.clone())
        .collect()
}

/// Every question graded `grade`, with `note` as evidence on each.
fn all_answers(grade: &str, note: &str) -> Value {
    json!({
        "answers": question_ids()
            .iter()
            .map(|q| json!({ "question": q, "grade": grade, "evidence": note }))
            .collect::<Vec<_>>()
    })
}

struct Member {
    org: Organisation,
    lead: User,
    user: User,
    lead_token: String,
}

async fn member(app: &TestApp, name: &str, domain: &str, kind: &str) -> Member {
    let org = app.org(name, kind, true).await;
    let lead = app
        .user(&format!("lead@{domain}"), Role::MemberLead, Some(org.id))
        .await;
    let user = app
        .user(&format!("user@{domain}"), Role::MemberUser, Some(org.id))
        .await;
    let lead_token = app.token(&lead).await;
    Member {
        org,
        lead,
        user,
        lead_token,
    }
}

/// Answer everything as `grade` and submit through the API; the submission id.
async fn answer_and_submit(app: &TestApp, m: &Member, grade: &str, note: &str) -> i64 {
    let org = m.org.id.0;
    let (s, b) = call(
        app,
        Method::PUT,
        &format!("/api/v1/orgs/{org}/assessments/{FW}/answers"),
        &m.lead_token,
        Some(all_answers(grade, note)),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{} {b}", app.backend());
    let (s, b) = call(
        app,
        Method::POST,
        &format!("/api/v1/orgs/{org}/assessments/{FW}/submissions"),
        &m.lead_token,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{} {b}", app.backend());
    b["submission"].as_i64().expect("submission id")
}

async fn signed_in(app: &TestApp, u: &User) -> Client {
    app.client().signed_in(&u.email).await
}

#[tokio::test]
async fn members_answer_over_sittings_and_the_lead_submits_and_reads_results() {
    for app in apps().await {
        let kent = member(&app, "Kent County Council", "kent.gov.uk", "county").await;
        let org = kent.org.id.0;
        let base = format!("/orgs/{org}/assessments/{FW}");
        let user = signed_in(&app, &kent.user).await;
        let lead = signed_in(&app, &kent.lead).await;

        // The way in, from the menu.
        let index = user.get("/assessments").await;
        assert_eq!(index.status, StatusCode::OK);
        assert!(
            index.contains(&format!("href=\"{base}\"")),
            "{}",
            index.body
        );
        let overview = user.get(&base).await;
        assert!(overview.contains("0 of 39"), "{}", overview.body);
        assert!(
            !overview.contains("Submit the assessment"),
            "only the lead submits"
        );

        // First sitting: the user answers two questions of A1 and stays.
        let a1 = format!("{base}/sections/A1");
        let saved = user
            .submit(
                &a1,
                &a1,
                &[
                    ("grade_A1.a.1", "achieved"),
                    (
                        "evidence_A1.a.1",
                        "Director of Finance named in the constitution",
                    ),
                    ("grade_A1.a.2", "partially_achieved"),
                    ("then", "stay"),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        assert_eq!(
            saved.location.as_deref(),
            Some(&*format!("{a1}?notice=saved"))
        );
        // Second sitting: it is all still there.
        let again = user.get(&a1).await;
        assert!(again.contains("Director of Finance named in the constitution"));
        assert!(
            again.contains("value=\"achieved\" checked"),
            "{}",
            again.body
        );
        // Save and go on: the next section.
        let next = user
            .submit(
                &a1,
                &a1,
                &[("grade_A1.a.3", "not_achieved"), ("then", "next")],
            )
            .await;
        assert_eq!(
            next.location.as_deref(),
            Some(&*format!("{base}/sections/A2?notice=saved"))
        );
        // A bad grade: 422 naming the field and question; nothing saved.
        let bad = user
            .submit(&a1, &a1, &[("grade_A1.b.1", "mostly"), ("then", "stay")])
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.contains("Grade: question A1.b.1"), "{}", bad.body);
        // Without the CSRF token: refused.
        let forged = user
            .post(&a1, &[("grade_A1.b.1", "achieved"), ("then", "stay")])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let (_, copy) = call(
            &app,
            Method::GET,
            &format!("/api/v1/orgs/{org}/assessments/{FW}"),
            &kent.lead_token,
            None,
        )
        .await;
        assert_eq!(copy["answered"], 3, "{copy}");
        assert_eq!(copy["updated_by"], "User user");

        // The lead cannot submit an incomplete assessment: 422 naming what is missing.
        let early = lead.submit(&base, &format!("{base}/submit"), &[]).await;
        assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            early.contains("36 question(s) have no grade yet"),
            "{}",
            early.body
        );
        // A member user may not submit at all.
        let refused = user.submit(&base, &format!("{base}/submit"), &[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let (s, _) = call(
            &app,
            Method::POST,
            &format!("/api/v1/orgs/{org}/assessments/{FW}/submissions"),
            &app.token(&kent.user).await,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Everything answered through the API (an unknown question: 422).
        let (s, b) = call(
            &app,
            Method::PUT,
            &format!("/api/v1/orgs/{org}/assessments/{FW}/answers"),
            &kent.lead_token,
            Some(json!({ "answers": [{ "question": "Z9.z.9", "grade": "achieved" }] })),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(b["fields"][0]["field"], "question", "{b}");
        let mut answers = all_answers("partially_achieved", "");
        answers["answers"][0]["grade"] = json!("achieved");
        let (s, _) = call(
            &app,
            Method::PUT,
            &format!("/api/v1/orgs/{org}/assessments/{FW}/answers"),
            &kent.lead_token,
            Some(answers),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let submitted = lead.submit(&base, &format!("{base}/submit"), &[]).await;
        assert_eq!(
            submitted.status,
            StatusCode::SEE_OTHER,
            "{}",
            submitted.body
        );
        let location = submitted.location.expect("to the results");
        assert!(location.ends_with("?notice=submitted"), "{location}");
        let results_path = location.trim_end_matches("?notice=submitted").to_string();
        assert!(results_path.starts_with(&format!("{base}/submissions/")));
        let results = lead.get(&results_path).await;
        assert_eq!(results.status, StatusCode::OK);
        for needle in [
            "Overall score",
            "<svg class=\"chart\" role=\"img\"",
            "<title id=\"principles-chart-title\">",
            "<desc id=\"principles-chart-desc\">",
            "Risks and next steps",
            "Strengths (good practice)",
            "The regional benchmark appears once at least 5 organisations",
            "This is the first submission",
            "Printable report",
        ] {
            assert!(
                results.contains(needle),
                "missing {needle}: {}",
                results.body
            );
        }
        // Risks carry next steps, most important first: a high-importance question leads.
        let risks = &results.body[results.body.find("Risks and next steps").unwrap_or(0)..];
        assert!(risks.contains("High importance"), "{risks}");
        assert!(risks.contains("Next step:"));
        let print = lead.get(&format!("{results_path}/print")).await;
        assert_eq!(print.status, StatusCode::OK);
        assert!(print.contains("class=\"print-page\""), "{}", print.body);
        assert!(print.contains("Kent County Council: cyber security self-assessment"));

        // A second submission shows the change and progress over time.
        answer_and_submit(&app, &kent, "achieved", "").await;
        let (s, list) = call(
            &app,
            Method::GET,
            &format!("/api/v1/orgs/{org}/assessments/{FW}/submissions"),
            &kent.lead_token,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list.as_array().map(Vec::len), Some(2));
        assert_eq!(list[0]["overall"], 100.0);
        let latest = lead.get(&format!("{base}/results")).await;
        let latest = lead.get(&latest.location.expect("latest")).await;
        assert!(latest.contains("Progress over time"), "{}", latest.body);
        assert!(latest.contains("Compared with the submission of"));
        assert!(latest.contains("Every question is achieved."));

        // Submissions are audited.
        let log = app.store.audit_log(50, None).await.expect("audit");
        assert_eq!(
            log.iter()
                .filter(|e| e.action == "assessment.submit")
                .count(),
            2
        );
        // Signed out: the sign-in page or 401.
        let anon = app.client().get(&base).await;
        assert_eq!(anon.status, StatusCode::SEE_OTHER);
        let (s, _) = call(
            &app,
            Method::GET,
            &format!("/api/v1/orgs/{org}/assessments/{FW}"),
            ANON,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn the_benchmark_shows_from_five_organisations_not_four() {
    for app in apps().await {
        let mut members = Vec::new();
        for (i, name) in ["Ashford", "Dover", "Kent", "Medway", "Swale"]
            .iter()
            .enumerate()
        {
            let kind = if i == 2 { "county" } else { "district_borough" };
            members.push(
                member(
                    &app,
                    &format!("{name} Council"),
                    &format!("{}.gov.uk", name.to_lowercase()),
                    kind,
                )
                .await,
            );
        }
        let grades = ["achieved", "partially_achieved", "not_achieved", "achieved"];
        let mut last = 0;
        for (m, g) in members.iter().zip(grades) {
            last = answer_and_submit(&app, m, g, "").await;
        }
        // Four organisations have submitted: no regional figure anywhere.
        let m = &members[3];
        let path = format!(
            "/api/v1/orgs/{}/assessments/{FW}/submissions/{last}",
            m.org.id.0
        );
        let (s, r) = call(&app, Method::GET, &path, &m.lead_token, None).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["benchmark_shown"], false);
        assert!(
            r["benchmark"]
                .as_array()
                .expect("benchmark")
                .iter()
                .all(|b| b.get("region").is_none() && b.get("position").is_none()),
            "{r}"
        );
        let page_path = format!("/orgs/{}/assessments/{FW}/submissions/{last}", m.org.id.0);
        let lead = signed_in(&app, &m.lead).await;
        let page = lead.get(&page_path).await;
        assert!(page.contains("appears once at least 5 organisations"));
        assert!(!page.contains("class=\"median\""), "no median drawn");
        assert!(!page.contains("Region: lower quartile"));

        // The fifth: the region shows, computed from five.
        answer_and_submit(&app, &members[4], "partially_achieved", "").await;
        let (_, r) = call(&app, Method::GET, &path, &m.lead_token, None).await;
        assert_eq!(r["benchmark_shown"], true, "{r}");
        let a1 = &r["benchmark"][0];
        assert_eq!(a1["principle"], "A1");
        assert_eq!(a1["region"]["organisations"], 5);
        // A1 scores: 100, 50, 0, 100, 50 → quartiles 50, 50, 100.
        assert_eq!(a1["region"]["median"], 50.0);
        assert_eq!(a1["region"]["lower"], 50.0);
        assert_eq!(a1["region"]["upper"], 100.0);
        assert_eq!(a1["position"], "top_quarter");
        let page = lead.get(&page_path).await;
        assert!(page.contains("class=\"median\""), "{}", page.body);
        assert!(page.contains("from the latest submissions of 5 organisations"));
        assert!(page.contains("top quarter"), "{}", page.body);
    }
}

#[tokio::test]
async fn a_member_never_reads_another_members_answers() {
    for app in apps().await {
        let a = member(
            &app,
            "Ashford Borough Council",
            "ashford.gov.uk",
            "district_borough",
        )
        .await;
        let b = member(
            &app,
            "Dover District Council",
            "dover.gov.uk",
            "district_borough",
        )
        .await;
        let op = app.user("op@warp.example", Role::Operator, None).await;
        let op_token = app.token(&op).await;
        let secret = "DOVER-SECRET-NOTE";
        let b_sub = answer_and_submit(&app, &b, "achieved", secret).await;
        let a_sub = answer_and_submit(&app, &a, "not_achieved", "").await;
        let (ao, bo) = (a.org.id.0, b.org.id.0);
        let a_user_token = app.token(&a.user).await;
        let a_lead = signed_in(&app, &a.lead).await;
        let a_user = signed_in(&app, &a.user).await;

        // Pages: everything of Dover's is 404 to Ashford's lead and user.
        let pages = [
            format!("/orgs/{bo}/assessments/{FW}"),
            format!("/orgs/{bo}/assessments/{FW}/sections/A1"),
            format!("/orgs/{bo}/assessments/{FW}/results"),
            format!("/orgs/{bo}/assessments/{FW}/submissions/{b_sub}"),
            format!("/orgs/{bo}/assessments/{FW}/submissions/{b_sub}/print"),
            // Dover's submission under Ashford's own address.
            format!("/orgs/{ao}/assessments/{FW}/submissions/{b_sub}"),
            format!("/orgs/{ao}/assessments/{FW}/submissions/{b_sub}/print"),
        ];
        for client in [&a_lead, &a_user] {
            for p in &pages {
                let got = client.get(p).await;
                assert_eq!(got.status, StatusCode::NOT_FOUND, "GET {p}");
                assert!(!got.contains(secret) && !got.contains("Dover"), "GET {p}");
            }
            // Operators' views and exports: 403.
            for p in [
                format!("/assessments/{FW}/region"),
                format!("/assessments/{FW}/export.csv"),
                format!("/assessments/{FW}/export.csv?anonymised=true"),
            ] {
                let got = client.get(&p).await;
                assert_eq!(got.status, StatusCode::FORBIDDEN, "GET {p}");
                assert!(!got.contains(secret) && !got.contains("Dover"), "GET {p}");
            }
        }
        // Writing to Dover's: 404, nothing changes.
        let own = format!("/orgs/{ao}/assessments/{FW}/sections/A1");
        let csrf = a_lead.get(&own).await.csrf();
        for action in [
            format!("/orgs/{bo}/assessments/{FW}/sections/A1"),
            format!("/orgs/{bo}/assessments/{FW}/submit"),
        ] {
            let got = a_lead
                .post(
                    &action,
                    &[("grade_A1.a.1", "not_achieved"), ("csrf", &csrf)],
                )
                .await;
            assert_eq!(got.status, StatusCode::NOT_FOUND, "POST {action}");
        }
        // The API, for both of Ashford's users: 404 or 403, never Dover's data.
        for token in [&a.lead_token, &a_user_token] {
            for (method, path, body) in [
                (
                    Method::GET,
                    format!("/api/v1/orgs/{bo}/assessments/{FW}"),
                    None,
                ),
                (
                    Method::PUT,
                    format!("/api/v1/orgs/{bo}/assessments/{FW}/answers"),
                    Some(all_answers("not_achieved", "")),
                ),
                (
                    Method::GET,
                    format!("/api/v1/orgs/{bo}/assessments/{FW}/submissions"),
                    None,
                ),
                (
                    Method::POST,
                    format!("/api/v1/orgs/{bo}/assessments/{FW}/submissions"),
                    None,
                ),
                (
                    Method::GET,
                    format!("/api/v1/orgs/{bo}/assessments/{FW}/submissions/{b_sub}"),
                    None,
                ),
                (
                    Method::GET,
                    format!("/api/v1/orgs/{ao}/assessments/{FW}/submissions/{b_sub}"),
                    None,
                ),
            ] {
                let (s, got) = call(&app, method.clone(), &path, token, body).await;
                assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}: {got}");
                assert!(!got.to_string().contains(secret), "{method} {path}");
            }
            for path in [
                format!("/api/v1/assessments/{FW}/region"),
                format!("/api/v1/assessments/{FW}/export.csv"),
                format!("/api/v1/assessments/{FW}/export.csv?anonymised=true"),
            ] {
                let (s, got) = call(&app, Method::GET, &path, token, None).await;
                assert_eq!(s, StatusCode::FORBIDDEN, "GET {path}");
                assert!(!got.to_string().contains("Dover"), "GET {path}");
            }
        }
        // Dover's answers are untouched.
        let (_, copy) = call(
            &app,
            Method::GET,
            &format!("/api/v1/orgs/{bo}/assessments/{FW}"),
            &b.lead_token,
            None,
        )
        .await;
        assert_eq!(copy["answers"][0]["grade"], "achieved");
        assert_eq!(copy["answers"][0]["evidence"], secret);
        // Ashford's own results show nothing of Dover's.
        let own = a_lead
            .get(&format!("/orgs/{ao}/assessments/{FW}/submissions/{a_sub}"))
            .await;
        assert_eq!(own.status, StatusCode::OK);
        assert!(!own.contains(secret) && !own.contains("Dover"));

        // Operators read results, never answers in progress or evidence notes.
        let (s, r) = call(
            &app,
            Method::GET,
            &format!("/api/v1/orgs/{bo}/assessments/{FW}/submissions/{b_sub}"),
            &op_token,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert!(r.get("answers").is_none());
        assert!(!r.to_string().contains(secret));
        let (s, _) = call(
            &app,
            Method::GET,
            &format!("/api/v1/orgs/{bo}/assessments/{FW}"),
            &op_token,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let operator = signed_in(&app, &op).await;
        let page = operator
            .get(&format!("/orgs/{bo}/assessments/{FW}/submissions/{b_sub}"))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.contains(secret));
        let csv = operator.get(&format!("/assessments/{FW}/export.csv")).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(!csv.contains(secret));
        // Dover's own lead does see its notes.
        let (_, r) = call(
            &app,
            Method::GET,
            &format!("/api/v1/orgs/{bo}/assessments/{FW}/submissions/{b_sub}"),
            &b.lead_token,
            None,
        )
        .await;
        assert_eq!(r["answers"][0]["evidence"], secret);
    }
}

#[tokio::test]
async fn operators_see_coverage_heat_map_support_ranking_and_export() {
    for app in apps().await {
        let op = app.user("op@warp.example", Role::Operator, None).await;
        let op_token = app.token(&op).await;
        let mut members = Vec::new();
        for (name, grade) in [
            ("Ashford", Some("achieved")),
            ("Dover", Some("not_achieved")),
            ("Kent", None),
            ("Medway", Some("partially_achieved")),
        ] {
            let m = member(
                &app,
                &format!("{name} Council"),
                &format!("{}.gov.uk", name.to_lowercase()),
                "district_borough",
            )
            .await;
            if let Some(g) = grade {
                answer_and_submit(&app, &m, g, "note").await;
            }
            members.push(m);
        }
        let (s, r) = call(
            &app,
            Method::GET,
            &format!("/api/v1/assessments/{FW}/region"),
            &op_token,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(
            (r["current"].as_i64(), r["never"].as_i64()),
            (Some(3), Some(1))
        );
        let ranked: Vec<&str> = r["support_ranking"]
            .as_array()
            .expect("ranking")
            .iter()
            .filter_map(|n| n["name"].as_str())
            .collect();
        // Dover (nothing achieved) most in need; Ashford (everything) least.
        assert_eq!(
            ranked,
            [
                "Dover Council",
                "Kent Council",
                "Medway Council",
                "Ashford Council"
            ]
        );
        assert_eq!(
            r["support_ranking"][1]["reasons"][0],
            "Has never submitted a self-assessment"
        );
        assert!(
            r["quartiles"][0].get("region").is_none(),
            "three submissions: no quartiles"
        );
        let operator = signed_in(&app, &op).await;
        let page = operator.get(&format!("/assessments/{FW}/region")).await;
        assert_eq!(page.status, StatusCode::OK);
        for needle in [
            "Members most in need of support",
            "Heat map of outcomes",
            "class=\"heat band-weak\"",
            "class=\"heat band-strong\"",
            "never submitted",
            "Fewer than 5 organisations",
        ] {
            assert!(page.contains(needle), "missing {needle}: {}", page.body);
        }

        // Named export; anonymised refused below five organisations.
        let named = operator.get(&format!("/assessments/{FW}/export.csv")).await;
        assert_eq!(named.status, StatusCode::OK);
        assert!(
            named
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/csv"))
        );
        assert!(named.body.starts_with("org_id,organisation,council_type"));
        assert!(named.contains("\"Dover Council\""));
        let (s, b) = call(
            &app,
            Method::GET,
            &format!("/api/v1/assessments/{FW}/export.csv?anonymised=true"),
            &op_token,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}");
        let (s, b) = call(
            &app,
            Method::GET,
            &format!("/api/v1/assessments/{FW}/export.csv?anonymised=perhaps"),
            &op_token,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(b["fields"][0]["field"], "anonymised", "{b}");
        // Two more submit: five, and the anonymised export has no names.
        for name in ["Swale", "Thanet"] {
            let m = member(
                &app,
                &format!("{name} Council"),
                &format!("{}.gov.uk", name.to_lowercase()),
                "county",
            )
            .await;
            answer_and_submit(&app, &m, "achieved", "").await;
        }
        let anon = operator
            .get(&format!("/assessments/{FW}/export.csv?anonymised=true"))
            .await;
        assert_eq!(anon.status, StatusCode::OK, "{}", anon.body);
        assert!(!anon.contains("Council"), "{}", anon.body);
        assert_eq!(anon.body.lines().count(), 6);
        // Three district councils and two counties: both too few to name the type.
        assert!(
            anon.body
                .lines()
                .skip(1)
                .all(|l| l.starts_with("withheld,")),
            "{}",
            anon.body
        );
        let log = app.store.audit_log(100, None).await.expect("audit");
        let exports: Vec<_> = log
            .iter()
            .filter(|e| e.action == "assessment.export")
            .collect();
        assert_eq!(exports.len(), 2, "refused exports are not audited as done");
        assert!(exports[0].detail.contains("\"anonymised\":true"));
        let _ = now();
    }
}

#[tokio::test]
async fn a_second_framework_is_taken_without_code_changes() {
    for app in apps().await {
        let source = r#"
id = "mini"
version = "1"
title = "Mini framework"

[[objective]]
id = "X"
title = "Only objective"

[[objective.principle]]
id = "X1"
title = "Only principle"

[[objective.principle.outcome]]
id = "X1.a"
title = "Only outcome"

[[objective.principle.outcome.question]]
id = "X1.a.1"
text = "Is it done?"
weight = "medium"
next_step = "Do it."
"#;
        let f = Framework::from_toml("mini.toml", source).expect("mini");
        app.store
            .install_framework(&f, "mini.toml", source, now())
            .await
            .expect("install");
        let m = member(&app, "Kent County Council", "kent.gov.uk", "county").await;
        let (_, list) = call(
            &app,
            Method::GET,
            "/api/v1/assessment-frameworks",
            &m.lead_token,
            None,
        )
        .await;
        let ids: Vec<&str> = list
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|f| f["id"].as_str())
            .collect();
        assert_eq!(ids, [FW, "mini"]);
        let org = m.org.id.0;
        let (s, _) = call(
            &app,
            Method::PUT,
            &format!("/api/v1/orgs/{org}/assessments/mini/answers"),
            &m.lead_token,
            Some(json!({ "answers": [{ "question": "X1.a.1", "grade": "partially_achieved" }] })),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (s, r) = call(
            &app,
            Method::POST,
            &format!("/api/v1/orgs/{org}/assessments/mini/submissions"),
            &m.lead_token,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!(r["overall"], 50.0);
        assert_eq!(r["risks"][0]["next_step"], "Do it.");
        let lead = signed_in(&app, &m.lead).await;
        let page = lead
            .get(&format!("/orgs/{org}/assessments/mini/sections/X1"))
            .await;
        assert!(page.contains("Is it done?"));
        // Every route is in the OpenAPI document.
        let (s, doc) = call(
            &app,
            Method::GET,
            "/api/v1/openapi.json",
            &m.lead_token,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        for path in [
            "/api/v1/assessment-frameworks",
            "/api/v1/assessment-frameworks/{fw}",
            "/api/v1/orgs/{org}/assessments/{fw}",
            "/api/v1/orgs/{org}/assessments/{fw}/answers",
            "/api/v1/orgs/{org}/assessments/{fw}/submissions",
            "/api/v1/orgs/{org}/assessments/{fw}/submissions/{id}",
            "/api/v1/assessments/{fw}/region",
            "/api/v1/assessments/{fw}/export.csv",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} not documented");
        }
        // An unknown framework: 404.
        let (s, _) = call(
            &app,
            Method::GET,
            "/api/v1/assessment-frameworks/nope",
            &m.lead_token,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
}

//! Group questions and polls over real HTTP, pages and API: votes after
//! closing, double votes and options not in the poll are refused with a
//! clear error and store nothing; anonymous ballots carry no user; forms are
//! CSRF-checked; everyone signed in takes part, only the asker or an
//! operator closes, signed-out callers are turned away.

use crate::support::call;
use crate::support::{Client, TestApp, apps};
use chrono::Duration;
use openwarp_core::Role;
use openwarp_core::poll::{PollDraft, PollKind};
use openwarp_store::{User, now};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct People {
    kent: User,
    medway: User,
    lead: User,
    operator: User,
}

async fn people(app: &TestApp) -> People {
    let kent = app.org("Kent County Council", "county", true).await;
    let medway = app.org("Medway Council", "unitary", true).await;
    People {
        kent: app
            .user("kim@kent.gov.uk", Role::MemberUser, Some(kent.id))
            .await,
        medway: app
            .user("max@medway.gov.uk", Role::MemberUser, Some(medway.id))
            .await,
        lead: app
            .user("lee@medway.gov.uk", Role::MemberLead, Some(medway.id))
            .await,
        operator: app.user("op@warp.example", Role::Operator, None).await,
    }
}

async fn signed_in(app: &TestApp, u: &User) -> Client {
    app.client().signed_in(&u.email).await
}

/// Rows of the anonymous ballot table, as text, straight from the database.
async fn anonymous_rows(app: &TestApp) -> Vec<Vec<Option<String>>> {
    app.db
        .text_rows(
            "SELECT ballot_id, CAST(poll_id AS TEXT), choices, answer FROM poll_anonymous_ballots",
        )
        .await
}

#[tokio::test]
async fn members_run_polls_and_vote_through_the_api() {
    for app in apps().await {
        let p = people(&app).await;
        let kim = app.token(&p.kent).await;
        let max = app.token(&p.medway).await;
        let op = app.token(&p.operator).await;

        let (s, body) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/polls",
            &kim,
            Some(json!({
                "kind": "multiple",
                "question": "Which e-mail filtering service do you use?",
                "options": ["Mimecast", "Microsoft Defender", "Proofpoint"],
                "closes_at": (now() + Duration::days(7)).format("%Y-%m-%d").to_string(),
            })),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{} {body}", app.backend());
        let id = body["id"].as_i64().expect("id");
        assert_eq!(body["open"], true);
        assert_eq!(body["asker_org"], "Kent County Council");

        let ballot = |c: Value| Some(json!({ "choices": c }));
        let path = format!("/api/v1/polls/{id}/ballot");
        let (s, b) = call(
            &app,
            reqwest::Method::POST,
            &path,
            &max,
            ballot(json!([0, 2])),
        )
        .await;
        assert_eq!(
            (s, b["outcome"].as_str()),
            (StatusCode::OK, Some("recorded"))
        );
        // Options not in the poll: 422, nothing stored.
        let (s, b) = call(&app, reqwest::Method::POST, &path, &op, ballot(json!([3]))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(
            b["message"].as_str().unwrap_or("").contains("option 4"),
            "{b}"
        );
        let (s, _) = call(
            &app,
            reqwest::Method::POST,
            &path,
            &op,
            Some(json!({ "answer": "Mimecast" })),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        // A named vote may be changed while open.
        let (s, b) = call(&app, reqwest::Method::POST, &path, &max, ballot(json!([1]))).await;
        assert_eq!(
            (s, b["outcome"].as_str()),
            (StatusCode::OK, Some("changed"))
        );

        let (s, got) = call(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/polls/{id}"),
            &op,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(got["counts"], json!([0, 1, 0]));
        assert_eq!(got["responses"], 1);

        // Only the asker or an operator closes it.
        let close = format!("/api/v1/polls/{id}/close");
        let (s, _) = call(&app, reqwest::Method::POST, &close, &max, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, b) = call(&app, reqwest::Method::POST, &close, &kim, None).await;
        assert_eq!((s, &b["open"]), (StatusCode::OK, &json!(false)));
        let (s, _) = call(&app, reqwest::Method::POST, &close, &op, None).await;
        assert_eq!(s, StatusCode::CONFLICT, "already closed");

        // Votes after closing: a clear 409, nothing stored.
        let (s, b) = call(&app, reqwest::Method::POST, &path, &op, ballot(json!([0]))).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(
            b["message"].as_str().unwrap_or("").contains("closed"),
            "{b}"
        );
        let (_, got) = call(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/polls/{id}"),
            &op,
            None,
        )
        .await;
        assert_eq!(
            (got["counts"].clone(), got["responses"].clone()),
            (json!([0, 1, 0]), json!(1))
        );

        let (s, list) = call(
            &app,
            reqwest::Method::GET,
            "/api/v1/polls?state=closed",
            &max,
            None,
        )
        .await;
        assert_eq!(
            (s, list.as_array().map(Vec::len)),
            (StatusCode::OK, Some(1))
        );
        let (_, list) = call(
            &app,
            reqwest::Method::GET,
            "/api/v1/polls?state=open",
            &max,
            None,
        )
        .await;
        assert_eq!(list.as_array().map(Vec::len), Some(0));
        let (s, _) = call(
            &app,
            reqwest::Method::GET,
            "/api/v1/polls?state=later",
            &max,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);

        // Bad input names the field.
        let (s, b) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/polls",
            &max,
            Some(json!({ "kind": "single", "question": "Yes or no?", "options": ["Yes"] })),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(b["fields"][0]["field"], "options", "{b}");

        // Signed out: 401.
        let resp = app
            .client()
            .http
            .get(app.url("/api/v1/polls"))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn anonymous_votes_are_stored_without_the_voter_and_taken_once() {
    for app in apps().await {
        let p = people(&app).await;
        let op = app.token(&p.operator).await;
        let (s, body) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/polls",
            &op,
            Some(json!({
                "kind": "single",
                "question": "Have you tested your backups this quarter?",
                "options": ["Yes", "No"],
                "anonymous": true,
            })),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let id = body["id"].as_i64().expect("id");

        // Through the page, with its CSRF token.
        let max = signed_in(&app, &p.medway).await;
        let page = max
            .submit(
                &format!("/polls/{id}"),
                &format!("/polls/{id}/ballot"),
                &[("choice", "1")],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = max.get(&format!("/polls/{id}")).await;
        assert!(page.contains("You have answered"), "{}", page.body);
        assert!(!page.contains("Send my answer"), "no second form");

        // A second vote: a clear error, nothing stored.
        let csrf = page.csrf();
        let again = max
            .post(
                &format!("/polls/{id}/ballot"),
                &[("choice", "0"), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(again.contains("already answered"), "{}", again.body);
        let lee = app.token(&p.lead).await;
        let (_, got) = call(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/polls/{id}"),
            &lee,
            None,
        )
        .await;
        assert_eq!(got["counts"], json!([0, 1]));
        assert_eq!(got["responses"], 1);
        assert!(got.get("your_ballot").is_none());

        // The stored ballot: no user, nothing that names the voter.
        let rows = anonymous_rows(&app).await;
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.len(), 4);
        assert_ne!(row[0].as_deref(), Some(p.medway.id.0.to_string().as_str()));
        assert_eq!(row[1].as_deref(), Some(id.to_string().as_str()));
        assert_eq!(row[2].as_deref(), Some("[1]"));
        assert_eq!(row[3], None);
        for v in row.iter().flatten() {
            assert!(!v.contains("max"), "{v}");
        }
    }
}

#[tokio::test]
async fn pages_ask_answer_and_check_forms() {
    for app in apps().await {
        let p = people(&app).await;
        let kim = signed_in(&app, &p.kent).await;
        let list = kim.get("/polls").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.contains("Ask the group") && list.contains("Run a poll"));

        // Validation errors name the field and keep what was typed.
        let bad = kim
            .submit(
                "/polls",
                "/polls",
                &[
                    ("kind", "single"),
                    ("question", "Which SIEM?"),
                    ("options", "Sentinel"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.contains("Options: a poll needs at least 2 options"),
            "{}",
            bad.body
        );
        assert!(bad.contains("Which SIEM?"));

        let asked = kim
            .submit(
                "/polls",
                "/polls",
                &[
                    ("kind", "question"),
                    ("question", "Who uses <b>Sentinel</b> for the PSN?"),
                ],
            )
            .await;
        assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
        let path = asked.location.expect("redirect");
        let id = path
            .trim_start_matches("/polls/")
            .split('?')
            .next()
            .expect("id")
            .to_string();

        let max = signed_in(&app, &p.medway).await;
        let shown = max.get(&format!("/polls/{id}")).await;
        assert!(
            shown.contains("Sentinel") && !shown.contains("<b>Sentinel"),
            "escaped"
        );
        let answered = max
            .submit(
                &format!("/polls/{id}"),
                &format!("/polls/{id}/ballot"),
                &[("answer", "We do, since 2024")],
            )
            .await;
        assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
        let shown = kim.get(&format!("/polls/{id}")).await;
        assert!(shown.contains("We do, since 2024"));
        assert!(
            shown.contains("User max (Medway Council)"),
            "named answers are named"
        );

        // Without the CSRF token: refused, nothing stored.
        let forged = max
            .post(&format!("/polls/{id}/ballot"), &[("answer", "forged")])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let forged = max
            .post("/polls", &[("kind", "question"), ("question", "forged?")])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(!kim.get("/polls").await.contains("forged"));

        // Only the asker (or an operator) closes it.
        let refused = max
            .submit(&format!("/polls/{id}"), &format!("/polls/{id}/close"), &[])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let closed = kim
            .submit(&format!("/polls/{id}"), &format!("/polls/{id}/close"), &[])
            .await;
        assert_eq!(closed.status, StatusCode::SEE_OTHER);
        let late = max
            .submit(
                "/polls",
                &format!("/polls/{id}/ballot"),
                &[("answer", "too late")],
            )
            .await;
        assert_eq!(late.status, StatusCode::CONFLICT);
        assert!(late.contains("closed"));
        assert!(!kim.get(&format!("/polls/{id}")).await.contains("too late"));

        // The opt-in.
        let on = max
            .submit("/polls", "/polls/notify", &[("notify", "on")])
            .await;
        assert_eq!(on.status, StatusCode::SEE_OTHER);
        assert!(app.store.poll_notify(p.medway.id).await.expect("read"));

        // Signed out: to the sign-in page.
        let anon = app.client().get("/polls").await;
        assert_eq!(anon.status, StatusCode::SEE_OTHER);
        assert!(anon.location.unwrap_or_default().starts_with("/login"));
    }
}

#[tokio::test]
async fn a_poll_past_its_closing_time_takes_no_votes() {
    for app in apps().await {
        let p = people(&app).await;
        let draft = PollDraft {
            kind: PollKind::Single,
            question: "Closed already?".into(),
            details: String::new(),
            options: vec!["Yes".into(), "No".into()],
            closes_at: Some(now() - Duration::minutes(1)),
            anonymous: false,
        };
        let (poll, _) = app
            .store
            .create_poll(&draft, p.kent.id, now() - Duration::days(1))
            .await
            .expect("create");
        let max = signed_in(&app, &p.medway).await;
        let page = max.get(&format!("/polls/{}", poll.id)).await;
        assert!(page.contains("It is closed"), "{}", page.body);
        let late = max
            .submit(
                "/polls",
                &format!("/polls/{}/ballot", poll.id),
                &[("choice", "0")],
            )
            .await;
        assert_eq!(late.status, StatusCode::CONFLICT);
        let r = app
            .store
            .poll_results(poll.id, p.medway.id)
            .await
            .expect("results");
        assert_eq!(r.poll.responses, 0);
    }
}

#[tokio::test]
async fn every_role_takes_part_and_concurrent_anonymous_votes_count_once() {
    for app in apps().await {
        let p = people(&app).await;
        let mut ids = Vec::new();
        for u in [&p.kent, &p.lead, &p.operator] {
            let token = app.token(u).await;
            let (s, body) = call(
                &app,
                reqwest::Method::POST,
                "/api/v1/polls",
                &token,
                Some(json!({
                    "kind": "single",
                    "question": format!("Asked by {}?", u.email),
                    "options": ["Yes", "No"],
                    "anonymous": true,
                })),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{} {body}", u.email);
            ids.push(body["id"].as_i64().expect("id"));
        }
        // Every role answers every one; two requests at once from one person
        // store one ballot.
        for u in [&p.kent, &p.medway, &p.lead, &p.operator] {
            let token = app.token(u).await;
            for id in &ids {
                let path = format!("/api/v1/polls/{id}/ballot");
                let body = || Some(json!({ "choices": [0] }));
                let (a, b) = tokio::join!(
                    call(&app, reqwest::Method::POST, &path, &token, body()),
                    call(&app, reqwest::Method::POST, &path, &token, body()),
                );
                let mut statuses = [a.0, b.0];
                statuses.sort();
                assert_eq!(
                    statuses,
                    [StatusCode::OK, StatusCode::CONFLICT],
                    "{} on {}: {} {}",
                    u.email,
                    app.backend(),
                    a.1,
                    b.1
                );
            }
        }
        let token = app.token(&p.medway).await;
        for id in &ids {
            let (_, got) = call(
                &app,
                reqwest::Method::GET,
                &format!("/api/v1/polls/{id}"),
                &token,
                None,
            )
            .await;
            assert_eq!(got["counts"], json!([4, 0]), "{got}");
            assert_eq!(got["responses"], 4);
        }
        assert_eq!(anonymous_rows(&app).await.len(), 12);
    }
}

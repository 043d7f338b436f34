//! Meetings over real HTTP: only operators schedule; RSVPs beyond capacity
//! or after the start are refused with a reason and store nothing; minutes
//! need a session while the outline is public; forms need the CSRF token;
//! the .ics export and the signed feed parse back with a maintained
//! iCalendar parser.

use crate::support::call;
use crate::support::{Client, apps};
use chrono::{Duration, Utc};
use icalendar::{Calendar, CalendarComponent, Component, EventLike};
use openwarp_core::Role;
use openwarp_core::meeting::{MeetingInput, RsvpAnswer};
use openwarp_store::now;
use reqwest::StatusCode;
use serde_json::json;

fn local(t: chrono::DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

/// Schedule a meeting through the operator's form; its id.
async fn schedule(op: &Client, capacity: &str) -> i64 {
    let start = now() + Duration::days(20);
    let (s, e) = (local(start), local(start + Duration::hours(5)));
    let page = op
        .submit(
            "/meetings/new",
            "/meetings",
            &[
                ("title", "SEGWARP November meeting"),
                ("starts_at", &s),
                ("ends_at", &e),
                ("venue", "Local Government House, London"),
                ("online_url", "https://meet.example.gov.uk/segwarp"),
                ("capacity", capacity),
                ("description", "Members only."),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location.expect("redirect");
    location
        .strip_prefix("/meetings/")
        .and_then(|l| l.split('?').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("unexpected redirect {location}"))
}

fn events(ics: &str) -> Vec<icalendar::Event> {
    let cal: Calendar = ics
        .parse()
        .unwrap_or_else(|e| panic!("not iCalendar: {e}\n{ics}"));
    cal.components
        .into_iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn operators_schedule_members_answer_within_capacity() {
    for app in apps().await {
        let org = app.org("Kent County Council", "county", true).await;
        app.user("op@warp.example", Role::Operator, None).await;
        app.user("lead@kent.gov.uk", Role::MemberLead, Some(org.id))
            .await;
        let u1 = app
            .user("u1@kent.gov.uk", Role::MemberUser, Some(org.id))
            .await;
        app.user("u2@kent.gov.uk", Role::MemberUser, Some(org.id))
            .await;
        let op = app.client().signed_in("op@warp.example").await;
        let lead = app.client().signed_in("lead@kent.gov.uk").await;
        let one = app.client().signed_in("u1@kent.gov.uk").await;
        let two = app.client().signed_in("u2@kent.gov.uk").await;

        // A member cannot schedule, by page or form.
        assert_eq!(one.get("/meetings/new").await.status, StatusCode::FORBIDDEN);
        let refused = one
            .submit("/meetings", "/meetings", &[("title", "Mine")])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", app.backend());

        // Bad input names the field and stores nothing.
        let bad = op
            .submit(
                "/meetings/new",
                "/meetings",
                &[
                    ("title", "X"),
                    ("starts_at", "soon"),
                    ("ends_at", ""),
                    ("capacity", "0"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.contains("Places") && bad.contains("give a venue"),
            "{}",
            bad.body
        );
        assert!(
            app.store
                .list_meetings(false, now(), 10)
                .await
                .unwrap()
                .is_empty()
        );

        let id = schedule(&op, "2").await;
        let agenda = op
            .submit(
                &format!("/meetings/{id}"),
                &format!("/meetings/{id}/agenda"),
                &[
                    ("title", "Threat briefing"),
                    ("speaker", "A. Analyst"),
                    ("organisation", "NCSC"),
                    ("presenter", "government"),
                ],
            )
            .await;
        assert_eq!(agenda.status, StatusCode::SEE_OTHER, "{}", agenda.body);

        // Two places: the first two yes answers are taken, the third is refused.
        let page = format!("/meetings/{id}");
        let action = format!("/meetings/{id}/rsvp");
        let ok = one.submit(&page, &action, &[("answer", "yes")]).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let ok = two.submit(&page, &action, &[("answer", "yes")]).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        let full = lead.submit(&page, &action, &[("answer", "yes")]).await;
        assert_eq!(full.status, StatusCode::CONFLICT, "{}", app.backend());
        assert!(
            full.contains("the meeting is full: all 2 places are taken"),
            "{}",
            full.body
        );
        let lead_user = app
            .store
            .find_user_by_email("lead@kent.gov.uk")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            app.store.rsvp_of(id, lead_user.user.id).await.unwrap(),
            None
        );
        // The lead may answer for their own users.
        let for_user = lead
            .submit(
                &page,
                &action,
                &[("answer", "no"), ("user", &u1.id.0.to_string())],
            )
            .await;
        assert_eq!(for_user.status, StatusCode::SEE_OTHER, "{}", for_user.body);
        assert_eq!(
            app.store.rsvp_of(id, u1.id).await.unwrap(),
            Some(RsvpAnswer::No)
        );
        let shown = one.get(&page).await;
        assert!(shown.contains("Threat briefing") && shown.contains("Guest from government"));
        assert!(
            shown.contains("2 of 2 places") || shown.contains("1 of 2 places"),
            "{}",
            shown.body
        );

        // The API says the same: 409 with the reason, nothing stored.
        let token = app.token(&lead_user.user).await;
        let (status, body) = call(
            &app,
            reqwest::Method::PUT,
            &format!("/api/v1/meetings/{id}/rsvp"),
            &token,
            Some(json!({"answer": "yes"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "a place came free: {body}");
        let (status, body) = call(
            &app,
            reqwest::Method::PUT,
            &format!("/api/v1/meetings/{id}/rsvp"),
            &app.token(&u1).await,
            Some(json!({"answer": "yes"})),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["message"].as_str().unwrap_or("").contains("full"),
            "{body}"
        );
        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/meetings",
            &token,
            Some(json!({"title": "x", "starts_at": "2027-01-01T10:00Z", "ends_at": "2027-01-01T12:00Z", "venue": "London"})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn answers_close_at_the_start_and_minutes_stay_private() {
    for app in apps().await {
        let org = app.org("Kent County Council", "county", true).await;
        let op_user = app.user("op@warp.example", Role::Operator, None).await;
        let member = app
            .user("u1@kent.gov.uk", Role::MemberUser, Some(org.id))
            .await;
        let op = app.client().signed_in("op@warp.example").await;
        // A meeting that started six hours ago and ended an hour ago.
        let start = now() - Duration::hours(6);
        let draft = MeetingInput {
            title: "SEGWARP July meeting".into(),
            starts_at: start.to_rfc3339(),
            ends_at: (start + Duration::hours(5)).to_rfc3339(),
            venue: "London".into(),
            ..MeetingInput::default()
        }
        .validate()
        .unwrap();
        let m = app
            .store
            .create_meeting(&draft, op_user.id, now())
            .await
            .unwrap();
        let token = app.token(&member).await;
        let (status, body) = call(
            &app,
            reqwest::Method::PUT,
            &format!("/api/v1/meetings/{}/rsvp", m.id),
            &token,
            Some(json!({"answer": "yes"})),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["message"].as_str().unwrap_or("").contains("started"),
            "{body}"
        );
        assert_eq!(app.store.rsvp_of(m.id, member.id).await.unwrap(), None);

        let page = format!("/meetings/{}", m.id);
        let saved = op
            .submit(
                &page,
                &format!("/meetings/{}/minutes", m.id),
                &[
                    ("text", "Secret: member X had a ransomware scare."),
                    ("tlp", "amber"),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let red = op
            .submit(
                &page,
                &format!("/meetings/{}/minutes", m.id),
                &[("text", "x"), ("tlp", "red")],
            )
            .await;
        assert_eq!(red.status, StatusCode::UNPROCESSABLE_ENTITY);
        let outline = op
            .submit(
                &page,
                &format!("/meetings/{}/outline", m.id),
                &[(
                    "topics",
                    "PSN compliance\nCloud security\nIncident lessons from a member",
                )],
            )
            .await;
        assert_eq!(outline.status, StatusCode::SEE_OTHER, "{}", outline.body);

        // Signed out: the outline is there, the minutes are not.
        let anon = app.client();
        // A meeting without an outline shows nothing publicly, not even when and where.
        let upcoming = app
            .store
            .create_meeting(
                &MeetingInput {
                    title: "Next meeting".into(),
                    starts_at: (now() + Duration::days(9)).to_rfc3339(),
                    ends_at: (now() + Duration::days(9) + Duration::hours(2)).to_rfc3339(),
                    venue: "Somewhere private".into(),
                    ..MeetingInput::default()
                }
                .validate()
                .unwrap(),
                op_user.id,
                now(),
            )
            .await
            .unwrap();
        let hidden = anon
            .get(&format!("/meetings/{}/outline", upcoming.id))
            .await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND);
        assert!(!hidden.contains("Somewhere private"));
        let public = anon.get(&format!("/meetings/{}/outline", m.id)).await;
        assert_eq!(public.status, StatusCode::OK, "{}", public.body);
        assert!(public.contains("Cloud security") && !public.contains("ransomware"));
        let archive = anon.get("/meetings/outlines").await;
        assert_eq!(archive.status, StatusCode::OK);
        assert!(archive.contains("SEGWARP July meeting") && !archive.contains("ransomware"));
        let private = anon.get(&page).await;
        assert_eq!(private.status, StatusCode::SEE_OTHER, "sent to sign in");
        let (status, _) = call(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/meetings/{}", m.id),
            "nope",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // Members read the minutes under their TLP label.
        let reader = app.client().signed_in("u1@kent.gov.uk").await;
        let shown = reader.get(&page).await;
        assert!(
            shown.contains("ransomware") && shown.contains("TLP:AMBER"),
            "{}",
            shown.body
        );
        let (status, body) = call(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/meetings/{}", m.id),
            &token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["minutes"]["tlp_label"], "TLP:AMBER");
        assert_eq!(body["topics"][0], "PSN compliance");

        // Members cannot write minutes; and forms without the CSRF token are refused.
        let forged = reader
            .post(&format!("/meetings/{}/rsvp", m.id), &[("answer", "no")])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
        let forged = op
            .post(
                &format!("/meetings/{}/minutes", m.id),
                &[("text", "overwritten")],
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(
            app.store
                .meeting_minutes(m.id)
                .await
                .unwrap()
                .unwrap()
                .text
                .contains("ransomware")
        );
        let by_member = reader
            .submit(
                &page,
                &format!("/meetings/{}/minutes", m.id),
                &[("text", "mine")],
            )
            .await;
        assert_eq!(by_member.status, StatusCode::FORBIDDEN);

        // Attendance (operators).
        let att = op
            .submit(
                &page,
                &format!("/meetings/{}/attendance", m.id),
                &[(&format!("attended_{}", member.id.0), "1")],
            )
            .await;
        assert_eq!(att.status, StatusCode::SEE_OTHER, "{}", att.body);
        assert_eq!(app.store.meeting_attendance(m.id).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn ics_per_meeting_and_the_signed_feed_parse() {
    for app in apps().await {
        let org = app.org("Kent County Council", "county", true).await;
        app.user("op@warp.example", Role::Operator, None).await;
        let member = app
            .user("u1@kent.gov.uk", Role::MemberUser, Some(org.id))
            .await;
        let op = app.client().signed_in("op@warp.example").await;
        let id = schedule(&op, "30").await;
        op.submit(
            &format!("/meetings/{id}"),
            &format!("/meetings/{id}/agenda"),
            &[("title", "Cyber Essentials, step by step")],
        )
        .await;
        let m = app.store.meeting(id).await.unwrap();
        let reader = app.client().signed_in("u1@kent.gov.uk").await;
        let ics = reader.get(&format!("/meetings/{id}.ics")).await;
        assert_eq!(ics.status, StatusCode::OK, "{}", ics.body);
        assert!(
            ics.headers[reqwest::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/calendar")
        );
        let evs = events(&ics.body);
        assert_eq!(evs.len(), 1);
        let e = &evs[0];
        let host = app
            .base
            .trim_start_matches("http://")
            .split(':')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(e.get_uid(), Some(format!("meeting-{id}@{host}").as_str()));
        assert_eq!(e.get_summary(), Some("SEGWARP November meeting"));
        assert!(e.get_location().unwrap().contains("Local Government House"));
        assert_eq!(
            e.get_url(),
            Some(format!("{}/meetings/{id}", app.base).as_str())
        );
        assert!(
            e.get_description()
                .unwrap()
                .contains("Cyber Essentials, step by step")
        );
        match e.get_start() {
            Some(icalendar::DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(t))) => {
                assert_eq!(t, m.starts_at)
            }
            other => panic!("DTSTART not UTC: {other:?}"),
        }
        match e.get_end() {
            Some(icalendar::DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(t))) => {
                assert_eq!(t, m.ends_at)
            }
            other => panic!("DTEND not UTC: {other:?}"),
        }
        // The same UID again: a calendar updates the event rather than adding one.
        let again = events(&reader.get(&format!("/meetings/{id}.ics")).await.body);
        assert_eq!(again[0].get_uid(), e.get_uid());

        // Signed out: no .ics, and the feed needs a good signature.
        let anon = app.client();
        assert_ne!(
            anon.get(&format!("/meetings/{id}.ics")).await.status,
            StatusCode::OK
        );
        assert_eq!(
            anon.get("/meetings.ics").await.status,
            StatusCode::UNAUTHORIZED
        );
        let list = reader.get("/meetings").await;
        let feed = crate::support::text_until(&list.body, "<code class=\"feed-link\">", '<')
            .expect("feed link");
        let feed = feed.replace("&amp;", "&").replace("&#38;", "&");
        let path = feed.strip_prefix(&app.base).expect("link to this site");
        let got = anon.get(path).await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.body);
        assert_eq!(events(&got.body).len(), 1);
        let forged = path.replace(&format!("u={}", member.id.0), "u=1");
        assert_eq!(anon.get(&forged).await.status, StatusCode::UNAUTHORIZED);

        let token = app.token(&member).await;
        let resp = app
            .client()
            .http
            .get(app.url(&format!("/api/v1/meetings/{id}/ics")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(events(&resp.text().await.unwrap()).len(), 1);
    }
}

#[tokio::test]
async fn the_api_checks_roles_and_tenants_and_is_documented() {
    for app in apps().await {
        let kent = app.org("Kent County Council", "county", true).await;
        let medway = app.org("Medway Council", "unitary", true).await;
        let op = app.user("op@warp.example", Role::Operator, None).await;
        let lead = app
            .user("lead@kent.gov.uk", Role::MemberLead, Some(kent.id))
            .await;
        let user = app
            .user("u@kent.gov.uk", Role::MemberUser, Some(kent.id))
            .await;
        let other = app
            .user("o@medway.gov.uk", Role::MemberUser, Some(medway.id))
            .await;
        let (op_t, lead_t, user_t) = (
            app.token(&op).await,
            app.token(&lead).await,
            app.token(&user).await,
        );
        let put = reqwest::Method::PUT;
        let post = reqwest::Method::POST;

        let start = now() + Duration::days(40);
        let body = json!({
            "title": "SEGWARP March meeting",
            "starts_at": start.to_rfc3339(),
            "ends_at": (start + Duration::hours(5)).to_rfc3339(),
            "venue": "London",
            "capacity": 30
        });
        let (status, created) = call(
            &app,
            post.clone(),
            "/api/v1/meetings",
            &op_t,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_i64().unwrap();
        let (status, bad) = call(
            &app,
            post.clone(),
            "/api/v1/meetings",
            &op_t,
            Some(json!({"title": "", "starts_at": "x", "ends_at": "y", "online_url": "http://x"})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let (status, _) = call(
            &app,
            put.clone(),
            &format!("/api/v1/meetings/{id}"),
            &user_t,
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, item) = call(
            &app,
            post.clone(),
            &format!("/api/v1/meetings/{id}/agenda"),
            &op_t,
            Some(json!({"title": "Cloud security", "organisation": "A cloud provider", "presenter": "industry"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{item}");
        let (status, _) = call(
            &app,
            post.clone(),
            &format!("/api/v1/meetings/{id}/agenda"),
            &lead_t,
            Some(json!({"title": "Mine"})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, red) = call(
            &app,
            put.clone(),
            &format!("/api/v1/meetings/{id}/minutes"),
            &op_t,
            Some(json!({"text": "x", "tlp": "red"})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{red}");
        let (status, outlined) = call(
            &app,
            put.clone(),
            &format!("/api/v1/meetings/{id}/outline"),
            &op_t,
            Some(json!({"topics": ["PSN compliance", "Cyber Essentials"]})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            outlined["topics"],
            json!(["PSN compliance", "Cyber Essentials"])
        );

        // A lead answers for their own user; not for another member's, and a user not for a colleague.
        let rsvp = format!("/api/v1/meetings/{id}/rsvp");
        let (status, _) = call(
            &app,
            put.clone(),
            &rsvp,
            &lead_t,
            Some(json!({"answer": "yes", "user_id": user.id.0})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = call(
            &app,
            put.clone(),
            &rsvp,
            &lead_t,
            Some(json!({"answer": "yes", "user_id": other.id.0})),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "another member's user is not visible"
        );
        let (status, _) = call(
            &app,
            put.clone(),
            &rsvp,
            &user_t,
            Some(json!({"answer": "yes", "user_id": lead.id.0})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = call(
            &app,
            put.clone(),
            &rsvp,
            &op_t,
            Some(json!({"answer": "yes"})),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "operators record attendance instead"
        );
        let (status, _) = call(
            &app,
            put.clone(),
            &rsvp,
            &user_t,
            Some(json!({"answer": "perhaps"})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        // Members see their own organisation's answers; operators all.
        let other_t = app.token(&other).await;
        let (_, seen) = call(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/meetings/{id}/rsvps"),
            &other_t,
            None,
        )
        .await;
        assert_eq!(seen, json!([]));
        let (_, seen) = call(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/meetings/{id}/rsvps"),
            &op_t,
            None,
        )
        .await;
        assert_eq!(seen.as_array().map(Vec::len), Some(1));
        let (status, att) = call(
            &app,
            put.clone(),
            &format!("/api/v1/meetings/{id}/attendance"),
            &op_t,
            Some(json!({"user_ids": [user.id.0, other.id.0]})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{att}");
        let (status, _) = call(
            &app,
            put.clone(),
            &format!("/api/v1/meetings/{id}/attendance"),
            &lead_t,
            Some(json!({"user_ids": []})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, list) = call(
            &app,
            reqwest::Method::GET,
            "/api/v1/meetings",
            &other_t,
            None,
        )
        .await;
        assert_eq!(list[0]["going"], 1);

        let (_, doc) = call(
            &app,
            reqwest::Method::GET,
            "/api/v1/openapi.json",
            &user_t,
            None,
        )
        .await;
        for path in [
            "/api/v1/meetings",
            "/api/v1/meetings/{id}/rsvp",
            "/api/v1/meetings/{id}/ics",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} is documented");
        }
    }
}

//! Discussion over real HTTP: Markdown with scripts, event handlers and
//! `javascript:` links stored but rendered harmless; oversized posts 422
//! with nothing stored; locked threads refuse replies; members cannot
//! moderate; hidden posts' text is not shown; mentions and replies e-mail
//! the right users only; signed-out visitors are turned away.

use crate::support::{ANON, call};
use crate::support::{Client, TestApp, apps};
use openwarp_core::Role;
use openwarp_core::discussion::{MAX_BODY, validate_thread, validate_topic};
use openwarp_store::{DeliveryFilter, User, now};
use reqwest::StatusCode;

struct People {
    kim: User,
    max: User,
    operator: User,
}

async fn people(app: &TestApp) -> People {
    let kent = app.org("Kent County Council", "county", true).await;
    let medway = app.org("Medway Council", "unitary", true).await;
    People {
        kim: app
            .user("kim.lee@kent.gov.uk", Role::MemberUser, Some(kent.id))
            .await,
        max: app
            .user("max@medway.gov.uk", Role::MemberUser, Some(medway.id))
            .await,
        operator: app.user("op@warp.example", Role::Operator, None).await,
    }
}

async fn signed_in(app: &TestApp, u: &User) -> Client {
    app.client().signed_in(&u.email).await
}

/// A PSN topic with one thread started by `by`; returns the thread's id.
async fn thread(app: &TestApp, p: &People, by: &User) -> i64 {
    let topic = app
        .store
        .create_topic(
            &validate_topic("PSN", "Public Services Network").expect("valid"),
            p.operator.id,
            now(),
        )
        .await
        .expect("topic");
    app.store
        .create_thread(
            topic.id,
            &validate_thread("PSN renewal", "Has anyone renewed this year?").expect("valid"),
            by.id,
            now(),
        )
        .await
        .expect("thread")
        .0
}

async fn post_count(app: &TestApp, id: i64) -> usize {
    app.store.thread(id).await.expect("thread").posts.len()
}

#[tokio::test]
async fn markdown_is_stored_but_rendered_harmless() {
    for app in apps().await {
        let p = people(&app).await;
        let id = thread(&app, &p, &p.kim).await;
        let max = signed_in(&app, &p.max).await;
        let page_path = format!("/discussion/threads/{id}");
        let reply_path = format!("/discussion/threads/{id}/reply");
        let evil = "**hi** <script>alert('x')</script> <img src=x onerror=alert(1)> \
                    [x](javascript:alert(1))";
        let sent = max.submit(&page_path, &reply_path, &[("body", evil)]).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", app.backend());
        let t = app.store.thread(id).await.expect("thread");
        assert_eq!(t.posts[1].body.as_deref(), Some(evil), "source kept");
        let page = max.get(&page_path).await;
        assert!(page.contains("<strong>hi</strong>"), "{}", page.body);
        assert!(!page.contains("<script>alert"), "{}", page.body);
        assert!(!page.contains("<img"), "{}", page.body);
        assert!(page.contains("&lt;img"), "shown as text: {}", page.body);
        assert!(!page.contains("href=\"javascript:"), "{}", page.body);
    }
}

#[tokio::test]
async fn oversized_posts_and_locked_threads_store_nothing() {
    for app in apps().await {
        let p = people(&app).await;
        let id = thread(&app, &p, &p.kim).await;
        let max = signed_in(&app, &p.max).await;
        let page_path = format!("/discussion/threads/{id}");
        let reply_path = format!("/discussion/threads/{id}/reply");
        let big = "a".repeat(MAX_BODY + 1);
        let refused = max.submit(&page_path, &reply_path, &[("body", &big)]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.contains("too long"), "{}", refused.body);
        assert_eq!(post_count(&app, id).await, 1);

        // A too-long new thread: 422 naming the field.
        let long_title = "t".repeat(201);
        let refused = max
            .submit(
                "/discussion/psn",
                "/discussion/psn",
                &[("title", &long_title), ("body", "ok")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.contains("Title"), "{}", refused.body);
        let topic = app.store.topic("psn").await.expect("topic");
        assert_eq!(topic.threads, 1);

        // Lock: members cannot; operators can; replies are then refused.
        let forbidden = max
            .submit(&page_path, &format!("/discussion/threads/{id}/lock"), &[])
            .await;
        assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
        let op = signed_in(&app, &p.operator).await;
        let locked = op
            .submit(&page_path, &format!("/discussion/threads/{id}/lock"), &[])
            .await;
        assert_eq!(locked.status, StatusCode::SEE_OTHER);
        let page = max.get(&page_path).await;
        assert!(page.contains("This thread is locked"));
        assert!(!page.contains("Post reply"));
        let late = max
            .submit(&page_path, &reply_path, &[("body", "too late")])
            .await;
        assert_eq!(late.status, StatusCode::CONFLICT);
        assert!(late.contains("locked"), "{}", late.body);
        assert_eq!(post_count(&app, id).await, 1);
        let audit = app
            .db
            .text_rows("SELECT action FROM audit_log WHERE action LIKE 'discussion.%'")
            .await;
        assert_eq!(audit, vec![vec![Some("discussion.lock".to_string())]]);
    }
}

#[tokio::test]
async fn operators_hide_posts_members_cannot() {
    for app in apps().await {
        let p = people(&app).await;
        let id = thread(&app, &p, &p.kim).await;
        let max = signed_in(&app, &p.max).await;
        let page_path = format!("/discussion/threads/{id}");
        max.submit(
            &page_path,
            &format!("/discussion/threads/{id}/reply"),
            &[("body", "Buy cheap watches here")],
        )
        .await;
        let post = app.store.thread(id).await.expect("thread").posts[1].id;
        let hide = format!("/discussion/posts/{post}/hide");
        let forbidden = max.submit(&page_path, &hide, &[("reason", "mine")]).await;
        assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
        let op = signed_in(&app, &p.operator).await;
        let no_reason = op.submit(&page_path, &hide, &[("reason", "")]).await;
        assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
        let hidden = op.submit(&page_path, &hide, &[("reason", "Spam")]).await;
        assert_eq!(hidden.status, StatusCode::SEE_OTHER);
        let page = max.get(&page_path).await;
        assert!(!page.contains("cheap watches"), "{}", page.body);
        assert!(page.contains("Removed by a moderator: Spam"));
        let audit = app
            .db
            .text_rows("SELECT action FROM audit_log WHERE action LIKE 'discussion.%'")
            .await;
        assert_eq!(audit, vec![vec![Some("discussion.hide".to_string())]]);
        // Without CSRF: refused.
        let forged = op.post(&hide, &[("reason", "x")]).await;
        assert_ne!(forged.status, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn mentions_and_replies_email_the_right_users() {
    for app in apps().await {
        let p = people(&app).await;
        let kent = p.kim.org_id;
        let other = app.user("sam@kent.gov.uk", Role::MemberUser, kent).await;
        let id = thread(&app, &p, &p.kim).await;
        let max = signed_in(&app, &p.max).await;
        let page_path = format!("/discussion/threads/{id}");
        let sent = max
            .submit(
                &page_path,
                &format!("/discussion/threads/{id}/reply"),
                &[("body", "Ask @sam about it")],
            )
            .await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER);
        let mut to: Vec<String> = app
            .store
            .deliveries(&DeliveryFilter::default())
            .await
            .expect("deliveries")
            .into_iter()
            .map(|d| d.recipient)
            .collect();
        to.sort();
        assert_eq!(
            to,
            vec![p.kim.email.clone(), other.email.clone()],
            "sam (mentioned) and kim (posted in the thread); not max, who wrote it"
        );
    }
}

#[tokio::test]
async fn discussion_is_members_only() {
    for app in apps().await {
        let p = people(&app).await;
        let id = thread(&app, &p, &p.kim).await;
        for path in [
            "/discussion".to_string(),
            "/discussion/psn".to_string(),
            format!("/discussion/threads/{id}"),
        ] {
            let anon = app.client().get(&path).await;
            assert_eq!(anon.status, StatusCode::SEE_OTHER, "{path}");
            assert!(anon.location.unwrap_or_default().starts_with("/login"));
        }
        let max = signed_in(&app, &p.max).await;
        let topics = max.get("/discussion").await;
        assert_eq!(topics.status, StatusCode::OK);
        assert!(topics.contains("PSN"));
        assert!(!topics.contains("Create topic"), "members make no topics");
        let listed = max.get("/discussion/psn").await;
        assert!(listed.contains("PSN renewal"));
        // A member cannot create a topic.
        let refused = max
            .submit("/discussion", "/discussion", &[("name", "Cloud")])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        // Settings.
        let saved = max
            .submit("/discussion", "/discussion/settings", &[("replies", "on")])
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        let s = app
            .store
            .discussion_settings(p.max.id)
            .await
            .expect("settings");
        assert!(s.replies && !s.mentions);
    }
}

#[tokio::test]
async fn the_api_reads_replies_and_moderates() {
    use reqwest::Method;
    use serde_json::json;
    for app in apps().await {
        let p = people(&app).await;
        let kim = app.token(&p.kim).await;
        let max = app.token(&p.max).await;
        let op = app.token(&p.operator).await;

        let (s, _) = call(&app, Method::GET, "/api/v1/discussion/topics", ANON, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "members only");
        let (s, _) = call(
            &app,
            Method::POST,
            "/api/v1/discussion/topics",
            Some(&kim),
            Some(json!({ "name": "GDPR" })),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, b) = call(
            &app,
            Method::POST,
            "/api/v1/discussion/topics",
            Some(&op),
            Some(json!({ "name": "GDPR", "description": "Data protection" })),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(b["slug"], "gdpr");

        let (s, b) = call(
            &app,
            Method::POST,
            "/api/v1/discussion/topics/gdpr",
            Some(&kim),
            Some(json!({ "title": "DPIAs", "body": "[x](javascript:alert(1)) and **bold**" })),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let id = b["thread"]["id"].as_i64().expect("id");
        let html = b["posts"][0]["html"].as_str().unwrap_or_default();
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("<strong>bold</strong>"), "{html}");

        let replies = format!("/api/v1/discussion/threads/{id}/replies");
        let big = "a".repeat(MAX_BODY + 1);
        let (s, b) = call(
            &app,
            Method::POST,
            &replies,
            Some(&max),
            Some(json!({ "body": big })),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let (s, b) = call(
            &app,
            Method::POST,
            &replies,
            Some(&max),
            Some(json!({ "body": "Agreed, @kim.lee" })),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let post = b["id"].as_i64().expect("post id");

        let hide = format!("/api/v1/discussion/posts/{post}/hide");
        let (s, _) = call(
            &app,
            Method::POST,
            &hide,
            Some(&kim),
            Some(json!({ "hidden": true, "reason": "no" })),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, b) = call(
            &app,
            Method::POST,
            &hide,
            Some(&op),
            Some(json!({ "hidden": true, "reason": "Off topic" })),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (_, t) = call(
            &app,
            Method::GET,
            &format!("/api/v1/discussion/threads/{id}"),
            Some(&kim),
            None,
        )
        .await;
        assert_eq!(t["posts"][1]["hidden"], true);
        assert!(t["posts"][1]["body"].is_null() && t["posts"][1]["html"].is_null());
        assert!(!t.to_string().contains("Agreed"));

        let lock = format!("/api/v1/discussion/threads/{id}/lock");
        let (s, _) = call(
            &app,
            Method::POST,
            &lock,
            Some(&max),
            Some(json!({ "locked": true })),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = call(
            &app,
            Method::POST,
            &lock,
            Some(&op),
            Some(json!({ "locked": true })),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = call(
            &app,
            Method::POST,
            &replies,
            Some(&max),
            Some(json!({ "body": "late" })),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT);

        let (s, b) = call(
            &app,
            Method::PUT,
            "/api/v1/discussion/settings",
            Some(&kim),
            Some(json!({ "replies": false, "mentions": true })),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (_, b) = call(
            &app,
            Method::GET,
            "/api/v1/discussion/settings",
            Some(&kim),
            None,
        )
        .await;
        assert_eq!(b, json!({ "replies": false, "mentions": true }));
    }
}

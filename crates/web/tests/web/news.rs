//! News and the links library over real HTTP, pages and API: operators post
//! and curate (audited), members read and search but get 403 on changes,
//! signed-out callers are turned away, drafts are 404 to members, errors
//! name the field, HTML in a title or body is shown escaped, forms are
//! CSRF-checked.

use crate::support::call;
use crate::support::{Client, TestApp, apps};
use openwarp_core::Role;
use openwarp_store::User;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct People {
    member: User,
    operator: User,
}

async fn people(app: &TestApp) -> People {
    let kent = app.org("Kent County Council", "county", true).await;
    People {
        member: app
            .user("kim@kent.gov.uk", Role::MemberUser, Some(kent.id))
            .await,
        operator: app.user("op@warp.example", Role::Operator, None).await,
    }
}

async fn signed_in(app: &TestApp, u: &User) -> Client {
    app.client().signed_in(&u.email).await
}

/// `text` as askama escapes it in HTML.
fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

fn id_from(location: &Option<String>, prefix: &str) -> i64 {
    location
        .as_deref()
        .and_then(|l| l.strip_prefix(prefix))
        .and_then(|l| l.split(['?', '/']).next())
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("a redirect to {prefix}…, got {location:?}"))
}

#[tokio::test]
async fn operators_post_news_that_members_read_escaped_with_paragraphs() {
    for app in apps().await {
        let p = people(&app).await;
        let op = signed_in(&app, &p.operator).await;
        let kim = signed_in(&app, &p.member).await;

        // Named errors; nothing stored.
        let bad = op
            .submit(
                "/news",
                "/news",
                &[
                    ("title", ""),
                    ("body", "Text"),
                    ("source_url", "javascript:alert(1)"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.contains("Title: is required"), "{}", bad.body);
        assert!(bad.contains("Source link: must be an http:// or https:// link"));
        assert!(app.store.news(true, 10).await.unwrap().is_empty());

        let posted = op
            .submit(
                "/news",
                "/news",
                &[
                    ("title", "CAF <script>alert(1)</script> for councils"),
                    (
                        "body",
                        "The NCSC has published a CAF profile.\r\n\r\n<img src=x onerror=alert(1)> Read it.",
                    ),
                    ("source_url", "https://www.ncsc.gov.uk/collection/caf"),
                    ("published", "on"),
                ],
            )
            .await;
        assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
        let id = id_from(&posted.location, "/news/");

        let page = kim.get(&format!("/news/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.contains(&escaped("CAF <script>alert(1)</script> for councils")));
        assert!(!page.contains("<script>alert(1)"));
        assert!(!page.contains("<img src=x"));
        assert!(
            page.contains("<p class=\"description\">The NCSC has published a CAF profile.</p>")
        );
        assert!(page.contains(&escaped("<img src=x onerror=alert(1)> Read it.")));
        assert!(page.contains("href=\"https://www.ncsc.gov.uk/collection/caf\""));
        // Members see no forms to change it.
        assert!(!page.contains("action=\"/news/"));
        let list = kim.get("/news").await;
        assert!(list.contains(&format!("href=\"/news/{id}\"")));
        assert!(!list.contains("Post news"));
        assert!(op.get("/news").await.contains("Post news"));

        // A draft is the operators' alone.
        let draft = op
            .submit(
                "/news",
                "/news",
                &[("title", "Embargoed"), ("body", "Not yet.")],
            )
            .await;
        let draft_id = id_from(&draft.location, "/news/");
        assert!(op.get("/news").await.contains("Embargoed"));
        assert!(!kim.get("/news").await.contains("Embargoed"));
        assert_eq!(
            kim.get(&format!("/news/{draft_id}")).await.status,
            StatusCode::NOT_FOUND
        );

        // Members: 403 on every change; nothing changed.
        let refused = kim
            .submit(
                "/news",
                "/news",
                &[("title", "Member news"), ("body", "x"), ("published", "on")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let refused = kim
            .submit(
                &format!("/news/{id}"),
                &format!("/news/{id}"),
                &[("title", "Changed"), ("body", "x")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let refused = kim
            .submit(&format!("/news/{id}"), &format!("/news/{id}/delete"), &[])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(app.store.news(true, 10).await.unwrap().len(), 2);

        // Without the CSRF token: refused.
        let forged = op
            .post("/news", &[("title", "Forged"), ("body", "x")])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let forged = op.post(&format!("/news/{id}/delete"), &[]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert_eq!(app.store.news(true, 10).await.unwrap().len(), 2);

        // Operators edit and delete.
        let edited = op
            .submit(
                &format!("/news/{id}"),
                &format!("/news/{id}"),
                &[
                    ("title", "CAF for councils"),
                    ("body", "Updated."),
                    ("published", "on"),
                ],
            )
            .await;
        assert_eq!(edited.status, StatusCode::SEE_OTHER);
        assert!(kim.get(&format!("/news/{id}")).await.contains("Updated."));
        let deleted = op
            .submit(
                &format!("/news/{draft_id}"),
                &format!("/news/{draft_id}/delete"),
                &[],
            )
            .await;
        assert_eq!(deleted.status, StatusCode::SEE_OTHER);
        assert_eq!(
            op.get(&format!("/news/{draft_id}")).await.status,
            StatusCode::NOT_FOUND
        );

        let log = app.store.audit_log(100, None).await.expect("audit");
        for action in ["news.post", "news.update", "news.delete"] {
            assert!(log.iter().any(|e| e.action == action), "{action}");
        }

        // Signed out: to the sign-in page.
        for path in ["/news", &format!("/news/{id}"), "/links"] {
            let anon = app.client().get(path).await;
            assert_eq!(anon.status, StatusCode::SEE_OTHER, "{path}");
            assert!(anon.location.unwrap_or_default().starts_with("/login"));
        }
    }
}

#[tokio::test]
async fn the_library_is_searched_and_filtered_by_tag_and_curated_by_operators() {
    for app in apps().await {
        let p = people(&app).await;
        let op = signed_in(&app, &p.operator).await;
        let kim = signed_in(&app, &p.member).await;

        let bad = op
            .submit(
                "/links",
                "/links",
                &[
                    ("title", "Bad"),
                    ("url", "ftp://example.org"),
                    ("tags", "ok, not_ok!"),
                    ("kind", "video"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.contains("Link: must be an http:// or https:// link"));
        assert!(bad.contains("Tags: "));
        assert!(bad.contains("Kind: must be link or guidance"));
        assert!(
            app.store
                .links(&Default::default())
                .await
                .unwrap()
                .is_empty()
        );

        for (title, url, description, tags, kind) in [
            (
                "10 Steps to Cyber Security",
                "https://www.ncsc.gov.uk/collection/10-steps",
                "The NCSC's guidance for organisations",
                "ncsc governance",
                "guidance",
            ),
            (
                "Report a <b>breach</b>",
                "https://ico.org.uk/for-organisations/report-a-breach/",
                "Personal data breaches to the ICO within 72 hours",
                "ico gdpr",
                "link",
            ),
        ] {
            let added = op
                .submit(
                    "/links",
                    "/links",
                    &[
                        ("title", title),
                        ("url", url),
                        ("description", description),
                        ("tags", tags),
                        ("kind", kind),
                    ],
                )
                .await;
            assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
        }

        let all = kim.get("/links").await;
        assert!(all.contains("Guidance documents"));
        assert!(all.contains("href=\"https://www.ncsc.gov.uk/collection/10-steps\""));
        assert!(all.contains(&escaped("Report a <b>breach</b>")));
        assert!(!all.contains("<b>breach"));
        assert!(all.contains("ncsc (1)"));
        assert!(!all.contains("Add a link"), "members see no form");
        assert!(!all.contains("/edit"));

        let found = kim.get("/links?q=72+HOURS").await;
        assert!(found.contains("ico.org.uk"));
        assert!(!found.contains("10-steps"));
        let tagged = kim.get("/links?tag=ncsc").await;
        assert!(tagged.contains("10-steps"));
        assert!(!tagged.contains("ico.org.uk"));
        let none = kim.get("/links?q=nothing-like-this").await;
        assert!(none.contains("Nothing matches"));
        // Search words are shown back escaped.
        let odd = kim.get("/links?q=%3Cscript%3E").await;
        assert!(odd.contains(&format!("value=\"{}\"", escaped("<script>"))));

        // Members: 403 on changes; CSRF checked.
        let refused = kim
            .submit(
                "/links",
                "/links",
                &[("title", "Mine"), ("url", "https://example.org")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let links = app.store.links(&Default::default()).await.unwrap();
        assert_eq!(links.len(), 2);
        let id = links[0].id;
        assert_eq!(
            kim.get(&format!("/links/{id}/edit")).await.status,
            StatusCode::FORBIDDEN
        );
        let refused = kim
            .submit("/links", &format!("/links/{id}/delete"), &[])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let forged = op.post(&format!("/links/{id}/delete"), &[]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert_eq!(app.store.links(&Default::default()).await.unwrap().len(), 2);

        // Operators edit and remove.
        let edited = op
            .submit(
                &format!("/links/{id}/edit"),
                &format!("/links/{id}"),
                &[
                    ("title", "NCSC 10 Steps"),
                    ("url", "https://www.ncsc.gov.uk/collection/10-steps"),
                    ("tags", "ncsc board"),
                    ("kind", "guidance"),
                ],
            )
            .await;
        assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
        assert!(kim.get("/links?tag=board").await.contains("NCSC 10 Steps"));
        let removed = op
            .submit("/links", &format!("/links/{id}/delete"), &[])
            .await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER);
        assert_eq!(app.store.links(&Default::default()).await.unwrap().len(), 1);

        let log = app.store.audit_log(100, None).await.expect("audit");
        for action in ["link.add", "link.update", "link.delete"] {
            assert!(log.iter().any(|e| e.action == action), "{action}");
        }
    }
}

#[tokio::test]
async fn the_api_lets_operators_curate_and_members_read_and_search() {
    for app in apps().await {
        let p = people(&app).await;
        let op = app.token(&p.operator).await;
        let kim = app.token(&p.member).await;
        use reqwest::Method;

        let (status, body) = call(
            &app,
            Method::POST,
            "/api/v1/news",
            &op,
            Some(json!({"title": "", "body": "x", "source_url": "ftp://x"})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = body["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .filter_map(|f| f["field"].as_str())
            .collect();
        assert_eq!(fields, ["title", "source_url"], "{body}");

        let (status, news) = call(
            &app,
            Method::POST,
            "/api/v1/news",
            &op,
            Some(json!({"title": "Cyber Essentials changes", "body": "One.\n\nTwo."})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{news}");
        assert_eq!(news["published"], true);
        let id = news["id"].as_i64().expect("id");
        let (status, draft) = call(
            &app,
            Method::POST,
            "/api/v1/news",
            &op,
            Some(json!({"title": "Draft", "body": "x", "published": false})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        let draft_id = draft["id"].as_i64().expect("id");

        let (status, list) = call(&app, Method::GET, "/api/v1/news", &kim, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list.as_array().map(Vec::len), Some(1), "no drafts: {list}");
        let (status, _) = call(
            &app,
            Method::GET,
            &format!("/api/v1/news/{draft_id}"),
            &kim,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, list) = call(&app, Method::GET, "/api/v1/news", &op, None).await;
        assert_eq!(list.as_array().map(Vec::len), Some(2));

        // Members: 403 on every change.
        for (method, path, body) in [
            (
                Method::POST,
                "/api/v1/news".to_string(),
                Some(json!({"title": "t", "body": "b"})),
            ),
            (
                Method::PUT,
                format!("/api/v1/news/{id}"),
                Some(json!({"title": "t", "body": "b"})),
            ),
            (Method::DELETE, format!("/api/v1/news/{id}"), None),
            (
                Method::POST,
                "/api/v1/links".to_string(),
                Some(json!({"title": "t", "url": "https://example.org"})),
            ),
            (
                Method::POST,
                "/api/v1/links".to_string(),
                Some(json!({"title": "t", "url": "https://example.org", "tags": ["a b"]})),
            ),
        ] {
            let (status, _) = call(&app, method, &path, &kim, body).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        }

        let (status, link) = call(
            &app,
            Method::POST,
            "/api/v1/links",
            &op,
            Some(json!({
                "title": "NCSC Cyber Assessment Framework",
                "url": "https://www.ncsc.gov.uk/collection/cyber-assessment-framework",
                "description": "Outcomes for essential functions",
                "tags": ["NCSC", "caf"],
                "kind": "guidance"
            })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{link}");
        assert_eq!(link["tags"], json!(["caf", "ncsc"]));
        let link_id = link["id"].as_i64().expect("id");
        let (status, body) = call(
            &app,
            Method::POST,
            "/api/v1/links",
            &op,
            Some(json!({"title": "x", "url": "javascript:alert(1)", "tags": ["a_b"]})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("\"url\""), "{body}");
        assert!(body.to_string().contains("\"tags\""), "{body}");

        let (status, body) = call(
            &app,
            Method::POST,
            "/api/v1/links",
            &op,
            Some(json!({"title": "x", "url": "https://example.org", "tags": ["two words"]})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("not one word"), "{body}");
        assert_eq!(app.store.links(&Default::default()).await.unwrap().len(), 1);
        let (_, found) = call(&app, Method::GET, "/api/v1/links?q=ESSENTIAL", &kim, None).await;
        assert_eq!(found.as_array().map(Vec::len), Some(1));
        let (_, found) = call(&app, Method::GET, "/api/v1/links?tag=gdpr", &kim, None).await;
        assert_eq!(found.as_array().map(Vec::len), Some(0));
        let (status, one) = call(
            &app,
            Method::GET,
            &format!("/api/v1/links/{link_id}"),
            &kim,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(one["kind"], "guidance");

        let (status, changed) = call(
            &app,
            Method::PUT,
            &format!("/api/v1/links/{link_id}"),
            &op,
            Some(json!({"title": "CAF", "url": "https://www.ncsc.gov.uk/", "tags": ["caf"]})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["kind"], "link");
        let (status, _) = call(
            &app,
            Method::DELETE,
            &format!("/api/v1/links/{link_id}"),
            &op,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = call(
            &app,
            Method::DELETE,
            &format!("/api/v1/news/{id}"),
            &op,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);

        // Signed out: 401.
        let resp = app
            .client()
            .http
            .get(app.url("/api/v1/links"))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

        // In the OpenAPI document.
        let doc: Value = app
            .client()
            .http
            .get(app.url("/api/v1/openapi.json"))
            .send()
            .await
            .expect("openapi")
            .json()
            .await
            .expect("json");
        for path in [
            "/api/v1/news",
            "/api/v1/news/{id}",
            "/api/v1/links",
            "/api/v1/links/{id}",
        ] {
            assert!(doc["paths"][path].is_object(), "{path}");
        }
    }
}

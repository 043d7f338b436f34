//! The JSON API: bearer tokens, roles and tenants, and every kind of bad input.

use crate::support::{ANON, apps, call, sqlite_app};
use openwarp_core::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn kent() -> Value {
    json!({
        "name": "Kent County Council",
        "council_type": "county",
        "employers_member": false,
        "renewal_date": "2027-04-01",
        "senior_officer_name": "Sam Officer",
        "senior_officer_email": "sam.officer@kent.gov.uk"
    })
}

#[tokio::test]
async fn tokens_are_required_and_checked() {
    for app in apps().await {
        let (status, body) = call(&app, reqwest::Method::GET, "/api/v1/me", ANON, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["status"], 401);
        let resp = app
            .client()
            .http
            .get(app.url("/api/v1/orgs"))
            .send()
            .await
            .expect("get");
        assert_eq!(
            resp.headers()["www-authenticate"],
            "Bearer realm=\"openwarp\""
        );
        let (status, _) = call(
            &app,
            reqwest::Method::GET,
            "/api/v1/me",
            Some("owp_forged"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let org = app.org("Medway Council", "unitary", true).await;
        let lead = app
            .user("lead@medway.gov.uk", Role::MemberLead, Some(org.id))
            .await;
        let token = app.token(&lead).await;
        let (status, me) = call(&app, reqwest::Method::GET, "/api/v1/me", Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{}", app.backend());
        assert_eq!(me["user"]["email"], "lead@medway.gov.uk");
        assert_eq!(me["user"]["role"], "member_lead");
        assert_eq!(me["organisation"]["name"], "Medway Council");
        assert_eq!(me["organisation"]["annual_fee_pence"], 75_000);

        // A session cookie is not an API credential.
        let (status, _) = call(
            &app,
            reqwest::Method::GET,
            "/api/v1/nonexistent",
            Some(&token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn operators_manage_organisations_and_bad_input_changes_nothing() {
    for app in apps().await {
        let op = app.user("ops@warp.example", Role::Operator, None).await;
        let t = app.token(&op).await;
        let (status, created) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/orgs",
            Some(&t),
            Some(kent()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {created}", app.backend());
        assert_eq!(created["annual_fee_pence"], 120_000);
        assert_eq!(created["annual_fee"], "£1,200");
        assert_eq!(created["status"], "active");
        let id = created["id"].as_i64().expect("id");

        let (status, body) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/orgs",
            Some(&t),
            Some(kent()),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(
            body["message"]
                .as_str()
                .unwrap_or("")
                .contains("already exists")
        );

        let mut invalid = kent();
        invalid["name"] = json!("Other Council");
        invalid["council_type"] = json!("parish");
        invalid["renewal_date"] = json!("next year");
        let (status, body) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/orgs",
            Some(&t),
            Some(invalid),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<_> = body["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f["field"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(fields, ["council_type", "renewal_date"]);

        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/orgs",
            Some(&t),
            Some(json!({ "name": "No Type Council" })),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let mut unknown = kent();
        unknown["name"] = json!("Typo Council");
        unknown["fee"] = json!(1);
        let (status, body) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/orgs",
            Some(&t),
            Some(unknown),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["message"]
                .as_str()
                .unwrap_or("")
                .contains("unknown field")
        );

        let client = app.client().http;
        let malformed = client
            .post(app.url("/api/v1/orgs"))
            .bearer_auth(&t)
            .header("content-type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .expect("post");
        assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
        let not_json = client
            .post(app.url("/api/v1/orgs"))
            .bearer_auth(&t)
            .header("content-type", "text/plain")
            .body("name=x")
            .send()
            .await
            .expect("post");
        assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let huge = format!(
            "{{\"name\": \"{}\"}}",
            "x".repeat(openwarp_web::MAX_BODY_BYTES + 10)
        );
        let too_big = client
            .post(app.url("/api/v1/orgs"))
            .bearer_auth(&t)
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .await
            .expect("post");
        assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);

        let (_, list) = call(&app, reqwest::Method::GET, "/api/v1/orgs", Some(&t), None).await;
        assert_eq!(
            list.as_array().map(Vec::len),
            Some(1),
            "bad requests must not create anything"
        );

        let mut update = kent();
        update["employers_member"] = json!(true);
        update["status"] = json!("lapsed");
        let (status, updated) = call(
            &app,
            reqwest::Method::PUT,
            &format!("/api/v1/orgs/{id}"),
            Some(&t),
            Some(update),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(updated["annual_fee_pence"], 100_000);
        assert_eq!(updated["status"], "lapsed");
        let (status, _) = call(
            &app,
            reqwest::Method::PUT,
            "/api/v1/orgs/9999",
            Some(&t),
            Some(kent()),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let (status, fees) = call(&app, reqwest::Method::GET, "/api/v1/fees", Some(&t), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(fees["total_pence"], 100_000);
        assert_eq!(fees["organisations"][0]["renewal_state"], "current");
    }
}

#[tokio::test]
async fn members_see_only_their_own_organisation() {
    for app in apps().await {
        let medway = app.org("Medway Council", "unitary", true).await;
        let dover = app
            .org("Dover District Council", "district_borough", true)
            .await;
        let lead = app
            .user("lead@medway.gov.uk", Role::MemberLead, Some(medway.id))
            .await;
        let member = app
            .user("user@medway.gov.uk", Role::MemberUser, Some(medway.id))
            .await;
        let dover_user = app
            .user("user@dover.gov.uk", Role::MemberUser, Some(dover.id))
            .await;
        let lt = app.token(&lead).await;
        let mt = app.token(&member).await;

        let (_, list) = call(&app, reqwest::Method::GET, "/api/v1/orgs", Some(&mt), None).await;
        let names: Vec<_> = list
            .as_array()
            .expect("list")
            .iter()
            .map(|o| o["name"].clone())
            .collect();
        assert_eq!(names, [json!("Medway Council")]);
        for path in [
            format!("/api/v1/orgs/{}", dover.id),
            format!("/api/v1/orgs/{}/users", dover.id),
        ] {
            let (status, _) = call(&app, reqwest::Method::GET, &path, Some(&lt), None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        let (status, users) = call(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/orgs/{}/users", medway.id),
            Some(&mt),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(users.as_array().map(Vec::len), Some(2));

        // Member users and leads cannot reach operator routes.
        for token in [&lt, &mt] {
            let (status, body) = call(
                &app,
                reqwest::Method::POST,
                "/api/v1/orgs",
                Some(token),
                Some(kent()),
            )
            .await;
            assert_eq!(status, StatusCode::FORBIDDEN);
            assert_eq!(body["message"], "only WARP operators may do this");
            let (status, _) = call(
                &app,
                reqwest::Method::GET,
                "/api/v1/fees",
                Some(token),
                None,
            )
            .await;
            assert_eq!(status, StatusCode::FORBIDDEN);
        }
        let (status, _) = call(
            &app,
            reqwest::Method::PUT,
            &format!("/api/v1/orgs/{}", medway.id),
            Some(&lt),
            Some(kent()),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Invitations: the lead for their own org only; member users not at all.
        let invite = json!({ "email": "new@medway.gov.uk", "role": "member_user" });
        let (status, created) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/orgs/{}/invitations", medway.id),
            Some(&lt),
            Some(invite.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert!(
            created["accept_url"]
                .as_str()
                .unwrap_or("")
                .starts_with(&format!("{}/invite/", app.base))
        );
        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/orgs/{}/invitations", medway.id),
            Some(&mt),
            Some(invite.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/orgs/{}/invitations", dover.id),
            Some(&lt),
            Some(invite),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/orgs/{}/invitations", medway.id),
            Some(&lt),
            Some(json!({ "email": "bad", "role": "operator" })),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["fields"][0]["field"], "email");

        // User administration stays inside the organisation.
        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/users/{}/disable", dover_user.id),
            Some(&lt),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/users/{}/disable", lead.id),
            Some(&mt),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, disabled) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/users/{}/disable", member.id),
            Some(&lt),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(disabled["disabled"], true);
        // The disabled user's token stops working.
        let (status, _) = call(&app, reqwest::Method::GET, "/api/v1/me", Some(&mt), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn openapi_document_describes_every_route() {
    let app = sqlite_app().await;
    let (status, doc) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/openapi.json",
        ANON,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3."));
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/me",
        "/api/v1/orgs",
        "/api/v1/orgs/{id}",
        "/api/v1/orgs/{id}/users",
        "/api/v1/orgs/{id}/invitations",
        "/api/v1/users/{id}/disable",
        "/api/v1/users/{id}/enable",
        "/api/v1/fees",
        "/api/v1/advisories",
        "/api/v1/advisories/{id}",
        "/api/v1/advisories/{id}/exposure",
        "/api/v1/orgs/{id}/inventory",
        "/api/v1/orgs/{id}/inventory/{item}",
        "/api/v1/orgs/{id}/inventory/import",
        "/api/v1/orgs/{id}/inventory.csv",
        "/api/v1/resolve",
        "/api/v1/orgs/{id}/suppliers",
        "/api/v1/orgs/{id}/suppliers/{sid}",
        "/api/v1/suppliers",
        "/api/v1/orgs/{id}/exposures",
        "/api/v1/orgs/{id}/exposures/{x}",
        "/api/v1/orgs/{id}/exposures/{x}/status",
    ] {
        assert!(paths.contains_key(p), "OpenAPI lacks {p}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["OrgInputDto"].is_object());
    for schema in [
        "ItemInputDto",
        "ExposureDto",
        "SupplierInputDto",
        "ImportResultDto",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "OpenAPI lacks {schema}"
        );
    }
}

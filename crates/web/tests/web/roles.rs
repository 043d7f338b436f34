//! Changing a member's role: the organisation's lead or an operator, only
//! between member roles, never one's own; the person is signed out (their
//! privileges changed) and the change is audited with both roles.

use crate::support::{apps, call};
use openwarp_core::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn leads_and_operators_change_member_roles_and_the_person_signs_in_again() {
    for app in apps().await {
        let kent = app.org("Kent County Council", "county", true).await;
        let medway = app.org("Medway Council", "unitary", true).await;
        let lead = app
            .user("lead@kent.gov.uk", Role::MemberLead, Some(kent.id))
            .await;
        let kim = app
            .user("kim@kent.gov.uk", Role::MemberUser, Some(kent.id))
            .await;
        let max = app
            .user("max@medway.gov.uk", Role::MemberUser, Some(medway.id))
            .await;
        let ops = app.user("ops@warp.example", Role::Operator, None).await;

        let kim_session = app.client().signed_in("kim@kent.gov.uk").await;
        assert_eq!(kim_session.get("/dashboard").await.status, StatusCode::OK);

        let lead_c = app.client().signed_in("lead@kent.gov.uk").await;
        let org_page = format!("/orgs/{}", kent.id.0);
        let page = lead_c.get(&org_page).await;
        assert!(page.contains("Make member lead"), "{}", page.body);
        let done = lead_c
            .submit(
                &org_page,
                &format!("/users/{}/role", kim.id.0),
                &[("role", "member_lead")],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let now_kim = app.store.get_user(kim.id).await.expect("get").expect("kim");
        assert_eq!(now_kim.role, Role::MemberLead);
        // Kim's old session ended with the old privileges.
        assert_eq!(
            kim_session.get("/dashboard").await.status,
            StatusCode::SEE_OTHER
        );
        let log = app.store.audit_log(20, None).await.expect("audit");
        let entry = log
            .iter()
            .find(|e| e.action == "user.role_change")
            .expect("audited");
        assert!(
            entry.detail.contains("\"from\":\"member_user\"")
                && entry.detail.contains("\"to\":\"member_lead\"")
        );

        // Not one's own role, not another organisation's users, not operator.
        let token = app.token(&lead).await;
        let (s, _) = call(
            &app,
            Method::PUT,
            &format!("/api/v1/users/{}/role", lead.id.0),
            &token,
            Some(json!({ "role": "member_user" })),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = call(
            &app,
            Method::PUT,
            &format!("/api/v1/users/{}/role", max.id.0),
            &token,
            Some(json!({ "role": "member_lead" })),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, body) = call(
            &app,
            Method::PUT,
            &format!("/api/v1/users/{}/role", kim.id.0),
            &token,
            Some(json!({ "role": "operator" })),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (s, _) = call(
            &app,
            Method::PUT,
            &format!("/api/v1/users/{}/role", kim.id.0),
            &token,
            Some(json!({ "role": "chief" })),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            app.store
                .get_user(max.id)
                .await
                .expect("get")
                .expect("max")
                .role,
            Role::MemberUser
        );

        // An operator changes it back through the API.
        let op_token = app.token(&ops).await;
        let (s, body) = call(
            &app,
            Method::PUT,
            &format!("/api/v1/users/{}/role", kim.id.0),
            &op_token,
            Some(json!({ "role": "member_user" })),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["role"], "member_user");
        // A member user may not change roles at all.
        let kim_token = app.token(&kim).await;
        let (s, _) = call(
            &app,
            Method::PUT,
            &format!("/api/v1/users/{}/role", lead.id.0),
            &kim_token,
            Some(json!({ "role": "member_user" })),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
}

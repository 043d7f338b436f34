//! Second factors over HTTP: an operator must set one up before anything
//! opens; the QR page's secret gives codes that work once; recovery codes
//! work once; a session that owes a code reaches nothing else; a member
//! lead can require it of the organisation; operators reset it; "sign out
//! everywhere" ends every session; wrong codes are throttled.

use crate::support::{Client, Page, TestApp, apps};
use openwarp_core::{Role, mfa};
use openwarp_store::testing::{all_backends, sqlite};
use openwarp_store::{SealingError, SealingKey, Store, StoreError, now};
use reqwest::StatusCode;

/// Apps that require operators' second factors and seal their keys at rest,
/// as production with `secrets_key_file` does.
async fn app_requiring_mfa() -> Vec<TestApp> {
    let mut out = Vec::new();
    for mut db in all_backends().await {
        let key =
            SealingKey::from_base64(&SealingKey::generate_base64().expect("key")).expect("key");
        db.store = db.store.clone().with_sealing_key(key);
        out.push(TestApp::start_with(db, |c| c.operators_need_mfa = true).await);
    }
    out
}

fn secret_on(page: &Page) -> Vec<u8> {
    let text = page
        .body
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .expect("the secret is on the page");
    mfa::secret_from_text(text).expect("base32")
}

fn code(secret: &[u8], offset_seconds: i64) -> String {
    let t = u64::try_from(now().timestamp() + offset_seconds).expect("time");
    mfa::code_at(secret, t).expect("code")
}

fn recovery_codes(page: &Page) -> Vec<String> {
    page.body
        .split("<li><code>")
        .skip(1)
        .filter_map(|s| s.split("</code>").next())
        .map(String::from)
        .collect()
}

/// Sign in with the password only: where it sends us.
async fn password_only(c: &Client, email: &str) -> String {
    let page = c.login(email, crate::support::PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    page.location.expect("a redirect")
}

#[tokio::test]
async fn an_operator_sets_up_a_second_factor_then_signs_in_with_it() {
    for app in app_requiring_mfa().await {
        app.user("ops@warp.example", Role::Operator, None).await;
        let c = app.client();
        let to = password_only(&c, "ops@warp.example").await;
        assert!(to.starts_with("/account/mfa/setup"), "{to}");
        // Nothing else opens until it is set up, pages and forms alike.
        let dash = c.get("/dashboard").await;
        assert_eq!(dash.status, StatusCode::SEE_OTHER);
        assert!(
            dash.location
                .as_deref()
                .is_some_and(|l| l.starts_with("/account/mfa/setup")),
            "{:?}",
            dash.location
        );
        let orgs_before = app.store.list_orgs().await.expect("orgs").len();
        let setup = c.get("/account/mfa/setup").await;
        assert_eq!(setup.status, StatusCode::OK);
        assert!(setup.contains("<svg role=\"img\" aria-label=\"QR code"));
        let forged = c
            .post(
                "/orgs",
                &[
                    ("csrf", &setup.csrf()),
                    ("name", "Forged Council"),
                    ("council_type", "county"),
                    ("renewal_date", "2027-04-01"),
                ],
            )
            .await;
        assert_eq!(forged.status, StatusCode::SEE_OTHER, "{}", forged.body);
        assert_eq!(
            app.store.list_orgs().await.expect("orgs").len(),
            orgs_before
        );

        let secret = secret_on(&setup);
        let wrong = c
            .submit(
                "/account/mfa/setup",
                "/account/mfa/setup",
                &[("code", "000000")],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        // Reloading keeps the same secret (a scanned code stays valid).
        assert_eq!(secret_on(&c.get("/account/mfa/setup").await), secret);
        let done = c
            .submit(
                "/account/mfa/setup",
                "/account/mfa/setup",
                &[("code", &code(&secret, 0))],
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        let codes = recovery_codes(&done);
        assert_eq!(codes.len(), 10, "{}", done.body);
        assert_eq!(c.get("/dashboard").await.status, StatusCode::OK);
        // The key is sealed at rest: the database alone does not give it.
        let ops = app
            .store
            .find_user_by_email("ops@warp.example")
            .await
            .expect("user")
            .expect("ops")
            .user;
        let bare = Store::connect(&app.db.url).await.expect("open");
        assert!(matches!(
            bare.authenticator(ops.id).await,
            Err(StoreError::Sealing(SealingError::NoKey(_)))
        ));
        bare.close().await;
        // Operators and monitoring see that secrets are sealed.
        let page = c.get("/operators").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            !page.contains("Secrets are stored unsealed"),
            "{}",
            page.body
        );
        assert!(
            c.get("/metrics")
                .await
                .contains("openwarp_secrets_sealed 1")
        );

        // Next sign-in: the code step already used is refused; the next works.
        let c2 = app.client();
        let to = password_only(&c2, "ops@warp.example").await;
        assert!(to.starts_with("/login/mfa"), "{to}");
        assert_eq!(c2.get("/dashboard").await.status, StatusCode::SEE_OTHER);
        let replay = c2
            .submit("/login/mfa", "/login/mfa", &[("code", &code(&secret, 0))])
            .await;
        assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "a code works once");
        let ok = c2
            .submit(
                "/login/mfa",
                "/login/mfa",
                &[("code", &code(&secret, 30)), ("next", "/orgs")],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        assert_eq!(ok.location.as_deref(), Some("/orgs"));
        assert_eq!(c2.get("/orgs").await.status, StatusCode::OK);

        // A recovery code works once.
        let c3 = app.client();
        password_only(&c3, "ops@warp.example").await;
        let used = c3
            .submit(
                "/login/mfa",
                "/login/mfa",
                &[("code", &codes[0].to_lowercase())],
            )
            .await;
        assert_eq!(used.status, StatusCode::SEE_OTHER, "{}", used.body);
        let c4 = app.client();
        password_only(&c4, "ops@warp.example").await;
        let again = c4
            .submit("/login/mfa", "/login/mfa", &[("code", &codes[0])])
            .await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED);

        // Operators cannot turn it off.
        let off = c2
            .submit(
                "/account/mfa",
                "/account/mfa/disable",
                &[("code", &code(&secret, 60))],
            )
            .await;
        assert_eq!(off.status, StatusCode::FORBIDDEN);
        let log = app.store.audit_log(50, None).await.expect("audit");
        for action in ["mfa.enable", "auth.mfa_failed", "auth.login"] {
            assert!(log.iter().any(|e| e.action == action), "{action}");
        }
    }
}

#[tokio::test]
async fn wrong_codes_are_throttled() {
    let app = TestApp::start_with(sqlite().await, |c| c.operators_need_mfa = true).await;
    let u = app.user("ops@warp.example", Role::Operator, None).await;
    app.store.start_enrolment(u.id, now()).await.expect("enrol");
    app.store
        .confirm_enrolment(u.id, now())
        .await
        .expect("confirm");
    let c = app.client();
    password_only(&c, "ops@warp.example").await;
    for _ in 0..5 {
        let p = c
            .submit("/login/mfa", "/login/mfa", &[("code", "123456")])
            .await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    }
    let locked = c
        .submit("/login/mfa", "/login/mfa", &[("code", "123456")])
        .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_lead_requires_it_of_the_organisation_and_members_comply() {
    for app in apps().await {
        let org = app.org("Kent County Council", "county", true).await;
        let other = app.org("Medway Council", "unitary", true).await;
        app.user("lead@kent.gov.uk", Role::MemberLead, Some(org.id))
            .await;
        app.user("kim@kent.gov.uk", Role::MemberUser, Some(org.id))
            .await;
        app.user("max@medway.gov.uk", Role::MemberUser, Some(other.id))
            .await;
        let lead = app.client().signed_in("lead@kent.gov.uk").await;
        // A lead cannot set another organisation's policy.
        let page = lead.get("/account/mfa").await;
        let foreign = lead
            .post(
                &format!("/orgs/{}/mfa", other.id.0),
                &[("csrf", &page.csrf()), ("require", "on")],
            )
            .await;
        assert_eq!(foreign.status, StatusCode::FORBIDDEN);
        let set = lead
            .submit(
                "/account/mfa",
                &format!("/orgs/{}/mfa", org.id.0),
                &[("require", "on")],
            )
            .await;
        assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
        assert!(app.store.org_requires_mfa(org.id).await.expect("policy"));
        assert!(!app.store.org_requires_mfa(other.id).await.expect("policy"));

        let kim = app.client();
        assert!(
            password_only(&kim, "kim@kent.gov.uk")
                .await
                .starts_with("/account/mfa/setup")
        );
        let max = app.client();
        assert_eq!(password_only(&max, "max@medway.gov.uk").await, "/dashboard");

        // A member who chose one, where none is required, may turn it off.
        let max = max;
        let setup = max.get("/account/mfa/setup").await;
        let secret = secret_on(&setup);
        let on = max
            .submit(
                "/account/mfa/setup",
                "/account/mfa/setup",
                &[("code", &code(&secret, 0))],
            )
            .await;
        assert_eq!(on.status, StatusCode::OK);
        let off = max
            .submit(
                "/account/mfa",
                "/account/mfa/disable",
                &[("code", &code(&secret, 30))],
            )
            .await;
        assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.body);
        let max_user = app
            .store
            .find_user_by_email("max@medway.gov.uk")
            .await
            .expect("find")
            .expect("max");
        assert!(
            !app.store
                .has_second_factor(max_user.user.id)
                .await
                .expect("mfa")
        );
    }
}

#[tokio::test]
async fn operators_reset_a_lost_factor_and_anyone_signs_out_everywhere() {
    for app in apps().await {
        let org = app.org("Kent County Council", "county", true).await;
        let kim = app
            .user("kim@kent.gov.uk", Role::MemberUser, Some(org.id))
            .await;
        app.user("ops@warp.example", Role::Operator, None).await;
        app.store
            .start_enrolment(kim.id, now())
            .await
            .expect("enrol");
        app.store
            .confirm_enrolment(kim.id, now())
            .await
            .expect("confirm");

        let ops = app.client().signed_in("ops@warp.example").await;
        let reset = ops
            .submit(
                &format!("/orgs/{}", org.id.0),
                &format!("/users/{}/mfa/reset", kim.id.0),
                &[],
            )
            .await;
        assert_eq!(reset.status, StatusCode::SEE_OTHER, "{}", reset.body);
        assert!(!app.store.has_second_factor(kim.id).await.expect("mfa"));
        // Only operators may.
        let kim_c = app.client().signed_in("kim@kent.gov.uk").await;
        let page = kim_c.get("/account/mfa").await;
        let refused = kim_c
            .post(
                &format!("/users/{}/mfa/reset", kim.id.0),
                &[("csrf", &page.csrf())],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);

        // Two sessions; ending them all from one ends the other too.
        let other = app.client().signed_in("kim@kent.gov.uk").await;
        assert_eq!(other.get("/dashboard").await.status, StatusCode::OK);
        let ended = kim_c
            .submit("/account/mfa", "/account/sessions/end", &[])
            .await;
        assert_eq!(ended.status, StatusCode::SEE_OTHER);
        assert_eq!(other.get("/dashboard").await.status, StatusCode::SEE_OTHER);
        assert_eq!(kim_c.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    }
}

//! The HTML side: sign-in, CSRF, throttling, organisations, invitations,
//! user administration and tenant isolation, on every backend.

use crate::support::{PASSWORD, apps, issued_path, text_until};
use chrono::Duration;
use openwarp_core::{Email, OrgId, Role};
use openwarp_store::now;
use reqwest::StatusCode;

#[tokio::test]
async fn health_readiness_and_security_headers() {
    for app in apps().await {
        let c = app.client();
        let h = c.get("/healthz").await;
        assert_eq!((h.status, h.body.as_str()), (StatusCode::OK, "ok"));
        let r = c.get("/readyz").await;
        assert_eq!(r.status, StatusCode::OK, "{}", app.backend());
        let login = c.get("/login").await;
        assert_eq!(login.status, StatusCode::OK);
        for header in [
            "content-security-policy",
            "x-frame-options",
            "x-content-type-options",
            "referrer-policy",
        ] {
            assert!(login.headers.contains_key(header), "missing {header}");
        }
        assert_eq!(login.headers["cache-control"], "no-store");
        let cookie = login.headers["set-cookie"].to_str().unwrap_or("");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let missing = c.get("/no/such/page").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let css = c.get("/static/style.css").await;
        assert!(
            css.headers["content-type"]
                .to_str()
                .unwrap_or("")
                .starts_with("text/css")
        );
    }
}

#[tokio::test]
async fn sign_in_and_out() {
    for app in apps().await {
        app.user("ops@warp.example", Role::Operator, None).await;
        let c = app.client();
        // Visitors are sent to sign in, and brought back afterwards.
        let dash = c.get("/orgs").await;
        assert_eq!(dash.status, StatusCode::SEE_OTHER);
        assert_eq!(dash.location.as_deref(), Some("/login?next=%2Forgs"));

        let wrong = c.login("ops@warp.example", "not the password at all").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.contains("The e-mail address or password is not right"));
        let unknown = c.login("nobody@warp.example", PASSWORD).await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert!(unknown.contains("The e-mail address or password is not right"));
        let empty = c.login("", "").await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);

        let ok = c.login("  OPS@warp.example ", PASSWORD).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", app.backend());
        let cookie = ok
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            cookie.contains("owp_session=")
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Strict")
        );
        let dash = c.get("/dashboard").await;
        assert_eq!(dash.status, StatusCode::OK);
        assert!(dash.contains("User ops") && dash.contains("WARP operator"));

        let out = c.submit("/dashboard", "/logout", &[]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert_eq!(c.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_a_while() {
    for app in apps().await {
        app.user("lead@ashford.gov.uk", Role::Operator, None).await;
        let c = app.client();
        for _ in 0..openwarp_web::MAX_FAILURES_PER_ACCOUNT {
            assert_eq!(
                c.login("lead@ashford.gov.uk", "wrong password guess")
                    .await
                    .status,
                StatusCode::UNAUTHORIZED
            );
        }
        // Even the right password is refused while throttled.
        let locked = c.login("lead@ashford.gov.uk", PASSWORD).await;
        assert_eq!(
            locked.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            app.backend()
        );
        assert!(locked.contains("Too many failed sign-ins"));
        let log = app.store.audit_log(50, None).await.expect("audit");
        assert!(log.iter().any(|e| e.action == "auth.login_throttled"));
        assert_eq!(
            log.iter()
                .filter(|e| e.action == "auth.login_failed")
                .count(),
            5
        );
    }
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused_and_change_nothing() {
    for app in apps().await {
        app.user("ops@warp.example", Role::Operator, None).await;
        let c = app.client().signed_in("ops@warp.example").await;
        let form = [
            ("name", "Forged Council"),
            ("council_type", "county"),
            ("renewal_date", "2027-04-01"),
        ];
        let none = c.post("/orgs", &form).await;
        assert_eq!(none.status, StatusCode::FORBIDDEN);
        let mut forged = form.to_vec();
        forged.push(("csrf", "forged-token"));
        let bad = c.post("/orgs", &forged).await;
        assert_eq!(bad.status, StatusCode::FORBIDDEN);
        assert!(bad.contains("this form has expired"));
        assert!(app.store.list_orgs().await.expect("list").is_empty());

        // The sign-in form needs its double-submit cookie too.
        let fresh = app.client();
        let anon = fresh
            .post(
                "/login",
                &[
                    ("email", "ops@warp.example"),
                    ("password", PASSWORD),
                    ("csrf", "x"),
                ],
            )
            .await;
        assert_eq!(anon.status, StatusCode::FORBIDDEN);
        // And forms must be forms.
        let json = c
            .http
            .post(app.url("/orgs"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("post");
        assert_eq!(json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}

#[tokio::test]
async fn operator_adds_organisations_with_computed_fees() {
    for app in apps().await {
        app.user("ops@warp.example", Role::Operator, None).await;
        let c = app.client().signed_in("ops@warp.example").await;
        let created = c
            .submit(
                "/orgs/new",
                "/orgs",
                &[
                    ("name", "Kent County Council"),
                    ("council_type", "county"),
                    ("status", "active"),
                    ("renewal_date", "2027-04-01"),
                    ("senior_officer_name", "Sam Officer"),
                    ("senior_officer_email", "Sam.Officer@Kent.gov.uk"),
                ],
            )
            .await;
        assert_eq!(
            created.status,
            StatusCode::SEE_OTHER,
            "{}: {}",
            app.backend(),
            created.body
        );
        let location = created.location.expect("redirect");
        let page = c.get(&location).await;
        assert!(page.contains("The organisation has been added."));
        // Not a member of the employers' organisation (box unticked): county £1,000 + 20%.
        assert!(page.contains("£1,200"), "{}", page.body);
        assert!(page.contains("sam.officer@kent.gov.uk"));

        // Duplicate name (other case): 409, form shown again, nothing added.
        let dup = c
            .submit(
                "/orgs/new",
                "/orgs",
                &[
                    ("name", "KENT county council"),
                    ("council_type", "unitary"),
                    ("renewal_date", "2027-04-01"),
                    ("employers_member", "on"),
                ],
            )
            .await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
        assert!(dup.contains("already exists"));
        // Invalid fields: 422 with an error summary naming each field.
        let bad = c
            .submit(
                "/orgs/new",
                "/orgs",
                &[
                    ("name", "X"),
                    ("council_type", "parish"),
                    ("renewal_date", "1/4/27"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.contains("There is a problem")
                && bad.contains("Type of organisation")
                && bad.contains("Renewal date")
        );
        assert_eq!(app.store.list_orgs().await.expect("list").len(), 1);

        let list = c.get("/orgs").await;
        assert!(list.contains("Kent County Council") && list.contains("1 organisations"));
        let fees = c.get("/fees").await;
        assert_eq!(fees.status, StatusCode::OK);
        assert!(fees.contains("£1,200") && fees.contains("£750") && fees.contains("£600"));
        let audit = c.get("/audit").await;
        assert!(audit.contains("org.create") && audit.contains("auth.login"));
    }
}

#[tokio::test]
async fn invitation_to_lead_to_named_users_with_tenant_isolation() {
    for app in apps().await {
        app.user("ops@warp.example", Role::Operator, None).await;
        let ashford = app
            .org("Ashford Borough Council", "district_borough", true)
            .await;
        let dover = app
            .org("Dover District Council", "district_borough", true)
            .await;
        let dover_user = app
            .user("someone@dover.gov.uk", Role::MemberUser, Some(dover.id))
            .await;

        let op = app.client().signed_in("ops@warp.example").await;
        let path = format!("/orgs/{}", ashford.id);
        let issued = op
            .submit(
                &path,
                &format!("{path}/invitations"),
                &[("email", "lead@ashford.gov.uk"), ("role", "member_lead")],
            )
            .await;
        assert_eq!(
            issued.status,
            StatusCode::CREATED,
            "{}: {}",
            app.backend(),
            issued.body
        );
        let invite_path = issued_path(&issued, &app.base);

        // The invitee, in a browser of their own.
        let lead = app.client();
        let form = lead.get(&invite_path).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.contains("lead@ashford.gov.uk") && form.contains("Ashford Borough Council"));
        let weak = lead
            .submit(
                &invite_path,
                &invite_path,
                &[
                    ("display_name", "Alex Lead"),
                    ("password", "short"),
                    ("password_confirm", "short"),
                ],
            )
            .await;
        assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(weak.contains("at least 12 characters"));
        let mismatch = lead
            .submit(
                &invite_path,
                &invite_path,
                &[
                    ("display_name", "Alex Lead"),
                    ("password", PASSWORD),
                    ("password_confirm", "something else entirely"),
                ],
            )
            .await;
        assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
        let accepted = lead
            .submit(
                &invite_path,
                &invite_path,
                &[
                    ("display_name", "Alex Lead"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
        assert_eq!(accepted.location.as_deref(), Some("/login?notice=welcome"));
        // The link is single-use.
        assert_eq!(lead.get(&invite_path).await.status, StatusCode::GONE);

        let lead = lead.signed_in("lead@ashford.gov.uk").await;
        let mine = lead.get("/my-org").await;
        assert_eq!(mine.location.as_deref(), Some(path.as_str()));
        let own = lead.get(&path).await;
        assert_eq!(own.status, StatusCode::OK);
        assert!(own.contains("Alex Lead") && own.contains("Invite a named user"));
        // Another member's page does not exist for this lead, nor do operator pages.
        assert_eq!(
            lead.get(&format!("/orgs/{}", dover.id)).await.status,
            StatusCode::NOT_FOUND
        );
        for operator_only in ["/orgs", "/fees", "/audit", "/operators", "/orgs/new"] {
            assert_eq!(
                lead.get(operator_only).await.status,
                StatusCode::FORBIDDEN,
                "{operator_only}"
            );
        }

        // The lead invites a member user into their own organisation…
        let invited = lead
            .submit(
                &path,
                &format!("{path}/invitations"),
                &[("email", "analyst@ashford.gov.uk"), ("role", "member_user")],
            )
            .await;
        assert_eq!(invited.status, StatusCode::CREATED);
        // …but not into someone else's, and cannot make operators.
        let csrf = lead.get(&path).await.csrf();
        let foreign = lead
            .post(
                &format!("/orgs/{}/invitations", dover.id),
                &[
                    ("email", "x@dover.gov.uk"),
                    ("role", "member_user"),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
        let op_role = lead
            .post(
                &format!("{path}/invitations"),
                &[
                    ("email", "y@ashford.gov.uk"),
                    ("role", "operator"),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(op_role.status, StatusCode::UNPROCESSABLE_ENTITY);
        let operator_invite = lead
            .post(
                "/operators/invitations",
                &[("email", "z@ashford.gov.uk"), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(operator_invite.status, StatusCode::FORBIDDEN);
        // Nor may they act on another organisation's users.
        let other_user = lead
            .post(
                &format!("/users/{}/disable", dover_user.id),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(other_user.status, StatusCode::NOT_FOUND);
        assert!(
            !app.store
                .get_user(dover_user.id)
                .await
                .expect("get")
                .expect("exists")
                .disabled
        );
        let pending = app
            .store
            .pending_invitations(Some(dover.id), now())
            .await
            .expect("pending");
        assert!(pending.is_empty());

        // Duplicate invitation of an existing account: 409.
        let dup = lead
            .submit(
                &path,
                &format!("{path}/invitations"),
                &[("email", "lead@ashford.gov.uk"), ("role", "member_user")],
            )
            .await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
    }
}

#[tokio::test]
async fn expired_and_withdrawn_invitations_cannot_be_used() {
    for app in apps().await {
        let op = app.user("ops@warp.example", Role::Operator, None).await;
        let org = app
            .org("Lewes District Council", "district_borough", true)
            .await;
        let email = Email::parse("late@lewes.gov.uk").expect("email");
        let (_, old) = app
            .store
            .create_invitation(
                &email,
                Role::MemberUser,
                Some(org.id),
                Some(op.id),
                now() - Duration::days(8),
                Duration::days(7),
            )
            .await
            .expect("invite");
        let c = app.client();
        let page = c.get(&format!("/invite/{old}")).await;
        assert_eq!(page.status, StatusCode::GONE);
        assert!(page.contains("expired"));
        assert_eq!(
            c.get("/invite/not-a-real-token").await.status,
            StatusCode::NOT_FOUND
        );

        let ops = app.client().signed_in("ops@warp.example").await;
        let path = format!("/orgs/{}", org.id);
        let issued = ops
            .submit(
                &path,
                &format!("{path}/invitations"),
                &[("email", "w@lewes.gov.uk"), ("role", "member_user")],
            )
            .await;
        let link = issued_path(&issued, &app.base);
        let inv = app
            .store
            .pending_invitations(Some(org.id), now())
            .await
            .expect("pending");
        let revoke = ops
            .submit(
                &path,
                &format!("{path}/invitations/{}/revoke", inv[0].id),
                &[],
            )
            .await;
        assert_eq!(revoke.status, StatusCode::SEE_OTHER);
        let gone = c.get(&link).await;
        assert_eq!(gone.status, StatusCode::GONE);
        assert!(gone.contains("withdrawn"));
    }
}

#[tokio::test]
async fn leads_manage_their_own_users_and_resets_work_once() {
    for app in apps().await {
        let org = app
            .org("Wealden District Council", "district_borough", true)
            .await;
        app.user("lead@wealden.gov.uk", Role::MemberLead, Some(org.id))
            .await;
        let member = app
            .user("user@wealden.gov.uk", Role::MemberUser, Some(org.id))
            .await;
        let member_client = app.client().signed_in("user@wealden.gov.uk").await;
        let lead = app.client().signed_in("lead@wealden.gov.uk").await;
        let path = format!("/orgs/{}", org.id);

        // Member users see their organisation but cannot manage it.
        let seen = member_client.get(&path).await;
        assert_eq!(seen.status, StatusCode::OK);
        assert!(!seen.contains("Invite a named user"));
        let csrf = seen.csrf();
        let refused = member_client
            .post(
                &format!("{path}/invitations"),
                &[
                    ("email", "a@wealden.gov.uk"),
                    ("role", "member_user"),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);

        // A reset link for the member: the lead gets it once.
        let reset = lead
            .submit(&path, &format!("/users/{}/reset", member.id), &[])
            .await;
        assert_eq!(reset.status, StatusCode::CREATED, "{}", reset.body);
        let reset_path = issued_path(&reset, &app.base);

        // The lead disables the member: their session ends at once.
        let disabled = lead
            .submit(&path, &format!("/users/{}/disable", member.id), &[])
            .await;
        assert_eq!(disabled.status, StatusCode::SEE_OTHER);
        assert_eq!(
            member_client.get("/dashboard").await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            app.client()
                .login("user@wealden.gov.uk", PASSWORD)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        let enabled = lead
            .submit(&path, &format!("/users/{}/enable", member.id), &[])
            .await;
        assert_eq!(enabled.status, StatusCode::SEE_OTHER);

        // The member uses the reset link; the old password stops working.
        let anon = app.client();
        let new_password = "a brand new passphrase here";
        let set = anon
            .submit(
                &reset_path,
                &reset_path,
                &[
                    ("password", new_password),
                    ("password_confirm", new_password),
                ],
            )
            .await;
        assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
        assert_eq!(anon.get(&reset_path).await.status, StatusCode::GONE);
        assert_eq!(
            app.client()
                .login("user@wealden.gov.uk", PASSWORD)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.client()
                .login("user@wealden.gov.uk", new_password)
                .await
                .status,
            StatusCode::SEE_OTHER
        );

        // A lead cannot disable themselves.
        let me = app
            .store
            .find_user_by_email("lead@wealden.gov.uk")
            .await
            .expect("find")
            .expect("exists")
            .user;
        let own = lead
            .submit(&path, &format!("/users/{}/disable", me.id), &[])
            .await;
        assert_eq!(own.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn leads_edit_governance_but_not_membership_terms() {
    for app in apps().await {
        let org = app
            .org("Horsham District Council", "district_borough", true)
            .await;
        app.user("lead@horsham.gov.uk", Role::MemberLead, Some(org.id))
            .await;
        let lead = app.client().signed_in("lead@horsham.gov.uk").await;
        let edit = format!("/orgs/{}/edit", org.id);
        let form = lead.get(&edit).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(
            !form.contains("name=\"council_type\""),
            "leads must not see membership fields"
        );
        // Posting membership fields anyway changes nothing but governance.
        let saved = lead
            .submit(
                &edit,
                &edit,
                &[
                    ("name", "Renamed By Lead"),
                    ("council_type", "county"),
                    ("lead_member_name", "Cllr Pat Jones"),
                    ("lead_member_email", "pat.jones@horsham.gov.uk"),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let stored = app
            .store
            .get_org(org.id)
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(stored.name, "Horsham District Council");
        assert_eq!(stored.council_type, org.council_type);
        assert_eq!(stored.governance.lead_member.name, "Cllr Pat Jones");
        let bad = lead
            .submit(&edit, &edit, &[("lead_member_email", "not an email")])
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            app.store
                .get_org(OrgId(org.id.0))
                .await
                .expect("get")
                .expect("exists")
                .governance,
            stored.governance
        );
    }
}

#[tokio::test]
async fn suspended_members_cannot_sign_in() {
    for app in apps().await {
        let org = app
            .org("Crawley Borough Council", "district_borough", true)
            .await;
        app.user("lead@crawley.gov.uk", Role::MemberLead, Some(org.id))
            .await;
        let lead = app.client().signed_in("lead@crawley.gov.uk").await;
        let mut draft = org.draft();
        draft.status = openwarp_core::MembershipStatus::Suspended;
        app.store
            .update_org(org.id, &draft, now())
            .await
            .expect("suspend");
        assert_eq!(lead.get("/dashboard").await.status, StatusCode::SEE_OTHER);
        assert_eq!(
            app.client()
                .login("lead@crawley.gov.uk", PASSWORD)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn account_page_changes_password_and_manages_tokens() {
    for app in apps().await {
        app.user("ops@warp.example", Role::Operator, None).await;
        let c = app.client().signed_in("ops@warp.example").await;
        let other = app.client().signed_in("ops@warp.example").await;
        let wrong = c
            .submit(
                "/account",
                "/account/password",
                &[
                    ("current_password", "nope"),
                    ("password", "another good passphrase"),
                    ("password_confirm", "another good passphrase"),
                ],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.contains("Your current password is not right"));
        let changed = c
            .submit(
                "/account",
                "/account/password",
                &[
                    ("current_password", PASSWORD),
                    ("password", "another good passphrase"),
                    ("password_confirm", "another good passphrase"),
                ],
            )
            .await;
        assert_eq!(changed.status, StatusCode::SEE_OTHER);
        // This session continues; the other one was signed out.
        assert_eq!(c.get("/account").await.status, StatusCode::OK);
        assert_eq!(other.get("/account").await.status, StatusCode::SEE_OTHER);

        let created = c
            .submit(
                "/account",
                "/account/tokens",
                &[("token_name", "inventory sync")],
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
        let secret = text_until(&created.body, "data-testid=\"new-token\">", '<');
        let secret = secret.expect("token shown");
        let me = app
            .client()
            .http
            .get(app.url("/api/v1/me"))
            .bearer_auth(&secret)
            .send()
            .await
            .expect("me");
        assert_eq!(me.status(), StatusCode::OK);
        let empty = c
            .submit("/account", "/account/tokens", &[("token_name", "  ")])
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

//! The storage contract, run against every backend: SQLite always, PostgreSQL
//! when `OPENWARP_TEST_POSTGRES_URL` is set (always under `cargo xtask ci`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: failing loudly is the point

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use openwarp_core::membership::OrganisationInput;
use openwarp_core::{Email, OrgId, OrganisationDraft, Role, UserId};
use openwarp_store::testing::{TestDb, all_backends};
use openwarp_store::{
    AcceptError, AuditEntry, InvitationState, NewUser, Store, StoreError, TokenUse,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0)
        .single()
        .expect("valid time")
}

fn draft(name: &str, kind: &str) -> OrganisationDraft {
    OrganisationInput {
        name: name.into(),
        council_type: kind.into(),
        employers_member: true,
        renewal_date: "2027-04-01".into(),
        senior_officer_name: "Sam Officer".into(),
        senior_officer_email: "sam.officer@example.gov.uk".into(),
        ..OrganisationInput::default()
    }
    .validate()
    .expect("valid draft")
}

fn email(s: &str) -> Email {
    Email::parse(s).expect("valid e-mail")
}

async fn user(store: &Store, addr: &str, role: Role, org: Option<OrgId>) -> openwarp_store::User {
    store
        .create_user(
            &NewUser {
                email: email(addr),
                display_name: addr.split('@').next().unwrap_or("x").into(),
                role,
                org_id: org,
                password_hash: "$argon2id$placeholder".into(),
            },
            t0(),
        )
        .await
        .expect("create user")
}

async fn backends() -> Vec<TestDb> {
    let dbs = all_backends().await;
    for db in &dbs {
        eprintln!("running on {}", db.backend().name());
    }
    dbs
}

#[tokio::test]
async fn migrations_are_idempotent() {
    for db in backends().await {
        db.store.migrate().await.expect("second migrate is a no-op");
        db.store.ping().await.expect("ping");
    }
}

#[tokio::test]
async fn organisations_round_trip_and_names_are_unique() {
    for db in backends().await {
        let s = &db.store;
        let kent = s
            .create_org(&draft("Kent County Council", "county"), t0())
            .await
            .expect("create");
        assert_eq!(kent.name, "Kent County Council");
        assert_eq!(
            kent.renewal_date,
            NaiveDate::from_ymd_opt(2027, 4, 1).expect("date")
        );
        assert_eq!(
            kent.governance.senior_officer.email,
            "sam.officer@example.gov.uk"
        );
        assert_eq!(kent.created_at, t0());
        assert_eq!(s.get_org(kent.id).await.expect("get"), Some(kent.clone()));

        // Same name in another case and spacing is a conflict and writes nothing.
        let dup = s
            .create_org(&draft("kent  county COUNCIL", "unitary"), t0())
            .await;
        assert!(
            matches!(dup, Err(StoreError::Conflict(ref m)) if m.contains("already exists")),
            "{dup:?}"
        );
        assert_eq!(s.list_orgs().await.expect("list").len(), 1);

        let medway = s
            .create_org(&draft("Medway Council", "unitary"), t0())
            .await
            .expect("create");
        let names: Vec<_> = s
            .list_orgs()
            .await
            .expect("list")
            .into_iter()
            .map(|o| o.name)
            .collect();
        assert_eq!(names, ["Kent County Council", "Medway Council"]);

        // Renaming onto an existing name is refused and leaves the record unchanged.
        let clash = s
            .update_org(medway.id, &draft("KENT county council", "unitary"), t0())
            .await;
        assert!(matches!(clash, Err(StoreError::Conflict(_))));
        assert_eq!(
            s.get_org(medway.id).await.expect("get"),
            Some(medway.clone())
        );

        let mut changed = medway.draft();
        changed.employers_member = false;
        changed.governance.lead_member.name = "Cllr Jones".into();
        let later = t0() + Duration::hours(1);
        let updated = s
            .update_org(medway.id, &changed, later)
            .await
            .expect("update");
        assert!(!updated.employers_member);
        assert_eq!(updated.governance.lead_member.name, "Cllr Jones");
        assert_eq!(updated.updated_at, later);
        assert_eq!(updated.created_at, t0());

        assert!(matches!(
            s.update_org(OrgId(9999), &changed, later).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(
            s.find_org_by_name(" medway   council ")
                .await
                .expect("find")
                .map(|o| o.id),
            Some(medway.id)
        );
    }
}

#[tokio::test]
async fn users_are_unique_by_email_and_tied_to_their_role() {
    for db in backends().await {
        let s = &db.store;
        let org = s
            .create_org(&draft("Dover District Council", "district_borough"), t0())
            .await
            .expect("org");
        let op = user(s, "ops@warp.example", Role::Operator, None).await;
        let lead = user(s, "Lead@Dover.gov.uk", Role::MemberLead, Some(org.id)).await;
        assert_eq!(lead.email, "lead@dover.gov.uk");
        assert_eq!(lead.actor().org_id, Some(org.id));

        let dup = s
            .create_user(
                &NewUser {
                    email: email("LEAD@dover.gov.uk"),
                    display_name: "Someone".into(),
                    role: Role::MemberUser,
                    org_id: Some(org.id),
                    password_hash: "x".into(),
                },
                t0(),
            )
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");

        // An operator cannot belong to an organisation, a member must.
        let bad = s
            .create_user(
                &NewUser {
                    email: email("x@warp.example"),
                    display_name: "X".into(),
                    role: Role::Operator,
                    org_id: Some(org.id),
                    password_hash: "x".into(),
                },
                t0(),
            )
            .await;
        assert!(matches!(bad, Err(StoreError::Conflict(_))));

        // Foreign keys are enforced: no user in an organisation that does not exist.
        let orphan = s
            .create_user(
                &NewUser {
                    email: email("orphan@nowhere.gov.uk"),
                    display_name: "Orphan".into(),
                    role: Role::MemberUser,
                    org_id: Some(OrgId(424242)),
                    password_hash: "x".into(),
                },
                t0(),
            )
            .await;
        assert!(matches!(orphan, Err(StoreError::Database(_))), "{orphan:?}");

        let found = s
            .find_user_by_email("  LEAD@DOVER.GOV.UK ")
            .await
            .expect("find")
            .expect("exists");
        assert_eq!(found.user.id, lead.id);
        assert_eq!(found.password_hash, "$argon2id$placeholder");

        let member = user(s, "user@dover.gov.uk", Role::MemberUser, Some(org.id)).await;
        let in_org: Vec<_> = s
            .list_users(Some(org.id))
            .await
            .expect("list")
            .into_iter()
            .map(|u| u.id)
            .collect();
        assert_eq!(in_org, [lead.id, member.id]);
        let ops: Vec<_> = s
            .list_users(None)
            .await
            .expect("list")
            .into_iter()
            .map(|u| u.id)
            .collect();
        assert_eq!(ops, [op.id]);
        assert_eq!(s.user_counts().await.expect("counts"), [(org.id, 2)]);

        s.set_user_disabled(member.id, true, t0())
            .await
            .expect("disable");
        assert!(
            s.get_user(member.id)
                .await
                .expect("get")
                .expect("exists")
                .disabled
        );
        assert_eq!(s.user_counts().await.expect("counts"), [(org.id, 1)]);
        assert!(matches!(
            s.set_user_disabled(UserId(777), true, t0()).await,
            Err(StoreError::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn invitations_are_single_use_and_expire() {
    for db in backends().await {
        let s = &db.store;
        let org = s
            .create_org(&draft("Ashford Borough Council", "district_borough"), t0())
            .await
            .expect("org");
        let op = user(s, "ops@warp.example", Role::Operator, None).await;
        let week = Duration::days(7);

        let (inv, token) = s
            .create_invitation(
                &email("new.lead@ashford.gov.uk"),
                Role::MemberLead,
                Some(org.id),
                Some(op.id),
                t0(),
                week,
            )
            .await
            .expect("invite");
        assert_eq!(inv.state(t0()), InvitationState::Pending);
        assert_eq!(inv.expires_at, t0() + week);
        assert_eq!(
            s.pending_invitations(Some(org.id), t0())
                .await
                .expect("pending")
                .len(),
            1
        );
        assert_eq!(
            s.invitation_by_token(&token)
                .await
                .expect("lookup")
                .map(|i| i.id),
            Some(inv.id)
        );

        let created = s
            .accept_invitation(&token, "New Lead", "hash", t0() + Duration::hours(1))
            .await
            .expect("accept");
        assert_eq!(created.role, Role::MemberLead);
        assert_eq!(created.org_id, Some(org.id));
        assert_eq!(created.email, "new.lead@ashford.gov.uk");

        let again = s
            .accept_invitation(&token, "Second Go", "hash", t0() + Duration::hours(2))
            .await;
        assert!(matches!(again, Err(AcceptError::AlreadyUsed)), "{again:?}");
        assert!(
            s.pending_invitations(Some(org.id), t0())
                .await
                .expect("pending")
                .is_empty()
        );

        // Inviting someone who already has an account is refused up front.
        let taken = s
            .create_invitation(
                &email("new.lead@ashford.gov.uk"),
                Role::MemberUser,
                Some(org.id),
                Some(op.id),
                t0(),
                week,
            )
            .await;
        assert!(matches!(taken, Err(StoreError::Conflict(_))));

        let (_, late) = s
            .create_invitation(
                &email("late@ashford.gov.uk"),
                Role::MemberUser,
                Some(org.id),
                Some(op.id),
                t0(),
                week,
            )
            .await
            .expect("invite");
        let expired = s
            .accept_invitation(&late, "Late", "hash", t0() + week + Duration::seconds(1))
            .await;
        assert!(matches!(expired, Err(AcceptError::Expired)));
        assert!(
            s.find_user_by_email("late@ashford.gov.uk")
                .await
                .expect("find")
                .is_none()
        );

        let (withdrawn, w_token) = s
            .create_invitation(
                &email("w@ashford.gov.uk"),
                Role::MemberUser,
                Some(org.id),
                Some(op.id),
                t0(),
                week,
            )
            .await
            .expect("invite");
        assert!(
            s.revoke_invitation(withdrawn.id, t0())
                .await
                .expect("revoke")
        );
        assert!(
            !s.revoke_invitation(withdrawn.id, t0())
                .await
                .expect("revoke twice")
        );
        assert!(matches!(
            s.accept_invitation(&w_token, "W", "h", t0()).await,
            Err(AcceptError::Revoked)
        ));
        assert!(matches!(
            s.accept_invitation("nonsense", "W", "h", t0()).await,
            Err(AcceptError::NotFound)
        ));

        // Two invitations to one address: once one is used, the other fails and stays unused.
        let (_, first) = s
            .create_invitation(
                &email("twice@ashford.gov.uk"),
                Role::MemberUser,
                Some(org.id),
                Some(op.id),
                t0(),
                week,
            )
            .await
            .expect("invite");
        let (second_inv, second) = s
            .create_invitation(
                &email("twice@ashford.gov.uk"),
                Role::MemberUser,
                Some(org.id),
                Some(op.id),
                t0(),
                week,
            )
            .await
            .expect("invite");
        s.accept_invitation(&first, "Twice", "h", t0())
            .await
            .expect("accept first");
        assert!(matches!(
            s.accept_invitation(&second, "Twice", "h", t0()).await,
            Err(AcceptError::EmailTaken(_))
        ));
        let second_inv = s
            .get_invitation(second_inv.id)
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(second_inv.accepted_at, None);

        // Role and organisation must agree.
        let bad = s
            .create_invitation(
                &email("op2@warp.example"),
                Role::Operator,
                Some(org.id),
                None,
                t0(),
                week,
            )
            .await;
        assert!(matches!(bad, Err(StoreError::Conflict(_))));
    }
}

#[tokio::test]
async fn sessions_expire_slide_and_end_when_user_is_disabled() {
    for db in backends().await {
        let s = &db.store;
        let org = s
            .create_org(&draft("Lewes District Council", "district_borough"), t0())
            .await
            .expect("org");
        let u = user(s, "u@lewes.gov.uk", Role::MemberUser, Some(org.id)).await;
        let ttl = Duration::hours(8);
        let (token, session) = s.create_session(&u, t0(), ttl).await.expect("session");
        assert_eq!(session.expires_at, t0() + ttl);

        let found = s
            .session_by_token(&token, t0() + Duration::hours(2), ttl, Duration::hours(12))
            .await
            .expect("lookup")
            .expect("live");
        assert_eq!(found.user.id, u.id);
        assert_eq!(found.csrf_token, session.csrf_token);
        // Activity slid the expiry forward.
        assert_eq!(found.expires_at, t0() + Duration::hours(2) + ttl);
        // Past the original expiry but within the slid one: still live (and slides again).
        let at9 = t0() + Duration::hours(9);
        assert!(
            s.session_by_token(&token, at9, ttl, Duration::hours(12))
                .await
                .expect("lookup")
                .is_some()
        );
        assert!(
            s.session_by_token(
                &token,
                at9 + ttl + Duration::seconds(1),
                ttl,
                Duration::hours(12)
            )
            .await
            .expect("lookup")
            .is_none()
        );
        assert!(
            s.session_by_token("wrong", t0(), ttl, Duration::hours(12))
                .await
                .expect("lookup")
                .is_none()
        );

        let (token2, _) = s.create_session(&u, t0(), ttl).await.expect("session");
        s.set_user_disabled(u.id, true, t0())
            .await
            .expect("disable");
        assert!(
            s.session_by_token(&token2, t0(), ttl, Duration::hours(12))
                .await
                .expect("lookup")
                .is_none()
        );
        s.set_user_disabled(u.id, false, t0())
            .await
            .expect("enable");
        // Disabling deleted the session: re-enabling does not bring it back.
        assert!(
            s.session_by_token(&token2, t0(), ttl, Duration::hours(12))
                .await
                .expect("lookup")
                .is_none()
        );

        let (token3, _) = s.create_session(&u, t0(), ttl).await.expect("session");
        s.delete_session(&token3).await.expect("sign out");
        assert!(
            s.session_by_token(&token3, t0(), ttl, Duration::hours(12))
                .await
                .expect("lookup")
                .is_none()
        );
        let (token4, _) = s.create_session(&u, t0(), ttl).await.expect("session");
        assert_eq!(
            s.purge_expired(t0() + Duration::days(30))
                .await
                .expect("purge"),
            1
        );
        assert!(
            s.session_by_token(&token4, t0(), ttl, Duration::hours(12))
                .await
                .expect("lookup")
                .is_none()
        );
    }
}

#[tokio::test]
async fn password_resets_are_single_use_and_end_sessions() {
    for db in backends().await {
        let s = &db.store;
        let op = user(s, "ops@warp.example", Role::Operator, None).await;
        let ttl = Duration::hours(8);
        let (session, _) = s.create_session(&op, t0(), ttl).await.expect("session");

        let old = s
            .create_password_reset(op.id, None, t0(), Duration::hours(1))
            .await
            .expect("reset");
        let token = s
            .create_password_reset(op.id, None, t0(), Duration::hours(1))
            .await
            .expect("reset");
        // Issuing a new link cancels the previous one.
        assert_eq!(
            s.password_reset_user(&old, t0())
                .await
                .expect("lookup")
                .err(),
            Some(TokenUse::Used)
        );
        assert_eq!(
            s.password_reset_user(&token, t0())
                .await
                .expect("lookup")
                .map(|u| u.id),
            Ok(op.id)
        );
        assert_eq!(
            s.password_reset_user(&token, t0() + Duration::hours(2))
                .await
                .expect("lookup")
                .err(),
            Some(TokenUse::Expired)
        );

        assert_eq!(
            s.use_password_reset(&token, "new-hash", t0())
                .await
                .expect("use"),
            Ok(op.id)
        );
        assert_eq!(
            s.use_password_reset(&token, "other", t0())
                .await
                .expect("use"),
            Err(TokenUse::Used)
        );
        assert_eq!(
            s.use_password_reset("nope", "other", t0())
                .await
                .expect("use"),
            Err(TokenUse::Unknown)
        );
        let stored = s
            .find_user_by_email("ops@warp.example")
            .await
            .expect("find")
            .expect("exists");
        assert_eq!(stored.password_hash, "new-hash");
        assert!(
            s.session_by_token(&session, t0(), ttl, Duration::hours(12))
                .await
                .expect("lookup")
                .is_none()
        );

        let late = s
            .create_password_reset(op.id, None, t0(), Duration::hours(1))
            .await
            .expect("reset");
        assert_eq!(
            s.use_password_reset(&late, "late", t0() + Duration::hours(2))
                .await
                .expect("use"),
            Err(TokenUse::Expired)
        );
        let stored = s
            .find_user_by_email("ops@warp.example")
            .await
            .expect("find")
            .expect("exists");
        assert_eq!(stored.password_hash, "new-hash");
    }
}

#[tokio::test]
async fn api_tokens_authenticate_until_revoked() {
    for db in backends().await {
        let s = &db.store;
        let a = user(s, "a@warp.example", Role::Operator, None).await;
        let b = user(s, "b@warp.example", Role::Operator, None).await;
        let (meta, secret) = s
            .create_api_token(a.id, "reporting script", t0())
            .await
            .expect("token");
        assert!(secret.starts_with("owp_"));
        assert_eq!(
            s.api_token_user(&secret, t0())
                .await
                .expect("auth")
                .map(|u| u.id),
            Some(a.id)
        );
        let listed = s.list_api_tokens(a.id).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].last_used_at, Some(t0()));
        assert!(s.list_api_tokens(b.id).await.expect("list").is_empty());

        // Someone else's token cannot be revoked.
        assert!(
            !s.revoke_api_token(b.id, meta.id, t0())
                .await
                .expect("revoke")
        );
        assert!(
            s.api_token_user(&secret, t0())
                .await
                .expect("auth")
                .is_some()
        );
        assert!(
            s.revoke_api_token(a.id, meta.id, t0())
                .await
                .expect("revoke")
        );
        assert!(
            s.api_token_user(&secret, t0())
                .await
                .expect("auth")
                .is_none()
        );

        let (_, secret2) = s
            .create_api_token(a.id, "second", t0())
            .await
            .expect("token");
        s.set_user_disabled(a.id, true, t0())
            .await
            .expect("disable");
        assert!(
            s.api_token_user(&secret2, t0())
                .await
                .expect("auth")
                .is_none()
        );
    }
}

#[tokio::test]
async fn login_failures_are_counted_per_address_and_ip() {
    for db in backends().await {
        let s = &db.store;
        for i in 0..3 {
            s.record_login_failure("x@y.gov.uk", "10.0.0.1", t0() + Duration::minutes(i))
                .await
                .expect("record");
        }
        s.record_login_failure("z@y.gov.uk", "10.0.0.1", t0())
            .await
            .expect("record");
        let f = s
            .login_failures_since("x@y.gov.uk", "10.0.0.1", t0() - Duration::minutes(1))
            .await
            .expect("count");
        assert_eq!((f.for_email, f.from_ip), (3, 4));
        let f = s
            .login_failures_since("x@y.gov.uk", "10.0.0.9", t0() + Duration::seconds(30))
            .await
            .expect("count");
        assert_eq!((f.for_email, f.from_ip), (2, 0));
        s.clear_login_failures("x@y.gov.uk").await.expect("clear");
        let f = s
            .login_failures_since("x@y.gov.uk", "10.0.0.1", t0() - Duration::minutes(1))
            .await
            .expect("count");
        assert_eq!((f.for_email, f.from_ip), (0, 1));
    }
}

#[tokio::test]
async fn audit_log_is_newest_first_and_pages() {
    for db in backends().await {
        let s = &db.store;
        for i in 0..5 {
            s.audit(
                AuditEntry {
                    actor_user_id: None,
                    actor: "cli",
                    action: "org.create",
                    org_id: None,
                    target: &format!("org:{i}"),
                    detail: serde_json::json!({ "n": i }),
                    ip: None,
                },
                t0() + Duration::seconds(i),
            )
            .await
            .expect("audit");
        }
        let page = s.audit_log(2, None).await.expect("log");
        let targets: Vec<_> = page.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(targets, ["org:4", "org:3"]);
        assert_eq!(page[0].detail, r#"{"n":4}"#);
        let next = s.audit_log(10, Some(page[1].id)).await.expect("log");
        assert_eq!(next.len(), 3);
        assert_eq!(next[0].target, "org:2");
    }
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode() {
    let db = openwarp_store::testing::sqlite().await;
    let org = db
        .store
        .create_org(&draft("Wealden District Council", "district_borough"), t0())
        .await
        .expect("org");
    assert!(org.id.0 > 0);
    let path = db.url.trim_start_matches("sqlite://");
    assert!(
        std::path::Path::new(&format!("{path}-wal")).exists(),
        "no WAL file beside {path}"
    );
}

mod advisories {
    use super::t0;
    use chrono::{Duration, NaiveDate};
    use openwarp_advisory::{
        Affected, CvssScore, CvssVersion, EpssRun, EpssScore, KevEntry, RecordState, Severity,
        SourceKind, SourceRecord,
    };
    use openwarp_store::testing::all_backends;
    use openwarp_store::{AdvisoryFilter, KnownRecords};

    fn record(source: SourceKind, id: &str, vuln: &str, score: Option<f64>) -> SourceRecord {
        SourceRecord {
            source,
            record_id: id.into(),
            vuln_id: vuln.into(),
            aliases: vec![],
            state: RecordState::Published,
            title: None,
            description: Some(format!(
                "{vuln}: remote code execution in Example Server. Details."
            )),
            published: Some(t0() - Duration::days(3)),
            modified: Some(t0() - Duration::days(1)),
            publisher: Some("test".into()),
            cvss: score
                .map(|s| CvssScore {
                    version: CvssVersion::V31,
                    vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
                    base_score: s,
                    severity: Severity::from_score(s),
                    stated_score: None,
                    assessor: "nvd@nist.gov".into(),
                    kind: Some("Primary".into()),
                })
                .into_iter()
                .collect(),
            cwes: vec!["CWE-78".into()],
            references: vec![],
            affected: vec![Affected::Kev {
                vendor: "Example".into(),
                product: "Server".into(),
            }],
            remediations: vec![],
            kev: None,
            tlp: None,
        }
    }

    #[tokio::test]
    async fn ingest_is_idempotent_and_changes_are_logged() {
        for db in all_backends().await {
            let s = &db.store;
            let mut known = KnownRecords::default();
            let nvd = record(SourceKind::Nvd, "CVE-2024-0001", "CVE-2024-0001", Some(7.5));
            let mut osv = record(
                SourceKind::Osv,
                "GHSA-aaaa-bbbb-cccc",
                "CVE-2024-0001",
                None,
            );
            osv.aliases = vec!["GHSA-aaaa-bbbb-cccc".into()];
            let other = record(SourceKind::Nvd, "CVE-2024-0002", "CVE-2024-0002", Some(4.3));
            let counts = s
                .upsert_records(&[nvd.clone(), osv.clone(), other.clone()], &mut known, t0())
                .await
                .expect("ingest");
            assert_eq!(
                (counts.new, counts.changed, counts.unchanged),
                (3, 0, 0),
                "{}",
                db.backend().name()
            );

            // The same records again: nothing written, with or without the warm cache.
            let again = s
                .upsert_records(&[nvd.clone(), osv.clone(), other.clone()], &mut known, t0())
                .await
                .expect("ingest");
            assert_eq!((again.new, again.changed, again.unchanged), (0, 0, 3));
            let mut cold = KnownRecords::default();
            let again = s
                .upsert_records(std::slice::from_ref(&nvd), &mut cold, t0())
                .await
                .expect("ingest");
            assert_eq!(again.unchanged, 1);

            let detail = s
                .advisory("CVE-2024-0001")
                .await
                .expect("get")
                .expect("exists");
            assert_eq!(detail.records.len(), 2);
            assert_eq!(detail.row.cvss_score, Some(7.5));
            assert_eq!(detail.row.severity.as_deref(), Some("high"));
            assert_eq!(detail.row.sources, "nvd,osv");
            assert_eq!(detail.summary.aliases, ["GHSA-aaaa-bbbb-cccc"]);
            assert_eq!(detail.changes.len(), 2, "one 'new' per source record");
            assert_eq!(
                s.resolve_vuln_id("GHSA-aaaa-bbbb-cccc")
                    .await
                    .expect("alias")
                    .as_deref(),
                Some("CVE-2024-0001")
            );
            assert_eq!(
                s.resolve_vuln_id("CVE-2024-0002")
                    .await
                    .expect("id")
                    .as_deref(),
                Some("CVE-2024-0002")
            );
            assert_eq!(
                s.resolve_vuln_id("CVE-1999-9999").await.expect("none"),
                None
            );

            // NVD raises the score; KEV adds it.
            let mut raised = nvd.clone();
            raised.cvss[0].base_score = 9.8;
            raised.cvss[0].severity = Severity::Critical;
            let mut kev = record(SourceKind::Kev, "CVE-2024-0001", "CVE-2024-0001", None);
            kev.title = Some("Example Server RCE".into());
            kev.kev = Some(KevEntry {
                cve_id: "CVE-2024-0001".into(),
                vendor_project: "Example".into(),
                product: "Server".into(),
                vulnerability_name: "Example Server RCE".into(),
                date_added: NaiveDate::from_ymd_opt(2024, 5, 1).expect("date"),
                short_description: "RCE".into(),
                required_action: "Apply updates".into(),
                due_date: NaiveDate::from_ymd_opt(2024, 5, 22),
                known_ransomware_campaign_use: "Known".into(),
                notes: String::new(),
                cwes: vec![],
            });
            let later = t0() + Duration::hours(1);
            let counts = s
                .upsert_records(&[raised, kev], &mut known, later)
                .await
                .expect("ingest");
            assert_eq!((counts.new, counts.changed), (1, 1));
            let detail = s
                .advisory("CVE-2024-0001")
                .await
                .expect("get")
                .expect("exists");
            assert_eq!(detail.row.cvss_score, Some(9.8));
            assert_eq!(
                detail.row.kev_date_added,
                NaiveDate::from_ymd_opt(2024, 5, 1)
            );
            assert!(detail.row.kev_ransomware);
            assert_eq!(detail.summary.title, "Example Server RCE");
            let kinds: Vec<&str> = detail.changes.iter().map(|c| c.kind.as_str()).collect();
            assert!(
                kinds.contains(&"score_raised") && kinds.contains(&"added_to_kev"),
                "{kinds:?}"
            );

            // Rejection keeps the record and flags the advisory.
            let mut rejected = other.clone();
            rejected.state = RecordState::Rejected {
                reason: Some("duplicate".into()),
            };
            s.upsert_records(&[rejected], &mut known, later)
                .await
                .expect("ingest");
            let detail = s
                .advisory("CVE-2024-0002")
                .await
                .expect("get")
                .expect("kept");
            assert!(detail.row.rejected);
            assert_eq!(detail.changes[0].kind, "rejected");
            let page = s
                .list_advisories(&AdvisoryFilter::default(), 50, 0)
                .await
                .expect("list");
            assert_eq!(page.total, 1);
            let all = AdvisoryFilter {
                include_rejected: true,
                ..AdvisoryFilter::default()
            };
            assert_eq!(s.list_advisories(&all, 50, 0).await.expect("list").total, 2);

            // An OSV record that later learns its CVE moves to that advisory.
            let mut lonely = record(SourceKind::Osv, "GO-2024-0003", "GO-2024-0003", None);
            s.upsert_records(std::slice::from_ref(&lonely), &mut known, later)
                .await
                .expect("ingest");
            assert!(s.advisory("GO-2024-0003").await.expect("get").is_some());
            lonely.vuln_id = "CVE-2024-0001".into();
            lonely.aliases = vec!["GO-2024-0003".into()];
            s.upsert_records(&[lonely], &mut known, later)
                .await
                .expect("ingest");
            assert!(s.advisory("GO-2024-0003").await.expect("get").is_none());
            assert_eq!(
                s.resolve_vuln_id("GO-2024-0003")
                    .await
                    .expect("alias")
                    .as_deref(),
                Some("CVE-2024-0001")
            );
        }
    }

    #[tokio::test]
    async fn advisory_list_filters() {
        for db in all_backends().await {
            let s = &db.store;
            let mut known = KnownRecords::default();
            let mut a = record(SourceKind::Nvd, "CVE-2024-1000", "CVE-2024-1000", Some(9.8));
            a.affected = vec![Affected::Kev {
                vendor: "Fortinet".into(),
                product: "FortiOS".into(),
            }];
            let mut b = record(SourceKind::Nvd, "CVE-2024-2000", "CVE-2024-2000", Some(5.0));
            b.published = Some(t0() - Duration::days(400));
            b.modified = Some(t0() - Duration::days(300));
            let c = record(SourceKind::Nvd, "CVE-2024-3000", "CVE-2024-3000", None);
            s.upsert_records(&[a, b, c], &mut known, t0())
                .await
                .expect("ingest");
            let run = EpssRun {
                model_version: Some("v2025.03.14".into()),
                score_date: Some(t0()),
            };
            let scores = [
                EpssScore {
                    cve_id: "CVE-2024-1000".into(),
                    score: 0.94,
                    percentile: 0.99,
                },
                EpssScore {
                    cve_id: "CVE-2024-2000".into(),
                    score: 0.01,
                    percentile: 0.20,
                },
                EpssScore {
                    cve_id: "CVE-2099-0001".into(),
                    score: 0.5,
                    percentile: 0.5,
                },
            ];
            assert_eq!(s.upsert_epss(&scores, &run, t0()).await.expect("epss"), 3);
            assert_eq!(
                s.upsert_epss(&scores[..1], &run, t0())
                    .await
                    .expect("epss again"),
                1
            );

            let ids = |f: AdvisoryFilter| async move {
                s.list_advisories(&f, 50, 0)
                    .await
                    .expect("list")
                    .rows
                    .into_iter()
                    .map(|r| r.vuln_id)
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids(AdvisoryFilter::default()).await.len(), 3);
            assert_eq!(
                ids(AdvisoryFilter {
                    text: Some("fortinet".into()),
                    ..Default::default()
                })
                .await,
                ["CVE-2024-1000"]
            );
            assert_eq!(
                ids(AdvisoryFilter {
                    text: Some("100%".into()),
                    ..Default::default()
                })
                .await,
                Vec::<String>::new()
            );
            assert_eq!(
                ids(AdvisoryFilter {
                    min_severity: Some(Severity::High),
                    ..Default::default()
                })
                .await,
                ["CVE-2024-1000"]
            );
            assert_eq!(
                ids(AdvisoryFilter {
                    min_severity: Some(Severity::Medium),
                    ..Default::default()
                })
                .await
                .len(),
                2
            );
            assert_eq!(
                ids(AdvisoryFilter {
                    min_epss: Some(0.5),
                    ..Default::default()
                })
                .await,
                ["CVE-2024-1000"]
            );
            assert_eq!(
                ids(AdvisoryFilter {
                    vendor: Some("FORTINET".into()),
                    product: Some("fortios".into()),
                    ..Default::default()
                })
                .await,
                ["CVE-2024-1000"]
            );
            let recent = AdvisoryFilter {
                published_from: Some((t0() - Duration::days(30)).date_naive()),
                ..Default::default()
            };
            assert_eq!(ids(recent).await.len(), 2);
            let old = AdvisoryFilter {
                modified_to: Some((t0() - Duration::days(200)).date_naive()),
                ..Default::default()
            };
            assert_eq!(ids(old).await, ["CVE-2024-2000"]);
            let page = s
                .list_advisories(&AdvisoryFilter::default(), 1, 1)
                .await
                .expect("page");
            assert_eq!((page.rows.len(), page.total), (1, 3));
            let detail = s
                .advisory("CVE-2024-1000")
                .await
                .expect("get")
                .expect("exists");
            assert_eq!(detail.row.epss_score, Some(0.94));
        }
    }
}

mod feed_state {
    use super::{backends, t0};
    use chrono::Duration;
    use openwarp_store::{FeedOutcome, FeedRunCounts, FeedSuccess};

    #[tokio::test]
    async fn one_lease_holder_at_a_time_until_it_expires_or_is_released() {
        for db in backends().await {
            let s = &db.store;
            let ttl = Duration::minutes(10);
            assert_eq!(s.get_feed_state("kev").await.expect("get"), None);

            assert!(s.try_lease("kev", "a", t0(), ttl).await.expect("lease"));
            let st = s.get_feed_state("kev").await.expect("get").expect("row");
            assert_eq!(st.lease_holder.as_deref(), Some("a"));
            assert_eq!(st.lease_until, Some(t0() + ttl));
            assert_eq!(st.last_attempt_at, None);
            assert_eq!(st.consecutive_failures, 0);

            // Another holder is refused while the lease runs; the holder renews it.
            let later = t0() + Duration::minutes(5);
            assert!(!s.try_lease("kev", "b", later, ttl).await.expect("lease"));
            assert!(s.try_lease("kev", "a", later, ttl).await.expect("renew"));
            let st = s.get_feed_state("kev").await.expect("get").expect("row");
            assert_eq!(st.lease_until, Some(later + ttl));
            // Exactly at expiry the lease is free; another source is independent.
            assert!(s.try_lease("nvd", "b", later, ttl).await.expect("lease"));
            assert!(
                !s.try_lease("kev", "b", later + ttl - Duration::seconds(1), ttl)
                    .await
                    .expect("lease")
            );
            assert!(
                s.try_lease("kev", "b", later + ttl, ttl)
                    .await
                    .expect("expired")
            );
            // The old holder lost it: its writes change nothing.
            assert!(
                !s.save_feed_checkpoint("kev", "a", "x")
                    .await
                    .expect("checkpoint")
            );
            let ok = FeedSuccess {
                etag: Some("\"v1\"".into()),
                ..FeedSuccess::default()
            };
            assert!(
                !s.save_feed_success("kev", "a", &ok, later)
                    .await
                    .expect("save")
            );
            assert!(
                !s.save_feed_failure("kev", "a", "boom", FeedRunCounts::default(), later)
                    .await
                    .expect("save")
            );
            let st = s.get_feed_state("kev").await.expect("get").expect("row");
            assert_eq!(st.lease_holder.as_deref(), Some("b"));
            assert_eq!((st.etag, st.checkpoint, st.last_error), (None, None, None));

            // Releasing by a non-holder does nothing; by the holder frees it at once.
            s.release_lease("kev", "a").await.expect("release");
            assert!(
                !s.try_lease("kev", "c", later + ttl, ttl)
                    .await
                    .expect("lease")
            );
            s.release_lease("kev", "b").await.expect("release");
            assert!(
                s.try_lease("kev", "c", later + ttl, ttl)
                    .await
                    .expect("lease")
            );

            let names: Vec<_> = s
                .list_feed_states()
                .await
                .expect("list")
                .into_iter()
                .map(|f| f.name)
                .collect();
            assert_eq!(names, ["kev", "nvd"]);
        }
    }

    #[tokio::test]
    async fn instances_racing_for_a_lease_get_exactly_one_winner() {
        for db in backends().await {
            let mut racers = Vec::new();
            for i in 0..8 {
                let s = db.store.clone();
                racers.push(tokio::spawn(async move {
                    s.try_lease(
                        "epss",
                        &format!("instance-{i}"),
                        t0(),
                        Duration::minutes(10),
                    )
                    .await
                    .expect("lease")
                }));
            }
            let mut winners = 0;
            for r in racers {
                winners += usize::from(r.await.expect("join"));
            }
            assert_eq!(winners, 1, "on {}", db.backend().name());
        }
    }

    #[tokio::test]
    async fn success_and_failure_are_recorded_and_failures_keep_the_validators() {
        for db in backends().await {
            let s = &db.store;
            let ttl = Duration::minutes(10);
            let counts = FeedRunCounts {
                new: 5,
                changed: 1,
                unchanged: 2,
                stale: 0,
                rejected: 1,
                epss_scores: 0,
            };
            assert!(s.try_lease("nvd-api", "a", t0(), ttl).await.expect("lease"));
            assert!(
                s.save_feed_checkpoint("nvd-api", "a", "2026-08-01T00:00:00.000+00:00")
                    .await
                    .expect("checkpoint")
            );
            let st = s
                .get_feed_state("nvd-api")
                .await
                .expect("get")
                .expect("row");
            assert_eq!(
                st.checkpoint.as_deref(),
                Some("2026-08-01T00:00:00.000+00:00")
            );
            assert_eq!(
                st.lease_holder.as_deref(),
                Some("a"),
                "a checkpoint keeps the lease"
            );

            let t1 = t0() + Duration::minutes(1);
            let ok = FeedSuccess {
                not_modified: false,
                etag: Some("W/\"abc\"".into()),
                last_modified: Some("Mon, 23 Nov 2026 09:00:00 GMT".into()),
                checkpoint: Some("2026-11-23T09:31:00.000+00:00".into()),
                counts,
            };
            assert!(
                s.save_feed_success("nvd-api", "a", &ok, t1)
                    .await
                    .expect("save")
            );
            let st = s
                .get_feed_state("nvd-api")
                .await
                .expect("get")
                .expect("row");
            assert_eq!(st.etag.as_deref(), Some("W/\"abc\""));
            assert_eq!(
                st.last_modified.as_deref(),
                Some("Mon, 23 Nov 2026 09:00:00 GMT")
            );
            assert_eq!(
                st.checkpoint.as_deref(),
                Some("2026-11-23T09:31:00.000+00:00")
            );
            assert_eq!(st.last_attempt_at, Some(t1));
            assert_eq!(st.last_success_at, Some(t1));
            assert_eq!(st.last_outcome, Some(FeedOutcome::Updated));
            assert_eq!(st.last_counts, counts);
            assert_eq!(
                (st.lease_holder, st.lease_until),
                (None, None),
                "success releases the lease"
            );

            // Two failures: counted, the error kept, validators and checkpoint untouched.
            for (i, at) in [t1 + Duration::hours(1), t1 + Duration::hours(2)]
                .into_iter()
                .enumerate()
            {
                assert!(s.try_lease("nvd-api", "b", at, ttl).await.expect("lease"));
                let partial = FeedRunCounts {
                    new: 1,
                    ..FeedRunCounts::default()
                };
                assert!(
                    s.save_feed_failure(
                        "nvd-api",
                        "b",
                        "HTTP 503 from https://example.test/",
                        partial,
                        at
                    )
                    .await
                    .expect("save")
                );
                let st = s
                    .get_feed_state("nvd-api")
                    .await
                    .expect("get")
                    .expect("row");
                assert_eq!(st.consecutive_failures, i as u32 + 1);
                assert_eq!(st.last_outcome, Some(FeedOutcome::Failed));
                assert_eq!(
                    st.last_error.as_deref(),
                    Some("HTTP 503 from https://example.test/")
                );
                assert_eq!(st.last_attempt_at, Some(at));
                assert_eq!(st.last_success_at, Some(t1));
                assert_eq!(st.etag.as_deref(), Some("W/\"abc\""));
                assert_eq!(
                    st.checkpoint.as_deref(),
                    Some("2026-11-23T09:31:00.000+00:00")
                );
                assert_eq!(st.last_counts, partial);
                assert_eq!(st.lease_holder, None);
            }

            // A 304 clears the failures and says so.
            let t3 = t1 + Duration::hours(3);
            assert!(s.try_lease("nvd-api", "a", t3, ttl).await.expect("lease"));
            let not_modified = FeedSuccess {
                not_modified: true,
                ..ok.clone()
            };
            let not_modified = FeedSuccess {
                counts: FeedRunCounts::default(),
                ..not_modified
            };
            assert!(
                s.save_feed_success("nvd-api", "a", &not_modified, t3)
                    .await
                    .expect("save")
            );
            let st = s
                .get_feed_state("nvd-api")
                .await
                .expect("get")
                .expect("row");
            assert_eq!(st.last_outcome, Some(FeedOutcome::NotModified));
            assert_eq!((st.consecutive_failures, st.last_error), (0, None));
            assert_eq!(st.last_success_at, Some(t3));
            assert_eq!(st.last_counts, FeedRunCounts::default());
        }
    }
}

/// Inventories, suppliers and the matching engine: incremental in both
/// directions, deduplicated, with VEX clearances and status history.
mod matching {
    use super::{draft, t0, user};
    use chrono::Duration;
    use openwarp_advisory::{EpssRun, EpssScore, Parsed, SourceRecord};
    use openwarp_core::{OrgId, Role, SupplierDraft, SupplierKind};
    use openwarp_matching::inventory::ItemFields;
    use openwarp_matching::priority::Priority;
    use openwarp_matching::status::ExposureStatus;
    use openwarp_store::testing::all_backends;
    use openwarp_store::{ExposureFilter, KnownRecords, Store, StoreError};

    fn records(bytes: &[u8]) -> Vec<SourceRecord> {
        let mut out = Vec::new();
        openwarp_advisory::parse::parse_any(bytes, &mut |p| {
            if let Parsed::Record(r) = p {
                out.push(*r);
            }
        })
        .expect("fixture parses");
        out
    }

    const LOG4SHELL: &[u8] = include_bytes!(
        "../../advisory/tests/fixtures/cve5/cve5_log4shell_changes_and_cisa_adp_cvss.json"
    );
    /// The Log4Shell entry of the 2025-08-25 KEV catalogue, in its envelope.
    const KEV: &[u8] = include_bytes!("fixtures/kev_log4shell_entry.json");
    const OASIS_VEX: &[u8] = include_bytes!(
        "../../advisory/tests/fixtures/csaf/oasis_vex_uc08_fixed_not_affected_recommended.json"
    );

    fn log4j(version: &str, internet_facing: bool) -> ItemFields {
        ItemFields {
            name: "Payroll server".into(),
            vendor: Some("Apache Software Foundation".into()),
            product: Some("Apache Log4j2".into()),
            version: Some(version.into()),
            internet_facing,
            owner: Some("ICT Ops".into()),
            ..ItemFields::default()
        }
        .validate()
        .expect("valid")
    }

    async fn active(s: &Store, org: OrgId) -> Vec<openwarp_store::Exposure> {
        s.list_exposures(org, &ExposureFilter::default())
            .await
            .expect("list")
    }

    #[tokio::test]
    async fn open_counts_per_item_and_one_vulnerability_are_read_in_sql() {
        for db in all_backends().await {
            let s = &db.store;
            let name = db.backend().name();
            let org = s
                .create_org(&draft("Kent County Council", "county"), t0())
                .await
                .expect("org");
            let lead = user(s, "lead@kent.gov.uk", Role::MemberLead, Some(org.id)).await;
            let mut second = log4j("2.14.1", false);
            second.name = "HR server".into();
            let added = s
                .add_items(
                    org.id,
                    &[log4j("2.14.1", true), second, log4j("2.17.1", false)],
                    "manual",
                    None,
                    t0(),
                )
                .await
                .expect("add");
            s.upsert_records(&records(LOG4SHELL), &mut KnownRecords::default(), t0())
                .await
                .expect("ingest");
            let counts = s.open_exposure_counts(org.id).await.expect("counts");
            assert_eq!(counts.get(&added.ids[0]), Some(&1), "{name}");
            assert_eq!(counts.get(&added.ids[1]), Some(&1), "{name}");
            assert_eq!(counts.get(&added.ids[2]), None, "{name}: 2.17.1 is fixed");
            // A closed status no longer counts as open.
            let hr = active(s, org.id)
                .await
                .into_iter()
                .find(|x| x.item_id == added.ids[1])
                .expect("HR exposure");
            s.set_exposure_status(
                org.id,
                hr.id,
                ExposureStatus::Mitigated,
                None,
                lead.id,
                t0(),
            )
            .await
            .expect("status");
            let counts = s.open_exposure_counts(org.id).await.expect("counts");
            assert_eq!(counts.len(), 1, "{name}: {counts:?}");
            // One vulnerability's exposures, filtered by the database.
            let only = |v: &str| ExposureFilter {
                vuln_id: Some(v.into()),
                ..ExposureFilter::default()
            };
            let log4shell = s
                .list_exposures(org.id, &only("CVE-2021-44228"))
                .await
                .expect("list");
            assert_eq!(log4shell.len(), 2, "{name}");
            assert!(
                s.list_exposures(org.id, &only("CVE-2014-0160"))
                    .await
                    .expect("list")
                    .is_empty()
            );
        }
    }

    #[tokio::test]
    async fn advisories_and_items_meet_through_the_index_both_ways() {
        for db in all_backends().await {
            let s = &db.store;
            let name = db.backend().name();
            let a = s
                .create_org(&draft("Kent County Council", "county"), t0())
                .await
                .expect("org");
            let b = s
                .create_org(&draft("Medway Council", "unitary"), t0())
                .await
                .expect("org");
            // Items first, advisory later: the advisory's ingest finds them.
            let added = s
                .add_items(
                    a.id,
                    &[log4j("2.14.1", true), log4j("2.17.1", false)],
                    "manual",
                    None,
                    t0(),
                )
                .await
                .expect("add");
            assert_eq!(added.ids.len(), 2);
            let mut known = KnownRecords::default();
            let mut recs = records(LOG4SHELL);
            s.upsert_records(&recs, &mut known, t0())
                .await
                .expect("ingest");
            let xs = active(s, a.id).await;
            assert_eq!(xs.len(), 1, "{name}: only 2.14.1 is affected");
            let x = &xs[0];
            assert_eq!(
                (x.vuln_id.as_str(), x.item_id),
                ("CVE-2021-44228", added.ids[0])
            );
            assert_eq!(x.status, ExposureStatus::New);
            assert_eq!(
                x.priority,
                Priority::P2,
                "{name}: critical, not yet known exploited"
            );
            assert!(
                x.line
                    .contains("affects your Payroll server 2.14.1, owner ICT Ops"),
                "{}",
                x.line
            );
            assert!(
                x.line.contains("Update to version 2.15.0 or later"),
                "{}",
                x.line
            );
            assert!(
                active(s, b.id).await.is_empty(),
                "{name}: another member sees nothing"
            );

            // Re-ingesting the same records changes nothing.
            let again = s
                .upsert_records(&recs, &mut KnownRecords::default(), t0())
                .await
                .expect("ingest");
            assert_eq!(again.unchanged, recs.len() as u64);
            let (_, events) = s.exposure(a.id, x.id).await.expect("get").expect("exists");
            assert_eq!(events.len(), 1, "{name}: one 'found' event, no duplicates");

            // KEV lists it: exploited and internet-facing is P1, with the reason.
            let t1 = t0() + Duration::hours(1);
            let kev: Vec<SourceRecord> = records(KEV)
                .into_iter()
                .filter(|r| r.vuln_id == "CVE-2021-44228")
                .collect();
            assert_eq!(kev.len(), 1, "the KEV fixture lists Log4Shell");
            s.upsert_records(&kev, &mut known, t1)
                .await
                .expect("ingest kev");
            let x = &active(s, a.id).await[0];
            assert_eq!(x.priority, Priority::P1, "{name}");
            assert!(
                x.reason_sentence()
                    .starts_with("P1 because it is being exploited (CISA KEV)"),
                "{}",
                x.reason_sentence()
            );
            let (_, events) = s.exposure(a.id, x.id).await.expect("get").expect("exists");
            assert_eq!(events[0].kind, "changed");
            assert!(
                events[0].detail.starts_with("Priority P2 → P1"),
                "{}",
                events[0].detail
            );

            // An item added later is matched against the stored corpus.
            let b_item = s
                .add_items(b.id, &[log4j("2.4", false)], "manual", None, t1)
                .await
                .expect("add");
            let bx = active(s, b.id).await;
            assert_eq!(bx.len(), 1, "{name}");
            assert_eq!(bx[0].item_id, b_item.ids[0]);
            assert_eq!(
                bx[0].priority,
                Priority::P1,
                "exploited by ransomware gangs"
            );
            assert!(
                bx[0]
                    .reason_sentence()
                    .contains("it is used in ransomware campaigns")
            );

            // Operators see who is exposed.
            let who = s.advisory_exposure("CVE-2021-44228").await.expect("who");
            assert_eq!(who.len(), 2);
            assert_eq!(
                (who[0].org_name.as_str(), who[0].top_priority),
                ("Kent County Council", Priority::P1)
            );

            // The member upgrades: the exposure is cleared, not deleted.
            let t2 = t1 + Duration::hours(1);
            s.update_item(b.id, b_item.ids[0], &log4j("2.17.1", false), None, t2)
                .await
                .expect("update");
            assert!(active(s, b.id).await.is_empty(), "{name}");
            let all = s
                .list_exposures(
                    b.id,
                    &ExposureFilter {
                        include_inactive: true,
                        ..ExposureFilter::default()
                    },
                )
                .await
                .expect("list");
            assert_eq!(
                (all.len(), all[0].active, all[0].verdict.as_str()),
                (1, false, "no_longer_matches")
            );

            // The source withdraws the statement (a corrected record): cleared for Kent too.
            let t3 = t2 + Duration::hours(1);
            for r in &mut recs {
                r.affected.clear();
                r.modified = Some(t3);
            }
            s.upsert_records(&recs, &mut known, t3)
                .await
                .expect("ingest");
            assert!(active(s, a.id).await.is_empty(), "{name}");

            // Another member's item cannot be changed through this member.
            let err = s
                .update_item(a.id, b_item.ids[0], &log4j("1.0", false), None, t3)
                .await;
            assert!(matches!(err, Err(StoreError::NotFound(_))), "{name}");
            let err = s.delete_item(a.id, b_item.ids[0]).await;
            assert!(matches!(err, Err(StoreError::NotFound(_))), "{name}");
        }
    }

    #[tokio::test]
    async fn vex_clears_and_statuses_keep_their_history() {
        for db in all_backends().await {
            let s = &db.store;
            let name = db.backend().name();
            let a = s
                .create_org(&draft("Dover District Council", "district_borough"), t0())
                .await
                .expect("org");
            let lead = user(s, "lead@dover.gov.uk", Role::MemberLead, Some(a.id)).await;
            let vex: Vec<SourceRecord> = records(OASIS_VEX)
                .into_iter()
                .filter(|r| r.vuln_id == "CVE-2021-44228")
                .collect();
            let vendor = vex[0]
                .affected
                .iter()
                .find_map(|x| match x {
                    openwarp_advisory::Affected::Csaf(p) => p.vendor.clone(),
                    _ => None,
                })
                .expect("vendor");
            let abc = |v: &str| {
                ItemFields {
                    vendor: Some(vendor.clone()),
                    product: Some("ABC".into()),
                    version: Some(v.into()),
                    internet_facing: true,
                    ..ItemFields::default()
                }
                .validate()
                .expect("valid")
            };
            let ids = s
                .add_items(
                    a.id,
                    &[abc("2.4"), abc("4.2"), abc("2.4")],
                    "csv",
                    Some(lead.id),
                    t0(),
                )
                .await
                .expect("add");
            assert_eq!((ids.ids.len(), ids.duplicates), (2, 1), "{name}");
            s.upsert_records(&vex, &mut KnownRecords::default(), t0())
                .await
                .expect("ingest");
            let xs = active(s, a.id).await;
            assert_eq!(
                xs.len(),
                1,
                "{name}: 2.4 is known_affected; 4.2 known_not_affected"
            );
            assert_eq!(xs[0].item_id, ids.ids[0]);

            // Status with a note, recorded with who and when.
            let t1 = t0() + Duration::hours(2);
            s.set_exposure_status(
                a.id,
                xs[0].id,
                ExposureStatus::ActionInProgress,
                Some("Patching Tuesday"),
                lead.id,
                t1,
            )
            .await
            .expect("status");
            let (x, events) = s
                .exposure(a.id, xs[0].id)
                .await
                .expect("get")
                .expect("exists");
            assert_eq!(x.status, ExposureStatus::ActionInProgress);
            assert_eq!(x.status_at, Some(t1));
            assert_eq!(x.status_by.as_deref(), Some("lead"));
            assert_eq!(events[0].detail, "Action in progress: Patching Tuesday");
            assert_eq!(events[0].by.as_deref(), Some("lead"));
            let counts = s.exposure_counts(a.id).await.expect("counts");
            assert_eq!(counts.iter().sum::<i64>(), 1);

            // Another organisation cannot touch it.
            let other = s
                .create_org(&draft("Thanet District Council", "district_borough"), t0())
                .await
                .expect("org");
            let err = s
                .set_exposure_status(
                    other.id,
                    xs[0].id,
                    ExposureStatus::Mitigated,
                    None,
                    lead.id,
                    t1,
                )
                .await;
            assert!(matches!(err, Err(StoreError::NotFound(_))), "{name}");
            assert!(s.exposure(other.id, xs[0].id).await.expect("get").is_none());

            // EPSS arrives: priorities are re-ranked where it matters.
            let run = EpssRun {
                model_version: Some("v2025.03.14".into()),
                score_date: Some(t1),
            };
            let score = EpssScore {
                cve_id: x.vuln_id.clone(),
                score: 0.9,
                percentile: 0.99,
            };
            s.upsert_epss(&[score], &run, t1).await.expect("epss");
            let x2 = &active(s, a.id).await[0];
            assert_eq!(x2.epss_percentile, Some(0.99));
            assert_eq!(
                (x.priority, x2.priority),
                (Priority::P2, Priority::P1),
                "{name}"
            );
            assert!(
                x2.reason_sentence().contains("EPSS 99th percentile"),
                "{}",
                x2.reason_sentence()
            );
        }
    }

    const ESP32: &[u8] = include_bytes!(
        "../../advisory/tests/fixtures/nvd/nvd_api_esp32_firmware_on_hardware_bounds.json"
    );

    /// An AND configuration is met by two items of the same member, found
    /// through the index whichever criteria (vulnerable or platform) each meets.
    #[tokio::test]
    async fn and_configurations_see_the_rest_of_the_members_estate() {
        for db in all_backends().await {
            let s = &db.store;
            let name = db.backend().name();
            let a = s
                .create_org(&draft("Crawley Borough Council", "district_borough"), t0())
                .await
                .expect("org");
            let b = s
                .create_org(&draft("Horsham District Council", "district_borough"), t0())
                .await
                .expect("org");
            let cpe = |c: &str| {
                ItemFields {
                    cpe: Some(c.into()),
                    ..ItemFields::default()
                }
                .validate()
                .expect("valid")
            };
            let idf = cpe("cpe:2.3:a:espressif:esp-idf:4.1:*:*:*:*:*:*:*");
            let board = cpe("cpe:2.3:h:espressif:esp32:-:*:*:*:*:*:*:*");
            // Both halves in one estate; only the software half in another.
            s.add_items(a.id, &[idf.clone(), board.clone()], "manual", None, t0())
                .await
                .expect("add");
            s.add_items(b.id, std::slice::from_ref(&idf), "manual", None, t0())
                .await
                .expect("add");
            // As published (board = platform), and with both halves vulnerable.
            let mut recs = records(ESP32);
            let mut both = recs.clone();
            for r in &mut both {
                r.vuln_id = "CVE-2020-99999".into();
                r.record_id = "CVE-2020-99999".into();
                for aff in &mut r.affected {
                    if let openwarp_advisory::Affected::Nvd(c) = aff {
                        for m in c.nodes.iter_mut().flat_map(|n| n.cpe_match.iter_mut()) {
                            m.vulnerable = true;
                        }
                    }
                }
            }
            recs.extend(both);
            s.upsert_records(&recs, &mut KnownRecords::default(), t0())
                .await
                .expect("ingest");
            let xs = active(s, a.id).await;
            let mut got: Vec<(String, String)> = xs
                .iter()
                .map(|x| (x.vuln_id.clone(), x.item_name.clone()))
                .collect();
            got.sort();
            assert_eq!(
                got,
                vec![
                    ("CVE-2020-13595".into(), "espressif esp-idf".into()),
                    ("CVE-2020-99999".into(), "espressif esp-idf".into()),
                    ("CVE-2020-99999".into(), "espressif esp32".into()),
                ],
                "{name}"
            );
            assert!(
                active(s, b.id).await.is_empty(),
                "{name}: half an AND is not enough"
            );
            // A full re-match finds the same and writes nothing.
            let again = s.rematch_all(t0()).await.expect("rematch");
            assert_eq!(
                (again.new, again.changed, again.cleared),
                (0, 0, 0),
                "{name}"
            );
            assert!(again.assessed >= 4, "{name}: {again:?}");
            assert_eq!(active(s, a.id).await.len(), 3);
        }
    }

    #[tokio::test]
    async fn members_sharing_a_supplier_are_found_by_name() {
        for db in all_backends().await {
            let s = &db.store;
            let a = s
                .create_org(
                    &draft("Maidstone Borough Council", "district_borough"),
                    t0(),
                )
                .await
                .expect("org");
            let b = s
                .create_org(&draft("Swale Borough Council", "district_borough"), t0())
                .await
                .expect("org");
            let c = s
                .create_org(&draft("Ashford Borough Council", "district_borough"), t0())
                .await
                .expect("org");
            let supplier = |n: &str| SupplierDraft {
                name: n.into(),
                kind: SupplierKind::SharedService,
                services: Some("ICT shared service".into()),
                contact: None,
                notes: None,
            };
            s.add_supplier(a.id, &supplier("Mid Kent ICT Ltd"), t0())
                .await
                .expect("add");
            s.add_supplier(b.id, &supplier("MID KENT ICT"), t0())
                .await
                .expect("add");
            s.add_supplier(c.id, &supplier("Agilisys"), t0())
                .await
                .expect("add");
            let dup = s
                .add_supplier(a.id, &supplier("Mid Kent ICT Limited"), t0())
                .await;
            assert!(
                matches!(dup, Err(StoreError::Conflict(_))),
                "same supplier twice"
            );
            let users = s
                .members_using_supplier("mid kent ict")
                .await
                .expect("find");
            let names: Vec<&str> = users.iter().map(|u| u.org_name.as_str()).collect();
            assert_eq!(
                names,
                vec!["Maidstone Borough Council", "Swale Borough Council"]
            );
            let list = s.list_suppliers(a.id).await.expect("list");
            assert_eq!(list.len(), 1);
            assert!(matches!(
                s.delete_supplier(b.id, list[0].id).await,
                Err(StoreError::NotFound(_))
            ));
            s.delete_supplier(a.id, list[0].id).await.expect("delete");
            assert!(s.list_suppliers(a.id).await.expect("list").is_empty());
        }
    }

    /// Dictionary products load idempotently and widen the resolver's
    /// candidates: a corpus name keeps its count, a dictionary-only name has 0.
    #[tokio::test]
    async fn cpe_dictionary_products_join_the_resolver_candidates() {
        use openwarp_advisory::cpedict::DictionaryProduct;
        let product = |vendor: &str, product: &str, title: &str| DictionaryProduct {
            part: 'a',
            vendor: vendor.into(),
            product: product.into(),
            title: title.into(),
        };
        for db in all_backends().await {
            let s = &db.store;
            let name = db.backend().name();
            s.upsert_records(&records(ESP32), &mut KnownRecords::default(), t0())
                .await
                .expect("ingest");
            let batch = vec![
                product("espressif", "esp-idf", "Espressif ESP-IDF"),
                product("espressif", "esp-at", "Espressif ESP-AT"),
                product("microsoft", "exchange_server", "Microsoft Exchange Server"),
            ];
            assert_eq!(s.upsert_cpe_products(&batch).await.expect("upsert"), 3);
            assert_eq!(s.upsert_cpe_products(&batch).await.expect("again"), 3);
            assert_eq!(s.cpe_product_count().await.expect("count"), 3, "{name}");
            // A later load refreshes the title, adds nothing.
            let retitled = [product("espressif", "esp-at", "Espressif AT firmware")];
            s.upsert_cpe_products(&retitled).await.expect("retitle");
            assert_eq!(s.cpe_product_count().await.expect("count"), 3, "{name}");
            assert_eq!(s.upsert_cpe_products(&[]).await.expect("empty"), 0);

            let got = s
                .product_candidates(&["espressif".to_string()], 20)
                .await
                .expect("candidates");
            let find = |p: &str| got.iter().find(|c| c.product == p).map(|c| c.advisories);
            assert!(find("esp-idf").is_some_and(|n| n > 0), "{name}: {got:?}");
            assert_eq!(find("esp-at"), Some(0), "{name}: {got:?}");
            assert_eq!(find("exchange_server"), None, "{name}");
            let ids = got.iter().filter(|c| c.product == "esp-idf").count();
            assert_eq!(ids, 1, "{name}: a name in both sources appears once");

            let exchange = s
                .product_candidates(&["exchange".to_string(), "server".to_string()], 5)
                .await
                .expect("candidates");
            assert_eq!(exchange.len(), 1, "{name}: {exchange:?}");
            assert_eq!(exchange[0].vendor, "microsoft");
            assert_eq!(exchange[0].advisories, 0);
            let bounded = s
                .product_candidates(&["esp".to_string()], 1)
                .await
                .expect("candidates");
            assert_eq!(bounded.len(), 1, "{name}");
        }
    }
}

#[path = "storage_parts/alerts.rs"]
mod alerts;

#[path = "storage_parts/warp_advisories.rs"]
mod warp_advisories;

#[path = "storage_parts/incidents.rs"]
mod incidents;

#[path = "storage_parts/meetings.rs"]
mod meetings;

#[path = "storage_parts/polls.rs"]
mod polls;

#[path = "storage_parts/discussion.rs"]
mod discussion;

#[path = "storage_parts/news.rs"]
mod news;

#[path = "storage_parts/audit.rs"]
mod audit;

#[path = "storage_parts/mfa.rs"]
mod mfa;
// Assessments (issue 8)
#[path = "storage_parts/assessments.rs"]
mod assessments;
// End of assessments (issue 8)

// Federation (issue 9)
#[path = "storage_parts/federation.rs"]
mod federation;
// End of federation (issue 9)

// Advisory search by index (issue 10)
#[path = "storage_parts/advisory_search.rs"]
mod advisory_search;

// Secrets sealed at rest (issue 10)
#[path = "storage_parts/sealing.rs"]
mod sealing;

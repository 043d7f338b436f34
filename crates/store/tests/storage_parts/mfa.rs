//! Second factors and session stages on every backend: a step is accepted
//! once even when requests race; recovery codes work once and are kept only
//! as hashes; enrolment is confirmed once; a session ends at its absolute
//! lifetime however active; promoting a session replaces its token.

use super::{t0, user};
use chrono::Duration;
use openwarp_core::Role;
use openwarp_store::testing::all_backends;
use openwarp_store::{SessionStage, StoreError};

#[tokio::test]
async fn steps_are_taken_once_and_recovery_codes_once() {
    for db in all_backends().await {
        let s = &db.store;
        let u = user(s, "ops@warp.example", Role::Operator, None).await;
        let secret = s.start_enrolment(u.id, t0()).await.expect("enrol");
        assert_eq!(secret.len(), 20);
        assert!(!s.has_second_factor(u.id).await.expect("mfa"));
        // Racing requests with the same step: exactly one wins.
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.accept_step(u.id, 1000).await.expect("step")
            }));
        }
        let mut won = 0;
        for t in tasks {
            won += usize::from(t.await.expect("task"));
        }
        assert_eq!(won, 1);
        assert!(!s.accept_step(u.id, 999).await.expect("older step"));
        let codes = s.confirm_enrolment(u.id, t0()).await.expect("confirm");
        assert_eq!(codes.len(), 10);
        assert!(matches!(
            s.confirm_enrolment(u.id, t0()).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            s.start_enrolment(u.id, t0()).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(s.has_second_factor(u.id).await.expect("mfa"));
        let stored = db
            .text_rows("SELECT code_hash FROM mfa_recovery_codes")
            .await;
        assert_eq!(stored.len(), 10);
        for row in &stored {
            let hash = row[0].as_deref().expect("hash");
            assert!(codes.iter().all(|c| !hash.contains(&c.replace('-', ""))));
        }
        let typed = codes[3].to_lowercase().replace('-', " ");
        assert!(s.use_recovery_code(u.id, &typed, t0()).await.expect("use"));
        assert!(
            !s.use_recovery_code(u.id, &codes[3], t0())
                .await
                .expect("again")
        );
        assert_eq!(s.recovery_codes_left(u.id).await.expect("left"), 9);
        let fresh = s.replace_recovery_codes(u.id).await.expect("replace");
        assert!(
            !s.use_recovery_code(u.id, &codes[4], t0())
                .await
                .expect("old")
        );
        assert!(
            s.use_recovery_code(u.id, &fresh[0], t0())
                .await
                .expect("new")
        );
        assert!(s.remove_second_factor(u.id).await.expect("remove"));
        assert!(!s.has_second_factor(u.id).await.expect("mfa"));
        assert_eq!(s.recovery_codes_left(u.id).await.expect("left"), 0);
    }
}

#[tokio::test]
async fn sessions_end_at_their_absolute_lifetime_and_promotion_replaces_the_token() {
    for db in all_backends().await {
        let s = &db.store;
        let u = user(s, "ops@warp.example", Role::Operator, None).await;
        let idle = Duration::hours(1);
        let absolute = Duration::hours(12);
        let (token, pending) = s
            .create_session_at(&u, t0(), idle, SessionStage::Mfa)
            .await
            .expect("session");
        // Kept alive by activity every 50 minutes, it still ends at 12 hours.
        let mut at = t0();
        while at < t0() + Duration::hours(11) {
            at += Duration::minutes(50);
            let found = s
                .session_by_token(&token, at, idle, absolute)
                .await
                .expect("lookup")
                .expect("live");
            assert_eq!(found.stage, SessionStage::Mfa);
        }
        assert!(
            s.session_by_token(
                &token,
                t0() + Duration::hours(12) + Duration::minutes(1),
                idle,
                absolute
            )
            .await
            .expect("lookup")
            .is_none()
        );
        let (new_token, full) = s
            .promote_session(pending.id, &u, t0(), idle)
            .await
            .expect("promote");
        assert_ne!(new_token, token);
        assert_ne!(full.csrf_token, pending.csrf_token);
        assert!(
            s.session_by_token(&token, t0(), idle, absolute)
                .await
                .expect("old")
                .is_none()
        );
        let found = s
            .session_by_token(&new_token, t0(), idle, absolute)
            .await
            .expect("new")
            .expect("live");
        assert_eq!(found.stage, SessionStage::Full);
        s.create_session(&u, t0(), idle).await.expect("another");
        assert_eq!(s.delete_user_sessions(u.id).await.expect("end all"), 2);
    }
}

#[tokio::test]
async fn rate_counts_are_exact_under_concurrency_and_per_window() {
    for db in all_backends().await {
        let s = &db.store;
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let mut top = 0;
                for _ in 0..10 {
                    top = top.max(
                        s.hit_rate("invite", "user:1", 3600, t0())
                            .await
                            .expect("hit"),
                    );
                }
                top
            }));
        }
        let mut highest = 0;
        for t in tasks {
            highest = highest.max(t.await.expect("task"));
        }
        assert_eq!(highest, 80, "every hit counted once");
        // The next window starts again; other subjects and buckets apart.
        let next = t0() + Duration::hours(1);
        assert_eq!(
            s.hit_rate("invite", "user:1", 3600, next)
                .await
                .expect("hit"),
            1
        );
        assert_eq!(
            s.hit_rate("invite", "user:2", 3600, t0())
                .await
                .expect("hit"),
            1
        );
        assert_eq!(
            s.hit_rate("upload", "user:1", 3600, t0())
                .await
                .expect("hit"),
            1
        );
        // Old windows are purged.
        s.purge_expired(t0() + Duration::days(3))
            .await
            .expect("purge");
        assert_eq!(
            s.hit_rate("invite", "user:1", 3600, t0())
                .await
                .expect("hit"),
            1
        );
    }
}

//! Secrets at rest on every backend: with a secrets key, TOTP keys, webhook
//! signing secrets, peer credentials and instance secrets are stored sealed
//! and read back as they were; without the key, or with another, reading
//! them fails with a clear error rather than a wrong value; secrets written
//! before a key was configured are sealed in place, once.

use super::{draft, t0, user};
use chrono::TimeDelta;
use openwarp_core::Role;
use openwarp_core::federation::PeerInput;
use openwarp_matching::priority::Priority;
use openwarp_store::testing::all_backends;
use openwarp_store::{
    NewWebhook, SEALED_PREFIX, SealingError, SealingKey, Store, StoreError, WebhookFormat,
};

fn key(byte: u8) -> SealingKey {
    SealingKey::from_bytes(&[byte; 32]).expect("key")
}

fn peer(name: &str) -> openwarp_core::federation::PeerDraft {
    PeerInput {
        name: name.into(),
        audience: "partner".into(),
        incoming_login: format!("{name}-in"),
        api_root_url: "https://peer.example/taxii2/api/".into(),
        collection_id: "abc-123".into(),
        outgoing_login: "segwarp".into(),
        outgoing_secret: "peer-password-1".into(),
        poll_minutes: "60".into(),
        ..PeerInput::default()
    }
    .validate()
    .expect("peer")
}

/// One secret of each kind, written through `s`; the TOTP key and the
/// webhook's secret as handed out.
async fn write_secrets(s: &Store) -> (openwarp_core::UserId, Vec<u8>, i64, String) {
    let org = s
        .create_org(&draft("Kent County Council", "county"), t0())
        .await
        .expect("org");
    let op = user(s, "ops@warp.example", Role::Operator, None).await;
    let totp = s.start_enrolment(op.id, t0()).await.expect("enrol");
    let hook = s
        .add_webhook(
            org.id,
            &NewWebhook {
                name: "SOC".into(),
                url: "https://example.invalid/hook".into(),
                format: WebhookFormat::Json,
                min_priority: Priority::P2,
            },
            None,
            t0(),
        )
        .await
        .expect("hook");
    s.create_peer(&peer("nw"), t0()).await.expect("peer");
    s.instance_secret("link_signing", t0())
        .await
        .expect("instance secret");
    (op.id, totp, hook.id, hook.secret)
}

async fn polled_secret(s: &Store) -> Option<String> {
    s.claim_peer_poll("test", t0(), TimeDelta::seconds(60))
        .await
        .expect("claim")
        .expect("due")
        .secret
}

#[tokio::test]
async fn secrets_are_sealed_at_rest_and_read_back_with_the_key_only() {
    for db in all_backends().await {
        let plain = db.store.clone();
        let sealed = db.store.clone().with_sealing_key(key(7));
        assert!(sealed.seals_secrets() && !plain.seals_secrets());
        let (op, totp, hook, hook_secret) = write_secrets(&sealed).await;
        let link = sealed
            .instance_secret("link_signing", t0())
            .await
            .expect("link");

        // At rest: sealed text, the secrets nowhere in it.
        for (select, secret) in [
            ("SELECT secret FROM webhooks", hook_secret.as_str()),
            (
                "SELECT outgoing_secret FROM federation_peers",
                "peer-password-1",
            ),
            ("SELECT value FROM instance_secrets", link.as_str()),
        ] {
            let rows = db.text_rows(select).await;
            let stored = rows[0][0].as_deref().expect("stored");
            assert!(stored.starts_with(SEALED_PREFIX), "{select}: {stored}");
            assert!(!stored.contains(secret), "{select}");
        }
        // Read back through the key: as handed out.
        let a = sealed.authenticator(op).await.expect("read").expect("some");
        assert_eq!(a.secret, totp);
        assert_eq!(
            sealed.webhook(hook).await.expect("hook").secret,
            hook_secret
        );
        assert_eq!(
            polled_secret(&sealed).await.as_deref(),
            Some("peer-password-1")
        );
        assert_eq!(
            sealed
                .instance_secret("link_signing", t0())
                .await
                .expect("again"),
            link
        );

        // Without the key, or with another: a clear error, never a value.
        let no_key = plain.authenticator(op).await.expect_err("no key");
        assert!(
            matches!(no_key, StoreError::Sealing(SealingError::NoKey(_))),
            "{no_key}"
        );
        assert!(no_key.to_string().contains("secrets_key_file"), "{no_key}");
        let other = db.store.clone().with_sealing_key(key(8));
        assert!(matches!(
            other.webhook(hook).await,
            Err(StoreError::Sealing(SealingError::WrongKey(_)))
        ));
        assert!(matches!(
            other.instance_secret("link_signing", t0()).await,
            Err(StoreError::Sealing(SealingError::WrongKey(_)))
        ));
        // Nothing was left in the clear for sealing to find.
        assert_eq!(sealed.seal_stored_secrets().await.expect("seal"), 0);
    }
}

#[tokio::test]
async fn secrets_written_before_a_key_are_sealed_in_place_once() {
    for db in all_backends().await {
        let plain = db.store.clone();
        let (op, totp, hook, hook_secret) = write_secrets(&plain).await;
        let link = plain
            .instance_secret("link_signing", t0())
            .await
            .expect("link");
        let rows = db.text_rows("SELECT secret FROM webhooks").await;
        assert_eq!(rows[0][0].as_deref(), Some(hook_secret.as_str()));
        // Unsealed values stay readable, with or without a key.
        let keyed = db.store.clone().with_sealing_key(key(9));
        assert_eq!(keyed.webhook(hook).await.expect("hook").secret, hook_secret);

        // Without a key nothing happens; with one, all four are sealed.
        assert_eq!(plain.seal_stored_secrets().await.expect("no-op"), 0);
        assert_eq!(keyed.seal_stored_secrets().await.expect("seal"), 4);
        assert_eq!(keyed.seal_stored_secrets().await.expect("again"), 0);
        for select in [
            "SELECT secret FROM webhooks",
            "SELECT outgoing_secret FROM federation_peers",
            "SELECT value FROM instance_secrets",
        ] {
            let rows = db.text_rows(select).await;
            assert!(
                rows[0][0]
                    .as_deref()
                    .is_some_and(|v| v.starts_with(SEALED_PREFIX)),
                "{select}"
            );
        }
        assert!(
            plain.authenticator(op).await.is_err(),
            "the TOTP key is sealed too"
        );
        let a = keyed.authenticator(op).await.expect("read").expect("some");
        assert_eq!(a.secret, totp);
        assert_eq!(keyed.webhook(hook).await.expect("hook").secret, hook_secret);
        assert_eq!(
            polled_secret(&keyed).await.as_deref(),
            Some("peer-password-1")
        );
        assert_eq!(
            keyed
                .instance_secret("link_signing", t0())
                .await
                .expect("link"),
            link
        );
    }
}

#[tokio::test]
async fn a_new_key_takes_over_every_secret_at_once() {
    for db in all_backends().await {
        let old = db.store.clone().with_sealing_key(key(1));
        let (op, totp, hook, hook_secret) = write_secrets(&old).await;
        let link = old
            .instance_secret("link_signing", t0())
            .await
            .expect("link");
        // One secret from before any key: re-sealed along with the rest.
        let unsealed_peer = db.store.clone();
        unsealed_peer
            .create_peer(&peer("plain"), t0())
            .await
            .expect("plain peer");

        assert_eq!(old.reseal_secrets(&key(2)).await.expect("reseal"), 5);
        let new = db.store.clone().with_sealing_key(key(2));
        assert_eq!(
            new.authenticator(op)
                .await
                .expect("read")
                .expect("some")
                .secret,
            totp
        );
        assert_eq!(new.webhook(hook).await.expect("hook").secret, hook_secret);
        assert_eq!(
            new.instance_secret("link_signing", t0())
                .await
                .expect("link"),
            link
        );
        let rows = db
            .text_rows("SELECT outgoing_secret FROM federation_peers")
            .await;
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| {
            r[0].as_deref()
                .is_some_and(|v| v.starts_with(SEALED_PREFIX))
        }));
        // The old key opens nothing any more.
        assert!(matches!(
            old.webhook(hook).await,
            Err(StoreError::Sealing(SealingError::WrongKey(_)))
        ));
        assert!(old.authenticator(op).await.is_err());

        // A store without the key that opens them cannot re-seal: refused
        // before anything is written.
        let wrong = db.store.clone().with_sealing_key(key(3));
        assert!(matches!(
            wrong.reseal_secrets(&key(4)).await,
            Err(StoreError::Sealing(SealingError::WrongKey(_)))
        ));
        assert_eq!(
            new.webhook(hook).await.expect("still key 2").secret,
            hook_secret
        );
    }
}

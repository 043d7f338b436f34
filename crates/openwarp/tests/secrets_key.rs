//! The secrets key, through the real binary: `openwarp secrets-key new`
//! writes a key only its owner can read and never replaces one; with
//! `secrets_key_file` set, any command seals the secrets stored before the
//! key was configured, and they read back only with that key; a key file
//! that cannot be used is refused (exit status 2, naming the setting and
//! the file) before anything is touched.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: failing loudly is the point

use chrono::Utc;
use openwarp_matching::priority::Priority;
use openwarp_store::{NewWebhook, SealingError, SealingKey, Store, StoreError, WebhookFormat};
use std::path::Path;
use std::process::{Command, Output};

fn openwarp(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_openwarp"));
    cmd.args(args).current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run openwarp")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A database holding a webhook whose secret was stored before any key.
async fn database_with_a_webhook(url: &str) -> (i64, String) {
    let store = Store::connect(url).await.expect("open");
    store.migrate().await.expect("migrate");
    let draft = openwarp_store::testing::council("Kent County Council", "county");
    let org = store.create_org(&draft, Utc::now()).await.expect("org");
    let hook = store
        .add_webhook(
            org.id,
            &NewWebhook {
                name: "SOC".into(),
                url: "https://example.invalid/hook".into(),
                format: WebhookFormat::Json,
                min_priority: Priority::P2,
            },
            None,
            Utc::now(),
        )
        .await
        .expect("hook");
    store.close().await;
    (hook.id, hook.secret)
}

#[tokio::test]
async fn a_new_key_is_private_and_never_replaced() {
    let dir = tempfile::tempdir().expect("dir");
    let made = openwarp(dir.path(), &[], &["secrets-key", "new", "secrets.key"]);
    assert!(made.status.success(), "{}", text(&made));
    let path = dir.path().join("secrets.key");
    let key = std::fs::read_to_string(&path).expect("key file");
    assert!(SealingKey::from_base64(&key).is_ok(), "{key}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = openwarp(dir.path(), &[], &["secrets-key", "new", "secrets.key"]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(
        text(&again).contains("never overwritten"),
        "{}",
        text(&again)
    );
    assert_eq!(std::fs::read_to_string(&path).expect("key file"), key);
}

#[tokio::test]
async fn configuring_a_key_seals_what_was_stored_before() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("warp.db").display());
    let (hook, secret) = database_with_a_webhook(&url).await;

    // A key file that is not a key: refused, naming the setting and file.
    std::fs::write(dir.path().join("bad.key"), "not a key\n").expect("write");
    let bad = openwarp(
        dir.path(),
        &[
            ("OPENWARP_DATABASE_URL", &url),
            ("OPENWARP_SECRETS_KEY_FILE", "bad.key"),
        ],
        &["migrate"],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        text(&bad).contains("secrets_key_file") && text(&bad).contains("bad.key"),
        "{}",
        text(&bad)
    );
    let missing = openwarp(
        dir.path(),
        &[
            ("OPENWARP_DATABASE_URL", &url),
            ("OPENWARP_SECRETS_KEY_FILE", "no-such.key"),
        ],
        &["migrate"],
    );
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    let plain = Store::connect(&url).await.expect("open");
    assert_eq!(
        plain.webhook(hook).await.expect("still plain").secret,
        secret
    );

    // A real key: the next command seals the stored secret.
    let made = openwarp(dir.path(), &[], &["secrets-key", "new", "warp.key"]);
    assert!(made.status.success(), "{}", text(&made));
    let migrated = openwarp(
        dir.path(),
        &[
            ("OPENWARP_DATABASE_URL", &url),
            ("OPENWARP_SECRETS_KEY_FILE", "warp.key"),
        ],
        &["migrate"],
    );
    assert!(migrated.status.success(), "{}", text(&migrated));
    assert!(matches!(
        plain.webhook(hook).await,
        Err(StoreError::Sealing(SealingError::NoKey(_)))
    ));
    let key = std::fs::read_to_string(dir.path().join("warp.key")).expect("key");
    let keyed = plain
        .clone()
        .with_sealing_key(SealingKey::from_base64(&key).expect("key"));
    assert_eq!(keyed.webhook(hook).await.expect("opens").secret, secret);
    keyed.close().await;
}

#[tokio::test]
async fn rotating_the_key_reseals_everything_and_is_audited() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("warp.db").display());
    let (hook, secret) = database_with_a_webhook(&url).await;
    for name in ["old.key", "new.key"] {
        let made = openwarp(dir.path(), &[], &["secrets-key", "new", name]);
        assert!(made.status.success(), "{}", text(&made));
    }
    let env = [
        ("OPENWARP_DATABASE_URL", url.as_str()),
        ("OPENWARP_SECRETS_KEY_FILE", "old.key"),
    ];
    let bad = openwarp(dir.path(), &env, &["secrets-key", "rotate", "no-such.key"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    let rotated = openwarp(dir.path(), &env, &["secrets-key", "rotate", "new.key"]);
    assert!(rotated.status.success(), "{}", text(&rotated));
    assert!(text(&rotated).contains("Re-sealed"), "{}", text(&rotated));

    let read_key = |name: &str| {
        let text = std::fs::read_to_string(dir.path().join(name)).expect("key");
        SealingKey::from_base64(&text).expect("key")
    };
    let store = Store::connect(&url).await.expect("open");
    let old = store.clone().with_sealing_key(read_key("old.key"));
    let new = store.clone().with_sealing_key(read_key("new.key"));
    assert!(matches!(
        old.webhook(hook).await,
        Err(StoreError::Sealing(SealingError::WrongKey(_)))
    ));
    assert_eq!(new.webhook(hook).await.expect("opens").secret, secret);
    let log = store.audit_log(10, None).await.expect("audit");
    assert!(
        log.iter()
            .any(|e| e.action == "secrets.rotate" && e.actor == "cli")
    );
    store.close().await;
}

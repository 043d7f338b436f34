//! `openwarp serve` and `openwarp migrate`, and the pieces `demo` shares with
//! them: connecting, listening, graceful shutdown and housekeeping.

use crate::config::Config;
use crate::failure::bad_input;
use anyhow::Context;
use openwarp_store::{SealingKey, Store, redact_url};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How often expired sessions and stale sign-in throttling rows are removed.
const PURGE_EVERY: Duration = Duration::from_secs(60 * 60);

/// Open the database named by `url` and bring its schema up to date.
///
/// Every command migrates: it is idempotent and cheap, and it lets an
/// operator bootstrap a fresh install with `openwarp user add` before the
/// server has ever run.
pub async fn open_store(url: &str) -> anyhow::Result<Store> {
    let shown = redact_url(url);
    let store = Store::connect(url)
        .await
        .with_context(|| format!("connecting to the database {shown}"))?;
    store
        .migrate()
        .await
        .with_context(|| format!("applying migrations to {shown}"))?;
    // Advisories stored before the match index existed are filed now, once.
    let indexed = store
        .ensure_match_index()
        .await
        .with_context(|| format!("indexing stored advisories for matching in {shown}"))?;
    if indexed > 0 {
        tracing::info!(
            advisories = indexed,
            "filed stored advisories in the match index"
        );
    }
    let (owed, counts) = store
        .resume_matching(openwarp_store::now())
        .await
        .with_context(|| format!("finishing interrupted matching in {shown}"))?;
    if owed > 0 {
        tracing::info!(
            advisories = owed,
            alerts = counts.alerts,
            "finished matching an interrupted ingest left owing"
        );
    }
    Ok(store)
}

/// Open the configured database (as [`open_store`]) with the configured
/// secrets key, if any: secrets are sealed with it from now on, and those
/// stored before it was configured are sealed now.
pub async fn open_configured(config: &Config) -> anyhow::Result<Store> {
    let key = load_secrets_key(config)?;
    let store = open_store(&config.database_url).await?;
    let Some(key) = key else {
        return Ok(store);
    };
    let store = store.with_sealing_key(key);
    let sealed = store
        .seal_stored_secrets()
        .await
        .context("sealing secrets stored before the secrets key was configured")?;
    if sealed > 0 {
        tracing::info!(
            sealed,
            "sealed secrets stored before the secrets key was configured"
        );
    }
    Ok(store)
}

/// The key named by `secrets_key_file`, read and checked; bad input (exit
/// status 2) naming the file when it cannot be used.
pub fn load_secrets_key(config: &Config) -> anyhow::Result<Option<SealingKey>> {
    let Some(path) = config.secrets_key_file.as_deref() else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad_input("secrets_key_file", format!("cannot read {path}: {e}")))?;
    SealingKey::from_base64(&text)
        .map(Some)
        .map_err(|e| bad_input("secrets_key_file", format!("{path}: {e}")))
}

/// `openwarp secrets-key new PATH`: write a new random key to a file only
/// its owner can read; an existing file is never replaced.
pub fn new_secrets_key(path: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write;
    let key = SealingKey::generate_base64()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            bad_input(
                "PATH",
                format!(
                    "{} exists; a key is never overwritten (secrets sealed with it would be lost)",
                    path.display()
                ),
            )
        } else {
            anyhow::Error::new(e).context(format!("creating {}", path.display()))
        }
    })?;
    writeln!(file, "{key}").with_context(|| format!("writing {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// `openwarp secrets-key rotate NEW_PATH`: seal every stored secret under
/// the key in NEW_PATH instead of the configured one, in one transaction.
pub async fn rotate_secrets_key(config: &Config, new_path: &std::path::Path) -> anyhow::Result<()> {
    let shown = new_path.display().to_string();
    let text = std::fs::read_to_string(new_path)
        .map_err(|e| bad_input("NEW_PATH", format!("cannot read {shown}: {e}")))?;
    let new = SealingKey::from_base64(&text)
        .map_err(|e| bad_input("NEW_PATH", format!("{shown}: {e}")))?;
    let store = open_configured(config).await?;
    let resealed = store
        .reseal_secrets(&new)
        .await
        .context("re-sealing the stored secrets")?;
    let detail = serde_json::json!({ "secrets": resealed, "new_key_file": shown });
    store
        .audit(
            openwarp_store::AuditEntry {
                actor_user_id: None,
                actor: "cli",
                action: "secrets.rotate",
                org_id: None,
                target: "secrets_key",
                detail,
                ip: None,
            },
            openwarp_store::now(),
        )
        .await
        .context("recording the rotation in the audit log")?;
    store.close().await;
    println!(
        "Re-sealed {resealed} stored secrets under {shown}. Set secrets_key_file to it for every \
         instance before starting them, and keep a copy apart from the backups; the old key opens \
         nothing any more (backups taken before now still need it)."
    );
    Ok(())
}

/// `openwarp rematch`: match every inventory against the whole corpus again
/// (after upgrading openwarp's matcher, say). Normal running never needs it.
pub async fn rematch(config: &Config) -> anyhow::Result<()> {
    let store = open_configured(config).await?;
    let started = std::time::Instant::now();
    let counts = store
        .rematch_all(openwarp_store::now())
        .await
        .context("re-matching inventories")?;
    println!(
        "re-matched in {:.1} s: {} pairs assessed, {} new exposures, {} changed, {} cleared",
        started.elapsed().as_secs_f64(),
        counts.assessed,
        counts.new,
        counts.changed,
        counts.cleared
    );
    store.close().await;
    Ok(())
}

/// `openwarp migrate`: apply migrations and say so.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = open_configured(config).await?;
    println!(
        "database {} ({}) is up to date",
        redact_url(&config.database_url),
        store.backend().name()
    );
    store.close().await;
    Ok(())
}

/// `openwarp serve`: migrate, then serve until Ctrl-C or SIGTERM.
pub async fn serve(config: &Config, listen: Option<&str>) -> anyhow::Result<()> {
    let store = open_configured(config).await?;
    let listener = bind(listen.unwrap_or(&config.listen)).await?;
    let address = listener.local_addr().context("reading the bound address")?;
    tracing::info!(
        url = config.base_url(),
        %address,
        backend = store.backend().name(),
        database = %redact_url(&config.database_url),
        secrets_sealed = store.seals_secrets(),
        "openwarp is serving"
    );
    if !store.seals_secrets() {
        tracing::warn!(
            "no secrets_key_file is configured: second-factor keys, webhook secrets and peer \
             credentials are stored unsealed (make a key with `openwarp secrets-key new PATH`)"
        );
    }
    run(listener, store, config).await
}

/// Bind the HTTP listener, naming the address if that fails (port taken…).
pub async fn bind(address: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("listening on {address}"))
}

/// Serve on `listener` with housekeeping, feed polling and alert delivery
/// until a shutdown signal, then close the pool so SQLite's write-ahead log
/// is checkpointed.
pub async fn run(listener: TcpListener, store: Store, config: &Config) -> anyhow::Result<()> {
    let housekeeping = spawn_purge(store.clone());
    let sources = openwarp_feeds::FeedSources::new(config.feeds.clone())
        .context("checking the [[feeds]] configuration")?;
    if !sources.is_empty() {
        tracing::info!(sources = sources.len(), "polling advisory feeds");
    }
    let (stop, mut stopped) = tokio::sync::watch::channel(());
    let feeds = tokio::spawn(openwarp_feeds::run_scheduler(
        store.clone(),
        sources,
        async move {
            let _ = stopped.changed().await;
        },
    ));
    // Alerts go out from the same process; on shutdown the worker finishes
    // the sends in hand and claims nothing new.
    let alerts = tokio::spawn(openwarp_alerts::run(store.clone(), config.alerts(), {
        let mut stopped = stop.subscribe();
        async move {
            let _ = stopped.changed().await;
        }
    }));
    // Federation (issue 9): poll peer WARPs' TAXII collections; a lease per
    // peer keeps two instances from polling the same one.
    let federation = tokio::spawn(openwarp_federation::run(store.clone(), {
        let mut stopped = stop.subscribe();
        async move {
            let _ = stopped.changed().await;
        }
    }));
    // End of federation (issue 9)
    let served = openwarp_web::serve(listener, store.clone(), config.web(), shutdown_signal())
        .await
        .context("serving HTTP");
    let _ = stop.send(());
    let _ = feeds.await;
    // Federation (issue 9)
    let _ = federation.await;
    // End of federation (issue 9)
    match alerts.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!(%error, "the alerts worker could not run"),
        Err(error) => tracing::error!(%error, "the alerts worker failed"),
    }
    housekeeping.abort();
    store.close().await;
    tracing::info!("openwarp stopped");
    served
}

/// Hourly removal of expired sessions. Failures are logged and retried next
/// hour: a database blip must never take the web server down with it.
fn spawn_purge(store: Store) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match store.purge_expired(openwarp_store::now()).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "purged expired sessions"),
                Err(error) => tracing::error!(%error, "could not purge expired sessions"),
            }
        }
    })
}

/// Completes on Ctrl-C or (on Unix) SIGTERM, so in-flight requests finish
/// before systemd or a container runtime stops the process.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate() => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Waits for SIGTERM; never completes where there is no such signal.
#[cfg(unix)]
async fn terminate() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut stream) => {
            stream.recv().await;
        }
        Err(error) => {
            tracing::error!(%error, "cannot listen for SIGTERM");
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending::<()>().await;
}

//! The delivery worker: takes due deliveries from the store's outbox under a
//! lease, sends them, and records what happened.
//!
//! At-least-once, never silently dropped: a delivery is marked sent only
//! after the mail server or webhook receiver accepted it, and each is marked
//! as soon as its own send ends (not at the end of the batch), so a crash
//! re-sends at most the sends that were in flight. A re-send carries the same
//! `Message-ID` / `Idempotency-Key`, so receivers can drop it.

use crate::render::{self, Context, RenderError};
use crate::smtp::{Mailer, SmtpConfig, SmtpError};
use crate::webhook::{WebhookClient, WebhookError};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use openwarp_matching::alert::{MAX_ATTEMPTS, RETRY_BASE, retry_delay};
use openwarp_store::{
    Channel, DELIVERY_LEASE, DeliveryJob, DeliveryStatus, Recipient, Store, StoreError,
};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often digests are looked for (each window is queued once, whoever
/// looks first).
const DIGEST_CHECK_EVERY: Duration = Duration::from_secs(60);

/// Everything the worker needs to know.
#[derive(Debug, Clone)]
pub struct AlertsConfig {
    /// `None`: e-mail deliveries wait (pending) until SMTP is configured.
    pub smtp: Option<SmtpConfig>,
    /// The public URL without a trailing slash; links in messages start with it.
    pub public_url: String,
    /// The WARP's name, in subjects and footers.
    pub warp_name: String,
    /// How long to wait for new work when the queue is empty.
    pub poll_interval: Duration,
    /// Deliveries claimed at once.
    pub batch_size: i64,
    /// Sends in flight at once.
    pub concurrency: usize,
    /// The first retry waits this long, each later one twice as long.
    pub retry_base: chrono::Duration,
    /// How long claimed deliveries stay ours; after a crash the rest wait
    /// this long before another worker takes them.
    pub lease: chrono::Duration,
    /// Give up on one webhook request after this long.
    pub webhook_timeout: Duration,
    /// Names this worker in the lease (unique per process).
    pub worker_id: String,
}

impl AlertsConfig {
    /// The defaults: poll every second, 50 at a time, 16 in flight (16 SMTP connections), retries
    /// from [`RETRY_BASE`], the store's [`DELIVERY_LEASE`].
    pub fn new(public_url: &str, warp_name: &str) -> AlertsConfig {
        AlertsConfig {
            smtp: None,
            public_url: public_url.trim_end_matches('/').to_string(),
            warp_name: warp_name.to_string(),
            poll_interval: Duration::from_secs(1),
            batch_size: 50,
            concurrency: 16,
            retry_base: RETRY_BASE,
            lease: DELIVERY_LEASE,
            webhook_timeout: Duration::from_secs(15),
            worker_id: worker_id(),
        }
    }
}

/// A worker id unique to this process: `alerts-<pid>-<random>`.
pub fn worker_id() -> String {
    let token = openwarp_store::crypto::new_token();
    format!(
        "alerts-{}-{}",
        std::process::id(),
        token.get(..8).unwrap_or(&token)
    )
}

/// The worker could not start or could not reach the store.
#[derive(Debug, thiserror::Error)]
pub enum AlertsError {
    #[error(transparent)]
    Smtp(#[from] SmtpError),
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    #[error("alerts store: {0}")]
    Store(#[from] StoreError),
}

/// What one batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchCounts {
    pub claimed: usize,
    pub sent: usize,
    /// Failed, to be retried later.
    pub retrying: usize,
    /// Given up (dead-lettered).
    pub dead: usize,
    /// Left pending under the lease: e-mail without SMTP configured, or not
    /// started before the lease ran short.
    pub held: usize,
}

/// How one send ended.
enum Failure {
    Permanent(String),
    Transient(String),
    /// Not attempted (no SMTP configured, lease running short).
    Held,
}

impl From<SmtpError> for Failure {
    fn from(e: SmtpError) -> Failure {
        if e.is_permanent() {
            Failure::Permanent(e.to_string())
        } else {
            Failure::Transient(e.to_string())
        }
    }
}

impl From<WebhookError> for Failure {
    fn from(e: WebhookError) -> Failure {
        if e.is_permanent() {
            Failure::Permanent(e.to_string())
        } else {
            Failure::Transient(e.to_string())
        }
    }
}

impl From<RenderError> for Failure {
    /// A message that cannot be rendered now never will be.
    fn from(e: RenderError) -> Failure {
        Failure::Permanent(e.to_string())
    }
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Sent,
    Retrying,
    Dead,
    Held,
}

/// Sends deliveries: the mail server's connection pool, the HTTP client and
/// the link secret, kept across batches.
#[derive(Debug)]
pub struct Deliverer {
    store: Store,
    cfg: AlertsConfig,
    mailer: Option<Mailer>,
    http: WebhookClient,
    link_secret: tokio::sync::OnceCell<String>,
    warned_no_smtp: AtomicBool,
}

impl Deliverer {
    /// Check the configuration and set up the clients (no connection yet).
    pub fn new(store: Store, cfg: AlertsConfig) -> Result<Deliverer, AlertsError> {
        let connections = u32::try_from(cfg.concurrency.max(1)).unwrap_or(u32::MAX);
        let mailer = cfg
            .smtp
            .as_ref()
            .map(|s| Mailer::with_connections(s, connections))
            .transpose()?;
        let http = WebhookClient::new(cfg.webhook_timeout)?;
        Ok(Deliverer {
            store,
            cfg,
            mailer,
            http,
            link_secret: tokio::sync::OnceCell::new(),
            warned_no_smtp: AtomicBool::new(false),
        })
    }

    pub fn config(&self) -> &AlertsConfig {
        &self.cfg
    }

    /// Claim up to a batch of deliveries due at `now`, send them (a few at a
    /// time) and record each outcome as soon as it is known.
    pub async fn deliver_due(&self, now: DateTime<Utc>) -> Result<BatchCounts, AlertsError> {
        let secret = self
            .link_secret
            .get_or_try_init(|| self.store.instance_secret("link_signing", now))
            .await?;
        let jobs = self
            .store
            .claim_deliveries_on(
                &self.cfg.worker_id,
                now,
                self.cfg.lease,
                self.cfg.batch_size,
                // Without a mail server, e-mail waits unclaimed (pending, not
                // lost) and webhooks go out undelayed behind it.
                self.mailer.is_none().then_some(Channel::Webhook),
            )
            .await?;
        if self.mailer.is_none() && !self.warned_no_smtp.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "e-mail alerts are waiting: SMTP is not configured ([alerts.smtp] in the configuration); \
                 they stay pending, not lost, and go out once it is"
            );
        }
        let mut counts = BatchCounts {
            claimed: jobs.len(),
            ..BatchCounts::default()
        };
        if jobs.is_empty() {
            return Ok(counts);
        }
        // Sends not started by half the lease are left for the next claim,
        // so a slow server cannot make the lease expire under a send and
        // let another worker send the same message too.
        let started = Instant::now();
        let budget = self.cfg.lease.to_std().unwrap_or(Duration::from_secs(120)) / 2;
        let ctx = Context {
            public_url: &self.cfg.public_url,
            warp_name: &self.cfg.warp_name,
            link_secret: secret,
        };
        // A hand-written loop over `FuturesUnordered` rather than stream
        // combinators with closures: the combinators' borrowed closures
        // defeat the compiler's proof that this future is `Send`, which
        // `tokio::spawn` needs.
        let mut queue = jobs.iter();
        let mut in_flight = FuturesUnordered::new();
        loop {
            while in_flight.len() < self.cfg.concurrency.max(1) {
                let Some(job) = queue.next() else { break };
                in_flight.push(self.process(&ctx, job, now, started, budget));
            }
            let Some(outcome) = in_flight.next().await else {
                break;
            };
            match outcome? {
                Outcome::Sent => counts.sent += 1,
                Outcome::Retrying => counts.retrying += 1,
                Outcome::Dead => counts.dead += 1,
                Outcome::Held => counts.held += 1,
            }
        }
        Ok(counts)
    }

    /// Send one delivery (unless the lease is running short) and record
    /// the outcome.
    async fn process(
        &self,
        ctx: &Context<'_>,
        job: &DeliveryJob,
        now: DateTime<Utc>,
        started: Instant,
        budget: Duration,
    ) -> Result<Outcome, StoreError> {
        let result = if started.elapsed() > budget {
            Err(Failure::Held)
        } else {
            self.send(ctx, job, now).await
        };
        self.settle(job, result, now).await
    }

    /// Render and send one delivery.
    async fn send(
        &self,
        ctx: &Context<'_>,
        job: &DeliveryJob,
        now: DateTime<Utc>,
    ) -> Result<(), Failure> {
        match &job.recipient {
            Recipient::Email {
                user_id,
                email,
                name,
            } => {
                let Some(mailer) = &self.mailer else {
                    if !self.warned_no_smtp.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            "e-mail alerts are waiting: SMTP is not configured ([alerts.smtp] in the configuration); \
                             they stay pending, not lost, and go out once it is"
                        );
                    }
                    return Err(Failure::Held);
                };
                let message = if let Some(alert) = &job.alert {
                    render::alert_email(ctx, alert, &job.org_name, *user_id, &job.idempotency_key)?
                } else if let Some((payload, alerts)) = &job.digest {
                    if alerts.is_empty() {
                        return Err(Failure::Permanent(
                            "the digest's alerts no longer exist".into(),
                        ));
                    }
                    render::digest_email(
                        ctx,
                        &job.org_name,
                        *user_id,
                        payload,
                        alerts,
                        &job.idempotency_key,
                    )?
                } else {
                    return Err(Failure::Permanent(
                        "the delivery has neither an alert nor a digest".into(),
                    ));
                };
                mailer.send(email, name, &message).await?;
                Ok(())
            }
            Recipient::Webhook(hook) => {
                if !hook.active {
                    return Err(Failure::Permanent(format!(
                        "webhook {:?} is switched off",
                        hook.name
                    )));
                }
                let Some(alert) = &job.alert else {
                    return Err(Failure::Permanent(
                        "webhooks carry alerts only; this delivery has none".into(),
                    ));
                };
                let body = render::webhook_body(
                    ctx,
                    hook.format,
                    alert,
                    &job.org_name,
                    &job.idempotency_key,
                )?;
                self.http
                    .post(
                        &hook.url,
                        &hook.secret,
                        &job.idempotency_key,
                        now.timestamp(),
                        body,
                    )
                    .await?;
                Ok(())
            }
        }
    }

    /// Record how a send ended: sent, retried with backoff, or dead.
    async fn settle(
        &self,
        job: &DeliveryJob,
        result: Result<(), Failure>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, StoreError> {
        let (error, permanent) = match result {
            Ok(()) => {
                self.store.delivery_sent(job.id, now).await?;
                tracing::debug!(delivery = job.id, key = %job.idempotency_key, "delivered");
                return Ok(Outcome::Sent);
            }
            Err(Failure::Held) => return Ok(Outcome::Held),
            Err(Failure::Permanent(e)) => (e, true),
            Err(Failure::Transient(e)) => (e, false),
        };
        let attempt = job.attempts.saturating_add(1);
        let retry_at = (!permanent && attempt < MAX_ATTEMPTS)
            .then(|| now + retry_delay(attempt, self.cfg.retry_base));
        let status = self
            .store
            .delivery_failed(job.id, &error, retry_at, now)
            .await?;
        if status == DeliveryStatus::Dead {
            tracing::warn!(
                delivery = job.id,
                key = %job.idempotency_key,
                attempt,
                %error,
                "delivery given up (dead letter); an operator can retry it"
            );
            Ok(Outcome::Dead)
        } else {
            tracing::info!(
                delivery = job.id,
                key = %job.idempotency_key,
                attempt,
                %error,
                retry_at = ?retry_at,
                "delivery failed; will retry"
            );
            Ok(Outcome::Retrying)
        }
    }
}

/// Deliver one batch now, with fresh clients: for tests and benchmarks.
pub async fn deliver_due(
    store: &Store,
    cfg: &AlertsConfig,
    now: DateTime<Utc>,
) -> Result<BatchCounts, AlertsError> {
    Deliverer::new(store.clone(), cfg.clone())?
        .deliver_due(now)
        .await
}

/// Run the worker until `shutdown` completes: deliver what is due, poll
/// when idle, queue digests once a minute. On shutdown the batch in hand is
/// finished and nothing new is claimed. Errors reaching the store are
/// logged and retried: a database blip must not stop alerting. Fails only
/// at start, on configuration that cannot work.
pub async fn run(
    store: Store,
    cfg: AlertsConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AlertsError> {
    let deliverer = Deliverer::new(store.clone(), cfg)?;
    let cfg = deliverer.config();
    tracing::info!(
        worker = %cfg.worker_id,
        smtp = cfg.smtp.as_ref().map_or("not configured", |s| s.host.as_str()),
        "alerts worker started"
    );
    tokio::pin!(shutdown);
    let mut last_digest_check: Option<Instant> = None;
    loop {
        if last_digest_check.is_none_or(|t| t.elapsed() >= DIGEST_CHECK_EVERY) {
            last_digest_check = Some(Instant::now());
            match store.queue_digests(openwarp_store::now()).await {
                Ok(0) => {}
                Ok(queued) => tracing::info!(queued, "digests queued"),
                Err(error) => tracing::error!(%error, "could not queue digests"),
            }
            match store.queue_ico_reminders(openwarp_store::now()).await {
                Ok(0) => {}
                Ok(raised) => tracing::info!(raised, "ICO deadline reminders raised"),
                Err(error) => tracing::error!(%error, "could not raise ICO deadline reminders"),
            }
            match store.queue_meeting_reminders(openwarp_store::now()).await {
                Ok(0) => {}
                Ok(raised) => tracing::info!(raised, "meeting reminders raised"),
                Err(error) => tracing::error!(%error, "could not raise meeting reminders"),
            }
        }
        let pause = match deliverer.deliver_due(openwarp_store::now()).await {
            Ok(c) => {
                if c.claimed > 0 {
                    tracing::debug!(
                        claimed = c.claimed,
                        sent = c.sent,
                        retrying = c.retrying,
                        dead = c.dead,
                        held = c.held,
                        "delivery batch"
                    );
                }
                // A full batch of real work: there may be more due now.
                if c.claimed as i64 >= cfg.batch_size && c.held < c.claimed {
                    Duration::ZERO
                } else {
                    cfg.poll_interval
                }
            }
            Err(error) => {
                tracing::error!(%error, "alert delivery batch failed; retrying");
                cfg.poll_interval.max(Duration::from_secs(1))
            }
        };
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    tracing::info!("alerts worker stopped");
    Ok(())
}

//! The background task `openwarp serve` runs to poll live feeds.
//!
//! One loop per source: work out from the stored `feed_state` when the
//! source is next due, sleep until then, poll it under its database lease,
//! repeat. Due times come from the database, not from memory, so several
//! instances on one PostgreSQL agree on them, a restart does not poll
//! everything at once, and whichever instance gets the lease does the work.
//! Failures back off (5 minutes, doubling, at most 6 hours by default) and are
//! logged; nothing here panics or stops the server, and a source loop that
//! somehow dies is restarted.

use crate::fetch::{FetchOptions, Fetcher, PollOutcome};
use crate::sources::{FeedSource, FeedSources};
use chrono::{DateTime, TimeDelta, Utc};
use openwarp_store::{FeedState, Store};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Timing of the scheduler; the defaults suit production.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    pub fetch: FetchOptions,
    /// Delay before polling again after one failure; doubles per consecutive failure.
    pub failure_backoff: Duration,
    /// Longest delay between failed polls.
    pub failure_backoff_max: Duration,
    /// While another instance holds a source's lease (or the database is
    /// unreachable), look again this often.
    pub recheck: Duration,
    /// Each wait is lengthened by a random part of up to this fraction, so
    /// instances started together do not poll in lockstep.
    pub jitter: f64,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions {
            fetch: FetchOptions::default(),
            failure_backoff: Duration::from_secs(5 * 60),
            failure_backoff_max: Duration::from_secs(6 * 3600),
            recheck: Duration::from_secs(60),
            jitter: 0.1,
        }
    }
}

/// Poll `sources` until `shutdown` completes, with the default options; see
/// the module documentation. Spawn it beside the web server:
///
/// ```ignore
/// let (stop, stopped) = tokio::sync::watch::channel(());
/// let feeds = tokio::spawn(openwarp_feeds::run_scheduler(store.clone(), sources, async move {
///     let mut stopped = stopped;
///     let _ = stopped.changed().await;
/// }));
/// // … serve until a signal …
/// let _ = stop.send(());
/// let _ = feeds.await;
/// ```
pub async fn run_scheduler(
    store: Store,
    sources: FeedSources,
    shutdown: impl Future<Output = ()> + Send,
) {
    run_scheduler_with(store, sources, SchedulerOptions::default(), shutdown).await;
}

/// [`run_scheduler`] with chosen options. Returns once `shutdown` completes
/// and every source loop has stopped; polls in flight are abandoned (what
/// they stored stays stored, batch by batch) and their leases released.
pub async fn run_scheduler_with(
    store: Store,
    sources: FeedSources,
    options: SchedulerOptions,
    shutdown: impl Future<Output = ()> + Send,
) {
    if sources.is_empty() {
        tracing::debug!("no feed sources configured");
        return;
    }
    let fetcher = match Fetcher::new(store, options.fetch.clone()) {
        Ok(f) => Arc::new(f),
        Err(error) => {
            tracing::error!(%error, "feed polling is disabled");
            return;
        }
    };
    tracing::info!(
        feeds = sources.len(),
        holder = fetcher.holder(),
        "feed scheduler started"
    );
    let options = Arc::new(options);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut loops = Vec::new();
    for source in sources.as_slice() {
        loops.push(tokio::spawn(supervise(
            fetcher.clone(),
            source.clone(),
            options.clone(),
            stop_rx.clone(),
        )));
    }
    shutdown.await;
    let _ = stop_tx.send(true);
    for l in loops {
        if let Err(error) = l.await {
            tracing::error!(%error, "a feed loop failed to stop cleanly");
        }
    }
    tracing::info!("feed scheduler stopped");
}

/// Run one source's loop, restarting it (after a pause) should it ever panic.
async fn supervise(
    fetcher: Arc<Fetcher>,
    source: FeedSource,
    options: Arc<SchedulerOptions>,
    stop: watch::Receiver<bool>,
) {
    loop {
        let task = tokio::spawn(source_loop(
            fetcher.clone(),
            source.clone(),
            options.clone(),
            stop.clone(),
        ));
        match task.await {
            Ok(()) => return,
            Err(error) => {
                tracing::error!(feed = %source.name, %error, "feed loop crashed; restarting it");
                fetcher.release(&source.name).await;
                let mut stop = stop.clone();
                if sleep_or_stop(options.recheck, &mut stop).await {
                    return;
                }
            }
        }
    }
}

async fn source_loop(
    fetcher: Arc<Fetcher>,
    source: FeedSource,
    options: Arc<SchedulerOptions>,
    mut stop: watch::Receiver<bool>,
) {
    let policy = DuePolicy {
        interval: source.interval,
        failure_backoff: options.failure_backoff,
        failure_backoff_max: options.failure_backoff_max,
    };
    // A floor under the next wait set by this loop itself, so that even if
    // the database cannot record an outcome we do not poll in a tight loop.
    let mut not_before: Option<tokio::time::Instant> = None;
    let mut local_failures: u32 = 0;
    loop {
        if *stop.borrow() {
            return;
        }
        let now = openwarp_store::now();
        let mut wait = match fetcher.store().get_feed_state(&source.name).await {
            Ok(state) => policy.wait(state.as_ref(), now),
            Err(error) => {
                tracing::warn!(feed = %source.name, %error, "cannot read the feed state");
                options.recheck
            }
        };
        if let Some(t) = not_before {
            wait = wait.max(t.saturating_duration_since(tokio::time::Instant::now()));
        }
        if !wait.is_zero() {
            let wait = wait + wait.mul_f64(options.jitter.clamp(0.0, 1.0) * fastrand::f64());
            tracing::debug!(feed = %source.name, wait_s = wait.as_secs(), "next poll");
            if sleep_or_stop(wait, &mut stop).await {
                return;
            }
            // Look at the state again: another instance may have polled meanwhile.
            continue;
        }

        let started = std::time::Instant::now();
        let poll = fetcher.poll_when(&source, openwarp_store::now(), |state| {
            policy.wait(state, openwarp_store::now()).is_zero()
        });
        let result = tokio::select! {
            r = poll => r,
            _ = stop.changed() => {
                tracing::info!(
                    feed = %source.name,
                    "shutting down: abandoning the poll in progress"
                );
                fetcher.release(&source.name).await;
                return;
            }
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let after = match &result {
            Ok(r) => match r.outcome {
                PollOutcome::Updated | PollOutcome::NotModified => {
                    local_failures = 0;
                    tracing::info!(
                        feed = %source.name,
                        outcome = ?r.outcome,
                        new = r.counts.new,
                        changed = r.counts.changed,
                        unchanged = r.counts.unchanged,
                        rejected = r.counts.rejected,
                        epss_scores = r.counts.epss_scores,
                        documents = r.documents,
                        requests = r.requests,
                        bytes = r.bytes,
                        elapsed_ms,
                        "feed polled"
                    );
                    source.interval
                }
                PollOutcome::Busy => {
                    tracing::debug!(feed = %source.name, "another instance is polling it");
                    options.recheck
                }
                PollOutcome::NotDue => Duration::ZERO,
            },
            Err(error) => {
                local_failures = local_failures.saturating_add(1);
                tracing::warn!(
                    feed = %source.name,
                    %error,
                    failures = local_failures,
                    elapsed_ms,
                    "feed poll failed"
                );
                policy.failure_delay(local_failures)
            }
        };
        not_before = Some(tokio::time::Instant::now() + after);
    }
}

/// Sleep for `d`; `true` if asked to stop meanwhile.
async fn sleep_or_stop(d: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        () = tokio::time::sleep(d) => *stop.borrow(),
        changed = stop.changed() => changed.is_err() || *stop.borrow(),
    }
}

/// When a source is next due, from its stored state: the interval after the
/// last attempt, or after a failure a shorter, growing delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuePolicy {
    pub interval: Duration,
    pub failure_backoff: Duration,
    pub failure_backoff_max: Duration,
}

impl DuePolicy {
    /// The delay after `failures` consecutive failures (at least one).
    pub fn failure_delay(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(20);
        self.failure_backoff
            .saturating_mul(1u32 << exp)
            .min(self.failure_backoff_max)
    }

    /// When the source is due: `None` means now (never polled).
    pub fn next_poll_at(&self, state: Option<&FeedState>) -> Option<DateTime<Utc>> {
        let state = state?;
        let last = state.last_attempt_at?;
        let delay = if state.consecutive_failures > 0 {
            self.failure_delay(state.consecutive_failures)
        } else {
            self.interval
        };
        Some(
            last.checked_add_signed(TimeDelta::from_std(delay).unwrap_or(TimeDelta::MAX))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        )
    }

    /// How long from `now` until the source is due (zero if it is).
    pub fn wait(&self, state: Option<&FeedState>, now: DateTime<Utc>) -> Duration {
        self.next_poll_at(state)
            .and_then(|at| (at - now).to_std().ok())
            .unwrap_or(Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use openwarp_store::FeedRunCounts;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0)
            .single()
            .unwrap_or_default()
    }

    fn state(last_attempt: Option<DateTime<Utc>>, failures: u32) -> FeedState {
        FeedState {
            name: "kev".into(),
            etag: None,
            last_modified: None,
            checkpoint: None,
            lease_holder: None,
            lease_until: None,
            last_attempt_at: last_attempt,
            last_success_at: None,
            last_outcome: None,
            last_error: None,
            consecutive_failures: failures,
            last_counts: FeedRunCounts::default(),
        }
    }

    #[test]
    fn due_after_the_interval_or_a_growing_delay_after_failures() {
        let p = DuePolicy {
            interval: Duration::from_secs(3600),
            failure_backoff: Duration::from_secs(300),
            failure_backoff_max: Duration::from_secs(6 * 3600),
        };
        assert_eq!(p.wait(None, t0()), Duration::ZERO, "never seen: due now");
        assert_eq!(p.wait(Some(&state(None, 0)), t0()), Duration::ZERO);
        let polled = state(Some(t0()), 0);
        assert_eq!(
            p.wait(Some(&polled), t0() + TimeDelta::minutes(20)),
            Duration::from_secs(40 * 60)
        );
        assert_eq!(
            p.wait(Some(&polled), t0() + TimeDelta::hours(2)),
            Duration::ZERO
        );
        let delays: Vec<u64> = [1, 2, 3, 4, 7, 8, 30]
            .into_iter()
            .map(|n| p.wait(Some(&state(Some(t0()), n)), t0()).as_secs() / 60)
            .collect();
        assert_eq!(delays, [5, 10, 20, 40, 320, 360, 360]);
    }
}

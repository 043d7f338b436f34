//! Fetching live feeds over HTTP(S) and ingesting what arrives.
//!
//! One [`Fetcher`] per process polls any number of [`FeedSource`]s. A poll:
//! 1. takes the source's lease in the database ([`Store::try_lease`]), so of
//!    several instances on one PostgreSQL only one polls a source at a time,
//!    and renews it before every request;
//! 2. fetches: a `file` source with a conditional GET (the stored ETag and
//!    Last-Modified), an `nvd_api` source page by page over last-modified
//!    windows from its checkpoint;
//! 3. ingests each document through [`ingest_bytes`], the same pipeline as
//!    `openwarp ingest`;
//! 4. records the outcome in `feed_state` and releases the lease.
//!
//! Why it is careful about failure: a feed that is down, slow, rate-limited
//! or cut off mid-download must never store half a document or lose its
//! place. Transient failures (connection errors, timeouts, a body cut short,
//! 5xx, 408, 429) are retried with exponential backoff and jitter, honouring
//! `Retry-After`; other client errors are not retried, as asking again will
//! not help. A document is ingested only once it has arrived whole, and the
//! stored ETag changes only after it has been ingested, so after any failure
//! the next poll fetches it again in full.

use crate::input::{InputError, decompress};
use crate::pipeline::{IngestOptions, ingest_bytes};
use crate::sources::{FeedKind, FeedSource};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use openwarp_advisory::Format;
use openwarp_store::{FeedRunCounts, FeedState, FeedSuccess, KnownRecords, Store, StoreError};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::time::Instant;

/// Sent with every request, so feed operators can see who is asking and
/// where to find us (NVD and CISA both ask for an identifying User-Agent).
pub const USER_AGENT: &str = concat!(
    "openwarp/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/openwarp/openwarp)"
);

/// How the fetcher talks to feeds. The defaults suit production; tests shrink
/// the delays.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Time allowed to open a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time allowed for one whole request, body included. Generous: the NVD
    /// yearly feeds and EPSS are tens of megabytes.
    pub request_timeout: Duration,
    /// Largest body accepted (before decompression), enforced while it streams in.
    pub max_body: u64,
    /// Redirects followed for `file` sources (never for `nvd_api`, so the API
    /// key cannot be carried to another host).
    pub max_redirects: usize,
    /// Requests made for one document before giving up, the first included.
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt, with jitter.
    pub backoff_base: Duration,
    /// Longest delay between two attempts from our own backoff.
    pub backoff_max: Duration,
    /// Longest `Retry-After` honoured; a server asking for more gets this.
    pub retry_after_max: Duration,
    /// How long a lease lasts without renewal; renewed before every request
    /// and every ingest, so it only has to outlast one of those.
    pub lease_ttl: Duration,
    pub nvd: NvdOptions,
    pub ingest: IngestOptions,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(5 * 60),
            max_body: 2 * 1024 * 1024 * 1024,
            max_redirects: 5,
            max_attempts: 5,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(2 * 60),
            retry_after_max: Duration::from_secs(10 * 60),
            lease_ttl: Duration::from_secs(15 * 60),
            nvd: NvdOptions::default(),
            ingest: IngestOptions::default(),
        }
    }
}

/// The NVD CVE API 2.0's rules, as published (nvd.nist.gov/developers).
#[derive(Debug, Clone)]
pub struct NvdOptions {
    /// `resultsPerPage`; the API's maximum is 2000.
    pub page_size: u32,
    /// Longest `lastModStartDate`..`lastModEndDate` range; the API's maximum is 120 days.
    pub window: Duration,
    /// How far back the first run (no checkpoint yet) starts. Older CVEs come
    /// from the yearly feed files through `openwarp ingest`.
    pub backfill: Duration,
    /// The rolling window the rate limits count over: 30 s.
    pub rate_window: Duration,
    /// Requests per rolling window without an API key: 5.
    pub requests_without_key: u32,
    /// Requests per rolling window with an API key: 50.
    pub requests_with_key: u32,
}

impl Default for NvdOptions {
    fn default() -> Self {
        NvdOptions {
            page_size: 2000,
            window: Duration::from_secs(120 * 86_400),
            backfill: Duration::from_secs(120 * 86_400),
            rate_window: Duration::from_secs(30),
            requests_without_key: 5,
            requests_with_key: 50,
        }
    }
}

/// Why a poll failed. The text is stored as the source's `last_error`, so it
/// names the URL and what went wrong.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    #[error("feed '{feed}': url '{url}' is not usable: {reason}")]
    BadUrl {
        feed: String,
        url: String,
        reason: String,
    },
    /// Connecting, sending or receiving failed (includes timeouts).
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: HTTP {status}{detail}")]
    Status {
        url: String,
        status: u16,
        detail: String,
    },
    #[error("{url}: the response is larger than the {limit}-byte limit")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: the body was cut short: {received} of {expected} bytes arrived")]
    Truncated {
        url: String,
        expected: u64,
        received: u64,
    },
    #[error(transparent)]
    Decompress(#[from] InputError),
    /// The document arrived whole but could not be parsed or stored.
    #[error("{document}: {message}")]
    Ingest { document: String, message: String },
    #[error("{url}: not a usable NVD CVE API 2.0 response: {reason}")]
    NvdResponse { url: String, reason: String },
    #[error("feed '{feed}': another instance took over the lease; stopped")]
    LeaseLost { feed: String },
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("{last} (gave up after {attempts} attempts)")]
    GaveUp {
        attempts: u32,
        last: Box<FetchError>,
    },
}

/// How a poll ended, when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PollOutcome {
    /// Documents were fetched and ingested.
    Updated,
    /// The server answered 304: nothing changed since the last fetch.
    NotModified,
    /// Another instance holds the lease and is polling this source.
    Busy,
    /// Another instance polled it since we looked: not due yet (scheduler only).
    NotDue,
}

/// What one poll did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollReport {
    pub feed: String,
    pub outcome: PollOutcome,
    pub counts: FeedRunCounts,
    /// Documents ingested (NVD: pages).
    pub documents: u32,
    /// HTTP requests made, retries included.
    pub requests: u32,
    /// Bytes received, before decompression.
    pub bytes: u64,
    /// The checkpoint stored after this poll (NVD: the `lastModEndDate` reached).
    pub checkpoint: Option<String>,
}

/// Polls feed sources; see the module documentation. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Fetcher {
    store: Store,
    options: FetchOptions,
    /// For `file` sources: follows a few redirects (EPSS, for one, redirects).
    files: reqwest::Client,
    /// For `nvd_api` sources: never follows redirects, so the `apiKey` header
    /// (which reqwest would carry along) cannot leak to another host.
    api: reqwest::Client,
    holder: String,
    /// One rolling-window limiter per API key (or none): NVD counts requests
    /// per key, or per address without one.
    limiters: tokio::sync::Mutex<HashMap<String, RateLimiter>>,
}

impl Fetcher {
    /// A fetcher with its own lease-holder id (host, process, random suffix),
    /// so leases name who holds them.
    pub fn new(store: Store, options: FetchOptions) -> Result<Fetcher, FetchError> {
        let client = |redirects: reqwest::redirect::Policy| {
            reqwest::Client::builder()
                .user_agent(USER_AGENT)
                .connect_timeout(options.connect_timeout)
                .timeout(options.request_timeout)
                .redirect(redirects)
                .build()
                .map_err(|e| FetchError::Client(error_chain(&e)))
        };
        let files = client(reqwest::redirect::Policy::limited(options.max_redirects))?;
        let api = client(reqwest::redirect::Policy::none())?;
        let holder = format!(
            "{}/{}/{:08x}",
            host_name(),
            std::process::id(),
            fastrand::u32(..)
        );
        Ok(Fetcher {
            store,
            options,
            files,
            api,
            holder,
            limiters: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    /// Who this fetcher is when it holds a lease.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn options(&self) -> &FetchOptions {
        &self.options
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Poll `source` now, whether due or not (unless another instance is
    /// polling it: then [`PollOutcome::Busy`]). The outcome is recorded in
    /// the source's `feed_state` before this returns, failures included.
    pub async fn poll(&self, source: &FeedSource) -> Result<PollReport, FetchError> {
        self.poll_at(source, openwarp_store::now()).await
    }

    /// [`Fetcher::poll`] with the time it starts at given: it is recorded as
    /// the attempt's time and ends the NVD window. For tests that move time.
    pub async fn poll_at(
        &self,
        source: &FeedSource,
        now: DateTime<Utc>,
    ) -> Result<PollReport, FetchError> {
        self.poll_when(source, now, |_| true).await
    }

    /// Poll if `due` says so once the lease is held. Asking only under the
    /// lease closes the race where another instance finishes a poll between
    /// our look at the state and our taking the lease.
    pub(crate) async fn poll_when(
        &self,
        source: &FeedSource,
        now: DateTime<Utc>,
        due: impl FnOnce(Option<&FeedState>) -> bool,
    ) -> Result<PollReport, FetchError> {
        let mut run = Run::new(self, source, now);
        if !self
            .store
            .try_lease(&source.name, &self.holder, now, run.ttl)
            .await?
        {
            return Ok(run.report(PollOutcome::Busy, None));
        }
        let state = match self.store.get_feed_state(&source.name).await {
            Ok(s) => s,
            Err(e) => {
                self.release(&source.name).await;
                return Err(e.into());
            }
        };
        if !due(state.as_ref()) {
            self.release(&source.name).await;
            return Ok(run.report(PollOutcome::NotDue, None));
        }
        let result = match source.kind {
            FeedKind::File => self.fetch_file(source, state.as_ref(), &mut run).await,
            FeedKind::NvdApi => self.fetch_nvd(source, state.as_ref(), &mut run).await,
        };
        match result {
            Ok(success) => {
                match self
                    .store
                    .save_feed_success(&source.name, &self.holder, &success, now)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(
                        feed = %source.name,
                        "lease lost before the outcome was recorded; another instance will poll again"
                    ),
                    Err(e) => {
                        self.release(&source.name).await;
                        return Err(e.into());
                    }
                }
                let outcome = if success.not_modified {
                    PollOutcome::NotModified
                } else {
                    PollOutcome::Updated
                };
                run.counts = success.counts;
                Ok(run.report(outcome, success.checkpoint))
            }
            Err(error) => {
                let text = error.to_string();
                match self
                    .store
                    .save_feed_failure(&source.name, &self.holder, &text, run.counts, now)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(
                            feed = %source.name,
                            "lease lost before the failure was recorded"
                        );
                    }
                    Err(e) => {
                        tracing::error!(
                            feed = %source.name,
                            error = %e,
                            "could not record the failure"
                        );
                        self.release(&source.name).await;
                    }
                }
                Err(error)
            }
        }
    }

    /// Give up the lease on `name` if we hold it; failures are only logged
    /// (the lease expires on its own).
    pub(crate) async fn release(&self, name: &str) {
        if let Err(e) = self.store.release_lease(name, &self.holder).await {
            tracing::warn!(feed = %name, error = %e, "could not release the lease; it will expire");
        }
    }

    /// A whole document with a conditional GET.
    async fn fetch_file(
        &self,
        source: &FeedSource,
        state: Option<&FeedState>,
        run: &mut Run,
    ) -> Result<FeedSuccess, FetchError> {
        let url = parse_url(source)?;
        let mut conditional = HeaderMap::new();
        let etag = state.and_then(|s| s.etag.clone());
        let last_modified = state.and_then(|s| s.last_modified.clone());
        if let Some(v) = etag.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            conditional.insert(header::IF_NONE_MATCH, v);
        }
        if let Some(v) = last_modified
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            conditional.insert(header::IF_MODIFIED_SINCE, v);
        }
        let fetched = self
            .fetch_with_retries(&self.files, &url, &conditional, None, run)
            .await?;
        if fetched.not_modified {
            tracing::debug!(feed = %source.name, "not modified");
            return Ok(FeedSuccess {
                not_modified: true,
                etag: fetched.etag.or(etag),
                last_modified: fetched.last_modified.or(last_modified),
                checkpoint: state.and_then(|s| s.checkpoint.clone()),
                counts: FeedRunCounts::default(),
            });
        }
        let document = format!("{} ({url})", source.name);
        let body = fetched.body;
        let name = document.clone();
        let bytes = tokio::task::spawn_blocking(move || decompress(&name, body))
            .await
            .map_err(|e| FetchError::Ingest {
                document: document.clone(),
                message: format!("decompressing stopped unexpectedly: {e}"),
            })??;
        self.ingest(source, &document, bytes, run).await?;
        Ok(FeedSuccess {
            not_modified: false,
            etag: fetched.etag,
            last_modified: fetched.last_modified,
            checkpoint: state.and_then(|s| s.checkpoint.clone()),
            counts: run.counts,
        })
    }

    /// Every CVE modified since the checkpoint, window by window, page by page.
    async fn fetch_nvd(
        &self,
        source: &FeedSource,
        state: Option<&FeedState>,
        run: &mut Run,
    ) -> Result<FeedSuccess, FetchError> {
        let url = parse_url(source)?;
        let nvd = &self.options.nvd;
        let end = run.now;
        let mut checkpoint = state.and_then(|s| s.checkpoint.clone());
        let mut from = match checkpoint.as_deref().map(DateTime::parse_from_rfc3339) {
            Some(Ok(t)) => t.with_timezone(&Utc),
            Some(Err(e)) => {
                tracing::warn!(feed = %source.name, checkpoint = ?checkpoint, error = %e,
                    "unreadable checkpoint; starting from the backfill point");
                end.checked_sub_signed(delta(nvd.backfill))
                    .unwrap_or(DateTime::<Utc>::MIN_UTC)
            }
            None => end
                .checked_sub_signed(delta(nvd.backfill))
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(key) = &source.api_key {
            let mut value =
                HeaderValue::from_str(key.expose()).map_err(|_| FetchError::BadUrl {
                    feed: source.name.clone(),
                    url: url.to_string(),
                    reason: "the api_key is not a valid header value".into(),
                })?;
            value.set_sensitive(true);
            headers.insert("apikey", value);
        }
        let limiter_key = source
            .api_key
            .as_ref()
            .map_or_else(String::new, |k| k.expose().to_string());
        let per_window = if source.api_key.is_some() {
            nvd.requests_with_key
        } else {
            nvd.requests_without_key
        };
        let limit = Limit {
            key: &limiter_key,
            requests: per_window,
        };
        while from < end {
            let to = from
                .checked_add_signed(delta(nvd.window))
                .map_or(end, |t| t.min(end));
            let mut start_index: u64 = 0;
            loop {
                let mut page_url = url.clone();
                page_url
                    .query_pairs_mut()
                    .append_pair("lastModStartDate", &nvd_date(from))
                    .append_pair("lastModEndDate", &nvd_date(to))
                    .append_pair("resultsPerPage", &nvd.page_size.to_string())
                    .append_pair("startIndex", &start_index.to_string());
                let fetched = self
                    .fetch_with_retries(&self.api, &page_url, &headers, Some(limit), run)
                    .await?;
                let bad = |reason: String| FetchError::NvdResponse {
                    url: page_url.to_string(),
                    reason,
                };
                if fetched.not_modified {
                    return Err(bad("HTTP 304 to an unconditional request".into()));
                }
                let page: NvdPageHeader = serde_json::from_slice(&fetched.body)
                    .map_err(|e| bad(format!("its paging fields cannot be read: {e}")))?;
                if page.start_index != start_index {
                    return Err(bad(format!(
                        "asked for startIndex {start_index}, got {}",
                        page.start_index
                    )));
                }
                let document = format!("{} ({page_url})", source.name);
                let format = self.ingest(source, &document, fetched.body, run).await?;
                if format != Some(Format::Nvd) {
                    return Err(bad(format!(
                        "the document is {}",
                        format.map_or("unrecognised", Format::label)
                    )));
                }
                start_index = page.start_index.saturating_add(page.results_per_page);
                if start_index >= page.total_results {
                    break;
                }
                if page.results_per_page == 0 {
                    return Err(bad(format!(
                        "an empty page at startIndex {} of {} results",
                        page.start_index, page.total_results
                    )));
                }
            }
            // The window is complete: a restart from here on loses nothing.
            let reached = nvd_date(to);
            if !self
                .store
                .save_feed_checkpoint(&source.name, &self.holder, &reached)
                .await?
            {
                return Err(FetchError::LeaseLost {
                    feed: source.name.clone(),
                });
            }
            tracing::info!(feed = %source.name, checkpoint = %reached, "NVD window complete");
            checkpoint = Some(reached);
            from = to;
        }
        Ok(FeedSuccess {
            // The checkpoint is already at (or, with a skewed clock, past) now.
            not_modified: run.documents == 0,
            etag: None,
            last_modified: None,
            checkpoint,
            counts: run.counts,
        })
    }

    /// Ingest one whole document, adding to the run's counts; any file-level
    /// error (truncated or unparseable document, storage failure) fails the poll.
    async fn ingest(
        &self,
        source: &FeedSource,
        document: &str,
        bytes: Vec<u8>,
        run: &mut Run,
    ) -> Result<Option<Format>, FetchError> {
        run.renew(self).await?;
        let mut known = KnownRecords::default();
        let report = ingest_bytes(
            &self.store,
            document,
            bytes,
            &mut known,
            self.options.ingest,
            &(),
        )
        .await;
        run.counts += FeedRunCounts {
            new: report.counts.new,
            changed: report.counts.changed,
            unchanged: report.counts.unchanged,
            stale: report.counts.stale,
            rejected: report.rejected_count,
            epss_scores: report.epss_scores,
        };
        if report.rejected_count > 0 {
            tracing::warn!(feed = %source.name, rejected = report.rejected_count,
                first = ?report.rejected.first(), "records rejected; the rest were kept");
        }
        run.documents += 1;
        match report.error {
            Some(message) => Err(FetchError::Ingest {
                document: document.to_string(),
                message,
            }),
            None => Ok(report.format),
        }
    }

    /// One document, retrying transient failures; see the module documentation.
    async fn fetch_with_retries(
        &self,
        client: &reqwest::Client,
        url: &reqwest::Url,
        headers: &HeaderMap,
        limit: Option<Limit<'_>>,
        run: &mut Run,
    ) -> Result<Fetched, FetchError> {
        let attempts = self.options.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            run.renew(self).await?;
            if let Some(limit) = limit {
                self.wait_for_rate_limit(limit).await;
            }
            run.requests += 1;
            let request = client.get(url.clone()).headers(headers.clone());
            let (error, retry) = match self.attempt(request, url, run).await {
                Ok(fetched) => return Ok(fetched),
                Err(failure) => failure,
            };
            let delay = match retry {
                Retry::No => return Err(error),
                _ if attempt >= attempts => {
                    return Err(FetchError::GaveUp {
                        attempts: attempt,
                        last: Box::new(error),
                    });
                }
                Retry::After(asked) => asked.min(self.options.retry_after_max),
                Retry::Backoff => backoff(&self.options, attempt),
            };
            tracing::warn!(
                url = %url,
                attempt,
                error = %error,
                delay_ms = delay.as_millis() as u64,
                "retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One request and, when it succeeds, its whole body.
    async fn attempt(
        &self,
        request: reqwest::RequestBuilder,
        url: &reqwest::Url,
        run: &mut Run,
    ) -> Result<Fetched, (FetchError, Retry)> {
        let transport = |e: reqwest::Error| FetchError::Transport {
            url: url.to_string(),
            message: error_chain(&e),
        };
        let mut response = request.send().await.map_err(|e| {
            let retry = if e.is_redirect() || e.is_builder() {
                Retry::No
            } else {
                Retry::Backoff
            };
            (transport(e), retry)
        })?;
        let status = response.status();
        let text_header = |name: header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let etag = text_header(header::ETAG);
        let last_modified = text_header(header::LAST_MODIFIED);
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched {
                not_modified: true,
                body: Vec::new(),
                etag,
                last_modified,
            });
        }
        if !status.is_success() {
            let retry = match status {
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                    match retry_after(response.headers(), Utc::now()) {
                        Some(d) => Retry::After(d),
                        None => Retry::Backoff,
                    }
                }
                StatusCode::REQUEST_TIMEOUT => Retry::Backoff,
                s if s.is_server_error() => Retry::Backoff,
                _ => Retry::No,
            };
            let detail = error_detail(&mut response).await;
            return Err((
                FetchError::Status {
                    url: url.to_string(),
                    status: status.as_u16(),
                    detail,
                },
                retry,
            ));
        }
        // After any gzip Content-Encoding is undone, reqwest drops the
        // header; if it is still here, it is the exact size we must receive.
        let expected = response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let limit = self.options.max_body;
        let too_large = || {
            (
                FetchError::TooLarge {
                    url: url.to_string(),
                    limit,
                },
                Retry::No,
            )
        };
        if expected.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let capacity = expected.unwrap_or(0).min(64 * 1024 * 1024);
        let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    run.bytes += chunk.len() as u64;
                    if body.len() as u64 + chunk.len() as u64 > limit {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                // hyper reports a body shorter than its Content-Length here,
                // as does the gzip decoder for a stream that ends early.
                Err(e) => {
                    let error = match expected {
                        Some(n) => FetchError::Truncated {
                            url: url.to_string(),
                            expected: n,
                            received: body.len() as u64,
                        },
                        None => transport(e),
                    };
                    return Err((error, Retry::Backoff));
                }
            }
        }
        if let Some(n) = expected
            && n != body.len() as u64
        {
            return Err((
                FetchError::Truncated {
                    url: url.to_string(),
                    expected: n,
                    received: body.len() as u64,
                },
                Retry::Backoff,
            ));
        }
        Ok(Fetched {
            not_modified: false,
            body,
            etag,
            last_modified,
        })
    }

    /// Sleep until one more request fits the published rate limit.
    async fn wait_for_rate_limit(&self, limit: Limit<'_>) {
        let window = self.options.nvd.rate_window;
        // Held across the sleep: sources sharing a key take turns.
        let mut limiters = self.limiters.lock().await;
        let limiter = limiters
            .entry(limit.key.to_string())
            .or_insert_with(|| RateLimiter::new(limit.requests, window));
        limiter.limit = limit.requests.max(1);
        limiter.window = window;
        loop {
            let wait = limiter.wait_needed(Instant::now());
            if wait.is_zero() {
                limiter.record(Instant::now());
                return;
            }
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "waiting for the NVD rate limit"
            );
            tokio::time::sleep(wait).await;
        }
    }
}

/// State of one poll in progress.
struct Run {
    feed: String,
    now: DateTime<Utc>,
    started: Instant,
    ttl: TimeDelta,
    counts: FeedRunCounts,
    documents: u32,
    requests: u32,
    bytes: u64,
}

impl Run {
    fn new(fetcher: &Fetcher, source: &FeedSource, now: DateTime<Utc>) -> Run {
        Run {
            feed: source.name.clone(),
            now,
            started: Instant::now(),
            ttl: delta(fetcher.options.lease_ttl),
            counts: FeedRunCounts::default(),
            documents: 0,
            requests: 0,
            bytes: 0,
        }
    }

    /// The run's clock: its start time plus the time elapsed since, so a poll
    /// given a time by a test stays consistent with itself.
    fn clock(&self) -> DateTime<Utc> {
        self.now
            .checked_add_signed(delta(self.started.elapsed()))
            .unwrap_or(self.now)
    }

    /// Extend the lease; fail if another instance has taken it over.
    async fn renew(&self, fetcher: &Fetcher) -> Result<(), FetchError> {
        if fetcher
            .store
            .try_lease(&self.feed, &fetcher.holder, self.clock(), self.ttl)
            .await?
        {
            Ok(())
        } else {
            Err(FetchError::LeaseLost {
                feed: self.feed.clone(),
            })
        }
    }

    fn report(&self, outcome: PollOutcome, checkpoint: Option<String>) -> PollReport {
        PollReport {
            feed: self.feed.clone(),
            outcome,
            counts: self.counts,
            documents: self.documents,
            requests: self.requests,
            bytes: self.bytes,
            checkpoint,
        }
    }
}

/// A response that arrived whole.
struct Fetched {
    not_modified: bool,
    body: Vec<u8>,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// Whether and when a failed attempt may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    No,
    Backoff,
    /// The server said when (`Retry-After`).
    After(Duration),
}

/// Which rate limit a request counts against.
#[derive(Clone, Copy)]
struct Limit<'a> {
    key: &'a str,
    requests: u32,
}

/// At most `limit` requests in any rolling `window`: NVD's published rule.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: u32,
    window: Duration,
    sent: VecDeque<Instant>,
}

impl RateLimiter {
    pub(crate) fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit: limit.max(1),
            window,
            sent: VecDeque::new(),
        }
    }

    /// How long to wait at `now` before another request fits.
    pub(crate) fn wait_needed(&mut self, now: Instant) -> Duration {
        while self
            .sent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            self.sent.pop_front();
        }
        if self.sent.len() < self.limit as usize {
            return Duration::ZERO;
        }
        match self.sent.front() {
            Some(oldest) => (*oldest + self.window).saturating_duration_since(now),
            None => Duration::ZERO,
        }
    }

    pub(crate) fn record(&mut self, now: Instant) {
        self.sent.push_back(now);
    }
}

/// The paging fields of an NVD API response; the records themselves are
/// read by the parser in `ingest_bytes`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct NvdPageHeader {
    results_per_page: u64,
    start_index: u64,
    total_results: u64,
}

/// Exponential backoff with "equal jitter": half the delay fixed, half random,
/// so instances retrying the same outage spread out but never retry at once.
fn backoff(options: &FetchOptions, attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    let full = options
        .backoff_base
        .saturating_mul(1u32 << exp)
        .min(options.backoff_max);
    let half = full / 2;
    half + half.mul_f64(fastrand::f64())
}

/// `Retry-After` as seconds or an HTTP date, relative to `now`.
fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&Utc) - now)
        .to_std()
        .ok()
        .or(Some(Duration::ZERO))
}

/// Why the server refused, for the error message: NVD explains in a
/// `message` header; others in the first line of the body.
async fn error_detail(response: &mut reqwest::Response) -> String {
    if let Some(m) = response
        .headers()
        .get("message")
        .and_then(|v| v.to_str().ok())
    {
        return format!(": {}", m.trim());
    }
    let mut text = Vec::new();
    while text.len() < 512 {
        match response.chunk().await {
            Ok(Some(chunk)) => text.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&text);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    match line {
        Some(l) => format!(": {}", l.chars().take(200).collect::<String>()),
        None => String::new(),
    }
}

/// An error and its causes on one line; reqwest's own text omits the cause
/// ("error sending request" says little without "connection refused").
fn error_chain(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    // reqwest's text repeats the URL, which the error already names.
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !text.contains(&c_text) {
            text.push_str(": ");
            text.push_str(&c_text);
        }
        cause = c.source();
    }
    text
}

fn parse_url(source: &FeedSource) -> Result<reqwest::Url, FetchError> {
    reqwest::Url::parse(&source.url).map_err(|e| FetchError::BadUrl {
        feed: source.name.clone(),
        url: source.url.clone(),
        reason: e.to_string(),
    })
}

/// NVD's date format: ISO 8601 with milliseconds and an explicit offset.
fn nvd_date(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, false)
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// This machine's name, for lease-holder ids; best effort.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "openwarp".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_allows_a_window_full_then_waits_for_the_oldest() {
        let t0 = Instant::now();
        let window = Duration::from_secs(30);
        let mut l = RateLimiter::new(5, window);
        for i in 0..5 {
            let at = t0 + Duration::from_secs(i);
            assert_eq!(l.wait_needed(at), Duration::ZERO);
            l.record(at);
        }
        // The sixth request waits until the first leaves the rolling window.
        assert_eq!(
            l.wait_needed(t0 + Duration::from_secs(5)),
            Duration::from_secs(25)
        );
        assert_eq!(l.wait_needed(t0 + window), Duration::ZERO);
        l.record(t0 + window);
        assert_eq!(
            l.wait_needed(t0 + window),
            Duration::from_secs(1),
            "the second request sent at t0+1s leaves at t0+31s"
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let options = FetchOptions {
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(60),
            ..FetchOptions::default()
        };
        for (attempt, full) in [(1, 2), (2, 4), (3, 8), (6, 60), (40, 60)] {
            let full = Duration::from_secs(full);
            for _ in 0..20 {
                let d = backoff(&options, attempt);
                assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
            }
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T09:30:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, now), None);
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(120)));
        h.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Mon, 23 Nov 2026 09:31:30 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(90)));
        h.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Mon, 23 Nov 2026 09:00:00 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn nvd_dates_carry_milliseconds_and_an_offset() {
        let t = DateTime::parse_from_rfc3339("2026-11-23T09:30:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(nvd_date(t), "2026-11-23T09:30:00.000+00:00");
    }
}

//! The fetcher and scheduler against a real HTTP server on loopback that
//! serves real sample documents with scripted behaviour: ETag and 304, 429
//! with Retry-After, 503s, a 404, a body cut short, a truncated gzip file,
//! and the NVD API paging across two pages over last-modified windows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: failing loudly is the point

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use openwarp_feeds::{
    ApiKey, FeedKind, FeedSource, FeedSources, FetchError, FetchOptions, Fetcher, NvdOptions,
    PollOutcome, SchedulerOptions, run_scheduler_with,
};
use openwarp_store::testing::{TestDb, all_backends, sqlite};
use openwarp_store::{FeedOutcome, Store};
use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------- fixtures

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A real sample from the advisory crate's fixtures.
fn advisory_fixture(rel: &str) -> Vec<u8> {
    let path = manifest_dir().join("../advisory/tests/fixtures").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn own_fixture(name: &str) -> Vec<u8> {
    let path = manifest_dir().join("tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn kev() -> Vec<u8> {
    advisory_fixture("kev/kev_catalogue_five_real_entries_notes_urls_ransomware.json")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

const KEV_ETAG: &str = "\"kev-2025.08.25\"";
const KEV_LAST_MODIFIED: &str = "Mon, 25 Aug 2025 17:04:19 GMT";
const NVD_KEY: &str = "test-key-0123";
const NVD_PATH: &str = "/rest/json/cves/2.0";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0)
        .single()
        .unwrap()
}

fn nvd_date(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

// ------------------------------------------------------------- the server

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
    at: Instant,
}

#[derive(Default)]
struct Shared {
    seen: Mutex<Vec<Seen>>,
    /// NVD windows starting at this `lastModStartDate` answer 500.
    failing_nvd_window: Mutex<Option<String>>,
}

struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl TestServer {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn seen(&self, path: &str) -> Vec<Seen> {
        let seen = self.shared.seen.lock().unwrap();
        seen.iter().filter(|s| s.path == path).cloned().collect()
    }

    fn fail_nvd_window_starting(&self, start: Option<String>) {
        *self.shared.failing_nvd_window.lock().unwrap() = start;
    }
}

/// A real axum server on 127.0.0.1:0 serving the scripted routes below.
async fn server() -> TestServer {
    let shared = Arc::new(Shared::default());
    let app = Router::new().fallback(respond).with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    TestServer { addr, shared }
}

fn with_headers(status: StatusCode, headers: &[(&'static str, &str)], body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    for (name, value) in headers {
        response
            .headers_mut()
            .insert(*name, HeaderValue::from_str(value).unwrap());
    }
    response
}

async fn respond(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = uri.path().to_string();
    let nth = {
        let mut seen = shared.seen.lock().unwrap();
        seen.push(Seen {
            path: path.clone(),
            query: query.clone(),
            headers: headers.clone(),
            at: Instant::now(),
        });
        seen.iter().filter(|s| s.path == path).count()
    };
    let header = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let json = ("content-type", "application/json");
    match path.as_str() {
        // ETag + Last-Modified; 304 when the client sends them back.
        "/kev.json" => {
            if header(header::IF_NONE_MATCH).as_deref() == Some(KEV_ETAG) {
                with_headers(StatusCode::NOT_MODIFIED, &[("etag", KEV_ETAG)], vec![])
            } else {
                with_headers(
                    StatusCode::OK,
                    &[
                        json,
                        ("etag", KEV_ETAG),
                        ("last-modified", KEV_LAST_MODIFIED),
                    ],
                    kev(),
                )
            }
        }
        // Gzip transfer encoding, when the client asks for it.
        "/kev-encoded.json" => {
            let accepts = header(header::ACCEPT_ENCODING).is_some_and(|v| v.contains("gzip"));
            assert!(accepts, "the fetcher asks for gzip");
            with_headers(
                StatusCode::OK,
                &[json, ("content-encoding", "gzip")],
                gzip(&kev()),
            )
        }
        "/kev-429.json" if nth == 1 => with_headers(
            StatusCode::TOO_MANY_REQUESTS,
            &[("retry-after", "1")],
            b"slow down".to_vec(),
        ),
        "/kev-503.json" if nth <= 2 => with_headers(
            StatusCode::SERVICE_UNAVAILABLE,
            &[],
            b"maintenance".to_vec(),
        ),
        "/kev-429.json" | "/kev-503.json" => with_headers(StatusCode::OK, &[json], kev()),
        "/epss.csv.gz" => with_headers(
            StatusCode::OK,
            &[("content-type", "application/gzip")],
            gzip(&advisory_fixture("epss/epss_first_50_lines.csv")),
        ),
        // A whole response carrying a gzip file that itself ends early.
        "/epss-cut.csv.gz" => {
            let gz = gzip(&advisory_fixture("epss/epss_first_50_lines.csv"));
            with_headers(
                StatusCode::OK,
                &[("content-type", "application/gzip")],
                gz[..gz.len() / 2].to_vec(),
            )
        }
        "/teapot.json" => with_headers(
            StatusCode::IM_A_TEAPOT,
            &[],
            b"\n  short and stout  \nsecond line".to_vec(),
        ),
        NVD_PATH => {
            if header(header::HeaderName::from_static("apikey")).as_deref() != Some(NVD_KEY) {
                return with_headers(
                    StatusCode::NOT_FOUND,
                    &[("message", "Invalid apiKey")],
                    vec![],
                );
            }
            let failing = shared.failing_nvd_window.lock().unwrap().clone();
            if failing.is_some() && query.get("lastModStartDate") == failing.as_ref() {
                return with_headers(StatusCode::INTERNAL_SERVER_ERROR, &[], vec![]);
            }
            assert_eq!(
                query.get("resultsPerPage").map(String::as_str),
                Some("2000")
            );
            match query.get("startIndex").map(String::as_str) {
                Some("0") => with_headers(
                    StatusCode::OK,
                    &[json],
                    own_fixture("nvd_api_page_1_of_2_esp32_firmware.json"),
                ),
                Some("1") => with_headers(
                    StatusCode::OK,
                    &[json],
                    own_fixture("nvd_api_page_2_of_2_xz_backdoor.json"),
                ),
                _ => with_headers(StatusCode::BAD_REQUEST, &[], vec![]),
            }
        }
        _ => with_headers(StatusCode::NOT_FOUND, &[], b"no such feed".to_vec()),
    }
}

/// A raw TCP server whose every response declares the whole KEV document's
/// Content-Length but sends only half of it, then closes the connection.
/// Returns its address and how many requests it has answered, with the
/// request heads it received.
async fn truncating_server() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let body = kev();
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\netag: \"v2\"\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
                let _ = socket.write_all(&body[..body.len() / 2]).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (addr, requests)
}

// ------------------------------------------------------------- test setup

fn options() -> FetchOptions {
    FetchOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(20),
        max_attempts: 4,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(40),
        retry_after_max: Duration::from_millis(300),
        ..FetchOptions::default()
    }
}

fn source(name: &str, kind: FeedKind, url: String) -> FeedSource {
    FeedSource {
        name: name.into(),
        kind,
        url,
        interval: Duration::from_secs(3600),
        api_key: None,
    }
}

fn nvd_source(server: &TestServer) -> FeedSource {
    FeedSource {
        api_key: Some(ApiKey::new(NVD_KEY)),
        ..source("nvd", FeedKind::NvdApi, server.url(NVD_PATH))
    }
}

fn fetcher(store: &Store, options: FetchOptions) -> Fetcher {
    Fetcher::new(store.clone(), options).expect("HTTP client")
}

async fn counts(store: &Store) -> Vec<(String, i64)> {
    store.advisory_counts().await.expect("counts")
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(s, n)| (s.to_string(), *n)).collect()
}

async fn backends() -> Vec<TestDb> {
    let dbs = all_backends().await;
    for db in &dbs {
        eprintln!("running on {}", db.backend().name());
    }
    dbs
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn second_fetch_is_conditional_and_a_304_stores_nothing_new() {
    for db in backends().await {
        let server = server().await;
        let store = &db.store;
        let kev = source("cisa-kev", FeedKind::File, server.url("/kev.json"));
        let f = fetcher(store, options());

        let first = f.poll(&kev).await.expect("first poll");
        assert_eq!(first.outcome, PollOutcome::Updated);
        assert_eq!(first.counts.new, 5);
        assert_eq!((first.documents, first.requests), (1, 1));
        assert_eq!(counts(store).await, pairs(&[("kev", 5)]));
        let state = store.get_feed_state("cisa-kev").await.unwrap().unwrap();
        assert_eq!(state.etag.as_deref(), Some(KEV_ETAG));
        assert_eq!(state.last_modified.as_deref(), Some(KEV_LAST_MODIFIED));
        assert_eq!(state.last_outcome, Some(FeedOutcome::Updated));
        assert_eq!(state.last_counts.new, 5);
        assert_eq!(state.lease_holder, None, "the lease is released");

        let second = f.poll(&kev).await.expect("second poll");
        assert_eq!(second.outcome, PollOutcome::NotModified);
        assert_eq!((second.counts.new, second.documents), (0, 0));
        let seen = server.seen("/kev.json");
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].headers.get("if-none-match"), None);
        assert_eq!(
            seen[1]
                .headers
                .get("if-none-match")
                .and_then(|v| v.to_str().ok()),
            Some(KEV_ETAG)
        );
        assert_eq!(
            seen[1]
                .headers
                .get("if-modified-since")
                .and_then(|v| v.to_str().ok()),
            Some(KEV_LAST_MODIFIED)
        );
        let agent = seen[0]
            .headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok());
        assert_eq!(agent, Some(openwarp_feeds::USER_AGENT));
        assert!(openwarp_feeds::USER_AGENT.starts_with("openwarp/"));

        let state = store.get_feed_state("cisa-kev").await.unwrap().unwrap();
        assert_eq!(state.last_outcome, Some(FeedOutcome::NotModified));
        assert_eq!(
            state.etag.as_deref(),
            Some(KEV_ETAG),
            "the validators are kept"
        );
        assert_eq!(state.last_modified.as_deref(), Some(KEV_LAST_MODIFIED));
        assert_eq!(counts(store).await, pairs(&[("kev", 5)]));
    }
}

#[tokio::test]
async fn gzip_transfer_encoding_and_gzip_files_are_both_read() {
    let db = sqlite().await;
    let server = server().await;
    let f = fetcher(&db.store, options());
    let encoded = f
        .poll(&source(
            "kev-gz",
            FeedKind::File,
            server.url("/kev-encoded.json"),
        ))
        .await
        .expect("gzip-encoded KEV");
    assert_eq!(encoded.counts.new, 5);
    let epss = f
        .poll(&source("epss", FeedKind::File, server.url("/epss.csv.gz")))
        .await
        .expect("EPSS .csv.gz");
    assert_eq!(epss.outcome, PollOutcome::Updated);
    assert_eq!(epss.counts.epss_scores, 48);
    let state = db.store.get_feed_state("epss").await.unwrap().unwrap();
    assert_eq!(state.last_counts.epss_scores, 48);
}

#[tokio::test]
async fn a_429_is_retried_after_the_time_it_asks_for() {
    let db = sqlite().await;
    let server = server().await;
    let f = fetcher(&db.store, options());
    let report = f
        .poll(&source("kev", FeedKind::File, server.url("/kev-429.json")))
        .await
        .expect("succeeds on the second attempt");
    assert_eq!((report.outcome, report.requests), (PollOutcome::Updated, 2));
    let seen = server.seen("/kev-429.json");
    assert_eq!(seen.len(), 2);
    // Retry-After: 1 is honoured up to the (test-sized) cap of 300 ms, far
    // above the 10-40 ms our own backoff would have waited.
    let waited = seen[1].at - seen[0].at;
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert_eq!(counts(&db.store).await, pairs(&[("kev", 5)]));
}

#[tokio::test]
async fn a_503_twice_then_200_succeeds_with_backoff() {
    let db = sqlite().await;
    let server = server().await;
    let f = fetcher(&db.store, options());
    let report = f
        .poll(&source("kev", FeedKind::File, server.url("/kev-503.json")))
        .await
        .expect("succeeds on the third attempt");
    assert_eq!(report.requests, 3);
    assert_eq!(server.seen("/kev-503.json").len(), 3);
    let state = db.store.get_feed_state("kev").await.unwrap().unwrap();
    assert_eq!((state.consecutive_failures, state.last_error), (0, None));
    assert_eq!(counts(&db.store).await, pairs(&[("kev", 5)]));
}

#[tokio::test]
async fn a_404_fails_at_once_without_retries() {
    let db = sqlite().await;
    let server = server().await;
    let f = fetcher(&db.store, options());
    let missing = source("gone", FeedKind::File, server.url("/missing.json"));
    let error = f.poll(&missing).await.expect_err("404");
    assert!(
        matches!(error, FetchError::Status { status: 404, .. }),
        "{error:?}"
    );
    assert_eq!(server.seen("/missing.json").len(), 1, "no retries");
    let state = db.store.get_feed_state("gone").await.unwrap().unwrap();
    assert_eq!(state.consecutive_failures, 1);
    assert_eq!(state.last_outcome, Some(FeedOutcome::Failed));
    let text = state.last_error.unwrap();
    assert!(
        text.contains("/missing.json: HTTP 404: no such feed"),
        "{text}"
    );
    assert_eq!(state.lease_holder, None);

    // The first non-blank line of an error body explains a failure.
    let error = f
        .poll(&source("tea", FeedKind::File, server.url("/teapot.json")))
        .await
        .expect_err("418");
    assert!(
        error.to_string().ends_with("HTTP 418: short and stout"),
        "{error}"
    );
    assert_eq!(counts(&db.store).await, vec![]);
}

#[tokio::test]
async fn a_body_cut_short_stores_nothing_and_keeps_the_old_etag() {
    let db = sqlite().await;
    let store = &db.store;
    let (cut_addr, cut_requests) = truncating_server().await;
    let cut_url = format!("http://{cut_addr}/kev.json");
    let f = fetcher(store, options());

    // On a fresh store: an error, nothing stored, no validators remembered.
    let error = f
        .poll(&source("kev", FeedKind::File, cut_url.clone()))
        .await
        .expect_err("truncated");
    let text = error.to_string();
    assert!(text.contains("cut short"), "{text}");
    assert!(text.contains("gave up after 4 attempts"), "{text}");
    assert_eq!(
        cut_requests.lock().unwrap().len(),
        4,
        "retried like a dropped connection"
    );
    assert_eq!(counts(store).await, vec![]);
    let state = store.get_feed_state("kev").await.unwrap().unwrap();
    assert_eq!((state.etag, state.consecutive_failures), (None, 1));

    // After a good fetch, a cut-short one keeps that fetch's ETag, so the
    // next poll asks for the whole document again.
    let server = server().await;
    f.poll(&source("kev", FeedKind::File, server.url("/kev.json")))
        .await
        .expect("good fetch");
    cut_requests.lock().unwrap().clear();
    f.poll(&source("kev", FeedKind::File, cut_url))
        .await
        .expect_err("truncated again");
    let state = store.get_feed_state("kev").await.unwrap().unwrap();
    assert_eq!(state.etag.as_deref(), Some(KEV_ETAG));
    assert_eq!(state.last_outcome, Some(FeedOutcome::Failed));
    let heads = cut_requests.lock().unwrap().clone();
    assert!(
        heads[0]
            .to_ascii_lowercase()
            .contains(&format!("if-none-match: {}", KEV_ETAG.to_ascii_lowercase())),
        "{}",
        heads[0]
    );
    assert_eq!(counts(store).await, pairs(&[("kev", 5)]));
}

#[tokio::test]
async fn a_truncated_gzip_file_is_an_error_and_not_retried() {
    let db = sqlite().await;
    let server = server().await;
    let f = fetcher(&db.store, options());
    let error = f
        .poll(&source(
            "epss",
            FeedKind::File,
            server.url("/epss-cut.csv.gz"),
        ))
        .await
        .expect_err("truncated gzip");
    assert!(matches!(error, FetchError::Decompress(_)), "{error:?}");
    assert!(
        error.to_string().contains("corrupt or truncated"),
        "{error}"
    );
    assert_eq!(server.seen("/epss-cut.csv.gz").len(), 1);
    let state = db.store.get_feed_state("epss").await.unwrap().unwrap();
    assert_eq!(state.last_counts.epss_scores, 0);
    assert_eq!(state.consecutive_failures, 1);
}

#[tokio::test]
async fn a_source_leased_by_another_instance_is_left_alone() {
    let db = sqlite().await;
    let server = server().await;
    let f = fetcher(&db.store, options());
    assert!(
        db.store
            .try_lease(
                "kev",
                "other-instance",
                openwarp_store::now(),
                TimeDelta::minutes(10)
            )
            .await
            .unwrap()
    );
    let report = f
        .poll(&source("kev", FeedKind::File, server.url("/kev.json")))
        .await
        .expect("busy is not an error");
    assert_eq!((report.outcome, report.requests), (PollOutcome::Busy, 0));
    assert!(server.seen("/kev.json").is_empty());
    let state = db.store.get_feed_state("kev").await.unwrap().unwrap();
    assert_eq!(state.lease_holder.as_deref(), Some("other-instance"));
}

#[tokio::test]
async fn nvd_pages_through_a_window_with_the_api_key_and_resumes_from_its_checkpoint() {
    for db in backends().await {
        let store = &db.store;
        let server = server().await;
        let nvd = nvd_source(&server);

        let report = fetcher(store, options())
            .poll_at(&nvd, t0())
            .await
            .expect("NVD poll");
        assert_eq!(report.outcome, PollOutcome::Updated);
        assert_eq!((report.documents, report.requests), (2, 2));
        assert_eq!(report.counts.new, 2);
        assert_eq!(counts(store).await, pairs(&[("nvd", 2)]));
        assert!(store.advisory("CVE-2020-13595").await.unwrap().is_some());
        assert!(store.advisory("CVE-2024-3094").await.unwrap().is_some());

        let seen = server.seen(NVD_PATH);
        let q = |i: usize, k: &str| seen[i].query.get(k).cloned().unwrap_or_default();
        // One window: the default 120-day backfill, up to the poll's time.
        let start = nvd_date(t0() - TimeDelta::days(120));
        let end = nvd_date(t0());
        assert_eq!(end, "2026-11-23T09:30:00.000+00:00");
        assert_eq!(seen.len(), 2);
        for (i, request) in seen.iter().enumerate() {
            assert_eq!(q(i, "lastModStartDate"), start);
            assert_eq!(q(i, "lastModEndDate"), end);
            assert_eq!(
                request.headers.get("apikey").and_then(|v| v.to_str().ok()),
                Some(NVD_KEY)
            );
        }
        assert_eq!(
            (q(0, "startIndex"), q(1, "startIndex")),
            ("0".into(), "1".into())
        );
        let state = store.get_feed_state("nvd").await.unwrap().unwrap();
        assert_eq!(state.checkpoint.as_deref(), Some(end.as_str()));
        assert_eq!(report.checkpoint.as_deref(), Some(end.as_str()));

        // "Restart": a new fetcher reads the checkpoint and asks only for
        // what changed since.
        let later = t0() + TimeDelta::hours(2);
        let report = fetcher(store, options())
            .poll_at(&nvd, later)
            .await
            .expect("second NVD poll");
        assert_eq!((report.counts.new, report.counts.unchanged), (0, 2));
        let seen = server.seen(NVD_PATH);
        assert_eq!(seen.len(), 4);
        assert_eq!(seen[2].query.get("lastModStartDate"), Some(&end));
        assert_eq!(seen[2].query.get("lastModEndDate"), Some(&nvd_date(later)));
        let state = store.get_feed_state("nvd").await.unwrap().unwrap();
        assert_eq!(state.checkpoint, Some(nvd_date(later)));

        // Polled again at the checkpoint itself: nothing to ask for.
        let report = fetcher(store, options())
            .poll_at(&nvd, later)
            .await
            .expect("third NVD poll");
        assert_eq!(
            (report.outcome, report.requests),
            (PollOutcome::NotModified, 0)
        );
        assert_eq!(server.seen(NVD_PATH).len(), 4);
    }
}

#[tokio::test]
async fn nvd_windows_are_at_most_120_days_and_a_failed_window_resumes_after_a_restart() {
    let db = sqlite().await;
    let store = &db.store;
    let server = server().await;
    let nvd = nvd_source(&server);
    // 300 days of backfill: windows of 120, 120 and 60 days. Rate limit 2
    // requests per 250 ms (the real one is 50 per 30 s with a key).
    let nvd_options = |backfill_days: u64| FetchOptions {
        max_attempts: 2,
        nvd: NvdOptions {
            backfill: Duration::from_secs(backfill_days * 86_400),
            rate_window: Duration::from_millis(250),
            requests_with_key: 2,
            ..NvdOptions::default()
        },
        ..options()
    };
    let w = |days: i64| nvd_date(t0() - TimeDelta::days(days));

    // The second window fails: the first one's end is kept as the checkpoint.
    server.fail_nvd_window_starting(Some(w(180)));
    let error = fetcher(store, nvd_options(300))
        .poll_at(&nvd, t0())
        .await
        .expect_err("second window fails");
    assert!(error.to_string().contains("HTTP 500"), "{error}");
    let state = store.get_feed_state("nvd").await.unwrap().unwrap();
    assert_eq!(state.checkpoint, Some(w(180)));
    assert_eq!(state.consecutive_failures, 1);
    assert_eq!(
        state.last_counts.new, 2,
        "what the first window stored is counted"
    );
    assert_eq!(counts(store).await, pairs(&[("nvd", 2)]));

    // A new fetcher (a restarted instance) goes on from there.
    server.fail_nvd_window_starting(None);
    let started = Instant::now();
    fetcher(store, nvd_options(300))
        .poll_at(&nvd, t0())
        .await
        .expect("resumed");
    let elapsed = started.elapsed();
    let windows: Vec<(String, String, String)> = server
        .seen(NVD_PATH)
        .iter()
        .map(|s| {
            let q = |k: &str| s.query.get(k).cloned().unwrap_or_default();
            (q("lastModStartDate"), q("lastModEndDate"), q("startIndex"))
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        // First run: window 1 (2 pages), window 2 fails twice.
        (w(300), w(180), "0"),
        (w(300), w(180), "1"),
        (w(180), w(60), "0"),
        (w(180), w(60), "0"),
        // After the restart: windows 2 and 3.
        (w(180), w(60), "0"),
        (w(180), w(60), "1"),
        (w(60), w(0), "0"),
        (w(60), w(0), "1"),
    ]
    .into_iter()
    .map(|(a, b, c)| (a, b, c.to_string()))
    .collect();
    assert_eq!(windows, expected);
    let state = store.get_feed_state("nvd").await.unwrap().unwrap();
    assert_eq!(state.checkpoint, Some(w(0)));
    assert_eq!((state.consecutive_failures, state.last_error), (0, None));
    // Four requests at two per 250 ms need at least one full wait.
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
}

#[tokio::test]
async fn a_wrong_api_key_is_reported_with_nvds_message() {
    let db = sqlite().await;
    let server = server().await;
    let nvd = FeedSource {
        api_key: Some(ApiKey::new("wrong")),
        ..nvd_source(&server)
    };
    let error = fetcher(&db.store, options())
        .poll_at(&nvd, t0())
        .await
        .expect_err("bad key");
    assert!(
        error.to_string().ends_with("HTTP 404: Invalid apiKey"),
        "{error}"
    );
    assert!(
        !error.to_string().contains("wrong"),
        "the key is not in the message"
    );
    assert_eq!(server.seen(NVD_PATH).len(), 1);
    let state = db.store.get_feed_state("nvd").await.unwrap().unwrap();
    assert_eq!(state.checkpoint, None);
}

#[tokio::test]
async fn the_scheduler_polls_due_sources_backs_off_failures_and_stops_cleanly() {
    let db = sqlite().await;
    let store = db.store.clone();
    let server = server().await;
    let sources = FeedSources::new(vec![
        source("cisa-kev", FeedKind::File, server.url("/kev.json")),
        source("gone", FeedKind::File, server.url("/missing.json")),
    ])
    .expect("valid sources");
    let options = SchedulerOptions {
        fetch: options(),
        recheck: Duration::from_millis(100),
        ..SchedulerOptions::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let scheduler = tokio::spawn(run_scheduler_with(store.clone(), sources, options, async {
        let _ = stopped.await;
    }));

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let kev = store.get_feed_state("cisa-kev").await.unwrap();
        let gone = store.get_feed_state("gone").await.unwrap();
        if kev.is_some_and(|s| s.last_success_at.is_some())
            && gone.is_some_and(|s| s.consecutive_failures > 0)
        {
            break;
        }
        assert!(Instant::now() < deadline, "the scheduler never polled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Both were due at once; neither is due again for a while (an hour, or
    // five minutes after the failure), so they are not polled again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.seen("/kev.json").len(), 1);
    assert_eq!(server.seen("/missing.json").len(), 1);
    assert_eq!(counts(&store).await, pairs(&[("kev", 5)]));

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), scheduler)
        .await
        .expect("the scheduler stops promptly")
        .expect("and does not panic");
    for name in ["cisa-kev", "gone"] {
        let state = store.get_feed_state(name).await.unwrap().unwrap();
        assert_eq!(state.lease_holder, None, "{name}: no lease left behind");
    }
}

//! Prometheus metrics at `GET /metrics`, in the OpenMetrics text format.
//!
//! Two kinds of figure. This process's own: requests answered and their
//! latency, by method, route (the router's pattern, e.g. `/orgs/{id}`, never
//! the ids themselves) and status class. And the database's, read at each
//! scrape, so every instance reports the same: deliveries by status, the
//! age of the oldest due delivery, matching still owed, each feed's time
//! since its last success and failures in a row, audit log length.
//!
//! Who may scrape: with `metrics_token` configured, a caller presenting it
//! as a bearer token; without one, only the machine itself (a loopback
//! client address, taking a trusted proxy's `X-Forwarded-For` into account).

use crate::AppState;
use crate::auth::ClientIp;
use crate::error::AppError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedLabel {
    feed: String,
}

/// 1 ms to about 16 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// This process's request metrics.
pub struct HttpMetrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "openwarp_http_requests",
            "HTTP requests answered, by method, route and status class",
            requests.clone(),
        );
        registry.register_with_unit(
            "openwarp_http_request_duration",
            "Time to answer an HTTP request, by method and route",
            Unit::Seconds,
            latency.clone(),
        );
        HttpMetrics {
            registry,
            requests,
            latency,
        }
    }
}

/// Middleware: count and time every request.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = format!("{}xx", response.status().as_u16() / 100);
    state
        .metrics
        .latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status,
        })
        .inc();
    response
}

/// Whether this caller may read the metrics.
fn may_scrape(state: &AppState, headers: &HeaderMap, ip: &str) -> bool {
    match state
        .config
        .metrics_token
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        Some(token) => crate::auth::bearer_token(headers)
            .is_some_and(|given| openwarp_store::crypto::constant_time_eq(given, token)),
        None => ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback()),
    }
}

/// `GET /metrics`.
pub async fn scrape(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if !may_scrape(&state, &headers, &ip) {
        return Err(AppError::NotFound("page"));
    }
    let snapshot = state.store.ops_snapshot(openwarp_store::now()).await?;
    let mut db = Registry::default();
    let deliveries = Family::<StatusLabel, Gauge>::default();
    // The usual states are always reported, at zero when empty.
    for status in ["pending", "sent", "dead"] {
        deliveries
            .get_or_create(&StatusLabel {
                status: status.into(),
            })
            .set(0);
    }
    for (status, n) in &snapshot.deliveries {
        deliveries
            .get_or_create(&StatusLabel {
                status: status.clone(),
            })
            .set(*n);
    }
    db.register(
        "openwarp_deliveries",
        "Alert and digest deliveries in the outbox, by status",
        deliveries,
    );
    let oldest = Gauge::<f64, AtomicU64>::default();
    oldest.set(snapshot.oldest_due_delivery_seconds);
    db.register_with_unit(
        "openwarp_delivery_oldest_due_age",
        "How long the oldest due delivery has waited (0 when none is due)",
        Unit::Seconds,
        oldest,
    );
    let pending = Gauge::<i64>::default();
    pending.set(snapshot.match_pending);
    db.register(
        "openwarp_match_pending",
        "Advisories whose matching an ingest still owes",
        pending,
    );
    let sealed = Gauge::<i64>::default();
    sealed.set(i64::from(state.store.seals_secrets()));
    db.register(
        "openwarp_secrets_sealed",
        "1 when stored secrets are sealed with a secrets key (secrets_key_file), 0 when not",
        sealed,
    );
    let audit = Gauge::<i64>::default();
    audit.set(snapshot.audit_entries);
    db.register(
        "openwarp_audit_entries",
        "Entries in the audit log's hash chain",
        audit,
    );
    let lag = Family::<FeedLabel, Gauge<f64, AtomicU64>>::default();
    let failures = Family::<FeedLabel, Gauge>::default();
    let now = openwarp_store::now();
    for f in &snapshot.feeds {
        let label = FeedLabel {
            feed: f.name.clone(),
        };
        if let Some(at) = f.last_success_at {
            lag.get_or_create(&label)
                .set((now - at).num_milliseconds().max(0) as f64 / 1000.0);
        }
        failures
            .get_or_create(&label)
            .set(i64::from(f.consecutive_failures));
    }
    db.register_with_unit(
        "openwarp_feed_since_success",
        "Time since each feed's last successful run (its lag)",
        Unit::Seconds,
        lag,
    );
    db.register(
        "openwarp_feed_consecutive_failures",
        "Failed runs of each feed since its last success",
        failures,
    );
    let mut body = String::new();
    let encoded = encode(&mut body, &state.metrics.registry).and_then(|()| {
        // One `# EOF` at the very end: drop the first registry's.
        if let Some(cut) = body.rfind("# EOF") {
            body.truncate(cut);
        }
        encode(&mut body, &db)
    });
    encoded.map_err(|e| AppError::Internal(format!("encoding metrics: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}

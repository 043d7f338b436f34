//! openwarp's web layer: the server-rendered UI (accessible HTML that works
//! without JavaScript) and the JSON API under `/api/v1`, both over one
//! [`openwarp_store::Store`].
//!
//! Every handler resolves the signed-in user first (session cookie for pages,
//! bearer token for the API) and asks [`openwarp_core::access`] before reading
//! or changing anything.

mod actions;
pub mod api;
mod audit;
mod auth;
mod error;
mod limits;
mod metrics;
mod pages;
mod stix_export;
// Federation (issue 9)
pub mod taxii;
// End of federation (issue 9)

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use openwarp_core::FeeSchedule;
use openwarp_store::Store;
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use actions::inventory::{MAX_UPLOAD_BYTES, MAX_UPLOAD_MB};
pub use auth::{MAX_BODY_BYTES, MAX_FAILURES_PER_ACCOUNT};
pub use error::AppError;

/// Settings the web layer needs; the binary fills them from config.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The WARP's name, e.g. "SEGWARP".
    pub warp_name: String,
    /// The region it serves, e.g. "South East England".
    pub warp_region: String,
    /// The address users reach this instance on, used to build invitation and
    /// reset links, e.g. `https://warp.example.gov.uk`. No trailing slash.
    pub public_url: String,
    pub fees: FeeSchedule,
    /// Mark cookies `Secure` (set when served over TLS, directly or via a proxy).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy_headers: bool,
    /// Bearer token for `/metrics`; without one only loopback clients may scrape.
    pub metrics_token: Option<String>,
    /// Operators must sign in with a second factor (always, but in the demo
    /// and in tests that are not about it).
    pub operators_need_mfa: bool,
    /// Enforce the abuse limits (`limits.rs`); off only in tests that
    /// exercise hundreds of actions as one person on purpose.
    pub rate_limits: bool,
    /// Sessions end after this many minutes without activity.
    pub session_idle_minutes: i64,
    /// Sessions end this many hours after sign-in, however active.
    pub session_absolute_hours: i64,
    /// Invitation links stay valid this many days.
    pub invitation_days: i64,
    /// Password-reset links stay valid this many hours.
    pub reset_hours: i64,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            warp_name: "openwarp".into(),
            warp_region: "".into(),
            public_url: "http://127.0.0.1:8080".into(),
            fees: FeeSchedule::default(),
            secure_cookies: false,
            trust_proxy_headers: false,
            metrics_token: None,
            operators_need_mfa: true,
            rate_limits: true,
            session_idle_minutes: 8 * 60,
            session_absolute_hours: 12,
            invitation_days: 7,
            reset_hours: 24,
        }
    }
}

/// Shared state of every request.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    /// This process's request counters and latencies.
    pub metrics: Arc<metrics::HttpMetrics>,
}

/// The whole application as an axum router (pages, API, health checks).
pub fn router(store: Store, config: WebConfig) -> axum::Router {
    let state = AppState {
        store,
        config: Arc::new(config),
        metrics: Arc::new(metrics::HttpMetrics::default()),
    };
    use pages::{
        account, advisories, dashboard, exposure, inventory, operator, orgs, session, suppliers,
    };
    // Pages hold member data and one-time links: never cache them (a
    // handler may only ask for stricter: evidence downloads are
    // `private, no-store`).
    let no_store = SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    let pages = axum::Router::new()
        .route("/", get(session::root))
        .route("/login", get(session::login_form).post(session::login))
        .route("/logout", post(session::logout))
        .route(
            "/invite/{token}",
            get(session::invite_form).post(session::accept_invite),
        )
        .route(
            "/reset/{token}",
            get(session::reset_form).post(session::reset),
        )
        .route("/dashboard", get(dashboard::dashboard))
        .route("/advisories", get(advisories::list))
        .route("/advisories/{id}", get(advisories::show))
        // WARP advisories (issue 5)
        .route(
            "/warp-advisories",
            get(pages::warp_advisories::list).post(pages::warp_advisories::create),
        )
        .route(
            "/warp-advisories/new",
            get(pages::warp_advisories::new_form),
        )
        .route("/warp-advisories/{id}", get(pages::warp_advisories::show))
        .route(
            "/warp-advisories/{id}/edit",
            get(pages::warp_advisories::edit_form).post(pages::warp_advisories::update),
        )
        .route(
            "/warp-advisories/{id}/submit",
            post(pages::warp_advisories::submit),
        )
        .route(
            "/warp-advisories/{id}/request-changes",
            post(pages::warp_advisories::request_changes),
        )
        .route(
            "/warp-advisories/{id}/publish",
            post(pages::warp_advisories::publish),
        )
        .route(
            "/warp-advisories/{id}/withdraw",
            post(pages::warp_advisories::withdraw),
        )
        // End of WARP advisories (issue 5)
        .route("/my-org", get(dashboard::my_org))
        .route("/orgs", get(orgs::list).post(orgs::create))
        .route("/orgs/new", get(orgs::new_form))
        .route("/orgs/{id}", get(orgs::show))
        .route("/orgs/{id}/edit", get(orgs::edit_form).post(orgs::edit))
        .route("/orgs/{id}/invitations", post(orgs::invite))
        .route(
            "/orgs/{org}/invitations/{inv}/revoke",
            post(orgs::revoke_invitation),
        )
        .route("/inventory", get(inventory::mine))
        .route(
            "/orgs/{id}/inventory",
            get(inventory::list).post(inventory::add),
        )
        .route("/orgs/{id}/inventory.csv", get(inventory::export))
        .route("/orgs/{id}/inventory/resolve", get(inventory::resolve))
        .route(
            "/orgs/{org}/inventory/{item}",
            get(inventory::show).post(inventory::update),
        )
        .route(
            "/orgs/{org}/inventory/{item}/delete",
            post(inventory::delete),
        )
        .route("/suppliers", get(suppliers::shared))
        .route(
            "/orgs/{id}/suppliers",
            get(suppliers::list).post(suppliers::add),
        )
        .route(
            "/orgs/{org}/suppliers/{sid}",
            get(suppliers::edit_form).post(suppliers::update),
        )
        .route(
            "/orgs/{org}/suppliers/{sid}/delete",
            post(suppliers::delete),
        )
        .route("/exposure", get(exposure::mine))
        .route("/orgs/{id}/exposure", get(exposure::list))
        .route("/orgs/{org}/exposure/{x}", get(exposure::show))
        .route(
            "/orgs/{org}/exposure/{x}/status",
            post(exposure::set_status),
        )
        .route("/users/{id}/disable", post(orgs::disable_user))
        .route("/users/{id}/enable", post(orgs::enable_user))
        .route("/users/{id}/role", post(orgs::set_user_role))
        .route("/users/{id}/reset", post(orgs::reset_user))
        .route(
            "/login/mfa",
            get(pages::mfa::code_form).post(pages::mfa::check_code),
        )
        .route("/account/mfa", get(pages::mfa::status))
        .route(
            "/account/mfa/setup",
            get(pages::mfa::setup_form).post(pages::mfa::confirm_setup),
        )
        .route("/account/mfa/disable", post(pages::mfa::disable))
        .route(
            "/account/mfa/recovery-codes",
            post(pages::mfa::new_recovery_codes),
        )
        .route(
            "/account/sessions/end",
            post(pages::mfa::sign_out_everywhere),
        )
        .route("/orgs/{id}/mfa", post(pages::mfa::set_policy))
        .route("/users/{id}/mfa/reset", post(pages::mfa::reset_user))
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/fees", get(operator::fees))
        .route("/operators", get(operator::operators))
        .route("/operators/invitations", post(operator::invite_operator))
        .route("/audit", get(operator::audit))
        .route("/audit/verify", get(operator::verify_audit))
        .route("/audit.csv", get(operator::audit_csv))
        // Alerts (issue 5)
        .route(
            "/account/alerts",
            get(pages::alerts::my_settings).post(pages::alerts::save_my_settings),
        )
        .route("/account/alerts/digest", get(pages::alerts::digest_preview))
        .route(
            "/account/alerts/resubscribe",
            post(pages::alerts::resubscribe),
        )
        .route("/orgs/{id}/alerts", get(pages::alerts::org_settings))
        .route(
            "/orgs/{id}/alerts/defaults",
            post(pages::alerts::save_org_defaults),
        )
        .route(
            "/orgs/{id}/alerts/webhooks",
            post(pages::alerts::add_webhook),
        )
        .route(
            "/orgs/{org}/alerts/webhooks/{wid}/enable",
            post(pages::alerts::enable_webhook),
        )
        .route(
            "/orgs/{org}/alerts/webhooks/{wid}/disable",
            post(pages::alerts::disable_webhook),
        )
        .route(
            "/orgs/{org}/alerts/webhooks/{wid}/delete",
            post(pages::alerts::delete_webhook),
        )
        .route("/orgs/{id}/alerts/history", get(pages::alerts::history))
        .route("/alerts", get(pages::alerts::history_mine))
        .route("/alerts/{id}", get(pages::alerts::show))
        .route("/deliveries", get(pages::alerts::deliveries))
        .route("/deliveries/{id}/retry", post(pages::alerts::retry))
        .route(
            "/unsubscribe",
            get(pages::alerts::unsubscribe_form).post(pages::alerts::unsubscribe),
        )
        // End of alerts (issue 5)
        // Polls (issue 7)
        .route("/polls", get(pages::polls::list).post(pages::polls::create))
        .route("/polls/notify", post(pages::polls::set_notify))
        .route("/polls/{id}", get(pages::polls::show))
        .route("/polls/{id}/ballot", post(pages::polls::vote))
        .route("/polls/{id}/close", post(pages::polls::close))
        // End of polls (issue 7)
        // Discussion (issue 7)
        .route(
            "/discussion",
            get(pages::discussion::topics).post(pages::discussion::create_topic),
        )
        .route(
            "/discussion/settings",
            post(pages::discussion::set_settings),
        )
        .route("/discussion/threads/{id}", get(pages::discussion::thread))
        .route(
            "/discussion/threads/{id}/reply",
            post(pages::discussion::reply),
        )
        .route(
            "/discussion/threads/{id}/lock",
            post(pages::discussion::lock),
        )
        .route("/discussion/posts/{id}/edit", post(pages::discussion::edit))
        .route("/discussion/posts/{id}/hide", post(pages::discussion::hide))
        .route(
            "/discussion/{topic}",
            get(pages::discussion::topic).post(pages::discussion::create_thread),
        )
        // End of discussion (issue 7)
        // News and links (issue 7)
        .route("/news", get(pages::news::list).post(pages::news::create))
        .route(
            "/news/{id}",
            get(pages::news::show).post(pages::news::update),
        )
        .route("/news/{id}/delete", post(pages::news::delete))
        .route(
            "/links",
            get(pages::news::library).post(pages::news::add_link),
        )
        .route("/links/{id}", post(pages::news::update_link))
        .route("/links/{id}/edit", get(pages::news::edit_link))
        .route("/links/{id}/delete", post(pages::news::delete_link))
        // End of news and links (issue 7)
        // Incidents (issue 6)
        .route(
            "/incidents",
            get(pages::incidents::list).post(pages::incidents::create),
        )
        .route("/incidents/new", get(pages::incidents::new_form))
        .route("/incidents/{id}", get(pages::incidents::show))
        .route(
            "/incidents/{id}/edit",
            get(pages::incidents::edit_form).post(pages::incidents::update),
        )
        .route(
            "/incidents/{id}/escalations",
            post(pages::incidents::escalate),
        )
        .route("/incidents/{id}/ico", post(pages::incidents::record_ico))
        .route("/incidents/{id}/sanitised", post(pages::incidents::share))
        .route(
            "/incidents/{id}/sanitised/approve",
            post(pages::incidents::approve),
        )
        .route(
            "/incidents/{id}/sharing/withdraw",
            post(pages::incidents::withdraw),
        )
        .route("/incidents/{id}/lessons", post(pages::incidents::lessons))
        .route("/incidents/{id}/audit", get(pages::incidents::audit))
        .route("/incidents/{id}/print", get(pages::incidents::print))
        .route("/incidents/{id}/stix", get(pages::incidents::stix))
        .route(
            "/incidents/{id}/attachments/{aid}",
            get(pages::incidents::download_attachment),
        )
        .route(
            "/incidents/{id}/attachments/{aid}/delete",
            post(pages::incidents::delete_attachment),
        )
        // End of incidents (issue 6)
        // Federation (issue 9)
        .route("/federation", get(pages::federation::index))
        .route("/federation/peers", post(pages::federation::create))
        .route(
            "/federation/peers/{id}",
            get(pages::federation::show).post(pages::federation::update),
        )
        .route(
            "/federation/peers/{id}/enable",
            post(pages::federation::enable),
        )
        .route(
            "/federation/peers/{id}/disable",
            post(pages::federation::disable),
        )
        .route(
            "/federation/peers/{id}/token",
            post(pages::federation::rotate_token),
        )
        .route(
            "/federation/peers/{id}/poll",
            post(pages::federation::poll_now),
        )
        .route(
            "/federation/releases/{advisory}",
            post(pages::federation::release),
        )
        .route("/partners", get(pages::federation::partners))
        .route(
            "/incidents/{id}/federation",
            get(pages::federation::consent_form).post(pages::federation::consent),
        )
        // End of federation (issue 9)
        // Assessments (issue 8)
        .route("/assessments", get(pages::assessments::index))
        .route("/assessments/{fw}/region", get(pages::assessments::region))
        .route(
            "/assessments/{fw}/export.csv",
            get(pages::assessments::export),
        )
        .route(
            "/orgs/{org}/assessments/{fw}",
            get(pages::assessments::overview),
        )
        .route(
            "/orgs/{org}/assessments/{fw}/sections/{principle}",
            get(pages::assessments::section).post(pages::assessments::save_section),
        )
        .route(
            "/orgs/{org}/assessments/{fw}/submit",
            post(pages::assessments::submit),
        )
        .route(
            "/orgs/{org}/assessments/{fw}/results",
            get(pages::assessments::latest),
        )
        .route(
            "/orgs/{org}/assessments/{fw}/submissions/{id}",
            get(pages::assessments::results),
        )
        .route(
            "/orgs/{org}/assessments/{fw}/submissions/{id}/print",
            get(pages::assessments::print),
        )
        // End of assessments (issue 8)
        // Meetings (issue 7)
        .route(
            "/meetings",
            get(pages::meetings::list).post(pages::meetings::create),
        )
        .route("/meetings.ics", get(pages::meetings::feed))
        .route("/meetings/new", get(pages::meetings::new_form))
        .route("/meetings/outlines", get(pages::meetings::public_outlines))
        .route("/meetings/{id}", get(pages::meetings::show))
        .route(
            "/meetings/{id}/edit",
            get(pages::meetings::edit_form).post(pages::meetings::update),
        )
        .route("/meetings/{id}/rsvp", post(pages::meetings::rsvp))
        .route(
            "/meetings/{id}/agenda",
            post(pages::meetings::add_agenda_item),
        )
        .route(
            "/meetings/{id}/agenda/{item}/delete",
            post(pages::meetings::delete_agenda_item),
        )
        .route("/meetings/{id}/minutes", post(pages::meetings::minutes))
        .route(
            "/meetings/{id}/outline",
            get(pages::meetings::public_outline).post(pages::meetings::outline),
        )
        .route(
            "/meetings/{id}/attendance",
            post(pages::meetings::attendance),
        )
        // End of meetings (issue 7)
        .layer(no_store.clone());
    // Everything but file uploads takes small bodies.
    let small = axum::Router::new()
        .merge(pages)
        .nest("/api/v1", api::routes())
        // Federation (issue 9)
        .merge(taxii::routes())
        // End of federation (issue 9)
        .route("/static/style.css", get(pages::stylesheet))
        .route("/metrics", get(metrics::scrape))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    // Inventory imports and incident evidence files take files of up to
    // MAX_UPLOAD_MB. The extractors enforce the limit (axum's
    // DefaultBodyLimit) so that the answer can say which limit was passed; a
    // multipart form adds a little framing.
    let uploads = axum::Router::new()
        .route(
            "/orgs/{id}/inventory/import/csv",
            post(inventory::import_csv),
        )
        .route(
            "/orgs/{id}/inventory/import/sbom",
            post(inventory::import_sbom),
        )
        // Incidents (issue 6)
        .route(
            "/incidents/{id}/attachments",
            post(pages::incidents::upload_attachment),
        )
        // End of incidents (issue 6)
        .layer(no_store)
        .route(
            "/api/v1/orgs/{id}/inventory/import",
            post(api::import_inventory),
        )
        // Incidents (issue 6): the API's GET on the same path lives in
        // `api::routes` (small bodies); axum merges the two methods.
        .route(
            "/api/v1/incidents/{id}/attachments",
            post(api::upload_incident_attachment),
        )
        // End of incidents (issue 6)
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + MAX_BODY_BYTES));
    axum::Router::new()
        .merge(small)
        .merge(uploads)
        .fallback(|| async { AppError::NotFound("page") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Ready when the database answers.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Headers that make the browser refuse framing, sniffing, inline script and
/// leaking one-time links through the Referer header; behind TLS (secure
/// cookies on), HSTS; and a `Retry-After` on every 429.
async fn security_headers(
    State(state): State<AppState>,
    mut response: axum::response::Response,
) -> axum::response::Response {
    const HEADERS: [(&str, &str); 4] = [
        (
            "content-security-policy",
            "default-src 'self'; script-src 'none'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ];
    let too_many = response.status() == StatusCode::TOO_MANY_REQUESTS;
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers
            .entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    }
    if state.config.secure_cookies {
        headers
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static(
                "max-age=31536000; includeSubDomains",
            ));
    }
    if too_many {
        headers
            .entry(header::RETRY_AFTER)
            .or_insert(HeaderValue::from_static("60"));
    }
    response
}

/// Serve `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Store,
    config: WebConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(store, config);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

//! Who is asking: session cookies for pages, bearer tokens for the API, CSRF
//! checks for every form, client addresses for throttling, and password
//! hashing off the async threads.

use crate::AppState;
use crate::actions::inventory::{MAX_UPLOAD_BYTES, MAX_UPLOAD_MB};
use crate::error::{ApiError, AppError};
use axum::extract::multipart::MultipartError;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Multipart, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::Duration;
use openwarp_core::Password;
use openwarp_store::crypto::{constant_time_eq, new_token};
use openwarp_store::{Session, SessionStage, Store, User, now};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "owp_session";
/// Double-submit token for forms shown before sign-in (login, invitation, reset).
pub const PRE_SESSION_COOKIE: &str = "owp_pre";

/// Failed sign-ins allowed per account in [`THROTTLE_WINDOW_MINUTES`].
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed sign-ins allowed per client address in the window.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 30;
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;

/// Largest form or JSON body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn session_ttl(state: &AppState) -> Duration {
    Duration::minutes(state.config.session_idle_minutes)
}

/// How long a session may last from sign-in, however active.
pub fn session_lifetime(state: &AppState) -> Duration {
    Duration::hours(state.config.session_absolute_hours)
}

/// A cookie with our safety attributes: HttpOnly, SameSite=Strict, Path=/,
/// and Secure when configured.
pub fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_path("/");
    c.set_secure(state.config.secure_cookies);
    c
}

pub fn removal_cookie(state: &AppState, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(state, name, String::new());
    c.make_removal();
    c
}

/// The client's address: the socket peer, or the first `X-Forwarded-For`
/// entry when the operator has said a trusted proxy sits in front.
pub fn client_ip(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    if state.config.trust_proxy_headers
        && let Some(first) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    {
        return first.to_string();
    }
    peer.map(|p| p.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The client address of a request, as an extractor.
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(ClientIp(client_ip(state, &parts.headers, peer)))
    }
}

/// Whether a member user's organisation currently lets its users in.
pub async fn organisation_allows(store: &Store, user: &User) -> Result<bool, AppError> {
    match user.org_id {
        None => Ok(true),
        Some(org) => Ok(store
            .get_org(org)
            .await?
            .is_some_and(|o| o.status.allows_sign_in())),
    }
}

/// The session named by the request's cookie, if it is live. Cached in the
/// request's extensions so several extractors cost one lookup.
async fn current_session(parts: &mut Parts, state: &AppState) -> Result<Option<Session>, AppError> {
    if let Some(cached) = parts.extensions.get::<Option<Session>>() {
        return Ok(cached.clone());
    }
    let jar = CookieJar::from_headers(&parts.headers);
    let session = match jar.get(SESSION_COOKIE) {
        None => None,
        Some(c) => match state
            .store
            .session_by_token(
                c.value(),
                now(),
                session_ttl(state),
                session_lifetime(state),
            )
            .await?
        {
            Some(s) if organisation_allows(&state.store, &s.user).await? => Some(s),
            _ => None,
        },
    };
    parts.extensions.insert(session.clone());
    Ok(session)
}

/// The signed-in user's session, if any (pages that also serve visitors).
pub struct MaybeSignedIn(pub Option<Session>);

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeSignedIn(
            current_session(parts, state)
                .await?
                .filter(|s| s.stage == SessionStage::Full),
        ))
    }
}

/// A session whose sign-in may still owe a second factor: for the pages
/// that take the one-time code or set up an authenticator, and nothing else.
pub struct PendingSignIn(pub Session);

impl FromRequestParts<AppState> for PendingSignIn {
    type Rejection = Response;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match current_session(parts, state).await {
            Ok(Some(s)) => Ok(PendingSignIn(s)),
            Ok(None) => Err(login_redirect(&parts.uri)),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// A form posted from one of those pages, checked against the session's
/// CSRF token.
pub struct PendingForm<T> {
    pub session: Session,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for PendingForm<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let PendingSignIn(session) = PendingSignIn::from_request_parts(&mut parts, state).await?;
        let form = checked_form(Request::from_parts(parts, body), &session).await?;
        Ok(PendingForm { session, form })
    }
}

/// Where a sign-in that still owes a second factor goes next.
fn second_factor_redirect(stage: SessionStage, uri: &Uri) -> Response {
    let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let next = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    let page = match stage {
        SessionStage::Enrol => "/account/mfa/setup",
        _ => "/login/mfa",
    };
    Redirect::to(&format!("{page}?{next}")).into_response()
}

/// A signed-in user's session; visitors are sent to the sign-in page and
/// brought back afterwards.
pub struct SignedIn(pub Session);

fn login_redirect(uri: &Uri) -> Response {
    let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let target = format!(
        "/login?next={}",
        serde_urlencoded::to_string([("", next)])
            .unwrap_or_default()
            .trim_start_matches('=')
    );
    Redirect::to(&target).into_response()
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match current_session(parts, state).await {
            Ok(Some(s)) if s.stage == SessionStage::Full => Ok(SignedIn(s)),
            Ok(Some(s)) => Err(second_factor_redirect(s.stage, &parts.uri)),
            Ok(None) => Err(login_redirect(&parts.uri)),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// Only allow local paths as a post-sign-in destination (no open redirects).
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/dashboard"
    }
}

async fn read_form_body(req: Request) -> Result<Vec<(String, String)>, AppError> {
    let is_form = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(AppError::UnsupportedMediaType(
            "forms must be sent as application/x-www-form-urlencoded".into(),
        ));
    }
    let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    serde_urlencoded::from_bytes(&bytes)
        .map_err(|e| AppError::BadRequest(format!("the form could not be read: {e}")))
}

fn decode_fields<T: DeserializeOwned>(fields: &[(String, String)]) -> Result<T, AppError> {
    let encoded = serde_urlencoded::to_string(fields)
        .map_err(|e| AppError::BadRequest(format!("the form could not be read: {e}")))?;
    serde_urlencoded::from_str(&encoded)
        .map_err(|e| AppError::BadRequest(format!("the form could not be read: {e}")))
}

fn csrf_field(fields: &[(String, String)]) -> &str {
    fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str())
}

fn csrf_failed() -> AppError {
    AppError::Forbidden(
        "this form has expired or did not come from this site; go back, reload the page and try again"
            .into(),
    )
}

/// The form in `req`, once its CSRF field matches `session`'s token.
async fn checked_form<T: DeserializeOwned>(req: Request, session: &Session) -> Result<T, Response> {
    let fields = read_form_body(req)
        .await
        .map_err(IntoResponse::into_response)?;
    if !constant_time_eq(csrf_field(&fields), &session.csrf_token) {
        return Err(csrf_failed().into_response());
    }
    decode_fields(&fields).map_err(IntoResponse::into_response)
}

/// A form posted by a signed-in user, checked against the session's CSRF token.
pub struct SessionForm<T> {
    pub session: Session,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for SessionForm<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let SignedIn(session) = SignedIn::from_request_parts(&mut parts, state).await?;
        let form = checked_form(Request::from_parts(parts, body), &session).await?;
        Ok(SessionForm { session, form })
    }
}

/// A file uploaded by a signed-in user (a `multipart/form-data` form with a
/// `csrf` field before a `file` field), checked against the session's CSRF
/// token. A file that cannot be used (none chosen, too large) is returned as
/// an error in `file`, so the page can show the form again with the reason;
/// a wrong or missing CSRF token rejects the request outright.
pub struct SessionUpload {
    pub session: Session,
    pub file: Result<Upload, AppError>,
}

/// An uploaded file, read into memory (at most [`MAX_UPLOAD_BYTES`]).
pub struct Upload {
    /// The file name the browser gave, if any.
    pub name: Option<String>,
    /// The media type the sender declared for the file, if any.
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

fn upload_error(e: MultipartError) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::FileTooLarge(MAX_UPLOAD_MB)
    } else {
        AppError::BadRequest(format!("the upload could not be read: {}", e.body_text()))
    }
}

/// Read a multipart `file` field: its name, declared type and bytes (at
/// most [`MAX_UPLOAD_BYTES`]; an empty file is refused).
async fn read_file_field(field: axum::extract::multipart::Field<'_>) -> Result<Upload, AppError> {
    let name = field
        .file_name()
        .map(str::to_string)
        .filter(|n| !n.is_empty());
    let content_type = field.content_type().map(str::to_string);
    match field.bytes().await {
        Ok(b) if b.len() > MAX_UPLOAD_BYTES => Err(AppError::FileTooLarge(MAX_UPLOAD_MB)),
        Ok(b) if b.is_empty() && name.is_none() => {
            Err(AppError::field("file", "choose a file to upload"))
        }
        Ok(b) if b.is_empty() => Err(AppError::field("file", "the file is empty")),
        Ok(b) => Ok(Upload {
            name,
            content_type,
            bytes: b.to_vec(),
        }),
        Err(e) => Err(upload_error(e)),
    }
}

/// A file sent to the API as `multipart/form-data` with a `file` field.
/// Never rejects: what went wrong (not multipart, no file, empty, too
/// large) is kept in the result, so the handler can first check that the
/// caller may see and change the record (404 and 403 never depend on the
/// body), and only then answer about the file.
pub struct ApiUpload(pub Result<Upload, AppError>);

impl FromRequest<AppState> for ApiUpload {
    type Rejection = std::convert::Infallible;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !is_multipart {
            return Ok(ApiUpload(Err(AppError::UnsupportedMediaType(
                "send the file as multipart/form-data, in a field named 'file'".into(),
            ))));
        }
        let mut multipart = match Multipart::from_request(req, state).await {
            Ok(m) => m,
            Err(e) => return Ok(ApiUpload(Err(AppError::BadRequest(e.body_text())))),
        };
        loop {
            match multipart.next_field().await {
                Ok(Some(field)) if field.name() == Some("file") => {
                    return Ok(ApiUpload(read_file_field(field).await));
                }
                Ok(Some(_)) => {}
                Ok(None) => {
                    return Ok(ApiUpload(Err(AppError::field(
                        "file",
                        "send the file in a multipart field named 'file'",
                    ))));
                }
                Err(e) => return Ok(ApiUpload(Err(upload_error(e)))),
            }
        }
    }
}

impl FromRequest<AppState> for SessionUpload {
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let SignedIn(session) = SignedIn::from_request_parts(&mut parts, state).await?;
        crate::limits::check(
            state,
            crate::limits::UPLOADS,
            &crate::limits::user(session.user.id),
        )
        .await
        .map_err(IntoResponse::into_response)?;
        let is_multipart = parts
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !is_multipart {
            return Err(AppError::UnsupportedMediaType(
                "upload files with a form sent as multipart/form-data".into(),
            )
            .into_response());
        }
        let req = Request::from_parts(parts, body);
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let mut csrf: Option<String> = None;
        let mut file: Option<Result<Upload, AppError>> = None;
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    file = Some(Err(upload_error(e)));
                    break;
                }
            };
            match field.name().unwrap_or_default() {
                "csrf" if csrf.is_none() => {
                    csrf = Some(
                        field
                            .text()
                            .await
                            .map_err(|e| upload_error(e).into_response())?,
                    );
                }
                "file" if file.is_none() => {
                    file = Some(read_file_field(field).await);
                    if matches!(file, Some(Err(_))) {
                        break;
                    }
                }
                // Other fields (the submit button, say) are not ours to read.
                _ => {}
            }
        }
        match csrf {
            Some(token) if constant_time_eq(&token, &session.csrf_token) => {}
            // The body broke off before the token arrived: say why.
            None => {
                return Err(match file {
                    Some(Err(e)) => e,
                    _ => csrf_failed(),
                }
                .into_response());
            }
            Some(_) => return Err(csrf_failed().into_response()),
        }
        Ok(SessionUpload {
            session,
            file: file.unwrap_or_else(|| Err(AppError::field("file", "choose a file to upload"))),
        })
    }
}

/// A form posted before sign-in, checked by double submit against the
/// pre-session cookie set when the form was shown.
pub struct AnonForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for AnonForm<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, _state: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(req.headers());
        let expected = jar
            .get(PRE_SESSION_COOKIE)
            .map(|c| c.value().to_string())
            .unwrap_or_default();
        let fields = read_form_body(req).await?;
        if expected.is_empty() || !constant_time_eq(csrf_field(&fields), &expected) {
            return Err(csrf_failed());
        }
        Ok(AnonForm(decode_fields(&fields)?))
    }
}

/// The pre-session token for an anonymous form: reuse the cookie or mint one.
pub fn pre_session_token(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    if let Some(c) = jar.get(PRE_SESSION_COOKIE)
        && !c.value().is_empty()
    {
        let v = c.value().to_string();
        return (jar, v);
    }
    let token = new_token();
    (
        jar.add(cookie(state, PRE_SESSION_COOKIE, token.clone())),
        token,
    )
}

/// The user behind an API bearer token.
pub struct ApiCaller(pub User);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = match bearer_token(&parts.headers) {
            Some(t) => state.store.api_token_user(t, now()).await?,
            None => None,
        };
        let Some(user) = user else {
            // Guessing tokens is limited per address.
            let peer = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0);
            let ip = client_ip(state, &parts.headers, peer);
            crate::limits::check(
                state,
                crate::limits::API_BAD_TOKENS,
                &crate::limits::address(&ip),
            )
            .await?;
            return Err(AppError::Unauthorized.into());
        };
        crate::limits::check(
            state,
            crate::limits::API_CALLS,
            &crate::limits::user(user.id),
        )
        .await?;
        if !organisation_allows(&state.store, &user).await? {
            return Err(AppError::Forbidden(
                "your organisation's membership does not currently allow access".into(),
            )
            .into());
        }
        Ok(ApiCaller(user))
    }
}

/// The token of an `Authorization: Bearer …` header, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Hash a new password on a blocking thread (argon2id is deliberately slow).
pub async fn hash_password(password: Password) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || openwarp_store::crypto::hash_password(&password))
        .await?
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// Verify a password on a blocking thread. `None` burns the same time as a
/// real check, so unknown accounts cannot be told apart by timing.
pub async fn verify_password(stored: Option<String>, candidate: String) -> Result<bool, AppError> {
    Ok(tokio::task::spawn_blocking(move || {
        openwarp_store::crypto::verify_password(stored.as_deref(), &candidate)
    })
    .await?)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next("/orgs/3"), "/orgs/3");
        assert_eq!(safe_next("//evil.example"), "/dashboard");
        assert_eq!(safe_next("https://evil.example"), "/dashboard");
        assert_eq!(safe_next("/\\evil.example"), "/dashboard");
    }
}

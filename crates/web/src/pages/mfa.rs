//! Second factors: the one-time code after the password, setting up an
//! authenticator (QR code drawn as SVG on the server), recovery codes,
//! turning it off, an organisation requiring it, an operator resetting it,
//! and signing out everywhere.
//!
//! A sign-in that owes a second factor holds a session at stage `Mfa` or
//! `Enrol`; only the handlers here accept such a session (`PendingSignIn`,
//! `PendingForm`), everything else sends it back here. Passing the second
//! factor replaces the session with a new one (new token, new CSRF token).

use super::{FormErrors, Layout, render, render_with};
use crate::AppState;
use crate::audit::record;
use crate::auth::{
    self, ClientIp, MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, PendingForm, PendingSignIn,
    SESSION_COOKIE, SessionForm, SignedIn, THROTTLE_WINDOW_MINUTES, cookie, safe_next,
};
use crate::error::AppError;
use crate::pages::session::mfa_required;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use chrono::Duration;
use openwarp_core::{OrgId, Role, UserId, mfa};
use openwarp_store::{Session, SessionStage, User, now};
use serde::Deserialize;

/// How long a set-up in progress keeps its secret (so reloading the page
/// does not invalidate a QR code already scanned).
const ENROLMENT_MINUTES: i64 = 15;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    code: String,
    next: String,
}

fn unix(t: chrono::DateTime<chrono::Utc>) -> u64 {
    u64::try_from(t.timestamp()).unwrap_or(0)
}

// ---- The one-time code after the password ---------------------------------------

#[derive(Template)]
#[template(path = "mfa_login.html")]
struct CodePage {
    layout: Layout,
    errors: FormErrors,
    next: String,
}

/// `GET /login/mfa`.
pub async fn code_form(
    State(state): State<AppState>,
    PendingSignIn(session): PendingSignIn,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    let next = safe_next(&q.next).to_string();
    match session.stage {
        SessionStage::Full => return Ok(Redirect::to(&next).into_response()),
        SessionStage::Enrol => return Ok(Redirect::to("/account/mfa/setup").into_response()),
        SessionStage::Mfa => {}
    }
    render(&CodePage {
        layout: Layout::anonymous(&state, "Enter your code", session.csrf_token.clone()),
        errors: FormErrors::default(),
        next,
    })
}

/// `POST /login/mfa`: a code from the authenticator, or a recovery code.
pub async fn check_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    PendingForm { session, form }: PendingForm<CodeForm>,
) -> Result<Response, AppError> {
    let next = safe_next(&form.next).to_string();
    if session.stage != SessionStage::Mfa {
        return Ok(Redirect::to("/login/mfa").into_response());
    }
    let user = &session.user;
    let again = |message: &str, status: StatusCode| {
        render_with(
            status,
            &CodePage {
                layout: Layout::anonymous(&state, "Enter your code", session.csrf_token.clone()),
                errors: FormErrors::one("code", message),
                next: next.clone(),
            },
        )
    };
    // The same throttle as passwords, counted apart from them.
    let key = format!("mfa:{}", user.email.to_lowercase());
    let t = now();
    let failures = state
        .store
        .login_failures_since(&key, &ip, t - Duration::minutes(THROTTLE_WINDOW_MINUTES))
        .await?;
    if failures.for_email >= MAX_FAILURES_PER_ACCOUNT
        || failures.from_ip >= MAX_FAILURES_PER_ADDRESS
    {
        record(
            &state,
            Some(user),
            "auth.mfa_throttled",
            user.org_id,
            &user.email,
            serde_json::json!({}),
            Some(&ip),
        )
        .await;
        return again(
            &format!("Too many wrong codes. Wait {THROTTLE_WINDOW_MINUTES} minutes and try again."),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let passed = second_factor_passes(&state, user.id, &form.code).await?;
    let Some(how) = passed else {
        state.store.record_login_failure(&key, &ip, t).await?;
        record(
            &state,
            Some(user),
            "auth.mfa_failed",
            user.org_id,
            &user.email,
            serde_json::json!({}),
            Some(&ip),
        )
        .await;
        return again(
            "That code is not right, or was already used. Enter the code your authenticator app shows now, or one of your recovery codes.",
            StatusCode::UNAUTHORIZED,
        );
    };
    state.store.clear_login_failures(&key).await?;
    state.store.record_login(user.id, t).await?;
    let (token, _) = state
        .store
        .promote_session(session.id, user, t, auth::session_ttl(&state))
        .await?;
    record(
        &state,
        Some(user),
        "auth.login",
        user.org_id,
        &user.email,
        serde_json::json!({ "second_factor": how }),
        Some(&ip),
    )
    .await;
    let notice = if how == "recovery_code" {
        let left = state.store.recovery_codes_left(user.id).await?;
        if left <= 3 {
            "/account/mfa?notice=recovery_codes_low"
        } else {
            next.as_str()
        }
    } else {
        next.as_str()
    };
    let jar = jar.add(cookie(&state, SESSION_COOKIE, token));
    Ok((jar, Redirect::to(notice)).into_response())
}

/// Whether `code` passes as the user's second factor: `totp` or
/// `recovery_code` (spent), or None.
async fn second_factor_passes(
    state: &AppState,
    user: UserId,
    code: &str,
) -> Result<Option<&'static str>, AppError> {
    let Some(a) = state.store.authenticator(user).await? else {
        return Ok(None);
    };
    if a.confirmed_at.is_none() {
        return Ok(None);
    }
    let last = u64::try_from(a.last_step).unwrap_or(0);
    if let Some(step) = mfa::check_code(&a.secret, code, unix(now()), last) {
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        return Ok(state.store.accept_step(user, step).await?.then_some("totp"));
    }
    let typed = mfa::normalise_recovery_code(code);
    if typed.len() == 10 && state.store.use_recovery_code(user, &typed, now()).await? {
        return Ok(Some("recovery_code"));
    }
    Ok(None)
}

// ---- The account's second-factor page -------------------------------------------

#[derive(Template)]
#[template(path = "mfa.html")]
struct StatusPage {
    layout: Layout,
    errors: FormErrors,
    enabled: bool,
    required: bool,
    codes_left: i64,
    /// Shown once, after set-up or on request.
    new_codes: Vec<String>,
    /// Member leads: their organisation and whether it requires a second factor.
    lead_of: Option<(i64, String, bool)>,
}

async fn status_page(
    state: &AppState,
    session: &Session,
    errors: FormErrors,
    new_codes: Vec<String>,
    notice: Option<&str>,
) -> Result<StatusPage, AppError> {
    let user = &session.user;
    let lead_of = match (user.role, user.org_id) {
        (Role::MemberLead, Some(o)) => {
            let org = state.store.get_org(o).await?;
            let requires = state.store.org_requires_mfa(o).await?;
            org.map(|org| (o.0, org.name, requires))
        }
        _ => None,
    };
    Ok(StatusPage {
        layout: Layout::signed_in(state, session, "Second factor", "account").with_notice(notice),
        errors,
        enabled: state.store.has_second_factor(user.id).await?,
        required: mfa_required(state, user).await?,
        codes_left: state.store.recovery_codes_left(user.id).await?,
        new_codes,
        lead_of,
    })
}

/// `GET /account/mfa`.
pub async fn status(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<super::dashboard::NoticeQuery>,
) -> Result<Response, AppError> {
    render(
        &status_page(
            &state,
            &session,
            FormErrors::default(),
            Vec::new(),
            q.notice.as_deref(),
        )
        .await?,
    )
}

// ---- Setting up ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "mfa_setup.html")]
struct SetupPage {
    layout: Layout,
    errors: FormErrors,
    /// Inline SVG of the otpauth:// address.
    qr_svg: String,
    secret: String,
    next: String,
    /// Signed in only as far as this page (it is required).
    must: bool,
}

/// The QR code of `url` as an inline SVG element.
fn qr_svg(url: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::new(url.as_bytes())
        .map_err(|e| AppError::Internal(format!("drawing the QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    // Drop the XML declaration: the element goes inside an HTML page.
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].replacen(
        "<svg",
        "<svg role=\"img\" aria-label=\"QR code for your authenticator app\"",
        1,
    ))
}

async fn setup_page(
    state: &AppState,
    session: &Session,
    errors: FormErrors,
    next: String,
) -> Result<SetupPage, AppError> {
    let user = &session.user;
    let t = now();
    let secret = match state.store.authenticator(user.id).await? {
        Some(a) if a.confirmed_at.is_some() => {
            return Err(AppError::Conflict(
                "a second factor is already set up; turn it off first to set up another".into(),
            ));
        }
        Some(a) if t - a.created_at < Duration::minutes(ENROLMENT_MINUTES) => a.secret,
        _ => state.store.start_enrolment(user.id, t).await?,
    };
    let url = mfa::provisioning_url(&secret, &state.config.warp_name, &user.email)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let text = mfa::secret_text(&secret);
    let grouped: Vec<String> = text
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let must = session.stage == SessionStage::Enrol;
    let layout = if must {
        Layout::anonymous(state, "Set up a second factor", session.csrf_token.clone())
    } else {
        Layout::signed_in(state, session, "Set up a second factor", "account")
    };
    Ok(SetupPage {
        layout,
        errors,
        qr_svg: qr_svg(&url)?,
        secret: grouped.join(" "),
        next,
        must,
    })
}

/// `GET /account/mfa/setup`.
pub async fn setup_form(
    State(state): State<AppState>,
    PendingSignIn(session): PendingSignIn,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    if session.stage == SessionStage::Mfa {
        return Ok(Redirect::to("/login/mfa").into_response());
    }
    let next = safe_next(&q.next).to_string();
    render(&setup_page(&state, &session, FormErrors::default(), next).await?)
}

/// `POST /account/mfa/setup`: the first code confirms the authenticator;
/// recovery codes are shown once.
pub async fn confirm_setup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    PendingForm { session, form }: PendingForm<CodeForm>,
) -> Result<Response, AppError> {
    if session.stage == SessionStage::Mfa {
        return Ok(Redirect::to("/login/mfa").into_response());
    }
    let user = session.user.clone();
    let next = safe_next(&form.next).to_string();
    let pending = state
        .store
        .authenticator(user.id)
        .await?
        .filter(|a| a.confirmed_at.is_none());
    let step = pending.as_ref().and_then(|a| {
        mfa::check_code(
            &a.secret,
            &form.code,
            unix(now()),
            u64::try_from(a.last_step).unwrap_or(0),
        )
    });
    let accepted = match step {
        Some(step) => {
            state
                .store
                .accept_step(user.id, i64::try_from(step).unwrap_or(i64::MAX))
                .await?
        }
        None => false,
    };
    if !accepted {
        let page = setup_page(
            &state,
            &session,
            FormErrors::one(
                "code",
                "That code is not right. Check the app shows the account for this WARP, and enter the six digits it shows now.",
            ),
            next,
        )
        .await?;
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let codes = state.store.confirm_enrolment(user.id, now()).await?;
    record(
        &state,
        Some(&user),
        "mfa.enable",
        user.org_id,
        &user.email,
        serde_json::json!({}),
        Some(&ip),
    )
    .await;
    // Privilege changed (a pending sign-in became a full one, or a session
    // gained a factor): a new session, new token.
    let (token, full) = state
        .store
        .promote_session(session.id, &user, now(), auth::session_ttl(&state))
        .await?;
    if session.stage == SessionStage::Enrol {
        state.store.record_login(user.id, now()).await?;
        record(
            &state,
            Some(&user),
            "auth.login",
            user.org_id,
            &user.email,
            serde_json::json!({ "second_factor": "enrolled" }),
            Some(&ip),
        )
        .await;
    }
    let jar = jar.add(cookie(&state, SESSION_COOKIE, token));
    let page = status_page(
        &state,
        &full,
        FormErrors::default(),
        codes,
        Some("mfa_enabled"),
    )
    .await?;
    Ok((jar, render(&page)?).into_response())
}

// ---- Turning it off, new recovery codes ---------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeOnly {
    code: String,
}

/// The second-factor page again, saying the code in `field` was wrong.
async fn wrong_code(
    state: &AppState,
    session: &Session,
    field: &'static str,
) -> Result<Response, AppError> {
    let errors = FormErrors::one(field, "That code is not right.");
    let page = status_page(state, session, errors, Vec::new(), None).await?;
    render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

async fn current_code_ok(state: &AppState, user: UserId, code: &str) -> Result<bool, AppError> {
    Ok(second_factor_passes(state, user, code).await?.is_some())
}

/// `POST /account/mfa/disable` (needs a current code; refused when required).
pub async fn disable(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<CodeOnly>,
) -> Result<Response, AppError> {
    let user = &session.user;
    if mfa_required(&state, user).await? {
        return Err(AppError::Forbidden(
            "your role or organisation requires a second factor, so it cannot be turned off".into(),
        ));
    }
    if !current_code_ok(&state, user.id, &form.code).await? {
        return wrong_code(&state, &session, "disable_code").await;
    }
    state.store.remove_second_factor(user.id).await?;
    record(
        &state,
        Some(user),
        "mfa.disable",
        user.org_id,
        &user.email,
        serde_json::json!({}),
        Some(&ip),
    )
    .await;
    Ok(Redirect::to("/account/mfa?notice=mfa_disabled").into_response())
}

/// `POST /account/mfa/recovery-codes`: replace them (needs a current code).
pub async fn new_recovery_codes(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<CodeOnly>,
) -> Result<Response, AppError> {
    let user = &session.user;
    if !current_code_ok(&state, user.id, &form.code).await? {
        return wrong_code(&state, &session, "codes_code").await;
    }
    let codes = state.store.replace_recovery_codes(user.id).await?;
    record(
        &state,
        Some(user),
        "mfa.recovery_codes",
        user.org_id,
        &user.email,
        serde_json::json!({}),
        Some(&ip),
    )
    .await;
    render(&status_page(&state, &session, FormErrors::default(), codes, None).await?)
}

// ---- Sign out everywhere --------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct Empty {}

/// `POST /account/sessions/end`: every session of this user ends, this one too.
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    SessionForm { session, .. }: SessionForm<Empty>,
) -> Result<Response, AppError> {
    let user = &session.user;
    let ended = state.store.delete_user_sessions(user.id).await?;
    record(
        &state,
        Some(user),
        "auth.logout_everywhere",
        user.org_id,
        &user.email,
        serde_json::json!({ "sessions": ended }),
        Some(&ip),
    )
    .await;
    let jar = jar.remove(auth::removal_cookie(&state, SESSION_COOKIE));
    Ok((jar, Redirect::to("/login?notice=signed_out_everywhere")).into_response())
}

// ---- Organisation policy and operator reset ----------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PolicyForm {
    /// "on" when ticked.
    require: Option<String>,
}

/// `POST /orgs/{id}/mfa`: the organisation's lead (or an operator) requires
/// a second factor of everyone in it, or stops requiring it.
pub async fn set_policy(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<PolicyForm>,
) -> Result<Response, AppError> {
    let user = &session.user;
    let org = OrgId(id);
    let allowed =
        user.role == Role::Operator || (user.role == Role::MemberLead && user.org_id == Some(org));
    if !allowed {
        return Err(AppError::Forbidden(
            "only the organisation's member lead or an operator can change this".into(),
        ));
    }
    if state.store.get_org(org).await?.is_none() {
        return Err(AppError::NotFound("organisation"));
    }
    let require = form.require.is_some();
    state.store.set_org_requires_mfa(org, require).await?;
    record(
        &state,
        Some(user),
        "org.require_mfa",
        Some(org),
        &format!("org:{id}"),
        serde_json::json!({ "required": require }),
        Some(&ip),
    )
    .await;
    let back = if user.role == Role::Operator {
        format!("/orgs/{id}?notice=org_updated")
    } else {
        "/account/mfa?notice=org_updated".to_string()
    };
    Ok(Redirect::to(&back).into_response())
}

/// `POST /users/{id}/mfa/reset`: an operator removes someone's second factor
/// (lost phone and recovery codes) and ends their sessions; if one is
/// required they set up a new one at their next sign-in.
pub async fn reset_user(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<Empty>,
) -> Result<Response, AppError> {
    session.user.actor().require_operator()?;
    let target: User = state
        .store
        .get_user(UserId(id))
        .await?
        .ok_or(AppError::NotFound("user"))?;
    state.store.remove_second_factor(target.id).await?;
    state.store.delete_user_sessions(target.id).await?;
    record(
        &state,
        Some(&session.user),
        "mfa.reset",
        target.org_id,
        &target.email,
        serde_json::json!({ "user": id }),
        Some(&ip),
    )
    .await;
    let back = match target.org_id {
        Some(o) => format!("/orgs/{}?notice=mfa_reset", o.0),
        None => "/operators?notice=mfa_reset".to_string(),
    };
    Ok(Redirect::to(&back).into_response())
}

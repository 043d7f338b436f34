//! Signing in and out, accepting invitations and setting a password from a
//! reset link: everything a visitor without a session can do.

use super::{FormErrors, Layout, render, render_with};
use crate::AppState;
use crate::audit::record;
use crate::auth::{
    self, AnonForm, ClientIp, MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, MaybeSignedIn,
    PRE_SESSION_COOKIE, PendingForm, SESSION_COOKIE, THROTTLE_WINDOW_MINUTES, cookie,
    pre_session_token, removal_cookie, safe_next,
};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use chrono::Duration;
use openwarp_core::account::display_name;
use openwarp_core::{Email, Password, ValidationErrors};
use openwarp_store::{AcceptError, InvitationState, SessionStage, TokenUse, now};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    errors: FormErrors,
    email: String,
    next: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: Option<String>,
    notice: Option<String>,
}

pub async fn root(MaybeSignedIn(session): MaybeSignedIn) -> Redirect {
    if session.is_some() {
        Redirect::to("/dashboard")
    } else {
        Redirect::to("/login")
    }
}

pub async fn login_form(
    State(state): State<AppState>,
    MaybeSignedIn(session): MaybeSignedIn,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let next = safe_next(q.next.as_deref().unwrap_or("/dashboard")).to_string();
    if session.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let (jar, csrf) = pre_session_token(&state, jar);
    let page = LoginPage {
        layout: Layout::anonymous(&state, "Sign in", csrf).with_notice(q.notice.as_deref()),
        errors: FormErrors::default(),
        email: String::new(),
        next,
    };
    Ok((jar, render(&page)?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    AnonForm(form): AnonForm<LoginForm>,
) -> Result<Response, AppError> {
    let email_key = form.email.trim().to_lowercase();
    let next = safe_next(&form.next).to_string();
    let csrf = jar
        .get(PRE_SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let again = |errors: FormErrors, status: StatusCode| -> Result<Response, AppError> {
        let page = LoginPage {
            layout: Layout::anonymous(&state, "Sign in", csrf.clone()),
            errors,
            email: form.email.trim().to_string(),
            next: next.clone(),
        };
        render_with(status, &page)
    };
    if email_key.is_empty() || form.password.is_empty() {
        let mut v = ValidationErrors::new();
        if email_key.is_empty() {
            v.add("email", "Enter your e-mail address");
        }
        if form.password.is_empty() {
            v.add("password", "Enter your password");
        }
        return again(v.into(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    let t = now();
    let failures = state
        .store
        .login_failures_since(
            &email_key,
            &ip,
            t - Duration::minutes(THROTTLE_WINDOW_MINUTES),
        )
        .await?;
    if failures.for_email >= MAX_FAILURES_PER_ACCOUNT
        || failures.from_ip >= MAX_FAILURES_PER_ADDRESS
    {
        record(
            &state,
            None,
            "auth.login_throttled",
            None,
            &email_key,
            serde_json::json!({}),
            Some(&ip),
        )
        .await;
        return again(
            FormErrors::one(
                "email",
                format!(
                    "Too many failed sign-ins. Wait {THROTTLE_WINDOW_MINUTES} minutes and try again, or ask for a password reset link."
                ),
            ),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }

    let found = state.store.find_user_by_email(&email_key).await?;
    let verified = auth::verify_password(
        found.as_ref().map(|f| f.password_hash.clone()),
        form.password.clone(),
    )
    .await?;
    let user = match found {
        Some(f) if verified && !f.user.disabled => Some(f.user),
        _ => None,
    };
    let org_ok = match &user {
        Some(u) => auth::organisation_allows(&state.store, u).await?,
        None => false,
    };
    let Some(user) = user.filter(|_| org_ok) else {
        state.store.record_login_failure(&email_key, &ip, t).await?;
        record(
            &state,
            None,
            "auth.login_failed",
            None,
            &email_key,
            serde_json::json!({}),
            Some(&ip),
        )
        .await;
        return again(
            FormErrors::one(
                "email",
                "The e-mail address or password is not right, or the account is not active",
            ),
            StatusCode::UNAUTHORIZED,
        );
    };

    state.store.clear_login_failures(&email_key).await?;
    // The password was right. Someone with a second factor owes a code;
    // someone who must have one and has not, must set it up first. Either
    // way the session reaches nothing else until then.
    let stage = if state.store.has_second_factor(user.id).await? {
        SessionStage::Mfa
    } else if mfa_required(&state, &user).await? {
        SessionStage::Enrol
    } else {
        SessionStage::Full
    };
    let (token, _) = state
        .store
        .create_session_at(&user, t, auth::session_ttl(&state), stage)
        .await?;
    let jar = jar
        .add(cookie(&state, SESSION_COOKIE, token))
        .remove(removal_cookie(&state, PRE_SESSION_COOKIE));
    let next_query = serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
    match stage {
        SessionStage::Full => {
            state.store.record_login(user.id, t).await?;
            record(
                &state,
                Some(&user),
                "auth.login",
                user.org_id,
                &user.email,
                serde_json::json!({}),
                Some(&ip),
            )
            .await;
            Ok((jar, Redirect::to(&next)).into_response())
        }
        SessionStage::Mfa => {
            Ok((jar, Redirect::to(&format!("/login/mfa?{next_query}"))).into_response())
        }
        SessionStage::Enrol => Ok((
            jar,
            Redirect::to(&format!("/account/mfa/setup?{next_query}")),
        )
            .into_response()),
    }
}

/// Whether `user` must sign in with a second factor (operators always;
/// members when their organisation requires it).
pub async fn mfa_required(state: &AppState, user: &openwarp_store::User) -> Result<bool, AppError> {
    let org_requires = match user.org_id {
        Some(o) => state.store.org_requires_mfa(o).await?,
        None => false,
    };
    let role = if user.role == openwarp_core::Role::Operator && !state.config.operators_need_mfa {
        // The demo and tests not about second factors.
        openwarp_core::Role::MemberUser
    } else {
        user.role
    };
    Ok(openwarp_core::mfa::required(role, org_requires))
}

#[derive(Deserialize, Default)]
pub struct Empty {}

pub async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    form: PendingForm<Empty>,
) -> Result<Response, AppError> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        state.store.delete_session(c.value()).await?;
    }
    let user = &form.session.user;
    record(
        &state,
        Some(user),
        "auth.logout",
        user.org_id,
        &user.email,
        serde_json::json!({}),
        Some(&ip),
    )
    .await;
    let jar = jar.remove(removal_cookie(&state, SESSION_COOKIE));
    Ok((jar, Redirect::to("/login?notice=signed_out")).into_response())
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    layout: Layout,
    errors: FormErrors,
    token: String,
    email: String,
    role: &'static str,
    org_name: String,
    display_name: String,
}

/// Load an invitation that can still be used, or the error to show.
async fn usable_invitation(
    state: &AppState,
    token: &str,
) -> Result<(openwarp_store::Invitation, String), AppError> {
    let inv = state
        .store
        .invitation_by_token(token)
        .await?
        .ok_or(AppError::NotFound("invitation"))?;
    match inv.state(now()) {
        InvitationState::Pending => {}
        InvitationState::Accepted => return Err(AcceptError::AlreadyUsed.into()),
        InvitationState::Revoked => return Err(AcceptError::Revoked.into()),
        InvitationState::Expired => return Err(AcceptError::Expired.into()),
    }
    let org_name = match inv.org_id {
        Some(o) => state
            .store
            .get_org(o)
            .await?
            .map(|o| o.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok((inv, org_name))
}

pub async fn invite_form(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    crate::limits::check(
        &state,
        crate::limits::ONE_TIME_LINKS,
        &crate::limits::address(&ip),
    )
    .await?;
    let (inv, org_name) = usable_invitation(&state, &token).await?;
    let (jar, csrf) = pre_session_token(&state, jar);
    let page = InvitePage {
        layout: Layout::anonymous(&state, "Accept your invitation", csrf),
        errors: FormErrors::default(),
        token,
        email: inv.email,
        role: inv.role.label(),
        org_name,
        display_name: String::new(),
    };
    Ok((jar, render(&page)?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewPasswordForm {
    display_name: String,
    password: String,
    password_confirm: String,
}

/// Check a new password and its confirmation against the policy.
fn new_password(
    errors: &mut ValidationErrors,
    email: &str,
    password: &str,
    confirm: &str,
) -> Option<Password> {
    let email = Email::parse(email).ok()?;
    match Password::new(password, &email) {
        Ok(p) if password == confirm => Some(p),
        Ok(_) => {
            errors.add("password_confirm", "The two passwords do not match");
            None
        }
        Err(e) => {
            errors.add("password", e.to_string());
            None
        }
    }
}

pub async fn accept_invite(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    AnonForm(form): AnonForm<NewPasswordForm>,
) -> Result<Response, AppError> {
    crate::limits::check(
        &state,
        crate::limits::ONE_TIME_LINKS,
        &crate::limits::address(&ip),
    )
    .await?;
    let (inv, org_name) = usable_invitation(&state, &token).await?;
    let mut errors = ValidationErrors::new();
    let name = match display_name(&form.display_name) {
        Ok(n) => n,
        Err(m) => {
            errors.add("display_name", m);
            String::new()
        }
    };
    let password = new_password(
        &mut errors,
        &inv.email,
        &form.password,
        &form.password_confirm,
    );
    let Some(password) = password.filter(|_| errors.is_empty()) else {
        let csrf = jar
            .get(PRE_SESSION_COOKIE)
            .map(|c| c.value().to_string())
            .unwrap_or_default();
        let page = InvitePage {
            layout: Layout::anonymous(&state, "Accept your invitation", csrf),
            errors: errors.into(),
            token,
            email: inv.email,
            role: inv.role.label(),
            org_name,
            display_name: form.display_name.trim().to_string(),
        };
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let hash = auth::hash_password(password).await?;
    let user = state
        .store
        .accept_invitation(&token, &name, &hash, now())
        .await?;
    record(
        &state,
        Some(&user),
        "invitation.accept",
        user.org_id,
        &user.email,
        serde_json::json!({ "invitation": inv.id, "role": user.role.as_str() }),
        Some(&ip),
    )
    .await;
    Ok(Redirect::to("/login?notice=welcome").into_response())
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    layout: Layout,
    errors: FormErrors,
    token: String,
    email: String,
}

fn token_error(e: TokenUse) -> AppError {
    match e {
        TokenUse::Unknown => AppError::NotFound("password reset link"),
        TokenUse::Expired | TokenUse::Used => AppError::Gone(e.to_string()),
    }
}

pub async fn reset_form(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    crate::limits::check(
        &state,
        crate::limits::ONE_TIME_LINKS,
        &crate::limits::address(&ip),
    )
    .await?;
    let user = state
        .store
        .password_reset_user(&token, now())
        .await?
        .map_err(token_error)?;
    let (jar, csrf) = pre_session_token(&state, jar);
    let page = ResetPage {
        layout: Layout::anonymous(&state, "Set a new password", csrf),
        errors: FormErrors::default(),
        token,
        email: user.email,
    };
    Ok((jar, render(&page)?).into_response())
}

pub async fn reset(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    AnonForm(form): AnonForm<NewPasswordForm>,
) -> Result<Response, AppError> {
    crate::limits::check(
        &state,
        crate::limits::ONE_TIME_LINKS,
        &crate::limits::address(&ip),
    )
    .await?;
    let user = state
        .store
        .password_reset_user(&token, now())
        .await?
        .map_err(token_error)?;
    let mut errors = ValidationErrors::new();
    let password = new_password(
        &mut errors,
        &user.email,
        &form.password,
        &form.password_confirm,
    );
    let Some(password) = password else {
        let csrf = jar
            .get(PRE_SESSION_COOKIE)
            .map(|c| c.value().to_string())
            .unwrap_or_default();
        let page = ResetPage {
            layout: Layout::anonymous(&state, "Set a new password", csrf),
            errors: errors.into(),
            token,
            email: user.email,
        };
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let hash = auth::hash_password(password).await?;
    let user_id = state
        .store
        .use_password_reset(&token, &hash, now())
        .await?
        .map_err(token_error)?;
    record(
        &state,
        Some(&user),
        "password_reset.use",
        user.org_id,
        &user.email,
        serde_json::json!({ "user": user_id.0 }),
        Some(&ip),
    )
    .await;
    state.store.clear_login_failures(&user.email).await?;
    Ok(Redirect::to("/login?notice=password_set").into_response())
}

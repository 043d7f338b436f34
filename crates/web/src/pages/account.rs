//! The signed-in user's own account: details, password change, API tokens.

use super::dashboard::NoticeQuery;
use super::{FormErrors, Layout, render, render_with, timestamp};
use crate::AppState;
use crate::audit::record;
use crate::auth::{self, ClientIp, SESSION_COOKIE, SessionForm, SignedIn, cookie};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use openwarp_core::{Email, Password, ValidationErrors};
use openwarp_store::{Session, now};
use serde::Deserialize;

pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
}

pub struct UserView {
    pub display_name: String,
    pub email: String,
    pub role: &'static str,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    user: UserView,
    org_name: String,
    errors: FormErrors,
    tokens: Vec<TokenView>,
    new_token: Option<String>,
}

async fn account_page(
    state: &AppState,
    session: &Session,
    notice: Option<&str>,
    errors: FormErrors,
    new_token: Option<String>,
) -> Result<AccountPage, AppError> {
    let u = &session.user;
    let org_name = match u.org_id {
        Some(o) => state
            .store
            .get_org(o)
            .await?
            .map(|o| o.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let tokens = state
        .store
        .list_api_tokens(u.id)
        .await?
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            name: t.name,
            created: timestamp(t.created_at),
            last_used: t.last_used_at.map_or_else(|| "Never".into(), timestamp),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    Ok(AccountPage {
        layout: Layout::signed_in(state, session, "Your account", "account").with_notice(notice),
        user: UserView {
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            role: u.role.label(),
        },
        org_name,
        errors,
        tokens,
        new_token,
    })
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    render(
        &account_page(
            &state,
            &session,
            q.notice.as_deref(),
            FormErrors::default(),
            None,
        )
        .await?,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    password: String,
    password_confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    SessionForm { session, form }: SessionForm<PasswordForm>,
) -> Result<Response, AppError> {
    let user = &session.user;
    let mut errors = ValidationErrors::new();
    let stored = state
        .store
        .find_user_by_email(&user.email)
        .await?
        .map(|u| u.password_hash);
    if !auth::verify_password(stored, form.current_password.clone()).await? {
        errors.add("current_password", "Your current password is not right");
    }
    let email = Email::parse(&user.email).map_err(|e| AppError::Internal(e.to_string()))?;
    let new = match Password::new(&form.password, &email) {
        Ok(_) if form.password != form.password_confirm => {
            errors.add("password_confirm", "The two passwords do not match");
            None
        }
        Ok(p) => Some(p),
        Err(e) => {
            errors.add("password", e.to_string());
            None
        }
    };
    let Some(new) = new.filter(|_| errors.is_empty()) else {
        let page = account_page(&state, &session, None, errors.into(), None).await?;
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let hash = auth::hash_password(new).await?;
    // Ends every session of this user, this one included; start a fresh one.
    state.store.set_password_hash(user.id, &hash).await?;
    let (token, _) = state
        .store
        .create_session(user, now(), auth::session_ttl(&state))
        .await?;
    record(
        &state,
        Some(user),
        "password.change",
        user.org_id,
        &user.email,
        serde_json::json!({}),
        Some(&ip),
    )
    .await;
    let jar = jar.add(cookie(&state, SESSION_COOKIE, token));
    Ok((jar, Redirect::to("/account?notice=password_changed")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenForm {
    token_name: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<TokenForm>,
) -> Result<Response, AppError> {
    crate::limits::check(
        &state,
        crate::limits::API_TOKENS,
        &crate::limits::user(session.user.id),
    )
    .await?;
    let mut errors = ValidationErrors::new();
    let name = openwarp_core::validation::text(&mut errors, "token_name", &form.token_name, 1, 80);
    if !errors.is_empty() {
        let page = account_page(&state, &session, None, errors.into(), None).await?;
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let user = &session.user;
    let (meta, secret) = state.store.create_api_token(user.id, &name, now()).await?;
    record(
        &state,
        Some(user),
        "api_token.create",
        user.org_id,
        &name,
        serde_json::json!({ "token": meta.id }),
        Some(&ip),
    )
    .await;
    let page = account_page(&state, &session, None, FormErrors::default(), Some(secret)).await?;
    render_with(StatusCode::CREATED, &page)
}

pub async fn revoke_token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    let user = &session.user;
    if !state.store.revoke_api_token(user.id, id, now()).await? {
        return Err(AppError::NotFound("API token"));
    }
    record(
        &state,
        Some(user),
        "api_token.revoke",
        user.org_id,
        &id.to_string(),
        serde_json::json!({ "token": id }),
        Some(&ip),
    )
    .await;
    Ok(Redirect::to("/account?notice=token_revoked").into_response())
}

//! Sign-in state: server-side sessions, password-reset tokens, per-user API
//! tokens and the login-failure record used for throttling.

use crate::crypto::{new_token, token_hash};
use crate::users::{UserRow, user_columns};
use crate::{Result, Store, StoreError, User, on_pool};
use chrono::{DateTime, Duration, Utc};
use openwarp_core::UserId;
use serde::Serialize;

/// A live session; the cookie holds the token, the database only its hash.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub user: User,
    /// The synchronizer token every form of this session must echo back.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    /// How far sign-in got: only a `Full` session reaches the application.
    pub stage: SessionStage,
}

/// How far a sign-in got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// Signed in.
    Full,
    /// The password was right; a one-time code is still owed.
    Mfa,
    /// The password was right; a second factor must be set up first.
    Enrol,
}

impl SessionStage {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStage::Full => "full",
            SessionStage::Mfa => "mfa",
            SessionStage::Enrol => "enrol",
        }
    }

    fn parse(s: &str) -> Result<SessionStage> {
        match s {
            "full" => Ok(SessionStage::Full),
            "mfa" => Ok(SessionStage::Mfa),
            "enrol" => Ok(SessionStage::Enrol),
            other => Err(crate::corrupt(format!("session stage {other}"))),
        }
    }
}

/// An API token's metadata (the secret is shown once at creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Why a one-time token could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenUse {
    #[error("this link is not valid; check you copied all of it")]
    Unknown,
    #[error("this link has expired; ask for a new one")]
    Expired,
    #[error("this link has already been used")]
    Used,
}

/// Recent failed sign-ins counted for throttling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailures {
    pub for_email: i64,
    pub from_ip: i64,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    session_id: i64,
    csrf_token: String,
    expires_at: DateTime<Utc>,
    stage: String,
    #[sqlx(flatten)]
    user: UserRow,
}

impl Store {
    /// Start a signed-in session for `user`, valid for `ttl` of inactivity.
    /// Returns the cookie token (secret) and the session.
    pub async fn create_session(
        &self,
        user: &User,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<(String, Session)> {
        self.create_session_at(user, now, ttl, SessionStage::Full)
            .await
    }

    /// Start a session at `stage` (a sign-in that still owes a second factor
    /// starts at `Mfa` or `Enrol`).
    pub async fn create_session_at(
        &self,
        user: &User,
        now: DateTime<Utc>,
        ttl: Duration,
        stage: SessionStage,
    ) -> Result<(String, Session)> {
        let token = new_token();
        let csrf = new_token();
        let expires = now + ttl;
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, stage) \
             VALUES ($1, $2, $3, $4, $4, $5, $6) RETURNING id"
        )
        .bind(token_hash(&token))
        .bind(user.id.0)
        .bind(&csrf)
        .bind(now)
        .bind(expires)
        .bind(stage.as_str())
        .fetch_one(p)
        .await
        })?;
        Ok((
            token,
            Session {
                id,
                user: user.clone(),
                csrf_token: csrf,
                expires_at: expires,
                stage,
            },
        ))
    }

    /// Replace session `id` with a new, fully signed-in one (new token, new
    /// CSRF token): privilege changed, so the old token must stop working.
    pub async fn promote_session(
        &self,
        id: i64,
        user: &User,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<(String, Session)> {
        on_pool!(self, |p| sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        self.create_session_at(user, now, ttl, SessionStage::Full)
            .await
    }

    /// End every session of `user` ("sign out everywhere"). Returns how many.
    pub async fn delete_user_sessions(&self, user: UserId) -> Result<u64> {
        Ok(on_pool!(self, |p| sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1"
        )
        .bind(user.0)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// The session a cookie token names, if it is live and its user is
    /// enabled: used within `ttl` (idle timeout, extended as a sliding
    /// window at most once a minute) and started less than `absolute` ago
    /// (absolute timeout, however active).
    pub async fn session_by_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
        ttl: Duration,
        absolute: Duration,
    ) -> Result<Option<Session>> {
        let sql = concat!(
            "SELECT sessions.id AS session_id, sessions.csrf_token, sessions.expires_at, sessions.stage, ",
            user_columns!(),
            " FROM sessions JOIN users ON users.id = sessions.user_id \
              WHERE sessions.token_hash = $1 AND sessions.expires_at > $2 AND sessions.created_at > $3 \
              AND users.disabled = FALSE"
        );
        let row: Option<SessionRow> = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(token_hash(token))
            .bind(now)
            .bind(now - absolute)
            .fetch_optional(p)
            .await)?;
        let Some(row) = row else { return Ok(None) };
        let mut expires_at = row.expires_at;
        if expires_at - now < ttl - Duration::minutes(1) {
            expires_at = now + ttl;
            on_pool!(self, |p| sqlx::query(
                "UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE id = $1"
            )
            .bind(row.session_id)
            .bind(now)
            .bind(expires_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Ok(Some(Session {
            id: row.session_id,
            stage: SessionStage::parse(&row.stage)?,
            user: row.user.into_user()?.user,
            csrf_token: row.csrf_token,
            expires_at,
        }))
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "DELETE FROM sessions WHERE token_hash = $1"
        )
        .bind(token_hash(token))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Count one more `bucket` action by `subject` in the fixed window of
    /// `window_seconds` that `now` falls in; returns the count so far,
    /// this one included. One statement, so it holds across instances.
    pub async fn hit_rate(
        &self,
        bucket: &str,
        subject: &str,
        window_seconds: i64,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let t = now.timestamp();
        let window_start = t - t.rem_euclid(window_seconds.max(1));
        let (n,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
                "INSERT INTO rate_counts (bucket, subject, window_start, n) VALUES ($1, $2, $3, 1) \
                 ON CONFLICT (bucket, subject, window_start) DO UPDATE SET n = rate_counts.n + 1 \
                 RETURNING n",
            )
            .bind(bucket)
            .bind(subject)
            .bind(window_start)
            .fetch_one(p)
            .await
        })?;
        Ok(n)
    }

    /// Remove expired sessions and stale throttling records. Returns rows removed.
    pub async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        let a = on_pool!(self, |p| sqlx::query(
            "DELETE FROM sessions WHERE expires_at <= $1"
        )
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        let b = on_pool!(self, |p| sqlx::query(
            "DELETE FROM login_failures WHERE at <= $1"
        )
        .bind(now - Duration::days(1))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        let c = on_pool!(self, |p| sqlx::query(
            "DELETE FROM rate_counts WHERE window_start < $1"
        )
        .bind((now - Duration::days(1)).timestamp())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(a + b + c)
    }

    /// Issue a password-reset token for `user`, valid for `valid_for`.
    /// Earlier unused reset tokens for the same user stop working.
    pub async fn create_password_reset(
        &self,
        user: UserId,
        created_by: Option<UserId>,
        now: DateTime<Utc>,
        valid_for: Duration,
    ) -> Result<String> {
        let token = new_token();
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL",
            )
            .bind(user.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO password_resets (token_hash, user_id, created_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash(&token))
            .bind(user.0)
            .bind(created_by.map(|u| u.0))
            .bind(now)
            .bind(now + valid_for)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        Ok(token)
    }

    /// The user a reset token is for, if it can still be used.
    pub async fn password_reset_user(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<User, TokenUse>> {
        let sql = concat!(
            "SELECT password_resets.expires_at, password_resets.used_at, ",
            user_columns!(),
            " FROM password_resets JOIN users ON users.id = password_resets.user_id \
              WHERE password_resets.token_hash = $1"
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            expires_at: DateTime<Utc>,
            used_at: Option<DateTime<Utc>>,
            #[sqlx(flatten)]
            user: UserRow,
        }
        let row: Option<Row> = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(token_hash(token))
            .fetch_optional(p)
            .await)?;
        Ok(match row {
            None => Err(TokenUse::Unknown),
            Some(r) if r.used_at.is_some() => Err(TokenUse::Used),
            Some(r) if r.expires_at <= now => Err(TokenUse::Expired),
            Some(r) => Ok(r.user.into_user()?.user),
        })
    }

    /// Use a reset token: set the new hash, mark the token used and end the
    /// user's sessions, atomically. A used or expired token changes nothing.
    pub async fn use_password_reset(
        &self,
        token: &str,
        new_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<UserId, TokenUse>> {
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let row: Option<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
                "SELECT user_id, expires_at, used_at FROM password_resets WHERE token_hash = $1",
            )
            .bind(token_hash(token))
            .fetch_optional(&mut *tx)
            .await?;
            let user = match row {
                None => return Ok(Err(TokenUse::Unknown)),
                Some((_, _, Some(_))) => return Ok(Err(TokenUse::Used)),
                Some((_, exp, None)) if exp <= now => return Ok(Err(TokenUse::Expired)),
                Some((user, _, None)) => user,
            };
            let marked = sqlx::query(
                "UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
            )
            .bind(token_hash(token))
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked != 1 {
                return Ok(Err(TokenUse::Used));
            }
            sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                .bind(user)
                .bind(new_hash)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Ok(UserId(user)))
        })
    }

    /// Create an API token for `user`; returns its metadata and the secret.
    pub async fn create_api_token(
        &self,
        user: UserId,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(ApiToken, String)> {
        let secret = format!("owp_{}", new_token());
        let row: ApiToken = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO api_tokens (token_hash, user_id, name, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, name, created_at, last_used_at, revoked_at"
        )
        .bind(token_hash(&secret))
        .bind(user.0)
        .bind(name)
        .bind(now)
        .fetch_one(p)
        .await
        })?;
        Ok((row, secret))
    }

    pub async fn list_api_tokens(&self, user: UserId) -> Result<Vec<ApiToken>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens \
             WHERE user_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC"
        )
        .bind(user.0)
        .fetch_all(p)
        .await)?)
    }

    /// Revoke one of `user`'s tokens. Returns false when no such live token of theirs exists.
    pub async fn revoke_api_token(
        &self,
        user: UserId,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL"
        )
        .bind(id)
        .bind(user.0)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// The enabled user a bearer token belongs to, if the token is live.
    pub async fn api_token_user(&self, secret: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        let sql = concat!(
            "SELECT api_tokens.id AS token_id, ",
            user_columns!(),
            " FROM api_tokens JOIN users ON users.id = api_tokens.user_id \
              WHERE api_tokens.token_hash = $1 AND api_tokens.revoked_at IS NULL AND users.disabled = FALSE"
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            token_id: i64,
            #[sqlx(flatten)]
            user: UserRow,
        }
        let row: Option<Row> = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(token_hash(secret))
            .fetch_optional(p)
            .await)?;
        let Some(row) = row else { return Ok(None) };
        on_pool!(self, |p| sqlx::query(
            "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1"
        )
        .bind(row.token_id)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(Some(row.user.into_user()?.user))
    }

    pub async fn record_login_failure(
        &self,
        email_key: &str,
        ip: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO login_failures (email_key, ip, at) VALUES ($1, $2, $3)"
        )
        .bind(email_key)
        .bind(ip)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Failed sign-ins since `since`, for this e-mail address and from this IP.
    pub async fn login_failures_since(
        &self,
        email_key: &str,
        ip: &str,
        since: DateTime<Utc>,
    ) -> Result<LoginFailures> {
        let (for_email,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM login_failures WHERE email_key = $1 AND at > $2"
        )
        .bind(email_key)
        .bind(since)
        .fetch_one(p)
        .await)?;
        let (from_ip,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM login_failures WHERE ip = $1 AND at > $2"
        )
        .bind(ip)
        .bind(since)
        .fetch_one(p)
        .await)?;
        Ok(LoginFailures { for_email, from_ip })
    }

    /// Forget failures for an address after a successful sign-in.
    pub async fn clear_login_failures(&self, email_key: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "DELETE FROM login_failures WHERE email_key = $1"
        )
        .bind(email_key)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

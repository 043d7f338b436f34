//! Named users.

use crate::{Result, Store, StoreError, conflict_on_unique, corrupt, on_pool};
use chrono::{DateTime, Utc};
use openwarp_core::{Actor, Email, OrgId, Role, UserId};
use serde::Serialize;

/// A stored user. Never carries the password hash; see [`UserWithSecret`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub org_id: Option<OrgId>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl User {
    /// The access-control view of this user.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id,
            role: self.role,
            org_id: self.org_id,
        }
    }
}

/// A user together with their argon2id hash, for sign-in only.
#[derive(Debug, Clone)]
pub struct UserWithSecret {
    pub user: User,
    pub password_hash: String,
}

/// A user to create. The hash comes from [`crate::crypto::hash_password`].
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub display_name: String,
    pub role: Role,
    pub org_id: Option<OrgId>,
    pub password_hash: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    email: String,
    display_name: String,
    role: String,
    org_id: Option<i64>,
    disabled: bool,
    created_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
    password_hash: String,
}

impl UserRow {
    pub(crate) fn into_user(self) -> Result<UserWithSecret> {
        Ok(UserWithSecret {
            user: User {
                id: UserId(self.id),
                email: self.email,
                display_name: self.display_name,
                role: self.role.parse().map_err(corrupt)?,
                org_id: self.org_id.map(OrgId),
                disabled: self.disabled,
                created_at: self.created_at,
                last_login_at: self.last_login_at,
            },
            password_hash: self.password_hash,
        })
    }
}

macro_rules! user_columns {
    () => {
        "users.id, users.email, users.display_name, users.role, users.org_id, users.disabled, \
         users.created_at, users.last_login_at, users.password_hash"
    };
}
pub(crate) use user_columns;

pub(crate) fn email_taken(email: &str) -> String {
    format!("a user with the e-mail address '{email}' already exists")
}

impl Store {
    pub async fn create_user(&self, u: &NewUser, now: DateTime<Utc>) -> Result<User> {
        if u.role.belongs_to_member() != u.org_id.is_some() {
            return Err(StoreError::Conflict(format!(
                "a {} must {}belong to a member organisation",
                u.role.label(),
                if u.role.belongs_to_member() {
                    ""
                } else {
                    "not "
                }
            )));
        }
        let sql = concat!(
            "INSERT INTO users (email, display_name, role, org_id, password_hash, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, FALSE, $6) RETURNING ",
            user_columns!()
        );
        let row: UserRow = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(u.email.as_str())
            .bind(&u.display_name)
            .bind(u.role.as_str())
            .bind(u.org_id.map(|o| o.0))
            .bind(&u.password_hash)
            .bind(now)
            .fetch_one(p)
            .await)
        .map_err(conflict_on_unique(email_taken(u.email.as_str())))?;
        Ok(row.into_user()?.user)
    }

    pub async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
        let row: Option<UserRow> = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        row.map(|r| r.into_user().map(|u| u.user)).transpose()
    }

    /// Look a user up by e-mail (normalised), with their hash, for sign-in.
    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<UserWithSecret>> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users WHERE email = $1");
        let key = email.trim().to_lowercase();
        let row: Option<UserRow> = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(&key)
            .fetch_optional(p)
            .await)?;
        row.map(UserRow::into_user).transpose()
    }

    /// The users of one organisation, or the WARP's operators when `org` is `None`.
    pub async fn list_users(&self, org: Option<OrgId>) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = match org {
            Some(o) => {
                let sql = concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM users WHERE org_id = $1 ORDER BY disabled, role, display_name"
                );
                on_pool!(self, |p| sqlx::query_as(sql).bind(o.0).fetch_all(p).await)?
            }
            None => {
                let sql = concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM users WHERE org_id IS NULL ORDER BY disabled, display_name"
                );
                on_pool!(self, |p| sqlx::query_as(sql).fetch_all(p).await)?
            }
        };
        rows.into_iter()
            .map(|r| r.into_user().map(|u| u.user))
            .collect()
    }

    /// Disable or re-enable a user. Disabling ends their sessions and revokes
    /// their API tokens in the same transaction.
    pub async fn set_user_disabled(
        &self,
        id: UserId,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let updated = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
                .bind(id.0)
                .bind(disabled)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if updated == 0 {
                return Err(StoreError::NotFound("user"));
            }
            if disabled {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                    .bind(id.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Change a member's role (between member roles) and end their sessions:
    /// privileges changed, so they sign in again. Their API tokens follow
    /// the new role at once (each call reads the user's current role).
    pub async fn set_user_role(&self, id: UserId, role: openwarp_core::Role) -> Result<()> {
        self.change_user_ending_sessions(
            "UPDATE users SET role = $2 WHERE id = $1 AND org_id IS NOT NULL",
            id,
            role.as_str(),
        )
        .await
    }

    /// Replace a user's password hash and end all their sessions.
    pub async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<()> {
        self.change_user_ending_sessions(
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            id,
            hash,
        )
        .await
    }

    /// Run `update` (binding `$1` = the user, `$2` = `value`) and end the
    /// user's sessions, in one transaction; 404 when no user was updated.
    async fn change_user_ending_sessions(
        &self,
        update: &'static str,
        id: UserId,
        value: &str,
    ) -> Result<()> {
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let updated = sqlx::query(update)
                .bind(id.0)
                .bind(value)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if updated == 0 {
                return Err(StoreError::NotFound("user"));
            }
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn record_login(&self, id: UserId, now: DateTime<Utc>) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE users SET last_login_at = $2 WHERE id = $1"
        )
        .bind(id.0)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// How many enabled users hold each role.
    pub async fn role_counts(&self) -> Result<Vec<(Role, i64)>> {
        let sql = "SELECT role, COUNT(*) FROM users WHERE disabled = FALSE GROUP BY role";
        let rows: Vec<(String, i64)> = on_pool!(self, |p| sqlx::query_as(sql).fetch_all(p).await)?;
        rows.into_iter()
            .map(|(r, n)| Ok((r.parse().map_err(corrupt)?, n)))
            .collect()
    }
}

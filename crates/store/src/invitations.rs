//! Invitations: single-use, expiring links that create a named user.

use crate::crypto::{new_token, token_hash};
use crate::users::{UserRow, email_taken, user_columns};
use crate::{Result, Store, StoreError, corrupt, on_pool};
use chrono::{DateTime, Duration, Utc};
use openwarp_core::{Email, OrgId, Role, UserId};
use serde::Serialize;

/// A stored invitation (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub org_id: Option<OrgId>,
    pub invited_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Whether an invitation can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl Invitation {
    pub fn state(&self, now: DateTime<Utc>) -> InvitationState {
        if self.accepted_at.is_some() {
            InvitationState::Accepted
        } else if self.revoked_at.is_some() {
            InvitationState::Revoked
        } else if self.expires_at <= now {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }
}

/// Why an invitation could not be accepted. Nothing is written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("this invitation link is not valid; check you copied all of it")]
    NotFound,
    #[error("this invitation has expired; ask for a new one")]
    Expired,
    #[error("this invitation has already been used; sign in instead")]
    AlreadyUsed,
    #[error("this invitation was withdrawn; ask for a new one")]
    Revoked,
    #[error("{0}")]
    EmailTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AcceptError {
    fn from(e: sqlx::Error) -> Self {
        AcceptError::Store(StoreError::Database(e))
    }
}

#[derive(sqlx::FromRow)]
struct InvitationRow {
    id: i64,
    email: String,
    role: String,
    org_id: Option<i64>,
    invited_by: Option<i64>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    accepted_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<InvitationRow> for Invitation {
    type Error = StoreError;
    fn try_from(r: InvitationRow) -> Result<Self> {
        Ok(Invitation {
            id: r.id,
            email: r.email,
            role: r.role.parse().map_err(corrupt)?,
            org_id: r.org_id.map(OrgId),
            invited_by: r.invited_by.map(UserId),
            created_at: r.created_at,
            expires_at: r.expires_at,
            accepted_at: r.accepted_at,
            revoked_at: r.revoked_at,
        })
    }
}

macro_rules! columns {
    () => {
        "id, email, role, org_id, invited_by, created_at, expires_at, accepted_at, revoked_at"
    };
}

impl Store {
    /// Create an invitation and return it with its secret token (shown once,
    /// put in the link). Refused when the e-mail address already has an account.
    pub async fn create_invitation(
        &self,
        email: &Email,
        role: Role,
        org: Option<OrgId>,
        invited_by: Option<UserId>,
        now: DateTime<Utc>,
        valid_for: Duration,
    ) -> Result<(Invitation, String)> {
        if role.belongs_to_member() != org.is_some() {
            return Err(StoreError::Conflict(format!(
                "a {} invitation must {}name a member organisation",
                role.label(),
                if role.belongs_to_member() { "" } else { "not " }
            )));
        }
        if self.find_user_by_email(email.as_str()).await?.is_some() {
            return Err(StoreError::Conflict(email_taken(email.as_str())));
        }
        let token = new_token();
        let sql = concat!(
            "INSERT INTO invitations (token_hash, email, role, org_id, invited_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
            columns!()
        );
        let row: InvitationRow = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(token_hash(&token))
            .bind(email.as_str())
            .bind(role.as_str())
            .bind(org.map(|o| o.0))
            .bind(invited_by.map(|u| u.0))
            .bind(now)
            .bind(now + valid_for)
            .fetch_one(p)
            .await)?;
        Ok((row.try_into()?, token))
    }

    pub async fn invitation_by_token(&self, token: &str) -> Result<Option<Invitation>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM invitations WHERE token_hash = $1"
        );
        let row: Option<InvitationRow> = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(token_hash(token))
            .fetch_optional(p)
            .await)?;
        row.map(Invitation::try_from).transpose()
    }

    pub async fn get_invitation(&self, id: i64) -> Result<Option<Invitation>> {
        let sql = concat!("SELECT ", columns!(), " FROM invitations WHERE id = $1");
        let row: Option<InvitationRow> = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        row.map(Invitation::try_from).transpose()
    }

    /// Invitations of an organisation (or of operators, for `None`) that can still be used.
    pub async fn pending_invitations(
        &self,
        org: Option<OrgId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invitation>> {
        let rows: Vec<InvitationRow> = match org {
            Some(o) => {
                let sql = concat!(
                    "SELECT ",
                    columns!(),
                    " FROM invitations WHERE org_id = $1 AND accepted_at IS NULL \
                     AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC"
                );
                on_pool!(self, |p| sqlx::query_as(sql)
                    .bind(o.0)
                    .bind(now)
                    .fetch_all(p)
                    .await)?
            }
            None => {
                let sql = concat!(
                    "SELECT ",
                    columns!(),
                    " FROM invitations WHERE org_id IS NULL AND accepted_at IS NULL \
                     AND revoked_at IS NULL AND expires_at > $1 ORDER BY created_at DESC"
                );
                on_pool!(self, |p| sqlx::query_as(sql).bind(now).fetch_all(p).await)?
            }
        };
        rows.into_iter().map(Invitation::try_from).collect()
    }

    /// Withdraw a pending invitation. Returns false if it was no longer pending.
    pub async fn revoke_invitation(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE invitations SET revoked_at = $2 WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL"
        )
        .bind(id)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Use an invitation: create the user it names and mark it used, atomically.
    /// A second use, an expired or withdrawn link, or an e-mail address that
    /// meanwhile got an account all fail and change nothing.
    pub async fn accept_invitation(
        &self,
        token: &str,
        display_name: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<crate::User, AcceptError> {
        let find = concat!(
            "SELECT ",
            columns!(),
            " FROM invitations WHERE token_hash = $1"
        );
        let insert = concat!(
            "INSERT INTO users (email, display_name, role, org_id, password_hash, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, FALSE, $6) RETURNING ",
            user_columns!()
        );
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let row: Option<InvitationRow> = sqlx::query_as(find)
                .bind(token_hash(token))
                .fetch_optional(&mut *tx)
                .await?;
            let inv = Invitation::try_from(row.ok_or(AcceptError::NotFound)?)?;
            match inv.state(now) {
                InvitationState::Pending => {}
                InvitationState::Accepted => return Err(AcceptError::AlreadyUsed),
                InvitationState::Revoked => return Err(AcceptError::Revoked),
                InvitationState::Expired => return Err(AcceptError::Expired),
            }
            let user: UserRow = sqlx::query_as(insert)
                .bind(&inv.email)
                .bind(display_name)
                .bind(inv.role.as_str())
                .bind(inv.org_id.map(|o| o.0))
                .bind(password_hash)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| match &e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => {
                        AcceptError::EmailTaken(email_taken(&inv.email))
                    }
                    _ => AcceptError::from(e),
                })?;
            let user = user.into_user()?.user;
            let marked = sqlx::query(
                "UPDATE invitations SET accepted_at = $2, accepted_user_id = $3 \
                 WHERE id = $1 AND accepted_at IS NULL",
            )
            .bind(inv.id)
            .bind(now)
            .bind(user.id.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked != 1 {
                return Err(AcceptError::AlreadyUsed);
            }
            tx.commit().await?;
            Ok(user)
        })
    }
}

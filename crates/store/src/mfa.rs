//! Second factors: one authenticator (TOTP secret) per user, confirmed by a
//! first code; single-use recovery codes kept only as hashes; the newest
//! accepted step, so a one-time code works once; and whether an
//! organisation requires a second factor of its people.

use crate::crypto::token_hash;
use crate::sealing::SecretColumn;
use crate::{Result, Store, StoreError, on_pool};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, Utc};
use openwarp_core::{OrgId, UserId, mfa};

/// A user's authenticator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticator {
    pub secret: Vec<u8>,
    pub created_at: DateTime<Utc>,
    /// None while enrolment waits for the first code.
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_step: i64,
}

/// secret, created_at, confirmed_at, last_step
type AuthenticatorRow = (Vec<u8>, DateTime<Utc>, Option<DateTime<Utc>>, i64);

/// A fresh recovery code: 10 characters from an alphabet without look-alikes
/// (about 50 bits), shown as `XXXXX-XXXXX`.
fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 10];
    OsRng.fill_bytes(&mut bytes);
    let chars: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

impl Store {
    /// The user's authenticator, confirmed or not.
    pub async fn authenticator(&self, user: UserId) -> Result<Option<Authenticator>> {
        let row: Option<AuthenticatorRow> = on_pool!(self, |p| {
            sqlx::query_as(
                    "SELECT secret, created_at, confirmed_at, last_step FROM user_mfa WHERE user_id = $1",
                )
                .bind(user.0)
                .fetch_optional(p)
                .await
        })?;
        row.map(|(secret, created_at, confirmed_at, last_step)| {
            Ok(Authenticator {
                secret: self.open_secret(SecretColumn::TotpKey, &secret)?,
                created_at,
                confirmed_at,
                last_step,
            })
        })
        .transpose()
    }

    /// Whether the user signs in with a second factor.
    pub async fn has_second_factor(&self, user: UserId) -> Result<bool> {
        Ok(self
            .authenticator(user)
            .await?
            .is_some_and(|a| a.confirmed_at.is_some()))
    }

    /// Start enrolment: a new random secret, unconfirmed, replacing any
    /// earlier unconfirmed one. A confirmed authenticator is kept (remove it
    /// first to change it): 409.
    pub async fn start_enrolment(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<u8>> {
        let mut secret = vec![0u8; mfa::SECRET_BYTES];
        OsRng.fill_bytes(&mut secret);
        let stored = self.seal_secret(SecretColumn::TotpKey, &secret)?;
        let changed = on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO user_mfa (user_id, secret, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, \
                 last_step = 0 WHERE user_mfa.confirmed_at IS NULL",
            )
            .bind(user.0)
            .bind(&stored)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            return Err(StoreError::Conflict(
                "a second factor is already set up; turn it off first to set up another".into(),
            ));
        }
        Ok(secret)
    }

    /// Record that a code for `step` was accepted; false when that step (or
    /// a later one) was already used, so a code never works twice, even
    /// when two requests race.
    pub async fn accept_step(&self, user: UserId, step: i64) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query("UPDATE user_mfa SET last_step = $2 WHERE user_id = $1 AND last_step < $2")
                .bind(user.0)
                .bind(step)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Confirm enrolment (the first code was right and its step accepted)
    /// and issue fresh recovery codes, returned once in plain text.
    pub async fn confirm_enrolment(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<String>> {
        let n = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE user_mfa SET confirmed_at = $2 WHERE user_id = $1 AND confirmed_at IS NULL",
            )
            .bind(user.0)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if n == 0 {
            return Err(StoreError::Conflict(
                "there is no set-up waiting for a first code".into(),
            ));
        }
        self.replace_recovery_codes(user).await
    }

    /// Throw away the user's recovery codes and issue new ones.
    pub async fn replace_recovery_codes(&self, user: UserId) -> Result<Vec<String>> {
        let codes: Vec<String> = (0..mfa::RECOVERY_CODES)
            .map(|_| new_recovery_code())
            .collect();
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
                .bind(user.0)
                .execute(&mut *tx)
                .await?;
            for c in &codes {
                sqlx::query("INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                    .bind(user.0)
                    .bind(token_hash(&mfa::normalise_recovery_code(c)))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        Ok(codes)
    }

    /// Use a recovery code: true (and it is spent) when it is one of the
    /// user's unused codes.
    pub async fn use_recovery_code(
        &self,
        user: UserId,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE mfa_recovery_codes SET used_at = $3 \
                 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
            )
            .bind(user.0)
            .bind(token_hash(&mfa::normalise_recovery_code(code)))
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Unused recovery codes left.
    pub async fn recovery_codes_left(&self, user: UserId) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
            )
            .bind(user.0)
            .fetch_one(p)
            .await
        })?;
        Ok(n)
    }

    /// Remove the user's second factor and recovery codes (the user turning
    /// it off, or an operator resetting it for someone who lost both).
    pub async fn remove_second_factor(&self, user: UserId) -> Result<bool> {
        let n = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query("DELETE FROM user_mfa WHERE user_id = $1")
                .bind(user.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
                .bind(user.0)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(n)
        })?;
        Ok(n == 1)
    }

    /// Whether the organisation requires a second factor of its people.
    pub async fn org_requires_mfa(&self, org: OrgId) -> Result<bool> {
        let row: Option<(bool,)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT require_mfa FROM organisations WHERE id = $1")
                .bind(org.0)
                .fetch_optional(p)
                .await
        })?;
        row.map(|(b,)| b)
            .ok_or(StoreError::NotFound("organisation"))
    }

    pub async fn set_org_requires_mfa(&self, org: OrgId, required: bool) -> Result<()> {
        let n = on_pool!(self, |p| {
            sqlx::query("UPDATE organisations SET require_mfa = $2 WHERE id = $1")
                .bind(org.0)
                .bind(required)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        if n == 0 {
            return Err(StoreError::NotFound("organisation"));
        }
        Ok(())
    }
}
